/* Tests for src/http/static.c: the embedded files — exact paths, the page's own routes, 404,
 * gzip, ETag and 304, caching, HEAD, odd and traversing paths, the /api/ boundary, routes
 * first, no token needed — and the security headers on every kind of response. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/http.h"
#include "http_test.h"

#define INDEX "<!doctype html><title>breakwatch</title>"
#define APPJS "console.log('app')"

static const struct http_asset assets[] = {
    {"/index.html", "text/html; charset=utf-8", (const unsigned char *)INDEX, sizeof(INDEX) - 1,
     (const unsigned char *)"GZ-INDEX", 8, "\"1dx\""},
    {"/assets/app-3f2a.js", "text/javascript; charset=utf-8", (const unsigned char *)APPJS,
     sizeof(APPJS) - 1, NULL, 0, "\"a99\""},
    {"/favicon.ico", "image/x-icon", (const unsigned char *)"ICO", 3, NULL, 0, "\"f1\""},
};

static void hello(void *ud, const struct http_request *req, struct http_response *res)
{
    buf_puts(res->body, "{\"hello\":true}");
}

static const struct http_route routes[] = {
    {"GET", "/hello", hello, NULL, .role = HTTP_ROLE_VIEWER},
    {"GET", "/api/x", hello, NULL, .role = HTTP_ROLE_VIEWER},
};

static struct http_token token = {"alice", HTTP_ROLE_VIEWER, {0}};

static struct http_server *start(size_t ntokens)
{
    return test_http_start((struct http_config){.routes = routes,
                                                .nroutes = BW_ARRAY_LEN(routes),
                                                .tokens = &token,
                                                .ntokens = ntokens,
                                                .assets = assets,
                                                .nassets = BW_ARRAY_LEN(assets)});
}

/* GET path with extra header lines; returns the status. */
static int get(int port, const char *method, const char *path, const char *extra, char *resp,
               size_t resplen)
{
    char req[1024];
    snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n%s\r\n", method, path, extra);
    test_http_roundtrip(port, req, resp, resplen);
    return test_http_status(resp);
}

