/* alert: what the two halves of alerting share — an alert as the rule evaluator (rules.h)
 * produces it and the notification side (notify.h) receives it, and the sink between them.
 *
 * The evaluator owns alert state with Prometheus's semantics; the notification side is a small
 * Alertmanager inside breakwatch (routing, grouping, silences, acknowledgments, receivers) and
 * also forwards to real Alertmanagers. The sink's calls come from the evaluator's thread and
 * must not block on the network: the notification side queues and returns. */
#ifndef BW_ALERT_H
#define BW_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };
/* "inactive", "pending", "firing" (the API's words). */
const char *alert_state_name(enum alert_state s);

/* One alert: one output label set of one alerting rule. A view: the strings and arrays belong
 * to whoever hands it out and are valid during the call (sink) or until the snapshot is freed.
 * Times are ms since the epoch; 0 means "not set". */
struct alert {
    uint64_t fingerprint;        /* alert_fingerprint(labels) */
    struct labelset labels;      /* alertname and the rule's labels included, sorted */
    struct labelset annotations; /* expanded templates, sorted by name */
    enum alert_state state;      /* ALERT_INACTIVE: resolved (resolved_at set) */
    double value;                /* the expression's value at the last evaluation */
    int64_t active_at;           /* when it became pending */
    int64_t fired_at;            /* when it became firing */
    int64_t resolved_at;         /* when it stopped firing */
    int64_t valid_until;         /* what Prometheus sends as endsAt for a firing alert */
    int64_t keep_firing_since;   /* first evaluation it was missing while kept firing */
    const char *group, *rule;    /* the rule group's and the rule's names */
    const char *generator_url;   /* external_url + "/graph?g0.expr=" + the expression */
};

/* The fingerprint of a label set, stable across runs and machines (FNV-1a over the names and
 * values in order with separators); printed as 16 lowercase hex digits. */
uint64_t alert_fingerprint(const struct labelset *ls);
void alert_fingerprint_hex(uint64_t fp, char out[17]);

/* Where the evaluator reports. Every callback is optional (NULL: not wanted). */
struct alert_sink {
    /* Each state change of an alert at evaluation time t: inactive → pending, pending →
     * firing, firing → inactive (resolved), pending → inactive (the condition went away before
     * `for`; the alert is then forgotten). a->state is the new state. */
    void (*transition)(void *ud, const struct alert *a, enum alert_state from, int64_t t);
    /* After a group's evaluation at t: the alerts Prometheus would send to an Alertmanager
     * now (firing ones not sent within resend_delay, ones that resolved since they were last
     * sent), all of them in one call. */
    void (*send)(void *ud, const struct alert *v, size_t n, int64_t t);
    void *ud;
};

#endif
