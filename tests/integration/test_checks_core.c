/* test_checks_core.c: manifests, the rowcount and schema checks, `backup`
 * and `heartbeat` against real PostgreSQL and MariaDB servers (itest_util).
 * Every loop test runs once per engine: _i 0 = PostgreSQL, 1 = MariaDB. */
#include <check.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../checks/check_util.h"
#include "../../harness/source/source_int.h"
#include "../unit/check_fixture.h"
#include "itest_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/result.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)
#define PG(e) ((e) == RD_ENGINE_PG)

static const char *const pg_setup[] = {
    "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL)",
    "CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer NOT NULL REFERENCES "
    "customers (id), note varchar(20), amount numeric(10,2) CHECK (amount >= 0))",
    "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "CREATE INDEX orders_note_idx ON orders (note)",
    "CREATE TABLE \"we\"\"ird `name\" (\"se;lect\" integer)",
    "CREATE SEQUENCE ticket_seq",
    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100",
    "CREATE FUNCTION add_one(i integer) RETURNS integer LANGUAGE sql AS 'SELECT i + 1'",
    "CREATE FUNCTION orders_trg_fn() RETURNS trigger LANGUAGE plpgsql AS "
    "'BEGIN RETURN NEW; END'",
    "CREATE TRIGGER orders_trg BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION "
    "orders_trg_fn()",
    "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 3) g",
    "INSERT INTO orders (customer_id, note, amount) SELECT 1 + g % 3, 'n', g FROM "
    "generate_series(1, 120) g",
    "INSERT INTO \"we\"\"ird `name\" VALUES (1), (2)",
    "SELECT setval('ticket_seq', 42)",
    NULL};

static const char *const my_setup[] = {
    "CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL) ENGINE=InnoDB",
    "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, "
    "note VARCHAR(20), amount DECIMAL(10,2), KEY orders_customer_idx (customer_id), "
    "KEY orders_note_idx (note), CONSTRAINT orders_amount_check CHECK (amount >= 0), "
    "CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)) "
    "ENGINE=InnoDB",
    "CREATE TABLE `we\"ird ``name` (`se;lect` INT) ENGINE=InnoDB",
    "CREATE SEQUENCE ticket_seq",
    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE amount > 100",
    "CREATE FUNCTION add_one(i INT) RETURNS INT DETERMINISTIC RETURN i + 1",
    "CREATE TRIGGER orders_trg BEFORE INSERT ON orders FOR EACH ROW SET NEW.note = "
    "COALESCE(NEW.note, 'n')",
    "INSERT INTO customers VALUES (1, 'c1'), (2, 'c2'), (3, 'c3')",
    "INSERT INTO orders (customer_id, note, amount) WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL "
    "SELECT n + 1 FROM g WHERE n < 120) SELECT 1 + n % 3, 'n', n FROM g",
    "INSERT INTO `we\"ird ``name` VALUES (1), (2)",
    "SELECT SETVAL(ticket_seq, 42)",
    NULL};

static void setup_schema(rd_db *db, rd_engine e)
{
    for (const char *const *q = PG(e) ? pg_setup : my_setup; *q; q++)
        rd_itest_exec(db, *q);
}

/* A fresh database with the sample schema; skips (returns NULL) without a server. */
static rd_db *sample_db(rd_engine e, char *name)
{
    if (!rd_itest_server(e))
        return NULL;
    rd_db *db = rd_itest_fresh_db(e, name);
    ck_assert_ptr_nonnull(db);
    setup_schema(db, e);
    return db;
}

static const char *weird(rd_engine e)
{
    return PG(e) ? "public.we\"ird `name" : "we\"ird `name";
}

static const char *tname(rd_engine e, const char *t, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", PG(e) ? "public." : "", t);
    return buf;
}

static rd_manifest *capture(rd_db *db)
{
    rd_error err = {0};
    rd_manifest *m = NULL;
    rd_status st = rd_manifest_capture(db, NULL, &m, &err);
    ck_assert_msg(st == RD_OK, "capture: %s", err.msg);
    return m;
}

/* ---------- manifest capture ---------- */

