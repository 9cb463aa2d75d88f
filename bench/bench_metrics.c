/* bench_metrics: the cost of instrumentation — counter increments on a resolved handle (one
 * thread, then two threads on the same counter), histogram observations with the default
 * buckets, and exposition of a registry of about 100 KiB in both formats, with a count of the
 * allocations a warm scrape makes.
 *
 * Prints one "key value" line per figure (bench/run.sh turns them into a table) and lines
 * starting with '#' for context. Optional argument: a scale factor for the iteration counts
 * (default 1; 0.1 for a quick run). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "breakwatch/metrics.h"

/* ---- allocation counting -------------------------------------------------------------------
 * The malloc family is interposed to count calls while `counting` is set. Not under
 * AddressSanitizer, which owns malloc itself; the count is then reported as -1. */
#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif

static _Atomic long allocs = -1;
static _Atomic int counting;

#ifndef NO_INTERPOSE
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);

static void count_alloc(void)
{
    if (counting)
        allocs++;
}

void *malloc(size_t n)
{
    count_alloc();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    count_alloc();
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    count_alloc();
    return __libc_realloc(p, n);
}
#endif

static void count_start(void)
{
#ifndef NO_INTERPOSE
    allocs = 0;
    counting = 1;
#endif
}

static void count_stop(void)
{
    counting = 0;
}

static double scale = 1;

static long iters(double n)
{
    return (long)(n * scale) > 1 ? (long)(n * scale) : 1;
}

/* ---- counters ------------------------------------------------------------------------------ */

struct loop {
    bw_counter *c[4]; /* inc_loop uses c[0]; inc4_loop all four in turn */
    bw_histogram *h;
    const double *values; /* 4096 observations */
    long n;
    pthread_barrier_t *start;
    int64_t ns;
};

static void *inc_loop(void *p)
{
    struct loop *l = p;
    if (l->start)
        pthread_barrier_wait(l->start);
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < l->n; i++)
        bw_counter_inc(l->c[0]);
    l->ns = clock_mono_ns() - t0;
    return NULL;
}

/* Four counters in turn: consecutive increments do not wait for each other, as in an engine
 * where increments of one counter are separated by other work. */
static void *inc4_loop(void *p)
{
    struct loop *l = p;
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < l->n; i += 4) {
        bw_counter_inc(l->c[0]);
        bw_counter_inc(l->c[1]);
        bw_counter_inc(l->c[2]);
        bw_counter_inc(l->c[3]);
    }
    l->ns = clock_mono_ns() - t0;
    return NULL;
}

/* The machine may be shared: every figure is the best of REPS runs. */
#define REPS 7

static double best_ns_per_op(void *(*fn)(void *), struct loop *l)
{
    double best = INFINITY;
    for (int i = 0; i < REPS; i++) {
        fn(l);
        double ns = (double)l->ns / (double)l->n;
        best = ns < best ? ns : best;
    }
    return best;
}

