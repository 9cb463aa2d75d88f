/* Tests for src/tsdb/query.c on an in-memory tsdb: selection by every matcher kind (a missing
 * label matching as ""), sorting by label set, sample ranges, limits, labels-only selection,
 * label names and values, metadata, and readers running beside the writer. */
#include <math.h>
#include <stdio.h>

#include "tsdb_test.h"

static struct tsdb *open_mem(void)
{
    struct tsdb *db;
    struct diag d = {0};
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    return db;
}

/* Three series of up with different labels, and one of another metric. */
static struct tsdb *fixture(void)
{
    struct tsdb *db = open_mem();
    struct test_ls a, b, c, e;
    const double v[] = {1, 2, 3, 4, 5};
    test_append(db, test_labels(&a, "__name__", "up", "job", "api", "env", "prod", NULL), 1000,
                1000, v, 5);
    test_append(db, test_labels(&b, "__name__", "up", "job", "api", "env", "dev", NULL), 1000, 1000,
                v, 3);
    test_append(db, test_labels(&c, "__name__", "up", "job", "db", NULL), 3000, 1000, v, 3);
    test_append(db, test_labels(&e, "__name__", "errors_total", "job", "db", NULL), 2000, 500, v,
                4);
    return db;
}

/* Selects with the matchers and returns "env/job" per series in order, comma-separated. */
static const char *select_names(struct tsdb *db, struct tsdb_matcher *m, size_t nm, char *out,
                                size_t outlen)
{
    struct arena a;
    struct tsdb_series *ss;
    size_t n;
    struct diag d = {0};
    arena_init(&a, 0);
    assert_int_equal(tsdb_select(db, m, nm, INT64_MIN, INT64_MAX, 0, 0, &a, &ss, &n, &d), BW_OK);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *env = labelset_get(&ss[i].labels, "env");
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s%s:%s/%s", i ? "," : "",
                 labelset_get(&ss[i].labels, "__name__"), env ? env : "-",
                 labelset_get(&ss[i].labels, "job"));
    }
    arena_fini(&a);
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_fini(&m[i]);
    return out;
}

static void test_select_matchers(void **state)
{
    (void)state;
    struct tsdb *db = fixture();
    struct tsdb_matcher m[3];
    char out[256];

    test_matcher(&m[0], TSDB_MATCH_EQ, "__name__", "up");
    assert_string_equal(select_names(db, m, 1, out, sizeof(out)), "up:dev/api,up:prod/api,up:-/db");

    test_matcher(&m[0], TSDB_MATCH_EQ, "__name__", "up");
    test_matcher(&m[1], TSDB_MATCH_NE, "env", "prod");
    assert_string_equal(select_names(db, m, 2, out, sizeof(out)), "up:dev/api,up:-/db");

    /* {env=~""} matches the series without env. */
    test_matcher(&m[0], TSDB_MATCH_EQ, "__name__", "up");
    test_matcher(&m[1], TSDB_MATCH_RE, "env", "");
    assert_string_equal(select_names(db, m, 2, out, sizeof(out)), "up:-/db");

    test_matcher(&m[0], TSDB_MATCH_RE, "env", "pro.|");
    test_matcher(&m[1], TSDB_MATCH_EQ, "job", "api");
    assert_string_equal(select_names(db, m, 2, out, sizeof(out)), "up:prod/api");

    /* Anchored: "pro" does not match "prod". */
    test_matcher(&m[0], TSDB_MATCH_RE, "env", "pro");
    assert_string_equal(select_names(db, m, 1, out, sizeof(out)), "");

    test_matcher(&m[0], TSDB_MATCH_NRE, "job", "a.*");
    assert_string_equal(select_names(db, m, 1, out, sizeof(out)), "errors_total:-/db,up:-/db");

    /* Only negative matchers: everything but what they refuse. */
    test_matcher(&m[0], TSDB_MATCH_NE, "env", "dev");
    assert_string_equal(select_names(db, m, 1, out, sizeof(out)),
                        "errors_total:-/db,up:prod/api,up:-/db");

    /* env="" selects the series without env; a label nobody has matches everything. */
    test_matcher(&m[0], TSDB_MATCH_EQ, "env", "");
    test_matcher(&m[1], TSDB_MATCH_NE, "nosuch", "x");
    assert_string_equal(select_names(db, m, 2, out, sizeof(out)), "errors_total:-/db,up:-/db");

    test_matcher(&m[0], TSDB_MATCH_EQ, "nosuch", "x");
    assert_string_equal(select_names(db, m, 1, out, sizeof(out)), "");

    test_matcher(&m[0], TSDB_MATCH_EQ, "__name__", "up");
    test_matcher(&m[1], TSDB_MATCH_NRE, "env", ".+");
    test_matcher(&m[2], TSDB_MATCH_EQ, "job", "db");
    assert_string_equal(select_names(db, m, 3, out, sizeof(out)), "up:-/db");
    tsdb_close(db);
}

