/* Tests for src/alert/rulefile.c: loading the good fixtures (groups, rules, durations, labels),
 * globs, and each kind of invalid rule file refused at the position of its offending node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "alert/rules.h"
#include "tmpdir.h"

#define RULES BW_FIXTURES "/rules"

static void test_good(void **state)
{
    const char *paths[] = {RULES "/good/engine.yml"};
    struct rule_set *rs = NULL;
    struct diag d = {0};
    assert_int_equal(rule_set_load(paths, 1, &rs, &d), BW_OK);
    assert_int_equal(rs->nfiles, 1);
    assert_int_equal(rs->ngroups, 2);
    size_t na, nr;
    assert_int_equal(rule_set_count(rs, &na, &nr), 4);
    assert_int_equal(na, 2);
    assert_int_equal(nr, 2);
    const struct rule_group *g = &rs->groups[0];
    assert_string_equal(g->name, "engine");
    assert_string_equal(g->file, paths[0]);
    assert_int_equal(g->interval_ms, 15000);
    assert_int_equal(g->limit, 10);
    assert_int_equal(g->nrules, 2);
    const struct rule *r = &g->rules[0];
    assert_int_equal(r->kind, RULE_ALERT);
    assert_string_equal(r->name, "OrderLatencyHigh");
    assert_int_equal(r->for_ms, 60000);
    assert_int_equal(r->keep_firing_for_ms, 120000);
    assert_int_equal(r->line, 6);
    assert_int_equal(r->col, 9);
    assert_int_equal(r->nlabels, 1);
    assert_string_equal(r->labels[0].name, "severity");
    assert_string_equal(r->labels[0].value, "page");
    assert_int_equal(r->nannotations, 2);
    assert_string_equal(r->annotations[0].name, "description"); /* sorted */
    assert_string_equal(r->annotations[1].value,
                        "p99 on {{ $labels.venue }} is {{ $value | humanizeDuration }}");
    assert_string_equal(g->rules[1].expr, "sum by (venue) (rate(orders_total[1m]))");
    assert_int_equal(g->rules[1].kind, RULE_RECORD);
    assert_int_equal(rs->groups[1].interval_ms, 0);
    assert_string_equal(rs->groups[1].name, "risk");
    rule_set_free(rs);
}

static void test_glob(void **state)
{
    const char *paths[] = {RULES "/good/*.yml", RULES "/none/*.yml"};
    struct rule_set *rs = NULL;
    struct diag d = {0};
    assert_int_equal(rule_set_load(paths, 2, &rs, &d), BW_OK);
    assert_int_equal(rs->nfiles, 3); /* empty.yml, engine.yml, nogroups.yml */
    assert_int_equal(rs->ngroups, 2);
    assert_int_equal(rule_set_count(rs, NULL, NULL), 4);
    rule_set_free(rs);

    const char *missing[] = {RULES "/good/missing.yml"};
    assert_int_equal(rule_set_load(missing, 1, &rs, &d), BW_ENOENT);
}

/* Loads one bad fixture and checks the position and the message. */
static void bad(const char *name, int line, int col, const char *want)
{
    char path[512];
    snprintf(path, sizeof(path), RULES "/bad/%s", name);
    const char *paths[] = {path};
    struct rule_set *rs = NULL;
    struct diag d = {0};
    assert_int_equal(rule_set_load(paths, 1, &rs, &d), BW_EINVAL);
    assert_null(rs);
    assert_string_equal(d.file, path);
    if (d.line != line || d.col != col || !strstr(d.msg, want))
        fail_msg("%s: got %d:%d: %s; want %d:%d: ...%s...", name, d.line, d.col, d.msg, line, col,
                 want);
}

static void test_bad(void **state)
{
    bad("unknown_key.yml", 6, 9, "field severity not found in type rulefmt.RuleNode");
    bad("duplicate_group.yml", 4, 5, "groupname: \"g\" is repeated in the same file");
    bad("alert_and_record.yml", 5, 17, "only one of 'record' and 'alert' must be set");
    /* "sum(up" is at 5:15; Prometheus's parse error is at 1:7 of it: 5:21 in the file. */
    bad("bad_expr.yml", 5, 21, "could not parse expression: 1:7: parse error:");
    bad("bad_template.yml", 7, 20,
        "annotation \"summary\": template: __alert_A:1: function \"frobnicate\" not defined");
    bad("for_on_record.yml", 6, 14, "invalid field 'for' in recording rule");
    bad("bad_record_name.yml", 4, 17, "invalid recording rule name: job-up-sum");
    bad("bad_duration.yml", 6, 14, "for: not a valid duration string: \"5x\"");
}

static void test_more_bad(void **state)
{
    static const struct {
        const char *text;
        int line, col;
        const char *want;
    } cases[] = {
        {"groups:\n  - rules: []\n", 2, 5, "Groupname must not be empty"},
        {"groups:\n  - name: g\n    rules:\n      - expr: up\n", 4, 9,
         "one of 'record' or 'alert' must be set"},
        {"groups:\n  - name: g\n    rules:\n      - alert: A\n", 4, 9,
         "field 'expr' must be set in rule"},
        {"groups:\n  - name: g\n    rules:\n      - record: r\n        expr: up\n"
         "        annotations: {a: b}\n",
         6, 22, "invalid field 'annotations' in recording rule"},
        {"groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
         "        labels: {bad-name: x}\n",
         6, 18, "invalid label name"},
        {"groups:\n  - name: g\n    interval: soon\n", 3, 15, "not a valid duration string"},
        {"groups:\n  - name: g\n    limit: -1\n", 3, 12, "out of range"},
        {"group:\n  - name: g\n", 1, 1, "field group not found in type rulefmt.RuleGroups"},
        {"groups: [\n", 2, 1, "yaml:"},
    };
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/r.yml", dir);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(cases[i].text, f);
        fclose(f);
        const char *paths[] = {path};
        struct rule_set *rs = NULL;
        struct diag d = {0};
        assert_int_equal(rule_set_load(paths, 1, &rs, &d), BW_EINVAL);
        if (d.line != cases[i].line || d.col != cases[i].col || !strstr(d.msg, cases[i].want))
            fail_msg("case %zu: got %d:%d: %s", i, d.line, d.col, d.msg);
    }
}

/* Expressions parse with the given query options: an experimental aggregation is refused by
 * default and loads when the options enable it, as the evaluator would run it. */
static void test_query_options(void **state)
{
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/x.yml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: limitk(1, up)\n", f);
    fclose(f);
    const char *paths[] = {path};
    struct rule_set *rs = NULL;
    struct diag d = {0};
    assert_int_equal(rule_set_load(paths, 1, &rs, &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "limitk() is experimental"));
    assert_int_equal(d.line, 5);
    assert_int_equal(rule_set_load_opts(paths, 1, NULL, &rs, &d), BW_EINVAL);
    struct promql_options o = {.enable_experimental = true};
    assert_int_equal(rule_set_load_opts(paths, 1, &o, &rs, &d), BW_OK);
    assert_string_equal(rs->groups[0].rules[0].expr, "limitk(1, up)");
    rule_set_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_bad),
        cmocka_unit_test_setup_teardown(test_more_bad, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_query_options, tmpdir_setup, tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
