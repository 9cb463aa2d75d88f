/* base: the small pieces every module shares — error codes, diagnostics with a position,
 * capped growable buffers, clocks, hashing and logging. Nothing here knows about metrics,
 * SQL or HTTP. */
#ifndef BW_BASE_H
#define BW_BASE_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "breakwatch/metrics.h" /* BW_OK and the BW_E* codes */

#define BW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__x86_64__) && defined(__GNUC__)
#define BW_HAVE_TSC 1 /* rdtsc and cpuid through GCC's and clang's builtins and <cpuid.h> */
#else
#define BW_HAVE_TSC 0
#endif

#if defined(__GNUC__)
#define BW_LIKELY(x)    __builtin_expect(!!(x), 1)
#define BW_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#define BW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define BW_LIKELY(x)   (x)
#define BW_UNLIKELY(x) (x)
#define BW_PRINTF(f, a)
#endif

/* A diagnostic: what went wrong and where. Filled by parsers and loaders, read by the caller.
 * file may be NULL (command line); line and col are 1-based, 0 when not known. */
struct diag {
    char msg[512];
    char file[256];
    int line;
    int col;
};

/* diag_set formats msg and clears the position; diag_at also records file:line:col. Both
 * return code so that `return diag_set(d, BW_EINVAL, ...)` reads naturally. d may be NULL. */
int diag_set(struct diag *d, int code, const char *fmt, ...) BW_PRINTF(3, 4);
int diag_at(struct diag *d, int code, const char *file, int line, int col, const char *fmt, ...)
    BW_PRINTF(6, 7);
/* Writes "file:line:col: msg" (omitting what is unknown) into out. */
void diag_format(const struct diag *d, char *out, size_t outlen);

/* A growable byte buffer with a hard cap. Appends past the cap fail with BW_ENOSPC and leave
 * the buffer as it was; the memory is kept across buf_reset so steady-state use allocates
 * nothing. Always NUL-terminated when len > 0 or after any successful append. */
struct buf {
    char *data;
    size_t len;
    size_t cap;   /* allocated bytes */
    size_t limit; /* 0: no limit */
};

void buf_init(struct buf *b, size_t limit);
void buf_fini(struct buf *b);
static inline void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}
/* Makes room for n more bytes (plus the terminator). 0 or BW_ENOMEM / BW_ENOSPC. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) BW_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Appends the whole file at path to b. BW_ENOENT or BW_EIO when it cannot be opened or read,
 * BW_ENOSPC when it is larger than b's cap, BW_ENOMEM; d then says which file and why (file set
 * to path, no line). b may hold part of the file after a failure. */
int buf_read_file(struct buf *b, const char *path, struct diag *d);

/* Clocks, in nanoseconds. */
int64_t clock_mono_ns(void);
int64_t clock_real_ns(void);

/* Behind clock_ticks (clock.c): clock_ticks_tsc is set once the TSC has been chosen and
 * calibrated; until then, and on the fallback, clock_ticks_slow chooses and reads. */
extern _Atomic int clock_ticks_tsc;
int64_t clock_ticks_slow(void);

/* A cheap clock for timing short spans on a hot path. clock_ticks returns a count that never
 * decreases on one thread; the difference of two readings times clock_tick_seconds() is the
 * seconds between them. On x86-64 with an invariant TSC it is the time-stamp counter, read
 * inline (about 13 ns, against 31 for clock_mono_ns on a KVM guest), precise to a TSC cycle
 * (under a nanosecond), its tick length calibrated against CLOCK_MONOTONIC to about 1e-5. It
 * falls back to clock_mono_ns() nanoseconds (tick 1e-9 s) on other architectures, when CPUID
 * does not declare the TSC invariant or when it does not advance. The first call of either
 * function chooses the source and calibrates it, which takes about 5 ms: call
 * clock_tick_seconds() at start-up to keep that off the hot path. Both are thread-safe; ticks
 * are meaningful only within one process. */
static inline int64_t clock_ticks(void)
{
#if BW_HAVE_TSC
    if (BW_LIKELY(atomic_load_explicit(&clock_ticks_tsc, memory_order_relaxed)))
        return (int64_t)__builtin_ia32_rdtsc();
#endif
    return clock_ticks_slow();
}
double clock_tick_seconds(void);
/* Makes clock_ticks use the fallback from now on, as on a machine without an invariant TSC
 * (tests). Ticks read before the call do not compare with ticks read after it. */
