/* Tests for src/journal/journal.c: every field of sessions, checkpoints and events round-trips;
 * cursor paging returns exact ids, newest first too, and filtered reads agree with
 * journal_event_matches; sessions list newest first, or only the running ones; subscribers see
 * every event once, in id order, from many producer threads (more than the queue holds, so
 * producers are held back, never dropped); journal_flush, and a failed commit retried without loss;
 * a process killed with SIGKILL loses nothing it flushed and its session reads "crashed"; close and
 * reopen keep everything; bad arguments and an unusable data directory are refused clearly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "journal/journal.h"
#include "store/store.h"
#include "tmpdir.h"

/* The store the journal under test lives in: opened with it, closed with it. */
static struct store *primary;

static struct journal *open_journal(void **state)
{
    struct journal *j;
    struct diag d = {0};
    assert_int_equal(store_open(*state, &primary, &d), BW_OK);
    assert_int_equal(journal_open(primary, &j, &d), BW_OK);
    assert_non_null(j);
    return j;
}

static void close_journal(struct journal *j)
{
    journal_close(j);
    store_close(primary);
    primary = NULL;
}

static int64_t event(struct journal *j, const char *session, const char *type, int64_t ts)
{
    struct journal_event ev = {
        .ts_ms = ts, .session_id = session, .type = type, .severity = SEV_INFO};
    return journal_event(j, &ev);
}

static int64_t wall_ms(void)
{
    return clock_real_ns() / 1000000;
}

static void test_severity_names(void **state)
{
    (void)state;
    static const char *const names[] = {"debug", "info", "warning", "error", "critical"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(severity_name((enum severity)i), names[i]);
        assert_int_equal(severity_parse(names[i]), i);
    }
    assert_int_equal(severity_parse("warn"), -1);
    assert_int_equal(severity_parse("INFO"), -1);
    assert_int_equal(severity_parse(""), -1);
    assert_int_equal(severity_parse(NULL), -1);
    assert_string_equal(severity_name((enum severity)17), "unknown");
}

/* What journal_checkpoints_each handed over, as "id:name:correlation " items; it stops the
 * read with BW_ENOSPC once stop_after were seen (0: never). */
struct seen_checkpoints {
    char text[256];
    int n, stop_after;
};

static int see_checkpoint(void *ud, const struct journal_checkpoint_row *r)
{
    struct seen_checkpoints *s = ud;
    size_t len = strlen(s->text);
    snprintf(s->text + len, sizeof(s->text) - len, "%lld:%s:%s ", (long long)r->id, r->name,
             r->correlation_id ? r->correlation_id : "-");
    return ++s->n == s->stop_after ? BW_ENOSPC : 0;
}

