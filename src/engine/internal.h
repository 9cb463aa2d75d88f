/* engine internals: the types and functions the engine's files share. Not included from
 * outside src/engine/ (unit tests of the engine excepted).
 *
 * Ownership: struct engine owns everything below it — the feed (heap), the market view, one
 * trade slot per symbol (a symbol is in at most one trade at a time: candidate, entry order,
 * open position or exit order), the broker, risk book, state machine and metric handles. No
 * file below allocates in the cycle except cJSON while parsing a message. */
#ifndef BW_ENGINE_INTERNAL_H
#define BW_ENGINE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "engine/engine.h"
#include "journal/journal.h"

/* ---- rng.c: xoshiro256** seeded by splitmix64 ---------------------------------------- */

struct rng {
    uint64_t s[4];
    double spare; /* second normal deviate of the polar method */
    int has_spare;
};
/* Seeds the generator; any seed (0 included) gives a full-period state. */
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, 1), 53 random bits. */
double rng_uniform(struct rng *r);
/* Standard normal deviate (Marsaglia's polar method). */
double rng_normal(struct rng *r);

/* ---- shared vocabulary ------------------------------------------------------------------ */

enum side { SIDE_LONG, SIDE_SHORT, SIDE_COUNT };
enum regime { REGIME_TRENDING, REGIME_RANGING, REGIME_VOLATILE, REGIME_COUNT };
enum outcome { OUTCOME_WIN, OUTCOME_LOSS, OUTCOME_BREAKEVEN, OUTCOME_COUNT };
enum order_status {
    ORDER_SUBMITTED,
    ORDER_FILLED,
    ORDER_REJECTED,
    ORDER_CANCELLED,
    ORDER_STATUS_COUNT
};

/* "long"/"short", "trending"/"ranging"/"volatile", "win"/"loss"/"breakeven",
 * "submitted"/"filled"/"rejected"/"cancelled": the metric label values. */
const char *side_name(enum side s);
const char *regime_name(enum regime r);
const char *outcome_name(enum outcome o);
const char *order_status_name(enum order_status s);
/* +1 for long, -1 for short. */
static inline double side_sign(enum side s)
{
    return s == SIDE_LONG ? 1.0 : -1.0;
}

struct candle {
    int64_t t; /* open time, ms since epoch */
    double o, h, l, c, v;
};

/* ---- config.c ----------------------------------------------------------------------------- */

/* The configuration as a JSON object (for the journal's session record); malloc'd, NULL when
 * out of memory. */
char *engine_config_json(const struct engine_config *c);

/* ---- feed.c, synth.c, replay.c: the market feed ------------------------------------------ */

#define FEED_DONE 1 /* feed_step: a replay has delivered its last candle */

struct feed_symbol {
    char name[ENGINE_SYMBOL_LEN];
    int price_prec, qty_prec; /* decimals in the messages */
};

struct synth;
struct replay;

struct feed {
    size_t nsymbols;
    struct feed_symbol sym[ENGINE_MAX_SYMBOLS];
    int64_t start_ms, candle_ms;
    char interval[24]; /* "1m", "5m", "1h", … */
    uint64_t next_trade_id;
    struct buf text;            /* the batch: messages back to back, each NUL-terminated */
    size_t *ends, nmsg, capmsg; /* end offset of message i in text */
    struct synth *synth;        /* exactly one of synth and replay is set */
    struct replay *replay;
};

/* Builds the feed the configuration asks for: replay when replay_dir is set (the universe is
 * then the CSV files), synthetic otherwise. BW_ENOENT / BW_EINVAL / BW_ENOMEM with d filled. */
int feed_new(const struct engine_config *c, struct feed **out, struct diag *d);
void feed_free(struct feed *f);
/* Replaces the batch with the messages due by now_ms (history candles before start_ms come in
 * the first step). Returns 0, FEED_DONE when a replay has nothing more to deliver after this
 * batch, or BW_ENOMEM / BW_ENOSPC. */
