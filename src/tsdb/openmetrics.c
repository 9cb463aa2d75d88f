/* openmetrics: imports an OpenMetrics 1.0 text file with timestamps — the input of
 * `promtool tsdb create-blocks-from openmetrics` — into the tsdb.
 *
 * The file is read a line at a time; a line is parsed by parse_line, a pure function of the
 * line's text into a struct line (names, unescaped label values, value, timestamp) or an
 * error with its column. Around it, struct import holds what spans lines: the families met so
 * far (their type, help and unit, and whether their samples have begun), and the series map,
 * an open-addressing table from a series' sorted label set to its newest timestamp and its
 * tsdb ref.
 *
 * The one design decision: two passes over the file. The first validates all of it and builds
 * the series map, appending nothing; only a file that is valid to its "# EOF" is read again
 * and appended, in batches, each one committed. A bad file thus leaves the tsdb as it was,
 * without the tsdb needing transactions, and memory stays proportional to the number of
 * series, not samples, however large the file. A sample at or before what the tsdb already
 * holds for its series is an error of the first pass as well, so the second cannot half-fail
 * on one. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/tsdb.h"

#define MAX_LABELS    64
#define DEFAULT_BATCH 100000

enum om_type {
    OM_UNKNOWN,
    OM_COUNTER,
    OM_GAUGE,
    OM_HISTOGRAM,
    OM_GAUGEHISTOGRAM,
    OM_SUMMARY,
    OM_INFO,
    OM_STATESET,
    OM_TYPES
};

static const char *const type_names[OM_TYPES] = {"unknown",        "counter", "gauge", "histogram",
                                                 "gaugehistogram", "summary", "info",  "stateset"};

/* The sample name suffixes each type allows, "" for the family name itself. */
static const char *const suffixes[OM_TYPES][5] = {
    [OM_UNKNOWN] = {""},
    [OM_COUNTER] = {"_total", "_created"},
    [OM_GAUGE] = {""},
    [OM_HISTOGRAM] = {"_bucket", "_sum", "_count", "_created"},
    [OM_GAUGEHISTOGRAM] = {"_bucket", "_gsum", "_gcount"},
    [OM_SUMMARY] = {"", "_sum", "_count", "_created"},
    [OM_INFO] = {"_info"},
    [OM_STATESET] = {""},
};

/* ---- one line ----------------------------------------------------------------------------- */

enum line_kind { L_TYPE, L_HELP, L_UNIT, L_EOF, L_SAMPLE };

/* A parsed line. Strings are NUL-terminated copies in the caller's scratch buffer, valid until
 * the next line. */
struct line {
    enum line_kind kind;
    const char *name; /* metric or family name */
    int name_col;
    const char *text; /* TYPE: the type; HELP: the unescaped help; UNIT: the unit */
    int text_col;
    double value;
    int value_col;
    int has_ts;
    int64_t t_ms;
    int ts_col;
    size_t nlabels;
    struct label labels[MAX_LABELS]; /* in the file's order; only nlabels are set */
    int label_col[MAX_LABELS];
};

/* Where parsing is: the line, a cursor, the scratch buffer copies go to, and the error. */
struct cursor {
    const char *s;
    size_t n, i;
    char *out; /* scratch: room for the whole line twice over */
    const char *err;
    int err_col;
};

static int fail_at(struct cursor *c, size_t at, const char *msg)
{
    c->err = msg;
    c->err_col = (int)at + 1;
    return BW_EINVAL;
}

static int at_end(const struct cursor *c)
{
    return c->i >= c->n;
}

static int is_name_start(int ch, int metric)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' ||
           (metric && ch == ':');
}

static int is_name_char(int ch, int metric)
{
    return is_name_start(ch, metric) || (ch >= '0' && ch <= '9');
}

/* Copies s[0..n) to the scratch as a C string and returns it. */
static const char *copy(struct cursor *c, const char *s, size_t n)
{
    char *p = c->out;
    memcpy(p, s, n);
    p[n] = '\0';
    c->out += n + 1;
    return p;
}

/* metricname = metricname-initial-char *metricname-char ; label-name likewise without ':' */
static int parse_name(struct cursor *c, int metric, const char **out, int *col)
{
    size_t start = c->i;
    if (at_end(c) || !is_name_start((unsigned char)c->s[c->i], metric))
        return fail_at(c, c->i, metric ? "expected a metric name" : "expected a label name");
    while (!at_end(c) && is_name_char((unsigned char)c->s[c->i], metric))
        c->i++;
    *out = copy(c, c->s + start, c->i - start);
    *col = (int)start + 1;
    return BW_OK;
}

