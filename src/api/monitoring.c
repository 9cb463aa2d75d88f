/* monitoring: the web page's view of the engine under /api/monitoring — the sessions, one
 * session's visualization (state timeline, process flow, progress), its checkpoints, the
 * real-time figures and the state machine. The event list and its stream are in events.c.
 *
 * Main data structure: struct trades, one session's trades rebuilt from its checkpoints — a
 * row per correlation id with the simulated time of each step (signal, confirmed,
 * order_submitted, filled, closed, abandoned), found through an open-addressing index — and
 * its milestones. The process flow's trade stages and the progress read it. It is built in one
 * pass over the checkpoints, never a list of them, and kept between requests in a trade book
 * (a few sessions' worth), so that the next request reads only the checkpoints that came
 * since: a long session has tens of thousands, and the page asks every few seconds.
 * /checkpoints writes a page of them straight from the read into the answer.
 *
 * The design decision: the running session is read from the engine and everything else from
 * the journal. What the engine holds live (its state and the time it entered it, entries and
 * dwell per state, transitions, messages fed) is the current session's truth and costs a
 * lock, not a read of thousands of events; an ended session is rebuilt from its events,
 * checkpoints and end-of-run summary, which say the same things. /realtime, which the page
 * polls every second, reads only the engine and the history's last minute. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "engine/engine.h"
#include "journal/journal.h"

#define SESSIONS_DEFAULT    100
#define CHECKPOINTS_DEFAULT 1000
#define CHECKPOINTS_MAX     10000
#define TIMELINE_MAX        10000 /* stays in a session's state timeline: the latest ones */
#define EVENTS_PAGE         5000  /* state changes read at a time to count a session's */
#define SPARK_POINTS        60
#define NOT_YET             INT64_MIN /* a time that is not known (written as null) */
#define ARENA_LIMIT         (256u << 20)

/* ---- shared steps ---- */

bool api_mon_limit(const struct http_request *req, struct http_response *res, size_t def,
                   size_t max, size_t *out)
{
    char msg[256];
    const char *s = http_request_arg(req, "limit");
    *out = def;
    if (!s || !*s) /* a form's blank field is no parameter */
        return true;
    if (prom_parse_limit(s, out, msg, sizeof(msg)) != BW_OK || *out < 1 || *out > max) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"limit\": must be an integer from 1 to %zu", max);
        return false;
    }
    return true;
}

bool api_mon_id(const char *name, const char *what, const char *value, bool zero_ok,
                struct http_response *res, int64_t *out)
{
    char msg[256];
    size_t v = 0;
    *out = 0;
    if (!value || !*value)
        return true;
    if (prom_parse_limit(value, &v, msg, sizeof(msg)) != BW_OK || v > INT64_MAX ||
        (!zero_ok && v == 0)) {
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"%s\": must be %s id, an integer from %d", name,
                            what, zero_ok ? 0 : 1);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

bool api_mon_journal(const struct api_ctx *ctx, struct http_response *res)
{
    if (!ctx->journal)
        http_response_error(res, 503, "unavailable", "the journal is not open yet");
    return ctx->journal != NULL;
}

bool api_mon_session_resolve(const struct api_ctx *ctx, const char *name, const char *id,
                             char out[JOURNAL_ID_LEN], struct http_response *res)
{
    int rc;
    out[0] = '\0';
    if (!*id) {
        http_response_error(res, 400, "bad_data", "invalid parameter \"%s\": empty", name);
        return false;
    }
    if (strcmp(id, API_MON_CURRENT) == 0) {
        struct journal_session *newest = NULL;
        size_t n = 0;
        rc = journal_sessions_list(ctx->journal, 1, 0, &newest, &n);
        if (rc == BW_OK && n)
            snprintf(out, JOURNAL_ID_LEN, "%s", newest[0].id);
        else if (rc == BW_OK)
            rc = BW_ENOENT;
        journal_sessions_free(newest, n);
    } else {
        struct journal_session s;
        rc = journal_session_get(ctx->journal, id, &s);
        if (rc == BW_OK)
            snprintf(out, JOURNAL_ID_LEN, "%s", s.id);
        journal_session_fini(&s);
    }
    if (rc == BW_ENOENT)
        http_response_error(res, 404, "not_found", "no session \"%.64s\"%s", id,
                            strcmp(id, API_MON_CURRENT) == 0 ? " yet" : "");
    else if (rc != BW_OK)
        http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
    return rc == BW_OK;
}

/* Answers with the document w wrote, or an error when it could not be written. */
static void finish(struct api_json *w, struct http_response *res)
{
    int rc = api_json_end(w);
    if (rc == BW_ENOSPC)
        http_response_error(res, 500, "internal", "the answer is larger than %zu bytes",
                            res->body->limit);
    else if (rc != BW_OK)
        http_response_error(res, 500, "internal", "writing the answer: %s", bw_strerror(rc));
}

/* A number of a parsed JSON object (a summary, a configuration, an event's data), NaN when
 * it has none. */
static double num_field(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A time in ms from a JSON number, NOT_YET when there is none. */
static int64_t ms_field(const cJSON *o, const char *key)
{
    double v = num_field(o, key);
    return isfinite(v) && fabs(v) < 9e18 ? (int64_t)llround(v) : NOT_YET;
}

/* The member key: ms, or null when it is NOT_YET. */
static void member_ms(struct api_json *w, const char *key, int64_t ms)
{
    api_json_key(w, key);
    if (ms == NOT_YET)
        api_json_null(w);
    else
        api_json_int(w, ms);
}

/* a ÷ b, NaN when either is unknown or b is 0. */
static double ratio(double a, double b)
{
    return isfinite(a) && isfinite(b) && b != 0 ? a / b : NAN;
}

/* The engine's snapshot when it runs session id (the live view of it), else false. */
static bool live_stats(const struct api_ctx *ctx, const struct journal_session *s,
                       struct engine_stats *st)
{
    if (!ctx->engine || strcmp(s->status, "running") != 0)
        return false;
    engine_stats_get(ctx->engine, st);
    return strcmp(st->session_id, s->id) == 0;
}

/* ---- sessions ---- */

static void session_json(struct api_json *w, const struct journal_session *s)
{
    api_json_object(w);
    api_json_member_string(w, "id", s->id);
    api_json_member_string(w, "mode", s->mode);
    api_json_member_string(w, "status", s->status);
    api_json_member_bool(w, "active", strcmp(s->status, "running") == 0);
    api_json_member_int(w, "started_ms", s->started_ms);
    member_ms(w, "ended_ms", s->ended_ms ? s->ended_ms : NOT_YET);
    api_json_member_raw_object(w, "config", s->config_json);
    api_json_member_raw_object(w, "summary", s->summary_json);
    api_json_object_end(w);
}

void api_mon_sessions(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct journal_session *s = NULL;
    struct api_json w;
    size_t limit, n = 0;
    bool running = false;
    const char *active = http_request_arg(req, "active");
    if (active) {
        if (strcmp(active, "true") != 0 && strcmp(active, "false") != 0) {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"active\": must be true or false");
            return;
        }
        running = strcmp(active, "true") == 0;
    }
    if (!api_mon_limit(req, res, SESSIONS_DEFAULT, API_MON_LIMIT_MAX, &limit) ||
        !api_mon_journal(ctx, res))
        return;
    int rc = journal_sessions_list(ctx->journal, limit, running, &s, &n);
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
        return;
    }
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "sessions");
    api_json_array(&w);
    for (size_t i = 0; i < n; i++)
        session_json(&w, &s[i]);
    api_json_array_end(&w);
    api_json_object_end(&w);
    finish(&w, res);
    journal_sessions_free(s, n);
}

