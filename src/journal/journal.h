/* journal: what happened, durably — sessions (one per engine run), checkpoints (milestones of
 * a session and of each trade's path through the pipeline) and events (state changes, signals,
 * orders, fills, closes, risk triggers, errors), with a correlation id linking
 * signal → order → fill → close. Writes go to the store (SQLite in the data directory) and to
 * in-process subscribers (the live bus that the SSE endpoint reads).
 *
 * Thread-safe: the engine thread writes, HTTP threads read. Writes are queued and committed in
 * batches by the journal's own writer thread so the engine never waits on the disk;
 * journal_flush waits until everything queued so far is committed. Any thread may write; an
 * event's id is its place in the one queue. Reads see what is committed (within about 50 ms
 * of the write; call journal_flush first to read your own writes) and run on a connection of
 * their own, one read at a time, never waiting for the writer. A committed write survives the
 * process being killed. No call may overlap or follow journal_close. */
#ifndef BW_JOURNAL_H
#define BW_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct journal;
struct store;

enum severity { SEV_DEBUG, SEV_INFO, SEV_WARNING, SEV_ERROR, SEV_CRITICAL };
/* "debug", "info", "warning", "error", "critical"; severity_parse returns -1 if unknown. */
const char *severity_name(enum severity s);
int severity_parse(const char *s);

#define JOURNAL_ID_LEN   40 /* session ids and correlation ids fit in this, NUL included */
#define JOURNAL_WORD_LEN 16 /* a session's mode and status fit in this, NUL included */

/* An event time meaning "the session's time now": that of its latest event or checkpoint, the
 * wall clock before it has any. For events from outside the engine (alerts, notifications),
 * which have no market time of their own but belong among the session's. */
#define JOURNAL_SESSION_NOW INT64_MIN

/* An event as the engine reports it. Strings are copied; NULL means absent. */
struct journal_event {
    int64_t id;             /* assigned by the journal (monotonic, also the SSE id) */
    int64_t ts_ms;          /* event time (simulated market time), ms since epoch, or
                             * JOURNAL_SESSION_NOW */
    const char *session_id; /* set by journal_event from the current session if NULL */
    const char *type;       /* state_change, signal, order, fill, close, risk, error, … */
    enum severity severity;
    const char *symbol;         /* NULL when not about one symbol */
    const char *correlation_id; /* links signal → order → fill → close */
    const char *message;        /* one human-readable line */
    const char *data_json;      /* a JSON object with the details, or NULL */
};

struct journal_session {
    char id[JOURNAL_ID_LEN];
    char mode[JOURNAL_WORD_LEN];   /* paper, replay */
    char status[JOURNAL_WORD_LEN]; /* running, completed, stopped, halted, crashed */
    int64_t started_ms, ended_ms;  /* wall-clock; ended_ms 0 while running */
    char *config_json;             /* owned; free with journal_session_fini */
    char *summary_json;
};
void journal_session_fini(struct journal_session *s);

/* Opens the journal kept in st's database (store_open made its tables), on connections of its
 * own beside st; st must stay open until journal_close. Sessions left "running" by a process
 * that died are marked "crashed". BW_OK, or with the reason in d (the path and SQLite's
 * message): BW_EIO when the database cannot be used, BW_ENOMEM. */
int journal_open(const struct store *st, struct journal **out, struct diag *d);
/* Flushes the queue, stops the writer thread, closes its connections. NULL is a no-op. */
void journal_close(struct journal *j);

/* Starts a session and makes it the current one; its id (a random UUID) goes to id_out.
 * config_json describes the run (may be NULL). BW_EINVAL if mode is empty or does not fit in
 * JOURNAL_WORD_LEN; BW_EBUSY as for journal_event. */
int journal_session_begin(struct journal *j, const char *mode, const char *config_json,
                          char id_out[JOURNAL_ID_LEN]);
/* Ends a session with a final status ("completed", "stopped", "halted" or "crashed", else
 * BW_EINVAL) and a summary JSON object (may be NULL). Ending the current session makes none
 * current. Ending another one first waits for the queue to be committed, then checks that it
 * exists: BW_ENOENT if not. */
int journal_session_end(struct journal *j, const char *id, const char *status,
                        const char *summary_json);

/* Records an event (queued; returns its id, > 0, or a negative BW_E* code). Subscribers are
 * called after it is committed. ev->id is ignored; a session_id is not checked against the
 * sessions. BW_EINVAL without a type, with an unknown severity or with an id longer than
 * JOURNAL_ID_LEN allows; BW_EBUSY if the queue stayed full for 2 s (the writer is failing):
 * the event was not recorded. Events are never dropped silently. */
int64_t journal_event(struct journal *j, const struct journal_event *ev);

/* Records a checkpoint: a named milestone of the current session (none: NULL), optionally of
 * one trade (correlation_id). BW_EINVAL without a name; BW_EBUSY as for journal_event. */
