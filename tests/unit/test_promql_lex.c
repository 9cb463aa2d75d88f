/* Tests for src/promql/lex.c: tokens and their positions in each lexer context, number and
 * string literal values (exact bits and bytes), durations, Go-style quoting and the canonical
 * number and duration text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "promql/promql.h"
#include "promql/parse_int.h"

/* Lexes q and checks the token kinds and start offsets (want ends with T_EOF or T_ERROR). */
static void expect_tokens(const char *q, const enum tok *kinds, const int *pos, size_t n)
{
    struct lexer l;
    lex_init(&l, q, strlen(q));
    for (size_t i = 0; i < n; i++) {
        struct token t;
        lex_next(&l, &t);
        if (t.t != kinds[i] || t.pos != pos[i])
            fail_msg("%s: token %zu is kind %d at %d, want %d at %d (%s)", q, i, t.t, t.pos,
                     kinds[i], pos[i], t.t == T_ERROR ? t.msg : "");
    }
}

#define TOKENS(q, ...)                                                                             \
    do {                                                                                           \
        static const struct {                                                                      \
            enum tok k;                                                                            \
            int pos;                                                                               \
        } want[] = {__VA_ARGS__};                                                                  \
        enum tok k[BW_ARRAY_LEN(want)];                                                            \
        int p[BW_ARRAY_LEN(want)];                                                                 \
        for (size_t i = 0; i < BW_ARRAY_LEN(want); i++)                                            \
            k[i] = want[i].k, p[i] = want[i].pos;                                                  \
        expect_tokens(q, k, p, BW_ARRAY_LEN(want));                                                \
    } while (0)

static void test_tokens(void **state)
{
    TOKENS("sum by(job) (rate(x[5m]))", {T_SUM, 0}, {T_BY, 4}, {T_LPAREN, 6}, {T_IDENT, 7},
           {T_RPAREN, 10}, {T_LPAREN, 12}, {T_IDENT, 13}, {T_LPAREN, 17}, {T_IDENT, 18},
           {T_LBRACKET, 19}, {T_DURATION, 20}, {T_RBRACKET, 22}, {T_RPAREN, 23}, {T_RPAREN, 24},
           {T_EOF, 25});
    /* inside braces keywords are label names and '=' is a matcher */
    TOKENS("on{by=\"a\",offset!~'b',x=~`c`,y!=\"\"}", {T_ON, 0}, {T_LBRACE, 2}, {T_IDENT, 3},
           {T_EQL, 5}, {T_STRING, 6}, {T_COMMA, 9}, {T_IDENT, 10}, {T_NEQ_REGEX, 16},
           {T_STRING, 18}, {T_COMMA, 21}, {T_IDENT, 22}, {T_EQL_REGEX, 23}, {T_STRING, 25},
           {T_COMMA, 28}, {T_IDENT, 29}, {T_NEQ, 30}, {T_STRING, 32}, {T_RBRACE, 34}, {T_EOF, 35});
    TOKENS("a==b!=c<d<=e>f>=g^h%i/j*k-l+m", {T_IDENT, 0}, {T_EQLC, 1}, {T_IDENT, 3}, {T_NEQ, 4},
           {T_IDENT, 6}, {T_LSS, 7}, {T_IDENT, 8}, {T_LTE, 9}, {T_IDENT, 11}, {T_GTR, 12},
           {T_IDENT, 13}, {T_GTE, 14}, {T_IDENT, 16}, {T_POW, 17}, {T_IDENT, 18}, {T_MOD, 19},
           {T_IDENT, 20}, {T_DIV, 21}, {T_IDENT, 22}, {T_MUL, 23}, {T_IDENT, 24}, {T_SUB, 25},
           {T_IDENT, 26}, {T_ADD, 27}, {T_IDENT, 28}, {T_EOF, 29});
    TOKENS("AND Or unless ATAN2 bool group_left GROUP_RIGHT ignoring without offset @ start end",
           {T_AND, 0}, {T_OR, 4}, {T_UNLESS, 7}, {T_ATAN2, 14}, {T_BOOL, 20}, {T_GROUP_LEFT, 25},
           {T_GROUP_RIGHT, 36}, {T_IGNORING, 48}, {T_WITHOUT, 57}, {T_OFFSET, 65}, {T_AT, 72},
           {T_START, 74}, {T_END, 80}, {T_EOF, 83});
    /* Inf and NaN in any case are numbers; words that merely start with them are not */
    TOKENS("Inf nAN Infoo NaN123 inf", {T_NUMBER, 0}, {T_NUMBER, 4}, {T_IDENT, 8}, {T_IDENT, 14},
           {T_NUMBER, 21}, {T_EOF, 24});
    TOKENS("a:b:c :x _1_2 x1", {T_METRIC_IDENT, 0}, {T_METRIC_IDENT, 6}, {T_IDENT, 9},
           {T_IDENT, 14}, {T_EOF, 16});
    TOKENS("x[ 5m : 1m ] [1h+2*(3m)]", {T_IDENT, 0}, {T_LBRACKET, 1}, {T_DURATION, 3}, {T_COLON, 6},
           {T_DURATION, 8}, {T_RBRACKET, 11}, {T_LBRACKET, 13}, {T_DURATION, 14}, {T_ADD, 16},
           {T_NUMBER, 17}, {T_MUL, 18}, {T_LPAREN, 19}, {T_DURATION, 20}, {T_RPAREN, 22},
           {T_RBRACKET, 23}, {T_EOF, 24});
    TOKENS("# comment\n x # another\n", {T_IDENT, 11}, {T_EOF, 23});
    TOKENS("\r\n\r", {T_EOF, 3});
    TOKENS("1 .5 5. 1e3 0x1F 1_000 5m 1h30m 2d1h 10ms 1y", {T_NUMBER, 0}, {T_NUMBER, 2},
           {T_NUMBER, 5}, {T_NUMBER, 8}, {T_NUMBER, 12}, {T_NUMBER, 17}, {T_DURATION, 23},
           {T_DURATION, 26}, {T_DURATION, 32}, {T_DURATION, 37}, {T_DURATION, 42}, {T_EOF, 44});
    /* after an error, the same error forever */
    TOKENS("x $ y", {T_IDENT, 0}, {T_ERROR, 2}, {T_ERROR, 2});
}

