/* query: `breakwatch query` — one PromQL query, instant or range, answered from a data
 * directory's history or by a running server's Prometheus API, and printed the same way
 * either way.
 *
 * Main data structure: struct answer, the one shape both sources are reduced to (a result
 * type and series of labels and points, as struct promql_series), so that printing does not
 * know where the answer came from. A local answer views the promql result; a remote one is
 * built from the JSON in an arena.
 *
 * The design decision: a local query opens the data directory as its owner does, taking its
 * lock, so it never reads a history that another process is writing; the history of a running
 * breakwatch is asked for over HTTP (--server), which also works against Prometheus. */
#include <curl/curl.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "store/store.h"

#define RESPONSE_LIMIT   (512u << 20) /* bytes of JSON we accept from a server */
#define MAX_POINTS       11000        /* per series in a range query, as Prometheus */
#define DEFAULT_RANGE_MS 3600000

struct answer {
    enum promql_type type;
    struct promql_series *series;
    size_t n;
    const char *string;
    int64_t string_t;
    struct arena arena; /* a remote answer's memory */
};

/* The evaluation times: t for an instant query; start, end, step for a range query. */
struct when {
    int range;
    int64_t t, start, end, step;
};

/* ---- times -------------------------------------------------------------------------------- */

/* A duration: a Prometheus duration ("5m", "1h30m") or seconds ("15", "0.5"), > 0. */
static int parse_duration(const char *s, int64_t *ms)
{
    double secs;
    if (parse_finite(s, &secs) == BW_OK) {
        if (!(secs > 0 && secs < 1e12))
            return BW_EINVAL;
        *ms = (int64_t)llround(secs * 1000);
        return *ms > 0 ? BW_OK : BW_EINVAL;
    }
    return promql_parse_duration(s, strlen(s), ms) == BW_OK && *ms > 0 ? BW_OK : BW_EINVAL;
}

/* now, now-DURATION, now+DURATION, seconds since the epoch (a fraction rounded to ms, as the
 * Prometheus API does) or an RFC 3339 / ISO date (parse_utc_ms). */
static int parse_time(const char *s, int64_t now, int64_t *out)
{
    double secs;
    int64_t ms;
    if (strcmp(s, "now") == 0) {
        *out = now;
        return BW_OK;
    }
    if (strncmp(s, "now", 3) == 0 && (s[3] == '-' || s[3] == '+')) {
        if (parse_duration(s + 4, &ms) != BW_OK)
            return BW_EINVAL;
        *out = s[3] == '-' ? now - ms : now + ms;
        return BW_OK;
    }
    if (parse_finite(s, &secs) == BW_OK && fabs(secs) < 9e12) {
        *out = (int64_t)llround(secs * 1000);
        return BW_OK;
    }
    return parse_utc_ms(s, out);
}

static int time_arg(const char *flag, const char *s, int64_t now, int64_t *out, struct diag *d)
{
    if (parse_time(s, now, out) == BW_OK)
        return BW_OK;
    return diag_set(d, BW_EINVAL,
                    "%s: expected now, now-DURATION, seconds since the epoch or an RFC 3339 "
                    "time (2024-05-01T12:00:00Z), got '%s'",
                    flag, s);
}

/* The evaluation times the flags ask for. A range query: --end defaults to now, --start to an
 * hour before the end, --step to about 250 steps (at least a second). */
static int when_get(const struct cli_args *a, struct when *w, struct diag *d)
{
    int64_t now = clock_real_ns() / 1000000;
    int rc = BW_OK;
    memset(w, 0, sizeof(*w));
    w->range = a->start || a->end || a->step;
    if (!w->range) {
        w->t = now;
        return a->time ? time_arg("--time", a->time, now, &w->t, d) : BW_OK;
    }
    w->end = now;
    if (a->end)
        rc = time_arg("--end", a->end, now, &w->end, d);
    w->start = w->end - DEFAULT_RANGE_MS;
    if (rc == BW_OK && a->start)
        rc = time_arg("--start", a->start, now, &w->start, d);
    if (rc)
        return rc;
    if (w->end < w->start)
        return diag_set(d, BW_EINVAL, "--end is before --start");
    w->step = (w->end - w->start) / 250 / 1000 * 1000;
    if (w->step < 1000)
        w->step = 1000;
    if (a->step && parse_duration(a->step, &w->step) != BW_OK)
        return diag_set(d, BW_EINVAL,
                        "--step: expected a duration above 0 (15s, 1m) or seconds, got '%s'",
                        a->step);
    if ((w->end - w->start) / w->step > MAX_POINTS)
        return diag_set(d, BW_EINVAL,
                        "exceeded maximum resolution of 11,000 points per timeseries: try a "
                        "larger --step or a shorter range");
    return BW_OK;
}

