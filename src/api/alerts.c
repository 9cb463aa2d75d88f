/* alerts: the alerting endpoints — Prometheus's /api/v1/rules and /api/v1/alerts (what Grafana
 * and the page's rule list read), and breakwatch's own alert management: alerts with their
 * acknowledgments, the history, silences, receivers and test notifications, and rule reload
 * (docs/api.md, "Alerting").
 *
 * The handlers only present: the rule evaluator (ctx->ruler) and the notifier (ctx->notifier)
 * hand out snapshots copied under their own locks, so a slow client never holds up an
 * evaluation or a notification. Writes (acknowledge, silence, reload, test) need the editor
 * role, which the route table sets; the principal's name is what the history records. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/notify.h"
#include "alert/rules.h"
#include "api/api.h"

#define COMMENT_MAX     1000 /* bytes of an acknowledgment's or a silence's comment */
#define HISTORY_DEFAULT 100

/* The notifier and the evaluator run (else 503). */
static bool alerting_ready(const struct api_ctx *ctx, struct http_response *res)
{
    if (ctx->ruler && ctx->notifier)
        return true;
    http_response_error(res, 503, "unavailable", "alerting is not running");
    return false;
}

/* Who is asking, for the history: the token's name, "anonymous" when auth is off. */
static const char *who(const struct http_request *req)
{
    const char *name = http_request_principal(req, NULL);
    return name ? name : "anonymous";
}

static void member_labels(struct api_json *w, const char *key, const struct labelset *ls)
{
    api_json_key(w, key);
    api_json_object(w);
    for (size_t i = 0; i < ls->n; i++)
        api_json_member_string(w, ls->v[i].name, ls->v[i].value);
    api_json_object_end(w);
}

/* A time as Prometheus's API writes it (Go's JSON time; 0 is Go's zero time). */
static void member_time(struct api_json *w, const char *key, int64_t ms)
{
    char s[32];
    fmt_go_time(s, ms);
    api_json_member_string(w, key, s);
}

/* A time in ms, or null for "not set". */
static void member_ms(struct api_json *w, const char *key, int64_t ms)
{
    api_json_key(w, key);
    if (ms)
        api_json_int(w, ms);
    else
        api_json_null(w);
}

/* An alert's value as Prometheus's API gives it: Go's FormatFloat(v, 'e', -1, 64). */
static void member_value_e(struct api_json *w, const char *key, double v)
{
    char s[32];
    fmt_double_exp(s, v, 0);
    api_json_member_string(w, key, s);
}

static int answer(struct http_response *res, struct api_json *w)
{
    int rc = api_json_end(w);
    if (rc != BW_OK)
        http_response_error(res, 500, "internal", "writing the answer: %s", bw_strerror(rc));
    return rc;
}

/* A small answer: status and {"k1":"v1"} or {"k1":"v1","k2":"v2"} (k2 NULL: one member). */
static void answer_strings(struct http_response *res, int status, const char *k1, const char *v1,
                           const char *k2, const char *v2)
{
    struct api_json w;
    res->status = status;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_string(&w, k1, v1);
    if (k2)
        api_json_member_string(&w, k2, v2);
    api_json_object_end(&w);
    answer(res, &w);
}

/* ---- /api/v1/rules and /api/v1/alerts ---- */

static void prom_alert(struct api_json *w, const struct alert *a)
{
    api_json_object(w);
    member_labels(w, "labels", &a->labels);
    member_labels(w, "annotations", &a->annotations);
    api_json_member_string(w, "state", alert_state_name(a->state));
    member_time(w, "activeAt", a->active_at);
    if (a->keep_firing_since)
        member_time(w, "keepFiringSince", a->keep_firing_since);
    member_value_e(w, "value", a->value);
    api_json_object_end(w);
}

static void prom_labels(struct api_json *w, const char *key, const struct label *v, size_t n)
{
    struct labelset ls = {v, n};
    member_labels(w, key, &ls);
}

