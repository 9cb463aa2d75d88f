/* Tests for src/remote/config.c: a full remote_write entry read with every field, the
 * defaults Prometheus has, and each mistake refused at its file:line:col without the secret
 * in the message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "remote/remote.h"

/* Parses text's remote_write: list (the root's only key) into c; returns the code. */
static int parse(const char *text, struct remote_config *c, struct diag *d)
{
    struct conf_doc *doc;
    memset(d, 0, sizeof(*d));
    remote_config_init(c);
    assert_int_equal(conf_doc_parse("bw.yml", text, strlen(text), &doc, d), BW_OK);
    const struct conf_node *root = conf_doc_root(doc);
    int rc = remote_config_parse(doc, conf_value(root, 0), c, d);
    conf_doc_free(doc);
    return rc;
}

static void test_full(void **state)
{
    static const char text[] = "remote_write:\n"
                               "  - url: http://127.0.0.1:9090/api/v1/write\n"
                               "    name: central\n"
                               "    remote_timeout: 10s\n"
                               "    headers: {X-Scope-OrgID: bots}\n"
                               "    basic_auth: {username: bot, password: s3cret}\n"
                               "    queue_config:\n"
                               "      max_samples_per_send: 500\n"
                               "      batch_send_deadline: 2s\n"
                               "      min_backoff: 100ms\n"
                               "      max_backoff: 10s\n"
                               "    queue_max_bytes: 64MiB\n"
                               "  - url: https://mimir.example/api/v1/push\n"
                               "    authorization: {credentials: tok}\n"
                               "  - url: http://h/w\n"
                               "    queue_max_bytes: 3MB\n"; /* as storage.max_size: 1024s */
    struct remote_config c;
    struct diag d;
    assert_int_equal(parse(text, &c, &d), BW_OK);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.targets[2].queue_max_bytes, 3 * 1024 * 1024);
    const struct remote_target *t = &c.targets[0];
    assert_string_equal(t->url, "http://127.0.0.1:9090/api/v1/write");
    assert_string_equal(t->name, "central");
    assert_int_equal(t->timeout_ms, 10000);
    assert_int_equal(t->nheaders, 1);
    assert_string_equal(t->headers[0].name, "X-Scope-OrgID");
    assert_string_equal(t->headers[0].value, "bots");
    assert_string_equal(t->username, "bot");
    assert_string_equal(t->password, "s3cret");
    assert_int_equal(t->max_samples_per_send, 500);
    assert_int_equal(t->batch_send_deadline_ms, 2000);
    assert_int_equal(t->min_backoff_ms, 100);
    assert_int_equal(t->max_backoff_ms, 10000);
    assert_int_equal(t->queue_max_bytes, 64 << 20);
    /* The second: Prometheus's defaults, a name from the url, Bearer by default. */
    t = &c.targets[1];
    assert_int_equal(t->timeout_ms, 30000);
    assert_int_equal(t->max_samples_per_send, 2000);
    assert_int_equal(t->batch_send_deadline_ms, 5000);
    assert_int_equal(t->min_backoff_ms, 30);
    assert_int_equal(t->max_backoff_ms, 5000);
    assert_int_equal(t->queue_max_bytes, 256 << 20);
    assert_int_equal(strlen(t->name), 6);
    assert_string_equal(t->auth_type, "Bearer");
    assert_string_equal(t->credentials, "tok");
    remote_config_fini(&c);
}

/* text fails with "bw.yml:LINE:COL" and a message holding what; never the secret s3cret. */
static void refused(const char *text, int line, int col, const char *what)
{
    struct remote_config c;
    struct diag d;
    assert_int_equal(parse(text, &c, &d), BW_EINVAL);
    char msg[1024];
    diag_format(&d, msg, sizeof(msg));
    char where[64];
    snprintf(where, sizeof(where), "bw.yml:%d:%d: ", line, col);
    if (strncmp(msg, where, strlen(where)) != 0 || !strstr(msg, what) || strstr(msg, "s3cret"))
        fail_msg("expected %s...%s, got %s", where, what, msg);
    remote_config_fini(&c);
}

