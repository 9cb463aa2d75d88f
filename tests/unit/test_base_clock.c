/* Tests for src/base/clock.c: the nanosecond clocks, and clock_ticks — chosen and calibrated
 * once however many threads ask first, never decreasing, its spans agreeing with
 * CLOCK_MONOTONIC over 50 ms, and the same holding on the clock_mono_ns fallback. The fallback
 * cannot be undone, so its test runs last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/base.h"

#define THREADS   4
#define SPAN_NS   50000000 /* 50 ms */
#define PAIR_NS   50000    /* a (ticks, ns) pair read further apart than this is retried */
#define TOLERANCE 0.02

static void test_nanosecond_clocks(void **state)
{
    (void)state;
    int64_t a = clock_mono_ns(), b = clock_mono_ns();
    assert_true(a > 0 && b >= a);
    int64_t real = clock_real_ns();
    assert_true(llabs(real / 1000000000 - (int64_t)time(NULL)) <= 1);
}

static void *first_use(void *arg)
{
    int64_t t = clock_ticks();
    *(double *)arg = clock_tick_seconds();
    return clock_ticks() >= t ? arg : NULL;
}

/* Must be the first test to touch clock_ticks: the threads race to choose the source. */
static void test_first_use_from_threads(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    double tick[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, first_use, &tick[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        void *ok;
        assert_int_equal(pthread_join(th[i], &ok), 0);
        assert_non_null(ok);
        assert_true(tick[i] > 0 && tick[i] == clock_tick_seconds());
    }
}

static void check_monotonic(void)
{
    int64_t prev = clock_ticks();
    for (int i = 0; i < 1000000; i++) {
        int64_t t = clock_ticks();
        assert_true(t >= prev);
        prev = t;
    }
    assert_true(prev > 0);
}

/* A clock_ticks reading and the CLOCK_MONOTONIC time halfway between two reads around it. */
static void pair(int64_t *ticks, int64_t *ns)
{
    int64_t a, b;
    do {
        a = clock_mono_ns();
        *ticks = clock_ticks();
        b = clock_mono_ns();
    } while (b - a > PAIR_NS);
    *ns = a + (b - a) / 2;
}

static void check_calibrated(void)
{
    int64_t t0, t1, ns0, ns1;
    pair(&t0, &ns0);
    struct timespec ts = {0, SPAN_NS};
    nanosleep(&ts, NULL);
    pair(&t1, &ns1);
    double ticked = (double)(t1 - t0) * clock_tick_seconds(), mono = (double)(ns1 - ns0) * 1e-9;
    if (fabs(ticked / mono - 1) > TOLERANCE)
        fail_msg("clock_ticks measured %.6f s where CLOCK_MONOTONIC measured %.6f s", ticked, mono);
}

static void test_ticks(void **state)
{
    (void)state;
    check_monotonic();
    check_calibrated();
}

static void test_fallback(void **state)
{
    (void)state;
    clock_ticks_force_fallback();
    assert_true(clock_tick_seconds() == 1e-9);
    int64_t a = clock_mono_ns(), t = clock_ticks(), b = clock_mono_ns();
    assert_true(a <= t && t <= b);
    check_monotonic();
    check_calibrated();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nanosecond_clocks),
        cmocka_unit_test(test_first_use_from_threads),
        cmocka_unit_test(test_ticks),
        cmocka_unit_test(test_fallback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
