/* index: finds series by their label set and by label matchers.
 *
 * Main data structures (struct index in tsdb_int.h): an intern table, so every label name and
 * value is stored once and compared by pointer; the series array by id; a hash table from a
 * label set's hash to the series id; and the postings — per label name, its values, each with
 * the ascending list of ids of the series carrying that pair.
 *
 * The design decision: a matcher is evaluated over the distinct values of its label, never
 * over series. A matcher that the empty string does not satisfy selects the union of the
 * postings of the values it accepts; one that the empty string satisfies (a missing label
 * matches as "", as in Prometheus: {env!="prod"}, {env=~"a|"}) is turned into its complement
 * — every series minus the union of the postings of the values it refuses — so a selector made
 * only of such matchers is still answered from the postings. Ids are assigned in increasing
 * order, so appending an id keeps a list sorted. The index takes no lock (tsdb.c does). */
#include <stdlib.h>
#include <string.h>

#include "tsdb/tsdb_int.h"

static uint64_t str_hash(const char *s)
{
    return hash_bytes(s, strlen(s), HASH_SEED);
}

/* Pointers hash by their bits (interned strings are unique by address). */
static uint64_t ptr_hash(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    return x ^ (x >> 33);
}

/* ---- interned strings ---- */

static const char *strtab_find(const struct strtab *t, const char *s)
{
    if (!t->cap)
        return NULL;
    for (size_t i = str_hash(s) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->slots[i] || strcmp(t->slots[i], s) == 0)
            return t->slots[i];
    }
}

static int strtab_grow(struct strtab *t)
{
    size_t cap = t->cap ? t->cap * 2 : 256;
    char **slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return BW_ENOMEM;
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->slots[i])
            continue;
        size_t j = str_hash(t->slots[i]) & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return BW_OK;
}

/* The interned copy of s, made if needed. NULL when out of memory. */
static const char *strtab_intern(struct strtab *t, const char *s)
{
    const char *have = strtab_find(t, s);
    if (have)
        return have;
    if ((t->n + 1) * 4 > t->cap * 3 && strtab_grow(t))
        return NULL;
    size_t i = str_hash(s) & (t->cap - 1);
    while (t->slots[i])
        i = (i + 1) & (t->cap - 1);
    t->slots[i] = xstrdup(s);
    if (!t->slots[i])
        return NULL;
    t->n++;
    return t->slots[i];
}

/* ---- postings ---- */

static int plist_add(struct plist *p, uint32_t id)
{
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? p->cap * 2 : 2;
        uint32_t *ids = realloc(p->ids, cap * sizeof(*ids));
        if (!ids)
            return BW_ENOMEM;
        p->ids = ids;
        p->cap = cap;
    }
    p->ids[p->n++] = id;
    return BW_OK;
}

static void plist_remove(struct plist *p, uint32_t id)
{
    size_t lo = 0, hi = p->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < p->n && p->ids[lo] == id) {
        memmove(p->ids + lo, p->ids + lo + 1, (p->n - lo - 1) * sizeof(*p->ids));
        p->n--;
    }
}

/* Index + 1 of key in an open-addressing table of uint32 slots, or the empty slot to use
 * (returned as 0, with *at set). keyof maps an entry's index to its key. */
static uint32_t slot_find(const uint32_t *slots, uint32_t nslots, const void *key,
                          const void *(*keyof)(const void *ctx, uint32_t i), const void *ctx,
                          uint32_t *at)
{
    uint32_t i = (uint32_t)ptr_hash(key) & (nslots - 1);
    for (;; i = (i + 1) & (nslots - 1)) {
        if (!slots[i] || keyof(ctx, slots[i] - 1) == key) {
            *at = i;
            return slots[i];
        }
    }
}

static const void *lname_key(const void *ctx, uint32_t i)
{
    return ((const struct index *)ctx)->names[i].name;
}

static const void *lvalue_key(const void *ctx, uint32_t i)
{
    return ((const struct lname *)ctx)->vals[i].value;
}

