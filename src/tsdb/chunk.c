/* chunk: the sample codec — up to CHUNK_SAMPLES samples of one series packed into a bit stream.
 *
 * Main data structure: struct chunk (tsdb_int.h), a byte array that is at every moment a
 * complete, persistable chunk: a 3-byte header (encoding, sample count) and a stream of bits,
 * most significant first. struct chunk_app carries what the appender needs between samples.
 *
 * Timestamps: the first as a length-prefixed zigzag integer, then delta-of-delta in buckets
 * tuned for scrapes with a few milliseconds of jitter: '0' (the same delta), '10' + 4 bits,
 * '110' + 8, '1110' + 14, '11110' + 20, '11111' + 64. All arithmetic is modulo 2^64, so any
 * increasing int64 sequence, however far apart, round-trips.
 * Values: CHUNK_XOR is Gorilla's XOR against the previous value with a reused leading/trailing
 * zero window, which keeps every bit (stale NaN, -0.0, ±Inf) exact. CHUNK_INT, used when every
 * value is an integer below 2^53 (counters, most gauges), stores the value's delta-of-delta in
 * buckets '0', '10' + 7, '110' + 13, '1110' + 20, '11110' + 32, '11111' + 64: a counter that
 * grows steadily costs one bit a sample, where XOR spends a dozen.
 *
 * The design decision: a chunk starts as INT when its first value allows, and the first value
 * that does not fit re-encodes the chunk as XOR (at most CHUNK_SAMPLES samples, rarely), so
 * the encoding is chosen per chunk from all its values without buffering samples uncoded. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/tsdb_int.h"

/* The most bits one sample takes: a 64-bit timestamp bucket and a new XOR window. */
#define MAX_SAMPLE_BYTES 20

static const uint8_t t_widths[] = {4, 8, 14, 20, 64};
static const uint8_t v_widths[] = {7, 13, 20, 32, 64};
#define NBUCKETS 5

bool chunk_value_is_int(double v)
{
    return v >= -9007199254740992.0 && v <= 9007199254740992.0 && v == floor(v) &&
           !(v == 0 && signbit(v));
}

static uint64_t zigzag(uint64_t u)
{
    return (u << 1) ^ (0 - (u >> 63));
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static uint64_t dbits(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof(u));
    return u;
}

