/* health: GET /api/health — liveness and readiness for load balancers, Docker health checks
 * and people. Ready (200) means the journal and the history are open and the engine is running
 * (or, with run --no-engine, that there is no engine by choice); otherwise 503, with the
 * engine's run status ("starting", or how its run ended: "completed" after a replay or a set
 * duration, "stopped", "failed"). The body says what the engine is doing, and whether the
 * journal's and the history's writes to the database succeed: while they fail (a full disk)
 * breakwatch still serves and keeps the data in memory, so it stays ready, "degraded", with
 * "journal" or "history" saying "failing: " and why. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "engine/engine.h"
#include "tsdb/tsdb.h"

static void add_engine(cJSON *root, const struct engine_stats *st)
{
    cJSON *eng = cJSON_AddObjectToObject(root, "engine");
    char when[32];
    fmt_rfc3339(when, st->sim_time_ms, 0);
    cJSON_AddStringToObject(eng, "run", st->run_status);
    cJSON_AddStringToObject(eng, "state", engine_state_name(st->state));
    cJSON_AddStringToObject(eng, "session_id", st->session_id);
    cJSON_AddStringToObject(eng, "sim_time", when);
    cJSON_AddNumberToObject(eng, "cycles", (double)st->cycles);
    cJSON_AddNumberToObject(eng, "signals", (double)st->signals);
    cJSON_AddNumberToObject(eng, "trades", (double)st->trades);
}

void api_health(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct engine_stats st;
    if (ctx->engine)
        engine_stats_get(ctx->engine, &st);
    int open = ctx->journal && ctx->tsdb;
    int ready = open && (!ctx->engine || strcmp(st.run_status, "running") == 0);
    char jerr[512] = "failing: ", herr[512] = "failing: ";
    size_t pre = strlen(jerr);
    int jfail = ctx->journal && journal_error(ctx->journal, jerr + pre, sizeof(jerr) - pre);
    int hfail = ctx->tsdb && tsdb_error(ctx->tsdb, herr + pre, sizeof(herr) - pre);
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    cJSON_AddStringToObject(root, "status",
                            ready && (jfail || hfail) ? "degraded"
                            : ready                   ? "ok"
                            : open && ctx->engine     ? st.run_status
                                                      : "starting");
    cJSON_AddBoolToObject(root, "ready", ready);
    cJSON_AddStringToObject(root, "version", BW_VERSION);
    cJSON_AddNumberToObject(root, "uptime_seconds",
                            (double)(clock_mono_ns() - ctx->started_ns) / 1e9);
    cJSON_AddStringToObject(root, "journal", jfail ? jerr : ctx->journal ? "ok" : "unavailable");
    cJSON_AddStringToObject(root, "history", hfail ? herr : ctx->tsdb ? "ok" : "unavailable");
    cJSON_AddStringToObject(root, "mode", ctx->engine ? "engine" : "history only");
    if (ctx->engine)
        add_engine(root, &st);
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    buf_puts(res->body, text);
    free(text);
    res->status = ready ? 200 : 503;
}
