/* ruletest.c: the runner for promtool's rule unit test files (`promtool test rules`, as
 * Prometheus 2.42's cmd/promtool/unittest.go runs them): per test, the input series are loaded
 * into an in-memory tsdb, every rule group is evaluated by the ruler at each evaluation
 * interval from 0 up to the largest eval_time, the firing alerts are compared with
 * exp_alerts at each alert test's time and the PromQL tests are run at the end; failures are
 * printed in promtool's words so that output can be compared line by line.
 *
 * Main data structure: the whole file read first into struct tfile (tests, input series with
 * their expanded values, expected alerts and samples, all in one arena), so that a malformed
 * file is refused with its position before anything runs.
 *
 * The one decision: the input series are appended whole before the first evaluation (up to the
 * last evaluation step, as far as promtool loads them), where promtool loads them step by step;
 * a query at t reads nothing after t, so the results are the same and the tsdb sees each series
 * in one go. */
#include <libgen.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alert/rules.h"
#include "conf/conf.h"
#include "promql/promqltest.h"
#include "tsdb/tsdb.h"

struct in_series {
    struct labelset ls;
    struct promqltest_values vs;
};

struct exp_alert {
    struct labelset labels, annotations;
};

struct alert_test {
    int64_t eval_time;
    const char *alertname;
    struct exp_alert *exp;
    size_t nexp;
};

struct exp_sample {
    const char *labels;
    const struct conf_node *node;
    double value;
};

struct expr_test {
    const char *expr;
    int64_t eval_time;
    struct exp_sample *exp;
    size_t nexp;
};

struct test {
    const char *name; /* "" when not given */
    int64_t interval_ms;
    struct in_series *in;
    size_t nin;
    struct alert_test *alerts;
    size_t nalerts;
    struct expr_test *exprs;
    size_t nexprs;
    struct labelset ext;
    const char *ext_url;
};

struct tfile {
    const struct conf_doc *doc;
    const char **rule_files; /* joined with the test file's directory */
    size_t nrule_files;
    int64_t eval_interval_ms;
    const char **order;
    size_t norder;
    struct test *tests;
    size_t ntests;
    struct arena a;
};

/* One run's output: the failures of the file so far. */
struct report {
    FILE *out;
    bool failed_file; /* "  FAILED:" printed */
    struct buf b;
};

/* ---- reading the file ---- */

/* A metric as `m{a="b"}` (promql/parser's ParseMetric): name and equality labels only, empty
 * values dropped; the label set in a. BW_OK or BW_EINVAL (msg says why), BW_ENOMEM. */
static int parse_metric(struct arena *a, const char *text, struct labelset *out, char *msg,
                        size_t msglen)
{
    struct tsdb_matcher *m = NULL;
    size_t nm = 0;
    struct promql_error perr = {0};
    int rc = BW_OK;
    if (promql_parse_selector(text, a, &m, &nm, &perr) != BW_OK) {
        snprintf(msg, msglen, "%s", perr.msg);
        return BW_EINVAL;
    }
    struct label *v = arena_alloc(a, (nm ? nm : 1) * sizeof(*v));
    size_t n = 0;
    if (!v)
        rc = BW_ENOMEM;
    for (size_t i = 0; i < nm && rc == BW_OK; i++) {
        if (m[i].op != TSDB_MATCH_EQ) {
            snprintf(msg, msglen, "%s: only label=\"value\" pairs can describe a series", text);
            rc = BW_EINVAL;
        } else if (*m[i].value) {
            v[n].name = arena_strdup(a, m[i].name);
            v[n].value = arena_strdup(a, m[i].value);
            if (!v[n].name || !v[n++].value)
                rc = BW_ENOMEM;
        }
    }
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_fini(&m[i]);
    if (rc == BW_OK) {
        labels_sort(v, n);
        *out = (struct labelset){v, n};
    }
    return rc;
}

