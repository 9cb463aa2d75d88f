/* routes: the table of breakwatch's endpoints. One place lists them all, so the HTTP surface
 * can be read at a glance. */
#include "api/api.h"

size_t api_routes_init(struct api_ctx *ctx)
{
    const struct http_route routes[] = {
        {"GET", "/api/metrics", api_metrics, ctx},
        {"GET", "/api/health", api_health, ctx},
        /* Prometheus's HTTP API, for Grafana's Prometheus data source: the same methods as
         * Prometheus (label values and metadata are GET only). */
        {"GET", "/api/v1/query", api_prom_query, ctx},
        {"POST", "/api/v1/query", api_prom_query, ctx},
        {"GET", "/api/v1/query_range", api_prom_query_range, ctx},
        {"POST", "/api/v1/query_range", api_prom_query_range, ctx},
        {"GET", "/api/v1/series", api_prom_series, ctx},
        {"POST", "/api/v1/series", api_prom_series, ctx},
        {"GET", "/api/v1/labels", api_prom_labels, ctx},
        {"POST", "/api/v1/labels", api_prom_labels, ctx},
        {"GET", "/api/v1/label/{name}/values", api_prom_label_values, ctx},
        {"GET", "/api/v1/metadata", api_prom_metadata, ctx},
        {"GET", "/api/v1/query_exemplars", api_prom_query_exemplars, ctx},
        {"POST", "/api/v1/query_exemplars", api_prom_query_exemplars, ctx},
        {"GET", "/api/v1/status/buildinfo", api_prom_buildinfo, ctx},
        {"GET", "/api/v1/status/config", api_prom_config, ctx},
    };
    _Static_assert(BW_ARRAY_LEN(routes) <= API_MAX_ROUTES, "raise API_MAX_ROUTES");
    for (size_t i = 0; i < BW_ARRAY_LEN(routes); i++)
        ctx->routes[i] = routes[i];
    return BW_ARRAY_LEN(routes);
}
