/* query: the read side — selecting series with their samples, label names and values,
 * metadata. Runs on any thread, any number at once, beside the writer.
 *
 * Main data structure: struct samples, the growable arrays a series' chunks are decoded into
 * before its exact count is copied into the caller's arena.
 *
 * The design decision: a query holds the index's read lock from matching to the end, so the
 * series it found cannot be dropped under it, and copies each series under that series'
 * stripe mutex, so it sees whole samples. The in-memory chunks are read first and bound the
 * persisted ones: samples move from memory to the store only after the store has committed
 * them, so reading "memory from time F on, then the store before F" never loses or repeats a
 * sample that moves in between. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tsdb/tsdb_int.h"

int samples_reserve(struct samples *s, size_t more)
{
    if (s->n + more <= s->cap)
        return BW_OK;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < s->n + more)
        cap *= 2;
    int64_t *t = realloc(s->t, cap * sizeof(*t));
    if (!t)
        return BW_ENOMEM;
    s->t = t;
    double *v = realloc(s->v, cap * sizeof(*v));
    if (!v)
        return BW_ENOMEM;
    s->v = v;
    s->cap = cap;
    return BW_OK;
}

void samples_fini(struct samples *s)
{
    free(s->t);
    free(s->v);
    *s = (struct samples){0};
}

int samples_add_chunk(struct samples *s, const uint8_t *data, size_t len, int64_t mint,
                      int64_t maxt)
{
    size_t count = chunk_count(data, len), got, w = s->n;
    int rc = samples_reserve(s, count);
    if (rc)
        return rc;
    rc = chunk_decode(data, len, s->t + s->n, s->v + s->n, count, &got);
    if (rc)
        return rc;
    if (got && s->t[s->n] >= mint && s->t[s->n + got - 1] <= maxt) {
        s->n += got; /* all inside, as most chunks of a long range are: nothing to filter */
        return BW_OK;
    }
    for (size_t i = s->n; i < s->n + got; i++) {
        if (s->t[i] < mint || s->t[i] > maxt)
            continue;
        s->t[w] = s->t[i];
        s->v[w++] = s->v[i];
    }
    s->n = w;
    return BW_OK;
}

/* The in-memory samples of s in [mint, maxt] into out; *from: the first time memory holds
 * (INT64_MAX when nothing); *disk: whether persisted chunks overlap. Takes s's lock. */
static int read_memory(struct tsdb *db, const struct series *s, int64_t mint, int64_t maxt,
                       struct samples *out, int64_t *from, bool *disk)
{
    pthread_mutex_t *mu = series_lock(db, s);
    int rc = BW_OK;
    pthread_mutex_lock(mu);
    *from = s->oldest ? s->oldest->mint : INT64_MAX;
    *disk = s->disk_maxt >= mint && s->disk_mint <= maxt && s->disk_mint < *from;
    for (const struct chunk *c = s->oldest; c && rc == BW_OK; c = c->next) {
        if (c->maxt >= mint && c->mint <= maxt)
            rc = samples_add_chunk(out, c->data, c->len, mint, maxt);
    }
    pthread_mutex_unlock(mu);
    return rc;
}

/* Whether s has samples overlapping [mint, maxt], by its span. */
static bool overlaps(struct tsdb *db, const struct series *s, int64_t mint, int64_t maxt)
{
    pthread_mutex_t *mu = series_lock(db, s);
    pthread_mutex_lock(mu);
    bool yes = s->any && s->mint <= maxt && s->maxt >= mint;
    pthread_mutex_unlock(mu);
    return yes;
}

static int copy_labels(struct arena *a, const struct labelset *ls, struct labelset *out)
{
    struct label *v = arena_alloc(a, (ls->n ? ls->n : 1) * sizeof(*v));
    if (!v)
        return arena_over_limit(a) ? BW_ENOSPC : BW_ENOMEM;
    for (size_t i = 0; i < ls->n; i++) {
        v[i].name = arena_strdup(a, ls->v[i].name);
        v[i].value = v[i].name ? arena_strdup(a, ls->v[i].value) : NULL;
        if (!v[i].value)
            return arena_over_limit(a) ? BW_ENOSPC : BW_ENOMEM;
    }
    *out = (struct labelset){v, ls->n};
    return BW_OK;
}