static void test_round_trip(void **state)
{
    struct journal *j = open_journal(state);
    char id[JOURNAL_ID_LEN];
    int64_t before = wall_ms();
    assert_int_equal(journal_session_begin(j, "paper", "{\"seed\":7}", id), BW_OK);
    /* a version-4 UUID */
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[8], '-');
    assert_int_equal(id[13], '-');
    assert_int_equal(id[14], '4');
    assert_int_equal(id[18], '-');
    assert_non_null(strchr("89ab", id[19]));
    assert_int_equal(id[23], '-');

    struct journal_event full = {.id = 12345, /* ignored */
                                 .ts_ms = 1700000000123,
                                 .type = "fill",
                                 .severity = SEV_WARNING,
                                 .symbol = "BTCUSDT",
                                 .correlation_id = "corr-1",
                                 .message = "filled 0.5 BTCUSDT @ 42000",
                                 .data_json = "{\"qty\":0.5,\"px\":42000}"};
    assert_int_equal(journal_event(j, &full), 1);
    struct journal_event bare = {.ts_ms = 5, .type = "state_change", .severity = SEV_DEBUG};
    assert_int_equal(journal_event(j, &bare), 2);
    assert_int_equal(journal_checkpoint(j, "order_filled", "corr-1", "BTCUSDT", 1700000000200,
                                        "{\"slippage_bps\":1.5}"),
                     BW_OK);
    assert_int_equal(journal_checkpoint(j, "scan_done", NULL, NULL, 9, NULL), BW_OK);
    assert_int_equal(journal_session_end(j, id, "completed", "{\"trades\":1}"), BW_OK);
    assert_int_equal(journal_flush(j), BW_OK);
    int64_t after = wall_ms();

    struct journal_session s;
    assert_int_equal(journal_session_get(j, id, &s), BW_OK);
    assert_string_equal(s.id, id);
    assert_string_equal(s.mode, "paper");
    assert_string_equal(s.status, "completed");
    assert_string_equal(s.config_json, "{\"seed\":7}");
    assert_string_equal(s.summary_json, "{\"trades\":1}");
    assert_true(s.started_ms >= before && s.started_ms <= s.ended_ms && s.ended_ms <= after);
    journal_session_fini(&s);
    assert_null(s.config_json);

    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.items[0].id, 1);
    assert_int_equal(l.items[0].ts_ms, 1700000000123);
    assert_string_equal(l.items[0].session_id, id);
    assert_string_equal(l.items[0].type, "fill");
    assert_int_equal(l.items[0].severity, SEV_WARNING);
    assert_string_equal(l.items[0].symbol, "BTCUSDT");
    assert_string_equal(l.items[0].correlation_id, "corr-1");
    assert_string_equal(l.items[0].message, "filled 0.5 BTCUSDT @ 42000");
    assert_string_equal(l.items[0].data_json, "{\"qty\":0.5,\"px\":42000}");
    assert_int_equal(l.items[1].id, 2);
    assert_int_equal(l.items[1].ts_ms, 5);
    assert_string_equal(l.items[1].session_id, id);
    assert_string_equal(l.items[1].type, "state_change");
    assert_int_equal(l.items[1].severity, SEV_DEBUG);
    assert_null(l.items[1].symbol);
    assert_null(l.items[1].correlation_id);
    assert_null(l.items[1].message);
    assert_null(l.items[1].data_json);
    journal_event_list_free(&l);
    assert_null(l.items);
    journal_event_list_free(&l); /* twice is harmless */

    struct journal_checkpoint_list c;
    assert_int_equal(journal_checkpoints_list(j, id, &c), BW_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.items[0].id, 1);
    assert_int_equal(c.items[0].ts_ms, 1700000000200);
    assert_string_equal(c.items[0].session_id, id);
    assert_string_equal(c.items[0].name, "order_filled");
    assert_string_equal(c.items[0].correlation_id, "corr-1");
    assert_string_equal(c.items[0].symbol, "BTCUSDT");
    assert_string_equal(c.items[0].detail_json, "{\"slippage_bps\":1.5}");
    assert_int_equal(c.items[1].id, 2);
    assert_string_equal(c.items[1].name, "scan_done");
    assert_int_equal(c.items[1].ts_ms, 9);
    assert_null(c.items[1].correlation_id);
    assert_null(c.items[1].symbol);
    assert_null(c.items[1].detail_json);
    journal_checkpoint_list_free(&c);

    /* The same one at a time, from a cursor; fn's code stops the read and comes back. */
    struct seen_checkpoints seen = {0};
    assert_int_equal(journal_checkpoints_each(j, id, 0, 0, see_checkpoint, &seen), BW_OK);
    assert_string_equal(seen.text, "1:order_filled:corr-1 2:scan_done:- ");
    seen = (struct seen_checkpoints){0};
    assert_int_equal(journal_checkpoints_each(j, id, 1, 5, see_checkpoint, &seen), BW_OK);
    assert_string_equal(seen.text, "2:scan_done:- ");
    seen = (struct seen_checkpoints){.stop_after = 1};
    assert_int_equal(journal_checkpoints_each(j, NULL, 0, 0, see_checkpoint, &seen), BW_ENOSPC);
    assert_string_equal(seen.text, "1:order_filled:corr-1 ");
    close_journal(j);
}

