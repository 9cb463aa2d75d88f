/* parse: the strict text-to-value readers every input path shares — numbers in configuration
 * flags, CSV candles and exchange JSON, and UTC times in configuration and CSV files.
 *
 * Strict means the whole string is the value: no trailing junk, no overflow, no NaN or
 * infinity. Times are computed from the civil date directly (no strptime or timegm), so the
 * result does not depend on the process's locale or time zone. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
