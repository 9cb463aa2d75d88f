/* Tests for src/api/monitoring.c, events.c and json.c: the /api/monitoring endpoints over a
 * real loopback socket, against a journal holding a session written by hand so that every
 * figure is known — the state timeline and the state machine counted from its events, the
 * process flow's counts, conversions and latencies, the progress and the latest trade — and
 * a running session beside it. Also the event list's filters and cursor paging (pages that
 * never overlap), every parameter error with the parameter named, unknown sessions, stored
 * JSON that is not an object, /realtime without the engine over a small history, and the
 * event stream: a resume sends exactly the events after the given id, then the live ones.
 * Then checkpoint pages, editors' notes (POST /annotations: JSON and form bodies, what is
 * refused, authors with tokens, the stream), and the trade books kept between requests. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "api/api.h"
#include "http_test.h"
#include "journal/journal.h"
#include "store/store.h"
#include "tmpdir.h"
#include "tsdb/tsdb.h"

/* ---- the JSON writer ---- */

static void test_json_writer(void **state)
{
    struct buf b;
    struct api_json w;
    buf_init(&b, 0);
    api_json_init(&w, &b);
    api_json_object(&w);
    api_json_key(&w, "a");
    api_json_array(&w);
    api_json_number(&w, 1.5);
    api_json_number(&w, NAN);
    api_json_number(&w, INFINITY);
    api_json_number(&w, 28311552);
    api_json_int(&w, -7);
    api_json_uint(&w, 18446744073709551615u);
    api_json_array_end(&w);
    api_json_key(&w, "s");
    api_json_string(&w, "q\"<\n");
    api_json_key(&w, "n");
    api_json_string(&w, NULL);
    api_json_key(&w, "o");
    api_json_raw_object(&w, "{\"x\": [1, 2]}");
    api_json_key(&w, "lines");
    api_json_raw_object(&w, "{\n  \"x\": 1\n}");
    api_json_key(&w, "bad");
    api_json_raw_object(&w, "{\"x\":");
    api_json_key(&w, "array");
    api_json_raw_object(&w, "[1]");
    api_json_key(&w, "e");
    api_json_object(&w);
    api_json_object_end(&w);
    api_json_key(&w, "b");
    api_json_bool(&w, false);
    api_json_object_end(&w);
    assert_int_equal(api_json_end(&w), BW_OK);
    assert_string_equal(b.data, "{\"a\":[1.5,null,null,28311552,-7,18446744073709551615],"
                                "\"s\":\"q\\\"\\u003c\\n\",\"n\":null,\"o\":{\"x\": [1, 2]},"
                                "\"lines\":{\"x\":1},\"bad\":null,\"array\":null,\"e\":{},"
                                "\"b\":false}");
    /* An open container is an error; so is a buffer that is too small, which sticks. */
    buf_reset(&b);
    api_json_init(&w, &b);
    api_json_array(&w);
    assert_int_equal(api_json_end(&w), BW_EINVAL);
    buf_fini(&b);
    buf_init(&b, 8);
    api_json_init(&w, &b);
    api_json_array(&w);
    api_json_string(&w, "longer than eight");
    api_json_int(&w, 1);
    api_json_array_end(&w);
    assert_int_equal(api_json_end(&w), BW_ENOSPC);
    buf_fini(&b);
}

/* ---- the endpoints ---- */

static char dir[64];
static struct store *st;
static struct journal *jr;
static struct tsdb *db;
static struct api_ctx ctx;
static struct http_server *srv;
static int port;
static char done_id[JOURNAL_ID_LEN], live_id[JOURNAL_ID_LEN];
static int64_t now_s; /* the history's last sample, in s */

#define T0 1000000 /* the finished session's simulated start, ms */

static void ev(const char *session, int64_t ts, const char *type, enum severity sev,
               const char *symbol, const char *corr, const char *data)
{
    struct journal_event e = {.ts_ms = ts,
                              .session_id = session,
                              .type = type,
                              .severity = sev,
                              .symbol = symbol,
                              .correlation_id = corr,
                              .message = type,
                              .data_json = data};
    assert_true(journal_event(jr, &e) > 0);
}

static void change(const char *session, int64_t ts, const char *from, const char *to, double dwell)
{
    char data[128];
    snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"%s\",\"dwell_seconds\":%.3f}", from, to,
             dwell);
    ev(session, ts, "state_change", strcmp(to, "halted") == 0 ? SEV_WARNING : SEV_INFO, NULL, NULL,
       data);
}

static void cp(const char *name, const char *corr, const char *symbol, int64_t ts,
               const char *detail)
{
    assert_int_equal(journal_checkpoint(jr, name, corr, symbol, ts, detail), BW_OK);
}

/* The finished session: a trade closed (t1), one abandoned (t2), one open (t3), and an
 * unexpected transition scanning → managing at the end, then managing → halted. */
static void write_done_session(void)
{
    assert_int_equal(journal_session_begin(
                         jr, "paper", "{\"start_ms\":1000000,\"duration_ms\":600000}", done_id),
                     BW_OK);
    const char *s = done_id;
    cp("session_started", NULL, NULL, T0, NULL);
    change(s, T0, "idle", "scanning", 0);
    cp("first_scan", NULL, NULL, T0 + 60000, NULL);
    ev(s, T0 + 60000, "signal", SEV_INFO, "BTCUSDT", "t1", "{\"side\":\"long\"}");
    cp("signal", "t1", "BTCUSDT", T0 + 60000, "{\"side\":\"long\"}");
    cp("first_signal", NULL, NULL, T0 + 60000, NULL);
    change(s, T0 + 60000, "scanning", "signal_wait", 60);
    cp("confirmed", "t1", "BTCUSDT", T0 + 120000, NULL);
    ev(s, T0 + 120000, "order", SEV_INFO, "BTCUSDT", "t1", "not json");
    cp("order_submitted", "t1", "BTCUSDT", T0 + 120000, "{\"order_id\":1}");
    ev(s, T0 + 121000, "fill", SEV_INFO, "BTCUSDT", "t1", "{\"price\":\n 97000.5}");
    cp("filled", "t1", "BTCUSDT", T0 + 121000, "{\"latency_ms\":150}");
    change(s, T0 + 121000, "signal_wait", "managing", 61);
    ev(s, T0 + 200000, "signal", SEV_INFO, "ETHUSDT", "t2", NULL);
    cp("signal", "t2", "ETHUSDT", T0 + 200000, NULL);
    cp("abandoned", "t2", "ETHUSDT", T0 + 260000, "{\"reason\":\"closed back inside\"}");
    ev(s, T0 + 300000, "close", SEV_WARNING, "BTCUSDT", "t1", "{\"pnl\":-3}");
    cp("closed", "t1", "BTCUSDT", T0 + 300000, NULL);
    change(s, T0 + 300000, "managing", "scanning", 179);
    cp("signal", "t3", "SOLUSDT", T0 + 350000, NULL);
    cp("confirmed", "t3", "SOLUSDT", T0 + 410000, NULL);
    cp("order_submitted", "t3", "SOLUSDT", T0 + 410000, NULL);
    cp("filled", "t3", "SOLUSDT", T0 + 411000, NULL); /* no latency: the checkpoints' gap */
    change(s, T0 + 400000, "scanning", "managing", 100);
    change(s, T0 + 400000, "managing", "halted", 0);
    ev(s, T0 + 400000, "risk", SEV_CRITICAL, NULL, NULL, "{\"daily_pnl\":-400}");
    cp("session_ended", NULL, NULL, T0 + 600000, NULL);
    assert_int_equal(
        journal_session_end(jr, done_id, "completed",
                            "{\"sim_start_ms\":1000000,\"sim_end_ms\":1600000,\"scans\":10,"
                            "\"messages\":1000,\"message_seconds\":0.002,\"scan_seconds\":0.0005,"
                            "\"state\":\"halted\"}"),
        BW_OK);
}

