/* fmt: shortest round-trip formatting of doubles, laid out like Go's
 * strconv.FormatFloat(v, 'g', -1, 64), which is what Prometheus clients emit and what the
 * canonical `le` and `quantile` label values are.
 *
 * The work is in two steps: find the shortest significant digits that read back to v, then lay
 * them out. Integral values below 2^53 get their digits from integer division (counts and
 * bucket counts, most of an exposition). Short decimals (up to 12 digits, such as prices) come
 * from the same integer path after scaling by 10^k. Other values try 15, 16 and 17 significant
 * digits in turn: when the shortest form has at most 15 digits, rounding v to 15 gives exactly
 * those digits padded with zeros, so the first precision that reads back is the shortest. Layout
 * follows Go's rule for shortest 'g': exponent form when the decimal exponent is below -4 or at
 * least 6 (1e+06, 1.234567e+06, 1e-05), plain decimal otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* The decimal digits of n > 0 into d without trailing zeros (NUL-terminated); returns the
 * number of digits n has. */
static int int_digits(uint64_t n, char *d)
{
    char tmp[24];
    int len = 0, m = 0;
    while (n) {
        tmp[len++] = (char)('0' + n % 10);
        n /= 10;
    }
    int ndigits = len;
    while (len > 0)
        d[m++] = tmp[--len];
    while (m > 1 && d[m - 1] == '0')
        m--;
    d[m] = '\0';
    return ndigits;
}

/* Digits of |v| without leading/trailing zeros into d (NUL-terminated), returns the decimal
 * exponent of the first digit. v must be finite and non-zero. */
static int shortest_digits(double v, char *d)
{
    double a = fabs(v);
    if (a < 9007199254740992.0 && a == floor(a))
        return int_digits((uint64_t)a, d) - 1;
    /* Short decimals (prices, ratios, 0.125): the first k at which the integer nearest v·10^k,
     * divided back by 10^k, reads back as v. Keeping v·10^k below 1e12 (under 2^40) makes the
     * product's rounding error tiny against the distance between k-digit decimals, so a k-digit
     * decimal that reads back as v is the one nearest v and cannot be missed; the first such k
     * gives the fewest digits, as no non-integral v below 2^53 reads back from an integer. The
     * division is correctly rounded, so n / 10^k == v is exactly strtod's verdict. */
    double scale = 10;
    for (int k = 1; k <= 22 && a * scale < 1e12; k++, scale *= 10) {
        double n = nearbyint(a * scale);
        if (n != 0 && n / scale == a)
            return int_digits((uint64_t)n, d) - 1 - k;
    }
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
    return atoi(p + 1);
}

size_t fmt_double(char *out, double v, int om_float)
{
    if (isnan(v))
        return (size_t)snprintf(out, 32, "NaN");
    if (isinf(v))
        return (size_t)snprintf(out, 32, "%s", v > 0 ? "+Inf" : "-Inf");
    char *o = out;
    if (signbit(v) && v != 0)
        *o++ = '-';
    if (v == 0) {
        memcpy(o, om_float ? "0.0" : "0", om_float ? 4 : 2);
        return strlen(out);
    }
    char d[24];
    int exp = shortest_digits(v, d);
    int nd = (int)strlen(d);
    if (exp < -4 || exp >= 6) {
        *o++ = d[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, d + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, 8, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        *o = '\0';
        return (size_t)(o - out);
    }
    if (exp < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = -1; i > exp; i--)
            *o++ = '0';
        memcpy(o, d, (size_t)nd);
        o += nd;
    } else {
        for (int i = 0; i <= exp; i++)
            *o++ = i < nd ? d[i] : '0';
        if (nd > exp + 1) {
            *o++ = '.';
            memcpy(o, d + exp + 1, (size_t)(nd - exp - 1));
            o += nd - exp - 1;
        } else if (om_float) {
            *o++ = '.';
            *o++ = '0';
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}
