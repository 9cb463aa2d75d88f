/* server: the libmicrohttpd daemon, the router, request parameters and breakwatch's own
 * request metrics. Authentication (auth.c), streaming responses (stream.c) and the embedded
 * static files (static.c) hang off the router here.
 *
 * We bind the listening socket ourselves and hand it to libmicrohttpd, so that "address in
 * use" and "permission denied" come back as clear errors before anything else starts, and so
 * that port 0 works for tests. Requests run on libmicrohttpd's thread pool; each serving
 * thread owns its response buffers, reused across requests (freed by a thread-key destructor).
 * A request body is collected into a buffer capped at limits.max_request_size; a form body
 * (application/x-www-form-urlencoded) is decoded in place there, and its fields and the URL's
 * become one argument list, body first, as Go's net/http merges them for Prometheus.
 * Where a request goes, and whether its token may go there, is decided from its headers alone,
 * so an unauthenticated client is answered 401 before its body is read.
 *
 * Main data structure: the route table given by the caller, plus one pre-resolved duration
 * histogram per route. The request counter is labelled by route, method and status code, all
 * from bounded sets, so its cardinality stays small. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http_int.h"

#define BODY_LIMIT (64u << 20) /* a response larger than this is a bug, not a page */

static const char *const methods[] = {"GET", "POST", "HEAD", "other"};
static const int statuses[] = {200, 201, 204, 304, 400, 401, 403, 404,
                               405, 409, 413, 422, 499, 500, 503};
#define NMETHODS   BW_ARRAY_LEN(methods)
#define NSTATUSES  BW_ARRAY_LEN(statuses)
#define NLABELS(s) ((s)->cfg.nroutes + 2) /* the routes, "other", "static" */

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

const char *http_request_path(const struct http_request *r)
{
    return r->path;
}

const char *http_request_header(const struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *http_request_arg_next(const struct http_request *r, const char *name, size_t *pos)
{
    for (; *pos < r->nargs; (*pos)++)
        if (strcmp(r->args[*pos].name, name) == 0)
            return r->args[(*pos)++].value;
    return NULL;
}

const char *http_request_arg(const struct http_request *r, const char *name)
{
    size_t pos = 0;
    return http_request_arg_next(r, name, &pos);
}

const char *http_request_body(const struct http_request *r, size_t *len)
{
    *len = r->form_body ? 0 : r->body.len;
    return *len ? r->body.data : NULL;
}

const char *http_request_param(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nparams; i++)
        if (strcmp(r->param_names[i], name) == 0)
            return r->param_values[i];
    return NULL;
}

