/* config: the `alerting:` section of breakwatch's file, read into struct notify_config —
 * rule files, evaluation settings, the Alertmanagers to forward to, and Alertmanager's own
 * shapes for the route tree and the receivers (webhook, Slack, Telegram).
 *
 * Main data structure: struct notify_config (notify.h), everything in its arena; each route's
 * matchers are tsdb matchers compiled once here.
 *
 * The design decision: what a route inherits (receiver, group_by, the three intervals) is
 * resolved while parsing, so the notifier reads every route as complete; receivers are read
 * before the route so that a route naming an unknown receiver is refused at its position, and
 * matchers are Alertmanager's strings (`severity="critical"`, `a!=b`, `alertname=~"Foo.*"`)
 * read by the PromQL selector parser inside braces, an unquoted value being quoted first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/notify.h"
#include "conf/conf.h"
#include "promql/promql.h"
#include "tsdb/tsdb.h"

#define TIMEOUT_DEFAULT_MS 10000
#define TELEGRAM_API       "https://api.telegram.org"
#define ROUTE_DEPTH_MAX    64    /* levels of routes under routes */
#define ROUTES_MAX         10000 /* routes in all: aliases can repeat a subtree many times */

void notify_config_init(struct notify_config *c)
{
    memset(c, 0, sizeof(*c));
    arena_init(&c->arena, 0);
    c->evaluation_interval_ms = 15000;
    c->resend_delay_ms = 60000;
    c->route.group_wait_ms = 30000;
    c->route.group_interval_ms = 5 * 60000;
    c->route.repeat_interval_ms = 4 * 3600000LL;
}

static void route_fini(struct notify_route *r)
{
    for (size_t i = 0; i < r->nmatchers; i++)
        tsdb_matcher_fini(&r->matchers[i]);
    for (size_t i = 0; i < r->nroutes; i++)
        route_fini(&r->routes[i]);
}

void notify_config_fini(struct notify_config *c)
{
    route_fini(&c->route);
    arena_fini(&c->arena);
    memset(c, 0, sizeof(*c));
}

struct ctx {
    const struct conf_doc *doc;
    struct notify_config *c;
    struct diag *d;
    const struct conf_node *route_path[ROUTE_DEPTH_MAX]; /* the route being read, its parents */
    size_t depth, nroutes;
};

static int oom(struct ctx *x)
{
    return diag_set(x->d, BW_ENOMEM, "out of memory");
}

/* A string copied into the config's arena. */
static int str(struct ctx *x, const struct conf_node *n, const char *key, const char **out)
{
    const char *s;
    int rc = conf_string(x->doc, n, key, &s, x->d);
    if (rc)
        return rc;
    *out = arena_strdup(&x->c->arena, s);
    return *out ? BW_OK : oom(x);
}

/* An http(s) URL with a host. */
static int url(struct ctx *x, const struct conf_node *n, const char *key, const char **out)
{
    int rc = str(x, n, key, out);
    if (rc)
        return rc;
    const char *rest = strncmp(*out, "http://", 7) == 0    ? *out + 7
                       : strncmp(*out, "https://", 8) == 0 ? *out + 8
                                                           : NULL;
    if (!rest || !*rest || *rest == '/')
        return conf_err(x->doc, n, x->d, "%s: %s is not an http or https URL with a host", key,
                        *out);
    return BW_OK;
}

/* A list node (null: empty). */
static int seq(struct ctx *x, const struct conf_node *n, const char *key, size_t *len)
{
    *len = 0;
    if (!n || conf_is_null(n))
        return BW_OK;
    if (conf_kind(n) != CONF_SEQ)
        return conf_err(x->doc, n, x->d, "%s: expected a list", key);
    *len = conf_len(n);
    return BW_OK;
}

/* ---- receivers ---- */

enum { T_URL, T_CHANNEL, T_TOKEN, T_CHAT, T_RESOLVED, T_MAX, T_TIMEOUT, T_N };

