/* promqltest: runs Prometheus's PromQL conformance files (the v3.5.0 promqltest format)
 * against breakwatch's tsdb and query engine.
 *
 * A file is read line by line into commands (load, clear, eval); each eval becomes a struct
 * eval_cmd holding its query, times, modifiers and expected results, all in one arena per
 * file. Loads go into an in-memory tsdb that "clear" replaces. Each eval is one case: it
 * passes when every check passes, as in Prometheus's harness: the query itself, and for an
 * instant eval also the same query as a range query from t-1m to t+1m (its middle point must
 * give the same result) and, unless it uses a function whose value depends on the evaluation
 * time, the query with @ pinned to t on every selector, evaluated at other times.
 *
 * Design decision: skipping is data, not code. Which cases need native histograms or
 * experimental functions is said in the rules file, each rule with its reason; the runner only
 * knows how to apply the four kinds of rule. A series a rule keeps out of the tsdb is
 * remembered, and an eval is skipped when one of its selectors would select it: the case
 * reads data breakwatch cannot store, whatever its metric name. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "promql/ast.h"
#include "promql/eval.h"
#include "promql/parse_int.h"
#include "promql/promqltest.h"
#include "tsdb/tsdb.h"

/* ---- skip rules ---- */

enum rule_kind { RULE_LOAD_LINE, RULE_LOAD_CMD, RULE_EXPECTED, RULE_CALL };

struct rule {
    enum rule_kind kind;
    char *pattern;
    char *reason;
};

struct promqltest_rules {
    struct rule *v;
    size_t n;
    struct arena a;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* Reads a whole file into a NUL-terminated buffer in a. */
static int read_file(const char *path, struct arena *a, char **out, struct diag *d)
{
    struct buf b;
    buf_init(&b, 0);
    int rc = buf_read_file(&b, path, d);
    if (rc == BW_OK) {
        *out = arena_strndup(a, b.data ? b.data : "", b.len);
        if (!*out)
            rc = diag_set(d, BW_ENOMEM, "out of memory reading %s", path);
    }
    buf_fini(&b);
    return rc;
}

int promqltest_rules_load(const char *path, struct promqltest_rules **out, struct diag *d)
{
    static const struct {
        const char *word;
        enum rule_kind kind;
    } kinds[] = {{"load-line", RULE_LOAD_LINE},
                 {"load-cmd", RULE_LOAD_CMD},
                 {"expected", RULE_EXPECTED},
                 {"call", RULE_CALL}};
    struct promqltest_rules *r = calloc(1, sizeof(*r));
    char *text = NULL;
    size_t cap = 0;
    int rc;
    if (!r)
        return diag_set(d, BW_ENOMEM, "out of memory");
    arena_init(&r->a, 0);
    rc = read_file(path, &r->a, &text, d);
    int lineno = 0;
    for (char *line = text, *next; rc == BW_OK && line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *sep = strstr(s, " -- ");
        char *reason = sep ? trim(sep + 4) : NULL;
        if (sep)
            *sep = '\0';
        char *kind = strtok(s, " \t"), *pattern = strtok(NULL, " \t"), *extra = strtok(NULL, "");
        size_t k = 0;
        while (kind && k < BW_ARRAY_LEN(kinds) && strcmp(kinds[k].word, kind) != 0)
            k++;
        if (!kind || k == BW_ARRAY_LEN(kinds) || !pattern || (extra && *trim(extra)) || !reason ||
            !*reason) {
            rc = diag_at(d, BW_EINVAL, path, lineno, 1,
                         "expected 'KIND PATTERN -- REASON' with KIND one of load-line, "
                         "load-cmd, expected, call");
            break;
        }
        struct rule *v = arena_grow(&r->a, r->v, r->n, &cap, sizeof(*v));
        if (!v) {
            rc = diag_set(d, BW_ENOMEM, "out of memory");
            break;
        }
        r->v = v;
        r->v[r->n++] = (struct rule){kinds[k].kind, pattern, reason};
    }
    if (rc != BW_OK) {
        promqltest_rules_free(r);
        return rc;
    }
    *out = r;
    return BW_OK;
}

void promqltest_rules_free(struct promqltest_rules *r)
{
    if (!r)
        return;
    arena_fini(&r->a);
    free(r);
}

static bool is_ident_char(char c)
{
    return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

/* Whether expr calls the function or aggregation name: the word, then "(" or "by" /
 * "without". */
static bool calls(const char *expr, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strstr(expr, name); p; p = strstr(p + 1, name)) {
        if ((p > expr && is_ident_char(p[-1])) || is_ident_char(p[n]))
            continue;
        const char *q = p + n;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '(' || strncmp(q, "by", 2) == 0 || strncmp(q, "without", 7) == 0)
            return true;
    }
    return false;
}

/* ---- the file's commands ---- */

struct expected {
    struct labelset ls;
    double *v;
    bool *omitted;
    size_t n;
    int pos; /* 1-based line among the expected results, for eval_ordered */
};

struct annot_expect {
    bool regex;
    const char *text;
};

struct eval_cmd {
    int line;
    const char *expr;
    bool range;
    int64_t start, end, step;
    bool fail, warn, info, ordered, no_warn, no_info;
    const char *fail_msg;   /* expected_fail_message, expect fail msg: */
    const char *fail_regex; /* expected_fail_regexp, expect fail regex: */
    struct annot_expect warns[8], infos[8];
    size_t nwarns, ninfos;
    bool expect_scalar;
    double scalar;
    struct expected *exp;
    size_t nexp, capexp;
};

/* A series a skip rule kept out of the tsdb: evals that select it are skipped with reason. */
struct skipped_series {
    struct labelset ls;
    const char *reason;
};

struct run {
    const char *file;
    const struct promqltest_rules *rules;
    FILE *out;
    struct promqltest_counts *c;
    struct arena a; /* the file's text, commands and expectations */
    struct tsdb *db;
    struct skipped_series *skipped;
    size_t nskipped, capskipped;
    struct buf msg; /* the current failure's details */
};

