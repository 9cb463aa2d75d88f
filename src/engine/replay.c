/* replay: historical candles from CSV files, replayed as kline messages.
 *
 * Every *.csv in the directory is one symbol (the file name, upper-cased, without .csv), with
 * the header `timestamp,open,high,low,close,volume` and one candle a row; the timestamp is the
 * candle's open time in milliseconds since the epoch or ISO-8601 UTC
 * (2024-03-01T12:00:00Z, 2024-03-01 12:00, with optional seconds, fraction and Z / +00:00).
 *
 * Files are read whole at open (an array of candles per symbol) so that every error — with
 * its file:line:col — is reported before the engine starts, never halfway through a session.
 * Replay merges the symbols by candle close time (ties in symbol order) and hands each candle
 * over once its close time has passed on the simulated clock. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

#define REPLAY_MAX_LINE 4096
#define REPLAY_FIELDS   6

struct replay_series {
    struct candle *c;
    size_t n, cap, next;
};

struct replay {
    size_t n;
    int64_t candle_ms;
    struct replay_series s[ENGINE_MAX_SYMBOLS];
};

static const char *const header[REPLAY_FIELDS] = {"timestamp", "open",  "high",
                                                  "low",       "close", "volume"};

/* A field of the line being parsed: its text (NUL-terminated in place) and 1-based column. */
struct field {
    char *s;
    int col;
};

/* Splits line at commas, trimming blanks; returns the number of fields (may exceed max, the
 * extra ones are not stored). */
static int split(char *line, struct field *f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *start = p;
        while (*p && *p != ',')
            p++;
        char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        int more = *p == ',';
        *end = '\0';
        if (n < max)
            f[n] = (struct field){start, (int)(start - line) + 1};
        n++;
        if (!more)
            return n;
        p++;
    }
}

/* Decimals written after the point (10 for exponent notation). */
static int decimals(const char *s)
{
    if (strpbrk(s, "eE"))
        return 10;
    const char *dot = strchr(s, '.');
    int n = dot ? (int)strspn(dot + 1, "0123456789") : 0;
    return n > 12 ? 12 : n;
}

static int push(struct replay_series *rs, const struct candle *c)
{
    if (rs->n == rs->cap) {
        size_t ncap = rs->cap ? 2 * rs->cap : 1024;
        struct candle *p = realloc(rs->c, ncap * sizeof(*p));
        if (!p)
            return BW_ENOMEM;
        rs->c = p;
        rs->cap = ncap;
    }
    rs->c[rs->n++] = *c;
    return BW_OK;
}

/* row = timestamp "," open "," high "," low "," close "," volume — checked for OHLC sense. */
static int parse_row(const char *path, int line, struct field *f, struct candle *c,
                     struct feed_symbol *fs, struct diag *d)
{
    double *dst[REPLAY_FIELDS] = {NULL, &c->o, &c->h, &c->l, &c->c, &c->v};
    if (parse_utc_ms(f[0].s, &c->t) != BW_OK)
        return diag_at(d, BW_EINVAL, path, line, f[0].col,
                       "bad timestamp '%s': expected milliseconds since the epoch or "
                       "ISO-8601 UTC",
                       f[0].s);
    for (int i = 1; i < REPLAY_FIELDS; i++) {
        if (parse_finite(f[i].s, dst[i]) != BW_OK)
            return diag_at(d, BW_EINVAL, path, line, f[i].col, "%s: '%s' is not a number",
                           header[i], f[i].s);
        int minimum_ok = i == 5 ? *dst[i] >= 0 : *dst[i] > 0;
        if (!minimum_ok)
            return diag_at(d, BW_EINVAL, path, line, f[i].col, "%s must be %s (got %s)", header[i],
                           i == 5 ? ">= 0" : "> 0", f[i].s);
        int dec = decimals(f[i].s);
        int *prec = i == 5 ? &fs->qty_prec : &fs->price_prec;
        if (dec > *prec)
            *prec = dec;
    }
    if (c->h < c->o || c->h < c->c || c->h < c->l)
        return diag_at(d, BW_EINVAL, path, line, f[2].col,
                       "high %s is below the open, close or low", f[2].s);
    if (c->l > c->o || c->l > c->c)
        return diag_at(d, BW_EINVAL, path, line, f[3].col, "low %s is above the open or close",
                       f[3].s);
    return BW_OK;
}