START_TEST(capture_small_schema)
{
    rd_engine e = ENGINE(_i);
    char name[64];
    rd_db *db = sample_db(e, name);
    if (!db)
        return;
    rd_manifest *m = capture(db);
    ck_assert_int_eq(m->engine, e);
    ck_assert_str_eq(m->database, name);
    ck_assert_uint_eq(m->ntables, 3);
    ck_assert_str_eq(m->tables[0].name, "customers");
    ck_assert_str_eq(m->tables[1].name, "orders");
    ck_assert_str_eq(m->tables[2].name, "we\"ird `name");
    ck_assert_str_eq(m->tables[0].schema, PG(e) ? "public" : name);
    ck_assert_int_eq(m->tables[0].rows, 3);
    ck_assert_int_eq(m->tables[1].rows, 120);
    ck_assert_int_eq(m->tables[2].rows, 2);
    const rd_manifest_table *o = &m->tables[1];
    ck_assert_uint_eq(o->ncolumns, 4);
    ck_assert_str_eq(o->columns[0].name, "id");
    ck_assert_str_eq(o->columns[0].type, PG(e) ? "integer" : "int(11)");
    ck_assert_int_eq(o->columns[0].nullable, 0);
    ck_assert_str_eq(o->columns[2].name, "note");
    ck_assert_str_eq(o->columns[2].type, PG(e) ? "character varying(20)" : "varchar(20)");
    ck_assert_int_eq(o->columns[2].nullable, 1);
    ck_assert_str_eq(o->columns[3].type, PG(e) ? "numeric(10,2)" : "decimal(10,2)");
    ck_assert_uint_eq(o->npk, 1);
    ck_assert_str_eq(o->primary_key[0], "id");
    ck_assert_str_eq(m->tables[2].columns[0].name, "se;lect");
    /* indexes and constraints, sorted by name */
    ck_assert_uint_eq(o->nindexes, 3);
    const rd_manifest_named *ix = &o->indexes[PG(e) ? 0 : 1]; /* byte order: "PRIMARY" < "o" */
    ck_assert_str_eq(ix->name, "orders_customer_idx");
    ck_assert_str_eq(ix->definition,
                     PG(e) ? "CREATE INDEX orders_customer_idx ON public.orders USING btree "
                             "(customer_id)"
                           : "BTREE (customer_id)");
    ck_assert_str_eq(o->indexes[PG(e) ? 2 : 0].name, PG(e) ? "orders_pkey" : "PRIMARY");
    ck_assert_str_eq(o->indexes[PG(e) ? 2 : 0].definition,
                     PG(e) ? "CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)"
                           : "UNIQUE BTREE (id)");
    ck_assert_uint_eq(o->nconstraints, 3);
    const rd_manifest_named *cs = &o->constraints[PG(e) ? 0 : 1];
    ck_assert_str_eq(cs[0].name, "orders_amount_check");
    ck_assert_str_eq(cs[0].kind, "c");
    ck_assert_str_eq(cs[0].definition,
                     PG(e) ? "CHECK ((amount >= (0)::numeric))" : "CHECK (`amount` >= 0)");
    ck_assert_str_eq(cs[1].kind, "f");
    ck_assert_str_eq(o->constraints[PG(e) ? 2 : 0].kind, "p");
    ck_assert_str_eq(o->constraints[PG(e) ? 2 : 0].definition, "PRIMARY KEY (id)");
    ck_assert_str_eq(cs[1].definition,
                     PG(e) ? "FOREIGN KEY (customer_id) REFERENCES customers(id)"
                           : "FOREIGN KEY (customer_id) REFERENCES customers (id) ON UPDATE "
                             "RESTRICT ON DELETE RESTRICT");
    /* sequences: PG serial + ticket_seq; MariaDB AUTO_INCREMENT + ticket_seq */
    ck_assert_uint_eq(m->nsequences, 2);
    if (PG(e)) {
        ck_assert_str_eq(m->sequences[0].name, "orders_id_seq");
        ck_assert_int_eq(m->sequences[0].value, 120);
        ck_assert_str_eq(m->sequences[1].name, "ticket_seq");
        ck_assert_int_eq(m->sequences[1].value, 42);
    } else {
        ck_assert_str_eq(m->sequences[0].name, "orders.auto_increment");
        /* InnoDB reserves AUTO_INCREMENT values in batches for INSERT ... SELECT */
        ck_assert_int_ge(m->sequences[0].value, 121);
        ck_assert_str_eq(m->sequences[1].name, "ticket_seq");
        ck_assert_int_eq(m->sequences[1].value, 43);
    }
    char buf[160];
    ck_assert_uint_eq(m->nviews, 1);
    snprintf(buf, sizeof buf, "%s.big_orders", PG(e) ? "public" : name);
    ck_assert_str_eq(m->views[0], buf);
    if (PG(e)) {
        ck_assert_uint_eq(m->nroutines, 2);
        ck_assert_str_eq(m->routines[0], "public.add_one(integer)");
        ck_assert_str_eq(m->routines[1], "public.orders_trg_fn()");
        ck_assert_uint_eq(m->nextensions, 1);
        ck_assert_str_eq(m->extensions[0].name, "plpgsql");
    } else {
        ck_assert_uint_eq(m->nroutines, 1);
        snprintf(buf, sizeof buf, "%s.add_one", name);
        ck_assert_str_eq(m->routines[0], buf);
        ck_assert_uint_eq(m->nextensions, 0);
    }
    ck_assert_uint_eq(m->ntriggers, 1);
    snprintf(buf, sizeof buf, "%s.orders.orders_trg", PG(e) ? "public" : name);
    ck_assert_str_eq(m->triggers[0], buf);
    ck_assert_ptr_nonnull(m->server_version);
    rd_manifest_free(m);

    /* freshness query: a timestamp is stored, anything else is refused */
    rd_manifest_opts opts = {0};
    rd_error err = {0};
    opts.freshness_query = "SELECT '2026-01-30 15:00:00'";
    ck_assert_int_eq(rd_manifest_capture(db, &opts, &m, &err), RD_OK);
    ck_assert_int_eq(m->freshness_ms, 1769785200000LL);
    rd_manifest_free(m);
    m = NULL;
    opts.freshness_query = "SELECT 'lots'";
    ck_assert_int_eq(rd_manifest_capture(db, &opts, &m, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "freshness query returned \"lots\", not a timestamp");
    ck_assert_ptr_null(m);
    rd_db_free(db);
}
END_TEST

/* ---------- checks ---------- */

/* Configure and run one check; the results are in r->t->checks. */
static void run_check(fx_run *r, rd_engine e, const char *json, rd_db *scratch,
                      const rd_manifest *m, rd_db *reference)
{
    fx_start(r, e, "targets[0].checks[0]", 600, json);
    r->ctx.scratch = scratch;
    r->ctx.manifest = m;
    r->ctx.reference = reference;
    fx_run_check(r);
}

static void all_passed(const fx_run *r, size_t n)
{
    ck_assert_uint_eq(r->t->nchecks, n);
    for (size_t i = 0; i < r->t->nchecks; i++)
        ck_assert_msg(r->t->checks[i].status == RD_PASSED, "%s: %s (%s)", r->t->checks[i].object,
                      rd_verdict_name(r->t->checks[i].status), r->t->checks[i].message);
}

START_TEST(checks_clean_pass)
{
    rd_engine e = ENGINE(_i);
    char name[64], b[64];
    rd_db *db = sample_db(e, name);
    if (!db)
        return;
    rd_manifest *m = capture(db);
    fx_run r;
    run_check(&r, e, "{\"type\": \"rowcount\"}", db, m, NULL);
    all_passed(&r, 3);
    fx_expect(&r, tname(e, "orders", b, sizeof b), RD_PASSED, "120 rows, as in the manifest");
    ck_assert_str_eq(fx_result(&r, b)->expected, "120");
    ck_assert_str_eq(fx_result(&r, b)->actual, "120");
    fx_expect(&r, weird(e), RD_PASSED, "2 rows, as in the manifest");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"schema\"}", db, m, NULL);
    all_passed(&r, 9);
    fx_expect(&r, "tables", RD_PASSED, "3 tables match the manifest");
    fx_expect(&r, "columns", RD_PASSED, "7 columns match the manifest");
    fx_run_free(&r);
    rd_manifest_free(m);
    rd_db_free(db);
}
END_TEST

