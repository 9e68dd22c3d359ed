/* test_smoke.c: the smoke check against a tiny HTTP application (a python3
 * script written by the test and started through app.command). No database
 * is needed; the test skips when python3 is absent. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check_fixture.h"
#include "restoredrill/check.h"
#include "restoredrill/proc.h"
#include "restoredrill/result.h"
#include "restoredrill/strbuf.h"

static const char app_py[] =
    "import http.server, json, os, subprocess, sys, time\n"
    "port, mode, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]\n"
    "child = subprocess.Popen(['sleep', '60'])\n"
    "with open(pidfile, 'w') as f:\n"
    "    f.write('%d %d\\n' % (os.getpid(), child.pid))\n"
    "print('app starting on', port, flush=True)\n"
    "sys.stderr.write('db=%s\\n' % os.environ.get('DATABASE_URL', ''))\n"
    "sys.stderr.flush()\n"
    "if mode == 'exit':\n"
    "    sys.stderr.write('boom: cannot connect\\n')\n"
    "    sys.exit(3)\n"
    "if mode == 'never':\n"
    "    time.sleep(60)\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def reply(self, code, body):\n"
    "        self.send_response(code)\n"
    "        self.send_header('Content-Type', 'application/json')\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def do_GET(self):\n"
    "        path = self.path.split('?')[0]\n"
    "        if path == '/health':\n"
    "            doc = {'status': 'ok', 'db': os.environ.get('DATABASE_URL'),\n"
    "                   'data': {'items': [{'name': 'widget', 'n': 3, 'ok': True}]}}\n"
    "            self.reply(200, json.dumps(doc).encode())\n"
    "        elif path == '/fail':\n"
    "            self.reply(500, b'internal error')\n"
    "        elif path == '/slow':\n"
    "            time.sleep(0.6)\n"
    "            self.reply(200, b'{}')\n"
    "        elif path == '/header':\n"
    "            self.reply(200, (self.headers.get('X-Probe') or '-').encode())\n"
    "        else:\n"
    "            self.reply(404, b'not found')\n"
    "    def do_POST(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        self.reply(201, b'got ' + self.rfile.read(n))\n"
    "http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()\n";

static char dir[256];
static int port;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* 0 when python3 is absent (the test is skipped). */
static int setup_app(void)
{
    char *py = rd_proc_which("python3", NULL);
    if (!py) {
        printf("skipping smoke tests: python3 not found\n");
        return 0;
    }
    free(py);
    snprintf(dir, sizeof dir, "/tmp/rd-smoke-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/app.py", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(app_py, f);
    fclose(f);
    port = free_port();
    return 1;
}

static void remove_dir(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

#define PATH "targets[0].checks[3]"

/* {test.dir} and {test.port} in json are template variables. */
static void run_smoke(fx_run *r, const char *json)
{
    char buf[600];
    rd_error err = {0};
    fx_start(r, RD_ENGINE_PG, PATH, 60, json);
    snprintf(buf, sizeof buf, "test.dir=%s", dir);
    ck_assert_int_eq(rd_strlist_push(&r->vars, buf, &err), RD_OK);
    snprintf(buf, sizeof buf, "test.port=%d", port);
    ck_assert_int_eq(rd_strlist_push(&r->vars, buf, &err), RD_OK);
    ck_assert_int_eq(
        rd_strlist_push(&r->vars, "scratch.url=postgresql://app:s3cret@/db?host=/tmp", &err),
        RD_OK);
    r->tvars = rd_strlist_argv(&r->vars);
    r->ctx.tvars = r->tvars;
    fx_run_check(r);
}

static const rd_check_result *result(const fx_run *r, const char *path)
{
    char obj[256];
    snprintf(obj, sizeof obj, "GET http://127.0.0.1:%d%s", port, path);
    return fx_result(r, obj);
}

static int gone(long pid)
{
    for (int i = 0; i < 300; i++) {
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
            return 1;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (f) {
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = '\0';
            const char *rp = strrchr(buf, ')');
            if (rp && rp[1] == ' ' && rp[2] == 'Z')
                return 1;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* The app and its child (same process group) no longer run. */
static void assert_app_gone(void)
{
    char path[512];
    long app = 0, child = 0;
    snprintf(path, sizeof path, "%s/pids", dir);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "the app never wrote %s", path);
    ck_assert_int_eq(fscanf(f, "%ld %ld", &app, &child), 2);
    fclose(f);
    ck_assert_msg(gone(app), "app %ld still runs", app);
    ck_assert_msg(gone(child), "app child %ld still runs", child);
}

#define APP(mode)                                                                                  \
    "\"app\": {\"command\": [\"python3\", \"{test.dir}/app.py\", \"{test.port}\", \"" mode "\", "  \
    "\"{test.dir}/pids\"], \"env\": {\"DATABASE_URL\": \"{scratch.url}\"}}"

START_TEST(probes_pass_and_fail)
{
    if (!setup_app())
        return;
    char fmt[4096];
    snprintf(
        fmt, sizeof fmt, "%s",
        "{\"type\": \"smoke\", " APP(
            "ok") ", \"ready_timeout\": \"20s\", \"probes\": ["
                  "{\"url\": \"http://127.0.0.1:{test.port}/health\", \"expect_status\": 200, "
                  "\"expect_body\": \"\\\"status\\\": \\\"ok\\\"\", \"expect_body_regex\": "
                  "\"^\\\\{.*widget\", \"expect_json\": [\"data.items[0].name=widget\", "
                  "\"data.items[0].n=3\", \"data.items[0].ok=true\", "
                  "\"db=postgresql://app:s3cret@/db?host=/tmp\"], \"max_latency\": \"10s\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/fail\", \"retries\": 2, "
                  "\"retry_delay\": "
                  "\"50ms\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/health?json\", \"expect_json\": "
                  "\"data.items[0].name=gadget\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/health?body\", \"expect_body\": "
                  "\"nope\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/health?regex\", \"expect_body_regex\": "
                  "\"^x\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/health?path\", \"expect_json\": "
                  "\"data.items[3].name=x\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/missing\", \"expect_status\": 404},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/header\", \"headers\": {\"X-Probe\": "
                  "\"yes\"}, "
                  "\"expect_body\": \"yes\"},"
                  "{\"method\": \"POST\", \"url\": \"http://127.0.0.1:{test.port}/post\", "
                  "\"body\": "
                  "\"hello\", \"expect_status\": 201, \"expect_body\": \"got hello\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/slow\", \"max_latency\": \"100ms\"},"
                  "{\"url\": \"http://127.0.0.1:{test.port}/slow?t\", \"timeout\": \"200ms\"}]}");
    fx_run r;
    run_smoke(&r, fmt);
    ck_assert_uint_eq(r.t->nchecks, 11);
    const rd_check_result *c = result(&r, "/health");
    ck_assert_msg(c->status == RD_PASSED, "%s", c->message);
    ck_assert_msg(strncmp(c->message, "HTTP 200 in ", 12) == 0 && strstr(c->message, "ms"), "%s",
                  c->message);
    ck_assert_ptr_nonnull(fx_prop(c, "latency_ms"));
    ck_assert_str_eq(fx_prop(c, "attempts"), "1");
    ck_assert_str_eq(fx_prop(c, "http_status"), "200");
    ck_assert_str_eq(c->check, "smoke");
    /* the app's output, with the password masked */
    ck_assert_ptr_nonnull(c->output);
    ck_assert_ptr_nonnull(strstr(c->output, "app starting on"));
    ck_assert_ptr_nonnull(strstr(c->output, "db=postgresql://app:***@/db?host=/tmp"));
    ck_assert_ptr_null(strstr(c->output, "s3cret"));

    c = result(&r, "/fail");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_str_eq(c->message, "HTTP 500, expected 200 (after retries)");
    ck_assert_str_eq(c->expected, "HTTP 200");
    ck_assert_str_eq(c->actual, "HTTP 500");
    ck_assert_str_eq(fx_prop(c, "attempts"), "3");
    c = result(&r, "/health?json");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_str_eq(c->message, "data.items[0].name is \"widget\", expected \"gadget\"");
    ck_assert_str_eq(c->expected, "data.items[0].name=gadget");
    ck_assert_str_eq(c->actual, "data.items[0].name=widget");
    c = result(&r, "/health?body");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_str_eq(c->message, "body does not contain \"nope\"");
    c = result(&r, "/health?regex");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_str_eq(c->message, "body does not match /^x/");
    c = result(&r, "/health?path");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_str_eq(c->message, "body has no data.items[3].name");
    c = result(&r, "/missing");
    ck_assert_msg(c->status == RD_PASSED, "%s", c->message);
    c = result(&r, "/header");
    ck_assert_msg(c->status == RD_PASSED, "%s", c->message);
    char obj[128];
    snprintf(obj, sizeof obj, "POST http://127.0.0.1:%d/post", port);
    ck_assert_str_eq(r.t->checks[8].object, obj);
    ck_assert_msg(r.t->checks[8].status == RD_PASSED, "%s", r.t->checks[8].message);
    c = result(&r, "/slow");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_msg(strncmp(c->message, "latency ", 8) == 0 &&
                      strstr(c->message, " exceeds max_latency 100ms") != NULL,
                  "%s", c->message);
    ck_assert_str_eq(c->expected, "latency <= 100ms");
    c = result(&r, "/slow?t");
    ck_assert_int_eq(c->status, RD_FAILED);
    char want[256];
    snprintf(want, sizeof want, "GET http://127.0.0.1:%d/slow?t: Operation timed out", port);
    ck_assert_msg(strncmp(c->message, want, strlen(want)) == 0, "%s", c->message);
    ck_assert_str_eq(c->actual, "no response");
    fx_run_free(&r);
    assert_app_gone();
    remove_dir();
}
END_TEST

START_TEST(app_never_ready_or_exits)
{
    if (!setup_app())
        return;
    char fmt[2048];
    fx_run r;
    /* never listens: every probe fails once ready_timeout has passed */
    snprintf(
        fmt, sizeof fmt, "%s",
        "{\"type\": \"smoke\", " APP("never") ", \"ready_timeout\": 4, \"probes\": [{\"url\": "
                                              "\"http://127.0.0.1:{test.port}/health\"}, {\"url\": "
                                              "\"http://127.0.0.1:{test.port}/fail\"}]}");
    run_smoke(&r, fmt);
    ck_assert_uint_eq(r.t->nchecks, 2);
    const rd_check_result *c = result(&r, "/health");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_msg(strncmp(c->message, "the application was not ready within 4s (last: ", 47) == 0,
                  "%s", c->message);
    ck_assert_int_eq(result(&r, "/fail")->status, RD_FAILED);
    /* the app prints this at once; 4s leave a loaded machine time to start python */
    ck_assert_ptr_nonnull(c->output);
    ck_assert_ptr_nonnull(strstr(c->output, "app starting on"));
    fx_run_free(&r);
    assert_app_gone();

    /* exits before it is ready: failed with its output */
    snprintf(fmt, sizeof fmt, "%s",
             "{\"type\": \"smoke\", " APP("exit") ", \"probes\": [{\"url\": "
                                                  "\"http://127.0.0.1:{test.port}/health\"}]}");
    run_smoke(&r, fmt);
    ck_assert_uint_eq(r.t->nchecks, 1);
    c = result(&r, "/health");
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_str_eq(c->message, "the application exited with status 3 before it was ready");
    ck_assert_ptr_nonnull(c->output);
    ck_assert_ptr_nonnull(strstr(c->output, "boom: cannot connect"));
    fx_run_free(&r);
    assert_app_gone();

    /* cannot start at all: error, not failed */
    run_smoke(&r, "{\"type\": \"smoke\", \"app\": {\"command\": [\"/nonexistent/app\"]}, "
                  "\"probes\": [{\"url\": \"http://127.0.0.1:{test.port}/health\"}]}");
    c = result(&r, "/health");
    ck_assert_int_eq(c->status, RD_ERROR);
    ck_assert_str_eq(c->message, "app: cannot run /nonexistent/app: No such file or directory");
    fx_run_free(&r);

    /* no app and nothing listening: the probe fails, userinfo never shown */
    run_smoke(&r, "{\"type\": \"smoke\", \"probes\": [{\"url\": "
                  "\"http://user:pw@127.0.0.1:{test.port}/x\", \"timeout\": 2}]}");
    ck_assert_uint_eq(r.t->nchecks, 1);
    c = &r.t->checks[0];
    char obj[128];
    snprintf(obj, sizeof obj, "GET http://user:***@127.0.0.1:%d/x", port);
    ck_assert_str_eq(c->object, obj);
    ck_assert_int_eq(c->status, RD_FAILED);
    ck_assert_ptr_null(strstr(c->message, ":pw@"));
    fx_run_free(&r);
    remove_dir();
}
END_TEST

START_TEST(config_errors)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"type\": \"smoke\"}",
         "targets[0].checks[3].probes: expected a non-empty array of objects, got nothing"},
        {"{\"type\": \"smoke\", \"probes\": [5]}",
         "targets[0].checks[3].probes[0]: expected an object, got 5"},
        {"{\"type\": \"smoke\", \"probes\": [{}]}",
         "targets[0].checks[3].probes[0].url: required key is missing"},
        {"{\"type\": \"smoke\", \"probes\": [{\"url\": \"http://x\", \"method\": \"get\"}]}",
         "targets[0].checks[3].probes[0].method: expected an HTTP method like \"GET\", got "
         "\"get\""},
        {"{\"type\": \"smoke\", \"probes\": [{\"url\": \"http://x\", \"expect_json\": \"a.b\"}]}",
         "targets[0].checks[3].probes[0].expect_json: expected \"path=value\" like "
         "\"data.items[0].name=x\", got \"a.b\""},
        {"{\"type\": \"smoke\", \"probes\": [{\"url\": \"http://x\", \"expect_body_regex\": "
         "\"(\"}]}",
         NULL},
        {"{\"type\": \"smoke\", \"app\": {\"command\": []}, \"probes\": [{\"url\": \"http://x\"}]}",
         "targets[0].checks[3].app.command: expected a non-empty array of strings, got []"},
        {"{\"type\": \"smoke\", \"app\": {\"cmd\": [\"x\"]}, \"probes\": [{\"url\": "
         "\"http://x\"}]}",
         NULL},
        {"{\"type\": \"smoke\", \"probes\": [{\"url\": \"http://x\", \"expect_status\": 999}]}",
         NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fx_config_error(RD_ENGINE_PG, PATH, cases[i].json, cases[i].msg, PATH ".");
}
END_TEST

Suite *smoke_suite(void);
Suite *smoke_suite(void)
{
    Suite *s = suite_create("smoke");
    TCase *tc = tcase_create("smoke");
    tcase_set_timeout(tc, 90);
    tcase_add_test(tc, probes_pass_and_fail);
    tcase_add_test(tc, app_never_ready_or_exits);
    tcase_add_test(tc, config_errors);
    suite_add_tcase(s, tc);
    return s;
}
