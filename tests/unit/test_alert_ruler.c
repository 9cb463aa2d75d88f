/* Tests for src/alert/ruler.c: rule sets built by hand over an in-memory tsdb, evaluated at
 * chosen times — the alert state sequence (pending, firing after `for`, resolved), ALERTS and
 * ALERTS_FOR_STATE read back with PromQL, keep_firing_for, duplicate label sets, recording
 * rules feeding a later rule and going stale, the limit, the restore of `for` state by a new
 * ruler over the same tsdb, state kept across a rule swap, what reaches the sink, and the
 * thread. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "alert/rules.h"
#include "tsdb/tsdb.h"

#define B   1700000000000LL /* a base time, ms */
#define MIN 60000LL

/* ---- rule sets by hand ---- */

struct rule_spec {
    enum rule_kind kind;
    const char *name, *expr;
    int64_t for_ms, keep_ms;
    const char *label_name, *label_value; /* one label or none */
    const char *annotation;               /* "summary" text or NULL */
};

/* One group of the given rules, in a set as rule_set_load would make it. */
static struct rule_set *one_group(const char *name, int64_t interval_ms, size_t limit,
                                  const struct rule_spec *spec, size_t n)
{
    struct rule_set *rs = calloc(1, sizeof(*rs));
    assert_non_null(rs);
    arena_init(&rs->arena, 0);
    struct rule_group *g = arena_calloc(&rs->arena, 1, sizeof(*g));
    struct rule *rules = arena_calloc(&rs->arena, n, sizeof(*rules));
    assert_non_null(g);
    assert_non_null(rules);
    for (size_t i = 0; i < n; i++) {
        rules[i] = (struct rule){.kind = spec[i].kind,
                                 .name = spec[i].name,
                                 .expr = spec[i].expr,
                                 .for_ms = spec[i].for_ms,
                                 .keep_firing_for_ms = spec[i].keep_ms};
        if (spec[i].label_name) {
            rules[i].labels = arena_calloc(&rs->arena, 1, sizeof(struct label));
            rules[i].labels[0] = (struct label){spec[i].label_name, spec[i].label_value};
            rules[i].nlabels = 1;
        }
        if (spec[i].annotation) {
            rules[i].annotations = arena_calloc(&rs->arena, 1, sizeof(struct label));
            rules[i].annotations[0] = (struct label){"summary", spec[i].annotation};
            rules[i].nannotations = 1;
        }
    }
    *g = (struct rule_group){.name = name,
                             .file = "test.yml",
                             .interval_ms = interval_ms,
                             .limit = limit,
                             .rules = rules,
                             .nrules = n};
    rs->groups = g;
    rs->ngroups = 1;
    rs->nfiles = 1;
    return rs;
}

/* ---- a sink that records ---- */

struct seen_transition {
    char labels[256];
    enum alert_state from, to;
    int64_t t;
};
struct seen_send {
    int64_t t;
    size_t n;
    enum alert_state state[4];
    int64_t valid_until[4], resolved_at[4], fired_at[4];
    char url[256];
};
struct recorder {
    struct seen_transition tr[64];
    size_t ntr;
    struct seen_send sends[64];
    size_t nsends;
};

static void on_transition(void *ud, const struct alert *a, enum alert_state from, int64_t t)
{
    struct recorder *rec = ud;
    struct buf b;
    assert_true(rec->ntr < 64);
    struct seen_transition *s = &rec->tr[rec->ntr++];
    buf_init(&b, 0);
    assert_int_equal(labelset_format(&a->labels, &b), BW_OK);
    snprintf(s->labels, sizeof(s->labels), "%s", b.data);
    buf_fini(&b);
    s->from = from;
    s->to = a->state;
    s->t = t;
}

static void on_send(void *ud, const struct alert *v, size_t n, int64_t t)
{
    struct recorder *rec = ud;
    assert_true(rec->nsends < 64);
    struct seen_send *s = &rec->sends[rec->nsends++];
    s->t = t;
    s->n = n;
    for (size_t i = 0; i < n && i < 4; i++) {
        s->state[i] = v[i].state;
        s->valid_until[i] = v[i].valid_until;
        s->resolved_at[i] = v[i].resolved_at;
        s->fired_at[i] = v[i].fired_at;
    }
    if (n > 0)
        snprintf(s->url, sizeof(s->url), "%s", v[0].generator_url);
}

/* ---- fixture ---- */

struct fixture {
    struct tsdb *db;
    struct ruler *r;
    struct recorder rec;
};

static int setup(void **state)
{
    static struct fixture f;
    struct diag d = {0};
    memset(&f, 0, sizeof(f));
    if (tsdb_open(NULL, NULL, &f.db, &d) != BW_OK)
        return -1;
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ruler_free(f->r);
    tsdb_close(f->db);
    return 0;
}

