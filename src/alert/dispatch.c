/* dispatch: the notifier — a small Alertmanager inside breakwatch. It receives the
 * evaluator's transitions and sends through its sink, keeps every alert it was told about,
 * routes firing and resolved alerts down the route tree into groups, decides when a group is
 * notified (group_wait, group_interval, repeat_interval, the notification log), leaves silenced
 * alerts out, and hands the notifications and the Alertmanager forwards to send.c, retrying
 * with backoff. Acknowledgments, silences, the log and the history live in the store.
 *
 * Main data structures: the inbox (struct item list: deep copies made on the evaluator's
 * thread), the tracked alerts (struct tracked, each with its own arena), the groups (struct
 * group: member fingerprints and the next flush time), the notification log (struct nflog:
 * per group and target, the time and the fingerprints last notified) and the pending requests
 * (struct delivery, each with its own arena holding URL and body).
 *
 * The design decision: one lock guards everything, and everything that can take long is done
 * without it — the sink only copies into the inbox and signals; a round (the thread's, or
 * notifier_tick's in tests) takes the lock to apply the inbox, flush due groups and pick due
 * requests, drops it for the HTTP calls, and takes it again to record their outcomes. Every
 * decision takes "now" as an argument, so grouping times are testable without sleeping. The
 * dedup rule is Alertmanager's (a target is notified when an alert fires that it was not told
 * about, when alerts resolved that it was not told about and it wants resolved ones, when all
 * resolved, or when the repeat interval passed), and the log stores the fingerprint sets so
 * a restart does not notify again what was already said. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "alert/notify_int.h"
#include "journal/journal.h"
#include "store/store.h"
#include "tsdb/tsdb.h"

#define RESOLVED_RETENTION_MS (15 * 60000LL) /* as Prometheus keeps resolved alerts */
#define TARGET_MAX_ATTEMPTS   8              /* 1+2+...+128 s of backoff, then given up */
#define AM_MAX_ATTEMPTS       5
#define AM_BATCH              256
#define FAILURE_EVENT_GAP_MS  60000 /* at most one failure event per receiver a minute */
#define STOP_BUDGET_MS        5000  /* the last try of what is queued at shutdown */
#define IDLE_WAKE_MS          1000

/* ---- state ---- */

enum item_kind { ITEM_TRANSITION, ITEM_SEND };

/* What the sink queued: copies of the alerts in an arena of their own. */
struct item {
    enum item_kind kind;
    enum alert_state from;
    int64_t t;
    struct alert *v;
    size_t n;
    struct arena ar;
    struct item *next;
};

struct tracked {
    struct alert a; /* a copy; its strings live in ar */
    struct arena ar;
};

/* A route with what it inherited resolved, its Alertmanager key and its receiver. */
struct rnode {
    const struct notify_route *route;
    char *key; /* {}/{severity="critical"} */
    size_t receiver;
    const char *const *group_by;
    size_t ngroup_by;
    bool group_by_all;
    int64_t group_wait, group_interval, repeat_interval;
};

struct group {
    char *key; /* route key ":" group labels */
    const struct rnode *rn;
    struct labelset labels;
    struct arena ar; /* key and labels */
    uint64_t *fps;
    size_t nfps, cap;
    int64_t next_flush;
};

struct nflog {
    char *key; /* receiver "/" target index "/" group key */
    int64_t sent_at;
    uint64_t *firing, *resolved;
    size_t nfiring, nresolved;
};

struct ack {
    uint64_t fp;
    int64_t active_at, at;
    char *who, *comment;
};

struct silence {
    struct notify_silence s; /* strings and matchers in ar */
    struct tsdb_matcher *m;
    bool expiry_noted; /* the history has its expiry */
    struct arena ar;
};

/* A request to make: a group's notification to one target, a test notification, or a batch
 * forwarded to an Alertmanager. Strings in ar. */
struct delivery {
    const struct notify_target *target; /* NULL: to an Alertmanager */
    size_t receiver, am;
    const char *url, *secret, *body;
    size_t len;
    const char *key; /* the notification log's; NULL for tests and forwards */
    uint64_t *firing, *resolved;
    size_t nfiring, nresolved, nalerts;
    const char *status, *alertname, *labels_json;
    int attempts;
    int64_t next_try;
    int64_t timeout_ms;
    enum notify_outcome outcome; /* of the last try */
    char why[256];
    double seconds;
    struct arena ar;
    struct delivery *next;
};

/* Handles of one receiver's integration kind. */
struct kind_metrics {
    bw_counter *total, *failed[3]; /* failed by reason: clientError, serverError, other */
    bw_histogram *latency;
};

struct recv_state {
    int64_t last_attempt, last_success, last_event;
    char last_error[300];
    struct kind_metrics km[3]; /* by enum notify_kind */
};

struct am_state {
    int64_t last_event;
    bw_counter *sent, *errors, *dropped;
};

struct notifier {
    const struct notify_config *cfg;
    struct store *st;
    struct journal *j;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    bool started, stop;
    int64_t stop_deadline; /* mono ms bounding the last tries; 0 otherwise */

    struct item *inbox, **inbox_tail;
    size_t ninbox;
    struct tracked **alerts;
    size_t nalerts, cap_alerts;
    struct rnode *routes;
    size_t nroutes;
    struct group **groups;
    size_t ngroups, cap_groups;
    struct nflog *log;
    size_t nlog, cap_log;
    struct ack *acks;
    size_t nacks, cap_acks;
    struct silence **silences;
    size_t nsilences, cap_silences;
    struct delivery *pending;
    size_t npending;
    struct recv_state *recv;
    struct am_state *ams;
    uint64_t rng;

    bw_gauge *queue_len, *silences_active, *acknowledged;
};

static const char *const kind_names[] = {"webhook", "slack", "telegram"};

static int64_t real_ms(void)
{
    return clock_real_ns() / 1000000;
}

static int64_t mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

/* xorshift64*: jitter needs no more. */
static uint64_t next_random(struct notifier *n)
{
    n->rng ^= n->rng >> 12;
    n->rng ^= n->rng << 25;
    n->rng ^= n->rng >> 27;
    return n->rng * 0x2545F4914F6CDD1DULL;
}

/* Grows *v (an array of n elements of size bytes, *cap of them allocated) for one more. */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return BW_OK;
    size_t ncap = *cap ? *cap * 2 : 8;
    void *p = realloc(*v, ncap * size);
    if (!p)
        return BW_ENOMEM;
    *v = p;
    *cap = ncap;
    return BW_OK;
}

static void inc(bw_counter *c)
{
    if (c)
        bw_counter_inc(c);
}

static void gauge_set(bw_gauge *g, double v)
{
    if (g)
        bw_gauge_set(g, v);
}

/* ---- copies ---- */

static int copy_labels(struct arena *a, const struct labelset *src, struct labelset *dst)
{
    struct label *v = src->n ? arena_calloc(a, src->n, sizeof(*v)) : NULL;
    if (src->n && !v)
        return BW_ENOMEM;
    for (size_t i = 0; i < src->n; i++) {
        v[i].name = arena_strdup(a, src->v[i].name);
        v[i].value = arena_strdup(a, src->v[i].value);
        if (!v[i].name || !v[i].value)
            return BW_ENOMEM;
    }
    *dst = (struct labelset){v, src->n};
    return BW_OK;
}

static const char *dup_or_null(struct arena *a, const char *s, int *rc)
{
    const char *d = s ? arena_strdup(a, s) : NULL;
    if (s && !d)
        *rc = BW_ENOMEM;
    return d;
}

/* A deep copy of src into dst, its strings in a. */
static int alert_copy(struct arena *a, const struct alert *src, struct alert *dst)
{
    int rc = BW_OK;
    *dst = *src;
    if (copy_labels(a, &src->labels, &dst->labels) ||
        copy_labels(a, &src->annotations, &dst->annotations))
        return BW_ENOMEM;
    dst->group = dup_or_null(a, src->group, &rc);
    dst->rule = dup_or_null(a, src->rule, &rc);
    dst->generator_url = dup_or_null(a, src->generator_url, &rc);
    return rc;
}

/* ---- the sink (the evaluator's thread) ---- */

static void enqueue(struct notifier *n, enum item_kind kind, const struct alert *v, size_t cnt,
                    enum alert_state from, int64_t t)
{
    struct item *it = calloc(1, sizeof(*it));
    if (!it)
        goto fail;
    arena_init(&it->ar, 0);
    it->kind = kind;
    it->from = from;
    it->t = t;
    it->n = cnt;
    it->v = cnt ? arena_calloc(&it->ar, cnt, sizeof(*it->v)) : NULL;
    if (cnt && !it->v)
        goto fail;
    for (size_t i = 0; i < cnt; i++)
        if (alert_copy(&it->ar, &v[i], &it->v[i]))
            goto fail;
    pthread_mutex_lock(&n->mu);
    *n->inbox_tail = it;
    n->inbox_tail = &it->next;
    n->ninbox++;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    return;
fail:
    if (it)
        arena_fini(&it->ar);
    free(it);
    log_error("notify: out of memory: an alert report was lost");
}

static void sink_transition(void *ud, const struct alert *a, enum alert_state from, int64_t t)
{
    enqueue(ud, ITEM_TRANSITION, a, 1, from, t);
}

static void sink_send(void *ud, const struct alert *v, size_t cnt, int64_t t)
{
    if (cnt)
        enqueue(ud, ITEM_SEND, v, cnt, ALERT_INACTIVE, t);
}

