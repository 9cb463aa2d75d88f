/* ruler.c: the rule evaluator — runs each group of a rule set against the tsdb with
 * Prometheus's semantics (rules/group.go, rules/alerting.go, rules/recording.go): rules one
 * after another at one timestamp, recording-rule output appended where later rules see it,
 * stale markers for series a rule wrote last time and not now, the alert state machine
 * (pending, firing after `for`, keep_firing_for, resolved alerts kept for a while), ALERTS and
 * ALERTS_FOR_STATE, the sends to the sink, and the restore of `for` state after a restart.
 *
 * Main data structure: per group a struct gstate, per rule a struct rstate holding its alerts
 * (struct ralert: the public struct alert plus the owned copies of its label sets) and the
 * series it wrote in its last evaluation (struct wseries, sorted by hash, with their tsdb
 * refs). Everything that lives across evaluations is malloc'd piece by piece, because alerts
 * come and go; everything built during one evaluation lives in an arena reset per group.
 *
 * The one decision: a single mutex covers all state and is held for a whole group's
 * evaluation. Swapping the rule set, taking a snapshot and the thread's ticks therefore never
 * see a half-evaluated group, at the price of an API snapshot waiting for the evaluation that
 * is running. The tsdb's write lock is taken separately, only around each rule's appends and
 * the group's commit, so the collector is never held up by a slow query (a collector commit in
 * between may make part of a group durable early; tsdb.h says why that is all it promises).
 *
 * A failing rule — its query, its checks, a refused sample, even out of memory — is marked
 * unhealthy with its reason (logged when its health changes) and the group goes on, as
 * Prometheus's Group.Eval does. Alerts of rules that a new rule set drops are retired at once:
 * pending ones go inactive, firing ones are resolved and sent as resolved.
 *
 * Restore: the first evaluation of a new ruler writes ALERTS_FOR_STATE with fresh activeAt
 * values, so ruler_restore reads only samples older than each rule's first evaluation — what
 * the previous process wrote. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/rules.h"
#include "tsdb/tsdb.h"

#define DEFAULT_INTERVAL_MS  15000
#define DEFAULT_RESEND_MS    60000
#define DEFAULT_OUTAGE_MS    3600000
#define DEFAULT_GRACE_MS     600000
#define DEFAULT_RETENTION_MS 900000
#define NEVER                INT64_MIN
#define MAX_RESTORE_S        1e12 /* the largest |ALERTS_FOR_STATE| restored, in seconds */

/* A series a rule wrote: its labels (one malloc'd block), hash and tsdb ref. */
struct wseries {
    struct labelset ls;
    uint64_t hash;
    uint64_t ref;
};

struct ralert {
    struct alert a;    /* the view handed out; labels and annotations point below */
    struct label *lab; /* owned */
    struct label *ann; /* owned */
    int64_t last_sent; /* NEVER until sent */
    bool seen;         /* in this evaluation's result */
};

enum health { HEALTH_UNKNOWN, HEALTH_OK, HEALTH_ERR };

struct rstate {
    const struct rule *rule;
    struct labelset labels; /* the group's labels and the rule's, the rule's winning */
    const char *generator_url;
    const char *tmpl_name; /* "__alert_" + the rule's name, as Prometheus names templates */
    struct ralert **alerts;
    size_t nalerts, capalerts;
    struct wseries *prev; /* sorted by hash */
    size_t nprev;
    enum health health;
    char last_error[512];
    int64_t first_eval_ms; /* NEVER before the first evaluation */
    bool carried;          /* has taken over the state of a rule of the previous set */
    int64_t last_eval_ms;
    double eval_seconds;
};

struct gstate {
    const struct rule_group *g;
    struct rstate *rules;
    int64_t interval_ms;
    int64_t offset_ms; /* of its evaluations within the interval */
    int64_t next_ms;   /* the thread's next evaluation; 0: not scheduled */
    bool restore_due;  /* the thread restores after the first evaluation */
    int64_t last_eval_ms;
    double eval_seconds;
};

struct ruler {
    struct tsdb *db;
    struct ruler_options o;
    struct alert_sink sink;
    struct label *ext_labels; /* owned block */
    struct labelset ext;
    char *ext_url;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool running, stopping;
    struct rule_set *rs;
    struct gstate *groups;
    size_t ngroups;
    struct wseries *orphans; /* series of rules that went away: made stale next evaluation */
    size_t norphans;
    struct arena ea; /* one group evaluation */
    struct buf tbuf; /* template output */
};

static int64_t now_ms(void)
{
    return clock_real_ns() / 1000000;
}

/* ---- label sets ---- */

/* A label set under construction in an arena, with room for every label it can get. */
struct lbuild {
    struct label *v;
    size_t n, cap;
};

static int lb_init(struct lbuild *b, struct arena *a, const struct labelset *from, size_t extra)
{
    b->cap = (from ? from->n : 0) + extra;
    b->n = 0;
    b->v = arena_alloc(a, (b->cap ? b->cap : 1) * sizeof(*b->v));
    if (!b->v)
        return BW_ENOMEM;
    for (size_t i = 0; from && i < from->n; i++)
        b->v[b->n++] = from->v[i];
    return BW_OK;
}

/* Sets name to value, replacing what is there; an empty value removes the label. */
static void lb_set(struct lbuild *b, const char *name, const char *value)
{
    for (size_t i = 0; i < b->n; i++) {
        if (strcmp(b->v[i].name, name) == 0) {
            b->v[i].value = value;
            return;
        }
    }
    if (*value && b->n < b->cap) /* an empty value removes: nothing to add */
        b->v[b->n++] = (struct label){name, value};
}

static struct labelset lb_done(struct lbuild *b)
{
    size_t k = 0;
    for (size_t i = 0; i < b->n; i++)
        if (*b->v[i].value)
            b->v[k++] = b->v[i];
    b->n = k;
    labels_sort(b->v, b->n);
    return (struct labelset){b->v, b->n};
}

static bool ls_equal(const struct labelset *a, const struct labelset *b)
{
    return labelset_compare(a, b) == 0;
}

/* ---- the series a rule wrote ---- */

struct out {
    struct labelset ls;
    double v;
    uint64_t hash;
};

static int cmp_wseries(const void *a, const void *b)
{
    uint64_t x = ((const struct wseries *)a)->hash, y = ((const struct wseries *)b)->hash;
    return x < y ? -1 : x > y;
}

