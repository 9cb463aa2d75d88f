/* arena: bump allocation in a chain of blocks, freed all at once.
 *
 * Each block doubles the previous one's size (from 4 KiB up to 1 MiB, or exactly the request
 * when larger), so a query that builds a few megabytes of results makes a handful of mallocs.
 * The limit counts bytes handed out, not blocks, so it bounds what one query may build. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

struct arena_block {
    struct arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t off;
    _Alignas(16) unsigned char data[];
};

#define ARENA_MIN_BLOCK 4096
#define ARENA_MAX_BLOCK (1u << 20)

void arena_init(struct arena *a, size_t limit)
{
    a->head = NULL;
    a->used = 0;
    a->limit = limit;
    a->over_limit = 0;
}

void arena_fini(struct arena *a)
{
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used = 0;
    a->over_limit = 0;
}

void arena_reset(struct arena *a)
{
    struct arena_block *b = a->head;
    if (!b)
        return;
    /* Keep the oldest block (the last in the chain): the smallest, enough for most uses. */
    while (b->next) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    b->off = 0;
    a->head = b;
    a->used = 0;
    a->over_limit = 0;
}

void *arena_alloc(struct arena *a, size_t n)
{
    if (n > SIZE_MAX / 2)
        return NULL; /* rounding up would wrap; no block is that large anyway */
    n = n ? (n + 15) & ~(size_t)15 : 16;
    if (a->limit && (n > a->limit || a->used > a->limit - n)) {
        a->over_limit = 1;
        return NULL;
    }
    struct arena_block *b = a->head;
    if (!b || b->size - b->off < n) {
        size_t size = b ? b->size * 2 : ARENA_MIN_BLOCK;
        if (size > ARENA_MAX_BLOCK)
            size = ARENA_MAX_BLOCK;
        if (size < n)
            size = n;
        struct arena_block *nb = malloc(sizeof(*nb) + size);
        if (!nb)
            return NULL;
        nb->size = size;
        nb->off = 0;
        nb->next = b;
        a->head = b = nb;
    }
    void *p = b->data + b->off;
    b->off += n;
    a->used += n;
    return p;
}

void *arena_calloc(struct arena *a, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

void *arena_grow(struct arena *a, void *v, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return v;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (size && ncap > SIZE_MAX / size)
        return NULL;
    void *nv = arena_alloc(a, ncap * size);
    if (!nv)
        return NULL;
    if (n)
        memcpy(nv, v, n * size);
    *cap = ncap;
    return nv;
}
