/* functions: every PromQL function of Prometheus 3.5 over float samples.
 *
 * Three shapes, as in Prometheus's engine: range-vector functions (rate, *_over_time, ...) walk
 * one series at a time through all steps, cutting each step's window out of the series' sample
 * array with two pointers that only move forward (and jumping over the steps of a gap, which
 * on a dashboard's long range over a young series are most of them); label functions
 * (label_replace, label_join) rewrite whole series once; everything else is called step by step on
 * the vector of that step and its output is assembled by an ev_builder. The numeric kernels follow
 * Prometheus's algorithms operation for operation (Kahan-Neumaier sums, the extrapolation of rate,
 * the least squares of deriv), because tests compare results to 1e-6 and NaN/Inf handling matters.
 * Native-histogram-only functions (histogram_count, _sum, _avg, _stddev, _stdvar) return
 * nothing here: the tsdb holds floats only. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "promql/eval.h"

/* ---- numeric helpers ---- */

/* Go's math.Max / math.Min: NaN wins, and +0 > -0. */
static double go_max(double a, double b)
{
    if (isinf(a) && a > 0)
        return a;
    if (isinf(b) && b > 0)
        return b;
    if (isnan(a) || isnan(b))
        return NAN;
    if (a == 0 && a == b)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static double go_min(double a, double b)
{
    if (isinf(a) && a < 0)
        return a;
    if (isinf(b) && b < 0)
        return b;
    if (isnan(a) || isnan(b))
        return NAN;
    if (a == 0 && a == b)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

bool fn_at_unsafe(enum promql_func_id id)
{
    switch (id) {
    case FN_DAYS_IN_MONTH:
    case FN_DAY_OF_MONTH:
    case FN_DAY_OF_WEEK:
    case FN_DAY_OF_YEAR:
    case FN_HOUR:
    case FN_MINUTE:
    case FN_MONTH:
    case FN_YEAR:
    case FN_PREDICT_LINEAR:
    case FN_TIME:
    case FN_TIMESTAMP:
        return true;
    default:
        return false;
    }
}

/* ---- range-vector functions ---- */

/* One window of one series at one step. */
struct window {
    const int64_t *t;
    const double *v;
    size_t n;
    int64_t ts;         /* the step */
    int64_t start, end; /* the window (start, end] */
    double range_s;     /* its length in seconds */
    double p0, p1;      /* scalar arguments of this step */
    bool resets;        /* a decrease may be in the window (false: surely none) */
};

/* Prometheus's extrapolatedRate (rate, increase, delta). */
static bool extrapolated_rate(const struct window *w, bool counter, bool is_rate, double *out)
{
    if (w->n < 2)
        return false;
    size_t last = w->n - 1;
    double result = w->v[last] - w->v[0];
    if (counter && w->resets) {
        double prev = w->v[0];
        for (size_t i = 1; i < w->n; i++) {
            if (w->v[i] < prev)
                result += prev;
            prev = w->v[i];
        }
    }
    double to_start = (double)(w->t[0] - w->start) / 1000;
    double to_end = (double)(w->end - w->t[last]) / 1000;
    double sampled = (double)(w->t[last] - w->t[0]) / 1000;
    double avg = sampled / (double)last;
    double threshold = avg * 1.1;
    double interval = sampled;
    if (to_start >= threshold)
        to_start = avg / 2;
    if (counter && result > 0 && w->v[0] >= 0) {
        double to_zero = sampled * (w->v[0] / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    interval += to_start;
    if (to_end >= threshold)
        to_end = avg / 2;
    interval += to_end;
    double factor = interval / sampled;
    if (is_rate)
        factor /= w->range_s;
    *out = result * factor;
    return true;
}

/* irate / idelta: the last two samples. */
static bool instant_value(const struct window *w, bool is_rate, double *out)
{
    if (w->n < 2)
        return false;
    double prev = w->v[w->n - 2], last = w->v[w->n - 1];
    int64_t dt = w->t[w->n - 1] - w->t[w->n - 2];
    if (dt == 0)
        return false;
    double r = last;
    if (!is_rate || !(last < prev))
        r = last - prev;
    if (is_rate)
        r /= (double)dt / 1000;
    *out = r;
    return true;
}

/* Least squares with Kahan sums, x relative to intercept_t, as Prometheus's linearRegression. */
static void linear_regression(const struct window *w, int64_t intercept_t, double *slope,
                              double *intercept)
{
    double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
    double init = w->v[0];
    bool const_y = true;
    for (size_t i = 0; i < w->n; i++) {
        if (const_y && i > 0 && w->v[i] != init)
            const_y = false;
        n += 1.0;
        double x = (double)(w->t[i] - intercept_t) / 1e3;
        sx = kahan_inc(x, sx, &cx);
        sy = kahan_inc(w->v[i], sy, &cy);
        sxy = kahan_inc(x * w->v[i], sxy, &cxy);
        sx2 = kahan_inc(x * x, sx2, &cx2);
    }
    if (const_y) {
        if (isinf(init)) {
            *slope = *intercept = NAN;
            return;
        }
        *slope = 0;
        *intercept = init;
        return;
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    double cov = sxy - sx * sy / n;
    double var = sx2 - sx * sx / n;
    *slope = cov / var;
    *intercept = sy / n - *slope * sx / n;
}

static double avg_over_time(const struct window *w)
{
    double sum = w->v[0], count = 1, mean = 0, c = 0;
    bool incremental = false;
    for (size_t i = 1; i < w->n; i++) {
        double f = w->v[i];
        count = (double)(i + 1);
        if (!incremental) {
            double nc = c;
            double ns = kahan_inc(f, sum, &nc);
            if (!isinf(ns)) {
                sum = ns;
                c = nc;
                continue;
            }
            incremental = true;
            mean = sum / (count - 1);
            c /= count - 1;
        }
        double q = (count - 1) / count;
        double qc = q * c;
        mean = kahan_inc(f / count, q * mean, &qc);
        c = qc;
    }
    if (incremental)
        return mean + c;
    return sum / count + c / count;
}

static double variance_over_time(const struct window *w)
{
    double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
    for (size_t i = 0; i < w->n; i++) {
        double f = w->v[i];
        count++;
        double delta = f - (mean + cmean);
        mean = kahan_inc(delta / count, mean, &cmean);
        aux = kahan_inc(delta * (f - (mean + cmean)), aux, &caux);
    }
    return (aux + caux) / count;
}

/* Holt's double exponential smoothing as Prometheus computes it. */
static double smoothing(const struct window *w, double sf, double tf)
{
    double s0 = 0, s1 = w->v[0], b = w->v[1] - w->v[0];
    for (size_t i = 1; i < w->n; i++) {
        double x = sf * w->v[i];
        if (i > 1)
            b = tf * (s1 - s0) + (1 - tf) * b;
        double y = (1 - sf) * (s1 + b);
        s0 = s1;
        s1 = x + y;
    }
    return s1;
}

/* The value of range function id over window w, or false for no output. */
static int range_kernel(struct evaluator *ev, const struct promql_node *call,
                        enum promql_func_id id, const struct window *w, double *scratch, bool *has,
                        double *out)
{
    *has = w->n > 0;
    if (w->n == 0)
        return 0;
    switch (id) {
    case FN_RATE:
        *has = extrapolated_rate(w, true, true, out);
        break;
    case FN_INCREASE:
        *has = extrapolated_rate(w, true, false, out);
        break;
    case FN_DELTA:
        *has = extrapolated_rate(w, false, false, out);
        break;
    case FN_IRATE:
        *has = instant_value(w, true, out);
        break;
    case FN_IDELTA:
        *has = instant_value(w, false, out);
        break;
    case FN_DERIV: {
        double intercept;
        *has = w->n >= 2;
        if (*has)
            linear_regression(w, w->t[0], out, &intercept);
        break;
    }
    case FN_PREDICT_LINEAR: {
        double slope, intercept;
        *has = w->n >= 2;
        if (*has) {
            linear_regression(w, w->ts, &slope, &intercept);
            *out = slope * w->p0 + intercept;
        }
        break;
    }
    case FN_RESETS:
    case FN_CHANGES: {
        double count = 0;
        for (size_t i = 1; i < w->n; i++) {
            double p = w->v[i - 1], c = w->v[i];
            if (id == FN_RESETS ? c < p : (c != p && !(isnan(c) && isnan(p))))
                count++;
        }
        *out = count;
        break;
    }
    case FN_AVG_OVER_TIME:
        *out = avg_over_time(w);
        break;
    case FN_SUM_OVER_TIME: {
        double sum = 0, c = 0;
        for (size_t i = 0; i < w->n; i++)
            sum = kahan_inc(w->v[i], sum, &c);
        *out = isinf(sum) ? sum : sum + c;
        break;
    }
    case FN_COUNT_OVER_TIME:
        *out = (double)w->n;
        break;
    case FN_PRESENT_OVER_TIME:
    case FN_ABSENT_OVER_TIME:
        *out = 1;
        break;
    case FN_LAST_OVER_TIME:
        *out = w->v[w->n - 1];
        break;
    case FN_TS_OF_LAST_OVER_TIME:
        *out = (double)w->t[w->n - 1] / 1000;
        break;
    case FN_MIN_OVER_TIME:
    case FN_MAX_OVER_TIME:
    case FN_TS_OF_MIN_OVER_TIME:
    case FN_TS_OF_MAX_OVER_TIME: {
        /* The ts_of_ variants report the last occurrence of the extreme, the value functions
         * keep the first one's value (the same either way). */
        bool max = id == FN_MAX_OVER_TIME || id == FN_TS_OF_MAX_OVER_TIME;
        bool last = id == FN_TS_OF_MIN_OVER_TIME || id == FN_TS_OF_MAX_OVER_TIME;
        double m = w->v[0];
        int64_t mt = w->t[0];
        for (size_t i = 0; i < w->n; i++) {
            double f = w->v[i];
            bool better = max ? f > m : f < m;
            if (better || (last && f == m) || isnan(m)) {
                m = f;
                mt = w->t[i];
            }
        }
        *out = last ? (double)mt / 1000 : m;
        break;
    }
    case FN_STDDEV_OVER_TIME:
        *out = sqrt(variance_over_time(w));
        break;
    case FN_STDVAR_OVER_TIME:
        *out = variance_over_time(w);
        break;
    case FN_QUANTILE_OVER_TIME:
        memcpy(scratch, w->v, w->n * sizeof(double));
        *out = values_quantile(w->p0, scratch, w->n);
        break;
    case FN_MAD_OVER_TIME: {
        memcpy(scratch, w->v, w->n * sizeof(double));
        double median = values_quantile(0.5, scratch, w->n);
        for (size_t i = 0; i < w->n; i++)
            scratch[i] = fabs(w->v[i] - median);
        *out = values_quantile(0.5, scratch, w->n);
        break;
    }
    case FN_DOUBLE_EXPONENTIAL_SMOOTHING:
        if (w->p0 <= 0 || w->p0 >= 1)
            return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                           "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", w->p0);
        if (w->p1 <= 0 || w->p1 >= 1)
            return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                           "invalid trend factor. Expected: 0 < tf < 1, got: %f", w->p1);
        *has = w->n >= 2;
        if (*has)
            *out = smoothing(w, w->p0, w->p1);
        break;
    default:
        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_INTERNAL, "%s is not a range function",
                       call->call.fn->name);
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* The labels absent() and absent_over_time() give their 1: the equality matchers of a plain
 * selector argument, except __name__ and names matched more than once. */
static int absent_labels(struct evaluator *ev, const struct promql_node *arg, struct labelset *out)
{
    *out = (struct labelset){NULL, 0};
    arg = ev_unparen(arg);
    if (arg->kind == NODE_MATRIX_SELECTOR)
        arg = arg->msel.vs;
    if (arg->kind != NODE_VECTOR_SELECTOR)
        return 0;
    const struct tsdb_matcher *m = arg->sel.matchers;
    size_t nm = arg->sel.nmatchers;
    for (size_t i = 0; i < nm; i++) {
        if (strcmp(m[i].name, LABEL_NAME) == 0)
            continue;
        bool first = true;
        for (size_t j = 0; j < i; j++)
            if (strcmp(m[j].name, m[i].name) == 0)
                first = false;
        /* Any other matcher on the name, before or after, removes it again. */
        bool keep = m[i].op == TSDB_MATCH_EQ && first;
        for (size_t j = i + 1; keep && j < nm; j++)
            if (strcmp(m[j].name, m[i].name) == 0)
                keep = false;
        if (!keep)
            continue;
        /* Copies: the matchers' strings go when the tree is released. */
        const char *name = arena_strdup(ev->a, m[i].name);
        const char *value = name ? arena_strdup(ev->a, m[i].value) : NULL;
        if (!value)
            return ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
        int rc = ls_set(ev, out, name, value, out);
        if (rc)
            return rc;
    }
    return 0;
}

static int absent_over_time(struct evaluator *ev, const struct promql_node *call,
                            const struct ev_range *r, const struct ev_matrix *in,
                            struct ev_matrix *out)
{
    bool *seen = ev_calloc(ev, r->nsteps, sizeof(*seen));
    if (!seen)
        return BW_ENOMEM;
    for (size_t i = 0; i < in->n; i++)
        for (size_t k = 0; k < in->s[i].n; k++)
            seen[(in->s[i].t[k] - r->start) / r->step] = true;
    out->s = ev_calloc(ev, 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    int rc = absent_labels(ev, call->call.args[0], &out->s[0].ls);
    out->s[0].drop_name = true;
    out->n = 1;
    for (size_t k = 0; rc == 0 && k < r->nsteps; k++)
        if (!seen[k])
            rc = ev_series_add(ev, &out->s[0], r->nsteps, r->start + (int64_t)k * r->step, 1);
    if (rc == 0 && out->s[0].n == 0)
        out->n = 0;
    return rc;
}

/* Sizes d's arrays for the steps whose window can hold a sample of s: those with a reference
 * time in [first sample, last sample + range). A bound, not a count (gaps in s leave some of
 * them empty), found without walking the steps, so that the step loop never grows them. */
static int reserve_windows(struct evaluator *ev, const struct ev_rsrc *src,
                           const struct ev_series *s, const struct ev_range *r, struct ev_series *d)
{
    size_t count = r->nsteps;
    if (s->n == 0)
        return 0;
    int64_t lo, hi, end;
    /* ref = ts - offset, so the steps ts in [lo, hi); @ pins ref, and overflow gives up */
    if (!src->has_at && !__builtin_add_overflow(s->t[0], src->offset_ms, &lo) &&
        !__builtin_add_overflow(s->t[s->n - 1], src->range_ms, &end) &&
        !__builtin_add_overflow(end, src->offset_ms, &hi)) {
        /* clamped to the range, where nothing overflows: the steps from
         * ceil((lo - start) / step) to floor((last - start) / step) */
        if (lo < r->start)
            lo = r->start;
        int64_t last = hi <= lo ? INT64_MIN : hi > r->end ? r->end : hi - 1;
        count = last < lo ? 0
                          : (size_t)((last - r->start) / r->step -
                                     (lo - r->start + r->step - 1) / r->step + 1);
    }
    if (count == 0)
        return 0;
    d->t = ev_alloc(ev, count * sizeof(*d->t));
    d->v = d->t ? ev_alloc(ev, count * sizeof(*d->v)) : NULL;
    d->cap = count;
    return d->v ? 0 : BW_ENOMEM;
}

/* The step after step k to go on at when the window of step k ends before sample time t: the
 * first whose window reaches t (with a window that moves with the steps, the first ts with
 * ts - offset >= t), r->nsteps when none does (with @, every window is the one of step k). */
static size_t step_reaching(const struct ev_rsrc *src, const struct ev_range *r, int64_t t,
                            size_t k)
{
    int64_t ts;
    if (src->has_at)
        return r->nsteps;
    if (__builtin_add_overflow(t, src->offset_ms, &ts))
        return src->offset_ms > 0 ? r->nsteps : k + 1; /* past every step; or no jump */
    if (ts > r->end)
        return r->nsteps;
    if (ts <= r->start)
        return k + 1;
    int64_t n = (ts - r->start) / r->step;
    size_t next = (size_t)(r->start + n * r->step < ts ? n + 1 : n);
    return next > k ? next : k + 1;
}

static int range_call(struct evaluator *ev, const struct promql_node *call, size_t mi,
                      const struct ev_range *r, struct ev_matrix *out)
{
    enum promql_func_id id = call->call.fn->id;
    double *params[2] = {NULL, NULL};
    size_t np = 0;
    int rc;
    for (size_t i = 0; i < call->call.nargs && np < 2; i++) {
        if (i == mi)
            continue;
        rc = ev_eval_scalar(ev, call->call.args[i], r, &params[np++]);
        if (rc)
            return rc;
    }
    struct ev_rsrc src;
    rc = ev_range_source(ev, call->call.args[mi], r, &src);
    if (rc)
        return rc;
    size_t longest = 1;
    for (size_t i = 0; i < src.m.n; i++)
        if (src.m.s[i].n > longest)
            longest = src.m.s[i].n;
    double *scratch = NULL;
    if (id == FN_QUANTILE_OVER_TIME || id == FN_MAD_OVER_TIME) {
        scratch = ev_alloc(ev, longest * sizeof(double));
        if (!scratch)
            return BW_ENOMEM;
    }
    uint32_t *decreases = NULL;
    if (id == FN_RATE || id == FN_INCREASE) {
        decreases = ev_alloc(ev, longest * sizeof(*decreases));
        if (!decreases)
            return BW_ENOMEM;
    }
    int qpos = call->call.args[0]->pos, mpos = call->call.args[mi]->pos;
    out->s = ev_calloc(ev, src.m.n ? src.m.n : 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    out->n = 0;
    for (size_t i = 0; i < src.m.n; i++) {
        const struct ev_series *s = &src.m.s[i];
        struct ev_series *d = &out->s[out->n];
        d->ls = s->ls;
        d->drop_name = id != FN_LAST_OVER_TIME;
        rc = reserve_windows(ev, &src, s, r, d);
        if (rc)
            return rc;
        if (decreases) {
            /* decreases[i]: how many samples up to i are below their predecessor, so that a
             * window knows in O(1) whether rate needs its reset loop. */
            decreases[0] = 0;
            for (size_t j = 1; j < s->n; j++)
                decreases[j] = decreases[j - 1] + (s->v[j] < s->v[j - 1]);
        }
        size_t a = 0, b = 0;
        int64_t ts = r->start;
        for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
            struct window w = {.ts = ts, .range_s = (double)src.range_ms / 1000};
            w.end = rsrc_ref(&src, ts);
            w.start = w.end - src.range_ms;
            while (a < s->n && s->t[a] <= w.start)
                a++;
            if (b < a)
                b = a;
            while (b < s->n && s->t[b] <= w.end)
                b++;
            if (b == a) { /* no output: go on at the first window that reaches sample a */
                size_t next = a < s->n ? step_reaching(&src, r, s->t[a], k) : r->nsteps;
                if (next >= r->nsteps)
                    break;
                k = next - 1; /* the loop's k++ and ts += step take it to next */
                ts = r->start + (int64_t)k * r->step;
                continue;
            }
            w.t = s->t + a;
            w.v = s->v + a;
            w.n = b - a;
            w.resets = !decreases || (b > a && decreases[b - 1] != decreases[a]);
            w.p0 = params[0] ? params[0][k] : 0;
            w.p1 = params[1] ? params[1][k] : 0;
            if (id == FN_QUANTILE_OVER_TIME && w.n > 0 && (isnan(w.p0) || w.p0 < 0 || w.p0 > 1)) {
                char num[32];
                fmt_double(num, w.p0, 0);
                rc = ev_warn(ev, qpos, "quantile value should be between 0 and 1, got %s", num);
                if (rc)
                    return rc;
            }
            /* The window's samples count as held while the function looks at them. */
            if (ev->cur_samples + w.n > ev->max_samples)
                return ev_hold(ev, w.n);
            bool has;
            double v = 0;
            rc = range_kernel(ev, call, id, &w, scratch, &has, &v);
            if (rc == 0 && has)
                rc = ev_series_add(ev, d, r->nsteps, ts, v);
            if (rc)
                return rc;
        }
        if (d->n == 0)
            continue;
        out->n++;
        const char *name = labelset_get(&s->ls, LABEL_NAME);
        if ((id == FN_RATE || id == FN_INCREASE) && name && name[0] && !ends_with(name, "_total") &&
            !ends_with(name, "_sum") && !ends_with(name, "_count") && !ends_with(name, "_bucket")) {
            rc = ev_info(ev, mpos,
                         "metric might not be a counter, name does not end in "
                         "_total/_sum/_count/_bucket: %s",
                         ev_quote(ev, name));
            if (rc)
                return rc;
        }
    }
    if (id == FN_ABSENT_OVER_TIME) {
        struct ev_matrix in = *out;
        return absent_over_time(ev, call, r, &in, out);
    }
    return 0;
}

/* ---- label_replace, label_join ---- */

/* Appends Go's regexp.Expand of template tpl for the match in subject to b. */
static int expand(struct buf *b, const char *tpl, const pcre2_code *re, const char *subject,
                  const PCRE2_SIZE *ov, uint32_t nov)
{
    int rc = 0;
    while (rc == 0 && *tpl) {
        const char *dollar = strchr(tpl, '$');
        if (!dollar)
            return buf_puts(b, tpl);
        rc = buf_append(b, tpl, (size_t)(dollar - tpl));
        tpl = dollar + 1;
        if (rc)
            break;
        if (*tpl == '$') {
            rc = buf_putc(b, '$');
            tpl++;
            continue;
        }
        bool brace = *tpl == '{';
        const char *p = tpl + brace;
        const char *name = p;
        while (*p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
               (*p >= 'A' && *p <= 'Z') || (unsigned char)*p >= 0x80)
            p++;
        size_t len = (size_t)(p - name);
        if (len == 0 || (brace && *p != '}')) {
            rc = buf_putc(b, '$'); /* malformed: the dollar is text */
            continue;
        }
        tpl = p + brace;
        long num = 0;
        for (size_t i = 0; i < len && num >= 0; i++) {
            if (name[i] < '0' || name[i] > '9' || num >= 100000000)
                num = -1;
            else
                num = num * 10 + (name[i] - '0');
        }
        if (num < 0) {
            char nbuf[256];
            if (len >= sizeof(nbuf))
                continue;
            memcpy(nbuf, name, len);
            nbuf[len] = '\0';
            int g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)nbuf);
            if (g < 0)
                continue;
            num = g;
        }
        if ((uint32_t)num < nov && ov[2 * num] != PCRE2_UNSET)
            rc = buf_append(b, subject + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
    }
    return rc;
}

static const char *str_arg(const struct promql_node *call, size_t i)
{
    return ev_unparen(call->call.args[i])->string;
}

static int label_replace(struct evaluator *ev, const struct promql_node *call,
                         const struct ev_range *r, struct ev_matrix *out)
{
    const char *dst = str_arg(call, 1), *repl = str_arg(call, 2), *src = str_arg(call, 3);
    const char *regex = str_arg(call, 4);
    struct buf b;
    buf_init(&b, 0);
    pcre2_code *re = NULL;
    pcre2_match_data *md = NULL;
    int rc = buf_printf(&b, "^(?s:%s)$", regex);
    if (rc) {
        rc = ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
        goto done;
    }
    int errcode;
    PCRE2_SIZE erroff;
    re = pcre2_compile((PCRE2_SPTR)b.data, b.len,
                       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY, &errcode,
                       &erroff, NULL);
    if (!re) {
        rc = ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                     "invalid regular expression in label_replace(): %s", regex);
        goto done;
    }
    if (!ls_name_valid(dst)) {
        rc = ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                     "invalid destination label name in label_replace(): %s", dst);
        goto done;
    }
    md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) {
        rc = ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
        goto done;
    }
    rc = ev_eval(ev, call->call.args[0], r, out);
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        struct ev_series *s = &out->s[i];
        const char *sv = labelset_get(&s->ls, src);
        if (!sv)
            sv = "";
        int m = pcre2_match(re, (PCRE2_SPTR)sv, strlen(sv), 0, 0, md, NULL);
        if (m < 0)
            continue;
        buf_reset(&b);
        rc = expand(&b, repl, re, sv, pcre2_get_ovector_pointer(md), pcre2_get_ovector_count(md));
        const char *val = rc == 0 ? arena_strndup(ev->a, b.data ? b.data : "", b.len) : NULL;
        if (!val) {
            rc = ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
            break;
        }
        rc = ls_set(ev, &s->ls, dst, val, &s->ls);
        if (strcmp(dst, LABEL_NAME) == 0)
            s->drop_name = false;
    }
    if (rc == 0)
        rc = ev_check_unique(ev, out);
done:
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    buf_fini(&b);
    return rc;
}