static void prom_rule(struct api_json *w, const struct ruler_rule_snap *rs)
{
    const struct rule *r = rs->rule;
    api_json_object(w);
    api_json_member_string(w, "name", r->name);
    api_json_member_string(w, "query", r->expr);
    if (r->kind == RULE_ALERT) {
        api_json_member_number(w, "duration", (double)r->for_ms / 1000.0);
        api_json_member_number(w, "keepFiringFor", (double)r->keep_firing_for_ms / 1000.0);
    }
    prom_labels(w, "labels", r->labels, r->nlabels);
    if (r->kind == RULE_ALERT) {
        prom_labels(w, "annotations", r->annotations, r->nannotations);
        api_json_key(w, "alerts");
        api_json_array(w);
        for (size_t i = 0; i < rs->nalerts; i++)
            if (rs->alerts[i].state != ALERT_INACTIVE) /* as Prometheus: active ones only */
                prom_alert(w, &rs->alerts[i]);
        api_json_array_end(w);
        api_json_member_string(w, "state", alert_state_name(rs->state));
    }
    api_json_member_string(w, "health", rs->health);
    if (rs->last_error && *rs->last_error)
        api_json_member_string(w, "lastError", rs->last_error);
    api_json_member_number(w, "evaluationTime", rs->eval_seconds);
    member_time(w, "lastEvaluation", rs->last_eval_ms);
    api_json_member_string(w, "type", r->kind == RULE_ALERT ? "alerting" : "recording");
    api_json_object_end(w);
}

/* The evaluator's snapshot, and the answer begun up to {"status":"success","data":{"list":[
 * — false with res answered when alerting is not running or memory is short. */
static bool prom_begin(struct api_ctx *ctx, struct http_response *res, struct ruler_snapshot **snap,
                       struct api_json *w, const char *list)
{
    if (!alerting_ready(ctx, res))
        return false;
    if (ruler_snapshot(ctx->ruler, snap) != BW_OK) {
        http_response_error(res, 500, "internal", "out of memory");
        return false;
    }
    api_json_init(w, res->body);
    api_json_object(w);
    api_json_member_string(w, "status", "success");
    api_json_key(w, "data");
    api_json_object(w);
    api_json_key(w, list);
    api_json_array(w);
    return true;
}

void api_prom_rules(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    const char *type = http_request_arg(req, "type");
    int want = -1; /* both kinds */
    if (type && *type) {
        if (strcmp(type, "alert") == 0)
            want = RULE_ALERT;
        else if (strcmp(type, "record") == 0)
            want = RULE_RECORD;
        else {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"type\": must be \"alert\" or \"record\"");
            return;
        }
    }
    struct ruler_snapshot *snap;
    struct api_json w;
    if (!prom_begin(ctx, res, &snap, &w, "groups"))
        return;
    for (size_t g = 0; g < snap->ngroups; g++) {
        const struct ruler_group_snap *gs = &snap->groups[g];
        api_json_object(&w);
        api_json_member_string(&w, "name", gs->name);
        api_json_member_string(&w, "file", gs->file);
        api_json_key(&w, "rules");
        api_json_array(&w);
        for (size_t i = 0; i < gs->nrules; i++)
            if (want < 0 || (int)gs->rules[i].rule->kind == want)
                prom_rule(&w, &gs->rules[i]);
        api_json_array_end(&w);
        api_json_member_number(&w, "interval", (double)gs->interval_ms / 1000.0);
        api_json_member_int(&w, "limit", gs->limit);
        api_json_member_number(&w, "evaluationTime", gs->eval_seconds);
        member_time(&w, "lastEvaluation", gs->last_eval_ms);
        api_json_object_end(&w);
    }
    api_json_array_end(&w);
    api_json_object_end(&w);
    api_json_object_end(&w);
    answer(res, &w);
    ruler_snapshot_free(snap);
}

void api_prom_alerts(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct ruler_snapshot *snap;
    struct api_json w;
    if (!prom_begin(ctx, res, &snap, &w, "alerts"))
        return;
    for (size_t g = 0; g < snap->ngroups; g++)
        for (size_t i = 0; i < snap->groups[g].nrules; i++) {
            const struct ruler_rule_snap *rs = &snap->groups[g].rules[i];
            for (size_t k = 0; k < rs->nalerts; k++)
                if (rs->alerts[k].state != ALERT_INACTIVE)
                    prom_alert(&w, &rs->alerts[k]);
        }
    api_json_array_end(&w);
    api_json_object_end(&w);
    api_json_object_end(&w);
    answer(res, &w);
    ruler_snapshot_free(snap);
}