const char *http_request_principal(const struct http_request *r, enum http_role *role)
{
    enum http_role rl = r->server->cfg.ntokens == 0 ? HTTP_ROLE_ADMIN
                        : r->principal              ? r->principal->role
                                                    : HTTP_ROLE_PUBLIC;
    if (role)
        *role = rl;
    return r->principal ? r->principal->name : NULL;
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

/* How a JSON string holds the ASCII byte c: 0 as itself, 'u' as \u00XX, else as a backslash
 * and the letter returned. */
static char json_ascii_escape(unsigned char c)
{
    switch (c) {
    case '\t':
        return 't';
    case '\n':
        return 'n';
    case '\r':
        return 'r';
    case '"':
    case '\\':
        return (char)c;
    case '<': /* Go escapes these for HTML's sake, and Prometheus's answers have them so */
    case '>':
    case '&':
        return 'u';
    default:
        return c < 0x20 ? 'u' : 0;
    }
}

int http_json_string(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t start = b->len, run = 0, i = 0;
    int rc = buf_reserve(b, n + 2);
    if (rc == BW_OK)
        rc = buf_putc(b, '"');
    while (rc == BW_OK && i < n) {
        char esc[8] = {'\\'};
        size_t esclen = 2, len = 1;
        uint32_t cp = 0;
        if (u[i] < 0x80) {
            esc[1] = json_ascii_escape(u[i]);
            if (!esc[1]) {
                i++;
                continue;
            }
            if (esc[1] == 'u')
                esclen =
                    (size_t)snprintf(esc, sizeof(esc), "\\u00%c%c", hex[u[i] >> 4], hex[u[i] & 15]);
        } else if ((len = utf8_decode(u + i, n - i, &cp)) == 0) {
            len = 1;
            memcpy(esc, "\\ufffd", esclen = 6);
        } else if (cp == 0x2028 || cp == 0x2029) {
            memcpy(esc, cp == 0x2028 ? "\\u2028" : "\\u2029", esclen = 6);
        } else {
            i += len;
            continue;
        }
        rc = buf_append(b, s + run, i - run);
        if (rc == BW_OK)
            rc = buf_append(b, esc, esclen);
        i += len;
        run = i;
    }
    if (rc == BW_OK)
        rc = buf_append(b, s + run, n - run);
    if (rc == BW_OK)
        rc = buf_putc(b, '"');
    if (rc != BW_OK && b->data) {
        b->len = start;
        b->data[start] = '\0';
    }
    return rc;
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
    buf_puts(res->body, "{\"status\":\"error\",\"errorType\":");
    http_json_string(res->body, type, strlen(type));
    buf_puts(res->body, ",\"error\":");
    http_json_string(res->body, msg, strlen(msg));
    buf_puts(res->body, "}");
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
            if (!close || seglen == 0 || np >= HTTP_MAX_PARAMS || namelen >= 32 || seglen >= 128)
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

/* Writes the Allow value of the request's path into out: the methods of every route whose
 * pattern matches it, HEAD beside GET (route_find serves HEAD with GET). Only called when
 * route_find found the path but not the method, so at least one method is listed. */
static void allowed_methods(const struct http_server *s, struct http_request *req, char *out,
                            size_t cap)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
    size_t k = 0;
    out[0] = '\0';
    for (size_t m = 0; m < BW_ARRAY_LEN(known); m++) {
        const char *want = strcmp(known[m], "HEAD") == 0 ? "GET" : known[m];
        for (size_t i = 0; i < s->cfg.nroutes; i++) {
            const struct http_route *rt = &s->cfg.routes[i];
            if (rt->method && strcmp(rt->method, want) == 0 &&
                route_match(rt->path, req->path, req)) {
                int n = snprintf(out + k, cap - k, "%s%s", k ? ", " : "", known[m]);
                k += n > 0 && (size_t)n < cap - k ? (size_t)n : 0;
                break;
            }
        }
    }
}

/* The metrics label of a route index, "other" or "static". */
static const char *label_name(const struct http_server *s, size_t label)
{
    return label < s->cfg.nroutes         ? s->cfg.routes[label].path
           : label == HTTP_LABEL_OTHER(s) ? "other"
                                          : "static";
}

/* The request counter for this label, method and status: from the cache, or resolved (and
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
    const char *values[3] = {label_name(s, route), methods[m], code};
    if (bw_counter_resolve(s->requests, values, &c) != BW_OK)
        return NULL;
    if (slot)
        atomic_store_explicit(slot, c, memory_order_release);
    return c;
}

void http_count_request(struct http_server *s, size_t label, const char *method, int status,
                        int64_t start_ns)
{
    if (!s->requests)
        return;
    bw_histogram_observe(s->durations[label], (double)(clock_mono_ns() - start_ns) / 1e9);
    bw_counter *c = request_counter(s, label, method, status);
    if (c)
        bw_counter_inc(c);
}

void http_add_security_headers(struct MHD_Response *r)
{
    /* The page loads only its own scripts, styles and data; nothing may frame it. */
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
                            "base-uri 'none'; form-action 'self'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
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
    http_add_security_headers(r);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ret;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Decodes one form component s[0..n) in place ('+' is a space, %XX a byte; "%00" stays as it
 * is, as in the URL: see unescape) and NUL-terminates it. Returns NULL, or where a malformed
 * escape starts. */
static const char *form_unescape(char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return s + i;
            if ((hi | lo) != 0) {
                c = (char)(hi << 4 | lo);
                i += 2;
            }
        }
        s[o++] = c;
    }
    s[o] = '\0';
    return NULL;
}

