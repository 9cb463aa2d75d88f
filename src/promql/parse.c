/* parse: PromQL text to an expression tree (ast.h), with Prometheus 3.5's grammar, type rules
 * and error messages.
 *
 * A recursive-descent parser over the tokens of lex.c. Binary operators are parsed by
 * precedence climbing over a table (binops[]); everything else has one function, with its
 * grammar rule in the comment above it. The main data structure is struct parser: the token
 * stream with one token of lookahead, the first error (Prometheus reports only its first
 * one too), and the list of selectors built so far, whose compiled matchers are released if
 * the parse fails.
 *
 * Design decision: as in Prometheus, parsing and type checking are two passes. The first
 * builds the tree and reports syntax errors and the errors Prometheus raises while building
 * (unknown function, bad offset, ...); the second (check_*) runs only on a tree that parsed,
 * and reports type errors. That keeps the first message for any query the one Prometheus
 * gives, and keeps each pass simple. Both passes are bounded by PROMQL_MAX_DEPTH: the parser
 * counts its recursion and the height of every subtree it builds, so neither it, the checker
 * nor the evaluator can run out of stack on any input. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "promql/ast.h"
#include "promql/parse_int.h"

struct sel_link {
    struct promql_node *sel;
    struct sel_link *next;
};

struct parser {
    const char *q;
    size_t n;
    const struct promql_options *o;
    struct arena *a;
    struct promql_error *err;
    struct lexer lx;
    struct token tok;   /* the current token */
    struct token ahead; /* the one after it, when have_ahead */
    bool have_ahead;
    int prev_end; /* end of the last token consumed */
    int depth;    /* recursion depth of parse_binary / parse_dur_binary */
    int h;        /* height of the subtree the last parse function returned */
    int rc;       /* BW_OK until the first error */
    struct sel_link *sels;
};

/* Binary operators: precedence (higher binds tighter) and associativity. Unary minus binds
 * like '*' (looser than '^'). */
enum { PREC_OR = 1, PREC_AND, PREC_CMP, PREC_ADD, PREC_MUL, PREC_POW };

static const struct binop {
    enum tok t;
    enum promql_op op;
    int prec;
    bool right; /* right-associative */
} binops[] = {
    {T_OR, OP_OR, PREC_OR, false},          {T_AND, OP_AND, PREC_AND, false},
    {T_UNLESS, OP_UNLESS, PREC_AND, false}, {T_EQLC, OP_EQL, PREC_CMP, false},
    {T_NEQ, OP_NEQ, PREC_CMP, false},       {T_GTR, OP_GTR, PREC_CMP, false},
    {T_LSS, OP_LSS, PREC_CMP, false},       {T_GTE, OP_GTE, PREC_CMP, false},
    {T_LTE, OP_LTE, PREC_CMP, false},       {T_ADD, OP_ADD, PREC_ADD, false},
    {T_SUB, OP_SUB, PREC_ADD, false},       {T_MUL, OP_MUL, PREC_MUL, false},
    {T_DIV, OP_DIV, PREC_MUL, false},       {T_MOD, OP_MOD, PREC_MUL, false},
    {T_ATAN2, OP_ATAN2, PREC_MUL, false},   {T_POW, OP_POW, PREC_POW, true},
};

static const struct binop *binop_of(enum tok t)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(binops); i++)
        if (binops[i].t == t)
            return &binops[i];
    return NULL;
}

static bool op_is_comparison(enum promql_op op)
{
    return op == OP_EQL || op == OP_NEQ || op == OP_GTR || op == OP_LSS || op == OP_GTE ||
           op == OP_LTE;
}

static bool op_is_set(enum promql_op op)
{
    return op == OP_AND || op == OP_OR || op == OP_UNLESS;
}

static const struct {
    enum tok t;
    enum agg_op op;
} aggregators[] = {
    {T_SUM, AGG_SUM},           {T_AVG, AGG_AVG},
    {T_COUNT, AGG_COUNT},       {T_MIN, AGG_MIN},
    {T_MAX, AGG_MAX},           {T_GROUP, AGG_GROUP},
    {T_STDDEV, AGG_STDDEV},     {T_STDVAR, AGG_STDVAR},
    {T_TOPK, AGG_TOPK},         {T_BOTTOMK, AGG_BOTTOMK},
    {T_QUANTILE, AGG_QUANTILE}, {T_COUNT_VALUES, AGG_COUNT_VALUES},
    {T_LIMITK, AGG_LIMITK},     {T_LIMIT_RATIO, AGG_LIMIT_RATIO},
};

static bool agg_has_param(enum agg_op op)
{
    return op == AGG_TOPK || op == AGG_BOTTOMK || op == AGG_QUANTILE || op == AGG_COUNT_VALUES ||
           op == AGG_LIMITK || op == AGG_LIMIT_RATIO;
}

/* ---- errors ---- */

/* Records the first error: "L:C: parse error: msg" for the byte offset pos. */
BW_PRINTF(3, 4)
static void fail_at(struct parser *p, int pos, const char *fmt, ...)
{
    if (p->rc != BW_OK)
        return;
    p->rc = BW_EINVAL;
    int line = 1, col;
    size_t last_nl = (size_t)-1;
    if (pos < 0 || (size_t)pos > p->n)
        pos = (int)p->n;
    for (size_t i = 0; i < (size_t)pos; i++) {
        if (p->q[i] == '\n') {
            line++;
            last_nl = i;
        }
    }
    col = (int)((size_t)pos - last_nl);
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    p->err->kind = PROMQL_ERR_BAD_DATA;
    p->err->line = line;
    p->err->col = col;
    snprintf(p->err->msg, sizeof(p->err->msg), "%d:%d: parse error: %s", line, col, msg);
}

static void fail_oom(struct parser *p)
{
    if (p->rc != BW_OK)
        return;
    p->rc = BW_ENOMEM;
    p->err->kind = PROMQL_ERR_INTERNAL;
    p->err->line = p->err->col = 0;
    snprintf(p->err->msg, sizeof(p->err->msg), "out of memory while parsing the query");
}

/* The current token does not fit: "unexpected <token>[ in context][, expected what]", or the
 * lexer's own message when the token is a lexical error. */
