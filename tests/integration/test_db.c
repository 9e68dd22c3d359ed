/* test_db.c: the engine-neutral db API against real PostgreSQL and MariaDB
 * servers (from itest_util). Every test runs for both engines (loop index 0:
 * postgres, 1: mariadb) and skips with a message when the server is absent. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "itest_util.h"
#include "restoredrill/db.h"

/* Under AddressSanitizer freed memory sits in a quarantine, so the peak RSS
 * of a malloc-heavy stream says nothing: measure the live heap instead. */
#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* libasan; gcc ships no header */
#define RD_LIVE_HEAP 1
#endif

static rd_engine engine_of(int i)
{
    return i == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB;
}

static void setup_servers(void)
{
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

/* A connection to the shared server; NULL (skip message printed) if none. */
static rd_db *conn_for(rd_engine e)
{
    if (!rd_itest_server(e)) {
        printf("skipping db tests: no %s server\n", rd_engine_name(e));
        return NULL;
    }
    rd_db *db = rd_itest_connect(e);
    ck_assert_msg(db != NULL, "cannot connect to the %s test server", rd_engine_name(e));
    return db;
}

/* A connection to a new empty database (name written to name, >= 64 bytes). */
static rd_db *fresh_for(rd_engine e, char *name)
{
    if (!rd_itest_server(e)) {
        printf("skipping db tests: no %s server\n", rd_engine_name(e));
        return NULL;
    }
    rd_db *db = rd_itest_fresh_db(e, name);
    ck_assert_msg(db != NULL, "cannot create a fresh %s database", rd_engine_name(e));
    return db;
}

/* expects `rd_error err` in scope */
#define CK_OK(call)                                                                                \
    do {                                                                                           \
        rd_status ck_st_ = (call);                                                                 \
        ck_assert_msg(ck_st_ == RD_OK, "%s: %s", #call, err.msg);                                  \
    } while (0)

static char *scalar(rd_db *db, const char *sql)
{
    rd_error err = {0};
    char *v = NULL;
    CK_OK(rd_db_scalar(db, sql, 0, &v, NULL, &err));
    return v;
}

static void assert_scalar(rd_db *db, const char *sql, const char *want)
{
    char *v = scalar(db, sql);
    ck_assert_msg(v != NULL, "%s: NULL", sql);
    ck_assert_str_eq(v, want);
    free(v);
}

START_TEST(test_scalar_exec_query)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char name[64], *v = NULL;
    int found = -1;
    int64_t affected = -1;
    rd_db_result *r = NULL;
    rd_db *db = fresh_for(e, name);
    if (!db)
        return;
    ck_assert_int_eq(rd_db_engine(db), e);
    assert_scalar(db, "SELECT 6 * 7", "42");
    CK_OK(rd_db_scalar(db, "SELECT NULL", 0, &v, &found, &err));
    ck_assert_ptr_null(v);
    ck_assert_int_eq(found, 1);
    CK_OK(rd_db_scalar(db, "SELECT 1 FROM (SELECT 1 AS x) s WHERE x = 2", 0, &v, &found, &err));
    ck_assert_ptr_null(v);
    ck_assert_int_eq(found, 0);

    CK_OK(rd_db_exec(db, "CREATE TABLE t (id int PRIMARY KEY, label varchar(20))", 0, NULL, &err));
    CK_OK(rd_db_exec(db, "INSERT INTO t VALUES (1, 'one'), (2, NULL), (3, 'three')", 0, &affected,
                     &err));
    ck_assert_int_eq(affected, 3);
    CK_OK(rd_db_exec(db, "UPDATE t SET label = 'x' WHERE id >= 2", 0, &affected, &err));
    ck_assert_int_eq(affected, 2);
    CK_OK(rd_db_exec(db, "UPDATE t SET label = NULL WHERE id = 2", 0, NULL, &err));

    CK_OK(rd_db_query(db, "SELECT id, label AS lbl FROM t ORDER BY id", 0, 0, &r, &err));
    ck_assert_uint_eq(r->nrows, 3);
    ck_assert_uint_eq(r->ncols, 2);
    ck_assert_str_eq(r->colnames[0], "id");
    ck_assert_str_eq(r->colnames[1], "lbl");
    ck_assert_str_eq(rd_db_cell(r, 0, 0), "1");
    ck_assert_str_eq(rd_db_cell(r, 0, 1), "one");
    ck_assert_uint_eq(r->lens[1], 3);
    ck_assert_ptr_null(rd_db_cell(r, 1, 1));
    ck_assert_str_eq(rd_db_cell(r, 2, 1), "x");
    ck_assert_ptr_null(rd_db_cell(r, 3, 0));
    ck_assert_ptr_null(rd_db_cell(r, 0, 2));
    rd_db_result_free(r);
    r = NULL;

    /* a header even without rows */
    CK_OK(rd_db_query(db, "SELECT id FROM t WHERE id > 100", 0, 0, &r, &err));
    ck_assert_uint_eq(r->nrows, 0);
    ck_assert_uint_eq(r->ncols, 1);
    ck_assert_str_eq(r->colnames[0], "id");
    rd_db_result_free(r);
    r = NULL;

    /* the row cap */
    ck_assert_int_eq(rd_db_query(db, "SELECT id FROM t", 0, 2, &r, &err), RD_ERR_NOMEM);
    ck_assert_str_eq(err.msg, "result has more than 2 rows");
    ck_assert_ptr_null(r);
    assert_scalar(db, "SELECT count(*) FROM t", "3");

    /* several statements in one exec */
    CK_OK(rd_db_exec(db, "INSERT INTO t VALUES (4, 'a'); INSERT INTO t VALUES (5, 'b')", 0,
                     &affected, &err));
    ck_assert_int_eq(affected, 2);
    assert_scalar(db, "SELECT count(*) FROM t", "5");
    /* rows a discarded SELECT returned count too */
    CK_OK(rd_db_exec(db, "SELECT id FROM t", 0, &affected, &err));
    ck_assert_int_eq(affected, 5);

    CK_OK(rd_db_current_database(db, &v, &err));
    ck_assert_str_eq(v, name);
    free(v);
    rd_db_free(db);
}
END_TEST

typedef struct counter {
    int64_t rows;
    int64_t sum;
    int64_t stop_after;
    int64_t bytes;
    int64_t bad_ncols;
    size_t heap_peak; /* RD_LIVE_HEAP only */
} counter;

static int count_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    counter *c = ud; /* no ck_assert per row: each one writes to Check's pipe */
    if (ncols != 2)
        c->bad_ncols++;
    c->rows++;
    c->sum += strtoll(vals[0], NULL, 10);
    c->bytes += (int64_t)lens[1];
#ifdef RD_LIVE_HEAP
    if (c->rows % 1024 == 0) {
        size_t now = __sanitizer_get_current_allocated_bytes();
        if (now > c->heap_peak)
            c->heap_peak = now;
    }
#endif
    return c->stop_after && c->rows >= c->stop_after;
}

