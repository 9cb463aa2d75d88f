/* api: the HTTP handlers. They read the registry, the engine, the journal and the tsdb and
 * present them; the writes are an editor's notes, acknowledgments, silences and reloads, and
 * an admin's halt and resume of the engine (admin.c). */
#ifndef BW_API_H
#define BW_API_H

#include <stdbool.h>
#include <stdint.h>

#include "breakwatch/metrics.h"
#include "http/http.h"
#include "journal/journal.h"
#include "promql/promql.h"

struct engine;
struct journal;
struct journal_event;
struct tsdb;
struct api_hub;
struct api_books;
struct notifier;
struct ruler;

#define API_MAX_ROUTES 64

struct api_ctx {
    bw_registry *registry;
    struct engine *engine;   /* may be NULL */
    struct journal *journal; /* may be NULL */
    /* The history /api/v1 queries read; NULL until it is open (those endpoints answer 503). */
    struct tsdb *tsdb;
    /* Query limits and defaults; a request's timeout and lookback_delta override them, its
     * timeout only downwards. Zero fields take promql's defaults. */
    struct promql_options promql;
    int64_t started_ns; /* clock_mono_ns() at start, for uptime */
    /* GET /api/metrics needs no token even when auth is on (auth.metrics_open). */
    bool metrics_open;
    /* The collector's scrape interval: the step of /api/monitoring/realtime's sparklines;
     * 0 takes 1 s. */
    int64_t scrape_interval_ms;
    /* The live event hub /api/monitoring/events/stream reads; made by api_init, which sizes
     * its ring of recent events by stream_ring (0 takes 4096). */
    struct api_hub *hub;
    size_t stream_ring;
    /* Sessions' trades kept between requests of /api/monitoring/sessions/{id}, which then reads
     * only the checkpoints that came since; made by api_init (without it, each request reads
     * all of them). */
    struct api_books *books;
    /* Alerting: the rule evaluator and the notifier (NULL: the alerting endpoints answer
     * 503), and the rule files POST /api/rules/reload reads again. */
    struct ruler *ruler;
    struct notifier *notifier;
    const char *const *rule_files;
    size_t nrule_files;
    /* The directory of Grafana dashboard JSON files GET /api/dashboards serves; "" or NULL:
     * none (the list is empty, with a warning saying how to set one). */
    const char *dashboards_dir;
    /* The configured tokens GET /api/admin/tokens lists (names and roles, never the hashes):
     * http_config's, borrowed. With auth on and none here, that endpoint answers 503. */
    const struct http_token *tokens;
    size_t ntokens;
    struct http_route routes[API_MAX_ROUTES];
};

/* Fills ctx->routes with every endpoint; returns how many. */
size_t api_routes_init(struct api_ctx *ctx);
/* Starts what the handlers need beyond ctx's fields: the live event hub that
 * /api/monitoring/events/stream reads, subscribed to ctx->journal, and the sessions' trade
 * books (nothing without a journal). Call once ctx->journal is set, before the HTTP server
 * starts. BW_OK, or BW_ENOMEM (the stream endpoint then answers 503; the rest works). */
int api_init(struct api_ctx *ctx);
/* Stops and frees them. Call after the HTTP server is freed (no handler or stream runs any
 * more) and before the journal closes. */
void api_fini(struct api_ctx *ctx);
/* monitoring.c: the trade books api_init makes (BW_OK or BW_ENOMEM) and api_fini frees. */
int api_books_new(struct api_books **out);
void api_books_free(struct api_books *books);

/* GET /api/metrics: the exposition, in the format the Accept header asks for, gzip when
 * Accept-Encoding allows it. */
void api_metrics(void *ud, const struct http_request *req, struct http_response *res);
/* GET /api/health: liveness and readiness as JSON; 503 when not ready. */
void api_health(void *ud, const struct http_request *req, struct http_response *res);
/* GET /api/auth/whoami: {"name":"alice","role":"viewer","auth":true}, or with auth off
 * {"name":null,"role":"admin","auth":false} (auth.c). */
void api_auth_whoami(void *ud, const struct http_request *req, struct http_response *res);

/* ---- the Prometheus HTTP API under /api/v1 (prom.c) ----
 * GET and form POST (label values: GET only), Prometheus's envelope, errorType and status
 * codes: bad_data 400, execution 422, canceled 499, internal 500, timeout and unavailable 503. */
