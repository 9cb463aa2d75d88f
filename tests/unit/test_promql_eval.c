/* Tests for src/promql/eval.c, aggregate.c and binop.c on small in-memory tsdbs: lookback and
 * stale markers, offsets and @, range queries and their step alignment, subqueries, result
 * types and order, delayed name removal, aggregations, vector matching and its errors, and
 * the limits (samples, memory, result types). */
#include <math.h>

#include "promql_eval_test.h"

static void test_lookback_and_staleness(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "lone", 1000, "1");
    test_series(db, "gone", MIN_MS, "1 2 stale");
    /* Left-open lookback: a sample at 0 is visible until just before 5m. */
    assert_string_equal(INSTANT(db, "lone", 299 * 1000), "lone{} 1");
    assert_string_equal(INSTANT(db, "lone", 300 * 1000), "");
    /* A stale marker hides the series at once. */
    assert_string_equal(INSTANT(db, "gone", 90 * 1000), "gone{} 2");
    assert_string_equal(INSTANT(db, "gone", 2 * MIN_MS), "");
    assert_string_equal(INSTANT(db, "gone[3m]", 2 * MIN_MS), "gone{} 1@0,2@60");
    tsdb_close(db);
}

static void test_offset_and_at(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "x", MIN_MS, "0 1 2 3 4 5 6 7 8 9 10");
    assert_string_equal(INSTANT(db, "x offset 2m", 5 * MIN_MS), "x{} 3");
    assert_string_equal(INSTANT(db, "x offset -2m", 5 * MIN_MS), "x{} 7");
    assert_string_equal(INSTANT(db, "x @ 120", 9 * MIN_MS), "x{} 2");
    assert_string_equal(INSTANT(db, "x @ 240 offset 1m", 9 * MIN_MS), "x{} 3");
    /* start() and end() of a range query; the @ part is the same at every step. */
    assert_string_equal(RANGE(db, "x @ start() + x @ end()", MIN_MS, 3 * MIN_MS, MIN_MS),
                        "{} 4@60,4@120,4@180");
    assert_string_equal(RANGE(db, "x - x @ start()", MIN_MS, 3 * MIN_MS, MIN_MS),
                        "{} 0@60,1@120,2@180");
    tsdb_close(db);
}

static void test_range_query(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "m a=2", MIN_MS, "1 2 3");
    test_series(db, "m a=1", MIN_MS, "_ _ _ _ _ _ _ _ 8");
    /* Sorted by labels; the series without a point in range is left out. */
    assert_string_equal(RANGE(db, "m", 0, 2 * MIN_MS, MIN_MS), "m{a=\"2\"} 1@0,2@60,3@120");
    assert_string_equal(RANGE(db, "m", 6 * MIN_MS, 8 * MIN_MS, MIN_MS),
                        "m{a=\"1\"} 8@480; m{a=\"2\"} 3@360");
    /* Scalars become one series without labels. */
    assert_string_equal(RANGE(db, "time()", 0, 2 * MIN_MS, MIN_MS), "{} 0@0,60@60,120@120");
    assert_string_equal(RANGE(db, "m[5m]", 0, MIN_MS, MIN_MS),
                        "error: invalid expression type \"range vector\" for range query, must "
                        "be Scalar or instant Vector");
    assert_string_equal(RANGE(db, "\"s\"", 0, MIN_MS, MIN_MS),
                        "error: invalid expression type \"string\" for range query, must be "
                        "Scalar or instant Vector");
    tsdb_close(db);
}

