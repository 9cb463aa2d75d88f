/* config: the `remote_write:` section, in Prometheus's shape — a list of receivers, each with
 * its url, name, remote_timeout, headers, basic_auth or authorization and queue_config, plus
 * breakwatch's own queue_max_bytes (the bound of its queue on disk).
 *
 * Main data structure: struct remote_config (remote.h), the targets and their strings in one
 * arena.
 *
 * The design decision: every key Prometheus would accept but breakwatch does not implement
 * (write_relabel_configs, tls_config, sigv4, ...) is refused with its position rather than
 * ignored, so a configuration never silently means less than it says. Secrets are copied but
 * never quoted in a message. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "remote/remote.h"

#define TIMEOUT_DEFAULT   30000
#define MAX_SAMPLES       2000
#define DEADLINE_DEFAULT  5000
#define MIN_BACKOFF       30
#define MAX_BACKOFF       5000
#define QUEUE_MAX_DEFAULT (256LL << 20)
#define NAME_LEN_MAX      200

struct ctx {
    const struct conf_doc *doc;
    struct remote_config *c;
    struct diag *d;
};

void remote_config_init(struct remote_config *c)
{
    memset(c, 0, sizeof(*c));
    arena_init(&c->arena, 0);
}

void remote_config_fini(struct remote_config *c)
{
    arena_fini(&c->arena);
    memset(c, 0, sizeof(*c));
}

static struct remote_target *target_new(struct remote_config *c)
{
    size_t cap = c->n;
    struct remote_target *v = arena_calloc(&c->arena, c->n + 1, sizeof(*v));
    if (!v)
        return NULL;
    if (cap)
        memcpy(v, c->targets, c->n * sizeof(*v));
    c->targets = v;
    return &c->targets[c->n];
}

/* Fills t with the defaults for url (copied into c's arena). BW_ENOMEM. */
static int target_defaults(struct remote_config *c, struct remote_target *t, const char *url)
{
    *t = (struct remote_target){.timeout_ms = TIMEOUT_DEFAULT,
                                .max_samples_per_send = MAX_SAMPLES,
                                .batch_send_deadline_ms = DEADLINE_DEFAULT,
                                .min_backoff_ms = MIN_BACKOFF,
                                .max_backoff_ms = MAX_BACKOFF,
                                .queue_max_bytes = QUEUE_MAX_DEFAULT};
    char name[24];
    /* As Prometheus names an unnamed queue: from a hash of what identifies it. */
    snprintf(name, sizeof(name), "%06" PRIx64, hash_bytes(url, strlen(url), HASH_SEED) >> 40);
    t->url = arena_strdup(&c->arena, url);
    t->name = arena_strdup(&c->arena, name);
    return t->url && t->name ? BW_OK : BW_ENOMEM;
}

static bool name_taken(const struct remote_config *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->targets[i].name, name) == 0)
            return true;
    return false;
}

int remote_config_add_url(struct remote_config *c, const char *url)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->targets[i].url, url) == 0)
            return BW_OK; /* the same receiver twice (flag and file): one queue */
    struct remote_target *t = target_new(c);
    int rc = t ? target_defaults(c, t, url) : BW_ENOMEM;
    /* Another url named alike (a file's name, or the 24-bit hash colliding): two queues in
     * one directory would overwrite each other's batches, so this one takes the next hash. */
    for (uint64_t h = hash_bytes(url, strlen(url), HASH_SEED);
         rc == BW_OK && name_taken(c, t->name);) {
        char name[24];
        h = hash_bytes(url, strlen(url), h);
        snprintf(name, sizeof(name), "%06" PRIx64, h >> 40);
        if (!(t->name = arena_strdup(&c->arena, name)))
            rc = BW_ENOMEM;
    }
    if (rc == BW_OK)
        c->n++;
    return rc;
}

/* A string field, copied into the arena. */
static int str(struct ctx *x, const struct conf_node *n, const char *key, const char **out)
{
    const char *s;
    int rc = conf_string(x->doc, n, key, &s, x->d);
    if (rc)
        return rc;
    if (!(*out = arena_strdup(&x->c->arena, s)))
        return diag_set(x->d, BW_ENOMEM, "out of memory");
    return BW_OK;
}

static int duration(struct ctx *x, const struct conf_node *n, const char *key, int64_t *ms)
{
    int rc = conf_duration(x->doc, n, key, ms, x->d);
    if (rc == BW_OK && *ms <= 0)
        return conf_err(x->doc, n, x->d, "%s: must be more than 0s", key);
    return rc;
}

/* Bytes above 0, as parse_bytes reads them (so "256MB" means the same as in storage.max_size
 * and Prometheus's sizes). */