/* ---- /api/alerts ---- */

/* Where an alert sorts: firing, pending, resolved; then by severity. */
static int state_rank(enum alert_state s)
{
    return s == ALERT_FIRING ? 0 : s == ALERT_PENDING ? 1 : 2;
}

static int severity_rank(const struct alert *a)
{
    static const char *const order[] = {"critical", "warning", "info"};
    const char *s = labelset_get(&a->labels, "severity");
    for (size_t i = 0; s && i < BW_ARRAY_LEN(order); i++)
        if (strcmp(s, order[i]) == 0)
            return (int)i;
    return (int)BW_ARRAY_LEN(order);
}

static int alert_cmp(const void *pa, const void *pb)
{
    const struct alert *a = &((const struct notify_alert_snap *)pa)->alert;
    const struct alert *b = &((const struct notify_alert_snap *)pb)->alert;
    int d = state_rank(a->state) - state_rank(b->state);
    if (!d)
        d = severity_rank(a) - severity_rank(b);
    if (!d)
        d = (a->active_at < b->active_at) - (a->active_at > b->active_at);
    return d ? d : labelset_compare(&a->labels, &b->labels);
}

static const char *state_word(enum alert_state s)
{
    return s == ALERT_INACTIVE ? "resolved" : alert_state_name(s);
}

/* Whether csv (a comma-separated list; NULL or "" takes everything) holds word. */
static bool csv_has(const char *csv, const char *word)
{
    if (!csv || !*csv)
        return true;
    size_t n = word ? strlen(word) : 0;
    for (const char *p = csv; *p;) {
        size_t k = strcspn(p, ",");
        if (word && k == n && memcmp(p, word, n) == 0)
            return true;
        p += k + (p[k] == ',');
    }
    return false;
}

/* Whether text occurs, ignoring case, in a label or annotation value. */
static bool alert_mentions(const struct alert *a, const char *text)
{
    if (!text || !*text)
        return true;
    for (size_t i = 0; i < a->labels.n; i++)
        if (strcasestr(a->labels.v[i].value, text))
            return true;
    for (size_t i = 0; i < a->annotations.n; i++)
        if (strcasestr(a->annotations.v[i].value, text))
            return true;
    return false;
}

static bool state_param_ok(const char *csv, struct http_response *res)
{
    for (const char *p = csv ? csv : ""; *p;) {
        size_t k = strcspn(p, ",");
        if (!((k == 6 && memcmp(p, "firing", 6) == 0) || (k == 7 && memcmp(p, "pending", 7) == 0) ||
              (k == 8 && memcmp(p, "resolved", 8) == 0))) {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"state\": a comma-separated list of firing, "
                                "pending, resolved");
            return false;
        }
        p += k + (p[k] == ',');
    }
    return true;
}

static void ack_object(struct api_json *w, const struct notify_alert_snap *s)
{
    api_json_key(w, "ack");
    if (!s->acked_by) {
        api_json_null(w);
        return;
    }
    api_json_object(w);
    api_json_member_string(w, "by", s->acked_by);
    api_json_member_int(w, "at_ms", s->acked_at);
    api_json_member_string(w, "comment", s->ack_comment ? s->ack_comment : "");
    api_json_object_end(w);
}

