/* Tests for src/engine/engine.c: runs are deterministic — two unpaced runs of a seed over three
 * simulated days produce the same counts and the same event stream, another seed does not,
 * and a paced run matches the unpaced one; with the defaults a watcher sees a signal and state
 * changes within the first simulated hour (a minute of wall time at speed 60); the engine runs
 * on its own thread, its stats can be read meanwhile and engine_stop ends it promptly; with a
 * journal, a session is begun and ended ("completed" for a replay, "stopped" when stopped),
 * with its milestones and, per trade, the checkpoints signal → confirmed → order_submitted →
 * filled → closed under one correlation id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "engine_test.h"
#include "store/store.h"
#include "tmpdir.h"

struct result {
    struct engine_stats st;
    uint64_t digest;
    size_t events;
};

static struct result run(const struct engine_config *c)
{
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    struct result out;
    assert_int_equal(engine_new(c, NULL, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_int_equal(engine_run(e), BW_OK);
    engine_stats_get(e, &out.st);
    out.digest = rec.digest;
    out.events = rec.n;
    recorder_free(&rec);
    engine_free(e);
    return out;
}

static void test_deterministic(void **state)
{
    (void)state;
    struct engine_config c;
    test_config(&c, 4, 3);
    struct result a = run(&c), b = run(&c);
    assert_true(a.st.signals > 100 && a.st.trades > 50);
    assert_int_equal(a.st.cycles, 3 * DAY_MS / 1000);
    assert_int_equal(a.st.sim_time_ms, T2024 + 3 * DAY_MS - 1000);
    assert_true(memcmp(&a.st, &b.st, sizeof(a.st)) == 0);
    assert_int_equal(a.events, b.events);
    assert_true(a.digest == b.digest);
    c.seed = 2;
    struct result other = run(&c);
    assert_true(other.digest != a.digest);
    assert_true(other.st.signals != a.st.signals || other.st.equity != a.st.equity);
}

static void test_paced_same_as_unpaced(void **state)
{
    (void)state;
    struct engine_config c;
    test_config(&c, 2, 2.0 / 24);
    struct result fast = run(&c);
    c.paced = 1;
    c.speed = 72000; /* two simulated hours in 0.1 s */
    int64_t t0 = clock_mono_ns();
    struct result paced = run(&c);
    double wall = (double)(clock_mono_ns() - t0) * 1e-9;
    assert_true(wall >= 0.09 && wall < 5.0);
    assert_true(memcmp(&fast.st, &paced.st, sizeof(fast.st)) == 0);
    assert_true(fast.digest == paced.digest);
}

