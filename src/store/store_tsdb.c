/* store_tsdb: the tsdb's tables — series, chunks, write-ahead records, metadata — as named
 * operations.
 *
 * Main data structure: none of its own; each operation is one or a few cached statements
 * (store_stmt) over the tables of migration 2, and reads hand rows to a callback.
 *
 * The design decision: the store knows nothing of the chunk or record encodings; chunks and
 * records are opaque blobs next to the few columns SQL must see (a chunk's series, time span
 * and sample count), so the tsdb can change its encodings without a migration and retention
 * and size accounting still run as plain SQL. Rows of tsdb_chunks under a series id below 0
 * are the tsdb's own (its shared timestamp blocks), not a series'. */
#include <stdint.h>

#include "store/store_int.h"

static const char SQL_SERIES_INSERT[] = "INSERT INTO tsdb_series (id, labels) VALUES (?1, ?2)";
static const char SQL_SERIES_DELETE[] = "DELETE FROM tsdb_series WHERE id = ?1";
static const char SQL_SERIES_EACH[] = "SELECT id, labels FROM tsdb_series ORDER BY id";
static const char SQL_SERIES_NEXT_ID[] =
    "SELECT MAX(IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'tsdb_series'), 0),"
    " IFNULL((SELECT MAX(id) FROM tsdb_series), 0)) + 1";

static const char SQL_CHUNK_INSERT[] =
    "INSERT OR REPLACE INTO tsdb_chunks (series_id, mint, maxt, n, data)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_CHUNKS_RANGE[] =
    "SELECT mint, maxt, n, data FROM tsdb_chunks"
    " WHERE series_id = ?1 AND mint <= ?3 AND maxt >= ?2 ORDER BY mint";
static const char SQL_CHUNK_SPANS[] =
    "SELECT series_id, MIN(mint), MAX(maxt), SUM(n), SUM(length(data)),"
    " (SELECT data FROM tsdb_chunks l WHERE l.series_id = c.series_id ORDER BY mint DESC LIMIT 1)"
    " FROM tsdb_chunks c GROUP BY series_id";
static const char SQL_CHUNKS_DROPPED[] =
    "SELECT IFNULL(SUM(length(data)), 0), IFNULL(SUM(n), 0) FROM tsdb_chunks"
    " WHERE series_id = ?1 AND maxt < ?2";
static const char SQL_CHUNKS_DROP[] = "DELETE FROM tsdb_chunks WHERE series_id = ?1 AND maxt < ?2";
static const char SQL_CHUNKS_MINT[] = "SELECT MIN(mint) FROM tsdb_chunks WHERE series_id = ?1";
/* Its own text, so that it can run while SQL_CHUNKS_RANGE is stepping on the connection. */
static const char SQL_CHUNKS_ALL[] =
    "SELECT mint, maxt, n, data FROM tsdb_chunks WHERE series_id = ?1 ORDER BY mint";
static const char SQL_OWN_DROPPED[] =
    "SELECT IFNULL(SUM(length(data)), 0) FROM tsdb_chunks WHERE series_id < 0 AND maxt < ?1";
static const char SQL_OWN_DROP[] = "DELETE FROM tsdb_chunks WHERE series_id < 0 AND maxt < ?1";

static const char SQL_WAL_INSERT[] = "INSERT INTO tsdb_wal (seq, data) VALUES (?1, ?2)";
static const char SQL_WAL_EACH[] = "SELECT seq, data FROM tsdb_wal ORDER BY seq";
static const char SQL_WAL_DROPPED[] =
    "SELECT IFNULL(SUM(length(data)), 0) FROM tsdb_wal WHERE seq < ?1";
static const char SQL_WAL_DROP[] = "DELETE FROM tsdb_wal WHERE seq < ?1";

static const char SQL_META_PUT[] =
    "INSERT OR REPLACE INTO tsdb_metadata (family, type, help, unit) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_META_EACH[] =
    "SELECT family, type, help, unit FROM tsdb_metadata ORDER BY family";

/* Reads the integer columns of a statement's single row into out[0..n). */
static int one_row(struct store *s, sqlite3_stmt *st, int bind, const char *what, int64_t *out,
                   int n)
{
    int rc = bind;
    if (rc != SQLITE_OK) {
        rc = store_fail(s, rc, what);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = store_fail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, what);
        goto out;
    }
    for (int i = 0; i < n; i++)
        out[i] =
            sqlite3_column_type(st, i) == SQLITE_NULL ? INT64_MAX : sqlite3_column_int64(st, i);
    rc = BW_OK;
