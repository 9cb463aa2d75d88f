/* clock: the monotonic and real-time clocks in nanoseconds, and clock_ticks, a cheap clock for
 * timing short spans on a hot path.
 *
 * clock_ticks reads the x86-64 time-stamp counter when the CPU declares it invariant (CPUID
 * 0x80000007 EDX bit 8: same rate in every P- and C-state, so it counts time, not work). A
 * plain rdtsc costs about 13 ns where clock_gettime(CLOCK_MONOTONIC) costs about 31 (KVM guest,
 * AMD EPYC); it is not ordered against the instructions around it, which moves a span's ends
 * by a few nanoseconds, nothing next to the microseconds it times. The tick length is measured
 * once against CLOCK_MONOTONIC over CALIBRATE_NS. Elsewhere — another architecture, no
 * invariant TSC, a TSC that does not advance — ticks are clock_mono_ns() nanoseconds.
 *
 * The design decision: the source is chosen and calibrated together, once (pthread_once),
 * before the first tick is handed out, so ticks of different sources never mix; afterwards
 * clock_ticks is, inline in base.h, one relaxed load of clock_ticks_tsc and one rdtsc. Inline
 * because a call through pthread_once's fast path, invisible in a tight loop, cost the engine
 * 0.3 % of a cycle (bench_engine: five reads a cycle). */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "base/base.h"

#if BW_HAVE_TSC
#include <cpuid.h>
#endif

#define CALIBRATE_NS 5000000 /* 5 ms: a pair read to within ~50 ns gives the rate to 1e-5 */
#define PAIR_TRIES   5

_Atomic int clock_ticks_tsc;
static double tsc_seconds; /* seconds per TSC tick; tick_once orders its write before reads */
static pthread_once_t tick_once = PTHREAD_ONCE_INIT;

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t clock_mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

int64_t clock_real_ns(void)
{
    return clock_ns(CLOCK_REALTIME);
}

#if BW_HAVE_TSC
struct tsc_pair {
    uint64_t tsc;
    int64_t ns;
};

/* One (TSC, CLOCK_MONOTONIC) reading: of PAIR_TRIES tries of TSC, clock, TSC, the one whose TSC
 * reads lie closest together (a try the scheduler interrupted is far apart), with the TSC
 * taken halfway between them. */
static struct tsc_pair tsc_pair_read(void)
{
    struct tsc_pair p = {0, 0};
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < PAIR_TRIES; i++) {
        uint64_t a = __builtin_ia32_rdtsc();
        int64_t ns = clock_mono_ns();
        uint64_t b = __builtin_ia32_rdtsc();
        if (b - a <= best) {
            best = b - a;
            p = (struct tsc_pair){a + (b - a) / 2, ns};
        }
    }
    return p;
}

/* Seconds per TSC tick, or 0 when the TSC is not invariant or does not advance. */
static double tsc_calibrate(void)
{
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 8)))
        return 0;
    struct tsc_pair p0 = tsc_pair_read();
    do { /* nanosleep returns early on a signal; the clock says when we are done */
        struct timespec ts = {0, CALIBRATE_NS};
        nanosleep(&ts, NULL);
    } while (clock_mono_ns() - p0.ns < CALIBRATE_NS);
    struct tsc_pair p1 = tsc_pair_read();
    if (p1.tsc <= p0.tsc)
        return 0;
    return (double)(p1.ns - p0.ns) * 1e-9 / (double)(p1.tsc - p0.tsc);
}
#endif

static void tick_init(void)
{
#if BW_HAVE_TSC
    tsc_seconds = tsc_calibrate();
    atomic_store_explicit(&clock_ticks_tsc, tsc_seconds > 0, memory_order_relaxed);
#endif
}

int64_t clock_ticks_slow(void)
{
    pthread_once(&tick_once, tick_init);
#if BW_HAVE_TSC
    if (atomic_load_explicit(&clock_ticks_tsc, memory_order_relaxed))
        return (int64_t)__builtin_ia32_rdtsc();
#endif
    return clock_mono_ns();
}

double clock_tick_seconds(void)
{
    pthread_once(&tick_once, tick_init);
    return atomic_load_explicit(&clock_ticks_tsc, memory_order_relaxed) ? tsc_seconds : 1e-9;
}

void clock_ticks_force_fallback(void)
{
    pthread_once(&tick_once, tick_init);
    atomic_store_explicit(&clock_ticks_tsc, 0, memory_order_relaxed);
}
