/* tsdb internals, shared by the .c files of src/tsdb/ and by nothing outside src/tsdb/: the chunk
 * codec, the series index, the write-ahead record codec and struct tsdb itself.
 *
 * Locking (see tsdb.c): db->index_lock (a writer-preferring rwlock) guards the index — the
 * intern table, the series table, the postings and the series array; the writer takes it
 * exclusively only to add or drop series, readers share it for a whole query. A series' samples
 * (its chunks and appender) are guarded by one of NSTRIPES mutexes picked by its id, so an
 * append locks one uncontended mutex and a query copying one series blocks only appends to
 * the series sharing its stripe. */
#ifndef BW_TSDB_INT_H
#define BW_TSDB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tsdb/tsdb.h"

/* ---- chunks (chunk.c) ---- */

#define CHUNK_SAMPLES   120 /* a series' open chunk is cut when it holds this many */
#define CHUNK_HEADER    5   /* encoding, sample count, timestamp region length (u16 LE) */
#define PACKED_HEADER   7   /* encoding, sample count, timestamp block reference (u32 LE) */
#define CHUNK_SCALE_MAX 6   /* CHUNK_INT holds n / 10^k for k up to this */

/* The encoding byte's low nibble; CHUNK_INT's high nibble is its decimal scale k. */
enum chunk_encoding { CHUNK_XOR = 1, CHUNK_INT = 2 };

/* One chunk: the header and the two bit streams (chunk.c describes the layout). */
struct chunk {
    struct chunk *next; /* the next newer chunk of the same series, or NULL */
    int64_t mint, maxt; /* its first and last timestamp */
    uint64_t wal_seq;   /* the write-ahead record holding its first sample */
    uint8_t *data;
    uint16_t len, cap; /* bytes used (header included) and allocated */
};

/* What appending to a series' open chunk needs to know about its last sample (its timestamp
 * is the chunk's maxt). */
struct chunk_app {
    uint64_t dt;           /* last delta, as unsigned for wrap-around arithmetic */
    uint64_t v, dv;        /* XOR: last value's bits; INT: last integer and last delta */
    uint16_t tbits, vbits; /* bits written in the timestamp and the value region */
    uint8_t lead;          /* XOR: leading zeros of the current window; 0xff before the first */
    uint8_t trail;         /* XOR: trailing zeros of the current window */
};

/* Starts c as an empty chunk: CHUNK_INT at the smallest scale that holds v exactly, CHUNK_XOR
 * if none does, then appends (t, v). BW_ENOMEM. */
int chunk_start(struct chunk *c, struct chunk_app *a, int64_t t, double v);
/* Appends a sample (t after the last one). An INT chunk given a value its scale cannot hold
 * is re-encoded first, at the smallest finer scale that holds them all, else as XOR.
 * BW_ENOMEM (c unchanged). */
int chunk_append(struct chunk *c, struct chunk_app *a, int64_t t, double v);
/* Samples in c, from its header. */
size_t chunk_count(const uint8_t *data, size_t len);
/* Decodes a chunk of len bytes into t[0..n), v[0..n), where n is its sample count and at most
 * cap. BW_EIO when the data is malformed (bad encoding or scale, a region past the end, count
 * over cap, bits running out, timestamps not increasing): nothing outside data is read and
 * nothing past cap written. */
int chunk_decode(const uint8_t *data, size_t len, int64_t *t, double *v, size_t cap, size_t *n);
/* Closes c, a chunk that is full: drops its spare timestamp bytes and shrinks its allocation
 * (a its appender state; c stays appendable with it). */
void chunk_shrink(struct chunk *c, const struct chunk_app *a);
void chunk_free(struct chunk *c);

/* The timestamp region of a closed chunk: what chunks with the same timestamps share. */
void chunk_times(const uint8_t *data, size_t len, const uint8_t **ts, size_t *n);
/* The chunk as persisted: its header with ref, the timestamp block's reference, in place of
 * the region's length, then its value region, into out. BW_ENOMEM. */
int chunk_pack(const uint8_t *data, size_t len, uint32_t ref, struct buf *out);
/* The timestamp block reference of a packed chunk. BW_EIO when it is too short. */
int chunk_packed_ref(const uint8_t *p, size_t len, uint32_t *ref);
/* A packed chunk and its timestamp block (ts, tlen) as one chunk, into out. BW_EIO when they
 * cannot be one (chunk_decode checks the rest), BW_ENOMEM. */
int chunk_unpack(const uint8_t *p, size_t len, const uint8_t *ts, size_t tlen, struct buf *out);

/* Whether v is stored exactly by CHUNK_INT at scale 0: integral, |v| <= 2^53, not -0.0. */
bool chunk_value_is_int(double v);

/* ---- series ---- */

/* A series. Its label array and id never change; everything from oldest on is guarded by
 * the series' stripe mutex (written by the writer under it, read by queries under it). */
