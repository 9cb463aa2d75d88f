/* Tests for src/store/store_tsdb.c: the tsdb's tables through the store's operations — series
 * blobs round-trip and their ids are never reused, chunks come back by series and time span
 * with per-series spans and exact drop accounting, the tsdb's own rows (series ids below 0)
 * read inside another read and dropped by age, records by sequence, metadata replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "tmpdir.h"

static struct store *open_store(void **state)
{
    struct store *s;
    struct diag d = {0};
    assert_int_equal(store_open(*state, &s, &d), BW_OK);
    return s;
}

struct got {
    int64_t a[16], b[16], c[16];
    char text[16][64];
    int n;
    struct store *s; /* for a read nested in another */
};

/* Takes a series (id, labels) or a record (seq, data): both are a key and a blob. */
static int take_blob(void *ud, int64_t key, const void *data, size_t len)
{
    struct got *g = ud;
    g->a[g->n] = key;
    g->b[g->n] = (int64_t)len;
    memcpy(g->text[g->n], data, len < 64 ? len : 64);
    g->n++;
    return 0;
}

static void test_series(void **state)
{
    struct store *s = open_store(state);
    struct got g = {0};
    int64_t next;
    assert_int_equal(store_tsdb_series_insert(s, 1, "__name__\0up\0", 12), BW_OK);
    assert_int_equal(store_tsdb_series_insert(s, 2, "__name__\0x\0", 11), BW_OK);
    assert_int_equal(store_tsdb_series_insert(s, 2, "__name__\0y\0", 11), BW_EIO);
    assert_int_equal(store_tsdb_series_each(s, take_blob, &g), BW_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.a[1], 2);
    assert_int_equal(g.b[0], 12);
    assert_memory_equal(g.text[0], "__name__\0up\0", 12);
    assert_int_equal(store_tsdb_series_delete(s, 2), BW_OK);
    assert_int_equal(store_tsdb_series_next_id(s, &next), BW_OK);
    assert_int_equal(next, 3);
    store_close(s);
}

static int take_chunk(void *ud, const struct store_tsdb_chunk_row *r)
{
    struct got *g = ud;
    g->a[g->n] = r->mint;
    g->b[g->n] = r->maxt;
    g->c[g->n] = r->n;
    memcpy(g->text[g->n], r->data, r->len < 64 ? r->len : 64);
    g->n++;
    return 0;
}

static int take_span(void *ud, const struct store_tsdb_span *r)
{
    struct got *g = ud;
    g->a[g->n] = r->mint;
    g->b[g->n] = r->maxt;
    g->c[g->n] = r->bytes * 1000 + r->n;
    memcpy(g->text[g->n], r->last, r->last_len < 64 ? r->last_len : 64);
    g->n++;
    return 0;
}

static void test_chunks(void **state)
{
    struct store *s = open_store(state);
    struct got g = {0};
    int64_t bytes, n, mint;
    const struct store_tsdb_chunk_row rows[] = {
        {1, 0, 99, 10, "aaaa", 4},
        {1, 100, 199, 20, "bbbbbb", 6},
        {1, 200, 299, 30, "cc", 2},
        {2, 50, 60, 5, "d", 1},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(rows); i++)
        assert_int_equal(store_tsdb_chunk_insert(s, &rows[i]), BW_OK);
    assert_int_equal(store_tsdb_chunks_range(s, 1, 150, 250, take_chunk, &g), BW_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.a[0], 100);
    assert_int_equal(g.b[1], 299);
    assert_int_equal(g.c[1], 30);
    assert_memory_equal(g.text[0], "bbbbbb", 6);

    g.n = 0;
    assert_int_equal(store_tsdb_chunk_spans(s, take_span, &g), BW_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.a[0], 0);
    assert_int_equal(g.b[0], 299);
    assert_int_equal(g.c[0], 12 * 1000 + 60);
    assert_memory_equal(g.text[0], "cc", 2);

    assert_int_equal(store_tsdb_chunks_drop(s, 1, 200, &bytes, &n, &mint), BW_OK);
    assert_int_equal(bytes, 10);
    assert_int_equal(n, 30);
    assert_int_equal(mint, 200);
    assert_int_equal(store_tsdb_chunks_drop(s, 1, 1000, &bytes, &n, &mint), BW_OK);
    assert_int_equal(bytes, 2);
    assert_int_equal(mint, INT64_MAX);
    g.n = 0;
    assert_int_equal(store_tsdb_chunks_range(s, 2, INT64_MIN, INT64_MAX, take_chunk, &g), BW_OK);
    assert_int_equal(g.n, 1);
    store_close(s);
}

