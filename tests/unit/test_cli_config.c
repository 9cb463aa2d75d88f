/* Tests for src/cli/config.c: defaults, flags, the YAML file, precedence and error positions;
 * the auth settings, and the `token` subcommand (src/cli/token.c) whose lines they read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli.h"

static char tmpdir[64];

static int setup(void **state)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/bw-cli.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd);
}

static const char *write_file(const char *name, const char *text)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static struct cli_args args;

static int parse(struct bw_config *cfg, struct diag *d, int argc, const char **argv)
{
    config_defaults(cfg);
    memset(d, 0, sizeof(*d));
    return cli_parse(argc, (char **)argv, cfg, &args, d);
}

static void test_defaults(void **state)
{
    struct bw_config cfg;
    config_defaults(&cfg);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8000);
    assert_string_equal(cfg.data_dir, "data");
    assert_true(cfg.engine.nsymbols >= 15);
    struct diag d;
    assert_int_equal(engine_config_validate(&cfg.engine, &d), BW_OK);
}

static void test_flags(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *argv[] = {"breakwatch", "run",       "--listen=127.0.0.2:9100",
                          "--seed",     "42",        "--speed",
                          "7.5",        "--symbols", "BTCUSDT, ETHUSDT",
                          "--data-dir", "/tmp/x",    "--risk-per-trade",
                          "0.02"};
    assert_int_equal(parse(&cfg, &d, 13, argv), BW_OK);
    assert_string_equal(cfg.listen_host, "127.0.0.2");
    assert_int_equal(cfg.listen_port, 9100);
    assert_int_equal(cfg.engine.seed, 42);
    assert_true(cfg.engine.speed == 7.5);
    assert_int_equal(cfg.engine.nsymbols, 2);
    assert_string_equal(cfg.engine.symbols[0], "BTCUSDT");
    assert_string_equal(cfg.engine.symbols[1], "ETHUSDT");
    assert_string_equal(cfg.data_dir, "/tmp/x");
    assert_true(cfg.engine.risk_per_trade == 0.02);
}

static void test_help_version(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a1[] = {"breakwatch", "--bogus", "--help"};
    assert_int_equal(parse(&cfg, &d, 3, a1), BW_OK);
    assert_int_equal(args.cmd, CLI_HELP);
    const char *a2[] = {"breakwatch", "--version"};
    assert_int_equal(parse(&cfg, &d, 2, a2), BW_OK);
    assert_int_equal(args.cmd, CLI_VERSION);
    const char *a3[] = {"breakwatch", "query", "--help"};
    assert_int_equal(parse(&cfg, &d, 3, a3), BW_OK);
    assert_int_equal(args.cmd, CLI_HELP);
}

static void test_flag_errors(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a1[] = {"breakwatch", "--bogus", "1"};
    assert_int_equal(parse(&cfg, &d, 3, a1), BW_EINVAL);
    assert_string_equal(d.msg, "unknown option '--bogus' (see breakwatch --help)");
    const char *a2[] = {"breakwatch", "--seed"};
    assert_int_equal(parse(&cfg, &d, 2, a2), BW_EINVAL);
    assert_string_equal(d.msg, "--seed needs a value");
    const char *a3[] = {"breakwatch", "--seed", "-4"};
    assert_int_equal(parse(&cfg, &d, 3, a3), BW_EINVAL);
    assert_string_equal(d.msg, "--seed: expected a non-negative integer, got '-4'");
    const char *a4[] = {"breakwatch", "--symbols", "BTCUSDT,btc"};
    assert_int_equal(parse(&cfg, &d, 3, a4), BW_EINVAL);
    assert_non_null(strstr(d.msg, "--symbols: symbols[1] 'btc' must be upper-case"));
    const char *a5[] = {"breakwatch", "--symbols", "BTCUSDT,BTCUSDT"};
    assert_int_equal(parse(&cfg, &d, 3, a5), BW_EINVAL);
    assert_non_null(strstr(d.msg, "--symbols: symbols: 'BTCUSDT' is listed twice"));
    /* A range error comes from the engine's validator, reported against the flag. */
    const char *a6[] = {"breakwatch", "--speed", "0"};
    assert_int_equal(parse(&cfg, &d, 3, a6), BW_EINVAL);
    assert_memory_equal(d.msg, "--speed: ", 9);
    assert_non_null(strstr(d.msg, "speed"));
    const char *a7[] = {"breakwatch", "--listen", "[::1]:70000"};
    assert_int_equal(parse(&cfg, &d, 3, a7), BW_EINVAL);
    const char *a8[] = {"breakwatch", "--listen", "10.1.2.3:8000"};
    assert_int_equal(parse(&cfg, &d, 3, a8), BW_EINVAL);
    assert_string_equal(d.msg, "listen: refusing to serve 10.1.2.3 without authentication: no "
                               "auth.tokens are configured (breakwatch token new makes one); "
                               "configure tokens, use a loopback address, or set "
                               "allow_unauthenticated_remote (--allow-unauthenticated-remote=true) "
                               "if an open server is really wanted");
    const char *a9[] = {"breakwatch", "--listen", "10.1.2.3:8000", "--allow-unauthenticated-remote",
                        "true"};
    assert_int_equal(parse(&cfg, &d, 5, a9), BW_OK);
}

