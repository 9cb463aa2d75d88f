/* Tests for src/metrics/registry.c: declaring and validating families, resolving series,
 * counter/gauge/histogram values, exact totals under concurrent writers (including more
 * threads than writer slots), slot reuse, a thread writing to several registries, visit and
 * collect hooks. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics/metrics.h"

#define assert_double_exact(a, b)                                                                  \
    do {                                                                                           \
        double a_ = (a), b_ = (b);                                                                 \
        if (!(a_ == b_))                                                                           \
            fail_msg("%s = %.17g, want %.17g", #a, a_, b_);                                        \
    } while (0)

static void test_counter(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_counter *c;
    assert_int_equal(bw_counter_new(r, "orders_total", "Orders.", &c), BW_OK);
    assert_double_exact(bw_counter_value(c), 0);
    bw_counter_inc(c);
    bw_counter_inc(c);
    bw_counter_add(c, 2.5);
    bw_counter_add(c, -1);  /* ignored: counters only go up */
    bw_counter_add(c, NAN); /* ignored */
    bw_counter_add(c, 0);
    assert_double_exact(bw_counter_value(c), 4.5);
    metrics_counter_set(c, 10);
    assert_double_exact(bw_counter_value(c), 10);
    metrics_counter_set(c, 7); /* stays monotonic */
    assert_double_exact(bw_counter_value(c), 10);
    bw_registry_free(r);
}

static void test_gauge(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_gauge *g;
    assert_int_equal(bw_gauge_new(r, "equity", "Equity.", &g), BW_OK);
    bw_gauge_set(g, 100);
    bw_gauge_add(g, -30.5);
    assert_double_exact(bw_gauge_value(g), 69.5);
    bw_gauge_set(g, -INFINITY);
    assert_true(isinf(bw_gauge_value(g)) && bw_gauge_value(g) < 0);
    bw_gauge_set(g, NAN);
    assert_true(isnan(bw_gauge_value(g)));
    bw_registry_free(r);
}

static void test_histogram_small(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_histogram *h;
    const double bounds[] = {1, 2, 5};
    assert_int_equal(bw_histogram_new(r, "latency_seconds", "Latency.", bounds, 3, &h), BW_OK);
    const double obs[] = {0.5, 1, 1.5, 2, 5, 7, -3};
    for (size_t i = 0; i < BW_ARRAY_LEN(obs); i++)
        bw_histogram_observe(h, obs[i]);
    uint64_t b[4], count;
    double sum;
    assert_int_equal(bw_histogram_read(h, b, &count, &sum), 4);
    assert_int_equal(b[0], 3); /* 0.5, 1 (bounds are inclusive), -3 */
    assert_int_equal(b[1], 5);
    assert_int_equal(b[2], 6);
    assert_int_equal(b[3], 7);
    assert_int_equal(count, 7);
    assert_double_exact(sum, 14);
    bw_histogram_observe(h, NAN); /* counted in +Inf, as the Go client does */
    assert_int_equal(bw_histogram_read(h, b, &count, NULL), 4);
    assert_int_equal(b[2], 6);
    assert_int_equal(b[3], 8);
    assert_int_equal(count, 8);
    bw_registry_free(r);
}

/* Observes values and checks every cumulative bucket against a direct count. */
static void check_buckets(const double *bounds, size_t n, const double *values, size_t nvalues)
{
    bw_registry *r = bw_registry_new(0);
    bw_histogram *h;
    assert_int_equal(bw_histogram_new(r, "x", "X.", bounds, n, &h), BW_OK);
    uint64_t want[BW_MAX_BUCKETS + 1] = {0};
    for (size_t k = 0; k < nvalues; k++) {
        double v = values[k];
        bw_histogram_observe(h, v);
        size_t i = 0;
        while (i < n && !(v <= bounds[i]))
            i++;
        for (size_t j = i; j <= n; j++)
            want[j]++;
    }
    uint64_t got[BW_MAX_BUCKETS + 1];
    assert_int_equal(bw_histogram_read(h, got, NULL, NULL), n + 1);
    for (size_t i = 0; i <= n; i++)
        if (got[i] != want[i])
            fail_msg("%zu bounds, bucket %zu: %llu, want %llu", n, i, (unsigned long long)got[i],
                     (unsigned long long)want[i]);
    bw_registry_free(r);
}