static int expect(struct cursor *c, char ch, const char *msg)
{
    if (at_end(c) || c->s[c->i] != ch)
        return fail_at(c, c->i, msg);
    c->i++;
    return BW_OK;
}

/* escaped-string = *escaped-char ; escaped-char = normal-char / "\\" / "\n" / "\"". Reads up
 * to the closing quote (quoted) or the end of the line, unescaping into the scratch. */
static int parse_escaped(struct cursor *c, int quoted, const char **out)
{
    char *start = c->out, *o = c->out;
    while (!at_end(c) && !(quoted && c->s[c->i] == '"')) {
        char ch = c->s[c->i];
        if (ch == '\\') {
            char e = c->i + 1 < c->n ? c->s[c->i + 1] : '\0';
            if (e != '\\' && e != 'n' && e != '"')
                return fail_at(c, c->i, "invalid escape (only \\\\, \\\" and \\n are allowed)");
            *o++ = e == 'n' ? '\n' : e;
            c->i += 2;
            continue;
        }
        *o++ = ch;
        c->i++;
    }
    if (quoted && at_end(c))
        return fail_at(c, c->i, "unterminated label value: expected '\"'");
    *o++ = '\0';
    c->out = o;
    *out = start;
    c->i += quoted;
    return BW_OK;
}

/* labels = "{" [ label *( "," label ) ] "}" ; label = label-name "=" DQUOTE escaped-string
 * DQUOTE. Fills l->labels when l is not NULL (an exemplar's labels are checked only). */
static int parse_labels(struct cursor *c, struct line *l)
{
    size_t n = 0;
    int rc = expect(c, '{', "expected '{'");
    if (rc)
        return rc;
    if (!at_end(c) && c->s[c->i] == '}') {
        c->i++;
        return BW_OK;
    }
    for (;;) {
        const char *name, *value;
        int col;
        if ((rc = parse_name(c, 0, &name, &col)) != BW_OK)
            return rc;
        if (strncmp(name, "__", 2) == 0)
            return fail_at(c, (size_t)col - 1, "label names starting with __ are reserved");
        if ((rc = expect(c, '=', "expected '=' after the label name")) != BW_OK ||
            (rc = expect(c, '"', "expected '\"' to open the label value")) != BW_OK ||
            (rc = parse_escaped(c, 1, &value)) != BW_OK)
            return rc;
        if (l) {
            if (n == MAX_LABELS)
                return fail_at(c, (size_t)col - 1, "too many labels (at most 64)");
            for (size_t i = 0; i < n; i++)
                if (strcmp(l->labels[i].name, name) == 0)
                    return fail_at(c, (size_t)col - 1, "duplicate label name");
            l->labels[n] = (struct label){name, value};
            l->label_col[n++] = col;
            l->nlabels = n;
        }
        if (at_end(c))
            return fail_at(c, c->i, "expected ',' or '}'");
        if (c->s[c->i] == '}') {
            c->i++;
            return BW_OK;
        }
        if ((rc = expect(c, ',', "expected ',' or '}'")) != BW_OK)
            return rc;
    }
}

/* number = realnumber / ( ["+" / "-"] ( "Inf" / "infinity" ) ) / "NaN", up to the next space
 * or the end of the line (any case for Inf and NaN, as Prometheus's parser; no hex). */
static int parse_number(struct cursor *c, double *out, int *col, const char *what)
{
    size_t start = c->i;
    while (!at_end(c) && c->s[c->i] != ' ')
        c->i++;
    size_t n = c->i - start;
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp))
        return fail_at(c, start, what);
    memcpy(tmp, c->s + start, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || strpbrk(tmp, "xX(") || (errno == ERANGE && isinf(v)))
        return fail_at(c, start, what);
    *out = v;
    *col = (int)start + 1;
    return BW_OK;
}

/* A timestamp: seconds since the epoch, a float; into ms as Prometheus's parser does
 * (int64(ts * 1000), so the two agree on every sample's time to the millisecond). */
