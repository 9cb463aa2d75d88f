/* Tests for histogram_quantile over ranges (src/promql/functions.c's hist_call and
 * src/promql/quantile.c): buckets whose label order is not their bound order ("+Inf" < "0.5"
 * < "1" < "10" < "2.5" as strings), equal bounds spelt differently, bad le labels and their
 * warnings, several groups. Expected values are the linear interpolation worked out by hand. */
#include "promql_eval_test.h"

static void test_bucket_order(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    /* Cumulative counts at 0m and 1m: le=0.5: 10 20, le=1: 20 40, le=2.5: 30 60, le=10: 40 80,
     * +Inf: 40 80. q=0.5: rank 20 (40) falls at the top of le=1: 1. q=0.6: rank 24 (48), in
     * (1, 2.5] 4 (8) of 10 (20): 1 + 1.5 * 0.4 = 1.6. q=0.9: rank 36 (72), in (2.5, 10] 6 (12)
     * of 10 (20): 2.5 + 7.5 * 0.6 = 7. */
    test_series(db, "h_bucket le=0.5", MIN_MS, "10 20");
    test_series(db, "h_bucket le=1", MIN_MS, "20 40");
    test_series(db, "h_bucket le=2.5", MIN_MS, "30 60");
    test_series(db, "h_bucket le=10", MIN_MS, "40 80");
    test_series(db, "h_bucket le=+Inf", MIN_MS, "40 80");
    assert_string_equal(RANGE(db, "histogram_quantile(0.5, h_bucket)", 0, MIN_MS, MIN_MS),
                        "{} 1@0,1@60");
    assert_string_equal(RANGE(db, "histogram_quantile(0.6, h_bucket)", 0, MIN_MS, MIN_MS),
                        "{} 1.6@0,1.6@60");
    assert_string_equal(RANGE(db, "histogram_quantile(0.9, h_bucket)", 0, MIN_MS, MIN_MS),
                        "{} 7@0,7@60");
    /* Through sum by (le) and increase, as a dashboard asks: at 1m a 2m window holds both
     * samples, whose increase, extrapolated over the window, is twice the counts at 0m; at 0m
     * it holds one sample, no increase. */
    assert_string_equal(RANGE(db, "histogram_quantile(0.6, sum by (le) (increase(h_bucket[2m])))",
                              0, MIN_MS, MIN_MS),
                        "{} 1.6@60");
    tsdb_close(db);
}

static void test_equal_bounds_and_groups(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    /* job=a: le=1 and le=1.0 are one bucket of 5 + 5 = 10; le=2: 20; +Inf: 20. q=0.75: rank
     * 15, in (1, 2] 5 of 10: 1.5. job=b: le=4: 5, +Inf: 10; q=0.75: rank 7.5 is past the last
     * finite bucket: its bound, 4. */
    test_series(db, "h_bucket job=a le=1", MIN_MS, "5");
    test_series(db, "h_bucket job=a le=1.0", MIN_MS, "5");
    test_series(db, "h_bucket job=a le=2", MIN_MS, "20");
    test_series(db, "h_bucket job=a le=+Inf", MIN_MS, "20");
    test_series(db, "h_bucket job=b le=4", MIN_MS, "5");
    test_series(db, "h_bucket job=b le=+Inf", MIN_MS, "10");
    assert_string_equal(RANGE(db, "histogram_quantile(0.75, h_bucket)", 0, MIN_MS, MIN_MS),
                        "{job=\"a\"} 1.5@0,1.5@60; {job=\"b\"} 4@0,4@60");
    /* Two bad le labels: each warned about, in input order ("x" before "y"). */
    test_series(db, "h_bucket job=a le=y", MIN_MS, "1");
    test_series(db, "h_bucket job=a le=x", MIN_MS, "1");
    assert_string_equal(INSTANT_ANNOS(db, "histogram_quantile(0.75, h_bucket{job=\"a\"})", 0),
                        "{job=\"a\"} 1.5 [PromQL warning: bucket label \"le\" is missing or has a "
                        "malformed value of \"x\" for metric name \"h_bucket\" (1:26)] [PromQL "
                        "warning: bucket label \"le\" is missing or has a malformed value of \"y\" "
                        "for metric name \"h_bucket\" (1:26)]");
    tsdb_close(db);
}

/* rate over a series with a gap and before / after it: one sample a minute, 60 more each time
 * (a rate of 1), at 0m..4m and 20m..24m, from 60. A 2m window holds two samples at 1m..4m and
 * 21m..24m (rate 1: the increase 60 over the 60 s sampled, extrapolated by 60 s at the start,
 * which the zero point does not shorten, none at the end, divided by 120 s); elsewhere at most
 * one, no rate. */
static void test_rate_gaps(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "c_total", MIN_MS,
                "60 120 180 240 300 _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ 1260 1320 1380 1440 1500");
    assert_string_equal(RANGE(db, "rate(c_total[2m])", 0, 30 * MIN_MS, MIN_MS),
                        "{} 1@60,1@120,1@180,1@240,1@1260,1@1320,1@1380,1@1440");
    /* Shifted by the offset: the same at 11m..14m and 31m..34m. */
    assert_string_equal(RANGE(db, "rate(c_total[2m] offset 10m)", 0, 40 * MIN_MS, MIN_MS),
                        "{} 1@660,1@720,1@780,1@840,1@1860,1@1920,1@1980,1@2040");
    /* A range that starts in the gap, with a step that is not the sampling's. */
    assert_string_equal(RANGE(db, "rate(c_total[2m])", 10 * MIN_MS, 30 * MIN_MS, 3 * MIN_MS),
                        "{} 1@1320");
    /* @ pins every window: all steps or none. */
    assert_string_equal(RANGE(db, "rate(c_total[2m] @ 240)", 0, 3 * MIN_MS, MIN_MS),
                        "{} 1@0,1@60,1@120,1@180");
    assert_string_equal(RANGE(db, "rate(c_total[2m] @ 600)", 0, 3 * MIN_MS, MIN_MS), "");
    tsdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_order),
        cmocka_unit_test(test_equal_bounds_and_groups),
        cmocka_unit_test(test_rate_gaps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
