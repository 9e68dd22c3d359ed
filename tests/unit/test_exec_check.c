/* test_exec_check.c: the exec check (monitoring-plugins convention) with
 * small shell plugins written by the test. No database is needed: the
 * scratch instance is a stand-in that only carries an environment. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_fixture.h"
#include "restoredrill/check.h"
#include "restoredrill/fs.h"
#include "restoredrill/result.h"
#include "restoredrill/scratch.h"

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/rd-exec-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void remove_dir(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Write an executable script named name with body; returns its path. */
static const char *plugin(const char *name, const char *body, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    ck_assert_int_eq(chmod(path, 0755), 0);
    return path;
}

static char env_host[] = "PGHOST=/tmp/sock", env_db[] = "PGDATABASE=restored";
static char *env_entries[] = {env_host, env_db, NULL};
static const char *const tvars[] = {"scratch.url=postgresql://u@/restored?host=/tmp/sock",
                                    "target.name=orders", "point.id=p-1", NULL};

#define PATH "targets[0].checks[1]"

static const rd_check_result *run_plugin(fx_run *r, const char *json)
{
    fx_start(r, RD_ENGINE_PG, PATH, 30, json);
    r->scratch.env = env_entries;
    r->ctx.instance = &r->scratch;
    r->ctx.tvars = tvars;
    fx_run_check(r);
    ck_assert_uint_eq(r->t->nchecks, 1);
    return &r->t->checks[0];
}

static void check_one(const char *body, rd_verdict v, const char *msg, const char *actual)
{
    char path[512], json[1024];
    fx_run r;
    plugin("p", body, path, sizeof path);
    snprintf(json, sizeof json, "{\"type\": \"exec\", \"command\": [\"%s\"]}", path);
    const rd_check_result *c = run_plugin(&r, json);
    ck_assert_msg(c->status == v, "%s: %s", rd_verdict_name(c->status), c->message);
    ck_assert_str_eq(c->message, msg);
    ck_assert_str_eq(c->object, "p");
    ck_assert_str_eq(c->check, "exec");
    if (actual) {
        ck_assert_str_eq(c->expected, "exit 0 (OK)");
        ck_assert_str_eq(c->actual, actual);
    }
    fx_run_free(&r);
}

START_TEST(exit_codes)
{
    make_dir();
    check_one("echo 'ORDERS OK - 120 rows'; exit 0", RD_PASSED, "ORDERS OK - 120 rows",
              "exit 0 (OK)");
    check_one("echo 'ORDERS CRITICAL - 0 rows|rows=0'; exit 2", RD_FAILED,
              "ORDERS CRITICAL - 0 rows", "exit 2 (CRITICAL)");
    check_one("echo 'cannot tell'; exit 3", RD_ERROR, "unknown: cannot tell", "exit 3 (UNKNOWN)");
    check_one("echo 'odd'; exit 4", RD_ERROR, "plugin exited with status 4: odd",
              "exit 4 (invalid)");
    check_one("exit 0", RD_PASSED, "(no output)", "exit 0 (OK)");
    check_one("kill -9 $$", RD_ERROR, "plugin exited with status 137: (no output)",
              "exit 137 (invalid)");
    /* warning: passed, prefixed, flagged */
    char path[512], json[1024];
    fx_run r;
    plugin("w", "echo 'ORDERS WARNING - lag 2h | lag=7200s;3600;86400'; exit 1", path, sizeof path);
    snprintf(json, sizeof json, "{\"type\": \"exec\", \"name\": \"lag\", \"command\": [\"%s\"]}",
             path);
    const rd_check_result *c = run_plugin(&r, json);
    ck_assert_int_eq(c->status, RD_PASSED);
    ck_assert_str_eq(c->message, "warning: ORDERS WARNING - lag 2h");
    ck_assert_str_eq(c->object, "lag");
    ck_assert_str_eq(c->actual, "exit 1 (WARNING)");
    ck_assert_str_eq(fx_prop(c, "warning"), "true");
    ck_assert_str_eq(fx_prop(c, "lag"), "7200s");
    ck_assert_str_eq(fx_prop(c, "lag.warn"), "3600");
    ck_assert_str_eq(fx_prop(c, "lag.crit"), "86400");
    fx_run_free(&r);
    remove_dir();
}
END_TEST

