/* events: the journal's events for the page — GET /api/monitoring/events, a page at a time
 * newest first, and GET /api/monitoring/events/stream, every new one as Server-Sent Events.
 *
 * Main data structure: struct api_hub, one per process, subscribed to the journal's live bus.
 * It keeps the latest events (4096 by default) in a ring, each already written as its SSE
 * message, and the list of open streams (struct client: its filter and its cursor, the id of the
 * last event it has passed). The bus callback runs on the journal's writer thread and must not
 * block: it copies the event into the ring and wakes every stream; each stream's next() then sends,
 * from the ring, the events after its cursor that pass its filter.
 *
 * The design decision: a stream is either synced — every event after its cursor will reach
 * the ring, so the ring alone serves it — or catching up, reading the journal's store after
 * its cursor a page at a time. A new stream starts synced at the last stored id; a resume
 * (Last-Event-ID) or a stream the ring has overtaken (its cursor older than the last evicted
 * id) catches up. Catching up reads every event, not just the matching ones, so its cursor
 * moves through all ids, and a page shorter than asked proves there was nothing more when it
 * was read: anything later is committed later, hence published to the ring. Ids only grow
 * and each is passed once, so a stream sends every matching event exactly once, in id
 * order, across any mix of the two. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "journal/journal.h"

#define EVENTS_DEFAULT 100
#define LIST_MAX       64   /* values in a type or symbol list */
#define FILTER_TEXT    2048 /* bytes of a stream's filter strings */
#define HUB_RING       4096 /* recent events the hub keeps, by default */
#define CATCHUP_PAGE   500  /* events a catching-up stream reads at a time */
#define CATCHUP_PAGES  8    /* pages one next() reads at most while none match */

/* ---- filters ---- */

/* The filter parameters of a request, with copies of its strings: a stream keeps it. */
struct filter {
    struct journal_event_filter f;
    const char *types[LIST_MAX], *symbols[LIST_MAX];
    char text[FILTER_TEXT];
    size_t used;
};

/* A parameter's value; NULL when absent or empty (a form's blank field filters nothing). */
static const char *arg(const struct http_request *req, const char *name)
{
    const char *v = http_request_arg(req, name);
    return v && *v ? v : NULL;
}

/* A copy of s in p->text, NULL when it does not fit. */
static char *keep(struct filter *p, const char *s)
{
    size_t n = strlen(s) + 1;
    if (n > sizeof(p->text) - p->used)
        return NULL;
    char *copy = memcpy(p->text + p->used, s, n);
    p->used += n;
    return copy;
}

/* list = item *( "," item ) — the comma-separated parameter name, split into items (copies). */
static bool split(struct filter *p, const char *name, const char *value, const char **items,
                  size_t *n, struct http_response *res)
{
    char *s = value ? keep(p, value) : NULL;
    *n = 0;
    if (value && !s) {
        http_response_error(res, 400, "bad_data", "invalid parameter \"%s\": too long", name);
        return false;
    }
    for (char *item = s; item;) {
        char *comma = strchr(item, ',');
        if (comma)
            *comma = '\0';
        if (!*item || *n == LIST_MAX) {
            http_response_error(res, 400, "bad_data",
                                *item ? "invalid parameter \"%s\": more than 64 values"
                                      : "invalid parameter \"%s\": an empty value in the list",
                                name);
            return false;
        }
        items[(*n)++] = item;
        item = comma ? comma + 1 : NULL;
    }
    return true;
}

/* Reads session, type, severity, symbol and correlation_id into p: false with the 400 (or,
 * for an unknown session, 404) answered. */
static bool filter_parse(const struct api_ctx *ctx, const struct http_request *req,
                         struct http_response *res, struct filter *p)
{
    p->used = 0;
    p->f = (struct journal_event_filter){.types = p->types, .symbols = p->symbols};
    const char *session = arg(req, "session"), *corr = arg(req, "correlation_id");
    const char *severity = arg(req, "severity");
    if (!split(p, "type", arg(req, "type"), p->types, &p->f.ntypes, res) ||
        !split(p, "symbol", arg(req, "symbol"), p->symbols, &p->f.nsymbols, res))
        return false;
    if (severity) {
        int sev = severity_parse(severity);
        if (sev < 0) {
            http_response_error(res, 400, "bad_data",
                                "invalid parameter \"severity\": must be one of debug, info, "
                                "warning, error, critical");
            return false;
        }
        p->f.min_severity = (enum severity)sev;
    }
    char id[JOURNAL_ID_LEN];
    if (session && !api_mon_session_resolve(ctx, "session", session, id, res))
        return false;
    if (session && !(p->f.session_id = keep(p, id))) {
        http_response_error(res, 400, "bad_data", "invalid parameter \"session\": too long");
        return false;
    }
    if (corr && !(p->f.correlation_id = keep(p, corr))) {
        http_response_error(res, 400, "bad_data", "invalid parameter \"correlation_id\": too long");
        return false;
    }
    return true;
}

