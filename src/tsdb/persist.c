/* persist: the tsdb in the SQLite store — loading at open, write-ahead replay, commits,
 * retention on disk, and reading persisted chunks for queries.
 *
 * Main data structure: the store's tables (store_tsdb.c): tsdb_series (id, label blob),
 * tsdb_chunks (series, first and last timestamp, sample count, chunk bytes), tsdb_wal (one
 * record per commit) and tsdb_metadata. A chunk is persisted packed (chunk.c): its values, and
 * the reference r of its timestamp block, a row of tsdb_chunks under series -r. A commit writes
 * one block for all the chunks it persists with the same timestamps — the series of a scrape,
 * cut together — so at a 1 s interval timestamps cost next to nothing. Queries read through a
 * pool of NREADERS reader connections, each behind its own mutex, since a connection serves
 * one thread at a time, each with a cache of the blocks it read.
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
    return diag_set(d, rc == BW_ENOMEM ? BW_ENOMEM : BW_EIO, "tsdb: %s: database %s: %s", what,
                    store_path(db->st), store_last_error(db->st));
}

/* Keeps the outcome of a commit for tsdb_error: d's message after a failure, "" after one
 * that succeeded. */
static void note_outcome(struct tsdb *db, const struct diag *d)
{
    pthread_mutex_lock(&db->err_lock);
    if (d)
        diag_format(d, db->err, sizeof(db->err));
    else
        db->err[0] = '\0';
    pthread_mutex_unlock(&db->err_lock);
}

/* ---- timestamp blocks ---- */

static int take_block(void *ud, const struct store_tsdb_chunk_row *r)
{
    struct buf *b = ud;
    buf_reset(b);
    return buf_append(b, r->data, r->len);
}

void persist_blocks_free(struct blocks *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < NBLOCKS; i++)
        buf_fini(&b->data[i]);
    buf_fini(&b->chunk);
    free(b);
}

/* A persisted chunk rejoined with its timestamp block, read through st and kept in b, into
 * b->chunk. BW_EIO when the chunk is malformed or its block missing, BW_ENOMEM. */
static int unpack(struct store *st, struct blocks *b, const void *data, size_t len)
{
    uint32_t ref;
    if (chunk_packed_ref(data, len, &ref) || ref == 0)
        return BW_EIO;
    size_t at = ref % NBLOCKS;
    if (b->ref[at] != ref) {
        b->ref[at] = 0;
        buf_reset(&b->data[at]);
        int rc = store_tsdb_chunks_all(st, -(int64_t)ref, take_block, &b->data[at]);
        if (rc)
            return rc == BW_ENOMEM ? rc : BW_EIO;
        if (!b->data[at].len)
            return BW_EIO;
        b->ref[at] = ref;
    }
    return chunk_unpack(data, len, (const uint8_t *)b->data[at].data, b->data[at].len, &b->chunk);
}

static struct blocks *blocks_new(void)
{
    struct blocks *b = calloc(1, sizeof(*b));
    for (size_t i = 0; b && i < NBLOCKS; i++)
        buf_init(&b->data[i], 0);
    if (b)
        buf_init(&b->chunk, 0);
    return b;
}

/* ---- loading ---- */

