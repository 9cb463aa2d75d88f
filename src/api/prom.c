/* prom: the Prometheus HTTP API under /api/v1 — instant and range queries, series, label names
 * and values, metadata, exemplars, build information — so that Grafana's Prometheus data
 * source and other Prometheus clients read breakwatch's history as they would a Prometheus's.
 *
 * Main data structure: struct call, one request's state — the response, a per-request arena
 * for everything read from the tsdb, and the parsed match[] selectors — released in one place
 * when the handler ends.
 *
 * The one design decision: each handler makes Prometheus's checks in Prometheus's order with
 * Prometheus's messages (web/api/v1/api.go, v3), because clients show "<errorType>: <error>"
 * verbatim and tests compare them; where the C types allow more than Go's do (an out-of-range
 * time, a NaN duration), the answer is the nearest error Prometheus gives, never undefined
 * behaviour. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "tsdb/tsdb.h"

/* Prometheus's defaults for an absent start or end (api.go MinTime, MaxTime), in ms. */
#define TIME_MIN_MS (-9223309901257974000LL)
#define TIME_MAX_MS 9223309901257974999LL
/* Given times are clamped to +-2^61 ms (73 million years), so that the sum or difference of
 * two times, here or in the engine, stays within int64. */
#define TIME_LIMIT_MS      (INT64_C(1) << 61)
#define DEFAULT_TIMEOUT_MS (2 * 60 * 1000) /* promql's, for a zero promql_options.timeout_ms */
#define MAX_POINTS         11000           /* per series of a range query */
#define ARENA_LIMIT        (1u << 30)      /* bytes of tsdb data one request may hold */
#define MSG_MAX            512

/* Prometheus's error types and the HTTP status each maps to. */
enum err_type { BAD_DATA, EXECUTION, CANCELED, TIMEOUT, INTERNAL, UNAVAILABLE };
static const struct {
    const char *name;
    int status;
} err_types[] = {
    [BAD_DATA] = {"bad_data", 400}, [EXECUTION] = {"execution", 422},
    [CANCELED] = {"canceled", 499}, [TIMEOUT] = {"timeout", 503},
    [INTERNAL] = {"internal", 500}, [UNAVAILABLE] = {"unavailable", 503},
};

/* One match[] selector: its matchers, compiled. */
struct matchset {
    struct tsdb_matcher *m;
    size_t n;
};

struct call {
    struct api_ctx *ctx;
    const struct http_request *req;
    struct http_response *res;
    struct arena arena;
    struct matchset *sets;
    size_t nsets;
};

static void call_init(struct call *c, void *ud, const struct http_request *req,
                      struct http_response *res)
{
    *c = (struct call){.ctx = ud, .req = req, .res = res};
    arena_init(&c->arena, ARENA_LIMIT);
}

static void call_fini(struct call *c)
{
    for (size_t i = 0; i < c->nsets; i++)
        for (size_t j = 0; j < c->sets[i].n; j++)
            tsdb_matcher_fini(&c->sets[i].m[j]);
    arena_fini(&c->arena);
}

static void fail(struct call *c, enum err_type t, const char *fmt, ...) BW_PRINTF(3, 4);

