/* json: the JSON writer of the monitoring endpoints under /api/monitoring, straight into a
 * response buffer.
 *
 * Main data structure: struct api_json — the buffer, the first error, and per open container
 * whether it has a member yet, so the writer places every comma itself.
 *
 * The design decision: the writer keeps the first error and ignores every call after it, so a
 * handler writes a whole document without checking each call and looks at api_json_end once;
 * a document that did not fit is then replaced by an error answer. Numbers are finite or null
 * (JSON has no NaN), and JSON that breakwatch stored (an event's data, a session's summary)
 * is embedded as it is when it parses as an object, else as null, so one bad row never breaks
 * a document. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "journal/journal.h"

void api_json_init(struct api_json *w, struct buf *b)
{
    *w = (struct api_json){.b = b};
}

/* Writes the comma a new value needs, unless it follows its key. */
static void sep(struct api_json *w)
{
    if (w->rc)
        return;
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0 && w->has_member[w->depth - 1])
        w->rc = buf_putc(w->b, ',');
    if (w->depth > 0)
        w->has_member[w->depth - 1] = true;
}

static void put(struct api_json *w, const char *s)
{
    if (!w->rc)
        w->rc = buf_puts(w->b, s);
}

static void open_container(struct api_json *w, char c)
{
    sep(w);
    if (w->rc)
        return;
    if (w->depth == API_JSON_MAX_DEPTH) {
        w->rc = BW_ENOSPC;
        return;
    }
    w->has_member[w->depth++] = false;
    w->rc = buf_putc(w->b, c);
}

static void close_container(struct api_json *w, char c)
{
    if (w->rc)
        return;
    w->depth--;
    w->rc = buf_putc(w->b, c);
}

void api_json_object(struct api_json *w)
{
    open_container(w, '{');
}

void api_json_object_end(struct api_json *w)
{
    close_container(w, '}');
}

void api_json_array(struct api_json *w)
{
    open_container(w, '[');
}

void api_json_array_end(struct api_json *w)
{
    close_container(w, ']');
}

void api_json_key(struct api_json *w, const char *key)
{
    sep(w);
    if (!w->rc)
        w->rc = http_json_string(w->b, key, strlen(key));
    if (!w->rc)
        w->rc = buf_putc(w->b, ':');
    w->after_key = true;
}

void api_json_string(struct api_json *w, const char *s)
{
    sep(w);
    if (!s)
        put(w, "null");
    else if (!w->rc)
        w->rc = http_json_string(w->b, s, strlen(s));
}

void api_json_number(struct api_json *w, double v)
{
    char text[32];
    sep(w);
    if (!isfinite(v)) {
        put(w, "null");
        return;
    }
    promjson_fmt_value(text, v); /* no exponent from 1e-6 to 1e21: 28311552, not 2.8e+07 */
    put(w, text);
}

void api_json_int(struct api_json *w, int64_t v)
{
    sep(w);
    if (!w->rc)
        w->rc = buf_printf(w->b, "%" PRId64, v);
}

void api_json_uint(struct api_json *w, uint64_t v)
{
    sep(w);
    if (!w->rc)
        w->rc = buf_printf(w->b, "%" PRIu64, v);
}

void api_json_bool(struct api_json *w, bool v)
{
    sep(w);
    put(w, v ? "true" : "false");
}

void api_json_null(struct api_json *w)
{
    sep(w);
    put(w, "null");
}

void api_json_raw_object(struct api_json *w, const char *text)
{
    sep(w);
    if (w->rc)
        return;
    cJSON *v = text ? cJSON_ParseWithOpts(text, NULL, 1) : NULL;
    if (!cJSON_IsObject(v)) {
        put(w, "null");
    } else if (!strpbrk(text, "\r\n")) {
        put(w, text);
    } else { /* whitespace across lines: one line, so that it can travel in an SSE data line */
        char *flat = cJSON_PrintUnformatted(v);
        if (flat)
            put(w, flat);
        else
            w->rc = BW_ENOMEM;
        free(flat);
    }
    cJSON_Delete(v);
}

void api_json_member_string(struct api_json *w, const char *key, const char *s)
{
    api_json_key(w, key);
    api_json_string(w, s);
}

void api_json_member_number(struct api_json *w, const char *key, double v)
{
    api_json_key(w, key);
    api_json_number(w, v);
}

void api_json_member_int(struct api_json *w, const char *key, int64_t v)
{
    api_json_key(w, key);
    api_json_int(w, v);
}

void api_json_member_uint(struct api_json *w, const char *key, uint64_t v)
{
    api_json_key(w, key);
    api_json_uint(w, v);
}