/* ---- one session: trades, process flow, progress, state timeline ---- */

enum step {
    STEP_SIGNAL,
    STEP_CONFIRMED,
    STEP_ORDER,
    STEP_FILLED,
    STEP_CLOSED,
    STEP_ABANDONED,
    STEPS
};
static const char *const step_names[STEPS] = {"signal", "confirmed", "order_submitted",
                                              "filled", "closed",    "abandoned"};
/* Where a trade is once a step is its latest: progress.trade.stage. */
static const char *const step_stages[STEPS] = {"signal", "confirm", "execute",
                                               "manage", "closed",  "abandoned"};

static const char *const milestone_names[] = {"session_started", "first_scan", "first_signal",
                                              "first_order",     "first_fill", "first_trade_closed",
                                              "session_ended"};
#define MILESTONES        BW_ARRAY_LEN(milestone_names)
#define MILESTONE_STARTED 0 /* "session_started": the session's simulated start */

struct trade {
    const char *id, *symbol; /* copies in the arena of the trades */
    int64_t at[STEPS];       /* simulated ms of each step, NOT_YET until reached */
    enum step last;          /* the step of its latest checkpoint */
    double fill_latency_ms;  /* the simulated order latency the fill reports; NaN: none */
};

/* A session's trades and milestones, read from its checkpoints up to cursor. */
struct trades {
    struct arena *a;
    struct trade *v;
    size_t n, cap;
    size_t *slot; /* index + 1 into v, 0 empty; nslots a power of two, at least 2 n */
    size_t nslots;
    size_t latest;  /* index + 1 of the trade of the latest trade checkpoint, 0 none */
    int64_t cursor; /* the id of the last checkpoint read */
    int64_t milestones[MILESTONES]; /* when each was first reached, NOT_YET if never */
};

/* No trades and no milestones yet, the memory to come in a. */
static void trades_init(struct trades *t, struct arena *a)
{
    *t = (struct trades){.a = a};
    for (size_t m = 0; m < MILESTONES; m++)
        t->milestones[m] = NOT_YET;
}

/* Doubles the index of t (16 slots at first). BW_OK or BW_ENOMEM. */
static int trades_rehash(struct trades *t)
{
    size_t nslots = t->nslots ? 2 * t->nslots : 16;
    size_t *slot = arena_calloc(t->a, nslots, sizeof(*slot));
    if (!slot)
        return BW_ENOMEM;
    for (size_t k = 0; k < t->n; k++) {
        size_t i = hash_bytes(t->v[k].id, strlen(t->v[k].id), HASH_SEED) & (nslots - 1);
        while (slot[i])
            i = (i + 1) & (nslots - 1);
        slot[i] = k + 1;
    }
    t->slot = slot;
    t->nslots = nslots;
    return BW_OK;
}

/* The trade with correlation id `id`, added (steps NOT_YET, id and symbol copied) when new;
 * NULL when out of memory. */
static struct trade *trade_get(struct trades *t, const char *id, const char *symbol)
{
    if (2 * (t->n + 1) > t->nslots && trades_rehash(t) != BW_OK)
        return NULL;
    size_t i = hash_bytes(id, strlen(id), HASH_SEED) & (t->nslots - 1);
    for (; t->slot[i]; i = (i + 1) & (t->nslots - 1))
        if (strcmp(t->v[t->slot[i] - 1].id, id) == 0)
            return &t->v[t->slot[i] - 1];
    struct trade *v = arena_grow(t->a, t->v, t->n, &t->cap, sizeof(*t->v));
    if (!v)
        return NULL;
    t->v = v;
    struct trade *tr = &t->v[t->n];
    *tr = (struct trade){.id = arena_strdup(t->a, id),
                         .symbol = symbol ? arena_strdup(t->a, symbol) : NULL,
                         .fill_latency_ms = NAN};
    if (!tr->id || (symbol && !tr->symbol))
        return NULL;
    for (int s = 0; s < STEPS; s++)
        tr->at[s] = NOT_YET;
    t->slot[i] = ++t->n;
    return tr;
}

