/* expose: renders a registry as Prometheus text 0.0.4 or OpenMetrics 1.0, picks the format from
 * an HTTP Accept header, and gzips a rendered page.
 *
 * Rendering works on text prepared when families are declared and series resolved
 * (registry.c): HELP/TYPE lines and every sample line up to its value are copied as they are,
 * so the only work per line is one copy and formatting one number. The shards are summed
 * before rendering starts, in one sequential sweep of each (metrics_registry_sum). The page
 * goes into the caller's buffer, which grows only when the page does: a warm scrape allocates
 * nothing.
 *
 * Header parsing (Accept, Accept-Encoding) shares one small parser of comma-separated elements
 * with ;-parameters and q-values, working in place on the header text into a fixed array. */
#define ZLIB_CONST
#include <limits.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "metrics/metrics.h"

/* ---- rendering ---------------------------------------------------------------------------- */

/* Starts a line: makes room for it and copies the series' prefix for it (see struct
 * metrics_series); *o is then where the value goes. BW_OK or buf_reserve's error. */
static int line_begin(struct buf *b, const struct metrics_str *prefix, char **o)
{
    int rc = buf_reserve(b, prefix->len + 34); /* a value is at most 31 bytes */
    if (rc == BW_OK) {
        memcpy(b->data + b->len, prefix->s, prefix->len);
        *o = b->data + b->len + prefix->len;
    }
    return rc;
}

/* Ends the line whose value ends at o. Returns BW_OK. */
static int line_end(struct buf *b, char *o)
{
    *o++ = '\n';
    *o = '\0';
    b->len = (size_t)(o - b->data);
    return BW_OK;
}

/* Writes n in decimal at o; returns the end. */
static char *put_digits(char *o, uint64_t n)
{
    char tmp[20];
    size_t k = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k)
        *o++ = tmp[--k];
    return o;
}

/* A count: always an integer (OpenMetrics requires bucket and count values to be integers,
 * and "1e+06" is not one). */
static int put_count(struct buf *b, const struct metrics_str *prefix, uint64_t n)
{
    char *o;
    int rc = line_begin(b, prefix, &o);
    return rc == BW_OK ? line_end(b, put_digits(o, n)) : rc;
}

/* A float; OpenMetrics gives integral floats a ".0". Most values on a page are small whole
 * numbers, counts of events and 0 above all, and for those below 1e6 fmt_double writes the
 * plain digits; writing them here spares its general path and its strlen calls (15 % of the
 * server's CPU under a scrape load). -0 passes as 0, which fmt_double also writes as "0". */
static int put_float(struct buf *b, const struct metrics_str *prefix, double v, int om)
{
    char *o;
    int rc = line_begin(b, prefix, &o);
    if (rc != BW_OK)
        return rc;
    if (v >= 0 && v < 1e6 && v == (double)(uint32_t)v) {
        o = put_digits(o, (uint32_t)v);
        if (om) {
            *o++ = '.';
            *o++ = '0';
        }
        return line_end(b, o);
    }
    return line_end(b, o + fmt_double(o, v, om));
}

/* Renders from the registry's totals, which bw_registry_expose has just summed. */
static int put_histogram(struct buf *b, const bw_family *f, const struct metrics_series *s, int om)
{
    const uint64_t *counts = f->r->total_n + s->h.hist.cell;
    uint64_t cum = 0;
    int rc = BW_OK;
    for (size_t i = 0; i <= f->nbounds && rc == BW_OK; i++)
        rc = put_count(b, &s->prefix[i], cum += counts[i]);
    /* OpenMetrics: with a negative bound the sum is no counter, so no _sum, and _count goes
     * with it. */
    if (rc != BW_OK || (om && f->negative_bounds))
        return rc;
    rc = put_float(b, &s->prefix[f->nbounds + 1], f->r->total_x[s->h.hist.cell], om);
    return rc == BW_OK ? put_count(b, &s->prefix[f->nbounds + 2], cum) : rc;
}

/* A counter's value from the totals: bw_counter_value's sum. */
static double counter_total(const bw_counter *c)
{
    return (double)c->r->total_n[c->cell] + c->r->total_x[c->cell];
}