START_TEST(checks_detect_damage)
{
    rd_engine e = ENGINE(_i);
    char name[64], b[64];
    rd_db *db = sample_db(e, name);
    if (!db)
        return;
    rd_manifest *m = capture(db);
    rd_itest_exec(db, "DELETE FROM orders WHERE id = 7");
    rd_itest_exec(db, PG(e) ? "DROP TABLE \"we\"\"ird `name\"" : "DROP TABLE `we\"ird ``name`");
    rd_itest_exec(db,
                  PG(e) ? "DROP INDEX orders_note_idx" : "DROP INDEX orders_note_idx ON orders");
    rd_itest_exec(db,
                  PG(e) ? "SELECT setval('ticket_seq', 5)" : "ALTER SEQUENCE ticket_seq RESTART 5");
    fx_run r;
    run_check(&r, e, "{\"type\": \"rowcount\"}", db, m, NULL);
    ck_assert_uint_eq(r.t->nchecks, 3);
    fx_expect(&r, tname(e, "customers", b, sizeof b), RD_PASSED, NULL);
    fx_expect(&r, tname(e, "orders", b, sizeof b), RD_FAILED, "119 rows, expected 120 (manifest)");
    ck_assert_str_eq(fx_result(&r, b)->expected, "120");
    ck_assert_str_eq(fx_result(&r, b)->actual, "119");
    fx_expect(&r, weird(e), RD_FAILED, "table missing from the restore");
    ck_assert_str_eq(fx_result(&r, weird(e))->expected, "2");
    ck_assert_str_eq(fx_result(&r, weird(e))->actual, "missing");
    ck_assert_int_eq(r.t->status == RD_PASSED, 1); /* not settled yet */
    rd_target_settle(r.t);
    ck_assert_int_eq(r.t->status, RD_FAILED);
    fx_run_free(&r);

    char msg[256];
    run_check(&r, e, "{\"type\": \"schema\"}", db, m, NULL);
    ck_assert_uint_eq(r.t->nchecks, 9);
    snprintf(msg, sizeof msg, "missing tables: %s", weird(e));
    fx_expect(&r, "tables", RD_FAILED, msg);
    ck_assert_str_eq(fx_result(&r, "tables")->expected, "3 tables");
    ck_assert_str_eq(fx_result(&r, "tables")->actual, "2 tables");
    snprintf(msg, sizeof msg, "missing columns: %s.se;lect", weird(e));
    fx_expect(&r, "columns", RD_FAILED, msg);
    snprintf(msg, sizeof msg, "missing indexes: %s.orders_note_idx",
             tname(e, "orders", b, sizeof b));
    fx_expect(&r, "indexes", RD_FAILED, msg);
    snprintf(msg, sizeof msg, "changed sequences: %s: 5, behind %d",
             tname(e, "ticket_seq", b, sizeof b), PG(e) ? 42 : 43);
    fx_expect(&r, "sequences", RD_FAILED, msg);
    fx_expect(&r, "constraints", RD_PASSED, NULL);
    fx_expect(&r, "views", RD_PASSED, NULL);
    fx_expect(&r, "routines", RD_PASSED, NULL);
    fx_expect(&r, "triggers", RD_PASSED, NULL);
    fx_expect(&r, "environment", RD_PASSED, NULL);
    fx_run_free(&r);
    rd_manifest_free(m);
    rd_db_free(db);
}
END_TEST

