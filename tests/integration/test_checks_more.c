/* test_checks_more.c: the integrity, sql and freshness checks against real
 * PostgreSQL and MariaDB servers (itest_util). Loop tests run once per
 * engine: _i 0 = PostgreSQL, 1 = MariaDB. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/check_fixture.h"
#include "itest_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/result.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)
#define PG(e) ((e) == RD_ENGINE_PG)

/* customers <- orders (fk), a composite fk, and a hostile table with a
 * hostile foreign key name. */
static const char *const pg_setup[] = {
    "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer REFERENCES customers (id), "
    "note text)",
    "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "CREATE TABLE parts (a integer, b integer, PRIMARY KEY (a, b))",
    "CREATE TABLE part_refs (id integer PRIMARY KEY, a integer, b integer, CONSTRAINT "
    "part_refs_ab_fkey FOREIGN KEY (a, b) REFERENCES parts (a, b))",
    "CREATE TABLE \"we\"\"ird `name\" (\"se;lect\" integer, CONSTRAINT \"fk \"\"odd\" FOREIGN KEY "
    "(\"se;lect\") REFERENCES customers (id))",
    "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 3) g",
    "INSERT INTO orders (customer_id, note) SELECT 1 + g % 3, 'n' FROM generate_series(1, 50) g",
    "INSERT INTO parts VALUES (1, 1), (1, 2)",
    "INSERT INTO part_refs VALUES (1, 1, 1), (2, 1, 2), (3, 9, NULL)",
    "INSERT INTO \"we\"\"ird `name\" VALUES (1), (2), (NULL)",
    NULL};

static const char *const my_setup[] = {
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT, note VARCHAR(20), "
    "CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id)) "
    "ENGINE=InnoDB",
    "CREATE TABLE parts (a INT, b INT, PRIMARY KEY (a, b)) ENGINE=InnoDB",
    "CREATE TABLE part_refs (id INT PRIMARY KEY, a INT, b INT, CONSTRAINT part_refs_ab_fkey "
    "FOREIGN KEY (a, b) REFERENCES parts (a, b)) ENGINE=InnoDB",
    "CREATE TABLE `we\"ird ``name` (`se;lect` INT, CONSTRAINT `fk \"odd` FOREIGN KEY (`se;lect`) "
    "REFERENCES customers (id)) ENGINE=InnoDB",
    "INSERT INTO customers VALUES (1, 'c1'), (2, 'c2'), (3, 'c3')",
    "INSERT INTO orders (customer_id, note) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n "
    "+ 1 FROM g WHERE n < 50) SELECT 1 + n % 3, 'n' FROM g",
    "INSERT INTO parts VALUES (1, 1), (1, 2)",
    "INSERT INTO part_refs VALUES (1, 1, 1), (2, 1, 2), (3, 9, NULL)",
    "INSERT INTO `we\"ird ``name` VALUES (1), (2), (NULL)",
    NULL};

static char *scalar(rd_db *db, const char *sql)
{
    rd_error err = {0};
    char *v = NULL;
    ck_assert_msg(rd_db_scalar(db, sql, 60, &v, NULL, &err) == RD_OK, "%s: %s", sql, err.msg);
    return v;
}

/* A fresh database with the sample schema, session pinned like the drill's;
 * NULL (test skipped) without a server. */
static rd_db *sample_db(rd_engine e, int with_schema)
{
    char name[64];
    rd_error err = {0};
    if (!rd_itest_server(e))
        return NULL;
    rd_db *db = rd_itest_fresh_db(e, name);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(rd_db_pin_session(db, &err), RD_OK);
    for (const char *const *q = PG(e) ? pg_setup : my_setup; with_schema && *q; q++)
        rd_itest_exec(db, *q);
    return db;
}

#define PATH "targets[0].checks[2]"

/* Configure and run one check on db; results in r->t->checks. */
static void run_check(fx_run *r, rd_engine e, const char *json, rd_db *db, int64_t created_ms)
{
    fx_start(r, e, PATH, 600, json);
    r->ctx.scratch = db;
    r->ctx.point_created_ms = created_ms;
    fx_run_check(r);
}

/* "public.x" on PostgreSQL, "x" on MariaDB. */
static const char *obj(rd_engine e, const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", PG(e) ? "public." : "", name);
    return buf;
}

/* ---------- integrity ---------- */

