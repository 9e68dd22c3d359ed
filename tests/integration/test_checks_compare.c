/* test_checks_compare.c: the diff and checksum checks as a drill runs them,
 * against real servers (itest_util): the diff check's "key" option (a table
 * without a primary key is skipped without it and diffed by it), a "key"
 * that names no column is an error, not "table missing"; the checksum check
 * against a manifest without chunk digests says how to capture one. Loop
 * tests run once per engine: _i 0 = PostgreSQL, 1 = MariaDB. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest_util.h"
#include "restoredrill/check.h"
#include "restoredrill/manifest.h"
#include "restoredrill/result.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)

static void exec_ok(rd_db *db, const char *sql)
{
    rd_error err = {0};
    rd_status st = rd_db_exec(db, sql, 60, NULL, &err);
    ck_assert_msg(st == RD_OK, "%s: %s", sql, err.msg);
}

/* A fresh database holding nokey (no primary key) with rows 1..20, one of
 * them changed when `changed`. */
static rd_db *nokey_db(rd_engine e, int changed)
{
    char name[64];
    rd_error err = {0};
    rd_db *db = rd_itest_fresh_db(e, name);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(rd_db_pin_session(db, &err), RD_OK);
    exec_ok(db, "CREATE TABLE nokey (id integer NOT NULL, v varchar(20))");
    exec_ok(db, e == RD_ENGINE_PG
                    ? "INSERT INTO nokey SELECT g, 'v' || g FROM generate_series(1, 20) g"
                    : "INSERT INTO nokey SELECT seq, CONCAT('v', seq) FROM seq_1_to_20");
    if (changed)
        exec_ok(db, "UPDATE nokey SET v = 'x' WHERE id = 7");
    return db;
}

typedef struct run {
    rd_report *rep;
    rd_target_result *t;
    rd_target_cfg tc;
    rd_check_cfg cc;
    rd_check_ctx ctx;
    cJSON *params;
} run;

static rd_status configure(run *r, rd_engine e, const char *json, rd_error *err)
{
    memset(r, 0, sizeof *r);
    r->rep = rd_report_new();
    r->t = rd_report_add_target(r->rep, "t", rd_engine_name(e));
    r->params = cJSON_Parse(json);
    ck_assert_ptr_nonnull(r->params);
    r->tc.engine = e;
    r->tc.name = (char *)"t";
    r->cc.type = cJSON_GetObjectItem(r->params, "type")->valuestring;
    r->cc.path = (char *)"targets[0].checks[1]";
    r->cc.ct = rd_check_find(r->cc.type);
    ck_assert_ptr_nonnull(r->cc.ct);
    r->cc.timeout = 600;
    return r->cc.ct->configure(r->params, r->cc.path, e, &r->cc.state, err);
}

static void run_check(run *r, rd_engine e, const char *json, rd_db *scratch, rd_db *ref,
                      const rd_manifest *m)
{
    rd_error err = {0};
    rd_status st = configure(r, e, json, &err);
    ck_assert_msg(st == RD_OK, "configure: %s", err.msg);
    r->ctx.target = &r->tc;
    r->ctx.check = &r->cc;
    r->ctx.scratch = scratch;
    r->ctx.reference = ref;
    r->ctx.manifest = m;
    r->ctx.result = r->t;
    rd_check_run_one(&r->ctx);
}

static void run_free(run *r)
{
    if (r->cc.ct && r->cc.ct->free)
        r->cc.ct->free(r->cc.state);
    cJSON_Delete(r->params);
    rd_report_free(r->rep);
}

static const rd_check_result *only(const run *r, rd_verdict v, const char *msg)
{
    ck_assert_int_eq(r->t->nchecks, 1);
    const rd_check_result *c = &r->t->checks[0];
    ck_assert_msg(c->status == v, "%s (%s)", rd_verdict_name(c->status), c->message);
    if (msg)
        ck_assert_str_eq(c->message, msg);
    return c;
}

START_TEST(diff_key_option)
{
    rd_engine e = ENGINE(_i);
    if (!rd_itest_server(e))
        return;
    rd_db *scratch = nokey_db(e, 1), *ref = nokey_db(e, 0);
    run r;
    run_check(&r, e, "{\"type\": \"diff\", \"parallel\": 1}", scratch, ref, NULL);
    only(&r, RD_SKIPPED, "no primary key to diff by (give \"key\")");
    run_free(&r);
    run_check(&r, e, "{\"type\": \"diff\", \"key\": \"id\", \"parallel\": 1}", scratch, ref, NULL);
    const rd_check_result *c = only(&r, RD_FAILED, "0 missing, 0 extra, 1 changed rows: changed 7");
    ck_assert_str_eq(c->object, e == RD_ENGINE_PG ? "public.nokey" : "nokey");
    run_free(&r);
    run_check(&r, e, "{\"type\": \"diff\", \"key\": [\"id\"], \"parallel\": 1}", ref, ref, NULL);
    only(&r, RD_PASSED, "no differences in 20 rows");
    run_free(&r);
    /* a key that is no column: an error naming it, never "table missing" */
    run_check(&r, e, "{\"type\": \"diff\", \"key\": \"nope\", \"parallel\": 1}", scratch, ref,
              NULL);
    c = only(&r, RD_ERROR, NULL);
    ck_assert_msg(strstr(c->message, "nope") != NULL, "%s", c->message);
    run_free(&r);
    rd_db_free(scratch);
    rd_db_free(ref);
}
END_TEST

START_TEST(diff_key_config)
{
    run r;
    rd_error err = {0};
    ck_assert_int_eq(configure(&r, RD_ENGINE_PG, "{\"type\": \"diff\", \"key\": 5}", &err),
                     RD_ERR_CONFIG);
    ck_assert_msg(strncmp(err.msg, "targets[0].checks[1].key: ", 26) == 0, "%s", err.msg);
    run_free(&r);
}
END_TEST

START_TEST(checksum_manifest_without_digests)
{
    rd_engine e = ENGINE(_i);
    if (!rd_itest_server(e))
        return;
    rd_db *scratch = nokey_db(e, 0);
    rd_manifest *m = NULL;
    rd_manifest_opts mo = {0};
    rd_error err = {0};
    mo.with_checksums = 0;
    ck_assert_msg(rd_manifest_capture(scratch, &mo, &m, &err) == RD_OK, "%s", err.msg);
    run r;
    run_check(&r, e, "{\"type\": \"checksum\", \"parallel\": 1}", scratch, NULL, m);
    only(&r, RD_ERROR,
         "the manifest has no chunk digests for this table: capture it again with `restoredrill "
         "backup` or `restoredrill manifest` (they store digests unless --no-checksums), or give "
         "reference.dsn to compare with a live database");
    run_free(&r);
    rd_manifest_free(m);
    rd_db_free(scratch);
}
END_TEST

static void start_servers(void)
{
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

Suite *checks_compare_suite(void);
Suite *checks_compare_suite(void)
{
    Suite *s = suite_create("checks_compare");
    TCase *tc = tcase_create("live");
    tcase_add_unchecked_fixture(tc, start_servers, NULL);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, diff_key_option, 0, 2);
    tcase_add_loop_test(tc, checksum_manifest_without_digests, 0, 2);
    suite_add_tcase(s, tc);
    TCase *cfg = tcase_create("config");
    tcase_add_test(cfg, diff_key_config);
    suite_add_tcase(s, cfg);
    return s;
}
