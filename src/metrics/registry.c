/* registry: metric families, their series, and the lock-free hot path.
 *
 * A registry owns its families in an array sorted by name; a family owns its series in an array
 * sorted by label values, plus an open-addressing hash index over them so that resolving a
 * label set is one probe. Declaring, resolving and scraping take the registry mutex; the hot
 * path never does.
 *
 * The one design decision: counter and histogram values live in cells, and every writer thread
 * writes only its own copy of them. A thread claims one of BW_MAX_WRITERS process-wide writer
 * slots on its first update (a bitmap; a pthread key destructor hands the slot back when the
 * thread exits, and the next owner keeps adding to the same memory). Per registry, each slot
 * has a lazily allocated shard. A cell of a shard has exactly one writer, so an update is a
 * relaxed atomic load and store: no lock, no CAS, no contended cache line. A read sums the
 * shards; a scrape sums them all at once, shard after shard (metrics_registry_sum). Threads beyond
 * BW_MAX_WRITERS share one extra shard updated with atomic read-modify-writes.
 *
 * The rest of the hot path's shape comes from measuring it (bench/bench_metrics.c): events are
 * counted in integer cells, because an update waits for the previous update of the same cell
 * and an integer add is one cycle where a float add, with its moves between registers, is
 * about ten; and a thread reaches its shard through a one-entry cache (struct writer), not
 * through the registry. A shard has twice `cells` cells: a counter's event count at its cell
 * and the float total of its bw_counter_add amounts `cells` further on, its value being their
 * sum. That keeps a counter at one cell of the registry's capacity, and the upper half is only
 * paged in where counters add amounts or histograms sum. Histogram cells hold per-bucket (not
 * cumulative) counts, and the float sum is the upper half of the first of them; _count is the
 * sum of the bucket counts, so it always equals the +Inf bucket. The lower half thus holds only
 * integers and the upper half only floats, so a scrape sums each half in one sweep.
 *
 * Finding the bucket of a value uses a per-family table indexed by the value's binade (see
 * bucket_of). Bucket `le` text uses the OpenMetrics canonical float form ("1.0", "0.005",
 * "1e-06", "+Inf") in both exposition formats: Prometheus 3 normalises `le` to that form on
 * ingestion, so a query filtering on le="1.0" matches whichever format was scraped. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"

/* HOT starts a function on a 64-byte line, so that where its branches fall among the CPU's
 * fetch blocks does not depend on what else is linked: on Zen 3, the same counter increment
 * cost 1.9 ns at the start of a line and 2.8 ns 16 bytes into one. */
#if defined(__GNUC__)
#define COLD        __attribute__((cold, noinline))
#define HOT         __attribute__((aligned(64)))
#define TLS_INITIAL __attribute__((tls_model("initial-exec")))
#else
#define COLD
#define HOT
#define TLS_INITIAL
#endif

#define DEFAULT_CELLS 65536
#define SHARD_PAD     64 /* bytes each side of a shard, so no other allocation shares a line */

const double bw_default_buckets[] = {1e-6, 2.5e-6, 5e-6,   1e-5, 2.5e-5, 5e-5,  1e-4, 2.5e-4,
                                     5e-4, 1e-3,   2.5e-3, 5e-3, 0.01,   0.025, 0.05, 0.1,
                                     0.25, 0.5,    1,      2.5,  5,      10};
const size_t bw_default_buckets_len = BW_ARRAY_LEN(bw_default_buckets);

_Static_assert(BW_MAX_WRITERS == 64, "writer slots are one 64-bit bitmap");

/* ---- writers ----------------------------------------------------------------------------- */

/* A thread's writer id: 0 until its first update, then its slot + 1 (a slot indexes the bitmap
 * and a registry's own[]), or NO_SLOT when none was free: it then writes to the shared shard. */
#define NO_SLOT (BW_MAX_WRITERS + 1)

/* The calling thread as a writer: its id, and the shard it last wrote to, `cells` in the
 * registry numbered `serial` (0: none). The hot path compares the handle's registry with that
 * serial and goes straight to the cells. Reaching the shard through the registry instead
 * (handle, registry, shard, cell) is a chain of dependent loads that every update waits for;
 * the comparison needs a load too, but only a predicted branch waits for it (2.6 to 1.8 ns per
 * increment). A thread that alternates between registries takes the slow path at each switch.
 * Serials are never reused, so the entry of a freed registry matches nothing. initial-exec TLS
 * makes the access one %fs-relative load in the shared library too; the library is meant to be
 * linked, not dlopen'ed late into a process whose static TLS is used up. */
static _Thread_local struct writer {
    uint64_t serial;
    union metrics_cell *cells;
    unsigned id;
} writer TLS_INITIAL;
static _Atomic uint64_t last_serial;
static _Atomic uint64_t slots_taken; /* bit s set while slot s is claimed */
static pthread_key_t slot_key;       /* holds the thread's id, for its destructor */
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static int slot_key_ok;

static void slot_release(void *p)
{
    unsigned id = (unsigned)(uintptr_t)p;
    atomic_fetch_and_explicit(&slots_taken, ~(UINT64_C(1) << (id - 1)), memory_order_release);
    writer = (struct writer){0};
}

static void slot_key_create(void)
{
    slot_key_ok = pthread_key_create(&slot_key, slot_release) == 0;
}

/* Claims a free slot for the calling thread and returns its id, NO_SLOT when none is free.
 * The acquire pairs with slot_release so the new owner sees everything the previous owner
 * wrote to the slot's shards. */
