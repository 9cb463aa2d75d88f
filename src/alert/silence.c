/* silence: the notifier's silences and acknowledgments. A silence (Alertmanager's: matchers,
 * a start, an end, who and why) keeps the alerts it matches out of notifications while it is
 * active; an acknowledgment marks one pending or firing alert as being seen to until it goes
 * inactive. Both are kept in memory, written through to the store, loaded at start and
 * recorded in the history.
 *
 * Main data structures: struct notify_silence_state (the silence as the API gives it, its
 * matchers compiled) and struct notify_ack, arrays in the notifier (notify_int.h).
 *
 * The design decision: a silence is validated as Alertmanager's silence.validateSilence does
 * (label names, UTF-8 values, regexes that compile, at least one matcher that does not match
 * the empty string) when it is made and again when it is loaded, so a bad one never mutes
 * everything; and a silence that ended is kept, shown as expired, for NOTIFY_RETENTION_MS as
 * Alertmanager's retention keeps it, then dropped from memory and the store. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "alert/notify_int.h"
#include "store/store.h"
#include "tsdb/tsdb.h"

/* ---- acknowledgments ---- */

static struct notify_ack *ack_find(struct notifier *n, uint64_t fp)
{
    for (size_t i = 0; i < n->nacks; i++)
        if (n->acks[i].fp == fp)
            return &n->acks[i];
    return NULL;
}

void notify_ack_free(struct notify_ack *k)
{
    free(k->who);
    free(k->comment);
}

static void ack_drop(struct notifier *n, struct notify_ack *k)
{
    notify_ack_free(k);
    *k = n->acks[--n->nacks];
}

static int ack_add(struct notifier *n, uint64_t fp, int64_t active_at, int64_t at, const char *who,
                   const char *comment)
{
    struct notify_ack *k = ack_find(n, fp);
    if (!k) {
        if (notify_grow((void **)&n->acks, n->nacks, &n->cap_acks, sizeof(*n->acks)))
            return BW_ENOMEM;
        k = &n->acks[n->nacks++];
        *k = (struct notify_ack){.fp = fp};
    }
    notify_ack_free(k);
    k->who = xstrdup(who);
    k->comment = xstrdup(comment);
    k->active_at = active_at;
    k->at = at;
    if (!k->who || !k->comment) {
        ack_drop(n, k);
        return BW_ENOMEM;
    }
    return BW_OK;
}

/* An ack lasts until the alert goes inactive, not for one activeAt: after a restart the
 * evaluator restores activeAt only for rules whose `for` exceeds the grace period, and the
 * episode acknowledged is still the same. */
const struct notify_ack *notify_ack_of(struct notifier *n, const struct notify_tracked *t)
{
    const struct notify_ack *k = ack_find(n, t->a.fingerprint);
    return k && t->a.state != ALERT_INACTIVE ? k : NULL;
}

void notify_ack_forget(struct notifier *n, const struct alert *a, int64_t at, const char *why)
{
    struct notify_ack *k = ack_find(n, a->fingerprint);
    if (!k)
        return;
    if (store_alert_ack_delete(n->st, a->fingerprint) && store_last_error(n->st)[0])
        log_error("notify: ack: %s", store_last_error(n->st));
    notify_history_alert(n, a, at, "unack", NULL, NULL, "breakwatch", why);
    ack_drop(n, k);
}

int notifier_ack(struct notifier *n, uint64_t fingerprint, const char *who, const char *comment,
                 int64_t now_ms)
{
    int rc = BW_ENOENT;
    pthread_mutex_lock(&n->mu);
    struct notify_tracked *t = notify_tracked_find(n, fingerprint, NULL);
    if (!t || t->a.state == ALERT_INACTIVE)
        goto out;
    rc = store_alert_ack_put(n->st, &(struct store_alert_ack_row){
                                        .fingerprint = fingerprint,
                                        .active_at = t->a.active_at,
                                        .at = now_ms,
                                        .who = who,
                                        .comment = comment ? comment : "",
                                    });
    if (rc) {
        log_error("notify: ack: %s", store_last_error(n->st));
        rc = BW_EIO;
        goto out;
    }
    rc = ack_add(n, fingerprint, t->a.active_at, now_ms, who, comment ? comment : "");
    if (rc == BW_OK)
        notify_history_alert(n, &t->a, now_ms, "ack", NULL, NULL, who, comment);
    notify_update_gauges(n, now_ms);
out:
    pthread_mutex_unlock(&n->mu);
    return rc;
}

