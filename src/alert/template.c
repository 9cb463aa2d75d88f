/* template.c: the subset of Go's text/template that Prometheus rule files use, with
 * Prometheus's template functions.
 *
 * A template is parsed into a tree in an arena — a list of nodes (text, action, if, with),
 * each action a pipeline of commands whose operands are literals, variables, field chains,
 * function names or parenthesised pipelines — and then executed against struct tmpl_data.
 * Values are a small tagged union (string, int, float64, bool, label map, the data, nil)
 * that keeps Go's types, because Go's behaviour depends on them: `printf "%d" $value` prints
 * "%!d(float64=...)", `gt $value 1` is an error (float64 against int), a number literal
 * passed to humanize is an int.
 *
 * The one decision: the tree is rebuilt for every expansion (templates are short and
 * expansion happens once per alert per evaluation), so nothing is cached or shared between
 * threads. As Prometheus prepends "{{$labels := .Labels}}..." to each template, the four
 * variables are predeclared and execution errors on the first line count the 112 bytes of
 * that prefix in their column, as Go's messages do. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "alert/rules.h"

#define MAX_DEPTH 100
/* The most an expansion, or one printf or print in it, may produce: past it the expansion
 * fails as a template error, which the rule's other templates and rules do not feel. */
#define TMPL_MAX_OUTPUT (1u << 20)
#define DEFS_WIDTH      112 /* strlen of Prometheus's four variable definitions */

/* ---- the tree ---- */

enum op_kind {
    OP_DOT,
    OP_FIELD,
    OP_VAR,
    OP_FUNC,
    OP_STR,
    OP_INT,
    OP_FLOAT,
    OP_BOOL,
    OP_NIL,
    OP_PIPE
};

struct func;
struct pipeline;

struct operand {
    enum op_kind k;
    size_t pos;
    const char *s; /* OP_STR text, OP_VAR name */
    size_t len;
    int64_t i;
    double f;
    const struct func *fn;
    struct pipeline *pipe;
    const char **fields; /* .A.B after the term */
    size_t nfields;
};

struct command {
    struct operand *args;
    size_t nargs;
    size_t pos, end; /* source span, for messages */
};

struct pipeline {
    const char *decl; /* $x := / $x = */
    bool declare;
    struct command *cmds;
    size_t ncmds;
    size_t pos;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_WITH };

struct node {
    enum node_kind k;
    const char *text;
    size_t len;
    struct pipeline *pipe;
    struct node *body, *els;
    struct node *next;
};

/* ---- values ---- */

enum vkind { V_NIL, V_STR, V_INT, V_FLOAT, V_BOOL, V_MAP, V_DATA };

struct val {
    enum vkind k;
    const char *s;
    int64_t i;
    double f;
    bool b;
    const struct labelset *m;
};

static const struct labelset no_labels = {NULL, 0};

/* ---- parser and executor state ---- */

struct var {
    const char *name;
    struct val v;
};

struct tmpl {
    const char *src;
    size_t len;
    const char *name;
    struct arena *a;
    char *msg; /* the first error */
    size_t msglen;
    bool failed;
    bool oom;
    /* parsing */
    size_t p;
    int depth;
    const char **scope; /* declared variable names */
    size_t nscope, capscope;
    /* executing */
    const struct tmpl_data *data;
    struct buf *out;
    struct var *vars;
    size_t nvars, capvars;
    struct val dot;
};

static int perr(struct tmpl *t, size_t pos, const char *fmt, ...) BW_PRINTF(3, 4);