static unsigned slot_claim(void)
{
    unsigned id = NO_SLOT;
    pthread_once(&slot_once, slot_key_create);
    uint64_t taken = atomic_load_explicit(&slots_taken, memory_order_relaxed);
    while (slot_key_ok && ~taken) {
        unsigned bit = (unsigned)__builtin_ctzll(~taken);
        uint64_t mask = UINT64_C(1) << bit;
        if (!atomic_compare_exchange_weak_explicit(&slots_taken, &taken, taken | mask,
                                                   memory_order_acquire, memory_order_relaxed))
            continue;
        if (pthread_setspecific(slot_key, (void *)(uintptr_t)(bit + 1)) == 0)
            id = bit + 1;
        else
            atomic_fetch_and_explicit(&slots_taken, ~mask, memory_order_release);
        break;
    }
    writer.id = id;
    return id;
}

/* ---- shards ------------------------------------------------------------------------------- */

static union metrics_cell *shard_new(size_t cells)
{
    char *p = calloc(1, 2 * cells * sizeof(union metrics_cell) + 2 * SHARD_PAD);
    return p ? (union metrics_cell *)(void *)(p + SHARD_PAD) : NULL;
}

static void shard_free(union metrics_cell *s)
{
    if (s)
        free((char *)(void *)s - SHARD_PAD);
}

/* Allocates the shard of slot i in r. Only the slot's owner gets here, so a plain release store
 * publishes it; nown is raised after it so a reader that sees the new bound sees the shard.
 * NULL when out of memory (the caller falls back to the shared shard). */
static union metrics_cell *shard_claim(bw_registry *r, unsigned i)
{
    union metrics_cell *s = shard_new(r->cells);
    if (!s)
        return NULL;
    atomic_store_explicit(&r->own[i], s, memory_order_release);
    unsigned n = atomic_load_explicit(&r->nown, memory_order_relaxed);
    while (n <= i && !atomic_compare_exchange_weak_explicit(
                         &r->nown, &n, i + 1, memory_order_release, memory_order_relaxed))
        ;
    return s;
}

/* Whether writer.cells are the calling thread's own cells in r. */
static inline int writes_to(const bw_registry *r)
{
    return r->serial == writer.serial;
}

/* Updates of a cell only the calling thread writes: no lock prefix, no CAS. For own_inc, clang
 * fuses the load and store into one add to memory, GCC does not; on x86-64 GCC is given that
 * instruction, which shortens the hot path (1.7 to 1.5 ns per increment of four counters in
 * turn, 8.5 to 8.2 ns per observation). An aligned 8-byte store is atomic there, so a reader
 * still sees the old count or the new one. */
static inline void own_inc(union metrics_cell *c)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
    __asm__("addq $1, %0" : "+m"(c->n));
#else
    uint64_t n = atomic_load_explicit(&c->n, memory_order_relaxed);
    atomic_store_explicit(&c->n, n + 1, memory_order_relaxed);
#endif
}

static inline void own_add(union metrics_cell *c, double v)
{
    double x = atomic_load_explicit(&c->x, memory_order_relaxed);
    atomic_store_explicit(&c->x, x + v, memory_order_relaxed);
}

