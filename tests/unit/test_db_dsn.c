/* test_db_dsn.c: DSN parsing and display, password handling and connection
 * failures of the db layer; no servers (connections go to paths that do not
 * exist). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/db/db_int.h"
#include "restoredrill/db.h"

static rd_db_my_dsn parse_ok(const char *dsn)
{
    rd_db_my_dsn d = {0};
    rd_error err = {0};
    rd_status st = rd_db_my_dsn_parse(dsn, &d, &err);
    ck_assert_msg(st == RD_OK, "%s: %s", dsn, err.msg);
    return d;
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        ck_assert_ptr_null(got);
    else
        ck_assert_str_eq(got, want);
}

static void check_dsn(const char *dsn, const char *user, const char *host, unsigned port,
                      const char *db, const char *sock, const char *display)
{
    rd_db_my_dsn d = parse_ok(dsn);
    assert_str_or_null(d.user, user);
    assert_str_or_null(d.host, host);
    ck_assert_uint_eq(d.port, port);
    assert_str_or_null(d.database, db);
    assert_str_or_null(d.socket, sock);
    char *s = rd_db_my_dsn_display(&d);
    ck_assert_str_eq(s, display);
    free(s);
    rd_db_my_dsn_free(&d);
}

START_TEST(test_mariadb_url)
{
    check_dsn("mariadb://app@db.example:3307/shop?socket=/run/x.sock", "app", "db.example", 3307,
              "shop", "/run/x.sock", "mariadb://app@db.example:3307/shop?socket=/run/x.sock");
    check_dsn("mysql://root@localhost/orders", "root", "localhost", 0, "orders", NULL,
              "mariadb://root@localhost/orders");
    check_dsn("MariaDB://h", NULL, "h", 0, NULL, NULL, "mariadb://h");
    check_dsn("mariadb://u%40corp@[::1]:3306/my%20db", "u@corp", "::1", 3306, "my db", NULL,
              "mariadb://u@corp@[::1]:3306/my db");
    check_dsn("mariadb:///d?socket=%2Ftmp%2Fs.sock", NULL, NULL, 0, "d", "/tmp/s.sock",
              "mariadb:///d?socket=/tmp/s.sock");
    check_dsn("mariadb://", NULL, NULL, 0, NULL, NULL, "mariadb://");
}
END_TEST

START_TEST(test_mariadb_pairs)
{
    check_dsn("host=127.0.0.1 port=3310 user=ops database=inv", "ops", "127.0.0.1", 3310, "inv",
              NULL, "mariadb://ops@127.0.0.1:3310/inv");
    check_dsn("  socket='/tmp/a b/my.sock'   user = root dbname=x  ", "root", NULL, 0, "x",
              "/tmp/a b/my.sock", "mariadb://root@/x?socket=/tmp/a b/my.sock");
    check_dsn("user='o\\'brien' db=d host=''", "o'brien", NULL, 0, "d", NULL,
              "mariadb://o'brien@/d");
    check_dsn("", NULL, NULL, 0, NULL, NULL, "mariadb://");
    check_dsn("host=a host=b", NULL, "b", 0, NULL, NULL, "mariadb://b"); /* last one wins */
}
END_TEST

static void parse_fails(const char *dsn, rd_status code, const char *msg)
{
    rd_db_my_dsn d = {0};
    rd_error err = {0};
    ck_assert_int_eq(rd_db_my_dsn_parse(dsn, &d, &err), code);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_ptr_null(d.host);
    ck_assert_ptr_null(d.user);
}

