/* bench_tsdb: what the tsdb costs — bytes per sample on disk for a scrape-like mix of counters
 * and gauges at a 1 s interval with timestamp jitter, the ingest rate through tsdb_append with
 * a ref and a commit per scrape (in memory and into the store), and head memory per active
 * series. As with the collector, the jitter is between scrapes: every series of a scrape gets
 * the scrape's timestamp (and the OpenMetrics file for Prometheus holds the same samples).
 *
 * Usage: bench_tsdb [SCALE [OPENMETRICS_FILE]]. With a file name it also writes the disk
 * benchmark's samples there as OpenMetrics with timestamps, for bench/run.sh to hand to
 * `promtool tsdb create-blocks-from openmetrics` and compare Prometheus's block size. Prints
 * "key value" lines (and '#' lines for context). */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"
#include "tsdb/tsdb.h"

static double scale = 1;

/* xorshift64*: the same data on every run. */
static uint64_t rng = 88172645463325252ULL;
static uint64_t next_rand(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}

static double uniform(void)
{
    return (double)(next_rand() >> 11) / 9007199254740992.0;
}

/* ---- the workload ----
 * Kinds, in the proportions of breakwatch's own /api/metrics: idle counters (error counts
 * that rarely move), busy counters (requests, cycles, histogram buckets), integral gauges that
 * change now and then (positions, states, open fds), byte gauges (memory) and float gauges
 * (equity with cents, CPU percent). */
enum kind { IDLE_COUNTER, BUSY_COUNTER, INT_GAUGE, BYTES_GAUGE, FLOAT_GAUGE, NKINDS };
static const char *const kind_names[] = {"idle_total", "busy_total", "state", "memory_bytes",
                                         "equity"};
static const double kind_share[] = {0.30, 0.35, 0.15, 0.10, 0.10};

struct series {
    enum kind kind;
    char name[32], inst[16];
    struct label lv[2];
    struct labelset ls;
    uint64_t ref;
    double v, rate;
};

static void series_init(struct series *s, size_t i, size_t n)
{
    double x = (double)i / (double)n, acc = 0;
    s->kind = NKINDS - 1;
    for (int k = 0; k < NKINDS; k++) {
        acc += kind_share[k];
        if (x < acc) {
            s->kind = (enum kind)k;
            break;
        }
    }
    snprintf(s->name, sizeof(s->name), "bench_%s", kind_names[s->kind]);
    snprintf(s->inst, sizeof(s->inst), "%zu", i);
    s->lv[0] = (struct label){"__name__", s->name};
    s->lv[1] = (struct label){"i", s->inst};
    s->ls = (struct labelset){s->lv, 2};
    s->ref = 0;
    s->rate = 1 + (double)(next_rand() % 50);
    s->v = s->kind == BYTES_GAUGE ? 50e6 : s->kind == FLOAT_GAUGE ? 10000 : 0;
}

static double series_next(struct series *s)
{
    switch (s->kind) {
    case IDLE_COUNTER:
        s->v += uniform() < 0.01;
        break;
    case BUSY_COUNTER:
        s->v += floor(s->rate * (0.5 + uniform())); /* a rate with noise */
        break;
    case INT_GAUGE:
        if (uniform() < 0.05)
            s->v = (double)(next_rand() % 5);
        break;
    case BYTES_GAUGE:
        if (uniform() < 0.2)
            s->v += 4096.0 * (double)((int)(next_rand() % 64) - 32);
        break;
    default:
        if (uniform() < 0.5)
            s->v = round((s->v + (uniform() - 0.5) * 10) * 100) / 100;
        break;
    }
    return s->v;
}