static void write_live_session(void)
{
    assert_int_equal(journal_session_begin(jr, "replay", NULL, live_id), BW_OK);
    change(live_id, 5000, "idle", "scanning", 5);
    ev(live_id, 6000, "error", SEV_ERROR, NULL, NULL, NULL);
}

/* A small history: process_cpu_usage is the sample's time in s, every second, from 90 s ago
 * to a minute ahead, so that whenever the test asks the latest value is the current second. */
static void write_history(void)
{
    struct diag d = {0};
    struct label l[1] = {{LABEL_NAME, "process_cpu_usage"}};
    struct labelset ls = {l, 1};
    now_s = clock_real_ns() / 1000000000;
    for (int64_t t = now_s - 90; t <= now_s + 60; t++) {
        uint64_t ref = 0;
        assert_int_equal(tsdb_append(db, &ls, t * 1000, (double)t, &ref), BW_OK);
    }
    assert_int_equal(tsdb_commit(db, &d), BW_OK);
}

static int setup(void **state)
{
    struct diag d = {0};
    snprintf(dir, sizeof(dir), "/tmp/bw-test-mon-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(store_open(dir, &st, &d), BW_OK);
    assert_int_equal(journal_open(st, &jr, &d), BW_OK);
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    ctx =
        (struct api_ctx){.journal = jr, .tsdb = db, .scrape_interval_ms = 1000, .stream_ring = 64};
    assert_int_equal(api_init(&ctx), BW_OK);
    write_done_session();
    write_live_session();
    assert_int_equal(journal_flush(jr), BW_OK);
    write_history();
    srv = test_http_start(
        (struct http_config){.routes = ctx.routes, .nroutes = api_routes_init(&ctx)});
    port = http_server_port(srv);
    return 0;
}

static int teardown(void **state)
{
    http_server_free(srv);
    api_fini(&ctx);
    journal_close(jr);
    store_close(st);
    tsdb_close(db);
    char *path = strdup(dir);
    return tmpdir_teardown((void **)&path);
}

static int status;
static char resp[1 << 20];

/* GETs target; returns the body, status holds the status code. */
static const char *get(const char *target)
{
    return test_http_request(port, "GET", target, NULL, NULL, resp, sizeof(resp), &status);
}

/* The JSON answer body to a request for target, which must have status `want`; the caller
 * cJSON_Deletes it. */
static cJSON *answer_json(const char *target, const char *body, int want)
{
    if (status != want)
        fail_msg("%s: status %d, want %d: %s", target, status, want, body);
    cJSON *j = cJSON_Parse(body);
    if (!j)
        fail_msg("%s: not JSON: %s", target, body);
    return j;
}

/* GETs target, expecting a JSON answer with status `want`; the caller cJSON_Deletes it. */
static cJSON *get_json(const char *target, int want)
{
    return answer_json(target, get(target), want);
}

static const cJSON *at(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        fail_msg("no \"%s\"", key);
    return v;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = at(o, key);
    if (!cJSON_IsNumber(v))
        fail_msg("\"%s\" is not a number", key);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = at(o, key);
    return cJSON_IsNull(v) ? NULL : cJSON_GetStringValue(v);
}

static bool is_null(const cJSON *o, const char *key)
{
    return cJSON_IsNull(at(o, key));
}

/* Asserts that target answers 400 (or want) naming the parameter, with errorType type. */
static void bad(const char *target, int want, const char *type, const char *msg)
{
    cJSON *j = get_json(target, want);
    assert_string_equal(str(j, "status"), "error");
    assert_string_equal(str(j, "errorType"), type);
    if (strcmp(str(j, "error"), msg) != 0)
        fail_msg("%s: \"%s\", want \"%s\"", target, str(j, "error"), msg);
    cJSON_Delete(j);
}

/* Asserts that the parameter limit of target (which ends in '?' or '&') takes an integer from
 * 1 to max and nothing else, with a 400 naming it. */
static void bad_limits(const char *target, int max)
{
    char t[256], msg[128], over[16];
    snprintf(msg, sizeof(msg), "invalid parameter \"limit\": must be an integer from 1 to %d", max);
    snprintf(over, sizeof(over), "%d", max + 1);
    const char *const values[] = {"0", over, "ten", "-1"};
    for (size_t i = 0; i < BW_ARRAY_LEN(values); i++) {
        snprintf(t, sizeof(t), "%slimit=%s", target, values[i]);
        bad(t, 400, "bad_data", msg);
    }
}

static void test_sessions(void **state)
{
    cJSON *j = get_json("/api/monitoring/sessions", 200);
    const cJSON *s = at(j, "sessions");
    assert_int_equal(cJSON_GetArraySize(s), 2);
    const cJSON *live = cJSON_GetArrayItem(s, 0), *done = cJSON_GetArrayItem(s, 1);
    assert_string_equal(str(live, "id"), live_id);
    assert_string_equal(str(live, "status"), "running");
    assert_true(cJSON_IsTrue(at(live, "active")));
    assert_true(is_null(live, "ended_ms") && is_null(live, "config") && is_null(live, "summary"));
    assert_string_equal(str(live, "mode"), "replay");
    assert_string_equal(str(done, "id"), done_id);
    assert_string_equal(str(done, "status"), "completed");
    assert_true(cJSON_IsFalse(at(done, "active")));
    assert_true(num(done, "ended_ms") >= num(done, "started_ms"));
    assert_true(num(at(done, "config"), "duration_ms") == 600000);
    assert_true(num(at(done, "summary"), "scans") == 10);
    cJSON_Delete(j);

    j = get_json("/api/monitoring/sessions?active=true", 200);
    assert_int_equal(cJSON_GetArraySize(at(j, "sessions")), 1);
    assert_string_equal(str(cJSON_GetArrayItem(at(j, "sessions"), 0), "id"), live_id);
    cJSON_Delete(j);
    j = get_json("/api/monitoring/sessions?limit=1&active=false", 200);
    assert_int_equal(cJSON_GetArraySize(at(j, "sessions")), 1);
    cJSON_Delete(j);

    bad("/api/monitoring/sessions?active=yes", 400, "bad_data",
        "invalid parameter \"active\": must be true or false");
    bad_limits("/api/monitoring/sessions?", 1000);
    bad("/api/monitoring/sessions/nope", 404, "not_found", "no session \"nope\"");
    bad("/api/monitoring/sessions/nope/checkpoints", 404, "not_found", "no session \"nope\"");
}

static void expect_stay(const cJSON *tl, int i, const char *state_name, int64_t from, int64_t to)
{
    const cJSON *s = cJSON_GetArrayItem(tl, i);
    assert_non_null(s);
    assert_string_equal(str(s, "state"), state_name);
    assert_int_equal((int64_t)num(s, "sim_from_ms"), from);
    if (to == INT64_MIN)
        assert_true(is_null(s, "sim_to_ms"));
    else
        assert_int_equal((int64_t)num(s, "sim_to_ms"), to);
}

static void expect_stage(const cJSON *stages, int i, const char *name, double count,
                         double conversion, double latency)
{
    const cJSON *s = cJSON_GetArrayItem(stages, i);
    assert_string_equal(str(s, "stage"), name);
    assert_float_equal(num(s, "count"), count, 1e-9);
    if (isnan(conversion))
        assert_true(is_null(s, "conversion"));
    else
        assert_float_equal(num(s, "conversion"), conversion, 1e-9);
    if (isnan(latency))
        assert_true(is_null(s, "latency_ms"));
    else
        assert_float_equal(num(s, "latency_ms"), latency, 1e-9);
}

static void test_session_detail(void **state)
{
    char target[128];
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s", done_id);
    cJSON *j = get_json(target, 200);
    assert_string_equal(str(at(j, "session"), "id"), done_id);

    const cJSON *tl = at(j, "state_timeline");
    assert_int_equal(cJSON_GetArraySize(tl), 7);
    expect_stay(tl, 0, "idle", T0, T0);
    expect_stay(tl, 1, "scanning", T0, T0 + 60000);
    expect_stay(tl, 2, "signal_wait", T0 + 60000, T0 + 121000);
    expect_stay(tl, 3, "managing", T0 + 121000, T0 + 300000);
    expect_stay(tl, 4, "scanning", T0 + 300000, T0 + 400000);
    expect_stay(tl, 5, "managing", T0 + 400000, T0 + 400000);
    expect_stay(tl, 6, "halted", T0 + 400000, T0 + 600000); /* ends with the session */

    const cJSON *stages = at(at(j, "process_flow"), "stages");
    assert_int_equal(cJSON_GetArraySize(stages), 8);
    expect_stage(stages, 0, "feed", 1000, NAN, 0.002);
    expect_stage(stages, 1, "scan", 10, 0.01, 0.05);
    expect_stage(stages, 2, "signal", 3, 0.3, NAN);
    expect_stage(stages, 3, "confirm", 2, 2.0 / 3, 60000);
    expect_stage(stages, 4, "risk", 2, 1, 0);
    expect_stage(stages, 5, "execute", 2, 1, (150 + 1000) / 2.0); /* the fill's, else the gap */
    expect_stage(stages, 6, "manage", 2, 1, NAN);
    expect_stage(stages, 7, "close", 1, 0.5, 179000);

    const cJSON *ps = at(at(j, "progress"), "session");
    assert_int_equal((int64_t)num(ps, "sim_start_ms"), T0);
    assert_int_equal((int64_t)num(ps, "sim_now_ms"), T0 + 600000);
    assert_int_equal((int64_t)num(ps, "sim_end_ms"), T0 + 600000);
    assert_float_equal(num(ps, "fraction"), 1, 1e-12);
    static const char *const ms[] = {"session_started", "first_scan", "first_signal",
                                     "first_order",     "first_fill", "first_trade_closed",
                                     "session_ended"};
    static const int64_t when[] = {T0, T0 + 60000, T0 + 60000, -1, -1, -1, T0 + 600000};
    const cJSON *m = at(ps, "milestones");
    assert_int_equal(cJSON_GetArraySize(m), 7);
    for (int i = 0; i < 7; i++) {
        const cJSON *x = cJSON_GetArrayItem(m, i);
        assert_string_equal(str(x, "name"), ms[i]);
        if (when[i] < 0)
            assert_true(is_null(x, "sim_ms"));
        else
            assert_int_equal((int64_t)num(x, "sim_ms"), when[i]);
    }
    const cJSON *tr = at(at(j, "progress"), "trade");
    assert_string_equal(str(tr, "correlation_id"), "t3");
    assert_string_equal(str(tr, "symbol"), "SOLUSDT");
    assert_string_equal(str(tr, "stage"), "manage");
    const cJSON *steps = at(tr, "steps");
    assert_int_equal(cJSON_GetArraySize(steps), 5);
    assert_string_equal(str(cJSON_GetArrayItem(steps, 3), "name"), "filled");
    assert_int_equal((int64_t)num(cJSON_GetArrayItem(steps, 3), "sim_ms"), T0 + 411000);
    assert_true(is_null(cJSON_GetArrayItem(steps, 4), "sim_ms"));
    cJSON_Delete(j);

    /* The running session: no summary (feed and scan unknown), the last stay open. */
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s", live_id);
    j = get_json(target, 200);
    tl = at(j, "state_timeline");
    assert_int_equal(cJSON_GetArraySize(tl), 2);
    expect_stay(tl, 0, "idle", 0, 5000);
    expect_stay(tl, 1, "scanning", 5000, INT64_MIN);
    stages = at(at(j, "process_flow"), "stages");
    const cJSON *feed = cJSON_GetArrayItem(stages, 0);
    assert_true(is_null(feed, "count") && is_null(feed, "latency_ms"));
    expect_stage(stages, 2, "signal", 0, NAN, NAN);
    expect_stage(stages, 3, "confirm", 0, NAN, NAN);
    assert_true(is_null(at(j, "progress"), "trade"));
    assert_true(is_null(at(at(j, "progress"), "session"), "fraction"));
    cJSON_Delete(j);

    /* "current" is the newest session, here the running one, wherever a session is named. */
    j = get_json("/api/monitoring/sessions/current", 200);
    assert_string_equal(str(at(j, "session"), "id"), live_id);
    assert_int_equal(cJSON_GetArraySize(at(j, "state_timeline")), 2);
    cJSON_Delete(j);
    j = get_json("/api/monitoring/state-machine?session=current", 200);
    assert_string_equal(str(j, "session_id"), live_id);
    cJSON_Delete(j);
    j = get_json("/api/monitoring/events?session=current&limit=1000", 200);
    const cJSON *evs = at(j, "events");
    assert_true(cJSON_GetArraySize(evs) > 0);
    for (int i = 0; i < cJSON_GetArraySize(evs); i++)
        assert_string_equal(str(cJSON_GetArrayItem(evs, i), "session_id"), live_id);
    cJSON_Delete(j);
}

static void test_checkpoints(void **state)
{
    char target[256];
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s/checkpoints", done_id);
    cJSON *j = get_json(target, 200);
    const cJSON *c = at(j, "checkpoints");
    assert_int_equal(cJSON_GetArraySize(c), 15);
    double last = 0;
    for (int i = 0; i < 15; i++) { /* oldest first */
        assert_true(num(cJSON_GetArrayItem(c, i), "id") > last);
        last = num(cJSON_GetArrayItem(c, i), "id");
    }
    const cJSON *sig = cJSON_GetArrayItem(c, 2);
    assert_string_equal(str(sig, "name"), "signal");
    assert_string_equal(str(sig, "correlation_id"), "t1");
    assert_string_equal(str(sig, "symbol"), "BTCUSDT");
    assert_int_equal((int64_t)num(sig, "sim_ms"), T0 + 60000);
    assert_string_equal(str(at(sig, "detail"), "side"), "long");
    assert_true(is_null(cJSON_GetArrayItem(c, 0), "detail"));
    assert_true(is_null(j, "next"));
    int64_t all[15], after = 0, next;
    for (int i = 0; i < 15; i++)
        all[i] = (int64_t)num(cJSON_GetArrayItem(c, i), "id");
    cJSON_Delete(j);

    /* Pages of 4 after a cursor: together exactly the whole list, never overlapping. */
    int seen = 0;
    do {
        snprintf(target, sizeof(target),
                 "/api/monitoring/sessions/%s/checkpoints?limit=4&after=%lld", done_id,
                 (long long)after);
        j = get_json(target, 200);
        c = at(j, "checkpoints");
        int k = cJSON_GetArraySize(c);
        assert_true(k <= 4 && seen + k <= 15);
        for (int i = 0; i < k; i++)
            assert_int_equal((int64_t)num(cJSON_GetArrayItem(c, i), "id"), all[seen + i]);
        seen += k;
        next = is_null(j, "next") ? 0 : (int64_t)num(j, "next");
        assert_int_equal(next, seen < 15 ? all[seen - 1] : 0);
        after = next;
        cJSON_Delete(j);
    } while (after);
    assert_int_equal(seen, 15);
    /* A page that ends with the last one has no next; past the last, an empty page. */
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s/checkpoints?limit=15", done_id);
    j = get_json(target, 200);
    assert_true(is_null(j, "next"));
    cJSON_Delete(j);
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s/checkpoints?after=%lld", done_id,
             (long long)all[14]);
    j = get_json(target, 200);
    assert_int_equal(cJSON_GetArraySize(at(j, "checkpoints")), 0);
    assert_true(is_null(j, "next"));
    cJSON_Delete(j);

    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s/checkpoints?", done_id);
    bad_limits(target, 10000);
    static const char *const bad_after[] = {"-1", "x", "1.5"};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad_after); i++) {
        snprintf(target, sizeof(target), "/api/monitoring/sessions/%s/checkpoints?after=%s",
                 done_id, bad_after[i]);
        bad(target, 400, "bad_data",
            "invalid parameter \"after\": must be a checkpoint id, an integer from 0");
    }
}

