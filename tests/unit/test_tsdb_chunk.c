/* Tests for src/tsdb/chunk.c: samples round-trip bit for bit through both encodings, open and
 * closed — counters, gauges, decimals, negative and huge jumps, NaN, stale markers, ±Inf, -0.0,
 * timestamps from INT64_MIN to INT64_MAX — the encoding moves from INT to a finer decimal scale
 * or to XOR when a value needs it, the sizes are what the format promises, chunks with the same
 * timestamps have the same timestamp region and pack and unpack around it, and no corrupt or
 * truncated chunk crashes the decoder. */
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

/* Checks that data decodes to exactly t/v. */
static void decodes_to(const uint8_t *data, size_t len, const int64_t *t, const double *v, size_t n)
{
    int64_t *dt = malloc(n * sizeof(*dt));
    double *dv = malloc(n * sizeof(*dv));
    size_t got;
    assert_int_equal(chunk_decode(data, len, dt, dv, n, &got), BW_OK);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(dt[i], t[i]);
        assert_true(bits(dv[i]) == bits(v[i]));
    }
    /* Too small an output is refused, not overrun. */
    assert_int_equal(chunk_decode(data, len, dt, dv, n - 1, &got), BW_EIO);
    free(dt);
    free(dv);
}

/* Encodes t/v into c (caller frees c.data), checks that it decodes to the same bits while open
 * and once closed, and leaves it closed. */
static void roundtrip(struct chunk *c, const int64_t *t, const double *v, size_t n)
{
    struct chunk_app a;
    *c = (struct chunk){0};
    assert_int_equal(chunk_start(c, &a, t[0], v[0]), BW_OK);
    for (size_t i = 1; i < n; i++) {
        assert_int_equal(chunk_append(c, &a, t[i], v[i]), BW_OK);
        if (i == n / 2)
            decodes_to(c->data, c->len, t, v, i + 1); /* open, with spare timestamp bytes */
    }
    assert_int_equal(chunk_count(c->data, c->len), n);
    assert_int_equal(c->mint, t[0]);
    assert_int_equal(c->maxt, t[n - 1]);
    decodes_to(c->data, c->len, t, v, n);
    chunk_shrink(c, &a);
    assert_int_equal(c->cap, c->len);
    decodes_to(c->data, c->len, t, v, n);
}

static void test_counter_is_int_and_small(void **state)
{
    (void)state;
    int64_t t[120];
    double v[120];
    struct chunk c;
    for (int i = 0; i < 120; i++) {
        t[i] = 1700000000000LL + i * 1000LL; /* 1 s, no jitter */
        v[i] = 1000.0 + i * 7;               /* a steady counter */
    }
    roundtrip(&c, t, v, 120);
    assert_int_equal(c.data[0], CHUNK_INT);
    /* Header 5; timestamps: the first 7 + 42 bits, the second 1110 + 14 (the delta 1000),
     * then a bit each; values: the first 7 + 11 bits, the second 10 + 7 (the delta 7), then a
     * bit each. */
    assert_int_equal(c.len, 5 + (7 + 42 + 18 + 118 + 7) / 8 + (7 + 11 + 9 + 118 + 7) / 8);
    free(c.data);
}

static void test_gauge_xor(void **state)
{
    (void)state;
    int64_t t[120];
    double v[120];
    struct chunk c;
    for (int i = 0; i < 120; i++) {
        t[i] = 1700000000000LL + i * 15000LL + (i * 7919) % 5 - 2; /* jitter of ±2 ms */
        v[i] = 0.5 + sin(i / 10.0) * 100;
    }
    roundtrip(&c, t, v, 120);
    assert_int_equal(c.data[0], CHUNK_XOR);
    free(c.data);
}

static void test_special_values(void **state)
{
    (void)state;
    const double v[] = {0.0,   -0.0,    INFINITY, -INFINITY, NAN,  tsdb_stale_nan(),
                        1e308, -1e-308, 5e-324,   42.0,      42.0, -7.0,
                        0.1,   0.0};
    int64_t t[BW_ARRAY_LEN(v)];
    struct chunk c;
    for (size_t i = 0; i < BW_ARRAY_LEN(v); i++)
        t[i] = (int64_t)i;
    roundtrip(&c, t, v, BW_ARRAY_LEN(v));
    assert_int_equal(c.data[0], CHUNK_XOR);
    free(c.data);
}

