/* Tests for the operator's halt in src/engine/engine.c (engine_halt, engine_resume,
 * engine_control_wait), cycle by cycle: a halt asked while positions are open is applied at
 * the next cycle, which cancels pending entries, sends every open position's exit and moves
 * the engine to halted; the book is flat a few cycles later; no scan, signal or entry
 * happens while halted, whatever the simulated time (a new UTC day included); a resume goes
 * halted → idle → scanning and the scans advance again; a second halt or a resume with
 * nothing to lift is refused with BW_EBUSY; every transition is a declared one; from another
 * thread, engine_control_wait returns once the engine's own thread applied a request. With the gap
 * fixture's daily loss limit: a resume does not lift the loss limit's halt, an operator's
 * halt laid over it outlasts the UTC midnight that ends the loss limit's, and an operator's
 * halt lifted before midnight leaves the loss limit's in force until then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "engine_test.h"

/* One cycle at the engine's time, then the clock moves on, as engine_run does. */
static void cycle(struct engine *e)
{
    int rc = engine_cycle(e, 0);
    assert_true(rc == BW_OK || rc == FEED_DONE);
    e->now_ms += e->cfg.tick_ms;
}

static struct engine_stats stats(struct engine *e)
{
    struct engine_stats st;
    engine_stats_get(e, &st);
    return st;
}

/* Slots of the book in a phase. */
static int phases(const struct engine *e, enum trade_phase p)
{
    int n = 0;
    for (size_t i = 0; i < e->market.n; i++)
        n += e->slot[i].phase == p;
    return n;
}

