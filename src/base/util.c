/* util: diagnostics, error strings, hashing, string copies, URL redaction and logging.
 *
 * Logging writes one line per call with a single fwrite-sized printf so lines from several
 * threads do not interleave mid-line. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

const char *bw_strerror(int code)
{
    switch (code) {
    case BW_OK:
        return "success";
    case BW_ENOMEM:
        return "out of memory";
    case BW_EINVAL:
        return "invalid argument";
    case BW_EEXIST:
        return "already exists";
    case BW_ENOENT:
        return "not found";
    case BW_ENOSPC:
        return "capacity exhausted";
    case BW_EIO:
        return "I/O error";
    case BW_ERANGE:
        return "out of range";
    case BW_EBUSY:
        return "busy";
    case BW_EACCES:
        return "permission denied";
    default:
        return "unknown error";
    }
}

int diag_set(struct diag *d, int code, const char *fmt, ...)
{
    if (!d)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    d->file[0] = '\0';
    d->line = 0;
    d->col = 0;
    return code;
}

int diag_at(struct diag *d, int code, const char *file, int line, int col, const char *fmt, ...)
{
    if (!d)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    snprintf(d->file, sizeof(d->file), "%s", file ? file : "");
    d->line = line;
    d->col = col;
    return code;
}

void diag_format(const struct diag *d, char *out, size_t outlen)
{
    if (d->file[0] && d->line > 0 && d->col > 0)
        snprintf(out, outlen, "%s:%d:%d: %s", d->file, d->line, d->col, d->msg);
    else if (d->file[0] && d->line > 0)
        snprintf(out, outlen, "%s:%d: %s", d->file, d->line, d->msg);
    else if (d->file[0])
        snprintf(out, outlen, "%s: %s", d->file, d->msg);
    else
        snprintf(out, outlen, "%s", d->msg);
}

uint64_t hash_bytes(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

char *xstrdup(const char *s)
{
    return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static enum log_level min_level = LOG_INFO;

void log_set_level(enum log_level lvl)
{
    min_level = lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level)
        return;
    char line[1024];
    int64_t now = clock_real_ns();
    time_t secs = (time_t)(now / 1000000000LL);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %-5s ", (int)((now / 1000000) % 1000),
                          names[lvl]);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char c = s[0];
    if (c < 0x80) {
        if (cp)
            *cp = c;
        return 1;
    }
    size_t len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c < 0xc2 || c > 0xf4 || n < len)
        return 0;
    if (c == 0xe0)
        lo = 0xa0; /* overlong */
    else if (c == 0xed)
        hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        lo = 0x90; /* overlong */
    else if (c == 0xf4)
        hi = 0x8f; /* past U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    uint32_t v = c & (len == 2 ? 0x1f : len == 3 ? 0x0f : 0x07);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (cp)
        *cp = v;
    return len;
}

bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0, len; i < n; i += len)
        if ((len = utf8_decode(u + i, n - i, NULL)) == 0)
            return false;
    return true;
}

int url_redact(const char *url, struct buf *out, char **userinfo)
{
    const char *host = strstr(url, "://");
    const char *at = NULL;
    host = host ? host + 3 : url;
    for (const char *p = host; *p && !strchr("/?#", *p); p++)
        if (*p == '@')
            at = p;
    if (userinfo)
        *userinfo = NULL;
    if (!at)
        return buf_puts(out, url);
    if (userinfo && !(*userinfo = xstrndup(host, (size_t)(at - host))))
        return BW_ENOMEM;
    int rc = buf_printf(out, "%.*s%s", (int)(host - url), url, at + 1);
    if (rc && userinfo) {
        free(*userinfo);
        *userinfo = NULL;
    }
    return rc;
}
