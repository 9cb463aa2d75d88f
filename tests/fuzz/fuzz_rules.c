/* fuzz_rules: the rule file loader (src/alert/rulefile.c) — YAML, the rulefmt checks, every
 * expression through the PromQL parser and every template through the template parser — on
 * arbitrary file contents. The design decision: the loader takes paths, so each input is written
 * to the process's memfd (fuzz.h) and loaded from there, exactly as `breakwatch run` loads it. */
#include "fuzz.h"

#include "alert/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *path = fuzz_file(data, size);
    struct rule_set *rs = NULL;
    struct diag d = {0};
    if (rule_set_load(&path, 1, &rs, &d) == BW_OK) {
        size_t alerting, recording;
        rule_set_count(rs, &alerting, &recording);
        rule_set_free(rs);
    }
    return 0;
}
