/* Tests for src/engine/state.c: the declared graph is exactly the eleven expected edges (the
 * operator's halt from idle and scanning among them); a
 * forced transition outside it is performed, counted in engine_unexpected_transitions_total and
 * journaled as an error; over a long synthetic run every transition taken is in the graph,
 * nothing is unexpected, the transition counters match the engine's own counts, each state's
 * dwell histogram has one observation per exit from it, and exactly one engine_state gauge
 * is 1 — the current state's; the per-state entries and dwell totals in engine_stats agree
 * with the transitions and the dwell histograms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine_test.h"

static void test_graph(void **state)
{
    (void)state;
    static const int expected[][2] = {
        {STATE_IDLE, STATE_SCANNING},        {STATE_SCANNING, STATE_SIGNAL_WAIT},
        {STATE_SIGNAL_WAIT, STATE_SCANNING}, {STATE_SIGNAL_WAIT, STATE_MANAGING},
        {STATE_SIGNAL_WAIT, STATE_HALTED},   {STATE_MANAGING, STATE_SCANNING},
        {STATE_MANAGING, STATE_SIGNAL_WAIT}, {STATE_MANAGING, STATE_HALTED},
        {STATE_HALTED, STATE_IDLE},          {STATE_IDLE, STATE_HALTED},
        {STATE_SCANNING, STATE_HALTED},
    };
    int n = 0;
    for (int a = 0; a < STATE_COUNT; a++)
        for (int b = 0; b < STATE_COUNT; b++)
            n += engine_transition_allowed(a, b);
    assert_int_equal(n, 11);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        assert_true(engine_transition_allowed(expected[i][0], expected[i][1]));
    assert_false(engine_transition_allowed(STATE_COUNT, STATE_IDLE));
    assert_false(engine_transition_allowed(STATE_IDLE, (enum engine_state) - 1));
    static const char *const names[] = {"idle", "scanning", "signal_wait", "managing", "halted"};
    for (int s = 0; s < STATE_COUNT; s++)
        assert_string_equal(engine_state_name(s), names[s]);
    assert_string_equal(engine_state_name(STATE_COUNT), "unknown");
    for (int s = 0; s < STATE_COUNT; s++)
        assert_int_equal(engine_state_parse(names[s]), s);
    assert_int_equal(engine_state_parse("unknown"), -1);
    assert_int_equal(engine_state_parse("Idle"), -1);
    assert_int_equal(engine_state_parse(NULL), -1);
    /* Every declared edge has a meaning, every other pair none. */
    assert_string_equal(engine_transition_meaning(STATE_IDLE, STATE_SCANNING),
                        "enough history to scan");
    assert_string_equal(engine_transition_meaning(STATE_HALTED, STATE_IDLE),
                        "new trading day, or resumed by an operator");
    assert_string_equal(engine_transition_meaning(STATE_SCANNING, STATE_HALTED),
                        "halted by an operator");
    assert_string_equal(engine_transition_meaning(STATE_MANAGING, STATE_HALTED),
                        "daily loss limit reached, or halted by an operator");
    for (int a = 0; a < STATE_COUNT; a++)
        for (int b = 0; b < STATE_COUNT; b++)
            assert_int_equal(engine_transition_meaning(a, b) != NULL,
                             engine_transition_allowed(a, b));
    assert_null(engine_transition_meaning(STATE_COUNT, STATE_IDLE));
}