/* Number syntax exactly as Prometheus's lexer decides it. */
static void test_number_syntax(void **state)
{
    static const char *const good[] = {
        "1",        "4.23",   ".3", "5.", "0x123", "1.e2", "1e1_2_34", "0x1e5", "00_1_23_4.56_7_8",
        "0x1_2_34", "0X_1FFF"};
    static const char *const bad[] = {"1..2",
                                      "1.2.",
                                      "00_1_23__4.56_7_8",
                                      "00_1_23_4._56_7_8",
                                      "00_1_23_4_.56_7_8",
                                      "0x1_2__34",
                                      "0x1_2__34.5_6p1",
                                      "0x1_2__34.5_6",
                                      "1_e2",
                                      "1e.2",
                                      "1e+.2",
                                      "1ee2",
                                      "1e+e2",
                                      "1e",
                                      "1e+",
                                      "1e_1_2_34",
                                      "1e1_2__34",
                                      "1e+_1_2_34",
                                      "1e-_1_2_34",
                                      "12_",
                                      "0x1e",
                                      "5mm",
                                      "5m1",
                                      "0deadbeef"};
    for (size_t i = 0; i < BW_ARRAY_LEN(good); i++) {
        struct lexer l;
        struct token t;
        lex_init(&l, good[i], strlen(good[i]));
        lex_next(&l, &t);
        if (t.t != T_NUMBER || t.len != (int)strlen(good[i]))
            fail_msg("'%s' is not one number (kind %d)", good[i], t.t);
    }
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        struct lexer l;
        struct token t;
        lex_init(&l, bad[i], strlen(bad[i]));
        lex_next(&l, &t);
        if (t.t != T_ERROR || strncmp(t.msg, "bad number or duration syntax", 29) != 0)
            fail_msg("'%s' lexed as kind %d", bad[i], t.t);
    }
}

static uint64_t bits(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof(b));
    return b;
}

