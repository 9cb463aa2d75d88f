/* Tests for src/conf/conf.c: node kinds and 1-based positions, nulls, syntax errors at their
 * position, conf_fields (unknown and repeated keys), the typed readers and file loading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "conf/conf.h"
#include "tmpdir.h"

static struct conf_doc *parse(const char *text)
{
    struct conf_doc *doc = NULL;
    struct diag d = {0};
    int rc = conf_doc_parse("t.yml", text, strlen(text), &doc, &d);
    if (rc != BW_OK)
        fail_msg("parse: %s", d.msg);
    return doc;
}

static void test_positions(void **state)
{
    struct conf_doc *doc = parse("groups:\n"
                                 "  - name: a\n"
                                 "    rules: [x, 'y']\n"
                                 "other: ~\n");
    const struct conf_node *root = conf_doc_root(doc);
    assert_string_equal(conf_doc_name(doc), "t.yml");
    assert_int_equal(conf_kind(root), CONF_MAP);
    assert_int_equal(conf_len(root), 2);
    assert_int_equal(conf_line(root), 1);
    assert_int_equal(conf_col(root), 1);
    const struct conf_node *groups = conf_value(root, 0);
    assert_int_equal(conf_kind(groups), CONF_SEQ);
    assert_int_equal(conf_line(groups), 2);
    assert_int_equal(conf_col(groups), 3); /* the "-" */
    const struct conf_node *g = conf_item(groups, 0);
    assert_int_equal(conf_kind(g), CONF_MAP);
    assert_int_equal(conf_line(g), 2);
    assert_int_equal(conf_col(g), 5); /* "name" */
    size_t len = 0;
    assert_string_equal(conf_scalar(conf_key(g, 0), &len), "name");
    assert_int_equal(len, 4);
    const struct conf_node *v = conf_value(g, 0);
    assert_string_equal(conf_scalar(v, NULL), "a");
    assert_int_equal(conf_line(v), 2);
    assert_int_equal(conf_col(v), 11);
    const struct conf_node *rules = conf_value(g, 1);
    assert_int_equal(conf_kind(rules), CONF_SEQ);
    assert_int_equal(conf_len(rules), 2);
    assert_int_equal(conf_line(rules), 3);
    assert_int_equal(conf_col(rules), 12);
    assert_int_equal(conf_col(conf_item(rules, 1)), 16); /* the opening quote */
    assert_string_equal(conf_scalar(conf_item(rules, 1), NULL), "y");
    assert_null(conf_item(rules, 2));
    assert_null(conf_scalar(rules, NULL));
    assert_true(conf_is_null(conf_value(root, 1)));
    assert_false(conf_is_null(v));
    assert_null(conf_key(rules, 0)); /* not a map */
    conf_doc_free(doc);
}

static void test_nulls(void **state)
{
    struct conf_doc *doc = parse("a:\nb: null\nc: ''\nd: \"null\"\ne: !!null x\n");
    const struct conf_node *root = conf_doc_root(doc);
    assert_true(conf_is_null(conf_value(root, 0)));
    assert_true(conf_is_null(conf_value(root, 1)));
    assert_false(conf_is_null(conf_value(root, 2))); /* a quoted empty string is a string */
    assert_false(conf_is_null(conf_value(root, 3)));
    assert_true(conf_is_null(conf_value(root, 4)));
    const char *s = "?";
    struct diag d = {0};
    assert_int_equal(conf_string(doc, conf_value(root, 1), "b", &s, &d), BW_OK);
    assert_string_equal(s, "");
    assert_int_equal(conf_string(doc, conf_value(root, 3), "d", &s, &d), BW_OK);
    assert_string_equal(s, "null");
    conf_doc_free(doc);
}

static void test_empty(void **state)
{
    struct conf_doc *doc = parse("");
    assert_null(conf_doc_root(doc));
    conf_doc_free(doc);
    doc = parse("# only a comment\n");
    assert_null(conf_doc_root(doc));
    conf_doc_free(doc);
}