/* The index of name in names[0..n), -1 when absent. */
static int name_find(const char *const *names, int n, const char *name)
{
    for (int k = 0; k < n; k++)
        if (strcmp(name, names[k]) == 0)
            return k;
    return -1;
}

/* journal_checkpoints_each's callback: one checkpoint into the trades or the milestones,
 * read in id order. BW_OK or BW_ENOMEM. */
static int trades_add(void *ud, const struct journal_checkpoint_row *r)
{
    struct trades *t = ud;
    int m = name_find(milestone_names, (int)MILESTONES, r->name);
    if (m >= 0 && t->milestones[m] == NOT_YET)
        t->milestones[m] = r->ts_ms;
    int s = name_find(step_names, STEPS, r->name);
    if (r->correlation_id && s >= 0) {
        struct trade *tr = trade_get(t, r->correlation_id, r->symbol);
        if (!tr)
            return BW_ENOMEM;
        if (tr->at[s] == NOT_YET)
            tr->at[s] = r->ts_ms;
        tr->last = (enum step)s;
        if (s == STEP_FILLED && r->detail_json) {
            cJSON *d = cJSON_Parse(r->detail_json);
            tr->fill_latency_ms = num_field(d, "latency_ms");
            cJSON_Delete(d);
        }
        t->latest = (size_t)(tr - t->v) + 1;
    }
    t->cursor = r->id;
    return BW_OK;
}

/* The mean of (at[to] - at[from]) over the trades that reached both, NaN over none; into
 * STEP_FILLED, the latency the fill reports where it does. */
static double mean_between(const struct trades *t, enum step from, enum step to)
{
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct trade *tr = &t->v[i];
        if (tr->at[from] == NOT_YET || tr->at[to] == NOT_YET)
            continue;
        sum += to == STEP_FILLED && isfinite(tr->fill_latency_ms)
                   ? tr->fill_latency_ms
                   : (double)(tr->at[to] - tr->at[from]);
        n++;
    }
    return n ? sum / (double)n : NAN;
}

/* What the views take from a session's trades. */
struct trades_sum {
    double reached[STEPS]; /* how many trades reached each step */
    double into_ms[STEPS]; /* the mean time into each step of the pipeline from the one before */
    struct trade latest;   /* id NULL when there is none; strings in the request's arena */
    int64_t milestones[MILESTONES];
};

/* Sums t up into out, copying the latest trade's strings into a. BW_OK or BW_ENOMEM. */
static int trades_sum(const struct trades *t, struct arena *a, struct trades_sum *out)
{
    *out = (struct trades_sum){0};
    for (size_t i = 0; i < t->n; i++)
        for (int s = 0; s < STEPS; s++)
            out->reached[s] += t->v[i].at[s] != NOT_YET;
    for (int s = 0; s < STEPS; s++)
        out->into_ms[s] = NAN;
    out->into_ms[STEP_CONFIRMED] = mean_between(t, STEP_SIGNAL, STEP_CONFIRMED);
    out->into_ms[STEP_ORDER] = mean_between(t, STEP_CONFIRMED, STEP_ORDER);
    out->into_ms[STEP_FILLED] = mean_between(t, STEP_ORDER, STEP_FILLED);
    out->into_ms[STEP_CLOSED] = mean_between(t, STEP_FILLED, STEP_CLOSED);
    memcpy(out->milestones, t->milestones, sizeof(out->milestones));
    if (!t->latest)
        return BW_OK;
    const struct trade *tr = &t->v[t->latest - 1];
    out->latest = *tr;
    out->latest.id = arena_strdup(a, tr->id);
    out->latest.symbol = tr->symbol ? arena_strdup(a, tr->symbol) : NULL;
    return out->latest.id && (out->latest.symbol || !tr->symbol) ? BW_OK : BW_ENOMEM;
}

/* ---- trade books: sessions' trades kept between requests ----
 * The page asks for the session it shows every few seconds, and a long session has tens of
 * thousands of checkpoints. A book keeps what was read of a session and, on the next request,
 * reads only the checkpoints after its cursor: a checkpoint's id is given by the table as it
 * is inserted, by the journal's one writer, so ids grow in commit order and a reader that has
 * seen id N has seen every id below it. Nothing in a book changes but by reading on. */

#define BOOKS 4 /* sessions whose trades are kept */

struct book {
    char session[JOURNAL_ID_LEN]; /* "": unused */
    uint64_t used;                /* the books' clock at the last read, for eviction */
    struct arena a;
    struct trades t;
};

struct api_books {
    pthread_mutex_t lock; /* guards the books, across the read and the sum */
    uint64_t clock;
    struct book b[BOOKS];
};

int api_books_new(struct api_books **out)
{
    struct api_books *bk = calloc(1, sizeof(*bk));
    if (!bk)
        return BW_ENOMEM;
    pthread_mutex_init(&bk->lock, NULL);
    for (size_t i = 0; i < BOOKS; i++) {
        arena_init(&bk->b[i].a, ARENA_LIMIT);
        trades_init(&bk->b[i].t, &bk->b[i].a);
    }
    *out = bk;
    return BW_OK;
}

void api_books_free(struct api_books *bk)
{
    if (!bk)
        return;
    for (size_t i = 0; i < BOOKS; i++)
        arena_fini(&bk->b[i].a);
    pthread_mutex_destroy(&bk->lock);
    free(bk);
}

