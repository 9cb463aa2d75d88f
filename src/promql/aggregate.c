/* aggregate: sum, avg, count, min, max, group, stddev, stdvar, quantile, topk, bottomk,
 * limitk, limit_ratio and count_values, with Prometheus 3.5's arithmetic.
 *
 * Each input series is mapped to its group once, before the first step (its labels do not
 * change between steps); then values only accumulate into per-group state, in input order, so
 * that Kahan sums and the incremental mean see the values in the order Prometheus does. All
 * but quantile read the input group by group and series by series, into one row of states per
 * step, rather than step by step: a long range over many series stays cache-friendly, the
 * state is one row whatever the number of groups, and no result changes. topk, bottomk and
 * limitk keep a binary heap built exactly like Go's container/heap, because which of several
 * equal values survives depends on it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/eval.h"

/* The scalar parameter (k, φ, ratio) per step, with Prometheus's fParams summary. */
struct fparams {
    double *v;
    double min, max;
    bool any_nan;
};

static int eval_params(struct evaluator *ev, const struct promql_node *p, const struct ev_range *r,
                       struct fparams *out)
{
    int rc = ev_eval_scalar(ev, p, r, &out->v);
    if (rc)
        return rc;
    out->min = INFINITY;
    out->max = -INFINITY;
    out->any_nan = false;
    for (size_t k = 0; k < r->nsteps; k++) {
        double v = out->v[k];
        if (isnan(v))
            out->any_nan = true;
        if (v > out->max)
            out->max = v;
        if (v < out->min)
            out->min = v;
    }
    if (out->any_nan)
        out->min = out->max = NAN; /* Go's math.Max and math.Min propagate NaN */
    return 0;
}

/* The output labels of a series' group. */
static int group_labels(struct evaluator *ev, const struct promql_node *n,
                        const struct labelset *in, struct labelset *out)
{
    if (n->agg.without)
        return ls_drop(ev, in, n->agg.grouping, n->agg.ngrouping, true, out);
    if (n->agg.ngrouping == 0) {
        *out = (struct labelset){NULL, 0};
        return 0;
    }
    return ls_keep(ev, in, n->agg.grouping, n->agg.ngrouping, out);
}

/* Maps each input series to a group index; *ngroups distinct groups with labels glabels. */
static int map_groups(struct evaluator *ev, const struct promql_node *n, const struct ev_matrix *in,
                      size_t *group, struct labelset *glabels, size_t *ngroups)
{
    struct ev_interner it;
    int rc = ev_interner_init(ev, &it, in->n, glabels);
    for (size_t i = 0; rc == 0 && i < in->n; i++) {
        struct labelset ls;
        rc = group_labels(ev, n, &in->s[i].ls, &ls);
        if (rc == 0)
            group[i] = ev_intern(&it, &ls, NULL);
    }
    *ngroups = it.n;
    return rc;
}

/* ---- Go's container/heap over one group's samples ---- */

struct heap {
    struct ev_sample *s;
    size_t n;
    bool reverse; /* bottomk: the biggest value on top */
};

/* vectorByValueHeap.Less (NaN smallest) or vectorByReverseValueHeap.Less. */
static bool heap_less(const struct heap *h, size_t i, size_t j)
{
    double a = h->s[i].v, b = h->s[j].v;
    if (isnan(a))
        return true;
    return h->reverse ? a > b : a < b;
}

static void heap_swap(struct heap *h, size_t i, size_t j)
{
    struct ev_sample t = h->s[i];
    h->s[i] = h->s[j];
    h->s[j] = t;
}

static void heap_up(struct heap *h, size_t j)
{
    while (j > 0) {
        size_t i = (j - 1) / 2;
        if (!heap_less(h, j, i))
            break;
        heap_swap(h, i, j);
        j = i;
    }
}

static bool heap_down(struct heap *h, size_t i0)
{
    size_t i = i0;
    for (;;) {
        size_t j = 2 * i + 1;
        if (j >= h->n)
            break;
        if (j + 1 < h->n && heap_less(h, j + 1, j))
            j++;
        if (!heap_less(h, j, i))
            break;
        heap_swap(h, i, j);
        i = j;
    }
    return i > i0;
}

