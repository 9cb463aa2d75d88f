/* test_promql: the "breakwatch test promql [--skip RULES] FILE..." subcommand, which runs
 * Prometheus's PromQL conformance files against breakwatch's query engine.
 *
 * It only reads its arguments, runs each file with promqltest_run_file and prints the counts;
 * the runner holds the logic. The main data structure is the running total (struct
 * promqltest_counts) beside the per-file one.
 *
 * Design decision: a file that cannot be read stops nothing — the other files still run —
 * but the exit status says so (2), apart from ordinary failures (1), so a script can tell "a
 * case failed" from "the run was broken". */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "promql/promqltest.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: breakwatch test promql [--skip RULES] FILE...\n"
                 "  Runs PromQL conformance files (Prometheus's promqltest format) against an\n"
                 "  in-memory tsdb. RULES names the cases to skip, each with its reason.\n");
}

int cli_test_promql(int argc, char **argv)
{
    const char *rules_path = NULL;
    struct promqltest_rules *rules = NULL;
    struct promqltest_counts total = {0};
    struct diag d = {0};
    char msg[1024];
    int status = 0, first = 0;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--skip") == 0 && first + 1 < argc) {
            rules_path = argv[++first];
        } else if (strncmp(argv[first], "--skip=", 7) == 0) {
            rules_path = argv[first] + 7;
        } else {
            fprintf(stderr, "breakwatch: test promql: unknown option '%s'\n", argv[first]);
            usage(stderr);
            return 2;
        }
    }
    if (first == argc) {
        usage(stderr);
        return 2;
    }
    if (rules_path && promqltest_rules_load(rules_path, &rules, &d) != BW_OK) {
        diag_format(&d, msg, sizeof(msg));
        fprintf(stderr, "breakwatch: test promql: %s\n", msg);
        return 2;
    }
    for (int i = first; i < argc; i++) {
        struct promqltest_counts c = {0};
        const char *slash = strrchr(argv[i], '/');
        if (promqltest_run_file(argv[i], rules, stdout, &c, &d) != BW_OK) {
            diag_format(&d, msg, sizeof(msg));
            fprintf(stderr, "breakwatch: test promql: %s\n", msg);
            status = 2;
        }
        printf("%s: %zu passed, %zu failed, %zu skipped\n", slash ? slash + 1 : argv[i], c.passed,
               c.failed, c.skipped);
        fflush(stdout);
        total.passed += c.passed;
        total.failed += c.failed;
        total.skipped += c.skipped;
        if (c.failed > 0 && status == 0)
            status = 1;
    }
    printf("total: %zu passed, %zu failed, %zu skipped\n", total.passed, total.failed,
           total.skipped);
    promqltest_rules_free(rules);
    return status;
}
