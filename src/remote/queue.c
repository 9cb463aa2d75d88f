/* queue: a remote's bounded queue on disk — one directory, one file per batch, oldest first.
 *
 * Main data structure: struct remote_queue (remote_int.h), the list of segments in memory
 * (sequence number, samples, size, newest timestamp) mirroring the directory, so the bound is
 * kept without listing the directory again.
 *
 * The design decision: a batch is written once, already compressed and ready to send, and the
 * file is the queue entry: sending reads it back whole, success deletes it. The bound is on
 * the files' total size; making room deletes the oldest files first (never the one being
 * sent), because the newest samples are the ones a dashboard over a remote store shows. A
 * file is written under a temporary name and renamed, and every file is checked (header, size,
 * crc32) before it is trusted: a damaged one is named in a warning and removed, never sent.
 * The batch in flight is never dropped, so reading it back needs no lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "remote/remote_int.h"

static const char MAGIC[4] = {'B', 'W', 'R', '1'};

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static void seg_path(const struct remote_queue *q, uint64_t seq, const char *ext, char *out,
                     size_t outlen)
{
    snprintf(out, outlen, "%s/%016" PRIx64 "%s", q->dir, seq, ext);
}

/* mkdir -p. */
static int make_dirs(const char *dir, struct diag *d)
{
    char path[1024];
    if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path))
        return diag_set(d, BW_EIO, "%s: path too long", dir);
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p)
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return diag_set(d, BW_EIO, "cannot create %s: %s", path, strerror(errno));
        if (!c)
            return BW_OK;
        *p = c;
    }
}

static int seg_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct remote_seg *)a)->seq, y = ((const struct remote_seg *)b)->seq;
    return x < y ? -1 : x > y;
}

static int seg_add(struct remote_queue *q, const struct remote_seg *s)
{
    if (q->n == q->cap) {
        size_t ncap = q->cap ? 2 * q->cap : 64;
        struct remote_seg *v = realloc(q->segs, ncap * sizeof(*v));
        if (!v)
            return BW_ENOMEM;
        q->segs = v;
        q->cap = ncap;
    }
    q->segs[q->n++] = *s;
    q->bytes += s->bytes;
    q->samples += s->samples;
    return BW_OK;
}

/* Removes segment i (file and entry). */
static void seg_remove(struct remote_queue *q, size_t i)
{
    char path[1200];
    seg_path(q, q->segs[i].seq, ".seg", path, sizeof(path));
    if (unlink(path) != 0 && errno != ENOENT)
        log_warn("remote write: cannot remove %s: %s", path, strerror(errno));
    q->bytes -= q->segs[i].bytes;
    q->samples -= q->segs[i].samples;
    memmove(q->segs + i, q->segs + i + 1, (q->n - i - 1) * sizeof(*q->segs));
    q->n--;
}

/* Checks a segment's header against its file size; fills s. */
static bool header_ok(const uint8_t *h, int64_t size, struct remote_seg *s)
{
    if (memcmp(h, MAGIC, 4) != 0 || (int64_t)get_u32(h + 24) + REMOTE_SEG_HEADER != size)
        return false;
    s->samples = get_u32(h + 4);
    s->max_t = (int64_t)get_u64(h + 16);
    s->bytes = size;
    return true;
}

/* The entry for file name (16 hex digits + ".seg"), when its header holds. */
static int scan_one(struct remote_queue *q, const char *name)
{
    char path[1200];
    struct remote_seg s = {0};
    uint8_t h[REMOTE_SEG_HEADER];
    /* Exactly what seg_path writes: strtoull alone would take "-00000000000001.seg" (a
     * sequence number of 2^64-1, wrapping next_seq to 0, the "none in flight" mark), "0x...",
     * capitals or blanks, none of which seg_path finds again. */
    const char *end = name + strspn(name, "0123456789abcdef");
    if (end - name != 16 || (strcmp(end, ".tmp") != 0 && strcmp(end, ".seg") != 0) ||
        !(s.seq = strtoull(name, NULL, 16)))
        return BW_OK; /* not ours */
    snprintf(path, sizeof(path), "%s/%s", q->dir, name);
    if (strcmp(end, ".tmp") == 0) {
        log_warn("remote write: removing %s, a batch whose writing was interrupted", path);
        unlink(path);
        return BW_OK;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    bool ok = fd >= 0 && fstat(fd, &st) == 0 && read(fd, h, sizeof(h)) == (ssize_t)sizeof(h) &&
              header_ok(h, st.st_size, &s);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        log_warn("remote write: skipping %s: truncated or not a batch (removed)", path);
        unlink(path);
        return BW_OK;
    }
    if (s.seq >= q->next_seq)
        q->next_seq = s.seq + 1;
    return seg_add(q, &s);
}

