/* notify internals, shared by dispatch.c (the notifier) and send.c (the senders) and by
 * nothing outside the notification side: one notification as the senders format it, the
 * request bodies of each integration, and one HTTP POST with its outcome. */
#ifndef BW_NOTIFY_INT_H
#define BW_NOTIFY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "alert/notify.h"

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

/* Formats ms since the epoch as RFC 3339 in UTC with milliseconds when there are any
 * ("2025-01-01T09:59:45.123Z", "2025-01-01T09:59:45Z"); 0 is Go's zero time
 * "0001-01-01T00:00:00Z". */
void notify_format_time(int64_t ms, char out[32]);

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

/* What one request came to: sent (2xx), worth retrying (429, 5xx, no answer) or refused for
 * good (any other status). */
enum notify_outcome { NOTIFY_SENT, NOTIFY_RETRY, NOTIFY_FAILED };

/* POSTs body (JSON) to url within timeout_ms. why gets "HTTP 503: <start of the answer>" or
 * the transport's error for anything but NOTIFY_SENT, with every occurrence of secret (may
 * be NULL: a Telegram bot token inside the URL) replaced by "<secret>". Thread-safe once
 * notify_http_init has run. */
enum notify_outcome notify_http_post(const char *url, const char *body, size_t len,
                                     int64_t timeout_ms, const char *secret, char *why,
                                     size_t whylen);
/* libcurl's global initialisation, once per process. BW_OK or BW_EIO. */
int notify_http_init(void);

/* The wait before retry number attempt (1: the first retry): 1 s doubling up to 5 min, then
 * ±20 % jitter from r (any 64 random bits). */
int64_t notify_backoff_ms(int attempt, uint64_t r);

#endif
