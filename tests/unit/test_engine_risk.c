/* Tests for src/engine/risk.c and the loss limit in the engine: sizing risks risk_per_trade of
 * equity over the stop distance within the leverage cap; the limit triggers exactly at
 * daily_loss_limit × start-of-day equity, once, and the next UTC day resumes with a fresh
 * budget. Then two engine scenarios: the gap fixture (a position gapped 5 % against it halts
 * trading; a breakout while halted is ignored; trading resumes at midnight and the next
 * breakout is traded), and three synthetic days with a tiny limit, where every trigger is
 * counted once, no entry order is sent while halted and each halt ends at a UTC midnight. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "engine_test.h"

static void test_sizing(void **state)
{
    (void)state;
    struct engine_config c;
    struct risk r;
    engine_config_defaults(&c);
    risk_init(&r, &c, T2024);
    assert_true(fabs(risk_size(&r, 10000, 100, 2) - 12.5) < 1e-12);   /* 0.25 % of 10000 / 2 */
    assert_true(fabs(risk_size(&r, 10000, 100, 0.001) - 500) < 1e-9); /* capped at 5 × equity */
    assert_true(risk_size(&r, 0, 100, 2) == 0);
    assert_true(risk_size(&r, 10000, 100, 0) == 0);
    assert_true(risk_size(&r, 10000, NAN, 2) == 0);
}

static void test_limit_and_new_day(void **state)
{
    (void)state;
    struct engine_config c;
    struct risk r;
    engine_config_defaults(&c); /* limit 4 % */
    risk_init(&r, &c, T2024 + 3600000);
    assert_true(risk_budget_remaining(&r, 10000) == 1.0);
    assert_true(risk_budget_remaining(&r, 9800) == 0.5);
    assert_true(risk_budget_remaining(&r, 10500) == 1.0);
    assert_int_equal(risk_update(&r, T2024 + 7200000, 9600.01), 0);
    assert_int_equal(risk_update(&r, T2024 + 7201000, 9600), RISK_TRIGGERED);
    assert_true(r.halted && r.triggers == 1);
    assert_true(risk_daily_pnl(&r, 9600) == -400);
    assert_int_equal(risk_update(&r, T2024 + 7202000, 9000), 0); /* counted once */
    assert_true(risk_budget_remaining(&r, 9000) == 0.0);
    assert_int_equal(risk_update(&r, T2024 + DAY_MS - 1, 9000), 0);
    assert_int_equal(risk_update(&r, T2024 + DAY_MS, 9000), RISK_NEW_DAY | RISK_RESUMED);
    assert_true(!r.halted && r.day_start_equity == 9000 && risk_daily_pnl(&r, 9000) == 0);
    assert_int_equal(risk_update(&r, T2024 + DAY_MS + 1000, 8640), RISK_TRIGGERED);
    assert_int_equal(r.triggers, 2);
    assert_int_equal(risk_update(&r, T2024 + 2 * DAY_MS + 5, 8700), RISK_NEW_DAY | RISK_RESUMED);
    assert_int_equal(risk_update(&r, T2024 + 3 * DAY_MS, 8800), RISK_NEW_DAY);
}

/* Index of the first recorded event of `type` containing `part`, from index `from`; r->n if none.
 */
static size_t find(const struct recorder *r, size_t from, const char *type, const char *part)
{
    for (size_t i = from; i < r->n; i++)
        if (strcmp(r->ev[i].type, type) == 0 && strstr(r->ev[i].message, part))
            return i;
    return r->n;
}