static void unexpected(struct parser *p, const char *context, const char *expected)
{
    if (p->tok.t == T_ERROR) {
        fail_at(p, p->tok.pos, "%s", p->tok.msg);
        return;
    }
    char desc[128];
    tok_describe(p->q, &p->tok, desc, sizeof(desc));
    fail_at(p, p->tok.pos, "unexpected %s%s%s%s%s", desc, context ? " in " : "",
            context ? context : "", expected ? ", expected " : "", expected ? expected : "");
}

/* ---- tokens and nodes ---- */

static void advance(struct parser *p)
{
    p->prev_end = p->tok.pos + p->tok.len;
    if (p->have_ahead) {
        p->tok = p->ahead;
        p->have_ahead = false;
    } else {
        lex_next(&p->lx, &p->tok);
    }
}

static const struct token *peek(struct parser *p)
{
    if (!p->have_ahead) {
        lex_next(&p->lx, &p->ahead);
        p->have_ahead = true;
    }
    return &p->ahead;
}

static struct promql_node *node_new(struct parser *p, enum node_kind kind, int pos)
{
    struct promql_node *n = arena_calloc(p->a, 1, sizeof(*n));
    if (!n) {
        fail_oom(p);
        return NULL;
    }
    n->kind = kind;
    n->pos = pos;
    n->end = p->prev_end;
    return n;
}

/* Records that the subtree just built is h levels high; false (and an error at pos) past
 * the limit. */
static bool set_height(struct parser *p, int h, int pos)
{
    p->h = h;
    if (h <= PROMQL_MAX_DEPTH)
        return true;
    fail_at(p, pos, "expression nested too deeply (more than %d levels)", PROMQL_MAX_DEPTH);
    return false;
}

static char *token_text(struct parser *p, const struct token *t)
{
    char *s = arena_strndup(p->a, p->q + t->pos, (size_t)t->len);
    if (!s)
        fail_oom(p);
    return s;
}

/* A STRING token's value. NULL after an error. */
static char *string_value(struct parser *p, const struct token *t, size_t *len)
{
    char *s = NULL;
    size_t n = 0;
    int rc = promql_unquote(p->q + t->pos, (size_t)t->len, p->a, &s, &n);
    if (rc == BW_ENOMEM) {
        fail_oom(p);
        return NULL;
    }
    if (rc != BW_OK) {
        fail_at(p, t->pos, "error unquoting string %.*s: invalid syntax", t->len, p->q + t->pos);
        return NULL;
    }
    if (len)
        *len = n;
    return s;
}

/* ---- durations: literals and (experimental) arithmetic, folded while parsing ---- */

struct dur {
    double v;     /* seconds */
    bool literal; /* a number or duration literal, possibly signed: Prometheus converts these
                     by rounding nanoseconds, computed ones by truncating milliseconds */
    int pos;
};

/* Largest magnitude in seconds that fits time.Duration. */
#define DUR_MAX_SECONDS 9223372036.854775807

static bool parse_dur_binary(struct parser *p, int min, const char *context, const char *expected,
                             struct dur *out);

/* The value of the NUMBER or DURATION token t, in seconds. */
static bool literal_value(struct parser *p, const struct token *t, double *v)
{
    char msg[200];
    if (t->t == T_NUMBER) {
        if (promql_number_value(p->q + t->pos, (size_t)t->len, v, msg, sizeof(msg)) == BW_OK)
            return true;
    } else {
        int64_t ns;
        if (promql_duration_ns(p->q + t->pos, (size_t)t->len, &ns, msg, sizeof(msg)) == BW_OK) {
            *v = (double)(ns / 1000000000) + (double)(ns % 1000000000) / 1e9;
            return true;
        }
    }
    fail_at(p, t->pos, "%s", msg);
    return false;
}

/* dur_primary := NUMBER | DURATION | "(" dur_expr ")" */
static bool parse_dur_primary(struct parser *p, const char *context, const char *expected,
                              struct dur *out)
{
    out->pos = p->tok.pos;
    if (p->tok.t == T_NUMBER || p->tok.t == T_DURATION) {
        if (!literal_value(p, &p->tok, &out->v))
            return false;
        if (!(fabs(out->v) <= DUR_MAX_SECONDS)) {
            fail_at(p, p->tok.pos, "duration out of range");
            return false;
        }
        out->literal = true;
        advance(p);
        return true;
    }
    if (p->tok.t == T_LPAREN) {
        advance(p);
        if (!parse_dur_binary(p, PREC_ADD, context, expected, out))
            return false;
        if (!p->o->enable_experimental) {
            fail_at(p, out->pos, "experimental duration expression is not enabled");
            return false;
        }
        if (p->tok.t != T_RPAREN) {
            unexpected(p, "duration expression", "\")\"");
            return false;
        }
        advance(p);
        out->literal = false;
        return true;
    }
    unexpected(p, context, expected);
    return false;
}

/* dur_unary := ("+" | "-") dur_binary(PREC_POW) | dur_primary */
static bool parse_dur_unary(struct parser *p, const char *context, const char *expected,
                            struct dur *out)
{
    if (p->tok.t != T_ADD && p->tok.t != T_SUB)
        return parse_dur_primary(p, context, expected, out);
    int pos = p->tok.pos;
    bool neg = p->tok.t == T_SUB;
    advance(p);
    if (!parse_dur_binary(p, PREC_POW, context, expected, out))
        return false;
    if (neg)
        out->v = -out->v;
    out->pos = pos;
    return true;
}

/* dur_binary(min) := dur_unary { ("+" | "-" | "*" | "/" | "%" | "^") dur_binary(next) }
 * with the operators of precedence >= min, '^' right-associative. */
static bool parse_dur_binary(struct parser *p, int min, const char *context, const char *expected,
                             struct dur *out)
{
    bool ok = false;
    if (++p->depth > PROMQL_MAX_DEPTH) {
        fail_at(p, p->tok.pos, "expression nested too deeply (more than %d levels)",
                PROMQL_MAX_DEPTH);
        goto out;
    }
    if (!parse_dur_unary(p, context, expected, out))
        goto out;
    for (;;) {
        const struct binop *b = binop_of(p->tok.t);
        if (!b || b->prec < min || b->prec < PREC_ADD || b->op == OP_ATAN2)
            break;
        int op_pos = p->tok.pos;
        advance(p);
        struct dur rhs;
        if (!parse_dur_binary(p, b->right ? b->prec : b->prec + 1, context, expected, &rhs))
            goto out;
        if (!p->o->enable_experimental) {
            fail_at(p, out->pos, "experimental duration expression is not enabled");
            goto out;
        }
        if ((b->op == OP_DIV || b->op == OP_MOD) && rhs.v == 0) {
            fail_at(p, op_pos, b->op == OP_DIV ? "division by zero" : "modulo by zero");
            goto out;
        }
        switch (b->op) {
        case OP_ADD:
            out->v += rhs.v;
            break;
        case OP_SUB:
            out->v -= rhs.v;
            break;
        case OP_MUL:
            out->v *= rhs.v;
            break;
        case OP_DIV:
            out->v /= rhs.v;
            break;
        case OP_MOD:
            out->v = fmod(out->v, rhs.v);
            break;
        default:
            out->v = pow(out->v, rhs.v);
            break;
        }
        out->literal = false;
    }
    ok = true;
out:
    p->depth--;
    return ok;
}

