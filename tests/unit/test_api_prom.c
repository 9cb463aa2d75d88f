/* Tests for src/api/prom.c: the parameter readers with Prometheus's messages, then every
 * /api/v1 endpoint over a real loopback socket against an in-memory tsdb holding known
 * samples — exact answers, error types and status codes. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "http_test.h"
#include "tsdb/tsdb.h"

static char msg[512];

static int64_t time_ok(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(prom_parse_time(s, &ms, msg, sizeof(msg)), BW_OK);
    return ms;
}

static const char *time_err(const char *s)
{
    int64_t ms = 42;
    assert_int_equal(prom_parse_time(s, &ms, msg, sizeof(msg)), BW_EINVAL);
    assert_int_equal(ms, 42);
    return msg;
}

static void test_parse_time(void **state)
{
    /* Decimal seconds, the fraction rounded to ms as Prometheus's math.Round does. */
    assert_int_equal(time_ok("0"), 0);
    assert_int_equal(time_ok("4"), 4000);
    assert_int_equal(time_ok("1700000000"), 1700000000000);
    assert_int_equal(time_ok("1700000000.123"), 1700000000123);
    assert_int_equal(time_ok("1700000000.0005"), 1700000000000); /* 0.00049999... */
    assert_int_equal(time_ok("0.0015"), 2);
    assert_int_equal(time_ok("1700000000.9996"), 1700000001000);
    assert_int_equal(time_ok("-1.5"), -1500);
    assert_int_equal(time_ok("+1.5"), 1500);
    assert_int_equal(time_ok("1e3"), 1000000);
    assert_int_equal(time_ok("0x1p4"), 16000);
    assert_int_equal(time_ok("1_000.5"), 1000500); /* Go's ParseFloat takes Go's underscores */
    assert_int_equal(time_ok("1e300"), INT64_C(1) << 61); /* clamped */
    assert_int_equal(time_ok("-1e300"), -(INT64_C(1) << 61));
    /* RFC 3339, with any fraction and offset. */
    assert_int_equal(time_ok("2023-11-14T22:13:20Z"), 1700000000000);
    assert_int_equal(time_ok("2023-11-14T22:13:20.123456789Z"), 1700000000123);
    assert_int_equal(time_ok("2023-11-15T00:13:20.5+02:00"), 1700000000500);
    assert_int_equal(time_ok("2023-11-14T20:13:20-02:00"), 1700000000000);
    assert_int_equal(time_ok("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(time_ok("2024-02-29T00:00:00Z"), 1709164800000);
    /* Everything else, with Prometheus's message. */
    assert_string_equal(time_err("abc"), "cannot parse \"abc\" to a valid timestamp");
    assert_string_equal(time_err(""), "cannot parse \"\" to a valid timestamp");
    assert_string_equal(time_err(" 1"), "cannot parse \" 1\" to a valid timestamp");
    assert_string_equal(time_err("1x"), "cannot parse \"1x\" to a valid timestamp");
    assert_string_equal(time_err("NaN"), "cannot parse \"NaN\" to a valid timestamp");
    assert_string_equal(time_err("inf"), "cannot parse \"inf\" to a valid timestamp");
    assert_string_equal(time_err("1e400"), "cannot parse \"1e400\" to a valid timestamp");
    assert_string_equal(time_err("0x10"), "cannot parse \"0x10\" to a valid timestamp");
    assert_string_equal(time_err("1__0"), "cannot parse \"1__0\" to a valid timestamp");
    assert_string_equal(time_err("-NaN"), "cannot parse \"-NaN\" to a valid timestamp");
    assert_string_equal(time_err("2023-02-30T00:00:00Z"),
                        "cannot parse \"2023-02-30T00:00:00Z\" to a valid timestamp");
    assert_string_equal(time_err("2023-11-14T22:13:20"),
                        "cannot parse \"2023-11-14T22:13:20\" to a valid timestamp");
    assert_string_equal(time_err("2023-11-14 22:13:20Z"),
                        "cannot parse \"2023-11-14 22:13:20Z\" to a valid timestamp");
    assert_string_equal(time_err("2023-11-14T24:00:00Z"),
                        "cannot parse \"2023-11-14T24:00:00Z\" to a valid timestamp");
    /* Bytes are quoted as Go's %q does; a long value is cut. */
    assert_string_equal(time_err("a\"b\\c\n\x01\xff\xc3\xa9"),
                        "cannot parse \"a\\\"b\\\\c\\n\\x01\\xffé\" to a valid timestamp");
    char longer[300];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    time_err(longer);
    assert_true(strlen(msg) < 200);
    assert_non_null(strstr(msg, "xxx...\" to a valid timestamp"));
}

static int64_t dur_ok(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(prom_parse_duration(s, &ns, msg, sizeof(msg)), BW_OK);
    return ns;
}

static const char *dur_err(const char *s)
{
    int64_t ns = 0;
    assert_int_equal(prom_parse_duration(s, &ns, msg, sizeof(msg)), BW_EINVAL);
    return msg;
}

static void test_parse_duration(void **state)
{
    assert_int_equal(dur_ok("15"), 15000000000LL);
    assert_int_equal(dur_ok("0.5"), 500000000LL);
    assert_int_equal(dur_ok("0.0005"), 500000LL);
    assert_int_equal(dur_ok("-1"), -1000000000LL);
    assert_int_equal(dur_ok("0"), 0);
    assert_int_equal(dur_ok("1_5"), 15000000000LL);
    assert_int_equal(dur_ok("1m30s"), 90000000000LL);
    assert_int_equal(dur_ok("5ms"), 5000000LL);
    assert_int_equal(dur_ok("1h"), 3600000000000LL);
    assert_int_equal(dur_ok("1d"), 86400000000000LL);
    assert_string_equal(dur_err("1.5h"), "cannot parse \"1.5h\" to a valid duration");
    assert_string_equal(dur_err(""), "cannot parse \"\" to a valid duration");
    assert_string_equal(dur_err("abc"), "cannot parse \"abc\" to a valid duration");
    assert_string_equal(dur_err("NaN"), "cannot parse \"NaN\" to a valid duration");
    assert_string_equal(dur_err("1e10"),
                        "cannot parse \"1e10\" to a valid duration. It overflows int64");
    assert_string_equal(dur_err("-Inf"),
                        "cannot parse \"-Inf\" to a valid duration. It overflows int64");
}

static void test_parse_limit(void **state)
{
    size_t limit = 7;
    assert_int_equal(prom_parse_limit("", &limit, msg, sizeof(msg)), BW_OK);
    assert_int_equal(limit, 0);
    assert_int_equal(prom_parse_limit("40000", &limit, msg, sizeof(msg)), BW_OK);
    assert_int_equal(limit, 40000);
    assert_int_equal(prom_parse_limit("+5", &limit, msg, sizeof(msg)), BW_OK);
    assert_int_equal(limit, 5);
    assert_int_equal(prom_parse_limit("-1", &limit, msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "limit must be non-negative");
    assert_int_equal(prom_parse_limit("x", &limit, msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "strconv.Atoi: parsing \"x\": invalid syntax");
    assert_int_equal(prom_parse_limit("1.5", &limit, msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "strconv.Atoi: parsing \"1.5\": invalid syntax");
    assert_int_equal(prom_parse_limit("99999999999999999999", &limit, msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "strconv.Atoi: parsing \"99999999999999999999\": value out of range");
}

static const char *name(const char *in, bool valid)
{
    static char buf[64];
    snprintf(buf, sizeof(buf), "%s", in);
    assert_int_equal(prom_label_name_decode(buf), valid);
    return buf;
}

static void test_label_name(void **state)
{
    assert_string_equal(name("job", true), "job");
    assert_string_equal(name("__name__", true), "__name__");
    assert_string_equal(name("U__a_2e_b", true), "a.b");
    assert_string_equal(name("U__a__b", true), "a_b");
    assert_string_equal(name("U___1F600_x", true), "😀x");
    assert_string_equal(name("U___e9_", true), "é");
    /* Not a valid escaping: the name stands as it is, as in Prometheus. */
    assert_string_equal(name("U__a_zz_", true), "U__a_zz_");
    assert_string_equal(name("U__a_d800_", true), "U__a_d800_");
    assert_string_equal(name("U__a_1234567_", true), "U__a_1234567_");
    assert_string_equal(name("U__a_", true), "U__a_");
    assert_string_equal(name("U__a_12", true), "U__a_12");
    /* Empty or not UTF-8: not a label name. */
    name("U__", false);
    name("\xff", false);
    name("a\xc3", false);
}

/* ---- the endpoints, over HTTP ---- */

static struct tsdb *db;
static struct api_ctx ctx;
static struct http_server *srv;
static int port;

static void add(const char *metric, const char *lname, const char *lvalue, int64_t t, double v)
{
    struct label l[2] = {{LABEL_NAME, metric}, {lname, lvalue}};
    struct labelset ls = {l, lname ? 2 : 1};
    uint64_t ref = 0;
    assert_int_equal(tsdb_append(db, &ls, t, v, &ref), BW_OK);
}

static int setup(void **state)
{
    struct diag d = {0};
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    for (int i = 1; i <= 10; i++) {
        add("m", "a", "1", i * 1000, i);
        add("m", "a", "2", i * 1000, i * 10);
    }
    add("other_total", "x", "é\"", 5000, 1.5e-7);
    add("other_total", "x", "é\"", 9500, 2e21);
    assert_int_equal(tsdb_metadata_set(db, "m", "gauge", "An \"m\".", ""), BW_OK);
    assert_int_equal(tsdb_metadata_set(db, "other", "counter", "Others.", "seconds"), BW_OK);
    assert_int_equal(tsdb_commit(db, &d), BW_OK);
    ctx.tsdb = db;
    srv = test_http_start(
        (struct http_config){.routes = ctx.routes, .nroutes = api_routes_init(&ctx)});
    port = http_server_port(srv);
    return 0;
}

static int teardown(void **state)
{
    http_server_free(srv);
    tsdb_close(db);
    return 0;
}

static int status;
static char resp[1 << 16];

/* Sends one request (a POST when form is not NULL) and returns the answer's body; status
 * holds its status code. */
static const char *request(const char *method, const char *target, const char *form)
{
    return test_http_request(port, method, target,
                             form ? "Content-Type: application/x-www-form-urlencoded\r\n" : NULL,
                             form, resp, sizeof(resp), &status);
}

static const char *get(const char *target)
{
    return request("GET", target, NULL);
}

static const char *post(const char *target, const char *form)
{
    return request("POST", target, form);
}

/* Asserts that s starts with prefix. */
static void assert_prefix(const char *s, const char *prefix)
{
    if (strncmp(s, prefix, strlen(prefix)) != 0)
        fail_msg("\"%s\" does not start with \"%s\"", s, prefix);
}

#define OK(data)        "{\"status\":\"success\",\"data\":" data "}"
#define ERR(type, text) "{\"status\":\"error\",\"errorType\":\"" type "\",\"error\":\"" text "\"}"

static void test_query(void **state)
{
    /* Grafana's health check. */
    assert_string_equal(post("/api/v1/query", "query=1%2B1&time=4"),
                        OK("{\"resultType\":\"scalar\",\"result\":[4,\"2\"]}"));
    assert_int_equal(status, 200);
    assert_non_null(strstr(resp, "Content-Type: application/json"));
    assert_string_equal(
        get("/api/v1/query?query=m&time=10"),
        OK("{\"resultType\":\"vector\",\"result\":["
           "{\"metric\":{\"__name__\":\"m\",\"a\":\"1\"},\"value\":[10,\"10\"]},"
           "{\"metric\":{\"__name__\":\"m\",\"a\":\"2\"},\"value\":[10,\"100\"]}]}"));
    /* The URL's and the body's parameters together. */
    assert_string_equal(
        post("/api/v1/query?time=2.5", "query=m{a=\"1\"}"),
        OK("{\"resultType\":\"vector\",\"result\":["
           "{\"metric\":{\"__name__\":\"m\",\"a\":\"1\"},\"value\":[2.500,\"2\"]}]}"));
    assert_string_equal(
        get("/api/v1/query?query=other_total%5B10s%5D&time=10"),
        OK("{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"other_total\","
           "\"x\":\"é\\\"\"},\"values\":[[5,\"1.5e-07\"],[9.500,\"2e+21\"]]}]}"));
    assert_string_equal(get("/api/v1/query?query=%22hi%22&time=1700000000.001"),
                        OK("{\"resultType\":\"string\",\"result\":[1700000000.001,\"hi\"]}"));
    assert_string_equal(get("/api/v1/query?query=nothing&time=10"),
                        OK("{\"resultType\":\"vector\",\"result\":[]}"));
    assert_string_equal(get("/api/v1/query?query=sort_desc(m)&time=10&limit=1"),
                        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                        "{\"metric\":{\"__name__\":\"m\",\"a\":\"2\"},\"value\":[10,\"100\"]}]},"
                        "\"warnings\":[\"results truncated due to limit\"]}");
    assert_string_equal(
        get("/api/v1/query?query=m&time=10&limit=2"),
        OK("{\"resultType\":\"vector\",\"result\":["
           "{\"metric\":{\"__name__\":\"m\",\"a\":\"1\"},\"value\":[10,\"10\"]},"
           "{\"metric\":{\"__name__\":\"m\",\"a\":\"2\"},\"value\":[10,\"100\"]}]}"));
    /* A lookback_delta of 1s leaves nothing at 11.5 s; the default 5 minutes does. */
    assert_string_equal(get("/api/v1/query?query=m&time=11.5&lookback_delta=1s"),
                        OK("{\"resultType\":\"vector\",\"result\":[]}"));
    assert_string_equal(get("/api/v1/query?query=count(m)&time=11.5"),
                        OK("{\"resultType\":\"vector\",\"result\":[{\"metric\":{},"
                           "\"value\":[11.500,\"2\"]}]}"));
}

static void test_query_errors(void **state)
{
    const char *b = get("/api/v1/query?query=sum(&time=10");
    assert_int_equal(status, 400);
    assert_string_equal(b, ERR("bad_data", "invalid parameter \\\"query\\\": 1:5: parse error: "
                                           "unclosed left parenthesis"));
    b = get("/api/v1/query?query=nope(m)");
    assert_int_equal(status, 400);
    assert_string_equal(b, ERR("bad_data", "invalid parameter \\\"query\\\": 1:1: parse error: "
                                           "unknown function with name \\\"nope\\\""));
    b = get("/api/v1/query?query=rate(m)");
    assert_int_equal(status, 400);
    assert_string_equal(b, ERR("bad_data", "invalid parameter \\\"query\\\": 1:6: parse error: "
                                           "expected type range vector in call to function "
                                           "\\\"rate\\\", got instant vector"));
    b = get("/api/v1/query?query=m&time=abc");
    assert_int_equal(status, 400);
    assert_string_equal(b,
                        ERR("bad_data", "invalid parameter \\\"time\\\": invalid time value for "
                                        "'time': cannot parse \\\"abc\\\" to a valid timestamp"));
    b = get("/api/v1/query?query=m&limit=-1");
    assert_string_equal(
        b, ERR("bad_data", "invalid parameter \\\"limit\\\": limit must be non-negative"));
    b = get("/api/v1/query?query=m&timeout=soon");
    assert_string_equal(b, ERR("bad_data", "invalid parameter \\\"timeout\\\": cannot parse "
                                           "\\\"soon\\\" to a valid duration"));
    b = get("/api/v1/query?query=m&lookback_delta=x");
    assert_string_equal(b, ERR("bad_data", "error parsing lookback delta duration: cannot parse "
                                           "\\\"x\\\" to a valid duration"));
    /* Evaluation errors are 422 execution. */
    b = get("/api/v1/query?query=m%7Ba%3D%221%22%7D%2Bignoring(a)m&time=10");
    assert_int_equal(status, 422);
    assert_prefix(b, "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"found "
                     "duplicate series for the match group {} on the right hand-side");
    /* A bad form body and a wrong method. */
    b = post("/api/v1/query", "query=%zz");
    assert_int_equal(status, 400);
    assert_string_equal(
        b, ERR("bad_data", "error parsing form values: invalid URL escape \\\"%zz\\\""));
    get("/api/v1/query_range?query=m");
    assert_int_equal(status, 400);
    request("PUT", "/api/v1/query", NULL);
    assert_int_equal(status, 405);
}

static void test_query_range(void **state)
{
    assert_string_equal(
        post("/api/v1/query_range", "query=m%7Ba%3D%222%22%7D&start=8&end=10&step=1"),
        OK("{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":\"m\",\"a\":\"2\"},"
           "\"values\":[[8,\"80\"],[9,\"90\"],[10,\"100\"]]}]}"));
    assert_string_equal(
        get("/api/v1/query_range?query=1.5&start=2023-11-14T22:13:20Z&end=1700000001&step=0.5"),
        OK("{\"resultType\":\"matrix\",\"result\":[{\"metric\":{},\"values\":[[1700000000,"
           "\"1.5\"],[1700000000.500,\"1.5\"],[1700000001,\"1.5\"]]}]}"));
    assert_string_equal(get("/api/v1/query_range?query=m&start=1&end=3&step=1s&limit=1"),
                        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
                        "{\"metric\":{\"__name__\":\"m\",\"a\":\"1\"},"
                        "\"values\":[[1,\"1\"],[2,\"2\"],[3,\"3\"]]}]},"
                        "\"warnings\":[\"results truncated due to limit\"]}");
    /* Parameter errors in Prometheus's order and words. */
    assert_string_equal(get("/api/v1/query_range?query=m&end=3&step=1"),
                        ERR("bad_data",
                            "invalid parameter \\\"start\\\": cannot parse \\\"\\\" to a valid "
                            "timestamp"));
    assert_int_equal(status, 400);
    assert_string_equal(get("/api/v1/query_range?query=m&start=1&end=x&step=1"),
                        ERR("bad_data", "invalid parameter \\\"end\\\": cannot parse \\\"x\\\" to "
                                        "a valid timestamp"));
    assert_string_equal(get("/api/v1/query_range?query=m&start=3&end=1&step=1"),
                        ERR("bad_data", "invalid parameter \\\"end\\\": end timestamp must not be "
                                        "before start time"));
    assert_string_equal(get("/api/v1/query_range?query=m&start=1&end=3"),
                        ERR("bad_data", "invalid parameter \\\"step\\\": cannot parse \\\"\\\" to "
                                        "a valid duration"));
    assert_string_equal(get("/api/v1/query_range?query=m&start=1&end=3&step=0"),
                        ERR("bad_data", "invalid parameter \\\"step\\\": zero or negative query "
                                        "resolution step widths are not accepted. Try a positive "
                                        "integer"));
    assert_string_equal(get("/api/v1/query_range?query=m&start=0&end=11001&step=1"),
                        ERR("bad_data", "exceeded maximum resolution of 11,000 points per "
                                        "timeseries. Try decreasing the query resolution "
                                        "(?step=XX)"));
    get("/api/v1/query_range?query=m&start=0&end=11000&step=1");
    assert_int_equal(status, 200);
    assert_string_equal(get("/api/v1/query_range?query=m%5B1m%5D&start=1&end=3&step=1"),
                        ERR("bad_data", "invalid parameter \\\"query\\\": invalid expression type "
                                        "\\\"range vector\\\" for range query, must be Scalar or "
                                        "instant Vector"));
    /* The widest times do not overflow the count of points. */
    assert_string_equal(get("/api/v1/query_range?query=1&start=-1e300&end=1e300&step=1"),
                        ERR("bad_data", "exceeded maximum resolution of 11,000 points per "
                                        "timeseries. Try decreasing the query resolution "
                                        "(?step=XX)"));
}

static void test_series(void **state)
{
    assert_string_equal(get("/api/v1/series?match[]=m"),
                        OK("[{\"__name__\":\"m\",\"a\":\"1\"},{\"__name__\":\"m\",\"a\":\"2\"}]"));
    /* A union, each series once, sorted. */
    assert_string_equal(post("/api/v1/series", "match[]=other_total&match[]=m&match[]=m{a=\"2\"}"),
                        OK("[{\"__name__\":\"m\",\"a\":\"1\"},{\"__name__\":\"m\",\"a\":\"2\"},"
                           "{\"__name__\":\"other_total\",\"x\":\"é\\\"\"}]"));
    assert_string_equal(get("/api/v1/series?match[]=%7Ba%3D~%222%7C3%22%7D&limit=5"),
                        OK("[{\"__name__\":\"m\",\"a\":\"2\"}]"));
    assert_string_equal(get("/api/v1/series?match[]=m&limit=1"),
                        "{\"status\":\"success\",\"data\":[{\"__name__\":\"m\",\"a\":\"1\"}],"
                        "\"warnings\":[\"results truncated due to limit\"]}");
    /* Only series with samples in [start, end]. */
    assert_string_equal(get("/api/v1/series?match[]=%7B__name__%3D~%22.%2B%22%7D&start=9.5&end=20"),
                        OK("[{\"__name__\":\"m\",\"a\":\"1\"},{\"__name__\":\"m\",\"a\":\"2\"},"
                           "{\"__name__\":\"other_total\",\"x\":\"é\\\"\"}]"));
    assert_string_equal(get("/api/v1/series?match[]=other_total&start=10&end=20"), OK("[]"));
    assert_string_equal(get("/api/v1/series"), ERR("bad_data", "no match[] parameter provided"));
    assert_int_equal(status, 400);
    get("/api/v1/series?match[]=%7Ba%3D~%22.*%22%7D");
    assert_int_equal(status, 400);
    assert_non_null(strstr(resp, "invalid parameter \\\"match[]\\\": "));
    get("/api/v1/series?match[]=sum(m)");
    assert_int_equal(status, 400);
    assert_non_null(strstr(resp, "invalid parameter \\\"match[]\\\": "));
    assert_string_equal(get("/api/v1/series?match[]=m&start=x"),
                        ERR("bad_data", "invalid parameter \\\"start\\\": invalid time value for "
                                        "'start': cannot parse \\\"x\\\" to a valid timestamp"));
}

static void test_labels(void **state)
{
    assert_string_equal(get("/api/v1/labels"), OK("[\"__name__\",\"a\",\"x\"]"));
    assert_string_equal(post("/api/v1/labels", "match[]=other_total"), OK("[\"__name__\",\"x\"]"));
    assert_string_equal(get("/api/v1/labels?match[]=other_total&match[]=m"),
                        OK("[\"__name__\",\"a\",\"x\"]"));
    assert_string_equal(get("/api/v1/labels?limit=2"),
                        "{\"status\":\"success\",\"data\":[\"__name__\",\"a\"],"
                        "\"warnings\":[\"results truncated due to limit\"]}");
    assert_string_equal(get("/api/v1/label/__name__/values?start=1&end=20&limit=40000"),
                        OK("[\"m\",\"other_total\"]"));
    assert_string_equal(get("/api/v1/label/a/values"), OK("[\"1\",\"2\"]"));
    assert_string_equal(get("/api/v1/label/U__a/values"), OK("[\"1\",\"2\"]"));
    assert_string_equal(get("/api/v1/label/a/values?match[]=m%7Ba%3D%222%22%7D"), OK("[\"2\"]"));
    assert_string_equal(get("/api/v1/label/x/values"), OK("[\"é\\\"\"]"));
    assert_string_equal(get("/api/v1/label/U__a_2e_b/values"), OK("[]"));
    assert_string_equal(get("/api/v1/label/U__/values"),
                        ERR("bad_data", "invalid label name: \\\"\\\""));
    assert_int_equal(status, 400);
    assert_string_equal(get("/api/v1/label/%ff/values"),
                        ERR("bad_data", "invalid label name: \\\"\\\\xff\\\""));
    /* match[] errors are not wrapped here, as in Prometheus. */
    get("/api/v1/labels?match[]=%7Ba%3D%22%22%7D");
    assert_int_equal(status, 400);
    assert_null(strstr(resp, "invalid parameter"));
    post("/api/v1/label/a/values", "");
    assert_int_equal(status, 405);
}

static void test_metadata_and_more(void **state)
{
    assert_string_equal(get("/api/v1/metadata"),
                        OK("{\"m\":[{\"type\":\"gauge\",\"help\":\"An \\\"m\\\".\",\"unit\":\"\"}],"
                           "\"other\":[{\"type\":\"counter\",\"help\":\"Others.\","
                           "\"unit\":\"seconds\"}]}"));
    assert_string_equal(get("/api/v1/metadata?metric=other&limit_per_metric=1"),
                        OK("{\"other\":[{\"type\":\"counter\",\"help\":\"Others.\","
                           "\"unit\":\"seconds\"}]}"));
    assert_string_equal(
        get("/api/v1/metadata?limit=1"),
        OK("{\"m\":[{\"type\":\"gauge\",\"help\":\"An \\\"m\\\".\",\"unit\":\"\"}]}"));
    assert_string_equal(get("/api/v1/metadata?limit=0"), OK("{}"));
    assert_string_equal(get("/api/v1/metadata?metric=none"), OK("{}"));
    assert_string_equal(get("/api/v1/metadata?limit=x"), ERR("bad_data", "limit must be a number"));
    assert_string_equal(get("/api/v1/metadata?limit_per_metric=x"),
                        ERR("bad_data", "limit_per_metric must be a number"));

    assert_string_equal(get("/api/v1/query_exemplars?query=test&start=1700000000.123&end="
                            "1700003600.456"),
                        OK("[]"));
    get("/api/v1/query_exemplars?query=sum(");
    assert_int_equal(status, 400);
    assert_string_equal(get("/api/v1/query_exemplars?query=m&start=2&end=1"),
                        ERR("bad_data", "end timestamp must not be before start timestamp"));

    const char *b = get("/api/v1/status/buildinfo");
    assert_int_equal(status, 200);
    assert_string_equal(b, OK("{\"version\":\"3.5.0\",\"revision\":\"breakwatch " BW_VERSION
                              "\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\","
                              "\"goVersion\":\"\"}"));
    assert_string_equal(get("/api/v1/status/config"), OK("{\"yaml\":\"\"}"));
    get("/api/v1/targets");
    assert_int_equal(status, 404);

    /* Without a tsdb the data endpoints say so; the others still answer. */
    ctx.tsdb = NULL;
    assert_string_equal(get("/api/v1/query?query=1"),
                        ERR("unavailable", "the time-series database is not open yet"));
    assert_int_equal(status, 503);
    get("/api/v1/labels");
    assert_int_equal(status, 503);
    get("/api/v1/status/buildinfo");
    assert_int_equal(status, 200);
    ctx.tsdb = db;
}

int main(void)
{
    const struct CMUnitTest params[] = {
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_limit),
        cmocka_unit_test(test_label_name),
    };
    const struct CMUnitTest endpoints[] = {
        cmocka_unit_test(test_query),       cmocka_unit_test(test_query_errors),
        cmocka_unit_test(test_query_range), cmocka_unit_test(test_series),
        cmocka_unit_test(test_labels),      cmocka_unit_test(test_metadata_and_more),
    };
    int failed = cmocka_run_group_tests(params, NULL, NULL);
    return failed + cmocka_run_group_tests(endpoints, setup, teardown);
}
