/* risk: position sizing and the daily loss limit.
 *
 * The book is a struct risk: the realised balance, the equity at the start of the trading day
 * (UTC midnight of simulated time) and whether trading is halted. Sizing risks
 * risk_per_trade × equity between entry and stop, capped at max_leverage × equity of
 * notional. The loss limit compares realised plus unrealised P&L since the start of the day
 * with daily_loss_limit × start-of-day equity; reaching it halts trading — counted once, at
 * the moment it happens — until the next UTC day. risk only decides; flattening the book is
 * the trade pipeline's job. */
#include <math.h>

#include "engine/internal.h"

static int64_t day_of(int64_t ms)
{
    return ms >= 0 ? ms / ENGINE_DAY_MS : (ms - ENGINE_DAY_MS + 1) / ENGINE_DAY_MS;
}

void risk_init(struct risk *r, const struct engine_config *c, int64_t now_ms)
{
    *r = (struct risk){
        .cash = c->starting_equity,
        .day_start_equity = c->starting_equity,
        .day = day_of(now_ms),
        .limit = c->daily_loss_limit,
        .risk_per_trade = c->risk_per_trade,
        .max_leverage = c->max_leverage,
    };
}

double risk_size(const struct risk *r, double equity, double price, double stop_distance)
{
    if (!(equity > 0) || !(price > 0) || !(stop_distance > 0))
        return 0.0;
    double qty = r->risk_per_trade * equity / stop_distance;
    double cap = r->max_leverage * equity / price;
    return fmin(qty, cap);
}

double risk_daily_pnl(const struct risk *r, double equity)
{
    return equity - r->day_start_equity;
}

int risk_update(struct risk *r, int64_t now_ms, double equity)
{
    int flags = 0;
    int64_t day = day_of(now_ms);
    if (day != r->day) {
        flags |= RISK_NEW_DAY | (r->halted ? RISK_RESUMED : 0);
        r->halted = 0;
        r->day = day;
        r->day_start_equity = equity;
    }
    if (!r->halted && risk_daily_pnl(r, equity) <= -r->limit * r->day_start_equity) {
        r->halted = 1;
        r->triggers++;
        flags |= RISK_TRIGGERED;
    }
    return flags;
}

double risk_budget_remaining(const struct risk *r, double equity)
{
    double budget = r->limit * r->day_start_equity;
    if (!(budget > 0))
        return 0.0;
    return fmin(1.0, fmax(0.0, 1.0 + risk_daily_pnl(r, equity) / budget));
}
