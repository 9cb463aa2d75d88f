/* Tests for src/alert/template.c: Go text/template syntax as rule files use it, Prometheus's
 * functions (expected strings worked out from the Go source's definitions: %.4g of the value
 * scaled to its SI prefix, and so on), Go's typing of values, and error messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "alert/rules.h"

static const struct label labels_v[] = {
    {"instance", "db-1.example.com:9100"}, {"job", "node"}, {"venue", "xnys"}};
static const struct labelset labels = {labels_v, 3};
static const struct label ext_v[] = {{"dc", "ams"}};
static const struct labelset ext = {ext_v, 1};

/* Expands text with $value = v; returns the output (static) and the code in *rc. */
static const char *expand_rc(const char *text, double v, int *rc)
{
    static char out[1024];
    struct tmpl_data d = {.labels = &labels,
                          .value = v,
                          .external_labels = &ext,
                          .external_url = "http://bw:8000",
                          .name = "__alert_X"};
    struct buf b;
    buf_init(&b, 0);
    *rc = tmpl_expand(text, &d, &b);
    snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    buf_fini(&b);
    return out;
}

static const char *expand(const char *text, double v)
{
    int rc;
    const char *s = expand_rc(text, v, &rc);
    if (rc != BW_OK)
        fail_msg("%s: %s", text, s);
    return s;
}

static void test_text_and_vars(void **state)
{
    assert_string_equal(expand("plain text", 0), "plain text");
    assert_string_equal(expand("{{ $labels.venue }} {{ .Labels.job }}", 0), "xnys node");
    assert_string_equal(expand("{{ $labels.missing }}|", 0), "|"); /* map zero value */
    assert_string_equal(expand("{{ $externalLabels.dc }} {{ $externalURL }}", 0),
                        "ams http://bw:8000");
    assert_string_equal(expand("{{ .ExternalURL }}", 0), "http://bw:8000");
    /* $value prints as Go's %v of a float64. */
    assert_string_equal(expand("{{ $value }}", 1234.5), "1234.5");
    assert_string_equal(expand("{{ $value }}", 1e6), "1e+06");
    assert_string_equal(expand("{{ .Value }}", 0.0001), "0.0001");
    assert_string_equal(expand("{{ $value }}", 123456), "123456");
    assert_string_equal(expand("a  {{- \" b \" -}}  c", 0), "a b c");
    assert_string_equal(expand("x {{/* a comment */}}y", 0), "x y");
    assert_string_equal(expand("x\n  {{- /* trimmed */ -}}\n  y", 0), "xy");
    assert_string_equal(expand("{{ $v := \"q\" }}{{ $v }}", 0), "q");
    assert_string_equal(expand("{{ index $labels \"job\" }}", 0), "node");
    assert_string_equal(expand("{{ len $labels }} {{ len \"abc\" }}", 0), "3 3");
    assert_string_equal(expand("{{ (index $labels \"job\") | toUpper }}", 0), "NODE");
    assert_string_equal(expand("{{ `raw \\n` }}", 0), "raw \\n");
    assert_string_equal(expand("{{ \"a\\tb\" }}", 0), "a\tb");
}

static void test_if(void **state)
{
    const char *t =
        "{{ if gt $value 10.0 }}big{{ else if gt $value 1.0 }}mid{{ else }}small{{ end }}";
    assert_string_equal(expand(t, 11), "big");
    assert_string_equal(expand(t, 5), "mid");
    assert_string_equal(expand(t, 0.5), "small");
    assert_string_equal(expand("{{ if $labels.job }}y{{ end }}", 0), "y");
    assert_string_equal(expand("{{ if $labels.nope }}y{{ else }}n{{ end }}", 0), "n");
    assert_string_equal(expand("{{ if and $value (eq $labels.job \"node\") }}y{{ end }}", 2), "y");
    assert_string_equal(expand("{{ if or 0 \"\" }}y{{ else }}n{{ end }}", 0), "n");
    assert_string_equal(expand("{{ if not $value }}zero{{ end }}", 0), "zero");
    assert_string_equal(expand("{{ with $labels.job }}[{{ . }}]{{ end }}", 0), "[node]");
    assert_string_equal(expand("{{ if lt 1 2 }}a{{ end }}{{ if ge \"b\" \"a\" }}b{{ end }}", 0),
                        "ab");
    assert_string_equal(expand("{{ if ne $labels.job \"x\" }}ne{{ end }}", 0), "ne");
}