struct alert_sink notifier_sink(struct notifier *n)
{
    return (struct alert_sink){.transition = sink_transition, .send = sink_send, .ud = n};
}

/* ---- tracked alerts, acks ---- */

static struct tracked *tracked_find(struct notifier *n, uint64_t fp, size_t *idx)
{
    for (size_t i = 0; i < n->nalerts; i++) {
        if (n->alerts[i]->a.fingerprint == fp) {
            if (idx)
                *idx = i;
            return n->alerts[i];
        }
    }
    return NULL;
}

/* Records a's latest report (a new entry or a fresh copy over the old). */
static struct tracked *tracked_put(struct notifier *n, const struct alert *a)
{
    struct tracked *t = tracked_find(n, a->fingerprint, NULL);
    if (!t) {
        if (grow((void **)&n->alerts, n->nalerts, &n->cap_alerts, sizeof(*n->alerts)))
            return NULL;
        t = calloc(1, sizeof(*t));
        if (!t)
            return NULL;
        arena_init(&t->ar, 0);
        n->alerts[n->nalerts++] = t;
    } else {
        arena_reset(&t->ar);
    }
    if (alert_copy(&t->ar, a, &t->a)) {
        /* Keep the entry consistent: a bare copy without strings. */
        t->a = (struct alert){.fingerprint = a->fingerprint, .state = a->state};
        return NULL;
    }
    return t;
}

static void tracked_remove(struct notifier *n, size_t i)
{
    arena_fini(&n->alerts[i]->ar);
    free(n->alerts[i]);
    n->alerts[i] = n->alerts[--n->nalerts];
}

static struct ack *ack_find(struct notifier *n, uint64_t fp)
{
    for (size_t i = 0; i < n->nacks; i++)
        if (n->acks[i].fp == fp)
            return &n->acks[i];
    return NULL;
}

static void ack_drop(struct notifier *n, struct ack *k)
{
    free(k->who);
    free(k->comment);
    *k = n->acks[--n->nacks];
}

static int ack_add(struct notifier *n, uint64_t fp, int64_t active_at, int64_t at, const char *who,
                   const char *comment)
{
    struct ack *k = ack_find(n, fp);
    if (!k) {
        if (grow((void **)&n->acks, n->nacks, &n->cap_acks, sizeof(*n->acks)))
            return BW_ENOMEM;
        k = &n->acks[n->nacks++];
        *k = (struct ack){.fp = fp};
    }
    free(k->who);
    free(k->comment);
    k->who = xstrdup(who);
    k->comment = xstrdup(comment);
    k->active_at = active_at;
    k->at = at;
    if (!k->who || !k->comment) {
        ack_drop(n, k);
        return BW_ENOMEM;
    }
    return BW_OK;
}

/* The ack of t while it is pending or firing, or NULL. An ack lasts until the alert goes
 * inactive, not for one activeAt: after a restart the evaluator restores activeAt only for
 * rules whose `for` exceeds the grace period, and the episode acknowledged is still the same. */
static const struct ack *ack_of(struct notifier *n, const struct tracked *t)
{
    const struct ack *k = ack_find(n, t->a.fingerprint);
    return k && t->a.state != ALERT_INACTIVE ? k : NULL;
}

/* ---- history and journal ---- */

static void history(struct notifier *n, const struct store_alert_history_row *r)
{
    if (store_alert_history_insert(n->st, r, NULL))
        log_error("notify: history: %s", store_last_error(n->st));
}

static void history_alert(struct notifier *n, const struct alert *a, int64_t at, const char *kind,
                          const char *from, const char *to, const char *who, const char *outcome)
{
    struct buf lj;
    buf_init(&lj, 0);
    if (notify_labels_json(&a->labels, &lj))
        buf_reset(&lj);
    history(n, &(struct store_alert_history_row){
                   .at = at,
                   .fingerprint = a->fingerprint,
                   .kind = kind,
                   .alertname = labelset_get(&a->labels, "alertname"),
                   .labels_json = lj.len ? lj.data : NULL,
                   .from = from,
                   .to = to,
                   .who = who,
                   .outcome = outcome,
               });
    buf_fini(&lj);
}

static enum severity alert_severity(const struct alert *a)
{
    const char *s = labelset_get(&a->labels, "severity");
    return !s                           ? SEV_INFO
           : strcmp(s, "critical") == 0 ? SEV_CRITICAL
           : strcmp(s, "warning") == 0  ? SEV_WARNING
                                        : SEV_INFO;
}

static void journal_transition(struct notifier *n, const struct alert *a, enum alert_state from,
                               int64_t t)
{
    const char *name = labelset_get(&a->labels, "alertname");
    const char *summary = labelset_get(&a->annotations, "summary");
    const char *to = a->state == ALERT_INACTIVE ? "resolved" : alert_state_name(a->state);
    char fp[17];
    struct buf msg, data, lj;
    if (!n->j)
        return;
    buf_init(&msg, 0);
    buf_init(&data, 0);
    buf_init(&lj, 0);
    alert_fingerprint_hex(a->fingerprint, fp);
    int rc = buf_printf(&msg, "%s %s%s%s", name ? name : "alert", to, summary ? ": " : "",
                        summary ? summary : "");
    if (rc == BW_OK)
        rc = notify_labels_json(&a->labels, &lj);
    if (rc == BW_OK)
        rc = buf_printf(&data,
                        "{\"fingerprint\":\"%s\",\"state\":\"%s\",\"from\":\"%s\","
                        "\"labels\":%s}",
                        fp, to, alert_state_name(from), lj.data);
    if (rc == BW_OK) {
        struct journal_event ev = {.ts_ms = t,
                                   .type = "alert",
                                   .severity = alert_severity(a),
                                   .message = msg.data,
                                   .data_json = data.data};
        if (journal_event(n->j, &ev) < 0)
            log_warn("notify: journal: event for %s lost", name ? name : fp);
    }
    buf_fini(&msg);
    buf_fini(&data);
    buf_fini(&lj);
}

/* A failure as a journal event, at most one per gap per receiver (*last). */
static void journal_failure(struct notifier *n, int64_t *last, int64_t now, const char *what,
                            const char *why)
{
    if (!n->j || (*last && now - *last < FAILURE_EVENT_GAP_MS))
        return;
    *last = now;
    struct buf msg;
    buf_init(&msg, 0);
    if (buf_printf(&msg, "%s failed: %s", what, why) == BW_OK) {
        struct journal_event ev = {
            .ts_ms = now, .type = "notification", .severity = SEV_ERROR, .message = msg.data};
        journal_event(n->j, &ev);
    }
    buf_fini(&msg);
}

/* ---- routes ---- */

static const char *const match_ops[] = {
    [TSDB_MATCH_EQ] = "=", [TSDB_MATCH_NE] = "!=", [TSDB_MATCH_RE] = "=~", [TSDB_MATCH_NRE] = "!~"};

/* Alertmanager's route key: the parent's, "/", then the matchers as {a="b",c=~"d"}. */
static int route_key(const char *parent, const struct notify_route *r, struct buf *b)
{
    int rc = parent ? buf_printf(b, "%s/{", parent) : buf_putc(b, '{');
    for (size_t i = 0; rc == BW_OK && i < r->nmatchers; i++) {
        rc = buf_printf(b, "%s%s%s", i ? "," : "", r->matchers[i].name,
                        match_ops[r->matchers[i].op]);
        if (rc == BW_OK)
            rc = buf_put_goquoted(b, r->matchers[i].value);
    }
    return rc ? rc : buf_putc(b, '}');
}

