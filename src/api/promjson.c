/* promjson: the JSON that Prometheus's HTTP API answers with — the envelope, query results,
 * label sets and string lists — byte for byte as Prometheus writes them
 * (web/api/v1/json_codec.go and util/jsonutil/marshal.go).
 *
 * Main data structure: none of its own; everything is appended to the response's struct buf.
 * The one design decision: results are encoded straight from the query result into that
 * buffer, a sample at a time into a small stack buffer and then one append, with no
 * intermediate JSON tree: a range query's answer is mostly "[t,"v"]" pairs, and building and
 * printing a tree for each would cost more than the query. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* Prometheus caps each list of annotations at this many (annotations.AsStrings). */
#define MAX_NOTES 10

/* A writer that keeps the first error, so a document is written straight through and checked
 * once. */
struct out {
    struct buf *b;
    int rc;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->rc == BW_OK)
        o->rc = buf_append(o->b, s, n);
}

/* lit must be a string literal: "" lit does not compile otherwise. */
#define PUT_LIT(o, lit) put((o), "" lit, sizeof("" lit) - 1)

static void put_string(struct out *o, const char *s)
{
    if (o->rc == BW_OK)
        o->rc = http_json_string(o->b, s, strlen(s));
}

/* Writes u in decimal, two digits at a time; returns the length. */
static size_t fmt_u64(char *out, uint64_t u)
{
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";
    char tmp[20];
    size_t n = sizeof(tmp);
    while (u >= 100) {
        n -= 2;
        memcpy(tmp + n, pairs + u % 100 * 2, 2);
        u /= 100;
    }
    if (u >= 10) {
        n -= 2;
        memcpy(tmp + n, pairs + u * 2, 2);
    } else {
        tmp[--n] = (char)('0' + u);
    }
    memcpy(out, tmp + n, sizeof(tmp) - n);
    return sizeof(tmp) - n;
}

size_t promjson_fmt_time(char *out, int64_t ms)
{
    char *p = out;
    uint64_t u = (uint64_t)ms;
    if (ms < 0) {
        *p++ = '-';
        u = -u;
    }
    p += fmt_u64(p, u / 1000);
    unsigned frac = (unsigned)(u % 1000);
    if (frac) {
        p[0] = '.';
        p[1] = (char)('0' + frac / 100);
        p[2] = (char)('0' + frac / 10 % 10);
        p[3] = (char)('0' + frac % 10);
        p += 4;
    }
    *p = '\0';
    return (size_t)(p - out);
}

size_t promjson_fmt_value(char *out, double v)
{
    if (v == 0) {
        /* Go keeps the sign of zero. */
        size_t n = 0;
        if (signbit(v))
            out[n++] = '-';
        out[n++] = '0';
        out[n] = '\0';
        return n;
    }
    /* fmt_double lays out like Go's 'g', which uses an exponent below 1e-4 and from 1e+06:
     * that is Go's 'e' where Prometheus wants it (|v| < 1e-6, |v| >= 1e21; NaN and +-Inf
     * have no exponent), and 'f' from 1e-4 to 1e6. Only the exponent forms in between need
     * laying out again. */
    double a = fabs(v);
    if (!(a >= 1e-6 && a < 1e-4) && !(a >= 1e6 && a < 1e21))
        return fmt_double(out, v, 0);
    char g[32];
    const char *e = g + fmt_double(g, v, 0);
    while (e > g && *e != 'e')
        e--;
    char digits[24];
    size_t nd = 0;
    char *p = out;
    for (const char *c = g; c < e; c++) {
        if (*c == '-')
            *p++ = '-';
        else if (*c != '.')
            digits[nd++] = *c;
    }
    int exp = 0;
    sscanf(e + 1, "%d", &exp);
    if (exp < 0) {
        /* 0.000dddd: -exp - 1 zeros after the point */
        *p++ = '0';
        *p++ = '.';
        for (int i = -1; i > exp; i--)
            *p++ = '0';
        memcpy(p, digits, nd);
        p += nd;
    } else {
        /* dddd000 or dddd.ddd: exp + 1 digits before the point */
        for (size_t i = 0; i <= (size_t)exp; i++)
            *p++ = i < nd ? digits[i] : '0';
        if (nd > (size_t)exp + 1) {
            *p++ = '.';
            memcpy(p, digits + exp + 1, nd - (size_t)exp - 1);
            p += nd - (size_t)exp - 1;
        }
    }
    *p = '\0';
    return (size_t)(p - out);
}

/* Formatted timestamps, direct-mapped by time: the series of a range query's answer share
 * their steps, so each step is formatted once, not once per series. */
#define TIME_SLOTS 2048
struct time_cache {
    struct {
        int64_t t;
        uint8_t len; /* 0: empty */
        char s[23];
    } slot[TIME_SLOTS];
};

/* Writes t as promjson_fmt_time does, through cache c (may be NULL); returns the length. */
static size_t fmt_time_cached(struct time_cache *c, char *out, int64_t t)
{
    if (!c)
        return promjson_fmt_time(out, t);
    size_t i = (size_t)(((uint64_t)t * 0x9E3779B97F4A7C15ULL) >> 53) & (TIME_SLOTS - 1);
    if (c->slot[i].len == 0 || c->slot[i].t != t) {
        c->slot[i].t = t;
        c->slot[i].len = (uint8_t)promjson_fmt_time(c->slot[i].s, t);
    }
    memcpy(out, c->slot[i].s, sizeof(c->slot[i].s));
    return c->slot[i].len;
}

