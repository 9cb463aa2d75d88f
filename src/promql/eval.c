/* eval: the PromQL evaluator — instant and range queries with Prometheus 3.5's semantics.
 *
 * Every node is evaluated once for all the steps of the query (an instant query is a range of
 * one step) and yields an ev_matrix: per output label set, the points of the steps where it has
 * a value. Selectors read the tsdb once per query, for the union of all their windows, and then
 * cut each step's window out of that one array with pointers that only move forward; this, not
 * an iterator per step, is what makes long range queries cheap. Sub-trees that do not depend on
 * the step (everything under an @ modifier) are evaluated at one step and copied, as Prometheus
 * does. __name__ removal is delayed to the end of the query (Prometheus 3's behaviour in its
 * conformance tests): series carry a drop_name flag and keep the name until then.
 *
 * All memory comes from the result's arena, whose limit bounds the query; the sample limit
 * counts the points of live intermediate results as Prometheus counts them. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/eval.h"

#define DEFAULT_LOOKBACK_MS (5 * 60 * 1000)
#define DEFAULT_MAX_SAMPLES 50000000
#define DEFAULT_TIMEOUT_MS  (2 * 60 * 1000)
#define DEFAULT_MAX_MEMORY  ((size_t)1 << 30)
#define SUBQUERY_STEP_MS    (60 * 1000) /* Prometheus's default evaluation interval */

/* ---- errors, annotations, limits ---- */

int ev_fail(struct evaluator *ev, int code, enum promql_error_kind kind, const char *fmt, ...)
{
    if (ev->err->kind != PROMQL_ERR_NONE)
        return code; /* keep the first, most specific message */
    va_list ap;
    va_start(ap, fmt);
    ev->err->kind = kind;
    vsnprintf(ev->err->msg, sizeof(ev->err->msg), fmt, ap);
    va_end(ap);
    return code;
}

/* Appends "kind: msg (line:col)" to list unless it is there already (Prometheus keeps its
 * annotations in a set). Capping the list for a response is the API's business. */
static int anno_add(struct evaluator *ev, struct ev_annos *l, const char *kind, int pos,
                    const char *fmt, va_list ap)
{
    char msg[768];
    int len = snprintf(msg, sizeof(msg), "%s: ", kind);
    len += vsnprintf(msg + len, sizeof(msg) - (size_t)len, fmt, ap);
    if (len < (int)sizeof(msg) - 1 && pos >= 0 && ev->query) {
        int line = 1, last_nl = -1;
        for (int i = 0; i < pos && ev->query[i]; i++) {
            if (ev->query[i] == '\n') {
                line++;
                last_nl = i;
            }
        }
        snprintf(msg + len, sizeof(msg) - (size_t)len, " (%d:%d)", line, pos - last_nl);
    }
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], msg) == 0)
            return 0;
    const char **v = ev_grow(ev, l->v, l->n, &l->cap, sizeof(*v));
    if (!v)
        return BW_ENOMEM;
    l->v = v;
    const char *copy = arena_strdup(ev->a, msg);
    if (!copy)
        return ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
    l->v[l->n++] = copy;
    return 0;
}

int ev_warn(struct evaluator *ev, int pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = anno_add(ev, &ev->warnings, "PromQL warning", pos, fmt, ap);
    va_end(ap);
    return rc;
}

int ev_info(struct evaluator *ev, int pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = anno_add(ev, &ev->infos, "PromQL info", pos, fmt, ap);
    va_end(ap);
    return rc;
}

/* The query's failure for an allocation arena_alloc refused: over the memory limit, or out of
 * memory. */
static void alloc_failed(struct evaluator *ev)
{
    if (arena_over_limit(ev->a))
        ev_fail(ev, BW_ENOSPC, PROMQL_ERR_EXECUTION,
                "query processing would use more than %zu bytes of memory", ev->a->limit);
    else
        ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
}

void *ev_alloc(struct evaluator *ev, size_t n)
{
    void *p = arena_alloc(ev->a, n);
    if (!p)
        alloc_failed(ev);
    return p;
}

void *ev_grow(struct evaluator *ev, void *v, size_t n, size_t *cap, size_t size)
{
    void *nv = arena_grow(ev->a, v, n, cap, size);
    if (!nv)
        alloc_failed(ev);
    return nv;
}