START_TEST(integrity_clean)
{
    rd_engine e = ENGINE(_i);
    rd_db *db = sample_db(e, 1);
    if (!db)
        return;
    char b[160];
    fx_run r;
    run_check(&r, e, "{\"type\": \"integrity\"}", db, 0);
    ck_assert_uint_eq(r.t->nchecks, 5 + 3); /* 5 tables, 3 foreign keys */
    for (size_t i = 0; i < r.t->nchecks; i++)
        ck_assert_msg(r.t->checks[i].status == RD_PASSED, "%s: %s", r.t->checks[i].object,
                      r.t->checks[i].message);
    /* tables first, sorted, then foreign keys */
    ck_assert_str_eq(r.t->checks[0].object, obj(e, "customers", b, sizeof b));
    ck_assert_str_eq(r.t->checks[4].object, obj(e, "we\"ird `name", b, sizeof b));
    const rd_check_result *c;
    if (PG(e)) {
        c = fx_expect(&r, "public.orders", RD_PASSED, "amcheck: heap and 2 btree indexes intact");
        ck_assert_str_eq(fx_prop(c, "indexes_checked"), "2");
        ck_assert_str_eq(fx_prop(c, "heap_findings"), "0");
        fx_expect(&r, "public.we\"ird `name", RD_PASSED,
                  "amcheck: heap and 0 btree indexes intact");
    } else {
        fx_expect(&r, "orders", RD_PASSED, "CHECK TABLE MEDIUM: OK");
        fx_expect(&r, "we\"ird `name", RD_PASSED, "CHECK TABLE MEDIUM: OK");
    }
    c = fx_expect(
        &r, PG(e) ? "public.orders.orders_customer_id_fkey" : "orders.orders_customer_id_fkey",
        RD_PASSED,
        PG(e) ? "no orphan rows: (customer_id) references public.customers (id)"
              : "no orphan rows: (customer_id) references customers (id)");
    ck_assert_str_eq(c->expected, "0 orphan rows");
    ck_assert_str_eq(c->actual, "0 orphan rows");
    ck_assert_str_eq(fx_prop(c, "orphan_rows"), "0");
    fx_expect(&r, PG(e) ? "public.part_refs.part_refs_ab_fkey" : "part_refs.part_refs_ab_fkey",
              RD_PASSED,
              PG(e) ? "no orphan rows: (a, b) references public.parts (a, b)"
                    : "no orphan rows: (a, b) references parts (a, b)");
    fx_expect(&r, PG(e) ? "public.we\"ird `name.fk \"odd" : "we\"ird `name.fk \"odd", RD_PASSED,
              NULL);
    fx_run_free(&r);
    if (PG(e)) { /* amcheck was loaded for the check only */
        char *v = scalar(db, "SELECT count(*) FROM pg_extension WHERE extname = 'amcheck'");
        ck_assert_str_eq(v, "0");
        free(v);
        v = scalar(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'restoredrill_amcheck'");
        ck_assert_str_eq(v, "0");
        free(v);
    }
    /* options: a table filter, no foreign keys, a CHECK TABLE mode */
    run_check(&r, e,
              PG(e) ? "{\"type\": \"integrity\", \"tables\": [\"public.ord*\"], \"foreign_keys\": "
                      "false, \"heap\": false}"
                    : "{\"type\": \"integrity\", \"tables\": [\"ord*\"], \"foreign_keys\": false, "
                      "\"mode\": \"extended\"}",
              db, 0);
    ck_assert_uint_eq(r.t->nchecks, 1);
    fx_expect(&r, obj(e, "orders", b, sizeof b), RD_PASSED,
              PG(e) ? "amcheck: 2 btree indexes intact" : "CHECK TABLE EXTENDED: OK");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"integrity\", \"tables\": [\"nothing*\"]}", db, 0);
    fx_expect(&r, "*", RD_SKIPPED, "no table matches \"tables\"");
    fx_run_free(&r);
    rd_db_free(db);
}
END_TEST

