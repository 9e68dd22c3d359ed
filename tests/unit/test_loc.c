/* test_loc.c: rd_loc over a local directory (the S3 side runs against
 * moto_server in t_s3_pitr.sh and t_s3_mariabackup.sh): children with
 * sizes and directories, dot names skipped, stat, read, a file's prefix
 * fetched (truncated flag), a local file's own path, a tree copy, the
 * messages naming the setting, and s3:// URLs parsed without a request. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/loc.h"

static char dir[256];

static void put(const char *rel, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(local_location)
{
    rd_loc *l = NULL;
    rd_loc_entries e = {NULL, 0};
    rd_loc_entry st;
    rd_error err;
    char p[600], *text = NULL, *local = NULL;
    size_t len = 0;
    int copy = -1, trunc = -1;
    snprintf(dir, sizeof dir, "/tmp/rd-loc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(p, sizeof p, "%s/b1", dir);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    put("b1/backup_label", "START WAL LOCATION: 0/2000028\n");
    put("000000010000000000000002", "0123456789");
    put(".hidden", "x");
    snprintf(p, sizeof p, "%s/", dir);
    ck_assert_int_eq(rd_loc_open(p, "catalog.wal_dir", NULL, &l, &err), RD_OK);
    ck_assert_int_eq(rd_loc_is_s3(l), 0);
    ck_assert_str_eq(rd_loc_where(l), dir); /* the trailing '/' dropped */
    ck_assert_int_eq(rd_loc_list(l, NULL, &e, &err), RD_OK);
    ck_assert_uint_eq(e.n, 2);
    ck_assert_str_eq(e.items[0].name, "000000010000000000000002");
    ck_assert_int_eq(e.items[0].is_dir, 0);
    ck_assert_int_eq(e.items[0].size, 10);
    ck_assert_str_eq(e.items[1].name, "b1");
    ck_assert_int_eq(e.items[1].is_dir, 1);
    rd_loc_entries_free(&e);
    ck_assert_int_eq(rd_loc_stat(l, "b1/backup_label", &st, &err), 1);
    ck_assert_int_eq(st.size, 30);
    ck_assert_int_eq(rd_loc_stat(l, "b1", &st, &err), 1);
    ck_assert_int_eq(st.is_dir, 1);
    ck_assert_int_eq(rd_loc_stat(l, "b2", NULL, &err), 0);
    ck_assert_int_eq(rd_loc_read(l, "b1/backup_label", 1024, &text, &len, &err), RD_OK);
    ck_assert_str_eq(text, "START WAL LOCATION: 0/2000028\n");
    free(text);
    /* the first 4 bytes only */
    snprintf(p, sizeof p, "%s/head", dir);
    ck_assert_int_eq(rd_loc_fetch(l, "000000010000000000000002", p, 4, &trunc, &err), RD_OK);
    ck_assert_int_eq(trunc, 1);
    ck_assert_int_eq(rd_loc_read(l, "head", 1024, &text, &len, &err), RD_OK);
    ck_assert_str_eq(text, "0123");
    free(text);
    ck_assert_int_eq(rd_loc_fetch(l, "000000010000000000000002", p, 0, &trunc, &err), RD_OK);
    ck_assert_int_eq(trunc, 0);
    snprintf(p, sizeof p, "%s/head.rdpart", dir);
    ck_assert_int_eq(access(p, F_OK), -1); /* renamed into place */
    ck_assert_int_eq(rd_loc_local(l, "b1/backup_label", "/nonexistent", &local, &copy, &err),
                     RD_OK);
    snprintf(p, sizeof p, "%s/b1/backup_label", dir);
    ck_assert_str_eq(local, p);
    ck_assert_int_eq(copy, 0);
    free(local);
    snprintf(p, sizeof p, "%s/copy", dir);
    ck_assert_int_eq(rd_loc_fetch_tree(l, "b1", p, NULL, &err), RD_OK);
    snprintf(p, sizeof p, "%s/copy/backup_label", dir);
    ck_assert_int_eq(access(p, R_OK), 0);
    ck_assert_int_eq(rd_loc_list(l, "nope", &e, &err), RD_ERR_CONFIG);
    snprintf(p, sizeof p, "catalog.wal_dir: cannot read %s/nope: No such file or directory", dir);
    ck_assert_str_eq(err.msg, p);
    rd_loc_free(l);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(s3_location)
{
    rd_loc *l = NULL;
    rd_error err;
    ck_assert_int_eq(rd_loc_open("s3://bkt/pg/wal", "catalog.wal_dir", NULL, &l, &err), RD_OK);
    ck_assert_int_eq(rd_loc_is_s3(l), 1);
    char *p = rd_loc_path(l, "000000010000000000000002");
    ck_assert_str_eq(p, "s3://bkt/pg/wal/000000010000000000000002");
    free(p);
    rd_loc_free(l);
    ck_assert_int_eq(rd_loc_open("s3://bkt", "catalog.base_dir", NULL, &l, &err), RD_OK);
    p = rd_loc_path(l, "b1");
    ck_assert_str_eq(p, "s3://bkt/b1");
    free(p);
    rd_loc_free(l);
    ck_assert_int_eq(rd_loc_open("s3://", "catalog.base_dir", NULL, &l, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "catalog.base_dir: expected s3://bucket/key, got \"s3://\"");
}
END_TEST

Suite *loc_suite(void);
Suite *loc_suite(void)
{
    Suite *s = suite_create("loc");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, local_location);
    tcase_add_test(tc, s3_location);
    suite_add_tcase(s, tc);
    return s;
}