/* Whether the request carries an application/x-www-form-urlencoded body. */
static int has_form_body(const struct http_request *req)
{
    static const char form[] = "application/x-www-form-urlencoded";
    const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
    size_t n = sizeof(form) - 1;
    return ct && strncasecmp(ct, form, n) == 0 && strchr("; \t", ct[n]);
}

static enum MHD_Result add_url_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct http_request *req = cls;
    req->args[req->nargs++] = (struct http_arg){key, value ? value : ""};
    return MHD_YES;
}

/* Builds req->args: the form body's fields (decoded in req->body), then the URL's. Returns
 * 0, BW_ENOMEM, or BW_EINVAL for a malformed escape with the 400 answer set in res. */
static int collect_args(struct http_request *req, struct http_response *res)
{
    int nurl = MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, NULL, NULL);
    char *p = NULL, *end = NULL;
    size_t nbody = 0;
    if (req->body.len && has_form_body(req)) {
        p = req->body.data;
        end = p + req->body.len;
        nbody = 1;
        req->form_body = true;
    }
    for (const char *q = p; q && q < end; q++)
        nbody += *q == '&';
    size_t cap = (size_t)(nurl > 0 ? nurl : 0) + nbody;
    if (cap == 0)
        return BW_OK;
    req->args = malloc(cap * sizeof(*req->args));
    if (!req->args)
        return BW_ENOMEM;
    while (p && p < end) {
        char *amp = memchr(p, '&', (size_t)(end - p));
        char *field_end = amp ? amp : end;
        char *eq = memchr(p, '=', (size_t)(field_end - p));
        const char *bad = NULL;
        if (field_end > p) { /* an empty field ("a=1&&b=2") is skipped, as Go does */
            char *value = eq ? eq + 1 : field_end;
            bad = form_unescape(p, (size_t)((eq ? eq : field_end) - p));
            if (!bad)
                bad = form_unescape(value, (size_t)(field_end - value));
            req->args[req->nargs++] = (struct http_arg){p, value};
        }
        if (bad) {
            char shown[16];
            size_t k = 0;
            for (const char *c = bad; c < bad + 3 && c < field_end && *c; c++)
                k += (size_t)snprintf(
                    shown + k, sizeof(shown) - k,
                    *c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\' ? "%c" : "\\x%02x",
                    (unsigned char)*c);
            http_response_error(res, 400, "bad_data",
                                "error parsing form values: invalid URL escape \"%s\"", shown);
            return BW_EINVAL;
        }
        p = field_end + 1;
    }
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, add_url_arg, req);
    return BW_OK;
}

/* Decides from the headers where the request goes and whether its token may go there. */
static void route_request(struct http_server *s, struct http_request *req)
{
    int route = route_find(s, req);
    req->route = route;
    req->need = HTTP_ROLE_VIEWER; /* to be told that a path does not exist, too */
    if (route >= 0) {
        req->target = TARGET_ROUTE;
        req->need = s->cfg.routes[route].role;
    } else if (route == -1 && s->cfg.nassets && !http_path_is_api(req->path)) {
        req->target = TARGET_STATIC;
        req->need = HTTP_ROLE_PUBLIC;
    } else {
        req->target = route == -2 ? TARGET_METHOD : TARGET_NOT_FOUND;
    }
    http_auth_check(req);
}

/* Answers the request: 401, 403, 404, 405 or 413 by itself, else by the route's handler or
 * the static files. */
