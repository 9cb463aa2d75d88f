/* instrument: every metric the engine exports, in one table, and the handles the loop uses.
 *
 * `families[]` is the single place where a name, type, label names and help text (with the
 * unit) are written; docs/metrics.md mirrors it. engine_metrics_init declares them all
 * and resolves every series the engine can ever touch — each symbol × side × regime of
 * signals, each symbol × side × outcome of trades, each from × to pair of transitions — so
 * that every series exists (at 0) from the start, rate() works at once, and the loop does
 * nothing but handle operations: no lookup, no lock, no formatting. */
#include <math.h>
#include <stdio.h>

#include "engine/internal.h"

enum family {
    F_CYCLE_TIME,
    F_SCAN_DURATION,
    F_MESSAGE,
    F_EXECUTION,
    F_SIGNALS,
    F_LOSS_LIMIT,
    F_STATE,
    F_TRANSITIONS,
    F_UNEXPECTED,
    F_DWELL,
    F_CYCLES,
    F_SCANS,
    F_LAST_SIGNAL,
    F_ORDERS,
    F_TRADES,
    F_POSITIONS,
    F_EQUITY,
    F_DAILY_PNL,
    F_BUDGET,
    F_OPERATOR_HALTED,
    F_COUNT
};

/* Simulated seconds in a state: from a cycle to a halted day. */
static const double dwell_bounds[] = {1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14400, 86400};