/* Settings that only make sense together are judged together, in any order; a complaint that
 * still holds at the end is reported where its setting stands. */
static void test_order_does_not_matter(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a1[] = {"breakwatch", "--tick", "7", "--candle", "70"};
    assert_int_equal(parse(&cfg, &d, 5, a1), BW_OK);
    assert_int_equal(cfg.engine.tick_ms, 7000);
    assert_int_equal(cfg.engine.candle_ms, 70000);
    const char *a2[] = {"breakwatch", "--min-volatility", "0.03", "--max-volatility", "0.05"};
    assert_int_equal(parse(&cfg, &d, 5, a2), BW_OK);
    const char *a3[] = {"breakwatch", "--tick", "7", "--candle", "70", "--speed", "0"};
    assert_int_equal(parse(&cfg, &d, 7, a3), BW_EINVAL);
    assert_memory_equal(d.msg, "--speed: speed must be", 22);
    const char *a4[] = {"breakwatch", "--tick", "7", "--seed", "3"};
    assert_int_equal(parse(&cfg, &d, 5, a4), BW_EINVAL);
    assert_memory_equal(d.msg, "--tick: candle_ms must be a multiple of tick_ms", 47);
    const char *path = write_file("pair.yml", "engine:\n  tick: 7\n  candle: 70\n");
    const char *a5[] = {"breakwatch", "--config", path};
    assert_int_equal(parse(&cfg, &d, 3, a5), BW_OK);
    assert_int_equal(cfg.engine.candle_ms, 70000);
}

static void test_yaml_and_precedence(void **state)
{
    const char *path = write_file("ok.yml", "# breakwatch\n"
                                            "listen: 127.0.0.1:9001\n"
                                            "log_level: warn\n"
                                            "engine:\n"
                                            "  seed: 9\n"
                                            "  speed: 30\n"
                                            "  symbols: [SOLUSDT, XRPUSDT, ADAUSDT]\n"
                                            "  start: 2024-03-04\n"
                                            "  duration: 3600\n");
    struct bw_config cfg;
    struct diag d;
    const char *argv[] = {"breakwatch", "--speed", "90", "--config", path};
    assert_int_equal(parse(&cfg, &d, 5, argv), BW_OK);
    assert_int_equal(cfg.listen_port, 9001);
    assert_int_equal(cfg.log_level, LOG_WARN);
    assert_int_equal(cfg.engine.seed, 9);
    assert_true(cfg.engine.speed == 90); /* the flag wins over the file */
    assert_int_equal(cfg.engine.nsymbols, 3);
    assert_string_equal(cfg.engine.symbols[2], "ADAUSDT");
    assert_int_equal(cfg.engine.start_ms, 1709510400000LL);
    assert_int_equal(cfg.engine.duration_ms, 3600000);
}

static void expect_file_error(const char *name, const char *text, const char *want)
{
    const char *path = write_file(name, text);
    struct bw_config cfg;
    struct diag d = {0};
    config_defaults(&cfg);
    struct bw_config before = cfg;
    assert_int_equal(config_load_file(path, &cfg, &d), BW_EINVAL);
    char msg[1024];
    diag_format(&d, msg, sizeof(msg));
    const char *rel = strrchr(msg, '/') + 1;
    assert_string_equal(rel, want);
    /* A rejected file changes nothing. */
    assert_memory_equal(&before, &cfg, sizeof(cfg));
}

static void test_yaml_errors(void **state)
{
    expect_file_error("v.yml", "engine:\n  seed: 3\n  speed: lots\n",
                      "v.yml:3:10: engine.speed: expected a number, got 'lots'");
    expect_file_error("k.yml", "engine:\n  seeds: 3\n",
                      "k.yml:2:3: unknown setting 'engine.seeds'");
    expect_file_error("t.yml", "listen: 127.0.0.1:1\nlisten: 127.0.0.1:2\n",
                      "t.yml:2:1: listen: set twice");
    expect_file_error("s.yml", "engine: [1, 2\n",
                      "s.yml:2:1: YAML syntax error: did not find "
                      "expected ',' or ']'");
    expect_file_error("m.yml", "- 1\n- 2\n",
                      "m.yml:1:1: expected a mapping of settings at the top level");
    expect_file_error("l.yml", "engine:\n  symbols: [BTCUSDT, [X]]\n",
                      "l.yml:2:22: engine.symbols: list items must be plain values");
    expect_file_error("r.yml", "engine:\n  speed: -1\n",
                      "r.yml:2:10: engine.speed: speed must be in [0.001, 1000000] (got -1)");
}