static void test_result_types(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "m", 30 * 1000, "1 2 3 4 5");
    assert_string_equal(INSTANT(db, "1 + 2 * 3", 0), "7");
    assert_string_equal(INSTANT(db, "\"hello\"", 0), "\"hello\"");
    /* A range selector returns the raw samples of the left-open window. */
    assert_string_equal(INSTANT(db, "m[1m]", 2 * MIN_MS), "m{} 4@90,5@120");
    assert_string_equal(INSTANT(db, "m[1m] offset 30s", 2 * MIN_MS), "m{} 3@60,4@90");
    /* A subquery's points sit on multiples of its step. */
    assert_string_equal(INSTANT(db, "m[1m:20s]", 2 * MIN_MS), "m{} 3@80,4@100,5@120");
    assert_string_equal(INSTANT(db, "sum_over_time(m[1m:20s])", 2 * MIN_MS), "{} 12");
    /* Nested subqueries. */
    assert_string_equal(INSTANT(db, "max_over_time(min_over_time(m[30s:10s])[1m:30s])", 2 * MIN_MS),
                        "{} 4");
    tsdb_close(db);
}

static void test_name_dropping(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "a_total env=1", MIN_MS, "0 60 120");
    test_series(db, "b_total env=1", MIN_MS, "60 120 180");
    assert_string_equal(INSTANT(db, "-a_total", 2 * MIN_MS), "{env=\"1\"} -120");
    assert_string_equal(INSTANT(db, "a_total > 10", 2 * MIN_MS), "a_total{env=\"1\"} 120");
    assert_string_equal(INSTANT(db, "a_total > bool 10", 2 * MIN_MS), "{env=\"1\"} 1");
    assert_string_equal(INSTANT(db, "last_over_time(a_total[2m])", 2 * MIN_MS),
                        "a_total{env=\"1\"} 120");
    /* Names are removed at the end: aggregating them first is fine... */
    assert_string_equal(INSTANT(db, "sum by (env) (rate({env=\"1\"}[2m]))", 2 * MIN_MS),
                        "{env=\"1\"} 2");
    /* ...but two results that end up equal are an error. */
    assert_string_equal(INSTANT(db, "rate({env=\"1\"}[2m])", 2 * MIN_MS),
                        "error: vector cannot contain metrics with the same labelset");
    assert_string_equal(RANGE(db, "rate({env=\"1\"}[2m])", MIN_MS, 2 * MIN_MS, MIN_MS),
                        "error: vector cannot contain metrics with the same labelset");
    assert_string_equal(INSTANT(db,
                                "label_replace(rate({env=\"1\"}[2m]), \"__name__\", "
                                "\"r_$1\", \"__name__\", \"(.+)\")",
                                2 * MIN_MS),
                        "r_a_total{env=\"1\"} 1; r_b_total{env=\"1\"} 1");
    tsdb_close(db);
}

static void test_aggregations(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "req job=a inst=1", MIN_MS, "10");
    test_series(db, "req job=a inst=2", MIN_MS, "20");
    test_series(db, "req job=b inst=1", MIN_MS, "30");
    test_series(db, "req job=b inst=2", MIN_MS, "NaN");
    assert_string_equal(INSTANT(db, "sum by (job) (req)", 0), "{job=\"a\"} 30; {job=\"b\"} NaN");
    assert_string_equal(INSTANT(db, "max by (job) (req)", 0), "{job=\"a\"} 20; {job=\"b\"} 30");
    assert_string_equal(INSTANT(db, "count without (inst) (req)", 0),
                        "{job=\"a\"} 2; {job=\"b\"} 2");
    assert_string_equal(INSTANT(db, "stddev(req{job=\"a\"})", 0), "{} 5");
    assert_string_equal(INSTANT(db, "quantile(0.5, req{job=\"a\"})", 0), "{} 15");
    assert_string_equal(INSTANT(db, "count_values(\"v\", req{job=\"a\"} * 100000)", 0),
                        "{v=\"1000000\"} 1; {v=\"2000000\"} 1");
    assert_string_equal(INSTANT(db, "count(nothing)", 0), "");
    /* topk keeps the input series, ordered by value in an instant query; NaN ranks last. */
    assert_string_equal(INSTANT(db, "topk(3, req)", 0),
                        "req{inst=\"1\", job=\"b\"} 30; req{inst=\"2\", job=\"a\"} 20; "
                        "req{inst=\"1\", job=\"a\"} 10");
    assert_string_equal(INSTANT(db, "bottomk(1, req)", 0), "req{inst=\"1\", job=\"a\"} 10");
    assert_string_equal(INSTANT(db, "topk(0, req)", 0), "");
    assert_string_equal(INSTANT_ANNOS(db, "quantile(2, req)", 0),
                        "{} +Inf [PromQL warning: quantile value should be between 0 and 1, got "
                        "2 (1:10)]");
    /* Averages that overflow switch to the incremental mean. */
    test_series(db, "big i=1", MIN_MS, "1e308");
    test_series(db, "big i=2", MIN_MS, "1e308");
    assert_string_equal(INSTANT(db, "avg(big)", 0), "{} 1e+308");
    tsdb_close(db);
}

