/* Tests for src/tsdb/openmetrics.c: a valid file of every common shape imported into an
 * in-memory tsdb (values, timestamps, labels, metadata, batches), then every error with its
 * line and column, each leaving the tsdb empty; a file overlapping what the tsdb holds;
 * validation alone; a missing file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tmpdir.h"
#include "tsdb/tsdb.h"

static const char *write_file(const char *dir, const char *text)
{
    static char path[256];
    tmpdir_join(path, sizeof(path), dir, "in.om");
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static const char valid[] =
    "# TYPE signals_generated counter\n"
    "# HELP signals_generated Signals the strategy generated.\n"
    "signals_generated_total{symbol=\"BTCUSDT\",side=\"buy\"} 0 1700000000.250\n"
    "signals_generated_total{symbol=\"BTCUSDT\",side=\"buy\"} 3 1700000015.5 # {trace_id=\"a\"} 1 "
    "1700000015.0\n"
    "signals_generated_total{side=\"sell\",symbol=\"BTCUSDT\"} 1 1700000000.250\n"
    "signals_generated_created{symbol=\"BTCUSDT\",side=\"buy\"} 1699999000 1700000000.250\n"
    "# TYPE process_cpu_usage gauge\n"
    "# UNIT process_cpu_usage usage\n"
    "process_cpu_usage 12.5 1700000000\n"
    "process_cpu_usage NaN 1700000001\n"
    "process_cpu_usage -Inf 1700000002\n"
    "# TYPE engine_cycle_time_seconds histogram\n"
    "# UNIT engine_cycle_time_seconds seconds\n"
    "# HELP engine_cycle_time_seconds Time of one cycle, \\\"quoted\\\" \\\\ and \\n.\n"
    "engine_cycle_time_seconds_bucket{le=\"0.005\"} 1 1700000000\n"
    "engine_cycle_time_seconds_bucket{le=\"1.0\"} 4 1700000000\n"
    "engine_cycle_time_seconds_bucket{le=\"+Inf\"} 5 1700000000\n"
    "engine_cycle_time_seconds_sum 7.25 1700000000\n"
    "engine_cycle_time_seconds_count 5 1700000000\n"
    "odd_labels{a=\"x\\\"y\",b=\"\",c=\"line\\nbreak\"} 1e3 1700000000.001\n"
    "# EOF\n";

static struct tsdb_series *select_one(struct tsdb *db, struct arena *a, const char *name,
                                      const char *label, const char *value)
{
    struct tsdb_matcher m[2];
    struct tsdb_series *out;
    struct diag d = {0};
    size_t nm = 1, n;
    assert_int_equal(tsdb_matcher_init(&m[0], TSDB_MATCH_EQ, LABEL_NAME, name, &d), BW_OK);
    if (label)
        assert_int_equal(tsdb_matcher_init(&m[nm++], TSDB_MATCH_EQ, label, value, &d), BW_OK);
    assert_int_equal(tsdb_select(db, m, nm, 0, INT64_MAX, 0, 0, a, &out, &n, &d), BW_OK);
    for (size_t i = 0; i < nm; i++)
        tsdb_matcher_fini(&m[i]);
    assert_int_equal(n, 1);
    return out;
}

static void test_valid(void **state)
{
    struct tsdb *db;
    struct diag d = {0};
    struct arena a;
    struct tsdb_import_stats st;
    struct tsdb_import_options o = {.batch_samples = 3};
    arena_init(&a, 0);
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    const char *path = write_file(*state, valid);
    assert_int_equal(tsdb_import_openmetrics(db, path, &o, &st, &d), BW_OK);
    assert_int_equal(st.samples, 13);
    assert_int_equal(st.series, 10);
    assert_int_equal(st.families, 4);
    assert_int_equal(st.lines, 21);
    assert_int_equal(st.min_time, 1700000000000);
    assert_int_equal(st.max_time, 1700000015500);

    struct tsdb_series *s = select_one(db, &a, "signals_generated_total", "side", "buy");
    assert_int_equal(s->n, 2);
    assert_int_equal(s->t[0], 1700000000250);
    assert_int_equal(s->t[1], 1700000015500);
    assert_true(s->v[0] == 0 && s->v[1] == 3);
    assert_string_equal(labelset_get(&s->labels, "symbol"), "BTCUSDT");
    s = select_one(db, &a, "process_cpu_usage", NULL, NULL);
    assert_int_equal(s->n, 3);
    assert_true(s->v[0] == 12.5 && s->v[1] != s->v[1] && !tsdb_is_stale(s->v[1]));
    assert_true(s->v[2] < 0 && s->v[2] * 0 != 0);
    s = select_one(db, &a, "engine_cycle_time_seconds_bucket", "le", "1.0");
    assert_true(s->v[0] == 4);
    s = select_one(db, &a, "odd_labels", NULL, NULL);
    assert_int_equal(s->labels.n, 3); /* __name__, a, c: b="" is no label */
    assert_string_equal(labelset_get(&s->labels, "a"), "x\"y");
    assert_string_equal(labelset_get(&s->labels, "c"), "line\nbreak");
    assert_int_equal(s->t[0], 1700000000001);
    assert_true(s->v[0] == 1000);

    struct tsdb_metadata *md;
    size_t nmd, found = 0;
    assert_int_equal(tsdb_metadata_list(db, &a, &md, &nmd), BW_OK);
    for (size_t i = 0; i < nmd; i++) {
        if (strcmp(md[i].family, "engine_cycle_time_seconds") == 0) {
            assert_string_equal(md[i].type, "histogram");
            assert_string_equal(md[i].unit, "seconds");
            assert_string_equal(md[i].help, "Time of one cycle, \"quoted\" \\ and \n.");
            found++;
        }
        if (strcmp(md[i].family, "signals_generated") == 0) {
            assert_string_equal(md[i].type, "counter");
            found++;
        }
        if (strcmp(md[i].family, "odd_labels") == 0) {
            assert_string_equal(md[i].type, "unknown");
            found++;
        }
    }
    assert_int_equal(found, 3);

    /* importing the same file again would overlap: refused at its first sample, and nothing
     * changes */
    memset(&d, 0, sizeof(d));
    assert_int_equal(tsdb_import_openmetrics(db, path, NULL, NULL, &d), BW_ERANGE);
    assert_int_equal(d.line, 3);
    assert_int_equal(d.col, 56);
    assert_non_null(strstr(d.msg, "already holds samples"));
    assert_int_equal(select_one(db, &a, "process_cpu_usage", NULL, NULL)->n, 3);
    tsdb_close(db);
    arena_fini(&a);
}

