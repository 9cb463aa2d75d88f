/* store: the one SQLite database in the data directory (breakwatch.db). Everything durable goes
 * through here, and this is the only module that speaks SQL: other modules call operations
 * named after what they mean (store_event_insert, store_events_after, …), each of them one
 * cached prepared statement.
 *
 * A struct store is one connection. store_open opens the primary (read-write) connection,
 * creating the directory and the schema as needed; store_open_reader opens a second,
 * query-only connection to the same file for readers, which WAL lets run beside the writer.
 * A connection is not thread-safe: one thread at a time (the caller's lock or the caller's
 * thread). Reads hand rows to a callback; the strings in a row are valid only during the call.
 *
 * Errors: 0 or a negative BW_E* code. store_open and store_open_reader explain in a diag;
 * later failures leave "what failed: SQLite's message" in store_last_error. */
#ifndef BW_STORE_H
#define BW_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct store;

#define STORE_DB_NAME   "breakwatch.db"
#define STORE_LOCK_NAME "breakwatch.lock" /* held (flock) by the process writing the store */

/* Opens <data_dir>/breakwatch.db, creating data_dir (and missing parents, mode 0755) and the
 * file if needed, and brings the schema up to date. On failure nothing this call created is
 * left behind: BW_EACCES when the directory or file may not be written, BW_EIO when they
 * cannot be used (a path component is a file, the file is not a database, the schema is newer
 * than this program), BW_EBUSY when another process holds the database locked; d names the
 * path and carries the system's or SQLite's message. */
int store_open(const char *data_dir, struct store **out, struct diag *d);
/* Opens a query-only connection to the database of primary. Same codes as store_open. */
int store_open_reader(const struct store *primary, struct store **out, struct diag *d);
/* Opens another read-write connection to the database of primary, for a second writing thread
 * in the same process (the journal's writer beside the tsdb's). The directory lock stays with
 * primary, which must outlive it; SQLite serializes the writers' transactions. Same codes as
 * store_open. */
int store_open_writer(const struct store *primary, struct store **out, struct diag *d);
/* Finalizes the cached statements and closes the connection. NULL is a no-op. */
void store_close(struct store *s);
/* The database file's path. */
const char *store_path(const struct store *s);
/* "what failed: SQLite's message" for the last failed call on s, "" if none failed. */
const char *store_last_error(const struct store *s);

/* Explicit write transactions (BEGIN IMMEDIATE: the write lock is taken up front, so a commit
 * never fails on a lock upgrade). store_rollback is a no-op outside a transaction. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/* ---- the journal's tables (store_journal.c) ---- */

/* NULL strings are SQL NULL; ended_ms 0 means "not ended" (NULL in the table). */
struct store_session_row {
    const char *id, *mode, *status, *config_json, *summary_json;
    int64_t started_ms, ended_ms;
};
struct store_checkpoint_row {
    int64_t id; /* ignored by insert, which assigns it */
    int64_t ts_ms, recorded_ms;
    const char *session_id, *name, *correlation_id, *symbol, *detail_json;
};
struct store_event_row {
    int64_t id; /* insert uses it as the row id */
    int64_t ts_ms, recorded_ms;
    const char *session_id, *type, *severity, *symbol, *correlation_id, *message, *data_json;
};

/* Row callbacks: return 0 to go on, or a negative code to stop; the read returns that code. */
typedef int (*store_session_fn)(void *ud, const struct store_session_row *r);
typedef int (*store_checkpoint_fn)(void *ud, const struct store_checkpoint_row *r);
typedef int (*store_event_fn)(void *ud, const struct store_event_row *r);

int store_session_insert(struct store *s, const struct store_session_row *r);
/* Sets status, ended_ms and summary_json of session r->id. BW_ENOENT if there is none. */
int store_session_finish(struct store *s, const struct store_session_row *r);
/* Marks every session still "running" as "crashed", its ended_ms the wall-clock time of its
 * last recorded event or checkpoint, or now_ms when it recorded none. *n: how many. */
int store_sessions_mark_crashed(struct store *s, int64_t now_ms, int *n);
/* Newest first (by started_ms, then insertion order), only those still "running" when
 * running_only; limit 0: all. */
int store_sessions_list(struct store *s, size_t limit, int running_only, store_session_fn fn,
                        void *ud);
/* Calls fn once with session id; BW_ENOENT if there is none. */
int store_session_get(struct store *s, const char *id, store_session_fn fn, void *ud);