void *ev_calloc(struct evaluator *ev, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) {
        ev_fail(ev, BW_ENOMEM, PROMQL_ERR_INTERNAL, "out of memory");
        return NULL;
    }
    void *p = ev_alloc(ev, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

int ev_check_deadline(struct evaluator *ev)
{
    if (clock_mono_ns() > ev->deadline_ns)
        return ev_fail(ev, BW_ENOSPC, PROMQL_ERR_TIMEOUT,
                       "query timed out in expression evaluation");
    return 0;
}

int ev_too_many(struct evaluator *ev)
{
    return ev_fail(ev, BW_ENOSPC, PROMQL_ERR_EXECUTION,
                   "query processing would load too many samples into memory in query "
                   "execution");
}

/* ---- label sets ---- */

static int ls_alloc(struct evaluator *ev, size_t n, struct label **out)
{
    *out = ev_alloc(ev, (n ? n : 1) * sizeof(struct label));
    return *out ? 0 : BW_ENOMEM;
}

int ls_set(struct evaluator *ev, const struct labelset *in, const char *name, const char *value,
           struct labelset *out)
{
    struct label *v;
    int rc = ls_alloc(ev, in->n + 1, &v);
    if (rc)
        return rc;
    size_t n = 0, i = 0;
    while (i < in->n && strcmp(in->v[i].name, name) < 0)
        v[n++] = in->v[i++];
    if (i < in->n && strcmp(in->v[i].name, name) == 0)
        i++;
    if (value[0])
        v[n++] = (struct label){name, value};
    while (i < in->n)
        v[n++] = in->v[i++];
    *out = (struct labelset){v, n};
    return 0;
}

static bool in_list(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

int ls_keep(struct evaluator *ev, const struct labelset *in, const char *const *names, size_t n,
            struct labelset *out)
{
    struct label *v;
    int rc = ls_alloc(ev, in->n, &v);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < in->n; i++)
        if (in_list(in->v[i].name, names, n))
            v[k++] = in->v[i];
    *out = (struct labelset){v, k};
    return 0;
}

int ls_drop(struct evaluator *ev, const struct labelset *in, const char *const *names, size_t n,
            bool drop_name, struct labelset *out)
{
    struct label *v;
    int rc = ls_alloc(ev, in->n, &v);
    if (rc)
        return rc;
    size_t k = 0;
    for (size_t i = 0; i < in->n; i++) {
        if (drop_name && strcmp(in->v[i].name, LABEL_NAME) == 0)
            continue;
        if (!in_list(in->v[i].name, names, n))
            v[k++] = in->v[i];
    }
    *out = (struct labelset){v, k};
    return 0;
}

int ls_drop_metric(struct evaluator *ev, const struct labelset *in, struct labelset *out)
{
    static const char *const metric_labels[] = {LABEL_NAME, "__type__", "__unit__"};
    size_t i = 0;
    while (i < in->n && !in_list(in->v[i].name, metric_labels, BW_ARRAY_LEN(metric_labels)))
        i++;
    if (i == in->n) {
        *out = *in; /* nothing to drop: share the labels */
        return 0;
    }
    return ls_drop(ev, in, metric_labels, BW_ARRAY_LEN(metric_labels), false, out);
}

bool ls_equal(const struct labelset *a, const struct labelset *b)
{
    if (a->n != b->n)
        return false;
    if (a->v == b->v)
        return true;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i].name, b->v[i].name) || strcmp(a->v[i].value, b->v[i].value))
            return false;
    return true;
}

bool ls_name_valid(const char *s)
{
    return s[0] && utf8_valid(s, strlen(s));
}

const char *ev_quote(struct evaluator *ev, const char *s)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_put_goquoted(&b, s);
    const char *out = rc == BW_OK ? arena_strdup(ev->a, b.data) : NULL;
    buf_fini(&b);
    return out ? out : "";
}

/* ---- series, vectors, builders ---- */

int ev_series_grow(struct evaluator *ev, struct ev_series *s, size_t max)
{
    size_t cap = s->cap ? s->cap * 2 : 8;
    if (cap > max)
        cap = max > s->n ? max : s->n + 1;
    int64_t *nt = ev_alloc(ev, cap * sizeof(*nt));
    double *nv = nt ? ev_alloc(ev, cap * sizeof(*nv)) : NULL;
    if (!nv)
        return BW_ENOMEM;
    if (s->n) {
        memcpy(nt, s->t, s->n * sizeof(*nt));
        memcpy(nv, s->v, s->n * sizeof(*nv));
    }
    s->t = nt;
    s->v = nv;
    s->cap = cap;
    return 0;
}

static int vector_push(struct evaluator *ev, struct ev_vector *vec, const struct ev_sample *s)
{
    if (vec->n == vec->cap) { /* checked here: a push per sample and step is the hot path */
        struct ev_sample *ns = ev_grow(ev, vec->s, vec->n, &vec->cap, sizeof(*ns));
        if (!ns)
            return BW_ENOMEM;
        vec->s = ns;
    }
    vec->s[vec->n++] = *s;
    return 0;
}

int ev_gather(struct evaluator *ev, const struct ev_matrix *m, size_t *cur, int64_t ts,
              struct ev_vector *out)
{
    out->n = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct ev_series *s = &m->s[i];
        if (cur[i] >= s->n || s->t[cur[i]] != ts)
            continue;
        struct ev_sample smp = {&s->ls, s->v[cur[i]], ts, s->drop_name};
        cur[i]++;
        int rc = vector_push(ev, out, &smp);
        if (rc)
            return rc;
    }
    return 0;
}

