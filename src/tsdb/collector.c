/* collector: records the metrics registry into the tsdb — every scrape interval, every sample
 * of the registry at one timestamp, as Prometheus would record a scrape of /api/metrics.
 *
 * Main data structure: a series cache, an open-addressing hash table of struct entry keyed by
 * a series' identity as the registry names it (sample name, label names and values). An entry
 * holds the tsdb's ref for the series, its label set for the first append, and the number of
 * the last scrape that saw it, which is how a series that vanished gets its stale marker.
 *
 * The one design decision: the registry's lock is held only while the visit copies (entry,
 * value) pairs into a reused batch; the appends and the commit happen after it is released, so
 * a scrape of /api/metrics never waits on the tsdb. Once every series has an entry, a scrape
 * hashes and compares strings but allocates nothing and hands the tsdb only refs. */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tsdb/tsdb.h"

#define DEFAULT_INTERVAL_MS 1000
#define DEFAULT_MAINTAIN_MS 60000

/* One series as the collector knows it. key holds the identity, NUL-separated (name, then
 * label name and value pairs in the registry's order); ls views the same strings, sorted, with
 * __name__ and without empty values. */
struct entry {
    uint64_t hash;
    uint64_t ref;  /* the tsdb's, 0 until an append succeeded */
    uint64_t seen; /* the last scrape that had the series */
    int refused;   /* the tsdb refused its label set: skipped, and said once */
    size_t nlabels;
    struct labelset ls;
    char key[];
};

/* A sample of the scrape in progress, appended once the registry is unlocked. */
struct pending {
    struct entry *e;
    double v;
};

struct own_metrics {
    bw_gauge *head_series, *head_chunks, *storage_bytes, *min_time, *max_time, *scrape_samples;
    bw_counter *appended, *out_of_order, *append_failures, *commit_failures, *corruptions;
    bw_histogram *duration;
};

struct tsdb_collector {
    struct tsdb *db;
    bw_registry *reg;
    int64_t interval_ms, maintain_ms;

    struct entry **table; /* open addressing on hash; cap a power of two, at most half full */
    size_t cap, n;
    struct entry **all; /* every entry, for the stale sweep */
    size_t all_cap;
    struct pending *batch; /* reused scrape after scrape */
    size_t nbatch, batch_cap;
    uint64_t scrape;   /* the number of the scrape in progress or last done */
    int64_t last_t;    /* the timestamp of the last scrape or stale sweep, ms */
    int new_series;    /* the scrape in progress met series not seen before */
    int oom;           /* the visit could not remember a sample */
    int commit_failed; /* the last commit failed: log the recovery once */
    int64_t last_maintain_ms;
    struct tsdb_stats last; /* for the counters' increments */
    struct own_metrics m;

    pthread_t thread;
    int running;
    int stopping;
    pthread_mutex_t mu; /* stopping */
    pthread_cond_t wake;
};

/* ---- the series cache --------------------------------------------------------------------- */

static uint64_t identity_hash(const char *name, size_t n, const char *const *names,
                              const char *const *values)
{
    uint64_t h = hash_bytes(name, strlen(name) + 1, HASH_SEED);
    for (size_t i = 0; i < n; i++) {
        h = hash_bytes(names[i], strlen(names[i]) + 1, h);
        h = hash_bytes(values[i], strlen(values[i]) + 1, h);
    }
    return h;
}

/* Whether e is the series (name, names, values): its key holds the same strings in order. */
static int entry_is(const struct entry *e, const char *name, size_t n, const char *const *names,
                    const char *const *values)
{
    if (e->nlabels != n)
        return 0;
    const char *k = e->key;
    if (strcmp(k, name) != 0)
        return 0;
    k += strlen(k) + 1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(k, names[i]) != 0)
            return 0;
        k += strlen(k) + 1;
        if (strcmp(k, values[i]) != 0)
            return 0;
        k += strlen(k) + 1;
    }
    return 1;
}

/* A new entry for the series, with its key and its sorted label set in one allocation. NULL
 * when out of memory. */