static const struct promql_options query_opts = {.enable_experimental = true};

BW_PRINTF(2, 3)
static bool failf(struct run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_reset(&r->msg);
    buf_vprintf(&r->msg, fmt, ap);
    va_end(ap);
    return false;
}

static void report(struct run *r, int line, const char *what)
{
    fprintf(r->out, "  %s:%d: %s\n    %s\n", r->file, line, what,
            r->msg.data ? r->msg.data : "(no detail)");
    r->c->failed++;
}

/* A number as Go's strconv reads a whole expected-value line: optional sign, then a PromQL
 * number literal (Inf, NaN, decimal, hex, octal). */
static bool parse_number_line(const char *s, double *v)
{
    bool neg = *s == '-';
    if (*s == '+' || *s == '-')
        s++;
    char msg[200];
    size_t n = strlen(s);
    if (n == 0 || !(is_ident_char(*s) || *s == '.'))
        return false;
    if ((n == 8 && strncasecmp(s, "infinity", 8) == 0)) {
        *v = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (promql_number_value(s, n, v, msg, sizeof(msg)) != BW_OK)
        return false;
    if (neg)
        *v = -*v;
    return true;
}

/* Scans one value of a series description at *p: [+-] (Inf | NaN | decimal number). */
static bool scan_value(const char **p, double *v)
{
    const char *s = *p, *start = s;
    if (*s == '+' || *s == '-')
        s++;
    if (strncasecmp(s, "inf", 3) == 0 || strncasecmp(s, "nan", 3) == 0) {
        s += 3;
    } else {
        const char *digits = s;
        while ((*s >= '0' && *s <= '9') || *s == '.')
            s++;
        if (s == digits)
            return false;
        if ((*s == 'e' || *s == 'E') &&
            ((s[1] >= '0' && s[1] <= '9') ||
             ((s[1] == '+' || s[1] == '-') && s[2] >= '0' && s[2] <= '9'))) {
            s += 2;
            while (*s >= '0' && *s <= '9')
                s++;
        }
    }
    char tmp[64];
    size_t n = (size_t)(s - start);
    if (n >= sizeof(tmp))
        return false;
    memcpy(tmp, start, n);
    tmp[n] = '\0';
    char *end;
    *v = strtod(tmp, &end);
    if (*end != '\0')
        return false;
    *p = s;
    return true;
}

/* "x" N, a repetition count. */
static bool scan_count(const char **p, uint64_t *n)
{
    const char *s = *p;
    if (*s != 'x' || !(s[1] >= '0' && s[1] <= '9'))
        return false;
    s++;
    *n = 0;
    while (*s >= '0' && *s <= '9') {
        if (*n > 100000000)
            return false;
        *n = *n * 10 + (uint64_t)(*s++ - '0');
    }
    *p = s;
    return true;
}

static bool values_push(struct arena *a, struct promqltest_values *vs, double v, bool omitted)
{
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 16;
        double *nv = arena_alloc(a, cap * sizeof(*nv));
        bool *no = arena_alloc(a, cap * sizeof(*no));
        if (!nv || !no)
            return false;
        if (vs->n) {
            memcpy(nv, vs->v, vs->n * sizeof(*nv));
            memcpy(no, vs->omitted, vs->n * sizeof(*no));
        }
        vs->v = nv, vs->omitted = no, vs->cap = cap;
    }
    vs->v[vs->n] = v;
    vs->omitted[vs->n++] = omitted;
    return true;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n';
}

int promqltest_parse_values(struct arena *a, const char *s, struct promqltest_values *vs, char *msg,
                            size_t msglen)
{
    for (;;) {
        while (is_blank(*s))
            s++;
        if (!*s)
            return BW_OK;
        const char *item = s;
        uint64_t n = 0;
        double v, d = 0;
        bool ok = true, pushed = true;
        if (*s == '_') {
            s++;
            if (*s == 'x')
                ok = scan_count(&s, &n);
            else
                n = 1;
            for (uint64_t i = 0; ok && pushed && i < n; i++)
                pushed = values_push(a, vs, 0, true);
        } else if (strncmp(s, "stale", 5) == 0) {
            s += 5;
            pushed = values_push(a, vs, tsdb_stale_nan(), false);
        } else if (scan_value(&s, &v)) {
            if (*s == '+' || *s == '-') {
                double sign = *s == '-' ? -1 : 1;
                s++;
                ok = scan_value(&s, &d) && scan_count(&s, &n);
                d *= sign;
            } else if (*s == 'x') {
                ok = scan_count(&s, &n);
            }
            for (uint64_t i = 0; ok && pushed && i <= n; i++)
                pushed = values_push(a, vs, v + (double)i * d, false);
        } else {
            ok = false;
        }
        if (!pushed)
            return BW_ENOMEM;
        if (!ok || (*s && !is_blank(*s))) {
            size_t len = strcspn(item, " \t\n");
            snprintf(msg, msglen, "bad series value \"%.*s\"", (int)(len > 64 ? 64 : len), item);
            return BW_EINVAL;
        }
    }
}

/* The values of a load line, or a failure reported. */
static bool parse_values(struct run *r, const char *s, struct promqltest_values *vs)
{
    char msg[128];
    int rc = promqltest_parse_values(&r->a, s, vs, msg, sizeof(msg));
    if (rc == BW_ENOMEM)
        return failf(r, "out of memory");
    return rc == BW_OK || failf(r, "%s", msg);
}

/* series := metric values   metric := name ["{" labels "}"] | "{" labels "}"
 * Fills ls (sorted, empty values dropped) and returns where the values start, or NULL. */
