/* send: the notification side's way out — the request bodies of each integration (the
 * webhook in Alertmanager's payload version 4, Slack's incoming webhook, Telegram's
 * sendMessage, Alertmanager's POST /api/v2/alerts) and the HTTP POSTs with libcurl.
 *
 * Main data structure: struct notify_msg (notify_int.h), a group's alerts as views; bodies are
 * built as cJSON trees and printed into the caller's buf. A round's requests are flights of
 * one libcurl multi handle.
 *
 * The design decision: all of a round's requests go out at once through libcurl's multi
 * interface, each with its own timeout, so a receiver that never answers delays no other, and
 * a deadline (the notifier's shutdown budget) cuts the wait short. Each request is a fresh easy
 * handle that keeps no connection, cookie or credential between receivers. Its outcome is
 * classified here (sent / retry / failed) so the notifier only schedules; and every message
 * that leaves here has the request's secret (a Telegram token in the URL, an Alertmanager's
 * userinfo) scrubbed out of the whole text before it is cut to size, since libcurl's errors
 * and receivers' answers may quote the URL. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "alert/notify_int.h"

#define SNIPPET_MAX        200  /* bytes of an error answer's first line kept for the message */
#define ANSWER_KEEP        4096 /* bytes of an answer read, scrubbed before it is cut */
#define TIMEOUT_DEFAULT_MS 10000
#define BACKOFF_FIRST      1000          /* ms */
#define BACKOFF_MAX        (5 * 60000LL) /* ms */

static bool resolved(const struct alert *a)
{
    return a->state == ALERT_INACTIVE;
}

/* ---- JSON ---- */

/* Prints j (consumed) compactly into out. */
static int print_json(cJSON *j, struct buf *out)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    int rc = s ? buf_puts(out, s) : BW_ENOMEM;
    cJSON_free(s);
    cJSON_Delete(j);
    return rc;
}