START_TEST(integrity_orphans)
{
    rd_engine e = ENGINE(_i);
    rd_db *db = sample_db(e, 1);
    if (!db)
        return;
    /* bypass the foreign keys the way a broken restore would */
    if (PG(e)) {
        rd_itest_exec(db, "SET session_replication_role = replica");
        rd_itest_exec(db, "INSERT INTO orders (customer_id) VALUES (99), (98), (99), (NULL)");
        rd_itest_exec(db, "INSERT INTO part_refs VALUES (4, 7, 8), (5, 1, 2)");
        rd_itest_exec(db,
                      "INSERT INTO \"we\"\"ird `name\" SELECT g FROM generate_series(10, 17) g");
        rd_itest_exec(db, "RESET session_replication_role");
    } else {
        rd_itest_exec(db, "SET foreign_key_checks = 0");
        rd_itest_exec(db, "INSERT INTO orders (customer_id) VALUES (99), (98), (99), (NULL)");
        rd_itest_exec(db, "INSERT INTO part_refs VALUES (4, 7, 8), (5, 1, 2)");
        rd_itest_exec(db, "INSERT INTO `we\"ird ``name` VALUES (10), (11), (12), (13), (14), (15), "
                          "(16), (17)");
        rd_itest_exec(db, "SET foreign_key_checks = 1");
    }
    fx_run r;
    run_check(&r, e, "{\"type\": \"integrity\"}", db, 0);
    ck_assert_uint_eq(r.t->nchecks, 8);
    const rd_check_result *c = fx_expect(
        &r, PG(e) ? "public.orders.orders_customer_id_fkey" : "orders.orders_customer_id_fkey",
        RD_FAILED,
        PG(e) ? "3 orphan rows: (customer_id) not found in public.customers (id): 98, 99"
              : "3 orphan rows: (customer_id) not found in customers (id): 98, 99");
    ck_assert_str_eq(c->expected, "0 orphan rows");
    ck_assert_str_eq(c->actual, "3 orphan rows");
    ck_assert_str_eq(fx_prop(c, "orphan_rows"), "3");
    ck_assert_str_eq(fx_prop(c, "orphan_keys"), "2");
    fx_expect(&r, PG(e) ? "public.part_refs.part_refs_ab_fkey" : "part_refs.part_refs_ab_fkey",
              RD_FAILED,
              PG(e) ? "1 orphan row: (a, b) not found in public.parts (a, b): (7, 8)"
                    : "1 orphan row: (a, b) not found in parts (a, b): (7, 8)");
    fx_expect(&r, PG(e) ? "public.we\"ird `name.fk \"odd" : "we\"ird `name.fk \"odd", RD_FAILED,
              PG(e)
                  ? "8 orphan rows: (se;lect) not found in public.customers (id): 10, 11, 12, 13, "
                    "14 and 3 more"
                  : "8 orphan rows: (se;lect) not found in customers (id): 10, 11, 12, 13, 14 and "
                    "3 more");
    /* the tables themselves are intact */
    fx_expect(&r, PG(e) ? "public.orders" : "orders", RD_PASSED, NULL);
    fx_run_free(&r);
    /* foreign_keys false: only the tables */
    run_check(&r, e, "{\"type\": \"integrity\", \"foreign_keys\": false}", db, 0);
    ck_assert_uint_eq(r.t->nchecks, 5);
    fx_run_free(&r);
    rd_db_free(db);
}
END_TEST

/* PostgreSQL: an index that no longer matches its heap. The index is on an
 * "immutable" function that is then redefined, so bt_index_check with
 * heapallindexed finds heap tuples without their index entries. */
START_TEST(integrity_pg_corrupt_index)
{
    rd_db *db = sample_db(RD_ENGINE_PG, 0);
    if (!db)
        return;
    rd_itest_exec(db, "CREATE FUNCTION f(i integer) RETURNS integer LANGUAGE sql IMMUTABLE AS "
                      "'SELECT i'");
    rd_itest_exec(db, "CREATE TABLE \"bad;table\" (i integer)");
    rd_itest_exec(db, "INSERT INTO \"bad;table\" SELECT g FROM generate_series(1, 10) g");
    rd_itest_exec(db, "CREATE INDEX bad_f_idx ON \"bad;table\" (f(i))");
    rd_itest_exec(db, "CREATE TABLE fine (i integer PRIMARY KEY)");
    rd_itest_exec(db,
                  "CREATE OR REPLACE FUNCTION f(i integer) RETURNS integer LANGUAGE sql IMMUTABLE "
                  "AS 'SELECT i + 1000'");
    fx_run r;
    run_check(&r, RD_ENGINE_PG, "{\"type\": \"integrity\"}", db, 0);
    ck_assert_uint_eq(r.t->nchecks, 2);
    const rd_check_result *c = fx_expect(&r, "public.bad;table", RD_FAILED, NULL);
    ck_assert_str_eq(c->message, "amcheck found corruption: index bad_f_idx: heap tuple (0,1) "
                                 "from table \"bad;table\" lacks matching index tuple within "
                                 "index \"bad_f_idx\" (sqlstate XX001)");
    ck_assert_str_eq(c->expected, "no corruption");
    ck_assert_str_eq(c->actual, "1 finding");
    fx_expect(&r, "public.fine", RD_PASSED, "amcheck: heap and 1 btree index intact");
    fx_run_free(&r);
    /* the heap alone is fine */
    run_check(&r, RD_ENGINE_PG, "{\"type\": \"integrity\", \"indexes\": false}", db, 0);
    fx_expect(&r, "public.bad;table", RD_PASSED, "amcheck: heap intact");
    fx_run_free(&r);
    rd_db_free(db);
}
END_TEST

