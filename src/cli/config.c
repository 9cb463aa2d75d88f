/* config: the settings table, the YAML configuration loader and the flag parser.
 *
 * Main data structure: `settings[]`, one row per setting with its YAML key, type, target
 * field and help. A flag's name is derived from the key ("engine.risk_per_trade" →
 * "--risk-per-trade", "storage.retention" → "--storage-retention"), so the file and the
 * command line cannot drift apart. Range checks are
 * not repeated here: after a setting is applied the engine's own validator runs, and its
 * complaint is reported at that setting's position (file:line:col or the flag).
 *
 * One setting is not a single value: auth.tokens, a list of {name, role, sha256} in the file
 * (each field checked at its own position) and NAME:ROLE:SHA256,... as a flag; both go through
 * token_add. Only hashes are ever configured, and no message repeats a sha256 value, in case
 * a token itself was pasted there by mistake. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "cli/cli.h"
#include "conf/conf.h"
#include "http/http.h"

enum setting_type {
    T_LISTEN,
    T_PATH,
    T_LOGLEVEL,
    T_BOOL,
    T_U64,
    T_INT,
    T_DOUBLE,
    T_SYMBOLS,
    T_SECONDS,
    T_TIME,
    T_DURATION,   /* int64_t ms > 0: a Prometheus duration ("15d", "1m30s") or seconds */
    T_BYTES,      /* int64_t >= 0: bytes, or with a unit B KB MB GB TB (powers of 1024) */
    T_COUNT,      /* size_t */
    T_TOKENS,     /* struct http_token[]: auth.tokens */
    T_RULE_FILES, /* alerting.rule_files, as a flag (the file's alerting: is read whole) */
    T_REMOTE_URL  /* remote_write.url, as a flag (the file's remote_write: is read whole) */
};

struct setting {
    const char *key;
    enum setting_type type;
    size_t offset; /* into struct bw_config */
    size_t size;   /* for T_PATH: the buffer size */
    const char *help;
};

#define FIELD(f) offsetof(struct bw_config, f), sizeof(((struct bw_config *)0)->f)
#define ENG(f)   FIELD(engine.f)

static const struct setting settings[] = {
    {"listen", T_LISTEN, 0, 0, "address to serve HTTP on, HOST:PORT"},
    {"data_dir", T_PATH, FIELD(data_dir), "directory for the journal and history"},
    {"dashboards_dir", T_PATH, FIELD(dashboards_dir),
     "Grafana dashboard JSON files the page renders (e.g. monitoring/grafana/dashboards)"},
    {"log_level", T_LOGLEVEL, FIELD(log_level), "debug, info, warn or error"},
    {"allow_unauthenticated_remote", T_BOOL, FIELD(allow_unauthenticated_remote),
     "serve a non-loopback address without authentication"},
    {"auth.tokens", T_TOKENS, 0, 0,
     "bearer tokens that may use the API, by SHA-256 (see breakwatch token new)"},
    {"alerting.rule_files", T_RULE_FILES, 0, 0,
     "Prometheus rule files to evaluate, comma-separated (glob patterns allowed)"},
    {"remote_write.url", T_REMOTE_URL, 0, 0,
     "push every sample to this Prometheus remote-write receiver (queued on disk under "
     "data_dir/remote/; 'remote_write:' in the file takes more)"},
    {"auth.metrics_open", T_BOOL, FIELD(metrics_open),
     "serve /api/metrics without a token even when tokens are configured"},
    {"scrape_interval", T_DURATION, FIELD(scrape_interval_ms),
     "how often the metrics are recorded into history"},
    {"storage.retention", T_DURATION, FIELD(storage.retention_ms),
     "keep history this long (e.g. 15d, 12h)"},
    {"storage.max_size", T_BYTES, FIELD(storage.max_bytes),
     "cap on stored history, oldest dropped first (e.g. 2GB; 0: none)"},
    {"query.max_samples", T_COUNT, FIELD(query.max_samples),
     "samples one query may hold in memory at once"},
    {"query.timeout", T_DURATION, FIELD(query.timeout_ms), "wall time one query may take"},
    {"http.max_connections", T_COUNT, FIELD(http.max_connections),
     "HTTP connections open at once; more wait in the listen queue until one closes"},
    {"http.max_request_size", T_BYTES, FIELD(http.max_request_size),
     "largest request body (e.g. 1MB); a larger one gets 413"},
    {"http.max_header_size", T_BYTES, FIELD(http.max_header_size),
     "room for a request's line and headers (4KB to 16MB); past it 414 (line) or 431 (headers)"},
    {"http.idle_timeout", T_DURATION, FIELD(http.idle_timeout_ms),
     "close a connection silent this long (whole seconds; a live stream is never idle)"},
    {"engine.seed", T_U64, ENG(seed), "seed of the synthetic market and the paper broker"},
    {"engine.speed", T_DOUBLE, ENG(speed), "simulated seconds per wall-clock second"},
    {"engine.symbols", T_SYMBOLS, 0, 0, "the universe, comma-separated (e.g. BTCUSDT,ETHUSDT)"},
    {"engine.replay", T_PATH, ENG(replay_dir), "replay CSV candle files from this directory"},
    {"engine.start", T_TIME, ENG(start_ms),
     "simulated start, YYYY-MM-DD[THH:MM[:SS]Z] (UTC) or epoch ms"},
    {"engine.duration", T_SECONDS, ENG(duration_ms), "stop after this many simulated seconds"},
    {"engine.tick", T_SECONDS, ENG(tick_ms), "simulated seconds one engine cycle covers"},
    {"engine.candle", T_SECONDS, ENG(candle_ms), "candle interval, simulated seconds"},
    {"engine.starting_equity", T_DOUBLE, ENG(starting_equity), "paper account equity"},
    {"engine.risk_per_trade", T_DOUBLE, ENG(risk_per_trade), "fraction of equity risked a trade"},
    {"engine.daily_loss_limit", T_DOUBLE, ENG(daily_loss_limit),
     "fraction of start-of-day equity that halts trading"},
    {"engine.max_positions", T_INT, ENG(max_positions), "open positions at most"},
    {"engine.max_leverage", T_DOUBLE, ENG(max_leverage), "position notional at most this x equity"},
    {"engine.range_lookback", T_INT, ENG(range_lookback), "candles that form the range"},
    {"engine.volume_factor", T_DOUBLE, ENG(volume_factor),
     "breakout volume at least this times the average"},
    {"engine.min_volatility", T_DOUBLE, ENG(min_volatility), "lowest ATR/price to trade"},
    {"engine.max_volatility", T_DOUBLE, ENG(max_volatility), "highest ATR/price to trade"},
    {"engine.confirm_candles", T_INT, ENG(confirm_candles), "candles a breakout must hold"},
    {"engine.stop_atr", T_DOUBLE, ENG(stop_atr), "stop distance in ATRs"},
    {"engine.target_atr", T_DOUBLE, ENG(target_atr), "target distance in ATRs"},
    {"engine.trail_atr", T_DOUBLE, ENG(trail_atr), "trailing stop distance in ATRs"},
    {"engine.latency_ms", T_DOUBLE, ENG(latency_ms_mean), "mean simulated execution latency"},
    {"engine.slippage_bps", T_DOUBLE, ENG(slippage_bps), "simulated slippage, basis points"},
    {"engine.reject_rate", T_DOUBLE, ENG(reject_rate), "share of entry orders rejected"},
    {"engine.fault_unexpected_every", T_DOUBLE, ENG(fault_unexpected_every_s),
     "fault injection: simulated seconds between undeclared state transitions (scanning -> "
     "managing, counted in engine_unexpected_transitions_total); 0: off"},
    {"engine.fault_cycle_delay_ms", T_DOUBLE, ENG(fault_cycle_delay_ms),
     "fault injection: wall-clock ms added to every engine cycle (raises engine_cycle_time, "
     "and lowers the scan rate once cycles no longer keep up with the speed); 0: off"},
};

