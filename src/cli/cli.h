/* cli: breakwatch's command line and configuration file.
 *
 * Every setting is declared once, in a table in config.c, with its key in the YAML file
 * ("engine.speed"), the flag derived from it ("--speed"), its type and where it lands in
 * struct bw_config. The YAML loader and the flag parser both apply settings through that
 * table, so a setting behaves the same in both places and flags override the file. */
#ifndef BW_CLI_H
#define BW_CLI_H

#include <stdio.h>

#include "base/base.h"
#include "engine/engine.h"

struct bw_config {
    char listen_host[64];
    int listen_port;
    char data_dir[1024];
    enum log_level log_level;
    int allow_unauthenticated_remote; /* listen on a non-loopback address without auth */
    struct engine_config engine;
};

enum cli_command { CLI_RUN, CLI_HELP, CLI_VERSION };

/* Fills cfg with the defaults (127.0.0.1:8000, ./data, engine defaults). */
void config_defaults(struct bw_config *cfg);

/* Applies a YAML configuration file on top of cfg. BW_ENOENT / BW_EIO when it cannot be read,
 * BW_EINVAL with file:line:col and the setting's key in d for a syntax error, an unknown key
 * or a bad value. */
int config_load_file(const char *path, struct bw_config *cfg, struct diag *d);

/* Parses argv: an optional subcommand ("run", the default), then flags as "--name value" or
 * "--name=value". The file named by --config is loaded first, then the other flags override
 * it. BW_EINVAL with the flag named in d for an unknown flag, a missing or bad value, or a
 * bad configuration; BW_ENOENT for a missing file or replay directory. */
int cli_parse(int argc, char **argv, struct bw_config *cfg, enum cli_command *cmd, struct diag *d);

/* Prints the usage text, with every setting and its default. */
void cli_usage(FILE *out);

#endif