static void test_cursor_paging_and_sessions(void **state)
{
    struct journal *j = open_journal(state);
    char a[JOURNAL_ID_LEN], b[JOURNAL_ID_LEN];
    assert_int_equal(journal_session_begin(j, "paper", NULL, a), BW_OK);
    assert_int_equal(journal_session_begin(j, "replay", NULL, b), BW_OK); /* now current */
    for (int i = 1; i <= 25; i++) /* odd ids to a (named), even ones to the current, b */
        assert_int_equal(event(j, i % 2 ? a : NULL, "tick", i), i);
    assert_int_equal(journal_flush(j), BW_OK);

    struct journal_event_list l;
    int64_t cursor = 0;
    size_t pages[] = {10, 10, 5, 0};
    for (size_t p = 0; p < BW_ARRAY_LEN(pages); p++) {
        assert_int_equal(journal_events_list(j, NULL, cursor, 10, &l), BW_OK);
        assert_int_equal(l.n, pages[p]);
        for (size_t i = 0; i < l.n; i++)
            assert_int_equal(l.items[i].id, cursor + 1 + (int64_t)i);
        if (l.n)
            cursor = l.items[l.n - 1].id;
        journal_event_list_free(&l);
    }

    assert_int_equal(journal_events_list(j, a, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 13);
    for (size_t i = 0; i < l.n; i++) {
        assert_int_equal(l.items[i].id, 1 + 2 * (int64_t)i);
        assert_string_equal(l.items[i].session_id, a);
    }
    journal_event_list_free(&l);
    assert_int_equal(journal_events_list(j, b, 10, 3, &l), BW_OK);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.items[0].id, 12);
    assert_int_equal(l.items[1].id, 14);
    assert_int_equal(l.items[2].id, 16);
    assert_string_equal(l.items[2].session_id, b);
    journal_event_list_free(&l);
    assert_int_equal(journal_events_list(j, "no-such-session", 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 0);
    journal_event_list_free(&l);

    /* Newest first. */
    char c[JOURNAL_ID_LEN];
    assert_int_equal(journal_session_begin(j, "paper", NULL, c), BW_OK);
    assert_int_equal(journal_flush(j), BW_OK);
    struct journal_session *s;
    size_t n;
    assert_int_equal(journal_sessions_list(j, 0, 0, &s, &n), BW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(s[0].id, c);
    assert_string_equal(s[1].id, b);
    assert_string_equal(s[1].mode, "replay");
    assert_string_equal(s[1].status, "running");
    assert_int_equal(s[1].ended_ms, 0);
    assert_null(s[1].config_json);
    assert_string_equal(s[2].id, a);
    journal_sessions_free(s, n);
    assert_int_equal(journal_sessions_list(j, 2, 0, &s, &n), BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].id, c);
    assert_string_equal(s[1].id, b);
    journal_sessions_free(s, n);
    /* Only the running ones. */
    assert_int_equal(journal_session_end(j, c, "completed", NULL), BW_OK);
    assert_int_equal(journal_flush(j), BW_OK);
    assert_int_equal(journal_sessions_list(j, 0, 1, &s, &n), BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(s[0].id, b);
    assert_string_equal(s[1].id, a);
    journal_sessions_free(s, n);
    close_journal(j);
}

/* Filtered reads: newest first with a `before` cursor, every filter, and journal_event_matches
 * agreeing with the store on every event for every filter. */
static void test_events_query(void **state)
{
    struct journal *j = open_journal(state);
    static const char *const types[] = {"signal", "order", "fill"};
    static const char *const symbols[] = {"BTCUSDT", "ETHUSDT", NULL};
    static const char *const corrs[] = {"t1", "t2", NULL, NULL};
    for (int i = 1; i <= 48; i++) {
        struct journal_event ev = {.ts_ms = i,
                                   .session_id = i % 2 ? "s1" : "s2",
                                   .type = types[i % 3],
                                   .severity = (enum severity)(i % 5),
                                   .symbol = symbols[i % 3 == 0 ? 2 : i % 2],
                                   .correlation_id = corrs[i % 4],
                                   .message = "m"};
        assert_int_equal(journal_event(j, &ev), i);
    }
    assert_int_equal(journal_flush(j), BW_OK);

    /* Pages of 10, newest first, each starting below the last id of the one before. */
    struct journal_event_filter all = {0};
    struct journal_event_page p = {.newest_first = 1, .limit = 10};
    struct journal_event_list l;
    int64_t expect = 48;
    for (int page = 0; page < 5; page++) {
        assert_int_equal(journal_events_query(j, &all, &p, &l), BW_OK);
        assert_int_equal(l.n, page < 4 ? 10 : 8);
        for (size_t i = 0; i < l.n; i++)
            assert_int_equal(l.items[i].id, expect--);
        p.before_id = l.items[l.n - 1].id;
        journal_event_list_free(&l);
    }
    assert_int_equal(expect, 0);

    static const char *const fill_order[] = {"fill", "order"}, *const eth[] = {"ETHUSDT"};
    const struct journal_event_filter filters[] = {
        {.session_id = "s1"},
        {.correlation_id = "t2"},
        {.types = fill_order, .ntypes = 2},
        {.types = fill_order, .ntypes = 1, .session_id = "s2"},
        {.symbols = eth, .nsymbols = 1},
        {.min_severity = SEV_WARNING},
        {.min_severity = SEV_CRITICAL, .session_id = "s1", .symbols = eth, .nsymbols = 1},
        {.session_id = "nobody"},
    };
    struct journal_event_list everything;
    assert_int_equal(journal_events_list(j, NULL, 0, 0, &everything), BW_OK);
    assert_int_equal(everything.n, 48);
    for (size_t f = 0; f < BW_ARRAY_LEN(filters); f++) {
        struct journal_event_page asc = {0};
        assert_int_equal(journal_events_query(j, &filters[f], &asc, &l), BW_OK);
        size_t k = 0, matched = 0;
        for (size_t i = 0; i < everything.n; i++) {
            if (!journal_event_matches(&filters[f], &everything.items[i]))
                continue;
            matched++;
            assert_true(k < l.n);
            assert_int_equal(l.items[k++].id, everything.items[i].id);
        }
        if (matched != l.n)
            fail_msg("filter %zu: the store returned %zu, the matcher took %zu", f, l.n, matched);
        assert_true(f == BW_ARRAY_LEN(filters) - 1 || matched > 0);
        journal_event_list_free(&l);
    }
    journal_event_list_free(&everything);
    struct journal_event_filter bad = {.min_severity = (enum severity)9};
    assert_int_equal(journal_events_query(j, &bad, &p, &l), BW_EINVAL);
    close_journal(j);
}

/* Without a current session, events and checkpoints belong to none; ending another session
 * than the current one leaves the current one current. */
static void test_current_session(void **state)
{
    struct journal *j = open_journal(state);
    char a[JOURNAL_ID_LEN], b[JOURNAL_ID_LEN];
    assert_int_equal(event(j, NULL, "boot", 1), 1);
    assert_int_equal(journal_checkpoint(j, "boot", NULL, NULL, 1, NULL), BW_OK);
    assert_int_equal(journal_session_begin(j, "paper", NULL, a), BW_OK);
    assert_int_equal(journal_session_begin(j, "paper", NULL, b), BW_OK);
    assert_int_equal(journal_session_end(j, a, "stopped", NULL), BW_OK); /* not current */
    assert_int_equal(event(j, NULL, "x", 2), 2);
    assert_int_equal(journal_session_end(j, b, "halted", NULL), BW_OK);
    assert_int_equal(event(j, NULL, "y", 3), 3);
    assert_int_equal(journal_flush(j), BW_OK);

    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 3);
    assert_null(l.items[0].session_id);
    assert_string_equal(l.items[1].session_id, b);
    assert_null(l.items[2].session_id);
    journal_event_list_free(&l);
    struct journal_checkpoint_list c;
    assert_int_equal(journal_checkpoints_list(j, NULL, &c), BW_OK);
    assert_int_equal(c.n, 1);
    assert_null(c.items[0].session_id);
    journal_checkpoint_list_free(&c);

    struct journal_session s;
    assert_int_equal(journal_session_get(j, a, &s), BW_OK);
    assert_string_equal(s.status, "stopped");
    journal_session_fini(&s);
    assert_int_equal(journal_session_get(j, b, &s), BW_OK);
    assert_string_equal(s.status, "halted");
    assert_true(s.ended_ms >= s.started_ms);
    journal_session_fini(&s);
    close_journal(j);
}

/* An event at JOURNAL_SESSION_NOW takes the session's time now: its latest event's or checkpoint's,
 * the wall clock while it has none. */
static void test_time_of_session(void **state)
{
    struct journal *j = open_journal(state);
    char a[JOURNAL_ID_LEN];
    int64_t sim = INT64_C(1900000000000); /* simulated time, well ahead of the wall clock */
    assert_int_equal(journal_session_begin(j, "paper", NULL, a), BW_OK);
    int64_t before = wall_ms();
    assert_int_equal(event(j, NULL, "alert", JOURNAL_SESSION_NOW), 1);
    int64_t after = wall_ms();
    assert_int_equal(event(j, NULL, "signal", sim), 2);
    assert_int_equal(journal_checkpoint(j, "fill", NULL, NULL, sim + 500, NULL), BW_OK);
    assert_int_equal(event(j, NULL, "alert", JOURNAL_SESSION_NOW), 3);
    assert_int_equal(event(j, NULL, "late", sim - 1000), 4); /* earlier: the session's stays */
    assert_int_equal(event(j, NULL, "alert", JOURNAL_SESSION_NOW), 5);
    assert_int_equal(journal_flush(j), BW_OK);

    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 5);
    assert_true(l.items[0].ts_ms >= before && l.items[0].ts_ms <= after);
    assert_int_equal(l.items[1].ts_ms, sim);
    assert_int_equal(l.items[2].ts_ms, sim + 500);
    assert_int_equal(l.items[3].ts_ms, sim - 1000);
    assert_int_equal(l.items[4].ts_ms, sim + 500);
    journal_event_list_free(&l);
    close_journal(j);
}

