/* test_error.c: status names, error records, prefixing and truncation. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "restoredrill/error.h"

START_TEST(test_strerror_names)
{
    ck_assert_str_eq(rd_strerror(RD_OK), "ok");
    ck_assert_str_eq(rd_strerror(RD_ERR_TIMEOUT), "timeout");
    ck_assert_str_eq(rd_strerror(RD_ERR_DB), "database error");
    ck_assert_str_eq(rd_strerror(RD_ERR_ABORTED), "aborted");
    ck_assert_str_eq(rd_strerror(RD_ERR_INTERNAL), "internal error");
    ck_assert_str_eq(rd_strerror((rd_status)999), "unknown error");
    for (int c = RD_OK; c <= RD_ERR_INTERNAL; c++)
        ck_assert_str_ne(rd_strerror((rd_status)c), "unknown error");
}
END_TEST

START_TEST(test_set_and_errno)
{
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(RD_ERR(&err, RD_ERR_NOTFOUND, "table %s.%s not found", "public", "t"),
                     RD_ERR_NOTFOUND);
    ck_assert_int_eq(err.code, RD_ERR_NOTFOUND);
    ck_assert_int_eq(err.sys_errno, 0);
    ck_assert_str_eq(err.msg, "table public.t not found");

    errno = ENOENT;
    ck_assert_int_eq(RD_ERR_ERRNO(&err, RD_ERR_IO, "cannot open %s", "/x"), RD_ERR_IO);
    ck_assert_int_eq(err.sys_errno, ENOENT);
    ck_assert_str_eq(err.msg, "cannot open /x: No such file or directory");

    /* a NULL record is allowed and the code still comes back */
    ck_assert_int_eq(RD_ERR(NULL, RD_ERR_CONFIG, "x"), RD_ERR_CONFIG);
    rd_error_clear(NULL);

    rd_error_clear(&err);
    ck_assert_int_eq(err.code, RD_OK);
    ck_assert_int_eq(err.sys_errno, 0);
    ck_assert_str_eq(err.msg, "");
}
END_TEST

START_TEST(test_set_truncates)
{
    rd_error err;
    char big[3000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    RD_ERR(&err, RD_ERR_FORMAT, "bad: %s", big);
    ck_assert_uint_eq(strlen(err.msg), RD_ERROR_MSG_MAX - 1);
    ck_assert(strncmp(err.msg, "bad: xxx", 8) == 0);
    /* errno text on a full message does not overflow */
    errno = EACCES;
    RD_ERR_ERRNO(&err, RD_ERR_IO, "%s", big);
    ck_assert_uint_eq(strlen(err.msg), RD_ERROR_MSG_MAX - 1);
    ck_assert_int_eq(err.sys_errno, EACCES);
}
END_TEST

START_TEST(test_prefix)
{
    rd_error err;
    errno = ECONNREFUSED;
    RD_ERR_ERRNO(&err, RD_ERR_CONNECT, "cannot connect to %s", "/tmp/sock");
    ck_assert_int_eq(rd_error_prefix(&err, "target %s: ", "orders"), RD_ERR_CONNECT);
    ck_assert_str_eq(err.msg, "target orders: cannot connect to /tmp/sock: Connection refused");
    ck_assert_int_eq(err.code, RD_ERR_CONNECT);
    ck_assert_int_eq(err.sys_errno, ECONNREFUSED);
    rd_error_prefix(&err, "drill: ");
    ck_assert_str_eq(err.msg,
                     "drill: target orders: cannot connect to /tmp/sock: Connection refused");
    ck_assert_int_eq(rd_error_prefix(NULL, "x: "), RD_OK);
}
END_TEST

START_TEST(test_prefix_truncates)
{
    rd_error err;
    char big[RD_ERROR_MSG_MAX];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    RD_ERR(&err, RD_ERR_DB, "%s", big);
    rd_error_prefix(&err, "restore: ");
    ck_assert_uint_eq(strlen(err.msg), RD_ERROR_MSG_MAX - 1);
    ck_assert(strncmp(err.msg, "restore: mmm", 12) == 0);
    ck_assert_int_eq(err.msg[RD_ERROR_MSG_MAX - 2], 'm');

    /* a prefix longer than the buffer keeps only the prefix */
    char hugep[RD_ERROR_MSG_MAX + 100];
    memset(hugep, 'p', sizeof hugep - 1);
    hugep[sizeof hugep - 1] = '\0';
    RD_ERR(&err, RD_ERR_DB, "tail");
    rd_error_prefix(&err, "%s", hugep);
    ck_assert_uint_eq(strlen(err.msg), RD_ERROR_MSG_MAX - 1);
    ck_assert_ptr_null(strstr(err.msg, "tail"));
    ck_assert_int_eq(err.code, RD_ERR_DB);
}
END_TEST

Suite *error_suite(void);
Suite *error_suite(void)
{
    Suite *s = suite_create("error");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_strerror_names);
    tcase_add_test(tc, test_set_and_errno);
    tcase_add_test(tc, test_set_truncates);
    tcase_add_test(tc, test_prefix);
    tcase_add_test(tc, test_prefix_truncates);
    suite_add_tcase(s, tc);
    return s;
}