static void new_ruler(struct fixture *f, const struct ruler_options *o)
{
    struct alert_sink sink = {on_transition, on_send, &f->rec};
    struct ruler_options def = {.interval_ms = MIN, .external_url = "http://bw:8000"};
    assert_int_equal(ruler_new(f->db, o ? o : &def, &sink, &f->r), BW_OK);
}

/* Appends value v[i] at B + i minutes to the series name{inst="inst"}; NAN: no sample. */
static void series(struct fixture *f, const char *name, const char *inst, const double *v, size_t n)
{
    struct label l[2] = {{LABEL_NAME, name}, {"inst", inst}};
    struct labelset ls = {l, 2};
    uint64_t ref = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(v[i]))
            assert_int_equal(tsdb_append(f->db, &ls, B + (int64_t)i * MIN, v[i], &ref), BW_OK);
}

/* The value of the single series q returns at t; NAN when it returns none. */
static double query1(struct fixture *f, const char *q, int64_t t)
{
    struct promql_result *res = NULL;
    struct promql_error err = {0};
    assert_int_equal(promql_query_instant(f->db, NULL, q, t, &res, &err), BW_OK);
    assert_true(res->n <= 1);
    double v = res->n == 1 ? res->series[0].v[0] : NAN;
    promql_result_free(res);
    return v;
}

static size_t query_n(struct fixture *f, const char *q, int64_t t)
{
    struct promql_result *res = NULL;
    struct promql_error err = {0};
    assert_int_equal(promql_query_instant(f->db, NULL, q, t, &res, &err), BW_OK);
    size_t n = res->n;
    promql_result_free(res);
    return n;
}

/* The one rule of the one group in a snapshot, with the snapshot to free. */
static const struct ruler_rule_snap *snap_rule(struct fixture *f, size_t ri,
                                               struct ruler_snapshot **s)
{
    assert_int_equal(ruler_snapshot(f->r, s), BW_OK);
    assert_int_equal((*s)->ngroups, 1);
    assert_true(ri < (*s)->groups[0].nrules);
    return &(*s)->groups[0].rules[ri];
}

/* ---- tests ---- */

/* m{inst="a"} is 5 from 0 to 3 min, then 0: `m > 3` for 2m is pending at 0 and 1 min, fires at
 * 2 min, resolves at 4 min. */
