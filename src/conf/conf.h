/* conf: YAML files read with their positions — the loaders of rule files, rule test files and
 * the alerting configuration build on it, so that nothing outside this module includes
 * yaml.h and every complaint names file:line:col the same way.
 *
 * A document is loaded whole (libyaml's document API) and read through const node handles
 * that stay valid until conf_doc_free. Errors: BW_EINVAL with "file:line:col" and the message
 * in a struct diag, columns 1-based as editors count them. */
#ifndef BW_CONF_H
#define BW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct conf_doc;
struct conf_node;

enum conf_kind { CONF_SCALAR, CONF_MAP, CONF_SEQ };

/* Loads path. BW_ENOENT / BW_EIO when it cannot be read (d names the path and the system's
 * reason), BW_EINVAL for a YAML syntax error at its position, BW_ENOMEM. An empty file is a
 * document whose root is NULL. */
int conf_doc_load(const char *path, struct conf_doc **out, struct diag *d);
/* The same from text in memory; name stands for the file in messages. */
int conf_doc_parse(const char *name, const char *text, size_t len, struct conf_doc **out,
                   struct diag *d);
void conf_doc_free(struct conf_doc *doc);
/* The file name given at load; the root node, or NULL for an empty document. */
const char *conf_doc_name(const struct conf_doc *doc);
const struct conf_node *conf_doc_root(const struct conf_doc *doc);

enum conf_kind conf_kind(const struct conf_node *n);
/* 1-based line and column of the node's first character. */
int conf_line(const struct conf_node *n);
int conf_col(const struct conf_node *n);
/* A scalar's text (NUL-terminated; length in *len when len is not NULL), NULL for a map or a
 * list. A null (~, null, or nothing) is a scalar whose conf_is_null is true. */
const char *conf_scalar(const struct conf_node *n, size_t *len);
bool conf_is_null(const struct conf_node *n);
/* Whether n is a scalar written without quotes or block indicator (its text then starts at
 * its position, which lets a caller point into it). */
bool conf_is_plain(const struct conf_node *n);
/* Entries of a map or items of a list (0 for a scalar); for a map, conf_key / conf_value of
 * entry i, for a list conf_item. */
size_t conf_len(const struct conf_node *n);
const struct conf_node *conf_key(const struct conf_node *map, size_t i);
const struct conf_node *conf_value(const struct conf_node *map, size_t i);
const struct conf_node *conf_item(const struct conf_node *seq, size_t i);

/* Sets d to "file:line:col: message" at n (the document's start when n is NULL) and returns
 * BW_EINVAL. */
int conf_err(const struct conf_doc *doc, const struct conf_node *n, struct diag *d, const char *fmt,
             ...) BW_PRINTF(4, 5);

/* Reads map as an object with the fields names[0..n): out[i] is the value of names[i] or NULL
 * when absent. Refuses (conf_err) a node that is not a map, a key that is not a plain scalar,
 * a key not in names ("field X not found in type WHAT", as Prometheus says, with the allowed
 * names) and a key given twice. what names the object in messages ("rule group"). */
int conf_fields(const struct conf_doc *doc, const struct conf_node *map, const char *what,
                const char *const *names, size_t n, const struct conf_node **out, struct diag *d);

/* Typed readers; each refuses a node of the wrong kind or a bad value with conf_err naming
 * key (the field, for the message) at the value's position. */
int conf_string(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                const char **out, struct diag *d);
/* A Prometheus duration ("1m30s", "250ms", "0s"), into ms. */
int conf_duration(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                  int64_t *ms, struct diag *d);
int conf_bool(const struct conf_doc *doc, const struct conf_node *n, const char *key, bool *out,
              struct diag *d);
int conf_int(const struct conf_doc *doc, const struct conf_node *n, const char *key, int64_t min,
             int64_t max, int64_t *out, struct diag *d);
int conf_double(const struct conf_doc *doc, const struct conf_node *n, const char *key, double *out,
                struct diag *d);
/* A map of label names to string values: names must be valid label names
 * ([a-zA-Z_][a-zA-Z0-9_]*), values any string. The labels, sorted by name, and their strings
 * are allocated in a. */
int conf_labels(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                struct arena *a, struct label **out, size_t *nout, struct diag *d);
/* A list of strings, allocated in a. */
int conf_strings(const struct conf_doc *doc, const struct conf_node *n, const char *key,
                 struct arena *a, const char ***out, size_t *nout, struct diag *d);

#endif