static const char *parse_metric(struct run *r, const char *line, struct labelset *ls)
{
    struct lexer lx;
    struct token t;
    struct label *v = NULL;
    size_t n = 0, cap = 0;
    const char *name = NULL;
    lex_init(&lx, line, strlen(line));
    lex_next(&lx, &t);
    size_t end = 0;
    if (t.t != T_LBRACE) {
        if (t.t != T_IDENT && t.t != T_METRIC_IDENT && !tok_is_aggregator(t.t) &&
            !tok_is_keyword(t.t) && t.t != T_START && t.t != T_END && t.t != T_AND && t.t != T_OR &&
            t.t != T_UNLESS && t.t != T_ATAN2) {
            failf(r, "expected a metric name or '{' in '%s'", line);
            return NULL;
        }
        name = arena_strndup(&r->a, line + t.pos, (size_t)t.len);
        end = (size_t)(t.pos + t.len);
        if (line[end] == '{')
            lex_next(&lx, &t);
    }
    if (t.t == T_LBRACE) {
        for (lex_next(&lx, &t); t.t != T_RBRACE; lex_next(&lx, &t)) {
            if (t.t == T_COMMA)
                continue;
            struct token eq, val;
            lex_next(&lx, &eq);
            lex_next(&lx, &val);
            if ((t.t != T_IDENT && t.t != T_STRING) || eq.t != T_EQL || val.t != T_STRING) {
                failf(r, "bad label in '%s'", line);
                return NULL;
            }
            char *lname, *lval;
            size_t len;
            if (t.t == T_IDENT)
                lname = arena_strndup(&r->a, line + t.pos, (size_t)t.len);
            else if (promql_unquote(line + t.pos, (size_t)t.len, &r->a, &lname, &len) != BW_OK)
                lname = NULL;
            if (!lname ||
                promql_unquote(line + val.pos, (size_t)val.len, &r->a, &lval, &len) != BW_OK) {
                failf(r, "bad label in '%s'", line);
                return NULL;
            }
            if (!*lval)
                continue;
            v = arena_grow(&r->a, v, n, &cap, sizeof(*v));
            if (!v) {
                failf(r, "out of memory");
                return NULL;
            }
            v[n++] = (struct label){lname, lval};
        }
        end = (size_t)(t.pos + t.len);
    }
    if (name) {
        v = arena_grow(&r->a, v, n, &cap, sizeof(*v));
        if (!v) {
            failf(r, "out of memory");
            return NULL;
        }
        v[n++] = (struct label){LABEL_NAME, name};
    }
    if (n)
        labels_sort(v, n);
    ls->v = v;
    ls->n = n;
    return line + end;
}

/* ---- load ---- */

static bool skip_series(struct run *r, const struct labelset *ls, const char *reason)
{
    struct skipped_series *v =
        arena_grow(&r->a, r->skipped, r->nskipped, &r->capskipped, sizeof(*v));
    if (!v)
        return failf(r, "out of memory");
    r->skipped = v;
    r->skipped[r->nskipped++] = (struct skipped_series){*ls, reason};
    return true;
}

/* The native histogram a load_with_nhcb series also feeds: the series' labels without "le",
 * named without the _bucket/_count/_sum suffix. False when the series feeds none. */
static bool histogram_of(struct run *r, const struct labelset *ls, struct labelset *out)
{
    static const char *const suffixes[] = {"_bucket", "_count", "_sum"};
    const char *name = labelset_get(ls, LABEL_NAME);
    size_t n = name ? strlen(name) : 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(suffixes); i++) {
        size_t k = strlen(suffixes[i]);
        if (n <= k || strcmp(name + n - k, suffixes[i]) != 0)
            continue;
        struct label *v = arena_alloc(&r->a, (ls->n + 1) * sizeof(*v));
        const char *base = arena_strndup(&r->a, name, n - k);
        if (!v || !base)
            return failf(r, "out of memory");
        size_t m = 0;
        for (size_t j = 0; j < ls->n; j++)
            if (strcmp(ls->v[j].name, "le") != 0)
                v[m++] = strcmp(ls->v[j].name, LABEL_NAME) == 0 ? (struct label){LABEL_NAME, base}
                                                                : ls->v[j];
        *out = (struct labelset){v, m};
        return true;
    }
    return false;
}

/* A series of a load block, kept until the block ends: as in Prometheus's harness, a series
 * defined twice in one block takes its last definition. */
struct load_series {
    struct labelset ls;
    struct promqltest_values vs;
};

struct load_block {
    struct load_series *v;
    size_t n, cap;
};

static bool load_add(struct run *r, struct load_block *b, const struct labelset *ls,
                     const struct promqltest_values *vs)
{
    for (size_t k = 0; k < b->n; k++) {
        if (labelset_compare(&b->v[k].ls, ls) == 0) {
            b->v[k].vs = *vs;
            return true;
        }
    }
    struct load_series *v = arena_grow(&r->a, b->v, b->n, &b->cap, sizeof(*v));
    if (!v)
        return failf(r, "out of memory");
    b->v = v;
    b->v[b->n++] = (struct load_series){*ls, *vs};
    return true;
}

/* load STEP, then one series per line up to a blank line. Returns the next line index. */
static size_t run_load(struct run *r, char **lines, size_t nlines, size_t i)
{
    int line = (int)i + 1;
    char *cmd = lines[i];
    char *sp = cmd + strcspn(cmd, " \t");
    char *word = arena_strndup(&r->a, cmd, (size_t)(sp - cmd));
    char *step_s = trim(sp);
    const char *nhcb_reason = NULL;
    for (size_t k = 0; r->rules && k < r->rules->n; k++)
        if (r->rules->v[k].kind == RULE_LOAD_CMD && strcmp(r->rules->v[k].pattern, word) == 0)
            nhcb_reason = r->rules->v[k].reason;
    int64_t step;
    struct load_block block = {0};
    bool ok = strcmp(word, "load") == 0 || nhcb_reason;
    if (!ok)
        failf(r, "unknown command '%s'", word);
    else if (promql_parse_duration(step_s, strlen(step_s), &step) != BW_OK)
        ok = failf(r, "invalid step definition '%s'", step_s);
    for (i++; i < nlines && lines[i][0]; i++) {
        if (!ok)
            continue;
        const char *reason = NULL;
        for (size_t k = 0; r->rules && k < r->rules->n; k++)
            if (r->rules->v[k].kind == RULE_LOAD_LINE && strstr(lines[i], r->rules->v[k].pattern))
                reason = r->rules->v[k].reason;
        struct labelset ls;
        const char *vals = parse_metric(r, lines[i], &ls);
        if (!vals) {
            ok = false;
            line = (int)i + 1;
            continue;
        }
        if (reason) {
            if (!skip_series(r, &ls, reason))
                ok = false;
            continue;
        }
        struct labelset h;
        if (nhcb_reason && histogram_of(r, &ls, &h) && !skip_series(r, &h, nhcb_reason))
            ok = false;
        struct promqltest_values vs = {0};
        if (!parse_values(r, vals, &vs) || !load_add(r, &block, &ls, &vs)) {
            ok = false;
            line = (int)i + 1;
        }
    }
    for (size_t s = 0; ok && s < block.n; s++) {
        const struct load_series *ser = &block.v[s];
        uint64_t ref = 0;
        for (size_t k = 0; k < ser->vs.n && ok; k++) {
            if (ser->vs.omitted[k])
                continue;
            int rc = tsdb_append(r->db, &ser->ls, (int64_t)k * step, ser->vs.v[k], &ref);
            if (rc != BW_OK && rc != BW_ERANGE)
                ok = failf(r, "cannot store series %zu of the block: %s", s + 1, bw_strerror(rc));
        }
    }
    if (!ok)
        report(r, line, "load");
    return i;
}

