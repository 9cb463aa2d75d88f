/* fmt: shortest round-trip formatting of doubles, laid out like Go's
 * strconv.FormatFloat(v, 'g', -1, 64), which is what Prometheus clients emit and what the
 * canonical `le` and `quantile` label values are.
 *
 * The work is in two steps: find the shortest significant digits that read back to v, then lay
 * them out. Integral values below 2^53 get their digits from integer division (counts and
 * bucket counts, most of an exposition). Other values try 15, 16 and 17 significant digits in
 * turn: when the shortest form has at most 15 digits, rounding v to 15 gives exactly those
 * digits padded with zeros, so the first precision that reads back is the shortest. For
 * non-integral values between about 4e-6 and 2^52 (nearly every sample value) that is done in
 * exact 128-bit integer arithmetic, about 70 ns; others use snprintf("%.*e") and strtod, about
 * 1 us. Layout follows Go's rule for shortest 'g': exponent form when the decimal exponent is
 * below -4 or at least 6 (1e+06, 1.234567e+06, 1e-05), plain decimal otherwise.
 *
 * Known difference: Go takes the shortest decimal anywhere in the rounding interval, this code
 * the shortest correctly rounded one. They differ only where the interval is lopsided, at some
 * powers of two outside the exact range (2^-24 prints 5.9604644775390625e-08, Go
 * 5.960464477539063e-08); both read back as the same double. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/base.h"

/* "00" to "99": digits go out two at a time, halving the divisions. */
static const char digit_pairs[201] = "0001020304050607080910111213141516171819"
                                     "2021222324252627282930313233343536373839"
                                     "4041424344454647484950515253545556575859"
                                     "6061626364656667686970717273747576777879"
                                     "8081828384858687888990919293949596979899";

/* Writes v < 10^8 as exactly 8 digits. Four independent pairs in 32-bit arithmetic: the
 * 17 digits of a typical sample value go out as three of these instead of a chain of eight
 * 64-bit divisions. */
static inline void put8(char *p, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;
    memcpy(p, digit_pairs + hi / 100 * 2, 2);
    memcpy(p + 2, digit_pairs + hi % 100 * 2, 2);
    memcpy(p + 4, digit_pairs + lo / 100 * 2, 2);
    memcpy(p + 6, digit_pairs + lo % 100 * 2, 2);
}

/* The decimal digits of n > 0 into d without trailing zeros (NUL-terminated), their count in
 * *nd; returns the number of digits n has. */
static int int_digits(uint64_t n, char *d, int *nd)
{
    /* All 20 places (leading zeros included) into tmp, then the significant ones copied with
     * a constant size, which compiles to a few moves instead of a call. */
    char tmp[40] = {0};
    uint64_t top = n / 100000000;
    put8(tmp + 12, (uint32_t)(n % 100000000));
    put8(tmp + 4, (uint32_t)(top % 100000000));
    top /= 100000000; /* below 1845 */
    memcpy(tmp, digit_pairs + top / 100 * 2, 2);
    memcpy(tmp + 2, digit_pairs + top % 100 * 2, 2);
    const char *p = tmp;
    while (*p == '0')
        p++;
    int ndigits = (int)(tmp + 20 - p), m = ndigits;
    while (m > 1 && p[m - 1] == '0')
        m--;
    memcpy(d, p, 20);
    d[m] = '\0';
    *nd = m;
    return ndigits;
}

#if defined(__SIZEOF_INT128__)
typedef unsigned __int128 u128;

static const uint64_t pow10_u64[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};

/* The state of one exact conversion (see exact_digits). */
struct exact {
    u128 P;     /* m·10^q: the value scaled by 10^q·2^s */
    u128 frac;  /* P's part below 2^s */
    u128 ten_q; /* 10^q: an ulp, on the same scale */
    uint64_t N; /* P >> s: 17 digits */
    int s;
    int pow2;      /* m is a power of two: the gap below is half as wide */
    int inclusive; /* m is even: strtod rounds the boundaries to it */
};

