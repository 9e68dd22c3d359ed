/* test_history.c: the hash-chained history: append, verify, and detection
 * of edited, removed, reordered and non-JSON lines with the exact line. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../reports/report_int.h"
#include "report_fixture.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "restoredrill/sha256.h"
#include "tmpdir_fixture.h"

Suite *history_suite(void);

static char path[300];

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-history-XXXXXX");
    snprintf(path, sizeof path, "%s/history.jsonl", tmpdir);
}

/* Append n drills with RTO 10, 20, 30... */
static void append_n(int n)
{
    rd_error err;
    for (int i = 0; i < n; i++) {
        rd_report *r = fx_report();
        free(r->drill_id);
        r->drill_id = rd_asprintf("d-%d", i + 1);
        r->started_at_ms = FX_T0 + (int64_t)i * 86400000;
        r->targets[0].rto.seconds = 10.0 * (i + 1);
        ck_assert_int_eq(rd_history_append(r, path, &err), RD_OK);
        rd_report_free(r);
    }
}

static char **read_lines(size_t *n)
{
    char *text = NULL;
    size_t len = 0;
    rd_error err;
    ck_assert_int_eq(rd_fs_read_file(path, 0, &text, &len, &err), RD_OK);
    char **lines = calloc(16, sizeof *lines);
    *n = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        ck_assert_ptr_nonnull(nl);
        lines[(*n)++] = strndup(p, (size_t)(nl - p));
        p = nl + 1;
    }
    free(text);
    return lines;
}

static void write_lines(char **lines, size_t n)
{
    FILE *f = fopen(path, "w");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s\n", lines[i]);
    fclose(f);
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}

