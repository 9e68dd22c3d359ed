/* exec.c: a user plugin following the monitoring-plugins convention.
 *
 *   { "type": "exec", "name": "orders api",
 *     "command": ["./check_orders", "--db", "{scratch.url}"],   argv, templated
 *     "env": { "LEVEL": "{target.name}" },                      optional, templated
 *     "cwd": "/srv/checks",                                     optional
 *     "timeout": "2m" }                                         the check's timeout
 *
 * The plugin gets our environment, the scratch instance's client variables
 * (PGHOST... / MYSQL_...), RD_<VAR> for every template variable
 * (RD_SCRATCH_URL, RD_SCRATCH_HOST, RD_POINT_ID, RD_TARGET_NAME...) and
 * "env". Exit 0 OK = passed, 1 WARNING = passed with "warning: " and the
 * property warning=true, 2 CRITICAL = failed, 3 UNKNOWN and anything else
 * (a signal, the timeout, a program that cannot run) = error. The first
 * stdout line (before `|`) is the message; performance data after `|`
 * (`label=value[UOM];warn;crit;min;max`, space separated, labels may be
 * 'quoted') becomes properties: label = value with its unit, and
 * label.warn / .crit / .min / .max when given. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define EXEC_STDOUT_MAX ((size_t)1024 * 1024)
#define EXEC_OUTPUT_TAIL ((size_t)64 * 1024)

typedef struct exec_state {
    rd_strlist command;
    rd_strlist env;
    char *cwd;
    char *object;
} exec_state;

static void exec_free(void *p)
{
    exec_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->command);
    rd_strlist_free(&s->env);
    free(s->cwd);
    free(s->object);
    free(s);
}

static rd_status exec_configure(const cJSON *params, const char *path, rd_engine engine,
                                void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "command", "env", "cwd", NULL};
    (void)engine;
    rd_status st;
    exec_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "command", 0, &s->command, err)) != RD_OK ||
        (st = rd_cfg_strmap(params, path, "env", &s->env, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "cwd", 0, &s->cwd, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "name", 0, &s->object, err)) != RD_OK)
        goto out;
    if (s->command.n == 0 || !s->command.items[0][0]) {
        char got[96];
        st = RD_ERR(
            err, RD_ERR_CONFIG, "%s.command: expected a non-empty array of strings, got %s", path,
            rd_cfg_got(cJSON_GetObjectItemCaseSensitive(params, "command"), got, sizeof got));
        goto out;
    }
    if (!s->object) {
        const char *base = strrchr(s->command.items[0], '/');
        s->object = rd_strdup(base && base[1] ? base + 1 : s->command.items[0]);
        if (!s->object)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
out:
    if (st == RD_OK)
        *state = s;
    else
        exec_free(s);
    return st;
}

/* "scratch.url=x" -> "RD_SCRATCH_URL=x". */
static rd_status tvar_env(const char *var, rd_strlist *env, rd_error *err)
{
    const char *eq = strchr(var, '=');
    if (!eq || eq == var)
        return RD_OK;
    rd_strbuf b;
    rd_strbuf_init(&b, 0);
    rd_status st = rd_strbuf_append(&b, "RD_", err);
    for (const char *p = var; st == RD_OK && p < eq; p++)
        st = rd_strbuf_append_char(
            &b, isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_', err);
    if (st == RD_OK)
        st = rd_strbuf_append(&b, eq, err);
    if (st == RD_OK)
        st = rd_strlist_push(env, b.data, err);
    rd_strbuf_free(&b);
    return st;
}

/* argv and env with templates expanded. */
static rd_status build(rd_check_ctx *ctx, const exec_state *s, rd_strlist *argv, rd_strlist *env,
                       rd_error *err)
{
    rd_status st = RD_OK;
    char *x = NULL;
    for (size_t i = 0; st == RD_OK && i < s->command.n; i++) {
        if ((st = rd_template_expand(s->command.items[i], ctx->tvars, &x, err)) == RD_OK)
            st = rd_strlist_push(argv, x, err);
        free(x);
        x = NULL;
    }
    for (size_t i = 0; st == RD_OK && ctx->instance && ctx->instance->env && ctx->instance->env[i];
         i++)
        st = rd_strlist_push(env, ctx->instance->env[i], err);
    for (size_t i = 0; st == RD_OK && ctx->tvars && ctx->tvars[i]; i++)
        st = tvar_env(ctx->tvars[i], env, err);
    for (size_t i = 0; st == RD_OK && i < s->env.n; i++) {
        if ((st = rd_template_expand(s->env.items[i], ctx->tvars, &x, err)) == RD_OK)
            st = rd_strlist_push(env, x, err);
        free(x);
        x = NULL;
    }
    if (st != RD_OK)
        rd_error_prefix(err, "%s: ", ctx->check && ctx->check->path ? ctx->check->path : "exec");
    return st;
}

static const char *label_k(const char *label, const char *suffix, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s", label, suffix);
    return buf;
}

/* One perfdata token "label=value;warn;crit;min;max" (label unquoted). */
static void perf_item(rd_check_result *c, const char *label, const char *spec)
{
    static const char *const suffix[] = {"", ".warn", ".crit", ".min", ".max"};
    const char *p = spec;
    char name[512];
    for (int k = 0; k < 5 && p; k++) {
        const char *semi = strchr(p, ';');
        size_t n = semi ? (size_t)(semi - p) : strlen(p);
        if (n > 0)
            rd_check_add_prop(c, label_k(label, suffix[k], name, sizeof name), "%.*s", (int)n, p);
        p = semi ? semi + 1 : NULL;
    }
}

/* Parse "a=1s;2;3 'b c'=5%" into properties. */
static void parse_perfdata(rd_check_result *c, const char *perf)
{
    const char *p = perf;
    rd_strbuf label;
    rd_strbuf_init(&label, 4096);
    while (*p) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        rd_strbuf_reset(&label);
        if (*p == '\'') {
            for (p++; *p; p++) {
                if (*p == '\'' && p[1] == '\'')
                    p++;
                else if (*p == '\'')
                    break;
                rd_strbuf_append_char(&label, *p, NULL);
            }
            if (*p == '\'')
                p++;
        } else {
            for (; *p && *p != '=' && *p != ' ' && *p != '\t'; p++)
                rd_strbuf_append_char(&label, *p, NULL);
        }
        if (*p != '=') { /* malformed: skip to the next blank */
            while (*p && *p != ' ' && *p != '\t')
                p++;
            continue;
        }
        p++;
        const char *v = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        char *spec = rd_asprintf("%.*s", (int)(p - v), v);
        if (spec && label.len > 0)
            perf_item(c, label.data, spec);
        free(spec);
    }
    rd_strbuf_free(&label);
}