/* The entry of prev (sorted by hash) holding ls, or NULL. */
static struct wseries *prev_find(struct wseries *prev, size_t n, uint64_t hash,
                                 const struct labelset *ls)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (prev[mid].hash < hash)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < n && prev[lo].hash == hash; lo++)
        if (prev[lo].ls.v && ls_equal(&prev[lo].ls, ls))
            return &prev[lo];
    return NULL;
}

static void wseries_free(struct wseries *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((void *)v[i].ls.v);
    free(v);
}

/* Appends stale markers at t for the series in v whose labels are still held (the others
 * moved on); errors are expected (another rule writes the series now) and ignored. */
static void append_stale(struct ruler *r, struct wseries *v, size_t n, int64_t t)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].ls.v)
            (void)tsdb_append(r->db, &v[i].ls, t, tsdb_stale_nan(), &v[i].ref);
}

/* Appends out[0..n) at t for rule rs, stale markers for what it wrote last time and not now,
 * and keeps what was written as its previous series. A refused sample makes the rule unhealthy
 * with the tsdb's reason, as Prometheus does, and the rest are still written. Takes the tsdb's
 * write lock. BW_OK or BW_ENOMEM. */
static int write_series(struct ruler *r, struct rstate *rs, const struct out *out, size_t n,
                        int64_t t)
{
    struct wseries *next = calloc(n ? n : 1, sizeof(*next));
    size_t nn = 0;
    int rc = BW_OK;
    if (!next)
        return BW_ENOMEM;
    tsdb_write_lock(r->db);
    for (size_t i = 0; i < n; i++) {
        struct wseries *p = prev_find(rs->prev, rs->nprev, out[i].hash, &out[i].ls);
        struct wseries w = {.ls = out[i].ls, .hash = out[i].hash, .ref = p ? p->ref : 0};
        int arc = tsdb_append(r->db, &out[i].ls, t, out[i].v, &w.ref);
        if (arc != BW_OK) {
            rs->health = HEALTH_ERR;
            snprintf(rs->last_error, sizeof(rs->last_error), "%s",
                     arc == BW_ERANGE ? "out of order sample" : "sample refused by the tsdb");
            continue;
        }
        if (p) {
            w.ls = p->ls; /* moves the owned copy */
            p->ls.v = NULL;
        } else {
            struct label *v = labels_dup(&out[i].ls, NULL, NULL);
            if (!v) {
                rc = BW_ENOMEM;
                continue;
            }
            w.ls.v = v;
        }
        next[nn++] = w;
    }
    append_stale(r, rs->prev, rs->nprev, t);
    tsdb_write_unlock(r->db);
    wseries_free(rs->prev, rs->nprev);
    qsort(next, nn, sizeof(*next), cmp_wseries);
    rs->prev = next;
    rs->nprev = nn;
    return rc;
}

/* ---- alerts ---- */

static void ralert_free(struct ralert *a)
{
    if (!a)
        return;
    free(a->lab);
    free(a->ann);
    free(a);
}

/* a as the sink sees it: with the external labels it lacks, as Prometheus sends alerts to an
 * Alertmanager, so that routes, groups and notifications can tell the bots apart; and the
 * fingerprint of those labels. The labels live in the evaluation's arena. */
static struct alert as_sent(struct ruler *r, const struct alert *a)
{
    struct alert out = *a;
    struct lbuild b;
    if (!r->ext.n || lb_init(&b, &r->ea, &r->ext, a->labels.n) != BW_OK)
        return out; /* out of memory: without them rather than not at all */
    for (size_t i = 0; i < a->labels.n; i++)
        lb_set(&b, a->labels.v[i].name, a->labels.v[i].value);
    out.labels = lb_done(&b);
    out.fingerprint = alert_fingerprint(&out.labels);
    return out;
}

static void transition(struct ruler *r, struct ralert *a, enum alert_state from, int64_t t)
{
    if (r->sink.transition && from != a->a.state) {
        struct alert sent = as_sent(r, &a->a);
        r->sink.transition(r->sink.ud, &sent, from, t);
    }
}

static struct ralert *alert_find(struct rstate *rs, uint64_t fp, const struct labelset *ls)
{
    for (size_t i = 0; i < rs->nalerts; i++)
        if (rs->alerts[i]->a.fingerprint == fp && ls_equal(&rs->alerts[i]->a.labels, ls))
            return rs->alerts[i];
    return NULL;
}

static bool annotations_equal(const struct ralert *a, const struct labelset *ann)
{
    return ls_equal(&a->a.annotations, ann);
}

static int set_annotations(struct ralert *a, const struct labelset *ann)
{
    struct label *v = labels_dup(ann, NULL, NULL);
    if (!v)
        return BW_ENOMEM;
    free(a->ann);
    a->ann = v;
    a->a.annotations = (struct labelset){v, ann->n};
    return BW_OK;
}

/* Expands text for one sample into the arena; on a template error the text is Prometheus's
 * "<error expanding template: ...>" that tmpl_expand leaves in the buffer. NULL: no memory. */
static const char *expand(struct ruler *r, const struct rstate *rs, const char *text,
                          const struct labelset *ls, double v)
{
    struct tmpl_data data = {ls, v, &r->ext, r->ext_url, rs->tmpl_name};
    buf_reset(&r->tbuf);
    int rc = tmpl_expand(text, &data, &r->tbuf);
    if (rc == BW_ENOMEM || rc == BW_ENOSPC)
        return NULL;
    return arena_strdup(&r->ea, r->tbuf.data ? r->tbuf.data : "");
}

struct candidate {
    struct labelset labels, annotations;
    uint64_t fp;
    double v;
};

static int cmp_candidate(const void *a, const void *b)
{
    return labelset_compare(&((const struct candidate *)a)->labels,
                            &((const struct candidate *)b)->labels);
}

/* Builds the alert label sets and annotations of a result (Prometheus's AlertingRule.Eval,
 * first half). BW_OK, BW_EINVAL for a duplicate label set (err says so), BW_ENOMEM. */
