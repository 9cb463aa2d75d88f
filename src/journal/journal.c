/* journal: sessions, checkpoints and events, recorded without making the engine wait.
 *
 * Main data structure: a bounded FIFO of records (struct rec: one allocation holding a store
 * row and the copies of its strings) between the producers (the engine thread, or any thread)
 * and one writer thread. The writer takes the whole queue at once, commits it as one
 * transaction on its own connection, then hands the batch's events to the subscribers (the
 * live bus). Reads go to a second, query-only connection and never wait for the writer.
 *
 * The design decision: an event's id is assigned when it is queued, under the queue lock,
 * counting from one past the highest id ever stored. So journal_event returns the id at once,
 * queue order is id order for any number of producer threads, and the writer inserts rows
 * with exactly those ids; subscribers see them in that order. The writer lets the queue fill
 * for up to LINGER_MS after its oldest record was queued, so that a burst becomes one commit
 * (one WAL append) rather than one per event; journal_flush, journal_close and a half-full
 * queue cut that short. A full queue makes producers wait (up to FULL_WAIT_MS, then BW_EBUSY),
 * except while the writer's commits fail (a full disk): then waiting would not make room, so a
 * full queue refuses at once and an outage of hours never stalls the engine. Nothing is ever
 * dropped without the caller hearing of it. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "journal/journal.h"
#include "store/store.h"

#define QUEUE_MAX      16384 /* records */
#define LINGER_MS      50
#define FULL_WAIT_MS   2000
#define RETRY_MS       200
#define LOG_EVERY      300 /* failed attempts: a minute */
#define CLOSE_ATTEMPTS 3   /* commits tried for the last batch before journal_close gives up */
#define POOL_CHUNK     16384

enum rec_kind { REC_EVENT, REC_CHECKPOINT, REC_SESSION_BEGIN, REC_SESSION_END };

struct rec {
    struct rec *next;
    enum rec_kind kind;
    enum severity severity;          /* REC_EVENT */
    char session_id[JOURNAL_ID_LEN]; /* "": none */
    union {
        struct store_event_row event;
        struct store_checkpoint_row checkpoint;
        struct store_session_row session; /* END uses id, status, ended_ms, summary_json */
    } row;
    char strings[]; /* the copies the row points into */
};

struct sub {
    int id;
    journal_sub_fn fn;
    void *ud;
};

struct journal {
    struct store *w; /* the writer's connection: journal_open, then the writer thread only */
    struct store *r; /* the readers' connection, under rlock */
    pthread_mutex_t rlock;

    pthread_mutex_t lock; /* guards the queue and everything down to the subscribers */
    pthread_cond_t wake;  /* to the writer: records arrived, flush, close */
    pthread_cond_t space; /* to producers: the writer took the queue */
    pthread_cond_t done;  /* to flushers: a batch was committed, or failed */
    struct rec *head, *tail;
    size_t queued;
    int64_t head_mono_ns; /* when the oldest queued record was queued */
    uint64_t enqueued, processed, failures;
    int werr;          /* the code of the last failed commit */
    char failing[512]; /* why the batch being written fails; "" while commits succeed */
    int urgent, stopping;
    int64_t next_event_id;
    char current[JOURNAL_ID_LEN]; /* the current session, "" when none */
    int64_t current_ts;           /* its latest event or checkpoint time, 0 before any */

    pthread_mutex_t sublock; /* held while subscribers are called */
    struct sub *subs;
    size_t nsubs, cap_subs;
    int next_sub_id;

    int synced; /* the locks above were initialized */
    pthread_t writer;
};

static const char *const severity_names[] = {"debug", "info", "warning", "error", "critical"};

const char *severity_name(enum severity s)
{
    return (unsigned)s < BW_ARRAY_LEN(severity_names) ? severity_names[s] : "unknown";
}

int severity_parse(const char *s)
{
    for (size_t i = 0; s && i < BW_ARRAY_LEN(severity_names); i++)
        if (strcmp(s, severity_names[i]) == 0)
            return (int)i;
    return -1;
}

void journal_session_fini(struct journal_session *s)
{
    if (!s)
        return;
    free(s->config_json);
    free(s->summary_json);
    s->config_json = NULL;
    s->summary_json = NULL;
}

static int64_t now_ms(void)
{
    return clock_real_ns() / 1000000;
}

