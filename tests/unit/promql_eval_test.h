/* promql_eval_test: helpers shared by the evaluator tests — an in-memory tsdb filled from
 * compact series specs, and queries whose results come back as one comparable string. */
#ifndef BW_TEST_PROMQL_EVAL_H
#define BW_TEST_PROMQL_EVAL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "promql/promql.h"
#include "tsdb/tsdb.h"

static inline struct tsdb *test_db(void)
{
    struct tsdb *db;
    struct diag d = {0};
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    return db;
}

/* Appends a series: spec is "name label=value ...", values is "v v _ stale ..." with one value
 * per step_ms from 0 ("_" for none). */
static inline void test_series(struct tsdb *db, const char *spec, int64_t step_ms,
                               const char *values)
{
    char buf[512], vbuf[4096];
    struct label l[16];
    size_t n = 0;
    snprintf(buf, sizeof(buf), "%s", spec);
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok && n < 16; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (n == 0 && !eq) {
            l[n++] = (struct label){LABEL_NAME, tok};
            continue;
        }
        assert_non_null(eq);
        *eq = '\0';
        l[n++] = (struct label){tok, eq + 1};
    }
    labels_sort(l, n);
    struct labelset ls = {l, n};
    snprintf(vbuf, sizeof(vbuf), "%s", values);
    uint64_t ref = 0;
    int64_t t = 0;
    for (char *tok = strtok_r(vbuf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strcmp(tok, "_") != 0) {
            double v = strcmp(tok, "stale") == 0 ? tsdb_stale_nan() : strtod(tok, NULL);
            assert_int_equal(tsdb_append(db, &ls, t, v, &ref), BW_OK);
        }
        t += step_ms;
    }
}

/* The result as text: vectors "labels value; ...", scalars "value", matrices
 * "labels value@seconds,value@seconds; ...", errors "error: message". Annotations follow as
 * " [warning: ...]" / " [info: ...]" when with_annos is set. */
static inline const char *test_format(int rc, const struct promql_result *r,
                                      const struct promql_error *err, bool with_annos, char *out,
                                      size_t cap)
{
    struct buf b;
    buf_init(&b, 0);
    if (rc) {
        buf_printf(&b, "error: %s", err->msg);
    } else if (r->type == PROMQL_STRING) {
        buf_printf(&b, "\"%s\"", r->string);
    } else if (r->type == PROMQL_SCALAR) {
        char num[32];
        fmt_double(num, r->series[0].v[0], 0);
        buf_puts(&b, num);
    } else {
        for (size_t i = 0; i < r->n; i++) {
            const struct promql_series *s = &r->series[i];
            if (i)
                buf_puts(&b, "; ");
            labelset_format(&s->labels, &b);
            buf_putc(&b, ' ');
            for (size_t k = 0; k < s->n; k++) {
                char num[32];
                fmt_double(num, s->v[k], 0);
                if (r->type == PROMQL_VECTOR)
                    buf_puts(&b, num);
                else
                    buf_printf(&b, "%s%s@%g", k ? "," : "", num, (double)s->t[k] / 1000);
            }
        }
    }
    for (size_t i = 0; with_annos && rc == 0 && i < r->nwarnings; i++)
        buf_printf(&b, " [%s]", r->warnings[i]);
    for (size_t i = 0; with_annos && rc == 0 && i < r->ninfos; i++)
        buf_printf(&b, " [%s]", r->infos[i]);
    snprintf(out, cap, "%s", b.data ? b.data : "");
    buf_fini(&b);
    return out;
}

static inline const char *test_instant_o(struct tsdb *db, const struct promql_options *o,
                                         const char *q, int64_t t_ms, bool with_annos, char *out,
                                         size_t cap)
{
    struct promql_result *r = NULL;
    struct promql_error err = {0};
    int rc = promql_query_instant(db, o, q, t_ms, &r, &err);
    test_format(rc, r, &err, with_annos, out, cap);
    promql_result_free(r);
    return out;
}

static inline const char *test_range_o(struct tsdb *db, const struct promql_options *o,
                                       const char *q, int64_t start, int64_t end, int64_t step,
                                       char *out, size_t cap)
{
    struct promql_result *r = NULL;
    struct promql_error err = {0};
    int rc = promql_query_range(db, o, q, start, end, step, &r, &err);
    test_format(rc, r, &err, false, out, cap);
    promql_result_free(r);
    return out;
}

#define MIN_MS (60 * 1000)

/* Instant query at t_ms with default options; the result text in a static buffer. */
#define INSTANT(db, q, t)       test_instant_o((db), NULL, (q), (t), false, (char[4096]){0}, 4096)
#define INSTANT_ANNOS(db, q, t) test_instant_o((db), NULL, (q), (t), true, (char[4096]){0}, 4096)
#define RANGE(db, q, s, e, st)  test_range_o((db), NULL, (q), (s), (e), (st), (char[8192]){0}, 8192)

#endif
