/* binop: arithmetic, comparison and set operators between scalars and vectors, with
 * Prometheus 3.5's vector matching (on, ignoring, group_left, group_right) and its errors.
 *
 * A vector-scalar operation maps each series to itself, so it runs series by series. Between
 * two vectors, every series' match signature (its labels restricted by on / ignoring) is
 * interned once into a small integer; the steps then match through arrays indexed by that
 * integer instead of hashing label sets, and the result labels of a (left, right) pair are
 * computed once and reused at every step where the pair matches. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "promql/eval.h"

static bool is_comparison(enum promql_op op)
{
    return op >= OP_EQL && op <= OP_LTE;
}

/* Arithmetic and atan2 change what the value means: the result loses its name. */
static bool changes_schema(enum promql_op op)
{
    return op <= OP_ATAN2;
}

/* Prometheus's vectorElemBinop for floats: the value, and whether to keep it. */
static double elem(enum promql_op op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case OP_ADD:
        return l + r;
    case OP_SUB:
        return l - r;
    case OP_MUL:
        return l * r;
    case OP_DIV:
        return l / r;
    case OP_POW:
        return pow(l, r);
    case OP_MOD:
        return fmod(l, r);
    case OP_ATAN2:
        return atan2(l, r);
    case OP_EQL:
        *keep = l == r;
        return l;
    case OP_NEQ:
        *keep = l != r;
        return l;
    case OP_GTR:
        *keep = l > r;
        return l;
    case OP_LSS:
        *keep = l < r;
        return l;
    case OP_GTE:
        *keep = l >= r;
        return l;
    case OP_LTE:
        *keep = l <= r;
        return l;
    default:
        *keep = false;
        return 0;
    }
}

static int scalar_scalar(struct evaluator *ev, const struct promql_node *n,
                         const struct ev_range *r, struct ev_matrix *out)
{
    double *l, *rr;
    int rc = ev_eval_scalar(ev, n->bin.lhs, r, &l);
    if (rc == 0)
        rc = ev_eval_scalar(ev, n->bin.rhs, r, &rr);
    out->s = rc == 0 ? ev_calloc(ev, 1, sizeof(*out->s)) : NULL;
    if (!out->s)
        return rc ? rc : BW_ENOMEM;
    out->n = 1;
    for (size_t k = 0; k < r->nsteps; k++) {
        bool keep;
        double v = elem(n->bin.op, l[k], rr[k], &keep);
        if (is_comparison(n->bin.op))
            v = keep;
        rc = ev_series_add(ev, &out->s[0], r->nsteps, r->start + (int64_t)k * r->step, v);
        if (rc)
            return rc;
    }
    return 0;
}

static int vector_scalar(struct evaluator *ev, const struct promql_node *n,
                         const struct ev_range *r, struct ev_matrix *out)
{
    bool swap = n->bin.lhs->type == PROMQL_SCALAR;
    enum promql_op op = n->bin.op;
    double *sc;
    struct ev_matrix in;
    int rc = ev_eval(ev, swap ? n->bin.rhs : n->bin.lhs, r, &in);
    if (rc == 0)
        rc = ev_eval_scalar(ev, swap ? n->bin.lhs : n->bin.rhs, r, &sc);
    if (rc)
        return rc;
    out->s = ev_calloc(ev, in.n ? in.n : 1, sizeof(*out->s));
    if (!out->s)
        return BW_ENOMEM;
    out->n = 0;
    bool drop = changes_schema(op) || n->bin.return_bool;
    for (size_t i = 0; i < in.n; i++) {
        const struct ev_series *s = &in.s[i];
        struct ev_series *d = &out->s[out->n];
        d->ls = s->ls;
        d->drop_name = s->drop_name || drop;
        for (size_t j = 0; j < s->n; j++) {
            double x = s->v[j], y = sc[(s->t[j] - r->start) / r->step];
            bool keep;
            double v = swap ? elem(op, y, x, &keep) : elem(op, x, y, &keep);
            if (is_comparison(op))
                v = x; /* the vector's value, on whichever side it is */
            if (n->bin.return_bool) {
                v = keep;
                keep = true;
            }
            if (!keep)
                continue;
            rc = ev_series_add(ev, d, s->n, s->t[j], v);
            if (rc)
                return rc;
        }
        if (d->n)
            out->n++;
    }
    return 0;
}

/* ---- vector matching ---- */