static void test_forced_unexpected(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    bw_registry *reg = bw_registry_new(0);
    test_config(&c, 1, 1);
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_true(sample_one(reg, "engine_state", "state=idle") == 1);
    assert_int_equal(engine_state_set(e, STATE_IDLE, NULL), -1); /* no transition */
    assert_int_equal(engine_state_set(e, STATE_MANAGING, "ignored: not declared"), 0);
    assert_int_equal(e->sm.cur, STATE_MANAGING);
    assert_int_equal(e->sm.unexpected, 1);
    assert_true(sample_one(reg, "engine_unexpected_transitions_total", "from=idle,to=managing") ==
                1);
    assert_true(sample_one(reg, "engine_state_transitions_total", "from=idle,to=managing") == 1);
    assert_true(sample_one(reg, "engine_state", "state=managing") == 1);
    assert_true(sample_one(reg, "engine_state", "state=idle") == 0);
    assert_true(sample_one(reg, "engine_state_dwell_seconds_count", "state=idle") == 1);
    assert_int_equal(recorder_count(&rec, "error", "unexpected state transition idle → managing"),
                     1);
    assert_int_equal(rec.ev[rec.n - 1].sev, SEV_ERROR);
    /* The next cycle derives the real state: flat, not warm-up idle any more → scanning. */
    assert_int_equal(engine_cycle(e, 0), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    assert_int_equal(st.state, STATE_SCANNING);
    assert_int_equal(st.unexpected_transitions, 1);
    assert_int_equal(st.transitions[STATE_IDLE][STATE_MANAGING], 1);
    assert_int_equal(st.transitions[STATE_MANAGING][STATE_SCANNING], 1);
    recorder_free(&rec);
    engine_free(e);
    bw_registry_free(reg);
}

static void test_long_run(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    bw_registry *reg = bw_registry_new(0);
    test_config(&c, 8, 2);
    c.daily_loss_limit = 0.01; /* so that halts happen too */
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    assert_int_equal(engine_run(e), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    uint64_t total = 0, out[STATE_COUNT] = {0};
    for (int a = 0; a < STATE_COUNT; a++) {
        for (int b = 0; b < STATE_COUNT; b++) {
            if (a == b)
                continue;
            char match[64];
            snprintf(match, sizeof(match), "from=%s,to=%s", engine_state_name(a),
                     engine_state_name(b));
            assert_true(sample_one(reg, "engine_state_transitions_total", match) ==
                        (double)st.transitions[a][b]);
            assert_true(sample_one(reg, "engine_unexpected_transitions_total", match) == 0);
            if (st.transitions[a][b] && !engine_transition_allowed(a, b))
                fail_msg("%s → %s taken %llu times", engine_state_name(a), engine_state_name(b),
                         (unsigned long long)st.transitions[a][b]);
            total += st.transitions[a][b];
            out[a] += st.transitions[a][b];
        }
    }
    assert_int_equal(st.unexpected_transitions, 0);
    assert_true(total > 200);
    assert_true(st.transitions[STATE_MANAGING][STATE_HALTED] +
                    st.transitions[STATE_SIGNAL_WAIT][STATE_HALTED] >
                0);
    double ones = 0;
    for (int s = 0; s < STATE_COUNT; s++) {
        char match[32];
        snprintf(match, sizeof(match), "state=%s", engine_state_name(s));
        assert_true(sample_one(reg, "engine_state_dwell_seconds_count", match) == (double)out[s]);
        double g = sample_one(reg, "engine_state", match);
        ones += g;
        assert_true(g == (s == (int)st.state));
    }
    assert_true(ones == 1);
    /* Entries and dwell totals: a state is entered once per transition into it (idle once
     * more, at the start), and its dwell total is its dwell histogram's sum. */
    double held = 0;
    for (int s = 0; s < STATE_COUNT; s++) {
        uint64_t in = s == STATE_IDLE;
        for (int a = 0; a < STATE_COUNT; a++)
            in += st.transitions[a][s];
        assert_int_equal(st.state_entries[s], in);
        char match[32];
        snprintf(match, sizeof(match), "state=%s", engine_state_name(s));
        assert_float_equal(st.state_dwell_seconds[s],
                           sample_one(reg, "engine_state_dwell_seconds_sum", match), 1e-6);
        held += st.state_dwell_seconds[s];
    }
    /* The stays that ended and the current one cover the run's simulated time. */
    assert_float_equal(held + (double)(st.sim_time_ms - st.state_since_ms) / 1000.0,
                       (double)(st.sim_time_ms - c.start_ms) / 1000.0, 1e-6);
    assert_true(st.state_since_ms > c.start_ms && st.state_since_ms <= st.sim_time_ms);
    engine_free(e);
    bw_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_graph),
        cmocka_unit_test(test_forced_unexpected),
        cmocka_unit_test(test_long_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
