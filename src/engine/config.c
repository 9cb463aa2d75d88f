/* config: the engine configuration's defaults, validation and JSON form.
 *
 * Every numeric setting is described once, in `settings[]` (name, where it lives, its type and
 * its allowed interval); validation walks that table and so does the JSON writer, so a new
 * setting is added in one place and is checked and recorded from then on.
 *
 * Defaults are chosen for a person watching: 1-minute candles, one engine cycle per simulated
 * second and speed 60, so a simulated minute (one candle for each of 20 symbols) passes every
 * wall second; signals come within seconds of the start and the state changes every few. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/internal.h"

/* The default universe: liquid USDT pairs, their price levels are in synth.c. */
static const char *const default_symbols[] = {
    "BTCUSDT",  "ETHUSDT", "BNBUSDT",  "SOLUSDT", "XRPUSDT",   "ADAUSDT",  "DOGEUSDT",
    "AVAXUSDT", "DOTUSDT", "LINKUSDT", "LTCUSDT", "TRXUSDT",   "ATOMUSDT", "UNIUSDT",
    "NEARUSDT", "APTUSDT", "ARBUSDT",  "OPUSDT",  "MATICUSDT", "SHIBUSDT",
};

void engine_config_defaults(struct engine_config *c)
{
    memset(c, 0, sizeof(*c));
    c->seed = 1;
    c->speed = 60.0;
    c->paced = 1;
    c->nsymbols = BW_ARRAY_LEN(default_symbols);
    for (size_t i = 0; i < c->nsymbols; i++)
        snprintf(c->symbols[i], sizeof(c->symbols[i]), "%s", default_symbols[i]);
    c->start_ms = 0; /* now */
    c->duration_ms = 0;
    c->tick_ms = 1000;
    c->candle_ms = 60000;
    c->starting_equity = 10000.0;
    c->risk_per_trade = 0.0025;
    c->daily_loss_limit = 0.04;
    c->max_positions = 3;
    c->max_leverage = 5.0;
    c->range_lookback = 20;
    c->volume_factor = 1.8;
    c->min_volatility = 0.0005;
    c->max_volatility = 0.02;
    c->confirm_candles = 1;
    c->stop_atr = 1.5;
    c->target_atr = 3.0;
    c->trail_atr = 2.0;
    c->latency_ms_mean = 150.0;
    c->slippage_bps = 2.0;
    c->reject_rate = 0.02;
    c->fault_unexpected_every_s = 0.0; /* no faults */
    c->fault_cycle_delay_ms = 0.0;
}

enum kind { K_DOUBLE, K_INT, K_I64 };

/* A numeric setting and its allowed interval; an open end excludes its bound. */
struct setting {
    const char *name;
    size_t off;
    enum kind kind;
    double lo, hi;
    unsigned char lo_open, hi_open;
};

#define D(f, lo, hi, lo_open, hi_open)                                                             \
    {                                                                                              \
#f, offsetof(struct engine_config, f), K_DOUBLE, lo, hi, lo_open, hi_open                  \
    }
#define I(f, lo, hi)                                                                               \
    {                                                                                              \
#f, offsetof(struct engine_config, f), K_INT, lo, hi, 0, 0                                 \
    }
#define L(f, lo, hi)                                                                               \
    {                                                                                              \
#f, offsetof(struct engine_config, f), K_I64, lo, hi, 0, 0                                 \
    }
#define YEAR_9999_MS 253402300799999.0

static const struct setting settings[] = {
    D(speed, 0.001, 1e6, 0, 0),
    L(start_ms, 0, YEAR_9999_MS),
    L(duration_ms, 0, 100 * 365 * ENGINE_DAY_MS),
    L(tick_ms, 1, ENGINE_DAY_MS),
    L(candle_ms, 1, ENGINE_DAY_MS),
    D(starting_equity, 0, INFINITY, 1, 0),
    D(risk_per_trade, 0, 1, 1, 0),
    D(daily_loss_limit, 0, 1, 1, 0),
    I(max_positions, 1, ENGINE_MAX_SYMBOLS),
    D(max_leverage, 0, 1000, 1, 0),
    I(range_lookback, 2, STRATEGY_MAX_LOOKBACK),
    D(volume_factor, 0, 1000, 0, 0),
    D(min_volatility, 0, 1, 0, 1),
    D(max_volatility, 0, 1, 1, 0),
    I(confirm_candles, 0, 100),
    D(stop_atr, 0, 100, 1, 0),
    D(target_atr, 0, 1000, 1, 0),
    D(trail_atr, 0, 100, 1, 0),
    D(latency_ms_mean, 0, 600000, 1, 0),
    D(slippage_bps, 0, 10000, 0, 1),
    D(reject_rate, 0, 1, 0, 1),
    D(fault_unexpected_every_s, 0, 100.0 * 365 * 86400, 0, 0),
    D(fault_cycle_delay_ms, 0, 1000, 0, 0),
};