static int parse_timestamp(struct cursor *c, int64_t *t_ms, int *col)
{
    double ts;
    int rc = parse_number(c, &ts, col, "expected a timestamp in seconds");
    if (rc)
        return rc;
    if (!isfinite(ts) || fabs(ts) > 9e12)
        return fail_at(c, (size_t)*col - 1, "timestamp out of range");
    *t_ms = (int64_t)(ts * 1000.0);
    return BW_OK;
}

/* descriptor = "# TYPE " metricname SP metric-type / "# HELP " metricname [SP escaped-string]
 *            / "# UNIT " metricname [SP *metricname-char] / "# EOF" */
static int parse_descriptor(struct cursor *c, struct line *l)
{
    static const struct {
        const char *word;
        enum line_kind kind;
    } words[] = {{"# TYPE ", L_TYPE}, {"# HELP ", L_HELP}, {"# UNIT ", L_UNIT}};
    if (c->n == 5 && memcmp(c->s, "# EOF", 5) == 0) {
        l->kind = L_EOF;
        return BW_OK;
    }
    size_t k = 0;
    while (k < BW_ARRAY_LEN(words) &&
           (c->n < 7 || memcmp(c->s, words[k].word, strlen(words[k].word)) != 0))
        k++;
    if (k == BW_ARRAY_LEN(words))
        return fail_at(c, 0, "a comment must be # TYPE, # HELP, # UNIT or # EOF");
    l->kind = words[k].kind;
    c->i = 7;
    int rc = parse_name(c, 1, &l->name, &l->name_col);
    if (rc)
        return rc;
    if (at_end(c) && l->kind != L_TYPE) {
        l->text = copy(c, "", 0); /* an empty HELP or UNIT counts as absent */
        l->text_col = (int)c->i + 1;
        return BW_OK;
    }
    if ((rc = expect(c, ' ', "expected a space after the name")) != BW_OK)
        return rc;
    l->text_col = (int)c->i + 1;
    if (l->kind == L_HELP)
        return parse_escaped(c, 0, &l->text);
    l->text = copy(c, c->s + c->i, c->n - c->i);
    if (l->kind == L_UNIT) {
        for (const char *p = l->text; *p; p++)
            if (!is_name_char((unsigned char)*p, 1))
                return fail_at(c, c->i + (size_t)(p - l->text), "invalid character in unit");
        return BW_OK;
    }
    for (int t = 0; t < OM_TYPES; t++)
        if (strcmp(l->text, type_names[t]) == 0)
            return BW_OK;
    return fail_at(c, c->i,
                   "unknown type (expected counter, gauge, histogram, gaugehistogram, summary, "
                   "info, stateset or unknown)");
}

/* sample = metricname [labels] SP number [SP timestamp] [exemplar]
 * exemplar = SP "#" SP labels SP number [SP timestamp] */
static int parse_sample(struct cursor *c, struct line *l)
{
    l->kind = L_SAMPLE;
    int rc = parse_name(c, 1, &l->name, &l->name_col);
    if (rc == BW_OK && !at_end(c) && c->s[c->i] == '{')
        rc = parse_labels(c, l);
    if (rc == BW_OK)
        rc = expect(c, ' ', "expected a space before the value");
    if (rc == BW_OK)
        rc = parse_number(c, &l->value, &l->value_col, "expected a number");
    if (rc == BW_OK && !at_end(c) && c->i + 1 < c->n && c->s[c->i + 1] != '#') {
        c->i++;
        rc = parse_timestamp(c, &l->t_ms, &l->ts_col);
        l->has_ts = rc == BW_OK;
    }
    if (rc || at_end(c))
        return rc;
    /* an exemplar: checked, then ignored (the tsdb keeps none) */
    double ev;
    int col;
    int64_t et;
    if (c->n - c->i < 4 || memcmp(c->s + c->i, " # {", 4) != 0)
        return fail_at(c, c->i, "unexpected text after the sample");
    c->i += 3;
    rc = parse_labels(c, NULL);
    if (rc == BW_OK)
        rc = expect(c, ' ', "expected the exemplar's value");
    if (rc == BW_OK)
        rc = parse_number(c, &ev, &col, "expected the exemplar's value");
    if (rc == BW_OK && !at_end(c)) {
        c->i++;
        rc = parse_timestamp(c, &et, &col);
    }
    if (rc == BW_OK && !at_end(c))
        return fail_at(c, c->i, "unexpected text after the exemplar");
    return rc;
}