/* ---- printing ----------------------------------------------------------------------------- */

/* "name{a="x", b="y"}", "name" alone when it has no other label, "{}" for none. */
static void put_labels(FILE *out, const struct labelset *ls, struct buf *b)
{
    buf_reset(b);
    if (labelset_format(ls, b) != BW_OK) {
        fputs("{...}", out);
        return;
    }
    if (ls->n == 1 && labelset_get(ls, LABEL_NAME))
        b->data[b->len - 2] = '\0'; /* drop "{}" */
    fputs(b->data, out);
}

static void put_point(FILE *out, int64_t t, double v)
{
    char num[32];
    fmt_double(num, v, 0);
    lldiv_t q = lldiv(llabs((long long)t), 1000);
    fprintf(out, "%s @[%s%lld.%03lld]\n", num, t < 0 ? "-" : "", q.quot, q.rem);
}

/* Prints an answer the way promtool does: "labels => value @[t]" for instant vectors,
 * "labels =>" then the points for matrices, "scalar: v @[t]", "string: s @[t]". */
static void answer_print(const struct answer *a, FILE *out)
{
    struct buf b;
    buf_init(&b, 0);
    if (a->type == PROMQL_STRING) {
        lldiv_t q = lldiv(llabs((long long)a->string_t), 1000);
        fprintf(out, "string: %s @[%s%lld.%03lld]\n", a->string, a->string_t < 0 ? "-" : "", q.quot,
                q.rem);
    }
    for (size_t i = 0; i < a->n; i++) {
        const struct promql_series *s = &a->series[i];
        if (a->type == PROMQL_SCALAR) {
            fputs("scalar: ", out);
        } else {
            put_labels(out, &s->labels, &b);
            fputs(a->type == PROMQL_MATRIX ? " =>\n" : " => ", out);
        }
        for (size_t k = 0; k < s->n; k++)
            put_point(out, s->t[k], s->v[k]);
    }
    buf_fini(&b);
}

static int series_cmp(const void *x, const void *y)
{
    const struct promql_series *a = x, *b = y;
    return labelset_compare(&a->labels, &b->labels);
}

/* ---- from the data directory -------------------------------------------------------------- */