/* A parse error: "template: NAME:LINE: why", as Go's parser says it. */
static int perr(struct tmpl *t, size_t pos, const char *fmt, ...)
{
    if (t->failed)
        return BW_EINVAL;
    t->failed = true;
    int line = 1;
    for (size_t i = 0; i < pos && i < t->len; i++)
        line += t->src[i] == '\n';
    int n = snprintf(t->msg, t->msglen, "template: %s:%d: ", t->name, line);
    if (n >= 0 && (size_t)n < t->msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->msg + n, t->msglen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return BW_EINVAL;
}

static int nomem(struct tmpl *t)
{
    t->oom = true;
    return perr(t, 0, "out of memory");
}

static int xerr(struct tmpl *t, const struct command *c, const char *fmt, ...) BW_PRINTF(3, 4);

/* An execution error: "template: NAME:LINE:COL: executing "NAME" at <CMD>: why". */
static int xerr(struct tmpl *t, const struct command *c, const char *fmt, ...)
{
    if (t->failed)
        return BW_EINVAL;
    t->failed = true;
    int line = 1;
    size_t bol = 0;
    for (size_t i = 0; i < c->pos; i++)
        if (t->src[i] == '\n') {
            line++;
            bol = i + 1;
        }
    size_t col = c->pos - bol + (line == 1 ? DEFS_WIDTH : 0);
    int n =
        snprintf(t->msg, t->msglen, "template: %s:%d:%zu: executing \"%s\" at <%.*s>: ", t->name,
                 line, col, t->name, (int)(c->end - c->pos), t->src + c->pos);
    if (n >= 0 && (size_t)n < t->msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(t->msg + n, t->msglen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return BW_EINVAL;
}

/* ---- functions ---- */

typedef int (*func_impl)(struct tmpl *t, const struct command *c, const struct val *args, size_t n,
                         struct val *out);

struct func {
    const char *name;
    func_impl impl;
    int min, max;      /* argument counts; max -1: any */
    const char *types; /* per argument: 's' string, 'a' any; the last repeats */
};

static const char *type_name(const struct val *v)
{
    switch (v->k) {
    case V_STR:
        return "string";
    case V_INT:
        return "int";
    case V_FLOAT:
        return "float64";
    case V_BOOL:
        return "bool";
    case V_MAP:
        return "map[string]string";
    case V_DATA:
        return "struct { Labels map[string]string; ExternalLabels map[string]string; "
               "ExternalURL string; Value interface {} }";
    case V_NIL:
        break;
    }
    return "<nil>";
}

static struct val vstr(const char *s)
{
    return (struct val){.k = V_STR, .s = s};
}

static char *astr(struct tmpl *t, const char *s, size_t n)
{
    char *r = arena_strndup(t->a, s, n);
    if (!r)
        nomem(t);
    return r;
}

static int ret_buf(struct tmpl *t, struct buf *b, struct val *out)
{
    const char *s = astr(t, b->data ? b->data : "", b->len);
    buf_fini(b);
    if (!s)
        return BW_ENOMEM;
    *out = vstr(s);
    return BW_OK;
}

static int ret_fmt(struct tmpl *t, struct val *out, const char *fmt, ...) BW_PRINTF(3, 4);

static int ret_fmt(struct tmpl *t, struct val *out, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    const char *s = astr(t, tmp, n < 0 ? 0 : (size_t)n);
    if (!s)
        return BW_ENOMEM;
    *out = vstr(s);
    return BW_OK;
}

/* Go's %.Ng for a float64: C's, except for NaN and the infinities. */
static void go_g(char *out, size_t len, int prec, double v)
{
    if (isnan(v))
        snprintf(out, len, "NaN");
    else if (isinf(v))
        snprintf(out, len, "%sInf", v > 0 ? "+" : "-");
    else
        snprintf(out, len, "%.*g", prec, v);
}

/* common_templates.ConvertToFloat. */
static int to_float(struct tmpl *t, const struct command *c, const char *fn, const struct val *v,
                    double *f)
{
    switch (v->k) {
    case V_FLOAT:
        *f = v->f;
        return BW_OK;
    case V_INT:
        *f = (double)v->i;
        return BW_OK;
    case V_STR:
        switch (parse_go_float(v->s, f)) {
        case BW_OK:
            return BW_OK;
        case BW_ENOMEM:
            return nomem(t);
        case BW_ERANGE:
            return xerr(t, c,
                        "error calling %s: strconv.ParseFloat: parsing \"%s\": value out of range",
                        fn, v->s);
        default:
            return xerr(t, c,
                        "error calling %s: strconv.ParseFloat: parsing \"%s\": invalid syntax", fn,
                        v->s);
        }
    default:
        return xerr(t, c, "error calling %s: can't convert %s to float", fn, type_name(v));
    }
}

static int f_humanize(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                      struct val *out)
{
    static const char *const big[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    double v;
    char num[64];
    const char *prefix = "";
    if (to_float(t, c, "humanize", &a[0], &v) != BW_OK)
        return BW_EINVAL;
    if (v == 0 || !isfinite(v)) {
        go_g(num, sizeof(num), 4, v);
    } else if (fabs(v) >= 1) {
        for (size_t i = 0; i < BW_ARRAY_LEN(big) && fabs(v) >= 1000; i++) {
            prefix = big[i];
            v /= 1000;
        }
        go_g(num, sizeof(num), 4, v);
    } else {
        for (size_t i = 0; i < BW_ARRAY_LEN(small) && fabs(v) < 1; i++) {
            prefix = small[i];
            v *= 1000;
        }
        go_g(num, sizeof(num), 4, v);
    }
    return ret_fmt(t, out, "%s%s", num, prefix);
}

static int f_humanize1024(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                          struct val *out)
{
    static const char *const big[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
    double v;
    char num[64];
    const char *prefix = "";
    if (to_float(t, c, "humanize1024", &a[0], &v) != BW_OK)
        return BW_EINVAL;
    if (fabs(v) > 1 && isfinite(v))
        for (size_t i = 0; i < BW_ARRAY_LEN(big) && fabs(v) >= 1024; i++) {
            prefix = big[i];
            v /= 1024;
        }
    go_g(num, sizeof(num), 4, v);
    return ret_fmt(t, out, "%s%s", num, prefix);
}

static int f_humanize_duration(struct tmpl *t, const struct command *c, const struct val *a,
                               size_t n, struct val *out)
{
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    double v;
    char num[64];
    if (to_float(t, c, "humanizeDuration", &a[0], &v) != BW_OK)
        return BW_EINVAL;
    if (!isfinite(v)) {
        go_g(num, sizeof(num), 4, v);
        return ret_fmt(t, out, "%s", num);
    }
    if (v == 0)
        return ret_fmt(t, out, "0s");
    if (fabs(v) >= 1) {
        const char *sign = v < 0 ? "-" : "";
        v = fabs(v);
        int64_t d = v >= 9.2e18 ? INT64_MAX : (int64_t)v;
        int64_t secs = d % 60, mins = d / 60 % 60, hours = d / 3600 % 24, days = d / 86400;
        if (days)
            return ret_fmt(t, out, "%s%lldd %lldh %lldm %llds", sign, (long long)days,
                           (long long)hours, (long long)mins, (long long)secs);
        if (hours)
            return ret_fmt(t, out, "%s%lldh %lldm %llds", sign, (long long)hours, (long long)mins,
                           (long long)secs);
        if (mins)
            return ret_fmt(t, out, "%s%lldm %llds", sign, (long long)mins, (long long)secs);
        go_g(num, sizeof(num), 4, v);
        return ret_fmt(t, out, "%s%ss", sign, num);
    }
    const char *prefix = "";
    for (size_t i = 0; i < BW_ARRAY_LEN(small) && fabs(v) < 1; i++) {
        prefix = small[i];
        v *= 1000;
    }
    go_g(num, sizeof(num), 4, v);
    return ret_fmt(t, out, "%s%ss", num, prefix);
}

static int f_humanize_percentage(struct tmpl *t, const struct command *c, const struct val *a,
                                 size_t n, struct val *out)
{
    double v;
    char num[64];
    if (to_float(t, c, "humanizePercentage", &a[0], &v) != BW_OK)
        return BW_EINVAL;
    go_g(num, sizeof(num), 4, v * 100);
    return ret_fmt(t, out, "%s%%", num);
}

/* fmt.Sprint of a *time.Time in UTC at millisecond precision: "2006-01-02 15:04:05.999 +0000
 * UTC" with the fraction's trailing zeros dropped. */
static int f_humanize_timestamp(struct tmpl *t, const struct command *c, const struct val *a,
                                size_t n, struct val *out)
{
    double v;
    char num[64];
    if (to_float(t, c, "humanizeTimestamp", &a[0], &v) != BW_OK)
        return BW_EINVAL;
    if (!isfinite(v)) {
        go_g(num, sizeof(num), 4, v);
        return ret_fmt(t, out, "%s", num);
    }
    double ns = v * 1e9;
    if (ns >= 9.223372036854775807e18 || ns < -9.223372036854775808e18) {
        fmt_double(num, v, 0);
        return xerr(t, c,
                    "error calling humanizeTimestamp: %s cannot be represented as a nanoseconds "
                    "timestamp since it overflows int64",
                    num);
    }
    int64_t ms = (int64_t)ns / 1000000; /* model.TimeFromUnixNano truncates to ms */
    int64_t secs = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs--;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&tt, &tm))
        return xerr(t, c, "error calling humanizeTimestamp: time out of range");
    char fr[8] = "";
    if (frac) {
        snprintf(fr, sizeof(fr), ".%03lld", (long long)frac);
        for (size_t l = strlen(fr); fr[l - 1] == '0'; l--)
            fr[l - 1] = '\0';
    }
    return ret_fmt(t, out, "%04d-%02d-%02d %02d:%02d:%02d%s +0000 UTC", tm.tm_year + 1900,
                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fr);
}

static int f_case(struct tmpl *t, const struct val *a, struct val *out, int (*conv)(int))
{
    char *s = astr(t, a[0].s, strlen(a[0].s));
    if (!s)
        return BW_ENOMEM;
    for (char *p = s; *p; p++)
        if (!(*p & 0x80))
            *p = (char)conv((unsigned char)*p);
    *out = vstr(s);
    return BW_OK;
}

static int f_to_upper(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                      struct val *out)
{
    return f_case(t, a, out, toupper);
}

static int f_to_lower(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                      struct val *out)
{
    return f_case(t, a, out, tolower);
}

/* Capitalises the first letter of each word (letters, digits, '_' and '\'' make words), not
 * lowering the rest, as cases.Title with NoLower does for ASCII text. */
static int f_title(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                   struct val *out)
{
    char *s = astr(t, a[0].s, strlen(a[0].s));
    if (!s)
        return BW_ENOMEM;
    bool in_word = false;
    for (char *p = s; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        bool word = isalnum(ch) || ch == '_' || ch == '\'' || ch >= 0x80;
        if (word && !in_word && islower(ch))
            *p = (char)toupper(ch);
        in_word = word;
    }
    *out = vstr(s);
    return BW_OK;
}

static pcre2_code *compile_re(struct tmpl *t, const struct command *c, const char *fn,
                              const char *pattern)
{
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C,
                                   &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR why[256];
        pcre2_get_error_message(err, why, sizeof(why));
        xerr(t, c, "error calling %s: error parsing regexp: %s: `%s`", fn, (const char *)why,
             pattern);
    }
    return re;
}

static int f_match(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                   struct val *out)
{
    pcre2_code *re = compile_re(t, c, "match", a[0].s);
    if (!re)
        return BW_EINVAL;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = BW_OK;
    if (!md)
        rc = nomem(t);
    else
        *out = (struct val){
            .k = V_BOOL,
            .b = pcre2_match(re, (PCRE2_SPTR)a[1].s, strlen(a[1].s), 0, 0, md, NULL) >= 0};
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc;
}

/* regexp.ReplaceAllString(text, repl) through pcre2_substitute, whose $1, ${1}, ${name} and $$
 * read as Go's do. */
static int f_re_replace_all(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                            struct val *out)
{
    pcre2_code *re = compile_re(t, c, "reReplaceAll", a[0].s);
    if (!re)
        return BW_EINVAL;
    const char *repl = a[1].s, *text = a[2].s;
    size_t tl = strlen(text);
    PCRE2_SIZE cap = 2 * tl + strlen(repl) + 64;
    int rc = BW_ENOMEM;
    for (int tries = 0; tries < 2; tries++) {
        PCRE2_UCHAR *dst = arena_alloc(t->a, cap);
        if (!dst)
            break;
        PCRE2_SIZE len = cap;
        int r =
            pcre2_substitute(re, (PCRE2_SPTR)text, tl, 0,
                             PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_UNSET_EMPTY |
                                 PCRE2_SUBSTITUTE_UNKNOWN_UNSET | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH,
                             NULL, NULL, (PCRE2_SPTR)repl, PCRE2_ZERO_TERMINATED, dst, &len);
        if (r >= 0) {
            *out = vstr((const char *)dst);
            rc = BW_OK;
            break;
        }
        if (r != PCRE2_ERROR_NOMEMORY) {
            PCRE2_UCHAR why[256];
            pcre2_get_error_message(r, why, sizeof(why));
            rc = xerr(t, c, "error calling reReplaceAll: %s", (const char *)why);
            break;
        }
        cap = len + 1;
    }
    pcre2_code_free(re);
    if (rc == BW_ENOMEM)
        nomem(t);
    return rc;
}

/* net.SplitHostPort: BW_OK with host and port spans, or BW_EINVAL. */
static int split_host_port(const char *s, size_t *hs, size_t *hl, size_t *ps)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return BW_EINVAL;
    size_t i = (size_t)(colon - s);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || (size_t)(end - s) + 1 != i)
            return BW_EINVAL;
        *hs = 1;
        *hl = (size_t)(end - s) - 1;
    } else {
        if (memchr(s, ':', i) || memchr(s, '[', i) || memchr(s, ']', i))
            return BW_EINVAL;
        *hs = 0;
        *hl = i;
    }
    if (strpbrk(colon + 1, "[]"))
        return BW_EINVAL;
    *ps = i + 1;
    return BW_OK;
}