/* Appends ev as one SSE message: "id: N\nevent: event\ndata: {…}\n\n". BW_OK or the buf's
 * error, with out then as it was. */
static int sse_message(struct buf *out, const struct journal_event *ev)
{
    size_t mark = out->len;
    struct api_json w;
    int rc = buf_printf(out, "id: %" PRId64 "\nevent: event\ndata: ", ev->id);
    api_json_init(&w, out);
    if (rc == BW_OK) {
        api_json_event(&w, ev);
        rc = api_json_end(&w);
    }
    if (rc == BW_OK)
        rc = buf_puts(out, "\n\n");
    if (rc != BW_OK && out->data) {
        out->len = mark;
        out->data[mark] = '\0';
    }
    return rc;
}

/* ---- GET /api/monitoring/events ---- */

void api_mon_events(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct filter *p = NULL;
    struct journal_event_list l = {0};
    struct api_json w;
    size_t limit;
    int64_t before;
    if (!api_mon_journal(ctx, res) ||
        !api_mon_limit(req, res, EVENTS_DEFAULT, API_MON_LIMIT_MAX, &limit) ||
        !api_mon_id("before", "an event", arg(req, "before"), false, res, &before))
        return;
    p = malloc(sizeof(*p));
    if (!p) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    if (!filter_parse(ctx, req, res, p))
        goto out;
    /* One more than the page tells whether there is a next one. */
    struct journal_event_page page = {.before_id = before, .newest_first = 1, .limit = limit + 1};
    int rc = journal_events_query(ctx->journal, &p->f, &page, &l);
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
        goto out;
    }
    size_t n = l.n > limit ? limit : l.n;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_key(&w, "events");
    api_json_array(&w);
    for (size_t i = 0; i < n; i++)
        api_json_event(&w, &l.items[i]);
    api_json_array_end(&w);
    api_json_key(&w, "next");
    if (l.n > limit)
        api_json_int(&w, l.items[n - 1].id);
    else
        api_json_null(&w);
    api_json_object_end(&w);
    rc = api_json_end(&w);
    if (rc != BW_OK)
        http_response_error(res, 500, "internal", "writing the answer: %s", bw_strerror(rc));
out:
    journal_event_list_free(&l);
    free(p);
}

/* ---- the hub ---- */

/* An event in the ring: its fields (strings in data) and its SSE message. */
struct hub_event {
    struct journal_event ev;
    size_t sse_len;
    const char *sse;
    char data[];
};

struct client {
    struct api_hub *hub;
    struct http_stream *stream;
    struct client *prev, *next; /* hub->clients, under hub->lock */
    /* next()'s own: it runs on one thread at a time. */
    int64_t cursor; /* the last event id passed, sent or filtered out */
    bool synced;    /* every event after cursor reaches the ring unless evicted */
    struct filter filter;
};

struct api_hub {
    struct journal *journal;
    int sub;              /* the live bus subscription */
    struct buf scratch;   /* the writer thread's, for writing a message */
    pthread_mutex_t lock; /* guards everything below */
    struct hub_event **ring;
    size_t cap, head, n; /* the oldest at ring[head] */
    int64_t evicted;     /* the highest id that left the ring, or never entered it */
    struct client *clients;
};

static struct hub_event *ring_at(const struct api_hub *h, size_t i)
{
    return h->ring[(h->head + i) % h->cap];
}

