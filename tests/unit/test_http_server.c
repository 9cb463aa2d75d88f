/* Tests for src/http/server.c: routing, path parameters, 404/405, request parameters from the
 * URL and form bodies, the request body as handlers see it, the body cap, JSON string
 * escaping, request metrics, binding errors and listen-address parsing, and the connection
 * limits (connections, header size, idle timeout) — over real loopback sockets. */
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "http_test.h"

static void hello(void *ud, const struct http_request *req, struct http_response *res)
{
    const char *who = http_request_arg(req, "who");
    res->content_type = "text/plain";
    buf_printf(res->body, "hello %s via %s", who ? who : "nobody", http_request_method(req));
}

static void item(void *ud, const struct http_request *req, struct http_response *res)
{
    res->status = 201;
    buf_printf(res->body, "{\"id\":\"%s\",\"accept\":\"%s\"}", http_request_param(req, "id"),
               http_request_header(req, "accept") ? http_request_header(req, "accept") : "");
}

/* Echoes every parameter it is asked about (?show=a&show=b) as name=[v1|v2] lines. */
static void echo(void *ud, const struct http_request *req, struct http_response *res)
{
    res->content_type = "text/plain";
    size_t spos = 0;
    for (const char *name; (name = http_request_arg_next(req, "show", &spos));) {
        const char *first = http_request_arg(req, name);
        buf_printf(res->body, "%s:%s=[", name, first ? "" : "absent");
        size_t pos = 0;
        for (const char *v; (v = http_request_arg_next(req, name, &pos));)
            buf_printf(res->body, "%s%s", pos > 1 && v != first ? "|" : "", v);
        buf_puts(res->body, "]\n");
    }
}

/* Answers the body as the handler sees it: its length, then its bytes with NUL as "\\0", or
 * "none"; and the form field a. */
static void body(void *ud, const struct http_request *req, struct http_response *res)
{
    size_t len = 99;
    const char *b = http_request_body(req, &len);
    const char *a = http_request_arg(req, "a");
    res->content_type = "text/plain";
    buf_printf(res->body, "%zu:", len);
    for (size_t i = 0; b && i < len; i++)
        buf_puts(res->body, b[i] ? (char[]){b[i], '\0'} : "\\0");
    buf_printf(res->body, "%s;a=%s;nul=%d", b ? "" : "none", a ? a : "-", b ? b[len] == '\0' : -1);
}

static const struct http_route routes[] = {
    {"GET", "/hello", hello, NULL, .role = HTTP_ROLE_VIEWER},
    {"GET", "/items/{id}", item, NULL, .role = HTTP_ROLE_VIEWER},
    {NULL, "/echo", echo, NULL, .role = HTTP_ROLE_VIEWER},
    {"POST", "/body", body, NULL, .role = HTTP_ROLE_VIEWER},
};

static struct http_server *start(size_t max_body)
{
    return test_http_start((struct http_config){.routes = routes,
                                                .nroutes = BW_ARRAY_LEN(routes),
                                                .limits = {.max_request_size = (int64_t)max_body}});
}

#define FORM "Content-Type: application/x-www-form-urlencoded\r\n"

