/* nflog: the notifier's notification log — per group and target, when it was last notified
 * and the fingerprints of the firing and resolved alerts it carried, as Alertmanager's nflog
 * keeps them, so that a group is notified again only when something changed or the repeat
 * interval passed, and a restart does not notify again what was already said.
 *
 * Main data structure: struct notify_nflog (notify_int.h), an array in the notifier, written
 * through to the store (the fingerprints as comma-separated hex).
 *
 * The design decision: an entry outlives its group by the group's repeat interval — long
 * enough that a group coming back at once is still deduplicated, after which the log would
 * say "notify" anyway — and is then deleted from memory and the store, so the log does not
 * grow with every group that ever existed. */
#include <stdlib.h>
#include <string.h>

#include "alert/notify_int.h"
#include "store/store.h"

struct notify_nflog *notify_nflog_find(struct notifier *n, const char *key)
{
    for (size_t i = 0; i < n->nlog; i++)
        if (strcmp(n->log[i].key, key) == 0)
            return &n->log[i];
    return NULL;
}

void notify_nflog_clear(struct notify_nflog *e)
{
    free(e->key);
    free(e->firing);
    free(e->resolved);
}

static uint64_t *fps_dup(const uint64_t *v, size_t k)
{
    uint64_t *c = malloc((k ? k : 1) * sizeof(*c));
    if (c && k)
        memcpy(c, v, k * sizeof(*c));
    return c;
}

/* Sets the entry of key in memory. */
static int nflog_set(struct notifier *n, const char *key, int64_t at, const uint64_t *f, size_t nf,
                     const uint64_t *r, size_t nr)
{
    struct notify_nflog e = {.key = xstrdup(key), .sent_at = at, .nfiring = nf, .nresolved = nr};
    e.firing = fps_dup(f, nf);
    e.resolved = fps_dup(r, nr);
    struct notify_nflog *old = notify_nflog_find(n, key);
    if (!e.key || !e.firing || !e.resolved ||
        (!old && notify_grow((void **)&n->log, n->nlog, &n->cap_log, sizeof(*n->log)))) {
        notify_nflog_clear(&e);
        return BW_ENOMEM;
    }
    if (old) {
        notify_nflog_clear(old);
        *old = e;
    } else {
        n->log[n->nlog++] = e;
    }
    return BW_OK;
}

static int fps_text(const uint64_t *v, size_t k, struct buf *out)
{
    int rc = buf_puts(out, "");
    for (size_t i = 0; rc == BW_OK && i < k; i++)
        rc = buf_printf(out, "%s%016llx", i ? "," : "", (unsigned long long)v[i]);
    return rc;
}

/* Parses fps_text's form into a malloc'd array. */
static int fps_parse(const char *s, uint64_t **out, size_t *nout)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    uint64_t *v = malloc(cap * sizeof(*v));
    size_t k = 0;
    if (!v)
        return BW_ENOMEM;
    while (*s && k < cap) {
        char *end;
        v[k++] = strtoull(s, &end, 16);
        if (end == s)
            break;
        s = *end == ',' ? end + 1 : end;
    }
    *out = v;
    *nout = k;
    return BW_OK;
}

void notify_nflog_log(struct notifier *n, const char *key, int64_t at, const uint64_t *f, size_t nf,
                      const uint64_t *r, size_t nr)
{
    struct buf ft, rt;
    buf_init(&ft, 0);
    buf_init(&rt, 0);
    int rc = nflog_set(n, key, at, f, nf, r, nr);
    if (rc == BW_OK)
        rc = fps_text(f, nf, &ft);
    if (rc == BW_OK)
        rc = fps_text(r, nr, &rt);
    if (rc == BW_OK)
        rc = store_alert_nflog_put(n->st, &(struct store_alert_nflog_row){
                                              .key = key,
                                              .sent_at = at,
                                              .firing = ft.data,
                                              .resolved = rt.data,
                                          });
    if (rc)
        log_error("notify: notification log: %s",
                  rc == BW_ENOMEM ? "out of memory" : store_last_error(n->st));
    buf_fini(&ft);
    buf_fini(&rt);
}

