/* Tests for src/metrics/expose.c: golden text 0.0.4 and OpenMetrics 1.0 pages, content
 * negotiation, Accept-Encoding, gzip, buffer reuse, and promtool's verdict on a page with every
 * kind of metric. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "metrics/metrics.h"

/* A small registry with the cases the formats differ on or must escape. */
static bw_registry *golden_registry(void)
{
    bw_registry *r = bw_registry_new(0);
    bw_family *f;
    bw_counter *c;
    bw_gauge *g;
    bw_histogram *h;

    const char *order_labels[] = {"symbol", "side"};
    assert_int_equal(bw_counter_family(r, "orders_total",
                                       "Orders accepted, by \"symbol\" and side.\n"
                                       "Second line \\ backslash.",
                                       2, order_labels, &f),
                     BW_OK);
    const char *o1[] = {"line\nbreak", "buy"}, *o2[] = {"BTC\"USD", "buy"},
               *o3[] = {"a\\b", "sell"};
    assert_int_equal(bw_counter_resolve(f, o1, &c), BW_OK);
    bw_counter_add(c, 0.5);
    assert_int_equal(bw_counter_resolve(f, o2, &c), BW_OK);
    bw_counter_add(c, 5);
    assert_int_equal(bw_counter_resolve(f, o3, &c), BW_OK);
    bw_counter_add(c, 1000000);

    assert_int_equal(bw_counter_new(r, "engine_cycles", "Engine cycles.", &c), BW_OK);
    bw_counter_add(c, 42);

    const char *case_label[] = {"case"};
    assert_int_equal(bw_gauge_family(r, "reading", "Readings.", 1, case_label, &f), BW_OK);
    static const struct {
        const char *name;
        double v;
    } readings[] = {{"zero", 0},       {"one", 1},          {"nan", NAN},
                    {"inf", INFINITY}, {"minf", -INFINITY}, {"frac", 0.1 + 0.2}};
    for (size_t i = 0; i < BW_ARRAY_LEN(readings); i++) {
        assert_int_equal(bw_gauge_resolve(f, &readings[i].name, &g), BW_OK);
        bw_gauge_set(g, readings[i].v);
    }

    const char *venue[] = {"venue"}, *a[] = {"A"};
    const double bounds[] = {0.005, 1, 2.5};
    assert_int_equal(bw_histogram_family(r, "latency_seconds", "Latency.", 1, venue, bounds, 3, &f),
                     BW_OK);
    assert_int_equal(bw_histogram_resolve(f, a, &h), BW_OK);
    const double obs[] = {0.001, 0.005, 0.5, 2, 3};
    for (size_t i = 0; i < BW_ARRAY_LEN(obs); i++)
        bw_histogram_observe(h, obs[i]);

    const double temp_bounds[] = {-10, 0, 10};
    assert_int_equal(
        bw_histogram_new(r, "temperature_celsius", "Temperatures.", temp_bounds, 3, &h), BW_OK);
    bw_histogram_observe(h, -5);
    bw_histogram_observe(h, 15);

    assert_int_equal(bw_gauge_family(r, "idle", "Declared, never resolved.", 1, case_label, &f),
                     BW_OK);
    return r;
}

