/* store: the connection to breakwatch.db — opening (directory, file, pragmas), the schema
 * migrations, the prepared-statement cache and transactions.
 *
 * Main data structure: struct store (store_int.h), one SQLite connection plus its cache of
 * prepared statements keyed by the address of their static SQL text.
 *
 * The design decision: the schema is an append-only list of migration steps, migrations[i]
 * taking PRAGMA user_version from i to i + 1, each in a transaction of its own that re-reads
 * the version under the write lock, so a crash mid-upgrade or two processes opening at once
 * leave the database at a whole version. And an open that fails removes what it created (the
 * directories, the database file and its -wal/-shm), so a bad --data-dir leaves nothing
 * behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_int.h"

#define BUSY_TIMEOUT_MS 5000

/* The schema. Append a step for every change; never edit one that has shipped. */
static const char *const migrations[] = {
    /* 1: the journal. No foreign keys on session_id: the journal is an append-only log and an
     * event is never refused for what it refers to; the indexes serve per-session paging by id
     * and lookups of one trade's path by correlation id. events.id is AUTOINCREMENT so ids are
     * never reused, even after old rows are deleted: they are SSE cursors. */
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  config_json TEXT,"
    "  status TEXT NOT NULL,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER,"
    "  summary_json TEXT);"
    "CREATE INDEX sessions_started ON sessions(started_ms);"
    "CREATE INDEX sessions_status ON sessions(status);"
    "CREATE TABLE checkpoints ("
    "  id INTEGER PRIMARY KEY,"
    "  session_id TEXT,"
    "  name TEXT NOT NULL,"
    "  correlation_id TEXT,"
    "  symbol TEXT,"
    "  ts_ms INTEGER NOT NULL,"
    "  detail_json TEXT,"
    "  recorded_ms INTEGER NOT NULL);"
    "CREATE INDEX checkpoints_session ON checkpoints(session_id, id);"
    "CREATE INDEX checkpoints_correlation ON checkpoints(correlation_id);"
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  session_id TEXT,"
    "  ts_ms INTEGER NOT NULL,"
    "  type TEXT NOT NULL,"
    "  severity TEXT NOT NULL,"
    "  symbol TEXT,"
    "  correlation_id TEXT,"
    "  message TEXT,"
    "  data_json TEXT,"
    "  recorded_ms INTEGER NOT NULL);"
    "CREATE INDEX events_session ON events(session_id, id);"
    "CREATE INDEX events_correlation ON events(correlation_id);",
    /* 2: the tsdb (store_tsdb.c). Series ids are AUTOINCREMENT so that an id is never given
     * to another series, even after retention deleted one: write-ahead records name series
     * by id. Chunks are keyed by (series, first timestamp) without a rowid, which keeps them
     * clustered by series for reads and costs no second index; n is the chunk's sample count.
     * A write-ahead record is one row per commit (seq ascending). */
    "CREATE TABLE tsdb_series ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  labels BLOB NOT NULL);"
    "CREATE TABLE tsdb_chunks ("
    "  series_id INTEGER NOT NULL,"
    "  mint INTEGER NOT NULL,"
    "  maxt INTEGER NOT NULL,"
    "  n INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  PRIMARY KEY (series_id, mint)) WITHOUT ROWID;"
    "CREATE TABLE tsdb_wal ("
    "  seq INTEGER PRIMARY KEY,"
    "  data BLOB NOT NULL);"
    "CREATE TABLE tsdb_metadata ("
    "  family TEXT PRIMARY KEY NOT NULL,"
    "  type TEXT NOT NULL,"
    "  help TEXT NOT NULL,"
    "  unit TEXT NOT NULL) WITHOUT ROWID;",
    /* 3: filtered event reads (store_events_query, the monitoring API's event list and state
     * timeline): one type's events by id, across sessions and within one, without walking
     * every other event. (Parenthesized: two literals that clang would take for a lost comma.) */
    ("CREATE INDEX events_type ON events(type, id);"
     "CREATE INDEX events_session_type ON events(session_id, type, id);"),
    /* 4: the notification side of alerting (store_alert.c). One history table for every
     * kind of row (transitions, notifications, acks, silences), paged newest first by id and
     * by alert through (fingerprint, id); fingerprints are the alerts' 64-bit hashes stored as
     * signed integers. An acknowledgment belongs to one episode of an alert (active_at); the
     * notification log keeps, per group and target, when it was last notified and the
     * fingerprints it carried, so a restart does not notify again at once. */
    "CREATE TABLE alert_history ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  fingerprint INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  alertname TEXT,"
    "  labels_json TEXT,"
    "  from_state TEXT,"
    "  to_state TEXT,"
    "  receiver TEXT,"
    "  outcome TEXT,"
    "  who TEXT);"
    "CREATE INDEX alert_history_fingerprint ON alert_history(fingerprint, id);"
    "CREATE TABLE alert_acks ("
    "  fingerprint INTEGER PRIMARY KEY NOT NULL,"
    "  active_at INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  who TEXT NOT NULL,"
    "  comment TEXT NOT NULL);"
    "CREATE TABLE alert_silences ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  matchers_json TEXT NOT NULL,"
    "  starts_at INTEGER NOT NULL,"
    "  ends_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  comment TEXT NOT NULL);"
    "CREATE TABLE alert_nflog ("
    "  key TEXT PRIMARY KEY NOT NULL,"
    "  sent_at INTEGER NOT NULL,"
    "  firing TEXT NOT NULL,"
    "  resolved TEXT NOT NULL) WITHOUT ROWID;",
};