START_TEST(checks_live_reference)
{
    rd_engine e = ENGINE(_i);
    char name[64], rname[64], b[64];
    rd_db *db = sample_db(e, name);
    if (!db)
        return;
    rd_db *ref = sample_db(e, rname);
    rd_itest_exec(db, "DELETE FROM orders WHERE id IN (1, 2)");
    rd_itest_exec(db, "CREATE TABLE extra_t (x INT)");
    fx_run r;
    run_check(&r, e, "{\"type\": \"rowcount\", \"tolerance\": \"2%\"}", db, NULL, ref);
    ck_assert_uint_eq(r.t->nchecks, 4);
    fx_expect(&r, tname(e, "orders", b, sizeof b), RD_PASSED,
              "118 rows, within 2 of the reference's 120");
    ck_assert_str_eq(fx_result(&r, b)->expected, "120 ± 2");
    fx_expect(&r, tname(e, "extra_t", b, sizeof b), RD_SKIPPED, "extra table not in the reference");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"rowcount\", \"tables\": [\"*orders\"]}", db, NULL, ref);
    ck_assert_uint_eq(r.t->nchecks, 1);
    fx_expect(&r, tname(e, "orders", b, sizeof b), RD_FAILED, "118 rows, expected 120 (reference)");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"schema\"}", db, NULL, ref);
    char msg[128];
    snprintf(msg, sizeof msg, "extra tables: %s", tname(e, "extra_t", b, sizeof b));
    fx_expect(&r, "tables", RD_FAILED, msg);
    fx_expect(&r, "indexes", RD_PASSED, "4 indexes match the reference");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"schema\", \"allow_extra\": true}", db, NULL, ref);
    fx_expect(&r, "tables", RD_PASSED, msg);
    fx_run_free(&r);
    rd_db_free(ref);
    rd_db_free(db);
}
END_TEST

