/* remote: the remote writer — the tsdb observer that batches every committed sample into each
 * receiver's queue on disk, and one sender thread per receiver that POSTs the batches in order.
 *
 * Main data structure: struct rq, one receiver: its queue (queue.c) and the batch being built,
 * both under its mutex, and its sender thread, which holds the mutex neither while it reads
 * the batch in flight back from disk nor while it posts it (the writing thread takes it).
 * The observer's side (struct remote_writer) encodes each sample once, as a WriteRequest
 * field (proto.c), into a buffer of the current commit, and at the commit copies that into
 * every receiver's batch.
 *
 * The design decision: the writing thread (the collector, the rule evaluator) never waits on
 * the network. It encodes in memory, and when a batch reaches max_samples_per_send it
 * compresses it and writes it to a file (page cache, no fsync): a bounded cost per sample
 * whatever the receiver does. Everything on the network is the sender's, which reads batches
 * back from disk; a batch older than batch_send_deadline is cut by the sender. So the queue on
 * disk is the only backlog, its bound the only limit, and a restart loses at most the batch
 * being built when the process died (a clean stop writes it out). Outcomes follow Prometheus:
 * 2xx sent, 5xx / 429 / no answer retried with doubling backoff (min_backoff..max_backoff,
 * or what a Retry-After asks) for as long as the queue holds the batch, any other status
 * dropped and counted as failed. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "remote/remote_int.h"
#include "tsdb/tsdb.h"

#define ANSWER_KEEP     512 /* bytes of a receiver's error answer kept for the log */
#define IDLE_WAIT       1000
#define RETRY_AFTER_MAX 3600 /* s: a Retry-After is followed up to an hour */

enum outcome { SENT, RETRY, FAILED, ABORTED, UNREADABLE, NOMEM };

struct rq {
    const struct remote_target *t;
    char *url_shown; /* t->url without userinfo: for logs and the url label */
    char *secret;    /* the password or credentials in effect (from the file when one is set) */
    struct curl_slist *headers;
    CURL *curl;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct remote_queue q; /* under mu */
    struct buf build;      /* the batch being built: WriteRequest fields, under mu */
    uint32_t build_n;
    int64_t build_min, build_max, build_since; /* timestamps; when it was started (mono ms) */
    struct buf z;                              /* compression scratch, under mu */
    uint64_t dropped_seen;                     /* q.dropped already counted */
    bool write_failing; /* the last batch could not be queued: the next failures are quiet */

    pthread_t th;
    bool started;
    atomic_bool stop;

    bw_counter *sent, *failed, *retried, *dropped;
    bw_gauge *pending_samples, *pending_bytes, *highest_sent;
    bw_histogram *duration;
};

struct sample_ref {
    uint32_t off; /* start of its WriteRequest field in pend */
    int64_t t;
};

struct remote_writer {
    struct tsdb *db;
    struct rq *rq;
    size_t n;
    bool curl_ok;
    /* the writing thread's: this commit's samples */
    struct buf pend;
    struct sample_ref *refs;
    size_t nrefs, cap_refs;
    uint64_t lost; /* samples that could not be encoded (out of memory) */
};

static int64_t mono_ms(void)
{
    return clock_mono_ns() / 1000000;
}

/* ---- the batch being built (under rq->mu) ---- */

static void gauges(struct rq *r)
{
    bw_gauge_set(r->pending_samples, (double)(r->q.samples + r->build_n));
    bw_gauge_set(r->pending_bytes, (double)r->q.bytes);
    if (r->q.dropped > r->dropped_seen) {
        bw_counter_add(r->dropped, (double)(r->q.dropped - r->dropped_seen));
        r->dropped_seen = r->q.dropped;
    }
}