/* The scrape timestamps: 1 s apart with 0..4 ms of jitter. */
static int64_t scrape_time(size_t k)
{
    return 1700000000000LL + (int64_t)k * 1000 + (int64_t)(next_rand() % 5);
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* ---- bytes per sample ---- */

static void bench_disk(const char *om_path)
{
    size_t nseries = 200, nscrapes = (size_t)(3 * 3600 * scale);
    struct series *ss = calloc(nseries, sizeof(*ss));
    int64_t *times = malloc(nscrapes * sizeof(*times));
    double *vals = malloc(nscrapes * nseries * sizeof(*vals));
    char dir[] = "/tmp/bw-bench-tsdb-XXXXXX";
    struct store *st;
    struct tsdb *db;
    struct diag d = {0};
    struct tsdb_stats s;
    if (!ss || !times || !vals || !mkdtemp(dir))
        exit(1);
    for (size_t i = 0; i < nseries; i++)
        series_init(&ss[i], i, nseries);
    for (size_t k = 0; k < nscrapes; k++) {
        times[k] = scrape_time(k);
        for (size_t i = 0; i < nseries; i++)
            vals[k * nseries + i] = series_next(&ss[i]);
    }
    if (store_open(dir, &st, &d) || tsdb_open(st, NULL, &db, &d)) {
        fprintf(stderr, "bench_tsdb: %s\n", d.msg);
        exit(1);
    }
    for (size_t k = 0; k < nscrapes; k++) {
        for (size_t i = 0; i < nseries; i++)
            tsdb_append(db, &ss[i].ls, times[k], vals[k * nseries + i], &ss[i].ref);
        tsdb_commit(db, &d);
    }
    tsdb_stats_get(db, &s);
    double samples = (double)(nseries * nscrapes);
    tsdb_close(db);
    store_close(st);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
    int64_t fbytes = file_size(path);
    printf("# %zu series (counters and gauges), %zu scrapes 1 s apart with 0-4 ms jitter\n",
           nseries, nscrapes);
    printf("disk_samples %.0f\n", samples);
    printf("disk_chunk_bytes_per_sample %.3f\n",
           (double)s.bytes_on_disk / (double)s.samples_persisted);
    printf("disk_file_bytes_per_sample %.3f\n", (double)fbytes / samples);
    snprintf(path, sizeof(path), "rm -rf '%s'", dir);
    if (system(path) != 0)
        fprintf(stderr, "bench_tsdb: cannot remove %s\n", dir);

    if (om_path) {
        FILE *f = fopen(om_path, "w");
        if (!f)
            exit(1);
        for (int kind = 0; kind < NKINDS; kind++) {
            fprintf(f, "# TYPE bench_%s gauge\n", kind_names[kind]);
            for (size_t i = 0; i < nseries; i++) {
                if ((int)ss[i].kind != kind)
                    continue;
                for (size_t k = 0; k < nscrapes; k++) {
                    char num[32];
                    fmt_double(num, vals[k * nseries + i], 0);
                    fprintf(f, "%s{i=\"%s\"} %s %lld.%03lld\n", ss[i].name, ss[i].inst, num,
                            (long long)(times[k] / 1000), (long long)(times[k] % 1000));
                }
            }
        }
        fprintf(f, "# EOF\n");
        fclose(f);
    }
    free(ss);
    free(times);
    free(vals);
}

/* ---- ingest ---- */

static double ingest(struct tsdb *db, struct series *ss, size_t nseries, size_t nscrapes)
{
    struct diag d;
    /* Values precomputed for one scrape and shifted, so the generator is not what is timed. */
    double *base = malloc(nseries * sizeof(*base));
    for (size_t i = 0; i < nseries; i++)
        base[i] = series_next(&ss[i]);
    int64_t t0 = clock_mono_ns();
    for (size_t k = 0; k < nscrapes; k++) {
        int64_t t = 1700000000000LL + (int64_t)k * 1000 + (int64_t)(k * 7 % 5);
        for (size_t i = 0; i < nseries; i++)
            tsdb_append(db, &ss[i].ls, t, base[i] + (double)(k * (i & 7)), &ss[i].ref);
        tsdb_commit(db, &d);
    }
    double secs = (double)(clock_mono_ns() - t0) / 1e9;
    free(base);
    return (double)(nseries * nscrapes) / secs;
}

static void bench_ingest(void)
{
    size_t nseries = 10000, nscrapes = (size_t)(300 * scale);
    struct series *ss = calloc(nseries, sizeof(*ss));
    struct diag d;
    double best_mem = 0, best_store = 0;
    for (int run = 0; run < 3; run++) {
        struct tsdb *db;
        for (size_t i = 0; i < nseries; i++)
            series_init(&ss[i], i, nseries);
        tsdb_open(NULL, NULL, &db, &d);
        ingest(db, ss, nseries, 1); /* create the series outside the timing */
        double r = ingest(db, ss, nseries, nscrapes);
        best_mem = r > best_mem ? r : best_mem;
        tsdb_close(db);

        char dir[] = "/tmp/bw-bench-tsdb-XXXXXX", cmd[64];
        struct store *st;
        if (!mkdtemp(dir) || store_open(dir, &st, &d))
            exit(1);
        for (size_t i = 0; i < nseries; i++)
            series_init(&ss[i], i, nseries);
        tsdb_open(st, NULL, &db, &d);
        ingest(db, ss, nseries, 1);
        r = ingest(db, ss, nseries, nscrapes);
        best_store = r > best_store ? r : best_store;
        tsdb_close(db);
        store_close(st);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_tsdb: cannot remove %s\n", dir);
    }
    printf("# ingest: %zu series, a commit per scrape, best of 3\n", nseries);
    printf("ingest_msamples_per_s_memory %.2f\n", best_mem / 1e6);
    printf("ingest_msamples_per_s_store %.2f\n", best_store / 1e6);
    free(ss);
}

/* ---- head memory ---- */

static void bench_head(void)
{
    size_t nseries = 20000;
    struct series *ss = calloc(nseries, sizeof(*ss));
    struct tsdb *db;
    struct diag d;
    size_t strings = 0;
    for (size_t i = 0; i < nseries; i++)
        series_init(&ss[i], i, nseries);
    struct mallinfo2 before = mallinfo2();
    tsdb_open(NULL, NULL, &db, &d);
    /* 60 samples each: the open chunk half full, as on average. */
    for (size_t k = 0; k < 60; k++)
        for (size_t i = 0; i < nseries; i++)
            tsdb_append(db, &ss[i].ls, 1700000000000LL + (int64_t)k * 1000, series_next(&ss[i]),
                        &ss[i].ref);
    struct mallinfo2 after = mallinfo2();
    /* The interned label strings: each value once, malloc's 16-byte granularity and header. */
    for (size_t i = 0; i < nseries; i++)
        strings += (strlen(ss[i].inst) + 1 + 8 + 15) / 16 * 16;
    double per = (double)(after.uordblks - before.uordblks - strings) / (double)nseries;
    printf("# head: %zu series of 60 samples each, malloc'd bytes less label strings\n", nseries);
    printf("head_bytes_per_series %.0f\n", per);
    tsdb_close(db);
    free(ss);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        scale = atof(argv[1]) > 0 ? atof(argv[1]) : 1;
    log_set_level(LOG_WARN);
    bench_disk(argc > 2 ? argv[2] : NULL);
    bench_ingest();
    bench_head();
    return 0;
}