int remote_queue_open(struct remote_queue *q, const char *dir, int64_t max_bytes, struct diag *d)
{
    memset(q, 0, sizeof(*q));
    q->max_bytes = max_bytes;
    q->next_seq = 1;
    int rc = make_dirs(dir, d);
    if (rc)
        return rc;
    if (!(q->dir = xstrdup(dir)))
        return diag_set(d, BW_ENOMEM, "out of memory");
    DIR *dh = opendir(dir);
    if (!dh) {
        rc = diag_set(d, BW_EIO, "cannot read %s: %s", dir, strerror(errno));
        goto fail;
    }
    for (struct dirent *e; rc == BW_OK && (e = readdir(dh));)
        rc = scan_one(q, e->d_name);
    closedir(dh);
    if (rc) {
        diag_set(d, rc, "out of memory");
        goto fail;
    }
    if (q->n)
        qsort(q->segs, q->n, sizeof(*q->segs), seg_cmp);
    return BW_OK;
fail:
    remote_queue_close(q);
    return rc;
}

void remote_queue_close(struct remote_queue *q)
{
    free(q->segs);
    free(q->dir);
    memset(q, 0, sizeof(*q));
}

/* Drops the oldest segments not in flight until need more bytes fit under the bound. */
static void make_room(struct remote_queue *q, int64_t need)
{
    size_t i = 0;
    while (q->bytes + need > q->max_bytes && i < q->n) {
        if (q->segs[i].seq == q->inflight) {
            i++;
            continue;
        }
        q->dropped += q->segs[i].samples;
        q->n_dropped++;
        seg_remove(q, i);
    }
}

int remote_queue_push(struct remote_queue *q, const void *payload, size_t len, uint32_t samples,
                      int64_t min_t, int64_t max_t, struct diag *d)
{
    uint8_t h[REMOTE_SEG_HEADER];
    char tmp[1200], path[1200];
    struct remote_seg s = {q->next_seq, samples, (int64_t)(len + sizeof(h)), max_t};
    /* Dropping every older batch would not make room: keep them and refuse this one. */
    if (len > UINT32_MAX || s.bytes > q->max_bytes)
        return diag_set(d, BW_ENOSPC,
                        "a batch of %" PRId64 " bytes is over queue_max_bytes (%" PRId64 ")",
                        s.bytes, q->max_bytes);
    memcpy(h, MAGIC, 4);
    put_u32(h + 4, samples);
    put_u64(h + 8, (uint64_t)min_t);
    put_u64(h + 16, (uint64_t)max_t);
    put_u32(h + 24, (uint32_t)len);
    put_u32(h + 28, (uint32_t)crc32(0, payload, (uInt)len));
    make_room(q, s.bytes);
    seg_path(q, s.seq, ".tmp", tmp, sizeof(tmp));
    seg_path(q, s.seq, ".seg", path, sizeof(path));
    int rc = BW_OK;
    FILE *f = fopen(tmp, "wb");
    if (!f || fwrite(h, 1, sizeof(h), f) != sizeof(h) || fwrite(payload, 1, len, f) != len)
        rc = diag_set(d, BW_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (f && fclose(f) != 0 && rc == BW_OK)
        rc = diag_set(d, BW_EIO, "cannot write %s: %s", tmp, strerror(errno));
    if (rc == BW_OK && rename(tmp, path) != 0)
        rc = diag_set(d, BW_EIO, "cannot rename %s: %s", tmp, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    q->next_seq++;
    if (seg_add(q, &s) != BW_OK) {
        unlink(path);
        return diag_set(d, BW_ENOMEM, "out of memory");
    }
    return BW_OK;
}

int remote_queue_next(struct remote_queue *q, struct remote_seg *seg)
{
    if (!q->n)
        return BW_ENOENT;
    *seg = q->segs[0];
    q->inflight = seg->seq;
    return BW_OK;
}

int remote_queue_read(const struct remote_queue *q, const struct remote_seg *seg, struct buf *out,
                      struct diag *d)
{
    char path[1200];
    struct remote_seg s;
    seg_path(q, seg->seq, ".seg", path, sizeof(path));
    buf_reset(out);
    int rc = buf_read_file(out, path, d);
    const uint8_t *p = (const uint8_t *)out->data;
    if (rc == BW_OK && (out->len < REMOTE_SEG_HEADER || !header_ok(p, (int64_t)out->len, &s) ||
                        get_u32(p + 28) != (uint32_t)crc32(0, p + REMOTE_SEG_HEADER,
                                                           (uInt)(out->len - REMOTE_SEG_HEADER))))
        rc = diag_at(d, BW_EIO, path, 0, 0, "truncated or corrupt");
    if (rc)
        return rc == BW_ENOMEM ? rc : BW_EIO;
    memmove(out->data, out->data + REMOTE_SEG_HEADER, out->len - REMOTE_SEG_HEADER);
    out->len -= REMOTE_SEG_HEADER;
    return BW_OK;
}

void remote_queue_pop(struct remote_queue *q)
{
    if (q->n && q->segs[0].seq == q->inflight)
        seg_remove(q, 0);
    q->inflight = 0;
}