void api_json_member_bool(struct api_json *w, const char *key, bool v)
{
    api_json_key(w, key);
    api_json_bool(w, v);
}

void api_json_member_raw_object(struct api_json *w, const char *key, const char *text)
{
    api_json_key(w, key);
    api_json_raw_object(w, text);
}

int api_json_end(struct api_json *w)
{
    if (!w->rc && (w->depth != 0 || w->after_key))
        w->rc = BW_EINVAL; /* a container left open: a bug in the handler */
    return w->rc;
}

void api_json_event(struct api_json *w, const struct journal_event *ev)
{
    api_json_object(w);
    api_json_member_int(w, "id", ev->id);
    api_json_member_int(w, "sim_ms", ev->ts_ms);
    api_json_member_string(w, "session_id", ev->session_id);
    api_json_member_string(w, "type", ev->type);
    api_json_member_string(w, "severity", severity_name(ev->severity));
    api_json_member_string(w, "symbol", ev->symbol);
    api_json_member_string(w, "correlation_id", ev->correlation_id);
    api_json_member_string(w, "message", ev->message);
    api_json_member_raw_object(w, "data", ev->data_json);
    api_json_object_end(w);
}

/* ---- request bodies ---- */

bool api_text_param(const char *name, const char *s, size_t max, bool required, char *out,
                    struct http_response *res)
{
    static const char space[] = " \t\r\n\v\f";
    size_t n = 0;
    if (s) {
        s += strspn(s, space);
        n = strlen(s);
        while (n && strchr(space, s[n - 1]))
            n--;
    }
    if ((required && n == 0) || n > max) {
        char got[32] = "empty";
        if (n)
            snprintf(got, sizeof(got), "%zu bytes", n);
        http_response_error(res, 400, "bad_data",
                            "invalid parameter \"%s\": must be %s %zu bytes of UTF-8 text, not %s",
                            name, required ? "1 to" : "at most", max, got);
        return false;
    }
    if (!utf8_valid(s, n)) {
        http_response_error(res, 400, "bad_data", "invalid parameter \"%s\": not valid UTF-8",
                            name);
        return false;
    }
    if (n)
        memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* Whether JSON text holds the escape \u0000, which cJSON would take as the end of the string
 * it is in, silently dropping the rest. */
static bool has_nul_escape(const char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] != '\\')
            continue;
        if (p[i + 1] == 'u' && i + 5 < len && memcmp(p + i + 2, "0000", 4) == 0)
            return true;
        i++; /* the escaped character */
    }
    return false;
}

int api_json_parse_object(const char *text, size_t len, struct cJSON **out, int *line, int *col,
                          char *err, size_t errlen)
{
    const char *end = NULL;
    *out = NULL;
    *line = *col = 0;
    /* len + 1: cJSON checks for the NUL that follows the text, so that text after the object
     * is an error. */
    cJSON *obj = cJSON_ParseWithLengthOpts(text, len + 1, &end, true);
    if (!obj) {
        size_t pos = end >= text && (size_t)(end - text) < len ? (size_t)(end - text) : len;
        *line = *col = 1;
        for (size_t i = 0; i < pos; i++) {
            *col = text[i] == '\n' ? 1 : *col + 1;
            *line += text[i] == '\n';
        }
        snprintf(err, errlen, "not JSON: error near line %d, column %d", *line, *col);
        return BW_EINVAL;
    }
    if (!cJSON_IsObject(obj))
        snprintf(err, errlen, "not a JSON object");
    else if (has_nul_escape(text, len))
        snprintf(err, errlen, "a string holds \\u0000, which is not allowed");
    else {
        *out = obj;
        return BW_OK;
    }
    cJSON_Delete(obj);
    return BW_EINVAL;
}

bool api_body_object(const struct http_request *req, struct http_response *res, struct cJSON **out)
{
    size_t len;
    const char *body = http_request_body(req, &len);
    char err[128];
    int line, col;
    *out = NULL;
    if (!body || api_json_parse_object(body, len, out, &line, &col, err, sizeof(err)) == BW_OK)
        return true;
    http_response_error(res, 400, "bad_data", "invalid request body: %s", err);
    return false;
}

bool api_body_string(const cJSON *obj, const struct http_request *req, const char *name,
                     const char **out, struct http_response *res)
{
    if (!obj) {
        *out = http_request_arg(req, name);
        return true;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    *out = cJSON_IsString(v) ? v->valuestring : NULL;
    if (v && !cJSON_IsString(v) && !cJSON_IsNull(v)) {
        http_response_error(res, 400, "bad_data", "invalid parameter \"%s\": must be a string",
                            name);
        return false;
    }
    return true;
}
