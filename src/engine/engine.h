/* engine: the Breakout trading engine that breakwatch runs and watches.
 *
 * A market feed (seeded synthetic generator switching between trending / ranging / volatile
 * regimes, or CSV candle replay) hands the engine exchange-style JSON messages. The engine
 * runs the state machine idle → scanning → signal_wait → managing (+ halted), a range-breakout
 * strategy with volume and volatility filters, confirmation in signal_wait, a paper broker with
 * simulated latency and slippage, position management (stop, target, trailing stop) and risk
 * (sizing, daily loss limit that flattens and halts until the next trading day), and an
 * operator's halt (engine_halt / engine_resume) that flattens and halts until lifted. Simulated
 * time runs `speed` times faster than wall time, or as fast as possible when unpaced (tests,
 * benchmarks). Everything is deterministic for a seed. */
#ifndef BW_ENGINE_H
#define BW_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "breakwatch/metrics.h"

struct journal;
struct engine;

#define ENGINE_MAX_SYMBOLS 128
#define ENGINE_SYMBOL_LEN  16

struct engine_config {
    uint64_t seed;
    double speed; /* simulated seconds per wall second (paced runs) */
    int paced;    /* 1: follow the wall clock × speed; 0: as fast as possible */
    size_t nsymbols;
    char symbols[ENGINE_MAX_SYMBOLS][ENGINE_SYMBOL_LEN];
    char replay_dir[1024]; /* empty: synthetic feed */
    int64_t start_ms;      /* simulated start, ms since epoch (UTC); 0: now, on a candle
                            * boundary (a replay starts at its first candle) */
    int64_t duration_ms;   /* stop after this much simulated time; 0: run until stopped */
    int64_t tick_ms;       /* simulated time one engine cycle (one feed step) covers */
    int64_t candle_ms;     /* candle interval; a multiple of tick_ms */
    /* trading and risk */
    double starting_equity;  /* account currency */
    double risk_per_trade;   /* fraction of equity risked per trade (stop distance) */
    double daily_loss_limit; /* fraction of start-of-day equity; reaching it halts */
    int max_positions;
    double max_leverage; /* a position's notional is at most this × equity */
    /* strategy */
    int range_lookback;                    /* candles forming the range */
    double volume_factor;                  /* breakout candle volume ≥ factor × average volume */
    double min_volatility, max_volatility; /* ATR / price filter */
    int confirm_candles;                   /* candles the breakout must hold in signal_wait */
    double stop_atr, target_atr, trail_atr;
    /* paper broker */
    double latency_ms_mean; /* simulated execution latency */
    double slippage_bps;
    double reject_rate; /* share of entry orders the simulated exchange rejects */
    /* fault injection (fault.c), for proving that alert rules fire; 0: off */
    double fault_unexpected_every_s; /* simulated seconds between injected undeclared transitions */
    double fault_cycle_delay_ms;     /* wall-clock ms every cycle is made to take longer */
};

/* Fills c with the defaults: 20 USDT pairs, seed 1, 1-minute candles, one cycle per simulated
 * second and speed 60 (a simulated minute per wall second), at which a watcher sees a state
 * change every few seconds and a signal within a minute; equity 10000. */
void engine_config_defaults(struct engine_config *c);

/* Checks ranges and consistency; BW_EINVAL with the offending setting named in d. */
int engine_config_validate(const struct engine_config *c, struct diag *d);

/* Creates an engine. reg may be NULL (no instrumentation, for the overhead benchmark);
 * journal may be NULL (nothing recorded). A replay_dir that does not exist or has no usable
 * CSV files fails here with BW_ENOENT / BW_EINVAL and the path in d. */
int engine_new(const struct engine_config *c, bw_registry *reg, struct journal *j,
               struct engine **out, struct diag *d);
void engine_free(struct engine *e);
/* Attaches the journal after engine_new (main opens the journal only once the configuration,
 * including the replay files, has been accepted). Call before engine_start / engine_run. */
void engine_set_journal(struct engine *e, struct journal *j);

/* Runs on the calling thread until duration_ms of simulated time has passed, the replay ends,
 * or engine_stop is called. Begins and ends a journal session. */
int engine_run(struct engine *e);
/* Runs engine_run on a thread of its own; engine_stop asks it to end and joins it. */
int engine_start(struct engine *e);
void engine_stop(struct engine *e);

