/* Tests for src/base/parse.c: the strict number and UTC time readers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/base.h"

static void test_finite(void **state)
{
    double v = -1;
    assert_int_equal(parse_finite("42.5", &v), BW_OK);
    assert_true(v == 42.5);
    assert_int_equal(parse_finite("-1e-3", &v), BW_OK);
    assert_true(v == -0.001);
    static const char *const bad[] = {"", "abc", "1.5x", " 1", "1 ", "nan", "inf", "1e999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        assert_int_equal(parse_finite(bad[i], &v), BW_EINVAL);
        assert_true(v == 7); /* nothing written */
    }
}

/* Go's strconv.ParseFloat: what it takes that strtod also takes, what strtod takes that Go
 * refuses (signed or parenthesised NaN, hexadecimal without a 'p' exponent, spaces), Go's
 * underscores, and an overflow as a range error with the infinity. */
static void test_go_float(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        double want;
    } good[] = {
        {"1", 1},          {"-2.5", -2.5},      {"+.5", 0.5},
        {"5.", 5},         {"1e3", 1000},       {"1E-2", 0.01},
        {"0x1p-2", 0.25},  {"0X1.8P1", 3},      {"-0x10p0", -16},
        {"1_000", 1000},   {"0x_1p0", 1},       {"1.5_0e1_0", 1.5e10},
        {"Inf", INFINITY}, {"-inf", -INFINITY}, {"+Infinity", INFINITY},
        {"1e-400", 0},
    };
    double v;
    for (size_t i = 0; i < BW_ARRAY_LEN(good); i++) {
        v = 7;
        assert_int_equal(parse_go_float(good[i].s, &v), BW_OK);
        assert_true(v == good[i].want);
    }
    assert_int_equal(parse_go_float("NaN", &v), BW_OK);
    assert_true(isnan(v));
    assert_int_equal(parse_go_float("nan", &v), BW_OK);
    assert_true(isnan(v));
    static const char *const bad[] = {
        "",     " 1",     "1 ",    "-NaN", "+nan", "nan(1)", "NaN1", "0x10", "0x1.8",
        "0x",   "1e",     "1e+",   "e5",   ".",    "1..2",   "1_",   "_1",   "1__0",
        "1._5", "0x1p_1", "infin", "inf1", "1f",   "0b101",  "1,5",  "--1",  "+",
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        v = 7;
        assert_int_equal(parse_go_float(bad[i], &v), BW_EINVAL);
        assert_true(v == 7);
    }
    assert_int_equal(parse_go_float("1e400", &v), BW_ERANGE);
    assert_true(isinf(v) && v > 0);
    assert_int_equal(parse_go_float("-0x1p5000", &v), BW_ERANGE);
    assert_true(isinf(v) && v < 0);
}

static void test_utc_ms(void **state)
{
    int64_t t = 0;
    assert_int_equal(parse_utc_ms("1704067200000", &t), BW_OK);
    assert_int_equal(t, 1704067200000LL);
    assert_int_equal(parse_utc_ms("2024-01-01", &t), BW_OK);
    assert_int_equal(t, 1704067200000LL);
    assert_int_equal(parse_utc_ms("2024-03-04T09:30:00Z", &t), BW_OK);
    assert_int_equal(t, 1709544600000LL);
    assert_int_equal(parse_utc_ms("2024-03-04 09:30", &t), BW_OK);
    assert_int_equal(t, 1709544600000LL);
    assert_int_equal(parse_utc_ms("2024-03-04T09:30:00.25+00:00", &t), BW_OK);
    assert_int_equal(t, 1709544600250LL);
    assert_int_equal(parse_utc_ms("1969-12-31T23:59:59Z", &t), BW_OK);
    assert_int_equal(t, -1000);
    assert_int_equal(parse_utc_ms("2000-02-29", &t), BW_OK); /* leap day */
    assert_int_equal(t, 951782400000LL);
    static const char *const bad[] = {"",
                                      "2024-1-01",
                                      "2024-13-01",
                                      "2024-01-32",
                                      "2024-01-01T24:00",
                                      "2024-01-01T09:60",
                                      "2024-01-01T09",
                                      "2024-01-01T09:30+02:00",
                                      "2024-01-01x",
                                      "1234567890123456"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        t = 5;
        if (parse_utc_ms(bad[i], &t) != BW_EINVAL)
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(t, 5);
    }
}

static void test_bytes(void **state)
{
    (void)state;
    int64_t v;
    static const struct {
        const char *s;
        int64_t want;
    } ok[] = {{"0", 0},
              {"1048576", 1048576},
              {"512B", 512},
              {"3KB", 3 * 1024},
              {"3KiB", 3 * 1024},
              {"256MB", 256 * 1024 * 1024},
              {"256MiB", 256 * 1024 * 1024},
              {"2GB", INT64_C(2) * 1024 * 1024 * 1024},
              {"1PiB", INT64_C(1) << 50},
              {"8191PB", INT64_C(8191) << 50}};
    for (size_t i = 0; i < BW_ARRAY_LEN(ok); i++) {
        assert_int_equal(parse_bytes(ok[i].s, &v), BW_OK);
        assert_true(v == ok[i].want);
    }
    static const char *const bad[] = {"",
                                      "MB",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 MB",
                                      "1mb",
                                      "1Mb",
                                      "1EB",
                                      "0x10",
                                      "1.5GB",
                                      "8192PB",
                                      "99999999999999999999"};
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++)
        assert_int_equal(parse_bytes(bad[i], &v), BW_EINVAL);
}

static void test_rfc3339(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_int_equal(parse_rfc3339_ms("2015-07-01T20:10:51.781Z", &ms), BW_OK);
    assert_int_equal(ms, 1435781451781LL);
    assert_int_equal(parse_rfc3339_ms("2015-07-01T22:10:51.781+02:00", &ms), BW_OK);
    assert_int_equal(ms, 1435781451781LL);
    assert_int_equal(parse_rfc3339_ms("2015-07-01T19:40:51-00:30", &ms), BW_OK);
    assert_int_equal(ms, 1435781451000LL);
    ms = 7;
    assert_int_equal(parse_rfc3339_ms("2015-07-01 20:10:51Z", &ms), BW_EINVAL); /* needs T */
    assert_int_equal(parse_rfc3339_ms("2015-07-01T20:10Z", &ms), BW_EINVAL);    /* seconds */
    assert_int_equal(parse_rfc3339_ms("2015-07-01T20:10:51", &ms), BW_EINVAL);  /* a zone */
    assert_int_equal(parse_rfc3339_ms("2015-07-01", &ms), BW_EINVAL);
    assert_int_equal(parse_rfc3339_ms("2015-02-29T00:00:00Z", &ms), BW_EINVAL); /* no such day */
    assert_int_equal(parse_utc_ms("2015-02-29", &ms), BW_EINVAL);
    assert_int_equal(parse_rfc3339_ms("2015-07-01T20:10:51+24:00", &ms), BW_EINVAL);
    assert_int_equal(ms, 7);
    assert_int_equal(parse_rfc3339_ms("2016-02-29T00:00:00Z", &ms), BW_OK); /* a leap year */
    assert_int_equal(ms, 1456704000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finite), cmocka_unit_test(test_go_float),
        cmocka_unit_test(test_utc_ms), cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