static double bitsd(uint64_t u)
{
    double v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

/* ---- writing ---- */

/* Appends the low n bits of x (n <= 64). The caller has reserved the room. */
static void put(struct chunk *c, struct chunk_app *a, uint64_t x, unsigned n)
{
    while (n > 0) {
        unsigned used = a->nbits & 7, room = 8 - used, take = n < room ? n : room;
        uint8_t *p = c->data + CHUNK_HEADER + a->nbits / 8;
        uint8_t bits = (uint8_t)((x >> (n - take)) & ((1u << take) - 1));
        if (used == 0)
            *p = 0;
        *p |= (uint8_t)(bits << (room - take));
        a->nbits += take;
        n -= take;
    }
}

/* A zigzag integer as 7 bits of length and that many bits. */
static void put_var(struct chunk *c, struct chunk_app *a, uint64_t u)
{
    uint64_t z = zigzag(u);
    unsigned n = z ? 64 - (unsigned)__builtin_clzll(z) : 0;
    put(c, a, n, 7);
    put(c, a, z, n);
}

/* Whether the two's-complement value u fits in n bits. */
static bool fits(uint64_t u, unsigned n)
{
    return n == 64 || u + (1ULL << (n - 1)) < (1ULL << n);
}

static void put_dod(struct chunk *c, struct chunk_app *a, uint64_t dod, const uint8_t *widths)
{
    if (dod == 0) {
        put(c, a, 0, 1);
        return;
    }
    for (unsigned i = 0; i < NBUCKETS; i++) {
        if (!fits(dod, widths[i]))
            continue;
        /* i + 1 ones then a zero; the last bucket has no zero. */
        if (i + 1 < NBUCKETS)
            put(c, a, ((1ULL << (i + 1)) - 1) << 1, i + 2);
        else
            put(c, a, (1ULL << NBUCKETS) - 1, NBUCKETS);
        put(c, a, dod, widths[i]);
        return;
    }
}

static void put_xor(struct chunk *c, struct chunk_app *a, uint64_t bits)
{
    uint64_t x = bits ^ a->v;
    a->v = bits;
    if (x == 0) {
        put(c, a, 0, 1);
        return;
    }
    unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
    if (lead > 31)
        lead = 31;
    if (a->lead != 0xff && lead >= a->lead && trail >= a->trail) {
        put(c, a, 2, 2);
        put(c, a, x >> a->trail, 64 - a->lead - a->trail);
        return;
    }
    unsigned sig = 64 - lead - trail;
    put(c, a, 3, 2);
    put(c, a, lead, 5);
    put(c, a, sig & 63, 6); /* 64 is written as 0: a window is never empty */
    put(c, a, x >> trail, sig);
    a->lead = (uint8_t)lead;
    a->trail = (uint8_t)trail;
}

static int reserve(struct chunk *c, size_t need)
{
    if (need <= c->cap)
        return BW_OK;
    /* A quarter more than asked, in 16-byte steps: head memory, not realloc calls, is what
     * an idle series costs, and a chunk is reallocated only a dozen times as it fills. */
    size_t cap = (need + need / 4 + 15) & ~(size_t)15;
    uint8_t *p = realloc(c->data, cap);
    if (!p)
        return BW_ENOMEM;
    c->data = p;
    c->cap = (uint32_t)cap;
    return BW_OK;
}

static void set_count(struct chunk *c, size_t n)
{
    c->data[1] = (uint8_t)(n & 0xff);
    c->data[2] = (uint8_t)(n >> 8);
}

/* Appends one sample to a chunk whose encoding suits v. */
static int append_coded(struct chunk *c, struct chunk_app *a, int64_t t, double v)
{
    size_t n = chunk_count(c->data, c->len);
    int rc = reserve(c, CHUNK_HEADER + (a->nbits + 7) / 8 + MAX_SAMPLE_BYTES);
    if (rc)
        return rc;
    uint64_t ut = (uint64_t)t;
    if (n == 0) {
        put_var(c, a, ut);
        a->dt = 0;
        if (c->data[0] == CHUNK_INT) {
            a->v = (uint64_t)(int64_t)v;
            a->dv = 0;
            put_var(c, a, a->v);
        } else {
            a->v = dbits(v);
            a->lead = 0xff;
            put(c, a, a->v, 64);
        }
        c->mint = t;
    } else {
        uint64_t dt = ut - a->t;
        put_dod(c, a, dt - a->dt, t_widths);
        a->dt = dt;
        if (c->data[0] == CHUNK_INT) {
            uint64_t iv = (uint64_t)(int64_t)v, dv = iv - a->v;
            put_dod(c, a, dv - a->dv, v_widths);
            a->v = iv;
            a->dv = dv;
        } else {
            put_xor(c, a, dbits(v));
        }
    }
    a->t = ut;
    c->maxt = t;
    c->len = CHUNK_HEADER + (a->nbits + 7) / 8;
    set_count(c, n + 1);
    return BW_OK;
}

static int start_as(struct chunk *c, struct chunk_app *a, enum chunk_encoding enc)
{
    int rc = reserve(c, CHUNK_HEADER + MAX_SAMPLE_BYTES);
    if (rc)
        return rc;
    c->data[0] = (uint8_t)enc;
    set_count(c, 0);
    c->len = CHUNK_HEADER;
    *a = (struct chunk_app){.lead = 0xff};
    return BW_OK;
}

int chunk_start(struct chunk *c, struct chunk_app *a, int64_t t, double v)
{
    int rc = start_as(c, a, chunk_value_is_int(v) ? CHUNK_INT : CHUNK_XOR);
    return rc ? rc : append_coded(c, a, t, v);
}

/* Re-encodes an INT chunk as XOR. */
static int transcode(struct chunk *c, struct chunk_app *a)
{
    size_t n = chunk_count(c->data, c->len), got;
    int64_t *t = malloc(n * sizeof(*t));
    double *v = malloc(n * sizeof(*v));
    struct chunk nc = {0};
    struct chunk_app na;
    int rc = BW_ENOMEM;
    if (!t || !v)
        goto out;
    rc = chunk_decode(c->data, c->len, t, v, n, &got);
    if (rc)
        goto out;
    rc = start_as(&nc, &na, CHUNK_XOR);
    for (size_t i = 0; rc == BW_OK && i < got; i++)
        rc = append_coded(&nc, &na, t[i], v[i]);
    if (rc)
        goto out;
    free(c->data);
    c->data = nc.data;
    c->len = nc.len;
    c->cap = nc.cap;
    nc.data = NULL;
    *a = na;
out:
    free(nc.data);
    free(t);
    free(v);
    return rc;
}

int chunk_append(struct chunk *c, struct chunk_app *a, int64_t t, double v)
{
    if (c->data[0] == CHUNK_INT && !chunk_value_is_int(v)) {
        int rc = transcode(c, a);
        if (rc)
            return rc;
    }
    return append_coded(c, a, t, v);
}

size_t chunk_count(const uint8_t *data, size_t len)
{
    return len < CHUNK_HEADER ? 0 : (size_t)data[1] | (size_t)data[2] << 8;
}

void chunk_shrink(struct chunk *c)
{
    uint8_t *p = realloc(c->data, c->len);
    if (p) {
        c->data = p;
        c->cap = c->len;
    }
}

void chunk_free(struct chunk *c)
{
    if (!c)
        return;
    free(c->data);
    free(c);
}

/* ---- reading ---- */

struct bitr {
    const uint8_t *p;
    size_t pos, end; /* in bits */
};

/* Reads n bits (n <= 64) into *x. BW_EIO past the end. */
static int get(struct bitr *r, unsigned n, uint64_t *x)
{
    if (n > r->end - r->pos)
        return BW_EIO;
    uint64_t out = 0;
    while (n > 0) {
        unsigned used = r->pos & 7, room = 8 - used, take = n < room ? n : room;
        unsigned byte = r->p[r->pos / 8];
        out = (out << take) | ((byte >> (room - take)) & ((1u << take) - 1));
        r->pos += take;
        n -= take;
    }
    *x = out;
    return BW_OK;
}

static int get_var(struct bitr *r, uint64_t *u)
{
    uint64_t n, z;
    int rc = get(r, 7, &n);
    if (rc || n > 64)
        return BW_EIO;
    rc = get(r, (unsigned)n, &z);
    *u = unzigzag(z);
    return rc;
}

static int get_dod(struct bitr *r, const uint8_t *widths, uint64_t *dod)
{
    unsigned ones = 0;
    uint64_t bit = 1;
    while (ones < NBUCKETS) {
        if (get(r, 1, &bit))
            return BW_EIO;
        if (!bit)
            break;
        ones++;
    }
    if (ones == 0) {
        *dod = 0;
        return BW_OK;
    }
    unsigned w = widths[ones - 1];
    uint64_t u;
    if (get(r, w, &u))
        return BW_EIO;
    if (w < 64 && (u >> (w - 1)) & 1)
        u |= ~((1ULL << w) - 1);
    *dod = u;
    return BW_OK;
}

static int get_xor(struct bitr *r, uint64_t *prev, unsigned *lead, unsigned *sig)
{
    uint64_t b, x;
    if (get(r, 1, &b))
        return BW_EIO;
    if (!b)
        return BW_OK;
    if (get(r, 1, &b))
        return BW_EIO;
    if (b) {
        uint64_t l, s;
        if (get(r, 5, &l) || get(r, 6, &s))
            return BW_EIO;
        *lead = (unsigned)l;
        *sig = s ? (unsigned)s : 64;
        if (*lead + *sig > 64)
            return BW_EIO;
    } else if (*sig == 0) {
        return BW_EIO; /* a reused window before any was set */
    }
    if (get(r, *sig, &x))
        return BW_EIO;
    *prev ^= x << (64 - *lead - *sig);
    return BW_OK;
}

int chunk_decode(const uint8_t *data, size_t len, int64_t *t, double *v, size_t cap, size_t *n)
{
    size_t count = chunk_count(data, len);
    struct bitr r = {data, CHUNK_HEADER * 8, len * 8};
    uint64_t ut = 0, dt = 0, uv = 0, dv = 0, dod;
    unsigned lead = 0, sig = 0;
    *n = 0;
    if (len < CHUNK_HEADER || (data[0] != CHUNK_XOR && data[0] != CHUNK_INT) || count > cap)
        return BW_EIO;
    for (size_t i = 0; i < count; i++) {
        if (i == 0) {
            if (get_var(&r, &ut))
                return BW_EIO;
            if (data[0] == CHUNK_INT ? get_var(&r, &uv) : get(&r, 64, &uv))
                return BW_EIO;
        } else {
            if (get_dod(&r, t_widths, &dod))
                return BW_EIO;
            dt += dod;
            if ((int64_t)(ut + dt) <= (int64_t)ut)
                return BW_EIO;
            ut += dt;
            if (data[0] == CHUNK_INT) {
                if (get_dod(&r, v_widths, &dod))
                    return BW_EIO;
                dv += dod;
                uv += dv;
            } else if (get_xor(&r, &uv, &lead, &sig)) {
                return BW_EIO;
            }
        }
        t[i] = (int64_t)ut;
        v[i] = data[0] == CHUNK_INT ? (double)(int64_t)uv : bitsd(uv);
    }
    *n = count;
    return BW_OK;
}
