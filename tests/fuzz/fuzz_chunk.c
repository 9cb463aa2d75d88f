/* fuzz_chunk: the chunk codec (src/tsdb/chunk.c). The first input byte picks a mode: decode the
 * rest as a chunk (what persist.c reads back from disk); split the rest into a packed chunk and
 * a timestamp block and unpack them (what a block load does); or read the rest as samples,
 * encode them, and check that decoding — open, closed, and packed then unpacked — gives back
 * exactly the same timestamps and value bits. The design decision: the encoder is checked
 * against itself, so a mismatch is an abort() libFuzzer reports like a crash. */
#include "fuzz.h"

#include "tsdb/tsdb_int.h"

#define CAP 256

static int64_t t_out[CAP];
static double v_out[CAP];

static uint64_t bits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static void decode_any(const uint8_t *p, size_t len)
{
    size_t got;
    chunk_count(p, len);
    if (chunk_decode(p, len, t_out, v_out, CAP, &got) == BW_OK && got > CAP)
        abort();
}

static void unpack_any(const uint8_t *p, size_t len)
{
    if (len < 2)
        return;
    size_t split = p[0] % len;
    uint32_t ref;
    chunk_packed_ref(p + 1, split, &ref);
    struct buf out;
    buf_init(&out, 0);
    if (chunk_unpack(p + 1, split, p + 1 + split, len - 1 - split, &out) == BW_OK)
        decode_any((const uint8_t *)out.data, out.len);
    buf_fini(&out);
}

/* Decodes data[0..len) and compares it with t/v[0..n). */
static void expect(const uint8_t *data, size_t len, const int64_t *t, const double *v, size_t n)
{
    size_t got;
    if (chunk_decode(data, len, t_out, v_out, CAP, &got) != BW_OK || got != n)
        abort();
    for (size_t i = 0; i < n; i++)
        if (t_out[i] != t[i] || bits(v_out[i]) != bits(v[i]))
            abort();
}

/* Samples from p: 8 bytes of start time, then per sample 4 bytes of delta (at least 1) and 8
 * bytes of value bits, up to CHUNK_SAMPLES. */
static void roundtrip(const uint8_t *p, size_t len)
{
    int64_t t[CHUNK_SAMPLES];
    double v[CHUNK_SAMPLES];
    size_t n = 0;
    if (len < 8)
        return;
    int64_t t0;
    memcpy(&t0, p, 8);
    t0 %= (int64_t)1 << 60; /* room for 120 deltas below 2^32 without overflow */
    for (size_t at = 8; at + 12 <= len && n < CHUNK_SAMPLES; at += 12) {
        uint32_t dt;
        memcpy(&dt, p + at, 4);
        memcpy(&v[n], p + at + 4, 8);
        t[n] = (n ? t[n - 1] : t0) + (n ? (int64_t)dt + 1 : 0);
        n++;
    }
    if (n == 0)
        return;
    struct chunk c = {0};
    struct chunk_app a;
    if (chunk_start(&c, &a, t[0], v[0]) != BW_OK)
        abort();
    for (size_t i = 1; i < n; i++)
        if (chunk_append(&c, &a, t[i], v[i]) != BW_OK)
            abort();
    if (chunk_count(c.data, c.len) != n || c.mint != t[0] || c.maxt != t[n - 1])
        abort();
    expect(c.data, c.len, t, v, n);
    chunk_shrink(&c, &a);
    expect(c.data, c.len, t, v, n);

    const uint8_t *ts;
    size_t tn;
    chunk_times(c.data, c.len, &ts, &tn);
    struct buf packed, unpacked;
    buf_init(&packed, 0);
    buf_init(&unpacked, 0);
    uint32_t ref = 0;
    if (chunk_pack(c.data, c.len, 42, &packed) != BW_OK ||
        chunk_packed_ref((const uint8_t *)packed.data, packed.len, &ref) != BW_OK || ref != 42 ||
        chunk_unpack((const uint8_t *)packed.data, packed.len, ts, tn, &unpacked) != BW_OK)
        abort();
    expect((const uint8_t *)unpacked.data, unpacked.len, t, v, n);
    buf_fini(&packed);
    buf_fini(&unpacked);
    free(c.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    /* Copies, so that reads past the end hit ASan's redzone of an exact-size allocation. */
    uint8_t *p = malloc(size - 1 ? size - 1 : 1);
    if (!p)
        abort();
    memcpy(p, data + 1, size - 1);
    switch (data[0] % 3) {
    case 0:
        decode_any(p, size - 1);
        break;
    case 1:
        unpack_any(p, size - 1);
        break;
    default:
        roundtrip(p, size - 1);
        break;
    }
    free(p);
    return 0;
}
