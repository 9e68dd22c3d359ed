/* test_json_report.c: the JSON report: nulls for unknowns, exact seeds,
 * UTF-8 cleaning, round trip through the loader, path-precise load errors,
 * merging shards. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_fixture.h"
#include "restoredrill/report.h"

Suite *json_report_suite(void);

static cJSON *json_of(const rd_report *r, char **text)
{
    rd_error err;
    ck_assert_int_eq(rd_report_to_json(r, text, &err), RD_OK);
    cJSON *root = cJSON_Parse(*text);
    ck_assert_ptr_nonnull(root);
    return root;
}

static const cJSON *at(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(v != NULL, "missing key %s", k);
    return v;
}

START_TEST(test_fields_and_nulls)
{
    rd_report *r = fx_report();
    char *text = NULL;
    cJSON *root = json_of(r, &text);
    ck_assert_str_eq(at(root, "schema")->valuestring, "restoredrill/report/v1");
    const cJSON *d = at(root, "drill");
    ck_assert_str_eq(at(d, "seed")->valuestring, "18446744073709551615");
    ck_assert_str_eq(at(d, "started_at")->valuestring, "2026-01-30T15:00:00.000Z");
    ck_assert_str_eq(at(d, "finished_at")->valuestring, "2026-01-30T15:02:03.456Z");
    ck_assert_str_eq(at(d, "status")->valuestring, "failed");
    ck_assert_str_eq(at(d, "user")->valuestring, "ops");
    ck_assert_str_eq(at(d, "name")->valuestring,
                     "q<1> & \"dr\" 'x' ]]> \x01\x1b end \xEF\xBF\xBD\xEF\xBF\xBD bad");
    const cJSON *t0 = cJSON_GetArrayItem(at(root, "targets"), 0);
    const cJSON *t1 = cJSON_GetArrayItem(at(root, "targets"), 1);
    ck_assert_str_eq(at(at(t0, "recovery_point"), "location")->valuestring,
                     "s3://backup:***@bucket/orders?x=1&password=***");
    ck_assert(cJSON_IsNull(at(at(t0, "recovery_point"), "sha256")));
    ck_assert_int_eq(at(at(t0, "recovery_point"), "bytes")->valueint, 123456);
    ck_assert_str_eq(at(at(t0, "sampling"), "seed")->valuestring, "42");
    ck_assert(at(at(t0, "rto"), "seconds")->valuedouble == 82.5);
    ck_assert(cJSON_IsFalse(at(at(t0, "rto"), "met")));
    ck_assert(cJSON_IsTrue(at(at(t0, "rpo"), "met")));
    ck_assert(cJSON_IsNull(at(at(t0, "rpo"), "data_lag_seconds")));
    /* billing: nothing sampled or measured: nulls, never 0 */
    ck_assert(cJSON_IsNull(at(t1, "recovery_point")));
    ck_assert(cJSON_IsNull(at(at(t1, "rto"), "seconds")));
    ck_assert(cJSON_IsNull(at(at(t1, "rto"), "met")));
    ck_assert(cJSON_IsNull(at(at(t1, "rpo"), "seconds")));
    const cJSON *c0 = cJSON_GetArrayItem(at(t0, "checks"), 0);
    ck_assert_str_eq(at(c0, "id")->valuestring, "rowcount:public.orders");
    ck_assert(at(c0, "seconds")->valuedouble == 0.123);
    ck_assert_str_eq(at(at(c0, "properties"), "chunks")->valuestring, "4");
    ck_assert_uint_eq(strlen(at(c0, "output")->valuestring), FX_BIG_OUTPUT + 23);
    const cJSON *c2 = cJSON_GetArrayItem(at(t0, "checks"), 2);
    ck_assert(cJSON_IsNull(at(c2, "seconds")));
    ck_assert(cJSON_IsNull(at(c2, "expected")));
    const cJSON *s = at(root, "summary");
    ck_assert_int_eq(at(s, "targets")->valueint, 2);
    ck_assert_int_eq(at(s, "checks")->valueint, 6);
    ck_assert_int_eq(at(s, "failed")->valueint, 2);
    ck_assert_int_eq(at(s, "errors")->valueint, 1);
    ck_assert_ptr_null(strstr(text, FX_CANARY));
    cJSON_Delete(root);
    free(text);
    rd_report_free(r);
}
END_TEST