/* ---- eval: reading ---- */

static bool add_expected(struct run *r, struct eval_cmd *e, const struct labelset *ls,
                         const struct promqltest_values *vs, int pos)
{
    for (size_t k = 0; k < e->nexp; k++) {
        if (labelset_compare(&e->exp[k].ls, ls) == 0) { /* a repeated series: the last wins */
            e->exp[k] = (struct expected){*ls, vs->v, vs->omitted, vs->n, pos};
            return true;
        }
    }
    struct expected *v = arena_grow(&r->a, e->exp, e->nexp, &e->capexp, sizeof(*v));
    if (!v)
        return failf(r, "out of memory");
    e->exp = v;
    e->exp[e->nexp++] = (struct expected){*ls, vs->v, vs->omitted, vs->n, pos};
    return true;
}

/* "expect KIND [msg: TEXT | regex: RE]" */
static bool parse_expect(struct run *r, struct eval_cmd *e, char *s)
{
    char *kind = trim(s + 6);
    char *rest = kind + strcspn(kind, " \t");
    if (*rest)
        *rest++ = '\0';
    rest = trim(rest);
    struct annot_expect a = {.regex = true, .text = ".*"};
    if (strncmp(rest, "msg:", 4) == 0)
        a = (struct annot_expect){false, trim(rest + 4)};
    else if (strncmp(rest, "regex:", 6) == 0)
        a = (struct annot_expect){true, trim(rest + 6)};
    else if (*rest)
        return failf(r, "invalid expect line, expected 'expect KIND [msg: ...|regex: ...]'");
    if (strcmp(kind, "fail") == 0) {
        e->fail = true;
        if (a.regex)
            e->fail_regex = a.text;
        else
            e->fail_msg = a.text;
    } else if (strcmp(kind, "ordered") == 0) {
        e->ordered = true;
    } else if (strcmp(kind, "warn") == 0 && e->nwarns < BW_ARRAY_LEN(e->warns)) {
        e->warns[e->nwarns++] = a;
    } else if (strcmp(kind, "info") == 0 && e->ninfos < BW_ARRAY_LEN(e->infos)) {
        e->infos[e->ninfos++] = a;
    } else if (strcmp(kind, "no_warn") == 0) {
        e->no_warn = true;
    } else if (strcmp(kind, "no_info") == 0) {
        e->no_info = true;
    } else {
        return failf(r, "invalid expect type '%s'", kind);
    }
    return true;
}

/* Splits off the first word of *s (advancing *s past it and the spaces after). */
static char *next_word(char **s)
{
    char *w = *s + strspn(*s, " \t");
    char *end = w + strcspn(w, " \t");
    *s = end + strspn(end, " \t");
    if (*end)
        *end = '\0';
    return w;
}

/* eval[_fail|_warn|_info|_ordered] (instant at T | range from A to B step S) EXPR, then the
 * expected results up to a blank line. */
static bool parse_eval(struct run *r, char **lines, size_t nlines, size_t *i, struct eval_cmd *e)
{
    char *s = arena_strdup(&r->a, lines[*i]);
    if (!s)
        return failf(r, "out of memory");
    char *cmd = next_word(&s);
    const char *mod = strchr(cmd, '_') ? strchr(cmd, '_') + 1 : "";
    e->fail = strcmp(mod, "fail") == 0;
    e->warn = strcmp(mod, "warn") == 0;
    e->info = strcmp(mod, "info") == 0;
    e->ordered = strcmp(mod, "ordered") == 0;
    if (*mod && !e->fail && !e->warn && !e->info && !e->ordered)
        return failf(r, "unknown command '%s'", cmd);
    char *mode = next_word(&s);
    if (strcmp(mode, "instant") == 0) {
        char *at = next_word(&s);
        char *t = next_word(&s);
        if (strcmp(at, "at") != 0 || promql_parse_duration(t, strlen(t), &e->start) != BW_OK)
            return failf(r, "invalid instant eval, expected 'instant at DURATION EXPR'");
        e->end = e->start;
    } else if (strcmp(mode, "range") == 0 && !e->ordered) {
        e->range = true;
        char *from = next_word(&s), *a = next_word(&s), *to = next_word(&s);
        char *b = next_word(&s), *st = next_word(&s), *step = next_word(&s);
        if (strcmp(from, "from") != 0 || strcmp(to, "to") != 0 || strcmp(st, "step") != 0 ||
            promql_parse_duration(a, strlen(a), &e->start) != BW_OK ||
            promql_parse_duration(b, strlen(b), &e->end) != BW_OK ||
            promql_parse_duration(step, strlen(step), &e->step) != BW_OK)
            return failf(r, "invalid range eval, expected 'range from DURATION to DURATION "
                            "step DURATION EXPR'");
        if (e->end < e->start)
            return failf(r,
                         "invalid test definition, end timestamp (%s) is before start "
                         "timestamp (%s)",
                         b, a);
    } else {
        return failf(r, "invalid evaluation command, expected instant or range");
    }
    e->expr = s;
    if (!*e->expr)
        return failf(r, "missing expression");
    int pos = 1;
    for (; *i + 1 < nlines && lines[*i + 1][0]; (*i)++) {
        char *l = lines[*i + 1];
        if (e->fail && strncmp(l, "expected_fail_message", 21) == 0) {
            e->fail_msg = trim(l + 21);
            (*i)++;
            break;
        }
        if (e->fail && strncmp(l, "expected_fail_regexp", 20) == 0) {
            e->fail_regex = trim(l + 20);
            (*i)++;
            break;
        }
        if (strncmp(l, "expect ", 7) == 0) {
            if (!parse_expect(r, e, l))
                return false;
            continue;
        }
        double v;
        if (parse_number_line(l, &v)) {
            e->expect_scalar = true;
            e->scalar = v;
            (*i)++;
            break;
        }
        struct labelset ls;
        struct promqltest_values vs = {0};
        const char *vals = parse_metric(r, l, &ls);
        if (!vals || !parse_values(r, vals, &vs))
            return false;
        if (!e->range && vs.n > 1)
            return failf(r, "expecting multiple values in instant evaluation not allowed");
        if (!add_expected(r, e, &ls, &vs, pos++))
            return false;
    }
    return true;
}