static size_t receiver_index(const struct notify_config *c, const char *name)
{
    for (size_t i = 0; name && i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

static int routes_count(const struct notify_route *r)
{
    int k = 1;
    for (size_t i = 0; i < r->nroutes; i++)
        k += routes_count(&r->routes[i]);
    return k;
}

/* Adds r and its children in preorder, resolving what they inherit from parent. */
static int routes_build(struct notifier *n, const struct notify_route *r,
                        const struct rnode *parent, struct diag *d)
{
    struct rnode *rn = &n->routes[n->nroutes++];
    struct buf key;
    buf_init(&key, 0);
    *rn = (struct rnode){.route = r};
    if (parent) {
        rn->receiver = parent->receiver;
        rn->group_by = parent->group_by;
        rn->ngroup_by = parent->ngroup_by;
        rn->group_by_all = parent->group_by_all;
        rn->group_wait = parent->group_wait;
        rn->group_interval = parent->group_interval;
        rn->repeat_interval = parent->repeat_interval;
    }
    if (r->receiver) {
        rn->receiver = receiver_index(n->cfg, r->receiver);
        if (rn->receiver == SIZE_MAX)
            return diag_set(d, BW_EINVAL, "route: unknown receiver %s", r->receiver);
    } else if (!parent) {
        rn->receiver = SIZE_MAX; /* no receivers: alerts are only forwarded */
    }
    if (r->ngroup_by || r->group_by_all || !parent) {
        rn->group_by = r->group_by;
        rn->ngroup_by = r->ngroup_by;
        rn->group_by_all = r->group_by_all;
    }
    rn->group_wait = r->group_wait_ms ? r->group_wait_ms : rn->group_wait;
    rn->group_interval = r->group_interval_ms ? r->group_interval_ms : rn->group_interval;
    rn->repeat_interval = r->repeat_interval_ms ? r->repeat_interval_ms : rn->repeat_interval;
    if (route_key(parent ? parent->key : NULL, r, &key) || !(rn->key = xstrdup(key.data))) {
        buf_fini(&key);
        return diag_set(d, BW_ENOMEM, "route: out of memory");
    }
    buf_fini(&key);
    const struct rnode *self = rn;
    for (size_t i = 0; i < r->nroutes; i++) {
        int rc = routes_build(n, &r->routes[i], self, d);
        if (rc)
            return rc;
    }
    return BW_OK;
}

static const struct rnode *rnode_of(struct notifier *n, const struct notify_route *r)
{
    for (size_t i = 0; i < n->nroutes; i++)
        if (n->routes[i].route == r)
            return &n->routes[i];
    return NULL;
}

static bool matchers_match(const struct tsdb_matcher *m, size_t nm, const struct labelset *ls)
{
    for (size_t i = 0; i < nm; i++) {
        const char *v = labelset_get(ls, m[i].name);
        if (!tsdb_matcher_matches(&m[i], v ? v : ""))
            return false;
    }
    return true;
}

/* Alertmanager's Route.Match: the deepest matching routes, the first child that matches
 * ending the walk unless it continues. Appends to out (cap entries); returns how many. */
static size_t route_match(struct notifier *n, const struct notify_route *r,
                          const struct labelset *ls, const struct rnode **out, size_t cap)
{
    if (!matchers_match(r->matchers, r->nmatchers, ls))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < r->nroutes && k < cap; i++) {
        size_t got = route_match(n, &r->routes[i], ls, out + k, cap - k);
        k += got;
        if (got && !r->routes[i].cont)
            break;
    }
    if (k == 0 && cap > 0)
        out[k++] = rnode_of(n, r);
    return k;
}

/* ---- silences ---- */

static bool silence_active(const struct silence *s, int64_t now)
{
    return s->s.starts_at <= now && now < s->s.ends_at;
}

static const char *silence_state(const struct notify_silence *s, int64_t now)
{
    return now < s->starts_at ? "pending" : now < s->ends_at ? "active" : "expired";
}

static enum tsdb_match_op matcher_op(const struct notify_matcher *m)
{
    return m->is_regex ? (m->is_equal ? TSDB_MATCH_RE : TSDB_MATCH_NRE)
                       : (m->is_equal ? TSDB_MATCH_EQ : TSDB_MATCH_NE);
}

/* The id of the first active silence muting ls, or NULL. */
static const char *silenced_by(struct notifier *n, const struct labelset *ls, int64_t now)
{
    for (size_t i = 0; i < n->nsilences; i++) {
        struct silence *s = n->silences[i];
        if (silence_active(s, now) && matchers_match(s->m, s->s.nmatchers, ls))
            return s->s.id;
    }
    return NULL;
}

static void silence_free(struct silence *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->m && i < s->s.nmatchers; i++)
        tsdb_matcher_fini(&s->m[i]);
    arena_fini(&s->ar);
    free(s);
}

/* A silence built from src (copied, matchers compiled). BW_EINVAL with d for a bad one. */
static int silence_new(const struct notify_silence *src, struct silence **out, struct diag *d)
{
    int rc = BW_ENOMEM;
    struct silence *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s)
        return diag_set(d, BW_ENOMEM, "out of memory");
    arena_init(&s->ar, 0);
    s->s = *src;
    s->s.created_by = arena_strdup(&s->ar, src->created_by ? src->created_by : "");
    s->s.comment = arena_strdup(&s->ar, src->comment ? src->comment : "");
    s->s.matchers = arena_calloc(&s->ar, src->nmatchers, sizeof(*s->s.matchers));
    s->m = arena_calloc(&s->ar, src->nmatchers, sizeof(*s->m));
    if (!s->s.created_by || !s->s.comment || !s->s.matchers || !s->m)
        goto fail;
    s->s.nmatchers = 0;
    for (size_t i = 0; i < src->nmatchers; i++) {
        const struct notify_matcher *m = &src->matchers[i];
        if (!m->name || !*m->name || !m->value) {
            rc = diag_set(d, BW_EINVAL, "matcher %zu: a name and a value are required", i + 1);
            goto fail;
        }
        struct notify_matcher *c = &s->s.matchers[i];
        *c = *m;
        c->name = arena_strdup(&s->ar, m->name);
        c->value = arena_strdup(&s->ar, m->value);
        if (!c->name || !c->value)
            goto fail;
        rc = tsdb_matcher_init(&s->m[i], matcher_op(m), m->name, m->value, d);
        if (rc)
            goto fail;
        s->s.nmatchers++;
    }
    *out = s;
    return BW_OK;
fail:
    if (rc == BW_ENOMEM)
        diag_set(d, rc, "out of memory");
    silence_free(s);
    return rc;
}

static int matchers_json(const struct notify_silence *s, struct buf *out)
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < s->nmatchers; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = cJSON_AddStringToObject(o, "name", s->matchers[i].name) &&
             cJSON_AddStringToObject(o, "value", s->matchers[i].value) &&
             cJSON_AddBoolToObject(o, "isRegex", s->matchers[i].is_regex) &&
             cJSON_AddBoolToObject(o, "isEqual", s->matchers[i].is_equal);
    }
    char *text = ok ? cJSON_PrintUnformatted(arr) : NULL;
    int rc = text ? buf_puts(out, text) : BW_ENOMEM;
    cJSON_free(text);
    cJSON_Delete(arr);
    return rc;
}

static int silence_store(struct notifier *n, const struct notify_silence *s)
{
    struct buf mj;
    buf_init(&mj, 0);
    int rc = matchers_json(s, &mj);
    if (rc == BW_OK)
        rc = store_alert_silence_put(n->st, &(struct store_alert_silence_row){
                                                .id = s->id,
                                                .matchers_json = mj.data,
                                                .created_by = s->created_by,
                                                .comment = s->comment,
                                                .starts_at = s->starts_at,
                                                .ends_at = s->ends_at,
                                                .updated_at = s->updated_at,
                                            });
    if (rc && rc != BW_ENOMEM)
        log_error("notify: silence %s: %s", s->id, store_last_error(n->st));
    buf_fini(&mj);
    return rc;
}

static void history_silence(struct notifier *n, const struct silence *s, int64_t at,
                            const char *what, const char *who)
{
    struct buf mj, outcome;
    buf_init(&mj, 0);
    buf_init(&outcome, 0);
    if (matchers_json(&s->s, &mj) == BW_OK && buf_printf(&outcome, "%s %s", what, s->s.id) == 0)
        history(n, &(struct store_alert_history_row){.at = at,
                                                     .kind = "silence",
                                                     .labels_json = mj.data,
                                                     .to = silence_state(&s->s, at),
                                                     .outcome = outcome.data,
                                                     .who = who});
    buf_fini(&mj);
    buf_fini(&outcome);
}

static int uuid_v4(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t k = getrandom(b + got, sizeof(b) - got, 0);
        if (k < 0 && errno != EINTR)
            return BW_EIO;
        if (k > 0)
            got += (size_t)k;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return BW_OK;
}

static struct silence *silence_find(struct notifier *n, const char *id, size_t *idx)
{
    for (size_t i = 0; id && i < n->nsilences; i++) {
        if (strcmp(n->silences[i]->s.id, id) == 0) {
            if (idx)
                *idx = i;
            return n->silences[i];
        }
    }
    return NULL;
}

int notifier_silence_put(struct notifier *n, struct notify_silence *s, int64_t now_ms,
                         struct diag *d)
{
    struct silence *ns = NULL;
    size_t idx = 0;
    int rc;
    if (s->nmatchers == 0)
        return diag_set(d, BW_EINVAL, "a silence needs at least one matcher");
    if (s->ends_at <= s->starts_at)
        return diag_set(d, BW_EINVAL, "a silence must end after it starts");
    if (s->ends_at <= now_ms)
        return diag_set(d, BW_EINVAL, "a silence cannot end in the past");
    rc = silence_new(s, &ns, d);
    if (rc)
        return rc;
    pthread_mutex_lock(&n->mu);
    struct silence *old = s->id[0] ? silence_find(n, s->id, &idx) : NULL;
    if (s->id[0] && !old) {
        rc = diag_set(d, BW_ENOENT, "silence %s not found", s->id);
        goto out;
    }
    if (old) {
        snprintf(ns->s.id, sizeof(ns->s.id), "%s", old->s.id);
    } else if ((rc = uuid_v4(ns->s.id)) != BW_OK) {
        diag_set(d, rc, "no randomness for a silence id");
        goto out;
    }
    ns->s.updated_at = now_ms;
    rc = grow((void **)&n->silences, n->nsilences, &n->cap_silences, sizeof(*n->silences));
    if (rc == BW_OK)
        rc = silence_store(n, &ns->s);
    if (rc) {
        diag_set(d, rc, "cannot store the silence: %s", store_last_error(n->st));
        goto out;
    }
    if (old) {
        silence_free(old);
        n->silences[idx] = ns;
    } else {
        n->silences[n->nsilences++] = ns;
    }
    history_silence(n, ns, now_ms, old ? "updated" : "created", ns->s.created_by);
    snprintf(s->id, sizeof(s->id), "%s", ns->s.id);
    ns = NULL;
    pthread_cond_signal(&n->cv);
out:
    pthread_mutex_unlock(&n->mu);
    silence_free(ns);
    return rc;
}

