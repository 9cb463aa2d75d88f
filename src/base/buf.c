/* buf: a growable byte buffer with a hard cap.
 *
 * Capacity doubles on growth; an append that would pass the limit fails without touching the
 * contents, so a caller can report "too large" and still own a consistent buffer. The memory
 * survives buf_reset, which is what lets exposition and request handling run without
 * allocating once warm. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void buf_init(struct buf *b, size_t limit)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void buf_fini(struct buf *b)
{
    free(b->data);
    buf_init(b, b->limit);
}

int buf_reserve(struct buf *b, size_t n)
{
    if (n > SIZE_MAX - b->len - 1)
        return BW_ENOSPC;
    size_t need = b->len + n + 1;
    if (b->limit && need > b->limit + 1)
        return BW_ENOSPC;
    if (need <= b->cap)
        return BW_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    if (b->limit && ncap > b->limit + 1)
        ncap = b->limit + 1;
    char *p = realloc(b->data, ncap);
    if (!p)
        return BW_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return BW_OK;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return BW_OK;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return BW_EINVAL;
    if ((size_t)n < sizeof(small))
        return buf_append(b, small, (size_t)n);
    int rc = buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return BW_OK;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int buf_read_file(struct buf *b, const char *path, struct diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return diag_at(d, errno == ENOENT ? BW_ENOENT : BW_EIO, path, 0, 0, "cannot open: %s",
                       strerror(errno));
    char chunk[16384];
    size_t got;
    int rc = BW_OK;
    while (rc == BW_OK && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf_append(b, chunk, got);
    if (rc == BW_ENOSPC)
        diag_at(d, rc, path, 0, 0, "larger than %zu bytes", b->limit);
    else if (rc != BW_OK)
        diag_set(d, rc, "out of memory reading %s", path);
    else if (ferror(f))
        rc = diag_at(d, BW_EIO, path, 0, 0, "read error: %s", strerror(errno));
    fclose(f);
    return rc;
}
