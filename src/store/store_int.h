/* store internals, shared by the store_*.c files and by nothing outside src/store/: the
 * connection, the prepared-statement cache, binding helpers and error mapping. A later table
 * family (tsdb chunks, alerts, silences) adds a store_<family>.c with its SQL as static
 * strings, calls store_stmt for each, and appends its schema to migrations[] in store.c. */
#ifndef BW_STORE_INT_H
#define BW_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

struct cached_stmt {
    const char *sql; /* identity: the address of a static string */
    sqlite3_stmt *stmt;
};

struct store {
    sqlite3 *db;
    char *path;
    int lock_fd; /* the data directory's lock (writer only; -1 for readers) */
    struct cached_stmt *stmts;
    size_t nstmts, cap_stmts;
    char err[512];
};

/* The prepared statement for sql, prepared on first use and cached for the connection's life;
 * sql must be a static string, since its address is the cache key. The statement comes back
 * reset with no bindings; the caller resets it when done so that no read stays open. */
int store_stmt(struct store *s, const char *sql, sqlite3_stmt **out);
/* Records "what: SQLite's message" in s->err and returns the BW_E* code for SQLite's rc. */
int store_fail(struct store *s, int rc, const char *what);
/* Steps a statement that returns no rows: 0 or store_fail(what). */
int store_step_done(struct store *s, sqlite3_stmt *st, const char *what);
/* Runs a statement that writes, after its parameters were bound (bind: SQLite's rc of the
 * binding), and resets it. BW_OK or store_fail(what). */
int store_run_write(struct store *s, sqlite3_stmt *st, int bind, const char *what);
/* Steps st to the end after its parameters were bound (bind as above), calling row(ctx, st)
 * for every row, and resets it. BW_OK, store_fail(what), or what row returned to stop. */
int store_each_row(struct store *s, sqlite3_stmt *st, int bind, const char *what,
                   int (*row)(void *ctx, sqlite3_stmt *st), void *ctx);

/* SQL's LIMIT for a size_t where 0 means none (-1). */
int64_t store_sql_limit(size_t limit);

/* Binds text (NULL: SQL NULL), or an integer where 0 means SQL NULL. SQLite's rc. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
int store_bind_int64_or_null(sqlite3_stmt *st, int i, int64_t v);
/* Column text, NULL for SQL NULL. */
const char *store_col_text(sqlite3_stmt *st, int i);

#endif
