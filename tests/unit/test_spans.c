/* test_spans.c: span sets (half-open [from, to)): merge, subtract,
 * intersect, the least covered part and the k-th instant. */
#include <check.h>
#include <stdlib.h>

#include "restoredrill/spans.h"

START_TEST(merge_sorts_joins_and_drops_empty)
{
    rd_span s[5] = {{30, 40}, {0, 10}, {10, 15}, {50, 50}, {35, 45}};
    size_t n = rd_spans_merge(s, 5);
    ck_assert_uint_eq(n, 2);
    ck_assert_int_eq(s[0].from_ms, 0);
    ck_assert_int_eq(s[0].to_ms, 15); /* touching spans join */
    ck_assert_int_eq(s[1].from_ms, 30);
    ck_assert_int_eq(s[1].to_ms, 45);
    ck_assert_int_eq(rd_spans_length(s, n), 30);
    ck_assert_uint_eq(rd_spans_merge(NULL, 0), 0);
}
END_TEST

START_TEST(subtract_and_intersect)
{
    rd_span holes[2] = {{10, 20}, {30, 35}}, *out = NULL;
    size_t n = 0;
    ck_assert_int_eq(rd_spans_subtract(0, 40, holes, 2, &out, &n, NULL), RD_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[0].from_ms, 0);
    ck_assert_int_eq(out[0].to_ms, 10);
    ck_assert_int_eq(out[1].from_ms, 20);
    ck_assert_int_eq(out[1].to_ms, 30);
    ck_assert_int_eq(out[2].from_ms, 35);
    ck_assert_int_eq(out[2].to_ms, 40);
    free(out);
    ck_assert_int_eq(rd_spans_subtract(12, 18, holes, 2, &out, &n, NULL), RD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(out);

    rd_span a[2] = {{0, 10}, {20, 30}}, b[2] = {{5, 25}, {28, 100}};
    ck_assert_int_eq(rd_spans_intersect(a, 2, b, 2, &out, &n, NULL), RD_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[0].from_ms, 5);
    ck_assert_int_eq(out[0].to_ms, 10);
    ck_assert_int_eq(out[1].from_ms, 20);
    ck_assert_int_eq(out[1].to_ms, 25);
    ck_assert_int_eq(out[2].from_ms, 28);
    ck_assert_int_eq(out[2].to_ms, 30);
    free(out);
}
END_TEST

START_TEST(least_covered_and_nth)
{
    rd_span allowed[2] = {{0, 100}, {200, 300}}, *out = NULL;
    rd_span cover[3] = {{0, 100}, {200, 250}, {50, 260}}; /* any order, overlapping */
    size_t n = 0, depth = 9;
    ck_assert_int_eq(rd_spans_least(cover, 3, allowed, 2, &out, &n, &depth, NULL), RD_OK);
    ck_assert_uint_eq(depth, 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(out[0].from_ms, 260);
    ck_assert_int_eq(out[0].to_ms, 300);
    free(out);
    rd_span all[3] = {{0, 300}, {0, 300}, {40, 60}};
    ck_assert_int_eq(rd_spans_least(all, 3, allowed, 2, &out, &n, &depth, NULL), RD_OK);
    ck_assert_uint_eq(depth, 2);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(out[0].to_ms, 40);
    ck_assert_int_eq(out[1].from_ms, 60);
    ck_assert_int_eq(out[1].to_ms, 100);
    ck_assert_int_eq(rd_spans_length(out, n), 40 + 40 + 100);
    ck_assert_int_eq(rd_spans_nth(out, n, 0), 0);
    ck_assert_int_eq(rd_spans_nth(out, n, 40), 60);
    ck_assert_int_eq(rd_spans_nth(out, n, 80), 200);
    ck_assert_int_eq(rd_spans_nth(out, n, 179), 299);
    free(out);
    /* nothing allowed */
    ck_assert_int_eq(rd_spans_least(cover, 3, NULL, 0, &out, &n, &depth, NULL), RD_OK);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(out);
}
END_TEST

Suite *spans_suite(void);
Suite *spans_suite(void)
{
    Suite *s = suite_create("spans");
    TCase *tc = tcase_create("spans");
    tcase_add_test(tc, merge_sorts_joins_and_drops_empty);
    tcase_add_test(tc, subtract_and_intersect);
    tcase_add_test(tc, least_covered_and_nth);
    suite_add_tcase(s, tc);
    return s;
}