int notifier_unack(struct notifier *n, uint64_t fingerprint, const char *who, int64_t now_ms)
{
    int rc = BW_ENOENT;
    pthread_mutex_lock(&n->mu);
    struct notify_ack *k = ack_find(n, fingerprint);
    if (!k)
        goto out;
    rc = store_alert_ack_delete(n->st, fingerprint);
    if (rc && rc != BW_ENOENT) {
        log_error("notify: unack: %s", store_last_error(n->st));
        rc = BW_EIO;
        goto out;
    }
    struct notify_tracked *t = notify_tracked_find(n, fingerprint, NULL);
    struct alert bare = {.fingerprint = fingerprint};
    notify_history_alert(n, t ? &t->a : &bare, now_ms, "unack", NULL, NULL, who, NULL);
    ack_drop(n, k);
    notify_update_gauges(n, now_ms);
    rc = BW_OK;
out:
    pthread_mutex_unlock(&n->mu);
    return rc;
}

/* ---- silences ---- */

bool notify_silence_active(const struct notify_silence_state *s, int64_t now)
{
    return s->s.starts_at <= now && now < s->s.ends_at;
}

const char *notify_silence_state_name(const struct notify_silence *s, int64_t now)
{
    return now < s->starts_at ? "pending" : now < s->ends_at ? "active" : "expired";
}

static enum tsdb_match_op matcher_op(const struct notify_matcher *m)
{
    return m->is_regex ? (m->is_equal ? TSDB_MATCH_RE : TSDB_MATCH_NRE)
                       : (m->is_equal ? TSDB_MATCH_EQ : TSDB_MATCH_NE);
}

const char *notify_silenced_by(struct notifier *n, const struct labelset *ls, int64_t now)
{
    for (size_t i = 0; i < n->nsilences; i++) {
        struct notify_silence_state *s = n->silences[i];
        if (notify_silence_active(s, now) && notify_matchers_match(s->m, s->s.nmatchers, ls))
            return s->s.id;
    }
    return NULL;
}

void notify_silence_free(struct notify_silence_state *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->m && i < s->s.nmatchers; i++)
        tsdb_matcher_fini(&s->m[i]);
    arena_fini(&s->ar);
    free(s);
}

/* A silence built from src (copied, matchers checked and compiled). BW_EINVAL with d for a bad
 * one, BW_ENOMEM. */
static int silence_new(const struct notify_silence *src, struct notify_silence_state **out,
                       struct diag *d)
{
    int rc = BW_ENOMEM;
    bool all_match_empty = true;
    struct notify_silence_state *s = calloc(1, sizeof(*s));
    *out = NULL;
    if (!s)
        return diag_set(d, BW_ENOMEM, "out of memory");
    arena_init(&s->ar, 0);
    s->s = *src;
    s->s.created_by = arena_strdup(&s->ar, src->created_by ? src->created_by : "");
    s->s.comment = arena_strdup(&s->ar, src->comment ? src->comment : "");
    s->s.matchers = arena_calloc(&s->ar, src->nmatchers, sizeof(*s->s.matchers));
    s->m = arena_calloc(&s->ar, src->nmatchers, sizeof(*s->m));
    if (!s->s.created_by || !s->s.comment || !s->s.matchers || !s->m)
        goto fail;
    s->s.nmatchers = 0;
    for (size_t i = 0; i < src->nmatchers; i++) {
        const struct notify_matcher *m = &src->matchers[i];
        struct diag md = {0};
        if (!m->name || !m->value) {
            rc = diag_set(d, BW_EINVAL, "matcher %zu: a name and a value are required", i + 1);
            goto fail;
        }
        if (!prom_name_valid(m->name, strlen(m->name), false)) {
            rc = diag_set(d, BW_EINVAL, "matcher %zu: invalid label name \"%s\"", i + 1, m->name);
            goto fail;
        }
        if (!m->is_regex && !utf8_valid(m->value, strlen(m->value))) {
            rc = diag_set(d, BW_EINVAL, "matcher %zu: the value is not valid UTF-8", i + 1);
            goto fail;
        }
        struct notify_matcher *c = &s->s.matchers[i];
        *c = *m;
        c->name = arena_strdup(&s->ar, m->name);
        c->value = arena_strdup(&s->ar, m->value);
        if (!c->name || !c->value)
            goto fail;
        rc = tsdb_matcher_init(&s->m[i], matcher_op(m), m->name, m->value, &md);
        if (rc) {
            if (rc == BW_EINVAL)
                diag_set(d, rc, "matcher %zu: invalid regular expression \"%s\": %s", i + 1,
                         m->value, md.msg);
            goto fail;
        }
        s->s.nmatchers++;
        all_match_empty = all_match_empty && tsdb_matcher_matches(&s->m[i], "");
    }
    if (all_match_empty) {
        rc = diag_set(d, BW_EINVAL, "at least one matcher must not match the empty string");
        goto fail;
    }
    *out = s;
    return BW_OK;
fail:
    if (rc == BW_ENOMEM)
        diag_set(d, rc, "out of memory");
    notify_silence_free(s);
    return rc;
}