static long maxrss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char *million_sql(rd_engine e)
{
    return e == RD_ENGINE_PG ? "SELECT g, repeat('x', 40) FROM generate_series(1, 1000000) g"
                             : "SELECT seq, REPEAT('x', 40) FROM seq_1_to_1000000";
}

START_TEST(test_stream_million_rows_flat_memory)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    counter c = {0};
    rd_db *db = conn_for(e);
    if (!db)
        return;
#ifdef RD_LIVE_HEAP
    size_t heap0 = __sanitizer_get_current_allocated_bytes();
#endif
    long before = maxrss_kib();
    CK_OK(rd_db_stream(db, million_sql(e), 0, count_row, &c, &err));
#ifdef RD_LIVE_HEAP
    long grown = c.heap_peak > heap0 ? (long)((c.heap_peak - heap0) / 1024) : 0;
    (void)before;
#else
    long grown = maxrss_kib() - before;
#endif
    ck_assert_int_eq(c.rows, 1000000);
    ck_assert_int_eq(c.sum, INT64_C(500000500000));
    ck_assert_int_eq(c.bytes, INT64_C(40000000));
    ck_assert_int_eq(c.bad_ncols, 0);
    ck_assert_msg(grown < 32 * 1024, "peak memory grew by %ld KiB while streaming", grown);
    assert_scalar(db, "SELECT 1", "1");
    rd_db_free(db);
}
END_TEST