static void test_state_machine(void **state)
{
    char target[128];
    snprintf(target, sizeof(target), "/api/monitoring/state-machine?session=%s", done_id);
    cJSON *j = get_json(target, 200);
    assert_string_equal(str(j, "session_id"), done_id);
    assert_string_equal(str(j, "current"), "halted");
    assert_int_equal((int64_t)num(j, "since_sim_ms"), T0 + 400000);
    static const struct {
        const char *name;
        double entries, dwell;
    } want[] = {{"idle", 1, 0},
                {"scanning", 2, 160},
                {"signal_wait", 1, 61},
                {"managing", 2, 179},
                {"halted", 1, 200}};
    const cJSON *states = at(j, "states");
    assert_int_equal(cJSON_GetArraySize(states), 5);
    for (int i = 0; i < 5; i++) {
        const cJSON *s = cJSON_GetArrayItem(states, i);
        assert_string_equal(str(s, "name"), want[i].name);
        assert_float_equal(num(s, "entries"), want[i].entries, 0);
        assert_float_equal(num(s, "dwell_seconds_total"), want[i].dwell, 1e-9);
        assert_float_equal(num(s, "dwell_seconds_mean"), want[i].dwell / want[i].entries, 1e-9);
    }
    const cJSON *edges = at(j, "edges");
    assert_int_equal(cJSON_GetArraySize(edges), 12); /* eleven declared, one unexpected */
    double total = 0;
    for (int i = 0; i < 11; i++) {
        const cJSON *e = cJSON_GetArrayItem(edges, i);
        assert_true(cJSON_IsTrue(at(e, "declared")));
        assert_non_null(str(e, "meaning"));
        total += num(e, "count");
    }
    assert_float_equal(total, 5, 0);
    const cJSON *first = cJSON_GetArrayItem(edges, 0);
    assert_string_equal(str(first, "from"), "idle");
    assert_string_equal(str(first, "meaning"), "enough history to scan");
    assert_float_equal(num(first, "count"), 1, 0);
    const cJSON *odd = cJSON_GetArrayItem(edges, 11);
    assert_string_equal(str(odd, "from"), "scanning");
    assert_string_equal(str(odd, "to"), "managing");
    assert_true(cJSON_IsFalse(at(odd, "declared")));
    assert_true(is_null(odd, "meaning"));
    assert_float_equal(num(odd, "count"), 1, 0);
    cJSON_Delete(j);

    /* Without the engine and without ?session: the latest session, still running. */
    j = get_json("/api/monitoring/state-machine", 200);
    assert_string_equal(str(j, "session_id"), live_id);
    assert_string_equal(str(j, "current"), "scanning");
    assert_float_equal(num(cJSON_GetArrayItem(at(j, "states"), 0), "dwell_seconds_total"), 5, 0);
    cJSON_Delete(j);
    bad("/api/monitoring/state-machine?session=zz", 404, "not_found", "no session \"zz\"");
}

