/* smoke.c: the application starts on the restored database and answers.
 *
 *   { "type": "smoke",
 *     "app": { "command": ["./app", "--port", "18080"],       optional; templated argv
 *              "env": { "DATABASE_URL": "{scratch.url}" },  templated
 *              "cwd": "/srv/app" },
 *     "ready_url": "http://127.0.0.1:18080/health",  default: the first probe's URL
 *     "ready_timeout": "30s",
 *     "probes": [ { "method": "GET", "url": "http://127.0.0.1:18080/health",
 *                   "headers": {"Accept": "application/json"}, "body": "...",
 *                   "expect_status": 200, "expect_body": "ok",
 *                   "expect_body_regex": "^\\{", "expect_json": "data.items[0].name=widget",
 *                   "max_latency": "500ms", "retries": 2, "retry_delay": "1s",
 *                   "timeout": "10s" } ] }
 *
 * With an app, it is started in its own process group (stdout and stderr
 * captured, the last 64 KiB go into every result's output) and polled until
 * the ready URL answers 2xx (or the first probe's expect_status) within
 * ready_timeout; an app that exits first or never gets ready fails every
 * probe. Each probe is one result, object "METHOD URL" (secrets redacted),
 * latency and attempts in its properties. The app's whole process group is
 * always stopped afterwards. The drill asks the scratch instance for TCP
 * when a target has a smoke check. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "smoke_int.h"

#define SMOKE_OUTPUT_TAIL ((size_t)64 * 1024)
#define SMOKE_BODY_MAX ((size_t)1024 * 1024)

typedef struct probe {
    char *method, *url, *body;
    rd_strlist headers; /* "Name: value" */
    long long expect_status;
    char *expect_body;
    char *regex_text;
    regex_t regex;
    int has_regex;
    rd_strlist expect_json; /* "path=value" */
    double max_latency;     /* < 0: none */
    long long retries;
    double retry_delay;
    double timeout;
} probe;

typedef struct smoke_state {
    int has_app;
    rd_strlist app_cmd, app_env;
    char *app_cwd;
    char *ready_url;
    double ready_timeout;
    probe *probes;
    size_t nprobes;
} smoke_state;

static void smoke_free(void *p)
{
    smoke_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->app_cmd);
    rd_strlist_free(&s->app_env);
    free(s->app_cwd);
    free(s->ready_url);
    for (size_t i = 0; i < s->nprobes; i++) {
        probe *pr = &s->probes[i];
        free(pr->method);
        free(pr->url);
        free(pr->body);
        rd_strlist_free(&pr->headers);
        free(pr->expect_body);
        free(pr->regex_text);
        if (pr->has_regex)
            regfree(&pr->regex);
        rd_strlist_free(&pr->expect_json);
    }
    free(s->probes);
    free(s);
}

