/* rulefile.c: Prometheus rule files (rulefmt) loaded into a rule_set.
 *
 * Each path is expanded with glob(3) when it is a pattern, each file read as a YAML document
 * (conf.h) and walked groups → rules, validating as Prometheus's rulefmt does: unknown keys,
 * group names unique within a file, exactly one of alert/record, an expr that parses, no
 * for/keep_firing_for/annotations on recording rules, valid names, templates that parse.
 * The set owns one arena holding every group, rule and string; the YAML document is freed
 * after each file.
 *
 * The one decision: the first error stops the load and names its node's file:line:col; an
 * expr's parse error is moved to the file position of the offending character when the expr
 * is a plain one-line scalar (its text then starts where the node does). */
#include "alert/rules.h"

#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"

/* Everything one load carries along. */
struct loader {
    struct rule_set *rs;
    size_t cap_groups;
    const struct conf_doc *doc;
    const char *file;                   /* in rs->arena */
    const struct promql_options *query; /* expressions parse as the evaluator's queries do */
    struct diag *d;
};

static int oom(struct loader *l)
{
    return diag_set(l->d, BW_ENOMEM, "out of memory");
}

/* Parses the rule's expression; a parse error names the file position of what it found. */
static int check_expr(struct loader *l, const struct conf_node *n, const char *expr)
{
    struct arena a;
    struct promql_node *tree = NULL;
    struct promql_error err = {0};
    arena_init(&a, 0);
    int rc = promql_parse(expr, l->query, &a, &tree, &err);
    if (rc == BW_OK) {
        promql_node_release(tree);
    } else if (rc == BW_ENOMEM) {
        rc = oom(l);
    } else {
        int line = conf_line(n), col = conf_col(n);
        if (conf_is_plain(n) && !strchr(expr, '\n') && err.line == 1 && err.col > 0)
            col += err.col - 1;
        rc =
            diag_at(l->d, BW_EINVAL, l->file, line, col, "could not parse expression: %s", err.msg);
    }
    arena_fini(&a);
    return rc;
}

/* Checks each value of a labels or annotations map as a template named after the alert. */
static int check_templates(struct loader *l, const struct conf_node *map, const char *what,
                           const char *alert)
{
    char name[300], msg[400];
    snprintf(name, sizeof(name), "__alert_%s", alert);
    for (size_t i = 0; map && i < conf_len(map); i++) {
        const struct conf_node *v = conf_value(map, i);
        const char *text = conf_is_null(v) ? "" : conf_scalar(v, NULL);
        if (tmpl_check(name, text, msg, sizeof(msg)) != BW_OK)
            return conf_err(l->doc, v, l->d, "%s \"%s\": %s", what,
                            conf_scalar(conf_key(map, i), NULL), msg);
    }
    return BW_OK;
}