static const char SQL_BEGIN[] = "BEGIN IMMEDIATE";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static int errno_code(int err)
{
    return err == EACCES || err == EPERM || err == EROFS ? BW_EACCES : BW_EIO;
}

static int sqlite_code(sqlite3 *db, int rc)
{
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return BW_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return BW_EBUSY;
    case SQLITE_FULL:
        return BW_ENOSPC;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
        return BW_EACCES;
    case SQLITE_CANTOPEN:
        return db ? errno_code(sqlite3_system_errno(db)) : BW_EIO;
    default:
        return BW_EIO;
    }
}

int store_fail(struct store *s, int rc, const char *what)
{
    const char *msg =
        sqlite3_errcode(s->db) != SQLITE_OK ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    int err = sqlite3_system_errno(s->db), prim = rc & 0xff;
    /* The system's words name the cause that SQLite's "disk I/O error" hides (Read-only file
     * system, Input/output error, …). A full disk needs none: SQLite says so itself and keeps
     * no errno for it. */
    if (err && (prim == SQLITE_CANTOPEN || prim == SQLITE_IOERR))
        snprintf(s->err, sizeof(s->err), "%s: %s (%s)", what, msg, strerror(err));
    else
        snprintf(s->err, sizeof(s->err), "%s: %s", what, msg);
    return sqlite_code(s->db, rc);
}

/* Open-time failures: s->err, prefixed with the database path, into d. */
static int open_diag(struct store *s, struct diag *d, int code)
{
    return diag_set(d, code, "database %s: %s", s->path, s->err);
}

static int open_fail(struct store *s, struct diag *d, int rc, const char *what)
{
    return open_diag(s, d, store_fail(s, rc, what));
}

int store_step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    return rc == SQLITE_DONE ? BW_OK : store_fail(s, rc, what);
}

int store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
    return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

int store_bind_int64_or_null(sqlite3_stmt *st, int i, int64_t v)
{
    return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

const char *store_col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* A linear scan: a connection holds tens of statements, and a pointer compare per entry is
 * cheaper than hashing the text. */
int store_stmt(struct store *s, const char *sql, sqlite3_stmt **out)
{
    for (size_t i = 0; i < s->nstmts; i++) {
        if (s->stmts[i].sql == sql) {
            /* Bindings are SQLITE_STATIC pointers into the last caller's strings: drop them. */
            sqlite3_clear_bindings(s->stmts[i].stmt);
            *out = s->stmts[i].stmt;
            return BW_OK;
        }
    }
    if (s->nstmts == s->cap_stmts) {
        size_t ncap = s->cap_stmts ? s->cap_stmts * 2 : 16;
        struct cached_stmt *p = realloc(s->stmts, ncap * sizeof(*p));
        if (!p) {
            snprintf(s->err, sizeof(s->err), "prepare: out of memory");
            return BW_ENOMEM;
        }
        s->stmts = p;
        s->cap_stmts = ncap;
    }
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return store_fail(s, rc, "prepare");
    s->stmts[s->nstmts++] = (struct cached_stmt){sql, st};
    *out = st;
    return BW_OK;
}

/* Runs a statement that is not worth caching (open-time pragmas, migrations). */
static int exec(struct store *s, const char *sql, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? BW_OK : store_fail(s, rc, what);
}

/* The first column of the first row of a pragma, as text, into out. */
static int pragma(struct store *s, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(s, rc, sql);
        goto out;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = store_fail(s, rc == SQLITE_DONE ? SQLITE_ERROR : rc, sql);
        goto out;
    }
    const char *v = store_col_text(st, 0);
    snprintf(out, outlen, "%s", v ? v : "");
    rc = BW_OK;
out:
    sqlite3_finalize(st);
    return rc;
}