static int read_series(struct tfile *f, const struct conf_node *n, struct in_series *is,
                       struct diag *d)
{
    static const char *const names[] = {"series", "values"};
    const struct conf_node *fv[2];
    const char *series = "", *values = "";
    char msg[512];
    int rc = conf_fields(f->doc, n, "main.series", names, 2, fv, d);
    if (rc == BW_OK && fv[0])
        rc = conf_string(f->doc, fv[0], "series", &series, d);
    if (rc == BW_OK && fv[1])
        rc = conf_string(f->doc, fv[1], "values", &values, d);
    if (rc != BW_OK)
        return rc;
    rc = parse_metric(&f->a, series, &is->ls, msg, sizeof(msg));
    if (rc == BW_EINVAL)
        return conf_err(f->doc, fv[0] ? fv[0] : n, d, "series: %s", msg);
    if (rc == BW_OK && !labelset_get(&is->ls, LABEL_NAME))
        return conf_err(f->doc, fv[0] ? fv[0] : n, d, "series %s: no metric name", series);
    if (rc == BW_OK)
        rc = promqltest_parse_values(&f->a, values, &is->vs, msg, sizeof(msg));
    if (rc == BW_EINVAL)
        return conf_err(f->doc, fv[1] ? fv[1] : n, d, "values: %s", msg);
    return rc;
}

static int read_alert_test(struct tfile *f, const struct conf_node *n, struct alert_test *at,
                           struct diag *d)
{
    static const char *const names[] = {"eval_time", "alertname", "exp_alerts"};
    static const char *const anames[] = {"exp_labels", "exp_annotations"};
    const struct conf_node *fv[3];
    int rc = conf_fields(f->doc, n, "main.alertTestCase", names, 3, fv, d);
    at->alertname = "";
    if (rc == BW_OK && fv[0])
        rc = conf_duration(f->doc, fv[0], "eval_time", &at->eval_time, d);
    if (rc == BW_OK && fv[1])
        rc = conf_string(f->doc, fv[1], "alertname", &at->alertname, d);
    if (rc != BW_OK || !fv[2] || conf_is_null(fv[2]))
        return rc;
    if (conf_kind(fv[2]) != CONF_SEQ)
        return conf_err(f->doc, fv[2], d, "exp_alerts: expected a list");
    at->nexp = conf_len(fv[2]);
    at->exp = arena_calloc(&f->a, at->nexp ? at->nexp : 1, sizeof(*at->exp));
    if (!at->exp)
        return BW_ENOMEM;
    for (size_t i = 0; i < at->nexp && rc == BW_OK; i++) {
        const struct conf_node *av[2];
        struct label *v;
        size_t nv;
        rc = conf_fields(f->doc, conf_item(fv[2], i), "main.alert", anames, 2, av, d);
        if (rc == BW_OK && av[0] && !conf_is_null(av[0]) &&
            (rc = conf_labels(f->doc, av[0], "exp_labels", &f->a, &v, &nv, d)) == BW_OK)
            at->exp[i].labels = (struct labelset){v, nv};
        if (rc == BW_OK && av[1] && !conf_is_null(av[1]) &&
            (rc = conf_labels(f->doc, av[1], "exp_annotations", &f->a, &v, &nv, d)) == BW_OK)
            at->exp[i].annotations = (struct labelset){v, nv};
    }
    return rc;
}

/* A sample's value: a number, or YAML's infinities and NaN (.inf, -.inf, .nan, as YAML 1.1
 * spells them), which Go's yaml reads into a float64 and conf_double, finite only, refuses. */
static int read_value(const struct conf_doc *doc, const struct conf_node *n, double *out,
                      struct diag *d)
{
    static const char *const inf[] = {".inf", ".Inf", ".INF"}, *const nan[] = {".nan", ".NaN",
                                                                               ".NAN"};
    const char *s = conf_kind(n) == CONF_SCALAR ? conf_scalar(n, NULL) : NULL;
    for (size_t i = 0; s && i < BW_ARRAY_LEN(inf); i++) {
        const char *t = s + (*s == '+' || *s == '-');
        if (strcmp(t, inf[i]) == 0) {
            *out = *s == '-' ? -INFINITY : INFINITY;
            return BW_OK;
        }
        if (strcmp(s, nan[i]) == 0) {
            *out = NAN;
            return BW_OK;
        }
    }
    return conf_double(doc, n, "value", out, d);
}

