/* Tests for src/tsdb/collector.c: a real registry recorded into an in-memory tsdb — samples and
 * timestamps, histograms as _bucket/_sum/_count, metadata, cached series, stale markers when a
 * series disappears and when the collector stops, its own tsdb_* metrics, and the thread. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "tsdb/tsdb.h"

struct fixture {
    struct tsdb *db;
    bw_registry *reg;
    struct tsdb_collector *c;
    struct arena a;
};

static int setup(void **state)
{
    static struct fixture f;
    struct diag d = {0};
    memset(&f, 0, sizeof(f));
    if (tsdb_open(NULL, NULL, &f.db, &d) != BW_OK)
        return -1;
    f.reg = bw_registry_new(0);
    if (!f.reg || tsdb_collector_new(f.db, f.reg, NULL, &f.c) != BW_OK)
        return -1;
    arena_init(&f.a, 0);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tsdb_collector_free(f->c);
    tsdb_close(f->db);
    bw_registry_free(f->reg);
    arena_fini(&f->a);
    return 0;
}

/* The series named name whose label `label` is value (NULL: any), with all their samples. */
static struct tsdb_series *select_series(struct fixture *f, const char *name, const char *label,
                                         const char *value, size_t *n)
{
    struct tsdb_matcher m[2];
    struct tsdb_series *out = NULL;
    struct diag d = {0};
    size_t nm = 1;
    assert_int_equal(tsdb_matcher_init(&m[0], TSDB_MATCH_EQ, LABEL_NAME, name, &d), BW_OK);
    if (label)
        assert_int_equal(tsdb_matcher_init(&m[nm++], TSDB_MATCH_EQ, label, value, &d), BW_OK);
    assert_int_equal(tsdb_select(f->db, m, nm, 0, INT64_MAX, 0, 0, &f->a, &out, n, &d), BW_OK);
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_fini(&m[i]);
    return out;
}

static struct tsdb_series *one_series(struct fixture *f, const char *name, const char *label,
                                      const char *value)
{
    size_t n;
    struct tsdb_series *s = select_series(f, name, label, value, &n);
    assert_int_equal(n, 1);
    return s;
}

static void scrape(struct fixture *f, bw_registry *src, int64_t t)
{
    struct diag d = {0};
    assert_int_equal(tsdb_collector_scrape(f->c, src, t, &d), BW_OK);
}

static void test_samples_and_metadata(void **state)
{
    struct fixture *f = *state;
    bw_family *fam;
    bw_counter *buy, *sell;
    bw_gauge *g;
    bw_histogram *h;
    const char *side[] = {"side"}, *vbuy[] = {"buy"}, *vsell[] = {"sell"};
    const double bounds[] = {0.5, 1};
    assert_int_equal(bw_counter_family(f->reg, "orders_total", "Orders.", 1, side, &fam), BW_OK);
    assert_int_equal(bw_counter_resolve(fam, vbuy, &buy), BW_OK);
    assert_int_equal(bw_counter_resolve(fam, vsell, &sell), BW_OK);
    assert_int_equal(bw_gauge_new(f->reg, "equity", "Equity.", &g), BW_OK);
    assert_int_equal(bw_histogram_new(f->reg, "fill_seconds", "Fill.", bounds, 2, &h), BW_OK);
    bw_counter_add(buy, 2);
    bw_gauge_set(g, 1000.5);
    bw_histogram_observe(h, 0.25);
    scrape(f, f->reg, 10000);
    bw_counter_inc(buy);
    bw_gauge_set(g, 990);
    bw_histogram_observe(h, 3);
    scrape(f, f->reg, 11000);

    struct tsdb_series *s = one_series(f, "orders_total", "side", "buy");
    assert_int_equal(s->n, 2);
    assert_int_equal(s->t[0], 10000);
    assert_int_equal(s->t[1], 11000);
    assert_true(s->v[0] == 2 && s->v[1] == 3);
    s = one_series(f, "orders_total", "side", "sell");
    assert_true(s->n == 2 && s->v[1] == 0);
    s = one_series(f, "equity", NULL, NULL);
    assert_true(s->v[0] == 1000.5 && s->v[1] == 990);
    s = one_series(f, "fill_seconds_bucket", "le", "0.5");
    assert_true(s->v[0] == 1 && s->v[1] == 1);
    s = one_series(f, "fill_seconds_bucket", "le", "+Inf");
    assert_true(s->v[0] == 1 && s->v[1] == 2);
    s = one_series(f, "fill_seconds_count", NULL, NULL);
    assert_true(s->v[1] == 2);
    s = one_series(f, "fill_seconds_sum", NULL, NULL);
    assert_true(s->v[1] == 3.25);

    struct tsdb_metadata *md;
    size_t nmd, found = 0;
    assert_int_equal(tsdb_metadata_list(f->db, &f->a, &md, &nmd), BW_OK);
    for (size_t i = 0; i < nmd; i++) {
        if (strcmp(md[i].family, "orders") == 0) {
            assert_string_equal(md[i].type, "counter");
            assert_string_equal(md[i].help, "Orders.");
            found++;
        } else if (strcmp(md[i].family, "fill_seconds") == 0) {
            assert_string_equal(md[i].type, "histogram");
            found++;
        } else if (strcmp(md[i].family, "tsdb_head_series") == 0) {
            assert_string_equal(md[i].type, "gauge");
            found++;
        }
    }
    assert_int_equal(found, 3);
}

