/* Tests for src/remote/queue.c: batches come back in the order they were pushed, across a
 * reopen; the bound drops the oldest batches first (never the one in flight) and counts their
 * samples; a truncated segment, a corrupt one and a leftover .tmp are skipped and removed
 * without harm to the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "remote/remote_int.h"

static char dir[64];

static int setup(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/bw-rq-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

/* Pushes a batch whose payload is 100 bytes of byte id, with id samples at t = id. */
static void push(struct remote_queue *q, int id)
{
    char payload[100];
    struct diag d = {0};
    memset(payload, id, sizeof(payload));
    assert_int_equal(remote_queue_push(q, payload, sizeof(payload), (uint32_t)id, id, id, &d),
                     BW_OK);
}

/* Peeks the oldest batch and checks it is id's. */
static void expect(struct remote_queue *q, int id)
{
    struct buf b;
    struct remote_seg s;
    struct diag d = {0};
    buf_init(&b, 0);
    assert_int_equal(remote_queue_next(q, &s), BW_OK);
    assert_true(q->inflight == s.seq);
    assert_int_equal(remote_queue_read(q, &s, &b, &d), BW_OK);
    assert_int_equal(b.len, 100);
    assert_int_equal((unsigned char)b.data[0], id);
    assert_int_equal((unsigned char)b.data[99], id);
    assert_int_equal(s.samples, id);
    assert_true(s.max_t == id);
    buf_fini(&b);
}

static void seg_file(const struct remote_queue *q, size_t i, char *out, size_t len)
{
    snprintf(out, len, "%s/%016llx.seg", q->dir, (unsigned long long)q->segs[i].seq);
}

static void test_order_and_reopen(void **state)
{
    struct remote_queue q;
    struct diag d = {0};
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/remote/a", dir); /* parents are created */
    assert_int_equal(remote_queue_open(&q, sub, 1 << 20, &d), BW_OK);
    for (int i = 1; i <= 3; i++)
        push(&q, i);
    assert_int_equal(q.n, 3);
    assert_int_equal(q.samples, 6);
    assert_int_equal(q.bytes, 3 * (100 + REMOTE_SEG_HEADER));
    expect(&q, 1);
    remote_queue_pop(&q);
    remote_queue_close(&q);
    /* A restart finds 2 and 3, in order, and numbers new batches after them. */
    assert_int_equal(remote_queue_open(&q, sub, 1 << 20, &d), BW_OK);
    assert_int_equal(q.n, 2);
    assert_int_equal(q.samples, 5);
    push(&q, 4);
    expect(&q, 2);
    remote_queue_pop(&q);
    expect(&q, 3);
    remote_queue_pop(&q);
    expect(&q, 4);
    remote_queue_pop(&q);
    struct buf b;
    struct remote_seg s;
    buf_init(&b, 0);
    assert_int_equal(remote_queue_next(&q, &s), BW_ENOENT);
    assert_int_equal(q.bytes, 0);
    buf_fini(&b);
    remote_queue_close(&q);
}