int feed_step(struct feed *f, int64_t now_ms);
static inline size_t feed_count(const struct feed *f)
{
    return f->nmsg;
}
/* Message i of the current batch (NUL-terminated JSON), its length in *len. */
const char *feed_message(const struct feed *f, size_t i, size_t *len);
/* Used by the sources: append one closed kline / one trade to the batch. */
int feed_emit_kline(struct feed *f, size_t sym, const struct candle *c);
int feed_emit_trade(struct feed *f, size_t sym, double price, double qty, int64_t ts_ms,
                    int buyer_maker);

/* synth.c: the seeded regime-switching generator. */
int synth_new(const struct engine_config *c, struct feed *f, struct synth **out);
void synth_free(struct synth *s);
int synth_step(struct synth *s, struct feed *f, int64_t now_ms);
/* The regime the generator is in for symbol i: ground truth for tests, never read by the
 * strategy. */
enum regime synth_regime(const struct synth *s, size_t i);

/* replay.c: CSV candles, one file per symbol, merged in time order. */
int replay_open(const char *dir, int64_t candle_ms, struct feed *f, struct replay **out,
                struct diag *d);
void replay_free(struct replay *r);
int replay_step(struct replay *r, struct feed *f, int64_t now_ms);
int64_t replay_first_ms(const struct replay *r);

/* ---- strategy.c: range breakout and regime classification -------------------------------- */

#define STRATEGY_MAX_LOOKBACK 100
#define STRATEGY_HISTORY      128 /* ring capacity: > max lookback and the regime windows */
#define STRATEGY_ATR_PERIOD   14

struct strategy_symbol {
    struct candle ring[STRATEGY_HISTORY];
    size_t n;        /* candles seen (not capped) */
    double atr;      /* Wilder's ATR, valid once n > STRATEGY_ATR_PERIOD */
    double tr_sum;   /* true ranges summed while seeding the ATR */
    double vol_slow; /* slow average of ATR/price: the symbol's normal volatility */
};

struct signal {
    enum side side;
    enum regime regime;
    int64_t candle_ms; /* open time of the breakout candle */
    double price;      /* its close */
    double range_high, range_low;
    double volume_ratio; /* its volume over the range's average volume */
    double atr, atr_pct;
};

void strategy_init(struct strategy_symbol *s);
void strategy_add(struct strategy_symbol *s, const struct candle *c);
/* 1 when the symbol has enough history for the range and the ATR. */
int strategy_ready(const struct strategy_symbol *s, int lookback);
/* The latest closed candle, i candles back (0: the latest); requires i < min(n, history). */
const struct candle *strategy_candle(const struct strategy_symbol *s, size_t back);
/* Classifies the market from the last candles: volatile when ATR/price is well above the
 * symbol's normal, trending when the efficiency ratio is high, ranging otherwise. */
enum regime strategy_regime(const struct strategy_symbol *s);
/* Tests the latest candle for a breakout of the range formed by the range_lookback candles
 * before it. 1 and *out filled on a signal, 0 otherwise. */
int strategy_breakout(const struct strategy_symbol *s, const struct engine_config *c,
                      struct signal *out);
/* 1 while the latest close is still beyond the broken level, 0 once it is back inside. */
int strategy_holds(const struct strategy_symbol *s, const struct signal *sig);

/* ---- broker.c: the paper broker ---------------------------------------------------------- */

struct order {
    uint64_t id;
    enum side side;
    enum order_status status;
    int reduce_only; /* closes a position; the simulated exchange never rejects these */
    double qty;
    int64_t submit_ms, due_ms; /* due: when the exchange's answer arrives */
    double fill_price;
};

struct broker {
    struct rng rng;
    double latency_ms_mean, slippage_bps, reject_rate;
    uint64_t next_id;
};

void broker_init(struct broker *b, const struct engine_config *c);
/* Submits a market order at now_ms; its answer is due after a simulated latency (≥ 1 ms). */
void broker_submit(struct broker *b, struct order *o, enum side side, double qty, int reduce_only,
                   int64_t now_ms);
/* Executes a due order at market price `last`: ORDER_FILLED with slippage against the trader,
 * or ORDER_REJECTED. */
enum order_status broker_execute(struct broker *b, struct order *o, double last);

/* ---- risk.c: sizing and the daily loss limit --------------------------------------------- */

