/* tsdb: the database's lifecycle and its writer — open and close, appends into the head,
 * commits, retention, metadata and statistics. Queries are in query.c, everything that talks
 * to the store in persist.c.
 *
 * Main data structure: struct tsdb (tsdb_int.h). Every series keeps its in-memory chunks as a
 * list, oldest first, the last one open for appending; a full chunk stays in the list until a
 * commit persists it (with a store) or retention drops it (in memory). Chunks are cut in step
 * across series (note_tick), so that the series of one scrape hold the same timestamps.
 *
 * The design decision: an append locks only the mutex of its series' stripe, and only for the
 * time of encoding one sample into the open chunk, so queries copying other series never wait
 * for the writer nor the writer for them; the index's rwlock is taken exclusively only when a
 * series is created or dropped, which a steady scrape never does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tsdb/tsdb_int.h"

#define DEFAULT_RETENTION_MS (15LL * 24 * 3600 * 1000)

double tsdb_stale_nan(void)
{
    uint64_t u = TSDB_STALE_NAN_BITS;
    double v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

bool tsdb_is_stale(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u == TSDB_STALE_NAN_BITS;
}

int tsdb_labels_check(const struct labelset *ls, struct diag *d)
{
    const char *metric = NULL;
    if (!ls)
        return diag_set(d, BW_EINVAL, "no label set");
    for (size_t i = 0; i < ls->n; i++) {
        const struct label *l = &ls->v[i];
        if (!l->name || !prom_name_valid(l->name, strlen(l->name), false))
            return diag_set(d, BW_EINVAL, "invalid label name \"%s\"", l->name ? l->name : "");
        if (i > 0 && strcmp(ls->v[i - 1].name, l->name) >= 0)
            return diag_set(d, BW_EINVAL, "label %s is out of order or repeated", l->name);
        if (!l->value || !*l->value)
            return diag_set(d, BW_EINVAL, "label %s has an empty value", l->name);
        if (strcmp(l->name, LABEL_NAME) == 0)
            metric = l->value;
    }
    if (!metric)
        return diag_set(d, BW_EINVAL, "no metric name (__name__)");
    if (!prom_name_valid(metric, strlen(metric), true))
        return diag_set(d, BW_EINVAL, "invalid metric name \"%s\"", metric);
    return BW_OK;
}

int tsdb_open(struct store *st, const struct tsdb_options *o, struct tsdb **out, struct diag *d)
{
    pthread_rwlockattr_t attr;
    struct tsdb *db = calloc(1, sizeof(*db));
    int rc;
    *out = NULL;
    if (!db)
        return diag_set(d, BW_ENOMEM, "tsdb: out of memory");
    db->st = st;
    if (o)
        db->opt = *o;
    if (db->opt.retention_ms <= 0)
        db->opt.retention_ms = DEFAULT_RETENTION_MS;
    /* Writer preference: a query arriving while the writer waits to add a series queues
     * behind it, so a stream of queries cannot starve the collector. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&db->index_lock, &attr);
    pthread_mutex_init(&db->write_lock, NULL);
    pthread_rwlockattr_destroy(&attr);
    for (size_t i = 0; i < NSTRIPES; i++)
        pthread_mutex_init(&db->stripes[i], NULL);
    for (size_t i = 0; i < NREADERS; i++)
        pthread_mutex_init(&db->readers[i].mu, NULL);
    pthread_mutex_init(&db->meta_lock, NULL);
    pthread_mutex_init(&db->err_lock, NULL);
    index_init(&db->ix);
    wal_writer_init(&db->wal);
    buf_init(&db->rec, 0);
    buf_init(&db->pack, 0);
    db->next_wal_seq = 1;
    db->next_tref = 1;
    db->epoch_t = INT64_MIN;
    if (st) {
        rc = persist_load(db, d);
        if (rc) {
            tsdb_close(db);
            return rc;
        }
    }
    *out = db;
    return BW_OK;
}

void tsdb_close(struct tsdb *db)
{
    struct diag d;
    if (!db)
        return;
    if (db->st && tsdb_commit(db, &d))
        log_error("tsdb: last commit failed: %s", d.msg);
    for (size_t i = 0; i < NREADERS; i++) {
        store_close(db->readers[i].st);
        persist_blocks_free(db->readers[i].bks);
        pthread_mutex_destroy(&db->readers[i].mu);
    }
    for (size_t i = 0; i < db->nmeta; i++) {
        free(db->meta[i].family);
        free(db->meta[i].type);
        free(db->meta[i].help);
        free(db->meta[i].unit);
    }
    free(db->meta);
    free(db->dirty);
    free(db->tblocks);
    buf_fini(&db->rec);
    buf_fini(&db->pack);
    wal_writer_fini(&db->wal);
    index_fini(&db->ix);
    pthread_mutex_destroy(&db->meta_lock);
    pthread_mutex_destroy(&db->err_lock);
    for (size_t i = 0; i < NSTRIPES; i++)
        pthread_mutex_destroy(&db->stripes[i]);
    pthread_rwlock_destroy(&db->index_lock);
    pthread_mutex_destroy(&db->write_lock);
    free(db);
}

/* ---- appending ---- */