static void heap_push(struct heap *h, const struct ev_sample *s)
{
    h->s[h->n++] = *s;
    heap_up(h, h->n - 1);
}

/* sort.Sort(sort.Reverse(heap)): insertion sort, which is what Go does for short slices. */
static void heap_sort_reverse(struct heap *h)
{
    for (size_t i = 1; i < h->n; i++)
        for (size_t j = i; j > 0 && heap_less(h, j - 1, j); j--)
            heap_swap(h, j, j - 1);
}

/* ---- limit_ratio's sampling: xxhash64 of the label set, as Prometheus's labels.Hash ---- */

#define XXP1 0x9E3779B185EBCA87ULL
#define XXP2 0xC2B2AE3D27D4EB4FULL
#define XXP3 0x165667B19E3779F9ULL
#define XXP4 0x85EBCA77C2B2AE63ULL
#define XXP5 0x27D4EB2F165667C5ULL

static uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t rd32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t xx_round(uint64_t acc, uint64_t in)
{
    return rotl(acc + in * XXP2, 31) * XXP1;
}

static uint64_t xx_merge(uint64_t acc, uint64_t v)
{
    return (acc ^ xx_round(0, v)) * XXP1 + XXP4;
}

static uint64_t xxhash64(const unsigned char *p, size_t n)
{
    const unsigned char *end = p + n;
    uint64_t h;
    if (n >= 32) {
        uint64_t v1 = XXP1 + XXP2, v2 = XXP2, v3 = 0, v4 = -XXP1;
        for (; end - p >= 32; p += 32) {
            v1 = xx_round(v1, rd64(p));
            v2 = xx_round(v2, rd64(p + 8));
            v3 = xx_round(v3, rd64(p + 16));
            v4 = xx_round(v4, rd64(p + 24));
        }
        h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
        h = xx_merge(h, v1);
        h = xx_merge(h, v2);
        h = xx_merge(h, v3);
        h = xx_merge(h, v4);
    } else {
        h = XXP5;
    }
    h += n;
    for (; end - p >= 8; p += 8)
        h = rotl(h ^ xx_round(0, rd64(p)), 27) * XXP1 + XXP4;
    if (end - p >= 4) {
        h = rotl(h ^ (uint64_t)rd32(p) * XXP1, 23) * XXP2 + XXP3;
        p += 4;
    }
    for (; p < end; p++)
        h = rotl(h ^ (uint64_t)*p * XXP5, 11) * XXP1;
    h ^= h >> 33;
    h *= XXP2;
    h ^= h >> 29;
    h *= XXP3;
    h ^= h >> 32;
    return h;
}

/* Appends s with the length prefix of Prometheus's stringlabels layout. */
static int put_sized(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    int rc;
    if (n < 255) {
        rc = buf_putc(b, (char)n);
    } else {
        unsigned char len[4] = {255, (unsigned char)n, (unsigned char)(n >> 8),
                                (unsigned char)(n >> 16)};
        rc = buf_append(b, len, sizeof(len));
    }
    return rc ? rc : buf_append(b, s, n);
}

/* labels.Hash of the default (stringlabels) build: xxhash of the length-prefixed pairs. */
static int ratio_offset(struct evaluator *ev, const struct labelset *ls, double *out)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ls->n; i++) {
        rc = put_sized(&b, ls->v[i].name);
        if (rc == 0)
            rc = put_sized(&b, ls->v[i].value);
    }
    if (rc == 0)
        *out = (double)xxhash64((const unsigned char *)(b.data ? b.data : ""), b.len) /
               (double)UINT64_MAX;
    buf_fini(&b);
    return rc ? ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory") : 0;
}

/* ---- topk, bottomk, limitk, limit_ratio ---- */