/* Compresses the batch and writes it to the queue. */
static void cut(struct rq *r)
{
    struct diag d = {0};
    if (!r->build_n)
        return;
    int rc = remote_compress(r->build.data, r->build.len, &r->z);
    if (rc == BW_OK)
        rc = remote_queue_push(&r->q, r->z.data, r->z.len, r->build_n, r->build_min, r->build_max,
                               &d);
    /* Once per episode: a full disk would otherwise log every batch, from the writing thread. */
    if (rc && !r->write_failing)
        log_warn("remote write %s: %u samples dropped: %s (and the next batches, counted in "
                 "remote_storage_samples_dropped_total, until one is queued again)",
                 r->t->name, r->build_n, d.msg[0] ? d.msg : bw_strerror(rc));
    else if (!rc && r->write_failing)
        log_info("remote write %s: batches are queued again", r->t->name);
    r->write_failing = rc != BW_OK;
    if (rc)
        r->q.dropped += r->build_n;
    buf_reset(&r->build);
    r->build_n = 0;
    gauges(r);
    pthread_cond_signal(&r->cv);
}

/* Appends samples refs[0..n) of pend (ending at end) to the batch, cutting it when full. */
static void feed(struct rq *r, const struct buf *pend, const struct sample_ref *refs, size_t n,
                 size_t end)
{
    for (size_t i = 0; i < n;) {
        size_t room = r->t->max_samples_per_send - r->build_n;
        size_t k = n - i < room ? n - i : room;
        size_t to = i + k < n ? refs[i + k].off : end;
        if (!r->build_n) {
            r->build_since = mono_ms();
            r->build_min = refs[i].t;
            r->build_max = refs[i].t;
        }
        if (buf_append(&r->build, pend->data + refs[i].off, to - refs[i].off) != BW_OK) {
            r->q.dropped += k; /* out of memory: counted, the rest goes on */
        } else {
            for (size_t j = i; j < i + k; j++) {
                r->build_min = refs[j].t < r->build_min ? refs[j].t : r->build_min;
                r->build_max = refs[j].t > r->build_max ? refs[j].t : r->build_max;
            }
            r->build_n += (uint32_t)k;
        }
        i += k;
        if (r->build_n >= r->t->max_samples_per_send)
            cut(r);
    }
    gauges(r);
}

/* ---- the observer (the writing thread) ---- */

static void on_sample(void *ud, const struct labelset *ls, int64_t t, double v)
{
    struct remote_writer *w = ud;
    if (w->nrefs == w->cap_refs) {
        size_t ncap = w->cap_refs ? 2 * w->cap_refs : 1024;
        struct sample_ref *p = realloc(w->refs, ncap * sizeof(*p));
        if (!p) {
            w->lost++;
            return;
        }
        w->refs = p;
        w->cap_refs = ncap;
    }
    size_t off = w->pend.len;
    if (off > UINT32_MAX || remote_encode_series(&w->pend, ls, t, v) != BW_OK) {
        w->pend.len = off;
        w->lost++;
        return;
    }
    w->refs[w->nrefs++] = (struct sample_ref){(uint32_t)off, t};
}

static void on_commit(void *ud)
{
    struct remote_writer *w = ud;
    for (size_t i = 0; i < w->n; i++) {
        struct rq *r = &w->rq[i];
        pthread_mutex_lock(&r->mu);
        r->q.dropped += w->lost;
        feed(r, &w->pend, w->refs, w->nrefs, w->pend.len);
        pthread_mutex_unlock(&r->mu);
    }
    w->lost = 0;
    w->nrefs = 0;
    buf_reset(&w->pend);
    /* A burst (an import, a restart's catch-up) should not keep its memory for good. */
    if (w->pend.cap > (64u << 20)) {
        buf_fini(&w->pend);
        buf_init(&w->pend, 0);
        free(w->refs);
        w->refs = NULL;
        w->cap_refs = 0;
    }
}

/* ---- HTTP (the sender thread) ---- */

struct answer {
    struct buf b;
};

