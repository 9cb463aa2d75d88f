/* fuzz_config: the configuration loader (src/cli/config.c config_load_file, its table of
 * settings, the alerting and remote_write sections) on arbitrary file contents, applied on top
 * of the defaults as `breakwatch --config` does. The design decision: the loader takes a path,
 * so each input goes through the process's memfd (fuzz.h); config_fini after every run lets
 * LeakSanitizer see anything a partial or failed load leaves behind. */
#include "fuzz.h"

#include "cli/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *path = fuzz_file(data, size);
    struct bw_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        abort();
    config_defaults(cfg);
    struct diag d = {0};
    config_load_file(path, cfg, &d);
    config_fini(cfg);
    free(cfg);
    return 0;
}