void config_defaults(struct bw_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->listen_host, sizeof(cfg->listen_host), "127.0.0.1");
    cfg->listen_port = 8000;
    snprintf(cfg->data_dir, sizeof(cfg->data_dir), "data");
    cfg->log_level = LOG_INFO;
    cfg->scrape_interval_ms = 1000;
    cfg->storage.retention_ms = 15 * 86400 * INT64_C(1000);
    cfg->query.max_samples = 50000000;
    cfg->query.timeout_ms = 120000;
    http_limits_defaults(&cfg->http);
    engine_config_defaults(&cfg->engine);
}

static const struct setting *setting_find(const char *key)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(settings); i++)
        if (strcmp(settings[i].key, key) == 0)
            return &settings[i];
    return NULL;
}

/* Whether key names a section of the file: a mapping whose keys are settings "key.*". */
static int is_section(const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < BW_ARRAY_LEN(settings); i++)
        if (strncmp(settings[i].key, key, n) == 0 && settings[i].key[n] == '.')
            return 1;
    return 0;
}

/* "--risk-per-trade" for "engine.risk_per_trade", "--storage-max-size" for
 * "storage.max_size": the engine's settings are the most used and go without their section,
 * as does alerting's one flag ("--rule-files"). */
static void flag_name(const struct setting *s, char *out, size_t outlen)
{
    const char *k = s->key;
    if (strncmp(k, "engine.", 7) == 0)
        k += 7;
    else if (strncmp(k, "alerting.", 9) == 0)
        k += 9;
    size_t n = (size_t)snprintf(out, outlen, "--%s", k);
    for (size_t i = 2; i < n && i < outlen; i++)
        if (out[i] == '_' || out[i] == '.')
            out[i] = '-';
}

/* A Prometheus duration or a number of seconds, into ms > 0. */
static int parse_duration_ms(const char *v, int64_t *out)
{
    double secs;
    int64_t ms;
    if (parse_finite(v, &secs) == BW_OK)
        ms = secs > 0 && secs < 1e12 ? (int64_t)llround(secs * 1000) : 0;
    else if (promql_parse_duration(v, strlen(v), &ms) != BW_OK)
        return BW_EINVAL;
    if (ms <= 0)
        return BW_EINVAL;
    *out = ms;
    return BW_OK;
}

static int parse_i64(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi)
        return BW_EINVAL;
    *out = n;
    return BW_OK;
}

/* Splits a comma-separated symbol list into the engine's universe. What a symbol may be, and
 * that none repeats, is the engine validator's to say (check_setting runs it). */
static int parse_symbols(const char *v, struct engine_config *e, char *err, size_t errlen)
{
    struct engine_config tmp = *e;
    tmp.nsymbols = 0;
    const char *p = v;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && p[0] == ' ')
            p++, n--;
        while (n && p[n - 1] == ' ')
            n--;
        if (n == 0 || n >= ENGINE_SYMBOL_LEN) {
            snprintf(err, errlen, "symbols must be 1 to %d characters", ENGINE_SYMBOL_LEN - 1);
            return BW_EINVAL;
        }
        if (tmp.nsymbols == ENGINE_MAX_SYMBOLS) {
            snprintf(err, errlen, "at most %d symbols", ENGINE_MAX_SYMBOLS);
            return BW_EINVAL;
        }
        memcpy(tmp.symbols[tmp.nsymbols], p, n);
        tmp.symbols[tmp.nsymbols][n] = '\0';
        tmp.nsymbols++;
        p += (comma ? (size_t)(comma - p) + 1 : n);
        if (comma && !*p) {
            snprintf(err, errlen, "empty symbol after ','");
            return BW_EINVAL;
        }
    }
    if (tmp.nsymbols == 0) {
        snprintf(err, errlen, "the symbol list is empty");
        return BW_EINVAL;
    }
    *e = tmp;
    return BW_OK;
}

bool cli_token_name_valid(const char *name)
{
    size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@-");
    return n > 0 && n < sizeof(((struct http_token *)0)->name) && name[n] == '\0';
}

/* The fields of a token, in the order the flag writes them. */
enum token_field { TF_NAME, TF_ROLE, TF_SHA256, TF_COUNT };
static const char *const token_fields[] = {"name", "role", "sha256"};

/* Appends a token to cfg's list. On a bad value returns BW_EINVAL with the field at fault in
 * *bad and why in err. */