static void test_errors(void **state)
{
    refused("remote_write:\n  - url: http://h/w\n    write_relabel_configs: []\n", 3, 5,
            "write_relabel_configs");
    refused("remote_write:\n  - name: x\n", 2, 5, "url is required");
    refused("remote_write:\n  - url: ftp://h/w\n", 2, 10, "http://");
    refused("remote_write:\n  - url: http://h/w\n    remote_timeout: soon\n", 3, 21,
            "remote_timeout");
    refused("remote_write:\n  - url: http://h/w\n    queue_config: {max_shards: 4}\n", 3, 20,
            "max_shards");
    refused("remote_write:\n  - url: http://h/w\n    queue_config: {max_samples_per_send: 0}\n", 3,
            42, "max_samples_per_send");
    refused("remote_write:\n  - url: http://h/w\n"
            "    queue_config: {min_backoff: 2s, max_backoff: 1s}\n",
            3, 50, "max_backoff");
    refused("remote_write:\n  - url: http://h/w\n    basic_auth: {password: s3cret}\n", 3, 17,
            "username is required");
    refused("remote_write:\n  - url: http://h/w\n"
            "    basic_auth: {username: u, password: s3cret}\n"
            "    authorization: {credentials: s3cret}\n",
            4, 20, "at most one");
    refused("remote_write:\n  - url: http://h/w\n"
            "    authorization: {type: Basic, credentials: s3cret}\n",
            3, 27, "basic_auth");
    refused("remote_write:\n  - url: http://h/w\n    headers: {Authorization: s3cret}\n", 3, 15,
            "set by remote write");
    refused("remote_write:\n  - url: http://h/w\n    name: ../x\n", 3, 11, "directory");
    char text[512];
    snprintf(text, sizeof(text), "remote_write:\n  - url: http://h/w\n    name: %0201d\n", 0);
    refused(text, 3, 11, "up to 200");
    refused("remote_write:\n  - url: http://h/w\n  - url: http://h/w\n", 3, 5, "second queue");
    refused("remote_write:\n  - url: http://h/w\n    queue_max_bytes: lots\n", 3, 22,
            "queue_max_bytes");
    refused("remote_write: {url: http://h/w}\n", 1, 15, "expected a list");
    refused("remote_write:\n  - url: http://h/w\n    queue_max_bytes: 99999999999999999999\n", 3,
            22, "queue_max_bytes");
    refused("remote_write:\n  - url: http://h/w\n    queue_max_bytes: ' 5'\n", 3, 22,
            "queue_max_bytes");
}

/* Through breakwatch's configuration file and flags (src/cli/config.c): the section is read
 * whole beside the other settings, its errors keep their position, the flag adds a receiver
 * and --help shows neither URL nor secret. */
static void test_cli(void **state)
{
    char path[] = "/tmp/bw-rwcfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("log_level: warn\n"
          "remote_write:\n"
          "  - url: http://127.0.0.1:9/api/v1/write\n"
          "    basic_auth: {username: u, password: s3cret}\n",
          f);
    fclose(f);
    struct bw_config cfg;
    struct cli_args args;
    struct diag d = {0};
    config_defaults(&cfg);
    char *argv[] = {"breakwatch",
                    "--config",
                    path,
                    "--remote-write-url",
                    "http://h:1/w",
                    "--remote-write-url",
                    "http://127.0.0.1:9/api/v1/write",
                    NULL};
    assert_int_equal(cli_parse(7, argv, &cfg, &args, &d), BW_OK);
    assert_non_null(cfg.remote_write);
    assert_int_equal(cfg.remote_write->n, 2);
    assert_string_equal(cfg.remote_write->targets[0].password, "s3cret");
    assert_string_equal(cfg.remote_write->targets[1].url, "http://h:1/w");
    config_fini(&cfg);

    f = fopen(path, "w");
    fputs("remote_write:\n  - url: http://127.0.0.1:9/api/v1/write\n    proxy_url: x\n", f);
    fclose(f);
    config_defaults(&cfg);
    assert_int_equal(config_load_file(path, &cfg, &d), BW_EINVAL);
    assert_string_equal(d.file, path);
    assert_int_equal(d.line, 3);
    assert_int_equal(d.col, 5);
    assert_null(cfg.remote_write);
    config_fini(&cfg);
    unlink(path);
}

/* --remote-write-url adds a receiver the file may already have: the same url is one queue,
 * and a different url never shares a queue's directory with another (two sender threads
 * would overwrite each other's batch files). */
static void test_add_url_unique(void **state)
{
    struct remote_config c;
    struct diag d;
    remote_config_init(&c);
    assert_int_equal(remote_config_add_url(&c, "http://b:1/w"), BW_OK);
    assert_int_equal(remote_config_add_url(&c, "http://b:1/w"), BW_OK);
    assert_int_equal(c.n, 1);
    char b_name[32];
    snprintf(b_name, sizeof(b_name), "%s", c.targets[0].name);
    remote_config_fini(&c);

    /* The file names its queue for a as the flag's url b would be named by default. */
    char text[256];
    snprintf(text, sizeof(text), "remote_write:\n  - url: http://a:1/w\n    name: '%s'\n", b_name);
    assert_int_equal(parse(text, &c, &d), BW_OK);
    assert_int_equal(remote_config_add_url(&c, "http://b:1/w"), BW_OK);
    assert_int_equal(remote_config_add_url(&c, "http://a:1/w"), BW_OK); /* already there */
    assert_int_equal(c.n, 2);
    assert_string_equal(c.targets[0].name, b_name);
    assert_string_equal(c.targets[1].url, "http://b:1/w");
    assert_string_not_equal(c.targets[1].name, b_name);
    assert_int_equal(strlen(c.targets[1].name), 6);
    assert_int_equal(strspn(c.targets[1].name, "0123456789abcdef"), 6);
    remote_config_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cli),
        cmocka_unit_test(test_add_url_unique),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