struct bslot {
    const void *key; /* by_ptr: the labelset pointer; by_hash: NULL when free */
    uint64_t hash;
    size_t idx;
};

static uint64_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

int ev_builder_init(struct evaluator *ev, struct ev_builder *b, const struct ev_range *r)
{
    memset(b, 0, sizeof(*b));
    b->r = r;
    b->nslots = 64;
    b->by_ptr = ev_calloc(ev, b->nslots, sizeof(struct bslot));
    b->by_hash = b->by_ptr ? ev_calloc(ev, b->nslots, sizeof(struct bslot)) : NULL;
    return b->by_hash ? 0 : BW_ENOMEM;
}

static void slot_put(struct bslot *tab, size_t nslots, const void *key, uint64_t h, size_t idx)
{
    size_t i = h & (nslots - 1);
    while (tab[i].key)
        i = (i + 1) & (nslots - 1);
    tab[i] = (struct bslot){key, h, idx};
}

static int builder_grow(struct evaluator *ev, struct ev_builder *b)
{
    size_t nslots = b->nslots * 2;
    struct bslot *p = ev_calloc(ev, nslots, sizeof(*p));
    struct bslot *h = p ? ev_calloc(ev, nslots, sizeof(*h)) : NULL;
    if (!h)
        return BW_ENOMEM;
    for (size_t i = 0; i < b->nslots; i++) {
        if (b->by_ptr[i].key)
            slot_put(p, nslots, b->by_ptr[i].key, b->by_ptr[i].hash, b->by_ptr[i].idx);
        if (b->by_hash[i].key)
            slot_put(h, nslots, b->by_hash[i].key, b->by_hash[i].hash, b->by_hash[i].idx);
    }
    b->by_ptr = p;
    b->by_hash = h;
    b->nslots = nslots;
    return 0;
}

/* Appends a new, empty output series with labels ls; its index in *idx. */
static int builder_new_series(struct evaluator *ev, struct ev_builder *b, const struct labelset *ls,
                              bool drop_name, size_t *idx)
{
    struct ev_series *s = ev_grow(ev, b->m.s, b->m.n, &b->cap, sizeof(*s));
    if (!s)
        return BW_ENOMEM;
    b->m.s = s;
    *idx = b->m.n++;
    b->m.s[*idx] = (struct ev_series){.ls = *ls, .drop_name = drop_name};
    return 0;
}

int ev_builder_add(struct evaluator *ev, struct ev_builder *b, const struct labelset *ls,
                   bool drop_name, int64_t t, double v)
{
    size_t idx;
    int rc;
    if (b->r->nsteps == 1) {
        /* Instant: every sample is its own series, in the order produced. */
        rc = builder_new_series(ev, b, ls, drop_name, &idx);
        return rc ? rc : ev_series_add(ev, &b->m.s[idx], 1, t, v);
    }
    size_t mask = b->nslots - 1;
    uint64_t ph = ptr_hash(ls);
    size_t i = ph & mask;
    while (b->by_ptr[i].key && b->by_ptr[i].key != ls)
        i = (i + 1) & mask;
    if (b->by_ptr[i].key) {
        idx = b->by_ptr[i].idx;
    } else {
        uint64_t h = labelset_hash(ls);
        size_t j = h & mask;
        while (b->by_hash[j].key &&
               (b->by_hash[j].hash != h || !ls_equal(&b->m.s[b->by_hash[j].idx].ls, ls)))
            j = (j + 1) & mask;
        if (b->by_hash[j].key) {
            idx = b->by_hash[j].idx;
        } else {
            rc = builder_new_series(ev, b, ls, drop_name, &idx);
            if (rc)
                return rc;
            b->by_hash[j] = (struct bslot){ls, h, idx};
        }
        b->by_ptr[i] = (struct bslot){ls, ph, idx};
        b->nptrs++;
        if (b->nptrs * 2 > b->nslots) { /* by_ptr holds at least as many as by_hash */
            rc = builder_grow(ev, b);
            if (rc)
                return rc;
        }
    }
    struct ev_series *s = &b->m.s[idx];
    if (s->n && s->t[s->n - 1] == t)
        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                       "vector cannot contain metrics with the same labelset");
    return ev_series_add(ev, s, b->r->nsteps, t, v);
}

/* ---- helpers over nodes ---- */

const struct promql_node *ev_unparen(const struct promql_node *n)
{
    while (n->kind == NODE_PAREN)
        n = n->paren.expr;
    return n;
}

