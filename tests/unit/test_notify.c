/* test_notify.c: the webhook against a tiny HTTP server on 127.0.0.1 run in
 * a forked child: the POST itself, a server that never answers (timeout
 * honoured), a refused connection, a redirect that is not followed. Errors
 * are logged with the URL reduced to scheme://host:port. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report_fixture.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"

Suite *notify_suite(void);

typedef enum mode { ANSWER_200, HANG, REDIRECT } mode;

static char dir[64], req_path[128], log_path[128];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/rd-notify-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(req_path, sizeof req_path, "%s/request", dir);
    snprintf(log_path, sizeof log_path, "%s/stderr", dir);
}

static void teardown(void)
{
    unlink(req_path);
    unlink(log_path);
    rmdir(dir);
}

/* Listen on 127.0.0.1 on a free port; returns the socket, port in *port. */
static int listen_any(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s, 4), 0);
    ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return s;
}

/* The server child: one connection, request saved to req_path. */
static pid_t serve(int s, mode m)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid > 0) {
        close(s);
        return pid;
    }
    int c = accept(s, NULL, NULL);
    char buf[65536];
    size_t got = 0;
    if (m == HANG) {
        sleep(30);
        _exit(0);
    }
    for (;;) { /* headers, then Content-Length bytes of body */
        ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "content-length:");
        if (end && cl && got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10))
            break;
    }
    FILE *f = fopen(req_path, "w");
    fwrite(buf, 1, got, f);
    fclose(f);
    const char *resp = m == ANSWER_200
                           ? "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                           : "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/steal\r\n"
                             "Content-Length: 0\r\nConnection: close\r\n\r\n";
    if (write(c, resp, strlen(resp)) < 0)
        _exit(1);
    close(c);
    _exit(0);
}

static void capture_stderr(void)
{
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
}

static char *slurp(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    rd_error err;
    if (rd_fs_read_file(path, 0, &text, &len, &err) != RD_OK)
        return rd_strdup("");
    return text;
}

static void send_to(int port, const char *on, double timeout)
{
    char url[256];
    snprintf(url, sizeof url,
             "http://hook:" FX_CANARY "@127.0.0.1:%d/hooks/" FX_CANARY "?token=" FX_CANARY, port);
    rd_notify_cfg cfg = {url, (char *)on, timeout};
    rd_report *r = fx_report();
    rd_notify_send(&cfg, r);
    rd_report_free(r);
}

START_TEST(test_post)
{
    int port;
    int s = listen_any(&port);
    pid_t pid = serve(s, ANSWER_200);
    capture_stderr();
    send_to(port, "failure", 5);
    int status;
    waitpid(pid, &status, 0);
    char *req = slurp(req_path);
    ck_assert_ptr_nonnull(
        strstr(req, "POST /hooks/" FX_CANARY "?token=" FX_CANARY " HTTP/1.1\r\n"));
    ck_assert_ptr_nonnull(strstr(req, "Content-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(
        req, "\r\n\r\n{\"drill\":\"d-0001\",\"name\":\"q<1> & \\\"dr\\\" 'x' ]]> \\u0001\\u001b "
             "end \xEF\xBF\xBD\xEF\xBF\xBD bad\",\"status\":\"failed\",\"targets\":[{\"name\":"
             "\"orders\",\"status\":\"failed\",\"error\":\"2 checks failed, 1 error (dsn host=db "
             "password=***\"},{\"name\":\"billing \\\"eu\\\"\\\\x\\nline\",\"status\":\"passed\","
             "\"error\":null}]}"));
    char *log = slurp(log_path);
    ck_assert_ptr_null(strstr(log, FX_CANARY));
    free(log);
    free(req);
}
END_TEST

START_TEST(test_hang_times_out)
{
    int port;
    int s = listen_any(&port);
    pid_t pid = serve(s, HANG);
    capture_stderr();
    send_to(port, "always", 1); /* returns after about 1s instead of 30 */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char *log = slurp(log_path);
    char want[128];
    snprintf(want, sizeof want,
             "warning: notify: post to http://127.0.0.1:%d failed: Timeout was reached\n", port);
    ck_assert_str_eq(log, want);
    free(log);
}
END_TEST

START_TEST(test_refused)
{
    int port;
    close(listen_any(&port)); /* nobody listens there any more */
    capture_stderr();
    send_to(port, "failure", 2);
    char *log = slurp(log_path);
    char want[128];
    snprintf(want, sizeof want,
             "warning: notify: post to http://127.0.0.1:%d failed: Couldn't connect to server\n",
             port);
    ck_assert_str_eq(log, want);
    free(log);
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    int port;
    int s = listen_any(&port);
    pid_t pid = serve(s, REDIRECT);
    capture_stderr();
    send_to(port, "failure", 5);
    waitpid(pid, NULL, 0);
    char *log = slurp(log_path);
    char want[128];
    snprintf(want, sizeof want,
             "warning: notify: post to http://127.0.0.1:%d failed: http status 302\n", port);
    ck_assert_str_eq(log, want);
    free(log);
}
END_TEST

START_TEST(test_when)
{
    rd_report *r = fx_report();
    rd_notify_cfg cfg = {(char *)"http://127.0.0.1:9/", NULL, 1};
    ck_assert_int_eq(rd_notify_wanted(&cfg, r), 1); /* default: on failure */
    cfg.on = (char *)"never";
    ck_assert_int_eq(rd_notify_wanted(&cfg, r), 0);
    r->status = RD_PASSED;
    cfg.on = (char *)"failure";
    ck_assert_int_eq(rd_notify_wanted(&cfg, r), 0);
    cfg.on = (char *)"always";
    ck_assert_int_eq(rd_notify_wanted(&cfg, r), 1);
    cfg.webhook = NULL;
    ck_assert_int_eq(rd_notify_wanted(&cfg, r), 0);
    rd_report_free(r);
}
END_TEST

Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("notify");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_post);
    tcase_add_test(tc, test_hang_times_out);
    tcase_add_test(tc, test_refused);
    tcase_add_test(tc, test_redirect_not_followed);
    tcase_add_test(tc, test_when);
    suite_add_tcase(s, tc);
    return s;
}
