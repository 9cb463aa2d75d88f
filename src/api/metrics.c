/* metrics: GET /api/metrics, the Prometheus exposition.
 *
 * The page is rendered straight into the serving thread's reusable buffer; when the client
 * accepts gzip it is rendered into the scratch buffer and compressed into the body. Neither
 * step allocates once the buffers have grown to the page's size. */
#include "api/api.h"

void api_metrics(void *ud, const struct http_request *req, struct http_response *res)
{
    struct api_ctx *ctx = ud;
    const char *ctype;
    enum bw_format fmt = bw_format_negotiate(http_request_header(req, "Accept"), &ctype);
    int gzip = bw_accepts_gzip(http_request_header(req, "Accept-Encoding"));
    struct buf *page = gzip ? res->scratch : res->body;
    int rc = bw_registry_expose(ctx->registry, fmt, &page->data, &page->cap, &page->len);
    if (rc == BW_OK && gzip)
        rc = bw_gzip(page->data, page->len, &res->body->data, &res->body->cap, &res->body->len);
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "rendering metrics: %s", bw_strerror(rc));
        return;
    }
    res->content_type = ctype;
    res->gzip_ok = gzip;
    http_response_header(res, "Vary", "Accept, Accept-Encoding");
}
