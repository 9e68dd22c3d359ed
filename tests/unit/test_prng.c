/* test_prng.c: exact xoshiro256** vectors (cross-checked against an
 * independent Python implementation of SplitMix64 + xoshiro256** + Lemire),
 * bounded draws, OS randomness. */
#include <check.h>
#include <string.h>

#include "restoredrill/prng.h"

START_TEST(test_seed_expansion)
{
    rd_prng p;
    rd_prng_seed(&p, 1234);
    ck_assert_uint_eq(p.s[0], 0xbb0cf61b2f181cdbULL);
    ck_assert_uint_eq(p.s[1], 0x97c7a1364df06524ULL);
    ck_assert_uint_eq(p.s[2], 0x33befae49bc025daULL);
    ck_assert_uint_eq(p.s[3], 0x4e6241f252d0a033ULL);
    /* SplitMix64's published first output for seed 0 */
    rd_prng_seed(&p, 0);
    ck_assert_uint_eq(p.s[0], 0xe220a8397b1dcdafULL);
}
END_TEST

START_TEST(test_next_vectors)
{
    static const uint64_t want[] = {0x0bab45d9a0e3ae53ULL, 0xd7c640660c19433eULL,
                                    0xb0dedaa0d09a6691ULL, 0xdec9f41b58ec86ebULL,
                                    0x19e4a6b7acda0ae0ULL};
    rd_prng p;
    rd_prng_seed(&p, 1234);
    for (int i = 0; i < 5; i++)
        ck_assert_uint_eq(rd_prng_next(&p), want[i]);
    rd_prng_seed(&p, 0);
    ck_assert_uint_eq(rd_prng_next(&p), 0x99ec5f36cb75f2b4ULL);
    ck_assert_uint_eq(rd_prng_next(&p), 0xbf6e1f784956452aULL);
}
END_TEST

START_TEST(test_below_vectors)
{
    static const uint64_t want[] = {0, 8, 6, 8, 1, 8, 4, 2, 5, 6};
    rd_prng p;
    rd_prng_seed(&p, 1234);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(rd_prng_below(&p, 10), want[i]);
    /* a bound just above 2^63 rejects about half the draws (2 of them here) */
    rd_prng_seed(&p, 1234);
    uint64_t n = (1ULL << 63) + 12345;
    ck_assert_uint_eq(rd_prng_below(&p, n), 6372432189867250841ULL);
    ck_assert_uint_eq(rd_prng_below(&p, n), 8026815372516027756ULL);
    ck_assert_uint_eq(rd_prng_below(&p, n), 932899726723713616ULL);
    ck_assert_uint_eq(rd_prng_below(&p, 0), 0);
    ck_assert_uint_eq(rd_prng_below(&p, 1), 0);
}
END_TEST

START_TEST(test_below_distribution)
{
    /* deterministic: the exact histogram of 70000 draws below 7, seed 1234 */
    static const int want[7] = {9946, 9983, 10139, 9986, 10005, 9903, 10038};
    int count[7] = {0};
    rd_prng p;
    rd_prng_seed(&p, 1234);
    for (int i = 0; i < 70000; i++) {
        uint64_t v = rd_prng_below(&p, 7);
        ck_assert_uint_lt(v, 7);
        count[v]++;
    }
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(count[i], want[i]);
        ck_assert_int_gt(count[i], 9700); /* sanity: within 3% of uniform */
        ck_assert_int_lt(count[i], 10300);
    }
}
END_TEST

START_TEST(test_unit)
{
    rd_prng p;
    rd_prng_seed(&p, 1234);
    ck_assert_double_eq(rd_prng_unit(&p), 0.045582166320754625);
    ck_assert_double_eq(rd_prng_unit(&p), 0.8428688286913699);
    ck_assert_double_eq(rd_prng_unit(&p), 0.6909004824270624);
    for (int i = 0; i < 10000; i++) {
        double u = rd_prng_unit(&p);
        ck_assert(u >= 0.0 && u < 1.0);
    }
}
END_TEST

START_TEST(test_same_seed_same_sequence)
{
    rd_prng a, b;
    rd_prng_seed(&a, 987654321);
    rd_prng_seed(&b, 987654321);
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(rd_prng_next(&a), rd_prng_next(&b));
    rd_prng_seed(&b, 987654322);
    ck_assert_uint_ne(rd_prng_next(&a), rd_prng_next(&b));
}
END_TEST

START_TEST(test_os_randomness)
{
    ck_assert_uint_ne(rd_prng_os_seed(), rd_prng_os_seed());
    char a[33], b[33];
    memset(a, 'X', sizeof a);
    rd_random_token(a, 32);
    rd_random_token(b, 32);
    ck_assert_uint_eq(strlen(a), 32);
    ck_assert_uint_eq(strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789"), 32);
    ck_assert_str_ne(a, b);
    char z[1] = {'X'};
    rd_random_token(z, 0);
    ck_assert_int_eq(z[0], '\0');
}
END_TEST

Suite *prng_suite(void);
Suite *prng_suite(void)
{
    Suite *s = suite_create("prng");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_seed_expansion);
    tcase_add_test(tc, test_next_vectors);
    tcase_add_test(tc, test_below_vectors);
    tcase_add_test(tc, test_below_distribution);
    tcase_add_test(tc, test_unit);
    tcase_add_test(tc, test_same_seed_same_sequence);
    tcase_add_test(tc, test_os_randomness);
    suite_add_tcase(s, tc);
    return s;
}
