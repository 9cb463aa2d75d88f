/* Tests for src/promql/functions.c and quantile.c: the exact numbers of rate / increase /
 * delta extrapolation, irate, deriv, predict_linear, resets, changes, the *_over_time family,
 * classic histogram_quantile (monotonicity, equal bounds, NaN / Inf rules, annotations),
 * label_replace / label_join, sorting, clamping, rounding, dates, absent and vector / scalar. */
#include <math.h>

#include "promql_eval_test.h"

static void test_rate_increase(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    /* The reference's example: 1+10x10 every 5m; increase over 100m at 50m is 101. */
    test_series(db, "x_total", 5 * MIN_MS, "1 11 21 31 41 51 61 71 81 91 101");
    assert_string_equal(INSTANT(db, "increase(x_total[100m])", 50 * MIN_MS), "{} 101");
    assert_string_equal(INSTANT(db, "rate(x_total[100m])", 50 * MIN_MS), "{} 0.016833333333333332");
    /* delta: no zero cut-off, so half an interval at the start: 100 * 3150 / 3000. */
    assert_string_equal(INSTANT(db, "delta(x_total[100m])", 50 * MIN_MS), "{} 105");
    /* v3 windows are left-open: at 50m a 5m window holds one sample, so no rate. */
    assert_string_equal(INSTANT(db, "rate(x_total[5m])", 50 * MIN_MS), "");
    /* A reset adds the value before it: 0 1 2 3 2 3 4 increases by 7 (before extrapolation
     * over the window's exact span, which is none here). */
    test_series(db, "r_total", MIN_MS, "0 1 2 3 2 3 4");
    assert_string_equal(INSTANT(db, "increase(r_total[6m1ms])", 6 * MIN_MS), "{} 7");
    assert_string_equal(INSTANT(db, "resets(r_total[10m])", 6 * MIN_MS), "{} 1");
    assert_string_equal(INSTANT(db, "changes(r_total[10m])", 6 * MIN_MS), "{} 6");
    assert_string_equal(INSTANT(db, "resets(r_total[1m])", 6 * MIN_MS), "{} 0");
    assert_string_equal(INSTANT(db, "irate(r_total[5m])", 4 * MIN_MS), "{} 0.03333333333333333");
    assert_string_equal(INSTANT(db, "idelta(r_total[5m])", 4 * MIN_MS), "{} -1");
    /* The info for a name that does not look like a counter, with its position. */
    test_series(db, "gauge", MIN_MS, "1 2 3");
    assert_string_equal(INSTANT_ANNOS(db, "rate(gauge[3m])", 2 * MIN_MS),
                        "{} 0.016666666666666666 [PromQL info: metric might not be a counter, "
                        "name does not end in _total/_sum/_count/_bucket: \"gauge\" (1:6)]");
    tsdb_close(db);
}

static void test_regression(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "lin", MIN_MS, "0 60 120 180");
    assert_string_equal(INSTANT(db, "deriv(lin[5m])", 3 * MIN_MS), "{} 1");
    assert_string_equal(INSTANT(db, "predict_linear(lin[5m], 60)", 3 * MIN_MS), "{} 240");
    test_series(db, "flat", MIN_MS, "5 5 5");
    assert_string_equal(INSTANT(db, "deriv(flat[5m])", 2 * MIN_MS), "{} 0");
    test_series(db, "infinite", MIN_MS, "Inf Inf");
    assert_string_equal(INSTANT(db, "deriv(infinite[5m])", MIN_MS), "{} NaN");
    assert_string_equal(INSTANT(db, "deriv(lin[1m])", 3 * MIN_MS), "");
    tsdb_close(db);
}

static void test_over_time(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "s", MIN_MS, "1 2 NaN 4");
    test_series(db, "t", MIN_MS, "2 4 4 4 5 5 7 9");
    assert_string_equal(INSTANT(db, "sum_over_time(t[10m])", 7 * MIN_MS), "{} 40");
    assert_string_equal(INSTANT(db, "avg_over_time(t[10m])", 7 * MIN_MS), "{} 5");
    assert_string_equal(INSTANT(db, "count_over_time(t[10m])", 7 * MIN_MS), "{} 8");
    assert_string_equal(INSTANT(db, "stddev_over_time(t[10m])", 7 * MIN_MS), "{} 2");
    assert_string_equal(INSTANT(db, "stdvar_over_time(t[10m])", 7 * MIN_MS), "{} 4");
    assert_string_equal(INSTANT(db, "quantile_over_time(0.5, t[10m])", 7 * MIN_MS), "{} 4.5");
    assert_string_equal(INSTANT(db, "last_over_time(t[10m])", 7 * MIN_MS), "t{} 9");
    assert_string_equal(INSTANT(db, "present_over_time(t[10m])", 7 * MIN_MS), "{} 1");
    /* NaN only wins min/max when alone. */
    assert_string_equal(INSTANT(db, "max_over_time(s[10m])", 3 * MIN_MS), "{} 4");
    assert_string_equal(INSTANT(db, "min_over_time(s[10m])", 3 * MIN_MS), "{} 1");
    assert_string_equal(INSTANT(db, "changes(s[10m])", 3 * MIN_MS), "{} 3");
    assert_string_equal(INSTANT_ANNOS(db, "quantile_over_time(-1, t[10m])", 7 * MIN_MS),
                        "{} -Inf [PromQL warning: quantile value should be between 0 and 1, got "
                        "-1 (1:20)]");
    assert_string_equal(INSTANT(db, "absent_over_time(t[1m])", 9 * MIN_MS), "{} 1");
    assert_string_equal(INSTANT(db, "absent_over_time(nope{a=\"b\",c=~\"d\"}[1m])", 0),
                        "{a=\"b\"} 1");
    tsdb_close(db);
}