static struct entry *entry_new(uint64_t h, const char *name, size_t n, const char *const *names,
                               const char *const *values)
{
    size_t keylen = strlen(name) + 1;
    for (size_t i = 0; i < n; i++)
        keylen += strlen(names[i]) + 1 + strlen(values[i]) + 1;
    size_t labels_at = (sizeof(struct entry) + keylen + 15) & ~(size_t)15;
    struct entry *e = calloc(1, labels_at + (n + 1) * sizeof(struct label));
    if (!e)
        return NULL;
    e->hash = h;
    e->nlabels = n;
    /* ls.v: n + 1 slots (the labels and __name__) in the same allocation */
    struct label *lv = (struct label *)(void *)((char *)e + labels_at);
    char *k = e->key;
    size_t len = strlen(name) + 1;
    memcpy(k, name, len);
    lv[e->ls.n++] = (struct label){LABEL_NAME, k};
    k += len;
    for (size_t i = 0; i < n; i++) {
        const char *ln = k;
        len = strlen(names[i]) + 1;
        memcpy(k, names[i], len);
        k += len;
        len = strlen(values[i]) + 1;
        memcpy(k, values[i], len);
        if (len > 1) /* a label with an empty value does not exist */
            lv[e->ls.n++] = (struct label){ln, k};
        k += len;
    }
    labels_sort(lv, e->ls.n);
    e->ls.v = lv;
    return e;
}

static void table_put(struct entry **table, size_t cap, struct entry *e)
{
    size_t i = e->hash & (cap - 1);
    while (table[i])
        i = (i + 1) & (cap - 1);
    table[i] = e;
}

/* Makes room for one more entry in the table and in `all`. BW_OK or BW_ENOMEM. */
static int cache_reserve(struct tsdb_collector *c)
{
    if (c->n == c->all_cap) {
        size_t ncap = c->all_cap ? 2 * c->all_cap : 256;
        struct entry **p = realloc(c->all, ncap * sizeof(*p));
        if (!p)
            return BW_ENOMEM;
        c->all = p;
        c->all_cap = ncap;
    }
    if (2 * (c->n + 1) > c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 512;
        struct entry **t = calloc(ncap, sizeof(*t));
        if (!t)
            return BW_ENOMEM;
        for (size_t i = 0; i < c->n; i++)
            table_put(t, ncap, c->all[i]);
        free(c->table);
        c->table = t;
        c->cap = ncap;
    }
    return BW_OK;
}

/* The entry of a series, created on first sight. NULL when out of memory. */
static struct entry *cache_get(struct tsdb_collector *c, const char *name, size_t n,
                               const char *const *names, const char *const *values)
{
    uint64_t h = identity_hash(name, n, names, values);
    for (size_t i = c->cap ? h & (c->cap - 1) : 0; c->cap && c->table[i];
         i = (i + 1) & (c->cap - 1)) {
        struct entry *e = c->table[i];
        if (e->hash == h && entry_is(e, name, n, names, values))
            return e;
    }
    if (cache_reserve(c) != BW_OK)
        return NULL;
    struct entry *e = entry_new(h, name, n, names, values);
    if (!e)
        return NULL;
    table_put(c->table, c->cap, e);
    c->all[c->n++] = e;
    c->new_series = 1;
    return e;
}

/* ---- one scrape --------------------------------------------------------------------------- */

/* bw_sample_fn: runs with the registry locked, so it only notes the sample. */
static void on_sample(void *ud, const char *name, size_t n, const char *const *names,
                      const char *const *values, double v)
{
    struct tsdb_collector *c = ud;
    if (c->nbatch == c->batch_cap) {
        size_t ncap = c->batch_cap ? 2 * c->batch_cap : 1024;
        struct pending *p = realloc(c->batch, ncap * sizeof(*p));
        if (!p) {
            c->oom = 1;
            return;
        }
        c->batch = p;
        c->batch_cap = ncap;
    }
    struct entry *e = cache_get(c, name, n, names, values);
    if (!e) {
        c->oom = 1;
        return;
    }
    c->batch[c->nbatch++] = (struct pending){e, v};
}

