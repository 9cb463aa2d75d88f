/* remote: Prometheus remote write 1.0 — every sample breakwatch appends to its tsdb (the
 * collector's scrapes, the rule evaluator's ALERTS and recording rules) pushed to one or more
 * receivers (Prometheus with --web.enable-remote-write-receiver, Mimir, Thanos,
 * VictoriaMetrics), for bots that cannot be scraped.
 *
 * Each configured receiver has a bounded queue on disk under DATA_DIR/remote/<name>/: batches
 * are kept there encoded and compressed, ready to send, so a restart resumes where the last
 * run stopped; a full queue drops its oldest batches (counted). A thread per receiver sends
 * them in order, retrying 5xx, 429 and connection errors with exponential backoff.
 *
 * Errors: 0 or a negative BW_E* code with detail in a struct diag. */
#ifndef BW_REMOTE_H
#define BW_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "breakwatch/metrics.h"

struct conf_doc;
struct conf_node;
struct tsdb;

/* An extra HTTP header sent with every request. */
struct remote_header {
    const char *name, *value;
};

/* One remote_write entry, in Prometheus's shape. Strings live in the config's arena. */
struct remote_target {
    const char *url;
    const char *name;   /* the queue's directory and the remote_name label; default: a hash */
    int64_t timeout_ms; /* remote_timeout, default 30 s */
    struct remote_header *headers;
    size_t nheaders;
    /* basic_auth (username set), or authorization (credentials set, type default "Bearer");
     * a *_file is read when the sender starts. Secrets: never logged nor shown. */
    const char *username, *password, *password_file;
    const char *auth_type, *credentials, *credentials_file;
    size_t max_samples_per_send;    /* queue_config, default 2000 */
    int64_t batch_send_deadline_ms; /* default 5 s */
    int64_t min_backoff_ms;         /* default 30 ms */
    int64_t max_backoff_ms;         /* default 5 s */
    int64_t queue_max_bytes;        /* breakwatch's: the on-disk bound, default 256 MiB */
};

struct remote_config {
    struct arena arena;
    struct remote_target *targets;
    size_t n;
};

void remote_config_init(struct remote_config *c);
void remote_config_fini(struct remote_config *c);
/* Adds a target for url with the defaults (--remote-write-url). BW_ENOMEM. */
int remote_config_add_url(struct remote_config *c, const char *url);
/* Reads a `remote_write:` list (n; NULL adds nothing) of doc into c, appending to what c
 * holds. BW_EINVAL with file:line:col for an unknown key, a bad value, a missing url, two
 * targets with the same name; BW_ENOMEM. */
int remote_config_parse(const struct conf_doc *doc, const struct conf_node *n,
                        struct remote_config *c, struct diag *d);

/* The writer: the queues and sender threads of every target. */
struct remote_writer;

/* Opens (creating them) the queues under data_dir/remote/<name>/, registers the
 * remote_storage_* metrics in reg, and attaches to db as its observer (tsdb_observe) so every
 * sample committed from now on is queued. Batches left by an earlier run are sent first.
 * c and reg must outlive the writer; db too, until remote_writer_free. BW_OK, BW_EINVAL (two
 * targets with the same name), BW_EIO (a directory or a secret file cannot be read: d says
 * which), BW_ENOMEM. */
int remote_writer_new(const struct remote_config *c, const char *data_dir, struct tsdb *db,
                      bw_registry *reg, struct remote_writer **out, struct diag *d);
/* Starts the sender threads. BW_OK or BW_ENOMEM (d says so). */
int remote_writer_start(struct remote_writer *w, struct diag *d);
/* Stops the senders (a request in flight is abandoned; its batch stays queued), writes what
 * is buffered to disk and frees. Call after the tsdb's last commit (tsdb_close) or after
 * detaching from it. NULL is a no-op. */
void remote_writer_free(struct remote_writer *w);

#endif