static const char golden_text[] =
    "# HELP engine_cycles Engine cycles.\n"
    "# TYPE engine_cycles counter\n"
    "engine_cycles 42\n"
    "# HELP idle Declared, never resolved.\n"
    "# TYPE idle gauge\n"
    "# HELP latency_seconds Latency.\n"
    "# TYPE latency_seconds histogram\n"
    "latency_seconds_bucket{venue=\"A\",le=\"0.005\"} 2\n"
    "latency_seconds_bucket{venue=\"A\",le=\"1.0\"} 3\n"
    "latency_seconds_bucket{venue=\"A\",le=\"2.5\"} 4\n"
    "latency_seconds_bucket{venue=\"A\",le=\"+Inf\"} 5\n"
    "latency_seconds_sum{venue=\"A\"} 5.506\n"
    "latency_seconds_count{venue=\"A\"} 5\n"
    "# HELP orders_total Orders accepted, by \"symbol\" and side.\\nSecond line \\\\ "
    "backslash.\n"
    "# TYPE orders_total counter\n"
    "orders_total{symbol=\"BTC\\\"USD\",side=\"buy\"} 5\n"
    "orders_total{symbol=\"a\\\\b\",side=\"sell\"} 1e+06\n"
    "orders_total{symbol=\"line\\nbreak\",side=\"buy\"} 0.5\n"
    "# HELP reading Readings.\n"
    "# TYPE reading gauge\n"
    "reading{case=\"frac\"} 0.30000000000000004\n"
    "reading{case=\"inf\"} +Inf\n"
    "reading{case=\"minf\"} -Inf\n"
    "reading{case=\"nan\"} NaN\n"
    "reading{case=\"one\"} 1\n"
    "reading{case=\"zero\"} 0\n"
    "# HELP temperature_celsius Temperatures.\n"
    "# TYPE temperature_celsius histogram\n"
    "temperature_celsius_bucket{le=\"-10.0\"} 0\n"
    "temperature_celsius_bucket{le=\"0.0\"} 1\n"
    "temperature_celsius_bucket{le=\"10.0\"} 1\n"
    "temperature_celsius_bucket{le=\"+Inf\"} 2\n"
    "temperature_celsius_sum 10\n"
    "temperature_celsius_count 2\n";

/* OpenMetrics: TYPE before HELP, '"' escaped in HELP, counter families without _total and
 * samples with it, ".0" on integral floats, no _sum/_count beside a negative bound, # EOF. */
static const char golden_om[] =
    "# TYPE engine_cycles counter\n"
    "# HELP engine_cycles Engine cycles.\n"
    "engine_cycles_total 42.0\n"
    "# TYPE idle gauge\n"
    "# HELP idle Declared, never resolved.\n"
    "# TYPE latency_seconds histogram\n"
    "# HELP latency_seconds Latency.\n"
    "latency_seconds_bucket{venue=\"A\",le=\"0.005\"} 2\n"
    "latency_seconds_bucket{venue=\"A\",le=\"1.0\"} 3\n"
    "latency_seconds_bucket{venue=\"A\",le=\"2.5\"} 4\n"
    "latency_seconds_bucket{venue=\"A\",le=\"+Inf\"} 5\n"
    "latency_seconds_sum{venue=\"A\"} 5.506\n"
    "latency_seconds_count{venue=\"A\"} 5\n"
    "# TYPE orders counter\n"
    "# HELP orders Orders accepted, by \\\"symbol\\\" and side.\\nSecond line \\\\ "
    "backslash.\n"
    "orders_total{symbol=\"BTC\\\"USD\",side=\"buy\"} 5.0\n"
    "orders_total{symbol=\"a\\\\b\",side=\"sell\"} 1e+06\n"
    "orders_total{symbol=\"line\\nbreak\",side=\"buy\"} 0.5\n"
    "# TYPE reading gauge\n"
    "# HELP reading Readings.\n"
    "reading{case=\"frac\"} 0.30000000000000004\n"
    "reading{case=\"inf\"} +Inf\n"
    "reading{case=\"minf\"} -Inf\n"
    "reading{case=\"nan\"} NaN\n"
    "reading{case=\"one\"} 1.0\n"
    "reading{case=\"zero\"} 0.0\n"
    "# TYPE temperature_celsius histogram\n"
    "# HELP temperature_celsius Temperatures.\n"
    "temperature_celsius_bucket{le=\"-10.0\"} 0\n"
    "temperature_celsius_bucket{le=\"0.0\"} 1\n"
    "temperature_celsius_bucket{le=\"10.0\"} 1\n"
    "temperature_celsius_bucket{le=\"+Inf\"} 2\n"
    "# EOF\n";