/* Rounds N to 17 - log10(div) digits, half to even as printf does, into *D; returns whether
 * that decimal lies within the rounding interval of the value (reads back as it). */
static inline int candidate(const struct exact *x, uint64_t div, uint64_t *D)
{
    uint64_t q = x->N / div, rem = x->N % div;
    u128 twice = (((u128)rem << x->s) + x->frac) << 1, unit = (u128)div << x->s;
    if (twice > unit || (twice == unit && (q & 1)))
        q++;
    *D = q;
    u128 c = (u128)(q * div) << x->s;
    u128 dist = c > x->P ? 2 * (c - x->P) : (x->pow2 ? 4 : 2) * (x->P - c);
    return dist < x->ten_q || (x->inclusive && dist == x->ten_q);
}

/* What the snprintf/strtod loop below computes — the first of 15, 16, 17 significant digits
 * whose correctly rounded decimal reads back as a — done exactly in 128-bit integers, more
 * than ten times faster. With a = m / 2^s (m the 53-bit significand) and P = m·10^q, where q
 * makes N = P / 2^s a 17-digit integer, a p-digit candidate reads back as a when it lies
 * within half an ulp of a (a quarter below a power of two), boundaries included when m is
 * even (strtod's ties-to-even). Keeping s <= 70 and q <= 22 keeps every product below 2^127,
 * which covers non-integral values from about 4e-6 to 2^52. Returns the exponent of the first
 * digit, or INT_MIN for a value out of that range. */
static int exact_digits(double a, char *d, int *nd)
{
    uint64_t bits;
    memcpy(&bits, &a, sizeof(bits));
    int biased = (int)(bits >> 52 & 0x7ff), e2 = biased - 1022, s = 53 - e2;
    uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52;
    if (biased == 0 || s <= 0 || s > 70) /* subnormal, or out of range */
        return INT_MIN;
    int q = 16 - ((e2 - 1) * 78913 >> 18); /* floor(log10(2^(e2-1))): at most one short */
    struct exact x = {.s = s, .pow2 = m == UINT64_C(1) << 52, .inclusive = (m & 1) == 0};
    for (int tries = 0;; tries++) {
        if (q < 0 || q > 22 || tries > 2)
            return INT_MIN;
        x.ten_q = q <= 19 ? (u128)pow10_u64[q] : (u128)pow10_u64[19] * pow10_u64[q - 19];
        x.P = (u128)m * x.ten_q;
        x.N = (uint64_t)(x.P >> s);
        if (x.N >= pow10_u64[17])
            q--;
        else if (x.N < pow10_u64[16])
            q++;
        else
            break;
    }
    x.frac = x.P & (((u128)1 << s) - 1);
    uint64_t D;
    int p = 17; /* 17 digits always read back */
    if (candidate(&x, 100, &D))
        p = 15;
    else if (candidate(&x, 10, &D))
        p = 16;
    else
        candidate(&x, 1, &D);
    return int_digits(D, d, nd) - p + 16 - q;
}
#else
static int exact_digits(double a, char *d, int *nd)
{
    (void)a, (void)d, (void)nd;
    return INT_MIN;
}
#endif

/* Digits of |v| without leading/trailing zeros into d (NUL-terminated), their count in *nd;
 * returns the decimal exponent of the first digit. v must be finite and non-zero. */
static int shortest_digits(double v, char *d, int *nd)
{
    double a = fabs(v);
    if (a < 9007199254740992.0 && a == floor(a))
        return int_digits((uint64_t)a, d, nd) - 1;
    int exp = exact_digits(a, d, nd);
    if (exp != INT_MIN)
        return exp;
    char e[40];
    /* Subnormals carry fewer significant bits, so the 15-digit shortcut does not hold. */
    for (int prec = a < 2.2250738585072014e-308 ? 1 : 15; prec <= 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec - 1, a);
        if (prec == 17 || strtod(e, NULL) == a)
            break;
    }
    /* e is "D.DDDDe[+-]XX" */
    int m = 0;
    const char *p = e;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            d[m++] = *p;
    while (m > 1 && d[m - 1] == '0')
        m--;
    d[m] = '\0';
    *nd = m;
    return atoi(p + 1);
}

