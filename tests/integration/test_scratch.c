/* test_scratch.c: the scratch drivers against real servers: ephemeral
 * PostgreSQL and MariaDB (socket and TCP), server mode on the shared test
 * instance (touching nothing but its own database), the same-server
 * refusal, the exec driver with tiny shell commands, and error messages. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../harness/scratch/scratch_int.h"
#include "itest_util.h"
#include "restoredrill/db.h"
#include "restoredrill/proc.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)
#define PW_ENV "RD_ITEST_SCRATCH_ADMIN_PW"

static void setup_servers(void)
{
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

static int have_binaries(rd_engine e)
{
    if (rd_itest_server(e))
        return 1;
    printf("skipping: no %s server binaries\n", rd_engine_name(e));
    return 0;
}

static pid_t server_pid(const rd_scratch *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir,
             s->conn.engine == RD_ENGINE_PG ? "data/postmaster.pid" : "mariadbd.pid");
    return rd_scratch_read_pidfile(path);
}

static rd_db *connect_as(rd_engine e, const char *dsn, const char *pw, rd_error *err)
{
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    opts.password = pw;
    opts.connect_timeout = 5;
    rd_error_clear(err);
    if (rd_db_connect(e, dsn, &opts, &db, err) != RD_OK)
        return NULL;
    return db;
}

static char *scalar(rd_db *db, const char *sql)
{
    char *out = NULL;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_db_scalar(db, sql, 30, &out, NULL, &err) == RD_OK, "%s: %s", sql, err.msg);
    return out;
}

static void assert_scalar(rd_db *db, const char *sql, const char *want)
{
    char *v = scalar(db, sql);
    ck_assert_msg(v && strcmp(v, want) == 0, "%s: got %s, want %s", sql, v ? v : "NULL", want);
    free(v);
}

static rd_scratch *provision_ok(const rd_scratch_cfg *cfg, rd_engine e, const rd_scratch_req *req)
{
    rd_scratch *s = NULL;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_scratch_provision(cfg, e, req, &s, &err) == RD_OK, "%s", err.msg);
    return s;
}

static rd_scratch *provision_eph(rd_engine e, int tcp, const char *target)
{
    rd_scratch_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    rd_scratch_req req = {.target = target, .drill_id = "itest-scratch", .want_tcp = tcp};
    return provision_ok(&cfg, e, &req);
}

/* After teardown: no dir, no server process. */
static void assert_gone(const char *dir, pid_t pid)
{
    struct stat sb;
    ck_assert_msg(stat(dir, &sb) != 0, "%s still exists", dir);
    ck_assert_msg(!rd_scratch_pid_alive(pid), "server pid %d still runs", (int)pid);
}

static void assert_private_dir(const rd_scratch *s, rd_engine e)
{
    struct stat sb;
    char owner[4096];
    ck_assert_int_eq(stat(s->dir, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
    if (geteuid() == 0) {
        uid_t uid;
        gid_t gid;
        rd_error err;
        ck_assert_int_eq(
            rd_proc_lookup_user(e == RD_ENGINE_PG ? "postgres" : "mysql", &uid, &gid, &err), RD_OK);
        ck_assert_int_eq(sb.st_uid, uid);
    }
    snprintf(owner, sizeof owner, "%s/owner.json", s->dir);
    ck_assert_int_eq(stat(owner, &sb), 0);
}

START_TEST(test_pg_ephemeral)
{
    if (!have_binaries(RD_ENGINE_PG))
        return;
    rd_scratch *s = provision_eph(RD_ENGINE_PG, 0, "Orders-EU");
    rd_error err;
    char *dir = strdup(s->dir);
    pid_t pid = server_pid(s);

    ck_assert_int_gt(pid, 0);
    ck_assert(rd_scratch_pid_alive(pid));
    assert_private_dir(s, RD_ENGINE_PG);
    ck_assert_str_eq(s->conn.database, "orders_eu");
    ck_assert_str_eq(s->conn.user, "restoredrill");
    ck_assert_ptr_null(s->conn.host);
    ck_assert_str_eq(s->conn.socket, dir);
    ck_assert_int_eq(strlen(s->conn.password), 32);
    ck_assert_str_eq(s->server_version, "15.18");
    rd_db *db = connect_as(RD_ENGINE_PG, s->conn.dsn, s->conn.password, &err);
    ck_assert_msg(db != NULL, "%s", err.msg);
    assert_scalar(db, "SELECT current_database()", "orders_eu");
    assert_scalar(db, "SELECT current_user", "restoredrill");
    assert_scalar(db, "SHOW data_checksums", "on");
    assert_scalar(db, "SHOW fsync", "off");
    assert_scalar(db, "SHOW listen_addresses", "");
    assert_scalar(db,
                  "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = "
                  "current_database()",
                  "UTF8");
    rd_db_free(db);
    /* scram: a wrong password is refused */
    ck_assert_ptr_null(connect_as(RD_ENGINE_PG, s->conn.dsn, "wrong", &err));
    ck_assert_int_eq(err.code, RD_ERR_CONNECT);
    ck_assert_msg(strstr(err.msg, "password authentication failed for user \"restoredrill\""), "%s",
                  err.msg);

    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK);
    ck_assert_int_eq(s->torn_down, 1);
    assert_gone(dir, pid);
    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK); /* idempotent */
    rd_scratch_free(s);
    free(dir);
}
END_TEST