static int token_add(struct bw_config *cfg, const char *const v[TF_COUNT], enum token_field *bad,
                     char *err, size_t errlen)
{
    struct http_token t;
    memset(&t, 0, sizeof(t));
    *bad = TF_NAME;
    if (!cli_token_name_valid(v[TF_NAME])) {
        snprintf(err, errlen,
                 "expected a name of 1 to %zu letters, digits, '.', '_', '@' or '-', got '%s'",
                 sizeof(t.name) - 1, v[TF_NAME]);
        return BW_EINVAL;
    }
    for (size_t i = 0; i < cfg->ntokens; i++) {
        if (strcmp(cfg->tokens[i].name, v[TF_NAME]) == 0) {
            snprintf(err, errlen, "the token name '%s' is used twice", v[TF_NAME]);
            return BW_EINVAL;
        }
    }
    if (cfg->ntokens == CLI_MAX_TOKENS) {
        snprintf(err, errlen, "at most %d tokens", CLI_MAX_TOKENS);
        return BW_EINVAL;
    }
    snprintf(t.name, sizeof(t.name), "%s", v[TF_NAME]);
    *bad = TF_ROLE;
    if (http_role_parse(v[TF_ROLE], &t.role) != BW_OK) {
        snprintf(err, errlen, "expected viewer, editor or admin, got '%s'", v[TF_ROLE]);
        return BW_EINVAL;
    }
    *bad = TF_SHA256;
    const char *h = v[TF_SHA256];
    size_t n = strlen(h), hexlen = strspn(h, "0123456789abcdefABCDEF");
    if (n != 64 || hexlen != 64) {
        /* Never echo the value: it may be the token itself, pasted in the wrong place. */
        snprintf(err, errlen,
                 "expected the token's SHA-256 as 64 hex digits (breakwatch token new prints it, "
                 "breakwatch token hash computes it), got %zu characters%s",
                 n, hexlen == n ? "" : " that are not all hex digits");
        return BW_EINVAL;
    }
    for (size_t i = 0; i < 32; i++) {
        char byte[3] = {h[2 * i], h[2 * i + 1], '\0'};
        t.sha256[i] = (unsigned char)strtoul(byte, NULL, 16);
    }
    for (size_t i = 0; i < cfg->ntokens; i++) {
        if (memcmp(cfg->tokens[i].sha256, t.sha256, sizeof(t.sha256)) == 0) {
            snprintf(err, errlen, "tokens '%s' and '%s' have the same hash", cfg->tokens[i].name,
                     t.name);
            return BW_EINVAL;
        }
    }
    cfg->tokens[cfg->ntokens++] = t;
    return BW_OK;
}

/* The flag's form of auth.tokens: NAME:ROLE:SHA256 items, comma-separated, replacing the
 * list ("" clears it). */
static int parse_tokens(const char *v, struct bw_config *cfg, char *err, size_t errlen)
{
    struct bw_config tmp = *cfg;
    tmp.ntokens = 0;
    for (const char *p = v; *p;) {
        size_t n = strcspn(p, ",");
        char item[256];
        const char *f[TF_COUNT];
        enum token_field bad;
        snprintf(item, sizeof(item), "%.*s", (int)n, p);
        char *c1 = strchr(item, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (n >= sizeof(item) || !c2 || strchr(c2 + 1, ':')) {
            snprintf(err, errlen, "expected NAME:ROLE:SHA256 items separated by commas");
            return BW_EINVAL;
        }
        *c1 = *c2 = '\0';
        f[TF_NAME] = item;
        f[TF_ROLE] = c1 + 1;
        f[TF_SHA256] = c2 + 1;
        if (token_add(&tmp, f, &bad, err, errlen) != BW_OK)
            return BW_EINVAL;
        p += n + (p[n] == ',');
    }
    memcpy(cfg->tokens, tmp.tokens, sizeof(cfg->tokens));
    cfg->ntokens = tmp.ntokens;
    return BW_OK;
}

/* The alerting section of cfg, made with its defaults when there is none yet; NULL when out of
 * memory. */
static struct notify_config *alerting_get(struct bw_config *cfg)
{
    if (!cfg->alerting && (cfg->alerting = malloc(sizeof(*cfg->alerting))) != NULL)
        notify_config_init(cfg->alerting);
    return cfg->alerting;
}

/* The flag's form of remote_write: one receiver with the defaults, added to the file's. */
static int parse_remote_url(const char *v, struct bw_config *cfg, char *err, size_t errlen)
{
    if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
        snprintf(err, errlen, "expected an http:// or https:// URL");
        return BW_EINVAL;
    }
    if (!cfg->remote_write && (cfg->remote_write = malloc(sizeof(*cfg->remote_write))) != NULL)
        remote_config_init(cfg->remote_write);
    if (!cfg->remote_write || remote_config_add_url(cfg->remote_write, v) != BW_OK) {
        snprintf(err, errlen, "out of memory");
        return BW_ENOMEM;
    }
    return BW_OK;
}

/* The flag's form of alerting.rule_files: paths separated by commas, replacing the list. */
static int parse_rule_files(const char *v, struct bw_config *cfg, char *err, size_t errlen)
{
    struct notify_config *nc = alerting_get(cfg);
    size_t n = *v ? 1 : 0;
    for (const char *p = v; *p; p++)
        n += *p == ',';
    const char **files = nc ? arena_calloc(&nc->arena, n ? n : 1, sizeof(*files)) : NULL;
    if (!files) {
        snprintf(err, errlen, "out of memory");
        return BW_ENOMEM;
    }
    n = 0;
    for (const char *p = v; *p;) {
        size_t k = strcspn(p, ",");
        if (k == 0) {
            snprintf(err, errlen, "expected file names separated by commas, got an empty one");
            return BW_EINVAL;
        }
        if (!(files[n++] = arena_strndup(&nc->arena, p, k))) {
            snprintf(err, errlen, "out of memory");
            return BW_ENOMEM;
        }
        p += k + (p[k] == ',');
    }
    nc->rule_files = files;
    nc->nrule_files = n;
    return BW_OK;
}