void api_alerts_list(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    const char *states = http_request_arg(req, "state");
    const char *names = http_request_arg(req, "alertname");
    const char *severities = http_request_arg(req, "severity");
    const char *text = http_request_arg(req, "q");
    if (!state_param_ok(states, res) || !alerting_ready(ctx, res))
        return;
    struct notify_snapshot *snap;
    if (notifier_snapshot(ctx->notifier, clock_real_ns() / 1000000, &snap) != BW_OK) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    qsort(snap->alerts, snap->nalerts, sizeof(*snap->alerts), alert_cmp);
    size_t counts[3] = {0}, acked = 0, silenced = 0;
    struct api_json w;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "alerts");
    api_json_array(&w);
    for (size_t i = 0; i < snap->nalerts; i++) {
        const struct notify_alert_snap *s = &snap->alerts[i];
        const struct alert *a = &s->alert;
        if (!csv_has(states, state_word(a->state)) ||
            !csv_has(names, labelset_get(&a->labels, "alertname")) ||
            !csv_has(severities, labelset_get(&a->labels, "severity")) || !alert_mentions(a, text))
            continue;
        counts[state_rank(a->state)]++;
        acked += s->acked_by != NULL;
        silenced += s->silenced_by != NULL;
        char fp[17];
        alert_fingerprint_hex(a->fingerprint, fp);
        api_json_object(&w);
        api_json_member_string(&w, "fingerprint", fp);
        member_labels(&w, "labels", &a->labels);
        member_labels(&w, "annotations", &a->annotations);
        api_json_member_string(&w, "state", state_word(a->state));
        api_json_member_number(&w, "value", a->value);
        member_ms(&w, "active_ms", a->active_at);
        member_ms(&w, "fired_ms", a->fired_at);
        member_ms(&w, "resolved_ms", a->resolved_at);
        api_json_member_string(&w, "receiver", s->receiver);
        api_json_member_string(&w, "silenced_by", s->silenced_by);
        ack_object(&w, s);
        api_json_member_string(&w, "generator_url", a->generator_url);
        api_json_object_end(&w);
    }
    api_json_array_end(&w);
    api_json_key(&w, "counts");
    api_json_object(&w);
    api_json_member_uint(&w, "firing", counts[0]);
    api_json_member_uint(&w, "pending", counts[1]);
    api_json_member_uint(&w, "resolved", counts[2]);
    api_json_member_uint(&w, "acknowledged", acked);
    api_json_member_uint(&w, "silenced", silenced);
    api_json_object_end(&w);
    api_json_object_end(&w);
    answer(res, &w);
    notify_snapshot_free(snap);
}

/* The {fingerprint} of the path: 16 hex digits. */
static bool fingerprint_param(const struct http_request *req, struct http_response *res,
                              uint64_t *fp)
{
    const char *s = http_request_param(req, "fingerprint");
    size_t n = s ? strlen(s) : 0;
    if (n != 16 || strspn(s, "0123456789abcdefABCDEF") != 16) {
        http_response_error(res, 400, "bad_data",
                            "invalid fingerprint: expected 16 hexadecimal digits");
        return false;
    }
    *fp = strtoull(s, NULL, 16);
    return true;
}

static void ack_answer(struct api_ctx *ctx, struct http_response *res, uint64_t fp)
{
    struct notify_snapshot *snap;
    char hex[17];
    alert_fingerprint_hex(fp, hex);
    if (notifier_snapshot(ctx->notifier, clock_real_ns() / 1000000, &snap) != BW_OK) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    struct api_json w;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_string(&w, "fingerprint", hex);
    const struct notify_alert_snap *found = NULL;
    for (size_t i = 0; i < snap->nalerts && !found; i++)
        if (snap->alerts[i].alert.fingerprint == fp &&
            snap->alerts[i].alert.state != ALERT_INACTIVE)
            found = &snap->alerts[i];
    if (found) {
        ack_object(&w, found);
    } else {
        api_json_key(&w, "ack");
        api_json_null(&w);
    }
    api_json_object_end(&w);
    answer(res, &w);
    notify_snapshot_free(snap);
}

static void no_alert(struct http_response *res, int rc)
{
    if (rc == BW_ENOENT)
        http_response_error(res, 404, "not_found",
                            "no pending or firing alert has this fingerprint");
    else
        http_response_error(res, 500, "internal", "recording the acknowledgment: %s",
                            bw_strerror(rc));
}

void api_alerts_ack(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    uint64_t fp;
    cJSON *obj = NULL;
    char comment[COMMENT_MAX + 1] = "";
    if (!fingerprint_param(req, res, &fp) || !alerting_ready(ctx, res) ||
        !api_body_object(req, res, &obj))
        return;
    const cJSON *c = obj ? cJSON_GetObjectItemCaseSensitive(obj, "comment") : NULL;
    const char *text =
        obj ? (cJSON_IsString(c) ? c->valuestring : NULL) : http_request_arg(req, "comment");
    bool ok = true;
    if (c && !cJSON_IsString(c) && !cJSON_IsNull(c)) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"comment\": must be a string");
        ok = false;
    }
    ok = ok && api_text_param("comment", text, COMMENT_MAX, false, comment, res);
    cJSON_Delete(obj);
    if (!ok)
        return;
    int rc = notifier_ack(ctx->notifier, fp, who(req), comment, clock_real_ns() / 1000000);
    if (rc != BW_OK) {
        no_alert(res, rc);
        return;
    }
    ack_answer(ctx, res, fp);
}