/* Parses one line (without its LF) into l, copies going to scratch (which holds 2n + 16
 * bytes). BW_OK, or BW_EINVAL with *msg and *col (1-based). */
static int parse_line(const char *s, size_t n, char *scratch, struct line *l, const char **msg,
                      int *col)
{
    struct cursor c = {s, n, 0, scratch, NULL, 0};
    memset(l, 0, offsetof(struct line, labels));
    const char *cr = memchr(s, '\r', n);
    int rc;
    if (cr)
        rc = fail_at(&c, (size_t)(cr - s), "carriage return (lines end with LF alone)");
    else if (n == 0)
        rc = fail_at(&c, 0, "empty line (OpenMetrics allows none)");
    else if (s[0] == '#')
        rc = parse_descriptor(&c, l);
    else
        rc = parse_sample(&c, l);
    if (rc) {
        *msg = c.err;
        *col = c.err_col;
    }
    return rc;
}

/* ---- what spans lines --------------------------------------------------------------------- */

struct family {
    char *name;
    enum om_type type;
    char *help, *unit; /* NULL when absent */
    int typed;         /* a # TYPE was given */
    int sampled;       /* its samples have begun: no more descriptors */
    uint64_t hash;
};

/* A series of the file: its sorted label set (strings in key), its newest timestamp so far
 * and the tsdb's ref once appended. */
struct series {
    uint64_t hash;
    uint64_t ref;
    int64_t last_t;
    size_t keylen;
    struct labelset ls;
    struct label *labels;
    char key[]; /* name\0value\0 ... in sorted order, then the labels array */
};

struct import {
    struct tsdb *db;
    const char *path;
    struct diag *d;
    int pass; /* 1: validate, 2: append */
    long lineno;
    size_t batch, pending;
    struct tsdb_import_stats st;

    struct family *fam; /* in file order; the last one is the current family */
    size_t nfam, fam_cap;
    struct series **map; /* open addressing; cap a power of two, at most half full */
    size_t map_cap, nseries;
    struct series **all;
    struct buf key; /* the key of the sample at hand */
};

static int err_at(struct import *im, int col, const char *fmt, ...) BW_PRINTF(3, 4);

