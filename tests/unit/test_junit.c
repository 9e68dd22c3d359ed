/* test_junit.c: JUnit XML writer: counts, attributes, escaping of hostile
 * strings, element order, red testcase for a target failing without checks. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../reports/report_int.h"
#include "report_fixture.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "tmpdir_fixture.h"

#define FFFD "\xEF\xBF\xBD"

Suite *junit_suite(void);

static char *junit_of(const rd_report *r)
{
    char *doc = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_junit(r, &doc, &err), RD_OK);
    return doc;
}

START_TEST(test_suites_and_counts)
{
    rd_report *r = fx_report();
    char *doc = junit_of(r);
    ck_assert_ptr_nonnull(
        strstr(doc, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "
                    "name=\"q&lt;1&gt; &amp; &quot;dr&quot; &#39;x&#39; ]]&gt; " FFFD FFFD
                    " end " FFFD FFFD " bad\" tests=\"6\" failures=\"2\" "
                    "errors=\"1\" time=\"123.456\">\n"));
    ck_assert_ptr_nonnull(
        strstr(doc, "  <testsuite name=\"orders\" tests=\"5\" failures=\"2\" errors=\"1\" "
                    "skipped=\"1\" time=\"120\" timestamp=\"2026-01-30T15:00:00\" "
                    "hostname=\"ci-host\" id=\"0\" package=\"restoredrill.orders\">\n"));
    ck_assert_ptr_nonnull(strstr(doc, "<testsuite name=\"billing &quot;eu&quot;\\x&#10;line\" "
                                      "tests=\"1\" failures=\"0\" errors=\"0\" skipped=\"0\" "
                                      "time=\"29\""));
    ck_assert_ptr_nonnull(strstr(doc, "id=\"1\" package=\"restoredrill.billing &quot;eu&quot;"));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_properties)
{
    rd_report *r = fx_report();
    char *doc = junit_of(r);
    ck_assert_ptr_nonnull(
        strstr(doc, "<property name=\"drill.seed\" value=\"18446744073709551615\"/>"));
    ck_assert_ptr_nonnull(strstr(
        doc, "<property name=\"recovery_point.id\" value=\"orders-20260130T030000Z.dump\"/>"));
    ck_assert_ptr_nonnull(strstr(
        doc, "<property name=\"recovery_point.created_at\" value=\"2026-01-30T03:00:00.000Z\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"seed\" value=\"42\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"rto.seconds\" value=\"82.500\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"rto.target_seconds\" value=\"60.000\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"rto.met\" value=\"false\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"rpo.seconds\" value=\"43200.000\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"rpo.met\" value=\"true\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<property name=\"rpo.basis\" value=\"catalog\"/>"));
    /* the location's userinfo password and password= value are masked */
    ck_assert_ptr_nonnull(strstr(doc,
                                 "<property name=\"recovery_point.location\" "
                                 "value=\"s3://backup:***@bucket/orders?x=1&amp;password=***\"/>"));
    /* unknown values are left out, not written as 0 */
    ck_assert_ptr_null(strstr(doc, "rpo.data_lag_seconds"));
    ck_assert_ptr_null(strstr(doc, FX_CANARY));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_testcases)
{
    rd_report *r = fx_report();
    char *doc = junit_of(r);
    ck_assert_ptr_nonnull(strstr(
        doc, "    <testcase name=\"public.orders\" classname=\"restoredrill.orders.rowcount\" "
             "time=\"0.123\">\n      <failure message=\"row count differs (expected: 100, actual: "
             "99)\" type=\"rowcount\">row count differs\nexpected: 100\nactual: 99\nchunks: "
             "4\n</failure>\n      <system-out>xxxx"));
    ck_assert_ptr_nonnull(strstr(doc, "&lt;tail&gt; &amp; ]]&gt; " FFFD " " FFFD
                                      "( END</system-out>\n    </testcase>\n"));
    ck_assert_ptr_nonnull(strstr(doc,
                                 "<testcase name=\"public.&quot;we&amp;ird&quot; &lt;t&gt;\" "
                                 "classname=\"restoredrill.orders.rowcount\" time=\"0.05\"/>"));
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"public.orders\" "
                                      "classname=\"restoredrill.orders.integrity\">\n      <error "
                                      "message=\"amcheck is not installed\" type=\"integrity\">"));
    ck_assert_ptr_nonnull(strstr(
        doc, "<testcase name=\"customers present\" classname=\"restoredrill.orders.customers "
             "present\">\n      <skipped message=\"no reference database\"></skipped>"));
    ck_assert_ptr_nonnull(strstr(doc, "<failure message=\"rto objective not met (expected: &lt;= "
                                      "60s, actual: 82.5s)\" type=\"objective\">"));
    ck_assert_ptr_nonnull(strstr(doc, "    <system-err>2 checks failed, 1 error (dsn host=db "
                                      "password=***</system-err>\n  </testsuite>\n"));
    /* the whole 100 KiB output is there, and no raw ]]> or control byte */
    char *xs = malloc(FX_BIG_OUTPUT + 1);
    memset(xs, 'x', FX_BIG_OUTPUT);
    xs[FX_BIG_OUTPUT] = '\0';
    ck_assert_ptr_nonnull(strstr(doc, xs));
    free(xs);
    ck_assert_ptr_null(strstr(doc, "]]>"));
    for (const char *p = doc; *p; p++)
        ck_assert((unsigned char)*p >= 0x20 || *p == '\n' || *p == '\t');
    /* properties before testcases, testcases before system-err */
    const char *props = strstr(doc, "</properties>"), *tc = strstr(doc, "<testcase");
    ck_assert(props && tc && props < tc && tc < strstr(doc, "<system-err>"));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_target_without_checks_is_red)
{
    rd_report *r = rd_report_new();
    rd_target_result *t = rd_report_add_target(r, "t", "postgres");
    t->status = RD_ERROR;
    rd_target_set_error(t, "sampling failed: no recovery point in the window");
    r->status = RD_ERROR;
    char *doc = junit_of(r);
    ck_assert_ptr_nonnull(strstr(doc, "tests=\"1\" failures=\"0\" errors=\"1\">"));
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"status\" classname=\"restoredrill.t\">\n"
                                      "      <error message=\"sampling failed: no recovery point "
                                      "in the window\" type=\"target\">sampling failed: no "
                                      "recovery point in the window</error>\n    </testcase>\n"));
    /* no time attribute when the times are unknown */
    ck_assert_ptr_null(strstr(doc, "time="));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_secs_format)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    const double in[] = {0.12345, 120, 1.5, -1, 2.0, 1234.5678, 0};
    const char *out[] = {"0.123", "120", "1.5", "0", "2", "1234.568", "0"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        rd_strbuf_reset(&sb);
        ck_assert_int_eq(rd_text_append_secs(&sb, in[i], NULL), RD_OK);
        ck_assert_str_eq(sb.data, out[i]);
    }
    rd_strbuf_free(&sb);
}
END_TEST

