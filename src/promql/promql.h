/* promql: the query language — parse a PromQL expression and evaluate it against the tsdb as
 * an instant or a range query, with Prometheus 3 semantics (left-open windows, 5 minute
 * lookback, stale markers, name dropping).
 *
 * This header is what other modules use (the HTTP API, the CLI, the rule evaluator, the
 * conformance runner). A query owns an arena: its result, labels and strings live there until
 * promql_result_free. Queries are independent; any number may run at once on one tsdb.
 *
 * Errors: 0 or a negative BW_E* code plus a struct promql_error saying which kind of error it
 * is (the API maps the kind to Prometheus's errorType and HTTP status) and where, as
 * "line:col: parse error: ..." for syntax errors, like Prometheus. */
#ifndef BW_PROMQL_H
#define BW_PROMQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct tsdb;
struct tsdb_matcher;
struct promql_node;

enum promql_type {
    PROMQL_NONE,
    PROMQL_SCALAR,
    PROMQL_VECTOR, /* instant vector */
    PROMQL_MATRIX, /* range vector */
    PROMQL_STRING,
};
/* "scalar", "vector", "matrix", "string" — the API's resultType names. */
const char *promql_type_name(enum promql_type t);

enum promql_error_kind {
    PROMQL_ERR_NONE,
    PROMQL_ERR_BAD_DATA,  /* parse error, wrong type, bad parameter: 400 bad_data */
    PROMQL_ERR_EXECUTION, /* evaluation error, too many samples: 422 execution */
    PROMQL_ERR_TIMEOUT,   /* over the time limit: 503 timeout */
    PROMQL_ERR_CANCELED,  /* canceled by the caller: 499 canceled */
    PROMQL_ERR_INTERNAL,  /* storage failure, out of memory: 500 internal */
};

struct promql_error {
    enum promql_error_kind kind;
    /* The message as Prometheus words it, e.g. "1:8: parse error: unexpected end of input"
     * or "query processing would load too many samples into memory in query execution". */
    char msg[512];
    int line, col; /* 1-based position in the query for parse errors; 0 otherwise */
};

/* Limits and defaults; zero fields take the defaults noted. */
struct promql_options {
    int64_t lookback_ms;      /* 5 minutes */
    size_t max_samples;       /* samples loaded or built at once: 50,000,000 */
    int64_t timeout_ms;       /* wall time for one query: 2 minutes */
    size_t max_memory;        /* bytes one query's arena may hold: 1 GiB */
    bool enable_experimental; /* functions Prometheus keeps behind a feature flag */
};

/* ---- parsing ---- */

/* Parses q into an expression tree allocated in a (which must outlive the tree). On a syntax
 * or type error returns BW_EINVAL with err kind BAD_DATA and msg "L:C: parse error: ...". */
int promql_parse(const char *q, const struct promql_options *o, struct arena *a,
                 struct promql_node **out, struct promql_error *err);
/* Parses q as one series selector (metric{label="value", ...}, no offset or @), as the API's
 * match[] parameters are read; unlike in an expression, the selector may match every series.
 * The matchers are allocated in a; the caller releases them with tsdb_matcher_fini each.
 * BW_EINVAL with a BAD_DATA parse error as promql_parse. */
int promql_parse_selector(const char *q, struct arena *a, struct tsdb_matcher **m, size_t *n,
                          struct promql_error *err);
/* Releases what a parsed tree holds outside its arena (the compiled regexes of its
 * selectors). */
void promql_node_release(struct promql_node *n);
/* The type an expression evaluates to. */
enum promql_type promql_node_type(const struct promql_node *n);
/* Writes the expression back as PromQL text (canonical spacing), for messages and tests. */
int promql_node_format(const struct promql_node *n, struct buf *out);

/* ---- results ---- */

/* One series of a result: vector elements have n = 1 (t is the evaluation time), matrix series
 * have their points oldest first. Scalars are one series with no labels and n = 1. */
struct promql_series {
    struct labelset labels;
    size_t n;
    int64_t *t; /* ms */
    double *v;
};

struct promql_result {
    enum promql_type type;
    struct promql_series *series; /* vector, matrix; scalar: one series */
    size_t n;
    const char *string; /* PROMQL_STRING */
    int64_t string_t;
    bool ordered;          /* vector order is meaningful (sort, topk, ...); else sort by labels */
    const char **warnings; /* annotations Prometheus returns as "warnings" */
    size_t nwarnings;
    const char **infos; /* and as "infos" */
    size_t ninfos;
    struct arena arena; /* everything above lives here */
};

/* Instant query at t (ms). BW_OK and *out, or an error code with err filled. */
int promql_query_instant(struct tsdb *db, const struct promql_options *o, const char *q, int64_t t,
                         struct promql_result **out, struct promql_error *err);
/* Range query: evaluation at start, start + step, ... up to and including end (ms). The
 * expression must be a scalar or instant vector (BAD_DATA otherwise); the result is a matrix
 * sorted by labels, series without points omitted. */
int promql_query_range(struct tsdb *db, const struct promql_options *o, const char *q,
                       int64_t start, int64_t end, int64_t step, struct promql_result **out,
                       struct promql_error *err);
void promql_result_free(struct promql_result *r);

/* ---- shared literal readers (the API's parameters and the .test files use them too) ---- */

/* A Prometheus duration ("1h30m", "5m", "250ms"; units ms s m h d w y, in decreasing order, no
 * fractions) into ms. BW_EINVAL when it is not one. */
int promql_parse_duration(const char *s, size_t n, int64_t *ms);

#endif