/* {name: value, ...} of n labels. */
static cJSON *labels_object(const struct label *v, size_t n)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < n; i++) {
        if (!cJSON_AddStringToObject(o, v[i].name, v[i].value)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

int notify_labels_json(const struct labelset *ls, struct buf *out)
{
    return print_json(labels_object(ls->v, ls->n), out);
}

static bool add_time(cJSON *o, const char *key, int64_t ms)
{
    char t[32];
    fmt_go_time(t, ms);
    return cJSON_AddStringToObject(o, key, t) != NULL;
}

static bool add_labels(cJSON *o, const char *key, const struct label *v, size_t n)
{
    cJSON *l = labels_object(v, n);
    if (l && cJSON_AddItemToObject(o, key, l))
        return true;
    cJSON_Delete(l);
    return false;
}

/* The labels (or annotations) that every alert of m has with the same value. */
static size_t common(const struct notify_msg *m, bool annotations, struct label *out, size_t cap)
{
    size_t n = 0;
    if (m->n == 0)
        return 0;
    const struct labelset *first = annotations ? &m->alerts[0]->annotations : &m->alerts[0]->labels;
    for (size_t i = 0; i < first->n && n < cap; i++) {
        bool all = true;
        for (size_t k = 1; all && k < m->n; k++) {
            const struct labelset *ls =
                annotations ? &m->alerts[k]->annotations : &m->alerts[k]->labels;
            const char *v = labelset_get(ls, first->v[i].name);
            all = v && strcmp(v, first->v[i].value) == 0;
        }
        if (all)
            out[n++] = first->v[i];
    }
    return n;
}

static size_t count_firing(const struct notify_msg *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n; i++)
        n += !resolved(m->alerts[i]);
    return n;
}

static cJSON *webhook_alert(const struct alert *a)
{
    char fp[17];
    cJSON *o = cJSON_CreateObject();
    alert_fingerprint_hex(a->fingerprint, fp);
    if (o && cJSON_AddStringToObject(o, "status", resolved(a) ? "resolved" : "firing") &&
        add_labels(o, "labels", a->labels.v, a->labels.n) &&
        add_labels(o, "annotations", a->annotations.v, a->annotations.n) &&
        add_time(o, "startsAt", a->fired_at ? a->fired_at : a->active_at) &&
        add_time(o, "endsAt", resolved(a) ? a->resolved_at : 0) &&
        cJSON_AddStringToObject(o, "generatorURL", a->generator_url ? a->generator_url : "") &&
        cJSON_AddStringToObject(o, "fingerprint", fp))
        return o;
    cJSON_Delete(o);
    return NULL;
}

int notify_body_webhook(const struct notify_msg *m, size_t max_alerts, struct buf *out)
{
    size_t shown = max_alerts && max_alerts < m->n ? max_alerts : m->n;
    struct label cl[64], ca[64];
    size_t ncl = common(m, false, cl, BW_ARRAY_LEN(cl));
    size_t nca = common(m, true, ca, BW_ARRAY_LEN(ca));
    cJSON *o = cJSON_CreateObject();
    cJSON *alerts = NULL;
    bool ok = o && cJSON_AddStringToObject(o, "version", "4") &&
              cJSON_AddStringToObject(o, "groupKey", m->group_key) &&
              cJSON_AddNumberToObject(o, "truncatedAlerts", (double)(m->n - shown)) &&
              cJSON_AddStringToObject(o, "status", count_firing(m) ? "firing" : "resolved") &&
              cJSON_AddStringToObject(o, "receiver", m->receiver) &&
              add_labels(o, "groupLabels", m->group_labels.v, m->group_labels.n) &&
              add_labels(o, "commonLabels", cl, ncl) &&
              add_labels(o, "commonAnnotations", ca, nca) &&
              cJSON_AddStringToObject(o, "externalURL", m->external_url ? m->external_url : "") &&
              (alerts = cJSON_AddArrayToObject(o, "alerts"));
    for (size_t i = 0; ok && i < shown; i++) {
        cJSON *a = webhook_alert(m->alerts[i]);
        ok = a && cJSON_AddItemToArray(alerts, a);
        if (!ok)
            cJSON_Delete(a);
    }
    if (!ok) {
        cJSON_Delete(o);
        return BW_ENOMEM;
    }
    return print_json(o, out);
}

/* "[FIRING:2] X" or "[RESOLVED] X", X the group labels' values (the alert name when the group
 * has none). */
static int title(const struct notify_msg *m, struct buf *out)
{
    size_t firing = count_firing(m);
    int rc = firing ? buf_printf(out, "[FIRING:%zu]", firing) : buf_puts(out, "[RESOLVED]");
    for (size_t i = 0; rc == BW_OK && i < m->group_labels.n; i++)
        rc = buf_printf(out, " %s", m->group_labels.v[i].value);
    if (rc == BW_OK && m->group_labels.n == 0 && m->n > 0) {
        const char *name = labelset_get(&m->alerts[0]->labels, "alertname");
        rc = buf_printf(out, " %s", name ? name : "");
    }
    return rc;
}

/* One line for an alert: its summary (else its name and labels) and description, if any. */
static int alert_line(const struct alert *a, struct buf *out)
{
    const char *summary = labelset_get(&a->annotations, "summary");
    const char *description = labelset_get(&a->annotations, "description");
    int rc = buf_printf(out, "[%s] ", resolved(a) ? "resolved" : "firing");
    if (rc == BW_OK)
        rc = summary ? buf_puts(out, summary) : labelset_format(&a->labels, out);
    if (rc == BW_OK && description)
        rc = buf_printf(out, " — %s", description);
    return rc;
}

int notify_body_slack(const struct notify_msg *m, const char *channel, struct buf *out)
{
    struct buf t, text;
    cJSON *o = NULL, *att = NULL, *list = NULL;
    int rc;
    buf_init(&t, 0);
    buf_init(&text, 0);
    rc = title(m, &t);
    for (size_t i = 0; rc == BW_OK && i < m->n; i++) {
        rc = i ? buf_putc(&text, '\n') : BW_OK;
        if (rc == BW_OK)
            rc = alert_line(m->alerts[i], &text);
    }
    if (rc)
        goto out;
    rc = BW_ENOMEM;
    o = cJSON_CreateObject();
    if (!o || (channel && !cJSON_AddStringToObject(o, "channel", channel)) ||
        !cJSON_AddStringToObject(o, "username", "breakwatch") ||
        !cJSON_AddStringToObject(o, "text", t.data) ||
        !(list = cJSON_AddArrayToObject(o, "attachments")))
        goto out;
    att = cJSON_CreateObject();
    if (!att || !cJSON_AddItemToArray(list, att)) {
        cJSON_Delete(att);
        goto out;
    }
    if (!cJSON_AddStringToObject(att, "color", count_firing(m) ? "danger" : "good") ||
        !cJSON_AddStringToObject(att, "title", t.data) ||
        !cJSON_AddStringToObject(att, "text", text.len ? text.data : ""))
        goto out;
    rc = print_json(o, out);
    o = NULL;
out:
    cJSON_Delete(o);
    buf_fini(&t);
    buf_fini(&text);
    return rc;
}

/* Appends s with Telegram's HTML entities escaped. */
static int put_html(struct buf *out, const char *s)
{
    int rc = BW_OK;
    for (; rc == BW_OK && *s; s++)
        rc = *s == '<'   ? buf_puts(out, "&lt;")
             : *s == '>' ? buf_puts(out, "&gt;")
             : *s == '&' ? buf_puts(out, "&amp;")
                         : buf_putc(out, *s);
    return rc;
}

int notify_body_telegram(const struct notify_msg *m, int64_t chat_id, struct buf *out)
{
    struct buf t, line, text;
    cJSON *o = NULL;
    int rc;
    buf_init(&t, 0);
    buf_init(&line, 0);
    buf_init(&text, 0);
    rc = title(m, &t);
    if (rc == BW_OK)
        rc = buf_puts(&text, "<b>");
    if (rc == BW_OK)
        rc = put_html(&text, t.data);
    if (rc == BW_OK)
        rc = buf_puts(&text, "</b>");
    for (size_t i = 0; rc == BW_OK && i < m->n; i++) {
        buf_reset(&line);
        rc = alert_line(m->alerts[i], &line);
        if (rc == BW_OK)
            rc = buf_putc(&text, '\n');
        if (rc == BW_OK)
            rc = put_html(&text, line.data);
    }
    if (rc)
        goto out;
    rc = BW_ENOMEM;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddNumberToObject(o, "chat_id", (double)chat_id) ||
        !cJSON_AddStringToObject(o, "text", text.data) ||
        !cJSON_AddStringToObject(o, "parse_mode", "HTML"))
        goto out;
    rc = print_json(o, out);
    o = NULL;
out:
    cJSON_Delete(o);
    buf_fini(&t);
    buf_fini(&line);
    buf_fini(&text);
    return rc;
}