static void assert_security_headers(const char *resp)
{
    assert_string_equal(test_http_header(resp, "Content-Security-Policy"),
                        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' "
                        "data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
                        "form-action 'self'");
    assert_string_equal(test_http_header(resp, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(test_http_header(resp, "Referrer-Policy"), "no-referrer");
    assert_string_equal(test_http_header(resp, "X-Frame-Options"), "DENY");
}

static void test_files(void **state)
{
    struct http_server *s = start(0);
    int port = http_server_port(s);
    char resp[8192];

    /* The index, at "/" and at its own name. */
    static const char *const index_paths[] = {
        "/", "/index.html", "/dashboards", "/explore/", "/sessions/6f1c-22/flow", "/a.b/c"};
    for (size_t i = 0; i < BW_ARRAY_LEN(index_paths); i++) {
        assert_int_equal(get(port, "GET", index_paths[i], "", resp, sizeof(resp)), 200);
        assert_string_equal(test_http_body(resp), INDEX);
        assert_string_equal(test_http_header(resp, "Content-Type"), "text/html; charset=utf-8");
        assert_string_equal(test_http_header(resp, "Cache-Control"), "no-cache");
        assert_string_equal(test_http_header(resp, "ETag"), "\"1dx\"");
        assert_string_equal(test_http_header(resp, "Vary"), "Accept-Encoding");
        assert_string_equal(test_http_header(resp, "Content-Encoding"), "");
        assert_security_headers(resp);
    }

    /* A hashed asset: cached for good; no gzip copy, so no Vary. */
    assert_int_equal(
        get(port, "GET", "/assets/app-3f2a.js", "Accept-Encoding: gzip\r\n", resp, sizeof(resp)),
        200);
    assert_string_equal(test_http_body(resp), APPJS);
    assert_string_equal(test_http_header(resp, "Content-Type"), "text/javascript; charset=utf-8");
    assert_string_equal(test_http_header(resp, "Cache-Control"),
                        "public, max-age=31536000, immutable");
    assert_string_equal(test_http_header(resp, "Content-Encoding"), "");
    assert_string_equal(test_http_header(resp, "Vary"), "");
    assert_int_equal(get(port, "GET", "/favicon.ico", "", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "ICO");

    /* A file that does not exist is a 404, not the index. */
    static const char *const missing[] = {"/assets/app-0000.js", "/robots.txt", "/a/b.css"};
    for (size_t i = 0; i < BW_ARRAY_LEN(missing); i++) {
        assert_int_equal(get(port, "GET", missing[i], "", resp, sizeof(resp)), 404);
        assert_non_null(strstr(test_http_body(resp), "\"errorType\":\"not_found\""));
        assert_security_headers(resp);
    }

    /* HEAD: the headers, no body. */
    assert_int_equal(get(port, "HEAD", "/", "", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_header(resp, "Content-Length"), "40");
    assert_string_equal(test_http_body(resp), "");
    /* Other methods. */
    assert_int_equal(get(port, "POST", "/", "Content-Length: 0\r\n", resp, sizeof(resp)), 405);
    assert_string_equal(test_http_header(resp, "Allow"), "GET, HEAD");
    http_server_free(s);
}

static void test_gzip_and_etag(void **state)
{
    struct http_server *s = start(0);
    int port = http_server_port(s);
    char resp[8192];

    assert_int_equal(get(port, "GET", "/", "Accept-Encoding: br, gzip\r\n", resp, sizeof(resp)),
                     200);
    assert_string_equal(test_http_body(resp), "GZ-INDEX");
    assert_string_equal(test_http_header(resp, "Content-Encoding"), "gzip");
    assert_string_equal(test_http_header(resp, "ETag"), "\"1dx-gz\"");
    assert_string_equal(test_http_header(resp, "Vary"), "Accept-Encoding");
    assert_int_equal(get(port, "GET", "/", "Accept-Encoding: gzip;q=0, br\r\n", resp, sizeof(resp)),
                     200);
    assert_string_equal(test_http_body(resp), INDEX);

    /* If-None-Match: either representation's tag, weak or strong, or "*": 304, no body. */
    static const char *const match[] = {"\"1dx\"", "W/\"1dx\"", "\"zz\", \"1dx-gz\"", "*"};
    for (size_t i = 0; i < BW_ARRAY_LEN(match); i++) {
        char extra[128];
        snprintf(extra, sizeof(extra), "If-None-Match: %s\r\n", match[i]);
        assert_int_equal(get(port, "GET", "/dashboards", extra, resp, sizeof(resp)), 304);
        assert_string_equal(test_http_body(resp), "");
        assert_string_equal(test_http_header(resp, "ETag"), "\"1dx\"");
        assert_string_equal(test_http_header(resp, "Cache-Control"), "no-cache");
    }
    assert_int_equal(get(port, "GET", "/", "If-None-Match: \"1dx\"\r\nAccept-Encoding: gzip\r\n",
                         resp, sizeof(resp)),
                     304);
    assert_string_equal(test_http_header(resp, "ETag"), "\"1dx-gz\"");
    assert_int_equal(
        get(port, "GET", "/", "If-None-Match: \"1d\", \"1dxx\"\r\n", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), INDEX);
    assert_int_equal(
        get(port, "GET", "/assets/app-3f2a.js", "If-None-Match: \"a99\"\r\n", resp, sizeof(resp)),
        304);
    http_server_free(s);
}

static void test_paths(void **state)
{
    struct http_server *s = start(0);
    int port = http_server_port(s);
    char resp[8192];

    /* Traversal and odd paths: refused, never looked up. */
    static const char *const odd[] = {"/../etc/passwd",   "/assets/../index.html",
                                      "/assets/%2e%2e/x", "/./index.html",
                                      "//index.html",     "/assets//app-3f2a.js",
                                      "/a%5cb",           "/a%00b",
                                      "/a%0ab",           "/caf%c3%a9"};
    for (size_t i = 0; i < BW_ARRAY_LEN(odd); i++) {
        int st = get(port, "GET", odd[i], "", resp, sizeof(resp));
        assert_true(st == 400 || st == 404);
        assert_null(strstr(resp, INDEX));
    }
    assert_int_equal(get(port, "GET", "/assets/../index.html", "", resp, sizeof(resp)), 400);
    assert_int_equal(get(port, "GET", "/a%00b", "", resp, sizeof(resp)), 400);
    assert_int_equal(get(port, "GET", "/hello%00x", "", resp, sizeof(resp)), 400);

    /* The API's paths are never files: unknown ones are the API's 404. */
    assert_int_equal(get(port, "GET", "/api/nope", "", resp, sizeof(resp)), 404);
    assert_non_null(strstr(test_http_body(resp), "no such endpoint: /api/nope"));
    assert_int_equal(get(port, "GET", "/api", "", resp, sizeof(resp)), 404);
    assert_int_equal(get(port, "GET", "/apis", "", resp, sizeof(resp)), 200); /* a page route */
    /* Routes come first. */
    assert_int_equal(get(port, "GET", "/hello", "", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), "{\"hello\":true}");
    assert_security_headers(resp);
    http_server_free(s);
}

static void test_public_with_auth(void **state)
{
    assert_int_equal(http_token_hash("t0k", 3, token.sha256), BW_OK);
    struct http_server *s = start(1);
    int port = http_server_port(s);
    char resp[8192];
    /* The page loads without a token, so that it can ask for one... */
    assert_int_equal(get(port, "GET", "/", "", resp, sizeof(resp)), 200);
    assert_string_equal(test_http_body(resp), INDEX);
    assert_int_equal(get(port, "GET", "/assets/app-3f2a.js", "", resp, sizeof(resp)), 200);
    assert_int_equal(get(port, "GET", "/nothing.css", "", resp, sizeof(resp)), 404);
    /* ...but the API does not answer without one. */
    assert_int_equal(get(port, "GET", "/api/x", "", resp, sizeof(resp)), 401);
    assert_security_headers(resp);
    assert_int_equal(get(port, "GET", "/api/nope", "", resp, sizeof(resp)), 401);
    assert_int_equal(get(port, "GET", "/hello", "", resp, sizeof(resp)), 401);
    assert_int_equal(
        get(port, "GET", "/api/x", "Authorization: Bearer t0k\r\n", resp, sizeof(resp)), 200);
    http_server_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_gzip_and_etag),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_public_with_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