static size_t keep_answer(char *p, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb, room = ANSWER_KEEP - b->len;
    buf_append(b, p, n < room ? n : room);
    return n;
}

static int abort_on_stop(void *ud, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t e)
{
    return atomic_load(&((struct rq *)ud)->stop) ? 1 : 0;
}

/* The answer's first line, without the secret, into out. */
static void first_line(const struct rq *r, const struct buf *answer, char *out, size_t outlen)
{
    size_t n = answer->data ? strcspn(answer->data, "\r\n") : 0;
    snprintf(out, outlen, "%.*s", (int)n, n ? answer->data : "");
    if (r->secret && *r->secret)
        for (char *p = strstr(out, r->secret); p; p = strstr(p, r->secret))
            memset(p, '*', strlen(r->secret));
}

/* POSTs one batch; why (for RETRY and FAILED) says what came back; *after_ms the wait a
 * 429 or 5xx asked for in its Retry-After (seconds or a date), 0 when none. */
static enum outcome post(struct rq *r, const struct buf *body, char *why, size_t whylen,
                         int64_t *after_ms)
{
    struct buf answer;
    char err[CURL_ERROR_SIZE] = "";
    long status = 0;
    curl_off_t after = 0;
    *after_ms = 0;
    buf_init(&answer, ANSWER_KEEP);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, body->data);
    curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, err);
    int64_t t0 = clock_mono_ns();
    CURLcode cc = curl_easy_perform(r->curl);
    bw_histogram_observe(r->duration, (double)(clock_mono_ns() - t0) / 1e9);
    enum outcome o = RETRY;
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        o = ABORTED;
    } else if (cc != CURLE_OK) {
        snprintf(why, whylen, "%s", *err ? err : curl_easy_strerror(cc));
    } else {
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
        char line[ANSWER_KEEP + 1];
        first_line(r, &answer, line, sizeof(line));
        snprintf(why, whylen, "HTTP %ld%s%s", status, *line ? ": " : "", line);
        o = status >= 200 && status < 300 ? SENT : status == 429 || status >= 500 ? RETRY : FAILED;
        if (o == RETRY && curl_easy_getinfo(r->curl, CURLINFO_RETRY_AFTER, &after) == CURLE_OK &&
            after > 0)
            *after_ms = (after < RETRY_AFTER_MAX ? after : RETRY_AFTER_MAX) * 1000;
    }
    buf_fini(&answer);
    return o;
}

/* ---- the sender thread ---- */

