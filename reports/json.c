/* json.c: the JSON report (schema restoredrill/report/v1, see
 * reports/schema/report-v1.schema.json). Unknown values are null, never a
 * made-up 0; seeds are decimal strings (a uint64 does not fit a double);
 * instants are RFC 3339 UTC with milliseconds; strings are valid UTF-8. */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

/* Builders record allocation failures in *oom instead of checking each. */
static void put(cJSON *obj, const char *key, cJSON *item, int *oom)
{
    if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *oom = 1;
    }
}

static cJSON *str_or_null(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    char *clean = rd_text_utf8_dup(s);
    if (!clean)
        return NULL;
    cJSON *item = cJSON_CreateString(clean);
    free(clean);
    return item;
}

static void put_str(cJSON *obj, const char *key, const char *s, int *oom)
{
    put(obj, key, str_or_null(s), oom);
}

/* For free text that might carry a DSN or URL: secrets masked. */
static void put_redacted(cJSON *obj, const char *key, const char *s, int *oom)
{
    char *red = rd_text_redact_dup(s);
    if (s && !red)
        *oom = 1;
    else
        put(obj, key, str_or_null(red), oom);
    free(red);
}

/* Seconds rounded to ms; null when negative (not measured). */
static void put_secs(cJSON *obj, const char *key, double secs, int *oom)
{
    put(obj, key, secs < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(rd_text_round_ms(secs)), oom);
}

static void put_time(cJSON *obj, const char *key, int64_t ms, int *oom)
{
    char buf[RD_TIME_BUFSZ];
    put(obj, key,
        ms == 0 ? cJSON_CreateNull() : cJSON_CreateString(rd_time_format(ms, buf, sizeof buf)),
        oom);
}

static void put_u64(cJSON *obj, const char *key, uint64_t v, int *oom)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    put(obj, key, cJSON_CreateString(buf), oom);
}

static void put_count(cJSON *obj, const char *key, size_t n, int *oom)
{
    put(obj, key, cJSON_CreateNumber((double)n), oom);
}

/* {from, to} of a half-open span, shown with `to` inclusive. */
static cJSON *span_json(int64_t from, int64_t to_excl, int *oom)
{
    cJSON *o = cJSON_CreateObject();
    put_time(o, "from", from, oom);
    put_time(o, "to", to_excl - 1, oom);
    if (!o)
        *oom = 1;
    return o;
}

/* coverage.pitr: null, or the restorable window, its proven stretches
 * before this drill, this drill's stretch and the shares. */
static cJSON *pitr_coverage(const rd_target_result *t, int *oom)
{
    double before = 0, with = 0;
    if (!rd_report_pitr_share(t, &before, &with))
        return cJSON_CreateNull();
    cJSON *p = cJSON_CreateObject();
    put_time(p, "window_start", t->pitr_window_start_ms, oom);
    put_time(p, "window_end", t->pitr_window_end_ms, oom);
    put(p, "window_seconds",
        cJSON_CreateNumber(rd_text_round_ms((double)t->pitr_window_ms / 1000.0)), oom);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < t->npitr_proven; i++) {
        cJSON *x = span_json(t->pitr_proven[i].from_ms, t->pitr_proven[i].to_ms, oom);
        if (!x || !cJSON_AddItemToArray(arr, x)) {
            cJSON_Delete(x);
            *oom = 1;
        }
    }
    put(p, "proven", arr, oom);
    put(p, "this_drill",
        t->pitr_this_to_ms > 0 ? span_json(t->pitr_this_from_ms, t->pitr_this_to_ms + 1, oom)
                               : cJSON_CreateNull(),
        oom);
    put(p, "proven_share", cJSON_CreateNumber(rd_text_round_ms(before)), oom);
    put(p, "share_with_this_drill", cJSON_CreateNumber(rd_text_round_ms(with)), oom);
    return p;
}

/* met is only meaningful against an objective: null when none is set. */
static void put_met(cJSON *obj, const rd_objective *o, int *oom)
{
    put(obj, "met", o->target_seconds < 0 ? cJSON_CreateNull() : cJSON_CreateBool(o->met != 0),
        oom);
}

static cJSON *strv_json(char *const *v, size_t n, int *oom)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *it = str_or_null(v[i]);
        if (!it || !cJSON_AddItemToArray(a, it)) {
            cJSON_Delete(it);
            *oom = 1;
        }
    }
    return a;
}

static cJSON *point_json(const rd_point_info *p, int *oom)
{
    if (!p->id)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    put_str(o, "id", p->id, oom);
    put_time(o, "created_at", p->created_at_ms, oom);
    put_redacted(o, "location", p->location, oom);
    put(o, "bytes", p->bytes < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)p->bytes), oom);
    put_str(o, "sha256", p->sha256, oom);
    put_str(o, "format", p->format, oom);
    if (p->base) {
        put_str(o, "base", p->base, oom);
        put_time(o, "target_time", p->target_time_ms, oom);
        cJSON *w = cJSON_CreateObject();
        put_str(w, "first", p->wal_first, oom);
        put_str(w, "last", p->wal_last, oom);
        put(o, "wal_range", w, oom);
        put_time(o, "reached_time", p->reached_time_ms, oom);
    }
    return o;
}

