/* test_sha256.c: FIPS 180-2 vectors, incremental hashing, files. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/sha256.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

START_TEST(test_oneshot)
{
    char hex[RD_SHA256_HEX_LEN + 1];
    rd_sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, ABC);
    rd_sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, EMPTY);
}
END_TEST

START_TEST(test_incremental)
{
    rd_sha256 *h = NULL;
    char hex[RD_SHA256_HEX_LEN + 1];
    char chunk[1000];
    memset(chunk, 'a', sizeof chunk);
    ck_assert_int_eq(rd_sha256_new(&h, NULL), RD_OK);
    for (int i = 0; i < 1000; i++)
        rd_sha256_update(h, chunk, sizeof chunk);
    rd_sha256_update(h, chunk, 0);
    rd_sha256_final_hex(h, hex);
    rd_sha256_free(h);
    ck_assert_str_eq(hex, MILLION_A);
    rd_sha256_free(NULL);
}
END_TEST

static char *write_temp(const void *data, size_t len)
{
    char *path = strdup("/tmp/rd-sha-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

START_TEST(test_file)
{
    char hex[RD_SHA256_HEX_LEN + 1];
    unsigned long long bytes = 0;
    char *a = malloc(1000000);
    memset(a, 'a', 1000000);
    char *path = write_temp(a, 1000000); /* several reads of 64 KiB */
    ck_assert_int_eq(rd_sha256_file(path, hex, &bytes, NULL), RD_OK);
    ck_assert_str_eq(hex, MILLION_A);
    ck_assert_uint_eq(bytes, 1000000);
    unlink(path);
    free(path);
    path = write_temp("abc", 3);
    ck_assert_int_eq(rd_sha256_file(path, hex, NULL, NULL), RD_OK);
    ck_assert_str_eq(hex, ABC);
    unlink(path);
    free(path);
    free(a);
}
END_TEST

START_TEST(test_file_missing)
{
    char hex[RD_SHA256_HEX_LEN + 1] = "untouched";
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_sha256_file("/nonexistent/x.dump", hex, NULL, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, "cannot open /nonexistent/x.dump: No such file or directory");
    ck_assert_str_eq(hex, "untouched");
    ck_assert_int_eq(rd_sha256_file("/tmp", hex, NULL, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, "cannot read /tmp: Is a directory");
}
END_TEST

Suite *sha256_suite(void);
Suite *sha256_suite(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_oneshot);
    tcase_add_test(tc, test_incremental);
    tcase_add_test(tc, test_file);
    tcase_add_test(tc, test_file_missing);
    suite_add_tcase(s, tc);
    return s;
}