static void test_vector_matching(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "used host=a dev=x", MIN_MS, "1");
    test_series(db, "used host=a dev=y", MIN_MS, "3");
    test_series(db, "size host=a dev=x", MIN_MS, "4");
    test_series(db, "size host=a dev=y", MIN_MS, "6");
    test_series(db, "info host=a os=linux", MIN_MS, "1");
    assert_string_equal(INSTANT(db, "used / size", 0),
                        "{dev=\"x\", host=\"a\"} 0.25; {dev=\"y\", host=\"a\"} 0.5");
    assert_string_equal(INSTANT(db, "used / on(host, dev) size", 0),
                        "{dev=\"x\", host=\"a\"} 0.25; {dev=\"y\", host=\"a\"} 0.5");
    assert_string_equal(INSTANT(db, "used * on(host) group_left(os) info", 0),
                        "{dev=\"x\", host=\"a\", os=\"linux\"} 1; "
                        "{dev=\"y\", host=\"a\", os=\"linux\"} 3");
    assert_string_equal(INSTANT(db, "info * on(host) group_right used", 0),
                        "{dev=\"x\", host=\"a\"} 1; {dev=\"y\", host=\"a\"} 3");
    /* One-to-one with on(): only the on labels stay. */
    assert_string_equal(INSTANT(db, "used > on(host, dev) size / 4", 0),
                        "{dev=\"y\", host=\"a\"} 3");
    assert_string_equal(INSTANT(db, "used > size / 4", 0), "used{dev=\"y\", host=\"a\"} 3");
    assert_string_equal(INSTANT(db, "used and on(dev) size{dev=\"x\"}", 0),
                        "used{dev=\"x\", host=\"a\"} 1");
    assert_string_equal(INSTANT(db, "used unless on(dev) size{dev=\"x\"}", 0),
                        "used{dev=\"y\", host=\"a\"} 3");
    assert_string_equal(INSTANT(db, "info or used", 0),
                        "info{host=\"a\", os=\"linux\"} 1; used{dev=\"x\", host=\"a\"} 1; "
                        "used{dev=\"y\", host=\"a\"} 3");
    assert_string_equal(INSTANT(db, "used * on(host) size", 0),
                        "error: found duplicate series for the match group {host=\"a\"} on the "
                        "right hand-side of the operation: [{__name__=\"size\", dev=\"y\", "
                        "host=\"a\"}, {__name__=\"size\", dev=\"x\", host=\"a\"}];many-to-many "
                        "matching not allowed: matching labels must be unique on one side");
    assert_string_equal(INSTANT(db, "used * on(host) info", 0),
                        "error: multiple matches for labels: many-to-one matching must be "
                        "explicit (group_left/group_right)");
    assert_string_equal(INSTANT(db, "used + ignoring(dev, os) group_left info", 0),
                        "{dev=\"x\", host=\"a\"} 2; {dev=\"y\", host=\"a\"} 4");
    assert_string_equal(INSTANT(db, "2 ^ 3 ^ 2", 0), "512");
    assert_string_equal(INSTANT(db, "1 < bool 2", 0), "1");
    assert_string_equal(INSTANT(db, "5 > used", 0),
                        "used{dev=\"x\", host=\"a\"} 1; used{dev=\"y\", host=\"a\"} 3");
    assert_string_equal(INSTANT(db, "vector(7) atan2 vector(0)", 0), "{} 1.5707963267948966");
    tsdb_close(db);
}

