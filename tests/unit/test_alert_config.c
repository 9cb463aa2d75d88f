/* Tests for src/alert/config.c: a full `alerting:` section read into struct notify_config
 * (defaults, inheritance down the route tree, matchers compiled, receivers of each kind), and
 * each kind of mistake refused with the file:line:col of the offending node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "alert/notify.h"
#include "conf/conf.h"
#include "tsdb/tsdb.h"

/* Parses text's alerting: section (the root's only key) into c; returns the code, d filled. */
static int parse(const char *text, struct notify_config *c, struct diag *d)
{
    struct conf_doc *doc;
    memset(d, 0, sizeof(*d));
    notify_config_init(c);
    assert_int_equal(conf_doc_parse("bw.yml", text, strlen(text), &doc, d), BW_OK);
    const struct conf_node *root = conf_doc_root(doc);
    assert_int_equal(conf_len(root), 1);
    int rc = notify_config_parse(doc, conf_value(root, 0), c, d);
    conf_doc_free(doc);
    return rc;
}

static const char full[] = "alerting:\n"
                           "  rule_files: [monitoring/rules/*.yml]\n"
                           "  evaluation_interval: 30s\n"
                           "  external_url: http://bot-1:8000\n"
                           "  external_labels: {bot: bot-1}\n"
                           "  resend_delay: 2m\n"
                           "  alertmanagers: [{url: 'http://127.0.0.1:9093', timeout: 5s}]\n"
                           "  route:\n"
                           "    receiver: ops\n"
                           "    group_by: [alertname]\n"
                           "    group_wait: 10s\n"
                           "    routes:\n"
                           "      - matchers: ['severity=\"critical\"', 'alertname=~\"Foo.*\"']\n"
                           "        receiver: pager\n"
                           "        continue: true\n"
                           "        repeat_interval: 1h\n"
                           "      - matchers: [team!=infra]\n"
                           "        group_by: ['...']\n"
                           "  receivers:\n"
                           "    - name: ops\n"
                           "      webhook_configs: [{url: 'http://hooks:9000/x', max_alerts: 5}]\n"
                           "      slack_configs:\n"
                           "        - api_url: https://hooks.slack.com/services/T/B/X\n"
                           "          channel: '#alerts'\n"
                           "    - name: pager\n"
                           "      telegram_configs:\n"
                           "        - bot_token: '123:ABC'\n"
                           "          chat_id: -100123\n"
                           "          send_resolved: true\n"
                           "          timeout: 3s\n";