/* [t,"v"], written straight into the buffer: most of a range query's answer is these. */
static void put_point(struct out *o, struct time_cache *c, int64_t t, double v)
{
    if (o->rc == BW_OK)
        o->rc = buf_reserve(o->b, 64);
    if (o->rc != BW_OK)
        return;
    char *start = o->b->data + o->b->len, *p = start;
    *p++ = '[';
    p += fmt_time_cached(c, p, t);
    *p++ = ',';
    *p++ = '"';
    p += promjson_fmt_value(p, v);
    *p++ = '"';
    *p++ = ']';
    *p = '\0';
    o->b->len += (size_t)(p - start);
}

static void put_labels(struct out *o, const struct labelset *ls)
{
    PUT_LIT(o, "{");
    for (size_t i = 0; i < ls->n; i++) {
        if (i)
            PUT_LIT(o, ",");
        put_string(o, ls->v[i].name);
        PUT_LIT(o, ":");
        put_string(o, ls->v[i].value);
    }
    PUT_LIT(o, "}");
}

int promjson_labels(struct buf *b, const struct labelset *ls)
{
    struct out o = {b, BW_OK};
    put_labels(&o, ls);
    return o.rc;
}

static void put_strings(struct out *o, const char *const *v, size_t n)
{
    PUT_LIT(o, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUT_LIT(o, ",");
        put_string(o, v[i]);
    }
    PUT_LIT(o, "]");
}

int promjson_strings(struct buf *b, const char *const *v, size_t n)
{
    struct out o = {b, BW_OK};
    put_strings(&o, v, n);
    return o.rc;
}

/* [{"metric":{...},"value":[t,"v"]},...]; elements without a point are left out. */
static void put_vector(struct out *o, const struct promql_series *s, size_t n)
{
    PUT_LIT(o, "[");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i].n == 0)
            continue;
        if (!first)
            PUT_LIT(o, ",");
        first = 0;
        PUT_LIT(o, "{\"metric\":");
        put_labels(o, &s[i].labels);
        PUT_LIT(o, ",\"value\":");
        put_point(o, NULL, s[i].t[0], s[i].v[0]);
        PUT_LIT(o, "}");
    }
    PUT_LIT(o, "]");
}

/* [{"metric":{...},"values":[[t,"v"],...]},...]; as in Prometheus, a series without points
 * has no "values". */
static void put_matrix(struct out *o, const struct promql_series *s, size_t n)
{
    /* Worth its 64 KiB only when several series share the steps; without memory, no cache. */
    struct time_cache *c = n > 1 ? calloc(1, sizeof(*c)) : NULL;
    PUT_LIT(o, "[");
    for (size_t i = 0; i < n; i++) {
        if (i)
            PUT_LIT(o, ",");
        PUT_LIT(o, "{\"metric\":");
        put_labels(o, &s[i].labels);
        if (s[i].n) {
            PUT_LIT(o, ",\"values\":[");
            for (size_t j = 0; j < s[i].n; j++) {
                if (j)
                    PUT_LIT(o, ",");
                put_point(o, c, s[i].t[j], s[i].v[j]);
            }
            PUT_LIT(o, "]");
        }
        PUT_LIT(o, "}");
    }
    PUT_LIT(o, "]");
    free(c);
}

int promjson_result(struct buf *b, const struct promql_result *r, size_t n)
{
    struct out o = {b, BW_OK};
    if (n > r->n)
        n = r->n;
    PUT_LIT(&o, "{\"resultType\":");
    put_string(&o, promql_type_name(r->type));
    PUT_LIT(&o, ",\"result\":");
    switch (r->type) {
    case PROMQL_SCALAR:
        if (r->n == 0 || r->series[0].n == 0)
            return BW_EINVAL;
        put_point(&o, NULL, r->series[0].t[0], r->series[0].v[0]);
        break;
    case PROMQL_STRING: {
        char t[24];
        PUT_LIT(&o, "[");
        put(&o, t, promjson_fmt_time(t, r->string_t));
        PUT_LIT(&o, ",");
        put_string(&o, r->string ? r->string : "");
        PUT_LIT(&o, "]");
        break;
    }
    case PROMQL_VECTOR:
        put_vector(&o, r->series, n);
        break;
    default:
        put_matrix(&o, r->series, n);
        break;
    }
    PUT_LIT(&o, "}");
    return o.rc;
}

int promjson_begin(struct buf *b)
{
    struct out o = {b, BW_OK};
    PUT_LIT(&o, "{\"status\":\"success\",\"data\":");
    return o.rc;
}

/* ,"key":["note",...] with at most MAX_NOTES notes and a count of the others, plus extra
 * (may be NULL) as if it were the last note; nothing when there are none. */
static void put_notes(struct out *o, const char *key, const char *kind, const char **v, size_t n,
                      const char *extra)
{
    size_t total = n + (extra != NULL);
    if (total == 0)
        return;
    PUT_LIT(o, ",\"");
    put(o, key, strlen(key));
    PUT_LIT(o, "\":[");
    size_t shown = total < MAX_NOTES ? total : MAX_NOTES;
    for (size_t i = 0; i < shown; i++) {
        if (i)
            PUT_LIT(o, ",");
        put_string(o, i < n ? v[i] : extra);
    }
    if (total > shown) {
        char more[64];
        snprintf(more, sizeof(more), "%zu more %s annotations omitted", total - shown, kind);
        PUT_LIT(o, ",");
        put_string(o, more);
    }
    PUT_LIT(o, "]");
}

int promjson_end(struct buf *b, const struct promql_result *r, bool truncated)
{
    struct out o = {b, BW_OK};
    put_notes(&o, "warnings", "warning", r ? r->warnings : NULL, r ? r->nwarnings : 0,
              truncated ? "results truncated due to limit" : NULL);
    put_notes(&o, "infos", "info", r ? r->infos : NULL, r ? r->ninfos : 0, NULL);
    PUT_LIT(&o, "}");
    return o.rc;
}
