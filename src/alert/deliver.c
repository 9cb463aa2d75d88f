/* deliver: the notifier's requests — a group's notification to one target of a receiver, a
 * test notification, or a batch of the evaluator's alerts forwarded to an Alertmanager — from
 * being queued to their outcome: metrics (notifications_*), the history, the notification log
 * on success, retries with backoff, a journal event when one is given up.
 *
 * Main data structure: struct notify_delivery (notify_int.h), each with its own arena holding
 * URL and body, in the notifier's pending list.
 *
 * The design decision: a request is built whole under the notifier's lock and made without
 * it, all of a round's due requests at once (send.c's multi interface), so neither a slow
 * receiver nor the store holds up another receiver or the API; a newer notification of the
 * same group and target supersedes a pending or retrying one, as only the latest state
 * matters. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/notify_int.h"
#include "store/store.h"

#define TARGET_MAX_ATTEMPTS 8 /* 1+2+...+128 s of backoff, then given up */
#define AM_MAX_ATTEMPTS     5
#define AM_BATCH            256

const char *const notify_kind_names[3] = {"webhook", "slack", "telegram"};

static void inc(bw_counter *c)
{
    if (c)
        bw_counter_inc(c);
}

void notify_delivery_free(struct notify_delivery *d)
{
    if (!d)
        return;
    arena_fini(&d->ar);
    free(d);
}

static struct notify_delivery *delivery_new(void)
{
    struct notify_delivery *d = calloc(1, sizeof(*d));
    if (d)
        arena_init(&d->ar, 0);
    return d;
}

void notify_delivery_queue(struct notifier *n, struct notify_delivery *d)
{
    for (struct notify_delivery **p = &n->pending; d->key && *p; p = &(*p)->next) {
        if ((*p)->key && strcmp((*p)->key, d->key) == 0) {
            struct notify_delivery *old = *p;
            *p = old->next;
            notify_delivery_free(old);
            n->npending--;
            break;
        }
    }
    d->next = n->pending;
    n->pending = d;
    n->npending++;
}

