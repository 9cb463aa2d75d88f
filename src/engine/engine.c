/* engine: the loop — a simulated clock, one cycle per feed step, the session around it.
 *
 * A cycle at simulated time now: the feed's messages for (now − tick, now] are parsed and
 * applied, due orders answered, open positions checked, the risk book marked (a new UTC day
 * resumes trading; reaching the loss limit flattens and halts), an operator's halt or resume
 * applied, the symbols whose candle closed scanned, and then the state is derived from the
 * book (faults the configuration asks for are injected around that step, see fault.c):
 *
 *   halted       the loss limit was reached today, or an operator halted the engine
 *   idle         not enough history yet, or after a halt until the book is flat
 *   signal_wait  a signal awaits confirmation or an entry order awaits its fill
 *   managing     positions are open
 *   scanning     none of the above
 *
 * The design decision: the state is derived, never set by the code that changes the book, so
 * it cannot drift from what the engine holds; state.c checks every move against the declared
 * graph. Simulated time advances tick_ms per cycle; paced runs sleep so it runs `speed` times
 * faster than the wall clock, unpaced runs go flat out. Pacing reads the wall clock but never
 * feeds it into the simulation, so paced and unpaced runs of a seed do the same things.
 *
 * Threads: the loop runs on the caller's thread (engine_run) or its own (engine_start).
 * Everything in struct engine belongs to that thread except `pub`, the snapshot published at
 * the end of each cycle under `lock`, `stop`, and the operator's requests (`op`): an API
 * thread writes one under `lock` and bumps its number, which the cycle reads without a lock
 * and takes (under `lock`) only when it moved, so a cycle without a request takes no lock for
 * it; the cycle's publish() then wakes whoever waits for the request to be applied. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"

static const char *const milestone_names[MILESTONE_COUNT] = {
    "first_scan", "first_signal", "first_order", "first_fill", "first_trade_closed"};

void engine_event(struct engine *e, const char *type, enum severity sev, int sym,
                  const struct trade *t, const char *data_json, const char *fmt, ...)
{
    if (!e->journal && !e->trace)
        return;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct journal_event ev = {
        .ts_ms = e->now_ms,
        .type = type,
        .severity = sev,
        .symbol = sym >= 0 ? e->market.sym[sym].name : NULL,
        .correlation_id = t ? t->id : NULL,
        .message = msg,
        .data_json = data_json,
    };
    if (e->trace)
        e->trace(e->trace_ud, &ev);
    /* Refusals come in runs (a full disk): the first is logged, then one in 1000. */
    if (e->journal && journal_event(e->journal, &ev) < 0 && e->unjournaled++ % 1000 == 0)
        log_warn("engine: could not journal a %s event (%" PRIu64 " refused so far)", type,
                 e->unjournaled);
}

void engine_checkpoint(struct engine *e, const char *name, int sym, const struct trade *t,
                       const char *detail_json)
{
    const char *symbol = sym >= 0 ? e->market.sym[sym].name : NULL;
    const char *corr = t ? t->id : NULL;
    if (e->trace) {
        struct journal_event ev = {.ts_ms = e->now_ms,
                                   .type = "checkpoint",
                                   .severity = SEV_DEBUG,
                                   .symbol = symbol,
                                   .correlation_id = corr,
                                   .message = name,
                                   .data_json = detail_json};
        e->trace(e->trace_ud, &ev);
    }
    if (e->journal &&
        journal_checkpoint(e->journal, name, corr, symbol, e->now_ms, detail_json) < 0)
        log_warn("engine: could not journal checkpoint %s", name);
}

void engine_milestone(struct engine *e, enum milestone m)
{
    if (e->milestones & (1u << m))
        return;
    e->milestones |= 1u << m;
    engine_checkpoint(e, milestone_names[m], -1, NULL, NULL);
}

void engine_set_trace(struct engine *e, engine_trace_fn fn, void *ud)
{
    e->trace = fn;
    e->trace_ud = ud;
}

void engine_set_journal(struct engine *e, struct journal *j)
{
    e->journal = j;
}

const char *engine_halt_by_name(enum engine_halt_by h)
{
    return h == ENGINE_HALT_OPERATOR     ? "operator"
           : h == ENGINE_HALT_LOSS_LIMIT ? "loss_limit"
                                         : NULL;
}

