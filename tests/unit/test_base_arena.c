/* Tests for src/base/arena.c: alignment, growth past a block, large requests, the limit (and
 * that it is reported), reset keeping a block, and string copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static void test_alloc_aligned_and_distinct(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    char *prev = NULL;
    for (int i = 1; i < 2000; i++) {
        char *p = arena_alloc(&a, (size_t)(i % 37) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)(i % 37) + 1); /* ASan catches an overlap or overrun */
        assert_ptr_not_equal(p, prev);
        prev = p;
    }
    assert_true(a.used >= 2000 * 16);
    arena_fini(&a);
    assert_null(a.head);
    assert_int_equal(a.used, 0);
}

static void test_large_request(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    unsigned char *big = arena_alloc(&a, 5u << 20); /* larger than the biggest block */
    assert_non_null(big);
    big[0] = 1;
    big[(5u << 20) - 1] = 2;
    int *zeros = arena_calloc(&a, 1000, sizeof(int));
    assert_non_null(zeros);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(zeros[i], 0);
    assert_null(arena_calloc(&a, SIZE_MAX / 2, 4)); /* overflow refused */
    arena_fini(&a);
}

static void test_limit(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 1000);
    assert_non_null(arena_alloc(&a, 900));
    assert_false(arena_over_limit(&a));
    assert_null(arena_alloc(&a, 200)); /* 912 + 208 > 1000 */
    assert_true(arena_over_limit(&a));
    assert_null(arena_alloc(&a, SIZE_MAX - 8)); /* no wrap-around */
    arena_reset(&a);
    assert_false(arena_over_limit(&a));
    assert_int_equal(a.used, 0);
    assert_non_null(arena_alloc(&a, 900));
    arena_fini(&a);
}

static void test_reset_keeps_first_block(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    char *first = arena_alloc(&a, 64);
    for (int i = 0; i < 100; i++)
        assert_non_null(arena_alloc(&a, 4000)); /* several more blocks */
    arena_reset(&a);
    assert_non_null(a.head);
    char *again = arena_alloc(&a, 64);
    assert_ptr_equal(first, again); /* the kept block is reused from its start */
    arena_fini(&a);
}

static void test_strings(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    char *s = arena_strdup(&a, "engine_cycles_total");
    assert_string_equal(s, "engine_cycles_total");
    char *t = arena_strndup(&a, "abcdef", 3);
    assert_string_equal(t, "abc");
    char *e = arena_strdup(&a, "");
    assert_string_equal(e, "");
    arena_fini(&a);
}

static void test_grow(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 0);
    int *v = NULL;
    size_t cap = 0;
    for (int i = 0; i < 100; i++) {
        size_t before = cap;
        int *nv = arena_grow(&a, v, (size_t)i, &cap, sizeof(*v));
        assert_non_null(nv);
        if ((size_t)i < before)
            assert_ptr_equal(nv, v); /* room left: the same array */
        else
            assert_int_equal(cap, before ? before * 2 : 8);
        v = nv;
        v[i] = i * 3;
    }
    assert_int_equal(cap, 128);
    for (int i = 0; i < 100; i++)
        assert_int_equal(v[i], i * 3); /* copied across every growth */
    size_t huge = SIZE_MAX / 4;
    assert_null(arena_grow(&a, v, huge, &huge, 8)); /* capacity times size would wrap */
    assert_int_equal(huge, SIZE_MAX / 4);
    arena_fini(&a);

    arena_init(&a, 256); /* a limit: growth stops, the array and capacity stay as they were */
    v = NULL;
    cap = 0;
    size_t n = 0;
    int *nv;
    while ((nv = arena_grow(&a, v, n, &cap, sizeof(*v)))) {
        v = nv;
        v[n] = (int)n;
        n++;
    }
    assert_true(arena_over_limit(&a));
    assert_int_equal(n, cap);
    assert_int_equal(v[n - 1], (int)n - 1);
    arena_fini(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_aligned_and_distinct),
        cmocka_unit_test(test_large_request),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_reset_keeps_first_block),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