static bool fps_has(const uint64_t *v, size_t k, uint64_t fp)
{
    for (size_t i = 0; i < k; i++)
        if (v[i] == fp)
            return true;
    return false;
}

static bool fps_subset(const uint64_t *sub, size_t ns, const uint64_t *of, size_t no)
{
    for (size_t i = 0; i < ns; i++)
        if (!fps_has(of, no, sub[i]))
            return false;
    return true;
}

bool notify_nflog_needs_update(const struct notify_nflog *e, const uint64_t *f, size_t nf,
                               const uint64_t *r, size_t nr, bool send_resolved, int64_t repeat,
                               int64_t now)
{
    if (!e)
        return nf > 0;
    if (!fps_subset(f, nf, e->firing, e->nfiring))
        return true;
    if (nf == 0)
        return e->nfiring > 0;
    if (send_resolved && !fps_subset(r, nr, e->resolved, e->nresolved))
        return true;
    return e->sent_at + repeat <= now;
}

/* The repeat interval of the route an entry's group belonged to: the entry's key holds
 * "/" route key ":"; the longest route key found there, else the longest interval of all. */
static int64_t entry_repeat(struct notifier *n, const char *key)
{
    size_t best = 0;
    int64_t repeat = 0, longest = 0;
    struct buf pat;
    buf_init(&pat, 0);
    for (size_t i = 0; i < n->nroutes; i++) {
        const struct notify_rnode *rn = &n->routes[i];
        int64_t ri = rn->route->repeat_interval_ms;
        longest = ri > longest ? ri : longest;
        buf_reset(&pat);
        if (buf_printf(&pat, "/%s:", rn->key) == BW_OK && pat.len > best && strstr(key, pat.data)) {
            best = pat.len;
            repeat = ri;
        }
    }
    buf_fini(&pat);
    return best ? repeat : longest;
}

void notify_nflog_gc(struct notifier *n, int64_t now)
{
    struct buf key;
    buf_init(&key, 0);
    for (size_t i = 0; i < n->nlog; i++)
        n->log[i].live = false;
    for (size_t g = 0; g < n->ngroups; g++) {
        const struct notify_receiver *rc = &n->cfg->receivers[n->groups[g]->rn->receiver];
        for (size_t ti = 0; ti < rc->ntargets; ti++) {
            buf_reset(&key);
            if (buf_printf(&key, "%s/%zu/%s", rc->name, ti, n->groups[g]->key)) {
                buf_fini(&key);
                return; /* out of memory: nothing is known to be dead */
            }
            struct notify_nflog *e = notify_nflog_find(n, key.data);
            if (e)
                e->live = true;
        }
    }
    buf_fini(&key);
    for (size_t i = 0; i < n->nlog;) {
        struct notify_nflog *e = &n->log[i];
        if (e->live || e->sent_at + entry_repeat(n, e->key) > now) {
            i++;
            continue;
        }
        int rc = store_alert_nflog_delete(n->st, e->key);
        if (rc && rc != BW_ENOENT)
            log_error("notify: notification log: %s", store_last_error(n->st));
        notify_nflog_clear(e);
        *e = n->log[--n->nlog];
    }
}

static int load_nflog(void *ud, const struct store_alert_nflog_row *r)
{
    struct notifier *n = ud;
    uint64_t *f = NULL, *rs = NULL;
    size_t nf = 0, nr = 0;
    int rc = fps_parse(r->firing ? r->firing : "", &f, &nf);
    if (rc == BW_OK)
        rc = fps_parse(r->resolved ? r->resolved : "", &rs, &nr);
    if (rc == BW_OK)
        rc = nflog_set(n, r->key, r->sent_at, f, nf, rs, nr);
    free(f);
    free(rs);
    return rc;
}

int notify_nflog_load(struct notifier *n)
{
    return store_alert_nflog_each(n->st, load_nflog, n);
}