static void test_full(void **state)
{
    struct notify_config c;
    struct diag d;
    assert_int_equal(parse(full, &c, &d), BW_OK);
    assert_int_equal(c.nrule_files, 1);
    assert_string_equal(c.rule_files[0], "monitoring/rules/*.yml");
    assert_int_equal(c.evaluation_interval_ms, 30000);
    assert_int_equal(c.resend_delay_ms, 120000);
    assert_string_equal(c.external_url, "http://bot-1:8000");
    assert_int_equal(c.nexternal_labels, 1);
    assert_string_equal(c.external_labels[0].value, "bot-1");
    assert_int_equal(c.nalertmanagers, 1);
    assert_string_equal(c.alertmanagers[0].url, "http://127.0.0.1:9093");
    assert_int_equal(c.alertmanagers[0].timeout_ms, 5000);

    const struct notify_route *r = &c.route;
    assert_string_equal(r->receiver, "ops");
    assert_int_equal(r->ngroup_by, 1);
    assert_int_equal(r->group_wait_ms, 10000);
    assert_int_equal(r->group_interval_ms, 300000);    /* default */
    assert_int_equal(r->repeat_interval_ms, 14400000); /* default */
    assert_int_equal(r->nroutes, 2);
    const struct notify_route *p = &r->routes[0], *q = &r->routes[1];
    assert_string_equal(p->receiver, "pager");
    assert_true(p->cont);
    assert_int_equal(p->repeat_interval_ms, 3600000);
    assert_int_equal(p->group_wait_ms, 10000); /* inherited */
    assert_int_equal(p->ngroup_by, 1);         /* inherited */
    assert_int_equal(p->nmatchers, 2);
    assert_int_equal(p->matchers[0].op, TSDB_MATCH_EQ);
    assert_string_equal(p->matchers[0].name, "severity");
    assert_string_equal(p->matchers[0].value, "critical");
    assert_int_equal(p->matchers[1].op, TSDB_MATCH_RE);
    assert_true(tsdb_matcher_matches(&p->matchers[1], "FooBar"));
    assert_false(tsdb_matcher_matches(&p->matchers[1], "xFoo"));
    assert_string_equal(q->receiver, "ops"); /* inherited */
    assert_int_equal(q->nmatchers, 1);
    assert_int_equal(q->matchers[0].op, TSDB_MATCH_NE);
    assert_string_equal(q->matchers[0].value, "infra");
    assert_true(q->group_by_all);

    assert_int_equal(c.nreceivers, 2);
    const struct notify_receiver *ops = &c.receivers[0], *pager = &c.receivers[1];
    assert_string_equal(ops->name, "ops");
    assert_int_equal(ops->ntargets, 2);
    assert_int_equal(ops->targets[0].kind, NOTIFY_WEBHOOK);
    assert_true(ops->targets[0].send_resolved);
    assert_int_equal(ops->targets[0].max_alerts, 5);
    assert_int_equal(ops->targets[0].timeout_ms, 10000);
    assert_int_equal(ops->targets[1].kind, NOTIFY_SLACK);
    assert_false(ops->targets[1].send_resolved);
    assert_string_equal(ops->targets[1].channel, "#alerts");
    assert_int_equal(pager->ntargets, 1);
    assert_int_equal(pager->targets[0].kind, NOTIFY_TELEGRAM);
    assert_string_equal(pager->targets[0].url, "https://api.telegram.org");
    assert_string_equal(pager->targets[0].bot_token, "123:ABC");
    assert_int_equal(pager->targets[0].chat_id, -100123);
    assert_true(pager->targets[0].send_resolved);
    assert_int_equal(pager->targets[0].timeout_ms, 3000);
    notify_config_fini(&c);
}

static void test_defaults(void **state)
{
    struct notify_config c;
    struct diag d;
    assert_int_equal(parse("alerting: {}\n", &c, &d), BW_OK);
    assert_int_equal(c.evaluation_interval_ms, 15000);
    assert_int_equal(c.resend_delay_ms, 60000);
    assert_int_equal(c.nreceivers, 0);
    assert_null(c.route.receiver);
    notify_config_fini(&c);
}

/* Each mistake and where it is reported. */
static void expect_error(const char *text, int line, int col, const char *words)
{
    struct notify_config c;
    struct diag d;
    assert_int_equal(parse(text, &c, &d), BW_EINVAL);
    char msg[700];
    diag_format(&d, msg, sizeof(msg));
    if (d.line != line || d.col != col || !strstr(d.msg, words))
        fail_msg("got %s, want line %d col %d with \"%s\"", msg, line, col, words);
    assert_string_equal(d.file, "bw.yml");
    notify_config_fini(&c);
}