/* More than 8 bounds takes the binade table: bounds sharing binades, negative bounds, zero and
 * -0, exact bound values, the infinities and NaN. */
static void test_histogram_many_bounds(void **state)
{
    (void)state;
    double values[600];
    size_t nv = 0;
    for (int k = -100; k <= 100; k++)
        values[nv++] = k * 0.0625;
    for (int k = 0; k < 300; k++)
        values[nv++] = 1e-8 * pow(10, k / 30.0) * (k % 7 == 0 ? -1 : 1);
    const double specials[] = {-0.0, 0.0, INFINITY, -INFINITY, NAN, 1e-300, -1e300, 5e-324};
    for (size_t k = 0; k < BW_ARRAY_LEN(specials); k++)
        values[nv++] = specials[k];
    for (size_t k = 0; k < bw_default_buckets_len; k++)
        values[nv++] = bw_default_buckets[k];

    double steps[20];
    for (int i = 0; i < 20; i++)
        steps[i] = i * 0.5 - 3; /* up to six bounds in one binade, 0 among them */
    check_buckets(steps, 20, values, nv);
    check_buckets(bw_default_buckets, bw_default_buckets_len, values, nv);
    const double with_neg_zero[] = {-2, -1, -0.5, -0.0, 0.5, 1, 2, 4, 8, 16};
    check_buckets(with_neg_zero, BW_ARRAY_LEN(with_neg_zero), values, nv);
    double wide[BW_MAX_BUCKETS];
    for (int i = 0; i < BW_MAX_BUCKETS; i++)
        wide[i] = (i - 32) * 1e10 + (i - 32) * 1e-10;
    check_buckets(wide, BW_MAX_BUCKETS, values, nv);
    const double few[] = {-1, 0, 1};
    check_buckets(few, 3, values, nv);
}

static void test_histogram_bounds(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_histogram *h;
    assert_int_equal(bw_histogram_new(r, "d", "Default.", NULL, 0, &h), BW_OK);
    assert_int_equal(bw_histogram_read(h, NULL, NULL, NULL), 23);
    assert_int_equal(bw_default_buckets_len, 22);
    assert_double_exact(bw_default_buckets[0], 1e-6);
    assert_double_exact(bw_default_buckets[21], 10);
    const double with_inf[] = {1, 2, INFINITY};
    assert_int_equal(bw_histogram_new(r, "i", "Inf.", with_inf, 3, &h), BW_OK);
    assert_int_equal(bw_histogram_read(h, NULL, NULL, NULL), 3);
    const double negative[] = {-1, 0, 1};
    assert_int_equal(bw_histogram_new(r, "n", "Neg.", negative, 3, &h), BW_OK);
    assert_int_equal(bw_histogram_new(r, "only_inf", "Only +Inf.", with_inf + 2, 1, &h), BW_OK);
    bw_histogram_observe(h, 3);
    uint64_t b[1];
    assert_int_equal(bw_histogram_read(h, b, NULL, NULL), 1);
    assert_int_equal(b[0], 1);

    static const double unsorted[] = {2, 1}, equal[] = {1, 1}, nan[] = {1, NAN},
                        minf[] = {-INFINITY, 1}, mid_inf[] = {1, INFINITY, 2};
    static const struct {
        const double *b;
        size_t n;
    } bad[] = {{unsorted, 2}, {equal, 2}, {nan, 2}, {minf, 2}, {mid_inf, 3}, {NULL, 3}};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++)
        assert_int_equal(bw_histogram_new(r, "bad", "Bad.", bad[i].b, bad[i].n, &h), BW_EINVAL);
    double many[BW_MAX_BUCKETS + 1];
    for (int i = 0; i <= BW_MAX_BUCKETS; i++)
        many[i] = i;
    assert_int_equal(bw_histogram_new(r, "many", "Many.", many, BW_MAX_BUCKETS + 1, &h), BW_EINVAL);
    assert_int_equal(bw_histogram_new(r, "many", "Many.", many, BW_MAX_BUCKETS, &h), BW_OK);
    assert_int_equal(bw_histogram_read(h, NULL, NULL, NULL), BW_MAX_BUCKETS + 1);
    bw_registry_free(r);
}

