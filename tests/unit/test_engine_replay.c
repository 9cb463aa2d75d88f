/* Tests for src/engine/replay.c: a missing directory or one without CSV files fails with
 * BW_ENOENT naming the path; each kind of malformed file fails with BW_EINVAL at its exact
 * file:line:col; millisecond and ISO-8601 timestamps read alike; symbols are merged in time
 * order; and the fixture in tests/fixtures/replay/breakout (see make_replay.py) replays to
 * exactly the signals it was built for — BTCUSDT long and short, ETHUSDT long (dropped on
 * confirmation), SOLUSDT short (stopped out) — with the trades and orders that follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "engine_test.h"
#include "tmpdir.h"

#define HEADER "timestamp,open,high,low,close,volume\n"

static int open_replay(const char *dir, struct engine **e, bw_registry *reg, struct diag *d)
{
    struct engine_config c;
    test_config(&c, 0, 0);
    c.reject_rate = 0;
    snprintf(c.replay_dir, sizeof(c.replay_dir), "%s", dir);
    return engine_new(&c, reg, NULL, e, d);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    FILE *fp = fopen(tmpdir_join(path, sizeof(path), dir, name), "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static void test_missing_dir(void **state)
{
    (void)state;
    struct engine *e = NULL;
    struct diag d = {0};
    assert_int_equal(open_replay("/nonexistent/candles", &e, NULL, &d), BW_ENOENT);
    assert_null(e);
    assert_non_null(strstr(d.msg, "/nonexistent/candles"));
}

static void test_no_csv(void **state)
{
    struct engine *e = NULL;
    struct diag d = {0};
    write_file(*state, "notes.txt", "not candles\n");
    assert_int_equal(open_replay(*state, &e, NULL, &d), BW_ENOENT);
    assert_non_null(strstr(d.msg, *state));
    assert_non_null(strstr(d.msg, "no *.csv files"));
}

/* One bad file and where its error must point. */
static const struct bad_case {
    const char *name, *text;
    int line, col;
    const char *want;
} bad_cases[] = {
    {"AAA.csv", HEADER "1704067200000,100,101,99,100,10\n1704067260000,100,abc,99,100,10\n", 3, 19,
     "high: 'abc' is not a number"},
    {"AAA.csv", HEADER "2024-13-01T00:00:00Z,100,101,99,100,10\n", 2, 1, "bad timestamp"},
    {"AAA.csv", "time,open,high,low,close,volume\n", 1, 1,
     "header: expected 'timestamp', found 'time'"},
    {"AAA.csv", HEADER "1704067200000,100,101,99,100\n", 2, 29, "expected 6 fields, found 5"},
    {"AAA.csv", HEADER "1704067200000,100,101,99,100,10,7\n", 2, 32, "expected 6 fields, found 7"},
    {"AAA.csv", HEADER "1704067200000,100,99.5,99,100,10\n", 2, 19,
     "high 99.5 is below the open, close or low"},
    {"AAA.csv", HEADER "1704067200000,100,101,-1,100,10\n", 2, 23, "low must be > 0 (got -1)"},
    {"AAA.csv", HEADER "1704067200000,100,101,99,100,-3\n", 2, 30, "volume must be >= 0"},
    {"AAA.csv",
     HEADER "1704067200000,100,101,99,100,10\n"
            "1704067200000,100,101,99,100,10\n",
     3, 1, "less than one candle (60000 ms) after the previous row's"},
    {"AAA.csv", HEADER, 2, 1, "no candles after the header"},
    {"AAA.csv", "", 1, 1, "empty file"},
};

static void test_malformed(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *bc = &bad_cases[i];
        struct engine *e = NULL;
        struct diag d = {0};
        char path[512];
        write_file(*state, bc->name, bc->text);
        assert_int_equal(open_replay(*state, &e, NULL, &d), BW_EINVAL);
        assert_string_equal(d.file, tmpdir_join(path, sizeof(path), *state, bc->name));
        if (d.line != bc->line || d.col != bc->col || !strstr(d.msg, bc->want))
            fail_msg("case %zu: got %d:%d '%s', want %d:%d '%s'", i, d.line, d.col, d.msg, bc->line,
                     bc->col, bc->want);
        char text[1024];
        diag_format(&d, text, sizeof(text));
        assert_non_null(strstr(text, ".csv:"));
    }
}

static void test_bad_symbol_name(void **state)
{
    struct engine *e = NULL;
    struct diag d = {0};
    write_file(*state, "btc-usd.csv", HEADER "1704067200000,100,101,99,100,10\n");
    assert_int_equal(open_replay(*state, &e, NULL, &d), BW_EINVAL);
    assert_string_equal(d.file, "btc-usd.csv");
    assert_non_null(strstr(d.msg, "letters and digits"));
}