static int alert_candidates(struct ruler *r, struct rstate *rs, const struct promql_series *res,
                            size_t n, struct candidate **out, char *err, size_t errlen)
{
    const struct rule *ru = rs->rule;
    struct candidate *c = arena_calloc(&r->ea, n ? n : 1, sizeof(*c));
    if (!c)
        return BW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct lbuild lb, ab;
        if (lb_init(&lb, &r->ea, &res[i].labels, rs->labels.n + 1) != BW_OK ||
            lb_init(&ab, &r->ea, NULL, ru->nannotations) != BW_OK)
            return BW_ENOMEM;
        double v = res[i].v[0];
        lb_set(&lb, LABEL_NAME, "");
        for (size_t k = 0; k < rs->labels.n; k++) {
            const char *val = expand(r, rs, rs->labels.v[k].value, &res[i].labels, v);
            if (!val)
                return BW_ENOMEM;
            lb_set(&lb, rs->labels.v[k].name, val);
        }
        lb_set(&lb, "alertname", ru->name);
        for (size_t k = 0; k < ru->nannotations; k++) {
            const char *val = expand(r, rs, ru->annotations[k].value, &res[i].labels, v);
            if (!val)
                return BW_ENOMEM;
            ab.v[ab.n++] = (struct label){ru->annotations[k].name, val};
        }
        labels_sort(ab.v, ab.n);
        c[i].labels = lb_done(&lb);
        c[i].annotations = (struct labelset){ab.v, ab.n};
        c[i].fp = alert_fingerprint(&c[i].labels);
        c[i].v = v;
    }
    qsort(c, n, sizeof(*c), cmp_candidate);
    for (size_t i = 1; i < n; i++) {
        if (ls_equal(&c[i - 1].labels, &c[i].labels)) {
            snprintf(err, errlen,
                     "vector contains metrics with the same labelset after applying alert labels");
            return BW_EINVAL;
        }
    }
    *out = c;
    return BW_OK;
}

static int alerts_push(struct rstate *rs, struct ralert *a)
{
    if (rs->nalerts == rs->capalerts) {
        size_t cap = rs->capalerts ? rs->capalerts * 2 : 8;
        struct ralert **v = realloc(rs->alerts, cap * sizeof(*v));
        if (!v)
            return BW_ENOMEM;
        rs->alerts = v;
        rs->capalerts = cap;
    }
    rs->alerts[rs->nalerts++] = a;
    return BW_OK;
}

static struct ralert *alert_new(struct rstate *rs, const struct gstate *gs,
                                const struct candidate *c, int64_t t)
{
    struct ralert *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->lab = labels_dup(&c->labels, NULL, NULL);
    if (!a->lab || set_annotations(a, &c->annotations) != BW_OK) {
        ralert_free(a);
        return NULL;
    }
    a->a.labels = (struct labelset){a->lab, c->labels.n};
    a->a.fingerprint = c->fp;
    a->a.state = ALERT_PENDING;
    a->a.value = c->v;
    a->a.active_at = t;
    a->a.group = gs->g->name;
    a->a.rule = rs->rule->name;
    a->a.generator_url = rs->generator_url;
    a->last_sent = NEVER;
    return a;
}

/* ALERTS{...,alertstate} 1 and ALERTS_FOR_STATE{...} activeAt-seconds for alert a: the rule's
 * labels underneath the alert's, as Prometheus builds them. */
static int alert_series(struct ruler *r, struct rstate *rs, const struct ralert *a, struct out *o)
{
    struct lbuild b;
    for (int k = 0; k < 2; k++) {
        if (lb_init(&b, &r->ea, &rs->labels, a->a.labels.n + 3) != BW_OK)
            return BW_ENOMEM;
        for (size_t i = 0; i < a->a.labels.n; i++)
            lb_set(&b, a->a.labels.v[i].name, a->a.labels.v[i].value);
        lb_set(&b, LABEL_NAME, k == 0 ? "ALERTS" : "ALERTS_FOR_STATE");
        lb_set(&b, "alertname", rs->rule->name);
        if (k == 0)
            lb_set(&b, "alertstate", alert_state_name(a->a.state));
        o[k].ls = lb_done(&b);
        o[k].hash = labelset_hash(&o[k].ls);
        /* Go's Time.Unix(): seconds, rounded towards minus infinity. */
        int64_t s = a->a.active_at / 1000 - (a->a.active_at % 1000 < 0);
        o[k].v = k == 0 ? 1 : (double)s;
    }
    return BW_OK;
}

static void alerts_drop(struct ruler *r, struct rstate *rs, int64_t t)
{
    for (size_t i = 0; i < rs->nalerts; i++) {
        struct ralert *a = rs->alerts[i];
        enum alert_state from = a->a.state;
        a->a.state = ALERT_INACTIVE;
        transition(r, a, from, t);
        ralert_free(a);
    }
    rs->nalerts = 0;
}

/* The alert state machine for one evaluation at t with result res (the second half of
 * Prometheus's AlertingRule.Eval): fills *out with the ALERTS series to write. */