/* Fields each kind accepts, by the T_ index they fill (NULL: not accepted). */
static const char *const target_fields[3][T_N] = {
    [NOTIFY_WEBHOOK] = {[T_URL] = "url",
                        [T_RESOLVED] = "send_resolved",
                        [T_MAX] = "max_alerts",
                        [T_TIMEOUT] = "timeout"},
    [NOTIFY_SLACK] = {[T_URL] = "api_url",
                      [T_CHANNEL] = "channel",
                      [T_RESOLVED] = "send_resolved",
                      [T_TIMEOUT] = "timeout"},
    [NOTIFY_TELEGRAM] = {[T_URL] = "api_url",
                         [T_TOKEN] = "bot_token",
                         [T_CHAT] = "chat_id",
                         [T_RESOLVED] = "send_resolved",
                         [T_TIMEOUT] = "timeout"},
};
static const char *const target_what[3] = {"webhook_config", "slack_config", "telegram_config"};

static int target(struct ctx *x, const struct conf_node *n, enum notify_kind kind,
                  struct notify_target *t)
{
    const char *names[T_N];
    const struct conf_node *f[T_N], *got[T_N];
    size_t nn = 0, idx[T_N];
    int rc;
    for (size_t i = 0; i < T_N; i++) {
        if (target_fields[kind][i]) {
            idx[nn] = i;
            names[nn++] = target_fields[kind][i];
        }
        f[i] = NULL;
    }
    rc = conf_fields(x->doc, n, target_what[kind], names, nn, got, x->d);
    if (rc)
        return rc;
    for (size_t i = 0; i < nn; i++)
        f[idx[i]] = got[i];
    *t = (struct notify_target){.kind = kind,
                                .send_resolved = kind == NOTIFY_WEBHOOK,
                                .timeout_ms = TIMEOUT_DEFAULT_MS,
                                .url = kind == NOTIFY_TELEGRAM ? TELEGRAM_API : NULL};
    int64_t v;
    if (!f[T_URL] && kind != NOTIFY_TELEGRAM)
        return conf_err(x->doc, n, x->d, "%s: %s is required", target_what[kind],
                        target_fields[kind][T_URL]);
    if (kind == NOTIFY_TELEGRAM && (!f[T_TOKEN] || !f[T_CHAT]))
        return conf_err(x->doc, n, x->d, "%s: bot_token and chat_id are required",
                        target_what[kind]);
    if ((f[T_URL] && (rc = url(x, f[T_URL], names[0], &t->url))) ||
        (f[T_CHANNEL] && (rc = str(x, f[T_CHANNEL], "channel", &t->channel))) ||
        (f[T_TOKEN] && (rc = str(x, f[T_TOKEN], "bot_token", &t->bot_token))) ||
        (f[T_CHAT] &&
         (rc = conf_int(x->doc, f[T_CHAT], "chat_id", INT64_MIN, INT64_MAX, &t->chat_id, x->d))) ||
        (f[T_RESOLVED] &&
         (rc = conf_bool(x->doc, f[T_RESOLVED], "send_resolved", &t->send_resolved, x->d))) ||
        (f[T_TIMEOUT] &&
         (rc = conf_duration(x->doc, f[T_TIMEOUT], "timeout", &t->timeout_ms, x->d))))
        return rc;
    if (f[T_MAX]) {
        rc = conf_int(x->doc, f[T_MAX], "max_alerts", 0, INT32_MAX, &v, x->d);
        if (rc)
            return rc;
        t->max_alerts = (size_t)v;
    }
    if (f[T_TOKEN] && !*t->bot_token)
        return conf_err(x->doc, f[T_TOKEN], x->d, "bot_token: empty");
    if (f[T_TIMEOUT] && t->timeout_ms <= 0)
        return conf_err(x->doc, f[T_TIMEOUT], x->d, "timeout: must be positive");
    return BW_OK;
}