void clock_ticks_force_fallback(void);

/* 64-bit FNV-1a over bytes, starting from seed (HASH_SEED, or a previous hash to chain). */
uint64_t hash_bytes(const void *p, size_t n, uint64_t seed);
#define HASH_SEED 0xcbf29ce484222325ULL

/* UTF-8 as Go's utf8 package judges it: no overlong forms, surrogates or code points past
 * U+10FFFF. utf8_decode returns the length of the sequence at s (n >= 1 bytes available; 1 for
 * ASCII) and puts its code point in *cp (cp may be NULL), or returns 0 when it is not a valid
 * sequence. utf8_valid tells whether all of s[0..n) is. */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
bool utf8_valid(const char *s, size_t n);

/* strdup that returns NULL on failure instead of aborting; xstrndup likewise. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* url without its userinfo ("http://u:p@h/x" → "http://h/x"), appended to out; *userinfo (may
 * be NULL) gets a malloc'd copy of "u:p", or NULL when there is none. BW_OK or BW_ENOMEM. */
int url_redact(const char *url, struct buf *out, char **userinfo);

/* Logging to stderr with a UTC timestamp and level. log_set_level filters below it. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
void log_set_level(enum log_level lvl);
void log_msg(enum log_level lvl, const char *fmt, ...) BW_PRINTF(2, 3);
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Strict readers: the whole string must be the value. BW_OK, or BW_EINVAL (nothing written).
 * parse_finite takes any strtod syntax but refuses overflow, NaN and infinity. parse_utc_ms
 * takes milliseconds since the epoch, or YYYY-MM-DD with an optional time
 * ("T" or " ", HH:MM[:SS[.fff]], optional "Z" or "+00:00"), always UTC. parse_rfc3339_ms takes RFC
 * 3339's date-time only (YYYY-MM-DDTHH:MM:SS[.fff] and "Z" or an offset), as Prometheus's API does.
 * Both give ms since the epoch in UTC and refuse dates that do not exist (February 30). */
int parse_finite(const char *s, double *out);
/* Reads s as Go's strconv.ParseFloat(s, 64) does — the reader Prometheus's API parameters and
 * template functions use: the whole string, no spaces; decimal or hexadecimal (which needs a
 * 'p' exponent) with '_' between digits as Go's literals allow; "NaN" (unsigned), "Inf" and
 * "Infinity" with an optional sign, any case. BW_OK and *out; BW_ERANGE when the magnitude
 * overflows (*out is then ±Inf, as Go returns it with ErrRange); BW_EINVAL for anything else
 * (Go's ErrSyntax; *out untouched); BW_ENOMEM. */
int parse_go_float(const char *s, double *out);
int parse_utc_ms(const char *s, int64_t *out);
int parse_rfc3339_ms(const char *s, int64_t *out);
/* A size in bytes: decimal digits, then optionally a unit B, KB, MB, GB, TB, PB or KiB … PiB,
 * all powers of 1024 as Prometheus's sizes (so "256MB" is 256 MiB); no sign, no spaces, no
 * overflow. */
int parse_bytes(const char *s, int64_t *out);

/* Formats a double as the shortest text that reads back to the same value, laid out like Go's
 * strconv.FormatFloat(v, 'g', -1, 64): NaN, +Inf, -Inf, 1e+06, 0.0001. With om_float set, a
 * result without '.' or exponent gets ".0" appended (OpenMetrics canonical floats). Returns
 * the length written (always < 32); out must hold 32 bytes. */
size_t fmt_double(char *out, double v, int om_float);

/* Formats a double as Go's strconv.FormatFloat(v, 'e', -1, 64) does (upper: 'E'): the
 * shortest digits that read back to v, in exponent form — "1e+00", "9.3e-01"; "NaN", "+Inf",
 * "-Inf". Prometheus writes an alert's value so. Returns the length; out holds 32 bytes. */