static void test_lifecycle(void **state)
{
    struct fixture *f = *state;
    const double v[] = {5, 5, 5, 5, 0, 0, 0};
    series(f, "m", "a", v, 7);
    const struct rule_spec spec[] = {
        {RULE_ALERT, "High", "m > 3", 2 * MIN, 0, "severity", "page", "value {{ $value }}"}};
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));

    const char *pending = "ALERTS{alertname=\"High\",alertstate=\"pending\"}";
    const char *firing = "ALERTS{alertname=\"High\",alertstate=\"firing\"}";
    const char *forstate = "ALERTS_FOR_STATE{alertname=\"High\"}";
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr;

    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    rr = snap_rule(f, 0, &s);
    assert_string_equal(rr->health, "ok");
    assert_int_equal(rr->state, ALERT_PENDING);
    assert_int_equal(rr->nalerts, 1);
    assert_int_equal(rr->alerts[0].active_at, B);
    assert_string_equal(labelset_get(&rr->alerts[0].labels, "severity"), "page");
    assert_string_equal(labelset_get(&rr->alerts[0].labels, "inst"), "a");
    assert_string_equal(labelset_get(&rr->alerts[0].labels, "alertname"), "High");
    assert_null(labelset_get(&rr->alerts[0].labels, LABEL_NAME));
    assert_string_equal(labelset_get(&rr->alerts[0].annotations, "summary"), "value 5");
    ruler_snapshot_free(s);
    assert_true(query1(f, pending, B) == 1);
    assert_true(query1(f, forstate, B) == (double)(B / 1000));
    assert_int_equal(query_n(f, firing, B), 0);

    assert_int_equal(ruler_eval_all(f->r, B + MIN), BW_OK);
    assert_true(query1(f, pending, B + MIN) == 1);
    assert_int_equal(ruler_eval_all(f->r, B + 2 * MIN), BW_OK);
    rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->state, ALERT_FIRING);
    assert_int_equal(rr->alerts[0].fired_at, B + 2 * MIN);
    ruler_snapshot_free(s);
    assert_true(query1(f, firing, B + 2 * MIN) == 1);
    assert_int_equal(query_n(f, pending, B + 2 * MIN), 0); /* stale, not 5 min of lookback */
    assert_true(query1(f, forstate, B + 2 * MIN) == (double)(B / 1000));

    assert_int_equal(ruler_eval_all(f->r, B + 3 * MIN), BW_OK);
    assert_int_equal(ruler_eval_all(f->r, B + 4 * MIN), BW_OK);
    rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->state, ALERT_INACTIVE);
    assert_int_equal(rr->nalerts, 1); /* resolved, retained */
    assert_int_equal(rr->alerts[0].resolved_at, B + 4 * MIN);
    ruler_snapshot_free(s);
    assert_int_equal(query_n(f, "ALERTS", B + 4 * MIN), 0);
    assert_int_equal(query_n(f, forstate, B + 4 * MIN), 0);

    /* Transitions: new pending, firing after `for`, resolved. */
    struct recorder *rec = &f->rec;
    assert_int_equal(rec->ntr, 3);
    assert_int_equal(rec->tr[0].from, ALERT_INACTIVE);
    assert_int_equal(rec->tr[0].to, ALERT_PENDING);
    assert_int_equal(rec->tr[0].t, B);
    assert_string_equal(rec->tr[0].labels, "{alertname=\"High\", inst=\"a\", severity=\"page\"}");
    assert_int_equal(rec->tr[1].to, ALERT_FIRING);
    assert_int_equal(rec->tr[1].t, B + 2 * MIN);
    assert_int_equal(rec->tr[2].from, ALERT_FIRING);
    assert_int_equal(rec->tr[2].to, ALERT_INACTIVE);
    assert_int_equal(rec->tr[2].t, B + 4 * MIN);
    /* Sends: firing at 2 min (not again at 3: resend_delay 1 min has not passed), resolved at
     * 4 min; valid for 4 × max(interval, resend_delay). */
    assert_int_equal(rec->nsends, 2);
    assert_int_equal(rec->sends[0].t, B + 2 * MIN);
    assert_int_equal(rec->sends[0].state[0], ALERT_FIRING);
    assert_int_equal(rec->sends[0].valid_until[0], B + 2 * MIN + 4 * MIN);
    assert_string_equal(rec->sends[0].url, "http://bw:8000/graph?g0.expr=m+%3E+3&g0.tab=1");
    assert_int_equal(rec->sends[1].t, B + 4 * MIN);
    assert_int_equal(rec->sends[1].state[0], ALERT_INACTIVE);
    assert_int_equal(rec->sends[1].resolved_at[0], B + 4 * MIN);

    /* Still firing would have been re-sent once resend_delay passed: evaluate on; the
     * resolved alert is re-sent after resend_delay too, then forgotten after the retention. */
    assert_int_equal(ruler_eval_all(f->r, B + 5 * MIN), BW_OK);
    assert_int_equal(rec->nsends, 2); /* 5 min: last sent at 4, 4 + 1 is not before 5 */
    assert_int_equal(ruler_eval_all(f->r, B + 6 * MIN), BW_OK);
    assert_int_equal(rec->nsends, 3);
    assert_int_equal(ruler_eval_all(f->r, B + 20 * MIN), BW_OK);
    rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->nalerts, 0); /* 16 min after resolving > 15 min retention */
    ruler_snapshot_free(s);
}

/* keep_firing_for 2m: the condition goes away at 2 min; the alert fires on at 2 and 3 min
 * and resolves at 4 (2 min after it first went missing). */
static void test_keep_firing_for(void **state)
{
    struct fixture *f = *state;
    const double v[] = {1, 1, NAN, NAN, NAN, NAN};
    series(f, "up", "a", v, 6);
    const struct rule_spec spec[] = {{RULE_ALERT, "Up", "up == 1", 0, 2 * MIN, NULL, NULL, NULL}};
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    /* up has no stale marker: it stays visible for the lookback; end it explicitly. */
    struct label l[2] = {{LABEL_NAME, "up"}, {"inst", "a"}};
    struct labelset ls = {l, 2};
    uint64_t ref = 0;
    assert_int_equal(tsdb_append(f->db, &ls, B + 2 * MIN, tsdb_stale_nan(), &ref), BW_OK);

    const char *firing = "ALERTS{alertname=\"Up\",alertstate=\"firing\"}";
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr;
    for (int64_t m = 0; m <= 4; m++) {
        assert_int_equal(ruler_eval_all(f->r, B + m * MIN), BW_OK);
        rr = snap_rule(f, 0, &s);
        enum alert_state want = m < 4 ? ALERT_FIRING : ALERT_INACTIVE;
        assert_int_equal(rr->state, want);
        if (m == 2 || m == 3)
            assert_int_equal(rr->alerts[0].keep_firing_since, B + 2 * MIN);
        ruler_snapshot_free(s);
        assert_int_equal(query_n(f, firing, B + m * MIN), m < 4 ? 1 : 0);
    }
    /* for: 0 — pending and firing in the first evaluation, resolved at 4 min. */
    assert_int_equal(f->rec.ntr, 3);
    assert_int_equal(f->rec.tr[0].to, ALERT_PENDING);
    assert_int_equal(f->rec.tr[1].to, ALERT_FIRING);
    assert_int_equal(f->rec.tr[1].t, B);
    assert_int_equal(f->rec.tr[2].to, ALERT_INACTIVE);
    assert_int_equal(f->rec.tr[2].t, B + 4 * MIN);
}