static rd_status configure_app(const cJSON *app, const char *path, smoke_state *s, rd_error *err)
{
    static const char *const keys[] = {"command", "env", "cwd", NULL};
    char ap[256];
    rd_status st;
    snprintf(ap, sizeof ap, "%s.app", path);
    if ((st = rd_cfg_check_keys(app, ap, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(app, ap, "command", 0, &s->app_cmd, err)) != RD_OK ||
        (st = rd_cfg_strmap(app, ap, "env", &s->app_env, err)) != RD_OK ||
        (st = rd_cfg_string(app, ap, "cwd", 0, &s->app_cwd, err)) != RD_OK)
        return st;
    if (s->app_cmd.n == 0 || !s->app_cmd.items[0][0]) {
        char got[96];
        return RD_ERR(
            err, RD_ERR_CONFIG, "%s.command: expected a non-empty array of strings, got %s", ap,
            rd_cfg_got(cJSON_GetObjectItemCaseSensitive(app, "command"), got, sizeof got));
    }
    s->has_app = 1;
    return RD_OK;
}

static rd_status configure_probe(const cJSON *o, const char *pp, probe *pr, rd_error *err)
{
    static const char *const keys[] = {"method",
                                       "url",
                                       "headers",
                                       "body",
                                       "expect_status",
                                       "expect_body",
                                       "expect_body_regex",
                                       "expect_json",
                                       "max_latency",
                                       "retries",
                                       "retry_delay",
                                       "timeout",
                                       NULL};
    rd_strlist hdr = {0};
    rd_status st;
    char got[96];
    pr->expect_status = 200;
    pr->max_latency = -1;
    pr->retry_delay = 1;
    pr->timeout = 10;
    if (!cJSON_IsObject(o))
        return RD_ERR(err, RD_ERR_CONFIG, "%s: expected an object, got %s", pp,
                      rd_cfg_got(o, got, sizeof got));
    if ((st = rd_cfg_check_keys(o, pp, keys, err)) != RD_OK ||
        (st = rd_cfg_string(o, pp, "method", 0, &pr->method, err)) != RD_OK ||
        (st = rd_cfg_string(o, pp, "url", 1, &pr->url, err)) != RD_OK ||
        (st = rd_cfg_strmap(o, pp, "headers", &hdr, err)) != RD_OK ||
        (st = rd_cfg_string(o, pp, "body", 0, &pr->body, err)) != RD_OK ||
        (st = rd_cfg_int(o, pp, "expect_status", 100, 599, &pr->expect_status, err)) != RD_OK ||
        (st = rd_cfg_string(o, pp, "expect_body", 0, &pr->expect_body, err)) != RD_OK ||
        (st = rd_cfg_string(o, pp, "expect_body_regex", 0, &pr->regex_text, err)) != RD_OK ||
        (st = rd_cfg_strlist(o, pp, "expect_json", 1, &pr->expect_json, err)) != RD_OK ||
        (st = rd_cfg_duration(o, pp, "max_latency", &pr->max_latency, err)) != RD_OK ||
        (st = rd_cfg_int(o, pp, "retries", 0, 1000, &pr->retries, err)) != RD_OK ||
        (st = rd_cfg_duration(o, pp, "retry_delay", &pr->retry_delay, err)) != RD_OK ||
        (st = rd_cfg_duration(o, pp, "timeout", &pr->timeout, err)) != RD_OK)
        goto out;
    if (!pr->method && !(pr->method = rd_strdup(pr->body ? "POST" : "GET"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (const char *m = pr->method; *m; m++)
        if (!isupper((unsigned char)*m)) {
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.method: expected an HTTP method like \"GET\", got \"%.40s\"", pp,
                        pr->method);
            goto out;
        }
    if (!pr->method[0] || !pr->url[0]) {
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.%s: expected a non-empty string, got \"\"", pp,
                    pr->method[0] ? "url" : "method");
        goto out;
    }
    for (size_t i = 0; i < hdr.n; i++) {
        char *eq = strchr(hdr.items[i], '=');
        char *h =
            eq ? rd_asprintf("%.*s: %s", (int)(eq - hdr.items[i]), hdr.items[i], eq + 1) : NULL;
        st = h ? rd_strlist_push(&pr->headers, h, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(h);
        if (st != RD_OK)
            goto out;
    }
    if (pr->regex_text) {
        int rc = regcomp(&pr->regex, pr->regex_text, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char msg[128];
            regerror(rc, &pr->regex, msg, sizeof msg);
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.expect_body_regex: %s, got \"%.80s\"", pp, msg,
                        pr->regex_text);
            goto out;
        }
        pr->has_regex = 1;
    }
    for (size_t i = 0; i < pr->expect_json.n; i++) {
        const char *e = pr->expect_json.items[i];
        if (!strchr(e, '=') || e[0] == '=') {
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.expect_json: expected \"path=value\" like \"data.items[0].name=x\", "
                        "got \"%.80s\"",
                        pp, e);
            goto out;
        }
    }
out:
    rd_strlist_free(&hdr);
    return st;
}

static rd_status smoke_configure(const cJSON *params, const char *path, rd_engine engine,
                                 void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "app",    "ready_url",
                                       "ready_timeout",      "probes", NULL};
    (void)engine;
    rd_status st;
    const cJSON *app = NULL;
    char got[96];
    smoke_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->ready_timeout = 30;
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_object(params, path, "app", 0, &app, err)) != RD_OK ||
        (app && (st = configure_app(app, path, s, err)) != RD_OK) ||
        (st = rd_cfg_string(params, path, "ready_url", 0, &s->ready_url, err)) != RD_OK ||
        (st = rd_cfg_duration(params, path, "ready_timeout", &s->ready_timeout, err)) != RD_OK)
        goto out;
    const cJSON *probes = cJSON_GetObjectItemCaseSensitive(params, "probes");
    if (!cJSON_IsArray(probes) || cJSON_GetArraySize(probes) == 0) {
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.probes: expected a non-empty array of objects, got %s",
                    path, rd_cfg_got(probes, got, sizeof got));
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(probes);
    if (!(s->probes = calloc(n, sizeof *s->probes))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (const cJSON *o = probes->child; o; o = o->next) {
        char pp[256];
        snprintf(pp, sizeof pp, "%s.probes[%zu]", path, s->nprobes);
        st = configure_probe(o, pp, &s->probes[s->nprobes++], err);
        if (st != RD_OK)
            goto out;
    }
out:
    if (st == RD_OK)
        *state = s;
    else
        smoke_free(s);
    return st;
}

