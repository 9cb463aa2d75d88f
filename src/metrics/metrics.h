/* metrics: the structures shared by registry.c (families, series, hot path), expose.c
 * (rendering, negotiation, gzip) and process.c (the process collector). Not included from
 * outside src/metrics/ except by the module's own unit tests. */
#ifndef BW_METRICS_INTERNAL_H
#define BW_METRICS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "breakwatch/metrics.h"

/* Bucket search: a linear scan up to this many bounds, the binade table beyond. */
#define METRICS_LINEAR_MAX 8
#define METRICS_BINADES    4096 /* sign and exponent: the top 12 bits of a double */

/* A cell of a shard: a count of events, or a running float total. A cell is only ever used
 * as one of the two, so no value is read through the other member. */
union metrics_cell {
    _Atomic uint64_t n;
    _Atomic double x;
};

/* Handles. Counters and histograms name cells in the registry's shards; a gauge is its value. */
struct bw_counter {
    bw_registry *r;
    uint32_t cell; /* a count (bw_counter_inc); cell + r->cells is a total (bw_counter_add) */
};

struct bw_histogram {
    bw_registry *r;
    const int64_t *keys;  /* the family's: nbounds bounds as order keys, then span +Inf */
    const uint8_t *start; /* the family's binade table (more than 8 bounds), see registry.c */
    size_t sum;           /* the float sum: cells + cell, the upper half of the first count */
    uint32_t cell;        /* nbounds + 1 per-bucket counts (not cumulative) */
    uint32_t nbounds;
    uint32_t span; /* the most bounds that share a binade */
};

struct bw_gauge {
    _Atomic double value;
};

struct metrics_str {
    char *s;
    size_t len;
};

/* The canonical text of one histogram bound: fmt_double(v, 1), "+Inf" for the last. */
struct metrics_le {
    char s[32];
    size_t len;
};

/* One label set of a family. Its sample lines are rendered once, at resolve time, up to the
 * value ("name{a=\"x\",le=\"0.005\"} "), so exposition only copies them and formats a number.
 * Label escaping is the same in text 0.0.4 and OpenMetrics, and `le` uses one canonical form
 * in both (see registry.c), so only counter names differ between the formats. */
struct metrics_series {
    union {
        struct bw_counter counter;
        struct bw_gauge gauge;
        struct bw_histogram hist;
    } h;
    uint64_t hash;                     /* of the label values, for the family's index */
    const char *values[BW_MAX_LABELS]; /* point into text */
    char *text;                        /* owns the values and the prefixes */
    /* Counters and gauges: the line prefix per enum bw_format. Histograms: one per bucket
     * (nbounds + 1), then _sum, then _count, the same in both formats. */
    struct metrics_str prefix[];
};

/* Sample and descriptor names of a family, each owned (NULL when the type has none). */
enum metrics_name {
    NAME_DECLARED,  /* as declared; the 0.0.4 descriptor name */
    NAME_OM_FAMILY, /* the OpenMetrics descriptor name: a counter's without "_total" */
    NAME_TEXT,      /* counter and gauge sample name in text 0.0.4 */
    NAME_OM,        /* counter and gauge sample name in OpenMetrics (counters end in _total) */
    NAME_BUCKET,    /* histogram sample names */
    NAME_SUM,
    NAME_COUNT,
    NAME_KINDS
};

struct bw_family {
    bw_registry *r;
    enum bw_type type;
    struct metrics_str names[NAME_KINDS];
    struct metrics_str header[2]; /* HELP and TYPE lines, indexed by enum bw_format */
    char *help;                   /* as declared, unescaped (bw_registry_visit_families) */
    size_t nlabels;
    const char *label_names[BW_MAX_LABELS + 1]; /* owned; histograms add a static "le" */
    int64_t *keys; /* histograms: nbounds, then span +Inf (see struct bw_histogram) */
    size_t nbounds;
    uint8_t *start; /* METRICS_BINADES entries when nbounds > 8, else NULL */
    uint32_t span;
    struct metrics_le *le;          /* nbounds + 1 entries */
    int negative_bounds;            /* OpenMetrics then omits _sum and _count */
    struct metrics_series **series; /* sorted by label values */
    size_t nseries, series_cap;
    struct metrics_series **index; /* open addressing on hash, index_cap a power of two */
    size_t index_cap;
};

struct metrics_hook {
    bw_collect_fn fn;
    void *ud;
    void (*fini)(void *ud);
};

struct bw_registry {
    uint64_t serial; /* unique in the process: names it in a thread's shard cache (registry.c) */
    /* Per writer slot, the shard only the slot's owner writes (2 * cells cells, see
     * registry.c), allocated on its first update here. */
    _Atomic(union metrics_cell *) own[BW_MAX_WRITERS];
    _Atomic unsigned nown;      /* own[] entries at or above this are NULL */
    union metrics_cell *shared; /* for threads without a slot: atomic read-modify-writes */
    size_t cells;

    pthread_mutex_t mu; /* families, series, next_cell, the totals */
    size_t next_cell;
    /* A scrape's sums over all shards (metrics_registry_sum): per cell below next_cell, the
     * count and the float total `cells` further on. Grown as series are resolved, so that a
     * scrape allocates nothing. */
    uint64_t *total_n;
    double *total_x;
    size_t totals_cap;
    bw_family **families; /* sorted by declared name */
    size_t nfamilies, families_cap;

    pthread_mutex_t collect_mu; /* hooks, and running them one scrape at a time */
    struct metrics_hook *hooks;
    size_t nhooks, hooks_cap;
};

/* Sums every shard into total_n and total_x, one shard after another: a scrape reads each
 * shard once, sequentially, instead of gathering each cell from every shard. The caller holds
 * mu. */
void metrics_registry_sum(bw_registry *r);

/* Runs the collect hooks in registration order. Takes collect_mu (not mu). */
void metrics_run_hooks(bw_registry *r);

/* Adds a collect hook. fini (may be NULL) is called with ud by bw_registry_free. With unique
 * set, fails with BW_EEXIST if a hook with the same fn is already registered. BW_OK, BW_ENOMEM
 * or BW_EEXIST; on failure fini is not called. A hook must not add hooks (deadlock). */
int metrics_registry_hook(bw_registry *r, bw_collect_fn fn, void *ud, void (*fini)(void *ud),
                          int unique);

/* Makes the counter's total v when v is above it (counters stay monotonic). For collectors that
 * read a cumulative figure from outside, such as CPU time; not for concurrent writers. */
void metrics_counter_set(bw_counter *c, double v);

/* The number of per-thread shards the registry has allocated (test seam: slot reuse keeps it
 * small however many threads have come and gone). */
size_t metrics_registry_shards(const bw_registry *r);

#endif