static int receiver(struct ctx *x, const struct conf_node *n, struct notify_receiver *r)
{
    static const char *const names[] = {"name", "webhook_configs", "slack_configs",
                                        "telegram_configs"};
    const struct conf_node *f[4];
    size_t len[3], total = 0;
    int rc = conf_fields(x->doc, n, "receiver", names, 4, f, x->d);
    if (rc)
        return rc;
    if (!f[0])
        return conf_err(x->doc, n, x->d, "receiver: name is required");
    if ((rc = str(x, f[0], "name", &r->name)))
        return rc;
    if (!*r->name)
        return conf_err(x->doc, f[0], x->d, "receiver: name is required");
    for (size_t k = 0; k < 3; k++) {
        if ((rc = seq(x, f[k + 1], names[k + 1], &len[k])))
            return rc;
        total += len[k];
    }
    r->targets = arena_calloc(&x->c->arena, total + 1, sizeof(*r->targets));
    if (!r->targets)
        return oom(x);
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < len[k]; i++)
            if ((rc = target(x, conf_item(f[k + 1], i), (enum notify_kind)k,
                             &r->targets[r->ntargets++])))
                return rc;
    return BW_OK;
}

static int receivers(struct ctx *x, const struct conf_node *n)
{
    size_t len;
    int rc = seq(x, n, "receivers", &len);
    if (rc)
        return rc;
    x->c->receivers = arena_calloc(&x->c->arena, len + 1, sizeof(*x->c->receivers));
    if (!x->c->receivers)
        return oom(x);
    for (size_t i = 0; i < len; i++) {
        const struct conf_node *item = conf_item(n, i);
        struct notify_receiver *r = &x->c->receivers[i];
        if ((rc = receiver(x, item, r)))
            return rc;
        for (size_t k = 0; k < i; k++)
            if (strcmp(x->c->receivers[k].name, r->name) == 0)
                return conf_err(x->doc, item, x->d, "receiver %s: defined twice", r->name);
        x->c->nreceivers++;
    }
    return BW_OK;
}

/* ---- routes ---- */

/* Alertmanager's matcher string into PromQL selector text: {name op "value"}, the value
 * quoted when it is not. */
static int matcher_text(const char *s, struct buf *out)
{
    const char *p = s;
    while (*p == ' ')
        p++;
    const char *name = p;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
           (p > name && *p >= '0' && *p <= '9'))
        p++;
    const char *name_end = p;
    while (*p == ' ')
        p++;
    size_t oplen = strncmp(p, "=~", 2) == 0 || strncmp(p, "!~", 2) == 0 || strncmp(p, "!=", 2) == 0
                       ? 2
                   : *p == '=' ? 1
                               : 0;
    const char *v = p + oplen;
    while (*v == ' ')
        v++;
    if (!oplen || name_end == name || *v == '"')
        return buf_printf(out, "{%s}", s);
    size_t vl = strlen(v);
    while (vl && v[vl - 1] == ' ')
        vl--;
    char *value = xstrndup(v, vl);
    if (!value)
        return BW_ENOMEM;
    int rc = buf_printf(out, "{%.*s%.*s", (int)(name_end - name), name, (int)oplen, p);
    if (rc == BW_OK)
        rc = buf_put_goquoted(out, value);
    if (rc == BW_OK)
        rc = buf_putc(out, '}');
    free(value);
    return rc;
}

static int matchers(struct ctx *x, const struct conf_node *n, struct notify_route *r)
{
    size_t len;
    struct buf text;
    int rc = seq(x, n, "matchers", &len);
    if (rc || len == 0)
        return rc;
    buf_init(&text, 0);
    for (size_t i = 0; i < len; i++) {
        const struct conf_node *item = conf_item(n, i);
        const char *s;
        struct tsdb_matcher *m;
        size_t nm;
        struct promql_error err = {0};
        if ((rc = conf_string(x->doc, item, "matchers", &s, x->d)))
            break;
        buf_reset(&text);
        if ((rc = matcher_text(s, &text))) {
            rc = oom(x);
            break;
        }
        rc = promql_parse_selector(text.data, &x->c->arena, &m, &nm, &err);
        if (rc == BW_OK && nm != 1) {
            for (size_t k = 0; k < nm; k++)
                tsdb_matcher_fini(&m[k]);
            rc = BW_EINVAL;
            snprintf(err.msg, sizeof(err.msg), "expected one matcher, got %zu", nm);
        }
        if (rc) {
            rc = conf_err(x->doc, item, x->d, "bad matcher %s: %s", s, err.msg);
            break;
        }
        struct tsdb_matcher *all = arena_grow(&x->c->arena, r->matchers, r->nmatchers,
                                              &(size_t){r->nmatchers}, sizeof(*all));
        if (!all) {
            tsdb_matcher_fini(&m[0]);
            rc = oom(x);
            break;
        }
        r->matchers = all;
        r->matchers[r->nmatchers++] = m[0];
    }
    buf_fini(&text);
    return rc;
}