static void test_select_samples(void **state)
{
    (void)state;
    struct tsdb *db = fixture();
    struct tsdb_matcher m;
    struct tsdb_series *ss;
    size_t n;
    struct arena a;
    struct diag d = {0};
    arena_init(&a, 0);
    test_matcher(&m, TSDB_MATCH_EQ, "job", "db");
    assert_int_equal(tsdb_select(db, &m, 1, 2500, 3000, 0, 0, &a, &ss, &n, &d), BW_OK);
    /* errors_total has 2500 and 3000; up{job="db"} starts at 3000. */
    assert_int_equal(n, 2);
    assert_string_equal(labelset_get(&ss[0].labels, "__name__"), "errors_total");
    assert_int_equal(ss[0].n, 2);
    assert_int_equal(ss[0].t[0], 2500);
    assert_true(ss[0].v[0] == 2.0);
    assert_int_equal(ss[0].t[1], 3000);
    assert_true(ss[0].v[1] == 3.0);
    assert_int_equal(ss[1].n, 1);
    assert_int_equal(ss[1].t[0], 3000);
    assert_true(ss[1].v[0] == 1.0);

    /* No sample in range: the series is left out. */
    assert_int_equal(tsdb_select(db, &m, 1, 6000, 9000, 0, 0, &a, &ss, &n, &d), BW_OK);
    assert_int_equal(n, 0);

    /* Over max_samples: 4 + 3. */
    assert_int_equal(tsdb_select(db, &m, 1, 0, 9000, 0, 6, &a, &ss, &n, &d), BW_ENOSPC);
    assert_non_null(strstr(d.msg, "6 samples"));
    assert_int_equal(tsdb_select(db, &m, 1, 0, 9000, 0, 7, &a, &ss, &n, &d), BW_OK);
    assert_int_equal(n, 2);

    /* Labels only: by span (errors_total ends at 3500), no samples. */
    assert_int_equal(
        tsdb_select(db, &m, 1, 3400, 3700, TSDB_SELECT_LABELS_ONLY, 0, &a, &ss, &n, &d), BW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(ss[0].n, 0);

    /* An arena over its limit. */
    struct arena small;
    arena_init(&small, 64);
    assert_int_equal(tsdb_select(db, &m, 1, 0, 9000, 0, 0, &small, &ss, &n, &d), BW_ENOSPC);
    arena_fini(&small);
    tsdb_matcher_fini(&m);
    arena_fini(&a);
    tsdb_close(db);
}

static void test_append_rules(void **state)
{
    (void)state;
    struct tsdb *db = open_mem();
    struct test_ls l;
    const struct labelset *ls = test_labels(&l, "__name__", "x", NULL);
    uint64_t ref = 0, ref2 = 0;
    struct tsdb_stats st;
    assert_int_equal(tsdb_append(db, ls, 100, 1.5, &ref), BW_OK);
    assert_int_equal(ref, 1);
    /* The ref skips the labels. */
    assert_int_equal(tsdb_append(db, NULL, 200, 2.5, &ref), BW_OK);
    assert_int_equal(tsdb_append(db, ls, 300, 3.5, &ref2), BW_OK);
    assert_int_equal(ref2, ref);
    /* Same timestamp and value: ignored; otherwise out of order. */
    assert_int_equal(tsdb_append(db, NULL, 300, 3.5, &ref), BW_OK);
    assert_int_equal(tsdb_append(db, NULL, 300, 4.0, &ref), BW_ERANGE);
    assert_int_equal(tsdb_append(db, NULL, 250, 1.0, &ref), BW_ERANGE);

    struct test_ls bad;
    uint64_t r = 0;
    assert_int_equal(tsdb_append(db, test_labels(&bad, "job", "x", NULL), 1, 1, &r), BW_EINVAL);
    assert_int_equal(tsdb_append(db, test_labels(&bad, "__name__", "1x", NULL), 1, 1, &r),
                     BW_EINVAL);
    assert_int_equal(
        tsdb_append(db, test_labels(&bad, "__name__", "a:b", "job", "", NULL), 1, 1, &r),
        BW_EINVAL);
    assert_int_equal(
        tsdb_append(db, test_labels(&bad, "__name__", "a", "j-b", "x", NULL), 1, 1, &r), BW_EINVAL);
    assert_int_equal(r, 0);
    assert_int_equal(
        tsdb_append(db, test_labels(&bad, "__name__", "a:b", "_j9", "x", NULL), 1, 1, &r), BW_OK);

    tsdb_stats_get(db, &st);
    assert_int_equal(st.series, 2);
    assert_int_equal(st.samples_appended, 4);
    assert_int_equal(st.out_of_order, 2);
    assert_int_equal(st.min_time, 1);
    assert_int_equal(st.max_time, 300);
    assert_int_equal(st.head_chunks, 2);
    assert_int_equal(tsdb_commit(db, NULL), BW_OK);
    tsdb_close(db);
}

/* 1000 samples cross several chunks and keep every value bit: stale markers, NaN, -0.0. */
static void test_many_samples(void **state)
{
    (void)state;
    struct tsdb *db = open_mem();
    struct test_ls l;
    const struct labelset *ls = test_labels(&l, "__name__", "g", NULL);
    uint64_t ref = 0;
    for (int i = 0; i < 1000; i++) {
        double v = i % 97 == 5 ? tsdb_stale_nan() : i % 50 == 7 ? -0.0 : i * 0.25;
        assert_int_equal(tsdb_append(db, ls, 15000LL * i + (i % 3), v, &ref), BW_OK);
    }
    struct tsdb_series *ss;
    size_t n;
    struct arena a;
    struct diag d = {0};
    struct tsdb_stats st;
    arena_init(&a, 0);
    assert_int_equal(
        tsdb_select(db, NULL, 0, 15000LL * 100, 15000LL * 899 + 2, 0, 0, &a, &ss, &n, &d), BW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(ss[0].n, 800);
    for (size_t k = 0; k < ss[0].n; k++) {
        int i = (int)k + 100;
        assert_int_equal(ss[0].t[k], 15000LL * i + (i % 3));
        if (i % 97 == 5)
            assert_true(tsdb_is_stale(ss[0].v[k]));
        else if (i % 50 == 7)
            assert_true(ss[0].v[k] == 0 && signbit(ss[0].v[k]));
        else
            assert_true(ss[0].v[k] == i * 0.25);
    }
    tsdb_stats_get(db, &st);
    assert_int_equal(st.head_chunks, 9); /* ceil(1000 / 120) */
    arena_fini(&a);
    tsdb_close(db);
}

static void test_label_names_values(void **state)
{
    (void)state;
    struct tsdb *db = fixture();
    struct arena a;
    const char **v;
    size_t n;
    struct diag d = {0};
    struct tsdb_matcher m;
    arena_init(&a, 0);
    assert_int_equal(tsdb_label_names(db, NULL, 0, INT64_MIN, INT64_MAX, &a, &v, &n, &d), BW_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "__name__");
    assert_string_equal(v[1], "env");
    assert_string_equal(v[2], "job");

    test_matcher(&m, TSDB_MATCH_EQ, "job", "db");
    assert_int_equal(tsdb_label_names(db, &m, 1, INT64_MIN, INT64_MAX, &a, &v, &n, &d), BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[1], "job");
    assert_int_equal(tsdb_label_values(db, "__name__", &m, 1, INT64_MIN, INT64_MAX, &a, &v, &n, &d),
                     BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "errors_total");
    assert_string_equal(v[1], "up");
    tsdb_matcher_fini(&m);

    assert_int_equal(tsdb_label_values(db, "job", NULL, 0, INT64_MIN, INT64_MAX, &a, &v, &n, &d),
                     BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0], "api");
    assert_string_equal(v[1], "db");
    /* By time: only up{env="prod"} has samples after 4500. */
    assert_int_equal(tsdb_label_values(db, "env", NULL, 0, 4500, 9000, &a, &v, &n, &d), BW_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0], "prod");
    assert_int_equal(tsdb_label_values(db, "nosuch", NULL, 0, INT64_MIN, INT64_MAX, &a, &v, &n, &d),
                     BW_OK);
    assert_int_equal(n, 0);
    arena_fini(&a);
    tsdb_close(db);
}

