/* Tests for src/base/util.c's UTF-8 reader: what Go's utf8 package accepts and refuses
 * (overlong forms, surrogates, past U+10FFFF, truncation), and the code points it returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static size_t decode(const char *s, uint32_t *cp)
{
    return utf8_decode((const unsigned char *)s, strlen(s), cp);
}

static void test_decode(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(decode("A", &cp), 1);
    assert_int_equal(cp, 'A');
    assert_int_equal(decode("\xc3\xa9", &cp), 2); /* é */
    assert_int_equal(cp, 0xe9);
    assert_int_equal(decode("\xe2\x82\xac", &cp), 3); /* € */
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(decode("\xf0\x9f\x98\x80", &cp), 4); /* U+1F600 */
    assert_int_equal(cp, 0x1f600);
    assert_int_equal(decode("\xf4\x8f\xbf\xbf", &cp), 4); /* U+10FFFF, the last */
    assert_int_equal(cp, 0x10ffff);
    assert_int_equal(decode("\xc0\x80", NULL), 0);         /* overlong NUL */
    assert_int_equal(decode("\xe0\x80\xaf", NULL), 0);     /* overlong '/' */
    assert_int_equal(decode("\xf0\x82\x82\xac", NULL), 0); /* overlong € */
    assert_int_equal(decode("\xed\xa0\x80", NULL), 0);     /* a surrogate */
    assert_int_equal(decode("\xf4\x90\x80\x80", NULL), 0); /* past U+10FFFF */
    assert_int_equal(decode("\x80", NULL), 0);             /* a lone continuation byte */
    assert_int_equal(decode("\xe2\x82", NULL), 0);         /* cut short */
    assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x82\xac", 2, NULL), 0);
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(utf8_valid("symbol", 6));
    const char *mixed = "pr\xc3\xa9"
                        "fix \xe2\x82\xac";
    assert_true(utf8_valid(mixed, strlen(mixed)));
    assert_false(utf8_valid("ok\xff", 3));
    assert_false(utf8_valid("\xe2\x82\xac", 2)); /* the length given cuts the sequence */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
