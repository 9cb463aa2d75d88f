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

/* time = 1*15DIGIT                                          ; ms since the epoch
 *      | date [("T" / " ") hh ":" mm [":" ss ["." 1*DIGIT]] ["Z" / "+00:00"]]
 * date = yyyy "-" mm "-" dd                                 ; UTC */
int parse_utc_ms(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p && strspn(s, "0123456789") == strlen(s)) {
        if (strlen(s) > 15)
            return BW_EINVAL;
        *out = strtoll(s, NULL, 10);
        return BW_OK;
    }
    int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
        !digits(&p, 2, &d))
        return BW_EINVAL;
    if (*p == 'T' || *p == ' ') {
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
        }
        if (*p == 'Z')
            p++;
        else if (strcmp(p, "+00:00") == 0)
            p += 6;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return BW_EINVAL;
    *out = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + ms;
    return BW_OK;
}