struct series {
    uint64_t hash;
    struct labelset ls; /* the label array is owned, the strings are interned */
    uint32_t id;
    bool dirty;           /* writer only: in db->dirty (has a full chunk to persist) */
    bool any;             /* has had a sample: mint, maxt and last_v are set */
    struct chunk *oldest; /* in-memory chunks, oldest first; the last is the open one */
    struct chunk *head;   /* the open chunk (the last of the list): &open, or NULL */
    struct chunk_app app; /* appender state of head */
    /* The open chunk, kept in the series rather than behind a pointer so that an append waits
     * on one cache miss fewer; a cut moves it to the heap. */
    struct chunk open;
    int64_t mint, maxt; /* oldest retained sample (memory or disk), newest sample */
    double last_v;
    int64_t disk_mint, disk_maxt; /* persisted chunks' span; INT64_MAX, INT64_MIN when none */
};

/* Frees a chunk of s's list: its data, and the chunk itself unless it is s's open one. */
static inline void series_chunk_free(struct series *s, struct chunk *c)
{
    if (c == &s->open) {
        free(c->data);
        s->open = (struct chunk){0};
    } else {
        chunk_free(c);
    }
}

/* ---- index (index.c) ---- */

struct strtab { /* interned strings, open addressing by content */
    char **slots;
    size_t cap, n;
};

struct plist { /* a postings list: ascending series ids */
    uint32_t *ids;
    uint32_t n, cap;
};

struct lvalue {
    const char *value;
    struct plist p;
};

struct lname {
    const char *name;
    struct lvalue *vals; /* in order of first appearance */
    uint32_t n, cap;
    uint32_t *slots; /* open addressing: index + 1 into vals, 0 empty */
    uint32_t nslots;
};

struct index {
    struct strtab strs;
    struct series **series;       /* by id - 1; NULL once dropped */
    uint32_t nseries, cap_series; /* nseries: the highest id given, plus one slot per id */
    uint32_t next_id;             /* the id the next new series gets */
    uint32_t live;
    uint32_t *slots; /* series by label hash: id, 0 empty; linear probing */
    uint32_t nslots;
    struct lname *names;
    uint32_t nnames, cap_names;
    uint32_t *name_slots; /* index + 1 into names by name pointer */
    uint32_t nname_slots;
};

void index_init(struct index *ix);
void index_fini(struct index *ix);
/* The series with exactly these labels, or NULL. */
struct series *index_find(const struct index *ix, const struct labelset *ls, uint64_t hash);
/* Adds a new series for ls (validated by the caller) under next_id, or under id when it is
 * not 0 (loading from the store, in ascending order). BW_ENOMEM, leaving the index as it was. */
int index_add(struct index *ix, const struct labelset *ls, uint64_t hash, uint32_t id,
              struct series **out);
/* Drops a series from the table and the postings and frees it. */
void index_drop(struct index *ix, struct series *s);
/* The ids of the series matching every matcher (nm may be 0: all), ascending, in a malloc'd
 * array the caller frees. BW_ENOMEM. */
int index_match(const struct index *ix, const struct tsdb_matcher *m, size_t nm, uint32_t **ids,
                size_t *n);

/* ---- write-ahead records (wal.c) ---- */

/* A record: the samples of one commit. Layout: "BWW2", the payload length (u32 LE), the
 * payload, its crc32 (u32 LE). */
struct wal_sample {
    uint32_t id;
    int64_t t;
    double v;
};

struct wal_writer {
    struct buf b; /* the payload being built */
    uint32_t n, last_id;
    int64_t last_t;
};

void wal_writer_init(struct wal_writer *w);
void wal_writer_fini(struct wal_writer *w);
void wal_writer_reset(struct wal_writer *w);
int wal_writer_add(struct wal_writer *w, uint32_t id, int64_t t, double v);
/* The finished record in out (reset first). BW_ENOMEM. */
int wal_writer_finish(struct wal_writer *w, struct buf *out);
/* Decodes a whole record into a malloc'd array. BW_EIO with why (a static string) when it is
 * truncated, fails its checksum or does not parse; BW_ENOMEM. */
int wal_decode(const uint8_t *p, size_t len, struct wal_sample **out, size_t *n, const char **why);

/* ---- the database ---- */

#define NSTRIPES 64
#define NREADERS 4

struct meta {
    char *family, *type, *help, *unit;
    bool dirty;
};

/* Timestamp blocks read from the store, by reference modulo NBLOCKS: the series of a query
 * share them, so each is read once. */
#define NBLOCKS 1024
struct blocks {
    uint32_t ref[NBLOCKS]; /* 0: empty */
    struct buf data[NBLOCKS];
    struct buf chunk; /* the chunk being rejoined */
};

struct reader {
    pthread_mutex_t mu;
    struct store *st;   /* opened on first use */
    struct blocks *bks; /* likewise */
};

struct tsdb {
    struct store *st; /* NULL: in memory */
    struct tsdb_options opt;
    pthread_mutex_t write_lock; /* tsdb_write_lock: between writing threads */
    pthread_rwlock_t index_lock;
    struct index ix;
    pthread_mutex_t stripes[NSTRIPES];