/* A CLOCK_MONOTONIC deadline (the clock the condition variables wait on) ms after mono_ns. */
static struct timespec deadline_at(int64_t mono_ns, int ms)
{
    int64_t ns = mono_ns + (int64_t)ms * 1000000;
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = ns % 1000000000};
}

static struct timespec deadline_after(int ms)
{
    return deadline_at(clock_mono_ns(), ms);
}

/* NULL, or a string that fits in JOURNAL_ID_LEN. */
static int id_ok(const char *s)
{
    return !s || strnlen(s, JOURNAL_ID_LEN) < JOURNAL_ID_LEN;
}

/* A random (version 4) UUID: 128 bits from getrandom, 122 of them random. */
static int new_session_id(char out[JOURNAL_ID_LEN])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
        if (n < 0 && errno != EINTR)
            return BW_EIO;
        if (n > 0)
            got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, JOURNAL_ID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return BW_OK;
}

/* ---- records and the queue ---- */

/* A record of kind with room for copies of the n strings in src (NULLs take none). */
static struct rec *rec_new(enum rec_kind kind, const char *const *src, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += src[i] ? strlen(src[i]) + 1 : 0;
    struct rec *r = calloc(1, sizeof(*r) + total);
    if (r)
        r->kind = kind;
    return r;
}

/* Copies s into r's string space at *pos: the copy, or NULL for NULL. */
static const char *rec_str(struct rec *r, size_t *pos, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = memcpy(r->strings + *pos, s, n);
    *pos += n;
    return p;
}

static void recs_free(struct rec *r)
{
    while (r) {
        struct rec *next = r->next;
        free(r);
        r = next;
    }
}

/* Queues r, waiting while the queue is full. Under the lock, in queue order: an event gets its
 * id (into *id), events and checkpoints without a session get the current one, and session
 * begin/end move the current session. BW_EBUSY if the queue stayed full for FULL_WAIT_MS, or
 * at once when it is full while commits fail (r is then the caller's to free). */
/* JOURNAL_SESSION_NOW becomes the session's time now; a time of the current session's moves
 * it on. Under j->lock. */
static void stamp(struct journal *j, const char *session, int64_t *ts)
{
    bool current = strcmp(session, j->current) == 0;
    if (*ts == JOURNAL_SESSION_NOW)
        *ts = current && j->current_ts ? j->current_ts : now_ms();
    else if (current && *ts > j->current_ts)
        j->current_ts = *ts;
}

