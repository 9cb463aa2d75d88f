/* notify internals, shared by the files of the notification side and by nothing outside it:
 * the notifier's state (dispatch.c owns it; route.c, silence.c, nflog.c and deliver.c each
 * work on their part of it under its lock), one notification as the senders format it, the
 * request bodies of each integration, and the HTTP requests with their outcomes (send.c). */
#ifndef BW_NOTIFY_INT_H
#define BW_NOTIFY_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/notify.h"

struct notify_msg;
struct store_alert_history_row;

/* Limits. */
#define NOTIFY_INBOX_MAX      10000 /* alerts waiting for the notifier (Prometheus's queue) */
#define NOTIFY_RETENTION_MS   (5 * 24 * 3600000LL) /* history, ended silences: as Alertmanager */
#define NOTIFY_HISTORY_MAX    100000               /* history rows kept at most */
#define NOTIFY_STOP_BUDGET_MS 5000 /* notifier_free: the last tries of what is queued */

/* ---- the notifier's state (all under n->mu but the inbox) ---- */

enum notify_item_kind { ITEM_TRANSITION, ITEM_SEND };

/* What the sink queued: copies of the alerts in an arena of their own. */
struct notify_item {
    enum notify_item_kind kind;
    enum alert_state from;
    int64_t t;
    struct alert *v;
    size_t n;
    struct arena ar;
    struct notify_item *next;
};

/* An alert the notifier was told about: a copy, its strings in ar. */
struct notify_tracked {
    struct alert a;
    struct arena ar;
};

/* A route (config.c resolved what it inherits), its Alertmanager key and its receiver's index
 * (SIZE_MAX: none, alerts are only forwarded). */
struct notify_rnode {
    const struct notify_route *route;
    char *key; /* {}/{severity="critical"} */
    size_t receiver;
};

/* Alerts of one route with the same group labels. */
struct notify_group {
    char *key; /* route key ":" group labels */
    const struct notify_rnode *rn;
    struct labelset labels;
    struct arena ar; /* key and labels */
    uint64_t *fps;
    size_t nfps, cap;
    int64_t next_flush;
};

/* The notification log of one group and target: when it was last notified and what. */
struct notify_nflog {
    char *key; /* receiver "/" target index "/" group key */
    int64_t sent_at;
    uint64_t *firing, *resolved;
    size_t nfiring, nresolved;
    bool live; /* its group exists (set while collecting garbage) */
};

struct notify_ack {
    uint64_t fp;
    int64_t active_at, at;
    char *who, *comment;
};

struct notify_silence_state {
    struct notify_silence s; /* strings and matchers in ar */
    struct tsdb_matcher *m;
    bool expiry_noted; /* the history has its expiry */
    struct arena ar;
};

/* What one request came to: sent (2xx), worth retrying (429, 5xx, no answer) or refused for
 * good (any other status). */
enum notify_outcome { NOTIFY_SENT, NOTIFY_RETRY, NOTIFY_FAILED };

/* One HTTP request and what it came to (send.c). */
struct notify_req {
    const char *url, *body;
    size_t len;
    int64_t timeout_ms;
    const char *secret; /* replaced by "<secret>" in why; may be NULL */
    enum notify_outcome outcome;
    char why[256]; /* "HTTP 503: <start of the answer>" or the transport's error */
    double seconds;
};

/* A request to make: a group's notification to one target, a test notification, or a batch
 * forwarded to an Alertmanager. Strings in ar. */
struct notify_delivery {
    struct notify_req req;
    const struct notify_target *target; /* NULL: to an Alertmanager */
    size_t receiver, am;
    const char *key; /* the notification log's; NULL for tests and forwards */
    uint64_t *firing, *resolved;
    size_t nfiring, nresolved, nalerts;
    const char *status, *alertname, *labels_json;
    int attempts;
    int64_t next_try;
    struct arena ar;
    struct notify_delivery *next;
};

/* Handles of one receiver's integration kind. */
struct notify_kind_metrics {
    bw_counter *total, *failed[3]; /* failed by reason: clientError, serverError, other */
    bw_histogram *latency;
};

struct notify_recv_state {
    int64_t last_attempt, last_success, last_event;
    char last_error[300];
    struct notify_kind_metrics km[3]; /* by enum notify_kind */
};

struct notify_am_state {
    char *shown;    /* the URL without its userinfo: the metrics' label, messages */
    char *userinfo; /* "user:password" or NULL: scrubbed from messages */
    int64_t last_event;
    bw_counter *sent, *errors, *dropped;
};

struct notifier {
    const struct notify_config *cfg;
    struct store *st;
    struct journal *j;
    pthread_mutex_t mu; /* everything but the inbox */
    pthread_t thread;
    bool started;

    /* The inbox and the thread's wake-up, under inbox_mu alone, so that the sink never waits
     * for what is done under mu (SQLite, the API's reads). mu may be held when inbox_mu is
     * taken, never the other way round. */
    pthread_mutex_t inbox_mu;
    pthread_cond_t cv;
    struct notify_item *inbox, **inbox_tail;
    size_t inbox_alerts;
    bool kicked, stop, drop_logged;
    _Atomic int64_t stop_deadline; /* monotonic ms bounding the last tries; 0 until stopping */