/* Rebuilds a slot table of twice the size for n entries. */
static int slots_rehash(uint32_t **slots, uint32_t *nslots, uint32_t n,
                        const void *(*keyof)(const void *ctx, uint32_t i), const void *ctx)
{
    uint32_t cap = *nslots ? *nslots * 2 : 16;
    uint32_t *s = calloc(cap, sizeof(*s));
    if (!s)
        return BW_ENOMEM;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t at;
        slot_find(s, cap, keyof(ctx, k), keyof, ctx, &at);
        s[at] = k + 1;
    }
    free(*slots);
    *slots = s;
    *nslots = cap;
    return BW_OK;
}

static struct lname *name_find(const struct index *ix, const char *name)
{
    uint32_t at;
    if (!ix->nname_slots)
        return NULL;
    uint32_t k = slot_find(ix->name_slots, ix->nname_slots, name, lname_key, ix, &at);
    return k ? &ix->names[k - 1] : NULL;
}

static struct lvalue *value_find(const struct lname *ln, const char *value)
{
    uint32_t at;
    if (!ln->nslots)
        return NULL;
    uint32_t k = slot_find(ln->slots, ln->nslots, value, lvalue_key, ln, &at);
    return k ? &ln->vals[k - 1] : NULL;
}

/* The postings of (name, value), both interned, created if needed. NULL when out of memory. */
static struct plist *postings_get(struct index *ix, const char *name, const char *value)
{
    struct lname *ln = name_find(ix, name);
    if (!ln) {
        if ((ix->nnames + 1) * 2 > ix->nname_slots &&
            slots_rehash(&ix->name_slots, &ix->nname_slots, ix->nnames, lname_key, ix))
            return NULL;
        if (ix->nnames == ix->cap_names) {
            uint32_t cap = ix->cap_names ? ix->cap_names * 2 : 16;
            struct lname *p = realloc(ix->names, cap * sizeof(*p));
            if (!p)
                return NULL;
            ix->names = p;
            ix->cap_names = cap;
        }
        uint32_t at;
        slot_find(ix->name_slots, ix->nname_slots, name, lname_key, ix, &at);
        ln = &ix->names[ix->nnames];
        *ln = (struct lname){.name = name};
        ix->name_slots[at] = ++ix->nnames;
    }
    struct lvalue *lv = value_find(ln, value);
    if (lv)
        return &lv->p;
    if ((ln->n + 1) * 2 > ln->nslots &&
        slots_rehash(&ln->slots, &ln->nslots, ln->n, lvalue_key, ln))
        return NULL;
    if (ln->n == ln->cap) {
        uint32_t cap = ln->cap ? ln->cap * 2 : 4;
        struct lvalue *p = realloc(ln->vals, cap * sizeof(*p));
        if (!p)
            return NULL;
        ln->vals = p;
        ln->cap = cap;
    }
    uint32_t at;
    slot_find(ln->slots, ln->nslots, value, lvalue_key, ln, &at);
    lv = &ln->vals[ln->n];
    *lv = (struct lvalue){.value = value};
    ln->slots[at] = ++ln->n;
    return &lv->p;
}

/* ---- series ---- */

void index_init(struct index *ix)
{
    memset(ix, 0, sizeof(*ix));
    ix->next_id = 1;
}

void index_fini(struct index *ix)
{
    for (uint32_t i = 0; i < ix->nseries; i++) {
        struct series *s = ix->series[i];
        if (!s)
            continue;
        for (struct chunk *c = s->oldest, *next; c; c = next) {
            next = c->next;
            series_chunk_free(s, c);
        }
        free((void *)s->ls.v);
        free(s);
    }
    free(ix->series);
    free(ix->slots);
    for (uint32_t i = 0; i < ix->nnames; i++) {
        for (uint32_t j = 0; j < ix->names[i].n; j++)
            free(ix->names[i].vals[j].p.ids);
        free(ix->names[i].vals);
        free(ix->names[i].slots);
    }
    free(ix->names);
    free(ix->name_slots);
    for (size_t i = 0; i < ix->strs.cap; i++)
        free(ix->strs.slots[i]);
    free(ix->strs.slots);
    memset(ix, 0, sizeof(*ix));
}