void tsdb_write_lock(struct tsdb *db)
{
    pthread_mutex_lock(&db->write_lock);
}

void tsdb_write_unlock(struct tsdb *db)
{
    pthread_mutex_unlock(&db->write_lock);
}

void tsdb_note_time(struct tsdb *db, int64_t t)
{
    if (!db->have_data || t < atomic_load_explicit(&db->min_time, memory_order_relaxed))
        atomic_store_explicit(&db->min_time, t, memory_order_relaxed);
    if (!db->have_data || t > atomic_load_explicit(&db->max_time, memory_order_relaxed))
        atomic_store_explicit(&db->max_time, t, memory_order_relaxed);
    db->have_data = true;
}

void tsdb_note_bytes(struct tsdb *db)
{
    atomic_store_explicit(&db->bytes_on_disk, db->chunk_bytes + db->wal_bytes,
                          memory_order_relaxed);
}

static int mark_dirty(struct tsdb *db, struct series *s)
{
    if (!db->st || s->dirty)
        return BW_OK;
    if (db->ndirty == db->cap_dirty) {
        size_t cap = db->cap_dirty ? db->cap_dirty * 2 : 256;
        struct series **p = realloc(db->dirty, cap * sizeof(*p));
        if (!p)
            return BW_ENOMEM;
        db->dirty = p;
        db->cap_dirty = cap;
    }
    db->dirty[db->ndirty++] = s;
    s->dirty = true;
    return BW_OK;
}

/* Chunks are cut together: every CHUNK_SAMPLES distinct timestamps the writer appends at (a
 * scrape is one) an epoch begins, and a chunk begun before it is cut at its series' first
 * sample in it. Series scraped together so hold the same timestamps chunk for chunk, which
 * persist stores once; a series that joined late or missed a scrape falls back in step. */
static void note_tick(struct tsdb *db, int64_t t)
{
    if (db->ticks && t == db->tick_t)
        return;
    if (db->ticks == CHUNK_SAMPLES) {
        db->epoch_t = t;
        db->ticks = 0;
    }
    db->tick_t = t;
    db->ticks++;
}