static int load_rule(struct loader *l, const struct conf_node *n, struct rule *r)
{
    static const char *const names[] = {"record",          "expr",   "alert",      "for",
                                        "keep_firing_for", "labels", "annotations"};
    enum { F_RECORD, F_EXPR, F_ALERT, F_FOR, F_KEEP, F_LABELS, F_ANNOTATIONS, F_N };
    const struct conf_node *f[F_N];
    struct arena *a = &l->rs->arena;
    const struct conf_doc *doc = l->doc;
    const char *record = "", *alert = "", *expr = "";
    int rc = conf_fields(doc, n, "rulefmt.RuleNode", names, F_N, f, l->d);
    if (rc != BW_OK)
        return rc;
    r->line = conf_line(n);
    r->col = conf_col(n);
    if (f[F_RECORD] && (rc = conf_string(doc, f[F_RECORD], "record", &record, l->d)) != BW_OK)
        return rc;
    if (f[F_ALERT] && (rc = conf_string(doc, f[F_ALERT], "alert", &alert, l->d)) != BW_OK)
        return rc;
    if (f[F_EXPR] && (rc = conf_string(doc, f[F_EXPR], "expr", &expr, l->d)) != BW_OK)
        return rc;
    if (*record && *alert)
        return conf_err(doc, f[F_RECORD], l->d, "only one of 'record' and 'alert' must be set");
    if (!*record && !*alert)
        return conf_err(doc, n, l->d, "one of 'record' or 'alert' must be set");
    if (!*expr)
        return conf_err(doc, f[F_EXPR] ? f[F_EXPR] : n, l->d, "field 'expr' must be set in rule");
    if ((rc = check_expr(l, f[F_EXPR], expr)) != BW_OK)
        return rc;
    r->kind = *alert ? RULE_ALERT : RULE_RECORD;
    if (f[F_FOR] && (rc = conf_duration(doc, f[F_FOR], "for", &r->for_ms, l->d)) != BW_OK)
        return rc;
    if (f[F_KEEP] && (rc = conf_duration(doc, f[F_KEEP], "keep_firing_for", &r->keep_firing_for_ms,
                                         l->d)) != BW_OK)
        return rc;
    if (f[F_LABELS] &&
        (rc = conf_labels(doc, f[F_LABELS], "labels", a, &r->labels, &r->nlabels, l->d)) != BW_OK)
        return rc;
    if (f[F_ANNOTATIONS] && (rc = conf_labels(doc, f[F_ANNOTATIONS], "annotations", a,
                                              &r->annotations, &r->nannotations, l->d)) != BW_OK)
        return rc;
    for (size_t i = 0; i < r->nlabels; i++)
        if (!strcmp(r->labels[i].name, LABEL_NAME))
            return conf_err(doc, f[F_LABELS], l->d, "invalid label name: %s", LABEL_NAME);
    if (r->kind == RULE_RECORD) {
        if (r->nannotations > 0)
            return conf_err(doc, f[F_ANNOTATIONS], l->d,
                            "invalid field 'annotations' in recording rule");
        if (r->for_ms != 0)
            return conf_err(doc, f[F_FOR], l->d, "invalid field 'for' in recording rule");
        if (r->keep_firing_for_ms != 0)
            return conf_err(doc, f[F_KEEP], l->d,
                            "invalid field 'keep_firing_for' in recording rule");
        if (!prom_name_valid(record, strlen(record), true))
            return conf_err(doc, f[F_RECORD], l->d, "invalid recording rule name: %s", record);
    } else {
        if (!utf8_valid(alert, strlen(alert)))
            return conf_err(doc, f[F_ALERT], l->d, "invalid alert name: %s", alert);
        if ((rc = check_templates(l, f[F_LABELS], "label", alert)) != BW_OK ||
            (rc = check_templates(l, f[F_ANNOTATIONS], "annotation", alert)) != BW_OK)
            return rc;
    }
    r->name = arena_strdup(a, *alert ? alert : record);
    r->expr = arena_strdup(a, expr);
    return r->name && r->expr ? BW_OK : oom(l);
}

/* Appends the group at n to the set; names[] holds the names of the file's earlier groups. */
static int load_group(struct loader *l, const struct conf_node *n, const char **names,
                      size_t ngroups_file)
{
    static const char *const fields[] = {"name",  "interval", "query_offset",
                                         "limit", "labels",   "rules"};
    enum { F_NAME, F_INTERVAL, F_OFFSET, F_LIMIT, F_LABELS, F_RULES, F_N };
    const struct conf_node *f[F_N];
    const struct conf_doc *doc = l->doc;
    struct rule_set *rs = l->rs;
    const char *name = "";
    int64_t limit = 0;
    int rc = conf_fields(doc, n, "rulefmt.RuleGroup", fields, F_N, f, l->d);
    if (rc != BW_OK)
        return rc;
    if (f[F_NAME] && (rc = conf_string(doc, f[F_NAME], "name", &name, l->d)) != BW_OK)
        return rc;
    if (!*name)
        return conf_err(doc, f[F_NAME] ? f[F_NAME] : n, l->d, "Groupname must not be empty");
    for (size_t i = 0; i < ngroups_file; i++)
        if (!strcmp(names[i], name))
            return conf_err(doc, n, l->d, "groupname: \"%s\" is repeated in the same file", name);
    struct rule_group *groups =
        arena_grow(&rs->arena, rs->groups, rs->ngroups, &l->cap_groups, sizeof(*groups));
    if (!groups)
        return oom(l);
    rs->groups = groups;
    struct rule_group *g = &groups[rs->ngroups];
    memset(g, 0, sizeof(*g));
    g->file = l->file;
    if (!(g->name = arena_strdup(&rs->arena, name)))
        return oom(l);
    names[ngroups_file] = g->name;
    if (f[F_INTERVAL] &&
        (rc = conf_duration(doc, f[F_INTERVAL], "interval", &g->interval_ms, l->d)) != BW_OK)
        return rc;
    if (f[F_OFFSET] &&
        (rc = conf_duration(doc, f[F_OFFSET], "query_offset", &g->query_offset_ms, l->d)) != BW_OK)
        return rc;
    if (f[F_LIMIT] &&
        (rc = conf_int(doc, f[F_LIMIT], "limit", 0, INT32_MAX, &limit, l->d)) != BW_OK)
        return rc;
    g->limit = (size_t)limit;
    if (f[F_LABELS] && (rc = conf_labels(doc, f[F_LABELS], "labels", &rs->arena, &g->labels,
                                         &g->nlabels, l->d)) != BW_OK)
        return rc;
    const struct conf_node *rules = f[F_RULES];
    if (rules && !conf_is_null(rules) && conf_kind(rules) != CONF_SEQ)
        return conf_err(doc, rules, l->d, "rules: expected a list of rules");
    size_t nrules = rules ? conf_len(rules) : 0;
    if (nrules && !(g->rules = arena_calloc(&rs->arena, nrules, sizeof(*g->rules))))
        return oom(l);
    for (size_t i = 0; i < nrules; i++) {
        if ((rc = load_rule(l, conf_item(rules, i), &g->rules[i])) != BW_OK)
            return rc;
        g->nrules++;
    }
    rs->ngroups++;
    return BW_OK;
}