/* Empties b and gives it to session id. */
static void book_reset(struct book *b, const char *id)
{
    arena_reset(&b->a);
    trades_init(&b->t, &b->a);
    snprintf(b->session, sizeof(b->session), "%s", id);
}

/* The book of session id: its own, else the least recently used one, emptied. Called with
 * bk->lock held. */
static struct book *book_get(struct api_books *bk, const char *id)
{
    struct book *lru = &bk->b[0];
    for (size_t i = 0; i < BOOKS; i++) {
        if (strcmp(bk->b[i].session, id) == 0)
            return &bk->b[i];
        if (bk->b[i].used < lru->used)
            lru = &bk->b[i];
    }
    book_reset(lru, id);
    return lru;
}

/* Sums up the trades of session id into out: from its book, read on from where the last
 * request stopped, or without books (api_init not called, or it failed) from all of its
 * checkpoints in a. BW_OK, BW_ENOMEM or the journal's error. */
static int trades_load(struct api_ctx *ctx, const char *id, struct arena *a, struct trades_sum *out)
{
    struct api_books *bk = ctx->books;
    if (!bk) {
        struct trades t;
        trades_init(&t, a);
        int rc = journal_checkpoints_each(ctx->journal, id, 0, 0, trades_add, &t);
        return rc == BW_OK ? trades_sum(&t, a, out) : rc;
    }
    pthread_mutex_lock(&bk->lock);
    struct book *b = book_get(bk, id);
    b->used = ++bk->clock;
    int rc = journal_checkpoints_each(ctx->journal, id, b->t.cursor, 0, trades_add, &b->t);
    if (rc == BW_OK)
        rc = trades_sum(&b->t, a, out);
    else
        book_reset(b, id); /* a checkpoint may be half read: read it all again next time */
    pthread_mutex_unlock(&bk->lock);
    return rc;
}

/* The pipeline's stages, in order; process_flow.stages. */
enum stage {
    ST_FEED,
    ST_SCAN,
    ST_SIGNAL,
    ST_CONFIRM,
    ST_RISK,
    ST_EXECUTE,
    ST_MANAGE,
    ST_CLOSE,
    STAGES
};
static const char *const stage_names[STAGES] = {"feed", "scan",    "signal", "confirm",
                                                "risk", "execute", "manage", "close"};

struct flow {
    double count[STAGES];      /* NaN: unknown */
    double latency_ms[STAGES]; /* mean; NaN: unknown */
};

/* The feed and scan stages' inputs: counts and wall seconds spent (NaN: unknown). */
struct feed_figures {
    double messages, message_seconds, scans, scan_seconds;
};

/* The process flow: feed and scan from the engine's counts, the rest from the trades. The
 * execute stage's latency is the simulated order latency the fills report (the checkpoints
 * are a cycle apart), else the time between the checkpoints. */
static void flow_compute(const struct feed_figures *f, const struct trades_sum *t, struct flow *out)
{
    *out = (struct flow){
        .count = {[ST_FEED] = f->messages,
                  [ST_SCAN] = f->scans,
                  [ST_SIGNAL] = t->reached[STEP_SIGNAL],
                  [ST_CONFIRM] = t->reached[STEP_CONFIRMED],
                  [ST_RISK] = t->reached[STEP_ORDER],
                  [ST_EXECUTE] = t->reached[STEP_FILLED],
                  [ST_MANAGE] = t->reached[STEP_FILLED], /* every fill is a position managed */
                  [ST_CLOSE] = t->reached[STEP_CLOSED]},
        .latency_ms = {[ST_FEED] = ratio(f->message_seconds * 1000, f->messages),
                       [ST_SCAN] = ratio(f->scan_seconds * 1000, f->scans),
                       [ST_SIGNAL] = NAN,
                       [ST_CONFIRM] = t->into_ms[STEP_CONFIRMED],
                       [ST_RISK] = t->into_ms[STEP_ORDER],
                       [ST_EXECUTE] = t->into_ms[STEP_FILLED],
                       [ST_MANAGE] = NAN,
                       [ST_CLOSE] = t->into_ms[STEP_CLOSED]},
    };
}

static void flow_json(struct api_json *w, const struct flow *f)
{
    api_json_object(w);
    api_json_key(w, "stages");
    api_json_array(w);
    for (int s = 0; s < STAGES; s++) {
        api_json_object(w);
        api_json_member_string(w, "stage", stage_names[s]);
        api_json_member_number(w, "count", f->count[s]);
        api_json_member_number(w, "conversion", s ? ratio(f->count[s], f->count[s - 1]) : NAN);
        api_json_member_number(w, "latency_ms", f->latency_ms[s]);
        api_json_object_end(w);
    }
    api_json_array_end(w);
    api_json_object_end(w);
}

/* What one session's views share: its record, parsed configuration and summary, what its
 * trades sum up to, and the engine's snapshot when it is the running one. */
struct view {
    struct journal_session s;
    cJSON *config, *summary;
    struct trades_sum trades;
    bool live;
    struct engine_stats st;
    int64_t sim_start, sim_now, sim_end; /* NOT_YET when not known */
};

static void view_fini(struct view *v)
{
    journal_session_fini(&v->s);
    cJSON_Delete(v->config);
    cJSON_Delete(v->summary);
}

/* Loads session id into v, with its trades and milestones (strings in a) when with_trades:
 * false with a 404 or 500 answered in res. */