/* Two samples that become the same alert once the rule's label overrides inst: the rule
 * fails, nothing is written, and the next good evaluation heals it. */
static void test_duplicate_labelset(void **state)
{
    struct fixture *f = *state;
    const double one[] = {1, 1};
    series(f, "m", "a", one, 2);
    series(f, "m", "b", one, 2);
    const struct rule_spec spec[] = {
        {RULE_ALERT, "Dup", "m > 0", 0, 0, "inst", "same", NULL},
        {RULE_RECORD, "m:dup", "m", 0, 0, "inst", "same", NULL},
        {RULE_ALERT, "Fine", "m{inst=\"a\"} > 0", 0, 0, "inst", "same", NULL},
    };
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 3));
    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_string_equal(rr->health, "err");
    assert_string_equal(rr->last_error,
                        "vector contains metrics with the same labelset after applying alert "
                        "labels");
    assert_int_equal(rr->nalerts, 0);
    assert_string_equal(s->groups[0].rules[1].health, "err");
    assert_string_equal(s->groups[0].rules[1].last_error,
                        "vector contains metrics with the same labelset after applying rule "
                        "labels");
    assert_string_equal(s->groups[0].rules[2].health, "ok"); /* later rules still run */
    assert_int_equal(s->groups[0].rules[2].state, ALERT_FIRING);
    ruler_snapshot_free(s);
    assert_int_equal(query_n(f, "ALERTS{alertname=\"Dup\"}", B), 0);
    assert_int_equal(query_n(f, "m:dup", B), 0);
    assert_true(query1(f, "ALERTS{alertname=\"Fine\",inst=\"same\"}", B) == 1);
}

/* A recording rule's output is seen by the alert after it in the same evaluation; series it
 * stops producing get stale markers. */
static void test_recording_feeds_alert(void **state)
{
    struct fixture *f = *state;
    const double a[] = {3, 3, 3}, b[] = {4, 4, 1};
    series(f, "m", "a", a, 3);
    series(f, "m", "b", b, 3);
    const struct rule_spec spec[] = {
        {RULE_RECORD, "job:m:sum", "sum(m)", 0, 0, "team", "t1", NULL},
        {RULE_RECORD, "inst:m:big", "m > 2", 0, 0, NULL, NULL, NULL},
        {RULE_ALERT, "SumHigh", "job:m:sum > 5", 0, 0, NULL, NULL, "sum is {{ $value }}"},
    };
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 3));
    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    assert_true(query1(f, "job:m:sum{team=\"t1\"}", B) == 3 + 4);
    assert_int_equal(query_n(f, "inst:m:big", B), 2);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 2, &s);
    assert_int_equal(rr->state, ALERT_FIRING);
    assert_string_equal(labelset_get(&rr->alerts[0].labels, "team"), "t1");
    assert_string_equal(labelset_get(&rr->alerts[0].annotations, "summary"), "sum is 7");
    ruler_snapshot_free(s);

    /* At 2 min m{inst="b"} is 1: inst:m:big{inst="b"} is stale at once, the sum is 4 and the
     * alert resolves in the same evaluation. */
    assert_int_equal(ruler_eval_all(f->r, B + MIN), BW_OK);
    assert_int_equal(ruler_eval_all(f->r, B + 2 * MIN), BW_OK);
    assert_int_equal(query_n(f, "inst:m:big", B + 2 * MIN), 1);
    assert_true(query1(f, "inst:m:big", B + 2 * MIN) == 3);
    assert_true(query1(f, "job:m:sum", B + 2 * MIN) == 3 + 1);
    rr = snap_rule(f, 2, &s);
    assert_int_equal(rr->state, ALERT_INACTIVE);
    ruler_snapshot_free(s);
}

/* More alerts than the group's limit: all of the rule's alerts go and the rule fails. */
static void test_limit(void **state)
{
    struct fixture *f = *state;
    const double one[] = {1, 1};
    series(f, "m", "a", one, 2);
    series(f, "m", "b", one, 2);
    const struct rule_spec spec[] = {{RULE_ALERT, "Many", "m > 0", 0, 0, NULL, NULL, NULL}};
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 1, spec, 1));
    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_string_equal(rr->health, "err");
    assert_string_equal(rr->last_error, "exceeded limit of 1 with 2 alerts");
    assert_int_equal(rr->nalerts, 0);
    ruler_snapshot_free(s);
    assert_int_equal(query_n(f, "ALERTS", B), 0);
}