/* Prometheus's preprocessExprHelper: whether n's value is the same at every step. */
static bool step_invariant(const struct promql_node *n)
{
    switch (n->kind) {
    case NODE_NUMBER:
    case NODE_STRING:
        return true;
    case NODE_VECTOR_SELECTOR:
        return n->sel.at.kind != AT_NONE;
    case NODE_MATRIX_SELECTOR:
        return n->msel.vs->sel.at.kind != AT_NONE;
    case NODE_SUBQUERY:
        return n->subq.at.kind != AT_NONE;
    case NODE_AGGREGATE:
        return step_invariant(n->agg.expr);
    case NODE_BINARY:
        return step_invariant(n->bin.lhs) && step_invariant(n->bin.rhs);
    case NODE_UNARY:
        return step_invariant(n->unary.expr);
    case NODE_PAREN:
        return step_invariant(n->paren.expr);
    case NODE_CALL:
        if (fn_at_unsafe(n->call.fn->id))
            return false;
        for (size_t i = 0; i < n->call.nargs; i++)
            if (!step_invariant(n->call.args[i]))
                return false;
        return true;
    }
    return false;
}

static int64_t at_time(const struct evaluator *ev, const struct at_mod *at)
{
    switch (at->kind) {
    case AT_START:
        return ev->query_start;
    case AT_END:
        return ev->query_end;
    default:
        return at->t_ms;
    }
}

static void range_init(struct ev_range *r, int64_t start, int64_t end, int64_t step)
{
    r->start = start;
    r->end = end;
    r->step = step;
    r->nsteps = end < start ? 0 : (size_t)((end - start) / step) + 1;
}

/* ---- selectors ---- */

/* tsdb_is_stale, inline: selectors test every sample they read. */
static inline bool is_stale(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u == TSDB_STALE_NAN_BITS;
}

/* Reads the series of selector vs with samples in [mint, maxt]. */
static int load(struct evaluator *ev, const struct promql_node *vs, int64_t mint, int64_t maxt,
                struct tsdb_series **out, size_t *n)
{
    struct diag d = {0};
    size_t left = ev->max_samples > ev->cur_samples ? ev->max_samples - ev->cur_samples : 1;
    int rc = tsdb_select(ev->db, vs->sel.matchers, vs->sel.nmatchers, mint, maxt, 0, left, ev->a,
                         out, n, &d);
    if (rc == BW_ENOSPC && arena_over_limit(ev->a))
        return ev_fail(ev, rc, PROMQL_ERR_EXECUTION,
                       "query processing would use more than %zu bytes of memory", ev->a->limit);
    if (rc == BW_ENOSPC)
        return ev_fail(ev, rc, PROMQL_ERR_EXECUTION,
                       "query processing would load too many samples into memory in query "
                       "execution");
    if (rc == BW_ENOMEM)
        return ev_fail(ev, rc, PROMQL_ERR_INTERNAL, "out of memory");
    if (rc)
        return ev_fail(ev, rc, PROMQL_ERR_INTERNAL, "expanding series: %s", d.msg);
    return ev_check_time(ev);
}

/* The steps' reference times (at or ts, minus offset) span [*lo, *hi]. */
static void ref_span(const struct evaluator *ev, const struct ev_range *r, const struct at_mod *at,
                     int64_t offset, int64_t *lo, int64_t *hi)
{
    if (at->kind != AT_NONE) {
        *lo = *hi = at_time(ev, at) - offset;
    } else {
        *lo = r->start - offset;
        *hi = r->end - offset;
    }
}

/* An instant vector selector. With want_time, values are the samples' own times in seconds
 * (what timestamp() of a selector reports) and the series are marked for name removal. */
static int eval_vector_selector(struct evaluator *ev, const struct promql_node *n,
                                const struct ev_range *r, bool want_time, struct ev_matrix *out)
{
    int64_t lo, hi, off = n->sel.offset_ms;
    ref_span(ev, r, &n->sel.at, off, &lo, &hi);
    bool at = n->sel.at.kind != AT_NONE;
    int64_t at_ms = at ? at_time(ev, &n->sel.at) : 0;
    struct tsdb_series *ss;
    size_t nss;
    int rc = load(ev, n, lo - ev->lookback_ms + 1, hi, &ss, &nss);
    if (rc)
        return rc;
    out->s = ev_calloc(ev, nss ? nss : 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    out->n = 0;
    for (size_t i = 0; i < nss; i++) {
        const struct tsdb_series *src = &ss[i];
        /* Pass 1 counts the steps with a value, pass 2 fills exactly sized arrays. */
        size_t count = 0;
        for (int pass = 0; pass < 2; pass++) {
            struct ev_series *dst = &out->s[out->n];
            size_t j = 0; /* samples [0, j) are at or before the reference time */
            int64_t ts = r->start;
            for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
                int64_t ref = (at ? at_ms : ts) - off;
                while (j < src->n && src->t[j] <= ref)
                    j++;
                if (j == 0 || src->t[j - 1] <= ref - ev->lookback_ms || is_stale(src->v[j - 1]))
                    continue;
                if (pass == 0) {
                    count++;
                    continue;
                }
                dst->t[dst->n] = ts;
                dst->v[dst->n] = want_time ? (double)src->t[j - 1] / 1000 : src->v[j - 1];
                dst->n++;
            }
            if (count == 0)
                break;
            if (pass == 0) {
                dst->ls = src->labels;
                dst->drop_name = want_time;
                dst->cap = count;
                dst->t = ev_alloc(ev, count * sizeof(*dst->t));
                dst->v = dst->t ? ev_alloc(ev, count * sizeof(*dst->v)) : NULL;
                if (!dst->v)
                    return BW_ENOMEM;
                rc = ev_hold(ev, count);
                if (rc)
                    return rc;
            } else {
                out->n++;
            }
        }
    }
    return 0;
}

