/* Tests for src/promql/aggregate.c over ranges: groups whose series are not next to each
 * other in the input, data in part of the range only (most steps without any point), and more
 * groups times steps than one state per group and step would hold. Expected values are worked
 * out by hand from the samples and the 5m lookback. */
#include "promql_eval_test.h"

/* x{a="1",g="p"} 1 at 10m, 2 at 11m; x{a="2",g="q"} 7 at 12m; x{a="3",g="p"} 10 at 11m;
 * x{a="4",g="p"} 5 at 0m. Over 8m..13m (steps of 1m) the 5m lookback gives
 * a=1: 1@10m, 2@11m..13m; a=2: 7@12m..13m; a=3: 10@11m..13m; a=4: nothing (0m is 8m before). */
static struct tsdb *sparse_db(void)
{
    struct tsdb *db = test_db();
    test_series(db, "x a=1 g=p", MIN_MS, "_ _ _ _ _ _ _ _ _ _ 1 2");
    test_series(db, "x a=2 g=q", MIN_MS, "_ _ _ _ _ _ _ _ _ _ _ _ 7");
    test_series(db, "x a=3 g=p", MIN_MS, "_ _ _ _ _ _ _ _ _ _ _ 10");
    test_series(db, "x a=4 g=p", MIN_MS, "5");
    return db;
}

static void test_sparse_groups(void **state)
{
    (void)state;
    struct tsdb *db = sparse_db();
    /* g=p: a=1 and a=3 (a=2 of g=q lies between them in the input); g=q: a=2. */
    assert_string_equal(RANGE(db, "sum by (g) (x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 1@600,12@660,12@720,12@780; {g=\"q\"} 7@720,7@780");
    assert_string_equal(RANGE(db, "count by (g) (x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 1@600,2@660,2@720,2@780; {g=\"q\"} 1@720,1@780");
    assert_string_equal(RANGE(db, "avg by (g) (x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 1@600,6@660,6@720,6@780; {g=\"q\"} 7@720,7@780");
    assert_string_equal(RANGE(db, "max by (g) (x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 1@600,10@660,10@720,10@780; {g=\"q\"} 7@720,7@780");
    assert_string_equal(RANGE(db, "min without (a) (x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 1@600,2@660,2@720,2@780; {g=\"q\"} 7@720,7@780");
    /* stddev of {2, 10} is 4; of one value 0. */
    assert_string_equal(RANGE(db, "stddev by (g) (x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 0@600,4@660,4@720,4@780; {g=\"q\"} 0@720,0@780");
    /* One group: 1, 12, 19, 19. */
    assert_string_equal(RANGE(db, "sum(x)", 8 * MIN_MS, 13 * MIN_MS, MIN_MS),
                        "{} 1@600,12@660,19@720,19@780");
    /* A range with no point at all, and one before the data. */
    assert_string_equal(RANGE(db, "sum by (g) (x)", 30 * MIN_MS, 40 * MIN_MS, MIN_MS), "");
    assert_string_equal(RANGE(db, "sum by (g) (x{a=\"4\"})", 0, 2 * MIN_MS, MIN_MS),
                        "{g=\"p\"} 5@0,5@60,5@120");
    tsdb_close(db);
}

/* 500 series of one sample each, x{i="k"} = k at 0, summed per series (500 groups) at the 299
 * steps 1s..299s of a subquery (the 5m lookback reaches 0 from them), then over all groups and
 * steps: 299 * (0 + ... + 499) = 299 * 124750 = 37300250 (printed as Go prints it). */
static void test_many_groups(void **state)
{
    (void)state;
    struct tsdb *db = test_db();
    for (int k = 0; k < 500; k++) {
        char spec[32], v[16];
        snprintf(spec, sizeof(spec), "x i=%d", k);
        snprintf(v, sizeof(v), "%d", k);
        test_series(db, spec, MIN_MS, v);
    }
    assert_string_equal(INSTANT(db, "sum_over_time(sum(sum by (i) (x))[299s:1s])", 299000),
                        "{} 3.730025e+07");
    /* Each of the 500 groups has a point at each of the 299 steps. */
    assert_string_equal(
        INSTANT(db, "count(count_over_time(count by (i) (x)[299s:1s]) == 299)", 299000), "{} 500");
    assert_string_equal(INSTANT(db, "max(max_over_time(avg by (i) (x)[299s:1s]))", 299000),
                        "{} 499");
    tsdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_groups),
        cmocka_unit_test(test_many_groups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