static void test_names(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_family *f;
    const char *good[] = {"a", "_x", ":x", "a:b_c9", "ABC", "__name"};
    for (size_t i = 0; i < BW_ARRAY_LEN(good); i++)
        assert_int_equal(bw_gauge_family(r, good[i], "Help.", 0, NULL, &f), BW_OK);
    const char *bad[] = {"", "1abc", "a-b", "a b", "é", "a.b", NULL};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        assert_int_equal(bw_gauge_family(r, bad[i], "Help.", 0, NULL, &f), BW_EINVAL);
        assert_null(f);
    }
    const char *bad_labels[] = {"__x", "1a", "a-b", "", "a:b", "é"};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad_labels); i++)
        assert_int_equal(bw_counter_family(r, "c_total", "Help.", 1, &bad_labels[i], &f),
                         BW_EINVAL);
    const char *dup[] = {"a", "b", "a"};
    assert_int_equal(bw_counter_family(r, "c_total", "Help.", 3, dup, &f), BW_EINVAL);
    const char *le[] = {"symbol", "le"};
    assert_int_equal(bw_histogram_family(r, "h", "Help.", 2, le, NULL, 0, &f), BW_EINVAL);
    assert_int_equal(bw_gauge_family(r, "g_le", "Help.", 2, le, &f), BW_OK);
    const char *nine[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i"};
    assert_int_equal(bw_counter_family(r, "c9_total", "Help.", 9, nine, &f), BW_EINVAL);
    assert_int_equal(bw_counter_family(r, "c8_total", "Help.", 8, nine, &f), BW_OK);
    assert_int_equal(bw_counter_family(r, "c_total", "Help.", 1, NULL, &f), BW_EINVAL);
    assert_int_equal(bw_counter_family(r, "c_total", NULL, 0, NULL, &f), BW_EINVAL);
    assert_int_equal(bw_counter_family(r, "c_total", "", 0, NULL, &f), BW_EINVAL);
    assert_int_equal(bw_counter_family(r, "c_total", "bad \xff help", 0, NULL, &f), BW_EINVAL);
    assert_int_equal(bw_counter_family(NULL, "c_total", "Help.", 0, NULL, &f), BW_EINVAL);
    assert_int_equal(bw_counter_family(r, "c_total", "Help.", 0, NULL, NULL), BW_EINVAL);
    bw_registry_free(r);
}

static void test_label_values(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_family *f;
    bw_counter *c;
    const char *labels[] = {"symbol"};
    assert_int_equal(bw_counter_family(r, "t_total", "T.", 1, labels, &f), BW_OK);
    const char *ok[] = {"", "BTCUSDT", "€ and 😀", "quote\" back\\ nl\n"};
    for (size_t i = 0; i < BW_ARRAY_LEN(ok); i++)
        assert_int_equal(bw_counter_resolve(f, &ok[i], &c), BW_OK);
    const char *bad[] = {"\xc0\xaf",         /* overlong '/' */
                         "\xed\xa0\x80",     /* surrogate */
                         "\xe2\x82",         /* truncated */
                         "\xf4\x90\x80\x80", /* above U+10FFFF */
                         "\x80",             /* stray continuation */
                         NULL};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        assert_int_equal(bw_counter_resolve(f, &bad[i], &c), BW_EINVAL);
        assert_null(c);
    }
    assert_int_equal(bw_counter_resolve(f, NULL, &c), BW_EINVAL);
    bw_gauge *g;
    assert_int_equal(bw_gauge_resolve(f, ok, &g), BW_EINVAL); /* a counter family */
    assert_int_equal(bw_counter_resolve(NULL, ok, &c), BW_EINVAL);
    assert_int_equal(bw_counter_resolve(f, ok, NULL), BW_EINVAL);
    bw_registry_free(r);
}