/* An add to a float that other threads update too. */
static void shared_add(_Atomic double *x, double v)
{
    double old = atomic_load_explicit(x, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(x, &old, old + v, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

/* What the fast paths leave out, kept out of line so that they need no stack frame: finding
 * the calling thread's shard in r on its first update there or after it wrote to another
 * registry (claiming a slot and allocating the shard as needed, then remembering it in
 * `writer`); for a thread with no slot or no memory for a shard, an atomic update of the
 * shared shard. own_cells_find returns NULL in that second case. */
static union metrics_cell *own_cells_find(bw_registry *r)
{
    unsigned id = writer.id ? writer.id : slot_claim();
    if (id == NO_SLOT)
        return NULL;
    union metrics_cell *s = atomic_load_explicit(&r->own[id - 1], memory_order_relaxed);
    if (!s)
        s = shard_claim(r, id - 1);
    if (s)
        writer = (struct writer){r->serial, s, id};
    return s;
}

static COLD void slow_inc(bw_registry *r, size_t cell)
{
    union metrics_cell *s = own_cells_find(r);
    if (s)
        own_inc(&s[cell]);
    else
        atomic_fetch_add_explicit(&r->shared[cell].n, 1, memory_order_relaxed);
}

static COLD void slow_add(bw_registry *r, size_t cell, double v)
{
    union metrics_cell *s = own_cells_find(r);
    if (s)
        own_add(&s[cell], v);
    else
        shared_add(&r->shared[cell].x, v);
}

/* One call for both cells, so that the fast path of bw_histogram_observe needs no frame. */
static COLD void slow_observe(bw_registry *r, size_t bucket, size_t sum, double v)
{
    slow_inc(r, bucket);
    slow_add(r, sum, v);
}

/* The shards a read sums, into out (BW_MAX_WRITERS + 1 entries): the slots' that exist, then
 * the shared one. Returns how many. */
static size_t shards(const bw_registry *r, const union metrics_cell **out)
{
    size_t n = 0;
    unsigned nown = atomic_load_explicit(&r->nown, memory_order_acquire);
    for (unsigned i = 0; i < nown; i++) {
        out[n] = atomic_load_explicit(&r->own[i], memory_order_acquire);
        n += out[n] != NULL;
    }
    out[n++] = r->shared;
    return n;
}

size_t metrics_registry_shards(const bw_registry *r)
{
    const union metrics_cell *s[BW_MAX_WRITERS + 1];
    return shards(r, s) - 1;
}

/* ---- hot path ----------------------------------------------------------------------------- */

HOT void bw_counter_inc(bw_counter *c)
{
    if (BW_UNLIKELY(!c))
        return;
    if (BW_LIKELY(writes_to(c->r)))
        own_inc(&writer.cells[c->cell]);
    else
        slow_inc(c->r, c->cell);
}

HOT void bw_counter_add(bw_counter *c, double v)
{
    if (BW_UNLIKELY(!c || !(v >= 0)))
        return;
    size_t cell = c->r->cells + c->cell;
    if (BW_LIKELY(writes_to(c->r)))
        own_add(&writer.cells[cell], v);
    else
        slow_add(c->r, cell, v);
}

void bw_gauge_set(bw_gauge *g, double v)
{
    if (BW_LIKELY(g != NULL))
        atomic_store_explicit(&g->value, v, memory_order_relaxed);
}

void bw_gauge_add(bw_gauge *g, double v)
{
    if (BW_LIKELY(g != NULL))
        shared_add(&g->value, v);
}

/* The sign and exponent of v, its top 12 bits: they name its binade, the power-of-two range it
 * falls in. */
static inline uint32_t binade(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return (uint32_t)(u >> 52);
}

/* v's bits as a signed integer that orders as v does (NaN aside): a negative's magnitude bits
 * are flipped, so that a larger magnitude makes a smaller integer; -0 comes just below +0. */
static inline int64_t order_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return (int64_t)(u ^ ((uint64_t)((int64_t)u >> 63) >> 1));
}

/* The index of the first bound >= v, nbounds when there is none; NaN lands in +Inf, as in the
 * Go client. Few bounds: a linear scan. More: a binary search would be a chain of five or six
 * dependent compare-and-select steps, about 20 ns; instead the binade table gives how many
 * bounds lie in binades below v's, and only the few bounds sharing v's binade (span, 1 for the
 * default buckets) are compared. The keys are padded with span +Inf so that needs no range
 * check. Bounds are compared as order keys, integers: the bucket's address is on the critical
 * path of an observation, and comparing v's bits where they already are, in an integer
 * register, spares the latency of a float compare (8.1 to 7.7 ns per observation). */
static inline size_t bucket_of(const struct bw_histogram *h, double v)
{
    const int64_t *b = h->keys;
    size_t n = h->nbounds;
    if (BW_UNLIKELY(v != v))
        return n;
    int64_t k = order_key(v);
    if (n <= METRICS_LINEAR_MAX) {
        size_t i = 0;
        while (i < n && b[i] < k)
            i++;
        return i;
    }
    size_t i = h->start[binade(v)], bucket = i + (b[i] < k);
    for (uint32_t t = 1; t < h->span; t++)
        bucket += b[i + t] < k;
    return bucket;
}

HOT void bw_histogram_observe(bw_histogram *h, double v)
{
    if (BW_UNLIKELY(!h))
        return;
    size_t bucket = h->cell + bucket_of(h, v);
    if (BW_LIKELY(writes_to(h->r))) {
        union metrics_cell *cells = writer.cells; /* once: the first store might alias it */
        own_inc(&cells[bucket]);
        own_add(&cells[h->sum], v);
        return;
    }
    slow_observe(h->r, bucket, h->sum, v);
}

/* ---- reads -------------------------------------------------------------------------------- */

/* Reads are lock-free and may run concurrently with writers: each cell is read atomically, a
 * set of cells is not a snapshot. */

double bw_counter_value(const bw_counter *c)
{
    if (!c)
        return 0;
    const union metrics_cell *s[BW_MAX_WRITERS + 1];
    size_t ns = shards(c->r, s), amount = c->r->cells + c->cell;
    uint64_t n = 0;
    double x = 0;
    for (size_t i = 0; i < ns; i++) {
        n += atomic_load_explicit(&s[i][c->cell].n, memory_order_relaxed);
        x += atomic_load_explicit(&s[i][amount].x, memory_order_relaxed);
    }
    return (double)n + x;
}

double bw_gauge_value(const bw_gauge *g)
{
    return g ? atomic_load_explicit(&g->value, memory_order_relaxed) : 0;
}

size_t bw_histogram_read(const bw_histogram *h, uint64_t *buckets, uint64_t *count, double *sum)
{
    if (!h)
        return 0;
    const union metrics_cell *s[BW_MAX_WRITERS + 1];
    size_t ns = shards(h->r, s);
    uint64_t cum = 0;
    for (size_t b = 0; b <= h->nbounds; b++) {
        for (size_t i = 0; i < ns; i++)
            cum += atomic_load_explicit(&s[i][h->cell + b].n, memory_order_relaxed);
        if (buckets)
            buckets[b] = cum;
    }
    if (count)
        *count = cum;
    if (sum) {
        *sum = 0;
        for (size_t i = 0; i < ns; i++)
            *sum += atomic_load_explicit(&s[i][h->sum].x, memory_order_relaxed);
    }
    return h->nbounds + 1;
}

/* The same additions in the same order as bw_counter_value and bw_histogram_read, so a scrape
 * renders exactly what they would return. */
void metrics_registry_sum(bw_registry *r)
{
    const union metrics_cell *s[BW_MAX_WRITERS + 1];
    size_t ns = shards(r, s), used = r->next_cell;
    uint64_t *n = r->total_n;
    double *x = r->total_x;
    if (used == 0)
        return;
    memset(n, 0, used * sizeof(*n));
    memset(x, 0, used * sizeof(*x));
    for (size_t i = 0; i < ns; i++) {
        const union metrics_cell *counts = s[i], *floats = s[i] + r->cells;
        for (size_t c = 0; c < used; c++)
            n[c] += atomic_load_explicit(&counts[c].n, memory_order_relaxed);
        for (size_t c = 0; c < used; c++)
            x[c] += atomic_load_explicit(&floats[c].x, memory_order_relaxed);
    }
}

void metrics_counter_set(bw_counter *c, double v)
{
    double cur = bw_counter_value(c);
    if (v > cur)
        bw_counter_add(c, v - cur);
}

/* ---- registry ----------------------------------------------------------------------------- */

bw_registry *bw_registry_new(size_t cells)
{
    if (cells == 0)
        cells = DEFAULT_CELLS;
    if (cells > UINT32_MAX)
        return NULL;
    bw_registry *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->serial = atomic_fetch_add_explicit(&last_serial, 1, memory_order_relaxed) + 1;
    r->cells = cells;
    r->shared = shard_new(cells);
    if (!r->shared)
        goto err;
    if (pthread_mutex_init(&r->mu, NULL) != 0)
        goto err;
    if (pthread_mutex_init(&r->collect_mu, NULL) != 0) {
        pthread_mutex_destroy(&r->mu);
        goto err;
    }
    return r;
err:
    shard_free(r->shared);
    free(r);
    return NULL;
}

static void series_free(struct metrics_series *s)
{
    free(s->text);
    free(s);
}

static void family_free(bw_family *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->nseries; i++)
        series_free(f->series[i]);
    free(f->series);
    free(f->index);
    for (size_t i = 0; i < NAME_KINDS; i++)
        free(f->names[i].s);
    free(f->header[0].s);
    free(f->header[1].s);
    free(f->help);
    for (size_t i = 0; i < f->nlabels; i++)
        free((char *)f->label_names[i]);
    free(f->keys);
    free(f->start);
    free(f->le);
    free(f);
}

void bw_registry_free(bw_registry *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nhooks; i++)
        if (r->hooks[i].fini)
            r->hooks[i].fini(r->hooks[i].ud);
    free(r->hooks);
    for (size_t i = 0; i < r->nfamilies; i++)
        family_free(r->families[i]);
    free(r->families);
    free(r->total_n);
    free(r->total_x);
    for (unsigned i = 0; i < BW_MAX_WRITERS; i++)
        shard_free(atomic_load_explicit(&r->own[i], memory_order_acquire));
    shard_free(r->shared);
    pthread_mutex_destroy(&r->mu);
    pthread_mutex_destroy(&r->collect_mu);
    free(r);
}

