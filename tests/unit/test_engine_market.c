/* Tests for src/engine/market.c: trades move the last price and the cycle's extremes; an open
 * kline only moves the price, a closed one feeds the strategy once; every malformed or
 * inconsistent message is refused with BW_EINVAL and a reason and changes nothing; a fuzz
 * loop of mutated messages never crashes (run it under ASan); symbol lookup finds all 128 of a
 * full universe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine_test.h"

static void init_market(struct market *m, size_t n)
{
    static struct feed f; /* only the universe is read */
    memset(&f, 0, sizeof(f));
    f.nsymbols = n;
    for (size_t i = 0; i < n; i++)
        snprintf(f.sym[i].name, sizeof(f.sym[i].name), i == 0 ? "BTCUSDT" : "S%zuUSDT", i);
    market_init(m, &f);
}

static int apply(struct market *m, const char *json, struct diag *d)
{
    return market_apply(m, json, strlen(json), d);
}

static const char *const kline_closed =
    "{\"e\":\"kline\",\"E\":1704067260000,\"s\":\"BTCUSDT\",\"k\":{\"t\":1704067200000,"
    "\"T\":1704067259999,\"s\":\"BTCUSDT\",\"i\":\"1m\",\"o\":\"100.5\",\"c\":\"101.25\","
    "\"h\":\"102\",\"l\":\"99\",\"v\":\"12.5\",\"x\":true}}";

static void test_apply(void **state)
{
    (void)state;
    static struct market m;
    struct diag d = {0};
    init_market(&m, 2);
    assert_int_equal(apply(&m, "{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"100\",\"q\":\"1\"}", &d),
                     BW_OK);
    assert_int_equal(apply(&m, "{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":103.5,\"q\":2}", &d),
                     BW_OK);
    assert_int_equal(apply(&m, "{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"98\",\"q\":\"0\"}", &d),
                     BW_OK);
    assert_true(m.sym[0].last == 98 && m.sym[0].hi == 103.5 && m.sym[0].lo == 98);
    assert_true(m.sym[1].last == 0);
    /* An open candle: price only. */
    assert_int_equal(apply(&m,
                           "{\"e\":\"kline\",\"s\":\"BTCUSDT\",\"k\":{\"t\":1704067200000,"
                           "\"o\":\"100.5\",\"c\":\"101.25\",\"h\":\"102\",\"l\":\"99\","
                           "\"v\":\"12.5\",\"x\":false}}",
                           &d),
                     BW_OK);
    assert_int_equal(m.sym[0].strat.n, 0);
    assert_true(m.sym[0].last == 101.25);
    assert_int_equal(apply(&m, kline_closed, &d), BW_OK);
    assert_int_equal(m.sym[0].strat.n, 1);
    assert_int_equal(m.nfresh, 1);
    assert_true(m.sym[0].fresh && m.sym[0].hi == 103.5 && m.sym[0].lo == 98);
    const struct candle *c = strategy_candle(&m.sym[0].strat, 0);
    assert_true(c->t == 1704067200000 && c->o == 100.5 && c->h == 102 && c->l == 99 &&
                c->c == 101.25 && c->v == 12.5);
    /* The same candle again is refused. */
    assert_int_equal(apply(&m, kline_closed, &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "not after the last one"));
    assert_int_equal(m.sym[0].strat.n, 1);
    market_cycle_done(&m);
    assert_true(m.nfresh == 0 && !m.sym[0].fresh && m.sym[0].hi == 101.25 && m.sym[0].lo == 101.25);
}