static int aggregate_k(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                       const struct ev_matrix *in, const size_t *group, size_t ngroups,
                       const struct fparams *fp, struct ev_matrix *out)
{
    enum agg_op op = n->agg.op;
    bool ratio = op == AGG_LIMIT_RATIO;
    struct ev_builder b;
    int rc = ev_builder_init(ev, &b, r);
    if (rc)
        return rc;
    if (ratio) {
        if (fp->max == 0 && fp->min == 0)
            goto done;
        char num[32];
        if (fp->max > 1.0) {
            fmt_double(num, fp->max, 0);
            rc = ev_warn(ev, n->agg.param->pos,
                         "ratio value should be between -1 and 1, got %s, capping to 1", num);
        }
        if (rc == 0 && fp->min < -1.0) {
            fmt_double(num, fp->min, 0);
            rc = ev_warn(ev, n->agg.param->pos,
                         "ratio value should be between -1 and 1, got %s, capping to -1", num);
        }
        if (rc)
            return rc;
    } else if (fp->max < 1) {
        goto done; /* every k below one */
    }
    struct heap *heaps = ev_calloc(ev, ngroups ? ngroups : 1, sizeof(*heaps));
    size_t *cur = ev_calloc(ev, in->n ? in->n : 1, sizeof(*cur));
    double *offset = ratio ? ev_calloc(ev, in->n ? in->n : 1, sizeof(*offset)) : NULL;
    if (!heaps || !cur || (ratio && !offset))
        return BW_ENOMEM;
    for (size_t g = 0; g < ngroups; g++) {
        heaps[g].s = ev_alloc(ev, (in->n ? in->n : 1) * sizeof(struct ev_sample));
        heaps[g].reverse = op == AGG_BOTTOMK;
        if (!heaps[g].s)
            return BW_ENOMEM;
    }
    for (size_t i = 0; ratio && i < in->n; i++) {
        rc = ratio_offset(ev, &in->s[i].ls, &offset[i]);
        if (rc)
            return rc;
    }
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        double param = fp->v[k];
        for (size_t g = 0; g < ngroups; g++)
            heaps[g].n = 0;
        bool stop = false;
        for (size_t i = 0; i < in->n; i++) {
            const struct ev_series *s = &in->s[i];
            if (cur[i] >= s->n || s->t[cur[i]] != ts)
                continue;
            struct ev_sample smp = {&s->ls, s->v[cur[i]++], ts, s->drop_name};
            if (stop)
                continue; /* only advance the other series */
            struct heap *h = &heaps[group[i]];
            if (ratio) {
                if (isnan(param)) {
                    char num[32];
                    fmt_double(num, param, 0);
                    return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION, "Ratio value %s is NaN",
                                   num);
                }
                if (param == 0) {
                    stop = true;
                    continue;
                }
                double rl = param < -1.0 ? -1.0 : param > 1.0 ? 1.0 : param;
                if ((rl >= 0 && offset[i] < rl) || (rl < 0 && offset[i] >= 1.0 + rl))
                    heap_push(h, &smp);
                continue;
            }
            if (!(param <= 9223372036854775807.0 && param >= -9223372036854775808.0)) {
                char num[32];
                fmt_double(num, param, 0);
                return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                               "Scalar value %s overflows int64", num);
            }
            double kk = trunc(param);
            if (kk > (double)in->n)
                kk = (double)in->n;
            if (kk < 1) {
                stop = true;
                continue;
            }
            size_t kmax = (size_t)kk;
            if (op == AGG_LIMITK) {
                if (h->n < kmax)
                    heap_push(h, &smp);
            } else if (h->n < kmax) {
                heap_push(h, &smp);
            } else {
                double top = h->s[0].v;
                bool better = op == AGG_TOPK ? top < smp.v : top > smp.v;
                if (better || (isnan(top) && !isnan(smp.v))) {
                    h->s[0] = smp;
                    if (kmax > 1 && !heap_down(h, 0))
                        heap_up(h, 0);
                }
            }
        }
        if (stop)
            continue;
        for (size_t g = 0; g < ngroups; g++) {
            struct heap *h = &heaps[g];
            if (op == AGG_TOPK || op == AGG_BOTTOMK)
                heap_sort_reverse(h);
            for (size_t j = 0; j < h->n; j++) {
                rc = ev_builder_add(ev, &b, h->s[j].ls, h->s[j].drop_name, ts, h->s[j].v);
                if (rc)
                    return rc;
            }
        }
    }
