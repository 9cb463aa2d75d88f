/* token: `breakwatch token new` and `breakwatch token hash`, which make bearer tokens for the
 * API and the lines that configure them.
 *
 * A token is "bw_" and 32 bytes from getrandom(2) written in base64url (43 characters): 256
 * bits, so it cannot be guessed and needs no slow hash, and the prefix lets people and secret
 * scanners recognize it. The design decision: breakwatch never stores a token. `token new`
 * prints it once, beside the configuration line that holds only its SHA-256, which is also
 * all the server keeps (struct http_token); a lost token is replaced, never recovered. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "cli/cli.h"

#define TOKEN_BYTES  32
#define TOKEN_PREFIX "bw_"
#define MAX_INPUT    4096 /* token hash reads at most this much */

static int usage(const char *msg)
{
    fprintf(stderr,
            "breakwatch: %s\n"
            "usage: breakwatch token new --name NAME --role viewer|editor|admin\n"
            "       breakwatch token hash < TOKEN\n",
            msg);
    return 2;
}

/* Fills p with n random bytes. BW_OK or BW_EIO. */
static int random_bytes(unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return BW_EIO;
        p += got;
        n -= (size_t)got;
    }
    return BW_OK;
}

/* Writes n bytes as unpadded base64url (RFC 4648 §5) into out, which holds 4n/3 + 2. */
static void base64url(const unsigned char *in, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = a[v & 63];
    }
    out[o] = '\0';
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Reads "--name value" or "--name=value" at argv[*i]; 1 when it was that flag. */
static int flag(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    *value = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

static int token_new(int argc, char **argv, FILE *out)
{
    const char *name = NULL, *role = NULL;
    for (int i = 0; i < argc; i++) {
        const char **slot = flag(argc, argv, &i, "--name", &name)   ? &name
                            : flag(argc, argv, &i, "--role", &role) ? &role
                                                                    : NULL;
        if (!slot) {
            char msg[160];
            snprintf(msg, sizeof(msg), "token new: unexpected argument '%.100s'", argv[i]);
            return usage(msg);
        }
        if (!*slot)
            return usage("token new: --name and --role need a value");
    }
    if (!name || !role)
        return usage("token new needs --name NAME and --role ROLE");
    if (!cli_token_name_valid(name))
        return usage("token new: --name must be 1 to 63 letters, digits, '.', '_', '@' or '-'");
    enum http_role r;
    if (http_role_parse(role, &r) != BW_OK)
        return usage("token new: --role must be viewer, editor or admin");

    unsigned char raw[TOKEN_BYTES], md[32];
    char token[sizeof(TOKEN_PREFIX) + TOKEN_BYTES * 4 / 3 + 2], digest[65];
    if (random_bytes(raw, sizeof(raw)) != BW_OK) {
        fprintf(stderr, "breakwatch: token new: no randomness from getrandom: %s\n",
                strerror(errno));
        return 1;
    }
    memcpy(token, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
    base64url(raw, sizeof(raw), token + sizeof(TOKEN_PREFIX) - 1);
    if (http_token_hash(token, strlen(token), md) != BW_OK) {
        fprintf(stderr, "breakwatch: token new: SHA-256 failed\n");
        return 1;
    }
    hex(md, sizeof(md), digest);
    fprintf(out, "%s\n    - {name: %s, role: %s, sha256: %s}\n", token, name, http_role_name(r),
            digest);
    fprintf(stderr,
            "The first line is the token: give it to %s; it is not shown again.\n"
            "The second goes under auth.tokens in the configuration file (breakwatch keeps\n"
            "only the hash). Clients send it as 'Authorization: Bearer TOKEN'.\n",
            name);
    return 0;
}

static int token_hash(FILE *in, FILE *out)
{
    char buf[MAX_INPUT + 2];
    size_t n = fread(buf, 1, sizeof(buf) - 1, in);
    if (n > MAX_INPUT)
        return usage("token hash: the input is too long to be a token");
    buf[n] = '\0';
    while (n && strchr(" \t\r\n", buf[n - 1]))
        buf[--n] = '\0';
    if (n == 0)
        return usage("token hash reads the token from stdin, which was empty");
    if (strcspn(buf, " \t\r\n") != n)
        return usage("token hash: a token is one line without spaces");
    unsigned char md[32];
    char digest[65];
    if (http_token_hash(buf, n, md) != BW_OK) {
        fprintf(stderr, "breakwatch: token hash: SHA-256 failed\n");
        return 1;
    }
    hex(md, sizeof(md), digest);
    fprintf(out, "%s\n", digest);
    return 0;
}

int cli_token(int argc, char **argv, FILE *out, FILE *in)
{
    if (argc >= 1 && strcmp(argv[0], "new") == 0)
        return token_new(argc - 1, argv + 1, out);
    if (argc == 1 && strcmp(argv[0], "hash") == 0)
        return token_hash(in, out);
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        fprintf(out, "usage: breakwatch token new --name NAME --role viewer|editor|admin\n"
                     "       breakwatch token hash < TOKEN\n");
        return 0;
    }
    return usage(argc ? "token: expected 'new' or 'hash'" : "token needs 'new' or 'hash'");
}