static int matchers_json(const struct notify_silence *s, struct buf *out)
{
    cJSON *arr = cJSON_CreateArray();
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < s->nmatchers; i++) {
        cJSON *o = cJSON_CreateObject();
        ok = o && cJSON_AddItemToArray(arr, o);
        if (!ok) {
            cJSON_Delete(o);
            break;
        }
        ok = cJSON_AddStringToObject(o, "name", s->matchers[i].name) &&
             cJSON_AddStringToObject(o, "value", s->matchers[i].value) &&
             cJSON_AddBoolToObject(o, "isRegex", s->matchers[i].is_regex) &&
             cJSON_AddBoolToObject(o, "isEqual", s->matchers[i].is_equal);
    }
    char *text = ok ? cJSON_PrintUnformatted(arr) : NULL;
    int rc = text ? buf_puts(out, text) : BW_ENOMEM;
    cJSON_free(text);
    cJSON_Delete(arr);
    return rc;
}

static int silence_store(struct notifier *n, const struct notify_silence *s)
{
    struct buf mj;
    buf_init(&mj, 0);
    int rc = matchers_json(s, &mj);
    if (rc == BW_OK)
        rc = store_alert_silence_put(n->st, &(struct store_alert_silence_row){
                                                .id = s->id,
                                                .matchers_json = mj.data,
                                                .created_by = s->created_by,
                                                .comment = s->comment,
                                                .starts_at = s->starts_at,
                                                .ends_at = s->ends_at,
                                                .updated_at = s->updated_at,
                                            });
    if (rc && rc != BW_ENOMEM)
        log_error("notify: silence %s: %s", s->id, store_last_error(n->st));
    buf_fini(&mj);
    return rc;
}

static void history_silence(struct notifier *n, const struct notify_silence_state *s, int64_t at,
                            const char *what, const char *who)
{
    struct buf mj, outcome;
    buf_init(&mj, 0);
    buf_init(&outcome, 0);
    if (matchers_json(&s->s, &mj) == BW_OK && buf_printf(&outcome, "%s %s", what, s->s.id) == 0)
        notify_history(n,
                       &(struct store_alert_history_row){.at = at,
                                                         .kind = "silence",
                                                         .labels_json = mj.data,
                                                         .to = notify_silence_state_name(&s->s, at),
                                                         .outcome = outcome.data,
                                                         .who = who});
    buf_fini(&mj);
    buf_fini(&outcome);
}

static int uuid_v4(char out[37])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t k = getrandom(b + got, sizeof(b) - got, 0);
        if (k < 0 && errno != EINTR)
            return BW_EIO;
        if (k > 0)
            got += (size_t)k;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return BW_OK;
}

static struct notify_silence_state *silence_find(struct notifier *n, const char *id, size_t *idx)
{
    for (size_t i = 0; id && i < n->nsilences; i++) {
        if (strcmp(n->silences[i]->s.id, id) == 0) {
            if (idx)
                *idx = i;
            return n->silences[i];
        }
    }
    return NULL;
}

int notifier_silence_put(struct notifier *n, struct notify_silence *s, int64_t now_ms,
                         struct diag *d)
{
    struct notify_silence_state *ns = NULL;
    size_t idx = 0;
    int rc;
    if (s->nmatchers == 0)
        return diag_set(d, BW_EINVAL, "a silence needs at least one matcher");
    if (s->ends_at <= s->starts_at)
        return diag_set(d, BW_EINVAL, "a silence must end after it starts");
    if (s->ends_at <= now_ms)
        return diag_set(d, BW_EINVAL, "a silence cannot end in the past");
    rc = silence_new(s, &ns, d);
    if (rc)
        return rc;
    pthread_mutex_lock(&n->mu);
    struct notify_silence_state *old = s->id[0] ? silence_find(n, s->id, &idx) : NULL;
    if (s->id[0] && !old) {
        rc = diag_set(d, BW_ENOENT, "silence %s not found", s->id);
        goto out;
    }
    if (old) {
        snprintf(ns->s.id, sizeof(ns->s.id), "%s", old->s.id);
    } else if ((rc = uuid_v4(ns->s.id)) != BW_OK) {
        diag_set(d, rc, "no randomness for a silence id");
        goto out;
    }
    ns->s.updated_at = now_ms;
    rc = notify_grow((void **)&n->silences, n->nsilences, &n->cap_silences, sizeof(*n->silences));
    if (rc == BW_OK)
        rc = silence_store(n, &ns->s);
    if (rc) {
        diag_set(d, rc, "cannot store the silence: %s", store_last_error(n->st));
        goto out;
    }
    if (old) {
        notify_silence_free(old);
        n->silences[idx] = ns;
    } else {
        n->silences[n->nsilences++] = ns;
    }
    history_silence(n, ns, now_ms, old ? "updated" : "created", ns->s.created_by);
    snprintf(s->id, sizeof(s->id), "%s", ns->s.id);
    ns = NULL;
    notify_kick(n);
out:
    pthread_mutex_unlock(&n->mu);
    notify_silence_free(ns);
    return rc;
}