/* Number values, as Go's strconv reads them. */
static void test_number_value(void **state)
{
    static const struct {
        const char *s;
        double v;
    } cases[] = {
        {"1", 1},
        {"0.1", 0.1},
        {"12.34e6", 12340000},
        {"12.34e-6", 0.00001234},
        {".2", 0.2},
        {"2.", 2},
        {"0xc", 12},
        {"0X_1F", 31},
        {"0x1e5", 485},
        {"0755", 493},
        {"09", 9},
        {"0", 0},
        {"1_000_000", 1000000},
        {"00_1_23_4.56_7_8", 1234.5678},
        {"9007199254740993", 9007199254740992.0},
        {"1e308", 1e308},
        {"1e-400", 0},
        {"Inf", INFINITY},
        {"INF", INFINITY},
    };
    char msg[200];
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        double v = -1;
        assert_int_equal(promql_number_value(cases[i].s, strlen(cases[i].s), &v, msg, sizeof(msg)),
                         BW_OK);
        if (bits(v) != bits(cases[i].v))
            fail_msg("%s: got %.17g, want %.17g", cases[i].s, v, cases[i].v);
    }
    double v;
    assert_int_equal(promql_number_value("nan", 3, &v, msg, sizeof(msg)), BW_OK);
    assert_true(bits(v) == 0x7ff8000000000001ULL); /* Go's NaN, not a stale marker */
    assert_int_equal(promql_number_value("1e400", 5, &v, msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "error parsing number: strconv.ParseFloat: parsing \"1e400\": "
                             "value out of range");
    assert_int_equal(promql_number_value("0xFFFFFFFFFFFFFFFFF", 19, &v, msg, sizeof(msg)),
                     BW_EINVAL);
}

static void expect_unquote(const char *lit, const char *want, size_t want_len)
{
    struct arena a;
    arena_init(&a, 0);
    char *s;
    size_t n;
    assert_int_equal(promql_unquote(lit, strlen(lit), &a, &s, &n), BW_OK);
    assert_int_equal(n, want_len);
    assert_memory_equal(s, want, n);
    assert_int_equal(s[n], '\0');
    arena_fini(&a);
}

static void test_unquote(void **state)
{
    expect_unquote("\"plain\"", "plain", 5);
    expect_unquote("'single'", "single", 6);
    expect_unquote("\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", "\a\b\f\n\r\t\v\\\"", 9);
    expect_unquote("'\\''", "'", 1);
    expect_unquote("\"\\x41\\101\\u00e9\\U0001F600\"", "A\x41\xc3\xa9\xf0\x9f\x98\x80", 8);
    expect_unquote("\"a\\xc5z\"", "a\xc5z", 3); /* a byte, not a character */
    expect_unquote("\"\\377\"", "\xff", 1);
    expect_unquote("`raw \\n \\x`", "raw \\n \\x", 9);
    expect_unquote("`two\nlines`", "two\nlines", 9);
    expect_unquote("\"\"", "", 0);
    expect_unquote("\"é\"", "é", 2);
}

/* Lexer errors for strings: the message and the position of the opening quote. */
static void test_string_errors(void **state)
{
    static const struct {
        const char *q, *msg;
        int pos;
    } cases[] = {
        {"x + \"abc", "unterminated quoted string", 4},
        {"\"a\nb\"", "unterminated quoted string", 0},
        {"`abc", "unterminated raw string", 0},
        {"\"\\", "escape sequence not terminated", 0},
        {"\"\\x4", "escape sequence not terminated", 0},
        {"\"\\q\"", "unknown escape sequence U+0071 'q'", 0},
        {"\"\\'\"", "unknown escape sequence U+0027 '\\''", 0},
        {"\"\\xg0\"", "illegal character U+0067 'g' in escape sequence", 0},
        {"\"\\400\"", "escape sequence is an invalid Unicode code point", 0},
        {"\"\\U00110000\"", "escape sequence is an invalid Unicode code point", 0},
        {"\"\\udfff\"", "escape sequence is an invalid Unicode code point", 0},
        {"  \"\xc3\x28\"", "invalid UTF-8 rune", 2},
        {"\"\xed\xa0\x80\"", "invalid UTF-8 rune", 0}, /* an encoded surrogate */
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(cases); i++) {
        struct lexer l;
        struct token t;
        lex_init(&l, cases[i].q, strlen(cases[i].q));
        do
            lex_next(&l, &t);
        while (t.t != T_ERROR && t.t != T_EOF);
        assert_int_equal(t.t, T_ERROR);
        if (strcmp(t.msg, cases[i].msg) != 0 || t.pos != cases[i].pos)
            fail_msg("%s: '%s' at %d", cases[i].q, t.msg, t.pos);
    }
}

