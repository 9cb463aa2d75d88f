/* alert: the pieces both halves of alerting use — state names and fingerprints. */
#include <stdio.h>
#include <string.h>

#include "alert/alert.h"

const char *alert_state_name(enum alert_state s)
{
    switch (s) {
    case ALERT_PENDING:
        return "pending";
    case ALERT_FIRING:
        return "firing";
    case ALERT_INACTIVE:
        break;
    }
    return "inactive";
}

/* Names and values are separated by bytes that cannot occur in a label name (0xff after a
 * name, 0xfe after a value), so {a="bc"} and {ab="c"} differ. */
uint64_t alert_fingerprint(const struct labelset *ls)
{
    static const unsigned char name_end = 0xff, value_end = 0xfe;
    uint64_t h = HASH_SEED;
    for (size_t i = 0; i < ls->n; i++) {
        h = hash_bytes(ls->v[i].name, strlen(ls->v[i].name), h);
        h = hash_bytes(&name_end, 1, h);
        h = hash_bytes(ls->v[i].value, strlen(ls->v[i].value), h);
        h = hash_bytes(&value_end, 1, h);
    }
    return h;
}

void alert_fingerprint_hex(uint64_t fp, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)fp);
}