/* ---------- probes ---------- */

/* Follow "data.items[0].name" from root; NULL when absent. */
static const cJSON *json_at(const cJSON *root, const char *path, size_t len)
{
    const cJSON *cur = root;
    const char *p = path, *end = path + len;
    while (cur && p < end) {
        if (*p == '.') {
            p++;
            continue;
        }
        if (*p == '[') {
            char *stop = NULL;
            errno = 0;
            long long i = strtoll(p + 1, &stop, 10);
            if (errno || stop == p + 1 || stop >= end || *stop != ']' || i < 0 ||
                !cJSON_IsArray(cur))
                return NULL;
            cur = cJSON_GetArrayItem(cur, (int)i);
            p = stop + 1;
            continue;
        }
        const char *q = p;
        while (q < end && *q != '.' && *q != '[')
            q++;
        if (!cJSON_IsObject(cur))
            return NULL;
        const cJSON *next = NULL;
        for (const cJSON *c = cur->child; c; c = c->next)
            if (c->string && strlen(c->string) == (size_t)(q - p) &&
                memcmp(c->string, p, (size_t)(q - p)) == 0) {
                next = c;
                break;
            }
        cur = next;
        p = q;
    }
    return cur;
}

/* Checks one response against the probe; NULL when it passes, else a heap
 * message, with expected/actual in the buffers. */
static char *judge(const probe *pr, long status, const rd_strbuf *body, double latency,
                   char *expected, char *actual, size_t n)
{
    char lat[64], max[64];
    if (status != pr->expect_status) {
        snprintf(expected, n, "HTTP %lld", pr->expect_status);
        snprintf(actual, n, "HTTP %ld", status);
        return rd_asprintf("HTTP %ld, expected %lld", status, pr->expect_status);
    }
    if (pr->expect_body && !strstr(body->data, pr->expect_body)) {
        snprintf(expected, n, "body contains \"%.200s\"", pr->expect_body);
        snprintf(actual, n, "%.200s", body->data);
        return rd_asprintf("body does not contain \"%.200s\"", pr->expect_body);
    }
    if (pr->has_regex && regexec(&pr->regex, body->data, 0, NULL, 0) != 0) {
        snprintf(expected, n, "body matches /%.200s/", pr->regex_text);
        snprintf(actual, n, "%.200s", body->data);
        return rd_asprintf("body does not match /%.200s/", pr->regex_text);
    }
    if (pr->expect_json.n > 0) {
        cJSON *doc = cJSON_ParseWithLength(body->data, body->len);
        char *msg = NULL;
        for (size_t i = 0; i < pr->expect_json.n && !msg; i++) {
            const char *e = pr->expect_json.items[i], *eq = strchr(e, '=');
            size_t plen = (size_t)(eq - e);
            snprintf(expected, n, "%s", e);
            if (!doc) {
                snprintf(actual, n, "%.200s", body->data);
                msg = rd_asprintf("body is not JSON");
                break;
            }
            const cJSON *v = json_at(doc, e, plen);
            if (!v) {
                snprintf(actual, n, "no %.*s", (int)plen, e);
                msg = rd_asprintf("body has no %.*s", (int)plen, e);
                break;
            }
            char *text = cJSON_IsString(v) ? rd_strdup(v->valuestring) : cJSON_PrintUnformatted(v);
            if (text && strcmp(text, eq + 1) != 0) {
                snprintf(actual, n, "%.*s=%.200s", (int)plen, e, text);
                msg = rd_asprintf("%.*s is \"%.200s\", expected \"%.200s\"", (int)plen, e, text,
                                  eq + 1);
            }
            free(text);
        }
        cJSON_Delete(doc);
        if (msg)
            return msg;
    }
    if (pr->max_latency >= 0 && latency > pr->max_latency) {
        rd_duration_human(latency, lat, sizeof lat);
        rd_duration_format(pr->max_latency, max, sizeof max);
        snprintf(expected, n, "latency <= %s", max);
        snprintf(actual, n, "latency %s", lat);
        return rd_asprintf("latency %s exceeds max_latency %s", lat, max);
    }
    return NULL;
}

