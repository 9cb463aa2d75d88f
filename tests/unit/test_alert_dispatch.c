/* Tests for src/alert/dispatch.c and send.c: the notifier driven through its sink and
 * notifier_tick at chosen times, sending to a tiny HTTP receiver on 127.0.0.1 (a thread that
 * records each request's path and body and answers the status codes a test queues) — group
 * waiting, group and repeat intervals, resolved notifications, silences, acknowledgments
 * across a restart, retries, permanent failures, the Alertmanager forward, Slack and Telegram
 * bodies, and the Telegram token kept out of every message; and for the files split out of
 * the notifier (route.c, silence.c, nflog.c, deliver.c): explicit zero intervals, silence
 * validation, alerts resolved at valid_until, retention of the history, silences and the
 * log, the inbox's cap and its own lock, parallel requests and a bounded shutdown with a
 * receiver that never answers, secrets scrubbed before messages are cut. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "alert/notify_int.h"
#include "journal/journal.h"
#include "store/store.h"
#include "tmpdir.h"
#include "tsdb/tsdb.h"

/* ---- the receiver ---- */

#define RX_MAX 512

struct rx {
    int fd, port;
    pthread_t thread;
    pthread_mutex_t mu;
    int status[RX_MAX]; /* the answer to request i; 0: 200 */
    char *path[RX_MAX], *body[RX_MAX];
    int n;
    volatile int stop;
};

/* Reads one request from c: its path and body. */
static void rx_serve(struct rx *r, int c)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    char *end = NULL;
    while (!end && len < cap) {
        ssize_t k = read(c, buf + len, cap - len);
        if (k <= 0)
            goto out;
        len += (size_t)k;
        buf[len] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end)
        goto out;
    const char *cl = strcasestr(buf, "Content-Length:");
    size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
    if (strcasestr(buf, "Expect: 100-continue"))
        (void)!write(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    size_t head = (size_t)(end + 4 - buf);
    while (len - head < want) {
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap + 1);
        }
        ssize_t k = read(c, buf + len, cap - len);
        if (k <= 0)
            goto out;
        len += (size_t)k;
    }
    buf[head + want] = '\0';
    char path[1024] = "";
    sscanf(buf, "POST %1023s", path);
    pthread_mutex_lock(&r->mu);
    int i = r->n < RX_MAX ? r->n++ : RX_MAX - 1;
    int status = r->status[i] ? r->status[i] : 200;
    r->path[i] = strdup(path);
    r->body[i] = strdup(buf + head);
    pthread_mutex_unlock(&r->mu);
    /* Errors echo the path: a sender must scrub what it quotes. */
    char resp[2048];
    const char *answer = status < 300 ? "" : path;
    int rl = snprintf(resp, sizeof(resp),
                      "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s", status,
                      strlen(answer), answer);
    (void)!write(c, resp, (size_t)rl);
out:
    free(buf);
}

static void *rx_main(void *arg)
{
    struct rx *r = arg;
    while (!r->stop) {
        struct pollfd p = {.fd = r->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(r->fd, NULL, NULL);
        if (c < 0)
            continue;
        rx_serve(r, c);
        close(c);
    }
    return NULL;
}

static struct rx *rx_start(void)
{
    struct rx *r = calloc(1, sizeof(*r));
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->fd >= 0);
    assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(r->fd, 16), 0);
    assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &al), 0);
    r->port = ntohs(a.sin_port);
    pthread_mutex_init(&r->mu, NULL);
    assert_int_equal(pthread_create(&r->thread, NULL, rx_main, r), 0);
    return r;
}

