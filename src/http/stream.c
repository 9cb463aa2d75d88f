/* stream: streaming responses (Server-Sent Events) over libmicrohttpd.
 *
 * A stream is a callback response (MHD_create_response_from_callback, size unknown, so
 * chunked) whose content reader calls the handler's next(). When next() has nothing to say,
 * the reader suspends the connection — MHD_suspend_connection from inside the content reader,
 * then return 0, the pattern microhttpd.h prescribes — so no serving thread waits and nothing
 * polls; http_stream_wake resumes it from any thread and the reader runs again. A ticker
 * thread sleeps until the earliest keepalive deadline among the parked streams and resumes
 * those that are due, and the reader then writes HTTP_STREAM_KEEPALIVE.
 *
 * Main data structure: the server's list of open streams, each with a few flags.
 *
 * The design decision: every stream's flags live under one server-wide mutex, which also
 * guards the list. libmicrohttpd forbids resuming a connection that is not suspended and
 * stopping a daemon while one is; `parked` keeps both rules. The reader sets it and suspends
 * in one critical section, a wake resumes only a parked stream (once), and a wake that comes
 * while next() runs sets `woken`, which the reader checks under the lock before it parks, so
 * no wake is ever lost. One lock for a few dozen streams costs nothing measurable and leaves
 * no lock-ordering question between a stream and the list that shutdown walks. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http_int.h"

#define STREAM_BLOCK (16u << 10)               /* libmicrohttpd's read size hint */
#define STOP_WAIT_NS (INT64_C(5) * 1000000000) /* shutdown waits this long for resumes */

struct http_stream {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct http_stream_ops ops;
    struct http_stream *prev, *next; /* srv->streams */
    /* The reader's own (libmicrohttpd runs one connection's reader on one thread at a time). */
    struct buf out; /* what next() wrote, being handed over */
    size_t sent;    /* bytes of out handed over */
    int idle;       /* next() last said "nothing more now": call it again only when woken */
    int ended;      /* next() said -1: the response ends once out is handed over */
    _Atomic int64_t last_ns; /* when bytes were last handed over (or the stream opened) */
    /* Under srv->lock. */
    int parked;    /* suspended in libmicrohttpd, or resumed but its reader has not run yet */
    int resumed;   /* MHD_resume_connection was called for the current park */
    int woken;     /* http_stream_wake since the reader last called next() */
    int keepalive; /* the ticker found the stream silent for too long */
    int dead;      /* the connection is gone: nothing may resume it */
};

static int64_t keepalive_ns(const struct http_server *s)
{
    int64_t ms = s->cfg.stream_keepalive_ms > 0 ? s->cfg.stream_keepalive_ms
                                                : HTTP_DEFAULT_STREAM_KEEPALIVE_MS;
    return ms * 1000000;
}

/* Resumes st if it is parked and not yet resumed. Called with srv->lock held. */
static void resume_locked(struct http_stream *st)
{
    if (st->parked && !st->resumed && !st->dead) {
        st->resumed = 1;
        MHD_resume_connection(st->conn);
    }
}

void http_stream_wake(struct http_stream *st)
{
    struct http_server *srv = st->srv;
    pthread_mutex_lock(&srv->lock);
    st->woken = 1;
    resume_locked(st);
    pthread_mutex_unlock(&srv->lock);
}

/* Hands over as much of out as fits in dst. */
static ssize_t drain(struct http_stream *st, char *dst, size_t max)
{
    size_t n = st->out.len - st->sent;
    if (n > max)
        n = max;
    memcpy(dst, st->out.data + st->sent, n);
    st->sent += n;
    atomic_store_explicit(&st->last_ns, clock_mono_ns(), memory_order_relaxed);
    return (ssize_t)n;
}

/* libmicrohttpd's content reader: the next bytes of the body, END_OF_STREAM, or 0 after
 * parking the connection. */
static ssize_t stream_read(void *cls, uint64_t pos, char *dst, size_t max)
{
    struct http_stream *st = cls;
    struct http_server *srv = st->srv;
    for (;;) {
        pthread_mutex_lock(&srv->lock);
        if (st->parked) { /* we run again: libmicrohttpd has taken the resume */
            st->parked = st->resumed = 0;
            srv->nparked--;
            if (srv->stopping)
                pthread_cond_broadcast(&srv->cond);
        }
        int call = !st->idle || st->woken;
        int keepalive = st->keepalive;
        int stopping = srv->stopping;
        st->woken = st->keepalive = 0;
        pthread_mutex_unlock(&srv->lock);

        if (st->sent < st->out.len)
            return drain(st, dst, max);
        if (st->ended || stopping)
            return MHD_CONTENT_READER_END_OF_STREAM;
        buf_reset(&st->out);
        st->sent = 0;
        if (call) {
            int r = st->ops.next(st->ops.ud, &st->out);
            st->ended = r < 0;
            st->idle = r == 0 || st->out.len == 0;
            if (st->out.len)
                return drain(st, dst, max);
            if (st->ended)
                return MHD_CONTENT_READER_END_OF_STREAM;
        }
        if (keepalive) {
            buf_puts(&st->out, HTTP_STREAM_KEEPALIVE);
            return drain(st, dst, max);
        }
        pthread_mutex_lock(&srv->lock);
        if (st->woken || st->keepalive || srv->stopping) {
            pthread_mutex_unlock(&srv->lock);
            continue; /* something came while next() ran */
        }
        st->parked = 1;
        srv->nparked++;
        MHD_suspend_connection(st->conn);
        if (srv->ticker_asleep)
            pthread_cond_broadcast(&srv->cond);
        pthread_mutex_unlock(&srv->lock);
        return 0;
    }
}

