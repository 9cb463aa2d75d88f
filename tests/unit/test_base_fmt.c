/* Tests for src/base/fmt.c: fmt_double must print what Go's strconv.FormatFloat(v, 'g', -1, 64)
 * prints (the text Prometheus clients emit), and with om_float the OpenMetrics canonical form. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

struct fmt_case {
    double v;
    const char *go; /* strconv.FormatFloat(v, 'g', -1, 64) */
    const char *om; /* the same with ".0" when there is neither '.' nor an exponent */
};

static const struct fmt_case cases[] = {
    {0, "0", "0.0"},
    {1, "1", "1.0"},
    {-1, "-1", "-1.0"},
    {10, "10", "10.0"},
    {100000, "100000", "100000.0"},
    {999999, "999999", "999999.0"},
    {1000000, "1e+06", "1e+06"},
    {1234567, "1.234567e+06", "1.234567e+06"},
    {0.0001, "0.0001", "0.0001"},
    {0.00001, "1e-05", "1e-05"},
    {0.1, "0.1", "0.1"},
    {0.005, "0.005", "0.005"},
    {2.5, "2.5", "2.5"},
    {1e-6, "1e-06", "1e-06"},
    {2.5e-6, "2.5e-06", "2.5e-06"},
    {1e-10, "1e-10", "1e-10"},
    {1e10, "1e+10", "1e+10"},
    {1e100, "1e+100", "1e+100"},
    {0.1 + 0.2, "0.30000000000000004", "0.30000000000000004"},
    {1.0 / 3, "0.3333333333333333", "0.3333333333333333"},
    {-123.456, "-123.456", "-123.456"},
    {123456.7, "123456.7", "123456.7"},
    {9007199254740992.0, "9.007199254740992e+15", "9.007199254740992e+15"},
    {1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308"},
    {5e-324, "5e-324", "5e-324"},
    {2.2250738585072014e-308, "2.2250738585072014e-308", "2.2250738585072014e-308"},
    {1.7000000123e9, "1.7000000123e+09", "1.7000000123e+09"},
    {43123.57, "43123.57", "43123.57"},
    {0.125, "0.125", "0.125"},
    {-0.75, "-0.75", "-0.75"},
    {1234.5678, "1234.5678", "1234.5678"},
    {99999.99, "99999.99", "99999.99"},
    {999999.5, "999999.5", "999999.5"},
    {0.0001220703125, "0.0001220703125", "0.0001220703125"},
    {1.0000000000000002, "1.0000000000000002", "1.0000000000000002"},
    {0.1 * 3, "0.30000000000000004", "0.30000000000000004"},
    {2.675, "2.675", "2.675"},
    {1e-7, "1e-07", "1e-07"},
    {123456789.123, "1.23456789123e+08", "1.23456789123e+08"},
    {4.35, "4.35", "4.35"},
    /* the edges of the exact 128-bit path and beyond */
    {4503599627370495.5, "4.5035996273704955e+15", "4.5035996273704955e+15"},
    {3.814697265625e-06, "3.814697265625e-06", "3.814697265625e-06"},
    {3.9e-06, "3.9e-06", "3.9e-06"},
    {4.1e-06, "4.1e-06", "4.1e-06"},
    {0.7999999999999999, "0.7999999999999999", "0.7999999999999999"},
    {3.3333333333333337e-06, "3.3333333333333337e-06", "3.3333333333333337e-06"},
    {17636684.14285714, "1.763668414285714e+07", "1.763668414285714e+07"},
    {2.288818359375e-05, "2.288818359375e-05", "2.288818359375e-05"},
};

static void test_go_layout(void **state)
{
    (void)state;
    char out[32];
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        size_t n = fmt_double(out, cases[i].v, 0);
        assert_string_equal(out, cases[i].go);
        assert_int_equal(n, strlen(cases[i].go));
        n = fmt_double(out, cases[i].v, 1);
        assert_string_equal(out, cases[i].om);
        assert_int_equal(n, strlen(cases[i].om));
    }
}

