/* test_html.c: the HTML evidence report: self-contained, escaped, failures
 * first, objectives shown, charts from the history with the objective. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_fixture.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "tmpdir_fixture.h"

Suite *html_suite(void);

static char *html_of(const rd_report *r, const char *history)
{
    char *doc = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_html(r, history, &doc, &err), RD_OK);
    return doc;
}

START_TEST(test_self_contained_and_escaped)
{
    rd_report *r = fx_report();
    char *doc = html_of(r, NULL);
    ck_assert_ptr_nonnull(strstr(doc, "<!DOCTYPE html>"));
    ck_assert_ptr_nonnull(strstr(doc, "@media print"));
    ck_assert_ptr_null(strstr(doc, "<script"));
    ck_assert_ptr_null(strstr(doc, "src="));
    ck_assert_ptr_null(strstr(doc, "href="));
    ck_assert_ptr_null(strstr(doc, "url("));
    ck_assert_ptr_nonnull(strstr(doc, "<h1>Restore drill evidence: q&lt;1&gt; &amp; &quot;dr&quot; "
                                      "&#39;x&#39; ]]&gt; \xEF\xBF\xBD\xEF\xBF\xBD end"));
    ck_assert_ptr_null(strstr(doc, "q<1>"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>Run by</th><td>ops on ci-host</td></tr>"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>SHA-256</th><td class=\"mono\"><span "
                                      "class=\"muted\">unknown</span></td></tr>"));
    ck_assert_ptr_nonnull(
        strstr(doc, "<tr><th>Seed</th><td class=\"mono\">18446744073709551615</td></tr>"));
    ck_assert_ptr_nonnull(
        strstr(doc, "<tr><th>Configuration</th><td class=\"mono\">/etc/drill.json</td></tr>"));
    ck_assert_ptr_nonnull(strstr(doc, "<tr><th>Location</th><td class=\"mono\">"
                                      "s3://backup:***@bucket/orders?x=1&amp;password=***</td>"));
    ck_assert_ptr_nonnull(strstr(doc, "<div class=\"big\">1m 23s &middot; NOT MET</div>"));
    ck_assert_ptr_nonnull(strstr(doc, "<div>objective: 1m</div>"));
    ck_assert_ptr_nonnull(strstr(doc, "<div class=\"big\">12h 00m 00s &middot; met</div>"));
    ck_assert_ptr_nonnull(strstr(doc, "public.&quot;we&amp;ird&quot; &lt;t&gt;"));
    ck_assert_ptr_nonnull(strstr(doc, "<strong>Error:</strong> 2 checks failed, 1 error (dsn "
                                      "host=db password=***</div>"));
    ck_assert_ptr_null(strstr(doc, FX_CANARY));
    /* the 100 KiB output is cut to its tail with a note */
    ck_assert_ptr_nonnull(strstr(doc, "[94229 earlier bytes omitted; the JSON report has the full "
                                      "output]"));
    /* failures first, then errors, then passed, then skipped */
    const char *fail = strstr(doc, "row count differs"), *err = strstr(doc, "amcheck is not");
    const char *pass = strstr(doc, "we&amp;ird"), *skip = strstr(doc, "no reference database");
    ck_assert(fail && err && pass && skip && fail < err && err < pass && pass < skip);
    /* no history file: the charts say so for the unmeasured target */
    ck_assert_ptr_nonnull(strstr(doc, "no history yet"));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_charts_from_history)
{
    char *hist = rd_fs_join(tmpdir, "history.jsonl");
    rd_error err;
    for (int i = 0; i < 3; i++) {
        rd_report *h = fx_report();
        free(h->drill_id);
        h->drill_id = rd_asprintf("d-%d", i);
        h->started_at_ms = FX_T0 + (int64_t)i * 86400000;
        h->targets[0].rto.seconds = 20.0 * (i + 1);
        ck_assert_int_eq(rd_history_append(h, hist, &err), RD_OK);
        rd_report_free(h);
    }
    rd_report *r = fx_report(); /* d-0001: not in the history, charted last */
    char *doc = html_of(r, hist);
    ck_assert_ptr_nonnull(strstr(doc, "<figcaption>RTO per drill</figcaption><svg"));
    ck_assert_ptr_nonnull(strstr(doc, "<figcaption>RPO per drill</figcaption><svg"));
    ck_assert_ptr_nonnull(strstr(doc, "stroke-dasharray=\"6 4\"/><text"));
    ck_assert_ptr_nonnull(strstr(doc, "objective 1m</text>"));
    ck_assert_ptr_nonnull(strstr(doc, "objective 1d</text>"));
    ck_assert_ptr_nonnull(strstr(doc, "4 drills</text>"));
    ck_assert_ptr_nonnull(strstr(doc, "<title>2026-01-31T15:00:00.000Z d-1: 40.00s (failed)"));
    /* the RTO axis tops out at a round time above 82.5s * 1.1: 2m */
    ck_assert_ptr_nonnull(strstr(doc, "text-anchor=\"end\">2m</text>"));
    free(doc);
    rd_report_free(r);
    free(hist);
}
END_TEST

START_TEST(test_write_file)
{
    char *path = rd_fs_join(tmpdir, "evidence.html"), *text = NULL;
    size_t len = 0;
    rd_error err;
    rd_report *r = rd_report_new(); /* an empty drill still renders */
    ck_assert_int_eq(rd_report_write_html(r, "/nonexistent/h.jsonl", path, &err), RD_OK);
    ck_assert_int_eq(rd_fs_read_file(path, 0, &text, &len, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(text, "no target was drilled"));
    ck_assert_ptr_nonnull(strstr(text, "<h1>Restore drill evidence: unnamed drill</h1>"));
    ck_assert_ptr_nonnull(strstr(text, "</body></html>\n"));
    free(text);
    rd_report_free(r);
    free(path);
}
END_TEST

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-html-XXXXXX");
}

Suite *html_suite(void)
{
    Suite *s = suite_create("html");
    TCase *tc = tcase_create("html");
    tcase_add_checked_fixture(tc, setup, fx_tmpdir_remove);
    tcase_add_test(tc, test_self_contained_and_escaped);
    tcase_add_test(tc, test_charts_from_history);
    tcase_add_test(tc, test_write_file);
    suite_add_tcase(s, tc);
    return s;
}