/* ---- eval: checking ---- */

/* Prometheus's almost.Equal with its test epsilon: stale markers equal only each other, NaN
 * equals NaN, otherwise a relative difference under 1e-6. */
static bool almost_equal(double a, double b)
{
    if (tsdb_is_stale(a) || tsdb_is_stale(b))
        return tsdb_is_stale(a) && tsdb_is_stale(b);
    return ev_almost_equal(a, b, 1e-6);
}

/* Labels and a value as text for messages (in buffers owned by the caller). */
static const char *labels_text(const struct labelset *ls, struct buf *b)
{
    buf_reset(b);
    if (labelset_format(ls, b) != BW_OK || !b->data)
        return "{}";
    return b->data;
}

static const char *num_text(double v, char out[32])
{
    fmt_double(out, v, 0);
    return out;
}

/* Whether s matches the (RE2-syntax, unanchored) regular expression re. */
static bool regex_search(const char *re, const char *s)
{
    struct buf pat;
    struct tsdb_matcher m;
    bool found = false;
    buf_init(&pat, 0);
    if (buf_printf(&pat, ".*(?:%s).*", re) == BW_OK &&
        tsdb_matcher_init(&m, TSDB_MATCH_RE, "x", pat.data, NULL) == BW_OK) {
        found = tsdb_matcher_matches(&m, s);
        tsdb_matcher_fini(&m);
    }
    buf_fini(&pat);
    return found;
}

static bool check_failure(struct run *r, const struct eval_cmd *e, const char *msg)
{
    if (e->fail_msg && strcmp(e->fail_msg, msg) != 0)
        return failf(r, "expected error \"%s\", but got: %s", e->fail_msg, msg);
    if (e->fail_regex && !regex_search(e->fail_regex, msg))
        return failf(r, "expected error matching \"%s\", but got: %s", e->fail_regex, msg);
    return true;
}

/* Whether annotation s (as the engine words it for the API, with " (L:C)", the position in
 * the query, at the end) is the one x expects: Prometheus's harness compares the text
 * without the position. */
static bool annot_matches(const struct annot_expect *x, const char *s)
{
    size_t n = strlen(s), k = n;
    if (k > 0 && s[k - 1] == ')') {
        k--;
        while (k > 0 && ((s[k - 1] >= '0' && s[k - 1] <= '9') || s[k - 1] == ':'))
            k--;
        if (k >= 2 && s[k - 1] == '(' && s[k - 2] == ' ' && k < n - 1)
            n = k - 2;
    }
    char *text = strndup(s, n);
    bool ok = text && (x->regex ? regex_search(x->text, text) : strcmp(x->text, text) == 0);
    free(text);
    return ok;
}

/* Expected annotations of one kind (warn or info) against the ones returned. */
static bool check_annot_kind(struct run *r, const char *kind, const struct annot_expect *want,
                             size_t nwant, const char **got, size_t ngot)
{
    if (nwant == 0)
        return true;
    if (ngot == 0)
        return failf(r, "expected %s annotations but none were found", kind);
    for (size_t i = 0; i < nwant; i++) {
        size_t k = 0;
        while (k < ngot && !annot_matches(&want[i], got[k]))
            k++;
        if (k == ngot)
            return failf(r, "expected %s annotation matching \"%s\" but got: %s", kind,
                         want[i].text, got[0]);
    }
    for (size_t k = 0; k < ngot; k++) {
        size_t i = 0;
        while (i < nwant && !annot_matches(&want[i], got[k]))
            i++;
        if (i == nwant)
            return failf(r, "unexpected %s annotation \"%s\"", kind, got[k]);
    }
    return true;
}

static bool check_annotations(struct run *r, const struct eval_cmd *e,
                              const struct promql_result *res)
{
    if (e->warn && res->nwarnings == 0)
        return failf(r, "expected warnings but got none");
    if (e->info && res->ninfos == 0)
        return failf(r, "expected info annotations but got none");
    if (!check_annot_kind(r, "warn", e->warns, e->nwarns, res->warnings, res->nwarnings) ||
        !check_annot_kind(r, "info", e->infos, e->ninfos, res->infos, res->ninfos))
        return false;
    if (e->no_warn && res->nwarnings > 0)
        return failf(r, "unexpected warning annotation: %s", res->warnings[0]);
    if (e->no_info && res->ninfos > 0)
        return failf(r, "unexpected info annotation: %s", res->infos[0]);
    return true;
}