START_TEST(test_round_trip)
{
    rd_report *r = fx_report(), *back = NULL;
    char *a = NULL, *b = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_to_json(r, &a, &err), RD_OK);
    ck_assert_int_eq(rd_report_parse_json(a, "a.json", &back, &err), RD_OK);
    ck_assert(back->seed == 18446744073709551615ULL);
    ck_assert_int_eq(back->started_at_ms, FX_T0);
    ck_assert_uint_eq(back->ntargets, 2);
    ck_assert_uint_eq(back->targets[0].nchecks, 5);
    ck_assert_uint_eq(back->targets[0].nphases, 3);
    ck_assert(back->targets[1].rto.seconds < 0);
    ck_assert_ptr_null(back->targets[1].point.id);
    ck_assert_int_eq(rd_report_to_json(back, &b, &err), RD_OK);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    rd_report_free(back);
    rd_report_free(r);
}
END_TEST

static void expect_load_error(const char *text, const char *msg)
{
    rd_report *out = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_parse_json(text, "r.json", &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_ptr_null(out);
}

#define HEAD                                                                                       \
    "{\"schema\":\"restoredrill/report/v1\",\"drill\":{\"id\":\"x\",\"status\":\"passed\","        \
    "\"seed\":\"1\"},\"targets\":"

START_TEST(test_load_errors)
{
    expect_load_error("[1,", "r.json: not a json object");
    expect_load_error("{\"schema\":\"other/v9\"}",
                      "r.json: schema: expected \"restoredrill/report/v1\"");
    expect_load_error(HEAD "{}}", "r.json: targets: expected an array");
    expect_load_error(HEAD
                      "[{\"name\":\"t\",\"status\":\"passed\",\"rto\":{\"seconds\":\"abc\"}}]}",
                      "r.json: targets[0].rto.seconds: expected a non-negative number or null");
    expect_load_error(HEAD "[{\"name\":\"t\",\"status\":\"passed\",\"checks\":[{\"type\":\"a\","
                           "\"object\":\"o\",\"status\":\"passed\"},{\"type\":\"a\",\"status\":"
                           "\"green\"}]}]}",
                      "r.json: targets[0].checks[1].status: expected one of passed, failed, "
                      "error, skipped, aborted");
    expect_load_error(
        "{\"schema\":\"restoredrill/report/v1\",\"drill\":{\"status\":\"passed\","
        "\"seed\":1.5},\"targets\":[]}",
        "r.json: drill.seed: expected an unsigned 64-bit integer as a decimal string");
    expect_load_error(HEAD "[{\"name\":\"t\",\"status\":\"passed\",\"started_at\":\"yesterday\"}]}",
                      "r.json: targets[0].started_at: expected an RFC 3339 time or null");
}
END_TEST

START_TEST(test_load_missing_file)
{
    rd_report *out = NULL;
    rd_error err;
    ck_assert_int_eq(rd_report_load_json("/nonexistent/r.json", &out, &err), RD_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open /nonexistent/r.json"));
}
END_TEST

START_TEST(test_merge)
{
    rd_report *a = fx_report(), *b = rd_report_new(), *m = NULL;
    rd_error err;
    b->drill_id = rd_strdup("d-0001");
    b->started_at_ms = FX_T0 - 5000;
    b->finished_at_ms = FX_T0 + 200000;
    rd_target_result *t = rd_report_add_target(b, "shard2", "postgres");
    rd_check_result *c = rd_target_add_check(t, "rowcount", NULL, "x", RD_PASSED, "ok");
    rd_check_add_prop(c, "k", "v");
    rd_report *const in[] = {a, b};
    ck_assert_int_eq(rd_report_merge(in, 2, &m, &err), RD_OK);
    ck_assert_uint_eq(m->ntargets, 3);
    ck_assert_str_eq(m->targets[2].name, "shard2");
    ck_assert_str_eq(m->targets[2].checks[0].props[0].value, "v");
    ck_assert_str_eq(m->targets[0].point.id, "orders-20260130T030000Z.dump");
    ck_assert_str_eq(m->drill_id, "d-0001");
    ck_assert(m->seed == 18446744073709551615ULL);
    ck_assert_int_eq(m->started_at_ms, FX_T0 - 5000);
    ck_assert_int_eq(m->finished_at_ms, FX_T0 + 200000);
    ck_assert_int_eq(m->status, RD_FAILED);
    rd_report_free(m);
    /* a shard that was aborted makes the merged drill aborted */
    b->status = RD_ABORTED;
    ck_assert_int_eq(rd_report_merge(in, 2, &m, &err), RD_OK);
    ck_assert_int_eq(m->status, RD_ABORTED);
    rd_report_free(m);
    ck_assert_int_eq(rd_report_merge(in, 0, &m, &err), RD_ERR_USAGE);
    ck_assert_str_eq(err.msg, "no reports to merge");
    rd_report_free(a);
    rd_report_free(b);
}
END_TEST

Suite *json_report_suite(void)
{
    Suite *s = suite_create("json_report");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, test_fields_and_nulls);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_load_errors);
    tcase_add_test(tc, test_load_missing_file);
    tcase_add_test(tc, test_merge);
    suite_add_tcase(s, tc);
    return s;
}
