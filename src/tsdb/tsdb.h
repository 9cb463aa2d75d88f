/* tsdb: the embedded time-series database — every series breakwatch has recorded, its
 * samples, and the index that finds series by label matchers.
 *
 * One writer (the collector, or an import) appends; any number of query threads read at the
 * same time. Samples are kept in chunks of about 120 (delta-of-delta timestamps; XOR floats or
 * integer deltas for integral values); the newest chunks live in memory (the head), full ones
 * are persisted compressed in the SQLite store, and every commit writes a write-ahead record
 * so a crash loses at most the samples appended since the last commit. Without a store the
 * database lives in memory only (tests, the conformance runner).
 *
 * Errors: 0 or a negative BW_E* code, detail in a struct diag where one is taken. */
#ifndef BW_TSDB_H
#define BW_TSDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct store;
struct tsdb;

/* The stale marker: a NaN with this exact bit pattern, appended when a series disappears from
 * a scrape. Queries treat a series whose newest sample in the lookback window is stale as
 * absent, and drop stale markers from range windows. Ordinary NaN is 0x7ff8000000000001. */
#define TSDB_STALE_NAN_BITS 0x7ff0000000000002ULL
double tsdb_stale_nan(void);
bool tsdb_is_stale(double v);

struct tsdb_options {
    int64_t retention_ms; /* samples older than newest - retention are deleted; 0: 15 days */
    int64_t max_bytes;    /* size cap for persisted chunks, oldest dropped first; 0: none */
};

/* Opens the database kept in st (NULL: in memory only), replaying the write-ahead records into
 * the head. A truncated or corrupt record is reported with log_warn (what and which record)
 * and skipped; the rest still loads. st stays owned by the caller and must outlive the tsdb;
 * the tsdb opens its own reader connections beside it. BW_ENOMEM, BW_EIO (d says why). */
int tsdb_open(struct store *st, const struct tsdb_options *o, struct tsdb **out, struct diag *d);
/* Commits what was appended, then frees everything. NULL is a no-op. */
void tsdb_close(struct tsdb *db);

/* ---- writing (one thread at a time) ----
 * More than one thread may write (the collector, the rule evaluator) when each holds the write
 * lock around every run of appends and around its commit; a single writer may skip the lock.
 * A commit makes durable everything appended before it, whoever appended it: a writer's
 * samples are durable after its own commit at the latest, and may become durable earlier,
 * with part of its batch, when another writer commits in between. The rule evaluator relies on
 * no more: it appends each rule's output under one hold (later rules must see it) and commits
 * once per group, as Prometheus, which commits each rule on its own, guarantees no more. */

void tsdb_write_lock(struct tsdb *db);
void tsdb_write_unlock(struct tsdb *db);

/* Appends one sample. ls must be a valid label set (sorted, unique names matching
 * [a-zA-Z_][a-zA-Z0-9_]*, __name__ present and a valid metric name, no empty values).
 * *ref caches the series: pass 0 the first time and the value written back afterwards, which
 * skips the label lookup (ls is then not read, unless retention has dropped that series since:
 * then ls recreates it under a new ref, and with ls NULL the append fails with BW_ENOENT). The
 * sample is visible to queries at once and durable after tsdb_commit. A timestamp at or
 * before the series' newest one is refused with BW_ERANGE (same timestamp and same value:
 * BW_OK, ignored, as Prometheus does), the series and other samples unaffected. BW_EINVAL
 * for an invalid label set, BW_ENOMEM. */
int tsdb_append(struct tsdb *db, const struct labelset *ls, int64_t t_ms, double v, uint64_t *ref);
/* Makes everything appended since the last commit durable (one write-ahead record) and
 * persists chunks that are full. BW_EIO on a storage failure (d says what); the samples stay
 * in the head and the next commit retries. */
int tsdb_commit(struct tsdb *db, struct diag *d);
/* Whether the last commit failed (1) or not (0: none failed, or one succeeded since); when it
 * did, its message (what failed, the database file, the system's or SQLite's words) is copied
 * into buf (len bytes, NUL-terminated). Any thread. */
int tsdb_error(struct tsdb *db, char *buf, size_t len);
/* An observer of what is written: sample is called for every sample the tsdb accepts (ls its
 * series' labels, valid during the call only), commit at every tsdb_commit; both on the
 * writing thread, under the write lock, so they must be quick and never block (remote write
 * encodes into memory there and sends from a thread of its own). NULL detaches. The observer
 * is not locked: attach it before any writer starts, and detach it after the last one stopped
 * (or hold the write lock while changing it). */
