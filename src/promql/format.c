/* format: an expression tree back to PromQL text, laid out as Prometheus's printer does
 * (sum by (job) (rate(x{a="b"}[5m] offset 1m)), matchers sorted, numbers in shortest form).
 *
 * It walks the tree recursively (the parser bounds its height) and appends to a capped
 * struct buf, so a failed append (BW_ENOSPC, BW_ENOMEM) ends the walk with that code.
 *
 * Design decision: the text is canonical rather than a copy of the input, so it can name an
 * expression in a message and compare parses in tests: two queries that mean the same
 * format the same. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promql/ast.h"
#include "promql/parse_int.h"

static const char *op_name(enum promql_op op)
{
    static const char *const names[] = {
        [OP_ADD] = "+",  [OP_SUB] = "-",   [OP_MUL] = "*",       [OP_DIV] = "/",
        [OP_MOD] = "%",  [OP_POW] = "^",   [OP_ATAN2] = "atan2", [OP_EQL] = "==",
        [OP_NEQ] = "!=", [OP_GTR] = ">",   [OP_LSS] = "<",       [OP_GTE] = ">=",
        [OP_LTE] = "<=", [OP_AND] = "and", [OP_OR] = "or",       [OP_UNLESS] = "unless",
    };
    return names[op];
}

static const char *agg_name(enum agg_op op)
{
    static const char *const names[] = {
        [AGG_SUM] = "sum",           [AGG_AVG] = "avg",
        [AGG_COUNT] = "count",       [AGG_MIN] = "min",
        [AGG_MAX] = "max",           [AGG_GROUP] = "group",
        [AGG_STDDEV] = "stddev",     [AGG_STDVAR] = "stdvar",
        [AGG_TOPK] = "topk",         [AGG_BOTTOMK] = "bottomk",
        [AGG_QUANTILE] = "quantile", [AGG_COUNT_VALUES] = "count_values",
        [AGG_LIMITK] = "limitk",     [AGG_LIMIT_RATIO] = "limit_ratio",
    };
    return names[op];
}

/* Appends s as a Go double-quoted string literal. */
static int put_quoted(struct buf *out, const char *s)
{
    size_t n = strlen(s);
    size_t cap = n * 10 + 3; /* \U0000xxxx is the longest escape of one byte */
    char stack[256];
    char *q = cap <= sizeof(stack) ? stack : malloc(cap);
    if (!q)
        return BW_ENOMEM;
    promql_quote(q, cap, s, n, 0);
    int rc = buf_puts(out, q);
    if (q != stack)
        free(q);
    return rc;
}

/* A label name as written in a matcher or grouping: bare when it is a legacy name. */
static int put_label_name(struct buf *out, const char *name, bool allow_colon)
{
    bool bare = name[0] != '\0';
    for (size_t i = 0; name[i] && bare; i++) {
        char c = name[i];
        bare = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (i > 0 && c >= '0' && c <= '9') || (allow_colon && c == ':');
    }
    return bare ? buf_puts(out, name) : put_quoted(out, name);
}

static int put_labels(struct buf *out, const char *const *labels, size_t n)
{
    int rc = BW_OK;
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        if (i > 0)
            rc = buf_puts(out, ", ");
        if (rc == BW_OK)
            rc = put_label_name(out, labels[i], true);
    }
    return rc;
}