int journal_checkpoint(struct journal *j, const char *name, const char *correlation_id,
                       const char *symbol, int64_t ts_ms, const char *detail_json);

/* Blocks until everything queued before the call is committed and handed to subscribers.
 * If a commit fails meanwhile, returns its code (BW_EIO, BW_EBUSY, BW_ENOSPC, …) at once; the
 * writer keeps retrying, so a later flush may succeed. */
int journal_flush(struct journal *j);
/* Whether the writer is failing now (1: its batch is being retried) or not (0); when it is,
 * why (the database file and the system's or SQLite's words) is copied into buf (len bytes,
 * NUL-terminated). */
int journal_error(struct journal *j, char *buf, size_t len);

/* Live bus: fn is called on the writer thread for every committed event, in id order, exactly
 * once. It must not block and must not call back into the journal (flush, subscribe and
 * unsubscribe would deadlock); ev and its strings are valid only during the call, so copy
 * what it needs. Returns a subscription id (> 0) or a negative code. Once journal_unsubscribe
 * returns, fn is not running and will not be called again; an unknown id is a no-op. */
typedef void (*journal_sub_fn)(void *ud, const struct journal_event *ev);
int journal_subscribe(struct journal *j, journal_sub_fn fn, void *ud);
void journal_unsubscribe(struct journal *j, int sub_id);

/* Reads. Sessions are listed newest first, only those still running when running_only, at
 * most limit (0: all); *out is an array the caller frees with the matching _free. Failures
 * are BW_ENOMEM or BW_EIO (logged with SQLite's message). journal_session_get: BW_ENOENT if
 * there is no such session; *out is zeroed then, and is the caller's to journal_session_fini
 * otherwise. */
int journal_sessions_list(struct journal *j, size_t limit, int running_only,
                          struct journal_session **out, size_t *n);
void journal_sessions_free(struct journal_session *s, size_t n);
int journal_session_get(struct journal *j, const char *id, struct journal_session *out);

/* Events with id > after_id (0: from the start) of a session (NULL: any), oldest first, at
 * most limit (0: all). Strings in the result are owned by it. */
struct journal_event_list {
    struct journal_event *items;
    size_t n;
    void *storage; /* private */
};
int journal_events_list(struct journal *j, const char *session_id, int64_t after_id, size_t limit,
                        struct journal_event_list *out);
void journal_event_list_free(struct journal_event_list *l);

/* Which events a reader wants; every field that is set narrows it. The strings are the
 * caller's. */
struct journal_event_filter {
    const char *session_id;     /* NULL: any */
    const char *correlation_id; /* NULL: any */
    const char *const *types;   /* ntypes of them; 0: any */
    size_t ntypes;
    const char *const *symbols; /* nsymbols of them; 0: any, events about no symbol included */
    size_t nsymbols;
    enum severity min_severity; /* SEV_DEBUG: any */
};
/* 1 if ev passes f, else 0: the same test journal_events_query makes in the store, for events
 * that come from the live bus. */
int journal_event_matches(const struct journal_event_filter *f, const struct journal_event *ev);
/* Which part of the matching events: after_id < id < before_id (before_id 0: no upper bound),
 * newest or oldest first, at most limit (0: all). */
struct journal_event_page {
    int64_t after_id, before_id;
    int newest_first;
    size_t limit;
};
/* The events passing f within p, in p's order, as journal_events_list. BW_EINVAL for a
 * min_severity that is not one. */
int journal_events_query(struct journal *j, const struct journal_event_filter *f,
                         const struct journal_event_page *p, struct journal_event_list *out);

struct journal_checkpoint_row {
    int64_t id, ts_ms;
    const char *session_id, *name, *correlation_id, *symbol, *detail_json;
};
struct journal_checkpoint_list {
    struct journal_checkpoint_row *items;
    size_t n;
    void *storage;
};
/* Checkpoints of a session (NULL: of all), oldest first: a session's progress reads forward. */
int journal_checkpoints_list(struct journal *j, const char *session_id,
                             struct journal_checkpoint_list *out);
void journal_checkpoint_list_free(struct journal_checkpoint_list *l);
/* Reads the checkpoints of a session (NULL: of all) with id > after_id, oldest first, at most
 * limit (0: all), handing each to fn without collecting them: the row and its strings are
 * valid during the call only. fn returns 0 to go on or a negative code to stop the read, which
 * then returns that code; it runs under the journal's read lock, so it must not call the
 * journal. BW_OK, fn's code, BW_ENOMEM or BW_EIO. */
typedef int (*journal_checkpoint_fn)(void *ud, const struct journal_checkpoint_row *r);
int journal_checkpoints_each(struct journal *j, const char *session_id, int64_t after_id,
                             size_t limit, journal_checkpoint_fn fn, void *ud);

#endif