/* Applies one textual value. On failure writes what was expected into err. */
static int apply_value(const struct setting *s, struct bw_config *cfg, const char *v, char *err,
                       size_t errlen)
{
    void *field = (char *)cfg + s->offset;
    double d;
    long long n;
    switch (s->type) {
    case T_LISTEN:
        if (http_parse_listen(v, cfg->listen_host, sizeof(cfg->listen_host), &cfg->listen_port) ==
            BW_OK)
            return BW_OK;
        snprintf(err, errlen, "expected HOST:PORT (e.g. 127.0.0.1:8000), got '%s'", v);
        return BW_EINVAL;
    case T_PATH:
        if (*v && strlen(v) < s->size) {
            memcpy(field, v, strlen(v) + 1);
            return BW_OK;
        }
        snprintf(err, errlen, "expected a path of 1 to %zu characters", s->size - 1);
        return BW_EINVAL;
    case T_LOGLEVEL: {
        static const char *const names[] = {"debug", "info", "warn", "error"};
        for (int i = 0; i < 4; i++) {
            if (strcmp(v, names[i]) == 0) {
                *(enum log_level *)field = (enum log_level)i;
                return BW_OK;
            }
        }
        snprintf(err, errlen, "expected debug, info, warn or error, got '%s'", v);
        return BW_EINVAL;
    }
    case T_BOOL:
        if (strcmp(v, "true") == 0 || strcmp(v, "false") == 0) {
            *(int *)field = v[0] == 't';
            return BW_OK;
        }
        snprintf(err, errlen, "expected true or false, got '%s'", v);
        return BW_EINVAL;
    case T_U64:
        if (parse_i64(v, 0, INT64_MAX, &n) == BW_OK) {
            *(uint64_t *)field = (uint64_t)n;
            return BW_OK;
        }
        snprintf(err, errlen, "expected a non-negative integer, got '%s'", v);
        return BW_EINVAL;
    case T_INT:
        if (parse_i64(v, INT32_MIN, INT32_MAX, &n) == BW_OK) {
            *(int *)field = (int)n;
            return BW_OK;
        }
        snprintf(err, errlen, "expected an integer, got '%s'", v);
        return BW_EINVAL;
    case T_DOUBLE:
        if (parse_finite(v, &d) == BW_OK) {
            *(double *)field = d;
            return BW_OK;
        }
        snprintf(err, errlen, "expected a number, got '%s'", v);
        return BW_EINVAL;
    case T_SECONDS:
        if (parse_finite(v, &d) == BW_OK && d >= 0 && d < 1e12) {
            *(int64_t *)field = (int64_t)llround(d * 1000);
            return BW_OK;
        }
        snprintf(err, errlen, "expected a number of seconds >= 0, got '%s'", v);
        return BW_EINVAL;
    case T_TIME:
        if (parse_utc_ms(v, (int64_t *)field) == BW_OK)
            return BW_OK;
        snprintf(err, errlen,
                 "expected YYYY-MM-DD[THH:MM[:SS]Z] or milliseconds since the epoch, got '%s'", v);
        return BW_EINVAL;
    case T_SYMBOLS:
        return parse_symbols(v, &cfg->engine, err, errlen);
    case T_DURATION:
        if (parse_duration_ms(v, (int64_t *)field) == BW_OK)
            return BW_OK;
        snprintf(err, errlen, "expected a duration above 0 (e.g. 15d, 1m30s, 500ms, 2.5), got '%s'",
                 v);
        return BW_EINVAL;
    case T_BYTES:
        if (parse_bytes(v, (int64_t *)field) == BW_OK)
            return BW_OK;
        snprintf(err, errlen,
                 "expected a size in bytes, optionally with B, KB, MB, GB, TB or "
                 "PB (e.g. 2GB), got '%s'",
                 v);
        return BW_EINVAL;
    case T_COUNT:
        if (parse_i64(v, 1, INT64_MAX, &n) == BW_OK) {
            *(size_t *)field = (size_t)n;
            return BW_OK;
        }
        snprintf(err, errlen, "expected a positive integer, got '%s'", v);
        return BW_EINVAL;
    case T_TOKENS:
        return parse_tokens(v, cfg, err, errlen);
    case T_RULE_FILES:
        return parse_rule_files(v, cfg, err, errlen);
    case T_REMOTE_URL:
        return parse_remote_url(v, cfg, err, errlen);
    }
    return BW_EINVAL;
}

/* Range and consistency complaints met while settings are applied one by one. The engine's
 * validator runs after each engine setting (and the HTTP server's after each http one); a complaint
 * is remembered with the place of the setting that caused it, but only counts if it still holds
 * once every setting is applied (a later setting may mend it: --tick 7 --candle 70). */
#define MAX_COMPLAINTS 8

struct checks {
    size_t n;
    struct {
        char msg[sizeof(((struct diag *)0)->msg)]; /* the validator's words */
        struct diag at;                            /* the same, placed at the setting */
    } seen[MAX_COMPLAINTS];
};

/* The validators of the sections that have one: the engine's, then the HTTP server's
 * limits. BW_OK, or the first complaint in d. */
static int config_validate(const struct bw_config *cfg, struct diag *d)
{
    int rc = engine_config_validate(&cfg->engine, d);
    return rc != BW_OK ? rc : http_limits_validate(&cfg->http, d);
}

/* After setting s was applied: asks the validators and remembers a new complaint. Returns
 * the remembered diag for the caller to place, or NULL when there is nothing to say. why gets
 * the complaint without a leading "KEY: " (the HTTP validator names its setting; the caller
 * names it too). */
static struct diag *check_setting(struct checks *c, const struct setting *s,
                                  const struct bw_config *cfg, char *why, size_t whylen)
{
    struct diag d;
    if ((strncmp(s->key, "engine.", 7) != 0 && strncmp(s->key, "http.", 5) != 0) ||
        config_validate(cfg, &d) == BW_OK)
        return NULL;
    for (size_t k = 0; k < c->n; k++)
        if (strcmp(c->seen[k].msg, d.msg) == 0)
            return NULL; /* an earlier setting caused it */
    size_t i = c->n < MAX_COMPLAINTS ? c->n++ : MAX_COMPLAINTS - 1;
    size_t kl = strlen(s->key);
    const char *words = strncmp(d.msg, s->key, kl) == 0 && strncmp(d.msg + kl, ": ", 2) == 0
                            ? d.msg + kl + 2
                            : d.msg;
    snprintf(c->seen[i].msg, sizeof(c->seen[i].msg), "%s", d.msg);
    snprintf(why, whylen, "%s", words);
    return &c->seen[i].at;
}

/* Once every setting is applied: BW_OK if the configuration holds; otherwise the last
 * remembered complaint with the validator's final words, or those words alone. */
static int checks_finish(const struct checks *c, const struct bw_config *cfg, struct diag *d)
{
    struct diag final;
    if (config_validate(cfg, &final) == BW_OK)
        return BW_OK;
    for (size_t i = c->n; i-- > 0;) {
        if (strcmp(c->seen[i].msg, final.msg) == 0) {
            *d = c->seen[i].at;
            return BW_EINVAL;
        }
    }
    return diag_set(d, BW_EINVAL, "configuration: %s", final.msg);
}

/* YAML ------------------------------------------------------------------------------------ */

struct yaml_ctx {
    const char *path;
    yaml_document_t *doc;
    struct bw_config *cfg;
    struct diag *d;
    struct checks checks;
    int alerting; /* the file has an alerting: section */
    int remote;   /* the file has a remote_write: section */
};

static int yaml_err(struct yaml_ctx *y, const yaml_node_t *n, const char *fmt, ...) BW_PRINTF(3, 4);

static int yaml_err(struct yaml_ctx *y, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[sizeof(y->d->msg)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return diag_at(y->d, BW_EINVAL, y->path, (int)n->start_mark.line + 1,
                   (int)n->start_mark.column + 1, "%s", msg);
}

/* Joins a sequence of scalars with commas (how T_SYMBOLS reads lists). */
static int yaml_join(struct yaml_ctx *y, const char *key, yaml_node_t *seq, char *out,
                     size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(y->doc, *it);
        if (!item || item->type != YAML_SCALAR_NODE)
            return yaml_err(y, item ? item : seq, "%s: list items must be plain values", key);
        int w = snprintf(out + len, outlen - len, "%s%s", len ? "," : "",
                         (const char *)item->data.scalar.value);
        if (w < 0 || (size_t)w >= outlen - len)
            return yaml_err(y, seq, "%s: the list is too long", key);
        len += (size_t)w;
    }
    return BW_OK;
}

/* auth.tokens: a list of {name, role, sha256}; replaces the list so far. Each complaint is
 * placed at the value (or the entry) at fault and names it: auth.tokens[1].role. */