/* A steady scrape finds every series in the cache: the tsdb gets no new series, and a series
 * that appears later is added once. */
static void test_series_cached(void **state)
{
    struct fixture *f = *state;
    bw_family *fam;
    bw_counter *c;
    const char *sym[] = {"symbol"}, *btc[] = {"BTCUSDT"}, *eth[] = {"ETHUSDT"};
    struct tsdb_stats s1, s2, s3;
    assert_int_equal(bw_counter_family(f->reg, "signals_total", "Signals.", 1, sym, &fam), BW_OK);
    assert_int_equal(bw_counter_resolve(fam, btc, &c), BW_OK);
    scrape(f, f->reg, 1000);
    tsdb_stats_get(f->db, &s1);
    for (int i = 2; i <= 10; i++)
        scrape(f, f->reg, i * 1000);
    tsdb_stats_get(f->db, &s2);
    assert_int_equal(s2.series, s1.series);
    assert_int_equal(s2.out_of_order, 0);
    assert_int_equal(one_series(f, "signals_total", NULL, NULL)->n, 10);
    assert_int_equal(bw_counter_resolve(fam, eth, &c), BW_OK);
    scrape(f, f->reg, 11000);
    tsdb_stats_get(f->db, &s3);
    assert_int_equal(s3.series, s2.series + 1);
    assert_int_equal(one_series(f, "signals_total", "symbol", "ETHUSDT")->n, 1);
}

/* A label with an empty value does not exist in the tsdb. */
static void test_empty_label_value(void **state)
{
    struct fixture *f = *state;
    bw_family *fam;
    bw_gauge *g;
    const char *names[] = {"a", "b"}, *values[] = {"", "x"};
    assert_int_equal(bw_gauge_family(f->reg, "g", "G.", 2, names, &fam), BW_OK);
    assert_int_equal(bw_gauge_resolve(fam, values, &g), BW_OK);
    scrape(f, f->reg, 1000);
    struct tsdb_series *s = one_series(f, "g", "b", "x");
    assert_int_equal(s->labels.n, 2);
    assert_null(labelset_get(&s->labels, "a"));
}

/* Registry a has x{k="1"} and x{k="2"}, b only x{k="1"}: scraping b after a makes x{k="2"}
 * stale once; stopping makes the rest stale. */
