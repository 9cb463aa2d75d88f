/* http_test: what the tests that talk to a real breakwatch HTTP server share — starting one on
 * a free loopback port, connecting to it, sending a raw request and reading the whole answer
 * (HTTP/1.0, so the server closes when it is done), and picking the answer apart. */
#ifndef BW_TEST_HTTP_H
#define BW_TEST_HTTP_H

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

/* Binds cfg (its host 127.0.0.1 and 2 threads when unset, any free port) and starts it. */
static inline struct http_server *test_http_start(struct http_config cfg)
{
    struct http_server *s;
    struct diag d = {0};
    if (!cfg.host)
        cfg.host = "127.0.0.1";
    if (!cfg.threads)
        cfg.threads = 2;
    assert_int_equal(http_server_bind(&cfg, &s, &d), BW_OK);
    assert_int_equal(http_server_start(s, &d), BW_OK);
    return s;
}

/* A socket connected to the server on port. */
static inline int test_http_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

/* Sends request (len bytes) and reads the whole answer into out, NUL-terminated and cut at
 * outlen - 1 bytes. */
static inline void test_http_send(int port, const char *request, size_t len, char *out,
                                  size_t outlen)
{
    int fd = test_http_connect(port);
    assert_int_equal(write(fd, request, len), (ssize_t)len);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < outlen && (n = read(fd, out + got, outlen - got - 1)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fd);
}

/* test_http_send for a request that is a C string. */
static inline void test_http_roundtrip(int port, const char *request, char *out, size_t outlen)
{
    test_http_send(port, request, strlen(request), out, outlen);
}

/* The status code of the answer resp. */
static inline int test_http_status(const char *resp)
{
    int status = 0;
    assert_int_equal(sscanf(resp, "HTTP/1.%*d %d", &status), 1);
    return status;
}

/* The body of the answer resp. */
static inline const char *test_http_body(const char *resp)
{
    const char *b = strstr(resp, "\r\n\r\n");
    assert_non_null(b);
    return b + 4;
}

/* The value of header name in resp ("" when absent), in a static buffer. */
static inline const char *test_http_header(const char *resp, const char *name)
{
    static char v[512];
    char key[64];
    snprintf(key, sizeof(key), "\r\n%s: ", name);
    const char *p = strstr(resp, key);
    const char *end = strstr(resp, "\r\n\r\n");
    v[0] = '\0';
    if (p && p < end) {
        p += strlen(key);
        snprintf(v, sizeof(v), "%.*s", (int)strcspn(p, "\r"), p);
    }
    return v;
}

/* Sends "METHOD target HTTP/1.0" with the header lines `headers` (NULL: none; each ends in
 * "\r\n") and body (NULL: none) with its Content-Length, reads the answer into resp (cap
 * bytes); returns the answer's body, with its status code in *status. */
static inline const char *test_http_request(int port, const char *method, const char *target,
                                            const char *headers, const char *body, char *resp,
                                            size_t cap, int *status)
{
    static char req[16384];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\n%sContent-Length: %zu\r\n\r\n%s", method,
                     target, headers ? headers : "", body ? strlen(body) : 0, body ? body : "");
    assert_true(n > 0 && (size_t)n < sizeof(req));
    test_http_send(port, req, (size_t)n, resp, cap);
    *status = test_http_status(resp);
    return test_http_body(resp);
}

/* Asserts that reg's text exposition holds each of the lines given, up to a NULL (each line
 * without its "\n"): the request metrics a test expects. */
static inline void test_http_exposed(bw_registry *reg, ...)
{
    char *page = NULL, line[512];
    size_t cap = 0, len = 0;
    va_list ap;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &page, &cap, &len), BW_OK);
    va_start(ap, reg);
    for (const char *want; (want = va_arg(ap, const char *));) {
        snprintf(line, sizeof(line), "%s\n", want);
        if (!strstr(page, line))
            fail_msg("not in the exposition: %s", want);
    }
    va_end(ap);
    free(page);
}

#endif