/* A duration value in ms as Prometheus converts it; false (error at d->pos) when it does not
 * fit or, with positive, is not > 0. */
static bool dur_ms(struct parser *p, const struct dur *d, bool positive, int64_t *ms)
{
    if (positive && !(d->v > 0)) {
        fail_at(p, d->pos, "duration must be greater than 0");
        return false;
    }
    if (d->literal) {
        double ns = round(d->v * 1e9);
        if (!(fabs(ns) < 9.2233720368547758e18)) {
            fail_at(p, d->pos, "duration out of range");
            return false;
        }
        *ms = (int64_t)ns / 1000000;
        return true;
    }
    double m = trunc(d->v * 1000);
    if (!(fabs(m) < 9.2233720368547e15)) {
        fail_at(p, d->pos, "duration out of range");
        return false;
    }
    *ms = (int64_t)m;
    return true;
}

/* ---- expressions ---- */

static struct promql_node *parse_binary(struct parser *p, int min);

static struct promql_node *parse_expr(struct parser *p)
{
    return parse_binary(p, PREC_OR);
}

/* labels := "(" [ label { "," label } [","] ] ")"
 * label  := IDENT | METRIC_IDENT | keyword (but "without") | STRING */
static bool parse_labels(struct parser *p, const char ***out, size_t *nout)
{
    const char **v = NULL;
    size_t n = 0, cap = 0;
    if (p->tok.t != T_LPAREN) {
        unexpected(p, "grouping opts", "\"(\"");
        return false;
    }
    advance(p);
    while (p->tok.t != T_RPAREN) {
        enum tok t = p->tok.t;
        char *label;
        size_t len;
        if (t == T_STRING) {
            label = string_value(p, &p->tok, &len);
        } else if (t == T_IDENT || t == T_METRIC_IDENT || tok_is_aggregator(t) ||
                   (tok_is_keyword(t) && t != T_WITHOUT) || t == T_AND || t == T_OR ||
                   t == T_UNLESS || t == T_ATAN2 || t == T_START || t == T_END) {
            label = token_text(p, &p->tok);
            len = label ? strlen(label) : 0;
        } else {
            unexpected(p, "grouping opts", "label");
            return false;
        }
        if (!label)
            return false;
        if (len == 0 || !utf8_valid(label, len)) {
            char q[200];
            promql_quote(q, sizeof(q), label, len, 0);
            fail_at(p, p->tok.pos + (t == T_STRING), "invalid label name for grouping: %s", q);
            return false;
        }
        v = arena_grow(p->a, v, n, &cap, sizeof(*v));
        if (!v) {
            fail_oom(p);
            return false;
        }
        v[n++] = label;
        advance(p);
        if (p->tok.t == T_COMMA)
            advance(p);
        else if (p->tok.t != T_RPAREN) {
            unexpected(p, "grouping opts", "\",\" or \")\"");
            return false;
        }
    }
    advance(p);
    *out = v;
    *nout = n;
    return true;
}

/* args := "(" [ expr { "," expr } ] ")"   (the height of the tallest argument in p->h) */
static bool parse_args(struct parser *p, struct promql_node ***out, size_t *nout)
{
    struct promql_node **v = NULL;
    size_t n = 0, cap = 0;
    int h = 0;
    advance(p); /* ( */
    while (p->tok.t != T_RPAREN) {
        struct promql_node *e = parse_expr(p);
        if (!e)
            return false;
        h = p->h > h ? p->h : h;
        v = arena_grow(p->a, v, n, &cap, sizeof(*v));
        if (!v) {
            fail_oom(p);
            return false;
        }
        v[n++] = e;
        if (p->tok.t == T_COMMA) {
            int comma = p->tok.pos;
            advance(p);
            if (p->tok.t == T_RPAREN) {
                fail_at(p, comma, "trailing commas not allowed in function call args");
                return false;
            }
        } else if (p->tok.t != T_RPAREN) {
            unexpected(p, NULL, NULL);
            return false;
        }
    }
    advance(p);
    *out = v;
    *nout = n;
    p->h = h;
    return true;
}

/* Adds a compiled matcher to the selector sel (the array grows in the arena). */
static bool add_matcher(struct parser *p, struct promql_node *sel, size_t *cap,
                        enum tsdb_match_op op, const char *name, const char *value, int pos)
{
    struct tsdb_matcher *m =
        arena_grow(p->a, sel->sel.matchers, sel->sel.nmatchers, cap, sizeof(*m));
    if (!m) {
        fail_oom(p);
        return false;
    }
    sel->sel.matchers = m;
    struct diag d = {0};
    int rc = tsdb_matcher_init(&sel->sel.matchers[sel->sel.nmatchers], op, name, value, &d);
    if (rc == BW_ENOMEM) {
        fail_oom(p);
        return false;
    }
    if (rc != BW_OK) {
        fail_at(p, pos, "%s", d.msg[0] ? d.msg : "invalid matcher");
        return false;
    }
    sel->sel.nmatchers++;
    return true;
}

/* matchers := "{" [ matcher { "," matcher } [","] ] "}"
 * matcher  := (IDENT | STRING) ("=" | "!=" | "=~" | "!~") STRING | STRING */