/* Runs one cached statement that returns no rows (BEGIN, COMMIT). */
static int run_cached(struct store *s, const char *sql, const char *what)
{
    sqlite3_stmt *st;
    int rc = store_stmt(s, sql, &st);
    if (rc)
        return rc;
    rc = store_step_done(s, st, what);
    sqlite3_reset(st);
    return rc;
}

int store_begin(struct store *s)
{
    return run_cached(s, SQL_BEGIN, "begin");
}

int store_commit(struct store *s)
{
    return run_cached(s, SQL_COMMIT, "commit");
}

void store_rollback(struct store *s)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_get_autocommit(s->db))
        return;
    if (store_stmt(s, SQL_ROLLBACK, &st) || store_step_done(s, st, "rollback"))
        log_error("store: %s", s->err);
    if (st)
        sqlite3_reset(st);
}

/* Brings the schema to the last version, one migration per transaction. */
static int migrate(struct store *s, struct diag *d)
{
    const int latest = (int)BW_ARRAY_LEN(migrations);
    int rc;
    for (;;) {
        char text[32];
        rc = store_begin(s);
        if (rc)
            goto fail;
        rc = pragma(s, "PRAGMA user_version", text, sizeof(text));
        if (rc)
            goto fail;
        int version = atoi(text);
        if (version == latest) {
            rc = store_commit(s);
            if (rc)
                goto fail;
            return BW_OK;
        }
        if (version < 0 || version > latest) {
            store_rollback(s);
            return diag_set(d, BW_EIO,
                            "database %s: unknown schema version %d (this breakwatch knows up to "
                            "%d); use a newer breakwatch or another data directory",
                            s->path, version, latest);
        }
        char set[64];
        snprintf(set, sizeof(set), "PRAGMA user_version = %d", version + 1);
        rc = exec(s, migrations[version], "migration");
        if (rc)
            goto fail;
        rc = exec(s, set, "migration");
        if (rc)
            goto fail;
        rc = store_commit(s);
        if (rc)
            goto fail;
        log_info("store: %s migrated to schema version %d", s->path, version + 1);
    }
fail:
    store_rollback(s);
    return open_diag(s, d, rc);
}

/* The connection settings. WAL lets readers run beside the writer. synchronous=NORMAL in WAL
 * mode: a commit has written the WAL through to the operating system before it returns, so a
 * committed transaction survives the process being killed (kill -9, a crash); only a power
 * loss or kernel crash can take back the last commits, and never corrupts the file. FULL
 * would add an fsync to every commit for that last case. */