static int query_local(const struct bw_config *cfg, const struct cli_args *args,
                       const struct when *w, FILE *out, struct diag *d)
{
    struct store *st = NULL;
    struct tsdb *db = NULL;
    struct promql_result *r = NULL;
    struct promql_error err = {0};
    char path[sizeof(cfg->data_dir) + 32];
    struct stat sb;
    int rc;
    snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, STORE_DB_NAME);
    if (stat(path, &sb) != 0) {
        rc = diag_set(d, BW_ENOENT, "no history in %s (%s: %s)", cfg->data_dir, path,
                      strerror(errno));
        goto out;
    }
    rc = store_open(cfg->data_dir, &st, d);
    if (rc == BW_EBUSY) {
        char msg[sizeof(d->msg)];
        snprintf(msg, sizeof(msg), "%s", d->msg);
        diag_set(d, rc, "%s; ask it with --server http://HOST:PORT instead", msg);
    }
    if (rc == BW_OK)
        rc = tsdb_open(st, &cfg->storage, &db, d);
    if (rc)
        goto out;
    rc = w->range
             ? promql_query_range(db, &cfg->query, args->expr, w->start, w->end, w->step, &r, &err)
             : promql_query_instant(db, &cfg->query, args->expr, w->t, &r, &err);
    if (rc) {
        diag_set(d, rc, "%s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < r->nwarnings; i++)
        log_warn("query: %s", r->warnings[i]);
    for (size_t i = 0; i < r->ninfos; i++)
        log_info("query: %s", r->infos[i]);
    if (r->type != PROMQL_SCALAR && !r->ordered)
        qsort(r->series, r->n, sizeof(*r->series), series_cmp);
    struct answer a = {r->type, r->series, r->n, r->string, r->string_t, {0}};
    answer_print(&a, out);
out:
    promql_result_free(r);
    tsdb_close(db);
    store_close(st);
    return rc;
}

/* ---- from a server ------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    return buf_append(ud, p, size * n) == BW_OK ? size * n : 0;
}

/* [t, "v"] into one point. */
static int json_point(const cJSON *p, int64_t *t, double *v)
{
    const cJSON *jt = cJSON_GetArrayItem(p, 0), *jv = cJSON_GetArrayItem(p, 1);
    if (!cJSON_IsNumber(jt) || !cJSON_IsString(jv))
        return BW_EINVAL;
    char *end;
    *t = (int64_t)llround(jt->valuedouble * 1000);
    *v = strtod(jv->valuestring, &end);
    return *end || end == jv->valuestring ? BW_EINVAL : BW_OK;
}

/* {"name": "value", ...} into a sorted label set in a's arena. */
static int json_labels(struct answer *a, const cJSON *m, struct labelset *ls)
{
    size_t n = (size_t)cJSON_GetArraySize(m), k = 0;
    struct label *v = arena_calloc(&a->arena, n ? n : 1, sizeof(*v));
    if (!v)
        return BW_ENOMEM;
    for (const cJSON *e = m ? m->child : NULL; e; e = e->next) {
        if (!cJSON_IsString(e))
            return BW_EINVAL;
        v[k].name = arena_strdup(&a->arena, e->string);
        v[k].value = arena_strdup(&a->arena, e->valuestring);
        if (!v[k].name || !v[k].value)
            return BW_ENOMEM;
        k++;
    }
    labels_sort(v, k);
    *ls = (struct labelset){v, k};
    return BW_OK;
}

/* One element of "result": a vector sample, a matrix series. */
static int json_series(struct answer *a, const cJSON *e, struct promql_series *s)
{
    const cJSON *one = cJSON_GetObjectItemCaseSensitive(e, "value");
    const cJSON *many = cJSON_GetObjectItemCaseSensitive(e, "values");
    int rc = json_labels(a, cJSON_GetObjectItemCaseSensitive(e, "metric"), &s->labels);
    if (rc)
        return rc;
    s->n = one ? 1 : (size_t)cJSON_GetArraySize(many);
    s->t = arena_calloc(&a->arena, s->n ? s->n : 1, sizeof(*s->t));
    s->v = arena_calloc(&a->arena, s->n ? s->n : 1, sizeof(*s->v));
    if (!s->t || !s->v)
        return BW_ENOMEM;
    if (one)
        return json_point(one, &s->t[0], &s->v[0]);
    size_t k = 0;
    for (const cJSON *p = many ? many->child : NULL; p && rc == BW_OK; p = p->next, k++)
        rc = json_point(p, &s->t[k], &s->v[k]);
    return rc;
}

/* The "data" of a successful answer into a. BW_EINVAL when it is not the API's shape. */
static int json_answer(struct answer *a, const cJSON *data)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(data, "result");
    static const enum promql_type types[] = {PROMQL_SCALAR, PROMQL_VECTOR, PROMQL_MATRIX,
                                             PROMQL_STRING};
    if (!cJSON_IsString(type) || !cJSON_IsArray(res))
        return BW_EINVAL;
    a->type = PROMQL_NONE;
    for (size_t i = 0; i < BW_ARRAY_LEN(types); i++)
        if (strcmp(type->valuestring, promql_type_name(types[i])) == 0)
            a->type = types[i];
    if (a->type == PROMQL_STRING) {
        const cJSON *s = cJSON_GetArrayItem(res, 1), *t = cJSON_GetArrayItem(res, 0);
        if (!cJSON_IsString(s) || !cJSON_IsNumber(t))
            return BW_EINVAL;
        a->string = arena_strdup(&a->arena, s->valuestring);
        a->string_t = (int64_t)llround(t->valuedouble * 1000);
        return a->string ? BW_OK : BW_ENOMEM;
    }
    a->n = a->type == PROMQL_SCALAR ? 1 : (size_t)cJSON_GetArraySize(res);
    a->series = arena_calloc(&a->arena, a->n ? a->n : 1, sizeof(*a->series));
    if (!a->series)
        return BW_ENOMEM;
    if (a->type == PROMQL_SCALAR) {
        struct promql_series *s = &a->series[0];
        s->n = 1;
        s->t = arena_alloc(&a->arena, sizeof(*s->t));
        s->v = arena_alloc(&a->arena, sizeof(*s->v));
        return s->t && s->v ? json_point(res, s->t, s->v) : BW_ENOMEM;
    }
    if (a->type == PROMQL_NONE)
        return BW_EINVAL;
    size_t k = 0;
    int rc = BW_OK;
    for (const cJSON *e = res->child; e && rc == BW_OK; e = e->next)
        rc = json_series(a, e, &a->series[k++]);
    return rc;
}

