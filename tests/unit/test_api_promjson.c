/* Tests for src/api/promjson.c: sample values, timestamps, label objects, results and the
 * envelope, against the bytes Prometheus writes for the same data. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "api/api.h"

static const char *value(double v)
{
    static char out[32];
    size_t n = promjson_fmt_value(out, v);
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_values(void **state)
{
    /* Go's FormatFloat(v, 'f', -1, 64) from 1e-6 to below 1e21 ... */
    assert_string_equal(value(0), "0");
    assert_string_equal(value(-0.0), "-0");
    assert_string_equal(value(1), "1");
    assert_string_equal(value(2), "2");
    assert_string_equal(value(-1.5), "-1.5");
    assert_string_equal(value(0.1), "0.1");
    assert_string_equal(value(1.0 / 3), "0.3333333333333333");
    assert_string_equal(value(12345.678), "12345.678");
    assert_string_equal(value(0.000123), "0.000123");
    assert_string_equal(value(1e-5), "0.00001");
    assert_string_equal(value(1e-6), "0.000001");
    assert_string_equal(value(-1.5e-6), "-0.0000015");
    assert_string_equal(value(1e6), "1000000");
    assert_string_equal(value(1234567.5), "1234567.5");
    assert_string_equal(value(123456789012), "123456789012");
    assert_string_equal(value(1e20), "100000000000000000000");
    assert_string_equal(value(-9.99e20), "-999000000000000000000");
    assert_string_equal(value(1.2345678901234567e20), "123456789012345670000");
    assert_string_equal(value(9007199254740993.0), "9007199254740992");
    /* ... 'e' outside it ... */
    assert_string_equal(value(9.99e-7), "9.99e-07");
    assert_string_equal(value(1e-7), "1e-07");
    assert_string_equal(value(-2.5e-10), "-2.5e-10");
    assert_string_equal(value(1e21), "1e+21");
    assert_string_equal(value(1.5e21), "1.5e+21");
    assert_string_equal(value(5e-324), "5e-324");
    assert_string_equal(value(1.7976931348623157e308), "1.7976931348623157e+308");
    /* ... and Prometheus's spellings of the specials. */
    assert_string_equal(value(NAN), "NaN");
    assert_string_equal(value(INFINITY), "+Inf");
    assert_string_equal(value(-INFINITY), "-Inf");
}

static const char *ts(int64_t ms)
{
    static char out[24];
    size_t n = promjson_fmt_time(out, ms);
    assert_int_equal(n, strlen(out));
    return out;
}

static void test_times(void **state)
{
    assert_string_equal(ts(0), "0");
    assert_string_equal(ts(4000), "4");
    assert_string_equal(ts(1435781451781), "1435781451.781");
    assert_string_equal(ts(1435781451780), "1435781451.780");
    assert_string_equal(ts(1435781451005), "1435781451.005");
    assert_string_equal(ts(1435781451050), "1435781451.050");
    assert_string_equal(ts(1), "0.001");
    assert_string_equal(ts(-1), "-0.001");
    assert_string_equal(ts(-1500), "-1.500");
    assert_string_equal(ts(INT64_MAX), "9223372036854775.807");
    assert_string_equal(ts(INT64_MIN), "-9223372036854775.808");
}

static void test_labels(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    struct labelset none = {NULL, 0};
    assert_int_equal(promjson_labels(&b, &none), BW_OK);
    assert_string_equal(b.data, "{}");

    const struct label v[] = {{"__name__", "up"}, {"job", "a\"b\\c"}, {"x", "<\n\xff>"}};
    struct labelset ls = {v, 3};
    buf_reset(&b);
    assert_int_equal(promjson_labels(&b, &ls), BW_OK);
    assert_string_equal(b.data, "{\"__name__\":\"up\",\"job\":\"a\\\"b\\\\c\","
                                "\"x\":\"\\u003c\\n\\ufffd\\u003e\"}");

    const char *strs[] = {"__name__", "é", ""};
    buf_reset(&b);
    assert_int_equal(promjson_strings(&b, strs, 3), BW_OK);
    assert_string_equal(b.data, "[\"__name__\",\"é\",\"\"]");
    buf_reset(&b);
    assert_int_equal(promjson_strings(&b, NULL, 0), BW_OK);
    assert_string_equal(b.data, "[]");
    buf_fini(&b);
}

/* Encodes r (its first n series) into a fresh buffer and compares. */
static void expect_result(const struct promql_result *r, size_t n, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(promjson_result(&b, r, n), BW_OK);
    assert_string_equal(b.data, want);
    buf_fini(&b);
}