done:
    *out = b.m;
    return 0;
}

/* ---- count_values ---- */

/* strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never an exponent. */
static void format_f(char *out, size_t cap, double v)
{
    char g[32];
    fmt_double(g, v, 0);
    char *e = strchr(g, 'e');
    if (!e || isnan(v) || isinf(v)) {
        snprintf(out, cap, "%s", g);
        return;
    }
    int exp = atoi(e + 1);
    *e = '\0';
    const char *m = g;
    bool neg = *m == '-';
    m += neg;
    char digits[32];
    size_t nd = 0;
    for (const char *p = m; *p; p++)
        if (*p != '.')
            digits[nd++] = *p;
    digits[nd] = '\0';
    /* The value is 0.digits * 10^(exp + 1). */
    int point = exp + 1;
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    if (point <= 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int i = 0; i < -point && k < cap - 1; i++)
            out[k++] = '0';
        for (size_t i = 0; i < nd && k < cap - 1; i++)
            out[k++] = digits[i];
    } else {
        for (int i = 0; i < point && k < cap - 1; i++)
            out[k++] = (size_t)i < nd ? digits[i] : '0';
        if ((size_t)point < nd && k < cap - 2) {
            out[k++] = '.';
            for (size_t i = (size_t)point; i < nd && k < cap - 1; i++)
                out[k++] = digits[i];
        }
    }
    out[k] = '\0';
}

static int count_values(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                        struct ev_matrix *out)
{
    const char *label = ev_unparen(n->agg.param)->string;
    if (!ls_name_valid(label))
        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION, "invalid label name %s",
                       ev_quote(ev, label));
    /* by (...) also keeps the value label; without (...) may remove it. */
    const char **grouping = ev_alloc(ev, (n->agg.ngrouping + 1) * sizeof(*grouping));
    if (!grouping)
        return BW_ENOMEM;
    if (n->agg.ngrouping)
        memcpy(grouping, n->agg.grouping, n->agg.ngrouping * sizeof(*grouping));
    size_t ngrouping = n->agg.ngrouping;
    if (!n->agg.without)
        grouping[ngrouping++] = label;
    struct ev_matrix in;
    int rc = ev_eval(ev, n->agg.expr, r, &in);
    struct ev_builder b;
    if (rc == 0)
        rc = ev_builder_init(ev, &b, r);
    size_t *cur = rc == 0 ? ev_calloc(ev, in.n ? in.n : 1, sizeof(*cur)) : NULL;
    /* Each step's keys are new label sets: the builder remembers a series by the address of
     * its label set, so an address must never stand for two sets. */
    struct labelset **keys = cur ? ev_alloc(ev, (in.n ? in.n : 1) * sizeof(*keys)) : NULL;
    double *counts = keys ? ev_alloc(ev, (in.n ? in.n : 1) * sizeof(*counts)) : NULL;
    if (!counts)
        return rc ? rc : BW_ENOMEM;
    struct ev_vector vec = {0};
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        rc = ev_gather(ev, &in, cur, ts, &vec);
        size_t nkeys = 0;
        for (size_t i = 0; rc == 0 && i < vec.n; i++) {
            char num[400];
            format_f(num, sizeof(num), vec.s[i].v);
            const char *val = arena_strdup(ev->a, num);
            struct labelset with, key;
            if (!val)
                return ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
            rc = ls_set(ev, vec.s[i].ls, label, val, &with);
            if (rc == 0 && n->agg.without)
                rc = ls_drop(ev, &with, grouping, ngrouping, true, &key);
            else if (rc == 0)
                rc = ls_keep(ev, &with, grouping, ngrouping, &key);
            if (rc)
                return rc;
            size_t j = 0;
            while (j < nkeys && !ls_equal(keys[j], &key))
                j++;
            if (j == nkeys) {
                keys[nkeys] = ev_alloc(ev, sizeof(**keys));
                if (!keys[nkeys])
                    return BW_ENOMEM;
                *keys[nkeys] = key;
                counts[nkeys++] = 0;
            }
            counts[j]++;
        }
        for (size_t j = 0; rc == 0 && j < nkeys; j++)
            rc = ev_builder_add(ev, &b, keys[j], false, ts, counts[j]);
        if (rc)
            return rc;
    }
    *out = b.m;
    return 0;
}