static void test_humanize(void **state)
{
    /* humanize: divide by 1000 while |v| >= 1000 (or multiply while < 1), then %.4g. */
    assert_string_equal(expand("{{ humanize 1234567 }}", 0), "1.235M");
    assert_string_equal(expand("{{ humanize $value }}", 0.0012), "1.2m");
    assert_string_equal(expand("{{ humanize $value }}", 0), "0");
    assert_string_equal(expand("{{ humanize $value }}", 999), "999");
    assert_string_equal(expand("{{ humanize $value }}", -2500), "-2.5k");
    assert_string_equal(expand("{{ humanize \"2e9\" }}", 0), "2G");
    assert_string_equal(expand("{{ $value | humanize }}", 1.0 / 0.0), "+Inf");
    /* humanize1024: divide by 1024; |v| <= 1 stays as it is. */
    assert_string_equal(expand("{{ humanize1024 2048 }}", 0), "2ki");
    assert_string_equal(expand("{{ humanize1024 $value }}", 1073741824.0), "1Gi");
    assert_string_equal(expand("{{ humanize1024 $value }}", 0.5), "0.5");
    assert_string_equal(expand("{{ humanize1024 $value }}", 1000), "1000");
    /* humanizeDuration: d h m s with whole seconds past a minute, %.4g below. */
    assert_string_equal(expand("{{ humanizeDuration 90 }}", 0), "1m 30s");
    assert_string_equal(expand("{{ humanizeDuration $value }}", 93784), "1d 2h 3m 4s");
    assert_string_equal(expand("{{ humanizeDuration $value }}", 3600), "1h 0m 0s");
    assert_string_equal(expand("{{ humanizeDuration $value }}", 1.5), "1.5s");
    assert_string_equal(expand("{{ humanizeDuration $value }}", 0.0025), "2.5ms");
    assert_string_equal(expand("{{ humanizeDuration $value }}", 0), "0s");
    assert_string_equal(expand("{{ humanizeDuration $value }}", -90), "-1m 30s");
    /* humanizePercentage: %.4g of v*100. */
    assert_string_equal(expand("{{ humanizePercentage $value }}", 0.1234), "12.34%");
    assert_string_equal(expand("{{ humanizePercentage $value }}", 0.5), "50%");
    /* humanizeTimestamp: Go's time.Time String() in UTC at millisecond precision. */
    assert_string_equal(expand("{{ humanizeTimestamp $value }}", 1435065584.128),
                        "2015-06-23 13:19:44.128 +0000 UTC");
    assert_string_equal(expand("{{ humanizeTimestamp $value }}", 0),
                        "1970-01-01 00:00:00 +0000 UTC");
}

static void test_printf(void **state)
{
    assert_string_equal(expand("{{ printf \"%.2f\" $value }}", 3.14159), "3.14");
    assert_string_equal(expand("{{ printf \"%s=%d\" \"n\" 42 }}", 0), "n=42");
    assert_string_equal(expand("{{ printf \"%v %v\" $value \"s\" }}", 1e6), "1e+06 s");
    assert_string_equal(expand("{{ printf \"%g\" $value }}", 0.5), "0.5");
    assert_string_equal(expand("{{ printf \"%q\" $labels.job }}", 0), "\"node\"");
    assert_string_equal(expand("{{ printf \"%x\" 255 }} {{ printf \"%x\" \"AB\" }}", 0), "ff 4142");
    assert_string_equal(expand("{{ printf \"%5.1f|%-4d|\" $value 7 }}", 2.25), "  2.2|7   |");
    assert_string_equal(expand("{{ printf \"100%%\" }}", 0), "100%");
    /* Go's complaints for a wrong type, a missing and an extra argument. */
    assert_string_equal(expand("{{ printf \"%d\" $value }}", 1.5), "%!d(float64=1.5)");
    assert_string_equal(expand("{{ printf \"%s %s\" \"a\" }}", 0), "a %!s(MISSING)");
    assert_string_equal(expand("{{ printf \"x\" 1 }}", 0), "x%!(EXTRA int=1)");
    assert_string_equal(expand("{{ printf \"%.1f\" $value }}", 1.0 / 0.0), "+Inf");
}