static int label_join(struct evaluator *ev, const struct promql_node *call,
                      const struct ev_range *r, struct ev_matrix *out)
{
    const char *dst = str_arg(call, 1), *sep = str_arg(call, 2);
    for (size_t i = 3; i < call->call.nargs; i++)
        if (!ls_name_valid(str_arg(call, i)))
            return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                           "invalid source label name in label_join(): %s", str_arg(call, i));
    if (!ls_name_valid(dst))
        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                       "invalid destination label name in label_join(): %s", dst);
    int rc = ev_eval(ev, call->call.args[0], r, out);
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; rc == 0 && i < out->n; i++) {
        struct ev_series *s = &out->s[i];
        buf_reset(&b);
        for (size_t j = 3; rc == 0 && j < call->call.nargs; j++) {
            const char *v = labelset_get(&s->ls, str_arg(call, j));
            if (j > 3)
                rc = buf_puts(&b, sep);
            if (rc == 0 && v)
                rc = buf_puts(&b, v);
        }
        const char *val = rc == 0 ? arena_strndup(ev->a, b.data ? b.data : "", b.len) : NULL;
        if (!val) {
            rc = ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
            break;
        }
        rc = ls_set(ev, &s->ls, dst, val, &s->ls);
        if (strcmp(dst, LABEL_NAME) == 0)
            s->drop_name = false;
    }
    buf_fini(&b);
    if (rc == 0)
        rc = ev_check_unique(ev, out);
    return rc;
}