/* Waits on cv (CLOCK_MONOTONIC: a wall clock stepped back does not stretch the wait). */
static void wait_until(struct rq *r, int64_t when_ms)
{
    int64_t now = mono_ms();
    struct timespec ts;
    if (when_ms <= now)
        return;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + (when_ms - now) * 1000000;
    ts = (struct timespec){(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

static void *sender(void *arg)
{
    struct rq *r = arg;
    const struct remote_target *t = r->t;
    struct buf body;
    struct remote_seg seg;
    int64_t backoff = t->min_backoff_ms, retry_at = 0, after_ms;
    bool failing = false;
    char why[ANSWER_KEEP + 64];
    buf_init(&body, 0);
    pthread_mutex_lock(&r->mu);
    while (!atomic_load(&r->stop)) {
        int64_t now = mono_ms();
        int64_t deadline = r->build_n ? r->build_since + t->batch_send_deadline_ms : INT64_MAX;
        if (now >= deadline) {
            cut(r);
            continue;
        }
        if (!r->q.n || now < retry_at) {
            int64_t next = now + IDLE_WAIT;
            next = deadline < next ? deadline : next;
            next = r->q.n && retry_at < next ? retry_at : next;
            wait_until(r, next);
            continue;
        }
        if (remote_queue_next(&r->q, &seg) != BW_OK)
            continue;
        pthread_mutex_unlock(&r->mu);
        /* Off the lock: the writing thread never waits for this read nor for the network. */
        struct diag rd = {0};
        int rc = remote_queue_read(&r->q, &seg, &body, &rd);
        enum outcome o = rc == BW_OK       ? post(r, &body, why, sizeof(why), &after_ms)
                         : rc == BW_ENOMEM ? NOMEM
                                           : UNREADABLE;
        pthread_mutex_lock(&r->mu);
        now = mono_ms();
        switch (o) {
        case SENT:
            remote_queue_pop(&r->q);
            bw_counter_add(r->sent, seg.samples);
            if ((double)seg.max_t / 1000.0 > bw_gauge_value(r->highest_sent))
                bw_gauge_set(r->highest_sent, (double)seg.max_t / 1000.0);
            if (failing)
                log_info("remote write %s: %s answers again", t->name, r->url_shown);
            failing = false;
            backoff = t->min_backoff_ms;
            break;
        case FAILED: /* it answers: the next batch starts from min_backoff again */
            remote_queue_pop(&r->q);
            bw_counter_add(r->failed, seg.samples);
            log_warn("remote write %s: %s refused a batch of %u samples, dropped: %s", t->name,
                     r->url_shown, seg.samples, why);
            failing = false;
            backoff = t->min_backoff_ms;
            break;
        case RETRY: /* as Prometheus: a Retry-After replaces the backoff, which then doubles */
            r->q.inflight = 0;
            bw_counter_add(r->retried, seg.samples);
            after_ms = after_ms ? after_ms : backoff;
            retry_at = now + after_ms;
            backoff = 2 * after_ms < t->max_backoff_ms ? 2 * after_ms : t->max_backoff_ms;
            if (!failing)
                log_warn("remote write %s: %s: %s; retrying (batches stay queued on disk)", t->name,
                         r->url_shown, why);
            failing = true;
            break;
        case ABORTED:
            r->q.inflight = 0;
            break;
        case UNREADABLE: /* never sent; its samples, as far as its header says, are lost */
            diag_format(&rd, why, sizeof(why));
            log_warn("remote write %s: skipping a batch: %s (removed)", t->name, why);
            r->q.dropped += seg.samples;
            remote_queue_pop(&r->q);
            break;
        case NOMEM: /* the batch stays: try again later rather than spin */
            r->q.inflight = 0;
            retry_at = now + t->max_backoff_ms;
            break;
        }
        gauges(r);
    }
    pthread_mutex_unlock(&r->mu);
    buf_fini(&body);
    return NULL;
}

/* ---- setup ---- */

/* The secret in file path (its whitespace trimmed), malloc'd into *out. */
static int read_secret(const char *path, char **out, struct diag *d)
{
    struct buf b;
    buf_init(&b, 1 << 16);
    int rc = buf_read_file(&b, path, d);
    if (rc == BW_OK) {
        while (b.len && strchr(" \t\r\n", b.data[b.len - 1]))
            b.len--;
        if (!(*out = xstrndup(b.data ? b.data : "", b.len)))
            rc = diag_set(d, BW_ENOMEM, "out of memory");
    }
    buf_fini(&b);
    return rc;
}

static int add_header(struct curl_slist **l, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *h = malloc(n);
    if (!h)
        return BW_ENOMEM;
    snprintf(h, n, "%s: %s", name, value);
    struct curl_slist *nl = curl_slist_append(*l, h);
    free(h);
    if (!nl)
        return BW_ENOMEM;
    *l = nl;
    return BW_OK;
}

static int metrics(struct rq *r, bw_registry *reg)
{
    static const char *const labels[] = {"remote_name", "url"};
    const char *values[] = {r->t->name, r->url_shown};
    static const struct {
        const char *name, *help;
        size_t field;
    } counters[] = {
        {"remote_storage_samples_total", "samples sent to the remote-write receiver (2xx)",
         offsetof(struct rq, sent)},
        {"remote_storage_samples_failed_total",
         "samples the receiver refused with a status other than 5xx and 429 (dropped)",
         offsetof(struct rq, failed)},
        {"remote_storage_samples_retried_total",
         "samples sent again after a 5xx, a 429 or no answer", offsetof(struct rq, retried)},
        {"remote_storage_samples_dropped_total",
         "samples dropped unsent: the queue on disk was full, or their batch could not be "
         "written to it or read back",
         offsetof(struct rq, dropped)},
    };
    static const struct {
        const char *name, *help;
        size_t field;
    } g[] = {
        {"remote_storage_samples_pending", "samples queued and not yet sent",
         offsetof(struct rq, pending_samples)},
        {"remote_storage_bytes_pending", "bytes of the queue's batches on disk",
         offsetof(struct rq, pending_bytes)},
        {"remote_storage_highest_timestamp_sent_seconds",
         "newest sample timestamp the receiver has accepted", offsetof(struct rq, highest_sent)},
    };
    bw_family *f;
    int rc = BW_OK;
    for (size_t i = 0; rc == BW_OK && i < BW_ARRAY_LEN(counters); i++)
        if ((rc = bw_counter_family(reg, counters[i].name, counters[i].help, 2, labels, &f)) ==
            BW_OK)
            rc = bw_counter_resolve(f, values, (bw_counter **)((char *)r + counters[i].field));
    for (size_t i = 0; rc == BW_OK && i < BW_ARRAY_LEN(g); i++)
        if ((rc = bw_gauge_family(reg, g[i].name, g[i].help, 2, labels, &f)) == BW_OK)
            rc = bw_gauge_resolve(f, values, (bw_gauge **)((char *)r + g[i].field));
    if (rc == BW_OK &&
        (rc = bw_histogram_family(reg, "remote_storage_sent_batch_duration_seconds",
                                  "time one batch took to send, whatever the outcome", 2, labels,
                                  NULL, 0, &f)) == BW_OK)
        rc = bw_histogram_resolve(f, values, &r->duration);
    return rc;
}

static int rq_init(struct rq *r, const struct remote_target *t, const char *data_dir,
                   bw_registry *reg, struct diag *d)
{
    char dir[1200];
    int rc;
    r->t = t;
    pthread_condattr_t ca;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    buf_init(&r->build, 0);
    buf_init(&r->z, 0);
    atomic_init(&r->stop, false);
    struct buf shown;
    buf_init(&shown, 0);
    rc = url_redact(t->url, &shown, NULL);
    r->url_shown = rc ? NULL : xstrndup(shown.data ? shown.data : "", shown.len);
    buf_fini(&shown);
    if (!r->url_shown || !(r->curl = curl_easy_init()))
        return diag_set(d, BW_ENOMEM, "out of memory");
    if ((rc = metrics(r, reg)))
        return diag_set(d, rc, "remote write %s: cannot register its metrics: %s", t->name,
                        bw_strerror(rc));
    if (t->password_file && (rc = read_secret(t->password_file, &r->secret, d)))
        return rc;
    if (t->credentials_file && (rc = read_secret(t->credentials_file, &r->secret, d)))
        return rc;
    if (!r->secret && (t->password || t->credentials) &&
        !(r->secret = xstrdup(t->password ? t->password : t->credentials)))
        return diag_set(d, BW_ENOMEM, "out of memory");
    rc = add_header(&r->headers, "Content-Encoding", "snappy");
    if (rc == BW_OK)
        rc = add_header(&r->headers, "Content-Type", "application/x-protobuf");
    if (rc == BW_OK)
        rc = add_header(&r->headers, "X-Prometheus-Remote-Write-Version", "0.1.0");
    for (size_t i = 0; rc == BW_OK && i < t->nheaders; i++)
        rc = add_header(&r->headers, t->headers[i].name, t->headers[i].value);
    if (rc == BW_OK && (t->credentials || t->credentials_file)) {
        size_t n = strlen(t->auth_type) + strlen(r->secret) + 2;
        char *v = malloc(n);
        if (v) {
            snprintf(v, n, "%s %s", t->auth_type, r->secret);
            rc = add_header(&r->headers, "Authorization", v);
            memset(v, 0, n);
            free(v);
        } else {
            rc = BW_ENOMEM;
        }
    }
    if (rc)
        return diag_set(d, rc, "out of memory");
    CURL *c = r->curl;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "breakwatch/" BW_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abort_on_stop);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
    if (t->username) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERNAME, t->username);
        curl_easy_setopt(c, CURLOPT_PASSWORD, r->secret ? r->secret : "");
    }
    snprintf(dir, sizeof(dir), "%s/remote/%s", data_dir, t->name);
    if ((rc = remote_queue_open(&r->q, dir, t->queue_max_bytes, d)))
        return rc;
    if (r->q.n)
        log_info("remote write %s: %zu batches (%llu samples) queued by an earlier run, sending "
                 "them first",
                 t->name, r->q.n, (unsigned long long)r->q.samples);
    gauges(r);
    return BW_OK;
}