static const char *const type_names[] = {"counter", "gauge", "histogram"};

static void on_family(void *ud, const char *family, enum bw_type type, const char *help)
{
    struct tsdb_collector *c = ud;
    if (tsdb_metadata_set(c->db, family, type_names[type], help, "") != BW_OK)
        c->oom = 1;
}

/* Appends one sample of e; a refused label set is said once and the series skipped from then
 * on. Returns BW_OK, or BW_ENOMEM which the scrape reports. */
static int append(struct tsdb_collector *c, struct entry *e, int64_t t_ms, double v)
{
    if (e->refused)
        return BW_OK;
    int rc = tsdb_append(c->db, &e->ls, t_ms, v, &e->ref);
    if (rc == BW_OK || rc == BW_ERANGE) /* out of order: the tsdb counts it */
        return BW_OK;
    bw_counter_inc(c->m.append_failures);
    if (rc == BW_EINVAL) {
        struct buf b;
        buf_init(&b, 1024);
        labelset_format(&e->ls, &b);
        log_warn("collector: the tsdb refuses the series %s; not recording it",
                 b.data ? b.data : e->key);
        buf_fini(&b);
        e->refused = 1;
        return BW_OK;
    }
    return rc;
}

/* Publishes the tsdb's figures as the collector's own metrics. */
static void update_own(struct tsdb_collector *c)
{
    struct tsdb_stats s;
    tsdb_stats_get(c->db, &s);
    bw_gauge_set(c->m.head_series, (double)s.series);
    bw_gauge_set(c->m.head_chunks, (double)s.head_chunks);
    bw_gauge_set(c->m.storage_bytes, (double)s.bytes_on_disk);
    bw_gauge_set(c->m.min_time, (double)s.min_time / 1000.0);
    bw_gauge_set(c->m.max_time, (double)s.max_time / 1000.0);
    if (s.samples_appended > c->last.samples_appended)
        bw_counter_add(c->m.appended, (double)(s.samples_appended - c->last.samples_appended));
    if (s.out_of_order > c->last.out_of_order)
        bw_counter_add(c->m.out_of_order, (double)(s.out_of_order - c->last.out_of_order));
    c->last = s;
}

/* Commits, counting a failure and logging only when the state changes (a failing disk would
 * otherwise log every second). */
static int commit(struct tsdb_collector *c, struct diag *d)
{
    int rc = tsdb_commit(c->db, d);
    if (rc != BW_OK) {
        bw_counter_inc(c->m.commit_failures);
        if (!c->commit_failed) {
            char msg[sizeof(d->msg) + 64];
            diag_format(d, msg, sizeof(msg));
            log_warn("collector: commit failed, retrying every scrape: %s", msg);
        }
    } else if (c->commit_failed) {
        log_info("collector: commits succeed again");
    }
    c->commit_failed = rc != BW_OK;
    return rc;
}

int tsdb_collector_scrape(struct tsdb_collector *c, bw_registry *src, int64_t t_ms, struct diag *d)
{
    int64_t t0 = clock_mono_ns();
    int rc = BW_OK;
    c->scrape++;
    c->last_t = t_ms;
    c->nbatch = 0;
    c->new_series = 0;
    c->oom = 0;
    bw_registry_visit(src, on_sample, c);
    tsdb_write_lock(c->db);
    for (size_t i = 0; i < c->nbatch; i++) {
        struct entry *e = c->batch[i].e;
        e->seen = c->scrape;
        int arc = append(c, e, t_ms, c->batch[i].v);
        rc = rc ? rc : arc;
    }
    for (size_t i = 0; i < c->n; i++) {
        struct entry *e = c->all[i];
        if (e->seen == c->scrape - 1 && e->ref) {
            int arc = append(c, e, t_ms, tsdb_stale_nan());
            rc = rc ? rc : arc;
        }
    }
    if (c->new_series)
        bw_registry_visit_families(src, on_family, c);
    bw_gauge_set(c->m.scrape_samples, (double)c->nbatch);
    if (c->oom && rc == BW_OK)
        rc = BW_ENOMEM;
    if (rc != BW_OK)
        diag_set(d, rc, "collector: %s while recording a scrape", bw_strerror(rc));
    int crc = commit(c, d);
    rc = rc ? rc : crc;
    if (t_ms - c->last_maintain_ms >= c->maintain_ms) {
        struct diag md = {0};
        if (tsdb_maintain(c->db, t_ms, &md) != BW_OK)
            log_warn("collector: retention: %s", md.msg);
        c->last_maintain_ms = t_ms;
    }
    tsdb_write_unlock(c->db);
    update_own(c);
    bw_histogram_observe(c->m.duration, (double)(clock_mono_ns() - t0) / 1e9);
    return rc;
}