/* libmicrohttpd's free callback: the response is gone with its connection (or was never
 * queued). Unlinks the stream, lets the handler close, frees. */
static void stream_free(void *cls)
{
    struct http_stream *st = cls;
    struct http_server *srv = st->srv;
    pthread_mutex_lock(&srv->lock);
    st->dead = 1;
    if (st->parked)
        srv->nparked--;
    if (st->prev)
        st->prev->next = st->next;
    else
        srv->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    srv->nstreams--;
    pthread_cond_broadcast(&srv->cond);
    pthread_mutex_unlock(&srv->lock);
    st->ops.close(st->ops.ud);
    buf_fini(&st->out);
    free(st);
}

int http_response_stream(struct http_response *res, const struct http_stream_ops *ops,
                         struct http_stream **out)
{
    struct http_server *srv = res->request->server;
    unsigned cap = srv->cfg.max_streams ? srv->cfg.max_streams : HTTP_DEFAULT_MAX_STREAMS;
    if (res->stream) {
        http_response_error(res, 500, "internal", "the response is already a stream");
        return BW_EINVAL;
    }
    struct http_stream *st = calloc(1, sizeof(*st));
    if (!st) {
        http_response_error(res, 500, "internal", "out of memory");
        return BW_ENOMEM;
    }
    /* Whole before it is in the list that the ticker and shutdown walk. */
    st->srv = srv;
    st->conn = res->request->conn;
    st->ops = *ops;
    buf_init(&st->out, HTTP_STREAM_MAX_CHUNK);
    atomic_init(&st->last_ns, clock_mono_ns());
    pthread_mutex_lock(&srv->lock);
    int full = srv->stopping || srv->nstreams >= cap;
    if (!full) {
        st->next = srv->streams;
        if (st->next)
            st->next->prev = st;
        srv->streams = st;
        srv->nstreams++;
    }
    int stopping = srv->stopping;
    pthread_mutex_unlock(&srv->lock);
    if (full) {
        free(st);
        if (stopping)
            http_response_error(res, 503, "unavailable", "the server is shutting down");
        else
            http_response_error(res, 503, "unavailable",
                                "too many open streams (%u): try again later", cap);
        return BW_EBUSY;
    }
    res->stream = st;
    if (out)
        *out = st;
    return BW_OK;
}

enum MHD_Result http_stream_queue(struct http_request *req, const struct http_response *res)
{
    struct http_stream *st = res->stream;
    if (res->body->len && buf_append(&st->out, res->body->data, res->body->len) != BW_OK) {
        stream_free(st);
        return MHD_NO;
    }
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_read, st, stream_free);
    if (!r) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", res->content_type);
    for (size_t i = 0; i < res->nheaders; i++)
        MHD_add_response_header(r, res->header_names[i], res->header_values[i]);
    http_add_security_headers(r);
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)res->status, r);
    MHD_destroy_response(r); /* the connection holds it now; stream_free runs when it ends */
    return ret;
}

/* The ticker: sleeps until the earliest keepalive deadline of a parked stream (or until a
 * stream parks, when none was), resumes the streams that are due. */
static void *ticker_main(void *arg)
{
    struct http_server *srv = arg;
    int64_t ka = keepalive_ns(srv);
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        int64_t now = clock_mono_ns(), wake_at = INT64_MAX;
        for (struct http_stream *st = srv->streams; st; st = st->next) {
            if (!st->parked || st->resumed)
                continue;
            int64_t due = atomic_load_explicit(&st->last_ns, memory_order_relaxed) + ka;
            if (due <= now) {
                st->keepalive = 1;
                resume_locked(st);
            } else if (due < wake_at) {
                wake_at = due;
            }
        }
        if (wake_at == INT64_MAX) {
            srv->ticker_asleep = 1;
            pthread_cond_wait(&srv->cond, &srv->lock);
            srv->ticker_asleep = 0;
        } else {
            struct timespec ts = {.tv_sec = (time_t)(wake_at / 1000000000),
                                  .tv_nsec = (long)(wake_at % 1000000000)};
            pthread_cond_timedwait(&srv->cond, &srv->lock, &ts);
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

int http_streams_init(struct http_server *s)
{
    pthread_condattr_t ca;
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        return BW_ENOMEM;
    if (pthread_condattr_init(&ca) != 0) {
        pthread_mutex_destroy(&s->lock);
        return BW_ENOMEM;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* clock_mono_ns's clock */
    int rc = pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        pthread_mutex_destroy(&s->lock);
        return BW_ENOMEM;
    }
    return BW_OK;
}

int http_streams_start(struct http_server *s)
{
    if (pthread_create(&s->ticker, NULL, ticker_main, s) != 0)
        return BW_ENOMEM;
    s->ticker_running = 1;
    return BW_OK;
}

void http_streams_stop(struct http_server *s)
{
    pthread_mutex_lock(&s->lock);
    s->stopping = 1;
    for (struct http_stream *st = s->streams; st; st = st->next)
        resume_locked(st);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->ticker_running)
        pthread_join(s->ticker, NULL);
    s->ticker_running = 0;
    /* Each resumed stream's reader now runs once, sees `stopping` and ends its response;
     * libmicrohttpd may only be stopped once none is suspended. */
    int64_t deadline = clock_mono_ns() + STOP_WAIT_NS;
    pthread_mutex_lock(&s->lock);
    while (s->nparked > 0 && clock_mono_ns() < deadline) {
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000000000),
                              .tv_nsec = (long)(deadline % 1000000000)};
        pthread_cond_timedwait(&s->cond, &s->lock, &ts);
    }
    unsigned left = s->nparked;
    pthread_mutex_unlock(&s->lock);
    if (left)
        log_error("http: %u streams still suspended at shutdown", left);
}

void http_streams_fini(struct http_server *s)
{
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
}