/* An alert's labels with the external labels it lacks, sorted, into v (cap entries). */
static size_t with_external(const struct alert *a, const struct label *ext, size_t next,
                            struct label *v, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < a->labels.n && n < cap; i++)
        v[n++] = a->labels.v[i];
    for (size_t i = 0; i < next && n < cap; i++)
        if (!labelset_get(&a->labels, ext[i].name))
            v[n++] = ext[i];
    labels_sort(v, n);
    return n;
}

int notify_body_am(const struct alert *v, size_t n, const struct label *ext, size_t next,
                   struct buf *out)
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        const struct alert *a = &v[i];
        struct label l[BW_MAX_LABELS * 8];
        size_t nl = with_external(a, ext, next, l, BW_ARRAY_LEN(l));
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        int64_t ends = resolved(a) ? a->resolved_at : a->valid_until;
        ok = add_labels(o, "labels", l, nl) &&
             add_labels(o, "annotations", a->annotations.v, a->annotations.n) &&
             add_time(o, "startsAt", a->fired_at ? a->fired_at : a->active_at) &&
             (ends == 0 || add_time(o, "endsAt", ends)) &&
             cJSON_AddStringToObject(o, "generatorURL", a->generator_url ? a->generator_url : "");
    }
    if (!ok) {
        cJSON_Delete(arr);
        return BW_ENOMEM;
    }
    return print_json(arr, out);
}

/* ---- HTTP ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int notify_http_init(void)
{
    pthread_once(&curl_once, curl_init);
    return curl_init_rc == CURLE_OK ? BW_OK : BW_EIO;
}

static int64_t mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

/* One request: its handle, its error text and the start of the answer. */
struct flight {
    struct notify_req *r;
    CURL *c;
    struct curl_slist *headers;
    bool added, done;
    char err[CURL_ERROR_SIZE];
    struct buf answer; /* at most ANSWER_KEEP bytes */
    bool answer_cut;   /* the answer was longer */
    int64_t t0;
    struct flight *next;
};

