/* Tests for src/http/stream.c: streaming responses over real loopback sockets — the first
 * bytes, wakes from another thread, no calls while idle, the keepalive, the end of a stream,
 * a client that goes away, the cap on open streams, HTTP/1.0, and shutdown with streams
 * open. A small "bus" plays the part of the journal's live bus. */
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "http_test.h"

/* The bus: a counter that publishers raise, and the subscribers to wake. */
#define MAX_SUBS 8

struct sub {
    struct http_stream *stream;
    int seen;     /* the last value sent */
    int nexts;    /* calls of next() */
    int finished; /* next() returns -1 once it has caught up */
};

static struct {
    pthread_mutex_t lock;
    int value;
    int end; /* subscribers end their streams */
    struct sub *subs[MAX_SUBS];
    int nsubs;
    int closed; /* close calls so far */
} bus = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void bus_reset(void)
{
    pthread_mutex_lock(&bus.lock);
    bus.value = bus.end = bus.nsubs = bus.closed = 0;
    pthread_mutex_unlock(&bus.lock);
}

static void bus_publish(int end)
{
    pthread_mutex_lock(&bus.lock);
    if (end)
        bus.end = 1;
    else
        bus.value++;
    for (int i = 0; i < bus.nsubs; i++)
        http_stream_wake(bus.subs[i]->stream);
    pthread_mutex_unlock(&bus.lock);
}

static int bus_get(int *field)
{
    pthread_mutex_lock(&bus.lock);
    int v = *field;
    pthread_mutex_unlock(&bus.lock);
    return v;
}

static int sub_next(void *ud, struct buf *out)
{
    struct sub *sb = ud;
    pthread_mutex_lock(&bus.lock);
    sb->nexts++;
    int value = bus.value, end = bus.end;
    pthread_mutex_unlock(&bus.lock);
    while (sb->seen < value)
        buf_printf(out, "id: %d\ndata: {\"n\":%d}\n\n", sb->seen + 1, sb->seen + 1), sb->seen++;
    return end ? -1 : 0;
}

static void sub_close(void *ud)
{
    struct sub *sb = ud;
    pthread_mutex_lock(&bus.lock);
    for (int i = 0; i < bus.nsubs; i++)
        if (bus.subs[i] == sb)
            bus.subs[i] = bus.subs[--bus.nsubs];
    bus.closed++;
    pthread_mutex_unlock(&bus.lock);
    free(sb);
}

static void events(void *ud, const struct http_request *req, struct http_response *res)
{
    struct sub *sb = calloc(1, sizeof(*sb));
    assert_non_null(sb);
    struct http_stream_ops ops = {sub_next, sub_close, sb};
    res->content_type = "text/event-stream";
    http_response_header(res, "Cache-Control", "no-cache");
    buf_puts(res->body, "retry: 2000\n\n");
    pthread_mutex_lock(&bus.lock); /* no publish may miss the new subscriber */
    sb->seen = bus.value;
    if (http_response_stream(res, &ops, &sb->stream) != BW_OK) {
        pthread_mutex_unlock(&bus.lock);
        free(sb);
        return;
    }
    bus.subs[bus.nsubs++] = sb;
    pthread_mutex_unlock(&bus.lock);
}

static void plain(void *ud, const struct http_request *req, struct http_response *res)
{
    buf_puts(res->body, "{}");
}

static const struct http_route routes[] = {
    {"GET", "/events", events, NULL, .role = HTTP_ROLE_VIEWER},
    {"GET", "/plain", plain, NULL, .role = HTTP_ROLE_VIEWER},
};

static struct http_server *start(unsigned max_streams, int64_t keepalive_ms)
{
    return test_http_start((struct http_config){.routes = routes,
                                                .nroutes = BW_ARRAY_LEN(routes),
                                                .max_streams = max_streams,
                                                .stream_keepalive_ms = keepalive_ms});
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int64_t now_ms(void)
{
    return clock_mono_ns() / 1000000;
}

/* A connection with what it has read so far. */
struct client {
    int fd;
    char in[16384];
    size_t len;
    int eof;
};

static void client_open(struct client *c, int port, const char *request)
{
    memset(c, 0, sizeof(*c));
    c->fd = test_http_connect(port);
    assert_int_equal(write(c->fd, request, strlen(request)), (ssize_t)strlen(request));
}

/* Reads until what was read contains want (1) or until ms pass or the peer closes (0). */
static int client_wait(struct client *c, const char *want, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (!strstr(c->in, want)) {
        int64_t left = deadline - now_ms();
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (c->eof || left <= 0 || poll(&p, 1, (int)left) <= 0)
            return 0;
        ssize_t n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len - 1);
        if (n <= 0) {
            c->eof = 1;
            continue;
        }
        c->len += (size_t)n;
        c->in[c->len] = '\0';
    }
    return 1;
}

