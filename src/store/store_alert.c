/* store_alert: the notification side of alerting's tables — the history of transitions,
 * notifications, acknowledgments and silences; the acknowledgments; the silences; the
 * notification log — as named operations, each one cached statement.
 *
 * Main data structure: none of its own; rows travel as the store_alert_*_row views of
 * store.h, handed to callbacks through one adapter per table.
 *
 * The design decision: the notifier keeps the live state in memory and writes through to
 * these tables; they are read back only when a notifier starts (acks, silences, the log) and
 * when the API pages the history. So reads are whole-table scans except the history, which is
 * paged by id (optionally within one fingerprint) through its indexes. */
#include <stdint.h>

#include "store/store_int.h"

static const char SQL_HISTORY_INSERT[] =
    "INSERT INTO alert_history (at, fingerprint, kind, alertname, labels_json, from_state,"
    " to_state, receiver, outcome, who) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
#define HISTORY_SELECT                                                                             \
    "SELECT id, at, fingerprint, kind, alertname, labels_json, from_state, to_state, receiver,"    \
    " outcome, who FROM alert_history WHERE "
static const char SQL_HISTORY_ALL[] = HISTORY_SELECT "id < ?1 ORDER BY id DESC LIMIT ?3";
static const char SQL_HISTORY_FP[] =
    HISTORY_SELECT "fingerprint = ?2 AND id < ?1 ORDER BY id DESC LIMIT ?3";
/* Older than ?1, or not among the ?2 newest (the subquery is NULL when there are fewer). */
static const char SQL_HISTORY_PRUNE[] =
    "DELETE FROM alert_history WHERE at < ?1 OR id <= (SELECT id FROM alert_history"
    " ORDER BY id DESC LIMIT 1 OFFSET ?2)";

static const char SQL_ACK_PUT[] = "INSERT OR REPLACE INTO alert_acks (fingerprint, active_at, at,"
                                  " who, comment) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_ACK_DELETE[] = "DELETE FROM alert_acks WHERE fingerprint = ?1";
static const char SQL_ACKS_EACH[] =
    "SELECT fingerprint, active_at, at, who, comment FROM alert_acks ORDER BY at";

static const char SQL_SILENCE_PUT[] =
    "INSERT OR REPLACE INTO alert_silences (id, matchers_json, starts_at, ends_at, updated_at,"
    " created_by, comment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_SILENCES_EACH[] =
    "SELECT id, matchers_json, starts_at, ends_at, updated_at, created_by, comment"
    " FROM alert_silences ORDER BY updated_at, id";
static const char SQL_SILENCES_DROP[] = "DELETE FROM alert_silences WHERE ends_at < ?1";

static const char SQL_NFLOG_PUT[] =
    "INSERT OR REPLACE INTO alert_nflog (key, sent_at, firing, resolved) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_NFLOG_DELETE[] = "DELETE FROM alert_nflog WHERE key = ?1";
static const char SQL_NFLOG_EACH[] = "SELECT key, sent_at, firing, resolved FROM alert_nflog";

/* A delete: BW_ENOENT when it removed nothing. */
static int run_delete(struct store *s, sqlite3_stmt *st, int bind, const char *what)
{
    int rc = store_run_write(s, st, bind, what);
    return rc == BW_OK && sqlite3_changes(s->db) == 0 ? BW_ENOENT : rc;
}

/* ---- history ---- */

int store_alert_history_insert(struct store *s, const struct store_alert_history_row *r,
                               int64_t *id)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_HISTORY_INSERT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, r->at)) ||
           (b = sqlite3_bind_int64(st, 2, (int64_t)r->fingerprint)) ||
           (b = store_bind_text(st, 3, r->kind)) || (b = store_bind_text(st, 4, r->alertname)) ||
           (b = store_bind_text(st, 5, r->labels_json)) || (b = store_bind_text(st, 6, r->from)) ||
           (b = store_bind_text(st, 7, r->to)) || (b = store_bind_text(st, 8, r->receiver)) ||
           (b = store_bind_text(st, 9, r->outcome)) || (b = store_bind_text(st, 10, r->who)));
    rc = store_run_write(s, st, b, "insert alert history");
    if (rc == BW_OK && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

struct history_ctx {
    store_alert_history_fn fn;
    void *ud;
};

static int history_row(void *ctx, sqlite3_stmt *st)
{
    struct history_ctx *c = ctx;
    struct store_alert_history_row r = {
        .id = sqlite3_column_int64(st, 0),
        .at = sqlite3_column_int64(st, 1),
        .fingerprint = (uint64_t)sqlite3_column_int64(st, 2),
        .kind = store_col_text(st, 3),
        .alertname = store_col_text(st, 4),
        .labels_json = store_col_text(st, 5),
        .from = store_col_text(st, 6),
        .to = store_col_text(st, 7),
        .receiver = store_col_text(st, 8),
        .outcome = store_col_text(st, 9),
        .who = store_col_text(st, 10),
    };
    return c->fn(c->ud, &r);
}

int store_alert_history_list(struct store *s, int64_t before, uint64_t fp, size_t limit,
                             store_alert_history_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct history_ctx c = {fn, ud};
    int rc = store_stmt(s, fp ? SQL_HISTORY_FP : SQL_HISTORY_ALL, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, before > 0 ? before : INT64_MAX)) ||
           (b = fp ? sqlite3_bind_int64(st, 2, (int64_t)fp) : SQLITE_OK) ||
           (b = sqlite3_bind_int64(st, 3, store_sql_limit(limit))));
    return store_each_row(s, st, b, "list alert history", history_row, &c);
}