/* Publishes the cycle's outcome for engine_stats_get; equity and open as computed by the cycle. */
static void publish(struct engine *e, double equity, int open)
{
    pthread_mutex_lock(&e->lock);
    struct engine_stats *p = &e->pub;
    if (e->op.done != e->op.taken) { /* an operator's request was applied in this cycle */
        e->op.done = e->op.taken;
        memcpy(p->halt_reason, e->op.halt_reason, sizeof(p->halt_reason));
        memcpy(p->halt_who, e->op.halt_who, sizeof(p->halt_who));
        p->halt_asked_ms = e->op.halt_ms;
        pthread_cond_broadcast(&e->applied);
    }
    p->halted_by = e->op.halted     ? ENGINE_HALT_OPERATOR
                   : e->risk.halted ? ENGINE_HALT_LOSS_LIMIT
                                    : ENGINE_HALT_NONE;
    p->state = e->sm.cur;
    p->sim_time_ms = e->now_ms;
    p->cycles = e->cycles;
    p->scans = e->scans;
    p->signals = e->signals;
    p->orders = e->orders;
    p->trades = e->trades;
    p->wins = e->wins;
    p->losses = e->losses;
    memcpy(p->transitions, e->sm.count, sizeof(p->transitions));
    p->state_since_ms = e->sm.entered_ms;
    memcpy(p->state_entries, e->sm.entries, sizeof(p->state_entries));
    memcpy(p->state_dwell_seconds, e->sm.dwell, sizeof(p->state_dwell_seconds));
    p->messages = e->messages;
    p->unexpected_transitions = e->sm.unexpected;
    p->loss_limit_triggers = e->risk.triggers;
    p->equity = equity;
    p->daily_pnl = risk_daily_pnl(&e->risk, equity);
    p->risk_budget_remaining = risk_budget_remaining(&e->risk, equity);
    p->positions_open = open;
    pthread_mutex_unlock(&e->lock);
}

/* The wall-clock seconds a histogram of the engine's has summed: NaN when it is off. */
static double timed_seconds(const struct engine_metrics *m, const bw_histogram *h)
{
    uint64_t count;
    double sum;
    if (!m->on || !h)
        return NAN;
    bw_histogram_read(h, NULL, &count, &sum);
    return sum;
}

void engine_stats_get(struct engine *e, struct engine_stats *out)
{
    pthread_mutex_lock(&e->lock);
    *out = e->pub;
    out->control_pending = atomic_load(&e->op.seq) != e->op.done;
    pthread_mutex_unlock(&e->lock);
    /* The histograms are read lock-free; they run a little ahead of the snapshot. */
    out->message_seconds = timed_seconds(&e->m, e->m.message_processing);
    out->scan_seconds = timed_seconds(&e->m, e->m.scan_duration);
}

int engine_new(const struct engine_config *c, bw_registry *reg, struct journal *j,
               struct engine **out, struct diag *d)
{
    int rc = engine_config_validate(c, d);
    if (rc != BW_OK)
        return rc;
    struct engine *e = calloc(1, sizeof(*e));
    pthread_condattr_t ca;
    if (!e)
        return diag_set(d, BW_ENOMEM, "out of memory creating the engine");
    e->cfg = *c;
    e->journal = j;
    if (e->cfg.start_ms == 0) { /* now, on a candle boundary */
        int64_t now = clock_real_ns() / 1000000;
        e->cfg.start_ms = now - now % e->cfg.candle_ms;
    }
    rc = feed_new(&e->cfg, &e->feed, d);
    if (rc != BW_OK)
        goto err;
    /* The universe and start the feed settled on (a replay's files and first candle). */
    e->cfg.start_ms = e->feed->start_ms;
    e->cfg.nsymbols = e->feed->nsymbols;
    for (size_t i = 0; i < e->feed->nsymbols; i++)
        memcpy(e->cfg.symbols[i], e->feed->sym[i].name, ENGINE_SYMBOL_LEN);
    market_init(&e->market, e->feed);
    rc = engine_metrics_init(&e->m, reg, &e->market, d);
    if (rc != BW_OK)
        goto err;
    e->now_ms = e->start_ms = e->cfg.start_ms;
    broker_init(&e->broker, &e->cfg);
    risk_init(&e->risk, &e->cfg, e->now_ms);
    state_init(&e->sm, &e->m, e->now_ms);
    fault_init(e);
    engine_metrics_book(&e->m, &e->risk, e->cfg.starting_equity, 0);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->wake, &ca);
    pthread_cond_init(&e->applied, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&e->lock, NULL);
    e->pub.run_status = "starting";
    publish(e, e->cfg.starting_equity, 0);
    *out = e;
    return BW_OK;