/* A restart 5 min after the last evaluation (Prometheus's RestoreForState):
 * Long (for 30m) was pending 10 min, more than the 10 min grace remains: its activeAt moves
 * forward by the downtime (B + 5 min). Short (for 15m) was pending 10 min: 5 min remain, less
 * than the grace, so it fires the grace period after the restore. */
static void test_restore(void **state)
{
    struct fixture *f = *state;
    double v[41];
    for (size_t i = 0; i < 41; i++)
        v[i] = 1;
    series(f, "m", "a", v, 41);
    const struct rule_spec spec[] = {
        {RULE_ALERT, "Long", "m > 0", 30 * MIN, 0, NULL, NULL, NULL},
        {RULE_ALERT, "Short", "m > 0", 15 * MIN, 0, NULL, NULL, NULL},
    };
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 2));
    for (int64_t m = 0; m <= 10; m++)
        assert_int_equal(ruler_eval_all(f->r, B + m * MIN), BW_OK);
    ruler_free(f->r);

    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 2));
    int64_t now = B + 15 * MIN;
    assert_int_equal(ruler_eval_all(f->r, now), BW_OK);
    assert_int_equal(ruler_restore(f->r, now), BW_OK);
    struct ruler_snapshot *s;
    snap_rule(f, 0, &s);
    int64_t long_at = B + (now - (B + 10 * MIN)); /* moved by the downtime */
    int64_t short_at = now + 10 * MIN - 15 * MIN; /* fires 10 min after now */
    assert_int_equal(s->groups[0].rules[0].alerts[0].active_at, long_at);
    assert_int_equal(s->groups[0].rules[1].alerts[0].active_at, short_at);
    ruler_snapshot_free(s);
    assert_int_equal(ruler_eval_all(f->r, now + MIN), BW_OK);
    assert_true(query1(f, "ALERTS_FOR_STATE{alertname=\"Long\"}", now + MIN) ==
                (double)(long_at / 1000));
    for (int64_t m = 2; m <= 10; m++)
        assert_int_equal(ruler_eval_all(f->r, now + m * MIN), BW_OK);
    assert_true(query1(f, "ALERTS{alertname=\"Short\",alertstate=\"firing\"}", now + 10 * MIN) ==
                1);
    assert_true(query1(f, "ALERTS{alertname=\"Short\",alertstate=\"pending\"}", now + 9 * MIN) ==
                1);
    /* Long fires 30 min after its restored activeAt: B + 35 min = now + 20 min. */
    for (int64_t m = 11; m <= 20; m++)
        assert_int_equal(ruler_eval_all(f->r, now + m * MIN), BW_OK);
    assert_true(query1(f, "ALERTS{alertname=\"Long\",alertstate=\"pending\"}", now + 19 * MIN) ==
                1);
    assert_true(query1(f, "ALERTS{alertname=\"Long\",alertstate=\"firing\"}", now + 20 * MIN) == 1);
}

/* An outage longer than the tolerance restores nothing. */
static void test_restore_outage_too_long(void **state)
{
    struct fixture *f = *state;
    const double v[] = {1, 1, 1};
    series(f, "m", "a", v, 3);
    const struct rule_spec spec[] = {{RULE_ALERT, "Long", "m > 0", 30 * MIN, 0, NULL, NULL, NULL}};
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    for (int64_t m = 0; m <= 2; m++)
        assert_int_equal(ruler_eval_all(f->r, B + m * MIN), BW_OK);
    ruler_free(f->r);
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    struct label l[2] = {{LABEL_NAME, "m"}, {"inst", "a"}};
    struct labelset ls = {l, 2};
    uint64_t ref = 0;
    int64_t now = B + 2 * MIN + 61 * MIN;
    assert_int_equal(tsdb_append(f->db, &ls, now, 1, &ref), BW_OK);
    assert_int_equal(ruler_eval_all(f->r, now), BW_OK);
    assert_int_equal(ruler_restore(f->r, now), BW_OK);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->alerts[0].active_at, now);
    ruler_snapshot_free(s);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Swapping in the same rule keeps its alert's state. Rules that go away have their ALERTS
 * series made stale at the next evaluation, and their alerts retired at once: the firing one
 * resolved (a transition and a send as resolved, so that the notifier need not wait for its
 * valid_until), the pending one gone inactive without a send. */
