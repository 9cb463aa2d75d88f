/* conf.c: YAML documents with positions, over libyaml's document API.
 *
 * libyaml loads a whole document into numbered nodes whose maps and lists hold node indices;
 * conf_doc_parse turns them into a flat array of struct conf_node (same order, one per
 * libyaml node) whose children are direct pointers, so that a handle alone answers every
 * question. Scalar texts stay in the libyaml document, which lives as long as the conf_doc;
 * the node array and the child arrays live in the document's arena. Aliases simply point at
 * the anchored node, and nothing here walks the graph recursively, so a self-referencing
 * alias cannot make it loop. A document nested deeper than CONF_MAX_DEPTH is refused by a
 * first pass over libyaml's events, before its loader (quadratic in the depth) sees it.
 *
 * The one decision: keys and values are read the way Go's yaml.v3 reads them into
 * Prometheus's structs (unknown and repeated keys refused, a null string is "", booleans and
 * numbers must be plain scalars), so that a file breakwatch accepts is one Prometheus
 * accepts too. */
#include "conf/conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "promql/promql.h"

struct conf_node {
    enum conf_kind kind;
    int line, col;    /* 1-based */
    const char *text; /* scalars */
    size_t len;
    bool plain; /* an unquoted scalar */
    bool null;
    const struct conf_node **kids; /* map: key, value, key, value...; list: items */
    size_t n;                      /* entries of a map, items of a list */
};

struct conf_doc {
    char *name;
    yaml_document_t ydoc;
    bool loaded; /* ydoc must be deleted */
    struct conf_node *nodes;
    const struct conf_node *root;
    struct arena arena;
};

/* Rule files are small; this keeps a wrong path (a log, a device) from filling memory. */
#define CONF_MAX_FILE (64u << 20)
/* Maps and lists nested deeper than this are refused before libyaml's loader sees them: its
 * scanner does work proportional to the depth for every token, so 200,000 '[' take minutes;
 * no configuration or rule file comes near 64 levels. */
#define CONF_MAX_DEPTH 64

static bool is_null_text(const char *s)
{
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static const char *kind_name(const struct conf_node *n)
{
    switch (n->kind) {
    case CONF_MAP:
        return "a map";
    case CONF_SEQ:
        return "a list";
    case CONF_SCALAR:
        break;
    }
    return n->null ? "null" : "a scalar";
}

/* Fills doc->nodes from the libyaml document: first the scalars and sizes, then the child
 * pointers (children may come after their parent in libyaml's numbering). */
static int build_nodes(struct conf_doc *doc)
{
    yaml_document_t *y = &doc->ydoc;
    size_t count = (size_t)(y->nodes.top - y->nodes.start);
    if (count == 0)
        return BW_OK;
    doc->nodes = arena_calloc(&doc->arena, count, sizeof(*doc->nodes));
    if (!doc->nodes)
        return BW_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        const yaml_node_t *yn = &y->nodes.start[i];
        struct conf_node *n = &doc->nodes[i];
        n->line = (int)yn->start_mark.line + 1;
        n->col = (int)yn->start_mark.column + 1;
        switch (yn->type) {
        case YAML_SCALAR_NODE:
            n->kind = CONF_SCALAR;
            n->text = (const char *)yn->data.scalar.value;
            n->len = yn->data.scalar.length;
            n->plain = yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            n->null = (yn->tag && !strcmp((const char *)yn->tag, YAML_NULL_TAG)) ||
                      (n->plain && is_null_text(n->text));
            break;
        case YAML_MAPPING_NODE: {
            n->kind = CONF_MAP;
            n->n = (size_t)(yn->data.mapping.pairs.top - yn->data.mapping.pairs.start);
            const struct conf_node **kids = arena_calloc(&doc->arena, 2 * n->n + 1, sizeof(*kids));
            if (!kids)
                return BW_ENOMEM;
            for (size_t k = 0; k < n->n; k++) {
                const yaml_node_pair_t *p = &yn->data.mapping.pairs.start[k];
                kids[2 * k] = &doc->nodes[p->key - 1];
                kids[2 * k + 1] = &doc->nodes[p->value - 1];
            }
            n->kids = kids;
            break;
        }
        case YAML_SEQUENCE_NODE: {
            n->kind = CONF_SEQ;
            n->n = (size_t)(yn->data.sequence.items.top - yn->data.sequence.items.start);
            const struct conf_node **kids = arena_calloc(&doc->arena, n->n + 1, sizeof(*kids));
            if (!kids)
                return BW_ENOMEM;
            for (size_t k = 0; k < n->n; k++)
                kids[k] = &doc->nodes[yn->data.sequence.items.start[k] - 1];
            n->kids = kids;
            break;
        }
        default:
            /* libyaml never leaves an empty node in a loaded document. */
            n->kind = CONF_SCALAR;
            n->text = "";
            n->null = true;
            break;
        }
    }
    doc->root = &doc->nodes[0];
    return BW_OK;
}

