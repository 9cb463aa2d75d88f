/* auth: roles, bearer tokens, and the 401 and 403 answers.
 *
 * The server knows tokens only by their SHA-256 (struct http_token); a request's
 * "Authorization: Bearer <token>" is hashed and compared with every configured hash.
 *
 * The design decision: the comparison is constant-time and visits every token whatever
 * matched (CRYPTO_memcmp, the match picked by a mask, no early exit), so the time a request
 * takes says nothing about how close its token came or which one it was. Hashing first means
 * the configuration never holds a usable secret, and the compared values have a fixed length.
 * A token is never logged or echoed; a 403 names the token's name and role only. A route
 * marked query_token (the event stream, for EventSource) also takes the token as the URL
 * parameter access_token when there is no Authorization header; every other route ignores
 * that parameter. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"

#define MAX_TOKEN_LEN 1024 /* longer is not a token we issued */

static const char *const role_names[] = {"viewer", "editor", "admin", "public"};

const char *http_role_name(enum http_role role)
{
    return (unsigned)role < BW_ARRAY_LEN(role_names) ? role_names[role] : "unknown";
}

int http_role_parse(const char *s, enum http_role *out)
{
    for (int i = HTTP_ROLE_VIEWER; i <= HTTP_ROLE_ADMIN; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum http_role)i;
            return BW_OK;
        }
    }
    return BW_EINVAL;
}

int http_token_hash(const char *s, size_t n, unsigned char out[32])
{
    unsigned int len = 0;
    if (EVP_Digest(s, n, out, &len, EVP_sha256(), NULL) != 1 || len != 32) {
        memset(out, 0, 32);
        return BW_EIO;
    }
    return BW_OK;
}

/* Whether t is one token68 (RFC 6750: letters, digits, - . _ ~ + / and '=' padding at the
 * end) and nothing else, with its length in *n. */
static bool token68(const char *t, size_t *n)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-._~+/";
    size_t len = strspn(t, chars);
    if (len == 0)
        return false;
    while (t[len] == '=')
        len++;
    *n = len;
    return t[len] == '\0' && len <= MAX_TOKEN_LEN;
}

/* The token of an Authorization value "Bearer <token>" (the scheme in any case, one or more
 * spaces, then a token68), with its length in *n; NULL when the value is not that. */
static const char *bearer_token(const char *h, size_t *n)
{
    if (strncasecmp(h, "Bearer", 6) != 0 || h[6] != ' ')
        return NULL;
    const char *t = h + 6;
    while (*t == ' ')
        t++;
    return token68(t, n) ? t : NULL;
}

/* Whether the request's route takes its token as ?access_token= (http_route.query_token). */
static bool takes_query_token(const struct http_request *req)
{
    return req->target == TARGET_ROUTE && req->server->cfg.routes[req->route].query_token;
}

void http_auth_check(struct http_request *req)
{
    const struct http_config *cfg = &req->server->cfg;
    req->verdict = VERDICT_OK;
    req->principal = NULL;
    if (cfg->ntokens == 0 || req->need == HTTP_ROLE_PUBLIC)
        return;
    const char *h = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization");
    size_t n = 0;
    const char *tok = h ? bearer_token(h, &n) : NULL;
    if (!h && takes_query_token(req)) { /* the header, when there is one, wins */
        const char *q =
            MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "access_token");
        if (q && *q && !token68(q, &n)) {
            req->verdict = VERDICT_UNKNOWN; /* not a token we issued */
            return;
        }
        tok = q && *q ? q : NULL;
    }
    if (!tok) {
        req->verdict = h ? VERDICT_MALFORMED : VERDICT_MISSING;
        return;
    }
    unsigned char md[32];
    if (http_token_hash(tok, n, md) != BW_OK) {
        req->verdict = VERDICT_UNKNOWN;
        return;
    }
    size_t found = 0, idx = 0;
    for (size_t i = 0; i < cfg->ntokens; i++) {
        size_t eq = (size_t)(CRYPTO_memcmp(md, cfg->tokens[i].sha256, sizeof(md)) == 0);
        size_t mask = (size_t)0 - eq;
        idx = (idx & ~mask) | (i & mask);
        found |= eq;
    }
    if (!found) {
        req->verdict = VERDICT_UNKNOWN;
        return;
    }
    req->principal = &cfg->tokens[idx];
    if (req->principal->role < req->need)
        req->verdict = VERDICT_FORBIDDEN;
}

/* "a viewer", "an editor", "an admin". */
static const char *article(enum http_role role)
{
    return role == HTTP_ROLE_EDITOR || role == HTTP_ROLE_ADMIN ? "an" : "a";
}

void http_auth_deny(const struct http_request *req, struct http_response *res)
{
    switch (req->verdict) {
    case VERDICT_OK:
        return;
    case VERDICT_MISSING:
        http_response_error(res, 401, "unauthorized",
                            "authentication required: send the header "
                            "\"Authorization: Bearer TOKEN\"%s",
                            takes_query_token(req) ? " or the parameter access_token=TOKEN" : "");
        break;
    case VERDICT_MALFORMED:
        http_response_error(res, 401, "unauthorized",
                            "malformed Authorization header: expected \"Bearer TOKEN\"");
        break;
    case VERDICT_UNKNOWN:
        http_response_error(res, 401, "unauthorized", "invalid token");
        break;
    case VERDICT_FORBIDDEN:
        http_response_error(res, 403, "forbidden", "%s %s needs the %s role; token \"%s\" is %s %s",
                            req->method, req->path, http_role_name(req->need), req->principal->name,
                            article(req->principal->role), http_role_name(req->principal->role));
        return;
    }
    http_response_header(res, "WWW-Authenticate", HTTP_AUTH_CHALLENGE);
}