int metrics_registry_hook(bw_registry *r, bw_collect_fn fn, void *ud, void (*fini)(void *ud),
                          int unique)
{
    int rc = BW_OK;
    pthread_mutex_lock(&r->collect_mu);
    for (size_t i = 0; unique && i < r->nhooks; i++)
        if (r->hooks[i].fn == fn) {
            rc = BW_EEXIST;
            goto out;
        }
    if (r->nhooks == r->hooks_cap) {
        size_t ncap = r->hooks_cap ? 2 * r->hooks_cap : 4;
        struct metrics_hook *p = realloc(r->hooks, ncap * sizeof(*p));
        if (!p) {
            rc = BW_ENOMEM;
            goto out;
        }
        r->hooks = p;
        r->hooks_cap = ncap;
    }
    r->hooks[r->nhooks++] = (struct metrics_hook){fn, ud, fini};
out:
    pthread_mutex_unlock(&r->collect_mu);
    return rc;
}

int bw_registry_on_collect(bw_registry *r, bw_collect_fn fn, void *ud)
{
    if (!r || !fn)
        return BW_EINVAL;
    return metrics_registry_hook(r, fn, ud, NULL, 0);
}

void metrics_run_hooks(bw_registry *r)
{
    pthread_mutex_lock(&r->collect_mu);
    for (size_t i = 0; i < r->nhooks; i++)
        r->hooks[i].fn(r, r->hooks[i].ud);
    pthread_mutex_unlock(&r->collect_mu);
}

/* ---- validation --------------------------------------------------------------------------- */

/* [a-zA-Z_][a-zA-Z0-9_]*, not reserved (a leading "__"). */
static int valid_label_name(const char *s)
{
    return s && prom_name_valid(s, strlen(s), false) && !(s[0] == '_' && s[1] == '_');
}

static int check_labels(enum bw_type type, size_t nlabels, const char *const *labels)
{
    if (nlabels > BW_MAX_LABELS || (nlabels && !labels))
        return BW_EINVAL;
    for (size_t i = 0; i < nlabels; i++) {
        if (!valid_label_name(labels[i]))
            return BW_EINVAL;
        if (type == BW_HISTOGRAM && strcmp(labels[i], "le") == 0)
            return BW_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(labels[i], labels[j]) == 0)
                return BW_EINVAL;
    }
    return BW_OK;
}

/* Checks bounds and returns the number to keep in *n: a trailing +Inf is dropped (it is
 * implicit). NULL bounds mean the default set and need nbounds 0. */
static int check_bounds(const double **bounds, size_t *n)
{
    if (!*bounds) {
        if (*n)
            return BW_EINVAL;
        *bounds = bw_default_buckets;
        *n = bw_default_buckets_len;
        return BW_OK;
    }
    if (*n && isinf((*bounds)[*n - 1]) && (*bounds)[*n - 1] > 0)
        (*n)--;
    if (*n > BW_MAX_BUCKETS)
        return BW_EINVAL;
    for (size_t i = 0; i < *n; i++)
        if (!isfinite((*bounds)[i]) || (i && !((*bounds)[i] > (*bounds)[i - 1])))
            return BW_EINVAL;
    return BW_OK;
}

/* ---- families ----------------------------------------------------------------------------- */