err:
    feed_free(e->feed);
    free(e);
    return rc;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    engine_stop(e);
    feed_free(e->feed);
    pthread_cond_destroy(&e->wake);
    pthread_cond_destroy(&e->applied);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

static void bad_message(struct engine *e, const struct diag *d)
{
    e->bad_messages++;
    engine_event(e, "error", SEV_WARNING, -1, NULL, NULL, "market message refused: %s", d->msg);
}

static void check_risk(struct engine *e, double equity)
{
    int flags = risk_update(&e->risk, e->now_ms, equity);
    if (!(flags & (RISK_RESUMED | RISK_TRIGGERED)))
        return;
    char data[200];
    double pnl = risk_daily_pnl(&e->risk, equity);
    snprintf(data, sizeof(data),
             "{\"daily_pnl\":%.2f,\"day_start_equity\":%.2f,\"daily_loss_limit\":%g}", pnl,
             e->risk.day_start_equity, e->risk.limit);
    if ((flags & RISK_RESUMED) && e->op.halted)
        engine_event(e, "risk", SEV_INFO, -1, NULL, data,
                     "new trading day: the daily loss limit's halt ends; trading stays halted "
                     "by an operator");
    else if (flags & RISK_RESUMED) {
        engine_event(e, "risk", SEV_INFO, -1, NULL, data, "new trading day: trading resumes");
        engine_checkpoint(e, "trading_resumed", -1, NULL, data);
    }
    if (flags & RISK_TRIGGERED) {
        metrics_inc(e->m.loss_limit);
        engine_event(e, "risk", SEV_CRITICAL, -1, NULL, data,
                     "daily loss limit reached (P&L %.2f, limit %.2f): flattening, trading "
                     "halted until the next UTC day",
                     pnl, -e->risk.limit * e->risk.day_start_equity);
        engine_checkpoint(e, "daily_loss_limit", -1, NULL, data);
        trade_flatten(e, "daily loss limit reached", "loss_limit");
    }
}

/* The details of an operator's request as a JSON object: {"by":"operator","who":…} and, for a
 * halt (reason not NULL), "reason"; who and reason null when empty. malloc'd; NULL when out
 * of memory (the event is then recorded without them). */
static char *operator_json(const char *who, const char *reason)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "by", "operator");
    if (who[0])
        cJSON_AddStringToObject(o, "who", who);
    else
        cJSON_AddNullToObject(o, "who");
    if (reason) {
        if (reason[0])
            cJSON_AddStringToObject(o, "reason", reason);
        else
            cJSON_AddNullToObject(o, "reason");
    }
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* Applies the operator's latest request when one came since the last cycle: a halt flattens
 * the book as the loss limit does; a resume lifts the operator's halt (not the loss limit's).
 * Returns 1 when this cycle lifted the operator's halt. */
static int check_operator(struct engine *e)
{
    struct operator_ctl *op = &e->op;
    uint64_t seq = atomic_load(&op->seq);
    char who[ENGINE_HALT_WHO_MAX];
    if (seq == op->taken)
        return 0;
    pthread_mutex_lock(&e->lock);
    seq = atomic_load(&op->seq);
    int want = op->want;
    memcpy(who, op->who, sizeof(who));
    if (want && !op->halted) {
        memcpy(op->halt_reason, op->reason, sizeof(op->halt_reason));
        memcpy(op->halt_who, op->who, sizeof(op->halt_who));
        op->halt_ms = op->asked_ms;
    }
    pthread_mutex_unlock(&e->lock);
    op->taken = seq;
    if (want == op->halted) /* a halt and a resume both came since the last cycle */
        return 0;
    op->halted = want;
    metrics_set(e->m.operator_halted, want);
    char *data = operator_json(who, want ? op->halt_reason : NULL);
    const char *by = who[0] ? who : "anonymous";
    if (want) {
        engine_event(e, "risk", SEV_CRITICAL, -1, NULL, data,
                     "halted by an operator (%s)%s%.200s: flattening, trading halted until "
                     "resumed",
                     by, op->halt_reason[0] ? ": " : "", op->halt_reason);
        engine_checkpoint(e, "operator_halt", -1, NULL, data);
        trade_flatten(e, "halted by an operator", "operator_halt");
    } else if (e->risk.halted) {
        engine_event(e, "risk", SEV_INFO, -1, NULL, data,
                     "resumed by an operator (%s): trading stays halted by the daily loss "
                     "limit until the next UTC day",
                     by);
    } else {
        engine_event(e, "risk", SEV_INFO, -1, NULL, data,
                     "resumed by an operator (%s): trading resumes", by);
        engine_checkpoint(e, "trading_resumed", -1, NULL, data);
    }
    if (!want) {
        op->halt_reason[0] = op->halt_who[0] = '\0';
        op->halt_ms = 0;
    }
    free(data);
    return !want;
}