/* {a="b", c="d"}: Prometheus's labels.String, for error messages. */
static const char *ls_string(struct evaluator *ev, const struct labelset *ls)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_putc(&b, '{');
    for (size_t i = 0; rc == 0 && i < ls->n; i++)
        rc = buf_printf(&b, "%s%s=%s", i ? ", " : "", ls->v[i].name, ev_quote(ev, ls->v[i].value));
    if (rc == 0)
        rc = buf_putc(&b, '}');
    const char *s = rc == 0 ? arena_strdup(ev->a, b.data) : NULL;
    buf_fini(&b);
    return s ? s : "{}";
}

/* The labels a series is matched on. */
static int signature(struct evaluator *ev, const struct vector_matching *vm,
                     const struct labelset *ls, struct labelset *out)
{
    if (vm && vm->on)
        return ls_keep(ev, ls, vm->labels, vm->nlabels, out);
    return ls_drop(ev, ls, vm ? vm->labels : NULL, vm ? vm->nlabels : 0, true, out);
}

/* Both sides' series with their interned signature ids. */
struct side {
    const struct ev_matrix *m;
    size_t *sig;
    size_t *cur;
    /* this step: */
    size_t *idx; /* series indexes with a point */
    double *val;
    size_t n;
};

static int intern(struct evaluator *ev, const struct vector_matching *vm, struct side *sides,
                  size_t *nsigs, struct labelset **sigls)
{
    size_t total = sides[0].m->n + sides[1].m->n;
    struct ev_interner it;
    *sigls = ev_alloc(ev, (total ? total : 1) * sizeof(**sigls));
    if (!*sigls || ev_interner_init(ev, &it, total, *sigls))
        return BW_ENOMEM;
    for (int k = 0; k < 2; k++) {
        struct side *s = &sides[k];
        size_t n = s->m->n ? s->m->n : 1;
        s->sig = ev_alloc(ev, n * sizeof(*s->sig));
        s->cur = ev_calloc(ev, n, sizeof(*s->cur));
        s->idx = ev_alloc(ev, n * sizeof(*s->idx));
        s->val = ev_alloc(ev, n * sizeof(*s->val));
        if (!s->sig || !s->cur || !s->idx || !s->val)
            return BW_ENOMEM;
        for (size_t i = 0; i < s->m->n; i++) {
            struct labelset ls;
            int rc = signature(ev, vm, &s->m->s[i].ls, &ls);
            if (rc)
                return rc;
            s->sig[i] = ev_intern(&it, &ls, NULL);
        }
    }
    *nsigs = it.n;
    return 0;
}

static void side_gather(struct side *s, int64_t ts)
{
    s->n = 0;
    for (size_t i = 0; i < s->m->n; i++) {
        const struct ev_series *se = &s->m->s[i];
        if (s->cur[i] < se->n && se->t[s->cur[i]] == ts) {
            s->idx[s->n] = i;
            s->val[s->n++] = se->v[s->cur[i]++];
        }
    }
}

static int add_sample(struct evaluator *ev, struct ev_builder *b, const struct side *s, size_t j,
                      int64_t ts)
{
    const struct ev_series *se = &s->m->s[s->idx[j]];
    return ev_builder_add(ev, b, &se->ls, se->drop_name, ts, s->val[j]);
}

/* and, or, unless: samples pass unchanged. */
static int set_op(struct evaluator *ev, enum promql_op op, struct side *sd, size_t nsigs,
                  const struct ev_range *r, struct ev_builder *b)
{
    size_t *mark = ev_calloc(ev, nsigs ? nsigs : 1, sizeof(*mark)); /* step + 1 when present */
    if (!mark)
        return BW_ENOMEM;
    struct side *l = &sd[0], *rt = &sd[1];
    int64_t ts = r->start;
    int rc = 0;
    for (size_t k = 0; k < r->nsteps && rc == 0; k++, ts += r->step) {
        side_gather(l, ts);
        side_gather(rt, ts);
        size_t stamp = k + 1;
        if (op == OP_OR) {
            for (size_t j = 0; rc == 0 && j < l->n; j++) {
                mark[l->sig[l->idx[j]]] = stamp;
                rc = add_sample(ev, b, l, j, ts);
            }
            for (size_t j = 0; rc == 0 && j < rt->n; j++)
                if (mark[rt->sig[rt->idx[j]]] != stamp)
                    rc = add_sample(ev, b, rt, j, ts);
            continue;
        }
        if (op == OP_AND && (l->n == 0 || rt->n == 0))
            continue;
        for (size_t j = 0; j < rt->n; j++)
            mark[rt->sig[rt->idx[j]]] = stamp;
        for (size_t j = 0; rc == 0 && j < l->n; j++)
            if ((mark[l->sig[l->idx[j]]] == stamp) == (op == OP_AND))
                rc = add_sample(ev, b, l, j, ts);
    }
    return rc;
}