START_TEST(test_mariadb_ephemeral_teardown_all)
{
    if (!have_binaries(RD_ENGINE_MARIADB))
        return;
    rd_scratch *s = provision_eph(RD_ENGINE_MARIADB, 0, "shop");
    rd_error err;
    char *dir = strdup(s->dir);
    pid_t pid = server_pid(s);
    char sock[4096];

    ck_assert_int_gt(pid, 0);
    assert_private_dir(s, RD_ENGINE_MARIADB);
    snprintf(sock, sizeof sock, "%s/mysqld.sock", dir);
    ck_assert_str_eq(s->conn.socket, sock);
    ck_assert_str_eq(s->conn.database, "shop");
    rd_db *db = connect_as(RD_ENGINE_MARIADB, s->conn.dsn, s->conn.password, &err);
    ck_assert_msg(db != NULL, "%s", err.msg);
    assert_scalar(db, "SELECT DATABASE()", "shop");
    assert_scalar(db, "SELECT @@skip_networking", "1");
    /* only our own accounts, each with a password; no passwordless root on 127.0.0.1 */
    assert_scalar(db,
                  "SELECT GROUP_CONCAT(CONCAT(User, '@', Host) ORDER BY User, Host) FROM "
                  "mysql.global_priv",
                  "mariadb.sys@localhost,restoredrill@127.0.0.1,restoredrill@localhost,"
                  "root@localhost");
    rd_db_free(db);
    char init[4096];
    snprintf(init, sizeof init, "%s/init.sql", dir);
    ck_assert_int_ne(access(init, F_OK), 0); /* the password file is gone */

    rd_scratch_teardown_all(); /* the abort path */
    ck_assert_int_eq(s->torn_down, 1);
    assert_gone(dir, pid);
    rd_scratch_free(s);
    free(dir);
}
END_TEST

START_TEST(test_tcp)
{
    rd_engine e = ENGINE(_i);
    if (!have_binaries(e))
        return;
    rd_scratch *s = provision_eph(e, 1, "web");
    rd_error err;
    char dsn[256];
    pid_t pid = server_pid(s);
    char *dir = strdup(s->dir);

    ck_assert_str_eq(s->conn.host, "127.0.0.1");
    ck_assert_int_gt(s->conn.port, 1023);
    snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d user=restoredrill %s=web", s->conn.port,
             e == RD_ENGINE_PG ? "dbname" : "database");
    rd_db *db = connect_as(e, dsn, s->conn.password, &err);
    ck_assert_msg(db != NULL, "%s", err.msg);
    if (e == RD_ENGINE_PG)
        assert_scalar(db, "SHOW listen_addresses", "127.0.0.1");
    else
        assert_scalar(db, "SELECT @@bind_address", "127.0.0.1");
    rd_db_free(db);
    if (e == RD_ENGINE_MARIADB) {
        snprintf(dsn, sizeof dsn, "host=127.0.0.1 port=%d user=root", s->conn.port);
        ck_assert_ptr_null(connect_as(e, dsn, NULL, &err));
        ck_assert_int_eq(err.code, RD_ERR_CONNECT);
    }
    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK);
    assert_gone(dir, pid);
    rd_scratch_free(s);
    free(dir);
}
END_TEST

