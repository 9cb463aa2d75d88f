/* remote internals, shared by the .c files of src/remote/ and their unit tests only: the
 * protobuf encoder (proto.c) and the on-disk queue of segments (queue.c). */
#ifndef BW_REMOTE_INT_H
#define BW_REMOTE_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "remote/remote.h"

/* ---- proto.c: prompb.WriteRequest, written by hand ----
 * WriteRequest{1: repeated TimeSeries}, TimeSeries{1: repeated Label, 2: repeated Sample},
 * Label{1: name, 2: value}, Sample{1: double value, 2: int64 timestamp}. A request is the
 * concatenation of its TimeSeries fields, so batches are built by appending. */

/* Appends WriteRequest field 1 holding one TimeSeries of ls (sorted, as a labelset is) and one
 * sample (t ms, v; a stale marker keeps its exact NaN bits). BW_ENOMEM / BW_ENOSPC. */
int remote_encode_series(struct buf *out, const struct labelset *ls, int64_t t, double v);
/* Snappy block compression of in[0..n) into out (reset first). BW_ENOMEM, BW_EINVAL when n
 * is over what snappy takes. */
int remote_compress(const void *in, size_t n, struct buf *out);

/* ---- queue.c: a directory of segment files, oldest first ----
 * A segment is one batch: "BWR1", samples (u32 LE), min and max timestamp (i64 LE), the
 * payload's length (u32 LE) and crc32 (u32 LE), then the payload (a snappy-compressed
 * WriteRequest). Named by sequence number, 16 hex digits + ".seg", written to a ".tmp" and
 * renamed, so a segment is whole or absent unless the disk lies; a bad one is skipped. */

#define REMOTE_SEG_HEADER 32

struct remote_seg {
    uint64_t seq;
    uint32_t samples;
    int64_t bytes; /* file size */
    int64_t max_t;
};

struct remote_queue {
    char *dir;
    int64_t max_bytes;
    struct remote_seg *segs; /* oldest first */
    size_t n, cap;
    uint64_t next_seq;
    int64_t bytes;      /* on disk, all segments */
    uint64_t samples;   /* in all segments */
    uint64_t inflight;  /* seq of the segment being sent (never dropped), 0: none */
    uint64_t dropped;   /* samples dropped because the queue was full, since open */
    uint64_t n_dropped; /* segments, likewise */
};

/* Opens dir (created with its parents when missing) and lists its segments; a segment whose
 * header or size is wrong, and any ".tmp" left by a crash, is removed with a log_warn naming
 * it. BW_EIO (d: the directory and why), BW_ENOMEM. */
int remote_queue_open(struct remote_queue *q, const char *dir, int64_t max_bytes, struct diag *d);
void remote_queue_close(struct remote_queue *q);
/* Writes one batch of samples (payload: the compressed WriteRequest) as the newest segment,
 * first dropping the oldest ones (not the one in flight) until it fits under max_bytes; what
 * is dropped is added to dropped. So the segments never exceed max_bytes plus the one in
 * flight. BW_ENOSPC when the batch alone is over max_bytes (nothing is dropped), BW_EIO, both
 * with d saying why and this batch not counted: the caller logs and counts it; BW_ENOMEM. */
int remote_queue_push(struct remote_queue *q, const void *payload, size_t len, uint32_t samples,
                      int64_t min_t, int64_t max_t, struct diag *d);
/* Marks the oldest segment in flight (so that no push drops it) and returns it in seg.
 * BW_ENOENT when the queue is empty. */
int remote_queue_next(struct remote_queue *q, struct remote_seg *seg);
/* Reads segment seg's payload into out. It uses nothing of q but its directory, so the
 * segment in flight may be read without the lock that guards q. BW_EIO when the file is
 * missing, truncated or corrupt (d names it: the caller pops it), BW_ENOMEM. */
int remote_queue_read(const struct remote_queue *q, const struct remote_seg *seg, struct buf *out,
                      struct diag *d);
/* Removes the segment in flight (sent, refused, or unreadable) and clears in flight. */
void remote_queue_pop(struct remote_queue *q);

#endif