static bool parse_matchers(struct parser *p, struct promql_node *sel, size_t *cap)
{
    advance(p); /* { */
    while (p->tok.t != T_RBRACE) {
        struct token name = p->tok;
        if (name.t != T_IDENT && name.t != T_STRING) {
            unexpected(p, "label matching", "identifier or \"}\"");
            return false;
        }
        advance(p);
        enum tok opt = p->tok.t;
        bool is_op = opt == T_EQL || opt == T_NEQ || opt == T_EQL_REGEX || opt == T_NEQ_REGEX;
        const char *label = name.t == T_IDENT ? token_text(p, &name) : string_value(p, &name, NULL);
        if (!label)
            return false;
        if (!is_op && name.t == T_IDENT) {
            unexpected(p, "label matching", "label matching operator");
            return false;
        }
        if (!is_op) {
            /* {"metric.name"}: a metric name matcher */
            if (!add_matcher(p, sel, cap, TSDB_MATCH_EQ, LABEL_NAME, label, name.pos))
                return false;
        } else {
            advance(p);
            if (p->tok.t != T_STRING) {
                unexpected(p, "label matching", "string");
                return false;
            }
            const char *value = string_value(p, &p->tok, NULL);
            if (!value)
                return false;
            enum tsdb_match_op op = opt == T_EQL         ? TSDB_MATCH_EQ
                                    : opt == T_NEQ       ? TSDB_MATCH_NE
                                    : opt == T_EQL_REGEX ? TSDB_MATCH_RE
                                                         : TSDB_MATCH_NRE;
            if (!add_matcher(p, sel, cap, op, label, value, name.pos))
                return false;
            advance(p);
        }
        if (p->tok.t == T_COMMA)
            advance(p);
        else if (p->tok.t != T_RBRACE) {
            unexpected(p, "label matching", "\",\" or \"}\"");
            return false;
        }
    }
    advance(p);
    return true;
}

/* selector := metric_name [matchers] | matchers */
static struct promql_node *parse_selector(struct parser *p)
{
    struct promql_node *n = node_new(p, NODE_VECTOR_SELECTOR, p->tok.pos);
    struct sel_link *link = arena_alloc(p->a, sizeof(*link));
    if (!n || !link) {
        fail_oom(p);
        return NULL;
    }
    n->type = PROMQL_VECTOR;
    link->sel = n;
    link->next = p->sels;
    p->sels = link;
    size_t cap = 0;
    if (p->tok.t != T_LBRACE) {
        n->sel.name = token_text(p, &p->tok);
        if (!n->sel.name)
            return NULL;
        advance(p);
    }
    if (p->tok.t == T_LBRACE && !parse_matchers(p, n, &cap))
        return NULL;
    if (n->sel.name && !add_matcher(p, n, &cap, TSDB_MATCH_EQ, LABEL_NAME, n->sel.name, n->pos))
        return NULL;
    n->end = p->prev_end;
    return set_height(p, 1, n->pos) ? n : NULL;
}

/* call := IDENT args */
static struct promql_node *parse_call(struct parser *p)
{
    struct token name = p->tok;
    struct promql_node *n = node_new(p, NODE_CALL, name.pos);
    if (!n)
        return NULL;
    advance(p);
    if (!parse_args(p, &n->call.args, &n->call.nargs))
        return NULL;
    int h = p->h;
    char q[120];
    promql_quote(q, sizeof(q), p->q + name.pos, (size_t)name.len, 0);
    const struct promql_function *fn = promql_function_find(p->q + name.pos, (size_t)name.len);
    if (!fn) {
        fail_at(p, name.pos, "unknown function with name %s", q);
        return NULL;
    }
    if (fn->experimental && !p->o->enable_experimental) {
        fail_at(p, name.pos, "function %s is not enabled", q);
        return NULL;
    }
    n->call.fn = fn;
    n->type = fn->return_type;
    n->end = p->prev_end;
    return set_height(p, h + 1, n->pos) ? n : NULL;
}

/* aggregate := AGG_OP [grouping] args [grouping]
 * grouping  := ("by" | "without") labels */
static struct promql_node *parse_aggregate(struct parser *p)
{
    struct token op = p->tok;
    struct promql_node *n = node_new(p, NODE_AGGREGATE, op.pos);
    if (!n)
        return NULL;
    n->type = PROMQL_VECTOR;
    for (size_t i = 0; i < BW_ARRAY_LEN(aggregators); i++)
        if (aggregators[i].t == op.t)
            n->agg.op = aggregators[i].op;
    advance(p);
    bool grouped = false;
    if (p->tok.t == T_BY || p->tok.t == T_WITHOUT) {
        n->agg.without = p->tok.t == T_WITHOUT;
        advance(p);
        if (!parse_labels(p, &n->agg.grouping, &n->agg.ngrouping))
            return NULL;
        grouped = true;
    }
    if (p->tok.t != T_LPAREN) {
        unexpected(p, "aggregation", NULL);
        return NULL;
    }
    struct promql_node **args;
    size_t nargs;
    if (!parse_args(p, &args, &nargs))
        return NULL;
    int h = p->h;
    if (!grouped && (p->tok.t == T_BY || p->tok.t == T_WITHOUT)) {
        n->agg.without = p->tok.t == T_WITHOUT;
        advance(p);
        if (!parse_labels(p, &n->agg.grouping, &n->agg.ngrouping))
            return NULL;
    }
    n->end = p->prev_end;
    if (nargs == 0) {
        fail_at(p, n->pos, "no arguments for aggregate expression provided");
        return NULL;
    }
    size_t want = 1;
    if (agg_has_param(n->agg.op)) {
        if ((n->agg.op == AGG_LIMITK || n->agg.op == AGG_LIMIT_RATIO) &&
            !p->o->enable_experimental) {
            fail_at(p, n->pos,
                    "%s() is experimental and must be enabled with "
                    "--enable-feature=promql-experimental-functions",
                    n->agg.op == AGG_LIMITK ? "limitk" : "limit_ratio");
            return NULL;
        }
        want = 2;
        n->agg.param = args[0];
    }
    if (nargs != want) {
        fail_at(p, n->pos,
                "wrong number of arguments for aggregate expression provided, expected %zu, "
                "got %zu",
                want, nargs);
        return NULL;
    }
    n->agg.expr = args[want - 1];
    return set_height(p, h + 1, n->pos) ? n : NULL;
}

/* Whether the current token can begin a selector: a brace, or a word that may name a metric
 * (keywords and aggregator names too, as in Prometheus). */
static bool selector_start(const struct parser *p)
{
    switch (p->tok.t) {
    case T_LBRACE:
    case T_IDENT:
    case T_METRIC_IDENT:
    case T_BY:
    case T_WITHOUT:
    case T_OFFSET:
    case T_AND:
    case T_OR:
    case T_UNLESS:
    case T_START:
    case T_END:
        return true;
    default:
        return tok_is_aggregator(p->tok.t);
    }
}

