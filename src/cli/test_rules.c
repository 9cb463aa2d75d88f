/* test_rules: the "breakwatch test rules FILE..." subcommand, which runs promtool's rule unit
 * test files with breakwatch's rule evaluator and prints what `promtool test rules` prints.
 *
 * It only reads its arguments and runs each file with ruletest_run_file; the runner holds the
 * logic. The main data structure is the per-file count (struct ruletest_counts).
 *
 * Design decision: a file that cannot be read or is malformed is reported as that file's
 * failure, as promtool does, and the other files still run; both that and a failed test exit
 * with 1, a usage error with 2. */
#include <stdio.h>
#include <string.h>

#include "alert/rules.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: breakwatch test rules FILE...\n"
                 "  Runs rule unit test files (the format of `promtool test rules`): input\n"
                 "  series, the rule files they name, expected alerts and PromQL results.\n");
}

int cli_test_rules(int argc, char **argv)
{
    int status = 0;
    if (argc == 0 || (argc > 0 && strncmp(argv[0], "-", 1) == 0)) {
        usage(stderr);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        struct ruletest_counts c = {0};
        struct diag d = {0};
        char msg[1024];
        printf("Unit Testing:  %s\n", argv[i]);
        fflush(stdout);
        int rc = ruletest_run_file(argv[i], stdout, &c, &d);
        if (rc != BW_OK) {
            diag_format(&d, msg, sizeof(msg));
            if (c.failed == 0)
                printf("  FAILED:\n");
            printf("%s\n\n", msg);
            status = 1;
        } else if (c.failed > 0) {
            status = 1;
        } else {
            printf("  SUCCESS\n");
        }
        printf("\n");
        fflush(stdout);
    }
    return status;
}