static int read_expr_test(struct tfile *f, const struct conf_node *n, struct expr_test *et,
                          struct diag *d)
{
    static const char *const names[] = {"expr", "eval_time", "exp_samples"};
    static const char *const snames[] = {"labels", "value"};
    const struct conf_node *fv[3];
    int rc = conf_fields(f->doc, n, "main.promqlTestCase", names, 3, fv, d);
    et->expr = "";
    if (rc == BW_OK && fv[0])
        rc = conf_string(f->doc, fv[0], "expr", &et->expr, d);
    if (rc == BW_OK && fv[1])
        rc = conf_duration(f->doc, fv[1], "eval_time", &et->eval_time, d);
    if (rc != BW_OK || !fv[2] || conf_is_null(fv[2]))
        return rc;
    if (conf_kind(fv[2]) != CONF_SEQ)
        return conf_err(f->doc, fv[2], d, "exp_samples: expected a list");
    et->nexp = conf_len(fv[2]);
    et->exp = arena_calloc(&f->a, et->nexp ? et->nexp : 1, sizeof(*et->exp));
    if (!et->exp)
        return BW_ENOMEM;
    for (size_t i = 0; i < et->nexp && rc == BW_OK; i++) {
        const struct conf_node *sv[2];
        et->exp[i].labels = "";
        et->exp[i].node = conf_item(fv[2], i);
        rc = conf_fields(f->doc, et->exp[i].node, "main.sample", snames, 2, sv, d);
        if (rc == BW_OK && sv[0])
            rc = conf_string(f->doc, sv[0], "labels", &et->exp[i].labels, d);
        if (rc == BW_OK && sv[1])
            rc = read_value(f->doc, sv[1], &et->exp[i].value, d);
    }
    return rc;
}

/* The items of list node n (absent or null: none) read by fn into an array of size bytes. */
static int read_list(struct tfile *f, const struct conf_node *n, const char *key, size_t size,
                     void **out, size_t *nout, struct diag *d,
                     int (*fn)(struct tfile *, const struct conf_node *, void *, struct diag *))
{
    *nout = 0;
    if (!n || conf_is_null(n))
        return BW_OK;
    if (conf_kind(n) != CONF_SEQ)
        return conf_err(f->doc, n, d, "%s: expected a list", key);
    size_t len = conf_len(n);
    char *v = arena_calloc(&f->a, len ? len : 1, size);
    if (!v)
        return BW_ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int rc = fn(f, conf_item(n, i), v + i * size, d);
        if (rc != BW_OK)
            return rc;
    }
    *out = v;
    *nout = len;
    return BW_OK;
}

static int series_fn(struct tfile *f, const struct conf_node *n, void *p, struct diag *d)
{
    return read_series(f, n, p, d);
}
static int alert_fn(struct tfile *f, const struct conf_node *n, void *p, struct diag *d)
{
    return read_alert_test(f, n, p, d);
}
static int expr_fn(struct tfile *f, const struct conf_node *n, void *p, struct diag *d)
{
    return read_expr_test(f, n, p, d);
}

static int read_test(struct tfile *f, const struct conf_node *n, void *p, struct diag *d)
{
    static const char *const names[] = {
        "interval",     "input_series", "alert_rule_test", "promql_expr_test", "external_labels",
        "external_url", "name"};
    const struct conf_node *fv[7];
    struct test *t = p;
    struct label *el = NULL;
    size_t nel = 0;
    int rc = conf_fields(f->doc, n, "main.testGroup", names, 7, fv, d);
    t->name = "";
    t->ext_url = "";
    if (rc == BW_OK && fv[0])
        rc = conf_duration(f->doc, fv[0], "interval", &t->interval_ms, d);
    if (rc == BW_OK)
        rc = read_list(f, fv[1], "input_series", sizeof(*t->in), (void **)&t->in, &t->nin, d,
                       series_fn);
    if (rc == BW_OK)
        rc = read_list(f, fv[2], "alert_rule_test", sizeof(*t->alerts), (void **)&t->alerts,
                       &t->nalerts, d, alert_fn);
    if (rc == BW_OK)
        rc = read_list(f, fv[3], "promql_expr_test", sizeof(*t->exprs), (void **)&t->exprs,
                       &t->nexprs, d, expr_fn);
    if (rc == BW_OK && fv[4] && !conf_is_null(fv[4]) &&
        (rc = conf_labels(f->doc, fv[4], "external_labels", &f->a, &el, &nel, d)) == BW_OK)
        t->ext = (struct labelset){el, nel};
    if (rc == BW_OK && fv[5])
        rc = conf_string(f->doc, fv[5], "external_url", &t->ext_url, d);
    if (rc == BW_OK && fv[6])
        rc = conf_string(f->doc, fv[6], "name", &t->name, d);
    if (rc == BW_OK && t->interval_ms == 0)
        t->interval_ms = f->eval_interval_ms;
    for (size_t i = 0; rc == BW_OK && i < t->nalerts; i++)
        if (!*t->alerts[i].alertname)
            return conf_err(f->doc, fv[2] ? conf_item(fv[2], i) : n, d,
                            "an item under alert_rule_test misses required attribute "
                            "alertname");
    return rc;
}

