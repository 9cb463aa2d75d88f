/* Tests for src/engine/instrument.c: every family is declared with its type and a HELP text
 * stating its unit; every series the engine can touch exists at 0 before the first cycle
 * (symbol × side × regime signals, symbol × side × outcome trades, all from × to pairs, …);
 * after a run the histograms and counters agree with the engine's own counts and the timed
 * spans with the wall clock; without a registry nothing is instrumented; a name taken by
 * another type fails engine_new naming it. */
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

static const struct {
    const char *name, *type, *unit;
} families[] = {
    {"engine_cycle_time", "histogram", "seconds"},
    {"market_scan_duration", "histogram", "seconds"},
    {"websocket_message_processing", "histogram", "seconds"},
    {"trade_execution_duration", "histogram", "seconds"},
    {"signals_generated_total", "counter", "count"},
    {"daily_loss_limit_triggered_total", "counter", "count"},
    {"engine_state", "gauge", "boolean"},
    {"engine_state_transitions_total", "counter", "count"},
    {"engine_unexpected_transitions_total", "counter", "count"},
    {"engine_state_dwell_seconds", "histogram", "seconds"},
    {"engine_cycles_total", "counter", "count"},
    {"market_scans_total", "counter", "count"},
    {"engine_last_signal_timestamp_seconds", "gauge", "seconds"},
    {"orders_total", "counter", "count"},
    {"trades_total", "counter", "count"},
    {"positions_open", "gauge", "count"},
    {"equity", "gauge", "USDT"},
    {"daily_pnl", "gauge", "USDT"},
    {"daily_loss_budget_remaining_ratio", "gauge", "ratio"},
    {"engine_operator_halted", "gauge", "boolean"},
};

static void test_families_and_series(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    bw_registry *reg = bw_registry_new(0);
    test_config(&c, 3, 1);
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    char *text = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &text, &cap, &len), BW_OK);
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        char want[160];
        snprintf(want, sizeof(want), "# TYPE %s %s\n", families[i].name, families[i].type);
        assert_non_null(strstr(text, want));
        snprintf(want, sizeof(want), "# HELP %s ", families[i].name);
        const char *help = strstr(text, want);
        assert_non_null(help);
        const char *eol = strchr(help, '\n');
        char line[400];
        snprintf(line, sizeof(line), "%.*s", (int)(eol - help), help);
        if (!strstr(line, families[i].unit))
            fail_msg("help of %s does not state its unit (%s): %s", families[i].name,
                     families[i].unit, line);
    }
    free(text);
    size_t n;
    assert_true(sample_sum(reg, "signals_generated_total", NULL, &n) == 0);
    assert_int_equal(n, 3 * 2 * 3);
    sample_sum(reg, "signals_generated_total", "symbol=ETHUSDT,side=short,regime=volatile", &n);
    assert_int_equal(n, 1);
    assert_true(sample_sum(reg, "trades_total", NULL, &n) == 0);
    assert_int_equal(n, 3 * 2 * 3);
    sample_sum(reg, "engine_state_transitions_total", NULL, &n);
    assert_int_equal(n, 20);
    sample_sum(reg, "engine_unexpected_transitions_total", NULL, &n);
    assert_int_equal(n, 20);
    sample_sum(reg, "orders_total", NULL, &n);
    assert_int_equal(n, 4);
    assert_true(sample_sum(reg, "engine_state", NULL, &n) == 1);
    assert_int_equal(n, 5);
    sample_sum(reg, "engine_state_dwell_seconds_count", NULL, &n);
    assert_int_equal(n, 5);
    assert_true(sample_sum(reg, "equity", NULL, NULL) == 10000);
    assert_true(sample_sum(reg, "daily_loss_budget_remaining_ratio", NULL, NULL) == 1);
    engine_free(e);
    bw_registry_free(reg);
}