/* Why the engine moves to `to`, where two causes share a transition; NULL elsewhere. */
static const char *transition_why(const struct engine *e, enum engine_state to, int op_lifted)
{
    if (to == STATE_HALTED)
        return e->op.halted ? "halted by an operator" : "daily loss limit reached";
    if (e->sm.cur == STATE_HALTED)
        return op_lifted ? "resumed by an operator" : "new trading day";
    return NULL;
}

/* The answer of engine_halt / engine_resume that finds nothing to do, or BW_OK; under lock. */
static int control_check(const struct engine *e, int want, struct diag *d)
{
    const struct engine_stats *p = &e->pub;
    if (strcmp(p->run_status, "starting") != 0 && strcmp(p->run_status, "running") != 0)
        return diag_set(d, BW_EBUSY, "the engine is not running (its run %s)", p->run_status);
    if (want && e->op.want)
        return diag_set(d, BW_EBUSY, "the engine is already halted by an operator%s",
                        e->op.done != atomic_load(&e->op.seq) ? " (the halt is being applied)"
                                                              : "");
    if (!want && !e->op.want && p->halted_by == ENGINE_HALT_LOSS_LIMIT)
        return diag_set(d, BW_EBUSY,
                        "the engine is halted by the daily loss limit, which lifts at the next "
                        "UTC day; resume lifts only an operator's halt");
    if (!want && !e->op.want)
        return diag_set(d, BW_EBUSY, "the engine is not halted by an operator");
    return BW_OK;
}

/* Queues an operator's request under lock and wakes a paced engine's wait. */
static int control(struct engine *e, int want, const char *reason, const char *who, uint64_t *seq,
                   struct diag *d)
{
    pthread_mutex_lock(&e->lock);
    int rc = control_check(e, want, d);
    if (rc == BW_OK) {
        e->op.want = want;
        snprintf(e->op.reason, sizeof(e->op.reason), "%s", reason ? reason : "");
        snprintf(e->op.who, sizeof(e->op.who), "%s", who ? who : "");
        e->op.asked_ms = clock_real_ns() / 1000000;
        *seq = atomic_load(&e->op.seq) + 1;
        atomic_store(&e->op.seq, *seq);
    }
    pthread_mutex_unlock(&e->lock);
    return rc;
}

int engine_halt(struct engine *e, const char *reason, const char *who, uint64_t *seq,
                struct diag *d)
{
    return control(e, 1, reason, who, seq, d);
}

int engine_resume(struct engine *e, const char *who, uint64_t *seq, struct diag *d)
{
    return control(e, 0, NULL, who, seq, d);
}

int engine_control_wait(struct engine *e, uint64_t seq, int64_t timeout_ms)
{
    int64_t due = clock_mono_ns() + timeout_ms * 1000000;
    pthread_mutex_lock(&e->lock);
    while (e->op.done < seq && clock_mono_ns() < due) {
        struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
        pthread_cond_timedwait(&e->applied, &e->lock, &ts);
    }
    int done = e->op.done >= seq;
    pthread_mutex_unlock(&e->lock);
    return done;
}

static void scan(struct engine *e)
{
    int64_t t0 = metrics_clock(&e->m);
    e->scans++;
    metrics_inc(e->m.scans);
    engine_milestone(e, MILESTONE_FIRST_SCAN);
    trade_scan(e);
    if (e->m.on)
        metrics_observe_ticks(&e->m, e->m.scan_duration, clock_ticks() - t0);
}