/* rule_files relative to the test file's directory, as promtool resolves them. */
static int resolve_rule_files(struct tfile *f, const char *path)
{
    char *copy = xstrdup(path);
    if (!copy)
        return BW_ENOMEM;
    const char *dir = dirname(copy);
    for (size_t i = 0; i < f->nrule_files; i++) {
        const char *rf = f->rule_files[i];
        if (!*rf || rf[0] == '/')
            continue;
        size_t n = strlen(dir) + strlen(rf) + 2;
        char *j = arena_alloc(&f->a, n);
        if (!j) {
            free(copy);
            return BW_ENOMEM;
        }
        snprintf(j, n, "%s/%s", dir, rf);
        f->rule_files[i] = j;
    }
    free(copy);
    return BW_OK;
}

static int read_file(struct tfile *f, const char *path, struct diag *d)
{
    static const char *const names[] = {"rule_files", "evaluation_interval", "group_eval_order",
                                        "tests"};
    const struct conf_node *fv[4], *root = conf_doc_root(f->doc);
    f->eval_interval_ms = 0;
    if (!root)
        return BW_OK;
    int rc = conf_fields(f->doc, root, "main.unitTestFile", names, 4, fv, d);
    if (rc == BW_OK && fv[0] && !conf_is_null(fv[0]))
        rc = conf_strings(f->doc, fv[0], "rule_files", &f->a, &f->rule_files, &f->nrule_files, d);
    if (rc == BW_OK && fv[1])
        rc = conf_duration(f->doc, fv[1], "evaluation_interval", &f->eval_interval_ms, d);
    if (rc == BW_OK && f->eval_interval_ms == 0)
        f->eval_interval_ms = 60000;
    if (rc == BW_OK && fv[2] && !conf_is_null(fv[2]))
        rc = conf_strings(f->doc, fv[2], "group_eval_order", &f->a, &f->order, &f->norder, d);
    for (size_t i = 0; rc == BW_OK && i < f->norder; i++)
        for (size_t k = 0; k < i; k++)
            if (strcmp(f->order[i], f->order[k]) == 0)
                return conf_err(f->doc, conf_item(fv[2], i), d,
                                "group name repeated in evaluation order: %s", f->order[i]);
    if (rc == BW_OK)
        rc = read_list(f, fv[3], "tests", sizeof(*f->tests), (void **)&f->tests, &f->ntests, d,
                       read_test);
    if (rc == BW_OK)
        rc = resolve_rule_files(f, path);
    return rc;
}

/* ---- promtool's ways of printing ---- */

/* A duration as Prometheus's model.Duration prints it: "5m", "1h30m", "0s". */
static void model_duration(int64_t ms, char out[48])
{
    static const struct {
        const char *unit;
        int64_t mult;
        bool exact;
    } units[] = {{"y", 31536000000LL, true},
                 {"w", 604800000LL, true},
                 {"d", 86400000LL, false},
                 {"h", 3600000LL, false},
                 {"m", 60000LL, false},
                 {"s", 1000LL, false},
                 {"ms", 1, false}};
    size_t n = 0;
    if (ms == 0) {
        snprintf(out, 48, "0s");
        return;
    }
    out[0] = '\0';
    for (size_t i = 0; i < BW_ARRAY_LEN(units) && n < 40; i++) {
        if (units[i].exact && ms % units[i].mult != 0)
            continue;
        int64_t v = ms / units[i].mult;
        if (v > 0) {
            n += (size_t)snprintf(out + n, 48 - n, "%lld%s", (long long)v, units[i].unit);
            ms -= v * units[i].mult;
        }
    }
}

/* A duration as Go's time.Duration prints it: "5m0s", "1h0m30s", "1.5s", "250ms", "0s". */
static void go_duration(int64_t ms, char out[48])
{
    if (ms == 0) {
        snprintf(out, 48, "0s");
        return;
    }
    if (ms < 1000) {
        snprintf(out, 48, "%lldms", (long long)ms);
        return;
    }
    int64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
    size_t n = 0;
    if (h)
        n += (size_t)snprintf(out + n, 48 - n, "%lldh", (long long)h);
    if (h || m)
        n += (size_t)snprintf(out + n, 48 - n, "%lldm", (long long)m);
    n += (size_t)snprintf(out + n, 48 - n, "%lld", (long long)s);
    if (frac) {
        char f[8];
        snprintf(f, sizeof(f), "%03lld", (long long)frac);
        for (size_t k = strlen(f); k > 0 && f[k - 1] == '0'; k--)
            f[k - 1] = '\0';
        n += (size_t)snprintf(out + n, 48 - n, ".%s", f);
    }
    snprintf(out + n, 48 - n, "s");
}

