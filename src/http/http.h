/* http: breakwatch's HTTP server — libmicrohttpd behind a small router. Handlers (src/api/)
 * see only the request/response types below; nothing outside this module includes
 * microhttpd.h.
 *
 * A handler writes its body into res->body, a buffer owned by the serving thread and reused
 * across requests (res->scratch likewise, for intermediate results), so steady-state responses
 * allocate nothing in breakwatch itself. */
#ifndef BW_HTTP_H
#define BW_HTTP_H

#include <stddef.h>

#include "base/base.h"
#include "breakwatch/metrics.h"

struct http_request;
struct http_server;

/* Request accessors. Names are case-insensitive for headers; NULL when absent. */
const char *http_request_method(const struct http_request *r);
const char *http_request_header(const struct http_request *r, const char *name);
/* Request parameters come from the URL's query string and, for a body sent as
 * application/x-www-form-urlencoded, from the body, both decoded ('+' and %XX). As in Go's
 * net/http (Request.Form), the body's values come first, then the URL's; a name may repeat
 * (match[]=a&match[]=b). http_request_arg returns the first value of name, "" for a name
 * given without a value, NULL when absent. */
const char *http_request_arg(const struct http_request *r, const char *name);
/* Iterates over every value of name in that order: start with *pos = 0 and call until it
 * returns NULL. */
const char *http_request_arg_next(const struct http_request *r, const char *name, size_t *pos);
/* Path segments matched by a route's "{name}" placeholder; NULL when absent. */
const char *http_request_param(const struct http_request *r, const char *name);

#define HTTP_MAX_HEADERS 4

struct http_response {
    int status;               /* defaults to 200 */
    const char *content_type; /* static string; defaults to application/json */
    struct buf *body;         /* reset before the handler runs */
    struct buf *scratch;      /* a second per-thread buffer for the handler's own use */
    int gzip_ok;              /* the handler may set it when it compressed body */
    size_t nheaders;
    const char *header_names[HTTP_MAX_HEADERS]; /* static strings */
    char header_values[HTTP_MAX_HEADERS][128];
};

/* Adds a response header (name must be a static string). BW_ENOSPC past HTTP_MAX_HEADERS. */
int http_response_header(struct http_response *res, const char *name, const char *value);
/* Appends s (n bytes) to b as a quoted JSON string, escaped as Prometheus's encoder (Go's
 * encoding/json) does it: \" \\ \n \r \t, other control characters and < > & as \u00XX,
 * U+2028 and U+2029 as \u2028 \u2029, and each byte that is not part of valid UTF-8 as
 * \ufffd. Returns the buf error; on error b is as it was. */
int http_json_string(struct buf *b, const char *s, size_t n);
/* Sets status and a JSON body {"status":"error","errorType":type,"error":msg}. */
void http_response_error(struct http_response *res, int status, const char *type, const char *fmt,
                         ...) BW_PRINTF(4, 5);

typedef void (*http_handler_fn)(void *ud, const struct http_request *req,
                                struct http_response *res);

/* A route: method ("GET", "POST"; NULL for any), a path that matches exactly or with "{name}"
 * segment placeholders, and the handler. The path pattern labels the request metrics
 * (handler="/api/items/{id}"), which keeps their cardinality bounded. */
struct http_route {
    const char *method;
    const char *path;
    http_handler_fn fn;
    void *ud;
};

struct http_config {
    const char *host; /* IPv4 or IPv6 literal */
    int port;
    unsigned threads;
    bw_registry *registry; /* request metrics go here; may be NULL */
    const struct http_route *routes;
    size_t nroutes;
    /* Request bodies larger than this are refused with 413 (before they are read when
     * Content-Length says so); 0 takes HTTP_DEFAULT_MAX_BODY. */
    size_t max_body;
};

#define HTTP_DEFAULT_MAX_BODY (1u << 20)

/* Binds host:port. Fails with BW_EBUSY when the address is in use, BW_EACCES when not
 * permitted, BW_EINVAL for a bad address — with "host:port" and the reason in d. Nothing is
 * started on failure. */
int http_server_bind(const struct http_config *cfg, struct http_server **out, struct diag *d);
/* Starts serving on the bound socket. */
int http_server_start(struct http_server *s, struct diag *d);
/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *s);
/* Stops serving (waits for in-flight requests) and frees. NULL is a no-op. */
void http_server_free(struct http_server *s);

/* Parses "HOST:PORT" or "[V6]:PORT" into host (without brackets) and port. 0 or BW_EINVAL. */
int http_parse_listen(const char *s, char *host, size_t hostlen, int *port);
/* 1 if host is a loopback address literal (127.0.0.0/8, ::1) or "localhost". */
int http_host_is_loopback(const char *host);

#endif