static int put_family(struct buf *b, const bw_family *f, enum bw_format fmt)
{
    int om = fmt == BW_FORMAT_OPENMETRICS;
    int rc = buf_append(b, f->header[fmt].s, f->header[fmt].len);
    for (size_t i = 0; i < f->nseries && rc == BW_OK; i++) {
        const struct metrics_series *s = f->series[i];
        if (f->type == BW_HISTOGRAM)
            rc = put_histogram(b, f, s, om);
        else
            rc = put_float(b, &s->prefix[fmt],
                           f->type == BW_COUNTER ? counter_total(&s->h.counter)
                                                 : bw_gauge_value(&s->h.gauge),
                           om);
    }
    return rc;
}

int bw_registry_expose(bw_registry *r, enum bw_format fmt, char **buf, size_t *cap, size_t *len)
{
    if (!r || !buf || !cap || !len || (fmt != BW_FORMAT_TEXT && fmt != BW_FORMAT_OPENMETRICS))
        return BW_EINVAL;
    metrics_run_hooks(r);
    struct buf b = {.data = *buf, .len = 0, .cap = *buf ? *cap : 0, .limit = 0};
    int rc = buf_reserve(&b, 0);
    if (rc == BW_OK)
        buf_reset(&b); /* an empty page is "" */
    pthread_mutex_lock(&r->mu);
    metrics_registry_sum(r);
    for (size_t i = 0; i < r->nfamilies && rc == BW_OK; i++)
        rc = put_family(&b, r->families[i], fmt);
    pthread_mutex_unlock(&r->mu);
    if (rc == BW_OK && fmt == BW_FORMAT_OPENMETRICS)
        rc = buf_puts(&b, "# EOF\n");
    *buf = b.data;
    *cap = b.cap;
    *len = rc == BW_OK ? b.len : 0;
    return rc;
}

/* ---- header parsing ----------------------------------------------------------------------- */

#define MAX_ELEMENTS 32

/* One element of a comma-separated header: a media range or a content coding. */
struct element {
    const char *token; /* "text/plain", "gzip", "*" */
    size_t token_len;
    const char *params; /* after the first ';' */
    size_t params_len;
    double q; /* 1 by default; -1 when malformed (treated as not acceptable) */
};

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* The end of the part of s (up to end) that stops at sep outside double quotes. */
static const char *part_end(const char *s, const char *end, char sep)
{
    int quoted = 0;
    for (; s < end && (quoted || *s != sep); s++)
        if (*s == '"')
            quoted = !quoted;
    return s;
}

static int token_is(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

/* Finds parameter key (case-insensitive) in e's parameters; the value comes unquoted. */
static int param(const struct element *e, const char *key, const char **v, size_t *vn)
{
    const char *p = e->params, *end = e->params + e->params_len;
    while (p < end) {
        const char *pe = part_end(p, end, ';');
        const char *eq = memchr(p, '=', (size_t)(pe - p));
        if (eq) {
            const char *k = p, *val = eq + 1;
            size_t kn = (size_t)(eq - p), n = (size_t)(pe - val);
            trim(&k, &kn);
            trim(&val, &n);
            if (n >= 2 && val[0] == '"' && val[n - 1] == '"') {
                val++;
                n -= 2;
            }
            if (token_is(k, kn, key)) {
                *v = val;
                *vn = n;
                return 1;
            }
        }
        if (pe == end)
            break;
        p = pe + 1;
    }
    return 0;
}

/* qvalue = DIGITS [ "." DIGITS ] within [0, 1]; -1 otherwise. Parsed by hand: strtod would
 * follow the process locale's decimal separator. */
static double parse_q(const char *v, size_t n)
{
    double q = 0, scale = 1;
    size_t i = 0, digits = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++)
        q = q * 10 + (v[i] - '0');
    if (i < n && v[i] == '.')
        for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++)
            q += (v[i] - '0') * (scale /= 10);
    return i == n && digits && q <= 1 ? q : -1;
}

/* Splits a header into at most MAX_ELEMENTS elements (the rest is ignored), then orders them
 * by q descending, keeping header order among equal q. Returns the count. */