struct bad {
    const char *text;
    int line, col;
    const char *msg;
};

static const struct bad bad_files[] = {
    {"a 1 1\n", 2, 1, "missing # EOF"},
    {"a 1 1\n\n# EOF\n", 2, 1, "empty line"},
    {"a 1 1\r\n# EOF\n", 1, 6, "carriage return"},
    {"# a comment\n# EOF\n", 1, 1, "must be # TYPE, # HELP, # UNIT or # EOF"},
    {"# TYPE a counters\n# EOF\n", 1, 10, "unknown type"},
    {"# TYPE a\n# EOF\n", 1, 9, "expected a space"},
    {"# TYPE a counter\na 1 1\n# EOF\n", 2, 1,
     "a is not a sample of counter a (expected "
     "a_total, a_created)"},
    {"# TYPE h histogram\nh_total 1 1\n# EOF\n", 2, 1, "not a sample of histogram h"},
    {"a 1 1\n# TYPE a gauge\n# EOF\n", 2, 1, "after its samples"},
    {"# TYPE a gauge\n# TYPE a gauge\n# EOF\n", 2, 1, "second # TYPE"},
    {"# HELP a x\n# HELP a y\n# EOF\n", 2, 1, "second # HELP"},
    {"a 1 1\nb 1 1\na 2 2\n# EOF\n", 3, 1, "appears again"},
    {"a 1 2\na 1 1\n# EOF\n", 2, 5, "not after the previous sample"},
    {"a 1 2\na 2 2\n# EOF\n", 2, 5, "not after the previous sample"},
    {"a 1\n# EOF\n", 1, 3, "needs a timestamp"},
    {"a x 1\n# EOF\n", 1, 3, "expected a number"},
    {"a 0x10 1\n# EOF\n", 1, 3, "expected a number"},
    {"a 1 1 2\n# EOF\n", 1, 6, "unexpected text after the sample"},
    {"a 1 Inf\n# EOF\n", 1, 5, "timestamp out of range"},
    {"a{b=\"c} 1 1\n# EOF\n", 1, 12, "unterminated label value"},
    {"a{b=\"\\q\"} 1 1\n# EOF\n", 1, 6, "invalid escape"},
    {"a{b=\"1\",b=\"2\"} 1 1\n# EOF\n", 1, 9, "duplicate label name"},
    {"a{b=\"1\" c=\"2\"} 1 1\n# EOF\n", 1, 8, "expected ',' or '}'"},
    {"a{__x=\"1\"} 1 1\n# EOF\n", 1, 3, "reserved"},
    {"a{1b=\"1\"} 1 1\n# EOF\n", 1, 3, "expected a label name"},
    {"1a 1 1\n# EOF\n", 1, 1, "expected a metric name"},
    {"a  1 1\n# EOF\n", 1, 3, "expected a number"},
    {"# TYPE h histogram\nh_bucket 1 1\n# EOF\n", 2, 1, "needs an le label"},
    {"# TYPE h histogram\nh_bucket{le=\"x\"} 1 1\n# EOF\n", 2, 10, "is not a number"},
    {"# TYPE h histogram\nh_bucket{le=\"1\"} 1.5 1\n# EOF\n", 2, 18, "non-negative integer"},
    {"# TYPE h histogram\nh_count{le=\"1\"} 1 1\n# EOF\n", 2, 9, "le is only allowed"},
    {"# TYPE c counter\nc_total -1 1\n# EOF\n", 2, 9, "non-negative"},
    {"# TYPE c counter\nc_total NaN 1\n# EOF\n", 2, 9, "not NaN"},
    {"# TYPE s summary\ns 1 1\n# EOF\n", 2, 1, "needs a quantile"},
    {"# TYPE s summary\ns{quantile=\"2\"} 1 1\n# EOF\n", 2, 3, "from 0 to 1"},
    {"# TYPE i info\ni_info 2 1\n# EOF\n", 2, 8, "must be 1"},
    {"# TYPE a_seconds gauge\n# UNIT a_seconds bytes\n# EOF\n", 2, 18, "must end in _bytes"},
    {"# UNIT a b!\n# EOF\n", 1, 11, "invalid character in unit"},
    {"# EOF\na 1 1\n", 2, 1, "text after # EOF"},
    {"a 1 1 # {x=\"y\"} z\n# EOF\n", 1, 17, "exemplar's value"},
    {"a 1 1 # x\n# EOF\n", 1, 6, "unexpected text after the sample"},
    /* a long valid prefix, then an error: nothing of the prefix may be imported */
    {"# TYPE g gauge\ng 1 1\ng 2 2\ng 3 3\nh 1 1\nh 2 2\nh 3 3\ng 4 4\n# EOF\n", 8, 1,
     "appears again"},
};