#define RISK_NEW_DAY   1 /* risk_update: a new UTC day began */
#define RISK_RESUMED   2 /* … and trading resumes after a halt */
#define RISK_TRIGGERED 4 /* the daily loss limit was reached just now */

struct risk {
    double cash;             /* realised balance */
    double day_start_equity; /* equity at the start of the trading day */
    int64_t day;             /* UTC day number of simulated time */
    int halted;
    uint64_t triggers;
    double limit, risk_per_trade, max_leverage;
};

void risk_init(struct risk *r, const struct engine_config *c, int64_t now_ms);
/* Quantity risking risk_per_trade of equity over stop_distance, capped so the notional stays
 * within max_leverage × equity. 0 when nothing sensible can be sized. */
double risk_size(const struct risk *r, double equity, double price, double stop_distance);
/* Called every cycle with the marked-to-market equity; returns RISK_* flags. */
int risk_update(struct risk *r, int64_t now_ms, double equity);
double risk_daily_pnl(const struct risk *r, double equity);
/* Share of today's loss budget still unused, in [0, 1]. */
double risk_budget_remaining(const struct risk *r, double equity);

/* ---- market.c: the engine's view of the market ------------------------------------------- */

struct market_symbol {
    char name[ENGINE_SYMBOL_LEN];
    struct strategy_symbol strat;
    double last;          /* last traded price (0: none yet) */
    double hi, lo;        /* price extremes since positions were last checked */
    int64_t last_open_ms; /* open time of the last closed candle (-1: none) */
    int fresh;            /* a candle closed in this cycle */
};

#define ENGINE_DAY_MS 86400000LL /* a simulated trading day, UTC midnight to midnight */

#define MARKET_INDEX_SLOTS 256 /* open addressing, ≥ 2 × ENGINE_MAX_SYMBOLS, a power of two */
_Static_assert(MARKET_INDEX_SLOTS >= 2 * ENGINE_MAX_SYMBOLS, "market index too small");

struct market {
    size_t n;
    struct market_symbol sym[ENGINE_MAX_SYMBOLS];
    int16_t index[MARKET_INDEX_SLOTS]; /* symbol number, -1 empty */
    size_t nfresh;
};

void market_init(struct market *m, const struct feed *f);
/* The symbol number of name (len bytes), or -1 when not in the universe. */
int market_find(const struct market *m, const char *name, size_t len);
/* Parses one exchange-style JSON message and applies it. 0, or BW_EINVAL with the reason in
 * d (the message is then ignored). */
int market_apply(struct market *m, const char *json, size_t len, struct diag *d);
/* Forgets this cycle's fresh candles and price extremes. */
void market_cycle_done(struct market *m);

/* ---- instrument.c: the engine's metric families and their handles ----------------------- */

struct engine_metrics {
    int on;        /* 0: no registry, every handle NULL, nothing timed */
    double tick_s; /* clock_tick_seconds(), read once at init */
    bw_histogram *cycle_time, *scan_duration, *message_processing, *execution;
    bw_counter *cycles, *scans, *loss_limit;
    bw_gauge *last_signal, *positions, *equity, *daily_pnl, *budget, *operator_halted;
    bw_counter *signals[ENGINE_MAX_SYMBOLS][SIDE_COUNT][REGIME_COUNT];
    bw_counter *trades[ENGINE_MAX_SYMBOLS][SIDE_COUNT][OUTCOME_COUNT];
    bw_counter *orders[ORDER_STATUS_COUNT];
    bw_gauge *state[STATE_COUNT];
    bw_counter *transitions[STATE_COUNT][STATE_COUNT];
    bw_counter *unexpected[STATE_COUNT][STATE_COUNT];
    bw_histogram *dwell[STATE_COUNT];
    /* The book the gauges show, so engine_metrics_book skips the cycles that changed nothing
     * (most: equity moves in about one cycle in seven). */
    double book_equity, book_day_start;
    int book_open;
};

/* Declares every family on reg and resolves every series the engine can touch (all symbol ×
 * side × regime, all from × to pairs, …) so the loop only uses handles. reg NULL leaves m
 * off. BW_OK or the registry's error, with the family named in d. */
