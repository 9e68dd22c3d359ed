/* test_template.c: template expansion, scratch variables, DSN/URL/env
 * building and the rundir rule (no servers). */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../harness/scratch/scratch_int.h"
#include "restoredrill/scratch.h"

static const char *const vars[] = {"scratch.url=postgresql://u:p@/db?host=%2Ftmp&port=5",
                                   "target.name=orders", "point.id=orders-20260130.dump",
                                   "empty=", NULL};

static char *expand_ok(const char *tmpl)
{
    char *out = NULL;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_template_expand(tmpl, vars, &out, &err), RD_OK);
    return out;
}

START_TEST(test_expand_basic)
{
    char *s = expand_ok("--db={target.name} --from {point.id}");
    ck_assert_str_eq(s, "--db=orders --from orders-20260130.dump");
    free(s);
    s = expand_ok("{scratch.url}");
    ck_assert_str_eq(s, "postgresql://u:p@/db?host=%2Ftmp&port=5");
    free(s);
    s = expand_ok("a{empty}b");
    ck_assert_str_eq(s, "ab");
    free(s);
    s = expand_ok("");
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(test_expand_literal_braces)
{
    char *s = expand_ok("{{target.name}} {\"a\": 1} { x} {} {target.name");
    ck_assert_str_eq(s, "{target.name}} {\"a\": 1} { x} {} {target.name");
    free(s);
}
END_TEST

START_TEST(test_expand_unknown)
{
    char *out = (char *)"untouched";
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_template_expand("x {scratch.hots} y", vars, &out, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "unknown template variable {scratch.hots}");
    ck_assert_str_eq(out, "untouched");
    /* a prefix of a known name is not that name */
    ck_assert_int_eq(rd_template_expand("{target}", vars, &out, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "unknown template variable {target}");
    ck_assert_int_eq(rd_template_expand("{target.name}", NULL, &out, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "unknown template variable {target.name}");
}
END_TEST

static rd_scratch *fake(rd_engine e, const char *host, int port, const char *sock, const char *pw)
{
    rd_scratch *s = calloc(1, sizeof *s);
    s->conn.engine = e;
    s->conn.host = host ? strdup(host) : NULL;
    s->conn.port = port;
    s->conn.socket = sock ? strdup(sock) : NULL;
    s->conn.user = strdup("restoredrill");
    s->conn.password = strdup(pw);
    s->conn.database = strdup("orders");
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_finish_conn(s, &err), RD_OK);
    return s;
}

static const char *var_of(const rd_strlist *l, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < l->n; i++)
        if (strncmp(l->items[i], name, n) == 0 && l->items[i][n] == '=')
            return l->items[i] + n + 1;
    return NULL;
}

START_TEST(test_pg_socket_conn)
{
    rd_scratch *s = fake(RD_ENGINE_PG, NULL, 5432, "/tmp/rd/postgres-abc", "s3cr:t@");
    rd_strlist l = {0};
    rd_error err;
    char *dsn = NULL;

    ck_assert_str_eq(s->conn.dsn, "host=/tmp/rd/postgres-abc port=5432 user=restoredrill "
                                  "dbname=orders");
    ck_assert_str_eq(s->conn.url, "postgresql://restoredrill:s3cr%3At%40@/orders?host=%2Ftmp%2Frd"
                                  "%2Fpostgres-abc&port=5432");
    ck_assert_str_eq(s->env[0], "PGHOST=/tmp/rd/postgres-abc");
    ck_assert_str_eq(s->env[1], "PGPORT=5432");
    ck_assert_str_eq(s->env[2], "PGDATABASE=orders");
    ck_assert_str_eq(s->env[3], "PGUSER=restoredrill");
    ck_assert_str_eq(s->env[4], "PGPASSWORD=s3cr:t@");
    ck_assert_ptr_null(s->env[5]);
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_vars(s, &l, &err), RD_OK);
    ck_assert_str_eq(var_of(&l, "scratch.host"), "/tmp/rd/postgres-abc");
    ck_assert_str_eq(var_of(&l, "scratch.port"), "5432");
    ck_assert_str_eq(var_of(&l, "scratch.database"), "orders");
    ck_assert_str_eq(var_of(&l, "scratch.url"), s->conn.url);
    ck_assert_int_eq(rd_scratch_dsn_for(s, "other db", &dsn, &err), RD_OK);
    ck_assert_str_eq(dsn, "host=/tmp/rd/postgres-abc port=5432 user=restoredrill "
                          "dbname='other db'");
    free(dsn);
    rd_strlist_free(&l);
    rd_scratch_destroy(s);
}
END_TEST