static int err_at(struct import *im, int col, const char *fmt, ...)
{
    char msg[sizeof(im->d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return diag_at(im->d, BW_EINVAL, im->path, (int)im->lineno, col, "%s", msg);
}

static struct family *family_find(struct import *im, const char *name)
{
    for (size_t i = 0; i < im->nfam; i++) /* families are few next to samples */
        if (strcmp(im->fam[i].name, name) == 0)
            return &im->fam[i];
    return NULL;
}

/* Starts family name; it must not have been met before (families do not interleave). */
static int family_begin(struct import *im, const char *name, int col, struct family **out)
{
    struct family *f = family_find(im, name);
    if (f)
        return err_at(im, col,
                      "metric family %s appears again after other families (families "
                      "must not interleave)",
                      name);
    if (im->nfam == im->fam_cap) {
        size_t ncap = im->fam_cap ? 2 * im->fam_cap : 64;
        struct family *p = realloc(im->fam, ncap * sizeof(*p));
        if (!p)
            return diag_set(im->d, BW_ENOMEM, "import: out of memory");
        im->fam = p;
        im->fam_cap = ncap;
    }
    f = &im->fam[im->nfam];
    memset(f, 0, sizeof(*f));
    f->name = xstrdup(name);
    if (!f->name)
        return diag_set(im->d, BW_ENOMEM, "import: out of memory");
    im->nfam++;
    *out = f;
    return BW_OK;
}

/* # TYPE, # HELP, # UNIT: for the current family if it is name, else a new family. */
static int descriptor(struct import *im, const struct line *l)
{
    struct family *f = im->nfam ? &im->fam[im->nfam - 1] : NULL;
    static const char *const words[] = {[L_TYPE] = "TYPE", [L_HELP] = "HELP", [L_UNIT] = "UNIT"};
    int rc = BW_OK;
    if (!f || strcmp(f->name, l->name) != 0)
        rc = family_begin(im, l->name, l->name_col, &f);
    if (rc)
        return rc;
    if (f->sampled)
        return err_at(im, 1, "# %s for %s after its samples (descriptors come first)",
                      words[l->kind], l->name);
    if ((l->kind == L_TYPE && f->typed) || (l->kind == L_HELP && f->help) ||
        (l->kind == L_UNIT && f->unit))
        return err_at(im, 1, "second # %s for %s", words[l->kind], l->name);
    if (l->kind == L_TYPE) {
        for (int t = 0; t < OM_TYPES; t++)
            if (strcmp(l->text, type_names[t]) == 0)
                f->type = (enum om_type)t;
        f->typed = 1;
        return BW_OK;
    }
    if (l->kind == L_UNIT && *l->text) {
        size_t n = strlen(f->name), u = strlen(l->text);
        if (n <= u + 1 || f->name[n - u - 1] != '_' || strcmp(f->name + n - u, l->text) != 0)
            return err_at(im, l->text_col, "unit %s: the family name %s must end in _%s", l->text,
                          f->name, l->text);
    }
    char *copy = xstrdup(l->text);
    if (!copy)
        return diag_set(im->d, BW_ENOMEM, "import: out of memory");
    if (l->kind == L_HELP)
        f->help = copy;
    else
        f->unit = copy;
    return BW_OK;
}

/* The suffix of name after family f's name when f allows it; NULL otherwise. */
static const char *suffix_in(const struct family *f, const char *name)
{
    size_t n = strlen(f->name);
    if (strncmp(name, f->name, n) != 0)
        return NULL;
    for (size_t i = 0; i < BW_ARRAY_LEN(suffixes[0]) && suffixes[f->type][i]; i++)
        if (strcmp(name + n, suffixes[f->type][i]) == 0)
            return suffixes[f->type][i];
    return NULL;
}

/* What the suffixes of f's type are, for a message: "foo_total or foo_created". */
static void expected_names(const struct family *f, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < BW_ARRAY_LEN(suffixes[0]) && suffixes[f->type][i]; i++)
        len += (size_t)snprintf(out + len, len < outlen ? outlen - len : 0, "%s%s%s", i ? ", " : "",
                                f->name, suffixes[f->type][i]);
}

/* A float as Prometheus reads le and quantile: any strtod number, infinities included. */
static int float_text(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    return *s && !*end && !isnan(*out) && !strpbrk(s, "xX") ? BW_OK : BW_EINVAL;
}

static const char *label_value(const struct line *l, const char *name, int *col)
{
    for (size_t i = 0; i < l->nlabels; i++)
        if (strcmp(l->labels[i].name, name) == 0) {
            *col = l->label_col[i];
            return l->labels[i].value;
        }
    return NULL;
}

/* The rules OpenMetrics sets on values and on le and quantile, by type and suffix. */
static int check_sample(struct import *im, const struct family *f, const char *suffix,
                        const struct line *l)
{
    int lcol = 0, qcol = 0;
    const char *le = label_value(l, "le", &lcol);
    const char *q = label_value(l, "quantile", &qcol);
    double v = l->value, x;
    int bucket = strcmp(suffix, "_bucket") == 0;
    int histo = f->type == OM_HISTOGRAM || f->type == OM_GAUGEHISTOGRAM;
    int count = !strcmp(suffix, "_count") || !strcmp(suffix, "_gcount") || bucket;
    if (histo && bucket && !le)
        return err_at(im, l->name_col, "%s needs an le label", l->name);
    if (histo && !bucket && le)
        return err_at(im, lcol, "le is only allowed on %s_bucket", f->name);
    if (histo && le && float_text(le, &x) != BW_OK)
        return err_at(im, lcol, "le=\"%s\" is not a number", le);
    if (f->type == OM_SUMMARY && !*suffix && !q)
        return err_at(im, l->name_col, "%s needs a quantile label", l->name);
    if (f->type == OM_SUMMARY && *suffix && q)
        return err_at(im, qcol, "quantile is only allowed on %s itself", f->name);
    if (f->type == OM_SUMMARY && q && (float_text(q, &x) != BW_OK || x < 0 || x > 1))
        return err_at(im, qcol, "quantile=\"%s\" is not a number from 0 to 1", q);
    if (histo && count && !(v >= 0 && v == floor(v) && isfinite(v)))
        return err_at(im, l->value_col, "%s must be a non-negative integer", l->name);
    if (f->type == OM_COUNTER && !strcmp(suffix, "_total") && !(v >= 0))
        return err_at(im, l->value_col, "a counter must be a non-negative number, not NaN");
    if (f->type == OM_SUMMARY && !strcmp(suffix, "_count") && !(v >= 0 && v == floor(v)))
        return err_at(im, l->value_col, "%s must be a non-negative integer", l->name);
    if (f->type == OM_INFO && v != 1)
        return err_at(im, l->value_col, "an info metric's value must be 1");
    if (f->type == OM_STATESET && v != 0 && v != 1)
        return err_at(im, l->value_col, "a stateset's value must be 0 or 1");
    if (!l->has_ts)
        return err_at(im, l->value_col,
                      "a sample needs a timestamp (seconds since the epoch) to be imported");
    return BW_OK;
}

/* The family a sample belongs to: the current one when the name fits it, else a new untyped
 * family named after the sample. *suffix is the part of the name after the family's. */
static int sample_family(struct import *im, const struct line *l, struct family **out,
                         const char **suffix)
{
    struct family *f = im->nfam ? &im->fam[im->nfam - 1] : NULL;
    if (f && (*suffix = suffix_in(f, l->name)) != NULL) {
        *out = f;
        return BW_OK;
    }
    if (f && f->typed && strncmp(l->name, f->name, strlen(f->name)) == 0) {
        static const char *const any[] = {"",       "_total", "_created", "_bucket", "_sum",
                                          "_count", "_gsum",  "_gcount",  "_info"};
        for (size_t i = 0; i < BW_ARRAY_LEN(any); i++)
            if (strcmp(l->name + strlen(f->name), any[i]) == 0) {
                char want[256];
                expected_names(f, want, sizeof(want));
                return err_at(im, l->name_col, "%s is not a sample of %s %s (expected %s)", l->name,
                              type_names[f->type], f->name, want);
            }
    }
    int rc = family_begin(im, l->name, l->name_col, out);
    *suffix = "";
    return rc;
}

/* Builds the sample's series key in im->key: its label set sorted, __name__ included, empty
 * values dropped, as name\0value\0 pairs. Sets *h to its hash and *n to its label count.
 * BW_OK or BW_ENOMEM. */
static int series_key(struct import *im, const struct line *l, uint64_t *h, size_t *n)
{
    struct label sorted[MAX_LABELS + 1];
    int rc = BW_OK;
    size_t k = 0;
    sorted[k++] = (struct label){LABEL_NAME, l->name};
    for (size_t i = 0; i < l->nlabels; i++)
        if (*l->labels[i].value)
            sorted[k++] = l->labels[i];
    labels_sort(sorted, k);
    *n = k;
    buf_reset(&im->key);
    for (size_t i = 0; i < k && rc == BW_OK; i++) {
        rc = buf_append(&im->key, sorted[i].name, strlen(sorted[i].name) + 1);
        if (rc == BW_OK)
            rc = buf_append(&im->key, sorted[i].value, strlen(sorted[i].value) + 1);
    }
    if (rc)
        return diag_set(im->d, BW_ENOMEM, "import: out of memory");
    *h = hash_bytes(im->key.data, im->key.len, HASH_SEED);
    return BW_OK;
}

static struct series **map_slot(struct import *im, uint64_t h)
{
    size_t mask = im->map_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct series *s = im->map[i];
        if (!s ||
            (s->hash == h && s->keylen == im->key.len && !memcmp(s->key, im->key.data, s->keylen)))
            return &im->map[i];
    }
}