static int enqueue(struct journal *j, struct rec *r, int64_t *id)
{
    int rc = BW_OK;
    int timed_out = 0;
    pthread_mutex_lock(&j->lock);
    if (j->queued >= QUEUE_MAX && j->failing[0]) {
        rc = BW_EBUSY;
        goto out;
    }
    if (j->queued >= QUEUE_MAX) {
        struct timespec deadline = deadline_after(FULL_WAIT_MS);
        j->urgent = 1;
        pthread_cond_signal(&j->wake);
        while (j->queued >= QUEUE_MAX && !timed_out)
            timed_out = pthread_cond_timedwait(&j->space, &j->lock, &deadline) == ETIMEDOUT;
        if (j->queued >= QUEUE_MAX) {
            rc = BW_EBUSY;
            goto out;
        }
    }
    switch (r->kind) {
    case REC_EVENT:
    case REC_CHECKPOINT:
        if (!r->session_id[0])
            memcpy(r->session_id, j->current, sizeof(r->session_id));
        if (r->kind == REC_EVENT) {
            r->row.event.id = *id = j->next_event_id++;
            r->row.event.session_id = r->session_id[0] ? r->session_id : NULL;
            stamp(j, r->session_id, &r->row.event.ts_ms);
        } else {
            r->row.checkpoint.session_id = r->session_id[0] ? r->session_id : NULL;
            stamp(j, r->session_id, &r->row.checkpoint.ts_ms);
        }
        break;
    case REC_SESSION_BEGIN:
        memcpy(j->current, r->session_id, sizeof(j->current));
        j->current_ts = 0;
        break;
    case REC_SESSION_END:
        if (strcmp(j->current, r->session_id) == 0)
            j->current[0] = '\0';
        break;
    }
    if (j->tail)
        j->tail->next = r;
    else
        j->head = r;
    j->tail = r;
    if (j->queued++ == 0)
        j->head_mono_ns = clock_mono_ns();
    j->enqueued++;
    /* The writer sleeps only while the queue is empty, and lingers unless urgent. */
    if (j->queued == QUEUE_MAX / 2)
        j->urgent = 1;
    if (j->queued == 1 || j->queued == QUEUE_MAX / 2)
        pthread_cond_signal(&j->wake);
out:
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* enqueue, freeing r when it could not be queued. */
static int submit(struct journal *j, struct rec *r, int64_t *id)
{
    int rc = enqueue(j, r, id);
    if (rc)
        free(r);
    return rc;
}

/* ---- the writer ---- */

static int apply(struct journal *j, const struct rec *r)
{
    int rc = BW_EINVAL;
    switch (r->kind) {
    case REC_EVENT:
        rc = store_event_insert(j->w, &r->row.event);
        break;
    case REC_CHECKPOINT:
        rc = store_checkpoint_insert(j->w, &r->row.checkpoint);
        break;
    case REC_SESSION_BEGIN:
        rc = store_session_insert(j->w, &r->row.session);
        break;
    case REC_SESSION_END:
        rc = store_session_finish(j->w, &r->row.session);
        if (rc == BW_ENOENT) {
            log_warn("journal: session %s ended but never begun", r->session_id);
            rc = BW_OK;
        }
        break;
    }
    return rc;
}

static int commit_batch(struct journal *j, const struct rec *batch)
{
    int rc = store_begin(j->w);
    for (const struct rec *r = batch; r && !rc; r = r->next)
        rc = apply(j, r);
    if (!rc)
        rc = store_commit(j->w);
    if (rc)
        store_rollback(j->w);
    return rc;
}

/* Commits a batch, retrying after a failure (a locked or full disk may recover); flushers
 * hear of each failure. The first failure is logged, then one in LOG_EVERY, and the recovery:
 * a disk full for an hour is not 18,000 lines. Only once closing does it give up, after
 * CLOSE_ATTEMPTS. Called without the lock. */
static int write_batch(struct journal *j, const struct rec *batch, size_t n)
{
    for (int attempt = 1;; attempt++) {
        int rc = commit_batch(j, batch);
        if (rc == BW_OK) {
            if (attempt > 1) {
                log_info("journal: commits succeed again (%zu records written after %d failed "
                         "attempts)",
                         n, attempt - 1);
                pthread_mutex_lock(&j->lock);
                j->failing[0] = '\0';
                pthread_mutex_unlock(&j->lock);
            }
            return BW_OK;
        }
        pthread_mutex_lock(&j->lock);
        snprintf(j->failing, sizeof(j->failing), "database %s: %s", store_path(j->w),
                 store_last_error(j->w));
        if (attempt % LOG_EVERY == 1)
            log_error("journal: committing %zu records failed (attempt %d, retrying every %d ms): "
                      "%s",
                      n, attempt, RETRY_MS, j->failing);
        j->werr = rc;
        j->failures++;
        pthread_cond_broadcast(&j->done);
        int give_up = j->stopping && attempt >= CLOSE_ATTEMPTS;
        if (!give_up) {
            struct timespec deadline = deadline_after(RETRY_MS);
            while (pthread_cond_timedwait(&j->wake, &j->lock, &deadline) != ETIMEDOUT)
                ;
        }
        pthread_mutex_unlock(&j->lock);
        if (give_up) {
            log_error("journal: closing; %zu records were not recorded", n);
            return rc;
        }
    }
}

static void event_view(const struct rec *r, struct journal_event *ev)
{
    *ev = (struct journal_event){
        .id = r->row.event.id,
        .ts_ms = r->row.event.ts_ms,
        .session_id = r->row.event.session_id,
        .type = r->row.event.type,
        .severity = r->severity,
        .symbol = r->row.event.symbol,
        .correlation_id = r->row.event.correlation_id,
        .message = r->row.event.message,
        .data_json = r->row.event.data_json,
    };
}

/* Hands a committed batch's events to the subscribers, in id order. */
static void publish(struct journal *j, const struct rec *batch)
{
    pthread_mutex_lock(&j->sublock);
    for (const struct rec *r = batch; r && j->nsubs; r = r->next) {
        if (r->kind != REC_EVENT)
            continue;
        struct journal_event ev;
        event_view(r, &ev);
        for (size_t i = 0; i < j->nsubs; i++)
            j->subs[i].fn(j->subs[i].ud, &ev);
    }
    pthread_mutex_unlock(&j->sublock);
}

static void *writer_main(void *arg)
{
    struct journal *j = arg;
    pthread_mutex_lock(&j->lock);
    for (;;) {
        while (!j->head && !j->stopping)
            pthread_cond_wait(&j->wake, &j->lock);
        if (!j->head)
            break;
        struct timespec deadline = deadline_at(j->head_mono_ns, LINGER_MS);
        while (!j->urgent && !j->stopping &&
               pthread_cond_timedwait(&j->wake, &j->lock, &deadline) != ETIMEDOUT)
            ;
        struct rec *batch = j->head;
        size_t n = j->queued;
        j->head = j->tail = NULL;
        j->queued = 0;
        j->urgent = 0;
        pthread_cond_broadcast(&j->space);
        pthread_mutex_unlock(&j->lock);

        if (write_batch(j, batch, n) == BW_OK)
            publish(j, batch);
        recs_free(batch);

        pthread_mutex_lock(&j->lock);
        j->processed += n;
        pthread_cond_broadcast(&j->done);
    }
    pthread_mutex_unlock(&j->lock);
    return NULL;
}

/* ---- open and close ---- */

static int sync_init(struct journal *j)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);
    if (rc)
        return BW_ENOMEM;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) || pthread_mutex_init(&j->rlock, NULL) ||
         pthread_mutex_init(&j->lock, NULL) || pthread_mutex_init(&j->sublock, NULL) ||
         pthread_cond_init(&j->wake, &attr) || pthread_cond_init(&j->space, &attr) ||
         pthread_cond_init(&j->done, &attr);
    pthread_condattr_destroy(&attr);
    /* On failure nothing is destroyed: an initialized but unused glibc lock holds nothing. */
    return rc ? BW_ENOMEM : BW_OK;
}