/* Copies the samples of src without stale markers into dst (sharing them when none is). */
static int drop_stale(struct evaluator *ev, const struct tsdb_series *src, struct ev_series *dst)
{
    size_t stale = 0;
    for (size_t i = 0; i < src->n; i++)
        stale += is_stale(src->v[i]);
    dst->ls = src->labels;
    dst->drop_name = false;
    if (stale == 0) {
        dst->t = (int64_t *)src->t;
        dst->v = (double *)src->v;
        dst->n = dst->cap = src->n;
        return 0;
    }
    size_t n = src->n - stale;
    dst->t = ev_alloc(ev, (n ? n : 1) * sizeof(*dst->t));
    dst->v = dst->t ? ev_alloc(ev, (n ? n : 1) * sizeof(*dst->v)) : NULL;
    if (!dst->v)
        return BW_ENOMEM;
    dst->n = 0;
    dst->cap = n;
    for (size_t i = 0; i < src->n; i++) {
        if (is_stale(src->v[i]))
            continue;
        dst->t[dst->n] = src->t[i];
        dst->v[dst->n++] = src->v[i];
    }
    return 0;
}

static int eval_subquery_inner(struct evaluator *ev, const struct promql_node *n,
                               const struct ev_range *r, struct ev_matrix *out);

/* A subquery as a range source; with keep_drop its series keep their delayed name removal
 * (its own result), else they become plain series as Prometheus's function arguments do. */
static int subquery_source(struct evaluator *ev, const struct promql_node *n,
                           const struct ev_range *r, bool keep_drop, struct ev_rsrc *out)
{
    out->range_ms = n->subq.range_ms;
    out->offset_ms = n->subq.offset_ms;
    out->has_at = n->subq.at.kind != AT_NONE;
    out->at_ms = out->has_at ? at_time(ev, &n->subq.at) : 0;
    int rc = eval_subquery_inner(ev, n, r, &out->m);
    for (size_t i = 0; rc == 0 && !keep_drop && i < out->m.n; i++)
        out->m.s[i].drop_name = false;
    return rc;
}

int ev_range_source(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                    struct ev_rsrc *out)
{
    n = ev_unparen(n);
    memset(out, 0, sizeof(*out));
    if (n->kind == NODE_SUBQUERY)
        return subquery_source(ev, n, r, false, out);
    if (n->kind != NODE_MATRIX_SELECTOR)
        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_INTERNAL, "expected a range vector");
    const struct promql_node *vs = n->msel.vs;
    out->range_ms = n->msel.range_ms;
    out->offset_ms = vs->sel.offset_ms;
    out->has_at = vs->sel.at.kind != AT_NONE;
    out->at_ms = out->has_at ? at_time(ev, &vs->sel.at) : 0;
    int64_t lo, hi;
    ref_span(ev, r, &vs->sel.at, out->offset_ms, &lo, &hi);
    struct tsdb_series *ss;
    size_t nss;
    int rc = load(ev, vs, lo - out->range_ms + 1, hi, &ss, &nss);
    if (rc)
        return rc;
    out->m.s = ev_calloc(ev, nss ? nss : 1, sizeof(*out->m.s));
    if (!out->m.s)
        return BW_ENOMEM;
    out->m.n = nss;
    for (size_t i = 0; i < nss; i++) {
        rc = drop_stale(ev, &ss[i], &out->m.s[i]);
        if (rc)
            return rc;
    }
    return 0;
}

/* The inner steps of subquery n evaluated for the outer range r: multiples of the subquery's
 * step after (start - offset - range), up to end - offset; with @, both ends are the @ time. */
static int eval_subquery_inner(struct evaluator *ev, const struct promql_node *n,
                               const struct ev_range *r, struct ev_matrix *out)
{
    int64_t step = n->subq.step_ms > 0 ? n->subq.step_ms : ev->subquery_step_ms;
    int64_t lo, hi;
    ref_span(ev, r, &n->subq.at, n->subq.offset_ms, &lo, &hi);
    int64_t first = lo - n->subq.range_ms;
    int64_t start = step * (first / step);
    if (start <= first)
        start += step;
    struct ev_range inner;
    range_init(&inner, start, hi, step);
    return ev_eval(ev, n->subq.expr, &inner, out);
}