static void rx_stop(struct rx *r)
{
    r->stop = 1;
    pthread_join(r->thread, NULL);
    close(r->fd);
    for (int i = 0; i < r->n; i++) {
        free(r->path[i]);
        free(r->body[i]);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static int rx_count(struct rx *r)
{
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- fixtures ---- */

#define T0 1735725600000LL /* 2025-01-01T10:00:00Z */

struct fix {
    char *dir;
    struct rx *rx;
    struct store *st;
    struct journal *j;
    struct notifier *n;
    struct alert_sink sink;
    char url[128], base[64];
    struct notify_target targets[2];
    struct notify_receiver receiver;
    const char *group_by[1];
    struct notify_am am;
    struct label ext[1];
    struct notify_config cfg;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));
    void *dir;
    if (tmpdir_setup(&dir))
        return -1;
    f->dir = dir;
    f->rx = rx_start();
    snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%d", f->rx->port);
    snprintf(f->url, sizeof(f->url), "%s/hook", f->base);
    struct diag d = {0};
    assert_int_equal(store_open(f->dir, &f->st, &d), BW_OK);
    f->targets[0] = (struct notify_target){
        .kind = NOTIFY_WEBHOOK, .url = f->url, .send_resolved = true, .timeout_ms = 5000};
    f->receiver = (struct notify_receiver){"ops", f->targets, 1};
    f->group_by[0] = "alertname";
    f->cfg = (struct notify_config){
        .external_url = "http://bot-1:8000",
        .route = {.receiver = "ops",
                  .group_by = f->group_by,
                  .ngroup_by = 1,
                  .group_wait_ms = 30000,
                  .group_interval_ms = 300000,
                  .repeat_interval_ms = 4 * 3600000},
        .receivers = &f->receiver,
        .nreceivers = 1,
    };
    *state = f;
    return 0;
}

static void start(struct fix *f, bw_registry *reg)
{
    struct diag d = {0};
    assert_int_equal(notifier_new(&f->cfg, f->st, f->j, reg, &f->n, &d), BW_OK);
    f->sink = notifier_sink(f->n);
}

static int teardown(void **state)
{
    struct fix *f = *state;
    notifier_free(f->n);
    journal_close(f->j);
    store_close(f->st);
    rx_stop(f->rx);
    void *dir = f->dir;
    free(f);
    return tmpdir_teardown(&dir);
}

/* An alert HighLatency{severity=warning, venue=V}: labels and annotations in caller storage. */
struct mk {
    struct label l[3], an[1];
    char summary[64];
    struct alert a;
};

static struct alert *mk_alert(struct mk *m, const char *name, const char *venue,
                              enum alert_state st, int64_t active_at, int64_t fired_at)
{
    memset(m, 0, sizeof(*m));
    m->l[0] = (struct label){"alertname", name};
    m->l[1] = (struct label){"severity", "warning"};
    m->l[2] = (struct label){"venue", venue};
    snprintf(m->summary, sizeof(m->summary), "p99 on %.32s is high", venue);
    m->an[0] = (struct label){"summary", m->summary};
    m->a.labels = (struct labelset){m->l, 3};
    m->a.annotations = (struct labelset){m->an, 1};
    m->a.fingerprint = alert_fingerprint(&m->a.labels);
    m->a.state = st;
    m->a.active_at = active_at;
    m->a.fired_at = fired_at;
    m->a.generator_url = "http://bot-1:8000/graph?g0.expr=x";
    return &m->a;
}

/* Reports a → firing (inactive → pending → firing at t), and a round at t. */
static void fire(struct fix *f, struct alert *a, int64_t t)
{
    a->state = ALERT_PENDING;
    f->sink.transition(f->sink.ud, a, ALERT_INACTIVE, a->active_at);
    a->state = ALERT_FIRING;
    a->fired_at = t;
    f->sink.transition(f->sink.ud, a, ALERT_PENDING, t);
    notifier_tick(f->n, t); /* the notifier sees it at once, as its thread would */
}

static void resolve(struct fix *f, struct alert *a, int64_t t)
{
    a->state = ALERT_INACTIVE;
    a->resolved_at = t;
    f->sink.transition(f->sink.ud, a, ALERT_FIRING, t);
    notifier_tick(f->n, t);
}

static cJSON *body_json(struct fix *f, int i)
{
    cJSON *j = cJSON_Parse(f->rx->body[i]);
    assert_non_null(j);
    return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    assert_non_null(s);
    return s;
}

static char *fp_hex(uint64_t fp)
{
    static char out[4][17];
    static int k;
    char *s = out[k++ % 4];
    snprintf(s, 17, "%016llx", (unsigned long long)fp);
    return s;
}

/* The history as "kind|to|receiver|outcome|who" lines, newest first. */
struct hist {
    char rows[64][300];
    int n;
};

static int take_row(void *ud, const struct notify_history_row *r)
{
    struct hist *h = ud;
    if (h->n < 64)
        snprintf(h->rows[h->n++], sizeof(h->rows[0]), "%s|%s|%s|%s|%s", r->kind, r->to ? r->to : "",
                 r->receiver ? r->receiver : "", r->outcome ? r->outcome : "",
                 r->who ? r->who : "");
    return 0;
}

static struct hist *history_of(struct fix *f, uint64_t fp)
{
    static struct hist h;
    memset(&h, 0, sizeof(h));
    assert_int_equal(notifier_history(f->n, 0, fp, 0, take_row, &h), BW_OK);
    return &h;
}

static int count_rows(const struct hist *h, const char *prefix)
{
    int k = 0;
    for (int i = 0; i < h->n; i++)
        k += strncmp(h->rows[i], prefix, strlen(prefix)) == 0;
    return k;
}

/* ---- tests ---- */

static void test_group_wait_batches(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    assert_int_equal(journal_open(f->st, &f->j, &d), BW_OK);
    start(f, NULL);
    struct mk ma, mb;
    struct alert *a = mk_alert(&ma, "HighLatency", "B", ALERT_PENDING, T0, 0);
    struct alert *b = mk_alert(&mb, "HighLatency", "A", ALERT_PENDING, T0 + 2000, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0);
    fire(f, b, T0 + 5123);
    notifier_tick(f->n, T0 + 5123);
    notifier_tick(f->n, T0 + 29999);
    assert_int_equal(rx_count(f->rx), 0);
    notifier_tick(f->n, T0 + 30000);
    assert_int_equal(rx_count(f->rx), 1);
    assert_string_equal(f->rx->path[0], "/hook");

    cJSON *j = body_json(f, 0);
    assert_string_equal(jstr(j, "version"), "4");
    assert_string_equal(jstr(j, "groupKey"), "{}:{alertname=\"HighLatency\"}");
    assert_string_equal(jstr(j, "status"), "firing");
    assert_string_equal(jstr(j, "receiver"), "ops");
    assert_string_equal(jstr(j, "externalURL"), "http://bot-1:8000");
    assert_int_equal(cJSON_GetObjectItem(j, "truncatedAlerts")->valueint, 0);
    cJSON *gl = cJSON_GetObjectItem(j, "groupLabels");
    assert_int_equal(cJSON_GetArraySize(gl), 1);
    assert_string_equal(jstr(gl, "alertname"), "HighLatency");
    cJSON *cl = cJSON_GetObjectItem(j, "commonLabels");
    assert_int_equal(cJSON_GetArraySize(cl), 2); /* venue differs */
    assert_string_equal(jstr(cl, "severity"), "warning");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "commonAnnotations")), 0);
    cJSON *alerts = cJSON_GetObjectItem(j, "alerts");
    assert_int_equal(cJSON_GetArraySize(alerts), 2);
    /* Sorted by labels: venue A (b) first. */
    cJSON *x = cJSON_GetArrayItem(alerts, 0), *y = cJSON_GetArrayItem(alerts, 1);
    assert_string_equal(jstr(x, "status"), "firing");
    assert_string_equal(jstr(cJSON_GetObjectItem(x, "labels"), "venue"), "A");
    assert_string_equal(jstr(cJSON_GetObjectItem(x, "annotations"), "summary"), "p99 on A is high");
    assert_string_equal(jstr(x, "startsAt"), "2025-01-01T10:00:05.123Z");
    assert_string_equal(jstr(x, "endsAt"), "0001-01-01T00:00:00Z");
    assert_string_equal(jstr(x, "generatorURL"), "http://bot-1:8000/graph?g0.expr=x");
    assert_string_equal(jstr(x, "fingerprint"), fp_hex(b->fingerprint));
    assert_string_equal(jstr(y, "startsAt"), "2025-01-01T10:00:00Z");
    assert_string_equal(jstr(y, "fingerprint"), fp_hex(a->fingerprint));
    cJSON_Delete(j);

    /* The history holds both transitions of each alert and the notification. */
    struct hist *h = history_of(f, 0);
    assert_int_equal(count_rows(h, "transition|pending|"), 2);
    assert_int_equal(count_rows(h, "transition|firing|"), 2);
    assert_string_equal(h->rows[0], "notification|firing|ops|sent|");
    h = history_of(f, a->fingerprint);
    assert_int_equal(h->n, 2);

    /* Journal events: type alert, severity from the label, the summary in the message. */
    assert_int_equal(journal_flush(f->j), BW_OK);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(f->j, NULL, 0, 0, &l), BW_OK);
    int firing = 0;
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.items[i].type, "alert");
        assert_int_equal(l.items[i].severity, SEV_WARNING);
        if (strcmp(l.items[i].message, "HighLatency firing: p99 on A is high") == 0) {
            firing++;
            cJSON *dj = cJSON_Parse(l.items[i].data_json);
            assert_string_equal(jstr(dj, "fingerprint"), fp_hex(b->fingerprint));
            assert_string_equal(jstr(dj, "state"), "firing");
            assert_string_equal(jstr(cJSON_GetObjectItem(dj, "labels"), "venue"), "A");
            cJSON_Delete(dj);
        }
    }
    assert_int_equal(l.n, 4);
    assert_int_equal(firing, 1);
    journal_event_list_free(&l);
}