/* The slot of the series with labels ls (or the empty slot for it). */
static uint32_t series_slot(const struct index *ix, const struct labelset *ls, uint64_t hash)
{
    for (uint32_t i = (uint32_t)hash & (ix->nslots - 1);; i = (i + 1) & (ix->nslots - 1)) {
        uint32_t id = ix->slots[i];
        if (!id)
            return i;
        const struct series *s = ix->series[id - 1];
        if (s->hash == hash && labelset_compare(&s->ls, ls) == 0)
            return i;
    }
}

struct series *index_find(const struct index *ix, const struct labelset *ls, uint64_t hash)
{
    if (!ix->nslots)
        return NULL;
    uint32_t id = ix->slots[series_slot(ix, ls, hash)];
    return id ? ix->series[id - 1] : NULL;
}

static int series_slots_grow(struct index *ix)
{
    uint32_t cap = ix->nslots ? ix->nslots * 2 : 1024;
    uint32_t *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return BW_ENOMEM;
    for (uint32_t k = 0; k < ix->nslots; k++) {
        uint32_t id = ix->slots[k];
        if (!id)
            continue;
        uint32_t i = (uint32_t)ix->series[id - 1]->hash & (cap - 1);
        while (slots[i])
            i = (i + 1) & (cap - 1);
        slots[i] = id;
    }
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = cap;
    return BW_OK;
}

int index_add(struct index *ix, const struct labelset *ls, uint64_t hash, uint32_t id,
              struct series **out)
{
    struct series *s = calloc(1, sizeof(*s));
    struct label *lv = calloc(ls->n ? ls->n : 1, sizeof(*lv));
    size_t done = 0;
    int rc = BW_ENOMEM;
    if (!id)
        id = ix->next_id;
    if (!s || !lv)
        goto fail;
    if ((ix->live + 1) * 2 > ix->nslots && series_slots_grow(ix))
        goto fail;
    if (id > ix->cap_series) {
        uint32_t cap = ix->cap_series ? ix->cap_series : 1024;
        while (cap < id)
            cap *= 2;
        struct series **p = realloc(ix->series, cap * sizeof(*p));
        if (!p)
            goto fail;
        memset(p + ix->cap_series, 0, (cap - ix->cap_series) * sizeof(*p));
        ix->series = p;
        ix->cap_series = cap;
    }
    for (size_t i = 0; i < ls->n; i++) {
        lv[i].name = strtab_intern(&ix->strs, ls->v[i].name);
        lv[i].value = lv[i].name ? strtab_intern(&ix->strs, ls->v[i].value) : NULL;
        if (!lv[i].value)
            goto fail;
    }
    for (; done < ls->n; done++) {
        struct plist *p = postings_get(ix, lv[done].name, lv[done].value);
        if (!p || plist_add(p, id))
            goto fail;
    }
    s->id = id;
    s->hash = hash;
    s->ls = (struct labelset){lv, ls->n};
    s->disk_maxt = INT64_MIN;
    s->disk_mint = INT64_MAX;
    ix->series[id - 1] = s;
    if (id > ix->nseries)
        ix->nseries = id;
    if (id >= ix->next_id)
        ix->next_id = id + 1;
    ix->slots[series_slot(ix, &s->ls, hash)] = id;
    ix->live++;
    *out = s;
    return BW_OK;

fail:
    /* Ids only grow, so the id just added is the last of every list that has it. */
    for (size_t i = 0; i < done; i++)
        postings_get(ix, lv[i].name, lv[i].value)->n--;
    free(lv);
    free(s);
    return rc;
}