static void test_results(void **state)
{
    int64_t t4 = 4000;
    double two = 2;
    struct promql_result r = {.type = PROMQL_SCALAR};
    struct promql_series scalar = {{NULL, 0}, 1, &t4, &two};
    r.series = &scalar;
    r.n = 1;
    expect_result(&r, 1, "{\"resultType\":\"scalar\",\"result\":[4,\"2\"]}");

    r.type = PROMQL_STRING;
    r.series = NULL;
    r.n = 0;
    r.string = "a \"quoted\"\tstring";
    r.string_t = 1700000000123;
    expect_result(&r, 0,
                  "{\"resultType\":\"string\",\"result\":[1700000000.123,"
                  "\"a \\\"quoted\\\"\\tstring\"]}");

    const struct label l1[] = {{"__name__", "a"}, {"i", "1"}};
    const struct label l2[] = {{"__name__", "a"}, {"i", "2"}};
    int64_t t[] = {1000, 16000, 31500};
    double v[] = {1, NAN, 2.5e-7};
    struct promql_series vec[] = {
        {{l1, 2}, 1, t + 1, v},
        {{NULL, 0}, 0, NULL, NULL}, /* no point: left out */
        {{l2, 2}, 1, t + 1, v + 1},
    };
    r = (struct promql_result){.type = PROMQL_VECTOR, .series = vec, .n = 3};
    expect_result(&r, 3,
                  "{\"resultType\":\"vector\",\"result\":["
                  "{\"metric\":{\"__name__\":\"a\",\"i\":\"1\"},\"value\":[16,\"1\"]},"
                  "{\"metric\":{\"__name__\":\"a\",\"i\":\"2\"},\"value\":[16,\"NaN\"]}]}");
    expect_result(&r, 1,
                  "{\"resultType\":\"vector\",\"result\":["
                  "{\"metric\":{\"__name__\":\"a\",\"i\":\"1\"},\"value\":[16,\"1\"]}]}");
    r.n = 0;
    expect_result(&r, 5, "{\"resultType\":\"vector\",\"result\":[]}");

    struct promql_series mat[] = {
        {{l1, 2}, 3, t, v},
        {{NULL, 0}, 1, t + 2, v + 2},
    };
    r = (struct promql_result){.type = PROMQL_MATRIX, .series = mat, .n = 2};
    expect_result(&r, 2,
                  "{\"resultType\":\"matrix\",\"result\":["
                  "{\"metric\":{\"__name__\":\"a\",\"i\":\"1\"},"
                  "\"values\":[[1,\"1\"],[16,\"NaN\"],[31.500,\"2.5e-07\"]]},"
                  "{\"metric\":{},\"values\":[[31.500,\"2.5e-07\"]]}]}");
    r.n = 0;
    expect_result(&r, 0, "{\"resultType\":\"matrix\",\"result\":[]}");

    /* A scalar without its point is an error, not a crash. */
    struct buf b;
    buf_init(&b, 0);
    r = (struct promql_result){.type = PROMQL_SCALAR};
    assert_int_equal(promjson_result(&b, &r, 0), BW_EINVAL);
    buf_fini(&b);
}

static void test_envelope(void **state)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(promjson_begin(&b), BW_OK);
    assert_int_equal(buf_puts(&b, "[]"), BW_OK);
    assert_int_equal(promjson_end(&b, NULL, false), BW_OK);
    assert_string_equal(b.data, "{\"status\":\"success\",\"data\":[]}");

    const char *warn[] = {"w1", "w\"2"};
    const char *info[] = {"i1"};
    struct promql_result r = {.warnings = warn, .nwarnings = 2, .infos = info, .ninfos = 1};
    buf_reset(&b);
    promjson_begin(&b);
    buf_puts(&b, "[]");
    assert_int_equal(promjson_end(&b, &r, true), BW_OK);
    assert_string_equal(b.data,
                        "{\"status\":\"success\",\"data\":[],"
                        "\"warnings\":[\"w1\",\"w\\\"2\",\"results truncated due to limit\"],"
                        "\"infos\":[\"i1\"]}");

    buf_reset(&b);
    assert_int_equal(promjson_end(&b, NULL, true), BW_OK);
    assert_string_equal(b.data, ",\"warnings\":[\"results truncated due to limit\"]}");

    /* Ten notes of a kind at most, then how many more there were. */
    const char *many[12] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    r = (struct promql_result){.warnings = many, .nwarnings = 12, .infos = many, .ninfos = 10};
    buf_reset(&b);
    assert_int_equal(promjson_end(&b, &r, true), BW_OK);
    assert_string_equal(
        b.data, ",\"warnings\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\","
                "\"3 more warning annotations omitted\"],"
                "\"infos\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]}");

    /* Past the buffer's cap: the error comes back. */
    struct buf small;
    buf_init(&small, 16);
    assert_int_equal(promjson_begin(&small), BW_ENOSPC);
    buf_fini(&small);
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),   cmocka_unit_test(test_times),
        cmocka_unit_test(test_labels),   cmocka_unit_test(test_results),
        cmocka_unit_test(test_envelope),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