static const struct family_def {
    const char *name;
    enum bw_type type;
    size_t nlabels;
    const char *labels[3];
    const double *bounds; /* histograms; NULL: the default 1 µs … 10 s */
    size_t nbounds;
    const char *help;
} families[F_COUNT] = {
    [F_CYCLE_TIME] = {"engine_cycle_time",
                      BW_HISTOGRAM,
                      0,
                      {NULL},
                      NULL,
                      0,
                      "Wall-clock time of one engine cycle (feed step, messages, orders, "
                      "positions, scan), in seconds."},
    [F_SCAN_DURATION] = {"market_scan_duration",
                         BW_HISTOGRAM,
                         0,
                         {NULL},
                         NULL,
                         0,
                         "Wall-clock time of one market scan over the symbols whose candle "
                         "closed, in seconds."},
    [F_MESSAGE] = {"websocket_message_processing",
                   BW_HISTOGRAM,
                   0,
                   {NULL},
                   NULL,
                   0,
                   "Wall-clock time to parse and apply one exchange-style JSON market message, "
                   "in seconds."},
    [F_EXECUTION] = {"trade_execution_duration",
                     BW_HISTOGRAM,
                     0,
                     {NULL},
                     NULL,
                     0,
                     "Simulated latency from order submission to fill, in seconds."},
    [F_SIGNALS] = {"signals_generated_total",
                   BW_COUNTER,
                   3,
                   {"symbol", "side", "regime"},
                   NULL,
                   0,
                   "Breakout signals generated, by symbol, side (long, short) and market regime "
                   "(trending, ranging, volatile); a count."},
    [F_LOSS_LIMIT] = {"daily_loss_limit_triggered_total",
                      BW_COUNTER,
                      0,
                      {NULL},
                      NULL,
                      0,
                      "Times the daily loss limit flattened the book and halted trading until "
                      "the next UTC day; a count."},
    [F_STATE] = {"engine_state",
                 BW_GAUGE,
                 1,
                 {"state"},
                 NULL,
                 0,
                 "1 for the engine's current state, 0 for the others (idle, scanning, "
                 "signal_wait, managing, halted); a boolean."},
    [F_TRANSITIONS] = {"engine_state_transitions_total",
                       BW_COUNTER,
                       2,
                       {"from", "to"},
                       NULL,
                       0,
                       "State transitions, every one counted however short; a count."},
    [F_UNEXPECTED] = {"engine_unexpected_transitions_total",
                      BW_COUNTER,
                      2,
                      {"from", "to"},
                      NULL,
                      0,
                      "State transitions outside the declared state graph; a count."},
    [F_DWELL] = {"engine_state_dwell_seconds",
                 BW_HISTOGRAM,
                 1,
                 {"state"},
                 dwell_bounds,
                 BW_ARRAY_LEN(dwell_bounds),
                 "Simulated time spent in a state, observed on leaving it, in seconds."},
    [F_CYCLES] = {"engine_cycles_total",
                  BW_COUNTER,
                  0,
                  {NULL},
                  NULL,
                  0,
                  "Engine cycles run (one feed step each); a count."},
    [F_SCANS] = {"market_scans_total",
                 BW_COUNTER,
                 0,
                 {NULL},
                 NULL,
                 0,
                 "Market scans run (one per candle close while trading); a count."},
    [F_LAST_SIGNAL] = {"engine_last_signal_timestamp_seconds",
                       BW_GAUGE,
                       0,
                       {NULL},
                       NULL,
                       0,
                       "Wall-clock Unix time of the latest signal, in seconds (0: none yet)."},
    [F_ORDERS] = {"orders_total",
                  BW_COUNTER,
                  1,
                  {"status"},
                  NULL,
                  0,
                  "Orders by the status they reached (submitted, filled, rejected, cancelled); "
                  "a count."},
    [F_TRADES] = {"trades_total",
                  BW_COUNTER,
                  3,
                  {"symbol", "side", "outcome"},
                  NULL,
                  0,
                  "Closed trades by symbol, side (long, short) and outcome (win, loss, "
                  "breakeven); a count."},
    [F_POSITIONS] = {"positions_open",
                     BW_GAUGE,
                     0,
                     {NULL},
                     NULL,
                     0,
                     "Open positions, closing ones included; a count."},
    [F_EQUITY] = {"equity",
                  BW_GAUGE,
                  0,
                  {NULL},
                  NULL,
                  0,
                  "Account equity: realised balance plus open positions marked to market, in "
                  "account currency (USDT)."},
    [F_DAILY_PNL] = {"daily_pnl",
                     BW_GAUGE,
                     0,
                     {NULL},
                     NULL,
                     0,
                     "Profit or loss since the start of the trading day (UTC midnight of "
                     "simulated time), realised and unrealised, in account currency (USDT)."},
    [F_BUDGET] = {"daily_loss_budget_remaining_ratio",
                  BW_GAUGE,
                  0,
                  {NULL},
                  NULL,
                  0,
                  "Share of today's loss budget (daily_loss_limit × start-of-day equity) still "
                  "unused, from 1 to 0; a ratio."},
    [F_OPERATOR_HALTED] = {"engine_operator_halted",
                           BW_GAUGE,
                           0,
                           {NULL},
                           NULL,
                           0,
                           "1 while an operator's halt is in force (POST /api/admin/engine/halt "
                           "until /resume), else 0; a boolean."},
};

static int declare(bw_registry *reg, const struct family_def *def, bw_family **out)
{
    switch (def->type) {
    case BW_COUNTER:
        return bw_counter_family(reg, def->name, def->help, def->nlabels, def->labels, out);
    case BW_GAUGE:
        return bw_gauge_family(reg, def->name, def->help, def->nlabels, def->labels, out);
    default:
        return bw_histogram_family(reg, def->name, def->help, def->nlabels, def->labels,
                                   def->bounds, def->nbounds, out);
    }
}

/* Resolves one series of family id into *handle (a bw_counter *, bw_gauge * or
 * bw_histogram *, by type); on failure remembers the family for the message. */
struct init {
    bw_family *f[F_COUNT];
    enum family failed;
};

static int series(struct init *in, enum family id, const char *const *values, void *handle)
{
    int rc;
    switch (families[id].type) {
    case BW_COUNTER:
        rc = bw_counter_resolve(in->f[id], values, handle);
        break;
    case BW_GAUGE:
        rc = bw_gauge_resolve(in->f[id], values, handle);
        break;
    default:
        rc = bw_histogram_resolve(in->f[id], values, handle);
        break;
    }
    if (rc != BW_OK)
        in->failed = id;
    return rc;
}