static void test_swap_keeps_state(void **state)
{
    struct fixture *f = *state;
    const double v[] = {1, 1, 1, 1};
    series(f, "m", "a", v, 4);
    const struct rule_spec spec[] = {
        {RULE_ALERT, "Keep", "m > 0", 0, 0, NULL, NULL, NULL},
        {RULE_ALERT, "Gone", "m > 0", 0, 0, NULL, NULL, NULL},
        {RULE_ALERT, "Waiting", "m > 0", 10 * MIN, 0, NULL, NULL, NULL},
    };
    new_ruler(f, NULL);
    assert_int_equal(ruler_set_rules(f->r, one_group("g", 0, 0, spec, 3)), BW_OK);
    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    struct recorder *rec = &f->rec;
    assert_int_equal(rec->ntr, 5); /* pending + firing for two, pending for Waiting */
    assert_int_equal(rec->nsends, 1);
    assert_int_equal(rec->sends[0].n, 2);
    int64_t before = wall_ms();
    assert_int_equal(ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1)), BW_OK);
    int64_t after = wall_ms();

    assert_int_equal(rec->ntr, 7);
    assert_string_equal(rec->tr[5].labels, "{alertname=\"Gone\", inst=\"a\"}");
    assert_int_equal(rec->tr[5].from, ALERT_FIRING);
    assert_int_equal(rec->tr[5].to, ALERT_INACTIVE);
    assert_true(rec->tr[5].t >= before && rec->tr[5].t <= after);
    assert_string_equal(rec->tr[6].labels, "{alertname=\"Waiting\", inst=\"a\"}");
    assert_int_equal(rec->tr[6].from, ALERT_PENDING);
    assert_int_equal(rec->tr[6].to, ALERT_INACTIVE);
    assert_int_equal(rec->nsends, 2); /* the resolved one only */
    assert_int_equal(rec->sends[1].n, 1);
    assert_int_equal(rec->sends[1].state[0], ALERT_INACTIVE);
    assert_int_equal(rec->sends[1].resolved_at[0], rec->tr[5].t);
    assert_int_equal(rec->sends[1].t, rec->tr[5].t);

    assert_int_equal(ruler_eval_all(f->r, B + MIN), BW_OK);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->alerts[0].active_at, B);
    assert_int_equal(rr->alerts[0].state, ALERT_FIRING);
    assert_string_equal(rr->health, "ok");
    ruler_snapshot_free(s);
    assert_int_equal(rec->ntr, 7); /* Keep goes on without a transition */
    assert_true(query1(f, "ALERTS{alertname=\"Keep\"}", B + MIN) == 1);
    assert_int_equal(query_n(f, "ALERTS{alertname=\"Gone\"}", B + MIN), 0);
    assert_int_equal(query_n(f, "ALERTS{alertname=\"Gone\"}", B + MIN - 1), 1);

    /* No rules at all: Keep is resolved the same way. */
    assert_int_equal(ruler_set_rules(f->r, NULL), BW_OK);
    assert_int_equal(rec->ntr, 8);
    assert_int_equal(rec->tr[7].from, ALERT_FIRING);
    assert_int_equal(rec->nsends, 3);
    assert_int_equal(rec->sends[2].state[0], ALERT_INACTIVE);
}

/* A new set that cannot be installed (its arena is full, as when memory runs out) is refused
 * with BW_ENOMEM and the running rules keep their state. */
static void test_set_rules_enomem(void **state)
{
    struct fixture *f = *state;
    const double v[] = {1, 1};
    series(f, "m", "a", v, 2);
    const struct rule_spec spec[] = {{RULE_ALERT, "A", "m > 0", 0, 0, NULL, NULL, NULL}};
    new_ruler(f, NULL);
    assert_int_equal(ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1)), BW_OK);
    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    struct rule_set *full = one_group("other", 0, 0, spec, 1);
    full->arena.limit = full->arena.used;
    assert_int_equal(ruler_set_rules(f->r, full), BW_ENOMEM);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_string_equal(s->groups[0].name, "g");
    assert_int_equal(rr->state, ALERT_FIRING);
    ruler_snapshot_free(s);
    assert_int_equal(f->rec.ntr, 2); /* nothing retired */
}

/* A firing alert stays firing when a reload lengthens `for` (same rule, so its state is
 * carried): Prometheus never takes a firing alert back to pending. */
static void test_no_demotion(void **state)
{
    struct fixture *f = *state;
    const double v[] = {1, 1, 1, 1};
    series(f, "m", "a", v, 4);
    struct rule_spec spec[] = {{RULE_ALERT, "A", "m > 0", 0, 0, NULL, NULL, NULL}};
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    assert_int_equal(ruler_eval_all(f->r, B), BW_OK);
    spec[0].for_ms = 10 * MIN;
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    assert_int_equal(ruler_eval_all(f->r, B + MIN), BW_OK);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->state, ALERT_FIRING);
    assert_int_equal(rr->alerts[0].fired_at, B);
    ruler_snapshot_free(s);
    assert_int_equal(f->rec.ntr, 2); /* pending, firing; nothing after */
    assert_true(query1(f, "ALERTS{alertname=\"A\",alertstate=\"firing\"}", B + MIN) == 1);
    assert_int_equal(query_n(f, "ALERTS{alertstate=\"pending\"}", B + MIN), 0);
}