struct load {
    struct tsdb *db;
    struct samples tmp;
    struct blocks *bks;
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
    if (r->series_id < 0 && r->series_id >= -(int64_t)UINT32_MAX &&
        (uint32_t)-r->series_id >= db->next_tref)
        db->next_tref = (uint32_t)-r->series_id + 1; /* a timestamp block */
    if (!s)
        return BW_OK;
    s->disk_mint = s->mint = r->mint;
    s->disk_maxt = s->maxt = r->maxt;
    s->any = true;
    tsdb_note_time(db, r->mint);
    tsdb_note_time(db, r->maxt);
    /* The newest value, so that re-appending the newest sample is recognised as a repeat. */
    l->tmp.n = 0;
    int rc = unpack(db->st, l->bks, r->last, r->last_len);
    if (rc == BW_ENOMEM)
        return rc;
    if (rc == BW_OK &&
        samples_add_chunk(&l->tmp, (const uint8_t *)l->bks->chunk.data, l->bks->chunk.len,
                          INT64_MIN, INT64_MAX) == BW_OK &&
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
    struct load l = {db, {0}, blocks_new()};
    int64_t next;
    int rc = l.bks ? store_tsdb_series_each(db->st, load_series, &l) : BW_ENOMEM;
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
    persist_blocks_free(l.bks);
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

/* A timestamp block of the commit being written: the chunks with this timestamp region. */
struct tblock {
    uint64_t hash;
    const uint8_t *ts; /* NULL: an empty slot */
    size_t len;
    uint32_t ref;
};

/* Makes db->tblocks an empty table for the blocks of this commit's full chunks; *nslots: its
 * size, a power of two at least twice their number. */
static int blocks_table(struct tsdb *db, size_t *nslots)
{
    size_t n = 0, cap = 16;
    for (size_t i = 0; i < db->ndirty; i++)
        for (const struct chunk *c = db->dirty[i]->oldest; c != db->dirty[i]->head; c = c->next)
            n++;
    while (cap < 2 * n)
        cap *= 2;
    if (cap > db->cap_tblocks) {
        struct tblock *t = realloc(db->tblocks, cap * sizeof(*t));
        if (!t)
            return BW_ENOMEM;
        db->tblocks = t;
        db->cap_tblocks = cap;
    }
    memset(db->tblocks, 0, cap * sizeof(*db->tblocks));
    *nslots = cap;
    return BW_OK;
}

/* The reference of c's timestamp block, written the first time this commit meets it. */
static int block_ref(struct tsdb *db, const struct chunk *c, size_t nslots, uint32_t *ref,
                     uint64_t *bytes)
{
    const uint8_t *ts;
    size_t len, i;
    chunk_times(c->data, c->len, &ts, &len);
    uint64_t h = hash_bytes(ts, len, HASH_SEED);
    for (i = h & (nslots - 1); db->tblocks[i].ts; i = (i + 1) & (nslots - 1)) {
        const struct tblock *b = &db->tblocks[i];
        if (b->hash == h && b->len == len && memcmp(b->ts, ts, len) == 0) {
            *ref = b->ref;
            return BW_OK;
        }
    }
    struct store_tsdb_chunk_row r = {-(int64_t)db->next_tref, c->mint, c->maxt, 0, ts, len};
    int rc = store_tsdb_chunk_insert(db->st, &r);
    if (rc)
        return rc;
    db->tblocks[i] = (struct tblock){h, ts, len, db->next_tref};
    *ref = db->next_tref++;
    *bytes += len;
    return BW_OK;
}

/* The full chunks of s, from oldest up to the open one, packed; *bytes grows by what they
 * and their new blocks take. */
static int insert_chunks(struct tsdb *db, const struct series *s, size_t nslots, uint64_t *bytes)
{
    int rc = BW_OK;
    for (const struct chunk *c = s->oldest; c && c != s->head && rc == BW_OK; c = c->next) {
        uint32_t ref;
        rc = block_ref(db, c, nslots, &ref, bytes);
        if (rc == BW_OK)
            rc = chunk_pack(c->data, c->len, ref, &db->pack);
        if (rc)
            break;
        struct store_tsdb_chunk_row r = {s->id,         c->mint,
                                         c->maxt,       (int64_t)chunk_count(c->data, c->len),
                                         db->pack.data, db->pack.len};
        rc = store_tsdb_chunk_insert(db->st, &r);
        *bytes += db->pack.len;
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

static int write_all(struct tsdb *db, uint64_t *freed, uint64_t *added)
{
    int64_t bytes = 0;
    size_t nslots = 0;
    int rc = BW_OK;
    for (uint32_t id = db->stored_ids + 1; id <= db->ix.nseries && rc == BW_OK; id++) {
        const struct series *s = db->ix.series[id - 1];
        if (s)
            rc = insert_series(db, s);
    }
    if (rc == BW_OK && db->wal.n) {
        rc = wal_writer_finish(&db->wal, &db->rec);
        if (rc == BW_OK)
            rc =
                store_tsdb_wal_insert(db->st, (int64_t)db->next_wal_seq, db->rec.data, db->rec.len);
    }
    if (rc == BW_OK && db->ndirty)
        rc = blocks_table(db, &nslots);
    for (size_t i = 0; i < db->ndirty && rc == BW_OK; i++)
        rc = insert_chunks(db, db->dirty[i], nslots, added);
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
    struct diag own = {0};
    uint64_t freed = 0, added = 0;
    bool meta_dirty;
    if (!d)
        d = &own; /* note_outcome keeps the message */
    pthread_mutex_lock(&db->meta_lock);
    meta_dirty = db->meta_dirty;
    pthread_mutex_unlock(&db->meta_lock);
    if (!db->wal.n && !db->ndirty && !meta_dirty && db->stored_ids + 1 >= db->ix.next_id)
        return BW_OK;
    int rc = store_begin(db->st);
    if (rc == BW_OK)
        rc = write_all(db, &freed, &added);
    if (rc == BW_OK)
        rc = store_commit(db->st);
    if (rc) {
        rc = store_err(db, d, rc, "commit");
        store_rollback(db->st);
        note_outcome(db, d);
        return rc;
    }
    note_outcome(db, NULL);
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
    db->chunk_bytes += added;
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

int persist_drop_blocks(struct tsdb *db, int64_t before, struct diag *d)
{
    int64_t bytes;
    int rc = store_tsdb_own_drop(db->st, before, &bytes);
    if (rc)
        return store_err(db, d, rc, "retention");
    db->chunk_bytes -= (uint64_t)bytes;
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
    struct store *st;
    struct blocks *bks;
    struct samples *out;
    int64_t mint, maxt;
    bool bad;         /* a chunk did not decode: */
    int64_t bad_mint; /* which */
};

static int read_chunk(void *ud, const struct store_tsdb_chunk_row *r)
{
    struct read_ctx *c = ud;
    int rc = unpack(c->st, c->bks, r->data, r->len);
    if (rc == BW_OK)
        rc = samples_add_chunk(c->out, (const uint8_t *)c->bks->chunk.data, c->bks->chunk.len,
                               c->mint, c->maxt);
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
    struct read_ctx c = {NULL, NULL, out, mint, maxt, false, 0};
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
    if (!r->bks && !(r->bks = blocks_new())) {
        rc = diag_set(d, BW_ENOMEM, "out of memory");
        goto out;
    }
    c.st = r->st;
    c.bks = r->bks;
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
