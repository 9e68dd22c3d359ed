/* test_catalog.c: name timestamps, the dir catalog (sidecar manifests,
 * time_from, directory-format dumps), sorting, the exec catalog. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/catalog.h"
#include "tmpdir_fixture.h"

#define T_2026_01_30_150000 INT64_C(1769785200000)
#define T_2026_01_02_030405 INT64_C(1767323045000)
#define T_2026_01_15_120000 INT64_C(1768478400000)
#define T_2024_02_29_235959 INT64_C(1709251199000)
#define T_2026_02_01_000000 INT64_C(1769904000000)

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-test-catalog-XXXXXX");
}

/* Write a file under tmpdir; mtime_s > 0 sets its mtime. */
static void put(const char *name, const char *content, long long mtime_s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(content, f);
    fclose(f);
    if (mtime_s > 0) {
        struct timespec ts[2] = {{mtime_s, 0}, {mtime_s, 0}};
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
}

static void mkdir_in(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

static rd_catalog_cfg dir_cfg(const char *pattern, const char *time_from)
{
    rd_catalog_cfg c;
    memset(&c, 0, sizeof c);
    c.type = (char *)"dir";
    c.path = tmpdir;
    c.pattern = (char *)pattern;
    c.time_from = (char *)time_from;
    return c;
}

static const rd_point *find(const rd_points *p, const char *id)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].id, id) == 0)
            return &p->items[i];
    return NULL;
}

START_TEST(name_forms)
{
    int64_t ms = 0;
    ck_assert_int_eq(rd_catalog_time_from_name("orders-20260130-150000.dump", &ms), 1);
    ck_assert_int_eq(ms, T_2026_01_30_150000);
    ms = 0;
    ck_assert_int_eq(rd_catalog_time_from_name("orders_20260130T150000Z.sql.gz", &ms), 1);
    ck_assert_int_eq(ms, T_2026_01_30_150000);
    ms = 0;
    ck_assert_int_eq(rd_catalog_time_from_name("20260130T150000.dump", &ms), 1);
    ck_assert_int_eq(ms, T_2026_01_30_150000);
    ms = 0;
    ck_assert_int_eq(rd_catalog_time_from_name("db-2026-01-30T15:00:00Z.dump", &ms), 1);
    ck_assert_int_eq(ms, T_2026_01_30_150000);
    ms = 0;
    ck_assert_int_eq(rd_catalog_time_from_name("db-2026-01-30_15-00-00.sql.zst", &ms), 1);
    ck_assert_int_eq(ms, T_2026_01_30_150000);
    ck_assert_int_eq(rd_catalog_time_from_name("leap-20240229-235959", &ms), 1);
    ck_assert_int_eq(ms, T_2024_02_29_235959);
}
END_TEST

START_TEST(name_rejects)
{
    int64_t ms = 42;
    ck_assert_int_eq(rd_catalog_time_from_name("orders.dump", &ms), 0);
    ck_assert_int_eq(rd_catalog_time_from_name("orders-20261330-150000.dump", &ms), 0); /* month */
    ck_assert_int_eq(rd_catalog_time_from_name("orders-20250229-150000.dump", &ms), 0); /* day */
    ck_assert_int_eq(rd_catalog_time_from_name("orders-20260130-250000.dump", &ms), 0); /* hour */
    ck_assert_int_eq(rd_catalog_time_from_name("x120260130-150000", &ms), 0);   /* digit before */
    ck_assert_int_eq(rd_catalog_time_from_name("20260130-1500001", &ms), 0);    /* digit after */
    ck_assert_int_eq(rd_catalog_time_from_name("20260130-15000", &ms), 0);      /* short */
    ck_assert_int_eq(rd_catalog_time_from_name("2026-01-30 15:00:00", &ms), 0); /* space */
    ck_assert_int_eq(rd_catalog_time_from_name(NULL, &ms), 0);
    ck_assert_int_eq(ms, 42);
}
END_TEST

/* The fixture of the dir tests: every time source, a dump directory, noise. */
static void make_tree(void)
{
    put("orders-20260130-150000.dump", "PGDMP-a", 1700000000);
    put("orders-nostamp.dump", "PGDMP-bb", 1769904000); /* 2026-02-01 */
    put("orders-20260101-000000.dump", "PGDMP-ccc", 1700000000);
    put("orders-20260101-000000.dump.manifest.json",
        "{\"version\": 1, \"captured_at\": \"2026-01-02T03:04:05Z\", \"artifact\": "
        "{\"file\": \"orders-20260101-000000.dump\", \"bytes\": 9, \"sha256\": "
        "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", "
        "\"format\": \"pg-custom\"}}",
        0);
    put(".orders-hidden.dump", "x", 0);
    mkdir_in("orders-dir-20260115T120000Z");
    put("orders-dir-20260115T120000Z/toc.dat", "0123456789", 0);
    put("orders-dir-20260115T120000Z/3145.dat.gz", "01234567890123456789", 0);
    mkdir_in("orders-notadump");
    put("orders-notadump/readme", "hello", 0);
    put("other-20260130-150000.txt", "x", 0);
}

