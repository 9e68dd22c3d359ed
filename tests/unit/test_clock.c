/* test_clock.c: durations, RFC 3339 instants, monotonic and wall clocks. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "restoredrill/clock.h"

static double dur(const char *s)
{
    double v = -1;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_duration_parse(s, &v, &err) == RD_OK, "%s: %s", s, err.msg);
    return v;
}

START_TEST(test_duration_parse)
{
    ck_assert_double_eq(dur("90s"), 90);
    ck_assert_double_eq(dur("15m"), 900);
    ck_assert_double_eq(dur("2h"), 7200);
    ck_assert_double_eq(dur("1d"), 86400);
    ck_assert_double_eq(dur("30d"), 2592000);
    ck_assert_double_eq(dur("1.5h"), 5400);
    ck_assert_double_eq(dur("250ms"), 0.25);
    ck_assert_double_eq(dur("90"), 90);
    ck_assert_double_eq(dur("1.5"), 1.5);
    ck_assert_double_eq(dur("0"), 0);
    ck_assert_double_eq(dur("0s"), 0);
    ck_assert_double_eq(dur(".5m"), 30);
}
END_TEST

START_TEST(test_duration_refused)
{
    static const char *const bad[] = {"5x",  "",    "h",   "-5s", "-1", "1.2.3", " 5s", "5s ",
                                      "5 s", "nan", "inf", "1e3", "5S", "ms",    ".",   "+5s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42;
        rd_error err;
        rd_error_clear(&err);
        ck_assert_msg(rd_duration_parse(bad[i], &v, &err) == RD_ERR_FORMAT, "accepted \"%s\"",
                      bad[i]);
        ck_assert_double_eq(v, 42); /* untouched on failure */
        char want[128];
        snprintf(want, sizeof want,
                 "expected a duration like \"90s\", \"15m\", \"2h\" or \"1d\", got \"%s\"", bad[i]);
        ck_assert_str_eq(err.msg, want);
    }
    rd_error err;
    ck_assert_int_eq(rd_duration_parse("5x", &(double){0}, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "expected a duration like \"90s\", \"15m\", \"2h\" or \"1d\", got \"5x\"");
}
END_TEST

START_TEST(test_duration_format)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {90, "90s"},      {900, "15m"},   {7200, "2h"},  {86400, "1d"},
        {2592000, "30d"}, {5400, "90m"},  {1.5, "1.5s"}, {0.25, "250ms"},
        {0, "0s"},        {90000, "25h"}, {61, "61s"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = rd_duration_format(cases[i].v, buf, sizeof buf);
        ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s(%g): got \"%s\", want \"%s\"",
                      "rd_duration_format", cases[i].v, got, cases[i].want);
    }
}
END_TEST

START_TEST(test_duration_round_trip)
{
    static const char *const forms[] = {"90s",   "15m", "2h",  "1d", "30d", "90m",  "1.5s",
                                        "250ms", "25h", "61s", "0s", "7d",  "1.25s"};
    char buf[32];
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        double v = dur(forms[i]);
        ck_assert_str_eq(rd_duration_format(v, buf, sizeof buf), forms[i]);
        ck_assert_double_eq(dur(buf), v);
    }
    /* "1.5h" is the same duration as "90m", which is the shortest exact form */
    ck_assert_str_eq(rd_duration_format(dur("1.5h"), buf, sizeof buf), "90m");
}
END_TEST

START_TEST(test_duration_human)
{
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {3723, "1h 02m 03s"}, {4.214, "4.21s"},          {0, "0.00s"},     {61, "1m 01s"},
        {59.996, "1m 00s"},   {90061, "1d 01h 01m 01s"}, {-4.5, "-4.50s"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = rd_duration_human(cases[i].v, buf, sizeof buf);
        ck_assert_msg(strcmp(got, cases[i].want) == 0, "%s(%g): got \"%s\", want \"%s\"",
                      "rd_duration_human", cases[i].v, got, cases[i].want);
    }
}
END_TEST

static int64_t tm_ok(const char *s)
{
    int64_t ms = -42;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_msg(rd_time_parse(s, &ms, &err) == RD_OK, "%s: %s", s, err.msg);
    return ms;
}