int notifier_silence_expire(struct notifier *n, const char *id, const char *who, int64_t now_ms)
{
    int rc = BW_ENOENT;
    pthread_mutex_lock(&n->mu);
    struct notify_silence_state *s = silence_find(n, id, NULL);
    if (s && s->s.ends_at > now_ms) {
        s->s.ends_at = now_ms;
        if (s->s.starts_at > now_ms)
            s->s.starts_at = now_ms;
        s->s.updated_at = now_ms;
        s->expiry_noted = true;
        rc = silence_store(n, &s->s);
        history_silence(n, s, now_ms, "expired", who);
        notify_kick(n);
    } else if (s) {
        rc = BW_OK; /* already over */
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

void notify_silences_tick(struct notifier *n, int64_t now, bool gc)
{
    int64_t before = now - NOTIFY_RETENTION_MS;
    for (size_t i = 0; i < n->nsilences;) {
        struct notify_silence_state *s = n->silences[i];
        if (!s->expiry_noted && s->s.ends_at <= now) {
            s->expiry_noted = true;
            history_silence(n, s, now, "expired", NULL);
        }
        if (gc && s->s.ends_at < before) {
            notify_silence_free(s);
            n->silences[i] = n->silences[--n->nsilences];
        } else {
            i++;
        }
    }
    if (gc && store_alert_silences_drop(n->st, before, NULL))
        log_error("notify: dropping old silences: %s", store_last_error(n->st));
}

/* ---- loading ---- */

static int load_ack(void *ud, const struct store_alert_ack_row *r)
{
    return ack_add(ud, r->fingerprint, r->active_at, r->at, r->who ? r->who : "",
                   r->comment ? r->comment : "");
}

static int load_silence(void *ud, const struct store_alert_silence_row *r)
{
    struct notifier *n = ud;
    struct notify_matcher m[64];
    struct notify_silence s = {.matchers = m,
                               .starts_at = r->starts_at,
                               .ends_at = r->ends_at,
                               .updated_at = r->updated_at,
                               .created_by = r->created_by,
                               .comment = r->comment};
    struct notify_silence_state *ns = NULL;
    struct diag d = {0};
    cJSON *arr = cJSON_Parse(r->matchers_json ? r->matchers_json : "");
    const cJSON *it;
    int rc = BW_OK;
    cJSON_ArrayForEach(it, arr)
    {
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name"));
        const char *value = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "value"));
        if (s.nmatchers == BW_ARRAY_LEN(m) || !name || !value)
            break;
        m[s.nmatchers++] = (struct notify_matcher){
            .name = name,
            .value = value,
            .is_regex = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "isRegex")),
            .is_equal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "isEqual")),
        };
    }
    if (s.nmatchers == 0 || silence_new(&s, &ns, &d)) {
        log_warn("notify: silence %s in the store is unusable, ignored%s%s", r->id,
                 d.msg[0] ? ": " : "", d.msg);
        goto out;
    }
    snprintf(ns->s.id, sizeof(ns->s.id), "%s", r->id);
    ns->expiry_noted = true; /* its expiry, if it is over, happened before */
    rc = notify_grow((void **)&n->silences, n->nsilences, &n->cap_silences, sizeof(*n->silences));
    if (rc) {
        notify_silence_free(ns);
        goto out;
    }
    n->silences[n->nsilences++] = ns;
out:
    cJSON_Delete(arr);
    return rc;
}

int notify_silences_load(struct notifier *n)
{
    int rc = store_alert_acks_each(n->st, load_ack, n);
    return rc ? rc : store_alert_silences_each(n->st, load_silence, n);
}