    struct notify_tracked **alerts;
    size_t nalerts, cap_alerts;
    struct notify_rnode *routes;
    size_t nroutes;
    struct notify_group **groups;
    size_t ngroups, cap_groups;
    struct notify_nflog *log;
    size_t nlog, cap_log;
    struct notify_ack *acks;
    size_t nacks, cap_acks;
    struct notify_silence_state **silences;
    size_t nsilences, cap_silences;
    struct notify_delivery *pending;
    size_t npending;
    struct notify_http *http; /* requests in flight: the thread's (or notifier_tick's) alone */
    struct notify_recv_state *recv;
    struct notify_am_state *ams;
    uint64_t rng;
    int64_t last_gc;

    bw_gauge *queue_len, *silences_active, *acknowledged;
    bw_counter *inbox_dropped;
};

/* dispatch.c */
/* Grows *v (n elements of size bytes, *cap allocated) for one more. BW_OK or BW_ENOMEM. */
int notify_grow(void **v, size_t n, size_t *cap, size_t size);
const char *notify_dup(struct arena *a, const char *s, int *rc); /* NULL stays NULL */
uint64_t notify_random(struct notifier *n);                      /* for jitter */
struct notify_tracked *notify_tracked_find(struct notifier *n, uint64_t fp, size_t *idx);
/* Appends a history row (failures logged). */
void notify_history(struct notifier *n, const struct store_alert_history_row *r);
void notify_history_alert(struct notifier *n, const struct alert *a, int64_t at, const char *kind,
                          const char *from, const char *to, const char *who, const char *outcome);
/* A failure as a journal event, at most one a minute per *last. */
void notify_journal_failure(struct notifier *n, int64_t *last, int64_t now, const char *what,
                            const char *why);
/* Wakes the thread for a round (mu may be held). */
void notify_kick(struct notifier *n);
/* The gauges (queue length, active silences, acknowledged alerts), under mu. */
void notify_update_gauges(struct notifier *n, int64_t now);

/* route.c: the route tree and the groups. */
/* n->routes filled from n->cfg's tree (n->routes sized by notify_routes_count). */
size_t notify_routes_count(const struct notify_route *r);
int notify_routes_build(struct notifier *n, struct diag *d);
size_t notify_receiver_index(const struct notify_config *c, const char *name);
/* Alertmanager's Route.Match: the deepest matching routes; returns how many (at most cap). */
bool notify_matchers_match(const struct tsdb_matcher *m, size_t nm, const struct labelset *ls);
size_t notify_route_match(struct notifier *n, const struct labelset *ls,
                          const struct notify_rnode **out, size_t cap);
/* Puts a firing or resolved alert into the groups its routes lead to. */
void notify_route_alert(struct notifier *n, const struct alert *a, int64_t now);
/* Flushes the groups due at now; drops the ones left empty. */
void notify_groups_flush(struct notifier *n, int64_t now);
void notify_group_free(struct notify_group *g);

/* nflog.c: the notification log. */
struct notify_nflog *notify_nflog_find(struct notifier *n, const char *key);
/* Records a notification in memory and in the store. */
void notify_nflog_log(struct notifier *n, const char *key, int64_t at, const uint64_t *f, size_t nf,
                      const uint64_t *r, size_t nr);
/* Alertmanager's DedupStage.needsUpdate. */
bool notify_nflog_needs_update(const struct notify_nflog *e, const uint64_t *f, size_t nf,
                               const uint64_t *r, size_t nr, bool send_resolved, int64_t repeat,
                               int64_t now);
/* Entries of groups that are gone, once their repeat interval passed: out of memory and store. */
void notify_nflog_gc(struct notifier *n, int64_t now);
int notify_nflog_load(struct notifier *n);
void notify_nflog_clear(struct notify_nflog *e);

/* silence.c: silences and acknowledgments. */
bool notify_silence_active(const struct notify_silence_state *s, int64_t now);
const char *notify_silence_state_name(const struct notify_silence *s, int64_t now);
/* The id of the first active silence muting ls, or NULL. */
const char *notify_silenced_by(struct notifier *n, const struct labelset *ls, int64_t now);
/* Silences that ran out get their history row once; ones that ended NOTIFY_RETENTION_MS ago
 * leave memory and the store. */
void notify_silences_tick(struct notifier *n, int64_t now, bool gc);
void notify_silence_free(struct notify_silence_state *s);
/* The ack of t while it is pending or firing, or NULL. */
const struct notify_ack *notify_ack_of(struct notifier *n, const struct notify_tracked *t);
/* Forgets a's acknowledgment (if any) because it went away or resolved (why). */
void notify_ack_forget(struct notifier *n, const struct alert *a, int64_t at, const char *why);
void notify_ack_free(struct notify_ack *k);
/* Loads acknowledgments and silences from the store. */
int notify_silences_load(struct notifier *n);