static int yaml_tokens(struct yaml_ctx *y, const char *key, yaml_node_t *seq)
{
    if (seq->type != YAML_SEQUENCE_NODE)
        return yaml_err(y, seq, "%s: expected a list of {name: ..., role: ..., sha256: ...}", key);
    y->cfg->ntokens = 0;
    size_t i = 0;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *item = yaml_document_get_node(y->doc, *it);
        if (!item || item->type != YAML_MAPPING_NODE)
            return yaml_err(y, item ? item : seq,
                            "%s[%zu]: expected a mapping {name: ..., role: ..., sha256: ...}", key,
                            i);
        const char *v[TF_COUNT] = {NULL};
        yaml_node_t *at[TF_COUNT] = {NULL};
        for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top;
             p++) {
            yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
            yaml_node_t *val = yaml_document_get_node(y->doc, p->value);
            if (!k || !val || k->type != YAML_SCALAR_NODE)
                return yaml_err(y, k ? k : item, "%s[%zu]: keys must be plain names", key, i);
            const char *name = (const char *)k->data.scalar.value;
            size_t f = 0;
            while (f < TF_COUNT && strcmp(name, token_fields[f]) != 0)
                f++;
            if (f == TF_COUNT)
                return yaml_err(y, k, "%s[%zu]: unknown field '%s' (expected name, role, sha256)",
                                key, i, name);
            if (v[f])
                return yaml_err(y, k, "%s[%zu].%s: set twice", key, i, name);
            if (val->type != YAML_SCALAR_NODE)
                return yaml_err(y, val, "%s[%zu].%s: expected a single value", key, i, name);
            v[f] = (const char *)val->data.scalar.value;
            at[f] = val;
        }
        for (size_t f = 0; f < TF_COUNT; f++)
            if (!v[f])
                return yaml_err(y, item, "%s[%zu]: missing '%s'", key, i, token_fields[f]);
        char err[sizeof(((struct diag *)0)->msg)];
        enum token_field bad;
        if (token_add(y->cfg, v, &bad, err, sizeof(err)) != BW_OK)
            return yaml_err(y, at[bad], "%s[%zu].%s: %s", key, i, token_fields[bad], err);
    }
    return BW_OK;
}

static int yaml_mapping(struct yaml_ctx *y, yaml_node_t *map, const char *prefix)
{
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(y->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(y->doc, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE)
            return yaml_err(y, k ? k : map, "keys must be plain names");
        char key[128];
        snprintf(key, sizeof(key), "%s%s", prefix, (const char *)k->data.scalar.value);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = yaml_document_get_node(y->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE &&
                strcmp((const char *)k2->data.scalar.value, (const char *)k->data.scalar.value) ==
                    0)
                return yaml_err(y, k, "%s: set twice", key);
        }
        if (!*prefix && strcmp(key, "alerting") == 0) {
            y->alerting = 1; /* read whole by notify_config_parse once the rest holds */
            continue;
        }
        if (!*prefix && strcmp(key, "remote_write") == 0) {
            y->remote = 1; /* read whole by remote_config_parse, likewise */
            continue;
        }
        if (!*prefix && is_section(key)) {
            if (v->type != YAML_MAPPING_NODE)
                return yaml_err(y, v, "%s: expected a mapping of %s settings", key, key);
            char section[sizeof(key) + 1];
            snprintf(section, sizeof(section), "%s.", key);
            int rc = yaml_mapping(y, v, section);
            if (rc)
                return rc;
            continue;
        }
        const struct setting *s = setting_find(key);
        if (!s)
            return yaml_err(y, k, "unknown setting '%s'", key);
        if (s->type == T_TOKENS) {
            int rc = yaml_tokens(y, key, v);
            if (rc)
                return rc;
            continue;
        }
        char value[2048];
        if (v->type == YAML_SEQUENCE_NODE && s->type == T_SYMBOLS) {
            int rc = yaml_join(y, key, v, value, sizeof(value));
            if (rc)
                return rc;
        } else if (v->type == YAML_SCALAR_NODE) {
            snprintf(value, sizeof(value), "%s", (const char *)v->data.scalar.value);
        } else {
            return yaml_err(y, v, "%s: expected a single value", key);
        }
        char err[sizeof(((struct diag *)0)->msg)];
        if (apply_value(s, y->cfg, value, err, sizeof(err)))
            return yaml_err(y, v, "%s: %s", key, err);
        struct diag *at = check_setting(&y->checks, s, y->cfg, err, sizeof(err));
        if (at)
            diag_at(at, BW_EINVAL, y->path, (int)v->start_mark.line + 1,
                    (int)v->start_mark.column + 1, "%s: %s", key, err);
    }
    return BW_OK;
}

static void config_alerting_free(struct notify_config *nc)
{
    if (nc) {
        notify_config_fini(nc);
        free(nc);
    }
}

static void config_remote_free(struct remote_config *rc)
{
    if (rc) {
        remote_config_fini(rc);
        free(rc);
    }
}

void config_fini(struct bw_config *cfg)
{
    config_alerting_free(cfg->alerting);
    cfg->alerting = NULL;
    config_remote_free(cfg->remote_write);
    cfg->remote_write = NULL;
}

/* Rule files named in a configuration file are found beside it, as Prometheus finds them:
 * a relative path is made relative to the file's directory. */
static int rule_files_beside(const char *path, struct notify_config *nc, struct diag *d)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return BW_OK;
    int dirlen = (int)(slash - path);
    for (size_t i = 0; i < nc->nrule_files; i++) {
        const char *f = nc->rule_files[i];
        if (f[0] == '/')
            continue;
        size_t n = (size_t)dirlen + 1 + strlen(f) + 1;
        char *joined = arena_alloc(&nc->arena, n);
        if (!joined)
            return diag_set(d, BW_ENOMEM, "out of memory");
        snprintf(joined, n, "%.*s/%s", dirlen, path, f);
        nc->rule_files[i] = joined;
    }
    return BW_OK;
}

/* Reads the file's alerting: section (alert/notify.h says what it holds) into a new *out. */
static int alerting_load(const char *path, struct notify_config **out, struct diag *d)
{
    struct conf_doc *doc = NULL;
    struct notify_config *nc = malloc(sizeof(*nc));
    int rc = nc ? conf_doc_load(path, &doc, d) : diag_set(d, BW_ENOMEM, "out of memory");
    if (rc != BW_OK)
        goto fail;
    notify_config_init(nc);
    const struct conf_node *root = conf_doc_root(doc), *section = NULL;
    for (size_t i = 0; i < conf_len(root); i++) {
        const char *k = conf_scalar(conf_key(root, i), NULL);
        if (k && strcmp(k, "alerting") == 0)
            section = conf_value(root, i);
    }
    rc = notify_config_parse(doc, section, nc, d);
    conf_doc_free(doc);
    if (rc == BW_OK)
        rc = rule_files_beside(path, nc, d);
    if (rc != BW_OK) {
        notify_config_fini(nc);
        goto fail;
    }
    *out = nc;
    return BW_OK;
fail:
    free(nc);
    return rc;
}

