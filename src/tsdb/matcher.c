/* matcher: label matchers (=, !=, =~, !~) with RE2-style regular expressions run by PCRE2.
 *
 * Main data structure: struct tsdb_matcher (tsdb.h), whose re holds the compiled pcre2_code,
 * JIT-compiled when the platform allows.
 *
 * The design decision: a matcher is shared by every thread running the query, and PCRE2 needs
 * scratch space (match data) for each match. Each thread keeps one match-data block of its own
 * (a pthread key, freed when the thread exits), sized for the whole-match pair only, since a
 * matcher asks "does it match" and never for groups; anchoring at both ends is done by the
 * compile options, so the pattern text is passed to PCRE2 unchanged. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/tsdb_int.h"

static pthread_key_t md_key;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static int md_key_ok;

static void md_free(void *p)
{
    pcre2_match_data_free(p);
}

static void md_key_make(void)
{
    md_key_ok = pthread_key_create(&md_key, md_free) == 0;
}

/* This thread's match data, or NULL when out of memory. */
static pcre2_match_data *thread_md(void)
{
    pthread_once(&md_once, md_key_make);
    if (!md_key_ok)
        return NULL;
    pcre2_match_data *md = pthread_getspecific(md_key);
    if (!md) {
        md = pcre2_match_data_create(1, NULL);
        if (md && pthread_setspecific(md_key, md) != 0) {
            pcre2_match_data_free(md);
            md = NULL;
        }
    }
    return md;
}

int tsdb_matcher_init(struct tsdb_matcher *m, enum tsdb_match_op op, const char *name,
                      const char *value, struct diag *d)
{
    int rc;
    *m = (struct tsdb_matcher){.op = op};
    m->name = xstrdup(name);
    m->value = xstrdup(value);
    if (!m->name || !m->value) {
        rc = diag_set(d, BW_ENOMEM, "out of memory");
        goto fail;
    }
    if (op == TSDB_MATCH_RE || op == TSDB_MATCH_NRE) {
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)value, PCRE2_ZERO_TERMINATED,
                                       PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL |
                                           PCRE2_UTF | PCRE2_NEVER_BACKSLASH_C,
                                       &err, &off, NULL);
        if (!re) {
            PCRE2_UCHAR why[256];
            pcre2_get_error_message(err, why, sizeof(why));
            rc = diag_set(d, err == PCRE2_ERROR_NOMEMORY ? BW_ENOMEM : BW_EINVAL,
                          "error parsing regexp: %s at offset %zu", (const char *)why, (size_t)off);
            goto fail;
        }
        /* Without JIT (an unsupported platform) pcre2_match interprets: slower, still right. */
        pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        m->re = re;
    }
    return BW_OK;

fail:
    tsdb_matcher_fini(m);
    return rc;
}

void tsdb_matcher_fini(struct tsdb_matcher *m)
{
    pcre2_code_free(m->re);
    free(m->name);
    free(m->value);
    m->re = NULL;
    m->name = m->value = NULL;
}

bool tsdb_matcher_matches(const struct tsdb_matcher *m, const char *value)
{
    switch (m->op) {
    case TSDB_MATCH_EQ:
        return strcmp(m->value, value) == 0;
    case TSDB_MATCH_NE:
        return strcmp(m->value, value) != 0;
    case TSDB_MATCH_RE:
    case TSDB_MATCH_NRE:
        break;
    }
    pcre2_match_data *md = thread_md();
    /* Out of memory or a value that is not UTF-8: treated as "does not match" the pattern. */
    int rc = md ? pcre2_match(m->re, (PCRE2_SPTR)value, strlen(value), 0, 0, md, NULL) : -1;
    return (rc >= 0) == (m->op == TSDB_MATCH_RE);
}