static void nap(double secs)
{
    while (secs > 0 && !rd_abort_requested()) {
        double step = secs < 0.05 ? secs : 0.05;
        struct timespec ts = {(time_t)step, (long)((step - (double)(time_t)step) * 1e9)};
        nanosleep(&ts, NULL);
        secs -= step;
    }
}

/* Run one probe (with its retries) and record its result. */
static void run_probe(rd_check_ctx *ctx, const probe *pr, const char *url, const char *obj)
{
    rd_strbuf body;
    char expected[512] = "", actual[512] = "";
    char *fail = NULL;
    long status = 0;
    double latency = 0, t0 = rd_mono_now();
    long long attempt = 0;
    const char **hv = rd_strlist_argv(&pr->headers);
    rd_strbuf_init(&body, SMOKE_BODY_MAX);
    for (;; attempt++) {
        rd_error err = {0};
        double left = ctx->deadline > 0 ? ctx->deadline - rd_mono_now() : pr->timeout;
        double to = left < pr->timeout ? left : pr->timeout;
        free(fail);
        fail = NULL;
        status = 0;
        if (to <= 0 || rd_smoke_http(pr->method, url, hv, pr->body, to, &status, &body, &latency,
                                     &err) != RD_OK) {
            fail = rd_strdup(to <= 0 ? "the check's deadline passed" : err.msg);
            snprintf(expected, sizeof expected, "HTTP %lld", pr->expect_status);
            snprintf(actual, sizeof actual, "no response");
        } else {
            fail = judge(pr, status, &body, latency, expected, actual, sizeof expected);
        }
        if (!fail || attempt >= pr->retries || rd_abort_requested())
            break;
        nap(pr->retry_delay);
    }
    double secs = rd_mono_now() - t0;
    rd_check_result *c;
    if (fail)
        c = rd_check_record(ctx, obj, RD_FAILED, secs, "%s%s", fail,
                            attempt > 0 ? " (after retries)" : "");
    else
        c = rd_check_record(ctx, obj, RD_PASSED, secs, "HTTP %ld in %.1fms", status,
                            latency * 1000.0);
    if (c) {
        if (fail) {
            rd_check_set_expected(c, "%s", expected);
            rd_check_set_actual(c, "%s", actual);
        }
        rd_check_add_prop(c, "latency_ms", "%.1f", latency * 1000.0);
        rd_check_add_prop(c, "attempts", "%lld", attempt + 1);
        if (status)
            rd_check_add_prop(c, "http_status", "%ld", status);
    }
    free(fail);
    free((void *)hv);
    rd_strbuf_free(&body);
}

/* ---------- the application ---------- */

typedef struct app {
    rd_proc *proc;
    FILE *out; /* stdout + stderr of the app (an unlinked temp file) */
    char *name;
} app;

