/* process: the standard process collector, Linux /proc edition.
 *
 * A collect hook refreshes, at every scrape, the figures Prometheus clients conventionally
 * export (process_cpu_seconds_total, process_resident_memory_bytes, process_open_fds, …) plus
 * the two the spec asks for: process_cpu_usage (percent of one core since the previous
 * collection) and process_memory_percent (resident memory over physical memory). Its state is a
 * struct process holding the handles and what does not change (clock ticks, page size, start
 * time, physical memory), read once at registration.
 *
 * The design decision: a collection allocates nothing. /proc/self/stat is read into a stack
 * buffer and /proc/self/fd is counted with getdents64 rather than opendir, so a warm scrape
 * stays allocation-free with the process collector registered. */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics/metrics.h"

/* Figures are refreshed at most this often. Reading /proc costs tens of microseconds, which
 * would dominate a busy /api/metrics, and CPU time moves in 10 ms ticks, so a CPU usage taken
 * over a shorter window would be mostly noise. Scrapers see the figures of the last second. */
#define PROCESS_MIN_INTERVAL_NS 1000000000LL

struct process {
    bw_counter *cpu_seconds;
    bw_gauge *rss, *vsize, *open_fds, *max_fds, *start_time, *threads, *cpu_usage, *mem_percent;
    double clk_tck, page_size;
    double start;     /* seconds since the epoch */
    double mem_total; /* bytes; 0 when unknown */
    double last_cpu;  /* CPU seconds at the previous collection */
    int64_t last_ns;  /* monotonic time of the previous collection; 0 before the first */
};

/* Reads a small file whole into buf (NUL-terminated). Returns the length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && (k = read(fd, buf + n, cap - 1 - n)) > 0)
        n += (size_t)k;
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* The fields of /proc/self/stat that we use. */
struct stat_fields {
    double utime, stime, threads, starttime, vsize, rss; /* ticks, ticks, -, ticks, bytes, pages */
};

/* Parses /proc/self/stat. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from the last ')'. 0 or BW_EIO. */
static int read_stat(struct stat_fields *out)
{
    char buf[1024];
    if (read_small("/proc/self/stat", buf, sizeof(buf)) <= 0)
        return BW_EIO;
    char *p = strrchr(buf, ')');
    if (!p)
        return BW_EIO;
    p++;
    /* After ')': field 3 (state) is token 0, so field k is token k - 3. */
    static const struct {
        int field;
        size_t offset;
    } want[] = {
        {14, offsetof(struct stat_fields, utime)},   {15, offsetof(struct stat_fields, stime)},
        {20, offsetof(struct stat_fields, threads)}, {22, offsetof(struct stat_fields, starttime)},
        {23, offsetof(struct stat_fields, vsize)},   {24, offsetof(struct stat_fields, rss)},
    };
    size_t w = 0;
    for (int field = 3; w < BW_ARRAY_LEN(want); field++) {
        while (*p == ' ')
            p++;
        if (!*p)
            return BW_EIO;
        char *end = p;
        while (*end && *end != ' ')
            end++;
        if (field == want[w].field) {
            char *e;
            unsigned long long v = strtoull(p, &e, 10);
            if (e != end)
                return BW_EIO;
            *(double *)(void *)((char *)out + want[w].offset) = (double)v;
            w++;
        }
        p = end;
    }
    return BW_OK;
}

/* Counts the entries of /proc/self/fd (the descriptor used to read it included, as the Go
 * client does). -1 on failure. */
static double count_fds(void)
{
    int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char buf[4096];
    double n = 0;
    ssize_t k;
    while ((k = getdents64(fd, buf, sizeof(buf))) > 0)
        for (ssize_t off = 0; off < k;) {
            struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
            n += strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
            off += d->d_reclen;
        }
    close(fd);
    return k < 0 ? -1 : n;
}

/* The value after `key` in a "key value" line of a /proc file, e.g. btime in /proc/stat or
 * MemTotal: in /proc/meminfo. /proc/stat has very long lines, hence getline. -1 when absent. */