int notifier_silence_expire(struct notifier *n, const char *id, const char *who, int64_t now_ms)
{
    int rc = BW_ENOENT;
    pthread_mutex_lock(&n->mu);
    struct silence *s = silence_find(n, id, NULL);
    if (s && s->s.ends_at > now_ms) {
        s->s.ends_at = now_ms;
        if (s->s.starts_at > now_ms)
            s->s.starts_at = now_ms;
        s->s.updated_at = now_ms;
        s->expiry_noted = true;
        rc = silence_store(n, &s->s);
        history_silence(n, s, now_ms, "expired", who);
        pthread_cond_signal(&n->cv);
    } else if (s) {
        rc = BW_OK; /* already over */
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

/* Silences that ran out on their own get their history row once. */
static void silences_note_expiry(struct notifier *n, int64_t now)
{
    for (size_t i = 0; i < n->nsilences; i++) {
        struct silence *s = n->silences[i];
        if (!s->expiry_noted && s->s.ends_at <= now) {
            s->expiry_noted = true;
            history_silence(n, s, now, "expired", NULL);
        }
    }
}

/* ---- the inbox ---- */

/* Puts an alert that fires or resolved into the groups its routes lead to. */
static void route_alert(struct notifier *n, const struct alert *a, int64_t now)
{
    const struct rnode *hits[32];
    size_t nh = route_match(n, &n->cfg->route, &a->labels, hits, BW_ARRAY_LEN(hits));
    struct buf key;
    buf_init(&key, 0);
    for (size_t h = 0; h < nh; h++) {
        const struct rnode *rn = hits[h];
        if (rn->receiver == SIZE_MAX)
            continue;
        struct label gl[64];
        size_t ngl = 0;
        for (size_t i = 0; i < a->labels.n && ngl < BW_ARRAY_LEN(gl); i++) {
            bool take = rn->group_by_all;
            for (size_t k = 0; !take && k < rn->ngroup_by; k++)
                take = strcmp(rn->group_by[k], a->labels.v[i].name) == 0;
            if (take)
                gl[ngl++] = a->labels.v[i];
        }
        struct labelset ls = {gl, ngl};
        buf_reset(&key);
        if (buf_printf(&key, "%s:", rn->key) || labelset_format(&ls, &key))
            goto oom;
        struct group *g = NULL;
        for (size_t i = 0; !g && i < n->ngroups; i++)
            if (strcmp(n->groups[i]->key, key.data) == 0)
                g = n->groups[i];
        if (!g) {
            if (grow((void **)&n->groups, n->ngroups, &n->cap_groups, sizeof(*n->groups)))
                goto oom;
            g = calloc(1, sizeof(*g));
            if (!g)
                goto oom;
            arena_init(&g->ar, 0);
            g->rn = rn;
            g->key = arena_strdup(&g->ar, key.data);
            g->next_flush = now + rn->group_wait;
            if (!g->key || copy_labels(&g->ar, &ls, &g->labels)) {
                arena_fini(&g->ar);
                free(g);
                goto oom;
            }
            n->groups[n->ngroups++] = g;
        }
        bool member = false;
        for (size_t i = 0; !member && i < g->nfps; i++)
            member = g->fps[i] == a->fingerprint;
        if (!member) {
            if (grow((void **)&g->fps, g->nfps, &g->cap, sizeof(*g->fps)))
                goto oom;
            g->fps[g->nfps++] = a->fingerprint;
        }
    }
    buf_fini(&key);
    return;
oom:
    buf_fini(&key);
    log_error("notify: out of memory routing an alert");
}

static void forget_ack(struct notifier *n, const struct alert *a, int64_t at, const char *why)
{
    struct ack *k = ack_find(n, a->fingerprint);
    if (!k)
        return;
    if (store_alert_ack_delete(n->st, a->fingerprint) && store_last_error(n->st)[0])
        log_error("notify: ack: %s", store_last_error(n->st));
    history_alert(n, a, at, "unack", NULL, NULL, "breakwatch", why);
    ack_drop(n, k);
}

static void apply_transition(struct notifier *n, const struct alert *a, enum alert_state from,
                             int64_t t, int64_t now)
{
    const char *to = a->state == ALERT_INACTIVE ? "resolved" : alert_state_name(a->state);
    history_alert(n, a, t, "transition", alert_state_name(from), to, NULL, NULL);
    journal_transition(n, a, from, t);
    const struct ack *k = ack_find(n, a->fingerprint);
    if (a->state == ALERT_INACTIVE && k)
        forget_ack(n, a, t, from == ALERT_PENDING ? "went away" : "resolved");
    if (a->state == ALERT_INACTIVE && from == ALERT_PENDING) {
        size_t i;
        if (tracked_find(n, a->fingerprint, &i))
            tracked_remove(n, i);
        return;
    }
    if (!tracked_put(n, a)) {
        log_error("notify: out of memory keeping an alert");
        return;
    }
    if (a->state != ALERT_PENDING)
        route_alert(n, a, now);
}

/* Queues batches of at most AM_BATCH alerts to every Alertmanager. */
static void forward(struct notifier *n, const struct alert *v, size_t cnt, int64_t now);

static void apply_send(struct notifier *n, const struct alert *v, size_t cnt, int64_t now)
{
    for (size_t i = 0; i < cnt; i++) {
        struct tracked *t = tracked_find(n, v[i].fingerprint, NULL);
        /* A report of an episode already over (resolved, then pending again) changes nothing. */
        if (t && t->a.state == ALERT_PENDING && v[i].state == ALERT_INACTIVE)
            continue;
        if (!tracked_put(n, &v[i]))
            log_error("notify: out of memory keeping an alert");
        else if (v[i].state != ALERT_PENDING)
            route_alert(n, &v[i], now);
    }
    forward(n, v, cnt, now);
}

static void drain(struct notifier *n, int64_t now)
{
    struct item *it = n->inbox;
    n->inbox = NULL;
    n->inbox_tail = &n->inbox;
    n->ninbox = 0;
    while (it) {
        struct item *next = it->next;
        if (it->kind == ITEM_TRANSITION)
            apply_transition(n, &it->v[0], it->from, it->t, now);
        else
            apply_send(n, it->v, it->n, now);
        arena_fini(&it->ar);
        free(it);
        it = next;
    }
}

/* ---- deliveries ---- */

static void delivery_free(struct delivery *d)
{
    if (!d)
        return;
    arena_fini(&d->ar);
    free(d);
}

static struct delivery *delivery_new(void)
{
    struct delivery *d = calloc(1, sizeof(*d));
    if (d)
        arena_init(&d->ar, 0);
    return d;
}

/* Adds d to the pending list; a pending one with the same log key is superseded by it. */
static void delivery_queue(struct notifier *n, struct delivery *d)
{
    for (struct delivery **p = &n->pending; d->key && *p; p = &(*p)->next) {
        if ((*p)->key && strcmp((*p)->key, d->key) == 0) {
            struct delivery *old = *p;
            *p = old->next;
            delivery_free(old);
            n->npending--;
            break;
        }
    }
    d->next = n->pending;
    n->pending = d;
    n->npending++;
}

static void forward(struct notifier *n, const struct alert *v, size_t cnt, int64_t now)
{
    const struct notify_config *c = n->cfg;
    struct buf body;
    buf_init(&body, 0);
    for (size_t off = 0; off < cnt; off += AM_BATCH) {
        size_t k = cnt - off < AM_BATCH ? cnt - off : AM_BATCH;
        buf_reset(&body);
        if (notify_body_am(v + off, k, c->external_labels, c->nexternal_labels, &body))
            goto oom;
        for (size_t a = 0; a < c->nalertmanagers; a++) {
            struct delivery *d = delivery_new();
            struct buf url;
            buf_init(&url, 0);
            const char *base = c->alertmanagers[a].url;
            size_t bl = strlen(base);
            int rc = d ? buf_printf(&url, "%.*s/api/v2/alerts",
                                    (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base)
                       : BW_ENOMEM;
            if (rc == BW_OK) {
                d->am = a;
                d->url = arena_strdup(&d->ar, url.data);
                d->body = arena_strndup(&d->ar, body.data, body.len);
                d->len = body.len;
                d->nalerts = k;
                d->next_try = now;
                d->timeout_ms = c->alertmanagers[a].timeout_ms;
            }
            buf_fini(&url);
            if (rc || !d->url || !d->body) {
                delivery_free(d);
                goto oom;
            }
            delivery_queue(n, d);
        }
    }
    buf_fini(&body);
    return;
oom:
    buf_fini(&body);
    log_error("notify: out of memory forwarding alerts to Alertmanager");
}

/* The URL of a target's requests: Telegram's carries the token. */
static int target_url(const struct notify_target *t, struct buf *out)
{
    if (t->kind != NOTIFY_TELEGRAM)
        return buf_puts(out, t->url);
    const char *base = t->url ? t->url : "https://api.telegram.org";
    size_t bl = strlen(base);
    return buf_printf(out, "%.*s/bot%s/sendMessage", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl),
                      base, t->bot_token ? t->bot_token : "");
}

static int target_body(const struct notify_target *t, const struct notify_msg *m, struct buf *out)
{
    switch (t->kind) {
    case NOTIFY_SLACK:
        return notify_body_slack(m, t->channel, out);
    case NOTIFY_TELEGRAM:
        return notify_body_telegram(m, t->chat_id, out);
    case NOTIFY_WEBHOOK:
        break;
    }
    return notify_body_webhook(m, t->max_alerts, out);
}

static uint64_t *copy_fps(struct arena *a, const uint64_t *v, size_t k)
{
    uint64_t *c = arena_alloc(a, (k ? k : 1) * sizeof(*c));
    if (c && k)
        memcpy(c, v, k * sizeof(*c));
    return c;
}

/* A request of message m to target ti of receiver ri. key: the log's (NULL: a test). */
static struct delivery *target_delivery(struct notifier *n, size_t ri, size_t ti,
                                        const struct notify_msg *m, const char *key,
                                        const uint64_t *firing, size_t nf, const uint64_t *resolved,
                                        size_t nr, int64_t now)
{
    const struct notify_target *t = &n->cfg->receivers[ri].targets[ti];
    struct delivery *d = delivery_new();
    struct buf url, body, lj;
    int rc = d ? BW_OK : BW_ENOMEM;
    buf_init(&url, 0);
    buf_init(&body, 0);
    buf_init(&lj, 0);
    if (rc == BW_OK)
        rc = target_url(t, &url);
    if (rc == BW_OK)
        rc = target_body(t, m, &body);
    if (rc == BW_OK)
        rc = notify_labels_json(&m->group_labels, &lj);
    if (rc)
        goto fail;
    const char *name = labelset_get(&m->group_labels, "alertname");
    if (!name && m->n)
        name = labelset_get(&m->alerts[0]->labels, "alertname");
    size_t firing_n = 0;
    for (size_t i = 0; i < m->n; i++)
        firing_n += m->alerts[i]->state != ALERT_INACTIVE;
    d->target = t;
    d->receiver = ri;
    d->url = arena_strdup(&d->ar, url.data);
    d->secret = t->kind == NOTIFY_TELEGRAM ? t->bot_token : NULL;
    d->body = arena_strndup(&d->ar, body.data, body.len);
    d->len = body.len;
    d->key = key ? arena_strdup(&d->ar, key) : NULL;
    d->firing = copy_fps(&d->ar, firing, nf);
    d->resolved = copy_fps(&d->ar, resolved, nr);
    d->nfiring = nf;
    d->nresolved = nr;
    d->nalerts = m->n;
    d->status = firing_n ? "firing" : "resolved";
    d->alertname = name ? arena_strdup(&d->ar, name) : NULL;
    d->labels_json = arena_strdup(&d->ar, lj.data);
    d->next_try = now;
    d->timeout_ms = t->timeout_ms;
    if (!d->url || !d->body || (key && !d->key) || !d->firing || !d->resolved ||
        (name && !d->alertname) || !d->labels_json)
        goto fail;
    buf_fini(&url);
    buf_fini(&body);
    buf_fini(&lj);
    return d;
fail:
    buf_fini(&url);
    buf_fini(&body);
    buf_fini(&lj);
    delivery_free(d);
    log_error("notify: out of memory building a notification");
    return NULL;
}

/* ---- the notification log ---- */

static struct nflog *nflog_find(struct notifier *n, const char *key)
{
    for (size_t i = 0; i < n->nlog; i++)
        if (strcmp(n->log[i].key, key) == 0)
            return &n->log[i];
    return NULL;
}

static void nflog_clear(struct nflog *e)
{
    free(e->key);
    free(e->firing);
    free(e->resolved);
}

static uint64_t *fps_dup(const uint64_t *v, size_t k)
{
    uint64_t *c = malloc((k ? k : 1) * sizeof(*c));
    if (c && k)
        memcpy(c, v, k * sizeof(*c));
    return c;
}

/* Sets the entry of key in memory. */
static int nflog_set(struct notifier *n, const char *key, int64_t at, const uint64_t *f, size_t nf,
                     const uint64_t *r, size_t nr)
{
    struct nflog e = {.key = xstrdup(key), .sent_at = at, .nfiring = nf, .nresolved = nr};
    e.firing = fps_dup(f, nf);
    e.resolved = fps_dup(r, nr);
    struct nflog *old = nflog_find(n, key);
    if (!e.key || !e.firing || !e.resolved ||
        (!old && grow((void **)&n->log, n->nlog, &n->cap_log, sizeof(*n->log)))) {
        nflog_clear(&e);
        return BW_ENOMEM;
    }
    if (old) {
        nflog_clear(old);
        *old = e;
    } else {
        n->log[n->nlog++] = e;
    }
    return BW_OK;
}

static int fps_text(const uint64_t *v, size_t k, struct buf *out)
{
    int rc = buf_puts(out, "");
    for (size_t i = 0; rc == BW_OK && i < k; i++)
        rc = buf_printf(out, "%s%016llx", i ? "," : "", (unsigned long long)v[i]);
    return rc;
}

/* Parses fps_text's form into a malloc'd array. */
static int fps_parse(const char *s, uint64_t **out, size_t *nout)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    uint64_t *v = malloc(cap * sizeof(*v));
    size_t k = 0;
    if (!v)
        return BW_ENOMEM;
    while (s && *s) {
        char *end;
        v[k++] = strtoull(s, &end, 16);
        s = *end == ',' ? end + 1 : end;
        if (end == s && *s)
            break;
    }
    *out = v;
    *nout = k;
    return BW_OK;
}

/* Records a notification in memory and in the store. */
static void nflog_log(struct notifier *n, const char *key, int64_t at, const uint64_t *f, size_t nf,
                      const uint64_t *r, size_t nr)
{
    struct buf ft, rt;
    buf_init(&ft, 0);
    buf_init(&rt, 0);
    int rc = nflog_set(n, key, at, f, nf, r, nr);
    if (rc == BW_OK)
        rc = fps_text(f, nf, &ft);
    if (rc == BW_OK)
        rc = fps_text(r, nr, &rt);
    if (rc == BW_OK)
        rc = store_alert_nflog_put(n->st, &(struct store_alert_nflog_row){
                                              .key = key,
                                              .sent_at = at,
                                              .firing = ft.data,
                                              .resolved = rt.data,
                                          });
    if (rc)
        log_error("notify: notification log: %s",
                  rc == BW_ENOMEM ? "out of memory" : store_last_error(n->st));
    buf_fini(&ft);
    buf_fini(&rt);
}

static bool fps_has(const uint64_t *v, size_t k, uint64_t fp)
{
    for (size_t i = 0; i < k; i++)
        if (v[i] == fp)
            return true;
    return false;
}

static bool fps_subset(const uint64_t *sub, size_t ns, const uint64_t *of, size_t no)
{
    for (size_t i = 0; i < ns; i++)
        if (!fps_has(of, no, sub[i]))
            return false;
    return true;
}

/* Alertmanager's DedupStage.needsUpdate. */
static bool needs_update(const struct nflog *e, const uint64_t *f, size_t nf, const uint64_t *r,
                         size_t nr, bool send_resolved, int64_t repeat, int64_t now)
{
    if (!e)
        return nf > 0;
    if (!fps_subset(f, nf, e->firing, e->nfiring))
        return true;
    if (nf == 0)
        return e->nfiring > 0;
    if (send_resolved && !fps_subset(r, nr, e->resolved, e->nresolved))
        return true;
    return e->sent_at + repeat <= now;
}

/* ---- grouping ---- */

static int by_labels(const void *a, const void *b)
{
    const struct alert *x = *(const struct alert *const *)a, *y = *(const struct alert *const *)b;
    return labelset_compare(&x->labels, &y->labels);
}

static void group_free(struct group *g)
{
    arena_fini(&g->ar);
    free(g->fps);
    free(g);
}

/* Flushes g at now: decides per target whether to notify and queues the requests; resolved
 * alerts leave the group. */
static void group_flush(struct notifier *n, struct group *g, int64_t now)
{
    const struct rnode *rn = g->rn;
    const struct notify_receiver *rc = &n->cfg->receivers[rn->receiver];
    const struct alert **all = calloc(g->nfps ? g->nfps : 1, sizeof(*all));
    const struct alert **firing_only = calloc(g->nfps ? g->nfps : 1, sizeof(*firing_only));
    uint64_t *f = calloc(g->nfps ? g->nfps : 1, sizeof(*f));
    uint64_t *r = calloc(g->nfps ? g->nfps : 1, sizeof(*r));
    size_t nall = 0, nf = 0, nr = 0, kept = 0;
    struct buf key;
    buf_init(&key, 0);
    if (!all || !firing_only || !f || !r)
        goto out;
    for (size_t i = 0; i < g->nfps; i++) {
        struct tracked *t = tracked_find(n, g->fps[i], NULL);
        if (!t || t->a.state == ALERT_PENDING)
            continue; /* forgotten, or pending again */
        bool res = t->a.state == ALERT_INACTIVE;
        if (!res)
            g->fps[kept++] = g->fps[i];
        if (silenced_by(n, &t->a.labels, now))
            continue;
        all[nall++] = &t->a;
    }
    g->nfps = kept;
    qsort(all, nall, sizeof(*all), by_labels);
    size_t nfo = 0;
    for (size_t i = 0; i < nall; i++) {
        if (all[i]->state == ALERT_INACTIVE) {
            r[nr++] = all[i]->fingerprint;
        } else {
            f[nf++] = all[i]->fingerprint;
            firing_only[nfo++] = all[i];
        }
    }
    for (size_t ti = 0; ti < rc->ntargets; ti++) {
        const struct notify_target *t = &rc->targets[ti];
        buf_reset(&key);
        if (buf_printf(&key, "%s/%zu/%s", rc->name, ti, g->key))
            goto out;
        if (!needs_update(nflog_find(n, key.data), f, nf, r, nr, t->send_resolved,
                          rn->repeat_interval, now))
            continue;
        struct notify_msg m = {
            .receiver = rc->name,
            .group_key = g->key,
            .external_url = n->cfg->external_url,
            .group_labels = g->labels,
            .alerts = t->send_resolved ? all : firing_only,
            .n = t->send_resolved ? nall : nfo,
        };
        if (m.n == 0) {
            /* Nothing to say to this target, but the log learns that all resolved. */
            nflog_log(n, key.data, now, f, nf, r, nr);
            continue;
        }
        struct delivery *d = target_delivery(n, rn->receiver, ti, &m, key.data, f, nf, r, nr, now);
        if (d)
            delivery_queue(n, d);
    }
out:
    g->next_flush = now + rn->group_interval;
    free(all);
    free(firing_only);
    free(f);
    free(r);
    buf_fini(&key);
}

static void groups_flush(struct notifier *n, int64_t now)
{
    for (size_t i = 0; i < n->ngroups;) {
        struct group *g = n->groups[i];
        if (g->next_flush <= now)
            group_flush(n, g, now);
        if (g->nfps == 0) {
            group_free(g);
            n->groups[i] = n->groups[--n->ngroups];
        } else {
            i++;
        }
    }
}

/* Resolved alerts past retention, when no group holds them any more. */
static void alerts_gc(struct notifier *n, int64_t now)
{
    for (size_t i = 0; i < n->nalerts;) {
        const struct alert *a = &n->alerts[i]->a;
        if (a->state == ALERT_INACTIVE && a->resolved_at + RESOLVED_RETENTION_MS <= now)
            tracked_remove(n, i);
        else
            i++;
    }
}

/* ---- a round ---- */

static void update_gauges(struct notifier *n, int64_t now)
{
    size_t active = 0, acked = 0;
    for (size_t i = 0; i < n->nsilences; i++)
        active += silence_active(n->silences[i], now);
    for (size_t i = 0; i < n->nalerts; i++)
        acked += ack_of(n, n->alerts[i]) != NULL;
    gauge_set(n->silences_active, (double)active);
    gauge_set(n->acknowledged, (double)acked);
    gauge_set(n->queue_len, (double)(n->npending + n->ninbox));
}

static const char *failure_reason(const char *why)
{
    if (strncmp(why, "HTTP 5", 6) == 0)
        return "serverError";
    if (strncmp(why, "HTTP 4", 6) == 0)
        return "clientError";
    return "other";
}

static size_t reason_index(const char *why)
{
    const char *r = failure_reason(why);
    return strcmp(r, "clientError") == 0 ? 0 : strcmp(r, "serverError") == 0 ? 1 : 2;
}

/* What a target request's outcome does: metrics, history, the log, a retry. Returns true when
 * d is done with (to be freed). */
static bool target_outcome(struct notifier *n, struct delivery *d, int64_t now)
{
    struct recv_state *rs = &n->recv[d->receiver];
    const struct notify_receiver *rc = &n->cfg->receivers[d->receiver];
    struct kind_metrics *km = &rs->km[d->target->kind];
    const char *kind = kind_names[d->target->kind];
    bool done = d->outcome != NOTIFY_RETRY || d->attempts >= TARGET_MAX_ATTEMPTS ||
                (n->stop_deadline && n->stop);
    struct buf outcome;
    buf_init(&outcome, 0);
    inc(km->total);
    if (km->latency)
        bw_histogram_observe(km->latency, d->seconds);
    rs->last_attempt = now;
    if (d->outcome == NOTIFY_SENT) {
        rs->last_success = now;
        rs->last_error[0] = '\0';
        buf_puts(&outcome, "sent");
        /* Logged when delivered, as Alertmanager's log is: repeat_interval counts from here. */
        if (d->key)
            nflog_log(n, d->key, now, d->firing, d->nfiring, d->resolved, d->nresolved);
    } else {
        inc(km->failed[reason_index(d->why)]);
        snprintf(rs->last_error, sizeof(rs->last_error), "%s: %s", kind, d->why);
        buf_printf(&outcome, "%s: %s: %s", done ? "failed" : "retrying", kind, d->why);
        if (done) {
            char what[300];
            snprintf(what, sizeof(what), "notification to %s (%s)", rc->name, kind);
            journal_failure(n, &rs->last_event, now, what, d->why);
        }
    }
    history(n, &(struct store_alert_history_row){
                   .at = now,
                   .kind = "notification",
                   .alertname = d->alertname,
                   .labels_json = d->labels_json,
                   .to = d->status,
                   .receiver = rc->name,
                   .outcome = outcome.len ? outcome.data : "failed",
               });
    buf_fini(&outcome);
    return done;
}

static bool am_outcome(struct notifier *n, struct delivery *d, int64_t now)
{
    struct am_state *as = &n->ams[d->am];
    bool done = d->outcome != NOTIFY_RETRY || d->attempts >= AM_MAX_ATTEMPTS ||
                (n->stop_deadline && n->stop);
    if (d->outcome == NOTIFY_SENT) {
        if (as->sent)
            bw_counter_add(as->sent, (double)d->nalerts);
        return true;
    }
    inc(as->errors);
    if (done) {
        if (as->dropped)
            bw_counter_add(as->dropped, (double)d->nalerts);
        char what[600];
        snprintf(what, sizeof(what), "sending %zu alerts to Alertmanager %s", d->nalerts,
                 n->cfg->alertmanagers[d->am].url);
        journal_failure(n, &as->last_event, now, what, d->why);
    }
    return done;
}

/* Tries the requests in list (taken off pending) without the lock. */
static void perform(struct notifier *n, struct delivery *list)
{
    for (struct delivery *d = list; d; d = d->next) {
        int64_t timeout = d->timeout_ms > 0 ? d->timeout_ms : 10000;
        if (n->stop_deadline) {
            int64_t left = n->stop_deadline - mono_ms();
            if (left <= 0) {
                d->outcome = NOTIFY_FAILED;
                snprintf(d->why, sizeof(d->why), "not sent before shutdown");
                continue;
            }
            if (left < timeout)
                timeout = left;
        }
        int64_t t0 = clock_mono_ns();
        d->attempts++;
        d->outcome =
            notify_http_post(d->url, d->body, d->len, timeout, d->secret, d->why, sizeof(d->why));
        d->seconds = (double)(clock_mono_ns() - t0) / 1e9;
    }
}

/* One round at now: the inbox, silences, due groups, due requests. */
static void run_round(struct notifier *n, int64_t now)
{
    struct delivery *due = NULL;
    pthread_mutex_lock(&n->mu);
    drain(n, now);
    silences_note_expiry(n, now);
    groups_flush(n, now);
    alerts_gc(n, now);
    for (struct delivery **p = &n->pending; *p;) {
        struct delivery *d = *p;
        if (d->next_try <= now || n->stop_deadline) {
            *p = d->next;
            n->npending--;
            d->next = due;
            due = d;
        } else {
            p = &d->next;
        }
    }
    update_gauges(n, now);
    pthread_mutex_unlock(&n->mu);

    perform(n, due);

    pthread_mutex_lock(&n->mu);
    int64_t after = n->started ? real_ms() : now;
    while (due) {
        struct delivery *d = due;
        due = d->next;
        bool done = d->target ? target_outcome(n, d, after) : am_outcome(n, d, after);
        if (done) {
            delivery_free(d);
            continue;
        }
        d->next_try = after + notify_backoff_ms(d->attempts, next_random(n));
        /* A newer notification of the same group and target supersedes this retry. */
        bool superseded = false;
        for (struct delivery *p = n->pending; d->key && p && !superseded; p = p->next)
            superseded = p->key && strcmp(p->key, d->key) == 0;
        if (superseded) {
            delivery_free(d);
        } else {
            d->next = n->pending;
            n->pending = d;
            n->npending++;
        }
    }
    update_gauges(n, now);
    pthread_mutex_unlock(&n->mu);
}

int notifier_tick(struct notifier *n, int64_t now_ms)
{
    if (n->started)
        return BW_EBUSY;
    run_round(n, now_ms);
    return BW_OK;
}

/* ---- the thread ---- */

/* When the thread must next wake (wall-clock ms), under the lock. */
static int64_t next_wake(struct notifier *n, int64_t now)
{
    int64_t t = now + IDLE_WAKE_MS;
    for (size_t i = 0; i < n->ngroups; i++)
        if (n->groups[i]->next_flush < t)
            t = n->groups[i]->next_flush;
    for (struct delivery *d = n->pending; d; d = d->next)
        if (d->next_try < t)
            t = d->next_try;
    return t;
}

static void *thread_main(void *arg)
{
    struct notifier *n = arg;
    pthread_mutex_lock(&n->mu);
    while (!n->stop) {
        int64_t now = real_ms();
        int64_t wake = next_wake(n, now);
        if (!n->inbox && wake > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = (int64_t)ts.tv_nsec + (wake - now) * 1000000;
            ts.tv_sec += (time_t)(ns / 1000000000);
            ts.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&n->cv, &n->mu, &ts);
            if (n->stop)
                break;
        }
        pthread_mutex_unlock(&n->mu);
        run_round(n, real_ms());
        pthread_mutex_lock(&n->mu);
    }
    /* What is queued gets one last try, bounded. */
    n->stop_deadline = mono_ms() + STOP_BUDGET_MS;
    pthread_mutex_unlock(&n->mu);
    run_round(n, real_ms());
    return NULL;
}