START_TEST(checks_min_rows_and_errors)
{
    rd_engine e = ENGINE(_i);
    char name[64], b[64];
    rd_db *db = sample_db(e, name);
    if (!db)
        return;
    fx_run r;
    run_check(&r, e, "{\"type\": \"rowcount\", \"min_rows\": {\"*orders\": 200, \"nope\": 1}}", db,
              NULL, NULL);
    ck_assert_uint_eq(r.t->nchecks, 2);
    fx_expect(&r, tname(e, "orders", b, sizeof b), RD_FAILED, "120 rows, fewer than min_rows 200");
    ck_assert_str_eq(fx_result(&r, b)->expected, ">= 200");
    ck_assert_str_eq(fx_result(&r, b)->actual, "120");
    fx_expect(&r, "nope", RD_FAILED, "table missing from the restore");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"rowcount\", \"min_rows\": 1}", db, NULL, NULL);
    all_passed(&r, 3);
    fx_expect(&r, tname(e, "customers", b, sizeof b), RD_PASSED, "3 rows, at least min_rows 1");
    fx_run_free(&r);
    /* no reference: an error, never a pass */
    run_check(&r, e, "{\"type\": \"rowcount\"}", db, NULL, NULL);
    ck_assert_uint_eq(r.t->nchecks, 1);
    fx_expect(&r, "*", RD_ERROR, "rowcount needs a manifest, a reference or min_rows");
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"schema\"}", db, NULL, NULL);
    fx_expect(&r, "*", RD_ERROR, "schema needs a manifest or a reference");
    fx_run_free(&r);
    rd_db_free(db);
}
END_TEST

static void config_error(const char *json, const char *want)
{
    fx_config_error(RD_ENGINE_PG, "targets[0].checks[2]", json, want, NULL);
}

START_TEST(configure_errors)
{
    config_error("{\"type\": \"rowcount\", \"tolerance\": \"lots\"}",
                 "targets[0].checks[2].tolerance: expected a number of rows or a percentage like "
                 "\"2%\", got \"lots\"");
    config_error("{\"type\": \"rowcount\", \"tolerance\": -1}",
                 "targets[0].checks[2].tolerance: expected a number of rows or a percentage like "
                 "\"2%\", got -1");
    config_error("{\"type\": \"rowcount\", \"min_rows\": {\"public.t\": 1.5}}",
                 "targets[0].checks[2].min_rows.public.t: expected an integer >= 0, got 1.5");
    config_error("{\"type\": \"rowcount\", \"min_rows\": \"many\"}",
                 "targets[0].checks[2].min_rows: expected an integer >= 0 or an object of them, "
                 "got \"many\"");
    config_error("{\"type\": \"schema\", \"require_same_major\": \"yes\"}",
                 "targets[0].checks[2].require_same_major: expected true or false, got \"yes\"");
}
END_TEST

/* ---------- backup ---------- */

typedef struct writer {
    rd_db *db;
    volatile int stop;
    long inserted;
} writer;

static void *writer_main(void *arg)
{
    writer *w = arg;
    while (!w->stop) {
        if (rd_db_exec(w->db, "INSERT INTO orders (customer_id, note, amount) VALUES (1, 'w', 1)",
                       30, NULL, NULL) == RD_OK)
            w->inserted++;
    }
    return NULL;
}

static char *db_dsn(rd_engine e, const char *name)
{
    char *dsn = NULL;
    rd_error err = {0};
    ck_assert_int_eq(rd_scratch_dsn_for(rd_itest_server(e), name, &dsn, &err), RD_OK);
    return dsn;
}

/* Run a command with the instance password in its environment. */
static int run_cmd(rd_engine e, const char *const *argv, rd_strbuf *errtail)
{
    const rd_scratch *s = rd_itest_server(e);
    char *pw = rd_asprintf("%s=%s", PG(e) ? "PGPASSWORD" : "MYSQL_PWD",
                           s->conn.password ? s->conn.password : "");
    const char *env[] = {pw, NULL};
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.env = env;
    int code = -1;
    rd_error err = {0};
    rd_status st = rd_proc_run(&spec, 300, NULL, errtail, &code, &err);
    ck_assert_msg(st == RD_OK, "%s: %s", argv[0], err.msg);
    free(pw);
    return code;
}

