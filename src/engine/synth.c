/* synth: the synthetic market — a seeded, regime-switching random walk per symbol.
 *
 * Each symbol has its own rng stream (seed mixed with the symbol's name, so a symbol's path
 * does not depend on which others are in the universe), a log price and a regime that a
 * Markov chain switches at candle boundaries:
 *
 *   trending  drift of a fixed sign, normal volatility, volume a little above normal
 *   ranging   pull towards an anchor price, low volatility, low volume
 *   volatile  no drift, high volatility, heavy volume with spikes
 *
 * Leaving a range starts an impulse — a few candles of strong drift and heavy volume — which
 * is what a breakout looks like on a real chart, so the strategy has something to find; now
 * and then a range throws the same push and the pull to its anchor undoes it (a false
 * breakout), so that not every signal pays. The constants were tuned so that with the
 * default strategy a day brings a few hundred signals, wins and losses in similar numbers and
 * an occasional daily-loss halt. The
 * walk moves once per engine tick; ticks build the candle, a sample of them goes out as trade
 * messages and the closed candle as a kline. Prices are rounded to the symbol's tick size.
 * Before the start the generator runs a couple of hours of history and sends only the klines,
 * as a live engine would fetch recent candles over REST before subscribing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define SYNTH_HISTORY_CANDLES   120
#define SYNTH_TRADES_PER_CANDLE 8.0
#define SYNTH_IMPULSE_CANDLES   3
#define SYNTH_IMPULSE_DRIFT     0.6  /* per candle, in σ */
#define SYNTH_FAKEOUT_P         0.02 /* ranging: chance per candle of a push that fails */
#define SYNTH_IMPULSE_VOLUME    2.5
#define SYNTH_SPIKE_P           0.12 /* volatile regime: chance of a volume spike per candle */
#define SYNTH_SPIKE_VOLUME      3.0
#define SYNTH_REF_PULL          2e-4 /* per candle: keeps prices near their level over weeks */

/* Price levels, tick sizes and one-minute volatility and volume of the pairs we know;
 * others get a level derived from their name. */
static const struct known {
    const char *name;
    double price;
    int price_prec, qty_prec;
    double vol;    /* σ of the one-minute log return */
    double volume; /* one-minute volume, base asset */
} known[] = {
    {"BTCUSDT", 65000.0, 2, 5, 0.0010, 25.0},    {"ETHUSDT", 3200.0, 2, 4, 0.0013, 300.0},
    {"BNBUSDT", 580.0, 2, 3, 0.0012, 400.0},     {"SOLUSDT", 150.0, 3, 2, 0.0018, 3000.0},
    {"XRPUSDT", 0.52, 4, 1, 0.0016, 400000.0},   {"ADAUSDT", 0.45, 4, 1, 0.0017, 300000.0},
    {"DOGEUSDT", 0.15, 5, 0, 0.0020, 2000000.0}, {"AVAXUSDT", 35.0, 3, 2, 0.0020, 5000.0},
    {"DOTUSDT", 7.0, 3, 2, 0.0018, 20000.0},     {"LINKUSDT", 15.0, 3, 2, 0.0018, 10000.0},
    {"LTCUSDT", 80.0, 2, 3, 0.0014, 2000.0},     {"TRXUSDT", 0.12, 5, 0, 0.0010, 1500000.0},
    {"ATOMUSDT", 8.5, 3, 2, 0.0018, 15000.0},    {"UNIUSDT", 9.0, 3, 2, 0.0019, 12000.0},
    {"NEARUSDT", 6.0, 3, 1, 0.0022, 30000.0},    {"APTUSDT", 9.0, 3, 2, 0.0022, 15000.0},
    {"ARBUSDT", 1.1, 4, 1, 0.0022, 150000.0},    {"OPUSDT", 2.5, 4, 1, 0.0022, 60000.0},
    {"MATICUSDT", 0.70, 4, 1, 0.0020, 250000.0}, {"SHIBUSDT", 0.000025, 8, 0, 0.0022, 4e9},
};