static double setting_value(const struct engine_config *c, const struct setting *s)
{
    const char *p = (const char *)c + s->off;
    switch (s->kind) {
    case K_INT:
        return (double)*(const int *)(const void *)p;
    case K_I64:
        return (double)*(const int64_t *)(const void *)p;
    default:
        return *(const double *)(const void *)p;
    }
}

/* "speed must be in [0.001, 1000000] (got -1)", "risk_per_trade must be in (0, 1] (got 2)". */
static int setting_check(const struct setting *s, double v, struct diag *d)
{
    int ok = isfinite(v) && (s->lo_open ? v > s->lo : v >= s->lo) &&
             (s->hi_open ? v < s->hi : v <= s->hi);
    if (ok)
        return BW_OK;
    if (isinf(s->hi))
        return diag_set(d, BW_EINVAL, "%s must be %s %.15g (got %.15g)", s->name,
                        s->lo_open ? ">" : ">=", s->lo, v);
    return diag_set(d, BW_EINVAL, "%s must be in %c%.15g, %.15g%c (got %.15g)", s->name,
                    s->lo_open ? '(' : '[', s->lo, s->hi, s->hi_open ? ')' : ']', v);
}

static int symbol_check(const struct engine_config *c, size_t i, struct diag *d)
{
    const char *s = c->symbols[i];
    size_t n = strnlen(s, ENGINE_SYMBOL_LEN);
    if (n == 0 || n == ENGINE_SYMBOL_LEN)
        return diag_set(d, BW_EINVAL, "symbols[%zu] must be 1 to %d characters", i,
                        ENGINE_SYMBOL_LEN - 1);
    for (size_t k = 0; k < n; k++) {
        char ch = s[k];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return diag_set(d, BW_EINVAL, "symbols[%zu] '%s' must be upper-case letters and digits",
                            i, s);
    }
    for (size_t k = 0; k < i; k++)
        if (strcmp(c->symbols[k], s) == 0)
            return diag_set(d, BW_EINVAL, "symbols: '%s' is listed twice", s);
    return BW_OK;
}

int engine_config_validate(const struct engine_config *c, struct diag *d)
{
    int rc;
    for (size_t i = 0; i < BW_ARRAY_LEN(settings); i++) {
        rc = setting_check(&settings[i], setting_value(c, &settings[i]), d);
        if (rc != BW_OK)
            return rc;
    }
    /* The synthetic feed steps every tick of a candle: keep that bounded. */
    if (c->candle_ms / c->tick_ms > 100000)
        return diag_set(d, BW_EINVAL,
                        "candle_ms must be at most 100000 ticks (got %lld and tick_ms %lld)",
                        (long long)c->candle_ms, (long long)c->tick_ms);
    if (c->candle_ms % c->tick_ms != 0)
        return diag_set(d, BW_EINVAL, "candle_ms must be a multiple of tick_ms (got %lld and %lld)",
                        (long long)c->candle_ms, (long long)c->tick_ms);
    if (!(c->min_volatility < c->max_volatility))
        return diag_set(d, BW_EINVAL, "min_volatility must be below max_volatility (got %g and %g)",
                        c->min_volatility, c->max_volatility);
    /* A replay takes its universe from the files; the list may then be empty. */
    size_t least = c->replay_dir[0] ? 0 : 1;
    if (c->nsymbols < least || c->nsymbols > ENGINE_MAX_SYMBOLS)
        return diag_set(d, BW_EINVAL, "symbols must list %zu to %d symbols (got %zu)", least,
                        ENGINE_MAX_SYMBOLS, c->nsymbols);
    for (size_t i = 0; i < c->nsymbols; i++) {
        rc = symbol_check(c, i, d);
        if (rc != BW_OK)
            return rc;
    }
    return BW_OK;
}

char *engine_config_json(const struct engine_config *c)
{
    char *out = NULL;
    char seed[24];
    cJSON *o = cJSON_CreateObject();
    cJSON *syms = cJSON_AddArrayToObject(o, "symbols");
    if (!o || !syms)
        goto done;
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)c->seed);
    if (!cJSON_AddRawToObject(o, "seed", seed) || !cJSON_AddBoolToObject(o, "paced", c->paced))
        goto done;
    if (c->replay_dir[0] && !cJSON_AddStringToObject(o, "replay_dir", c->replay_dir))
        goto done;
    for (size_t i = 0; i < c->nsymbols; i++) {
        cJSON *s = cJSON_CreateString(c->symbols[i]);
        if (!s || !cJSON_AddItemToArray(syms, s)) {
            cJSON_Delete(s);
            goto done;
        }
    }
    for (size_t i = 0; i < BW_ARRAY_LEN(settings); i++)
        if (!cJSON_AddNumberToObject(o, settings[i].name, setting_value(c, &settings[i])))
            goto done;
    out = cJSON_PrintUnformatted(o);
done:
    cJSON_Delete(o);
    return out;
}