static const char *bin(void)
{
    const char *b = getenv("RD_BIN");
    return b ? b : "build/restoredrill";
}

/* Restore file into database dst with the engine's own client. */
static void restore_into(rd_engine e, const char *file, const char *dst, const char *decompress)
{
    rd_strbuf tail;
    rd_strbuf_init(&tail, 0);
    char *dsn = db_dsn(e, dst);
    char *script = NULL;
    if (PG(e)) {
        script = decompress ? rd_asprintf("%s -dc \"$1\" | pg_restore --no-owner --exit-on-error "
                                          "-d \"$2\"",
                                          decompress)
                            : rd_strdup("pg_restore --no-owner --exit-on-error -d \"$2\" \"$1\"");
    } else {
        rd_bk_mdsn d = {0};
        ck_assert_int_eq(rd_bk_parse_mariadb_dsn(dsn, &d, NULL), RD_OK);
        script = rd_asprintf("%s%s \"$1\" | mariadb --user=%s %s%s \"$3\"",
                             decompress ? decompress : "cat", decompress ? " -dc" : "",
                             d.user ? d.user : "root", d.socket ? "--socket=" : "",
                             d.socket ? d.socket : "");
        rd_bk_mdsn_free(&d);
    }
    const char *argv[] = {"sh", "-c", script, "sh", file, dsn, dst, NULL};
    int code = run_cmd(e, argv, &tail);
    ck_assert_msg(code == 0, "restore exited %d: %s", code, tail.data);
    free(script);
    free(dsn);
    rd_strbuf_free(&tail);
}

static char tmpdir[64]; /* made by the unchecked fixture, removed at its end */

static char *tmp_path(const char *name)
{
    ck_assert_msg(tmpdir[0], "no temp dir");
    return rd_asprintf("%s/%d_%s", tmpdir, (int)getpid(), name);
}

static void backup_roundtrip(rd_engine e, const char *extra, const char *decompress)
{
    char src[64], dst[64], b[64];
    rd_db *db = sample_db(e, src);
    if (!db)
        return;
    char *dsn = db_dsn(e, src);
    char *file = tmp_path(extra ? extra + 2 : "plain");
    char *side = rd_manifest_sidecar_path(file);
    writer w = {0};
    w.db = rd_itest_fresh_db(e, dst); /* any connection works: reconnect below */
    rd_db_free(w.db);
    rd_error err = {0};
    rd_db_opts o = {0};
    o.password = rd_itest_server(e)->conn.password;
    ck_assert_int_eq(rd_db_connect(e, dsn, &o, &w.db, &err), RD_OK);
    pthread_t th;
    pthread_create(&th, NULL, writer_main, &w);
    rd_strbuf tail;
    rd_strbuf_init(&tail, 0);
    const char *argv[] = {bin(), "backup", "--engine", rd_engine_name(e), "--dsn", dsn, "-o",
                          file,  extra,    NULL};
    int code = run_cmd(e, argv, &tail);
    w.stop = 1;
    pthread_join(th, NULL);
    ck_assert_msg(code == 0, "backup exited %d: %s", code, tail.data);
    ck_assert_msg(w.inserted > 0, "the writer inserted nothing");
    rd_manifest *m = NULL;
    ck_assert_int_eq(rd_manifest_load(side, &m, &err), RD_OK);
    char hex[RD_SHA256_HEX_LEN + 1];
    unsigned long long bytes = 0;
    ck_assert_int_eq(rd_sha256_file(file, hex, &bytes, &err), RD_OK);
    ck_assert_str_eq(m->artifact_sha256, hex);
    ck_assert_int_eq(m->artifact_bytes, (int64_t)bytes);
    ck_assert_str_eq(m->artifact_file, strrchr(file, '/') + 1);
    const rd_manifest_table *mt = rd_manifest_find_table(m, NULL, "orders");
    ck_assert_int_ge(mt->rows, 120);
    /* restore into a fresh database: the manifest's figures are what it holds */
    rd_db *rdb = rd_itest_fresh_db(e, dst);
    restore_into(e, file, dst, decompress);
    int64_t n = -1;
    rd_strbuf sql;
    rd_strbuf_init(&sql, 0);
    ck_assert_int_eq(rd_cku_count_rows(rdb, PG(e) ? "public" : NULL, "orders", 60, &n, &err),
                     RD_OK);
    ck_assert_int_eq(n, mt->rows);
    fx_run r;
    run_check(&r, e, "{\"type\": \"rowcount\"}", rdb, m, NULL);
    all_passed(&r, 3);
    fx_run_free(&r);
    run_check(&r, e, "{\"type\": \"schema\"}", rdb, m, NULL);
    all_passed(&r, 9);
    fx_run_free(&r);
    (void)b;
    rd_strbuf_free(&sql);
    rd_strbuf_free(&tail);
    rd_manifest_free(m);
    rd_db_free(rdb);
    rd_db_free(w.db);
    rd_db_free(db);
    unlink(file);
    unlink(side);
    free(side);
    free(file);
    free(dsn);
}

