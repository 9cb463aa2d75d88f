/* rules: Prometheus rule files and their evaluation — loading and validating groups of
 * alerting and recording rules (rulefile.c), the annotation and label templates (template.c),
 * the evaluator that runs each group on its interval against the tsdb with Prometheus's alert
 * state machine and writes recording-rule output, ALERTS and ALERTS_FOR_STATE (ruler.c), and
 * the runner for promtool's rule unit test files (ruletest.c).
 *
 * Reference: ../shared/reference/prometheus-compat.md §5.1–5.2. */
#ifndef BW_RULES_H
#define BW_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alert/alert.h"
#include "base/base.h"
#include "promql/promql.h"

struct tsdb;

/* ---- rule files (rulefile.c) ---- */

enum rule_kind { RULE_ALERT, RULE_RECORD };

struct rule {
    enum rule_kind kind;
    const char *name;           /* `alert:` or `record:` */
    const char *expr;           /* as written */
    int64_t for_ms;             /* alerting rules */
    int64_t keep_firing_for_ms; /* alerting rules */
    struct label *labels;       /* values are templates; sorted by name */
    size_t nlabels;
    struct label *annotations; /* templates; sorted by name; alerting rules only */
    size_t nannotations;
    int line, col; /* of the rule's first key in its file */
};

struct rule_group {
    const char *name;
    const char *file;        /* the path it was loaded from */
    int64_t interval_ms;     /* 0: the evaluator's default */
    int64_t query_offset_ms; /* evaluate at t - offset */
    size_t limit;            /* alerts or series per rule; 0: none */
    struct label *labels;    /* group labels, added to every rule's (the rule's win) */
    size_t nlabels;
    struct rule *rules;
    size_t nrules;
};

/* Every group of a set of files, in file order then group order; everything in arena. */
struct rule_set {
    struct rule_group *groups;
    size_t ngroups;
    size_t nfiles;
    struct arena arena;
};

/* Loads and validates rule files as Prometheus does (rulefmt: unknown keys refused, group
 * names unique per file, exactly one of alert/record, expr parses, record a valid metric
 * name, no for/keep_firing_for/annotations on a recording rule, label names valid, templates
 * parse). A path may be a glob(3) pattern: one matching nothing is no error, a plain path
 * that does not exist is. Each error is "file:line:col: what" in d.
 * BW_OK and *out; BW_EINVAL, BW_ENOENT / BW_EIO, BW_ENOMEM. */
int rule_set_load(const char *const *paths, size_t npaths, struct rule_set **out, struct diag *d);
/* rule_set_load with each expression parsed under query (NULL: promql's defaults, as
 * rule_set_load does) — pass the options the rules will be evaluated with, so that what loads
 * is what evaluates (enable_experimental decides which functions parse). */
int rule_set_load_opts(const char *const *paths, size_t npaths, const struct promql_options *query,
                       struct rule_set **out, struct diag *d);
void rule_set_free(struct rule_set *rs);
/* Rules of the set, for messages: "N groups, M rules (A alerting, R recording)". */
size_t rule_set_count(const struct rule_set *rs, size_t *alerting, size_t *recording);

/* ---- templates (template.c): Go text/template as rule files use it ----
 * Actions {{ ... }} with pipelines; data .Labels, .Value, .ExternalLabels, .ExternalURL and
 * the variables $labels, $value, $externalLabels, $externalURL; field and map access
 * ($labels.symbol, index $labels "x"); if / else / end, range not needed; functions humanize,
 * humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, printf, toUpper,
 * toLower, title, reReplaceAll, match, stripPort, stripDomain, urlQueryEscape, parseDuration.
 * `query` is refused by tmpl_check with a message saying that breakwatch does not run queries
 * from templates. */
struct tmpl_data {
    const struct labelset *labels;          /* $labels */
    double value;                           /* $value */
    const struct labelset *external_labels; /* may be NULL */
    const char *external_url;               /* may be NULL */
    const char *name; /* the template's name in messages, "__alert_" + the alert's name as
                       * Prometheus names it; NULL: "__alert" */
};
/* BW_OK, or BW_EINVAL with "template: NAME:LINE: why" in msg (msglen bytes) as Go says it;
 * name as in tmpl_data. */
int tmpl_check(const char *name, const char *text, char *msg, size_t msglen);
/* Expands text into out (appended). On a failure out gets "<error expanding template: why>"
 * instead, as Prometheus writes, and BW_EINVAL is returned; BW_ENOSPC / BW_ENOMEM from out.
 * An expansion longer than 1 MiB (or out's limit, when smaller), or a printf or print call
 * producing more, is such a failure: a template error, not an out-of-memory condition. */
int tmpl_expand(const char *text, const struct tmpl_data *data, struct buf *out);
/* Appends s escaped as Go's url.QueryEscape does (the template function urlQueryEscape, and
 * the expression in an alert's generator URL): ASCII letters, digits and -_.~ as they are,
 * ' ' as '+', every other byte as %XX. BW_OK or b's error. */
int tmpl_query_escape(struct buf *b, const char *s);

/* ---- the evaluator (ruler.c) ---- */

struct ruler;