static int bytes(struct ctx *x, const struct conf_node *n, const char *key, int64_t *out)
{
    const char *s = conf_scalar(n, NULL);
    if (s && parse_bytes(s, out) == BW_OK && *out > 0)
        return BW_OK;
    return conf_err(x->doc, n, x->d, "%s: expected a size in bytes above 0 (e.g. 256MiB)", key);
}

/* headers: a map of header names to values. */
static int headers(struct ctx *x, const struct conf_node *n, struct remote_target *t)
{
    if (conf_kind(n) != CONF_MAP)
        return conf_err(x->doc, n, x->d, "headers: expected a map of header names to values");
    t->nheaders = conf_len(n);
    t->headers = arena_calloc(&x->c->arena, t->nheaders ? t->nheaders : 1, sizeof(*t->headers));
    if (!t->headers)
        return diag_set(x->d, BW_ENOMEM, "out of memory");
    for (size_t i = 0; i < t->nheaders; i++) {
        const struct conf_node *k = conf_key(n, i);
        int rc = str(x, k, "headers", &t->headers[i].name);
        if (rc == BW_OK)
            rc = str(x, conf_value(n, i), t->headers[i].name, &t->headers[i].value);
        if (rc)
            return rc;
        const char *h = t->headers[i].name;
        if (!*h || strpbrk(h, ": \t\r\n"))
            return conf_err(x->doc, k, x->d, "headers: '%s' is not a header name", h);
        if (strchr(t->headers[i].value, '\n') || strchr(t->headers[i].value, '\r'))
            return conf_err(x->doc, conf_value(n, i), x->d,
                            "headers: the value of %s holds a line break", h);
        if (!strcasecmp(h, "Content-Type") || !strcasecmp(h, "Content-Encoding") ||
            !strcasecmp(h, "Authorization") || !strcasecmp(h, "User-Agent") ||
            !strcasecmp(h, "X-Prometheus-Remote-Write-Version"))
            return conf_err(x->doc, k, x->d, "headers: %s is set by remote write itself", h);
    }
    return BW_OK;
}

static int basic_auth(struct ctx *x, const struct conf_node *n, struct remote_target *t)
{
    static const char *const names[] = {"username", "password", "password_file"};
    const struct conf_node *f[3];
    int rc = conf_fields(x->doc, n, "basic_auth", names, 3, f, x->d);
    if (rc == BW_OK && !f[0])
        return conf_err(x->doc, n, x->d, "basic_auth: username is required");
    if (rc == BW_OK && f[1] && f[2])
        return conf_err(x->doc, f[2], x->d,
                        "basic_auth: at most one of password and password_file");
    if (rc == BW_OK)
        rc = str(x, f[0], "username", &t->username);
    if (rc == BW_OK && f[1])
        rc = str(x, f[1], "password", &t->password);
    if (rc == BW_OK && f[2])
        rc = str(x, f[2], "password_file", &t->password_file);
    return rc;
}

static int authorization(struct ctx *x, const struct conf_node *n, struct remote_target *t)
{
    static const char *const names[] = {"type", "credentials", "credentials_file"};
    const struct conf_node *f[3];
    int rc = conf_fields(x->doc, n, "authorization", names, 3, f, x->d);
    if (rc == BW_OK && !f[1] && !f[2])
        return conf_err(x->doc, n, x->d,
                        "authorization: credentials or credentials_file is required");
    if (rc == BW_OK && f[1] && f[2])
        return conf_err(x->doc, f[2], x->d,
                        "authorization: at most one of credentials and credentials_file");
    t->auth_type = "Bearer";
    if (rc == BW_OK && f[0])
        rc = str(x, f[0], "type", &t->auth_type);
    if (rc == BW_OK && (!*t->auth_type || strpbrk(t->auth_type, " \t\r\n")))
        return conf_err(x->doc, f[0], x->d, "authorization: type must be one word");
    if (rc == BW_OK && !strcasecmp(t->auth_type, "Basic"))
        return conf_err(x->doc, f[0], x->d,
                        "authorization: type Basic is not allowed, use basic_auth instead");
    if (rc == BW_OK && f[1])
        rc = str(x, f[1], "credentials", &t->credentials);
    if (rc == BW_OK && f[2])
        rc = str(x, f[2], "credentials_file", &t->credentials_file);
    return rc;
}