/* Reads the file's remote_write: list (remote/remote.h) into a new *out. */
static int remote_load(const char *path, struct remote_config **out, struct diag *d)
{
    struct conf_doc *doc = NULL;
    struct remote_config *c = malloc(sizeof(*c));
    int rc = c ? conf_doc_load(path, &doc, d) : diag_set(d, BW_ENOMEM, "out of memory");
    if (rc != BW_OK) {
        free(c);
        return rc;
    }
    remote_config_init(c);
    const struct conf_node *root = conf_doc_root(doc);
    for (size_t i = 0; rc == BW_OK && i < conf_len(root); i++) {
        const char *k = conf_scalar(conf_key(root, i), NULL);
        if (k && strcmp(k, "remote_write") == 0)
            rc = remote_config_parse(doc, conf_value(root, i), c, d);
    }
    conf_doc_free(doc);
    if (rc != BW_OK) {
        config_remote_free(c);
        return rc;
    }
    *out = c;
    return BW_OK;
}

int config_load_file(const char *path, struct bw_config *cfg, struct diag *d)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return diag_at(d, errno == ENOENT ? BW_ENOENT : BW_EIO, path, 0, 0,
                       "cannot open configuration file: %s", strerror(errno));
    yaml_parser_t parser;
    yaml_document_t doc;
    int rc = BW_OK;
    int have_doc = 0;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        rc = diag_at(d, BW_EINVAL, path, (int)parser.problem_mark.line + 1,
                     (int)parser.problem_mark.column + 1, "YAML syntax error: %s",
                     parser.problem ? parser.problem : "unknown");
        goto done;
    }
    have_doc = 1;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root)
        goto done; /* an empty file changes nothing */
    struct bw_config work = *cfg;
    struct yaml_ctx y = {path, &doc, &work, d, {0}, 0, 0};
    if (root->type != YAML_MAPPING_NODE) {
        rc = yaml_err(&y, root, "expected a mapping of settings at the top level");
        goto done;
    }
    rc = yaml_mapping(&y, root, "");
    if (rc == BW_OK)
        rc = checks_finish(&y.checks, &work, d);
    /* A section replaces what a dotted key (alerting.rule_files, remote_write.url) made. */
    struct notify_config *keyed_alerting = work.alerting;
    struct remote_config *keyed_remote = work.remote_write;
    if (rc == BW_OK && y.alerting && (rc = alerting_load(path, &work.alerting, d)) == BW_OK &&
        keyed_alerting != cfg->alerting)
        config_alerting_free(keyed_alerting);
    if (rc == BW_OK && y.remote && (rc = remote_load(path, &work.remote_write, d)) == BW_OK &&
        keyed_remote != cfg->remote_write)
        config_remote_free(keyed_remote);
    /* Whichever of the two sections is not going to cfg is freed: work's on a failure (a
     * dotted key may have made one before a later setting failed), cfg's old ones else. */
    struct bw_config *drop = rc == BW_OK ? cfg : &work, *keep = rc == BW_OK ? &work : cfg;
    if (drop->alerting != keep->alerting)
        config_alerting_free(drop->alerting);
    if (drop->remote_write != keep->remote_write)
        config_remote_free(drop->remote_write);
    if (rc == BW_OK)
        *cfg = work;
done:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    return rc;
}

/* Command line ------------------------------------------------------------------------------ */

static const struct setting *flag_find(const char *name, size_t len)
{
    char flag[64];
    for (size_t i = 0; i < BW_ARRAY_LEN(settings); i++) {
        flag_name(&settings[i], flag, sizeof(flag));
        if (strlen(flag) == len && memcmp(flag, name, len) == 0)
            return &settings[i];
    }
    return NULL;
}

/* Splits argv[*i] into flag name and value ("--x=v" or "--x v"), advancing *i past a separate
 * value. */
static int flag_split(int argc, char **argv, int *i, size_t *namelen, const char **value,
                      struct diag *d)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    *namelen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (eq) {
        *value = eq + 1;
        return BW_OK;
    }
    if (*i + 1 >= argc)
        return diag_set(d, BW_EINVAL, "%s needs a value", arg);
    *value = argv[++*i];
    return BW_OK;
}

static const struct {
    const char *name;
    enum cli_command cmd;
} commands[] = {{"run", CLI_RUN}, {"query", CLI_QUERY}, {"import", CLI_IMPORT}};

/* The options of one subcommand that are not settings, and where they land in cli_args: a
 * const char * for those with a value, an int set to 1 for the others. */
static const struct command_flag {
    enum cli_command cmd;
    const char *flag;
    size_t offset;
    int has_value;
} command_flags[] = {
    {CLI_RUN, "--no-engine", offsetof(struct cli_args, no_engine), 0},
    {CLI_QUERY, "--server", offsetof(struct cli_args, server), 1},
    {CLI_QUERY, "--time", offsetof(struct cli_args, time), 1},
    {CLI_QUERY, "--start", offsetof(struct cli_args, start), 1},
    {CLI_QUERY, "--end", offsetof(struct cli_args, end), 1},
    {CLI_QUERY, "--step", offsetof(struct cli_args, step), 1},
};

static const char *command_name(enum cli_command cmd)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(commands); i++)
        if (commands[i].cmd == cmd)
            return commands[i].name;
    return "run";
}

/* Applies argv[*i] if it is a subcommand's own flag: BW_OK and *done; BW_EINVAL when it
 * belongs to another subcommand or lacks its value. */
static int command_flag(int argc, char **argv, int *i, struct cli_args *args, int *done,
                        struct diag *d)
{
    const char *arg = argv[*i];
    size_t nl = strcspn(arg, "=");
    *done = 0;
    for (size_t k = 0; k < BW_ARRAY_LEN(command_flags); k++) {
        const struct command_flag *f = &command_flags[k];
        if (strlen(f->flag) != nl || strncmp(f->flag, arg, nl) != 0)
            continue;
        if (f->cmd != args->cmd)
            return diag_set(d, BW_EINVAL, "%.*s is an option of breakwatch %s", (int)nl, arg,
                            command_name(f->cmd));
        *done = 1;
        if (!f->has_value) {
            if (arg[nl])
                return diag_set(d, BW_EINVAL, "%.*s takes no value", (int)nl, arg);
            *(int *)(void *)((char *)args + f->offset) = 1;
            return BW_OK;
        }
        const char *v;
        int rc = flag_split(argc, argv, i, &nl, &v, d);
        if (rc == BW_OK)
            *(const char **)(void *)((char *)args + f->offset) = v;
        return rc;
    }
    return BW_OK;
}

