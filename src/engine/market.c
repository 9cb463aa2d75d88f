/* market: the engine's view of the market, built from the feed's JSON messages.
 *
 * One struct market_symbol per symbol of the universe: last price, the price extremes since
 * open positions were last checked, and the strategy's candle ring. Symbols are found by name
 * through a small open-addressing table (hash of the name → symbol number), since every
 * message names its symbol. A message is parsed with cJSON and applied only when it is
 * complete and consistent; anything else — not JSON, an unknown symbol or event type, a
 * missing field, a candle whose high is below its low, a candle older than the last one — is
 * refused with the reason in the diagnostic and changes nothing. Input never crashes the
 * engine. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "engine/internal.h"

static size_t slot_of(const char *name, size_t len)
{
    return (size_t)hash_bytes(name, len, HASH_SEED) & (MARKET_INDEX_SLOTS - 1);
}

void market_init(struct market *m, const struct feed *f)
{
    memset(m, 0, sizeof(*m));
    memset(m->index, -1, sizeof(m->index));
    m->n = f->nsymbols;
    for (size_t i = 0; i < m->n; i++) {
        struct market_symbol *s = &m->sym[i];
        memcpy(s->name, f->sym[i].name, sizeof(s->name));
        s->last_open_ms = INT64_MIN;
        strategy_init(&s->strat);
        size_t h = slot_of(s->name, strlen(s->name));
        while (m->index[h] >= 0)
            h = (h + 1) & (MARKET_INDEX_SLOTS - 1);
        m->index[h] = (int16_t)i;
    }
}

int market_find(const struct market *m, const char *name, size_t len)
{
    if (len == 0 || len >= ENGINE_SYMBOL_LEN)
        return -1;
    for (size_t h = slot_of(name, len);; h = (h + 1) & (MARKET_INDEX_SLOTS - 1)) {
        int k = m->index[h];
        if (k < 0)
            return -1;
        if (memcmp(m->sym[k].name, name, len) == 0 && m->sym[k].name[len] == '\0')
            return k;
    }
}

/* A number given as a JSON string (as exchanges send prices) or as a JSON number. */
static int number(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return isfinite(*out);
    }
    return cJSON_IsString(v) && parse_finite(v->valuestring, out) == BW_OK;
}

static const char *string(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void see_price(struct market_symbol *s, double p)
{
    if (s->last <= 0) {
        s->hi = s->lo = p;
    } else {
        s->hi = fmax(s->hi, p);
        s->lo = fmin(s->lo, p);
    }
    s->last = p;
}

/* trade = {"e":"trade", "s":symbol, "p":price, "q":quantity, "T":time, …} */
static int apply_trade(struct market_symbol *s, const cJSON *root, struct diag *d)
{
    double p, q;
    if (!number(root, "p", &p) || !number(root, "q", &q))
        return diag_set(d, BW_EINVAL, "trade for %s: missing or bad price \"p\" or quantity \"q\"",
                        s->name);
    if (!(p > 0) || q < 0)
        return diag_set(d, BW_EINVAL, "trade for %s: price %g, quantity %g out of range", s->name,
                        p, q);
    see_price(s, p);
    return BW_OK;
}

/* kline = {"e":"kline", "s":symbol, "k":{"t":open time, "o","h","l","c","v", "x":closed, …}}
 * An open candle (x false) only moves the price; a closed one goes to the strategy. */
static int apply_kline(struct market *m, struct market_symbol *s, const cJSON *root, struct diag *d)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(root, "k");
    struct candle c;
    double t;
    if (!cJSON_IsObject(k) || !number(k, "t", &t) || !number(k, "o", &c.o) ||
        !number(k, "h", &c.h) || !number(k, "l", &c.l) || !number(k, "c", &c.c) ||
        !number(k, "v", &c.v))
        return diag_set(d, BW_EINVAL, "kline for %s: missing or bad field in \"k\"", s->name);
    if (!(c.l > 0) || c.h < c.l || c.h < c.o || c.h < c.c || c.l > c.o || c.l > c.c || c.v < 0 ||
        fabs(t) > 9.2e18)
        return diag_set(d, BW_EINVAL,
                        "kline for %s: inconsistent candle (o %g h %g l %g c %g "
                        "v %g)",
                        s->name, c.o, c.h, c.l, c.c, c.v);
    c.t = (int64_t)t;
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(k, "x"))) {
        see_price(s, c.c);
        return BW_OK;
    }
    if (c.t <= s->last_open_ms)
        return diag_set(d, BW_EINVAL, "kline for %s: candle %lld is not after the last one",
                        s->name, (long long)c.t);
    s->last_open_ms = c.t;
    strategy_add(&s->strat, &c);
    see_price(s, c.c);
    if (!s->fresh) {
        s->fresh = 1;
        m->nfresh++;
    }
    return BW_OK;
}

int market_apply(struct market *m, const char *json, size_t len, struct diag *d)
{
    int rc;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        rc = diag_set(d, BW_EINVAL, "not JSON (at byte %td)", end ? end - json : (ptrdiff_t)0);
        goto out;
    }
    const char *type = string(root, "e"), *name = string(root, "s");
    if (!type || !name) {
        rc = diag_set(d, BW_EINVAL, "message without an event type \"e\" or symbol \"s\"");
        goto out;
    }
    int i = market_find(m, name, strlen(name));
    if (i < 0) {
        rc = diag_set(d, BW_EINVAL, "%s message for '%.*s', not in the universe", type,
                      ENGINE_SYMBOL_LEN, name);
        goto out;
    }
    if (strcmp(type, "trade") == 0)
        rc = apply_trade(&m->sym[i], root, d);
    else if (strcmp(type, "kline") == 0)
        rc = apply_kline(m, &m->sym[i], root, d);
    else
        rc = diag_set(d, BW_EINVAL, "unknown event type '%.32s'", type);
out:
    cJSON_Delete(root);
    return rc;
}

void market_cycle_done(struct market *m)
{
    for (size_t i = 0; i < m->n; i++) {
        struct market_symbol *s = &m->sym[i];
        s->fresh = 0;
        s->hi = s->lo = s->last;
    }
    m->nfresh = 0;
}
