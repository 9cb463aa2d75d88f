/* route: where the notifier's alerts go — the route tree walked as Alertmanager's
 * Route.Match does, and the groups (route, group labels) whose flushes decide per target
 * whether to notify, by the notification log and Alertmanager's dedup rule.
 *
 * Main data structures: struct notify_rnode (the routes in preorder, each with its
 * Alertmanager key and its receiver's index) and struct notify_group (member fingerprints and
 * the next flush time), both in the notifier (notify_int.h).
 *
 * The design decision: the routes are taken as config.c resolved them (inheritance included),
 * so the intervals read here are exactly what the file says — an explicit 0s group_wait is
 * 0 — and the tree's depth is bounded by config.c, which makes the recursion here safe. A
 * group holds fingerprints, not alerts: a flush looks each one up, so an alert's latest report
 * is what is sent. */
#include <stdlib.h>
#include <string.h>

#include "alert/notify_int.h"
#include "tsdb/tsdb.h"

static const char *const match_ops[] = {
    [TSDB_MATCH_EQ] = "=", [TSDB_MATCH_NE] = "!=", [TSDB_MATCH_RE] = "=~", [TSDB_MATCH_NRE] = "!~"};

/* Alertmanager's route key: the parent's, "/", then the matchers as {a="b",c=~"d"}. */
static int route_key(const char *parent, const struct notify_route *r, struct buf *b)
{
    int rc = parent ? buf_printf(b, "%s/{", parent) : buf_putc(b, '{');
    for (size_t i = 0; rc == BW_OK && i < r->nmatchers; i++) {
        rc = buf_printf(b, "%s%s%s", i ? "," : "", r->matchers[i].name,
                        match_ops[r->matchers[i].op]);
        if (rc == BW_OK)
            rc = buf_put_goquoted(b, r->matchers[i].value);
    }
    return rc ? rc : buf_putc(b, '}');
}

size_t notify_receiver_index(const struct notify_config *c, const char *name)
{
    for (size_t i = 0; name && i < c->nreceivers; i++)
        if (strcmp(c->receivers[i].name, name) == 0)
            return i;
    return SIZE_MAX;
}

size_t notify_routes_count(const struct notify_route *r)
{
    size_t k = 1;
    for (size_t i = 0; i < r->nroutes; i++)
        k += notify_routes_count(&r->routes[i]);
    return k;
}

/* Adds r and its children in preorder. */
static int routes_add(struct notifier *n, const struct notify_route *r, const char *parent_key,
                      struct diag *d)
{
    struct notify_rnode *rn = &n->routes[n->nroutes++];
    struct buf key;
    buf_init(&key, 0);
    *rn = (struct notify_rnode){.route = r, .receiver = SIZE_MAX};
    /* The root may have no receiver when there are none: alerts are only forwarded. */
    if (r->receiver) {
        rn->receiver = notify_receiver_index(n->cfg, r->receiver);
        if (rn->receiver == SIZE_MAX)
            return diag_set(d, BW_EINVAL, "route: unknown receiver %s", r->receiver);
    }
    if (route_key(parent_key, r, &key) || !(rn->key = xstrdup(key.data))) {
        buf_fini(&key);
        return diag_set(d, BW_ENOMEM, "route: out of memory");
    }
    buf_fini(&key);
    for (size_t i = 0; i < r->nroutes; i++) {
        int rc = routes_add(n, &r->routes[i], rn->key, d);
        if (rc)
            return rc;
    }
    return BW_OK;
}

int notify_routes_build(struct notifier *n, struct diag *d)
{
    return routes_add(n, &n->cfg->route, NULL, d);
}

static const struct notify_rnode *rnode_of(struct notifier *n, const struct notify_route *r)
{
    for (size_t i = 0; i < n->nroutes; i++)
        if (n->routes[i].route == r)
            return &n->routes[i];
    return NULL;
}

bool notify_matchers_match(const struct tsdb_matcher *m, size_t nm, const struct labelset *ls)
{
    for (size_t i = 0; i < nm; i++) {
        const char *v = labelset_get(ls, m[i].name);
        if (!tsdb_matcher_matches(&m[i], v ? v : ""))
            return false;
    }
    return true;
}

/* The first child that matches ends the walk unless it continues. */
static size_t match_from(struct notifier *n, const struct notify_route *r,
                         const struct labelset *ls, const struct notify_rnode **out, size_t cap)
{
    if (!notify_matchers_match(r->matchers, r->nmatchers, ls))
        return 0;
    size_t k = 0;
    for (size_t i = 0; i < r->nroutes && k < cap; i++) {
        size_t got = match_from(n, &r->routes[i], ls, out + k, cap - k);
        k += got;
        if (got && !r->routes[i].cont)
            break;
    }
    if (k == 0 && cap > 0)
        out[k++] = rnode_of(n, r);
    return k;
}

size_t notify_route_match(struct notifier *n, const struct labelset *ls,
                          const struct notify_rnode **out, size_t cap)
{
    return match_from(n, &n->cfg->route, ls, out, cap);
}

/* ---- groups ---- */

void notify_group_free(struct notify_group *g)
{
    arena_fini(&g->ar);
    free(g->fps);
    free(g);
}

/* The group of key, made (first flush after the route's group_wait) when there is none. */
static struct notify_group *group_get(struct notifier *n, const struct notify_rnode *rn,
                                      const char *key, const struct labelset *ls, int64_t now)
{
    for (size_t i = 0; i < n->ngroups; i++)
        if (strcmp(n->groups[i]->key, key) == 0)
            return n->groups[i];
    if (notify_grow((void **)&n->groups, n->ngroups, &n->cap_groups, sizeof(*n->groups)))
        return NULL;
    struct notify_group *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    arena_init(&g->ar, 0);
    g->rn = rn;
    g->key = arena_strdup(&g->ar, key);
    g->next_flush = now + rn->route->group_wait_ms;
    if (!g->key || !labels_dup(ls, &g->ar, &g->labels)) {
        notify_group_free(g);
        return NULL;
    }
    n->groups[n->ngroups++] = g;
    return g;
}

