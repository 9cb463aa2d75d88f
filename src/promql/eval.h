/* promql internal: the evaluator's data model, shared by eval.c (nodes, selectors, subqueries,
 * results), functions.c, aggregate.c, binop.c and quantile.c. Not included from outside
 * src/promql/.
 *
 * Every node is evaluated over a whole range of steps at once and yields an ev_matrix: one
 * ev_series per output label set with the points of the steps where it has a value (scalars
 * are one series without labels, a point at every step). Everything lives in the query's arena.
 * Functions return 0 or a negative BW_E* code with the detail in ev->err. */
#ifndef BW_PROMQL_EVAL_H
#define BW_PROMQL_EVAL_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promql/ast.h"

/* One series of an intermediate result. drop_name is Prometheus 3's delayed __name__ removal:
 * the name stays in ls (aggregations and label functions still see it) and is removed when the
 * query's result is assembled. */
struct ev_series {
    struct labelset ls;
    bool drop_name;
    size_t n, cap;
    int64_t *t; /* step times (raw sample times for range selectors), increasing */
    double *v;
};

struct ev_matrix {
    struct ev_series *s;
    size_t n;
};

/* The steps a node is evaluated at: start, start + step, ... <= end. */
struct ev_range {
    int64_t start, end, step;
    size_t nsteps;
};

/* One element of an instant vector at one step. ls points into the series it came from, so
 * that outputs keyed by the same pointer at later steps land in the same series cheaply. */
struct ev_sample {
    const struct labelset *ls;
    double v;
    int64_t t; /* the sample's own time: what timestamp() reports */
    bool drop_name;
};

struct ev_vector {
    struct ev_sample *s;
    size_t n, cap;
};

/* Annotations, deduplicated, in the order first seen. */
struct ev_annos {
    const char **v;
    size_t n, cap;
};

struct evaluator {
    struct tsdb *db;
    struct arena *a; /* the result's arena: intermediates and the result itself */
    const char *query;
    int64_t lookback_ms;
    int64_t subquery_step_ms;       /* for subqueries without a step */
    int64_t query_start, query_end; /* what start() and end() mean */
    size_t max_samples;
    size_t cur_samples;  /* points held by live intermediate results */
    int64_t deadline_ns; /* clock_mono_ns() limit */
    unsigned ticks;      /* calls since the clock was last read */
    struct promql_error *err;
    struct ev_annos warnings, infos;
};

/* A range-vector argument (matrix selector or subquery), ready to be cut into windows: every
 * series with all its samples (stale markers removed), and where the window of step ts ends. */
struct ev_rsrc {
    struct ev_matrix m;
    int64_t range_ms, offset_ms;
    bool has_at;
    int64_t at_ms;
};

/* The window of step ts is (ref - range, ref]. */
static inline int64_t rsrc_ref(const struct ev_rsrc *s, int64_t ts)
{
    return (s->has_at ? s->at_ms : ts) - s->offset_ms;
}

/* ---- eval.c ---- */

/* Sets ev->err (kind and message) and returns code. */
int ev_fail(struct evaluator *ev, int code, enum promql_error_kind kind, const char *fmt, ...)
    BW_PRINTF(4, 5);
/* Adds a "PromQL warning: ..." / "PromQL info: ..." annotation for the node at pos. */
int ev_warn(struct evaluator *ev, int pos, const char *fmt, ...) BW_PRINTF(3, 4);
int ev_info(struct evaluator *ev, int pos, const char *fmt, ...) BW_PRINTF(3, 4);
/* Arena allocation that reports a limit or out-of-memory error in ev->err (NULL then). */
void *ev_alloc(struct evaluator *ev, size_t n);
/* arena_grow in the query's arena, failing the query as ev_alloc does. */
void *ev_grow(struct evaluator *ev, void *v, size_t n, size_t *cap, size_t size);
void *ev_calloc(struct evaluator *ev, size_t count, size_t size);
/* The timeout error when the deadline has passed. */
int ev_check_deadline(struct evaluator *ev);
/* The too-many-samples error (after counting what went over). */
int ev_too_many(struct evaluator *ev);

/* Reads the clock every EV_CLOCK_EVERY calls for the timeout. Inline, like ev_hold and
 * ev_series_add: they run once per output point. */
#define EV_CLOCK_EVERY 256
static inline int ev_check_time(struct evaluator *ev)
{
    return ++ev->ticks % EV_CLOCK_EVERY != 0 ? 0 : ev_check_deadline(ev);
}

/* Counts n more samples held; the too-many-samples error when over the limit. Also reads the
 * clock now and then for the timeout. */
static inline int ev_hold(struct evaluator *ev, size_t n)
{
    ev->cur_samples += n;
    return ev->cur_samples > ev->max_samples ? ev_too_many(ev) : ev_check_time(ev);
}

/* Evaluates a vector, scalar or matrix-typed node over r. */
int ev_eval(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
            struct ev_matrix *out);
/* Evaluates a scalar node: one value per step. */
int ev_eval_scalar(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                   double **out);
/* Prepares a matrix-typed argument for windowing over the steps of r. */
int ev_range_source(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                    struct ev_rsrc *out);
/* The node beneath any parentheses. */
const struct promql_node *ev_unparen(const struct promql_node *n);
/* Go's strconv.Quote of s (for messages). Lives in ev's arena; "" when out of memory. */
const char *ev_quote(struct evaluator *ev, const char *s);