static int check_header(const char *path, char *line, struct diag *d)
{
    struct field f[REPLAY_FIELDS];
    int len = (int)strlen(line);
    int n = split(line, f, REPLAY_FIELDS);
    for (int i = 0; i < REPLAY_FIELDS; i++) {
        if (i >= n)
            return diag_at(d, BW_EINVAL, path, 1, len + 1,
                           "header: expected timestamp,open,high,low,close,volume, '%s' is "
                           "missing",
                           header[i]);
        if (strcasecmp(f[i].s, header[i]) != 0)
            return diag_at(d, BW_EINVAL, path, 1, f[i].col, "header: expected '%s', found '%s'",
                           header[i], f[i].s);
    }
    if (n > REPLAY_FIELDS)
        return diag_at(d, BW_EINVAL, path, 1, 1,
                       "header: expected 6 columns (timestamp,open,high,low,close,volume), "
                       "found %d",
                       n);
    return BW_OK;
}

static int load_file(const char *path, int64_t candle_ms, struct replay_series *rs,
                     struct feed_symbol *fs, struct diag *d)
{
    int rc = BW_OK;
    char *line = NULL;
    size_t linecap = 0;
    int lineno = 0;
    FILE *fp = fopen(path, "r");
    if (!fp) {
        rc = errno == EACCES ? BW_EACCES : BW_ENOENT;
        diag_at(d, rc, path, 0, 0, "cannot open: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        errno = 0;
        ssize_t len = getline(&line, &linecap, fp);
        if (len < 0) {
            if (errno == ENOMEM) {
                rc = diag_at(d, BW_ENOMEM, path, lineno + 1, 1, "out of memory");
                goto out;
            }
            break;
        }
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len > REPLAY_MAX_LINE) {
            rc = diag_at(d, BW_EINVAL, path, lineno, REPLAY_MAX_LINE + 1,
                         "line longer than %d bytes", REPLAY_MAX_LINE);
            goto out;
        }
        if (lineno == 1) {
            rc = check_header(path, line, d);
            if (rc != BW_OK)
                goto out;
            continue;
        }
        if (strspn(line, " \t") == (size_t)len)
            continue; /* blank line */
        struct field f[REPLAY_FIELDS];
        int n = split(line, f, REPLAY_FIELDS);
        if (n != REPLAY_FIELDS) {
            int col = (int)len + 1; /* too few: the end of the line */
            if (n > REPLAY_FIELDS)  /* too many: the first extra comma */
                col = f[REPLAY_FIELDS - 1].col + (int)strlen(f[REPLAY_FIELDS - 1].s);
            rc = diag_at(d, BW_EINVAL, path, lineno, col, "expected 6 fields, found %d", n);
            goto out;
        }
        struct candle c;
        rc = parse_row(path, lineno, f, &c, fs, d);
        if (rc != BW_OK)
            goto out;
        if (rs->n > 0 && c.t < rs->c[rs->n - 1].t + candle_ms) {
            rc = diag_at(d, BW_EINVAL, path, lineno, f[0].col,
                         "timestamp %s is less than one candle (%lld ms) after the previous "
                         "row's",
                         f[0].s, (long long)candle_ms);
            goto out;
        }
        rc = push(rs, &c);
        if (rc != BW_OK) {
            diag_at(d, rc, path, lineno, 1, "out of memory");
            goto out;
        }
    }
    if (lineno == 0)
        rc = diag_at(d, BW_EINVAL, path, 1, 1,
                     "empty file: expected the header timestamp,open,high,low,close,volume");
    else if (rs->n == 0)
        rc = diag_at(d, BW_EINVAL, path, lineno + 1, 1, "no candles after the header");
out:
    free(line);
    if (fp)
        fclose(fp);
    return rc;
}