void api_alerts_unack(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    uint64_t fp;
    if (!fingerprint_param(req, res, &fp) || !alerting_ready(ctx, res))
        return;
    int rc = notifier_unack(ctx->notifier, fp, who(req), clock_real_ns() / 1000000);
    if (rc == BW_ENOENT) {
        http_response_error(res, 404, "not_found", "this alert is not acknowledged");
        return;
    }
    if (rc != BW_OK) {
        no_alert(res, rc);
        return;
    }
    ack_answer(ctx, res, fp);
}

/* ---- /api/alerts/history ---- */

struct history_out {
    struct api_json *w;
    size_t n;
    int64_t last_id;
};

static void member_raw_or_null(struct api_json *w, const char *key, const char *json)
{
    api_json_key(w, key);
    api_json_raw_object(w, json);
}

static int history_row(void *ud, const struct notify_history_row *r)
{
    struct history_out *h = ud;
    struct api_json *w = h->w;
    api_json_object(w);
    api_json_member_int(w, "id", r->id);
    api_json_member_int(w, "at_ms", r->at);
    api_json_member_string(w, "kind", r->kind);
    api_json_key(w, "fingerprint");
    if (r->fingerprint) {
        char fp[17];
        alert_fingerprint_hex(r->fingerprint, fp);
        api_json_string(w, fp);
    } else {
        api_json_null(w);
    }
    api_json_member_string(w, "alertname", r->alertname);
    member_raw_or_null(w, "labels", r->labels_json);
    api_json_member_string(w, "from", r->from);
    api_json_member_string(w, "to", r->to);
    api_json_member_string(w, "receiver", r->receiver);
    api_json_member_string(w, "outcome", r->outcome);
    api_json_member_string(w, "who", r->who);
    api_json_object_end(w);
    h->n++;
    h->last_id = r->id;
    return 0;
}

void api_alerts_history(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    size_t limit;
    int64_t before;
    uint64_t fp = 0;
    const char *f = http_request_arg(req, "fingerprint");
    if (!api_mon_limit(req, res, HISTORY_DEFAULT, API_MON_LIMIT_MAX, &limit) ||
        !api_mon_id("before", "a history entry", http_request_arg(req, "before"), false, res,
                    &before))
        return;
    if (f && *f) {
        if (strlen(f) != 16 || strspn(f, "0123456789abcdefABCDEF") != 16) {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"fingerprint\": expected 16 hexadecimal "
                                "digits");
            return;
        }
        fp = strtoull(f, NULL, 16);
    }
    if (!alerting_ready(ctx, res))
        return;
    struct api_json w;
    struct history_out h = {&w, 0, 0};
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "history");
    api_json_array(&w);
    int rc = notifier_history(ctx->notifier, before, fp, limit, history_row, &h);
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "reading the history: %s", bw_strerror(rc));
        return;
    }
    api_json_array_end(&w);
    /* A full page may have more behind it; a short one is the end. */
    member_ms(&w, "next_before", h.n == limit ? h.last_id : 0);
    api_json_object_end(&w);
    answer(res, &w);
}

/* ---- /api/silences ---- */

static int silence_rank(const char *state)
{
    return strcmp(state, "active") == 0 ? 0 : strcmp(state, "pending") == 0 ? 1 : 2;
}

static int silence_cmp(const void *pa, const void *pb)
{
    const struct notify_silence *a = pa, *b = pb;
    int d = silence_rank(a->state) - silence_rank(b->state);
    return d ? d : (a->starts_at < b->starts_at) - (a->starts_at > b->starts_at);
}