static void test_redeclare(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_family *a, *b;
    const char *l1[] = {"symbol", "side"}, *l2[] = {"side", "symbol"};
    assert_int_equal(bw_counter_family(r, "orders_total", "Orders.", 2, l1, &a), BW_OK);
    assert_int_equal(bw_counter_family(r, "orders_total", "Other help.", 2, l1, &b), BW_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(bw_counter_family(r, "orders_total", "Orders.", 2, l2, &b), BW_EEXIST);
    assert_null(b);
    assert_int_equal(bw_counter_family(r, "orders_total", "Orders.", 1, l1, &b), BW_EEXIST);
    assert_int_equal(bw_gauge_family(r, "orders_total", "Orders.", 2, l1, &b), BW_EEXIST);
    /* the same OpenMetrics family, or the same sample names */
    assert_int_equal(bw_counter_family(r, "orders", "Orders.", 2, l1, &b), BW_EEXIST);
    assert_int_equal(bw_gauge_family(r, "orders", "Orders.", 0, NULL, &b), BW_EEXIST);
    const double b1[] = {1, 2}, b2[] = {1, 3};
    assert_int_equal(bw_histogram_family(r, "lat", "Lat.", 0, NULL, b1, 2, &a), BW_OK);
    assert_int_equal(bw_histogram_family(r, "lat", "Lat.", 0, NULL, b1, 2, &b), BW_OK);
    assert_ptr_equal(a, b);
    assert_int_equal(bw_histogram_family(r, "lat", "Lat.", 0, NULL, b2, 2, &b), BW_EEXIST);
    assert_int_equal(bw_histogram_family(r, "lat", "Lat.", 0, NULL, NULL, 0, &b), BW_EEXIST);
    assert_int_equal(bw_gauge_family(r, "lat_sum", "Sum.", 0, NULL, &b), BW_EEXIST);
    assert_int_equal(bw_counter_family(r, "lat_count", "Count.", 0, NULL, &b), BW_EEXIST);
    assert_int_equal(bw_gauge_family(r, "lat_bucket", "Bucket.", 0, NULL, &b), BW_EEXIST);
    assert_int_equal(bw_gauge_family(r, "lat_seconds", "Fine.", 0, NULL, &b), BW_OK);
    bw_registry_free(r);
}

static void test_resolve(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_family *f;
    const char *labels[] = {"symbol", "side"};
    assert_int_equal(bw_counter_family(r, "orders_total", "Orders.", 2, labels, &f), BW_OK);
    bw_counter *c[1000];
    char sym[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(sym, sizeof(sym), "SYM%d", i);
        const char *v[] = {sym, i % 2 ? "buy" : "sell"};
        assert_int_equal(bw_counter_resolve(f, v, &c[i]), BW_OK);
        bw_counter_add(c[i], i);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(sym, sizeof(sym), "SYM%d", i);
        const char *v[] = {sym, i % 2 ? "buy" : "sell"};
        bw_counter *again;
        assert_int_equal(bw_counter_resolve(f, v, &again), BW_OK);
        assert_ptr_equal(again, c[i]);
        assert_double_exact(bw_counter_value(again), i);
    }
    /* values are compared whole: ("ab","c") is not ("a","bc") */
    const char *x[] = {"ab", "c"}, *y[] = {"a", "bc"};
    bw_counter *cx, *cy;
    assert_int_equal(bw_counter_resolve(f, x, &cx), BW_OK);
    assert_int_equal(bw_counter_resolve(f, y, &cy), BW_OK);
    assert_ptr_not_equal(cx, cy);
    /* series are kept sorted by label values */
    assert_int_equal(f->nseries, 1002);
    for (size_t i = 1; i < f->nseries; i++) {
        int cmp = strcmp(f->series[i - 1]->values[0], f->series[i]->values[0]);
        assert_true(cmp < 0 ||
                    (cmp == 0 && strcmp(f->series[i - 1]->values[1], f->series[i]->values[1]) < 0));
    }
    bw_registry_free(r);
}

static void test_cells_exhausted(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(3);
    bw_counter *c;
    bw_histogram *h;
    bw_gauge *g;
    const double b[] = {1};
    assert_int_equal(bw_counter_new(r, "a_total", "A.", &c), BW_OK);     /* 1 cell */
    assert_int_equal(bw_histogram_new(r, "h", "H.", b, 1, &h), BW_OK);   /* 2 cells */
    assert_int_equal(bw_counter_new(r, "b_total", "B.", &c), BW_ENOSPC); /* none left */
    assert_null(c);
    assert_int_equal(bw_gauge_new(r, "g", "Gauges take no cell.", &g), BW_OK);
    bw_histogram_observe(h, 0.5);
    bw_histogram_observe(h, 5);
    uint64_t buckets[2];
    assert_int_equal(bw_histogram_read(h, buckets, NULL, NULL), 2);
    assert_int_equal(buckets[0], 1);
    assert_int_equal(buckets[1], 2);
    bw_registry_free(r);
}

static void test_null_handles(void **state)
{
    (void)state;
    bw_counter_inc(NULL);
    bw_counter_add(NULL, 1);
    bw_gauge_set(NULL, 1);
    bw_gauge_add(NULL, 1);
    bw_histogram_observe(NULL, 1);
    assert_double_exact(bw_counter_value(NULL), 0);
    assert_double_exact(bw_gauge_value(NULL), 0);
    assert_int_equal(bw_histogram_read(NULL, NULL, NULL, NULL), 0);
    assert_int_equal(bw_registry_on_collect(NULL, NULL, NULL), BW_EINVAL);
    bw_registry_visit(NULL, NULL, NULL);
    bw_registry_free(NULL);
    assert_null(bw_registry_new((size_t)UINT32_MAX + 1));
}

/* ---- concurrency -------------------------------------------------------------------------- */

struct worker {
    bw_counter *c;
    bw_histogram *h;
    long n;
    pthread_barrier_t *start;
};

static void *count_worker(void *p)
{
    struct worker *w = p;
    if (w->start)
        pthread_barrier_wait(w->start);
    for (long i = 0; i < w->n; i++)
        bw_counter_inc(w->c);
    return NULL;
}

static void run_counter_threads(int nthreads, long n)
{
    bw_registry *r = bw_registry_new(0);
    bw_counter *c;
    assert_int_equal(bw_counter_new(r, "hits_total", "Hits.", &c), BW_OK);
    pthread_t t[8];
    struct worker w = {c, NULL, n, NULL};
    for (int i = 0; i < nthreads; i++)
        assert_int_equal(pthread_create(&t[i], NULL, count_worker, &w), 0);
    for (int i = 0; i < nthreads; i++)
        pthread_join(t[i], NULL);
    assert_double_exact(bw_counter_value(c), (double)nthreads * (double)n);
    bw_registry_free(r);
}

static void test_counter_2_threads(void **state)
{
    (void)state;
    run_counter_threads(2, 10000000);
}

static void test_counter_4_threads(void **state)
{
    (void)state;
    run_counter_threads(4, 10000000);
}

static void *observe_worker(void *p)
{
    struct worker *w = p;
    if (w->start)
        pthread_barrier_wait(w->start);
    for (long i = 0; i < w->n; i++)
        bw_histogram_observe(w->h, (double)(i % 12)); /* 0..11, a few in each bucket */
    return NULL;
}

/* Per thread: i % 12 for i < n, so with n a multiple of 12 each value appears n/12 times. */
static void check_histogram(bw_histogram *h, long per_value, long nthreads)
{
    uint64_t b[4], count;
    double sum;
    assert_int_equal(bw_histogram_read(h, b, &count, &sum), 4);
    uint64_t k = (uint64_t)(per_value * nthreads);
    assert_int_equal(b[0], 2 * k);  /* le 1: 0, 1 */
    assert_int_equal(b[1], 5 * k);  /* le 4: 2, 3, 4 */
    assert_int_equal(b[2], 9 * k);  /* le 8: 5..8 */
    assert_int_equal(b[3], 12 * k); /* +Inf: 9..11 */
    assert_int_equal(count, 12 * k);
    assert_double_exact(sum, 66.0 * (double)k);
}

static void test_histogram_threads(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_histogram *h;
    const double bounds[] = {1, 4, 8};
    assert_int_equal(bw_histogram_new(r, "work_seconds", "Work.", bounds, 3, &h), BW_OK);
    pthread_t t[4];
    struct worker w = {NULL, h, 1200000, NULL};
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, observe_worker, &w), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    check_histogram(h, 100000, 4);
    bw_registry_free(r);
}

