/* Tests for src/engine/config.c: the defaults are valid and are what the engine documents
 * (20 symbols, speed 60, 1-minute candles, one cycle a simulated second, equity 10000); every
 * invalid setting is refused with BW_EINVAL and a message naming it and the value given; the
 * JSON form carries every setting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

static void test_defaults(void **state)
{
    (void)state;
    struct engine_config c;
    struct diag d = {0};
    engine_config_defaults(&c);
    assert_int_equal(engine_config_validate(&c, &d), BW_OK);
    assert_int_equal(c.nsymbols, 20);
    assert_string_equal(c.symbols[0], "BTCUSDT");
    assert_true(c.speed == 60.0);
    assert_int_equal(c.paced, 1);
    assert_int_equal(c.candle_ms, 60000);
    assert_int_equal(c.tick_ms, 1000);
    assert_true(c.starting_equity == 10000.0);
    assert_int_equal(c.seed, 1);
    assert_int_equal(c.range_lookback, 20);
}

/* Applies `edit` to the defaults and expects BW_EINVAL with `want` in the message. */
#define EXPECT_BAD(edit, want)                                                                     \
    do {                                                                                           \
        struct engine_config c;                                                                    \
        struct diag d = {0};                                                                       \
        engine_config_defaults(&c);                                                                \
        edit;                                                                                      \
        assert_int_equal(engine_config_validate(&c, &d), BW_EINVAL);                               \
        if (!strstr(d.msg, want))                                                                  \
            fail_msg("message '%s' lacks '%s'", d.msg, want);                                      \
    } while (0)

static void test_bad_settings(void **state)
{
    (void)state;
    EXPECT_BAD(c.speed = -1, "speed must be in [0.001, 1000000] (got -1)");
    EXPECT_BAD(c.speed = 0, "speed must be in [0.001, 1000000] (got 0)");
    EXPECT_BAD(c.speed = NAN, "speed must be in [0.001, 1000000] (got nan)");
    EXPECT_BAD(c.risk_per_trade = 2, "risk_per_trade must be in (0, 1] (got 2)");
    EXPECT_BAD(c.daily_loss_limit = 0, "daily_loss_limit must be in (0, 1] (got 0)");
    EXPECT_BAD(c.starting_equity = -5, "starting_equity must be > 0 (got -5)");
    EXPECT_BAD(c.max_positions = 0, "max_positions must be in [1, 128] (got 0)");
    EXPECT_BAD(c.range_lookback = 1, "range_lookback must be in [2, 100] (got 1)");
    EXPECT_BAD(c.range_lookback = 500, "range_lookback must be in [2, 100] (got 500)");
    EXPECT_BAD(c.volume_factor = -1, "volume_factor");
    EXPECT_BAD(c.stop_atr = 0, "stop_atr");
    EXPECT_BAD(c.latency_ms_mean = 0, "latency_ms_mean must be in (0, 600000] (got 0)");
    EXPECT_BAD(c.slippage_bps = -1, "slippage_bps");
    EXPECT_BAD(c.reject_rate = 1, "reject_rate must be in [0, 1) (got 1)");
    EXPECT_BAD(c.tick_ms = 0, "tick_ms must be in [1, 86400000] (got 0)");
    EXPECT_BAD(c.start_ms = -1, "start_ms");
    EXPECT_BAD(c.confirm_candles = -1, "confirm_candles");
    EXPECT_BAD(c.tick_ms = 7000, "candle_ms must be a multiple of tick_ms (got 60000 and 7000)");
    EXPECT_BAD((c.tick_ms = 1, c.candle_ms = 86400000),
               "candle_ms must be at most 100000 ticks (got 86400000 and tick_ms 1)");
    EXPECT_BAD(c.speed = 0.0001, "speed must be in [0.001, 1000000] (got 0.0001)");
    EXPECT_BAD((c.min_volatility = 0.05, c.max_volatility = 0.01),
               "min_volatility must be below max_volatility");
    EXPECT_BAD(c.nsymbols = 0, "symbols must list 1 to 128 symbols (got 0)");
    EXPECT_BAD(c.nsymbols = 129, "symbols must list 1 to 128 symbols (got 129)");
    EXPECT_BAD(strcpy(c.symbols[3], "btc-usd"), "symbols[3] 'btc-usd' must be upper-case");
    EXPECT_BAD(strcpy(c.symbols[3], ""), "symbols[3] must be 1 to 15 characters");
    EXPECT_BAD(strcpy(c.symbols[3], "BTCUSDT"), "symbols: 'BTCUSDT' is listed twice");
}

static void test_replay_needs_no_symbols(void **state)
{
    (void)state;
    struct engine_config c;
    struct diag d = {0};
    engine_config_defaults(&c);
    c.nsymbols = 0;
    strcpy(c.replay_dir, "/somewhere");
    assert_int_equal(engine_config_validate(&c, &d), BW_OK);
}

static void test_json(void **state)
{
    (void)state;
    struct engine_config c;
    engine_config_defaults(&c);
    c.seed = 18446744073709551615ULL;
    char *s = engine_config_json(&c);
    assert_non_null(s);
    cJSON *o = cJSON_Parse(s);
    assert_non_null(o);
    assert_non_null(strstr(s, "\"seed\":18446744073709551615"));
    assert_true(cJSON_GetObjectItem(o, "speed")->valuedouble == 60.0);
    assert_true(cJSON_GetObjectItem(o, "candle_ms")->valuedouble == 60000.0);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "paced")));
    cJSON *syms = cJSON_GetObjectItem(o, "symbols");
    assert_int_equal(cJSON_GetArraySize(syms), 20);
    assert_string_equal(cJSON_GetArrayItem(syms, 19)->valuestring, "SHIBUSDT");
    assert_null(cJSON_GetObjectItem(o, "replay_dir"));
    cJSON_Delete(o);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_settings),
        cmocka_unit_test(test_replay_needs_no_symbols),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
