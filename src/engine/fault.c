/* fault: faults injected into the engine on purpose, so that each shipped alert rule can be
 * shown to fire against a real run (tests/integration/test_shipped_rules.sh, docs/alerting.md).
 *
 * Two knobs, both off by default: engine.fault_unexpected_every (simulated seconds between
 * undeclared state transitions) and engine.fault_cycle_delay_ms (wall-clock time added to every
 * cycle, which raises engine_cycle_time and, once cycles no longer fit the pace, lowers the
 * scan rate). The other faults the alerts watch for need no knob: a market without breakouts
 * is engine.volume_factor far above any candle's volume ratio, a forced daily loss a tiny
 * engine.daily_loss_limit. Their state is two fields of struct engine: the injection period
 * in simulated ms and the next due time.
 *
 * The design decision: an injected fault changes what is measured, never what is traded. The
 * undeclared transition goes scanning → managing, and every state the engine can derive next
 * is reachable from managing by a declared transition — derive() treats managing and scanning
 * alike — so a seed trades the same with and without it; the delay only costs wall time. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "engine/internal.h"

void fault_init(struct engine *e)
{
    e->fault_every_ms = (int64_t)llround(e->cfg.fault_unexpected_every_s * 1000.0);
    e->fault_due_ms = e->start_ms + e->fault_every_ms;
}

void fault_unexpected(struct engine *e)
{
    if (e->fault_every_ms <= 0 || e->now_ms < e->fault_due_ms || e->sm.cur != STATE_SCANNING)
        return;
    e->fault_due_ms = e->now_ms + e->fault_every_ms;
    engine_state_set(e, STATE_MANAGING, NULL); /* undeclared: counted and journaled as unexpected */
}

void fault_delay(const struct engine *e)
{
    if (!(e->cfg.fault_cycle_delay_ms > 0))
        return;
    int64_t ns = (int64_t)(e->cfg.fault_cycle_delay_ms * 1e6);
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
