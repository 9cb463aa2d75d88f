/* Tests for src/base/buf.c: growth, the hard cap (a failed append leaves the buffer as it was),
 * NUL termination, and memory kept across buf_reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static void test_append_and_grow(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_null(b.data);
    assert_int_equal(buf_puts(&b, "hello"), BW_OK);
    assert_int_equal(buf_putc(&b, ' '), BW_OK);
    assert_int_equal(buf_append(&b, "world!!", 5), BW_OK);
    assert_int_equal(b.len, 11);
    assert_string_equal(b.data, "hello world");
    for (int i = 0; i < 1000; i++)
        assert_int_equal(buf_putc(&b, (char)('a' + i % 26)), BW_OK);
    assert_int_equal(b.len, 1011);
    assert_true(b.cap >= 1012);
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(b.data[11], 'a');
    assert_int_equal(b.data[1010], (char)('a' + 999 % 26));
    buf_fini(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_printf(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), BW_OK);
    assert_string_equal(b.data, "42-x");
    char big[600];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(buf_printf(&b, "[%s]", big), BW_OK); /* past the 256-byte fast path */
    assert_int_equal(b.len, 4 + 2 + 599);
    assert_int_equal(b.data[5], 'z');
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    buf_fini(&b);
}

static void test_limit(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 10);
    assert_int_equal(buf_puts(&b, "0123456789"), BW_OK);
    assert_int_equal(buf_putc(&b, 'x'), BW_ENOSPC);
    assert_int_equal(b.len, 10);
    assert_string_equal(b.data, "0123456789");
    buf_reset(&b);
    assert_int_equal(buf_puts(&b, "abc"), BW_OK);
    assert_int_equal(buf_printf(&b, "%s", "too long for it"), BW_ENOSPC);
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_reserve(&b, SIZE_MAX), BW_ENOSPC);
    buf_fini(&b);
}

static void test_reset_keeps_memory(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_reserve(&b, 5000), BW_OK);
    char *data = b.data;
    size_t cap = b.cap;
    for (int round = 0; round < 10; round++) {
        buf_reset(&b);
        assert_int_equal(b.len, 0);
        assert_string_equal(b.data, "");
        for (int i = 0; i < 100; i++)
            assert_int_equal(buf_puts(&b, "0123456789"), BW_OK);
        assert_ptr_equal(b.data, data);
        assert_int_equal(b.cap, cap);
    }
    buf_fini(&b);
}

static void test_reserve_overflow(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_puts(&b, "x"), BW_OK);
    assert_int_equal(buf_reserve(&b, SIZE_MAX), BW_ENOSPC);
    assert_string_equal(b.data, "x");
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_and_grow),
        cmocka_unit_test(test_printf),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_reset_keeps_memory),
        cmocka_unit_test(test_reserve_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