static size_t parse_elements(const char *s, struct element *out)
{
    size_t n = 0;
    const char *end = s ? s + strlen(s) : NULL;
    while (s && s < end && n < MAX_ELEMENTS) {
        const char *ee = part_end(s, end, ',');
        const char *semi = memchr(s, ';', (size_t)(ee - s));
        struct element *e = &out[n];
        e->token = s;
        e->token_len = (size_t)((semi ? semi : ee) - s);
        trim(&e->token, &e->token_len);
        e->params = semi ? semi + 1 : ee;
        e->params_len = (size_t)(ee - e->params);
        const char *qv;
        size_t qn;
        e->q = param(e, "q", &qv, &qn) ? parse_q(qv, qn) : 1;
        n += e->token_len > 0;
        s = ee + 1;
    }
    for (size_t i = 1; i < n; i++) {
        struct element e = out[i];
        size_t j = i;
        for (; j > 0 && out[j - 1].q < e.q; j--)
            out[j] = out[j - 1];
        out[j] = e;
    }
    return n;
}

/* ---- negotiation -------------------------------------------------------------------------- */

#define CT_TEXT  "text/plain; version=0.0.4; charset=utf-8"
#define CT_OM_1  "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CT_OM_01 "application/openmetrics-text; version=0.0.1; charset=utf-8"

enum bw_format bw_format_negotiate(const char *accept, const char **content_type)
{
    struct element el[MAX_ELEMENTS];
    size_t n = parse_elements(accept, el);
    enum bw_format fmt = BW_FORMAT_TEXT;
    const char *ct = CT_TEXT;
    for (size_t i = 0; i < n; i++) {
        const struct element *e = &el[i];
        if (!(e->q > 0))
            break; /* sorted: nothing acceptable follows */
        const char *v = NULL;
        size_t vn = 0;
        int versioned = param(e, "version", &v, &vn);
        if (token_is(e->token, e->token_len, "application/openmetrics-text")) {
            if (versioned && token_is(v, vn, "1.0.0")) {
                fmt = BW_FORMAT_OPENMETRICS, ct = CT_OM_1;
                break;
            }
            if (!versioned || token_is(v, vn, "0.0.1")) {
                fmt = BW_FORMAT_OPENMETRICS, ct = CT_OM_01;
                break;
            }
        } else if (token_is(e->token, e->token_len, "text/plain")) {
            if (!versioned || token_is(v, vn, "0.0.4"))
                break;
        } else if (token_is(e->token, e->token_len, "*/*") ||
                   token_is(e->token, e->token_len, "text/*")) {
            break;
        }
    }
    if (content_type)
        *content_type = ct;
    return fmt;
}

int bw_accepts_gzip(const char *accept_encoding)
{
    struct element el[MAX_ELEMENTS];
    size_t n = parse_elements(accept_encoding, el);
    double star = -1;
    for (size_t i = 0; i < n; i++) {
        if (token_is(el[i].token, el[i].token_len, "gzip") ||
            token_is(el[i].token, el[i].token_len, "x-gzip"))
            return el[i].q > 0;
        if (star < 0 && token_is(el[i].token, el[i].token_len, "*"))
            star = el[i].q;
    }
    return star > 0;
}

/* ---- gzip --------------------------------------------------------------------------------- */

/* One deflate call into a buffer sized by deflateBound. A fresh z_stream per call keeps this
 * trivially thread-safe; its setup is small next to compressing a page. Level 1: metrics text
 * compresses about tenfold even so, and a scrape should not wait on the compressor. */
int bw_gzip(const char *in, size_t n, char **buf, size_t *cap, size_t *len)
{
    if ((!in && n) || !buf || !cap || !len)
        return BW_EINVAL;
    if (n > UINT_MAX / 2)
        return BW_ERANGE;
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return BW_ENOMEM;
    struct buf b = {.data = *buf, .len = 0, .cap = *buf ? *cap : 0, .limit = 0};
    int rc = buf_reserve(&b, deflateBound(&zs, (uLong)n));
    if (rc != BW_OK)
        goto out;
    zs.next_in = (const Bytef *)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)b.data;
    zs.avail_out = (uInt)(b.cap - 1 > UINT_MAX ? UINT_MAX : b.cap - 1);
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
        rc = BW_EIO;
        goto out;
    }
    b.len = zs.total_out;
out:
    deflateEnd(&zs);
    *buf = b.data;
    *cap = b.cap;
    *len = rc == BW_OK ? b.len : 0;
    return rc;
}