static void fail(struct call *c, enum err_type t, const char *fmt, ...)
{
    char msg[MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_response_error(c->res, err_types[t].status, err_types[t].name, "%s", msg);
}

/* The parameter's value; "" when absent, as Go's Request.FormValue. */
static const char *arg(const struct call *c, const char *name)
{
    const char *v = http_request_arg(c->req, name);
    return v ? v : "";
}

/* ---- parameters ---- */

/* Writes s as Go's %q does (printable ASCII and valid UTF-8 as they are, '"' and '\' and
 * the rest escaped), cut short with "..." when it does not fit in out. Returns out. */
static const char *quote(char *out, size_t outlen, const char *s)
{
    struct buf b;
    buf_init(&b, outlen - 5); /* room for ..." and the terminator */
    int rc = buf_put_goquoted(&b, s);
    snprintf(out, outlen, "%s%s", b.data ? b.data : "\"", rc == BW_OK ? "" : "...\"");
    buf_fini(&b);
    return out;
}

/* Reads s as Go's strconv.Atoi: an optional sign and decimal digits that fit in int64. 0,
 * BW_EINVAL (syntax) or BW_ERANGE. */
static int go_atoi(const char *s, long long *v)
{
    const char *p = s + (*s == '+' || *s == '-');
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return BW_EINVAL;
    errno = 0;
    *v = strtoll(s, NULL, 10);
    return errno == ERANGE ? BW_ERANGE : BW_OK;
}

int prom_parse_time(const char *s, int64_t *ms, char *msg, size_t msglen)
{
    double f;
    if (parse_go_float(s, &f) == BW_OK && isfinite(f)) {
        /* Prometheus: whole seconds, and the fraction rounded to ms (math.Round). */
        double whole, frac = modf(f, &whole);
        if (fabs(whole) * 1000 >= (double)TIME_LIMIT_MS)
            *ms = whole < 0 ? -TIME_LIMIT_MS : TIME_LIMIT_MS;
        else
            *ms = (int64_t)whole * 1000 + (int64_t)round(frac * 1000);
        return BW_OK;
    }
    if (parse_rfc3339_ms(s, ms) == BW_OK)
        return BW_OK;
    char q[128];
    snprintf(msg, msglen, "cannot parse %s to a valid timestamp", quote(q, sizeof(q), s));
    return BW_EINVAL;
}

int prom_parse_duration(const char *s, int64_t *ns, char *msg, size_t msglen)
{
    char q[128];
    double f;
    int64_t ms;
    if (parse_go_float(s, &f) == BW_OK && !isnan(f)) {
        double t = f * 1e9;
        if (t >= 9223372036854775808.0 || t < -9223372036854775808.0) {
            snprintf(msg, msglen, "cannot parse %s to a valid duration. It overflows int64",
                     quote(q, sizeof(q), s));
            return BW_EINVAL;
        }
        *ns = (int64_t)t;
        return BW_OK;
    }
    if (*s && promql_parse_duration(s, strlen(s), &ms) == BW_OK && ms >= 0 &&
        ms <= INT64_MAX / 1000000) {
        *ns = ms * 1000000;
        return BW_OK;
    }
    snprintf(msg, msglen, "cannot parse %s to a valid duration", quote(q, sizeof(q), s));
    return BW_EINVAL;
}

int prom_parse_limit(const char *s, size_t *limit, char *msg, size_t msglen)
{
    char q[128];
    long long v = 0;
    *limit = 0;
    if (!*s)
        return BW_OK;
    int rc = go_atoi(s, &v);
    if (rc != BW_OK) {
        snprintf(msg, msglen, "strconv.Atoi: parsing %s: %s", quote(q, sizeof(q), s),
                 rc == BW_ERANGE ? "value out of range" : "invalid syntax");
        return BW_EINVAL;
    }
    if (v < 0) {
        snprintf(msg, msglen, "limit must be non-negative");
        return BW_EINVAL;
    }
    *limit = (size_t)v;
    return BW_OK;
}

static void emit(char *out, size_t *o, unsigned long c)
{
    if (out)
        out[*o] = (char)c;
    (*o)++;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* escaped = "U__" *( char / "__" / "_" 1*6HEXDIG "_" )   ; model.UnescapeName
 * Decodes in (what follows "U__") into out, or only checks it when out is NULL; out may be
 * in - 3, since no step writes more bytes than it reads. Returns false when in is not a valid
 * escaping (Prometheus then takes the name as it is). */
static bool unescape_name(const char *in, char *out)
{
    size_t o = 0;
    for (const char *p = in; *p;) {
        if (*p != '_') {
            emit(out, &o, (unsigned char)*p++);
            continue;
        }
        if (*++p == '_') {
            emit(out, &o, '_');
            p++;
            continue;
        }
        unsigned long cp = 0;
        int n = 0;
        for (; *p && *p != '_'; p++, n++) {
            int h = hexval(*p);
            if (h < 0 || n >= 6)
                return false;
            cp = cp << 4 | (unsigned long)h;
        }
        if (*p != '_' || n == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p++;
        if (cp < 0x80) {
            emit(out, &o, cp);
        } else if (cp < 0x800) {
            emit(out, &o, 0xc0 | cp >> 6);
            emit(out, &o, 0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            emit(out, &o, 0xe0 | cp >> 12);
            emit(out, &o, 0x80 | (cp >> 6 & 0x3f));
            emit(out, &o, 0x80 | (cp & 0x3f));
        } else {
            emit(out, &o, 0xf0 | cp >> 18);
            emit(out, &o, 0x80 | (cp >> 12 & 0x3f));
            emit(out, &o, 0x80 | (cp >> 6 & 0x3f));
            emit(out, &o, 0x80 | (cp & 0x3f));
        }
    }
    emit(out, &o, '\0');
    return true;
}

bool prom_label_name_decode(char *name)
{
    if (strncmp(name, "U__", 3) == 0 && unescape_name(name + 3, NULL))
        unescape_name(name + 3, name);
    return *name && utf8_valid(name, strlen(name));
}

/* ---- shared steps of the handlers ---- */

/* Reads an optional time parameter (def when absent), failing the call as Prometheus's
 * parseTimeParam does. */
static bool time_param(struct call *c, const char *name, int64_t def, int64_t *ms)
{
    char msg[MSG_MAX];
    const char *s = arg(c, name);
    *ms = def;
    if (*s && prom_parse_time(s, ms, msg, sizeof(msg)) != BW_OK) {
        fail(c, BAD_DATA, "invalid parameter \"%s\": invalid time value for '%s': %s", name, name,
             msg);
        return false;
    }
    return true;
}

static bool limit_param(struct call *c, size_t *limit)
{
    char msg[MSG_MAX];
    if (prom_parse_limit(arg(c, "limit"), limit, msg, sizeof(msg)) != BW_OK) {
        fail(c, BAD_DATA, "invalid parameter \"limit\": %s", msg);
        return false;
    }
    return true;
}

static bool need_tsdb(struct call *c)
{
    if (!c->ctx->tsdb)
        fail(c, UNAVAILABLE, "the time-series database is not open yet");
    return c->ctx->tsdb != NULL;
}

/* Parses every match[] into c->sets. Prometheus requires each selector to have a matcher
 * that does not match the empty string, so that no selector means "every series". On error
 * the message goes to msg. */
static bool parse_matches(struct call *c, char *msg, size_t msglen)
{
    size_t n = 0, pos = 0;
    while (http_request_arg_next(c->req, "match[]", &pos))
        n++;
    if (n == 0)
        return true;
    c->sets = arena_calloc(&c->arena, n, sizeof(*c->sets));
    if (!c->sets) {
        snprintf(msg, msglen, "out of memory");
        return false;
    }
    pos = 0;
    for (const char *q; (q = http_request_arg_next(c->req, "match[]", &pos));) {
        struct matchset *ms = &c->sets[c->nsets];
        struct promql_error err = {0};
        if (promql_parse_selector(q, &c->arena, &ms->m, &ms->n, &err) != BW_OK) {
            snprintf(msg, msglen, "%s", err.msg);
            return false;
        }
        c->nsets++;
        bool nonempty = false;
        for (size_t i = 0; i < ms->n; i++)
            nonempty = nonempty || !tsdb_matcher_matches(&ms->m[i], "");
        if (!nonempty) {
            snprintf(msg, msglen, "match[] must contain at least one non-empty matcher");
            return false;
        }
    }
    return true;
}

/* Fails the call for a tsdb error. */
static void tsdb_failed(struct call *c, int rc, const struct diag *d)
{
    const char *why = d->msg[0] ? d->msg : bw_strerror(rc);
    fail(c, rc == BW_ENOSPC ? EXECUTION : INTERNAL, "%s", why);
}

/* Fails the call for a query error, with Prometheus's type for its kind. */
static void query_failed(struct call *c, int rc, const struct promql_error *e)
{
    switch (e->kind) {
    case PROMQL_ERR_BAD_DATA:
        fail(c, BAD_DATA, "invalid parameter \"query\": %s", e->msg);
        break;
    case PROMQL_ERR_EXECUTION:
        fail(c, EXECUTION, "%s", e->msg);
        break;
    case PROMQL_ERR_TIMEOUT:
        fail(c, TIMEOUT, "%s", e->msg);
        break;
    case PROMQL_ERR_CANCELED:
        fail(c, CANCELED, "%s", e->msg);
        break;
    default:
        fail(c, INTERNAL, "%s", e->msg[0] ? e->msg : bw_strerror(rc));
        break;
    }
}

/* Closes the answer promjson_begin opened (r and truncated as promjson_end takes them) when
 * writing it has so far returned rc; fails the call when it could not be written (in practice:
 * larger than the body cap). */
static void answer_end(struct call *c, int rc, const struct promql_result *r, bool truncated)
{
    if (rc == BW_OK)
        rc = promjson_end(c->res->body, r, truncated);
    if (rc == BW_ENOSPC)
        fail(c, EXECUTION, "the answer is larger than %zu bytes; ask for less",
             c->res->body->limit);
    else if (rc != BW_OK)
        fail(c, INTERNAL, "writing the answer: %s", bw_strerror(rc));
}

/* The query options for this request: the context's, with the request's timeout (which may
 * only shorten the context's) and lookback_delta. */
static bool query_options(struct call *c, struct promql_options *o)
{
    char msg[MSG_MAX];
    int64_t ns;
    *o = c->ctx->promql;
    const char *to = arg(c, "timeout");
    if (*to) {
        if (prom_parse_duration(to, &ns, msg, sizeof(msg)) != BW_OK) {
            fail(c, BAD_DATA, "invalid parameter \"timeout\": %s", msg);
            return false;
        }
        int64_t cap = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
        int64_t ms = ns / 1000000;
        o->timeout_ms = ms < 1 ? 1 : ms < cap ? ms : cap;
    }
    const char *lb = arg(c, "lookback_delta");
    if (*lb) {
        if (prom_parse_duration(lb, &ns, msg, sizeof(msg)) != BW_OK) {
            fail(c, BAD_DATA, "error parsing lookback delta duration: %s", msg);
            return false;
        }
        if (ns > 0)
            o->lookback_ms = ns < 1000000 ? 1 : ns / 1000000;
    }
    return true;
}

static int series_cmp(const void *a, const void *b)
{
    const struct promql_series *x = a, *y = b;
    return labelset_compare(&x->labels, &y->labels);
}

/* Writes a query's answer: vectors and matrices sorted by labels unless their order means
 * something, cut to limit (0: none) with Prometheus's warning. */
static void answer_result(struct call *c, struct promql_result *r, size_t limit)
{
    bool listed = r->type == PROMQL_VECTOR || r->type == PROMQL_MATRIX;
    if (listed && !r->ordered) {
        size_t i = 1;
        while (i < r->n && series_cmp(&r->series[i - 1], &r->series[i]) <= 0)
            i++;
        if (i < r->n)
            qsort(r->series, r->n, sizeof(*r->series), series_cmp);
    }
    bool truncated = listed && limit && r->n > limit;
    struct buf *b = c->res->body;
    int rc = promjson_begin(b);
    if (rc == BW_OK)
        rc = promjson_result(b, r, truncated ? limit : r->n);
    answer_end(c, rc, r, truncated);
}

/* The rest of /query and /query_range once their own parameters are read: the query options,
 * then the query over [start, end] every step_ms (0: an instant query at start), answered or
 * failed. */
static void run_query(struct call *c, int64_t start, int64_t end, int64_t step_ms, size_t limit)
{
    struct promql_options o;
    struct promql_result *r = NULL;
    struct promql_error err = {0};
    if (!query_options(c, &o) || !need_tsdb(c))
        return;
    const char *q = arg(c, "query");
    int rc = step_ms ? promql_query_range(c->ctx->tsdb, &o, q, start, end, step_ms, &r, &err)
                     : promql_query_instant(c->ctx->tsdb, &o, q, start, &r, &err);
    if (rc == BW_OK)
        answer_result(c, r, limit);
    else
        query_failed(c, rc, &err);
    promql_result_free(r);
}

static int ls_cmp(const void *a, const void *b)
{
    return labelset_compare(*(const struct labelset *const *)a, *(const struct labelset *const *)b);
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes a sorted, distinct list of strings, cut to limit. v may be sorted in place. */
static void answer_strings(struct call *c, const char **v, size_t n, size_t limit)
{
    if (c->nsets > 1 && n > 1) { /* a union of sorted lists */
        qsort(v, n, sizeof(*v), str_cmp);
        size_t k = 1;
        for (size_t i = 1; i < n; i++)
            if (strcmp(v[i], v[k - 1]) != 0)
                v[k++] = v[i];
        n = k;
    }
    bool truncated = limit && n > limit;
    struct buf *b = c->res->body;
    int rc = promjson_begin(b);
    if (rc == BW_OK)
        rc = promjson_strings(b, v, truncated ? limit : n);
    answer_end(c, rc, NULL, truncated);
}

/* Appends src[0..n) to the list *v (*nv long) in the call's arena. */
static bool strings_append(struct call *c, const char ***v, size_t *nv, const char **src, size_t n)
{
    if (*nv == 0) {
        *v = src;
        *nv = n;
        return true;
    }
    const char **all = arena_alloc(&c->arena, (*nv + n) * sizeof(*all));
    if (!all)
        return false;
    memcpy(all, *v, *nv * sizeof(*all));
    memcpy(all + *nv, src, n * sizeof(*all));
    *v = all;
    *nv += n;
    return true;
}

/* ---- the endpoints ---- */

void api_prom_query(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    size_t limit;
    int64_t t;
    call_init(&c, ud, req, res);
    if (limit_param(&c, &limit) && time_param(&c, "time", clock_real_ns() / 1000000, &t))
        run_query(&c, t, t, 0, limit);
    call_fini(&c);
}

void api_prom_query_range(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    char msg[MSG_MAX];
    size_t limit;
    int64_t start, end, step;
    call_init(&c, ud, req, res);
    if (!limit_param(&c, &limit))
        goto out;
    if (prom_parse_time(arg(&c, "start"), &start, msg, sizeof(msg)) != BW_OK) {
        fail(&c, BAD_DATA, "invalid parameter \"start\": %s", msg);
        goto out;
    }
    if (prom_parse_time(arg(&c, "end"), &end, msg, sizeof(msg)) != BW_OK) {
        fail(&c, BAD_DATA, "invalid parameter \"end\": %s", msg);
        goto out;
    }
    if (end < start) {
        fail(&c, BAD_DATA,
             "invalid parameter \"end\": end timestamp must not be before start time");
        goto out;
    }
    if (prom_parse_duration(arg(&c, "step"), &step, msg, sizeof(msg)) != BW_OK) {
        fail(&c, BAD_DATA, "invalid parameter \"step\": %s", msg);
        goto out;
    }
    if (step <= 0) {
        fail(&c, BAD_DATA,
             "invalid parameter \"step\": zero or negative query resolution step widths are not "
             "accepted. Try a positive integer");
        goto out;
    }
    /* (end - start) / step in ns, saturating as Go's time.Duration does. */
    int64_t span_ms = end - start;
    int64_t span_ns = span_ms > INT64_MAX / 1000000 ? INT64_MAX : span_ms * 1000000;
    if (span_ns / step > MAX_POINTS) {
        fail(&c, BAD_DATA,
             "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the "
             "query resolution (?step=XX)");
        goto out;
    }
    /* The engine steps in ms: a step below 1 ms (possible only with at most 11,000 steps in
     * the range) becomes 1 ms rather than 0. */
    run_query(&c, start, end, step < 1000000 ? 1 : step / 1000000, limit);
out:
    call_fini(&c);
}

void api_prom_series(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    char msg[MSG_MAX];
    struct diag d = {0};
    size_t limit, n = 0, cap = 0;
    int64_t start, end;
    const struct labelset **all = NULL;
    call_init(&c, ud, req, res);
    size_t pos = 0;
    if (!http_request_arg_next(req, "match[]", &pos)) {
        fail(&c, BAD_DATA, "no match[] parameter provided");
        goto out;
    }
    if (!limit_param(&c, &limit) || !time_param(&c, "start", TIME_MIN_MS, &start) ||
        !time_param(&c, "end", TIME_MAX_MS, &end))
        goto out;
    if (!parse_matches(&c, msg, sizeof(msg))) {
        fail(&c, BAD_DATA, "invalid parameter \"match[]\": %s", msg);
        goto out;
    }
    if (!need_tsdb(&c))
        goto out;
    for (size_t i = 0; i < c.nsets; i++) {
        struct tsdb_series *s;
        size_t ns;
        int rc = tsdb_select(c.ctx->tsdb, c.sets[i].m, c.sets[i].n, start, end,
                             TSDB_SELECT_LABELS_ONLY, 0, &c.arena, &s, &ns, &d);
        if (rc != BW_OK) {
            tsdb_failed(&c, rc, &d);
            goto out;
        }
        for (size_t j = 0; j < ns; j++) {
            all = arena_grow(&c.arena, all, n, &cap, sizeof(*all));
            if (!all) {
                fail(&c, INTERNAL, "out of memory");
                goto out;
            }
            all[n++] = &s[j].labels;
        }
    }
    if (c.nsets > 1) { /* the union: sorted, each series once */
        qsort(all, n, sizeof(*all), ls_cmp);
        size_t k = n ? 1 : 0;
        for (size_t i = 1; i < n; i++)
            if (labelset_compare(all[i], all[k - 1]) != 0)
                all[k++] = all[i];
        n = k;
    }
    bool truncated = limit && n > limit;
    if (truncated)
        n = limit;
    struct buf *b = res->body;
    int rc = promjson_begin(b);
    if (rc == BW_OK)
        rc = buf_putc(b, '[');
    for (size_t i = 0; rc == BW_OK && i < n; i++) {
        if (i)
            rc = buf_putc(b, ',');
        if (rc == BW_OK)
            rc = promjson_labels(b, all[i]);
    }
    if (rc == BW_OK)
        rc = buf_putc(b, ']');
    answer_end(&c, rc, NULL, truncated);
out:
    call_fini(&c);
}

/* The common part of /labels and /label/{name}/values: limit, start, end, match[] (whose
 * errors Prometheus does not wrap), then the union over the selectors. name NULL: names. */
static void labels_or_values(struct call *c, const char *name)
{
    char msg[MSG_MAX];
    struct diag d = {0};
    size_t limit, n = 0;
    int64_t start, end;
    const char **all = NULL;
    if (!limit_param(c, &limit) || !time_param(c, "start", TIME_MIN_MS, &start) ||
        !time_param(c, "end", TIME_MAX_MS, &end))
        return;
    if (!parse_matches(c, msg, sizeof(msg))) {
        fail(c, BAD_DATA, "%s", msg);
        return;
    }
    if (!need_tsdb(c))
        return;
    for (size_t i = 0; i < (c->nsets ? c->nsets : 1); i++) {
        const struct tsdb_matcher *m = c->nsets ? c->sets[i].m : NULL;
        size_t nm = c->nsets ? c->sets[i].n : 0, nv;
        const char **v;
        int rc =
            name ? tsdb_label_values(c->ctx->tsdb, name, m, nm, start, end, &c->arena, &v, &nv, &d)
                 : tsdb_label_names(c->ctx->tsdb, m, nm, start, end, &c->arena, &v, &nv, &d);
        if (rc != BW_OK) {
            tsdb_failed(c, rc, &d);
            return;
        }
        if (!strings_append(c, &all, &n, v, nv)) {
            fail(c, INTERNAL, "out of memory");
            return;
        }
    }
    answer_strings(c, all, n, limit);
}

void api_prom_labels(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    call_init(&c, ud, req, res);
    labels_or_values(&c, NULL);
    call_fini(&c);
}

void api_prom_label_values(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    char name[256], q[160];
    call_init(&c, ud, req, res);
    snprintf(name, sizeof(name), "%s", http_request_param(req, "name"));
    if (!prom_label_name_decode(name))
        fail(&c, BAD_DATA, "invalid label name: %s", quote(q, sizeof(q), name));
    else
        labels_or_values(&c, name);
    call_fini(&c);
}

void api_prom_metadata(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    long long limit = -1, per_metric = -1;
    struct tsdb_metadata *md;
    size_t n;
    call_init(&c, ud, req, res);
    const char *ls = arg(&c, "limit"), *lpm = arg(&c, "limit_per_metric");
    const char *metric = arg(&c, "metric");
    if (*ls && go_atoi(ls, &limit) != BW_OK) {
        fail(&c, BAD_DATA, "limit must be a number");
        goto out;
    }
    /* Every family has one entry here, so limit_per_metric is read but cannot cut. */
    if (*lpm && go_atoi(lpm, &per_metric) != BW_OK) {
        fail(&c, BAD_DATA, "limit_per_metric must be a number");
        goto out;
    }
    if (!need_tsdb(&c))
        goto out;
    int rc = tsdb_metadata_list(c.ctx->tsdb, &c.arena, &md, &n);
    if (rc != BW_OK) {
        fail(&c, INTERNAL, "reading metadata: %s", bw_strerror(rc));
        goto out;
    }
    struct buf *b = res->body;
    rc = promjson_begin(b);
    if (rc == BW_OK)
        rc = buf_putc(b, '{');
    long long shown = 0;
    for (size_t i = 0; rc == BW_OK && i < n && (limit < 0 || shown < limit); i++) {
        if (*metric && strcmp(metric, md[i].family) != 0)
            continue;
        if (shown++ && (rc = buf_putc(b, ',')) != BW_OK)
            break;
        rc = http_json_string(b, md[i].family, strlen(md[i].family));
        if (rc == BW_OK)
            rc = buf_puts(b, ":[{\"type\":");
        if (rc == BW_OK)
            rc = http_json_string(b, md[i].type, strlen(md[i].type));
        if (rc == BW_OK)
            rc = buf_puts(b, ",\"help\":");
        if (rc == BW_OK)
            rc = http_json_string(b, md[i].help, strlen(md[i].help));
        if (rc == BW_OK)
            rc = buf_puts(b, ",\"unit\":");
        if (rc == BW_OK)
            rc = http_json_string(b, md[i].unit, strlen(md[i].unit));
        if (rc == BW_OK)
            rc = buf_puts(b, "}]");
    }
    if (rc == BW_OK)
        rc = buf_putc(b, '}');
    answer_end(&c, rc, NULL, false);
out:
    call_fini(&c);
}

/* breakwatch keeps no exemplars: after Prometheus's checks the answer is an empty list, which
 * is what Grafana's probe (query=test with millisecond start and end) wants to see. */
void api_prom_query_exemplars(void *ud, const struct http_request *req, struct http_response *res)
{
    struct call c;
    struct promql_options o = {0};
    struct promql_node *node = NULL;
    struct promql_error err = {0};
    int64_t start, end;
    call_init(&c, ud, req, res);
    if (!time_param(&c, "start", TIME_MIN_MS, &start) || !time_param(&c, "end", TIME_MAX_MS, &end))
        goto out;
    if (end < start) {
        fail(&c, BAD_DATA, "end timestamp must not be before start timestamp");
        goto out;
    }
    if (promql_parse(arg(&c, "query"), &o, &c.arena, &node, &err) != BW_OK) {
        fail(&c, BAD_DATA, "%s", err.msg);
        goto out;
    }
    buf_puts(res->body, "{\"status\":\"success\",\"data\":[]}");
out:
    if (node)
        promql_node_release(node);
    call_fini(&c);
}

/* Build information in Prometheus's shape, without "features" (Grafana would take breakwatch
 * for Mimir). The version is that of the Prometheus whose query semantics breakwatch follows,
 * so that clients which pick features by version enable those breakwatch has. */
void api_prom_buildinfo(void *ud, const struct http_request *req, struct http_response *res)
{
    buf_puts(res->body, "{\"status\":\"success\",\"data\":{\"version\":\"3.5.0\","
                        "\"revision\":\"breakwatch " BW_VERSION "\",\"branch\":\"\","
                        "\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}}");
}

/* breakwatch has no Prometheus configuration: its settings are its own flags and file. */
void api_prom_config(void *ud, const struct http_request *req, struct http_response *res)
{
    buf_puts(res->body, "{\"status\":\"success\",\"data\":{\"yaml\":\"\"}}");
}
