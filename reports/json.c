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

/* For free text that might carry a DSN or URL: secrets masked. */
static void put_redacted(cJSON *obj, const char *key, const char *s, int *oom)
{
    char *red = rd_text_redact_dup(s);
    if (s && !red)
        *oom = 1;
    else
        rd_json_put(obj, key, rd_json_str_or_null(red), oom);
    free(red);
}

static void put_u64(cJSON *obj, const char *key, uint64_t v, int *oom)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    rd_json_put(obj, key, cJSON_CreateString(buf), oom);
}

static void put_count(cJSON *obj, const char *key, size_t n, int *oom)
{
    rd_json_put(obj, key, cJSON_CreateNumber((double)n), oom);
}

/* {from, to} of a half-open span, shown with `to` inclusive. */
static cJSON *span_json(int64_t from, int64_t to_excl, int *oom)
{
    cJSON *o = cJSON_CreateObject();
    rd_json_put_time(o, "from", from, oom);
    rd_json_put_time(o, "to", to_excl - 1, oom);
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
    rd_json_put_time(p, "window_start", t->pitr_window_start_ms, oom);
    rd_json_put_time(p, "window_end", t->pitr_window_end_ms, oom);
    rd_json_put(p, "window_seconds",
                cJSON_CreateNumber(rd_text_round_ms((double)t->pitr_window_ms / 1000.0)), oom);
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < t->npitr_proven; i++) {
        cJSON *x = span_json(t->pitr_proven[i].from_ms, t->pitr_proven[i].to_ms, oom);
        rd_json_push(arr, x, oom);
    }
    rd_json_put(p, "proven", arr, oom);
    rd_json_put(p, "this_drill",
                t->pitr_this_to_ms > 0
                    ? span_json(t->pitr_this_from_ms, t->pitr_this_to_ms + 1, oom)
                    : cJSON_CreateNull(),
                oom);
    rd_json_put(p, "proven_share", cJSON_CreateNumber(rd_text_round_ms(before)), oom);
    rd_json_put(p, "share_with_this_drill", cJSON_CreateNumber(rd_text_round_ms(with)), oom);
    return p;
}

/* met is only meaningful against an objective: null when none is set. */
static void put_met(cJSON *obj, const rd_objective *o, int *oom)
{
    rd_json_put(obj, "met",
                o->target_seconds < 0 ? cJSON_CreateNull() : cJSON_CreateBool(o->met != 0), oom);
}

static cJSON *strv_json(char *const *v, size_t n, int *oom)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *it = rd_json_str_or_null(v[i]);
        rd_json_push(a, it, oom);
    }
    return a;
}

static cJSON *point_json(const rd_point_info *p, int *oom)
{
    if (!p->id)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    rd_json_put_str(o, "id", p->id, oom);
    rd_json_put_time(o, "created_at", p->created_at_ms, oom);
    put_redacted(o, "location", p->location, oom);
    rd_json_put(o, "bytes",
                p->bytes < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)p->bytes), oom);
    rd_json_put_str(o, "sha256", p->sha256, oom);
    rd_json_put_str(o, "format", p->format, oom);
    if (p->base) {
        rd_json_put_str(o, "base", p->base, oom);
        rd_json_put_time(o, "target_time", p->target_time_ms, oom);
        cJSON *w = cJSON_CreateObject();
        rd_json_put_str(w, "first", p->wal_first, oom);
        rd_json_put_str(w, "last", p->wal_last, oom);
        rd_json_put(o, "wal_range", w, oom);
        rd_json_put_time(o, "reached_time", p->reached_time_ms, oom);
    }
    return o;
}

