/* dispatch: the notifier — a small Alertmanager inside breakwatch. It receives the
 * evaluator's transitions and sends through its sink, keeps every alert it was told about,
 * resolves a firing alert whose valid_until passed without a newer report (as Alertmanager
 * resolves one at its endsAt), hands firing and resolved alerts to the route tree and its
 * groups (route.c), and runs the rounds that flush due groups and make due requests
 * (deliver.c, send.c). Silences and acknowledgments are silence.c's, the notification log
 * nflog.c's; the history lives in the store and is pruned here.
 *
 * Main data structures: the inbox (struct notify_item list: deep copies made on the
 * evaluator's thread) and the tracked alerts (struct notify_tracked, each with its own arena),
 * in struct notifier (notify_int.h).
 *
 * The design decision: two locks. The inbox has a small one of its own that only the sink, the
 * round taking the inbox and the thread's sleep use, so the evaluator never waits for the
 * store or the API; everything else is under the notifier's lock, which a round holds to apply
 * the inbox, flush due groups and pick due requests, drops for the HTTP calls, and takes again
 * to record their outcomes. Every decision takes "now" as an argument, so grouping times are
 * testable without sleeping. The dedup rule is Alertmanager's (a target is notified when an
 * alert fires that it was not told about, when alerts resolved that it was not told about and
 * it wants resolved ones, when all resolved, or when the repeat interval passed), and the log
 * stores the fingerprint sets so a restart does not notify again what was already said. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "alert/notify_int.h"
#include "journal/journal.h"
#include "store/store.h"

#define RESOLVED_RETENTION_MS (15 * 60000LL) /* as Prometheus keeps resolved alerts */
#define FAILURE_EVENT_GAP_MS  60000          /* at most one failure event per receiver a minute */
#define IDLE_WAKE_MS          1000
#define GC_EVERY_MS           (10 * 60000LL) /* history, silences and the log pruned so often */
#define POLL_MS               100            /* the longest wait on requests in flight */

static int64_t real_ms(void)
{
    return clock_real_ns() / 1000000;
}

static int64_t mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

/* xorshift64*: jitter needs no more. */
uint64_t notify_random(struct notifier *n)
{
    n->rng ^= n->rng >> 12;
    n->rng ^= n->rng << 25;
    n->rng ^= n->rng >> 27;
    return n->rng * 0x2545F4914F6CDD1DULL;
}

int notify_grow(void **v, size_t n, size_t *cap, size_t size)
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

static void gauge_set(bw_gauge *g, double v)
{
    if (g)
        bw_gauge_set(g, v);
}

const char *notify_dup(struct arena *a, const char *s, int *rc)
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
    if (!labels_dup(&src->labels, a, &dst->labels) ||
        !labels_dup(&src->annotations, a, &dst->annotations))
        return BW_ENOMEM;
    dst->group = notify_dup(a, src->group, &rc);
    dst->rule = notify_dup(a, src->rule, &rc);
    dst->generator_url = notify_dup(a, src->generator_url, &rc);
    return rc;
}

/* ---- the sink (the evaluator's thread: only the inbox's lock) ---- */

static void item_free(struct notify_item *it)
{
    if (!it)
        return;
    arena_fini(&it->ar);
    free(it);
}

/* Queues a copy of v[0..cnt); what does not fit under NOTIFY_INBOX_MAX is dropped, counted and,
 * once until the inbox is next emptied, logged. */
