/* Tests for src/tsdb/persist.c: a tsdb kept in the store survives close and reopen (persisted
 * chunks plus replayed write-ahead records give back every sample), records are deleted once
 * their samples are in chunks, a corrupt record is counted and skipped, metadata persists,
 * retention and the size cap delete from disk, queries read old chunks beside the writer, and
 * a failed commit keeps its samples, says why in tsdb_error and is made good by the next. */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "tmpdir.h"
#include "tsdb_test.h"

static void open_db(void **state, struct store **st, struct tsdb **db, const struct tsdb_options *o)
{
    struct diag d = {0};
    assert_int_equal(store_open(*state, st, &d), BW_OK);
    assert_int_equal(tsdb_open(*st, o, db, &d), BW_OK);
}

static void close_db(struct store *st, struct tsdb *db)
{
    tsdb_close(db);
    store_close(st);
}

/* Runs one integer query on the database file directly. */
static int64_t sql_int(void **state, const char *sql)
{
    char path[512];
    sqlite3 *h;
    sqlite3_stmt *q;
    int64_t v = -1;
    assert_int_equal(sqlite3_open(tmpdir_join(path, sizeof(path), *state, STORE_DB_NAME), &h),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
    if (sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(h);
    return v;
}

static void sql_exec(void **state, const char *sql)
{
    char path[512];
    sqlite3 *h;
    assert_int_equal(sqlite3_open(tmpdir_join(path, sizeof(path), *state, STORE_DB_NAME), &h),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
}

/* Series "s<i>" gets value i * 1000 + k at time k * 1000 + jitter; a commit every
 * commit_every samples (0: none). */
static void fill_every(struct tsdb *db, int nseries, int from, int to, int commit_every)
{
    char name[16][16];
    struct test_ls l[16];
    uint64_t ref[16] = {0};
    for (int k = from; k < to; k++) {
        for (int i = 0; i < nseries; i++) {
            snprintf(name[i], sizeof(name[i]), "s%d", i);
            const struct labelset *ls = test_labels(&l[i], "__name__", "m", "i", name[i], NULL);
            double v = i == 1 ? k * 0.5 : (double)(i * 1000 + k);
            assert_int_equal(tsdb_append(db, ls, k * 1000LL + k % 3, v, &ref[i]), BW_OK);
        }
        if (commit_every && k % commit_every == commit_every - 1)
            assert_int_equal(tsdb_commit(db, NULL), BW_OK);
    }
}

/* The same, a commit every 10 samples. */
static void fill(struct tsdb *db, int nseries, int from, int to)
{
    fill_every(db, nseries, from, to, 10);
}

/* Checks that series s<i> holds exactly samples from..to-1. */
static void check(struct tsdb *db, int nseries, int from, int to)
{
    struct arena a;
    struct tsdb_series *ss;
    size_t n;
    struct diag d = {0};
    arena_init(&a, 0);
    assert_int_equal(tsdb_select(db, NULL, 0, INT64_MIN, INT64_MAX, 0, 0, &a, &ss, &n, &d), BW_OK);
    assert_int_equal(n, nseries);
    for (size_t s = 0; s < n; s++) {
        int i = labelset_get(&ss[s].labels, "i")[1] - '0';
        assert_int_equal(ss[s].n, to - from);
        for (size_t j = 0; j < ss[s].n; j++) {
            int k = from + (int)j;
            assert_int_equal(ss[s].t[j], k * 1000LL + k % 3);
            assert_true(ss[s].v[j] == (i == 1 ? k * 0.5 : (double)(i * 1000 + k)));
        }
    }
    arena_fini(&a);
}

static void test_reopen(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct tsdb_stats s;
    open_db(state, &st, &db, NULL);
    fill(db, 3, 0, 305); /* 2 full chunks a series, 65 samples in the head, 5 uncommitted */
    check(db, 3, 0, 305);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.samples_persisted, 3 * 240);
    assert_int_equal(s.head_chunks, 3);
    assert_true(s.bytes_on_disk > 0);
    close_db(st, db);
    /* Records before the open chunks' first samples are gone: 65 samples in 7 records left.
     * The series share their timestamps: two blocks (rows under series -1, -2) for 6 chunks. */
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks WHERE series_id > 0"), 6);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks WHERE series_id < 0"), 2);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_wal"), 7);

    open_db(state, &st, &db, NULL);
    check(db, 3, 0, 305);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.series, 3);
    assert_int_equal(s.samples_persisted, 3 * 240);
    assert_int_equal(s.corrupt_records, 0);
    assert_int_equal(s.min_time, 0);
    assert_int_equal(s.max_time, 304 * 1000 + 304 % 3);
    /* Appending goes on where it stopped; a repeat of the newest sample is ignored. */
    struct test_ls l;
    uint64_t ref = 0;
    assert_int_equal(tsdb_append(db, test_labels(&l, "__name__", "m", "i", "s0", NULL),
                                 304 * 1000 + 304 % 3, 304, &ref),
                     BW_OK);
    assert_int_equal(ref, 1);
    fill(db, 3, 305, 400);
    close_db(st, db);

    open_db(state, &st, &db, NULL);
    check(db, 3, 0, 400);
    close_db(st, db);
}