out:
    sqlite3_reset(st);
    return rc;
}

static int bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
    return sqlite3_bind_blob64(st, i, p ? p : "", len, SQLITE_STATIC);
}

/* ---- series ---- */

int store_tsdb_series_insert(struct store *s, int64_t id, const void *labels, size_t len)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SERIES_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, id)) || (b = bind_blob(st, 2, labels, len)));
    return store_run_write(s, st, b, "insert tsdb series");
}

int store_tsdb_series_delete(struct store *s, int64_t id)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SERIES_DELETE, &st);
    return rc ? rc : store_run_write(s, st, sqlite3_bind_int64(st, 1, id), "delete tsdb series");
}

struct series_ctx {
    store_tsdb_series_fn fn;
    void *ud;
};

static int series_row(void *ctx, sqlite3_stmt *st)
{
    struct series_ctx *c = ctx;
    return c->fn(c->ud, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                 (size_t)sqlite3_column_bytes(st, 1));
}

int store_tsdb_series_each(struct store *s, store_tsdb_series_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct series_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_SERIES_EACH, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "read tsdb series", series_row, &c);
}

int store_tsdb_series_next_id(struct store *s, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SERIES_NEXT_ID, &st);
    return rc ? rc : one_row(s, st, SQLITE_OK, "next tsdb series id", out, 1);
}

/* ---- chunks ---- */

int store_tsdb_chunk_insert(struct store *s, const struct store_tsdb_chunk_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_CHUNK_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, r->series_id)) ||
           (b = sqlite3_bind_int64(st, 2, r->mint)) || (b = sqlite3_bind_int64(st, 3, r->maxt)) ||
           (b = sqlite3_bind_int64(st, 4, r->n)) || (b = bind_blob(st, 5, r->data, r->len)));
    return store_run_write(s, st, b, "insert tsdb chunk");
}

struct chunk_ctx {
    store_tsdb_chunk_fn fn;
    void *ud;
    int64_t series_id;
};

static int chunk_row(void *ctx, sqlite3_stmt *st)
{
    struct chunk_ctx *c = ctx;
    struct store_tsdb_chunk_row r = {.series_id = c->series_id,
                                     .mint = sqlite3_column_int64(st, 0),
                                     .maxt = sqlite3_column_int64(st, 1),
                                     .n = sqlite3_column_int64(st, 2),
                                     .data = sqlite3_column_blob(st, 3),
                                     .len = (size_t)sqlite3_column_bytes(st, 3)};
    return c->fn(c->ud, &r);
}

int store_tsdb_chunks_range(struct store *s, int64_t series_id, int64_t mint, int64_t maxt,
                            store_tsdb_chunk_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct chunk_ctx c = {fn, ud, series_id};
    int rc = store_stmt(s, SQL_CHUNKS_RANGE, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, series_id)) || (b = sqlite3_bind_int64(st, 2, mint)) ||
           (b = sqlite3_bind_int64(st, 3, maxt)));
    return store_each_row(s, st, b, "read tsdb chunks", chunk_row, &c);
}

struct span_ctx {
    store_tsdb_span_fn fn;
    void *ud;
};

static int span_row(void *ctx, sqlite3_stmt *st)
{
    struct span_ctx *c = ctx;
    struct store_tsdb_span r = {.series_id = sqlite3_column_int64(st, 0),
                                .mint = sqlite3_column_int64(st, 1),
                                .maxt = sqlite3_column_int64(st, 2),
                                .n = sqlite3_column_int64(st, 3),
                                .bytes = sqlite3_column_int64(st, 4),
                                .last = sqlite3_column_blob(st, 5),
                                .last_len = (size_t)sqlite3_column_bytes(st, 5)};
    return c->fn(c->ud, &r);
}

int store_tsdb_chunk_spans(struct store *s, store_tsdb_span_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct span_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_CHUNK_SPANS, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "read tsdb chunk spans", span_row, &c);
}

