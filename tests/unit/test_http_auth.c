/* Tests for src/http/auth.c: roles, token hashing, the bearer check and its 401 and 403
 * answers, public routes, the principal handlers see, the access_token parameter of a
 * query_token route, and the request metrics of refused requests — over real loopback
 * sockets. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "http_test.h"

/* Answers who asked: {"name":...,"role":...}. */
static void who(void *ud, const struct http_request *req, struct http_response *res)
{
    enum http_role role;
    const char *name = http_request_principal(req, &role);
    buf_printf(res->body, "{\"name\":\"%s\",\"role\":\"%s\"}", name ? name : "(none)",
               http_role_name(role));
}

static const struct http_route routes[] = {
    {"GET", "/read", who, NULL, .role = HTTP_ROLE_VIEWER},
    {"POST", "/edit", who, NULL, .role = HTTP_ROLE_EDITOR},
    {"POST", "/admin", who, NULL, .role = HTTP_ROLE_ADMIN},
    {"GET", "/open", who, NULL, .role = HTTP_ROLE_PUBLIC},
    {"GET", "/stream", who, NULL, .role = HTTP_ROLE_VIEWER, .query_token = true},
};

static struct http_token tokens[3] = {
    {"alice", HTTP_ROLE_VIEWER, {0}},
    {"ed", HTTP_ROLE_EDITOR, {0}},
    {"root", HTTP_ROLE_ADMIN, {0}},
};

static int setup(void **state)
{
    static const char *const secrets[] = {"tok-viewer", "tok-editor", "tok-admin"};
    for (int i = 0; i < 3; i++)
        if (http_token_hash(secrets[i], strlen(secrets[i]), tokens[i].sha256) != BW_OK)
            return -1;
    return 0;
}

static struct http_server *start(bw_registry *reg, size_t ntokens)
{
    return test_http_start((struct http_config){.registry = reg,
                                                .routes = routes,
                                                .nroutes = BW_ARRAY_LEN(routes),
                                                .tokens = tokens,
                                                .ntokens = ntokens});
}

/* Sends method path with the Authorization header auth (NULL: none); returns the status and
 * leaves the response in resp. */
static int ask(int port, const char *method, const char *path, const char *auth, char *resp,
               size_t resplen)
{
    char req[1024];
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n%s%s%sContent-Length: 0\r\n\r\n", method, path,
             auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    test_http_roundtrip(port, req, resp, resplen);
    return test_http_status(resp);
}

#define UNAUTHORIZED(msg)                                                                          \
    "{\"status\":\"error\",\"errorType\":\"unauthorized\",\"error\":\"" msg "\"}"

