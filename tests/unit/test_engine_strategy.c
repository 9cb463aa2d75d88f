/* Tests for src/engine/strategy.c: the ATR of constant true ranges is that range; a flat range
 * followed by a close above it on heavy volume is a long signal with the exact range, volume
 * ratio and price (and below it a short); too little volume, volatility outside the band or
 * too little history is no signal; a breakout holds while the close stays beyond the level;
 * constructed series classify as trending, ranging and volatile; and on the synthetic market
 * the classification, computed from prices only, agrees with the generator's hidden regime
 * most of the time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "engine_test.h"

static struct strategy_symbol sym;

static void add(double o, double h, double l, double c, double v)
{
    struct candle k = {.t = T2024 + (int64_t)sym.n * 60000, .o = o, .h = h, .l = l, .c = c, .v = v};
    strategy_add(&sym, &k);
}

/* n candles closing around 100 (99.9 … 100.1), highs 100.3, lows 99.7, volume 100. */
static void flat(int n)
{
    for (int i = 0; i < n; i++) {
        double c = 100.0 + (i % 2 ? 0.1 : -0.1);
        add(100.0, 100.3, 99.7, c, 100.0);
    }
}

static struct engine_config config(void)
{
    struct engine_config c;
    engine_config_defaults(&c);
    return c;
}

static void test_atr(void **state)
{
    (void)state;
    strategy_init(&sym);
    for (int i = 0; i < 30; i++)
        add(50.0, 50.5, 49.5, 50.0, 1.0);
    assert_true(fabs(sym.atr - 1.0) < 1e-12);
    assert_true(fabs(sym.vol_slow - 0.02) < 1e-12);
}

static void test_long_and_short(void **state)
{
    (void)state;
    struct engine_config c = config();
    struct signal s;
    strategy_init(&sym);
    flat(25);
    assert_int_equal(strategy_breakout(&sym, &c, &s), 0);
    add(100.0, 101.2, 99.9, 101.0, 250.0);
    assert_int_equal(strategy_breakout(&sym, &c, &s), 1);
    assert_int_equal(s.side, SIDE_LONG);
    assert_true(s.range_high == 100.3 && s.range_low == 99.7);
    assert_true(s.price == 101.0 && s.volume_ratio == 2.5);
    assert_int_equal(s.candle_ms, T2024 + 25 * 60000);
    assert_true(s.atr > 0.6 && s.atr < 0.7 && fabs(s.atr_pct - s.atr / 101.0) < 1e-15);
    assert_int_equal(strategy_holds(&sym, &s), 1);
    add(101.0, 101.1, 100.1, 100.2, 100.0); /* back inside */
    assert_int_equal(strategy_holds(&sym, &s), 0);

    strategy_init(&sym);
    flat(25);
    add(100.0, 100.1, 98.9, 99.0, 400.0);
    assert_int_equal(strategy_breakout(&sym, &c, &s), 1);
    assert_int_equal(s.side, SIDE_SHORT);
    assert_true(s.volume_ratio == 4.0);
    add(99.0, 99.1, 98.5, 98.6, 100.0);
    assert_int_equal(strategy_holds(&sym, &s), 1);
}

static void test_filters(void **state)
{
    (void)state;
    struct engine_config c = config();
    struct signal s;
    strategy_init(&sym);
    flat(25);
    add(100.0, 101.2, 99.9, 101.0, 179.0); /* 1.79 × average, factor 1.8 */
    assert_int_equal(strategy_breakout(&sym, &c, &s), 0);
    c.volume_factor = 1.7;
    assert_int_equal(strategy_breakout(&sym, &c, &s), 1);
    c.max_volatility = 0.005; /* ATR/price here is about 0.0064 */
    assert_int_equal(strategy_breakout(&sym, &c, &s), 0);
    c.max_volatility = 0.02;
    c.min_volatility = 0.007;
    assert_int_equal(strategy_breakout(&sym, &c, &s), 0);

    c = config();
    strategy_init(&sym);
    flat(19); /* 20 candles with the breakout: one short of lookback + 1 */
    add(100.0, 101.2, 99.9, 101.0, 500.0);
    assert_int_equal(strategy_ready(&sym, c.range_lookback), 0);
    assert_int_equal(strategy_breakout(&sym, &c, &s), 0);
}

static void test_regimes(void **state)
{
    (void)state;
    strategy_init(&sym);
    flat(60);
    assert_int_equal(strategy_regime(&sym), REGIME_RANGING);
    for (int i = 0; i < 10; i++) /* true ranges four times the normal */
        add(100.0, 102.4, 97.6, 100.0 + (i % 2 ? 0.1 : -0.1), 100.0);
    assert_int_equal(strategy_regime(&sym), REGIME_VOLATILE);

    strategy_init(&sym);
    flat(40);
    double p = 100.0;
    for (int i = 0; i < 25; i++) { /* up 0.3 a candle, one step back in four */
        double next = p + (i % 4 == 3 ? -0.2 : 0.3);
        add(p, fmax(p, next) + 0.1, fmin(p, next) - 0.1, next, 100.0);
        p = next;
    }
    assert_int_equal(strategy_regime(&sym), REGIME_TRENDING);
    assert_string_equal(regime_name(REGIME_TRENDING), "trending");
    assert_string_equal(regime_name(REGIME_RANGING), "ranging");
    assert_string_equal(regime_name(REGIME_VOLATILE), "volatile");
}

/* The generator's hidden regime against the one computed from its candles, once a minute for
 * a simulated day of six symbols. */
static void test_agreement_with_generator(void **state)
{
    (void)state;
    struct engine_config c;
    struct feed *f = NULL;
    struct diag d = {0};
    static struct market m;
    test_config(&c, 6, 1);
    assert_int_equal(feed_new(&c, &f, &d), BW_OK);
    market_init(&m, f);
    size_t agree = 0, total = 0, per[REGIME_COUNT] = {0}, hit[REGIME_COUNT] = {0};
    for (int64_t now = T2024; now < T2024 + DAY_MS; now += 60000) {
        assert_int_equal(feed_step(f, now), BW_OK);
        for (size_t i = 0; i < feed_count(f); i++) {
            size_t len;
            const char *msg = feed_message(f, i, &len);
            assert_int_equal(market_apply(&m, msg, len, &d), BW_OK);
        }
        for (size_t k = 0; k < m.n; k++) {
            enum regime truth = synth_regime(f->synth, k);
            int same = strategy_regime(&m.sym[k].strat) == truth;
            agree += same;
            per[truth]++;
            hit[truth] += same;
            total++;
        }
    }
    print_message("regime agreement %.3f (trending %.2f, ranging %.2f, volatile %.2f)\n",
                  (double)agree / total, (double)hit[0] / per[0], (double)hit[1] / per[1],
                  (double)hit[2] / per[2]);
    assert_true(agree > total * 6 / 10);
    for (int r = 0; r < REGIME_COUNT; r++)
        assert_true(hit[r] > per[r] * 4 / 10);
    feed_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atr),
        cmocka_unit_test(test_long_and_short),
        cmocka_unit_test(test_filters),
        cmocka_unit_test(test_regimes),
        cmocka_unit_test(test_agreement_with_generator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