static int eval_alerts(struct ruler *r, struct gstate *gs, struct rstate *rs,
                       const struct promql_series *res, size_t n, int64_t t, struct out **out,
                       size_t *nout, char *err, size_t errlen)
{
    const struct rule *ru = rs->rule;
    struct candidate *c = NULL;
    int rc = alert_candidates(r, rs, res, n, &c, err, errlen);
    if (rc != BW_OK)
        return rc;
    for (size_t i = 0; i < rs->nalerts; i++)
        rs->alerts[i]->seen = false;
    for (size_t i = 0; i < n; i++) {
        struct ralert *a = alert_find(rs, c[i].fp, &c[i].labels);
        if (a && a->a.state != ALERT_INACTIVE) {
            a->a.value = c[i].v;
            if (!annotations_equal(a, &c[i].annotations) &&
                set_annotations(a, &c[i].annotations) != BW_OK)
                return BW_ENOMEM;
            a->seen = true;
            continue;
        }
        struct ralert *na = alert_new(rs, gs, &c[i], t);
        if (!na)
            return BW_ENOMEM;
        na->seen = true;
        if (a) { /* a resolved alert comes back: a new one takes its place */
            for (size_t k = 0; k < rs->nalerts; k++)
                if (rs->alerts[k] == a)
                    rs->alerts[k] = na;
            ralert_free(a);
        } else if (alerts_push(rs, na) != BW_OK) {
            ralert_free(na);
            return BW_ENOMEM;
        }
        transition(r, na, ALERT_INACTIVE, t);
    }
    struct out *o = arena_alloc(&r->ea, (2 * rs->nalerts + 1) * sizeof(*o));
    size_t no = 0, active = 0, k = 0;
    if (!o)
        return BW_ENOMEM;
    for (size_t i = 0; i < rs->nalerts; i++) {
        struct ralert *a = rs->alerts[i];
        enum alert_state from = a->a.state;
        bool keep = false, drop = false;
        if (!a->seen) {
            if (a->a.state == ALERT_FIRING && ru->keep_firing_for_ms > 0) {
                if (a->a.keep_firing_since == 0)
                    a->a.keep_firing_since = t;
                keep = t - a->a.keep_firing_since < ru->keep_firing_for_ms;
            }
            drop =
                a->a.state == ALERT_PENDING ||
                (a->a.state == ALERT_INACTIVE && t - a->a.resolved_at > r->o.resolved_retention_ms);
            if (a->a.state != ALERT_INACTIVE && !keep) {
                a->a.state = ALERT_INACTIVE;
                a->a.resolved_at = t;
                transition(r, a, from, t);
            }
            if (drop) {
                ralert_free(a);
                continue;
            }
            if (!keep) {
                rs->alerts[k++] = a;
                continue;
            }
        } else {
            a->a.keep_firing_since = 0;
        }
        rs->alerts[k++] = a;
        active++;
        if (a->a.state == ALERT_PENDING && t - a->a.active_at >= ru->for_ms) {
            a->a.state = ALERT_FIRING;
            a->a.fired_at = t;
            transition(r, a, ALERT_PENDING, t);
        }
        if (alert_series(r, rs, a, &o[no]) == BW_OK)
            no += 2;
        else
            rc = BW_ENOMEM; /* the alerts are still compacted: rs stays consistent */
    }
    rs->nalerts = k;
    if (rc != BW_OK)
        return rc;
    if (gs->g->limit > 0 && active > gs->g->limit) {
        alerts_drop(r, rs, t);
        snprintf(err, errlen, "exceeded limit of %zu with %zu alerts", gs->g->limit, active);
        return BW_EINVAL;
    }
    *out = o;
    *nout = no;
    return BW_OK;
}

/* The firing and newly resolved alerts of rs to send now (Alert.needsSending), appended to
 * the group's list. */
static int collect_sends(struct ruler *r, const struct gstate *gs, struct rstate *rs, int64_t t,
                         struct alert **v, size_t *n, size_t *cap)
{
    int64_t delta = gs->interval_ms > r->o.resend_delay_ms ? gs->interval_ms : r->o.resend_delay_ms;
    for (size_t i = 0; i < rs->nalerts; i++) {
        struct ralert *a = rs->alerts[i];
        if (a->a.state == ALERT_PENDING)
            continue;
        bool resolved_since = a->a.state == ALERT_INACTIVE &&
                              (a->last_sent == NEVER || a->a.resolved_at > a->last_sent);
        if (!resolved_since && a->last_sent != NEVER && a->last_sent + r->o.resend_delay_ms >= t)
            continue;
        a->last_sent = t;
        a->a.valid_until = t + 4 * delta;
        struct alert *nv = arena_grow(&r->ea, *v, *n, cap, sizeof(**v));
        if (!nv)
            return BW_ENOMEM;
        *v = nv;
        (*v)[(*n)++] = a->a;
    }
    return BW_OK;
}

/* ---- recording rules ---- */

static int eval_record(struct ruler *r, struct gstate *gs, struct rstate *rs,
                       const struct promql_series *res, size_t n, struct out **out, size_t *nout,
                       char *err, size_t errlen)
{
    struct out *o = arena_calloc(&r->ea, n ? n : 1, sizeof(*o));
    if (!o)
        return BW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct lbuild b;
        if (lb_init(&b, &r->ea, &res[i].labels, rs->labels.n + 1) != BW_OK)
            return BW_ENOMEM;
        lb_set(&b, LABEL_NAME, rs->rule->name);
        for (size_t k = 0; k < rs->labels.n; k++)
            lb_set(&b, rs->labels.v[k].name, rs->labels.v[k].value);
        o[i].ls = lb_done(&b);
        o[i].hash = labelset_hash(&o[i].ls);
        o[i].v = res[i].v[0];
    }
    for (size_t i = 0; i < n; i++) {
        for (size_t k = i + 1; k < n; k++) {
            if (o[i].hash == o[k].hash && ls_equal(&o[i].ls, &o[k].ls)) {
                snprintf(err, errlen,
                         "vector contains metrics with the same labelset after "
                         "applying rule labels");
                return BW_EINVAL;
            }
        }
    }
    if (gs->g->limit > 0 && n > gs->g->limit) {
        snprintf(err, errlen, "exceeded limit of %zu with %zu series", gs->g->limit, n);
        return BW_EINVAL;
    }
    *out = o;
    *nout = n;
    return BW_OK;
}

/* ---- a group's evaluation ---- */

/* Evaluates one rule at t. Whatever fails — the query, the rule's checks, a refused sample, out
 * of memory — makes the rule unhealthy with its reason in rs, and the group goes on. */
static void eval_rule(struct ruler *r, struct gstate *gs, struct rstate *rs, int64_t t,
                      struct alert **sends, size_t *nsends, size_t *capsends)
{
    int64_t qt = t - gs->g->query_offset_ms, start = clock_mono_ns();
    struct promql_result *res = NULL;
    struct promql_error perr = {0};
    struct out *o = NULL;
    size_t no = 0;
    char err[sizeof(perr.msg)] = "";
    int rc = promql_query_instant(r->db, &r->o.query, rs->rule->expr, qt, &res, &perr);
    if (rc != BW_OK) {
        snprintf(err, sizeof(err), "%s", perr.msg);
    } else if (res->type != PROMQL_VECTOR && res->type != PROMQL_SCALAR) {
        snprintf(err, sizeof(err), "rule result is not a vector or scalar");
        rc = BW_EINVAL;
    } else {
        /* A scalar is one sample without labels (Prometheus's EngineQueryFunc). */
        if (res->type == PROMQL_SCALAR)
            res->series[0].labels = (struct labelset){NULL, 0};
        if (rs->rule->kind == RULE_ALERT)
            rc = eval_alerts(r, gs, rs, res->series, res->n, t, &o, &no, err, sizeof(err));
        else
            rc = eval_record(r, gs, rs, res->series, res->n, &o, &no, err, sizeof(err));
    }
    if (rs->first_eval_ms == NEVER)
        rs->first_eval_ms = t;
    if (rc == BW_OK) {
        rs->health = HEALTH_OK;
        rs->last_error[0] = '\0';
        if (rs->rule->kind == RULE_ALERT)
            rc = collect_sends(r, gs, rs, t, sends, nsends, capsends);
        if (rc == BW_OK)
            rc = write_series(r, rs, o, no, qt); /* a refused sample makes it unhealthy */
    }
    if (rc != BW_OK) {
        rs->health = HEALTH_ERR;
        snprintf(rs->last_error, sizeof(rs->last_error), "%s",
                 rc == BW_ENOMEM ? "out of memory" : err);
    }
    promql_result_free(res);
    rs->last_eval_ms = t;
    rs->eval_seconds = (double)(clock_mono_ns() - start) / 1e9;
}