static void test_roles_and_hash(void **state)
{
    enum http_role r;
    assert_string_equal(http_role_name(HTTP_ROLE_VIEWER), "viewer");
    assert_string_equal(http_role_name(HTTP_ROLE_EDITOR), "editor");
    assert_string_equal(http_role_name(HTTP_ROLE_ADMIN), "admin");
    assert_string_equal(http_role_name(HTTP_ROLE_PUBLIC), "public");
    assert_int_equal(http_role_parse("editor", &r), BW_OK);
    assert_int_equal(r, HTTP_ROLE_EDITOR);
    assert_int_equal(http_role_parse("public", &r), BW_EINVAL); /* not a token's role */
    assert_int_equal(http_role_parse("Admin", &r), BW_EINVAL);
    assert_true(HTTP_ROLE_VIEWER < HTTP_ROLE_EDITOR && HTTP_ROLE_EDITOR < HTTP_ROLE_ADMIN);
    /* FIPS 180-2's first example. */
    static const unsigned char abc[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea,
                                          0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
                                          0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
                                          0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
    unsigned char md[32];
    assert_int_equal(http_token_hash("abc", 3, md), BW_OK);
    assert_memory_equal(md, abc, 32);
}

static void test_auth_off(void **state)
{
    struct http_server *s = start(NULL, 0);
    int port = http_server_port(s);
    char resp[4096];
    /* Everything is open, and the principal is nobody with every right. */
    assert_int_equal(ask(port, "POST", "/admin", NULL, resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"(none)\",\"role\":\"admin\"}");
    /* A token is not even looked at. */
    assert_int_equal(ask(port, "GET", "/read", "Bearer nonsense", resp, sizeof(resp)), 200);
    assert_int_equal(ask(port, "GET", "/nope", NULL, resp, sizeof(resp)), 404);
    http_server_free(s);
}

static void test_unauthorized(void **state)
{
    bw_registry *reg = bw_registry_new(0);
    struct http_server *s = start(reg, 3);
    int port = http_server_port(s);
    char resp[4096];

    assert_int_equal(ask(port, "GET", "/read", NULL, resp, sizeof(resp)), 401);
    assert_non_null(strstr(resp, "\r\nWWW-Authenticate: Bearer realm=\"breakwatch\"\r\n"));
    assert_non_null(strstr(resp, "\r\nContent-Type: application/json\r\n"));
    assert_string_equal(test_http_body(resp),
                        UNAUTHORIZED("authentication required: send the header "
                                     "\\\"Authorization: Bearer TOKEN\\\""));

    static const char *const malformed[] = {"Basic YWxpY2U6c2VjcmV0",
                                            "Bearer",
                                            "Bearer ",
                                            "Bearertok-viewer",
                                            "Bearer tok viewer",
                                            "Bearer tok-viewer,x",
                                            "Token tok-viewer"};
    for (size_t i = 0; i < BW_ARRAY_LEN(malformed); i++) {
        assert_int_equal(ask(port, "GET", "/read", malformed[i], resp, sizeof(resp)), 401);
        assert_string_equal(test_http_body(resp), UNAUTHORIZED("malformed Authorization header: "
                                                               "expected \\\"Bearer TOKEN\\\""));
        assert_non_null(strstr(resp, "WWW-Authenticate: Bearer realm=\"breakwatch\""));
    }

    /* Unknown tokens, including a known one's hash and a near miss. */
    static const char *const unknown[] = {"Bearer tok-viewe", "Bearer tok-viewer2",
                                          "Bearer TOK-VIEWER", "Bearer tok-viewer=="};
    for (size_t i = 0; i < BW_ARRAY_LEN(unknown); i++) {
        assert_int_equal(ask(port, "GET", "/read", unknown[i], resp, sizeof(resp)), 401);
        assert_string_equal(test_http_body(resp), UNAUTHORIZED("invalid token"));
    }
    /* The refusal never repeats the token. */
    assert_null(strstr(resp, "tok-viewer"));

    /* Paths that do not exist are not told apart from ones that do without a token. */
    assert_int_equal(ask(port, "GET", "/nope", NULL, resp, sizeof(resp)), 401);
    assert_int_equal(ask(port, "DELETE", "/read", NULL, resp, sizeof(resp)), 401);
    /* A body is refused before it is read. */
    test_http_roundtrip(port, "POST /edit HTTP/1.0\r\nContent-Length: 100000000\r\n\r\n", resp,
                        sizeof(resp));
    assert_int_equal(test_http_status(resp), 401);
    http_server_free(s);

    test_http_exposed(reg, "http_requests_total{handler=\"/read\",method=\"GET\",code=\"401\"} 12",
                      "http_requests_total{handler=\"other\",method=\"GET\",code=\"401\"} 1", NULL);
    bw_registry_free(reg);
}

static void test_roles(void **state)
{
    bw_registry *reg = bw_registry_new(0);
    struct http_server *s = start(reg, 3);
    int port = http_server_port(s);
    char resp[4096];

    assert_int_equal(ask(port, "GET", "/read", "Bearer tok-viewer", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"alice\",\"role\":\"viewer\"}");
    /* The scheme's case and the spaces after it do not matter. */
    assert_int_equal(ask(port, "GET", "/read", "bearer   tok-editor", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"ed\",\"role\":\"editor\"}");

    /* Too low a role: 403, naming the role needed and the token's name and role. */
    assert_int_equal(ask(port, "POST", "/edit", "Bearer tok-viewer", resp, sizeof(resp)), 403);
    assert_null(strstr(resp, "WWW-Authenticate"));
    assert_string_equal(test_http_body(resp),
                        "{\"status\":\"error\",\"errorType\":\"forbidden\",\"error\":\"POST /edit "
                        "needs the editor role; token \\\"alice\\\" is a viewer\"}");
    assert_null(strstr(resp, "tok-viewer"));
    assert_int_equal(ask(port, "POST", "/admin", "Bearer tok-editor", resp, sizeof(resp)), 403);
    assert_non_null(
        strstr(test_http_body(resp), "needs the admin role; token \\\"ed\\\" is an editor"));

    /* Higher roles include the lower ones. */
    assert_int_equal(ask(port, "POST", "/edit", "Bearer tok-editor", resp, sizeof(resp)), 200);
    assert_int_equal(ask(port, "POST", "/edit", "Bearer tok-admin", resp, sizeof(resp)), 200);
    assert_int_equal(ask(port, "POST", "/admin", "Bearer tok-admin", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"root\",\"role\":\"admin\"}");
    assert_int_equal(ask(port, "GET", "/read", "Bearer tok-admin", resp, sizeof(resp)), 200);

    /* Public routes take no token and ignore a bad one. */
    assert_int_equal(ask(port, "GET", "/open", NULL, resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"(none)\",\"role\":\"public\"}");
    assert_int_equal(ask(port, "GET", "/open", "Bearer wrong", resp, sizeof(resp)), 200);

    /* With a valid token, unknown paths and methods are answered as usual. */
    assert_int_equal(ask(port, "GET", "/nope", "Bearer tok-viewer", resp, sizeof(resp)), 404);
    assert_int_equal(ask(port, "GET", "/edit", "Bearer tok-viewer", resp, sizeof(resp)), 405);
    http_server_free(s);

    test_http_exposed(reg, "http_requests_total{handler=\"/edit\",method=\"POST\",code=\"403\"} 1",
                      "http_requests_total{handler=\"/admin\",method=\"POST\",code=\"403\"} 1",
                      "http_requests_total{handler=\"/read\",method=\"GET\",code=\"200\"} 3", NULL);
    bw_registry_free(reg);
}

/* ?access_token= on the one route that takes it (query_token), the header first when both
 * are given; every other route ignores it. */
static void test_query_token(void **state)
{
    bw_registry *reg = bw_registry_new(0);
    struct http_server *s = start(reg, 3);
    int port = http_server_port(s);
    char resp[4096];

    assert_int_equal(ask(port, "GET", "/stream?access_token=tok-viewer", NULL, resp, sizeof(resp)),
                     200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"alice\",\"role\":\"viewer\"}");
    /* The header wins, even a bad one. */
    assert_int_equal(
        ask(port, "GET", "/stream?access_token=tok-admin", "Bearer tok-viewer", resp, sizeof(resp)),
        200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"alice\",\"role\":\"viewer\"}");
    assert_int_equal(
        ask(port, "GET", "/stream?access_token=tok-viewer", "Basic x", resp, sizeof(resp)), 401);
    assert_non_null(strstr(test_http_body(resp), "malformed Authorization header"));
    /* Unknown, not a token at all, empty, absent. */
    assert_int_equal(ask(port, "GET", "/stream?access_token=tok-viewerX", NULL, resp, sizeof(resp)),
                     401);
    assert_string_equal(test_http_body(resp), UNAUTHORIZED("invalid token"));
    assert_int_equal(
        ask(port, "GET", "/stream?access_token=tok%20viewer", NULL, resp, sizeof(resp)), 401);
    assert_string_equal(test_http_body(resp), UNAUTHORIZED("invalid token"));
    assert_null(strstr(resp, "tok viewer"));
    assert_int_equal(ask(port, "GET", "/stream?access_token=", NULL, resp, sizeof(resp)), 401);
    assert_string_equal(test_http_body(resp),
                        UNAUTHORIZED("authentication required: send the header "
                                     "\\\"Authorization: Bearer TOKEN\\\" or the parameter "
                                     "access_token=TOKEN"));
    assert_non_null(strstr(resp, "WWW-Authenticate: Bearer realm=\"breakwatch\""));
    /* Any other route ignores it. */
    assert_int_equal(ask(port, "GET", "/read?access_token=tok-viewer", NULL, resp, sizeof(resp)),
                     401);
    assert_string_equal(test_http_body(resp), UNAUTHORIZED("authentication required: send the "
                                                           "header \\\"Authorization: Bearer "
                                                           "TOKEN\\\""));
    assert_int_equal(ask(port, "POST", "/edit?access_token=tok-admin", NULL, resp, sizeof(resp)),
                     401);
    assert_int_equal(ask(port, "GET", "/open?access_token=tok-viewer", NULL, resp, sizeof(resp)),
                     200);
    assert_string_equal(test_http_body(resp), "{\"name\":\"(none)\",\"role\":\"public\"}");
    http_server_free(s);

    /* The metrics name the route's pattern: the token is nowhere in them. */
    char *page = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &page, &cap, &len), BW_OK);
    assert_null(strstr(page, "tok-"));
    free(page);
    test_http_exposed(reg, "http_requests_total{handler=\"/stream\",method=\"GET\",code=\"200\"} 2",
                      "http_requests_total{handler=\"/stream\",method=\"GET\",code=\"401\"} 4",
                      NULL);
    bw_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roles_and_hash), cmocka_unit_test(test_auth_off),
        cmocka_unit_test(test_unauthorized),   cmocka_unit_test(test_roles),
        cmocka_unit_test(test_query_token),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
