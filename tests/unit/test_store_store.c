/* Tests for src/store/store.c: opening (directory creation, WAL, schema version), migrations
 * being a no-op at the current version and refusing a newer one, clear errors for unusable
 * data directories with nothing left behind, transactions, and the query-only reader.
 * The database is inspected with SQLite directly, as an operator would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include "store/store.h"
#include "store/store_int.h"
#include "tmpdir.h"

/* The schema version this build creates: one per migration step in store.c. */
#define SCHEMA_VERSION 4
#define STR_(x)        #x
#define STR(x)         STR_(x)

/* The text of the first column of sql's first row on the database at path. */
static void query(const char *path, const char *sql, char *out, size_t n)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    const unsigned char *v = sqlite3_column_text(st, 0);
    snprintf(out, n, "%s", v ? (const char *)v : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void read_file(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(out, 1, n - 1, f);
    out[got] = '\0';
    fclose(f);
}

static int count_session(void *ud, const struct store_session_row *r)
{
    (void)r;
    (*(int *)ud)++;
    return 0;
}

static void test_open_creates_dirs_and_schema(void **state)
{
    char dir[512], db[600], text[512];
    struct store *s;
    struct diag d = {0};
    tmpdir_join(dir, sizeof(dir), *state, "a/b/c");
    assert_int_equal(store_open(dir, &s, &d), BW_OK);
    tmpdir_join(db, sizeof(db), dir, STORE_DB_NAME);
    assert_string_equal(store_path(s), db);
    assert_string_equal(store_last_error(s), "");
    struct stat st;
    assert_int_equal(stat(dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0755 & ~mask);
    assert_int_equal(stat(db, &st), 0);
    assert_true(S_ISREG(st.st_mode));

    query(db, "PRAGMA user_version", text, sizeof(text));
    assert_int_equal(atoi(text), SCHEMA_VERSION);
    query(db, "PRAGMA journal_mode", text, sizeof(text));
    assert_string_equal(text, "wal");
    /* The writer's own settings: checkpoints every 32 MiB of log, the log cut back to 32 MiB. */
    sqlite3_stmt *pst;
    assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA wal_autocheckpoint", -1, &pst, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(pst), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(pst, 0), 8192);
    sqlite3_finalize(pst);
    assert_int_equal(sqlite3_prepare_v2(s->db, "PRAGMA journal_size_limit", -1, &pst, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(pst), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(pst, 0), 33554432);
    sqlite3_finalize(pst);
    query(db,
          "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master"
          " WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name)",
          text, sizeof(text));
    assert_string_equal(text, "alert_acks,alert_history,alert_history_fingerprint,alert_nflog,"
                              "alert_silences,checkpoints,checkpoints_correlation,"
                              "checkpoints_session,events,events_correlation,events_session,"
                              "events_session_type,events_type,sessions,sessions_started,"
                              "sessions_status,tsdb_chunks,tsdb_metadata,tsdb_series,tsdb_wal");
    store_close(s);
}

static void test_reopen_at_current_version_is_noop(void **state)
{
    char db[600], version[32], schema[32], version2[32], schema2[32];
    struct store *s;
    struct diag d = {0};
    assert_int_equal(store_open(*state, &s, &d), BW_OK);
    store_close(s);
    tmpdir_join(db, sizeof(db), *state, STORE_DB_NAME);
    query(db, "PRAGMA user_version", version, sizeof(version));
    query(db, "PRAGMA schema_version", schema, sizeof(schema));

    assert_int_equal(store_open(*state, &s, &d), BW_OK);
    store_close(s);
    query(db, "PRAGMA user_version", version2, sizeof(version2));
    query(db, "PRAGMA schema_version", schema2, sizeof(schema2));
    assert_string_equal(version2, version);
    assert_string_equal(schema2, schema); /* no DDL ran */
    assert_int_equal(atoi(version2), SCHEMA_VERSION);
}

static void test_newer_schema_is_refused(void **state)
{
    char db[600], text[32];
    struct store *s;
    struct diag d = {0};
    assert_int_equal(store_open(*state, &s, &d), BW_OK);
    store_close(s);
    tmpdir_join(db, sizeof(db), *state, STORE_DB_NAME);
    exec_sql(db, "PRAGMA user_version = 99");

    assert_int_equal(store_open(*state, &s, &d), BW_EIO);
    assert_null(s);
    assert_non_null(strstr(d.msg, db));
    assert_non_null(strstr(
        d.msg, "unknown schema version 99 (this breakwatch knows up to " STR(SCHEMA_VERSION) ")"));
    assert_true(tmpdir_exists(db)); /* not ours to remove */
    query(db, "PRAGMA user_version", text, sizeof(text));
    assert_string_equal(text, "99");
}

static void test_path_under_a_file(void **state)
{
    char file[512], dir[600], content[64];
    struct store *s;
    struct diag d = {0};
    tmpdir_join(file, sizeof(file), *state, "file.txt");
    write_file(file, "keep me\n");
    tmpdir_join(dir, sizeof(dir), file, "sub");

    assert_int_equal(store_open(dir, &s, &d), BW_EIO);
    assert_null(s);
    char want[1200];
    snprintf(want, sizeof(want), "cannot create data directory %s: %s: Not a directory", dir, file);
    assert_string_equal(d.msg, want);
    assert_int_equal(tmpdir_count(*state), 1);
    read_file(file, content, sizeof(content));
    assert_string_equal(content, "keep me\n");
}

static void test_data_dir_is_a_file(void **state)
{
    char file[512];
    struct store *s;
    struct diag d = {0};
    tmpdir_join(file, sizeof(file), *state, "data");
    write_file(file, "");
    assert_int_equal(store_open(file, &s, &d), BW_EIO);
    char want[600];
    snprintf(want, sizeof(want), "cannot create data directory %s: Not a directory", file);
    assert_string_equal(d.msg, want);
    assert_int_equal(tmpdir_count(*state), 1);
}

/* A component longer than NAME_MAX fails mkdir after its parent was created: the parent goes. */
static void test_failed_mkdir_removes_created_parents(void **state)
{
    char name[300], dir[900];
    struct store *s;
    struct diag d = {0};
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(dir, sizeof(dir), "%s/made/also/%s", (char *)*state, name);
    assert_int_equal(store_open(dir, &s, &d), BW_EIO);
    char want[1200];
    snprintf(want, sizeof(want), "cannot create data directory %s: File name too long", dir);
    assert_string_equal(d.msg, want);
    assert_int_equal(tmpdir_count(*state), 0);
}

/* A database path longer than SQLite accepts (512 bytes) fails after the directories were
 * made: they are removed again. */
static void test_failed_open_removes_created_dirs(void **state)
{
    char part[201], dir[1200];
    struct store *s;
    struct diag d = {0};
    memset(part, 'p', sizeof(part) - 1);
    part[sizeof(part) - 1] = '\0';
    snprintf(dir, sizeof(dir), "%s/new/%s/%s/%s", (char *)*state, part, part, part);
    assert_int_equal(store_open(dir, &s, &d), BW_EIO);
    assert_null(s);
    /* "database <path>: open: unable to open database file", cut at the diag's 512 bytes */
    assert_int_equal(strncmp(d.msg, "database ", 9), 0);
    assert_int_equal(strncmp(d.msg + 9, dir, strlen(d.msg) - 9), 0);
    assert_int_equal(tmpdir_count(*state), 0);
}

static void test_not_a_database(void **state)
{
    char db[600], content[128];
    struct store *s;
    struct diag d = {0};
    tmpdir_join(db, sizeof(db), *state, STORE_DB_NAME);
    write_file(db, "this is not an SQLite database, just some text in the way\n");
    assert_int_equal(store_open(*state, &s, &d), BW_EIO);
    assert_null(s);
    assert_non_null(strstr(d.msg, db));
    assert_non_null(strstr(d.msg, "file is not a database"));
    read_file(db, content, sizeof(content));
    assert_string_equal(content, "this is not an SQLite database, just some text in the way\n");
    assert_int_equal(tmpdir_count(*state), 1); /* no -wal or -shm left */
}

/* The child's half of test_unwritable_is_eacces: 0 when both refusals are right. */
static int refused_as_nobody(const char *dir, const char *existing, const char *rodb)
{
    struct store *s;
    struct diag d = {0};
    char want[1200];
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 2;
    snprintf(want, sizeof(want), "cannot create data directory %s: Permission denied", dir);
    if (store_open(dir, &s, &d) != BW_EACCES || strcmp(d.msg, want) != 0)
        return 3;
    /* The directory's lock file is the first thing it may not write. */
    if (store_open(existing, &s, &d) != BW_EACCES ||
        !strstr(d.msg, STORE_LOCK_NAME ": Permission denied"))
        return 4;
    /* A directory and lock it may write, a database file it may not: refused at open, not
     * at the first write (SQLite would open it read-only without a word). */
    if (store_open(rodb, &s, &d) != BW_EACCES || !strstr(d.msg, "cannot be written: Permission"))
        return 5;
    return 0;
}

/* Permission bits do not bind root, so the refusals are checked as "nobody", in a child: a
 * data directory in a directory it may not write, a directory with a database in it may not
 * write, and a database file it may not write in a directory it may. */
static void test_unwritable_is_eacces(void **state)
{
    char ro[512], dir[600], existing[512], db[600], rodb[512], rodb_db[600], rodb_lock[600];
    struct store *s;
    struct diag d = {0};
    int status;
    assert_int_equal(chmod(*state, 0755), 0);
    tmpdir_join(ro, sizeof(ro), *state, "readonly");
    assert_int_equal(mkdir(ro, 0755), 0);
    assert_int_equal(chmod(ro, 0555), 0);
    tmpdir_join(dir, sizeof(dir), ro, "sub");
    tmpdir_join(existing, sizeof(existing), *state, "existing");
    assert_int_equal(store_open(existing, &s, &d), BW_OK);
    store_close(s);
    tmpdir_join(db, sizeof(db), existing, STORE_DB_NAME);
    tmpdir_join(rodb, sizeof(rodb), *state, "readonly-db");
    assert_int_equal(store_open(rodb, &s, &d), BW_OK);
    store_close(s);
    tmpdir_join(rodb_db, sizeof(rodb_db), rodb, STORE_DB_NAME);
    tmpdir_join(rodb_lock, sizeof(rodb_lock), rodb, STORE_LOCK_NAME);
    assert_int_equal(chmod(rodb_db, 0444), 0);
    if (geteuid() == 0) {
        assert_int_equal(chown(rodb, 65534, 65534), 0);
        assert_int_equal(chown(rodb_lock, 65534, 65534), 0);
    }

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(refused_as_nobody(dir, existing, rodb));
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(tmpdir_count(ro), 0);
    assert_int_equal(tmpdir_count(existing), 2); /* the database and its lock, untouched */
    assert_true(tmpdir_exists(db));
    assert_int_equal(tmpdir_count(rodb), 2); /* no -wal or -shm made beside it */
}

/* A second writer on the same data directory is refused, naming the holder's pid, until the
 * first one closes. */
static void test_data_dir_lock(void **state)
{
    struct store *a, *b;
    struct diag d = {0};
    char want[700];
    assert_int_equal(store_open(*state, &a, &d), BW_OK);
    assert_int_equal(store_open(*state, &b, &d), BW_EBUSY);
    snprintf(want, sizeof(want), "data directory %s is in use by another breakwatch (pid %ld)",
             (const char *)*state, (long)getpid());
    assert_string_equal(d.msg, want);
    store_close(a);
    assert_int_equal(store_open(*state, &b, &d), BW_OK);
    store_close(b);
}

static void test_empty_path(void **state)
{
    struct store *s;
    struct diag d = {0};
    (void)state;
    assert_int_equal(store_open("", &s, &d), BW_EINVAL);
    assert_null(s);
    assert_int_equal(store_open(NULL, &s, &d), BW_EINVAL);
}

static void test_messy_relative_path(void **state)
{
    char cwd[4096], db[600];
    struct store *s;
    struct diag d = {0};
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(*state), 0);
    assert_int_equal(store_open("x//y/", &s, &d), BW_OK);
    assert_string_equal(store_path(s), "x/y/" STORE_DB_NAME);
    store_close(s);
    assert_int_equal(chdir(cwd), 0);
    tmpdir_join(db, sizeof(db), *state, "x/y/" STORE_DB_NAME);
    assert_true(tmpdir_exists(db));
}

static void test_transactions_and_reader(void **state)
{
    struct store *w, *r;
    struct diag d = {0};
    int n = 0;
    struct store_session_row row = {
        .id = "s1", .mode = "paper", .status = "running", .started_ms = 1000};
    assert_int_equal(store_open(*state, &w, &d), BW_OK);
    assert_int_equal(store_open_reader(w, &r, &d), BW_OK);

    assert_int_equal(store_begin(w), BW_OK);
    assert_int_equal(store_session_insert(w, &row), BW_OK);
    /* The reader does not see an open transaction, and is not blocked by it. */
    assert_int_equal(store_session_get(r, "s1", count_session, &n), BW_ENOENT);
    store_rollback(w);
    store_rollback(w); /* outside a transaction: nothing */
    assert_int_equal(store_session_get(w, "s1", count_session, &n), BW_ENOENT);

    assert_int_equal(store_begin(w), BW_OK);
    assert_int_equal(store_session_insert(w, &row), BW_OK);
    assert_int_equal(store_commit(w), BW_OK);
    assert_int_equal(store_session_get(r, "s1", count_session, &n), BW_OK);
    assert_int_equal(n, 1);

    /* A duplicate id is a constraint failure with SQLite's words. */
    assert_int_equal(store_session_insert(w, &row), BW_EIO);
    assert_non_null(strstr(store_last_error(w), "insert session: UNIQUE constraint failed"));

    /* The reader is query-only. */
    row.id = "s2";
    assert_int_equal(store_session_insert(r, &row), BW_EACCES);
    assert_non_null(strstr(store_last_error(r), "insert session"));
    store_close(r);
    store_close(w);
    store_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
        T(test_open_creates_dirs_and_schema),
        T(test_reopen_at_current_version_is_noop),
        T(test_newer_schema_is_refused),
        T(test_path_under_a_file),
        T(test_data_dir_is_a_file),
        T(test_failed_mkdir_removes_created_parents),
        T(test_failed_open_removes_created_dirs),
        T(test_not_a_database),
        T(test_unwritable_is_eacces),
        T(test_data_dir_lock),
        T(test_empty_path),
        T(test_messy_relative_path),
        T(test_transactions_and_reader),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
