/* Tests for src/store/store_journal.c: the journal's tables through the store's operations —
 * every field round-trips, NULLs stay NULL, cursor reads return exact ids, filtered reads
 * return exactly what a brute-force filter does, crashed sessions get the time of their last
 * record, event ids are never reused even after deletions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"
#include "tmpdir.h"

static struct store *open_store(void **state)
{
    struct store *s;
    struct diag d = {0};
    assert_int_equal(store_open(*state, &s, &d), BW_OK);
    return s;
}

/* Collected rows: ids and one text field per row, copied. */
struct rows {
    int64_t ids[64];
    int64_t times[64];
    char text[64][160];
    int n;
    int stop_after; /* 0: never; else return BW_ENOSPC once this many were seen */
};

static int take_session(void *ud, const struct store_session_row *r)
{
    struct rows *w = ud;
    w->times[w->n] = r->ended_ms;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%s/%s/%s/%s/%s/%lld", r->id, r->mode, r->status,
             r->config_json ? r->config_json : "(null)",
             r->summary_json ? r->summary_json : "(null)", (long long)r->started_ms);
    w->n++;
    return 0;
}

static int take_event(void *ud, const struct store_event_row *r)
{
    struct rows *w = ud;
    if (w->stop_after && w->n == w->stop_after)
        return BW_ENOSPC;
    w->ids[w->n] = r->id;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%s|%lld|%s|%s|%s|%s|%s|%s|%lld",
             r->session_id ? r->session_id : "(null)", (long long)r->ts_ms, r->type, r->severity,
             r->symbol ? r->symbol : "(null)", r->correlation_id ? r->correlation_id : "(null)",
             r->message ? r->message : "(null)", r->data_json ? r->data_json : "(null)",
             (long long)r->recorded_ms);
    w->n++;
    return 0;
}

static int take_checkpoint(void *ud, const struct store_checkpoint_row *r)
{
    struct rows *w = ud;
    w->ids[w->n] = r->id;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%s|%s|%s|%s|%lld|%s|%lld",
             r->session_id ? r->session_id : "(null)", r->name,
             r->correlation_id ? r->correlation_id : "(null)", r->symbol ? r->symbol : "(null)",
             (long long)r->ts_ms, r->detail_json ? r->detail_json : "(null)",
             (long long)r->recorded_ms);
    w->n++;
    return 0;
}

static void insert_event(struct store *s, int64_t id, const char *session, int64_t recorded)
{
    struct store_event_row e = {.id = id,
                                .session_id = session,
                                .ts_ms = id * 10,
                                .type = "signal",
                                .severity = "info",
                                .recorded_ms = recorded};
    assert_int_equal(store_event_insert(s, &e), BW_OK);
}

