/* persist: the tsdb in the SQLite store — loading at open, write-ahead replay, commits,
 * retention on disk, and reading persisted chunks for queries.
 *
 * Main data structure: the store's tables (store_tsdb.c): tsdb_series (id, label blob),
 * tsdb_chunks (series, first and last timestamp, sample count, chunk bytes), tsdb_wal (one
 * record per commit) and tsdb_metadata. Queries read through a pool of NREADERS reader
 * connections, each behind its own mutex, since a connection serves one thread at a time.
 *
 * The design decision: one commit is one SQLite transaction holding the new series, the
 * commit's write-ahead record, every chunk that filled up since the last commit and the
 * deletion of the records whose samples are now all in chunks. Each in-memory chunk remembers
 * the record its first sample went into, so the oldest record still needed is the smallest
 * such number over the series' oldest unpersisted chunks; replay at open skips the samples a
 * series already has on disk, so a crash anywhere replays into the same state. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "tsdb/tsdb_int.h"

static int store_err(struct tsdb *db, struct diag *d, int rc, const char *what)
{
    return diag_set(d, rc == BW_ENOMEM ? BW_ENOMEM : BW_EIO, "tsdb: %s: %s", what,
                    store_last_error(db->st));
}

/* ---- loading ---- */

struct load {
    struct tsdb *db;
    struct samples tmp;
};

/* A label blob (name NUL value NUL …) as a label set pointing into it; labels holds cap. */
static int labels_parse(const char *p, size_t len, struct label *labels, size_t cap,
                        struct labelset *out)
{
    size_t n = 0;
    const char *end = p + len;
    while (p < end) {
        const char *name = p, *nul = memchr(p, '\0', (size_t)(end - p));
        if (!nul || n == cap)
            return BW_EIO;
        const char *value = nul + 1, *vnul = memchr(value, '\0', (size_t)(end - value));
        if (!vnul)
            return BW_EIO;
        labels[n++] = (struct label){name, value};
        p = vnul + 1;
    }
    *out = (struct labelset){labels, n};
    return BW_OK;
}

static int load_series(void *ud, int64_t id, const void *blob, size_t len)
{
    struct load *l = ud;
    struct label labels[64];
    struct labelset ls;
    struct series *s;
    struct diag d = {0};
    if (id <= 0 || id > UINT32_MAX || labels_parse(blob, len, labels, BW_ARRAY_LEN(labels), &ls) ||
        tsdb_labels_check(&ls, &d)) {
        log_warn("tsdb: series %lld in the store has invalid labels (%s); skipped", (long long)id,
                 d.msg[0] ? d.msg : "malformed");
        return BW_OK;
    }
    return index_add(&l->db->ix, &ls, labelset_hash(&ls), (uint32_t)id, &s);
}

static int load_span(void *ud, const struct store_tsdb_span *r)
{
    struct load *l = ud;
    struct tsdb *db = l->db;
    struct series *s =
        r->series_id > 0 && r->series_id <= db->ix.nseries ? db->ix.series[r->series_id - 1] : NULL;
    db->chunk_bytes += (uint64_t)r->bytes;
    stat_add(&db->samples_persisted, (uint64_t)r->n);
    if (!s)
        return BW_OK;
    s->disk_mint = s->mint = r->mint;
    s->disk_maxt = s->maxt = r->maxt;
    s->any = true;
    tsdb_note_time(db, r->mint);
    tsdb_note_time(db, r->maxt);
    /* The newest value, so that re-appending the newest sample is recognised as a repeat. */
    l->tmp.n = 0;
    if (r->last && samples_add_chunk(&l->tmp, r->last, r->last_len, INT64_MIN, INT64_MAX) == 0 &&
        l->tmp.n)
        s->last_v = l->tmp.v[l->tmp.n - 1];
    return BW_OK;
}

static int load_meta(void *ud, const char *family, const char *type, const char *help,
                     const char *unit)
{
    struct load *l = ud;
    return tsdb_meta_put(l->db, family, type, help, unit, false);
}

static int replay(void *ud, int64_t seq, const void *data, size_t len)
{
    struct load *l = ud;
    struct tsdb *db = l->db;
    struct wal_sample *v;
    size_t n;
    const char *why;
    db->wal_bytes += len;
    if ((uint64_t)seq >= db->next_wal_seq)
        db->next_wal_seq = (uint64_t)seq + 1;
    int rc = wal_decode(data, len, &v, &n, &why);
    if (rc == BW_ENOMEM)
        return rc;
    if (rc) {
        log_warn("tsdb: %s: write-ahead record %lld (%zu bytes) is corrupt: %s; skipped",
                 store_path(db->st), (long long)seq, len, why);
        stat_add(&db->corrupt_records, 1);
        return BW_OK;
    }
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        struct series *s = v[i].id <= db->ix.nseries ? db->ix.series[v[i].id - 1] : NULL;
        if (!s || v[i].t <= s->disk_maxt)
            continue; /* a dropped series, or a sample already in a persisted chunk */
        rc = tsdb_series_append(db, s, v[i].t, v[i].v, (uint64_t)seq);
        if (rc == BW_OK)
            tsdb_note_time(db, v[i].t);
        if (rc == 1 || rc == BW_ERANGE)
            rc = BW_OK;
    }
    free(v);
    return rc;
}