/* A heap copy of text with secrets masked (rd_redact), for outputs that
 * end up in reports. NULL on allocation failure. */
static char *redacted(const char *text)
{
    size_t n = strlen(text) * 2 + 64;
    char *out = malloc(n);
    return out ? rd_redact(text, out, n) : NULL;
}

static const char *state_name(int code)
{
    switch (code) {
    case 0:
        return "OK";
    case 1:
        return "WARNING";
    case 2:
        return "CRITICAL";
    case 3:
        return "UNKNOWN";
    default:
        return "invalid";
    }
}

static void record(rd_check_ctx *ctx, const exec_state *s, int code, const char *out,
                   const char *errtail, double secs)
{
    const char *nl = strchr(out, '\n');
    size_t len = nl ? (size_t)(nl - out) : strlen(out);
    const char *bar = memchr(out, '|', len);
    size_t mlen = bar ? (size_t)(bar - out) : len;
    while (mlen > 0 && (out[mlen - 1] == ' ' || out[mlen - 1] == '\r' || out[mlen - 1] == '\t'))
        mlen--;
    char *first = mlen ? rd_asprintf("%.*s", (int)mlen, out) : rd_strdup("(no output)");
    char *msg = first ? redacted(first) : NULL;
    free(first);
    rd_check_result *c;
    if (code == 0)
        c = rd_check_record(ctx, s->object, RD_PASSED, secs, "%s", msg ? msg : "");
    else if (code == 1)
        c = rd_check_record(ctx, s->object, RD_PASSED, secs, "warning: %s", msg ? msg : "");
    else if (code == 2)
        c = rd_check_record(ctx, s->object, RD_FAILED, secs, "%s", msg ? msg : "");
    else if (code == 3)
        c = rd_check_record(ctx, s->object, RD_ERROR, secs, "unknown: %s", msg ? msg : "");
    else
        c = rd_check_record(ctx, s->object, RD_ERROR, secs, "plugin exited with status %d: %s",
                            code, msg ? msg : "");
    free(msg);
    if (!c)
        return;
    rd_check_set_expected(c, "exit 0 (OK)");
    rd_check_set_actual(c, "exit %d (%s)", code, state_name(code));
    if (code == 1)
        rd_check_add_prop(c, "warning", "true");
    if (bar) {
        char *perf = rd_asprintf("%.*s", (int)(len - (size_t)(bar + 1 - out)), bar + 1);
        if (perf)
            parse_perfdata(c, perf);
        free(perf);
    }
    /* long output: later lines may carry more perfdata after a '|' */
    for (const char *line = nl ? nl + 1 : NULL; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        const char *b = memchr(line, '|', n);
        if (b) {
            char *perf = rd_asprintf("%.*s", (int)(n - (size_t)(b + 1 - line)), b + 1);
            if (perf)
                parse_perfdata(c, perf);
            free(perf);
        }
        line = end ? end + 1 : NULL;
    }
    if (*out || (errtail && *errtail)) {
        char *raw = rd_asprintf("%s%s%s", out, *out && errtail && *errtail ? "\n" : "",
                                errtail ? errtail : "");
        char *o = raw ? redacted(raw) : NULL;
        free(raw);
        if (o) {
            size_t olen = strlen(o);
            rd_check_set_output(c, olen > EXEC_OUTPUT_TAIL ? o + olen - EXEC_OUTPUT_TAIL : o);
        }
        free(o);
    }
}

