/* Tests for src/engine/trade.c: never more trades in flight than max_positions (extra signals
 * are counted and dropped); with confirm_candles 0 the entry goes out with the signal; every
 * closed trade went signal → order → fill → order → close under one correlation id, ids are
 * unique, and the realised balance is the starting equity plus the P&L of every close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_test.h"

static void test_max_positions(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    test_config(&c, 8, 0.5);
    c.max_positions = 1;
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    int busiest = 0;
    for (; e->now_ms < T2024 + c.duration_ms; e->now_ms += c.tick_ms) {
        int pending, open;
        assert_int_equal(engine_cycle(e, 0), BW_OK);
        trade_counts(e, &pending, &open);
        assert_true(pending + open <= 1);
        busiest = pending + open > busiest ? pending + open : busiest;
    }
    assert_int_equal(busiest, 1);
    assert_true(recorder_count(&rec, "signal", "signal dropped: max_positions reached") > 0);
    recorder_free(&rec);
    engine_free(e);
}

static void test_no_confirmation(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    test_config(&c, 4, 0.25);
    c.confirm_candles = 0;
    c.reject_rate = 0;
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_int_equal(engine_run(e), BW_OK);
    size_t checked = 0;
    for (size_t i = 0; i + 1 < rec.n; i++) {
        if (strcmp(rec.ev[i].type, "signal") != 0 || !strstr(rec.ev[i].message, "breakout at"))
            continue;
        /* Same cycle: the signal's checkpoint, then confirmation and the entry. */
        size_t k = i + 1;
        while (k < rec.n && strcmp(rec.ev[k].type, "order") != 0 &&
               !strstr(rec.ev[k].message, "dropped"))
            k++;
        assert_true(k < rec.n);
        if (strcmp(rec.ev[k].type, "order") == 0) {
            assert_int_equal(rec.ev[k].ts_ms, rec.ev[i].ts_ms);
            assert_string_equal(rec.ev[k].corr, rec.ev[i].corr);
            checked++;
        }
    }
    assert_true(checked > 5);
    recorder_free(&rec);
    engine_free(e);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_correlation_and_equity(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    test_config(&c, 6, 0.5);
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_int_equal(engine_run(e), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    /* Signal ids are unique. */
    const char **ids = calloc(rec.n, sizeof(*ids));
    size_t nids = 0;
    for (size_t i = 0; i < rec.n; i++)
        if (strcmp(rec.ev[i].type, "signal") == 0 && strstr(rec.ev[i].message, "breakout at"))
            ids[nids++] = rec.ev[i].corr;
    assert_int_equal(nids, st.signals);
    qsort(ids, nids, sizeof(*ids), cmp_str);
    for (size_t i = 1; i < nids; i++)
        assert_true(strcmp(ids[i - 1], ids[i]) != 0);
    free(ids);
    /* Each close is preceded, under its id, by signal, entry order, fill, exit order. */
    size_t closes = 0;
    double pnl = 0;
    for (size_t i = 0; i < rec.n; i++) {
        if (strcmp(rec.ev[i].type, "close") != 0)
            continue;
        static const char *const want[] = {"signal", "order", "fill", "order", "close"};
        size_t w = 0;
        for (size_t k = 0; k <= i; k++) {
            if (strcmp(rec.ev[k].corr, rec.ev[i].corr) == 0 && w < 5 &&
                strcmp(rec.ev[k].type, want[w]) == 0)
                w++;
        }
        assert_int_equal(w, 5);
        closes++;
        pnl += strtod(strstr(rec.ev[i].message, "P&L ") + 4, NULL);
    }
    assert_int_equal(closes, st.trades);
    assert_true(st.trades > 10);
    assert_true(st.wins + st.losses <= st.trades);
    /* The realised balance is the start plus every close's P&L (rounded to cents there). */
    assert_true(fabs(e->risk.cash - (c.starting_equity + pnl)) <= 0.005 * (double)closes);
    recorder_free(&rec);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_max_positions),
        cmocka_unit_test(test_no_confirmation),
        cmocka_unit_test(test_correlation_and_equity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
