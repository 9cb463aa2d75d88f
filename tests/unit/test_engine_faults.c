/* Tests for src/engine/fault.c: engine.fault_unexpected_every injects scanning → managing at
 * exactly the cycles a run without the fault says it should (the first cycle at or after each
 * due time that starts in scanning), each counted and journaled as unexpected, and trades
 * exactly as that run; engine.fault_cycle_delay_ms makes every cycle take at least that much
 * wall time, in engine_cycle_time too, and changes nothing else; both are off by default and
 * range-checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "engine_test.h"

struct run {
    struct engine_stats st;
    struct recorder rec;
    double unexpected_counter; /* engine_unexpected_transitions_total{scanning,managing} */
    double cycle_count, cycle_sum, cycle_le_5ms;
};

static void run(const struct engine_config *c, struct run *out)
{
    struct engine *e = NULL;
    struct diag d = {0};
    bw_registry *reg = bw_registry_new(0);
    memset(out, 0, sizeof(*out));
    assert_int_equal(engine_new(c, reg, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &out->rec);
    assert_int_equal(engine_run(e), BW_OK);
    engine_stats_get(e, &out->st);
    out->unexpected_counter =
        sample_sum(reg, "engine_unexpected_transitions_total", "from=scanning,to=managing", NULL);
    out->cycle_count = sample_sum(reg, "engine_cycle_time_count", NULL, NULL);
    out->cycle_sum = sample_sum(reg, "engine_cycle_time_sum", NULL, NULL);
    out->cycle_le_5ms = sample_sum(reg, "engine_cycle_time_bucket", "le=0.005", NULL);
    engine_free(e);
    bw_registry_free(reg);
}

/* The state the engine is in when a cycle at t starts: the target of the last transition
 * journaled before t (the engine starts idle). Reads "A → B: …" messages. */
static enum engine_state state_before(const struct recorder *r, int64_t t)
{
    enum engine_state s = STATE_IDLE;
    for (size_t i = 0; i < r->n && r->ev[i].ts_ms < t; i++) {
        if (strcmp(r->ev[i].type, "state_change") != 0)
            continue;
        const char *arrow = strstr(r->ev[i].message, " → ");
        const char *colon = arrow ? strchr(arrow, ':') : NULL;
        assert_non_null(colon);
        char to[24];
        size_t n = (size_t)(colon - (arrow + strlen(" → ")));
        assert_true(n < sizeof(to));
        memcpy(to, arrow + strlen(" → "), n);
        to[n] = '\0';
        int st = engine_state_parse(to);
        assert_true(st >= 0);
        s = (enum engine_state)st;
    }
    return s;
}

/* The trading outcome two runs must share. */
static void assert_same_trading(const struct engine_stats *a, const struct engine_stats *b)
{
    assert_int_equal(a->cycles, b->cycles);
    assert_int_equal(a->scans, b->scans);
    assert_int_equal(a->signals, b->signals);
    assert_int_equal(a->orders, b->orders);
    assert_int_equal(a->trades, b->trades);
    assert_int_equal(a->wins, b->wins);
    assert_int_equal(a->losses, b->losses);
    assert_int_equal(a->loss_limit_triggers, b->loss_limit_triggers);
    assert_true(a->equity == b->equity);
    assert_true(a->daily_pnl == b->daily_pnl);
    assert_int_equal(a->state, b->state);
}

static void test_unexpected_every(void **state)
{
    (void)state;
    struct engine_config c;
    struct run base, faulty;
    test_config(&c, 4, 1);
    run(&c, &base);
    assert_int_equal(base.st.unexpected_transitions, 0);
    assert_true(base.unexpected_counter == 0);

    /* Where the injections must land, from the run without them. */
    const int64_t every = 3600 * 1000;
    int64_t want[64], due = c.start_ms + every;
    size_t nwant = 0;
    for (int64_t t = c.start_ms; t < c.start_ms + c.duration_ms; t += c.tick_ms) {
        if (t >= due && state_before(&base.rec, t) == STATE_SCANNING) {
            assert_true(nwant < BW_ARRAY_LEN(want));
            want[nwant++] = t;
            due = t + every;
        }
    }
    assert_true(nwant >= 12); /* a day in hours, most of them catching the engine scanning */

    c.fault_unexpected_every_s = 3600;
    run(&c, &faulty);
    size_t got = 0;
    for (size_t i = 0; i < faulty.rec.n; i++) {
        const struct rec_event *ev = &faulty.rec.ev[i];
        if (strcmp(ev->type, "error") != 0)
            continue;
        assert_string_equal(ev->message, "unexpected state transition scanning → managing");
        assert_int_equal(ev->sev, SEV_ERROR);
        assert_true(got < nwant);
        assert_int_equal(ev->ts_ms, want[got]);
        got++;
    }
    assert_int_equal(got, nwant);
    assert_int_equal(faulty.st.unexpected_transitions, nwant);
    assert_true(faulty.unexpected_counter == (double)nwant);
    /* Each injection adds scanning → managing and one declared way back out of managing. */
    assert_int_equal(faulty.st.transitions[STATE_SCANNING][STATE_MANAGING], nwant);
    assert_int_equal(faulty.st.state_entries[STATE_MANAGING],
                     base.st.state_entries[STATE_MANAGING] + nwant);
    assert_same_trading(&base.st, &faulty.st);
    recorder_free(&base.rec);
    recorder_free(&faulty.rec);
}

static void test_cycle_delay(void **state)
{
    (void)state;
    struct engine_config c;
    struct run base, slow;
    test_config(&c, 2, 0);
    c.duration_ms = 40 * c.tick_ms; /* 40 cycles */
    run(&c, &base);
    assert_true(base.cycle_count == 40);
    /* Plain cycles are far below 5 ms (the first, which loads history, may not be). */
    assert_true(base.cycle_le_5ms > 0);

    c.fault_cycle_delay_ms = 5;
    int64_t t0 = clock_mono_ns();
    run(&c, &slow);
    double wall = (double)(clock_mono_ns() - t0) * 1e-9;
    assert_true(wall >= 40 * 0.005);
    assert_true(slow.cycle_count == 40);
    assert_true(slow.cycle_le_5ms == 0); /* every cycle took longer than the delay */
    assert_true(slow.cycle_sum >= 40 * 0.005);
    assert_same_trading(&base.st, &slow.st);
    /* The same events (their data aside: the session summary holds wall-clock timings). */
    assert_int_equal(slow.rec.n, base.rec.n);
    for (size_t i = 0; i < base.rec.n; i++) {
        assert_int_equal(slow.rec.ev[i].ts_ms, base.rec.ev[i].ts_ms);
        assert_string_equal(slow.rec.ev[i].type, base.rec.ev[i].type);
        assert_string_equal(slow.rec.ev[i].message, base.rec.ev[i].message);
    }
    recorder_free(&base.rec);
    recorder_free(&slow.rec);
}

static void test_config_range(void **state)
{
    (void)state;
    struct engine_config c;
    struct diag d = {0};
    engine_config_defaults(&c);
    assert_true(c.fault_unexpected_every_s == 0 && c.fault_cycle_delay_ms == 0);
    c.fault_cycle_delay_ms = 1000;
    c.fault_unexpected_every_s = 0.5;
    assert_int_equal(engine_config_validate(&c, &d), BW_OK);
    c.fault_cycle_delay_ms = 1000.5;
    assert_int_equal(engine_config_validate(&c, &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "fault_cycle_delay_ms must be in [0, 1000]"));
    c.fault_cycle_delay_ms = 0;
    c.fault_unexpected_every_s = -1;
    assert_int_equal(engine_config_validate(&c, &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "fault_unexpected_every_s must be in [0, "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unexpected_every),
        cmocka_unit_test(test_cycle_delay),
        cmocka_unit_test(test_config_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