static void test_intervals(void **state)
{
    struct fix *f = *state;
    f->cfg.route.group_wait_ms = 10000;
    f->cfg.route.group_interval_ms = 60000;
    f->cfg.route.repeat_interval_ms = 180000;
    start(f, NULL);
    struct mk ma, mb;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    struct alert *b = mk_alert(&mb, "X", "B", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0);
    notifier_tick(f->n, T0 + 10000);
    assert_int_equal(rx_count(f->rx), 1);
    fire(f, b, T0 + 20000);
    notifier_tick(f->n, T0 + 20000);
    notifier_tick(f->n, T0 + 69999); /* the group's interval is not over */
    assert_int_equal(rx_count(f->rx), 1);
    notifier_tick(f->n, T0 + 70000); /* 10 s + 60 s: B is new */
    assert_int_equal(rx_count(f->rx), 2);
    cJSON *j = body_json(f, 1);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "alerts")), 2);
    cJSON_Delete(j);
    notifier_tick(f->n, T0 + 130000); /* unchanged, repeat not due */
    notifier_tick(f->n, T0 + 190000);
    assert_int_equal(rx_count(f->rx), 2);
    notifier_tick(f->n, T0 + 250000); /* last sent at 70 s, repeat 180 s */
    assert_int_equal(rx_count(f->rx), 3);
    assert_string_equal(f->rx->body[2], f->rx->body[1]);
}

static void test_resolved(void **state)
{
    struct fix *f = *state;
    start(f, NULL);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0 + 30000);
    assert_int_equal(rx_count(f->rx), 1);
    resolve(f, a, T0 + 45500);
    notifier_tick(f->n, T0 + 45500);
    notifier_tick(f->n, T0 + 330000);
    assert_int_equal(rx_count(f->rx), 2);
    cJSON *j = body_json(f, 1);
    assert_string_equal(jstr(j, "status"), "resolved");
    cJSON *x = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "alerts"), 0);
    assert_string_equal(jstr(x, "status"), "resolved");
    assert_string_equal(jstr(x, "endsAt"), "2025-01-01T10:00:45.5Z");
    cJSON_Delete(j);
    /* Notified once; re-sent resolved reports do not notify again. */
    a->state = ALERT_INACTIVE;
    f->sink.send(f->sink.ud, a, 1, T0 + 400000);
    notifier_tick(f->n, T0 + 630000);
    notifier_tick(f->n, T0 + 1000000);
    assert_int_equal(rx_count(f->rx), 2);
}

static void test_silence(void **state)
{
    struct fix *f = *state;
    start(f, NULL);
    struct diag d = {0};
    struct notify_matcher m[] = {{"alertname", "X|Y", true, true}, {"venue", "B", false, false}};
    struct notify_silence s = {.matchers = m,
                               .nmatchers = 2,
                               .starts_at = T0,
                               .ends_at = T0 + 3600000,
                               .created_by = "alice",
                               .comment = "maintenance"};
    assert_int_equal(notifier_silence_put(f->n, &s, T0, &d), BW_OK);
    assert_int_equal(strlen(s.id), 36);
    assert_int_equal(s.id[14], '4'); /* a version 4 UUID */
    struct notify_silence bad = s;
    bad.id[0] = '\0';
    bad.ends_at = T0 - 1;
    assert_int_equal(notifier_silence_put(f->n, &bad, T0, &d), BW_EINVAL);
    struct notify_matcher badre[] = {{"a", "(", true, true}};
    bad = (struct notify_silence){.matchers = badre, .nmatchers = 1, .ends_at = T0 + 1000};
    assert_int_equal(notifier_silence_put(f->n, &bad, T0, &d), BW_EINVAL);

    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0 + 30000);
    assert_int_equal(rx_count(f->rx), 0);
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0 + 30000, &snap), BW_OK);
    assert_int_equal(snap->nalerts, 1);
    assert_string_equal(snap->alerts[0].silenced_by, s.id);
    assert_string_equal(snap->alerts[0].receiver, "ops");
    assert_int_equal(snap->nsilences, 1);
    assert_string_equal(snap->silences[0].state, "active");
    assert_string_equal(snap->silences[0].matchers[0].value, "X|Y");
    notify_snapshot_free(snap);

    assert_int_equal(notifier_silence_expire(f->n, s.id, "bob", T0 + 40000), BW_OK);
    assert_int_equal(notifier_silence_expire(f->n, "nope", "bob", T0 + 40000), BW_ENOENT);
    notifier_tick(f->n, T0 + 329999);
    assert_int_equal(rx_count(f->rx), 0);
    notifier_tick(f->n, T0 + 330000);
    assert_int_equal(rx_count(f->rx), 1);
    struct hist *h = history_of(f, 0);
    assert_int_equal(count_rows(h, "silence|active||created"), 1);
    assert_int_equal(count_rows(h, "silence|expired||expired"), 1);
}