/* A syntax error of parser as libyaml reports it: BW_EINVAL at its mark, or BW_ENOMEM. */
static int parser_error(const yaml_parser_t *parser, const char *name, struct diag *d)
{
    if (parser->error == YAML_MEMORY_ERROR)
        return diag_set(d, BW_ENOMEM, "out of memory");
    const yaml_mark_t *m = parser->problem ? &parser->problem_mark : &parser->context_mark;
    return diag_at(d, BW_EINVAL, name, (int)m->line + 1, (int)m->column + 1, "yaml: %s%s%s",
                   parser->problem ? parser->problem : "syntax error", parser->context ? " " : "",
                   parser->context ? parser->context : "");
}

/* Walks the first document's events (linear work while the depth stays small) and refuses one
 * nested deeper than CONF_MAX_DEPTH at its first too-deep map or list, before it is loaded.
 * A syntax error is reported as the loader would report it. */
static int check_depth(const char *name, const char *text, size_t len, struct diag *d)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return diag_set(d, BW_ENOMEM, "out of memory");
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = BW_OK, depth = 0;
    for (bool done = false; !done && rc == BW_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = parser_error(&parser, name, d);
            break;
        }
        switch (ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > CONF_MAX_DEPTH)
                rc = diag_at(
                    d, BW_EINVAL, name, (int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1,
                    "yaml: nested deeper than %d levels of maps and lists", CONF_MAX_DEPTH);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            break;
        case YAML_DOCUMENT_END_EVENT: /* the loader reads the first document only */
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int conf_doc_parse(const char *name, const char *text, size_t len, struct conf_doc **out,
                   struct diag *d)
{
    int rc = BW_ENOMEM;
    yaml_parser_t parser;
    bool parser_ready = false;
    struct conf_doc *doc = calloc(1, sizeof(*doc));
    if (!doc)
        return diag_set(d, BW_ENOMEM, "out of memory");
    arena_init(&doc->arena, 0);
    doc->name = xstrdup(name ? name : "");
    if (!doc->name || !yaml_parser_initialize(&parser)) {
        diag_set(d, BW_ENOMEM, "out of memory");
        goto err;
    }
    parser_ready = true;
    if ((rc = check_depth(doc->name, text, len, d)) != BW_OK)
        goto err;
    rc = BW_ENOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc->ydoc)) {
        rc = parser_error(&parser, doc->name, d);
        goto err;
    }
    doc->loaded = true;
    if (build_nodes(doc) != BW_OK) {
        diag_set(d, BW_ENOMEM, "out of memory");
        goto err;
    }
    yaml_parser_delete(&parser);
    *out = doc;
    return BW_OK;
err:
    if (parser_ready)
        yaml_parser_delete(&parser);
    conf_doc_free(doc);
    return rc;
}

int conf_doc_load(const char *path, struct conf_doc **out, struct diag *d)
{
    struct buf b;
    buf_init(&b, CONF_MAX_FILE);
    int rc = buf_read_file(&b, path, d);
    if (rc == BW_OK)
        rc = conf_doc_parse(path, b.data ? b.data : "", b.len, out, d);
    buf_fini(&b);
    return rc;
}

void conf_doc_free(struct conf_doc *doc)
{
    if (!doc)
        return;
    if (doc->loaded)
        yaml_document_delete(&doc->ydoc);
    arena_fini(&doc->arena);
    free(doc->name);
    free(doc);
}

const char *conf_doc_name(const struct conf_doc *doc)
{
    return doc->name;
}

const struct conf_node *conf_doc_root(const struct conf_doc *doc)
{
    return doc->root;
}

enum conf_kind conf_kind(const struct conf_node *n)
{
    return n->kind;
}

int conf_line(const struct conf_node *n)
{
    return n->line;
}

int conf_col(const struct conf_node *n)
{
    return n->col;
}

const char *conf_scalar(const struct conf_node *n, size_t *len)
{
    if (n->kind != CONF_SCALAR)
        return NULL;
    if (len)
        *len = n->len;
    return n->text;
}

