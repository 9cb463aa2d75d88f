/* promql internal: the expression tree shared by the parser (parse.c, lex.c) and the evaluator
 * (eval.c, functions.c). Not included from outside src/promql/.
 *
 * Nodes and everything they point to live in the arena given to promql_parse. Positions are
 * byte offsets into the query text, for error messages. */
#ifndef BW_PROMQL_AST_H
#define BW_PROMQL_AST_H

#include "promql/promql.h"
#include "tsdb/tsdb.h"

enum node_kind {
    NODE_NUMBER,
    NODE_STRING,
    NODE_VECTOR_SELECTOR,
    NODE_MATRIX_SELECTOR,
    NODE_SUBQUERY,
    NODE_CALL,
    NODE_AGGREGATE,
    NODE_BINARY,
    NODE_UNARY,
    NODE_PAREN,
};

/* Operators. The order within each group is not significant. */
enum promql_op {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_POW,
    OP_ATAN2,
    OP_EQL,
    OP_NEQ,
    OP_GTR,
    OP_LSS,
    OP_GTE,
    OP_LTE,
    OP_AND,
    OP_OR,
    OP_UNLESS,
};

enum agg_op {
    AGG_SUM,
    AGG_AVG,
    AGG_COUNT,
    AGG_MIN,
    AGG_MAX,
    AGG_GROUP,
    AGG_STDDEV,
    AGG_STDVAR,
    AGG_TOPK,
    AGG_BOTTOMK,
    AGG_QUANTILE,
    AGG_COUNT_VALUES,
    AGG_LIMITK,      /* experimental */
    AGG_LIMIT_RATIO, /* experimental */
};

/* The @ modifier: none, a fixed time, or start() / end() of the query. */
enum at_kind { AT_NONE, AT_TIME, AT_START, AT_END };

struct at_mod {
    enum at_kind kind;
    int64_t t_ms; /* AT_TIME */
};

enum match_card { CARD_ONE_TO_ONE, CARD_MANY_TO_ONE, CARD_ONE_TO_MANY, CARD_MANY_TO_MANY };

/* Vector matching of a binary operator between two vectors. */
struct vector_matching {
    enum match_card card; /* MANY_TO_MANY for and/or/unless */
    bool on;              /* on(...) given; else ignoring(...) or neither */
    const char **labels;  /* the on / ignoring list */
    size_t nlabels;
    const char **include; /* group_left / group_right extra labels */
    size_t ninclude;
};

/* Function ids, in name order (the signature table in signatures.c is sorted the same). */
enum promql_func_id {
    FN_ABS,
    FN_ABSENT,
    FN_ABSENT_OVER_TIME,
    FN_ACOS,
    FN_ACOSH,
    FN_ASIN,
    FN_ASINH,
    FN_ATAN,
    FN_ATANH,
    FN_AVG_OVER_TIME,
    FN_CEIL,
    FN_CHANGES,
    FN_CLAMP,
    FN_CLAMP_MAX,
    FN_CLAMP_MIN,
    FN_COS,
    FN_COSH,
    FN_COUNT_OVER_TIME,
    FN_DAY_OF_MONTH,
    FN_DAY_OF_WEEK,
    FN_DAY_OF_YEAR,
    FN_DAYS_IN_MONTH,
    FN_DEG,
    FN_DELTA,
    FN_DERIV,
    FN_DOUBLE_EXPONENTIAL_SMOOTHING,
    FN_EXP,
    FN_FLOOR,
    FN_HISTOGRAM_AVG,
    FN_HISTOGRAM_COUNT,
    FN_HISTOGRAM_FRACTION,
    FN_HISTOGRAM_QUANTILE,
    FN_HISTOGRAM_STDDEV,
    FN_HISTOGRAM_STDVAR,
    FN_HISTOGRAM_SUM,
    FN_HOUR,
    FN_IDELTA,
    FN_INCREASE,
    FN_INFO,
    FN_IRATE,
    FN_LABEL_JOIN,
    FN_LABEL_REPLACE,
    FN_LAST_OVER_TIME,
    FN_LN,
    FN_LOG10,
    FN_LOG2,
    FN_MAD_OVER_TIME,
    FN_MAX_OVER_TIME,
    FN_MIN_OVER_TIME,
    FN_MINUTE,
    FN_MONTH,
    FN_PI,
    FN_PREDICT_LINEAR,
    FN_PRESENT_OVER_TIME,
    FN_QUANTILE_OVER_TIME,
    FN_RAD,
    FN_RATE,
    FN_RESETS,
    FN_ROUND,
    FN_SCALAR,
    FN_SGN,
    FN_SIN,
    FN_SINH,
    FN_SORT,
    FN_SORT_BY_LABEL,
    FN_SORT_BY_LABEL_DESC,
    FN_SORT_DESC,
    FN_SQRT,
    FN_STDDEV_OVER_TIME,
    FN_STDVAR_OVER_TIME,
    FN_SUM_OVER_TIME,
    FN_TAN,
    FN_TANH,
    FN_TIME,
    FN_TIMESTAMP,
    FN_TS_OF_LAST_OVER_TIME,
    FN_TS_OF_MAX_OVER_TIME,
    FN_TS_OF_MIN_OVER_TIME,
    FN_VECTOR,
    FN_YEAR,
    FN_COUNT_
};