static const struct expected *find_expected(const struct eval_cmd *e, const struct labelset *ls,
                                            size_t *idx)
{
    for (size_t k = 0; k < e->nexp; k++) {
        if (labelset_compare(&e->exp[k].ls, ls) == 0) {
            *idx = k;
            return &e->exp[k];
        }
    }
    return NULL;
}

/* Checks that every expected series was seen (seen[k] for e->exp[k]). */
static bool all_seen(struct run *r, const struct eval_cmd *e, const bool *seen, struct buf *lb)
{
    for (size_t k = 0; k < e->nexp; k++)
        if (!seen[k])
            return failf(r, "expected metric %s not found", labels_text(&e->exp[k].ls, lb));
    return true;
}

static bool compare_vector(struct run *r, const struct eval_cmd *e, const struct promql_series *s,
                           size_t n, bool ordered, bool *seen, struct buf *lb)
{
    char a[32], b[32];
    if (e->expect_scalar)
        return failf(r, "expected scalar result, but got a vector of %zu samples", n);
    for (size_t i = 0; i < n; i++) {
        size_t k;
        const struct expected *x = find_expected(e, &s[i].labels, &k);
        if (!x)
            return failf(r, "unexpected metric %s in result, has value %s",
                         labels_text(&s[i].labels, lb), num_text(s[i].v[0], a));
        if (ordered && x->pos != (int)i + 1)
            return failf(r, "expected metric %s at position %d but was at %zu",
                         labels_text(&s[i].labels, lb), x->pos, i + 1);
        if (x->n != 1 || x->omitted[0] || !almost_equal(x->v[0], s[i].v[0]))
            return failf(r, "expected %s for %s but got %s", num_text(x->v[0], a),
                         labels_text(&s[i].labels, lb), num_text(s[i].v[0], b));
        seen[k] = true;
    }
    return all_seen(r, e, seen, lb);
}

static bool matrix_sorted(struct run *r, const struct promql_series *s, size_t n, struct buf *lb)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (labelset_compare(&s[i].labels, &s[i + 1].labels) > 0)
            return failf(r,
                         "matrix results should always be sorted by labels, but %s comes "
                         "before the series at index %zu",
                         labels_text(&s[i].labels, lb), i + 1);
    return true;
}

static bool compare_matrix(struct run *r, const struct eval_cmd *e, const struct promql_series *s,
                           size_t n, bool *seen, struct buf *lb)
{
    char a[32], b[32];
    if (e->ordered)
        return failf(r, "expected ordered result, but query returned a matrix");
    if (e->expect_scalar)
        return failf(r, "expected scalar result, but got a matrix of %zu series", n);
    if (!matrix_sorted(r, s, n, lb))
        return false;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        const struct expected *x = find_expected(e, &s[i].labels, &k);
        if (!x)
            return failf(r, "unexpected metric %s in result, with %zu points",
                         labels_text(&s[i].labels, lb), s[i].n);
        seen[k] = true;
        size_t want = 0;
        for (size_t j = 0; j < x->n; j++) {
            if (!e->range || e->start + (int64_t)j * e->step > e->end)
                return failf(r,
                             "expected %zu points for %s, but query time range cannot return "
                             "this many points",
                             x->n, labels_text(&s[i].labels, lb));
            want += !x->omitted[j];
        }
        if (want != s[i].n)
            return failf(r, "expected %zu points for %s, but got %zu", want,
                         labels_text(&s[i].labels, lb), s[i].n);
        size_t p = 0;
        for (size_t j = 0; j < x->n; j++) {
            if (x->omitted[j])
                continue;
            int64_t t = e->start + (int64_t)j * e->step;
            if (s[i].t[p] != t)
                return failf(r, "expected point %zu for %s at t=%lld, but it is at t=%lld", p,
                             labels_text(&s[i].labels, lb), (long long)t, (long long)s[i].t[p]);
            if (!almost_equal(x->v[j], s[i].v[p]))
                return failf(r, "expected %s at t=%lld for %s but got %s", num_text(x->v[j], a),
                             (long long)t, labels_text(&s[i].labels, lb), num_text(s[i].v[p], b));
            p++;
        }
    }
    return all_seen(r, e, seen, lb);
}

static bool compare_result(struct run *r, const struct eval_cmd *e, const struct promql_result *res)
{
    char a[32], b[32];
    struct buf lb;
    buf_init(&lb, 0);
    bool *seen = calloc(e->nexp + 1, sizeof(*seen));
    bool ok = seen != NULL;
    if (!ok) {
        failf(r, "out of memory");
    } else if (res->type == PROMQL_MATRIX) {
        ok = compare_matrix(r, e, res->series, res->n, seen, &lb);
    } else if (res->type == PROMQL_VECTOR) {
        ok = compare_vector(r, e, res->series, res->n, e->ordered, seen, &lb);
    } else if (res->type == PROMQL_SCALAR) {
        double v = res->n ? res->series[0].v[0] : NAN;
        if (!e->expect_scalar)
            ok = failf(r, "expected vector or matrix result, but got scalar %s", num_text(v, a));
        else if (!almost_equal(e->scalar, v))
            ok = failf(r, "expected scalar %s but got %s", num_text(e->scalar, a), num_text(v, b));
    } else {
        ok = failf(r, "unexpected %s result", promql_type_name(res->type));
    }
    free(seen);
    buf_fini(&lb);
    return ok;
}

