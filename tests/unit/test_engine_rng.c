/* Tests for src/engine/rng.c: the xoshiro256** stream matches an independent implementation
 * (splitmix64 seeding included) for seeds 0 and 42; equal seeds give equal streams and
 * different seeds different ones; uniform deviates stay in [0, 1) with mean 1/2; normal
 * deviates have mean 0 and variance 1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <math.h>

#include "engine/internal.h"

static void test_reference_values(void **state)
{
    (void)state;
    static const struct {
        uint64_t seed, out[3];
    } ref[] = {
        {0, {0x99ec5f36cb75f2b4ULL, 0xbf6e1f784956452aULL, 0x1a5f849d4933e6e0ULL}},
        {42, {0x15780b2e0c2ec716ULL, 0x6104d9866d113a7eULL, 0xae17533239e499a1ULL}},
    };
    for (size_t i = 0; i < sizeof(ref) / sizeof(ref[0]); i++) {
        struct rng r;
        rng_seed(&r, ref[i].seed);
        for (int k = 0; k < 3; k++)
            assert_int_equal(rng_next(&r), ref[i].out[k]);
    }
}

static void test_same_seed_same_stream(void **state)
{
    (void)state;
    struct rng a, b, c;
    rng_seed(&a, 7);
    rng_seed(&b, 7);
    rng_seed(&c, 8);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        double x = rng_normal(&a), y = rng_normal(&b);
        assert_true(x == y);
        differ += x != rng_normal(&c);
    }
    assert_true(differ > 990);
}

static void test_uniform(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 1);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(fabs(sum / n - 0.5) < 0.005);
}

static void test_normal(void **state)
{
    (void)state;
    struct rng r;
    rng_seed(&r, 3);
    double sum = 0, sq = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = rng_normal(&r);
        assert_true(isfinite(z));
        sum += z;
        sq += z * z;
    }
    double mean = sum / n;
    assert_true(fabs(mean) < 0.01);
    assert_true(fabs(sq / n - mean * mean - 1.0) < 0.02);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_values),
        cmocka_unit_test(test_same_seed_same_stream),
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_normal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