struct tsdb_observer {
    void (*sample)(void *ud, const struct labelset *ls, int64_t t_ms, double v);
    void (*commit)(void *ud);
    void *ud;
};
void tsdb_observe(struct tsdb *db, const struct tsdb_observer *o);
/* Applies retention and the size cap as of now_ms (wall clock, ms). Called by the writer
 * from time to time; cheap when there is nothing to do. */
int tsdb_maintain(struct tsdb *db, int64_t now_ms, struct diag *d);

/* Family metadata for /api/v1/metadata: type is the lowercase Prometheus type name. Kept
 * durable with the next commit. */
int tsdb_metadata_set(struct tsdb *db, const char *family, const char *type, const char *help,
                      const char *unit);

/* ---- reading (any thread) ---- */

enum tsdb_match_op { TSDB_MATCH_EQ, TSDB_MATCH_NE, TSDB_MATCH_RE, TSDB_MATCH_NRE };

/* A label matcher. Regular expressions are RE2-compatible syntax, fully anchored, with `.`
 * matching newline (Prometheus 3). A label a series lacks matches as the empty string. */
struct tsdb_matcher {
    enum tsdb_match_op op;
    char *name;
    char *value;
    void *re; /* compiled pattern for RE/NRE */
};

/* Copies name and value and compiles the pattern. BW_EINVAL when the regex does not compile
 * (d: "error parsing regexp: <why> at offset N"), BW_ENOMEM. */
int tsdb_matcher_init(struct tsdb_matcher *m, enum tsdb_match_op op, const char *name,
                      const char *value, struct diag *d);
void tsdb_matcher_fini(struct tsdb_matcher *m);
/* Whether value (""; for a missing label) satisfies m. Thread-safe. */
bool tsdb_matcher_matches(const struct tsdb_matcher *m, const char *value);

/* One series in a selection: its labels and its samples in the asked range, oldest first,
 * stale markers included (the query engine interprets them). */
struct tsdb_series {
    struct labelset labels;
    size_t n;
    const int64_t *t; /* ms */
    const double *v;
};

enum {
    TSDB_SELECT_LABELS_ONLY = 1, /* no samples (n = 0): for /series, /labels */
};

/* The series matching every matcher that have a sample in [mint, maxt] (both inclusive),
 * sorted by label set, with their samples in that range. Everything returned lives in arena a.
 * max_samples (0: no limit) bounds the samples copied: over it, BW_ENOSPC with d saying so;
 * an arena over its limit gives BW_ENOSPC too. BW_EIO on a storage failure. */
int tsdb_select(struct tsdb *db, const struct tsdb_matcher *m, size_t nm, int64_t mint,
                int64_t maxt, unsigned flags, size_t max_samples, struct arena *a,
                struct tsdb_series **out, size_t *nout, struct diag *d);
/* Sorted, distinct label names (with nm = 0: of every series) / values of label name, among
 * the series matching m with samples in [mint, maxt]. Strings live in a. */
int tsdb_label_names(struct tsdb *db, const struct tsdb_matcher *m, size_t nm, int64_t mint,
                     int64_t maxt, struct arena *a, const char ***out, size_t *nout,
                     struct diag *d);
int tsdb_label_values(struct tsdb *db, const char *name, const struct tsdb_matcher *m, size_t nm,
                      int64_t mint, int64_t maxt, struct arena *a, const char ***out, size_t *nout,
                      struct diag *d);

struct tsdb_metadata {
    const char *family, *type, *help, *unit;
};
/* All metadata, sorted by family name; strings in a. */
int tsdb_metadata_list(struct tsdb *db, struct arena *a, struct tsdb_metadata **out, size_t *nout);

struct tsdb_stats {
    uint64_t series;            /* series in the index */
    uint64_t head_chunks;       /* chunks in memory */
    uint64_t samples_appended;  /* since open */
    uint64_t out_of_order;      /* samples refused with BW_ERANGE since open */
    uint64_t corrupt_records;   /* write-ahead records skipped at open */
    uint64_t bytes_on_disk;     /* persisted chunks and records */
    uint64_t samples_persisted; /* samples in persisted chunks */
    int64_t min_time, max_time; /* ms; 0 when empty */
};
void tsdb_stats_get(struct tsdb *db, struct tsdb_stats *s);