START_TEST(backup_consistent)
{
    backup_roundtrip(ENGINE(_i), NULL, NULL);
}
END_TEST

START_TEST(backup_compressed)
{
    rd_engine e = ENGINE(_i);
    if (PG(e))
        backup_roundtrip(e, "--gzip", "gzip"); /* custom format inside gzip */
    else
        backup_roundtrip(e, "--zstd", "zstd");
}
END_TEST

START_TEST(backup_usage_errors)
{
    rd_engine e = ENGINE(_i);
    if (!rd_itest_server(e))
        return;
    rd_strbuf tail;
    rd_strbuf_init(&tail, 0);
    char *file = tmp_path("exists");
    FILE *f = fopen(file, "w");
    fclose(f);
    const char *a1[] = {bin(), "backup", "--engine", rd_engine_name(e), "--dsn", "x",
                        "-o",  file,     NULL};
    ck_assert_int_eq(run_cmd(e, a1, &tail), 2);
    char want[256];
    snprintf(want, sizeof want, "restoredrill: backup: %s already exists", file);
    ck_assert_msg(strstr(tail.data, want), "%s", tail.data);
    rd_strbuf_reset(&tail);
    const char *a2[] = {bin(), "backup", "--engine", "oracle", "--dsn", "x", "-o", "y", NULL};
    ck_assert_int_eq(run_cmd(e, a2, &tail), 2);
    ck_assert_msg(strstr(tail.data, "--engine: expected postgres or mariadb, got \"oracle\""), "%s",
                  tail.data);
    /* cannot connect: exit 1, nothing left behind, no password printed */
    rd_strbuf_reset(&tail);
    unlink(file);
    const char *dsn = PG(e) ? "host=/nonexistent dbname=x password=sekrit"
                            : "mariadb://u:sekrit@localhost/x?socket=/nonexistent.sock";
    const char *a3[] = {bin(), "backup", "--engine", rd_engine_name(e), "--dsn", dsn,
                        "-o",  file,     NULL};
    ck_assert_int_eq(run_cmd(e, a3, &tail), 1);
    ck_assert_msg(!strstr(tail.data, "sekrit"), "%s", tail.data);
    ck_assert_int_eq(rd_fs_exists(file), 0);
    char *side = rd_manifest_sidecar_path(file);
    ck_assert_int_eq(rd_fs_exists(side), 0);
    free(side);
    free(file);
    rd_strbuf_free(&tail);
}
END_TEST

START_TEST(manifest_command)
{
    rd_engine e = ENGINE(_i);
    char name[64];
    rd_db *db = sample_db(e, name);
    if (!db)
        return;
    char *dsn = db_dsn(e, name);
    char *file = tmp_path("m.json");
    rd_strbuf tail;
    rd_strbuf_init(&tail, 0);
    const char *argv[] = {bin(), "manifest", "--engine", rd_engine_name(e), "--dsn", dsn,
                          "-o",  file,       NULL};
    ck_assert_int_eq(run_cmd(e, argv, &tail), 0);
    rd_manifest *m = NULL;
    rd_error err = {0};
    ck_assert_int_eq(rd_manifest_load(file, &m, &err), RD_OK);
    ck_assert_uint_eq(m->ntables, 3);
    ck_assert_int_eq(m->tables[1].rows, 120);
    ck_assert_ptr_null(m->artifact_file);
    rd_manifest_free(m);
    unlink(file);
    free(file);
    free(dsn);
    rd_strbuf_free(&tail);
    rd_db_free(db);
}
END_TEST