static void test_int_to_xor(void **state)
{
    (void)state;
    /* Integers (with negative and huge jumps) and then a stale marker. */
    const double v[] = {
        5, -3, 9007199254740992.0, -9007199254740992.0, 0, 1, 2, 3, 100000, -1, 4, tsdb_stale_nan(),
        7};
    int64_t t[BW_ARRAY_LEN(v)];
    struct chunk c;
    for (size_t i = 0; i < BW_ARRAY_LEN(v); i++)
        t[i] = 1000 * (int64_t)i;
    roundtrip(&c, t, v, BW_ARRAY_LEN(v));
    assert_int_equal(c.data[0], CHUNK_XOR);
    free(c.data);

    /* All integers: INT; 2^53 + 2 is not held exactly by INT, -0.0 not at all. */
    roundtrip(&c, t, v, 11);
    assert_int_equal(c.data[0], CHUNK_INT);
    free(c.data);
    assert_true(chunk_value_is_int(9007199254740992.0));
    assert_false(chunk_value_is_int(9007199254740994.0));
    assert_false(chunk_value_is_int(-0.0));
    assert_false(chunk_value_is_int(0.5));
    assert_false(chunk_value_is_int(INFINITY));
    assert_false(chunk_value_is_int(NAN));
}

static void test_decimal_scales(void **state)
{
    (void)state;
    int64_t t[120];
    double v[120];
    struct chunk c;
    /* Prices in cents after an integral start: INT at scale 2, far smaller than XOR. */
    for (int i = 0; i < 120; i++) {
        t[i] = 1000LL * i;
        v[i] = i == 0 ? 10000 : round((10000 + sin(i) * 50) * 100) / 100;
    }
    roundtrip(&c, t, v, 120);
    assert_int_equal(c.data[0], CHUNK_INT | 2 << 4);
    assert_true(c.len < 5 + 120 * 3);
    free(c.data);
    /* Tenths, then hundredths: scale 1, then 2. */
    const double d[] = {0.5, 1.5, 2.25, -3.75, 0.1, 1e-6, 123456.789};
    int64_t td[BW_ARRAY_LEN(d)];
    for (size_t i = 0; i < BW_ARRAY_LEN(d); i++)
        td[i] = (int64_t)i;
    roundtrip(&c, td, d, 2);
    assert_int_equal(c.data[0], CHUNK_INT | 1 << 4);
    free(c.data);
    roundtrip(&c, td, d, 5);
    assert_int_equal(c.data[0], CHUNK_INT | 2 << 4);
    free(c.data);
    roundtrip(&c, td, d, 6); /* 1e-6: scale 6 */
    assert_int_equal(c.data[0], CHUNK_INT | 6 << 4);
    free(c.data);
    /* 123456.789 fits scale 6 too; 0.1 + 0.2 and -0.0 fit none: XOR. */
    roundtrip(&c, td, d, 7);
    assert_int_equal(c.data[0], CHUNK_INT | 6 << 4);
    free(c.data);
    const double x[] = {2.5, 0.1 + 0.2, -0.0};
    roundtrip(&c, td, x, 2);
    assert_int_equal(c.data[0], CHUNK_XOR);
    free(c.data);
    roundtrip(&c, td, x + 1, 2);
    assert_int_equal(c.data[0], CHUNK_XOR);
    free(c.data);
}