/* A restart while an alert was firing (Prometheus's RestoreForState, timeRemainingPending
 * <= 0): activeAt goes back to the stored one, so the next evaluation fires it again at once
 * instead of waiting `for` anew. */
static void test_restore_firing(void **state)
{
    struct fixture *f = *state;
    double v[31];
    for (size_t i = 0; i < 31; i++)
        v[i] = 1;
    series(f, "m", "a", v, 31);
    const struct rule_spec spec[] = {{RULE_ALERT, "A", "m > 0", 10 * MIN, 0, NULL, NULL, NULL}};
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    for (int64_t m = 0; m <= 15; m++) /* fires at 10 min */
        assert_int_equal(ruler_eval_all(f->r, B + m * MIN), BW_OK);
    ruler_free(f->r);

    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
    int64_t now = B + 20 * MIN;
    assert_int_equal(ruler_eval_all(f->r, now), BW_OK);
    assert_int_equal(ruler_restore(f->r, now), BW_OK);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->alerts[0].active_at, B); /* ALERTS_FOR_STATE held B in seconds */
    assert_int_equal(rr->state, ALERT_PENDING);
    ruler_snapshot_free(s);
    assert_int_equal(ruler_eval_all(f->r, now + MIN), BW_OK);
    rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->state, ALERT_FIRING);
    assert_int_equal(rr->alerts[0].fired_at, now + MIN);
    ruler_snapshot_free(s);
}

/* ALERTS_FOR_STATE holding values that are no times (a recording rule or an import can write
 * any float): nothing is restored, and nothing overflows (UBSan would say). */
static void test_restore_out_of_range(void **state)
{
    const double bogus[] = {1e17, -1e17, 1e300, -1e300};
    teardown(state); /* a fixture of its own for each value */
    for (size_t k = 0; k < BW_ARRAY_LEN(bogus); k++) {
        setup(state);
        struct fixture *f = *state;
        const double v[] = {1, 1, 1, 1};
        series(f, "m", "a", v, 4);
        struct label l[3] = {{LABEL_NAME, "ALERTS_FOR_STATE"}, {"alertname", "A"}, {"inst", "a"}};
        struct labelset ls = {l, 3};
        uint64_t ref = 0;
        assert_int_equal(tsdb_append(f->db, &ls, B + MIN, bogus[k], &ref), BW_OK);
        const struct rule_spec spec[] = {{RULE_ALERT, "A", "m > 0", 10 * MIN, 0, NULL, NULL, NULL}};
        new_ruler(f, NULL);
        ruler_set_rules(f->r, one_group("g", 0, 0, spec, 1));
        int64_t now = B + 3 * MIN;
        assert_int_equal(ruler_eval_all(f->r, now), BW_OK);
        assert_int_equal(ruler_restore(f->r, now), BW_OK);
        struct ruler_snapshot *s;
        const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
        assert_int_equal(rr->alerts[0].active_at, now);
        ruler_snapshot_free(s);
        teardown(state);
    }
    setup(state); /* for the teardown cmocka runs */
}

/* Runs fn with stderr going to a file; returns how many lines contain needle. */
static int stderr_lines(void (*fn)(struct fixture *), struct fixture *f, const char *needle)
{
    char path[] = "/tmp/bw-ruler-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    FILE *in = fdopen(fd, "r");
    assert_non_null(in);
    rewind(in);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof(line), in))
        n += strstr(line, needle) != NULL;
    fclose(in);
    unlink(path);
    return n;
}

static void eval_three(struct fixture *f)
{
    for (int64_t m = 0; m < 3; m++)
        assert_int_equal(ruler_eval_all(f->r, B + m * MIN), BW_OK);
}

static void eval_heal(struct fixture *f)
{
    for (int64_t m = 3; m < 6; m++)
        assert_int_equal(ruler_eval_all(f->r, B + m * MIN), BW_OK);
}

/* A rule whose template produces too much, and a rule that fails, do not stop the group: the
 * template error stands in the annotation (as Prometheus writes it, the rule healthy), the
 * failing rule is "err" with its reason, the rules after both still run, and the failure is
 * logged once, not on every evaluation; so is its recovery. */