/* Another connection holds the write lock past the busy timeout (5 s): the commit fails,
 * tsdb_error says why and where, the samples stay in the head; once the lock is released the
 * next commit writes them all and tsdb_error is clear again. */
static void test_failed_commit_kept(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct diag d = {0};
    char path[512], err[512] = "x";
    sqlite3 *other;
    open_db(state, &st, &db, NULL);
    fill(db, 3, 0, 100);
    assert_int_equal(tsdb_error(db, err, sizeof(err)), 0);
    assert_string_equal(err, "");

    assert_int_equal(sqlite3_open(tmpdir_join(path, sizeof(path), *state, STORE_DB_NAME), &other),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fill_every(db, 3, 100, 130, 0);
    assert_int_equal(tsdb_commit(db, &d), BW_EIO);
    assert_int_equal(tsdb_error(db, err, sizeof(err)), 1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "database is locked"));
    assert_non_null(strstr(d.msg, path));
    check(db, 3, 0, 130); /* still in memory */

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(tsdb_commit(db, &d), BW_OK);
    assert_int_equal(tsdb_error(db, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    close_db(st, db);
    open_db(state, &st, &db, NULL);
    check(db, 3, 0, 130);
    close_db(st, db);
}

static void test_corrupt_record(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct tsdb_stats s;
    open_db(state, &st, &db, NULL);
    fill(db, 2, 0, 30); /* three records of 10 samples a series */
    close_db(st, db);
    sql_exec(state, "UPDATE tsdb_wal SET data = substr(data, 1, 20) WHERE seq = 2");
    open_db(state, &st, &db, NULL);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.corrupt_records, 1);
    /* Records 1 and 3 replay: samples 0..9 and 20..29. */
    struct arena a;
    struct tsdb_series *ss;
    size_t n;
    struct diag d = {0};
    arena_init(&a, 0);
    assert_int_equal(tsdb_select(db, NULL, 0, INT64_MIN, INT64_MAX, 0, 0, &a, &ss, &n, &d), BW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ss[0].n, 20);
    assert_int_equal(ss[0].t[9], 9000);
    assert_int_equal(ss[0].t[10], 20000 + 20 % 3);
    arena_fini(&a);
    close_db(st, db);

    sql_exec(state, "UPDATE tsdb_wal SET data = x'00' WHERE seq = 3");
    open_db(state, &st, &db, NULL);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.corrupt_records, 2);
    close_db(st, db);
}

static void test_metadata_persists(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct arena a;
    struct tsdb_metadata *md;
    size_t n;
    open_db(state, &st, &db, NULL);
    assert_int_equal(tsdb_metadata_set(db, "up", "gauge", "1 if up.", ""), BW_OK);
    assert_int_equal(tsdb_commit(db, NULL), BW_OK);
    assert_int_equal(tsdb_metadata_set(db, "up", "gauge", "1 when up.", "seconds"), BW_OK);
    close_db(st, db);
    open_db(state, &st, &db, NULL);
    arena_init(&a, 0);
    assert_int_equal(tsdb_metadata_list(db, &a, &md, &n), BW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(md[0].help, "1 when up.");
    assert_string_equal(md[0].unit, "seconds");
    arena_fini(&a);
    close_db(st, db);
}

static void test_retention(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct tsdb_stats s;
    struct tsdb_options o = {.retention_ms = 100000};
    struct test_ls l;
    uint64_t ref = 0, old_ref;
    open_db(state, &st, &db, &o);
    fill(db, 2, 0, 400);
    /* A series that stops early is dropped once all its samples expire. */
    assert_int_equal(tsdb_append(db, test_labels(&l, "__name__", "old", NULL), 5, 1, &ref), BW_OK);
    assert_int_equal(tsdb_commit(db, NULL), BW_OK);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.series, 3);
    /* Cutoff 399002 - 100000: chunks ending before 299002 go (samples 0..239). */
    assert_int_equal(tsdb_maintain(db, 1LL << 50, NULL), BW_OK);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.series, 2);
    assert_int_equal(s.samples_persisted, 2 * 120);
    assert_int_equal(s.min_time, 240000);
    check(db, 2, 240, 400);
    /* Its ref is stale: without labels the append fails, with them it comes back anew. */
    old_ref = ref;
    assert_int_equal(tsdb_append(db, NULL, 500000, 1, &ref), BW_ENOENT);
    assert_int_equal(tsdb_append(db, test_labels(&l, "__name__", "old", NULL), 500000, 1, &ref),
                     BW_OK);
    assert_int_equal(old_ref, 3);
    assert_int_equal(ref, 4);
    close_db(st, db);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_series"), 3);
    assert_int_equal(sql_int(state, "SELECT MIN(mint) FROM tsdb_chunks"), 240000);

    /* Reopened, the dropped series' id is not given again. */
    open_db(state, &st, &db, &o);
    ref = 0;
    assert_int_equal(tsdb_append(db, test_labels(&l, "__name__", "new", NULL), 1000000, 1, &ref),
                     BW_OK);
    assert_int_equal(ref, 5);
    close_db(st, db);
}