/* Series scraped together: the same timestamp region, packed apart and unpacked again. */
static void test_pack_unpack(void **state)
{
    (void)state;
    int64_t t[120];
    double a[120], b[120];
    struct chunk ca, cb;
    struct buf pa, pb, out;
    const uint8_t *ta, *tb;
    size_t na, nb, got;
    uint32_t ref;
    for (int i = 0; i < 120; i++) {
        t[i] = 1700000000000LL + 1000LL * i + (i * 7) % 5;
        a[i] = i * 3;
        b[i] = sin(i);
    }
    roundtrip(&ca, t, a, 120);
    roundtrip(&cb, t, b, 120);
    chunk_times(ca.data, ca.len, &ta, &na);
    chunk_times(cb.data, cb.len, &tb, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ta, tb, na);
    buf_init(&pa, 0);
    buf_init(&pb, 0);
    buf_init(&out, 0);
    assert_int_equal(chunk_pack(ca.data, ca.len, 77, &pa), BW_OK);
    assert_int_equal(chunk_pack(cb.data, cb.len, 0x01020304, &pb), BW_OK);
    assert_int_equal(pa.len, ca.len - na + 2);
    assert_int_equal(chunk_packed_ref((uint8_t *)pb.data, pb.len, &ref), BW_OK);
    assert_int_equal(ref, 0x01020304);
    assert_int_equal(chunk_unpack((uint8_t *)pa.data, pa.len, tb, nb, &out), BW_OK);
    decodes_to((uint8_t *)out.data, out.len, t, a, 120);
    assert_int_equal(chunk_unpack((uint8_t *)pb.data, pb.len, ta, na, &out), BW_OK);
    decodes_to((uint8_t *)out.data, out.len, t, b, 120);
    /* Too short to be packed, a block too long to be a region; a wrong block fails cleanly. */
    assert_int_equal(chunk_packed_ref((uint8_t *)pa.data, 6, &ref), BW_EIO);
    assert_int_equal(chunk_unpack((uint8_t *)pa.data, 6, ta, na, &out), BW_EIO);
    assert_int_equal(chunk_unpack((uint8_t *)pa.data, pa.len, ta, 0x10000, &out), BW_EIO);
    assert_int_equal(chunk_unpack((uint8_t *)pa.data, pa.len, ta, na / 2, &out), BW_OK);
    assert_int_equal(chunk_decode((uint8_t *)out.data, out.len, t, a, 120, &got), BW_EIO);
    buf_fini(&pa);
    buf_fini(&pb);
    buf_fini(&out);
    free(ca.data);
    free(cb.data);
}

static void test_timestamp_extremes(void **state)
{
    (void)state;
    const int64_t t[] = {INT64_MIN,       INT64_MIN + 1, -5,       0, 1, 3, 1LL << 40,
                         (1LL << 40) + 1, INT64_MAX - 1, INT64_MAX};
    const double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    struct chunk c;
    roundtrip(&c, t, v, BW_ARRAY_LEN(t));
    free(c.data);
}

static void test_corrupt_never_crashes(void **state)
{
    (void)state;
    int64_t t[120], dt[120];
    double v[120], dv[120];
    struct chunk c;
    size_t got;
    srand(7);
    for (int i = 0; i < 120; i++) {
        t[i] = 1000LL * i + rand() % 50;
        v[i] = i % 2 ? rand() / 7.0 : -i;
    }
    roundtrip(&c, t, v, 120);
    /* Every truncation fails cleanly (the last byte may only hold padding). */
    for (size_t len = 0; len + 1 < c.len; len++)
        assert_int_equal(chunk_decode(c.data, len, dt, dv, 120, &got), BW_EIO);
    /* Random damage: decodes or fails, never reads or writes outside. */
    uint8_t *copy = malloc(c.len);
    for (int round = 0; round < 5000; round++) {
        memcpy(copy, c.data, c.len);
        for (int k = 0; k < 1 + round % 4; k++)
            copy[(size_t)rand() % c.len] ^= (uint8_t)(1u << (rand() % 8));
        int rc = chunk_decode(copy, c.len, dt, dv, 120, &got);
        assert_true(rc == BW_OK || rc == BW_EIO);
        for (size_t i = 1; rc == BW_OK && i < got; i++)
            assert_true(dt[i] > dt[i - 1]);
    }
    memcpy(copy, c.data, c.len);
    copy[0] = 9; /* no such encoding */
    assert_int_equal(chunk_decode(copy, c.len, dt, dv, 120, &got), BW_EIO);
    copy[0] = CHUNK_XOR | 2 << 4; /* XOR has no scale */
    assert_int_equal(chunk_decode(copy, c.len, dt, dv, 120, &got), BW_EIO);
    copy[0] = CHUNK_INT | (CHUNK_SCALE_MAX + 1) << 4;
    assert_int_equal(chunk_decode(copy, c.len, dt, dv, 120, &got), BW_EIO);
    copy[0] = c.data[0];
    copy[3] = 0xff; /* a timestamp region past the end */
    copy[4] = 0xff;
    assert_int_equal(chunk_decode(copy, c.len, dt, dv, 120, &got), BW_EIO);
    free(copy);
    free(c.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_is_int_and_small),
        cmocka_unit_test(test_gauge_xor),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_int_to_xor),
        cmocka_unit_test(test_decimal_scales),
        cmocka_unit_test(test_pack_unpack),
        cmocka_unit_test(test_timestamp_extremes),
        cmocka_unit_test(test_corrupt_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