static enum MHD_Result answer(struct http_server *s, struct http_request *req)
{
    if (req->target == TARGET_STATIC && req->verdict == VERDICT_OK)
        return http_static_answer(s, req);
    struct thread_bufs *t = thread_bufs();
    if (!t)
        return MHD_NO;
    buf_reset(&t->body);
    buf_reset(&t->scratch);
    struct http_response res = {.status = 200,
                                .content_type = "application/json",
                                .body = &t->body,
                                .scratch = &t->scratch,
                                .request = req};
    int route = req->target == TARGET_ROUTE ? req->route : -1;
    if (req->verdict != VERDICT_OK) {
        http_auth_deny(req, &res);
    } else if (req->target == TARGET_METHOD) {
        char allow[64];
        allowed_methods(s, req, allow, sizeof(allow));
        http_response_error(&res, 405, "bad_data", "method %s not allowed on %s (allowed: %s)",
                            req->method, req->path, allow);
        http_response_header(&res, "Allow", allow);
    } else if (req->target != TARGET_ROUTE) {
        http_response_error(&res, 404, "not_found", "no such endpoint: %s", req->path);
    } else if (req->body_too_large) {
        http_response_error(&res, 413, "bad_data",
                            "request body too large: over %zu bytes (http.max_request_size)",
                            req->body.limit);
    } else {
        int rc = collect_args(req, &res);
        if (rc == BW_ENOMEM)
            return MHD_NO;
        if (rc == BW_OK) {
            const struct http_route *rt = &s->cfg.routes[route];
            rt->fn(rt->ud, req, &res);
        }
    }
    http_count_request(s, route >= 0 ? (size_t)route : HTTP_LABEL_OTHER(s), req->method, res.status,
                       req->start_ns);
    if (s->cfg.audit && route >= 0 &&
        (s->cfg.routes[route].role == HTTP_ROLE_EDITOR ||
         s->cfg.routes[route].role == HTTP_ROLE_ADMIN))
        s->cfg.audit(s->cfg.audit_ud, req, res.status);
    if (res.stream)
        return http_stream_queue(req, &res);
    return queue(req->conn, &res);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *s = cls;
    struct http_request *req = *con_cls;
    if (!req) {
        /* First call: headers only. A body that says it is too large is refused before it is
         * read; otherwise the answer comes once the body is in. */
        req = calloc(1, sizeof(*req));
        if (!req)
            return MHD_NO;
        req->start_ns = clock_mono_ns();
        req->server = s;
        req->conn = conn;
        req->method = method;
        req->path = url;
        buf_init(&req->body, (size_t)s->cfg.limits.max_request_size);
        *con_cls = req;
        route_request(s, req);
        if (req->verdict != VERDICT_OK)
            return answer(s, req);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > req->body.limit) {
            req->body_too_large = 1;
            return answer(s, req);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->body_too_large) {
            int rc = buf_append(&req->body, upload_data, *upload_data_size);
            if (rc == BW_ENOMEM)
                return MHD_NO;
            req->body_too_large = rc == BW_ENOSPC;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(s, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_request *req = *con_cls;
    if (req) {
        buf_fini(&req->body);
        free(req->args);
        free(req);
    }
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
    s->durations = calloc(NLABELS(s), sizeof(*s->durations));
    s->counters = calloc(NLABELS(s) * NMETHODS * NSTATUSES, sizeof(*s->counters));
    if (!s->durations || !s->counters)
        return BW_ENOMEM;
    for (size_t i = 0; i < NLABELS(s); i++) {
        const char *v[1] = {label_name(s, i)};
        rc = bw_histogram_resolve(dur, v, &s->durations[i]);
        if (rc)
            return rc;
    }
    return BW_OK;
}

void http_limits_defaults(struct http_limits *l)
{
    if (!l->max_connections)
        l->max_connections = HTTP_DEFAULT_MAX_CONNECTIONS;
    if (!l->max_request_size)
        l->max_request_size = HTTP_DEFAULT_MAX_BODY;
    if (!l->max_header_size)
        l->max_header_size = HTTP_DEFAULT_MAX_HEADER;
    if (!l->idle_timeout_ms)
        l->idle_timeout_ms = HTTP_DEFAULT_IDLE_TIMEOUT_MS;
}

int http_limits_validate(const struct http_limits *l, struct diag *d)
{
    if (l->max_connections < 1 || l->max_connections > 65536)
        return diag_set(d, BW_EINVAL, "http.max_connections: %zu is not within 1 to 65536",
                        l->max_connections);
    if (l->max_request_size < 1 || l->max_request_size > (INT64_C(1) << 30))
        return diag_set(d, BW_EINVAL,
                        "http.max_request_size: %" PRId64 " bytes is not within 1 B to 1GB",
                        l->max_request_size);
    if (l->max_header_size < HTTP_MIN_HEADER_SIZE || l->max_header_size > (INT64_C(16) << 20))
        return diag_set(d, BW_EINVAL,
                        "http.max_header_size: %" PRId64 " bytes is not within 4KB to 16MB",
                        l->max_header_size);
    if (l->idle_timeout_ms % 1000 || l->idle_timeout_ms < 1000 || l->idle_timeout_ms > 86400000)
        return diag_set(d, BW_EINVAL,
                        "http.idle_timeout: %" PRId64 " ms is not a whole number of seconds "
                        "from 1s to 1d",
                        l->idle_timeout_ms);
    return BW_OK;
}

int http_server_bind(const struct http_config *cfg, struct http_server **out, struct diag *d)
{
    struct http_limits limits = cfg->limits;
    http_limits_defaults(&limits);
    int rc = http_limits_validate(&limits, d);
    if (rc != BW_OK)
        return rc;
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s)
        return diag_set(d, BW_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->cfg.limits = limits;
    s->fd = -1;
    rc = http_streams_init(s);
    if (rc != BW_OK) {
        free(s);
        return diag_set(d, rc, "out of memory");
    }
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

/* Decodes %XX escapes in the URL's path and arguments in place, as libmicrohttpd does, except
 * that "%00" stays as it is: a NUL would cut the string short, and "/api/v1/query%00x" would
 * be taken for "/api/v1/query". Returns the new length. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        int hi = p[0] == '%' ? hexval(p[1]) : -1;
        int lo = hi >= 0 ? hexval(p[2]) : -1;
        if (lo >= 0 && (hi | lo) != 0) {
            *o++ = (char)(hi << 4 | lo);
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return (size_t)(o - s);
}

/* Overwrites the value of every access_token=VALUE in msg with '*', in case a message ever
 * quotes a URL with its query (libmicrohttpd 0.9 quotes only the path). */
static void scrub_tokens(char *msg)
{
    static const char key[] = "access_token=";
    for (char *p = msg; (p = strstr(p, key));) {
        p += sizeof(key) - 1;
        for (; *p && !strchr("& \t'\"`", *p); p++)
            *p = '*';
    }
}

/* libmicrohttpd's messages are about clients (one that went away mid-stream, a malformed
 * request); ours are reported through diag. Debug level keeps them out of the way. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    scrub_tokens(msg);
    log_debug("http: libmicrohttpd: %s", msg);
}

int http_server_start(struct http_server *s, struct diag *d)
{
    /* One serving thread per core by default: requests are CPU-bound (a scrape renders
     * ~100 KiB), and more threads than cores only add switches between them; on 2 cores a
     * pool of 2 served 10-20 % more /api/metrics requests/s than a pool of 4. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = s->cfg.threads ? s->cfg.threads : ncpu > 0 ? (unsigned)ncpu : 1;
    const struct http_limits *l = &s->cfg.limits;
    /* libmicrohttpd splits the connection limit among the pool's threads, and refuses to
     * start with fewer connections than threads. */
    if (threads > l->max_connections)
        threads = (unsigned)l->max_connections;
    /* Suspend and resume park idle streams without holding a thread (stream.c). The logger
     * comes first: libmicrohttpd prints what it says before it to stderr itself. The memory
     * limit is the connection's pool, where the request line and headers must fit; a request
     * body is handed to on_request in pieces and is capped there. */
    s->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)s->fd, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)l->max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)l->max_header_size, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(l->idle_timeout_ms / 1000), MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, s, MHD_OPTION_END);
    if (!s->daemon)
        return diag_set(d, BW_EIO, "starting the HTTP server on port %d failed", s->port);
    if (http_streams_start(s) != BW_OK)
        return diag_set(d, BW_ENOMEM, "starting the HTTP server's stream ticker failed");
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
    http_streams_stop(s); /* libmicrohttpd must not be stopped with suspended connections */
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    else if (s->fd >= 0)
        close(s->fd);
    http_streams_fini(s);
    free(s->durations);
    free(s->counters);
    free(s);
}
