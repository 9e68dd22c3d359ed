/* test_log.c: log levels and format, colour and progress rules, secret
 * redaction, thread safety. stderr is captured into a temp file. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/fs.h"
#include "restoredrill/log.h"

static char cap_path[64];
static int saved_fd = -1;

static void capture_start(void)
{
    snprintf(cap_path, sizeof cap_path, "/tmp/rd-log-XXXXXX");
    int fd = mkstemp(cap_path);
    ck_assert_int_ge(fd, 0);
    fflush(stderr);
    saved_fd = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* Stop capturing; returns what was written (caller frees). */
static char *capture_end(void)
{
    char *data = NULL;
    fflush(stderr);
    dup2(saved_fd, 2);
    close(saved_fd);
    ck_assert_int_eq(rd_fs_read_file(cap_path, 0, &data, NULL, NULL), RD_OK);
    unlink(cap_path);
    return data;
}

static void setup(void)
{
    unsetenv("NO_COLOR");
    setenv("TERM", "xterm", 1);
    rd_log_force_tty(0);
    rd_log_set_level(RD_LOG_INFO);
    rd_log_set_progress(1);
}

static void redacts(const char *in, const char *want)
{
    char out[512];
    ck_assert_str_eq(rd_redact(in, out, sizeof out), want);
}

START_TEST(test_redact)
{
    redacts("host=db user=app password=s3cr3t dbname=x", "host=db user=app password=*** dbname=x");
    redacts("password='a b\\'c' port=5432", "password=*** port=5432");
    redacts("postgresql://app:s3cr3t@db:5432/x?sslmode=require",
            "postgresql://app:***@db:5432/x?sslmode=require");
    redacts("postgresql://app@db/x", "postgresql://app@db/x");
    redacts("mariadb://u:p%40ss@h:3306/db?socket=/tmp/s",
            "mariadb://u:***@h:3306/db?socket=/tmp/s");
    redacts("postgres://db/x?user=a&password=xyz&sslmode=disable",
            "postgres://db/x?user=a&password=***&sslmode=disable");
    redacts(
        "GET "
        "https://s3.example/b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=abcdef&X-Amz-Expires=60 ok",
        "GET https://s3.example/b/k?X-Amz-Credential=AK%2F1&X-Amz-Signature=***&X-Amz-Expires=60 "
        "ok");
    redacts("Authorization: AWS4-HMAC-SHA256 Credential=AK/x, Signature=abc\nnext line",
            "Authorization: ***\nnext line");
    redacts("MYSQL_PWD=hunter2 PGPASSWORD=x AWS_SECRET_ACCESS_KEY=k AWS_SESSION_TOKEN=t",
            "MYSQL_PWD=*** PGPASSWORD=*** AWS_SECRET_ACCESS_KEY=*** AWS_SESSION_TOKEN=***");
    redacts("{\"password\": \"x y\", \"user\": \"u\"}", "{\"password\": \"***\", \"user\": \"u\"}");
    redacts("passed=3 pass=4 bypass=5 --password=x", "passed=3 pass=*** bypass=5 --password=***");
    redacts("nothing secret here: user=app", "nothing secret here: user=app");
    redacts("", "");
    char small[10];
    /* truncation never shows part of a secret */
    ck_assert_str_eq(rd_redact("password=secret", small, sizeof small), "password=");
    ck_assert_str_eq(rd_redact(NULL, small, sizeof small), "");
}
END_TEST

START_TEST(test_levels_and_format)
{
    capture_start();
    rd_log_error("cannot open %s", "/x");
    rd_log_warn("slow restore");
    rd_log_info("restored %d tables", 3);
    rd_log_debug("hidden at info");
    rd_log_set_level(RD_LOG_DEBUG);
    rd_log_debug("shown at debug\n");
    rd_log_set_level(RD_LOG_WARN);
    rd_log_info("hidden at warn");
    rd_log_warn("connecting with password=hunter2");
    char *got = capture_end();
    ck_assert_str_eq(got, "error: cannot open /x\n"
                          "warning: slow restore\n"
                          "restored 3 tables\n"
                          "debug: shown at debug\n"
                          "warning: connecting with password=***\n");
    ck_assert_int_eq(rd_log_get_level(), RD_LOG_WARN);
    free(got);
}
END_TEST