START_TEST(test_mariadb_refused)
{
    const char *pw = "a password in the dsn is not allowed: use MYSQL_PWD or password_env";
    parse_fails("mariadb://root:S3cret@localhost/db", RD_ERR_CONFIG, pw);
    parse_fails("mysql://root:@h", RD_ERR_CONFIG, pw);
    parse_fails("mariadb://root@h/db?password=S3cret", RD_ERR_CONFIG, pw);
    parse_fails("user=root password=S3cret", RD_ERR_CONFIG, pw);
    parse_fails("user=root passwd='S3cret'", RD_ERR_CONFIG, pw);
    parse_fails("mariadb://h:99999/db", RD_ERR_CONFIG, "invalid port \"99999\" in mariadb dsn");
    parse_fails("mariadb://h:0", RD_ERR_CONFIG, "invalid port \"0\" in mariadb dsn");
    parse_fails("port=33x", RD_ERR_CONFIG, "invalid port \"33x\" in mariadb dsn");
    parse_fails("mariadb://h/db?sslmode=x", RD_ERR_CONFIG, "unknown mariadb dsn key \"sslmode\"");
    parse_fails("mariadb://h/db?socket", RD_ERR_CONFIG,
                "expected key=value in mariadb dsn query, got \"socket\"");
    parse_fails("mariadb://h/d%zz", RD_ERR_CONFIG, "invalid %-escape in mariadb dsn");
    parse_fails("mariadb://[::1/d", RD_ERR_CONFIG, "invalid host in mariadb dsn");
    parse_fails("postgres://h/d", RD_ERR_CONFIG,
                "mariadb dsn must start with mariadb:// or mysql:// or be key=value pairs");
    parse_fails("host", RD_ERR_CONFIG, "expected key=value in mariadb dsn near \"host\"");
    parse_fails("user='x", RD_ERR_CONFIG, "unterminated quoted value in mariadb dsn");
    parse_fails("hots=x", RD_ERR_CONFIG, "unknown mariadb dsn key \"hots\"");
}
END_TEST

static void pg_display(const char *dsn, const char *want)
{
    char *out = NULL;
    rd_error err = {0};
    rd_status st = rd_db_dsn_display(RD_ENGINE_PG, dsn, &out, &err);
    ck_assert_msg(st == RD_OK, "%s: %s", dsn, err.msg);
    ck_assert_str_eq(out, want);
    free(out);
}