/* 1 and *code when the app has exited (it stays a zombie for rd_proc). */
static int app_exited(const app *a, int *code)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)rd_proc_pid(a->proc), &si, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        si.si_pid != rd_proc_pid(a->proc))
        return 0;
    *code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
    return 1;
}

static rd_status app_start(rd_check_ctx *ctx, const smoke_state *s, app *a, rd_error *err)
{
    rd_strlist argv = {0}, env = {0};
    const char **av = NULL, **ev = NULL;
    char *x = NULL;
    rd_status st = RD_OK;
    if (ctx->target && ctx->target->engine == RD_ENGINE_DYNAMODB && ctx->instance)
        st = rd_check_dyn_app_env(ctx, &s->app_env, &env, err);
    for (size_t i = 0; st == RD_OK && i < s->app_cmd.n; i++) {
        if ((st = rd_template_expand(s->app_cmd.items[i], ctx->tvars, &x, err)) == RD_OK)
            st = rd_strlist_push(&argv, x, err);
        free(x);
        x = NULL;
    }
    for (size_t i = 0; st == RD_OK && i < s->app_env.n; i++) {
        if ((st = rd_template_expand(s->app_env.items[i], ctx->tvars, &x, err)) == RD_OK)
            st = rd_strlist_push(&env, x, err);
        free(x);
        x = NULL;
    }
    if (st != RD_OK) {
        rd_error_prefix(err, "app: ");
        goto out;
    }
    if (!(av = rd_strlist_argv(&argv)) || !(ev = rd_strlist_argv(&env)) ||
        !(a->name = rd_strdup(argv.items[0]))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!(a->out = tmpfile())) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a temporary file for the app's output");
        goto out;
    }
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = av;
    spec.env = ev;
    spec.cwd = s->app_cwd;
    spec.stdout_mode = RD_PROC_IO_FD;
    spec.stdout_fd = fileno(a->out);
    spec.stderr_to_stdout = 1;
    spec.term_grace = 3;
    if ((st = rd_proc_start(&spec, &a->proc, err)) != RD_OK)
        rd_error_prefix(err, "app: ");
    else
        rd_log_debug("smoke: started %s (pid %d)", a->name, (int)rd_proc_pid(a->proc));
out:
    free(av);
    free(ev);
    rd_strlist_free(&argv);
    rd_strlist_free(&env);
    return st;
}

/* The last SMOKE_OUTPUT_TAIL bytes the app wrote (heap), or NULL. */
static char *app_output(const app *a)
{
    struct stat sb;
    int fd = a->out ? fileno(a->out) : -1;
    if (fd < 0 || fstat(fd, &sb) != 0 || sb.st_size <= 0)
        return NULL;
    size_t size = (size_t)sb.st_size, n = size > SMOKE_OUTPUT_TAIL ? SMOKE_OUTPUT_TAIL : size;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    ssize_t r = pread(fd, buf, n, (off_t)(size - n));
    buf[r > 0 ? (size_t)r : 0] = '\0';
    return buf;
}

/* A heap copy of text with secrets masked (rd_redact), for outputs that
 * end up in reports. NULL on allocation failure. */
static char *redacted(const char *text)
{
    size_t n = strlen(text) * 2 + 64;
    char *out = malloc(n);
    return out ? rd_redact(text, out, n) : NULL;
}

/* Stop the app's whole group; attach its output to the results from `first`. */
static void app_stop(rd_check_ctx *ctx, app *a, size_t first)
{
    if (a->proc) {
        rd_proc_stop(a->proc);
        rd_proc_free(a->proc);
        a->proc = NULL;
    }
    char *raw = app_output(a), *outp = raw ? redacted(raw) : NULL;
    free(raw);
    for (size_t i = first; outp && *outp && i < ctx->result->nchecks; i++)
        rd_check_set_output(&ctx->result->checks[i], outp);
    free(outp);
    if (a->out)
        fclose(a->out);
    a->out = NULL;
    free(a->name);
    a->name = NULL;
}