int engine_metrics_init(struct engine_metrics *m, bw_registry *reg, const struct market *mk,
                        struct diag *d);

/* Sets the gauges of the book — positions_open, equity, daily_pnl and the loss budget — for
 * equity and open as the cycle computed them, each only when what it derives from changed. */
void engine_metrics_book(struct engine_metrics *m, const struct risk *r, double equity, int open);

/* Hot-path helpers: no-ops when instrumentation is off. Wall-clock spans are timed in
 * clock_ticks(), the cheap clock; metrics_observe_ticks converts a span to seconds. */
static inline int64_t metrics_clock(const struct engine_metrics *m)
{
    return m->on ? clock_ticks() : 0;
}
static inline void metrics_observe(bw_histogram *h, double v)
{
    if (h)
        bw_histogram_observe(h, v);
}
static inline void metrics_observe_ticks(const struct engine_metrics *m, bw_histogram *h,
                                         int64_t ticks)
{
    metrics_observe(h, (double)ticks * m->tick_s);
}
static inline void metrics_inc(bw_counter *c)
{
    if (c)
        bw_counter_inc(c);
}
static inline void metrics_set(bw_gauge *g, double v)
{
    if (g)
        bw_gauge_set(g, v);
}

/* ---- trade.c: a symbol's trade from signal to close -------------------------------------- */

enum trade_phase { TRADE_NONE, TRADE_CANDIDATE, TRADE_ENTRY, TRADE_OPEN, TRADE_EXIT };

struct trade {
    enum trade_phase phase;
    char id[JOURNAL_ID_LEN]; /* correlation id: signal → order → fill → close */
    struct signal sig;
    int held;           /* candles the breakout has held while a candidate */
    struct order order; /* the entry or exit order in flight */
    double qty, entry, stop, target, best;
    int64_t opened_ms; /* when the entry filled */
    int trailing;      /* the stop has moved with the price */
    const char *exit_reason;
};

struct engine;
/* Answers orders that are due: entries become positions (or are rejected), exits close. */
void trade_orders(struct engine *e);
/* Checks open positions against this cycle's price extremes: stop, target, trailing stop. */
void trade_manage(struct engine *e);
/* The scan: confirms or drops candidates and looks for new breakouts on fresh candles. */
void trade_scan(struct engine *e);
/* A halt: drops candidates, cancels entries and closes every position; why goes into the
 * events ("daily loss limit reached"), exit_reason into the closes ("loss_limit"). */
void trade_flatten(struct engine *e, const char *why, const char *exit_reason);
/* Realised balance plus open positions marked at the last price. */
double trade_equity(const struct engine *e);
/* Counts of slots in the pending (candidate, entry) and open (open, exit) phases. */
void trade_counts(const struct engine *e, int *pending, int *open);

/* ---- state.c: the state machine ---------------------------------------------------------- */

struct state_machine {
    enum engine_state cur;
    int64_t entered_ms;
    uint64_t count[STATE_COUNT][STATE_COUNT];
    uint64_t entries[STATE_COUNT]; /* the initial state counts as entered once */
    double dwell[STATE_COUNT];     /* simulated seconds in the stays that ended */
    uint64_t unexpected;
};

void state_init(struct state_machine *sm, const struct engine_metrics *m, int64_t now_ms);
/* Moves the engine to `to` (nothing when already there): counts the transition, observes the
 * dwell time, updates the gauges and journals it with why (NULL: the graph's meaning; for a
 * pair the graph gives two meanings, the one that applies); a transition outside the declared
 * graph is performed too, counted as unexpected and journaled as an error. Returns 1 when the
 * transition was expected, 0 when it was not, -1 when there was none. */
int engine_state_set(struct engine *e, enum engine_state to, const char *why);

/* ---- fault.c: injected faults, so alert rules can be shown to fire ------------------------ */

/* Arms the faults the configuration asks for, from the engine's start. */
void fault_init(struct engine *e);
/* engine.fault_unexpected_every: at the first cycle at or after each due time in which the
 * engine is scanning, moves it scanning → managing, a transition the declared graph does not
 * have; the cycle's derived state then follows by a declared one (managing → scanning,
 * signal_wait or halted), so the trading is exactly that of a run without the fault. Call
 * after the scan and before the state is derived. */