static void test_bad_arguments(void **state)
{
    struct journal *j = open_journal(state);
    char id[JOURNAL_ID_LEN];
    char long_id[JOURNAL_ID_LEN + 1];
    memset(long_id, 'x', JOURNAL_ID_LEN);
    long_id[JOURNAL_ID_LEN] = '\0';

    assert_int_equal(journal_session_begin(j, "", NULL, id), BW_EINVAL);
    assert_int_equal(journal_session_begin(j, NULL, NULL, id), BW_EINVAL);
    assert_int_equal(journal_session_begin(j, "sixteen-chars-xx", NULL, id), BW_EINVAL);
    assert_int_equal(journal_session_begin(j, "fifteen-chars-x", NULL, id), BW_OK);
    assert_int_equal(journal_session_end(j, id, "running", NULL), BW_EINVAL);
    assert_int_equal(journal_session_end(j, id, "finished", NULL), BW_EINVAL);
    assert_int_equal(journal_session_end(j, id, NULL, NULL), BW_EINVAL);
    assert_int_equal(journal_session_end(j, NULL, "completed", NULL), BW_EINVAL);
    assert_int_equal(journal_session_end(j, long_id, "completed", NULL), BW_EINVAL);
    assert_int_equal(journal_session_end(j, "not-a-session", "completed", NULL), BW_ENOENT);

    struct journal_event ev = {.type = "x", .severity = SEV_INFO};
    assert_int_equal(journal_event(j, NULL), BW_EINVAL);
    ev.type = NULL;
    assert_int_equal(journal_event(j, &ev), BW_EINVAL);
    ev.type = "";
    assert_int_equal(journal_event(j, &ev), BW_EINVAL);
    ev.type = "x";
    ev.severity = (enum severity)5;
    assert_int_equal(journal_event(j, &ev), BW_EINVAL);
    ev.severity = (enum severity) - 1;
    assert_int_equal(journal_event(j, &ev), BW_EINVAL);
    ev.severity = SEV_CRITICAL;
    ev.correlation_id = long_id;
    assert_int_equal(journal_event(j, &ev), BW_EINVAL);
    ev.correlation_id = NULL;
    ev.session_id = long_id;
    assert_int_equal(journal_event(j, &ev), BW_EINVAL);
    ev.session_id = NULL;
    assert_int_equal(journal_event(j, &ev), 1); /* refused ones used no id */

    assert_int_equal(journal_checkpoint(j, NULL, NULL, NULL, 0, NULL), BW_EINVAL);
    assert_int_equal(journal_checkpoint(j, "", NULL, NULL, 0, NULL), BW_EINVAL);
    assert_int_equal(journal_checkpoint(j, "x", long_id, NULL, 0, NULL), BW_EINVAL);

    assert_int_equal(journal_subscribe(j, NULL, NULL), BW_EINVAL);
    journal_unsubscribe(j, 4242); /* unknown: nothing */

    struct journal_session s;
    s.config_json = (char *)"garbage";
    assert_int_equal(journal_session_get(j, "nope", &s), BW_ENOENT);
    assert_null(s.config_json);
    assert_string_equal(s.id, "");
    assert_int_equal(journal_session_get(j, NULL, &s), BW_EINVAL);
    close_journal(j);
    journal_close(NULL);
}

