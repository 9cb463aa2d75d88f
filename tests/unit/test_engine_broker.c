/* Tests for src/engine/broker.c: latencies average latency_ms_mean and are never below 1 ms;
 * fills move slippage_bps against the trader on both sides; about reject_rate of entries are
 * rejected and reduce-only orders never; order ids increase; equal seeds execute alike. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "engine_test.h"

static void init(struct broker *b, uint64_t seed, double latency, double bps, double reject)
{
    struct engine_config c;
    engine_config_defaults(&c);
    c.seed = seed;
    c.latency_ms_mean = latency;
    c.slippage_bps = bps;
    c.reject_rate = reject;
    broker_init(b, &c);
}

static void test_latency(void **state)
{
    (void)state;
    struct broker b;
    struct order o;
    init(&b, 1, 150, 0, 0);
    double sum = 0;
    int64_t lo = INT64_MAX, hi = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        broker_submit(&b, &o, SIDE_LONG, 1.0, 0, 1000);
        int64_t lat = o.due_ms - o.submit_ms;
        sum += (double)lat;
        lo = lat < lo ? lat : lo;
        hi = lat > hi ? lat : hi;
        assert_int_equal(o.status, ORDER_SUBMITTED);
        assert_int_equal(o.id, (uint64_t)i + 1);
    }
    assert_true(fabs(sum / n - 150.0) < 3.0);
    assert_true(lo >= 20 && lo < 75 && hi > 300); /* log-normal: a spread, a tail */
    init(&b, 1, 0.01, 0, 0);
    broker_submit(&b, &o, SIDE_LONG, 1.0, 0, 1000);
    assert_int_equal(o.due_ms, 1001);
}

static void test_slippage(void **state)
{
    (void)state;
    struct broker b;
    struct order o;
    init(&b, 1, 100, 25, 0);
    broker_submit(&b, &o, SIDE_LONG, 2.0, 0, 0);
    assert_int_equal(broker_execute(&b, &o, 200.0), ORDER_FILLED);
    assert_true(fabs(o.fill_price - 200.5) < 1e-9); /* buy: 25 bps higher */
    broker_submit(&b, &o, SIDE_SHORT, 2.0, 1, 0);
    assert_int_equal(broker_execute(&b, &o, 200.0), ORDER_FILLED);
    assert_true(fabs(o.fill_price - 199.5) < 1e-9); /* sell: 25 bps lower */
    assert_int_equal(o.status, ORDER_FILLED);
}

static void test_rejects(void **state)
{
    (void)state;
    struct broker b;
    struct order o;
    init(&b, 9, 100, 0, 0.1);
    int rejected = 0;
    for (int i = 0; i < 10000; i++) {
        broker_submit(&b, &o, SIDE_LONG, 1.0, 0, 0);
        rejected += broker_execute(&b, &o, 10.0) == ORDER_REJECTED;
        broker_submit(&b, &o, SIDE_SHORT, 1.0, 1, 0);
        assert_int_equal(broker_execute(&b, &o, 10.0), ORDER_FILLED);
    }
    assert_true(rejected > 900 && rejected < 1100);
    assert_string_equal(order_status_name(ORDER_REJECTED), "rejected");
    assert_string_equal(order_status_name(ORDER_CANCELLED), "cancelled");
}

static void test_deterministic(void **state)
{
    (void)state;
    struct broker a, b;
    struct order oa, ob;
    init(&a, 4, 150, 2, 0.3);
    init(&b, 4, 150, 2, 0.3);
    for (int i = 0; i < 1000; i++) {
        broker_submit(&a, &oa, SIDE_LONG, 1.0, 0, i);
        broker_submit(&b, &ob, SIDE_LONG, 1.0, 0, i);
        assert_int_equal(oa.due_ms, ob.due_ms);
        assert_int_equal(broker_execute(&a, &oa, 5.0), broker_execute(&b, &ob, 5.0));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_slippage),
        cmocka_unit_test(test_rejects),
        cmocka_unit_test(test_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