static void test_args(void **state)
{
    struct http_server *s = start(64);
    int port = http_server_port(s);
    char resp[4096];

    /* URL only: decoded, repeated, empty and value-less names. */
    test_http_roundtrip(
        port,
        "GET /echo?show=m%5B%5D&show=e&show=n&show=x&m%5B%5D=a+b&m[]=%7Bc%3D%22d%22%7D"
        "&e=&n HTTP/1.0\r\n\r\n",
        resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 200);
    assert_string_equal(test_http_body(resp), "m[]:=[a b|{c=\"d\"}]\ne:=[]\nn:=[]\nx:absent=[]\n");

    /* A form body merges with the URL, body values first, as Go's Request.Form. */
    const char *post = "POST /echo?show=q&q=url HTTP/1.0\r\n" FORM "Content-Length: 28\r\n\r\n"
                       "q=1%2B1&&show=t&t=4&q=b+c%21";
    test_http_roundtrip(port, post, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 200);
    assert_string_equal(test_http_body(resp), "t:=[4]\nq:=[1+1|b c!|url]\n");

    /* A content type with parameters is still a form; another type's body is not read. */
    test_http_roundtrip(port,
                        "POST /echo HTTP/1.0\r\nContent-Type: Application/X-WWW-Form-Urlencoded; "
                        "charset=utf-8\r\nContent-Length: 12\r\n\r\nshow=a&a=%41",
                        resp, sizeof(resp));
    assert_string_equal(test_http_body(resp), "a:=[A]\n");
    test_http_roundtrip(port,
                        "POST /echo?show=a HTTP/1.0\r\nContent-Type: text/plain\r\n"
                        "Content-Length: 3\r\n\r\na=1",
                        resp, sizeof(resp));
    assert_string_equal(test_http_body(resp), "a:absent=[]\n");

    /* Malformed escapes are a 400 that names them. */
    test_http_roundtrip(port, "POST /echo HTTP/1.0\r\n" FORM "Content-Length: 9\r\n\r\nq=%zz&a=1",
                        resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 400);
    assert_string_equal(test_http_body(resp),
                        "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"error "
                        "parsing form values: invalid URL escape \\\"%zz\\\"\"}");
    test_http_roundtrip(port, "POST /echo HTTP/1.0\r\n" FORM "Content-Length: 4\r\n\r\nq=%4", resp,
                        sizeof(resp));
    assert_int_equal(test_http_status(resp), 400);
    assert_non_null(strstr(resp, "invalid URL escape \\\"%4\\\""));

    /* A body at the cap is read; one over it is refused, before it is read when
     * Content-Length says so, after it when it comes in chunks. */
    char req[512], big[80];
    memset(big, 'a', sizeof(big));
    memcpy(big, "show=q&q=", 9);
    snprintf(req, sizeof(req), "POST /echo HTTP/1.0\r\n" FORM "Content-Length: 64\r\n\r\n%.64s",
             big);
    test_http_roundtrip(port, req, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 200);
    assert_int_equal(strlen(test_http_body(resp)), strlen("q:=[]\n") + 55);
    snprintf(req, sizeof(req), "POST /echo HTTP/1.0\r\n" FORM "Content-Length: 65\r\n\r\n%.65s",
             big);
    test_http_roundtrip(port, req, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 413);
    assert_string_equal(
        test_http_body(resp),
        "{\"status\":\"error\",\"errorType\":\"bad_data\","
        "\"error\":\"request body too large: over 64 bytes (http.max_request_size)\"}");
    snprintf(req, sizeof(req),
             "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" FORM
             "Transfer-Encoding: chunked\r\n\r\n28\r\n%.40s\r\n28\r\n%.40s\r\n0\r\n\r\n",
             big, big);
    test_http_roundtrip(port, req, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 413);

    /* The cap does not hide a wrong path or method. */
    test_http_roundtrip(port, "POST /nope HTTP/1.0\r\nContent-Length: 100\r\n\r\n", resp,
                        sizeof(resp));
    assert_int_equal(test_http_status(resp), 404);
    http_server_free(s);
}

/* Appends s as a JSON string and returns what was written. */
static const char *json(struct buf *b, const char *s, size_t n)
{
    buf_reset(b);
    assert_int_equal(http_json_string(b, s, n), BW_OK);
    return b->data;
}

/* http_request_body: any body but a form as it came (NUL bytes included, a NUL after it), a
 * form's only through its fields, no body as none. */
static void test_body(void **state)
{
    struct http_server *s = start(64);
    int port = http_server_port(s);
    char resp[4096];
    static const char json[] = "POST /body?a=url HTTP/1.0\r\nContent-Type: application/json\r\n"
                               "Content-Length: 11\r\n\r\n{\"a\":\"x\0y\"}";
    test_http_send(port, json, sizeof(json) - 1, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 200);
    assert_string_equal(test_http_body(resp), "11:{\"a\":\"x\\0y\"};a=url;nul=1");
    test_http_roundtrip(port, "POST /body HTTP/1.0\r\n" FORM "Content-Length: 7\r\n\r\na=1%2B1",
                        resp, sizeof(resp));
    assert_string_equal(test_http_body(resp), "0:none;a=1+1;nul=-1");
    test_http_roundtrip(port, "POST /body HTTP/1.0\r\nContent-Length: 0\r\n\r\n", resp,
                        sizeof(resp));
    assert_string_equal(test_http_body(resp), "0:none;a=-;nul=-1");
    http_server_free(s);
}