static void expect_broken(size_t line, const char *msg)
{
    size_t lines = 0, bad = 0;
    rd_error err;
    ck_assert_int_eq(rd_history_verify(path, &lines, &bad, &err), RD_ERR_INTEGRITY);
    ck_assert_uint_eq(bad, line);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(test_chain)
{
    size_t n = 0, lines = 0, bad = 7;
    rd_error err;
    char hex[RD_SHA256_HEX_LEN + 1], want[128];
    append_n(3);
    char **l = read_lines(&n);
    ck_assert_uint_eq(n, 3);
    ck_assert_ptr_nonnull(
        strstr(l[0], "{\"schema\":\"restoredrill/history/v1\",\"prev_sha256\":"
                     "\"0000000000000000000000000000000000000000000000000000000000000000\","
                     "\"drill_id\":\"d-1\","));
    rd_sha256_hex(l[1], strlen(l[1]), hex);
    snprintf(want, sizeof want, "\"prev_sha256\":\"%s\"", hex);
    ck_assert_ptr_nonnull(strstr(l[2], want));
    ck_assert_ptr_nonnull(
        strstr(l[2], "\"targets\":[{\"name\":\"orders\",\"status\":\"failed\","
                     "\"point_id\":\"orders-20260130T030000Z.dump\","
                     "\"point_created_at\":\"2026-01-30T03:00:00.000Z\","
                     "\"rto_seconds\":30,\"rto_target_seconds\":60,"
                     "\"rpo_seconds\":43200,\"rpo_target_seconds\":86400,"
                     "\"checks_failed\":3,\"point_bytes\":123456,\"restore_seconds\":60.25,"
                     "\"target_time\":null,\"reached_time\":null}"));
    ck_assert_ptr_nonnull(strstr(l[0], "\"seed\":\"18446744073709551615\""));
    ck_assert_ptr_null(strstr(l[0], FX_CANARY));
    ck_assert_int_eq(rd_history_verify(path, &lines, &bad, &err), RD_OK);
    ck_assert_uint_eq(lines, 3);
    ck_assert_uint_eq(bad, 0);
    free_lines(l, n);
}
END_TEST

/* Drills appending to one history at the same moment: every line kept,
 * the chain intact (the append is a locked read-modify-write). */
START_TEST(test_concurrent_appends)
{
    enum { PROCS = 6, EACH = 8 };
    pid_t kids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        kids[p] = fork();
        ck_assert_int_ge(kids[p], 0);
        if (kids[p] == 0) {
            rd_error err;
            int bad = 0;
            for (int i = 0; i < EACH; i++) {
                rd_report *r = fx_report();
                bad += rd_history_append(r, path, &err) != RD_OK;
                rd_report_free(r);
            }
            _exit(bad ? 1 : 0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int ws = 0;
        ck_assert_int_eq(waitpid(kids[p], &ws, 0), kids[p]);
        ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    }
    size_t lines = 0, bad = 9;
    rd_error err;
    ck_assert_msg(rd_history_verify(path, &lines, &bad, &err) == RD_OK, "%s", err.msg);
    ck_assert_uint_eq(lines, PROCS * EACH);
}
END_TEST

/* A second writer waits while the history's lock is held, and appends once
 * it is released: the two writers serialise on FILE.lock. */
START_TEST(test_append_waits_for_lock)
{
    char lp[320];
    int fd = -1, ws = 0;
    rd_error err;
    snprintf(lp, sizeof lp, "%s.lock", path);
    ck_assert_int_eq(rd_fs_lock(lp, 0, 0, &fd, &err), RD_OK);
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid == 0) {
        rd_report *r = fx_report();
        rd_status st = rd_history_append(r, path, &err);
        rd_report_free(r);
        _exit(st == RD_OK ? 0 : 1);
    }
    usleep(400 * 1000);
    ck_assert_int_eq(waitpid(kid, &ws, WNOHANG), 0); /* still waiting */
    ck_assert(!rd_fs_exists(path));
    rd_fs_unlock(fd);
    ck_assert_int_eq(waitpid(kid, &ws, 0), kid);
    ck_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    size_t lines = 0, bad = 9;
    ck_assert_msg(rd_history_verify(path, &lines, &bad, &err) == RD_OK, "%s", err.msg);
    ck_assert_uint_eq(lines, 1);
}
END_TEST

/* The lock file is private (0600) and never opened through a symlink. */
START_TEST(test_lock_file)
{
    char lp[320], other[320], want[1024];
    struct stat sb;
    rd_error err;
    append_n(1);
    snprintf(lp, sizeof lp, "%s.lock", path);
    ck_assert_int_eq(stat(lp, &sb), 0);
    ck_assert_int_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(unlink(lp), 0);
    snprintf(other, sizeof other, "%s/other", tmpdir);
    ck_assert_int_eq(symlink(other, lp), 0);
    rd_report *r = fx_report();
    ck_assert_int_eq(rd_history_append(r, path, &err), RD_ERR_IO);
    rd_report_free(r);
    snprintf(want, sizeof want, "cannot lock history %s: cannot open %s: %s", path, lp,
             strerror(ELOOP));
    ck_assert_str_eq(err.msg, want);
    ck_assert(!rd_fs_exists(other));
    ck_assert_int_eq(unlink(lp), 0);
}
END_TEST

START_TEST(test_edited)
{
    size_t n = 0;
    append_n(4);
    char **l = read_lines(&n);
    char *p = strstr(l[1], "\"rto_seconds\":20");
    ck_assert_ptr_nonnull(p);
    p[14] = '1'; /* 20 -> 10: a faster RTO than measured */
    write_lines(l, n);
    expect_broken(3, "line 3: prev_sha256 does not match line 2 (edited or removed)");
    free_lines(l, n);
}
END_TEST

START_TEST(test_removed_and_reordered)
{
    size_t n = 0;
    append_n(4);
    char **l = read_lines(&n);
    char *keep[4] = {l[0], l[2], l[1], l[3]};
    write_lines(keep, 4);
    expect_broken(2, "line 2: prev_sha256 does not match line 1 (edited or removed)");
    write_lines(l + 1, 3);
    expect_broken(1, "line 1: prev_sha256 is not 64 zeros (lines before it were removed)");
    char *mid[3] = {l[0], l[1], l[3]};
    write_lines(mid, 3);
    expect_broken(3, "line 3: prev_sha256 does not match line 2 (edited or removed)");
    free_lines(l, n);
}
END_TEST

START_TEST(test_not_json_and_empty)
{
    size_t n = 0, lines = 9, bad = 9;
    rd_error err;
    append_n(2);
    char **l = read_lines(&n);
    char *bad_lines[3] = {l[0], (char *)"this is not json", l[1]};
    write_lines(bad_lines, 3);
    expect_broken(2, "line 2: not a json object");
    char *empty[3] = {l[0], (char *)"", l[1]};
    write_lines(empty, 3);
    expect_broken(2, "line 2: empty line");
    FILE *f = fopen(path, "w");
    fclose(f);
    ck_assert_int_eq(rd_history_verify(path, &lines, &bad, &err), RD_OK);
    ck_assert_uint_eq(lines, 0);
    free_lines(l, n);
}
END_TEST

START_TEST(test_missing_file)
{
    size_t lines = 0, bad = 0;
    rd_error err;
    ck_assert_int_eq(rd_history_verify("/nonexistent/h.jsonl", &lines, &bad, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_ptr_nonnull(strstr(err.msg, "cannot open /nonexistent/h.jsonl"));
}
END_TEST

START_TEST(test_series)
{
    rd_hist_sample *s = NULL;
    size_t n = 0;
    rd_error err;
    append_n(3);
    ck_assert_int_eq(rd_history_series(path, "orders", &s, &n, &err), RD_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(s[2].rto == 30 && s[2].rto_target == 60 && s[2].rpo == 43200);
    ck_assert_str_eq(s[1].drill_id, "d-2");
    ck_assert_int_eq(s[1].at_ms, FX_T0 + 86400000);
    ck_assert_int_eq(s[0].status, RD_FAILED);
    free(s);
    ck_assert_int_eq(rd_history_series(path, "billing \"eu\"\\x\nline", &s, &n, &err), RD_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert(s[0].rto < 0);
    ck_assert_int_eq(s[0].status, RD_PASSED);
    free(s);
    ck_assert_int_eq(rd_history_series(path, "nope", &s, &n, &err), RD_OK);
    ck_assert_uint_eq(n, 0);
    free(s);
}
END_TEST

Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("history");
    tcase_add_checked_fixture(tc, setup, fx_tmpdir_remove);
    tcase_add_test(tc, test_chain);
    tcase_add_test(tc, test_concurrent_appends);
    tcase_add_test(tc, test_append_waits_for_lock);
    tcase_add_test(tc, test_lock_file);
    tcase_add_test(tc, test_edited);
    tcase_add_test(tc, test_removed_and_reordered);
    tcase_add_test(tc, test_not_json_and_empty);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_series);
    suite_add_tcase(s, tc);
    return s;
}
