/* store_journal: the journal's tables — sessions, checkpoints, events — as named operations.
 *
 * Each operation is one cached statement (store_stmt); reads step it and hand each row to the
 * caller's callback through a per-table adapter, so one loop (each_row) serves every read.
 *
 * The design decision: event ids come from the caller (the journal assigns them when it
 * queues an event, so it can return them at once); the table only has to make sure an id is
 * never handed out twice, which AUTOINCREMENT's sqlite_sequence does even after deletions,
 * and store_events_next_id reads. */
#include <stdint.h>

#include "store/store_int.h"

static const char SQL_SESSION_INSERT[] =
    "INSERT INTO sessions (id, mode, config_json, status, started_ms, ended_ms, summary_json)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_SESSION_FINISH[] =
    "UPDATE sessions SET status = ?2, ended_ms = ?3, summary_json = ?4 WHERE id = ?1";
/* The last row by id of a session is found through the (session_id, id) indexes. */
static const char SQL_SESSIONS_CRASHED[] =
    "UPDATE sessions SET status = 'crashed', ended_ms = COALESCE(NULLIF(MAX("
    " IFNULL((SELECT recorded_ms FROM events WHERE session_id = sessions.id"
    "         ORDER BY id DESC LIMIT 1), 0),"
    " IFNULL((SELECT recorded_ms FROM checkpoints WHERE session_id = sessions.id"
    "         ORDER BY id DESC LIMIT 1), 0)), 0), ?1)"
    " WHERE status = 'running'";
static const char SQL_SESSIONS_LIST[] =
    "SELECT id, mode, config_json, status, started_ms, ended_ms, summary_json FROM sessions"
    " ORDER BY started_ms DESC, rowid DESC LIMIT ?1";
static const char SQL_SESSIONS_RUNNING[] =
    "SELECT id, mode, config_json, status, started_ms, ended_ms, summary_json FROM sessions"
    " WHERE status = 'running' ORDER BY started_ms DESC, rowid DESC LIMIT ?1";
static const char SQL_SESSION_GET[] =
    "SELECT id, mode, config_json, status, started_ms, ended_ms, summary_json FROM sessions"
    " WHERE id = ?1";

static const char SQL_CHECKPOINT_INSERT[] =
    "INSERT INTO checkpoints (session_id, name, correlation_id, symbol, ts_ms, detail_json,"
    " recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
/* A page of a session's checkpoints is a range of the checkpoints_session index. */
static const char SQL_CHECKPOINTS_SESSION[] =
    "SELECT id, session_id, name, correlation_id, symbol, ts_ms, detail_json, recorded_ms"
    " FROM checkpoints WHERE session_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";
static const char SQL_CHECKPOINTS_ALL[] =
    "SELECT id, session_id, name, correlation_id, symbol, ts_ms, detail_json, recorded_ms"
    " FROM checkpoints WHERE id > ?2 ORDER BY id LIMIT ?3";