static void test_golden_text(void **state)
{
    (void)state;
    bw_registry *r = golden_registry();
    char *buf = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_TEXT, &buf, &cap, &len), BW_OK);
    assert_string_equal(buf, golden_text);
    assert_int_equal(len, strlen(golden_text));
    free(buf);
    bw_registry_free(r);
}

static void test_golden_openmetrics(void **state)
{
    (void)state;
    bw_registry *r = golden_registry();
    char *buf = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_OPENMETRICS, &buf, &cap, &len), BW_OK);
    assert_string_equal(buf, golden_om);
    assert_int_equal(len, strlen(golden_om));
    free(buf);
    bw_registry_free(r);
}

static void test_empty_registry(void **state)
{
    (void)state;
    bw_registry *r = bw_registry_new(0);
    char *buf = NULL;
    size_t cap = 0, len = 1;
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_TEXT, &buf, &cap, &len), BW_OK);
    assert_int_equal(len, 0);
    assert_string_equal(buf, "");
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_OPENMETRICS, &buf, &cap, &len), BW_OK);
    assert_string_equal(buf, "# EOF\n");
    free(buf);
    bw_registry_free(r);
}

/* A warm buffer is reused: same pointer, same capacity, same bytes. */
static void test_buffer_reuse(void **state)
{
    (void)state;
    bw_registry *r = golden_registry();
    char *buf = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_OPENMETRICS, &buf, &cap, &len), BW_OK);
    char *first = buf;
    size_t first_cap = cap;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(
            bw_registry_expose(r, i % 2 ? BW_FORMAT_TEXT : BW_FORMAT_OPENMETRICS, &buf, &cap, &len),
            BW_OK);
        assert_ptr_equal(buf, first);
        assert_int_equal(cap, first_cap);
    }
    assert_string_equal(buf, golden_text);
    assert_int_equal(bw_registry_expose(r, (enum bw_format)7, &buf, &cap, &len), BW_EINVAL);
    assert_int_equal(bw_registry_expose(NULL, BW_FORMAT_TEXT, &buf, &cap, &len), BW_EINVAL);
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_TEXT, NULL, &cap, &len), BW_EINVAL);
    free(buf);
    bw_registry_free(r);
}

/* ---- negotiation -------------------------------------------------------------------------- */

#define CT_TEXT  "text/plain; version=0.0.4; charset=utf-8"
#define CT_OM_1  "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CT_OM_01 "application/openmetrics-text; version=0.0.1; charset=utf-8"