/* Regime dynamics, per candle. `next` weighs where the chain goes when it leaves. */
static const struct regime_params {
    double stay;
    double next[REGIME_COUNT];
    double drift;  /* |drift| in σ */
    double vol;    /* σ multiple */
    double volume; /* volume multiple */
    double revert; /* pull towards the anchor */
} regimes[REGIME_COUNT] = {
    [REGIME_TRENDING] = {0.97, {0.0, 0.6, 0.4}, 0.24, 1.0, 1.2, 0.0},
    [REGIME_RANGING] = {0.98, {0.7, 0.0, 0.3}, 0.0, 0.6, 0.8, 0.15},
    [REGIME_VOLATILE] = {0.93, {0.5, 0.5, 0.0}, 0.0, 2.5, 2.0, 0.0},
};

struct synth_symbol {
    struct rng rng;
    double logp, ref, anchor; /* log price, its long-run level, a range's centre */
    double vol, volume;       /* per candle */
    double tick;              /* price increment */
    enum regime regime;
    double dir;           /* +1 / -1: the direction of the trend and of an impulse */
    int impulse;          /* impulse candles left */
    double candle_volume; /* this candle's expected volume */
    struct candle cur;
};

struct synth {
    size_t n;
    int64_t tick_ms, candle_ms, start_ms;
    int64_t next_ms; /* time of the next tick to generate */
    double ticks;    /* ticks per candle */
    double trade_p;  /* chance that a tick goes out as a trade message */
    struct synth_symbol sym[];
};

static void symbol_setup(struct synth_symbol *s, struct feed_symbol *fs, uint64_t seed,
                         double candle_min)
{
    const struct known *k = NULL;
    for (size_t i = 0; i < BW_ARRAY_LEN(known); i++)
        if (strcmp(known[i].name, fs->name) == 0)
            k = &known[i];
    uint64_t h = hash_bytes(fs->name, strlen(fs->name), HASH_SEED);
    double price, vol, volume;
    if (k) {
        price = k->price;
        vol = k->vol;
        volume = k->volume;
        fs->price_prec = k->price_prec;
        fs->qty_prec = k->qty_prec;
    } else {
        /* 0.01 … 9000, six significant digits, about 50 000 USDT a minute. */
        price = pow(10.0, (double)(h % 6) - 2.0) * (double)(1 + (h >> 8) % 9);
        vol = 0.0015 + 0.0001 * (double)((h >> 16) % 8);
        volume = 50000.0 / price;
        int prec = 5 - (int)floor(log10(price));
        fs->price_prec = prec < 0 ? 0 : prec;
        fs->qty_prec = price > 1000 ? 4 : 2;
    }
    rng_seed(&s->rng, seed ^ h);
    s->logp = s->ref = s->anchor = log(price);
    s->vol = vol * sqrt(candle_min);
    s->volume = volume * candle_min;
    s->tick = pow(10.0, -fs->price_prec);
    s->regime = REGIME_RANGING;
    s->dir = 1.0;
    s->impulse = 0;
}

int synth_new(const struct engine_config *c, struct feed *f, struct synth **out)
{
    struct synth *s = calloc(1, sizeof(*s) + c->nsymbols * sizeof(s->sym[0]));
    if (!s)
        return BW_ENOMEM;
    s->n = c->nsymbols;
    s->tick_ms = c->tick_ms;
    s->candle_ms = c->candle_ms;
    s->start_ms = c->start_ms;
    s->ticks = (double)(c->candle_ms / c->tick_ms);
    s->trade_p = fmin(1.0, SYNTH_TRADES_PER_CANDLE / s->ticks);
    int64_t history = SYNTH_HISTORY_CANDLES;
    if (history < c->range_lookback + 30)
        history = c->range_lookback + 30;
    s->next_ms = c->start_ms - c->start_ms % c->candle_ms - history * c->candle_ms;
    f->nsymbols = c->nsymbols;
    for (size_t i = 0; i < s->n; i++) {
        memcpy(f->sym[i].name, c->symbols[i], sizeof(f->sym[i].name));
        symbol_setup(&s->sym[i], &f->sym[i], c->seed, (double)c->candle_ms / 60000.0);
    }
    *out = s;
    return BW_OK;
}

void synth_free(struct synth *s)
{
    free(s);
}