static int configure(struct store *s, int reader, struct diag *d)
{
    char mode[16];
    int rc = sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (rc != SQLITE_OK)
        return open_fail(s, d, rc, "busy_timeout");
    if (reader) {
        rc = exec(s, "PRAGMA query_only = ON", "query_only");
    } else {
        rc = pragma(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
        if (!rc && strcmp(mode, "wal") != 0)
            return diag_set(d, BW_EIO, "database %s: cannot use WAL journal mode (got %s)", s->path,
                            mode);
        if (!rc)
            /* Checkpoints every 8,192 pages (32 MiB of log) instead of SQLite's 1,000: each
             * checkpoint costs two syncs, which at the default were 40 % of the tsdb's commit
             * time; the log file is cut back to that size once checkpointed. */
            rc = exec(s,
                      "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
                      " PRAGMA wal_autocheckpoint = 8192; PRAGMA journal_size_limit = 33554432",
                      "pragma");
    }
    return rc ? open_diag(s, d, rc) : BW_OK;
}

static int connect(struct store *s, int flags, struct diag *d)
{
    int rc = sqlite3_open_v2(s->path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        return BW_OK;
    if (!s->db)
        return diag_set(d, BW_ENOMEM, "database %s: out of memory", s->path);
    return open_fail(s, d, rc, "open");
}

static void disconnect(struct store *s)
{
    for (size_t i = 0; i < s->nstmts; i++)
        sqlite3_finalize(s->stmts[i].stmt);
    s->nstmts = 0;
    sqlite3_close(s->db);
    s->db = NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    disconnect(s);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s->stmts);
    free(s->path);
    free(s);
}

const char *store_path(const struct store *s)
{
    return s->path;
}

const char *store_last_error(const struct store *s)
{
    return s->err;
}

static struct store *store_new(const char *path)
{
    struct store *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->lock_fd = -1;
    s->path = xstrdup(path);
    if (!s->path) {
        free(s);
        return NULL;
    }
    return s;
}

/* A copy of dir without repeated or trailing slashes, so that its prefixes ending at a '/'
 * are exactly its ancestors. */
static char *normalize_dir(const char *dir)
{
    char *out = malloc(strlen(dir) + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (const char *p = dir; *p; p++) {
        if (*p == '/' && n > 0 && out[n - 1] == '/')
            continue;
        out[n++] = *p;
    }
    if (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    return out;
}

/* Creates one level of data_dir (the last one: data_dir itself): 1 if created, 0 if it was
 * already a directory, or a negative code naming the level that failed. */
static int mkdir_one(const char *dir, const char *data_dir, int last, struct diag *d)
{
    struct stat st;
    if (mkdir(dir, 0755) == 0)
        return 1;
    int err = errno;
    if (err == EEXIST) {
        if (stat(dir, &st) != 0)
            err = errno;
        else if (S_ISDIR(st.st_mode))
            return 0;
        else
            err = ENOTDIR;
    }
    if (last)
        return diag_set(d, errno_code(err), "cannot create data directory %s: %s", dir,
                        strerror(err));
    return diag_set(d, errno_code(err), "cannot create data directory %s: %s: %s", data_dir, dir,
                    strerror(err));
}

/* The directories one mkdir_p call created: the prefixes of dir from first to last bytes
 * long that end at a '/' or at its end (first 0: none). */
struct created {
    size_t first, last;
};

/* mkdir -p on a normalized dir (data_dir as the user spelled it, for messages). Once one
 * level is created every deeper one is, so what this call made is a range of levels. */
static int mkdir_p(char *dir, const char *data_dir, struct created *made, struct diag *d)
{
    size_t len = strlen(dir);
    *made = (struct created){0, 0};
    for (size_t i = 1; i <= len; i++) {
        if (i < len && dir[i] != '/')
            continue;
        char c = dir[i];
        dir[i] = '\0';
        int rc = mkdir_one(dir, data_dir, i == len, d);
        dir[i] = c;
        if (rc < 0)
            return rc;
        if (rc == 1 && !made->first)
            made->first = i;
        if (rc == 1)
            made->last = i;
    }
    return BW_OK;
}

/* Removes the directories mkdir_p created, deepest first. Truncates dir. */
static void rmdir_created(char *dir, struct created made)
{
    for (size_t i = made.last; i >= made.first; i--) {
        if (dir[i] != '\0' && dir[i] != '/')
            continue;
        dir[i] = '\0';
        if (rmdir(dir) != 0)
            log_warn("store: cannot remove %s: %s", dir, strerror(errno));
        if (i == made.first)
            break;
    }
}

/* Removes the database file and the WAL files that SQLite creates beside it. */
static void remove_db_files(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    struct buf b;
    buf_init(&b, 0);
    for (size_t i = 0; i < BW_ARRAY_LEN(suffixes); i++) {
        buf_reset(&b);
        if (buf_printf(&b, "%s%s", path, suffixes[i]) == BW_OK && unlink(b.data) != 0 &&
            errno != ENOENT)
            log_warn("store: cannot remove %s: %s", b.data, strerror(errno));
    }
    buf_fini(&b);
}

/* Takes the data directory's lock (an flock on STORE_LOCK_NAME holding our pid), so a second
 * breakwatch on the same directory is refused instead of marking the first one's session
 * crashed. *created tells whether the lock file is new. */
static int lock_dir(struct store *s, const char *path, const char *data_dir, int *created,
                    struct diag *d)
{
    struct stat st;
    int rc = BW_OK;
    *created = stat(path, &st) != 0;
    s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0) {
        rc = diag_set(d, errno_code(errno), "data directory %s: cannot open its lock file %s: %s",
                      data_dir, path, strerror(errno));
        goto out;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(s->lock_fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        rc = diag_set(d, BW_EBUSY, "data directory %s is in use by another breakwatch%s%s%s",
                      data_dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
        close(s->lock_fd);
        s->lock_fd = -1;
        goto out;
    }
    char pid[32];
    int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(s->lock_fd, 0) != 0 || pwrite(s->lock_fd, pid, (size_t)len, 0) != len)
        log_warn("store: cannot write pid to %s: %s", path, strerror(errno));
out:
    if (rc && *created)
        unlink(path);
    return rc;
}

int store_open(const char *data_dir, struct store **out, struct diag *d)
{
    struct store *s = NULL;
    char *dir = NULL;
    struct buf path, lock;
    struct created made = {0, 0};
    int created_db = 0, created_lock = 0;
    struct stat st;
    int rc;

    *out = NULL;
    buf_init(&path, 0);
    buf_init(&lock, 0);
    if (!data_dir || !*data_dir)
        return diag_set(d, BW_EINVAL, "data directory: empty path");
    dir = normalize_dir(data_dir);
    if (!dir) {
        rc = diag_set(d, BW_ENOMEM, "data directory %s: out of memory", data_dir);
        goto fail;
    }
    rc = mkdir_p(dir, data_dir, &made, d);
    if (rc)
        goto fail;
    rc = buf_printf(&path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, STORE_DB_NAME);
    s = rc ? NULL : store_new(path.data);
    if (!s) {
        rc = diag_set(d, BW_ENOMEM, "data directory %s: out of memory", data_dir);
        goto fail;
    }
    rc = buf_printf(&lock, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, STORE_LOCK_NAME);
    if (rc) {
        diag_set(d, rc, "data directory %s: out of memory", data_dir);
        goto fail;
    }
    rc = lock_dir(s, lock.data, data_dir, &created_lock, d);
    if (rc)
        goto fail;
    created_db = stat(s->path, &st) != 0 && errno == ENOENT;
    rc = connect(s, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, d);
    if (rc)
        goto fail;
    /* SQLite opens a file it may not write read-only without a word; the first write would
     * fail much later (the journal's, after the tsdb has loaded), so refuse it here, before
     * anything creates the -wal and -shm files beside it. */
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        int fd = open(s->path, O_RDWR | O_CLOEXEC), err = fd < 0 ? errno : EACCES;
        if (fd >= 0)
            close(fd);
        rc = diag_set(d, errno_code(err), "database %s cannot be written: %s", s->path,
                      fd < 0 ? strerror(err) : "SQLite opened it read-only");
        goto fail;
    }
    rc = configure(s, 0, d);
    if (rc)
        goto fail;
    rc = migrate(s, d);
    if (rc)
        goto fail;
    free(dir);
    buf_fini(&path);
    buf_fini(&lock);
    *out = s;
    return BW_OK;

fail:
    if (s) {
        disconnect(s);
        if (created_db)
            remove_db_files(s->path);
        if (created_lock && s->lock_fd >= 0)
            unlink(lock.data);
        store_close(s);
    }
    if (made.first)
        rmdir_created(dir, made);
    free(dir);
    buf_fini(&path);
    buf_fini(&lock);
    return rc;
}

/* A further connection to primary's database, query-only or read-write; the directory lock
 * stays with primary. */
static int open_beside(const struct store *primary, int reader, struct store **out, struct diag *d)
{
    int rc;
    struct store *s = store_new(primary->path);
    *out = NULL;
    if (!s)
        return diag_set(d, BW_ENOMEM, "database %s: out of memory", primary->path);
    rc = connect(s, SQLITE_OPEN_READWRITE, d);
    if (rc)
        goto fail;
    rc = configure(s, reader, d);
    if (rc)
        goto fail;
    *out = s;
    return BW_OK;

fail:
    store_close(s);
    return rc;
}

int store_open_reader(const struct store *primary, struct store **out, struct diag *d)
{
    return open_beside(primary, 1, out, d);
}

int store_open_writer(const struct store *primary, struct store **out, struct diag *d)
{
    return open_beside(primary, 0, out, d);
}

int store_run_write(struct store *s, sqlite3_stmt *st, int bind, const char *what)
{
    int rc = bind == SQLITE_OK ? store_step_done(s, st, what) : store_fail(s, bind, what);
    sqlite3_reset(st);
    return rc;
}

int store_each_row(struct store *s, sqlite3_stmt *st, int bind, const char *what,
                   int (*row)(void *ctx, sqlite3_stmt *st), void *ctx)
{
    int rc = bind;
    if (rc != SQLITE_OK) {
        rc = store_fail(s, rc, what);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int cb = row(ctx, st);
        if (cb) {
            rc = cb;
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? BW_OK : store_fail(s, rc, what);
out:
    sqlite3_reset(st);
    return rc;
}

int64_t store_sql_limit(size_t limit)
{
    return limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit;
}
