/* routes: the table of breakwatch's endpoints. One place lists them all, so the HTTP surface
 * can be read at a glance. */
#include "api/api.h"

size_t api_routes_init(struct api_ctx *ctx)
{
    /* Prometheus may scrape without a token when the configuration says so. */
    enum http_role metrics_role = ctx->metrics_open ? HTTP_ROLE_PUBLIC : HTTP_ROLE_VIEWER;
    /* .role is the least role a token needs (see http.h): HTTP_ROLE_VIEWER reads,
     * HTTP_ROLE_EDITOR annotates, acknowledges, silences and reloads, HTTP_ROLE_ADMIN
     * controls. */
    const struct http_route routes[] = {
        {"GET", "/api/metrics", api_metrics, ctx, .role = metrics_role},
        {"GET", "/api/health", api_health, ctx, .role = HTTP_ROLE_PUBLIC},
        {"GET", "/api/auth/whoami", api_auth_whoami, ctx, .role = HTTP_ROLE_VIEWER},
        /* Prometheus's HTTP API, for Grafana's Prometheus data source: the same methods as
         * Prometheus (label values and metadata are GET only). */
        {"GET", "/api/v1/query", api_prom_query, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/v1/query", api_prom_query, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/query_range", api_prom_query_range, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/v1/query_range", api_prom_query_range, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/series", api_prom_series, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/v1/series", api_prom_series, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/labels", api_prom_labels, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/v1/labels", api_prom_labels, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/label/{name}/values", api_prom_label_values, ctx,
         .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/metadata", api_prom_metadata, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/query_exemplars", api_prom_query_exemplars, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/v1/query_exemplars", api_prom_query_exemplars, ctx,
         .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/status/buildinfo", api_prom_buildinfo, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/status/config", api_prom_config, ctx, .role = HTTP_ROLE_VIEWER},
        /* The monitoring page's API (docs/api.md). */
        {"GET", "/api/monitoring/sessions", api_mon_sessions, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/monitoring/sessions/{id}", api_mon_session, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/monitoring/sessions/{id}/checkpoints", api_mon_checkpoints, ctx,
         .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/monitoring/realtime", api_mon_realtime, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/monitoring/events", api_mon_events, ctx, .role = HTTP_ROLE_VIEWER},
        /* EventSource cannot send headers: the stream alone takes ?access_token=. */
        {"GET", "/api/monitoring/events/stream", api_mon_events_stream, ctx,
         .role = HTTP_ROLE_VIEWER, .query_token = true},
        {"GET", "/api/monitoring/state-machine", api_mon_state_machine, ctx,
         .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/monitoring/annotations", api_mon_annotate, ctx, .role = HTTP_ROLE_EDITOR},
        /* Alerting: Prometheus's lists, then breakwatch's management (docs/api.md). */
        {"GET", "/api/v1/rules", api_prom_rules, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/v1/alerts", api_prom_alerts, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/alerts", api_alerts_list, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/alerts/history", api_alerts_history, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/alerts/receivers", api_alerts_receivers, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/alerts/receivers/{name}/test", api_alerts_receiver_test, ctx,
         .role = HTTP_ROLE_EDITOR},
        {"POST", "/api/alerts/{fingerprint}/ack", api_alerts_ack, ctx, .role = HTTP_ROLE_EDITOR},
        {"DELETE", "/api/alerts/{fingerprint}/ack", api_alerts_unack, ctx,
         .role = HTTP_ROLE_EDITOR},
        {"GET", "/api/silences", api_silences_list, ctx, .role = HTTP_ROLE_VIEWER},
        {"POST", "/api/silences", api_silences_create, ctx, .role = HTTP_ROLE_EDITOR},
        {"DELETE", "/api/silences/{id}", api_silences_expire, ctx, .role = HTTP_ROLE_EDITOR},
        {"POST", "/api/rules/reload", api_rules_reload, ctx, .role = HTTP_ROLE_EDITOR},
        {"GET", "/api/dashboards", api_dashboards_list, ctx, .role = HTTP_ROLE_VIEWER},
        {"GET", "/api/dashboards/{uid}", api_dashboards_get, ctx, .role = HTTP_ROLE_VIEWER},
        /* Maintainers (docs/api.md, Admin). */
        {"GET", "/api/admin/engine", api_admin_engine, ctx, .role = HTTP_ROLE_ADMIN},
        {"POST", "/api/admin/engine/halt", api_admin_engine_halt, ctx, .role = HTTP_ROLE_ADMIN},
        {"POST", "/api/admin/engine/resume", api_admin_engine_resume, ctx, .role = HTTP_ROLE_ADMIN},
        {"GET", "/api/admin/tokens", api_admin_tokens, ctx, .role = HTTP_ROLE_ADMIN},
    };
    _Static_assert(BW_ARRAY_LEN(routes) <= API_MAX_ROUTES, "raise API_MAX_ROUTES");
    for (size_t i = 0; i < BW_ARRAY_LEN(routes); i++)
        ctx->routes[i] = routes[i];
    return BW_ARRAY_LEN(routes);
}