/* Frees j once its writer thread has stopped (or never started). */
static void journal_free(struct journal *j)
{
    store_close(j->r);
    store_close(j->w);
    free(j->subs);
    if (j->synced) {
        pthread_mutex_destroy(&j->rlock);
        pthread_mutex_destroy(&j->lock);
        pthread_mutex_destroy(&j->sublock);
        pthread_cond_destroy(&j->wake);
        pthread_cond_destroy(&j->space);
        pthread_cond_destroy(&j->done);
    }
    free(j);
}

int journal_open(const struct store *st, struct journal **out, struct diag *d)
{
    int crashed = 0;
    int rc;
    struct journal *j = calloc(1, sizeof(*j));
    *out = NULL;
    if (!j)
        return diag_set(d, BW_ENOMEM, "journal: out of memory");
    rc = sync_init(j);
    if (rc) {
        diag_set(d, rc, "journal: cannot create its locks");
        goto fail;
    }
    j->synced = 1;
    rc = store_open_writer(st, &j->w, d);
    if (rc)
        goto fail;
    rc = store_sessions_mark_crashed(j->w, now_ms(), &crashed);
    if (!rc)
        rc = store_events_next_id(j->w, &j->next_event_id);
    if (rc) {
        diag_set(d, rc, "database %s: %s", store_path(j->w), store_last_error(j->w));
        goto fail;
    }
    if (crashed)
        log_warn("journal: %d session(s) left running by a previous process marked crashed",
                 crashed);
    rc = store_open_reader(st, &j->r, d);
    if (rc)
        goto fail;
    if (pthread_create(&j->writer, NULL, writer_main, j) != 0) {
        rc = diag_set(d, BW_ENOMEM, "journal: cannot start the writer thread");
        goto fail;
    }
    *out = j;
    return BW_OK;

fail:
    journal_free(j);
    return rc;
}

void journal_close(struct journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->stopping = 1;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->lock);
    pthread_join(j->writer, NULL);
    journal_free(j);
}

int journal_error(struct journal *j, char *buf, size_t len)
{
    pthread_mutex_lock(&j->lock);
    int failing = j->failing[0] != '\0';
    if (len)
        snprintf(buf, len, "%s", j->failing);
    pthread_mutex_unlock(&j->lock);
    return failing;
}