/* Appends s, escaping backslash and LF, and also '"' when quote is set. */
static int escape(struct buf *b, const char *s, int quote)
{
    int rc = BW_OK;
    for (const char *p = s; *p && rc == BW_OK; p++) {
        if (*p == '\\')
            rc = buf_append(b, "\\\\", 2);
        else if (*p == '\n')
            rc = buf_append(b, "\\n", 2);
        else if (*p == '"' && quote)
            rc = buf_append(b, "\\\"", 2);
        else
            rc = buf_putc(b, *p);
    }
    return rc;
}

static int str_cat(struct metrics_str *out, const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    out->s = malloc(alen + blen + 1);
    if (!out->s)
        return BW_ENOMEM;
    memcpy(out->s, a, alen);
    memcpy(out->s + alen, b, blen + 1);
    out->len = alen + blen;
    return BW_OK;
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static const char *const type_names[] = {"counter", "gauge", "histogram"};

/* `# HELP name help` and `# TYPE name type` (0.0.4), `# TYPE` then `# HELP` (OpenMetrics,
 * the recommended order, with '"' escaped too). */
static int render_header(struct metrics_str *out, const struct metrics_str *name, enum bw_type type,
                         const char *help, int om)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = BW_OK;
    if (om)
        rc = buf_printf(&b, "# TYPE %s %s\n", name->s, type_names[type]);
    if (rc == BW_OK)
        rc = buf_printf(&b, "# HELP %s ", name->s);
    if (rc == BW_OK)
        rc = escape(&b, help, om);
    if (rc == BW_OK)
        rc = buf_putc(&b, '\n');
    if (rc == BW_OK && !om)
        rc = buf_printf(&b, "# TYPE %s %s\n", name->s, type_names[type]);
    if (rc != BW_OK) {
        buf_fini(&b);
        return rc;
    }
    out->s = b.data;
    out->len = b.len;
    return BW_OK;
}

static int family_names(bw_family *f, const char *name)
{
    size_t n = strlen(name);
    struct metrics_str *nm = f->names;
    int rc = str_cat(&nm[NAME_DECLARED], name, n, "");
    if (rc == BW_OK)
        rc = str_cat(&nm[NAME_OM_FAMILY], name,
                     f->type == BW_COUNTER && has_suffix(name, "_total") ? n - 6 : n, "");
    if (rc == BW_OK && f->type != BW_HISTOGRAM)
        rc = str_cat(&nm[NAME_TEXT], name, n, "");
    if (rc == BW_OK && f->type != BW_HISTOGRAM)
        rc = str_cat(&nm[NAME_OM], nm[NAME_OM_FAMILY].s, nm[NAME_OM_FAMILY].len,
                     f->type == BW_COUNTER ? "_total" : "");
    if (rc == BW_OK && f->type == BW_HISTOGRAM)
        rc = str_cat(&nm[NAME_BUCKET], name, n, "_bucket");
    if (rc == BW_OK && f->type == BW_HISTOGRAM)
        rc = str_cat(&nm[NAME_SUM], name, n, "_sum");
    if (rc == BW_OK && f->type == BW_HISTOGRAM)
        rc = str_cat(&nm[NAME_COUNT], name, n, "_count");
    return rc;
}

/* Binade j's place in the order of values: j made to sort as an unsigned integer (sign bit
 * set for positives, all bits flipped for negatives). binade_at is its inverse. */
static uint32_t binade_rank(uint32_t j)
{
    return j & 0x800 ? ~j & 0xfff : j | 0x800;
}

static uint32_t binade_at(uint32_t rank)
{
    return rank & 0x800 ? rank & 0x7ff : ~rank & 0xfff;
}

/* Makes the bounds' order keys, renders their `le` text and, past METRICS_LINEAR_MAX bounds,
 * builds the binade table: start[j] is the number of bounds in binades below binade j. A bound
 * of -0 is made +0: as a key or a binade -0 sorts below +0, so +0 would land above it. */
static int family_bounds(bw_family *f, const double *bounds, size_t nbounds)
{
    f->nbounds = nbounds;
    f->span = 1;
    for (size_t i = 1, run = 1; i < nbounds; i++) {
        run = binade(bounds[i] + 0.0) == binade(bounds[i - 1] + 0.0) ? run + 1 : 1;
        f->span = run > f->span ? (uint32_t)run : f->span;
    }
    f->keys = malloc((nbounds + f->span) * sizeof(*f->keys));
    f->le = malloc((nbounds + 1) * sizeof(*f->le));
    if (nbounds > METRICS_LINEAR_MAX)
        f->start = malloc(METRICS_BINADES);
    if (!f->keys || !f->le || (nbounds > METRICS_LINEAR_MAX && !f->start))
        return BW_ENOMEM;
    for (size_t i = 0; i < nbounds; i++) {
        f->keys[i] = order_key(bounds[i] + 0.0);
        f->le[i].len = fmt_double(f->le[i].s, bounds[i], 1);
        f->negative_bounds |= bounds[i] < 0;
    }
    for (size_t i = nbounds; i < nbounds + f->span; i++)
        f->keys[i] = order_key(INFINITY);
    f->le[nbounds].len = fmt_double(f->le[nbounds].s, INFINITY, 1);
    for (uint32_t rank = 0, i = 0; f->start && rank < METRICS_BINADES; rank++) {
        while (i < nbounds && binade_rank(binade(bounds[i] + 0.0)) < rank)
            i++;
        f->start[binade_at(rank)] = (uint8_t)i;
    }
    return BW_OK;
}