static int f_strip_port(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                        struct val *out)
{
    size_t hs, hl, ps;
    if (split_host_port(a[0].s, &hs, &hl, &ps) != BW_OK) {
        *out = a[0];
        return BW_OK;
    }
    const char *s = astr(t, a[0].s + hs, hl);
    if (!s)
        return BW_ENOMEM;
    *out = vstr(s);
    return BW_OK;
}

static int f_strip_domain(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                          struct val *out)
{
    const char *hp = a[0].s;
    size_t hs = 0, hl = strlen(hp), ps = 0;
    if (split_host_port(hp, &hs, &hl, &ps) != BW_OK) {
        hs = 0;
        hl = strlen(hp);
        ps = 0;
    }
    char host[256];
    unsigned char addr[16];
    if (hl >= sizeof(host)) {
        *out = a[0];
        return BW_OK;
    }
    memcpy(host, hp + hs, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1) {
        *out = a[0];
        return BW_OK;
    }
    host[strcspn(host, ".")] = '\0';
    if (ps && hp[ps])
        return ret_fmt(t, out, "%s:%s", host, hp + ps);
    return ret_fmt(t, out, "%s", host);
}

int tmpl_query_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = BW_OK;
    for (; *s && rc == BW_OK; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            rc = buf_putc(b, (char)c);
        else if (c == ' ')
            rc = buf_putc(b, '+');
        else
            rc = buf_printf(b, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
    return rc;
}

static int f_url_query_escape(struct tmpl *t, const struct command *c, const struct val *a,
                              size_t n, struct val *out)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_puts(&b, "");
    if (rc == BW_OK)
        rc = tmpl_query_escape(&b, a[0].s);
    if (rc != BW_OK) {
        buf_fini(&b);
        return nomem(t);
    }
    return ret_buf(t, &b, out);
}

/* model.ParseDurationAllowNegative, in seconds. */
static int f_parse_duration(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                            struct val *out)
{
    const char *s = a[0].s;
    bool neg = *s == '-';
    int64_t ms = 0;
    if (strcmp(s + neg, "0") != 0 && promql_parse_duration(s + neg, strlen(s + neg), &ms) != BW_OK)
        return xerr(t, c, "error calling parseDuration: not a valid duration string: \"%s\"", s);
    *out = (struct val){.k = V_FLOAT, .f = (neg ? -(double)ms : (double)ms) / 1000.0};
    return BW_OK;
}

static bool truth(const struct val *v)
{
    switch (v->k) {
    case V_STR:
        return v->s[0] != '\0';
    case V_INT:
        return v->i != 0;
    case V_FLOAT:
        return v->f != 0;
    case V_BOOL:
        return v->b;
    case V_MAP:
        return v->m->n > 0;
    case V_DATA:
        return true;
    case V_NIL:
        break;
    }
    return false;
}

static int f_and(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                 struct val *out)
{
    size_t i = 0;
    while (i + 1 < n && truth(&a[i]))
        i++;
    *out = a[i];
    return BW_OK;
}

static int f_or(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    size_t i = 0;
    while (i + 1 < n && !truth(&a[i]))
        i++;
    *out = a[i];
    return BW_OK;
}

static int f_not(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                 struct val *out)
{
    *out = (struct val){.k = V_BOOL, .b = !truth(&a[0])};
    return BW_OK;
}

static int f_len(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                 struct val *out)
{
    if (a[0].k == V_STR)
        *out = (struct val){.k = V_INT, .i = (int64_t)strlen(a[0].s)};
    else if (a[0].k == V_MAP)
        *out = (struct val){.k = V_INT, .i = (int64_t)a[0].m->n};
    else
        return xerr(t, c, "error calling len: len of type %s", type_name(&a[0]));
    return BW_OK;
}

static int f_index(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                   struct val *out)
{
    struct val v = a[0];
    for (size_t i = 1; i < n; i++) {
        if (v.k != V_MAP)
            return xerr(t, c, "error calling index: can't index item of type %s", type_name(&v));
        if (a[i].k != V_STR)
            return xerr(t, c, "error calling index: value has type %s; should be string",
                        type_name(&a[i]));
        const char *s = labelset_get(v.m, a[i].s);
        v = vstr(s ? s : "");
    }
    *out = v;
    return BW_OK;
}

/* Go's comparison kinds: ints, floats, strings and bools compare within their kind only. */
static int compare(struct tmpl *t, const struct command *c, const char *fn, const struct val *x,
                   const struct val *y, bool ordered, int *cmp)
{
    if (x->k == V_MAP || x->k == V_DATA || x->k == V_NIL || y->k == V_MAP || y->k == V_DATA ||
        y->k == V_NIL || (ordered && (x->k == V_BOOL || y->k == V_BOOL)))
        return xerr(t, c, "error calling %s: invalid type for comparison", fn);
    if (x->k != y->k)
        return xerr(t, c, "error calling %s: incompatible types for comparison", fn);
    switch (x->k) {
    case V_STR:
        *cmp = strcmp(x->s, y->s);
        break;
    case V_INT:
        *cmp = (x->i > y->i) - (x->i < y->i);
        break;
    case V_FLOAT:
        /* NaN is neither less, equal nor greater: 2 fails every test below. */
        *cmp = x->f < y->f ? -1 : x->f > y->f ? 1 : x->f == y->f ? 0 : 2;
        break;
    default:
        *cmp = x->b == y->b ? 0 : 1;
        break;
    }
    return BW_OK;
}

static int f_eq(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    bool eq = false;
    for (size_t i = 1; i < n && !eq; i++) {
        int cmp;
        if (compare(t, c, "eq", &a[0], &a[i], false, &cmp) != BW_OK)
            return BW_EINVAL;
        eq = cmp == 0;
    }
    *out = (struct val){.k = V_BOOL, .b = eq};
    return BW_OK;
}