/* A route and, recursively, its children. An alias can make a route its own descendant, or
 * repeat a subtree: the depth, the total and the ancestors are checked before going down. */
static int route(struct ctx *x, const struct conf_node *n, const struct notify_route *parent,
                 struct notify_route *r)
{
    static const char *const names[] = {"receiver",       "group_by",        "group_wait",
                                        "group_interval", "repeat_interval", "matchers",
                                        "continue",       "routes"};
    const struct conf_node *f[8];
    size_t len;
    for (size_t i = 0; i < x->depth; i++)
        if (x->route_path[i] == n)
            return conf_err(x->doc, n, x->d, "route: contains itself (through an alias)");
    if (x->depth == ROUTE_DEPTH_MAX)
        return conf_err(x->doc, n, x->d, "route: nested deeper than %d levels", ROUTE_DEPTH_MAX);
    if (++x->nroutes > ROUTES_MAX)
        return conf_err(x->doc, n, x->d, "route: more than %d routes", ROUTES_MAX);
    int rc = conf_fields(x->doc, n, "route", names, 8, f, x->d);
    if (rc)
        return rc;
    if (parent) {
        *r = (struct notify_route){
            .receiver = parent->receiver,
            .group_by = parent->group_by,
            .ngroup_by = parent->ngroup_by,
            .group_by_all = parent->group_by_all,
            .group_wait_ms = parent->group_wait_ms,
            .group_interval_ms = parent->group_interval_ms,
            .repeat_interval_ms = parent->repeat_interval_ms,
        };
    }
    if (f[0]) {
        if ((rc = str(x, f[0], "receiver", &r->receiver)))
            return rc;
        bool known = false;
        for (size_t i = 0; !known && i < x->c->nreceivers; i++)
            known = strcmp(x->c->receivers[i].name, r->receiver) == 0;
        if (!known)
            return conf_err(x->doc, f[0], x->d, "route: receiver %s is not defined", r->receiver);
    } else if (!parent) {
        return conf_err(x->doc, n, x->d, "route: the root route must have a receiver");
    }
    if (f[1]) {
        if ((rc = conf_strings(x->doc, f[1], "group_by", &x->c->arena, &r->group_by, &r->ngroup_by,
                               x->d)))
            return rc;
        r->group_by_all = false;
        for (size_t i = 0; i < r->ngroup_by; i++) {
            if (strcmp(r->group_by[i], "...") == 0) {
                if (r->ngroup_by != 1)
                    return conf_err(x->doc, f[1], x->d, "group_by: '...' must be the only element");
                r->group_by_all = true;
            }
        }
        if (r->group_by_all)
            r->ngroup_by = 0;
    }
    if ((f[2] && (rc = conf_duration(x->doc, f[2], "group_wait", &r->group_wait_ms, x->d))) ||
        (f[3] &&
         (rc = conf_duration(x->doc, f[3], "group_interval", &r->group_interval_ms, x->d))) ||
        (f[4] &&
         (rc = conf_duration(x->doc, f[4], "repeat_interval", &r->repeat_interval_ms, x->d))))
        return rc;
    if (f[3] && r->group_interval_ms <= 0)
        return conf_err(x->doc, f[3], x->d, "group_interval cannot be zero");
    if (f[4] && r->repeat_interval_ms <= 0)
        return conf_err(x->doc, f[4], x->d, "repeat_interval cannot be zero");
    if (f[5]) {
        if (!parent)
            return conf_err(x->doc, f[5], x->d, "route: the root route cannot have matchers");
        if ((rc = matchers(x, f[5], r)))
            return rc;
    }
    if (f[6]) {
        if (!parent)
            return conf_err(x->doc, f[6], x->d, "route: the root route cannot have continue");
        if ((rc = conf_bool(x->doc, f[6], "continue", &r->cont, x->d)))
            return rc;
    }
    if ((rc = seq(x, f[7], "routes", &len)))
        return rc;
    if (len) {
        r->routes = arena_calloc(&x->c->arena, len, sizeof(*r->routes));
        if (!r->routes)
            return oom(x);
    }
    x->route_path[x->depth++] = n;
    for (size_t i = 0; i < len && rc == BW_OK; i++) {
        /* Counted before parsing so that fini releases a half-read child's matchers. */
        r->nroutes++;
        rc = route(x, conf_item(f[7], i), r, &r->routes[i]);
    }
    x->depth--;
    return rc;
}

