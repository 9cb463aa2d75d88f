/* strategy: range breakout with volume and volatility filters, and market regime detection.
 *
 * Per symbol, a ring of the last STRATEGY_HISTORY closed candles plus running indicators:
 * Wilder's ATR(14) and a slow average of ATR/price (the symbol's normal volatility). A candle
 * is a breakout when it closes beyond the high / low of the range_lookback candles before it,
 * on volume of at least volume_factor × their average, with ATR/price inside
 * [min_volatility, max_volatility]: long above the range, short below.
 *
 * The regime comes from prices alone — never from the generator — so replayed data gets the
 * same labels: volatile when the recent true range runs well above the symbol's normal,
 * trending when Kaufman's efficiency ratio (net move over path length) is high, ranging
 * otherwise. All functions are pure functions of the ring; nothing here allocates. */
#include <math.h>
#include <string.h>

#include "engine/internal.h"

#define ER_PERIOD      20   /* candles of the efficiency ratio */
#define TREND_ER       0.25 /* at or above: trending */
#define FAST_PERIOD    10   /* candles of the recent true range */
#define VOLATILE_RATIO 1.6  /* recent true range over normal ATR/price: volatile */
#define SLOW_PERIOD    240.0

const char *side_name(enum side s)
{
    return s == SIDE_LONG ? "long" : "short";
}

const char *regime_name(enum regime r)
{
    static const char *const names[REGIME_COUNT] = {"trending", "ranging", "volatile"};
    return (unsigned)r < REGIME_COUNT ? names[r] : "unknown";
}

void strategy_init(struct strategy_symbol *s)
{
    memset(s, 0, sizeof(*s));
}

const struct candle *strategy_candle(const struct strategy_symbol *s, size_t back)
{
    return &s->ring[(s->n - 1 - back) % STRATEGY_HISTORY];
}

/* The true range of the candle `back` candles ago (its own range for the first one). */
static double true_range(const struct strategy_symbol *s, size_t back)
{
    const struct candle *c = strategy_candle(s, back);
    double tr = c->h - c->l;
    if (back + 1 < s->n) {
        double pc = strategy_candle(s, back + 1)->c;
        tr = fmax(tr, fmax(fabs(c->h - pc), fabs(c->l - pc)));
    }
    return tr;
}

void strategy_add(struct strategy_symbol *s, const struct candle *c)
{
    s->ring[s->n % STRATEGY_HISTORY] = *c;
    s->n++;
    double tr = true_range(s, 0);
    if (s->n <= STRATEGY_ATR_PERIOD) {
        s->tr_sum += tr;
        if (s->n < STRATEGY_ATR_PERIOD)
            return;
        s->atr = s->tr_sum / STRATEGY_ATR_PERIOD;
    } else {
        s->atr = (s->atr * (STRATEGY_ATR_PERIOD - 1) + tr) / STRATEGY_ATR_PERIOD;
    }
    double pct = s->atr / c->c;
    s->vol_slow = s->vol_slow > 0 ? s->vol_slow + (pct - s->vol_slow) / SLOW_PERIOD : pct;
}

int strategy_ready(const struct strategy_symbol *s, int lookback)
{
    size_t need = (size_t)lookback + 1;
    if (need < ER_PERIOD + 1)
        need = ER_PERIOD + 1;
    if (need < STRATEGY_ATR_PERIOD)
        need = STRATEGY_ATR_PERIOD;
    return s->n >= need;
}

enum regime strategy_regime(const struct strategy_symbol *s)
{
    if (s->n <= ER_PERIOD || s->vol_slow <= 0)
        return REGIME_RANGING;
    double fast = 0.0;
    for (size_t i = 0; i < FAST_PERIOD; i++)
        fast += true_range(s, i) / strategy_candle(s, i)->c;
    if (fast / FAST_PERIOD > VOLATILE_RATIO * s->vol_slow)
        return REGIME_VOLATILE;
    double path = 0.0;
    for (size_t i = 0; i < ER_PERIOD; i++)
        path += fabs(strategy_candle(s, i)->c - strategy_candle(s, i + 1)->c);
    double net = fabs(strategy_candle(s, 0)->c - strategy_candle(s, ER_PERIOD)->c);
    return path > 0 && net / path >= TREND_ER ? REGIME_TRENDING : REGIME_RANGING;
}

int strategy_breakout(const struct strategy_symbol *s, const struct engine_config *c,
                      struct signal *out)
{
    if (!strategy_ready(s, c->range_lookback))
        return 0;
    const struct candle *k = strategy_candle(s, 0);
    double hi = -INFINITY, lo = INFINITY, vsum = 0.0;
    for (size_t i = 1; i <= (size_t)c->range_lookback; i++) {
        const struct candle *r = strategy_candle(s, i);
        hi = fmax(hi, r->h);
        lo = fmin(lo, r->l);
        vsum += r->v;
    }
    enum side side;
    if (k->c > hi)
        side = SIDE_LONG;
    else if (k->c < lo)
        side = SIDE_SHORT;
    else
        return 0;
    double avg = vsum / c->range_lookback;
    double atr_pct = s->atr / k->c;
    if (k->v < c->volume_factor * avg || atr_pct < c->min_volatility || atr_pct > c->max_volatility)
        return 0;
    *out = (struct signal){
        .side = side,
        .regime = strategy_regime(s),
        .candle_ms = k->t,
        .price = k->c,
        .range_high = hi,
        .range_low = lo,
        .volume_ratio = avg > 0 ? k->v / avg : 0.0,
        .atr = s->atr,
        .atr_pct = atr_pct,
    };
    return 1;
}

int strategy_holds(const struct strategy_symbol *s, const struct signal *sig)
{
    double close = strategy_candle(s, 0)->c;
    return sig->side == SIDE_LONG ? close > sig->range_high : close < sig->range_low;
}