static bool view_load(struct api_ctx *ctx, const char *id, bool with_trades, struct arena *a,
                      struct view *v, struct http_response *res)
{
    *v = (struct view){0};
    for (size_t m = 0; m < MILESTONES; m++)
        v->trades.milestones[m] = NOT_YET;
    int rc = journal_session_get(ctx->journal, id, &v->s);
    if (rc == BW_ENOENT) {
        http_response_error(res, 404, "not_found", "no session \"%.64s\"", id);
        return false;
    }
    if (rc == BW_OK && with_trades)
        rc = trades_load(ctx, id, a, &v->trades);
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
        return false;
    }
    v->config = v->s.config_json ? cJSON_Parse(v->s.config_json) : NULL;
    v->summary = v->s.summary_json ? cJSON_Parse(v->s.summary_json) : NULL;
    v->live = live_stats(ctx, &v->s, &v->st);
    v->sim_start = v->trades.milestones[MILESTONE_STARTED];
    if (v->sim_start == NOT_YET)
        v->sim_start = ms_field(v->summary, "sim_start_ms");
    if (v->sim_start == NOT_YET)
        v->sim_start = ms_field(v->config, "start_ms");
    v->sim_now = v->live ? v->st.sim_time_ms : ms_field(v->summary, "sim_end_ms");
    v->sim_end = ms_field(v->summary, "sim_end_ms");
    double duration = num_field(v->config, "duration_ms");
    if (v->sim_end == NOT_YET && v->sim_start != NOT_YET && duration > 0)
        v->sim_end = v->sim_start + (int64_t)duration; /* when a set duration will end it */
    return true;
}

/* The feed and scan figures of a session: the engine's while it runs it, else its summary's
 * (NaN for what the summary does not say: older runs, crashed ones). */
static struct feed_figures feed_figures(const struct view *v)
{
    if (v->live)
        return (struct feed_figures){(double)v->st.messages, v->st.message_seconds,
                                     (double)v->st.scans, v->st.scan_seconds};
    return (struct feed_figures){
        num_field(v->summary, "messages"), num_field(v->summary, "message_seconds"),
        num_field(v->summary, "scans"), num_field(v->summary, "scan_seconds")};
}

/* {"name":name,"sim_ms":ms}: a milestone or a trade's step, and when it was reached. */
static void reached_json(struct api_json *w, const char *name, int64_t ms)
{
    api_json_object(w);
    api_json_member_string(w, "name", name);
    member_ms(w, "sim_ms", ms);
    api_json_object_end(w);
}

static void progress_json(struct api_json *w, const struct view *v)
{
    double duration = num_field(v->config, "duration_ms");
    double fraction = NAN;
    if (duration > 0 && v->sim_start != NOT_YET && v->sim_now != NOT_YET)
        fraction = fmin(1, fmax(0, (double)(v->sim_now - v->sim_start) / duration));
    api_json_object(w);
    api_json_key(w, "session");
    api_json_object(w);
    member_ms(w, "sim_start_ms", v->sim_start);
    member_ms(w, "sim_now_ms", v->sim_now);
    member_ms(w, "sim_end_ms", v->sim_end);
    api_json_member_number(w, "fraction", fraction);
    api_json_key(w, "milestones");
    api_json_array(w);
    for (size_t i = 0; i < MILESTONES; i++)
        reached_json(w, milestone_names[i], v->trades.milestones[i]);
    api_json_array_end(w);
    api_json_object_end(w);

    api_json_key(w, "trade");
    const struct trade *t = v->trades.latest.id ? &v->trades.latest : NULL;
    if (!t) {
        api_json_null(w);
    } else {
        api_json_object(w);
        api_json_member_string(w, "correlation_id", t->id);
        api_json_member_string(w, "symbol", t->symbol);
        api_json_member_string(w, "stage", step_stages[t->last]);
        api_json_key(w, "steps");
        api_json_array(w);
        for (int s = 0; s < STEPS; s++) {
            if (s != STEP_ABANDONED || t->at[s] != NOT_YET) /* listed for a dropped trade */
                reached_json(w, step_names[s], t->at[s]);
        }
        api_json_array_end(w);
        api_json_object_end(w);
    }
    api_json_object_end(w);
}

/* A state change as its event's data tells it. */
struct transition {
    int64_t ts_ms;
    int from, to;    /* enum engine_state */
    double dwell_ms; /* in `from`; NaN when the event does not say */
};

/* Reads ev's data ({"from":…,"to":…,"dwell_seconds":…}); false when it is not one. */
static bool transition_parse(const struct journal_event *ev, struct transition *t)
{
    cJSON *d = ev->data_json ? cJSON_Parse(ev->data_json) : NULL;
    const cJSON *from = cJSON_GetObjectItemCaseSensitive(d, "from");
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(d, "to");
    *t = (struct transition){.ts_ms = ev->ts_ms,
                             .from = engine_state_parse(cJSON_GetStringValue(from)),
                             .to = engine_state_parse(cJSON_GetStringValue(to)),
                             .dwell_ms = num_field(d, "dwell_seconds") * 1000};
    cJSON_Delete(d);
    return t->from >= 0 && t->to >= 0;
}

/* Reads the state changes of a session, oldest first, within page; BW_OK or the journal's
 * error. */
static int state_changes(struct api_ctx *ctx, const char *session,
                         const struct journal_event_page *page, struct journal_event_list *out)
{
    static const char *const type[] = {"state_change"};
    struct journal_event_filter f = {.session_id = session, .types = type, .ntypes = 1};
    return journal_events_query(ctx->journal, &f, page, out);
}

static void stay_json(struct api_json *w, int state, int64_t from, int64_t to)
{
    api_json_object(w);
    api_json_member_string(w, "state", engine_state_name((enum engine_state)state));
    member_ms(w, "sim_from_ms", from);
    member_ms(w, "sim_to_ms", to);
    api_json_object_end(w);
}

/* The state timeline: the stays between the state changes, the latest TIMELINE_MAX of them;
 * the first starts when its state was entered (the first change's time less its dwell), the
 * last is open while the session runs and ends with the session otherwise. */