START_TEST(test_pg_tcp_url)
{
    rd_scratch *s = fake(RD_ENGINE_PG, "127.0.0.1", 40001, "/tmp/rd/pg", "pw");
    ck_assert_str_eq(s->conn.url, "postgresql://restoredrill:pw@127.0.0.1:40001/orders");
    /* native tools still use the private socket */
    ck_assert_str_eq(s->conn.dsn, "host=/tmp/rd/pg port=40001 user=restoredrill dbname=orders");
    rd_scratch_destroy(s);
}
END_TEST

START_TEST(test_mariadb_conn)
{
    rd_scratch *s = fake(RD_ENGINE_MARIADB, NULL, 0, "/tmp/rd/m/mysqld.sock", "pw");
    rd_strlist l = {0};
    rd_error err;

    ck_assert_str_eq(s->conn.dsn, "host=localhost socket=/tmp/rd/m/mysqld.sock "
                                  "user=restoredrill database=orders");
    ck_assert_str_eq(
        s->conn.url,
        "mysql://restoredrill:pw@localhost/orders?socket=%2Ftmp%2Frd%2Fm%2Fmysqld.sock");
    ck_assert_str_eq(s->env[0], "MYSQL_HOST=localhost");
    ck_assert_str_eq(s->env[1], "MYSQL_UNIX_PORT=/tmp/rd/m/mysqld.sock");
    ck_assert_str_eq(s->env[2], "MYSQL_PWD=pw");
    ck_assert_str_eq(s->env[3], "MYSQL_DATABASE=orders");
    ck_assert_str_eq(s->env[4], "MYSQL_USER=restoredrill");
    ck_assert_ptr_null(s->env[5]);
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_vars(s, &l, &err), RD_OK);
    ck_assert_str_eq(var_of(&l, "scratch.host"), "localhost");
    ck_assert_str_eq(var_of(&l, "scratch.socket"), "/tmp/rd/m/mysqld.sock");
    ck_assert_str_eq(var_of(&l, "scratch.port"), "0");
    rd_strlist_free(&l);
    rd_scratch_destroy(s);
}
END_TEST

START_TEST(test_rundir)
{
    char *r;
    setenv("RESTOREDRILL_RUNDIR", "/srv/rd", 1);
    setenv("TMPDIR", "/var/tmp", 1);
    r = rd_scratch_rundir("/base");
    ck_assert_str_eq(r, "/base");
    free(r);
    r = rd_scratch_rundir(NULL);
    ck_assert_str_eq(r, "/srv/rd");
    free(r);
    unsetenv("RESTOREDRILL_RUNDIR");
    r = rd_scratch_rundir(NULL);
    ck_assert_str_eq(r, "/var/tmp/restoredrill");
    free(r);
    unsetenv("TMPDIR");
    r = rd_scratch_rundir("");
    ck_assert_str_eq(r, "/tmp/restoredrill");
    free(r);
}
END_TEST

START_TEST(test_sanitize_and_starttime)
{
    char *s = rd_scratch_sanitize("Orders-EU.2026", 63);
    ck_assert_str_eq(s, "orders_eu_2026");
    free(s);
    s = rd_scratch_sanitize("abcdef", 3);
    ck_assert_str_eq(s, "abc");
    free(s);
    s = rd_scratch_sanitize("", 10);
    ck_assert_str_eq(s, "db");
    free(s);
    ck_assert_uint_gt(rd_scratch_proc_starttime(getpid()), 0);
    ck_assert_uint_eq(rd_scratch_proc_starttime(0x3ffffff), 0);
    ck_assert_int_eq(rd_scratch_pid_alive(getpid()), 1);
    ck_assert_int_eq(rd_scratch_pid_alive(0x3ffffff), 0);
}
END_TEST

START_TEST(test_provision_unknown_type)
{
    rd_scratch_cfg cfg;
    rd_scratch *s = NULL;
    rd_error err;
    memset(&cfg, 0, sizeof cfg);
    cfg.type = (char *)"cloud";
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, NULL, &s, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "unknown scratch type \"cloud\"");
    ck_assert_ptr_null(s);
    ck_assert_ptr_nonnull(rd_scratch_find("ephemeral"));
    ck_assert_ptr_nonnull(rd_scratch_find("server"));
    ck_assert_ptr_nonnull(rd_scratch_find("exec"));
    rd_scratch_free(NULL);
}
END_TEST

Suite *template_suite(void);

Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_expand_basic);
    tcase_add_test(tc, test_expand_literal_braces);
    tcase_add_test(tc, test_expand_unknown);
    tcase_add_test(tc, test_pg_socket_conn);
    tcase_add_test(tc, test_pg_tcp_url);
    tcase_add_test(tc, test_mariadb_conn);
    tcase_add_test(tc, test_rundir);
    tcase_add_test(tc, test_sanitize_and_starttime);
    tcase_add_test(tc, test_provision_unknown_type);
    suite_add_tcase(s, tc);
    return s;
}