enum regime synth_regime(const struct synth *s, size_t i)
{
    return s->sym[i].regime;
}

static double rounded_price(const struct synth_symbol *s)
{
    double p = round(exp(s->logp) / s->tick) * s->tick;
    return p < s->tick ? s->tick : p;
}

/* Candle boundary: the Markov step, then this candle's volume level. */
static void candle_begin(struct synth_symbol *s, int64_t t)
{
    const struct regime_params *rp = &regimes[s->regime];
    if (rng_uniform(&s->rng) >= rp->stay) {
        double u = rng_uniform(&s->rng), acc = 0.0;
        enum regime from = s->regime, to = from;
        for (int r = 0; r < REGIME_COUNT && to == from; r++) {
            acc += rp->next[r];
            if (u < acc)
                to = (enum regime)r;
        }
        s->regime = to;
        s->dir = rng_uniform(&s->rng) < 0.5 ? -1.0 : 1.0;
        s->anchor = s->logp;
        if (from == REGIME_RANGING)
            s->impulse = SYNTH_IMPULSE_CANDLES;
    } else if (s->regime == REGIME_RANGING && s->impulse == 0 &&
               rng_uniform(&s->rng) < SYNTH_FAKEOUT_P) {
        /* A push out of the range that the pull to the anchor then undoes: a false breakout. */
        s->dir = rng_uniform(&s->rng) < 0.5 ? -1.0 : 1.0;
        s->impulse = SYNTH_IMPULSE_CANDLES;
    }
    rp = &regimes[s->regime];
    double mult = rp->volume * exp(0.35 * rng_normal(&s->rng) - 0.06);
    if (s->impulse > 0)
        mult *= SYNTH_IMPULSE_VOLUME;
    if (s->regime == REGIME_VOLATILE && rng_uniform(&s->rng) < SYNTH_SPIKE_P)
        mult *= SYNTH_SPIKE_VOLUME;
    s->candle_volume = s->volume * mult;
    double p = rounded_price(s);
    s->cur = (struct candle){.t = t, .o = p, .h = p, .l = p, .c = p, .v = 0.0};
}

/* One tick of the walk; returns the tick's volume, *z its shock. */
static double tick_move(struct synth_symbol *s, double ticks, double *z)
{
    const struct regime_params *rp = &regimes[s->regime];
    double drift = s->dir * (rp->drift + (s->impulse > 0 ? SYNTH_IMPULSE_DRIFT : 0.0)) * s->vol -
                   rp->revert * (s->logp - s->anchor) - SYNTH_REF_PULL * (s->logp - s->ref);
    *z = rng_normal(&s->rng);
    s->logp += drift / ticks + rp->vol * s->vol * *z / sqrt(ticks);
    double p = rounded_price(s);
    struct candle *c = &s->cur;
    c->c = p;
    if (p > c->h)
        c->h = p;
    if (p < c->l)
        c->l = p;
    double v = s->candle_volume / ticks * (0.3 + fabs(*z));
    c->v += v;
    return v;
}

int synth_step(struct synth *s, struct feed *f, int64_t now_ms)
{
    int rc = BW_OK;
    for (; s->next_ms <= now_ms; s->next_ms += s->tick_ms) {
        int64_t t = s->next_ms;
        int boundary = t % s->candle_ms == 0;
        int live = t >= s->start_ms;
        for (size_t i = 0; i < s->n && boundary; i++) {
            struct synth_symbol *sy = &s->sym[i];
            if (sy->cur.t < t && sy->cur.v > 0.0) {
                rc = feed_emit_kline(f, i, &sy->cur);
                if (rc != BW_OK)
                    return rc;
                if (sy->impulse > 0)
                    sy->impulse--;
            }
            candle_begin(sy, t);
        }
        for (size_t i = 0; i < s->n; i++) {
            struct synth_symbol *sy = &s->sym[i];
            double z, v = tick_move(sy, s->ticks, &z);
            int trade = rng_uniform(&sy->rng) < s->trade_p;
            if (live && trade) {
                rc = feed_emit_trade(f, i, sy->cur.c, v, t, z < 0);
                if (rc != BW_OK)
                    return rc;
            }
        }
    }
    return rc;
}
