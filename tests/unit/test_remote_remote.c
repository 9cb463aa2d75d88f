/* Tests for src/remote/remote.c without a network: the writer attached to an in-memory tsdb
 * turns every committed sample into batches of max_samples_per_send on disk, in order, stale
 * markers included, a stop writes the batch being built, and a second writer on the same
 * directory finds them (what a restart sends first). The batches are read back with snappy's
 * own decoder and walked as protobuf by hand. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <snappy-c.h>

#include "remote/remote_int.h"
#include "tsdb/tsdb.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/bw-rw-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static uint64_t varint(const uint8_t **p)
{
    uint64_t v = 0;
    for (int s = 0;; s += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80))
            return v;
    }
}

/* The timestamps and value bits of a batch's samples, in order, into t and bits; returns how
 * many. Each TimeSeries' last field is its Sample: value (9 bytes) then timestamp. */
static size_t samples_of(const struct buf *z, int64_t *t, uint64_t *bits, size_t cap)
{
    size_t n = 0, len = 0;
    assert_int_equal(snappy_uncompressed_length(z->data, z->len, &len), SNAPPY_OK);
    char *raw = malloc(len);
    assert_int_equal(snappy_uncompress(z->data, z->len, raw, &len), SNAPPY_OK);
    const uint8_t *p = (const uint8_t *)raw, *end = p + len;
    while (p < end) {
        assert_int_equal(*p++, 0x0a);
        uint64_t ts_len = varint(&p); /* before p is read: the call moves it */
        const uint8_t *ts_end = p + ts_len;
        while (p < ts_end) {
            uint8_t tag = *p++;
            uint64_t f_len = varint(&p);
            const uint8_t *f_end = p + f_len;
            if (tag == 0x12) { /* Sample */
                assert_int_equal(p[0], 0x09);
                assert_true(n < cap);
                bits[n] = 0;
                for (int i = 0; i < 8; i++)
                    bits[n] |= (uint64_t)p[1 + i] << (8 * i);
                const uint8_t *q = p + 9;
                assert_int_equal(*q++, 0x10);
                t[n++] = (int64_t)varint(&q);
                assert_true(q == f_end);
            }
            p = f_end;
        }
    }
    free(raw);
    return n;
}

static void test_batches_on_disk(void **state)
{
    struct remote_config c;
    struct tsdb *db;
    bw_registry *reg = bw_registry_new(0);
    struct remote_writer *w;
    struct diag d = {0};
    remote_config_init(&c);
    assert_int_equal(remote_config_add_url(&c, "http://127.0.0.1:9/api/v1/write"), BW_OK);
    c.targets[0].name = "t";
    c.targets[0].max_samples_per_send = 3;
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    assert_int_equal(remote_writer_new(&c, dir, db, reg, &w, &d), BW_OK);
    /* Not started: nothing is sent, everything stays queued. */
    struct label la[] = {{"__name__", "a"}}, lb[] = {{"__name__", "b"}, {"x", "1"}};
    struct labelset a = {la, 1}, b = {lb, 2};
    uint64_t ra = 0, rb = 0;
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(tsdb_append(db, &a, 1000 * i, i, &ra), BW_OK);
        assert_int_equal(tsdb_append(db, &b, 1000 * i, -i, &rb), BW_OK);
        assert_int_equal(tsdb_commit(db, &d), BW_OK);
    }
    assert_int_equal(tsdb_append(db, &a, 4000, tsdb_stale_nan(), &ra), BW_OK);
    assert_int_equal(tsdb_append(db, &a, 3000, 9, &ra), BW_ERANGE); /* refused: not sent */
    assert_int_equal(tsdb_commit(db, &d), BW_OK);
    tsdb_close(db);
    remote_writer_free(w); /* the 7th sample, in the batch being built, goes to disk */

    char qdir[128];
    struct remote_queue q;
    snprintf(qdir, sizeof(qdir), "%s/remote/t", dir);
    assert_int_equal(remote_queue_open(&q, qdir, 1 << 20, &d), BW_OK);
    assert_int_equal(q.n, 3);
    assert_int_equal(q.samples, 7);
    int64_t want_t[] = {1000, 1000, 2000, 2000, 3000, 3000, 4000};
    double want_v[] = {1, -1, 2, -2, 3, -3, 0};
    size_t k = 0;
    struct buf z;
    struct remote_seg seg;
    buf_init(&z, 0);
    for (size_t i = 0; i < 3; i++) {
        int64_t t[8];
        uint64_t bits[8];
        assert_int_equal(remote_queue_next(&q, &seg), BW_OK);
        assert_int_equal(remote_queue_read(&q, &seg, &z, &d), BW_OK);
        size_t n = samples_of(&z, t, bits, 8);
        assert_int_equal(n, seg.samples);
        assert_int_equal(n, i < 2 ? 3 : 1);
        for (size_t j = 0; j < n; j++, k++) {
            assert_true(t[j] == want_t[k]);
            uint64_t wb;
            memcpy(&wb, &want_v[k], 8);
            assert_true(bits[j] == (k == 6 ? TSDB_STALE_NAN_BITS : wb));
        }
        remote_queue_pop(&q);
    }
    buf_fini(&z);
    remote_queue_close(&q);
    remote_config_fini(&c);
    bw_registry_free(reg);
}