/* primary := NUMBER | DURATION | STRING | "(" expr ")" | aggregate | call | selector */
static struct promql_node *parse_primary(struct parser *p)
{
    struct token t = p->tok;
    struct promql_node *n;
    switch (t.t) {
    case T_NUMBER:
    case T_DURATION: {
        double v;
        if (!literal_value(p, &t, &v))
            return NULL;
        advance(p);
        if (!(n = node_new(p, NODE_NUMBER, t.pos)))
            return NULL;
        n->type = PROMQL_SCALAR;
        n->number = v;
        return set_height(p, 1, t.pos) ? n : NULL;
    }
    case T_STRING:
        if (!(n = node_new(p, NODE_STRING, t.pos)))
            return NULL;
        n->type = PROMQL_STRING;
        if (!(n->string = string_value(p, &t, NULL)))
            return NULL;
        advance(p);
        n->end = p->prev_end;
        return set_height(p, 1, t.pos) ? n : NULL;
    case T_LPAREN: {
        advance(p);
        struct promql_node *e = parse_expr(p);
        if (!e)
            return NULL;
        if (p->tok.t != T_RPAREN) {
            unexpected(p, NULL, NULL);
            return NULL;
        }
        advance(p);
        if (!(n = node_new(p, NODE_PAREN, t.pos)))
            return NULL;
        n->paren.expr = e;
        n->type = e->type;
        return set_height(p, p->h + 1, t.pos) ? n : NULL;
    }
    case T_IDENT:
        return peek(p)->t == T_LPAREN ? parse_call(p) : parse_selector(p);
    default:
        if (tok_is_aggregator(t.t)) {
            enum tok next = peek(p)->t;
            if (next == T_LPAREN || next == T_BY || next == T_WITHOUT)
                return parse_aggregate(p);
        }
        if (selector_start(p))
            return parse_selector(p);
        unexpected(p, NULL, NULL);
        return NULL;
    }
}

/* The selector whose offset and @ a postfix modifier on e sets, or NULL if e takes none. */
static bool modifier_target(struct promql_node *e, int64_t **offset, struct at_mod **at)
{
    if (e->kind == NODE_MATRIX_SELECTOR)
        e = e->msel.vs;
    if (e->kind == NODE_VECTOR_SELECTOR) {
        *offset = &e->sel.offset_ms;
        *at = &e->sel.at;
        return true;
    }
    if (e->kind == NODE_SUBQUERY) {
        *offset = &e->subq.offset_ms;
        *at = &e->subq.at;
        return true;
    }
    return false;
}

/* "offset" offset_value
 * offset_value := ["+" | "-"] (NUMBER | DURATION) | ["+" | "-"] "(" dur_expr ")" */
static bool parse_offset(struct parser *p, struct promql_node *e)
{
    advance(p); /* offset */
    struct dur d = {.pos = p->tok.pos};
    bool neg = false;
    int sign_pos = -1;
    while (p->tok.t == T_ADD || p->tok.t == T_SUB) {
        neg ^= p->tok.t == T_SUB;
        sign_pos = sign_pos < 0 ? p->tok.pos : sign_pos;
        advance(p);
    }
    if (p->tok.t != T_NUMBER && p->tok.t != T_DURATION && p->tok.t != T_LPAREN) {
        unexpected(p, "offset", "number or duration");
        return false;
    }
    if (!parse_dur_primary(p, "offset", "number or duration", &d))
        return false;
    if (neg)
        d.v = -d.v;
    if (sign_pos >= 0)
        d.pos = sign_pos;
    int64_t ms, *offset;
    struct at_mod *at;
    if (!dur_ms(p, &d, false, &ms))
        return false;
    if (!modifier_target(e, &offset, &at)) {
        fail_at(p, e->pos,
                "offset modifier must be preceded by an instant vector selector or range "
                "vector selector or a subquery");
        return false;
    }
    if (*offset != 0) {
        fail_at(p, e->pos, "offset may not be set multiple times");
        return false;
    }
    *offset = ms;
    e->end = p->prev_end;
    return true;
}

/* "@" at_value
 * at_value := ["+" | "-"] (NUMBER | DURATION) | ("start" | "end") "(" ")" */
static bool parse_at(struct parser *p, struct promql_node *e)
{
    advance(p); /* @ */
    struct at_mod m = {AT_NONE, 0};
    if (p->tok.t == T_START || p->tok.t == T_END) {
        m.kind = p->tok.t == T_START ? AT_START : AT_END;
        advance(p);
        if (p->tok.t != T_LPAREN || peek(p)->t != T_RPAREN) {
            if (p->tok.t == T_LPAREN)
                advance(p);
            unexpected(p, "@", "timestamp");
            return false;
        }
        advance(p);
        advance(p);
    } else {
        bool neg = false;
        if (p->tok.t == T_ADD || p->tok.t == T_SUB) {
            neg = p->tok.t == T_SUB;
            advance(p);
        }
        double ts;
        if (p->tok.t != T_NUMBER && p->tok.t != T_DURATION) {
            unexpected(p, "@", "timestamp");
            return false;
        }
        if (!literal_value(p, &p->tok, &ts))
            return false;
        advance(p);
        ts = neg ? -ts : ts;
        /* Prometheus's bounds, and what keeps ts * 1000 an int64. */
        if (isnan(ts) || isinf(ts) || fabs(ts) >= 9.223372036854775e15) {
            char v[400];
            if (isnan(ts) || isinf(ts))
                snprintf(v, sizeof(v), "%s", isnan(ts) ? "NaN" : ts > 0 ? "+Inf" : "-Inf");
            else
                snprintf(v, sizeof(v), "%f", ts);
            fail_at(p, e->pos, "timestamp out of bounds for @ modifier: %s", v);
            return false;
        }
        m.kind = AT_TIME;
        m.t_ms = (int64_t)round(ts * 1000);
    }
    int64_t *offset;
    struct at_mod *at;
    if (!modifier_target(e, &offset, &at)) {
        fail_at(p, e->pos,
                "@ modifier must be preceded by an instant vector selector or range vector "
                "selector or a subquery");
        return false;
    }
    if (at->kind != AT_NONE) {
        fail_at(p, e->pos, "@ <timestamp> may not be set multiple times");
        return false;
    }
    *at = m;
    e->end = p->prev_end;
    return true;
}

