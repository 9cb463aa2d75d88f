/* notify: the notification side of alerting — a small Alertmanager inside breakwatch.
 *
 * It takes the evaluator's transitions and sends (alert.h) and keeps in the store: the
 * history of every transition and notification, acknowledgments, silences and each group's
 * notification log. Alerts walk the route tree to a receiver, are grouped (group_by,
 * group_wait, group_interval, repeat_interval as Alertmanager does), silenced alerts are kept
 * but not notified, and each group's notification goes out through its receiver: a webhook in
 * Alertmanager's webhook format (version 4), Slack (incoming webhook), Telegram (Bot API
 * sendMessage). Independently, the evaluator's sends are forwarded as they are to every
 * configured Alertmanager through POST /api/v2/alerts, as Prometheus does.
 *
 * Threads: the sink's callbacks only queue; one thread of its own groups, decides and sends
 * with libcurl, retrying failures with exponential backoff (bounded), so a slow or dead
 * receiver never slows evaluation. Its own failures are metrics (notifications_*) and journal
 * events (type "alert", "notification").
 *
 * Configuration (the `alerting:` section of breakwatch's file; notify_config_parse): the
 * Alertmanager shapes users know —
 *   alerting:
 *     rule_files: [monitoring/rules/breakwatch.rules.yml]
 *     evaluation_interval: 15s
 *     external_url: http://bot-1:8000
 *     external_labels: {bot: bot-1}
 *     resend_delay: 1m
 *     alertmanagers: [{url: http://127.0.0.1:9093, timeout: 10s}]
 *     route: {receiver: ops, group_by: [alertname], group_wait: 30s, group_interval: 5m,
 *             repeat_interval: 4h, routes: [{matchers: ['severity="critical"'], receiver: pager,
 *             continue: false, ...}]}
 *     receivers:
 *       - name: ops
 *         webhook_configs: [{url: ..., send_resolved: true, max_alerts: 0}]
 *         slack_configs: [{api_url: ..., channel: '#alerts', send_resolved: true}]
 *         telegram_configs: [{bot_token: ..., chat_id: 123, api_url: https://api.telegram.org}]
 */
#ifndef BW_NOTIFY_H
#define BW_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/alert.h"
#include "base/base.h"
#include "breakwatch/metrics.h"

struct conf_doc;
struct conf_node;
struct journal;
struct store;
struct tsdb_matcher;

/* ---- configuration (config.c) ---- */

enum notify_kind { NOTIFY_WEBHOOK, NOTIFY_SLACK, NOTIFY_TELEGRAM };

struct notify_target {
    enum notify_kind kind;
    const char *url;       /* webhook url, Slack api_url, Telegram api_url (default
                            * https://api.telegram.org) */
    const char *channel;   /* Slack; may be NULL */
    const char *bot_token; /* Telegram; a secret: never logged or shown */
    int64_t chat_id;       /* Telegram */
    bool send_resolved;    /* default true (webhook), false (Slack, Telegram), as Alertmanager */
    size_t max_alerts;     /* webhook; 0: all */
    int64_t timeout_ms;    /* per request; 10 s */
};

struct notify_receiver {
    const char *name;
    struct notify_target *targets;
    size_t ntargets;
};

struct notify_route {
    const char *receiver;          /* inherited from the parent when absent */
    struct tsdb_matcher *matchers; /* all must match; Alertmanager's matcher syntax */
    size_t nmatchers;
    const char **group_by; /* label names; "..." alone: every label */
    size_t ngroup_by;
    bool group_by_all;
    int64_t group_wait_ms, group_interval_ms, repeat_interval_ms; /* inherited; defaults
                                                                   * 30 s, 5 min, 4 h */
    bool cont;                                                    /* `continue` */
    struct notify_route *routes;
    size_t nroutes;
};

struct notify_am {
    const char *url; /* base URL; alerts go to url + /api/v2/alerts */
    int64_t timeout_ms;
};

struct notify_config {
    const char **rule_files;
    size_t nrule_files;
    int64_t evaluation_interval_ms; /* 15 s */
    int64_t resend_delay_ms;        /* 1 min */
    const char *external_url;       /* NULL: http://<listen address> */
    struct label *external_labels;
    size_t nexternal_labels;
    struct notify_am *alertmanagers;
    size_t nalertmanagers;
    struct notify_route route; /* the root: has a receiver, no matchers */
    struct notify_receiver *receivers;
    size_t nreceivers;
    struct arena arena; /* everything above */
};

/* Defaults: no rules, no receivers, no Alertmanager; intervals as documented above. */
void notify_config_init(struct notify_config *c);
void notify_config_fini(struct notify_config *c);
/* Reads the `alerting:` mapping at n of doc into c (initialised), each route with what it
 * inherits already filled in (the notifier takes the values as they are: 0s is 0s). Unknown
 * keys, a route naming a receiver that does not exist, a receiver without a name or defined
 * twice, a bad URL, a bad matcher, a duration that is not one, routes nested deeper than 64
 * levels or more than 10,000 of them, a route that contains itself through an alias: BW_EINVAL
 * with file:line:col in d. */