static void test_errors(void **state)
{
    expect_error("alerting:\n  route: {receiver: ops}\n  recievers: []\n", 3, 3, "recievers");
    expect_error("alerting:\n"
                 "  receivers: [{name: ops}]\n"
                 "  route:\n"
                 "    receiver: ops\n"
                 "    routes:\n"
                 "      - receiver: pager\n",
                 6, 19, "pager");
    expect_error("alerting:\n"
                 "  receivers: [{name: ops}]\n"
                 "  route:\n"
                 "    receiver: ops\n"
                 "    routes:\n"
                 "      - matchers: ['severity=~\"(\"']\n",
                 6, 20, "bad matcher");
    expect_error("alerting:\n"
                 "  receivers: [{name: ops}]\n"
                 "  route: {receiver: ops, group_wait: 5 minutes}\n",
                 3, 38, "group_wait");
    expect_error("alerting:\n"
                 "  receivers:\n"
                 "    - name: ops\n"
                 "    - name: ops\n",
                 4, 7, "defined twice");
    expect_error("alerting:\n"
                 "  receivers:\n"
                 "    - webhook_configs: [{url: 'http://x'}]\n",
                 3, 7, "name is required");
    expect_error("alerting:\n"
                 "  receivers:\n"
                 "    - name: ops\n"
                 "      webhook_configs: [{url: 'ftp://x'}]\n",
                 4, 31, "not an http");
    expect_error("alerting:\n"
                 "  receivers:\n"
                 "    - name: ops\n"
                 "      slack_configs: [{api_url: 'http://x', username: me}]\n",
                 4, 45, "username");
}

/* Aliases: a route that contains itself, a tree too deep, one that repeats a subtree into too
 * many routes — each refused where it is, never followed without end. */
static void test_route_aliases(void **state)
{
    (void)state;
    expect_error("alerting:\n"
                 "  receivers: [{name: ops}]\n"
                 "  route: &r {receiver: ops, routes: [*r]}\n",
                 3, 10, "contains itself");
    expect_error("alerting:\n"
                 "  receivers: [{name: ops}]\n"
                 "  route:\n"
                 "    receiver: ops\n"
                 "    routes:\n"
                 "      - &c {matchers: [a=b], routes: [{routes: [*c]}]}\n",
                 6, 9, "contains itself");
    /* A chain of aliases 70 routes deep (YAML itself cannot nest that far): the route that
     * would be the 65th level is refused — the chain's end, l0, first reached from l63. */
    char deep[4096];
    int len = snprintf(deep, sizeof(deep),
                       "alerting:\n  receivers: [{name: ops}]\n  route:\n"
                       "    receiver: ops\n    routes:\n"
                       "      - &l0 {matchers: [a=b]}\n");
    for (int i = 1; i < 70; i++)
        len += snprintf(deep + len, sizeof(deep) - (size_t)len,
                        "      - &l%d {matchers: [a=b], routes: [*l%d]}\n", i, i - 1);
    expect_error(deep, 6, 9, "nested deeper than 64");
    /* Each sibling holds the one before it twice: about 2^21 routes without a cycle. */
    char wide[4096];
    len = snprintf(wide, sizeof(wide),
                   "alerting:\n  receivers: [{name: ops}]\n  route:\n"
                   "    receiver: ops\n    routes:\n"
                   "      - &l0 {matchers: [a=b]}\n");
    for (int i = 1; i <= 20; i++)
        len += snprintf(wide + len, sizeof(wide) - (size_t)len,
                        "      - &l%d {matchers: [a=b], routes: [*l%d, *l%d]}\n", i, i - 1, i - 1);
    struct notify_config c;
    struct diag d;
    assert_int_equal(parse(wide, &c, &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "more than 10000 routes"));
    assert_true(d.line >= 6);
    notify_config_fini(&c);
}

/* Inheritance is resolved here once: an explicit 0s is kept, not taken for "inherit". */
static void test_zero_group_wait(void **state)
{
    (void)state;
    struct notify_config c;
    struct diag d;
    assert_int_equal(parse("alerting:\n"
                           "  receivers: [{name: ops}]\n"
                           "  route:\n"
                           "    receiver: ops\n"
                           "    group_wait: 45s\n"
                           "    routes:\n"
                           "      - {matchers: [a=b], group_wait: 0s}\n"
                           "      - {matchers: [a=c]}\n",
                           &c, &d),
                     BW_OK);
    assert_int_equal(c.route.group_wait_ms, 45000);
    assert_int_equal(c.route.routes[0].group_wait_ms, 0);
    assert_int_equal(c.route.routes[1].group_wait_ms, 45000);
    notify_config_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_route_aliases),
        cmocka_unit_test(test_zero_group_wait),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