static void test_negotiate(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        enum bw_format fmt;
        const char *ct;
    } cases[] = {
        /* Prometheus 2.42 */
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
         "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         BW_FORMAT_OPENMETRICS, CT_OM_1},
        /* Prometheus 3 */
        {"application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/"
         "openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q="
         "0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
         BW_FORMAT_OPENMETRICS, CT_OM_1},
        {"text/plain", BW_FORMAT_TEXT, CT_TEXT},
        {"text/plain;version=0.0.4", BW_FORMAT_TEXT, CT_TEXT},
        {"application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
         "encoding=delimited",
         BW_FORMAT_TEXT, CT_TEXT},
        {"application/openmetrics-text", BW_FORMAT_OPENMETRICS, CT_OM_01},
        {"application/openmetrics-text; version=0.0.1", BW_FORMAT_OPENMETRICS, CT_OM_01},
        {"application/openmetrics-text;version=\"1.0.0\"", BW_FORMAT_OPENMETRICS, CT_OM_1},
        {"Application/OpenMetrics-Text; VERSION=1.0.0", BW_FORMAT_OPENMETRICS, CT_OM_1},
        {"application/openmetrics-text;version=2.0.0", BW_FORMAT_TEXT, CT_TEXT},
        {"application/openmetrics-text;version=1.0.0;q=0", BW_FORMAT_TEXT, CT_TEXT},
        {"application/openmetrics-text;version=1.0.0;q=0.0,text/plain", BW_FORMAT_TEXT, CT_TEXT},
        {"text/plain;version=1.0.0;q=0.9,application/openmetrics-text;version=1.0.0;q=0.2",
         BW_FORMAT_OPENMETRICS, CT_OM_1},
        {"text/plain;q=0.5, application/openmetrics-text;version=1.0.0;q=0.8",
         BW_FORMAT_OPENMETRICS, CT_OM_1},
        {"text/plain, application/openmetrics-text;version=1.0.0", BW_FORMAT_TEXT, CT_TEXT},
        {"application/json, */*;q=0.5", BW_FORMAT_TEXT, CT_TEXT},
        {"text/*", BW_FORMAT_TEXT, CT_TEXT},
        {"application/openmetrics-text;q=abc", BW_FORMAT_TEXT, CT_TEXT},
        {"application/openmetrics-text;q=2", BW_FORMAT_TEXT, CT_TEXT},
        {";;;,,,=q=", BW_FORMAT_TEXT, CT_TEXT},
        {"\x01\x02\xff", BW_FORMAT_TEXT, CT_TEXT},
        {"application/openmetrics-text;version=\"1.0.0,text/plain", BW_FORMAT_TEXT, CT_TEXT},
        {"", BW_FORMAT_TEXT, CT_TEXT},
        {NULL, BW_FORMAT_TEXT, CT_TEXT},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        const char *ct = NULL;
        enum bw_format fmt = bw_format_negotiate(cases[i].accept, &ct);
        if (fmt != cases[i].fmt || !ct || strcmp(ct, cases[i].ct) != 0)
            fail_msg("Accept: %s -> %d %s", cases[i].accept ? cases[i].accept : "(null)", fmt,
                     ct ? ct : "(null)");
    }
    assert_int_equal(bw_format_negotiate("application/openmetrics-text", NULL),
                     BW_FORMAT_OPENMETRICS);
    /* more elements than the parser keeps */
    char many[2000] = "";
    for (int i = 0; i < 60; i++)
        strcat(many, "a/b;q=0.9,");
    strcat(many, "application/openmetrics-text;version=1.0.0");
    assert_int_equal(bw_format_negotiate(many, NULL), BW_FORMAT_TEXT);
}

static void test_accepts_gzip(void **state)
{
    (void)state;
    static const struct {
        const char *ae;
        int want;
    } cases[] = {
        {NULL, 0},          {"", 0},
        {"gzip", 1},        {"GZIP", 1},
        {"x-gzip", 1},      {"deflate, gzip;q=0.5", 1},
        {"gzip;q=0", 0},    {"gzip;q=0.000", 0},
        {"*", 1},           {"*;q=0", 0},
        {"gzip;q=0, *", 0}, {"identity", 0},
        {"br, *;q=0.1", 1}, {"gzip, deflate, br, zstd", 1},
        {"gzip;q=bad", 0},  {",,,;", 0},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++)
        if (bw_accepts_gzip(cases[i].ae) != cases[i].want)
            fail_msg("Accept-Encoding: %s", cases[i].ae ? cases[i].ae : "(null)");
}

/* ---- gzip --------------------------------------------------------------------------------- */

static size_t gunzip(const char *in, size_t n, char *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    assert_int_equal(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK); /* gzip only */
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)n;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t len = zs.total_out;
    inflateEnd(&zs);
    return len;
}