/* ---- subscribers and producers ---- */

#define PRODUCERS  4
#define PER_THREAD 25000 /* 100k in all: more than the queue holds */

struct seen {
    int64_t *ids;
    int64_t *ts;
    char *thread; /* producer index, from the symbol "T<k>" */
    size_t n;
};

static void on_event(void *ud, const struct journal_event *ev)
{
    struct seen *s = ud;
    s->ids[s->n] = ev->id;
    s->ts[s->n] = ev->ts_ms;
    s->thread[s->n] = ev->symbol ? (char)(ev->symbol[1] - '0') : -1;
    s->n++;
}

static void seen_init(struct seen *s, size_t cap)
{
    s->ids = calloc(cap, sizeof(*s->ids));
    s->ts = calloc(cap, sizeof(*s->ts));
    s->thread = calloc(cap, 1);
    s->n = 0;
    assert_non_null(s->ids);
    assert_non_null(s->ts);
    assert_non_null(s->thread);
}

static void seen_fini(struct seen *s)
{
    free(s->ids);
    free(s->ts);
    free(s->thread);
}

struct producer {
    struct journal *j;
    int index;
    int64_t ids[PER_THREAD];
    int failures;
    bool slow; /* retry on BW_EBUSY */
    int busy;  /* BW_EBUSY answers retried */
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    char symbol[4] = {'T', (char)('0' + p->index), '\0', '\0'};
    for (int i = 0; i < PER_THREAD; i++) {
        struct journal_event ev = {.ts_ms = i,
                                   .type = "tick",
                                   .severity = SEV_INFO,
                                   .symbol = symbol,
                                   .message = "a tick"};
        p->ids[i] = journal_event(p->j, &ev);
        /* Under Valgrind (BW_VALGRIND set) a commit of a full queue can outlast the producers'
         * bounded wait: there BW_EBUSY is counted, then the event offered again. */
        while (p->ids[i] == BW_EBUSY && p->slow) {
            p->busy++;
            p->ids[i] = journal_event(p->j, &ev);
        }
        p->failures += p->ids[i] <= 0;
    }
    return NULL;
}