static void test_syntax_error(void **state)
{
    const char *text = "a: b\n  c: d\n";
    struct conf_doc *doc = NULL;
    struct diag d = {0};
    assert_int_equal(conf_doc_parse("bad.yml", text, strlen(text), &doc, &d), BW_EINVAL);
    assert_null(doc);
    assert_string_equal(d.file, "bad.yml");
    /* libyaml finds the ':' of "c: d" where a mapping value may not start. */
    assert_int_equal(d.line, 2);
    assert_int_equal(d.col, 4);
    assert_non_null(strstr(d.msg, "mapping values are not allowed"));

    text = "a: [1, 2\n";
    assert_int_equal(conf_doc_parse("bad.yml", text, strlen(text), &doc, &d), BW_EINVAL);
    assert_int_equal(d.line, 2);
}

static void test_fields(void **state)
{
    static const char *const names[] = {"name", "interval", "rules"};
    const struct conf_node *out[3];
    struct diag d = {0};
    struct conf_doc *doc = parse("- name: g\n  rules: []\n"
                                 "- name: g\n  colour: red\n"
                                 "- name: a\n  name: b\n"
                                 "- [1]\n"
                                 "- {[1]: 2}\n");
    const struct conf_node *root = conf_doc_root(doc);

    assert_int_equal(conf_fields(doc, conf_item(root, 0), "rule group", names, 3, out, &d), BW_OK);
    assert_string_equal(conf_scalar(out[0], NULL), "g");
    assert_null(out[1]);
    assert_int_equal(conf_kind(out[2]), CONF_SEQ);

    assert_int_equal(conf_fields(doc, conf_item(root, 1), "rule group", names, 3, out, &d),
                     BW_EINVAL);
    assert_string_equal(d.file, "t.yml");
    assert_int_equal(d.line, 4);
    assert_int_equal(d.col, 3);
    assert_string_equal(
        d.msg, "field colour not found in type rule group (allowed: name, interval, rules)");

    assert_int_equal(conf_fields(doc, conf_item(root, 2), "rule group", names, 3, out, &d),
                     BW_EINVAL);
    assert_int_equal(d.line, 6);
    assert_int_equal(d.col, 3);
    assert_string_equal(d.msg, "mapping key \"name\" already defined at line 5");

    assert_int_equal(conf_fields(doc, conf_item(root, 3), "rule group", names, 3, out, &d),
                     BW_EINVAL);
    assert_int_equal(d.line, 7);
    assert_int_equal(d.col, 3);
    assert_string_equal(d.msg, "rule group: expected a map, got a list");

    assert_int_equal(conf_fields(doc, conf_item(root, 4), "rule group", names, 3, out, &d),
                     BW_EINVAL);
    assert_int_equal(d.line, 8);
    assert_int_equal(d.col, 4);
    conf_doc_free(doc);
}