static void enqueue(struct notifier *n, enum notify_item_kind kind, const struct alert *v,
                    size_t cnt, enum alert_state from, int64_t t)
{
    size_t dropped = 0;
    bool first = false;
    struct notify_item *it = calloc(1, sizeof(*it));
    if (!it)
        goto fail;
    arena_init(&it->ar, 0);
    *it = (struct notify_item){.kind = kind, .from = from, .t = t, .n = cnt, .ar = it->ar};
    it->v = arena_calloc(&it->ar, cnt, sizeof(*it->v));
    if (!it->v)
        goto fail;
    for (size_t i = 0; i < cnt; i++)
        if (alert_copy(&it->ar, &v[i], &it->v[i]))
            goto fail;
    pthread_mutex_lock(&n->inbox_mu);
    size_t room = NOTIFY_INBOX_MAX - n->inbox_alerts;
    if (it->n > room) {
        dropped = it->n - room;
        it->n = room;
        first = !n->drop_logged;
        n->drop_logged = true;
    }
    if (it->n) {
        *n->inbox_tail = it;
        n->inbox_tail = &it->next;
        n->inbox_alerts += it->n;
        pthread_cond_signal(&n->cv);
        it = NULL;
    }
    pthread_mutex_unlock(&n->inbox_mu);
    item_free(it);
    if (dropped && n->inbox_dropped)
        bw_counter_add(n->inbox_dropped, (double)dropped);
    if (first)
        log_warn("notify: the inbox holds %d alerts, alert reports are dropped until the "
                 "notifier catches up (notifications_inbox_dropped_total)",
                 NOTIFY_INBOX_MAX);
    return;
fail:
    item_free(it);
    if (n->inbox_dropped)
        bw_counter_add(n->inbox_dropped, (double)cnt);
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

void notify_kick(struct notifier *n)
{
    pthread_mutex_lock(&n->inbox_mu);
    n->kicked = true;
    pthread_cond_signal(&n->cv);
    pthread_mutex_unlock(&n->inbox_mu);
}

/* ---- tracked alerts ---- */

struct notify_tracked *notify_tracked_find(struct notifier *n, uint64_t fp, size_t *idx)
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
static struct notify_tracked *tracked_put(struct notifier *n, const struct alert *a)
{
    struct notify_tracked *t = notify_tracked_find(n, a->fingerprint, NULL);
    if (!t) {
        if (notify_grow((void **)&n->alerts, n->nalerts, &n->cap_alerts, sizeof(*n->alerts)))
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

/* ---- history and journal ---- */

void notify_history(struct notifier *n, const struct store_alert_history_row *r)
{
    if (store_alert_history_insert(n->st, r, NULL))
        log_error("notify: history: %s", store_last_error(n->st));
}

void notify_history_alert(struct notifier *n, const struct alert *a, int64_t at, const char *kind,
                          const char *from, const char *to, const char *who, const char *outcome)
{
    struct buf lj;
    buf_init(&lj, 0);
    if (notify_labels_json(&a->labels, &lj))
        buf_reset(&lj);
    notify_history(n, &(struct store_alert_history_row){
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
                        "\"at_ms\":%lld,\"labels\":%s}",
                        fp, to, alert_state_name(from), (long long)t, lj.data);
    if (rc == BW_OK) {
        /* Among the session's events, in its simulated time; the wall-clock time is at_ms. */
        struct journal_event ev = {.ts_ms = JOURNAL_SESSION_NOW,
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

void notify_journal_failure(struct notifier *n, int64_t *last, int64_t now, const char *what,
                            const char *why)
{
    if (!n->j || (*last && now - *last < FAILURE_EVENT_GAP_MS))
        return;
    *last = now;
    struct buf msg;
    buf_init(&msg, 0);
    if (buf_printf(&msg, "%s failed: %s", what, why) == BW_OK) {
        struct journal_event ev = {.ts_ms = JOURNAL_SESSION_NOW,
                                   .type = "notification",
                                   .severity = SEV_ERROR,
                                   .message = msg.data};
        journal_event(n->j, &ev);
    }
    buf_fini(&msg);
}

/* ---- applying the inbox ---- */

/* What every change of state leaves: a history row, a journal event, and, when the alert went
 * inactive, the end of its acknowledgment. */
static void note_transition(struct notifier *n, const struct alert *a, enum alert_state from,
                            int64_t t)
{
    const char *to = a->state == ALERT_INACTIVE ? "resolved" : alert_state_name(a->state);
    notify_history_alert(n, a, t, "transition", alert_state_name(from), to, NULL, NULL);
    journal_transition(n, a, from, t);
    if (a->state == ALERT_INACTIVE)
        notify_ack_forget(n, a, t, from == ALERT_PENDING ? "went away" : "resolved");
}

static void apply_transition(struct notifier *n, const struct alert *a, enum alert_state from,
                             int64_t t, int64_t now)
{
    note_transition(n, a, from, t);
    if (a->state == ALERT_INACTIVE && from == ALERT_PENDING) {
        size_t i;
        if (notify_tracked_find(n, a->fingerprint, &i))
            tracked_remove(n, i);
        return;
    }
    if (!tracked_put(n, a)) {
        log_error("notify: out of memory keeping an alert");
        return;
    }
    if (a->state != ALERT_PENDING)
        notify_route_alert(n, a, now);
}

static void apply_send(struct notifier *n, const struct alert *v, size_t cnt, int64_t now)
{
    for (size_t i = 0; i < cnt; i++) {
        struct notify_tracked *t = notify_tracked_find(n, v[i].fingerprint, NULL);
        /* A report of an episode already over (resolved, then pending again) changes nothing. */
        if (t && t->a.state == ALERT_PENDING && v[i].state == ALERT_INACTIVE)
            continue;
        if (!tracked_put(n, &v[i]))
            log_error("notify: out of memory keeping an alert");
        else if (v[i].state != ALERT_PENDING)
            notify_route_alert(n, &v[i], now);
    }
    notify_forward(n, v, cnt, now);
}

static void drain(struct notifier *n, int64_t now)
{
    pthread_mutex_lock(&n->inbox_mu);
    struct notify_item *it = n->inbox;
    n->inbox = NULL;
    n->inbox_tail = &n->inbox;
    n->inbox_alerts = 0;
    n->drop_logged = false;
    pthread_mutex_unlock(&n->inbox_mu);
    while (it) {
        struct notify_item *next = it->next;
        if (it->kind == ITEM_TRANSITION)
            apply_transition(n, &it->v[0], it->from, it->t, now);
        else
            apply_send(n, it->v, it->n, now);
        item_free(it);
        it = next;
    }
}

/* Firing alerts whose valid_until passed without a newer report resolve at valid_until, as
 * Alertmanager resolves an alert at its endsAt: the evaluator stopped reporting them (their
 * rule was removed, or the evaluator is stuck). Their groups tell their receivers as usual. */
static void alerts_expire(struct notifier *n, int64_t now)
{
    for (size_t i = 0; i < n->nalerts; i++) {
        struct alert *a = &n->alerts[i]->a;
        if (a->state != ALERT_FIRING || a->valid_until == 0 || a->valid_until > now)
            continue;
        a->state = ALERT_INACTIVE;
        a->resolved_at = a->valid_until;
        note_transition(n, a, ALERT_FIRING, a->resolved_at);
        notify_route_alert(n, a, now);
    }
}

/* Resolved alerts past retention. */
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

/* Every GC_EVERY_MS: history rows past retention or past the cap, silences that ended long
 * ago, notification log entries of groups that are gone. */
static void collect_garbage(struct notifier *n, int64_t now)
{
    bool due = n->last_gc == 0 || now - n->last_gc >= GC_EVERY_MS;
    notify_silences_tick(n, now, due);
    if (!due)
        return;
    n->last_gc = now;
    notify_nflog_gc(n, now);
    if (store_alert_history_prune(n->st, now - NOTIFY_RETENTION_MS, NOTIFY_HISTORY_MAX, NULL))
        log_error("notify: pruning the history: %s", store_last_error(n->st));
}

/* ---- a round ---- */

void notify_update_gauges(struct notifier *n, int64_t now)
{
    size_t active = 0, acked = 0;
    for (size_t i = 0; i < n->nsilences; i++)
        active += notify_silence_active(n->silences[i], now);
    for (size_t i = 0; i < n->nalerts; i++)
        acked += notify_ack_of(n, n->alerts[i]) != NULL;
    pthread_mutex_lock(&n->inbox_mu);
    size_t queued = n->inbox_alerts;
    pthread_mutex_unlock(&n->inbox_mu);
    gauge_set(n->silences_active, (double)active);
    gauge_set(n->acknowledged, (double)acked);
    gauge_set(n->queue_len, (double)(n->npending + queued));
}

/* A round's first half at now, under the lock: the inbox, expiries, due groups, garbage, and
 * the due requests started. */
static void round_begin(struct notifier *n, int64_t now)
{
    struct notify_delivery *failed = NULL;
    pthread_mutex_lock(&n->mu);
    drain(n, now);
    alerts_expire(n, now);
    notify_groups_flush(n, now);
    alerts_gc(n, now);
    collect_garbage(n, now);
    notify_deliveries_start(n, notify_deliveries_due(n, now), &failed);
    notify_deliveries_done(n, failed, now);
    notify_update_gauges(n, now);
    pthread_mutex_unlock(&n->mu);
}

/* The second half, without the lock: waits at most wait_ms for the requests in flight, then,
 * under the lock, records the outcomes of those that finished (at now in tests, else at the
 * clock's time). Returns how many are still in flight. */
static size_t round_collect(struct notifier *n, int wait_ms, int64_t now)
{
    struct notify_delivery *finished = NULL;
    size_t left =
        notify_http_run(n->http, wait_ms, &n->stop_deadline, notify_delivery_finished, &finished);
    if (finished) {
        pthread_mutex_lock(&n->mu);
        notify_deliveries_done(n, finished, n->started ? real_ms() : now);
        notify_update_gauges(n, now);
        pthread_mutex_unlock(&n->mu);
    }
    return left;
}

int notifier_tick(struct notifier *n, int64_t now_ms)
{
    if (n->started)
        return BW_EBUSY;
    round_begin(n, now_ms);
    while (round_collect(n, POLL_MS, now_ms) > 0)
        ;
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
    for (struct notify_delivery *d = n->pending; d; d = d->next)
        if (d->next_try < t)
            t = d->next_try;
    return t;
}

/* Rounds until stopped. While requests are in flight it waits on them, POLL_MS at most, so a
 * new report or a due group is not held up by a slow receiver; otherwise it sleeps until the
 * next due time, a report or a kick. */
static void *thread_main(void *arg)
{
    struct notifier *n = arg;
    for (;;) {
        round_begin(n, real_ms());
        size_t inflight = round_collect(n, 0, 0);
        pthread_mutex_lock(&n->mu);
        int64_t wake = next_wake(n, real_ms());
        pthread_mutex_unlock(&n->mu);
        if (inflight) {
            int64_t w = wake - real_ms();
            round_collect(n, w < 0 ? 0 : w < POLL_MS ? (int)w : POLL_MS, 0);
        }
        pthread_mutex_lock(&n->inbox_mu);
        while (!inflight && !n->stop && !n->inbox && !n->kicked && real_ms() < wake) {
            struct timespec ts = {.tv_sec = (time_t)(wake / 1000),
                                  .tv_nsec = (long)(wake % 1000) * 1000000};
            pthread_cond_timedwait(&n->cv, &n->inbox_mu, &ts);
        }
        bool stop = n->stop;
        n->kicked = false;
        pthread_mutex_unlock(&n->inbox_mu);
        if (stop)
            break;
    }
    /* What is queued or in flight gets its last try, bounded by stop_deadline. */
    round_begin(n, real_ms());
    while (round_collect(n, POLL_MS, 0) > 0)
        ;
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

/* ---- life ---- */

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
    pthread_mutex_init(&n->inbox_mu, NULL);
    pthread_cond_init(&n->cv, NULL);
    if (getrandom(&n->rng, sizeof(n->rng), 0) != (ssize_t)sizeof(n->rng) || n->rng == 0)
        n->rng = (uint64_t)clock_mono_ns() | 1;
    if (notify_http_init()) {
        rc = diag_set(d, BW_EIO, "notifier: libcurl cannot be initialised");
        goto fail;
    }
    if (notify_http_new(&n->http)) {
        rc = diag_set(d, BW_ENOMEM, "notifier: out of memory");
        goto fail;
    }
    n->routes = calloc(notify_routes_count(&cfg->route), sizeof(*n->routes));
    n->recv = calloc(cfg->nreceivers ? cfg->nreceivers : 1, sizeof(*n->recv));
    n->ams = calloc(cfg->nalertmanagers ? cfg->nalertmanagers : 1, sizeof(*n->ams));
    if (!n->routes || !n->recv || !n->ams) {
        rc = diag_set(d, BW_ENOMEM, "notifier: out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->nalertmanagers; i++) {
        struct buf shown;
        buf_init(&shown, 0);
        rc = url_redact(cfg->alertmanagers[i].url, &shown, &n->ams[i].userinfo);
        n->ams[i].shown = rc == BW_OK ? xstrdup(shown.data) : NULL;
        buf_fini(&shown);
        if (!n->ams[i].shown) {
            rc = diag_set(d, BW_ENOMEM, "notifier: out of memory");
            goto fail;
        }
    }
    if ((rc = notify_routes_build(n, d)))
        goto fail;
    if (reg && (rc = notify_register_metrics(n, reg)) != BW_OK) {
        diag_set(d, rc, "notifier: metrics: %s", bw_strerror(rc));
        goto fail;
    }
    if ((rc = notify_silences_load(n)) || (rc = notify_nflog_load(n))) {
        diag_set(d, rc, "notifier: loading its state: %s",
                 rc == BW_ENOMEM ? "out of memory" : store_last_error(st));
        goto fail;
    }
    notify_update_gauges(n, real_ms());
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
        atomic_store(&n->stop_deadline, mono_ms() + NOTIFY_STOP_BUDGET_MS);
        pthread_mutex_lock(&n->inbox_mu);
        n->stop = true;
        pthread_cond_signal(&n->cv);
        pthread_mutex_unlock(&n->inbox_mu);
        pthread_join(n->thread, NULL);
    }
    notify_http_free(n->http); /* nothing is in flight once a round is over */
    for (struct notify_item *it = n->inbox, *next; it; it = next) {
        next = it->next;
        item_free(it);
    }
    for (size_t i = 0; i < n->nalerts; i++) {
        arena_fini(&n->alerts[i]->ar);
        free(n->alerts[i]);
    }
    for (size_t i = 0; i < n->ngroups; i++)
        notify_group_free(n->groups[i]);
    for (size_t i = 0; i < n->nlog; i++)
        notify_nflog_clear(&n->log[i]);
    for (size_t i = 0; i < n->nacks; i++)
        notify_ack_free(&n->acks[i]);
    for (size_t i = 0; i < n->nsilences; i++)
        notify_silence_free(n->silences[i]);
    for (struct notify_delivery *d = n->pending, *next; d; d = next) {
        next = d->next;
        notify_delivery_free(d);
    }
    for (size_t i = 0; n->routes && i < n->nroutes; i++)
        free(n->routes[i].key);
    for (size_t i = 0; n->ams && i < n->cfg->nalertmanagers; i++) {
        free(n->ams[i].shown);
        free(n->ams[i].userinfo);
    }
    free(n->alerts);
    free(n->groups);
    free(n->log);
    free(n->acks);
    free(n->silences);
    free(n->routes);
    free(n->recv);
    free(n->ams);
    pthread_mutex_destroy(&n->mu);
    pthread_mutex_destroy(&n->inbox_mu);
    pthread_cond_destroy(&n->cv);
    free(n);
}

/* ---- test notifications ---- */

int notifier_test(struct notifier *n, const char *receiver, const char *who, int64_t now_ms)
{
    size_t ri = notify_receiver_index(n->cfg, receiver);
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
        struct notify_delivery *d =
            notify_target_delivery(n, ri, ti, &m, NULL, &a.fingerprint, 1, NULL, 0, now_ms);
        if (!d) {
            rc = BW_ENOMEM;
            break;
        }
        notify_delivery_queue(n, d);
    }
    notify_kick(n);
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
        const struct notify_tracked *t = n->alerts[i];
        struct notify_alert_snap *as = &s->alerts[s->nalerts++];
        const struct notify_rnode *hit = NULL;
        const struct notify_ack *k = notify_ack_of(n, t);
        const char *sid = notify_silenced_by(n, &t->a.labels, now_ms);
        int e = alert_copy(a, &t->a, &as->alert);
        notify_route_match(n, &t->a.labels, &hit, 1);
        as->receiver =
            hit && hit->receiver != SIZE_MAX ? n->cfg->receivers[hit->receiver].name : NULL;
        as->silenced_by = notify_dup(a, sid, &e);
        if (k) {
            as->acked_by = notify_dup(a, k->who, &e);
            as->acked_at = k->at;
            as->ack_comment = notify_dup(a, k->comment, &e);
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
        ds->created_by = notify_dup(a, src->created_by, &e);
        ds->comment = notify_dup(a, src->comment, &e);
        ds->state = notify_silence_state_name(src, now_ms);
        if (!ds->matchers || e)
            goto out;
        for (size_t k = 0; k < src->nmatchers; k++) {
            ds->matchers[k] = src->matchers[k];
            ds->matchers[k].name = notify_dup(a, src->matchers[k].name, &e);
            ds->matchers[k].value = notify_dup(a, src->matchers[k].value, &e);
        }
        if (e)
            goto out;
    }
    for (size_t i = 0; i < n->cfg->nreceivers; i++) {
        const struct notify_receiver *rc_ = &n->cfg->receivers[i];
        const struct notify_recv_state *rs = &n->recv[i];
        struct notify_receiver_snap *r = &s->receivers[s->nreceivers++];
        int e = BW_OK;
        bool seen[3] = {false, false, false};
        buf_reset(&kinds);
        buf_puts(&kinds, "");
        for (size_t t = 0; t < rc_->ntargets; t++) {
            enum notify_kind k = rc_->targets[t].kind;
            if (!seen[k] && buf_printf(&kinds, "%s%s", kinds.len ? ", " : "", notify_kind_names[k]))
                goto out;
            seen[k] = true;
        }
        r->name = notify_dup(a, rc_->name, &e);
        r->ntargets = rc_->ntargets;
        r->kinds = notify_dup(a, kinds.data ? kinds.data : "", &e);
        r->last_attempt = rs->last_attempt;
        r->last_success = rs->last_success;
        r->last_error = notify_dup(a, rs->last_error, &e);
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