static int cmp_series(const void *a, const void *b)
{
    return labelset_compare(&((const struct tsdb_series *)a)->labels,
                            &((const struct tsdb_series *)b)->labels);
}

static int arena_fail(struct arena *a, struct diag *d)
{
    if (arena_over_limit(a))
        return diag_set(d, BW_ENOSPC, "query exceeds its memory limit");
    return diag_set(d, BW_ENOMEM, "out of memory");
}

/* The samples of s in [mint, maxt], persisted then in memory, into out (emptied first). */
static int read_series(struct tsdb *db, const struct series *s, int64_t mint, int64_t maxt,
                       struct samples *mem, struct samples *out, struct diag *d)
{
    int64_t from;
    bool disk;
    mem->n = out->n = 0;
    int rc = read_memory(db, s, mint, maxt, mem, &from, &disk);
    if (rc == BW_OK && disk && db->st)
        rc = persist_read(db, s->id, mint, from - 1 < maxt ? from - 1 : maxt, out, d);
    else if (rc)
        rc = diag_set(
            d, rc, rc == BW_EIO ? "tsdb: a chunk of series %u is corrupt" : "out of memory", s->id);
    if (rc == BW_OK && mem->n)
        rc = samples_reserve(out, mem->n);
    if (rc == BW_OK && mem->n) {
        memcpy(out->t + out->n, mem->t, mem->n * sizeof(*mem->t));
        memcpy(out->v + out->n, mem->v, mem->n * sizeof(*mem->v));
        out->n += mem->n;
    }
    return rc;
}

