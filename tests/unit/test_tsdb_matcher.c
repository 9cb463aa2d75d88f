/* Tests for src/tsdb/matcher.c: equality and regex matchers, anchored at both ends, `.`
 * matching newline, UTF-8 aware, the empty string standing for a missing label, compile errors
 * reported with their offset, and one matcher shared by several threads at once. */
#include <pthread.h>

#include "tsdb_test.h"

static bool match(enum tsdb_match_op op, const char *pattern, const char *value)
{
    struct tsdb_matcher m;
    test_matcher(&m, op, "l", pattern);
    bool r = tsdb_matcher_matches(&m, value);
    tsdb_matcher_fini(&m);
    return r;
}

static void test_equality(void **state)
{
    (void)state;
    assert_true(match(TSDB_MATCH_EQ, "a", "a"));
    assert_false(match(TSDB_MATCH_EQ, "a", "ab"));
    assert_true(match(TSDB_MATCH_EQ, "", ""));
    assert_true(match(TSDB_MATCH_NE, "a", ""));
    assert_false(match(TSDB_MATCH_NE, "a", "a"));
}

static void test_regex(void **state)
{
    (void)state;
    assert_true(match(TSDB_MATCH_RE, "a.c", "abc"));
    assert_false(match(TSDB_MATCH_RE, "a.c", "abcd")); /* anchored at the end */
    assert_false(match(TSDB_MATCH_RE, "b", "abc"));    /* and at the start */
    assert_true(match(TSDB_MATCH_RE, "a|b", "b"));     /* anchoring wraps the alternation */
    assert_false(match(TSDB_MATCH_RE, "a|b", "ab"));
    assert_true(match(TSDB_MATCH_RE, "a.c", "a\nc")); /* dot matches newline */
    assert_true(match(TSDB_MATCH_RE, "", ""));
    assert_true(match(TSDB_MATCH_RE, "x|", ""));
    assert_false(match(TSDB_MATCH_RE, ".+", ""));
    assert_true(match(TSDB_MATCH_RE, "caf.", "caf\xc3\xa9")); /* one character, two bytes */
    assert_true(match(TSDB_MATCH_RE, "(?i)PROD", "prod"));
    assert_true(match(TSDB_MATCH_RE, "[[:digit:]]+", "123"));
    assert_true(match(TSDB_MATCH_NRE, "a.*", "ba"));
    assert_false(match(TSDB_MATCH_NRE, "a.*", "abc"));
    assert_true(match(TSDB_MATCH_NRE, ".+", ""));
    /* Not UTF-8: no match, so !~ holds. */
    assert_false(match(TSDB_MATCH_RE, ".*", "\xff"));
    assert_true(match(TSDB_MATCH_NRE, ".*", "\xff"));
}

static void test_compile_error(void **state)
{
    (void)state;
    struct tsdb_matcher m;
    struct diag d = {0};
    assert_int_equal(tsdb_matcher_init(&m, TSDB_MATCH_RE, "l", "a(b", &d), BW_EINVAL);
    assert_non_null(strstr(d.msg, "error parsing regexp: "));
    assert_non_null(strstr(d.msg, "at offset 3"));
    assert_null(m.name);
    assert_null(m.re);
    tsdb_matcher_fini(&m); /* harmless after a failed init */
}

struct shared {
    struct tsdb_matcher m;
    int bad;
};

static void *spin(void *p)
{
    struct shared *s = p;
    for (int i = 0; i < 20000; i++)
        s->bad += !tsdb_matcher_matches(&s->m, "api-7") || tsdb_matcher_matches(&s->m, "db-7");
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    struct shared s = {.bad = 0};
    pthread_t th[4];
    test_matcher(&s.m, TSDB_MATCH_RE, "job", "api-[0-9]+");
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, spin, &s), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(s.bad, 0);
    tsdb_matcher_fini(&s.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equality),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_compile_error),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
