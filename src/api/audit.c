/* audit: the audit trail — one "audit" event in the journal for every request to a route that
 * changes state (the routes that need the editor role or more: annotate, acknowledge,
 * silence, reload rules, test a receiver, halt or resume the engine; the admin's reads too),
 * whether it was done or refused: who (the token's name and role), what (method, path,
 * status) and when (wall clock).
 *
 * The events go where every other event goes, so the page's feed, /api/monitoring/events
 * (?type=audit) and the stream show them and they live as long as the journal. Design
 * decision: the trail is written by the HTTP layer's hook after the answer, not by each
 * handler, so no endpoint can forget it and refusals (401, 403) are recorded too; bodies are
 * never recorded, since they may hold secrets. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"

void api_audit(void *ud, const struct http_request *req, int status)
{
    const struct api_ctx *ctx = ud;
    if (!ctx->journal)
        return;
    enum http_role role;
    const char *who = http_request_principal(req, &role);
    const char *method = http_request_method(req);
    const char *path = http_request_path(req);
    char at[32], message[512];
    fmt_rfc3339(at, clock_real_ns() / 1000000, 3);
    struct buf data;
    buf_init(&data, 4096);
    struct api_json w;
    api_json_init(&w, &data);
    api_json_object(&w);
    api_json_member_string(&w, "who", who);
    api_json_member_string(&w, "role", who ? http_role_name(role) : NULL);
    api_json_member_string(&w, "method", method);
    api_json_member_string(&w, "path", path);
    api_json_member_int(&w, "status", status);
    api_json_member_string(&w, "at", at);
    api_json_object_end(&w);
    snprintf(message, sizeof(message), "%s %s %.400s: %d", who ? who : "anonymous", method, path,
             status);
    const struct journal_event ev = {
        .ts_ms = JOURNAL_SESSION_NOW,
        .type = "audit",
        .severity = status == 401 || status == 403 ? SEV_WARNING : SEV_INFO,
        .message = message,
        .data_json = api_json_end(&w) == BW_OK ? data.data : NULL,
    };
    if (journal_event(ctx->journal, &ev) < 0)
        log_warn("audit: not recorded: %s", message);
    buf_fini(&data);
}
