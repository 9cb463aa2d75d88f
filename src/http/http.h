/* http: breakwatch's HTTP server — libmicrohttpd behind a small router, with bearer-token
 * authentication and roles, streaming responses (Server-Sent Events) and the web page's
 * embedded static files. Handlers (src/api/) see only the types below; nothing outside this
 * module includes microhttpd.h.
 *
 * A handler writes its body into res->body, a buffer owned by the serving thread and reused
 * across requests (res->scratch likewise, for intermediate results), so steady-state responses
 * allocate nothing in breakwatch itself. Every response carries the same security headers
 * (Content-Security-Policy, X-Content-Type-Options, Referrer-Policy, X-Frame-Options). */
#ifndef BW_HTTP_H
#define BW_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"
#include "breakwatch/metrics.h"

struct http_request;
struct http_server;
struct http_stream; /* one per streaming response; the server's */

/* Roles, each including the ones before it. A route's role is the least a token needs;
 * HTTP_ROLE_PUBLIC routes need no token at all. */
enum http_role { HTTP_ROLE_VIEWER = 0, HTTP_ROLE_EDITOR, HTTP_ROLE_ADMIN, HTTP_ROLE_PUBLIC };

/* "viewer", "editor", "admin", "public". */
const char *http_role_name(enum http_role role);
/* Reads "viewer", "editor" or "admin" (the roles a token may have). BW_OK or BW_EINVAL. */
int http_role_parse(const char *s, enum http_role *out);

/* A bearer token as the server knows it: a name (for messages and http_request_principal),
 * a role, and the SHA-256 of the token; the token itself is never kept. */
struct http_token {
    char name[64];
    enum http_role role;
    unsigned char sha256[32];
};

/* Writes the SHA-256 of s[0..n) into out. BW_OK, or BW_EIO when libcrypto fails (out then
 * holds zeros). */
int http_token_hash(const char *s, size_t n, unsigned char out[32]);

/* Request accessors. Names are case-insensitive for headers; NULL when absent. */
const char *http_request_method(const struct http_request *r);
/* The URL's path, without the query string. */
const char *http_request_path(const struct http_request *r);
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
/* The request body as it was sent, with its length in *len (bodies may hold NUL bytes; a NUL
 * always follows the last byte, so a text body is a C string too). NULL with *len 0 when there
 * is none, and for a form body (application/x-www-form-urlencoded), which was decoded in place
 * into the fields that http_request_arg reads. Valid until the handler returns. */
const char *http_request_body(const struct http_request *r, size_t *len);
/* Path segments matched by a route's "{name}" placeholder; NULL when absent. */
const char *http_request_param(const struct http_request *r, const char *name);
/* Who is asking: the name of the request's token, with its role in *role (role may be NULL).
 * NULL when auth is off (no tokens configured; *role is then HTTP_ROLE_ADMIN, as everything
 * is open) or, with auth on, for a public route, which is served without looking at the
 * token (*role is then HTTP_ROLE_PUBLIC). */
const char *http_request_principal(const struct http_request *r, enum http_role *role);

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
    struct http_stream *stream;   /* set by http_response_stream */
    struct http_request *request; /* the request being answered; the server's, not the handler's */
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

/* ---- Streaming responses (Server-Sent Events) ----
 *
 * A handler may turn its response into a long-lived stream: it calls http_response_stream
 * with callbacks, returns, and the server then pulls the body from next() whenever the client
 * can take more. While next() has nothing, the connection is parked (suspended in
 * libmicrohttpd: no thread waits and nothing polls) until someone calls http_stream_wake.
 * After HTTP_DEFAULT_STREAM_KEEPALIVE_MS (http_config.stream_keepalive_ms) without a byte sent
 * the server itself writes HTTP_STREAM_KEEPALIVE, an SSE comment, which also finds clients
 * that went away. The body is sent with chunked encoding (HTTP/1.1) or until the connection
 * closes (HTTP/1.0).
 *
 * Threads: next() runs on the server's threads, close() on them or on the one that calls
 * http_server_free; never two at once for one stream. next() must not block (it holds a
 * serving thread) and may never be called at all (a HEAD request, a client gone at once).
 * http_stream_wake may be called from any thread, any number of times, until close() has
 * been called.
 *
 * A typical SSE handler: subscribe to the live bus with a callback that calls
 * http_stream_wake; next() appends what arrived ("id: ...\nevent: ...\ndata: ...\n\n")
 * and returns 0 when it has caught up; close() unsubscribes (under the lock the bus holds while
 * it calls wake, so that no wake runs after close returns) and frees ud. */