static void test_halt_flatten_resume(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    struct recorder rec = {0};
    bw_registry *reg = bw_registry_new(0);
    uint64_t seq, seq2;
    test_config(&c, 8, 3);
    c.reject_rate = 0;
    assert_int_equal(engine_new(&c, reg, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, &rec);
    assert_true(sample_one(reg, "engine_operator_halted", NULL) == 0);
    /* Nothing to resume before any halt. */
    assert_int_equal(engine_resume(e, "alice", &seq, &d), BW_EBUSY);
    assert_non_null(strstr(d.msg, "not halted by an operator"));
    /* Trade until two positions are open. */
    int guard = 0;
    while (phases(e, TRADE_OPEN) < 2 && guard++ < 2 * 86400)
        cycle(e);
    int open_before = phases(e, TRADE_OPEN);
    assert_true(open_before >= 2);
    /* The request is queued, not applied: nothing changes until the next cycle. */
    assert_int_equal(engine_halt(e, "exchange maintenance", "alice", &seq, &d), BW_OK);
    assert_int_equal(seq, 1);
    assert_int_equal(engine_halt(e, "again", "bob", &seq2, &d), BW_EBUSY);
    assert_non_null(strstr(d.msg, "already halted by an operator"));
    assert_int_equal(engine_control_wait(e, seq, 0), 0);
    struct engine_stats st = stats(e);
    assert_int_equal(st.control_pending, 1);
    assert_int_equal(st.halted_by, ENGINE_HALT_NONE);
    assert_int_not_equal(st.state, STATE_HALTED);
    uint64_t scans = st.scans, signals = st.signals;
    size_t ev0 = rec.n;
    cycle(e);
    st = stats(e);
    assert_int_equal(engine_control_wait(e, seq, 0), 1);
    assert_int_equal(st.control_pending, 0);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.halted_by, ENGINE_HALT_OPERATOR);
    assert_string_equal(engine_halt_by_name(st.halted_by), "operator");
    assert_string_equal(st.halt_reason, "exchange maintenance");
    assert_string_equal(st.halt_who, "alice");
    assert_true(st.halt_asked_ms > 0);
    assert_true(sample_one(reg, "engine_operator_halted", NULL) == 1);
    /* Nothing pending is left and every open position is being closed. */
    assert_int_equal(phases(e, TRADE_CANDIDATE) + phases(e, TRADE_ENTRY) + phases(e, TRADE_OPEN),
                     0);
    int exiting = 0;
    for (size_t i = 0; i < e->market.n; i++)
        exiting +=
            e->slot[i].phase == TRADE_EXIT && strcmp(e->slot[i].exit_reason, "operator_halt") == 0;
    assert_true(exiting >= open_before - 1); /* one may have hit its stop in that cycle */
    size_t halt_ev = rec.n;
    for (size_t i = ev0; i < rec.n && halt_ev == rec.n; i++)
        if (strcmp(rec.ev[i].type, "risk") == 0 &&
            strstr(rec.ev[i].message, "halted by an operator (alice): exchange maintenance"))
            halt_ev = i;
    assert_true(halt_ev < rec.n);
    assert_int_equal(rec.ev[halt_ev].sev, SEV_CRITICAL);
    assert_int_equal(recorder_count(&rec, "checkpoint", "operator_halt"), 1);
    assert_int_equal(recorder_count(&rec, "state_change", "→ halted: halted by an operator"), 1);
    /* The exits fill within a few simulated seconds; then the book is flat. */
    guard = 0;
    while (stats(e).positions_open > 0 && guard++ < 60)
        cycle(e);
    assert_int_equal(stats(e).positions_open, 0);
    assert_int_equal((int)recorder_count(&rec, "close", "(operator_halt)"), exiting);
    /* Halted through a whole UTC day: no scan, no signal, no entry. */
    size_t ev1 = rec.n;
    for (int i = 0; i < 86400; i++)
        cycle(e);
    st = stats(e);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.halted_by, ENGINE_HALT_OPERATOR);
    assert_int_equal(st.scans, scans);
    assert_int_equal(st.signals, signals);
    for (size_t i = ev1; i < rec.n; i++) {
        assert_true(strcmp(rec.ev[i].type, "signal") != 0);
        assert_null(strstr(rec.ev[i].message, "submitted to open"));
        assert_null(strstr(rec.ev[i].message, "trading resumes"));
    }
    /* Resume: halted → idle, then scanning, and the scans advance again. */
    assert_int_equal(engine_resume(e, "bob", &seq2, &d), BW_OK);
    assert_int_equal(seq2, 2);
    assert_int_equal(engine_resume(e, "bob", &seq, &d), BW_EBUSY);
    cycle(e);
    st = stats(e);
    assert_int_equal(engine_control_wait(e, seq2, 0), 1);
    assert_int_equal(st.state, STATE_IDLE);
    assert_int_equal(st.halted_by, ENGINE_HALT_NONE);
    assert_string_equal(st.halt_reason, "");
    assert_true(sample_one(reg, "engine_operator_halted", NULL) == 0);
    assert_int_equal(recorder_count(&rec, "risk", "resumed by an operator (bob): trading resumes"),
                     1);
    assert_int_equal(recorder_count(&rec, "checkpoint", "trading_resumed"), 1);
    assert_int_equal(recorder_count(&rec, "state_change", "halted → idle: resumed by an operator"),
                     1);
    cycle(e);
    assert_int_equal(stats(e).state, STATE_SCANNING);
    for (int i = 0; i < 600; i++)
        cycle(e);
    st = stats(e);
    assert_true(st.scans > scans);
    /* Each move was a declared one, halted entered once. */
    assert_int_equal(st.unexpected_transitions, 0);
    uint64_t into = 0;
    for (int a = 0; a < STATE_COUNT; a++)
        into += st.transitions[a][STATE_HALTED];
    assert_int_equal(into, 1);
    assert_int_equal(st.transitions[STATE_HALTED][STATE_IDLE], 1);
    assert_true(sample_sum(reg, "engine_unexpected_transitions_total", NULL, NULL) == 0);
    recorder_free(&rec);
    engine_free(e);
    bw_registry_free(reg);
}