static int f_ordered(struct tmpl *t, const struct command *c, const struct val *a, struct val *out,
                     const char *fn, bool (*ok)(int))
{
    int cmp;
    if (compare(t, c, fn, &a[0], &a[1], strcmp(fn, "ne") != 0, &cmp) != BW_OK)
        return BW_EINVAL;
    *out = (struct val){.k = V_BOOL, .b = ok(cmp)};
    return BW_OK;
}

static bool is_ne(int c)
{
    return c != 0;
}
static bool is_lt(int c)
{
    return c == -1;
}
static bool is_le(int c)
{
    return c == -1 || c == 0;
}
static bool is_gt(int c)
{
    return c == 1;
}
static bool is_ge(int c)
{
    return c == 1 || c == 0;
}

static int f_ne(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    return f_ordered(t, c, a, out, "ne", is_ne);
}
static int f_lt(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    return f_ordered(t, c, a, out, "lt", is_lt);
}
static int f_le(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    return f_ordered(t, c, a, out, "le", is_le);
}
static int f_gt(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    return f_ordered(t, c, a, out, "gt", is_gt);
}
static int f_ge(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                struct val *out)
{
    return f_ordered(t, c, a, out, "ge", is_ge);
}

/* fmt's %v of a value. */
static int put_value(struct buf *b, const struct val *v)
{
    char num[32];
    switch (v->k) {
    case V_STR:
        return buf_puts(b, v->s);
    case V_INT:
        return buf_printf(b, "%lld", (long long)v->i);
    case V_FLOAT:
        fmt_double(num, v->f, 0);
        return buf_puts(b, num);
    case V_BOOL:
        return buf_puts(b, v->b ? "true" : "false");
    case V_MAP: {
        int rc = buf_puts(b, "map[");
        for (size_t i = 0; i < v->m->n && rc == BW_OK; i++)
            rc = buf_printf(b, "%s%s:%s", i ? " " : "", v->m->v[i].name, v->m->v[i].value);
        return rc ? rc : buf_putc(b, ']');
    }
    case V_DATA:
        return buf_puts(b, "{...}");
    case V_NIL:
        break;
    }
    return buf_puts(b, "<no value>");
}

/* One verb of fmt.Sprintf: spec is "%[flags][width][.prec]" (NUL-terminated, without the
 * verb), v the argument. A verb that does not suit the type prints "%!v(type=value)". */
static int put_verb(struct buf *b, const char *spec, char verb, const struct val *v)
{
    char f[48], num[64];
    bool has_prec = strchr(spec, '.') != NULL;
    switch (v->k) {
    case V_STR:
        if (verb == 's' || verb == 'v' || verb == 'x' || verb == 'X') {
            if (verb == 'x' || verb == 'X') {
                int rc = BW_OK;
                for (const unsigned char *p = (const unsigned char *)v->s; *p && !rc; p++)
                    rc = buf_printf(b, verb == 'x' ? "%02x" : "%02X", *p);
                return rc;
            }
            snprintf(f, sizeof(f), "%ss", spec);
            return buf_printf(b, f, v->s);
        }
        if (verb == 'q')
            return buf_put_goquoted(b, v->s);
        break;
    case V_INT:
        if (strchr("dvxXo", verb)) {
            snprintf(f, sizeof(f), "%sll%c", spec, verb == 'v' ? 'd' : verb);
            return buf_printf(b, f, (long long)v->i);
        }
        break;
    case V_FLOAT:
        if (!strchr("fFeEgGv", verb))
            break;
        if (!isfinite(v->f)) {
            go_g(num, sizeof(num), 0, v->f);
            snprintf(f, sizeof(f), "%ss", spec);
            char *dot = strchr(f, '.');
            if (dot) /* a precision would cut "+Inf" */
                strcpy(dot, "s");
            return buf_printf(b, f, num);
        }
        if ((verb == 'v' || verb == 'g' || verb == 'G') && !has_prec) {
            fmt_double(num, v->f, 0); /* Go's shortest %g */
            snprintf(f, sizeof(f), "%ss", spec);
            return buf_printf(b, f, num);
        }
        snprintf(f, sizeof(f), "%s%c", spec, verb == 'v' ? 'g' : verb);
        return buf_printf(b, f, v->f);
    case V_BOOL:
        if (verb == 't' || verb == 'v')
            return buf_puts(b, v->b ? "true" : "false");
        break;
    default:
        if (verb == 'v')
            return put_value(b, v);
        break;
    }
    int rc = buf_printf(b, "%%!%c(%s=", verb, type_name(v));
    if (rc == BW_OK)
        rc = v->k == V_NIL ? buf_puts(b, "<nil>") : put_value(b, v);
    return rc ? rc : buf_putc(b, ')');
}

/* fmt's parsenum: the number at *p, advancing past it; -1 when there is none. A number that
 * grows past 10^6 before its last digit is "too large": *p then goes to the end of the
 * format, as in Go, which reports %!(NOVERB) — so widths and precisions stay below 10^7. */
static long go_parsenum(const char **p)
{
    long num = -1;
    for (; **p >= '0' && **p <= '9'; (*p)++) {
        if (num > 1000000) {
            *p += strlen(*p);
            return -1;
        }
        num = (num < 0 ? 0 : num * 10) + (**p - '0');
    }
    return num;
}

/* A failed formatting call (Go has no output cap; breakwatch's is TMPL_MAX_OUTPUT). */
static int fmt_failed(struct tmpl *t, const struct command *c, const char *fn, int rc)
{
    if (rc == BW_ENOMEM)
        return nomem(t);
    if (rc == BW_ENOSPC)
        return xerr(t, c, "error calling %s: output longer than %u bytes", fn, TMPL_MAX_OUTPUT);
    return xerr(t, c, "error calling %s: formatting failed", fn);
}

static int f_printf(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                    struct val *out)
{
    struct buf b;
    buf_init(&b, TMPL_MAX_OUTPUT);
    int rc = buf_puts(&b, "");
    size_t argi = 1;
    for (const char *p = a[0].s; *p && rc == BW_OK; p++) {
        if (*p != '%') {
            rc = buf_putc(&b, *p);
            continue;
        }
        /* %[flags][width][.prec]verb, rebuilt for C with each flag once. */
        char spec[40], flags[6] = "";
        size_t nf = 0;
        for (p++; *p && strchr("-+# 0", *p); p++)
            if (!strchr(flags, *p))
                flags[nf++] = *p, flags[nf] = '\0';
        long width = go_parsenum(&p), prec = -1;
        if (*p == '.' && p[1]) { /* fmt: a '.' that ends the format is not a precision */
            p++;
            prec = go_parsenum(&p);
            if (prec < 0)
                prec = 0;
        }
        int sl = snprintf(spec, sizeof(spec), "%%%s", flags);
        if (width >= 0)
            sl += snprintf(spec + sl, sizeof(spec) - (size_t)sl, "%ld", width);
        if (prec >= 0)
            snprintf(spec + sl, sizeof(spec) - (size_t)sl, ".%ld", prec);
        if (!*p) {
            rc = buf_puts(&b, "%!(NOVERB)");
            break;
        }
        if (*p == '%') {
            rc = buf_putc(&b, '%');
            continue;
        }
        if (argi >= n)
            rc = buf_printf(&b, "%%!%c(MISSING)", *p);
        else
            rc = put_verb(&b, spec, *p, &a[argi++]);
    }
    if (rc == BW_OK && argi < n) {
        rc = buf_puts(&b, "%!(EXTRA ");
        for (size_t i = argi; i < n && rc == BW_OK; i++) {
            rc = buf_printf(&b, "%s%s=", i > argi ? ", " : "", type_name(&a[i]));
            if (rc == BW_OK)
                rc = put_value(&b, &a[i]);
        }
        if (rc == BW_OK)
            rc = buf_putc(&b, ')');
    }
    if (rc != BW_OK) {
        buf_fini(&b);
        return fmt_failed(t, c, "printf", rc);
    }
    return ret_buf(t, &b, out);
}