void api_silences_list(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    if (!alerting_ready(ctx, res))
        return;
    struct notify_snapshot *snap;
    if (notifier_snapshot(ctx->notifier, clock_real_ns() / 1000000, &snap) != BW_OK) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    qsort(snap->silences, snap->nsilences, sizeof(*snap->silences), silence_cmp);
    struct api_json w;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "silences");
    api_json_array(&w);
    for (size_t i = 0; i < snap->nsilences; i++) {
        const struct notify_silence *s = &snap->silences[i];
        api_json_object(&w);
        api_json_member_string(&w, "id", s->id);
        api_json_key(&w, "matchers");
        api_json_array(&w);
        for (size_t k = 0; k < s->nmatchers; k++) {
            api_json_object(&w);
            api_json_member_string(&w, "name", s->matchers[k].name);
            api_json_member_string(&w, "value", s->matchers[k].value);
            api_json_member_bool(&w, "isRegex", s->matchers[k].is_regex);
            api_json_member_bool(&w, "isEqual", s->matchers[k].is_equal);
            api_json_object_end(&w);
        }
        api_json_array_end(&w);
        api_json_member_int(&w, "starts_ms", s->starts_at);
        api_json_member_int(&w, "ends_ms", s->ends_at);
        api_json_member_string(&w, "created_by", s->created_by);
        api_json_member_string(&w, "comment", s->comment);
        api_json_member_string(&w, "state", s->state);
        api_json_object_end(&w);
    }
    api_json_array_end(&w);
    api_json_object_end(&w);
    answer(res, &w);
    notify_snapshot_free(snap);
}

#define MAX_MATCHERS 32

/* A time member in ms: absent or null leaves *out; else a whole number of ms. */
static bool ms_member(const cJSON *obj, const char *name, int64_t *out, struct http_response *res)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 9e15) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"%s\": must be a time in ms since the epoch", name);
        return false;
    }
    *out = (int64_t)v->valuedouble;
    return true;
}

/* Reads the silence in obj into s (strings point into obj). */
static bool silence_read(const cJSON *obj, int64_t now, struct notify_silence *s,
                         struct notify_matcher *m, char *comment, struct http_response *res)
{
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(obj, "matchers");
    int n = cJSON_GetArraySize(ms);
    if (!cJSON_IsArray(ms) || n < 1 || n > MAX_MATCHERS) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"matchers\": must be a list of 1 to %d "
                            "{name, value, isRegex, isEqual}",
                            MAX_MATCHERS);
        return false;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetArrayItem(ms, i);
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(it, "value");
        const cJSON *re = cJSON_GetObjectItemCaseSensitive(it, "isRegex");
        const cJSON *eq = cJSON_GetObjectItemCaseSensitive(it, "isEqual");
        if (!cJSON_IsString(name) || !*name->valuestring || !cJSON_IsString(value) ||
            (re && !cJSON_IsBool(re)) || (eq && !cJSON_IsBool(eq))) {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"matchers[%d]\": needs a non-empty \"name\" "
                                "and a string \"value\"; isRegex and isEqual are booleans",
                                i);
            return false;
        }
        m[i] = (struct notify_matcher){name->valuestring, value->valuestring, cJSON_IsTrue(re),
                                       !eq || cJSON_IsTrue(eq)};
    }
    s->matchers = m;
    s->nmatchers = (size_t)n;
    s->starts_at = now;
    s->ends_at = 0;
    if (!ms_member(obj, "starts_ms", &s->starts_at, res) ||
        !ms_member(obj, "ends_ms", &s->ends_at, res))
        return false;
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(obj, "duration");
    if (dur && !cJSON_IsNull(dur)) {
        int64_t d;
        if (!cJSON_IsString(dur) ||
            promql_parse_duration(dur->valuestring, strlen(dur->valuestring), &d) != BW_OK ||
            d <= 0) {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"duration\": must be a duration such as "
                                "\"2h\" or \"30m\"");
            return false;
        }
        if (s->ends_at) {
            http_response_error(res, 400, "bad_data",
                                "give either \"ends_ms\" or \"duration\", not both");
            return false;
        }
        s->ends_at = s->starts_at + d;
    }
    if (!s->ends_at) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"ends_ms\": a silence needs an end (\"ends_ms\" "
                            "or \"duration\")");
        return false;
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, "comment");
    if (c && !cJSON_IsString(c) && !cJSON_IsNull(c)) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"comment\": must be a string");
        return false;
    }
    if (!api_text_param("comment", cJSON_IsString(c) ? c->valuestring : NULL, COMMENT_MAX, false,
                        comment, res))
        return false;
    s->comment = comment;
    return true;
}

