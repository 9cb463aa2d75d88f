/* Tests for src/store/store_alert.c: the alerting tables through the store's operations —
 * history rows round-trip with every field and page newest first by id, per fingerprint too
 * (fingerprints above 2^63 included); acknowledgments, silences and the notification log are
 * put, replaced, read back after reopening and deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"
#include "tmpdir.h"

static struct store *open_store(void **state)
{
    struct store *s;
    struct diag d = {0};
    assert_int_equal(store_open(*state, &s, &d), BW_OK);
    return s;
}

struct rows {
    int64_t ids[64];
    uint64_t fps[64];
    char text[64][200];
    int n;
};

static const char *nz(const char *s)
{
    return s ? s : "(null)";
}

static int take_history(void *ud, const struct store_alert_history_row *r)
{
    struct rows *w = ud;
    w->ids[w->n] = r->id;
    w->fps[w->n] = r->fingerprint;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%lld/%s/%s/%s/%s/%s/%s/%s/%s", (long long)r->at,
             r->kind, nz(r->alertname), nz(r->labels_json), nz(r->from), nz(r->to), nz(r->receiver),
             nz(r->outcome), nz(r->who));
    w->n++;
    return 0;
}

static void test_history(void **state)
{
    struct store *s = open_store(state);
    const uint64_t big = 0xfedcba9876543210ULL, small = 42;
    int64_t ids[6];
    for (int i = 0; i < 6; i++) {
        struct store_alert_history_row r = {
            .at = 1000 + i,
            .fingerprint = i % 2 ? big : small,
            .kind = i == 5 ? "notification" : "transition",
            .alertname = "A",
            .labels_json = "{\"alertname\":\"A\"}",
            .from = i == 5 ? NULL : "pending",
            .to = "firing",
            .receiver = i == 5 ? "ops" : NULL,
            .outcome = i == 5 ? "sent" : NULL,
        };
        assert_int_equal(store_alert_history_insert(s, &r, &ids[i]), BW_OK);
        if (i)
            assert_true(ids[i] > ids[i - 1]);
    }
    struct rows w = {0};
    assert_int_equal(store_alert_history_list(s, 0, 0, 0, take_history, &w), BW_OK);
    assert_int_equal(w.n, 6);
    for (int i = 0; i < 6; i++)
        assert_int_equal(w.ids[i], ids[5 - i]);
    assert_string_equal(w.text[0], "1005/notification/A/{\"alertname\":\"A\"}/(null)/firing/ops/"
                                   "sent/(null)");
    assert_string_equal(w.text[1],
                        "1004/transition/A/{\"alertname\":\"A\"}/pending/firing/(null)/(null)/"
                        "(null)");

    /* A page before an id, at most 2. */
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_alert_history_list(s, ids[4], 0, 2, take_history, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_int_equal(w.ids[0], ids[3]);
    assert_int_equal(w.ids[1], ids[2]);

    /* One fingerprint, the one with the top bit set. */
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_alert_history_list(s, 0, big, 0, take_history, &w), BW_OK);
    assert_int_equal(w.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(w.fps[i] == big);
        assert_int_equal(w.ids[i], ids[5 - 2 * i]);
    }
    store_close(s);
}

/* Pruning: rows older than a time, and all but the newest `keep`. */
static void test_history_prune(void **state)
{
    struct store *s = open_store(state);
    int64_t ids[10];
    for (int i = 0; i < 10; i++) {
        /* at: 100, 200, ..., but the last row is old again (a clock set back). */
        struct store_alert_history_row r = {.at = i == 9 ? 50 : 100 * (i + 1), .kind = "ack"};
        assert_int_equal(store_alert_history_insert(s, &r, &ids[i]), BW_OK);
    }
    int n = -1;
    /* Older than 250: rows at 100, 200 and the one at 50. */
    assert_int_equal(store_alert_history_prune(s, 250, 100, &n), BW_OK);
    assert_int_equal(n, 3);
    struct rows w = {0};
    assert_int_equal(store_alert_history_list(s, 0, 0, 0, take_history, &w), BW_OK);
    assert_int_equal(w.n, 7);
    assert_int_equal(w.ids[0], ids[8]);
    assert_int_equal(w.ids[6], ids[2]);
    /* At most 4 kept: the 4 newest by id. */
    assert_int_equal(store_alert_history_prune(s, 0, 4, &n), BW_OK);
    assert_int_equal(n, 3);
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_alert_history_list(s, 0, 0, 0, take_history, &w), BW_OK);
    assert_int_equal(w.n, 4);
    for (int i = 0; i < 4; i++)
        assert_int_equal(w.ids[i], ids[8 - i]);
    /* Fewer rows than the cap and none old: nothing. */
    assert_int_equal(store_alert_history_prune(s, 0, 4, &n), BW_OK);
    assert_int_equal(n, 0);
    store_close(s);
}