START_TEST(test_stream_stop_early)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    counter c = {.stop_after = 10};
    rd_db *db = conn_for(e);
    if (!db)
        return;
    CK_OK(rd_db_stream(db, million_sql(e), 0, count_row, &c, &err));
    ck_assert_int_eq(c.rows, 10);
    ck_assert_int_eq(c.sum, 55);
    assert_scalar(db, "SELECT 2", "2");
    /* a small result stopped after its last row: nothing left to cancel */
    c = (counter){.stop_after = 1};
    CK_OK(rd_db_stream(db, "SELECT 7, 'z'", 0, count_row, &c, &err));
    ck_assert_int_eq(c.sum, 7);
    assert_scalar(db, "SELECT 3", "3");
    rd_db_free(db);
}
END_TEST

START_TEST(test_query_timeout_keeps_connection)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char *v = NULL;
    rd_db *db = conn_for(e);
    if (!db)
        return;
    const char *sleep5 = e == RD_ENGINE_PG ? "SELECT pg_sleep(5)" : "SELECT SLEEP(5)";
    ck_assert_int_eq(rd_db_scalar(db, sleep5, 0.5, &v, NULL, &err), RD_ERR_TIMEOUT);
    ck_assert_str_eq(err.msg, "query cancelled after 0.5s timeout");
    ck_assert_ptr_null(v);
    assert_scalar(db, "SELECT 1", "1");
    /* a timeout inside exec, then a stream */
    const char *sleep_exec = e == RD_ENGINE_PG ? "SELECT 1; SELECT pg_sleep(5); SELECT 2"
                                               : "SELECT 1; SELECT SLEEP(5); SELECT 2";
    ck_assert_int_eq(rd_db_exec(db, sleep_exec, 1.0, NULL, &err), RD_ERR_TIMEOUT);
    ck_assert_str_eq(err.msg, "query cancelled after 1.0s timeout");
    /* a timeout while rows are flowing */
    counter c = {0};
    const char *slow = e == RD_ENGINE_PG
                           ? "SELECT g, pg_sleep(0.01) FROM generate_series(1, 1000) g"
                           : "SELECT seq, SLEEP(0.01) FROM seq_1_to_1000";
    ck_assert_int_eq(rd_db_stream(db, slow, 0.5, count_row, &c, &err), RD_ERR_TIMEOUT);
    ck_assert_str_eq(err.msg, "query cancelled after 0.5s timeout");
    ck_assert_int_lt(c.rows, 1000);
    assert_scalar(db, "SELECT 4", "4");
    c = (counter){0};
    CK_OK(rd_db_stream(db, million_sql(e), 0, count_row, &c, &err));
    ck_assert_int_eq(c.rows, 1000000);
    rd_db_free(db);
}
END_TEST

START_TEST(test_sql_error_keeps_connection)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char name[64], want[256];
    int64_t affected = 0;
    rd_db *db = fresh_for(e, name);
    if (!db)
        return;
    ck_assert_int_eq(rd_db_exec(db, "SELECT * FROM no_such_table", 0, NULL, &err), RD_ERR_DB);
    if (e == RD_ENGINE_PG)
        snprintf(want, sizeof want, "relation \"no_such_table\" does not exist (sqlstate 42P01)");
    else
        snprintf(want, sizeof want, "Table '%s.no_such_table' doesn't exist (errno 1146)", name);
    ck_assert_str_eq(err.msg, want);
    assert_scalar(db, "SELECT 1", "1");

    /* an error in the middle of several statements */
    CK_OK(rd_db_exec(db, "CREATE TABLE u (a int)", 0, NULL, &err));
    ck_assert_int_eq(rd_db_exec(db,
                                "INSERT INTO u VALUES (1); SELECT * FROM no_such_table; "
                                "INSERT INTO u VALUES (2)",
                                0, &affected, &err),
                     RD_ERR_DB);
    ck_assert_str_eq(err.msg, want);
    assert_scalar(db, "SELECT 10", "10");
    /* PostgreSQL runs the string as one implicit transaction */
    assert_scalar(db, "SELECT count(*) FROM u", e == RD_ENGINE_PG ? "0" : "1");

    /* a syntax error while streaming */
    counter c = {0};
    ck_assert_int_eq(rd_db_stream(db, "SELEC 1", 0, count_row, &c, &err), RD_ERR_DB);
    ck_assert_int_eq(c.rows, 0);
    assert_scalar(db, "SELECT 11", "11");
    rd_db_free(db);
}
END_TEST

