/* Tests for src/alert/ruletest.c: the fixtures in tests/fixtures/ruletests/ (which
 * tests/integration/test_rule_unit_tests.sh also runs under promtool), failures printed in
 * promtool's words (the expected texts below are what promtool 2.42 printed for the same
 * files), rule evaluation errors, the expanding notation, and malformed files refused with
 * their positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "alert/rules.h"

static char tmpdir[64];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bw-ruletest.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[4][128];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Runs path; the output in *text (to free), the counts in *c. */
static int run(const char *path, char **text, struct ruletest_counts *c, struct diag *d)
{
    size_t len;
    FILE *out = open_memstream(text, &len);
    assert_non_null(out);
    memset(c, 0, sizeof(*c));
    int rc = ruletest_run_file(path, out, c, d);
    fclose(out);
    if (rc != BW_OK)
        print_message("%s:%d:%d: %s\n", d->file, d->line, d->col, d->msg);
    return rc;
}

static void test_fixture_passes(void **state)
{
    struct ruletest_counts c;
    struct diag d = {0};
    char *text = NULL;
    assert_int_equal(run(BW_FIXTURES "/ruletests/pass.yml", &text, &c, &d), BW_OK);
    assert_string_equal(text, "");
    assert_int_equal(c.tests, 3);
    assert_int_equal(c.failed, 0);
    free(text);
}

static void test_fixture_fails_like_promtool(void **state)
{
    struct ruletest_counts c;
    struct diag d = {0};
    char *text = NULL;
    assert_int_equal(run(BW_FIXTURES "/ruletests/fail.yml", &text, &c, &d), BW_OK);
    assert_int_equal(c.tests, 1);
    assert_int_equal(c.failed, 1);
    assert_string_equal(
        text,
        "  FAILED:\n"
        "    name: wrong,\n"
        "    alertname: OrdersOpenHigh, time: 3m, \n"
        "        exp:[\n"
        "            0:\n"
        "              Labels:{alertname=\"OrdersOpenHigh\", severity=\"page\", venue=\"A\"}\n"
        "              Annotations:{summary=\"open orders on A: 1.8k\"}\n"
        "            ], \n"
        "        got:[]\n"
        "\n"
        "    expr: \"venue:orders_open:sum\", time: 1m,\n"
        "        exp: {__name__=\"venue:orders_open:sum\", venue=\"A\"} 1.601E+03\n"
        "        got: {__name__=\"venue:orders_open:sum\", venue=\"A\"} 1.6E+03\n"
        "\n");
    free(text);
}

/* A rule that fails stops its test at that evaluation, reported as promtool does. */
static void test_rule_error(void **state)
{
    write_file("dup.yml", "groups:\n"
                          "  - name: d\n"
                          "    rules:\n"
                          "      - alert: Dup\n"
                          "        expr: m > 0\n"
                          "        labels:\n"
                          "          inst: same\n");
    const char *path = write_file("t.yml", "rule_files: [dup.yml]\n"
                                           "evaluation_interval: 90s\n"
                                           "tests:\n"
                                           "  - interval: 30s\n"
                                           "    input_series:\n"
                                           "      - series: 'm{inst=\"a\"}'\n"
                                           "        values: '_x3 1'\n"
                                           "      - series: 'm{inst=\"b\"}'\n"
                                           "        values: '_x3 1'\n"
                                           "    alert_rule_test:\n"
                                           "      - eval_time: 5m\n"
                                           "        alertname: Dup\n");
    struct ruletest_counts c;
    struct diag d = {0};
    char *text = NULL;
    assert_int_equal(run(path, &text, &c, &d), BW_OK);
    assert_int_equal(c.failed, 1);
    assert_string_equal(text, "  FAILED:\n"
                              "    rule: Dup, time: 1m30s, err: vector contains metrics with the "
                              "same labelset after applying alert labels\n\n");
    free(text);
}

/* The expanding notation, checked through PromQL tests: a+bxN, a-bxN, axN, _xN, stale,
 * exponents; a sample is at index × interval. */
static void test_notation(void **state)
{
    write_file("none.yml", "groups: []\n");
    const char *path = write_file(
        "n.yml", "rule_files: [none.yml]\n"
                 "evaluation_interval: 10s\n"
                 "tests:\n"
                 "  - interval: 10s\n"
                 "    input_series:\n"
                 "      - series: 'a'\n"
                 "        values: '1+2x3 -1-0.5x1 _x2 stale 2.5e2x1 +Inf NaN'\n"
                 "    promql_expr_test:\n"
                 "      - {expr: a, eval_time: 30s, exp_samples: [{labels: a, value: 7}]}\n"
                 "      - {expr: a, eval_time: 50s, exp_samples: [{labels: a, value: "
                 "-1.5}]}\n"
                 "      - {expr: a, eval_time: 70s, exp_samples: [{labels: a, value: "
                 "-1.5}]}\n"
                 "      - {expr: a, eval_time: 80s}\n"
                 "      - {expr: a, eval_time: 100s, exp_samples: [{labels: a, value: "
                 "250}]}\n"
                 "      - {expr: a, eval_time: 110s, exp_samples: [{labels: a, value: "
                 ".inf}]}\n");
    struct ruletest_counts c;
    struct diag d = {0};
    char *text = NULL;
    assert_int_equal(run(path, &text, &c, &d), BW_OK);
    assert_string_equal(text, "");
    assert_int_equal(c.failed, 0);
    free(text);
}

static void expect_invalid(const char *text, int line, int col, const char *what)
{
    write_file("none.yml", "groups: []\n");
    const char *path = write_file("bad.yml", text);
    struct ruletest_counts c;
    struct diag d = {0};
    char *out = NULL;
    assert_int_equal(run(path, &out, &c, &d), BW_EINVAL);
    assert_int_equal(d.line, line);
    assert_int_equal(d.col, col);
    if (!strstr(d.msg, what))
        fail_msg("'%s' does not say '%s'", d.msg, what);
    free(out);
}

static void test_malformed(void **state)
{
    expect_invalid("rule_files: [none.yml]\nevaluation_intervl: 1m\n", 2, 1, "evaluation_intervl");
    expect_invalid("tests:\n  - input_series:\n      - series: 'a'\n        values: '1+x3'\n", 4,
                   17, "bad series value");
    expect_invalid("tests:\n  - input_series:\n      - series: 'a{'\n        values: '1'\n", 3, 17,
                   "series");
    expect_invalid("tests:\n  - alert_rule_test:\n      - eval_time: 1m\n", 3, 9, "alertname");
    expect_invalid("tests:\n  - alert_rule_test:\n      - eval_time: 1x\n        alertname: A\n", 3,
                   20, "eval_time");
    expect_invalid("group_eval_order: [a, b, a]\n", 1, 26, "repeated");
    /* A rule file that does not load fails the file with the rule file's position. */
    write_file("broken.yml", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: "
                             "'sum('\n");
    const char *path = write_file("t.yml", "rule_files: [broken.yml]\ntests:\n  - name: x\n");
    struct ruletest_counts c;
    struct diag d = {0};
    char *out = NULL;
    assert_int_equal(run(path, &out, &c, &d), BW_EINVAL);
    assert_non_null(strstr(d.file, "broken.yml"));
    assert_int_equal(d.line, 5);
    free(out);
    assert_int_equal(run("/nonexistent/t.yml", &out, &c, &d), BW_ENOENT);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_passes),
        cmocka_unit_test(test_fixture_fails_like_promtool),
        cmocka_unit_test_setup_teardown(test_rule_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
