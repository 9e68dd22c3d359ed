/* test_expect.c: parsing and evaluating sql check expectations. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/check.h"

static rd_expect parse_ok(const char *text)
{
    rd_expect e;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_expect_parse(text, &e, &err) == RD_OK, "%s: %s", text, err.msg);
    return e;
}

static const char *parse_err(const char *text)
{
    static rd_error err;
    rd_expect e = {RD_EXPECT_EQ, NULL, 0, 0, NULL};
    rd_error_clear(&err);
    ck_assert_int_eq(rd_expect_parse(text, &e, &err), RD_ERR_CONFIG);
    ck_assert_ptr_null(e.value); /* out untouched */
    return err.msg;
}

/* parse text, evaluate actual, free */
static int eval(const char *text, const char *actual)
{
    rd_expect e = parse_ok(text);
    int r = rd_expect_eval(&e, actual);
    rd_expect_free(&e);
    return r;
}

START_TEST(test_parse_ops)
{
    static const struct {
        const char *text;
        rd_expect_op op;
        const char *value;
        int numeric;
    } cases[] = {
        {"= v", RD_EXPECT_EQ, "v", 0},
        {"!= 0", RD_EXPECT_NE, "0", 1},
        {">= 100", RD_EXPECT_GE, "100", 1},
        {"<=2.5", RD_EXPECT_LE, "2.5", 1},
        {"  > -1e3 ", RD_EXPECT_GT, "-1e3", 1},
        {"< 2026-01-30", RD_EXPECT_LT, "2026-01-30", 0},
        {"~ ^ok( |$)", RD_EXPECT_MATCH, "^ok( |$)", 0},
        {"rows = 3", RD_EXPECT_ROWS, "3", 1},
        {"rows=0", RD_EXPECT_ROWS, "0", 1},
        {"= two words ", RD_EXPECT_EQ, "two words", 0},
        {"= 0x10", RD_EXPECT_EQ, "0x10", 0},
        {"= inf", RD_EXPECT_EQ, "inf", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rd_expect e = parse_ok(cases[i].text);
        ck_assert_int_eq(e.op, cases[i].op);
        ck_assert_str_eq(e.value, cases[i].value);
        ck_assert_int_eq(e.numeric, cases[i].numeric);
        ck_assert(e.op == RD_EXPECT_MATCH ? e.regex != NULL : e.regex == NULL);
        rd_expect_free(&e);
        ck_assert_ptr_null(e.value);
    }
    rd_expect e = parse_ok(">= 100");
    ck_assert(e.num == 100.0);
    rd_expect_free(&e);
    rd_expect_free(NULL);
}
END_TEST

START_TEST(test_parse_errors)
{
    ck_assert_str_eq(parse_err("lots"),
                     "expected an operator and a value like \">= 100\", got \"lots\"");
    ck_assert_str_eq(parse_err(">="),
                     "expected an operator and a value like \">= 100\", got \">=\"");
    ck_assert_str_eq(parse_err("   "),
                     "expected an operator and a value like \">= 100\", got \"   \"");
    ck_assert_str_eq(parse_err("100"),
                     "expected an operator and a value like \">= 100\", got \"100\"");
    ck_assert_str_eq(parse_err("rows"),
                     "expected an operator and a value like \">= 100\", got \"rows\"");
    ck_assert_str_eq(parse_err("rows = many"),
                     "expected a row count like \"rows = 3\", got \"rows = many\"");
    ck_assert_str_eq(parse_err("rows = -1"),
                     "expected a row count like \"rows = 3\", got \"rows = -1\"");
    ck_assert_str_eq(parse_err("rows >= 3"),
                     "expected a row count like \"rows = 3\", got \"rows >= 3\"");
    const char *m = parse_err("~ (unclosed");
    ck_assert_msg(strncmp(m, "invalid regular expression \"(unclosed\": ", 40) == 0, "%s", m);
}
END_TEST

/* Found by tests/fuzz/fuzz_expect.c: glibc's regcomp took over 2 GB for
 * "~=" followed by 120 "+" (every stacked repetition copies the tree). Such
 * expressions are refused before regcomp; ordinary ones still compile. */
START_TEST(test_regex_cost)
{
    char re[200] = "~=";
    memset(re + 2, '+', 120);
    re[122] = '\0';
    char want[300];
    snprintf(want, sizeof want,
             "invalid regular expression \"=%s\": a repetition operator follows another (write "
             "one, or group with ( ))",
             re + 2);
    ck_assert_str_eq(parse_err(re), want);
    ck_assert_str_eq(parse_err("~ a*?"), "invalid regular expression \"a*?\": a repetition "
                                         "operator follows another (write one, or group with ( ))");
    ck_assert_str_eq(parse_err("~ a{101}"),
                     "invalid regular expression \"a{101}\": a repetition bound above 100");
    ck_assert_str_eq(
        parse_err("~ ((a{9}){9}){9}"),
        "invalid regular expression \"((a{9}){9}){9}\": more than 2 {m,n} repetitions");
    /* the second finding: "[9-[]" closes at its "]" (a "[" inside a bracket
     * is a character), so the "++" after it is stacked */
    ck_assert_str_eq(parse_err("~ [9-[]++"), "invalid regular expression \"[9-[]++\": a "
                                             "repetition operator follows another (write one, "
                                             "or group with ( ))");
    ck_assert_int_eq(eval("~ ^[9-[]+$", "9:["), 1);
    ck_assert_int_eq(eval("~ ^[[:digit:]]+$", "42"), 1);
    ck_assert_str_eq(parse_err("~ [[:alpha:]]**"), "invalid regular expression \"[[:alpha:]]**\": "
                                                   "a repetition operator follows another (write "
                                                   "one, or group with ( ))");
    /* escaped and bracketed operators are characters, not repetitions */
    ck_assert_int_eq(eval("~ ^a\\++$", "a++"), 1);
    ck_assert_int_eq(eval("~ ^[+*?]+$", "+*?"), 1);
    ck_assert_int_eq(eval("~ ^[]+]+$", "]+"), 1);
    ck_assert_int_eq(eval("~ ^(ab)+c{2,3}$", "ababccc"), 1);
    ck_assert_int_eq(eval("~ ^x{1,100}$", "xxx"), 1);
}
END_TEST

START_TEST(test_eval_numeric)
{
    ck_assert_int_eq(eval(">= 100", "100"), 1);
    ck_assert_int_eq(eval(">= 100", "99"), 0);
    ck_assert_int_eq(eval(">= 100", "1000"), 1); /* numeric, not text order */
    ck_assert_int_eq(eval("> 9", "10"), 1);
    ck_assert_int_eq(eval("< 2.5", "2.49"), 1);
    ck_assert_int_eq(eval("< 2.5", "2.5"), 0);
    ck_assert_int_eq(eval("<= 2.5", "2.50"), 1);
    ck_assert_int_eq(eval("= 100", "100.0"), 1);
    ck_assert_int_eq(eval("= 1e2", "100"), 1);
    ck_assert_int_eq(eval("!= 0", "0.0"), 0);
    ck_assert_int_eq(eval("!= 0", "1"), 1);
    /* bigint beyond 2^53 compares exactly */
    ck_assert_int_eq(eval("= 9007199254740993", "9007199254740992"), 0);
    ck_assert_int_eq(eval("> 9007199254740992", "9007199254740993"), 1);
    /* a number expected, text found: never meets an ordering */
    ck_assert_int_eq(eval(">= 100", "abc"), 0);
    ck_assert_int_eq(eval("< 100", "abc"), 0);
    ck_assert_int_eq(eval("= 100", "abc"), 0);
    ck_assert_int_eq(eval("!= 100", "abc"), 1);
}
END_TEST

START_TEST(test_eval_text_match_rows_null)
{
    ck_assert_int_eq(eval("= ok", "ok"), 1);
    ck_assert_int_eq(eval("= ok", "OK"), 0);
    ck_assert_int_eq(eval("= ok", "ok "), 0);
    ck_assert_int_eq(eval("!= ok", "OK"), 1);
    ck_assert_int_eq(eval(">= 2026-01-30", "2026-02-01 10:00:00"), 1);
    ck_assert_int_eq(eval("< 2026-01-30", "2026-02-01"), 0);
    ck_assert_int_eq(eval("~ ^ok( |$)", "ok done"), 1);
    ck_assert_int_eq(eval("~ ^ok( |$)", "okay"), 0);
    ck_assert_int_eq(eval("~ [0-9]+ rows", "copied 42 rows"), 1);
    ck_assert_int_eq(eval("rows = 3", "3"), 1);
    ck_assert_int_eq(eval("rows = 3", "4"), 0);
    ck_assert_int_eq(eval("rows = 3", "three"), 0);
    /* SQL NULL: only != is met */
    ck_assert_int_eq(eval("= 0", NULL), 0);
    ck_assert_int_eq(eval("!= 0", NULL), 1);
    ck_assert_int_eq(eval("~ .*", NULL), 0);
    ck_assert_int_eq(eval("rows = 0", NULL), 0);
    ck_assert_int_eq(rd_expect_eval(NULL, "x"), 0);
}
END_TEST

Suite *expect_suite(void);
Suite *expect_suite(void)
{
    Suite *s = suite_create("expect");
    TCase *tc = tcase_create("expect");
    tcase_add_test(tc, test_parse_ops);
    tcase_add_test(tc, test_regex_cost);
    tcase_add_test(tc, test_parse_errors);
    tcase_add_test(tc, test_eval_numeric);
    tcase_add_test(tc, test_eval_text_match_rows_null);
    suite_add_tcase(s, tc);
    return s;
}