/* Result labels per (many-side series, one-side series), computed once. */
struct pair_cache {
    struct pslot {
        uint64_t key; /* (many << 32 | one) + 1; 0 when free */
        struct labelset ls;
    } * slot;
    size_t n, cap; /* cap a power of two */
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    return x;
}

static int result_labels(struct evaluator *ev, const struct promql_node *n, struct pair_cache *pc,
                         const struct ev_series *many, const struct ev_series *one, size_t mi,
                         size_t oi, const struct labelset **out)
{
    uint64_t key = (((uint64_t)mi << 32) | (uint64_t)oi) + 1;
    size_t j = mix(key) & (pc->cap - 1);
    while (pc->slot[j].key && pc->slot[j].key != key)
        j = (j + 1) & (pc->cap - 1);
    if (pc->slot[j].key) {
        *out = &pc->slot[j].ls;
        return 0;
    }
    const struct vector_matching *vm = n->bin.matching;
    struct labelset ls = many->ls;
    int rc = 0;
    if (changes_schema(n->bin.op))
        rc = ls_drop_metric(ev, &ls, &ls);
    if (rc == 0 && (!vm || vm->card == CARD_ONE_TO_ONE) && vm) {
        rc = vm->on ? ls_keep(ev, &ls, vm->labels, vm->nlabels, &ls)
                    : ls_drop(ev, &ls, vm->labels, vm->nlabels, false, &ls);
    }
    for (size_t i = 0; rc == 0 && vm && i < vm->ninclude; i++) {
        const char *v = labelset_get(&one->ls, vm->include[i]);
        rc = ls_set(ev, &ls, vm->include[i], v ? v : "", &ls);
    }
    if (rc)
        return rc;
    if ((pc->n + 1) * 2 > pc->cap) {
        size_t cap = pc->cap * 2;
        struct pslot *s = ev_calloc(ev, cap, sizeof(*s));
        if (!s)
            return BW_ENOMEM;
        for (size_t i = 0; i < pc->cap; i++) {
            if (!pc->slot[i].key)
                continue;
            size_t k = mix(pc->slot[i].key) & (cap - 1);
            while (s[k].key)
                k = (k + 1) & (cap - 1);
            s[k] = pc->slot[i];
        }
        pc->slot = s;
        pc->cap = cap;
        j = mix(key) & (cap - 1);
        while (pc->slot[j].key)
            j = (j + 1) & (cap - 1);
    }
    pc->slot[j].key = key;
    pc->slot[j].ls = ls;
    pc->n++;
    *out = &pc->slot[j].ls;
    return 0;
}