int tsdb_series_append(struct tsdb *db, struct series *s, int64_t t, double v, uint64_t seq)
{
    pthread_mutex_t *mu = series_lock(db, s);
    struct chunk *c = NULL;
    struct chunk_app app;
    int rc = BW_OK;
    note_tick(db, t);
    pthread_mutex_lock(mu);
    if (s->any && t <= s->maxt) {
        uint64_t a, b;
        memcpy(&a, &v, sizeof(a));
        memcpy(&b, &s->last_v, sizeof(b));
        rc = t == s->maxt && a == b ? 1 : BW_ERANGE;
        goto out;
    }
    if (s->head && chunk_count(s->head->data, s->head->len) < CHUNK_SAMPLES &&
        !(s->head->mint < db->epoch_t && t >= db->epoch_t)) {
        rc = chunk_append(s->head, &s->app, t, v);
        if (rc)
            goto out;
    } else {
        /* Cut: the full chunk moves to the heap and waits in the list for the next commit to
         * persist it; the new one is started aside first, so a failure leaves the list as is. */
        struct chunk nc = {0};
        if (s->head && (!(c = malloc(sizeof(*c))) || mark_dirty(db, s))) {
            free(c);
            rc = BW_ENOMEM;
            goto out;
        }
        if (chunk_start(&nc, &app, t, v)) {
            free(nc.data);
            free(c);
            rc = BW_ENOMEM;
            goto out;
        }
        nc.wal_seq = seq;
        if (s->head) {
            struct chunk **link = &s->oldest;
            chunk_shrink(s->head, &s->app);
            while (*link != s->head)
                link = &(*link)->next;
            *c = s->open;
            c->next = &s->open;
            *link = c;
        } else {
            s->oldest = &s->open;
        }
        s->open = nc;
        s->app = app;
        s->head = &s->open;
        stat_add(&db->head_chunks, 1);
    }
    if (!s->any)
        s->mint = t;
    s->any = true;
    s->maxt = t;
    s->last_v = v;
out:
    pthread_mutex_unlock(mu);
    return rc;
}

/* The series of ls, created if new. */
static int series_get(struct tsdb *db, const struct labelset *ls, struct series **out)
{
    uint64_t hash = labelset_hash(ls);
    struct series *s = index_find(&db->ix, ls, hash);
    int rc;
    if (s) {
        *out = s;
        return BW_OK;
    }
    rc = tsdb_labels_check(ls, NULL);
    if (rc)
        return rc;
    pthread_rwlock_wrlock(&db->index_lock);
    rc = index_add(&db->ix, ls, hash, 0, &s);
    pthread_rwlock_unlock(&db->index_lock);
    if (rc)
        return rc;
    *out = s;
    return BW_OK;
}

int tsdb_append(struct tsdb *db, const struct labelset *ls, int64_t t_ms, double v, uint64_t *ref)
{
    struct series *s = NULL;
    int rc;
    /* Only the writer changes the series array, so it reads it without the lock. */
    if (*ref && *ref <= db->ix.nseries)
        s = db->ix.series[*ref - 1];
    if (!s) {
        if (!ls)
            return BW_ENOENT; /* a ref to a series retention dropped, and no labels */
        rc = series_get(db, ls, &s);
        if (rc)
            return rc;
        *ref = s->id;
    }
    rc = tsdb_series_append(db, s, t_ms, v, db->next_wal_seq);
    if (rc == 1)
        return BW_OK; /* the same sample again */
    if (rc) {
        if (rc == BW_ERANGE)
            stat_add(&db->out_of_order, 1);
        return rc;
    }
    if (db->st && wal_writer_add(&db->wal, s->id, t_ms, v)) {
        /* The sample is in the head but would not survive a crash: say so, keep going. */
        log_error("tsdb: out of memory for the write-ahead record; a sample is not durable");
    }
    tsdb_note_time(db, t_ms);
    stat_add(&db->samples_appended, 1);
    if (db->obs.sample)
        db->obs.sample(db->obs.ud, &s->ls, t_ms, v);
    return BW_OK;
}

int tsdb_commit(struct tsdb *db, struct diag *d)
{
    if (db->obs.commit)
        db->obs.commit(db->obs.ud);
    return db->st ? persist_commit(db, d) : BW_OK;
}

int tsdb_error(struct tsdb *db, char *buf, size_t len)
{
    pthread_mutex_lock(&db->err_lock);
    int failing = db->err[0] != '\0';
    if (len)
        snprintf(buf, len, "%s", db->err);
    pthread_mutex_unlock(&db->err_lock);
    return failing;
}

void tsdb_observe(struct tsdb *db, const struct tsdb_observer *o)
{
    db->obs = o ? *o : (struct tsdb_observer){0};
}

/* ---- retention ---- */