/* Reads series -1's chunks while stepping through series 1's. */
static int take_nested(void *ud, const struct store_tsdb_chunk_row *r)
{
    struct got *g = ud;
    (void)r;
    return store_tsdb_chunks_all(g->s, -1, take_chunk, g);
}

/* The tsdb's own rows, under series ids below 0: read whole, grouped in spans, dropped by age
 * apart from the series' chunks. */
static void test_own_rows(void **state)
{
    struct store *s = open_store(state);
    struct got g = {0};
    int64_t bytes;
    const struct store_tsdb_chunk_row rows[] = {
        {1, 0, 99, 10, "aaaa", 4},
        {1, 100, 199, 20, "bbbbbb", 6},
        {-1, 0, 99, 0, "tt", 2},
        {-2, 100, 199, 0, "uuu", 3},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(rows); i++)
        assert_int_equal(store_tsdb_chunk_insert(s, &rows[i]), BW_OK);
    g.s = s;
    assert_int_equal(store_tsdb_chunks_range(s, 1, INT64_MIN, INT64_MAX, take_nested, &g), BW_OK);
    assert_int_equal(g.n, 2);
    assert_memory_equal(g.text[1], "tt", 2);

    g.n = 0;
    assert_int_equal(store_tsdb_chunk_spans(s, take_span, &g), BW_OK);
    assert_int_equal(g.n, 3);

    assert_int_equal(store_tsdb_own_drop(s, 100, &bytes), BW_OK);
    assert_int_equal(bytes, 2);
    assert_int_equal(store_tsdb_own_drop(s, 100, &bytes), BW_OK);
    assert_int_equal(bytes, 0);
    g.n = 0;
    assert_int_equal(store_tsdb_chunks_all(s, -1, take_chunk, &g), BW_OK);
    assert_int_equal(g.n, 0);
    assert_int_equal(store_tsdb_chunks_all(s, 1, take_chunk, &g), BW_OK);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.b[1], 199);
    assert_int_equal(store_tsdb_own_drop(s, INT64_MAX, &bytes), BW_OK);
    assert_int_equal(bytes, 3);
    store_close(s);
}

static int stop_record(void *ud, int64_t seq, const void *data, size_t len)
{
    (void)ud;
    (void)seq;
    (void)data;
    (void)len;
    return BW_ENOSPC;
}

static void test_records(void **state)
{
    struct store *s = open_store(state);
    struct got g = {0};
    int64_t bytes;
    assert_int_equal(store_tsdb_wal_insert(s, 3, "ccc", 3), BW_OK);
    assert_int_equal(store_tsdb_wal_insert(s, 1, "a", 1), BW_OK);
    assert_int_equal(store_tsdb_wal_insert(s, 2, "bb", 2), BW_OK);
    assert_int_equal(store_tsdb_wal_each(s, take_blob, &g), BW_OK);
    assert_int_equal(g.n, 3);
    assert_int_equal(g.a[0], 1);
    assert_int_equal(g.a[2], 3);
    assert_memory_equal(g.text[2], "ccc", 3);
    assert_int_equal(store_tsdb_wal_each(s, stop_record, NULL), BW_ENOSPC);
    assert_int_equal(store_tsdb_wal_drop(s, 3, &bytes), BW_OK);
    assert_int_equal(bytes, 3);
    assert_int_equal(store_tsdb_wal_drop(s, 3, &bytes), BW_OK);
    assert_int_equal(bytes, 0);
    g.n = 0;
    assert_int_equal(store_tsdb_wal_each(s, take_blob, &g), BW_OK);
    assert_int_equal(g.n, 1);
    store_close(s);
}

static int take_meta(void *ud, const char *family, const char *type, const char *help,
                     const char *unit)
{
    struct got *g = ud;
    snprintf(g->text[g->n++], 64, "%s|%s|%s|%s", family, type, help, unit);
    return 0;
}

static void test_metadata(void **state)
{
    struct store *s = open_store(state);
    struct got g = {0};
    assert_int_equal(store_tsdb_meta_put(s, "up", "gauge", "Up.", ""), BW_OK);
    assert_int_equal(store_tsdb_meta_put(s, "a_total", "counter", "A.", ""), BW_OK);
    assert_int_equal(store_tsdb_meta_put(s, "up", "gauge", "1 if up.", "seconds"), BW_OK);
    assert_int_equal(store_tsdb_meta_each(s, take_meta, &g), BW_OK);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[0], "a_total|counter|A.|");
    assert_string_equal(g.text[1], "up|gauge|1 if up.|seconds");
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
        T(test_series), T(test_chunks), T(test_own_rows), T(test_records), T(test_metadata),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