static void test_ack_across_restart(void **state)
{
    struct fix *f = *state;
    start(f, NULL);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    assert_int_equal(notifier_ack(f->n, a->fingerprint, "alice", "on it", T0), BW_ENOENT);
    fire(f, a, T0);
    notifier_tick(f->n, T0 + 1000);
    assert_int_equal(notifier_ack(f->n, a->fingerprint, "alice", "on it", T0 + 2000), BW_OK);
    notifier_free(f->n);

    start(f, NULL);
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0 + 3000, &snap), BW_OK);
    assert_int_equal(snap->nalerts, 0); /* not reported yet */
    notify_snapshot_free(snap);
    /* Reported again after the restart with a new activeAt, as the evaluator does for a rule
     * whose `for` is shorter than the grace period: still the episode acknowledged. */
    a->active_at = T0 + 14000;
    f->sink.send(f->sink.ud, a, 1, T0 + 15000);
    notifier_tick(f->n, T0 + 15000);
    assert_int_equal(notifier_snapshot(f->n, T0 + 15000, &snap), BW_OK);
    assert_int_equal(snap->nalerts, 1);
    assert_string_equal(snap->alerts[0].acked_by, "alice");
    assert_string_equal(snap->alerts[0].ack_comment, "on it");
    assert_int_equal(snap->alerts[0].acked_at, T0 + 2000);
    notify_snapshot_free(snap);

    resolve(f, a, T0 + 20000);
    notifier_tick(f->n, T0 + 20000);
    assert_int_equal(notifier_snapshot(f->n, T0 + 20000, &snap), BW_OK);
    assert_int_equal(snap->nalerts, 1);
    assert_null(snap->alerts[0].acked_by);
    notify_snapshot_free(snap);
    assert_int_equal(notifier_unack(f->n, a->fingerprint, "alice", T0 + 21000), BW_ENOENT);
    struct hist *h = history_of(f, a->fingerprint);
    assert_string_equal(h->rows[0], "unack|||resolved|breakwatch");
    assert_int_equal(count_rows(h, "ack|||on it|alice"), 1);

    /* The ack ended with the alert: a new episode after a restart starts unacknowledged. */
    notifier_free(f->n);
    start(f, NULL);
    a->active_at = T0 + 60000;
    fire(f, a, T0 + 60000);
    notifier_tick(f->n, T0 + 60000);
    assert_int_equal(notifier_snapshot(f->n, T0 + 60000, &snap), BW_OK);
    assert_null(snap->alerts[0].acked_by);
    notify_snapshot_free(snap);
}

static void test_retry_then_delivered(void **state)
{
    struct fix *f = *state;
    bw_registry *reg = bw_registry_new(0);
    f->rx->status[0] = 500;
    start(f, reg);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0 + 30000);
    assert_int_equal(rx_count(f->rx), 1);
    notifier_tick(f->n, T0 + 30500); /* backoff is 1 s ± 20 % */
    assert_int_equal(rx_count(f->rx), 1);
    notifier_tick(f->n, T0 + 31300);
    assert_int_equal(rx_count(f->rx), 2);
    assert_string_equal(f->rx->body[0], f->rx->body[1]);
    for (int64_t t = T0 + 40000; t < T0 + 320000; t += 10000)
        notifier_tick(f->n, t);
    assert_int_equal(rx_count(f->rx), 2); /* delivered once: the log has it */
    struct hist *h = history_of(f, 0);
    assert_string_equal(h->rows[0], "notification|firing|ops|sent|");
    assert_string_equal(h->rows[1], "notification|firing|ops|retrying: webhook: HTTP 500: /hook|");

    char *text = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &text, &cap, &len), BW_OK);
    assert_non_null(
        strstr(text, "notifications_total{receiver=\"ops\",integration=\"webhook\"} 2"));
    assert_non_null(strstr(text, "notifications_failed_total{receiver=\"ops\",integration="
                                 "\"webhook\",reason=\"serverError\"} 1"));
    assert_non_null(strstr(text, "notification_queue_length 0"));
    free(text);
    notifier_free(f->n);
    f->n = NULL;
    bw_registry_free(reg);
}

static void test_permanent_failure(void **state)
{
    struct fix *f = *state;
    f->rx->status[0] = 400;
    start(f, NULL);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0 + 30000);
    for (int64_t t = T0 + 31000; t < T0 + 100000; t += 1000)
        notifier_tick(f->n, t);
    assert_int_equal(rx_count(f->rx), 1);
    struct hist *h = history_of(f, 0);
    assert_string_equal(h->rows[0], "notification|firing|ops|failed: webhook: HTTP 400: /hook|");
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0 + 100000, &snap), BW_OK);
    assert_int_equal(snap->nreceivers, 1);
    assert_string_equal(snap->receivers[0].kinds, "webhook");
    assert_string_equal(snap->receivers[0].last_error, "webhook: HTTP 400: /hook");
    assert_int_equal(snap->receivers[0].last_success, 0);
    notify_snapshot_free(snap);
    /* Not in the log: the next group interval tries again. */
    notifier_tick(f->n, T0 + 330000);
    assert_int_equal(rx_count(f->rx), 2);
}