START_TEST(test_pg_display)
{
    pg_display("host=/tmp/x port=5432 user=u password=S3cret dbname=d",
               "user=u dbname=d host=/tmp/x port=5432");
    pg_display("postgresql://u:S3cret@db.example:5433/shop?sslmode=require",
               "user=u dbname=shop host=db.example port=5433 sslmode=require");
    pg_display("dbname='my db' application_name='it\\'s'",
               "dbname='my db' application_name='it\\'s'");
    pg_display("", "");
    char *out = NULL;
    rd_error err = {0};
    ck_assert_int_eq(rd_db_dsn_display(RD_ENGINE_PG, "hots=x", &out, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "invalid postgres dsn: invalid connection option \"hots\"");
    ck_assert_int_eq(rd_db_dsn_display(RD_ENGINE_MARIADB, "mysql://u:S3cret@h", &out, &err),
                     RD_ERR_CONFIG);
    ck_assert_ptr_null(strstr(err.msg, "S3cret"));
    ck_assert_int_eq(rd_db_dsn_display(RD_ENGINE_MARIADB, "user=u socket=/s", &out, &err), RD_OK);
    ck_assert_str_eq(out, "mariadb://u@?socket=/s");
    free(out);
}
END_TEST

static void pg_with(const char *dsn, const char *db, const char *want)
{
    char *out = NULL;
    rd_error err = {0};
    ck_assert_msg(rd_db_dsn_with_database(RD_ENGINE_PG, dsn, db, &out, &err) == RD_OK, "%s",
                  err.msg);
    ck_assert_str_eq(out, want);
    free(out);
}

/* Another database of the same server: every key kept, the password too
 * (it connects), dbname replaced or added, quoted as libpq reads it. */
START_TEST(test_pg_with_database)
{
    pg_with("host=/tmp/x port=5432 user=u password=S3cret dbname=d", "tenant_7",
            "user=u password=S3cret dbname=tenant_7 host=/tmp/x port=5432");
    pg_with("postgresql://u:S3cret@db.example:5433/shop?sslmode=require", "it's",
            "user=u password=S3cret dbname='it\\'s' host=db.example port=5433 sslmode=require");
    pg_with("host=h", "my db", "dbname='my db' host=h");
    char *out = NULL;
    rd_error err = {0};
    ck_assert_int_eq(rd_db_dsn_with_database(RD_ENGINE_PG, "hots=x", "d", &out, &err),
                     RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "invalid postgres dsn: invalid connection option \"hots\"");
    ck_assert_int_eq(rd_db_dsn_with_database(RD_ENGINE_DYNAMODB, "x", "d", &out, &err),
                     RD_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "a DSN for another database is not implemented yet for dynamodb");
    ck_assert_ptr_null(out);
}
END_TEST

/* MariaDB: the DSN's keys as quoted pairs, the database replaced; the
 * result parses back to the same server and the new database. */
static void my_with(const char *dsn, const char *db, const char *want, const char *shown)
{
    char *out = NULL, *disp = NULL;
    rd_error err = {0};
    ck_assert_msg(rd_db_dsn_with_database(RD_ENGINE_MARIADB, dsn, db, &out, &err) == RD_OK, "%s",
                  err.msg);
    ck_assert_str_eq(out, want);
    ck_assert_msg(rd_db_dsn_display(RD_ENGINE_MARIADB, out, &disp, &err) == RD_OK, "%s", err.msg);
    ck_assert_str_eq(disp, shown);
    free(out);
    free(disp);
}

START_TEST(test_my_with_database)
{
    my_with("mariadb://root@localhost/?socket=/tmp/my%20s/mysqld.sock", "tenant_7",
            "host='localhost' user='root' database='tenant_7' socket='/tmp/my s/mysqld.sock'",
            "mariadb://root@localhost/tenant_7?socket=/tmp/my s/mysqld.sock");
    my_with("mysql://app@db.example:3307/shop", "it's",
            "host='db.example' port=3307 user='app' database='it\\'s'",
            "mariadb://app@db.example:3307/it's");
    my_with("host=h database=x", "back`tick\\", "host='h' database='back`tick\\\\'",
            "mariadb://h/back`tick\\");
    my_with("socket=/s", "tenant_ünïcødé", "database='tenant_ünïcødé' socket='/s'",
            "mariadb:///tenant_ünïcødé?socket=/s");
    char *out = NULL;
    rd_error err = {0};
    ck_assert_int_eq(
        rd_db_dsn_with_database(RD_ENGINE_MARIADB, "mariadb://u:S3cret@h/x", "d", &out, &err),
        RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg,
                     "a password in the dsn is not allowed: use MYSQL_PWD or password_env");
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_password_resolution)
{
    const char *pw = NULL;
    rd_error err = {0};
    rd_db_opts o = {0};
    setenv("RD_TEST_DB_PW", "from-env", 1);
    setenv("RD_TEST_DB_FALLBACK", "fallback", 1);
    unsetenv("RD_TEST_DB_UNSET");

    ck_assert_int_eq(rd_db_resolve_password(&o, "RD_TEST_DB_FALLBACK", &pw, &err), RD_OK);
    ck_assert_str_eq(pw, "fallback");
    ck_assert_int_eq(rd_db_resolve_password(NULL, NULL, &pw, &err), RD_OK);
    ck_assert_ptr_null(pw);
    o.password_env = "RD_TEST_DB_PW";
    ck_assert_int_eq(rd_db_resolve_password(&o, "RD_TEST_DB_FALLBACK", &pw, &err), RD_OK);
    ck_assert_str_eq(pw, "from-env");
    o.password = "explicit";
    ck_assert_int_eq(rd_db_resolve_password(&o, "RD_TEST_DB_FALLBACK", &pw, &err), RD_OK);
    ck_assert_str_eq(pw, "explicit");
    o.password = NULL;
    o.password_env = "RD_TEST_DB_UNSET";
    ck_assert_int_eq(rd_db_resolve_password(&o, "RD_TEST_DB_FALLBACK", &pw, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "password variable RD_TEST_DB_UNSET is not set");
}
END_TEST

START_TEST(test_clean_message)
{
    char buf[64];
    ck_assert_str_eq(rd_db_clean_message("bad pw hunter2 for hunter2x\nDETAIL: more", "hunter2",
                                         buf, sizeof buf),
                     "bad pw *** for ***x");
    ck_assert_str_eq(rd_db_clean_message("trailing  \t\r\n", NULL, buf, sizeof buf), "trailing");
    ck_assert_str_eq(rd_db_clean_message(NULL, "", buf, sizeof buf), "");
    ck_assert_str_eq(rd_db_clean_message("0123456789", NULL, buf, 5), "0123");
}
END_TEST

START_TEST(test_connect_failures)
{
    rd_db *db = NULL;
    rd_error err = {0};
    rd_db_opts o = {.password = "S3cret-pw", .connect_timeout = 2};
    ck_assert_int_eq(
        rd_db_connect(RD_ENGINE_PG, "host=/nonexistent-rd port=5499 user=u", &o, &db, &err),
        RD_ERR_CONNECT);
    /* libpq's hint is kept, after the reason */
    ck_assert_str_eq(err.msg,
                     "cannot connect to postgres at /nonexistent-rd:5499: No such file or "
                     "directory (is the server running locally and accepting connections on "
                     "that socket?)");
    ck_assert_ptr_null(db);

    ck_assert_int_eq(
        rd_db_connect(RD_ENGINE_MARIADB, "socket=/nonexistent-rd/my.sock user=u", &o, &db, &err),
        RD_ERR_CONNECT);
    ck_assert_str_eq(err.msg, "cannot connect to mariadb at /nonexistent-rd/my.sock: Can't connect "
                              "to local server through socket '/nonexistent-rd/my.sock' (2) (is "
                              "the server running locally and accepting connections on that "
                              "socket?)");
    ck_assert_ptr_null(db);

    ck_assert_int_eq(
        rd_db_connect(RD_ENGINE_MARIADB, "mariadb://u:S3cret-pw@localhost/d", NULL, &db, &err),
        RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg,
                     "a password in the dsn is not allowed: use MYSQL_PWD or password_env");

    unsetenv("RD_TEST_DB_UNSET");
    rd_db_opts envo = {.password_env = "RD_TEST_DB_UNSET"};
    ck_assert_int_eq(rd_db_connect(RD_ENGINE_PG, "host=/nonexistent-rd", &envo, &db, &err),
                     RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "password variable RD_TEST_DB_UNSET is not set");
    ck_assert_int_eq(rd_db_connect(RD_ENGINE_PG, "bogus=1", NULL, &db, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "invalid postgres dsn: invalid connection option \"bogus\"");
    ck_assert_int_eq(rd_db_connect((rd_engine)7, "", NULL, &db, &err), RD_ERR_USAGE);
    ck_assert_str_eq(err.msg, "unknown database engine 7");
    rd_db_free(NULL); /* harmless */
}
END_TEST

Suite *db_dsn_suite(void);
Suite *db_dsn_suite(void)
{
    Suite *s = suite_create("db_dsn");
    TCase *tc = tcase_create("db_dsn");
    tcase_add_test(tc, test_mariadb_url);
    tcase_add_test(tc, test_mariadb_pairs);
    tcase_add_test(tc, test_mariadb_refused);
    tcase_add_test(tc, test_pg_display);
    tcase_add_test(tc, test_pg_with_database);
    tcase_add_test(tc, test_my_with_database);
    tcase_add_test(tc, test_password_resolution);
    tcase_add_test(tc, test_clean_message);
    tcase_add_test(tc, test_connect_failures);
    suite_add_tcase(s, tc);
    return s;
}