struct http_stream_ops {
    /* Appends the next bytes to out (empty on entry; capped at HTTP_STREAM_MAX_CHUNK, past
     * which appends fail with BW_ENOSPC: stop there and return 1). Returns 1: call again as
     * soon as the client can take more; 0: nothing more now, wait for http_stream_wake (or
     * the keepalive); -1: the response ends (after what was appended). 1 with nothing
     * appended counts as 0. */
    int (*next)(void *ud, struct buf *out);
    /* Called exactly once, when the stream ends for any reason: next() returned -1, the
     * client went away, or the server is shutting down. The stream is freed when it
     * returns. */
    void (*close)(void *ud);
    void *ud;
};

#define HTTP_STREAM_KEEPALIVE ": keep-alive\n\n"
#define HTTP_STREAM_MAX_CHUNK (1u << 20)

/* Makes res a streaming response; res->status, content_type (e.g. "text/event-stream"),
 * headers and anything already in res->body (sent first: "retry: 2000\n\n") still apply.
 * On success the server owns the stream: ops->close will be called exactly once, and *out
 * (may be NULL) is the handle for http_stream_wake. Fails with BW_EBUSY when
 * http_config.max_streams streams are open or the server is shutting down, BW_ENOMEM when out
 * of memory; res is then a 503 (or 500) error answer, close is never called and ud stays the
 * handler's to free. */
int http_response_stream(struct http_response *res, const struct http_stream_ops *ops,
                         struct http_stream **out);
/* Tells the server that next() has more to say. Cheap, never blocks on the network; safe
 * from any thread until close has been called. */
void http_stream_wake(struct http_stream *s);

/* A route: method ("GET", "POST"; NULL for any), a path that matches exactly or with "{name}"
 * segment placeholders, the handler, and the least role a token needs (with auth off, none is
 * needed). Write the role on every route, as .role = …, so the table shows who may do what
 * (and the fields after it may be left out); it is 0, HTTP_ROLE_VIEWER, the safe default, when
 * an initializer leaves it out. The path pattern labels the request metrics
 * (handler="/api/items/{id}"), which keeps their cardinality bounded.
 *
 * query_token lets a request without an Authorization header give its token as the URL
 * parameter access_token instead. Only for what a browser must open without headers (an
 * EventSource): a URL is easier to leak than a header (history, proxies' logs). Every other
 * route ignores access_token. breakwatch never logs it: the request metrics name the route's
 * pattern, and libmicrohttpd's messages, which name the path only, are scrubbed of it all the
 * same. */
struct http_route {
    const char *method;
    const char *path;
    http_handler_fn fn;
    void *ud;
    enum http_role role;
    bool query_token;
};

/* ---- Embedded static files (the web page) ----
 * Served for GET and HEAD of any path outside /api/ that no route takes: the exact path, else
 * /index.html for a path whose last segment has no '.' (the page's own routes, /dashboards),
 * else 404. Public (the page must load to show its sign-in), gzip when the client accepts it,
 * ETag and If-None-Match (304), Cache-Control immutable under /assets/ and no-cache elsewhere.
 * The file system is never touched. */
struct http_asset {
    const char *path;         /* "/index.html", "/assets/index-3f2a.js" */
    const char *content_type; /* "text/html; charset=utf-8" */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz; /* gzip of data, or NULL */
    size_t gz_len;
    const char *etag; /* quoted strong ETag */
};

/* The web page built into breakwatch, generated at build time by tools/embed.c. */
extern const struct http_asset web_assets[];
extern const size_t web_nassets;