static int db_exists(rd_db *db, const char *name)
{
    rd_strbuf sql;
    rd_error err;
    char *v;
    rd_strbuf_init(&sql, 0);
    rd_error_clear(&err);
    rd_strbuf_append(&sql,
                     rd_db_engine(db) == RD_ENGINE_PG
                         ? "SELECT count(*) FROM pg_database WHERE datname = "
                         : "SELECT count(*) FROM information_schema.schemata WHERE schema_name = ",
                     &err);
    ck_assert_int_eq(rd_db_quote_literal(db, name, &sql, &err), RD_OK);
    v = scalar(db, sql.data);
    int n = v && strcmp(v, "1") == 0;
    free(v);
    rd_strbuf_free(&sql);
    return n;
}

static void create_db(rd_db *db, const char *name)
{
    rd_strbuf sql;
    rd_error err;
    rd_strbuf_init(&sql, 0);
    rd_error_clear(&err);
    rd_strbuf_append(&sql, "CREATE DATABASE ", &err);
    rd_db_quote_ident(db, name, &sql, &err);
    ck_assert_msg(rd_db_exec(db, sql.data, 60, NULL, &err) == RD_OK, "%s", err.msg);
    rd_strbuf_free(&sql);
}

static void server_cfg(rd_engine e, rd_scratch_cfg *cfg)
{
    const rd_scratch *shared = rd_itest_server(e);
    memset(cfg, 0, sizeof *cfg);
    cfg->type = (char *)"server";
    cfg->admin_dsn = shared->conn.dsn;
    cfg->password_env = (char *)PW_ENV;
    setenv(PW_ENV, shared->conn.password, 1);
}

/* cfg for the server driver on the engine's shared server, and an admin
 * connection to that server. */
static rd_db *server_admin(rd_engine e, rd_scratch_cfg *cfg)
{
    server_cfg(e, cfg);
    rd_db *admin = rd_itest_connect(e);
    ck_assert_ptr_nonnull(admin);
    return admin;
}

static void report_cb(void *ud, const char *what)
{
    rd_strbuf *sb = ud;
    rd_strbuf_appendf(sb, NULL, "%s\n", what);
}