/* Labels as Go's labels.Labels.String: {a="b", c="d"}. */
static int put_labels(struct buf *b, const struct labelset *ls)
{
    int rc = buf_putc(b, '{');
    for (size_t i = 0; i < ls->n && rc == BW_OK; i++) {
        if (i > 0)
            rc = buf_puts(b, ", ");
        if (rc == BW_OK)
            rc = buf_printf(b, "%s=", ls->v[i].name);
        if (rc == BW_OK)
            rc = buf_put_goquoted(b, ls->v[i].value);
    }
    return rc == BW_OK ? buf_putc(b, '}') : rc;
}

/* A float as Go's strconv.FormatFloat(v, 'E', -1, 64), as promtool prints samples. */
static int put_float_e(struct buf *b, double v)
{
    char tmp[32];
    fmt_double_exp(tmp, v, 1);
    return buf_puts(b, tmp);
}

static void failure(struct report *rp, struct ruletest_counts *c, bool *test_failed)
{
    if (!rp->failed_file)
        fputs("  FAILED:\n", rp->out);
    rp->failed_file = true;
    if (!*test_failed)
        c->failed++;
    *test_failed = true;
    fprintf(rp->out, "%s\n\n", rp->b.data ? rp->b.data : "");
    buf_reset(&rp->b);
}

/* ---- comparing alerts ---- */

static int cmp_exp_alert(const void *a, const void *b)
{
    const struct exp_alert *x = a, *y = b;
    int c = labelset_compare(&x->labels, &y->labels);
    return c ? c : labelset_compare(&x->annotations, &y->annotations);
}

/* promtool's labelsAndAnnotations.String, each line after the first indented by 12. */
static int put_alert_list(struct buf *b, const struct exp_alert *v, size_t n)
{
    static const char *const ind = "\n            ";
    if (n == 0)
        return buf_puts(b, "[]");
    int rc = buf_puts(b, "[");
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        rc = buf_printf(b, "%s%s%zu:%s  Labels:", i ? "," : "", ind, i, ind);
        if (rc == BW_OK)
            rc = put_labels(b, &v[i].labels);
        if (rc == BW_OK)
            rc = buf_printf(b, "%s  Annotations:", ind);
        if (rc == BW_OK)
            rc = put_labels(b, &v[i].annotations);
    }
    return rc == BW_OK ? buf_printf(b, "%s]", ind) : rc;
}

static bool alerts_equal(const struct exp_alert *a, const struct exp_alert *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (labelset_compare(&a[i].labels, &b[i].labels) != 0 ||
            labelset_compare(&a[i].annotations, &b[i].annotations) != 0)
            return false;
    return true;
}

/* The expected alerts of at: exp_labels with alertname set, in arena a. */
static int expected_alerts(struct arena *a, const struct alert_test *at, struct exp_alert **out)
{
    struct exp_alert *v = arena_calloc(a, at->nexp ? at->nexp : 1, sizeof(*v));
    if (!v)
        return BW_ENOMEM;
    for (size_t i = 0; i < at->nexp; i++) {
        const struct labelset *el = &at->exp[i].labels;
        struct label *l = arena_alloc(a, (el->n + 1) * sizeof(*l));
        size_t n = 0;
        if (!l)
            return BW_ENOMEM;
        for (size_t k = 0; k < el->n; k++)
            if (strcmp(el->v[k].name, "alertname") != 0)
                l[n++] = el->v[k];
        l[n++] = (struct label){"alertname", at->alertname};
        labels_sort(l, n);
        v[i].labels = (struct labelset){l, n};
        v[i].annotations = at->exp[i].annotations;
    }
    qsort(v, at->nexp, sizeof(*v), cmp_exp_alert);
    *out = v;
    return BW_OK;
}

