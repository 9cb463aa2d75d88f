/* wal: the write-ahead record codec — the samples of one commit as one self-checking blob.
 *
 * Main data structure: struct wal_writer (tsdb_int.h), the payload under construction, filled
 * sample by sample as tsdb_append runs so that a commit only frames it.
 *
 * Record: "BWW2", payload length (u32 LE), payload, crc32 of everything before it (u32 LE).
 * Payload: the sample count (varint), then per sample a varint x, zigzag of the series id's
 * delta from the previous sample's shifted left by one, its low bit set when the timestamp
 * differs from the previous sample's (then followed by the zigzag varint of that delta), and
 * the value as a varint v: v even is an integer (zigzag(n) << 1, for values
 * chunk_value_is_int accepts), v == 1 is followed by the 8 bytes of the double (little
 * endian). A scrape appends every series at one timestamp with ids mostly in order, so a
 * counter's sample takes 2 or 3 bytes.
 *
 * The design decision: a record is decoded completely, its length and checksum verified,
 * before any sample is applied, so a torn or corrupt record is skipped whole and never
 * half-applied. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "tsdb/tsdb_int.h"

#define MAGIC     "BWW2"
#define FRAME_LEN 12 /* magic, length, crc */

void wal_writer_init(struct wal_writer *w)
{
    buf_init(&w->b, 0);
    wal_writer_reset(w);
}

void wal_writer_fini(struct wal_writer *w)
{
    buf_fini(&w->b);
}

void wal_writer_reset(struct wal_writer *w)
{
    buf_reset(&w->b);
    w->n = 0;
    w->last_id = 0;
    w->last_t = 0;
}

static size_t put_uvarint(uint8_t *p, uint64_t x)
{
    size_t n = 0;
    while (x >= 0x80) {
        p[n++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    p[n++] = (uint8_t)x;
    return n;
}

/* The most a sample takes: the id varint (5 bytes), the timestamp varint (10), the value as
 * a tag byte and a double (9). */
#define SAMPLE_MAX 24

int wal_writer_add(struct wal_writer *w, uint32_t id, int64_t t, double v)
{
    /* Encoded straight into the payload: this runs for every sample appended. */
    int rc = buf_reserve(&w->b, SAMPLE_MAX);
    if (rc)
        return rc;
    uint8_t *p = (uint8_t *)w->b.data + w->b.len;
    bool new_t = w->n == 0 || t != w->last_t;
    size_t n = put_uvarint(p, zigzag((uint64_t)id - w->last_id) << 1 | new_t);
    if (new_t)
        n += put_uvarint(p + n, zigzag((uint64_t)t - (uint64_t)w->last_t));
    if (chunk_value_is_int(v)) {
        n += put_uvarint(p + n, zigzag((uint64_t)(int64_t)v) << 1);
    } else {
        uint64_t u;
        memcpy(&u, &v, sizeof(u));
        p[n++] = 1;
        for (int i = 0; i < 8; i++)
            p[n++] = (uint8_t)(u >> (8 * i));
    }
    w->b.len += n;
    w->b.data[w->b.len] = '\0'; /* a buf stays terminated */
    w->n++;
    w->last_id = id;
    w->last_t = t;
    return BW_OK;
}

static void put_u32(uint8_t *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(x >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int wal_writer_finish(struct wal_writer *w, struct buf *out)
{
    uint8_t head[8 + 10], tail[4];
    size_t nc = put_uvarint(head + 8, w->n);
    memcpy(head, MAGIC, 4);
    put_u32(head + 4, (uint32_t)(nc + w->b.len));
    buf_reset(out);
    int rc = buf_append(out, head, 8 + nc);
    if (rc == BW_OK && w->b.len)
        rc = buf_append(out, w->b.data, w->b.len);
    if (rc)
        return rc;
    put_u32(tail, (uint32_t)crc32(0, (const Bytef *)out->data, (uInt)out->len));
    return buf_append(out, tail, 4);
}

struct rd {
    const uint8_t *p, *end;
};

static int get_uvarint(struct rd *r, uint64_t *x)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p == r->end)
            return BW_EIO;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *x = v;
            return BW_OK;
        }
    }
    return BW_EIO;
}

int wal_decode(const uint8_t *p, size_t len, struct wal_sample **out, size_t *n, const char **why)
{
    struct wal_sample *s = NULL;
    uint64_t count, id = 0, t = 0, x;
    int rc = BW_EIO;
    *out = NULL;
    *n = 0;
    if (len < FRAME_LEN || memcmp(p, MAGIC, 4) != 0) {
        *why = "not a record";
        goto fail;
    }
    if (get_u32(p + 4) != len - FRAME_LEN) {
        *why = "truncated (length does not match)";
        goto fail;
    }
    if (get_u32(p + len - 4) != (uint32_t)crc32(0, (const Bytef *)p, (uInt)(len - 4))) {
        *why = "checksum mismatch";
        goto fail;
    }
    struct rd r = {p + 8, p + len - 4};
    *why = "malformed payload";
    /* Each sample takes at least 2 bytes: a count beyond that is corrupt, not a reason to
     * allocate. */
    if (get_uvarint(&r, &count) || count > (size_t)(r.end - r.p) / 2)
        goto fail;
    s = malloc((count ? count : 1) * sizeof(*s));
    if (!s) {
        rc = BW_ENOMEM;
        *why = "out of memory";
        goto fail;
    }
    for (uint64_t i = 0; i < count; i++) {
        if (get_uvarint(&r, &x))
            goto fail;
        id += unzigzag(x >> 1);
        if (x & 1) {
            if (get_uvarint(&r, &x))
                goto fail;
            t += unzigzag(x);
        } else if (i == 0) {
            goto fail; /* the first sample always has its timestamp */
        }
        if (get_uvarint(&r, &x))
            goto fail;
        if (id == 0 || id > UINT32_MAX)
            goto fail;
        s[i] = (struct wal_sample){.id = (uint32_t)id, .t = (int64_t)t};
        if (!(x & 1)) {
            s[i].v = (double)(int64_t)unzigzag(x >> 1);
        } else {
            uint64_t u = 0;
            if (x != 1 || r.end - r.p < 8)
                goto fail;
            for (int k = 0; k < 8; k++)
                u |= (uint64_t)r.p[k] << (8 * k);
            r.p += 8;
            memcpy(&s[i].v, &u, sizeof(u));
        }
    }
    if (r.p != r.end)
        goto fail;
    *out = s;
    *n = count;
    return BW_OK;

fail:
    free(s);
    return rc;
}