/* Adds the series whose key is in im->key. BW_OK or BW_ENOMEM. */
static int series_add(struct import *im, uint64_t h, size_t n, struct series **out)
{
    if (2 * (im->nseries + 1) > im->map_cap) {
        size_t ncap = im->map_cap ? 2 * im->map_cap : 1024;
        struct series **m = calloc(ncap, sizeof(*m));
        struct series **all = realloc(im->all, ncap / 2 * sizeof(*all));
        if (!m || !all) {
            free(m);
            if (all)
                im->all = all;
            return diag_set(im->d, BW_ENOMEM, "import: out of memory");
        }
        im->all = all;
        for (size_t i = 0; i < im->nseries; i++) {
            size_t j = all[i]->hash & (ncap - 1);
            while (m[j])
                j = (j + 1) & (ncap - 1);
            m[j] = all[i];
        }
        free(im->map);
        im->map = m;
        im->map_cap = ncap;
    }
    size_t at = (sizeof(struct series) + im->key.len + 15) & ~(size_t)15;
    struct series *s = calloc(1, at + n * sizeof(struct label));
    if (!s)
        return diag_set(im->d, BW_ENOMEM, "import: out of memory");
    s->hash = h;
    s->keylen = im->key.len;
    s->last_t = INT64_MIN;
    memcpy(s->key, im->key.data, im->key.len);
    s->labels = (struct label *)(void *)((char *)s + at);
    const char *p = s->key;
    for (size_t i = 0; i < n; i++) {
        s->labels[i].name = p;
        p += strlen(p) + 1;
        s->labels[i].value = p;
        p += strlen(p) + 1;
    }
    s->ls = (struct labelset){s->labels, n};
    *map_slot(im, h) = s;
    im->all[im->nseries++] = s;
    *out = s;
    return BW_OK;
}