/* What one client may take (the http.* settings). A zero field takes the default below.
 * Past each limit a client sees:
 *   max_connections   connections over it wait in the kernel's listen queue (up to 256
 *                     more; beyond that the kernel refuses them) until one closes;
 *                     libmicrohttpd stops accepting, nothing is answered
 *   max_request_size  413 with {"error":"request body too large: over N bytes
 *                     (http.max_request_size)"}, before the body is read when Content-Length
 *                     says so
 *   max_header_size   the request line and headers must fit in this much of the connection's
 *                     memory (libmicrohttpd's memory pool, which also holds the URL arguments
 *                     and response headers): 414 when the request line alone does not, 431
 *                     when the headers do not; the connection is closed after it
 *   idle_timeout_ms   a connection that sends nothing for this long (whole seconds) is closed
 *                     without an answer; a parked stream (SSE) is not idle */
struct http_limits {
    size_t max_connections;
    int64_t max_request_size;
    int64_t max_header_size;
    int64_t idle_timeout_ms;
};

#define HTTP_DEFAULT_MAX_CONNECTIONS 256
#define HTTP_DEFAULT_MAX_BODY        (INT64_C(1) << 20)
#define HTTP_DEFAULT_MAX_HEADER      (INT64_C(64) << 10)
#define HTTP_DEFAULT_IDLE_TIMEOUT_MS 60000
#define HTTP_MIN_HEADER_SIZE         (INT64_C(4) << 10) /* room for a response's headers */

/* Fills the zero fields of l with the defaults. */
void http_limits_defaults(struct http_limits *l);
/* Whether l holds usable limits: max_connections 1 to 65536, max_request_size 1 B to 1 GB,
 * max_header_size HTTP_MIN_HEADER_SIZE to 16 MB, idle_timeout_ms whole seconds from 1 s to a
 * day (a zero is refused: apply http_limits_defaults first). BW_OK, or BW_EINVAL with the
 * setting (http.max_connections, ...) and the reason in d. http_server_bind runs both. */
int http_limits_validate(const struct http_limits *l, struct diag *d);

struct http_config {
    const char *host; /* IPv4 or IPv6 literal */
    int port;
    unsigned threads;
    bw_registry *registry; /* request metrics go here; may be NULL */
    const struct http_route *routes;
    size_t nroutes;
    /* Connection and request limits; a zero field takes its default. */
    struct http_limits limits;
    /* Bearer tokens. With none, auth is off and every route is open. With some, every route
     * but HTTP_ROLE_PUBLIC ones and the static files needs "Authorization: Bearer <token>"
     * (or, on a query_token route, ?access_token=<token>): 401 without a known token, 403 when
     * its role is below the route's. Borrowed: must outlive the server. */
    const struct http_token *tokens;
    size_t ntokens;
    /* The static files (usually web_assets); borrowed. */
    const struct http_asset *assets;
    size_t nassets;
    /* Streaming responses open at once, past which http_response_stream fails (503); 0
     * takes HTTP_DEFAULT_MAX_STREAMS. */
    unsigned max_streams;
    /* Silence after which a stream gets HTTP_STREAM_KEEPALIVE; 0 takes the default. */
    int64_t stream_keepalive_ms;
    /* The audit trail: called on the request's thread once a request to a route that needs
     * the editor or admin role (the routes that change state) has been answered — done,
     * refused (401, 403, 413) or failed — with its status. http_request_principal says who.
     * NULL: no trail. */
    void (*audit)(void *ud, const struct http_request *req, int status);
    void *audit_ud;
};

#define HTTP_DEFAULT_MAX_STREAMS         64
#define HTTP_DEFAULT_STREAM_KEEPALIVE_MS 15000

/* Binds host:port. Fails with BW_EBUSY when the address is in use, BW_EACCES when not
 * permitted, BW_EINVAL for a bad address — with "host:port" and the reason in d — or for
 * limits out of range (see http_limits_validate). Nothing is started on failure. */
int http_server_bind(const struct http_config *cfg, struct http_server **out, struct diag *d);
/* Starts serving on the bound socket. */
int http_server_start(struct http_server *s, struct diag *d);
/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *s);
/* Stops serving and frees: ends every stream (each gets its close call), waits for in-flight
 * requests. NULL is a no-op. */
void http_server_free(struct http_server *s);

/* Parses "HOST:PORT" or "[V6]:PORT" into host (without brackets) and port. 0 or BW_EINVAL. */
int http_parse_listen(const char *s, char *host, size_t hostlen, int *port);
/* 1 if host is a loopback address literal (127.0.0.0/8, ::1) or "localhost". */
int http_host_is_loopback(const char *host);

#endif