/* The firing alerts of every rule named name in the snapshot, in a. */
static int firing_alerts(struct arena *a, const struct ruler_snapshot *s, const char *name,
                         struct exp_alert **out, size_t *nout)
{
    struct exp_alert *v = NULL;
    size_t n = 0, cap = 0;
    for (size_t g = 0; g < s->ngroups; g++) {
        for (size_t r = 0; r < s->groups[g].nrules; r++) {
            const struct ruler_rule_snap *rr = &s->groups[g].rules[r];
            if (rr->rule->kind != RULE_ALERT || strcmp(rr->rule->name, name) != 0)
                continue;
            for (size_t i = 0; i < rr->nalerts; i++) {
                if (rr->alerts[i].state != ALERT_FIRING)
                    continue;
                if (!(v = arena_grow(a, v, n, &cap, sizeof(*v))))
                    return BW_ENOMEM;
                v[n++] = (struct exp_alert){rr->alerts[i].labels, rr->alerts[i].annotations};
            }
        }
    }
    if (n > 1)
        qsort(v, n, sizeof(*v), cmp_exp_alert);
    *out = v;
    *nout = n;
    return BW_OK;
}

static int check_alerts(struct report *rp, const struct test *t, const struct alert_test *at,
                        const struct ruler_snapshot *s, struct arena *a, bool *failed,
                        struct ruletest_counts *c)
{
    struct exp_alert *exp = NULL, *got = NULL;
    size_t ngot = 0;
    int rc = expected_alerts(a, at, &exp);
    if (rc == BW_OK)
        rc = firing_alerts(a, s, at->alertname, &got, &ngot);
    if (rc != BW_OK || (ngot == at->nexp && alerts_equal(exp, got, ngot)))
        return rc;
    char when[48];
    model_duration(at->eval_time, when);
    buf_reset(&rp->b);
    if (*t->name)
        rc = buf_printf(&rp->b, "    name: %s,\n", t->name);
    if (rc == BW_OK)
        rc = buf_printf(&rp->b, "    alertname: %s, time: %s, \n        exp:", at->alertname, when);
    if (rc == BW_OK)
        rc = put_alert_list(&rp->b, exp, at->nexp);
    if (rc == BW_OK)
        rc = buf_puts(&rp->b, ", \n        got:");
    if (rc == BW_OK)
        rc = put_alert_list(&rp->b, got, ngot);
    failure(rp, c, failed);
    return rc;
}

/* ---- comparing samples ---- */

struct sample {
    struct labelset ls;
    double v;
};

static int cmp_sample(const void *a, const void *b)
{
    return labelset_compare(&((const struct sample *)a)->ls, &((const struct sample *)b)->ls);
}

static int put_samples(struct buf *b, const struct sample *v, size_t n)
{
    int rc = n ? BW_OK : buf_puts(b, "nil");
    for (size_t i = 0; i < n && rc == BW_OK; i++) {
        if (i > 0)
            rc = buf_puts(b, ", ");
        if (rc == BW_OK)
            rc = put_labels(b, &v[i].ls);
        if (rc == BW_OK)
            rc = buf_putc(b, ' ');
        if (rc == BW_OK)
            rc = put_float_e(b, v[i].v);
    }
    return rc;
}