/* A query's expression or an import's file; anything else is unexpected. */
static int positional(struct cli_args *args, const char *arg, struct diag *d)
{
    const char **slot = args->cmd == CLI_QUERY    ? &args->expr
                        : args->cmd == CLI_IMPORT ? &args->file
                                                  : NULL;
    if (!slot)
        return diag_set(d, BW_EINVAL, "unexpected argument '%s' (see breakwatch --help)", arg);
    if (*slot)
        return diag_set(d, BW_EINVAL, "breakwatch %s takes one %s; unexpected '%s' (quote the %s)",
                        command_name(args->cmd), args->cmd == CLI_QUERY ? "expression" : "file",
                        arg, args->cmd == CLI_QUERY ? "expression" : "file name");
    *slot = arg;
    return BW_OK;
}

/* What a subcommand needs once every argument is read. */
static int command_finish(const struct bw_config *cfg, const struct cli_args *args, struct diag *d)
{
    if (args->cmd == CLI_QUERY && !args->expr)
        return diag_set(d, BW_EINVAL,
                        "breakwatch query needs an expression, e.g. "
                        "breakwatch query 'rate(engine_cycles_total[1m])'");
    if (args->cmd == CLI_QUERY && args->time && (args->start || args->end || args->step))
        return diag_set(d, BW_EINVAL,
                        "--time asks for an instant query, --start, --end and "
                        "--step for a range query: give one or the other");
    if (args->cmd == CLI_IMPORT && !args->file)
        return diag_set(d, BW_EINVAL, "breakwatch import needs the OpenMetrics file to import");
    if (args->cmd != CLI_RUN)
        return BW_OK;
    if (cfg->engine.replay_dir[0]) {
        struct stat st;
        if (stat(cfg->engine.replay_dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return diag_set(d, BW_ENOENT, "replay: '%s' is not a directory",
                            cfg->engine.replay_dir);
    }
    if (!cfg->allow_unauthenticated_remote && cfg->ntokens == 0 &&
        !http_host_is_loopback(cfg->listen_host))
        return diag_set(d, BW_EINVAL,
                        "listen: refusing to serve %s without authentication: no auth.tokens are "
                        "configured (breakwatch token new makes one); configure tokens, use a "
                        "loopback address, or set allow_unauthenticated_remote "
                        "(--allow-unauthenticated-remote=true) if an open server is really wanted",
                        cfg->listen_host);
    return BW_OK;
}

int cli_parse(int argc, char **argv, struct bw_config *cfg, struct cli_args *args, struct diag *d)
{
    int first = 1;
    memset(args, 0, sizeof(*args));
    args->cmd = CLI_RUN;
    if (argc > 1 && argv[1][0] != '-') {
        size_t k = 0;
        while (k < BW_ARRAY_LEN(commands) && strcmp(argv[1], commands[k].name) != 0)
            k++;
        if (k == BW_ARRAY_LEN(commands))
            return diag_set(d, BW_EINVAL, "unknown command '%s' (see breakwatch --help)", argv[1]);
        args->cmd = commands[k].cmd;
        first = 2;
    }
    /* Pass 1: help, version and the configuration file, which the other flags override. */
    for (int i = first; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            args->cmd = CLI_HELP;
            return BW_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            args->cmd = CLI_VERSION;
            return BW_OK;
        }
    }
    for (int i = first; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strncmp(argv[i], "--config", 8) != 0 || (argv[i][8] && argv[i][8] != '='))
            continue;
        size_t nl;
        const char *v;
        int rc = flag_split(argc, argv, &i, &nl, &v, d);
        if (rc)
            return rc;
        if ((rc = config_load_file(v, cfg, d)) != BW_OK)
            return rc;
    }
    /* Pass 2: every other flag, in order; after "--" only arguments. */
    struct checks checks = {0};
    int only_args = 0;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        int rc, done;
        if (!only_args && strcmp(arg, "--") == 0) {
            only_args = 1;
            continue;
        }
        if (only_args || strncmp(arg, "--", 2) != 0) {
            if ((rc = positional(args, arg, d)) != BW_OK)
                return rc;
            continue;
        }
        if ((rc = command_flag(argc, argv, &i, args, &done, d)) != BW_OK)
            return rc;
        if (done)
            continue;
        size_t nl;
        const char *v;
        if ((rc = flag_split(argc, argv, &i, &nl, &v, d)) != BW_OK)
            return rc;
        if (nl == 8 && strncmp(arg, "--config", 8) == 0)
            continue;
        const struct setting *s = flag_find(arg, nl);
        if (!s)
            return diag_set(d, BW_EINVAL, "unknown option '%.*s' (see breakwatch --help)", (int)nl,
                            arg);
        char err[sizeof(((struct diag *)0)->msg)];
        if (apply_value(s, cfg, v, err, sizeof(err)))
            return diag_set(d, BW_EINVAL, "%.*s: %s", (int)nl, arg, err);
        struct diag *at = check_setting(&checks, s, cfg, err, sizeof(err));
        if (at)
            diag_set(at, BW_EINVAL, "%.*s: %s", (int)nl, arg, err);
    }
    int rc = checks_finish(&checks, cfg, d);
    return rc ? rc : command_finish(cfg, args, d);
}

/* A duration in the largest unit that writes it whole: "15d", "90s", "1500ms". */
static void show_duration(int64_t ms, char *out, size_t outlen)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"w", 604800000}, {"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    for (size_t i = 0; i < BW_ARRAY_LEN(units); i++)
        if (ms % units[i].ms == 0) {
            snprintf(out, outlen, "%lld%s", (long long)(ms / units[i].ms), units[i].unit);
            return;
        }
    snprintf(out, outlen, "%lldms", (long long)ms);
}

