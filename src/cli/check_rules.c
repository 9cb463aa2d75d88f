/* check_rules: the "breakwatch check rules FILE..." subcommand, promtool's `check rules`.
 *
 * Each file is loaded on its own with rule_set_load, exactly as the server loads it, and the
 * result printed in promtool's layout: "Checking FILE", then "  SUCCESS: N rules found" on
 * standard output, or "  FAILED:" and the error (file:line:col: what) on standard error, and
 * a blank line. There is no data structure beyond the one rule set being checked.
 *
 * Design decision: every file is checked even after one fails, so one run reports them all;
 * the exit status is 1 when any failed. */
#include <stdio.h>
#include <string.h>

#include "alert/rules.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: breakwatch check rules FILE...\n"
                 "  Checks Prometheus rule files as the server would load them.\n");
}

int cli_check_rules(int argc, char **argv)
{
    int status = 0;
    if (argc == 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc == 0 || (argv[0][0] == '-' && argv[0][1] != '\0')) {
        if (argc > 0)
            fprintf(stderr, "breakwatch: check rules: unknown option '%s'\n", argv[0]);
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        struct rule_set *rs = NULL;
        struct diag d = {0};
        const char *path = argv[i];
        printf("Checking %s\n", path);
        fflush(stdout);
        if (rule_set_load(&path, 1, &rs, &d) != BW_OK) {
            char msg[1024];
            diag_format(&d, msg, sizeof(msg));
            fprintf(stderr, "  FAILED:\n%s\n", msg);
            fflush(stderr);
            printf("\n");
            status = 1;
            continue;
        }
        printf("  SUCCESS: %zu rules found\n\n", rule_set_count(rs, NULL, NULL));
        rule_set_free(rs);
    }
    return status;
}