/* base without a trailing slash, then path. */
static int join_url(struct buf *out, const char *base, const char *path)
{
    size_t bl = strlen(base);
    return buf_printf(out, "%.*s%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base, path);
}

void notify_forward(struct notifier *n, const struct alert *v, size_t cnt, int64_t now)
{
    const struct notify_config *c = n->cfg;
    struct buf body, url;
    buf_init(&body, 0);
    buf_init(&url, 0);
    for (size_t off = 0; off < cnt; off += AM_BATCH) {
        size_t k = cnt - off < AM_BATCH ? cnt - off : AM_BATCH;
        buf_reset(&body);
        if (notify_body_am(v + off, k, c->external_labels, c->nexternal_labels, &body))
            goto oom;
        for (size_t a = 0; a < c->nalertmanagers; a++) {
            struct notify_delivery *d = delivery_new();
            buf_reset(&url);
            if (!d || join_url(&url, c->alertmanagers[a].url, "/api/v2/alerts")) {
                notify_delivery_free(d);
                goto oom;
            }
            d->am = a;
            d->req = (struct notify_req){
                .url = arena_strdup(&d->ar, url.data),
                .body = arena_strndup(&d->ar, body.data, body.len),
                .len = body.len,
                .timeout_ms = c->alertmanagers[a].timeout_ms,
                .secret = n->ams[a].userinfo,
            };
            d->nalerts = k;
            d->next_try = now;
            if (!d->req.url || !d->req.body) {
                notify_delivery_free(d);
                goto oom;
            }
            notify_delivery_queue(n, d);
        }
    }
    buf_fini(&body);
    buf_fini(&url);
    return;
oom:
    buf_fini(&body);
    buf_fini(&url);
    log_error("notify: out of memory forwarding alerts to Alertmanager");
}

/* The URL of a target's requests: Telegram's carries the token. */
static int target_url(const struct notify_target *t, struct buf *out)
{
    if (t->kind != NOTIFY_TELEGRAM)
        return buf_puts(out, t->url);
    int rc = join_url(out, t->url ? t->url : "https://api.telegram.org", "/bot");
    return rc ? rc : buf_printf(out, "%s/sendMessage", t->bot_token ? t->bot_token : "");
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

struct notify_delivery *notify_target_delivery(struct notifier *n, size_t ri, size_t ti,
                                               const struct notify_msg *m, const char *key,
                                               const uint64_t *firing, size_t nf,
                                               const uint64_t *resolved, size_t nr, int64_t now)
{
    const struct notify_target *t = &n->cfg->receivers[ri].targets[ti];
    struct notify_delivery *d = delivery_new();
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
    d->req = (struct notify_req){
        .url = arena_strdup(&d->ar, url.data),
        .body = arena_strndup(&d->ar, body.data, body.len),
        .len = body.len,
        .timeout_ms = t->timeout_ms,
        .secret = t->kind == NOTIFY_TELEGRAM ? t->bot_token : NULL,
    };
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
    if (!d->req.url || !d->req.body || (key && !d->key) || !d->firing || !d->resolved ||
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
    notify_delivery_free(d);
    log_error("notify: out of memory building a notification");
    return NULL;
}

/* ---- outcomes ---- */

/* By the why of a failure: 0 clientError, 1 serverError, 2 other. */
static size_t reason_index(const char *why)
{
    return strncmp(why, "HTTP 4", 6) == 0 ? 0 : strncmp(why, "HTTP 5", 6) == 0 ? 1 : 2;
}

static bool stopping(struct notifier *n)
{
    return atomic_load(&n->stop_deadline) != 0;
}

/* What a target request's outcome does: metrics, history, the log. Returns true when d is
 * done with (to be freed), false when it is to be retried. */
static bool target_outcome(struct notifier *n, struct notify_delivery *d, int64_t now)
{
    struct notify_recv_state *rs = &n->recv[d->receiver];
    const struct notify_receiver *rc = &n->cfg->receivers[d->receiver];
    struct notify_kind_metrics *km = &rs->km[d->target->kind];
    const char *kind = notify_kind_names[d->target->kind];
    const struct notify_req *q = &d->req;
    bool done = q->outcome != NOTIFY_RETRY || d->attempts >= TARGET_MAX_ATTEMPTS || stopping(n);
    struct buf outcome;
    buf_init(&outcome, 0);
    inc(km->total);
    if (km->latency)
        bw_histogram_observe(km->latency, q->seconds);
    rs->last_attempt = now;
    if (q->outcome == NOTIFY_SENT) {
        rs->last_success = now;
        rs->last_error[0] = '\0';
        buf_puts(&outcome, "sent");
        /* Logged when delivered, as Alertmanager's log is: repeat_interval counts from here. */
        if (d->key)
            notify_nflog_log(n, d->key, now, d->firing, d->nfiring, d->resolved, d->nresolved);
    } else {
        inc(km->failed[reason_index(q->why)]);
        snprintf(rs->last_error, sizeof(rs->last_error), "%s: %s", kind, q->why);
        buf_printf(&outcome, "%s: %s: %s", done ? "failed" : "retrying", kind, q->why);
        if (done) {
            char what[300];
            snprintf(what, sizeof(what), "notification to %s (%s)", rc->name, kind);
            notify_journal_failure(n, &rs->last_event, now, what, q->why);
        }
    }
    notify_history(n, &(struct store_alert_history_row){
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

static bool am_outcome(struct notifier *n, struct notify_delivery *d, int64_t now)
{
    struct notify_am_state *as = &n->ams[d->am];
    const struct notify_req *q = &d->req;
    bool done = q->outcome != NOTIFY_RETRY || d->attempts >= AM_MAX_ATTEMPTS || stopping(n);
    if (q->outcome == NOTIFY_SENT) {
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
                 as->shown);
        notify_journal_failure(n, &as->last_event, now, what, q->why);
    }
    return done;
}

struct notify_delivery *notify_deliveries_due(struct notifier *n, int64_t now)
{
    struct notify_delivery *due = NULL;
    bool all = stopping(n);
    for (struct notify_delivery **p = &n->pending; *p;) {
        struct notify_delivery *d = *p;
        if (d->next_try <= now || all) {
            *p = d->next;
            n->npending--;
            d->next = due;
            due = d;
        } else {
            p = &d->next;
        }
    }
    return due;
}

void notify_deliveries_start(struct notifier *n, struct notify_delivery *list,
                             struct notify_delivery **failed)
{
    while (list) {
        struct notify_delivery *d = list;
        list = d->next;
        d->attempts++;
        if (notify_http_start(n->http, &d->req, &n->stop_deadline)) {
            d->next = *failed;
            *failed = d;
        }
    }
}

void notify_delivery_finished(void *ud, struct notify_req *r)
{
    struct notify_delivery **list = ud;
    struct notify_delivery *d =
        (struct notify_delivery *)(void *)((char *)r - offsetof(struct notify_delivery, req));
    d->next = *list;
    *list = d;
}

void notify_deliveries_done(struct notifier *n, struct notify_delivery *list, int64_t now)
{
    while (list) {
        struct notify_delivery *d = list;
        list = d->next;
        bool done = d->target ? target_outcome(n, d, now) : am_outcome(n, d, now);
        if (done) {
            notify_delivery_free(d);
            continue;
        }
        d->next_try = now + notify_backoff_ms(d->attempts, notify_random(n));
        /* A newer notification of the same group and target supersedes this retry. */
        bool superseded = false;
        for (struct notify_delivery *p = n->pending; d->key && p && !superseded; p = p->next)
            superseded = p->key && strcmp(p->key, d->key) == 0;
        if (superseded) {
            notify_delivery_free(d);
        } else {
            d->next = n->pending;
            n->pending = d;
            n->npending++;
        }
    }
}

/* ---- metrics ---- */

int notify_register_metrics(struct notifier *n, bw_registry *reg)
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
        (rc = bw_counter_new(reg, "notifications_inbox_dropped_total",
                             "Alert reports of the evaluator dropped because the notifier's "
                             "inbox was full.",
                             &n->inbox_dropped)) ||
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
            struct notify_kind_metrics *km = &n->recv[i].km[k];
            const char *v[] = {rc_->name, notify_kind_names[k], NULL};
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
        const char *v[] = {n->ams[i].shown};
        if ((rc = bw_counter_resolve(sent, v, &n->ams[i].sent)) ||
            (rc = bw_counter_resolve(errors, v, &n->ams[i].errors)) ||
            (rc = bw_counter_resolve(dropped, v, &n->ams[i].dropped)))
            return rc;
    }
    return BW_OK;
}
