/* tmpdir: a fresh directory under /tmp for each test, as a cmocka setup/teardown pair. The
 * state is the directory's path (a char *); teardown removes it with everything in it. */
#ifndef BW_TEST_TMPDIR_H
#define BW_TEST_TMPDIR_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static inline int tmpdir_setup(void **state)
{
    char *path = strdup("/tmp/bw-test-XXXXXX");
    if (!path || !mkdtemp(path)) {
        free(path);
        return -1;
    }
    *state = path;
    return 0;
}

static inline int tmpdir_remove_entry(const char *path, const struct stat *st, int flag,
                                      struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static inline int tmpdir_teardown(void **state)
{
    char *path = *state;
    int rc = nftw(path, tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(path);
    return rc;
}

/* "<dir>/<name>" into out (which holds n bytes). */
static inline const char *tmpdir_join(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
    return out;
}

/* Whether path exists (as anything). */
static inline int tmpdir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* How many entries dir holds, "." and ".." aside; -1 if it cannot be read. */
static inline int tmpdir_count(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

#endif