/* make_tree, listed by the dir catalog with pattern and time_from: exactly
 * n points (into *p). */
static void list_tree(const char *pattern, const char *time_from, rd_points *p, size_t n)
{
    make_tree();
    rd_catalog_cfg c = dir_cfg(pattern, time_from);
    rd_error err;
    memset(p, 0, sizeof *p);
    ck_assert_msg(rd_catalog_list(&c, p, &err) == RD_OK, "%s: %s", pattern, err.msg);
    ck_assert_uint_eq(p->n, n);
}

/* Listing c fails with status st and message want, leaving no points. */
static void list_fails(const rd_catalog_cfg *c, rd_status st, const char *want)
{
    rd_points p = {0};
    rd_error err;
    ck_assert_int_eq(rd_catalog_list(c, &p, &err), st);
    ck_assert_str_eq(err.msg, want);
    ck_assert_uint_eq(p.n, 0);
}

START_TEST(dir_auto_times)
{
    rd_points p;
    list_tree("orders-*", NULL, &p, 4);
    /* sorted by creation time */
    ck_assert_str_eq(p.items[0].id, "orders-20260101-000000.dump");
    ck_assert_str_eq(p.items[1].id, "orders-dir-20260115T120000Z");
    ck_assert_str_eq(p.items[2].id, "orders-20260130-150000.dump");
    ck_assert_str_eq(p.items[3].id, "orders-nostamp.dump");

    const rd_point *m = &p.items[0];
    ck_assert_int_eq(m->created_ms, T_2026_01_02_030405); /* manifest beats name and mtime */
    ck_assert_str_eq(m->time_basis, "manifest");
    ck_assert_int_eq(m->bytes, 9);
    ck_assert_str_eq(m->sha256, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_str_eq(m->format, "pg-custom");
    char want[512];
    snprintf(want, sizeof want, "%s/orders-20260101-000000.dump.manifest.json", tmpdir);
    ck_assert_str_eq(m->manifest, want);
    snprintf(want, sizeof want, "%s/orders-20260101-000000.dump", tmpdir);
    ck_assert_str_eq(m->location, want);

    const rd_point *d = &p.items[1];
    ck_assert_int_eq(d->created_ms, T_2026_01_15_120000);
    ck_assert_str_eq(d->time_basis, "name");
    ck_assert_int_eq(d->bytes, 30); /* toc.dat + one data file, counted once */
    ck_assert_ptr_null(d->manifest);
    ck_assert_ptr_null(d->sha256);

    ck_assert_int_eq(p.items[2].created_ms, T_2026_01_30_150000); /* name beats mtime */
    ck_assert_str_eq(p.items[2].time_basis, "name");
    ck_assert_int_eq(p.items[2].bytes, 7);

    ck_assert_int_eq(p.items[3].created_ms, T_2026_02_01_000000);
    ck_assert_str_eq(p.items[3].time_basis, "mtime");
    rd_points_free(&p);
    ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(dir_default_pattern)
{
    rd_points p;
    list_tree(NULL, NULL, &p, 5); /* + other-...txt; no hidden file, no sidecar, no plain dir */
    ck_assert_ptr_null(find(&p, ".orders-hidden.dump"));
    ck_assert_ptr_null(find(&p, "orders-notadump"));
    ck_assert_ptr_null(find(&p, "orders-20260101-000000.dump.manifest.json"));
    ck_assert_ptr_nonnull(find(&p, "other-20260130-150000.txt"));
    /* equal times sort by id */
    ck_assert_str_eq(p.items[2].id, "orders-20260130-150000.dump");
    ck_assert_str_eq(p.items[3].id, "other-20260130-150000.txt");
    ck_assert_str_eq(p.items[4].id, "orders-nostamp.dump");
    rd_points_free(&p);
}
END_TEST

START_TEST(dir_time_from_mtime)
{
    rd_points p;
    list_tree("orders-*.dump", "mtime", &p, 3);
    ck_assert_str_eq(p.items[0].id, "orders-20260101-000000.dump");
    ck_assert_int_eq(p.items[0].created_ms, INT64_C(1700000000000));
    ck_assert_str_eq(p.items[0].time_basis, "mtime");
    ck_assert_str_eq(p.items[1].id, "orders-20260130-150000.dump");
    ck_assert_int_eq(p.items[1].created_ms, INT64_C(1700000000000));
    ck_assert_str_eq(p.items[2].id, "orders-nostamp.dump");
    ck_assert_int_eq(p.items[2].created_ms, T_2026_02_01_000000);
    rd_points_free(&p);
}
END_TEST

START_TEST(dir_time_from_name)
{
    rd_points p;
    list_tree("orders-2*.dump", "name", &p, 2);
    ck_assert_int_eq(p.items[0].created_ms, INT64_C(1767225600000)); /* 2026-01-01, not manifest */
    ck_assert_str_eq(p.items[0].time_basis, "name");
    ck_assert_ptr_nonnull(p.items[0].manifest);
    rd_points_free(&p);

    rd_catalog_cfg c = dir_cfg("orders-*.dump", "name");
    char want[1200];
    snprintf(want, sizeof want,
             "catalog time_from is \"name\" but the file name %s/orders-nostamp.dump has no "
             "timestamp",
             tmpdir);
    list_fails(&c, RD_ERR_NOTFOUND, want);
}
END_TEST

START_TEST(dir_time_from_manifest)
{
    rd_points p;
    list_tree("orders-20260101-*", "manifest", &p, 1);
    ck_assert_str_eq(p.items[0].time_basis, "manifest");
    rd_points_free(&p);

    rd_catalog_cfg c = dir_cfg("orders-*.dump", "manifest");
    char want[1200];
    snprintf(want, sizeof want,
             "catalog time_from is \"manifest\" but %s/orders-20260130-150000.dump has no "
             "sidecar manifest with captured_at",
             tmpdir);
    list_fails(&c, RD_ERR_NOTFOUND, want);

    c = dir_cfg("*", "ctime");
    list_fails(&c, RD_ERR_CONFIG,
               "catalog.time_from: expected one of manifest, name, mtime, got \"ctime\"");
}
END_TEST

START_TEST(dir_bad_manifest)
{
    put("a-20260130-150000.dump", "x", 0);
    put("a-20260130-150000.dump.manifest.json", "{\"captured_at\": \"last tuesday\"}", 0);
    rd_catalog_cfg c = dir_cfg("*", NULL);
    char want[1200];
    snprintf(want, sizeof want,
             "%s/a-20260130-150000.dump.manifest.json: captured_at: expected an RFC 3339 time, "
             "got \"last tuesday\"",
             tmpdir);
    list_fails(&c, RD_ERR_FORMAT, want);

    put("a-20260130-150000.dump.manifest.json", "{not json", 0);
    snprintf(want, sizeof want,
             "%s/a-20260130-150000.dump.manifest.json: expected a JSON object (a restoredrill "
             "manifest)",
             tmpdir);
    list_fails(&c, RD_ERR_FORMAT, want);
}
END_TEST

START_TEST(dir_missing)
{
    rd_catalog_cfg c = dir_cfg("*", NULL);
    c.path = (char *)"/nonexistent/rd-backups";
    list_fails(&c, RD_ERR_NOTFOUND,
               "catalog.path: directory /nonexistent/rd-backups does not exist "
               "(create it or correct the path)");
    put("plain-file", "x", 0);
    char path[512];
    snprintf(path, sizeof path, "%s/plain-file", tmpdir);
    c.path = path;
    char want[1200];
    snprintf(want, sizeof want, "catalog.path: cannot read directory %s: Not a directory", path);
    list_fails(&c, RD_ERR_IO, want);
    /* a directory restoredrill cannot read (as root: not enforced, skip) */
    if (geteuid() != 0) {
        snprintf(path, sizeof path, "%s/locked", tmpdir);
        ck_assert_int_eq(mkdir(path, 0), 0);
        snprintf(want, sizeof want,
                 "catalog.path: cannot read directory %s: permission denied (give the user "
                 "running restoredrill read and search access)",
                 path);
        list_fails(&c, RD_ERR_IO, want);
        rmdir(path);
    }
}
END_TEST

START_TEST(list_types)
{
    rd_catalog_cfg c;
    memset(&c, 0, sizeof c);
    c.type = (char *)"s3";
    list_fails(&c, RD_ERR_CONFIG, "catalog.bucket: expected a bucket name");
    c.type = (char *)"ftp";
    list_fails(&c, RD_ERR_CONFIG, "unknown catalog type \"ftp\"");
    ck_assert_ptr_eq(rd_catalog_find("dir"), &rd_catalog_dir);
    ck_assert_ptr_eq(rd_catalog_find("exec"), &rd_catalog_exec);
    ck_assert_ptr_eq(rd_catalog_find("s3"), &rd_catalog_s3);
    ck_assert_ptr_eq(rd_catalog_find("pg-archive"), &rd_catalog_pg_archive);
    ck_assert_ptr_eq(rd_catalog_find("pgbackrest"), &rd_catalog_pgbackrest);
}
END_TEST

static void add_point(rd_points *p, const char *id, int64_t ms)
{
    rd_point pt;
    memset(&pt, 0, sizeof pt);
    pt.id = strdup(id);
    pt.created_ms = ms;
    pt.bytes = -1;
    ck_assert_int_eq(rd_points_push(p, &pt, NULL), RD_OK);
    ck_assert_ptr_null(pt.id);
}

START_TEST(sort_time_then_id)
{
    rd_points p = {0};
    add_point(&p, "c", 3000);
    add_point(&p, "b", 1000);
    add_point(&p, "z", 2000);
    add_point(&p, "a", 2000);
    add_point(&p, "a0", -5);
    rd_points_sort(&p);
    const char *want[] = {"a0", "b", "a", "z", "c"};
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(p.items[i].id, want[i]);
    rd_points_free(&p);
    rd_points_free(&p); /* harmless twice */
    rd_points_free(NULL);
}
END_TEST

/* --- exec catalog --- */

static rd_status run_exec(const char *script, double timeout, rd_points *p, rd_error *err)
{
    char *argv[] = {(char *)"sh", (char *)"-c", (char *)script};
    rd_catalog_cfg c;
    memset(&c, 0, sizeof c);
    c.type = (char *)"exec";
    c.command.items = argv;
    c.command.n = 3;
    c.timeout = timeout;
    return rd_catalog_list(&c, p, err);
}

START_TEST(exec_happy)
{
    rd_points p = {0};
    rd_error err;
    const char *script =
        "cat <<'EOF'\n"
        "[{\"id\": \"snap-2\", \"created_at\": \"2026-01-30T15:00:00Z\", \"location\": "
        "\"/b/2.dump\", \"format\": \"pg-custom\", \"bytes\": 1234, \"sha256\": "
        "\"ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789\", \"manifest\": "
        "\"/b/2.dump.manifest.json\", \"extra\": true},\n"
        " {\"id\": \"snap-1\", \"created_at\": \"2026-01-02T04:04:05+01:00\", \"location\": "
        "\"s3://b/1.sql.gz\"}]\n"
        "EOF\n";
    ck_assert_int_eq(run_exec(script, 10, &p, &err), RD_OK);
    ck_assert_uint_eq(p.n, 2);
    ck_assert_str_eq(p.items[0].id, "snap-1");
    ck_assert_int_eq(p.items[0].created_ms, T_2026_01_02_030405);
    ck_assert_str_eq(p.items[0].location, "s3://b/1.sql.gz");
    ck_assert_str_eq(p.items[0].time_basis, "catalog");
    ck_assert_int_eq(p.items[0].bytes, -1);
    ck_assert_ptr_null(p.items[0].sha256);
    ck_assert_ptr_null(p.items[0].format);
    ck_assert_ptr_null(p.items[0].manifest);
    ck_assert_str_eq(p.items[1].id, "snap-2");
    ck_assert_int_eq(p.items[1].created_ms, T_2026_01_30_150000);
    ck_assert_int_eq(p.items[1].bytes, 1234);
    ck_assert_str_eq(p.items[1].sha256,
                     "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    ck_assert_str_eq(p.items[1].format, "pg-custom");
    ck_assert_str_eq(p.items[1].manifest, "/b/2.dump.manifest.json");
    rd_points_free(&p);

    ck_assert_int_eq(run_exec("echo '[]'", 10, &p, &err), RD_OK);
    ck_assert_uint_eq(p.n, 0);
}
END_TEST

static void exec_fails(const char *script, rd_status code, const char *msg)
{
    rd_points p = {0};
    rd_error err;
    ck_assert_int_eq(run_exec(script, 10, &p, &err), code);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_uint_eq(p.n, 0);
}

START_TEST(exec_bad_output)
{
    exec_fails("echo '[{\"id\": 1'", RD_ERR_FORMAT,
               "catalog command output: invalid JSON at byte 9");
    exec_fails("echo '{\"id\": \"a\"}'", RD_ERR_FORMAT,
               "catalog command output: expected a JSON array of recovery points, got "
               "{\"id\":\"a\"}");
    exec_fails("true", RD_ERR_FORMAT, "catalog command output: invalid JSON at byte 0");
    exec_fails("echo '[{\"id\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\"},"
               "{\"id\":\"b\",\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\"},"
               "{\"id\":\"c\",\"created_at\":\"yesterday\",\"location\":\"x\"}]'",
               RD_ERR_FORMAT,
               "catalog command output[2].created_at: expected an RFC 3339 time, got "
               "\"yesterday\"");
    exec_fails("echo '[3]'", RD_ERR_FORMAT, "catalog command output[0]: expected an object, got 3");
    exec_fails("echo '[{\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\"}]'",
               RD_ERR_FORMAT, "catalog command output[0].id: missing (expected a string)");
    exec_fails("echo '[{\"id\":7,\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\"}]'",
               RD_ERR_FORMAT, "catalog command output[0].id: expected a non-empty string, got 7");
    exec_fails("echo '[{\"id\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\","
               "\"bytes\":-4}]'",
               RD_ERR_FORMAT,
               "catalog command output[0].bytes: expected a non-negative integer, got -4");
    exec_fails("echo '[{\"id\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\","
               "\"sha256\":\"abc\"}]'",
               RD_ERR_FORMAT,
               "catalog command output[0].sha256: expected 64 hexadecimal digits, got \"abc\"");
    exec_fails("echo '[{\"id\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\","
               "\"format\":\"tarball\"}]'",
               RD_ERR_FORMAT,
               "catalog command output[0].format: expected one of pg-custom, pg-directory, "
               "pg-plain, mariadb-sql, snapshot, got \"tarball\"");
    exec_fails("echo '[{\"id\":\"a\",\"created_at\":\"2026-01-01T00:00:00Z\",\"location\":\"x\"},"
               "{\"id\":\"a\",\"created_at\":\"2026-01-02T00:00:00Z\",\"location\":\"y\"}]'",
               RD_ERR_FORMAT, "catalog command output[1].id: duplicate id \"a\"");
}
END_TEST

START_TEST(exec_command_fails)
{
    rd_points p = {0};
    rd_error err;
    ck_assert_int_eq(run_exec("echo '[]'; echo 'first line' >&2; echo 'access denied' >&2; exit 3",
                              10, &p, &err),
                     RD_ERR_PROC);
    ck_assert_str_eq(err.msg, "catalog command exited with 3: access denied");
    ck_assert_uint_eq(p.n, 0);

    char *argv[] = {(char *)"/nonexistent/list-backups"};
    rd_catalog_cfg c;
    memset(&c, 0, sizeof c);
    c.type = (char *)"exec";
    c.command.items = argv;
    c.command.n = 1;
    list_fails(&c, RD_ERR_PROC,
               "catalog command: cannot run /nonexistent/list-backups: No such file or directory");
    c.command.n = 0;
    list_fails(&c, RD_ERR_CONFIG, "catalog.command: expected a command (argv array)");
}
END_TEST

START_TEST(exec_timeout)
{
    rd_points p = {0};
    rd_error err;
    ck_assert_int_eq(run_exec("sleep 30", 0.3, &p, &err), RD_ERR_TIMEOUT);
    ck_assert_str_eq(err.msg, "catalog command: sh timed out after 0.3s");
    ck_assert_uint_eq(p.n, 0);
}
END_TEST

Suite *catalog_suite(void);
Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    TCase *names = tcase_create("names");
    tcase_add_test(names, name_forms);
    tcase_add_test(names, name_rejects);
    tcase_add_test(names, sort_time_then_id);
    tcase_add_test(names, list_types);
    suite_add_tcase(s, names);

    TCase *dir = tcase_create("dir");
    tcase_add_checked_fixture(dir, setup, fx_tmpdir_remove);
    tcase_add_test(dir, dir_auto_times);
    tcase_add_test(dir, dir_default_pattern);
    tcase_add_test(dir, dir_time_from_mtime);
    tcase_add_test(dir, dir_time_from_name);
    tcase_add_test(dir, dir_time_from_manifest);
    tcase_add_test(dir, dir_bad_manifest);
    tcase_add_test(dir, dir_missing);
    suite_add_tcase(s, dir);

    TCase *ex = tcase_create("exec");
    tcase_add_test(ex, exec_happy);
    tcase_add_test(ex, exec_bad_output);
    tcase_add_test(ex, exec_command_fails);
    tcase_add_test(ex, exec_timeout);
    tcase_set_timeout(ex, 20);
    suite_add_tcase(s, ex);
    return s;
}