/* Whether the tsdb already holds a sample of s at or after t: then appending from t on would
 * be refused half-way, so the first pass refuses the file. BW_OK, BW_ERANGE or the select's
 * error. */
static int check_against_db(struct import *im, const struct series *s, int64_t t, int col)
{
    struct tsdb_matcher m[MAX_LABELS + 1];
    struct arena a;
    struct tsdb_series *out = NULL;
    size_t nm = 0, nout = 0;
    struct diag sd = {0};
    int rc = BW_OK;
    arena_init(&a, 0);
    for (; nm < s->ls.n && rc == BW_OK; nm++)
        rc = tsdb_matcher_init(&m[nm], TSDB_MATCH_EQ, s->ls.v[nm].name, s->ls.v[nm].value, &sd);
    if (rc == BW_OK)
        rc = tsdb_select(im->db, m, nm, t, INT64_MAX, 0, 0, &a, &out, &nout, &sd);
    if (rc != BW_OK) {
        rc = diag_set(im->d, rc, "import: reading the tsdb: %s", sd.msg);
        goto out;
    }
    for (size_t i = 0; i < nout; i++)
        if (out[i].n && labelset_compare(&out[i].labels, &s->ls) == 0) {
            struct buf b;
            buf_init(&b, 1024);
            labelset_format(&s->ls, &b);
            rc = diag_at(im->d, BW_ERANGE, im->path, (int)im->lineno, col,
                         "the data directory already holds samples of %s at or after this "
                         "one's time (%.3f): importing it would overlap them",
                         b.data ? b.data : s->key, (double)t / 1000.0);
            buf_fini(&b);
            goto out;
        }
out:
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_fini(&m[i]);
    arena_fini(&a);
    return rc;
}

/* Pass 1: the family and the OpenMetrics rules for the sample. */
static int sample_check(struct import *im, const struct line *l)
{
    struct family *f;
    const char *suffix;
    int rc = sample_family(im, l, &f, &suffix);
    if (rc)
        return rc;
    f->sampled = 1;
    return check_sample(im, f, suffix, l);
}

/* A sample: pass 1 checks it and its series' time order (against the tsdb too, for a series
 * met for the first time); pass 2 appends it and commits every batch. */
static int sample(struct import *im, const struct line *l)
{
    uint64_t h;
    size_t n;
    int rc = im->pass == 1 ? sample_check(im, l) : BW_OK;
    if (rc == BW_OK)
        rc = series_key(im, l, &h, &n);
    if (rc)
        return rc;
    struct series *s = im->map_cap ? *map_slot(im, h) : NULL;
    if (im->pass == 2) {
        if (!s)
            return err_at(im, 1, "the file changed while it was being imported");
        rc = tsdb_append(im->db, &s->ls, l->t_ms, l->value, &s->ref);
        if (rc)
            return diag_at(im->d, rc, im->path, (int)im->lineno, l->ts_col,
                           "appending to the tsdb: %s (did the file change while it was being "
                           "imported?)",
                           bw_strerror(rc));
        if (++im->pending < im->batch)
            return BW_OK;
        im->pending = 0;
        return tsdb_commit(im->db, im->d);
    }
    if (!s) {
        rc = series_add(im, h, n, &s);
        if (rc == BW_OK && im->db)
            rc = check_against_db(im, s, l->t_ms, l->ts_col);
        if (rc)
            return rc;
    } else if (l->t_ms <= s->last_t) {
        return err_at(im, l->ts_col,
                      "timestamp %.3f is not after the previous sample of the series (%.3f): "
                      "samples of a series must be in time order",
                      (double)l->t_ms / 1000.0, (double)s->last_t / 1000.0);
    }
    s->last_t = l->t_ms;
    if (im->st.samples == 0 || l->t_ms < im->st.min_time)
        im->st.min_time = l->t_ms;
    if (im->st.samples == 0 || l->t_ms > im->st.max_time)
        im->st.max_time = l->t_ms;
    im->st.samples++;
    return BW_OK;
}