static void test_json_string(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    assert_string_equal(json(&b, "", 0), "\"\"");
    assert_string_equal(json(&b, "plain text", 10), "\"plain text\"");
    assert_string_equal(json(&b, "q\"b\\n\nr\rt\t", 10), "\"q\\\"b\\\\n\\nr\\rt\\t\"");
    assert_string_equal(json(&b, "\x01\b\f\x1f\x7f", 5), "\"\\u0001\\u0008\\u000c\\u001f\x7f\"");
    assert_string_equal(json(&b, "a\0b", 3), "\"a\\u0000b\"");
    assert_string_equal(json(&b, "<a>&", 4), "\"\\u003ca\\u003e\\u0026\"");
    /* Valid UTF-8 stays as it is, line and paragraph separators are escaped. */
    assert_string_equal(json(&b, "é€😀", 9), "\"é€😀\"");
    assert_string_equal(json(&b, "\xe2\x80\xa8\xe2\x80\xa9", 6), "\"\\u2028\\u2029\"");
    /* Every byte that is not part of valid UTF-8 is one U+FFFD, as in Go. */
    assert_string_equal(json(&b,
                             "a\xff"
                             "b",
                             3),
                        "\"a\\ufffdb\"");
    assert_string_equal(json(&b, "\xc3", 1), "\"\\ufffd\"");            /* truncated */
    assert_string_equal(json(&b, "\xc0\xaf", 2), "\"\\ufffd\\ufffd\""); /* overlong */
    assert_string_equal(json(&b, "\xe0\x80\xaf", 3), "\"\\ufffd\\ufffd\\ufffd\"");
    assert_string_equal(json(&b, "\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
    assert_string_equal(json(&b, "\xf4\x90\x80\x80", 4),
                        "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* past U+10FFFF */
    assert_string_equal(json(&b, "\xf4\x8f\xbf\xbf", 4), "\"\xf4\x8f\xbf\xbf\"");
    assert_string_equal(json(&b, "\xe2\x82", 2), "\"\\ufffd\\ufffd\"");
    /* Over the cap: an error, and the buffer as it was. */
    struct buf small;
    buf_init(&small, 8);
    buf_puts(&small, "ab");
    assert_int_equal(http_json_string(&small, "<<<<", 4), BW_ENOSPC);
    assert_string_equal(small.data, "ab");
    assert_int_equal(small.len, 2);
    buf_fini(&small);
    buf_fini(&b);
}

static void test_routing(void **state)
{
    bw_registry *reg = bw_registry_new(0);
    struct http_config cfg = {.host = "127.0.0.1",
                              .port = 0,
                              .threads = 2,
                              .registry = reg,
                              .routes = routes,
                              .nroutes = 2};
    struct http_server *s;
    struct diag d;
    assert_int_equal(http_server_bind(&cfg, &s, &d), BW_OK);
    assert_int_equal(http_server_start(s, &d), BW_OK);
    int port = http_server_port(s);
    assert_true(port > 0);
    char resp[4096];

    test_http_roundtrip(port, "GET /hello?who=ann HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 200);
    assert_non_null(strstr(resp, "Content-Type: text/plain"));
    assert_non_null(strstr(resp, "\r\n\r\nhello ann via GET"));

    test_http_roundtrip(port, "GET /items/42 HTTP/1.0\r\nAccept: x/y\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 201);
    assert_non_null(strstr(resp, "{\"id\":\"42\",\"accept\":\"x/y\"}"));

    test_http_roundtrip(port, "GET /nope HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 404);
    assert_non_null(strstr(resp, "\"errorType\":\"not_found\""));

    test_http_roundtrip(port, "POST /hello HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", resp,
                        sizeof(resp));
    assert_int_equal(test_http_status(resp), 405);
    assert_non_null(strstr(resp, "Allow: GET, HEAD\r\n")); /* as RFC 9110 asks of a 405 */
    assert_non_null(strstr(resp, "(allowed: GET, HEAD)"));

    test_http_roundtrip(port, "GET /items/ HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 404);

    http_server_free(s);

    /* Every request was counted with its route, method and code. */
    test_http_exposed(reg, "http_requests_total{handler=\"/hello\",method=\"GET\",code=\"200\"} 1",
                      "http_requests_total{handler=\"/items/{id}\",method=\"GET\",code=\"201\"} 1",
                      "http_requests_total{handler=\"other\",method=\"GET\",code=\"404\"} 2",
                      "http_requests_total{handler=\"other\",method=\"POST\",code=\"405\"} 1",
                      "http_request_duration_seconds_count{handler=\"/hello\"} 1", NULL);
    bw_registry_free(reg);
}

static void test_port_in_use(void **state)
{
    struct http_config cfg = {.host = "127.0.0.1", .port = 0, .routes = routes, .nroutes = 2};
    struct http_server *a, *b;
    struct diag d;
    assert_int_equal(http_server_bind(&cfg, &a, &d), BW_OK);
    cfg.port = http_server_port(a);
    assert_int_equal(http_server_bind(&cfg, &b, &d), BW_EBUSY);
    char want[128];
    snprintf(want, sizeof(want), "listen 127.0.0.1:%d: Address already in use", cfg.port);
    assert_memory_equal(d.msg, want, strlen(want));
    cfg.host = "not-an-ip";
    assert_int_equal(http_server_bind(&cfg, &b, &d), BW_EINVAL);
    http_server_free(a);
}

static void test_parse_listen(void **state)
{
    char host[64];
    int port;
    assert_int_equal(http_parse_listen("127.0.0.1:8000", host, sizeof(host), &port), BW_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8000);
    assert_int_equal(http_parse_listen("[::1]:9", host, sizeof(host), &port), BW_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9);
    assert_int_equal(http_parse_listen("localhost:0", host, sizeof(host), &port), BW_OK);
    assert_int_equal(http_parse_listen("8000", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen(":8000", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen("h:65536", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen("h:80x", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen("[::1]8000", host, sizeof(host), &port), BW_EINVAL);
    assert_true(http_host_is_loopback("127.0.0.1"));
    assert_true(http_host_is_loopback("127.8.9.10"));
    assert_true(http_host_is_loopback("::1"));
    assert_true(http_host_is_loopback("localhost"));
    assert_false(http_host_is_loopback("0.0.0.0"));
    assert_false(http_host_is_loopback("10.0.0.1"));
    assert_false(http_host_is_loopback("example.org"));
}

/* The limits' defaults, and what the validator refuses, naming the setting. */
static void test_limits_validate(void **state)
{
    struct http_limits l = {.max_request_size = 5};
    http_limits_defaults(&l);
    assert_int_equal(l.max_connections, 256);
    assert_int_equal(l.max_request_size, 5);
    assert_int_equal(l.max_header_size, 64 * 1024);
    assert_int_equal(l.idle_timeout_ms, 60000);
    struct diag d;
    assert_int_equal(http_limits_validate(&l, &d), BW_OK);
    struct {
        struct http_limits l;
        const char *msg;
    } bad[] = {
        {{0, 1, 4096, 1000}, "http.max_connections: 0 is not within 1 to 65536"},
        {{65537, 1, 4096, 1000}, "http.max_connections: 65537 is not within 1 to 65536"},
        {{1, 0, 4096, 1000}, "http.max_request_size: 0 bytes is not within 1 B to 1GB"},
        {{1, (INT64_C(1) << 30) + 1, 4096, 1000},
         "http.max_request_size: 1073741825 bytes is not within 1 B to 1GB"},
        {{1, 1, 4095, 1000}, "http.max_header_size: 4095 bytes is not within 4KB to 16MB"},
        {{1, 1, (INT64_C(16) << 20) + 1, 1000},
         "http.max_header_size: 16777217 bytes is not within 4KB to 16MB"},
        {{1, 1, 4096, 1500},
         "http.idle_timeout: 1500 ms is not a whole number of seconds from 1s to 1d"},
        {{1, 1, 4096, 0}, "http.idle_timeout: 0 ms is not a whole number of seconds from 1s to 1d"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        assert_int_equal(http_limits_validate(&bad[i].l, &d), BW_EINVAL);
        assert_string_equal(d.msg, bad[i].msg);
    }
    /* Binding refuses them before it touches the network. */
    struct http_config cfg = {.host = "127.0.0.1", .routes = routes, .nroutes = 1};
    cfg.limits.max_header_size = 100;
    struct http_server *s = NULL;
    assert_int_equal(http_server_bind(&cfg, &s, &d), BW_EINVAL);
    assert_null(s);
    assert_string_equal(d.msg, "http.max_header_size: 100 bytes is not within 4KB to 16MB");
}

/* Waits up to ms for fd to become readable: 1 if it did, 0 if not. */
static int readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, ms) == 1;
}

/* max_header_size: a request line that does not fit gets 414, headers that do not fit 431;
 * a request just under it is served. */
static void test_header_limit(void **state)
{
    struct http_server *s = test_http_start((struct http_config){
        .routes = routes, .nroutes = BW_ARRAY_LEN(routes), .limits = {.max_header_size = 4096}});
    int port = http_server_port(s);
    static char req[8192], resp[4096];
    char pad[6000];
    memset(pad, 'a', sizeof(pad));
    snprintf(req, sizeof(req), "GET /hello HTTP/1.0\r\nX-Pad: %.2000s\r\n\r\n", pad);
    test_http_roundtrip(port, req, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 200);
    snprintf(req, sizeof(req), "GET /hello HTTP/1.0\r\nX-Pad: %.5000s\r\n\r\n", pad);
    test_http_roundtrip(port, req, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 431);
    snprintf(req, sizeof(req), "GET /hello?x=%.5000s HTTP/1.0\r\n\r\n", pad);
    test_http_roundtrip(port, req, resp, sizeof(resp));
    assert_int_equal(test_http_status(resp), 414);
    http_server_free(s);
}

/* max_connections: past it a connection waits unanswered in the listen queue, and is served
 * as soon as one of the others closes. idle_timeout: a silent connection is closed. */
static void test_connection_limit_and_idle_timeout(void **state)
{
    struct http_server *s = test_http_start(
        (struct http_config){.routes = routes,
                             .nroutes = BW_ARRAY_LEN(routes),
                             .limits = {.max_connections = 2, .idle_timeout_ms = 2000}});
    int port = http_server_port(s);
    /* a and b are answered and kept alive: the server holds both, and is at its limit. */
    int a = test_http_connect(port), b = test_http_connect(port);
    char resp[512];
    static const char keep[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 2; i++) {
        int fd = i ? b : a;
        assert_int_equal(write(fd, keep, sizeof(keep) - 1), (ssize_t)(sizeof(keep) - 1));
        assert_true(readable(fd, 5000));
        ssize_t n = read(fd, resp, sizeof(resp) - 1);
        assert_true(n > 0);
        resp[n] = '\0';
        assert_int_equal(test_http_status(resp), 200);
    }
    int c = test_http_connect(port);
    static const char get[] = "GET /hello HTTP/1.0\r\n\r\n";
    assert_int_equal(write(c, get, sizeof(get) - 1), (ssize_t)(sizeof(get) - 1));
    assert_false(readable(c, 400));
    close(a);
    assert_true(readable(c, 5000));
    ssize_t n = read(c, resp, sizeof(resp) - 1);
    assert_true(n > 0);
    resp[n] = '\0';
    assert_int_equal(test_http_status(resp), 200);
    close(c);
    /* b has said nothing since its answer: two seconds after it the server hangs up. */
    int64_t t0 = clock_mono_ns();
    assert_true(readable(b, 5000));
    assert_int_equal(read(b, resp, sizeof(resp)), 0);
    int64_t waited_ms = (clock_mono_ns() - t0) / 1000000;
    assert_true(waited_ms < 4500);
    close(b);
    http_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_json_string),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_body),
        cmocka_unit_test(test_limits_validate),
        cmocka_unit_test(test_header_limit),
        cmocka_unit_test(test_connection_limit_and_idle_timeout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