int journal_flush(struct journal *j)
{
    int rc = BW_OK;
    pthread_mutex_lock(&j->lock);
    uint64_t target = j->enqueued;
    uint64_t failures = j->failures;
    if (j->head) {
        j->urgent = 1;
        pthread_cond_signal(&j->wake);
    }
    while (j->processed < target && j->failures == failures)
        pthread_cond_wait(&j->done, &j->lock);
    if (j->processed < target)
        rc = j->werr;
    pthread_mutex_unlock(&j->lock);
    return rc;
}

/* ---- writes ---- */

static const char *const final_statuses[] = {"completed", "stopped", "halted", "crashed"};

int journal_session_begin(struct journal *j, const char *mode, const char *config_json,
                          char id_out[JOURNAL_ID_LEN])
{
    char id[JOURNAL_ID_LEN];
    if (!mode || !*mode || strnlen(mode, JOURNAL_WORD_LEN) >= JOURNAL_WORD_LEN)
        return BW_EINVAL;
    const char *strs[] = {mode, config_json};
    struct rec *r = rec_new(REC_SESSION_BEGIN, strs, BW_ARRAY_LEN(strs));
    if (!r)
        return BW_ENOMEM;
    int rc = new_session_id(r->session_id);
    if (rc) {
        free(r);
        return rc;
    }
    size_t pos = 0;
    r->row.session = (struct store_session_row){
        .id = r->session_id,
        .mode = rec_str(r, &pos, mode),
        .config_json = rec_str(r, &pos, config_json),
        .status = "running",
        .started_ms = now_ms(),
    };
    memcpy(id, r->session_id, sizeof(id));
    rc = submit(j, r, NULL);
    if (!rc)
        memcpy(id_out, id, sizeof(id));
    return rc;
}

static int session_exists(struct journal *j, const char *id);

int journal_session_end(struct journal *j, const char *id, const char *status,
                        const char *summary_json)
{
    int known = 0;
    if (!id || !id_ok(id) || !status)
        return BW_EINVAL;
    for (size_t i = 0; i < BW_ARRAY_LEN(final_statuses); i++)
        known |= strcmp(status, final_statuses[i]) == 0;
    if (!known)
        return BW_EINVAL;

    /* Ending a session other than the current one is rare: make sure it exists, once the
     * queue (which may hold its begin) is committed. */
    pthread_mutex_lock(&j->lock);
    int current = strcmp(j->current, id) == 0;
    pthread_mutex_unlock(&j->lock);
    if (!current) {
        int rc = journal_flush(j);
        if (!rc)
            rc = session_exists(j, id);
        if (rc)
            return rc;
    }

    const char *strs[] = {summary_json};
    struct rec *r = rec_new(REC_SESSION_END, strs, BW_ARRAY_LEN(strs));
    if (!r)
        return BW_ENOMEM;
    size_t pos = 0;
    memcpy(r->session_id, id, strlen(id) + 1);
    r->row.session = (struct store_session_row){
        .id = r->session_id,
        .status = status,
        .ended_ms = now_ms(),
        .summary_json = rec_str(r, &pos, summary_json),
    };
    return submit(j, r, NULL);
}

int64_t journal_event(struct journal *j, const struct journal_event *ev)
{
    if (!ev || !ev->type || !*ev->type || (unsigned)ev->severity >= BW_ARRAY_LEN(severity_names) ||
        !id_ok(ev->session_id) || !id_ok(ev->correlation_id))
        return BW_EINVAL;
    const char *strs[] = {ev->type, ev->symbol, ev->correlation_id, ev->message, ev->data_json};
    struct rec *r = rec_new(REC_EVENT, strs, BW_ARRAY_LEN(strs));
    if (!r)
        return BW_ENOMEM;
    size_t pos = 0;
    if (ev->session_id)
        memcpy(r->session_id, ev->session_id, strlen(ev->session_id) + 1);
    r->severity = ev->severity;
    r->row.event = (struct store_event_row){
        .ts_ms = ev->ts_ms,
        .recorded_ms = now_ms(),
        .type = rec_str(r, &pos, ev->type),
        .severity = severity_name(ev->severity),
        .symbol = rec_str(r, &pos, ev->symbol),
        .correlation_id = rec_str(r, &pos, ev->correlation_id),
        .message = rec_str(r, &pos, ev->message),
        .data_json = rec_str(r, &pos, ev->data_json),
    };
    int64_t id = 0;
    int rc = submit(j, r, &id);
    return rc ? rc : id;
}

