/* test_tenant_reports.c: the per-database results of a multi-database
 * target in every writer: JUnit classnames restoredrill.<target>.<db>.<check>,
 * JSON checks[].database and targets[].databases (and their round trip and
 * merge), Prometheus database labels, HTML groups. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/report.h"
#include "restoredrill/result.h"
#include "restoredrill/strbuf.h"

#define T0 1769785200000LL

static void db_check(rd_target_result *t, const char *db, const char *check, const char *obj,
                     rd_verdict v)
{
    char *object = rd_asprintf("%s.%s", db, obj);
    rd_check_result *c = rd_target_add_check(t, check, check, object, v, "m");
    ck_assert_ptr_nonnull(c);
    c->seconds = 0.5;
    rd_check_set_database(c, db);
    free(object);
}

static rd_report *tenants_report(void)
{
    rd_error err;
    rd_report *r = rd_report_new();
    r->tool_version = rd_strdup("0.1.0");
    r->drill_id = rd_strdup("d-1");
    r->name = rd_strdup("tenants");
    r->seed = 7;
    r->started_at_ms = T0;
    r->finished_at_ms = T0 + 1000;
    rd_target_result *t = rd_report_add_target(r, "tenants", "mariadb");
    t->started_at_ms = T0;
    t->finished_at_ms = T0 + 1000;
    t->point.id = rd_strdup("all.sql");
    t->point.created_at_ms = T0 - 3600000;
    t->point.bytes = 10;
    t->sampling_strategy = rd_strdup("latest");
    t->sampling_candidates = 1;
    t->sampling_seed = 7;
    t->rto.seconds = 2;
    t->rto.target_seconds = -1;
    t->rpo.seconds = 3600;
    t->rpo.target_seconds = -1;
    t->data_ready_seconds = -1;
    t->rpo_exposure_seconds = -1;
    t->newest_age_seconds = -1;
    t->data_lag_seconds = -1;
    t->databases_total = 55;
    t->databases_matched = 52;
    ck_assert_int_eq(rd_target_add_database(t, "back`tick", &err), RD_OK);
    ck_assert_int_eq(rd_target_add_database(t, "tenant_7", &err), RD_OK);
    rd_target_add_check(t, "restore", "restore", "all.sql", RD_PASSED, "restored");
    db_check(t, "back`tick", "integrity", "orders", RD_PASSED);
    db_check(t, "tenant_7", "integrity", "orders", RD_PASSED);
    db_check(t, "tenant_7", "order count", "order count", RD_FAILED);
    t->status = RD_FAILED;
    r->status = RD_FAILED;
    return r;
}

START_TEST(test_junit_classnames)
{
    rd_report *r = tenants_report();
    char *doc = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_junit(r, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"tenant_7.orders\" "
                                      "classname=\"restoredrill.tenants.tenant_7.integrity\""));
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"back`tick.orders\" "
                                      "classname=\"restoredrill.tenants.back`tick.integrity\""));
    ck_assert_ptr_nonnull(strstr(doc, "classname=\"restoredrill.tenants.tenant_7.order count\""));
    ck_assert_ptr_nonnull(strstr(doc, "<testcase name=\"all.sql\" "
                                      "classname=\"restoredrill.tenants.restore\""));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_json_round_trip_and_merge)
{
    rd_report *r = tenants_report(), *back = NULL, *merged = NULL;
    char *a = NULL, *b = NULL, *c = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_json(r, &a, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(a, "\"databases\":\t{\n\t\t\t\t\"total\":\t55,\n\t\t\t\t"
                                    "\"matched\":\t52,\n\t\t\t\t\"drilled\":\t[\"back`tick\", "
                                    "\"tenant_7\"]"));
    ck_assert_ptr_nonnull(strstr(a, "\"database\":\t\"tenant_7\""));
    ck_assert_int_eq(rd_report_parse_json(a, "a.json", &back, &err), RD_OK);
    ck_assert_uint_eq(back->targets[0].databases_total, 55);
    ck_assert_uint_eq(back->targets[0].databases_matched, 52);
    ck_assert_uint_eq(back->targets[0].ndatabases, 2);
    ck_assert_str_eq(back->targets[0].databases[1], "tenant_7");
    ck_assert_ptr_null(back->targets[0].checks[0].database);
    ck_assert_str_eq(back->targets[0].checks[3].database, "tenant_7");
    ck_assert_int_eq(rd_report_to_json(back, &b, &err), RD_OK);
    ck_assert_str_eq(a, b);
    rd_report *one[1] = {back};
    ck_assert_int_eq(rd_report_merge(one, 1, &merged, &err), RD_OK);
    ck_assert_uint_eq(merged->targets[0].ndatabases, 2);
    ck_assert_str_eq(merged->targets[0].checks[1].database, "back`tick");
    ck_assert_int_eq(rd_report_to_json(merged, &c, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(c, "\"drilled\":\t[\"back`tick\", \"tenant_7\"]"));
    free(a);
    free(b);
    free(c);
    rd_report_free(merged);
    rd_report_free(back);
    rd_report_free(r);
}
END_TEST

START_TEST(test_prometheus_labels)
{
    rd_report *r = tenants_report();
    char *doc = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_prometheus(r, NULL, &doc, &err), RD_OK);
    ck_assert_ptr_nonnull(
        strstr(doc, "# TYPE restoredrill_database_success gauge\n"
                    "restoredrill_database_success{target=\"tenants\",database=\"back`tick\"} 1\n"
                    "restoredrill_database_success{target=\"tenants\",database=\"tenant_7\"} 0\n"));
    ck_assert_ptr_nonnull(strstr(
        doc, "restoredrill_database_checks{target=\"tenants\",database=\"tenant_7\",status="
             "\"passed\"} 1\nrestoredrill_database_checks{target=\"tenants\",database=\"tenant_7\","
             "status=\"failed\"} 1\n"));
    free(doc);
    rd_report_free(r);
}
END_TEST

START_TEST(test_html_groups)
{
    rd_report *r = tenants_report();
    char *doc = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_html(r, NULL, &doc, &err), RD_OK);
    const char *g1 = strstr(doc, "Database <span class=\"mono\">back`tick</span> <span "
                                 "class=\"muted\">(1 result, 0 not passed)</span>");
    const char *g2 = strstr(doc, "Database <span class=\"mono\">tenant_7</span> <span "
                                 "class=\"muted\">(2 results, 1 not passed)</span>");
    const char *restore = strstr(doc, ">all.sql<");
    ck_assert(g1 && g2 && restore);
    ck_assert(restore < g1 && g1 < g2); /* whole-target results first, then each database */
    ck_assert_ptr_nonnull(strstr(doc, "2 drilled of 52 matching (55 in the point): back`tick, "
                                      "tenant_7"));
    free(doc);
    rd_report_free(r);
}
END_TEST

Suite *tenant_reports_suite(void);
Suite *tenant_reports_suite(void)
{
    Suite *s = suite_create("tenant_reports");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_junit_classnames);
    tcase_add_test(tc, test_json_round_trip_and_merge);
    tcase_add_test(tc, test_prometheus_labels);
    tcase_add_test(tc, test_html_groups);
    suite_add_tcase(s, tc);
    return s;
}
