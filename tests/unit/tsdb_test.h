/* tsdb_test: helpers shared by the tsdb tests — label sets from literal pairs, appending a
 * series' samples in one call, and matchers built in place. */
#ifndef BW_TEST_TSDB_H
#define BW_TEST_TSDB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

#endif