/* The body of a chunked response in c (as far as it has come), without the chunk framing. */
static const char *dechunked(const struct client *c)
{
    static char out[sizeof(c->in)];
    const char *p = strstr(c->in, "\r\n\r\n");
    size_t len = 0;
    assert_non_null(p);
    p += 4;
    for (;;) {
        char *end;
        unsigned long n = strtoul(p, &end, 16);
        if (end == p || strncmp(end, "\r\n", 2) != 0 || n == 0 || strlen(end + 2) < n)
            break;
        memcpy(out + len, end + 2, n);
        len += n;
        p = end + 2 + n + 2;
    }
    out[len] = '\0';
    return out;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Waits up to ms for *field to reach want. */
static int wait_for(int *field, int want, int ms)
{
    int64_t deadline = now_ms() + ms;
    while (bus_get(field) != want && now_ms() < deadline)
        usleep(5000);
    return bus_get(field) == want;
}

#define GET_EVENTS "GET /events HTTP/1.1\r\nHost: t\r\n\r\n"

static void *publisher(void *arg)
{
    for (int i = 0; i < 3; i++) {
        usleep(20000);
        bus_publish(0);
    }
    return NULL;
}

static void test_stream(void **state)
{
    bus_reset();
    struct http_server *s = start(0, 0);
    struct client c;
    client_open(&c, http_server_port(s), GET_EVENTS);

    /* The headers (chunked, the handler's and the security ones) and the first bytes. */
    assert_true(client_wait(&c, "retry: 2000\n\n", 2000));
    assert_non_null(strstr(c.in, "HTTP/1.1 200"));
    assert_non_null(strstr(c.in, "Content-Type: text/event-stream\r\n"));
    assert_non_null(strstr(c.in, "Cache-Control: no-cache\r\n"));
    assert_non_null(strstr(c.in, "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(c.in, "X-Content-Type-Options: nosniff\r\n"));
    assert_true(wait_for(&bus.nsubs, 1, 2000));

    /* Idle: next() is not called again until a wake, and no thread spins (the process uses
     * almost no CPU while the stream waits). */
    usleep(100000);
    int idle_nexts = bus_get(&bus.subs[0]->nexts);
    double cpu0 = cpu_seconds();
    usleep(300000);
    assert_true(cpu_seconds() - cpu0 < 0.03);
    assert_int_equal(bus_get(&bus.subs[0]->nexts), idle_nexts);
    assert_true(idle_nexts <= 2);

    /* Wakes from another thread: every event arrives, in order, once. */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, publisher, NULL), 0);
    pthread_join(t, NULL);
    assert_true(client_wait(&c, "data: {\"n\":3}\n\n", 2000));
    assert_string_equal(dechunked(&c), "retry: 2000\n\n"
                                       "id: 1\ndata: {\"n\":1}\n\n"
                                       "id: 2\ndata: {\"n\":2}\n\n"
                                       "id: 3\ndata: {\"n\":3}\n\n");

    /* A wake with nothing new costs one call of next() and sends nothing. */
    int before = bus_get(&bus.subs[0]->nexts);
    size_t len = c.len;
    pthread_mutex_lock(&bus.lock);
    http_stream_wake(bus.subs[0]->stream);
    pthread_mutex_unlock(&bus.lock);
    usleep(100000);
    assert_int_equal(bus_get(&bus.subs[0]->nexts), before + 1);
    assert_false(client_wait(&c, "data: {\"n\":4}", 50));
    assert_int_equal(c.len, len);

    /* next() returning -1 ends the response (the last chunk) and closes the stream once. */
    bus_publish(0);
    bus_publish(1);
    assert_true(client_wait(&c, "data: {\"n\":4}\n\n\r\n0\r\n\r\n", 2000));
    assert_true(wait_for(&bus.closed, 1, 2000));
    assert_int_equal(bus_get(&bus.nsubs), 0);

    /* The connection lives on for the next request. */
    const char *again = "GET /plain HTTP/1.1\r\nHost: t\r\n\r\n";
    assert_int_equal(write(c.fd, again, strlen(again)), (ssize_t)strlen(again));
    assert_true(client_wait(&c, "\r\n\r\n{}", 2000));
    close(c.fd);
    http_server_free(s);
    assert_int_equal(bus_get(&bus.closed), 1);
}

static void test_keepalive_and_gone_client(void **state)
{
    bus_reset();
    struct http_server *s = start(0, 150);
    struct client c;
    client_open(&c, http_server_port(s), GET_EVENTS);
    assert_true(client_wait(&c, "retry: 2000\n\n", 2000));

    /* Silence brings the keepalive comment, again and again, without calling next() more
     * than once per keepalive. */
    int64_t t0 = now_ms();
    assert_true(client_wait(&c, HTTP_STREAM_KEEPALIVE, 2000));
    assert_true(now_ms() - t0 >= 100);
    assert_true(client_wait(&c, HTTP_STREAM_KEEPALIVE "\r\n", 2000));
    usleep(400000);
    client_wait(&c, "never", 10);
    int kas = count_of(c.in, HTTP_STREAM_KEEPALIVE);
    assert_true(kas >= 3 && kas <= 6);
    assert_true(bus_get(&bus.subs[0]->nexts) <= kas + 2);

    /* Data resets the silence. */
    bus_publish(0);
    assert_true(client_wait(&c, "data: {\"n\":1}\n\n", 2000));

    /* A client that goes away is found by the next keepalive: the stream closes. */
    close(c.fd);
    assert_true(wait_for(&bus.closed, 1, 3000));
    assert_int_equal(bus_get(&bus.nsubs), 0);
    http_server_free(s);
}

static void test_cap_and_http10(void **state)
{
    bus_reset();
    struct http_server *s = start(2, 0);
    int port = http_server_port(s);
    struct client a, b, c;
    client_open(&a, port, GET_EVENTS);
    client_open(&b, port, "GET /events HTTP/1.0\r\n\r\n");
    assert_true(client_wait(&a, "retry: 2000", 2000));
    assert_true(client_wait(&b, "retry: 2000", 2000));
    /* HTTP/1.0: no chunks, the body ends with the connection. */
    assert_null(strstr(b.in, "chunked"));

    /* A third stream is over the cap: 503, and no close for a stream that never was. */
    client_open(&c, port, GET_EVENTS);
    assert_true(client_wait(&c, "too many open streams (2)", 2000));
    assert_non_null(strstr(c.in, "HTTP/1.1 503"));
    assert_non_null(strstr(c.in, "\"errorType\":\"unavailable\""));
    close(c.fd);
    assert_int_equal(bus_get(&bus.closed), 0);

    bus_publish(0);
    assert_true(client_wait(&a, "data: {\"n\":1}", 2000));
    assert_true(client_wait(&b, "retry: 2000\n\nid: 1\ndata: {\"n\":1}\n\n", 2000));
    bus_publish(1);
    assert_true(client_wait(&a, "\r\n0\r\n\r\n", 2000));
    assert_false(client_wait(&b, "never", 2000));
    assert_true(b.eof);
    assert_true(wait_for(&bus.closed, 2, 2000));

    /* The slots are free again. */
    bus_reset();
    client_open(&c, port, GET_EVENTS);
    assert_true(client_wait(&c, "retry: 2000", 2000));
    assert_non_null(strstr(c.in, "HTTP/1.1 200"));
    close(a.fd);
    close(b.fd);
    close(c.fd);
    http_server_free(s);
}

static void test_shutdown(void **state)
{
    bus_reset();
    struct http_server *s = start(0, 0);
    int port = http_server_port(s);
    struct client c[3];
    for (int i = 0; i < 3; i++) {
        client_open(&c[i], port, GET_EVENTS);
        assert_true(client_wait(&c[i], "retry: 2000\n\n", 2000));
    }
    assert_true(wait_for(&bus.nsubs, 3, 2000));
    usleep(50000); /* all three parked */

    /* Stopping ends every stream at once (not after the 15 s keepalive or the 60 s
     * connection timeout), each with its close. */
    int64_t t0 = now_ms();
    http_server_free(s);
    assert_true(now_ms() - t0 < 2000);
    assert_int_equal(bus_get(&bus.closed), 3);
    assert_int_equal(bus_get(&bus.nsubs), 0);
    for (int i = 0; i < 3; i++) {
        assert_false(client_wait(&c[i], "never", 2000));
        assert_true(c[i].eof);
        close(c[i].fd);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_keepalive_and_gone_client),
        cmocka_unit_test(test_cap_and_http10),
        cmocka_unit_test(test_shutdown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