static void test_gzip(void **state)
{
    (void)state;
    char *gz = NULL, out[4096];
    size_t cap = 0, len = 0;
    assert_int_equal(bw_gzip(golden_text, strlen(golden_text), &gz, &cap, &len), BW_OK);
    assert_true(len > 18 && len < strlen(golden_text));
    assert_int_equal((unsigned char)gz[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)gz[1], 0x8b);
    size_t n = gunzip(gz, len, out, sizeof(out));
    assert_int_equal(n, strlen(golden_text));
    assert_memory_equal(out, golden_text, n);

    char *first = gz;
    size_t first_cap = cap;
    assert_int_equal(bw_gzip(golden_om, strlen(golden_om), &gz, &cap, &len), BW_OK);
    assert_ptr_equal(gz, first); /* reused */
    assert_int_equal(cap, first_cap);
    n = gunzip(gz, len, out, sizeof(out));
    assert_int_equal(n, strlen(golden_om));
    assert_memory_equal(out, golden_om, n);

    assert_int_equal(bw_gzip("", 0, &gz, &cap, &len), BW_OK);
    assert_int_equal(gunzip(gz, len, out, sizeof(out)), 0);
    assert_int_equal(bw_gzip(NULL, 5, &gz, &cap, &len), BW_EINVAL);
    assert_int_equal(bw_gzip("x", 1, NULL, &cap, &len), BW_EINVAL);

    /* a large page, bigger than any buffer so far */
    size_t big = 1 << 20;
    char *text = malloc(big), *back = malloc(big);
    for (size_t i = 0; i < big; i++)
        text[i] = (char)('a' + (i * 7919) % 26);
    assert_int_equal(bw_gzip(text, big, &gz, &cap, &len), BW_OK);
    assert_int_equal(gunzip(gz, len, back, big), big);
    assert_memory_equal(back, text, big);
    free(text);
    free(back);
    free(gz);
}

/* ---- promtool ----------------------------------------------------------------------------- */

/* promtool check metrics (0.0.4 parser + promlint) finds nothing to say about a page with every
 * kind of metric. Skipped where promtool is not installed. */
static void test_promtool_clean(void **state)
{
    (void)state;
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        skip();
    bw_registry *r = bw_registry_new(0);
    bw_family *f;
    bw_counter *c;
    bw_gauge *g;
    bw_histogram *h;
    const char *labels[] = {"symbol", "side"};
    const char *v1[] = {"BTC\"USD\\x\ny", "buy"}, *v2[] = {"ETHUSDT", "sell"};
    assert_int_equal(
        bw_counter_family(r, "trading_orders_total", "Orders \"sent\"\\ \nnewline.", 2, labels, &f),
        BW_OK);
    assert_int_equal(bw_counter_resolve(f, v1, &c), BW_OK);
    bw_counter_add(c, 3);
    assert_int_equal(bw_counter_resolve(f, v2, &c), BW_OK);
    assert_int_equal(bw_gauge_family(r, "trading_equity", "Equity.", 2, labels, &f), BW_OK);
    assert_int_equal(bw_gauge_resolve(f, v1, &g), BW_OK);
    bw_gauge_set(g, NAN);
    assert_int_equal(bw_gauge_resolve(f, v2, &g), BW_OK);
    bw_gauge_set(g, -INFINITY);
    assert_int_equal(
        bw_histogram_family(r, "trading_fill_seconds", "Fill time.", 2, labels, NULL, 0, &f),
        BW_OK);
    assert_int_equal(bw_histogram_resolve(f, v1, &h), BW_OK);
    for (int i = 0; i < 1000; i++)
        bw_histogram_observe(h, i * 1e-4);
    assert_int_equal(bw_histogram_new(r, "trading_size_ratio", "Size.", NULL, 0, &h), BW_OK);
    assert_int_equal(bw_gauge_family(r, "trading_idle", "Never set.", 1, labels, &f), BW_OK);
    assert_int_equal(bw_process_collector_register(r), BW_OK);

    char *buf = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(r, BW_FORMAT_TEXT, &buf, &cap, &len), BW_OK);
    char path[] = "/tmp/bw_promtool_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
    char cmd[256], out[4096];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    unlink(path);
    if (status != 0 || n != 0)
        fail_msg("promtool (status %d): %s\n%s", status, out, buf);
    free(buf);
    bw_registry_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_text),    cmocka_unit_test(test_golden_openmetrics),
        cmocka_unit_test(test_empty_registry), cmocka_unit_test(test_buffer_reuse),
        cmocka_unit_test(test_negotiate),      cmocka_unit_test(test_accepts_gzip),
        cmocka_unit_test(test_gzip),           cmocka_unit_test(test_promtool_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