/* The ids of a page of /events, with its next cursor (0 when null). */
static int page_ids(const char *target, int64_t *ids, int64_t *next)
{
    cJSON *j = get_json(target, 200);
    const cJSON *e = at(j, "events");
    int n = cJSON_GetArraySize(e);
    for (int i = 0; i < n; i++)
        ids[i] = (int64_t)num(cJSON_GetArrayItem(e, i), "id");
    *next = is_null(j, "next") ? 0 : (int64_t)num(j, "next");
    cJSON_Delete(j);
    return n;
}

static void test_events(void **state)
{
    int64_t all[64], ids[64], next;
    int n = page_ids("/api/monitoring/events?limit=1000", all, &next);
    assert_int_equal(n, 14);
    assert_int_equal(next, 0);
    for (int i = 1; i < n; i++)
        assert_true(all[i] < all[i - 1]);
    /* Pages of 4: together exactly the whole list, never overlapping. */
    char target[256];
    int seen = 0;
    int64_t before = 0;
    do {
        if (before)
            snprintf(target, sizeof(target), "/api/monitoring/events?limit=4&before=%lld",
                     (long long)before);
        else
            snprintf(target, sizeof(target), "/api/monitoring/events?limit=4");
        int k = page_ids(target, ids, &next);
        assert_true(k <= 4);
        for (int i = 0; i < k; i++)
            assert_int_equal(ids[i], all[seen + i]);
        seen += k;
        assert_true(next == 0 || next == ids[k - 1]);
        before = next;
    } while (before);
    assert_int_equal(seen, n);

    /* Filters. */
    snprintf(target, sizeof(target), "/api/monitoring/events?session=%s&type=state_change",
             done_id);
    assert_int_equal(page_ids(target, ids, &next), 6);
    assert_int_equal(page_ids("/api/monitoring/events?type=fill,close", ids, &next), 2);
    assert_int_equal(page_ids("/api/monitoring/events?severity=warning", ids, &next), 4);
    assert_int_equal(page_ids("/api/monitoring/events?severity=error", ids, &next), 2);
    assert_int_equal(page_ids("/api/monitoring/events?symbol=BTCUSDT", ids, &next), 4);
    assert_int_equal(page_ids("/api/monitoring/events?symbol=ETHUSDT,BTCUSDT", ids, &next), 5);
    assert_int_equal(page_ids("/api/monitoring/events?correlation_id=t1&type=", ids, &next), 4);
    assert_int_equal(page_ids("/api/monitoring/events?correlation_id=t9", ids, &next), 0);
    /* One event's fields; stored data that is not an object is null, data across lines is
     * put on one. */
    cJSON *j = get_json("/api/monitoring/events?type=order", 200);
    const cJSON *e = cJSON_GetArrayItem(at(j, "events"), 0);
    assert_string_equal(str(e, "session_id"), done_id);
    assert_string_equal(str(e, "severity"), "info");
    assert_string_equal(str(e, "correlation_id"), "t1");
    assert_string_equal(str(e, "message"), "order");
    assert_int_equal((int64_t)num(e, "sim_ms"), T0 + 120000);
    assert_true(is_null(e, "data"));
    cJSON_Delete(j);
    get("/api/monitoring/events?type=fill");
    assert_non_null(strstr(resp, "\"data\":{\"price\":97000.5}"));

    bad_limits("/api/monitoring/events?", 1000);
    bad("/api/monitoring/events?before=0", 400, "bad_data",
        "invalid parameter \"before\": must be an event id, an integer from 1");
    bad("/api/monitoring/events?before=x", 400, "bad_data",
        "invalid parameter \"before\": must be an event id, an integer from 1");
    bad("/api/monitoring/events?severity=loud", 400, "bad_data",
        "invalid parameter \"severity\": must be one of debug, info, warning, error, critical");
    bad("/api/monitoring/events?type=fill,,close", 400, "bad_data",
        "invalid parameter \"type\": an empty value in the list");
    bad("/api/monitoring/events?symbol=A,", 400, "bad_data",
        "invalid parameter \"symbol\": an empty value in the list");
    bad("/api/monitoring/events?session=nope", 404, "not_found", "no session \"nope\"");
}