/* ---- classic histograms ---- */

/* The state of histogram_quantile / histogram_fraction: input series grouped by their labels
 * without le (the name stays: delayed removal), with the buckets of the current step. */
struct hgroup {
    struct labelset ls;
    struct bucket *b;
    size_t n, cap;
    struct ev_series out;
};

/* An input series' place in the order buckets are collected in. */
struct bucket_key {
    double upper;
    size_t i;
    bool bad; /* no usable le */
};

/* The series with a bad le first, then by upper bound; input order between equals. */
static int bucket_key_cmp(const void *x, const void *y)
{
    const struct bucket_key *a = x, *b = y;
    if (a->bad != b->bad)
        return a->bad ? -1 : 1;
    if (!a->bad && a->upper != b->upper)
        return a->upper < b->upper ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The order to collect the buckets of in at each step: by upper bound, so that every group's
 * buckets arrive sorted and bucket_quantile need not sort them again at every step. The
 * stable sort it would do yields the same order: by bound, then as collected, i.e. in input
 * order. A NaN bound, which orders nothing, keeps the input order; so do the bad series'
 * warnings, the only annotations the collection makes. */
static int bucket_order(struct evaluator *ev, const struct ev_matrix *in, const size_t *group,
                        const double *upper, size_t **out)
{
    size_t *order = ev_alloc(ev, (in->n ? in->n : 1) * sizeof(*order));
    struct bucket_key *key = ev_alloc(ev, (in->n ? in->n : 1) * sizeof(*key));
    if (!order || !key)
        return BW_ENOMEM;
    bool any_nan = false;
    for (size_t i = 0; i < in->n; i++) {
        key[i] = (struct bucket_key){group[i] == SIZE_MAX ? 0 : upper[i], i, group[i] == SIZE_MAX};
        any_nan |= isnan(key[i].upper);
    }
    if (!any_nan)
        qsort(key, in->n, sizeof(*key), bucket_key_cmp);
    for (size_t i = 0; i < in->n; i++)
        order[i] = key[i].i;
    *out = order;
    return 0;
}

static int hist_call(struct evaluator *ev, const struct promql_node *call, const struct ev_range *r,
                     struct ev_matrix *out)
{
    bool quantile = call->call.fn->id == FN_HISTOGRAM_QUANTILE;
    size_t vi = quantile ? 1 : 2;
    double *p0, *p1 = NULL;
    int rc = ev_eval_scalar(ev, call->call.args[0], r, &p0);
    if (rc == 0 && !quantile)
        rc = ev_eval_scalar(ev, call->call.args[1], r, &p1);
    struct ev_matrix in;
    if (rc == 0)
        rc = ev_eval(ev, call->call.args[vi], r, &in);
    if (rc)
        return rc;
    int qpos = call->call.args[0]->pos, vpos = call->call.args[vi]->pos;
    /* Per input series: its group (or SIZE_MAX for a bad le) and its upper bound. */
    size_t *group = ev_alloc(ev, (in.n ? in.n : 1) * sizeof(*group));
    double *upper = ev_alloc(ev, (in.n ? in.n : 1) * sizeof(*upper));
    struct hgroup *g = ev_calloc(ev, in.n ? in.n : 1, sizeof(*g));
    size_t ng = 0;
    if (!group || !upper || !g)
        return BW_ENOMEM;
    static const char *const le[] = {"le"};
    for (size_t i = 0; i < in.n; i++) {
        const char *bound = labelset_get(&in.s[i].ls, "le");
        if (!bound || parse_go_float(bound, &upper[i]) != BW_OK) {
            group[i] = SIZE_MAX;
            continue;
        }
        struct labelset key;
        rc = ls_drop(ev, &in.s[i].ls, le, 1, false, &key);
        if (rc)
            return rc;
        size_t j = 0;
        while (j < ng && !ls_equal(&g[j].ls, &key))
            j++;
        if (j == ng)
            g[ng++].ls = key;
        group[i] = j;
    }
    size_t *cur = ev_calloc(ev, in.n ? in.n : 1, sizeof(*cur)), *order;
    if (!cur)
        return BW_ENOMEM;
    rc = bucket_order(ev, &in, group, upper, &order);
    if (rc)
        return rc;
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        double q = p0[k];
        if (quantile && (isnan(q) || q < 0 || q > 1)) {
            char num[32];
            fmt_double(num, q, 0);
            rc = ev_warn(ev, qpos, "quantile value should be between 0 and 1, got %s", num);
            if (rc)
                return rc;
        }
        for (size_t j = 0; j < ng; j++)
            g[j].n = 0;
        for (size_t o = 0; o < in.n; o++) {
            size_t i = order[o];
            const struct ev_series *s = &in.s[i];
            if (cur[i] >= s->n || s->t[cur[i]] != ts)
                continue;
            double v = s->v[cur[i]++];
            if (group[i] == SIZE_MAX) {
                const char *name = labelset_get(&s->ls, LABEL_NAME);
                const char *lv = labelset_get(&s->ls, "le");
                rc = ev_warn(ev, vpos,
                             "bucket label \"le\" is missing or has a malformed value of %s for "
                             "metric name %s",
                             ev_quote(ev, lv ? lv : ""), ev_quote(ev, name ? name : ""));
                if (rc)
                    return rc;
                continue;
            }
            struct hgroup *h = &g[group[i]];
            if (h->n == h->cap) { /* a bucket per sample and step: keep the call off it */
                struct bucket *nb = ev_grow(ev, h->b, h->n, &h->cap, sizeof(*nb));
                if (!nb)
                    return BW_ENOMEM;
                h->b = nb;
            }
            h->b[h->n++] = (struct bucket){upper[i], v};
        }
        for (size_t j = 0; j < ng; j++) {
            struct hgroup *h = &g[j];
            if (h->n == 0)
                continue;
            bool forced = false;
            double v = quantile ? bucket_quantile(q, h->b, h->n, &forced)
                                : bucket_fraction(q, p1[k], h->b, h->n);
            if (forced) {
                const char *name = labelset_get(&h->ls, LABEL_NAME);
                rc = ev_info(ev, vpos,
                             "input to histogram_quantile needed to be fixed for monotonicity "
                             "(see https://prometheus.io/docs/prometheus/latest/querying/"
                             "functions/#histogram_quantile) for metric name %s",
                             ev_quote(ev, name ? name : ""));
                if (rc)
                    return rc;
            }
            rc = ev_series_add(ev, &h->out, r->nsteps, ts, v);
            if (rc)
                return rc;
        }
    }
    out->s = ev_calloc(ev, ng ? ng : 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    out->n = 0;
    for (size_t j = 0; j < ng; j++) {
        if (g[j].out.n == 0)
            continue;
        g[j].out.ls = g[j].ls;
        g[j].out.drop_name = true;
        out->s[out->n++] = g[j].out;
    }
    return 0;
}

/* ---- step-by-step functions ---- */

/* Days since 1970-01-01 to a civil date (proleptic Gregorian, as Go's time package). */
static void civil(int64_t days, int64_t *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static double date_part(enum promql_func_id id, double secs)
{
    /* Go converts with int64(f): truncation; NaN and out-of-range give the minimum on amd64. */
    int64_t s = isfinite(secs) && secs > -9.2e18 && secs < 9.2e18 ? (int64_t)secs : INT64_MIN;
    int64_t days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    int m, d;
    civil(days, &y, &m, &d);
    static const int cum[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    switch (id) {
    case FN_YEAR:
        return (double)y;
    case FN_MONTH:
        return m;
    case FN_DAY_OF_MONTH:
        return d;
    case FN_DAY_OF_YEAR:
        return cum[m - 1] + d + (m > 2 && leap(y));
    case FN_DAY_OF_WEEK: {
        int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
        return (double)(w < 0 ? w + 7 : w);
    }
    case FN_DAYS_IN_MONTH:
        return len[m - 1] + (m == 2 && leap(y));
    case FN_HOUR:
        return (double)(rem / 3600);
    default: /* FN_MINUTE */
        return (double)(rem % 3600 / 60);
    }
}

static double simple(enum promql_func_id id, double v)
{
    switch (id) {
    case FN_ABS:
        return fabs(v);
    case FN_CEIL:
        return ceil(v);
    case FN_FLOOR:
        return floor(v);
    case FN_EXP:
        return exp(v);
    case FN_SQRT:
        return sqrt(v);
    case FN_LN:
        return log(v);
    case FN_LOG2:
        return log2(v);
    case FN_LOG10:
        return log10(v);
    case FN_SIN:
        return sin(v);
    case FN_COS:
        return cos(v);
    case FN_TAN:
        return tan(v);
    case FN_ASIN:
        return asin(v);
    case FN_ACOS:
        return acos(v);
    case FN_ATAN:
        return atan(v);
    case FN_SINH:
        return sinh(v);
    case FN_COSH:
        return cosh(v);
    case FN_TANH:
        return tanh(v);
    case FN_ASINH:
        return asinh(v);
    case FN_ACOSH:
        return acosh(v);
    case FN_ATANH:
        return atanh(v);
    case FN_RAD:
        return v * M_PI / 180;
    case FN_DEG:
        return v * 180 / M_PI;
    case FN_SGN:
        return v < 0 ? -1 : v > 0 ? 1 : v;
    default:
        return NAN;
    }
}

/* The run of digits at s[*p] (s has length len): skips its leading zeros, leaving *p at the
 * first significant digit (or the last zero), and returns how many digits remain. */
static size_t digit_run(const char *s, size_t len, size_t *p)
{
    size_t n = 1;
    char c = s[*p];
    while (*p + n < len) {
        char x = s[*p + n];
        if (c == '0') {
            (*p)++;
            c = x;
        } else if (x >= '0' && x <= '9') {
            n++;
        } else {
            break;
        }
    }
    return n;
}

/* facette/natsort's Compare: whether a sorts before b, runs of digits compared as numbers. */
static bool nat_less(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), pa = 0, pb = 0;
    for (;;) {
        if (la <= pa)
            return lb > pb;
        if (lb <= pb)
            return false;
        char av = a[pa], bv = b[pb];
        if (av >= '0' && av <= '9' && bv >= '0' && bv <= '9') {
            size_t na = digit_run(a, la, &pa), nb = digit_run(b, lb, &pb);
            if (na != nb)
                return nb > na;
            int c = memcmp(a + pa, b + pb, na);
            if (c)
                return c < 0;
            pa += na;
            pb += nb;
            continue;
        }
        if (av != bv)
            return (unsigned char)av < (unsigned char)bv;
        pa++;
        pb++;
    }
}

/* Sorting one step's vector: by value, or by labels for sort_by_label(_desc). */
struct vsort {
    struct ev_sample *s;
    const char *const *labels;
    size_t nlabels;
    bool desc, by_label;
};

static int vsort_cmp(const struct vsort *c, const struct ev_sample *x, const struct ev_sample *y)
{
    if (!c->by_label) {
        /* NaN last both ways. */
        if (isnan(x->v) || isnan(y->v))
            return isnan(x->v) - isnan(y->v);
        if (x->v == y->v)
            return 0;
        return (x->v < y->v) == !c->desc ? -1 : 1;
    }
    for (size_t i = 0; i < c->nlabels; i++) {
        const char *a = labelset_get(x->ls, c->labels[i]);
        const char *b = labelset_get(y->ls, c->labels[i]);
        a = a ? a : "";
        b = b ? b : "";
        if (strcmp(a, b) == 0)
            continue;
        return nat_less(a, b) == !c->desc ? -1 : 1;
    }
    int r = labelset_compare(x->ls, y->ls);
    return c->desc ? -r : r;
}

/* A stable merge sort (qsort has no context argument in C11). */
static void vsort_run(const struct vsort *c, struct ev_sample *v, struct ev_sample *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2;
    vsort_run(c, v, tmp, h);
    vsort_run(c, v + h, tmp, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = vsort_cmp(c, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
    while (i < h)
        tmp[k++] = v[i++];
    while (j < n)
        tmp[k++] = v[j++];
    memcpy(v, tmp, n * sizeof(*v));
}

static int step_call(struct evaluator *ev, const struct promql_node *call, const struct ev_range *r,
                     struct ev_matrix *out)
{
    enum promql_func_id id = call->call.fn->id;
    size_t nargs = call->call.nargs;
    struct ev_matrix in = {0};
    bool has_vec = false;
    double *sc[3] = {NULL, NULL, NULL};
    size_t nsc = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nargs; i++) {
        const struct promql_node *a = call->call.args[i];
        if (a->type == PROMQL_VECTOR && !has_vec) {
            has_vec = true;
            rc = ev_eval(ev, a, r, &in);
        } else if (a->type == PROMQL_SCALAR && nsc < 3) {
            rc = ev_eval_scalar(ev, a, r, &sc[nsc++]);
        }
    }
    if (rc)
        return rc;
    struct labelset absent_ls = {NULL, 0}, none = {NULL, 0};
    if (id == FN_ABSENT) {
        rc = absent_labels(ev, call->call.args[0], &absent_ls);
        if (rc)
            return rc;
    }
    struct vsort sorter = {.desc = id == FN_SORT_DESC || id == FN_SORT_BY_LABEL_DESC,
                           .by_label = id == FN_SORT_BY_LABEL || id == FN_SORT_BY_LABEL_DESC};
    if (sorter.by_label) {
        const char **l = ev_alloc(ev, nargs * sizeof(*l));
        if (!l)
            return BW_ENOMEM;
        for (size_t i = 1; i < nargs; i++)
            l[i - 1] = str_arg(call, i);
        sorter.labels = l;
        sorter.nlabels = nargs - 1;
    }
    struct ev_builder b;
    rc = ev_builder_init(ev, &b, r);
    size_t *cur = rc == 0 ? ev_calloc(ev, in.n ? in.n : 1, sizeof(*cur)) : NULL;
    if (!cur)
        return BW_ENOMEM;
    struct ev_vector vec = {0};
    struct ev_sample *tmp = NULL;
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        rc = ev_gather(ev, &in, cur, ts, &vec);
        if (rc)
            return rc;
        double p0 = sc[0] ? sc[0][k] : 0, p1 = sc[1] ? sc[1][k] : 0;
        switch (id) {
        case FN_TIME:
            rc = ev_builder_add(ev, &b, &none, false, ts, (double)ts / 1000);
            break;
        case FN_PI:
            rc = ev_builder_add(ev, &b, &none, false, ts, M_PI);
            break;
        case FN_VECTOR:
            rc = ev_builder_add(ev, &b, &none, false, ts, p0);
            break;
        case FN_SCALAR:
            rc = ev_builder_add(ev, &b, &none, false, ts, vec.n == 1 ? vec.s[0].v : NAN);
            break;
        case FN_ABSENT:
            if (vec.n == 0)
                rc = ev_builder_add(ev, &b, &absent_ls, false, ts, 1);
            break;
        case FN_SORT:
        case FN_SORT_DESC:
        case FN_SORT_BY_LABEL:
        case FN_SORT_BY_LABEL_DESC:
            if (vec.n > 1) {
                tmp = ev_alloc(ev, vec.n * sizeof(*tmp));
                if (!tmp)
                    return BW_ENOMEM;
                vsort_run(&sorter, vec.s, tmp, vec.n);
            }
            for (size_t i = 0; rc == 0 && i < vec.n; i++)
                rc = ev_builder_add(ev, &b, vec.s[i].ls, vec.s[i].drop_name, ts, vec.s[i].v);
            break;
        case FN_HISTOGRAM_AVG:
        case FN_HISTOGRAM_COUNT:
        case FN_HISTOGRAM_SUM:
        case FN_HISTOGRAM_STDDEV:
        case FN_HISTOGRAM_STDVAR:
            break; /* native histograms only */
        case FN_DAY_OF_MONTH:
        case FN_DAY_OF_WEEK:
        case FN_DAY_OF_YEAR:
        case FN_DAYS_IN_MONTH:
        case FN_HOUR:
        case FN_MINUTE:
        case FN_MONTH:
        case FN_YEAR:
            if (nargs == 0) {
                /* Go's enh.Ts/1000: truncated, like C's division. */
                rc = ev_builder_add(ev, &b, &none, false, ts, date_part(id, (double)(ts / 1000)));
                break;
            }
            for (size_t i = 0; rc == 0 && i < vec.n; i++)
                rc = ev_builder_add(ev, &b, vec.s[i].ls, true, ts, date_part(id, vec.s[i].v));
            break;
        case FN_CLAMP:
        case FN_CLAMP_MIN:
        case FN_CLAMP_MAX: {
            double lo = id == FN_CLAMP_MAX ? -INFINITY : p0;
            double hi = id == FN_CLAMP ? p1 : id == FN_CLAMP_MAX ? p0 : INFINITY;
            if (hi < lo)
                break;
            for (size_t i = 0; rc == 0 && i < vec.n; i++)
                rc = ev_builder_add(ev, &b, vec.s[i].ls, true, ts,
                                    go_max(lo, go_min(hi, vec.s[i].v)));
            break;
        }
        case FN_ROUND: {
            double inv = 1.0 / (sc[0] ? p0 : 1.0);
            for (size_t i = 0; rc == 0 && i < vec.n; i++)
                rc = ev_builder_add(ev, &b, vec.s[i].ls, true, ts,
                                    floor(vec.s[i].v * inv + 0.5) / inv);
            break;
        }
        case FN_TIMESTAMP:
            for (size_t i = 0; rc == 0 && i < vec.n; i++)
                rc = ev_builder_add(ev, &b, vec.s[i].ls, true, ts, (double)vec.s[i].t / 1000);
            break;
        default:
            for (size_t i = 0; rc == 0 && i < vec.n; i++)
                rc = ev_builder_add(ev, &b, vec.s[i].ls, true, ts, simple(id, vec.s[i].v));
            break;
        }
        if (rc)
            return rc;
    }
    *out = b.m;
    return 0;
}

int fn_call(struct evaluator *ev, const struct promql_node *call, const struct ev_range *r,
            struct ev_matrix *out)
{
    enum promql_func_id id = call->call.fn->id;
    for (size_t i = 0; i < call->call.nargs; i++)
        if (call->call.args[i]->type == PROMQL_MATRIX)
            return range_call(ev, call, i, r, out);
    switch (id) {
    case FN_LABEL_REPLACE:
        return label_replace(ev, call, r, out);
    case FN_LABEL_JOIN:
        return label_join(ev, call, r, out);
    case FN_HISTOGRAM_QUANTILE:
    case FN_HISTOGRAM_FRACTION:
        return hist_call(ev, call, r, out);
    case FN_INFO:
        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION, "info() is not supported");
    default:
        return step_call(ev, call, r, out);
    }
}