static const char SQL_EVENT_INSERT[] =
    "INSERT INTO events (id, session_id, ts_ms, type, severity, symbol, correlation_id,"
    " message, data_json, recorded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/* A filtered read is one of a few statements that differ only in the index that drives them
 * (the WHERE clause's first term) and the order. Every other condition is written with a
 * unary + so that SQLite never drives the read from it instead: ?1 the session, ?2 the
 * correlation id, ?3 the one type an index serves, ?4 ?5 ?6 JSON arrays of the types,
 * severities and symbols accepted (NULL: any), ?7 < id < ?8, ?9 the limit. */
#define EVENT_SELECT                                                                               \
    "SELECT id, session_id, ts_ms, type, severity, symbol, correlation_id, message, data_json,"    \
    " recorded_ms FROM events WHERE "
#define EVENT_FILTERS                                                                              \
    " AND id > ?7 AND id < ?8"                                                                     \
    " AND (?1 IS NULL OR +session_id = ?1) AND (?2 IS NULL OR +correlation_id = ?2)"               \
    " AND (?4 IS NULL OR +type IN (SELECT value FROM json_each(?4)))"                              \
    " AND (?5 IS NULL OR +severity IN (SELECT value FROM json_each(?5)))"                          \
    " AND (?6 IS NULL OR +symbol IN (SELECT value FROM json_each(?6)))"
#define EVENT_QUERY(driver)                                                                        \
    {                                                                                              \
        EVENT_SELECT driver EVENT_FILTERS " ORDER BY id LIMIT ?9",                                 \
            EVENT_SELECT driver EVENT_FILTERS " ORDER BY id DESC LIMIT ?9"                         \
    }

/* The drivers, most selective first: one trade (events_correlation), one type of one session
 * (events_session_type), one session (events_session), one type (events_type), all (rowid). */
enum driver { BY_CORRELATION, BY_SESSION_TYPE, BY_SESSION, BY_TYPE, BY_ID, DRIVERS };
static const char *const SQL_EVENTS_QUERY[DRIVERS][2] = {
    [BY_CORRELATION] = EVENT_QUERY("correlation_id = ?2"),
    [BY_SESSION_TYPE] = EVENT_QUERY("session_id = ?1 AND type = ?3"),
    [BY_SESSION] = EVENT_QUERY("session_id = ?1"),
    [BY_TYPE] = EVENT_QUERY("type = ?3"),
    [BY_ID] = EVENT_QUERY("1"),
};
static const char SQL_EVENTS_NEXT_ID[] =
    "SELECT MAX(IFNULL((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),"
    " IFNULL((SELECT MAX(id) FROM events), 0)) + 1";

/* Steps st to the end, calling row(ctx, st) for every row; *n counts them. */
static int each_row(struct store *s, sqlite3_stmt *st, const char *what,
                    int (*row)(void *ctx, sqlite3_stmt *st), void *ctx, size_t *n)
{
    int rc;
    *n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int cb = row(ctx, st);
        if (cb)
            return cb;
        (*n)++;
    }
    return rc == SQLITE_DONE ? BW_OK : store_fail(s, rc, what);
}

int store_session_insert(struct store *s, const struct store_session_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SESSION_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = store_bind_text(st, 1, r->id)) || (b = store_bind_text(st, 2, r->mode)) ||
           (b = store_bind_text(st, 3, r->config_json)) ||
           (b = store_bind_text(st, 4, r->status)) ||
           (b = sqlite3_bind_int64(st, 5, r->started_ms)) ||
           (b = store_bind_int64_or_null(st, 6, r->ended_ms)) ||
           (b = store_bind_text(st, 7, r->summary_json)));
    return store_run_write(s, st, b, "insert session");
}

int store_session_finish(struct store *s, const struct store_session_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SESSION_FINISH, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = store_bind_text(st, 1, r->id)) || (b = store_bind_text(st, 2, r->status)) ||
           (b = store_bind_int64_or_null(st, 3, r->ended_ms)) ||
           (b = store_bind_text(st, 4, r->summary_json)));
    rc = store_run_write(s, st, b, "finish session");
    return rc == BW_OK && sqlite3_changes(s->db) == 0 ? BW_ENOENT : rc;
}

int store_sessions_mark_crashed(struct store *s, int64_t now_ms, int *n)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SESSIONS_CRASHED, &st);
    *n = 0;
    if (rc)
        return rc;
    rc = store_run_write(s, st, sqlite3_bind_int64(st, 1, now_ms), "mark crashed sessions");
    if (rc == BW_OK)
        *n = sqlite3_changes(s->db);
    return rc;
}

struct session_ctx {
    store_session_fn fn;
    void *ud;
};

static int session_row(void *ctx, sqlite3_stmt *st)
{
    struct session_ctx *c = ctx;
    struct store_session_row r = {
        .id = store_col_text(st, 0),
        .mode = store_col_text(st, 1),
        .config_json = store_col_text(st, 2),
        .status = store_col_text(st, 3),
        .started_ms = sqlite3_column_int64(st, 4),
        .ended_ms = sqlite3_column_int64(st, 5),
        .summary_json = store_col_text(st, 6),
    };
    return c->fn(c->ud, &r);
}