static void test_sessions(void **state)
{
    struct store *s = open_store(state);
    struct rows w = {0};
    struct store_session_row a = {.id = "a",
                                  .mode = "paper",
                                  .status = "running",
                                  .config_json = "{\"seed\":1}",
                                  .started_ms = 2000};
    struct store_session_row b = {
        .id = "b", .mode = "replay", .status = "running", .started_ms = 1000};
    struct store_session_row c = {
        .id = "c", .mode = "paper", .status = "running", .started_ms = 2000};
    assert_int_equal(store_session_insert(s, &a), BW_OK);
    assert_int_equal(store_session_insert(s, &b), BW_OK);
    assert_int_equal(store_session_insert(s, &c), BW_OK);
    struct store_session_row end = {
        .id = "a", .status = "completed", .ended_ms = 5000, .summary_json = "{\"trades\":3}"};
    assert_int_equal(store_session_finish(s, &end), BW_OK);
    end.id = "nope";
    assert_int_equal(store_session_finish(s, &end), BW_ENOENT);

    /* Newest first; the tie at 2000 goes to the later insertion. */
    assert_int_equal(store_sessions_list(s, 0, 0, take_session, &w), BW_OK);
    assert_int_equal(w.n, 3);
    assert_string_equal(w.text[0], "c/paper/running/(null)/(null)/2000");
    assert_string_equal(w.text[1], "a/paper/completed/{\"seed\":1}/{\"trades\":3}/2000");
    assert_int_equal(w.times[1], 5000);
    assert_string_equal(w.text[2], "b/replay/running/(null)/(null)/1000");
    assert_int_equal(w.times[2], 0);

    w.n = 0;
    assert_int_equal(store_sessions_list(s, 2, 0, take_session, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_int_equal(strncmp(w.text[1], "a/", 2), 0);

    /* Only the running ones, still newest first. */
    w.n = 0;
    assert_int_equal(store_sessions_list(s, 0, 1, take_session, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_int_equal(strncmp(w.text[0], "c/", 2), 0);
    assert_int_equal(strncmp(w.text[1], "b/", 2), 0);
    w.n = 0;
    assert_int_equal(store_sessions_list(s, 1, 1, take_session, &w), BW_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(strncmp(w.text[0], "c/", 2), 0);

    w.n = 0;
    assert_int_equal(store_session_get(s, "b", take_session, &w), BW_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.text[0], "b/replay/running/(null)/(null)/1000");
    assert_int_equal(store_session_get(s, "zz", take_session, &w), BW_ENOENT);
    assert_int_equal(w.n, 1);
    store_close(s);
}

static void test_mark_crashed(void **state)
{
    struct store *s = open_store(state);
    struct rows w = {0};
    int n = -1;
    struct store_session_row r = {.mode = "paper", .status = "running", .started_ms = 100};
    r.id = "with-records";
    assert_int_equal(store_session_insert(s, &r), BW_OK);
    r.id = "without";
    assert_int_equal(store_session_insert(s, &r), BW_OK);
    r.id = "done";
    r.status = "completed";
    r.ended_ms = 300;
    assert_int_equal(store_session_insert(s, &r), BW_OK);
    insert_event(s, 1, "with-records", 1000);
    insert_event(s, 2, "with-records", 2000);
    insert_event(s, 3, "done", 7000);
    struct store_checkpoint_row cp = {
        .session_id = "with-records", .name = "filled", .ts_ms = 1, .recorded_ms = 2500};
    assert_int_equal(store_checkpoint_insert(s, &cp), BW_OK);

    assert_int_equal(store_sessions_mark_crashed(s, 9999, &n), BW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(store_session_get(s, "with-records", take_session, &w), BW_OK);
    assert_int_equal(store_session_get(s, "without", take_session, &w), BW_OK);
    assert_int_equal(store_session_get(s, "done", take_session, &w), BW_OK);
    assert_string_equal(w.text[0], "with-records/paper/crashed/(null)/(null)/100");
    assert_int_equal(w.times[0], 2500); /* the checkpoint came last */
    assert_string_equal(w.text[1], "without/paper/crashed/(null)/(null)/100");
    assert_int_equal(w.times[1], 9999);
    assert_string_equal(w.text[2], "done/paper/completed/(null)/(null)/100");
    assert_int_equal(w.times[2], 300);

    assert_int_equal(store_sessions_mark_crashed(s, 1, &n), BW_OK);
    assert_int_equal(n, 0);
    store_close(s);
}

static void test_events_cursor(void **state)
{
    struct store *s = open_store(state);
    struct rows w = {0};
    struct store_event_row full = {.id = 1,
                                   .session_id = "a",
                                   .ts_ms = 1700000000123,
                                   .type = "fill",
                                   .severity = "warning",
                                   .symbol = "BTCUSDT",
                                   .correlation_id = "c-1",
                                   .message = "filled 0.5 @ 42000",
                                   .data_json = "{\"qty\":0.5}",
                                   .recorded_ms = 1700000000999};
    assert_int_equal(store_event_insert(s, &full), BW_OK);
    for (int64_t id = 2; id <= 10; id++)
        insert_event(s, id, id % 2 ? "a" : NULL, 5);

    assert_int_equal(store_events_after(s, NULL, 0, 0, take_event, &w), BW_OK);
    assert_int_equal(w.n, 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(w.ids[i], i + 1);
    assert_string_equal(w.text[0], "a|1700000000123|fill|warning|BTCUSDT|c-1|filled 0.5 @ "
                                   "42000|{\"qty\":0.5}|1700000000999");
    assert_string_equal(w.text[1], "(null)|20|signal|info|(null)|(null)|(null)|(null)|5");

    w.n = 0;
    assert_int_equal(store_events_after(s, NULL, 3, 4, take_event, &w), BW_OK);
    assert_int_equal(w.n, 4);
    assert_int_equal(w.ids[0], 4);
    assert_int_equal(w.ids[3], 7);

    w.n = 0;
    assert_int_equal(store_events_after(s, "a", 1, 0, take_event, &w), BW_OK);
    assert_int_equal(w.n, 4);
    assert_int_equal(w.ids[0], 3);
    assert_int_equal(w.ids[1], 5);
    assert_int_equal(w.ids[2], 7);
    assert_int_equal(w.ids[3], 9);

    w.n = 0;
    assert_int_equal(store_events_after(s, "a", 9, 0, take_event, &w), BW_OK);
    assert_int_equal(w.n, 0);

    /* A callback's error stops the read and comes back. */
    w = (struct rows){.stop_after = 2};
    assert_int_equal(store_events_after(s, NULL, 0, 0, take_event, &w), BW_ENOSPC);
    assert_int_equal(w.n, 2);
    /* ... and leaves the statement reusable. */
    w = (struct rows){0};
    assert_int_equal(store_events_after(s, NULL, 8, 0, take_event, &w), BW_OK);
    assert_int_equal(w.n, 2);
    store_close(s);
}

/* The filtered reads, against a brute-force filter over the same rows: every driver (trade,
 * session and type, session, type, id), both orders, id bounds, limits, lists of several
 * values, and values that need escaping in the JSON the lists travel as. */
#define NQ 60

static const char *const q_sessions[] = {"s1", "s2", NULL};
static const char *const q_types[] = {"signal", "order", "fill", "state_change"};
static const char *const q_sevs[] = {"debug", "info", "warning", "error", "critical"};
static const char *const q_symbols[] = {"BTCUSDT", "ETH\"US\\DT", NULL};
static const char *const q_corrs[] = {"t1", "t2", "t3", NULL, NULL};

static struct store_event_row q_row(int64_t id)
{
    return (struct store_event_row){.id = id,
                                    .session_id = q_sessions[id % 3],
                                    .ts_ms = id,
                                    .type = q_types[id % 4],
                                    .severity = q_sevs[id % 5],
                                    .symbol = q_symbols[id % 3 == 0 ? 2 : id % 2],
                                    .correlation_id = q_corrs[id % 5],
                                    .recorded_ms = 1};
}

static int q_in(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        if (strcmp(v, list[i]) == 0)
            return 1;
    return 0;
}

static int q_str_eq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

/* What store_events_query must return for q: the ids, in order. */
static int q_expect(const struct store_event_query *q, int64_t *ids)
{
    int n = 0;
    for (int k = 0; k < NQ; k++) {
        int64_t id = q->newest_first ? NQ - k : k + 1;
        struct store_event_row r = q_row(id);
        if (id <= q->after_id || (q->before_id && id >= q->before_id) ||
            (q->session_id && !q_str_eq(r.session_id, q->session_id)) ||
            (q->correlation_id && !q_str_eq(r.correlation_id, q->correlation_id)) ||
            (q->ntypes && !q_in(r.type, q->types, q->ntypes)) ||
            (q->nseverities && !q_in(r.severity, q->severities, q->nseverities)) ||
            (q->nsymbols && !q_in(r.symbol, q->symbols, q->nsymbols)))
            continue;
        if (q->limit && (size_t)n == q->limit)
            break;
        ids[n++] = id;
    }
    return n;
}

static void test_events_query(void **state)
{
    struct store *s = open_store(state);
    for (int64_t id = 1; id <= NQ; id++) {
        struct store_event_row r = q_row(id);
        assert_int_equal(store_event_insert(s, &r), BW_OK);
    }
    static const char *const one_type[] = {"fill"}, *const two_types[] = {"order", "signal"};
    static const char *const warn_up[] = {"warning", "error", "critical"};
    static const char *const sym_odd[] = {"ETH\"US\\DT"}, *const sym_both[] = {"BTCUSDT",
                                                                               "ETH\"US\\DT"};
    const struct store_event_query cases[] = {
        {0},
        {.limit = 7},
        {.after_id = 10, .before_id = 20},
        {.correlation_id = "t2"},
        {.correlation_id = "t2", .session_id = "s1", .ntypes = 1, .types = one_type},
        {.session_id = "s2"},
        {.session_id = "s2", .ntypes = 1, .types = one_type, .limit = 2},
        {.session_id = "s2", .ntypes = 2, .types = two_types},
        {.ntypes = 1, .types = one_type, .after_id = 5, .before_id = 50},
        {.ntypes = 2, .types = two_types, .nseverities = 3, .severities = warn_up},
        {.nsymbols = 1, .symbols = sym_odd},
        {.nsymbols = 2, .symbols = sym_both, .session_id = "s1", .limit = 3},
        {.correlation_id = "nope"},
        {.session_id = "s1",
         .ntypes = 1,
         .types = two_types,
         .nsymbols = 1,
         .symbols = sym_odd,
         .nseverities = 3,
         .severities = warn_up},
    };
    for (size_t c = 0; c < BW_ARRAY_LEN(cases); c++) {
        for (int order = 0; order < 2; order++) {
            struct store_event_query q = cases[c];
            struct rows w = {0};
            int64_t want[NQ];
            q.newest_first = order;
            int n = q_expect(&q, want);
            assert_int_equal(store_events_query(s, &q, take_event, &w), BW_OK);
            if (w.n != n)
                fail_msg("case %zu, order %d: %d rows, want %d", c, order, w.n, n);
            for (int i = 0; i < n; i++)
                assert_int_equal(w.ids[i], want[i]);
        }
    }
    /* Paging newest first with before = the last id seen visits every row once. */
    struct store_event_query q = {.newest_first = 1, .limit = 7, .session_id = "s1"};
    int64_t seen = 0, last = INT64_MAX;
    for (;;) {
        struct rows w = {0};
        assert_int_equal(store_events_query(s, &q, take_event, &w), BW_OK);
        for (int i = 0; i < w.n; i++) {
            assert_true(w.ids[i] < last);
            last = w.ids[i];
        }
        seen += w.n;
        if (w.n < 7)
            break;
        q.before_id = last;
    }
    assert_int_equal(seen, NQ / 3);
    store_close(s);
}

static void test_event_ids_never_reused(void **state)
{
    struct store *s = open_store(state);
    int64_t next = 0;
    assert_int_equal(store_events_next_id(s, &next), BW_OK);
    assert_int_equal(next, 1);
    for (int64_t id = 1; id <= 5; id++)
        insert_event(s, id, "a", 1);
    assert_int_equal(store_events_next_id(s, &next), BW_OK);
    assert_int_equal(next, 6);
    struct store_event_row dup = {.id = 5, .type = "x", .severity = "info"};
    assert_int_equal(store_event_insert(s, &dup), BW_EIO); /* a second 5 is refused */
    assert_non_null(strstr(store_last_error(s), "insert event: UNIQUE constraint failed"));
    store_close(s);
}

static void test_event_ids_survive_deletion(void **state)
{
    struct store *s = open_store(state);
    int64_t next = 0;
    char db[600];
    for (int64_t id = 1; id <= 5; id++)
        insert_event(s, id, "a", 1);
    store_close(s);

    sqlite3 *raw;
    tmpdir_join(db, sizeof(db), *state, STORE_DB_NAME);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "DELETE FROM events WHERE id >= 4", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);

    s = open_store(state);
    assert_int_equal(store_events_next_id(s, &next), BW_OK);
    assert_int_equal(next, 6);
    store_close(s);
}

static void test_checkpoints(void **state)
{
    struct store *s = open_store(state);
    struct rows w = {0};
    struct store_checkpoint_row a = {.id = 99, /* ignored */
                                     .session_id = "s1",
                                     .name = "order_submitted",
                                     .correlation_id = "c-7",
                                     .symbol = "ETHUSDT",
                                     .ts_ms = 1234,
                                     .detail_json = "{\"px\":1}",
                                     .recorded_ms = 5678};
    struct store_checkpoint_row b = {.name = "session_started", .ts_ms = 1, .recorded_ms = 2};
    struct store_checkpoint_row c = {.session_id = "s2", .name = "x", .ts_ms = 3};
    assert_int_equal(store_checkpoint_insert(s, &a), BW_OK);
    assert_int_equal(store_checkpoint_insert(s, &b), BW_OK);
    assert_int_equal(store_checkpoint_insert(s, &c), BW_OK);
    a.name = "order_filled";
    assert_int_equal(store_checkpoint_insert(s, &a), BW_OK);

    assert_int_equal(store_checkpoints_list(s, "s1", take_checkpoint, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.ids[0], 1);
    assert_int_equal(w.ids[1], 4);
    assert_string_equal(w.text[0], "s1|order_submitted|c-7|ETHUSDT|1234|{\"px\":1}|5678");
    assert_string_equal(w.text[1], "s1|order_filled|c-7|ETHUSDT|1234|{\"px\":1}|5678");

    w.n = 0;
    assert_int_equal(store_checkpoints_list(s, NULL, take_checkpoint, &w), BW_OK);
    assert_int_equal(w.n, 4);
    assert_string_equal(w.text[1], "(null)|session_started|(null)|(null)|1|(null)|2");
    assert_int_equal(w.ids[2], 3);

    w.n = 0;
    assert_int_equal(store_checkpoints_list(s, "none", take_checkpoint, &w), BW_OK);
    assert_int_equal(w.n, 0);

    /* Pages: after an id, at most limit, of a session or of all. */
    w.n = 0;
    assert_int_equal(store_checkpoints_after(s, "s1", 1, 0, take_checkpoint, &w), BW_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(w.ids[0], 4);
    w.n = 0;
    assert_int_equal(store_checkpoints_after(s, NULL, 1, 2, take_checkpoint, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.ids[0], 2);
    assert_int_equal(w.ids[1], 3);
    w.n = 0;
    assert_int_equal(store_checkpoints_after(s, "s1", 4, 10, take_checkpoint, &w), BW_OK);
    assert_int_equal(w.n, 0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
        T(test_sessions),     T(test_mark_crashed),           T(test_events_cursor),
        T(test_events_query), T(test_event_ids_never_reused), T(test_event_ids_survive_deletion),
        T(test_checkpoints),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