static void bench_counter(bw_registry *r)
{
    bw_family *f;
    const char *labels[] = {"symbol", "side"};
    const char *values[4][2] = {
        {"BTCUSDT", "buy"}, {"BTCUSDT", "sell"}, {"ETHUSDT", "buy"}, {"ETHUSDT", "sell"}};
    bw_counter_family(r, "bench_increments_total", "Increments.", 2, labels, &f);
    struct loop one = {.n = iters(3e7) / 4 * 4};
    for (int i = 0; i < 4; i++)
        bw_counter_resolve(f, values[i], &one.c[i]);
    inc_loop(&one); /* warm: claims the slot, allocates the shard */
    double expected = (double)one.n;
    printf("counter_inc_1t_ns %.3f\n", best_ns_per_op(inc_loop, &one));
    expected += REPS * (double)one.n;
    printf("counter_inc_4c_ns %.3f\n", best_ns_per_op(inc4_loop, &one));
    expected += REPS * (double)(one.n / 4);

    /* Two threads on the same counter, each its own loop. */
    double per_thread = INFINITY, aggregate = INFINITY;
    for (int rep = 0; rep < REPS; rep++) {
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 2);
        struct loop two[2];
        pthread_t t[2];
        int64_t t0 = clock_mono_ns();
        for (int i = 0; i < 2; i++) {
            two[i] = (struct loop){.c = {one.c[0]}, .n = iters(3e7), .start = &start};
            pthread_create(&t[i], NULL, inc_loop, &two[i]);
        }
        for (int i = 0; i < 2; i++)
            pthread_join(t[i], NULL);
        int64_t wall = clock_mono_ns() - t0;
        pthread_barrier_destroy(&start);
        double pt =
            ((double)two[0].ns / (double)two[0].n + (double)two[1].ns / (double)two[1].n) / 2;
        double ag = (double)wall / (double)(two[0].n + two[1].n);
        per_thread = pt < per_thread ? pt : per_thread;
        aggregate = ag < aggregate ? ag : aggregate;
        expected += (double)(two[0].n + two[1].n);
    }
    printf("counter_inc_2t_ns_per_thread %.3f\n", per_thread);
    printf("counter_inc_2t_ns_aggregate %.3f\n", aggregate);
    double got = bw_counter_value(one.c[0]);
    printf("# counter total %.0f, expected %.0f: %s\n", got, expected,
           got == expected ? "exact" : "MISMATCH");
}

/* ---- histograms ---------------------------------------------------------------------------- */

static void *observe_loop(void *p)
{
    struct loop *l = p;
    int64_t t0 = clock_mono_ns();
    for (long i = 0; i < l->n; i++)
        bw_histogram_observe(l->h, l->values[i & 4095]);
    l->ns = clock_mono_ns() - t0;
    return NULL;
}

/* Log-uniform between 1e-7 and 20 seconds: every default bucket gets hits, in no order. */
static void spread_values(double *v, size_t n)
{
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        v[i] = 1e-7 * pow(2e8, (double)(x >> 11) / 9007199254740992.0);
    }
}

static void bench_histogram(bw_registry *r)
{
    static double values[4096];
    spread_values(values, 4096);
    bw_histogram *h;
    bw_histogram_new(r, "bench_observe_seconds", "Observations.", NULL, 0, &h);
    struct loop l = {.h = h, .values = values, .n = iters(1e7)};
    observe_loop(&l);
    printf("histogram_observe_ns %.3f\n", best_ns_per_op(observe_loop, &l));
}

/* ---- exposition ---------------------------------------------------------------------------- */

/* About 100 KiB of page: 20 symbols, labelled counters, gauges and histograms, the shapes of
 * the engine's metrics. Same layout as the Python baseline's registry. */
