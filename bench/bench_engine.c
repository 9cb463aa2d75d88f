/* bench_engine: what instrumentation costs the engine. Two engines with the same configuration
 * (the defaults: 20 symbols, one-second cycles, 1-minute candles; a fixed seed and start),
 * one with a metrics registry and one without (reg NULL: no handle, no clock read), do exactly
 * the same simulated work; the benchmark steps them in lockstep, one cycle of each in turn
 * (which one goes first alternates), timing every cycle. A shared machine's load then hits
 * both alike, which whole-run comparisons on a busy two-core box did not achieve (their
 * run-to-run spread was ±20 %). Stepping cycle by cycle needs engine_cycle, so this benchmark,
 * like the engine's unit tests, uses the module's internal header.
 *
 * Prints a "name value unit" table: per repetition and overall, the mean wall-clock
 * nanoseconds per cycle of each engine and the overhead in percent (goal: below 1 %).
 * Optional arguments: repetitions (default 5) and simulated hours per repetition (default 6). */
#include <stdio.h>
#include <stdlib.h>

#include "engine/internal.h"

#define MAX_REPS     100
#define TRIM_PERCENT 5 /* of each tail */

static struct engine *engine_make(bw_registry *reg, double hours)
{
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    engine_config_defaults(&c);
    c.paced = 0;
    c.start_ms = 1704067200000LL; /* 2024-01-01T00:00:00Z */
    c.duration_ms = (int64_t)(hours * 3600000.0);
    if (engine_new(&c, reg, NULL, &e, &d) != BW_OK) {
        fprintf(stderr, "bench_engine: %s\n", d.msg);
        exit(1);
    }
    return e;
}

/* One cycle of e, its wall-clock duration in ns. Like engine_run, it hands the engine the end
 * of its previous cycle as this one's start, so the engine reads the clock as often as in a
 * real run. */
static int64_t timed_cycle(struct engine *e)
{
    int64_t t0 = clock_mono_ns();
    int rc = engine_cycle(e, e->clock);
    int64_t t1 = clock_mono_ns();
    if (rc != BW_OK) {
        fprintf(stderr, "bench_engine: cycle failed: %s\n", bw_strerror(rc));
        exit(1);
    }
    e->now_ms += e->cfg.tick_ms;
    return t1 - t0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The mean of v[0..n) without its lowest and highest TRIM_PERCENT (sorts v). */
static double trimmed_mean(int64_t *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_i64);
    size_t cut = n * TRIM_PERCENT / 100;
    double sum = 0;
    for (size_t i = cut; i < n - cut; i++)
        sum += (double)v[i];
    return sum / (double)(n - 2 * cut);
}

struct rep {
    double mean[2];      /* ns per cycle: [0] without, [1] with instrumentation */
    double trimmed_off;  /* trimmed mean of the uninstrumented cycles */
    double trimmed_diff; /* trimmed mean of the per-cycle differences (with − without) */
    size_t cycles;
};

/* One repetition. The first cycle (two hours of history candles) is left out. Each cycle of
 * one engine is paired with the same cycle of the other, run right after it: their difference
 * is the instrumentation's cost plus noise, and trimming the differences' tails removes the
 * cycles that the machine's other work interrupted. */
static struct rep repetition(double hours)
{
    bw_registry *reg = bw_registry_new(0);
    if (!reg) {
        fprintf(stderr, "bench_engine: out of memory\n");
        exit(1);
    }
    struct engine *e[2] = {engine_make(NULL, hours), engine_make(reg, hours)};
    size_t cap = (size_t)(hours * 3600.0) + 1;
    int64_t *off = malloc(cap * sizeof(*off)), *diff = malloc(cap * sizeof(*diff));
    if (!off || !diff) {
        fprintf(stderr, "bench_engine: out of memory\n");
        exit(1);
    }
    struct rep r = {0};
    int64_t sum[2] = {0, 0}, ns[2];
    timed_cycle(e[0]);
    timed_cycle(e[1]);
    for (int64_t end = e[0]->start_ms + e[0]->cfg.duration_ms; e[0]->now_ms < end && r.cycles < cap;
         r.cycles++) {
        int first = (int)(r.cycles & 1); /* alternate which engine goes first */
        ns[first] = timed_cycle(e[first]);
        ns[!first] = timed_cycle(e[!first]);
        sum[0] += ns[0];
        sum[1] += ns[1];
        off[r.cycles] = ns[0];
        diff[r.cycles] = ns[1] - ns[0];
    }
    for (int k = 0; k < 2; k++) {
        r.mean[k] = (double)sum[k] / (double)r.cycles;
        engine_free(e[k]);
    }
    r.trimmed_off = trimmed_mean(off, r.cycles);
    r.trimmed_diff = trimmed_mean(diff, r.cycles);
    free(off);
    free(diff);
    bw_registry_free(reg);
    return r;
}

static void row(const char *name, double value, const char *unit)
{
    printf("%-36s %12.2f %s\n", name, value, unit);
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 5;
    double hours = argc > 2 ? atof(argv[2]) : 6.0;
    if (reps < 1 || reps > MAX_REPS || !(hours > 0)) {
        fprintf(stderr, "usage: bench_engine [REPETITIONS (1-%d) [SIMULATED_HOURS]]\n", MAX_REPS);
        return 2;
    }
    double mean[2] = {0, 0}, toff = 0, tdiff = 0;
    size_t cycles = 0;
    printf("%-36s %12s %s\n", "name", "value", "unit");
    for (int i = 0; i < reps; i++) {
        char name[64];
        struct rep r = repetition(hours);
        snprintf(name, sizeof(name), "rep%d_overhead_mean", i + 1);
        row(name, 100.0 * (r.mean[1] - r.mean[0]) / r.mean[0], "percent");
        snprintf(name, sizeof(name), "rep%d_overhead_trimmed", i + 1);
        row(name, 100.0 * r.trimmed_diff / r.trimmed_off, "percent");
        mean[0] += r.mean[0] / reps;
        mean[1] += r.mean[1] / reps;
        toff += r.trimmed_off / reps;
        tdiff += r.trimmed_diff / reps;
        cycles = r.cycles;
    }
    row("cycles_per_repetition", (double)cycles, "cycles");
    row("cycle_mean_uninstrumented", mean[0], "ns");
    row("cycle_mean_instrumented", mean[1], "ns");
    row("overhead_mean", 100.0 * (mean[1] - mean[0]) / mean[0], "percent");
    row("instrumentation_per_cycle_trimmed", tdiff, "ns");
    row("overhead_trimmed", 100.0 * tdiff / toff, "percent");
    return 0;
}