size_t fmt_double_exp(char *out, double v, int upper);
/* Formats ms since the epoch as RFC 3339 in UTC: "2025-01-01T09:59:45Z", or with with_ms
 * the milliseconds as Go's RFC3339Nano writes them, trailing zeros dropped
 * ("2025-01-01T09:59:45.12Z"; none when whole). Returns the length (always < 32); out must
 * hold 32 bytes. */
size_t fmt_rfc3339(char *out, int64_t ms, int with_ms);
/* A time as Go marshals a time.Time into JSON (Prometheus's and Alertmanager's APIs): as
 * fmt_rfc3339 with_ms, and 0 — not set — as Go's zero time "0001-01-01T00:00:00Z". */
size_t fmt_go_time(char *out, int64_t ms);
/* Appends s in double quotes as Go's %q writes it — as Prometheus's messages quote — with
 * printable ASCII and valid UTF-8 as they are, '"' and '\\' escaped, \a \b \f \n \r \t \v
 * by letter and any other byte as \xNN. BW_OK or the buf error (BW_ENOSPC past b's limit,
 * with what fitted kept). */
int buf_put_goquoted(struct buf *b, const char *s);

/* An arena: many small allocations freed together (one per query, per request, per parse).
 * Blocks grow geometrically; arena_reset keeps the first block for reuse. Allocations are
 * aligned to 16 bytes. arena_alloc returns NULL when out of memory or when the arena's limit
 * (bytes, 0 = none) would be passed: callers report BW_ENOMEM or BW_ENOSPC accordingly, and
 * arena_over_limit tells which. */
struct arena_block;
struct arena {
    struct arena_block *head;
    size_t used;  /* bytes handed out so far */
    size_t limit; /* 0: no limit */
    int over_limit;
};

void arena_init(struct arena *a, size_t limit);
void arena_fini(struct arena *a);
void arena_reset(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);
void *arena_calloc(struct arena *a, size_t count, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Makes room for one more element in an array of n elements of size bytes held in a: returns v
 * when n < *cap, else a copy of it in a new array of twice the capacity (8 at first) with *cap
 * updated, or NULL as arena_alloc (v and *cap then unchanged). The old array stays in the
 * arena until it is reset. */
void *arena_grow(struct arena *a, void *v, size_t n, size_t *cap, size_t size);
static inline int arena_over_limit(const struct arena *a)
{
    return a->over_limit;
}

/* A label set: pairs sorted by name, names unique, no empty values (a label with an empty
 * value does not exist). The metric name is the label "__name__". The strings are owned by
 * whoever built the set (an arena, the tsdb's intern table); a labelset is a view. */
struct label {
    const char *name;
    const char *value;
};
struct labelset {
    const struct label *v;
    size_t n;
};

#define LABEL_NAME "__name__"

/* Whether s[0..n) is a label name as Prometheus 2 accepts one, [a-zA-Z_][a-zA-Z0-9_]*, or with
 * metric set a metric name, which may also hold ':'. */
bool prom_name_valid(const char *s, size_t n, bool metric);
/* Orders label sets as Prometheus does: pair by pair, name then value, byte order; a prefix
 * sorts first. Returns <0, 0, >0. */
int labelset_compare(const struct labelset *a, const struct labelset *b);
/* The value of label name, or NULL. */
const char *labelset_get(const struct labelset *ls, const char *name);
/* A hash of the whole set; equal sets hash equal. */
uint64_t labelset_hash(const struct labelset *ls);
/* Sorts v[0..n) by name in place (insertion sort: sets are small). */
void labels_sort(struct label *v, size_t n);
/* A deep copy of ls — the pairs, then all the strings — in one block: from arena a, or, when a
 * is NULL, malloc'd (the caller frees it with free() of the returned pointer). Returns the
 * pairs and, when out is not NULL, sets *out to {pairs, ls->n}; NULL when out of memory (or
 * past a's limit), *out then unchanged. An empty set still gets a (minimal) block, so NULL
 * always means failure. */
struct label *labels_dup(const struct labelset *ls, struct arena *a, struct labelset *out);
/* Writes {a="x", b="y"} (name first as name{...} when __name__ is present) into out, escaping
 * values as PromQL string literals. BW_OK or the buf error. */
int labelset_format(const struct labelset *ls, struct buf *out);

#endif
