/* reload: loading rule files into a running evaluator — at start, on SIGHUP and through
 * POST /api/rules/reload. All of the files are loaded and validated before anything changes,
 * so an invalid edit never leaves a half-loaded set behind: the evaluator keeps the rules it
 * ran, and the caller learns why. The files are checked with the evaluator's own query options,
 * so that an expression that loads is one the evaluator runs. */
#include "alert/rules.h"

int ruler_reload(struct ruler *r, const char *const *paths, size_t n, size_t *groups, size_t *rules,
                 struct diag *d)
{
    struct rule_set *rs = NULL;
    int rc = rule_set_load_opts(paths, n, ruler_query_options(r), &rs, d);
    if (rc != BW_OK) {
        char msg[sizeof(d->msg) + sizeof(d->file) + 32];
        diag_format(d, msg, sizeof(msg));
        log_error("rules: not reloaded, the previous rules keep running: %s", msg);
        return rc;
    }
    size_t alerting = 0, recording = 0;
    size_t total = rule_set_count(rs, &alerting, &recording);
    size_t ngroups = rs->ngroups, nfiles = rs->nfiles;
    if (ruler_set_rules(r, rs) != BW_OK) /* rs is the ruler's now, or freed */
        return diag_set(d, BW_ENOMEM,
                        "rules: out of memory installing them; the previous rules "
                        "keep running");
    log_info("rules: loaded %zu groups, %zu rules (%zu alerting, %zu recording) from %zu files",
             ngroups, total, alerting, recording, nfiles);
    if (groups)
        *groups = ngroups;
    if (rules)
        *rules = total;
    return BW_OK;
}