static void test_string_functions(void **state)
{
    assert_string_equal(expand("{{ toUpper \"abc\" }} {{ toLower \"ABC\" }}", 0), "ABC abc");
    assert_string_equal(expand("{{ title \"hello big world\" }}", 0), "Hello Big World");
    assert_string_equal(expand("{{ reReplaceAll \"(a+)b\" \"<$1>\" \"xaab ab\" }}", 0),
                        "x<aa> <a>");
    assert_string_equal(expand("{{ reReplaceAll \":.*\" \"\" $labels.instance }}", 0),
                        "db-1.example.com");
    assert_string_equal(expand("{{ if match \"^db-\" $labels.instance }}db{{ end }}", 0), "db");
    assert_string_equal(expand("{{ stripPort $labels.instance }}", 0), "db-1.example.com");
    assert_string_equal(expand("{{ stripPort \"[::1]:80\" }} {{ stripPort \"host\" }}", 0),
                        "::1 host");
    assert_string_equal(expand("{{ stripDomain $labels.instance }}", 0), "db-1:9100");
    assert_string_equal(expand("{{ stripDomain \"10.0.0.1:80\" }} {{ stripDomain \"a.b\" }}", 0),
                        "10.0.0.1:80 a");
    assert_string_equal(expand("{{ urlQueryEscape \"a b&c=d/é\" }}", 0), "a+b%26c%3Dd%2F%C3%A9");
    assert_string_equal(expand("{{ parseDuration \"1m30s\" }} {{ parseDuration \"-250ms\" }}", 0),
                        "90 -0.25");
    assert_string_equal(expand("{{ print \"a\" 1 2 \"b\" }}", 0), "a1 2b");
}