static int check_expr(struct report *rp, struct tsdb *db, const struct expr_test *et,
                      struct arena *a, bool *failed, struct ruletest_counts *c)
{
    struct promql_result *res = NULL;
    struct promql_error perr = {0};
    struct sample *got = NULL, *exp = NULL;
    size_t ngot = 0;
    char when[48], msg[600];
    int rc;
    model_duration(et->eval_time, when);
    buf_reset(&rp->b);
    if ((rc = buf_puts(&rp->b, "    expr: ")) != BW_OK ||
        (rc = buf_put_goquoted(&rp->b, et->expr)) != BW_OK ||
        (rc = buf_printf(&rp->b, ", time: %s", when)) != BW_OK)
        return rc;
    rc = promql_query_instant(db, NULL, et->expr, et->eval_time, &res, &perr);
    if (rc == BW_ENOMEM)
        return rc;
    if (rc == BW_OK && res->type != PROMQL_VECTOR && res->type != PROMQL_SCALAR)
        snprintf(perr.msg, sizeof(perr.msg), "rule result is not a vector or scalar");
    else if (rc == BW_OK)
        perr.msg[0] = '\0';
    if (perr.msg[0]) {
        rc = buf_printf(&rp->b, ", err: %s", perr.msg);
        failure(rp, c, failed);
        goto done;
    }
    ngot = res->n;
    got = arena_calloc(a, ngot ? ngot : 1, sizeof(*got));
    exp = arena_calloc(a, et->nexp ? et->nexp : 1, sizeof(*exp));
    if (!got || !exp) {
        rc = BW_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < ngot; i++) {
        got[i].ls = res->type == PROMQL_SCALAR ? (struct labelset){NULL, 0} : res->series[i].labels;
        got[i].v = res->series[i].v[0];
    }
    for (size_t i = 0; i < et->nexp; i++) {
        rc = parse_metric(a, et->exp[i].labels, &exp[i].ls, msg, sizeof(msg));
        if (rc == BW_EINVAL) {
            rc = buf_printf(&rp->b, ", err: labels \"%s\": %s", et->exp[i].labels, msg);
            failure(rp, c, failed);
            goto done;
        }
        if (rc != BW_OK)
            goto done;
        exp[i].v = et->exp[i].value;
    }
    qsort(got, ngot, sizeof(*got), cmp_sample);
    qsort(exp, et->nexp, sizeof(*exp), cmp_sample);
    bool same = ngot == et->nexp;
    for (size_t i = 0; same && i < ngot; i++)
        same = labelset_compare(&got[i].ls, &exp[i].ls) == 0 && got[i].v == exp[i].v;
    if (!same) {
        if ((rc = buf_puts(&rp->b, ",\n        exp: ")) == BW_OK &&
            (rc = put_samples(&rp->b, exp, et->nexp)) == BW_OK &&
            (rc = buf_puts(&rp->b, "\n        got: ")) == BW_OK)
            rc = put_samples(&rp->b, got, ngot);
        failure(rp, c, failed);
    }
done:
    promql_result_free(res);
    return rc;
}

/* ---- running a test ---- */

/* The input series up to until (ms): promtool loads samples step by step with the
 * evaluations, so its PromQL tests, run after the last one, see nothing later. */
static int load_series(struct tsdb *db, const struct test *t, int64_t until, struct diag *d)
{
    for (size_t i = 0; i < t->nin; i++) {
        const struct in_series *is = &t->in[i];
        uint64_t ref = 0;
        for (size_t k = 0; k < is->vs.n && (int64_t)k * t->interval_ms <= until; k++) {
            if (is->vs.omitted[k])
                continue;
            int rc = tsdb_append(db, &is->ls, (int64_t)k * t->interval_ms, is->vs.v[k], &ref);
            if (rc == BW_EINVAL)
                return diag_set(d, rc, "input series with an invalid label set");
            if (rc != BW_OK && rc != BW_ERANGE)
                return diag_set(d, rc, "loading the input series failed");
        }
    }
    return BW_OK;
}

/* The groups of rs in the evaluation order of group_eval_order (a partial order: a group it
 * does not name counts as its first). */
static int eval_order(const struct tfile *f, const struct rule_set *rs, struct arena *a,
                      size_t **out)
{
    size_t *idx = arena_alloc(a, (rs->ngroups ? rs->ngroups : 1) * sizeof(*idx));
    size_t *key = arena_alloc(a, (rs->ngroups ? rs->ngroups : 1) * sizeof(*key));
    if (!idx || !key)
        return BW_ENOMEM;
    for (size_t i = 0; i < rs->ngroups; i++) {
        idx[i] = i;
        key[i] = 0;
        for (size_t k = 0; k < f->norder; k++)
            if (strcmp(f->order[k], rs->groups[i].name) == 0)
                key[i] = k;
    }
    for (size_t i = 1; i < rs->ngroups; i++) /* stable insertion sort by key */
        for (size_t k = i; k > 0 && key[idx[k - 1]] > key[idx[k]]; k--) {
            size_t tmp = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = tmp;
        }
    *out = idx;
    return BW_OK;
}

/* Rule errors of the evaluation at ts, as promtool reports them. */
static int check_rule_errors(struct report *rp, const struct ruler_snapshot *s, int64_t ts,
                             bool *failed, bool *stop, struct ruletest_counts *c)
{
    char when[48];
    go_duration(ts, when);
    for (size_t g = 0; g < s->ngroups; g++) {
        for (size_t r = 0; r < s->groups[g].nrules; r++) {
            const struct ruler_rule_snap *rr = &s->groups[g].rules[r];
            if (!*rr->last_error)
                continue;
            buf_reset(&rp->b);
            int rc = buf_printf(&rp->b, "    rule: %s, time: %s, err: %s", rr->rule->name, when,
                                rr->last_error);
            failure(rp, c, failed);
            *stop = true;
            if (rc != BW_OK)
                return rc;
        }
    }
    return BW_OK;
}

