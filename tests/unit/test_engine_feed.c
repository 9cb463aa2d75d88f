/* Tests for src/engine/feed.c and src/engine/synth.c: the synthetic feed's messages are
 * Binance-shaped JSON (klines with "1m" interval and consistent OHLC, trades with positive
 * price and quantity) at realistic price levels; history candles come first, then one kline per
 * symbol a minute and about eight trades; the stream is byte-for-byte reproducible from the
 * seed, differs for another seed, and a symbol's candles do not depend on the rest of the
 * universe; all three regimes occur. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "engine_test.h"

static struct feed *new_feed(const char *const *symbols, size_t n, uint64_t seed)
{
    struct engine_config c;
    struct diag d = {0};
    struct feed *f = NULL;
    test_config(&c, n, 1);
    c.seed = seed;
    for (size_t i = 0; i < n; i++)
        snprintf(c.symbols[i], sizeof(c.symbols[i]), "%s", symbols[i]);
    assert_int_equal(feed_new(&c, &f, &d), BW_OK);
    return f;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    assert_true(cJSON_IsString(v));
    return strtod(v->valuestring, NULL);
}

struct tally {
    size_t klines[3], trades[3];
    int64_t last_open[3], last_trade[3];
    double first_close[3];
};

/* Checks every message of the current batch and counts them per symbol. */
static void check_batch(const struct feed *f, int64_t now, struct tally *t)
{
    for (size_t i = 0; i < feed_count(f); i++) {
        size_t len;
        const char *m = feed_message(f, i, &len);
        assert_int_equal(strlen(m), len);
        cJSON *o = cJSON_Parse(m);
        assert_non_null(o);
        const char *sym = cJSON_GetObjectItemCaseSensitive(o, "s")->valuestring;
        size_t k = 0;
        while (strcmp(f->sym[k].name, sym) != 0)
            k++;
        const char *type = cJSON_GetObjectItemCaseSensitive(o, "e")->valuestring;
        if (strcmp(type, "kline") == 0) {
            const cJSON *kl = cJSON_GetObjectItemCaseSensitive(o, "k");
            int64_t open = (int64_t)cJSON_GetObjectItemCaseSensitive(kl, "t")->valuedouble;
            assert_int_equal(open % 60000, 0);
            assert_true(open + 60000 <= now);
            assert_true(open > t->last_open[k]);
            assert_int_equal((int64_t)cJSON_GetObjectItemCaseSensitive(kl, "T")->valuedouble,
                             open + 59999);
            assert_string_equal(cJSON_GetObjectItemCaseSensitive(kl, "i")->valuestring, "1m");
            assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(kl, "x")));
            double o_ = num(kl, "o"), h = num(kl, "h"), l = num(kl, "l"), c = num(kl, "c");
            assert_true(l > 0 && h >= o_ && h >= c && l <= o_ && l <= c && num(kl, "v") > 0);
            if (t->klines[k]++ == 0)
                t->first_close[k] = c;
            t->last_open[k] = open;
        } else {
            assert_string_equal(type, "trade");
            int64_t ts = (int64_t)cJSON_GetObjectItemCaseSensitive(o, "T")->valuedouble;
            assert_true(ts <= now && ts >= t->last_trade[k]);
            assert_true(num(o, "p") > 0 && num(o, "q") > 0);
            t->last_trade[k] = ts;
            t->trades[k]++;
        }
        cJSON_Delete(o);
    }
}

static void test_messages(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT", "SHIBUSDT", "FOOUSDT"};
    struct feed *f = new_feed(syms, 3, 1);
    struct tally t = {.last_open = {INT64_MIN, INT64_MIN, INT64_MIN}};
    assert_int_equal(feed_step(f, T2024), BW_OK);
    check_batch(f, T2024, &t);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(t.klines[k], 120); /* two hours of history, no trades */
        assert_int_equal(t.trades[k], 0);
        assert_int_equal(t.last_open[k], T2024 - 60000);
    }
    assert_true(t.first_close[0] > 30000 && t.first_close[0] < 130000);
    assert_true(t.first_close[1] > 0.000005 && t.first_close[1] < 0.0001);
    assert_true(t.first_close[2] > 0);
    for (int64_t now = T2024 + 1000; now <= T2024 + 600000; now += 1000) {
        assert_int_equal(feed_step(f, now), BW_OK);
        check_batch(f, now, &t);
    }
    for (int k = 0; k < 3; k++) {
        assert_int_equal(t.klines[k], 130);
        assert_true(t.trades[k] >= 40 && t.trades[k] <= 130);
    }
    feed_free(f);
}

/* A digest of the klines of symbol `sym` (or of every message when sym is NULL) over an hour. */
static uint64_t stream_digest(struct feed *f, const char *sym)
{
    uint64_t h = HASH_SEED;
    for (int64_t now = T2024; now <= T2024 + 3600000; now += 1000) {
        assert_int_equal(feed_step(f, now), BW_OK);
        for (size_t i = 0; i < feed_count(f); i++) {
            size_t len;
            const char *m = feed_message(f, i, &len);
            if (!sym || (strstr(m, sym) && strstr(m, "kline")))
                h = hash_bytes(m, len, h);
        }
    }
    return h;
}

static void test_reproducible(void **state)
{
    (void)state;
    static const char *const two[] = {"ETHUSDT", "BTCUSDT"}, *const one[] = {"BTCUSDT"};
    struct feed *a = new_feed(two, 2, 5), *b = new_feed(two, 2, 5), *c = new_feed(two, 2, 6);
    struct feed *solo = new_feed(one, 1, 5), *pair = new_feed(two, 2, 5);
    uint64_t da = stream_digest(a, NULL), db = stream_digest(b, NULL), dc = stream_digest(c, NULL);
    assert_true(da == db);
    assert_true(da != dc);
    assert_true(stream_digest(solo, "\"BTCUSDT\"") == stream_digest(pair, "\"BTCUSDT\""));
    feed_free(a);
    feed_free(b);
    feed_free(c);
    feed_free(solo);
    feed_free(pair);
}

static void test_regimes(void **state)
{
    (void)state;
    static const char *const syms[] = {"BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"};
    struct feed *f = new_feed(syms, 4, 1);
    size_t seen[REGIME_COUNT] = {0}, changes = 0, total = 0;
    enum regime prev[4];
    for (int k = 0; k < 4; k++)
        prev[k] = synth_regime(f->synth, (size_t)k);
    /* One step a minute is enough to watch the regimes: candles close at the boundaries. */
    for (int64_t now = T2024; now < T2024 + DAY_MS; now += 60000) {
        assert_int_equal(feed_step(f, now), BW_OK);
        for (int k = 0; k < 4; k++) {
            enum regime r = synth_regime(f->synth, (size_t)k);
            seen[r]++;
            changes += r != prev[k];
            prev[k] = r;
            total++;
        }
    }
    for (int r = 0; r < REGIME_COUNT; r++)
        assert_true(seen[r] > total / 20);
    assert_true(changes > 40);
    feed_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_regimes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