static void test_values_after_run(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    bw_registry *reg = bw_registry_new(0);
    test_config(&c, 4, 0.5);
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    size_t messages = 0;
    int64_t wall0 = clock_mono_ns();
    for (; e->now_ms < T2024 + c.duration_ms; e->now_ms += c.tick_ms) {
        assert_int_equal(engine_cycle(e, 0), BW_OK);
        messages += feed_count(e->feed);
    }
    double wall = (double)(clock_mono_ns() - wall0) * 1e-9;
    struct engine_stats st;
    engine_stats_get(e, &st);
    double cycles = (double)st.cycles;
    assert_true(sample_sum(reg, "engine_cycles_total", NULL, NULL) == cycles);
    assert_true(sample_sum(reg, "engine_cycle_time_count", NULL, NULL) == cycles);
    /* The cycles are most of the loop, the messages part of each cycle: seconds, not ticks. */
    double cycle_s = sample_sum(reg, "engine_cycle_time_sum", NULL, NULL);
    double message_s = sample_sum(reg, "websocket_message_processing_sum", NULL, NULL);
    if (!(cycle_s > 0.5 * wall && cycle_s < 1.02 * wall && message_s > 0 && message_s < cycle_s))
        fail_msg("cycles %.6f s, messages %.6f s in a loop of %.6f s", cycle_s, message_s, wall);
    assert_true(sample_sum(reg, "websocket_message_processing_count", NULL, NULL) ==
                (double)messages);
    assert_true(sample_sum(reg, "market_scans_total", NULL, NULL) == (double)st.scans);
    assert_true(sample_sum(reg, "market_scan_duration_count", NULL, NULL) == (double)st.scans);
    assert_true(sample_sum(reg, "signals_generated_total", NULL, NULL) == (double)st.signals);
    assert_true(sample_sum(reg, "trades_total", NULL, NULL) == (double)st.trades);
    assert_true(sample_sum(reg, "trades_total", "outcome=win", NULL) == (double)st.wins);
    assert_true(sample_sum(reg, "orders_total", "status=submitted", NULL) == (double)st.orders);
    double filled = sample_sum(reg, "orders_total", "status=filled", NULL);
    assert_true(sample_sum(reg, "trade_execution_duration_count", NULL, NULL) == filled);
    double exec_mean = sample_sum(reg, "trade_execution_duration_sum", NULL, NULL) / filled;
    assert_true(exec_mean > 0.12 && exec_mean < 0.18); /* latency_ms_mean 150 */
    assert_true(sample_sum(reg, "equity", NULL, NULL) == st.equity);
    assert_true(sample_sum(reg, "daily_pnl", NULL, NULL) == st.daily_pnl);
    assert_true(sample_sum(reg, "positions_open", NULL, NULL) == st.positions_open);
    double budget = sample_sum(reg, "daily_loss_budget_remaining_ratio", NULL, NULL);
    assert_true(budget >= 0 && budget <= 1);
    assert_true(st.risk_budget_remaining == budget);
    /* What the monitoring API reads for the process flow: messages fed and the time spent. */
    assert_int_equal(st.messages, messages);
    assert_true(st.message_seconds == message_s);
    assert_true(st.scan_seconds == sample_sum(reg, "market_scan_duration_sum", NULL, NULL));
    double last = sample_sum(reg, "engine_last_signal_timestamp_seconds", NULL, NULL);
    assert_true(fabs(last - (double)clock_real_ns() * 1e-9) < 600);
    engine_free(e);
    bw_registry_free(reg);
}

static void test_off_without_registry(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    test_config(&c, 2, 0.1);
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    assert_int_equal(e->m.on, 0);
    assert_null(e->m.cycle_time);
    assert_null(e->m.signals[1][SIDE_SHORT][REGIME_VOLATILE]);
    assert_int_equal(metrics_clock(&e->m), 0);
    assert_int_equal(engine_run(e), BW_OK);
    engine_free(e);
}

static void test_name_taken(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    bw_counter *clash;
    bw_registry *reg = bw_registry_new(0);
    assert_int_equal(bw_counter_new(reg, "positions_open", "Something else.", &clash), BW_OK);
    test_config(&c, 2, 0.1);
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_EEXIST);
    assert_null(e);
    assert_non_null(strstr(d.msg, "metric positions_open"));
    bw_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_families_and_series),
        cmocka_unit_test(test_values_after_run),
        cmocka_unit_test(test_off_without_registry),
        cmocka_unit_test(test_name_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
