/* server: the libmicrohttpd daemon, the router and breakwatch's own request metrics.
 *
 * We bind the listening socket ourselves and hand it to libmicrohttpd, so that "address in
 * use" and "permission denied" come back as clear errors before anything else starts, and so
 * that port 0 works for tests. Requests run on libmicrohttpd's thread pool; each serving
 * thread owns its response buffers, reused across requests (freed by a thread-key destructor).
 *
 * Main data structure: the route table given by the caller, plus one pre-resolved duration
 * histogram per route. The request counter is labelled by route, method and status code, all
 * from bounded sets, so its cardinality stays small. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"

#define MAX_PARAMS 4
#define BODY_LIMIT (64u << 20) /* a response larger than this is a bug, not a page */

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    int64_t start_ns;
    size_t nparams;
    char param_names[MAX_PARAMS][32];
    char param_values[MAX_PARAMS][128];
};

struct http_server {
    struct http_config cfg;
    int fd;
    int port;
    struct MHD_Daemon *daemon;
    bw_family *requests;      /* http_requests_total{handler,method,code} */
    bw_histogram **durations; /* per route, then one for unmatched requests */
    /* Resolved request counters, [route][method][status], filled on first use so a request
     * only takes the registry's lock the first time its combination is seen. */
    _Atomic(bw_counter *) *counters;
};

static const char *const methods[] = {"GET", "POST", "HEAD", "other"};
static const int statuses[] = {200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 500, 503};
#define NMETHODS  BW_ARRAY_LEN(methods)
#define NSTATUSES BW_ARRAY_LEN(statuses)

/* The buffers a serving thread reuses for every response it makes. */
struct thread_bufs {
    struct buf body, scratch;
};

static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;

static void bufs_free(void *p)
{
    struct thread_bufs *t = p;
    buf_fini(&t->body);
    buf_fini(&t->scratch);
    free(t);
}

static void bufs_key_init(void)
{
    pthread_key_create(&bufs_key, bufs_free);
}

/* The calling thread's buffers, created on first use. NULL when out of memory. */
static struct thread_bufs *thread_bufs(void)
{
    pthread_once(&bufs_once, bufs_key_init);
    struct thread_bufs *t = pthread_getspecific(bufs_key);
    if (t)
        return t;
    t = malloc(sizeof(*t));
    if (!t)
        return NULL;
    buf_init(&t->body, BODY_LIMIT);
    buf_init(&t->scratch, BODY_LIMIT);
    if (pthread_setspecific(bufs_key, t) != 0) {
        free(t);
        return NULL;
    }
    return t;
}

const char *http_request_method(const struct http_request *r)
{
    return r->method;
}

const char *http_request_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_request_arg(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_request_param(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->param_names[i], name) == 0)
            return r->param_values[i];
    return NULL;
}

int http_response_header(struct http_response *res, const char *name, const char *value)
{
    if (res->nheaders >= HTTP_MAX_HEADERS)
        return BW_ENOSPC;
    res->header_names[res->nheaders] = name;
    snprintf(res->header_values[res->nheaders], sizeof(res->header_values[0]), "%s", value);
    res->nheaders++;
    return BW_OK;
}

/* Appends s as the contents of a JSON string (without quotes). */
static void json_escape(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_putc(b, (char)c);
        }
    }
}

void http_response_error(struct http_response *res, int status, const char *type, const char *fmt,
                         ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    res->status = status;
    res->content_type = "application/json";
    buf_reset(res->body);
    buf_puts(res->body, "{\"status\":\"error\",\"errorType\":\"");
    json_escape(res->body, type);
    buf_puts(res->body, "\",\"error\":\"");
    json_escape(res->body, msg);
    buf_puts(res->body, "\"}");
}

