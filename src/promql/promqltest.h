/* promqltest: the runner for Prometheus's PromQL conformance files (the promqltest ".test"
 * format of Prometheus v3.5.0: load / clear / eval instant / eval range / eval_fail /
 * eval_ordered / eval_warn / eval_info, expected_fail_message / expected_fail_regexp and the
 * "expect" lines), with the checks Prometheus's own harness adds to every instant eval (the
 * same query re-run as a range query around the evaluation time, and with @ pinned to it at
 * other evaluation times).
 *
 * Skip rules (one file, each rule with its reason) name the cases that need what breakwatch
 * does not have: native histograms and functions behind Prometheus's experimental flag. */
#ifndef BW_PROMQLTEST_H
#define BW_PROMQLTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/base.h"

struct promqltest_rules;

/* Reads a skip-rules file. Each non-comment line is "KIND PATTERN -- REASON":
 *   load-line  PATTERN   a load line containing PATTERN is not loaded, and every eval with a
 *                        selector that would select that series is skipped;
 *   load-cmd   NAME      a load command spelled NAME ("load_with_nhcb") loads its float series
 *                        only; evals selecting a histogram it would also build are skipped;
 *   expected   PATTERN   an eval whose expected results contain PATTERN is skipped;
 *   call       NAME      an eval whose expression calls the function or aggregation NAME is
 *                        skipped.
 * BW_OK and *out; BW_EINVAL with file:line in d for a malformed rule; BW_ENOENT / BW_EIO when
 * the file cannot be read; BW_ENOMEM. */
int promqltest_rules_load(const char *path, struct promqltest_rules **out, struct diag *d);
void promqltest_rules_free(struct promqltest_rules *r);

struct promqltest_counts {
    size_t passed, failed, skipped;
};

/* Runs one .test file against a fresh in-memory tsdb, adding its cases to *c and printing
 * each failure (file:line, the query, what was expected and what came back) to out. rules
 * may be NULL. A command the runner cannot read counts as a failure. BW_OK once the file was
 * run; BW_ENOENT / BW_EIO when it cannot be read, BW_ENOMEM (d says which). */
int promqltest_run_file(const char *path, const struct promqltest_rules *rules, FILE *out,
                        struct promqltest_counts *c, struct diag *d);

/* The values of a series description in Prometheus's expanding notation, as the .test files'
 * load commands and promtool's input_series write them:
 *   values := { item }   item := "_" ["x" N] | "stale" | V ["x" N] | V ("+"|"-") D "x" N
 * "_xN" is N missing values (omitted), "VxN" is V N+1 times, "V+DxN" is V, V+D, … V+N×D, and
 * V is [+-] Inf, NaN or a decimal number. Items are separated by blanks. The arrays are
 * allocated in a. BW_OK; BW_EINVAL with "bad series value \"ITEM\"" in msg; BW_ENOMEM. */
struct promqltest_values {
    double *v;
    bool *omitted;
    size_t n, cap;
};
int promqltest_parse_values(struct arena *a, const char *s, struct promqltest_values *out,
                            char *msg, size_t msglen);

#endif