static int queue_config(struct ctx *x, const struct conf_node *n, struct remote_target *t)
{
    static const char *const names[] = {"max_samples_per_send", "batch_send_deadline",
                                        "min_backoff", "max_backoff"};
    const struct conf_node *f[4];
    int64_t v;
    int rc = conf_fields(x->doc, n, "queue_config", names, 4, f, x->d);
    if (rc == BW_OK && f[0] &&
        (rc = conf_int(x->doc, f[0], names[0], 1, 1000000, &v, x->d)) == BW_OK)
        t->max_samples_per_send = (size_t)v;
    if (rc == BW_OK && f[1])
        rc = duration(x, f[1], names[1], &t->batch_send_deadline_ms);
    if (rc == BW_OK && f[2])
        rc = duration(x, f[2], names[2], &t->min_backoff_ms);
    if (rc == BW_OK && f[3])
        rc = duration(x, f[3], names[3], &t->max_backoff_ms);
    if (rc == BW_OK && t->max_backoff_ms < t->min_backoff_ms)
        return conf_err(x->doc, f[3] ? f[3] : f[2], x->d,
                        "queue_config: max_backoff is below min_backoff");
    return rc;
}

/* A name usable as a directory (a file name: NAME_MAX is 255) and a label value. */
static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > NAME_LEN_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
           strlen(s);
}

enum { F_URL, F_NAME, F_TIMEOUT, F_HEADERS, F_BASIC, F_AUTHZ, F_QUEUE, F_MAX, F_N };

static int target(struct ctx *x, const struct conf_node *n, struct remote_target *t)
{
    static const char *const names[F_N] = {[F_URL] = "url",
                                           [F_NAME] = "name",
                                           [F_TIMEOUT] = "remote_timeout",
                                           [F_HEADERS] = "headers",
                                           [F_BASIC] = "basic_auth",
                                           [F_AUTHZ] = "authorization",
                                           [F_QUEUE] = "queue_config",
                                           [F_MAX] = "queue_max_bytes"};
    const struct conf_node *f[F_N];
    const char *url;
    int rc = conf_fields(x->doc, n, "remote_write", names, F_N, f, x->d);
    if (rc)
        return rc;
    if (!f[F_URL])
        return conf_err(x->doc, n, x->d, "remote_write: url is required");
    if ((rc = conf_string(x->doc, f[F_URL], "url", &url, x->d)))
        return rc;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return conf_err(x->doc, f[F_URL], x->d, "url: expected an http:// or https:// URL");
    if ((rc = target_defaults(x->c, t, url)))
        return diag_set(x->d, rc, "out of memory");
    if (f[F_NAME] && (rc = str(x, f[F_NAME], "name", &t->name)))
        return rc;
    if (!name_ok(t->name))
        return conf_err(x->doc, f[F_NAME], x->d,
                        "name: up to %d letters, digits, '_', '.' and '-' (it names a directory)",
                        NAME_LEN_MAX);
    if (name_taken(x->c, t->name))
        return conf_err(x->doc, f[F_NAME] ? f[F_NAME] : n, x->d,
                        "remote_write: a second queue named '%s'%s", t->name,
                        f[F_NAME] ? "" : " (the same url twice needs a name each)");
    if ((f[F_TIMEOUT] && (rc = duration(x, f[F_TIMEOUT], names[F_TIMEOUT], &t->timeout_ms))) ||
        (f[F_HEADERS] && (rc = headers(x, f[F_HEADERS], t))) ||
        (f[F_BASIC] && (rc = basic_auth(x, f[F_BASIC], t))) ||
        (f[F_AUTHZ] && (rc = authorization(x, f[F_AUTHZ], t))) ||
        (f[F_QUEUE] && (rc = queue_config(x, f[F_QUEUE], t))) ||
        (f[F_MAX] && (rc = bytes(x, f[F_MAX], names[F_MAX], &t->queue_max_bytes))))
        return rc;
    if (f[F_BASIC] && f[F_AUTHZ])
        return conf_err(x->doc, f[F_AUTHZ], x->d,
                        "remote_write: at most one of basic_auth and authorization");
    return BW_OK;
}

int remote_config_parse(const struct conf_doc *doc, const struct conf_node *n,
                        struct remote_config *c, struct diag *d)
{
    struct ctx x = {doc, c, d};
    if (!n || conf_is_null(n))
        return BW_OK;
    if (conf_kind(n) != CONF_SEQ)
        return conf_err(doc, n, d, "remote_write: expected a list of {url: ..., ...}");
    for (size_t i = 0; i < conf_len(n); i++) {
        struct remote_target *t = target_new(c);
        if (!t)
            return diag_set(d, BW_ENOMEM, "out of memory");
        int rc = target(&x, conf_item(n, i), t);
        if (rc)
            return rc;
        c->n++;
    }
    return BW_OK;
}