/* A halt and a resume before the next cycle cancel out; a halt from scanning is declared. */
static void test_halt_then_resume_before_a_cycle(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    uint64_t seq;
    test_config(&c, 2, 1);
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    while (stats(e).state != STATE_SCANNING)
        cycle(e);
    assert_int_equal(engine_halt(e, NULL, NULL, &seq, &d), BW_OK);
    assert_int_equal(engine_resume(e, NULL, &seq, &d), BW_OK);
    cycle(e);
    struct engine_stats st = stats(e);
    assert_int_equal(engine_control_wait(e, seq, 0), 1);
    assert_int_not_equal(st.state, STATE_HALTED);
    assert_int_equal(st.transitions[STATE_SCANNING][STATE_HALTED], 0);
    /* Now a halt from scanning (no position: nothing to flatten). */
    while (stats(e).state != STATE_SCANNING)
        cycle(e);
    assert_int_equal(engine_halt(e, NULL, NULL, &seq, &d), BW_OK);
    cycle(e);
    st = stats(e);
    assert_int_equal(st.state, STATE_HALTED);
    assert_string_equal(st.halt_who, "");
    assert_int_equal(st.transitions[STATE_SCANNING][STATE_HALTED], 1);
    assert_int_equal(st.unexpected_transitions, 0);
    engine_free(e);
}

/* From another thread, against the engine's own paced thread: engine_control_wait returns once
 * the cycle applied the request, and the snapshot then shows it. */
static void test_threaded(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    uint64_t seq;
    test_config(&c, 4, 30);
    c.paced = 1;
    c.speed = 600; /* a cycle every 1.7 ms of wall time */
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    assert_int_equal(engine_start(e), BW_OK);
    assert_int_equal(engine_halt(e, "test", "t", &seq, &d), BW_OK);
    assert_int_equal(engine_control_wait(e, seq, 5000), 1);
    struct engine_stats st = stats(e);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.halted_by, ENGINE_HALT_OPERATOR);
    assert_int_equal(st.control_pending, 0);
    uint64_t scans = st.scans;
    int64_t halted_ms = st.sim_time_ms;
    struct timespec pause = {.tv_sec = 0, .tv_nsec = 10000000};
    /* Three candles close (0.3 s of wall time at this speed, 5 s at most under Valgrind). */
    for (int i = 0; i < 500 && stats(e).sim_time_ms < halted_ms + 3 * c.candle_ms; i++)
        nanosleep(&pause, NULL);
    st = stats(e);
    assert_true(st.sim_time_ms >= halted_ms + 3 * c.candle_ms);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.scans, scans);
    assert_int_equal(engine_resume(e, "t", &seq, &d), BW_OK);
    assert_int_equal(engine_control_wait(e, seq, 5000), 1);
    assert_int_equal(stats(e).halted_by, ENGINE_HALT_NONE);
    assert_int_not_equal(stats(e).state, STATE_HALTED);
    engine_stop(e);
    engine_free(e);
}

/* The run over, a request is refused. */
static void test_not_running(void **state)
{
    (void)state;
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    uint64_t seq;
    test_config(&c, 1, 0.01);
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    assert_int_equal(engine_run(e), BW_OK);
    assert_int_equal(engine_halt(e, "late", "alice", &seq, &d), BW_EBUSY);
    assert_non_null(strstr(d.msg, "not running (its run completed)"));
    engine_free(e);
}

/* The gap fixture (see test_engine_risk.c): the loss limit halts at 22:44 on 2024-01-01 and
 * lifts at midnight. Runs it up to that halt. */
static struct engine *gap_engine(struct recorder *rec)
{
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    test_config(&c, 0, 0);
    c.reject_rate = 0;
    c.daily_loss_limit = 0.02;
    snprintf(c.replay_dir, sizeof(c.replay_dir), "%s", BW_FIXTURES "/replay/gap");
    assert_int_equal(engine_new(&c, NULL, NULL, &e, &d), BW_OK);
    engine_set_trace(e, recorder_fn, rec);
    while (stats(e).halted_by != ENGINE_HALT_LOSS_LIMIT)
        cycle(e);
    assert_int_equal(stats(e).state, STATE_HALTED);
    assert_int_equal(e->now_ms, T2024 + 22 * 3600000LL + 44 * 60000LL + 1000);
    return e;
}