static void fill_registry(bw_registry *r)
{
    static const char *sides[] = {"buy", "sell"}, *regimes[] = {"trending", "ranging", "volatile"},
                      *outcomes[] = {"win", "loss"},
                      *states[] = {"idle", "scanning", "signal_wait", "managing", "halted"},
                      *statuses[] = {"filled", "rejected", "cancelled", "expired"};
    static double obs[4096];
    spread_values(obs, 4096);
    bw_family *sig, *trades, *orders, *state, *price, *pos, *exec, *ws;
    const char *l3[] = {"symbol", "side", "regime"}, *l3o[] = {"symbol", "side", "outcome"},
               *ls[] = {"symbol"}, *lstatus[] = {"status"}, *lstate[] = {"state"};
    bw_counter_family(r, "signals_generated_total", "Signals generated.", 3, l3, &sig);
    bw_counter_family(r, "trades_total", "Trades closed.", 3, l3o, &trades);
    bw_counter_family(r, "orders_total", "Orders by final status.", 1, lstatus, &orders);
    bw_gauge_family(r, "engine_state", "1 for the current state.", 1, lstate, &state);
    bw_gauge_family(r, "last_price", "Last traded price.", 1, ls, &price);
    bw_gauge_family(r, "position_size", "Open position size.", 1, ls, &pos);
    bw_histogram_family(r, "trade_execution_duration", "Order to fill, seconds.", 1, ls, NULL, 0,
                        &exec);
    bw_histogram_family(r, "websocket_message_processing", "Message handling, seconds.", 1, ls,
                        NULL, 0, &ws);
    bw_counter *c;
    bw_gauge *g;
    bw_histogram *h;
    unsigned k = 0;
    for (int s = 0; s < 20; s++) {
        char sym[16];
        snprintf(sym, sizeof(sym), "SYM%02dUSDT", s);
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 3; b++) {
                const char *v[] = {sym, sides[a], regimes[b]};
                bw_counter_resolve(sig, v, &c);
                bw_counter_add(c, ++k * 7 % 1000);
            }
            for (int b = 0; b < 2; b++) {
                const char *v[] = {sym, sides[a], outcomes[b]};
                bw_counter_resolve(trades, v, &c);
                bw_counter_add(c, ++k * 13 % 500);
            }
        }
        const char *v[] = {sym};
        bw_gauge_resolve(price, v, &g);
        bw_gauge_set(g, 100 + s * 1234.5678 + k * 0.01);
        bw_gauge_resolve(pos, v, &g);
        bw_gauge_set(g, (s % 3) * 0.125);
        bw_histogram_resolve(exec, v, &h);
        for (int i = 0; i < 500; i++)
            bw_histogram_observe(h, obs[(k + (unsigned)i) & 4095]);
        bw_histogram_resolve(ws, v, &h);
        for (int i = 0; i < 2000; i++)
            bw_histogram_observe(h, obs[(k + 7 * (unsigned)i) & 4095] / 1000);
    }
    for (int i = 0; i < 4; i++) {
        bw_counter_resolve(orders, &statuses[i], &c);
        bw_counter_add(c, 1000 + i);
    }
    for (int i = 0; i < 5; i++) {
        bw_gauge_resolve(state, &states[i], &g);
        bw_gauge_set(g, i == 1);
    }
    bw_histogram_new(r, "engine_cycle_time", "Engine cycle, seconds.", NULL, 0, &h);
    for (int i = 0; i < 4096; i++)
        bw_histogram_observe(h, obs[i] / 100);
}

static void bench_expose(enum bw_format fmt, const char *key)
{
    bw_registry *r = bw_registry_new(0);
    fill_registry(r);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    bw_registry_expose(r, fmt, &buf, &cap, &len); /* warm: the buffer grows to size */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    char *first = buf;
    size_t first_cap = cap;
    long n = iters(300);
    double best = INFINITY;
    count_start();
    for (int rep = 0; rep < REPS; rep++) {
        int64_t t0 = clock_mono_ns();
        for (long i = 0; i < n; i++)
            bw_registry_expose(r, fmt, &buf, &cap, &len);
        double ns = (double)(clock_mono_ns() - t0) / (double)n;
        best = ns < best ? ns : best;
    }
    count_stop();
    printf("%s_bytes %zu\n", key, len);
    printf("%s_lines %zu\n", key, lines);
    printf("%s_ns_per_line %.3f\n", key, best / (double)lines);
    printf("%s_us_per_scrape %.3f\n", key, best / 1e3);
    printf("%s_allocs_per_scrape %.3f\n", key,
           allocs < 0 ? -1.0 : (double)allocs / (double)(n * REPS));
    printf("# %s: buffer %s across %ld scrapes\n", key,
           buf == first && cap == first_cap ? "reused (same pointer, same capacity)"
                                            : "REALLOCATED",
           n * REPS);
    free(buf);
    bw_registry_free(r);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        scale = atof(argv[1]) > 0 ? atof(argv[1]) : 1;
    bw_registry *r = bw_registry_new(0);
    bench_counter(r);
    bench_histogram(r);
    bw_registry_free(r);
    bench_expose(BW_FORMAT_TEXT, "expose_text");
    bench_expose(BW_FORMAT_OPENMETRICS, "expose_om");
    return 0;
}
