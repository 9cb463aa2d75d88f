/* embed: the build step that puts the web page into the binary. It walks a directory (Vite's
 * output) and writes one C file defining web_assets[] (see struct http_asset in
 * src/http/http.h): each file's bytes, a gzip copy when that is smaller, its content type and
 * a strong ETag made from its SHA-256.
 *
 * Bytes are written as string literals rather than brace lists of numbers: compilers read a
 * megabyte of literal in a fraction of the time. Files are sorted by path so the output, and
 * the binary, are the same for the same input.
 *
 * Usage: embed OUT.c DIR. Exit 0, or 1 with the file and the reason on stderr; OUT.c is
 * written to a temporary name and renamed, so a failed run never leaves a half-written file. */
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

struct file {
    char *path; /* relative to DIR, starting with '/' */
    unsigned char *data, *gz;
    size_t len, gz_len; /* gz_len 0: not compressed */
    const char *type;
};

struct files {
    struct file *v;
    size_t n, cap;
};

static const struct {
    const char *ext, *type;
    int compress;
} types[] = {
    {".html", "text/html; charset=utf-8", 1},
    {".js", "text/javascript; charset=utf-8", 1},
    {".mjs", "text/javascript; charset=utf-8", 1},
    {".css", "text/css; charset=utf-8", 1},
    {".json", "application/json", 1},
    {".map", "application/json", 1},
    {".svg", "image/svg+xml", 1},
    {".txt", "text/plain; charset=utf-8", 1},
    {".ico", "image/x-icon", 1},
    {".png", "image/png", 0},
    {".webp", "image/webp", 0},
    {".woff2", "font/woff2", 0},
};

static int type_of(const char *path, const char **type)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0) {
            *type = types[i].type;
            return types[i].compress;
        }
    *type = "application/octet-stream";
    return 0;
}

static int read_file(const char *full, struct file *f)
{
    FILE *in = fopen(full, "rb");
    if (!in)
        return -1;
    int rc = -1;
    struct stat st;
    if (fstat(fileno(in), &st) != 0)
        goto out;
    f->len = (size_t)st.st_size;
    f->data = malloc(f->len ? f->len : 1);
    if (f->data && fread(f->data, 1, f->len, in) == f->len)
        rc = 0;
out:
    fclose(in);
    return rc;
}

/* Whether a file name can be written as it is into the generated C (a string literal and a
 * comment) and be served (src/http/static.c refuses control, non-ASCII, '%' and '\\'):
 * printable ASCII other than '"', '\\', '%', '?' (trigraphs) and '*' (a comment's end). */
static int name_ok(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("\"\\%?*", *p))
            return 0;
    return 1;
}

/* Adds every regular file under root/rel to fs. 0, or -1 with the reason printed. */
static int walk(const char *root, const char *rel, struct files *fs)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s%s", root, rel);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "embed: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (!name_ok(e->d_name)) {
            fprintf(stderr, "embed: %s/%s: a file name the page cannot have\n", dir, e->d_name);
            rc = -1;
            break;
        }
        char sub[4096], full[8192];
        snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
        snprintf(full, sizeof(full), "%s%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0) {
            fprintf(stderr, "embed: %s: %s\n", full, strerror(errno));
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(root, sub, fs);
        } else if (S_ISREG(st.st_mode)) {
            if (fs->n == fs->cap) {
                size_t cap = fs->cap ? 2 * fs->cap : 32;
                struct file *v = realloc(fs->v, cap * sizeof(*v));
                if (!v) {
                    fprintf(stderr, "embed: out of memory\n");
                    rc = -1;
                    break;
                }
                fs->v = v;
                fs->cap = cap;
            }
            struct file *f = &fs->v[fs->n];
            *f = (struct file){.path = strdup(sub)};
            if (!f->path || read_file(full, f) != 0) {
                fprintf(stderr, "embed: %s: %s\n", full, strerror(errno));
                free(f->path);
                free(f->data);
                rc = -1;
            } else {
                fs->n++;
            }
        }
    }
    closedir(d);
    return rc;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(((const struct file *)a)->path, ((const struct file *)b)->path);
}