/* Renders the current value of a setting for the usage text. */
static void show_value(const struct setting *s, const struct bw_config *cfg, char *out,
                       size_t outlen)
{
    const void *field = (const char *)cfg + s->offset;
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    switch (s->type) {
    case T_LISTEN:
        snprintf(out, outlen, "%s:%d", cfg->listen_host, cfg->listen_port);
        break;
    case T_PATH:
        snprintf(out, outlen, "%s", *(const char *)field ? (const char *)field : "none");
        break;
    case T_LOGLEVEL:
        snprintf(out, outlen, "%s", levels[*(const enum log_level *)field]);
        break;
    case T_BOOL:
        snprintf(out, outlen, "%s", *(const int *)field ? "true" : "false");
        break;
    case T_U64:
        snprintf(out, outlen, "%llu", (unsigned long long)*(const uint64_t *)field);
        break;
    case T_INT:
        snprintf(out, outlen, "%d", *(const int *)field);
        break;
    case T_DOUBLE:
        fmt_double(out, *(const double *)field, 0);
        break;
    case T_SECONDS: {
        int64_t ms = *(const int64_t *)field;
        if (ms)
            fmt_double(out, (double)ms / 1000.0, 0);
        else
            snprintf(out, outlen, "until stopped");
        break;
    }
    case T_TIME: {
        int64_t t = *(const int64_t *)field;
        char when[32];
        fmt_rfc3339(when, t, 0);
        snprintf(out, outlen, "%s", t / 1000 == 0 ? "now" : when);
        break;
    }
    case T_DURATION:
        show_duration(*(const int64_t *)field, out, outlen);
        break;
    case T_BYTES:
        snprintf(out, outlen, "%lld", (long long)*(const int64_t *)field);
        break;
    case T_COUNT:
        snprintf(out, outlen, "%zu", *(const size_t *)field);
        break;
    case T_TOKENS:
        if (cfg->ntokens)
            snprintf(out, outlen, "%zu tokens", cfg->ntokens);
        else
            snprintf(out, outlen, "none: auth is off");
        break;
    case T_REMOTE_URL: /* the receivers' count: a URL may hold a password */
        if (cfg->remote_write && cfg->remote_write->n)
            snprintf(out, outlen, "%zu receivers", cfg->remote_write->n);
        else
            snprintf(out, outlen, "none");
        break;
    case T_RULE_FILES:
        if (cfg->alerting && cfg->alerting->nrule_files)
            snprintf(out, outlen, "%zu files", cfg->alerting->nrule_files);
        else
            snprintf(out, outlen, "none");
        break;
    case T_SYMBOLS: {
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; i < cfg->engine.nsymbols && len + 20 < outlen; i++)
            len += (size_t)snprintf(out + len, outlen - len, "%s%s", i ? "," : "",
                                    cfg->engine.symbols[i]);
        break;
    }
    }
}

void cli_usage(FILE *out)
{
    static const char *const metavar[] = {[T_LISTEN] = "HOST:PORT",
                                          [T_PATH] = "PATH",
                                          [T_LOGLEVEL] = "LEVEL",
                                          [T_BOOL] = "true|false",
                                          [T_U64] = "N",
                                          [T_INT] = "N",
                                          [T_DOUBLE] = "X",
                                          [T_SYMBOLS] = "A,B",
                                          [T_SECONDS] = "SECONDS",
                                          [T_TIME] = "DATE",
                                          [T_DURATION] = "DURATION",
                                          [T_BYTES] = "SIZE",
                                          [T_COUNT] = "N",
                                          [T_TOKENS] = "NAME:ROLE:SHA256,...",
                                          [T_RULE_FILES] = "FILE,...",
                                          [T_REMOTE_URL] = "URL"};
    _Static_assert(BW_ARRAY_LEN(metavar) == T_REMOTE_URL + 1, "a setting type without metavar");
    struct bw_config def;
    config_defaults(&def);
    fprintf(out,
            "usage: breakwatch [run] [--no-engine] [options]\n"
            "       breakwatch query [--server URL] [--time T | --start T --end T --step D]\n"
            "                        [options] EXPR\n"
            "       breakwatch import [options] FILE\n"
            "       breakwatch token new --name NAME --role viewer|editor|admin\n"
            "       breakwatch token hash < TOKEN\n"
            "       breakwatch test promql [--skip RULES] FILE...\n"
            "       breakwatch check rules FILE...\n"
            "       breakwatch test rules FILE...\n"
            "\n"
            "run (the default) runs the Breakout engine on a simulated (or replayed) market and\n"
            "watches it: metrics at /api/metrics, health at /api/health, the history it records\n"
            "through the Prometheus API at /api/v1/, the alert rules of --rule-files (or the\n"
            "configuration's alerting: section, which also says where notifications go). With\n"
            "--no-engine it serves the data directory's history without running the engine.\n"
            "SIGHUP reloads the rule files.\n"
            "\n"
            "query evaluates a PromQL expression on the data directory's history (which no\n"
            "running breakwatch may hold: ask it with --server URL instead) and prints the\n"
            "answer. Times T: now, now-DURATION, seconds since the epoch or RFC 3339; the step\n"
            "D: a duration (15s, 1m) or seconds. Without --start, --end and --step the query\n"
            "is an instant one at --time (default now); a range query defaults to the last\n"
            "hour, in about 250 steps.\n"
            "\n"
            "import reads an OpenMetrics text file with timestamps (as for `promtool tsdb\n"
            "create-blocks-from openmetrics`) into the data directory. The whole file is\n"
            "checked first: a bad file imports nothing.\n"
            "\n"
            "token new makes a bearer token for the API and prints it with the line to add\n"
            "under auth.tokens in the configuration, which holds only its SHA-256; token hash\n"
            "prints the SHA-256 of a token read from stdin. With tokens configured every\n"
            "request but /api/health, the web page's files (and /api/metrics with\n"
            "auth.metrics_open) needs 'Authorization: Bearer TOKEN'; roles: viewer reads,\n"
            "editor also adds notes, acknowledges and silences alerts and reloads the rules,\n"
            "admin also controls the engine.\n"
            "Without tokens breakwatch serves only a loopback address unless\n"
            "allow_unauthenticated_remote is set.\n"
            "\n"
            "test promql runs PromQL test files in Prometheus's promqltest format against the\n"
            "query engine, skipping the cases the RULES file names (with reasons).\n"
            "\n"
            "check rules validates Prometheus rule files as the server loads them (errors at\n"
            "file:line:col); test rules runs rule unit tests written for `promtool test rules`.\n"
            "\n"
            "options:\n"
            "  --config FILE                    read settings from a YAML file; flags "
            "override it\n"
            "  --help                           show this text\n"
            "  --version                        print the version\n");
    for (size_t i = 0; i < BW_ARRAY_LEN(settings); i++) {
        char flag[64], opt[96], val[512];
        flag_name(&settings[i], flag, sizeof(flag));
        snprintf(opt, sizeof(opt), "%s %s", flag, metavar[settings[i].type]);
        show_value(&settings[i], &def, val, sizeof(val));
        fprintf(out, "  %-32s %s (default: %s)\n", opt, settings[i].help, val);
    }
    fprintf(out, "\nEvery option is also a key of the configuration file: engine settings\n"
                 "under 'engine:' (e.g. engine: {speed: 60}), storage.* under 'storage:',\n"
                 "query.* under 'query:', auth.* under 'auth:', the others at the top level;\n"
                 "'alerting:' takes rule files, routes and receivers (docs/alerting.md),\n"
                 "'remote_write:' a list of receivers as Prometheus's (docs/operations.md).\n"
                 "See breakwatch.example.yml.\n");
}
