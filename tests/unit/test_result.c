/* test_result.c: the result model: construction, defaults, setters,
 * verdict ordering, settling and summaries. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/result.h"

START_TEST(test_verdict_names)
{
    ck_assert_str_eq(rd_verdict_name(RD_PASSED), "passed");
    ck_assert_str_eq(rd_verdict_name(RD_FAILED), "failed");
    ck_assert_str_eq(rd_verdict_name(RD_ERROR), "error");
    ck_assert_str_eq(rd_verdict_name(RD_SKIPPED), "skipped");
    ck_assert_str_eq(rd_verdict_name(RD_ABORTED), "aborted");
    ck_assert_int_eq(rd_verdict_parse("passed"), RD_PASSED);
    ck_assert_int_eq(rd_verdict_parse("aborted"), RD_ABORTED);
    ck_assert_int_eq(rd_verdict_parse("skipped"), RD_SKIPPED);
    ck_assert_int_eq(rd_verdict_parse("Passed"), -1);
    ck_assert_int_eq(rd_verdict_parse(""), -1);
    ck_assert_int_eq(rd_verdict_parse(NULL), -1);
}
END_TEST

START_TEST(test_verdict_worse)
{
    ck_assert_int_eq(rd_verdict_worse(RD_PASSED, RD_SKIPPED), RD_PASSED);
    ck_assert_int_eq(rd_verdict_worse(RD_SKIPPED, RD_PASSED), RD_PASSED);
    ck_assert_int_eq(rd_verdict_worse(RD_PASSED, RD_FAILED), RD_FAILED);
    ck_assert_int_eq(rd_verdict_worse(RD_ERROR, RD_FAILED), RD_ERROR);
    ck_assert_int_eq(rd_verdict_worse(RD_ERROR, RD_ABORTED), RD_ABORTED);
    ck_assert_int_eq(rd_verdict_worse(RD_ABORTED, RD_PASSED), RD_ABORTED);
}
END_TEST

START_TEST(test_defaults_and_setters)
{
    rd_report *r = rd_report_new();
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(r->status, RD_PASSED);
    rd_target_result *t = rd_report_add_target(r, "orders", "postgres");
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->name, "orders");
    ck_assert_str_eq(t->engine, "postgres");
    ck_assert(t->rto.seconds < 0 && t->rto.target_seconds < 0);
    ck_assert(t->rpo.seconds < 0 && t->rpo.target_seconds < 0);
    ck_assert(t->data_ready_seconds < 0 && t->data_lag_seconds < 0);
    ck_assert(t->rpo_exposure_seconds < 0 && t->newest_age_seconds < 0);
    ck_assert_int_eq(t->point.bytes, -1);
    ck_assert_ptr_null(t->point.id);

    rd_check_result *c =
        rd_target_add_check(t, "rowcount", NULL, "public.orders", RD_FAILED, "row count differs");
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(c->id, "rowcount:public.orders");
    ck_assert_str_eq(c->check, "rowcount");
    ck_assert(c->seconds < 0);
    rd_check_set_expected(c, "%d rows", 100);
    rd_check_set_actual(c, "%d rows", 99);
    rd_check_set_actual(c, "%d rows", 98);
    rd_check_set_message(c, "missing %s", "rows");
    rd_check_set_output(c, "tail");
    rd_check_set_output(c, NULL);
    rd_check_add_prop(c, "chunks", "%d", 4);
    rd_check_add_prop(c, "table", "%s", "orders");
    ck_assert_str_eq(c->expected, "100 rows");
    ck_assert_str_eq(c->actual, "98 rows");
    ck_assert_str_eq(c->message, "missing rows");
    ck_assert_ptr_null(c->output);
    ck_assert_uint_eq(c->nprops, 2);
    ck_assert_str_eq(c->props[1].name, "table");
    ck_assert_str_eq(c->props[1].value, "orders");

    c = rd_target_add_check(t, "sql", "customers present", NULL, RD_PASSED, NULL);
    ck_assert_str_eq(c->id, "customers present");
    ck_assert_str_eq(c->object, "customers present");
    ck_assert_ptr_null(c->message);

    rd_phase *p = rd_target_add_phase(t, "restore", 1.5, RD_PASSED);
    ck_assert_str_eq(p->name, "restore");
    ck_assert_uint_eq(t->nphases, 1);
    rd_target_set_error(t, "restore failed: exit %d", 1);
    ck_assert_str_eq(t->error, "restore failed: exit 1");
    rd_report_free(r);
    rd_report_free(NULL);
}
END_TEST

START_TEST(test_settle)
{
    rd_report *r = rd_report_new();
    rd_target_result *a = rd_report_add_target(r, "a", "postgres");
    rd_target_add_check(a, "rowcount", NULL, "t1", RD_PASSED, NULL);
    rd_target_add_check(a, "rowcount", NULL, "t2", RD_SKIPPED, NULL);
    rd_target_settle(a);
    ck_assert_int_eq(a->status, RD_PASSED);

    rd_target_result *b = rd_report_add_target(r, "b", "mariadb");
    rd_target_add_check(b, "rowcount", NULL, "t1", RD_SKIPPED, NULL);
    rd_target_settle(b);
    ck_assert_int_eq(b->status, RD_PASSED); /* skipped-only = passed */
    rd_report_settle(r);
    ck_assert_int_eq(r->status, RD_PASSED);

    rd_target_result *c = rd_report_add_target(r, "c", "mariadb");
    rd_target_add_check(c, "integrity", NULL, "t1", RD_FAILED, NULL);
    rd_target_add_check(c, "integrity", NULL, "t2", RD_ERROR, NULL);
    rd_target_settle(c);
    ck_assert_int_eq(c->status, RD_ERROR);
    rd_report_settle(r);
    ck_assert_int_eq(r->status, RD_ERROR);

    /* a target already failed keeps failing even when its checks pass */
    rd_target_result *d = rd_report_add_target(r, "d", "postgres");
    d->status = RD_FAILED;
    rd_target_add_check(d, "rowcount", NULL, "t1", RD_PASSED, NULL);
    rd_target_settle(d);
    ck_assert_int_eq(d->status, RD_FAILED);

    /* an aborted drill stays aborted */
    r->status = RD_ABORTED;
    rd_report_settle(r);
    ck_assert_int_eq(r->status, RD_ABORTED);

    rd_report_summary s;
    rd_report_summarize(r, &s);
    ck_assert_uint_eq(s.targets, 4);
    ck_assert_uint_eq(s.targets_passed, 2);
    ck_assert_uint_eq(s.targets_failed, 2);
    ck_assert_uint_eq(s.checks, 6);
    ck_assert_uint_eq(s.passed, 2);
    ck_assert_uint_eq(s.failed, 1);
    ck_assert_uint_eq(s.errors, 1);
    ck_assert_uint_eq(s.skipped, 2);
    rd_report_free(r);
}
END_TEST