int store_checkpoint_insert(struct store *s, const struct store_checkpoint_row *r);
/* Checkpoints of a session (NULL: of all), oldest first. */
int store_checkpoints_list(struct store *s, const char *session_id, store_checkpoint_fn fn,
                           void *ud);
/* The same from id > after_id on, at most limit (0: all): a page costs what it returns. */
int store_checkpoints_after(struct store *s, const char *session_id, int64_t after_id, size_t limit,
                            store_checkpoint_fn fn, void *ud);

int store_event_insert(struct store *s, const struct store_event_row *r);
/* Events with id > after_id of a session (NULL: any), oldest first, at most limit (0: all). */
int store_events_after(struct store *s, const char *session_id, int64_t after_id, size_t limit,
                       store_event_fn fn, void *ud);
/* A filtered read of the events; each field that is set narrows it. */
struct store_event_query {
    const char *session_id;     /* NULL: any */
    const char *correlation_id; /* NULL: any */
    const char *const *types;   /* the types accepted, ntypes of them; 0: any */
    size_t ntypes;
    const char *const *severities; /* the severity names accepted; 0: any */
    size_t nseverities;
    const char *const *symbols; /* the symbols accepted; 0: any, even none */
    size_t nsymbols;
    int64_t after_id, before_id; /* after_id < id < before_id; before_id 0: no upper bound */
    int newest_first;            /* by id descending; else ascending */
    size_t limit;                /* 0: all */
};
/* The events q selects, in its order. The read is driven by the index of its most selective
 * filter — the correlation id, the session (with the type when there is one), the type, else
 * the id — and stops at limit, so a page costs about what it returns unless the other filters
 * reject most of what the index yields. */
int store_events_query(struct store *s, const struct store_event_query *q, store_event_fn fn,
                       void *ud);
/* The id the next event gets: one past the highest ever used, even if rows were deleted. */
int store_events_next_id(struct store *s, int64_t *out);

/* ---- tsdb: series, chunks, write-ahead records, metadata (store_tsdb.c) ----
 * Blobs passed in are copied by SQLite; blobs handed to callbacks are valid during the call.
 * Chunk rows under a series id below 0 are the tsdb's own blocks, grouped with the rest. */

/* A series' labels are one blob: name, NUL, value, NUL, … in label order. */
int store_tsdb_series_insert(struct store *s, int64_t id, const void *labels, size_t len);
int store_tsdb_series_delete(struct store *s, int64_t id);
typedef int (*store_tsdb_series_fn)(void *ud, int64_t id, const void *labels, size_t len);
/* Every series, by ascending id. */
int store_tsdb_series_each(struct store *s, store_tsdb_series_fn fn, void *ud);
/* One past the highest id ever inserted, even if that series was deleted. */
int store_tsdb_series_next_id(struct store *s, int64_t *out);

struct store_tsdb_chunk_row {
    int64_t series_id, mint, maxt, n; /* n: samples in the chunk */
    const void *data;
    size_t len;
};
typedef int (*store_tsdb_chunk_fn)(void *ud, const struct store_tsdb_chunk_row *r);
int store_tsdb_chunk_insert(struct store *s, const struct store_tsdb_chunk_row *r);
/* The chunks of series_id overlapping [mint, maxt], oldest first. */
int store_tsdb_chunks_range(struct store *s, int64_t series_id, int64_t mint, int64_t maxt,
                            store_tsdb_chunk_fn fn, void *ud);
/* Per series with persisted chunks: the first and last timestamp, the samples and bytes they
 * hold, and the data of its newest chunk (last, last_len). */
struct store_tsdb_span {
    int64_t series_id, mint, maxt, n, bytes;
    const void *last;
    size_t last_len;
};
typedef int (*store_tsdb_span_fn)(void *ud, const struct store_tsdb_span *r);
int store_tsdb_chunk_spans(struct store *s, store_tsdb_span_fn fn, void *ud);
/* Deletes the chunks of series_id ending before `before`; *bytes, *n: what they held;
 * *mint: the first timestamp of what is left (INT64_MAX when nothing). */
int store_tsdb_chunks_drop(struct store *s, int64_t series_id, int64_t before, int64_t *bytes,
                           int64_t *n, int64_t *mint);

/* Every chunk of series_id, oldest first; may run inside a store_tsdb_chunks_range callback
 * on the same connection (the tsdb looks up a chunk's timestamp block so). */
