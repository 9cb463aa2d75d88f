/* main: wires the modules together — configuration, registry, journal, history (tsdb and its
 * collector), alerting (the rule evaluator and the notifier), engine, HTTP with its tokens and
 * the embedded web page — and waits for SIGINT or SIGTERM, reloading the rule files on SIGHUP;
 * or hands `query`, `import`, `token`, `test promql`, `test rules` and `check rules` to the
 * CLI. It holds no logic of its own.
 *
 * Signals are blocked before any thread starts, so every thread inherits the mask and only
 * the main thread, in sigwait, ever sees them. Exit status: 0 after a clean shutdown, 2 for a
 * usage or configuration error, 1 when something fails at run time. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "alert/notify.h"
#include "alert/rules.h"
#include "api/api.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "http/http.h"
#include "journal/journal.h"
#include "remote/remote.h"
#include "store/store.h"
#include "tsdb/tsdb.h"

static int fail(const struct diag *d)
{
    char msg[1024];
    diag_format(d, msg, sizeof(msg));
    fprintf(stderr, "breakwatch: %s\n", msg);
    return 1;
}

static void announce(const struct bw_config *cfg, const struct http_server *http, int no_engine)
{
    const char *h = cfg->listen_host;
    int v6 = strchr(h, ':') != NULL;
    char base[128];
    snprintf(base, sizeof(base), "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
             http_server_port(http));
    char market[1200];
    if (no_engine)
        snprintf(market, sizeof(market), "serving the history of %s", cfg->data_dir);
    else if (cfg->engine.replay_dir[0])
        snprintf(market, sizeof(market), "replaying %s", cfg->engine.replay_dir);
    else
        snprintf(market, sizeof(market), "simulated market, %zu symbols", cfg->engine.nsymbols);
    if (no_engine)
        fprintf(stderr, "breakwatch %s is %s, without the engine\n", BW_VERSION, market);
    else
        fprintf(stderr, "breakwatch %s is running the Breakout engine (%s, speed %gx)\n",
                BW_VERSION, market, cfg->engine.speed);
    if (web_nassets)
        fprintf(stderr, "  page:     %s/\n", base);
    fprintf(stderr,
            "  metrics:  %s/api/metrics\n"
            "  health:   %s/api/health\n"
            "  queries:  %s/api/v1/query (Prometheus API)\n"
            "  data:     %s (recorded every %gs)\n",
            base, base, base, cfg->data_dir, (double)cfg->scrape_interval_ms / 1000.0);
    if (cfg->ntokens)
        fprintf(stderr, "  auth:     %zu bearer tokens%s\n", cfg->ntokens,
                cfg->metrics_open ? "; /api/metrics open" : "");
    else
        fprintf(stderr, "  auth:     off (no auth.tokens configured)\n");
    fprintf(stderr, "Press Ctrl-C to stop.\n");
}

/* Starts alerting: the notifier on a store connection of its own, then the evaluator with the
 * configured rule files, reporting to it. An invalid rule file stops the start (d says where);
 * a missing alerting section means no rules and no receivers. */
static int alerting_start(const struct bw_config *cfg, const struct notify_config *nc,
                          const struct http_server *http, struct store *st, struct journal *jnl,
                          struct tsdb *db, bw_registry *reg, struct store **nst,
                          struct notifier **nt, struct ruler **ru, struct diag *d)
{
    char url[160];
    const char *h = cfg->listen_host;
    int v6 = strchr(h, ':') != NULL;
    snprintf(url, sizeof(url), "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
             http_server_port(http));
    struct labelset ext = {nc->external_labels, nc->nexternal_labels};
    struct ruler_options ro = {.interval_ms = nc->evaluation_interval_ms,
                               .resend_delay_ms = nc->resend_delay_ms,
                               .external_labels = &ext,
                               .external_url = nc->external_url ? nc->external_url : url,
                               .query = cfg->query};
    int rc = store_open_writer(st, nst, d);
    if (rc == BW_OK)
        rc = notifier_new(nc, *nst, jnl, reg, nt, d);
    if (rc != BW_OK)
        return rc;
    struct alert_sink sink = notifier_sink(*nt);
    if (ruler_new(db, &ro, &sink, ru) != BW_OK)
        return diag_set(d, BW_ENOMEM, "cannot start the rule evaluator: out of memory");
    rc = ruler_reload(*ru, nc->rule_files, nc->nrule_files, NULL, NULL, d);
    if (rc == BW_OK)
        rc = notifier_start(*nt, d);
    if (rc == BW_OK)
        rc = ruler_start(*ru, d);
    return rc;
}