static double proc_value(const char *path, const char *key)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0, klen = strlen(key);
    double v = -1;
    while (getline(&line, &cap, f) > 0)
        if (strncmp(line, key, klen) == 0) {
            v = strtod(line + klen, NULL);
            break;
        }
    free(line);
    fclose(f);
    return v;
}

static void collect(bw_registry *r, void *ud)
{
    (void)r;
    struct process *p = ud;
    struct stat_fields st;
    int64_t now = clock_mono_ns();
    if (p->last_ns && now - p->last_ns < PROCESS_MIN_INTERVAL_NS)
        return;
    if (read_stat(&st) == BW_OK) {
        double cpu = (st.utime + st.stime) / p->clk_tck;
        metrics_counter_set(p->cpu_seconds, cpu);
        /* The first collection averages over the process's life so far. */
        double dt = p->last_ns ? (double)(now - p->last_ns) / 1e9
                               : (double)clock_real_ns() / 1e9 - p->start;
        double dcpu = cpu - (p->last_ns ? p->last_cpu : 0);
        if (dt > 0)
            bw_gauge_set(p->cpu_usage, dcpu / dt * 100);
        p->last_cpu = cpu;
        p->last_ns = now;
        double rss = st.rss * p->page_size;
        bw_gauge_set(p->rss, rss);
        bw_gauge_set(p->vsize, st.vsize);
        bw_gauge_set(p->threads, st.threads);
        if (p->mem_total > 0)
            bw_gauge_set(p->mem_percent, rss / p->mem_total * 100);
    }
    double fds = count_fds();
    if (fds >= 0)
        bw_gauge_set(p->open_fds, fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        bw_gauge_set(p->max_fds, rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
}

/* Declares the families and resolves their one series each. */
static int declare_all(bw_registry *r, struct process *p)
{
    const struct {
        const char *name, *help;
        bw_gauge **g;
    } gauges[] = {
        {"process_resident_memory_bytes", "Resident memory size in bytes.", &p->rss},
        {"process_virtual_memory_bytes", "Virtual memory size in bytes.", &p->vsize},
        {"process_open_fds", "Number of open file descriptors.", &p->open_fds},
        {"process_max_fds", "Maximum number of open file descriptors.", &p->max_fds},
        {"process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
         &p->start_time},
        {"process_threads", "Number of OS threads in the process.", &p->threads},
        {"process_cpu_usage",
         "CPU used by the process since the previous collection, in percent of one core.",
         &p->cpu_usage},
        {"process_memory_percent",
         "Resident memory of the process as a percentage of physical memory.", &p->mem_percent},
    };
    int rc = bw_counter_new(r, "process_cpu_seconds_total",
                            "Total user and system CPU time spent in seconds.", &p->cpu_seconds);
    for (size_t i = 0; i < BW_ARRAY_LEN(gauges) && rc == BW_OK; i++)
        rc = bw_gauge_new(r, gauges[i].name, gauges[i].help, gauges[i].g);
    return rc;
}

int bw_process_collector_register(bw_registry *r)
{
    if (!r)
        return BW_EINVAL;
    struct process *p = calloc(1, sizeof(*p));
    if (!p)
        return BW_ENOMEM;
    struct stat_fields st;
    int rc = BW_EIO;
    long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    double btime = proc_value("/proc/stat", "btime ");
    if (tck <= 0 || page <= 0 || btime < 0 || read_stat(&st) != BW_OK)
        goto err;
    p->clk_tck = (double)tck;
    p->page_size = (double)page;
    p->start = btime + st.starttime / p->clk_tck;
    double kb = proc_value("/proc/meminfo", "MemTotal:");
    p->mem_total = kb > 0 ? kb * 1024 : 0;
    rc = declare_all(r, p);
    if (rc == BW_OK)
        rc = metrics_registry_hook(r, collect, p, free, 1);
    if (rc != BW_OK)
        goto err;
    bw_gauge_set(p->start_time, p->start);
    return BW_OK;
err:
    free(p);
    return rc;
}