int persist_load(struct tsdb *db, struct diag *d)
{
    struct load l = {db, {0}};
    int64_t next;
    int rc = store_tsdb_series_each(db->st, load_series, &l);
    if (rc == BW_OK)
        rc = store_tsdb_series_next_id(db->st, &next);
    if (rc) {
        rc = store_err(db, d, rc, "loading series");
        goto out;
    }
    if ((uint64_t)next > db->ix.next_id)
        db->ix.next_id = (uint32_t)next;
    db->stored_ids = db->ix.next_id - 1;
    rc = store_tsdb_chunk_spans(db->st, load_span, &l);
    if (rc == BW_OK)
        rc = store_tsdb_meta_each(db->st, load_meta, &l);
    if (rc == BW_OK)
        rc = store_tsdb_wal_each(db->st, replay, &l);
    if (rc)
        rc = store_err(db, d, rc, "loading");
    tsdb_note_bytes(db);
out:
    samples_fini(&l.tmp);
    return rc;
}

/* ---- committing ---- */

static int insert_series(struct tsdb *db, const struct series *s)
{
    buf_reset(&db->rec);
    int rc = BW_OK;
    for (size_t i = 0; i < s->ls.n && rc == BW_OK; i++) {
        rc = buf_append(&db->rec, s->ls.v[i].name, strlen(s->ls.v[i].name) + 1);
        if (rc == BW_OK)
            rc = buf_append(&db->rec, s->ls.v[i].value, strlen(s->ls.v[i].value) + 1);
    }
    return rc ? rc : store_tsdb_series_insert(db->st, s->id, db->rec.data, db->rec.len);
}

/* The full chunks of s: from oldest up to the open one. */
static int insert_chunks(struct tsdb *db, const struct series *s)
{
    int rc = BW_OK;
    for (const struct chunk *c = s->oldest; c && c != s->head && rc == BW_OK; c = c->next) {
        struct store_tsdb_chunk_row r = {
            s->id, c->mint, c->maxt, (int64_t)chunk_count(c->data, c->len), c->data, c->len};
        rc = store_tsdb_chunk_insert(db->st, &r);
    }
    return rc;
}

/* The oldest record still needed: the smallest first record of a chunk that stays in memory
 * once this commit's full chunks are persisted. */
static uint64_t needed_records(const struct tsdb *db)
{
    uint64_t min = db->next_wal_seq + 1;
    for (uint32_t i = 0; i < db->ix.nseries; i++) {
        const struct series *s = db->ix.series[i];
        const struct chunk *c = s ? (s->dirty ? s->head : s->oldest) : NULL;
        if (c && c->wal_seq < min)
            min = c->wal_seq;
    }
    return min;
}

static int write_all(struct tsdb *db, uint64_t *freed)
{
    int64_t bytes = 0;
    int rc = BW_OK;
    for (uint32_t id = db->stored_ids + 1; id <= db->ix.nseries && rc == BW_OK; id++) {
        const struct series *s = db->ix.series[id - 1];
        if (s && s->pending)
            rc = insert_series(db, s);
    }
    if (rc == BW_OK && db->wal.n) {
        rc = wal_writer_finish(&db->wal, &db->rec);
        if (rc == BW_OK)
            rc =
                store_tsdb_wal_insert(db->st, (int64_t)db->next_wal_seq, db->rec.data, db->rec.len);
    }
    for (size_t i = 0; i < db->ndirty && rc == BW_OK; i++)
        rc = insert_chunks(db, db->dirty[i]);
    pthread_mutex_lock(&db->meta_lock);
    for (size_t i = 0; i < db->nmeta && rc == BW_OK; i++) {
        const struct meta *m = &db->meta[i];
        if (m->dirty)
            rc = store_tsdb_meta_put(db->st, m->family, m->type, m->help, m->unit);
    }
    pthread_mutex_unlock(&db->meta_lock);
    if (rc == BW_OK && db->ndirty)
        rc = store_tsdb_wal_drop(db->st, (int64_t)needed_records(db), &bytes);
    *freed = (uint64_t)bytes;
    return rc;
}

/* After the transaction committed: the full chunks leave memory. */
static void release_chunks(struct tsdb *db, struct series *s)
{
    pthread_mutex_t *mu = series_lock(db, s);
    struct chunk *gone;
    uint64_t n = 0, chunks = 0;
    pthread_mutex_lock(mu);
    gone = s->oldest;
    for (struct chunk *c = s->oldest; c != s->head; c = c->next) {
        if (c->mint < s->disk_mint)
            s->disk_mint = c->mint;
        if (c->maxt > s->disk_maxt)
            s->disk_maxt = c->maxt;
        n += chunk_count(c->data, c->len);
        db->chunk_bytes += c->len;
        chunks++;
    }
    s->oldest = s->head;
    pthread_mutex_unlock(mu);
    while (gone != s->head) {
        struct chunk *next = gone->next;
        chunk_free(gone);
        gone = next;
    }
    s->dirty = false;
    stat_add(&db->samples_persisted, n);
    stat_add(&db->head_chunks, (uint64_t)0 - chunks);
}

