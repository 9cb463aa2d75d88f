/* chunk: the sample codec — up to CHUNK_SAMPLES samples of one series packed into two bit
 * streams, one for the timestamps and one for the values.
 *
 * Main data structure: struct chunk (tsdb_int.h), a byte array that is at every moment a
 * complete, decodable chunk: a 5-byte header (encoding, sample count, length of the timestamp
 * region, the last two little endian), the timestamp region, then the value region to the end;
 * bits most significant first. An open chunk keeps a few spare bytes at the end of its
 * timestamp region (never read) and grows the region by moving the values up; chunk_shrink
 * drops them when the chunk is cut. struct chunk_app carries what the appender needs between
 * samples.
 *
 * Timestamps: the first as a length-prefixed zigzag integer, then delta-of-delta in buckets
 * tuned for scrapes with a few milliseconds of jitter: '0' (the same delta), '10' + 4 bits,
 * '110' + 8, '1110' + 14, '11110' + 20, '11111' + 64. All arithmetic is modulo 2^64, so any
 * increasing int64 sequence, however far apart, round-trips.
 * Values: CHUNK_XOR is Gorilla's XOR against the previous value with a reused leading/trailing
 * zero window, which keeps every bit (stale NaN, -0.0, ±Inf) exact. CHUNK_INT, used when every
 * value is n / 10^k for an integer |n| <= 2^53 and a scale k <= CHUNK_SCALE_MAX kept in the
 * encoding byte's high nibble (counters and most gauges at k = 0, prices in cents at k = 2),
 * stores n's delta-of-delta in buckets '0', '10' + 7, '110' + 13, '1110' + 20, '11110' + 32,
 * '11111' + 64: a counter that grows steadily costs one bit a sample, where XOR spends a dozen.
 *
 * Persisted, a chunk is packed: its timestamp region goes to a block shared by every chunk
 * with the same one (the series of one scrape, cut together), and the chunk keeps its header
 * with the block's reference (u32 LE) in place of the region's length, then its values.
 * chunk_unpack puts the two back together into a chunk for chunk_decode.
 *
 * The design decisions: timestamps and values are separate streams so that identical timestamp
 * sequences are identical bytes, stored once; and a chunk starts with the tightest encoding
 * its first value allows, the first value that does not fit re-encoding the chunk at a finer
 * scale or as XOR (at most CHUNK_SAMPLES samples, rarely), so the encoding is chosen per chunk
 * from all its values without buffering samples uncoded. */
#include <stdlib.h>
#include <string.h>

#include "tsdb/tsdb_int.h"

/* The most bytes one value takes (a new XOR window), and the spare bytes an open chunk's
 * timestamp region grows by beyond what the next timestamp needs. */
#define MAX_VALUE_BYTES 10
#define TS_SLACK        4

static const uint8_t t_widths[] = {4, 8, 14, 20, 64};
static const uint8_t v_widths[] = {7, 13, 20, 32, 64};
#define NBUCKETS 5

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

static const double pow10s[CHUNK_SCALE_MAX + 1] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6};