static void test_histogram_quantile(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "h_bucket le=0.1", MIN_MS, "10");
    test_series(db, "h_bucket le=0.2", MIN_MS, "20");
    test_series(db, "h_bucket le=1", MIN_MS, "40");
    test_series(db, "h_bucket le=+Inf", MIN_MS, "40");
    assert_string_equal(INSTANT(db, "histogram_quantile(0.5, h_bucket)", 0), "{} 0.2");
    assert_string_equal(INSTANT(db, "histogram_quantile(0.75, h_bucket)", 0),
                        "{} 0.6000000000000001");
    assert_string_equal(INSTANT(db, "histogram_quantile(0.1, h_bucket)", 0),
                        "{} 0.04000000000000001");
    /* The top bucket gives the second-highest bound. */
    assert_string_equal(INSTANT(db, "histogram_quantile(1, h_bucket)", 0), "{} 1");
    assert_string_equal(INSTANT_ANNOS(db, "histogram_quantile(1.5, h_bucket)", 0),
                        "{} +Inf [PromQL warning: quantile value should be between 0 and 1, got "
                        "1.5 (1:20)]");
    assert_string_equal(INSTANT(db, "histogram_fraction(0.1, 0.2, h_bucket)", 0), "{} 0.25");
    /* As in Prometheus, a bound inside the lowest bucket (from -Inf) interpolates to NaN. */
    assert_string_equal(INSTANT(db, "histogram_fraction(0, 0.2, h_bucket)", 0), "{} NaN");
    /* Non-monotonic buckets are fixed, with an info. */
    test_series(db, "nm_bucket le=0.1", MIN_MS, "20");
    test_series(db, "nm_bucket le=1", MIN_MS, "10");
    test_series(db, "nm_bucket le=10", MIN_MS, "50");
    test_series(db, "nm_bucket le=100", MIN_MS, "40");
    test_series(db, "nm_bucket le=1000", MIN_MS, "90");
    test_series(db, "nm_bucket le=+Inf", MIN_MS, "80");
    assert_string_equal(INSTANT_ANNOS(db, "histogram_quantile(0.5, nm_bucket)", 0),
                        "{} 8.5 [PromQL info: input to histogram_quantile needed to be fixed for "
                        "monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/"
                        "functions/#histogram_quantile) for metric name \"nm_bucket\" (1:25)]");
    /* Equal bounds written differently merge; no +Inf bucket gives NaN. */
    test_series(db, "eq_bucket le=0.2", MIN_MS, "5");
    test_series(db, "eq_bucket le=2e-1", MIN_MS, "5");
    test_series(db, "eq_bucket le=Inf", MIN_MS, "20");
    assert_string_equal(INSTANT(db, "histogram_quantile(0.5, eq_bucket)", 0), "{} 0.2");
    test_series(db, "noinf_bucket le=1", MIN_MS, "5");
    assert_string_equal(INSTANT(db, "histogram_quantile(0.5, noinf_bucket)", 0), "{} NaN");
    test_series(db, "bad_bucket le=x", MIN_MS, "5");
    assert_string_equal(INSTANT_ANNOS(db, "histogram_quantile(0.5, bad_bucket)", 0),
                        " [PromQL warning: bucket label \"le\" is missing or has a malformed "
                        "value of \"x\" for metric name \"bad_bucket\" (1:25)]");
    /* Grouping keeps the other labels; histogram_count is for native histograms only. */
    assert_string_equal(INSTANT(db, "histogram_quantile(0.5, sum by (le) (h_bucket))", 0),
                        "{} 0.2");
    assert_string_equal(INSTANT(db, "histogram_count(h_bucket)", 0), "");
    tsdb_close(db);
}