/* The position in the ring of the first event after id (h->n when none). */
static size_t ring_after(const struct api_hub *h, int64_t id)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ring_at(h, mid)->ev.id <= id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A copy of ev with its message, or NULL when out of memory. scratch is the caller's. */
static struct hub_event *hub_event_new(const struct journal_event *ev, struct buf *scratch)
{
    buf_reset(scratch);
    if (sse_message(scratch, ev) != BW_OK)
        return NULL;
    const char *const strs[] = {ev->session_id,     ev->type,    ev->symbol,
                                ev->correlation_id, ev->message, ev->data_json};
    size_t size = scratch->len + 1;
    for (size_t i = 0; i < BW_ARRAY_LEN(strs); i++)
        size += strs[i] ? strlen(strs[i]) + 1 : 0;
    struct hub_event *he = malloc(sizeof(*he) + size);
    if (!he)
        return NULL;
    he->ev = *ev;
    const char **fields[] = {&he->ev.session_id,     &he->ev.type,    &he->ev.symbol,
                             &he->ev.correlation_id, &he->ev.message, &he->ev.data_json};
    char *p = he->data;
    for (size_t i = 0; i < BW_ARRAY_LEN(fields); i++) {
        if (!*fields[i])
            continue;
        size_t n = strlen(*fields[i]) + 1;
        *fields[i] = memcpy(p, *fields[i], n);
        p += n;
    }
    he->sse = memcpy(p, scratch->data, scratch->len + 1);
    he->sse_len = scratch->len;
    return he;
}

/* The live bus callback, on the journal's writer thread: into the ring, then wake every
 * stream. An event that cannot be kept counts as evicted, so that streams read it from the
 * store rather than skip it. */
static void hub_on_event(void *ud, const struct journal_event *ev)
{
    struct api_hub *h = ud;
    struct hub_event *he = hub_event_new(ev, &h->scratch);
    pthread_mutex_lock(&h->lock);
    if (!he) {
        log_warn("events: out of memory keeping event %" PRId64 " for the streams", ev->id);
        h->evicted = ev->id;
    } else {
        if (h->n == h->cap) {
            struct hub_event *old = h->ring[h->head];
            h->evicted = old->ev.id;
            free(old);
            h->head = (h->head + 1) % h->cap;
            h->n--;
        }
        h->ring[(h->head + h->n++) % h->cap] = he;
    }
    for (struct client *c = h->clients; c; c = c->next)
        http_stream_wake(c->stream);
    pthread_mutex_unlock(&h->lock);
}

int api_init(struct api_ctx *ctx)
{
    if (!ctx->journal || ctx->hub)
        return BW_OK;
    if (api_books_new(&ctx->books) != BW_OK)
        ctx->books = NULL; /* each request reads a session's checkpoints then */
    struct api_hub *h = calloc(1, sizeof(*h));
    size_t cap = ctx->stream_ring ? ctx->stream_ring : HUB_RING;
    if (h)
        h->ring = calloc(cap, sizeof(*h->ring));
    if (!h || !h->ring) {
        free(h);
        return BW_ENOMEM;
    }
    h->cap = cap;
    h->journal = ctx->journal;
    buf_init(&h->scratch, 0);
    pthread_mutex_init(&h->lock, NULL);
    h->sub = journal_subscribe(ctx->journal, hub_on_event, h);
    if (h->sub < 0) {
        int rc = h->sub;
        pthread_mutex_destroy(&h->lock);
        buf_fini(&h->scratch);
        free(h->ring);
        free(h);
        return rc;
    }
    ctx->hub = h;
    return BW_OK;
}

void api_fini(struct api_ctx *ctx)
{
    struct api_hub *h = ctx->hub;
    api_books_free(ctx->books);
    ctx->books = NULL;
    if (!h)
        return;
    journal_unsubscribe(h->journal, h->sub);
    for (size_t i = 0; i < h->n; i++)
        free(ring_at(h, i));
    pthread_mutex_destroy(&h->lock);
    buf_fini(&h->scratch);
    free(h->ring);
    free(h);
    ctx->hub = NULL;
}

/* ---- a stream ---- */

/* Catching up: the next page of stored events after the cursor. 1 (call again), -1 when the
 * journal cannot be read (the stream ends; the client resumes with Last-Event-ID). */
static int catch_up_page(struct client *c, struct buf *out)
{
    struct journal_event_list l;
    int rc = journal_events_list(c->hub->journal, NULL, c->cursor, CATCHUP_PAGE, &l);
    if (rc != BW_OK) {
        log_warn("events: a stream cannot read the journal: %s", bw_strerror(rc));
        return -1;
    }
    size_t i = 0;
    for (; i < l.n; i++) {
        if (journal_event_matches(&c->filter.f, &l.items[i]) &&
            sse_message(out, &l.items[i]) != BW_OK)
            break; /* out is full: this one goes first next time */
        c->cursor = l.items[i].id;
    }
    if (i == l.n && l.n < CATCHUP_PAGE)
        c->synced = true; /* nothing more was stored: the ring has the rest */
    journal_event_list_free(&l);
    return 1;
}