/* ---- the section ---- */

static int alertmanagers(struct ctx *x, const struct conf_node *n)
{
    static const char *const names[] = {"url", "timeout"};
    size_t len;
    int rc = seq(x, n, "alertmanagers", &len);
    if (rc)
        return rc;
    x->c->alertmanagers = arena_calloc(&x->c->arena, len + 1, sizeof(*x->c->alertmanagers));
    if (!x->c->alertmanagers)
        return oom(x);
    for (size_t i = 0; i < len; i++) {
        const struct conf_node *item = conf_item(n, i), *f[2];
        struct notify_am *am = &x->c->alertmanagers[i];
        am->timeout_ms = TIMEOUT_DEFAULT_MS;
        if ((rc = conf_fields(x->doc, item, "alertmanager_config", names, 2, f, x->d)))
            return rc;
        if (!f[0])
            return conf_err(x->doc, item, x->d, "alertmanager_config: url is required");
        if ((rc = url(x, f[0], "url", &am->url)) ||
            (f[1] && (rc = conf_duration(x->doc, f[1], "timeout", &am->timeout_ms, x->d))))
            return rc;
        if (am->timeout_ms <= 0)
            return conf_err(x->doc, f[1], x->d, "timeout: must be positive");
        x->c->nalertmanagers++;
    }
    return BW_OK;
}

int notify_config_parse(const struct conf_doc *doc, const struct conf_node *n,
                        struct notify_config *c, struct diag *d)
{
    enum { RULES, EVAL, EXT_URL, EXT_LABELS, RESEND, AMS, ROUTE, RECEIVERS, N };
    static const char *const names[N] = {
        [RULES] = "rule_files",     [EVAL] = "evaluation_interval",
        [EXT_URL] = "external_url", [EXT_LABELS] = "external_labels",
        [RESEND] = "resend_delay",  [AMS] = "alertmanagers",
        [ROUTE] = "route",          [RECEIVERS] = "receivers",
    };
    const struct conf_node *f[N];
    struct ctx x = {.doc = doc, .c = c, .d = d};
    int rc = conf_fields(doc, n, "alerting", names, N, f, d);
    if (rc)
        return rc;
    if ((f[RULES] && (rc = conf_strings(doc, f[RULES], "rule_files", &c->arena, &c->rule_files,
                                        &c->nrule_files, d))) ||
        (f[EVAL] && (rc = conf_duration(doc, f[EVAL], "evaluation_interval",
                                        &c->evaluation_interval_ms, d))) ||
        (f[EXT_URL] && (rc = url(&x, f[EXT_URL], "external_url", &c->external_url))) ||
        (f[EXT_LABELS] && (rc = conf_labels(doc, f[EXT_LABELS], "external_labels", &c->arena,
                                            &c->external_labels, &c->nexternal_labels, d))) ||
        (f[RESEND] && (rc = conf_duration(doc, f[RESEND], "resend_delay", &c->resend_delay_ms, d))))
        return rc;
    if (f[EVAL] && c->evaluation_interval_ms <= 0)
        return conf_err(doc, f[EVAL], d, "evaluation_interval: must be positive");
    if ((rc = alertmanagers(&x, f[AMS])) || (rc = receivers(&x, f[RECEIVERS])))
        return rc;
    if (f[ROUTE])
        return route(&x, f[ROUTE], NULL, &c->route);
    if (c->nreceivers > 0)
        return conf_err(doc, n, d, "alerting: receivers are defined but there is no route");
    return BW_OK;
}