static void test_metadata(void **state)
{
    (void)state;
    struct tsdb *db = open_mem();
    struct arena a;
    struct tsdb_metadata *md;
    size_t n;
    arena_init(&a, 0);
    assert_int_equal(tsdb_metadata_set(db, "up", "gauge", "Whether up.", ""), BW_OK);
    assert_int_equal(tsdb_metadata_set(db, "errors", "counter", "Errors.", NULL), BW_OK);
    assert_int_equal(tsdb_metadata_set(db, "up", "gauge", "1 if up.", ""), BW_OK);
    assert_int_equal(tsdb_metadata_list(db, &a, &md, &n), BW_OK);
    assert_int_equal(n, 2);
    assert_string_equal(md[0].family, "errors");
    assert_string_equal(md[0].unit, "");
    assert_string_equal(md[1].family, "up");
    assert_string_equal(md[1].help, "1 if up.");
    arena_fini(&a);
    tsdb_close(db);
}

static void test_stale_nan(void **state)
{
    (void)state;
    double s = tsdb_stale_nan();
    uint64_t u;
    memcpy(&u, &s, sizeof(u));
    assert_true(u == TSDB_STALE_NAN_BITS);
    assert_true(isnan(s));
    assert_true(tsdb_is_stale(s));
    assert_false(tsdb_is_stale(NAN));
    assert_false(tsdb_is_stale(1.0));
}

/* Every selection is whole while the writer appends to the head. */
static void test_concurrent_readers(void **state)
{
    (void)state;
    struct tsdb *db = open_mem();
    test_race(db, 2000, 20, 10, false);
    tsdb_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select_matchers),    cmocka_unit_test(test_select_samples),
        cmocka_unit_test(test_append_rules),       cmocka_unit_test(test_many_samples),
        cmocka_unit_test(test_label_names_values), cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_stale_nan),          cmocka_unit_test(test_concurrent_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