/* Makes room for one more point in s, growing its arrays up to max points. */
int ev_series_grow(struct evaluator *ev, struct ev_series *s, size_t max);

/* Appends one point to series s, growing its arrays up to max points. */
static inline int ev_series_add(struct evaluator *ev, struct ev_series *s, size_t max, int64_t t,
                                double v)
{
    if (s->n == s->cap) {
        int rc = ev_series_grow(ev, s, max);
        if (rc)
            return rc;
    }
    s->t[s->n] = t;
    s->v[s->n] = v;
    s->n++;
    return ev_hold(ev, 1);
}

/* Collects the vector of step ts from m: every series whose next unread point (cur[i]) is at
 * ts. cur has m->n entries, zeroed before the first step. */
int ev_gather(struct evaluator *ev, const struct ev_matrix *m, size_t *cur, int64_t ts,
              struct ev_vector *out);

/* Assembles per-step outputs into series, keyed by label set (by pointer first, contents
 * second). In a range evaluation, a label set seen twice at one step is the "vector cannot
 * contain metrics with the same labelset" error; in an instant one the order of arrival is the
 * result's order. */
struct ev_builder {
    const struct ev_range *r;
    struct ev_matrix m;
    size_t cap;            /* of m.s */
    struct bslot *by_ptr;  /* labelset pointer -> series */
    struct bslot *by_hash; /* content hash -> series */
    size_t nslots;         /* of each table, a power of two */
    size_t nptrs;          /* entries in by_ptr: can exceed the series (one set, many copies) */
};
int ev_builder_init(struct evaluator *ev, struct ev_builder *b, const struct ev_range *r);
int ev_builder_add(struct evaluator *ev, struct ev_builder *b, const struct labelset *ls,
                   bool drop_name, int64_t t, double v);

/* Label set construction, in ev's arena. */
int ls_set(struct evaluator *ev, const struct labelset *in, const char *name, const char *value,
           struct labelset *out);
int ls_keep(struct evaluator *ev, const struct labelset *in, const char *const *names, size_t n,
            struct labelset *out);
int ls_drop(struct evaluator *ev, const struct labelset *in, const char *const *names, size_t n,
            bool drop_name, struct labelset *out);
/* The set without the labels that name the metric: __name__, and __type__ and __unit__ (the
 * type-and-unit labels that describe it), as when an operation drops the metric name. */
int ls_drop_metric(struct evaluator *ev, const struct labelset *in, struct labelset *out);
/* Numbers distinct label sets 0, 1, 2, ... in the order they come: a hash table of indexes
 * into keys (which the caller sizes for max sets). For grouping, vector matching and the
 * duplicate check. */
struct ev_interner {
    size_t *tab;
    size_t mask;
    struct labelset *keys;
    size_t n;
};
int ev_interner_init(struct evaluator *ev, struct ev_interner *it, size_t max,
                     struct labelset *keys);
/* The index of ls, added as the next one if it is new (*added says which; may be NULL). */
size_t ev_intern(struct ev_interner *it, const struct labelset *ls, bool *added);
/* Fails with Prometheus's "vector cannot contain metrics with the same labelset" when two
 * series of m have the same labels (its ContainsSameLabelset). */
int ev_check_unique(struct evaluator *ev, const struct ev_matrix *m);
/* Prometheus's almost.Equal: both NaN, or equal, or a relative difference under eps (an
 * absolute one near zero). */
bool ev_almost_equal(double a, double b, double eps);
bool ls_equal(const struct labelset *a, const struct labelset *b);
/* A label name Prometheus 3 accepts: non-empty valid UTF-8. */
bool ls_name_valid(const char *s);

/* ---- functions.c ---- */
int fn_call(struct evaluator *ev, const struct promql_node *call, const struct ev_range *r,
            struct ev_matrix *out);
/* Kahan-Neumaier summation step, as Prometheus's kahanSumInc. Inline: sum and avg take one
 * per input point. */
static inline double kahan_inc(double inc, double sum, double *c)
{
    double t = sum + inc;
    if (isinf(t))
        *c = 0;
    else if (fabs(sum) >= fabs(inc))
        *c += (sum - t) + inc;
    else
        *c += (inc - t) + sum;
    return t;
}
/* Whether the function's result varies with the evaluation time even when its arguments do
 * not (so it is never step invariant). */
bool fn_at_unsafe(enum promql_func_id id);

/* ---- aggregate.c ---- */
int agg_eval(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
             struct ev_matrix *out);

/* ---- binop.c ---- */
int binop_eval(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
               struct ev_matrix *out);

/* ---- quantile.c ---- */
struct bucket {
    double upper, count;
};
/* Prometheus's BucketQuantile / BucketFraction over classic buckets (sorted and merged in
 * place). *forced is set when monotonicity had to be forced. */
double bucket_quantile(double q, struct bucket *b, size_t n, bool *forced);
double bucket_fraction(double lower, double upper, struct bucket *b, size_t n);
/* The φ-quantile of v[0..n) (sorted in place), as the quantile aggregation. */
double values_quantile(double q, double *v, size_t n);

#endif