int store_sessions_list(struct store *s, size_t limit, int running_only, store_session_fn fn,
                        void *ud)
{
    sqlite3_stmt *st;
    struct session_ctx c = {fn, ud};
    size_t n;
    int rc = store_stmt(s, running_only ? SQL_SESSIONS_RUNNING : SQL_SESSIONS_LIST, &st);
    if (rc)
        return rc;
    rc = sqlite3_bind_int64(st, 1, store_sql_limit(limit));
    rc = rc == SQLITE_OK ? each_row(s, st, "list sessions", session_row, &c, &n)
                         : store_fail(s, rc, "list sessions");
    sqlite3_reset(st);
    return rc;
}

int store_session_get(struct store *s, const char *id, store_session_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct session_ctx c = {fn, ud};
    size_t n = 0;
    int rc = store_stmt(s, SQL_SESSION_GET, &st);
    if (rc)
        return rc;
    rc = store_bind_text(st, 1, id);
    rc = rc == SQLITE_OK ? each_row(s, st, "get session", session_row, &c, &n)
                         : store_fail(s, rc, "get session");
    sqlite3_reset(st);
    return rc == BW_OK && n == 0 ? BW_ENOENT : rc;
}

int store_checkpoint_insert(struct store *s, const struct store_checkpoint_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_CHECKPOINT_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = store_bind_text(st, 1, r->session_id)) || (b = store_bind_text(st, 2, r->name)) ||
           (b = store_bind_text(st, 3, r->correlation_id)) ||
           (b = store_bind_text(st, 4, r->symbol)) || (b = sqlite3_bind_int64(st, 5, r->ts_ms)) ||
           (b = store_bind_text(st, 6, r->detail_json)) ||
           (b = sqlite3_bind_int64(st, 7, r->recorded_ms)));
    return store_run_write(s, st, b, "insert checkpoint");
}

struct checkpoint_ctx {
    store_checkpoint_fn fn;
    void *ud;
};

static int checkpoint_row(void *ctx, sqlite3_stmt *st)
{
    struct checkpoint_ctx *c = ctx;
    struct store_checkpoint_row r = {
        .id = sqlite3_column_int64(st, 0),
        .session_id = store_col_text(st, 1),
        .name = store_col_text(st, 2),
        .correlation_id = store_col_text(st, 3),
        .symbol = store_col_text(st, 4),
        .ts_ms = sqlite3_column_int64(st, 5),
        .detail_json = store_col_text(st, 6),
        .recorded_ms = sqlite3_column_int64(st, 7),
    };
    return c->fn(c->ud, &r);
}

int store_checkpoints_after(struct store *s, const char *session_id, int64_t after_id, size_t limit,
                            store_checkpoint_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct checkpoint_ctx c = {fn, ud};
    size_t n;
    int rc = store_stmt(s, session_id ? SQL_CHECKPOINTS_SESSION : SQL_CHECKPOINTS_ALL, &st);
    if (rc)
        return rc;
    (void)((rc = session_id ? store_bind_text(st, 1, session_id) : SQLITE_OK) ||
           (rc = sqlite3_bind_int64(st, 2, after_id)) ||
           (rc = sqlite3_bind_int64(st, 3, store_sql_limit(limit))));
    rc = rc == SQLITE_OK ? each_row(s, st, "list checkpoints", checkpoint_row, &c, &n)
                         : store_fail(s, rc, "list checkpoints");
    sqlite3_reset(st);
    return rc;
}

int store_checkpoints_list(struct store *s, const char *session_id, store_checkpoint_fn fn,
                           void *ud)
{
    return store_checkpoints_after(s, session_id, 0, 0, fn, ud);
}

int store_event_insert(struct store *s, const struct store_event_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_EVENT_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, r->id)) || (b = store_bind_text(st, 2, r->session_id)) ||
           (b = sqlite3_bind_int64(st, 3, r->ts_ms)) || (b = store_bind_text(st, 4, r->type)) ||
           (b = store_bind_text(st, 5, r->severity)) || (b = store_bind_text(st, 6, r->symbol)) ||
           (b = store_bind_text(st, 7, r->correlation_id)) ||
           (b = store_bind_text(st, 8, r->message)) || (b = store_bind_text(st, 9, r->data_json)) ||
           (b = sqlite3_bind_int64(st, 10, r->recorded_ms)));
    return store_run_write(s, st, b, "insert event");
}

struct event_ctx {
    store_event_fn fn;
    void *ud;
};