size_t fmt_double(char *out, double v, int om_float)
{
    if (isnan(v)) {
        memcpy(out, "NaN", 4);
        return 3;
    }
    if (isinf(v)) {
        memcpy(out, v > 0 ? "+Inf" : "-Inf", 5);
        return 4;
    }
    char *o = out;
    if (signbit(v) && v != 0)
        *o++ = '-';
    if (v == 0) {
        memcpy(o, om_float ? "0.0" : "0", om_float ? 4 : 2);
        return strlen(out);
    }
    /* Digits are copied with constant sizes (moves, not calls) past their end: d and out have
     * the room, and the length returned leaves the excess out. */
    char d[24] = {0};
    int nd;
    int exp = shortest_digits(v, d, &nd);
    if (exp < -4 || exp >= 6) {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, 16); /* nd <= 17 */
            o += nd - 1;
        }
        /* e-05, e+06, e+100: at least two digits, as Go writes them */
        int x = exp < 0 ? -exp : exp;
        *o++ = 'e';
        *o++ = exp < 0 ? '-' : '+';
        if (x >= 100)
            *o++ = (char)('0' + x / 100);
        memcpy(o, digit_pairs + x % 100 * 2, 2);
        o += 2;
        *o = '\0';
        return (size_t)(o - out);
    }
    if (exp < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > exp; i--)
            *o++ = '0';
        memcpy(o, d, 17);
        o += nd;
    } else {
        for (int i = 0; i <= exp; i++)
            *o++ = i < nd ? d[i] : '0';
        if (nd > exp + 1) {
            *o++ = '.';
            memcpy(o, d + exp + 1, 16);
            o += nd - exp - 1;
        } else if (om_float) {
            *o++ = '.';
            *o++ = '0';
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

int buf_put_goquoted(struct buf *b, const char *s)
{
    static const char named[] = "\a\b\f\n\r\t\v", letters[] = "abfnrtv";
    int rc = buf_putc(b, '"');
    const unsigned char *end = (const unsigned char *)s + strlen(s);
    for (const unsigned char *p = (const unsigned char *)s; rc == BW_OK && *p;) {
        size_t n = utf8_decode(p, (size_t)(end - p), NULL);
        const char *nm = strchr(named, *p);
        if (*p == '"' || *p == '\\')
            rc = buf_printf(b, "\\%c", *p);
        else if (nm)
            rc = buf_printf(b, "\\%c", letters[nm - named]);
        else if (n == 0 || *p < 0x20 || *p == 0x7f)
            rc = buf_printf(b, "\\x%02x", *p);
        else
            rc = buf_append(b, p, n);
        p += n ? n : 1;
    }
    return rc == BW_OK ? buf_putc(b, '"') : rc;
}

size_t fmt_rfc3339(char *out, int64_t ms, int with_ms)
{
    int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    int frac = (int)(ms - secs * 1000);
    if (with_ms && frac) {
        n += (size_t)snprintf(out + n, 32 - n, ".%03d", frac);
        while (out[n - 1] == '0')
            n--;
    }
    out[n++] = 'Z';
    out[n] = '\0';
    return n;
}

size_t fmt_go_time(char *out, int64_t ms)
{
    if (ms)
        return fmt_rfc3339(out, ms, 1);
    return (size_t)snprintf(out, 32, "0001-01-01T00:00:00Z");
}

size_t fmt_double_exp(char *out, double v, int upper)
{
    if (isnan(v))
        return (size_t)snprintf(out, 32, "NaN");
    if (isinf(v))
        return (size_t)snprintf(out, 32, v > 0 ? "+Inf" : "-Inf");
    int n = 0;
    for (int prec = 0; prec <= 17; prec++) {
        n = snprintf(out, 32, upper ? "%.*E" : "%.*e", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    return (size_t)n;
}