    /* the writer's own state */
    struct wal_writer wal;
    struct buf rec, pack; /* the record being written; the chunk being packed */
    uint64_t next_wal_seq;
    struct series **dirty; /* series with a closed chunk not yet persisted */
    size_t ndirty, cap_dirty;
    int64_t tick_t, epoch_t; /* the newest distinct timestamp appended; the epoch's first */
    uint32_t ticks;          /* distinct timestamps appended since the epoch began */
    uint32_t next_tref;      /* the reference the next persisted timestamp block gets */
    struct tblock *tblocks;  /* persist_commit's table of this commit's timestamp blocks */
    size_t cap_tblocks;

    pthread_mutex_t meta_lock;
    struct meta *meta;
    size_t nmeta, cap_meta;
    bool meta_dirty;

    struct reader readers[NREADERS];

    bool have_data;       /* writer only: min_time and max_time are set */
    uint64_t chunk_bytes; /* writer only: bytes of persisted chunks */
    uint64_t wal_bytes;   /* writer only: bytes of write-ahead records */
    uint32_t stored_ids;  /* ids up to this one are in the store */

    /* stats: written by the writer only (load + store), read by anyone */
    _Atomic uint64_t head_chunks, samples_appended, out_of_order, corrupt_records;
    _Atomic uint64_t bytes_on_disk, samples_persisted;
    _Atomic int64_t min_time, max_time;

    struct tsdb_observer obs; /* tsdb_observe: set before writing starts */

    pthread_mutex_t err_lock; /* guards err, which the writer sets and tsdb_error reads */
    char err[512];            /* why the last commit failed; "" after one succeeded */
};

static inline pthread_mutex_t *series_lock(struct tsdb *db, const struct series *s)
{
    return &db->stripes[s->id % NSTRIPES];
}

/* Adds n to a counter only the writer changes. */
static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* Appends to s under its stripe lock, the chunk started by this sample remembering record
 * seq. 0, 1 when the sample repeats the newest one (ignored), BW_ERANGE, BW_ENOMEM. */
int tsdb_series_append(struct tsdb *db, struct series *s, int64_t t, double v, uint64_t seq);
/* Widens min_time and max_time to t. */
void tsdb_note_time(struct tsdb *db, int64_t t);
/* Publishes chunk_bytes + wal_bytes as bytes_on_disk. */
void tsdb_note_bytes(struct tsdb *db);
/* Sets a family's metadata (NULL strings as ""); dirty: to be written by the next commit. */
int tsdb_meta_put(struct tsdb *db, const char *family, const char *type, const char *help,
                  const char *unit, bool dirty);

/* ---- persistence (persist.c), all on the writer's thread but persist_read ---- */

/* Loads series, chunk spans, metadata, then replays the write-ahead records. */
int persist_load(struct tsdb *db, struct diag *d);
/* Writes new series, the pending record, full chunks and metadata in one transaction, then
 * drops the records every sample of which is persisted. */
int persist_commit(struct tsdb *db, struct diag *d);
/* Deletes the persisted timestamp blocks that end before `before`, the first timestamp of any
 * persisted chunk: a chunk begins where its block does, so no chunk refers to them. */
int persist_drop_blocks(struct tsdb *db, int64_t before, struct diag *d);
/* Frees a reader's blocks. */
void persist_blocks_free(struct blocks *b);
/* Deletes s's persisted chunks that end before cutoff, updating its disk span. */
int persist_drop_before(struct tsdb *db, struct series *s, int64_t cutoff, struct diag *d);
int persist_series_delete(struct tsdb *db, struct series *s, struct diag *d);

/* A growable pair of sample arrays. */
struct samples {
    int64_t *t;
    double *v;
    size_t n, cap;
};
int samples_reserve(struct samples *s, size_t more);
void samples_fini(struct samples *s);
/* Decodes chunk data, keeping the samples in [mint, maxt]. BW_EIO, BW_ENOMEM. */
int samples_add_chunk(struct samples *s, const uint8_t *data, size_t len, int64_t mint,
                      int64_t maxt);
/* Any thread: appends the samples of s's persisted chunks in [mint, maxt] to out, through a
 * reader connection. BW_EIO with d saying why. */
int persist_read(struct tsdb *db, uint32_t id, int64_t mint, int64_t maxt, struct samples *out,
                 struct diag *d);

/* Checks a label set: BW_OK or BW_EINVAL with d saying what is wrong. */
int tsdb_labels_check(const struct labelset *ls, struct diag *d);

/* Zigzag: a signed 64-bit value (as its two's-complement bits) to an unsigned one that is
 * small when the value is near zero, and back. Chunks and write-ahead records use it. */
static inline uint64_t zigzag(uint64_t u)
{
    return (u << 1) ^ (0 - (u >> 63));
}

static inline uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

#endif