#define H1 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define H2 "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef"

static void test_auth_settings(void **state)
{
    struct bw_config cfg;
    struct diag d;
    config_defaults(&cfg);
    assert_int_equal(cfg.ntokens, 0);
    assert_false(cfg.metrics_open);

    /* The file: flow and block mappings, hex in either case. */
    const char *path = write_file("auth.yml", "listen: 0.0.0.0:8000\n"
                                              "auth:\n"
                                              "  metrics_open: true\n"
                                              "  tokens:\n"
                                              "    - {name: alice, role: viewer, sha256: " H1 "}\n"
                                              "    - name: ops@example.org\n"
                                              "      role: admin\n"
                                              "      sha256: " H2 "\n");
    const char *a1[] = {"breakwatch", "--config", path};
    assert_int_equal(parse(&cfg, &d, 3, a1), BW_OK); /* 0.0.0.0 is fine with tokens */
    assert_true(cfg.metrics_open);
    assert_int_equal(cfg.ntokens, 2);
    assert_string_equal(cfg.tokens[0].name, "alice");
    assert_int_equal(cfg.tokens[0].role, HTTP_ROLE_VIEWER);
    for (int i = 0; i < 32; i++)
        assert_int_equal(cfg.tokens[0].sha256[i], 0xaa);
    assert_string_equal(cfg.tokens[1].name, "ops@example.org");
    assert_int_equal(cfg.tokens[1].role, HTTP_ROLE_ADMIN);
    assert_int_equal(cfg.tokens[1].sha256[0], 0x01);
    assert_int_equal(cfg.tokens[1].sha256[6], 0xcd);
    assert_int_equal(cfg.tokens[1].sha256[31], 0xef);

    /* Flags: NAME:ROLE:SHA256 items replace the file's list. */
    const char *a2[] = {"breakwatch",    "--config",         path,
                        "--auth-tokens", ("bob:editor:" H2), "--auth-metrics-open=false"};
    assert_int_equal(parse(&cfg, &d, 6, a2), BW_OK);
    assert_int_equal(cfg.ntokens, 1);
    assert_string_equal(cfg.tokens[0].name, "bob");
    assert_int_equal(cfg.tokens[0].role, HTTP_ROLE_EDITOR);
    assert_false(cfg.metrics_open);
    const char *a3[] = {"breakwatch", "--auth-tokens", ("a:viewer:" H1 ",b:admin:" H2)};
    assert_int_equal(parse(&cfg, &d, 3, a3), BW_OK);
    assert_int_equal(cfg.ntokens, 2);
    const char *a4[] = {"breakwatch", "--auth-tokens", "a:viewer"};
    assert_int_equal(parse(&cfg, &d, 3, a4), BW_EINVAL);
    assert_string_equal(d.msg, "--auth-tokens: expected NAME:ROLE:SHA256 items separated by "
                               "commas");
    const char *a5[] = {"breakwatch", "--auth-tokens", ("a:boss:" H1)};
    assert_int_equal(parse(&cfg, &d, 3, a5), BW_EINVAL);
    assert_string_equal(d.msg, "--auth-tokens: expected viewer, editor or admin, got 'boss'");
    const char *a6[] = {"breakwatch", "--auth-tokens", ("a:viewer:" H1 ",a:admin:" H2)};
    assert_int_equal(parse(&cfg, &d, 3, a6), BW_EINVAL);
    assert_string_equal(d.msg, "--auth-tokens: the token name 'a' is used twice");
    /* Without tokens a non-loopback address still needs the explicit setting. */
    const char *a7[] = {"breakwatch", "--listen", "[::]:8000", "--auth-tokens", ""};
    assert_int_equal(parse(&cfg, &d, 5, a7), BW_EINVAL);
    assert_non_null(strstr(d.msg, "refusing to serve :: without authentication"));
}