bool conf_is_null(const struct conf_node *n)
{
    return n->kind == CONF_SCALAR && n->null;
}

bool conf_is_plain(const struct conf_node *n)
{
    return n->kind == CONF_SCALAR && n->plain;
}

size_t conf_len(const struct conf_node *n)
{
    return n->kind == CONF_SCALAR ? 0 : n->n;
}

const struct conf_node *conf_key(const struct conf_node *map, size_t i)
{
    return map->kind == CONF_MAP && i < map->n ? map->kids[2 * i] : NULL;
}

const struct conf_node *conf_value(const struct conf_node *map, size_t i)
{
    return map->kind == CONF_MAP && i < map->n ? map->kids[2 * i + 1] : NULL;
}

const struct conf_node *conf_item(const struct conf_node *seq, size_t i)
{
    return seq->kind == CONF_SEQ && i < seq->n ? seq->kids[i] : NULL;
}

int conf_err(const struct conf_doc *doc, const struct conf_node *n, struct diag *d, const char *fmt,
             ...)
{
    if (!d)
        return BW_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
    snprintf(d->file, sizeof(d->file), "%s", doc->name);
    d->line = n ? n->line : 1;
    d->col = n ? n->col : 1;
    return BW_EINVAL;
}

int conf_fields(const struct conf_doc *doc, const struct conf_node *map, const char *what,
                const char *const *names, size_t n, const struct conf_node **out, struct diag *d)
{
    for (size_t j = 0; j < n; j++)
        out[j] = NULL;
    if (map->kind != CONF_MAP)
        return conf_err(doc, map, d, "%s: expected a map, got %s", what, kind_name(map));
    for (size_t i = 0; i < map->n; i++) {
        const struct conf_node *k = map->kids[2 * i];
        if (k->kind != CONF_SCALAR)
            return conf_err(doc, k, d, "%s: a key must be a string, got %s", what, kind_name(k));
        size_t j = 0;
        while (j < n && strcmp(names[j], k->text) != 0)
            j++;
        if (j == n) {
            char allowed[256];
            size_t used = 0;
            allowed[0] = '\0';
            for (size_t a = 0; a < n && used < sizeof(allowed); a++)
                used += (size_t)snprintf(allowed + used, sizeof(allowed) - used, "%s%s",
                                         a ? ", " : "", names[a]);
            return conf_err(doc, k, d, "field %s not found in type %s (allowed: %s)", k->text, what,
                            allowed);
        }
        if (out[j]) {
            const struct conf_node *first = NULL;
            for (size_t p = 0; p < i && !first; p++)
                if (map->kids[2 * p]->kind == CONF_SCALAR &&
                    !strcmp(map->kids[2 * p]->text, k->text))
                    first = map->kids[2 * p];
            return conf_err(doc, k, d, "mapping key \"%s\" already defined at line %d", k->text,
                            first ? first->line : out[j]->line);
        }
        out[j] = map->kids[2 * i + 1];
    }
    return BW_OK;
}

/* The scalar text of n, "" for a null; refuses a map or a list. */
static int scalar_of(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                     const char *want, const char **out, struct diag *d)
{
    if (n->kind != CONF_SCALAR)
        return conf_err(doc, n, d, "%s: expected %s, got %s", key, want, kind_name(n));
    *out = n->null ? "" : n->text;
    return BW_OK;
}

int conf_string(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                const char **out, struct diag *d)
{
    return scalar_of(doc, n, key, "a string", out, d);
}

int conf_duration(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                  int64_t *ms, struct diag *d)
{
    const char *s = NULL;
    int rc = scalar_of(doc, n, key, "a duration", &s, d);
    if (rc != BW_OK)
        return rc;
    if (n->null) {
        *ms = 0;
        return BW_OK;
    }
    /* Prometheus's model.ParseDuration takes a bare "0" as well. */
    if (!strcmp(s, "0")) {
        *ms = 0;
        return BW_OK;
    }
    if (promql_parse_duration(s, n->len, ms) != BW_OK)
        return conf_err(doc, n, d, "%s: not a valid duration string: \"%s\"", key, s);
    return BW_OK;
}