static void test_labels(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "up job=api-server src=a-b", MIN_MS, "1");
    assert_string_equal(
        INSTANT(db, "label_replace(up, \"dst\", \"$1-${2}x-$2x\", \"src\", \"(.*)-(.*)\")", 0),
        "up{dst=\"a-bx-\", job=\"api-server\", src=\"a-b\"} 1");
    assert_string_equal(INSTANT(db, "label_replace(up, \"dst\", \"$1\", \"src\", \"nomatch\")", 0),
                        "up{job=\"api-server\", src=\"a-b\"} 1");
    assert_string_equal(INSTANT(db, "label_replace(up, \"job\", \"\", \"job\", \".*\")", 0),
                        "up{src=\"a-b\"} 1");
    assert_string_equal(INSTANT(db, "label_replace(up, \"d\", \"$1\", \"src\", \"(.*\")", 0),
                        "error: invalid regular expression in label_replace(): (.*");
    assert_string_equal(INSTANT(db, "label_replace(up, \"\", \"\", \"src\", \".*\")", 0),
                        "error: invalid destination label name in label_replace(): ");
    assert_string_equal(INSTANT(db, "label_join(up, \"j\", \"/\", \"job\", \"none\", \"src\")", 0),
                        "up{j=\"api-server//a-b\", job=\"api-server\", src=\"a-b\"} 1");
    test_series(db, "n k=a10", MIN_MS, "1");
    test_series(db, "n k=a9", MIN_MS, "2");
    test_series(db, "n k=b1", MIN_MS, "3");
    struct promql_options exp = {.enable_experimental = true};
    char buf[1024];
    assert_string_equal(test_instant_o(db, &exp, "sort_by_label(n, \"k\")", 0, false, buf, 1024),
                        "n{k=\"a9\"} 2; n{k=\"a10\"} 1; n{k=\"b1\"} 3");
    assert_string_equal(
        test_instant_o(db, &exp, "sort_by_label_desc(n, \"k\")", 0, false, buf, 1024),
        "n{k=\"b1\"} 3; n{k=\"a10\"} 1; n{k=\"a9\"} 2");
    assert_string_equal(INSTANT(db, "sort(n)", 0), "n{k=\"a10\"} 1; n{k=\"a9\"} 2; n{k=\"b1\"} 3");
    tsdb_close(db);
}

static void test_elementwise(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    test_series(db, "v k=a", MIN_MS, "-2.5");
    test_series(db, "v k=b", MIN_MS, "7.25");
    assert_string_equal(INSTANT(db, "abs(v)", 0), "{k=\"a\"} 2.5; {k=\"b\"} 7.25");
    assert_string_equal(INSTANT(db, "round(v)", 0), "{k=\"a\"} -2; {k=\"b\"} 7");
    assert_string_equal(INSTANT(db, "round(v, 0.5)", 0), "{k=\"a\"} -2.5; {k=\"b\"} 7.5");
    assert_string_equal(INSTANT(db, "clamp(v, 0, 5)", 0), "{k=\"a\"} 0; {k=\"b\"} 5");
    assert_string_equal(INSTANT(db, "clamp(v, 5, 0)", 0), "");
    assert_string_equal(INSTANT(db, "clamp_min(v, 0)", 0), "{k=\"a\"} 0; {k=\"b\"} 7.25");
    assert_string_equal(INSTANT(db, "sgn(v)", 0), "{k=\"a\"} -1; {k=\"b\"} 1");
    assert_string_equal(INSTANT(db, "scalar(v)", 0), "NaN");
    assert_string_equal(INSTANT(db, "scalar(v{k=\"b\"})", 0), "7.25");
    assert_string_equal(INSTANT(db, "vector(pi())", 0), "{} 3.141592653589793");
    assert_string_equal(INSTANT(db, "timestamp(v)", 30 * 1000), "{k=\"a\"} 0; {k=\"b\"} 0");
    assert_string_equal(INSTANT(db, "timestamp(-v)", 30 * 1000), "{k=\"a\"} 30; {k=\"b\"} 30");
    assert_string_equal(INSTANT(db, "time()", 1500), "1.5");
    /* 2006-01-02 22:04:05 UTC, a Monday. */
    assert_string_equal(INSTANT(db, "year(vector(1136239445))", 0), "{} 2006");
    assert_string_equal(INSTANT(db, "day_of_week(vector(1136239445))", 0), "{} 1");
    assert_string_equal(INSTANT(db, "hour(vector(1136239445))", 0), "{} 22");
    assert_string_equal(INSTANT(db, "days_in_month(vector(1454284800))", 0), "{} 29");
    assert_string_equal(INSTANT(db, "day_of_year(vector(1483191420))", 0), "{} 366");
    assert_string_equal(INSTANT(db, "month()", 0), "{} 1");
    assert_string_equal(INSTANT(db, "absent(nope{job=\"x\", j=~\"y\"})", 0), "{job=\"x\"} 1");
    assert_string_equal(INSTANT(db, "absent(v)", 0), "");
    tsdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_increase), cmocka_unit_test(test_regression),
        cmocka_unit_test(test_over_time),     cmocka_unit_test(test_histogram_quantile),
        cmocka_unit_test(test_labels),        cmocka_unit_test(test_elementwise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