/* Increments, then adds of 0.25 (exact in binary), then observations. */
static void *mixed_worker(void *p)
{
    count_worker(p);
    struct worker w = *(struct worker *)p;
    w.start = NULL;
    for (long i = 0; i < w.n; i++)
        bw_counter_add(w.c, 0.25);
    observe_worker(&w);
    return NULL;
}

/* 80 threads alive at once: at least 16 find no free slot and share the atomic shard, where
 * counts take fetch-and-add and float totals CAS. */
static void test_more_threads_than_slots(void **state)
{
    (void)state;
    enum { N = BW_MAX_WRITERS + 16 };
    bw_registry *r = bw_registry_new(0);
    bw_counter *c;
    bw_histogram *h;
    const double bounds[] = {1, 4, 8};
    assert_int_equal(bw_counter_new(r, "c_total", "C.", &c), BW_OK);
    assert_int_equal(bw_histogram_new(r, "h", "H.", bounds, 3, &h), BW_OK);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, N);
    struct worker w = {c, h, 24000, &start};
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, mixed_worker, &w), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    assert_double_exact(bw_counter_value(c), (double)N * 24000 * 1.25);
    check_histogram(h, 2000, N);
    assert_true(metrics_registry_shards(r) <= BW_MAX_WRITERS);
    bw_registry_free(r);
}