int notifier_start(struct notifier *n, struct diag *d)
{
    if (n->started)
        return BW_OK;
    int err = pthread_create(&n->thread, NULL, thread_main, n);
    if (err)
        return diag_set(d, BW_EIO, "notifier: cannot start its thread: %s", strerror(err));
    n->started = true;
    return BW_OK;
}

/* ---- loading ---- */

static int load_ack(void *ud, const struct store_alert_ack_row *r)
{
    return ack_add(ud, r->fingerprint, r->active_at, r->at, r->who ? r->who : "",
                   r->comment ? r->comment : "");
}

static int load_silence(void *ud, const struct store_alert_silence_row *r)
{
    struct notifier *n = ud;
    struct notify_matcher m[64];
    struct notify_silence s = {.matchers = m,
                               .starts_at = r->starts_at,
                               .ends_at = r->ends_at,
                               .updated_at = r->updated_at,
                               .created_by = r->created_by,
                               .comment = r->comment};
    struct silence *ns = NULL;
    struct diag d = {0};
    cJSON *arr = cJSON_Parse(r->matchers_json ? r->matchers_json : "");
    const cJSON *it;
    int rc = BW_OK;
    cJSON_ArrayForEach(it, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "value"));
        if (s.nmatchers == BW_ARRAY_LEN(m) || !name || !value)
            break;
        m[s.nmatchers++] = (struct notify_matcher){
            .name = name,
            .value = value,
            .is_regex = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "isRegex")),
            .is_equal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "isEqual")),
        };
    }
    if (s.nmatchers == 0 || silence_new(&s, &ns, &d)) {
        log_warn("notify: silence %s in the store is unusable, ignored%s%s", r->id,
                 d.msg[0] ? ": " : "", d.msg);
        goto out;
    }
    snprintf(ns->s.id, sizeof(ns->s.id), "%s", r->id);
    ns->expiry_noted = true; /* its expiry, if it is over, happened before */
    rc = grow((void **)&n->silences, n->nsilences, &n->cap_silences, sizeof(*n->silences));
    if (rc) {
        silence_free(ns);
        goto out;
    }
    n->silences[n->nsilences++] = ns;