void notify_route_alert(struct notifier *n, const struct alert *a, int64_t now)
{
    const struct notify_rnode *hits[32];
    size_t nh = notify_route_match(n, &a->labels, hits, BW_ARRAY_LEN(hits));
    struct buf key;
    buf_init(&key, 0);
    for (size_t h = 0; h < nh; h++) {
        const struct notify_rnode *rn = hits[h];
        const struct notify_route *r = rn->route;
        if (rn->receiver == SIZE_MAX)
            continue;
        struct label gl[64];
        size_t ngl = 0;
        for (size_t i = 0; i < a->labels.n && ngl < BW_ARRAY_LEN(gl); i++) {
            bool take = r->group_by_all;
            for (size_t k = 0; !take && k < r->ngroup_by; k++)
                take = strcmp(r->group_by[k], a->labels.v[i].name) == 0;
            if (take)
                gl[ngl++] = a->labels.v[i];
        }
        struct labelset ls = {gl, ngl};
        buf_reset(&key);
        if (buf_printf(&key, "%s:", rn->key) || labelset_format(&ls, &key))
            goto oom;
        struct notify_group *g = group_get(n, rn, key.data, &ls, now);
        if (!g)
            goto oom;
        bool member = false;
        for (size_t i = 0; !member && i < g->nfps; i++)
            member = g->fps[i] == a->fingerprint;
        if (!member) {
            if (notify_grow((void **)&g->fps, g->nfps, &g->cap, sizeof(*g->fps)))
                goto oom;
            g->fps[g->nfps++] = a->fingerprint;
        }
    }
    buf_fini(&key);
    return;
oom:
    buf_fini(&key);
    log_error("notify: out of memory routing an alert");
}

static int by_labels(const void *a, const void *b)
{
    const struct alert *x = *(const struct alert *const *)a, *y = *(const struct alert *const *)b;
    return labelset_compare(&x->labels, &y->labels);
}

/* Flushes g at now: decides per target whether to notify and queues the requests; resolved
 * alerts leave the group. */
static void group_flush(struct notifier *n, struct notify_group *g, int64_t now)
{
    const struct notify_rnode *rn = g->rn;
    const struct notify_receiver *rc = &n->cfg->receivers[rn->receiver];
    size_t cap = g->nfps ? g->nfps : 1;
    const struct alert **all = calloc(cap, sizeof(*all));
    const struct alert **firing_only = calloc(cap, sizeof(*firing_only));
    uint64_t *f = calloc(cap, sizeof(*f));
    uint64_t *r = calloc(cap, sizeof(*r));
    size_t nall = 0, nf = 0, nr = 0, kept = 0;
    struct buf key;
    buf_init(&key, 0);
    if (!all || !firing_only || !f || !r)
        goto out;
    for (size_t i = 0; i < g->nfps; i++) {
        struct notify_tracked *t = notify_tracked_find(n, g->fps[i], NULL);
        if (!t || t->a.state == ALERT_PENDING)
            continue; /* forgotten, or pending again */
        if (t->a.state != ALERT_INACTIVE)
            g->fps[kept++] = g->fps[i];
        if (notify_silenced_by(n, &t->a.labels, now))
            continue;
        all[nall++] = &t->a;
    }
    g->nfps = kept;
    qsort(all, nall, sizeof(*all), by_labels);
    size_t nfo = 0;
    for (size_t i = 0; i < nall; i++) {
        if (all[i]->state == ALERT_INACTIVE) {
            r[nr++] = all[i]->fingerprint;
        } else {
            f[nf++] = all[i]->fingerprint;
            firing_only[nfo++] = all[i];
        }
    }
    for (size_t ti = 0; ti < rc->ntargets; ti++) {
        const struct notify_target *t = &rc->targets[ti];
        buf_reset(&key);
        if (buf_printf(&key, "%s/%zu/%s", rc->name, ti, g->key))
            goto out;
        if (!notify_nflog_needs_update(notify_nflog_find(n, key.data), f, nf, r, nr,
                                       t->send_resolved, rn->route->repeat_interval_ms, now))
            continue;
        struct notify_msg m = {
            .receiver = rc->name,
            .group_key = g->key,
            .external_url = n->cfg->external_url,
            .group_labels = g->labels,
            .alerts = t->send_resolved ? all : firing_only,
            .n = t->send_resolved ? nall : nfo,
        };
        if (m.n == 0) {
            /* Nothing to say to this target, but the log learns that all resolved. */
            notify_nflog_log(n, key.data, now, f, nf, r, nr);
            continue;
        }
        struct notify_delivery *d =
            notify_target_delivery(n, rn->receiver, ti, &m, key.data, f, nf, r, nr, now);
        if (d)
            notify_delivery_queue(n, d);
    }
out:
    g->next_flush = now + rn->route->group_interval_ms;
    free(all);
    free(firing_only);
    free(f);
    free(r);
    buf_fini(&key);
}

void notify_groups_flush(struct notifier *n, int64_t now)
{
    for (size_t i = 0; i < n->ngroups;) {
        struct notify_group *g = n->groups[i];
        if (g->next_flush <= now)
            group_flush(n, g, now);
        if (g->nfps == 0) {
            notify_group_free(g);
            n->groups[i] = n->groups[--n->ngroups];
        } else {
            i++;
        }
    }
}
