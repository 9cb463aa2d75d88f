/* Tests for src/promql/parse.c and format.c: the tree the parser builds (shape, values,
 * positions), its canonical text, and every error path with Prometheus 3.5's message and
 * position. */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "promql/ast.h"

static const struct promql_options plain = {0};
static const struct promql_options experimental = {.enable_experimental = true};

struct parsed {
    struct arena a;
    struct promql_node *n;
    struct promql_error err;
    int rc;
};

static void parse(struct parsed *p, const char *q, const struct promql_options *o)
{
    arena_init(&p->a, 0);
    p->rc = promql_parse(q, o, &p->a, &p->n, &p->err);
}

static void done(struct parsed *p)
{
    promql_node_release(p->n);
    arena_fini(&p->a);
}

/* ---- canonical text: the parse, printed back ---- */

static const struct {
    const char *q, *want;
} formats[] = {
    {"1", "1"},
    {"1 + 2 * 3", "1 + 2 * 3"},
    {"(1 + 2) * 3", "(1 + 2) * 3"},
    {"2 ^ 3 ^ 2", "2 ^ 3 ^ 2"},
    {"-2 ^ 2", "-2 ^ 2"},
    {"- - 1", "1"},
    {"+Inf", "Inf"},
    {"Inf ^ 2", "Inf ^ 2"},
    {"-inf", "-Inf"},
    {"nAn", "NaN"},
    {"0x1F", "31"},
    {"0755", "493"},
    {"1_000_000", "1000000"},
    {"1e21", "1000000000000000000000"},
    {".5e-3", "0.0005"},
    {"5m", "300"},
    {"1h30m", "5400"},
    {"foo", "foo"},
    {"foo{}", "foo"},
    {"foo{b=\"2\", a=~\"x.*\",}", "foo{a=~\"x.*\",b=\"2\"}"},
    {"{__name__=\"foo\", job!=\"\"}", "{__name__=\"foo\",job!=\"\"}"},
    {"{\"foo.bar\"}", "{__name__=\"foo.bar\"}"},
    {"{\"foo.bar\", \"l.x\"!~\"a\"}", "{\"l.x\"!~\"a\",__name__=\"foo.bar\"}"},
    {"foo:bar:rate5m", "foo:bar:rate5m"},
    {"sum", "sum"},
    {"by{a=\"b\"}", "by{a=\"b\"}"},
    {"offset + start", "offset + start"},
    {"foo[5m]", "foo[5m]"},
    {"foo[300]", "foo[5m]"},
    {"foo[1.5]", "foo[1s500ms]"},
    {"foo[1h30m] offset 1d", "foo[1h30m] offset 1d"},
    {"foo offset -5m", "foo offset -5m"},
    {"foo @ 100", "foo @ 100.000"},
    {"foo @ 1.5 offset 1m", "foo @ 1.500 offset 1m"},
    {"foo offset 1m @ -1.5", "foo @ -1.500 offset 1m"},
    {"foo @ start()", "foo @ start()"},
    {"foo[1m] @ end()", "foo[1m] @ end()"},
    {"rate(foo[5m])[30m:1m]", "rate(foo[5m])[30m:1m]"},
    {"rate(foo[5m])[30m:] offset 1m @ 10", "rate(foo[5m])[30m:] @ 10.000 offset 1m"},
    {"sum by (job) (rate(x[5m]))", "sum by (job) (rate(x[5m]))"},
    {"sum(rate(x[5m])) without (a, \"b.c\",)", "sum without (a, \"b.c\") (rate(x[5m]))"},
    {"SUM BY (job) (x)", "sum by (job) (x)"},
    {"topk(3, x)", "topk(3, x)"},
    {"count_values by (a) (\"v\", x)", "count_values by (a) (\"v\", x)"},
    {"quantile without () (0.9, x)", "quantile without () (0.9, x)"},
    {"a + on (x, y) group_left (z) b", "a + on (x, y) group_left (z) b"},
    {"a * ignoring (x) group_right b", "a * ignoring (x) group_right () b"},
    {"a > bool on () b", "a > bool on () b"},
    {"a and b or c unless d", "a and b or c unless d"},
    {"a atan2 b", "a atan2 b"},
    {"x == bool 1", "x == bool 1"},
    {"1 < bool 2", "1 < bool 2"},
    {"-x", "-x"},
    {"- -x", "--x"},
    {"label_replace(x, \"a\", \"$1\", 'b', `(.*)`)",
     "label_replace(x, \"a\", \"$1\", \"b\", \"(.*)\")"},
    {"\"a\\tb\\u00e9\\x41\\101\"", "\"a\\tbéAA\""},
    {"time()", "time()"},
    {"round(x)", "round(x)"},
    {"round(x, 0.5)", "round(x, 0.5)"},
    {"label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")",
     "label_join(x, \"d\", \",\", \"a\", \"b\", \"c\")"},
    {"hour()", "hour()"},
    {"x # a comment\n + 1", "x + 1"},
    {"{a=\"\\\"q\\\"\\n\"}", "{a=\"\\\"q\\\"\\n\"}"},
};