/* Builds a family that is not in the registry yet. */
static int family_new(bw_registry *r, enum bw_type type, const char *name, const char *help,
                      size_t nlabels, const char *const *labels, const double *bounds,
                      size_t nbounds, bw_family **out)
{
    bw_family *f = calloc(1, sizeof(*f));
    if (!f)
        return BW_ENOMEM;
    f->r = r;
    f->type = type;
    f->help = xstrdup(help);
    int rc = f->help ? family_names(f, name) : BW_ENOMEM;
    for (size_t i = 0; rc == BW_OK && i < nlabels; i++) {
        f->label_names[i] = xstrdup(labels[i]);
        if (!f->label_names[i])
            rc = BW_ENOMEM;
        else
            f->nlabels++;
    }
    if (rc == BW_OK)
        rc = render_header(&f->header[BW_FORMAT_TEXT], &f->names[NAME_DECLARED], type, help, 0);
    if (rc == BW_OK)
        rc = render_header(&f->header[BW_FORMAT_OPENMETRICS], &f->names[NAME_OM_FAMILY], type, help,
                           1);
    if (rc == BW_OK && type == BW_HISTOGRAM) {
        f->label_names[nlabels] = "le";
        rc = family_bounds(f, bounds, nbounds);
    }
    if (rc != BW_OK)
        goto err;
    *out = f;
    return BW_OK;
err:
    family_free(f);
    return rc;
}

static int family_same(const bw_family *f, enum bw_type type, size_t nlabels,
                       const char *const *labels, const double *bounds, size_t nbounds)
{
    if (f->type != type || f->nlabels != nlabels)
        return 0;
    for (size_t i = 0; i < nlabels; i++)
        if (strcmp(f->label_names[i], labels[i]) != 0)
            return 0;
    if (type != BW_HISTOGRAM)
        return 1;
    if (f->nbounds != nbounds)
        return 0;
    for (size_t i = 0; i < nbounds; i++)
        if (f->keys[i] != order_key(bounds[i] + 0.0))
            return 0;
    return 1;
}

/* Whether two families would expose a shared name in either format: counter `x` next to
 * counter `x_total` (same OpenMetrics family), gauge `x_sum` next to histogram `x`, … */
static int families_clash(const bw_family *a, const bw_family *b)
{
    for (size_t i = 0; i < NAME_KINDS; i++)
        for (size_t j = 0; a->names[i].s && j < NAME_KINDS; j++)
            if (b->names[j].s && strcmp(a->names[i].s, b->names[j].s) == 0)
                return 1;
    return 0;
}

/* Index of the first family whose name is >= name. */
static size_t family_pos(const bw_registry *r, const char *name)
{
    size_t lo = 0, hi = r->nfamilies;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(r->families[mid]->names[NAME_DECLARED].s, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int declare(bw_registry *r, enum bw_type type, const char *name, const char *help,
                   size_t nlabels, const char *const *labels, const double *bounds, size_t nbounds,
                   bw_family **out)
{
    if (!out)
        return BW_EINVAL;
    *out = NULL;
    if (!r || !(name && prom_name_valid(name, strlen(name), true)) || !help || !*help ||
        !utf8_valid(help, strlen(help)))
        return BW_EINVAL;
    int rc = check_labels(type, nlabels, labels);
    if (rc == BW_OK && type == BW_HISTOGRAM)
        rc = check_bounds(&bounds, &nbounds);
    if (rc != BW_OK)
        return rc;

    bw_family *f = NULL;
    pthread_mutex_lock(&r->mu);
    size_t pos = family_pos(r, name);
    if (pos < r->nfamilies && strcmp(r->families[pos]->names[NAME_DECLARED].s, name) == 0) {
        bw_family *old = r->families[pos];
        rc = family_same(old, type, nlabels, labels, bounds, nbounds) ? BW_OK : BW_EEXIST;
        *out = rc == BW_OK ? old : NULL;
        goto out;
    }
    rc = family_new(r, type, name, help, nlabels, labels, bounds, nbounds, &f);
    if (rc != BW_OK)
        goto out;
    for (size_t i = 0; i < r->nfamilies; i++)
        if (families_clash(f, r->families[i])) {
            rc = BW_EEXIST;
            goto out;
        }
    if (r->nfamilies == r->families_cap) {
        size_t ncap = r->families_cap ? 2 * r->families_cap : 16;
        bw_family **p = realloc(r->families, ncap * sizeof(*p));
        if (!p) {
            rc = BW_ENOMEM;
            goto out;
        }
        r->families = p;
        r->families_cap = ncap;
    }
    memmove(&r->families[pos + 1], &r->families[pos], (r->nfamilies - pos) * sizeof(f));
    r->families[pos] = f;
    r->nfamilies++;
    *out = f;
    f = NULL;
out:
    pthread_mutex_unlock(&r->mu);
    family_free(f);
    return rc;
}

int bw_counter_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                      const char *const *labels, bw_family **out)
{
    return declare(r, BW_COUNTER, name, help, nlabels, labels, NULL, 0, out);
}

int bw_gauge_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                    const char *const *labels, bw_family **out)
{
    return declare(r, BW_GAUGE, name, help, nlabels, labels, NULL, 0, out);
}

int bw_histogram_family(bw_registry *r, const char *name, const char *help, size_t nlabels,
                        const char *const *labels, const double *bounds, size_t nbounds,
                        bw_family **out)
{
    return declare(r, BW_HISTOGRAM, name, help, nlabels, labels, bounds, nbounds, out);
}

/* ---- series ------------------------------------------------------------------------------- */

static uint64_t values_hash(size_t n, const char *const *values)
{
    uint64_t h = HASH_SEED;
    for (size_t i = 0; i < n; i++)
        h = hash_bytes(values[i], strlen(values[i]) + 1, h); /* the NUL separates values */
    return h;
}

static int values_cmp(size_t n, const char *const *a, const char *const *b)
{
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a[i], b[i]);
        if (c)
            return c;
    }
    return 0;
}

