/* admin: the maintainers' endpoints under /api/admin, which need the admin role — the
 * operator's halt of the engine (the kill switch), its resume, the engine's halt status, and
 * the list of who holds a token.
 *
 * POST /api/admin/engine/halt queues the request with engine_halt and waits at most
 * ADMIN_WAIT_MS for the engine's next cycle to apply it: 200 with the engine's new status
 * when it did (the usual case: a cycle takes milliseconds of wall time), 202 with the status
 * so far ("pending": true) when it did not, the request staying queued. The design decision:
 * the handler never takes the engine's loop lock for longer than a copy, and the engine's
 * thread alone changes the book, so a halt flattens exactly as the daily loss limit does.
 * The audit trail records every request here (the HTTP layer's hook; audit.c). The token
 * list names and roles only: the hashes never leave the server. */
#include <cjson/cJSON.h>
#include <string.h>

#include "api/api.h"
#include "engine/engine.h"

#define ADMIN_WAIT_MS 1000 /* how long a halt or resume waits for the engine's cycle */

/* The engine is there (else 503). */
static bool have_engine(const struct api_ctx *ctx, struct http_response *res)
{
    if (ctx->engine)
        return true;
    http_response_error(res, 503, "unavailable", "no engine runs here (run --no-engine)");
    return false;
}

/* {"run":…,"state":…,"halted_by":…,"reason":…,"by":…,"halted_at_ms":…,"since_sim_ms":…,
 * "pending":…} */
static void engine_status(struct api_ctx *ctx, struct http_response *res)
{
    struct engine_stats st;
    struct api_json w;
    engine_stats_get(ctx->engine, &st);
    int op = st.halted_by == ENGINE_HALT_OPERATOR;
    const char *reason = op && st.halt_reason[0] ? st.halt_reason
                         : st.halted_by == ENGINE_HALT_LOSS_LIMIT
                             ? "daily loss limit reached; lifts at the next UTC day"
                             : NULL;
    buf_reset(res->body);
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_string(&w, "run", st.run_status);
    api_json_member_string(&w, "state", engine_state_name(st.state));
    api_json_member_string(&w, "halted_by", engine_halt_by_name(st.halted_by));
    api_json_member_string(&w, "reason", reason);
    api_json_member_string(&w, "by", op && st.halt_who[0] ? st.halt_who : NULL);
    api_json_key(&w, "halted_at_ms");
    if (op)
        api_json_int(&w, st.halt_asked_ms);
    else
        api_json_null(&w);
    api_json_member_int(&w, "since_sim_ms", st.state_since_ms);
    api_json_member_bool(&w, "pending", st.control_pending);
    api_json_object_end(&w);
    if (api_json_end(&w) != BW_OK)
        http_response_error(res, 500, "internal", "writing the engine's status failed");
}

void api_admin_engine(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    (void)req;
    if (have_engine(ctx, res))
        engine_status(ctx, res);
}

/* The optional reason of a halt: the JSON body's member "reason" (a string or null) or the
 * form's parameter. false with the 400 answered when it is not a string, longer than
 * ENGINE_HALT_REASON_MAX bytes or not UTF-8. */
static bool halt_reason(const struct http_request *req, struct http_response *res,
                        char out[ENGINE_HALT_REASON_MAX + 1])
{
    cJSON *obj = NULL;
    const char *s = NULL;
    bool ok = false;
    if (!api_body_object(req, res, &obj) || !api_body_string(obj, req, "reason", &s, res))
        goto out;
    ok = api_text_param("reason", s, ENGINE_HALT_REASON_MAX, false, out, res);
out:
    cJSON_Delete(obj);
    return ok;
}

/* Answers a queued request: 200 once applied, 202 while still queued; or the 409 of rc. */
static void control_answer(struct api_ctx *ctx, int rc, uint64_t seq, const struct diag *d,
                           struct http_response *res)
{
    if (rc == BW_EBUSY) {
        http_response_error(res, 409, "conflict", "%s", d->msg);
        return;
    }
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "%s", d->msg[0] ? d->msg : bw_strerror(rc));
        return;
    }
    int applied = engine_control_wait(ctx->engine, seq, ADMIN_WAIT_MS);
    engine_status(ctx, res);
    if (res->status == 200 && !applied)
        res->status = 202;
}

void api_admin_engine_halt(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    char reason[ENGINE_HALT_REASON_MAX + 1];
    struct diag d = {0};
    uint64_t seq = 0;
    if (!have_engine(ctx, res) || !halt_reason(req, res, reason))
        return;
    int rc = engine_halt(ctx->engine, reason, http_request_principal(req, NULL), &seq, &d);
    control_answer(ctx, rc, seq, &d, res);
}

void api_admin_engine_resume(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct diag d = {0};
    uint64_t seq = 0;
    if (!have_engine(ctx, res))
        return;
    int rc = engine_resume(ctx->engine, http_request_principal(req, NULL), &seq, &d);
    control_answer(ctx, rc, seq, &d, res);
}

void api_admin_tokens(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct api_json w;
    bool auth = http_request_principal(req, NULL) != NULL;
    if (auth && ctx->ntokens == 0) { /* a token let this request in: the list was not wired */
        http_response_error(res, 503, "unavailable", "the token list is not available");
        return;
    }
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_bool(&w, "auth", auth);
    api_json_key(&w, "tokens");
    api_json_array(&w);
    for (size_t i = 0; i < ctx->ntokens; i++) {
        api_json_object(&w);
        api_json_member_string(&w, "name", ctx->tokens[i].name);
        api_json_member_string(&w, "role", http_role_name(ctx->tokens[i].role));
        api_json_object_end(&w);
    }
    api_json_array_end(&w);
    api_json_object_end(&w);
    if (api_json_end(&w) != BW_OK)
        http_response_error(res, 500, "internal", "writing the token list failed");
}