static void test_readers(void **state)
{
    struct conf_doc *doc = parse("d1: 1m30s\n"  /* 0 */
                                 "d2: 250ms\n"  /* 1 */
                                 "d3: 0\n"      /* 2 */
                                 "d4: 5x\n"     /* 3 */
                                 "b1: true\n"   /* 4 */
                                 "b2: 'true'\n" /* 5 */
                                 "i1: -42\n"    /* 6 */
                                 "i2: 4.5\n"    /* 7 */
                                 "i3: 1000\n"   /* 8 */
                                 "f1: 0.25\n"   /* 9 */
                                 "f2: abc\n"    /* 10 */
                                 "s1: [a]\n"    /* 11 */
                                 "s2: 12\n");   /* 12 */
    const struct conf_node *r = conf_doc_root(doc);
    struct diag d = {0};
    int64_t ms, i;
    bool b;
    double f;
    const char *s;

    assert_int_equal(conf_duration(doc, conf_value(r, 0), "for", &ms, &d), BW_OK);
    assert_int_equal(ms, 90000);
    assert_int_equal(conf_duration(doc, conf_value(r, 1), "for", &ms, &d), BW_OK);
    assert_int_equal(ms, 250);
    assert_int_equal(conf_duration(doc, conf_value(r, 2), "for", &ms, &d), BW_OK);
    assert_int_equal(ms, 0);
    assert_int_equal(conf_duration(doc, conf_value(r, 3), "for", &ms, &d), BW_EINVAL);
    assert_int_equal(d.line, 4);
    assert_int_equal(d.col, 5);
    assert_string_equal(d.msg, "for: not a valid duration string: \"5x\"");

    assert_int_equal(conf_bool(doc, conf_value(r, 4), "x", &b, &d), BW_OK);
    assert_true(b);
    assert_int_equal(conf_bool(doc, conf_value(r, 5), "x", &b, &d), BW_EINVAL);
    assert_int_equal(d.line, 6);

    assert_int_equal(conf_int(doc, conf_value(r, 6), "limit", -100, 100, &i, &d), BW_OK);
    assert_int_equal(i, -42);
    assert_int_equal(conf_int(doc, conf_value(r, 7), "limit", 0, 100, &i, &d), BW_EINVAL);
    assert_int_equal(d.line, 8);
    assert_int_equal(conf_int(doc, conf_value(r, 8), "limit", 0, 100, &i, &d), BW_EINVAL);
    assert_int_equal(d.line, 9);
    assert_non_null(strstr(d.msg, "out of range"));

    assert_int_equal(conf_double(doc, conf_value(r, 9), "v", &f, &d), BW_OK);
    assert_true(f == 0.25);
    assert_int_equal(conf_double(doc, conf_value(r, 10), "v", &f, &d), BW_EINVAL);
    assert_int_equal(d.line, 11);
    assert_int_equal(d.col, 5);

    assert_int_equal(conf_string(doc, conf_value(r, 11), "expr", &s, &d), BW_EINVAL);
    assert_string_equal(d.msg, "expr: expected a string, got a list");
    assert_int_equal(d.line, 12);
    assert_int_equal(d.col, 5);
    assert_int_equal(conf_string(doc, conf_value(r, 12), "expr", &s, &d), BW_OK);
    assert_string_equal(s, "12");
    conf_doc_free(doc);
}