START_TEST(test_write_file_and_failure)
{
    char *path = rd_fs_join(tmpdir, "junit.xml");
    rd_report *r = fx_report();
    rd_error err;
    char *doc = junit_of(r), *back = NULL;
    size_t len = 0;
    ck_assert_int_eq(rd_report_write_junit(r, path, &err), RD_OK);
    ck_assert_int_eq(rd_fs_read_file(path, 0, &back, &len, &err), RD_OK);
    ck_assert_str_eq(back, doc);
    char *bad = rd_fs_join(tmpdir, "missing/junit.xml");
    ck_assert_int_ne(rd_report_write_junit(r, bad, &err), RD_OK);
    ck_assert_int_eq(err.code, RD_ERR_IO);
    free(bad);
    free(back);
    free(doc);
    free(path);
    rd_report_free(r);
}
END_TEST

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-junit-XXXXXX");
}

Suite *junit_suite(void)
{
    Suite *s = suite_create("junit");
    TCase *tc = tcase_create("junit");
    tcase_add_checked_fixture(tc, setup, fx_tmpdir_remove);
    tcase_add_test(tc, test_suites_and_counts);
    tcase_add_test(tc, test_properties);
    tcase_add_test(tc, test_testcases);
    tcase_add_test(tc, test_target_without_checks_is_red);
    tcase_add_test(tc, test_secs_format);
    tcase_add_test(tc, test_write_file_and_failure);
    suite_add_tcase(s, tc);
    return s;
}