static int run(const struct bw_config *cfg, int no_engine)
{
    struct diag d = {0};
    int status = 1;
    bw_registry *reg = NULL;
    struct http_server *http = NULL;
    struct engine *eng = NULL;
    struct journal *jnl = NULL;
    struct store *st = NULL;
    struct tsdb *db = NULL;
    struct tsdb_collector *col = NULL;
    struct remote_writer *rw = NULL;
    struct store *alert_st = NULL;
    struct notifier *notifier = NULL;
    struct ruler *ruler = NULL;
    struct notify_config no_alerting;
    const struct notify_config *nc = cfg->alerting ? cfg->alerting : &no_alerting;
    int engine_running = 0;
    struct api_ctx api = {.started_ns = clock_mono_ns(),
                          .promql = cfg->query,
                          .metrics_open = cfg->metrics_open,
                          .dashboards_dir = cfg->dashboards_dir,
                          .tokens = cfg->tokens,
                          .ntokens = cfg->ntokens};
    struct tsdb_collector_options co = {.interval_ms = cfg->scrape_interval_ms};

    notify_config_init(&no_alerting);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    reg = bw_registry_new(0);
    if (!reg) {
        diag_set(&d, BW_ENOMEM, "cannot create the metrics registry: out of memory");
        goto out;
    }
    /* Without /proc the engine is still worth watching: say so and go on. */
    int prc = bw_process_collector_register(reg);
    if (prc != BW_OK)
        log_warn("no process metrics (process_*): %s", bw_strerror(prc));
    api.registry = reg;
    struct http_config hc = {.host = cfg->listen_host,
                             .port = cfg->listen_port,
                             .registry = reg,
                             .routes = api.routes,
                             .nroutes = api_routes_init(&api),
                             .limits = cfg->http,
                             .tokens = cfg->tokens,
                             .ntokens = cfg->ntokens,
                             .assets = web_assets,
                             .nassets = web_nassets,
                             .audit = api_audit,
                             .audit_ud = &api};
    if (http_server_bind(&hc, &http, &d) != BW_OK)
        goto out;
    if (!no_engine && engine_new(&cfg->engine, reg, NULL, &eng, &d) != BW_OK)
        goto out;
    if (store_open(cfg->data_dir, &st, &d) != BW_OK)
        goto out;
    if (journal_open(st, &jnl, &d) != BW_OK)
        goto out;
    if (tsdb_open(st, &cfg->storage, &db, &d) != BW_OK)
        goto out;
    if (cfg->remote_write && cfg->remote_write->n &&
        (remote_writer_new(cfg->remote_write, cfg->data_dir, db, reg, &rw, &d) != BW_OK ||
         remote_writer_start(rw, &d) != BW_OK))
        goto out;
    if (tsdb_collector_new(db, reg, &co, &col) != BW_OK) {
        diag_set(&d, BW_ENOMEM, "cannot start recording the metrics: out of memory");
        goto out;
    }
    if (alerting_start(cfg, nc, http, st, jnl, db, reg, &alert_st, &notifier, &ruler, &d) != BW_OK)
        goto out;
    api.ruler = ruler;
    api.notifier = notifier;
    api.rule_files = nc->rule_files;
    api.nrule_files = nc->nrule_files;
    api.engine = eng;
    api.journal = jnl;
    api.tsdb = db;
    api.scrape_interval_ms = cfg->scrape_interval_ms;
    if (api_init(&api) != BW_OK) /* the rest works without it: say so and go on */
        log_warn("no live event stream (/api/monitoring/events/stream): out of memory");
    if (http_server_start(http, &d) != BW_OK || tsdb_collector_start(col, &d) != BW_OK)
        goto out;
    if (eng) {
        engine_set_journal(eng, jnl);
        if (engine_start(eng) != BW_OK)
            goto out;
        engine_running = 1;
    }
    announce(cfg, http, no_engine);

    int sig;
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
        struct diag rd = {0};
        log_info("SIGHUP received, reloading the rule files");
        ruler_reload(ruler, nc->rule_files, nc->nrule_files, NULL, NULL, &rd); /* logs */
    }
    log_info("%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    if (status)
        fail(&d);
    http_server_free(http); /* first: no request may see a half-stopped engine or tsdb */
    api_fini(&api);         /* no stream is left; before the journal it listens to closes */
    if (engine_running)
        engine_stop(eng);
    engine_free(eng);
    ruler_free(ruler);       /* before the notifier it reports to */
    notifier_free(notifier); /* tries what is queued once more */
    store_close(alert_st);
    tsdb_collector_free(col); /* records the end: the engine's series go stale */
    tsdb_close(db);
    remote_writer_free(rw); /* after the tsdb's last commit: what is unsent stays on disk */
    journal_close(jnl);
    store_close(st);
    bw_registry_free(reg);
    notify_config_fini(&no_alerting);
    return status;
}

int main(int argc, char **argv)
{
    struct bw_config cfg;
    struct cli_args args;
    struct diag d = {0};
    /* "test promql" runs conformance files, "test rules" and "check rules" rule files, "token"
     * makes tokens; none takes a configuration. */
    if (argc >= 3 && strcmp(argv[1], "test") == 0 && strcmp(argv[2], "promql") == 0)
        return cli_test_promql(argc - 3, argv + 3);
    if (argc >= 3 && strcmp(argv[1], "test") == 0 && strcmp(argv[2], "rules") == 0)
        return cli_test_rules(argc - 3, argv + 3);
    if (argc >= 3 && strcmp(argv[1], "check") == 0 && strcmp(argv[2], "rules") == 0)
        return cli_check_rules(argc - 3, argv + 3);
    if (argc >= 2 && strcmp(argv[1], "token") == 0)
        return cli_token(argc - 2, argv + 2, stdout, stdin);
    config_defaults(&cfg);
    int status = 0;
    if (cli_parse(argc, argv, &cfg, &args, &d) != BW_OK) {
        fail(&d);
        status = 2;
        goto out;
    }
    log_set_level(cfg.log_level);
    switch (args.cmd) {
    case CLI_HELP:
        cli_usage(stdout);
        break;
    case CLI_VERSION:
        printf("breakwatch %s\n", BW_VERSION);
        break;
    case CLI_QUERY:
        status = cli_query(&cfg, &args, stdout, &d) == BW_OK ? 0 : fail(&d);
        break;
    case CLI_IMPORT:
        status = cli_import(&cfg, &args, stdout, &d) == BW_OK ? 0 : fail(&d);
        break;
    case CLI_RUN:
        status = run(&cfg, args.no_engine);
        break;
    }
out:
    config_fini(&cfg);
    return status;
}
