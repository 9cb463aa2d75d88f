/* main: wires the modules together — configuration, registry, journal, engine, HTTP — and
 * waits for SIGINT or SIGTERM. It holds no logic of its own.
 *
 * Signals are blocked before any thread starts, so every thread inherits the mask and only
 * the main thread, in sigwait, ever sees them. Exit status: 0 after a clean shutdown, 2 for a
 * usage or configuration error, 1 when something fails at run time. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/cli.h"
#include "engine/engine.h"
#include "http/http.h"
#include "journal/journal.h"

static int fail(const struct diag *d)
{
    char msg[1024];
    diag_format(d, msg, sizeof(msg));
    fprintf(stderr, "breakwatch: %s\n", msg);
    return 1;
}

static void announce(const struct bw_config *cfg, const struct http_server *http)
{
    const char *h = cfg->listen_host;
    int v6 = strchr(h, ':') != NULL;
    char base[128];
    snprintf(base, sizeof(base), "http://%s%s%s:%d", v6 ? "[" : "", h, v6 ? "]" : "",
             http_server_port(http));
    char market[1200];
    if (cfg->engine.replay_dir[0])
        snprintf(market, sizeof(market), "replaying %s", cfg->engine.replay_dir);
    else
        snprintf(market, sizeof(market), "simulated market, %zu symbols", cfg->engine.nsymbols);
    fprintf(stderr,
            "breakwatch %s is running the Breakout engine (%s, speed %gx)\n"
            "  metrics:  %s/api/metrics\n"
            "  health:   %s/api/health\n"
            "  data:     %s\n"
            "Press Ctrl-C to stop.\n",
            BW_VERSION, market, cfg->engine.speed, base, base, cfg->data_dir);
}

static int run(const struct bw_config *cfg)
{
    struct diag d = {0};
    int status = 1;
    bw_registry *reg = NULL;
    struct http_server *http = NULL;
    struct engine *eng = NULL;
    struct journal *jnl = NULL;
    int engine_running = 0;
    struct api_ctx api = {.started_ns = clock_mono_ns()};

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

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
                             .nroutes = api_routes_init(&api)};
    if (http_server_bind(&hc, &http, &d) != BW_OK)
        goto out;
    if (engine_new(&cfg->engine, reg, NULL, &eng, &d) != BW_OK)
        goto out;
    if (journal_open(cfg->data_dir, &jnl, &d) != BW_OK)
        goto out;
    engine_set_journal(eng, jnl);
    api.engine = eng;
    api.journal = jnl;
    if (http_server_start(http, &d) != BW_OK || engine_start(eng) != BW_OK)
        goto out;
    engine_running = 1;
    announce(cfg, http);

    int sig;
    sigwait(&stop, &sig);
    log_info("%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    if (status)
        fail(&d);
    http_server_free(http); /* first: no request may see a half-stopped engine */
    if (engine_running)
        engine_stop(eng);
    engine_free(eng);
    journal_close(jnl);
    bw_registry_free(reg);
    return status;
}

int main(int argc, char **argv)
{
    struct bw_config cfg;
    enum cli_command cmd;
    struct diag d = {0};
    config_defaults(&cfg);
    if (cli_parse(argc, argv, &cfg, &cmd, &d) != BW_OK) {
        fail(&d);
        return 2;
    }
    if (cmd == CLI_HELP) {
        cli_usage(stdout);
        return 0;
    }
    if (cmd == CLI_VERSION) {
        printf("breakwatch %s\n", BW_VERSION);
        return 0;
    }
    log_set_level(cfg.log_level);
    return run(&cfg);
}