static const char *const hostile[] = {"a\"b;drop table x;--", "back`tick", "order", "select",
                                      "tabl\xc3\xa9 \xe2\x9c\x93"};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

START_TEST(test_hostile_identifiers)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char name[64];
    rd_strbuf q, sql;
    rd_db_tables tabs = {0};
    rd_db *db = fresh_for(e, name);
    if (!db)
        return;
    rd_strbuf_init(&q, 0);
    rd_strbuf_init(&sql, 0);
    const char *schema = e == RD_ENGINE_PG ? "public" : name;
    for (size_t i = 0; i < NHOSTILE; i++) {
        rd_strbuf_reset(&q);
        CK_OK(rd_db_quote_table(db, schema, hostile[i], &q, &err));
        rd_strbuf_reset(&sql);
        CK_OK(rd_strbuf_appendf(&sql, &err, "CREATE TABLE %s (v varchar(40))", q.data));
        CK_OK(rd_db_exec(db, sql.data, 0, NULL, &err));
        for (size_t k = 0; k <= i; k++) {
            rd_strbuf_reset(&sql);
            CK_OK(rd_strbuf_appendf(&sql, &err, "INSERT INTO %s VALUES (", q.data));
            CK_OK(rd_db_quote_literal(db, "it's a \\ 'hostile' value", &sql, &err));
            CK_OK(rd_strbuf_append(&sql, ")", &err));
            CK_OK(rd_db_exec(db, sql.data, 0, NULL, &err));
        }
    }
    CK_OK(rd_db_list_tables(db, &tabs, &err));
    ck_assert_uint_eq(tabs.n, NHOSTILE);
    for (size_t i = 0; i < NHOSTILE; i++) {
        char want[8];
        ck_assert_str_eq(tabs.items[i].schema, schema);
        ck_assert_str_eq(tabs.items[i].name, hostile[i]);
        ck_assert_uint_eq(tabs.items[i].npk, 0);
        ck_assert_ptr_null(tabs.items[i].pk[0]);
        rd_strbuf_reset(&q);
        CK_OK(rd_db_quote_table(db, tabs.items[i].schema, tabs.items[i].name, &q, &err));
        rd_strbuf_reset(&sql);
        CK_OK(rd_strbuf_appendf(&sql, &err, "SELECT count(*) FROM %s", q.data));
        snprintf(want, sizeof want, "%zu", i + 1);
        assert_scalar(db, sql.data, want);
        rd_strbuf_reset(&sql);
        CK_OK(rd_strbuf_appendf(&sql, &err, "SELECT max(v) FROM %s", q.data));
        assert_scalar(db, sql.data, "it's a \\ 'hostile' value");
    }
    /* the quoting itself */
    rd_strbuf_reset(&q);
    CK_OK(rd_db_quote_table(db, NULL, "a\"b`c", &q, &err));
    ck_assert_str_eq(q.data, e == RD_ENGINE_PG ? "\"a\"\"b`c\"" : "`a\"b``c`");
    rd_db_tables_free(&tabs);
    rd_db_tables_free(&tabs); /* harmless twice */
    rd_strbuf_free(&q);
    rd_strbuf_free(&sql);
    rd_db_free(db);
}
END_TEST