static void test_alertmanager(void **state)
{
    struct fix *f = *state;
    f->am = (struct notify_am){.url = f->base, .timeout_ms = 5000};
    f->cfg.alertmanagers = &f->am;
    f->cfg.nalertmanagers = 1;
    f->ext[0] = (struct label){"bot", "bot-1"};
    f->cfg.external_labels = f->ext;
    f->cfg.nexternal_labels = 1;
    f->receiver.ntargets = 0; /* only the forward */
    start(f, NULL);
    enum { N = 300 };
    static struct mk m[N];
    static char venue[N][8];
    struct alert v[N];
    for (int i = 0; i < N; i++) {
        snprintf(venue[i], sizeof(venue[i]), "v%03d", i);
        v[i] = *mk_alert(&m[i], "X", venue[i], ALERT_FIRING, T0, T0 + 1000);
        v[i].valid_until = T0 + 61000;
    }
    v[1].state = ALERT_INACTIVE;
    v[1].resolved_at = T0 + 30250;
    f->sink.send(f->sink.ud, v, N, T0 + 31000);
    notifier_tick(f->n, T0 + 31000);
    assert_int_equal(rx_count(f->rx), 2);
    assert_string_equal(f->rx->path[0], "/api/v2/alerts");
    assert_string_equal(f->rx->path[1], "/api/v2/alerts");
    cJSON *b0 = body_json(f, 0), *b1 = body_json(f, 1);
    int n0 = cJSON_GetArraySize(b0), n1 = cJSON_GetArraySize(b1);
    assert_true((n0 == 256 && n1 == N - 256) || (n1 == 256 && n0 == N - 256));
    cJSON *first = n0 == 256 ? b0 : b1;
    cJSON *x = cJSON_GetArrayItem(first, 0), *y = cJSON_GetArrayItem(first, 1);
    cJSON *xl = cJSON_GetObjectItem(x, "labels");
    assert_int_equal(cJSON_GetArraySize(xl), 4);
    assert_string_equal(jstr(xl, "bot"), "bot-1");
    assert_string_equal(jstr(xl, "venue"), "v000");
    assert_string_equal(jstr(x, "startsAt"), "2025-01-01T10:00:01Z");
    assert_string_equal(jstr(x, "endsAt"), "2025-01-01T10:01:01Z");
    assert_string_equal(jstr(x, "generatorURL"), "http://bot-1:8000/graph?g0.expr=x");
    assert_string_equal(jstr(cJSON_GetObjectItem(x, "annotations"), "summary"),
                        "p99 on v000 is high");
    assert_string_equal(jstr(y, "endsAt"), "2025-01-01T10:00:30.25Z");
    cJSON_Delete(b0);
    cJSON_Delete(b1);
}

static void test_slack_telegram(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    char slack[128];
    snprintf(slack, sizeof(slack), "%s/slack", f->base);
    f->targets[0] = (struct notify_target){
        .kind = NOTIFY_SLACK, .url = slack, .channel = "#alerts", .timeout_ms = 5000};
    f->targets[1] = (struct notify_target){.kind = NOTIFY_TELEGRAM,
                                           .url = f->base,
                                           .bot_token = "123:SECRET",
                                           .chat_id = -1001234567890LL,
                                           .timeout_ms = 5000};
    f->receiver.ntargets = 2;
    f->rx->status[1] = 400; /* the second request answers 400 and quotes its path */
    assert_int_equal(journal_open(f->st, &f->j, &d), BW_OK);
    start(f, NULL);
    assert_int_equal(notifier_test(f->n, "nobody", "eve", T0), BW_ENOENT);
    assert_int_equal(notifier_test(f->n, "ops", "<eve & co>", T0), BW_OK);
    notifier_tick(f->n, T0);
    assert_int_equal(rx_count(f->rx), 2);
    int si = strcmp(f->rx->path[0], "/slack") == 0 ? 0 : 1;
    assert_string_equal(f->rx->path[si], "/slack");
    assert_string_equal(f->rx->path[1 - si], "/bot123:SECRET/sendMessage");

    cJSON *s = body_json(f, si);
    assert_string_equal(jstr(s, "channel"), "#alerts");
    assert_string_equal(jstr(s, "username"), "breakwatch");
    assert_string_equal(jstr(s, "text"), "[FIRING:1] BreakwatchTestNotification");
    cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "attachments"), 0);
    assert_string_equal(jstr(att, "color"), "danger");
    assert_string_equal(jstr(att, "title"), "[FIRING:1] BreakwatchTestNotification");
    assert_string_equal(jstr(att, "text"), "[firing] Test notification requested by <eve & co>");
    cJSON_Delete(s);

    cJSON *t = body_json(f, 1 - si);
    assert_true(cJSON_GetObjectItem(t, "chat_id")->valuedouble == -1001234567890.0);
    assert_string_equal(jstr(t, "parse_mode"), "HTML");
    assert_string_equal(jstr(t, "text"), "<b>[FIRING:1] BreakwatchTestNotification</b>\n"
                                         "[firing] Test notification requested by &lt;eve &amp; "
                                         "co&gt;");
    cJSON_Delete(t);

    /* Whichever failed (the second request), the token appears nowhere. */
    struct hist *h = history_of(f, 0);
    assert_int_equal(h->n, 2);
    assert_int_equal(count_rows(h, "notification|firing|ops|sent|"), 1);
    assert_int_equal(count_rows(h, "notification|firing|ops|failed: "), 1);
    for (int i = 0; i < h->n; i++)
        assert_null(strstr(h->rows[i], "SECRET"));
    if (si == 0)
        assert_non_null(strstr(h->rows[0], "/bot<secret>/sendMessage"));
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0, &snap), BW_OK);
    assert_string_equal(snap->receivers[0].kinds, "slack, telegram");
    assert_null(strstr(snap->receivers[0].last_error, "SECRET"));
    notify_snapshot_free(snap);
    assert_int_equal(journal_flush(f->j), BW_OK);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(f->j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].type, "notification");
    assert_int_equal(l.items[0].severity, SEV_ERROR);
    assert_null(strstr(l.items[0].message, "SECRET"));
    journal_event_list_free(&l);
}

static void test_thread(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    f->cfg.route.group_wait_ms = 100;
    start(f, NULL);
    assert_int_equal(notifier_start(f->n, &d), BW_OK);
    assert_int_equal(notifier_tick(f->n, T0), BW_EBUSY);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, t, 0);
    fire(f, a, t);
    for (int i = 0; i < 300 && rx_count(f->rx) == 0; i++)
        usleep(10000);
    assert_int_equal(rx_count(f->rx), 1);
}

/* ---- the review's fixes ---- */

static char *metrics_text(bw_registry *reg)
{
    char *text = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &text, &cap, &len), BW_OK);
    return text;
}