/* Matches path against a route pattern; placeholders "{name}" take one segment. */
static int route_match(const char *pattern, const char *path, struct http_request *req)
{
    size_t np = 0;
    while (*pattern && *path) {
        if (*pattern == '{') {
            const char *close = strchr(pattern, '}');
            const char *seg_end = strchr(path, '/');
            size_t seglen = seg_end ? (size_t)(seg_end - path) : strlen(path);
            size_t namelen = close ? (size_t)(close - pattern - 1) : 0;
            if (!close || seglen == 0 || np >= MAX_PARAMS || namelen >= 32 || seglen >= 128)
                return 0;
            memcpy(req->param_names[np], pattern + 1, namelen);
            req->param_names[np][namelen] = '\0';
            memcpy(req->param_values[np], path, seglen);
            req->param_values[np][seglen] = '\0';
            np++;
            pattern = close + 1;
            path += seglen;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    if (*pattern || *path)
        return 0;
    req->nparams = np;
    return 1;
}

/* Finds the route for the request. Returns its index, -1 when no path matches (404), or -2
 * when a path matches but not with this method (405). */
static int route_find(const struct http_server *s, struct http_request *req)
{
    int path_matched = 0;
    for (size_t i = 0; i < s->cfg.nroutes; i++) {
        const struct http_route *rt = &s->cfg.routes[i];
        if (!route_match(rt->path, req->path, req))
            continue;
        if (!rt->method || strcmp(rt->method, req->method) == 0 ||
            (strcmp(req->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            return (int)i;
        path_matched = 1;
    }
    return path_matched ? -2 : -1;
}

/* The request counter for this route, method and status: from the cache, or resolved (and
 * cached when the status is one of the usual ones). NULL when it cannot be had. */
static bw_counter *request_counter(struct http_server *s, size_t route, const char *method,
                                   int status)
{
    size_t m = 0, st = 0;
    while (m < NMETHODS - 1 && strcmp(method, methods[m]) != 0)
        m++;
    while (st < NSTATUSES && statuses[st] != status)
        st++;
    _Atomic(bw_counter *) *slot =
        st < NSTATUSES ? &s->counters[(route * NMETHODS + m) * NSTATUSES + st] : NULL;
    bw_counter *c = slot ? atomic_load_explicit(slot, memory_order_acquire) : NULL;
    if (c)
        return c;
    char code[16];
    snprintf(code, sizeof(code), "%d", status);
    const char *values[3] = {route < s->cfg.nroutes ? s->cfg.routes[route].path : "other",
                             methods[m], code};
    if (bw_counter_resolve(s->requests, values, &c) != BW_OK)
        return NULL;
    if (slot)
        atomic_store_explicit(slot, c, memory_order_release);
    return c;
}

static void count_request(struct http_server *s, int route, const char *method, int status,
                          int64_t start_ns)
{
    if (!s->requests)
        return;
    size_t r = route >= 0 ? (size_t)route : s->cfg.nroutes;
    bw_histogram_observe(s->durations[r], (double)(clock_mono_ns() - start_ns) / 1e9);
    bw_counter *c = request_counter(s, r, method, status);
    if (c)
        bw_counter_inc(c);
}

static enum MHD_Result queue(struct MHD_Connection *conn, const struct http_response *res)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        res->body->len, res->body->len ? res->body->data : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", res->content_type);
    if (res->gzip_ok)
        MHD_add_response_header(r, "Content-Encoding", "gzip");
    for (size_t i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->header_names[i], res->header_values[i]);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    if (!*con_cls) {
        /* First call: headers only. Note the start time; answer on a later call. */
        struct http_request *req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        req->start_ns = clock_mono_ns();
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size) {
        /* No route takes a body yet: discard it and answer once it is all read. */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct http_request *req = *con_cls;
    req->conn = conn;
    req->method = method;
    req->path = url;
    struct thread_bufs *t = thread_bufs();
    if (!t)
        return MHD_NO;
    buf_reset(&t->body);
    buf_reset(&t->scratch);
    struct http_response res = {.status = 200,
                                .content_type = "application/json",
                                .body = &t->body,
                                .scratch = &t->scratch};
    int route = route_find(s, req);
    if (route >= 0) {
        const struct http_route *rt = &s->cfg.routes[route];
        rt->fn(rt->ud, req, &res);
    } else if (route == -2) {
        http_response_error(&res, 405, "bad_data", "method %s not allowed on %s", method, url);
    } else {
        http_response_error(&res, 404, "not_found", "no such endpoint: %s", url);
    }
    count_request(s, route, method, res.status, req->start_ns);
    return queue(conn, &res);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    free(*con_cls);
    *con_cls = NULL;
}

int http_parse_listen(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return BW_EINVAL;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return BW_EINVAL;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return BW_EINVAL;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (errno || end == colon + 1 || *end || p < 0 || p > 65535)
        return BW_EINVAL;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (int)p;
    return BW_OK;
}

int http_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return 1;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return 0;
}

/* Opens, binds and listens; returns the socket or a negative BW_E* code with d filled. */
static int bind_socket(const char *host, int port, int *bound_port, struct diag *d)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, h, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        sl = sizeof(*in4);
    } else if (inet_pton(AF_INET6, h, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        sl = sizeof(*in6);
    } else {
        return diag_set(d, BW_EINVAL, "listen address %s:%d: not an IP address", host, port);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return diag_set(d, BW_EIO, "listen %s:%d: socket: %s", host, port, strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 256) != 0) {
        int e = errno;
        close(fd);
        int code = e == EADDRINUSE ? BW_EBUSY : e == EACCES ? BW_EACCES : BW_EIO;
        return diag_set(d, code, "listen %s:%d: %s%s", host, port, strerror(e),
                        e == EADDRINUSE ? " (is another breakwatch running?)" : "");
    }
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound_port = ntohs(ss.ss_family == AF_INET ? in4->sin_port : in6->sin6_port);
    return fd;
}

static int register_metrics(struct http_server *s)
{
    bw_registry *reg = s->cfg.registry;
    static const char *const req_labels[] = {"handler", "method", "code"};
    static const char *const dur_labels[] = {"handler"};
    bw_family *dur;
    int rc = bw_counter_family(reg, "http_requests_total",
                               "HTTP requests served by breakwatch, by route, method and status.",
                               3, req_labels, &s->requests);
    if (rc)
        return rc;
    rc = bw_histogram_family(reg, "http_request_duration_seconds",
                             "Time to handle an HTTP request, in seconds, by route.", 1, dur_labels,
                             NULL, 0, &dur);
    if (rc)
        return rc;
    s->durations = calloc(s->cfg.nroutes + 1, sizeof(*s->durations));
    s->counters = calloc((s->cfg.nroutes + 1) * NMETHODS * NSTATUSES, sizeof(*s->counters));
    if (!s->durations || !s->counters)
        return BW_ENOMEM;
    for (size_t i = 0; i <= s->cfg.nroutes; i++) {
        const char *v[1] = {i < s->cfg.nroutes ? s->cfg.routes[i].path : "other"};
        rc = bw_histogram_resolve(dur, v, &s->durations[i]);
        if (rc)
            return rc;
    }
    return BW_OK;
}

int http_server_bind(const struct http_config *cfg, struct http_server **out, struct diag *d)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return diag_set(d, BW_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->fd = -1;
    int rc = BW_OK;
    if (cfg->registry && (rc = register_metrics(s)) != BW_OK) {
        diag_set(d, rc, "registering HTTP metrics: %s", bw_strerror(rc));
        goto err;
    }
    rc = bind_socket(cfg->host, cfg->port, &s->port, d);
    if (rc < 0)
        goto err;
    s->fd = rc;
    *out = s;
    return BW_OK;
err:
    http_server_free(s);
    return rc;
}

int http_server_start(struct http_server *s, struct diag *d)
{
    /* One serving thread per core by default: requests are CPU-bound (a scrape renders
     * ~100 KiB), and more threads than cores only add switches between them; on 2 cores a
     * pool of 2 served 10-20 % more /api/metrics requests/s than a pool of 4. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = s->cfg.threads ? s->cfg.threads : ncpu > 0 ? (unsigned)ncpu : 1;
    s->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 on_request, s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)s->fd,
                                 MHD_OPTION_THREAD_POOL_SIZE, threads,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    if (!s->daemon)
        return diag_set(d, BW_EIO, "starting the HTTP server on port %d failed", s->port);
    return BW_OK;
}

int http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_free(struct http_server *s)
{
    if (!s)
        return;
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    else if (s->fd >= 0)
        close(s->fd);
    free(s->durations);
    free(s->counters);
    free(s);
}
