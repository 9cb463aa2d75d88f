/* http_int: what the files of src/http share and nothing outside it sees — the request and
 * server structures and the hooks between the router (server.c), authentication (auth.c),
 * streaming responses (stream.c) and the static files (static.c). */
#ifndef BW_HTTP_INT_H
#define BW_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>

#include "http/http.h"

#define HTTP_MAX_PARAMS 4

/* Where a request goes, decided from its headers before its body is read. */
enum http_target {
    TARGET_ROUTE,     /* req->route */
    TARGET_NOT_FOUND, /* no route takes the path: 404 */
    TARGET_METHOD,    /* a route takes the path but not the method: 405 */
    TARGET_STATIC,    /* an embedded file (or the page's index) */
};

/* What authentication said about a request. */
enum http_verdict {
    VERDICT_OK,
    VERDICT_MISSING,   /* no Authorization header: 401 */
    VERDICT_MALFORMED, /* not "Bearer <token>": 401 */
    VERDICT_UNKNOWN,   /* no configured token has that hash: 401 */
    VERDICT_FORBIDDEN, /* a known token with too low a role: 403 */
};

struct http_arg {
    const char *name, *value;
};

struct http_request {
    struct http_server *server;
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    int64_t start_ns;
    enum http_target target;
    int route; /* index into cfg.routes for TARGET_ROUTE */
    enum http_verdict verdict;
    enum http_role need;                /* the least role the target takes */
    const struct http_token *principal; /* the request's token, when auth is on and it is known */
    int body_too_large;                 /* over max_request_size: the answer is 413 */
    struct buf body;                    /* the request body; a form body is decoded in place */
    bool form_body;                     /* body is a form, decoded into args */
    struct http_arg *args;              /* the form body's fields, then the URL's; malloc'ed */
    size_t nargs;
    size_t nparams;
    char param_names[HTTP_MAX_PARAMS][32];
    char param_values[HTTP_MAX_PARAMS][128];
};

struct http_server {
    struct http_config cfg;
    int fd;
    int port;
    struct MHD_Daemon *daemon;
    bw_family *requests;      /* http_requests_total{handler,method,code} */
    bw_histogram **durations; /* per route, then "other" (unmatched), then "static" */
    /* Resolved request counters, [route][method][status], filled on first use so a request
     * only takes the registry's lock the first time its combination is seen. */
    _Atomic(bw_counter *) *counters;

    /* Streams (stream.c), all under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;         /* the ticker's sleep; shutdown's wait for parked streams */
    struct http_stream *streams; /* every open stream, a doubly linked list */
    unsigned nstreams;
    unsigned nparked;  /* streams suspended in libmicrohttpd */
    int stopping;      /* http_server_free has begun: no new streams, open ones end */
    int ticker_asleep; /* the ticker waits without a deadline: signal it when one parks */
    int ticker_running;
    pthread_t ticker;
};

/* The route index that labels a request's metrics: a route, "other" or "static". */
#define HTTP_LABEL_OTHER(s)  ((s)->cfg.nroutes)
#define HTTP_LABEL_STATIC(s) ((s)->cfg.nroutes + 1)

/* server.c: counts a finished request in the metrics under label (a route index, or
 * HTTP_LABEL_OTHER / HTTP_LABEL_STATIC). */
void http_count_request(struct http_server *s, size_t label, const char *method, int status,
                        int64_t start_ns);
/* server.c: adds the security headers every response carries. */
void http_add_security_headers(struct MHD_Response *r);

/* auth.c: decides req->verdict (and req->principal) for req->need. */
void http_auth_check(struct http_request *req);
/* auth.c: the 401 or 403 answer for a request whose verdict is not VERDICT_OK. */
void http_auth_deny(const struct http_request *req, struct http_response *res);
/* auth.c: the value of WWW-Authenticate on a 401. */
#define HTTP_AUTH_CHALLENGE "Bearer realm=\"breakwatch\""

/* stream.c: set-up and shutdown of the server's stream machinery. http_streams_init before
 * the daemon starts (BW_OK or BW_ENOMEM); http_streams_stop ends every stream and waits
 * until none is suspended, so that the daemon may be stopped; http_streams_fini after the
 * daemon is gone. */
int http_streams_init(struct http_server *s);
int http_streams_start(struct http_server *s);
void http_streams_stop(struct http_server *s);
void http_streams_fini(struct http_server *s);
/* stream.c: queues the streaming response that res describes. */
enum MHD_Result http_stream_queue(struct http_request *req, const struct http_response *res);

/* static.c: answers a TARGET_STATIC request and counts it. */
enum MHD_Result http_static_answer(struct http_server *s, struct http_request *req);
/* static.c: whether path is the API's (/api or under /api/), never a static file. */
int http_path_is_api(const char *path);

#endif