/* MariaDB: CHECK TABLE rows are parsed. A MyISAM table whose index file
 * was damaged on disk reports errors even though the statement succeeds. */
START_TEST(integrity_mariadb_check_table_fails)
{
    rd_db *db = sample_db(RD_ENGINE_MARIADB, 0);
    if (!db)
        return;
    rd_itest_exec(db, "CREATE TABLE m (id INT PRIMARY KEY, v INT, KEY (v)) ENGINE=MyISAM");
    rd_itest_exec(db,
                  "INSERT INTO m WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g "
                  "WHERE n < 200) SELECT n, n FROM g");
    rd_itest_exec(db, "CREATE TABLE mem (id INT) ENGINE=MEMORY");
    char *dir = scalar(db, "SELECT @@datadir"), *name = scalar(db, "SELECT DATABASE()");
    rd_itest_exec(db, "FLUSH TABLES");
    /* overwrite the key blocks of the index file (after its 1 KiB header) */
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/m.MYI", dir, name);
    FILE *f = fopen(path, "r+b");
    ck_assert_msg(f != NULL, "open %s", path);
    char junk[2048];
    memset(junk, 0x5a, sizeof junk);
    ck_assert_int_eq(fseek(f, 1024, SEEK_SET), 0);
    ck_assert_uint_eq(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    fx_run r;
    run_check(&r, RD_ENGINE_MARIADB, "{\"type\": \"integrity\", \"mode\": \"EXTENDED\"}", db, 0);
    const rd_check_result *c = fx_expect(&r, "m", RD_FAILED, NULL);
    ck_assert_msg(strncmp(c->message, "CHECK TABLE EXTENDED: ", 22) == 0, "%s", c->message);
    ck_assert_msg(strstr(c->message, "error: ") != NULL, "%s", c->message);
    ck_assert_str_eq(c->expected, "OK");
    fx_expect(&r, "mem", RD_SKIPPED, "the MEMORY storage engine does not support CHECK TABLE");
    fx_run_free(&r);
    free(dir);
    free(name);
    rd_db_free(db);
}
END_TEST

START_TEST(integrity_config_errors)
{
    static const struct {
        rd_engine e;
        const char *json, *msg;
    } cases[] = {
        {RD_ENGINE_PG, "{\"type\": \"integrity\", \"mode\": \"EXTENDED\"}",
         "targets[0].checks[2].mode: CHECK TABLE modes apply to mariadb only"},
        {RD_ENGINE_MARIADB, "{\"type\": \"integrity\", \"mode\": \"deep\"}",
         "targets[0].checks[2].mode: expected one of \"\", \"QUICK\", \"MEDIUM\", \"EXTENDED\", "
         "\"CHANGED\", got \"deep\""},
        {RD_ENGINE_PG,
         "{\"type\": \"integrity\", \"heap\": false, \"indexes\": false, \"foreign_keys\": false}",
         "targets[0].checks[2]: nothing to check (heap, indexes and foreign_keys are all false)"},
        {RD_ENGINE_PG, "{\"type\": \"integrity\", \"heap\": \"yes\"}",
         "targets[0].checks[2].heap: expected true or false, got \"yes\""},
        {RD_ENGINE_PG, "{\"type\": \"integrity\", \"tabels\": []}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fx_config_error(cases[i].e, PATH, cases[i].json, cases[i].msg,
                        "targets[0].checks[2].tabels: unknown key");
}
END_TEST

/* ---------- sql ---------- */

START_TEST(sql_expectations)
{
    rd_engine e = ENGINE(_i);
    rd_db *db = sample_db(e, 1);
    if (!db)
        return;
    static const struct {
        const char *query, *expect;
        rd_verdict v;
        const char *msg, *actual;
    } cases[] = {
        {"SELECT count(*) FROM customers", "= 3", RD_PASSED, "value 3 meets \"= 3\"", "3"},
        {"SELECT count(*) FROM customers", "= 4", RD_FAILED, "value 3 does not meet \"= 4\"", "3"},
        {"SELECT count(*) FROM customers", "!= 4", RD_PASSED, "value 3 meets \"!= 4\"", "3"},
        {"SELECT count(*) FROM customers", "!= 3", RD_FAILED, "value 3 does not meet \"!= 3\"",
         "3"},
        {"SELECT count(*) FROM orders", ">= 50", RD_PASSED, "value 50 meets \">= 50\"", "50"},
        {"SELECT count(*) FROM orders", ">= 100", RD_FAILED, "value 50 does not meet \">= 100\"",
         "50"},
        {"SELECT count(*) FROM orders", "<= 50", RD_PASSED, "value 50 meets \"<= 50\"", "50"},
        {"SELECT count(*) FROM orders", "<= 49", RD_FAILED, "value 50 does not meet \"<= 49\"",
         "50"},
        {"SELECT count(*) FROM orders", "> 9", RD_PASSED, "value 50 meets \"> 9\"", "50"},
        {"SELECT count(*) FROM orders", "> 50", RD_FAILED, "value 50 does not meet \"> 50\"", "50"},
        {"SELECT count(*) FROM orders", "< 51", RD_PASSED, "value 50 meets \"< 51\"", "50"},
        {"SELECT count(*) FROM orders", "< 50", RD_FAILED, "value 50 does not meet \"< 50\"", "50"},
        {"SELECT name FROM customers WHERE id = 2", "~ ^c[0-9]$", RD_PASSED,
         "value c2 meets \"~ ^c[0-9]$\"", "c2"},
        {"SELECT name FROM customers WHERE id = 2", "~ ^x", RD_FAILED,
         "value c2 does not meet \"~ ^x\"", "c2"},
        {"SELECT id FROM customers", "rows = 3", RD_PASSED, "3 rows, meets \"rows = 3\"",
         "rows = 3"},
        {"SELECT id FROM customers WHERE id > 1", "rows = 3", RD_FAILED,
         "2 rows, does not meet \"rows = 3\"", "rows = 2"},
        {"SELECT name FROM customers WHERE id = 42", "= c1", RD_FAILED,
         "query returned no rows, expected = c1", "no rows"},
        {"SELECT NULL", "= 1", RD_FAILED, "value NULL does not meet \"= 1\"", "NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char json[512];
        fx_run r;
        snprintf(json, sizeof json,
                 "{\"type\": \"sql\", \"name\": \"case %zu\", \"query\": \"%s\", \"expect\": "
                 "\"%s\"}",
                 i, cases[i].query, cases[i].expect);
        run_check(&r, e, json, db, 0);
        ck_assert_uint_eq(r.t->nchecks, 1);
        const rd_check_result *c = &r.t->checks[0];
        ck_assert_msg(c->status == cases[i].v && strcmp(c->message, cases[i].msg) == 0,
                      "case %zu: %s: %s", i, rd_verdict_name(c->status), c->message);
        ck_assert_str_eq(c->check, c->object);
        ck_assert_str_eq(c->expected, cases[i].expect);
        ck_assert_str_eq(c->actual, cases[i].actual);
        fx_run_free(&r);
    }
    /* without a name, the query is the object */
    fx_run r;
    run_check(&r, e, "{\"type\": \"sql\", \"query\": \"SELECT   1\", \"expect\": \"= 1\"}", db, 0);
    fx_expect(&r, "SELECT 1", RD_PASSED, "value 1 meets \"= 1\"");
    ck_assert_str_eq(r.t->checks[0].check, "sql");
    fx_run_free(&r);
    /* a query the server rejects is an error with its message, never a failure */
    run_check(&r, e,
              "{\"type\": \"sql\", \"name\": \"bad\", \"query\": \"SELECT count(*) FROM nope\", "
              "\"expect\": \">= 1\"}",
              db, 0);
    const rd_check_result *c = fx_expect(&r, "bad", RD_ERROR, NULL);
    if (PG(e))
        ck_assert_str_eq(c->message,
                         "query failed: relation \"nope\" does not exist (sqlstate 42P01)");
    else
        ck_assert_msg(strncmp(c->message, "query failed: Table '", 21) == 0 &&
                          strstr(c->message, ".nope' doesn't exist (errno 1146)"),
                      "%s", c->message);
    fx_run_free(&r);
    rd_db_free(db);
}
END_TEST

START_TEST(sql_config_errors)
{
    fx_config_error(RD_ENGINE_PG, PATH,
                    "{\"type\": \"sql\", \"query\": \"SELECT 1\", \"expect\": \"lots\"}",
                    "targets[0].checks[2].expect: expected an operator and a value like "
                    "\">= 100\", got \"lots\"",
                    NULL);
    fx_config_error(RD_ENGINE_PG, PATH, "{\"type\": \"sql\", \"expect\": \"= 1\"}",
                    "targets[0].checks[2].query: required key is missing", NULL);
    fx_config_error(RD_ENGINE_PG, PATH, "{\"type\": \"sql\", \"query\": \"SELECT 1\"}",
                    "targets[0].checks[2].expect: required key is missing", NULL);
}
END_TEST

/* ---------- freshness ---------- */

#define T_1500 1769785200000LL /* 2026-01-30T15:00:00Z */

START_TEST(freshness_sources)
{
    rd_engine e = ENGINE(_i);
    rd_db *db = sample_db(e, 1);
    if (!db)
        return;
    fx_run r;
    const rd_check_result *c;
    /* neither a heartbeat table nor a query */
    run_check(&r, e, "{\"type\": \"freshness\"}", db, T_1500);
    fx_expect(
        &r, "*", RD_ERROR,
        "no freshness source: the heartbeat table restoredrill_heartbeat does not exist in the "
        "restore and no query is configured");
    ck_assert_int_eq(r.ctx.newest_data_ms, 0);
    fx_run_free(&r);
    /* a query: 10 minutes of lag, within 15m */
    rd_itest_exec(db, PG(e) ? "CREATE TABLE events (at timestamptz)"
                            : "CREATE TABLE events (at DATETIME(3))");
    rd_itest_exec(db, "INSERT INTO events VALUES ('2026-01-30 14:50:00'), ('2026-01-30 14:40:00')");
    run_check(&r, e,
              "{\"type\": \"freshness\", \"query\": \"SELECT max(at) FROM events\", \"max_lag\": "
              "\"15m\"}",
              db, T_1500);
    c = fx_expect(
        &r, "newest data", RD_PASSED,
        "newest data 2026-01-30T14:50:00.000Z (query), 10m 00s before the recovery point, "
        "within max_lag 15m");
    ck_assert_str_eq(c->expected, "lag <= 15m");
    ck_assert_str_eq(c->actual, "lag 600.000s");
    ck_assert_str_eq(fx_prop(c, "data_lag_seconds"), "600.000");
    ck_assert_str_eq(fx_prop(c, "basis"), "query");
    ck_assert_int_eq(r.ctx.newest_data_ms, T_1500 - 600000);
    ck_assert_str_eq(r.ctx.newest_data_basis, "query");
    fx_run_free(&r);
    /* stale: more than max_lag */
    run_check(&r, e,
              "{\"type\": \"freshness\", \"source\": \"query\", \"query\": \"SELECT max(at) FROM "
              "events\", \"max_lag\": 300}",
              db, T_1500);
    c = fx_expect(
        &r, "newest data", RD_FAILED,
        "newest data 2026-01-30T14:50:00.000Z (query), 10m 00s before the recovery point, "
        "more than max_lag 5m");
    ck_assert_str_eq(c->expected, "lag <= 5m");
    ck_assert_int_eq(r.ctx.newest_data_ms, T_1500 - 600000);
    fx_run_free(&r);
    /* a heartbeat table wins over the query in auto mode */
    rd_itest_exec(
        db, PG(e) ? "CREATE TABLE restoredrill_heartbeat (writer_id text PRIMARY KEY, ts "
                    "timestamp with time zone NOT NULL)"
                  : "CREATE TABLE restoredrill_heartbeat (writer_id VARCHAR(255) PRIMARY KEY, "
                    "ts TIMESTAMP(6) NOT NULL)");
    run_check(&r, e, "{\"type\": \"freshness\", \"source\": \"heartbeat\"}", db, T_1500);
    fx_expect(&r, "*", RD_ERROR, "the heartbeat table restoredrill_heartbeat is empty");
    fx_run_free(&r);
    rd_itest_exec(db,
                  "INSERT INTO restoredrill_heartbeat VALUES ('a', '2026-01-30 14:59:58.5'), ('b', "
                  "'2026-01-30 14:00:00')");
    run_check(&r, e,
              "{\"type\": \"freshness\", \"query\": \"SELECT max(at) FROM events\", \"max_lag\": "
              "\"1m\"}",
              db, T_1500);
    c = fx_expect(&r, "newest data", RD_PASSED,
                  "newest data 2026-01-30T14:59:58.500Z (heartbeat), 1.50s before the recovery "
                  "point, within max_lag 1m");
    ck_assert_str_eq(r.ctx.newest_data_basis, "heartbeat");
    ck_assert_int_eq(r.ctx.newest_data_ms, T_1500 - 1500);
    fx_run_free(&r);
    /* without max_lag it passes whatever the lag; an unknown creation time is noted */
    run_check(&r, e, "{\"type\": \"freshness\"}", db, T_1500 + 86400000LL);
    fx_expect(
        &r, "newest data", RD_PASSED,
        "newest data 2026-01-30T14:59:58.500Z (heartbeat), 1d 00h 00m 02s before the recovery "
        "point");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"freshness\", \"max_lag\": \"1h\"}", db, 0);
    fx_expect(
        &r, "newest data", RD_ERROR,
        "newest data 2026-01-30T14:59:58.500Z (heartbeat); the recovery point's creation time "
        "is unknown, so max_lag cannot be judged");
    fx_run_free(&r);
    /* a value that is not a timestamp, a failing query, NULL */
    run_check(&r, e,
              "{\"type\": \"freshness\", \"source\": \"query\", \"query\": \"SELECT 'lots'\"}", db,
              T_1500);
    fx_expect(&r, "newest data", RD_ERROR, "the query returned \"lots\", not a timestamp");
    ck_assert_int_eq(r.ctx.newest_data_ms, 0);
    fx_run_free(&r);
    run_check(&r, e,
              "{\"type\": \"freshness\", \"source\": \"query\", \"query\": \"SELECT max(at) FROM "
              "events WHERE at > '2030-01-01'\"}",
              db, T_1500);
    fx_expect(&r, "newest data", RD_ERROR, "freshness query returned NULL");
    fx_run_free(&r);
    run_check(&r, e,
              "{\"type\": \"freshness\", \"source\": \"query\", \"query\": \"SELECT max(x) FROM "
              "nope\"}",
              db, T_1500);
    c = fx_expect(&r, "newest data", RD_ERROR, NULL);
    ck_assert_msg(strncmp(c->message, "freshness query failed: ", 24) == 0, "%s", c->message);
    fx_run_free(&r);
    /* a custom heartbeat table name */
    run_check(&r, e, "{\"type\": \"freshness\", \"source\": \"heartbeat\", \"table\": \"hb\"}", db,
              T_1500);
    fx_expect(&r, "*", RD_ERROR, "the heartbeat table hb does not exist in the restore");
    fx_run_free(&r);
    rd_db_free(db);
}
END_TEST

START_TEST(freshness_config_errors)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"type\": \"freshness\", \"source\": \"query\"}",
         "targets[0].checks[2].query: required with \"source\": \"query\""},
        {"{\"type\": \"freshness\", \"source\": \"heartbeat\", \"query\": \"SELECT 1\"}",
         "targets[0].checks[2].query: not used with \"source\": \"heartbeat\""},
        {"{\"type\": \"freshness\", \"source\": \"wal\"}",
         "targets[0].checks[2].source: expected one of \"auto\", \"heartbeat\", \"query\", got "
         "\"wal\""},
        {"{\"type\": \"freshness\", \"max_lag\": \"soon\"}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fx_config_error(RD_ENGINE_PG, PATH, cases[i].json, cases[i].msg,
                        "targets[0].checks[2].max_lag: expected a duration");
}
END_TEST