static void test_gap_fixture(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    bw_registry *reg = bw_registry_new(0);
    test_config(&c, 0, 0);
    c.reject_rate = 0;
    c.daily_loss_limit = 0.02;
    snprintf(c.replay_dir, sizeof(c.replay_dir), "%s", BW_FIXTURES "/replay/gap");
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_int_equal(engine_run(e), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    const int64_t midnight = T2024 + DAY_MS;
    assert_int_equal(st.loss_limit_triggers, 1);
    assert_true(sample_sum(reg, "daily_loss_limit_triggered_total", NULL, NULL) == 1);
    assert_int_equal(st.signals, 2); /* 22:40 and 01:00, not the one at 23:30 */
    size_t halt = find(&rec, 0, "risk", "daily loss limit reached");
    size_t resume = find(&rec, 0, "risk", "trading resumes");
    assert_true(halt < rec.n && resume < rec.n && halt < resume);
    assert_int_equal(rec.ev[halt].sev, SEV_CRITICAL);
    /* The gap candle (22:43) closes at 22:44. */
    assert_int_equal(rec.ev[halt].ts_ms, T2024 + 22 * 3600000LL + 44 * 60000LL);
    assert_int_equal(rec.ev[resume].ts_ms, midnight);
    for (size_t i = halt; i < resume; i++) {
        assert_true(strcmp(rec.ev[i].type, "signal") != 0);
        assert_null(strstr(rec.ev[i].message, "submitted to open"));
    }
    size_t next = find(&rec, resume, "order", "submitted to open");
    assert_true(next < rec.n && rec.ev[next].ts_ms == midnight + 3600000LL + 120000LL);
    assert_int_equal(st.transitions[STATE_MANAGING][STATE_HALTED], 1);
    assert_int_equal(st.transitions[STATE_HALTED][STATE_IDLE], 1);
    assert_int_equal(st.transitions[STATE_IDLE][STATE_SCANNING], 2);
    assert_int_equal(st.unexpected_transitions, 0);
    assert_int_equal(st.losses, 1);
    recorder_free(&rec);
    engine_free(e);
    bw_registry_free(reg);
}

static void test_synthetic_tiny_limit(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    bw_registry *reg = bw_registry_new(0);
    test_config(&c, 4, 3);
    c.daily_loss_limit = 0.004; /* a couple of losing trades */
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_int_equal(engine_run(e), BW_OK);
    struct engine_stats st;
    engine_stats_get(e, &st);
    size_t halts = recorder_count(&rec, "risk", "daily loss limit reached");
    assert_true(halts >= 2);
    assert_int_equal(st.loss_limit_triggers, halts);
    assert_true(sample_sum(reg, "daily_loss_limit_triggered_total", NULL, NULL) == (double)halts);
    assert_int_equal(st.transitions[STATE_SIGNAL_WAIT][STATE_HALTED] +
                         st.transitions[STATE_MANAGING][STATE_HALTED],
                     halts);
    int halted = 0;
    int64_t halted_day = -1;
    for (size_t i = 0; i < rec.n; i++) {
        const struct rec_event *ev = &rec.ev[i];
        if (strcmp(ev->type, "risk") == 0 && strstr(ev->message, "daily loss limit reached")) {
            assert_false(halted);
            assert_true(ev->ts_ms / DAY_MS != halted_day); /* at most one a day */
            halted = 1;
            halted_day = ev->ts_ms / DAY_MS;
        } else if (strcmp(ev->type, "risk") == 0 && strstr(ev->message, "trading resumes")) {
            assert_true(halted);
            assert_int_equal(ev->ts_ms % DAY_MS, 0);
            assert_int_equal(ev->ts_ms / DAY_MS, halted_day + 1);
            halted = 0;
        } else if (halted) {
            assert_null(strstr(ev->message, "submitted to open"));
            assert_true(strcmp(ev->type, "signal") != 0 || strstr(ev->message, "dropped"));
        }
    }
    assert_int_equal(st.unexpected_transitions, 0);
    recorder_free(&rec);
    engine_free(e);
    bw_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizing),
        cmocka_unit_test(test_limit_and_new_day),
        cmocka_unit_test(test_gap_fixture),
        cmocka_unit_test(test_synthetic_tiny_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
