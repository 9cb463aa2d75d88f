/* labels: the label set every module passes around — a sorted array of name/value views.
 *
 * The sort order is Prometheus's (labels.Compare): it decides matrix order in query results,
 * so the API, the conformance runner and the tsdb all use this one function. */
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

int labelset_compare(const struct labelset *a, const struct labelset *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a->v[i].name, b->v[i].name);
        if (c)
            return c;
        c = strcmp(a->v[i].value, b->v[i].value);
        if (c)
            return c;
    }
    return (a->n > b->n) - (a->n < b->n);
}

const char *labelset_get(const struct labelset *ls, const char *name)
{
    for (size_t i = 0; i < ls->n; i++) {
        int c = strcmp(ls->v[i].name, name);
        if (c == 0)
            return ls->v[i].value;
        if (c > 0)
            break;
    }
    return NULL;
}

uint64_t labelset_hash(const struct labelset *ls)
{
    uint64_t h = HASH_SEED;
    for (size_t i = 0; i < ls->n; i++) {
        /* The terminators separate name from value, so {a="bc"} and {ab="c"} differ. */
        h = hash_bytes(ls->v[i].name, strlen(ls->v[i].name) + 1, h);
        h = hash_bytes(ls->v[i].value, strlen(ls->v[i].value) + 1, h);
    }
    return h;
}

void labels_sort(struct label *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct label x = v[i];
        size_t j = i;
        while (j > 0 && strcmp(v[j - 1].name, x.name) > 0) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

struct label *labels_dup(const struct labelset *ls, struct arena *a, struct labelset *out)
{
    size_t bytes = ls->n * sizeof(struct label) + 1;
    for (size_t i = 0; i < ls->n; i++)
        bytes += strlen(ls->v[i].name) + strlen(ls->v[i].value) + 2;
    struct label *v = a ? arena_alloc(a, bytes) : malloc(bytes);
    if (!v)
        return NULL;
    char *p = (char *)(v + ls->n);
    for (size_t i = 0; i < ls->n; i++) {
        size_t nl = strlen(ls->v[i].name) + 1, vl = strlen(ls->v[i].value) + 1;
        v[i].name = memcpy(p, ls->v[i].name, nl);
        v[i].value = memcpy(p + nl, ls->v[i].value, vl);
        p += nl + vl;
    }
    if (out)
        *out = (struct labelset){v, ls->n};
    return v;
}

static int put_quoted(struct buf *out, const char *s)
{
    int rc = buf_putc(out, '"');
    for (; rc == 0 && *s; s++) {
        switch (*s) {
        case '"':
            rc = buf_puts(out, "\\\"");
            break;
        case '\\':
            rc = buf_puts(out, "\\\\");
            break;
        case '\n':
            rc = buf_puts(out, "\\n");
            break;
        default:
            rc = buf_putc(out, *s);
        }
    }
    return rc ? rc : buf_putc(out, '"');
}

int labelset_format(const struct labelset *ls, struct buf *out)
{
    const char *name = labelset_get(ls, LABEL_NAME);
    int rc = name ? buf_puts(out, name) : 0;
    if (rc == 0)
        rc = buf_putc(out, '{');
    int first = 1;
    for (size_t i = 0; rc == 0 && i < ls->n; i++) {
        if (strcmp(ls->v[i].name, LABEL_NAME) == 0)
            continue;
        if (!first)
            rc = buf_puts(out, ", ");
        first = 0;
        if (rc == 0)
            rc = buf_puts(out, ls->v[i].name);
        if (rc == 0)
            rc = buf_putc(out, '=');
        if (rc == 0)
            rc = put_quoted(out, ls->v[i].value);
    }
    return rc ? rc : buf_putc(out, '}');
}

bool prom_name_valid(const char *s, size_t n, bool metric)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (metric && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return n > 0;
}