static void test_limits(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    char buf[4096];
    for (int i = 0; i < 50; i++) {
        char spec[64];
        snprintf(spec, sizeof(spec), "m i=%d", i);
        test_series(db, spec, MIN_MS, "1 2 3 4 5 6 7 8 9 10");
    }
    struct promql_options few = {.max_samples = 100};
    assert_string_equal(test_range_o(db, &few, "m", 0, 9 * MIN_MS, MIN_MS, buf, sizeof(buf)),
                        "error: query processing would load too many samples into memory in "
                        "query execution");
    struct promql_options small = {.max_memory = 64 * 1024};
    assert_string_equal(
        test_range_o(db, &small, "sum(rate(m[5m]))", 0, 9 * MIN_MS, 1000, buf, sizeof(buf)),
        "error: query processing would use more than 65536 bytes of memory");
    /* A query over its time limit fails alone: the clock is read while it runs. */
    for (int i = 50; i < 200; i++) {
        char spec[64];
        snprintf(spec, sizeof(spec), "m i=%d", i);
        test_series(db, spec, MIN_MS, "1 2 3 4 5 6 7 8 9 10");
    }
    struct promql_options quick = {.timeout_ms = 1};
    assert_string_equal(test_range_o(db, &quick, "sum(rate(m[5m])) + sum(rate(m[10m]))", 0,
                                     9 * MIN_MS, 100, buf, sizeof(buf)),
                        "error: query timed out in expression evaluation");
    /* The same query within limits. */
    assert_string_equal(INSTANT(db, "sum(m)", 9 * MIN_MS), "{} 2000");
    struct promql_result *r;
    struct promql_error err;
    assert_int_equal(promql_query_instant(db, NULL, "sum(", 0, &r, &err), BW_EINVAL);
    assert_int_equal(err.kind, PROMQL_ERR_BAD_DATA);
    assert_int_equal(promql_query_instant(db, NULL, "m * on() m", 0, &r, &err), BW_EINVAL);
    assert_int_equal(err.kind, PROMQL_ERR_EXECUTION);
    tsdb_close(db);
}

static void test_ordering_flag(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "v k=a", MIN_MS, "3");
    test_series(db, "v k=b", MIN_MS, "1");
    test_series(db, "v k=c", MIN_MS, "2");
    struct promql_result *r;
    struct promql_error err;
    assert_int_equal(promql_query_instant(db, NULL, "sort(v)", 0, &r, &err), BW_OK);
    assert_true(r->ordered);
    assert_string_equal(labelset_get(&r->series[0].labels, "k"), "b");
    promql_result_free(r);
    assert_int_equal(promql_query_instant(db, NULL, "v * 2", 0, &r, &err), BW_OK);
    assert_false(r->ordered);
    assert_string_equal(labelset_get(&r->series[0].labels, "k"), "a");
    promql_result_free(r);
    assert_string_equal(INSTANT(db, "sort_desc(v)", 0), "v{k=\"a\"} 3; v{k=\"c\"} 2; v{k=\"b\"} 1");
    tsdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookback_and_staleness),
        cmocka_unit_test(test_offset_and_at),
        cmocka_unit_test(test_range_query),
        cmocka_unit_test(test_result_types),
        cmocka_unit_test(test_name_dropping),
        cmocka_unit_test(test_aggregations),
        cmocka_unit_test(test_vector_matching),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ordering_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
