/* Tests for src/tsdb/chunk.c: samples round-trip bit for bit through both encodings — counters,
 * gauges, negative and huge jumps, NaN, stale markers, ±Inf, -0.0, timestamps from INT64_MIN
 * to INT64_MAX — the encoding switches from INT to XOR when a value needs it, the sizes are
 * what the format promises, and no corrupt or truncated chunk crashes the decoder. */
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

/* Encodes t/v into c (caller frees c.data) and checks that it decodes to the same bits. */
static void roundtrip(struct chunk *c, const int64_t *t, const double *v, size_t n)
{
    struct chunk_app a;
    int64_t *dt = malloc(n * sizeof(*dt));
    double *dv = malloc(n * sizeof(*dv));
    size_t got;
    *c = (struct chunk){0};
    assert_int_equal(chunk_start(c, &a, t[0], v[0]), BW_OK);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(chunk_append(c, &a, t[i], v[i]), BW_OK);
    assert_int_equal(chunk_count(c->data, c->len), n);
    assert_int_equal(c->mint, t[0]);
    assert_int_equal(c->maxt, t[n - 1]);
    assert_int_equal(chunk_decode(c->data, c->len, dt, dv, n, &got), BW_OK);
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(dt[i], t[i]);
        assert_true(bits(dv[i]) == bits(v[i]));
    }
    /* Too small an output is refused, not overrun. */
    assert_int_equal(chunk_decode(c->data, c->len, dt, dv, n - 1, &got), BW_EIO);
    free(dt);
    free(dv);
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
    /* Header 3, first t 7 + 42 bits, first v 7 + 12 bits, second sample two dod buckets
     * (1110 + 14 for the delta 1000, 10 + 7 for the delta 7), then 2 bits a sample. */
    assert_int_equal(c.len, 3 + (7 + 42 + 7 + 12 + 18 + 9 + 118 * 2 + 7) / 8);
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
    copy[0] = 9;
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
        cmocka_unit_test(test_timestamp_extremes),
        cmocka_unit_test(test_corrupt_never_crashes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