static void test_errors(void **state)
{
    for (size_t i = 0; i < BW_ARRAY_LEN(bad_files); i++) {
        const struct bad *b = &bad_files[i];
        struct tsdb *db;
        struct diag d = {0};
        struct tsdb_stats st;
        assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
        const char *path = write_file(*state, b->text);
        int rc = tsdb_import_openmetrics(db, path, NULL, NULL, &d);
        if (rc != BW_EINVAL || d.line != b->line || d.col != b->col || !strstr(d.msg, b->msg))
            fail_msg("case %zu (%s): got %d at %d:%d: %s", i, b->msg, rc, d.line, d.col, d.msg);
        assert_string_equal(d.file, path);
        tsdb_stats_get(db, &st);
        assert_int_equal(st.series, 0);
        tsdb_close(db);
        /* validation alone finds the same */
        struct diag v = {0};
        assert_int_equal(tsdb_import_openmetrics(NULL, path, NULL, NULL, &v), BW_EINVAL);
        assert_string_equal(v.msg, d.msg);
    }
}

static void test_validate_only_and_missing(void **state)
{
    struct diag d = {0};
    struct tsdb_import_stats st;
    const char *path = write_file(*state, valid);
    assert_int_equal(tsdb_import_openmetrics(NULL, path, NULL, &st, &d), BW_OK);
    assert_int_equal(st.samples, 13);
    char missing[256];
    tmpdir_join(missing, sizeof(missing), *state, "nope.om");
    assert_int_equal(tsdb_import_openmetrics(NULL, missing, NULL, NULL, &d), BW_ENOENT);
    assert_non_null(strstr(d.msg, "cannot open"));
    assert_string_equal(d.file, missing);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_errors, tmpdir_setup, tmpdir_teardown),
        cmocka_unit_test_setup_teardown(test_validate_only_and_missing, tmpdir_setup,
                                        tmpdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
