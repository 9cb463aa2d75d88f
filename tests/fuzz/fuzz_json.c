/* fuzz_json: what the HTTP API reads from clients — JSON request bodies
 * (api_json_parse_object) and the parameter readers (prom_parse_time, prom_parse_duration,
 * parse_go_float, parse_bytes, the UTF-8 checks). The design decision: one target for all of
 * them, the first input byte choosing the reader and the rest being its text, so one corpus of
 * small strings serves every reader. UTF-8 is checked against itself: utf8_valid must agree with
 * a walk by utf8_decode. */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "api/api.h"
#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    uint8_t which = data[0];
    char *s = fuzz_cstr(data + 1, size - 1);
    size_t n = size - 1;
    char msg[256];
    int64_t i64;
    double f;
    switch (which % 6) {
    case 0: {
        struct cJSON *obj = NULL;
        int line = 0, col = 0;
        if (api_json_parse_object(s, n, &obj, &line, &col, msg, sizeof(msg)) == BW_OK)
            cJSON_Delete(obj);
        break;
    }
    case 1:
        prom_parse_time(s, &i64, msg, sizeof(msg));
        break;
    case 2:
        prom_parse_duration(s, &i64, msg, sizeof(msg));
        break;
    case 3:
        parse_go_float(s, &f);
        break;
    case 4:
        parse_bytes(s, &i64);
        break;
    default: {
        /* utf8_valid must agree with walking the text by utf8_decode. */
        bool walk = true;
        for (size_t at = 0; at < n && walk;) {
            size_t len = utf8_decode((const unsigned char *)s + at, n - at, NULL);
            if (len > n - at)
                abort(); /* a sequence longer than the bytes it was given */
            walk = len > 0;
            at += len;
        }
        if (walk != utf8_valid(s, n))
            abort();
        break;
    }
    }
    free(s);
    return 0;
}