/* Logs a rule's health when it changes, not on every evaluation of a lasting failure. */
static void log_health(const struct gstate *gs, const struct rstate *rs, enum health before)
{
    if (rs->health == before)
        return;
    if (rs->health == HEALTH_ERR)
        log_warn("rules: group %s, rule %s: evaluation failed: %s", gs->g->name, rs->rule->name,
                 rs->last_error);
    else if (before == HEALTH_ERR)
        log_info("rules: group %s, rule %s: evaluates again", gs->g->name, rs->rule->name);
}

static void eval_group(struct ruler *r, struct gstate *gs, int64_t t)
{
    int64_t start = clock_mono_ns();
    struct alert *sends = NULL;
    size_t nsends = 0, capsends = 0;
    struct diag d = {0};
    arena_reset(&r->ea);
    for (size_t i = 0; i < gs->g->nrules; i++) {
        enum health before = gs->rules[i].health;
        eval_rule(r, gs, &gs->rules[i], t, &sends, &nsends, &capsends);
        log_health(gs, &gs->rules[i], before);
    }
    tsdb_write_lock(r->db);
    append_stale(r, r->orphans, r->norphans, t - gs->g->query_offset_ms);
    if (tsdb_commit(r->db, &d) != BW_OK)
        log_warn("rules: group %s: committing its samples failed: %s", gs->g->name, d.msg);
    tsdb_write_unlock(r->db);
    wseries_free(r->orphans, r->norphans);
    r->orphans = NULL;
    r->norphans = 0;
    if (r->sink.send && nsends > 0) {
        for (size_t i = 0; i < nsends; i++)
            sends[i] = as_sent(r, &sends[i]);
        r->sink.send(r->sink.ud, sends, nsends, t);
    }
    gs->last_eval_ms = t;
    gs->eval_seconds = (double)(clock_mono_ns() - start) / 1e9;
}

int ruler_eval_group(struct ruler *r, size_t gi, int64_t t_ms)
{
    int rc = BW_EINVAL;
    pthread_mutex_lock(&r->mu);
    if (gi < r->ngroups) {
        eval_group(r, &r->groups[gi], t_ms);
        rc = BW_OK;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int ruler_eval_all(struct ruler *r, int64_t t_ms)
{
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->ngroups; i++)
        eval_group(r, &r->groups[i], t_ms);
    pthread_mutex_unlock(&r->mu);
    return BW_OK;
}

/* ---- restoring `for` state (Prometheus's Group.RestoreForState) ---- */

static void restore_alert(struct ruler *r, struct ralert *a, const struct tsdb_series *s,
                          int64_t before, int64_t hold, int64_t now)
{
    int64_t t = 0;
    double v = 0;
    bool found = false;
    for (size_t i = 0; i < s->n && s->t[i] < before; i++)
        t = s->t[i], v = s->v[i], found = true;
    /* The value is any float a recording rule or an import wrote: one that is no time in
     * seconds (±1e12 s is 31,700 years) is not restored, which also keeps the ms arithmetic
     * below far from overflowing. */
    if (!found || tsdb_is_stale(v) || !(fabs(v) <= MAX_RESTORE_S))
        return;
    int64_t down = (t / 1000) * 1000, active = (int64_t)v * 1000;
    int64_t remaining = hold - (down - active);
    if (remaining <= 0)
        a->a.active_at = active; /* was firing: the next evaluation makes it fire again */
    else if (remaining < r->o.for_grace_ms)
        a->a.active_at = now + r->o.for_grace_ms - hold;
    else
        a->a.active_at = active + (now - down);
}

static int restore_rule(struct ruler *r, struct rstate *rs, int64_t now)
{
    struct tsdb_matcher m[64];
    size_t nm = 0;
    struct tsdb_series *ss = NULL;
    size_t nss = 0;
    struct diag d = {0};
    int rc = tsdb_matcher_init(&m[nm++], TSDB_MATCH_EQ, LABEL_NAME, "ALERTS_FOR_STATE", &d);
    if (rc == BW_OK)
        rc = tsdb_matcher_init(&m[nm++], TSDB_MATCH_EQ, "alertname", rs->rule->name, &d);
    for (size_t i = 0; i < rs->labels.n && nm < BW_ARRAY_LEN(m) && rc == BW_OK; i++) {
        /* Templated values differ per alert and would not match the stored series. */
        if (strstr(rs->labels.v[i].value, "{{") || !strcmp(rs->labels.v[i].name, "alertname"))
            continue;
        rc = tsdb_matcher_init(&m[nm++], TSDB_MATCH_EQ, rs->labels.v[i].name, rs->labels.v[i].value,
                               &d);
    }
    if (rc != BW_OK) {
        nm--;
        goto done;
    }
    arena_reset(&r->ea);
    rc =
        tsdb_select(r->db, m, nm, now - r->o.outage_tolerance_ms, now, 0, 0, &r->ea, &ss, &nss, &d);
    if (rc != BW_OK) {
        log_warn("rules: restoring the 'for' state of %s failed: %s", rs->rule->name, d.msg);
        goto done;
    }
    for (size_t i = 0; i < nss; i++) {
        struct lbuild b;
        if ((rc = lb_init(&b, &r->ea, &ss[i].labels, 0)) != BW_OK)
            goto done;
        lb_set(&b, LABEL_NAME, "");
        struct labelset ls = lb_done(&b);
        struct ralert *a = alert_find(rs, alert_fingerprint(&ls), &ls);
        if (a && a->a.state != ALERT_INACTIVE)
            restore_alert(r, a, &ss[i], rs->first_eval_ms, rs->rule->for_ms, now);
    }
done:
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_fini(&m[i]);
    return rc == BW_ENOMEM ? rc : BW_OK;
}

static int restore_group(struct ruler *r, struct gstate *gs, int64_t now)
{
    int rc = BW_OK;
    for (size_t i = 0; i < gs->g->nrules && rc == BW_OK; i++) {
        struct rstate *rs = &gs->rules[i];
        /* A `for` shorter than the grace period is simply waited for again. */
        if (rs->rule->kind == RULE_ALERT && rs->rule->for_ms >= r->o.for_grace_ms)
            rc = restore_rule(r, rs, now);
    }
    gs->restore_due = false;
    return rc;
}

int ruler_restore(struct ruler *r, int64_t now_ms)
{
    int rc = BW_OK;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->ngroups && rc == BW_OK; i++)
        rc = restore_group(r, &r->groups[i], now_ms);
    pthread_mutex_unlock(&r->mu);
    return rc;
}