int journal_checkpoint(struct journal *j, const char *name, const char *correlation_id,
                       const char *symbol, int64_t ts_ms, const char *detail_json)
{
    if (!name || !*name || !id_ok(correlation_id))
        return BW_EINVAL;
    const char *strs[] = {name, correlation_id, symbol, detail_json};
    struct rec *r = rec_new(REC_CHECKPOINT, strs, BW_ARRAY_LEN(strs));
    if (!r)
        return BW_ENOMEM;
    size_t pos = 0;
    r->row.checkpoint = (struct store_checkpoint_row){
        .ts_ms = ts_ms,
        .recorded_ms = now_ms(),
        .name = rec_str(r, &pos, name),
        .correlation_id = rec_str(r, &pos, correlation_id),
        .symbol = rec_str(r, &pos, symbol),
        .detail_json = rec_str(r, &pos, detail_json),
    };
    return submit(j, r, NULL);
}

/* ---- the live bus ---- */

int journal_subscribe(struct journal *j, journal_sub_fn fn, void *ud)
{
    int rc;
    if (!fn)
        return BW_EINVAL;
    pthread_mutex_lock(&j->sublock);
    if (j->nsubs == j->cap_subs) {
        size_t ncap = j->cap_subs ? j->cap_subs * 2 : 8;
        struct sub *p = realloc(j->subs, ncap * sizeof(*p));
        if (!p) {
            rc = BW_ENOMEM;
            goto out;
        }
        j->subs = p;
        j->cap_subs = ncap;
    }
    j->next_sub_id = j->next_sub_id % INT_MAX + 1;
    rc = j->next_sub_id;
    j->subs[j->nsubs++] = (struct sub){rc, fn, ud};
out:
    pthread_mutex_unlock(&j->sublock);
    return rc;
}

void journal_unsubscribe(struct journal *j, int sub_id)
{
    pthread_mutex_lock(&j->sublock);
    for (size_t i = 0; i < j->nsubs; i++) {
        if (j->subs[i].id == sub_id) {
            memmove(&j->subs[i], &j->subs[i + 1], (j->nsubs - i - 1) * sizeof(*j->subs));
            j->nsubs--;
            break;
        }
    }
    pthread_mutex_unlock(&j->sublock);
}

/* ---- reads ---- */

/* A read's result: failures other than "not found" are logged with SQLite's words, which the
 * caller's code alone cannot carry. Called with rlock held. */
static int read_done(struct journal *j, int rc)
{
    if (rc && rc != BW_ENOENT && rc != BW_ENOMEM)
        log_warn("journal: read failed: %s", store_last_error(j->r));
    return rc;
}

static int session_from_row(struct journal_session *s, const struct store_session_row *r)
{
    *s = (struct journal_session){.started_ms = r->started_ms, .ended_ms = r->ended_ms};
    snprintf(s->id, sizeof(s->id), "%s", r->id ? r->id : "");
    snprintf(s->mode, sizeof(s->mode), "%s", r->mode ? r->mode : "");
    snprintf(s->status, sizeof(s->status), "%s", r->status ? r->status : "");
    s->config_json = xstrdup(r->config_json);
    s->summary_json = xstrdup(r->summary_json);
    if ((r->config_json && !s->config_json) || (r->summary_json && !s->summary_json)) {
        journal_session_fini(s);
        return BW_ENOMEM;
    }
    return BW_OK;
}

static int session_one(void *ud, const struct store_session_row *r)
{
    return session_from_row(ud, r);
}

static int session_exists(struct journal *j, const char *id)
{
    struct journal_session s;
    int rc = journal_session_get(j, id, &s);
    journal_session_fini(&s);
    return rc;
}

int journal_session_get(struct journal *j, const char *id, struct journal_session *out)
{
    *out = (struct journal_session){0};
    if (!id)
        return BW_EINVAL;
    pthread_mutex_lock(&j->rlock);
    int rc = read_done(j, store_session_get(j->r, id, session_one, out));
    pthread_mutex_unlock(&j->rlock);
    return rc;
}

struct session_list {
    struct journal_session *items;
    size_t n, cap;
};

/* Makes room for one more item of size sz in *items (capacity *cap, n in use). */
static int grow(void **items, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return BW_OK;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*items, ncap * sz);
    if (!p)
        return BW_ENOMEM;
    *items = p;
    *cap = ncap;
    return BW_OK;
}