/* Two receivers named alike would share one directory: refused before anything is opened. */
static void test_same_name_refused(void **state)
{
    struct remote_config c;
    struct tsdb *db;
    bw_registry *reg = bw_registry_new(0);
    struct remote_writer *w = (struct remote_writer *)&c;
    struct diag d = {0};
    remote_config_init(&c);
    assert_int_equal(remote_config_add_url(&c, "http://127.0.0.1:9/a"), BW_OK);
    assert_int_equal(remote_config_add_url(&c, "http://127.0.0.1:9/b"), BW_OK);
    c.targets[0].name = c.targets[1].name = "same";
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    assert_int_equal(remote_writer_new(&c, dir, db, reg, &w, &d), BW_EINVAL);
    assert_null(w);
    assert_non_null(strstr(d.msg, "same"));
    char path[128];
    snprintf(path, sizeof(path), "%s/remote", dir);
    assert_int_equal(access(path, F_OK), -1);
    tsdb_close(db);
    remote_config_fini(&c);
    bw_registry_free(reg);
}

/* The writing thread commits while the sender cuts batches at their deadline and retries a
 * receiver that is not there: every sample ends up queued once, in order, whoever cut it. */
static void test_concurrent_cuts(void **state)
{
    enum { N = 3000 };
    struct remote_config c;
    struct tsdb *db;
    bw_registry *reg = bw_registry_new(0);
    struct remote_writer *w;
    struct diag d = {0};
    remote_config_init(&c);
    assert_int_equal(remote_config_add_url(&c, "http://127.0.0.1:1/w"), BW_OK);
    c.targets[0].name = "t";
    c.targets[0].max_samples_per_send = 7;
    c.targets[0].batch_send_deadline_ms = 1;
    c.targets[0].min_backoff_ms = c.targets[0].max_backoff_ms = 1;
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    assert_int_equal(remote_writer_new(&c, dir, db, reg, &w, &d), BW_OK);
    assert_int_equal(remote_writer_start(w, &d), BW_OK);
    struct label la[] = {{"__name__", "a"}};
    struct labelset a = {la, 1};
    uint64_t ra = 0;
    for (int i = 1; i <= N;) {
        for (int k = 0; k < 1 + i % 5 && i <= N; k++, i++)
            assert_int_equal(tsdb_append(db, &a, i, i, &ra), BW_OK);
        assert_int_equal(tsdb_commit(db, &d), BW_OK);
        if (i % 50 == 0)
            usleep(500);
    }
    tsdb_close(db);
    remote_writer_free(w);

    char qdir[128];
    struct remote_queue q;
    struct remote_seg seg;
    struct buf z;
    int64_t t[8];
    uint64_t bits[8];
    int64_t next = 1;
    snprintf(qdir, sizeof(qdir), "%s/remote/t", dir);
    assert_int_equal(remote_queue_open(&q, qdir, 1 << 30, &d), BW_OK);
    assert_int_equal(q.samples, N);
    buf_init(&z, 0);
    while (remote_queue_next(&q, &seg) == BW_OK) {
        assert_int_equal(remote_queue_read(&q, &seg, &z, &d), BW_OK);
        size_t n = samples_of(&z, t, bits, 8);
        assert_int_equal(n, seg.samples);
        for (size_t j = 0; j < n; j++)
            assert_true(t[j] == next++);
        remote_queue_pop(&q);
    }
    assert_true(next == N + 1);
    buf_fini(&z);
    remote_queue_close(&q);
    remote_config_fini(&c);
    bw_registry_free(reg);
}