struct notify_http {
    CURLM *m;
    struct flight *flights; /* in flight, or done and not yet handed out */
    size_t n;
};

static size_t keep_answer(char *p, size_t size, size_t nmemb, void *ud)
{
    struct flight *x = ud;
    size_t n = size * nmemb, room = ANSWER_KEEP - x->answer.len;
    if (n > room)
        x->answer_cut = true;
    if (buf_append(&x->answer, p, n < room ? n : room))
        x->answer_cut = true;
    return n;
}

/* Appends s[0..n) to out with each occurrence of secret (may be NULL) replaced by "<secret>";
 * when s is a text cut short (cut), a tail that may be the start of the secret is left out
 * too, since the rest of it was cut off. */
static int put_scrubbed(struct buf *out, const char *s, size_t n, bool cut, const char *secret)
{
    size_t sl = secret ? strlen(secret) : 0;
    int rc = buf_puts(out, "");
    for (size_t i = 0; rc == BW_OK && i < n;) {
        if (sl && n - i >= sl && memcmp(s + i, secret, sl) == 0) {
            rc = buf_puts(out, "<secret>");
            i += sl;
        } else if (sl && cut && n - i < sl && memcmp(s + i, secret, n - i) == 0) {
            break;
        } else {
            rc = buf_putc(out, s[i++]);
        }
    }
    return rc;
}

static double seconds_since(int64_t t0)
{
    return t0 ? (double)(clock_mono_ns() - t0) / 1e9 : 0;
}

/* Sets x's request's outcome and why from the transfer's result (scrubbed first, then cut). */
static void settle(struct flight *x, CURLcode cc)
{
    struct notify_req *r = x->r;
    struct buf msg, answer;
    long status = 0;
    int rc;
    buf_init(&msg, 0);
    buf_init(&answer, 0);
    r->outcome = NOTIFY_RETRY;
    if (cc == CURLE_OK)
        curl_easy_getinfo(x->c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK) {
        const char *e = *x->err ? x->err : curl_easy_strerror(cc);
        rc = put_scrubbed(&msg, e, strlen(e), strlen(e) + 1 >= sizeof(x->err), r->secret);
    } else if (status >= 200 && status < 300) {
        r->outcome = NOTIFY_SENT;
        rc = buf_puts(&msg, "");
    } else {
        r->outcome = status == 429 || status >= 500 ? NOTIFY_RETRY : NOTIFY_FAILED;
        rc = put_scrubbed(&answer, x->answer.data ? x->answer.data : "", x->answer.len,
                          x->answer_cut, r->secret);
        if (rc == BW_OK) {
            size_t line = strcspn(answer.data, "\r\n");
            rc = buf_printf(&msg, "HTTP %ld%s%.*s", status, line ? ": " : "",
                            (int)(line < SNIPPET_MAX ? line : SNIPPET_MAX), answer.data);
        }
    }
    snprintf(r->why, sizeof(r->why), "%s", rc == BW_OK ? msg.data : "out of memory");
    r->seconds = seconds_since(x->t0);
    x->done = true;
    buf_fini(&msg);
    buf_fini(&answer);
}

static void abandon(struct flight *x, enum notify_outcome o, const char *why)
{
    x->r->outcome = o;
    snprintf(x->r->why, sizeof(x->r->why), "%s", why);
    x->r->seconds = seconds_since(x->t0);
    x->done = true;
}

/* Milliseconds left before *deadline (INT64_MAX: none). */
static int64_t time_left(_Atomic int64_t *deadline)
{
    int64_t dl = deadline ? atomic_load(deadline) : 0;
    return dl ? dl - mono_ms() : INT64_MAX;
}

int notify_http_new(struct notify_http **out)
{
    struct notify_http *h = calloc(1, sizeof(*h));
    *out = NULL;
    if (!h || !(h->m = curl_multi_init())) {
        free(h);
        return BW_ENOMEM;
    }
    *out = h;
    return BW_OK;
}

