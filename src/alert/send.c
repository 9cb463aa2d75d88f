/* send: the notification side's way out — the request bodies of each integration (the
 * webhook in Alertmanager's payload version 4, Slack's incoming webhook, Telegram's
 * sendMessage, Alertmanager's POST /api/v2/alerts) and one HTTP POST with libcurl.
 *
 * Main data structure: struct notify_msg (notify_int.h), a group's alerts as views; bodies are
 * built as cJSON trees and printed into the caller's buf.
 *
 * The design decision: a request is one libcurl easy handle, made and freed per POST on the
 * notifier's thread: notifications are rare, and a fresh handle keeps no connection, cookie or
 * credential between receivers. Its outcome is classified here (sent / retry / failed) so the
 * notifier only schedules; and every message that leaves here has the Telegram token scrubbed
 * out, since libcurl's errors may quote the URL that carries it. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "alert/notify_int.h"

#define SNIPPET_MAX   200           /* bytes of an error answer kept for the message */
#define BACKOFF_FIRST 1000          /* ms */
#define BACKOFF_MAX   (5 * 60000LL) /* ms */

void notify_format_time(int64_t ms, char out[32])
{
    if (ms == 0) {
        snprintf(out, 32, "0001-01-01T00:00:00Z");
        return;
    }
    int64_t frac = ms % 1000;
    time_t secs = (time_t)(ms / 1000);
    if (frac < 0) {
        frac += 1000;
        secs--;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (frac) {
        /* Go's RFC3339Nano: the fraction without trailing zeros. */
        char f[8];
        snprintf(f, sizeof(f), ".%03d", (int)frac);
        size_t flen = strlen(f);
        while (f[flen - 1] == '0')
            f[--flen] = '\0';
        snprintf(out + n, 32 - n, "%sZ", f);
    } else {
        snprintf(out + n, 32 - n, "Z");
    }
}

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
    notify_format_time(ms, t);
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

/* The start of the answer, for the error message. */
struct snippet {
    char text[SNIPPET_MAX + 1];
    size_t len;
};

static size_t keep_snippet(char *p, size_t size, size_t nmemb, void *ud)
{
    struct snippet *s = ud;
    size_t n = size * nmemb, take = n < SNIPPET_MAX - s->len ? n : SNIPPET_MAX - s->len;
    memcpy(s->text + s->len, p, take);
    s->len += take;
    s->text[s->len] = '\0';
    return n;
}

/* Replaces each occurrence of secret in s (NUL-terminated, size bytes) by "<secret>". */
static void scrub(char *s, size_t size, const char *secret)
{
    static const char mask[] = "<secret>";
    size_t sl = secret ? strlen(secret) : 0;
    char *p;
    if (sl == 0)
        return;
    while ((p = strstr(s, secret))) {
        size_t tail = strlen(p + sl) + 1;
        size_t room = size - (size_t)(p - s);
        if (sizeof(mask) - 1 + tail > room)
            tail = room - (sizeof(mask) - 1) - 1;
        memmove(p + sizeof(mask) - 1, p + sl, tail);
        memcpy(p, mask, sizeof(mask) - 1);
        p[sizeof(mask) - 1 + tail] = '\0';
    }
}

enum notify_outcome notify_http_post(const char *url, const char *body, size_t len,
                                     int64_t timeout_ms, const char *secret, char *why,
                                     size_t whylen)
{
    char err[CURL_ERROR_SIZE] = "";
    struct snippet answer = {.len = 0};
    struct curl_slist *headers = NULL;
    enum notify_outcome out = NOTIFY_RETRY;
    long status = 0;
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    CURL *c = curl_easy_init();
    answer.text[0] = '\0';
    why[0] = '\0';
    headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!c || !headers)
        goto done;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "breakwatch/" BW_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_snippet);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
    cc = curl_easy_perform(c);
    if (cc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
done:
    if (cc != CURLE_OK) {
        snprintf(why, whylen, "%s", *err ? err : curl_easy_strerror(cc));
    } else if (status >= 200 && status < 300) {
        out = NOTIFY_SENT;
    } else {
        out = status == 429 || status >= 500 ? NOTIFY_RETRY : NOTIFY_FAILED;
        answer.text[strcspn(answer.text, "\r\n")] = '\0';
        snprintf(why, whylen, "HTTP %ld%s%s", status, *answer.text ? ": " : "", answer.text);
    }
    scrub(why, whylen, secret);
    curl_slist_free_all(headers);
    curl_easy_cleanup(c);
    return out;
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