static void test_size_cap(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct tsdb_stats s;
    struct tsdb_options o = {.max_bytes = 1};
    open_db(state, &st, &db, &o);
    fill(db, 3, 0, 500);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.samples_persisted, 3 * 480);
    assert_int_equal(tsdb_maintain(db, 0, NULL), BW_OK);
    tsdb_stats_get(db, &s);
    assert_int_equal(s.samples_persisted, 0);
    assert_int_equal(s.series, 3); /* their heads remain */
    check(db, 3, 480, 500);
    close_db(st, db);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks"), 0);
}

/* Every selection is whole across disk and memory while chunks are persisted. */
static void test_readers_beside_commits(void **state)
{
    struct store *st;
    struct tsdb *db;
    open_db(state, &st, &db, NULL);
    assert_true(test_race(db, 1500, 4, 1000, true) > 0);
    close_db(st, db);
}

/* Series scraped together are cut together and share timestamp blocks: "a" from the start,
 * "b" joining at scrape 50 (cut at the epoch, scrape 120, then in step), "c" missing scrape 130
 * (its own block once, then in step again). Every sample reads back after a reopen, and
 * retention drops the blocks with the chunks. */
static void test_shared_timestamps(void **state)
{
    struct store *st;
    struct tsdb *db;
    struct test_ls l;
    uint64_t ref[3] = {0};
    const char *names[3] = {"a", "b", "c"};
    struct tsdb_options o = {.retention_ms = 100000};
    open_db(state, &st, &db, NULL);
    for (int k = 0; k < 400; k++) {
        for (int i = 0; i < 3; i++) {
            if ((i == 1 && k < 50) || (i == 2 && k == 130))
                continue;
            assert_int_equal(tsdb_append(db, test_labels(&l, "__name__", names[i], NULL),
                                         k * 1000LL + k % 5, k * (i + 1), &ref[i]),
                             BW_OK);
        }
        assert_int_equal(tsdb_commit(db, NULL), BW_OK);
    }
    close_db(st, db);
    /* Chunks: a 0-119, 120-239, 240-359; b (id 3) 50-119, then as a; c 0-119, 120-239 less 130,
     * then as a. Blocks: {a, c} 0-119, b 50-119, {a, b} 120-239, c 120-239, {a, b, c} 240-359. */
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks WHERE series_id > 0"), 9);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks WHERE series_id < 0"), 5);
    assert_int_equal(sql_int(state, "SELECT MIN(mint) FROM tsdb_chunks WHERE series_id = 3"),
                     50000);

    open_db(state, &st, &db, &o);
    struct arena a;
    struct tsdb_series *ss;
    size_t n;
    arena_init(&a, 0);
    assert_int_equal(tsdb_select(db, NULL, 0, INT64_MIN, INT64_MAX, 0, 0, &a, &ss, &n, NULL),
                     BW_OK);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++) {
        int s = ss[i].labels.v[0].value[0] - 'a', k = s == 1 ? 50 : 0;
        assert_int_equal(ss[i].n, s == 0 ? 400 : s == 1 ? 350 : 399);
        for (size_t j = 0; j < ss[i].n; j++, k++) {
            k += s == 2 && k == 130;
            assert_int_equal(ss[i].t[j], k * 1000LL + k % 5);
            assert_true(ss[i].v[j] == k * (s + 1));
        }
    }
    arena_fini(&a);
    /* Cutoff 399004 - 100000: the chunks ending before 299004 go, and the blocks only they
     * used; the block of 240-359 stays. */
    assert_int_equal(tsdb_maintain(db, 1LL << 50, NULL), BW_OK);
    close_db(st, db);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks WHERE series_id > 0"), 3);
    assert_int_equal(sql_int(state, "SELECT COUNT(*) FROM tsdb_chunks WHERE series_id < 0"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
        T(test_reopen),
        T(test_failed_commit_kept),
        T(test_corrupt_record),
        T(test_metadata_persists),
        T(test_retention),
        T(test_size_cap),
        T(test_readers_beside_commits),
        T(test_shared_timestamps),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