static cJSON *check_json(const rd_check_result *c, int *oom)
{
    cJSON *o = cJSON_CreateObject();
    put_str(o, "id", c->id, oom);
    put_str(o, "type", c->type, oom);
    put_str(o, "name", c->check, oom);
    put_str(o, "object", c->object, oom);
    /* a check is never "aborted" itself: an interrupted check is an error */
    put_str(o, "status", rd_verdict_name(c->status == RD_ABORTED ? RD_ERROR : c->status), oom);
    put_secs(o, "seconds", c->seconds, oom);
    put_str(o, "message", c->message, oom);
    put_str(o, "expected", c->expected, oom);
    put_str(o, "actual", c->actual, oom);
    cJSON *props = cJSON_CreateObject();
    for (size_t i = 0; props && i < c->nprops; i++) {
        char *key = rd_text_utf8_dup(c->props[i].name);
        if (!key) {
            *oom = 1;
            break;
        }
        put_str(props, key, c->props[i].value, oom);
        free(key);
    }
    put(o, "properties", props, oom);
    put_str(o, "output", c->output, oom);
    if (c->database)
        put_str(o, "database", c->database, oom);
    return o;
}

static cJSON *target_json(const rd_target_result *t, int *oom)
{
    cJSON *o = cJSON_CreateObject();
    put_str(o, "name", t->name, oom);
    put_str(o, "engine", t->engine, oom);
    put_str(o, "status", rd_verdict_name(rd_report_target_status(t)), oom);
    put_time(o, "started_at", t->started_at_ms, oom);
    put_time(o, "finished_at", t->finished_at_ms, oom);
    put(o, "recovery_point", point_json(&t->point, oom), oom);

    cJSON *s = cJSON_CreateObject();
    put_str(s, "strategy", t->sampling_strategy, oom);
    put_count(s, "candidates", t->sampling_candidates, oom);
    put_u64(s, "seed", t->sampling_seed, oom);
    put_time(s, "pitr_target", t->pitr_target_ms, oom);
    put_str(s, "reason", t->sampling_reason, oom);
    put(o, "sampling", s, oom);

    cJSON *ph = cJSON_CreateArray();
    for (size_t i = 0; ph && i < t->nphases; i++) {
        cJSON *p = cJSON_CreateObject();
        put_str(p, "name", t->phases[i].name, oom);
        put_secs(p, "seconds", t->phases[i].seconds, oom);
        put_str(p, "status", rd_verdict_name(t->phases[i].status), oom);
        put_time(p, "started_at", t->phases[i].started_at_ms, oom);
        put_time(p, "finished_at", t->phases[i].finished_at_ms, oom);
        if (!p || !cJSON_AddItemToArray(ph, p)) {
            cJSON_Delete(p);
            *oom = 1;
        }
    }
    put(o, "phases", ph, oom);

    cJSON *rto = cJSON_CreateObject();
    put_secs(rto, "seconds", t->rto.seconds, oom);
    put_secs(rto, "target_seconds", t->rto.target_seconds, oom);
    put_met(rto, &t->rto, oom);
    put_secs(rto, "data_ready_seconds", t->data_ready_seconds, oom);
    put(o, "rto", rto, oom);

    cJSON *rpo = cJSON_CreateObject();
    put_secs(rpo, "seconds", t->rpo.seconds, oom);
    put_secs(rpo, "target_seconds", t->rpo.target_seconds, oom);
    put_met(rpo, &t->rpo, oom);
    put_str(rpo, "basis", t->rpo_basis, oom);
    put_secs(rpo, "exposure_seconds", t->rpo_exposure_seconds, oom);
    put_secs(rpo, "newest_age_seconds", t->newest_age_seconds, oom);
    put_secs(rpo, "data_lag_seconds", t->data_lag_seconds, oom);
    put(o, "rpo", rpo, oom);

    cJSON *checks = cJSON_CreateArray();
    for (size_t i = 0; checks && i < t->nchecks; i++) {
        cJSON *c = check_json(&t->checks[i], oom);
        if (!c || !cJSON_AddItemToArray(checks, c)) {
            cJSON_Delete(c);
            *oom = 1;
        }
    }
    put(o, "checks", checks, oom);
    put_redacted(o, "error", t->error, oom);
    put_str(o, "notes", t->notes, oom);
    if (t->databases_total > 0) {
        cJSON *d = cJSON_CreateObject();
        cJSON *drilled = cJSON_CreateArray();
        put_count(d, "total", t->databases_total, oom);
        put_count(d, "matched", t->databases_matched, oom);
        for (size_t i = 0; drilled && i < t->ndatabases; i++) {
            cJSON *n = str_or_null(t->databases[i]);
            if (!n || !cJSON_AddItemToArray(drilled, n)) {
                cJSON_Delete(n);
                *oom = 1;
            }
        }
        put(d, "drilled", drilled, oom);
        put(o, "databases", d, oom);
    }
    put(o, "controls", strv_json(t->controls, t->ncontrols, oom), oom);
    if (t->kept_connect) {
        cJSON *k = cJSON_CreateObject();
        put_redacted(k, "connect", t->kept_connect, oom);
        put_time(k, "until", t->kept_until_ms, oom);
        put(o, "kept_scratch", k, oom);
    } else {
        put(o, "kept_scratch", cJSON_CreateNull(), oom);
    }
    size_t cp, cv;
    if (rd_report_coverage(t, &cp, &cv)) {
        cJSON *cov = cJSON_CreateObject();
        put_count(cov, "window_points", cp, oom);
        put_count(cov, "verified_points", cv, oom);
        put_str(cov, "map", t->coverage_map, oom);
        put(cov, "pitr", pitr_coverage(t, oom), oom);
        put(o, "coverage", cov, oom);
    } else {
        put(o, "coverage", cJSON_CreateNull(), oom);
    }
    if (t->scratch_type || t->isolation) {
        cJSON *iso = cJSON_CreateObject();
        put_str(iso, "scratch_type", t->scratch_type, oom);
        put_str(iso, "statement", t->isolation, oom);
        put(o, "isolation", iso, oom);
    } else {
        put(o, "isolation", cJSON_CreateNull(), oom);
    }
    return o;
}

