/* api: the HTTP handlers. They read the registry, the engine, the journal and the tsdb and
 * present them; nothing here changes what they hold. */
#ifndef BW_API_H
#define BW_API_H

#include <stdbool.h>
#include <stdint.h>

#include "breakwatch/metrics.h"
#include "http/http.h"
#include "promql/promql.h"

struct engine;
struct journal;
struct tsdb;

#define API_MAX_ROUTES 32

struct api_ctx {
    bw_registry *registry;
    struct engine *engine;   /* may be NULL */
    struct journal *journal; /* may be NULL */
    /* The history /api/v1 queries read; NULL until it is open (those endpoints answer 503). */
    struct tsdb *tsdb;
    /* Query limits and defaults; a request's timeout and lookback_delta override them, its
     * timeout only downwards. Zero fields take promql's defaults. */
    struct promql_options promql;
    int64_t started_ns; /* clock_mono_ns() at start, for uptime */
    struct http_route routes[API_MAX_ROUTES];
};

/* Fills ctx->routes with every endpoint; returns how many. */
size_t api_routes_init(struct api_ctx *ctx);

/* GET /api/metrics: the exposition, in the format the Accept header asks for, gzip when
 * Accept-Encoding allows it. */
void api_metrics(void *ud, const struct http_request *req, struct http_response *res);
/* GET /api/health: liveness and readiness as JSON; 503 when not ready. */
void api_health(void *ud, const struct http_request *req, struct http_response *res);

/* ---- the Prometheus HTTP API under /api/v1 (prom.c) ----
 * GET and form POST (label values: GET only), Prometheus's envelope, errorType and status
 * codes: bad_data 400, execution 422, canceled 499, internal 500, timeout and unavailable 503. */
void api_prom_query(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_query_range(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_series(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_labels(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_label_values(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_metadata(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_query_exemplars(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_buildinfo(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_config(void *ud, const struct http_request *req, struct http_response *res);

/* Parameter readers, as Prometheus reads them (web/api/v1/api.go). Each returns BW_OK, or
 * BW_EINVAL with Prometheus's message for the value in msg. */
/* A time: decimal Unix seconds (the fraction rounded to ms) or RFC 3339, into ms. */
int prom_parse_time(const char *s, int64_t *ms, char *msg, size_t msglen);
/* A duration: decimal seconds or a Prometheus duration ("1m30s"), into ns. */
int prom_parse_duration(const char *s, int64_t *ns, char *msg, size_t msglen);
/* A result limit: a non-negative decimal integer, 0 meaning none. */
int prom_parse_limit(const char *s, size_t *limit, char *msg, size_t msglen);
/* A /label/{name}/values name: verbatim, or U__-escaped (U__ then "__" for "_" and "_<hex>_"
 * for a code point), decoded in place. Returns false when the result is not a label name
 * (empty, or not valid UTF-8). */
bool prom_label_name_decode(char *name);

/* ---- Prometheus's JSON encoding (promjson.c) ----
 * Everything is written straight into the response buffer. The functions return BW_OK or the
 * buf error (BW_ENOSPC past the body cap, BW_ENOMEM); after an error the buffer holds a
 * partial document that the caller replaces with an error answer. */

/* Writes v as Prometheus writes sample values, without quotes: Go's FormatFloat 'f' with the
 * shortest digits when 1e-6 <= |v| < 1e21 or v is 0, else 'e' ("1e-07", "1.5e+21"); "NaN",
 * "+Inf", "-Inf". Returns the length; out holds 32 bytes. */
size_t promjson_fmt_value(char *out, double v);
/* Writes a timestamp (ms) as Unix seconds, with a '.' and exactly three digits only when the
 * milliseconds are not zero ("1435781451.780"). Returns the length; out holds 24 bytes. */
size_t promjson_fmt_time(char *out, int64_t ms);
/* Appends {"name":"value",...} in the set's (sorted) order. */
int promjson_labels(struct buf *b, const struct labelset *ls);
/* Appends ["s",...]. */
int promjson_strings(struct buf *b, const char *const *v, size_t n);
/* Appends {"resultType":...,"result":...} for r: a vector or matrix with its first n series
 * (labels written as they come), a scalar as [t,"v"], a string as [t,"s"]. BW_EINVAL for a
 * scalar without its point. */
int promjson_result(struct buf *b, const struct promql_result *r, size_t n);
/* Appends {"status":"success","data": — the data follows. */
int promjson_begin(struct buf *b);
/* Closes what promjson_begin opened, adding "warnings" and "infos" when there are any: r's
 * (may be NULL), at most 10 of each then "N more warning annotations omitted" as Prometheus
 * does, and "results truncated due to limit" when truncated. */
int promjson_end(struct buf *b, const struct promql_result *r, bool truncated);

#endif