START_TEST(test_time_parse)
{
    ck_assert_int_eq(tm_ok("2026-01-30T15:00:00Z"), 1769785200000LL);
    ck_assert_int_eq(tm_ok("2026-01-30t15:00:00z"), 1769785200000LL);
    ck_assert_int_eq(tm_ok("2026-01-30 15:00:00+00"), 1769785200000LL);
    ck_assert_int_eq(tm_ok("2026-01-30 15:00:00+00:00"), 1769785200000LL);
    ck_assert_int_eq(tm_ok("2026-01-30T15:00:00.5+02:00"), 1769778000500LL);
    ck_assert_int_eq(tm_ok("2026-01-30T15:00:00.5+0200"), 1769778000500LL);
    ck_assert_int_eq(tm_ok("2026-01-30T15:00:00.123456-05:30"), 1769805000123LL);
    ck_assert_int_eq(tm_ok("2026-01-30T15:00:00.123Z"), 1769785200123LL);
    ck_assert_int_eq(tm_ok("2024-02-29T00:00:00Z"), 1709164800000LL);
    ck_assert_int_eq(tm_ok("1969-07-20T20:17:40Z"), -14182940000LL);
    ck_assert_int_eq(tm_ok("1970-01-01T00:00:00Z"), 0);
    ck_assert_int_eq(tm_ok("2016-12-31T23:59:59.999Z"), 1483228799999LL);
}
END_TEST

START_TEST(test_time_refused)
{
    static const char *const bad[] = {"2023-02-29T00:00:00Z",
                                      "2026-01-30T15:00:00",
                                      "2026-13-01T00:00:00Z",
                                      "2026-01-30T24:00:00Z",
                                      "2026-01-30T15:60:00Z",
                                      "garbage",
                                      "",
                                      "2026-01-30T15:00:00Zjunk",
                                      "2026-01-30T15:00:00+2:00",
                                      "2026-01-30",
                                      "2026-01-30T15:00:00.Z",
                                      "2026-1-30T15:00:00Z",
                                      "2026-01-30T15:00:00+24:00",
                                      "2026-01-30T15:00:00+01:60"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        rd_error err;
        ck_assert_msg(rd_time_parse(bad[i], &ms, &err) == RD_ERR_FORMAT, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(ms, 42);
    }
    rd_error err;
    ck_assert_int_eq(rd_time_parse("2026-02-30T00:00:00Z", &(int64_t){0}, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "expected an RFC 3339 time like \"2026-01-30T15:00:00Z\", got "
                              "\"2026-02-30T00:00:00Z\"");
}
END_TEST

START_TEST(test_time_parse_utc)
{
    int64_t ms = 0;
    rd_error err;
    /* no offset: UTC; an offset still counts */
    ck_assert_int_eq(rd_time_parse_utc("2026-01-30 15:00:00.25", &ms, &err), RD_OK);
    ck_assert_int_eq(ms, 1769785200250LL);
    ck_assert_int_eq(rd_time_parse_utc("2026-01-30T15:00:00+01:00", &ms, &err), RD_OK);
    ck_assert_int_eq(ms, 1769781600000LL);
    ck_assert_int_eq(rd_time_parse_utc("soon", &ms, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "expected an RFC 3339 time like \"2026-01-30T15:00:00Z\", got \"soon\"");
}
END_TEST

START_TEST(test_time_format)
{
    char buf[RD_TIME_BUFSZ];
    ck_assert_str_eq(rd_time_format(0, buf, sizeof buf), "1970-01-01T00:00:00.000Z");
    ck_assert_str_eq(rd_time_format(1769785200123LL, buf, sizeof buf), "2026-01-30T15:00:00.123Z");
    ck_assert_str_eq(rd_time_format(-1, buf, sizeof buf), "1969-12-31T23:59:59.999Z");
    ck_assert_str_eq(rd_time_format(-14182940000LL, buf, sizeof buf), "1969-07-20T20:17:40.000Z");
    /* format -> parse round trip */
    ck_assert_int_eq(tm_ok(rd_time_format(1483228799999LL, buf, sizeof buf)), 1483228799999LL);
}
END_TEST

START_TEST(test_clocks)
{
    double a = rd_mono_now();
    double b = rd_mono_now();
    ck_assert(b >= a);
    ck_assert(a > 0);
    int64_t w = rd_wall_now_ms();
    ck_assert_int_gt(w, 1704067200000LL); /* after 2024-01-01 */
    char buf[RD_TIME_BUFSZ];
    ck_assert_int_eq(tm_ok(rd_time_format(w, buf, sizeof buf)), w);
}
END_TEST

Suite *clock_suite(void);
Suite *clock_suite(void)
{
    Suite *s = suite_create("clock");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_duration_parse);
    tcase_add_test(tc, test_duration_refused);
    tcase_add_test(tc, test_duration_format);
    tcase_add_test(tc, test_duration_round_trip);
    tcase_add_test(tc, test_duration_human);
    tcase_add_test(tc, test_time_parse);
    tcase_add_test(tc, test_time_refused);
    tcase_add_test(tc, test_time_parse_utc);
    tcase_add_test(tc, test_time_format);
    tcase_add_test(tc, test_clocks);
    suite_add_tcase(s, tc);
    return s;
}