static void test_subscribers_many_producers(void **state)
{
    const size_t total = PRODUCERS * PER_THREAD;
    struct journal *j = open_journal(state);
    struct seen one, two;
    seen_init(&one, total + 1);
    seen_init(&two, total + 1);
    int sub1 = journal_subscribe(j, on_event, &one);
    int sub2 = journal_subscribe(j, on_event, &two);
    assert_true(sub1 > 0);
    assert_true(sub2 > 0 && sub2 != sub1);

    static struct producer producers[PRODUCERS];
    pthread_t threads[PRODUCERS];
    for (int t = 0; t < PRODUCERS; t++) {
        producers[t] = (struct producer){.j = j, .index = t, .slow = getenv("BW_VALGRIND") != NULL};
        assert_int_equal(pthread_create(&threads[t], NULL, produce, &producers[t]), 0);
    }
    int busy = 0;
    for (int t = 0; t < PRODUCERS; t++) {
        assert_int_equal(pthread_join(threads[t], NULL), 0);
        busy += producers[t].busy;
    }
    if (busy)
        printf("queue full beyond the bounded wait %d times (retried)\n", busy);
    assert_int_equal(journal_flush(j), BW_OK);

    /* Each producer got increasing ids; together exactly 1..total. */
    char *taken = calloc(total + 1, 1);
    assert_non_null(taken);
    for (int t = 0; t < PRODUCERS; t++) {
        assert_int_equal(producers[t].failures, 0);
        for (int i = 0; i < PER_THREAD; i++) {
            int64_t id = producers[t].ids[i];
            assert_true(id >= 1 && (size_t)id <= total);
            assert_false(taken[id]);
            taken[id] = 1;
            if (i)
                assert_true(id > producers[t].ids[i - 1]);
        }
    }
    free(taken);

    /* Both subscribers saw every event once, in id order, each producer's in its order. */
    struct seen *subs[] = {&one, &two};
    for (int k = 0; k < 2; k++) {
        struct seen *s = subs[k];
        int64_t next_ts[PRODUCERS] = {0};
        assert_int_equal(s->n, total);
        for (size_t i = 0; i < s->n; i++) {
            assert_int_equal(s->ids[i], (int64_t)i + 1);
            int t = s->thread[i];
            assert_true(t >= 0 && t < PRODUCERS);
            assert_int_equal(s->ts[i], next_ts[t]);
            next_ts[t]++;
        }
    }

    /* After unsubscribe, nothing more reaches that subscriber. */
    journal_unsubscribe(j, sub2);
    assert_int_equal(event(j, NULL, "last", 0), (int64_t)total + 1);
    assert_int_equal(journal_flush(j), BW_OK);
    assert_int_equal(one.n, total + 1);
    assert_int_equal(one.ids[total], (int64_t)total + 1);
    assert_int_equal(one.thread[total], -1);
    assert_int_equal(two.n, total);

    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, total + 1);
    assert_int_equal(l.items[0].id, 1);
    assert_int_equal(l.items[total].id, (int64_t)total + 1);
    journal_event_list_free(&l);
    close_journal(j);
    seen_fini(&one);
    seen_fini(&two);
}

static void test_flush(void **state)
{
    struct journal *j = open_journal(state);
    struct seen s;
    seen_init(&s, 1000);
    assert_int_equal(journal_flush(j), BW_OK); /* nothing queued: returns at once */
    journal_subscribe(j, on_event, &s);
    for (int round = 1; round <= 3; round++) {
        for (int i = 0; i < 100; i++)
            event(j, NULL, "e", i);
        assert_int_equal(journal_flush(j), BW_OK);
        /* Everything queued before the flush is committed and was handed to subscribers. */
        assert_int_equal(s.n, (size_t)round * 100);
        struct journal_event_list l;
        assert_int_equal(journal_events_list(j, NULL, 0, 0, &l), BW_OK);
        assert_int_equal(l.n, (size_t)round * 100);
        assert_int_equal(l.items[l.n - 1].id, round * 100);
        journal_event_list_free(&l);
    }

    /* Without a flush the writer commits on its own, within its linger (50 ms). */
    int64_t id = event(j, NULL, "unflushed", 0);
    struct journal_event_list l;
    for (int tries = 0; tries < 200; tries++) {
        assert_int_equal(journal_events_list(j, NULL, id - 1, 0, &l), BW_OK);
        size_t n = l.n;
        journal_event_list_free(&l);
        if (n == 1)
            break;
        usleep(10 * 1000);
    }
    assert_int_equal(journal_events_list(j, NULL, id - 1, 0, &l), BW_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.items[0].type, "unflushed");
    journal_event_list_free(&l);
    close_journal(j);
    assert_int_equal(s.n, 301);
    seen_fini(&s);
}

/* Another connection (say an operator's sqlite3 shell) holds the write lock past the busy
 * timeout (5 s): the commit fails,
 * flush and journal_error say so, and once the lock is released the writer's retry records
 * everything, which subscribers then see once, in order. */