static void test_labels_strings(void **state)
{
    struct conf_doc *doc = parse("l1: {zeta: z, alpha: 1, mid: ''}\n"
                                 "l2: {ok: a, bad-name: b}\n"
                                 "l3: {a: x, a: y}\n"
                                 "l4: [a]\n"
                                 "s1: [x, 'y z']\n"
                                 "s2: {a: b}\n"
                                 "l5:\n");
    const struct conf_node *r = conf_doc_root(doc);
    struct arena a;
    arena_init(&a, 0);
    struct diag d = {0};
    struct label *l;
    size_t n;
    assert_int_equal(conf_labels(doc, conf_value(r, 0), "labels", &a, &l, &n, &d), BW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(l[0].name, "alpha");
    assert_string_equal(l[0].value, "1");
    assert_string_equal(l[1].name, "mid");
    assert_string_equal(l[1].value, "");
    assert_string_equal(l[2].name, "zeta");
    assert_string_equal(l[2].value, "z");

    assert_int_equal(conf_labels(doc, conf_value(r, 1), "labels", &a, &l, &n, &d), BW_EINVAL);
    assert_int_equal(d.line, 2);
    assert_int_equal(d.col, 13);
    assert_string_equal(d.msg, "labels: invalid label name: \"bad-name\"");
    assert_int_equal(conf_labels(doc, conf_value(r, 2), "labels", &a, &l, &n, &d), BW_EINVAL);
    assert_int_equal(d.line, 3);
    assert_int_equal(d.col, 12);
    assert_int_equal(conf_labels(doc, conf_value(r, 3), "labels", &a, &l, &n, &d), BW_EINVAL);
    assert_int_equal(conf_labels(doc, conf_value(r, 6), "labels", &a, &l, &n, &d), BW_OK);
    assert_int_equal(n, 0);

    const char **sv;
    assert_int_equal(conf_strings(doc, conf_value(r, 4), "files", &a, &sv, &n, &d), BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(sv[0], "x");
    assert_string_equal(sv[1], "y z");
    assert_int_equal(conf_strings(doc, conf_value(r, 5), "files", &a, &sv, &n, &d), BW_EINVAL);
    assert_int_equal(d.line, 6);
    arena_fini(&a);
    conf_doc_free(doc);
}

static void test_err_and_load(void **state)
{
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof(path), "%s/c.yml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("x:\n  y: [1, 2]\n", f);
    fclose(f);
    struct conf_doc *doc = NULL;
    struct diag d = {0};
    assert_int_equal(conf_doc_load(path, &doc, &d), BW_OK);
    assert_string_equal(conf_doc_name(doc), path);
    const struct conf_node *y = conf_value(conf_value(conf_doc_root(doc), 0), 0);
    assert_int_equal(conf_err(doc, y, &d, "bad %s", "thing"), BW_EINVAL);
    char line[512], want[512];
    diag_format(&d, line, sizeof(line));
    snprintf(want, sizeof(want), "%s:2:6: bad thing", path);
    assert_string_equal(line, want);
    assert_int_equal(conf_err(doc, NULL, &d, "whole file"), BW_EINVAL);
    assert_int_equal(d.line, 1);
    assert_int_equal(d.col, 1);
    conf_doc_free(doc);

    snprintf(path, sizeof(path), "%s/missing.yml", dir);
    assert_int_equal(conf_doc_load(path, &doc, &d), BW_ENOENT);
    assert_string_equal(d.file, path);
    assert_int_equal(conf_doc_load(dir, &doc, &d), BW_EIO); /* a directory */
}

static void test_alias_cycle(void **state)
{
    /* An alias inside its own anchor: the graph has a cycle, which nothing here walks. */
    struct conf_doc *doc = parse("a: &x [1, *x]\n");
    const struct conf_node *a = conf_value(conf_doc_root(doc), 0);
    assert_int_equal(conf_kind(a), CONF_SEQ);
    assert_ptr_equal(conf_item(a, 1), a);
    conf_doc_free(doc);
}

/* Nesting deeper than 64 maps and lists is refused at the first too-deep node, before
 * libyaml's loader (which takes minutes over 200,000 '[') sees the document. */
static void test_depth_limit(void **state)
{
    (void)state;
    size_t n = 200000;
    char *deep = malloc(n + 1);
    assert_non_null(deep);
    memset(deep, '[', n);
    deep[n] = '\0';
    struct conf_doc *doc = NULL;
    struct diag d = {0};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(conf_doc_parse("deep.yml", deep, n, &doc, &d), BW_EINVAL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec) < 1000000000L);
    assert_null(doc);
    assert_int_equal(d.line, 1);
    assert_int_equal(d.col, 65); /* the 65th '[' */
    assert_string_equal(d.msg, "yaml: nested deeper than 64 levels of maps and lists");
    free(deep);

    /* 64 levels load; a 65th does not. */
    char text[512];
    memset(text, '[', 64);
    memset(text + 64, ']', 64);
    text[128] = '\0';
    doc = parse(text);
    const struct conf_node *nd = conf_doc_root(doc);
    for (int i = 1; i < 64; i++)
        nd = conf_item(nd, 0);
    assert_int_equal(conf_kind(nd), CONF_SEQ);
    assert_int_equal(conf_len(nd), 0);
    conf_doc_free(doc);
    size_t k = 0;
    k += (size_t)snprintf(text + k, sizeof(text) - k, "a:\n  - ");
    for (int i = 0; i < 62; i++)
        text[k++] = '[';
    k += (size_t)snprintf(text + k, sizeof(text) - k, "\n    b: 1\n");
    assert_int_equal(conf_doc_parse("t.yml", text, k, &doc, &d), BW_EINVAL);
    /* The map {a:} and the list are 2, the '[' 62 more: the pair "b: 1" on line 3 is a
     * 65th, a single-pair map. */
    assert_int_equal(d.line, 3);
    assert_int_equal(d.col, 5);
    /* Only the first document is read, as the loader reads it. */
    doc =
        parse("a: 1\n---\n[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n");
    assert_string_equal(conf_scalar(conf_value(conf_doc_root(doc), 0), NULL), "1");
    conf_doc_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_nulls),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_readers),
        cmocka_unit_test(test_labels_strings),
        cmocka_unit_test_setup_teardown(test_err_and_load, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test(test_alias_cycle),
        cmocka_unit_test(test_depth_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