static void test_realtime(void **state)
{
    cJSON *j = get_json("/api/monitoring/realtime", 200);
    assert_string_equal(str(j, "engine"), "none");
    assert_true(is_null(j, "session_id") && is_null(j, "state") && is_null(j, "counts"));
    assert_true(is_null(j, "equity") && is_null(j, "sim_time_ms"));
    assert_true(fabs(num(j, "ts_ms") - (double)clock_real_ns() / 1e6) < 60000);
    /* From the history: the latest value, and no percentile without histograms. */
    double cpu_now = num(j, "cpu_percent");
    assert_true(cpu_now >= (double)now_s && cpu_now <= (double)now_s + 30);
    assert_float_equal(cpu_now, floor(num(j, "ts_ms") / 1000), 0);
    assert_true(is_null(j, "memory_bytes"));
    assert_true(is_null(at(j, "cycle_time_ms"), "p99"));
    /* The sparkline: the last 60 values, one a second, oldest first. */
    const cJSON *cpu = at(at(j, "sparklines"), "cpu_percent");
    assert_int_equal(cJSON_GetArraySize(cpu), 60);
    for (int i = 1; i < 60; i++)
        assert_float_equal(cJSON_GetArrayItem(cpu, i)->valuedouble,
                           cJSON_GetArrayItem(cpu, i - 1)->valuedouble + 1, 0);
    assert_float_equal(cJSON_GetArrayItem(cpu, 59)->valuedouble, cpu_now, 0);
    assert_int_equal(cJSON_GetArraySize(at(at(j, "sparklines"), "equity")), 0);
    cJSON_Delete(j);
}

/* ---- the stream ---- */

/* Reads SSE from fd into text (all that came since the connection opened, as `len` keeps it
 * across calls; reset it for a new connection) until `want` ids were seen or `secs` passed;
 * returns how many (into ids). */