static void test_timestamps_and_merge(void **state)
{
    struct feed *f = NULL;
    struct diag d = {0};
    struct engine_config c;
    write_file(*state, "bbb.csv",
               HEADER "2024-01-01T00:00:00Z,1,1,1,1,1\n"
                      "2024-01-01 00:01,1,1,1,1,1\n"
                      "2024-01-01T00:02:00.000+00:00,1,1,1,1,1\n"
                      "1704067380000,1,1,1,1,1\n");
    write_file(*state, "AAA.csv", HEADER "1704067230000,1,1,1,1,1\n");
    test_config(&c, 0, 0);
    snprintf(c.replay_dir, sizeof(c.replay_dir), "%s", (const char *)*state);
    assert_int_equal(feed_new(&c, &f, &d), BW_OK);
    assert_int_equal(f->nsymbols, 2);
    assert_string_equal(f->sym[0].name, "AAA");
    assert_string_equal(f->sym[1].name, "BBB"); /* upper-cased */
    assert_int_equal(f->start_ms, T2024);
    /* Close times: BBB 00:01, AAA 00:01:30, BBB 00:02, 00:03, 00:04. */
    static const struct {
        const char *sym;
        int64_t t;
    } want[] = {{"BBB", T2024},
                {"AAA", T2024 + 30000},
                {"BBB", T2024 + 60000},
                {"BBB", T2024 + 120000},
                {"BBB", T2024 + 180000}};
    size_t got = 0;
    int rc = BW_OK;
    for (int64_t now = T2024; rc == BW_OK; now += 1000) {
        rc = feed_step(f, now);
        for (size_t i = 0; i < feed_count(f); i++, got++) {
            size_t len;
            cJSON *o = cJSON_Parse(feed_message(f, i, &len));
            const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "k");
            assert_true(got < 5);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(o, "s")->valuestring,
                                want[got].sym);
            assert_int_equal((int64_t)cJSON_GetObjectItemCaseSensitive(k, "t")->valuedouble,
                             want[got].t);
            assert_true(want[got].t + 60000 <= now);
            cJSON_Delete(o);
        }
    }
    assert_int_equal(rc, FEED_DONE);
    assert_int_equal(got, 5);
    feed_free(f);
}

static void test_fixture_signals(void **state)
{
    (void)state;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    bw_registry *reg = bw_registry_new(0);
    assert_int_equal(open_replay(BW_FIXTURES "/replay/breakout", &e, reg, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_int_equal(engine_run(e), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    /* The run ends with the data: the last candle (index 299) closes at 05:00. */
    assert_int_equal(st.sim_time_ms, T2024 + 300 * 60000LL);
    assert_int_equal(st.signals, 4);
    static const struct {
        const char *match;
        double n;
    } sig[] = {
        {"symbol=BTCUSDT,side=long", 1},  {"symbol=BTCUSDT,side=short", 1},
        {"symbol=ETHUSDT,side=long", 1},  {"symbol=ETHUSDT,side=short", 0},
        {"symbol=SOLUSDT,side=short", 1}, {"symbol=SOLUSDT,side=long", 0},
    };
    for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
        assert_true(sample_sum(reg, "signals_generated_total", sig[i].match, NULL) == sig[i].n);
    assert_int_equal(st.orders, 6);
    assert_int_equal(st.trades, 3);
    assert_int_equal(st.wins, 2);
    assert_int_equal(st.losses, 1);
    assert_true(sample_sum(reg, "trades_total", "symbol=BTCUSDT,outcome=win", NULL) == 2);
    assert_true(sample_sum(reg, "trades_total", "symbol=SOLUSDT,side=short,outcome=loss", NULL) ==
                1);
    assert_true(sample_sum(reg, "orders_total", "status=submitted", NULL) == 6);
    assert_true(sample_sum(reg, "orders_total", "status=filled", NULL) == 6);
    assert_int_equal(recorder_count(&rec, "signal",
                                    "ETHUSDT long signal dropped: closed back "
                                    "inside the range"),
                     1);
    assert_int_equal(recorder_count(&rec, "close", "BTCUSDT long closed"), 1);
    assert_int_equal(recorder_count(&rec, "close", "(target)"), 2);
    assert_int_equal(recorder_count(&rec, "close", "SOLUSDT short closed"), 1);
    assert_int_equal(recorder_count(&rec, "close", "(stop)"), 1);
    assert_int_equal(st.transitions[STATE_IDLE][STATE_SCANNING], 1);
    assert_int_equal(st.unexpected_transitions, 0);
    assert_int_equal(st.positions_open, 0);
    recorder_free(&rec);
    engine_free(e);
    bw_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_dir),
        cmocka_unit_test_setup_teardown(test_no_csv, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_malformed, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_bad_symbol_name, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_timestamps_and_merge, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_fixture_signals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