START_TEST(test_list_tables_pk_order)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char name[64];
    rd_db_tables tabs = {0};
    rd_db *db = fresh_for(e, name);
    if (!db)
        return;
    CK_OK(rd_db_exec(db,
                     "CREATE TABLE composite (a int NOT NULL, b int NOT NULL, c int NOT NULL, "
                     "PRIMARY KEY (c, a, b))",
                     0, NULL, &err));
    CK_OK(rd_db_exec(db, "CREATE TABLE Nokey (x int)", 0, NULL, &err));
    CK_OK(rd_db_exec(db, "CREATE TABLE single (id int PRIMARY KEY, y int)", 0, NULL, &err));
    CK_OK(rd_db_exec(db, "CREATE VIEW not_a_table AS SELECT 1 AS one", 0, NULL, &err));
    CK_OK(rd_db_list_tables(db, &tabs, &err));
    ck_assert_uint_eq(tabs.n, 3);
    /* byte order: PostgreSQL folds the unquoted name to lower case */
    ck_assert_str_eq(tabs.items[0].name, e == RD_ENGINE_PG ? "composite" : "Nokey");
    const rd_db_table *comp = &tabs.items[e == RD_ENGINE_PG ? 0 : 1];
    const rd_db_table *nokey = &tabs.items[e == RD_ENGINE_PG ? 1 : 0];
    ck_assert_str_eq(comp->name, "composite");
    ck_assert_uint_eq(comp->npk, 3);
    ck_assert_str_eq(comp->pk[0], "c");
    ck_assert_str_eq(comp->pk[1], "a");
    ck_assert_str_eq(comp->pk[2], "b");
    ck_assert_ptr_null(comp->pk[3]);
    ck_assert_uint_eq(nokey->npk, 0);
    ck_assert_ptr_null(nokey->pk[0]);
    ck_assert_str_eq(tabs.items[2].name, "single");
    ck_assert_uint_eq(tabs.items[2].npk, 1);
    ck_assert_str_eq(tabs.items[2].pk[0], "id");
    rd_db_tables_free(&tabs);
    rd_db_free(db);
}
END_TEST

START_TEST(test_server_identity_and_version)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char *id1 = NULL, *id2 = NULL, *ver = NULL;
    int major = 0;
    rd_db *a = conn_for(e);
    if (!a)
        return;
    rd_db *b = conn_for(e);
    CK_OK(rd_db_server_identity(a, &id1, &err));
    CK_OK(rd_db_server_identity(b, &id2, &err));
    ck_assert_str_eq(id1, id2);
    const char *prefix = e == RD_ENGINE_PG ? "pg:" : "mariadb:";
    ck_assert_msg(strncmp(id1, prefix, strlen(prefix)) == 0 && strlen(id1) > strlen(prefix) + 1,
                  "identity %s", id1);
    if (e == RD_ENGINE_PG)
        ck_assert_msg(strspn(id1 + 3, "0123456789") == strlen(id1 + 3), "identity %s", id1);

    CK_OK(rd_db_server_version(a, &ver, &err));
    CK_OK(rd_db_server_major(a, &major, &err));
    ck_assert_ptr_null(strchr(ver, ' '));
    long maj = strtol(ver, NULL, 10);
    long min = strtol(strchr(ver, '.') + 1, NULL, 10);
    ck_assert_int_eq(major, e == RD_ENGINE_PG ? maj : maj * 100 + min);
    free(id1);
    free(id2);
    free(ver);
    rd_db_free(a);
    rd_db_free(b);
}
END_TEST

START_TEST(test_readonly_refuses_write)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    char name[64];
    rd_db *db = fresh_for(e, name);
    if (!db)
        return;
    CK_OK(rd_db_exec(db, "CREATE TABLE w (a int)", 0, NULL, &err));
    CK_OK(rd_db_begin_readonly(db, &err));
    assert_scalar(db, "SELECT count(*) FROM w", "0");
    ck_assert_int_eq(rd_db_exec(db, "INSERT INTO w VALUES (1)", 0, NULL, &err), RD_ERR_DB);
    ck_assert_str_eq(err.msg,
                     e == RD_ENGINE_PG
                         ? "cannot execute INSERT in a read-only transaction (sqlstate 25006)"
                         : "Cannot execute statement in a READ ONLY transaction (errno 1792)");
    CK_OK(rd_db_commit(db, &err));
    CK_OK(rd_db_exec(db, "INSERT INTO w VALUES (1)", 0, NULL, &err));
    assert_scalar(db, "SELECT count(*) FROM w", "1");
    rd_db_free(db);
}
END_TEST