static void rq_fini(struct rq *r)
{
    if (r->started) {
        atomic_store(&r->stop, true);
        pthread_mutex_lock(&r->mu);
        pthread_cond_signal(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->th, NULL);
    }
    if (r->q.dir) {
        cut(r); /* what was buffered goes to disk, for the next run */
        remote_queue_close(&r->q);
    }
    curl_easy_cleanup(r->curl);
    curl_slist_free_all(r->headers);
    if (r->secret)
        memset(r->secret, 0, strlen(r->secret));
    free(r->secret);
    free(r->url_shown);
    buf_fini(&r->build);
    buf_fini(&r->z);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
}

int remote_writer_new(const struct remote_config *c, const char *data_dir, struct tsdb *db,
                      bw_registry *reg, struct remote_writer **out, struct diag *d)
{
    struct remote_writer *w = calloc(1, sizeof(*w));
    int rc = BW_OK;
    *out = NULL;
    /* Two senders in one directory would number their batches alike and overwrite them. */
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->targets[i].name, c->targets[j].name) == 0) {
                rc = diag_set(d, BW_EINVAL, "remote write: two receivers are named %s",
                              c->targets[i].name);
                goto fail;
            }
    if (!w || !(w->rq = calloc(c->n ? c->n : 1, sizeof(*w->rq)))) {
        rc = diag_set(d, BW_ENOMEM, "out of memory");
        goto fail;
    }
    buf_init(&w->pend, 0);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        rc = diag_set(d, BW_EIO, "remote write: libcurl cannot be initialised");
        goto fail;
    }
    w->curl_ok = true;
    for (; w->n < c->n; w->n++)
        if ((rc = rq_init(&w->rq[w->n], &c->targets[w->n], data_dir, reg, d))) {
            w->n++; /* its fini undoes the part done */
            goto fail;
        }
    w->db = db;
    tsdb_observe(db, &(struct tsdb_observer){on_sample, on_commit, w});
    *out = w;
    return BW_OK;
fail:
    remote_writer_free(w);
    return rc;
}

int remote_writer_start(struct remote_writer *w, struct diag *d)
{
    for (size_t i = 0; i < w->n; i++) {
        struct rq *r = &w->rq[i];
        if (pthread_create(&r->th, NULL, sender, r) != 0)
            return diag_set(d, BW_ENOMEM, "remote write %s: cannot start its thread", r->t->name);
        r->started = true;
        pthread_setname_np(r->th, "bw-remote"); /* for top -H; a failure changes nothing */
    }
    return BW_OK;
}

void remote_writer_free(struct remote_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        rq_fini(&w->rq[i]);
    if (w->curl_ok)
        curl_global_cleanup();
    free(w->rq);
    free(w->refs);
    buf_fini(&w->pend);
    free(w);
}