/* ---- rule sets ---- */

/* external_url/graph?g0.expr=EXPR&g0.tab=1 with the expression as Prometheus prints it. */
static const char *generator_url(struct ruler *r, struct arena *a, const char *expr)
{
    struct arena pa;
    struct promql_node *node = NULL;
    struct promql_error perr;
    struct buf b, e;
    const char *url = NULL;
    arena_init(&pa, 0);
    buf_init(&b, 0);
    buf_init(&e, 0);
    if (promql_parse(expr, &r->o.query, &pa, &node, &perr) != BW_OK ||
        promql_node_format(node, &e) != BW_OK)
        buf_puts(&e, expr);
    if (buf_puts(&b, r->ext_url ? r->ext_url : "") == BW_OK &&
        buf_puts(&b, "/graph?g0.expr=") == BW_OK &&
        tmpl_query_escape(&b, e.data ? e.data : "") == BW_OK && buf_puts(&b, "&g0.tab=1") == BW_OK)
        url = arena_strdup(a, b.data);
    if (node)
        promql_node_release(node);
    arena_fini(&pa);
    buf_fini(&b);
    buf_fini(&e);
    return url;
}

/* The group's labels under the rule's, in the set's arena. */
static int merge_labels(struct arena *a, const struct rule_group *g, const struct rule *ru,
                        struct labelset *out)
{
    struct lbuild b;
    struct labelset gl = {g->labels, g->nlabels};
    if (lb_init(&b, a, &gl, ru->nlabels) != BW_OK)
        return BW_ENOMEM;
    for (size_t i = 0; i < ru->nlabels; i++)
        lb_set(&b, ru->labels[i].name, ru->labels[i].value);
    labels_sort(b.v, b.n);
    *out = (struct labelset){b.v, b.n};
    return BW_OK;
}

static uint64_t group_hash(const struct rule_group *g)
{
    uint64_t h = hash_bytes(g->name, strlen(g->name) + 1, HASH_SEED);
    return hash_bytes(g->file ? g->file : "", g->file ? strlen(g->file) : 0, h);
}

/* The state of every group of rs, allocated in rs's arena. */
static int build_state(struct ruler *r, struct rule_set *rs, struct gstate **out)
{
    struct gstate *gv = arena_calloc(&rs->arena, rs->ngroups ? rs->ngroups : 1, sizeof(*gv));
    if (!gv)
        return BW_ENOMEM;
    for (size_t i = 0; i < rs->ngroups; i++) {
        const struct rule_group *g = &rs->groups[i];
        struct gstate *gs = &gv[i];
        gs->g = g;
        gs->interval_ms = g->interval_ms > 0 ? g->interval_ms : r->o.interval_ms;
        gs->offset_ms = (int64_t)(group_hash(g) % (uint64_t)gs->interval_ms);
        gs->rules = arena_calloc(&rs->arena, g->nrules ? g->nrules : 1, sizeof(*gs->rules));
        if (!gs->rules)
            return BW_ENOMEM;
        for (size_t k = 0; k < g->nrules; k++) {
            struct rstate *st = &gs->rules[k];
            st->rule = &g->rules[k];
            st->first_eval_ms = NEVER;
            size_t nl = strlen(st->rule->name) + sizeof("__alert_");
            char *tn = arena_alloc(&rs->arena, nl);
            if (!tn)
                return BW_ENOMEM;
            snprintf(tn, nl, "__alert_%s", st->rule->name);
            st->tmpl_name = tn;
            if (merge_labels(&rs->arena, g, st->rule, &st->labels) != BW_OK ||
                !(st->generator_url = generator_url(r, &rs->arena, st->rule->expr)))
                return BW_ENOMEM;
        }
    }
    *out = gv;
    return BW_OK;
}

static bool same_group(const struct rule_group *a, const struct rule_group *b)
{
    return strcmp(a->name, b->name) == 0 &&
           strcmp(a->file ? a->file : "", b->file ? b->file : "") == 0;
}

static bool same_rule(const struct rstate *a, const struct rstate *b)
{
    return a->rule->kind == b->rule->kind && strcmp(a->rule->name, b->rule->name) == 0 &&
           ls_equal(&a->labels, &b->labels);
}

static int orphan(struct ruler *r, struct rstate *old)
{
    size_t n = 0;
    for (size_t i = 0; i < old->nprev; i++)
        n += old->prev[i].ls.v != NULL;
    struct wseries *v = realloc(r->orphans, (r->norphans + n + 1) * sizeof(*v));
    if (!v)
        return BW_ENOMEM;
    r->orphans = v;
    for (size_t i = 0; i < old->nprev; i++) {
        if (old->prev[i].ls.v) {
            r->orphans[r->norphans++] = old->prev[i];
            old->prev[i].ls.v = NULL;
        }
    }
    return BW_OK;
}

static void rstate_fini(struct rstate *st)
{
    for (size_t i = 0; i < st->nalerts; i++)
        ralert_free(st->alerts[i]);
    free(st->alerts);
    wseries_free(st->prev, st->nprev);
    st->alerts = NULL;
    st->prev = NULL;
    st->nalerts = st->nprev = 0;
}

/* The alerts of a rule that goes away at t: a pending one goes inactive (and is forgotten with
 * the rule), a firing one is resolved and added to *v, so that the notifier and Alertmanagers
 * learn it now rather than when its valid_until passes (Prometheus leaves that to endsAt);
 * a resolved one was sent as such already. */