static cJSON *check_json(const rd_check_result *c, int *oom)
{
    cJSON *o = cJSON_CreateObject();
    rd_json_put_str(o, "id", c->id, oom);
    rd_json_put_str(o, "type", c->type, oom);
    rd_json_put_str(o, "name", c->check, oom);
    rd_json_put_str(o, "object", c->object, oom);
    /* a check is never "aborted" itself: an interrupted check is an error */
    rd_json_put_str(o, "status", rd_verdict_name(c->status == RD_ABORTED ? RD_ERROR : c->status),
                    oom);
    rd_json_put_secs(o, "seconds", c->seconds, oom);
    rd_json_put_str(o, "message", c->message, oom);
    rd_json_put_str(o, "expected", c->expected, oom);
    rd_json_put_str(o, "actual", c->actual, oom);
    cJSON *props = cJSON_CreateObject();
    for (size_t i = 0; props && i < c->nprops; i++) {
        char *key = rd_text_utf8_dup(c->props[i].name);
        if (!key) {
            *oom = 1;
            break;
        }
        rd_json_put_str(props, key, c->props[i].value, oom);
        free(key);
    }
    rd_json_put(o, "properties", props, oom);
    rd_json_put_str(o, "output", c->output, oom);
    if (c->database)
        rd_json_put_str(o, "database", c->database, oom);
    return o;
}

static cJSON *target_json(const rd_target_result *t, int *oom)
{
    cJSON *o = cJSON_CreateObject();
    rd_json_put_str(o, "name", t->name, oom);
    rd_json_put_str(o, "engine", t->engine, oom);
    rd_json_put_str(o, "status", rd_verdict_name(rd_report_target_status(t)), oom);
    rd_json_put_time(o, "started_at", t->started_at_ms, oom);
    rd_json_put_time(o, "finished_at", t->finished_at_ms, oom);
    rd_json_put(o, "recovery_point", point_json(&t->point, oom), oom);

    cJSON *s = cJSON_CreateObject();
    rd_json_put_str(s, "strategy", t->sampling_strategy, oom);
    put_count(s, "candidates", t->sampling_candidates, oom);
    put_u64(s, "seed", t->sampling_seed, oom);
    rd_json_put_time(s, "pitr_target", t->pitr_target_ms, oom);
    rd_json_put_str(s, "reason", t->sampling_reason, oom);
    rd_json_put(o, "sampling", s, oom);

    cJSON *ph = cJSON_CreateArray();
    for (size_t i = 0; ph && i < t->nphases; i++) {
        cJSON *p = cJSON_CreateObject();
        rd_json_put_str(p, "name", t->phases[i].name, oom);
        rd_json_put_secs(p, "seconds", t->phases[i].seconds, oom);
        rd_json_put_str(p, "status", rd_verdict_name(t->phases[i].status), oom);
        rd_json_put_time(p, "started_at", t->phases[i].started_at_ms, oom);
        rd_json_put_time(p, "finished_at", t->phases[i].finished_at_ms, oom);
        rd_json_push(ph, p, oom);
    }
    rd_json_put(o, "phases", ph, oom);

    cJSON *rto = cJSON_CreateObject();
    rd_json_put_secs(rto, "seconds", t->rto.seconds, oom);
    rd_json_put_secs(rto, "target_seconds", t->rto.target_seconds, oom);
    put_met(rto, &t->rto, oom);
    rd_json_put_secs(rto, "data_ready_seconds", t->data_ready_seconds, oom);
    rd_json_put(o, "rto", rto, oom);

    cJSON *rpo = cJSON_CreateObject();
    rd_json_put_secs(rpo, "seconds", t->rpo.seconds, oom);
    rd_json_put_secs(rpo, "target_seconds", t->rpo.target_seconds, oom);
    put_met(rpo, &t->rpo, oom);
    rd_json_put_str(rpo, "basis", t->rpo_basis, oom);
    rd_json_put_secs(rpo, "exposure_seconds", t->rpo_exposure_seconds, oom);
    rd_json_put_secs(rpo, "newest_age_seconds", t->newest_age_seconds, oom);
    rd_json_put_secs(rpo, "data_lag_seconds", t->data_lag_seconds, oom);
    rd_json_put(o, "rpo", rpo, oom);

    cJSON *checks = cJSON_CreateArray();
    for (size_t i = 0; checks && i < t->nchecks; i++) {
        cJSON *c = check_json(&t->checks[i], oom);
        rd_json_push(checks, c, oom);
    }
    rd_json_put(o, "checks", checks, oom);
    put_redacted(o, "error", t->error, oom);
    rd_json_put_str(o, "notes", t->notes, oom);
    if (t->databases_total > 0) {
        cJSON *d = cJSON_CreateObject();
        put_count(d, "total", t->databases_total, oom);
        put_count(d, "matched", t->databases_matched, oom);
        rd_json_put(d, "drilled", strv_json(t->databases, t->ndatabases, oom), oom);
        rd_json_put(o, "databases", d, oom);
    }
    rd_json_put(o, "controls", strv_json(t->controls, t->ncontrols, oom), oom);
    if (t->kept_connect) {
        cJSON *k = cJSON_CreateObject();
        put_redacted(k, "connect", t->kept_connect, oom);
        rd_json_put_time(k, "until", t->kept_until_ms, oom);
        rd_json_put(o, "kept_scratch", k, oom);
    } else {
        rd_json_put(o, "kept_scratch", cJSON_CreateNull(), oom);
    }
    size_t cp, cv;
    if (rd_report_coverage(t, &cp, &cv)) {
        cJSON *cov = cJSON_CreateObject();
        put_count(cov, "window_points", cp, oom);
        put_count(cov, "verified_points", cv, oom);
        rd_json_put_str(cov, "map", t->coverage_map, oom);
        rd_json_put(cov, "pitr", pitr_coverage(t, oom), oom);
        rd_json_put(o, "coverage", cov, oom);
    } else {
        rd_json_put(o, "coverage", cJSON_CreateNull(), oom);
    }
    if (t->scratch_type || t->isolation) {
        cJSON *iso = cJSON_CreateObject();
        rd_json_put_str(iso, "scratch_type", t->scratch_type, oom);
        rd_json_put_str(iso, "statement", t->isolation, oom);
        rd_json_put(o, "isolation", iso, oom);
    } else {
        rd_json_put(o, "isolation", cJSON_CreateNull(), oom);
    }
    return o;
}

