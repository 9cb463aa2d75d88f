/* trade: one symbol's trade from signal to close — the engine's trading pipeline.
 *
 * Each symbol owns one struct trade slot, so a symbol is in at most one trade and nothing is
 * allocated. The slot walks through its phases:
 *
 *   NONE ──signal──► CANDIDATE ──held confirm_candles──► ENTRY ──filled──► OPEN
 *     ▲                  │ back inside the range             │ rejected      │ stop, target,
 *     │                  ▼                                   ▼               ▼ trailing stop
 *     └──────────────── NONE ◄────────────── NONE ◄──closed── EXIT ◄─────────┘
 *
 * Every step is journaled as an event and, for the path signal → confirmed → order_submitted →
 * filled → closed, as a checkpoint, all under the trade's correlation id. Signals are looked
 * for only on candles that closed this cycle; positions are checked against the prices seen
 * since the last cycle, and against a closed candle's high and low when the position was
 * already open at the candle's start. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

#define BREAKEVEN_BPS 1.0 /* |P&L| within this share of the notional: breakeven */

const char *outcome_name(enum outcome o)
{
    static const char *const names[OUTCOME_COUNT] = {"win", "loss", "breakeven"};
    return (unsigned)o < OUTCOME_COUNT ? names[o] : "unknown";
}

static const char *order_verb(enum side s)
{
    return s == SIDE_LONG ? "buy" : "sell";
}

static enum side opposite(enum side s)
{
    return s == SIDE_LONG ? SIDE_SHORT : SIDE_LONG;
}

void trade_counts(const struct engine *e, int *pending, int *open)
{
    *pending = *open = 0;
    for (size_t i = 0; i < e->market.n; i++) {
        enum trade_phase p = e->slot[i].phase;
        *pending += p == TRADE_CANDIDATE || p == TRADE_ENTRY;
        *open += p == TRADE_OPEN || p == TRADE_EXIT;
    }
}

double trade_equity(const struct engine *e)
{
    double equity = e->risk.cash;
    for (size_t i = 0; i < e->market.n; i++) {
        const struct trade *t = &e->slot[i];
        if (t->phase == TRADE_OPEN || t->phase == TRADE_EXIT)
            equity += side_sign(t->sig.side) * (e->market.sym[i].last - t->entry) * t->qty;
    }
    return equity;
}

/* The trade ends before a position was opened. */
static void drop(struct engine *e, int i, const char *why)
{
    struct trade *t = &e->slot[i];
    char data[160];
    snprintf(data, sizeof(data), "{\"reason\":\"%s\"}", why);
    engine_event(e, "signal", SEV_INFO, i, t, data, "%s %s signal dropped: %s",
                 e->market.sym[i].name, side_name(t->sig.side), why);
    engine_checkpoint(e, "abandoned", i, t, data);
    t->phase = TRADE_NONE;
}

static void order_event(struct engine *e, int i, const struct trade *t, enum severity sev,
                        const char *what)
{
    const struct order *o = &t->order;
    char data[200];
    snprintf(data, sizeof(data),
             "{\"order_id\":%llu,\"side\":\"%s\",\"qty\":%.10g,\"status\":\"%s\","
             "\"reduce_only\":%s}",
             (unsigned long long)o->id, order_verb(o->side), o->qty, order_status_name(o->status),
             o->reduce_only ? "true" : "false");
    engine_event(e, "order", sev, i, t, data, "order %llu %s %.6g %s %s", (unsigned long long)o->id,
                 order_verb(o->side), o->qty, e->market.sym[i].name, what);
    if (o->status == ORDER_SUBMITTED && !o->reduce_only)
        engine_checkpoint(e, "order_submitted", i, t, data);
}

static void submit(struct engine *e, int i, enum side side, double qty, int reduce_only)
{
    struct trade *t = &e->slot[i];
    broker_submit(&e->broker, &t->order, side, qty, reduce_only, e->now_ms);
    e->orders++;
    metrics_inc(e->m.orders[ORDER_SUBMITTED]);
    engine_milestone(e, MILESTONE_FIRST_ORDER);
}

static void submit_entry(struct engine *e, int i)
{
    struct trade *t = &e->slot[i];
    const struct market_symbol *ms = &e->market.sym[i];
    double qty = risk_size(&e->risk, trade_equity(e), ms->last, e->cfg.stop_atr * t->sig.atr);
    if (!(qty > 0)) {
        drop(e, i, "nothing to size");
        return;
    }
    submit(e, i, t->sig.side, qty, 0);
    t->phase = TRADE_ENTRY;
    order_event(e, i, t, SEV_INFO, "submitted to open");
}