/* fmt.Sprint: a space between operands when neither is a string. */
static int f_print(struct tmpl *t, const struct command *c, const struct val *a, size_t n,
                   struct val *out)
{
    struct buf b;
    buf_init(&b, TMPL_MAX_OUTPUT);
    int rc = buf_puts(&b, "");
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        if (i > 0 && a[i].k != V_STR && a[i - 1].k != V_STR)
            rc = buf_putc(&b, ' ');
        if (rc == BW_OK)
            rc = put_value(&b, &a[i]);
    }
    if (rc != BW_OK) {
        buf_fini(&b);
        return fmt_failed(t, c, "print", rc);
    }
    return ret_buf(t, &b, out);
}

static const struct func funcs[] = {
    {"and", f_and, 1, -1, "a"},
    {"eq", f_eq, 1, -1, "a"},
    {"ge", f_ge, 2, 2, "a"},
    {"gt", f_gt, 2, 2, "a"},
    {"humanize", f_humanize, 1, 1, "a"},
    {"humanize1024", f_humanize1024, 1, 1, "a"},
    {"humanizeDuration", f_humanize_duration, 1, 1, "a"},
    {"humanizePercentage", f_humanize_percentage, 1, 1, "a"},
    {"humanizeTimestamp", f_humanize_timestamp, 1, 1, "a"},
    {"index", f_index, 1, -1, "a"},
    {"le", f_le, 2, 2, "a"},
    {"len", f_len, 1, 1, "a"},
    {"lt", f_lt, 2, 2, "a"},
    {"match", f_match, 2, 2, "s"},
    {"ne", f_ne, 2, 2, "a"},
    {"not", f_not, 1, 1, "a"},
    {"or", f_or, 1, -1, "a"},
    {"parseDuration", f_parse_duration, 1, 1, "s"},
    {"print", f_print, 0, -1, "a"},
    {"printf", f_printf, 1, -1, "sa"},
    {"reReplaceAll", f_re_replace_all, 3, 3, "s"},
    {"stripDomain", f_strip_domain, 1, 1, "s"},
    {"stripPort", f_strip_port, 1, 1, "s"},
    {"title", f_title, 1, 1, "s"},
    {"toLower", f_to_lower, 1, 1, "s"},
    {"toUpper", f_to_upper, 1, 1, "s"},
    {"urlQueryEscape", f_url_query_escape, 1, 1, "s"},
};

/* Prometheus's functions breakwatch does not provide: they need queries or data it does not
 * pass to templates. */
static const char *const unsupported[] = {
    "query",       "first",     "label",     "value",    "strvalue",   "sortByLabel", "args",
    "safeHtml",    "graphLink", "tableLink", "toTime",   "toDuration", "now",         "pathPrefix",
    "externalURL", "html",      "js",        "urlquery", "println",    "call",        "slice",
};

static const struct func *func_find(const char *name, size_t len)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(funcs); i++)
        if (strlen(funcs[i].name) == len && !memcmp(funcs[i].name, name, len))
            return &funcs[i];
    return NULL;
}

/* ---- lexing helpers ---- */

static bool at_close(const struct tmpl *t)
{
    const char *s = t->src + t->p;
    size_t left = t->len - t->p;
    return (left >= 2 && s[0] == '}' && s[1] == '}') ||
           (left >= 4 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\n' || s[0] == '\r') &&
            s[1] == '-' && s[2] == '}' && s[3] == '}');
}