static int timeline_json(struct api_ctx *ctx, struct api_json *w, const struct view *v)
{
    struct journal_event_list l;
    struct journal_event_page page = {.newest_first = 1, .limit = TIMELINE_MAX};
    int rc = state_changes(ctx, v->s.id, &page, &l);
    if (rc != BW_OK)
        return rc;
    bool running = strcmp(v->s.status, "running") == 0;
    int64_t end = running ? NOT_YET : v->sim_now;
    struct transition t, prev = {0};
    bool have = false;
    api_json_array(w);
    for (size_t k = l.n; k-- > 0;) { /* newest first in l: oldest first here */
        if (!transition_parse(&l.items[k], &t))
            continue;
        if (!have)
            stay_json(w, t.from,
                      isfinite(t.dwell_ms) ? t.ts_ms - (int64_t)llround(t.dwell_ms) : v->sim_start,
                      t.ts_ms);
        else
            stay_json(w, prev.to, prev.ts_ms, t.ts_ms);
        prev = t;
        have = true;
    }
    if (have)
        stay_json(w, prev.to, prev.ts_ms, end);
    else /* no change yet: still in the state the engine starts in */
        stay_json(w, STATE_IDLE, v->sim_start, end);
    api_json_array_end(w);
    journal_event_list_free(&l);
    return BW_OK;
}

void api_mon_session(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct arena a;
    struct view v;
    struct api_json w;
    struct flow flow;
    char id[JOURNAL_ID_LEN];
    if (!api_mon_journal(ctx, res) ||
        !api_mon_session_resolve(ctx, "id", http_request_param(req, "id"), id, res))
        return;
    arena_init(&a, ARENA_LIMIT);
    if (!view_load(ctx, id, true, &a, &v, res))
        goto out;
    struct feed_figures ff = feed_figures(&v);
    flow_compute(&ff, &v.trades, &flow);
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "session");
    session_json(&w, &v.s);
    api_json_key(&w, "state_timeline");
    int rc = timeline_json(ctx, &w, &v);
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
        goto out;
    }
    api_json_key(&w, "process_flow");
    flow_json(&w, &flow);
    api_json_key(&w, "progress");
    progress_json(&w, &v);
    api_json_object_end(&w);
    finish(&w, res);
out:
    view_fini(&v);
    arena_fini(&a);
}

/* A page of checkpoints as they are read: the writer, how many more the page takes, and the
 * last one written. */
struct checkpoint_page {
    struct api_json *w;
    size_t left;
    int64_t last;
    bool more; /* one past the page was read: there is a next page */
};

/* journal_checkpoints_each's callback: writes one checkpoint. BW_OK, or the writer's error,
 * which stops the read. */
static int checkpoint_json(void *ud, const struct journal_checkpoint_row *r)
{
    struct checkpoint_page *p = ud;
    struct api_json *w = p->w;
    if (p->left == 0) {
        p->more = true;
        return BW_OK;
    }
    p->left--;
    p->last = r->id;
    api_json_object(w);
    api_json_member_int(w, "id", r->id);
    api_json_member_int(w, "sim_ms", r->ts_ms);
    api_json_member_string(w, "name", r->name);
    api_json_member_string(w, "correlation_id", r->correlation_id);
    api_json_member_string(w, "symbol", r->symbol);
    api_json_member_raw_object(w, "detail", r->detail_json);
    api_json_object_end(w);
    return w->rc;
}

void api_mon_checkpoints(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct api_json w;
    size_t limit;
    int64_t after;
    char id[JOURNAL_ID_LEN];
    if (!api_mon_journal(ctx, res) ||
        !api_mon_limit(req, res, CHECKPOINTS_DEFAULT, CHECKPOINTS_MAX, &limit) ||
        !api_mon_id("after", "a checkpoint", http_request_arg(req, "after"), true, res, &after) ||
        !api_mon_session_resolve(ctx, "id", http_request_param(req, "id"), id, res))
        return;
    struct checkpoint_page page = {.w = &w, .left = limit};
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "checkpoints");
    api_json_array(&w);
    /* One more than the page tells whether there is a next one. */
    int rc = journal_checkpoints_each(ctx->journal, id, after, limit + 1, checkpoint_json, &page);
    if (rc != BW_OK && rc != w.rc) {
        http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
        return;
    }
    api_json_array_end(&w);
    api_json_key(&w, "next");
    if (page.more)
        api_json_int(&w, page.last);
    else
        api_json_null(&w);
    api_json_object_end(&w);
    finish(&w, res);
}

/* ---- the state machine ---- */

/* A session's state machine: where it is and what it has done. */
struct machine {
    int current;      /* enum engine_state; -1 when not known */
    int64_t since_ms; /* when it entered current; NOT_YET when not known */
    uint64_t entries[STATE_COUNT];
    double dwell_s[STATE_COUNT]; /* the current stay up to now included */
    uint64_t count[STATE_COUNT][STATE_COUNT];
};

/* The live machine: the engine's counts. */
static void machine_live(const struct engine_stats *st, struct machine *m)
{
    *m = (struct machine){.current = (int)st->state, .since_ms = st->state_since_ms};
    memcpy(m->entries, st->state_entries, sizeof(m->entries));
    memcpy(m->dwell_s, st->state_dwell_seconds, sizeof(m->dwell_s));
    memcpy(m->count, st->transitions, sizeof(m->count));
    m->dwell_s[st->state] += (double)(st->sim_time_ms - st->state_since_ms) / 1000.0;
}

/* A recorded session's machine, counted from its state changes as the engine counts: the
 * initial state (the first change's origin, else idle) entered once, each change an entry and
 * the end of a stay; the last stay runs to now_ms (NOT_YET: not counted). */