void fault_unexpected(struct engine *e);
/* engine.fault_cycle_delay_ms: sleeps that long on the wall clock, inside the timed cycle. */
void fault_delay(const struct engine *e);

/* ---- engine.c: the loop, events and checkpoints ------------------------------------------ */

/* Observer of every event the engine produces, journal or not (tests, determinism checks).
 * Called on the engine thread. */
typedef void (*engine_trace_fn)(void *ud, const struct journal_event *ev);

enum milestone {
    MILESTONE_FIRST_SCAN,
    MILESTONE_FIRST_SIGNAL,
    MILESTONE_FIRST_ORDER,
    MILESTONE_FIRST_FILL,
    MILESTONE_FIRST_CLOSE,
    MILESTONE_COUNT
};

struct engine {
    struct engine_config cfg;
    struct journal *journal;
    struct feed *feed;
    struct market market;
    struct trade slot[ENGINE_MAX_SYMBOLS];
    struct broker broker;
    struct risk risk;
    struct state_machine sm;
    struct engine_metrics m;

    int64_t now_ms, start_ms;
    int64_t fault_every_ms, fault_due_ms; /* injected unexpected transitions (fault.c) */
    int64_t clock;      /* clock_ticks() at the end of the last instrumented cycle */
    uint64_t trade_seq; /* numbers correlation ids */
    int warm;           /* some symbol has enough history to scan */
    unsigned milestones;
    uint64_t cycles, scans, signals, orders, trades, wins, losses, bad_messages, messages;
    uint64_t unjournaled; /* events the journal refused (its queue full while the disk fails) */
    char session_id[JOURNAL_ID_LEN];
    engine_trace_fn trace;
    void *trace_ud;

    /* The operator's halt. A request (engine_halt / engine_resume) is written under lock and
     * numbered by seq, which the cycle reads without the lock; the cycle takes the latest
     * request, applies it, and its publish() moves `done` to the number it took and signals
     * `applied`, which engine_control_wait waits for. */
    struct operator_ctl {
        /* the request, under lock (seq also read atomically by the engine thread) */
        int want; /* 1: halt, 0: resume (or nothing asked) */
        _Atomic uint64_t seq;
        uint64_t done; /* the last request applied and published */
        char reason[ENGINE_HALT_REASON_MAX + 1], who[ENGINE_HALT_WHO_MAX];
        int64_t asked_ms; /* wall clock */
        /* the engine thread's */
        int halted;     /* the operator's halt is in force */
        uint64_t taken; /* the last request applied */
        char halt_reason[ENGINE_HALT_REASON_MAX + 1], halt_who[ENGINE_HALT_WHO_MAX];
        int64_t halt_ms;
    } op;

    atomic_int stop;
    int thread_started;
    pthread_t thread;
    pthread_mutex_t lock; /* guards pub, op's requests and the pacing wait */
    pthread_cond_t wake;
    pthread_cond_t applied; /* a cycle published an operator's request (op.done moved) */
    struct engine_stats pub;
};

/* Records an event (journal, trace). sym < 0 and t NULL when not about a symbol or trade;
 * data_json may be NULL. */
void engine_event(struct engine *e, const char *type, enum severity sev, int sym,
                  const struct trade *t, const char *data_json, const char *fmt, ...)
    BW_PRINTF(7, 8);
/* Records a checkpoint of the session or, with t, of one trade. */
void engine_checkpoint(struct engine *e, const char *name, int sym, const struct trade *t,
                       const char *detail_json);
/* Records a session milestone the first time it is reached. */
void engine_milestone(struct engine *e, enum milestone m);
void engine_set_trace(struct engine *e, engine_trace_fn fn, void *ud);
/* One cycle at e->now_ms; FEED_DONE when the replay has ended, or a negative code. start is
 * clock_ticks() at the cycle's start when the caller has it (e->clock, the previous cycle's
 * end, in an unpaced run: one clock read a cycle saved), 0 to read it here. */
int engine_cycle(struct engine *e, int64_t start);

#endif