/* A child route's explicit group_wait of 0 is 0, not the parent's 30 s. */
static void test_group_wait_zero(void **state)
{
    struct fix *f = *state;
    struct notify_route child = {.receiver = "ops",
                                 .group_by = f->group_by,
                                 .ngroup_by = 1,
                                 .group_wait_ms = 0,
                                 .group_interval_ms = 300000,
                                 .repeat_interval_ms = 4 * 3600000};
    struct tsdb_matcher m;
    struct diag d = {0};
    assert_int_equal(tsdb_matcher_init(&m, TSDB_MATCH_EQ, "venue", "A", &d), BW_OK);
    child.matchers = &m;
    child.nmatchers = 1;
    f->cfg.route.routes = &child;
    f->cfg.route.nroutes = 1;
    start(f, NULL);
    struct mk ma, mb;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    struct alert *b = mk_alert(&mb, "X", "B", ALERT_PENDING, T0, 0);
    fire(f, a, T0); /* the child's route: notified in the same round */
    assert_int_equal(rx_count(f->rx), 1);
    fire(f, b, T0); /* the root's: after 30 s */
    notifier_tick(f->n, T0 + 29999);
    assert_int_equal(rx_count(f->rx), 1);
    notifier_tick(f->n, T0 + 30000);
    assert_int_equal(rx_count(f->rx), 2);
    notifier_free(f->n);
    f->n = NULL;
    tsdb_matcher_fini(&m);
}

static void req_done(void *ud, struct notify_req *r)
{
    *(struct notify_req **)ud = r;
}

/* One request made through send.c's multi handle, waited for. */
static void post_one(struct notify_req *r)
{
    struct notify_http *h;
    struct notify_req *got = NULL;
    assert_int_equal(notify_http_init(), BW_OK);
    assert_int_equal(notify_http_new(&h), BW_OK);
    assert_int_equal(notify_http_start(h, r, NULL), BW_OK);
    while (notify_http_run(h, 100, NULL, req_done, &got) > 0)
        ;
    assert_ptr_equal(got, r);
    notify_http_free(h);
}

/* A secret that is part of the mask "<secret>" is replaced once, not forever. */
static void test_scrub_secret_in_mask(void **state)
{
    struct fix *f = *state;
    char url[256];
    snprintf(url, sizeof(url), "%s/botsecret/sendMessage", f->base);
    f->rx->status[0] = 400; /* the answer quotes the path */
    struct notify_req r = {
        .url = url, .body = "{}", .len = 2, .timeout_ms = 5000, .secret = "secret"};
    alarm(20); /* the old scrub spun here */
    post_one(&r);
    alarm(0);
    assert_int_equal(r.outcome, NOTIFY_FAILED);
    assert_string_equal(r.why, "HTTP 400: /bot<secret>/sendMessage");
    r.secret = "e"; /* shorter than the mask, and inside it */
    f->rx->status[1] = 400;
    alarm(20);
    post_one(&r);
    alarm(0);
    assert_string_equal(r.why,
                        "HTTP 400: /bots<secret>cr<secret>t/s<secret>ndM<secret>ssag<secret>");
}

/* A token that straddles where the answer is cut is masked whole, not cut and half shown. */
static void test_scrub_before_cut(void **state)
{
    struct fix *f = *state;
    char base[512], pad[200], token[64];
    /* The answer (the path) is cut at 200 bytes: "/", 190 x, "/bot" and then the token. */
    memset(pad, 'x', 190);
    pad[190] = '\0';
    snprintf(token, sizeof(token), "TOKEN%s", "abcdefghijklmnopqrstuvwxyz0123456789");
    snprintf(base, sizeof(base), "%s/%s", f->base, pad);
    f->targets[0] = (struct notify_target){
        .kind = NOTIFY_TELEGRAM, .url = base, .bot_token = token, .chat_id = 1, .timeout_ms = 5000};
    f->rx->status[0] = 400;
    start(f, NULL);
    assert_int_equal(notifier_test(f->n, "ops", "eve", T0), BW_OK);
    notifier_tick(f->n, T0);
    assert_int_equal(rx_count(f->rx), 1);
    struct hist *h = history_of(f, 0);
    assert_int_equal(h->n, 1);
    assert_null(strstr(h->rows[0], "TOKEN"));
    assert_null(strstr(h->rows[0], "TOK"));
    assert_non_null(strstr(h->rows[0], "/bot<sec")); /* masked, then cut at 200 bytes */
}

/* An Alertmanager URL's userinfo is neither a metric label nor in a journal event. */
static void test_alertmanager_userinfo(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    char url[128], shown[192], bare[128];
    snprintf(url, sizeof(url), "http://bob:pa55word@127.0.0.1:%d", f->rx->port);
    snprintf(bare, sizeof(bare), "http://127.0.0.1:%d", f->rx->port);
    snprintf(shown, sizeof(shown), "alertmanager=\"%s\"", bare);
    f->am = (struct notify_am){.url = url, .timeout_ms = 5000};
    f->cfg.alertmanagers = &f->am;
    f->cfg.nalertmanagers = 1;
    f->receiver.ntargets = 0;
    f->rx->status[0] = 400;
    bw_registry *reg = bw_registry_new(0);
    assert_int_equal(journal_open(f->st, &f->j, &d), BW_OK);
    start(f, reg);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_FIRING, T0, T0);
    f->sink.send(f->sink.ud, a, 1, T0);
    notifier_tick(f->n, T0);
    assert_int_equal(rx_count(f->rx), 1);
    char *text = metrics_text(reg);
    assert_null(strstr(text, "pa55word"));
    assert_null(strstr(text, "bob"));
    assert_non_null(strstr(text, shown));
    free(text);
    assert_int_equal(journal_flush(f->j), BW_OK);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(f->j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 1);
    assert_null(strstr(l.items[0].message, "pa55word"));
    assert_non_null(strstr(l.items[0].message, bare));
    journal_event_list_free(&l);
    notifier_free(f->n);
    f->n = NULL;
    bw_registry_free(reg);
}