static size_t len;
static int read_ids(int fd, int64_t *ids, int want, char *text, size_t cap, int secs)
{
    int n = 0;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int64_t deadline = clock_mono_ns() + secs * 1000000000LL;
    while (n < want && clock_mono_ns() < deadline) {
        ssize_t r = read(fd, text + len, cap - len - 1);
        if (r > 0)
            len += (size_t)r;
        text[len] = '\0';
        n = 0;
        for (const char *p = text; (p = strstr(p, "\nid: ")) && n < 64; p++)
            ids[n++] = strtoll(p + 5, NULL, 10);
    }
    return n;
}

static void test_stream(void **state)
{
    static char text[1 << 16];
    int64_t all[64], ids[64], next;
    int n = page_ids("/api/monitoring/events?limit=1000", all, &next);
    /* Resume after the 5th oldest: exactly the events after it, oldest first. */
    int64_t after = all[n - 5];
    char req[256];
    int n_req = snprintf(req, sizeof(req),
                         "GET /api/monitoring/events/stream HTTP/1.0\r\nLast-Event-ID: "
                         "%lld\r\n\r\n",
                         (long long)after);
    int fd = test_http_connect(port);
    len = 0;
    assert_int_equal(write(fd, req, (size_t)n_req), n_req);
    int k = read_ids(fd, ids, n - 5 + 1, text, sizeof(text), 2);
    assert_int_equal(k, n - 5);
    assert_non_null(strstr(text, "Content-Type: text/event-stream"));
    assert_non_null(strstr(text, "\r\n\r\nretry: 2000\n\n"));
    for (int i = 0; i < k; i++)
        assert_int_equal(ids[i], all[n - 6 - i]);
    /* Then the live ones. */
    ev(live_id, 7000, "signal", SEV_INFO, "BTCUSDT", "t9", "{\"a\":1}");
    ev(live_id, 8000, "fill", SEV_INFO, "BTCUSDT", "t9", NULL);
    k = read_ids(fd, ids, n - 5 + 2, text, sizeof(text), 5);
    assert_int_equal(k, n - 5 + 2);
    assert_true(ids[k - 1] == ids[k - 2] + 1 && ids[k - 2] == all[0] + 1);
    assert_non_null(strstr(text, "event: event\ndata: {\"id\":"));
    close(fd);

    /* A filtered stream from the start, by parameter: only the matching ones. */
    n_req = snprintf(req, sizeof(req),
                     "GET /api/monitoring/events/stream?last_event_id=0&type=fill&symbol=BTCUSDT "
                     "HTTP/1.0\r\n\r\n");
    fd = test_http_connect(port);
    len = 0;
    assert_int_equal(write(fd, req, (size_t)n_req), n_req);
    k = read_ids(fd, ids, 3, text, sizeof(text), 2);
    assert_int_equal(k, 2); /* t1's fill and t9's */
    assert_null(strstr(text, "\"type\":\"signal\""));
    close(fd);

    /* A new stream without an id: only what comes next. */
    fd = test_http_connect(port);
    len = 0;
    n_req = snprintf(req, sizeof(req), "GET /api/monitoring/events/stream HTTP/1.0\r\n\r\n");
    assert_int_equal(write(fd, req, (size_t)n_req), n_req);
    assert_int_equal(read_ids(fd, ids, 1, text, sizeof(text), 1), 0); /* nothing yet */
    assert_non_null(strstr(text, "retry: 2000\n\n"));
    ev(live_id, 9000, "order", SEV_INFO, "BTCUSDT", "t9", NULL);
    assert_int_equal(read_ids(fd, ids, 1, text, sizeof(text), 5), 1);
    assert_int_equal(ids[0], all[0] + 3);
    close(fd);

    bad("/api/monitoring/events/stream?last_event_id=-1", 400, "bad_data",
        "invalid parameter \"last_event_id\": must be an event id, an integer from 0");
    bad("/api/monitoring/events/stream?session=nope", 404, "not_found", "no session \"nope\"");
}

/* A stream that falls behind: the hub's ring (64 events here) is overrun by a burst, so the
 * ring moves past the stream's cursor and it catches up from the store, between stretches
 * served from the ring. It still gets every event once, in order. */
static void test_stream_overtaken(void **state)
{
    enum { BURST = 3000 };
    static char text[1 << 22];
    int64_t last, next, *ids = malloc(sizeof(int64_t) * (BURST + 8));
    assert_int_equal(page_ids("/api/monitoring/events?limit=1", &last, &next), 1);
    int fd = test_http_connect(port);
    char r[256];
    int n = snprintf(r, sizeof(r), "GET /api/monitoring/events/stream?session=%s HTTP/1.0\r\n\r\n",
                     live_id);
    assert_int_equal(write(fd, r, (size_t)n), n);
    usleep(200000); /* connected and synced before the burst */
    for (int i = 0; i < BURST; i++)
        ev(i % 2 ? live_id : done_id, 10000 + i, "tick", SEV_DEBUG, NULL, NULL, "{\"pad\":1}");
    assert_int_equal(journal_flush(jr), BW_OK);
    len = 0;
    int64_t deadline = clock_mono_ns() + 20000000000LL;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    int k = 0;
    const char *scan = text;
    while (k < BURST / 2 && clock_mono_ns() < deadline) {
        ssize_t got = read(fd, text + len, sizeof(text) - len - 1);
        if (got > 0)
            len += (size_t)got;
        text[len] = '\0';
        /* An id whose line is complete: a read may end in the middle of one. */
        for (const char *p; k <= BURST / 2 && (p = strstr(scan, "\nid: ")) && strchr(p + 1, '\n');
             scan = p + 5)
            ids[k++] = strtoll(p + 5, NULL, 10);
    }
    close(fd);
    /* Only the live session's: every other id of the burst, each once, in order. */
    assert_int_equal(k, BURST / 2);
    for (int i = 0; i < k; i++)
        assert_int_equal(ids[i], last + 2 + 2 * i);
    free(ids);
}

/* A narrow filter resuming far back: the store's pages before its one match hold nothing for
 * it, and nothing new is written meanwhile, so no wake comes; the stream must still read on
 * to the match (and, past the pages one call may read, say so with a comment). */