static struct metrics_series *index_find(const bw_family *f, uint64_t h, const char *const *values)
{
    if (!f->index_cap)
        return NULL;
    size_t mask = f->index_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct metrics_series *s = f->index[i];
        if (!s)
            return NULL;
        if (s->hash == h && values_cmp(f->nlabels, s->values, values) == 0)
            return s;
    }
}

static void index_put(struct metrics_series **index, size_t cap, struct metrics_series *s)
{
    size_t i = s->hash & (cap - 1);
    while (index[i])
        i = (i + 1) & (cap - 1);
    index[i] = s;
}

/* Makes room for one more series in both the sorted array and the index (kept at most half
 * full), so that inserting cannot fail half-way. */
static int family_reserve(bw_family *f)
{
    if (f->nseries == f->series_cap) {
        size_t ncap = f->series_cap ? 2 * f->series_cap : 8;
        struct metrics_series **p = realloc(f->series, ncap * sizeof(*p));
        if (!p)
            return BW_ENOMEM;
        f->series = p;
        f->series_cap = ncap;
    }
    if (2 * (f->nseries + 1) > f->index_cap) {
        size_t ncap = f->index_cap ? 2 * f->index_cap : 16;
        struct metrics_series **idx = calloc(ncap, sizeof(*idx));
        if (!idx)
            return BW_ENOMEM;
        for (size_t i = 0; i < f->nseries; i++)
            index_put(idx, ncap, f->series[i]);
        free(f->index);
        f->index = idx;
        f->index_cap = ncap;
    }
    return BW_OK;
}

/* Appends `name{a="x",b="y",le="0.005"} ` (le when given; no braces without labels). */
static int render_prefix(struct buf *b, const struct metrics_str *name, const bw_family *f,
                         const char *const *values, const char *le)
{
    int rc = buf_append(b, name->s, name->len);
    for (size_t i = 0; i < f->nlabels && rc == BW_OK; i++) {
        rc = buf_printf(b, "%c%s=\"", i ? ',' : '{', f->label_names[i]);
        if (rc == BW_OK)
            rc = escape(b, values[i], 1);
        if (rc == BW_OK)
            rc = buf_putc(b, '"');
    }
    if (rc == BW_OK && le)
        rc = buf_printf(b, "%cle=\"%s\"", f->nlabels ? ',' : '{', le);
    if (rc == BW_OK && (f->nlabels || le))
        rc = buf_putc(b, '}');
    return rc == BW_OK ? buf_putc(b, ' ') : rc;
}

/* Builds a series: the struct with its prefix table, and one block of text holding the label
 * values (NUL-separated) and the line prefixes. */
static int series_new(const bw_family *f, const char *const *values, uint64_t hash,
                      struct metrics_series **out)
{
    size_t n = f->type == BW_HISTOGRAM ? f->nbounds + 3 : 2;
    struct metrics_series *s = calloc(1, sizeof(*s) + n * sizeof(s->prefix[0]));
    if (!s)
        return BW_ENOMEM;
    s->hash = hash;
    struct buf b;
    buf_init(&b, 0);
    size_t voff[BW_MAX_LABELS], poff[BW_MAX_BUCKETS + 3];
    int rc = BW_OK;
    for (size_t i = 0; i < f->nlabels && rc == BW_OK; i++) {
        voff[i] = b.len;
        rc = buf_append(&b, values[i], strlen(values[i]) + 1);
    }
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        poff[i] = b.len;
        if (f->type != BW_HISTOGRAM)
            rc = render_prefix(&b, &f->names[i == BW_FORMAT_TEXT ? NAME_TEXT : NAME_OM], f, values,
                               NULL);
        else if (i <= f->nbounds)
            rc = render_prefix(&b, &f->names[NAME_BUCKET], f, values, f->le[i].s);
        else
            rc = render_prefix(&b, &f->names[i == f->nbounds + 1 ? NAME_SUM : NAME_COUNT], f,
                               values, NULL);
    }
    if (rc != BW_OK)
        goto err;
    s->text = realloc(b.data, b.len + 1); /* give back the growth slack */
    if (!s->text)
        s->text = b.data;
    for (size_t i = 0; i < f->nlabels; i++)
        s->values[i] = s->text + voff[i];
    for (size_t i = 0; i < n; i++)
        s->prefix[i] =
            (struct metrics_str){s->text + poff[i], (i + 1 < n ? poff[i + 1] : b.len) - poff[i]};
    *out = s;
    return BW_OK;
err:
    buf_fini(&b);
    free(s);
    return rc;
}

/* Makes the totals hold at least `used` cells, growing them geometrically up to the registry's
 * capacity. BW_OK or BW_ENOMEM. */
static int totals_reserve(bw_registry *r, size_t used)
{
    if (used <= r->totals_cap)
        return BW_OK;
    size_t cap = r->totals_cap ? 2 * r->totals_cap : 256;
    cap = cap < used ? used : cap > r->cells ? r->cells : cap;
    uint64_t *n = realloc(r->total_n, cap * sizeof(*n));
    if (!n)
        return BW_ENOMEM;
    r->total_n = n;
    double *x = realloc(r->total_x, cap * sizeof(*x));
    if (!x)
        return BW_ENOMEM;
    r->total_x = x;
    r->totals_cap = cap;
    return BW_OK;
}

static int resolve(bw_family *f, enum bw_type type, const char *const *values,
                   struct metrics_series **out)
{
    if (!f || f->type != type || (f->nlabels && !values))
        return BW_EINVAL;
    for (size_t i = 0; i < f->nlabels; i++)
        if (!values[i] || !utf8_valid(values[i], strlen(values[i])))
            return BW_EINVAL;
    uint64_t h = values_hash(f->nlabels, values);
    bw_registry *r = f->r;
    size_t need = type == BW_COUNTER ? 1 : type == BW_HISTOGRAM ? f->nbounds + 1 : 0;
    struct metrics_series *s = NULL;
    int rc = BW_OK;