/* ==== Writers on top of the tsdb: collector.c and openmetrics.c ==================================
 * (This section belongs to the collector and importer; the rest of the header to the tsdb.) */

/* ---- the collector: the registry, recorded every scrape interval ---- */

struct tsdb_collector;

struct tsdb_collector_options {
    int64_t interval_ms; /* between scrapes; 0: 1 s */
    int64_t maintain_ms; /* between tsdb_maintain calls; 0: 1 minute */
};

/* A collector that records reg into db. Registers its own metrics in reg (tsdb_head_series,
 * tsdb_samples_appended_total, tsdb_scrape_duration_seconds, tsdb_commit_failures_total, ...).
 * While its thread runs it must be db's only writer. db and reg must outlive it. BW_OK and
 * *out; BW_ENOMEM, or BW_EEXIST when reg holds a tsdb_* family of another shape. */
int tsdb_collector_new(struct tsdb *db, bw_registry *reg, const struct tsdb_collector_options *o,
                       struct tsdb_collector **out);
/* Starts the thread: a scrape at once, then one every interval (missed ones are skipped, not
 * made up). BW_OK, or BW_ENOMEM when no thread can be created (d says so). */
int tsdb_collector_start(struct tsdb_collector *c, struct diag *d);
/* Stops the thread after its current scrape, then marks every series of the last scrape stale
 * and commits, as Prometheus does for a target that goes away: queries after the stop do not
 * see the last values linger. No-op when not started. */
void tsdb_collector_stop(struct tsdb_collector *c);
/* Stops if needed and frees. NULL is a no-op. */
void tsdb_collector_free(struct tsdb_collector *c);

/* One scrape at t_ms (ms since the epoch): what the thread does every interval, for tests and
 * one-shot use while the thread is not running. Walks src (normally the collector's registry)
 * and appends every sample at t_ms, a stale marker for every series the previous scrape had
 * and this one lacks, metadata when new series appeared; then commits and updates the tsdb_*
 * metrics. Series are known by name and labels, not by registry: scraping another registry
 * than last time makes the series it lacks stale. A steady-state scrape (no new series)
 * allocates nothing and looks up no labels. A sample the tsdb refuses (out of order, a label
 * set it finds invalid) is skipped and counted, and the rest still recorded. BW_OK; BW_ENOMEM;
 * BW_EIO when the commit failed (d says why; the samples stay in the head and the next commit
 * retries them). */
int tsdb_collector_scrape(struct tsdb_collector *c, bw_registry *src, int64_t t_ms, struct diag *d);
/* Marks every series of the last scrape stale at t_ms and commits (what stop does). */
int tsdb_collector_end(struct tsdb_collector *c, int64_t t_ms, struct diag *d);

/* ---- the OpenMetrics importer ---- */

struct tsdb_import_options {
    size_t batch_samples; /* samples appended between commits; 0: 100,000 */
};

struct tsdb_import_stats {
    uint64_t lines, samples, series, families;
    int64_t min_time, max_time; /* ms; 0 when no sample */
};

/* Imports an OpenMetrics 1.0 text file with timestamps (what `promtool tsdb create-blocks-from
 * openmetrics` reads) into db. The file is read twice, streaming, in constant memory per
 * series: the first pass validates all of it (syntax, # TYPE/# HELP/# UNIT, suffixes, bucket
 * and count integers, a timestamp on every sample, time order per series, "# EOF" last), the
 * second appends, committing every batch_samples samples, and sets each family's metadata.
 * So a bad file changes nothing: BW_EINVAL with file:line:col and what was wrong in d. A
 * sample at or before the newest sample db already holds for its series is refused by the
 * first pass too, with its position (BW_ERANGE). Timestamps become ms as Prometheus's parser
 * makes them (truncated); label values, le included, are kept as written. BW_ENOENT / BW_EIO
 * when the file cannot be read, BW_EIO when a commit fails (the batches committed before it
 * stay), BW_ENOMEM. stats may be NULL. With db NULL the file is only validated (the first
 * pass, without the check against a tsdb). */
int tsdb_import_openmetrics(struct tsdb *db, const char *path, const struct tsdb_import_options *o,
                            struct tsdb_import_stats *stats, struct diag *d);

#endif