static void test_stream_sparse_catch_up(void **state)
{
    enum { QUIET = 5000 };
    static char text[1 << 16];
    int64_t last, next, ids[64];
    assert_int_equal(page_ids("/api/monitoring/events?limit=1", &last, &next), 1);
    for (int i = 0; i < QUIET; i++) {
        ev(done_id, 20000 + i, "quiet", SEV_DEBUG, NULL, NULL, NULL);
        if (i % 1000 == 999)
            assert_int_equal(journal_flush(jr), BW_OK);
    }
    ev(done_id, 30000, "rare", SEV_INFO, NULL, NULL, NULL);
    assert_int_equal(journal_flush(jr), BW_OK);
    char r[256];
    int n = snprintf(r, sizeof(r),
                     "GET /api/monitoring/events/stream?last_event_id=%lld&type=rare "
                     "HTTP/1.0\r\n\r\n",
                     (long long)last);
    int fd = test_http_connect(port);
    len = 0;
    assert_int_equal(write(fd, r, (size_t)n), n);
    assert_int_equal(read_ids(fd, ids, 1, text, sizeof(text), 5), 1);
    assert_int_equal(ids[0], last + QUIET + 1);
    assert_non_null(strstr(text, ": catching up\n\n"));
    assert_null(strstr(text, "\"type\":\"quiet\""));
    close(fd);
}

/* ---- annotations ---- */

#define JSON_BODY "Content-Type: application/json\r\n"
#define FORM_BODY "Content-Type: application/x-www-form-urlencoded\r\n"

/* POSTs body to /api/monitoring/annotations on the server at `to` with the header lines
 * headers, expecting status want; the answer, which the caller cJSON_Deletes. */
static cJSON *annotate(int to, const char *headers, const char *body, int want)
{
    const char *b = test_http_request(to, "POST", "/api/monitoring/annotations", headers, body,
                                      resp, sizeof(resp), &status);
    return answer_json(body, b, want);
}

/* Asserts that posting body (JSON) answers 400 with msg. */
static void bad_note(const char *body, const char *msg)
{
    cJSON *j = annotate(port, JSON_BODY, body, 400);
    assert_string_equal(str(j, "errorType"), "bad_data");
    if (strcmp(str(j, "error"), msg) != 0)
        fail_msg("%s: \"%s\", want \"%s\"", body, str(j, "error"), msg);
    cJSON_Delete(j);
}

/* The newest event (of session, when not NULL; of type, when not NULL); the caller
 * cJSON_Deletes the list it is in, *list. */
static const cJSON *newest(const char *session, const char *type, cJSON **list)
{
    char target[256];
    snprintf(target, sizeof(target), "/api/monitoring/events?limit=1&session=%s&type=%s",
             session ? session : "", type ? type : "");
    *list = get_json(target, 200);
    const cJSON *e = cJSON_GetArrayItem(at(*list, "events"), 0);
    assert_non_null(e);
    return e;
}

/* The annotation with id `id`: the newest one, with its fields as recorded. */
static void expect_note(int64_t id, const char *session, int64_t sim_ms, const char *symbol,
                        const char *message, const char *author)
{
    cJSON *l;
    const cJSON *e = newest(NULL, "annotation", &l);
    assert_int_equal((int64_t)num(e, "id"), id);
    assert_string_equal(str(e, "type"), "annotation");
    assert_string_equal(str(e, "severity"), "info");
    assert_string_equal(str(e, "session_id"), session);
    assert_int_equal((int64_t)num(e, "sim_ms"), sim_ms);
    assert_string_equal(str(e, "message"), message);
    if (symbol)
        assert_string_equal(str(e, "symbol"), symbol);
    else
        assert_true(is_null(e, "symbol"));
    if (author)
        assert_string_equal(str(at(e, "data"), "author"), author);
    else
        assert_true(is_null(at(e, "data"), "author"));
    assert_true(is_null(e, "correlation_id"));
    cJSON_Delete(l);
}