/* ---- the others ---- */

struct acc {
    bool seen, incremental;
    double value, mean, c, count;
    double *vals; /* quantile */
    size_t nvals;
};

static void acc_first(enum agg_op op, struct acc *g, double f)
{
    double *vals = g->vals;
    *g = (struct acc){.seen = true, .value = f, .mean = f, .count = 1, .vals = vals};
    switch (op) {
    case AGG_STDVAR:
    case AGG_STDDEV:
        g->value = isnan(f) || isinf(f) ? NAN : 0;
        break;
    case AGG_QUANTILE:
        g->vals[g->nvals++] = f;
        break;
    case AGG_GROUP:
        g->value = 1;
        break;
    default:
        break;
    }
}

static void acc_add(enum agg_op op, struct acc *g, double f)
{
    switch (op) {
    case AGG_SUM:
        g->value = kahan_inc(f, g->value, &g->c);
        break;
    case AGG_AVG:
        g->count++;
        if (!g->incremental) {
            double c = g->c;
            double v = kahan_inc(f, g->value, &c);
            if (!isinf(v)) {
                g->value = v;
                g->c = c;
                break;
            }
            /* The sum would overflow: continue with the incremental mean. */
            g->incremental = true;
            g->mean = g->value / (g->count - 1);
            g->c /= g->count - 1;
        }
        double q = (g->count - 1) / g->count;
        double qc = q * g->c;
        g->mean = kahan_inc(f / g->count, q * g->mean, &qc);
        g->c = qc;
        break;
    case AGG_MAX:
        if (g->value < f || isnan(g->value))
            g->value = f;
        break;
    case AGG_MIN:
        if (g->value > f || isnan(g->value))
            g->value = f;
        break;
    case AGG_COUNT:
        g->count++;
        break;
    case AGG_STDVAR:
    case AGG_STDDEV: {
        g->count++;
        double delta = f - g->mean;
        g->mean += delta / g->count;
        g->value += delta * (f - g->mean);
        break;
    }
    case AGG_QUANTILE:
        g->vals[g->nvals++] = f;
        break;
    default: /* AGG_GROUP */
        break;
    }
}

static double acc_result(enum agg_op op, struct acc *g, double q)
{
    switch (op) {
    case AGG_AVG:
        return g->incremental ? g->mean + g->c : g->value / g->count + g->c / g->count;
    case AGG_COUNT:
        return g->count;
    case AGG_STDVAR:
        return g->value / g->count;
    case AGG_STDDEV:
        return sqrt(g->value / g->count);
    case AGG_QUANTILE:
        return values_quantile(q, g->vals, g->nvals);
    case AGG_SUM:
        return g->value + g->c;
    default:
        return g->value;
    }
}

/* The accumulation step by step, one state per group: what the quantile needs (its values
 * per step). */
