/* Tests for src/base/labels.c: Prometheus's label-set order, lookup, hashing that separates
 * names from values, sorting, and the PromQL text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

#define LS(arr) ((struct labelset){(arr), BW_ARRAY_LEN(arr)})

static void test_compare(void **state)
{
    (void)state;
    struct label a[] = {{"__name__", "up"}, {"job", "api"}};
    struct label b[] = {{"__name__", "up"}, {"job", "db"}};
    struct label c[] = {{"__name__", "up"}};
    struct label d[] = {{"__name__", "up"}, {"instance", "x"}};
    struct labelset la = LS(a), lb = LS(b), lc = LS(c), ld = LS(d);
    assert_true(labelset_compare(&la, &lb) < 0); /* value decides */
    assert_true(labelset_compare(&lb, &la) > 0);
    assert_true(labelset_compare(&lc, &la) < 0); /* a prefix sorts first */
    assert_true(labelset_compare(&ld, &la) < 0); /* "instance" < "job": name decides first */
    assert_int_equal(labelset_compare(&la, &la), 0);
    struct labelset empty = {NULL, 0};
    assert_true(labelset_compare(&empty, &lc) < 0);
    assert_int_equal(labelset_compare(&empty, &empty), 0);
}

static void test_get(void **state)
{
    (void)state;
    struct label a[] = {{"__name__", "x"}, {"le", "0.5"}, {"symbol", "BTCUSDT"}};
    struct labelset l = LS(a);
    assert_string_equal(labelset_get(&l, "le"), "0.5");
    assert_string_equal(labelset_get(&l, "__name__"), "x");
    assert_null(labelset_get(&l, "side"));
    assert_null(labelset_get(&l, "a"));
}

static void test_hash(void **state)
{
    (void)state;
    struct label a[] = {{"a", "bc"}};
    struct label b[] = {{"ab", "c"}};
    struct label c[] = {{"a", "bc"}};
    struct labelset la = LS(a), lb = LS(b), lc = LS(c);
    assert_int_not_equal(labelset_hash(&la), labelset_hash(&lb));
    assert_int_equal(labelset_hash(&la), labelset_hash(&lc));
    struct labelset empty = {NULL, 0};
    assert_int_equal(labelset_hash(&empty), HASH_SEED);
}

static void test_sort(void **state)
{
    (void)state;
    struct label v[] = {{"symbol", "x"}, {"__name__", "m"}, {"le", "1"}, {"env", "p"}};
    labels_sort(v, BW_ARRAY_LEN(v));
    assert_string_equal(v[0].name, "__name__");
    assert_string_equal(v[1].name, "env");
    assert_string_equal(v[2].name, "le");
    assert_string_equal(v[3].name, "symbol");
}

static void test_format(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    struct label a[] = {{"__name__", "up"}, {"job", "a\"b\\c\nd"}, {"z", "1"}};
    struct labelset l = LS(a);
    assert_int_equal(labelset_format(&l, &b), BW_OK);
    assert_string_equal(b.data, "up{job=\"a\\\"b\\\\c\\nd\", z=\"1\"}");
    buf_reset(&b);
    struct label n[] = {{"x", "1"}};
    struct labelset ln = LS(n);
    assert_int_equal(labelset_format(&ln, &b), BW_OK);
    assert_string_equal(b.data, "{x=\"1\"}");
    buf_reset(&b);
    struct labelset empty = {NULL, 0};
    assert_int_equal(labelset_format(&empty, &b), BW_OK);
    assert_string_equal(b.data, "{}");
    buf_fini(&b);
}

/* labels_dup: a deep copy (no pointer into the source), malloc'd or in an arena, one block. */
static void test_dup(void **state)
{
    (void)state;
    char name[] = "job", value[] = "api";
    struct label a[] = {{"__name__", "up"}, {name, value}};
    struct labelset src = LS(a), out = {NULL, 0};
    struct label *v = labels_dup(&src, NULL, &out);
    assert_non_null(v);
    assert_ptr_equal(out.v, v);
    assert_int_equal(out.n, 2);
    assert_int_equal(labelset_compare(&out, &src), 0);
    for (size_t i = 0; i < out.n; i++) { /* every string lies inside the block, after the pairs */
        assert_true(out.v[i].name >= (const char *)(v + 2) && out.v[i].name != a[i].name);
        assert_true(out.v[i].value > out.v[i].name && out.v[i].value != a[i].value);
    }
    name[0] = 'x'; /* the copy does not see later changes of the source */
    value[0] = 'x';
    assert_string_equal(labelset_get(&out, "job"), "api");
    assert_null(labelset_get(&out, "xob"));
    free(v);

    struct labelset empty = {NULL, 0};
    out = (struct labelset){a, 7};
    v = labels_dup(&empty, NULL, &out);
    assert_non_null(v); /* NULL only means out of memory */
    assert_int_equal(out.n, 0);
    free(v);

    struct arena ar;
    arena_init(&ar, 0);
    v = labels_dup(&src, &ar, NULL);
    assert_non_null(v);
    struct labelset in_arena = {v, 2};
    assert_string_equal(labelset_get(&in_arena, "xob"), "xpi");
    assert_string_equal(labelset_get(&in_arena, "__name__"), "up");
    arena_fini(&ar);

    arena_init(&ar, 16); /* past the arena's limit: NULL and out unchanged */
    out = (struct labelset){a, 2};
    assert_null(labels_dup(&src, &ar, &out));
    assert_ptr_equal(out.v, a);
    arena_fini(&ar);
}

/* Label and metric names as Prometheus 2 accepts them. */
static void test_name_valid(void **state)
{
    static const struct {
        const char *s;
        bool label, metric;
    } cases[] = {
        {"a", true, true},        {"_", true, true},          {"job_1", true, true},
        {"__name__", true, true}, {"ns:rate5m", false, true}, {":x", false, true},
        {"1a", false, false},     {"", false, false},         {"a-b", false, false},
        {"a b", false, false},    {"é", false, false},        {"A9_z", true, true},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        const char *s = cases[i].s;
        if (prom_name_valid(s, strlen(s), false) != cases[i].label ||
            prom_name_valid(s, strlen(s), true) != cases[i].metric)
            fail_msg("\"%s\": label %d metric %d", s, cases[i].label, cases[i].metric);
    }
    assert_true(prom_name_valid("ab\0c", 2, false)); /* only the n bytes given */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare),    cmocka_unit_test(test_get),
        cmocka_unit_test(test_hash),       cmocka_unit_test(test_sort),
        cmocka_unit_test(test_format),     cmocka_unit_test(test_dup),
        cmocka_unit_test(test_name_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
