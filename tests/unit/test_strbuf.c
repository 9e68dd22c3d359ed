/* test_strbuf.c: growth, caps, formatting, tails, detach. */
#include <check.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"

START_TEST(test_init_lazy)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    ck_assert_ptr_nonnull(sb.data);
    ck_assert_str_eq(sb.data, "");
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_uint_eq(sb.cap, 0);
    ck_assert_uint_eq(sb.max, RD_STRBUF_DEFAULT_MAX);
    rd_strbuf_reset(&sb);
    rd_strbuf_free(&sb);
    rd_strbuf_free(&sb); /* twice is harmless */
    rd_strbuf_free(NULL);
}
END_TEST

START_TEST(test_append_and_grow)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    ck_assert_int_eq(rd_strbuf_append(&sb, "hello", NULL), RD_OK);
    ck_assert_int_eq(rd_strbuf_append_char(&sb, ' ', NULL), RD_OK);
    ck_assert_int_eq(rd_strbuf_appendf(&sb, NULL, "%s #%d", "world", 42), RD_OK);
    ck_assert_str_eq(sb.data, "hello world #42");
    ck_assert_uint_eq(sb.len, 15);
    ck_assert_uint_eq(sb.cap, 64);
    /* growth doubles, content survives, always NUL-terminated */
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(rd_strbuf_append_n(&sb, "0123456789", 10, NULL), RD_OK);
    ck_assert_uint_eq(sb.len, 10015);
    ck_assert_uint_eq(sb.cap, 16384);
    ck_assert_int_eq(sb.data[10015], '\0');
    ck_assert(strncmp(sb.data, "hello world #420123456789", 25) == 0);
    ck_assert_int_eq(rd_strbuf_append_n(&sb, "ignored", 0, NULL), RD_OK);
    ck_assert_uint_eq(sb.len, 10015);
    /* reset keeps memory */
    rd_strbuf_reset(&sb);
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_str_eq(sb.data, "");
    ck_assert_uint_eq(sb.cap, 16384);
    rd_strbuf_free(&sb);
}
END_TEST

START_TEST(test_cap)
{
    rd_strbuf sb;
    rd_error err;
    rd_error_clear(&err);
    rd_strbuf_init(&sb, 10);
    ck_assert_int_eq(rd_strbuf_append(&sb, "0123456789", &err), RD_OK);
    ck_assert_uint_eq(sb.len, 10);
    /* one more byte fails and leaves the buffer as it was */
    ck_assert_int_eq(rd_strbuf_append_char(&sb, 'x', &err), RD_ERR_NOMEM);
    ck_assert_str_eq(err.msg, "buffer limit of 10 bytes reached");
    ck_assert_str_eq(sb.data, "0123456789");
    ck_assert_uint_eq(sb.len, 10);
    rd_strbuf_reset(&sb);
    ck_assert_int_eq(rd_strbuf_appendf(&sb, &err, "%s", "01234567890"), RD_ERR_NOMEM);
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_str_eq(sb.data, "");
    ck_assert_int_eq(rd_strbuf_appendf(&sb, &err, "%05d", 7), RD_OK);
    ck_assert_int_eq(rd_strbuf_append(&sb, "abcdef", &err), RD_ERR_NOMEM);
    ck_assert_str_eq(sb.data, "00007");
    rd_strbuf_free(&sb);
}
END_TEST

START_TEST(test_keep_tail)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    rd_strbuf_append(&sb, "line one\nline two\nlast line\n", NULL);
    rd_strbuf_keep_tail(&sb, 100);
    ck_assert_str_eq(sb.data, "line one\nline two\nlast line\n");
    rd_strbuf_keep_tail(&sb, 10);
    ck_assert_str_eq(sb.data, "last line\n");
    ck_assert_uint_eq(sb.len, 10);
    rd_strbuf_keep_tail(&sb, 0);
    ck_assert_str_eq(sb.data, "");
    rd_strbuf_free(&sb);
}
END_TEST

START_TEST(test_detach)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 100);
    char *empty = rd_strbuf_detach(&sb);
    ck_assert_ptr_nonnull(empty);
    ck_assert_str_eq(empty, "");
    free(empty);
    rd_strbuf_append(&sb, "abc", NULL);
    char *s = rd_strbuf_detach(&sb);
    ck_assert_str_eq(s, "abc");
    ck_assert_uint_eq(sb.len, 0);
    ck_assert_uint_eq(sb.cap, 0);
    ck_assert_uint_eq(sb.max, 100); /* the cap survives */
    ck_assert_str_eq(sb.data, "");
    free(s);
    rd_strbuf_free(&sb);
}
END_TEST

START_TEST(test_helpers)
{
    ck_assert_ptr_null(rd_strdup(NULL));
    char *d = rd_strdup("dup");
    ck_assert_str_eq(d, "dup");
    free(d);
    char *a = rd_asprintf("%s-%03d", "rd", 7);
    ck_assert_str_eq(a, "rd-007");
    free(a);
}
END_TEST

START_TEST(test_hex_value)
{
    const char *digits = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        ck_assert_int_eq(rd_hex_value(digits[i]), i);
        ck_assert_int_eq(rd_hex_value(toupper((unsigned char)digits[i])), i);
    }
    ck_assert_int_eq(rd_hex_value('g'), -1);
    ck_assert_int_eq(rd_hex_value('G'), -1);
    ck_assert_int_eq(rd_hex_value('/'), -1);
    ck_assert_int_eq(rd_hex_value(':'), -1);
    ck_assert_int_eq(rd_hex_value('@'), -1);
    ck_assert_int_eq(rd_hex_value('`'), -1);
    ck_assert_int_eq(rd_hex_value('%'), -1);
    ck_assert_int_eq(rd_hex_value('\0'), -1);
    ck_assert_int_eq(rd_hex_value((char)0xc3), -1); /* a UTF-8 lead byte, signed or not */
    ck_assert_int_eq(rd_hex_value(0xc3), -1);
}
END_TEST

Suite *strbuf_suite(void);
Suite *strbuf_suite(void)
{
    Suite *s = suite_create("strbuf");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_init_lazy);
    tcase_add_test(tc, test_append_and_grow);
    tcase_add_test(tc, test_cap);
    tcase_add_test(tc, test_keep_tail);
    tcase_add_test(tc, test_detach);
    tcase_add_test(tc, test_helpers);
    tcase_add_test(tc, test_hex_value);
    suite_add_tcase(s, tc);
    return s;
}
