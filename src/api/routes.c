/* routes: the table of breakwatch's endpoints. One place lists them all, so the HTTP surface
 * can be read at a glance. */
#include "api/api.h"

size_t api_routes_init(struct api_ctx *ctx)
{
    const struct http_route routes[] = {
        {"GET", "/api/metrics", api_metrics, ctx},
        {"GET", "/api/health", api_health, ctx},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(routes); i++)
        ctx->routes[i] = routes[i];
    return BW_ARRAY_LEN(routes);
}