static void test_watchable_defaults(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    engine_config_defaults(&c);
    c.start_ms = T2024;
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    /* One simulated hour, cycle by cycle, as the paced loop would run it. */
    for (; e->now_ms < T2024 + 3600000; e->now_ms += c.tick_ms)
        assert_int_equal(engine_cycle(e, 0), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    int64_t first_signal = -1, last_change = T2024, longest_quiet = 0;
    size_t changes = 0;
    for (size_t i = 0; i < rec.n; i++) {
        if (first_signal < 0 && strcmp(rec.ev[i].type, "signal") == 0)
            first_signal = rec.ev[i].ts_ms;
        if (strcmp(rec.ev[i].type, "state_change") == 0) {
            changes++;
            if (rec.ev[i].ts_ms - last_change > longest_quiet)
                longest_quiet = rec.ev[i].ts_ms - last_change;
            last_change = rec.ev[i].ts_ms;
        }
    }
    print_message("defaults, first simulated hour: %llu signals, first after %lld s, %zu state "
                  "changes, longest without one %lld s\n",
                  (unsigned long long)st.signals, (long long)(first_signal - T2024) / 1000, changes,
                  (long long)longest_quiet / 1000);
    /* At speed 60 a simulated minute is a wall second. */
    assert_true(first_signal >= T2024 && first_signal - T2024 <= 30 * 60000);
    assert_true(st.signals >= 5);
    assert_true(changes >= 10);
    assert_int_equal(rec.ev[0].ts_ms, T2024); /* idle → scanning in the very first cycle */
    recorder_free(&rec);
    engine_free(e);
}

static void test_thread_and_stop(void **state)
{
    struct engine_config c;
    struct engine *e = NULL;
    struct journal *j = NULL;
    struct diag d = {0};
    engine_config_defaults(&c); /* paced, speed 60, run until stopped */
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    struct store *db = NULL;
    assert_int_equal(store_open(*state, &db, &d), BW_OK);
    assert_int_equal(journal_open(db, &j, &d), BW_OK);
    engine_set_journal(e, j);
    assert_int_equal(engine_start(e), BW_OK);
    assert_int_equal(engine_start(e), BW_EBUSY);
    struct engine_stats st;
    uint64_t seen = 0;
    /* Up to 10 s (a slow run, e.g. under Valgrind); normally done in about 100 ms. */
    for (int i = 0; i < 500 && seen < 5; i++) {
        usleep(20000);
        engine_stats_get(e, &st);
        assert_true(st.cycles >= seen);
        assert_true((unsigned)st.state < STATE_COUNT);
        seen = st.cycles;
    }
    assert_true(seen >= 5);
    assert_true(st.session_id[0] != '\0');
    int64_t t0 = clock_mono_ns();
    engine_stop(e);
    assert_true(clock_mono_ns() - t0 < 500000000LL);
    assert_int_equal(journal_flush(j), BW_OK);
    struct journal_session s;
    assert_int_equal(journal_session_get(j, st.session_id, &s), BW_OK);
    assert_string_equal(s.mode, "paper");
    assert_string_equal(s.status, "stopped");
    assert_non_null(strstr(s.summary_json, "\"status\":\"stopped\""));
    assert_non_null(strstr(s.config_json, "\"speed\":60"));
    journal_session_fini(&s);
    engine_free(e);
    journal_close(j);
    store_close(db);
}

static void test_journal_replay_session(void **state)
{
    struct engine_config c;
    struct engine *e = NULL;
    struct journal *j = NULL;
    struct diag d = {0};
    test_config(&c, 0, 0);
    c.reject_rate = 0;
    snprintf(c.replay_dir, sizeof(c.replay_dir), "%s", BW_FIXTURES "/replay/breakout");
    struct store *db = NULL;
    assert_int_equal(store_open(*state, &db, &d), BW_OK);
    assert_int_equal(journal_open(db, &j, &d), BW_OK);
    assert_int_equal(engine_new(&c, NULL, j, &e, &d), BW_OK);
    assert_int_equal(engine_run(e), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    assert_int_equal(journal_flush(j), BW_OK);
    struct journal_session s;
    assert_int_equal(journal_session_get(j, st.session_id, &s), BW_OK);
    assert_string_equal(s.mode, "replay");
    assert_string_equal(s.status, "completed");
    assert_non_null(strstr(s.summary_json, "\"signals\":4"));
    /* Without a registry nothing is timed: the summary says null, not 0. */
    char fed[64];
    snprintf(fed, sizeof(fed), "\"messages\":%llu,", (unsigned long long)st.messages);
    assert_true(st.messages > 0);
    assert_non_null(strstr(s.summary_json, fed));
    assert_non_null(strstr(s.summary_json, "\"message_seconds\":null,\"scan_seconds\":null}"));
    assert_true(isnan(st.message_seconds) && isnan(st.scan_seconds));
    assert_non_null(strstr(s.config_json, "\"symbols\":[\"BTCUSDT\",\"ETHUSDT\",\"SOLUSDT\"]"));
    journal_session_fini(&s);

    struct journal_checkpoint_list cl;
    assert_int_equal(journal_checkpoints_list(j, st.session_id, &cl), BW_OK);
    static const char *const milestones[] = {"session_started", "first_scan", "first_signal",
                                             "first_order",     "first_fill", "first_trade_closed",
                                             "session_ended"};
    size_t m = 0;
    for (size_t i = 0; i < cl.n && m < 7; i++)
        m += strcmp(cl.items[i].name, milestones[m]) == 0;
    assert_int_equal(m, 7);
    /* The first trade: BTCUSDT long. */
    const char *corr = NULL;
    static const char *const path[] = {"signal", "confirmed", "order_submitted", "filled",
                                       "closed"};
    size_t p = 0;
    for (size_t i = 0; i < cl.n; i++) {
        const struct journal_checkpoint_row *r = &cl.items[i];
        if (!r->correlation_id || (corr && strcmp(r->correlation_id, corr) != 0))
            continue;
        corr = corr ? corr : r->correlation_id;
        assert_true(p < 5);
        assert_string_equal(r->name, path[p++]);
        assert_string_equal(r->symbol, "BTCUSDT");
    }
    assert_int_equal(p, 5);
    assert_string_equal(corr, "t000001-BTCUSDT");

    struct journal_event_list el;
    assert_int_equal(journal_events_list(j, st.session_id, 0, 0, &el), BW_OK);
    static const char *const types[] = {"signal", "signal", "order", "fill", "order", "close"};
    size_t t = 0;
    for (size_t i = 0; i < el.n; i++) {
        const struct journal_event *ev = &el.items[i];
        if (ev->correlation_id && strcmp(ev->correlation_id, corr) == 0) {
            assert_true(t < 6);
            assert_string_equal(ev->type, types[t++]);
        }
    }
    assert_int_equal(t, 6);
    journal_event_list_free(&el);
    journal_checkpoint_list_free(&cl);
    engine_free(e);
    journal_close(j);
    store_close(db);
}

static void test_new_refuses_bad_config(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    test_config(&c, 2, 1);
    c.speed = -1;
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_EINVAL);
    assert_null(e);
    assert_string_equal(d.msg, "speed must be in [0.001, 1000000] (got -1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_paced_same_as_unpaced),
        cmocka_unit_test(test_watchable_defaults),
        cmocka_unit_test_setup_teardown(test_thread_and_stop, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_journal_replay_session, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_new_refuses_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