static void test_special_values(void **state)
{
    (void)state;
    char out[32];
    fmt_double(out, NAN, 0);
    assert_string_equal(out, "NaN");
    fmt_double(out, INFINITY, 0);
    assert_string_equal(out, "+Inf");
    fmt_double(out, -INFINITY, 1);
    assert_string_equal(out, "-Inf");
    fmt_double(out, NAN, 1);
    assert_string_equal(out, "NaN");
}

/* The number of significant digits in a formatted value. */
static int sig_digits(const char *s)
{
    int n = 0, seen = 0, trailing = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s != '0' || seen) {
            seen = 1;
            n++;
            trailing = *s == '0' ? trailing + 1 : 0;
        }
    }
    return n - trailing;
}

/* Random doubles: the text reads back exactly and no shorter precision would. */
static void test_shortest_roundtrip(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    char out[32], e[40];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof(v));
        if (!isfinite(v))
            continue;
        if (i % 3 == 1)
            v = (double)(x % 100000000) / 1000.0; /* everyday magnitudes too */
        else if (i % 3 == 2)
            v = (double)(x % 1000000) / pow(10, (double)(x >> 60)); /* short decimals */
        fmt_double(out, v, 0);
        assert_true(strtod(out, NULL) == v);
        int d = sig_digits(out);
        if (d > 1) {
            snprintf(e, sizeof(e), "%.*e", d - 2, v);
            assert_false(strtod(e, NULL) == v);
        }
    }
}

static void test_goquoted(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_put_goquoted(&b, "a\"b\\c\n\t\x01\x7f \xc3\xa9\xff"), BW_OK);
    assert_string_equal(b.data, "\"a\\\"b\\\\c\\n\\t\\x01\\x7f \xc3\xa9\\xff\"");
    buf_fini(&b);
    buf_init(&b, 6); /* a cap: what fits is kept, the rest refused */
    assert_int_equal(buf_put_goquoted(&b, "abcdefgh"), BW_ENOSPC);
    assert_string_equal(b.data, "\"abcde");
    buf_fini(&b);
}

/* RFC 3339 as Go writes it: the fraction without trailing zeros, Go's zero time for unset. */
static void test_rfc3339(void **state)
{
    char out[32];
    /* 2025-01-01T09:59:45Z is 1735725585 s since the epoch. */
    assert_int_equal(fmt_rfc3339(out, INT64_C(1735725585123), 0), 20);
    assert_string_equal(out, "2025-01-01T09:59:45Z");
    fmt_rfc3339(out, INT64_C(1735725585123), 1);
    assert_string_equal(out, "2025-01-01T09:59:45.123Z");
    fmt_rfc3339(out, INT64_C(1735725585120), 1);
    assert_string_equal(out, "2025-01-01T09:59:45.12Z");
    fmt_rfc3339(out, INT64_C(1735725585000), 1);
    assert_string_equal(out, "2025-01-01T09:59:45Z");
    fmt_rfc3339(out, -1, 1); /* a millisecond before the epoch */
    assert_string_equal(out, "1969-12-31T23:59:59.999Z");
    assert_int_equal(fmt_go_time(out, 0), 20);
    assert_string_equal(out, "0001-01-01T00:00:00Z");
    fmt_go_time(out, 1);
    assert_string_equal(out, "1970-01-01T00:00:00.001Z");
}

/* Go's FormatFloat(v, 'e', -1, 64): the shortest digits, the exponent at least two digits. */
static void test_double_exp(void **state)
{
    char out[32];
    fmt_double_exp(out, 1, 0);
    assert_string_equal(out, "1e+00");
    fmt_double_exp(out, 0.93, 0);
    assert_string_equal(out, "9.3e-01");
    fmt_double_exp(out, 123456789, 1);
    assert_string_equal(out, "1.23456789E+08");
    fmt_double_exp(out, 0.1 + 0.2, 0);
    assert_string_equal(out, "3.0000000000000004e-01");
    fmt_double_exp(out, -2.5e-300, 0);
    assert_string_equal(out, "-2.5e-300");
    fmt_double_exp(out, -INFINITY, 0);
    assert_string_equal(out, "-Inf");
    fmt_double_exp(out, NAN, 0);
    assert_string_equal(out, "NaN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_double_exp),
        cmocka_unit_test(test_go_layout),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_shortest_roundtrip),
        cmocka_unit_test(test_goquoted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
