/* tsdb_test: helpers shared by the tsdb tests — label sets from literal pairs, appending a
 * series' samples in one call, matchers built in place, and readers racing the writer. */
#ifndef BW_TEST_TSDB_H
#define BW_TEST_TSDB_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tsdb/tsdb.h"

/* A label set over up to 8 pairs given as "name", "value", …, NULL (sorted by the caller). */
struct test_ls {
    struct label v[8];
    struct labelset ls;
};

static inline const struct labelset *test_labels(struct test_ls *t, ...)
{
    va_list ap;
    size_t n = 0;
    va_start(ap, t);
    for (const char *name; (name = va_arg(ap, const char *)) && n < 8; n++) {
        t->v[n].name = name;
        t->v[n].value = va_arg(ap, const char *);
    }
    va_end(ap);
    labels_sort(t->v, n);
    t->ls = (struct labelset){t->v, n};
    return &t->ls;
}

/* Appends samples t0, t0 + step, … with values v[0..n) to the series ls. */
static inline void test_append(struct tsdb *db, const struct labelset *ls, int64_t t0, int64_t step,
                               const double *v, size_t n)
{
    uint64_t ref = 0;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(tsdb_append(db, ls, t0 + (int64_t)i * step, v[i], &ref), BW_OK);
}

static inline void test_matcher(struct tsdb_matcher *m, enum tsdb_match_op op, const char *name,
                                const char *value)
{
    struct diag d = {0};
    assert_int_equal(tsdb_matcher_init(m, op, name, value, &d), BW_OK);
}

struct test_race {
    struct tsdb *db;
    int64_t step;
    _Atomic int done, bad, reads;
};

/* A reader: selects every series until done, counting in bad each selection that is not
 * whole, whose samples are not 0, 1, 2, … at 0, step, 2 * step, …. */
static inline void *test_race_reader(void *p)
{
    struct test_race *r = p;
    struct arena a;
    struct diag d;
    arena_init(&a, 0);
    while (!r->done) {
        struct tsdb_series *ss;
        size_t n;
        if (tsdb_select(r->db, NULL, 0, INT64_MIN, INT64_MAX, 0, 0, &a, &ss, &n, &d) != BW_OK)
            r->bad++;
        for (size_t i = 0; i < n; i++)
            for (size_t k = 0; k < ss[i].n; k++)
                r->bad += ss[i].v[k] != (double)k || ss[i].t[k] != (int64_t)k * r->step;
        r->reads++;
        arena_reset(&a);
    }
    arena_fini(&a);
    return NULL;
}

/* Appends rounds of sample k at k * step to the series m{i="s0"} … m{i="s<nseries - 1>"},
 * committing after each round when commit is set, while two readers check that every
 * selection is whole. Returns how many selections they made. */
static inline int test_race(struct tsdb *db, int rounds, int nseries, int64_t step, bool commit)
{
    struct test_race r = {.db = db, .step = step};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, test_race_reader, &r), 0);
    for (int k = 0; k < rounds; k++) {
        for (int s = 0; s < nseries; s++) {
            struct test_ls l;
            char name[16];
            uint64_t ref = 0;
            snprintf(name, sizeof(name), "s%d", s);
            assert_int_equal(tsdb_append(db, test_labels(&l, "__name__", "m", "i", name, NULL),
                                         k * step, k, &ref),
                             BW_OK);
        }
        if (commit)
            assert_int_equal(tsdb_commit(db, NULL), BW_OK);
    }
    r.done = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(r.bad, 0);
    return r.reads;
}

#endif