/* Reads the file once: validating (pass 1) or appending (pass 2). */
static int read_pass(struct import *im, FILE *f)
{
    char *line = NULL, *scratch = NULL;
    size_t cap = 0, scratch_cap = 0;
    ssize_t n;
    int rc = BW_OK, eof = 0;
    struct line *l = malloc(sizeof(*l));
    if (!l)
        return diag_set(im->d, BW_ENOMEM, "import: out of memory");
    im->lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        im->lineno++;
        if (eof) {
            rc = err_at(im, 1, "text after # EOF");
            goto out;
        }
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        if (2 * len + 16 > scratch_cap) {
            char *p = realloc(scratch, 2 * len + 16);
            if (!p) {
                rc = diag_set(im->d, BW_ENOMEM, "import: out of memory");
                goto out;
            }
            scratch = p;
            scratch_cap = 2 * len + 16;
        }
        const char *msg;
        int col;
        if (parse_line(line, len, scratch, l, &msg, &col) != BW_OK) {
            rc = err_at(im, col, "%s", msg);
            goto out;
        }
        if (l->kind == L_EOF)
            eof = 1;
        else if (l->kind == L_SAMPLE)
            rc = sample(im, l);
        else if (im->pass == 1)
            rc = descriptor(im, l);
        if (rc)
            goto out;
    }
    if (ferror(f)) {
        rc = diag_at(im->d, BW_EIO, im->path, 0, 0, "cannot read: %s", strerror(errno));
        goto out;
    }
    if (!eof)
        rc = diag_at(im->d, BW_EINVAL, im->path, (int)im->lineno + 1, 1,
                     "missing # EOF at the end (is the file truncated?)");
    im->st.lines = (uint64_t)im->lineno;
out:
    free(l);
    free(line);
    free(scratch);
    return rc;
}

/* Second pass: metadata first (it goes with the first commit), then the samples. */
static int append_pass(struct import *im, FILE *f)
{
    for (size_t i = 0; i < im->nfam; i++) {
        const struct family *fm = &im->fam[i];
        int rc = tsdb_metadata_set(im->db, fm->name, type_names[fm->type], fm->help ? fm->help : "",
                                   fm->unit ? fm->unit : "");
        if (rc)
            return diag_set(im->d, rc, "import: recording metadata of %s: %s", fm->name,
                            bw_strerror(rc));
    }
    im->pass = 2;
    rewind(f);
    int rc = read_pass(im, f);
    return rc ? rc : tsdb_commit(im->db, im->d);
}

int tsdb_import_openmetrics(struct tsdb *db, const char *path, const struct tsdb_import_options *o,
                            struct tsdb_import_stats *stats, struct diag *d)
{
    struct import im = {.db = db, .path = path, .d = d, .pass = 1};
    im.batch = o && o->batch_samples ? o->batch_samples : DEFAULT_BATCH;
    buf_init(&im.key, 0);
    int rc;
    FILE *f = fopen(path, "r");
    if (!f) {
        rc = diag_at(d, errno == ENOENT ? BW_ENOENT : BW_EIO, path, 0, 0, "cannot open: %s",
                     strerror(errno));
        goto out;
    }
    rc = read_pass(&im, f);
    if (rc == BW_OK && db)
        rc = append_pass(&im, f);
    if (rc == BW_OK && stats) {
        *stats = im.st;
        stats->series = im.nseries;
        stats->families = im.nfam;
    }
out:
    if (f)
        fclose(f);
    for (size_t i = 0; i < im.nfam; i++) {
        free(im.fam[i].name);
        free(im.fam[i].help);
        free(im.fam[i].unit);
    }
    free(im.fam);
    for (size_t i = 0; i < im.nseries; i++)
        free(im.all[i]);
    free(im.all);
    free(im.map);
    buf_fini(&im.key);
    return rc;
}
