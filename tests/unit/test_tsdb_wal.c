/* Tests for src/tsdb/wal.c: a record round-trips ids, timestamps (any int64, in any order, a
 * scrape's once) and values bit for bit (integers compactly, other doubles raw, stale markers
 * included); a truncated, extended or bit-flipped record is refused with the reason, never
 * half-decoded. */
#include <math.h>
#include <stdlib.h>

#include "tsdb_test.h"
#include "tsdb/tsdb_int.h"

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static const struct wal_sample in[] = {
    {1, 1700000000000, 42},
    {2, 1700000000000, 0.25},
    {3, 1700000000000, -7},
    {9, 1700000000001, NAN},
    {4, -5, 9007199254740992.0},
    {4, INT64_MAX, -0.0},
    {UINT32_MAX, INT64_MIN, INFINITY},
    {1, 0, 0},
};

static void encode(struct buf *out)
{
    struct wal_writer w;
    wal_writer_init(&w);
    for (size_t i = 0; i < BW_ARRAY_LEN(in); i++)
        assert_int_equal(wal_writer_add(&w, in[i].id, in[i].t, in[i].v), BW_OK);
    assert_int_equal(wal_writer_add(&w, 5, 1, tsdb_stale_nan()), BW_OK);
    assert_int_equal(wal_writer_finish(&w, out), BW_OK);
    wal_writer_fini(&w);
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct buf b;
    struct wal_sample *s;
    size_t n;
    const char *why = NULL;
    buf_init(&b, 0);
    encode(&b);
    assert_memory_equal(b.data, "BWW2", 4);
    assert_int_equal(wal_decode((const uint8_t *)b.data, b.len, &s, &n, &why), BW_OK);
    assert_int_equal(n, BW_ARRAY_LEN(in) + 1);
    for (size_t i = 0; i < BW_ARRAY_LEN(in); i++) {
        assert_int_equal(s[i].id, in[i].id);
        assert_int_equal(s[i].t, in[i].t);
        assert_true(bits(s[i].v) == bits(in[i].v));
    }
    assert_true(tsdb_is_stale(s[n - 1].v));
    free(s);

    /* A scrape: the timestamp once, then 2 bytes a sample (id delta and value). */
    struct wal_writer w;
    wal_writer_init(&w);
    for (uint32_t id = 1; id <= 100; id++)
        assert_int_equal(wal_writer_add(&w, id, 1700000000000, 7), BW_OK);
    assert_int_equal(wal_writer_finish(&w, &b), BW_OK);
    assert_int_equal(b.len, 12 + 1 + (1 + 6 + 1) + 99 * 2);
    assert_int_equal(wal_decode((const uint8_t *)b.data, b.len, &s, &n, &why), BW_OK);
    assert_int_equal(n, 100);
    assert_int_equal(s[99].id, 100);
    assert_int_equal(s[99].t, 1700000000000);
    free(s);
    wal_writer_reset(&w);

    /* An empty record is valid: 12 bytes of frame and a zero count. */
    assert_int_equal(wal_writer_finish(&w, &b), BW_OK);
    assert_int_equal(b.len, 13);
    assert_int_equal(wal_decode((const uint8_t *)b.data, b.len, &s, &n, &why), BW_OK);
    assert_int_equal(n, 0);
    free(s);
    wal_writer_fini(&w);
    buf_fini(&b);
}

static void test_damage(void **state)
{
    (void)state;
    struct buf b;
    struct wal_sample *s;
    size_t n;
    const char *why = NULL;
    buf_init(&b, 0);
    encode(&b);
    uint8_t *p = malloc(b.len + 1);
    for (size_t len = 0; len < b.len; len++) {
        memcpy(p, b.data, len);
        assert_int_equal(wal_decode(p, len, &s, &n, &why), BW_EIO);
        assert_null(s);
    }
    memcpy(p, b.data, b.len);
    p[b.len] = 0;
    assert_int_equal(wal_decode(p, b.len + 1, &s, &n, &why), BW_EIO);
    assert_string_equal(why, "truncated (length does not match)");
    for (size_t i = 4; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(p, b.data, b.len);
            p[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(wal_decode(p, b.len, &s, &n, &why), BW_EIO);
        }
    }
    memcpy(p, b.data, b.len);
    p[20] ^= 1;
    wal_decode(p, b.len, &s, &n, &why);
    assert_string_equal(why, "checksum mismatch");
    free(p);
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_damage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