static void test_failed_commit_is_retried(void **state)
{
    struct journal *j = open_journal(state);
    sqlite3 *other;
    char path[600];
    struct seen s;
    seen_init(&s, 100);
    journal_subscribe(j, on_event, &s);
    tmpdir_join(path, sizeof(path), *state, STORE_DB_NAME);
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    char err[512] = "x";
    assert_int_equal(journal_error(j, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    for (int i = 1; i <= 10; i++)
        assert_int_equal(event(j, NULL, "held", i), i);
    assert_int_equal(journal_flush(j), BW_EBUSY);
    assert_int_equal(s.n, 0);
    /* While it fails, journal_error names the file and says why. */
    assert_int_equal(journal_error(j, err, sizeof(err)), 1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "database is locked"));

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    assert_int_equal(event(j, NULL, "after", 11), 11);
    assert_int_equal(journal_flush(j), BW_OK);
    assert_int_equal(journal_error(j, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(s.n, 11);
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(s.ids[i], (int64_t)i + 1);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, NULL, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 11);
    assert_string_equal(l.items[9].type, "held");
    assert_string_equal(l.items[10].type, "after");
    journal_event_list_free(&l);
    close_journal(j);
    seen_fini(&s);
}

/* While commits fail, a full queue refuses at once instead of making the producer wait
 * (an engine thread must not stall for the length of a disk outage); once the lock goes,
 * everything accepted is recorded, and nothing refused took an id. */
static void test_full_queue_while_failing(void **state)
{
    struct journal *j = open_journal(state);
    sqlite3 *other;
    char path[600];
    tmpdir_join(path, sizeof(path), *state, STORE_DB_NAME);
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(event(j, NULL, "held", 1), 1);
    assert_int_equal(journal_flush(j), BW_EBUSY);

    int64_t accepted = 1, id = 0, refused_ms = -1;
    while (accepted < 100000) {
        int64_t t0 = wall_ms();
        id = event(j, NULL, "held", accepted + 1);
        if (id == BW_EBUSY) {
            refused_ms = wall_ms() - t0;
            break;
        }
        assert_int_equal(id, ++accepted);
    }
    assert_int_equal(id, BW_EBUSY);
    assert_true(accepted > 1000);
    assert_in_range(refused_ms, 0, 1000); /* a full queue with a working writer waits 2 s */

    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    char err[512];
    for (int i = 0; i < 500 && journal_error(j, err, sizeof(err)); i++)
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL); /* the writer's next retry */
    assert_int_equal(journal_error(j, err, sizeof(err)), 0);
    assert_int_equal(event(j, NULL, "after", 0), accepted + 1);
    assert_int_equal(journal_flush(j), BW_OK);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, NULL, accepted, 10, &l), BW_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, accepted + 1);
    assert_string_equal(l.items[0].type, "after");
    journal_event_list_free(&l);
    close_journal(j);
}

/* ---- durability ---- */

#define KILL_EVENTS      500
#define KILL_CHECKPOINTS 20

/* The child: records, flushes, says so, then keeps writing until it is killed. */
static void killed_child(const char *dir, int fd)
{
    struct journal *j;
    struct diag d = {0};
    char id[JOURNAL_ID_LEN];
    struct store *st;
    if (store_open(dir, &st, &d) != BW_OK || journal_open(st, &j, &d) != BW_OK ||
        journal_session_begin(j, "paper", "{}", id) != 0)
        _exit(1);
    for (int i = 1; i <= KILL_EVENTS; i++) {
        struct journal_event ev = {.ts_ms = i,
                                   .type = "signal",
                                   .severity = SEV_INFO,
                                   .symbol = "BTCUSDT",
                                   .message = "breakout"};
        if (journal_event(j, &ev) != i)
            _exit(1);
        if (i % (KILL_EVENTS / KILL_CHECKPOINTS) == 0 &&
            journal_checkpoint(j, "milestone", NULL, "BTCUSDT", i, "{}") != BW_OK)
            _exit(1);
    }
    if (journal_flush(j) != BW_OK || write(fd, id, sizeof(id)) != (ssize_t)sizeof(id))
        _exit(1);
    for (int64_t i = KILL_EVENTS + 1;; i++)
        event(j, NULL, "after_flush", i);
}