static void test_failing_rule_keeps_group(void **state)
{
    struct fixture *f = *state;
    const double one[] = {1, 1, 1, 1, 1, 1}, two[] = {1, 1, 1, NAN, NAN, NAN};
    series(f, "m", "a", one, 6);
    series(f, "m", "b", two, 6);
    struct label l[2] = {{LABEL_NAME, "m"}, {"inst", "b"}};
    struct labelset ls = {l, 2};
    uint64_t ref = 0;
    assert_int_equal(tsdb_append(f->db, &ls, B + 3 * MIN, tsdb_stale_nan(), &ref), BW_OK);
    const struct rule_spec spec[] = {
        {RULE_ALERT, "Big", "m{inst=\"a\"} > 0", 0, 0, NULL, NULL,
         "{{ printf \"%2000000s\" \"x\" }}"},
        {RULE_RECORD, "m:dup", "m", 0, 0, "inst", "same", NULL}, /* fails while b exists */
        {RULE_RECORD, "m:after", "sum(m)", 0, 0, NULL, NULL, NULL},
    };
    new_ruler(f, NULL);
    ruler_set_rules(f->r, one_group("g", 0, 0, spec, 3));
    assert_int_equal(stderr_lines(eval_three, f, "rule m:dup: evaluation failed"), 1);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_string_equal(rr->health, "ok");
    assert_int_equal(rr->state, ALERT_FIRING);
    const char *summary = labelset_get(&rr->alerts[0].annotations, "summary");
    assert_non_null(summary);
    assert_non_null(strstr(summary, "<error expanding template: "));
    assert_non_null(strstr(summary, "error calling printf: output longer than 1048576 bytes>"));
    assert_string_equal(s->groups[0].rules[1].health, "err");
    assert_string_equal(s->groups[0].rules[2].health, "ok");
    ruler_snapshot_free(s);
    assert_true(query1(f, "m:after", B + 2 * MIN) == 2);
    assert_int_equal(stderr_lines(eval_heal, f, "rule m:dup: evaluates again"), 1);
    rr = snap_rule(f, 1, &s);
    assert_string_equal(rr->health, "ok");
    assert_string_equal(rr->last_error, "");
    ruler_snapshot_free(s);
}

/* ruler_reload checks expressions with the evaluator's query options: an experimental
 * aggregation loads when the ruler's options enable it (and only then). */
static void test_reload_query_options(void **state)
{
    struct fixture *f = *state;
    char path[] = "/tmp/bw-ruler-rules-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "groups:\n  - name: g\n    rules:\n      - record: r\n"
                       "        expr: limitk(1, m)\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    const char *paths[] = {path};
    struct diag d = {0};
    size_t groups = 0, rules = 0;
    new_ruler(f, NULL);
    assert_int_equal(ruler_reload(f->r, paths, 1, &groups, &rules, &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "experimental"));
    ruler_free(f->r);
    struct ruler_options o = {.query = {.enable_experimental = true}};
    new_ruler(f, &o);
    assert_int_equal(ruler_reload(f->r, paths, 1, &groups, &rules, &d), BW_OK);
    assert_int_equal(groups, 1);
    assert_int_equal(rules, 1);
    unlink(path);
}

/* The thread evaluates on its own at the group's slots and stops promptly. */
static void test_thread(void **state)
{
    struct fixture *f = *state;
    const struct rule_spec spec[] = {{RULE_ALERT, "Always", "vector(1)", 0, 0, NULL, NULL, NULL}};
    struct ruler_options o = {.interval_ms = 100};
    new_ruler(f, &o);
    struct rule_set *rs = one_group("g", 0, 0, spec, 1);
    ruler_set_rules(f->r, rs);
    struct diag d = {0};
    assert_int_equal(ruler_start(f->r, &d), BW_OK);
    int64_t first = 0, second = 0, deadline = clock_mono_ns() + 3000000000LL;
    while (clock_mono_ns() < deadline && second == 0) {
        struct ruler_snapshot *s;
        assert_int_equal(ruler_snapshot(f->r, &s), BW_OK);
        int64_t last = s->groups[0].last_eval_ms;
        if (last && !first)
            first = last;
        else if (last && last != first)
            second = last;
        ruler_snapshot_free(s);
        usleep(10000);
    }
    assert_true(first != 0 && second != 0);
    assert_int_equal((second - first) % 100, 0);
    int64_t t0 = clock_mono_ns();
    ruler_stop(f->r);
    assert_true(clock_mono_ns() - t0 < 500000000LL);
    struct ruler_snapshot *s;
    const struct ruler_rule_snap *rr = snap_rule(f, 0, &s);
    assert_int_equal(rr->state, ALERT_FIRING);
    ruler_snapshot_free(s);
    assert_true(query1(f, "ALERTS{alertname=\"Always\"}", second) == 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keep_firing_for, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_labelset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recording_feeds_alert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_outage_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_swap_keeps_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_rules_enomem, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_demotion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_firing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_rule_keeps_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reload_query_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