static int cmp_eval_time(const void *a, const void *b)
{
    int64_t x = (*(const struct alert_test *const *)a)->eval_time,
            y = (*(const struct alert_test *const *)b)->eval_time;
    return x < y ? -1 : x > y;
}

static int run_test(const struct tfile *f, const struct test *t, struct report *rp,
                    struct ruletest_counts *c, struct diag *d)
{
    struct tsdb *db = NULL;
    struct ruler *r = NULL;
    struct rule_set *rs = NULL;
    struct arena a;
    size_t *order = NULL;
    bool failed = false, stop = false;
    int64_t maxt = 0;
    arena_init(&a, 0);
    for (size_t i = 0; i < t->nalerts; i++)
        if (t->alerts[i].eval_time > maxt)
            maxt = t->alerts[i].eval_time;
    for (size_t i = 0; i < t->nexprs; i++)
        if (t->exprs[i].eval_time > maxt)
            maxt = t->exprs[i].eval_time;
    int rc = tsdb_open(NULL, NULL, &db, d);
    if (rc == BW_OK)
        rc = load_series(db, t, maxt - maxt % f->eval_interval_ms, d);
    if (rc == BW_OK)
        rc = rule_set_load(f->rule_files, f->nrule_files, &rs, d);
    if (rc != BW_OK)
        goto done;
    struct ruler_options o = {
        .interval_ms = t->interval_ms, .external_labels = &t->ext, .external_url = t->ext_url};
    if ((rc = ruler_new(db, &o, NULL, &r)) != BW_OK ||
        (rc = eval_order(f, rs, &a, &order)) != BW_OK)
        goto done;
    size_t ngroups = rs->ngroups;
    rc = ruler_set_rules(r, rs); /* rs is the ruler's, or freed */
    rs = NULL;
    if (rc != BW_OK)
        goto done;

    /* The alert tests by eval time, checked at the evaluation at or just before it. */
    const struct alert_test **ats = arena_alloc(&a, (t->nalerts + 1) * sizeof(*ats));
    if (!ats) {
        rc = BW_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i < t->nalerts; i++)
        ats[i] = &t->alerts[i];
    qsort(ats, t->nalerts, sizeof(*ats), cmp_eval_time);
    size_t next = 0;
    for (int64_t ts = 0; ts <= maxt && !stop && rc == BW_OK; ts += f->eval_interval_ms) {
        struct ruler_snapshot *s = NULL;
        for (size_t g = 0; g < ngroups && rc == BW_OK; g++)
            rc = ruler_eval_group(r, order[g], ts);
        if (rc != BW_OK || (rc = ruler_snapshot(r, &s)) != BW_OK)
            break;
        rc = check_rule_errors(rp, s, ts, &failed, &stop, c);
        for (; rc == BW_OK && !stop && next < t->nalerts && ats[next]->eval_time >= ts &&
               ats[next]->eval_time < ts + f->eval_interval_ms;
             next++)
            rc = check_alerts(rp, t, ats[next], s, &a, &failed, c);
        ruler_snapshot_free(s);
    }
    for (size_t i = 0; i < t->nexprs && !stop && rc == BW_OK; i++)
        rc = check_expr(rp, db, &t->exprs[i], &a, &failed, c);
    if (rc == BW_ENOMEM || rc == BW_ENOSPC)
        diag_set(d, BW_ENOMEM, "out of memory running the tests");
done:
    rule_set_free(rs);
    ruler_free(r);
    tsdb_close(db);
    arena_fini(&a);
    return rc;
}

int ruletest_run_file(const char *path, FILE *out, struct ruletest_counts *c, struct diag *d)
{
    struct conf_doc *doc = NULL;
    struct tfile f = {0};
    struct report rp = {.out = out};
    arena_init(&f.a, 0);
    buf_init(&rp.b, 0);
    int rc = conf_doc_load(path, &doc, d);
    if (rc != BW_OK)
        goto done;
    f.doc = doc;
    if ((rc = read_file(&f, path, d)) != BW_OK)
        goto done;
    for (size_t i = 0; i < f.ntests && rc == BW_OK; i++) {
        c->tests++;
        rc = run_test(&f, &f.tests[i], &rp, c, d);
    }
done:
    conf_doc_free(doc);
    arena_fini(&f.a);
    buf_fini(&rp.b);
    return rc;
}
