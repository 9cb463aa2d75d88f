/* dashboards: GET /api/dashboards and GET /api/dashboards/{uid} — the Grafana dashboard JSON
 * files of one directory (monitoring/grafana/dashboards/ in a checkout), which the page
 * renders as Grafana would, so that one set of files serves both.
 *
 * Nothing is kept between requests: each one lists the directory and reads its *.json files
 * (in name order, as Grafana's file provider does), so an edited file shows at the next load.
 * A file that cannot serve is listed with its error (file:line:col for bad JSON) instead of
 * being skipped, the way a provider's log would name it. Design decision: a dashboard is sent
 * as its file's own text once it parsed as one object, never re-serialized, so the page draws
 * byte for byte what Grafana reads. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api/api.h"

#define DASH_MAX_FILES 256
#define DASH_MAX_BYTES (2u << 20) /* Grafana's biggest dashboards are a few hundred KiB */
#define DASH_NAME_MAX  256
#define DASH_UID_MAX   40 /* Grafana's limit */

struct dash_dir {
    char (*names)[DASH_NAME_MAX]; /* the *.json files, sorted */
    size_t n;
    char error[512]; /* why the directory gave nothing; "" when it was read */
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(a, b);
}

static bool json_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && n < DASH_NAME_MAX && strcmp(name + n - 5, ".json") == 0;
}

/* Lists dir's regular *.json files into dd (names to free): the first DASH_MAX_FILES of them
 * in name order. BW_OK, even for a missing directory (dd->error says so); BW_ENOMEM. */
static int dash_dir_read(const char *dir, struct dash_dir *dd)
{
    memset(dd, 0, sizeof(*dd));
    if (!dir || !*dir) {
        snprintf(dd->error, sizeof(dd->error),
                 "no dashboards directory is set (dashboards_dir, --dashboards-dir)");
        return BW_OK;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(dd->error, sizeof(dd->error), "cannot read the dashboards directory %s: %s", dir,
                 strerror(errno));
        return BW_OK;
    }
    size_t cap = 0;
    int rc = BW_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat sb;
        if (!json_name(e->d_name) ||
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
            stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (dd->n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            void *p = realloc(dd->names, ncap * sizeof(*dd->names));
            if (!p) {
                rc = BW_ENOMEM;
                break;
            }
            dd->names = p;
            cap = ncap;
        }
        snprintf(dd->names[dd->n++], DASH_NAME_MAX, "%s", e->d_name);
    }
    closedir(d);
    if (dd->n)
        qsort(dd->names, dd->n, sizeof(*dd->names), cmp_names);
    if (dd->n > DASH_MAX_FILES) {
        snprintf(dd->error, sizeof(dd->error),
                 "%zu dashboard files in %s: only the first %d by name are served", dd->n, dir,
                 DASH_MAX_FILES);
        dd->n = DASH_MAX_FILES;
    }
    return rc;
}

/* One file read and checked: doc set (to free) and text holding the file, or error set. */
struct dash_file {
    struct buf text;
    cJSON *doc;
    const char *uid, *title; /* inside doc */
    char error[512];
};

static bool uid_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= DASH_UID_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* Reads dir/name into f (f->text initialised by the caller). BW_OK whether or not the file is a
 * usable dashboard (f->error says why not); BW_ENOMEM. */
static int dash_file_load(const char *dir, const char *name, struct dash_file *f)
{
    char path[PATH_MAX];
    struct diag d = {0};
    int line, col;
    char why[160];
    f->doc = NULL;
    f->error[0] = '\0';
    buf_reset(&f->text);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int rc = buf_read_file(&f->text, path, &d);
    if (rc == BW_ENOMEM)
        return rc;
    if (rc != BW_OK) {
        snprintf(f->error, sizeof(f->error), "%s: %.200s", name, d.msg);
        return BW_OK;
    }
    if (api_json_parse_object(f->text.data ? f->text.data : "", f->text.len, &f->doc, &line, &col,
                              why, sizeof(why)) != BW_OK) {
        if (line)
            snprintf(f->error, sizeof(f->error), "%s:%d:%d: not JSON", name, line, col);
        else
            snprintf(f->error, sizeof(f->error), "%s: %s", name, why);
        return BW_OK;
    }
    const cJSON *uid = cJSON_GetObjectItemCaseSensitive(f->doc, "uid");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(f->doc, "title");
    if (!cJSON_IsString(uid) || !uid_valid(uid->valuestring))
        snprintf(f->error, sizeof(f->error),
                 "%s: \"uid\" must be 1 to %d letters, digits, '-' or '_' (the page links to "
                 "/d/{uid})",
                 name, DASH_UID_MAX);
    else if (!cJSON_IsString(title) || !*title->valuestring)
        snprintf(f->error, sizeof(f->error), "%s: \"title\" must be a non-empty string", name);
    else {
        f->uid = uid->valuestring;
        f->title = title->valuestring;
        return BW_OK;
    }
    cJSON_Delete(f->doc);
    f->doc = NULL;
    return BW_OK;
}