/* The range query from t-1m to t+1m step 1m, whose point at t must match the instant one. */
static bool check_range_mode(struct run *r, const struct eval_cmd *e, const char *q, int64_t t,
                             const struct promql_result *instant)
{
    struct promql_result *res = NULL;
    struct promql_error err;
    struct promql_series *vec = NULL;
    bool *seen = NULL;
    struct buf lb;
    buf_init(&lb, 0);
    bool ok = false;
    if (promql_query_range(r->db, &query_opts, q, t - 60000, t + 60000, 60000, &res, &err) !=
        BW_OK) {
        failf(r, "error evaluating query in range mode: %s", err.msg);
        goto out;
    }
    if (e->ordered) {
        ok = true;
        goto out;
    }
    if (!matrix_sorted(r, res->series, res->n, &lb))
        goto out;
    vec = calloc(res->n + 1, sizeof(*vec));
    seen = calloc(e->nexp + 1, sizeof(*seen));
    if (!vec || !seen) {
        failf(r, "out of memory");
        goto out;
    }
    size_t n = 0;
    for (size_t i = 0; i < res->n; i++) {
        for (size_t k = 0; k < res->series[i].n; k++) {
            if (res->series[i].t[k] == t) {
                vec[n] = res->series[i];
                vec[n].n = 1;
                vec[n].t = &res->series[i].t[k];
                vec[n++].v = &res->series[i].v[k];
                break;
            }
        }
    }
    if (instant->type == PROMQL_SCALAR) {
        char a[32], b[32];
        if (n == 0)
            failf(r, "range mode: no point at the evaluation time");
        else if (!almost_equal(e->scalar, vec[0].v[0]))
            failf(r, "range mode: expected scalar %s but got %s", num_text(e->scalar, a),
                  num_text(vec[0].v[0], b));
        else
            ok = true;
    } else {
        ok = compare_vector(r, e, vec, n, false, seen, &lb);
        if (!ok) {
            struct buf tmp;
            buf_init(&tmp, 0);
            buf_printf(&tmp, "range mode: %s", r->msg.data ? r->msg.data : "");
            buf_reset(&r->msg);
            buf_puts(&r->msg, tmp.data ? tmp.data : "");
            buf_fini(&tmp);
        }
    }
out:
    free(vec);
    free(seen);
    buf_fini(&lb);
    promql_result_free(res);
    return ok;
}

/* One instant query of an eval (the written one or a variant) with all its checks. */
static bool run_instant(struct run *r, const struct eval_cmd *e, const char *q, int64_t t)
{
    struct promql_result *res = NULL;
    struct promql_error err;
    bool ok = false;
    if (promql_query_instant(r->db, &query_opts, q, t, &res, &err) != BW_OK) {
        ok = e->fail ? check_failure(r, e, err.msg)
                     : failf(r, "error evaluating query: %s", err.msg);
        goto out;
    }
    if (e->fail) {
        failf(r, "expected an error but got none");
        goto out;
    }
    ok = check_annotations(r, e, res) && compare_result(r, e, res) &&
         check_range_mode(r, e, q, t, res);
out:
    promql_result_free(res);
    return ok;
}

/* Sets @ t on every selector and subquery that has no fixed @, outside subqueries, as
 * Prometheus's harness does; *unsafe when the query calls a function whose value depends on
 * the evaluation time (then there are no variants). */
static void pin_at(struct promql_node *n, int64_t t, bool under_subquery, bool *unsafe)
{
    static const char *const unsafe_fns[] = {
        "days_in_month", "day_of_month", "day_of_week",    "day_of_year", "hour",     "minute",
        "month",         "year",         "predict_linear", "time",        "timestamp"};
    const struct at_mod at = {AT_TIME, t};
    switch (n->kind) {
    case NODE_VECTOR_SELECTOR:
        if (!under_subquery && n->sel.at.kind != AT_TIME)
            n->sel.at = at;
        break;
    case NODE_MATRIX_SELECTOR:
        pin_at(n->msel.vs, t, under_subquery, unsafe);
        break;
    case NODE_SUBQUERY:
        if (!under_subquery && n->subq.at.kind != AT_TIME)
            n->subq.at = at;
        pin_at(n->subq.expr, t, true, unsafe);
        break;
    case NODE_CALL:
        for (size_t i = 0; !under_subquery && i < BW_ARRAY_LEN(unsafe_fns); i++)
            *unsafe = *unsafe || strcmp(n->call.fn->name, unsafe_fns[i]) == 0;
        for (size_t i = 0; i < n->call.nargs; i++)
            pin_at(n->call.args[i], t, under_subquery, unsafe);
        break;
    case NODE_AGGREGATE:
        if (n->agg.param)
            pin_at(n->agg.param, t, under_subquery, unsafe);
        pin_at(n->agg.expr, t, under_subquery, unsafe);
        break;
    case NODE_BINARY:
        pin_at(n->bin.lhs, t, under_subquery, unsafe);
        pin_at(n->bin.rhs, t, under_subquery, unsafe);
        break;
    case NODE_UNARY:
        pin_at(n->unary.expr, t, under_subquery, unsafe);
        break;
    case NODE_PAREN:
        pin_at(n->paren.expr, t, under_subquery, unsafe);
        break;
    case NODE_NUMBER:
    case NODE_STRING:
        break;
    }
}

/* The query with @ t pinned, in r's arena; NULL when it has no @ variants. */
static const char *at_variant(struct run *r, const char *expr, int64_t t)
{
    struct arena a;
    struct promql_node *n;
    struct promql_error err;
    struct buf b;
    const char *q = NULL;
    bool unsafe = false;
    arena_init(&a, 0);
    buf_init(&b, 0);
    if (promql_parse(expr, &query_opts, &a, &n, &err) != BW_OK)
        goto out;
    pin_at(n, t, false, &unsafe);
    if (!unsafe && promql_node_format(n, &b) == BW_OK)
        q = arena_strdup(&r->a, b.data);
    promql_node_release(n);
out:
    buf_fini(&b);
    arena_fini(&a);
    return q;
}