static void retire_alerts(struct ruler *r, struct rstate *rs, int64_t t, struct alert **v,
                          size_t *n, size_t *cap)
{
    for (size_t i = 0; i < rs->nalerts; i++) {
        struct ralert *a = rs->alerts[i];
        enum alert_state from = a->a.state;
        if (from == ALERT_INACTIVE)
            continue;
        a->a.state = ALERT_INACTIVE;
        if (from == ALERT_FIRING)
            a->a.resolved_at = a->a.valid_until = t;
        transition(r, a, from, t);
        if (from != ALERT_FIRING || !r->sink.send)
            continue;
        struct alert *nv = arena_grow(&r->ea, *v, *n, cap, sizeof(**v));
        if (!nv) {
            log_warn("rules: out of memory: alert %s of a removed rule not sent as resolved",
                     rs->rule->name);
            continue;
        }
        *v = nv;
        (*v)[(*n)++] = as_sent(r, &a->a);
    }
}

/* Moves the state of each rule of old into its match in the new groups (Prometheus's
 * Group.CopyState: by group file and name, then rule name and labels, first with first); what
 * finds no match leaves its series to be made stale and its alerts retired at t (into *v). */
static void carry_state(struct ruler *r, struct gstate *nv, size_t nn, int64_t t, struct alert **v,
                        size_t *n, size_t *cap)
{
    for (size_t i = 0; i < r->ngroups; i++) {
        struct gstate *og = &r->groups[i], *ng = NULL;
        for (size_t k = 0; k < nn && !ng; k++)
            if (same_group(og->g, nv[k].g))
                ng = &nv[k];
        if (ng) {
            ng->last_eval_ms = og->last_eval_ms;
            ng->eval_seconds = og->eval_seconds;
            ng->next_ms = ng->interval_ms == og->interval_ms ? og->next_ms : 0;
            ng->restore_due = og->restore_due;
        }
        for (size_t j = 0; j < og->g->nrules; j++) {
            struct rstate *os = &og->rules[j], *ns = NULL;
            for (size_t k = 0; ng && k < ng->g->nrules && !ns; k++)
                if (!ng->rules[k].carried && same_rule(os, &ng->rules[k]))
                    ns = &ng->rules[k];
            if (!ns) {
                if (orphan(r, os) != BW_OK)
                    log_warn("rules: out of memory: series of a removed rule stay unmarked");
                retire_alerts(r, os, t, v, n, cap);
                continue;
            }
            ns->carried = true;
            ns->alerts = os->alerts, ns->nalerts = os->nalerts, ns->capalerts = os->capalerts;
            ns->prev = os->prev, ns->nprev = os->nprev;
            ns->health = os->health;
            memcpy(ns->last_error, os->last_error, sizeof(ns->last_error));
            ns->first_eval_ms = os->first_eval_ms;
            ns->last_eval_ms = os->last_eval_ms;
            ns->eval_seconds = os->eval_seconds;
            os->alerts = NULL, os->prev = NULL;
            os->nalerts = os->nprev = os->capalerts = 0;
            for (size_t a = 0; a < ns->nalerts; a++) {
                ns->alerts[a]->a.group = ng->g->name;
                ns->alerts[a]->a.rule = ns->rule->name;
                ns->alerts[a]->a.generator_url = ns->generator_url;
            }
        }
    }
}

static void free_state(struct ruler *r)
{
    for (size_t i = 0; i < r->ngroups; i++)
        for (size_t k = 0; k < r->groups[i].g->nrules; k++)
            rstate_fini(&r->groups[i].rules[k]);
    rule_set_free(r->rs);
    r->rs = NULL;
    r->groups = NULL;
    r->ngroups = 0;
}

int ruler_set_rules(struct ruler *r, struct rule_set *rs)
{
    struct gstate *nv = NULL;
    struct alert *sends = NULL;
    size_t nsends = 0, capsends = 0;
    if (rs && build_state(r, rs, &nv) != BW_OK) {
        log_error("rules: out of memory installing the rules; the old ones stay");
        rule_set_free(rs);
        return BW_ENOMEM;
    }
    pthread_mutex_lock(&r->mu);
    int64_t t = now_ms();
    arena_reset(&r->ea);
    carry_state(r, nv, rs ? rs->ngroups : 0, t, &sends, &nsends, &capsends);
    if (nsends > 0) /* before free_state: the alerts' strings live in the old set */
        r->sink.send(r->sink.ud, sends, nsends, t);
    free_state(r);
    r->rs = rs;
    r->groups = nv;
    r->ngroups = rs ? rs->ngroups : 0;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    return BW_OK;
}

const struct promql_options *ruler_query_options(const struct ruler *r)
{
    return &r->o.query;
}

/* ---- the ruler ---- */

int ruler_new(struct tsdb *db, const struct ruler_options *o, const struct alert_sink *sink,
              struct ruler **out)
{
    struct ruler *r = calloc(1, sizeof(*r));
    if (!r)
        return BW_ENOMEM;
    if (o)
        r->o = *o;
    r->db = db;
    if (sink)
        r->sink = *sink;
    if (r->o.interval_ms <= 0)
        r->o.interval_ms = DEFAULT_INTERVAL_MS;
    if (r->o.resend_delay_ms <= 0)
        r->o.resend_delay_ms = DEFAULT_RESEND_MS;
    if (r->o.outage_tolerance_ms <= 0)
        r->o.outage_tolerance_ms = DEFAULT_OUTAGE_MS;
    if (r->o.for_grace_ms <= 0)
        r->o.for_grace_ms = DEFAULT_GRACE_MS;
    if (r->o.resolved_retention_ms <= 0)
        r->o.resolved_retention_ms = DEFAULT_RETENTION_MS;
    r->o.external_labels = NULL;
    r->o.external_url = NULL;
    arena_init(&r->ea, 0);
    buf_init(&r->tbuf, 1u << 20);
    if (o && o->external_labels) {
        if (!(r->ext_labels = labels_dup(o->external_labels, NULL, NULL)))
            goto oom;
        r->ext = (struct labelset){r->ext_labels, o->external_labels->n};
    }
    if (o && o->external_url && !(r->ext_url = xstrdup(o->external_url)))
        goto oom;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return BW_OK;
oom:
    free(r->ext_labels);
    arena_fini(&r->ea);
    buf_fini(&r->tbuf);
    free(r);
    return BW_ENOMEM;
}

void ruler_free(struct ruler *r)
{
    if (!r)
        return;
    ruler_stop(r);
    free_state(r);
    wseries_free(r->orphans, r->norphans);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    arena_fini(&r->ea);
    buf_fini(&r->tbuf);
    free(r->ext_labels);
    free(r->ext_url);
    free(r);
}

