/* breakwatch/metrics.h — lock-free Prometheus instrumentation for C and C++ engines.
 *
 * A registry holds metric families (counter, gauge, histogram). A family with label names is
 * resolved once per label set into a handle; the handle is what the hot path uses. Updating a
 * counter or histogram through a handle takes no lock, allocates nothing and formats nothing:
 * each writer thread owns a private shard of cells and adds to it with plain (relaxed atomic)
 * stores; a scrape sums the shards. Gauges are a single atomic value (set is a store).
 *
 * Exposition renders the registry in Prometheus text 0.0.4 or OpenMetrics 1.0 into a buffer
 * the caller owns and reuses.
 *
 * Errors: functions that can fail return BW_OK (0) or a negative BW_E* code. Handles are owned
 * by their registry and stay valid until bw_registry_free.
 */
#ifndef BREAKWATCH_METRICS_H
#define BREAKWATCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BW_OK      0
#define BW_ENOMEM  (-12) /* out of memory */
#define BW_EINVAL  (-22) /* bad argument: name, label, bucket layout, value */
#define BW_EEXIST  (-17) /* a family of that name exists with another type or labels */
#define BW_ENOENT  (-2)  /* no such thing */
#define BW_ENOSPC  (-28) /* a fixed capacity (cells, buffer cap) is exhausted */
#define BW_EIO     (-5)  /* I/O or storage failure */
#define BW_ERANGE  (-34) /* value out of range */
#define BW_EBUSY   (-16) /* resource in use (address, lock) */
#define BW_EACCES  (-13) /* permission denied */

/* Returns a static description of a BW_E* code. */
const char *bw_strerror(int code);

typedef struct bw_registry bw_registry;
typedef struct bw_family bw_family;
typedef struct bw_counter bw_counter;
typedef struct bw_gauge bw_gauge;
typedef struct bw_histogram bw_histogram;

enum bw_type { BW_COUNTER, BW_GAUGE, BW_HISTOGRAM };

/* Limits. More than BW_MAX_WRITERS threads may write; the extra ones share one atomic shard. */
#define BW_MAX_LABELS  8
#define BW_MAX_BUCKETS 64
#define BW_MAX_WRITERS 64

/* A new registry able to hold `cells` counter/histogram cells (0: a default of 65536; a
 * counter takes 1, a histogram with n bounds n+2). Returns NULL when out of memory. */
bw_registry *bw_registry_new(size_t cells);
void bw_registry_free(bw_registry *r);

/* Declares a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* without a leading "__" and without "le" on histograms. help is
 * required. Declaring the same family twice with the same type and labels returns the
 * existing one; with a different type or labels, BW_EEXIST. */
int bw_counter_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                      const char *const *labels, bw_family **out);
int bw_gauge_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                    const char *const *labels, bw_family **out);
/* bounds: strictly increasing finite upper bounds (+Inf is implicit), or NULL for the default
 * set, which spans 1 microsecond to 10 seconds. */
int bw_histogram_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                        const char *const *labels, const double *bounds, size_t nbounds,
                        bw_family **out);

/* The default histogram bounds, in seconds. */
extern const double bw_default_buckets[];
extern const size_t bw_default_buckets_len;

/* Resolves a label set (one value per label name, in order; NULL when the family has no
 * labels) into a handle, creating the series on first use. Takes a lock: do it once, outside
 * the hot path. BW_EINVAL for a type mismatch or a value that is not valid UTF-8, BW_ENOSPC
 * when the registry's cells are used up. */
int bw_counter_resolve(bw_family *f, const char *const *values, bw_counter **out);
int bw_gauge_resolve(bw_family *f, const char *const *values, bw_gauge **out);
int bw_histogram_resolve(bw_family *f, const char *const *values, bw_histogram **out);

/* Shorthands: declare an unlabelled family and resolve its one series. */
int bw_counter_new(bw_registry *r, const char *name, const char *help, bw_counter **out);
int bw_gauge_new(bw_registry *r, const char *name, const char *help, bw_gauge **out);
int bw_histogram_new(bw_registry *r, const char *name, const char *help, const double *bounds,
                     size_t nbounds, bw_histogram **out);

/* The hot path. Lock-free, allocation-free. A counter only goes up: a negative or NaN v is
 * ignored. */
void bw_counter_inc(bw_counter *c);
void bw_counter_add(bw_counter *c, double v);
void bw_gauge_set(bw_gauge *g, double v);
void bw_gauge_add(bw_gauge *g, double v);
void bw_histogram_observe(bw_histogram *h, double v);

/* Reads (sum over all writer shards). */
double bw_counter_value(const bw_counter *c);
double bw_gauge_value(const bw_gauge *g);
/* Fills cumulative bucket counts (nbounds + 1 entries, the last one +Inf) when buckets is not
 * NULL, and the count and sum. Returns the number of buckets including +Inf. */
size_t bw_histogram_read(const bw_histogram *h, uint64_t *buckets, uint64_t *count, double *sum);

/* A collect hook runs at the start of every exposition and visit, before values are read; use
 * it to refresh gauges computed on demand (the process collector is one). */
typedef void (*bw_collect_fn)(bw_registry *r, void *ud);
int bw_registry_on_collect(bw_registry *r, bw_collect_fn fn, void *ud);

/* Exposition formats and content negotiation. */
enum bw_format { BW_FORMAT_TEXT, BW_FORMAT_OPENMETRICS };
/* Picks the format for an HTTP Accept header (NULL: text 0.0.4) following Prometheus's rules
 * (q-values, openmetrics 1.0.0 / 0.0.1, text 0.0.4, wildcards); returns the Content-Type to
 * send in *content_type (static string). */
enum bw_format bw_format_negotiate(const char *accept, const char **content_type);

/* Renders the registry into *buf (grown with realloc; *cap tracks its size; the caller frees
 * it and should reuse it across scrapes). Sets *len to the bytes written, NUL not counted.
 * Families appear sorted by name, series by label values. BW_OK or BW_ENOMEM. */
int bw_registry_expose(bw_registry *r, enum bw_format fmt, char **buf, size_t *cap, size_t *len);

/* Walks every sample as exposed in text 0.0.4 (histograms as _bucket/_sum/_count), with the
 * label pairs of the series (le included for buckets). For collectors that record history. */
typedef void (*bw_sample_fn)(void *ud, const char *name, size_t nlabels,
                             const char *const *label_names, const char *const *label_values,
                             double value);
void bw_registry_visit(bw_registry *r, bw_sample_fn fn, void *ud);

/* Registers the process collector: process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds,
 * process_threads, and process_cpu_usage (percent of one core since the previous collection)
 * and process_memory_percent (resident memory as a percent of physical memory). */
int bw_process_collector_register(bw_registry *r);

#ifdef __cplusplus
}
#endif
#endif