/* The loss limit's halt, then an operator's over it: midnight does not lift it. */
static void test_operator_outlasts_loss_limit(void **state)
{
    (void)state;
    struct recorder rec = {0};
    struct diag d = {0};
    uint64_t seq;
    struct engine *e = gap_engine(&rec);
    assert_int_equal(engine_resume(e, "alice", &seq, &d), BW_EBUSY);
    assert_non_null(strstr(d.msg, "halted by the daily loss limit"));
    assert_int_equal(engine_halt(e, "investigating the gap", "alice", &seq, &d), BW_OK);
    cycle(e);
    struct engine_stats st = stats(e);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.halted_by, ENGINE_HALT_OPERATOR);
    while (e->now_ms < T2024 + DAY_MS + 3 * 3600000LL) /* to 03:00, past the 01:00 breakout */
        cycle(e);
    st = stats(e);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.halted_by, ENGINE_HALT_OPERATOR);
    assert_int_equal(st.signals, 1); /* only the one before the gap */
    assert_int_equal(recorder_count(&rec, "risk", "trading stays halted by an operator"), 1);
    assert_int_equal(recorder_count(&rec, "risk", "trading resumes"), 0);
    assert_int_equal(recorder_count(&rec, "checkpoint", "trading_resumed"), 0);
    assert_int_equal(engine_resume(e, "alice", &seq, &d), BW_OK);
    cycle(e);
    assert_int_equal(stats(e).state, STATE_IDLE);
    assert_int_equal(recorder_count(&rec, "state_change", "halted → idle: resumed by an operator"),
                     1);
    cycle(e);
    st = stats(e);
    assert_int_equal(st.state, STATE_SCANNING);
    assert_int_equal(st.transitions[STATE_HALTED][STATE_IDLE], 1);
    assert_int_equal(st.unexpected_transitions, 0);
    recorder_free(&rec);
    engine_free(e);
}

/* An operator's halt over the loss limit's, lifted before midnight: the loss limit's stays. */
static void test_resume_leaves_loss_limit(void **state)
{
    (void)state;
    struct recorder rec = {0};
    struct diag d = {0};
    uint64_t seq;
    struct engine *e = gap_engine(&rec);
    assert_int_equal(engine_halt(e, NULL, "alice", &seq, &d), BW_OK);
    cycle(e);
    assert_int_equal(engine_resume(e, "alice", &seq, &d), BW_OK);
    cycle(e);
    struct engine_stats st = stats(e);
    assert_int_equal(st.state, STATE_HALTED);
    assert_int_equal(st.halted_by, ENGINE_HALT_LOSS_LIMIT);
    assert_int_equal(recorder_count(&rec, "risk", "trading stays halted by the daily loss limit"),
                     1);
    while (e->now_ms < T2024 + DAY_MS)
        cycle(e);
    assert_int_equal(stats(e).state, STATE_HALTED);
    cycle(e); /* midnight */
    st = stats(e);
    assert_int_equal(st.state, STATE_IDLE);
    assert_int_equal(st.halted_by, ENGINE_HALT_NONE);
    assert_int_equal(recorder_count(&rec, "state_change", "halted → idle: new trading day"), 1);
    assert_int_equal(recorder_count(&rec, "checkpoint", "trading_resumed"), 1);
    assert_int_equal(st.unexpected_transitions, 0);
    recorder_free(&rec);
    engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_halt_flatten_resume),
        cmocka_unit_test(test_halt_then_resume_before_a_cycle),
        cmocka_unit_test(test_threaded),
        cmocka_unit_test(test_not_running),
        cmocka_unit_test(test_operator_outlasts_loss_limit),
        cmocka_unit_test(test_resume_leaves_loss_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