/* Silences are checked as Alertmanager checks them. */
static void test_silence_validation(void **state)
{
    struct fix *f = *state;
    start(f, NULL);
    struct {
        struct notify_matcher m;
        const char *why;
    } bad[] = {
        {{"bad-name", "x", false, true}, "invalid label name"},
        {{"0abc", "x", false, true}, "invalid label name"},
        {{"", "x", false, true}, "invalid label name"},
        {{"a", "(", true, true}, "invalid regular expression"},
        {{"a", "\xff", false, true}, "UTF-8"},
        {{"a", "", false, true}, "must not match the empty string"},
        {{"a", ".*", true, true}, "must not match the empty string"},
        {{"a", "x", false, false}, "must not match the empty string"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        struct diag d = {0};
        struct notify_silence s = {
            .matchers = &bad[i].m, .nmatchers = 1, .starts_at = T0, .ends_at = T0 + 60000};
        assert_int_equal(notifier_silence_put(f->n, &s, T0, &d), BW_EINVAL);
        if (!strstr(d.msg, bad[i].why))
            fail_msg("matcher %zu: got \"%s\", want \"%s\"", i, d.msg, bad[i].why);
    }
    /* One matcher that needs a value is enough beside ones that match nothing. */
    struct notify_matcher ok[] = {{"a", "", false, true}, {"b", "x", false, true}};
    struct notify_silence s = {.matchers = ok, .nmatchers = 2, .starts_at = T0, .ends_at = T0 + 1};
    struct diag d = {0};
    assert_int_equal(notifier_silence_put(f->n, &s, T0, &d), BW_OK);
}

/* A firing alert that is no longer reported resolves at its valid_until, like any
 * resolution: history, journal, and its group notified at its next flush. */
static void test_valid_until(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    assert_int_equal(journal_open(f->st, &f->j, &d), BW_OK);
    start(f, NULL);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "Gone", "A", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    a->valid_until = T0 + 60000; /* the evaluator's last send */
    f->sink.send(f->sink.ud, a, 1, T0);
    notifier_tick(f->n, T0 + 30000);
    assert_int_equal(rx_count(f->rx), 1);
    notifier_tick(f->n, T0 + 59999);
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0 + 59999, &snap), BW_OK);
    assert_int_equal(snap->alerts[0].alert.state, ALERT_FIRING);
    notify_snapshot_free(snap);
    notifier_tick(f->n, T0 + 61000);
    assert_int_equal(notifier_snapshot(f->n, T0 + 61000, &snap), BW_OK);
    assert_int_equal(snap->nalerts, 1);
    assert_int_equal(snap->alerts[0].alert.state, ALERT_INACTIVE);
    assert_int_equal(snap->alerts[0].alert.resolved_at, T0 + 60000);
    notify_snapshot_free(snap);
    struct hist *h = history_of(f, a->fingerprint);
    assert_int_equal(count_rows(h, "transition|resolved|"), 1);
    assert_int_equal(journal_flush(f->j), BW_OK);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(f->j, NULL, 0, 0, &l), BW_OK);
    int resolved = 0;
    for (size_t i = 0; i < l.n; i++)
        resolved += strcmp(l.items[i].message, "Gone resolved: p99 on A is high") == 0;
    assert_int_equal(resolved, 1);
    journal_event_list_free(&l);
    /* The group's next flush (30 s + 5 min) tells the receiver. */
    notifier_tick(f->n, T0 + 329999);
    assert_int_equal(rx_count(f->rx), 1);
    notifier_tick(f->n, T0 + 330000);
    assert_int_equal(rx_count(f->rx), 2);
    cJSON *j = body_json(f, 1);
    assert_string_equal(jstr(j, "status"), "resolved");
    cJSON *x = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "alerts"), 0);
    assert_string_equal(jstr(x, "endsAt"), "2025-01-01T10:01:00Z");
    cJSON_Delete(j);
    /* Only once. */
    notifier_tick(f->n, T0 + 700000);
    h = history_of(f, a->fingerprint);
    assert_int_equal(count_rows(h, "transition|resolved|"), 1);
}

static int count_silences(void *ud, const struct store_alert_silence_row *r)
{
    (void)r;
    ++*(int *)ud;
    return 0;
}

static int count_nflog(void *ud, const struct store_alert_nflog_row *r)
{
    (void)r;
    ++*(int *)ud;
    return 0;
}

#define DAY (24 * 3600000LL)

/* The history, ended silences and the log of groups that are gone do not grow for ever. */
static void test_retention(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    start(f, NULL);
    struct notify_matcher m[] = {{"venue", "Z", false, true}};
    struct notify_silence s = {
        .matchers = m, .nmatchers = 1, .starts_at = T0, .ends_at = T0 + 3600000};
    assert_int_equal(notifier_silence_put(f->n, &s, T0, &d), BW_OK);
    struct mk ma;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0);
    fire(f, a, T0);
    notifier_tick(f->n, T0 + 30000);
    resolve(f, a, T0 + 40000);
    notifier_tick(f->n, T0 + 330000); /* resolved sent; the group is gone */
    assert_int_equal(rx_count(f->rx), 2);
    int ns = 0, nl = 0;
    assert_int_equal(store_alert_nflog_each(f->st, count_nflog, &nl), BW_OK);
    assert_int_equal(nl, 1);
    /* Within the repeat interval (4 h from the last notification) the entry stays. */
    notifier_tick(f->n, T0 + 330000 + 4 * 3600000 - 1);
    nl = 0;
    assert_int_equal(store_alert_nflog_each(f->st, count_nflog, &nl), BW_OK);
    assert_int_equal(nl, 1);
    notifier_tick(f->n, T0 + 330000 + 4 * 3600000 + 600000);
    nl = 0;
    assert_int_equal(store_alert_nflog_each(f->st, count_nflog, &nl), BW_OK);
    assert_int_equal(nl, 0);

    /* 5 days after the silence ended: gone from memory and the store, and so is the history
     * of that time. */
    struct hist *h = history_of(f, 0);
    int before = h->n;
    assert_true(before >= 6);
    notifier_tick(f->n, T0 + 3600000 + 5 * DAY - 1000);
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0 + 3600000 + 5 * DAY - 1000, &snap), BW_OK);
    assert_int_equal(snap->nsilences, 1);
    notify_snapshot_free(snap);
    notifier_tick(f->n, T0 + 3600000 + 5 * DAY + 3600000);
    assert_int_equal(notifier_snapshot(f->n, T0 + 3600000 + 5 * DAY + 3600000, &snap), BW_OK);
    assert_int_equal(snap->nsilences, 0);
    notify_snapshot_free(snap);
    assert_int_equal(store_alert_silences_each(f->st, count_silences, &ns), BW_OK);
    assert_int_equal(ns, 0);
    /* Left: the one row of the last 5 days, the silence's expiry noted at T0 + 4 h 5.5 min. */
    h = history_of(f, 0);
    assert_int_equal(h->n, 1);
    assert_int_equal(count_rows(h, "silence|expired||expired "), 1);
}