static void skip_space(struct tmpl *t)
{
    while (t->p < t->len && !at_close(t) && strchr(" \t\r\n", t->src[t->p]))
        t->p++;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static size_t ident_len(const struct tmpl *t, size_t p)
{
    size_t n = 0;
    while (p + n < t->len && ident_char(t->src[p + n]))
        n++;
    return n;
}

/* Consumes keyword kw when it is the next word. */
static bool take_word(struct tmpl *t, const char *kw)
{
    size_t n = strlen(kw);
    if (t->p + n <= t->len && !memcmp(t->src + t->p, kw, n) && !ident_char(t->src[t->p + n])) {
        t->p += n;
        return true;
    }
    return false;
}

/* ---- the parser ---- */

static int parse_pipeline(struct tmpl *t, const char *ctx, bool in_paren, struct pipeline **out);

static bool var_declared(const struct tmpl *t, const char *name, size_t len)
{
    for (size_t i = t->nscope; i-- > 0;)
        if (strlen(t->scope[i]) == len && !memcmp(t->scope[i], name, len))
            return true;
    return false;
}

static int declare(struct tmpl *t, const char *name)
{
    const char **v = arena_grow(t->a, t->scope, t->nscope, &t->capscope, sizeof(*v));
    if (!v)
        return nomem(t);
    t->scope = v;
    t->scope[t->nscope++] = name;
    return BW_OK;
}

/* fields := { "." identifier } */
static int parse_fields(struct tmpl *t, struct operand *o)
{
    size_t cap = 0;
    while (t->p + 1 < t->len && t->src[t->p] == '.' && ident_char(t->src[t->p + 1]) &&
           !isdigit((unsigned char)t->src[t->p + 1])) {
        size_t n = ident_len(t, t->p + 1);
        const char **f = arena_grow(t->a, o->fields, o->nfields, &cap, sizeof(*f));
        if (!f)
            return nomem(t);
        o->fields = f;
        if (!(f[o->nfields++] = astr(t, t->src + t->p + 1, n)))
            return BW_ENOMEM;
        t->p += 1 + n;
    }
    return BW_OK;
}

/* A Go string literal "..." or `...` at t->p, unquoted into the arena. */
static int parse_string(struct tmpl *t, struct operand *o)
{
    char q = t->src[t->p];
    size_t start = t->p++;
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_puts(&b, "");
    for (;;) {
        if (t->p >= t->len || (q == '"' && t->src[t->p] == '\n')) {
            buf_fini(&b);
            return perr(t, start,
                        q == '"' ? "unterminated quoted string" : "unterminated raw quoted string");
        }
        char ch = t->src[t->p++];
        if (ch == q)
            break;
        if (q == '"' && ch == '\\' && t->p < t->len) {
            char e = t->src[t->p++];
            const char *from = "abfnrtv\\\"'", *to = "\a\b\f\n\r\t\v\\\"'";
            const char *k = strchr(from, e);
            if (k && e) {
                ch = to[k - from];
            } else if (e == 'x' && t->p + 2 <= t->len && isxdigit((unsigned char)t->src[t->p]) &&
                       isxdigit((unsigned char)t->src[t->p + 1])) {
                char hex[3] = {t->src[t->p], t->src[t->p + 1], 0};
                ch = (char)strtol(hex, NULL, 16);
                t->p += 2;
            } else {
                buf_fini(&b);
                return perr(t, start, "unquote: invalid syntax");
            }
        }
        if (rc == BW_OK)
            rc = buf_putc(&b, ch);
    }
    if (rc != BW_OK) {
        buf_fini(&b);
        return nomem(t);
    }
    o->k = OP_STR;
    o->len = b.len;
    o->s = astr(t, b.data, b.len);
    buf_fini(&b);
    return o->s ? BW_OK : BW_ENOMEM;
}

/* A number: Go's ints (decimal or 0x) and floats, with an optional sign. */
static int parse_number(struct tmpl *t, struct operand *o)
{
    size_t start = t->p, n = 0;
    const char *s = t->src + start;
    while (start + n < t->len &&
           (isalnum((unsigned char)s[n]) || s[n] == '.' || s[n] == '_' ||
            ((s[n] == '+' || s[n] == '-') && (n == 0 || s[n - 1] == 'e' || s[n - 1] == 'E'))))
        n++;
    char tmp[64];
    if (n >= sizeof(tmp))
        return perr(t, start, "bad number syntax");
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    t->p += n;
    char *end;
    bool is_float = !strpbrk(tmp, "xX") && strpbrk(tmp, ".eE");
    errno = 0;
    if (is_float) {
        o->k = OP_FLOAT;
        o->f = strtod(tmp, &end);
    } else {
        o->k = OP_INT;
        o->i = strtoll(tmp, &end, 0);
    }
    if (*end || errno == ERANGE || end == tmp)
        return perr(t, start, "bad number syntax: \"%s\"", tmp);
    return BW_OK;
}

/* operand := term [fields]
 * term := "." | field | $var | function | string | number | bool | nil | "(" pipeline ")" */
static int parse_operand(struct tmpl *t, struct operand *o, bool *none)
{
    *none = false;
    memset(o, 0, sizeof(*o));
    o->pos = t->p;
    if (t->p >= t->len)
        return perr(t, t->p, "unclosed action");
    char ch = t->src[t->p];
    int rc = BW_OK;
    if (ch == '.') {
        if (t->p + 1 < t->len && ident_char(t->src[t->p + 1]) &&
            !isdigit((unsigned char)t->src[t->p + 1])) {
            o->k = OP_FIELD;
            return parse_fields(t, o);
        }
        if (t->p + 1 < t->len && isdigit((unsigned char)t->src[t->p + 1]))
            return parse_number(t, o);
        o->k = OP_DOT;
        t->p++;
        return BW_OK;
    }
    if (ch == '$') {
        size_t n = 1 + ident_len(t, t->p + 1);
        if (!var_declared(t, t->src + t->p, n))
            return perr(t, t->p, "undefined variable \"%.*s\"", (int)n, t->src + t->p);
        o->k = OP_VAR;
        if (!(o->s = astr(t, t->src + t->p, n)))
            return BW_ENOMEM;
        t->p += n;
        return parse_fields(t, o);
    }
    if (ch == '"' || ch == '`')
        return parse_string(t, o);
    if (isdigit((unsigned char)ch) ||
        ((ch == '-' || ch == '+') && t->p + 1 < t->len &&
         (isdigit((unsigned char)t->src[t->p + 1]) || t->src[t->p + 1] == '.')))
        return parse_number(t, o);
    if (ch == '(') {
        size_t open = t->p++;
        if (++t->depth > MAX_DEPTH)
            return perr(t, open, "max expression depth exceeded");
        o->k = OP_PIPE;
        if ((rc = parse_pipeline(t, "parenthesized pipeline", true, &o->pipe)) != BW_OK)
            return rc;
        t->depth--;
        if (t->p >= t->len || t->src[t->p] != ')')
            return perr(t, open, "unclosed left paren");
        t->p++;
        return parse_fields(t, o);
    }
    if (isalpha((unsigned char)ch) || ch == '_') {
        size_t n = ident_len(t, t->p);
        const char *w = t->src + t->p;
        if (n == 4 && !memcmp(w, "true", 4)) {
            o->k = OP_BOOL;
            o->i = 1;
        } else if (n == 5 && !memcmp(w, "false", 5)) {
            o->k = OP_BOOL;
        } else if (n == 3 && !memcmp(w, "nil", 3)) {
            o->k = OP_NIL;
        } else {
            o->k = OP_FUNC;
            o->fn = func_find(w, n);
            if (!o->fn) {
                for (size_t i = 0; i < BW_ARRAY_LEN(unsupported); i++)
                    if (strlen(unsupported[i]) == n && !memcmp(unsupported[i], w, n))
                        return perr(t, t->p,
                                    "function \"%.*s\" is not supported: breakwatch does not "
                                    "run queries or links from templates",
                                    (int)n, w);
                return perr(t, t->p, "function \"%.*s\" not defined", (int)n, w);
            }
        }
        t->p += n;
        return BW_OK;
    }
    *none = true;
    return BW_OK;
}

/* command := operand { space operand } */
static int parse_command(struct tmpl *t, const char *ctx, struct command *c)
{
    size_t cap = 0;
    c->pos = t->p;
    for (;;) {
        skip_space(t);
        if (t->p >= t->len)
            return perr(t, t->p, "unclosed action");
        struct operand o;
        bool none;
        int rc = parse_operand(t, &o, &none);
        if (rc != BW_OK)
            return rc;
        if (none)
            break;
        struct operand *v = arena_grow(t->a, c->args, c->nargs, &cap, sizeof(*v));
        if (!v)
            return nomem(t);
        c->args = v;
        c->args[c->nargs++] = o;
        c->end = t->p;
        if (t->p < t->len && !strchr(" \t\r\n)|", t->src[t->p]) && !at_close(t))
            return perr(t, t->p, "unexpected \"%c\" in operand", t->src[t->p]);
    }
    if (c->nargs == 0)
        return perr(t, t->p, "missing value for %s", ctx);
    return BW_OK;
}

/* pipeline := [ $var (":=" | "=") ] command { "|" command } */
static int parse_pipeline(struct tmpl *t, const char *ctx, bool in_paren, struct pipeline **out)
{
    struct pipeline *pl = arena_calloc(t->a, 1, sizeof(*pl));
    if (!pl)
        return nomem(t);
    skip_space(t);
    pl->pos = t->p;
    if (t->p < t->len && t->src[t->p] == '$') {
        size_t save = t->p, n = 1 + ident_len(t, t->p + 1);
        t->p += n;
        skip_space(t);
        bool decl = t->p + 1 < t->len && t->src[t->p] == ':' && t->src[t->p + 1] == '=';
        bool assign = !decl && t->p < t->len && t->src[t->p] == '=';
        if (decl || assign) {
            if (!(pl->decl = astr(t, t->src + save, n)))
                return BW_ENOMEM;
            if (assign && !var_declared(t, pl->decl, n))
                return perr(t, save, "undefined variable \"%s\"", pl->decl);
            pl->declare = decl;
            t->p += decl ? 2 : 1;
        } else {
            t->p = save;
        }
    }
    size_t cap = 0;
    for (;;) {
        struct command *v = arena_grow(t->a, pl->cmds, pl->ncmds, &cap, sizeof(*v));
        if (!v)
            return nomem(t);
        pl->cmds = v;
        struct command *c = &pl->cmds[pl->ncmds];
        memset(c, 0, sizeof(*c));
        int rc = parse_command(t, pl->ncmds ? "command" : ctx, c);
        if (rc != BW_OK)
            return rc;
        pl->ncmds++;
        if (pl->ncmds > 1 && c->args[0].k != OP_FUNC)
            return perr(t, c->pos, "non executable command in pipeline stage %zu", pl->ncmds);
        if (t->p < t->len && t->src[t->p] == '|') {
            t->p++;
            continue;
        }
        break;
    }
    if (pl->decl && pl->declare && declare(t, pl->decl) != BW_OK)
        return BW_ENOMEM;
    if (in_paren ? (t->p >= t->len || t->src[t->p] != ')') : !at_close(t)) {
        if (t->p >= t->len)
            return perr(t, t->p, in_paren ? "unclosed left paren" : "unclosed action");
        return perr(t, t->p, "unexpected \"%c\" in %s", t->src[t->p], ctx);
    }
    *out = pl;
    return BW_OK;
}

/* Consumes "}}" or " -}}" and, for the latter, the white space after it. */
static void close_action(struct tmpl *t)
{
    if (t->src[t->p] == '}') {
        t->p += 2;
        return;
    }
    t->p += 4;
    while (t->p < t->len && strchr(" \t\r\n", t->src[t->p]))
        t->p++;
}

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

static int parse_list(struct tmpl *t, struct node **out, enum stop *stop, size_t *stop_pos);

/* if := "if" pipeline "}}" list [ "{{else" ( "if" ... | "}}" list ) ] "{{end}}"; the else-if
 * chain becomes a nested if in the else branch. */
static int parse_if(struct tmpl *t, enum node_kind k, size_t at, struct node **out)
{
    struct node *n = arena_calloc(t->a, 1, sizeof(*n));
    if (!n)
        return nomem(t);
    n->k = k;
    if (++t->depth > MAX_DEPTH)
        return perr(t, at, "max expression depth exceeded");
    size_t mark = t->nscope;
    int rc = parse_pipeline(t, k == N_IF ? "if" : "with", false, &n->pipe);
    if (rc != BW_OK)
        return rc;
    close_action(t);
    enum stop stop;
    size_t stop_pos;
    if ((rc = parse_list(t, &n->body, &stop, &stop_pos)) != BW_OK)
        return rc;
    if (stop == STOP_EOF)
        return perr(t, t->len, "unexpected EOF");
    t->nscope = mark;
    if (stop == STOP_ELSE) {
        skip_space(t);
        bool elif = take_word(t, "if"), elwith = !elif && take_word(t, "with");
        if (elif || elwith) {
            rc = parse_if(t, elif ? N_IF : N_WITH, stop_pos, &n->els);
            t->depth--;
            *out = n;
            return rc;
        }
        skip_space(t);
        if (!at_close(t))
            return perr(t, t->p, "unexpected \"%c\" in else", t->src[t->p]);
        close_action(t);
        if ((rc = parse_list(t, &n->els, &stop, &stop_pos)) != BW_OK)
            return rc;
        if (stop == STOP_EOF)
            return perr(t, t->len, "unexpected EOF");
        if (stop == STOP_ELSE)
            return perr(t, stop_pos, "expected end; found {{else}}");
        t->nscope = mark;
    }
    t->depth--;
    *out = n;
    return BW_OK;
}

/* list := { text | action | comment | if }, up to {{end}}, {{else}} or the end of input.
 * At {{end}} the action is consumed; at {{else}} t->p is after the word "else". */
static int parse_list(struct tmpl *t, struct node **out, enum stop *stop, size_t *stop_pos)
{
    struct node **tail = out;
    *out = NULL;
    for (;;) {
        const char *open = t->p < t->len ? strstr(t->src + t->p, "{{") : NULL;
        size_t end = open ? (size_t)(open - t->src) : t->len;
        size_t text_end = end;
        bool trim_left = open && end + 3 < t->len && open[2] == '-' && strchr(" \t\r\n", open[3]);
        if (trim_left)
            while (text_end > t->p && strchr(" \t\r\n", t->src[text_end - 1]))
                text_end--;
        if (text_end > t->p) {
            struct node *n = arena_calloc(t->a, 1, sizeof(*n));
            if (!n)
                return nomem(t);
            n->k = N_TEXT;
            n->text = t->src + t->p;
            n->len = text_end - t->p;
            *tail = n;
            tail = &n->next;
        }
        if (!open) {
            t->p = t->len;
            *stop = STOP_EOF;
            return BW_OK;
        }
        size_t at = end;
        t->p = end + 2 + (trim_left ? 2 : 0);
        if (t->p + 1 < t->len && t->src[t->p] == '/' && t->src[t->p + 1] == '*') {
            const char *close = strstr(t->src + t->p + 2, "*/");
            if (!close)
                return perr(t, at, "unclosed comment");
            t->p = (size_t)(close - t->src) + 2;
            if (!at_close(t))
                return perr(t, at, "comment ends before closing delimiter");
            close_action(t);
            continue;
        }
        skip_space(t);
        if (t->p >= t->len)
            return perr(t, at, "unclosed action");
        if (take_word(t, "end")) {
            skip_space(t);
            if (!at_close(t))
                return perr(t, t->p, "unexpected \"%c\" in end", t->src[t->p]);
            close_action(t);
            *stop = STOP_END;
            *stop_pos = at;
            return BW_OK;
        }
        if (take_word(t, "else")) {
            *stop = STOP_ELSE;
            *stop_pos = at;
            return BW_OK;
        }
        struct node *n = NULL;
        int rc;
        if (take_word(t, "if") || take_word(t, "with")) {
            bool is_if = t->src[t->p - 1] == 'f';
            rc = parse_if(t, is_if ? N_IF : N_WITH, at, &n);
        } else if (take_word(t, "range") || take_word(t, "define") || take_word(t, "template") ||
                   take_word(t, "block") || take_word(t, "break") || take_word(t, "continue")) {
            rc = perr(t, at, "this action is not supported by breakwatch's templates");
        } else {
            n = arena_calloc(t->a, 1, sizeof(*n));
            if (!n)
                return nomem(t);
            n->k = N_ACTION;
            rc = parse_pipeline(t, "command", false, &n->pipe);
            if (rc == BW_OK)
                close_action(t);
        }
        if (rc != BW_OK)
            return rc;
        *tail = n;
        tail = &n->next;
    }
}

static int parse_all(struct tmpl *t, struct node **root)
{
    static const char *const predeclared[] = {"$", "$labels", "$externalLabels", "$externalURL",
                                              "$value"};
    for (size_t i = 0; i < BW_ARRAY_LEN(predeclared); i++)
        if (declare(t, predeclared[i]) != BW_OK)
            return BW_ENOMEM;
    enum stop stop;
    size_t stop_pos;
    int rc = parse_list(t, root, &stop, &stop_pos);
    if (rc != BW_OK)
        return rc;
    if (stop == STOP_END)
        return perr(t, stop_pos, "unexpected {{end}}");
    if (stop == STOP_ELSE)
        return perr(t, stop_pos, "unexpected {{else}}");
    return BW_OK;
}

/* ---- execution ---- */

static int exec_pipeline(struct tmpl *t, const struct pipeline *pl, struct val *out);

static struct val var_get(const struct tmpl *t, const char *name)
{
    for (size_t i = t->nvars; i-- > 0;)
        if (!strcmp(t->vars[i].name, name))
            return t->vars[i].v;
    return (struct val){.k = V_NIL};
}

static int var_push(struct tmpl *t, const char *name, struct val v)
{
    struct var *nv = arena_grow(t->a, t->vars, t->nvars, &t->capvars, sizeof(*nv));
    if (!nv)
        return nomem(t);
    t->vars = nv;
    t->vars[t->nvars++] = (struct var){name, v};
    return BW_OK;
}

static int field(struct tmpl *t, const struct command *c, struct val *v, const char *name)
{
    if (v->k == V_MAP) {
        const char *s = labelset_get(v->m, name);
        *v = vstr(s ? s : "");
        return BW_OK;
    }
    if (v->k == V_DATA) {
        const struct tmpl_data *d = t->data;
        if (!strcmp(name, "Labels"))
            *v = (struct val){.k = V_MAP, .m = d->labels ? d->labels : &no_labels};
        else if (!strcmp(name, "ExternalLabels"))
            *v =
                (struct val){.k = V_MAP, .m = d->external_labels ? d->external_labels : &no_labels};
        else if (!strcmp(name, "ExternalURL"))
            *v = vstr(d->external_url ? d->external_url : "");
        else if (!strcmp(name, "Value"))
            *v = (struct val){.k = V_FLOAT, .f = d->value};
        else
            return xerr(t, c, "can't evaluate field %s in type %s", name, type_name(v));
        return BW_OK;
    }
    if (v->k == V_NIL)
        return xerr(t, c, "nil pointer evaluating interface {}.%s", name);
    return xerr(t, c, "can't evaluate field %s in type %s", name, type_name(v));
}

static int eval_operand(struct tmpl *t, const struct command *c, const struct operand *o,
                        struct val *v)
{
    int rc = BW_OK;
    switch (o->k) {
    case OP_DOT:
    case OP_FIELD:
        *v = t->dot;
        break;
    case OP_VAR:
        *v = var_get(t, o->s);
        break;
    case OP_STR:
        *v = vstr(o->s);
        break;
    case OP_INT:
        *v = (struct val){.k = V_INT, .i = o->i};
        break;
    case OP_FLOAT:
        *v = (struct val){.k = V_FLOAT, .f = o->f};
        break;
    case OP_BOOL:
        *v = (struct val){.k = V_BOOL, .b = o->i != 0};
        break;
    case OP_NIL:
        return xerr(t, c, "nil is not a command");
    case OP_PIPE:
        rc = exec_pipeline(t, o->pipe, v);
        break;
    case OP_FUNC: {
        /* A function as an argument is called without arguments. */
        struct command sub = {.args = (struct operand *)o,
                              .nargs = 1,
                              .pos = o->pos,
                              .end = o->pos + strlen(o->fn->name)};
        return xerr(t, &sub, "wrong number of args for %s: want %s%d got 0", o->fn->name,
                    o->fn->max < 0 ? "at least " : "", o->fn->min);
    }
    }
    for (size_t i = 0; rc == BW_OK && i < o->nfields; i++)
        rc = field(t, c, v, o->fields[i]);
    return rc;
}

static int exec_command(struct tmpl *t, const struct command *c, const struct val *final,
                        struct val *out)
{
    const struct operand *first = &c->args[0];
    if (first->k != OP_FUNC) {
        if (c->nargs > 1 || final)
            return xerr(t, c, "can't give argument to non-function %.*s", (int)(c->end - c->pos),
                        t->src + c->pos);
        return eval_operand(t, c, first, out);
    }
    const struct func *fn = first->fn;
    size_t n = c->nargs - 1 + (final ? 1 : 0);
    if ((int)n < fn->min || (fn->max >= 0 && (int)n > fn->max)) {
        if (fn->min == fn->max)
            return xerr(t, c, "wrong number of args for %s: want %d got %zu", fn->name, fn->min, n);
        return xerr(t, c, "wrong number of args for %s: want at least %d got %zu", fn->name,
                    fn->min, n);
    }
    struct val *args = arena_calloc(t->a, n + 1, sizeof(*args));
    if (!args)
        return nomem(t);
    for (size_t i = 1; i < c->nargs; i++)
        if (eval_operand(t, c, &c->args[i], &args[i - 1]) != BW_OK)
            return BW_EINVAL;
    if (final)
        args[n - 1] = *final;
    size_t ntypes = strlen(fn->types);
    for (size_t i = 0; i < n; i++) {
        char want = fn->types[i < ntypes ? i : ntypes - 1];
        if (want == 's' && args[i].k != V_STR)
            return xerr(t, c, "wrong type for value; expected string; got %s", type_name(&args[i]));
    }
    return fn->impl(t, c, args, n, out);
}

/* Runs a pipeline; a declaration or assignment sets its variable. */
static int exec_pipeline(struct tmpl *t, const struct pipeline *pl, struct val *out)
{
    struct val v = {.k = V_NIL};
    for (size_t i = 0; i < pl->ncmds; i++) {
        struct val prev = v;
        if (exec_command(t, &pl->cmds[i], i ? &prev : NULL, &v) != BW_OK)
            return BW_EINVAL;
    }
    if (pl->decl) {
        if (pl->declare)
            return var_push(t, pl->decl, v) == BW_OK ? (*out = v, BW_OK) : BW_ENOMEM;
        for (size_t i = t->nvars; i-- > 0;)
            if (!strcmp(t->vars[i].name, pl->decl)) {
                t->vars[i].v = v;
                break;
            }
    }
    *out = v;
    return BW_OK;
}

/* What writing to the output returned: out of room is the template's error, at pos. */
static int out_rc(struct tmpl *t, size_t pos, int rc)
{
    if (rc == BW_ENOSPC)
        return perr(t, pos, "output longer than %zu bytes", t->out->limit);
    return rc == BW_OK ? BW_OK : nomem(t);
}

static int exec_list(struct tmpl *t, const struct node *n)
{
    for (; n; n = n->next) {
        int rc = BW_OK;
        struct val v;
        switch (n->k) {
        case N_TEXT:
            rc = out_rc(t, (size_t)(n->text - t->src), buf_append(t->out, n->text, n->len));
            break;
        case N_ACTION:
            rc = exec_pipeline(t, n->pipe, &v);
            if (rc == BW_OK && !n->pipe->decl)
                rc = out_rc(t, n->pipe->pos, put_value(t->out, &v));
            break;
        case N_IF:
        case N_WITH: {
            size_t mark = t->nvars;
            struct val dot = t->dot;
            if ((rc = exec_pipeline(t, n->pipe, &v)) != BW_OK)
                return rc;
            bool yes = truth(&v);
            if (yes && n->k == N_WITH)
                t->dot = v;
            rc = exec_list(t, yes ? n->body : n->els);
            t->dot = dot;
            t->nvars = mark;
            break;
        }
        }
        if (rc != BW_OK)
            return rc;
    }
    return BW_OK;
}

int tmpl_check(const char *name, const char *text, char *msg, size_t msglen)
{
    struct arena a;
    arena_init(&a, 0);
    struct tmpl t = {.src = text,
                     .len = strlen(text),
                     .name = name ? name : "__alert",
                     .a = &a,
                     .msg = msg,
                     .msglen = msglen};
    struct node *root;
    if (msglen)
        msg[0] = '\0';
    int rc = parse_all(&t, &root);
    arena_fini(&a);
    return t.oom ? BW_ENOMEM : rc == BW_OK ? BW_OK : BW_EINVAL;
}

int tmpl_expand(const char *text, const struct tmpl_data *data, struct buf *out)
{
    struct arena a;
    arena_init(&a, 0);
    char msg[512];
    const char *name = data->name ? data->name : "__alert";
    struct tmpl t = {.src = text,
                     .len = strlen(text),
                     .name = name,
                     .a = &a,
                     .msg = msg,
                     .msglen = sizeof(msg),
                     .data = data,
                     .dot = {.k = V_DATA}};
    struct buf tmp;
    buf_init(&tmp, out->limit && out->limit < TMPL_MAX_OUTPUT ? out->limit : TMPL_MAX_OUTPUT);
    struct node *root;
    const char *stage = "parsing";
    int rc = parse_all(&t, &root);
    if (rc == BW_OK) {
        stage = "executing";
        struct val dot = {.k = V_DATA};
        struct val labels = dot, ext = dot, url = dot, value = dot;
        struct command none = {0};
        t.out = &tmp;
        rc = field(&t, &none, &labels, "Labels");
        rc = rc ? rc : field(&t, &none, &ext, "ExternalLabels");
        rc = rc ? rc : field(&t, &none, &url, "ExternalURL");
        rc = rc ? rc : field(&t, &none, &value, "Value");
        rc = rc ? rc : var_push(&t, "$", dot);
        rc = rc ? rc : var_push(&t, "$labels", labels);
        rc = rc ? rc : var_push(&t, "$externalLabels", ext);
        rc = rc ? rc : var_push(&t, "$externalURL", url);
        rc = rc ? rc : var_push(&t, "$value", value);
        rc = rc ? rc : exec_list(&t, root);
    }
    if (t.oom || (rc == BW_ENOMEM && !t.failed)) {
        rc = BW_ENOMEM;
    } else if (rc != BW_OK) {
        rc = buf_printf(out, "<error expanding template: error %s template %s: %s>", stage, name,
                        msg);
        rc = rc == BW_OK ? BW_EINVAL : rc;
    } else {
        rc = buf_append(out, tmp.data ? tmp.data : "", tmp.len);
    }
    buf_fini(&tmp);
    arena_fini(&a);
    return rc;
}