    pthread_mutex_lock(&r->mu);
    *out = index_find(f, h, values);
    if (*out)
        goto out;
    if (need > r->cells - r->next_cell) {
        rc = BW_ENOSPC;
        goto out;
    }
    rc = totals_reserve(r, r->next_cell + need);
    if (rc == BW_OK)
        rc = family_reserve(f);
    if (rc == BW_OK)
        rc = series_new(f, values, h, &s);
    if (rc != BW_OK)
        goto out;
    if (type == BW_COUNTER)
        s->h.counter = (struct bw_counter){r, (uint32_t)r->next_cell};
    else if (type == BW_HISTOGRAM)
        s->h.hist = (struct bw_histogram){r,
                                          f->keys,
                                          f->start,
                                          r->cells + r->next_cell,
                                          (uint32_t)r->next_cell,
                                          (uint32_t)f->nbounds,
                                          f->span};
    else
        atomic_init(&s->h.gauge.value, 0.0);
    r->next_cell += need;
    size_t lo = 0, hi = f->nseries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (values_cmp(f->nlabels, f->series[mid]->values, s->values) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&f->series[lo + 1], &f->series[lo], (f->nseries - lo) * sizeof(s));
    f->series[lo] = s;
    f->nseries++;
    index_put(f->index, f->index_cap, s);
    *out = s;
out:
    pthread_mutex_unlock(&r->mu);
    return rc;
}

int bw_counter_resolve(bw_family *f, const char *const *values, bw_counter **out)
{
    struct metrics_series *s = NULL;
    if (!out)
        return BW_EINVAL;
    int rc = resolve(f, BW_COUNTER, values, &s);
    *out = s ? &s->h.counter : NULL;
    return rc;
}

int bw_gauge_resolve(bw_family *f, const char *const *values, bw_gauge **out)
{
    struct metrics_series *s = NULL;
    if (!out)
        return BW_EINVAL;
    int rc = resolve(f, BW_GAUGE, values, &s);
    *out = s ? &s->h.gauge : NULL;
    return rc;
}

int bw_histogram_resolve(bw_family *f, const char *const *values, bw_histogram **out)
{
    struct metrics_series *s = NULL;
    if (!out)
        return BW_EINVAL;
    int rc = resolve(f, BW_HISTOGRAM, values, &s);
    *out = s ? &s->h.hist : NULL;
    return rc;
}

int bw_counter_new(bw_registry *r, const char *name, const char *help, bw_counter **out)
{
    bw_family *f = NULL;
    int rc = bw_counter_family(r, name, help, 0, NULL, &f);
    return rc ? rc : bw_counter_resolve(f, NULL, out);
}

int bw_gauge_new(bw_registry *r, const char *name, const char *help, bw_gauge **out)
{
    bw_family *f = NULL;
    int rc = bw_gauge_family(r, name, help, 0, NULL, &f);
    return rc ? rc : bw_gauge_resolve(f, NULL, out);
}

int bw_histogram_new(bw_registry *r, const char *name, const char *help, const double *bounds,
                     size_t nbounds, bw_histogram **out)
{
    bw_family *f = NULL;
    int rc = bw_histogram_family(r, name, help, 0, NULL, bounds, nbounds, &f);
    return rc ? rc : bw_histogram_resolve(f, NULL, out);
}

/* ---- visit -------------------------------------------------------------------------------- */

static void visit_series(const bw_family *f, const struct metrics_series *s, bw_sample_fn fn,
                         void *ud)
{
    const char *const *names = f->label_names;
    const char *values[BW_MAX_LABELS + 1];
    memcpy(values, s->values, f->nlabels * sizeof(*values));
    if (f->type == BW_COUNTER) {
        fn(ud, f->names[NAME_TEXT].s, f->nlabels, names, values, bw_counter_value(&s->h.counter));
        return;
    }
    if (f->type == BW_GAUGE) {
        fn(ud, f->names[NAME_TEXT].s, f->nlabels, names, values, bw_gauge_value(&s->h.gauge));
        return;
    }
    uint64_t buckets[BW_MAX_BUCKETS + 1], count;
    double sum;
    bw_histogram_read(&s->h.hist, buckets, &count, &sum);
    for (size_t i = 0; i <= f->nbounds; i++) {
        values[f->nlabels] = f->le[i].s;
        fn(ud, f->names[NAME_BUCKET].s, f->nlabels + 1, names, values, (double)buckets[i]);
    }
    fn(ud, f->names[NAME_SUM].s, f->nlabels, names, values, sum);
    fn(ud, f->names[NAME_COUNT].s, f->nlabels, names, values, (double)count);
}

void bw_registry_visit(bw_registry *r, bw_sample_fn fn, void *ud)
{
    if (!r || !fn)
        return;
    metrics_run_hooks(r);
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nfamilies; i++)
        for (size_t j = 0; j < r->families[i]->nseries; j++)
            visit_series(r->families[i], r->families[i]->series[j], fn, ud);
    pthread_mutex_unlock(&r->mu);
}

void bw_registry_visit_families(bw_registry *r, bw_family_fn fn, void *ud)
{
    if (!r || !fn)
        return;
    pthread_mutex_lock(&r->mu);
    for (size_t i = 0; i < r->nfamilies; i++) {
        const bw_family *f = r->families[i];
        fn(ud, f->names[NAME_OM_FAMILY].s, f->type, f->help);
    }
    pthread_mutex_unlock(&r->mu);
}