/* ---------- heartbeat ---------- */

static int64_t heartbeat_ts(rd_db *db, const char *writer_id)
{
    char sql[256], *v = NULL;
    int64_t ms = 0;
    snprintf(sql, sizeof sql, "SELECT ts FROM restoredrill_heartbeat WHERE writer_id = '%s'",
             writer_id);
    if (rd_db_scalar(db, sql, 10, &v, NULL, NULL) != RD_OK || !v)
        return 0;
    char *z = rd_asprintf("%s%s", v, strchr(v, '+') ? "" : "Z");
    rd_time_parse(z, &ms, NULL);
    free(z);
    free(v);
    return ms;
}

START_TEST(heartbeat_writes_and_stops)
{
    rd_engine e = ENGINE(_i);
    char name[64];
    if (!rd_itest_server(e))
        return;
    rd_db *db = rd_itest_fresh_db(e, name);
    ck_assert_ptr_nonnull(db);
    ck_assert_int_eq(rd_db_pin_session(db, NULL), RD_OK);
    char *dsn = db_dsn(e, name);
    const rd_scratch *s = rd_itest_server(e);
    char *pw = rd_asprintf("%s=%s", PG(e) ? "PGPASSWORD" : "MYSQL_PWD",
                           s->conn.password ? s->conn.password : "");
    const char *env[] = {pw, NULL};
    const char *argv[] = {bin(),        "heartbeat", "--engine", rd_engine_name(e), "--dsn", dsn,
                          "--interval", "200ms",     "--writer", "itest-writer",    NULL};
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.env = env;
    rd_proc *p = NULL;
    rd_error err = {0};
    ck_assert_int_eq(rd_proc_start(&spec, &p, &err), RD_OK);
    int64_t first = 0, later = 0;
    for (int i = 0; i < 100 && !first; i++) { /* up to 10 s for the first write */
        usleep(100000);
        first = heartbeat_ts(db, "itest-writer");
    }
    ck_assert_msg(first > 0, "no heartbeat row: %s", rd_proc_stderr_tail(p));
    for (int i = 0; i < 100 && later <= first; i++) {
        usleep(100000);
        later = heartbeat_ts(db, "itest-writer");
    }
    ck_assert_msg(later > first, "heartbeat did not advance");
    kill(rd_proc_pid(p), SIGTERM);
    int code = -1;
    ck_assert_int_eq(rd_proc_wait(p, rd_mono_now() + 30, &code, &err), RD_OK);
    ck_assert_int_eq(code, 0);
    char *v = NULL;
    ck_assert_int_eq(
        rd_db_scalar(db, "SELECT count(*) FROM restoredrill_heartbeat", 10, &v, NULL, &err), RD_OK);
    ck_assert_str_eq(v, "1");
    free(v);
    rd_proc_free(p);
    free(pw);
    free(dsn);
    rd_db_free(db);
}
END_TEST

static void start_servers(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/rd_itest_checks_XXXXXX");
    if (!mkdtemp(tmpdir))
        tmpdir[0] = '\0';
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0])
        rd_fs_rmtree(tmpdir, "/tmp", NULL);
}

Suite *checks_core_suite(void);
Suite *checks_core_suite(void)
{
    Suite *s = suite_create("checks_core");
    TCase *tc = tcase_create("live");
    tcase_add_unchecked_fixture(tc, start_servers, remove_tmpdir);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, capture_small_schema, 0, 2);
    tcase_add_loop_test(tc, checks_clean_pass, 0, 2);
    tcase_add_loop_test(tc, checks_detect_damage, 0, 2);
    tcase_add_loop_test(tc, checks_live_reference, 0, 2);
    tcase_add_loop_test(tc, checks_min_rows_and_errors, 0, 2);
    tcase_add_loop_test(tc, backup_consistent, 0, 2);
    tcase_add_loop_test(tc, backup_compressed, 0, 2);
    tcase_add_loop_test(tc, backup_usage_errors, 0, 2);
    tcase_add_loop_test(tc, manifest_command, 0, 2);
    tcase_add_loop_test(tc, heartbeat_writes_and_stops, 0, 2);
    suite_add_tcase(s, tc);
    TCase *cfg = tcase_create("config");
    tcase_add_test(cfg, configure_errors);
    suite_add_tcase(s, cfg);
    return s;
}