out:
    cJSON_Delete(arr);
    return rc;
}

static int load_nflog(void *ud, const struct store_alert_nflog_row *r)
{
    struct notifier *n = ud;
    uint64_t *f = NULL, *rs = NULL;
    size_t nf = 0, nr = 0;
    int rc = fps_parse(r->firing ? r->firing : "", &f, &nf);
    if (rc == BW_OK)
        rc = fps_parse(r->resolved ? r->resolved : "", &rs, &nr);
    if (rc == BW_OK)
        rc = nflog_set(n, r->key, r->sent_at, f, nf, rs, nr);
    free(f);
    free(rs);
    return rc;
}

static int register_metrics(struct notifier *n, bw_registry *reg)
{
    static const char *const rk[] = {"receiver", "integration"};
    static const char *const rkr[] = {"receiver", "integration", "reason"};
    static const char *const reasons[] = {"clientError", "serverError", "other"};
    static const char *const am[] = {"alertmanager"};
    bw_family *total, *failed, *lat, *sent, *errors, *dropped;
    int rc;
    if ((rc = bw_counter_family(reg, "notifications_total",
                                "Notification requests made, by receiver and integration.", 2, rk,
                                &total)) ||
        (rc = bw_counter_family(reg, "notifications_failed_total",
                                "Notification requests that failed, by receiver, integration and "
                                "reason.",
                                3, rkr, &failed)) ||
        (rc = bw_histogram_family(reg, "notification_latency_seconds",
                                  "Time a notification request took, in seconds.", 2, rk, NULL, 0,
                                  &lat)) ||
        (rc = bw_counter_family(reg, "notifications_alertmanager_sent_total",
                                "Alerts delivered to an Alertmanager.", 1, am, &sent)) ||
        (rc = bw_counter_family(reg, "notifications_alertmanager_errors_total",
                                "Requests to an Alertmanager that failed.", 1, am, &errors)) ||
        (rc = bw_counter_family(reg, "notifications_alertmanager_dropped_total",
                                "Alerts given up on after the last retry to an Alertmanager.", 1,
                                am, &dropped)) ||
        (rc =
             bw_gauge_new(reg, "notification_queue_length",
                          "Notification requests waiting to be made or retried.", &n->queue_len)) ||
        (rc = bw_gauge_new(reg, "alerts_silences_active", "Silences in effect now.",
                           &n->silences_active)) ||
        (rc = bw_gauge_new(reg, "alerts_acknowledged",
                           "Pending or firing alerts acknowledged in their current episode.",
                           &n->acknowledged)))
        return rc;
    for (size_t i = 0; i < n->cfg->nreceivers; i++) {
        const struct notify_receiver *rc_ = &n->cfg->receivers[i];
        for (size_t t = 0; t < rc_->ntargets; t++) {
            enum notify_kind k = rc_->targets[t].kind;
            struct kind_metrics *km = &n->recv[i].km[k];
            const char *v[] = {rc_->name, kind_names[k], NULL};
            if (km->total)
                continue;
            if ((rc = bw_counter_resolve(total, v, &km->total)) ||
                (rc = bw_histogram_resolve(lat, v, &km->latency)))
                return rc;
            for (size_t r = 0; r < BW_ARRAY_LEN(reasons); r++) {
                v[2] = reasons[r];
                if ((rc = bw_counter_resolve(failed, v, &km->failed[r])))
                    return rc;
            }
        }
    }
    for (size_t i = 0; i < n->cfg->nalertmanagers; i++) {
        const char *v[] = {n->cfg->alertmanagers[i].url};
        if ((rc = bw_counter_resolve(sent, v, &n->ams[i].sent)) ||
            (rc = bw_counter_resolve(errors, v, &n->ams[i].errors)) ||
            (rc = bw_counter_resolve(dropped, v, &n->ams[i].dropped)))
            return rc;
    }
    return BW_OK;
}