static void test_bound_drops_oldest(void **state)
{
    struct remote_queue q;
    struct diag d = {0};
    int64_t seg = 100 + REMOTE_SEG_HEADER;
    assert_int_equal(remote_queue_open(&q, dir, 3 * seg, &d), BW_OK);
    for (int i = 1; i <= 5; i++)
        push(&q, i);
    /* Room for three: 1 and 2 went, their 3 samples counted. */
    assert_int_equal(q.n, 3);
    assert_true(q.bytes <= 3 * seg);
    assert_int_equal(q.dropped, 1 + 2);
    assert_int_equal(q.n_dropped, 2);
    expect(&q, 3); /* 3 is now in flight: the next push drops 4 instead */
    push(&q, 6);
    assert_int_equal(q.dropped, 1 + 2 + 4);
    remote_queue_pop(&q);
    expect(&q, 5);
    remote_queue_pop(&q);
    expect(&q, 6);
    remote_queue_pop(&q);
    /* Files and counts agree: nothing left on disk. */
    char path[128];
    snprintf(path, sizeof(path), "%s/0000000000000001.seg", dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(q.n, 0);
    assert_int_equal(q.samples, 0);
    remote_queue_close(&q);
}

static void test_truncated_and_corrupt(void **state)
{
    struct remote_queue q;
    struct diag d = {0};
    char path[128];
    assert_int_equal(remote_queue_open(&q, dir, 1 << 20, &d), BW_OK);
    for (int i = 1; i <= 4; i++)
        push(&q, i);
    /* 2 cut short (a crash mid-write), 3 with a flipped payload byte. */
    seg_file(&q, 1, path, sizeof(path));
    assert_int_equal(truncate(path, REMOTE_SEG_HEADER + 40), 0);
    seg_file(&q, 2, path, sizeof(path));
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, REMOTE_SEG_HEADER + 50, SEEK_SET);
    fputc(0xff, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/0000000000000009.tmp", dir);
    f = fopen(path, "wb");
    fputs("half a batch", f);
    fclose(f);
    remote_queue_close(&q);

    assert_int_equal(remote_queue_open(&q, dir, 1 << 20, &d), BW_OK);
    assert_int_equal(access(path, F_OK), -1); /* the .tmp is gone */
    assert_int_equal(q.n, 3);                 /* 2 was refused by its size */
    expect(&q, 1);
    remote_queue_pop(&q);
    struct buf b;
    struct remote_seg s;
    buf_init(&b, 0);
    assert_int_equal(remote_queue_next(&q, &s), BW_OK);
    assert_int_equal(remote_queue_read(&q, &s, &b, &d), BW_EIO); /* 3: the checksum */
    assert_non_null(strstr(d.file, "0000000000000003.seg"));
    assert_int_equal(q.n, 2); /* the caller removes it */
    remote_queue_pop(&q);
    assert_int_equal(q.n, 1);
    buf_fini(&b);
    expect(&q, 4);
    remote_queue_pop(&q);
    assert_int_equal(q.bytes, 0);
    remote_queue_close(&q);
}

/* A batch larger than the whole bound is refused as it is, and the batches already queued
 * stay: the files never exceed the bound (plus the one in flight). */
static void test_batch_over_bound(void **state)
{
    struct remote_queue q;
    struct diag d = {0};
    char big[200] = {0};
    int64_t seg = 100 + REMOTE_SEG_HEADER;
    assert_int_equal(remote_queue_open(&q, dir, 150, &d), BW_OK);
    push(&q, 1);
    assert_int_equal(remote_queue_push(&q, big, sizeof(big), 9, 9, 9, &d), BW_ENOSPC);
    assert_non_null(strstr(d.msg, "queue_max_bytes"));
    assert_int_equal(q.n, 1);
    assert_int_equal(q.bytes, seg);
    assert_int_equal(q.dropped, 0);
    expect(&q, 1);
    remote_queue_pop(&q);
    assert_int_equal(q.n, 0);
    remote_queue_close(&q);
}

/* Files that are not exactly what the queue writes (16 lowercase hex digits) are not its
 * own, whatever strtoull makes of them: left alone, never sent, numbering unchanged. */
static void test_foreign_names(void **state)
{
    static const char *const names[] = {"-000000000000001.seg", "0x00000000000001.seg",
                                        "000000000000000A.seg", " 00000000000000b.seg",
                                        "0000000000000000.seg", "00000000000000001.seg"};
    struct remote_queue q;
    struct diag d = {0};
    char path[128];
    assert_int_equal(remote_queue_open(&q, dir, 1 << 20, &d), BW_OK);
    push(&q, 1);
    remote_queue_close(&q);
    /* Each a copy of a valid batch, so only its name can keep it out. */
    snprintf(path, sizeof(path), "%s/0000000000000001.seg", dir);
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(buf_read_file(&b, path, &d), BW_OK);
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
        fclose(f);
    }
    buf_fini(&b);
    assert_int_equal(remote_queue_open(&q, dir, 1 << 20, &d), BW_OK);
    assert_int_equal(q.n, 1);
    assert_int_equal(q.next_seq, 2);
    push(&q, 2);
    expect(&q, 1);
    remote_queue_pop(&q);
    expect(&q, 2);
    remote_queue_pop(&q);
    for (size_t i = 0; i < BW_ARRAY_LEN(names); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        assert_int_equal(access(path, F_OK), 0);
    }
    remote_queue_close(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_order_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_corrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_over_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