/* Drops s's in-memory chunks that end before cutoff; the open chunk too once it does. */
static void drop_old_chunks(struct tsdb *db, struct series *s, int64_t cutoff)
{
    pthread_mutex_t *mu = series_lock(db, s);
    pthread_mutex_lock(mu);
    while (s->oldest && s->oldest->maxt < cutoff) {
        struct chunk *c = s->oldest;
        s->oldest = c->next;
        if (c == s->head)
            s->head = NULL;
        series_chunk_free(s, c);
        stat_add(&db->head_chunks, (uint64_t)-1);
    }
    if (s->oldest)
        s->mint = s->disk_mint < s->oldest->mint ? s->disk_mint : s->oldest->mint;
    else
        s->mint = s->disk_mint;
    pthread_mutex_unlock(mu);
}

/* Whether s holds no sample any more, in memory or persisted, and is not waiting to be
 * written to the store (ids above stored_ids are). */
static bool series_empty(const struct tsdb *db, const struct series *s)
{
    bool unstored = db->st && s->id > db->stored_ids;
    return !s->oldest && s->disk_maxt == INT64_MIN && !unstored;
}

/* The first timestamp of any persisted chunk, INT64_MAX when none. */
static int64_t disk_mint(const struct tsdb *db)
{
    int64_t min = INT64_MAX;
    for (uint32_t i = 0; i < db->ix.nseries; i++) {
        const struct series *s = db->ix.series[i];
        if (s && s->disk_mint < min)
            min = s->disk_mint;
    }
    return min;
}

/* Applies cutoff to every series; drops the series left empty. */
static int retain(struct tsdb *db, int64_t cutoff, struct diag *d)
{
    int rc = BW_OK;
    for (uint32_t i = 0; i < db->ix.nseries && rc == BW_OK; i++) {
        struct series *s = db->ix.series[i];
        if (!s || s->mint >= cutoff || s->dirty)
            continue;
        drop_old_chunks(db, s, cutoff);
        if (db->st && s->disk_mint < cutoff)
            rc = persist_drop_before(db, s, cutoff, d);
        if (rc == BW_OK && series_empty(db, s)) {
            if (db->st)
                rc = persist_series_delete(db, s, d);
            if (rc == BW_OK) {
                pthread_rwlock_wrlock(&db->index_lock);
                index_drop(&db->ix, s);
                pthread_rwlock_unlock(&db->index_lock);
            }
        }
    }
    if (rc == BW_OK && db->st)
        rc = persist_drop_blocks(db, disk_mint(db), d);
    return rc;
}

/* Recomputes min_time from the series left. */
static void recompute_min_time(struct tsdb *db)
{
    int64_t min = INT64_MAX;
    for (uint32_t i = 0; i < db->ix.nseries; i++) {
        const struct series *s = db->ix.series[i];
        if (s && s->any && s->mint < min)
            min = s->mint;
    }
    if (min == INT64_MAX) {
        db->have_data = false;
        atomic_store_explicit(&db->min_time, 0, memory_order_relaxed);
        atomic_store_explicit(&db->max_time, 0, memory_order_relaxed);
    } else {
        atomic_store_explicit(&db->min_time, min, memory_order_relaxed);
    }
}

/* Moves the cutoff forward until the persisted chunks fit max_bytes. Chunks are spread evenly
 * enough in time that cutting the span in proportion to the excess converges in a few steps;
 * each step drops at least the oldest chunk. */
static int cap_bytes(struct tsdb *db, struct diag *d)
{
    int rc = BW_OK;
    uint64_t cap = (uint64_t)db->opt.max_bytes;
    while (rc == BW_OK && db->chunk_bytes > cap) {
        int64_t lo = disk_mint(db), hi = atomic_load_explicit(&db->max_time, memory_order_relaxed);
        if (lo == INT64_MAX)
            break;
        double excess = (double)(db->chunk_bytes - cap) / (double)db->chunk_bytes;
        int64_t cutoff = lo + (int64_t)((double)(hi - lo) * excess);
        rc = retain(db, cutoff > lo ? cutoff : lo + 1, d);
    }
    recompute_min_time(db);
    return rc;
}