int persist_commit(struct tsdb *db, struct diag *d)
{
    uint64_t freed = 0;
    bool meta_dirty;
    pthread_mutex_lock(&db->meta_lock);
    meta_dirty = db->meta_dirty;
    pthread_mutex_unlock(&db->meta_lock);
    if (!db->wal.n && !db->ndirty && !meta_dirty && db->stored_ids + 1 >= db->ix.next_id)
        return BW_OK;
    int rc = store_begin(db->st);
    if (rc == BW_OK)
        rc = write_all(db, &freed);
    if (rc == BW_OK)
        rc = store_commit(db->st);
    if (rc) {
        rc = store_err(db, d, rc, "commit");
        store_rollback(db->st);
        return rc;
    }
    for (uint32_t id = db->stored_ids + 1; id <= db->ix.nseries; id++) {
        struct series *s = db->ix.series[id - 1];
        if (s)
            s->pending = false;
    }
    db->stored_ids = db->ix.next_id - 1;
    for (size_t i = 0; i < db->ndirty; i++)
        release_chunks(db, db->dirty[i]);
    db->ndirty = 0;
    if (db->wal.n) {
        db->wal_bytes += db->rec.len;
        db->next_wal_seq++;
        wal_writer_reset(&db->wal);
    }
    db->wal_bytes -= freed;
    pthread_mutex_lock(&db->meta_lock);
    for (size_t i = 0; i < db->nmeta; i++)
        db->meta[i].dirty = false;
    db->meta_dirty = false;
    pthread_mutex_unlock(&db->meta_lock);
    tsdb_note_bytes(db);
    return BW_OK;
}

/* ---- retention ---- */

int persist_drop_before(struct tsdb *db, struct series *s, int64_t cutoff, struct diag *d)
{
    int64_t bytes, n, mint;
    int rc = store_tsdb_chunks_drop(db->st, s->id, cutoff, &bytes, &n, &mint);
    if (rc)
        return store_err(db, d, rc, "retention");
    pthread_mutex_t *mu = series_lock(db, s);
    pthread_mutex_lock(mu);
    s->disk_mint = mint;
    if (mint == INT64_MAX)
        s->disk_maxt = INT64_MIN;
    if (s->oldest && s->oldest->mint < mint)
        s->mint = s->oldest->mint;
    else
        s->mint = mint;
    pthread_mutex_unlock(mu);
    db->chunk_bytes -= (uint64_t)bytes;
    stat_add(&db->samples_persisted, (uint64_t)0 - (uint64_t)n);
    tsdb_note_bytes(db);
    return BW_OK;
}

int persist_series_delete(struct tsdb *db, struct series *s, struct diag *d)
{
    int rc = store_tsdb_series_delete(db->st, s->id);
    return rc ? store_err(db, d, rc, "retention") : BW_OK;
}

/* ---- reading ---- */

struct read_ctx {
    struct samples *out;
    int64_t mint, maxt;
    bool bad;         /* a chunk did not decode: */
    int64_t bad_mint; /* which */
};

static int read_chunk(void *ud, const struct store_tsdb_chunk_row *r)
{
    struct read_ctx *c = ud;
    int rc = samples_add_chunk(c->out, r->data, r->len, c->mint, c->maxt);
    if (rc == BW_EIO) {
        c->bad = true;
        c->bad_mint = r->mint;
    }
    return rc;
}

int persist_read(struct tsdb *db, uint32_t id, int64_t mint, int64_t maxt, struct samples *out,
                 struct diag *d)
{
    struct reader *r = NULL;
    struct read_ctx c = {out, mint, maxt, false, 0};
    int rc;
    for (size_t i = 0; i < NREADERS && !r; i++) {
        if (pthread_mutex_trylock(&db->readers[i].mu) == 0)
            r = &db->readers[i];
    }
    if (!r) {
        r = &db->readers[id % NREADERS];
        pthread_mutex_lock(&r->mu);
    }
    if (!r->st) {
        rc = store_open_reader(db->st, &r->st, d);
        if (rc)
            goto out;
    }
    rc = store_tsdb_chunks_range(r->st, id, mint, maxt, read_chunk, &c);
    if (rc == BW_EIO && c.bad)
        diag_set(d, BW_EIO, "tsdb: the persisted chunk of series %u from %lld is corrupt", id,
                 (long long)c.bad_mint);
    else if (rc)
        diag_set(d, rc == BW_ENOMEM ? BW_ENOMEM : BW_EIO, "tsdb: reading chunks: %s",
                 store_last_error(r->st));
    if (rc && rc != BW_ENOMEM)
        rc = BW_EIO;
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}
