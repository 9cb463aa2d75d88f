/* static: the web page's files, built into the binary (struct http_asset), served for GET and
 * HEAD of paths outside /api/.
 *
 * A path names a file by exact match in the table; a path whose last segment has no '.' is one
 * of the page's own routes (/dashboards, /explore) and gets /index.html, which the page's
 * router then reads. Files under /assets/ have content hashes in their names and are cached
 * for a year; the others (index.html) are revalidated every time with their ETag.
 *
 * The design decision: the table is the whole file system. Nothing is ever opened, so there
 * is nothing to traverse to; odd paths (dot segments, empty segments, backslashes, control
 * or non-ASCII bytes) are still refused with 400 rather than normalized, so one file has
 * exactly one name and a probe learns nothing. The gzip copy is its own representation and
 * has its own ETag (the file's with "-gz"), as RFC 9110 wants for content codings. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"

int http_path_is_api(const char *path)
{
    return strncmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

/* Whether path is one we look up: "/" then segments of printable ASCII other than '\' and
 * '%' (a literal '%' is left of an odd escape, "%00"), none empty (but the last) and none
 * "." or "..". */
static int path_ok(const char *path)
{
    if (path[0] != '/')
        return 0;
    for (const char *seg = path + 1;;) {
        size_t n = strcspn(seg, "/");
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)seg[i] <= 0x20 || (unsigned char)seg[i] >= 0x7f || seg[i] == '\\' ||
                seg[i] == '%')
                return 0;
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return 0;
        if (seg[n] == '\0')
            return 1;
        if (n == 0)
            return 0; /* "//" */
        seg += n + 1;
    }
}

static const struct http_asset *asset_find(const struct http_server *s, const char *path)
{
    for (size_t i = 0; i < s->cfg.nassets; i++)
        if (strcmp(s->cfg.assets[i].path, path) == 0)
            return &s->cfg.assets[i];
    return NULL;
}

/* The file for path: itself, or for a page route (no '.' in the last segment) the index. */
static const struct http_asset *asset_for(const struct http_server *s, const char *path)
{
    const struct http_asset *a = asset_find(s, path);
    if (a)
        return a;
    if (strchr(strrchr(path, '/'), '.'))
        return NULL;
    return asset_find(s, "/index.html");
}

/* Whether an If-None-Match value lists etag (or gz_etag, or is "*"). Weak comparison, as
 * RFC 9110 prescribes for If-None-Match: a W/ prefix does not matter. */
static int etag_matches(const char *inm, const char *etag, const char *gz_etag)
{
    const char *p = inm;
    while (*p) {
        p += strspn(p, " \t,");
        if (!*p)
            break;
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = 0;
        if (*p == '"') {
            const char *close = strchr(p + 1, '"');
            n = close ? (size_t)(close - p) + 1 : strlen(p);
        } else {
            n = strcspn(p, " \t,");
        }
        if ((strlen(etag) == n && memcmp(p, etag, n) == 0) ||
            (gz_etag[0] && strlen(gz_etag) == n && memcmp(p, gz_etag, n) == 0))
            return 1;
        p += n;
    }
    return 0;
}

/* Queues a short JSON error. */
static enum MHD_Result static_error(struct http_server *s, struct http_request *req, int status,
                                    const char *type, const char *msg)
{
    char body[256];
    int n = snprintf(body, sizeof(body),
                     "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":\"%s\"}", type, msg);
    struct MHD_Response *r =
        MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (status == 405)
        MHD_add_response_header(r, "Allow", "GET, HEAD");
    http_add_security_headers(r);
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    http_count_request(s, HTTP_LABEL_STATIC(s), req->method, status, req->start_ns);
    return ret;
}

enum MHD_Result http_static_answer(struct http_server *s, struct http_request *req)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return static_error(s, req, 405, "bad_data", "only GET and HEAD are allowed here");
    if (!path_ok(req->path))
        return static_error(s, req, 400, "bad_data", "bad path");
    const struct http_asset *a = asset_for(s, req->path);
    if (!a)
        return static_error(s, req, 404, "not_found", "no such file");

    /* The representation: the gzip copy when there is one and the client takes it. */
    int gz = a->gz && bw_accepts_gzip(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
                                                                  "Accept-Encoding"));
    char gz_etag[160] = "";
    size_t elen = a->etag ? strlen(a->etag) : 0;
    if (a->gz && elen >= 2 && a->etag[elen - 1] == '"' && elen + 3 < sizeof(gz_etag))
        snprintf(gz_etag, sizeof(gz_etag), "%.*s-gz\"", (int)(elen - 1), a->etag);
    const char *etag = gz && gz_etag[0] ? gz_etag : a->etag;

    const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "If-None-Match");
    int status = a->etag && inm && etag_matches(inm, a->etag, gz_etag) ? 304 : 200;
    struct MHD_Response *r;
    if (status == 304)
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    else
        r = MHD_create_response_from_buffer(gz ? a->gz_len : a->len, (void *)(gz ? a->gz : a->data),
                                            MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    if (status == 200) {
        MHD_add_response_header(r, "Content-Type", a->content_type);
        if (gz)
            MHD_add_response_header(r, "Content-Encoding", "gzip");
    }
    if (etag)
        MHD_add_response_header(r, "ETag", etag);
    if (a->gz)
        MHD_add_response_header(r, "Vary", "Accept-Encoding");
    MHD_add_response_header(
        r, "Cache-Control",
        strncmp(a->path, "/assets/", 8) == 0 ? "public, max-age=31536000, immutable" : "no-cache");
    http_add_security_headers(r);
    enum MHD_Result ret = MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    http_count_request(s, HTTP_LABEL_STATIC(s), req->method, status, req->start_ns);
    return ret;
}