void api_prom_query(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_query_range(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_series(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_labels(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_label_values(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_metadata(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_query_exemplars(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_buildinfo(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_config(void *ud, const struct http_request *req, struct http_response *res);

/* Parameter readers, as Prometheus reads them (web/api/v1/api.go). Each returns BW_OK, or
 * BW_EINVAL with Prometheus's message for the value in msg. */
/* A time: decimal Unix seconds (the fraction rounded to ms) or RFC 3339, into ms. */
int prom_parse_time(const char *s, int64_t *ms, char *msg, size_t msglen);
/* A duration: decimal seconds or a Prometheus duration ("1m30s"), into ns. */
int prom_parse_duration(const char *s, int64_t *ns, char *msg, size_t msglen);
/* A result limit: a non-negative decimal integer, 0 meaning none. */
int prom_parse_limit(const char *s, size_t *limit, char *msg, size_t msglen);
/* A /label/{name}/values name: verbatim, or U__-escaped (U__ then "__" for "_" and "_<hex>_"
 * for a code point), decoded in place. Returns false when the result is not a label name
 * (empty, or not valid UTF-8). */
bool prom_label_name_decode(char *name);

/* ---- Prometheus's JSON encoding (promjson.c) ----
 * Everything is written straight into the response buffer. The functions return BW_OK or the
 * buf error (BW_ENOSPC past the body cap, BW_ENOMEM); after an error the buffer holds a
 * partial document that the caller replaces with an error answer. */

/* Writes v as Prometheus writes sample values, without quotes: Go's FormatFloat 'f' with the
 * shortest digits when 1e-6 <= |v| < 1e21 or v is 0, else 'e' ("1e-07", "1.5e+21"); "NaN",
 * "+Inf", "-Inf". Returns the length; out holds 32 bytes. */
size_t promjson_fmt_value(char *out, double v);
/* Writes a timestamp (ms) as Unix seconds, with a '.' and exactly three digits only when the
 * milliseconds are not zero ("1435781451.780"). Returns the length; out holds 24 bytes. */
size_t promjson_fmt_time(char *out, int64_t ms);
/* Appends {"name":"value",...} in the set's (sorted) order. */
int promjson_labels(struct buf *b, const struct labelset *ls);
/* Appends ["s",...]. */
int promjson_strings(struct buf *b, const char *const *v, size_t n);
/* Appends {"resultType":...,"result":...} for r: a vector or matrix with its first n series
 * (labels written as they come), a scalar as [t,"v"], a string as [t,"s"]. BW_EINVAL for a
 * scalar without its point. */
int promjson_result(struct buf *b, const struct promql_result *r, size_t n);
/* Appends {"status":"success","data": — the data follows. */
int promjson_begin(struct buf *b);
/* Closes what promjson_begin opened, adding "warnings" and "infos" when there are any: r's
 * (may be NULL), at most 10 of each then "N more warning annotations omitted" as Prometheus
 * does, and "results truncated due to limit" when truncated. */
int promjson_end(struct buf *b, const struct promql_result *r, bool truncated);

/* ---- alerting (alerts.c; docs/api.md) ----
 * Prometheus's rule and alert lists, and breakwatch's alert management. Writes need the editor
 * role (the route table's); what they record names the token. A bad parameter is 400 bad_data
 * naming it, an unknown alert, silence or receiver 404, alerting not running 503. */
void api_prom_rules(void *ud, const struct http_request *req, struct http_response *res);
void api_prom_alerts(void *ud, const struct http_request *req, struct http_response *res);
void api_alerts_list(void *ud, const struct http_request *req, struct http_response *res);
void api_alerts_ack(void *ud, const struct http_request *req, struct http_response *res);
void api_alerts_unack(void *ud, const struct http_request *req, struct http_response *res);
void api_alerts_history(void *ud, const struct http_request *req, struct http_response *res);
void api_silences_list(void *ud, const struct http_request *req, struct http_response *res);
void api_silences_create(void *ud, const struct http_request *req, struct http_response *res);
void api_silences_expire(void *ud, const struct http_request *req, struct http_response *res);
void api_alerts_receivers(void *ud, const struct http_request *req, struct http_response *res);
void api_alerts_receiver_test(void *ud, const struct http_request *req, struct http_response *res);
void api_rules_reload(void *ud, const struct http_request *req, struct http_response *res);

/* The audit trail (audit.c): http_config's audit hook, with ctx as its ud. Records an "audit"
 * event (who, role, method, path, status, wall-clock time; never the body) in ctx->journal,
 * or nothing while there is none. */
void api_audit(void *ud, const struct http_request *req, int status);

/* ---- dashboards as code (dashboards.c; docs/api.md) ----
 * The Grafana dashboard files of ctx->dashboards_dir, read on every request so that an edited
 * file shows at the next load. The list names each file's uid, title and tags, or its error
 * (file:line:col); one dashboard is answered as its file holds it. Unknown uid: 404. */
void api_dashboards_list(void *ud, const struct http_request *req, struct http_response *res);
void api_dashboards_get(void *ud, const struct http_request *req, struct http_response *res);

/* ---- the maintainers' endpoints under /api/admin (admin.c; docs/api.md) ----
 * All need the admin role. No engine (run --no-engine): 503. */
/* GET /api/admin/engine: {"run","state","halted_by","reason","by","halted_at_ms",
 * "since_sim_ms","pending"}. */
void api_admin_engine(void *ud, const struct http_request *req, struct http_response *res);
/* POST /api/admin/engine/halt (optional {"reason":…}, at most 500 bytes of UTF-8) and
 * POST /api/admin/engine/resume: the operator's halt (engine_halt). 200 with the status once
 * the engine's cycle applied it (waiting at most 1 s), else 202 with "pending": true; 409
 * when there is nothing to do (already halted by an operator; nothing to resume, or only the
 * daily loss limit's halt, which lifts at the next UTC day; the run has ended). */
void api_admin_engine_halt(void *ud, const struct http_request *req, struct http_response *res);
void api_admin_engine_resume(void *ud, const struct http_request *req, struct http_response *res);
/* GET /api/admin/tokens: {"auth":bool,"tokens":[{"name","role"},…]} from ctx->tokens. */
void api_admin_tokens(void *ud, const struct http_request *req, struct http_response *res);

/* ---- the monitoring API under /api/monitoring (monitoring.c, events.c; docs/api.md) ----
 * JSON for the web page. A bad parameter is 400 bad_data naming it, an unknown session 404
 * not_found, a journal that is not open 503 unavailable. */
void api_mon_sessions(void *ud, const struct http_request *req, struct http_response *res);
void api_mon_session(void *ud, const struct http_request *req, struct http_response *res);
void api_mon_checkpoints(void *ud, const struct http_request *req, struct http_response *res);
void api_mon_realtime(void *ud, const struct http_request *req, struct http_response *res);
void api_mon_state_machine(void *ud, const struct http_request *req, struct http_response *res);
void api_mon_events(void *ud, const struct http_request *req, struct http_response *res);
/* Server-Sent Events: one "event" message per journal event, resumable by id. */
void api_mon_events_stream(void *ud, const struct http_request *req, struct http_response *res);
/* POST: records an editor's note on a session as an "annotation" event; 201 {"id":N} once
 * it is committed (annotations.c). */
void api_mon_annotate(void *ud, const struct http_request *req, struct http_response *res);

/* Shared steps of the monitoring handlers. Each returns true, or false with res answered. */
#define API_MON_LIMIT_MAX 1000 /* the usual max of api_mon_limit */
/* The parameter `limit`: absent (or empty), def; else an integer from 1 to max. */
bool api_mon_limit(const struct http_request *req, struct http_response *res, size_t def,
                   size_t max, size_t *out);
/* An id (of what: "an event", "a checkpoint", for the message) given as parameter or header
 * `name`: absent (NULL or empty), 0; else an integer >= 1 (>= 0 when zero_ok). */
bool api_mon_id(const char *name, const char *what, const char *value, bool zero_ok,
                struct http_response *res, int64_t *out);
/* The journal is open (else 503). */
bool api_mon_journal(const struct api_ctx *ctx, struct http_response *res);
/* A session id given by the client in parameter `name`, resolved into out: a recorded
 * session's id, or "current" for the newest session (the engine's, while it runs), so a page
 * can ask for the current session's views without first listing the sessions. Else 400 when
 * it cannot be an id, 404 when there is no such session (or none at all). */
#define API_MON_CURRENT "current"
bool api_mon_session_resolve(const struct api_ctx *ctx, const char *name, const char *id,
                             char out[JOURNAL_ID_LEN], struct http_response *res);

/* ---- the monitoring endpoints' JSON writer (json.c) ----
 * Writes into a buffer, keeping the first error: after one, every call does nothing and
 * api_json_end returns it (BW_ENOSPC past the buffer's cap, BW_ENOMEM). Commas are placed by
 * the writer; a key is followed by exactly one value or container. */
#define API_JSON_MAX_DEPTH 16
struct api_json {
    struct buf *b;
    int rc;
    int depth;
    bool after_key;                      /* a key was written, its value not yet */
    bool has_member[API_JSON_MAX_DEPTH]; /* per open container */
};
void api_json_init(struct api_json *w, struct buf *b);
void api_json_object(struct api_json *w);
void api_json_object_end(struct api_json *w);
void api_json_array(struct api_json *w);
void api_json_array_end(struct api_json *w);
void api_json_key(struct api_json *w, const char *key);
/* A string, escaped as http_json_string does; NULL writes null. */
void api_json_string(struct api_json *w, const char *s);
/* A finite number as the shortest text that reads back the same, as Prometheus writes sample
 * values (no exponent from 1e-6 to 1e21); NaN and ±Inf write null. */
void api_json_number(struct api_json *w, double v);
void api_json_int(struct api_json *w, int64_t v);
void api_json_uint(struct api_json *w, uint64_t v);
void api_json_bool(struct api_json *w, bool v);
void api_json_null(struct api_json *w);
/* JSON text stored by breakwatch: written as it is (on one line) when cJSON parses it as an
 * object, else null (NULL too). */
void api_json_raw_object(struct api_json *w, const char *text);
/* A member of the open object: its key, then its value as the call without _member writes
 * it. */
void api_json_member_string(struct api_json *w, const char *key, const char *s);
void api_json_member_number(struct api_json *w, const char *key, double v);
void api_json_member_int(struct api_json *w, const char *key, int64_t v);
void api_json_member_uint(struct api_json *w, const char *key, uint64_t v);
void api_json_member_bool(struct api_json *w, const char *key, bool v);
void api_json_member_raw_object(struct api_json *w, const char *key, const char *text);
/* The first error, or BW_EINVAL when a container was left open; BW_OK for a whole document. */
int api_json_end(struct api_json *w);
/* ---- request bodies (json.c) ---- */
struct cJSON;
/* The body as a JSON object, to free with cJSON_Delete: *out NULL when there is none (no body,
 * or a form, whose fields http_request_arg reads). false with the 400 answered when the body
 * is not one JSON object, saying where parsing stopped as a line and a column. */
bool api_body_object(const struct http_request *req, struct http_response *res, struct cJSON **out);
/* The string field name of a body: obj's member when api_body_object gave an object, else the
 * form's (or the URL's) parameter. true with *out NULL when absent (or JSON null); false with
 * the 400 answered when the member is not a string. *out points into obj or the request. */
bool api_body_string(const struct cJSON *obj, const struct http_request *req, const char *name,
                     const char **out, struct http_response *res);
/* Parses text[0..len) (a NUL must follow it) as one JSON object into *out, to free with
 * cJSON_Delete. BW_EINVAL with err saying why: "not JSON: error near line L, column C" with
 * *line and *col set to where parsing stopped (both from 1; else 0), "not a JSON object", or
 * a string holding \u0000 (which cJSON would cut). */
int api_json_parse_object(const char *text, size_t len, struct cJSON **out, int *line, int *col,
                          char *err, size_t errlen);
/* Copies s (NULL: absent), trimmed of ASCII white space, into out (max bytes and a NUL).
 * Returns true, or false with the 400 naming parameter name answered when it is longer than
 * max, not UTF-8, or empty when required. */
bool api_text_param(const char *name, const char *s, size_t max, bool required, char *out,
                    struct http_response *res);

/* An event as /api/monitoring/events and its stream show it: {"id":…,"sim_ms":…,…,"data":…}. */
void api_json_event(struct api_json *w, const struct journal_event *ev);

#endif
