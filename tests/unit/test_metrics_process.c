/* Tests for src/metrics/process.c: the process collector's figures are plausible for this very
 * process, move with it, and registering twice is refused. */
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "metrics/metrics.h"

struct values {
    double cpu_seconds, rss, vsize, open_fds, max_fds, start, threads, cpu_usage, mem_percent;
    int seen;
};

static void record(void *ud, const char *name, size_t n, const char *const *names,
                   const char *const *vals, double v)
{
    (void)n, (void)names, (void)vals;
    struct values *x = ud;
    static const struct {
        const char *name;
        size_t off;
    } map[] = {
        {"process_cpu_seconds_total", offsetof(struct values, cpu_seconds)},
        {"process_resident_memory_bytes", offsetof(struct values, rss)},
        {"process_virtual_memory_bytes", offsetof(struct values, vsize)},
        {"process_open_fds", offsetof(struct values, open_fds)},
        {"process_max_fds", offsetof(struct values, max_fds)},
        {"process_start_time_seconds", offsetof(struct values, start)},
        {"process_threads", offsetof(struct values, threads)},
        {"process_cpu_usage", offsetof(struct values, cpu_usage)},
        {"process_memory_percent", offsetof(struct values, mem_percent)},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(map); i++)
        if (strcmp(name, map[i].name) == 0) {
            *(double *)(void *)((char *)x + map[i].off) = v;
            x->seen++;
        }
}

static void collect(bw_registry *r, struct values *v)
{
    memset(v, 0, sizeof(*v));
    bw_registry_visit(r, record, v);
    assert_int_equal(v->seen, 9);
}

static void test_plausible(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    assert_int_equal(bw_process_collector_register(r), BW_OK);
    struct values v;
    collect(r, &v);
    double now = (double)clock_real_ns() / 1e9;
    assert_true(v.rss > 0);
    assert_true(v.vsize >= v.rss);
    assert_true(v.open_fds >= 3);
    assert_true(v.max_fds >= v.open_fds);
    assert_true(v.start <= now + 1 && v.start > now - 60);
    assert_true(v.threads >= 1);
    assert_true(v.cpu_seconds >= 0);
    assert_true(v.cpu_usage >= 0);
    assert_true(v.mem_percent > 0 && v.mem_percent < 100);
    bw_registry_free(r);
}

static volatile double sink; /* keeps the busy loop */

static void test_tracks_the_process(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    assert_int_equal(bw_process_collector_register(r), BW_OK);
    struct values before, after;
    collect(r, &before);
    int64_t t0 = clock_mono_ns();

    int fds[8];
    for (int i = 0; i < 8; i++)
        fds[i] = open("/dev/null", O_RDONLY);
    size_t big = 64 << 20;
    char *mem = malloc(big);
    for (size_t i = 0; i < big; i += 4096) /* touched, so resident; volatile, so not elided */
        ((volatile char *)mem)[i] = 1;
    /* 0.3 s of CPU time, however busy the machine is */
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    double until = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + 0.3;
    do {
        for (int i = 0; i < 1000; i++)
            sink += i * 0.5;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    } while ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9 < until);
    /* Within a second of the last collection the figures are not read again (checked when
     * the busy loop above took well under a second of wall time, as it does unless the
     * machine is saturated). */
    int64_t busy_ns = clock_mono_ns() - t0;
    collect(r, &after);
    if (busy_ns < 800000000LL)
        assert_true(after.cpu_seconds == before.cpu_seconds && after.open_fds == before.open_fds);
    while (clock_mono_ns() - t0 < 1100000000LL)
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    collect(r, &after);
    double wall = (double)(clock_mono_ns() - t0) / 1e9;

    assert_true(after.open_fds >= before.open_fds + 8);
    assert_true(after.rss >= before.rss + (double)big / 2);
    assert_true(after.mem_percent > before.mem_percent);
    double cpu = after.cpu_seconds - before.cpu_seconds;
    assert_true(cpu >= 0.25);
    /* usage is CPU over wall time between the two collections, in percent */
    double want = cpu / wall * 100;
    if (!(fabs(after.cpu_usage - want) < 0.2 * want))
        fail_msg("cpu usage %g, want about %g", after.cpu_usage, want);
    assert_true(after.start == before.start);
    free(mem);
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    bw_registry_free(r);
}

static void test_register_twice(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    assert_int_equal(bw_process_collector_register(r), BW_OK);
    assert_int_equal(bw_process_collector_register(r), BW_EEXIST);
    assert_int_equal(bw_process_collector_register(NULL), BW_EINVAL);
    bw_registry_free(r);

    /* a name already taken with another type */
    r = bw_registry_new(0);
    bw_counter *c;
    assert_int_equal(bw_counter_new(r, "process_threads", "Not a gauge.", &c), BW_OK);
    assert_int_equal(bw_process_collector_register(r), BW_EEXIST);
    bw_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plausible),
        cmocka_unit_test(test_tracks_the_process),
        cmocka_unit_test(test_register_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
