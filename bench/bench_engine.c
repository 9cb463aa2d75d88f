/* bench_engine: what instrumentation costs the engine — the same unpaced run (default
 * configuration: 20 symbols, one-second cycles, 1-minute candles, a fixed seed and start) with
 * a metrics registry and without one (reg NULL: no handle, no clock read), alternating so that
 * drift in the machine's load hits both alike.
 *
 * Prints a "name value unit" table: the mean and best wall-clock nanoseconds per cycle of each
 * and the overhead in percent (goal: below 1 %). Optional arguments: the number of runs of each
 * kind (default 7) and the simulated hours a run covers (default 6). */
#include <stdio.h>
#include <stdlib.h>

#include "base/base.h"
#include "engine/engine.h"

/* Wall-clock ns per cycle of one run; *cycles gets the cycle count. */
static double run_once(int instrumented, double hours, uint64_t *cycles)
{
    struct engine_config c;
    struct engine *e = NULL;
    struct diag d = {0};
    bw_registry *reg = instrumented ? bw_registry_new(0) : NULL;
    engine_config_defaults(&c);
    c.paced = 0;
    c.start_ms = 1704067200000LL; /* 2024-01-01T00:00:00Z */
    c.duration_ms = (int64_t)(hours * 3600000.0);
    if ((instrumented && !reg) || engine_new(&c, reg, NULL, &e, &d) != BW_OK) {
        fprintf(stderr, "bench_engine: %s\n", d.msg[0] ? d.msg : "out of memory");
        exit(1);
    }
    int64_t t0 = clock_mono_ns();
    int rc = engine_run(e);
    int64_t t1 = clock_mono_ns();
    struct engine_stats st;
    engine_stats_get(e, &st);
    engine_free(e);
    bw_registry_free(reg);
    if (rc != BW_OK || st.cycles == 0) {
        fprintf(stderr, "bench_engine: run failed: %s\n", bw_strerror(rc));
        exit(1);
    }
    *cycles = st.cycles;
    return (double)(t1 - t0) / (double)st.cycles;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 7;
    double hours = argc > 2 ? atof(argv[2]) : 6.0;
    if (runs < 1 || !(hours > 0)) {
        fprintf(stderr, "usage: bench_engine [RUNS [SIMULATED_HOURS]]\n");
        return 2;
    }
    double sum[2] = {0, 0}, best[2] = {1e300, 1e300};
    uint64_t cycles = 0;
    run_once(1, hours / 6, &cycles); /* warm caches and the allocator */
    for (int i = 0; i < runs; i++) {
        for (int on = 0; on < 2; on++) {
            int kind = (i % 2) ^ on; /* alternate which goes first */
            double ns = run_once(kind, hours, &cycles);
            sum[kind] += ns;
            if (ns < best[kind])
                best[kind] = ns;
        }
    }
    double mean_off = sum[0] / runs, mean_on = sum[1] / runs;
    printf("%-36s %12s %s\n", "name", "value", "unit");
    printf("%-36s %12llu %s\n", "cycles_per_run", (unsigned long long)cycles, "cycles");
    printf("%-36s %12d %s\n", "runs_each", runs, "runs");
    printf("%-36s %12.1f %s\n", "cycle_mean_uninstrumented", mean_off, "ns");
    printf("%-36s %12.1f %s\n", "cycle_mean_instrumented", mean_on, "ns");
    printf("%-36s %12.1f %s\n", "cycle_best_uninstrumented", best[0], "ns");
    printf("%-36s %12.1f %s\n", "cycle_best_instrumented", best[1], "ns");
    printf("%-36s %12.2f %s\n", "overhead_mean", 100.0 * (mean_on - mean_off) / mean_off,
           "percent");
    printf("%-36s %12.2f %s\n", "overhead_best", 100.0 * (best[1] - best[0]) / best[0], "percent");
    return 0;
}