START_TEST(test_server_mode)
{
    rd_engine e = ENGINE(_i);
    if (!have_binaries(e))
        return;
    rd_scratch_cfg cfg;
    rd_scratch_req req = {0};
    rd_scratch *s = NULL;
    rd_error err;
    char ts[32], when[32], fresh[64];
    int n = 0;

    rd_db *admin = server_admin(e, &cfg);
    create_db(admin, "rd_scratch_orders_keep");
    create_db(admin, "rd_scratch_orders_20000101T000000Z");
    req.target = "Orders";
    s = provision_ok(&cfg, e, &req);
    /* rd_scratch_orders_YYYYMMDDTHHMMSSZ_xxxxxx */
    ck_assert_int_eq(strlen(s->conn.database), strlen("rd_scratch_orders_") + 16 + 1 + 6);
    ck_assert_int_eq(sscanf(s->conn.database, "rd_scratch_orders_%16[0-9TZ]_%*6[a-z0-9]%n", ts, &n),
                     1);
    ck_assert_int_eq(n, (int)strlen(s->conn.database));
    ck_assert(db_exists(admin, s->conn.database));
    ck_assert_ptr_null(s->dir);
    rd_db *db = connect_as(e, s->conn.dsn, s->conn.password, &err);
    ck_assert_msg(db != NULL, "%s", err.msg);
    assert_scalar(db, e == RD_ENGINE_PG ? "SELECT current_database()" : "SELECT DATABASE()",
                  s->conn.database);
    rd_db_free(db);
    char *name = strdup(s->conn.database);
    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK);
    ck_assert(!db_exists(admin, name));
    ck_assert(db_exists(admin, "rd_scratch_orders_keep"));
    ck_assert(db_exists(admin, "rd_scratch_orders_20000101T000000Z"));
    rd_scratch_free(s);
    free(name);

    /* gc: only prefixed, well-formed names older than the limit */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(fresh, sizeof fresh, "rd_scratch_new_%s_abc123", when);
    create_db(admin, "rd_scratch_old_20000101T000000Z_abc123");
    create_db(admin, fresh);
    const rd_scratch_type *t = rd_scratch_find("server");
    rd_strbuf out;
    rd_strbuf_init(&out, 0);
    ck_assert_int_eq(t->gc(&cfg, e, 3600, 1, report_cb, &out, &err), RD_OK);
    ck_assert_str_eq(out.data, "would drop scratch database "
                               "rd_scratch_old_20000101T000000Z_abc123 (created "
                               "2000-01-01T00:00:00.000Z)\n");
    ck_assert(db_exists(admin, "rd_scratch_old_20000101T000000Z_abc123"));
    rd_strbuf_reset(&out);
    ck_assert_int_eq(t->gc(&cfg, e, 3600, 0, report_cb, &out, &err), RD_OK);
    ck_assert_str_eq(out.data, "dropped scratch database "
                               "rd_scratch_old_20000101T000000Z_abc123 (created "
                               "2000-01-01T00:00:00.000Z)\n");
    ck_assert(!db_exists(admin, "rd_scratch_old_20000101T000000Z_abc123"));
    ck_assert(db_exists(admin, fresh));
    ck_assert(db_exists(admin, "rd_scratch_orders_keep"));
    ck_assert(db_exists(admin, "rd_scratch_orders_20000101T000000Z"));
    rd_strbuf_free(&out);
    rd_db_free(admin);
}
END_TEST

/* Multi-database targets on a shared server: one scratch name per database
 * (prefix + database + time + random, at most 63 bytes), none created at
 * provision (the restore creates them), each dropped at teardown with the
 * target's own; a database of the same name is never touched. */
START_TEST(test_server_databases)
{
    rd_engine e = ENGINE(_i);
    if (!have_binaries(e))
        return;
    rd_scratch_cfg cfg;
    rd_scratch_req req = {0};
    rd_scratch *s = NULL;
    rd_strlist dbs = {0};
    rd_error err;
    char ts[32];
    int n = 0;
    const char *longname = "tenant_with_a_very_long_name_that_does_not_fit_in_63_bytes_xx";

    rd_db *admin = server_admin(e, &cfg);
    create_db(admin, "tenant_1");
    ck_assert_int_eq(rd_strlist_push(&dbs, "tenant_1", NULL), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&dbs, longname, NULL), RD_OK);
    req.target = "tenants";
    req.databases = &dbs;
    s = provision_ok(&cfg, e, &req);
    ck_assert_uint_eq(s->db_to.n, 2);
    const char *t1 = rd_scratch_db_name(s, "tenant_1");
    const char *tl = rd_scratch_db_name(s, longname);
    ck_assert_str_eq(rd_scratch_db_name(s, "central"), "central"); /* not drilled */
    ck_assert_int_eq(sscanf(t1, "rd_scratch_tenant_1_%16[0-9TZ]_%*6[a-z0-9]%n", ts, &n), 1);
    ck_assert_int_eq(n, (int)strlen(t1));
    ck_assert_uint_eq(strlen(tl), 63);
    ck_assert_msg(strncmp(tl, "rd_scratch_tenant_with_a_very_long_name_", 40) == 0, "%s", tl);
    ck_assert(!db_exists(admin, t1)); /* made by the restore, not here */
    create_db(admin, t1);             /* as the restore would */
    create_db(admin, tl);
    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK);
    ck_assert(!db_exists(admin, t1));
    ck_assert(!db_exists(admin, tl));
    ck_assert(db_exists(admin, "tenant_1"));
    rd_scratch_free(s);
    rd_strlist_free(&dbs);
    rd_error_clear(&err);
    rd_db_exec(admin, "DROP DATABASE tenant_1", 60, NULL, &err);
    rd_db_free(admin);
}
END_TEST