/* Catching up: pages until one has an event that passes the filter, the stream is synced, or
 * CATCHUP_PAGES pages were read. A next() that appends nothing is parked until a wake
 * (http_stream_ops), and no wake comes for events already stored: pages that hold nothing for
 * a narrow filter must not end the call empty. When CATCHUP_PAGES pages matched nothing, an
 * SSE comment goes out instead, so the serving thread is given back between stretches. */
static int catch_up(struct client *c, struct buf *out)
{
    for (int pages = 0; pages < CATCHUP_PAGES; pages++) {
        int r = catch_up_page(c, out);
        if (r < 0 || out->len || c->synced)
            return r;
    }
    return buf_puts(out, ": catching up\n\n") == BW_OK ? 1 : -1;
}

static int stream_next(void *ud, struct buf *out)
{
    struct client *c = ud;
    struct api_hub *h = c->hub;
    int more = 0;
    pthread_mutex_lock(&h->lock);
    if (c->synced && c->cursor < h->evicted)
        c->synced = false; /* the ring moved past us */
    if (!c->synced) {
        pthread_mutex_unlock(&h->lock);
        return catch_up(c, out);
    }
    for (size_t i = ring_after(h, c->cursor); i < h->n; i++) {
        const struct hub_event *he = ring_at(h, i);
        if (journal_event_matches(&c->filter.f, &he->ev) &&
            buf_append(out, he->sse, he->sse_len) != BW_OK) {
            more = 1; /* out is full */
            break;
        }
        c->cursor = he->ev.id;
    }
    pthread_mutex_unlock(&h->lock);
    return more;
}

static void stream_close(void *ud)
{
    struct client *c = ud;
    struct api_hub *h = c->hub;
    pthread_mutex_lock(&h->lock);
    if (c->prev)
        c->prev->next = c->next;
    else if (h->clients == c)
        h->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&h->lock);
    free(c);
}

/* The id of the newest stored event, 0 when there is none; BW_OK or the journal's error. */
static int last_id(struct journal *j, int64_t *out)
{
    struct journal_event_filter any = {0};
    struct journal_event_page page = {.newest_first = 1, .limit = 1};
    struct journal_event_list l;
    int rc = journal_events_query(j, &any, &page, &l);
    *out = rc == BW_OK && l.n ? l.items[0].id : 0;
    journal_event_list_free(&l);
    return rc;
}

void api_mon_events_stream(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    struct api_hub *h = ctx->hub;
    struct http_stream_ops ops = {stream_next, stream_close, NULL};
    int64_t resume = 0;
    /* A browser's EventSource sends Last-Event-ID when it reconnects, to the URL it first
     * used: the header is the newer of the two. */
    const char *header = http_request_header(req, "Last-Event-ID");
    bool from_header = header && *header;
    const char *given = from_header ? header : arg(req, "last_event_id");
    if (!api_mon_journal(ctx, res) || !api_mon_id(from_header ? "Last-Event-ID" : "last_event_id",
                                                  "an event", given, true, res, &resume))
        return;
    if (!h) {
        http_response_error(res, 503, "unavailable", "the event stream is not running");
        return;
    }
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        http_response_error(res, 500, "internal", "out of memory");
        return;
    }
    c->hub = h;
    if (!filter_parse(ctx, req, res, &c->filter))
        goto fail;
    if (given) {
        c->cursor = resume;
    } else {
        int rc = last_id(ctx->journal, &c->cursor);
        if (rc != BW_OK) {
            http_response_error(res, 500, "internal", "reading the journal: %s", bw_strerror(rc));
            goto fail;
        }
        c->synced = true;
    }
    res->content_type = "text/event-stream";
    http_response_header(res, "Cache-Control", "no-cache");
    http_response_header(res, "X-Accel-Buffering", "no"); /* through a proxy, unbuffered */
    buf_puts(res->body, "retry: 2000\n\n");
    ops.ud = c;
    if (http_response_stream(res, &ops, &c->stream) != BW_OK)
        goto fail; /* res holds the 503 */
    pthread_mutex_lock(&h->lock);
    c->next = h->clients;
    if (c->next)
        c->next->prev = c;
    h->clients = c;
    pthread_mutex_unlock(&h->lock);
    return;
fail:
    free(c);
}