/* The file of dd (before index i) that holds uid, or NULL. uids[j] is file j's ("" for a file
 * with an error). */
static const char *uid_owner(const struct dash_dir *dd, char (*uids)[DASH_UID_MAX + 1], size_t i,
                             const char *uid)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(uids[j], uid) == 0)
            return dd->names[j];
    return NULL;
}

void api_dashboards_list(void *ud, const struct http_request *req, struct http_response *res)
{
    (void)req;
    const struct api_ctx *ctx = ud;
    struct dash_dir dd;
    struct dash_file f;
    char(*uids)[DASH_UID_MAX + 1] = NULL;
    struct api_json w;
    buf_init(&f.text, DASH_MAX_BYTES);
    int rc = dash_dir_read(ctx->dashboards_dir, &dd);
    if (rc == BW_OK && dd.n && !(uids = calloc(dd.n, sizeof(*uids))))
        rc = BW_ENOMEM;
    api_json_init(&w, res->body);
    api_json_object(&w);
    api_json_member_string(&w, "status", "success");
    api_json_key(&w, "data");
    api_json_array(&w);
    for (size_t i = 0; rc == BW_OK && i < dd.n; i++) {
        if ((rc = dash_file_load(ctx->dashboards_dir, dd.names[i], &f)) != BW_OK)
            break;
        const char *owner = f.doc ? uid_owner(&dd, uids, i, f.uid) : NULL;
        if (owner)
            snprintf(f.error, sizeof(f.error), "%s: uid \"%s\" is already %s's", dd.names[i], f.uid,
                     owner);
        else if (f.doc)
            snprintf(uids[i], sizeof(uids[i]), "%s", f.uid);
        api_json_object(&w);
        api_json_member_string(&w, "file", dd.names[i]);
        if (f.error[0]) {
            api_json_member_string(&w, "error", f.error);
        } else {
            api_json_member_string(&w, "uid", f.uid);
            api_json_member_string(&w, "title", f.title);
            api_json_key(&w, "tags");
            api_json_array(&w);
            const cJSON *tag;
            cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(f.doc, "tags"))
            {
                if (cJSON_IsString(tag))
                    api_json_string(&w, tag->valuestring);
            }
            api_json_array_end(&w);
        }
        api_json_object_end(&w);
        cJSON_Delete(f.doc);
    }
    api_json_array_end(&w);
    if (dd.error[0]) {
        api_json_key(&w, "warnings");
        api_json_array(&w);
        api_json_string(&w, dd.error);
        api_json_array_end(&w);
    }
    api_json_object_end(&w);
    if (rc == BW_OK)
        rc = api_json_end(&w);
    if (rc != BW_OK)
        http_response_error(res, 500, "internal", "listing the dashboards: %s", bw_strerror(rc));
    free(uids);
    free(dd.names);
    buf_fini(&f.text);
}

void api_dashboards_get(void *ud, const struct http_request *req, struct http_response *res)
{
    const struct api_ctx *ctx = ud;
    const char *want = http_request_param(req, "uid");
    struct dash_dir dd;
    struct dash_file f;
    bool found = false;
    size_t bad = 0;           /* files that could not serve: one of them may have been meant */
    char first_bad[512] = ""; /* the first one's error */
    buf_init(&f.text, DASH_MAX_BYTES);
    int rc = dash_dir_read(ctx->dashboards_dir, &dd);
    /* Name order, first file wins: the list marks later files with the same uid as errors. */
    for (size_t i = 0; rc == BW_OK && !found && i < dd.n; i++) {
        if ((rc = dash_file_load(ctx->dashboards_dir, dd.names[i], &f)) != BW_OK)
            break;
        found = f.doc && strcmp(f.uid, want) == 0;
        if (f.error[0] && bad++ == 0)
            memcpy(first_bad, f.error, sizeof(first_bad));
        cJSON_Delete(f.doc);
    }
    if (rc != BW_OK) {
        http_response_error(res, 500, "internal", "reading the dashboards: %s", bw_strerror(rc));
    } else if (!found && dd.error[0]) {
        http_response_error(res, 404, "not_found", "no dashboard with uid \"%s\": %s", want,
                            dd.error);
    } else if (!found && bad) {
        http_response_error(res, 404, "not_found",
                            "no dashboard with uid \"%s\"; %zu file%s could not be read: %s%s",
                            want, bad, bad == 1 ? "" : "s", first_bad, bad > 1 ? ", …" : "");
    } else if (!found) {
        http_response_error(res, 404, "not_found", "no dashboard with uid \"%s\"", want);
    } else if (buf_puts(res->body, "{\"status\":\"success\",\"data\":") != BW_OK ||
               buf_append(res->body, f.text.data, f.text.len) != BW_OK ||
               buf_puts(res->body, "}") != BW_OK) {
        http_response_error(res, 500, "internal", "out of memory");
    }
    free(dd.names);
    buf_fini(&f.text);
}