static void test_auth_errors(void **state)
{
    expect_file_error("role.yml", "auth:\n  tokens:\n    - {name: a, role: root, sha256: " H1 "}\n",
                      "role.yml:3:23: auth.tokens[0].role: expected viewer, editor or admin, got "
                      "'root'");
    /* A value that is not a hash is never repeated: it may be the token itself. */
    expect_file_error("hex.yml",
                      "auth:\n  tokens:\n    - name: a\n      role: viewer\n"
                      "      sha256: bw_Secret-Token-Pasted-By-Mistake\n",
                      "hex.yml:5:15: auth.tokens[0].sha256: expected the token's SHA-256 as 64 "
                      "hex digits (breakwatch token new prints it, breakwatch token hash "
                      "computes it), got 33 characters that are not all hex digits");
    expect_file_error("short.yml", "auth:\n  tokens:\n    - {name: a, role: viewer, sha256: abc}\n",
                      "short.yml:3:39: auth.tokens[0].sha256: expected the token's SHA-256 as "
                      "64 hex digits (breakwatch token new prints it, breakwatch token hash "
                      "computes it), got 3 characters");
    expect_file_error("dup.yml",
                      "auth:\n  tokens:\n    - {name: a, role: viewer, sha256: " H1 "}\n"
                      "    - {name: a, role: admin, sha256: " H2 "}\n",
                      "dup.yml:4:14: auth.tokens[1].name: the token name 'a' is used twice");
    expect_file_error("same.yml",
                      "auth:\n  tokens:\n    - {name: a, role: viewer, sha256: " H1 "}\n"
                      "    - {name: b, role: admin, sha256: " H1 "}\n",
                      "same.yml:4:38: auth.tokens[1].sha256: tokens 'a' and 'b' have the same "
                      "hash");
    expect_file_error("miss.yml", "auth:\n  tokens:\n    - {name: a, role: viewer}\n",
                      "miss.yml:3:7: auth.tokens[0]: missing 'sha256'");
    expect_file_error("field.yml",
                      "auth:\n  tokens:\n    - {name: a, role: viewer, sha256: " H1 ", token: x}\n",
                      "field.yml:3:105: auth.tokens[0]: unknown field 'token' (expected name, "
                      "role, sha256)");
    expect_file_error("name.yml",
                      "auth:\n  tokens:\n    - {name: 'a b', role: viewer, sha256: " H1 "}\n",
                      "name.yml:3:14: auth.tokens[0].name: expected a name of 1 to 63 letters, "
                      "digits, '.', '_', '@' or '-', got 'a b'");
    expect_file_error("list.yml", "auth:\n  tokens: alice\n",
                      "list.yml:2:11: auth.tokens: expected a list of {name: ..., role: ..., "
                      "sha256: ...}");
    expect_file_error("item.yml", "auth:\n  tokens:\n    - alice\n",
                      "item.yml:3:7: auth.tokens[0]: expected a mapping {name: ..., role: ..., "
                      "sha256: ...}");
    expect_file_error("open.yml", "auth:\n  metrics_open: yes\n",
                      "open.yml:2:17: auth.metrics_open: expected true or false, got 'yes'");
}

/* Runs `breakwatch token ARGS` with input on stdin; returns the exit status and leaves
 * stdout in out. */
static int token_cmd(const char *input, char *out, size_t outlen, int argc, const char **argv)
{
    FILE *in = fmemopen((void *)input, strlen(input), "r");
    FILE *o = tmpfile();
    assert_non_null(in);
    assert_non_null(o);
    int rc = cli_token(argc, (char **)argv, o, in);
    rewind(o);
    size_t n = fread(out, 1, outlen - 1, o);
    out[n] = '\0';
    fclose(o);
    fclose(in);
    return rc;
}

