/* api: the HTTP handlers. They read the registry, the engine and the journal and present
 * them; nothing here changes what they hold. */
#ifndef BW_API_H
#define BW_API_H

#include <stdint.h>

#include "breakwatch/metrics.h"
#include "http/http.h"

struct engine;
struct journal;

#define API_MAX_ROUTES 16

struct api_ctx {
    bw_registry *registry;
    struct engine *engine;   /* may be NULL */
    struct journal *journal; /* may be NULL */
    int64_t started_ns;      /* clock_mono_ns() at start, for uptime */
    struct http_route routes[API_MAX_ROUTES];
};

/* Fills ctx->routes with every endpoint; returns how many. */
size_t api_routes_init(struct api_ctx *ctx);

/* GET /api/metrics: the exposition, in the format the Accept header asks for, gzip when
 * Accept-Encoding allows it. */
void api_metrics(void *ud, const struct http_request *req, struct http_response *res);
/* GET /api/health: liveness and readiness as JSON; 503 when not ready. */
void api_health(void *ud, const struct http_request *req, struct http_response *res);

#endif