START_TEST(perfdata_env_and_output)
{
    make_dir();
    char path[512], json[1024];
    fx_run r;
    plugin("perf",
           "echo \"OK - $PGHOST $PGDATABASE $RD_SCRATCH_URL $RD_TARGET_NAME $RD_POINT_ID $EXTRA "
           "$1|time=0.5s;1;2;0;10 'disk used'=75%;80;90 rows=42 'it''s'=1 bad\"\n"
           "echo 'second line | more=7;;;0'\necho 'on stderr' >&2",
           path, sizeof path);
    snprintf(json, sizeof json,
             "{\"type\": \"exec\", \"command\": [\"%s\", \"{target.name}\"], \"env\": {\"EXTRA\": "
             "\"x-{point.id}\"}}",
             path);
    const rd_check_result *c = run_plugin(&r, json);
    ck_assert_int_eq(c->status, RD_PASSED);
    ck_assert_str_eq(c->message, "OK - /tmp/sock restored postgresql://u@/restored?host=/tmp/sock "
                                 "orders p-1 x-p-1 orders");
    ck_assert_str_eq(fx_prop(c, "time"), "0.5s");
    ck_assert_str_eq(fx_prop(c, "time.warn"), "1");
    ck_assert_str_eq(fx_prop(c, "time.crit"), "2");
    ck_assert_str_eq(fx_prop(c, "time.min"), "0");
    ck_assert_str_eq(fx_prop(c, "time.max"), "10");
    ck_assert_str_eq(fx_prop(c, "disk used"), "75%");
    ck_assert_str_eq(fx_prop(c, "disk used.warn"), "80");
    ck_assert_str_eq(fx_prop(c, "disk used.crit"), "90");
    ck_assert_ptr_null(fx_prop(c, "disk used.min"));
    ck_assert_str_eq(fx_prop(c, "rows"), "42");
    ck_assert_str_eq(fx_prop(c, "it's"), "1");
    ck_assert_str_eq(fx_prop(c, "more"), "7");
    ck_assert_str_eq(fx_prop(c, "more.min"), "0");
    ck_assert_ptr_null(fx_prop(c, "bad"));
    ck_assert_ptr_nonnull(c->output);
    ck_assert_ptr_nonnull(strstr(c->output, "second line | more=7;;;0\n"));
    ck_assert_ptr_nonnull(strstr(c->output, "on stderr"));
    fx_run_free(&r);
    remove_dir();
}
END_TEST

START_TEST(cannot_run)
{
    make_dir();
    char path[512], json[1024];
    fx_run r;
    /* timeout: the plugin and its children are stopped, the result is an error */
    plugin("slow", "echo started; sleep 30", path, sizeof path);
    snprintf(json, sizeof json, "{\"type\": \"exec\", \"command\": [\"%s\"], \"timeout\": 1}",
             path);
    const rd_check_result *c = run_plugin(&r, json);
    ck_assert_int_eq(c->status, RD_ERROR);
    ck_assert_str_eq(c->message, "slow timed out after 1s");
    fx_run_free(&r);
    /* not executable */
    plugin("noexec", "exit 0", path, sizeof path);
    ck_assert_int_eq(chmod(path, 0644), 0);
    snprintf(json, sizeof json, "{\"type\": \"exec\", \"command\": [\"%s\"]}", path);
    c = run_plugin(&r, json);
    ck_assert_int_eq(c->status, RD_ERROR);
    char want[600];
    snprintf(want, sizeof want, "cannot run %s: Permission denied", path);
    ck_assert_str_eq(c->message, want);
    fx_run_free(&r);
    /* missing */
    c = run_plugin(&r, "{\"type\": \"exec\", \"command\": [\"/nonexistent/plugin\"]}");
    ck_assert_int_eq(c->status, RD_ERROR);
    ck_assert_str_eq(c->message, "cannot run /nonexistent/plugin: No such file or directory");
    fx_run_free(&r);
    /* an unknown template variable */
    c = run_plugin(&r, "{\"type\": \"exec\", \"command\": [\"true\", \"{scratch.nope}\"]}");
    ck_assert_int_eq(c->status, RD_ERROR);
    ck_assert_str_eq(c->object, "*");
    ck_assert_str_eq(c->message, "targets[0].checks[1]: unknown template variable {scratch.nope}");
    fx_run_free(&r);
    remove_dir();
}
END_TEST

START_TEST(config_errors)
{
    static const struct {
        const char *json, *msg;
    } cases[] = {
        {"{\"type\": \"exec\"}",
         "targets[0].checks[1].command: expected a non-empty array of strings, got nothing"},
        {"{\"type\": \"exec\", \"command\": []}",
         "targets[0].checks[1].command: expected a non-empty array of strings, got []"},
        {"{\"type\": \"exec\", \"command\": [\"x\"], \"env\": {\"A\": 1}}", NULL},
        {"{\"type\": \"exec\", \"command\": [\"x\"], \"args\": []}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        fx_config_error(RD_ENGINE_PG, PATH, cases[i].json, cases[i].msg, PATH ".");
}
END_TEST

Suite *exec_check_suite(void);
Suite *exec_check_suite(void)
{
    Suite *s = suite_create("exec_check");
    TCase *tc = tcase_create("exec");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, exit_codes);
    tcase_add_test(tc, perfdata_env_and_output);
    tcase_add_test(tc, cannot_run);
    tcase_add_test(tc, config_errors);
    suite_add_tcase(s, tc);
    return s;
}
