/* state: the engine's state machine — idle → scanning → signal_wait → managing, plus halted.
 *
 * The expected transitions are declared once, in `graph[][]`, each with what it means;
 * engine_transition_allowed reads that table and nothing else. A transition is never refused:
 * the engine's state is derived from its book (see engine.c), so refusing would make the
 * state lie. Instead every transition is counted (engine_state_transitions_total{from,to},
 * even one shorter than a scrape), its dwell time observed in simulated seconds, the
 * engine_state gauges moved, and one outside the graph is also counted in
 * engine_unexpected_transitions_total and journaled as an error — a bug detector that an
 * alert rule can watch.
 *
 * The graph holds one meaning per pair; where two causes share a pair (the daily loss limit
 * and an operator both halt from signal_wait or managing; a new day and an operator both
 * lift a halt) the meaning names both, and the engine journals the one that applied. */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

static const char *const state_names[STATE_COUNT] = {"idle", "scanning", "signal_wait", "managing",
                                                     "halted"};

/* from → to: what the transition means. NULL: not expected. */
#define LOSS_OR_OPERATOR "daily loss limit reached, or halted by an operator"
static const char *const graph[STATE_COUNT][STATE_COUNT] = {
    [STATE_IDLE] =
        {
            [STATE_SCANNING] = "enough history to scan",
            [STATE_HALTED] = "halted by an operator",
        },
    [STATE_SCANNING] =
        {
            [STATE_SIGNAL_WAIT] = "breakout signal, waiting for confirmation",
            [STATE_HALTED] = "halted by an operator",
        },
    [STATE_SIGNAL_WAIT] =
        {
            [STATE_SCANNING] = "signal dropped, nothing open",
            [STATE_MANAGING] = "no signal pending, managing open positions",
            [STATE_HALTED] = LOSS_OR_OPERATOR,
        },
    [STATE_MANAGING] =
        {
            [STATE_SCANNING] = "all positions closed",
            [STATE_SIGNAL_WAIT] = "breakout signal while positions are open",
            [STATE_HALTED] = LOSS_OR_OPERATOR,
        },
    [STATE_HALTED] = {[STATE_IDLE] = "new trading day, or resumed by an operator"},
};

const char *engine_state_name(enum engine_state s)
{
    return (unsigned)s < STATE_COUNT ? state_names[s] : "unknown";
}

int engine_state_parse(const char *s)
{
    for (int i = 0; s && i < STATE_COUNT; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

const char *engine_transition_meaning(enum engine_state from, enum engine_state to)
{
    return (unsigned)from < STATE_COUNT && (unsigned)to < STATE_COUNT ? graph[from][to] : NULL;
}

int engine_transition_allowed(enum engine_state from, enum engine_state to)
{
    return engine_transition_meaning(from, to) != NULL;
}

void state_init(struct state_machine *sm, const struct engine_metrics *m, int64_t now_ms)
{
    *sm = (struct state_machine){.cur = STATE_IDLE, .entered_ms = now_ms};
    sm->entries[STATE_IDLE] = 1;
    for (int s = 0; s < STATE_COUNT; s++)
        metrics_set(m->state[s], s == STATE_IDLE);
}

int engine_state_set(struct engine *e, enum engine_state to, const char *why)
{
    struct state_machine *sm = &e->sm;
    enum engine_state from = sm->cur;
    if (to == from || (unsigned)to >= STATE_COUNT)
        return -1;
    int expected = engine_transition_allowed(from, to);
    double dwell = (double)(e->now_ms - sm->entered_ms) / 1000.0;
    sm->count[from][to]++;
    sm->entries[to]++;
    sm->dwell[from] += dwell;
    sm->cur = to;
    sm->entered_ms = e->now_ms;
    metrics_inc(e->m.transitions[from][to]);
    metrics_observe(e->m.dwell[from], dwell);
    metrics_set(e->m.state[from], 0);
    metrics_set(e->m.state[to], 1);
    const char *meaning = !expected ? "outside the declared state graph"
                          : why     ? why
                                    : graph[from][to];
    char data[160];
    snprintf(data, sizeof(data), "{\"from\":\"%s\",\"to\":\"%s\",\"dwell_seconds\":%.3f}",
             state_names[from], state_names[to], dwell);
    engine_event(e, "state_change", to == STATE_HALTED ? SEV_WARNING : SEV_INFO, -1, NULL, data,
                 "%s → %s: %s", state_names[from], state_names[to], meaning);
    if (!expected) {
        sm->unexpected++;
        metrics_inc(e->m.unexpected[from][to]);
        engine_event(e, "error", SEV_ERROR, -1, NULL, data, "unexpected state transition %s → %s",
                     state_names[from], state_names[to]);
    }
    return expected;
}