/* Writes n bytes as string literals, 64 bytes a line. Octal escapes are always three digits
 * so a following digit cannot join them; '?' is escaped so no trigraph forms. */
static void put_bytes(FILE *out, const unsigned char *p, size_t n)
{
    if (n == 0) {
        fputs("\"\"", out);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i % 64 == 0)
            fputs(i ? "\"\n    \"" : "\"", out);
        unsigned char c = p[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '?')
            fputc(c, out);
        else
            fprintf(out, "\\%03o", c);
    }
    fputc('"', out);
}

/* Gzip-compresses data into *gz; returns its length, or 0 when it would not be smaller. */
static size_t gzip(const unsigned char *data, size_t len, unsigned char **gz)
{
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    size_t cap = deflateBound(&z, (uLong)len);
    *gz = malloc(cap);
    size_t out = 0;
    if (*gz) {
        z.next_in = (Bytef *)data;
        z.avail_in = (uInt)len;
        z.next_out = *gz;
        z.avail_out = (uInt)cap;
        if (deflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out < len)
            out = z.total_out;
    }
    deflateEnd(&z);
    return out;
}

static void emit(FILE *out, const struct files *fs)
{
    fputs("/* Generated by tools/embed.c from the web page's build output. Do not edit. */\n"
          "#include \"http/http.h\"\n\n",
          out);
    for (size_t i = 0; i < fs->n; i++) {
        const struct file *f = &fs->v[i];
        fprintf(out, "/* %s */\nstatic const char data_%zu[] = ", f->path, i);
        put_bytes(out, f->data, f->len);
        fputs(";\n", out);
        if (f->gz_len) {
            fprintf(out, "static const char gz_%zu[] = ", i);
            put_bytes(out, f->gz, f->gz_len);
            fputs(";\n", out);
        }
    }
    fputs("\nconst struct http_asset web_assets[] = {\n", out);
    for (size_t i = 0; i < fs->n; i++) {
        const struct file *f = &fs->v[i];
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        EVP_Digest(f->data, f->len, md, &mdlen, EVP_sha256(), NULL);
        fprintf(out, "    {\"%s\", \"%s\", (const unsigned char *)data_%zu, %zu, ", f->path,
                f->type, i, f->len);
        if (f->gz_len)
            fprintf(out, "(const unsigned char *)gz_%zu, %zu, ", i, f->gz_len);
        else
            fputs("NULL, 0, ", out);
        fputs("\"\\\"", out);
        for (unsigned k = 0; k < 16 && k < mdlen; k++)
            fprintf(out, "%02x", md[k]);
        fputs("\\\"\"},\n", out);
    }
    if (fs->n == 0)
        fputs("    {0},\n", out);
    fprintf(out, "};\nconst size_t web_nassets = %zu;\n", fs->n);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: embed OUT.c DIR\n");
        return 2;
    }
    struct files fs = {0};
    int rc = 1;
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    if (walk(argv[2], "", &fs) != 0)
        goto out;
    if (fs.n)
        qsort(fs.v, fs.n, sizeof(*fs.v), by_path);
    for (size_t i = 0; i < fs.n; i++)
        if (type_of(fs.v[i].path, &fs.v[i].type))
            fs.v[i].gz_len = gzip(fs.v[i].data, fs.v[i].len, &fs.v[i].gz);
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "embed: %s: %s\n", tmp, strerror(errno));
        goto out;
    }
    emit(out, &fs);
    if (ferror(out) | fclose(out) || rename(tmp, argv[1]) != 0) {
        fprintf(stderr, "embed: cannot write %s: %s\n", argv[1], strerror(errno));
        remove(tmp);
        goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < fs.n; i++) {
        free(fs.v[i].path);
        free(fs.v[i].data);
        free(fs.v[i].gz);
    }
    free(fs.v);
    return rc;
}