int tsdb_collector_end(struct tsdb_collector *c, int64_t t_ms, struct diag *d)
{
    int rc = BW_OK;
    c->last_t = t_ms;
    tsdb_write_lock(c->db);
    for (size_t i = 0; i < c->n; i++) {
        struct entry *e = c->all[i];
        if (e->seen == c->scrape && e->ref) {
            int arc = append(c, e, t_ms, tsdb_stale_nan());
            rc = rc ? rc : arc;
        }
    }
    c->scrape++; /* nothing is current any more */
    if (rc != BW_OK)
        diag_set(d, rc, "collector: %s while marking series stale", bw_strerror(rc));
    int crc = commit(c, d);
    tsdb_write_unlock(c->db);
    return rc ? rc : crc;
}

/* ---- the thread --------------------------------------------------------------------------- */

/* The wall-clock time for the next scrape, in ms; never at or before the last one, so a stop
 * in the same millisecond as a scrape or a clock stepped back still records. */
static int64_t scrape_time(const struct tsdb_collector *c)
{
    int64_t now = clock_real_ns() / 1000000;
    return now > c->last_t ? now : c->last_t + 1;
}

static void *collector_main(void *arg)
{
    struct tsdb_collector *c = arg;
    int64_t next = clock_mono_ns(); /* the condition variable waits on CLOCK_MONOTONIC too */
    int failing = 0;
    pthread_mutex_lock(&c->mu);
    while (!c->stopping) {
        pthread_mutex_unlock(&c->mu);
        struct diag d = {0};
        int rc = tsdb_collector_scrape(c, c->reg, scrape_time(c), &d);
        if (rc != BW_OK && rc != BW_EIO && !failing) /* commit failures are logged by commit */
            log_warn("%s", d.msg);
        failing = rc != BW_OK;
        pthread_mutex_lock(&c->mu);
        int64_t now = clock_mono_ns();
        next += c->interval_ms * 1000000;
        if (next <= now) /* a slow scrape: skip the ticks it overran */
            next += ((now - next) / (c->interval_ms * 1000000) + 1) * c->interval_ms * 1000000;
        struct timespec until = {(time_t)(next / 1000000000), (long)(next % 1000000000)};
        while (!c->stopping && pthread_cond_timedwait(&c->wake, &c->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int tsdb_collector_start(struct tsdb_collector *c, struct diag *d)
{
    if (c->running)
        return BW_OK;
    c->stopping = 0;
    if (pthread_create(&c->thread, NULL, collector_main, c) != 0)
        return diag_set(d, BW_ENOMEM, "collector: cannot start its thread");
    c->running = 1;
    return BW_OK;
}

void tsdb_collector_stop(struct tsdb_collector *c)
{
    if (!c || !c->running)
        return;
    pthread_mutex_lock(&c->mu);
    c->stopping = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->running = 0;
    struct diag d = {0};
    if (tsdb_collector_end(c, scrape_time(c), &d) != BW_OK)
        log_warn("collector: could not mark the series stale at shutdown: %s", d.msg);
}

/* ---- life cycle --------------------------------------------------------------------------- */

static int own_metrics_register(struct tsdb_collector *c, bw_registry *r)
{
    static const double bounds[] = {1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                                    0.01, 0.025,  0.05, 0.1,  0.25,   1};
    struct own_metrics *m = &c->m;
    int rc = bw_gauge_new(r, "tsdb_head_series", "Series in the tsdb's index.", &m->head_series);
    if (rc == BW_OK)
        rc = bw_gauge_new(r, "tsdb_head_chunks", "Chunks the tsdb holds in memory.",
                          &m->head_chunks);
    if (rc == BW_OK)
        rc = bw_gauge_new(r, "tsdb_storage_bytes",
                          "Bytes of persisted chunks and write-ahead records.", &m->storage_bytes);
    if (rc == BW_OK)
        rc = bw_gauge_new(r, "tsdb_lowest_timestamp_seconds",
                          "Time of the oldest sample in the tsdb.", &m->min_time);
    if (rc == BW_OK)
        rc = bw_gauge_new(r, "tsdb_highest_timestamp_seconds",
                          "Time of the newest sample in the tsdb.", &m->max_time);
    if (rc == BW_OK)
        rc = bw_gauge_new(r, "tsdb_scrape_samples", "Samples the last scrape recorded.",
                          &m->scrape_samples);
    if (rc == BW_OK)
        rc = bw_counter_new(r, "tsdb_samples_appended_total", "Samples appended to the tsdb.",
                            &m->appended);
    if (rc == BW_OK)
        rc = bw_counter_new(r, "tsdb_out_of_order_samples_total",
                            "Samples refused for being at or before their series' newest.",
                            &m->out_of_order);
    if (rc == BW_OK)
        rc = bw_counter_new(r, "tsdb_append_failures_total",
                            "Samples the collector could not append for another reason.",
                            &m->append_failures);
    if (rc == BW_OK)
        rc = bw_counter_new(r, "tsdb_commit_failures_total",
                            "Commits that failed (retried with the next scrape).",
                            &m->commit_failures);
    if (rc == BW_OK)
        rc = bw_counter_new(r, "tsdb_wal_corruptions_total",
                            "Write-ahead records found damaged and skipped when the tsdb opened.",
                            &m->corruptions);
    if (rc == BW_OK)
        rc = bw_histogram_new(r, "tsdb_scrape_duration_seconds",
                              "Time to record one scrape of the registry, commit included.", bounds,
                              BW_ARRAY_LEN(bounds), &m->duration);
    return rc;
}

int tsdb_collector_new(struct tsdb *db, bw_registry *reg, const struct tsdb_collector_options *o,
                       struct tsdb_collector **out)
{
    int rc = BW_ENOMEM, have_mu = 0, have_cond = 0;
    pthread_condattr_t ca;
    *out = NULL;
    struct tsdb_collector *c = calloc(1, sizeof(*c));
    if (!c)
        return BW_ENOMEM;
    c->db = db;
    c->reg = reg;
    c->interval_ms = o && o->interval_ms > 0 ? o->interval_ms : DEFAULT_INTERVAL_MS;
    c->maintain_ms = o && o->maintain_ms > 0 ? o->maintain_ms : DEFAULT_MAINTAIN_MS;
    c->last_maintain_ms = INT64_MIN / 2; /* maintain with the first scrape */
    have_mu = pthread_mutex_init(&c->mu, NULL) == 0;
    if (have_mu && pthread_condattr_init(&ca) == 0) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        have_cond = pthread_cond_init(&c->wake, &ca) == 0;
        pthread_condattr_destroy(&ca);
    }
    if (!have_cond)
        goto err;
    rc = own_metrics_register(c, reg);
    if (rc != BW_OK)
        goto err;
    tsdb_stats_get(db, &c->last);
    bw_counter_add(c->m.corruptions, (double)c->last.corrupt_records);
    update_own(c);
    *out = c;
    return BW_OK;
err:
    if (have_cond)
        pthread_cond_destroy(&c->wake);
    if (have_mu)
        pthread_mutex_destroy(&c->mu);
    free(c);
    return rc;
}

void tsdb_collector_free(struct tsdb_collector *c)
{
    if (!c)
        return;
    tsdb_collector_stop(c);
    for (size_t i = 0; i < c->n; i++)
        free(c->all[i]);
    free(c->all);
    free(c->table);
    free(c->batch);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