static int accumulate_by_step(struct evaluator *ev, enum agg_op op, const struct ev_range *r,
                              const struct ev_matrix *in, const size_t *group, size_t ngroups,
                              const struct fparams *fp, struct acc *acc, struct ev_matrix *out)
{
    size_t *cur = ev_calloc(ev, in->n ? in->n : 1, sizeof(*cur));
    int rc;
    if (!cur)
        return BW_ENOMEM;
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        for (size_t g = 0; g < ngroups; g++) {
            acc[g].seen = false;
            acc[g].nvals = 0;
        }
        for (size_t i = 0; i < in->n; i++) {
            const struct ev_series *s = &in->s[i];
            if (cur[i] >= s->n || s->t[cur[i]] != ts)
                continue;
            double f = s->v[cur[i]++];
            struct acc *g = &acc[group[i]];
            if (g->seen)
                acc_add(op, g, f);
            else
                acc_first(op, g, f);
        }
        for (size_t g = 0; g < ngroups; g++) {
            if (!acc[g].seen)
                continue;
            rc = ev_series_add(ev, &out->s[g], r->nsteps, ts,
                               acc_result(op, &acc[g], fp->v ? fp->v[k] : 0));
            if (rc)
                return rc;
        }
        rc = ev_check_time(ev);
        if (rc)
            return rc;
    }
    return 0;
}

/* The same result group by group: the input series of one group go, in input order, into one
 * row of states (one per step), so each series' arrays are read once, in order, instead of one
 * point of every series per step (which misses the cache once the series are many), and the
 * states are one row of steps, not one per group and step (which, zeroed for every query, cost
 * more than the sums on a long range of few points). Every state still sees its values in
 * input order, so sums come out bit for bit the same; each group's output is sized exactly. */
static int accumulate_by_series(struct evaluator *ev, enum agg_op op, const struct ev_range *r,
                                const struct ev_matrix *in, const size_t *group, size_t ngroups,
                                struct ev_matrix *out)
{
    /* members[first[g] .. first[g + 1]): the input series of group g, in input order */
    size_t *first = ev_calloc(ev, ngroups + 1, sizeof(*first));
    size_t *members = ev_alloc(ev, (in->n ? in->n : 1) * sizeof(*members));
    struct acc *row = ev_calloc(ev, r->nsteps, sizeof(*row));
    if (!first || !members || !row)
        return BW_ENOMEM;
    for (size_t i = 0; i < in->n; i++)
        first[group[i] + 1]++;
    for (size_t g = 0; g < ngroups; g++)
        first[g + 1] += first[g];
    for (size_t i = 0; i < in->n; i++)
        members[first[group[i]]++] = i; /* first[g] ends at the start of group g + 1 */
    for (size_t g = ngroups; g > 0; g--)
        first[g] = first[g - 1];
    first[0] = 0;
    for (size_t g = 0; g < ngroups; g++) {
        size_t lo = r->nsteps, hi = 0; /* the steps [lo, hi) hold the states touched */
        for (size_t m = first[g]; m < first[g + 1]; m++) {
            const struct ev_series *s = &in->s[members[m]];
            for (size_t j = 0; j < s->n; j++) {
                /* Points are at steps; at one that is not, the step loop would stop taking
                 * the series' points, and so does this. */
                int64_t k = (s->t[j] - r->start) / r->step;
                if (k < 0 || (size_t)k >= r->nsteps || r->start + k * r->step != s->t[j])
                    break;
                struct acc *a = &row[k];
                if (a->seen) {
                    acc_add(op, a, s->v[j]);
                    continue;
                }
                acc_first(op, a, s->v[j]);
                if ((size_t)k < lo)
                    lo = (size_t)k;
                if ((size_t)k >= hi)
                    hi = (size_t)k + 1;
            }
            int rc = ev_check_time(ev);
            if (rc)
                return rc;
        }
        size_t count = 0;
        for (size_t k = lo; k < hi; k++)
            count += row[k].seen;
        if (count == 0)
            continue;
        struct ev_series *o = &out->s[g];
        o->t = ev_alloc(ev, count * sizeof(*o->t));
        o->v = o->t ? ev_alloc(ev, count * sizeof(*o->v)) : NULL;
        if (!o->v)
            return BW_ENOMEM;
        o->cap = count;
        int rc = ev_hold(ev, count);
        if (rc)
            return rc;
        for (size_t k = lo; k < hi; k++) {
            if (!row[k].seen)
                continue;
            o->t[o->n] = r->start + (int64_t)k * r->step;
            o->v[o->n++] = acc_result(op, &row[k], 0);
        }
        memset(row + lo, 0, (hi - lo) * sizeof(*row));
    }
    return 0;
}

