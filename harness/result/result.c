/* result.c: the result model (see result.h): construction, setters, settling
 * statuses and summaries. Allocation failures leave the model consistent:
 * a failed setter keeps the old value NULL-free, a failed add returns NULL. */
#include "restoredrill/result.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"

static const char *const verdict_names[] = {"passed", "failed", "error", "skipped", "aborted"};

const char *rd_verdict_name(rd_verdict v)
{
    if ((int)v < 0 || (size_t)v >= sizeof verdict_names / sizeof verdict_names[0])
        return "error";
    return verdict_names[v];
}

int rd_verdict_parse(const char *s)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof verdict_names / sizeof verdict_names[0]; i++)
        if (strcmp(s, verdict_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Severity rank: skipped < passed < failed < error < aborted. */
static int rank(rd_verdict v)
{
    switch (v) {
    case RD_SKIPPED:
        return 0;
    case RD_PASSED:
        return 1;
    case RD_FAILED:
        return 2;
    case RD_ERROR:
        return 3;
    case RD_ABORTED:
        return 4;
    }
    return 3;
}

rd_verdict rd_verdict_worse(rd_verdict a, rd_verdict b)
{
    return rank(a) >= rank(b) ? a : b;
}

rd_report *rd_report_new(void)
{
    rd_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->status = RD_PASSED;
    return r;
}

static void free_check(rd_check_result *c)
{
    free(c->id);
    free(c->type);
    free(c->check);
    free(c->object);
    free(c->message);
    free(c->expected);
    free(c->actual);
    for (size_t i = 0; i < c->nprops; i++) {
        free(c->props[i].name);
        free(c->props[i].value);
    }
    free(c->props);
    free(c->output);
    free(c->database);
}

static void free_target(rd_target_result *t)
{
    free(t->name);
    free(t->engine);
    free(t->point.id);
    free(t->point.location);
    free(t->point.sha256);
    free(t->point.format);
    free(t->point.base);
    free(t->point.wal_first);
    free(t->point.wal_last);
    free(t->sampling_strategy);
    free(t->sampling_reason);
    for (size_t i = 0; i < t->nphases; i++)
        free(t->phases[i].name);
    free(t->phases);
    free(t->rpo_basis);
    for (size_t i = 0; i < t->nchecks; i++)
        free_check(&t->checks[i]);
    free(t->checks);
    free(t->error);
    free(t->notes);
    rd_strv_free(t->controls, t->ncontrols);
    free(t->scratch_type);
    free(t->isolation);
    free(t->coverage_map);
    free(t->pitr_proven);
    free(t->kept_connect);
    for (size_t i = 0; i < t->ndatabases; i++)
        free(t->databases[i]);
    free(t->databases);
}

rd_status rd_target_add_database(rd_target_result *t, const char *name, rd_error *err)
{
    char **arr = realloc(t->databases, (t->ndatabases + 1) * sizeof *arr);
    if (!arr)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    t->databases = arr;
    if (!(arr[t->ndatabases] = rd_strdup(name)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    t->ndatabases++;
    return RD_OK;
}

void rd_check_set_database(rd_check_result *c, const char *database)
{
    if (!c)
        return;
    free(c->database);
    c->database = rd_strdup(database);
}

void rd_report_free(rd_report *r)
{
    if (!r)
        return;
    free(r->tool_version);
    free(r->drill_id);
    free(r->name);
    free(r->host);
    free(r->user);
    free(r->config_path);
    free(r->config_sha256);
    free(r->ci_job_url);
    free(r->signing_key);
    rd_strv_free(r->controls, r->ncontrols);
    for (size_t i = 0; i < r->ntargets; i++)
        free_target(&r->targets[i]);
    free(r->targets);
    free(r);
}

rd_status rd_strv_push(char ***v, size_t *n, const char *s, rd_error *err)
{
    char **grown = realloc(*v, (*n + 1) * sizeof *grown);
    if (!grown)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *v = grown;
    if (!(grown[*n] = rd_strdup(s ? s : "")))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    (*n)++;
    return RD_OK;
}

void rd_strv_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

rd_target_result *rd_report_add_target(rd_report *r, const char *name, const char *engine)
{
    if (!r)
        return NULL;
    rd_target_result *arr = realloc(r->targets, (r->ntargets + 1) * sizeof *arr);
    if (!arr)
        return NULL;
    r->targets = arr;
    rd_target_result *t = &arr[r->ntargets];
    memset(t, 0, sizeof *t);
    t->name = rd_strdup(name ? name : "");
    t->engine = rd_strdup(engine);
    if (!t->name || (engine && !t->engine)) {
        free(t->name);
        free(t->engine);
        return NULL;
    }
    t->status = RD_PASSED;
    t->point.bytes = -1;
    t->rto.seconds = -1;
    t->rto.target_seconds = -1;
    t->rpo.seconds = -1;
    t->rpo.target_seconds = -1;
    t->data_ready_seconds = -1;
    t->rpo_exposure_seconds = -1;
    t->newest_age_seconds = -1;
    t->data_lag_seconds = -1;
    r->ntargets++;
    return t;
}

rd_check_result *rd_target_add_check(rd_target_result *t, const char *type, const char *check,
                                     const char *object, rd_verdict status, const char *message)
{
    if (!t)
        return NULL;
    rd_check_result *arr = realloc(t->checks, (t->nchecks + 1) * sizeof *arr);
    if (!arr)
        return NULL;
    t->checks = arr;
    rd_check_result *c = &arr[t->nchecks];
    memset(c, 0, sizeof *c);
    const char *ty = type ? type : "check";
    const char *ck = check ? check : ty;
    c->type = rd_strdup(ty);
    c->check = rd_strdup(ck);
    c->object = rd_strdup(object ? object : ck);
    c->id = object ? rd_asprintf("%s:%s", ck, object) : rd_strdup(ck);
    c->message = rd_strdup(message);
    if (!c->type || !c->check || !c->object || !c->id || (message && !c->message)) {
        free_check(c);
        return NULL;
    }
    c->status = status;
    c->seconds = -1;
    t->nchecks++;
    return c;
}

rd_status rd_target_take_checks(rd_target_result *dst, rd_target_result *src, rd_error *err)
{
    if (!src || src->nchecks == 0)
        return RD_OK;
    rd_check_result *arr = realloc(dst->checks, (dst->nchecks + src->nchecks) * sizeof *arr);
    if (!arr) {
        for (size_t i = 0; i < src->nchecks; i++)
            free_check(&src->checks[i]);
        free(src->checks);
        src->checks = NULL;
        src->nchecks = 0;
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    memcpy(arr + dst->nchecks, src->checks, src->nchecks * sizeof *arr);
    dst->checks = arr;
    dst->nchecks += src->nchecks;
    free(src->checks);
    src->checks = NULL;
    src->nchecks = 0;
    return RD_OK;
}

rd_phase *rd_target_add_phase(rd_target_result *t, const char *name, double seconds,
                              rd_verdict status)
{
    if (!t)
        return NULL;
    rd_phase *arr = realloc(t->phases, (t->nphases + 1) * sizeof *arr);
    if (!arr)
        return NULL;
    t->phases = arr;
    rd_phase *p = &arr[t->nphases];
    p->name = rd_strdup(name ? name : "");
    if (!p->name)
        return NULL;
    p->seconds = seconds;
    p->status = status;
    p->started_at_ms = p->finished_at_ms = 0;
    t->nphases++;
    return p;
}

/* Format into a new heap string; NULL for a NULL format or on failure. */
static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static char *vformat(const char *fmt, va_list ap)
{
    if (!fmt)
        return NULL;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    if (rd_strbuf_vappendf(&sb, NULL, fmt, ap) != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

static void replace(char **slot, char *value)
{
    free(*slot);
    *slot = value;
}

void rd_check_set_message(rd_check_result *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    if (c)
        replace(&c->message, v);
    else
        free(v);
}

void rd_check_set_expected(rd_check_result *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    if (c)
        replace(&c->expected, v);
    else
        free(v);
}

void rd_check_set_actual(rd_check_result *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    if (c)
        replace(&c->actual, v);
    else
        free(v);
}

void rd_check_set_output(rd_check_result *c, const char *text)
{
    if (c)
        replace(&c->output, rd_strdup(text));
}

void rd_check_add_prop(rd_check_result *c, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    char *n = rd_strdup(name);
    rd_prop *arr = NULL;
    if (!c || !v || !n)
        goto fail;
    arr = realloc(c->props, (c->nprops + 1) * sizeof *arr);
    if (!arr)
        goto fail;
    c->props = arr;
    arr[c->nprops].name = n;
    arr[c->nprops].value = v;
    c->nprops++;
    return;
fail:
    free(v);
    free(n);
}

void rd_target_set_error(rd_target_result *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *v = vformat(fmt, ap);
    va_end(ap);
    if (t)
        replace(&t->error, v);
    else
        free(v);
}

void rd_target_settle(rd_target_result *t)
{
    if (!t || t->nchecks == 0)
        return;
    rd_verdict v = RD_SKIPPED;
    for (size_t i = 0; i < t->nchecks; i++) {
        rd_verdict cv = t->checks[i].status;
        if (cv == RD_ABORTED)
            cv = RD_ERROR; /* a check is never "aborted" itself */
        v = rd_verdict_worse(v, cv);
    }
    if (v == RD_SKIPPED) {
        if (t->status == RD_SKIPPED)
            return; /* a skipped target with only skipped checks stays skipped */
        v = RD_PASSED;
    }
    t->status = rd_verdict_worse(t->status == RD_SKIPPED ? RD_PASSED : t->status, v);
}

void rd_report_settle(rd_report *r)
{
    if (!r)
        return;
    rd_verdict v = RD_PASSED;
    for (size_t i = 0; i < r->ntargets; i++)
        v = rd_verdict_worse(v, r->targets[i].status);
    rd_verdict cur = r->status == RD_SKIPPED ? RD_PASSED : r->status;
    r->status = rd_verdict_worse(cur, v);
}

void rd_report_summarize(const rd_report *r, rd_report_summary *s)
{
    memset(s, 0, sizeof *s);
    if (!r)
        return;
    s->targets = r->ntargets;
    for (size_t i = 0; i < r->ntargets; i++) {
        const rd_target_result *t = &r->targets[i];
        if (t->status == RD_PASSED)
            s->targets_passed++;
        else if (t->status != RD_SKIPPED)
            s->targets_failed++;
        for (size_t j = 0; j < t->nchecks; j++) {
            s->checks++;
            switch (t->checks[j].status) {
            case RD_PASSED:
                s->passed++;
                break;
            case RD_FAILED:
                s->failed++;
                break;
            case RD_SKIPPED:
                s->skipped++;
                break;
            case RD_ERROR:
            case RD_ABORTED:
                s->errors++;
                break;
            }
        }
    }
}