int store_tsdb_chunks_all(struct store *s, int64_t series_id, store_tsdb_chunk_fn fn, void *ud);
/* Deletes the tsdb's own rows (series ids below 0) ending before `before`; *bytes: their size. */
int store_tsdb_own_drop(struct store *s, int64_t before, int64_t *bytes);

int store_tsdb_wal_insert(struct store *s, int64_t seq, const void *data, size_t len);
typedef int (*store_tsdb_wal_fn)(void *ud, int64_t seq, const void *data, size_t len);
/* Every record, by ascending seq. */
int store_tsdb_wal_each(struct store *s, store_tsdb_wal_fn fn, void *ud);
/* Deletes the records with seq < before; *bytes: their size. */
int store_tsdb_wal_drop(struct store *s, int64_t before, int64_t *bytes);

/* Inserts or replaces a family's metadata. */
int store_tsdb_meta_put(struct store *s, const char *family, const char *type, const char *help,
                        const char *unit);
typedef int (*store_tsdb_meta_fn)(void *ud, const char *family, const char *type, const char *help,
                                  const char *unit);
int store_tsdb_meta_each(struct store *s, store_tsdb_meta_fn fn, void *ud);

/* ---- alerting: history, acknowledgments, silences, notification log (store_alert.c) ----
 * Fingerprints are alert_fingerprint values (alert.h); strings are copied by SQLite. */

struct store_alert_history_row {
    int64_t id; /* assigned by insert */
    int64_t at;
    uint64_t fingerprint; /* 0: not about one alert (a group's notification, a silence) */
    const char *kind;     /* "transition", "notification", "ack", "unack", "silence" */
    const char *alertname, *labels_json, *from, *to, *receiver, *outcome, *who; /* may be NULL */
};
typedef int (*store_alert_history_fn)(void *ud, const struct store_alert_history_row *r);
/* Appends a row; its id in *id (may be NULL). */
int store_alert_history_insert(struct store *s, const struct store_alert_history_row *r,
                               int64_t *id);
/* Rows with id < before (0: from the newest), of fingerprint fp when not 0, newest first, at
 * most limit (0: all). */
int store_alert_history_list(struct store *s, int64_t before, uint64_t fp, size_t limit,
                             store_alert_history_fn fn, void *ud);
/* Deletes the rows older than `before` (their at) and all but the `keep` newest; *n: how many
 * (may be NULL). */
int store_alert_history_prune(struct store *s, int64_t before, size_t keep, int *n);

/* One acknowledgment per alert, of the episode that started at active_at. */
struct store_alert_ack_row {
    uint64_t fingerprint;
    int64_t active_at, at;
    const char *who, *comment;
};
typedef int (*store_alert_ack_fn)(void *ud, const struct store_alert_ack_row *r);
/* Inserts or replaces the acknowledgment of r->fingerprint. */
int store_alert_ack_put(struct store *s, const struct store_alert_ack_row *r);
/* BW_ENOENT when fp has none. */
int store_alert_ack_delete(struct store *s, uint64_t fp);
int store_alert_acks_each(struct store *s, store_alert_ack_fn fn, void *ud);

/* A silence; its matchers are the caller's JSON text. */
struct store_alert_silence_row {
    const char *id, *matchers_json, *created_by, *comment;
    int64_t starts_at, ends_at, updated_at;
};
typedef int (*store_alert_silence_fn)(void *ud, const struct store_alert_silence_row *r);
/* Inserts or replaces silence r->id. */
int store_alert_silence_put(struct store *s, const struct store_alert_silence_row *r);
/* Every silence, oldest update first. */
int store_alert_silences_each(struct store *s, store_alert_silence_fn fn, void *ud);
/* Deletes silences that ended before `before`; *n: how many (may be NULL). */
int store_alert_silences_drop(struct store *s, int64_t before, int *n);

/* The notification log: per key (a group and a target), when it was last notified and the
 * fingerprints of the firing and resolved alerts it carried (the caller's text). */
struct store_alert_nflog_row {
    const char *key, *firing, *resolved;
    int64_t sent_at;
};
typedef int (*store_alert_nflog_fn)(void *ud, const struct store_alert_nflog_row *r);
int store_alert_nflog_put(struct store *s, const struct store_alert_nflog_row *r);
/* BW_ENOENT when there is no such key. */
int store_alert_nflog_delete(struct store *s, const char *key);
int store_alert_nflog_each(struct store *s, store_alert_nflog_fn fn, void *ud);

#endif