static int session_append(void *ud, const struct store_session_row *r)
{
    struct session_list *l = ud;
    void *items = l->items;
    int rc = grow(&items, &l->cap, l->n, sizeof(*l->items));
    l->items = items;
    if (rc)
        return rc;
    rc = session_from_row(&l->items[l->n], r);
    if (!rc)
        l->n++;
    return rc;
}

int journal_sessions_list(struct journal *j, size_t limit, int running_only,
                          struct journal_session **out, size_t *n)
{
    struct session_list l = {0};
    pthread_mutex_lock(&j->rlock);
    int rc = read_done(j, store_sessions_list(j->r, limit, running_only, session_append, &l));
    pthread_mutex_unlock(&j->rlock);
    if (rc) {
        journal_sessions_free(l.items, l.n);
        l = (struct session_list){0};
    }
    *out = l.items;
    *n = l.n;
    return rc;
}

void journal_sessions_free(struct journal_session *s, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        journal_session_fini(&s[i]);
    free(s);
}

/* A list's strings live in a chain of chunks that never move, so rows can point into them
 * while the list grows; the chain is the list's storage. */
struct chunk {
    struct chunk *next;
    size_t used, cap;
    char data[];
};

static void pool_free(struct chunk *c)
{
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* Copies s into the pool: *out is the copy, or NULL for NULL. */
static int pool_dup(struct chunk **pool, const char *s, const char **out)
{
    *out = NULL;
    if (!s)
        return BW_OK;
    size_t n = strlen(s) + 1;
    struct chunk *c = *pool;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > POOL_CHUNK ? n : POOL_CHUNK;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return BW_ENOMEM;
        c->next = *pool;
        c->used = 0;
        c->cap = cap;
        *pool = c;
    }
    char *p = memcpy(c->data + c->used, s, n);
    c->used += n;
    *out = p;
    return BW_OK;
}

struct event_collect {
    struct journal_event_list *l;
    size_t cap;
    struct chunk *pool;
};

static int event_append(void *ud, const struct store_event_row *r)
{
    struct event_collect *c = ud;
    struct journal_event_list *l = c->l;
    void *items = l->items;
    int rc = grow(&items, &c->cap, l->n, sizeof(*l->items));
    l->items = items;
    if (rc)
        return rc;
    struct journal_event *ev = &l->items[l->n];
    int sev = severity_parse(r->severity);
    *ev = (struct journal_event){
        .id = r->id,
        .ts_ms = r->ts_ms,
        .severity = sev < 0 ? SEV_INFO : (enum severity)sev,
    };
    if ((rc = pool_dup(&c->pool, r->session_id, &ev->session_id)) ||
        (rc = pool_dup(&c->pool, r->type, &ev->type)) ||
        (rc = pool_dup(&c->pool, r->symbol, &ev->symbol)) ||
        (rc = pool_dup(&c->pool, r->correlation_id, &ev->correlation_id)) ||
        (rc = pool_dup(&c->pool, r->message, &ev->message)) ||
        (rc = pool_dup(&c->pool, r->data_json, &ev->data_json)))
        return rc;
    l->n++;
    return BW_OK;
}

static int in_list(const char *s, const char *const *v, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, v[i]) == 0)
            return 1;
    return 0;
}

int journal_event_matches(const struct journal_event_filter *f, const struct journal_event *ev)
{
    return ev->severity >= f->min_severity &&
           (!f->session_id || (ev->session_id && strcmp(ev->session_id, f->session_id) == 0)) &&
           (!f->correlation_id ||
            (ev->correlation_id && strcmp(ev->correlation_id, f->correlation_id) == 0)) &&
           (!f->ntypes || in_list(ev->type, f->types, f->ntypes)) &&
           (!f->nsymbols || in_list(ev->symbol, f->symbols, f->nsymbols));
}