/* The inbox takes NOTIFY_INBOX_MAX alerts; the rest are counted as dropped. */
static void test_inbox_cap(void **state)
{
    struct fix *f = *state;
    bw_registry *reg = bw_registry_new(0);
    f->receiver.ntargets = 0;
    start(f, reg);
    enum { N = NOTIFY_INBOX_MAX + 5 };
    static struct mk m[N];
    static char venue[N][8];
    static struct alert v[N];
    for (int i = 0; i < N; i++) {
        snprintf(venue[i], sizeof(venue[i]), "v%05d", i);
        v[i] = *mk_alert(&m[i], "X", venue[i], ALERT_FIRING, T0, T0);
    }
    f->sink.send(f->sink.ud, v, N, T0);
    f->sink.transition(f->sink.ud, &v[0], ALERT_PENDING, T0);
    char *text = metrics_text(reg);
    assert_non_null(strstr(text, "notifications_inbox_dropped_total 6\n"));
    free(text);
    notifier_tick(f->n, T0);
    struct notify_snapshot *snap;
    assert_int_equal(notifier_snapshot(f->n, T0, &snap), BW_OK);
    assert_int_equal(snap->nalerts, NOTIFY_INBOX_MAX);
    notify_snapshot_free(snap);
    /* Emptied: there is room again. */
    f->sink.transition(f->sink.ud, &v[N - 1], ALERT_PENDING, T0 + 1);
    notifier_tick(f->n, T0 + 1);
    assert_int_equal(notifier_snapshot(f->n, T0 + 1, &snap), BW_OK);
    assert_int_equal(snap->nalerts, NOTIFY_INBOX_MAX + 1);
    notify_snapshot_free(snap);
    notifier_free(f->n);
    f->n = NULL;
    bw_registry_free(reg);
}

/* The sink does not wait while the notifier's lock is held (here by a history read). */
struct blocked {
    struct fix *f;
    struct alert *a;
    volatile int done, seen_inside;
};

static void *report(void *arg)
{
    struct blocked *b = arg;
    b->f->sink.transition(b->f->sink.ud, b->a, ALERT_INACTIVE, T0);
    b->done = 1;
    return NULL;
}

static int hold_lock(void *ud, const struct notify_history_row *r)
{
    struct blocked *b = ud;
    pthread_t t;
    (void)r;
    if (b->seen_inside)
        return 0;
    assert_int_equal(pthread_create(&t, NULL, report, b), 0);
    for (int i = 0; i < 200 && !b->done; i++)
        usleep(10000);
    b->seen_inside = b->done ? 1 : -1;
    pthread_join(t, NULL);
    return 0;
}

static void test_sink_never_waits(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    start(f, NULL);
    struct notify_matcher m[] = {{"venue", "Z", false, true}};
    struct notify_silence s = {.matchers = m, .nmatchers = 1, .starts_at = T0, .ends_at = T0 + 1};
    assert_int_equal(notifier_silence_put(f->n, &s, T0, &d), BW_OK); /* a history row */
    struct mk ma;
    struct blocked b = {.f = f, .a = mk_alert(&ma, "X", "A", ALERT_PENDING, T0, 0)};
    assert_int_equal(notifier_history(f->n, 0, 0, 0, hold_lock, &b), BW_OK);
    assert_int_equal(b.seen_inside, 1);
}

/* A listener that accepts connections (the kernel does) and never answers. */
static int silent_listener(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof(a);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Requests go out in parallel: a receiver that never answers delays no other, and shutdown
 * takes no longer than its budget. */
static void test_hanging_receiver(void **state)
{
    struct fix *f = *state;
    struct diag d = {0};
    int port;
    int fd = silent_listener(&port);
    char hang[128];
    snprintf(hang, sizeof(hang), "http://127.0.0.1:%d/never", port);
    f->targets[0] = (struct notify_target){
        .kind = NOTIFY_WEBHOOK, .url = hang, .send_resolved = true, .timeout_ms = 120000};
    f->targets[1] = (struct notify_target){
        .kind = NOTIFY_WEBHOOK, .url = f->url, .send_resolved = true, .timeout_ms = 5000};
    f->receiver.ntargets = 2;
    f->cfg.route.group_wait_ms = 100;
    start(f, NULL);
    assert_int_equal(notifier_start(f->n, &d), BW_OK);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t t = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    struct mk ma, mb;
    struct alert *a = mk_alert(&ma, "X", "A", ALERT_PENDING, t, 0);
    fire(f, a, t);
    int64_t t0 = now_ms();
    while (rx_count(f->rx) == 0 && now_ms() - t0 < 3000)
        usleep(10000);
    assert_int_equal(rx_count(f->rx), 1);
    /* A test notification while the first request still hangs goes out too. */
    struct alert *b = mk_alert(&mb, "Y", "B", ALERT_PENDING, t, 0);
    (void)b;
    assert_int_equal(notifier_test(f->n, "ops", "eve", t), BW_OK);
    t0 = now_ms();
    while (rx_count(f->rx) < 2 && now_ms() - t0 < 3000)
        usleep(10000);
    assert_int_equal(rx_count(f->rx), 2);
    t0 = now_ms();
    notifier_free(f->n);
    f->n = NULL;
    int64_t took = now_ms() - t0;
    if (took > NOTIFY_STOP_BUDGET_MS + 1000)
        fail_msg("notifier_free took %lld ms", (long long)took);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_group_wait_batches), T(test_intervals),
        T(test_resolved),           T(test_silence),
        T(test_ack_across_restart), T(test_retry_then_delivered),
        T(test_permanent_failure),  T(test_alertmanager),
        T(test_slack_telegram),     T(test_thread),
        T(test_group_wait_zero),    T(test_scrub_secret_in_mask),
        T(test_scrub_before_cut),   T(test_alertmanager_userinfo),
        T(test_silence_validation), T(test_valid_until),
        T(test_retention),          T(test_inbox_cap),
        T(test_sink_never_waits),   T(test_hanging_receiver),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
