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

#define BW_OK     0
#define BW_ENOMEM (-12) /* out of memory */
#define BW_EINVAL (-22) /* bad argument: name, label, bucket layout, value */
#define BW_EEXIST (-17) /* a family of that name exists with another type or labels */
#define BW_ENOENT (-2)  /* no such thing */
#define BW_ENOSPC (-28) /* a fixed capacity (cells, buffer cap) is exhausted */
#define BW_EIO    (-5)  /* I/O or storage failure */
#define BW_ERANGE (-34) /* value out of range */
#define BW_EBUSY  (-16) /* resource in use (address, lock) */
#define BW_EACCES (-13) /* permission denied */

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
 * counter takes 1, a histogram with n bounds n+2). Each thread that updates it gets a private
 * copy of the cells, 16 bytes per cell, on its first update. Returns NULL when out of memory. */
bw_registry *bw_registry_new(size_t cells);
void bw_registry_free(bw_registry *r);

/* Declares a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 * [a-zA-Z_][a-zA-Z0-9_]* without a leading "__", distinct, at most BW_MAX_LABELS, and without
 * "le" on histograms. help is required (non-empty UTF-8). Declaring the same family twice with
 * the same type and labels (and bounds) returns the existing one; with a different type,
 * labels or bounds, BW_EEXIST, as when its samples would share a name with another family's
 * (counters "x" and "x_total", gauge "x_sum" beside histogram "x"). Counters are exposed under
 * their declared name in text 0.0.4; in OpenMetrics the family is the name without "_total"
 * and the samples end in "_total". BW_OK, BW_EINVAL, BW_EEXIST or BW_ENOMEM; *out is set on
 * success. */
int bw_counter_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                      const char *const *labels, bw_family **out);
int bw_gauge_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                    const char *const *labels, bw_family **out);
/* bounds: at most BW_MAX_BUCKETS strictly increasing finite upper bounds (+Inf is implicit; a
 * trailing +Inf is accepted and dropped), or NULL with nbounds 0 for the default set, which
 * spans 1 microsecond to 10 seconds. */
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
 * ignored. bw_counter_inc, an integer add, is cheaper than bw_counter_add, a float add. */
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
 * it to refresh gauges computed on demand (the process collector is one). Hooks run one scrape
 * at a time, in registration order; a hook may declare and resolve but must not add hooks.
 * BW_OK, BW_EINVAL or BW_ENOMEM. */
typedef void (*bw_collect_fn)(bw_registry *r, void *ud);
int bw_registry_on_collect(bw_registry *r, bw_collect_fn fn, void *ud);

/* Exposition formats and content negotiation. */
enum bw_format { BW_FORMAT_TEXT, BW_FORMAT_OPENMETRICS };
/* Picks the format for an HTTP Accept header (NULL: text 0.0.4) following Prometheus's rules
 * (q-values, openmetrics 1.0.0 / 0.0.1, text 0.0.4, wildcards); returns the Content-Type to
 * send in *content_type (static string). */
enum bw_format bw_format_negotiate(const char *accept, const char **content_type);

/* Renders the registry into *buf (grown with realloc; *cap tracks its size; the caller frees
 * it and should reuse it across scrapes). Sets *len to the bytes written, NUL not counted (the
 * text is NUL-terminated). Families appear sorted by name, series by label values. Histogram
 * `le` values use the OpenMetrics canonical form ("0.005", "1.0", "+Inf") in both formats.
 * BW_OK, BW_ENOMEM, or BW_EINVAL for a bad argument. */
int bw_registry_expose(bw_registry *r, enum bw_format fmt, char **buf, size_t *cap, size_t *len);

/* Whether an HTTP Accept-Encoding header (NULL: absent) allows gzip: gzip or x-gzip with q > 0,
 * or else * with q > 0. Returns 1 or 0. */
int bw_accepts_gzip(const char *accept_encoding);

/* Compresses in[0..n) into a gzip stream (RFC 1952) in *buf, grown with realloc like
 * bw_registry_expose's (the caller frees it and may reuse it); sets *len. Thread-safe.
 * BW_OK, BW_ENOMEM, BW_EINVAL, or BW_ERANGE when n is above 2 GiB. */
int bw_gzip(const char *in, size_t n, char **buf, size_t *cap, size_t *len);

/* Walks every sample as exposed in text 0.0.4 (histograms as _bucket/_sum/_count), with the
 * label pairs of the series (le included for buckets, in its canonical text). For collectors
 * that record history. Runs the collect hooks first; fn is called with the registry locked, so
 * it must not declare or resolve. The strings are valid during the call only. */
typedef void (*bw_sample_fn)(void *ud, const char *name, size_t nlabels,
                             const char *const *label_names, const char *const *label_values,
                             double value);
void bw_registry_visit(bw_registry *r, bw_sample_fn fn, void *ud);

/* Walks every family, sorted by declared name, with the metadata a collector records beside
 * the samples: the OpenMetrics family name (a counter's without "_total", as Prometheus files
 * metadata when it scrapes OpenMetrics), the type and the help text as declared. Runs no
 * collect hooks; fn is called with the registry locked, so it must not declare or resolve.
 * The strings are valid during the call only. */
typedef void (*bw_family_fn)(void *ud, const char *family, enum bw_type type, const char *help);
void bw_registry_visit_families(bw_registry *r, bw_family_fn fn, void *ud);

/* Registers the process collector: process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds, process_start_time_seconds,
 * process_threads, and process_cpu_usage (percent of one core since the previous collection)
 * and process_memory_percent (resident memory as a percent of physical memory). Linux only
 * (reads /proc). BW_OK; BW_EEXIST when already registered on r or a name is taken by another
 * family; BW_EIO when /proc cannot be read; BW_ENOMEM, BW_ENOSPC. */
int bw_process_collector_register(bw_registry *r);

#ifdef __cplusplus
}
#endif
#endif