static cJSON *report_json(const rd_report *r, int *oom)
{
    rd_report_summary sum;
    cJSON *root = cJSON_CreateObject();
    put_str(root, "schema", RD_REPORT_SCHEMA, oom);

    cJSON *tool = cJSON_CreateObject();
    put_str(tool, "name", RD_REPORT_TOOL_NAME, oom);
    put_str(tool, "version", r->tool_version ? r->tool_version : RD_VERSION, oom);
    put(root, "tool", tool, oom);

    cJSON *d = cJSON_CreateObject();
    put_str(d, "id", r->drill_id, oom);
    put_str(d, "name", r->name, oom);
    put_u64(d, "seed", r->seed, oom);
    put_time(d, "started_at", r->started_at_ms, oom);
    put_time(d, "finished_at", r->finished_at_ms, oom);
    put_str(d, "host", r->host, oom);
    put_str(d, "user", r->user, oom);
    put_str(d, "status", rd_verdict_name(r->status), oom);
    put_redacted(d, "config", r->config_path, oom);
    put_str(d, "config_sha256", r->config_sha256, oom);
    put_redacted(d, "ci_job_url", r->ci_job_url, oom);
    put_str(d, "signing_key", r->signing_key, oom);
    put(d, "controls", strv_json(r->controls, r->ncontrols, oom), oom);
    put(root, "drill", d, oom);

    cJSON *targets = cJSON_CreateArray();
    for (size_t i = 0; targets && i < r->ntargets; i++) {
        cJSON *t = target_json(&r->targets[i], oom);
        if (!t || !cJSON_AddItemToArray(targets, t)) {
            cJSON_Delete(t);
            *oom = 1;
        }
    }
    put(root, "targets", targets, oom);

    rd_report_summarize(r, &sum);
    cJSON *s = cJSON_CreateObject();
    put_count(s, "targets", sum.targets, oom);
    put_count(s, "targets_passed", sum.targets_passed, oom);
    put_count(s, "targets_failed", sum.targets_failed, oom);
    put_count(s, "checks", sum.checks, oom);
    put_count(s, "passed", sum.passed, oom);
    put_count(s, "failed", sum.failed, oom);
    put_count(s, "errors", sum.errors, oom);
    put_count(s, "skipped", sum.skipped, oom);
    put(root, "summary", s, oom);
    return root;
}

rd_status rd_report_to_json(const rd_report *r, char **out, rd_error *err)
{
    rd_status st = RD_OK;
    int oom = 0;
    cJSON *root = report_json(r, &oom);
    char *text = NULL;
    if (!root || oom) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory building the json report");
        goto out;
    }
    text = cJSON_Print(root);
    if (!text) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory printing the json report");
        goto out;
    }
    /* hand out a malloc'ed string with a final newline */
    *out = rd_asprintf("%s\n", text);
    if (!*out)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory printing the json report");
out:
    cJSON_free(text);
    cJSON_Delete(root);
    return st;
}

rd_status rd_report_write_json(const rd_report *r, const char *path, rd_error *err)
{
    char *doc = NULL;
    rd_status st = rd_report_to_json(r, &doc, err);
    if (st == RD_OK)
        st = rd_fs_write_atomic(path, doc, strlen(doc), 0644, err);
    free(doc);
    return st;
}
