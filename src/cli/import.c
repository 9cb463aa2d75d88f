/* import: `breakwatch import` — an OpenMetrics file into a data directory's history.
 *
 * The one design decision: the file is validated on its own before the data directory is
 * touched, so a bad file leaves nothing behind, not even a new, empty directory; the import
 * proper (tsdb_import_openmetrics) validates again against what the directory already holds
 * before it appends anything. */

#include "cli/cli.h"
#include "store/store.h"

static void put_time(FILE *out, int64_t ms)
{
    char s[32];
    fmt_rfc3339(s, ms, 0);
    fputs(s, out);
}

int cli_import(const struct bw_config *cfg, const struct cli_args *args, FILE *out, struct diag *d)
{
    struct store *st = NULL;
    struct tsdb *db = NULL;
    struct tsdb_import_stats s;
    int rc = tsdb_import_openmetrics(NULL, args->file, NULL, NULL, d);
    if (rc == BW_OK)
        rc = store_open(cfg->data_dir, &st, d);
    if (rc == BW_OK)
        rc = tsdb_open(st, &cfg->storage, &db, d);
    if (rc == BW_OK)
        rc = tsdb_import_openmetrics(db, args->file, NULL, &s, d);
    if (rc)
        goto out;
    fprintf(out, "imported %llu samples of %llu series in %llu families from %s",
            (unsigned long long)s.samples, (unsigned long long)s.series,
            (unsigned long long)s.families, args->file);
    if (s.samples) {
        fputs(", ", out);
        put_time(out, s.min_time);
        fputs(" to ", out);
        put_time(out, s.max_time);
    }
    fputs("\n", out);
out:
    tsdb_close(db);
    store_close(st);
    return rc;
}