int store_tsdb_chunks_drop(struct store *s, int64_t series_id, int64_t before, int64_t *bytes,
                           int64_t *n, int64_t *mint)
{
    sqlite3_stmt *st;
    int64_t sums[2] = {0, 0};
    int b, rc = store_stmt(s, SQL_CHUNKS_DROPPED, &st);
    if (rc)
        return rc;
    (void)((b = sqlite3_bind_int64(st, 1, series_id)) || (b = sqlite3_bind_int64(st, 2, before)));
    rc = one_row(s, st, b, "size tsdb chunks", sums, 2);
    if (rc)
        return rc;
    rc = store_stmt(s, SQL_CHUNKS_DROP, &st);
    if (rc)
        return rc;
    (void)((b = sqlite3_bind_int64(st, 1, series_id)) || (b = sqlite3_bind_int64(st, 2, before)));
    rc = store_run_write(s, st, b, "delete tsdb chunks");
    if (rc)
        return rc;
    rc = store_stmt(s, SQL_CHUNKS_MINT, &st);
    if (rc)
        return rc;
    rc = one_row(s, st, sqlite3_bind_int64(st, 1, series_id), "first tsdb chunk", mint, 1);
    if (rc)
        return rc;
    *bytes = sums[0];
    *n = sums[1];
    return BW_OK;
}

int store_tsdb_chunks_all(struct store *s, int64_t series_id, store_tsdb_chunk_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct chunk_ctx c = {fn, ud, series_id};
    int rc = store_stmt(s, SQL_CHUNKS_ALL, &st);
    return rc ? rc
              : store_each_row(s, st, sqlite3_bind_int64(st, 1, series_id), "read tsdb chunks",
                               chunk_row, &c);
}

int store_tsdb_own_drop(struct store *s, int64_t before, int64_t *bytes)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_OWN_DROPPED, &st);
    if (rc)
        return rc;
    rc = one_row(s, st, sqlite3_bind_int64(st, 1, before), "size tsdb blocks", bytes, 1);
    if (rc || *bytes == 0)
        return rc;
    rc = store_stmt(s, SQL_OWN_DROP, &st);
    return rc ? rc
              : store_run_write(s, st, sqlite3_bind_int64(st, 1, before), "delete tsdb blocks");
}

/* ---- write-ahead records ---- */

int store_tsdb_wal_insert(struct store *s, int64_t seq, const void *data, size_t len)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_WAL_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, seq)) || (b = bind_blob(st, 2, data, len)));
    return store_run_write(s, st, b, "insert tsdb record");
}

struct wal_ctx {
    store_tsdb_wal_fn fn;
    void *ud;
};

static int wal_row(void *ctx, sqlite3_stmt *st)
{
    struct wal_ctx *c = ctx;
    return c->fn(c->ud, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 1),
                 (size_t)sqlite3_column_bytes(st, 1));
}

int store_tsdb_wal_each(struct store *s, store_tsdb_wal_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct wal_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_WAL_EACH, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "read tsdb records", wal_row, &c);
}

int store_tsdb_wal_drop(struct store *s, int64_t before, int64_t *bytes)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_WAL_DROPPED, &st);
    if (rc)
        return rc;
    rc = one_row(s, st, sqlite3_bind_int64(st, 1, before), "size tsdb records", bytes, 1);
    if (rc || *bytes == 0)
        return rc;
    rc = store_stmt(s, SQL_WAL_DROP, &st);
    return rc ? rc
              : store_run_write(s, st, sqlite3_bind_int64(st, 1, before), "delete tsdb records");
}

/* ---- metadata ---- */

int store_tsdb_meta_put(struct store *s, const char *family, const char *type, const char *help,
                        const char *unit)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_META_PUT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = store_bind_text(st, 1, family)) || (b = store_bind_text(st, 2, type)) ||
           (b = store_bind_text(st, 3, help)) || (b = store_bind_text(st, 4, unit)));
    return store_run_write(s, st, b, "write tsdb metadata");
}

struct meta_ctx {
    store_tsdb_meta_fn fn;
    void *ud;
};

static int meta_row(void *ctx, sqlite3_stmt *st)
{
    struct meta_ctx *c = ctx;
    return c->fn(c->ud, store_col_text(st, 0), store_col_text(st, 1), store_col_text(st, 2),
                 store_col_text(st, 3));
}

int store_tsdb_meta_each(struct store *s, store_tsdb_meta_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct meta_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_META_EACH, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "read tsdb metadata", meta_row, &c);
}