static int is_csv(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcasecmp(name + n - 4, ".csv") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The symbol a file stands for: its name without .csv, upper-cased. */
static int symbol_of(const char *dir, const char *file, char out[ENGINE_SYMBOL_LEN], struct diag *d)
{
    size_t n = strlen(file) - 4;
    if (n >= ENGINE_SYMBOL_LEN)
        return diag_at(d, BW_EINVAL, file, 0, 0,
                       "in %s: a symbol (the file name without .csv) has at most %d characters",
                       dir, ENGINE_SYMBOL_LEN - 1);
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)file[i]))
            return diag_at(d, BW_EINVAL, file, 0, 0,
                           "in %s: a symbol (the file name without .csv) is letters and digits",
                           dir);
        out[i] = (char)toupper((unsigned char)file[i]);
    }
    out[n] = '\0';
    return BW_OK;
}

int replay_open(const char *dir, int64_t candle_ms, struct feed *f, struct replay **out,
                struct diag *d)
{
    int rc = BW_OK;
    char **names = NULL;
    size_t nnames = 0, cap = 0;
    char path[2048];
    struct replay *r = NULL;
    DIR *dp = opendir(dir);
    if (!dp) {
        rc = errno == EACCES ? BW_EACCES : BW_ENOENT;
        diag_set(d, rc, "replay directory %s: %s", dir, strerror(errno));
        goto out;
    }
    for (struct dirent *de; (de = readdir(dp)) != NULL;) {
        if (!is_csv(de->d_name))
            continue;
        if (nnames == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            char **p = realloc(names, ncap * sizeof(*p));
            if (!p)
                goto nomem;
            names = p;
            cap = ncap;
        }
        if (!(names[nnames] = xstrdup(de->d_name)))
            goto nomem;
        nnames++;
    }
    if (nnames == 0) {
        rc = diag_set(d, BW_ENOENT, "replay directory %s has no *.csv files", dir);
        goto out;
    }
    if (nnames > ENGINE_MAX_SYMBOLS) {
        rc = diag_set(d, BW_EINVAL, "replay directory %s has %zu CSV files, at most %d", dir,
                      nnames, ENGINE_MAX_SYMBOLS);
        goto out;
    }
    qsort(names, nnames, sizeof(*names), cmp_names);
    if (!(r = calloc(1, sizeof(*r))))
        goto nomem;
    r->candle_ms = candle_ms;
    for (size_t i = 0; i < nnames; i++) {
        struct feed_symbol *fs = &f->sym[i];
        rc = symbol_of(dir, names[i], fs->name, d);
        if (rc != BW_OK)
            goto out;
        for (size_t k = 0; k < i; k++) {
            if (strcmp(f->sym[k].name, fs->name) == 0) {
                rc = diag_set(d, BW_EINVAL, "replay directory %s: %s and %s are both symbol %s",
                              dir, names[k], names[i], fs->name);
                goto out;
            }
        }
        fs->price_prec = fs->qty_prec = 0;
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        rc = load_file(path, candle_ms, &r->s[i], fs, d);
        if (rc != BW_OK)
            goto out;
        r->n++;
    }
    f->nsymbols = r->n;
    f->start_ms = replay_first_ms(r);
    *out = r;
    r = NULL;
    goto out;
nomem:
    rc = diag_set(d, BW_ENOMEM, "out of memory reading %s", dir);
out:
    replay_free(r);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    if (dp)
        closedir(dp);
    return rc;
}

void replay_free(struct replay *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < ENGINE_MAX_SYMBOLS; i++)
        free(r->s[i].c);
    free(r);
}

int64_t replay_first_ms(const struct replay *r)
{
    int64_t first = INT64_MAX;
    for (size_t i = 0; i < r->n; i++)
        if (r->s[i].c[0].t < first)
            first = r->s[i].c[0].t;
    return first;
}

int replay_step(struct replay *r, struct feed *f, int64_t now_ms)
{
    for (;;) {
        size_t best = r->n;
        int64_t best_close = INT64_MAX, left = 0;
        for (size_t i = 0; i < r->n; i++) {
            const struct replay_series *rs = &r->s[i];
            if (rs->next == rs->n)
                continue;
            left++;
            int64_t close = rs->c[rs->next].t + r->candle_ms;
            if (close <= now_ms && close < best_close) {
                best = i;
                best_close = close;
            }
        }
        if (left == 0)
            return FEED_DONE;
        if (best == r->n)
            return BW_OK;
        int rc = feed_emit_kline(f, best, &r->s[best].c[r->s[best].next]);
        if (rc != BW_OK)
            return rc;
        r->s[best].next++;
    }
}