/* The state the book calls for; pending and open as counted by trade_counts. */
static enum engine_state derive(const struct engine *e, int pending, int open)
{
    if (e->risk.halted || e->op.halted)
        return STATE_HALTED;
    if (e->sm.cur == STATE_HALTED)
        return STATE_IDLE;
    if (e->sm.cur == STATE_IDLE) /* after a halt, wait until the book is flat */
        return e->warm && !pending && !open ? STATE_SCANNING : STATE_IDLE;
    return pending ? STATE_SIGNAL_WAIT : open ? STATE_MANAGING : STATE_SCANNING;
}

int engine_cycle(struct engine *e, int64_t start)
{
    int64_t t0 = e->m.on && !start ? clock_ticks() : start;
    int rc = feed_step(e->feed, e->now_ms);
    if (rc < 0) {
        engine_event(e, "error", SEV_CRITICAL, -1, NULL, NULL, "market feed failed: %s",
                     bw_strerror(rc));
        return rc;
    }
    size_t n = feed_count(e->feed);
    int64_t t = n > 0 ? metrics_clock(&e->m) : 0;
    e->messages += n;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *msg = feed_message(e->feed, i, &len);
        struct diag d;
        if (market_apply(&e->market, msg, len, &d) != BW_OK)
            bad_message(e, &d);
        if (e->m.on) { /* one clock read a message: its end is the next one's start */
            int64_t t1 = clock_ticks();
            metrics_observe_ticks(&e->m, e->m.message_processing, t1 - t);
            t = t1;
        }
    }
    trade_orders(e);
    trade_manage(e);
    double equity = trade_equity(e); /* the scan below places orders, it does not fill them */
    check_risk(e, equity);
    int op_lifted = check_operator(e);
    if (e->market.nfresh > 0) {
        for (size_t i = 0; i < e->market.n && !e->warm; i++)
            e->warm = strategy_ready(&e->market.sym[i].strat, e->cfg.range_lookback);
        if (e->sm.cur != STATE_IDLE && e->sm.cur != STATE_HALTED && !e->risk.halted &&
            !e->op.halted)
            scan(e);
    }
    market_cycle_done(&e->market);
    fault_unexpected(e);
    int pending, open;
    trade_counts(e, &pending, &open);
    enum engine_state to = derive(e, pending, open);
    engine_state_set(e, to, transition_why(e, to, op_lifted));
    fault_delay(e);
    e->cycles++;
    publish(e, equity, open);
    if (e->m.on) {
        engine_metrics_book(&e->m, &e->risk, equity, open);
        metrics_inc(e->m.cycles);
        e->clock = clock_ticks();
        metrics_observe_ticks(&e->m, e->m.cycle_time, e->clock - t0);
    }
    return rc;
}

/* Sleeps until the wall clock catches up with simulated time; 1 when asked to stop. */
static int pace(struct engine *e, int64_t wall0_ns)
{
    int64_t due = wall0_ns + (int64_t)((double)(e->now_ms - e->start_ms) * 1e6 / e->cfg.speed);
    pthread_mutex_lock(&e->lock);
    while (!atomic_load(&e->stop) && clock_mono_ns() < due) {
        struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
        pthread_cond_timedwait(&e->wake, &e->lock, &ts);
    }
    pthread_mutex_unlock(&e->lock);
    return atomic_load(&e->stop);
}

/* A number of seconds for the summary: "null" when NaN (nothing was timed). */
static const char *seconds_text(char out[32], double v)
{
    if (isnan(v))
        return "null";
    snprintf(out, 32, "%.9g", v);
    return out;
}