START_TEST(test_color_rules)
{
    rd_log_force_tty(0);
    ck_assert_int_eq(rd_log_is_tty(), 0);
    ck_assert_int_eq(rd_log_use_color(), 0);
    rd_log_force_tty(1);
    ck_assert_int_eq(rd_log_is_tty(), 1);
    ck_assert_int_eq(rd_log_use_color(), 1);
    capture_start();
    rd_log_error("boom");
    rd_log_info("plain");
    setenv("NO_COLOR", "1", 1);
    ck_assert_int_eq(rd_log_use_color(), 0);
    rd_log_error("boom");
    unsetenv("NO_COLOR");
    setenv("TERM", "dumb", 1);
    ck_assert_int_eq(rd_log_use_color(), 0);
    char *got = capture_end();
    ck_assert_str_eq(got, "\033[31merror:\033[0m boom\nplain\nerror: boom\n");
    free(got);
}
END_TEST

START_TEST(test_progress_plain)
{
    /* off a TTY: nothing until the operation has run for the interval (here
     * 0.5 s instead of 10 s), then at most one line per interval */
    rd_log_set_plain_progress_interval(0.5);
    capture_start();
    rd_progress("restoring %d%%", 10); /* the operation just started: not written */
    usleep(600000);
    rd_progress("restoring %d%%", 20); /* 0.6 s in: written */
    rd_progress("restoring %d%%", 30); /* within 0.5 s of the last line: dropped */
    rd_log_info("message");
    rd_progress_done();
    rd_progress("checking password=%s", "pw"); /* a new short operation: not written */
    usleep(600000);
    rd_progress("checking password=%s", "pw"); /* redacted */
    rd_log_set_progress(0);
    rd_progress("disabled");
    rd_log_set_progress(1);
    rd_log_set_level(RD_LOG_WARN); /* --quiet hides progress */
    rd_progress_done();
    rd_progress("quiet");
    usleep(600000);
    rd_progress("quiet");
    rd_log_set_plain_progress_interval(-1);
    char *got = capture_end();
    ck_assert_str_eq(got, "restoring 20%\nmessage\nchecking password=***\n");
    free(got);
}
END_TEST

START_TEST(test_progress_tty)
{
    setenv("NO_COLOR", "1", 1);
    rd_log_force_tty(1);
    capture_start();
    rd_progress("restoring %d%%", 10);
    rd_log_warn("slow"); /* erase, message, redraw the progress line */
    rd_progress_done();
    rd_progress_done();  /* nothing shown: no-op */
    rd_progress("a\nb"); /* only the first line */
    char *got = capture_end();
    ck_assert_str_eq(got, "\r\033[Krestoring 10%"
                          "\r\033[Kwarning: slow\nrestoring 10%"
                          "\r\033[K"
                          "\r\033[Ka");
    free(got);
}
END_TEST

static void *log_many(void *arg)
{
    long id = (long)arg;
    for (int i = 0; i < 200; i++)
        rd_log_info("thread %ld line %03d with some padding to make it longer", id, i);
    return NULL;
}

START_TEST(test_threads_do_not_interleave)
{
    capture_start();
    pthread_t th[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, log_many, (void *)i);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    char *got = capture_end();
    int lines = 0, seen[4] = {0};
    for (char *line = got; *line;) {
        char *nl = strchr(line, '\n');
        ck_assert_ptr_nonnull(nl);
        *nl = '\0';
        long id;
        int n;
        char tail[64];
        ck_assert_int_eq(sscanf(line, "thread %ld line %d %63[^\n]", &id, &n, tail), 3);
        ck_assert_str_eq(tail, "with some padding to make it longer");
        ck_assert_int_eq(n, seen[id]++); /* in order per thread */
        lines++;
        line = nl + 1;
    }
    ck_assert_int_eq(lines, 800);
    free(got);
}
END_TEST

Suite *log_suite(void);
Suite *log_suite(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_redact);
    tcase_add_test(tc, test_levels_and_format);
    tcase_add_test(tc, test_color_rules);
    tcase_add_test(tc, test_progress_plain);
    tcase_add_test(tc, test_progress_tty);
    tcase_add_test(tc, test_threads_do_not_interleave);
    suite_add_tcase(s, tc);
    return s;
}