static void submit_exit(struct engine *e, int i, const char *reason)
{
    struct trade *t = &e->slot[i];
    t->exit_reason = reason;
    submit(e, i, opposite(t->sig.side), t->qty, 1);
    t->phase = TRADE_EXIT;
    char what[64];
    snprintf(what, sizeof(what), "submitted to close (%s)", reason);
    order_event(e, i, t, SEV_INFO, what);
}

static void confirmed(struct engine *e, int i)
{
    struct trade *t = &e->slot[i];
    engine_event(e, "signal", SEV_INFO, i, t, NULL, "%s %s breakout confirmed after %d candle(s)",
                 e->market.sym[i].name, side_name(t->sig.side), t->held);
    engine_checkpoint(e, "confirmed", i, t, NULL);
    submit_entry(e, i);
}

static void new_signal(struct engine *e, int i, const struct signal *sig)
{
    struct trade *t = &e->slot[i];
    const char *name = e->market.sym[i].name;
    int pending, open;
    trade_counts(e, &pending, &open);
    e->signals++;
    metrics_inc(e->m.signals[i][sig->side][sig->regime]);
    if (e->m.on)
        metrics_set(e->m.last_signal, (double)clock_real_ns() * 1e-9);
    *t = (struct trade){.phase = TRADE_CANDIDATE, .sig = *sig};
    /* Formatted aside: the name and the id both live in *e, which gcc's -Wrestrict flags. */
    char id[sizeof(t->id)];
    snprintf(id, sizeof(id), "t%06llu-%s", (unsigned long long)++e->trade_seq, name);
    memcpy(t->id, id, sizeof(id));
    char data[320];
    snprintf(data, sizeof(data),
             "{\"side\":\"%s\",\"regime\":\"%s\",\"price\":%.10g,\"range_high\":%.10g,"
             "\"range_low\":%.10g,\"volume_ratio\":%.4g,\"atr_pct\":%.4g}",
             side_name(sig->side), regime_name(sig->regime), sig->price, sig->range_high,
             sig->range_low, sig->volume_ratio, sig->atr_pct);
    engine_event(e, "signal", SEV_INFO, i, t, data,
                 "%s %s breakout at %.10g (range %.10g–%.10g, volume %.1f× average, %s)", name,
                 side_name(sig->side), sig->price, sig->range_low, sig->range_high,
                 sig->volume_ratio, regime_name(sig->regime));
    engine_checkpoint(e, "signal", i, t, data);
    engine_milestone(e, MILESTONE_FIRST_SIGNAL);
    if (pending + open >= e->cfg.max_positions)
        drop(e, i, "max_positions reached");
    else if (e->cfg.confirm_candles == 0)
        confirmed(e, i);
}

void trade_scan(struct engine *e)
{
    for (size_t i = 0; i < e->market.n; i++) {
        const struct market_symbol *ms = &e->market.sym[i];
        struct trade *t = &e->slot[i];
        struct signal sig;
        if (!ms->fresh)
            continue;
        if (t->phase == TRADE_CANDIDATE) {
            if (!strategy_holds(&ms->strat, &t->sig))
                drop(e, (int)i, "closed back inside the range");
            else if (++t->held >= e->cfg.confirm_candles)
                confirmed(e, (int)i);
        } else if (t->phase == TRADE_NONE && strategy_breakout(&ms->strat, &e->cfg, &sig)) {
            new_signal(e, (int)i, &sig);
        }
    }
}

static void opened(struct engine *e, int i)
{
    struct trade *t = &e->slot[i];
    const struct order *o = &t->order;
    double sign = side_sign(t->sig.side);
    t->phase = TRADE_OPEN;
    t->qty = o->qty;
    t->entry = t->best = o->fill_price;
    t->opened_ms = o->due_ms;
    t->stop = t->entry - sign * e->cfg.stop_atr * t->sig.atr;
    t->target = t->entry + sign * e->cfg.target_atr * t->sig.atr;
    char data[200];
    snprintf(data, sizeof(data),
             "{\"order_id\":%llu,\"price\":%.10g,\"qty\":%.10g,\"stop\":%.10g,\"target\":%.10g,"
             "\"latency_ms\":%lld}",
             (unsigned long long)o->id, t->entry, t->qty, t->stop, t->target,
             (long long)(o->due_ms - o->submit_ms));
    engine_event(e, "fill", SEV_INFO, i, t, data,
                 "%s %s %.6g filled at %.10g (stop %.10g, target %.10g)", e->market.sym[i].name,
                 side_name(t->sig.side), t->qty, t->entry, t->stop, t->target);
    engine_checkpoint(e, "filled", i, t, data);
    engine_milestone(e, MILESTONE_FIRST_FILL);
}