static void test_refused(void **state)
{
    (void)state;
    static struct market m;
    static const struct {
        const char *json, *want;
    } bad[] = {
        {"", "not JSON"},
        {"{", "not JSON"},
        {"[1,2]", "without an event type"},
        {"42", "without an event type"},
        {"{\"e\":\"trade\"}", "without an event type"},
        {"{\"e\":\"trade\",\"s\":\"DOGEUSDT\",\"p\":\"1\",\"q\":\"1\"}", "not in the universe"},
        {"{\"e\":\"trade\",\"s\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
         "not in the universe"},
        {"{\"e\":\"depth\",\"s\":\"BTCUSDT\"}", "unknown event type 'depth'"},
        {"{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"abc\",\"q\":\"1\"}", "bad price"},
        {"{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"100x\",\"q\":\"1\"}", "bad price"},
        {"{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"1e999\",\"q\":\"1\"}", "bad price"},
        {"{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"-5\",\"q\":\"1\"}", "out of range"},
        {"{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":\"5\"}", "bad price"},
        {"{\"e\":\"trade\",\"s\":\"BTCUSDT\",\"p\":true,\"q\":\"1\"}", "bad price"},
        {"{\"e\":\"kline\",\"s\":\"BTCUSDT\",\"k\":7}", "missing or bad field"},
        {"{\"e\":\"kline\",\"s\":\"BTCUSDT\",\"k\":{\"t\":1,\"o\":\"1\",\"h\":\"1\",\"l\":\"2\","
         "\"c\":\"1\",\"v\":\"1\",\"x\":true}}",
         "inconsistent candle"},
        {"{\"e\":\"kline\",\"s\":\"BTCUSDT\",\"k\":{\"t\":1,\"o\":\"1\",\"h\":\"1\",\"l\":\"0\","
         "\"c\":\"1\",\"v\":\"1\",\"x\":true}}",
         "inconsistent candle"},
        {"{\"e\":\"kline\",\"s\":\"BTCUSDT\",\"k\":{\"t\":1e300,\"o\":\"1\",\"h\":\"1\",\"l\":"
         "\"1\","
         "\"c\":\"1\",\"v\":\"1\",\"x\":true}}",
         "inconsistent candle"},
    };
    init_market(&m, 1);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct diag d = {0};
        assert_int_equal(apply(&m, bad[i].json, &d), BW_EINVAL);
        if (!strstr(d.msg, bad[i].want))
            fail_msg("message %zu: '%s' lacks '%s'", i, d.msg, bad[i].want);
    }
    assert_true(m.sym[0].last == 0);
    assert_int_equal(m.sym[0].strat.n, 0);
    assert_int_equal(m.nfresh, 0);
}

static void test_fuzz(void **state)
{
    (void)state;
    static struct market m;
    const char *const inputs[2] = {
        "{\"e\":\"trade\",\"E\":1,\"s\":\"BTCUSDT\",\"t\":9,\"p\":\"100.5\",\"q\":\"0.25\","
        "\"T\":1,\"m\":true}",
        kline_closed,
    };
    struct rng r;
    rng_seed(&r, 99);
    init_market(&m, 3);
    size_t ok = 0, refused = 0;
    for (int i = 0; i < 20000; i++) {
        char buf[600];
        const char *src = inputs[i % 2];
        size_t n = strlen(src);
        memcpy(buf, src, n);
        for (int k = 0, edits = 1 + (int)(rng_next(&r) % 4); k < edits; k++) {
            size_t at = rng_next(&r) % n;
            switch (rng_next(&r) % 3) {
            case 0: /* overwrite a byte */
                buf[at] = (char)(rng_next(&r) & 0xff);
                break;
            case 1: /* truncate */
                n = at + 1;
                break;
            default: /* a digit or quote or brace */
                buf[at] = "0123456789\"{}[]:,.-e"[rng_next(&r) % 20];
                break;
            }
        }
        struct diag d;
        int rc = market_apply(&m, buf, n, &d);
        assert_true(rc == BW_OK || rc == BW_EINVAL);
        ok += rc == BW_OK;
        refused += rc == BW_EINVAL;
    }
    assert_true(ok > 100 && refused > 1000);
}

static void test_find_full_universe(void **state)
{
    (void)state;
    static struct market m;
    init_market(&m, ENGINE_MAX_SYMBOLS);
    for (size_t i = 0; i < ENGINE_MAX_SYMBOLS; i++)
        assert_int_equal(market_find(&m, m.sym[i].name, strlen(m.sym[i].name)), (int)i);
    assert_int_equal(market_find(&m, "S1USD", 5), -1);
    assert_int_equal(market_find(&m, "S1USDTX", 7), -1);
    assert_int_equal(market_find(&m, "", 0), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_find_full_universe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