START_TEST(test_pin_session)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    rd_db *db = conn_for(e);
    if (!db)
        return;
    CK_OK(rd_db_pin_session(db, &err));
    if (e == RD_ENGINE_PG) {
        assert_scalar(db, "SELECT '2024-01-02 03:04:05+02'::timestamptz", "2024-01-02 01:04:05+00");
        assert_scalar(db, "SELECT '\\x01ff'::bytea", "\\x01ff");
        assert_scalar(db, "SELECT interval '1 day 2 hours'", "P1DT2H");
        assert_scalar(db, "SELECT current_setting('extra_float_digits')", "3");
        assert_scalar(db, "SELECT current_setting('DateStyle')", "ISO, MDY");
    } else {
        assert_scalar(db, "SELECT @@session.time_zone", "+00:00");
        assert_scalar(db, "SELECT @@session.sql_mode",
                      "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION");
        assert_scalar(db, "SELECT @@character_set_client", "utf8mb4");
        assert_scalar(db, "SELECT FROM_UNIXTIME(0)", "1970-01-01 00:00:00");
        assert_scalar(db, "SELECT \"dq\"", "dq"); /* no ANSI_QUOTES */
    }
    rd_db_free(db);
}
END_TEST

START_TEST(test_wrong_password_not_leaked)
{
    rd_engine e = engine_of(_i);
    rd_error err = {0};
    rd_db *bad = NULL;
    const char *secret = "Wr0ng-Secret-42";
    char *user = NULL, want[512];
    rd_db *db = conn_for(e);
    if (!db)
        return;
    const rd_scratch *s = rd_itest_server(e);
    const char *dsn = s->conn.dsn;
    user = scalar(db, e == RD_ENGINE_PG ? "SELECT current_user"
                                        : "SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)");
    rd_db_opts opts = {.password = secret, .connect_timeout = 5};
    ck_assert_int_eq(rd_db_connect(e, dsn, &opts, &bad, &err), RD_ERR_CONNECT);
    ck_assert_ptr_null(bad);
    ck_assert_msg(strstr(err.msg, secret) == NULL, "password leaked: %s", err.msg);
    if (e == RD_ENGINE_PG)
        snprintf(want, sizeof want, ": password authentication failed for user \"%s\"", user);
    else
        snprintf(want, sizeof want,
                 ": Access denied for user '%s'@'localhost' (using password: YES)", user);
    ck_assert_msg(strlen(err.msg) > strlen(want) &&
                      strcmp(err.msg + strlen(err.msg) - strlen(want), want) == 0,
                  "unexpected message: %s", err.msg);
    ck_assert_msg(strncmp(err.msg,
                          e == RD_ENGINE_PG ? "cannot connect to postgres at "
                                            : "cannot connect to mariadb at ",
                          e == RD_ENGINE_PG ? 29 : 28) == 0,
                  "unexpected message: %s", err.msg);
    if (s->conn.socket && e == RD_ENGINE_PG) {
        char full[1024];
        snprintf(full, sizeof full, "cannot connect to postgres at %s:%d%s", s->conn.socket,
                 s->conn.port, want);
        ck_assert_str_eq(err.msg, full);
    } else if (s->conn.socket) {
        char full[1024];
        snprintf(full, sizeof full, "cannot connect to mariadb at %s%s", s->conn.socket, want);
        ck_assert_str_eq(err.msg, full);
    }
    /* the display form of the DSN carries no password either */
    ck_assert_ptr_null(strstr(rd_db_display(db), secret));
    free(user);
    rd_db_free(db);
}
END_TEST

Suite *db_suite(void);
Suite *db_suite(void)
{
    Suite *s = suite_create("db");
    TCase *tc = tcase_create("db");
    tcase_add_unchecked_fixture(tc, setup_servers, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_scalar_exec_query, 0, 2);
    tcase_add_loop_test(tc, test_stream_million_rows_flat_memory, 0, 2);
    tcase_add_loop_test(tc, test_stream_stop_early, 0, 2);
    tcase_add_loop_test(tc, test_query_timeout_keeps_connection, 0, 2);
    tcase_add_loop_test(tc, test_sql_error_keeps_connection, 0, 2);
    tcase_add_loop_test(tc, test_hostile_identifiers, 0, 2);
    tcase_add_loop_test(tc, test_list_tables_pk_order, 0, 2);
    tcase_add_loop_test(tc, test_server_identity_and_version, 0, 2);
    tcase_add_loop_test(tc, test_readonly_refuses_write, 0, 2);
    tcase_add_loop_test(tc, test_pin_session, 0, 2);
    tcase_add_loop_test(tc, test_wrong_password_not_leaked, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