int agg_eval(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
             struct ev_matrix *out)
{
    enum agg_op op = n->agg.op;
    if (op == AGG_COUNT_VALUES)
        return count_values(ev, n, r, out);
    struct fparams fp = {0};
    int rc = n->agg.param ? eval_params(ev, n->agg.param, r, &fp) : 0;
    struct ev_matrix in;
    if (rc == 0)
        rc = ev_eval(ev, n->agg.expr, r, &in);
    if (rc)
        return rc;
    size_t *group = ev_alloc(ev, (in.n ? in.n : 1) * sizeof(*group));
    struct labelset *glabels = ev_alloc(ev, (in.n ? in.n : 1) * sizeof(*glabels));
    size_t ngroups = 0;
    if (!group || !glabels)
        return BW_ENOMEM;
    bool keep_series =
        op == AGG_TOPK || op == AGG_BOTTOMK || op == AGG_LIMITK || op == AGG_LIMIT_RATIO;
    rc = map_groups(ev, n, &in, group, glabels, &ngroups);
    if (rc)
        return rc;
    if (keep_series)
        return aggregate_k(ev, n, r, &in, group, ngroups, &fp, out);
    if (op == AGG_QUANTILE) {
        char num[32];
        int pos = n->agg.param->pos;
        if (fp.any_nan)
            rc = ev_warn(ev, pos, "quantile value should be between 0 and 1, got NaN");
        if (rc == 0 && fp.max > 1) {
            fmt_double(num, fp.max, 0);
            rc = ev_warn(ev, pos, "quantile value should be between 0 and 1, got %s", num);
        }
        if (rc == 0 && fp.min < 0) {
            fmt_double(num, fp.min, 0);
            rc = ev_warn(ev, pos, "quantile value should be between 0 and 1, got %s", num);
        }
        if (rc)
            return rc;
    }
    struct acc *acc = ev_calloc(ev, ngroups ? ngroups : 1, sizeof(*acc));
    out->s = ev_calloc(ev, ngroups ? ngroups : 1, sizeof(*out->s));
    if (!acc || !out->s)
        return BW_ENOMEM;
    if (op == AGG_QUANTILE) {
        /* Group sizes bound the values a group collects at one step. */
        size_t *size = ev_calloc(ev, ngroups ? ngroups : 1, sizeof(*size));
        if (!size)
            return BW_ENOMEM;
        for (size_t i = 0; i < in.n; i++)
            size[group[i]]++;
        for (size_t g = 0; g < ngroups; g++) {
            acc[g].vals = ev_alloc(ev, size[g] * sizeof(double));
            if (!acc[g].vals)
                return BW_ENOMEM;
        }
    }
    bool by_series = op != AGG_QUANTILE;
    for (size_t g = 0; g < ngroups; g++) {
        out->s[g].ls = glabels[g];
        /* Prometheus copies the flag of the input series with the group's index. */
        out->s[g].drop_name = in.s[g].drop_name;
        if (by_series)
            continue; /* sized exactly once the group is summed */
        /* A group has at most one point per step: no growing in the step loop. */
        out->s[g].t = ev_alloc(ev, r->nsteps * sizeof(int64_t));
        out->s[g].v = out->s[g].t ? ev_alloc(ev, r->nsteps * sizeof(double)) : NULL;
        if (!out->s[g].v)
            return BW_ENOMEM;
        out->s[g].cap = r->nsteps;
    }
    out->n = ngroups;
    if (by_series)
        rc = accumulate_by_series(ev, op, r, &in, group, ngroups, out);
    else
        rc = accumulate_by_step(ev, op, r, &in, group, ngroups, &fp, acc, out);
    if (rc)
        return rc;
    /* Groups without any point are left out. */
    size_t kept = 0;
    for (size_t g = 0; g < ngroups; g++)
        if (out->s[g].n)
            out->s[kept++] = out->s[g];
    out->n = kept;
    return 0;
}
