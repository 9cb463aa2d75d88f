/* feed: the market feed — what an exchange's websocket would send the engine, as text.
 *
 * A source (the synthetic generator in synth.c or the CSV replay in replay.c) advances to the
 * cycle's time and appends Binance-shaped JSON messages to a batch:
 *
 *   {"e":"kline","E":…,"s":"BTCUSDT","k":{"t":…,"T":…,"s":"BTCUSDT","i":"1m","o":"…",
 *    "c":"…","h":"…","l":"…","v":"…","x":true}}
 *   {"e":"trade","E":…,"s":"BTCUSDT","t":…,"p":"…","q":"…","T":…,"m":false}
 *
 * The batch is one capped buffer holding the messages back to back, each NUL-terminated, plus
 * their end offsets; both are reused every cycle, so a warm feed allocates nothing. The design
 * decision: the feed hands over text, never structs, so the engine pays for parsing exactly
 * as it would on a live connection — that is what websocket_message_processing measures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define FEED_BATCH_LIMIT (64u << 20) /* bytes of messages in one cycle */

/* Binance-style interval names: 1s, 1m, 5m, 1h, 1d; anything else in milliseconds. */
static void interval_name(int64_t ms, char *out, size_t outlen)
{
    static const struct {
        int64_t ms;
        char unit;
    } units[] = {{86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}, {1000, 's'}};
    for (size_t i = 0; i < BW_ARRAY_LEN(units); i++) {
        if (ms % units[i].ms == 0) {
            snprintf(out, outlen, "%lld%c", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    }
    snprintf(out, outlen, "%lldms", (long long)ms);
}

int feed_new(const struct engine_config *c, struct feed **out, struct diag *d)
{
    int rc;
    struct feed *f = calloc(1, sizeof(*f));
    if (!f)
        return diag_set(d, BW_ENOMEM, "out of memory creating the market feed");
    buf_init(&f->text, FEED_BATCH_LIMIT);
    f->candle_ms = c->candle_ms;
    interval_name(c->candle_ms, f->interval, sizeof(f->interval));
    if (c->replay_dir[0]) {
        rc = replay_open(c->replay_dir, c->candle_ms, f, &f->replay, d);
    } else {
        f->start_ms = c->start_ms;
        rc = synth_new(c, f, &f->synth);
        if (rc != BW_OK)
            diag_set(d, rc, "out of memory creating the synthetic market");
    }
    if (rc != BW_OK)
        goto err;
    *out = f;
    return BW_OK;
err:
    feed_free(f);
    return rc;
}

void feed_free(struct feed *f)
{
    if (!f)
        return;
    synth_free(f->synth);
    replay_free(f->replay);
    buf_fini(&f->text);
    free(f->ends);
    free(f);
}

int feed_step(struct feed *f, int64_t now_ms)
{
    buf_reset(&f->text);
    f->nmsg = 0;
    return f->synth ? synth_step(f->synth, f, now_ms) : replay_step(f->replay, f, now_ms);
}

const char *feed_message(const struct feed *f, size_t i, size_t *len)
{
    size_t start = i == 0 ? 0 : f->ends[i - 1] + 1;
    *len = f->ends[i] - start;
    return f->text.data + start;
}

/* Closes the message just printed into the batch: terminator and end offset. */
static int finish(struct feed *f, size_t mark, int rc)
{
    if (rc == BW_OK && f->nmsg == f->capmsg) {
        size_t ncap = f->capmsg ? 2 * f->capmsg : 256;
        size_t *p = realloc(f->ends, ncap * sizeof(*p));
        if (!p)
            rc = BW_ENOMEM;
        else {
            f->ends = p;
            f->capmsg = ncap;
        }
    }
    size_t end = f->text.len;
    if (rc == BW_OK)
        rc = buf_putc(&f->text, '\0');
    if (rc != BW_OK) {
        f->text.len = mark; /* drop the partial message */
        return rc;
    }
    f->ends[f->nmsg++] = end;
    return BW_OK;
}

int feed_emit_kline(struct feed *f, size_t sym, const struct candle *c)
{
    const struct feed_symbol *s = &f->sym[sym];
    int p = s->price_prec;
    long long t = (long long)c->t, close_ms = (long long)(c->t + f->candle_ms);
    size_t mark = f->text.len;
    int rc = buf_printf(&f->text,
                        "{\"e\":\"kline\",\"E\":%lld,\"s\":\"%s\",\"k\":{\"t\":%lld,\"T\":%lld,"
                        "\"s\":\"%s\",\"i\":\"%s\",\"o\":\"%.*f\",\"c\":\"%.*f\",\"h\":\"%.*f\","
                        "\"l\":\"%.*f\",\"v\":\"%.*f\",\"x\":true}}",
                        close_ms, s->name, t, close_ms - 1, s->name, f->interval, p, c->o, p, c->c,
                        p, c->h, p, c->l, s->qty_prec, c->v);
    return finish(f, mark, rc);
}

int feed_emit_trade(struct feed *f, size_t sym, double price, double qty, int64_t ts_ms,
                    int buyer_maker)
{
    const struct feed_symbol *s = &f->sym[sym];
    size_t mark = f->text.len;
    int rc =
        buf_printf(&f->text,
                   "{\"e\":\"trade\",\"E\":%lld,\"s\":\"%s\",\"t\":%llu,\"p\":\"%.*f\","
                   "\"q\":\"%.*f\",\"T\":%lld,\"m\":%s}",
                   (long long)ts_ms, s->name, (unsigned long long)++f->next_trade_id, s->price_prec,
                   price, s->qty_prec, qty, (long long)ts_ms, buyer_maker ? "true" : "false");
    return finish(f, mark, rc);
}