enum engine_state {
    STATE_IDLE,
    STATE_SCANNING,
    STATE_SIGNAL_WAIT,
    STATE_MANAGING,
    STATE_HALTED,
    STATE_COUNT
};
const char *engine_state_name(enum engine_state s);
/* The state named s ("idle", …), or -1 when there is none. */
int engine_state_parse(const char *s);
/* The declared transition graph: 1 if from → to is an expected transition. */
int engine_transition_allowed(enum engine_state from, enum engine_state to);
/* What a declared transition means ("enough history to scan"); NULL when from → to is not
 * declared. A static string; safe from any thread. */
const char *engine_transition_meaning(enum engine_state from, enum engine_state to);

/* Why the engine is halted. Both may hold at once; the operator's halt is then the one
 * reported, since it is the one a person must lift (the loss limit's ends by itself at the
 * next UTC day). */
enum engine_halt_by { ENGINE_HALT_NONE, ENGINE_HALT_OPERATOR, ENGINE_HALT_LOSS_LIMIT };
/* NULL, "operator", "loss_limit". */
const char *engine_halt_by_name(enum engine_halt_by h);

#define ENGINE_HALT_REASON_MAX 500 /* bytes of an operator's reason */
#define ENGINE_HALT_WHO_MAX    64  /* bytes of the name of who asked, NUL included */

/* A snapshot for tests and the monitoring API; safe to call from any thread. */
struct engine_stats {
    enum engine_state state;
    int64_t sim_time_ms;
    uint64_t cycles, scans, signals, orders, trades, wins, losses;
    uint64_t transitions[STATE_COUNT][STATE_COUNT];
    int64_t state_since_ms;                  /* simulated time the current state was entered */
    uint64_t state_entries[STATE_COUNT];     /* times entered, the initial idle counting once */
    double state_dwell_seconds[STATE_COUNT]; /* simulated seconds in the stays that ended */
    uint64_t unexpected_transitions;
    uint64_t loss_limit_triggers;
    uint64_t messages; /* market messages fed to the engine */
    /* Wall-clock seconds spent parsing and applying them, and scanning; NaN when nothing is
     * timed (an engine without a registry). */
    double message_seconds, scan_seconds;
    double equity, daily_pnl;
    double risk_budget_remaining; /* share of today's loss budget still unused, 0–1 */
    int positions_open;
    char session_id[40];
    /* "starting" until engine_run begins, "running", then how the run ended: "completed"
     * (duration reached or replay done), "stopped" (engine_stop) or "failed". Static string. */
    const char *run_status;
    /* The halt, as the last cycle applied it. halt_reason and halt_who are the operator's
     * ("" when not given); halt_asked_ms is the wall-clock time the operator asked (0 when
     * the operator has not halted the engine). */
    enum engine_halt_by halted_by;
    char halt_reason[ENGINE_HALT_REASON_MAX + 1];
    char halt_who[ENGINE_HALT_WHO_MAX];
    int64_t halt_asked_ms;
    /* 1 while an operator's halt or resume is asked and no cycle has applied it yet. */
    int control_pending;
};
void engine_stats_get(struct engine *e, struct engine_stats *out);

/* The operator's halt, the kill switch. engine_halt asks the engine to cancel its pending
 * entries and close its open positions at its next cycle, as the daily loss limit does, then
 * to stay halted — no scan, no signal — until engine_resume, after which it goes halted → idle
 * → scanning as after a new trading day. The two halts are independent: a new UTC day does
 * not lift an operator's halt, and engine_resume does not lift the loss limit's.
 *
 * Both are thread-safe and return at once (the engine's thread applies them); reason (may be
 * NULL: none; at most ENGINE_HALT_REASON_MAX bytes, else cut) and who (may be NULL) are
 * copied into the journal's event. *seq receives the request's number for
 * engine_control_wait. BW_OK; BW_EBUSY with d saying why when there is nothing to do: the
 * engine's run has ended, engine_halt on an engine an operator halted already (or asked to),
 * engine_resume on one that no operator halted (d names the loss limit's halt if that is the
 * one in force). */
int engine_halt(struct engine *e, const char *reason, const char *who, uint64_t *seq,
                struct diag *d);
int engine_resume(struct engine *e, const char *who, uint64_t *seq, struct diag *d);
/* Waits up to timeout_ms of wall-clock time until a cycle has applied request seq (or a
 * later one) and published its outcome. 1 when it has, 0 when not yet (the engine is not
 * running yet, or slow: the request stays queued). */
int engine_control_wait(struct engine *e, uint64_t seq, int64_t timeout_ms);

#endif