static void test_durations(void **state)
{
    static const struct {
        const char *s;
        int64_t ms;
    } good[] = {
        {"0", 0},
        {"0s", 0},
        {"5m", 300000},
        {"1h30m", 5400000},
        {"250ms", 250},
        {"1d", 86400000},
        {"1w", 604800000},
        {"1y", 31536000000},
        {"1y2w3d4h5m6s7ms",
         31536000000 + 2 * 604800000 + 3 * 86400000 + 4 * 3600000 + 5 * 60000 + 6 * 1000 + 7},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(good); i++) {
        int64_t ms = -1;
        assert_int_equal(promql_parse_duration(good[i].s, strlen(good[i].s), &ms), BW_OK);
        assert_int_equal(ms, good[i].ms);
    }
    static const struct {
        const char *s, *msg;
    } bad[] = {
        {"", "empty duration string"},
        {"5", "not a valid duration string: \"5\""},
        {"m", "not a valid duration string: \"m\""},
        {"1.5h", "unknown unit \".\" in duration \"1.5h\""},
        {"5m1h", "not a valid duration string: \"5m1h\""},
        {"5m5m", "not a valid duration string: \"5m5m\""},
        {"5hs", "unknown unit \"hs\" in duration \"5hs\""},
        {"-5m", "not a valid duration string: \"-5m\""},
        {"300y", "duration out of range"},
        {"99999999999999999999999s", "not a valid duration string: \"99999999999999999999999s\""},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(bad); i++) {
        int64_t ns = 7, ms = 7;
        char msg[200];
        assert_int_equal(promql_duration_ns(bad[i].s, strlen(bad[i].s), &ns, msg, sizeof(msg)),
                         BW_EINVAL);
        assert_string_equal(msg, bad[i].msg);
        assert_int_equal(promql_parse_duration(bad[i].s, strlen(bad[i].s), &ms), BW_EINVAL);
        assert_int_equal(ms, 7);
    }
}

static void expect_text(int (*fmt)(struct buf *, const void *), const void *v, const char *want)
{
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(fmt(&b, v), BW_OK);
    assert_string_equal(b.data, want);
    buf_fini(&b);
}

static int fmt_float(struct buf *b, const void *v)
{
    return promql_format_float(*(const double *)v, b);
}

static int fmt_duration(struct buf *b, const void *v)
{
    return promql_format_duration(*(const int64_t *)v, b);
}

static void test_canonical_text(void **state)
{
    static const struct {
        double v;
        const char *want;
    } floats[] = {
        {0, "0"},
        {1, "1"},
        {-2.5, "-2.5"},
        {0.1, "0.1"},
        {1e21, "1000000000000000000000"},
        {1.5e-7, "0.00000015"},
        {123456.789, "123456.789"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
        {1e-10, "0.0000000001"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(floats); i++)
        expect_text(fmt_float, &floats[i].v, floats[i].want);
    static const struct {
        int64_t ms;
        const char *want;
    } durations[] = {
        {0, "0s"},
        {1, "1ms"},
        {1500, "1s500ms"},
        {300000, "5m"},
        {5400000, "1h30m"},
        {86400000, "1d"},
        {90LL * 86400000, "90d"},
        {14LL * 86400000, "2w"},
        {365LL * 86400000, "1y"},
        {-60000, "-1m"},
    };
    for (size_t i = 0; i < BW_ARRAY_LEN(durations); i++)
        expect_text(fmt_duration, &durations[i].ms, durations[i].want);
}

static void test_quote(void **state)
{
    char out[64];
    promql_quote(out, sizeof(out),
                 "a\"b\\c\n\x01\xff"
                 "é",
                 10, 0);
    assert_string_equal(out, "\"a\\\"b\\\\c\\n\\x01\\xffé\"");
    promql_quote(out, sizeof(out), "abcdefghijkl", 12, 10);
    assert_string_equal(out, "\"abcdefghij\"");
    promql_quote(out, 8, "abcdefghijkl", 12, 0); /* truncated, still closed */
    assert_string_equal(out, "\"abcde\"");
    promql_quote_rune(out, sizeof(out), '\'');
    assert_string_equal(out, "'\\''");
    promql_quote_rune(out, sizeof(out), 0x7f);
    assert_string_equal(out, "'\\x7f'");
    promql_quote_rune(out, sizeof(out), 0xFFFFFFFFu);
    assert_string_equal(out, "'\xef\xbf\xbd'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),         cmocka_unit_test(test_number_syntax),
        cmocka_unit_test(test_number_value),   cmocka_unit_test(test_unquote),
        cmocka_unit_test(test_string_errors),  cmocka_unit_test(test_durations),
        cmocka_unit_test(test_canonical_text), cmocka_unit_test(test_quote),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