/* " @ 100.000" / " @ start()", then " offset 5m" / " offset -5m". */
static int put_at_offset(struct buf *out, const struct at_mod *at, int64_t offset_ms)
{
    int rc = BW_OK;
    if (at->kind == AT_TIME)
        rc = buf_printf(out, " @ %.3f", (double)at->t_ms / 1000.0);
    else if (at->kind == AT_START || at->kind == AT_END)
        rc = buf_puts(out, at->kind == AT_START ? " @ start()" : " @ end()");
    if (rc == BW_OK && offset_ms != 0) {
        rc = buf_puts(out, " offset ");
        if (rc == BW_OK)
            rc = promql_format_duration(offset_ms, out);
    }
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* name{matchers} without @ and offset; the matcher the name made is not repeated. */
static int put_selector(struct buf *out, const struct promql_node *n)
{
    struct buf m;
    buf_init(&m, 0);
    const char **v = calloc(n->sel.nmatchers + 1, sizeof(*v));
    size_t *offs = calloc(n->sel.nmatchers + 1, sizeof(*offs));
    size_t k = 0;
    int rc = v && offs ? BW_OK : BW_ENOMEM;
    if (rc == BW_OK && n->sel.name)
        rc = buf_puts(out, n->sel.name);
    for (size_t i = 0; i < n->sel.nmatchers && rc == BW_OK; i++) {
        const struct tsdb_matcher *mt = &n->sel.matchers[i];
        static const char *const ops[] = {"=", "!=", "=~", "!~"};
        if (n->sel.name && mt->op == TSDB_MATCH_EQ && strcmp(mt->name, LABEL_NAME) == 0 &&
            strcmp(mt->value, n->sel.name) == 0)
            continue;
        offs[k++] = m.len;
        rc = put_label_name(&m, mt->name, false);
        if (rc == BW_OK)
            rc = buf_puts(&m, ops[mt->op]);
        if (rc == BW_OK)
            rc = put_quoted(&m, mt->value);
        if (rc == BW_OK)
            rc = buf_putc(&m, '\0');
    }
    if (rc == BW_OK && k > 0) {
        for (size_t i = 0; i < k; i++)
            v[i] = m.data + offs[i];
        qsort(v, k, sizeof(*v), cmp_str);
        rc = buf_putc(out, '{');
        for (size_t i = 0; i < k && rc == BW_OK; i++) {
            if (i > 0)
                rc = buf_putc(out, ',');
            if (rc == BW_OK)
                rc = buf_puts(out, v[i]);
        }
        if (rc == BW_OK)
            rc = buf_putc(out, '}');
    }
    free(v);
    free(offs);
    buf_fini(&m);
    return rc;
}

static int put_matching(struct buf *out, const struct vector_matching *m)
{
    if (!m || (m->nlabels == 0 && !m->on))
        return BW_OK;
    int rc = buf_printf(out, " %s (", m->on ? "on" : "ignoring");
    if (rc == BW_OK)
        rc = put_labels(out, m->labels, m->nlabels);
    if (rc == BW_OK)
        rc = buf_putc(out, ')');
    if (rc == BW_OK && (m->card == CARD_MANY_TO_ONE || m->card == CARD_ONE_TO_MANY)) {
        rc = buf_printf(out, " group_%s (", m->card == CARD_MANY_TO_ONE ? "left" : "right");
        if (rc == BW_OK)
            rc = put_labels(out, m->include, m->ninclude);
        if (rc == BW_OK)
            rc = buf_putc(out, ')');
    }
    return rc;
}

int promql_node_format(const struct promql_node *n, struct buf *out)
{
    int rc = BW_OK;
    switch (n->kind) {
    case NODE_NUMBER:
        /* "Inf", not Go's "+Inf": a sign would re-parse as a unary operator, which binds
         * looser than "^" (+Inf ^ 2 is +(Inf ^ 2)). */
        if (isinf(n->number) && n->number > 0)
            return buf_puts(out, "Inf");
        return promql_format_float(n->number, out);
    case NODE_STRING:
        return put_quoted(out, n->string);
    case NODE_VECTOR_SELECTOR:
        rc = put_selector(out, n);
        return rc == BW_OK ? put_at_offset(out, &n->sel.at, n->sel.offset_ms) : rc;
    case NODE_MATRIX_SELECTOR:
        rc = put_selector(out, n->msel.vs);
        if (rc == BW_OK)
            rc = buf_putc(out, '[');
        if (rc == BW_OK)
            rc = promql_format_duration(n->msel.range_ms, out);
        if (rc == BW_OK)
            rc = buf_putc(out, ']');
        return rc == BW_OK ? put_at_offset(out, &n->msel.vs->sel.at, n->msel.vs->sel.offset_ms)
                           : rc;
    case NODE_SUBQUERY:
        rc = promql_node_format(n->subq.expr, out);
        if (rc == BW_OK)
            rc = buf_putc(out, '[');
        if (rc == BW_OK)
            rc = promql_format_duration(n->subq.range_ms, out);
        if (rc == BW_OK)
            rc = buf_putc(out, ':');
        if (rc == BW_OK && n->subq.step_ms != 0)
            rc = promql_format_duration(n->subq.step_ms, out);
        if (rc == BW_OK)
            rc = buf_putc(out, ']');
        return rc == BW_OK ? put_at_offset(out, &n->subq.at, n->subq.offset_ms) : rc;
    case NODE_CALL:
        rc = buf_printf(out, "%s(", n->call.fn->name);
        for (size_t i = 0; i < n->call.nargs && rc == BW_OK; i++) {
            if (i > 0)
                rc = buf_puts(out, ", ");
            if (rc == BW_OK)
                rc = promql_node_format(n->call.args[i], out);
        }
        return rc == BW_OK ? buf_putc(out, ')') : rc;
    case NODE_AGGREGATE:
        rc = buf_puts(out, agg_name(n->agg.op));
        if (rc == BW_OK && (n->agg.without || n->agg.ngrouping > 0)) {
            rc = buf_printf(out, " %s (", n->agg.without ? "without" : "by");
            if (rc == BW_OK)
                rc = put_labels(out, n->agg.grouping, n->agg.ngrouping);
            if (rc == BW_OK)
                rc = buf_puts(out, ") ");
        }
        if (rc == BW_OK)
            rc = buf_putc(out, '(');
        if (rc == BW_OK && n->agg.param) {
            rc = promql_node_format(n->agg.param, out);
            if (rc == BW_OK)
                rc = buf_puts(out, ", ");
        }
        if (rc == BW_OK)
            rc = promql_node_format(n->agg.expr, out);
        return rc == BW_OK ? buf_putc(out, ')') : rc;
    case NODE_BINARY:
        rc = promql_node_format(n->bin.lhs, out);
        if (rc == BW_OK)
            rc = buf_printf(out, " %s%s", op_name(n->bin.op), n->bin.return_bool ? " bool" : "");
        if (rc == BW_OK)
            rc = put_matching(out, n->bin.matching);
        if (rc == BW_OK)
            rc = buf_putc(out, ' ');
        return rc == BW_OK ? promql_node_format(n->bin.rhs, out) : rc;
    case NODE_UNARY:
        rc = buf_puts(out, op_name(n->unary.op));
        return rc == BW_OK ? promql_node_format(n->unary.expr, out) : rc;
    case NODE_PAREN:
        rc = buf_putc(out, '(');
        if (rc == BW_OK)
            rc = promql_node_format(n->paren.expr, out);
        return rc == BW_OK ? buf_putc(out, ')') : rc;
    }
    return rc;
}