/* Threads that come and go one after another reuse one slot: one shard, however many threads. */
static void test_slot_reuse(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_counter *c;
    assert_int_equal(bw_counter_new(r, "c_total", "C.", &c), BW_OK);
    struct worker w = {c, NULL, 1000, NULL};
    for (int i = 0; i < 200; i++) {
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, count_worker, &w), 0);
        pthread_join(t, NULL);
    }
    assert_double_exact(bw_counter_value(c), 200000);
    assert_int_equal(metrics_registry_shards(r), 1);
    bw_registry_free(r);
}

/* A thread remembers the shard it last wrote to: switching registries, and a registry freed
 * and another made (perhaps at the same address), must still land every update in the right
 * registry. */
static void test_several_registries(void **state)
{
    (void)state;
    bw_registry *a = bw_registry_new(0), *b = bw_registry_new(0);
    bw_counter *ca, *cb;
    bw_histogram *hb;
    const double bounds[] = {1, 4, 8};
    assert_int_equal(bw_counter_new(a, "a_total", "A.", &ca), BW_OK);
    assert_int_equal(bw_counter_new(b, "b_total", "B.", &cb), BW_OK);
    assert_int_equal(bw_histogram_new(b, "h", "H.", bounds, 3, &hb), BW_OK);
    for (int i = 0; i < 1200; i++) {
        bw_counter_inc(ca);
        bw_counter_add(cb, 2);
        bw_histogram_observe(hb, (double)(i % 12));
        bw_counter_inc(cb);
    }
    assert_double_exact(bw_counter_value(ca), 1200);
    assert_double_exact(bw_counter_value(cb), 3600);
    check_histogram(hb, 100, 1);

    bw_registry_free(a);
    bw_registry *c = bw_registry_new(0);
    bw_counter *cc;
    assert_int_equal(bw_counter_new(c, "c_total", "C.", &cc), BW_OK);
    bw_counter_inc(cc);
    bw_counter_add(cc, 0.5);
    assert_double_exact(bw_counter_value(cc), 1.5);
    assert_double_exact(bw_counter_value(cb), 3600);
    bw_registry_free(b);
    bw_registry_free(c);
}