static rd_status exec_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    exec_state *s = state;
    rd_strlist argv = {0}, env = {0};
    const char **av = NULL, **ev = NULL;
    rd_strbuf out, errtail;
    rd_error perr = {0};
    int code = -1;
    rd_status st;
    rd_strbuf_init(&out, EXEC_STDOUT_MAX);
    rd_strbuf_init(&errtail, EXEC_OUTPUT_TAIL);
    if (!s) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "exec check is not configured");
        goto out;
    }
    if ((st = build(ctx, s, &argv, &env, err)) != RD_OK)
        goto out;
    if (!(av = rd_strlist_argv(&argv)) || !(ev = rd_strlist_argv(&env))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = av;
    spec.env = ev;
    spec.cwd = s->cwd;
    spec.stderr_tail_max = EXEC_OUTPUT_TAIL;
    double t0 = rd_mono_now(), timeout = rd_cku_timeout(ctx);
    if (rd_proc_run(&spec, timeout, &out, &errtail, &code, &perr) != RD_OK) {
        char tbuf[64];
        if (perr.code == RD_ERR_TIMEOUT)
            snprintf(perr.msg, sizeof perr.msg, "%s timed out after %s", s->object,
                     rd_duration_format(timeout, tbuf, sizeof tbuf));
        rd_check_result *c =
            rd_check_record(ctx, s->object, RD_ERROR, rd_mono_now() - t0, "%s", perr.msg);
        if (c && errtail.len)
            rd_check_set_output(c, errtail.data);
        goto out;
    }
    record(ctx, s, code, out.data, errtail.data, rd_mono_now() - t0);
out:
    free(av);
    free(ev);
    rd_strlist_free(&argv);
    rd_strlist_free(&env);
    rd_strbuf_free(&out);
    rd_strbuf_free(&errtail);
    return st;
}

const rd_check_type rd_check_exec = {
    .name = "exec",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .configure = exec_configure,
    .run = exec_run,
    .free = exec_free,
};