/* Poll until the ready URL answers; NULL when ready, else why not (heap). */
static char *wait_ready(rd_check_ctx *ctx, const smoke_state *s, const app *a, const char *url,
                        long want)
{
    double deadline = rd_mono_now() + s->ready_timeout;
    char last[RD_ERROR_MSG_MAX] = "no answer yet";
    char tbuf[64];
    rd_strbuf body;
    char *why = NULL;
    int code = 0;
    if (ctx->deadline > 0 && ctx->deadline < deadline)
        deadline = ctx->deadline;
    rd_strbuf_init(&body, 4096);
    for (;;) {
        if (a->proc && app_exited(a, &code)) {
            why = rd_asprintf("the application exited with status %d before it was ready", code);
            break;
        }
        if (rd_abort_requested()) {
            why = rd_asprintf("interrupted by signal %d", rd_abort_requested());
            break;
        }
        double left = deadline - rd_mono_now();
        if (left <= 0) {
            why = rd_asprintf("the application was not ready within %s (last: %s)",
                              rd_duration_format(s->ready_timeout, tbuf, sizeof tbuf), last);
            break;
        }
        rd_error err = {0};
        long status = 0;
        double lat = 0;
        if (rd_smoke_http("GET", url, NULL, NULL, left < 2 ? left : 2, &status, &body, &lat,
                          &err) == RD_OK) {
            if ((status >= 200 && status < 300) || status == want)
                break;
            snprintf(last, sizeof last, "HTTP %ld", status);
        } else {
            snprintf(last, sizeof last, "%s", err.msg);
        }
        nap(0.1);
    }
    rd_strbuf_free(&body);
    return why;
}

static rd_status smoke_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    smoke_state *s = state;
    app a = {NULL, NULL, NULL};
    size_t first = ctx->result->nchecks;
    char **urls = NULL, **objs = NULL;
    char *why = NULL;
    rd_verdict why_v = RD_FAILED;
    rd_status st = RD_OK;
    if (!s)
        return RD_ERR(err, RD_ERR_INTERNAL, "smoke check is not configured");
    urls = calloc(s->nprobes, sizeof *urls);
    objs = calloc(s->nprobes, sizeof *objs);
    if (!urls || !objs) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->nprobes; i++) {
        char red[1024];
        if ((st = rd_template_expand(s->probes[i].url, ctx->tvars, &urls[i], err)) != RD_OK) {
            rd_error_prefix(err, "probes[%zu].url: ", i);
            goto out;
        }
        rd_redact(urls[i], red, sizeof red);
        if (!(objs[i] = rd_asprintf("%s %s", s->probes[i].method, red))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    double t0 = rd_mono_now();
    if (s->has_app) {
        rd_error aerr = {0};
        if (app_start(ctx, s, &a, &aerr) != RD_OK) {
            why = rd_strdup(aerr.msg);
            why_v = RD_ERROR; /* could not even start it */
        }
    }
    if (!why && (s->has_app || s->ready_url)) {
        char *ready = NULL;
        const char *rurl = s->ready_url;
        if (rurl && rd_template_expand(rurl, ctx->tvars, &ready, err) != RD_OK) {
            st = rd_error_prefix(err, "ready_url: ");
            goto out;
        }
        why = wait_ready(ctx, s, &a, ready ? ready : urls[0],
                         s->ready_url ? 0 : (long)s->probes[0].expect_status);
        free(ready);
    }
    if (why) {
        for (size_t i = 0; i < s->nprobes; i++)
            rd_check_record(ctx, objs[i], why_v, i == 0 ? rd_mono_now() - t0 : 0, "%s", why);
    } else {
        for (size_t i = 0; i < s->nprobes && !rd_abort_requested(); i++)
            run_probe(ctx, &s->probes[i], urls[i], objs[i]);
    }
out:
    app_stop(ctx, &a, first);
    for (size_t i = 0; i < s->nprobes; i++) {
        free(urls ? urls[i] : NULL);
        free(objs ? objs[i] : NULL);
    }
    free(urls);
    free(objs);
    free(why);
    return st;
}

const rd_check_type rd_check_smoke = {
    .name = "smoke",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB | RD_ENGINE_DYNAMODB,
    .configure = smoke_configure,
    .run = smoke_run,
    .free = smoke_free,
};