/* A function's signature, from the table in signatures.c. As in Prometheus, variadic 0 means
 * exactly nargs arguments; otherwise the last argument type is optional and may repeat:
 * n > 0 allows nargs - 1 to nargs - 1 + n arguments, -1 allows nargs - 1 or more. */
struct promql_function {
    const char *name;
    enum promql_type arg_types[8];
    int nargs;
    int variadic;
    enum promql_type return_type;
    bool experimental;
    enum promql_func_id id;
};

/* The function named name (n bytes), or NULL. */
const struct promql_function *promql_function_find(const char *name, size_t n);

struct promql_node {
    enum node_kind kind;
    enum promql_type type;
    int pos, end; /* byte offsets [pos, end) in the query */
    union {
        double number;      /* NODE_NUMBER */
        const char *string; /* NODE_STRING (unescaped) */
        struct {
            const char *name;              /* metric name if given outside braces, or NULL */
            struct tsdb_matcher *matchers; /* including __name__="name"; fini'd by the owner */
            size_t nmatchers;
            int64_t offset_ms;
            struct at_mod at;
        } sel; /* NODE_VECTOR_SELECTOR */
        struct {
            struct promql_node *vs; /* the vector selector: holds offset and @ */
            int64_t range_ms;
        } msel; /* NODE_MATRIX_SELECTOR */
        struct {
            struct promql_node *expr;
            int64_t range_ms, step_ms; /* step 0: the query's default resolution */
            int64_t offset_ms;
            struct at_mod at;
        } subq; /* NODE_SUBQUERY */
        struct {
            const struct promql_function *fn;
            struct promql_node **args;
            size_t nargs;
        } call; /* NODE_CALL */
        struct {
            enum agg_op op;
            struct promql_node *expr;
            struct promql_node *param; /* topk k, quantile φ, count_values label; or NULL */
            const char **grouping;
            size_t ngrouping;
            bool without;
        } agg; /* NODE_AGGREGATE */
        struct {
            enum promql_op op;
            struct promql_node *lhs, *rhs;
            bool return_bool;
            struct vector_matching *matching; /* NULL unless both sides are vectors */
        } bin;                                /* NODE_BINARY */
        struct {
            enum promql_op op; /* OP_SUB or OP_ADD */
            struct promql_node *expr;
        } unary; /* NODE_UNARY */
        struct {
            struct promql_node *expr;
        } paren; /* NODE_PAREN */
    };
};

/* promql_parse refuses a query whose tree would be higher than this (or whose parsing would
 * recurse deeper), so code that walks a parsed tree recursively needs no depth check. */
#define PROMQL_MAX_DEPTH 1000

#endif