/* The group's first evaluation time after now (Prometheus's EvalTimestamp + interval). */
static int64_t first_slot(const struct gstate *gs, int64_t now)
{
    int64_t adj = now - gs->offset_ms;
    return adj - adj % gs->interval_ms + gs->offset_ms + gs->interval_ms;
}

static void *run(void *arg)
{
    struct ruler *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->stopping) {
        int64_t now = now_ms(), soonest = INT64_MAX;
        struct gstate *due = NULL;
        for (size_t i = 0; i < r->ngroups; i++) {
            struct gstate *gs = &r->groups[i];
            if (gs->next_ms == 0)
                gs->next_ms = first_slot(gs, now);
            if (gs->next_ms < soonest)
                soonest = gs->next_ms, due = gs;
        }
        if (due && soonest <= now) {
            /* Missed slots are skipped: evaluate at the newest one that has passed. */
            int64_t t = soonest + (now - soonest) / due->interval_ms * due->interval_ms;
            due->next_ms = t + due->interval_ms;
            eval_group(r, due, t);
            if (due->restore_due && restore_group(r, due, now_ms()) != BW_OK)
                log_warn("rules: out of memory restoring the 'for' state of %s", due->g->name);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t wait_ms = soonest == INT64_MAX ? 3600000 : soonest - now;
        ts.tv_sec += (time_t)(wait_ms / 1000);
        ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int ruler_start(struct ruler *r, struct diag *d)
{
    pthread_mutex_lock(&r->mu);
    if (r->running) {
        pthread_mutex_unlock(&r->mu);
        return BW_OK;
    }
    for (size_t i = 0; i < r->ngroups; i++)
        r->groups[i].restore_due = r->groups[i].last_eval_ms == 0;
    r->stopping = false;
    int err = pthread_create(&r->thread, NULL, run, r);
    r->running = err == 0;
    pthread_mutex_unlock(&r->mu);
    if (err != 0)
        return diag_set(d, BW_ENOMEM, "rules: cannot start the evaluator thread: %s",
                        strerror(err));
    return BW_OK;
}

void ruler_stop(struct ruler *r)
{
    pthread_mutex_lock(&r->mu);
    bool running = r->running;
    r->stopping = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    if (running)
        pthread_join(r->thread, NULL);
    r->running = false;
}

/* ---- snapshots ---- */

static const char *sdup(struct arena *a, const char *s, bool *ok)
{
    char *c = s ? arena_strdup(a, s) : NULL;
    if (s && !c)
        *ok = false;
    return c;
}

static int snap_rule(struct arena *a, const struct rstate *st, struct ruler_rule_snap *s)
{
    bool ok = true;
    struct rule *ru = arena_alloc(a, sizeof(*ru));
    struct labelset l, an;
    if (!ru)
        return BW_ENOMEM;
    *ru = *st->rule;
    ru->name = sdup(a, st->rule->name, &ok);
    ru->expr = sdup(a, st->rule->expr, &ok);
    struct labelset rl = {st->rule->labels, st->rule->nlabels},
                    ra = {st->rule->annotations, st->rule->nannotations};
    if (!ok || !labels_dup(&rl, a, &l) || !labels_dup(&ra, a, &an))
        return BW_ENOMEM;
    ru->labels = (struct label *)l.v;
    ru->annotations = (struct label *)an.v;
    s->rule = ru;
    s->health = st->health == HEALTH_OK ? "ok" : st->health == HEALTH_ERR ? "err" : "unknown";
    s->last_error = sdup(a, st->last_error, &ok);
    s->last_eval_ms = st->last_eval_ms;
    s->eval_seconds = st->eval_seconds;
    s->state = ALERT_INACTIVE;
    s->alerts = arena_calloc(a, st->nalerts ? st->nalerts : 1, sizeof(*s->alerts));
    if (!ok || !s->alerts)
        return BW_ENOMEM;
    for (size_t i = 0; i < st->nalerts; i++) {
        const struct alert *src = &st->alerts[i]->a;
        struct alert *dst = &s->alerts[i];
        *dst = *src;
        if (src->state > s->state)
            s->state = src->state;
        dst->group = sdup(a, src->group, &ok);
        dst->rule = sdup(a, src->rule, &ok);
        dst->generator_url = sdup(a, src->generator_url, &ok);
        if (!ok || !labels_dup(&src->labels, a, &dst->labels) ||
            !labels_dup(&src->annotations, a, &dst->annotations))
            return BW_ENOMEM;
    }
    s->nalerts = st->nalerts;
    return BW_OK;
}

int ruler_snapshot(struct ruler *r, struct ruler_snapshot **out)
{
    struct ruler_snapshot *s = calloc(1, sizeof(*s));
    int rc = BW_ENOMEM;
    if (!s)
        return BW_ENOMEM;
    arena_init(&s->arena, 0);
    pthread_mutex_lock(&r->mu);
    s->groups = arena_calloc(&s->arena, r->ngroups ? r->ngroups : 1, sizeof(*s->groups));
    if (!s->groups)
        goto err;
    for (size_t i = 0; i < r->ngroups; i++) {
        const struct gstate *gs = &r->groups[i];
        struct ruler_group_snap *g = &s->groups[i];
        bool ok = true;
        g->name = sdup(&s->arena, gs->g->name, &ok);
        g->file = sdup(&s->arena, gs->g->file, &ok);
        g->interval_ms = gs->interval_ms;
        g->limit = (int64_t)gs->g->limit;
        g->last_eval_ms = gs->last_eval_ms;
        g->eval_seconds = gs->eval_seconds;
        g->rules = arena_calloc(&s->arena, gs->g->nrules ? gs->g->nrules : 1, sizeof(*g->rules));
        if (!ok || !g->rules)
            goto err;
        for (size_t k = 0; k < gs->g->nrules; k++)
            if (snap_rule(&s->arena, &gs->rules[k], &g->rules[k]) != BW_OK)
                goto err;
        g->nrules = gs->g->nrules;
        s->ngroups++;
    }
    rc = BW_OK;
    *out = s;
err:
    pthread_mutex_unlock(&r->mu);
    if (rc != BW_OK)
        ruler_snapshot_free(s);
    return rc;
}

void ruler_snapshot_free(struct ruler_snapshot *s)
{
    if (!s)
        return;
    arena_fini(&s->arena);
    free(s);
}