int journal_events_query(struct journal *j, const struct journal_event_filter *f,
                         const struct journal_event_page *p, struct journal_event_list *out)
{
    *out = (struct journal_event_list){0};
    if ((unsigned)f->min_severity >= BW_ARRAY_LEN(severity_names))
        return BW_EINVAL;
    /* The store knows severities by name: the ones at or above the minimum. */
    size_t skip = (size_t)f->min_severity;
    struct store_event_query q = {
        .session_id = f->session_id,
        .correlation_id = f->correlation_id,
        .types = f->types,
        .ntypes = f->ntypes,
        .severities = skip ? severity_names + skip : NULL,
        .nseverities = skip ? BW_ARRAY_LEN(severity_names) - skip : 0,
        .symbols = f->symbols,
        .nsymbols = f->nsymbols,
        .after_id = p->after_id,
        .before_id = p->before_id,
        .newest_first = p->newest_first,
        .limit = p->limit,
    };
    struct event_collect c = {.l = out};
    pthread_mutex_lock(&j->rlock);
    int rc = read_done(j, store_events_query(j->r, &q, event_append, &c));
    pthread_mutex_unlock(&j->rlock);
    out->storage = c.pool;
    if (rc)
        journal_event_list_free(out);
    return rc;
}

int journal_events_list(struct journal *j, const char *session_id, int64_t after_id, size_t limit,
                        struct journal_event_list *out)
{
    struct journal_event_filter f = {.session_id = session_id};
    struct journal_event_page p = {.after_id = after_id, .limit = limit};
    return journal_events_query(j, &f, &p, out);
}

void journal_event_list_free(struct journal_event_list *l)
{
    if (!l)
        return;
    pool_free(l->storage);
    free(l->items);
    *l = (struct journal_event_list){0};
}

struct checkpoint_collect {
    struct journal_checkpoint_list *l;
    size_t cap;
    struct chunk *pool;
};

static int checkpoint_append(void *ud, const struct store_checkpoint_row *r)
{
    struct checkpoint_collect *c = ud;
    struct journal_checkpoint_list *l = c->l;
    void *items = l->items;
    int rc = grow(&items, &c->cap, l->n, sizeof(*l->items));
    l->items = items;
    if (rc)
        return rc;
    struct journal_checkpoint_row *cp = &l->items[l->n];
    *cp = (struct journal_checkpoint_row){.id = r->id, .ts_ms = r->ts_ms};
    if ((rc = pool_dup(&c->pool, r->session_id, &cp->session_id)) ||
        (rc = pool_dup(&c->pool, r->name, &cp->name)) ||
        (rc = pool_dup(&c->pool, r->correlation_id, &cp->correlation_id)) ||
        (rc = pool_dup(&c->pool, r->symbol, &cp->symbol)) ||
        (rc = pool_dup(&c->pool, r->detail_json, &cp->detail_json)))
        return rc;
    l->n++;
    return BW_OK;
}

int journal_checkpoints_list(struct journal *j, const char *session_id,
                             struct journal_checkpoint_list *out)
{
    *out = (struct journal_checkpoint_list){0};
    struct checkpoint_collect c = {.l = out};
    pthread_mutex_lock(&j->rlock);
    int rc = read_done(j, store_checkpoints_list(j->r, session_id, checkpoint_append, &c));
    pthread_mutex_unlock(&j->rlock);
    out->storage = c.pool;
    if (rc)
        journal_checkpoint_list_free(out);
    return rc;
}

struct checkpoint_each {
    journal_checkpoint_fn fn;
    void *ud;
    int rc; /* what fn returned, when it stopped the read */
};

static int checkpoint_pass(void *ud, const struct store_checkpoint_row *r)
{
    struct checkpoint_each *c = ud;
    struct journal_checkpoint_row cp = {.id = r->id,
                                        .ts_ms = r->ts_ms,
                                        .session_id = r->session_id,
                                        .name = r->name,
                                        .correlation_id = r->correlation_id,
                                        .symbol = r->symbol,
                                        .detail_json = r->detail_json};
    return c->rc = c->fn(c->ud, &cp);
}

int journal_checkpoints_each(struct journal *j, const char *session_id, int64_t after_id,
                             size_t limit, journal_checkpoint_fn fn, void *ud)
{
    struct checkpoint_each c = {fn, ud, BW_OK};
    pthread_mutex_lock(&j->rlock);
    int rc = store_checkpoints_after(j->r, session_id, after_id, limit, checkpoint_pass, &c);
    if (c.rc == BW_OK) /* fn's own code is not a failed read */
        rc = read_done(j, rc);
    pthread_mutex_unlock(&j->rlock);
    return rc;
}

void journal_checkpoint_list_free(struct journal_checkpoint_list *l)
{
    if (!l)
        return;
    pool_free(l->storage);
    free(l->items);
    *l = (struct journal_checkpoint_list){0};
}