static int machine_from_events(struct api_ctx *ctx, const char *session, int64_t start_ms,
                               int64_t now_ms, struct machine *m)
{
    struct journal_event_page page = {.limit = EVENTS_PAGE};
    struct journal_event_list l;
    struct transition t;
    int initial = -1;
    *m = (struct machine){.current = STATE_IDLE, .since_ms = start_ms};
    for (;;) {
        int rc = state_changes(ctx, session, &page, &l);
        if (rc != BW_OK)
            return rc;
        for (size_t i = 0; i < l.n; i++) {
            if (!transition_parse(&l.items[i], &t))
                continue;
            if (initial < 0)
                initial = t.from;
            m->count[t.from][t.to]++;
            m->entries[t.to]++;
            if (isfinite(t.dwell_ms))
                m->dwell_s[t.from] += t.dwell_ms / 1000.0;
            m->current = t.to;
            m->since_ms = t.ts_ms;
        }
        page.after_id = l.n ? l.items[l.n - 1].id : page.after_id;
        size_t n = l.n;
        journal_event_list_free(&l);
        if (n < EVENTS_PAGE)
            break;
    }
    m->entries[initial >= 0 ? initial : STATE_IDLE]++;
    if (now_ms != NOT_YET && m->since_ms != NOT_YET && now_ms >= m->since_ms)
        m->dwell_s[m->current] += (double)(now_ms - m->since_ms) / 1000.0;
    return BW_OK;
}

static void edge_json(struct api_json *w, int from, int to, uint64_t count)
{
    const char *meaning = engine_transition_meaning(from, to);
    api_json_object(w);
    api_json_member_string(w, "from", engine_state_name(from));
    api_json_member_string(w, "to", engine_state_name(to));
    api_json_member_bool(w, "declared", meaning != NULL);
    api_json_member_string(w, "meaning", meaning);
    api_json_member_uint(w, "count", count);
    api_json_object_end(w);
}

static void machine_json(struct api_json *w, const char *session, const struct machine *m)
{
    api_json_object(w);
    api_json_member_string(w, "session_id", session);
    api_json_member_string(w, "current", m->current >= 0 ? engine_state_name(m->current) : NULL);
    member_ms(w, "since_sim_ms", m->since_ms);
    api_json_key(w, "states");
    api_json_array(w);
    for (int s = 0; s < STATE_COUNT; s++) {
        api_json_object(w);
        api_json_member_string(w, "name", engine_state_name(s));
        api_json_member_uint(w, "entries", m->entries[s]);
        api_json_member_number(w, "dwell_seconds_total", m->dwell_s[s]);
        api_json_member_number(w, "dwell_seconds_mean",
                               ratio(m->dwell_s[s], (double)m->entries[s]));
        api_json_object_end(w);
    }
    api_json_array_end(w);
    /* Every declared edge, then every other one that happened: an unexpected transition. */
    api_json_key(w, "edges");
    api_json_array(w);
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < STATE_COUNT; a++)
            for (int b = 0; b < STATE_COUNT; b++)
                if (pass == 0 ? engine_transition_allowed(a, b)
                              : !engine_transition_allowed(a, b) && m->count[a][b])
                    edge_json(w, a, b, m->count[a][b]);
    api_json_array_end(w);
    api_json_object_end(w);
}

void api_mon_state_machine(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct api_json w;
    struct machine m = {.current = -1, .since_ms = NOT_YET};
    struct arena a;
    struct view v = {0};
    struct journal_session *latest = NULL;
    size_t nlatest = 0;
    char id[JOURNAL_ID_LEN] = "";
    const char *asked = http_request_arg(req, "session");
    arena_init(&a, ARENA_LIMIT);
    if (!api_mon_journal(ctx, res))
        goto out;
    if (asked) {
        if (!api_mon_session_resolve(ctx, "session", asked, id, res))
            goto out;
    } else if (ctx->engine) { /* the engine's current session, as the engine counts it */
        struct engine_stats st;
        engine_stats_get(ctx->engine, &st);
        snprintf(id, sizeof(id), "%s", st.session_id);
        machine_live(&st, &m);
    } else { /* without the engine: the latest recorded session */
        int rc = journal_sessions_list(ctx->journal, 1, 0, &latest, &nlatest);
        if (rc == BW_OK && nlatest)
            snprintf(id, sizeof(id), "%s", latest[0].id);
    }
    if (id[0] && (asked || !ctx->engine)) {
        if (!view_load(ctx, id, false, &a, &v, res))
            goto out;
        int rc = BW_OK;
        if (v.live)
            machine_live(&v.st, &m);
        else
            rc = machine_from_events(ctx, id, v.sim_start, v.sim_now, &m);
        if (rc != BW_OK) {
            http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
            goto out;
        }
    }
    api_json_init(&w, res->body);
    machine_json(&w, id[0] ? id : NULL, &m);
    finish(&w, res);
out:
    journal_sessions_free(latest, nlatest);
    view_fini(&v);
    arena_fini(&a);
}

/* ---- real time ---- */

/* The history's answer to an instant query at t: its first value, NaN when it has none (no
 * history, no data yet, an error — the page then shows a gap, which is what it is). */
static double instant(struct api_ctx *ctx, const char *q, int64_t t)
{
    struct promql_result *r = NULL;
    struct promql_error err = {0};
    double v = NAN;
    if (!ctx->tsdb)
        return NAN;
    if (promql_query_instant(ctx->tsdb, &ctx->promql, q, t, &r, &err) == BW_OK) {
        if (r->type == PROMQL_SCALAR || (r->type == PROMQL_VECTOR && r->n > 0))
            v = r->series[0].v[0];
    } else {
        log_debug("realtime: %s: %s", q, err.msg);
    }
    promql_result_free(r);
    return v;
}