static char *summary_json(const struct engine *e, const char *status)
{
    char *s = malloc(800);
    char msg_s[32], scan_s[32];
    if (!s)
        return NULL;
    snprintf(s, 800,
             "{\"status\":\"%s\",\"sim_start_ms\":%lld,\"sim_end_ms\":%lld,\"cycles\":%llu,"
             "\"scans\":%llu,\"signals\":%llu,\"orders\":%llu,\"trades\":%llu,\"wins\":%llu,"
             "\"losses\":%llu,\"loss_limit_triggers\":%llu,\"unexpected_transitions\":%llu,"
             "\"bad_messages\":%llu,\"starting_equity\":%.2f,\"equity\":%.2f,\"pnl\":%.2f,"
             "\"positions_open\":%d,\"state\":\"%s\",\"messages\":%llu,"
             "\"message_seconds\":%s,\"scan_seconds\":%s}",
             status, (long long)e->start_ms, (long long)e->now_ms, (unsigned long long)e->cycles,
             (unsigned long long)e->scans, (unsigned long long)e->signals,
             (unsigned long long)e->orders, (unsigned long long)e->trades,
             (unsigned long long)e->wins, (unsigned long long)e->losses,
             (unsigned long long)e->risk.triggers, (unsigned long long)e->sm.unexpected,
             (unsigned long long)e->bad_messages, e->cfg.starting_equity, e->pub.equity,
             e->pub.equity - e->cfg.starting_equity, e->pub.positions_open,
             engine_state_name(e->sm.cur), (unsigned long long)e->messages,
             seconds_text(msg_s, timed_seconds(&e->m, e->m.message_processing)),
             seconds_text(scan_s, timed_seconds(&e->m, e->m.scan_duration)));
    return s;
}

static void set_run_status(struct engine *e, const char *status)
{
    pthread_mutex_lock(&e->lock);
    e->pub.run_status = status;
    pthread_mutex_unlock(&e->lock);
}

int engine_run(struct engine *e)
{
    int rc = BW_OK;
    const char *status = "completed";
    char *config = NULL, *summary = NULL;
    const char *mode = e->cfg.replay_dir[0] ? "replay" : "paper";
    set_run_status(e, "running");
    if (e->journal) {
        config = engine_config_json(&e->cfg);
        rc = journal_session_begin(e->journal, mode, config, e->session_id);
        if (rc != BW_OK) {
            log_error("engine: cannot begin a journal session: %s", bw_strerror(rc));
            goto out;
        }
        pthread_mutex_lock(&e->lock);
        memcpy(e->pub.session_id, e->session_id, sizeof(e->pub.session_id));
        pthread_mutex_unlock(&e->lock);
    }
    char detail[160];
    snprintf(detail, sizeof(detail), "{\"mode\":\"%s\",\"symbols\":%zu,\"start_ms\":%lld}", mode,
             e->market.n, (long long)e->start_ms);
    engine_checkpoint(e, "session_started", -1, NULL, detail);
    int64_t end_ms = e->cfg.duration_ms ? e->start_ms + e->cfg.duration_ms : INT64_MAX;
    int64_t wall0 = clock_mono_ns();
    for (; e->now_ms < end_ms; e->now_ms += e->cfg.tick_ms) {
        if (atomic_load(&e->stop) || (e->cfg.paced && pace(e, wall0))) {
            status = "stopped";
            break;
        }
        /* Unpaced, the previous cycle's end is this one's start; paced, a wait lies between. */
        rc = engine_cycle(e, e->cfg.paced ? 0 : e->clock);
        if (rc == FEED_DONE) {
            rc = BW_OK;
            break;
        }
        if (rc != BW_OK) {
            status = "stopped";
            break;
        }
    }
    summary = summary_json(e, status);
    engine_checkpoint(e, "session_ended", -1, NULL, summary);
    if (e->journal && journal_session_end(e->journal, e->session_id, status, summary) != BW_OK)
        log_warn("engine: could not end journal session %s", e->session_id);
out:
    set_run_status(e, rc != BW_OK ? "failed" : status);
    free(config);
    free(summary);
    return rc;
}

static void *thread_main(void *arg)
{
    struct engine *e = arg;
    int rc = engine_run(e);
    if (rc != BW_OK)
        log_error("engine: stopped: %s", bw_strerror(rc));
    return NULL;
}

int engine_start(struct engine *e)
{
    if (e->thread_started)
        return BW_EBUSY;
    atomic_store(&e->stop, 0);
    if (pthread_create(&e->thread, NULL, thread_main, e) != 0)
        return BW_ENOMEM;
    e->thread_started = 1;
    return BW_OK;
}

void engine_stop(struct engine *e)
{
    pthread_mutex_lock(&e->lock);
    atomic_store(&e->stop, 1);
    pthread_cond_broadcast(&e->wake);
    pthread_mutex_unlock(&e->lock);
    if (e->thread_started) {
        pthread_join(e->thread, NULL);
        e->thread_started = 0;
    }
}
