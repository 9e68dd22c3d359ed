/* test_prometheus.c: the textfile: exact samples, label escaping, last
 * success carried over from the previous file, atomic replacement. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_fixture.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "tmpdir_fixture.h"

Suite *prometheus_suite(void);

#define BILLING "billing \\\"eu\\\"\\\\x\\nline"

START_TEST(test_samples)
{
    rd_report *r = fx_report();
    char *doc = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_prometheus(r, NULL, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(doc, "# HELP restoredrill_last_run_timestamp_seconds Unix time "
                                      "the last drill of the target finished\n# TYPE "
                                      "restoredrill_last_run_timestamp_seconds gauge\n"
                                      "restoredrill_last_run_timestamp_seconds{target=\"orders\"} "
                                      "1769785320\n"
                                      "restoredrill_last_run_timestamp_seconds{target=\"" BILLING
                                      "\"} 1769785230\n"));
    /* orders failed and there is no previous file: no last success sample */
    ck_assert_ptr_null(
        strstr(doc, "restoredrill_last_success_timestamp_seconds{target=\"orders\"}"));
    ck_assert_ptr_nonnull(strstr(
        doc, "restoredrill_last_success_timestamp_seconds{target=\"" BILLING "\"} 1769785230\n"));
    ck_assert_ptr_nonnull(strstr(doc, "restoredrill_success{target=\"orders\"} 0\n"
                                      "restoredrill_success{target=\"" BILLING "\"} 1\n"));
    ck_assert_ptr_nonnull(strstr(doc, "restoredrill_rto_seconds{target=\"orders\"} 82.5\n#"));
    ck_assert_ptr_nonnull(strstr(doc, "restoredrill_rto_target_seconds{target=\"orders\"} 60\n#"));
    ck_assert_ptr_nonnull(strstr(doc, "restoredrill_rpo_seconds{target=\"orders\"} 43200\n#"));
    ck_assert_ptr_nonnull(
        strstr(doc, "restoredrill_rpo_target_seconds{target=\"orders\"} 86400\n"));
    ck_assert_ptr_nonnull(strstr(doc,
                                 "restoredrill_checks{target=\"orders\",status=\"failed\"} 2\n"
                                 "restoredrill_checks{target=\"orders\",status=\"error\"} 1\n"));
    /* billing has no RTO measured: no sample, never a fake 0 */
    ck_assert_ptr_null(strstr(doc, "restoredrill_rto_seconds{target=\"billing"));
    ck_assert_ptr_null(strstr(doc, FX_CANARY));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_last_success_carried_over)
{
    rd_report *r = fx_report();
    char *doc = NULL;
    rd_error err;
    const char *prev =
        "# HELP x y\n"
        "restoredrill_last_success_timestamp_seconds{target=\"orders-old\"} 5\n"
        "restoredrill_last_success_timestamp_seconds{target=\"orders\"} 1769000000.5\n"
        "restoredrill_last_success_timestamp_seconds{target=\"" BILLING "\"} 17\n";
    ck_assert_int_eq(rd_report_to_prometheus(r, prev, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(
        doc, "restoredrill_last_success_timestamp_seconds{target=\"orders\"} 1769000000.5\n"));
    /* billing passed now: its new time wins over the old value */
    ck_assert_ptr_nonnull(strstr(
        doc, "restoredrill_last_success_timestamp_seconds{target=\"" BILLING "\"} 1769785230\n"));
    ck_assert_ptr_null(strstr(doc, "orders-old"));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_write_twice)
{
    char *path = rd_fs_join(tmpdir, "restoredrill.prom"), *text = NULL;
    size_t len = 0;
    rd_error err;
    rd_report *full = fx_report();
    ck_assert_int_eq(rd_report_write_prometheus(full, path, &err), RD_OK);
    rd_report_free(full);
    /* a failing run after a passing one keeps the passing time */
    FILE *f = fopen(path, "w");
    fputs("restoredrill_last_success_timestamp_seconds{target=\"orders\"} 1700000000\n", f);
    fclose(f);
    full = fx_report();
    ck_assert_int_eq(rd_report_write_prometheus(full, path, &err), RD_OK);
    ck_assert_int_eq(rd_fs_read_file(path, 0, &text, &len, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(
        text, "restoredrill_last_success_timestamp_seconds{target=\"orders\"} 1700000000\n"));
    free(text);
    rd_report_free(full);
    free(path);
}
END_TEST

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-prom-XXXXXX");
}

Suite *prometheus_suite(void)
{
    Suite *s = suite_create("prometheus");
    TCase *tc = tcase_create("prometheus");
    tcase_add_checked_fixture(tc, setup, fx_tmpdir_remove);
    tcase_add_test(tc, test_samples);
    tcase_add_test(tc, test_last_success_carried_over);
    tcase_add_test(tc, test_write_twice);
    suite_add_tcase(s, tc);
    return s;
}