int store_alert_history_prune(struct store *s, int64_t before, size_t keep, int *n)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_HISTORY_PRUNE, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, before)) ||
           (b = sqlite3_bind_int64(st, 2, keep > INT64_MAX ? INT64_MAX : (int64_t)keep)));
    rc = store_run_write(s, st, b, "prune alert history");
    if (n)
        *n = rc == BW_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

/* ---- acknowledgments ---- */

int store_alert_ack_put(struct store *s, const struct store_alert_ack_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_ACK_PUT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = sqlite3_bind_int64(st, 1, (int64_t)r->fingerprint)) ||
           (b = sqlite3_bind_int64(st, 2, r->active_at)) ||
           (b = sqlite3_bind_int64(st, 3, r->at)) || (b = store_bind_text(st, 4, r->who)) ||
           (b = store_bind_text(st, 5, r->comment)));
    return store_run_write(s, st, b, "put alert ack");
}

int store_alert_ack_delete(struct store *s, uint64_t fp)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_ACK_DELETE, &st);
    return rc ? rc : run_delete(s, st, sqlite3_bind_int64(st, 1, (int64_t)fp), "delete alert ack");
}

struct ack_ctx {
    store_alert_ack_fn fn;
    void *ud;
};

static int ack_row(void *ctx, sqlite3_stmt *st)
{
    struct ack_ctx *c = ctx;
    struct store_alert_ack_row r = {
        .fingerprint = (uint64_t)sqlite3_column_int64(st, 0),
        .active_at = sqlite3_column_int64(st, 1),
        .at = sqlite3_column_int64(st, 2),
        .who = store_col_text(st, 3),
        .comment = store_col_text(st, 4),
    };
    return c->fn(c->ud, &r);
}

int store_alert_acks_each(struct store *s, store_alert_ack_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct ack_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_ACKS_EACH, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "list alert acks", ack_row, &c);
}

/* ---- silences ---- */

int store_alert_silence_put(struct store *s, const struct store_alert_silence_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SILENCE_PUT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = store_bind_text(st, 1, r->id)) || (b = store_bind_text(st, 2, r->matchers_json)) ||
           (b = sqlite3_bind_int64(st, 3, r->starts_at)) ||
           (b = sqlite3_bind_int64(st, 4, r->ends_at)) ||
           (b = sqlite3_bind_int64(st, 5, r->updated_at)) ||
           (b = store_bind_text(st, 6, r->created_by)) || (b = store_bind_text(st, 7, r->comment)));
    return store_run_write(s, st, b, "put silence");
}

struct silence_ctx {
    store_alert_silence_fn fn;
    void *ud;
};

static int silence_row(void *ctx, sqlite3_stmt *st)
{
    struct silence_ctx *c = ctx;
    struct store_alert_silence_row r = {
        .id = store_col_text(st, 0),
        .matchers_json = store_col_text(st, 1),
        .starts_at = sqlite3_column_int64(st, 2),
        .ends_at = sqlite3_column_int64(st, 3),
        .updated_at = sqlite3_column_int64(st, 4),
        .created_by = store_col_text(st, 5),
        .comment = store_col_text(st, 6),
    };
    return c->fn(c->ud, &r);
}

int store_alert_silences_each(struct store *s, store_alert_silence_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct silence_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_SILENCES_EACH, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "list silences", silence_row, &c);
}

int store_alert_silences_drop(struct store *s, int64_t before, int *n)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_SILENCES_DROP, &st);
    if (rc)
        return rc;
    rc = store_run_write(s, st, sqlite3_bind_int64(st, 1, before), "drop silences");
    if (n)
        *n = rc == BW_OK ? sqlite3_changes(s->db) : 0;
    return rc;
}

/* ---- the notification log ---- */

int store_alert_nflog_put(struct store *s, const struct store_alert_nflog_row *r)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_NFLOG_PUT, &st);
    if (rc)
        return rc;
    int b;
    (void)((b = store_bind_text(st, 1, r->key)) || (b = sqlite3_bind_int64(st, 2, r->sent_at)) ||
           (b = store_bind_text(st, 3, r->firing ? r->firing : "")) ||
           (b = store_bind_text(st, 4, r->resolved ? r->resolved : "")));
    return store_run_write(s, st, b, "put notification log");
}

int store_alert_nflog_delete(struct store *s, const char *key)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, SQL_NFLOG_DELETE, &st);
    return rc ? rc
              : run_delete(s, st, store_bind_text(st, 1, key), "delete notification log entry");
}

struct nflog_ctx {
    store_alert_nflog_fn fn;
    void *ud;
};

static int nflog_row(void *ctx, sqlite3_stmt *st)
{
    struct nflog_ctx *c = ctx;
    struct store_alert_nflog_row r = {
        .key = store_col_text(st, 0),
        .sent_at = sqlite3_column_int64(st, 1),
        .firing = store_col_text(st, 2),
        .resolved = store_col_text(st, 3),
    };
    return c->fn(c->ud, &r);
}

int store_alert_nflog_each(struct store *s, store_alert_nflog_fn fn, void *ud)
{
    sqlite3_stmt *st;
    struct nflog_ctx c = {fn, ud};
    int rc = store_stmt(s, SQL_NFLOG_EACH, &st);
    return rc ? rc : store_each_row(s, st, SQLITE_OK, "list notification log", nflog_row, &c);
}