static cJSON *report_json(const rd_report *r, int *oom)
{
    rd_report_summary sum;
    cJSON *root = cJSON_CreateObject();
    rd_json_put_str(root, "schema", RD_REPORT_SCHEMA, oom);

    cJSON *tool = cJSON_CreateObject();
    rd_json_put_str(tool, "name", RD_REPORT_TOOL_NAME, oom);
    rd_json_put_str(tool, "version", r->tool_version ? r->tool_version : RD_VERSION, oom);
    rd_json_put(root, "tool", tool, oom);

    cJSON *d = cJSON_CreateObject();
    rd_json_put_str(d, "id", r->drill_id, oom);
    rd_json_put_str(d, "name", r->name, oom);
    put_u64(d, "seed", r->seed, oom);
    rd_json_put_time(d, "started_at", r->started_at_ms, oom);
    rd_json_put_time(d, "finished_at", r->finished_at_ms, oom);
    rd_json_put_str(d, "host", r->host, oom);
    rd_json_put_str(d, "user", r->user, oom);
    rd_json_put_str(d, "status", rd_verdict_name(r->status), oom);
    put_redacted(d, "config", r->config_path, oom);
    rd_json_put_str(d, "config_sha256", r->config_sha256, oom);
    put_redacted(d, "ci_job_url", r->ci_job_url, oom);
    rd_json_put_str(d, "signing_key", r->signing_key, oom);
    rd_json_put(d, "controls", strv_json(r->controls, r->ncontrols, oom), oom);
    rd_json_put(root, "drill", d, oom);

    cJSON *targets = cJSON_CreateArray();
    for (size_t i = 0; targets && i < r->ntargets; i++) {
        cJSON *t = target_json(&r->targets[i], oom);
        rd_json_push(targets, t, oom);
    }
    rd_json_put(root, "targets", targets, oom);

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
    rd_json_put(root, "summary", s, oom);
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