static void flight_free(struct notify_http *h, struct flight *x)
{
    if (x->added)
        curl_multi_remove_handle(h->m, x->c);
    curl_easy_cleanup(x->c);
    curl_slist_free_all(x->headers);
    buf_fini(&x->answer);
    free(x);
}

void notify_http_free(struct notify_http *h)
{
    if (!h)
        return;
    for (struct flight *x = h->flights, *next; x; x = next) {
        next = x->next;
        flight_free(h, x);
    }
    curl_multi_cleanup(h->m);
    free(h);
}

/* Makes x's handle and adds it to h's multi handle. */
static void launch(struct notify_http *h, struct flight *x, _Atomic int64_t *deadline)
{
    const struct notify_req *r = x->r;
    int64_t timeout = r->timeout_ms > 0 ? r->timeout_ms : TIMEOUT_DEFAULT_MS;
    int64_t left = time_left(deadline);
    if (left <= 0) {
        abandon(x, NOTIFY_FAILED, "not sent before shutdown");
        return;
    }
    if (left < timeout)
        timeout = left;
    x->c = curl_easy_init();
    x->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!x->c || !x->headers) {
        abandon(x, NOTIFY_RETRY, "out of memory");
        return;
    }
    curl_easy_setopt(x->c, CURLOPT_URL, r->url);
    curl_easy_setopt(x->c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(x->c, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(x->c, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(x->c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->len);
    curl_easy_setopt(x->c, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->c, CURLOPT_USERAGENT, "breakwatch/" BW_VERSION);
    curl_easy_setopt(x->c, CURLOPT_ERRORBUFFER, x->err);
    curl_easy_setopt(x->c, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(x->c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->c, CURLOPT_PRIVATE, (void *)x);
    if (curl_multi_add_handle(h->m, x->c) != CURLM_OK) {
        abandon(x, NOTIFY_RETRY, "out of memory");
        return;
    }
    x->added = true;
    x->t0 = clock_mono_ns();
}

int notify_http_start(struct notify_http *h, struct notify_req *r, _Atomic int64_t *deadline)
{
    struct flight *x = calloc(1, sizeof(*x));
    r->why[0] = '\0';
    if (!x) {
        r->outcome = NOTIFY_RETRY;
        snprintf(r->why, sizeof(r->why), "out of memory");
        r->seconds = 0;
        return BW_ENOMEM;
    }
    x->r = r;
    buf_init(&x->answer, 0);
    launch(h, x, deadline);
    x->next = h->flights;
    h->flights = x;
    h->n++;
    return BW_OK;
}

size_t notify_http_run(struct notify_http *h, int wait_ms, _Atomic int64_t *deadline,
                       void (*done)(void *ud, struct notify_req *r), void *ud)
{
    int still, queued;
    CURLMsg *msg;
    curl_multi_perform(h->m, &still);
    bool finished = false;
    for (struct flight *x = h->flights; x && !finished; x = x->next)
        finished = x->done;
    int64_t left = time_left(deadline);
    if (!finished && still > 0 && wait_ms > 0 && left > 0) {
        curl_multi_poll(h->m, NULL, 0, left < wait_ms ? (int)left : wait_ms, NULL);
        curl_multi_perform(h->m, &still);
        left = time_left(deadline);
    }
    while ((msg = curl_multi_info_read(h->m, &queued))) {
        char *p = NULL;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
        settle((struct flight *)(void *)p, msg->data.result);
    }
    for (struct flight **pp = &h->flights; *pp;) {
        struct flight *x = *pp;
        if (!x->done && left <= 0)
            abandon(x, NOTIFY_FAILED, "not sent before shutdown");
        if (!x->done) {
            pp = &x->next;
            continue;
        }
        *pp = x->next;
        h->n--;
        struct notify_req *r = x->r;
        flight_free(h, x);
        done(ud, r);
    }
    return h->n;
}

int64_t notify_backoff_ms(int attempt, uint64_t r)
{
    int64_t ms = BACKOFF_FIRST;
    for (int i = 1; i < attempt && ms < BACKOFF_MAX; i++)
        ms *= 2;
    if (ms > BACKOFF_MAX)
        ms = BACKOFF_MAX;
    /* ±20 %: r spread over [-ms/5, ms/5]. */
    int64_t span = ms / 5;
    return ms - span + (int64_t)(r % (uint64_t)(2 * span + 1));
}