/* The value of series `name{remote_name="t",...}` in reg's exposition, -1 when absent. */
static double metric(bw_registry *reg, const char *name)
{
    char *text = NULL, key[128];
    size_t cap = 0, len = 0;
    double v = -1;
    assert_int_equal(bw_registry_expose(reg, BW_FORMAT_TEXT, &text, &cap, &len), BW_OK);
    snprintf(key, sizeof(key), "\n%s{remote_name=\"t\",", name);
    const char *p = strstr(text, key);
    if (p && (p = strchr(p + 1, '}')))
        v = strtod(p + 1, NULL);
    free(text);
    return v;
}

/* Batches that cannot be queued (here each over queue_max_bytes alone) are all counted as
 * dropped, but the writing thread warns once, not once a batch. */
static void test_write_failures_logged_once(void **state)
{
    struct remote_config c;
    struct tsdb *db;
    bw_registry *reg = bw_registry_new(0);
    struct remote_writer *w;
    struct diag d = {0};
    char logpath[128], line[512];
    remote_config_init(&c);
    assert_int_equal(remote_config_add_url(&c, "http://127.0.0.1:1/w"), BW_OK);
    c.targets[0].name = "t";
    c.targets[0].max_samples_per_send = 1;
    c.targets[0].queue_max_bytes = 8;
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    assert_int_equal(remote_writer_new(&c, dir, db, reg, &w, &d), BW_OK);
    snprintf(logpath, sizeof(logpath), "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(2), fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, 2);
    close(fd);
    struct label la[] = {{"__name__", "a"}};
    struct labelset a = {la, 1};
    uint64_t ra = 0;
    for (int i = 1; i <= 10; i++) {
        assert_int_equal(tsdb_append(db, &a, i, i, &ra), BW_OK);
        assert_int_equal(tsdb_commit(db, &d), BW_OK);
    }
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    tsdb_close(db);
    remote_writer_free(w);
    assert_true(metric(reg, "remote_storage_samples_dropped_total") == 10);
    FILE *f = fopen(logpath, "r");
    int warnings = 0;
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        warnings += strstr(line, "samples dropped") != NULL;
    fclose(f);
    assert_int_equal(warnings, 1);
    remote_config_fini(&c);
    bw_registry_free(reg);
}

/* The sender meets a batch whose file was damaged after it was queued: skipped, removed,
 * its samples counted as dropped, and the next batch tried (here refused: nothing listens). */
static void test_sender_skips_corrupt(void **state)
{
    struct remote_config c;
    struct tsdb *db;
    bw_registry *reg = bw_registry_new(0);
    struct remote_writer *w;
    struct remote_queue q;
    struct diag d = {0};
    char qdir[128], seg1[160], seg2[160];
    snprintf(qdir, sizeof(qdir), "%s/remote/t", dir);
    assert_int_equal(remote_queue_open(&q, qdir, 1 << 20, &d), BW_OK);
    assert_int_equal(remote_queue_push(&q, "0123456789", 10, 5, 1, 1, &d), BW_OK);
    assert_int_equal(remote_queue_push(&q, "abcdefghij", 10, 7, 2, 2, &d), BW_OK);
    remote_queue_close(&q);
    snprintf(seg1, sizeof(seg1), "%s/0000000000000001.seg", qdir);
    snprintf(seg2, sizeof(seg2), "%s/0000000000000002.seg", qdir);
    FILE *f = fopen(seg1, "r+b");
    assert_non_null(f);
    fseek(f, REMOTE_SEG_HEADER + 3, SEEK_SET);
    fputc('X', f);
    fclose(f);

    remote_config_init(&c);
    assert_int_equal(remote_config_add_url(&c, "http://127.0.0.1:1/w"), BW_OK);
    c.targets[0].name = "t";
    c.targets[0].min_backoff_ms = c.targets[0].max_backoff_ms = 20;
    assert_int_equal(tsdb_open(NULL, NULL, &db, &d), BW_OK);
    assert_int_equal(remote_writer_new(&c, dir, db, reg, &w, &d), BW_OK);
    assert_int_equal(remote_writer_start(w, &d), BW_OK);
    for (int i = 0; i < 300 && metric(reg, "remote_storage_samples_retried_total") < 7; i++)
        usleep(10000);
    tsdb_close(db);
    remote_writer_free(w);
    assert_true(metric(reg, "remote_storage_samples_dropped_total") == 5);
    assert_true(metric(reg, "remote_storage_samples_retried_total") >= 7);
    assert_true(metric(reg, "remote_storage_samples_pending") == 7);
    assert_int_equal(access(seg1, F_OK), -1);
    assert_int_equal(access(seg2, F_OK), 0);
    remote_config_fini(&c);
    bw_registry_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batches_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_name_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sender_skips_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_cuts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_failures_logged_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