static int take_ack(void *ud, const struct store_alert_ack_row *r)
{
    struct rows *w = ud;
    w->fps[w->n] = r->fingerprint;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%lld/%lld/%s/%s", (long long)r->active_at,
             (long long)r->at, r->who, r->comment);
    w->n++;
    return 0;
}

static void test_acks(void **state)
{
    struct store *s = open_store(state);
    const uint64_t fp = 0x8000000000000001ULL;
    struct store_alert_ack_row a = {fp, 500, 600, "alice", "looking"};
    assert_int_equal(store_alert_ack_put(s, &a), BW_OK);
    a = (struct store_alert_ack_row){fp, 500, 700, "bob", ""};
    assert_int_equal(store_alert_ack_put(s, &a), BW_OK); /* replaces */
    a = (struct store_alert_ack_row){7, 100, 800, "carol", "x"};
    assert_int_equal(store_alert_ack_put(s, &a), BW_OK);
    store_close(s);

    s = open_store(state);
    struct rows w = {0};
    assert_int_equal(store_alert_acks_each(s, take_ack, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_true(w.fps[0] == fp);
    assert_string_equal(w.text[0], "500/700/bob/");
    assert_true(w.fps[1] == 7);
    assert_string_equal(w.text[1], "100/800/carol/x");
    assert_int_equal(store_alert_ack_delete(s, fp), BW_OK);
    assert_int_equal(store_alert_ack_delete(s, fp), BW_ENOENT);
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_alert_acks_each(s, take_ack, &w), BW_OK);
    assert_int_equal(w.n, 1);
    store_close(s);
}

static int take_silence(void *ud, const struct store_alert_silence_row *r)
{
    struct rows *w = ud;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%s/%s/%lld/%lld/%lld/%s/%s", r->id,
             r->matchers_json, (long long)r->starts_at, (long long)r->ends_at,
             (long long)r->updated_at, r->created_by, r->comment);
    w->n++;
    return 0;
}

static void test_silences(void **state)
{
    struct store *s = open_store(state);
    struct store_alert_silence_row r = {"s1", "[]", "alice", "maint", 100, 200, 50};
    assert_int_equal(store_alert_silence_put(s, &r), BW_OK);
    r = (struct store_alert_silence_row){"s2", "[1]", "bob", "", 100, 900, 60};
    assert_int_equal(store_alert_silence_put(s, &r), BW_OK);
    r = (struct store_alert_silence_row){"s1", "[2]", "alice", "maint", 100, 150, 70};
    assert_int_equal(store_alert_silence_put(s, &r), BW_OK); /* replaced: expired early */
    store_close(s);

    s = open_store(state);
    struct rows w = {0};
    assert_int_equal(store_alert_silences_each(s, take_silence, &w), BW_OK);
    assert_int_equal(w.n, 2);
    assert_string_equal(w.text[0], "s2/[1]/100/900/60/bob/");
    assert_string_equal(w.text[1], "s1/[2]/100/150/70/alice/maint");
    int n = -1;
    assert_int_equal(store_alert_silences_drop(s, 160, &n), BW_OK);
    assert_int_equal(n, 1);
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_alert_silences_each(s, take_silence, &w), BW_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.text[0], "s2/[1]/100/900/60/bob/");
    store_close(s);
}

static int take_nflog(void *ud, const struct store_alert_nflog_row *r)
{
    struct rows *w = ud;
    snprintf(w->text[w->n], sizeof(w->text[0]), "%s/%lld/%s/%s", r->key, (long long)r->sent_at,
             r->firing, r->resolved);
    w->n++;
    return 0;
}

static void test_nflog(void **state)
{
    struct store *s = open_store(state);
    struct store_alert_nflog_row r = {"ops/0/{}:{}", "a,b", NULL, 1000};
    assert_int_equal(store_alert_nflog_put(s, &r), BW_OK);
    r = (struct store_alert_nflog_row){"ops/0/{}:{}", "a", "b", 2000};
    assert_int_equal(store_alert_nflog_put(s, &r), BW_OK);
    store_close(s);

    s = open_store(state);
    struct rows w = {0};
    assert_int_equal(store_alert_nflog_each(s, take_nflog, &w), BW_OK);
    assert_int_equal(w.n, 1);
    assert_string_equal(w.text[0], "ops/0/{}:{}/2000/a/b");
    assert_int_equal(store_alert_nflog_delete(s, "ops/0/{}:{}"), BW_OK);
    assert_int_equal(store_alert_nflog_delete(s, "ops/0/{}:{}"), BW_ENOENT);
    memset(&w, 0, sizeof(w));
    assert_int_equal(store_alert_nflog_each(s, take_nflog, &w), BW_OK);
    assert_int_equal(w.n, 0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tmpdir_setup, tmpdir_teardown)
        T(test_history), T(test_history_prune), T(test_acks), T(test_silences), T(test_nflog),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