static void test_stale_markers(void **state)
{
    struct fixture *f = *state;
    bw_registry *a = bw_registry_new(0), *b = bw_registry_new(0);
    bw_family *fa, *fb;
    bw_gauge *g;
    const char *k[] = {"k"}, *one[] = {"1"}, *two[] = {"2"};
    assert_int_equal(bw_gauge_family(a, "x", "X.", 1, k, &fa), BW_OK);
    assert_int_equal(bw_gauge_resolve(fa, one, &g), BW_OK);
    bw_gauge_set(g, 5);
    assert_int_equal(bw_gauge_resolve(fa, two, &g), BW_OK);
    bw_gauge_set(g, 6);
    assert_int_equal(bw_gauge_family(b, "x", "X.", 1, k, &fb), BW_OK);
    assert_int_equal(bw_gauge_resolve(fb, one, &g), BW_OK);
    bw_gauge_set(g, 7);

    scrape(f, a, 1000);
    scrape(f, b, 2000);
    scrape(f, b, 3000);
    struct tsdb_series *s = one_series(f, "x", "k", "2");
    assert_int_equal(s->n, 2);
    assert_true(s->v[0] == 6);
    assert_int_equal(s->t[1], 2000);
    assert_true(tsdb_is_stale(s->v[1]));
    s = one_series(f, "x", "k", "1");
    assert_int_equal(s->n, 3);
    assert_true(s->v[1] == 7 && s->v[2] == 7);

    struct diag d = {0};
    assert_int_equal(tsdb_collector_end(f->c, 4000, &d), BW_OK);
    s = one_series(f, "x", "k", "1");
    assert_int_equal(s->n, 4);
    assert_int_equal(s->t[3], 4000);
    assert_true(tsdb_is_stale(s->v[3]));
    /* a series that comes back after the end is recorded again */
    scrape(f, a, 5000);
    s = one_series(f, "x", "k", "2");
    assert_int_equal(s->n, 3);
    assert_true(s->v[2] == 6);
    bw_registry_free(a);
    bw_registry_free(b);
}

struct find {
    const char *name;
    double v;
};

static void on_sample(void *ud, const char *name, size_t n, const char *const *names,
                      const char *const *values, double v)
{
    struct find *fd = ud;
    if (strcmp(name, fd->name) == 0 && n == 0)
        fd->v = v;
}

static double value_of(bw_registry *r, const char *name)
{
    struct find fd = {name, NAN};
    bw_registry_visit(r, on_sample, &fd);
    return fd.v;
}

static void test_own_metrics(void **state)
{
    struct fixture *f = *state;
    bw_gauge *g;
    assert_int_equal(bw_gauge_new(f->reg, "up_gauge", "Up.", &g), BW_OK);
    scrape(f, f->reg, 1000);
    scrape(f, f->reg, 2000);
    struct tsdb_stats st;
    tsdb_stats_get(f->db, &st);
    assert_true(value_of(f->reg, "tsdb_head_series") == (double)st.series);
    assert_true(value_of(f->reg, "tsdb_samples_appended_total") == (double)st.samples_appended);
    assert_true(value_of(f->reg, "tsdb_commit_failures_total") == 0);
    assert_true(value_of(f->reg, "tsdb_highest_timestamp_seconds") == 2.0);
    assert_true(value_of(f->reg, "tsdb_scrape_samples") > 10);
    /* the collector's metrics are recorded like any other */
    assert_true(one_series(f, "tsdb_head_series", NULL, NULL)->n == 2);
    assert_true(one_series(f, "tsdb_scrape_duration_seconds_count", NULL, NULL)->v[1] == 1);
}

/* The thread scrapes every interval; stopping it marks the series stale. */
static void test_thread(void **state)
{
    struct fixture *f = *state;
    struct tsdb_collector *c;
    struct diag d = {0};
    bw_registry *r = bw_registry_new(0);
    bw_gauge *g;
    struct tsdb_collector_options o = {.interval_ms = 20};
    assert_int_equal(bw_gauge_new(r, "threaded", "T.", &g), BW_OK);
    assert_int_equal(tsdb_collector_new(f->db, r, &o, &c), BW_OK);
    assert_int_equal(tsdb_collector_start(c, &d), BW_OK);
    struct timespec pause = {0, 200 * 1000000};
    nanosleep(&pause, NULL);
    tsdb_collector_stop(c);
    struct tsdb_series *s = one_series(f, "threaded", NULL, NULL);
    assert_true(s->n >= 4 && s->n <= 13);
    assert_true(tsdb_is_stale(s->v[s->n - 1]));
    for (size_t i = 1; i + 1 < s->n; i++)
        assert_true(s->t[i] > s->t[i - 1] && s->v[i] == 0);
    tsdb_collector_free(c);
    bw_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_samples_and_metadata, setup, teardown),
        cmocka_unit_test_setup_teardown(test_series_cached, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_label_value, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_markers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