static void closed(struct engine *e, int i)
{
    struct trade *t = &e->slot[i];
    const struct order *o = &t->order;
    double pnl = side_sign(t->sig.side) * (o->fill_price - t->entry) * t->qty;
    enum outcome out = fabs(pnl) <= BREAKEVEN_BPS * 1e-4 * t->entry * t->qty ? OUTCOME_BREAKEVEN
                       : pnl > 0                                             ? OUTCOME_WIN
                                                                             : OUTCOME_LOSS;
    e->risk.cash += pnl;
    e->trades++;
    e->wins += out == OUTCOME_WIN;
    e->losses += out == OUTCOME_LOSS;
    metrics_inc(e->m.trades[i][t->sig.side][out]);
    char data[240];
    snprintf(data, sizeof(data),
             "{\"side\":\"%s\",\"entry\":%.10g,\"exit\":%.10g,\"qty\":%.10g,\"pnl\":%.10g,"
             "\"outcome\":\"%s\",\"reason\":\"%s\"}",
             side_name(t->sig.side), t->entry, o->fill_price, t->qty, pnl, outcome_name(out),
             t->exit_reason);
    engine_event(e, "close", out == OUTCOME_LOSS ? SEV_WARNING : SEV_INFO, i, t, data,
                 "%s %s closed at %.10g (%s): P&L %+.2f, %s", e->market.sym[i].name,
                 side_name(t->sig.side), o->fill_price, t->exit_reason, pnl, outcome_name(out));
    engine_checkpoint(e, "closed", i, t, data);
    engine_milestone(e, MILESTONE_FIRST_CLOSE);
    t->phase = TRADE_NONE;
}

void trade_orders(struct engine *e)
{
    for (size_t i = 0; i < e->market.n; i++) {
        struct trade *t = &e->slot[i];
        struct order *o = &t->order;
        if ((t->phase != TRADE_ENTRY && t->phase != TRADE_EXIT) || o->due_ms > e->now_ms)
            continue;
        enum order_status st = broker_execute(&e->broker, o, e->market.sym[i].last);
        metrics_inc(e->m.orders[st]);
        if (st == ORDER_REJECTED) {
            order_event(e, (int)i, t, SEV_WARNING, "rejected by the exchange");
            drop(e, (int)i, "order rejected");
            continue;
        }
        metrics_observe(e->m.execution, (double)(o->due_ms - o->submit_ms) / 1000.0);
        if (t->phase == TRADE_ENTRY)
            opened(e, (int)i);
        else
            closed(e, (int)i);
    }
}

void trade_manage(struct engine *e)
{
    for (size_t i = 0; i < e->market.n; i++) {
        struct trade *t = &e->slot[i];
        const struct market_symbol *ms = &e->market.sym[i];
        if (t->phase != TRADE_OPEN)
            continue;
        double hi = -INFINITY, lo = INFINITY;
        if (t->opened_ms <= e->now_ms - e->cfg.tick_ms) { /* open for the whole cycle */
            hi = ms->hi;
            lo = ms->lo;
        }
        if (ms->fresh) {
            const struct candle *k = strategy_candle(&ms->strat, 0);
            if (t->opened_ms < k->t + e->cfg.tick_ms) { /* open from the candle's start */
                hi = fmax(hi, k->h);
                lo = fmin(lo, k->l);
            }
        }
        if (hi < lo)
            continue; /* nothing seen since the fill */
        double sign = side_sign(t->sig.side);
        double adverse = sign > 0 ? lo : hi, favourable = sign > 0 ? hi : lo;
        if (sign * (adverse - t->stop) <= 0) {
            submit_exit(e, (int)i, t->trailing ? "trailing_stop" : "stop");
        } else if (sign * (favourable - t->target) >= 0) {
            submit_exit(e, (int)i, "target");
        } else if (sign * (favourable - t->best) > 0) {
            double trail = e->cfg.trail_atr * t->sig.atr;
            t->best = favourable;
            double stop = t->best - sign * trail;
            if (sign * (t->best - t->entry) >= trail && sign * (stop - t->stop) > 0) {
                t->stop = stop;
                t->trailing = 1;
            }
        }
    }
}

void trade_flatten(struct engine *e, const char *why, const char *exit_reason)
{
    char what[96];
    for (size_t i = 0; i < e->market.n; i++) {
        struct trade *t = &e->slot[i];
        switch (t->phase) {
        case TRADE_CANDIDATE:
            drop(e, (int)i, why);
            break;
        case TRADE_ENTRY:
            t->order.status = ORDER_CANCELLED;
            metrics_inc(e->m.orders[ORDER_CANCELLED]);
            snprintf(what, sizeof(what), "cancelled: %s", why);
            order_event(e, (int)i, t, SEV_INFO, what);
            drop(e, (int)i, "order cancelled");
            break;
        case TRADE_OPEN:
            submit_exit(e, (int)i, exit_reason);
            break;
        default:
            break;
        }
    }
}