int tsdb_maintain(struct tsdb *db, int64_t now_ms, struct diag *d)
{
    int rc = BW_OK;
    if (!db->have_data)
        return BW_OK;
    int64_t newest = atomic_load_explicit(&db->max_time, memory_order_relaxed);
    if (now_ms < newest)
        newest = now_ms; /* samples stamped in the future do not age the rest */
    int64_t cutoff = newest - db->opt.retention_ms;
    if (cutoff > atomic_load_explicit(&db->min_time, memory_order_relaxed)) {
        rc = retain(db, cutoff, d);
        recompute_min_time(db);
    }
    if (rc == BW_OK && db->opt.max_bytes > 0)
        rc = cap_bytes(db, d);
    return rc;
}

/* ---- metadata and statistics ---- */

static int meta_find(const struct tsdb *db, const char *family, bool *found)
{
    size_t lo = 0, hi = db->nmeta;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(db->meta[mid].family, family);
        if (c == 0) {
            *found = true;
            return (int)mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return (int)lo;
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

int tsdb_meta_put(struct tsdb *db, const char *family, const char *type, const char *help,
                  const char *unit, bool dirty)
{
    bool found;
    int rc = BW_OK;
    struct meta nm = {0};
    pthread_mutex_lock(&db->meta_lock);
    int at = meta_find(db, family, &found);
    struct meta *m = found ? &db->meta[at] : NULL;
    /* The collector sets every family's metadata again whenever a new series appears: the
     * usual case, nothing changed, copies nothing. */
    if (m && same(m->type, type) && same(m->help, help) && same(m->unit, unit)) {
        pthread_mutex_unlock(&db->meta_lock);
        goto out;
    }
    nm = (struct meta){xstrdup(family), xstrdup(type ? type : ""), xstrdup(help ? help : ""),
                       xstrdup(unit ? unit : ""), dirty};
    if (!nm.family || !nm.type || !nm.help || !nm.unit) {
        pthread_mutex_unlock(&db->meta_lock);
        rc = BW_ENOMEM;
        goto out;
    }
    if (!found && db->nmeta == db->cap_meta) {
        size_t cap = db->cap_meta ? db->cap_meta * 2 : 64;
        struct meta *p = realloc(db->meta, cap * sizeof(*p));
        if (!p) {
            pthread_mutex_unlock(&db->meta_lock);
            rc = BW_ENOMEM;
            goto out;
        }
        db->meta = p;
        db->cap_meta = cap;
    }
    m = &db->meta[at];
    if (found) {
        struct meta old = *m;
        *m = nm;
        nm = old;
    } else {
        memmove(m + 1, m, (db->nmeta - (size_t)at) * sizeof(*m));
        *m = nm;
        db->nmeta++;
        nm = (struct meta){0};
    }
    db->meta_dirty |= dirty;
    pthread_mutex_unlock(&db->meta_lock);
out:
    free(nm.family);
    free(nm.type);
    free(nm.help);
    free(nm.unit);
    return rc;
}

int tsdb_metadata_set(struct tsdb *db, const char *family, const char *type, const char *help,
                      const char *unit)
{
    if (!family || !*family)
        return BW_EINVAL;
    return tsdb_meta_put(db, family, type, help, unit, db->st != NULL);
}

void tsdb_stats_get(struct tsdb *db, struct tsdb_stats *s)
{
    pthread_rwlock_rdlock(&db->index_lock);
    s->series = db->ix.live;
    pthread_rwlock_unlock(&db->index_lock);
    s->head_chunks = atomic_load_explicit(&db->head_chunks, memory_order_relaxed);
    s->samples_appended = atomic_load_explicit(&db->samples_appended, memory_order_relaxed);
    s->out_of_order = atomic_load_explicit(&db->out_of_order, memory_order_relaxed);
    s->corrupt_records = atomic_load_explicit(&db->corrupt_records, memory_order_relaxed);
    s->bytes_on_disk = atomic_load_explicit(&db->bytes_on_disk, memory_order_relaxed);
    s->samples_persisted = atomic_load_explicit(&db->samples_persisted, memory_order_relaxed);
    s->min_time = atomic_load_explicit(&db->min_time, memory_order_relaxed);
    s->max_time = atomic_load_explicit(&db->max_time, memory_order_relaxed);
}