/* bracket := "[" dur_expr "]"                      (a range: e must be a plain selector)
 *          | "[" dur_expr ":" [dur_expr] "]"       (a subquery)
 * h is the height of e. */
static struct promql_node *parse_bracket(struct parser *p, struct promql_node *e, int h)
{
    int open = p->tok.pos;
    struct dur range, step;
    int64_t range_ms, step_ms = 0;
    struct promql_node *n;
    advance(p); /* [ */
    if (!parse_dur_binary(p, PREC_ADD, "subquery selector", "number or duration", &range) ||
        !dur_ms(p, &range, true, &range_ms))
        return NULL;
    if (p->tok.t == T_COLON) {
        advance(p);
        if (p->tok.t != T_RBRACKET && (!parse_dur_binary(p, PREC_ADD, "subquery selector",
                                                         "number or duration or \"]\"", &step) ||
                                       !dur_ms(p, &step, true, &step_ms)))
            return NULL;
        if (p->tok.t != T_RBRACKET) {
            unexpected(p, "subquery selector", "\"]\"");
            return NULL;
        }
        advance(p);
        if (!(n = node_new(p, NODE_SUBQUERY, e->pos)))
            return NULL;
        n->type = PROMQL_MATRIX;
        n->subq.expr = e;
        n->subq.range_ms = range_ms;
        n->subq.step_ms = step_ms;
        return set_height(p, h + 1, n->pos) ? n : NULL;
    }
    if (p->tok.t != T_RBRACKET) {
        unexpected(p, "subquery or range", "\":\" or \"]\"");
        return NULL;
    }
    advance(p);
    if (e->kind != NODE_VECTOR_SELECTOR) {
        fail_at(p, open, "ranges only allowed for vector selectors");
        return NULL;
    }
    if (e->sel.offset_ms != 0) {
        fail_at(p, open, "no offset modifiers allowed before range");
        return NULL;
    }
    if (e->sel.at.kind != AT_NONE) {
        fail_at(p, open, "no @ modifiers allowed before range");
        return NULL;
    }
    if (!(n = node_new(p, NODE_MATRIX_SELECTOR, e->pos)))
        return NULL;
    n->type = PROMQL_MATRIX;
    n->msel.vs = e;
    n->msel.range_ms = range_ms;
    return set_height(p, h + 1, n->pos) ? n : NULL;
}

/* postfix := primary { bracket | "offset" offset_value | "@" at_value } */
static struct promql_node *parse_postfix(struct parser *p)
{
    struct promql_node *e = parse_primary(p);
    while (e) {
        int h = p->h;
        if (p->tok.t == T_LBRACKET) {
            e = parse_bracket(p, e, h);
        } else if (p->tok.t == T_OFFSET) {
            if (!parse_offset(p, e))
                e = NULL;
        } else if (p->tok.t == T_AT) {
            if (!parse_at(p, e))
                e = NULL;
        } else {
            break;
        }
        if (e)
            p->h = p->h > h ? p->h : h;
    }
    return e;
}

/* unary := ("+" | "-") binary(PREC_POW) | postfix
 * A sign before a number literal folds into it. */
static struct promql_node *parse_unary(struct parser *p)
{
    if (p->tok.t != T_ADD && p->tok.t != T_SUB)
        return parse_postfix(p);
    int pos = p->tok.pos;
    enum promql_op op = p->tok.t == T_SUB ? OP_SUB : OP_ADD;
    advance(p);
    struct promql_node *e = parse_binary(p, PREC_POW);
    if (!e)
        return NULL;
    if (e->kind == NODE_NUMBER) {
        if (op == OP_SUB)
            e->number = -e->number;
        e->pos = pos;
        return e;
    }
    struct promql_node *n = node_new(p, NODE_UNARY, pos);
    if (!n)
        return NULL;
    n->unary.op = op;
    n->unary.expr = e;
    n->type = e->type;
    return set_height(p, p->h + 1, pos) ? n : NULL;
}

/* modifiers := ["bool"] [("on" | "ignoring") labels [("group_left" | "group_right") [labels]]] */
static bool parse_bin_modifiers(struct parser *p, struct promql_node *n)
{
    struct vector_matching *m = arena_calloc(p->a, 1, sizeof(*m));
    if (!m) {
        fail_oom(p);
        return false;
    }
    m->card = CARD_ONE_TO_ONE;
    n->bin.matching = m;
    if (p->tok.t == T_BOOL) {
        n->bin.return_bool = true;
        advance(p);
    }
    if (p->tok.t != T_ON && p->tok.t != T_IGNORING)
        return true;
    m->on = p->tok.t == T_ON;
    advance(p);
    if (!parse_labels(p, &m->labels, &m->nlabels))
        return false;
    if (p->tok.t != T_GROUP_LEFT && p->tok.t != T_GROUP_RIGHT)
        return true;
    m->card = p->tok.t == T_GROUP_LEFT ? CARD_MANY_TO_ONE : CARD_ONE_TO_MANY;
    advance(p);
    return p->tok.t != T_LPAREN || parse_labels(p, &m->include, &m->ninclude);
}

/* binary(min) := unary { binop modifiers binary(prec + 1, or prec for '^') }
 * for the binary operators of precedence >= min (table binops[]). */
static struct promql_node *parse_binary(struct parser *p, int min)
{
    struct promql_node *lhs = NULL;
    if (++p->depth > PROMQL_MAX_DEPTH) {
        fail_at(p, p->tok.pos, "expression nested too deeply (more than %d levels)",
                PROMQL_MAX_DEPTH);
        goto out;
    }
    lhs = parse_unary(p);
    int h = p->h;
    while (lhs) {
        const struct binop *b = binop_of(p->tok.t);
        if (!b || b->prec < min)
            break;
        int op_pos = p->tok.pos;
        advance(p);
        struct promql_node *n = node_new(p, NODE_BINARY, lhs->pos);
        if (!n || !parse_bin_modifiers(p, n)) {
            lhs = NULL;
            break;
        }
        struct promql_node *rhs = parse_binary(p, b->right ? b->prec : b->prec + 1);
        if (!rhs) {
            lhs = NULL;
            break;
        }
        n->bin.op = b->op;
        n->bin.lhs = lhs;
        n->bin.rhs = rhs;
        n->end = rhs->end;
        n->type = lhs->type == PROMQL_SCALAR && rhs->type == PROMQL_SCALAR ? PROMQL_SCALAR
                                                                           : PROMQL_VECTOR;
        /* A too long chain (a + b + c ...) is too high at an operator, not where it starts. */
        if (!set_height(p, (h > p->h ? h : p->h) + 1, op_pos)) {
            lhs = NULL;
            break;
        }
        h = p->h;
        lhs = n;
    }
    if (lhs)
        p->h = h;
out:
    p->depth--;
    return lhs;
}