static int event_row(void *ctx, sqlite3_stmt *st)
{
    struct event_ctx *c = ctx;
    struct store_event_row r = {
        .id = sqlite3_column_int64(st, 0),
        .session_id = store_col_text(st, 1),
        .ts_ms = sqlite3_column_int64(st, 2),
        .type = store_col_text(st, 3),
        .severity = store_col_text(st, 4),
        .symbol = store_col_text(st, 5),
        .correlation_id = store_col_text(st, 6),
        .message = store_col_text(st, 7),
        .data_json = store_col_text(st, 8),
        .recorded_ms = sqlite3_column_int64(st, 9),
    };
    return c->fn(c->ud, &r);
}

/* Appends v[0..n) to b as a JSON array of strings, '"', '\\' and control characters escaped. */
static int json_strings(struct buf *b, const char *const *v, size_t n)
{
    int rc = buf_putc(b, '[');
    for (size_t i = 0; rc == BW_OK && i < n; i++) {
        rc = buf_puts(b, i ? ",\"" : "\"");
        for (const unsigned char *p = (const unsigned char *)v[i]; rc == BW_OK && *p; p++)
            rc = *p == '"' || *p == '\\' ? buf_printf(b, "\\%c", *p)
                 : *p < 0x20             ? buf_printf(b, "\\u%04x", *p)
                                         : buf_putc(b, (char)*p);
        if (rc == BW_OK)
            rc = buf_putc(b, '"');
    }
    return rc == BW_OK ? buf_putc(b, ']') : rc;
}

/* Binds a list filter: NULL when the list is empty (anything passes), else its JSON array. */
static int bind_list(sqlite3_stmt *st, int i, const char *const *v, size_t n, struct buf *b)
{
    if (n == 0)
        return sqlite3_bind_null(st, i);
    buf_reset(b);
    if (json_strings(b, v, n) != BW_OK)
        return SQLITE_NOMEM;
    return sqlite3_bind_text(st, i, b->data, (int)b->len, SQLITE_TRANSIENT);
}

int store_events_query(struct store *s, const struct store_event_query *q, store_event_fn fn,
                       void *ud)
{
    sqlite3_stmt *st;
    struct event_ctx c = {fn, ud};
    struct buf list;
    size_t n;
    const char *type = q->ntypes == 1 ? q->types[0] : NULL;
    enum driver d = q->correlation_id ? BY_CORRELATION
                    : q->session_id   ? (type ? BY_SESSION_TYPE : BY_SESSION)
                    : type            ? BY_TYPE
                                      : BY_ID;
    int rc = store_stmt(s, SQL_EVENTS_QUERY[d][q->newest_first != 0], &st);
    if (rc)
        return rc;
    buf_init(&list, 0);
    (void)((rc = store_bind_text(st, 1, q->session_id)) ||
           (rc = store_bind_text(st, 2, q->correlation_id)) ||
           (rc = store_bind_text(st, 3, type)) ||
           (rc = bind_list(st, 4, q->types, q->ntypes, &list)) ||
           (rc = bind_list(st, 5, q->severities, q->nseverities, &list)) ||
           (rc = bind_list(st, 6, q->symbols, q->nsymbols, &list)) ||
           (rc = sqlite3_bind_int64(st, 7, q->after_id)) ||
           (rc = sqlite3_bind_int64(st, 8, q->before_id > 0 ? q->before_id : INT64_MAX)) ||
           (rc = sqlite3_bind_int64(st, 9, store_sql_limit(q->limit))));
    buf_fini(&list);
    rc = rc == SQLITE_OK ? each_row(s, st, "list events", event_row, &c, &n)
                         : store_fail(s, rc, "list events");
    sqlite3_reset(st);
    return rc;
}

int store_events_after(struct store *s, const char *session_id, int64_t after_id, size_t limit,
                       store_event_fn fn, void *ud)
{
    struct store_event_query q = {.session_id = session_id, .after_id = after_id, .limit = limit};
    return store_events_query(s, &q, fn, ud);
}

int store_events_next_id(struct store *s, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_EVENTS_NEXT_ID, &st);
    if (rc)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = BW_OK;
    } else {
        rc = store_fail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "next event id");
    }
    sqlite3_reset(st);
    return rc;
}
