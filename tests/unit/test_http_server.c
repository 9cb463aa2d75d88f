/* Tests for src/http/server.c: routing, path parameters, 404/405, request metrics, binding
 * errors and listen-address parsing — over real loopback sockets. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "http/http.h"

static void hello(void *ud, const struct http_request *req, struct http_response *res)
{
    const char *who = http_request_arg(req, "who");
    res->content_type = "text/plain";
    buf_printf(res->body, "hello %s via %s", who ? who : "nobody", http_request_method(req));
}

static void item(void *ud, const struct http_request *req, struct http_response *res)
{
    res->status = 201;
    buf_printf(res->body, "{\"id\":\"%s\",\"accept\":\"%s\"}", http_request_param(req, "id"),
               http_request_header(req, "accept") ? http_request_header(req, "accept") : "");
}

static const struct http_route routes[] = {
    {"GET", "/hello", hello, NULL},
    {"GET", "/items/{id}", item, NULL},
};

/* Sends a raw request and returns the whole response in out. */
static void roundtrip(int port, const char *request, char *out, size_t outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    size_t len = 0;
    ssize_t n;
    while (len + 1 < outlen && (n = read(fd, out + len, outlen - len - 1)) > 0)
        len += (size_t)n;
    out[len] = '\0';
    close(fd);
}

static int status_of(const char *resp)
{
    int status = 0;
    assert_int_equal(sscanf(resp, "HTTP/1.%*d %d", &status), 1);
    return status;
}

static void test_routing(void **state)
{
    bw_registry *reg = bw_registry_new(0);
    struct http_config cfg = {.host = "127.0.0.1",
                              .port = 0,
                              .threads = 2,
                              .registry = reg,
                              .routes = routes,
                              .nroutes = 2};
    struct http_server *s;
    struct diag d;
    assert_int_equal(http_server_bind(&cfg, &s, &d), BW_OK);
    assert_int_equal(http_server_start(s, &d), BW_OK);
    int port = http_server_port(s);
    assert_true(port > 0);
    char resp[4096];

    roundtrip(port, "GET /hello?who=ann HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(status_of(resp), 200);
    assert_non_null(strstr(resp, "Content-Type: text/plain"));
    assert_non_null(strstr(resp, "\r\n\r\nhello ann via GET"));

    roundtrip(port, "GET /items/42 HTTP/1.0\r\nAccept: x/y\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(status_of(resp), 201);
    assert_non_null(strstr(resp, "{\"id\":\"42\",\"accept\":\"x/y\"}"));

    roundtrip(port, "GET /nope HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(status_of(resp), 404);
    assert_non_null(strstr(resp, "\"errorType\":\"not_found\""));

    roundtrip(port, "POST /hello HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", resp, sizeof(resp));
    assert_int_equal(status_of(resp), 405);

    roundtrip(port, "GET /items/ HTTP/1.0\r\n\r\n", resp, sizeof(resp));
    assert_int_equal(status_of(resp), 404);

    http_server_free(s);

    /* Every request was counted with its route, method and code. */
    char *page = NULL;
    size_t cap = 0, len = 0;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &page, &cap, &len), BW_OK);
    assert_non_null(
        strstr(page, "http_requests_total{handler=\"/hello\",method=\"GET\",code=\"200\"} 1\n"));
    assert_non_null(strstr(
        page, "http_requests_total{handler=\"/items/{id}\",method=\"GET\",code=\"201\"} 1\n"));
    assert_non_null(
        strstr(page, "http_requests_total{handler=\"other\",method=\"GET\",code=\"404\"} 2\n"));
    assert_non_null(
        strstr(page, "http_requests_total{handler=\"other\",method=\"POST\",code=\"405\"} 1\n"));
    assert_non_null(strstr(page, "http_request_duration_seconds_count{handler=\"/hello\"} 1\n"));
    free(page);
    bw_registry_free(reg);
}

static void test_port_in_use(void **state)
{
    struct http_config cfg = {.host = "127.0.0.1", .port = 0, .routes = routes, .nroutes = 2};
    struct http_server *a, *b;
    struct diag d;
    assert_int_equal(http_server_bind(&cfg, &a, &d), BW_OK);
    cfg.port = http_server_port(a);
    assert_int_equal(http_server_bind(&cfg, &b, &d), BW_EBUSY);
    char want[128];
    snprintf(want, sizeof(want), "listen 127.0.0.1:%d: Address already in use", cfg.port);
    assert_memory_equal(d.msg, want, strlen(want));
    cfg.host = "not-an-ip";
    assert_int_equal(http_server_bind(&cfg, &b, &d), BW_EINVAL);
    http_server_free(a);
}

static void test_parse_listen(void **state)
{
    char host[64];
    int port;
    assert_int_equal(http_parse_listen("127.0.0.1:8000", host, sizeof(host), &port), BW_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8000);
    assert_int_equal(http_parse_listen("[::1]:9", host, sizeof(host), &port), BW_OK);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 9);
    assert_int_equal(http_parse_listen("localhost:0", host, sizeof(host), &port), BW_OK);
    assert_int_equal(http_parse_listen("8000", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen(":8000", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen("h:65536", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen("h:80x", host, sizeof(host), &port), BW_EINVAL);
    assert_int_equal(http_parse_listen("[::1]8000", host, sizeof(host), &port), BW_EINVAL);
    assert_true(http_host_is_loopback("127.0.0.1"));
    assert_true(http_host_is_loopback("127.8.9.10"));
    assert_true(http_host_is_loopback("::1"));
    assert_true(http_host_is_loopback("localhost"));
    assert_false(http_host_is_loopback("0.0.0.0"));
    assert_false(http_host_is_loopback("10.0.0.1"));
    assert_false(http_host_is_loopback("example.org"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_parse_listen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
