/* promql parser internals: the tokens and the lexer (lex.c) that the parser (parse.c) and the
 * formatter (format.c) share, and the literal and array helpers they all need. Not included
 * from outside src/promql/. */
#ifndef BW_PROMQL_PARSE_INT_H
#define BW_PROMQL_PARSE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* Token kinds. The groups (operators, aggregators, keywords) are contiguous: tok_is_* test
 * ranges. */
enum tok {
    T_EOF,
    T_ERROR, /* a lexical error: the token's msg says what */
    T_IDENT,
    T_METRIC_IDENT, /* an identifier containing ':' */
    T_NUMBER,
    T_DURATION,
    T_STRING, /* quoted, as written (quotes included) */
    T_LPAREN,
    T_RPAREN,
    T_LBRACE,
    T_RBRACE,
    T_LBRACKET,
    T_RBRACKET,
    T_COMMA,
    T_EQL, /* '=' in a matcher */
    T_COLON,
    /* operators */
    T_ADD,
    T_SUB,
    T_MUL,
    T_DIV,
    T_MOD,
    T_POW,
    T_ATAN2,
    T_EQLC,
    T_NEQ,
    T_GTR,
    T_LSS,
    T_GTE,
    T_LTE,
    T_AND,
    T_OR,
    T_UNLESS,
    T_EQL_REGEX,
    T_NEQ_REGEX,
    T_AT,
    /* aggregators */
    T_SUM,
    T_AVG,
    T_COUNT,
    T_MIN,
    T_MAX,
    T_GROUP,
    T_STDDEV,
    T_STDVAR,
    T_TOPK,
    T_BOTTOMK,
    T_COUNT_VALUES,
    T_QUANTILE,
    T_LIMITK,
    T_LIMIT_RATIO,
    /* keywords */
    T_OFFSET,
    T_BY,
    T_WITHOUT,
    T_ON,
    T_IGNORING,
    T_GROUP_LEFT,
    T_GROUP_RIGHT,
    T_BOOL,
    /* @ preprocessors */
    T_START,
    T_END,
};

static inline bool tok_is_operator(enum tok t)
{
    return t >= T_ADD && t <= T_AT;
}
static inline bool tok_is_aggregator(enum tok t)
{
    return t >= T_SUM && t <= T_LIMIT_RATIO;
}
static inline bool tok_is_keyword(enum tok t)
{
    return t >= T_OFFSET && t <= T_BOOL;
}

struct token {
    enum tok t;
    int pos, len;    /* byte offsets in the query */
    const char *msg; /* T_ERROR: the message (lives in the lexer) */
};

/* The lexer: a state machine over the query, as context-sensitive as PromQL needs (inside
 * braces words are label names; inside brackets only durations and their arithmetic). It
 * tracks nesting itself so that an unbalanced query fails with the same words as Prometheus. */
struct lexer {
    const char *s;
    size_t n;
    size_t pos;
    int paren_depth;
    bool brace_open;
    bool bracket_open;
    int bracket_parens; /* ( depth inside the current brackets */
    bool got_colon;     /* a ':' was seen inside the current brackets */
    bool dur_operand;   /* inside brackets, an operand is expected next */
    bool failed;        /* an error was returned: every later token is that error again */
    struct token error; /* the error token, once failed */
    char errbuf[160];
};

void lex_init(struct lexer *l, const char *s, size_t n);
/* The next token, skipping spaces and comments. After a T_ERROR, T_ERROR forever. */
void lex_next(struct lexer *l, struct token *t);

/* How an error message names a token: `identifier "foo"`, `<op:+>`, `"("`, `end of input`. */
void tok_describe(const char *q, const struct token *t, char *out, size_t outlen);

/* Go's %q for a byte string, at most max_runes characters of it (0: all); "..." is not added.
 * Writes into out (truncated to outlen). */
void promql_quote(char *out, size_t outlen, const char *s, size_t n, size_t max_runes);
/* Go's %q for one character: 'x', '\n', '\x00'. */
void promql_quote_rune(char *out, size_t outlen, uint32_t r);
/* The value of a NUMBER token text (decimal, hex, octal with a leading 0, underscores, Inf,
 * NaN), as Prometheus reads it. BW_EINVAL with why in msg (out of range). */
int promql_number_value(const char *s, size_t n, double *v, char *msg, size_t msglen);
/* A STRING token's value, unescaped into a (NUL-terminated; *len without it). The lexer has
 * validated the escapes. BW_EINVAL (an escape the lexer let through), BW_ENOMEM. */
int promql_unquote(const char *s, size_t n, struct arena *a, char **out, size_t *len);
/* A duration literal into nanoseconds (model.ParseDuration's rules). BW_EINVAL with msg. */
int promql_duration_ns(const char *s, size_t n, int64_t *ns, char *msg, size_t msglen);

/* Appends a duration in Prometheus's canonical form (1h30m, 0s, 250ms) to out. */
int promql_format_duration(int64_t ms, struct buf *out);
/* Appends v as Go's strconv.FormatFloat(v, 'f', -1, 64): shortest, no exponent. */
int promql_format_float(double v, struct buf *out);

#endif