/* Writes the last SPARK_POINTS values of q, one per step up to t, oldest first, as an array
 * (empty without history). */
static void sparkline(struct api_ctx *ctx, struct api_json *w, const char *q, int64_t t,
                      int64_t step)
{
    struct promql_result *r = NULL;
    struct promql_error err = {0};
    api_json_array(w);
    if (ctx->tsdb && promql_query_range(ctx->tsdb, &ctx->promql, q, t - (SPARK_POINTS - 1) * step,
                                        t, step, &r, &err) == BW_OK) {
        if (r->n > 0)
            for (size_t i = 0; i < r->series[0].n; i++)
                api_json_number(w, r->series[0].v[i]);
    } else if (ctx->tsdb) {
        log_debug("realtime: %s: %s", q, err.msg);
    }
    api_json_array_end(w);
    promql_result_free(r);
}

#define QUANTILE(q, h) "histogram_quantile(" q ", sum by (le) (rate(" h "_bucket[1m]))) * 1000"
#define QUANTILES(h)                                                                               \
    {                                                                                              \
        QUANTILE("0.5", h), QUANTILE("0.9", h), QUANTILE("0.95", h), QUANTILE("0.99", h)           \
    }

/* The latency percentiles the page shows, in ms over the last minute. */
static const struct {
    const char *key;
    const char *q[4];
} percentiles[] = {
    {"cycle_time_ms", QUANTILES("engine_cycle_time")},
    {"scan_ms", QUANTILES("market_scan_duration")},
    {"order_execution_ms", QUANTILES("trade_execution_duration")},
    {"message_processing_ms", QUANTILES("websocket_message_processing")},
};
static const char *const quantile_keys[4] = {"p50", "p90", "p95", "p99"};

#define Q_CPU         "process_cpu_usage"
#define Q_MEMORY      "process_memory_percent"
#define Q_RSS         "process_resident_memory_bytes"
#define Q_SCAN_RATE   "rate(market_scans_total[1m])"
#define Q_SIGNAL_RATE "sum(rate(signals_generated_total[1m]))"

static const struct {
    const char *key, *q;
} sparklines[] = {
    {"cpu_percent", Q_CPU},
    {"memory_bytes", Q_RSS},
    {"cycle_time_p95_ms", QUANTILE("0.95", "engine_cycle_time")},
    {"scan_rate", Q_SCAN_RATE},
    {"signal_rate", Q_SIGNAL_RATE},
    {"equity", "equity"},
    {"positions_open", "positions_open"},
    {"risk_budget_remaining", "daily_loss_budget_remaining_ratio"},
};

void api_mon_realtime(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct api_json w;
    struct engine_stats st;
    int64_t now = clock_real_ns() / 1000000;
    int64_t step = ctx->scrape_interval_ms > 0 ? ctx->scrape_interval_ms : 1000;
    bool eng = ctx->engine != NULL;
    if (eng)
        engine_stats_get(ctx->engine, &st);
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_int(&w, "ts_ms", now);
    api_json_member_string(&w, "session_id", eng && st.session_id[0] ? st.session_id : NULL);
    api_json_member_string(&w, "engine", eng ? st.run_status : "none");
    api_json_member_string(&w, "state", eng ? engine_state_name(st.state) : NULL);
    member_ms(&w, "sim_time_ms", eng ? st.sim_time_ms : NOT_YET);
    api_json_member_number(&w, "cpu_percent", instant(ctx, Q_CPU, now));
    api_json_member_number(&w, "memory_percent", instant(ctx, Q_MEMORY, now));
    api_json_member_number(&w, "memory_bytes", instant(ctx, Q_RSS, now));
    for (size_t i = 0; i < BW_ARRAY_LEN(percentiles); i++) {
        api_json_key(&w, percentiles[i].key);
        api_json_object(&w);
        for (size_t k = 0; k < 4; k++) {
            api_json_member_number(&w, quantile_keys[k], instant(ctx, percentiles[i].q[k], now));
        }
        api_json_object_end(&w);
    }
    api_json_member_number(&w, "scan_rate", instant(ctx, Q_SCAN_RATE, now));
    api_json_member_number(&w, "signal_rate", instant(ctx, Q_SIGNAL_RATE, now));
    api_json_member_number(&w, "equity", eng ? st.equity : NAN);
    api_json_member_number(&w, "daily_pnl", eng ? st.daily_pnl : NAN);
    api_json_member_number(&w, "positions_open", eng ? st.positions_open : NAN);
    api_json_member_number(&w, "risk_budget_remaining", eng ? st.risk_budget_remaining : NAN);
    api_json_key(&w, "counts");
    if (eng) {
        const struct {
            const char *key;
            uint64_t v;
        } counts[] = {{"cycles", st.cycles}, {"scans", st.scans},   {"signals", st.signals},
                      {"orders", st.orders}, {"trades", st.trades}, {"wins", st.wins},
                      {"losses", st.losses}};
        api_json_object(&w);
        for (size_t i = 0; i < BW_ARRAY_LEN(counts); i++) {
            api_json_member_uint(&w, counts[i].key, counts[i].v);
        }
        api_json_object_end(&w);
    } else {
        api_json_null(&w);
    }
    api_json_key(&w, "sparklines");
    api_json_object(&w);
    for (size_t i = 0; i < BW_ARRAY_LEN(sparklines); i++) {
        api_json_key(&w, sparklines[i].key);
        sparkline(ctx, &w, sparklines[i].q, now, step);
    }
    api_json_object_end(&w);
    api_json_object_end(&w);
    finish(&w, res);
}
