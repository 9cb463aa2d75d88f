/* Tests for src/remote/proto.c: each sample encoded as a WriteRequest field, checked field by
 * field by the minimal protobuf decoder below (written from the wire format, not from the
 * encoder), stale markers with their exact bits, negative and large timestamps, batches as
 * concatenations, and snappy output that snappy's own decoder restores. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "remote/remote_int.h"
#include "tsdb/tsdb.h"

/* ---- a minimal decoder ---- */

struct rd {
    const uint8_t *p, *end;
};

static uint64_t varint(struct rd *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        assert_true(r->p < r->end);
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    fail_msg("varint longer than 10 bytes");
    return 0;
}

/* Reads a tag; returns the field number, *wire the wire type. */
static unsigned tag(struct rd *r, unsigned *wire)
{
    uint64_t t = varint(r);
    *wire = (unsigned)(t & 7);
    return (unsigned)(t >> 3);
}

/* A length-delimited field's contents as a sub-reader. */
static struct rd sub(struct rd *r)
{
    uint64_t n = varint(r);
    assert_true(n <= (uint64_t)(r->end - r->p));
    struct rd s = {r->p, r->p + n};
    r->p += n;
    return s;
}

struct decoded {
    char names[16][64], values[16][64];
    size_t nlabels, nsamples;
    uint64_t bits;
    int64_t t;
};

static void string_field(struct rd *r, char *out)
{
    struct rd s = sub(r);
    size_t n = (size_t)(s.end - s.p);
    assert_true(n < 64);
    memcpy(out, s.p, n);
    out[n] = '\0';
}

static void decode_series(struct rd ts, struct decoded *out)
{
    memset(out, 0, sizeof(*out));
    unsigned wire;
    while (ts.p < ts.end) {
        unsigned f = tag(&ts, &wire);
        assert_int_equal(wire, 2);
        struct rd m = sub(&ts);
        if (f == 1) { /* Label */
            assert_true(out->nlabels < 16);
            assert_int_equal(tag(&m, &wire), 1);
            assert_int_equal(wire, 2);
            string_field(&m, out->names[out->nlabels]);
            assert_int_equal(tag(&m, &wire), 2);
            assert_int_equal(wire, 2);
            string_field(&m, out->values[out->nlabels]);
            assert_true(m.p == m.end);
            out->nlabels++;
        } else { /* Sample */
            assert_int_equal(f, 2);
            assert_int_equal(tag(&m, &wire), 1);
            assert_int_equal(wire, 1); /* fixed64 */
            assert_true(m.end - m.p >= 8);
            out->bits = 0;
            for (int i = 0; i < 8; i++)
                out->bits |= (uint64_t)m.p[i] << (8 * i);
            m.p += 8;
            assert_int_equal(tag(&m, &wire), 2);
            assert_int_equal(wire, 0);
            out->t = (int64_t)varint(&m);
            assert_true(m.p == m.end);
            out->nsamples++;
        }
    }
}

/* Decodes a WriteRequest of n TimeSeries into out[0..n). */
static void decode_request(const uint8_t *p, size_t len, struct decoded *out, size_t n)
{
    struct rd r = {p, p + len};
    unsigned wire;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(tag(&r, &wire), 1);
        assert_int_equal(wire, 2);
        decode_series(sub(&r), &out[i]);
    }
    assert_true(r.p == r.end);
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static void test_one_series(void **state)
{
    struct label v[] = {{"__name__", "equity"}, {"instance", "bot-1"}, {"job", "breakwatch"}};
    struct labelset ls = {v, 3};
    struct buf b;
    struct decoded d;
    buf_init(&b, 0);
    assert_int_equal(remote_encode_series(&b, &ls, 1796600000123, 10013.78), BW_OK);
    decode_request((const uint8_t *)b.data, b.len, &d, 1);
    assert_int_equal(d.nlabels, 3);
    assert_string_equal(d.names[0], "__name__");
    assert_string_equal(d.values[0], "equity");
    assert_string_equal(d.names[1], "instance");
    assert_string_equal(d.values[1], "bot-1");
    assert_string_equal(d.names[2], "job");
    assert_string_equal(d.values[2], "breakwatch");
    assert_int_equal(d.nsamples, 1);
    assert_true(d.bits == bits_of(10013.78));
    assert_true(d.t == 1796600000123);
    /* Wire bytes of the start, by hand: tag 0x0a, then the TimeSeries' length; its first
     * field a Label (0x0a), length 2+8 + 2+6 = 18, then name (0x0a, 8, "__name__"). */
    const uint8_t *p = (const uint8_t *)b.data;
    assert_int_equal(p[0], 0x0a);
    assert_int_equal(p[2], 0x0a);
    assert_int_equal(p[3], 18);
    assert_int_equal(p[4], 0x0a);
    assert_int_equal(p[5], 8);
    assert_memory_equal(p + 6, "__name__", 8);
    buf_fini(&b);
}

static void test_stale_and_special_values(void **state)
{
    struct label v[] = {{"__name__", "up"}};
    struct labelset ls = {v, 1};
    double vals[] = {tsdb_stale_nan(), -0.0, 1.0 / 0.0, 5e-324};
    int64_t ts[] = {1000, -1, 0, INT64_MAX};
    struct buf b;
    struct decoded d[4];
    buf_init(&b, 0);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(remote_encode_series(&b, &ls, ts[i], vals[i]), BW_OK);
    decode_request((const uint8_t *)b.data, b.len, d, 4);
    assert_true(d[0].bits == TSDB_STALE_NAN_BITS);
    assert_true(d[1].bits == 0x8000000000000000ULL);
    assert_true(d[2].bits == 0x7ff0000000000000ULL);
    assert_true(d[3].bits == 1);
    for (size_t i = 0; i < 4; i++)
        assert_true(d[i].t == ts[i]);
    buf_fini(&b);
}

static void test_snappy_round_trip(void **state)
{
    struct label v[] = {{"__name__", "orders_total"}, {"status", "filled"}};
    struct labelset ls = {v, 2};
    struct buf b, z;
    buf_init(&b, 0);
    buf_init(&z, 0);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(remote_encode_series(&b, &ls, 1000 * i, i), BW_OK);
    assert_int_equal(remote_compress(b.data, b.len, &z), BW_OK);
    assert_true(z.len < b.len / 4); /* repeated labels compress well */
    size_t n = 0;
    assert_int_equal(snappy_uncompressed_length(z.data, z.len, &n), SNAPPY_OK);
    assert_int_equal(n, b.len);
    char *out = malloc(n);
    assert_int_equal(snappy_uncompress(z.data, z.len, out, &n), SNAPPY_OK);
    assert_memory_equal(out, b.data, b.len);
    struct decoded *d = malloc(2000 * sizeof(*d));
    decode_request((const uint8_t *)out, n, d, 2000);
    assert_true(d[1999].t == 1999000);
    assert_true(d[1999].bits == bits_of(1999.0));
    free(d);
    free(out);
    buf_fini(&b);
    buf_fini(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_series),
        cmocka_unit_test(test_stale_and_special_values),
        cmocka_unit_test(test_snappy_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