/* ---- the type checker (the second pass) ---- */

static const char *documented_type(enum promql_type t)
{
    switch (t) {
    case PROMQL_VECTOR:
        return "instant vector";
    case PROMQL_MATRIX:
        return "range vector";
    default:
        return promql_type_name(t);
    }
}

static bool check(struct parser *p, struct promql_node *n, bool bypass_empty);

/* Checks n and that it has type want ("expected type X in context, got Y"). */
static bool expect_type(struct parser *p, struct promql_node *n, enum promql_type want,
                        const char *context)
{
    if (!check(p, n, false))
        return false;
    if (n->type == want)
        return true;
    fail_at(p, n->pos, "expected type %s in %s, got %s", documented_type(want), context,
            documented_type(n->type));
    return false;
}

/* The position of a binary expression's operator: the first non-space after its left side. */
static int op_pos(const struct parser *p, const struct promql_node *n)
{
    int i = n->bin.lhs->end;
    while ((size_t)i < p->n && strchr(" \t\r\n", p->q[i]))
        i++;
    return i;
}

static bool check_binary(struct parser *p, struct promql_node *n)
{
    if (!check(p, n->bin.lhs, false) || !check(p, n->bin.rhs, false))
        return false;
    enum promql_op op = n->bin.op;
    enum promql_type lt = n->bin.lhs->type, rt = n->bin.rhs->type;
    struct vector_matching *m = n->bin.matching;
    if (n->bin.return_bool && !op_is_comparison(op)) {
        fail_at(p, op_pos(p, n), "bool modifier can only be used on comparison operators");
        return false;
    }
    if (op_is_comparison(op) && !n->bin.return_bool && lt == PROMQL_SCALAR && rt == PROMQL_SCALAR) {
        fail_at(p, op_pos(p, n), "comparisons between scalars must use BOOL modifier");
        return false;
    }
    if (op_is_set(op) && m->card == CARD_ONE_TO_ONE)
        m->card = CARD_MANY_TO_MANY;
    for (size_t i = 0; m->on && i < m->nlabels; i++) {
        for (size_t k = 0; k < m->ninclude; k++) {
            if (strcmp(m->labels[i], m->include[k]) == 0) {
                char q[200];
                promql_quote(q, sizeof(q), m->labels[i], strlen(m->labels[i]), 0);
                fail_at(p, op_pos(p, n), "label %s must not occur in ON and GROUP clause at once",
                        q);
                return false;
            }
        }
    }
    if (lt != PROMQL_SCALAR && lt != PROMQL_VECTOR) {
        fail_at(p, n->bin.lhs->pos,
                "binary expression must contain only scalar and instant vector types");
        return false;
    }
    if (rt != PROMQL_SCALAR && rt != PROMQL_VECTOR) {
        fail_at(p, n->bin.rhs->pos,
                "binary expression must contain only scalar and instant vector types");
        return false;
    }
    const char *name = op == OP_AND ? "and" : op == OP_OR ? "or" : "unless";
    if (lt != PROMQL_VECTOR || rt != PROMQL_VECTOR) {
        if (m->nlabels > 0) {
            fail_at(p, n->pos, "vector matching only allowed between instant vectors");
            return false;
        }
        n->bin.matching = NULL;
    } else if (op_is_set(op)) {
        if (m->card == CARD_ONE_TO_MANY || m->card == CARD_MANY_TO_ONE) {
            fail_at(p, n->pos, "no grouping allowed for \"%s\" operation", name);
            return false;
        }
    }
    if ((lt == PROMQL_SCALAR || rt == PROMQL_SCALAR) && op_is_set(op)) {
        fail_at(p, n->pos, "set operator \"%s\" not allowed in binary scalar expression", name);
        return false;
    }
    return true;
}

static bool check_call(struct parser *p, struct promql_node *n)
{
    const struct promql_function *fn = n->call.fn;
    size_t nargs = n->call.nargs, ntypes = (size_t)fn->nargs;
    char q[64], ctx[96];
    promql_quote(q, sizeof(q), fn->name, strlen(fn->name), 0);
    if (fn->variadic == 0) {
        if (nargs != ntypes) {
            fail_at(p, n->pos, "expected %zu argument(s) in call to %s, got %zu", ntypes, q, nargs);
            return false;
        }
    } else if (ntypes - 1 > nargs) {
        fail_at(p, n->pos, "expected at least %zu argument(s) in call to %s, got %zu", ntypes - 1,
                q, nargs);
        return false;
    } else if (fn->variadic > 0 && ntypes - 1 + (size_t)fn->variadic < nargs) {
        fail_at(p, n->pos, "expected at most %zu argument(s) in call to %s, got %zu",
                ntypes - 1 + (size_t)fn->variadic, q, nargs);
        return false;
    }
    snprintf(ctx, sizeof(ctx), "call to function %s", q);
    /* info(v, {label selectors}): the second argument selects info series by labels only. */
    bool info_selector = fn->id == FN_INFO && nargs > 1;
    if (info_selector) {
        struct promql_node *sel = n->call.args[1];
        if (sel->type != PROMQL_VECTOR) {
            fail_at(p, n->pos, "expected type instant vector in %s, got %s", ctx,
                    documented_type(sel->type));
            return false;
        }
        if (sel->kind != NODE_VECTOR_SELECTOR || sel->sel.name) {
            fail_at(p, sel->pos, "expected label selectors only, got vector selector instead");
            return false;
        }
    }
    for (size_t i = 0; i < nargs; i++) {
        size_t k = i < ntypes ? i : ntypes - 1;
        if (i >= ntypes && fn->variadic == 0)
            break;
        if (info_selector && i == 1) {
            if (!check(p, n->call.args[1], true))
                return false;
            continue;
        }
        if (!expect_type(p, n->call.args[i], fn->arg_types[k], ctx))
            return false;
    }
    return true;
}