int tsdb_select(struct tsdb *db, const struct tsdb_matcher *m, size_t nm, int64_t mint,
                int64_t maxt, unsigned flags, size_t max_samples, struct arena *a,
                struct tsdb_series **out, size_t *nout, struct diag *d)
{
    uint32_t *ids = NULL;
    size_t nids = 0, k = 0, total = 0;
    struct samples mem = {0}, all = {0};
    struct tsdb_series *res = NULL;
    int rc;
    *out = NULL;
    *nout = 0;
    pthread_rwlock_rdlock(&db->index_lock);
    rc = index_match(&db->ix, m, nm, &ids, &nids);
    if (rc) {
        diag_set(d, rc, "out of memory");
        goto out;
    }
    res = arena_alloc(a, (nids ? nids : 1) * sizeof(*res));
    if (!res) {
        rc = arena_fail(a, d);
        goto out;
    }
    for (size_t i = 0; i < nids; i++) {
        const struct series *s = db->ix.series[ids[i] - 1];
        struct tsdb_series *r = &res[k];
        *r = (struct tsdb_series){0};
        if (flags & TSDB_SELECT_LABELS_ONLY) {
            if (!overlaps(db, s, mint, maxt))
                continue;
        } else {
            rc = read_series(db, s, mint, maxt, &mem, &all, d);
            if (rc)
                goto out;
            if (!all.n)
                continue;
            total += all.n;
            if (max_samples && total > max_samples) {
                rc = diag_set(d, BW_ENOSPC, "query selects more than %zu samples", max_samples);
                goto out;
            }
            int64_t *t = arena_alloc(a, all.n * sizeof(*t));
            double *v = t ? arena_alloc(a, all.n * sizeof(*v)) : NULL;
            if (!v) {
                rc = arena_fail(a, d);
                goto out;
            }
            memcpy(t, all.t, all.n * sizeof(*t));
            memcpy(v, all.v, all.n * sizeof(*v));
            *r = (struct tsdb_series){.n = all.n, .t = t, .v = v};
        }
        rc = copy_labels(a, &s->ls, &r->labels);
        if (rc) {
            arena_fail(a, d);
            goto out;
        }
        k++;
    }
    qsort(res, k, sizeof(*res), cmp_series);
    *out = res;
    *nout = k;
out:
    pthread_rwlock_unlock(&db->index_lock);
    samples_fini(&mem);
    samples_fini(&all);
    free(ids);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct names (name NULL) or values of label name among the matching series with
 * samples in [mint, maxt], sorted, copied into a. */
static int distinct(struct tsdb *db, const char *name, const struct tsdb_matcher *m, size_t nm,
                    int64_t mint, int64_t maxt, struct arena *a, const char ***out, size_t *nout,
                    struct diag *d)
{
    uint32_t *ids = NULL;
    size_t nids = 0, n = 0, cap = 0, k = 0;
    const char **v = NULL, **res = NULL;
    int rc;
    *out = NULL;
    *nout = 0;
    pthread_rwlock_rdlock(&db->index_lock);
    rc = index_match(&db->ix, m, nm, &ids, &nids);
    for (size_t i = 0; rc == BW_OK && i < nids; i++) {
        const struct series *s = db->ix.series[ids[i] - 1];
        if (!overlaps(db, s, mint, maxt))
            continue;
        for (size_t j = 0; j < s->ls.n && rc == BW_OK; j++) {
            const char *x = name ? NULL : s->ls.v[j].name;
            if (name && strcmp(s->ls.v[j].name, name) == 0)
                x = s->ls.v[j].value;
            if (!x)
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                const char **p = realloc(v, cap * sizeof(*p));
                if (!p) {
                    rc = BW_ENOMEM;
                    break;
                }
                v = p;
            }
            v[n++] = x;
        }
    }
    if (rc) {
        diag_set(d, rc, "out of memory");
        goto out;
    }
    if (n)
        qsort(v, n, sizeof(*v), cmp_str);
    res = arena_alloc(a, (n ? n : 1) * sizeof(*res));
    if (!res) {
        rc = arena_fail(a, d);
        goto out;
    }
    /* Strings are interned: equal ones are the same pointer, and sorted next to each other. */
    for (size_t i = 0; i < n; i++) {
        if (k && v[i] == v[i - 1])
            continue;
        res[k] = arena_strdup(a, v[i]);
        if (!res[k++]) {
            rc = arena_fail(a, d);
            goto out;
        }
    }
    *out = res;
    *nout = k;
out:
    pthread_rwlock_unlock(&db->index_lock);
    free(ids);
    free(v);
    return rc;
}

int tsdb_label_names(struct tsdb *db, const struct tsdb_matcher *m, size_t nm, int64_t mint,
                     int64_t maxt, struct arena *a, const char ***out, size_t *nout, struct diag *d)
{
    return distinct(db, NULL, m, nm, mint, maxt, a, out, nout, d);
}

int tsdb_label_values(struct tsdb *db, const char *name, const struct tsdb_matcher *m, size_t nm,
                      int64_t mint, int64_t maxt, struct arena *a, const char ***out, size_t *nout,
                      struct diag *d)
{
    return distinct(db, name, m, nm, mint, maxt, a, out, nout, d);
}

int tsdb_metadata_list(struct tsdb *db, struct arena *a, struct tsdb_metadata **out, size_t *nout)
{
    int rc = BW_OK;
    *out = NULL;
    *nout = 0;
    pthread_mutex_lock(&db->meta_lock);
    struct tsdb_metadata *res = arena_alloc(a, (db->nmeta ? db->nmeta : 1) * sizeof(*res));
    for (size_t i = 0; res && i < db->nmeta; i++) {
        const struct meta *m = &db->meta[i];
        res[i] = (struct tsdb_metadata){arena_strdup(a, m->family), arena_strdup(a, m->type),
                                        arena_strdup(a, m->help), arena_strdup(a, m->unit)};
        if (!res[i].family || !res[i].type || !res[i].help || !res[i].unit)
            res = NULL;
    }
    if (res) {
        *out = res;
        *nout = db->nmeta;
    } else {
        rc = arena_over_limit(a) ? BW_ENOSPC : BW_ENOMEM;
    }
    pthread_mutex_unlock(&db->meta_lock);
    return rc;
}