START_TEST(test_same_server_refused)
{
    rd_engine e = ENGINE(_i);
    if (!have_binaries(e))
        return;
    rd_scratch_cfg cfg;
    rd_scratch_req req = {0};
    rd_scratch *s = NULL;
    rd_error err;
    char *id = NULL, want[512];

    rd_db *admin = server_admin(e, &cfg);
    ck_assert_int_eq(rd_db_server_identity(admin, &id, &err), RD_OK);
    req.target = "orders";
    req.reference_identity = id;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_provision(&cfg, e, &req, &s, &err), RD_ERR_REFUSED);
    snprintf(want, sizeof want,
             "scratch server is the same server as the reference (%s); set "
             "scratch.allow_same_server to allow it",
             id);
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(s);
    cfg.allow_same_server = 1;
    s = provision_ok(&cfg, e, &req);
    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK);
    rd_scratch_free(s);
    free(id);
    rd_db_free(admin);
}
END_TEST

START_TEST(test_server_connect_errors)
{
    if (!have_binaries(RD_ENGINE_PG))
        return;
    rd_scratch_cfg cfg;
    rd_scratch_req req = {0};
    rd_scratch *s = NULL;
    rd_error err;

    server_cfg(RD_ENGINE_PG, &cfg);
    setenv(PW_ENV, "not-the-password", 1);
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s, &err), RD_ERR_CONNECT);
    ck_assert_msg(strstr(err.msg, "password authentication failed"), "%s", err.msg);
    ck_assert_msg(strncmp(err.msg, "scratch server: ", 16) == 0, "%s", err.msg);
    ck_assert_ptr_null(strstr(err.msg, "not-the-password"));
    cfg.admin_dsn = (char *)"host=127.0.0.1 port=1 user=nobody dbname=x connect_timeout=2";
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s, &err), RD_ERR_CONNECT);
    ck_assert_msg(strstr(err.msg, "127.0.0.1"), "%s", err.msg);
    ck_assert_ptr_null(s);
}
END_TEST

static rd_strlist argv_of(const char *const *items)
{
    rd_strlist l = {0};
    for (size_t i = 0; items[i]; i++)
        rd_strlist_push(&l, items[i], NULL);
    return l;
}