static unsigned get_u16(const uint8_t *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static void set_u16(uint8_t *p, size_t x)
{
    p[0] = (uint8_t)(x & 0xff);
    p[1] = (uint8_t)(x >> 8);
}

/* v as n / 10^k exactly (the decoder's very division gives v back bit for bit), with
 * |n| <= 2^53. A guess rounded from v * 10^k is verified, never trusted. */
static bool to_int(double v, unsigned k, int64_t *n)
{
    double x = k == 0 ? v : v * pow10s[k];
    if (!(x >= -9007199254740992.0 && x <= 9007199254740992.0))
        return false; /* NaN too */
    int64_t i = (int64_t)(k == 0 ? x : x < 0 ? x - 0.5 : x + 0.5);
    double back = k == 0 ? (double)i : (double)i / pow10s[k];
    if (dbits(back) != dbits(v))
        return false; /* not integral at this scale, or -0.0 */
    *n = i;
    return true;
}

bool chunk_value_is_int(double v)
{
    int64_t n;
    return to_int(v, 0, &n);
}

/* Appends the low n bits of x (n <= 64) at bit *pos of region p, most significant first. The
 * caller has reserved the room. */
static void put(uint8_t *p, uint16_t *pos, uint64_t x, unsigned n)
{
    while (n > 0) {
        unsigned used = *pos & 7u, room = 8 - used, take = n < room ? n : room;
        uint8_t *b = p + *pos / 8;
        uint8_t bits = (uint8_t)((x >> (n - take)) & ((1u << take) - 1));
        if (used == 0)
            *b = 0;
        *b |= (uint8_t)(bits << (room - take));
        *pos = (uint16_t)(*pos + take);
        n -= take;
    }
}

/* Bits of zigzag(u), 0 for 0. */
static unsigned zz_len(uint64_t u)
{
    uint64_t z = zigzag(u);
    return z ? 64 - (unsigned)__builtin_clzll(z) : 0;
}

/* A zigzag integer as 7 bits of length and that many bits. */
static void put_var(uint8_t *p, uint16_t *pos, uint64_t u)
{
    unsigned n = zz_len(u);
    put(p, pos, n, 7);
    put(p, pos, zigzag(u), n);
}

/* Whether the two's-complement value u fits in n bits. */
static bool fits(uint64_t u, unsigned n)
{
    return n == 64 || u + (1ULL << (n - 1)) < (1ULL << n);
}

/* The bucket of a non-zero delta-of-delta: the first whose width holds it. */
static unsigned bucket(uint64_t dod, const uint8_t *widths)
{
    unsigned i = 0;
    while (i + 1 < NBUCKETS && !fits(dod, widths[i]))
        i++;
    return i;
}

/* Bits put_dod writes for dod. */
static unsigned dod_len(uint64_t dod, const uint8_t *widths)
{
    if (dod == 0)
        return 1;
    unsigned i = bucket(dod, widths);
    return (i + 1 < NBUCKETS ? i + 2 : NBUCKETS) + widths[i];
}

static void put_dod(uint8_t *p, uint16_t *pos, uint64_t dod, const uint8_t *widths)
{
    if (dod == 0) {
        put(p, pos, 0, 1);
        return;
    }
    unsigned i = bucket(dod, widths);
    /* i + 1 ones then a zero; the last bucket has no zero. */
    if (i + 1 < NBUCKETS)
        put(p, pos, ((1ULL << (i + 1)) - 1) << 1, i + 2);
    else
        put(p, pos, (1ULL << NBUCKETS) - 1, NBUCKETS);
    put(p, pos, dod, widths[i]);
}

static void put_xor(uint8_t *p, struct chunk_app *a, uint64_t bits)
{
    uint64_t x = bits ^ a->v;
    a->v = bits;
    if (x == 0) {
        put(p, &a->vbits, 0, 1);
        return;
    }
    unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
    if (lead > 31)
        lead = 31;
    if (a->lead != 0xff && lead >= a->lead && trail >= a->trail) {
        put(p, &a->vbits, 2, 2);
        put(p, &a->vbits, x >> a->trail, 64 - a->lead - a->trail);
        return;
    }
    unsigned sig = 64 - lead - trail;
    put(p, &a->vbits, 3, 2);
    put(p, &a->vbits, lead, 5);
    put(p, &a->vbits, sig & 63, 6); /* 64 is written as 0: a window is never empty */
    put(p, &a->vbits, x >> trail, sig);
    a->lead = (uint8_t)lead;
    a->trail = (uint8_t)trail;
}

static int reserve(struct chunk *c, size_t need)
{
    if (need <= c->cap)
        return BW_OK;
    /* An eighth more than asked, rounded so that malloc's 16-byte steps are used whole:
     * head memory, not realloc calls, is what an idle series costs. */
    size_t cap = ((need + need / 8 + 8 + 15) & ~(size_t)15) - 8;
    uint8_t *p = realloc(c->data, cap);
    if (!p)
        return BW_ENOMEM;
    c->data = p;
    c->cap = (uint16_t)cap;
    return BW_OK;
}

/* Room for one more sample: tbits more bits in the timestamp region, which grows by moving
 * the value region up, and MAX_VALUE_BYTES at the end. */
static int make_room(struct chunk *c, struct chunk_app *a, unsigned tbits)
{
    size_t treg = get_u16(c->data + 3), need = ((size_t)a->tbits + tbits + 7) / 8;
    size_t grow = need > treg ? need - treg + TS_SLACK : 0, vlen = c->len - CHUNK_HEADER - treg;
    int rc = reserve(c, c->len + grow + MAX_VALUE_BYTES);
    if (rc || grow == 0)
        return rc;
    memmove(c->data + CHUNK_HEADER + treg + grow, c->data + CHUNK_HEADER + treg, vlen);
    set_u16(c->data + 3, treg + grow);
    c->len = (uint16_t)(c->len + grow);
    return BW_OK;
}

/* Appends one sample to a chunk whose encoding suits v; iv: v as the INT encoding's integer. */
static int append_coded(struct chunk *c, struct chunk_app *a, int64_t t, double v, int64_t iv)
{
    size_t n = chunk_count(c->data, c->len);
    uint64_t ut = (uint64_t)t, dt = n ? ut - (uint64_t)c->maxt : 0, dod = dt - a->dt;
    int rc = make_room(c, a, n ? dod_len(dod, t_widths) : 7 + zz_len(ut));
    if (rc)
        return rc;
    uint8_t *tr = c->data + CHUNK_HEADER, *vr = tr + get_u16(c->data + 3);
    bool is_int = (c->data[0] & 15) == CHUNK_INT;
    if (n == 0) {
        put_var(tr, &a->tbits, ut);
        if (is_int) {
            a->v = (uint64_t)iv;
            a->dv = 0;
            put_var(vr, &a->vbits, a->v);
        } else {
            a->v = dbits(v);
            a->lead = 0xff;
            put(vr, &a->vbits, a->v, 64);
        }
        c->mint = t;
    } else {
        put_dod(tr, &a->tbits, dod, t_widths);
        if (is_int) {
            uint64_t u = (uint64_t)iv, dv = u - a->v;
            put_dod(vr, &a->vbits, dv - a->dv, v_widths);
            a->v = u;
            a->dv = dv;
        } else {
            put_xor(vr, a, dbits(v));
        }
    }
    a->dt = dt;
    c->maxt = t;
    c->len = (uint16_t)(CHUNK_HEADER + get_u16(c->data + 3) + (a->vbits + 7u) / 8);
    set_u16(c->data + 1, n + 1);
    return BW_OK;
}

static int start_as(struct chunk *c, struct chunk_app *a, uint8_t enc)
{
    int rc = reserve(c, CHUNK_HEADER);
    if (rc)
        return rc;
    c->data[0] = enc;
    set_u16(c->data + 1, 0);
    set_u16(c->data + 3, 0);
    c->len = CHUNK_HEADER;
    *a = (struct chunk_app){.lead = 0xff};
    return BW_OK;
}

int chunk_start(struct chunk *c, struct chunk_app *a, int64_t t, double v)
{
    int64_t iv = 0;
    unsigned k = 0;
    while (k <= CHUNK_SCALE_MAX && !to_int(v, k, &iv))
        k++;
    int rc = start_as(c, a, k <= CHUNK_SCALE_MAX ? (uint8_t)(CHUNK_INT | k << 4) : CHUNK_XOR);
    return rc ? rc : append_coded(c, a, t, v, iv);
}

/* Re-encodes c as enc. BW_ERANGE when a value does not fit an INT encoding (c unchanged),
 * BW_ENOMEM. */
static int recode(struct chunk *c, struct chunk_app *a, uint8_t enc)
{
    size_t n = chunk_count(c->data, c->len), got;
    int64_t *t = malloc(n * sizeof(*t)), iv = 0;
    double *v = malloc(n * sizeof(*v));
    struct chunk nc = {0};
    struct chunk_app na;
    int rc = BW_ENOMEM;
    if (!t || !v)
        goto out;
    rc = chunk_decode(c->data, c->len, t, v, n, &got);
    if (rc)
        goto out;
    rc = start_as(&nc, &na, enc);
    for (size_t i = 0; rc == BW_OK && i < got; i++) {
        if ((enc & 15) == CHUNK_INT && !to_int(v[i], enc >> 4, &iv))
            rc = BW_ERANGE;
        else
            rc = append_coded(&nc, &na, t[i], v[i], iv);
    }
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
    int64_t iv = 0;
    unsigned k = c->data[0] >> 4;
    if ((c->data[0] & 15) == CHUNK_INT && !to_int(v, k, &iv)) {
        /* The smallest finer scale that holds v and every value before it, else XOR. */
        int rc = BW_ERANGE;
        while (rc == BW_ERANGE && ++k <= CHUNK_SCALE_MAX) {
            if (to_int(v, k, &iv))
                rc = recode(c, a, (uint8_t)(CHUNK_INT | k << 4));
        }
        if (rc == BW_ERANGE)
            rc = recode(c, a, CHUNK_XOR);
        if (rc)
            return rc;
    }
    return append_coded(c, a, t, v, iv);
}

size_t chunk_count(const uint8_t *data, size_t len)
{
    return len < CHUNK_HEADER ? 0 : get_u16(data + 1);
}

void chunk_shrink(struct chunk *c, const struct chunk_app *a)
{
    size_t treg = get_u16(c->data + 3), used = (a->tbits + 7u) / 8;
    if (used < treg) {
        memmove(c->data + CHUNK_HEADER + used, c->data + CHUNK_HEADER + treg,
                c->len - CHUNK_HEADER - treg);
        set_u16(c->data + 3, used);
        c->len = (uint16_t)(c->len - (treg - used));
    }
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

/* ---- shared timestamp blocks ---- */

void chunk_times(const uint8_t *data, size_t len, const uint8_t **ts, size_t *n)
{
    *ts = data + CHUNK_HEADER;
    *n = len < CHUNK_HEADER ? 0 : get_u16(data + 3);
}

int chunk_pack(const uint8_t *data, size_t len, uint32_t ref, struct buf *out)
{
    size_t treg = get_u16(data + 3);
    uint8_t head[PACKED_HEADER] = {data[0],
                                   data[1],
                                   data[2],
                                   (uint8_t)ref,
                                   (uint8_t)(ref >> 8),
                                   (uint8_t)(ref >> 16),
                                   (uint8_t)(ref >> 24)};
    buf_reset(out);
    int rc = buf_append(out, head, sizeof(head));
    return rc ? rc : buf_append(out, data + CHUNK_HEADER + treg, len - CHUNK_HEADER - treg);
}

int chunk_packed_ref(const uint8_t *p, size_t len, uint32_t *ref)
{
    if (len < PACKED_HEADER)
        return BW_EIO;
    *ref = (uint32_t)p[3] | (uint32_t)p[4] << 8 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 24;
    return BW_OK;
}

int chunk_unpack(const uint8_t *p, size_t len, const uint8_t *ts, size_t tlen, struct buf *out)
{
    uint8_t head[CHUNK_HEADER];
    if (len < PACKED_HEADER || tlen > 0xffff)
        return BW_EIO;
    memcpy(head, p, 3);
    set_u16(head + 3, tlen);
    buf_reset(out);
    int rc = buf_append(out, head, sizeof(head));
    if (rc == BW_OK && tlen)
        rc = buf_append(out, ts, tlen);
    if (rc == BW_OK && len > PACKED_HEADER)
        rc = buf_append(out, p + PACKED_HEADER, len - PACKED_HEADER);
    return rc;
}

/* ---- reading ---- */

struct bitr {
    const uint8_t *p;
    size_t pos, end; /* in bits */
};

/* peek's slow path, for the last 7 bytes of a chunk. */
static uint64_t peek_tail(const struct bitr *r)
{
    uint64_t w = 0;
    for (size_t i = r->pos / 8; i < r->end / 8; i++)
        w |= (uint64_t)r->p[i] << (56 - 8 * (i - r->pos / 8));
    return w << (r->pos & 7);
}

/* The 64 bits from r->pos on, most significant first, zeros past the end; at least 57 of
 * them are the stream's. Decoding is the bulk of a query's work on persisted data, so this is
 * one unaligned load where 8 bytes remain, not a loop over bits. */
static inline uint64_t peek(const struct bitr *r)
{
    size_t byte = r->pos / 8;
    if (byte + 8 > r->end / 8)
        return peek_tail(r);
    uint64_t w;
    memcpy(&w, r->p + byte, sizeof(w));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w << (r->pos & 7);
}

/* Reads n bits (n <= 64) into *x. BW_EIO past the end. */
static int get(struct bitr *r, unsigned n, uint64_t *x)
{
    if (n > r->end - r->pos)
        return BW_EIO;
    if (n > 57) { /* a peek holds at least 57 bits: take the top ones first */
        uint64_t hi = peek(r) >> (96 - n);
        r->pos += n - 32;
        *x = hi << 32 | peek(r) >> 32;
        r->pos += 32;
        return BW_OK;
    }
    *x = n ? peek(r) >> (64 - n) : 0;
    r->pos += n;
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
    /* The bucket's prefix (up to NBUCKETS ones, then a zero unless all NBUCKETS are ones) and
     * a payload of up to 32 bits fit in one peek; only the 64-bit bucket reads again. */
    uint64_t w = peek(r);
    unsigned ones = ~w ? (unsigned)__builtin_clzll(~w) : 64;
    if (ones > NBUCKETS)
        ones = NBUCKETS;
    unsigned prefix = ones < NBUCKETS ? ones + 1 : NBUCKETS;
    unsigned bits = ones ? widths[ones - 1] : 0;
    if (prefix > r->end - r->pos)
        return BW_EIO;
    if (bits == 64) {
        r->pos += prefix;
        return get(r, 64, dod);
    }
    if (bits > r->end - r->pos - prefix)
        return BW_EIO;
    r->pos += prefix + bits;
    if (bits == 0) {
        *dod = 0;
        return BW_OK;
    }
    uint64_t u = (w << prefix) >> (64 - bits), sign = 1ULL << (bits - 1);
    *dod = (u ^ sign) - sign; /* sign-extended */
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
    size_t count = chunk_count(data, len), treg = len < CHUNK_HEADER ? 0 : get_u16(data + 3);
    unsigned enc = len ? data[0] & 15u : 0, k = len ? data[0] >> 4 : 0;
    uint64_t ut = 0, dt = 0, uv = 0, dv = 0, dod;
    unsigned lead = 0, sig = 0;
    *n = 0;
    if (len < CHUNK_HEADER || treg > len - CHUNK_HEADER || count > cap ||
        !(enc == CHUNK_INT ? k <= CHUNK_SCALE_MAX : enc == CHUNK_XOR && k == 0))
        return BW_EIO;
    /* Two streams: the timestamps in their region, the values after it. */
    struct bitr rt = {data + CHUNK_HEADER, 0, treg * 8};
    struct bitr rv = {data + CHUNK_HEADER + treg, 0, (len - CHUNK_HEADER - treg) * 8};
    for (size_t i = 0; i < count; i++) {
        if (i == 0) {
            if (get_var(&rt, &ut))
                return BW_EIO;
            if (enc == CHUNK_INT ? get_var(&rv, &uv) : get(&rv, 64, &uv))
                return BW_EIO;
        } else {
            if (get_dod(&rt, t_widths, &dod))
                return BW_EIO;
            dt += dod;
            if ((int64_t)(ut + dt) <= (int64_t)ut)
                return BW_EIO;
            ut += dt;
            if (enc == CHUNK_INT) {
                if (get_dod(&rv, v_widths, &dod))
                    return BW_EIO;
                dv += dod;
                uv += dv;
            } else if (get_xor(&rv, &uv, &lead, &sig)) {
                return BW_EIO;
            }
        }
        t[i] = (int64_t)ut;
        if (enc == CHUNK_XOR)
            v[i] = bitsd(uv);
        else
            v[i] = k == 0 ? (double)(int64_t)uv : (double)(int64_t)uv / pow10s[k];
    }
    *n = count;
    return BW_OK;
}
