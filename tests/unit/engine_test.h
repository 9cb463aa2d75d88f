/* engine_test: what the engine's unit tests share — a small unpaced configuration, an event
 * recorder (the engine's trace hook, copying every event and folding it into a digest), and a
 * reader of metric samples through the registry's public visit API. */
#ifndef BW_TEST_ENGINE_H
#define BW_TEST_ENGINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define T2024  1704067200000LL /* 2024-01-01T00:00:00Z */
#define DAY_MS 86400000LL

/* Defaults, unpaced, from 2024-01-01, the first n default symbols, `days` of simulated time. */
static inline void test_config(struct engine_config *c, size_t nsymbols, double days)
{
    engine_config_defaults(c);
    c->paced = 0;
    c->start_ms = T2024;
    c->duration_ms = (int64_t)(days * (double)DAY_MS);
    c->nsymbols = nsymbols;
}

struct rec_event {
    int64_t ts_ms;
    enum severity sev;
    char type[24], symbol[ENGINE_SYMBOL_LEN], corr[JOURNAL_ID_LEN], message[320];
};

struct recorder {
    struct rec_event *ev;
    size_t n, cap;
    uint64_t digest; /* every field of every event, data included, in order */
};

static inline uint64_t digest_str(uint64_t h, const char *s)
{
    return hash_bytes(s ? s : "\x01", s ? strlen(s) + 1 : 1, h);
}

static inline void recorder_fn(void *ud, const struct journal_event *ev)
{
    struct recorder *r = ud;
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->ev = realloc(r->ev, r->cap * sizeof(*r->ev));
        if (!r->ev)
            abort();
    }
    struct rec_event *e = &r->ev[r->n++];
    memset(e, 0, sizeof(*e));
    e->ts_ms = ev->ts_ms;
    e->sev = ev->severity;
    snprintf(e->type, sizeof(e->type), "%s", ev->type);
    snprintf(e->symbol, sizeof(e->symbol), "%s", ev->symbol ? ev->symbol : "");
    snprintf(e->corr, sizeof(e->corr), "%s", ev->correlation_id ? ev->correlation_id : "");
    snprintf(e->message, sizeof(e->message), "%s", ev->message ? ev->message : "");
    uint64_t h = hash_bytes(&ev->ts_ms, sizeof(ev->ts_ms), r->digest ? r->digest : HASH_SEED);
    h = hash_bytes(&ev->severity, sizeof(ev->severity), h);
    h = digest_str(h, ev->type);
    h = digest_str(h, ev->symbol);
    h = digest_str(h, ev->correlation_id);
    h = digest_str(h, ev->message);
    r->digest = digest_str(h, ev->data_json);
}

static inline void recorder_free(struct recorder *r)
{
    free(r->ev);
    memset(r, 0, sizeof(*r));
}

/* Events of a type (and, when not NULL, whose message contains `part`). */
static inline size_t recorder_count(const struct recorder *r, const char *type, const char *part)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += strcmp(r->ev[i].type, type) == 0 && (!part || strstr(r->ev[i].message, part));
    return n;
}

/* The sum of the samples named `name` whose labels include every "k=v" pair listed in `match`
 * (comma-separated, may be empty), read through bw_registry_visit. */
struct sample_query {
    const char *name, *match;
    double sum;
    size_t n;
};

static inline void sample_visit(void *ud, const char *name, size_t nlabels,
                                const char *const *label_names, const char *const *label_values,
                                double value)
{
    struct sample_query *q = ud;
    if (strcmp(name, q->name) != 0)
        return;
    char pairs[256];
    snprintf(pairs, sizeof(pairs), "%s", q->match);
    for (char *save = NULL, *p = strtok_r(pairs, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(p, '=');
        int found = 0;
        for (size_t i = 0; eq && i < nlabels; i++)
            found |= strncmp(label_names[i], p, (size_t)(eq - p)) == 0 &&
                     label_names[i][eq - p] == '\0' && strcmp(label_values[i], eq + 1) == 0;
        if (!found)
            return;
    }
    q->sum += value;
    q->n++;
}

static inline double sample_sum(bw_registry *reg, const char *name, const char *match,
                                size_t *nseries)
{
    struct sample_query q = {.name = name, .match = match ? match : ""};
    bw_registry_visit(reg, sample_visit, &q);
    if (nseries)
        *nseries = q.n;
    return q.sum;
}

/* The value of the one series of name whose labels hold match (NULL: any); fails the test
 * unless exactly one does. */
static inline double sample_one(bw_registry *reg, const char *name, const char *match)
{
    size_t n;
    double v = sample_sum(reg, name, match, &n);
    assert_int_equal(n, 1);
    return v;
}

#endif