static bool check_selector(struct parser *p, struct promql_node *n, bool bypass_empty)
{
    const struct tsdb_matcher *m = n->sel.matchers;
    if (n->sel.name) {
        /* the last matcher is the one the name made */
        for (size_t i = 0; i + 1 < n->sel.nmatchers; i++) {
            if (strcmp(m[i].name, LABEL_NAME) == 0) {
                char a[160], b[160];
                promql_quote(a, sizeof(a), n->sel.name, strlen(n->sel.name), 0);
                promql_quote(b, sizeof(b), m[i].value, strlen(m[i].value), 0);
                fail_at(p, n->pos, "metric name must not be set twice: %s or %s", a, b);
                return false;
            }
        }
        return true;
    }
    for (size_t i = 0; !bypass_empty && i < n->sel.nmatchers; i++)
        if (!tsdb_matcher_matches(&m[i], ""))
            return true;
    if (bypass_empty)
        return true;
    fail_at(p, n->pos, "vector selector must contain at least one non-empty matcher");
    return false;
}

/* Checks the types in the tree under n, in Prometheus's order (children first). */
static bool check(struct parser *p, struct promql_node *n, bool bypass_empty)
{
    switch (n->kind) {
    case NODE_NUMBER:
    case NODE_STRING:
        return true;
    case NODE_VECTOR_SELECTOR:
        return check_selector(p, n, bypass_empty);
    case NODE_MATRIX_SELECTOR:
        return check(p, n->msel.vs, false);
    case NODE_SUBQUERY:
        if (!check(p, n->subq.expr, false))
            return false;
        if (n->subq.expr->type != PROMQL_VECTOR) {
            fail_at(p, n->pos, "subquery is only allowed on instant vector, got %s instead",
                    promql_type_name(n->subq.expr->type));
            return false;
        }
        return true;
    case NODE_CALL:
        return check_call(p, n);
    case NODE_AGGREGATE:
        if (!expect_type(p, n->agg.expr, PROMQL_VECTOR, "aggregation expression"))
            return false;
        if (n->agg.param)
            return expect_type(p, n->agg.param,
                               n->agg.op == AGG_COUNT_VALUES ? PROMQL_STRING : PROMQL_SCALAR,
                               "aggregation parameter");
        return true;
    case NODE_BINARY:
        return check_binary(p, n);
    case NODE_UNARY:
        if (!check(p, n->unary.expr, false))
            return false;
        if (n->type != PROMQL_SCALAR && n->type != PROMQL_VECTOR) {
            char q[40];
            const char *t = documented_type(n->type);
            promql_quote(q, sizeof(q), t, strlen(t), 0);
            fail_at(p, n->pos,
                    "unary expression only allowed on expressions of type scalar or instant "
                    "vector, got %s",
                    q);
            return false;
        }
        return true;
    case NODE_PAREN:
        return check(p, n->paren.expr, false);
    }
    return true;
}

/* ---- the public functions ---- */

/* Parses q as a whole expression, or (selector_only) as one series selector without offset or
 * @ which, as Prometheus's ParseMetricSelector, may match every series. */
static int parse_input(const char *q, const struct promql_options *o, bool selector_only,
                       struct arena *a, struct promql_node **out, struct promql_error *err)
{
    static const struct promql_options defaults;
    struct parser p = {.q = q, .n = strlen(q), .o = o ? o : &defaults, .a = a, .err = err};
    memset(err, 0, sizeof(*err));
    *out = NULL;
    lex_init(&p.lx, q, p.n);
    lex_next(&p.lx, &p.tok);
    struct promql_node *root = NULL;
    if (p.tok.t == T_EOF) {
        fail_at(&p, p.tok.pos, "no expression found in input");
        goto out;
    }
    if (selector_only && !selector_start(&p))
        unexpected(&p, NULL, NULL);
    else
        root = selector_only ? parse_selector(&p) : parse_expr(&p);
    if (root && p.tok.t != T_EOF)
        unexpected(&p, NULL, NULL);
    if (p.rc == BW_OK)
        check(&p, root, selector_only);
out:
    if (p.rc != BW_OK) {
        for (struct sel_link *l = p.sels; l; l = l->next) {
            for (size_t i = 0; i < l->sel->sel.nmatchers; i++)
                tsdb_matcher_fini(&l->sel->sel.matchers[i]);
            l->sel->sel.nmatchers = 0;
        }
        return p.rc;
    }
    *out = root;
    return BW_OK;
}

int promql_parse(const char *q, const struct promql_options *o, struct arena *a,
                 struct promql_node **out, struct promql_error *err)
{
    return parse_input(q, o, false, a, out, err);
}

int promql_parse_selector(const char *q, struct arena *a, struct tsdb_matcher **m, size_t *n,
                          struct promql_error *err)
{
    struct promql_node *sel;
    int rc = parse_input(q, NULL, true, a, &sel, err);
    if (rc != BW_OK)
        return rc;
    *m = sel->sel.matchers;
    *n = sel->sel.nmatchers;
    return BW_OK;
}

const char *promql_type_name(enum promql_type t)
{
    switch (t) {
    case PROMQL_SCALAR:
        return "scalar";
    case PROMQL_VECTOR:
        return "vector";
    case PROMQL_MATRIX:
        return "matrix";
    case PROMQL_STRING:
        return "string";
    default:
        return "none";
    }
}

enum promql_type promql_node_type(const struct promql_node *n)
{
    return n ? n->type : PROMQL_NONE;
}

void promql_node_release(struct promql_node *n)
{
    if (!n)
        return;
    switch (n->kind) {
    case NODE_VECTOR_SELECTOR:
        for (size_t i = 0; i < n->sel.nmatchers; i++)
            tsdb_matcher_fini(&n->sel.matchers[i]);
        n->sel.nmatchers = 0;
        break;
    case NODE_MATRIX_SELECTOR:
        promql_node_release(n->msel.vs);
        break;
    case NODE_SUBQUERY:
        promql_node_release(n->subq.expr);
        break;
    case NODE_CALL:
        for (size_t i = 0; i < n->call.nargs; i++)
            promql_node_release(n->call.args[i]);
        break;
    case NODE_AGGREGATE:
        promql_node_release(n->agg.param);
        promql_node_release(n->agg.expr);
        break;
    case NODE_BINARY:
        promql_node_release(n->bin.lhs);
        promql_node_release(n->bin.rhs);
        break;
    case NODE_UNARY:
        promql_node_release(n->unary.expr);
        break;
    case NODE_PAREN:
        promql_node_release(n->paren.expr);
        break;
    case NODE_NUMBER:
    case NODE_STRING:
        break;
    }
}
