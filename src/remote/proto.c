/* proto: the few protobuf messages of Prometheus remote write 1.0 (prompb/types.proto,
 * remote.proto), encoded by hand, and their snappy block compression.
 *
 * Main data structure: none of its own; everything is appended to a caller's struct buf.
 *
 * The design decision: a WriteRequest is nothing but its repeated TimeSeries fields one after
 * another, so each sample is encoded once, as a complete field 1 of a WriteRequest (one
 * sample per TimeSeries, as Prometheus's queue manager sends them), and a batch is any run of
 * such fields: cutting and joining batches never re-encodes. Lengths are known before writing
 * (strings and fixed-size fields), so every message is written in one pass. */
#include <string.h>

#include <snappy-c.h>

#include "remote/remote_int.h"

enum {
    WIRE_VARINT = 0,
    WIRE_I64 = 1,
    WIRE_LEN = 2,
};

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint8_t *put_tag(uint8_t *p, unsigned field, unsigned wire)
{
    return put_varint(p, (uint64_t)(field << 3 | wire));
}

/* A length-delimited field of len bytes: its tag, length and len itself. */
static size_t field_len(size_t len)
{
    return 1 + varint_len(len) + len;
}

static uint8_t *put_bytes(uint8_t *p, unsigned field, const char *s, size_t n)
{
    p = put_tag(p, field, WIRE_LEN);
    p = put_varint(p, n);
    memcpy(p, s, n);
    return p + n;
}

int remote_encode_series(struct buf *out, const struct labelset *ls, int64_t t, double v)
{
    size_t labels = 0;
    for (size_t i = 0; i < ls->n; i++)
        labels += field_len(field_len(strlen(ls->v[i].name)) + field_len(strlen(ls->v[i].value)));
    /* Sample: value (tag + 8 bytes), timestamp (tag + varint of its two's complement). */
    size_t sample = 1 + 8 + 1 + varint_len((uint64_t)t);
    size_t series = labels + field_len(sample);
    size_t total = field_len(series);
    int rc = buf_reserve(out, total);
    if (rc)
        return rc;
    uint8_t *p = (uint8_t *)out->data + out->len;
    p = put_tag(p, 1, WIRE_LEN); /* WriteRequest.timeseries */
    p = put_varint(p, series);
    for (size_t i = 0; i < ls->n; i++) {
        size_t nn = strlen(ls->v[i].name), vn = strlen(ls->v[i].value);
        p = put_tag(p, 1, WIRE_LEN); /* TimeSeries.labels */
        p = put_varint(p, field_len(nn) + field_len(vn));
        p = put_bytes(p, 1, ls->v[i].name, nn);
        p = put_bytes(p, 2, ls->v[i].value, vn);
    }
    p = put_tag(p, 2, WIRE_LEN); /* TimeSeries.samples */
    p = put_varint(p, sample);
    p = put_tag(p, 1, WIRE_I64); /* Sample.value: the bits as they are, stale NaN included */
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(bits >> (8 * i));
    p = put_tag(p, 2, WIRE_VARINT); /* Sample.timestamp */
    p = put_varint(p, (uint64_t)t);
    out->len = (size_t)(p - (uint8_t *)out->data);
    out->data[out->len] = '\0';
    return BW_OK;
}

int remote_compress(const void *in, size_t n, struct buf *out)
{
    if (n > UINT32_MAX)
        return BW_EINVAL;
    size_t max = snappy_max_compressed_length(n);
    buf_reset(out);
    int rc = buf_reserve(out, max);
    if (rc)
        return rc;
    size_t len = max;
    if (snappy_compress(in, n, out->data, &len) != SNAPPY_OK)
        return BW_EINVAL;
    out->len = len;
    return BW_OK;
}