void api_silences_create(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    cJSON *obj = NULL;
    struct notify_silence s;
    struct notify_matcher m[MAX_MATCHERS];
    char comment[COMMENT_MAX + 1];
    int64_t now = clock_real_ns() / 1000000;
    if (!alerting_ready(ctx, res) || !api_body_object(req, res, &obj))
        return;
    memset(&s, 0, sizeof(s));
    if (!obj) {
        http_response_error(res, 400, "bad_data",
                            "invalid request body: a JSON object {matchers, ends_ms or duration, "
                            "comment} with \"Content-Type: application/json\"");
        return;
    }
    if (silence_read(obj, now, &s, m, comment, res)) {
        struct diag d = {0};
        s.created_by = who(req);
        int rc = notifier_silence_put(ctx->notifier, &s, now, &d);
        if (rc == BW_EINVAL) {
            http_response_error(res, 400, "bad_data", "invalid silence: %s", d.msg);
        } else if (rc != BW_OK) {
            http_response_error(res, 500, "internal", "recording the silence: %s", bw_strerror(rc));
        } else {
            answer_strings(res, 201, "id", s.id, NULL, NULL);
        }
    }
    cJSON_Delete(obj);
}

void api_silences_expire(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    const char *id = http_request_param(req, "id");
    if (!alerting_ready(ctx, res))
        return;
    int rc = notifier_silence_expire(ctx->notifier, id, who(req), clock_real_ns() / 1000000);
    if (rc == BW_ENOENT) {
        http_response_error(res, 404, "not_found", "no silence has this id");
        return;
    }
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "expiring the silence: %s", bw_strerror(rc));
        return;
    }
    answer_strings(res, 200, "id", id, "state", "expired");
}

/* ---- receivers and reload ---- */

void api_alerts_receivers(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    if (!alerting_ready(ctx, res))
        return;
    struct notify_snapshot *snap;
    if (notifier_snapshot(ctx->notifier, clock_real_ns() / 1000000, &snap) != BW_OK) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    struct api_json w;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "receivers");
    api_json_array(&w);
    for (size_t i = 0; i < snap->nreceivers; i++) {
        const struct notify_receiver_snap *r = &snap->receivers[i];
        api_json_object(&w);
        api_json_member_string(&w, "name", r->name);
        api_json_key(&w, "integrations");
        api_json_array(&w);
        for (const char *p = r->kinds; p && *p;) {
            size_t k = strcspn(p, ", ");
            char word[32];
            snprintf(word, sizeof(word), "%.*s", (int)k, p);
            if (k)
                api_json_string(&w, word);
            p += k;
            p += strspn(p, ", ");
        }
        api_json_array_end(&w);
        member_ms(&w, "last_attempt_ms", r->last_attempt);
        member_ms(&w, "last_success_ms", r->last_success);
        api_json_member_string(&w, "last_error", r->last_error ? r->last_error : "");
        api_json_object_end(&w);
    }
    api_json_array_end(&w);
    api_json_object_end(&w);
    answer(res, &w);
    notify_snapshot_free(snap);
}

void api_alerts_receiver_test(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    const char *name = http_request_param(req, "name");
    if (!alerting_ready(ctx, res))
        return;
    int rc = notifier_test(ctx->notifier, name, who(req), clock_real_ns() / 1000000);
    if (rc == BW_ENOENT) {
        http_response_error(res, 404, "not_found", "no receiver is named \"%s\"", name);
        return;
    }
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "queueing the test: %s", bw_strerror(rc));
        return;
    }
    answer_strings(res, 202, "receiver", name, "status", "queued");
}

void api_rules_reload(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct diag d = {0};
    if (!alerting_ready(ctx, res))
        return;
    size_t groups = 0, rules = 0;
    int rc = ruler_reload(ctx->ruler, ctx->rule_files, ctx->nrule_files, &groups, &rules, &d);
    if (rc != BW_OK) {
        char msg[sizeof(d.msg) + sizeof(d.file) + 32];
        diag_format(&d, msg, sizeof(msg));
        http_response_error(res, rc == BW_ENOMEM ? 500 : 400,
                            rc == BW_ENOMEM ? "internal" : "bad_data",
                            "%s (the rules loaded before keep running)", msg);
        return;
    }
    struct api_json w;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_string(&w, "status", "success");
    api_json_member_uint(&w, "groups", groups);
    api_json_member_uint(&w, "rules", rules);
    api_json_object_end(&w);
    answer(res, &w);
}