static int load_file(struct loader *l, const char *path)
{
    static const char *const fields[] = {"groups"};
    struct conf_doc *doc = NULL;
    const char **names = NULL;
    const struct conf_node *groups;
    int rc = conf_doc_load(path, &doc, l->d);
    if (rc != BW_OK)
        return rc;
    l->doc = doc;
    l->rs->nfiles++;
    if (!(l->file = arena_strdup(&l->rs->arena, path))) {
        rc = oom(l);
        goto out;
    }
    const struct conf_node *root = conf_doc_root(doc);
    if (!root)
        goto out; /* an empty file has no groups */
    if ((rc = conf_fields(doc, root, "rulefmt.RuleGroups", fields, 1, &groups, l->d)) != BW_OK)
        goto out;
    if (!groups || conf_is_null(groups))
        goto out;
    if (conf_kind(groups) != CONF_SEQ) {
        rc = conf_err(doc, groups, l->d, "groups: expected a list of rule groups");
        goto out;
    }
    if (!(names = calloc(conf_len(groups) + 1, sizeof(*names)))) {
        rc = oom(l);
        goto out;
    }
    for (size_t i = 0; i < conf_len(groups) && rc == BW_OK; i++)
        rc = load_group(l, conf_item(groups, i), names, i);
out:
    free(names);
    conf_doc_free(doc);
    l->doc = NULL;
    return rc;
}

static bool is_pattern(const char *p)
{
    return strpbrk(p, "*?[") != NULL;
}

int rule_set_load(const char *const *paths, size_t npaths, struct rule_set **out, struct diag *d)
{
    return rule_set_load_opts(paths, npaths, NULL, out, d);
}

int rule_set_load_opts(const char *const *paths, size_t npaths, const struct promql_options *query,
                       struct rule_set **out, struct diag *d)
{
    int rc = BW_OK;
    struct rule_set *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return diag_set(d, BW_ENOMEM, "out of memory");
    arena_init(&rs->arena, 0);
    struct loader l = {.rs = rs, .query = query, .d = d};
    for (size_t i = 0; i < npaths && rc == BW_OK; i++) {
        if (!is_pattern(paths[i])) {
            rc = load_file(&l, paths[i]);
            continue;
        }
        glob_t g;
        int grc = glob(paths[i], 0, NULL, &g);
        /* As Go's filepath.Glob, unreadable directories are no match, not an error. */
        if (grc == GLOB_NOSPACE)
            rc = diag_set(d, BW_ENOMEM, "out of memory");
        for (size_t k = 0; grc == 0 && k < g.gl_pathc && rc == BW_OK; k++)
            rc = load_file(&l, g.gl_pathv[k]);
        globfree(&g);
    }
    if (rc != BW_OK) {
        rule_set_free(rs);
        return rc;
    }
    *out = rs;
    return BW_OK;
}

void rule_set_free(struct rule_set *rs)
{
    if (!rs)
        return;
    arena_fini(&rs->arena);
    free(rs);
}

size_t rule_set_count(const struct rule_set *rs, size_t *alerting, size_t *recording)
{
    size_t na = 0, nr = 0;
    for (size_t i = 0; i < rs->ngroups; i++)
        for (size_t k = 0; k < rs->groups[i].nrules; k++) {
            if (rs->groups[i].rules[k].kind == RULE_ALERT)
                na++;
            else
                nr++;
        }
    if (alerting)
        *alerting = na;
    if (recording)
        *recording = nr;
    return na + nr;
}