static void test_format(void **state)
{
    int bad = 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(formats); i++) {
        struct parsed p;
        parse(&p, formats[i].q, &plain);
        if (p.rc != BW_OK) {
            print_error("%s: %s\n", formats[i].q, p.err.msg);
            bad++;
        } else {
            struct buf b;
            buf_init(&b, 0);
            assert_int_equal(promql_node_format(p.n, &b), BW_OK);
            if (strcmp(b.data, formats[i].want) != 0) {
                print_error("%s: got '%s', want '%s'\n", formats[i].q, b.data, formats[i].want);
                bad++;
            }
            buf_fini(&b);
        }
        done(&p);
    }
    assert_int_equal(bad, 0);
}

/* ---- errors: Prometheus's message and position ---- */

static const struct {
    const char *q, *want;
} errors[] = {
    /* empty input, lexical errors */
    {"", "1:1: parse error: no expression found in input"},
    {"# just a comment\n\n", "3:1: parse error: no expression found in input"},
    {".", "1:1: parse error: unexpected character: '.'"},
    {"2.5.", "1:1: parse error: bad number or duration syntax: \"2.5.\""},
    {"100..4", "1:1: parse error: bad number or duration syntax: \"100..\""},
    {"0deadbeef", "1:1: parse error: bad number or duration syntax: \"0de\""},
    {"1_e2", "1:1: parse error: bad number or duration syntax: \"1_e\""},
    {"1e", "1:1: parse error: bad number or duration syntax: \"1e\""},
    {"12_", "1:1: parse error: bad number or duration syntax: \"12_\""},
    {"(1))", "1:4: parse error: unexpected right parenthesis ')'"},
    {"((1)", "1:5: parse error: unclosed left parenthesis"},
    {"(", "1:2: parse error: unclosed left parenthesis"},
    {"sum(rate(", "1:10: parse error: unclosed left parenthesis"},
    {"1 !~ 1", "1:3: parse error: unexpected character after '!': '~'"},
    {"1 =~ 1", "1:3: parse error: unexpected character after '=': '~'"},
    {"x $ 1", "1:3: parse error: unexpected character: '$'"},
    {"{", "1:2: parse error: unexpected end of input inside braces"},
    {"}", "1:1: parse error: unexpected character: '}'"},
    {"some}", "1:5: parse error: unexpected character: '}'"},
    {"some_metric{a:b=\"b\"}", "1:14: parse error: unexpected character inside braces: ':'"},
    {"foo{a*\"b\"}", "1:6: parse error: unexpected character inside braces: '*'"},
    {"foo{a>\"b\"}", "1:6: parse error: unexpected character inside braces: '>'"},
    {"foo{a!\"b\"}", "1:6: parse error: unexpected character after '!' inside braces: '\"'"},
    {"foo{1}", "1:5: parse error: unexpected character inside braces: '1'"},
    {"foo{{", "1:5: parse error: unexpected left brace '{'"},
    {"some_metric{a=\"\xff\"}", "1:15: parse error: invalid UTF-8 rune"},
    {"sum by (\"foo)(some_metric{})", "1:9: parse error: unterminated quoted string"},
    {"`\\``", "1:4: parse error: unterminated raw string"},
    {"\"\\", "1:1: parse error: escape sequence not terminated"},
    {"\"\\c\"", "1:1: parse error: unknown escape sequence U+0063 'c'"},
    {"\"\\x.\"", "1:1: parse error: illegal character U+002E '.' in escape sequence"},
    {"\"\\ud800\"", "1:1: parse error: escape sequence is an invalid Unicode code point"},
    {"'\\\"'", "1:1: parse error: unknown escape sequence U+0022 '\"'"},
    {"x]", "1:2: parse error: unexpected right bracket ']'"},
    {"foo[5mm]", "1:5: parse error: bad number or duration syntax: \"5mm\""},
    {"foo[5m1]", "1:5: parse error: bad number or duration syntax: \"5m1\""},
    {"foo[5m:1m1]", "1:8: parse error: bad number or duration syntax: \"1m1\""},
    {"foo[", "1:5: parse error: unexpected end of input in duration expression"},
    {"foo[5m", "1:7: parse error: unclosed left bracket"},
    {"foo[5m:1m:1m]", "1:10: parse error: unexpected repeated colon in duration expression"},
    {"foo[x]", "1:5: parse error: unexpected character in duration expression: 'x'"},
    /* grammar */
    {"1+", "1:3: parse error: unexpected end of input"},
    {"1 /", "1:4: parse error: unexpected end of input"},
    {"*1", "1:1: parse error: unexpected <op:*>"},
    {"-=", "1:2: parse error: unexpected \"=\""},
    {"++-++-+-+-<", "1:11: parse error: unexpected <op:<>"},
    {"foo bar", "1:5: parse error: unexpected identifier \"bar\""},
    {"foo 1.5", "1:5: parse error: unexpected number \"1.5\""},
    {"foo \"a very long string\"", "1:5: parse error: unexpected string \"\\\"a very lo\"..."},
    {"start()", "1:6: parse error: unexpected \"(\""},
    {"end()", "1:4: parse error: unexpected \"(\""},
    {"a - on(b) ignoring(c) d", "1:11: parse error: unexpected <ignoring>"},
    {"foo + group_left(baz) bar", "1:7: parse error: unexpected <group_left>"},
    {"foo > on(a) bool bar", "1:13: parse error: unexpected <bool>"},
    {"foo + on bar", "1:10: parse error: unexpected identifier \"bar\" in grouping opts, "
                     "expected \"(\""},
    {"some_metric{a=b}",
     "1:15: parse error: unexpected identifier \"b\" in label matching, expected string"},
    {"foo{gibberish}",
     "1:14: parse error: unexpected \"}\" in label matching, expected label matching operator"},
    {"foo{__name__= =}", "1:15: parse error: unexpected \"=\" in label matching, expected string"},
    {"foo{__name__ == \"bar\"}",
     "1:15: parse error: unexpected \"=\" in label matching, expected string"},
    {"foo{,}",
     "1:5: parse error: unexpected \",\" in label matching, expected identifier or \"}\""},
    {"foo{__name__=\"bar\" lol}",
     "1:20: parse error: unexpected identifier \"lol\" in label matching, expected \",\" or "
     "\"}\""},
    {"foo{\"a\"=}", "1:9: parse error: unexpected \"}\" in label matching, expected string"},
    {"foo[]", "1:5: parse error: unexpected \"]\" in subquery selector, expected number or "
              "duration"},
    {"foo[5m 1m]", "1:8: parse error: unexpected duration \"1m\" in subquery or range, "
                   "expected \":\" or \"]\""},
    {"foo[5m:1m 1m]", "1:11: parse error: unexpected duration \"1m\" in subquery selector, "
                      "expected \"]\""},
    {"foo[5m:(]", "1:9: parse error: unclosed left parenthesis"},
    {"some_metric[5m] OFFSET", "1:23: parse error: unexpected end of input in offset, "
                               "expected number or duration"},
    {"some_metric[5m] OFFSET 1mm", "1:24: parse error: bad number or duration syntax: \"1mm\""},
    {"some_metric[5m] @", "1:18: parse error: unexpected end of input in @, expected timestamp"},
    {"foo @ start(", "1:13: parse error: unclosed left parenthesis"},
    {"foo @ start", "1:12: parse error: unexpected end of input in @, expected timestamp"},
    {"sum without(==)(some_metric)",
     "1:13: parse error: unexpected <op:==> in grouping opts, expected label"},
    {"sum without(,)(some_metric)",
     "1:13: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum without(foo,,)(some_metric)",
     "1:17: parse error: unexpected \",\" in grouping opts, expected label"},
    {"sum without(foo bar)(x)", "1:17: parse error: unexpected identifier \"bar\" in grouping "
                                "opts, expected \",\" or \")\""},
    {"sum by (without) (x)",
     "1:9: parse error: unexpected <without> in grouping opts, expected label"},
    {"sum by (\"\") (x)", "1:10: parse error: invalid label name for grouping: \"\""},
    {"sum some_metric by (test)", "1:5: parse error: unexpected identifier \"some_metric\""},
    {"sum (some_metric) by test",
     "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\""},
    {"sum by (a) x", "1:12: parse error: unexpected identifier \"x\" in aggregation"},
    {"MIN keep_common (some_metric)", "1:5: parse error: unexpected identifier \"keep_common\""},
    {"sum (some_metric) without (test) by (test)", "1:34: parse error: unexpected <by>"},
    {"sum without (test) (some_metric) by (test)", "1:34: parse error: unexpected <by>"},
    {"f(a b)", "1:5: parse error: unexpected identifier \"b\""},
    {"(1 2)", "1:4: parse error: unexpected number \"2\""},
    /* errors raised while building the tree */
    {"sum () by (test)", "1:1: parse error: no arguments for aggregate expression provided"},
    {"topk(some_metric)", "1:1: parse error: wrong number of arguments for aggregate "
                          "expression provided, expected 2, got 1"},
    {"sum(a, b)", "1:1: parse error: wrong number of arguments for aggregate expression "
                  "provided, expected 1, got 2"},
    {"topk(some_metric,)", "1:17: parse error: trailing commas not allowed in function call "
                           "args"},
    {"limitk(1, x)", "1:1: parse error: limitk() is experimental and must be enabled with "
                     "--enable-feature=promql-experimental-functions"},
    {"limit_ratio(0.5, x)", "1:1: parse error: limit_ratio() is experimental and must be "
                            "enabled with --enable-feature=promql-experimental-functions"},
    {"non_existent_function_far_bar()",
     "1:1: parse error: unknown function with name \"non_existent_function_far_bar\""},
    {"a>b()", "1:3: parse error: unknown function with name \"b\""},
    {"mad_over_time(x[5m])", "1:1: parse error: function \"mad_over_time\" is not enabled"},
    {"sort_by_label(x, \"a\")", "1:1: parse error: function \"sort_by_label\" is not enabled"},
    {"1 offset 1d", "1:1: parse error: offset modifier must be preceded by an instant vector "
                    "selector or range vector selector or a subquery"},
    {"(foo) offset 1d", "1:1: parse error: offset modifier must be preceded by an instant "
                        "vector selector or range vector selector or a subquery"},
    {"foo offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"foo[5m] offset 1s offset 2s", "1:1: parse error: offset may not be set multiple times"},
    {"foo offset 9.5e10", "1:12: parse error: duration out of range"},
    {"foo[9.5e10]", "1:5: parse error: duration out of range"},
    {"foo offset 1h1d", "1:12: parse error: not a valid duration string: \"1h1d\""},
    {"foo offset 1y1d1y", "1:12: parse error: bad number or duration syntax: \"1y1d1\""},
    {"foo[5y1hs]", "1:5: parse error: unknown unit \"hs\" in duration \"5y1hs\""},
    {"foo[5m1h]", "1:5: parse error: not a valid duration string: \"5m1h\""},
    {"foo[5m1m]", "1:5: parse error: not a valid duration string: \"5m1m\""},
    {"foo[0m]", "1:5: parse error: duration must be greater than 0"},
    {"foo[-1]", "1:5: parse error: duration must be greater than 0"},
    {"foo[5m:0s]", "1:8: parse error: duration must be greater than 0"},
    {"some_metric OFFSET 1m[5m]", "1:22: parse error: no offset modifiers allowed before range"},
    {"some_metric @ 1234 [5m]", "1:20: parse error: no @ modifiers allowed before range"},
    {"(foo + bar)[5m]", "1:12: parse error: ranges only allowed for vector selectors"},
    {"foo[5m][5m]", "1:8: parse error: ranges only allowed for vector selectors"},
    {"rate(food[1m])[1h] offset 1h", "1:15: parse error: ranges only allowed for vector "
                                     "selectors"},
    {"foo @ +Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf"},
    {"foo @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf"},
    {"foo @ NaN", "1:1: parse error: timestamp out of bounds for @ modifier: NaN"},
    {"foo @ 9223372036854775808", "1:1: parse error: timestamp out of bounds for @ modifier: "
                                  "9223372036854775808.000000"},
    {"rate(some_metric[5m]) @ 1234", "1:1: parse error: @ modifier must be preceded by an "
                                     "instant vector selector or range vector selector or a "
                                     "subquery"},
    {"foo @ 1 @ 2", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo @ start() @ end()", "1:1: parse error: @ <timestamp> may not be set multiple times"},
    {"foo[5m+1m]", "1:5: parse error: experimental duration expression is not enabled"},
    {"foo offset (1m)", "1:13: parse error: experimental duration expression is not enabled"},
    {"1e400", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e400\": "
              "value out of range"},
    {"0x", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x\": "
           "invalid syntax"},
    /* the regex compiler's own words follow (a trailing '*' matches any rest) */
    {"foo{a=~\"(\"}", "1:5: parse error: error parsing regexp: *"},
    /* the type checker */
    {"1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier"},
    {"1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar "
                "expression"},
    {"1 or foo", "1:1: parse error: set operator \"or\" not allowed in binary scalar "
                 "expression"},
    {"foo unless 1", "1:1: parse error: set operator \"unless\" not allowed in binary scalar "
                     "expression"},
    {"1 or on(bar) foo", "1:1: parse error: vector matching only allowed between instant "
                         "vectors"},
    {"foo == on(bar) 10", "1:1: parse error: vector matching only allowed between instant "
                          "vectors"},
    {"foo and on(bar) group_left(baz) bar", "1:1: parse error: no grouping allowed for \"and\" "
                                            "operation"},
    {"foo or on(bar) group_right(baz) bar", "1:1: parse error: no grouping allowed for \"or\" "
                                            "operation"},
    {"http_requests{group=\"production\"} + on(instance) group_left(job,instance) "
     "cpu_count{type=\"smp\"}",
     "1:35: parse error: label \"instance\" must not occur in ON and GROUP clause at once"},
    {"foo + bool bar", "1:5: parse error: bool modifier can only be used on comparison "
                       "operators"},
    {"foo and bool 10", "1:5: parse error: bool modifier can only be used on comparison "
                        "operators"},
    {"foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant "
                    "vector types"},
    {"1 + \"a\"", "1:5: parse error: binary expression must contain only scalar and instant "
                  "vector types"},
    {"-\"string\"", "1:1: parse error: unary expression only allowed on expressions of type "
                    "scalar or instant vector, got \"string\""},
    {"-test[5m]", "1:1: parse error: unary expression only allowed on expressions of type "
                  "scalar or instant vector, got \"range vector\""},
    {"topk(some_metric, other_metric)", "1:6: parse error: expected type scalar in "
                                        "aggregation parameter, got instant vector"},
    {"count_values(5, other_metric)", "1:14: parse error: expected type string in aggregation "
                                      "parameter, got scalar"},
    {"sum(1)", "1:5: parse error: expected type instant vector in aggregation expression, got "
               "scalar"},
    {"floor()", "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0"},
    {"floor(some_metric, other_metric)",
     "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 2"},
    {"floor(1)", "1:7: parse error: expected type instant vector in call to function "
                 "\"floor\", got scalar"},
    {"hour(some_metric, some_metric, some_metric)",
     "1:1: parse error: expected at most 1 argument(s) in call to \"hour\", got 3"},
    {"time(some_metric)", "1:1: parse error: expected 0 argument(s) in call to \"time\", got 1"},
    {"label_join(x, \"a\")",
     "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 2"},
    {"label_join(x, \"a\", \"b\", 1)", "1:25: parse error: expected type string in call to "
                                       "function \"label_join\", got scalar"},
    {"rate(some_metric)", "1:6: parse error: expected type range vector in call to function "
                          "\"rate\", got instant vector"},
    {"rate(avg)", "1:6: parse error: expected type range vector in call to function \"rate\", "
                  "got instant vector"},
    {"test[5d] OFFSET 10s [10m:5s]", "1:1: parse error: subquery is only allowed on instant "
                                     "vector, got matrix instead"},
    {"(foo + bar{nm=\"val\"})[5m:][10m:5s]", "1:1: parse error: subquery is only allowed on "
                                             "instant vector, got matrix instead"},
    {"1[5m:]", "1:1: parse error: subquery is only allowed on instant vector, got scalar "
               "instead"},
    {"{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"},
    {"{x=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty "
                 "matcher"},
    {"{x=~\".*\"}", "1:1: parse error: vector selector must contain at least one non-empty "
                    "matcher"},
    {"{x!~\".+\"}", "1:1: parse error: vector selector must contain at least one non-empty "
                    "matcher"},
    {"{x!=\"a\"}", "1:1: parse error: vector selector must contain at least one non-empty "
                   "matcher"},
    {"foo{__name__=\"bar\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or "
                              "\"bar\""},
    {"x +\n  {}", "2:3: parse error: vector selector must contain at least one non-empty "
                  "matcher"},
};

static void test_errors(void **state)
{
    int bad = 0;
    for (size_t i = 0; i < BW_ARRAY_LEN(errors); i++) {
        struct parsed p;
        parse(&p, errors[i].q, &plain);
        size_t wn = strlen(errors[i].want);
        bool prefix = wn > 0 && errors[i].want[wn - 1] == '*';
        bool same = prefix ? strncmp(p.err.msg, errors[i].want, wn - 1) == 0
                           : strcmp(p.err.msg, errors[i].want) == 0;
        if (p.rc != BW_EINVAL || !same || p.err.kind != PROMQL_ERR_BAD_DATA) {
            print_error("%s\n   got  %d '%s'\n   want '%s'\n", errors[i].q, p.rc, p.err.msg,
                        errors[i].want);
            bad++;
        }
        assert_null(p.n);
        done(&p);
    }
    assert_int_equal(bad, 0);
}

static struct promql_node *parse_ok(struct parsed *p, const char *q)
{
    parse(p, q, &plain);
    if (p->rc != BW_OK)
        fail_msg("%s: %s", q, p->err.msg);
    return p->n;
}

/* Operator precedence and associativity, node kinds, types and positions. */
static void test_tree_binary(void **state)
{
    struct parsed p;
    struct promql_node *n = parse_ok(&p, "1 + 2 * 3");
    assert_int_equal(n->kind, NODE_BINARY);
    assert_int_equal(n->bin.op, OP_ADD);
    assert_int_equal(n->type, PROMQL_SCALAR);
    assert_int_equal(n->pos, 0);
    assert_int_equal(n->end, 9);
    assert_int_equal(n->bin.rhs->bin.op, OP_MUL);
    assert_int_equal(n->bin.rhs->pos, 4);
    assert_null(n->bin.matching);
    done(&p);

    n = parse_ok(&p, "2 ^ 3 ^ 2"); /* right-associative */
    assert_int_equal(n->bin.op, OP_POW);
    assert_int_equal(n->bin.lhs->kind, NODE_NUMBER);
    assert_int_equal(n->bin.rhs->bin.op, OP_POW);
    done(&p);

    n = parse_ok(&p, "a - b - c"); /* left-associative */
    assert_int_equal(n->bin.lhs->kind, NODE_BINARY);
    assert_string_equal(n->bin.rhs->sel.name, "c");
    done(&p);

    n = parse_ok(&p, "-2 ^ 2"); /* unary minus binds looser than ^ */
    assert_int_equal(n->kind, NODE_UNARY);
    assert_int_equal(n->unary.op, OP_SUB);
    assert_int_equal(n->unary.expr->bin.op, OP_POW);
    done(&p);

    n = parse_ok(&p, "-a * b"); /* ... and as tight as * */
    assert_int_equal(n->bin.op, OP_MUL);
    assert_int_equal(n->bin.lhs->kind, NODE_UNARY);
    done(&p);

    n = parse_ok(&p, "-1.5");
    assert_int_equal(n->kind, NODE_NUMBER);
    assert_true(n->number == -1.5);
    assert_int_equal(n->pos, 0);
    done(&p);

    n = parse_ok(&p, "a or b and c unless d == e + f");
    assert_int_equal(n->bin.op, OP_OR);
    n = n->bin.rhs;
    assert_int_equal(n->bin.op, OP_UNLESS);
    assert_int_equal(n->bin.lhs->bin.op, OP_AND);
    assert_int_equal(n->bin.rhs->bin.op, OP_EQL);
    assert_int_equal(n->bin.rhs->bin.rhs->bin.op, OP_ADD);
    assert_int_equal(n->bin.matching->card, CARD_MANY_TO_MANY);
    done(&p);

    n = parse_ok(&p, "a + on(x, y) group_left(z) b");
    assert_int_equal(n->type, PROMQL_VECTOR);
    struct vector_matching *m = n->bin.matching;
    assert_non_null(m);
    assert_true(m->on);
    assert_int_equal(m->card, CARD_MANY_TO_ONE);
    assert_int_equal(m->nlabels, 2);
    assert_string_equal(m->labels[1], "y");
    assert_int_equal(m->ninclude, 1);
    assert_string_equal(m->include[0], "z");
    done(&p);

    n = parse_ok(&p, "a / ignoring(x) group_right b");
    assert_false(n->bin.matching->on);
    assert_int_equal(n->bin.matching->card, CARD_ONE_TO_MANY);
    assert_int_equal(n->bin.matching->ninclude, 0);
    done(&p);

    n = parse_ok(&p, "a > bool 1");
    assert_true(n->bin.return_bool);
    assert_null(n->bin.matching); /* not two vectors */
    assert_int_equal(n->type, PROMQL_VECTOR);
    done(&p);

    n = parse_ok(&p, "sum(x) + rate(y[5m])");
    assert_int_equal(n->bin.rhs->kind, NODE_CALL);
    assert_int_equal(n->bin.rhs->pos, 9);
    assert_int_equal(n->bin.rhs->end, 20);
    done(&p);
}

/* Selectors, ranges, subqueries, offsets and @. */
static void test_tree_selectors(void **state)
{
    struct parsed p;
    struct promql_node *n = parse_ok(&p, "foo{a=\"b\", c=~\"d|e\"} offset -5m");
    assert_int_equal(n->kind, NODE_VECTOR_SELECTOR);
    assert_string_equal(n->sel.name, "foo");
    assert_int_equal(n->sel.nmatchers, 3);
    assert_int_equal(n->sel.matchers[0].op, TSDB_MATCH_EQ);
    assert_string_equal(n->sel.matchers[0].name, "a");
    assert_int_equal(n->sel.matchers[1].op, TSDB_MATCH_RE);
    assert_true(tsdb_matcher_matches(&n->sel.matchers[1], "e"));
    assert_false(tsdb_matcher_matches(&n->sel.matchers[1], "de"));
    assert_string_equal(n->sel.matchers[2].name, LABEL_NAME);
    assert_string_equal(n->sel.matchers[2].value, "foo");
    assert_int_equal(n->sel.offset_ms, -300000);
    assert_int_equal(n->sel.at.kind, AT_NONE);
    assert_int_equal(n->end, 31);
    done(&p);

    n = parse_ok(&p, "{\"foo.bar\", job!~\"x\"}");
    assert_null(n->sel.name);
    assert_int_equal(n->sel.nmatchers, 2);
    assert_string_equal(n->sel.matchers[0].name, LABEL_NAME);
    assert_string_equal(n->sel.matchers[0].value, "foo.bar");
    assert_int_equal(n->sel.matchers[1].op, TSDB_MATCH_NRE);
    done(&p);

    n = parse_ok(&p, "foo[5m] @ 1.5");
    assert_int_equal(n->kind, NODE_MATRIX_SELECTOR);
    assert_int_equal(n->type, PROMQL_MATRIX);
    assert_int_equal(n->msel.range_ms, 300000);
    assert_int_equal(n->msel.vs->sel.at.kind, AT_TIME);
    assert_int_equal(n->msel.vs->sel.at.t_ms, 1500);
    done(&p);

    n = parse_ok(&p, "foo[300]");
    assert_int_equal(n->msel.range_ms, 300000);
    done(&p);
    n = parse_ok(&p, "foo[1.5]");
    assert_int_equal(n->msel.range_ms, 1500);
    done(&p);
    n = parse_ok(&p, "foo @ -1 offset 1h");
    assert_int_equal(n->sel.at.t_ms, -1000);
    assert_int_equal(n->sel.offset_ms, 3600000);
    done(&p);

    n = parse_ok(&p, "rate(x[1m])[10m:30s] @ end() offset 1m");
    assert_int_equal(n->kind, NODE_SUBQUERY);
    assert_int_equal(n->type, PROMQL_MATRIX);
    assert_int_equal(n->subq.range_ms, 600000);
    assert_int_equal(n->subq.step_ms, 30000);
    assert_int_equal(n->subq.at.kind, AT_END);
    assert_int_equal(n->subq.offset_ms, 60000);
    assert_int_equal(n->subq.expr->kind, NODE_CALL);
    assert_int_equal(n->subq.expr->call.fn->id, FN_RATE);
    done(&p);

    n = parse_ok(&p, "x[5m:]");
    assert_int_equal(n->subq.step_ms, 0);
    done(&p);

    n = parse_ok(&p, "sum without (a, b) (x)");
    assert_int_equal(n->kind, NODE_AGGREGATE);
    assert_int_equal(n->agg.op, AGG_SUM);
    assert_true(n->agg.without);
    assert_int_equal(n->agg.ngrouping, 2);
    assert_null(n->agg.param);
    done(&p);

    n = parse_ok(&p, "topk by (job) (5, x)");
    assert_int_equal(n->agg.op, AGG_TOPK);
    assert_true(n->agg.param->number == 5);
    assert_false(n->agg.without);
    assert_string_equal(n->agg.grouping[0], "job");
    done(&p);

    n = parse_ok(&p, "\"\\xff\\u00e9\"");
    assert_int_equal(n->type, PROMQL_STRING);
    assert_memory_equal(n->string, "\xff\xc3\xa9", 4);
    done(&p);

    assert_string_equal(promql_type_name(PROMQL_MATRIX), "matrix");
    assert_string_equal(promql_type_name(PROMQL_VECTOR), "vector");
    assert_string_equal(promql_type_name(PROMQL_SCALAR), "scalar");
    assert_string_equal(promql_type_name(PROMQL_STRING), "string");
    assert_int_equal(promql_node_type(NULL), PROMQL_NONE);
}

/* Writes open × reps, mid, close × reps into q (which must have room) as a query. */
static void nest(char *q, const char *open, const char *mid, const char *close, size_t reps)
{
    size_t k = 0;
    for (size_t i = 0; i < reps; i++)
        k += (size_t)sprintf(q + k, "%s", open);
    k += (size_t)sprintf(q + k, "%s", mid);
    for (size_t i = 0; i < reps; i++)
        k += (size_t)sprintf(q + k, "%s", close);
}

/* Deep nesting fails with a message, never with a stack overflow. */
static void test_depth_limit(void **state)
{
    size_t n = 200000;
    char *q = malloc(4 * n + 16);
    assert_non_null(q);
    static const struct {
        const char *open, *mid, *close;
        size_t reps;
        bool ok;
    } shapes[] = {
        {"(", "1", ")", PROMQL_MAX_DEPTH - 1, true},
        {"(", "1", ")", 200000, false},
        {"-", "1", "", 200000, false},
        {"", "x", "[1m:]", 5000, false},
        {"", "x", " + 1", 900, true},
        {"", "x", " + 1", 5000, false},
        {"abs(", "x", ")", 5000, false},
        {"", "x", " offset 1m", 3, false},
    };
    for (size_t s = 0; s < BW_ARRAY_LEN(shapes); s++) {
        nest(q, shapes[s].open, shapes[s].mid, shapes[s].close, shapes[s].reps);
        struct parsed p;
        parse(&p, q, &plain);
        if (shapes[s].ok) {
            assert_int_equal(p.rc, BW_OK);
        } else {
            assert_int_equal(p.rc, BW_EINVAL);
            if (shapes[s].reps > 3 && !strstr(p.err.msg, "nested too deeply"))
                fail_msg("shape %zu: %s", s, p.err.msg);
        }
        done(&p);
    }
    free(q);
}

/* The error of a too long chain of binary operators names the operator that made the tree
 * too high: in "x + 1 + 1 ...", the k-th '+' is at column 4k - 1, and the 1000th makes the
 * tree 1001 levels high. Of a too deep nesting, the token past the limit. */
static void test_depth_limit_position(void **state)
{
    static const struct {
        const char *open, *mid, *close;
        size_t reps;
        const char *want;
    } shapes[] = {
        {"", "x", " + 1", 5000, "1:3999: parse error: expression nested too deeply"},
        {"(", "1", ")", 5000, "1:1001: parse error: expression nested too deeply"},
        {"abs(", "x", ")", 5000, "1:4001: parse error: expression nested too deeply"},
    };
    char *q = malloc(5 * 5000 + 16);
    assert_non_null(q);
    for (size_t s = 0; s < BW_ARRAY_LEN(shapes); s++) {
        nest(q, shapes[s].open, shapes[s].mid, shapes[s].close, shapes[s].reps);
        struct parsed p;
        parse(&p, q, &plain);
        assert_int_equal(p.rc, BW_EINVAL);
        if (strncmp(p.err.msg, shapes[s].want, strlen(shapes[s].want)) != 0)
            fail_msg("shape %zu: %s, want %s", s, p.err.msg, shapes[s].want);
        done(&p);
    }
    free(q);
}

/* A parse that fails after compiling matchers releases them (ASan checks). */
static void test_release_on_error(void **state)
{
    static const char *const q[] = {
        "foo{a=~\"x.*\"} + bar{b!~\"y\"} +",
        "sum(foo{a=~\"x\"}, bar{a=~\"y\"})",
        "foo{a=~\"x\", b=~\"(\"}",
        "{a=~\".*\"} + {b=~\".+\"}",
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(q); i++) {
        struct parsed p;
        parse(&p, q[i], &plain);
        assert_int_equal(p.rc, BW_EINVAL);
        done(&p);
    }
}

/* With enable_experimental: duration arithmetic (folded while parsing), the functions and
 * aggregations behind Prometheus's feature flag. */
static void test_experimental(void **state)
{
    static const struct {
        const char *q, *want;
    } ok[] = {
        {"foo[5m+1m]", "foo[6m]"},
        {"foo[2m*(10+5)]", "foo[30m]"},
        {"foo[1h30m % 1h]", "foo[30m]"},
        {"foo[30m1s-30m1s % 1m]", "foo[30m]"},
        {"foo[-5m+35m]", "foo[30m]"},
        {"foo[1h/2]", "foo[30m]"},
        {"foo offset (100 + 2)", "foo offset 1m42s"},
        {"foo[29s+1s:((((8 - 2) / 3) * 7s) % 4) + 8000ms]", "foo[30s:10s]"},
        {"foo[29s+1s:20*500ms] offset -(20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms))",
         "foo[30s:10s] offset -3m20s"},
        {"foo offset 100 + 2", "foo offset 1m40s + 2"},
        {"foo offset -2 ^ 2", "foo offset -2s ^ 2"},
        {"foo offset -2 * 2", "foo offset -2s * 2"},
        {"foo offset (-2 ^ 2)", "foo offset -4s"},
        {"mad_over_time(x[5m])", "mad_over_time(x[5m])"},
        {"limitk(1, x)", "limitk(1, x)"},
        {"limit_ratio(0.5, x)", "limit_ratio(0.5, x)"},
        {"sort_by_label(x, \"a\", \"b\")", "sort_by_label(x, \"a\", \"b\")"},
        {"info(x, {a=\"b\"})", "info(x, {a=\"b\"})"},
        {"info(x, {a=~\".*\"})", "info(x, {a=~\".*\"})"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(ok); i++) {
        struct parsed p;
        parse(&p, ok[i].q, &experimental);
        if (p.rc != BW_OK)
            fail_msg("%s: %s", ok[i].q, p.err.msg);
        struct buf b;
        buf_init(&b, 0);
        assert_int_equal(promql_node_format(p.n, &b), BW_OK);
        if (strcmp(b.data, ok[i].want) != 0)
            fail_msg("%s: got '%s', want '%s'", ok[i].q, b.data, ok[i].want);
        buf_fini(&b);
        done(&p);
    }
    static const struct {
        const char *q, *want;
    } bad[] = {
        {"foo[5s/0d]", "1:7: parse error: division by zero"},
        {"foo offset (4d/0)", "1:15: parse error: division by zero"},
        {"foo[5s%0d]", "1:7: parse error: modulo by zero"},
        {"foo[5m-10m]", "1:5: parse error: duration must be greater than 0"},
        {"foo[1m:1m-2m]", "1:8: parse error: duration must be greater than 0"},
        {"info(x, target_info{foo=\"bar\"})",
         "1:9: parse error: expected label selectors only, got vector selector instead"},
        {"info(x, 1)", "1:1: parse error: expected type instant vector in call to function "
                       "\"info\", got scalar"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        struct parsed p;
        parse(&p, bad[i].q, &experimental);
        if (p.rc != BW_EINVAL || strcmp(p.err.msg, bad[i].want) != 0)
            fail_msg("%s: got %d '%s', want '%s'", bad[i].q, p.rc, p.err.msg, bad[i].want);
        done(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_experimental),
        cmocka_unit_test(test_tree_binary),
        cmocka_unit_test(test_tree_selectors),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_depth_limit_position),
        cmocka_unit_test(test_release_on_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
