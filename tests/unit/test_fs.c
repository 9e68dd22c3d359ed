/* test_fs.c: temp dirs, guarded rmtree, atomic writes, reads, mkdir -p. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/fs.h"
#include "restoredrill/strbuf.h"

static char base[256];

static void setup(void)
{
    snprintf(base, sizeof base, "/tmp/rd-fs-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(base));
}

static void teardown(void)
{
    rd_error err;
    char cmd[300];
    if (rd_fs_rmtree(base, "/tmp", &err) != RD_OK) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", base); /* leave nothing behind */
        ck_assert_int_eq(system(cmd), 0);
    }
}

static char *in_base(const char *rel)
{
    char *p = rd_fs_join(base, rel);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

START_TEST(test_mkdtemp)
{
    char *dir = NULL;
    rd_error err;
    mode_t old = umask(0);
    ck_assert_int_eq(rd_fs_mkdtemp(base, "rd-scratch-", 0, 0, 0, &dir, &err), RD_OK);
    umask(old);
    char want[300];
    snprintf(want, sizeof want, "%s/rd-scratch-", base);
    ck_assert(strncmp(dir, want, strlen(want)) == 0);
    ck_assert_uint_eq(strlen(dir), strlen(want) + 6);
    struct stat sb;
    ck_assert_int_eq(stat(dir, &sb), 0);
    ck_assert(S_ISDIR(sb.st_mode));
    ck_assert_int_eq(sb.st_mode & 0777, 0700);
    free(dir);

    if (geteuid() == 0) {
        ck_assert_int_eq(rd_fs_mkdtemp(base, "owned-", 1, 65534, 65534, &dir, &err), RD_OK);
        ck_assert_int_eq(stat(dir, &sb), 0);
        ck_assert_int_eq(sb.st_uid, 65534);
        ck_assert_int_eq(sb.st_gid, 65534);
        free(dir);
    }

    dir = NULL;
    ck_assert_int_eq(rd_fs_mkdtemp("/nonexistent/dir", "x-", 0, 0, 0, &dir, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg,
                     "cannot create a temporary directory in /nonexistent/dir: No such file or "
                     "directory");
    ck_assert_ptr_null(dir);
}
END_TEST

START_TEST(test_rmtree_deletes_without_following_links)
{
    rd_error err;
    char *outside = NULL;
    ck_assert_int_eq(rd_fs_mkdtemp(NULL, "rd-fs-outside-", 0, 0, 0, &outside, &err), RD_OK);
    char *keep = rd_fs_join(outside, "keep.txt");
    put_file(keep, "precious");

    char *tree = in_base("tree");
    char *deep = in_base("tree/a/b/c");
    ck_assert_int_eq(rd_fs_mkdir_p(deep, 0755, &err), RD_OK);
    char *f1 = in_base("tree/a/file1"), *f2 = in_base("tree/a/b/c/file2");
    char *link = in_base("tree/a/link-out"), *dangling = in_base("tree/dangling");
    put_file(f1, "1");
    put_file(f2, "2");
    ck_assert_int_eq(symlink(outside, link), 0);
    ck_assert_int_eq(symlink("/nonexistent/target", dangling), 0);
    ck_assert_int_eq(rd_fs_rmtree(tree, base, &err), RD_OK);
    ck_assert_int_eq(rd_fs_exists(tree), 0);
    ck_assert_int_eq(rd_fs_exists(keep), 1); /* the link was removed, not followed */
    ck_assert_int_eq(rd_fs_is_dir(outside), 1);
    /* a missing path is fine */
    ck_assert_int_eq(rd_fs_rmtree(tree, base, &err), RD_OK);

    /* a single file and a dangling link directly under base */
    char *single = in_base("single");
    put_file(single, "x");
    ck_assert_int_eq(rd_fs_rmtree(single, base, &err), RD_OK);
    ck_assert_int_eq(rd_fs_exists(single), 0);
    ck_assert_int_eq(symlink("/nonexistent/target", single), 0);
    ck_assert_int_eq(rd_fs_rmtree(single, base, &err), RD_OK);
    ck_assert_int_eq(rd_fs_exists(single), 0);

    ck_assert_int_eq(rd_fs_rmtree(outside, "/tmp", &err), RD_OK);
    ck_assert_int_eq(rd_fs_exists(outside), 0);
    free(outside), free(keep), free(tree), free(deep), free(f1), free(f2), free(link);
    free(dangling), free(single);
}
END_TEST

static void refused(const char *path, const char *b)
{
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_fs_rmtree(path, b, &err) == RD_ERR_REFUSED, "%s under %s: %s", path, b,
                  err.msg);
    char want[1200];
    snprintf(want, sizeof want, "refusing to delete %s: it is not inside %s", path, b);
    ck_assert_str_eq(err.msg, want);
}

START_TEST(test_rmtree_refusals)
{
    rd_error err;
    char *outside = NULL;
    ck_assert_int_eq(rd_fs_mkdtemp(NULL, "rd-fs-outside-", 0, 0, 0, &outside, &err), RD_OK);
    char *keep = rd_fs_join(outside, "keep.txt");
    put_file(keep, "precious");
    char *sub = in_base("sub");
    ck_assert_int_eq(rd_fs_mkdir_p(sub, 0700, &err), RD_OK);

    refused("/", base);
    refused(base, base);    /* the base itself */
    refused(outside, base); /* a sibling */
    char *dotdot = rd_asprintf("%s/sub/../../%s", base, strrchr(outside, '/') + 1);
    refused(dotdot, base); /* escaping with .. */
    char *link = in_base("link");
    ck_assert_int_eq(symlink(outside, link), 0);
    refused(link, base); /* a link pointing outside */
    char *through = in_base("link/keep.txt");
    refused(through, base); /* a path through a link */
    char *baselink = in_base("sub/up");
    ck_assert_int_eq(symlink("..", baselink), 0);
    refused(baselink, sub); /* sub/up -> base: outside sub */
    refused(sub, "/");      /* never with / as the base */

    ck_assert_int_eq(rd_fs_exists(keep), 1);
    ck_assert_int_eq(rd_fs_is_dir(sub), 1);
    ck_assert_int_eq(rd_fs_rmtree(sub, "/nonexistent/base", &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, "cannot resolve /nonexistent/base: No such file or directory");
    ck_assert_int_eq(rd_fs_rmtree(outside, "/tmp", &err), RD_OK);
    free(outside), free(keep), free(sub), free(dotdot), free(link), free(through), free(baselink);
}
END_TEST

START_TEST(test_write_atomic)
{
    rd_error err;
    char *path = in_base("metrics.prom");
    mode_t old = umask(0);
    ck_assert_int_eq(rd_fs_write_atomic(path, "a 1\n", 4, 0640, &err), RD_OK);
    umask(old);
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(rd_fs_read_file(path, 0, &data, &len, &err), RD_OK);
    ck_assert_str_eq(data, "a 1\n");
    ck_assert_uint_eq(len, 4);
    free(data);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0640);
    /* replacing keeps the existing file's mode */
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(rd_fs_write_atomic(path, "b 2\nc 3\n", 8, 0644, &err), RD_OK);
    ck_assert_int_eq(rd_fs_read_file(path, 0, &data, &len, &err), RD_OK);
    ck_assert_str_eq(data, "b 2\nc 3\n");
    free(data);
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(count_entries(base), 1); /* no temp file left */

    ck_assert_int_eq(rd_fs_write_atomic("/nonexistent/x.prom", "x", 1, 0644, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg,
                     "cannot create a temporary file for /nonexistent/x.prom: No such file or "
                     "directory");
    /* the target is a directory: rename fails, the temp file is removed */
    char *dir = in_base("adir");
    ck_assert_int_eq(mkdir(dir, 0700), 0);
    ck_assert_int_eq(rd_fs_write_atomic(dir, "x", 1, 0644, &err), RD_ERR_IO);
    ck_assert_int_eq(err.sys_errno, EISDIR);
    ck_assert_int_eq(count_entries(base), 2);
    free(path);
    free(dir);
}
END_TEST

START_TEST(test_read_file)
{
    rd_error err;
    char *path = in_base("f.txt");
    put_file(path, "hello");
    char *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(rd_fs_read_file(path, 5, &data, &len, &err), RD_OK);
    ck_assert_str_eq(data, "hello");
    ck_assert_uint_eq(len, 5);
    free(data);
    data = NULL;
    ck_assert_int_eq(rd_fs_read_file(path, 4, &data, &len, &err), RD_ERR_NOMEM);
    char want[400];
    snprintf(want, sizeof want, "%s is larger than 4 bytes", path);
    ck_assert_str_eq(err.msg, want);
    ck_assert_ptr_null(data);
    ck_assert_int_eq(rd_fs_read_file("/nonexistent/f", 0, &data, &len, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, "cannot open /nonexistent/f: No such file or directory");
    put_file(path, "");
    ck_assert_int_eq(rd_fs_read_file(path, 0, &data, &len, &err), RD_OK);
    ck_assert_str_eq(data, "");
    ck_assert_uint_eq(len, 0);
    free(data);
    free(path);
}
END_TEST

START_TEST(test_mkdir_p)
{
    rd_error err;
    char *deep = in_base("x/y//z/");
    ck_assert_int_eq(rd_fs_mkdir_p(deep, 0750, &err), RD_OK);
    ck_assert_int_eq(rd_fs_is_dir(deep), 1);
    ck_assert_int_eq(rd_fs_mkdir_p(deep, 0750, &err), RD_OK); /* exists: fine */
    char *file = in_base("x/file");
    put_file(file, "");
    char *under = in_base("x/file/sub");
    ck_assert_int_eq(rd_fs_mkdir_p(under, 0750, &err), RD_ERR_IO);
    char want[400];
    snprintf(want, sizeof want, "cannot create directory %s: a file is in the way", file);
    ck_assert_str_eq(err.msg, want); /* names the component in the way */
    ck_assert_int_eq(rd_fs_mkdir_p(file, 0750, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(rd_fs_mkdir_p("/proc/rd-no-such/dir", 0750, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg,
                     "cannot create directory /proc/rd-no-such: No such file or directory");
    ck_assert_int_eq(rd_fs_is_dir(file), 0);
    ck_assert_int_eq(rd_fs_exists(file), 1);
    ck_assert_int_eq(rd_fs_exists("/nonexistent/x"), 0);
    free(deep), free(file), free(under);
}
END_TEST

static void join_is(const char *a, const char *b, const char *want)
{
    char *j = rd_fs_join(a, b);
    ck_assert_str_eq(j, want);
    free(j);
}

START_TEST(test_join)
{
    join_is("/a", "b", "/a/b");
    join_is("/a/", "b", "/a/b");
    join_is("/a//", "/b", "/a/b");
    join_is("/", "b", "/b");
    join_is("", "b", "b");
    join_is("a", "", "a");
    join_is("out", "junit.xml", "out/junit.xml");
}
END_TEST

/* The copy of a tree with many directories (copied by several threads):
 * every file's bytes and mode, nested directories, empty and large files,
 * a symlink as a symlink; an existing destination and a source that is no
 * directory are refused. */
START_TEST(test_copy_tree)
{
    char *src = in_base("src"), *dst = in_base("dst"), path[512], want[4096];
    ck_assert_int_eq(mkdir(src, 0750), 0);
    for (int d = 0; d < 8; d++) {
        snprintf(path, sizeof path, "%s/d%d", src, d);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        for (int f = 0; f < 20; f++) {
            snprintf(path, sizeof path, "%s/d%d/f%d", src, d, f);
            want[0] = '\0';
            for (int k = 0; k < f; k++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "d%d/f%d;", d, f);
            put_file(path, want);
        }
    }
    snprintf(path, sizeof path, "%s/d1/sub", src);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/d1/sub/deep", src);
    put_file(path, "deep");
    chmod(path, 0640);
    snprintf(path, sizeof path, "%s/d3/big", src);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 200000; i++)
        fputc('a' + i % 26, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/link", src);
    ck_assert_int_eq(symlink("d0/f1", path), 0);
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_fs_copy_tree(src, dst, 0, 0, 0, &err) == RD_OK, "%s", err.msg);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "diff -r --no-dereference '%s' '%s' >/dev/null", src, dst);
    ck_assert_int_eq(system(cmd), 0);
    struct stat a, b;
    ck_assert_int_eq(lstat(dst, &b), 0);
    ck_assert_int_eq(b.st_mode & 07777, 0750);
    snprintf(path, sizeof path, "%s/d1/sub/deep", dst);
    ck_assert_int_eq(lstat(path, &b), 0);
    ck_assert_int_eq(b.st_mode & 07777, 0640);
    snprintf(path, sizeof path, "%s/d3/big", dst);
    ck_assert_int_eq(lstat(path, &b), 0);
    ck_assert_int_eq(b.st_size, 200000);
    snprintf(path, sizeof path, "%s/link", dst);
    ck_assert_int_eq(lstat(path, &b), 0);
    ck_assert(S_ISLNK(b.st_mode));
    for (int d = 0; d < 8; d++) {
        snprintf(path, sizeof path, "%s/d%d", dst, d);
        ck_assert_int_eq(count_entries(path), d == 1 ? 21 : d == 3 ? 21 : 20);
        snprintf(path, sizeof path, "%s/d%d/f0", dst, d);
        ck_assert_int_eq(lstat(path, &a), 0);
        ck_assert_int_eq(a.st_size, 0);
    }
    ck_assert_int_eq(rd_fs_copy_tree(src, dst, 0, 0, 0, &err), RD_ERR_IO);
    snprintf(want, sizeof want, "cannot create %s: File exists", dst);
    ck_assert_str_eq(err.msg, want);
    snprintf(path, sizeof path, "%s/d0/f1", src);
    char *other = in_base("other");
    ck_assert_int_eq(rd_fs_copy_tree(path, other, 0, 0, 0, &err), RD_ERR_IO);
    snprintf(want, sizeof want, "cannot copy %s: not a directory", path);
    ck_assert_str_eq(err.msg, want);
    free(other);
    free(src);
    free(dst);
}
END_TEST

Suite *fs_suite(void);
Suite *fs_suite(void)
{
    Suite *s = suite_create("fs");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mkdtemp);
    tcase_add_test(tc, test_rmtree_deletes_without_following_links);
    tcase_add_test(tc, test_rmtree_refusals);
    tcase_add_test(tc, test_write_atomic);
    tcase_add_test(tc, test_read_file);
    tcase_add_test(tc, test_mkdir_p);
    tcase_add_test(tc, test_join);
    tcase_add_test(tc, test_copy_tree);
    suite_add_tcase(s, tc);
    return s;
}
