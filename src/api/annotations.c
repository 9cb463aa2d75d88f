/* annotations: POST /api/monitoring/annotations — an editor's note on a session ("raised the
 * volume filter", "exchange maintenance"), given as a JSON object {"text":…,"session":…,
 * "symbol":…} or as form fields of the same names.
 *
 * The design decision: a note is a journal event of type "annotation" rather than a table of
 * its own, so it is stored, paged, filtered and streamed (/events, /events/stream) exactly as
 * the engine's events are, in id order among them, with no second path to keep in step. Its
 * simulated time is the session's "now": the engine's clock for the session it runs, else the
 * time of the session's latest event. The answer waits until the event is committed, so a
 * read that follows a 201 finds it. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "engine/engine.h"
#include "journal/journal.h"

#define TEXT_MAX   500 /* bytes of a note, after trimming */
#define SYMBOL_MAX 64

/* What a note says, copied out of the request. */
struct note {
    char text[TEXT_MAX + 1];
    char symbol[SYMBOL_MAX + 1]; /* "": none */
    char session[JOURNAL_ID_LEN];
};

/* Reads the request into *n: false with the 400 (or the 404 of an unknown session) answered. */
static bool note_read(struct api_ctx *ctx, const struct http_request *req,
                      struct http_response *res, struct note *n)
{
    const char *text, *symbol, *session;
    cJSON *obj = NULL;
    bool ok = false;
    if (!api_body_object(req, res, &obj))
        goto out;
    if (!api_body_string(obj, req, "text", &text, res) ||
        !api_body_string(obj, req, "symbol", &symbol, res) ||
        !api_body_string(obj, req, "session", &session, res))
        goto out;
    if (!text) { /* curl -d '{…}' sends JSON as a form unless told otherwise */
        http_response_error(res, 400, "bad_data", "invalid parameter \"text\": missing%s",
                            obj ? "" : " (a JSON body needs \"Content-Type: application/json\")");
        goto out;
    }
    if (!api_text_param("text", text, TEXT_MAX, true, n->text, res) ||
        !api_text_param("symbol", symbol, SYMBOL_MAX, false, n->symbol, res))
        goto out;
    /* No session: the newest, the one the engine runs while it runs. */
    if (!api_mon_session_resolve(ctx, "session", session && *session ? session : API_MON_CURRENT,
                                 n->session, res))
        goto out;
    ok = true;
out:
    cJSON_Delete(obj);
    return ok;
}

/* The simulated time of session id now: the engine's while it runs it, else that of the
 * session's latest event, else the wall clock. */
static int64_t session_now(struct api_ctx *ctx, const char *id)
{
    if (ctx->engine) {
        struct engine_stats st;
        engine_stats_get(ctx->engine, &st);
        if (strcmp(st.session_id, id) == 0 && strcmp(st.run_status, "running") == 0)
            return st.sim_time_ms;
    }
    struct journal_event_filter f = {.session_id = id};
    struct journal_event_page page = {.newest_first = 1, .limit = 1};
    struct journal_event_list l;
    int64_t t = clock_real_ns() / 1000000;
    if (journal_events_query(ctx->journal, &f, &page, &l) == BW_OK && l.n)
        t = l.items[0].ts_ms;
    journal_event_list_free(&l);
    return t;
}

void api_mon_annotate(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct note n = {0};
    struct api_json w;
    if (!api_mon_journal(ctx, res) || !note_read(ctx, req, res, &n))
        return;
    buf_reset(res->scratch);
    api_json_init(&w, res->scratch);
    api_json_object(&w);
    api_json_member_string(&w, "author", http_request_principal(req, NULL));
    api_json_object_end(&w);
    int rc = api_json_end(&w);
    struct journal_event ev = {.ts_ms = session_now(ctx, n.session),
                               .session_id = n.session,
                               .type = "annotation",
                               .severity = SEV_INFO,
                               .symbol = n.symbol[0] ? n.symbol : NULL,
                               .message = n.text,
                               .data_json = res->scratch->data};
    int64_t id = rc == BW_OK ? journal_event(ctx->journal, &ev) : rc;
    if (id < 0) {
        if (id == BW_EBUSY)
            http_response_error(res, 503, "unavailable",
                                "the journal is not keeping up: try again later");
        else
            http_response_error(res, 500, "internal", "recording the note: %s",
                                bw_strerror((int)id));
        return;
    }
    rc = journal_flush(ctx->journal);
    if (rc != BW_OK) /* queued all the same: the writer retries, and the note will show */
        log_warn("annotations: event %" PRId64 " is not committed yet: %s", id, bw_strerror(rc));
    res->status = 201;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_int(&w, "id", id);
    api_json_object_end(&w);
    api_json_end(&w);
}