int notify_config_parse(const struct conf_doc *doc, const struct conf_node *n,
                        struct notify_config *c, struct diag *d);

/* ---- the notifier (dispatch.c; route.c, silence.c, nflog.c, deliver.c, send.c) ---- */

struct notifier;

/* A notifier over cfg (which must outlive it), keeping its state in st (a read-write
 * connection of its own; the notifier uses it from its thread and from API calls under its
 * lock), reporting into j (may be NULL) and registering its metrics in reg (may be NULL).
 * Loads acknowledgments, silences and the notification log from the store. BW_OK and *out,
 * BW_ENOMEM, BW_EIO (d says why). */
int notifier_new(const struct notify_config *cfg, struct store *st, struct journal *j,
                 bw_registry *reg, struct notifier **out, struct diag *d);
/* Starts the sending thread. */
int notifier_start(struct notifier *n, struct diag *d);
/* Stops the thread (what is queued is tried once more, bounded by a few seconds) and frees.
 * NULL is a no-op. */
void notifier_free(struct notifier *n);
/* The sink to give the evaluator. */
struct alert_sink notifier_sink(struct notifier *n);
/* Tests: run one round of grouping and sending at now_ms on the calling thread, as the thread
 * does when it wakes (only while the thread is not started). */
int notifier_tick(struct notifier *n, int64_t now_ms);

/* Acknowledges the pending or firing alert with this fingerprint until it goes inactive: who
 * (the token's name, "anonymous" when auth is off), when, a comment (may be ""). Kept in the
 * store (so it survives a restart during the episode), shown with the alert, cleared when the
 * alert resolves or, pending, goes away. BW_ENOENT when no pending or
 * firing alert has that fingerprint; BW_EIO. */
int notifier_ack(struct notifier *n, uint64_t fingerprint, const char *who, const char *comment,
                 int64_t now_ms);
/* Removes an acknowledgment (BW_ENOENT if none). */
int notifier_unack(struct notifier *n, uint64_t fingerprint, const char *who, int64_t now_ms);

struct notify_matcher {
    const char *name, *value;
    bool is_regex, is_equal; /* Alertmanager's: is_equal false negates */
};
struct notify_silence {
    char id[37]; /* a UUID */
    struct notify_matcher *matchers;
    size_t nmatchers;
    int64_t starts_at, ends_at, updated_at;
    const char *created_by, *comment;
    const char *state; /* "pending", "active", "expired" */
};
/* Creates a silence (s->id empty) or replaces one (s->id set; BW_ENOENT if unknown). Refuses
 * no matchers, a bad regex, ends_at <= starts_at or ends_at in the past with BW_EINVAL and
 * the reason in d. The id is written back into s->id. */
int notifier_silence_put(struct notifier *n, struct notify_silence *s, int64_t now_ms,
                         struct diag *d);
/* Ends a silence now (it stays listed as expired). BW_ENOENT if unknown. */
int notifier_silence_expire(struct notifier *n, const char *id, const char *who, int64_t now_ms);

/* Sends a test notification (a synthetic firing alert "BreakwatchTestNotification" with the
 * requester's name) through every target of the receiver now, outside grouping. BW_ENOENT for
 * an unknown receiver; the outcome is recorded in the history like any notification. */
int notifier_test(struct notifier *n, const char *receiver, const char *who, int64_t now_ms);

/* What the API shows, copied under the notifier's lock into the snapshot's arena. */
struct notify_alert_snap {
    struct alert alert;      /* pending, firing, or resolved within retention */
    const char *receiver;    /* where its route leads */
    const char *silenced_by; /* a silence id, or NULL */
    const char *acked_by;    /* NULL when not acknowledged */
    int64_t acked_at;
    const char *ack_comment;
};
struct notify_history_row {
    int64_t id, at;
    uint64_t fingerprint;
    const char *kind; /* "transition", "notification", "ack", "unack", "silence" */
    const char *alertname;
    const char *labels_json;
    const char *from, *to; /* transitions: states; notifications: status "firing"/"resolved" */
    const char *receiver;  /* notifications */
    const char *outcome;   /* notifications: "sent", "failed: why", "retrying: why" */
    const char *who;       /* acks, silences */
};
struct notify_receiver_snap {
    const char *name;
    size_t ntargets;
    const char *kinds; /* "webhook, slack" */
    int64_t last_attempt, last_success;
    const char *last_error; /* "" when the last attempt succeeded */
};
struct notify_snapshot {
    struct notify_alert_snap *alerts;
    size_t nalerts;
    struct notify_silence *silences;
    size_t nsilences;
    struct notify_receiver_snap *receivers;
    size_t nreceivers;
    struct arena arena;
};
int notifier_snapshot(struct notifier *n, int64_t now_ms, struct notify_snapshot **out);
void notify_snapshot_free(struct notify_snapshot *s);
/* History, newest first: rows with id < before (0: from the newest), of fingerprint fp when
 * not 0, at most limit; rows handed to fn (strings valid during the call). */
int notifier_history(struct notifier *n, int64_t before, uint64_t fp, size_t limit,
                     int (*fn)(void *ud, const struct notify_history_row *r), void *ud);

#endif