/* ---- visit and hooks ---------------------------------------------------------------------- */

static void print_sample(void *ud, const char *name, size_t n, const char *const *names,
                         const char *const *values, double v)
{
    struct buf *b = ud;
    buf_puts(b, name);
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%c%s=%s", i ? ',' : '{', names[i], values[i]);
    buf_printf(b, "%s %g\n", n ? "}" : "", v);
}

static void print_family(void *ud, const char *family, enum bw_type type, const char *help)
{
    buf_printf(ud, "%s %d %s\n", family, (int)type, help);
}

static void bump(bw_registry *r, void *ud)
{
    (void)r;
    bw_gauge_add(ud, 1);
}

static void test_visit_and_hooks(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    bw_family *f;
    bw_counter *c;
    bw_gauge *g;
    bw_histogram *h;
    const char *labels[] = {"side"}, *buy[] = {"buy"}, *sell[] = {"sell"};
    const double bounds[] = {0.5, 1};
    assert_int_equal(bw_counter_family(r, "orders_total", "Orders.", 1, labels, &f), BW_OK);
    assert_int_equal(bw_counter_resolve(f, sell, &c), BW_OK);
    bw_counter_add(c, 3);
    assert_int_equal(bw_counter_resolve(f, buy, &c), BW_OK);
    bw_counter_add(c, 2);
    assert_int_equal(bw_histogram_family(r, "fill_seconds", "Fill.", 1, labels, bounds, 2, &f),
                     BW_OK);
    assert_int_equal(bw_histogram_resolve(f, buy, &h), BW_OK);
    bw_histogram_observe(h, 0.25);
    bw_histogram_observe(h, 2);
    assert_int_equal(bw_gauge_new(r, "scrapes", "Scrapes.", &g), BW_OK);
    assert_int_equal(bw_registry_on_collect(r, bump, g), BW_OK);
    assert_int_equal(metrics_registry_hook(r, bump, NULL, NULL, 1), BW_EEXIST);

    struct buf b;
    buf_init(&b, 0);
    bw_registry_visit(r, print_sample, &b);
    assert_string_equal(b.data, "fill_seconds_bucket{side=buy,le=0.5} 1\n"
                                "fill_seconds_bucket{side=buy,le=1.0} 1\n"
                                "fill_seconds_bucket{side=buy,le=+Inf} 2\n"
                                "fill_seconds_sum{side=buy} 2.25\n"
                                "fill_seconds_count{side=buy} 2\n"
                                "orders_total{side=buy} 2\n"
                                "orders_total{side=sell} 3\n"
                                "scrapes 1\n");
    buf_reset(&b);
    bw_registry_visit(r, print_sample, &b);
    assert_non_null(strstr(b.data, "scrapes 2\n"));
    buf_reset(&b);
    bw_registry_visit_families(r, print_family, &b);
    assert_string_equal(b.data, "fill_seconds 2 Fill.\n"
                                "orders 0 Orders.\n"
                                "scrapes 1 Scrapes.\n");
    assert_true(bw_gauge_value(g) == 2); /* no hooks ran */
    buf_fini(&b);
    bw_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter),
        cmocka_unit_test(test_gauge),
        cmocka_unit_test(test_histogram_small),
        cmocka_unit_test(test_histogram_many_bounds),
        cmocka_unit_test(test_histogram_bounds),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_label_values),
        cmocka_unit_test(test_redeclare),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_cells_exhausted),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_counter_2_threads),
        cmocka_unit_test(test_counter_4_threads),
        cmocka_unit_test(test_histogram_threads),
        cmocka_unit_test(test_more_threads_than_slots),
        cmocka_unit_test(test_slot_reuse),
        cmocka_unit_test(test_several_registries),
        cmocka_unit_test(test_visit_and_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