/* ---------- checksum and diff against a live reference ---------- */

/* The reference holds t (ids 1..60) and only_ref; the restore lacks id 5,
 * has id 7 changed and an extra id 61, and has no only_ref. */
static void compare_pair(rd_engine e, rd_db **restored, rd_db **reference)
{
    *restored = sample_db(e, 0);
    *reference = sample_db(e, 0);
    if (!*restored)
        return;
    ck_assert_ptr_nonnull(*reference);
    rd_db *dbs[2] = {*restored, *reference};
    for (int i = 0; i < 2; i++) {
        rd_itest_exec(dbs[i], "CREATE TABLE t (id integer PRIMARY KEY, v varchar(20))");
        rd_itest_exec(dbs[i], PG(e)
                                  ? "INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 60) g"
                                  : "INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_60");
    }
    rd_itest_exec(*reference, "CREATE TABLE only_ref (id integer PRIMARY KEY)");
    rd_itest_exec(*restored, "DELETE FROM t WHERE id = 5");
    rd_itest_exec(*restored, "UPDATE t SET v = 'changed' WHERE id = 7");
    rd_itest_exec(*restored, "INSERT INTO t VALUES (61, 'v61')");
}

/* Configure and run one check on restored with reference as the live reference. */
static void run_against(fx_run *r, rd_engine e, const char *json, rd_db *restored, rd_db *reference)
{
    fx_start(r, e, PATH, 600, json);
    r->ctx.reference = reference;
    r->ctx.scratch = restored;
    fx_run_check(r);
}

