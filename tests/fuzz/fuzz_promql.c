/* fuzz_promql: the PromQL parser, the formatter on what parses, the evaluator (instant and
 * range) on what parses against an in-memory tsdb with a handful of series built once per
 * process, and the selector parser the API's match[] uses. The design decision: evaluation is
 * bounded by tight promql_options (samples, memory, wall time) and a ten-minute window, so a slow
 * or huge query ends as a query error well inside libFuzzer's -timeout instead of being reported
 * as a hang. */
#include "fuzz.h"

#include "promql/promql.h"
#include "tsdb/tsdb.h"

#define MIN_MS 60000

static struct tsdb *db;

static const struct promql_options opts = {
    .lookback_ms = 5 * MIN_MS,
    .max_samples = 200000,
    .timeout_ms = 2000,
    .max_memory = 64u << 20,
    .enable_experimental = true,
};

/* One series: labels as name/value pairs (the metric name first), one value per minute. */
static void add_series(const char *const *kv, size_t npairs, const double *v, size_t n)
{
    struct label l[8];
    for (size_t i = 0; i < npairs; i++)
        l[i] = (struct label){kv[2 * i], kv[2 * i + 1]};
    labels_sort(l, npairs);
    struct labelset ls = {l, npairs};
    uint64_t ref = 0;
    for (size_t i = 0; i < n; i++)
        if (tsdb_append(db, &ls, (int64_t)i * MIN_MS, v[i], &ref) != BW_OK)
            abort();
}

static void setup(void)
{
    struct diag d = {0};
    if (tsdb_open(NULL, NULL, &db, &d) != BW_OK)
        abort();
    static const char *const a[] = {LABEL_NAME, "http_requests_total", "job", "api", "code", "200"};
    static const char *const b[] = {LABEL_NAME, "http_requests_total", "job", "api", "code", "500"};
    static const char *const c[] = {LABEL_NAME, "latency_seconds_bucket", "le", "0.1"};
    static const char *const e[] = {LABEL_NAME, "latency_seconds_bucket", "le", "+Inf"};
    static const char *const g[] = {LABEL_NAME, "up", "instance", "a:9090"};
    const double ca[] = {0, 10, 20, 30, 45, 50, 5, 15, 25, 35, 40};
    const double cb[] = {1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89};
    const double hc[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const double he[] = {2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22};
    double up[] = {1, 1, 0, 1, -1.5, 0, 1, 1, 0, 0, 0};
    up[9] = tsdb_stale_nan();
    add_series(a, 3, ca, 11);
    add_series(b, 3, cb, 11);
    add_series(c, 2, hc, 11);
    add_series(e, 2, he, 11);
    add_series(g, 2, up, 11);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!db)
        setup();
    if (size > 4096)
        return 0; /* deep nesting is limited by the parser; long inputs only slow the search */
    char *q = fuzz_cstr(data, size);
    struct arena a;
    arena_init(&a, 0);
    struct promql_node *node = NULL;
    struct promql_error err = {0};
    if (promql_parse(q, &opts, &a, &node, &err) == BW_OK) {
        struct buf b;
        buf_init(&b, 0);
        promql_node_format(node, &b);
        buf_fini(&b);
        promql_node_release(node);

        struct promql_result *r = NULL;
        promql_query_instant(db, &opts, q, 5 * MIN_MS, &r, &err);
        promql_result_free(r);
        r = NULL;
        promql_query_range(db, &opts, q, 0, 10 * MIN_MS, MIN_MS, &r, &err);
        promql_result_free(r);
    }
    /* The same text as an API match[] selector. */
    struct tsdb_matcher *m = NULL;
    size_t nm = 0;
    if (promql_parse_selector(q, &a, &m, &nm, &err) == BW_OK) {
        for (size_t i = 0; i < nm; i++) {
            tsdb_matcher_matches(&m[i], "");
            tsdb_matcher_fini(&m[i]);
        }
    }
    arena_fini(&a);
    free(q);
    return 0;
}
