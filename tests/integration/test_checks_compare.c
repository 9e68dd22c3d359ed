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

#include "../unit/check_fixture.h"
#include "itest_util.h"
#include "restoredrill/check.h"
#include "restoredrill/manifest.h"
#include "restoredrill/result.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)

/* A fresh database holding nokey (no primary key) with rows 1..20, one of
 * them changed when `changed`. */
static rd_db *nokey_db(rd_engine e, int changed)
{
    char name[64];
    rd_error err = {0};
    rd_db *db = rd_itest_fresh_db(e, name);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(rd_db_pin_session(db, &err), RD_OK);
    rd_itest_exec(db, "CREATE TABLE nokey (id integer NOT NULL, v varchar(20))");
    rd_itest_exec(db, e == RD_ENGINE_PG
                          ? "INSERT INTO nokey SELECT g, 'v' || g FROM generate_series(1, 20) g"
                          : "INSERT INTO nokey SELECT seq, CONCAT('v', seq) FROM seq_1_to_20");
    if (changed)
        rd_itest_exec(db, "UPDATE nokey SET v = 'x' WHERE id = 7");
    return db;
}

#define PATH "targets[0].checks[1]"

static void run_check(fx_run *r, rd_engine e, const char *json, rd_db *scratch, rd_db *ref,
                      const rd_manifest *m)
{
    fx_start(r, e, PATH, 600, json);
    r->ctx.scratch = scratch;
    r->ctx.reference = ref;
    r->ctx.manifest = m;
    fx_run_check(r);
}

START_TEST(diff_key_option)
{
    rd_engine e = ENGINE(_i);
    if (!rd_itest_server(e))
        return;
    rd_db *scratch = nokey_db(e, 1), *ref = nokey_db(e, 0);
    fx_run r;
    run_check(&r, e, "{\"type\": \"diff\", \"parallel\": 1}", scratch, ref, NULL);
    fx_only(&r, RD_SKIPPED, "no primary key to diff by (give \"key\")");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"diff\", \"key\": \"id\", \"parallel\": 1}", scratch, ref, NULL);
    const rd_check_result *c =
        fx_only(&r, RD_FAILED, "0 missing, 0 extra, 1 changed rows: changed 7");
    ck_assert_str_eq(c->object, e == RD_ENGINE_PG ? "public.nokey" : "nokey");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"diff\", \"key\": [\"id\"], \"parallel\": 1}", ref, ref, NULL);
    fx_only(&r, RD_PASSED, "no differences in 20 rows");
    fx_run_free(&r);
    /* a key that is no column: an error naming it, never "table missing" */
    run_check(&r, e, "{\"type\": \"diff\", \"key\": \"nope\", \"parallel\": 1}", scratch, ref,
              NULL);
    c = fx_only(&r, RD_ERROR, NULL);
    ck_assert_msg(strstr(c->message, "nope") != NULL, "%s", c->message);
    fx_run_free(&r);
    rd_db_free(scratch);
    rd_db_free(ref);
}
END_TEST

START_TEST(diff_key_config)
{
    fx_config_error(RD_ENGINE_PG, PATH, "{\"type\": \"diff\", \"key\": 5}", NULL,
                    "targets[0].checks[1].key: ");
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
    fx_run r;
    run_check(&r, e, "{\"type\": \"checksum\", \"parallel\": 1}", scratch, NULL, m);
    fx_only(
        &r, RD_ERROR,
        "the manifest has no chunk digests for this table: capture it again with `restoredrill "
        "backup` or `restoredrill manifest` (they store digests unless --no-checksums), or give "
        "reference.dsn to compare with a live database");
    fx_run_free(&r);
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