START_TEST(compare_against_reference)
{
    rd_engine e = _i == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB;
    rd_db *restored = NULL, *reference = NULL;
    char b1[64], b2[64];
    compare_pair(e, &restored, &reference);
    if (!restored)
        return;
    const char *t = obj(e, "t", b1, sizeof b1), *only = obj(e, "only_ref", b2, sizeof b2);
    fx_run r;

    run_against(&r, e, "{\"type\": \"diff\", \"parallel\": 1}", restored, reference);
    ck_assert_uint_eq(r.t->nchecks, 2);
    const rd_check_result *c = fx_expect(
        &r, t, RD_FAILED, "1 missing, 1 extra, 1 changed rows: changed 7, extra 61, missing 5");
    ck_assert_str_eq(fx_prop(c, "missing"), "1");
    fx_expect(&r, only, RD_FAILED, "table missing from the restore");
    fx_run_free(&r);

    run_against(&r, e, "{\"type\": \"checksum\", \"parallel\": 1}", restored, reference);
    ck_assert_uint_eq(r.t->nchecks, 2);
    c = fx_expect(&r, t, RD_FAILED, NULL);
    ck_assert_str_eq(c->message,
                     "1 of 1 chunk differs from the reference: all rows (60 rows, reference 60)");
    fx_expect(&r, only, RD_FAILED, "table missing from the restore");
    fx_run_free(&r);

    /* a selection that matches no table of the reference */
    run_against(&r, e, "{\"type\": \"diff\", \"tables\": [\"nosuch*\"]}", restored, reference);
    ck_assert_uint_eq(r.t->nchecks, 1);
    fx_expect(&r, "*", RD_FAILED, "no table of the reference matches \"tables\"");
    fx_run_free(&r);
    rd_db_free(restored);
    rd_db_free(reference);
}
END_TEST

static void start_servers(void)
{
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

Suite *checks_more_suite(void);
Suite *checks_more_suite(void)
{
    Suite *s = suite_create("checks_more");
    TCase *tc = tcase_create("live");
    tcase_add_unchecked_fixture(tc, start_servers, NULL);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, integrity_clean, 0, 2);
    tcase_add_loop_test(tc, integrity_orphans, 0, 2);
    tcase_add_test(tc, integrity_pg_corrupt_index);
    tcase_add_test(tc, integrity_mariadb_check_table_fails);
    tcase_add_loop_test(tc, sql_expectations, 0, 2);
    tcase_add_loop_test(tc, freshness_sources, 0, 2);
    tcase_add_loop_test(tc, compare_against_reference, 0, 2);
    suite_add_tcase(s, tc);
    TCase *cfg = tcase_create("config");
    tcase_add_test(cfg, integrity_config_errors);
    tcase_add_test(cfg, sql_config_errors);
    tcase_add_test(cfg, freshness_config_errors);
    suite_add_tcase(s, cfg);
    return s;
}