static void test_check_errors(void **state)
{
    char msg[256];
    assert_int_equal(tmpl_check("__alert_X", "{{ $labels.x | humanize }}", msg, sizeof(msg)),
                     BW_OK);
    assert_int_equal(tmpl_check("__alert_X", "a\n{{ foo 1 }}", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:2: function \"foo\" not defined");
    assert_int_equal(tmpl_check("__alert_X", "{{ $nope }}", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:1: undefined variable \"$nope\"");
    assert_int_equal(tmpl_check("__alert_X", "{{ if 1 }}x", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:1: unexpected EOF");
    assert_int_equal(tmpl_check("__alert_X", "x{{ end }}", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:1: unexpected {{end}}");
    assert_int_equal(tmpl_check("__alert_X", "{{ $value ", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:1: unclosed action");
    assert_int_equal(tmpl_check("__alert_X", "{{ }}", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:1: missing value for command");
    assert_int_equal(tmpl_check("__alert_X", "{{ \"abc }}", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: __alert_X:1: unterminated quoted string");
    assert_int_equal(tmpl_check(NULL, "{{ query \"up\" }}", msg, sizeof(msg)), BW_EINVAL);
    assert_non_null(strstr(msg, "template: __alert:1: function \"query\" is not supported"));
    assert_int_equal(tmpl_check("n", "{{/* open", msg, sizeof(msg)), BW_EINVAL);
    assert_string_equal(msg, "template: n:1: unclosed comment");
    assert_int_equal(tmpl_check("n", "{{ (humanize 1 }}", msg, sizeof(msg)), BW_EINVAL);
    assert_int_equal(tmpl_check("n", "{{ if 1 }}{{ $x := 2 }}{{ end }}{{ $x }}", msg, sizeof(msg)),
                     BW_EINVAL);
    assert_string_equal(msg, "template: n:1: undefined variable \"$x\"");
}

static void test_expand_errors(void **state)
{
    int rc;
    /* Go refuses to compare a float64 with an int constant. */
    const char *s = expand_rc("{{ if gt $value 1 }}x{{ end }}", 2, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_string_equal(s, "<error expanding template: error executing template __alert_X: "
                           "template: __alert_X:1:118: executing \"__alert_X\" at <gt $value 1>: "
                           "error calling gt: incompatible types for comparison>");
    s = expand_rc("{{ humanize \"abc\" }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_non_null(strstr(s, "error calling humanize: strconv.ParseFloat: parsing \"abc\": "
                              "invalid syntax>"));
    s = expand_rc("{{ toUpper $value }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_non_null(strstr(s, "wrong type for value; expected string; got float64"));
    s = expand_rc("{{ nope }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_string_equal(s, "<error expanding template: error parsing template __alert_X: "
                           "template: __alert_X:1: function \"nope\" not defined>");
    s = expand_rc("{{ $labels.job.x }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_non_null(strstr(s, "can't evaluate field x in type string"));
}

/* Output caps: printf's width and precision stop at Go's parsenum limit (a number reaching
 * past 10^6 before its last digit is "%!(NOVERB)"), and an expansion or a printf longer than
 * 1 MiB is a template error — not out of memory, which would fail the whole rule. */
static void test_output_caps(void **state)
{
    int rc;
    const char *s = expand_rc("{{ printf \"%.9999999999999999999f\" 1.5 }}", 0, &rc);
    assert_int_equal(rc, BW_OK);
    assert_string_equal(s, "%!(NOVERB)%!(EXTRA float64=1.5)");
    s = expand_rc("{{ printf \"a%20000000db\" 5 }}", 0, &rc);
    assert_int_equal(rc, BW_OK);
    assert_string_equal(s, "a%!(NOVERB)%!(EXTRA int=5)");
    s = expand_rc("{{ printf \"%00000000000000000003d|%-0-3d|\" 7 8 }}", 0, &rc);
    assert_int_equal(rc, BW_OK); /* repeated flags are one flag; '-' wins over '0' */
    assert_string_equal(s, "007|8  |");

    s = expand_rc("{{ printf \"%2000000s\" \"x\" }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_string_equal(s, "<error expanding template: error executing template __alert_X: "
                           "template: __alert_X:1:115: executing \"__alert_X\" at <printf "
                           "\"%2000000s\" \"x\">: error calling printf: output longer than "
                           "1048576 bytes>");

    struct tmpl_data d = {.labels = &labels, .name = "__alert_X"};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(tmpl_expand("{{ printf \"%1000001d\" 5 }}", &d, &b), BW_OK);
    assert_int_equal(b.len, 1000001); /* under both caps: as Go pads it */
    assert_true(b.data[0] == ' ' && b.data[b.len - 1] == '5');
    buf_reset(&b);
    /* Two printfs that fit, together past the cap. */
    assert_int_equal(
        tmpl_expand("{{ printf \"%600000s\" \"x\" }}\n{{ printf \"%600000s\" \"y\" }}", &d, &b),
        BW_EINVAL);
    assert_string_equal(b.data, "<error expanding template: error executing template __alert_X: "
                                "template: __alert_X:2: output longer than 1048576 bytes>");
    buf_reset(&b);
    b.limit = 4096; /* the caller's smaller limit is the cap */
    assert_int_equal(
        tmpl_expand("{{ printf \"%3000s\" \"x\" }}{{ printf \"%3000s\" \"y\" }}", &d, &b),
        BW_EINVAL);
    assert_non_null(strstr(b.data, "output longer than 4096 bytes>"));
    buf_fini(&b);
}

/* Strings become numbers as Go's strconv.ParseFloat reads them. */
static void test_parse_float(void **state)
{
    int rc;
    assert_string_equal(expand("{{ humanize \"1_000\" }} {{ humanize \"0x1p10\" }}", 0),
                        "1k 1.024k");
    const char *s = expand_rc("{{ humanize \"0x10\" }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL); /* hexadecimal needs a 'p' exponent */
    assert_non_null(strstr(s, "strconv.ParseFloat: parsing \"0x10\": invalid syntax>"));
    s = expand_rc("{{ humanize \"-nan\" }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_non_null(strstr(s, "strconv.ParseFloat: parsing \"-nan\": invalid syntax>"));
    s = expand_rc("{{ humanize \"1e400\" }}", 0, &rc);
    assert_int_equal(rc, BW_EINVAL);
    assert_non_null(strstr(s, "strconv.ParseFloat: parsing \"1e400\": value out of range>"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_and_vars),    cmocka_unit_test(test_if),
        cmocka_unit_test(test_humanize),         cmocka_unit_test(test_printf),
        cmocka_unit_test(test_string_functions), cmocka_unit_test(test_check_errors),
        cmocka_unit_test(test_expand_errors),    cmocka_unit_test(test_output_caps),
        cmocka_unit_test(test_parse_float),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