void index_drop(struct index *ix, struct series *s)
{
    /* Backward-shift deletion keeps linear probing free of tombstones. */
    uint32_t i = series_slot(ix, &s->ls, s->hash), mask = ix->nslots - 1;
    for (uint32_t j = (i + 1) & mask; ix->slots[j]; j = (j + 1) & mask) {
        uint32_t home = (uint32_t)ix->series[ix->slots[j] - 1]->hash & mask;
        /* Move j into the hole at i unless its home lies cyclically in (i, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            ix->slots[i] = ix->slots[j];
            i = j;
        }
    }
    ix->slots[i] = 0;
    for (size_t k = 0; k < s->ls.n; k++) {
        struct lname *ln = name_find(ix, s->ls.v[k].name);
        struct lvalue *lv = ln ? value_find(ln, s->ls.v[k].value) : NULL;
        if (lv)
            plist_remove(&lv->p, s->id);
    }
    ix->series[s->id - 1] = NULL;
    ix->live--;
    for (struct chunk *c = s->oldest, *next; c; c = next) {
        next = c->next;
        series_chunk_free(s, c);
    }
    free((void *)s->ls.v);
    free(s);
}

/* ---- matching ---- */

/* A growable id list. */
struct ids {
    uint32_t *v;
    size_t n, cap;
};

static int ids_append(struct ids *a, const uint32_t *v, size_t n)
{
    if (a->n + n > a->cap) {
        size_t cap = a->cap ? a->cap : 64;
        while (cap < a->n + n)
            cap *= 2;
        uint32_t *p = realloc(a->v, cap * sizeof(*p));
        if (!p)
            return BW_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    memcpy(a->v + a->n, v, n * sizeof(*v));
    a->n += n;
    return BW_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The union of the postings of m's label whose value satisfies m (want true) or does not
 * (want false), sorted and distinct. */
static int collect(const struct index *ix, const struct tsdb_matcher *m, bool want, struct ids *out)
{
    const char *name = strtab_find(&ix->strs, m->name);
    const struct lname *ln = name ? name_find(ix, name) : NULL;
    size_t lists = 0;
    out->n = 0;
    if (!ln)
        return BW_OK;
    if (m->op == TSDB_MATCH_EQ && want) {
        const char *value = strtab_find(&ix->strs, m->value);
        const struct lvalue *lv = value ? value_find(ln, value) : NULL;
        return lv ? ids_append(out, lv->p.ids, lv->p.n) : BW_OK;
    }
    for (uint32_t i = 0; i < ln->n; i++) {
        const struct lvalue *lv = &ln->vals[i];
        if (!lv->p.n || tsdb_matcher_matches(m, lv->value) != want)
            continue;
        if (ids_append(out, lv->p.ids, lv->p.n))
            return BW_ENOMEM;
        lists++;
    }
    if (lists > 1) {
        /* A series has one value per name, so the lists are disjoint: sorting suffices. */
        qsort(out->v, out->n, sizeof(*out->v), cmp_u32);
    }
    return BW_OK;
}

/* acc = acc ∩ b (keep) or acc \ b (!keep); both sorted. */
static void merge(struct ids *acc, const struct ids *b, bool keep)
{
    size_t i = 0, j = 0, w = 0;
    while (i < acc->n) {
        while (j < b->n && b->v[j] < acc->v[i])
            j++;
        bool in = j < b->n && b->v[j] == acc->v[i];
        if (in == keep)
            acc->v[w++] = acc->v[i];
        i++;
    }
    acc->n = w;
}

static int all_ids(const struct index *ix, struct ids *out)
{
    for (uint32_t i = 0; i < ix->nseries; i++) {
        uint32_t id = i + 1;
        if (ix->series[i] && ids_append(out, &id, 1))
            return BW_ENOMEM;
    }
    return BW_OK;
}

int index_match(const struct index *ix, const struct tsdb_matcher *m, size_t nm, uint32_t **ids,
                size_t *n)
{
    struct ids acc = {0}, b = {0};
    bool have = false;
    int rc = BW_OK;
    /* Positive sets first: they are small and bound the rest. */
    for (size_t i = 0; i < nm && rc == BW_OK; i++) {
        if (tsdb_matcher_matches(&m[i], ""))
            continue;
        rc = collect(ix, &m[i], true, have ? &b : &acc);
        if (rc == BW_OK && have)
            merge(&acc, &b, true);
        have = true;
    }
    if (rc == BW_OK && !have)
        rc = all_ids(ix, &acc);
    for (size_t i = 0; i < nm && rc == BW_OK && acc.n; i++) {
        if (!tsdb_matcher_matches(&m[i], ""))
            continue;
        rc = collect(ix, &m[i], false, &b);
        if (rc == BW_OK)
            merge(&acc, &b, false);
    }
    free(b.v);
    if (rc) {
        free(acc.v);
        return rc;
    }
    *ids = acc.v;
    *n = acc.n;
    return BW_OK;
}