static void test_token_command(void **state)
{
    char out[1024], again[1024], hash_out[256];
    const char *a1[] = {"new", "--name", "alice", "--role=editor"};
    assert_int_equal(token_cmd("", out, sizeof(out), 4, a1), 0);
    /* The token: "bw_" and 32 random bytes in base64url; then the configuration line. */
    char token[128], line[256];
    const char *nl = strchr(out, '\n');
    assert_non_null(nl);
    snprintf(token, sizeof(token), "%.*s", (int)(nl - out), out);
    snprintf(line, sizeof(line), "%.*s", (int)strcspn(nl + 1, "\n"), nl + 1);
    assert_int_equal(strlen(token), 3 + 43);
    assert_memory_equal(token, "bw_", 3);
    assert_int_equal(strspn(token + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                       "0123456789-_"),
                     43);
    unsigned char md[32];
    char want[200];
    assert_int_equal(http_token_hash(token, strlen(token), md), BW_OK);
    int n = snprintf(want, sizeof(want), "    - {name: alice, role: editor, sha256: ");
    for (int i = 0; i < 32; i++)
        n += snprintf(want + n, sizeof(want) - (size_t)n, "%02x", md[i]);
    snprintf(want + n, sizeof(want) - (size_t)n, "}");
    assert_string_equal(line, want);
    assert_int_equal(token_cmd("", again, sizeof(again), 4, a1), 0);
    assert_memory_not_equal(again, out, 46); /* a new token every time */

    /* token hash agrees, with or without the newline. */
    char input[160];
    snprintf(input, sizeof(input), "%s\n", token);
    const char *a2[] = {"hash"};
    assert_int_equal(token_cmd(input, hash_out, sizeof(hash_out), 1, a2), 0);
    assert_int_equal(strlen(hash_out), 65);
    assert_memory_equal(hash_out, strstr(line, "sha256: ") + 8, 64);
    assert_int_equal(token_cmd("abc", hash_out, sizeof(hash_out), 1, a2), 0);
    assert_string_equal(hash_out,
                        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n");

    /* The printed line is configuration as it is. */
    char yml[512];
    snprintf(yml, sizeof(yml), "auth:\n  tokens:\n%s\n", line);
    struct bw_config cfg;
    struct diag d = {0};
    config_defaults(&cfg);
    assert_int_equal(config_load_file(write_file("new.yml", yml), &cfg, &d), BW_OK);
    assert_int_equal(cfg.ntokens, 1);
    assert_int_equal(cfg.tokens[0].role, HTTP_ROLE_EDITOR);
    assert_memory_equal(cfg.tokens[0].sha256, md, 32);

    /* Usage errors: exit status 2, nothing on stdout. */
    const char *b1[] = {"new", "--name", "alice"};
    const char *b2[] = {"new", "--name", "alice", "--role", "root"};
    const char *b3[] = {"new", "--name", "a b", "--role", "viewer"};
    const char *b4[] = {"new", "--role"};
    const char *b5[] = {"rotate"};
    assert_int_equal(token_cmd("", out, sizeof(out), 3, b1), 2);
    assert_string_equal(out, "");
    assert_int_equal(token_cmd("", out, sizeof(out), 5, b2), 2);
    assert_int_equal(token_cmd("", out, sizeof(out), 5, b3), 2);
    assert_int_equal(token_cmd("", out, sizeof(out), 2, b4), 2);
    assert_int_equal(token_cmd("", out, sizeof(out), 1, b5), 2);
    assert_int_equal(token_cmd("", out, sizeof(out), 0, b5), 2);
    assert_int_equal(token_cmd("\n", out, sizeof(out), 1, a2), 2);
    assert_int_equal(token_cmd("two words", out, sizeof(out), 1, a2), 2);
    assert_string_equal(out, "");
}

static void test_missing_file(void **state)
{
    struct bw_config cfg;
    struct diag d = {0};
    config_defaults(&cfg);
    assert_int_equal(config_load_file("/nonexistent/breakwatch.yml", &cfg, &d), BW_ENOENT);
    assert_string_equal(d.file, "/nonexistent/breakwatch.yml");
}

/* The documented example configuration loads as it is. */
static void test_example_file(void **state)
{
    struct bw_config cfg;
    struct diag d = {0};
    config_defaults(&cfg);
    int rc = config_load_file(BW_SRCDIR "/breakwatch.example.yml", &cfg, &d);
    if (rc)
        fail_msg("%s:%d:%d: %s", d.file, d.line, d.col, d.msg);
    assert_int_equal(cfg.engine.nsymbols, 5);
    assert_string_equal(cfg.engine.symbols[4], "XRPUSDT");
    assert_int_equal(cfg.storage.retention_ms, 15 * 86400 * INT64_C(1000));
    assert_int_equal(cfg.scrape_interval_ms, 1000);
    /* The alerting section, its rule file found beside the configuration file. */
    assert_non_null(cfg.alerting);
    assert_int_equal(cfg.alerting->nrule_files, 1);
    assert_string_equal(cfg.alerting->rule_files[0],
                        BW_SRCDIR "/monitoring/rules/breakwatch.rules.yml");
    assert_int_equal(cfg.alerting->evaluation_interval_ms, 15000);
    assert_string_equal(cfg.alerting->route.receiver, "ops");
    assert_int_equal(cfg.alerting->route.group_interval_ms, 300000);
    config_fini(&cfg);
}

/* alerting: the file's section whole (alert/notify.h), --rule-files on the command line, and
 * an error inside the section at its file:line:col. */
static void test_alerting_settings(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a0[] = {"breakwatch", "--rule-files", "a.yml,rules/b.yml"};
    assert_int_equal(parse(&cfg, &d, 3, a0), BW_OK);
    assert_int_equal(cfg.alerting->nrule_files, 2);
    assert_string_equal(cfg.alerting->rule_files[0], "a.yml");
    assert_string_equal(cfg.alerting->rule_files[1], "rules/b.yml");
    config_fini(&cfg);

    const char *a1[] = {"breakwatch", "--rule-files", "a.yml,,b.yml"};
    assert_int_equal(parse(&cfg, &d, 3, a1), BW_EINVAL);
    assert_non_null(strstr(d.msg, "--rule-files"));
    config_fini(&cfg);

    char path[] = "/tmp/bw-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "scrape_interval: 2s\n"
                       "alerting:\n"
                       "  rule_files: [r.yml]\n"
                       "  route: {receiver: nobody}\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    config_defaults(&cfg);
    assert_int_equal(config_load_file(path, &cfg, &d), BW_EINVAL);
    assert_string_equal(d.file, path);
    assert_int_equal(d.line, 4);
    assert_non_null(strstr(d.msg, "nobody"));
    assert_null(cfg.alerting); /* nothing of a refused file is kept */
    assert_int_equal(cfg.scrape_interval_ms, 1000);
    unlink(path);

    /* Dotted keys make the sections before a later setting fails: the load frees them (the
     * leak fuzz_config found; the sanitizer build's leak check fails this test otherwise). */
    config_defaults(&cfg);
    assert_int_equal(
        config_load_file(write_file("dotted.yml", "alerting.rule_files: r.yml\n"
                                                  "remote_write.url: http://127.0.0.1:9/w\n"
                                                  "retention: forever\n"),
                         &cfg, &d),
        BW_EINVAL);
    assert_int_equal(d.line, 3);
    assert_null(cfg.alerting);
    assert_null(cfg.remote_write);
    /* A section replaces what the dotted key made. */
    assert_int_equal(config_load_file(write_file("both.yml", "alerting.rule_files: r.yml\n"
                                                             "alerting:\n"
                                                             "  rule_files: [s.yml, t.yml]\n"),
                                      &cfg, &d),
                     BW_OK);
    assert_int_equal(cfg.alerting->nrule_files, 2);
    config_fini(&cfg);
}

/* History and query settings: defaults, flags, the file's sections, bad values. */
static void test_history_settings(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a0[] = {"breakwatch"};
    assert_int_equal(parse(&cfg, &d, 1, a0), BW_OK);
    assert_int_equal(cfg.scrape_interval_ms, 1000);
    assert_int_equal(cfg.storage.retention_ms, 15 * 86400 * INT64_C(1000));
    assert_int_equal(cfg.storage.max_bytes, 0);
    assert_int_equal(cfg.query.max_samples, 50000000);
    assert_int_equal(cfg.query.timeout_ms, 120000);

    const char *a1[] = {"breakwatch", "--scrape-interval",   "250ms", "--storage-retention",
                        "2d12h",      "--storage-max-size",  "512MB", "--query-timeout",
                        "30",         "--query-max-samples", "1000"};
    assert_int_equal(parse(&cfg, &d, 11, a1), BW_OK);
    assert_int_equal(cfg.scrape_interval_ms, 250);
    assert_int_equal(cfg.storage.retention_ms, 60 * 3600 * INT64_C(1000));
    assert_int_equal(cfg.storage.max_bytes, INT64_C(512) << 20);
    assert_int_equal(cfg.query.timeout_ms, 30000);
    assert_int_equal(cfg.query.max_samples, 1000);

    const char *a2[] = {"breakwatch", "--scrape-interval", "0"};
    assert_int_equal(parse(&cfg, &d, 3, a2), BW_EINVAL);
    assert_string_equal(d.msg, "--scrape-interval: expected a duration above 0 (e.g. 15d, "
                               "1m30s, 500ms, 2.5), got '0'");
    const char *a3[] = {"breakwatch", "--storage-max-size", "12QB"};
    assert_int_equal(parse(&cfg, &d, 3, a3), BW_EINVAL);
    assert_non_null(strstr(d.msg, "--storage-max-size: expected a size in bytes"));
    const char *a4[] = {"breakwatch", "--storage-retention", "1.5h"};
    assert_int_equal(parse(&cfg, &d, 3, a4), BW_EINVAL);
    const char *a5[] = {"breakwatch", "--query-max-samples", "0"};
    assert_int_equal(parse(&cfg, &d, 3, a5), BW_EINVAL);

    const char *path = write_file("h.yml", "scrape_interval: 5s\n"
                                           "storage:\n  retention: 1w\n  max_size: 1GB\n"
                                           "query:\n  timeout: 1m\n");
    config_defaults(&cfg);
    assert_int_equal(config_load_file(path, &cfg, &d), BW_OK);
    assert_int_equal(cfg.scrape_interval_ms, 5000);
    assert_int_equal(cfg.storage.retention_ms, 7 * 86400 * INT64_C(1000));
    assert_int_equal(cfg.storage.max_bytes, INT64_C(1) << 30);
    assert_int_equal(cfg.query.timeout_ms, 60000);
    expect_file_error("q.yml", "query:\n  timeout: soon\n",
                      "q.yml:2:12: query.timeout: expected a duration above 0 (e.g. 15d, 1m30s, "
                      "500ms, 2.5), got 'soon'");
    expect_file_error("p.yml", "storage: 5\n",
                      "p.yml:1:10: storage: expected a mapping of storage settings");
}

/* The http.* limits: defaults, flags, the file, and bad values at their position. */
static void test_http_limits(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a0[] = {"breakwatch"};
    assert_int_equal(parse(&cfg, &d, 1, a0), BW_OK);
    assert_int_equal(cfg.http.max_connections, 256);
    assert_int_equal(cfg.http.max_request_size, 1 << 20);
    assert_int_equal(cfg.http.max_header_size, 64 << 10);
    assert_int_equal(cfg.http.idle_timeout_ms, 60000);

    const char *a1[] = {"breakwatch", "--http-max-connections", "4",   "--http-max-request-size",
                        "2MB",        "--http-max-header-size", "8KB", "--http-idle-timeout",
                        "2m"};
    assert_int_equal(parse(&cfg, &d, 9, a1), BW_OK);
    assert_int_equal(cfg.http.max_connections, 4);
    assert_int_equal(cfg.http.max_request_size, 2 << 20);
    assert_int_equal(cfg.http.max_header_size, 8 << 10);
    assert_int_equal(cfg.http.idle_timeout_ms, 120000);

    const char *a2[] = {"breakwatch", "--http-max-connections", "0"};
    assert_int_equal(parse(&cfg, &d, 3, a2), BW_EINVAL);
    assert_string_equal(d.msg, "--http-max-connections: expected a positive integer, got '0'");
    const char *a3[] = {"breakwatch", "--http-max-header-size", "1KB"};
    assert_int_equal(parse(&cfg, &d, 3, a3), BW_EINVAL);
    assert_string_equal(d.msg, "--http-max-header-size: 1024 bytes is not within 4KB to 16MB");
    const char *a4[] = {"breakwatch", "--http-idle-timeout", "1500ms"};
    assert_int_equal(parse(&cfg, &d, 3, a4), BW_EINVAL);
    assert_string_equal(
        d.msg, "--http-idle-timeout: 1500 ms is not a whole number of seconds from 1s to 1d");
    const char *a5[] = {"breakwatch", "--http-max-request-size", "0"};
    assert_int_equal(parse(&cfg, &d, 3, a5), BW_EINVAL);
    assert_string_equal(d.msg, "--http-max-request-size: 0 bytes is not within 1 B to 1GB");

    const char *path = write_file("http.yml", "http:\n  max_connections: 8\n"
                                              "  max_request_size: 64KB\n"
                                              "  max_header_size: 16384\n"
                                              "  idle_timeout: 5s\n");
    config_defaults(&cfg);
    assert_int_equal(config_load_file(path, &cfg, &d), BW_OK);
    assert_int_equal(cfg.http.max_connections, 8);
    assert_int_equal(cfg.http.max_request_size, 64 << 10);
    assert_int_equal(cfg.http.max_header_size, 16384);
    assert_int_equal(cfg.http.idle_timeout_ms, 5000);
    expect_file_error("h1.yml", "http:\n  max_connections: many\n",
                      "h1.yml:2:20: http.max_connections: expected a positive integer, got "
                      "'many'");
    expect_file_error("h2.yml", "listen: 127.0.0.1:1\nhttp:\n  max_connections: 70000\n",
                      "h2.yml:3:20: http.max_connections: 70000 is not within 1 to 65536");
    expect_file_error("h3.yml", "http:\n  idle_timeout: 0.5\n",
                      "h3.yml:2:17: http.idle_timeout: 500 ms is not a whole number of seconds "
                      "from 1s to 1d");
    expect_file_error("h4.yml", "http:\n  max_header_size: 2KB\n",
                      "h4.yml:2:20: http.max_header_size: 2048 bytes is not within 4KB to 16MB");

    /* The help lists them with their defaults. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_usage(f);
    fclose(f);
    assert_non_null(strstr(text, "--http-max-connections"));
    assert_non_null(strstr(text, "--http-max-request-size"));
    assert_non_null(strstr(text, "--http-max-header-size"));
    assert_non_null(strstr(text, "--http-idle-timeout"));
    free(text);
}

/* Subcommands: their own options, their arguments, and what belongs to which. */
static void test_subcommands(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *a1[] = {"breakwatch", "query",  "--data-dir", "/tmp/h",
                        "--time",     "now-5m", "rate(x[1m])"};
    assert_int_equal(parse(&cfg, &d, 7, a1), BW_OK);
    assert_int_equal(args.cmd, CLI_QUERY);
    assert_string_equal(args.time, "now-5m");
    assert_string_equal(args.expr, "rate(x[1m])");
    assert_string_equal(cfg.data_dir, "/tmp/h");
    assert_null(args.server);

    const char *a2[] = {"breakwatch", "query",      "--server=http://127.0.0.1:9090",
                        "--start",    "1700000000", "--step",
                        "15s",        "--",         "-up"};
    assert_int_equal(parse(&cfg, &d, 9, a2), BW_OK);
    assert_string_equal(args.server, "http://127.0.0.1:9090");
    assert_string_equal(args.start, "1700000000");
    assert_string_equal(args.step, "15s");
    assert_string_equal(args.expr, "-up");

    const char *a3[] = {"breakwatch", "import", "metrics.om", "--data-dir", "d"};
    assert_int_equal(parse(&cfg, &d, 5, a3), BW_OK);
    assert_int_equal(args.cmd, CLI_IMPORT);
    assert_string_equal(args.file, "metrics.om");

    const char *a4[] = {"breakwatch", "run", "--no-engine"};
    assert_int_equal(parse(&cfg, &d, 3, a4), BW_OK);
    assert_int_equal(args.cmd, CLI_RUN);
    assert_true(args.no_engine);

    const char *a5[] = {"breakwatch", "query"};
    assert_int_equal(parse(&cfg, &d, 2, a5), BW_EINVAL);
    assert_non_null(strstr(d.msg, "breakwatch query needs an expression"));
    const char *a6[] = {"breakwatch", "query", "up", "down"};
    assert_int_equal(parse(&cfg, &d, 4, a6), BW_EINVAL);
    assert_non_null(strstr(d.msg, "takes one expression; unexpected 'down'"));
    const char *a7[] = {"breakwatch", "query", "--time", "1", "--step", "1", "up"};
    assert_int_equal(parse(&cfg, &d, 7, a7), BW_EINVAL);
    assert_non_null(strstr(d.msg, "give one or the other"));
    const char *a8[] = {"breakwatch", "import"};
    assert_int_equal(parse(&cfg, &d, 2, a8), BW_EINVAL);
    assert_string_equal(d.msg, "breakwatch import needs the OpenMetrics file to import");
    const char *a9[] = {"breakwatch", "--server", "http://x", "up"};
    assert_int_equal(parse(&cfg, &d, 4, a9), BW_EINVAL);
    assert_string_equal(d.msg, "--server is an option of breakwatch query");
    const char *a10[] = {"breakwatch", "run", "--no-engine=yes"};
    assert_int_equal(parse(&cfg, &d, 3, a10), BW_EINVAL);
    assert_string_equal(d.msg, "--no-engine takes no value");
    const char *a11[] = {"breakwatch", "serve"};
    assert_int_equal(parse(&cfg, &d, 2, a11), BW_EINVAL);
    assert_string_equal(d.msg, "unknown command 'serve' (see breakwatch --help)");
    const char *a12[] = {"breakwatch", "run", "extra"};
    assert_int_equal(parse(&cfg, &d, 3, a12), BW_EINVAL);
    assert_string_equal(d.msg, "unexpected argument 'extra' (see breakwatch --help)");
    /* the listen address is the server's business only */
    const char *a13[] = {"breakwatch", "query", "--listen", "10.0.0.1:80", "up"};
    assert_int_equal(parse(&cfg, &d, 5, a13), BW_OK);
}

static void test_replay_dir_checked(void **state)
{
    struct bw_config cfg;
    struct diag d;
    const char *argv[] = {"breakwatch", "--replay", "/nonexistent/candles"};
    assert_int_equal(parse(&cfg, &d, 3, argv), BW_ENOENT);
    assert_string_equal(d.msg, "replay: '/nonexistent/candles' is not a directory");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_order_does_not_matter),
        cmocka_unit_test(test_yaml_and_precedence),
        cmocka_unit_test(test_yaml_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_auth_settings),
        cmocka_unit_test(test_auth_errors),
        cmocka_unit_test(test_token_command),
        cmocka_unit_test(test_example_file),
        cmocka_unit_test(test_alerting_settings),
        cmocka_unit_test(test_replay_dir_checked),
        cmocka_unit_test(test_history_settings),
        cmocka_unit_test(test_subcommands),
        cmocka_unit_test(test_http_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
