/* lex: the PromQL tokenizer and the literal readers (numbers, strings, durations).
 *
 * The lexer is a small state machine (struct lexer) that the parser pulls one token at a time
 * from. Its only state is how deeply the query is nested: inside braces words are label names
 * and keywords do not exist; inside brackets only durations, numbers and their arithmetic
 * are tokens. Tracking this here rather than in the parser is what lets an unbalanced query
 * fail with Prometheus's words ("unclosed left parenthesis", "unexpected end of input inside
 * braces") at the position Prometheus gives.
 *
 * Design decision: number and duration syntax is decided exactly as Prometheus's lexer decides
 * it (which characters may follow an underscore, a dot or an exponent), and values are read
 * as Go's strconv reads them (a leading 0 means octal, underscores are separators), so a
 * literal means the same here as there. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/promql.h"
#include "promql/parse_int.h"

/* ---- characters ---- */

static bool is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static bool is_alpha(int c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static bool is_alnum(int c)
{
    return is_alpha(c) || is_digit(c);
}
static int hex_val(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 16;
}

#define RUNE_ERROR 0xFFFDu

/* Decodes one UTF-8 character of s[0..n) as Go does: an invalid or overlong sequence or a
 * surrogate is RUNE_ERROR with width 1. n must be > 0. */
static uint32_t decode_rune(const unsigned char *s, size_t n, int *width)
{
    unsigned c = s[0];
    *width = 1;
    if (c < 0x80)
        return c;
    int need;
    uint32_t r, min;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, r = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, r = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, r = c & 0x07, min = 0x10000;
    } else {
        return RUNE_ERROR;
    }
    if ((size_t)need >= n)
        return RUNE_ERROR;
    for (int i = 1; i <= need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return RUNE_ERROR;
        r = (r << 6) | (s[i] & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
        return RUNE_ERROR;
    *width = need + 1;
    return r;
}

static size_t encode_rune(uint32_t r, char *out)
{
    if (r < 0x80) {
        out[0] = (char)r;
        return 1;
    }
    if (r >= 0xD800 && r < 0xE000)
        r = RUNE_ERROR;
    if (r < 0x800) {
        out[0] = (char)(0xC0 | (r >> 6));
        out[1] = (char)(0x80 | (r & 0x3F));
        return 2;
    }
    if (r < 0x10000) {
        out[0] = (char)(0xE0 | (r >> 12));
        out[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        out[2] = (char)(0x80 | (r & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (r >> 18));
    out[1] = (char)(0x80 | ((r >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((r >> 6) & 0x3F));
    out[3] = (char)(0x80 | (r & 0x3F));
    return 4;
}

/* ---- Go-style quoting for messages ---- */

/* Whether Go's strconv.IsPrint would call r printable (close enough: the exceptions Go makes
 * among non-ASCII characters are rare in queries). */
static bool rune_printable(uint32_t r)
{
    if (r < 0x80)
        return r >= 0x20 && r < 0x7F;
    return r >= 0xA1 && r != 0xAD && !(r >= 0x2028 && r <= 0x2029) && !(r >= 0xFFF9 && r <= 0xFFFB);
}

/* Appends the escaped form of r (quote is the delimiter to escape) at *o, within end. */
static void put_escaped(char **o, char *end, uint32_t r, int width, unsigned char raw, char quote)
{
    char tmp[16];
    size_t k;
    if (width == 1 && r == RUNE_ERROR) {
        k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", raw);
    } else if (r == (uint32_t)quote || r == '\\') {
        tmp[0] = '\\', tmp[1] = (char)r, k = 2;
    } else if (rune_printable(r)) {
        k = encode_rune(r, tmp);
    } else {
        static const char esc[] = "\a\b\f\n\r\t\v";
        static const char name[] = "abfnrtv";
        const char *e = r && r < 0x80 ? strchr(esc, (int)r) : NULL;
        if (e)
            k = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", name[e - esc]);
        else if (r < 0x80)
            k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned)r);
        else if (r < 0x10000)
            k = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", (unsigned)r);
        else
            k = (size_t)snprintf(tmp, sizeof(tmp), "\\U%08x", (unsigned)r);
    }
    if ((size_t)(end - *o) <= k)
        k = (size_t)(end - *o) - 1;
    memcpy(*o, tmp, k);
    *o += k;
}

void promql_quote(char *out, size_t outlen, const char *s, size_t n, size_t max_runes)
{
    if (outlen < 3) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    char *o = out, *end = out + outlen - 1; /* keep room for the closing quote */
    *o++ = '"';
    size_t runes = 0;
    for (size_t i = 0; i < n && (max_runes == 0 || runes < max_runes); runes++) {
        int w;
        uint32_t r = decode_rune((const unsigned char *)s + i, n - i, &w);
        put_escaped(&o, end, r, w, (unsigned char)s[i], '"');
        i += (size_t)w;
    }
    *o++ = '"';
    *o = '\0';
}

void promql_quote_rune(char *out, size_t outlen, uint32_t r)
{
    if (outlen < 4) {
        if (outlen)
            out[0] = '\0';
        return;
    }
    char *o = out, *end = out + outlen - 1;
    if (r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
        r = RUNE_ERROR;
    *o++ = '\'';
    put_escaped(&o, end, r, r == RUNE_ERROR ? 3 : 1, 0, '\'');
    *o++ = '\'';
    *o = '\0';
}

/* Go's %#U: "U+002E '.'" (the character only when printable). */
static void format_unicode(char *out, size_t outlen, uint32_t r)
{
    char q[16];
    if (rune_printable(r)) {
        promql_quote_rune(q, sizeof(q), r);
        snprintf(out, outlen, "U+%04X %s", (unsigned)r, q);
    } else {
        snprintf(out, outlen, "U+%04X", (unsigned)r);
    }
}

/* ---- keywords ---- */

static const struct {
    const char *word;
    enum tok t;
} keywords[] = {
    {"and", T_AND},
    {"atan2", T_ATAN2},
    {"avg", T_AVG},
    {"bool", T_BOOL},
    {"bottomk", T_BOTTOMK},
    {"by", T_BY},
    {"count", T_COUNT},
    {"count_values", T_COUNT_VALUES},
    {"end", T_END},
    {"group", T_GROUP},
    {"group_left", T_GROUP_LEFT},
    {"group_right", T_GROUP_RIGHT},
    {"ignoring", T_IGNORING},
    {"inf", T_NUMBER},
    {"limit_ratio", T_LIMIT_RATIO},
    {"limitk", T_LIMITK},
    {"max", T_MAX},
    {"min", T_MIN},
    {"nan", T_NUMBER},
    {"offset", T_OFFSET},
    {"on", T_ON},
    {"or", T_OR},
    {"quantile", T_QUANTILE},
    {"start", T_START},
    {"stddev", T_STDDEV},
    {"stdvar", T_STDVAR},
    {"sum", T_SUM},
    {"topk", T_TOPK},
    {"unless", T_UNLESS},
    {"without", T_WITHOUT},
};

/* The keyword spelled (in any case) by s[0..n), or T_IDENT. */
static enum tok keyword(const char *s, size_t n)
{
    char lower[16];
    if (n >= sizeof(lower))
        return T_IDENT;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
    for (size_t i = 0; i < BW_ARRAY_LEN(keywords); i++)
        if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, lower, n) == 0)
            return keywords[i].t;
    return T_IDENT;
}

/* The text Prometheus prints for fixed tokens (ItemTypeStr); NULL for the others. */
static const char *tok_fixed_text(enum tok t)
{
    switch (t) {
    case T_LPAREN:
        return "(";
    case T_RPAREN:
        return ")";
    case T_LBRACE:
        return "{";
    case T_RBRACE:
        return "}";
    case T_LBRACKET:
        return "[";
    case T_RBRACKET:
        return "]";
    case T_COMMA:
        return ",";
    case T_EQL:
        return "=";
    case T_COLON:
        return ":";
    default:
        return NULL;
    }
}

void tok_describe(const char *q, const struct token *t, char *out, size_t outlen)
{
    char quoted[64];
    const char *text = q + t->pos;
    size_t n = (size_t)t->len;
    if (t->t == T_EOF) {
        snprintf(out, outlen, "end of input");
    } else if (t->t == T_ERROR) {
        snprintf(out, outlen, "%s", t->msg);
    } else if (tok_is_operator(t->t)) {
        snprintf(out, outlen, "<op:%.*s>", (int)n, text);
    } else if (tok_is_aggregator(t->t)) {
        snprintf(out, outlen, "<aggr:%.*s>", (int)n, text);
    } else if (tok_is_keyword(t->t)) {
        snprintf(out, outlen, "<%.*s>", (int)n, text);
    } else if (tok_fixed_text(t->t) || t->t == T_START || t->t == T_END) {
        promql_quote(out, outlen, text, n, 0);
    } else if (t->t == T_IDENT || t->t == T_METRIC_IDENT) {
        promql_quote(quoted, sizeof(quoted), text, n, 0);
        snprintf(out, outlen, "%s %s", t->t == T_IDENT ? "identifier" : "metric identifier",
                 quoted);
    } else {
        const char *what = t->t == T_STRING ? "string" : t->t == T_NUMBER ? "number" : "duration";
        promql_quote(quoted, sizeof(quoted), text, n, n > 10 ? 10 : 0);
        snprintf(out, outlen, "%s %s%s", what, quoted, n > 10 ? "..." : "");
    }
}

/* ---- the lexer ---- */

void lex_init(struct lexer *l, const char *s, size_t n)
{
    memset(l, 0, sizeof(*l));
    l->s = s;
    l->n = n;
}

static int peek_at(const struct lexer *l, size_t i)
{
    return i < l->n ? (unsigned char)l->s[i] : -1;
}

/* Sets t to an error at start with the formatted message; the lexer stays failed. */
BW_PRINTF(4, 5)
static void lex_error(struct lexer *l, struct token *t, size_t start, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->errbuf, sizeof(l->errbuf), fmt, ap);
    va_end(ap);
    l->failed = true;
    l->error = (struct token){.t = T_ERROR, .pos = (int)start, .len = 0, .msg = l->errbuf};
    *t = l->error;
}

static void emit(struct lexer *l, struct token *t, enum tok k, size_t start)
{
    *t = (struct token){.t = k, .pos = (int)start, .len = (int)(l->pos - start)};
}

static bool accept(struct lexer *l, const char *set)
{
    int c = peek_at(l, l->pos);
    if (c > 0 && strchr(set, c)) {
        l->pos++;
        return true;
    }
    return false;
}

/* Scans a number from l->pos as Prometheus does: digits (or hex digits after 0x), at most
 * one dot, at most one exponent, underscores only between digits. True when a number ends
 * here (the next character is not alphanumeric); false leaves pos where scanning stopped. */
static bool scan_number(struct lexer *l)
{
    size_t start = l->pos;
    const char *digits = "0123456789";
    bool hex = false;
    if (accept(l, "0") && accept(l, "xX")) {
        accept(l, "_");
        digits = "0123456789abcdefABCDEF";
        hex = true;
    }
    accept(l, ".");
    accept(l, digits);
    bool dot = false, exp = false;
    for (;;) {
        int c = peek_at(l, l->pos);
        if (c <= 0 || !(strchr(digits, c) || c == '.' || c == '_' || c == 'e' || c == 'E'))
            break;
        if (c == '.' && dot) {
            l->pos++;
            return false;
        }
        if ((c == 'e' || c == 'E') && exp) {
            l->pos++;
            return false;
        }
        if (accept(l, ".")) {
            dot = true;
            if (accept(l, "_.") || hex)
                return false;
            continue;
        }
        if (accept(l, "eE")) {
            exp = true;
            accept(l, "+-");
            if (accept(l, "._eE") || l->pos >= l->n)
                return false;
            continue;
        }
        if (accept(l, "_")) {
            if (accept(l, "._eE") || l->pos >= l->n)
                return false;
            continue;
        }
        while (accept(l, digits))
            ;
    }
    if (l->pos == start)
        return false;
    return !is_alnum(peek_at(l, l->pos));
}

/* After scan_number failed: the rest of a duration (unit, then more number-unit pairs). True
 * with pos after the duration. */
static bool scan_duration_rest(struct lexer *l)
{
    if (!accept(l, "smhdwy"))
        return false;
    accept(l, "s");
    while (accept(l, "0123456789")) {
        while (accept(l, "0123456789"))
            ;
        if (!accept(l, "smhdw"))
            return false;
        accept(l, "s");
    }
    if (is_alnum(peek_at(l, l->pos))) {
        l->pos++;
        return false;
    }
    return true;
}

static void lex_number_or_duration(struct lexer *l, struct token *t, size_t start)
{
    l->pos = start;
    if (scan_number(l)) {
        emit(l, t, T_NUMBER, start);
        return;
    }
    if (scan_duration_rest(l)) {
        emit(l, t, T_DURATION, start);
        return;
    }
    char q[96];
    promql_quote(q, sizeof(q), l->s + start, l->pos - start, 0);
    lex_error(l, t, start, "bad number or duration syntax: %s", q);
}

/* An escape after the backslash at l->pos - 1 inside a string quoted with quote. */
static bool lex_escape(struct lexer *l, struct token *t, size_t start, char quote)
{
    int c = peek_at(l, l->pos);
    int n, base;
    uint32_t max;
    if (c < 0) {
        lex_error(l, t, start, "escape sequence not terminated");
        return false;
    }
    l->pos++;
    switch (c) {
    case 'a':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
    case 'v':
    case '\\':
        return true;
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
        n = 3, base = 8, max = 255;
        l->pos--;
        break;
    case 'x':
        n = 2, base = 16, max = 255;
        break;
    case 'u':
        n = 4, base = 16, max = 0x10FFFF;
        break;
    case 'U':
        n = 8, base = 16, max = 0x10FFFF;
        break;
    default:
        if (c == quote)
            return true;
        int w;
        char u[48];
        format_unicode(
            u, sizeof(u),
            decode_rune((const unsigned char *)l->s + l->pos - 1, l->n - l->pos + 1, &w));
        lex_error(l, t, start, "unknown escape sequence %s", u);
        return false;
    }
    uint32_t x = 0;
    for (; n > 0; n--) {
        int d = peek_at(l, l->pos);
        if (d < 0) {
            lex_error(l, t, start, "escape sequence not terminated");
            return false;
        }
        if (hex_val(d) >= base) {
            int w;
            char u[48];
            format_unicode(u, sizeof(u),
                           decode_rune((const unsigned char *)l->s + l->pos, l->n - l->pos, &w));
            lex_error(l, t, start, "illegal character %s in escape sequence", u);
            return false;
        }
        x = x * (uint32_t)base + (uint32_t)hex_val(d);
        l->pos++;
    }
    if (x > max || (x >= 0xD800 && x < 0xE000)) {
        lex_error(l, t, start, "escape sequence is an invalid Unicode code point");
        return false;
    }
    return true;
}

/* A string opened by the quote at start ("…", '…' with escapes; `…` raw). */
static void lex_string(struct lexer *l, struct token *t, size_t start)
{
    char quote = l->s[start];
    l->pos = start + 1;
    for (;;) {
        int c = peek_at(l, l->pos);
        if (c < 0 || (c == '\n' && quote != '`')) {
            lex_error(l, t, start,
                      quote == '`' ? "unterminated raw string" : "unterminated quoted string");
            return;
        }
        int w;
        uint32_t r = decode_rune((const unsigned char *)l->s + l->pos, l->n - l->pos, &w);
        if (r == RUNE_ERROR) {
            lex_error(l, t, start, "invalid UTF-8 rune");
            return;
        }
        l->pos += (size_t)w;
        if (c == quote)
            break;
        if (c == '\\' && quote != '`' && !lex_escape(l, t, start, quote))
            return;
    }
    emit(l, t, T_STRING, start);
}

/* A word: keyword, identifier or metric identifier (with ':'); inside braces only
 * identifiers. */
static void lex_word(struct lexer *l, struct token *t, size_t start, bool in_braces)
{
    l->pos = start;
    while (is_alnum(peek_at(l, l->pos)) || (!in_braces && peek_at(l, l->pos) == ':'))
        l->pos++;
    if (in_braces) {
        emit(l, t, T_IDENT, start);
        return;
    }
    const char *w = l->s + start;
    size_t n = l->pos - start;
    enum tok k = memchr(w, ':', n) ? T_METRIC_IDENT : keyword(w, n);
    emit(l, t, k, start);
}

/* Sets t to an error at start with fmt, whose %s is the character at `at` quoted as Go quotes
 * a rune (at the end of input: the rune -1, Go's lexer's eof). */
static void unexpected_char(struct lexer *l, struct token *t, size_t start, size_t at,
                            const char *fmt)
{
    int w;
    char q[32];
    uint32_t r =
        at < l->n ? decode_rune((const unsigned char *)l->s + at, l->n - at, &w) : (uint32_t)-1;
    promql_quote_rune(q, sizeof(q), r);
    lex_error(l, t, start, fmt, q);
}

/* The one-character operators by character (T_EOF: none): outside brackets, and in the
 * duration arithmetic inside them. */
static const enum tok statement_ops[UCHAR_MAX + 1] = {
    [','] = T_COMMA, ['*'] = T_MUL, ['/'] = T_DIV, ['%'] = T_MOD,
    ['+'] = T_ADD,   ['-'] = T_SUB, ['^'] = T_POW, ['@'] = T_AT,
};
static const enum tok duration_ops[UCHAR_MAX + 1] = {
    ['+'] = T_ADD, ['-'] = T_SUB, ['*'] = T_MUL,    ['/'] = T_DIV,
    ['%'] = T_MOD, ['^'] = T_POW, ['('] = T_LPAREN,
};

/* Inside {…}: label names, strings, matcher operators, commas. */
static void lex_in_braces(struct lexer *l, struct token *t, size_t start, int c)
{
    int next = peek_at(l, start + 1);
    l->pos = start + 1;
    if (is_alpha(c)) {
        lex_word(l, t, start, true);
    } else if (c == ',') {
        emit(l, t, T_COMMA, start);
    } else if (c == '"' || c == '\'' || c == '`') {
        lex_string(l, t, start);
    } else if (c == '=') {
        if (next == '~')
            l->pos++;
        emit(l, t, next == '~' ? T_EQL_REGEX : T_EQL, start);
    } else if (c == '!') {
        if (next != '~' && next != '=') {
            unexpected_char(l, t, start, start + 1,
                            "unexpected character after '!' inside braces: %s");
            return;
        }
        l->pos++;
        emit(l, t, next == '~' ? T_NEQ_REGEX : T_NEQ, start);
    } else if (c == '{') {
        lex_error(l, t, start, "unexpected left brace '{'");
    } else if (c == '}') {
        emit(l, t, T_RBRACE, start);
        l->brace_open = false;
    } else {
        unexpected_char(l, t, start, start, "unexpected character inside braces: %s");
    }
}

/* Inside […]: durations, numbers, + - * / % ^, parentheses, one colon. */
static void lex_in_brackets(struct lexer *l, struct token *t, size_t start, int c)
{
    l->pos = start + 1;
    if (is_digit(c) || (c == '.' && is_digit(peek_at(l, start + 1)))) {
        l->dur_operand = false;
        lex_number_or_duration(l, t, start);
        return;
    }
    if (c == ']') {
        if (l->bracket_parens > 0) {
            lex_error(l, t, start, "unclosed left parenthesis");
            return;
        }
        l->bracket_open = false;
        emit(l, t, T_RBRACKET, start);
        return;
    }
    if (c == ':') {
        if (l->got_colon) {
            lex_error(l, t, start, "unexpected repeated colon in duration expression");
            return;
        }
        if (l->dur_operand) {
            lex_error(l, t, start, "unexpected colon before duration in duration expression");
            return;
        }
        l->got_colon = true;
        l->dur_operand = true;
        emit(l, t, T_COLON, start);
        return;
    }
    if (c == ')') {
        if (--l->bracket_parens < 0) {
            lex_error(l, t, start, "unexpected right parenthesis ')'");
            return;
        }
        emit(l, t, T_RPAREN, start);
        return;
    }
    enum tok op = duration_ops[c];
    if (op == T_EOF) {
        unexpected_char(l, t, start, start, "unexpected character in duration expression: %s");
        return;
    }
    if (op == T_LPAREN)
        l->bracket_parens++;
    l->dur_operand = true;
    emit(l, t, op, start);
}

/* Outside braces and brackets: the expression tokens. */
static void lex_statement(struct lexer *l, struct token *t, size_t start, int c)
{
    int next = peek_at(l, start + 1);
    l->pos = start + 1;
    if (statement_ops[c] != T_EOF) {
        emit(l, t, statement_ops[c], start);
        return;
    }
    switch (c) {
    case '=':
        if (next == '~') {
            lex_error(l, t, start, "unexpected character after '=': '~'");
            return;
        }
        if (next == '=')
            l->pos++;
        emit(l, t, next == '=' ? T_EQLC : T_EQL, start);
        return;
    case '!':
        if (next != '=') {
            unexpected_char(l, t, start, start + 1, "unexpected character after '!': %s");
            return;
        }
        l->pos++;
        emit(l, t, T_NEQ, start);
        return;
    case '<':
    case '>':
        if (next == '=')
            l->pos++;
        emit(l, t, c == '<' ? (next == '=' ? T_LTE : T_LSS) : (next == '=' ? T_GTE : T_GTR), start);
        return;
    case '"':
    case '\'':
    case '`':
        lex_string(l, t, start);
        return;
    case '(':
        l->paren_depth++;
        emit(l, t, T_LPAREN, start);
        return;
    case ')':
        if (--l->paren_depth < 0) {
            lex_error(l, t, start, "unexpected right parenthesis ')'");
            return;
        }
        emit(l, t, T_RPAREN, start);
        return;
    case '{':
        l->brace_open = true;
        emit(l, t, T_LBRACE, start);
        return;
    case '[':
        l->bracket_open = true;
        l->bracket_parens = 0;
        l->got_colon = false;
        l->dur_operand = true;
        emit(l, t, T_LBRACKET, start);
        return;
    case ']':
        lex_error(l, t, start, "unexpected right bracket ']'");
        return;
    default:
        break;
    }
    if (is_digit(c) || (c == '.' && is_digit(next)))
        lex_number_or_duration(l, t, start);
    else if (is_alpha(c) || c == ':')
        lex_word(l, t, start, false);
    else
        unexpected_char(l, t, start, start, "unexpected character: %s");
}

void lex_next(struct lexer *l, struct token *t)
{
    if (l->failed) {
        *t = l->error;
        return;
    }
    for (;;) {
        while (is_space(peek_at(l, l->pos)))
            l->pos++;
        if (peek_at(l, l->pos) != '#')
            break;
        while (l->pos < l->n && l->s[l->pos] != '\n' && l->s[l->pos] != '\r')
            l->pos++;
    }
    size_t start = l->pos;
    int c = peek_at(l, start);
    if (c < 0) {
        if (l->brace_open)
            lex_error(l, t, start, "unexpected end of input inside braces");
        else if (l->bracket_open && l->dur_operand)
            lex_error(l, t, start, "unexpected end of input in duration expression");
        else if (l->paren_depth != 0)
            lex_error(l, t, start, "unclosed left parenthesis");
        else if (l->bracket_open)
            lex_error(l, t, start, "unclosed left bracket");
        else
            emit(l, t, T_EOF, start);
        return;
    }
    if (l->brace_open)
        lex_in_braces(l, t, start, c);
    else if (l->bracket_open)
        lex_in_brackets(l, t, start, c);
    else
        lex_statement(l, t, start, c);
}

/* ---- literal values ---- */

/* Go's NaN (math.NaN()): the bit pattern Prometheus produces for a NaN literal. */
static double go_nan(void)
{
    uint64_t bits = 0x7ff8000000000001ULL;
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

int promql_number_value(const char *s, size_t n, double *v, char *msg, size_t msglen)
{
    char buf[128];
    size_t k = 0;
    /* Inf and NaN (any case): the lexer gives them as words. */
    if (n == 3 && keyword(s, n) == T_NUMBER) {
        *v = (s[0] == 'n' || s[0] == 'N') ? go_nan() : INFINITY;
        return BW_OK;
    }
    if (n >= sizeof(buf))
        goto out_of_range;
    for (size_t i = 0; i < n; i++)
        if (s[i] != '_')
            buf[k++] = s[i];
    buf[k] = '\0';
    /* Integers as strconv.ParseInt(s, 0, 64): 0x hex, a leading 0 octal; if that fails the
     * text is read as a decimal float. */
    bool digits_only = k > 0;
    for (size_t i = 0; i < k; i++)
        digits_only = digits_only && is_digit(buf[i]);
    if (k > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
        uint64_t x = 0;
        for (size_t i = 2; i < k; i++) {
            if (x > (UINT64_MAX >> 4))
                goto hex_range;
            x = (x << 4) | (uint64_t)hex_val(buf[i]);
        }
        if (x > INT64_MAX)
            goto hex_range;
        *v = (double)(int64_t)x;
        return BW_OK;
    hex_range:
        snprintf(msg, msglen,
                 "error parsing number: strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
                 (int)n, s);
        return BW_EINVAL;
    }
    if (digits_only && k > 1 && buf[0] == '0') {
        uint64_t x = 0;
        bool ok = true;
        for (size_t i = 1; i < k && ok; i++) {
            ok = buf[i] <= '7' && x <= (uint64_t)INT64_MAX >> 3;
            x = (x << 3) | (uint64_t)(buf[i] - '0');
        }
        if (ok && x <= INT64_MAX) {
            *v = (double)(int64_t)x;
            return BW_OK;
        }
    }
    errno = 0;
    char *end;
    double d = strtod(buf, &end);
    if (*end != '\0') {
        snprintf(msg, msglen,
                 "error parsing number: strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
                 (int)n, s);
        return BW_EINVAL;
    }
    if (errno == ERANGE && isinf(d))
        goto out_of_range;
    *v = d;
    return BW_OK;
out_of_range:
    snprintf(msg, msglen,
             "error parsing number: strconv.ParseFloat: parsing \"%.*s\": value out of range",
             (int)(n > 64 ? 64 : n), s);
    return BW_EINVAL;
}

int promql_unquote(const char *s, size_t n, struct arena *a, char **out, size_t *len)
{
    if (n < 2)
        return BW_EINVAL;
    char quote = s[0];
    s++, n -= 2;
    char *o = arena_alloc(a, n + 1);
    if (!o)
        return BW_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] != '\\' || quote == '`') {
            o[k++] = s[i++];
            continue;
        }
        if (i + 1 >= n)
            return BW_EINVAL;
        char c = s[i + 1];
        i += 2;
        static const char esc[] = "abfnrtv\\\"'";
        static const char val[] = "\a\b\f\n\r\t\v\\\"'";
        const char *e = strchr(esc, c);
        if (e && c) {
            o[k++] = val[e - esc];
            continue;
        }
        int digits = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : 0;
        int base = 16;
        if (c >= '0' && c <= '7') {
            digits = 3, base = 8;
            i--;
        }
        if (!digits || i + (size_t)digits > n)
            return BW_EINVAL;
        uint32_t x = 0;
        for (int d = 0; d < digits; d++, i++) {
            int h = hex_val(s[i]);
            if (h >= base)
                return BW_EINVAL;
            x = x * (uint32_t)base + (uint32_t)h;
        }
        /* \x and octal escapes are bytes; \u and \U are characters, written as UTF-8 (which
         * never takes more bytes than the escape did). */
        if (c == 'u' || c == 'U')
            k += encode_rune(x, o + k);
        else if (x <= 255)
            o[k++] = (char)x;
        else
            return BW_EINVAL;
    }
    o[k] = '\0';
    *out = o;
    *len = k;
    return BW_OK;
}

static const struct {
    const char *unit;
    int64_t ns;
} duration_units[] = {
    {"y", 365LL * 24 * 3600 * 1000000000LL},
    {"w", 7LL * 24 * 3600 * 1000000000LL},
    {"d", 24LL * 3600 * 1000000000LL},
    {"h", 3600LL * 1000000000LL},
    {"m", 60LL * 1000000000LL},
    {"s", 1000000000LL},
    {"ms", 1000000LL},
};

int promql_duration_ns(const char *s, size_t n, int64_t *ns, char *msg, size_t msglen)
{
    if (n == 1 && s[0] == '0') {
        *ns = 0;
        return BW_OK;
    }
    if (n == 0) {
        snprintf(msg, msglen, "empty duration string");
        return BW_EINVAL;
    }
    char q[96];
    promql_quote(q, sizeof(q), s, n, 0);
    uint64_t total = 0;
    size_t last_unit = 0; /* index + 1 of the previous unit: units must decrease */
    size_t i = 0;
    while (i < n) {
        if (!is_digit((unsigned char)s[i]))
            goto invalid;
        uint64_t v = 0;
        bool overflow = false;
        for (; i < n && is_digit((unsigned char)s[i]); i++) {
            overflow = overflow || v > (UINT64_MAX - 9) / 10;
            v = v * 10 + (uint64_t)(s[i] - '0');
        }
        if (overflow)
            goto invalid;
        size_t u = i;
        while (i < n && !is_digit((unsigned char)s[i]))
            i++;
        if (u == i)
            goto invalid;
        size_t unit = 0;
        for (size_t k = 0; k < BW_ARRAY_LEN(duration_units) && !unit; k++)
            if (strlen(duration_units[k].unit) == i - u &&
                memcmp(duration_units[k].unit, s + u, i - u) == 0)
                unit = k + 1;
        if (!unit) {
            char uq[48];
            promql_quote(uq, sizeof(uq), s + u, i - u, 0);
            snprintf(msg, msglen, "unknown unit %s in duration %s", uq, q);
            return BW_EINVAL;
        }
        if (unit <= last_unit)
            goto invalid;
        last_unit = unit;
        uint64_t mult = (uint64_t)duration_units[unit - 1].ns;
        if (v > (1ULL << 63) / mult || total + v * mult > (uint64_t)INT64_MAX) {
            snprintf(msg, msglen, "duration out of range");
            return BW_EINVAL;
        }
        total += v * mult;
    }
    *ns = (int64_t)total;
    return BW_OK;
invalid:
    snprintf(msg, msglen, "not a valid duration string: %s", q);
    return BW_EINVAL;
}

int promql_parse_duration(const char *s, size_t n, int64_t *ms)
{
    char msg[160];
    int64_t ns;
    if (promql_duration_ns(s, n, &ns, msg, sizeof(msg)) != BW_OK)
        return BW_EINVAL;
    *ms = ns / 1000000;
    return BW_OK;
}

/* ---- canonical text for the formatter ---- */

int promql_format_duration(int64_t ms, struct buf *out)
{
    if (ms == 0)
        return buf_puts(out, "0s");
    /* Years and weeks only when they divide the duration exactly: 90d reads better than
     * 12w6d. */
    static const struct {
        const char *unit;
        int64_t ms;
        bool exact;
    } units[] = {{"y", 365LL * 86400000, true},
                 {"w", 7LL * 86400000, true},
                 {"d", 86400000, false},
                 {"h", 3600000, false},
                 {"m", 60000, false},
                 {"s", 1000, false},
                 {"ms", 1, false}};
    int rc = BW_OK;
    uint64_t left = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    if (ms < 0)
        rc = buf_putc(out, '-');
    for (size_t i = 0; i < BW_ARRAY_LEN(units) && rc == BW_OK; i++) {
        uint64_t q = left / (uint64_t)units[i].ms;
        if (q == 0 || (units[i].exact && left % (uint64_t)units[i].ms != 0))
            continue;
        left -= q * (uint64_t)units[i].ms;
        rc = buf_printf(out, "%llu%s", (unsigned long long)q, units[i].unit);
    }
    return rc;
}

int promql_format_float(double v, struct buf *out)
{
    if (isnan(v))
        return buf_puts(out, "NaN");
    if (isinf(v))
        return buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    /* The shortest %.*e that reads back as v gives the digits; lay them out without an
     * exponent. */
    char e[40];
    for (int prec = 0; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    char digits[24];
    size_t nd = 0;
    const char *p = e;
    bool neg = *p == '-';
    if (neg)
        p++;
    for (; *p && *p != 'e'; p++)
        if (is_digit(*p))
            digits[nd++] = *p;
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int rc = neg ? buf_putc(out, '-') : BW_OK;
    /* value = 0.d1d2d3... * 10^(exp10+1) */
    int point = exp10 + 1; /* digits before the decimal point */
    if (rc == BW_OK && point <= 0) {
        rc = buf_puts(out, "0.");
        for (int i = 0; i < -point && rc == BW_OK; i++)
            rc = buf_putc(out, '0');
        if (rc == BW_OK)
            rc = buf_append(out, digits, nd);
    } else if (rc == BW_OK) {
        for (int i = 0; i < point && rc == BW_OK; i++)
            rc = buf_putc(out, (size_t)i < nd ? digits[i] : '0');
        if (rc == BW_OK && (size_t)point < nd) {
            rc = buf_putc(out, '.');
            if (rc == BW_OK)
                rc = buf_append(out, digits + point, nd - (size_t)point);
        }
    }
    return rc;
}