int engine_metrics_init(struct engine_metrics *m, bw_registry *reg, const struct market *mk,
                        struct diag *d)
{
    int rc = BW_OK;
    struct init in = {.failed = F_CYCLE_TIME};
    *m = (struct engine_metrics){0};
    if (!reg)
        return BW_OK;
    void *single[F_COUNT] = {
        [F_CYCLE_TIME] = &m->cycle_time,
        [F_SCAN_DURATION] = &m->scan_duration,
        [F_MESSAGE] = &m->message_processing,
        [F_EXECUTION] = &m->execution,
        [F_LOSS_LIMIT] = &m->loss_limit,
        [F_CYCLES] = &m->cycles,
        [F_SCANS] = &m->scans,
        [F_LAST_SIGNAL] = &m->last_signal,
        [F_POSITIONS] = &m->positions,
        [F_EQUITY] = &m->equity,
        [F_DAILY_PNL] = &m->daily_pnl,
        [F_BUDGET] = &m->budget,
        [F_OPERATOR_HALTED] = &m->operator_halted,
    };
    for (enum family id = 0; id < F_COUNT && rc == BW_OK; id++) {
        in.failed = id;
        rc = declare(reg, &families[id], &in.f[id]);
        if (rc == BW_OK && families[id].nlabels == 0)
            rc = series(&in, id, NULL, single[id]);
    }
    for (size_t i = 0; i < mk->n && rc == BW_OK; i++) {
        for (int s = 0; s < SIDE_COUNT && rc == BW_OK; s++) {
            for (int r = 0; r < REGIME_COUNT && rc == BW_OK; r++) {
                const char *v[] = {mk->sym[i].name, side_name(s), regime_name(r)};
                rc = series(&in, F_SIGNALS, v, &m->signals[i][s][r]);
            }
            for (int o = 0; o < OUTCOME_COUNT && rc == BW_OK; o++) {
                const char *v[] = {mk->sym[i].name, side_name(s), outcome_name(o)};
                rc = series(&in, F_TRADES, v, &m->trades[i][s][o]);
            }
        }
    }
    for (int s = 0; s < ORDER_STATUS_COUNT && rc == BW_OK; s++) {
        const char *v[] = {order_status_name(s)};
        rc = series(&in, F_ORDERS, v, &m->orders[s]);
    }
    for (int a = 0; a < STATE_COUNT && rc == BW_OK; a++) {
        const char *v[] = {engine_state_name(a)};
        rc = series(&in, F_STATE, v, &m->state[a]);
        if (rc == BW_OK)
            rc = series(&in, F_DWELL, v, &m->dwell[a]);
        for (int b = 0; b < STATE_COUNT && rc == BW_OK; b++) {
            const char *pair[] = {engine_state_name(a), engine_state_name(b)};
            if (a == b)
                continue;
            rc = series(&in, F_TRANSITIONS, pair, &m->transitions[a][b]);
            if (rc == BW_OK)
                rc = series(&in, F_UNEXPECTED, pair, &m->unexpected[a][b]);
        }
    }
    if (rc != BW_OK)
        goto err;
    m->tick_s = clock_tick_seconds(); /* calibrates the clock now, not in the first cycle */
    m->book_equity = NAN;             /* nothing shown yet */
    m->book_open = -1;
    m->on = 1;
    return BW_OK;
err:
    *m = (struct engine_metrics){0};
    return diag_set(d, rc, "metric %s: %s", families[in.failed].name, bw_strerror(rc));
}

void engine_metrics_book(struct engine_metrics *m, const struct risk *r, double equity, int open)
{
    if (open != m->book_open) {
        m->book_open = open;
        metrics_set(m->positions, open);
    }
    if (equity == m->book_equity && r->day_start_equity == m->book_day_start)
        return;
    m->book_equity = equity;
    m->book_day_start = r->day_start_equity;
    metrics_set(m->equity, equity);
    metrics_set(m->daily_pnl, risk_daily_pnl(r, equity));
    metrics_set(m->budget, risk_budget_remaining(r, equity));
}