/* Prometheus's VectorBinop: one-to-one, many-to-one and one-to-many matching. */
static int match_op(struct evaluator *ev, const struct promql_node *n, struct side *sd,
                    size_t nsigs, const struct labelset *sigls, const struct ev_range *r,
                    struct ev_builder *b)
{
    const struct vector_matching *vm = n->bin.matching;
    enum match_card card = vm ? vm->card : CARD_ONE_TO_ONE;
    bool swap = card == CARD_ONE_TO_MANY;
    struct side *many = swap ? &sd[1] : &sd[0], *one = swap ? &sd[0] : &sd[1];
    size_t *one_at = ev_calloc(ev, nsigs ? nsigs : 1, sizeof(*one_at)); /* step + 1 */
    size_t *one_idx = ev_alloc(ev, (nsigs ? nsigs : 1) * sizeof(*one_idx));
    size_t *matched = ev_calloc(ev, nsigs ? nsigs : 1, sizeof(*matched)); /* step + 1 */
    struct pair_cache pc = {.cap = 64};
    pc.slot = ev_calloc(ev, pc.cap, sizeof(*pc.slot));
    /* Result label sets of this step, for the many-to-one uniqueness check. */
    size_t nseen = 16;
    while (nseen < (many->m->n + 1) * 2)
        nseen *= 2;
    struct seen {
        const struct labelset *ls;
        size_t sig;
    } *seen = ev_alloc(ev, nseen * sizeof(*seen));
    if (!one_at || !one_idx || !matched || !pc.slot || !seen)
        return BW_ENOMEM;
    int64_t ts = r->start;
    for (size_t k = 0; k < r->nsteps; k++, ts += r->step) {
        side_gather(&sd[0], ts);
        side_gather(&sd[1], ts);
        if (sd[0].n == 0 || sd[1].n == 0)
            continue;
        size_t stamp = k + 1;
        for (size_t j = 0; j < one->n; j++) {
            size_t sig = one->sig[one->idx[j]];
            if (one_at[sig] == stamp) {
                const struct ev_series *dup = &one->m->s[one->idx[one_idx[sig]]];
                const struct ev_series *cur = &one->m->s[one->idx[j]];
                return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                               "found duplicate series for the match group %s on the %s "
                               "hand-side of the operation: [%s, %s];many-to-many matching not "
                               "allowed: matching labels must be unique on one side",
                               ls_string(ev, &sigls[sig]), swap ? "left" : "right",
                               ls_string(ev, &cur->ls), ls_string(ev, &dup->ls));
            }
            one_at[sig] = stamp;
            one_idx[sig] = j;
        }
        memset(seen, 0, nseen * sizeof(*seen));
        for (size_t j = 0; j < many->n; j++) {
            size_t sig = many->sig[many->idx[j]];
            if (one_at[sig] != stamp)
                continue;
            size_t oj = one_idx[sig];
            double lv = swap ? one->val[oj] : many->val[j];
            double rv = swap ? many->val[j] : one->val[oj];
            bool keep;
            double v = elem(n->bin.op, lv, rv, &keep);
            if (n->bin.return_bool)
                v = keep;
            else if (!keep)
                continue;
            const struct ev_series *ms = &many->m->s[many->idx[j]];
            const struct ev_series *os = &one->m->s[one->idx[oj]];
            const struct labelset *ls;
            int rc = result_labels(ev, n, &pc, ms, os, many->idx[j], one->idx[oj], &ls);
            if (rc)
                return rc;
            if (card == CARD_ONE_TO_ONE) {
                if (matched[sig] == stamp)
                    return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                                   "multiple matches for labels: many-to-one matching must be "
                                   "explicit (group_left/group_right)");
                matched[sig] = stamp;
            } else {
                /* The grouping labels must make each result unique within its match group. */
                size_t h = (labelset_hash(ls) ^ mix(sig + 1)) & (nseen - 1);
                for (; seen[h].ls; h = (h + 1) & (nseen - 1))
                    if (seen[h].sig == sig && ls_equal(seen[h].ls, ls))
                        return ev_fail(ev, BW_EINVAL, PROMQL_ERR_EXECUTION,
                                       "multiple matches for labels: grouping labels must "
                                       "ensure unique matches");
                seen[h] = (struct seen){ls, sig};
            }
            /* As Prometheus 3.5: only bool marks the result for name removal. */
            rc = ev_builder_add(ev, b, ls, n->bin.return_bool, ts, v);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int binop_eval(struct evaluator *ev, const struct promql_node *n, const struct ev_range *r,
               struct ev_matrix *out)
{
    enum promql_type lt = n->bin.lhs->type, rt = n->bin.rhs->type;
    if (lt == PROMQL_SCALAR && rt == PROMQL_SCALAR)
        return scalar_scalar(ev, n, r, out);
    if (lt != PROMQL_VECTOR || rt != PROMQL_VECTOR)
        return vector_scalar(ev, n, r, out);
    struct ev_matrix lm, rm;
    int rc = ev_eval(ev, n->bin.lhs, r, &lm);
    if (rc == 0)
        rc = ev_eval(ev, n->bin.rhs, r, &rm);
    if (rc)
        return rc;
    struct side sd[2] = {{.m = &lm}, {.m = &rm}};
    size_t nsigs;
    struct labelset *sigls;
    struct ev_builder b;
    rc = intern(ev, n->bin.matching, sd, &nsigs, &sigls);
    if (rc == 0)
        rc = ev_builder_init(ev, &b, r);
    if (rc)
        return rc;
    enum promql_op op = n->bin.op;
    if (op == OP_AND || op == OP_OR || op == OP_UNLESS)
        rc = set_op(ev, op, sd, nsigs, r, &b);
    else
        rc = match_op(ev, n, sd, nsigs, sigls, r, &b);
    if (rc)
        return rc;
    *out = b.m;
    return 0;
}
