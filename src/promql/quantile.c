/* quantile: the interpolations behind histogram_quantile, histogram_fraction, quantile and
 * quantile_over_time, as Prometheus 3.5 computes them.
 *
 * Classic histogram buckets arrive as (upper bound, cumulative count) pairs in any order
 * (usually already by bound); they are sorted, buckets with equal bounds merged, and the counts
 * made monotonic (differences below a relative 1e-12 are float noise and ignored) before the rank
 * is searched. Values are sorted with NaN first, the order of Prometheus's vectorByValueHeap. */
#include <math.h>
#include <stdlib.h>

#include "promql/eval.h"

#define SMALL_DELTA_TOLERANCE 1e-12
#define MIN_NORMAL            2.2250738585072014e-308

/* Prometheus's almost.Equal (no stale markers reach here). */
bool ev_almost_equal(double a, double b, double eps)
{
    if (isnan(a) && isnan(b))
        return true;
    if (a == b)
        return true;
    double abs_sum = fabs(a) + fabs(b), diff = fabs(a - b);
    if (a == 0 || b == 0 || abs_sum < MIN_NORMAL)
        return diff < eps * MIN_NORMAL;
    return diff / fmin(abs_sum, 1.7976931348623157e308) < eps;
}

static int bucket_cmp(const void *x, const void *y)
{
    const struct bucket *a = x, *b = y;
    return (a->upper > b->upper) - (a->upper < b->upper);
}

/* Sorts buckets by bound unless they already are (the usual case: hist_call collects them in
 * that order): a stable sort, as glibc's qsort (a merge sort) is, would leave them as they are,
 * so skipping it changes nothing, even for equal bounds. A NaN bound compares as not in order,
 * so buckets with one still go through qsort. */
static void sort_buckets(struct bucket *b, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        if (!(b[i - 1].upper <= b[i].upper)) {
            qsort(b, n, sizeof(*b), bucket_cmp);
            return;
        }
    }
}

/* Merges the equal bounds of sorted buckets; returns the new count. */
static size_t coalesce(struct bucket *b, size_t n)
{
    size_t k = 0;
    for (size_t i = 1; i < n; i++) {
        if (b[i].upper == b[k].upper)
            b[k].count += b[i].count;
        else
            b[++k] = b[i];
    }
    return k + 1;
}

double bucket_quantile(double q, struct bucket *b, size_t n, bool *forced)
{
    *forced = false;
    if (isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    sort_buckets(b, n);
    if (!(isinf(b[n - 1].upper) && b[n - 1].upper > 0))
        return NAN;
    n = coalesce(b, n);
    double prev = b[0].count;
    for (size_t i = 1; i < n; i++) {
        double curr = b[i].count;
        if (curr == prev)
            continue;
        if (ev_almost_equal(prev, curr, SMALL_DELTA_TOLERANCE)) {
            b[i].count = prev; /* float noise: ignore, keep prev */
            continue;
        }
        if (curr < prev) {
            b[i].count = prev;
            *forced = true;
            continue;
        }
        prev = curr;
    }
    if (n < 2)
        return NAN;
    double observations = b[n - 1].count;
    if (observations == 0)
        return NAN;
    double rank = q * observations;
    size_t lo = 0, hi = n - 1; /* first bucket among [0, n-1) with count >= rank */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b[mid].count >= rank)
            hi = mid;
        else
            lo = mid + 1;
    }
    size_t i = lo;
    if (i == n - 1)
        return b[n - 2].upper;
    if (i == 0 && b[0].upper <= 0)
        return b[0].upper;
    double start = 0, end = b[i].upper, count = b[i].count;
    if (i > 0) {
        start = b[i - 1].upper;
        count -= b[i - 1].count;
        rank -= b[i - 1].count;
    }
    return start + (end - start) * (rank / count);
}

double bucket_fraction(double lower, double upper, struct bucket *b, size_t n)
{
    sort_buckets(b, n);
    if (!(isinf(b[n - 1].upper) && b[n - 1].upper > 0))
        return NAN;
    n = coalesce(b, n);
    double count = b[n - 1].count;
    if (count == 0 || isnan(lower) || isnan(upper))
        return NAN;
    if (lower >= upper)
        return 0;
    double rank = 0, lower_rank = 0, upper_rank = 0;
    bool lower_set = false, upper_set = false;
    for (size_t i = 0; i < n; i++) {
        double lb = i > 0 ? b[i - 1].upper : -INFINITY, ub = b[i].upper;
        if (!lower_set && lb >= lower) {
            lower_rank = rank;
            lower_set = true;
        }
        if (!upper_set && lb >= upper) {
            upper_rank = rank;
            upper_set = true;
        }
        if (lower_set && upper_set)
            break;
        if (!lower_set && lb < lower && ub > lower) {
            lower_rank = rank + (b[i].count - rank) * (lower - lb) / (ub - lb);
            lower_set = true;
        }
        if (!upper_set && lb < upper && ub > upper) {
            upper_rank = rank + (b[i].count - rank) * (upper - lb) / (ub - lb);
            upper_set = true;
        }
        if (lower_set && upper_set)
            break;
        rank = b[i].count;
    }
    if (!lower_set || lower_rank > count)
        lower_rank = count;
    if (!upper_set || upper_rank > count)
        upper_rank = count;
    return (upper_rank - lower_rank) / count;
}

static int value_cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    if (isnan(a) || isnan(b))
        return isnan(b) - isnan(a);
    return (a > b) - (a < b);
}

double values_quantile(double q, double *v, size_t n)
{
    if (n == 0 || isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(v, n, sizeof(*v), value_cmp); /* NaN first, as Prometheus's vectorByValueHeap */
    double dn = (double)n;
    double rank = q * (dn - 1);
    double lower = fmax(0, floor(rank));
    double upper = fmin(dn - 1, lower + 1);
    double weight = rank - floor(rank);
    return v[(size_t)lower] * (1 - weight) + v[(size_t)upper] * weight;
}