START_TEST(test_exec_driver)
{
    if (!have_binaries(RD_ENGINE_PG))
        return;
    const rd_scratch *shared = rd_itest_server(RD_ENGINE_PG);
    char tmp[] = "/tmp/rd-itest-exec-XXXXXX";
    char sockv[4200], portv[64], pwv[128], path[4200];
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    snprintf(sockv, sizeof sockv, "itest.sock=%s", shared->conn.socket);
    snprintf(portv, sizeof portv, "itest.port=%d", shared->conn.port);
    snprintf(pwv, sizeof pwv, "itest.pw=%s", shared->conn.password);
    const char *tvars[] = {"point.id=p-42", sockv, portv, pwv, NULL};
    const char *create[] = {"sh",
                            "-c",
                            "echo \"$2\" > \"$1/created-$2\"; printf '{\"socket\": \"%s\", "
                            "\"port\": %s, \"database\": \"itest\", \"user\": \"restoredrill\", "
                            "\"password\": \"%s\"}' \"$3\" \"$4\" \"$5\"",
                            "sh",
                            tmp,
                            "{target.name}-{point.id}",
                            "{itest.sock}",
                            "{itest.port}",
                            "{itest.pw}",
                            NULL};
    const char *destroy[] = {"sh",
                             "-c",
                             "rm \"$1/created-$2\" && echo \"$3\" > \"$1/destroyed\"",
                             "sh",
                             tmp,
                             "{target.name}-{point.id}",
                             "{scratch.database}",
                             NULL};
    rd_scratch_cfg cfg;
    rd_scratch_req req = {0};
    rd_scratch *s = NULL;
    rd_error err;

    memset(&cfg, 0, sizeof cfg);
    cfg.type = (char *)"exec";
    cfg.create = argv_of(create);
    cfg.destroy = argv_of(destroy);
    req.target = "orders";
    req.tvars = tvars;
    s = provision_ok(&cfg, RD_ENGINE_PG, &req);
    snprintf(path, sizeof path, "%s/created-orders-p-42", tmp);
    ck_assert_int_eq(access(path, F_OK), 0);
    ck_assert_str_eq(s->conn.database, "itest");
    ck_assert_str_eq(s->server_version, "15.18");
    ck_assert_int_eq(rd_scratch_teardown(s, &err), RD_OK);
    ck_assert_int_ne(access(path, F_OK), 0);
    snprintf(path, sizeof path, "%s/destroyed", tmp);
    FILE *f = fopen(path, "r");
    char line[64] = "";
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_str_eq(line, "itest\n");
    unlink(path);
    rmdir(tmp);
    rd_scratch_free(s);
    s = NULL;
    rd_strlist_free(&cfg.create);
    rd_strlist_free(&cfg.destroy);

    /* failures: exit status with stderr, not JSON, unknown variable */
    const char *fail[] = {"sh", "-c", "echo boom >&2; exit 3", NULL};
    const char *notjson[] = {"sh", "-c", "echo not json", NULL};
    const char *badvar[] = {"echo", "{nope}", NULL};
    cfg.create = argv_of(fail);
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s, &err), RD_ERR_PROC);
    ck_assert_str_eq(err.msg, "scratch create command exited with 3: boom");
    rd_strlist_free(&cfg.create);
    cfg.create = argv_of(notjson);
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "scratch create command did not print a JSON object with "
                              "connection info (host, port, socket, database, user, password, "
                              "dsn)");
    rd_strlist_free(&cfg.create);
    cfg.create = argv_of(badvar);
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "scratch.create[1]: unknown template variable {nope}");
    rd_strlist_free(&cfg.create);
    ck_assert_ptr_null(s);
}
END_TEST

START_TEST(test_missing_binaries_and_user)
{
    rd_scratch_cfg cfg;
    rd_scratch *s = NULL;
    rd_error err;

    memset(&cfg, 0, sizeof cfg);
    cfg.bin_dir = (char *)"/nonexistent/bin";
    rd_error_clear(&err);
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, NULL, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "postgresql server binaries not found (initdb, pg_ctl); install "
                              "the postgresql package (Debian: postgresql-15); searched: "
                              "/nonexistent/bin");
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_MARIADB, NULL, &s, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "mariadb server binaries not found (mariadbd, mariadb-install-db); "
                              "install the mariadb-server package; searched: /nonexistent/bin");
    ck_assert_ptr_null(s);
    if (geteuid() != 0 || !have_binaries(RD_ENGINE_PG))
        return;
    cfg.bin_dir = NULL;
    cfg.run_as = (char *)"rd_no_such_user";
    ck_assert_int_eq(rd_scratch_provision(&cfg, RD_ENGINE_PG, NULL, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "scratch run_as user \"rd_no_such_user\" does not exist; create it "
                              "(the server package does) or set scratch.run_as");
}
END_TEST

Suite *scratch_suite(void);

Suite *scratch_suite(void)
{
    Suite *s = suite_create("scratch");
    TCase *tc = tcase_create("drivers");
    tcase_add_unchecked_fixture(tc, setup_servers, NULL);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_pg_ephemeral);
    tcase_add_test(tc, test_mariadb_ephemeral_teardown_all);
    tcase_add_loop_test(tc, test_tcp, 0, 2);
    tcase_add_loop_test(tc, test_server_mode, 0, 2);
    tcase_add_loop_test(tc, test_server_databases, 0, 2);
    tcase_add_loop_test(tc, test_same_server_refused, 0, 2);
    tcase_add_test(tc, test_server_connect_errors);
    tcase_add_test(tc, test_exec_driver);
    tcase_add_test(tc, test_missing_binaries_and_user);
    suite_add_tcase(s, tc);
    return s;
}