/* A range vector evaluated on its own (an instant query of x[5m] or of a subquery): for each
 * series, the raw points in the window of the first step. */
static int eval_matrix(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                       struct ev_matrix *out)
{
    struct ev_rsrc src = {0};
    n = ev_unparen(n);
    int rc = n->kind == NODE_SUBQUERY ? subquery_source(ev, n, r, true, &src)
                                      : ev_range_source(ev, n, r, &src);
    if (rc)
        return rc;
    int64_t ref = rsrc_ref(&src, r->start);
    out->s = ev_calloc(ev, src.m.n ? src.m.n : 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    out->n = 0;
    for (size_t i = 0; i < src.m.n; i++) {
        const struct ev_series *s = &src.m.s[i];
        size_t a = 0, b;
        while (a < s->n && s->t[a] <= ref - src.range_ms)
            a++;
        for (b = a; b < s->n && s->t[b] <= ref; b++)
            ;
        if (b == a)
            continue;
        struct ev_series *d = &out->s[out->n++];
        *d = *s;
        d->t = s->t + a;
        d->v = s->v + a;
        d->n = d->cap = b - a;
        rc = ev_hold(ev, b - a);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the other leaves ---- */

static int const_series(struct evaluator *ev, const struct ev_range *r, double v,
                        struct ev_matrix *out)
{
    out->s = ev_calloc(ev, 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    out->n = 1;
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        int rc = ev_series_add(ev, &out->s[0], r->nsteps, ts, v);
        if (rc)
            return rc;
    }
    return 0;
}

static int eval_unary(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                      struct ev_matrix *out)
{
    int rc = ev_eval(ev, n->unary.expr, r, out);
    if (rc || n->unary.op != OP_SUB)
        return rc;
    for (size_t i = 0; i < out->n; i++) {
        struct ev_series *s = &out->s[i];
        double *v = ev_alloc(ev, (s->n ? s->n : 1) * sizeof(*v));
        if (!v)
            return BW_ENOMEM;
        for (size_t k = 0; k < s->n; k++)
            v[k] = -s->v[k];
        s->v = v; /* the input's points may be shared with a selector */
        s->drop_name = true;
    }
    return 0;
}

/* Evaluates a step-invariant n once, at r's first step, and repeats its points. */
static int eval_invariant(struct evaluator *ev, const struct promql_node *n,
                          const struct ev_range *r, struct ev_matrix *out)
{
    struct ev_range one;
    range_init(&one, r->start, r->start, r->step);
    size_t held = ev->cur_samples;
    int rc = ev_eval(ev, n, &one, out);
    if (rc)
        return rc;
    ev->cur_samples = held;
    for (size_t i = 0; i < out->n; i++) {
        struct ev_series *s = &out->s[i];
        if (s->n == 0)
            continue;
        double v = s->v[0];
        int64_t *t = ev_alloc(ev, r->nsteps * sizeof(*t));
        double *vv = t ? ev_alloc(ev, r->nsteps * sizeof(*vv)) : NULL;
        if (!vv)
            return BW_ENOMEM;
        for (size_t k = 0; k < r->nsteps; k++) {
            t[k] = r->start + (int64_t)k * r->step;
            vv[k] = v;
        }
        s->t = t;
        s->v = vv;
        s->n = s->cap = r->nsteps;
        rc = ev_hold(ev, r->nsteps);
        if (rc)
            return rc;
    }
    return 0;
}

int ev_eval(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
            struct ev_matrix *out)
{
    out->s = NULL;
    out->n = 0;
    int rc = ev_check_time(ev);
    if (rc || r->nsteps == 0)
        return rc;
    if (r->nsteps > 1 && n->type != PROMQL_MATRIX && n->kind != NODE_NUMBER &&
        n->kind != NODE_PAREN && step_invariant(n))
        return eval_invariant(ev, n, r, out);
    size_t held = ev->cur_samples;
    switch (n->kind) {
    case NODE_NUMBER:
        rc = const_series(ev, r, n->number, out);
        break;
    case NODE_STRING:
        rc = ev_fail(ev, BW_EINVAL, PROMQL_ERR_INTERNAL, "string in a numeric context");
        break;
    case NODE_VECTOR_SELECTOR:
        rc = eval_vector_selector(ev, n, r, false, out);
        break;
    case NODE_MATRIX_SELECTOR:
    case NODE_SUBQUERY:
        rc = eval_matrix(ev, n, r, out);
        break;
    case NODE_CALL:
        if (n->call.fn->id == FN_TIMESTAMP &&
            ev_unparen(n->call.args[0])->kind == NODE_VECTOR_SELECTOR) {
            /* timestamp(selector) reports the samples' own times, not the steps. */
            rc = eval_vector_selector(ev, ev_unparen(n->call.args[0]), r, true, out);
            break;
        }
        rc = fn_call(ev, n, r, out);
        break;
    case NODE_AGGREGATE:
        rc = agg_eval(ev, n, r, out);
        break;
    case NODE_BINARY:
        rc = binop_eval(ev, n, r, out);
        break;
    case NODE_UNARY:
        rc = eval_unary(ev, n, r, out);
        break;
    case NODE_PAREN:
        return ev_eval(ev, n->paren.expr, r, out);
    }
    if (rc)
        return rc;
    /* The inputs are gone; only the output's points stay held. */
    size_t points = 0;
    for (size_t i = 0; i < out->n; i++)
        points += out->s[i].n;
    ev->cur_samples = held;
    return ev_hold(ev, points);
}

int ev_eval_scalar(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
                   double **out)
{
    struct ev_matrix m;
    *out = ev_alloc(ev, (r->nsteps ? r->nsteps : 1) * sizeof(**out));
    if (!*out)
        return BW_ENOMEM;
    for (size_t k = 0; k < r->nsteps; k++)
        (*out)[k] = NAN;
    int rc = ev_eval(ev, n, r, &m);
    if (rc)
        return rc;
    if (m.n == 1)
        for (size_t k = 0; k < m.s[0].n; k++)
            (*out)[(m.s[0].t[k] - r->start) / r->step] = m.s[0].v[k];
    return 0;
}

/* ---- queries ---- */

static int sort_by_labels(const void *a, const void *b)
{
    const struct promql_series *x = a, *y = b;
    return labelset_compare(&x->labels, &y->labels);
}

/* Removes the names marked for removal; two series with the same labels are then an error. */
static int cleanup_names(struct evaluator *ev, struct ev_matrix *m)
{
    for (size_t i = 0; i < m->n; i++) {
        struct ev_series *s = &m->s[i];
        if (s->drop_name) {
            int rc = ls_drop_metric(ev, &s->ls, &s->ls);
            if (rc)
                return rc;
        }
    }
    return ev_check_unique(ev, m);
}

int ev_interner_init(struct evaluator *ev, struct ev_interner *it, size_t max,
                     struct labelset *keys)
{
    size_t nslots = 16;
    while (nslots < max * 2)
        nslots *= 2;
    it->tab = ev_calloc(ev, nslots, sizeof(*it->tab));
    it->mask = nslots - 1;
    it->keys = keys;
    it->n = 0;
    return it->tab ? 0 : BW_ENOMEM;
}

size_t ev_intern(struct ev_interner *it, const struct labelset *ls, bool *added)
{
    size_t j = labelset_hash(ls) & it->mask;
    while (it->tab[j] && !ls_equal(&it->keys[it->tab[j] - 1], ls))
        j = (j + 1) & it->mask;
    bool fresh = !it->tab[j];
    if (fresh) {
        it->keys[it->n] = *ls;
        it->tab[j] = ++it->n;
    }
    if (added)
        *added = fresh;
    return it->tab[j] - 1;
}

int ev_check_unique(struct evaluator *ev, const struct ev_matrix *m)
{
    if (m->n < 2)
        return 0;
    struct ev_interner it;
    struct labelset *keys = ev_alloc(ev, m->n * sizeof(*keys));
    if (!keys || ev_interner_init(ev, &it, m->n, keys))
        return BW_ENOMEM;
    for (size_t i = 0; i < m->n; i++) {
        bool added;
        ev_intern(&it, &m->s[i].ls, &added);
        if (!added)
            return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                           "vector cannot contain metrics with the same labelset");
    }
    return 0;
}

/* Turns the evaluated root into the caller's result. */
static int make_result(struct evaluator *ev, const struct promql_node *root,
                       const struct ev_matrix *m, bool instant, int64_t t,
                       struct promql_result *res)
{
    enum promql_type type = instant ? root->type : PROMQL_MATRIX;
    res->type = type;
    res->series = ev_calloc(ev, m->n ? m->n : 1, sizeof(*res->series));
    if (!res->series)
        return BW_ENOMEM;
    if (type == PROMQL_SCALAR) {
        res->n = 1;
        res->series[0].n = 1;
        res->series[0].t = ev_alloc(ev, sizeof(int64_t));
        res->series[0].v = ev_alloc(ev, sizeof(double));
        if (!res->series[0].t || !res->series[0].v)
            return BW_ENOMEM;
        res->series[0].t[0] = t;
        res->series[0].v[0] = m->n && m->s[0].n ? m->s[0].v[0] : NAN;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct ev_series *s = &m->s[i];
        if (s->n == 0)
            continue;
        struct promql_series *d = &res->series[n++];
        d->labels = s->ls;
        d->n = type == PROMQL_VECTOR ? 1 : s->n;
        d->t = s->t;
        d->v = s->v;
        if (type == PROMQL_VECTOR) {
            d->t = ev_alloc(ev, sizeof(int64_t));
            if (!d->t)
                return BW_ENOMEM;
            d->t[0] = t;
        }
    }
    res->n = n;
    const struct promql_node *top = ev_unparen(root);
    res->ordered =
        type == PROMQL_VECTOR &&
        ((top->kind == NODE_AGGREGATE && (top->agg.op == AGG_TOPK || top->agg.op == AGG_BOTTOMK)) ||
         (top->kind == NODE_CALL &&
          (top->call.fn->id == FN_SORT || top->call.fn->id == FN_SORT_DESC ||
           top->call.fn->id == FN_SORT_BY_LABEL || top->call.fn->id == FN_SORT_BY_LABEL_DESC)));
    if (!res->ordered)
        qsort(res->series, res->n, sizeof(*res->series), sort_by_labels);
    return 0;
}

static const char *documented_type(enum promql_type t)
{
    switch (t) {
    case PROMQL_SCALAR:
        return "scalar";
    case PROMQL_VECTOR:
        return "instant vector";
    case PROMQL_MATRIX:
        return "range vector";
    case PROMQL_STRING:
        return "string";
    default:
        return "none";
    }
}

static int run(struct tsdb *db, const struct promql_options *o, const char *q, int64_t start,
               int64_t end, int64_t step, bool instant, struct promql_result **out,
               struct promql_error *err)
{
    static const struct promql_options defaults = {0};
    if (!o)
        o = &defaults;
    memset(err, 0, sizeof(*err));
    *out = NULL;
    struct promql_result *res = calloc(1, sizeof(*res));
    if (!res) {
        err->kind = PROMQL_ERR_INTERNAL;
        snprintf(err->msg, sizeof(err->msg), "out of memory");
        return BW_ENOMEM;
    }
    arena_init(&res->arena, o->max_memory ? o->max_memory : DEFAULT_MAX_MEMORY);
    struct evaluator ev = {
        .db = db,
        .a = &res->arena,
        .query = q,
        .lookback_ms = o->lookback_ms > 0 ? o->lookback_ms : DEFAULT_LOOKBACK_MS,
        .subquery_step_ms = SUBQUERY_STEP_MS,
        .query_start = start,
        .query_end = end,
        .max_samples = o->max_samples ? o->max_samples : DEFAULT_MAX_SAMPLES,
        .deadline_ns =
            clock_mono_ns() + (o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS) * 1000000,
        .err = err,
    };
    struct promql_node *root = NULL;
    struct ev_range r;
    struct ev_matrix m;
    int rc = promql_parse(q, o, &res->arena, &root, err);
    if (rc)
        goto out;
    if (!instant && root->type != PROMQL_SCALAR && root->type != PROMQL_VECTOR) {
        rc = ev_fail(&ev, BW_EINVAL, PROMQL_ERR_BAD_DATA,
                     "invalid expression type \"%s\" for range query, must be Scalar or instant "
                     "Vector",
                     documented_type(root->type));
        goto out;
    }
    if (!instant && (step <= 0 || end < start)) {
        rc = ev_fail(&ev, BW_EINVAL, PROMQL_ERR_BAD_DATA,
                     step <= 0 ? "zero or negative query resolution step widths are not "
                                 "accepted. Try a positive integer"
                               : "end timestamp must not be before start time");
        goto out;
    }
    if (root->type == PROMQL_STRING) {
        res->type = PROMQL_STRING;
        res->string = ev_unparen(root)->string;
        res->string_t = start;
        goto out;
    }
    range_init(&r, start, end, instant ? 1 : step);
    rc = ev_eval(&ev, root, &r, &m);
    if (rc == 0)
        rc = cleanup_names(&ev, &m);
    if (rc == 0)
        rc = make_result(&ev, root, &m, instant, start, res);
out:
    if (root)
        promql_node_release(root);
    if (rc) {
        if (err->kind == PROMQL_ERR_NONE) {
            err->kind = PROMQL_ERR_INTERNAL;
            snprintf(err->msg, sizeof(err->msg), "%s", bw_strerror(rc));
        }
        promql_result_free(res);
        return rc;
    }
    res->warnings = ev.warnings.v;
    res->nwarnings = ev.warnings.n;
    res->infos = ev.infos.v;
    res->ninfos = ev.infos.n;
    *out = res;
    return 0;
}

int promql_query_instant(struct tsdb *db, const struct promql_options *o, const char *q, int64_t t,
                         struct promql_result **out, struct promql_error *err)
{
    return run(db, o, q, t, t, 0, true, out, err);
}

int promql_query_range(struct tsdb *db, const struct promql_options *o, const char *q,
                       int64_t start, int64_t end, int64_t step, struct promql_result **out,
                       struct promql_error *err)
{
    return run(db, o, q, start, end, step, false, out, err);
}

void promql_result_free(struct promql_result *r)
{
    if (!r)
        return;
    arena_fini(&r->arena);
    free(r);
}
