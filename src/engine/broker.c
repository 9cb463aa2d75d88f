/* broker: the paper broker — market orders against the simulated market.
 *
 * An order lives in the trade that placed it (struct order, owned by the caller); the broker
 * only decides what the exchange would: when the answer comes back (a latency drawn around
 * latency_ms_mean from a log-normal, so a few orders are slow, never instant), whether an
 * entry is rejected (reject_rate; orders that only reduce a position are always accepted)
 * and the fill price — the market price when the answer arrives, moved slippage_bps against
 * the trader. The broker has its own rng stream, so execution never perturbs the market. */
#include <math.h>

#include "engine/internal.h"

#define LATENCY_SIGMA 0.35 /* of the log-normal latency */

const char *order_status_name(enum order_status s)
{
    static const char *const names[ORDER_STATUS_COUNT] = {"submitted", "filled", "rejected",
                                                          "cancelled"};
    return (unsigned)s < ORDER_STATUS_COUNT ? names[s] : "unknown";
}

void broker_init(struct broker *b, const struct engine_config *c)
{
    rng_seed(&b->rng, c->seed ^ 0x62726f6b6572ULL); /* "broker": a stream of its own */
    b->latency_ms_mean = c->latency_ms_mean;
    b->slippage_bps = c->slippage_bps;
    b->reject_rate = c->reject_rate;
    b->next_id = 1;
}

void broker_submit(struct broker *b, struct order *o, enum side side, double qty, int reduce_only,
                   int64_t now_ms)
{
    /* exp(σz − σ²/2) has mean 1, so the latency's mean is latency_ms_mean. */
    double z = rng_normal(&b->rng);
    double latency =
        b->latency_ms_mean * exp(LATENCY_SIGMA * z - 0.5 * LATENCY_SIGMA * LATENCY_SIGMA);
    int64_t ms = (int64_t)llround(latency);
    *o = (struct order){
        .id = b->next_id++,
        .side = side,
        .status = ORDER_SUBMITTED,
        .reduce_only = reduce_only,
        .qty = qty,
        .submit_ms = now_ms,
        .due_ms = now_ms + (ms < 1 ? 1 : ms),
    };
}

enum order_status broker_execute(struct broker *b, struct order *o, double last)
{
    if (!o->reduce_only && rng_uniform(&b->rng) < b->reject_rate) {
        o->status = ORDER_REJECTED;
        return o->status;
    }
    o->fill_price = last * (1.0 + side_sign(o->side) * b->slippage_bps * 1e-4);
    o->status = ORDER_FILLED;
    return o->status;
}