/* The request URL: server + /api/v1/query or /query_range with the parameters. */
static int request_url(CURL *h, const char *server, const char *expr, const struct when *w,
                       struct buf *url)
{
    size_t n = strlen(server);
    while (n && server[n - 1] == '/')
        n--;
    char *q = curl_easy_escape(h, expr, 0);
    if (!q)
        return BW_ENOMEM;
    int rc;
    if (w->range)
        rc = buf_printf(url, "%.*s/api/v1/query_range?query=%s&start=%.3f&end=%.3f&step=%.3f",
                        (int)n, server, q, (double)w->start / 1000.0, (double)w->end / 1000.0,
                        (double)w->step / 1000.0);
    else
        rc = buf_printf(url, "%.*s/api/v1/query?query=%s&time=%.3f", (int)n, server, q,
                        (double)w->t / 1000.0);
    curl_free(q);
    return rc;
}

static int query_remote(const struct bw_config *cfg, const struct cli_args *args,
                        const struct when *w, FILE *out, struct diag *d)
{
    struct buf url, body;
    struct answer a = {0};
    cJSON *json = NULL;
    long status = 0;
    int rc;
    buf_init(&url, 0);
    buf_init(&body, RESPONSE_LIMIT);
    arena_init(&a.arena, 0);
    CURL *h = curl_easy_init();
    if (!h || request_url(h, args->server, args->expr, w, &url) != BW_OK) {
        rc = diag_set(d, BW_ENOMEM, "query: out of memory");
        goto out;
    }
    curl_easy_setopt(h, CURLOPT_URL, url.data);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(cfg->query.timeout_ms + 10000));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "breakwatch/" BW_VERSION);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        rc = diag_set(d, BW_EIO, "cannot query %s: %s", args->server, curl_easy_strerror(cc));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    json = body.data ? cJSON_ParseWithLength(body.data, body.len) : NULL;
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(json, "status");
    if (!cJSON_IsString(st)) {
        rc = diag_set(d, BW_EIO,
                      "%s answered HTTP %ld without a Prometheus API response (is "
                      "the URL right?)",
                      args->server, status);
        goto out;
    }
    if (strcmp(st->valuestring, "success") != 0) {
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(json, "errorType");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(json, "error");
        rc = diag_set(d, BW_EINVAL, "%s: %s", cJSON_IsString(type) ? type->valuestring : "error",
                      cJSON_IsString(msg) ? msg->valuestring : "(no message)");
        goto out;
    }
    const cJSON *warn = cJSON_GetObjectItemCaseSensitive(json, "warnings");
    for (const cJSON *e = warn ? warn->child : NULL; e; e = e->next)
        if (cJSON_IsString(e))
            log_warn("query: %s", e->valuestring);
    rc = json_answer(&a, cJSON_GetObjectItemCaseSensitive(json, "data"));
    if (rc) {
        rc = diag_set(d, rc == BW_ENOMEM ? BW_ENOMEM : BW_EIO,
                      "%s answered with a result this program cannot read", args->server);
        goto out;
    }
    answer_print(&a, out);
out:
    cJSON_Delete(json);
    if (h)
        curl_easy_cleanup(h);
    arena_fini(&a.arena);
    buf_fini(&url);
    buf_fini(&body);
    return rc;
}

int cli_query(const struct bw_config *cfg, const struct cli_args *args, FILE *out, struct diag *d)
{
    struct when w;
    int rc = when_get(args, &w, d);
    if (rc)
        return rc;
    if (!args->server)
        return query_local(cfg, args, &w, out, d);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return diag_set(d, BW_ENOMEM, "cannot initialise libcurl");
    rc = query_remote(cfg, args, &w, out, d);
    curl_global_cleanup();
    return rc;
}
