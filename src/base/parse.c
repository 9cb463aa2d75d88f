/* parse: the strict text-to-value readers every input path shares — numbers in configuration
 * flags, CSV candles and exchange JSON, and UTC times in configuration and CSV files.
 *
 * Strict means the whole string is the value: no trailing junk, no overflow, no NaN or
 * infinity (parse_go_float, the reader of values that come from Prometheus's world, follows Go's
 * strconv.ParseFloat instead, NaN and infinities included). Times are computed from the civil date
 * directly (no strptime or timegm), so the result does not depend on the process's locale or time
 * zone. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/base.h"

int parse_finite(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || isspace((unsigned char)*s) || *end || errno == ERANGE || !isfinite(v))
        return BW_EINVAL;
    *out = v;
    return BW_OK;
}

static bool dec_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool hex_digit(char c)
{
    return dec_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Go's underscoreOK: each '_' between two digits, or between a base prefix and a digit. */
static bool underscores_ok(const char *s)
{
    char saw = '^'; /* ^ start, 0 digit or prefix, _ underscore, ! anything else */
    bool hex = false;
    s += *s == '+' || *s == '-';
    if (s[0] == '0' && ((s[1] | 0x20) == 'x' || (s[1] | 0x20) == 'b' || (s[1] | 0x20) == 'o')) {
        hex = (s[1] | 0x20) == 'x';
        saw = '0';
        s += 2;
    }
    for (; *s; s++) {
        if (dec_digit(*s) || (hex && hex_digit(*s))) {
            saw = '0';
        } else if (*s == '_') {
            if (saw != '0')
                return false;
            saw = '_';
        } else {
            if (saw == '_')
                return false;
            saw = '!';
        }
    }
    return saw != '_';
}

int parse_go_float(const char *s, double *out)
{
    const char *p = s + (*s == '+' || *s == '-'), *q;
    if (strcasecmp(s, "nan") == 0) { /* Go's special(): NaN takes no sign */
        *out = NAN;
        return BW_OK;
    }
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
        *out = *s == '-' ? -INFINITY : INFINITY;
        return BW_OK;
    }
    /* readFloat's grammar, which strtod's is wider than (nan(...), "-nan", hex without 'p'). */
    bool hex = p[0] == '0' && (p[1] | 0x20) == 'x' && p[2], dot = false, under = false;
    size_t digits = 0;
    for (q = hex ? p + 2 : p;; q++) {
        if (*q == '_')
            under = true;
        else if (*q == '.' && !dot)
            dot = true;
        else if (hex ? hex_digit(*q) : dec_digit(*q))
            digits++;
        else
            break;
    }
    if (digits == 0)
        return BW_EINVAL;
    if ((*q | 0x20) == (hex ? 'p' : 'e')) {
        q++;
        q += *q == '+' || *q == '-';
        if (!dec_digit(*q))
            return BW_EINVAL;
        for (; dec_digit(*q) || *q == '_'; q++)
            under = under || *q == '_';
    } else if (hex) {
        return BW_EINVAL; /* Go: a hexadecimal mantissa must have an exponent */
    }
    if (*q || (under && !underscores_ok(s)))
        return BW_EINVAL;
    char *plain = NULL, *end;
    if (under) { /* strtod reads no '_': the digits without them */
        size_t k = 0;
        if (!(plain = malloc(strlen(s) + 1)))
            return BW_ENOMEM;
        for (const char *c = s; *c; c++)
            if (*c != '_')
                plain[k++] = *c;
        plain[k] = '\0';
    }
    const char *text = plain ? plain : s;
    errno = 0;
    double v = strtod(text, &end);
    int rc = *end ? BW_EINVAL : errno == ERANGE && isinf(v) ? BW_ERANGE : BW_OK;
    free(plain);
    if (rc != BW_EINVAL)
        *out = v;
    return rc;
}

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p into *v. */
static int digits(const char **p, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return 0;
        *v = *v * 10 + (**p - '0');
    }
    return 1;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* datetime = date [sep hh ":" mm [":" ss ["." 1*DIGIT]] [zone]]
 * date     = yyyy "-" mm "-" dd
 * zone     = "Z" | ("+" / "-") hh ":" mm
 * Strict is RFC 3339's date-time: sep "T" only, seconds and the zone required, any offset.
 * Otherwise sep is "T" or " ", the rest may be left out (midnight), and the time is UTC: the
 * only offsets taken are +00:00 and -00:00. */
static int datetime(const char *s, bool strict, int64_t *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, zone = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return BW_EINVAL;
    if (*p == 'T' || (!strict && *p == ' ')) {
        p++;
        if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi))
            return BW_EINVAL;
        if (*p == ':') {
            p++;
            if (!digits(&p, 2, &sec))
                return BW_EINVAL;
            if (*p == '.') {
                int scale = 100;
                if (!isdigit((unsigned char)*++p))
                    return BW_EINVAL;
                for (; isdigit((unsigned char)*p); p++, scale /= 10)
                    ms += (*p - '0') * scale;
            }
        } else if (strict) {
            return BW_EINVAL;
        }
        if (*p == 'Z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p++ == '-' ? -1 : 1, oh, om;
            if (!digits(&p, 2, &oh) || *p++ != ':' || !digits(&p, 2, &om) || oh > 23 || om > 59)
                return BW_EINVAL;
            zone = sign * (oh * 60 + om);
            if (zone && !strict)
                return BW_EINVAL; /* loose times are UTC: only +00:00 says so */
        } else if (strict) {
            return BW_EINVAL;
        }
    } else if (strict) {
        return BW_EINVAL;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > (strict ? 59 : 60))
        return BW_EINVAL;
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi - zone) * 60000LL + sec * 1000LL + ms;
    return BW_OK;
}

/* time = 1*15DIGIT   ; ms since the epoch
 *      | datetime    ; not strict */
int parse_utc_ms(const char *s, int64_t *out)
{
    if (*s && strspn(s, "0123456789") == strlen(s)) {
        if (strlen(s) > 15)
            return BW_EINVAL;
        *out = strtoll(s, NULL, 10);
        return BW_OK;
    }
    return datetime(s, false, out);
}

int parse_rfc3339_ms(const char *s, int64_t *out)
{
    return datetime(s, true, out);
}

int parse_bytes(const char *s, int64_t *out)
{
    static const char *const units[][2] = {{"B", "B"},    {"KB", "KiB"}, {"MB", "MiB"},
                                           {"GB", "GiB"}, {"TB", "TiB"}, {"PB", "PiB"}};
    char *end;
    if (*s < '0' || *s > '9')
        return BW_EINVAL;
    errno = 0;
    long long n = strtoll(s, &end, 10);
    if (errno)
        return BW_EINVAL;
    int64_t scale = 1;
    if (*end) {
        size_t u = 0;
        while (u < BW_ARRAY_LEN(units) && strcmp(end, units[u][0]) && strcmp(end, units[u][1]))
            u++;
        if (u == BW_ARRAY_LEN(units))
            return BW_EINVAL;
        scale = INT64_C(1) << (10 * u);
    }
    if (n > INT64_MAX / scale)
        return BW_EINVAL;
    *out = (int64_t)n * scale;
    return BW_OK;
}