static void test_annotations(void **state)
{
    static char text[1 << 16];
    int64_t ids[64];
    /* A stream of notes, open before they come. */
    int fd = test_http_connect(port);
    static const char watch[] =
        "GET /api/monitoring/events/stream?type=annotation HTTP/1.0\r\n\r\n";
    assert_int_equal(write(fd, watch, sizeof(watch) - 1), (ssize_t)sizeof(watch) - 1);
    len = 0;
    assert_int_equal(read_ids(fd, ids, 1, text, sizeof(text), 1), 0);

    /* JSON, trimmed, on the latest session by default, at the time of its newest event. */
    cJSON *l;
    int64_t live_now = (int64_t)num(newest(live_id, NULL, &l), "sim_ms");
    cJSON_Delete(l);
    cJSON *j = annotate(port, JSON_BODY,
                        "{\"text\":\" \\n raised the <volume> filter\\t\",\"symbol\":\"BTCUSDT\","
                        "\"session\":null,\"other\":[1]}",
                        201);
    int64_t id = (int64_t)num(j, "id");
    assert_int_equal(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    expect_note(id, live_id, live_now, "BTCUSDT", "raised the <volume> filter", NULL);
    /* It reaches the stream like any other event. */
    assert_int_equal(read_ids(fd, ids, 1, text, sizeof(text), 5), 1);
    assert_int_equal(ids[0], id);
    assert_non_null(strstr(text, "\"type\":\"annotation\""));
    assert_non_null(strstr(text, "\"data\":{\"author\":null}"));
    close(fd);

    /* A form, on a given session; 500 bytes is the most. */
    int64_t done_now = (int64_t)num(newest(done_id, NULL, &l), "sim_ms");
    cJSON_Delete(l);
    char body[1024], note[502];
    memset(note, 'a', sizeof(note) - 1);
    note[500] = '\0';
    snprintf(body, sizeof(body), "session=%s&text=+%s+", done_id, note);
    j = annotate(port, FORM_BODY, body, 201);
    expect_note((int64_t)num(j, "id"), done_id, done_now, NULL, note, NULL);
    cJSON_Delete(j);

    /* What is refused, naming the field or where the JSON went wrong. */
    note[500] = 'a';
    note[501] = '\0';
    snprintf(body, sizeof(body), "{\"text\":\"%s\"}", note);
    bad_note(body,
             "invalid parameter \"text\": must be 1 to 500 bytes of UTF-8 text, not 501 bytes");
    bad_note("{\"text\":\" \\t\"}",
             "invalid parameter \"text\": must be 1 to 500 bytes of UTF-8 text, not empty");
    bad_note("{}", "invalid parameter \"text\": missing");
    bad_note("{\"text\":null}", "invalid parameter \"text\": missing");
    bad_note("{\"text\":\"a\\u00e9\xff\"}", "invalid parameter \"text\": not valid UTF-8");
    bad_note("{\"text\":5}", "invalid parameter \"text\": must be a string");
    bad_note("{\"text\":\"a\",\"symbol\":true}", "invalid parameter \"symbol\": must be a string");
    bad_note(
        "{\"text\":\"a\",\"symbol\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        "AAAAAAAAAA\"}",
        "invalid parameter \"symbol\": must be at most 64 bytes of UTF-8 text, not 68 bytes");
    bad_note("[\"text\"]", "invalid request body: not a JSON object");
    /* cJSON would end the string at the NUL and keep "ab" without a word. */
    bad_note("{\"text\":\"ab\\u0000cd\"}",
             "invalid request body: a string holds \\u0000, which is not allowed");
    /* An escaped backslash followed by the text u0000 is a note like any other. */
    cJSON_Delete(annotate(port, JSON_BODY, "{\"text\":\"ab\\\\u0000cd\"}", 201));
    bad_note("{\"text\":\"a\"} x", "invalid request body: not JSON: error near line 1, column 14");
    bad_note("{\n  \"text\": nope\n}",
             "invalid request body: not JSON: error near line 2, column 11");
    j = annotate(port, FORM_BODY, "{\"text\":\"sent as a form\"}", 400);
    assert_string_equal(str(j, "error"), "invalid parameter \"text\": missing (a JSON body needs "
                                         "\"Content-Type: application/json\")");
    cJSON_Delete(j);
    j = annotate(port, JSON_BODY, "{\"text\":\"a\",\"session\":\"nope\"}", 404);
    assert_string_equal(str(j, "error"), "no session \"nope\"");
    cJSON_Delete(j);
    bad("/api/monitoring/annotations", 405, "bad_data",
        "method GET not allowed on /api/monitoring/annotations (allowed: POST)");

    /* With tokens: an editor's name is the author; a viewer may not write. */
    struct http_token tokens[2] = {{"ed", HTTP_ROLE_EDITOR, {0}}, {"vi", HTTP_ROLE_VIEWER, {0}}};
    assert_int_equal(http_token_hash("tok-ed", 6, tokens[0].sha256), BW_OK);
    assert_int_equal(http_token_hash("tok-vi", 6, tokens[1].sha256), BW_OK);
    struct http_server *auth = test_http_start((struct http_config){
        .routes = ctx.routes, .nroutes = api_routes_init(&ctx), .tokens = tokens, .ntokens = 2});
    int aport = http_server_port(auth);
    j = annotate(aport, JSON_BODY "Authorization: Bearer tok-ed\r\n", "{\"text\":\"by ed\"}", 201);
    expect_note((int64_t)num(j, "id"), live_id, live_now, NULL, "by ed", "ed");
    cJSON_Delete(j);
    j = annotate(aport, JSON_BODY "Authorization: Bearer tok-vi\r\n", "{\"text\":\"by vi\"}", 403);
    assert_string_equal(str(j, "error"), "POST /api/monitoring/annotations needs the editor role; "
                                         "token \"vi\" is a viewer");
    cJSON_Delete(j);
    j = annotate(aport, JSON_BODY, "{\"text\":\"by nobody\"}", 401);
    cJSON_Delete(j);
    http_server_free(auth);
}

/* ---- trade books ---- */

/* The process flow's count at stage i of session id, and its latest trade's id (NULL: none)
 * in trade (64 bytes). */
static double flow_count(const char *id, int i, char *trade)
{
    char target[128];
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s", id);
    cJSON *j = get_json(target, 200);
    double n = num(cJSON_GetArrayItem(at(at(j, "process_flow"), "stages"), i), "count");
    const cJSON *t = at(at(j, "progress"), "trade");
    snprintf(trade, 64, "%s", cJSON_IsNull(t) ? "" : str(t, "correlation_id"));
    cJSON_Delete(j);
    return n;
}

/* A session's trades are kept between requests and read on from where the last one stopped:
 * a checkpoint that comes later is counted once, and a session whose book went to others is
 * read again whole. */
static void test_trade_books(void **state)
{
    char trade[64], target[128];
    assert_float_equal(flow_count(live_id, 2, trade), 0, 0);
    assert_string_equal(trade, "");
    cp("signal", "t8", "XRPUSDT", 7000, NULL); /* the live session is the current one */
    cp("confirmed", "t8", "XRPUSDT", 67000, NULL);
    assert_int_equal(journal_flush(jr), BW_OK);
    assert_float_equal(flow_count(live_id, 2, trade), 1, 0);
    assert_string_equal(trade, "t8");
    cp("order_submitted", "t8", "XRPUSDT", 67000, NULL);
    cp("filled", "t8", "XRPUSDT", 68000, "{\"latency_ms\":120}");
    assert_int_equal(journal_flush(jr), BW_OK);
    snprintf(target, sizeof(target), "/api/monitoring/sessions/%s", live_id);
    cJSON *j = get_json(target, 200);
    const cJSON *stages = at(at(j, "process_flow"), "stages");
    expect_stage(stages, 2, "signal", 1, NAN, NAN);
    expect_stage(stages, 3, "confirm", 1, 1, 60000);
    expect_stage(stages, 5, "execute", 1, 1, 120);
    assert_string_equal(str(at(at(j, "progress"), "trade"), "stage"), "manage");
    cJSON_Delete(j);

    /* Six sessions, k + 1 signals in the k-th, asked for twice in turn: more than the books. */
    char ids[6][JOURNAL_ID_LEN];
    for (int k = 0; k < 6; k++) {
        assert_int_equal(journal_session_begin(jr, "paper", NULL, ids[k]), BW_OK);
        for (int i = 0; i <= k; i++) {
            char corr[16];
            snprintf(corr, sizeof(corr), "b%d-%d", k, i);
            cp("signal", corr, "BTCUSDT", 1000 * i, NULL);
        }
    }
    assert_int_equal(journal_flush(jr), BW_OK);
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 6; k++) {
            char want[16];
            snprintf(want, sizeof(want), "b%d-%d", k, k);
            assert_float_equal(flow_count(ids[k], 2, trade), k + 1, 0);
            assert_string_equal(trade, want);
        }
        assert_float_equal(flow_count(done_id, 2, trade), 3, 0);
        assert_string_equal(trade, "t3");
    }
}

int main(void)
{
    const struct CMUnitTest writer[] = {cmocka_unit_test(test_json_writer)};
    const struct CMUnitTest endpoints[] = {
        cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_session_detail),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_state_machine),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_realtime),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_stream_overtaken),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_trade_books),
        cmocka_unit_test(test_stream_sparse_catch_up),
    };
    int failed = cmocka_run_group_tests(writer, NULL, NULL);
    return failed + cmocka_run_group_tests(endpoints, setup, teardown);
}