static bool run_eval(struct run *r, const struct eval_cmd *e)
{
    if (!e->range) {
        if (!run_instant(r, e, e->expr, e->start))
            return false;
        const char *q = at_variant(r, e->expr, e->start);
        int64_t ts = e->start;
        const int64_t times[] = {-10 * ts, 0, ts / 5, ts, 10 * ts}, zero[] = {-1000, 0, 1000};
        const int64_t *et = ts == 0 ? zero : times;
        size_t n = ts == 0 ? BW_ARRAY_LEN(zero) : BW_ARRAY_LEN(times);
        for (size_t i = 0; q && i < n; i++) {
            if (!run_instant(r, e, q, et[i])) {
                struct buf tmp;
                buf_init(&tmp, 0);
                buf_printf(&tmp, "with @ modifier: %s evaluated at %gs: %s", q,
                           (double)et[i] / 1000, r->msg.data ? r->msg.data : "");
                buf_reset(&r->msg);
                buf_puts(&r->msg, tmp.data ? tmp.data : "");
                buf_fini(&tmp);
                return false;
            }
        }
        return true;
    }
    struct promql_result *res = NULL;
    struct promql_error err;
    bool ok = false;
    if (promql_query_range(r->db, &query_opts, e->expr, e->start, e->end, e->step, &res, &err) !=
        BW_OK) {
        ok = e->fail ? check_failure(r, e, err.msg)
                     : failf(r, "error evaluating query: %s", err.msg);
    } else if (e->fail) {
        failf(r, "expected an error but got none");
    } else {
        ok = check_annotations(r, e, res) && compare_result(r, e, res);
    }
    promql_result_free(res);
    return ok;
}

/* The reason an eval (lines[i], expected results up to end) is skipped, or NULL. */
static const char *skip_reason(const struct run *r, char **lines, size_t i, size_t end)
{
    for (size_t k = 0; r->rules && k < r->rules->n; k++) {
        const struct rule *x = &r->rules->v[k];
        if (x->kind == RULE_CALL && calls(lines[i], x->pattern))
            return x->reason;
        for (size_t j = i + 1; x->kind == RULE_EXPECTED && j < end; j++)
            if (strstr(lines[j], x->pattern))
                return x->reason;
    }
    return NULL;
}

/* The reason of the first skipped series a selector under n selects, or NULL. */
static const char *selects_skipped(const struct run *r, const struct promql_node *n)
{
    const char *why = NULL;
    switch (n->kind) {
    case NODE_VECTOR_SELECTOR:
        for (size_t k = 0; k < r->nskipped && !why; k++) {
            bool all = true;
            for (size_t i = 0; i < n->sel.nmatchers && all; i++) {
                const char *v = labelset_get(&r->skipped[k].ls, n->sel.matchers[i].name);
                all = tsdb_matcher_matches(&n->sel.matchers[i], v ? v : "");
            }
            why = all ? r->skipped[k].reason : NULL;
        }
        return why;
    case NODE_MATRIX_SELECTOR:
        return selects_skipped(r, n->msel.vs);
    case NODE_SUBQUERY:
        return selects_skipped(r, n->subq.expr);
    case NODE_CALL:
        for (size_t i = 0; i < n->call.nargs && !why; i++)
            why = selects_skipped(r, n->call.args[i]);
        return why;
    case NODE_AGGREGATE:
        return selects_skipped(r, n->agg.expr);
    case NODE_BINARY:
        why = selects_skipped(r, n->bin.lhs);
        return why ? why : selects_skipped(r, n->bin.rhs);
    case NODE_UNARY:
        return selects_skipped(r, n->unary.expr);
    case NODE_PAREN:
        return selects_skipped(r, n->paren.expr);
    case NODE_NUMBER:
    case NODE_STRING:
        break;
    }
    return NULL;
}

/* Whether the eval's query reads a series a skip rule kept out (its reason), or NULL. */
static const char *reads_skipped(const struct run *r, const char *expr)
{
    struct arena a;
    struct promql_node *n;
    struct promql_error err;
    const char *why = NULL;
    if (r->nskipped == 0)
        return NULL;
    arena_init(&a, 0);
    if (promql_parse(expr, &query_opts, &a, &n, &err) == BW_OK) {
        why = selects_skipped(r, n);
        promql_node_release(n);
    }
    arena_fini(&a);
    return why;
}

/* ---- the file ---- */

static int open_db(struct run *r, struct diag *d)
{
    tsdb_close(r->db);
    r->db = NULL;
    r->nskipped = 0;
    return tsdb_open(NULL, NULL, &r->db, d);
}

int promqltest_run_file(const char *path, const struct promqltest_rules *rules, FILE *out,
                        struct promqltest_counts *c, struct diag *d)
{
    struct run r = {.rules = rules, .out = out, .c = c};
    const char *slash = strrchr(path, '/');
    char *text = NULL, **lines = NULL;
    size_t nlines = 1;
    r.file = slash ? slash + 1 : path;
    arena_init(&r.a, 0);
    buf_init(&r.msg, 0);
    int rc = read_file(path, &r.a, &text, d);
    if (rc != BW_OK)
        goto out;
    for (const char *p = text; *p; p++)
        nlines += *p == '\n';
    lines = arena_alloc(&r.a, nlines * sizeof(*lines));
    if (!lines) {
        rc = diag_set(d, BW_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    nlines = 0;
    for (char *line = text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *s = trim(line);
        lines[nlines++] = *s == '#' ? s + strlen(s) : s;
    }
    if ((rc = open_db(&r, d)) != BW_OK)
        goto out;
    for (size_t i = 0; i < nlines; i++) {
        char *l = lines[i];
        if (!*l)
            continue;
        if (strcmp(l, "clear") == 0) {
            if ((rc = open_db(&r, d)) != BW_OK)
                goto out;
        } else if (strncmp(l, "load", 4) == 0) {
            i = run_load(&r, lines, nlines, i);
        } else if (strncmp(l, "eval", 4) == 0) {
            size_t end = i + 1;
            while (end < nlines && lines[end][0])
                end++;
            const char *reason = skip_reason(&r, lines, i, end);
            struct eval_cmd e = {.line = (int)i + 1};
            const char *cmd = lines[i];
            if (reason) {
                c->skipped++;
                i = end;
            } else if (!parse_eval(&r, lines, nlines, &i, &e)) {
                report(&r, e.line, cmd);
                i = end;
            } else if (reads_skipped(&r, e.expr)) {
                c->skipped++;
            } else if (!run_eval(&r, &e)) {
                report(&r, e.line, cmd);
            } else {
                c->passed++;
            }
        } else {
            failf(&r, "invalid command");
            report(&r, (int)i + 1, l);
        }
    }
out:
    tsdb_close(r.db);
    buf_fini(&r.msg);
    arena_fini(&r.a);
    return rc;
}