START_TEST(test_many_targets_grow)
{
    rd_report *r = rd_report_new();
    for (int i = 0; i < 50; i++) {
        char name[16];
        snprintf(name, sizeof name, "t%d", i);
        rd_target_result *t = rd_report_add_target(r, name, "postgres");
        ck_assert_ptr_nonnull(t);
        for (int j = 0; j < 20; j++)
            ck_assert_ptr_nonnull(rd_target_add_check(t, "rowcount", NULL, name, RD_PASSED, ""));
    }
    ck_assert_uint_eq(r->ntargets, 50);
    ck_assert_str_eq(r->targets[49].name, "t49");
    ck_assert_uint_eq(r->targets[49].nchecks, 20);
    rd_report_free(r);
}
END_TEST

START_TEST(test_take_checks)
{
    rd_report *r = rd_report_new();
    rd_target_result *dst = rd_report_add_target(r, "d", "postgres");
    rd_target_result *src = rd_report_add_target(r, "s", "postgres");
    ck_assert_ptr_nonnull(rd_target_add_check(dst, "rowcount", NULL, "a", RD_PASSED, "one"));
    rd_check_result *c = rd_target_add_check(src, "integrity", NULL, "b", RD_FAILED, "two");
    rd_check_set_expected(c, "ok");
    ck_assert_ptr_nonnull(rd_target_add_check(src, "integrity", NULL, "c", RD_ERROR, "three"));
    rd_error err = {0};
    ck_assert_int_eq(rd_target_take_checks(dst, src, &err), RD_OK);
    ck_assert_uint_eq(src->nchecks, 0);
    ck_assert_ptr_null(src->checks);
    ck_assert_uint_eq(dst->nchecks, 3);
    ck_assert_str_eq(dst->checks[0].message, "one");
    ck_assert_str_eq(dst->checks[1].id, "integrity:b");
    ck_assert_str_eq(dst->checks[1].expected, "ok");
    ck_assert_int_eq(dst->checks[2].status, RD_ERROR);
    /* an empty source changes nothing */
    ck_assert_int_eq(rd_target_take_checks(dst, src, &err), RD_OK);
    ck_assert_uint_eq(dst->nchecks, 3);
    rd_report_free(r);
}
END_TEST

Suite *result_suite(void);
Suite *result_suite(void)
{
    Suite *s = suite_create("result");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, test_verdict_names);
    tcase_add_test(tc, test_verdict_worse);
    tcase_add_test(tc, test_defaults_and_setters);
    tcase_add_test(tc, test_settle);
    tcase_add_test(tc, test_many_targets_grow);
    tcase_add_test(tc, test_take_checks);
    suite_add_tcase(s, tc);
    return s;
}