/* deliver.c: the requests. */
void notify_delivery_free(struct notify_delivery *d);
/* Adds d to the pending list; a pending one with the same log key is superseded by it. */
void notify_delivery_queue(struct notifier *n, struct notify_delivery *d);
/* A request of message m to target ti of receiver ri. key: the log's (NULL: a test). */
struct notify_delivery *notify_target_delivery(struct notifier *n, size_t ri, size_t ti,
                                               const struct notify_msg *m, const char *key,
                                               const uint64_t *firing, size_t nf,
                                               const uint64_t *resolved, size_t nr, int64_t now);
/* Queues batches of the evaluator's alerts to every Alertmanager. */
void notify_forward(struct notifier *n, const struct alert *v, size_t cnt, int64_t now);
/* Takes the requests due at now off the pending list (all of them when stopping). */
struct notify_delivery *notify_deliveries_due(struct notifier *n, int64_t now);
/* Starts the requests of list (n->http); those that cannot start are put on *failed, their
 * outcome set. */
void notify_deliveries_start(struct notifier *n, struct notify_delivery *list,
                             struct notify_delivery **failed);
/* notify_http_run's done: puts r's delivery on the list at ud (a struct notify_delivery **). */
void notify_delivery_finished(void *ud, struct notify_req *r);
/* Under the lock again: metrics, history, the log, retries (list consumed). */
void notify_deliveries_done(struct notifier *n, struct notify_delivery *list, int64_t now);
int notify_register_metrics(struct notifier *n, bw_registry *reg);
/* "webhook", "slack", "telegram". */
extern const char *const notify_kind_names[3];

/* ---- send.c: bodies and HTTP ---- */

/* One group's notification: its alerts (firing and resolved, in the group's order) and what
 * the webhook format says about the group. */
struct notify_msg {
    const char *receiver;
    const char *group_key;    /* {}:{alertname="X"} */
    const char *external_url; /* may be NULL: "" */
    struct labelset group_labels;
    const struct alert *const *alerts;
    size_t n;
};

/* The request bodies, appended to out (JSON). BW_OK, BW_ENOMEM, BW_ENOSPC (out's cap).
 * Webhook: Alertmanager's payload version 4, at most max_alerts alerts (0: all) and the rest
 * counted in truncatedAlerts. */
int notify_body_webhook(const struct notify_msg *m, size_t max_alerts, struct buf *out);
/* Slack incoming webhook: {"channel", "username", "text", "attachments": [{color, title,
 * text}]}, one line of text per alert. */
int notify_body_slack(const struct notify_msg *m, const char *channel, struct buf *out);
/* Telegram sendMessage: {"chat_id", "text" (HTML, escaped), "parse_mode": "HTML"}. */
int notify_body_telegram(const struct notify_msg *m, int64_t chat_id, struct buf *out);
/* Alertmanager POST /api/v2/alerts: v[0..n) as a JSON array, each alert's labels with the
 * external labels it does not have, startsAt its firing time, endsAt its resolution or, while
 * it fires, valid_until. */
int notify_body_am(const struct alert *v, size_t n, const struct label *ext, size_t next,
                   struct buf *out);

/* A label set as a JSON object ({"alertname":"X",...}) appended to out. */
int notify_labels_json(const struct labelset *ls, struct buf *out);

/* Requests in flight, all at once on one libcurl multi handle. Used by one thread at a time.
 * notify_http_new: BW_OK or BW_ENOMEM. notify_http_free abandons what is in flight without
 * handing it out. */
struct notify_http;
int notify_http_new(struct notify_http **out);
void notify_http_free(struct notify_http *h);
/* Starts POSTing r->body (JSON) to r->url within r->timeout_ms (10 s when not positive; less
 * when *deadline — monotonic ms, 0: none; deadline may be NULL — comes sooner). r must stay
 * valid until notify_http_run hands it out. BW_OK, or BW_ENOMEM: r is then not handed out,
 * its outcome is NOTIFY_RETRY "out of memory" at once. */
int notify_http_start(struct notify_http *h, struct notify_req *r, _Atomic int64_t *deadline);
/* Moves the transfers on, waiting at most wait_ms for network activity, and hands each request
 * that finished to done with its outcome, why (for anything but NOTIFY_SENT; every occurrence
 * of its secret replaced by "<secret>" before the text is cut to fit) and seconds set. Once
 * *deadline passed, what is still in flight is handed out as NOTIFY_FAILED "not sent before
 * shutdown". Returns how many requests are still in flight. */
size_t notify_http_run(struct notify_http *h, int wait_ms, _Atomic int64_t *deadline,
                       void (*done)(void *ud, struct notify_req *r), void *ud);
/* libcurl's global initialisation, once per process. BW_OK or BW_EIO. */
int notify_http_init(void);

/* The wait before retry number attempt (1: the first retry): 1 s doubling up to 5 min, then
 * ±20 % jitter from r (any 64 random bits). */
int64_t notify_backoff_ms(int attempt, uint64_t r);

#endif
