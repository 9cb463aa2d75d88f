/* cli: breakwatch's command line and configuration file, and the subcommands that are not
 * the server: `query`, `import` and `token`.
 *
 * Every setting is declared once, in a table in config.c, with its key in the YAML file
 * ("engine.speed"), the flag derived from it ("--speed"), its type and where it lands in
 * struct bw_config. The YAML loader and the flag parser both apply settings through that
 * table, so a setting behaves the same in both places and flags override the file. Options
 * that only make sense for one invocation (a query's time, a file to import) are not
 * settings: they land in struct cli_args. */
#ifndef BW_CLI_H
#define BW_CLI_H

#include <stdio.h>

#include "alert/notify.h"
#include "base/base.h"
#include "engine/engine.h"
#include "http/http.h"
#include "promql/promql.h"
#include "remote/remote.h"
#include "tsdb/tsdb.h"

#define CLI_MAX_TOKENS 64

struct bw_config {
    char listen_host[64];
    int listen_port;
    char data_dir[1024];
    /* Grafana dashboard JSON files the page renders (GET /api/dashboards); "": none. */
    char dashboards_dir[1024];
    enum log_level log_level;
    int allow_unauthenticated_remote; /* listen on a non-loopback address without auth */
    /* Bearer tokens (auth.tokens), only their hashes; none: auth is off. */
    struct http_token tokens[CLI_MAX_TOKENS];
    size_t ntokens;
    int metrics_open;            /* auth.metrics_open: /api/metrics needs no token */
    int64_t scrape_interval_ms;  /* the collector's */
    struct tsdb_options storage; /* retention, size cap */
    struct promql_options query; /* limits of one query */
    struct http_limits http;     /* limits of one client: connections, request sizes */
    struct engine_config engine;
    /* The `alerting:` section (rule files, receivers, routes; see alert/notify.h), NULL when
     * the file has none and no --rule-files was given. Owned; config_fini frees it. */
    struct notify_config *alerting;
    /* The `remote_write:` receivers and --remote-write-url (remote/remote.h), NULL when none.
     * Owned; config_fini frees it. */
    struct remote_config *remote_write;
};

enum cli_command { CLI_RUN, CLI_QUERY, CLI_IMPORT, CLI_HELP, CLI_VERSION };

/* What the command line asked for beyond settings. Strings point into argv. */
struct cli_args {
    enum cli_command cmd;
    int no_engine;      /* run: serve the data directory's history without the engine */
    const char *server; /* query: ask this breakwatch or Prometheus (URL) instead of data_dir */
    const char *time;   /* query: instant query time (default now) */
    const char *start, *end, *step; /* query: a range query when any is given */
    const char *expr;               /* query: the PromQL expression */
    const char *file;               /* import: the OpenMetrics file */
};

/* Fills cfg with the defaults (127.0.0.1:8000, ./data, a scrape a second, 15 days of
 * history, Prometheus's query limits, the HTTP server's limits, engine defaults). */
void config_defaults(struct bw_config *cfg);

/* Frees what config_defaults and the loaders allocated (the alerting section). */
void config_fini(struct bw_config *cfg);

/* Applies a YAML configuration file on top of cfg. BW_ENOENT / BW_EIO when it cannot be read,
 * BW_EINVAL with file:line:col and the setting's key in d for a syntax error, an unknown key
 * or a bad value. */
int config_load_file(const char *path, struct bw_config *cfg, struct diag *d);

/* Parses argv: an optional subcommand ("run", the default; "query" or "import"), then flags as
 * "--name value" or "--name=value", and for query the expression, for import the file. The
 * file named by --config is loaded first, then the other flags override it. BW_EINVAL with the
 * flag named in d for an unknown flag or one the subcommand does not take, a missing or bad
 * value, a missing or extra argument, or a bad configuration; BW_ENOENT for a missing file or
 * replay directory. */
int cli_parse(int argc, char **argv, struct bw_config *cfg, struct cli_args *args, struct diag *d);

/* Prints the usage text, with every setting and its default. */
void cli_usage(FILE *out);

/* `breakwatch query`: evaluates args->expr against the history in cfg->data_dir, or asks
 * args->server's /api/v1/query(_range), and prints the answer to out: an instant vector one
 * line per series, "labels => value @[t]"; a range query per series "labels =>" then one
 * "value @[t]" line per point. Errors go to d (a PromQL error with its position, a data
 * directory that another breakwatch holds, a server that cannot be reached or answers with an
 * error). BW_OK, or the failure's code. */
int cli_query(const struct bw_config *cfg, const struct cli_args *args, FILE *out, struct diag *d);

/* `breakwatch import`: validates args->file as OpenMetrics (see tsdb_import_openmetrics), then
 * imports it into cfg->data_dir and says what it imported on out. A bad file leaves nothing
 * behind, not even a data directory. BW_OK, or the failure's code with file:line:col in d. */
int cli_import(const struct bw_config *cfg, const struct cli_args *args, FILE *out, struct diag *d);

/* Whether name may name a token: 1 to 63 letters, digits, '.', '_', '@' or '-'. */
bool cli_token_name_valid(const char *name);

/* The subcommand "breakwatch token ...": argv holds what follows "token".
 *   token new --name NAME --role ROLE  prints a new random token (first line) and the line
 *                                      for auth.tokens with its SHA-256 (second line)
 *   token hash                         reads a token from stdin, prints its SHA-256 in hex
 * Returns the exit status: 0, 1 when no randomness can be had, 2 for a usage error. */
int cli_token(int argc, char **argv, FILE *out, FILE *in);

/* The subcommand "breakwatch test promql [--skip RULES] FILE...": argv holds what follows
 * "test promql". Prints per file "NAME: P passed, F failed, S skipped" after the details of
 * its failures, then the totals. Returns the exit status: 0 when nothing failed, 1 when a case
 * failed, 2 for a usage error or a file or rules file that cannot be read. */
int cli_test_promql(int argc, char **argv);

/* The subcommand "breakwatch check rules FILE...": argv holds what follows "check rules".
 * Loads each rule file as the server would and prints, as promtool does, "Checking FILE" then
 * "  SUCCESS: N rules found" or each error at file:line:col. Returns the exit status: 0 when
 * every file is valid, 1 when one is not, 2 for a usage error. (check_rules.c) */
int cli_check_rules(int argc, char **argv);

/* The subcommand "breakwatch test rules FILE...": argv holds what follows "test rules".
 * Runs promtool's rule unit test files (see ruletest_run_file) and prints "Unit Testing: FILE"
 * then "  SUCCESS" or the failures, as promtool does. Returns the exit status: 0 when every
 * test passed, 1 when one failed or a file is invalid, 2 for a usage error. (test_rules.c) */
int cli_test_rules(int argc, char **argv);

#endif