int conf_bool(const struct conf_doc *doc, const struct conf_node *n, const char *key, bool *out,
              struct diag *d)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    if (n->kind == CONF_SCALAR && n->plain) {
        for (size_t i = 0; i < BW_ARRAY_LEN(yes); i++) {
            if (!strcmp(n->text, yes[i])) {
                *out = true;
                return BW_OK;
            }
            if (!strcmp(n->text, no[i])) {
                *out = false;
                return BW_OK;
            }
        }
    }
    if (n->kind != CONF_SCALAR)
        return conf_err(doc, n, d, "%s: expected a boolean, got %s", key, kind_name(n));
    return conf_err(doc, n, d, "%s: cannot read \"%s\" as a boolean (true or false)", key, n->text);
}

int conf_int(const struct conf_doc *doc, const struct conf_node *n, const char *key, int64_t min,
             int64_t max, int64_t *out, struct diag *d)
{
    if (n->kind != CONF_SCALAR)
        return conf_err(doc, n, d, "%s: expected an integer, got %s", key, kind_name(n));
    char *end = NULL;
    long long v = 0;
    errno = 0;
    if (n->plain && n->len)
        v = strtoll(n->text, &end, 10);
    if (!end || *end || (size_t)(end - n->text) != n->len)
        return conf_err(doc, n, d, "%s: cannot read \"%s\" as an integer", key, n->text);
    if (errno == ERANGE || v < min || v > max)
        return conf_err(doc, n, d, "%s: %s is out of range [%lld, %lld]", key, n->text,
                        (long long)min, (long long)max);
    *out = v;
    return BW_OK;
}

int conf_double(const struct conf_doc *doc, const struct conf_node *n, const char *key, double *out,
                struct diag *d)
{
    if (n->kind != CONF_SCALAR)
        return conf_err(doc, n, d, "%s: expected a number, got %s", key, kind_name(n));
    if (!n->plain || n->len != strlen(n->text) || parse_finite(n->text, out) != BW_OK)
        return conf_err(doc, n, d, "%s: cannot read \"%s\" as a number", key, n->text);
    return BW_OK;
}

int conf_labels(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                struct arena *a, struct label **out, size_t *nout, struct diag *d)
{
    *out = NULL;
    *nout = 0;
    if (conf_is_null(n))
        return BW_OK;
    if (n->kind != CONF_MAP)
        return conf_err(doc, n, d, "%s: expected a map of labels, got %s", key, kind_name(n));
    struct label *v = arena_calloc(a, n->n + 1, sizeof(*v));
    if (!v)
        return diag_set(d, BW_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->n; i++) {
        const struct conf_node *k = n->kids[2 * i], *val = n->kids[2 * i + 1];
        const char *name, *value;
        int rc = scalar_of(doc, k, key, "a label name", &name, d);
        if (rc != BW_OK)
            return rc;
        if (!prom_name_valid(name, strlen(name), false) || strlen(name) != k->len)
            return conf_err(doc, k, d, "%s: invalid label name: \"%s\"", key, name);
        for (size_t p = 0; p < i; p++)
            if (!strcmp(v[p].name, name))
                return conf_err(doc, k, d, "mapping key \"%s\" already defined at line %d", name,
                                n->kids[2 * p]->line);
        rc = scalar_of(doc, val, name, "a string", &value, d);
        if (rc != BW_OK)
            return rc;
        v[i].name = arena_strdup(a, name);
        v[i].value = arena_strndup(a, value, val->null ? 0 : val->len);
        if (!v[i].name || !v[i].value)
            return diag_set(d, BW_ENOMEM, "out of memory");
    }
    labels_sort(v, n->n);
    *out = v;
    *nout = n->n;
    return BW_OK;
}

int conf_strings(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                 struct arena *a, const char ***out, size_t *nout, struct diag *d)
{
    *out = NULL;
    *nout = 0;
    if (conf_is_null(n))
        return BW_OK;
    if (n->kind != CONF_SEQ)
        return conf_err(doc, n, d, "%s: expected a list of strings, got %s", key, kind_name(n));
    const char **v = arena_calloc(a, n->n + 1, sizeof(*v));
    if (!v)
        return diag_set(d, BW_ENOMEM, "out of memory");
    for (size_t i = 0; i < n->n; i++) {
        const char *s;
        int rc = scalar_of(doc, n->kids[i], key, "a string", &s, d);
        if (rc != BW_OK)
            return rc;
        if (!(v[i] = arena_strndup(a, s, n->kids[i]->null ? 0 : n->kids[i]->len)))
            return diag_set(d, BW_ENOMEM, "out of memory");
    }
    *out = v;
    *nout = n->n;
    return BW_OK;
}
