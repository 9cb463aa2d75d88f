/* fuzz.h: what the libFuzzer targets in tests/fuzz/ share — the entry point's prototype (clang's
 * -Wmissing-prototypes wants one), a NUL-terminated copy of the input, and a file holding the
 * input for loaders that only read paths. The design decision: the file is one memfd per process,
 * truncated and rewritten on each run and named by /proc/self/fd/N, so no run touches the disk
 * and nothing is left behind when a fuzzer is killed. */
#ifndef BW_FUZZ_H
#define BW_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data[0..size) and a NUL, malloc'd (the caller frees); aborts when out of memory, which
 * libFuzzer reports as a crash rather than a silent skip. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A path whose file holds exactly data[0..size) until the next call. Aborts when the memfd
 * cannot be made or written (the harness is broken then, not the code under test). */
static inline const char *fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz-input", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = pwrite(fd, data + off, size - off, (off_t)off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    return path;
}

#endif
