/* fuzz_openmetrics: the OpenMetrics importer behind `breakwatch import`
 * (tsdb_import_openmetrics): both passes — validation and the appends — into a fresh in-memory
 * tsdb, with a small batch so commits happen mid-file. The design decision: the importer reads
 * its file twice by path, so each input goes through the process's memfd (fuzz.h); a fresh tsdb
 * per run keeps runs independent (a sample refused as out of order is then the input's doing). */
#include "fuzz.h"

#include "tsdb/tsdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *path = fuzz_file(data, size);
    struct tsdb *db = NULL;
    struct diag d = {0};
    if (tsdb_open(NULL, NULL, &db, &d) != BW_OK)
        abort();
    const struct tsdb_import_options o = {.batch_samples = 7};
    struct tsdb_import_stats st;
    tsdb_import_openmetrics(db, path, &o, &st, &d);
    tsdb_close(db);
    return 0;
}