struct ruler_options {
    int64_t interval_ms;           /* groups without `interval`: 15 s */
    int64_t resend_delay_ms;       /* 1 min */
    int64_t outage_tolerance_ms;   /* restore pending/firing state after an outage up to: 1 h */
    int64_t for_grace_ms;          /* least `for` left after a restore: 10 min */
    int64_t resolved_retention_ms; /* resolved alerts kept (and re-sent): 15 min */
    const struct labelset *external_labels; /* copied; may be NULL */
    const char *external_url;               /* copied; may be NULL */
    struct promql_options query;
};

/* An evaluator writing into db (with tsdb_write_lock around its appends and commit, as the
 * collector does) and reporting to sink (copied; may be NULL). BW_OK and *out, BW_ENOMEM. */
int ruler_new(struct tsdb *db, const struct ruler_options *o, const struct alert_sink *sink,
              struct ruler **out);
/* Stops the thread if it runs, frees the rules and the state. NULL is a no-op. */
void ruler_free(struct ruler *r);
/* Replaces the rules with rs (taken over; freed by the ruler; NULL: no rules). Alerts of a
 * rule that is in both the old and the new set (same group file and name, same rule name and
 * labels) keep their state, as Prometheus does on reload. The others are dropped at once, at
 * the wall-clock time t of the call: each pending one with a pending → inactive transition,
 * each firing one resolved (resolved_at = t, a firing → inactive transition) and sent as
 * resolved in one send call — from the calling thread, under the ruler's lock; their ALERTS
 * series become stale at the next evaluation. Safe while the thread runs: the swap happens
 * between evaluations. BW_OK; BW_ENOMEM (rs freed, the old rules and their state stay). */
int ruler_set_rules(struct ruler *r, struct rule_set *rs);
/* The query options r evaluates with (rule files are checked with them on reload). */
const struct promql_options *ruler_query_options(const struct ruler *r);
/* Loads the rule files paths (their expressions parsed with r's query options) and, when every
 * one is valid, hands them to r (ruler_set_rules); otherwise r keeps the rules it has and d
 * says what is wrong (file:line:col). The outcome is logged either way. *groups and *rules
 * (may be NULL): what is now loaded. BW_OK, or rule_set_load's codes, or BW_ENOMEM when
 * ruler_set_rules could not install them. (reload.c) */
int ruler_reload(struct ruler *r, const char *const *paths, size_t n, size_t *groups, size_t *rules,
                 struct diag *d);
/* Restores activeAt of each alerting rule's alerts from ALERTS_FOR_STATE at now_ms, as
 * Prometheus does after a restart (within outage_tolerance, for_grace kept). Call once, after
 * the first evaluation of each group has run: ruler_start does it. */
int ruler_restore(struct ruler *r, int64_t now_ms);
/* Evaluates group gi of the current set at t (ms) on the calling thread: what the thread
 * does on each tick (tests, `test rules`). Rule errors are kept for the snapshot, not
 * returned. BW_OK; BW_EINVAL for gi out of range. */
int ruler_eval_group(struct ruler *r, size_t gi, int64_t t_ms);
/* Evaluates every group at t in order. */
int ruler_eval_all(struct ruler *r, int64_t t_ms);
/* Starts the thread: each group on its interval, at a fixed per-group offset within it
 * (hash of file and name) as Prometheus staggers them. */
int ruler_start(struct ruler *r, struct diag *d);
void ruler_stop(struct ruler *r);

/* What the API shows (/api/v1/rules, /api/v1/alerts, the page's rule list): a copy taken
 * under the ruler's lock, everything in its arena. */
struct ruler_rule_snap {
    const struct rule *rule; /* copied into the snapshot's arena */
    const char *health;      /* "ok", "err", "unknown" (not evaluated yet) */
    const char *last_error;  /* "" when healthy */
    int64_t last_eval_ms;
    double eval_seconds;
    enum alert_state state; /* alerting rules: the highest of its alerts */
    struct alert *alerts;   /* pending and firing, and resolved ones still retained */
    size_t nalerts;
};
struct ruler_group_snap {
    const char *name, *file;
    int64_t interval_ms, limit;
    int64_t last_eval_ms;
    double eval_seconds;
    struct ruler_rule_snap *rules;
    size_t nrules;
};
struct ruler_snapshot {
    struct ruler_group_snap *groups;
    size_t ngroups;
    struct arena arena;
};
int ruler_snapshot(struct ruler *r, struct ruler_snapshot **out);
void ruler_snapshot_free(struct ruler_snapshot *s);

/* ---- promtool's rule unit tests (ruletest.c) ----
 * The file format of `promtool test rules`: rule_files (relative to the test file),
 * evaluation_interval, group_eval_order, tests with interval, input_series (expanding
 * notation: "1+2x10", "_", "stale", "1x5"), external_labels, external_url,
 * alert_rule_test (eval_time, alertname, exp_alerts with exp_labels and exp_annotations) and
 * promql_expr_test (expr, eval_time, exp_samples with labels and value). */
struct ruletest_counts {
    size_t tests, failed;
};
/* Runs every test of one file, printing each failure as promtool does (the test's name, the
 * eval time, expected and got) to out. BW_OK once run (failures are in c); BW_EINVAL with
 * file:line:col for a malformed test file or rule file, BW_ENOENT / BW_EIO, BW_ENOMEM. */
int ruletest_run_file(const char *path, FILE *out, struct ruletest_counts *c, struct diag *d);

#endif