int notifier_new(const struct notify_config *cfg, struct store *st, struct journal *j,
                 bw_registry *reg, struct notifier **out, struct diag *d)
{
    int rc;
    struct notifier *n = calloc(1, sizeof(*n));
    *out = NULL;
    if (!n)
        return diag_set(d, BW_ENOMEM, "notifier: out of memory");
    n->cfg = cfg;
    n->st = st;
    n->j = j;
    n->inbox_tail = &n->inbox;
    pthread_mutex_init(&n->mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (getrandom(&n->rng, sizeof(n->rng), 0) != (ssize_t)sizeof(n->rng) || n->rng == 0)
        n->rng = (uint64_t)clock_mono_ns() | 1;
    if (notify_http_init()) {
        rc = diag_set(d, BW_EIO, "notifier: libcurl cannot be initialised");
        goto fail;
    }
    n->routes = calloc((size_t)routes_count(&cfg->route), sizeof(*n->routes));
    n->recv = calloc(cfg->nreceivers ? cfg->nreceivers : 1, sizeof(*n->recv));
    n->ams = calloc(cfg->nalertmanagers ? cfg->nalertmanagers : 1, sizeof(*n->ams));
    if (!n->routes || !n->recv || !n->ams) {
        rc = diag_set(d, BW_ENOMEM, "notifier: out of memory");
        goto fail;
    }
    rc = routes_build(n, &cfg->route, NULL, d);
    if (rc)
        goto fail;
    if (reg && (rc = register_metrics(n, reg)) != BW_OK) {
        diag_set(d, rc, "notifier: metrics: %s", bw_strerror(rc));
        goto fail;
    }
    if ((rc = store_alert_acks_each(st, load_ack, n)) ||
        (rc = store_alert_silences_each(st, load_silence, n)) ||
        (rc = store_alert_nflog_each(st, load_nflog, n))) {
        diag_set(d, rc, "notifier: loading its state: %s",
                 rc == BW_ENOMEM ? "out of memory" : store_last_error(st));
        goto fail;
    }
    update_gauges(n, real_ms());
    *out = n;
    return BW_OK;
fail:
    notifier_free(n);
    return rc;
}

void notifier_free(struct notifier *n)
{
    if (!n)
        return;
    if (n->started) {
        pthread_mutex_lock(&n->mu);
        n->stop = true;
        pthread_cond_signal(&n->cv);
        pthread_mutex_unlock(&n->mu);
        pthread_join(n->thread, NULL);
    }
    for (struct item *it = n->inbox, *next; it; it = next) {
        next = it->next;
        arena_fini(&it->ar);
        free(it);
    }
    for (size_t i = 0; i < n->nalerts; i++) {
        arena_fini(&n->alerts[i]->ar);
        free(n->alerts[i]);
    }
    for (size_t i = 0; i < n->ngroups; i++)
        group_free(n->groups[i]);
    for (size_t i = 0; i < n->nlog; i++)
        nflog_clear(&n->log[i]);
    for (size_t i = 0; i < n->nacks; i++) {
        free(n->acks[i].who);
        free(n->acks[i].comment);
    }
    for (size_t i = 0; i < n->nsilences; i++)
        silence_free(n->silences[i]);
    for (struct delivery *d = n->pending, *next; d; d = next) {
        next = d->next;
        delivery_free(d);
    }
    for (size_t i = 0; n->routes && i < n->nroutes; i++)
        free(n->routes[i].key);
    free(n->alerts);
    free(n->groups);
    free(n->log);
    free(n->acks);
    free(n->silences);
    free(n->routes);
    free(n->recv);
    free(n->ams);
    pthread_mutex_destroy(&n->mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}

/* ---- acknowledgments ---- */

int notifier_ack(struct notifier *n, uint64_t fingerprint, const char *who, const char *comment,
                 int64_t now_ms)
{
    int rc = BW_ENOENT;
    pthread_mutex_lock(&n->mu);
    struct tracked *t = tracked_find(n, fingerprint, NULL);
    if (!t || t->a.state == ALERT_INACTIVE)
        goto out;
    rc = store_alert_ack_put(n->st, &(struct store_alert_ack_row){
                                        .fingerprint = fingerprint,
                                        .active_at = t->a.active_at,
                                        .at = now_ms,
                                        .who = who,
                                        .comment = comment ? comment : "",
                                    });
    if (rc) {
        log_error("notify: ack: %s", store_last_error(n->st));
        rc = BW_EIO;
        goto out;
    }
    rc = ack_add(n, fingerprint, t->a.active_at, now_ms, who, comment ? comment : "");
    if (rc == BW_OK)
        history_alert(n, &t->a, now_ms, "ack", NULL, NULL, who, comment);
    update_gauges(n, now_ms);
out:
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int notifier_unack(struct notifier *n, uint64_t fingerprint, const char *who, int64_t now_ms)
{
    int rc = BW_ENOENT;
    pthread_mutex_lock(&n->mu);
    struct ack *k = ack_find(n, fingerprint);
    if (!k)
        goto out;
    rc = store_alert_ack_delete(n->st, fingerprint);
    if (rc && rc != BW_ENOENT) {
        log_error("notify: unack: %s", store_last_error(n->st));
        rc = BW_EIO;
        goto out;
    }
    struct tracked *t = tracked_find(n, fingerprint, NULL);
    struct alert bare = {.fingerprint = fingerprint};
    history_alert(n, t ? &t->a : &bare, now_ms, "unack", NULL, NULL, who, NULL);
    ack_drop(n, k);
    update_gauges(n, now_ms);
    rc = BW_OK;
out:
    pthread_mutex_unlock(&n->mu);
    return rc;
}

/* ---- test notifications ---- */

int notifier_test(struct notifier *n, const char *receiver, const char *who, int64_t now_ms)
{
    size_t ri = receiver_index(n->cfg, receiver);
    if (ri == SIZE_MAX)
        return BW_ENOENT;
    struct label labels[] = {
        {"alertname", "BreakwatchTestNotification"}, {"severity", "none"}, {"test", "true"}};
    struct buf summary;
    buf_init(&summary, 0);
    if (buf_printf(&summary, "Test notification requested by %s", who ? who : "anonymous")) {
        buf_fini(&summary);
        return BW_ENOMEM;
    }
    struct label ann[] = {{"summary", summary.data}};
    struct alert a = {
        .labels = {labels, BW_ARRAY_LEN(labels)},
        .annotations = {ann, BW_ARRAY_LEN(ann)},
        .state = ALERT_FIRING,
        .active_at = now_ms,
        .fired_at = now_ms,
        .generator_url = n->cfg->external_url,
    };
    a.fingerprint = alert_fingerprint(&a.labels);
    const struct alert *list[] = {&a};
    struct notify_msg m = {
        .receiver = receiver,
        .group_key = "{}:{alertname=\"BreakwatchTestNotification\"}",
        .external_url = n->cfg->external_url,
        .group_labels = {labels, 1},
        .alerts = list,
        .n = 1,
    };
    int rc = BW_OK;
    pthread_mutex_lock(&n->mu);
    for (size_t ti = 0; ti < n->cfg->receivers[ri].ntargets; ti++) {
        struct delivery *d =
            target_delivery(n, ri, ti, &m, NULL, &a.fingerprint, 1, NULL, 0, now_ms);
        if (!d) {
            rc = BW_ENOMEM;
            break;
        }
        delivery_queue(n, d);
    }
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->mu);
    buf_fini(&summary);
    return rc;
}

/* ---- what the API reads ---- */

int notifier_snapshot(struct notifier *n, int64_t now_ms, struct notify_snapshot **out)
{
    struct notify_snapshot *s = calloc(1, sizeof(*s));
    int rc = BW_ENOMEM;
    *out = NULL;
    if (!s)
        return BW_ENOMEM;
    arena_init(&s->arena, 0);
    struct arena *a = &s->arena;
    struct buf kinds;
    buf_init(&kinds, 0);
    pthread_mutex_lock(&n->mu);
    s->alerts = arena_calloc(a, n->nalerts + 1, sizeof(*s->alerts));
    s->silences = arena_calloc(a, n->nsilences + 1, sizeof(*s->silences));
    s->receivers = arena_calloc(a, n->cfg->nreceivers + 1, sizeof(*s->receivers));
    if (!s->alerts || !s->silences || !s->receivers)
        goto out;
    for (size_t i = 0; i < n->nalerts; i++) {
        const struct tracked *t = n->alerts[i];
        struct notify_alert_snap *as = &s->alerts[s->nalerts++];
        const struct rnode *hit = NULL;
        const struct ack *k = ack_of(n, t);
        const char *sid = silenced_by(n, &t->a.labels, now_ms);
        int e = alert_copy(a, &t->a, &as->alert);
        route_match(n, &n->cfg->route, &t->a.labels, &hit, 1);
        as->receiver =
            hit && hit->receiver != SIZE_MAX ? n->cfg->receivers[hit->receiver].name : NULL;
        as->silenced_by = dup_or_null(a, sid, &e);
        if (k) {
            as->acked_by = dup_or_null(a, k->who, &e);
            as->acked_at = k->at;
            as->ack_comment = dup_or_null(a, k->comment, &e);
        }
        if (e)
            goto out;
    }
    for (size_t i = 0; i < n->nsilences; i++) {
        const struct notify_silence *src = &n->silences[i]->s;
        struct notify_silence *ds = &s->silences[s->nsilences++];
        int e = BW_OK;
        *ds = *src;
        ds->matchers = arena_calloc(a, src->nmatchers, sizeof(*ds->matchers));
        ds->created_by = dup_or_null(a, src->created_by, &e);
        ds->comment = dup_or_null(a, src->comment, &e);
        ds->state = silence_state(src, now_ms);
        if (!ds->matchers || e)
            goto out;
        for (size_t k = 0; k < src->nmatchers; k++) {
            ds->matchers[k] = src->matchers[k];
            ds->matchers[k].name = dup_or_null(a, src->matchers[k].name, &e);
            ds->matchers[k].value = dup_or_null(a, src->matchers[k].value, &e);
        }
        if (e)
            goto out;
    }
    for (size_t i = 0; i < n->cfg->nreceivers; i++) {
        const struct notify_receiver *rc_ = &n->cfg->receivers[i];
        const struct recv_state *rs = &n->recv[i];
        struct notify_receiver_snap *r = &s->receivers[s->nreceivers++];
        int e = BW_OK;
        bool seen[3] = {false, false, false};
        buf_reset(&kinds);
        buf_puts(&kinds, "");
        for (size_t t = 0; t < rc_->ntargets; t++) {
            enum notify_kind k = rc_->targets[t].kind;
            if (!seen[k] && buf_printf(&kinds, "%s%s", kinds.len ? ", " : "", kind_names[k]))
                goto out;
            seen[k] = true;
        }
        r->name = dup_or_null(a, rc_->name, &e);
        r->ntargets = rc_->ntargets;
        r->kinds = dup_or_null(a, kinds.data ? kinds.data : "", &e);
        r->last_attempt = rs->last_attempt;
        r->last_success = rs->last_success;
        r->last_error = dup_or_null(a, rs->last_error, &e);
        if (e)
            goto out;
    }
    rc = BW_OK;
out:
    pthread_mutex_unlock(&n->mu);
    buf_fini(&kinds);
    if (rc) {
        notify_snapshot_free(s);
        return rc;
    }
    *out = s;
    return BW_OK;
}

void notify_snapshot_free(struct notify_snapshot *s)
{
    if (!s)
        return;
    arena_fini(&s->arena);
    free(s);
}

struct history_ctx {
    int (*fn)(void *ud, const struct notify_history_row *r);
    void *ud;
};

static int history_row(void *ud, const struct store_alert_history_row *r)
{
    struct history_ctx *c = ud;
    struct notify_history_row h = {
        .id = r->id,
        .at = r->at,
        .fingerprint = r->fingerprint,
        .kind = r->kind,
        .alertname = r->alertname,
        .labels_json = r->labels_json,
        .from = r->from,
        .to = r->to,
        .receiver = r->receiver,
        .outcome = r->outcome,
        .who = r->who,
    };
    return c->fn(c->ud, &h);
}

int notifier_history(struct notifier *n, int64_t before, uint64_t fp, size_t limit,
                     int (*fn)(void *ud, const struct notify_history_row *r), void *ud)
{
    struct history_ctx c = {fn, ud};
    pthread_mutex_lock(&n->mu);
    int rc = store_alert_history_list(n->st, before, fp, limit, history_row, &c);
    pthread_mutex_unlock(&n->mu);
    return rc;
}