static void test_survives_kill9(void **state)
{
    int fds[2];
    char id[JOURNAL_ID_LEN];
    int status;
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        killed_child(*state, fds[1]);
    }
    close(fds[1]);
    ssize_t got = read(fds[0], id, sizeof(id));
    close(fds[0]);
    if (got == (ssize_t)sizeof(id))
        usleep(100 * 1000); /* let it commit more, unflushed, and be killed mid-stream */
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_int_equal(got, (ssize_t)sizeof(id));
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    int64_t reopened = wall_ms();
    struct journal *j = open_journal(state);
    struct journal_session s;
    assert_int_equal(journal_session_get(j, id, &s), BW_OK);
    assert_string_equal(s.status, "crashed");
    assert_true(s.ended_ms >= s.started_ms && s.ended_ms <= reopened);
    journal_session_fini(&s);

    /* Everything flushed is there; what came after is a gapless prefix of what was sent. */
    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, id, 0, 0, &l), BW_OK);
    size_t n = l.n;
    assert_true(n >= KILL_EVENTS);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(l.items[i].id, (int64_t)i + 1);
        assert_int_equal(l.items[i].ts_ms, (int64_t)i + 1);
        assert_string_equal(l.items[i].type, i < KILL_EVENTS ? "signal" : "after_flush");
    }
    assert_string_equal(l.items[KILL_EVENTS - 1].message, "breakout");
    assert_string_equal(l.items[KILL_EVENTS - 1].symbol, "BTCUSDT");
    journal_event_list_free(&l);
    struct journal_checkpoint_list c;
    assert_int_equal(journal_checkpoints_list(j, id, &c), BW_OK);
    assert_int_equal(c.n, KILL_CHECKPOINTS);
    assert_int_equal(c.items[KILL_CHECKPOINTS - 1].ts_ms, KILL_EVENTS);
    journal_checkpoint_list_free(&c);

    /* A new session; ids go on after the old ones. */
    char next[JOURNAL_ID_LEN];
    assert_int_equal(journal_session_begin(j, "paper", NULL, next), BW_OK);
    assert_string_not_equal(next, id);
    assert_int_equal(event(j, NULL, "fresh", 1), (int64_t)n + 1);
    assert_int_equal(journal_flush(j), BW_OK);
    assert_int_equal(journal_events_list(j, next, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.items[0].id, (int64_t)n + 1);
    journal_event_list_free(&l);
    close_journal(j);
}

static void test_restart_keeps_everything(void **state)
{
    char done[JOURNAL_ID_LEN], open_one[JOURNAL_ID_LEN];
    struct journal *j = open_journal(state);
    assert_int_equal(journal_session_begin(j, "replay", "{\"dir\":\"x\"}", done), BW_OK);
    for (int i = 1; i <= 30; i++)
        event(j, NULL, "e", i);
    assert_int_equal(journal_checkpoint(j, "end", NULL, NULL, 30, NULL), BW_OK);
    assert_int_equal(journal_session_end(j, done, "completed", "{\"pnl\":12.5}"), BW_OK);
    close_journal(j); /* no flush: close drains the queue */

    j = open_journal(state);
    struct journal_session s;
    assert_int_equal(journal_session_get(j, done, &s), BW_OK);
    assert_string_equal(s.status, "completed");
    assert_string_equal(s.mode, "replay");
    assert_string_equal(s.config_json, "{\"dir\":\"x\"}");
    assert_string_equal(s.summary_json, "{\"pnl\":12.5}");
    int64_t ended = s.ended_ms;
    assert_true(ended > 0);
    journal_session_fini(&s);
    struct journal_event_list l;
    assert_int_equal(journal_events_list(j, done, 0, 0, &l), BW_OK);
    assert_int_equal(l.n, 30);
    assert_int_equal(l.items[29].id, 30);
    journal_event_list_free(&l);

    /* A session left running at a clean close is not ended: the next open calls it crashed. */
    assert_int_equal(journal_session_begin(j, "paper", NULL, open_one), BW_OK);
    assert_int_equal(event(j, NULL, "e", 31), 31);
    close_journal(j);

    j = open_journal(state);
    assert_int_equal(journal_session_get(j, done, &s), BW_OK);
    assert_string_equal(s.status, "completed");
    assert_int_equal(s.ended_ms, ended);
    journal_session_fini(&s);
    assert_int_equal(journal_session_get(j, open_one, &s), BW_OK);
    assert_string_equal(s.status, "crashed");
    journal_session_fini(&s);
    struct journal_checkpoint_list c;
    assert_int_equal(journal_checkpoints_list(j, done, &c), BW_OK);
    assert_int_equal(c.n, 1);
    journal_checkpoint_list_free(&c);
    assert_int_equal(event(j, NULL, "e", 32), 32);
    close_journal(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
        cmocka_unit_test(test_severity_names),
        T(test_time_of_session),
        T(test_round_trip),
        T(test_cursor_paging_and_sessions),
        T(test_events_query),
        T(test_current_session),
        T(test_bad_arguments),
        T(test_subscribers_many_producers),
        T(test_flush),
        T(test_failed_commit_is_retried),
        T(test_full_queue_while_failing),
        T(test_survives_kill9),
        T(test_restart_keeps_everything),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
