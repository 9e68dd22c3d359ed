/* json_load.c: read a restoredrill/report/v1 JSON report back into the
 * model (for `restoredrill report` re-rendering) and merge shards. Missing
 * or null fields are "unknown"; a field of the wrong type is an error that
 * names its path. Unknown keys are ignored (newer minor writers). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"

#define RD_REPORT_MAX_BYTES ((size_t)512 * 1024 * 1024)

typedef struct ld {
    const char *name; /* file name for messages */
    rd_error *err;
} ld;

static rd_status bad(ld *c, const char *path, const char *key, const char *what)
{
    return RD_ERR(c->err, RD_ERR_FORMAT, "%s: %s%s%s: expected %s", c->name, path, *path ? "." : "",
                  key, what);
}

static const cJSON *field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return v && !cJSON_IsNull(v) ? v : NULL;
}

/* Optional string: *out untouched when absent/null. */
static rd_status get_str(ld *c, const cJSON *obj, const char *path, const char *key, char **out)
{
    const cJSON *v = field(obj, key);
    if (!v)
        return RD_OK;
    if (!cJSON_IsString(v))
        return bad(c, path, key, "a string or null");
    char *s = rd_strdup(v->valuestring);
    if (!s)
        return RD_ERR(c->err, RD_ERR_NOMEM, "out of memory loading %s", c->name);
    free(*out);
    *out = s;
    return RD_OK;
}

/* Optional non-negative number of seconds: -1 when absent/null. */
static rd_status get_secs(ld *c, const cJSON *obj, const char *path, const char *key, double *out)
{
    const cJSON *v = field(obj, key);
    *out = -1;
    if (!v)
        return RD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0)
        return bad(c, path, key, "a non-negative number or null");
    *out = v->valuedouble;
    return RD_OK;
}

static rd_status get_time(ld *c, const cJSON *obj, const char *path, const char *key, int64_t *out)
{
    const cJSON *v = field(obj, key);
    *out = 0;
    if (!v)
        return RD_OK;
    if (!cJSON_IsString(v) || rd_time_parse(v->valuestring, out, NULL) != RD_OK)
        return bad(c, path, key, "an RFC 3339 time or null");
    return RD_OK;
}

static rd_status get_u64(ld *c, const cJSON *obj, const char *path, const char *key, uint64_t *out)
{
    const cJSON *v = field(obj, key);
    *out = 0;
    if (!v)
        return RD_OK;
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0 &&
        v->valuedouble == (double)(uint64_t)v->valuedouble) {
        *out = (uint64_t)v->valuedouble;
        return RD_OK;
    }
    if (cJSON_IsString(v) && v->valuestring[0] >= '0' && v->valuestring[0] <= '9') {
        char *end = NULL;
        errno = 0;
        unsigned long long n = strtoull(v->valuestring, &end, 10);
        if (errno == 0 && end && *end == '\0') {
            *out = (uint64_t)n;
            return RD_OK;
        }
    }
    return bad(c, path, key, "an unsigned 64-bit integer as a decimal string");
}

static rd_status get_count(ld *c, const cJSON *obj, const char *path, const char *key, size_t *out)
{
    const cJSON *v = field(obj, key);
    *out = 0;
    if (!v)
        return RD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
        v->valuedouble != (double)(size_t)v->valuedouble)
        return bad(c, path, key, "a non-negative integer");
    *out = (size_t)v->valuedouble;
    return RD_OK;
}

static rd_status get_verdict(ld *c, const cJSON *obj, const char *path, const char *key,
                             rd_verdict *out)
{
    const cJSON *v = field(obj, key);
    int p = v && cJSON_IsString(v) ? rd_verdict_parse(v->valuestring) : -1;
    if (p < 0)
        return bad(c, path, key, "one of passed, failed, error, skipped, aborted");
    *out = (rd_verdict)p;
    return RD_OK;
}

static rd_status get_met(ld *c, const cJSON *obj, const char *path, int *out)
{
    const cJSON *v = field(obj, "met");
    *out = 0;
    if (!v)
        return RD_OK;
    if (!cJSON_IsBool(v))
        return bad(c, path, "met", "true, false or null");
    *out = cJSON_IsTrue(v);
    return RD_OK;
}

static const cJSON *get_obj(const cJSON *obj, const char *key)
{
    const cJSON *v = field(obj, key);
    return v && cJSON_IsObject(v) ? v : NULL;
}

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

/* coverage.pitr back into t (the inverse of json.c's pitr_coverage). */
static rd_status load_pitr_coverage(ld *c, const cJSON *o, const char *path, rd_target_result *t)
{
    rd_status st = RD_OK;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "proven"), *x;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "window_seconds");
    int64_t from = 0, to = 0;
    TRY(get_time(c, o, path, "window_start", &t->pitr_window_start_ms));
    TRY(get_time(c, o, path, "window_end", &t->pitr_window_end_ms));
    if (!cJSON_IsNumber(w) || w->valuedouble < 0)
        return bad(c, path, "window_seconds", "a non-negative number");
    t->pitr_window_ms = (int64_t)(w->valuedouble * 1000.0 + 0.5);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n && !(t->pitr_proven = calloc(n, sizeof *t->pitr_proven)))
        return RD_ERR(c->err, RD_ERR_NOMEM, "out of memory loading %s", c->name);
    cJSON_ArrayForEach(x, arr)
    {
        TRY(get_time(c, x, path, "from", &from));
        TRY(get_time(c, x, path, "to", &to));
        t->pitr_proven[t->npitr_proven].from_ms = from;
        t->pitr_proven[t->npitr_proven].to_ms = to + 1;
        t->npitr_proven++;
    }
    const cJSON *td = get_obj(o, "this_drill");
    if (td) {
        TRY(get_time(c, td, path, "from", &t->pitr_this_from_ms));
        TRY(get_time(c, td, path, "to", &t->pitr_this_to_ms));
    }
out:
    return st;
}

static rd_status load_check(ld *c, const cJSON *j, const char *path, rd_target_result *t)
{
    rd_status st = RD_OK;
    char *type = NULL, *name = NULL, *object = NULL;
    rd_verdict v = RD_ERROR;
    rd_check_result *ck;
    if (!cJSON_IsObject(j))
        return RD_ERR(c->err, RD_ERR_FORMAT, "%s: %s: expected an object", c->name, path);
    TRY(get_str(c, j, path, "type", &type));
    TRY(get_str(c, j, path, "name", &name));
    TRY(get_str(c, j, path, "object", &object));
    TRY(get_verdict(c, j, path, "status", &v));
    ck = rd_target_add_check(t, type ? type : "check", name, object, v, NULL);
    if (!ck) {
        st = RD_ERR(c->err, RD_ERR_NOMEM, "out of memory loading %s", c->name);
        goto out;
    }
    TRY(get_str(c, j, path, "id", &ck->id));
    TRY(get_secs(c, j, path, "seconds", &ck->seconds));
    TRY(get_str(c, j, path, "message", &ck->message));
    TRY(get_str(c, j, path, "expected", &ck->expected));
    TRY(get_str(c, j, path, "actual", &ck->actual));
    TRY(get_str(c, j, path, "output", &ck->output));
    TRY(get_str(c, j, path, "database", &ck->database));
    const cJSON *props = field(j, "properties");
    if (props && !cJSON_IsObject(props)) {
        st = bad(c, path, "properties", "an object of strings");
        goto out;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, props)
    {
        if (!cJSON_IsString(p)) {
            st = RD_ERR(c->err, RD_ERR_FORMAT, "%s: %s.properties.%s: expected a string", c->name,
                        path, p->string);
            goto out;
        }
        rd_check_add_prop(ck, p->string, "%s", p->valuestring);
    }
out:
    free(type);
    free(name);
    free(object);
    return st;
}

/* Optional array of strings into a string vector. */
static rd_status get_strv(ld *c, const cJSON *obj, const char *path, const char *key, char ***v,
                          size_t *n)
{
    const cJSON *a = field(obj, key), *it;
    if (!a)
        return RD_OK;
    if (!cJSON_IsArray(a))
        return bad(c, path, key, "an array of strings");
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it))
            return bad(c, path, key, "an array of strings");
        if (rd_strv_push(v, n, it->valuestring, c->err) != RD_OK)
            return RD_ERR(c->err, RD_ERR_NOMEM, "out of memory loading %s", c->name);
    }
    return RD_OK;
}

static rd_status load_target(ld *c, const cJSON *j, const char *path, rd_report *r)
{
    rd_status st = RD_OK;
    char sub[128];
    char *name = NULL, *engine = NULL;
    rd_target_result *t;
    const cJSON *o, *a, *it;
    size_t i;
    if (!cJSON_IsObject(j))
        return RD_ERR(c->err, RD_ERR_FORMAT, "%s: %s: expected an object", c->name, path);
    TRY(get_str(c, j, path, "name", &name));
    TRY(get_str(c, j, path, "engine", &engine));
    if (!name) {
        st = bad(c, path, "name", "a string");
        goto out;
    }
    t = rd_report_add_target(r, name, engine);
    if (!t) {
        st = RD_ERR(c->err, RD_ERR_NOMEM, "out of memory loading %s", c->name);
        goto out;
    }
    TRY(get_verdict(c, j, path, "status", &t->status));
    TRY(get_time(c, j, path, "started_at", &t->started_at_ms));
    TRY(get_time(c, j, path, "finished_at", &t->finished_at_ms));
    TRY(get_str(c, j, path, "error", &t->error));
    TRY(get_str(c, j, path, "notes", &t->notes));
    TRY(get_strv(c, j, path, "controls", &t->controls, &t->ncontrols));
    if ((o = get_obj(j, "kept_scratch"))) {
        snprintf(sub, sizeof sub, "%s.kept_scratch", path);
        TRY(get_str(c, o, sub, "connect", &t->kept_connect));
        TRY(get_time(c, o, sub, "until", &t->kept_until_ms));
    }
    if ((o = get_obj(j, "coverage"))) {
        snprintf(sub, sizeof sub, "%s.coverage", path);
        TRY(get_str(c, o, sub, "map", &t->coverage_map));
        const cJSON *pc = get_obj(o, "pitr");
        if (pc) {
            snprintf(sub, sizeof sub, "%s.coverage.pitr", path);
            TRY(load_pitr_coverage(c, pc, sub, t));
        }
    }
    if ((o = get_obj(j, "isolation"))) {
        snprintf(sub, sizeof sub, "%s.isolation", path);
        TRY(get_str(c, o, sub, "scratch_type", &t->scratch_type));
        TRY(get_str(c, o, sub, "statement", &t->isolation));
    }
    if ((o = get_obj(j, "recovery_point"))) {
        double bytes;
        snprintf(sub, sizeof sub, "%s.recovery_point", path);
        TRY(get_str(c, o, sub, "id", &t->point.id));
        TRY(get_time(c, o, sub, "created_at", &t->point.created_at_ms));
        TRY(get_str(c, o, sub, "location", &t->point.location));
        TRY(get_secs(c, o, sub, "bytes", &bytes));
        t->point.bytes = bytes < 0 ? -1 : (int64_t)bytes;
        TRY(get_str(c, o, sub, "sha256", &t->point.sha256));
        TRY(get_str(c, o, sub, "format", &t->point.format));
        if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "base"))) {
            const cJSON *w = get_obj(o, "wal_range");
            TRY(get_str(c, o, sub, "base", &t->point.base));
            TRY(get_time(c, o, sub, "target_time", &t->point.target_time_ms));
            TRY(get_time(c, o, sub, "reached_time", &t->point.reached_time_ms));
            if (w) {
                TRY(get_str(c, w, sub, "first", &t->point.wal_first));
                TRY(get_str(c, w, sub, "last", &t->point.wal_last));
            }
        }
    }
    if ((o = get_obj(j, "sampling"))) {
        snprintf(sub, sizeof sub, "%s.sampling", path);
        TRY(get_str(c, o, sub, "strategy", &t->sampling_strategy));
        TRY(get_count(c, o, sub, "candidates", &t->sampling_candidates));
        TRY(get_u64(c, o, sub, "seed", &t->sampling_seed));
        TRY(get_time(c, o, sub, "pitr_target", &t->pitr_target_ms));
        TRY(get_str(c, o, sub, "reason", &t->sampling_reason));
    }
    if ((o = get_obj(j, "databases"))) {
        const cJSON *d;
        snprintf(sub, sizeof sub, "%s.databases", path);
        TRY(get_count(c, o, sub, "total", &t->databases_total));
        TRY(get_count(c, o, sub, "matched", &t->databases_matched));
        cJSON_ArrayForEach(d, field(o, "drilled"))
        {
            if (!cJSON_IsString(d)) {
                st = bad(c, sub, "drilled", "an array of strings");
                goto out;
            }
            TRY(rd_target_add_database(t, d->valuestring, c->err));
        }
    }
    if ((o = get_obj(j, "rto"))) {
        snprintf(sub, sizeof sub, "%s.rto", path);
        TRY(get_secs(c, o, sub, "seconds", &t->rto.seconds));
        TRY(get_secs(c, o, sub, "target_seconds", &t->rto.target_seconds));
        TRY(get_met(c, o, sub, &t->rto.met));
        TRY(get_secs(c, o, sub, "data_ready_seconds", &t->data_ready_seconds));
    }
    if ((o = get_obj(j, "rpo"))) {
        snprintf(sub, sizeof sub, "%s.rpo", path);
        TRY(get_secs(c, o, sub, "seconds", &t->rpo.seconds));
        TRY(get_secs(c, o, sub, "target_seconds", &t->rpo.target_seconds));
        TRY(get_met(c, o, sub, &t->rpo.met));
        TRY(get_str(c, o, sub, "basis", &t->rpo_basis));
        TRY(get_secs(c, o, sub, "exposure_seconds", &t->rpo_exposure_seconds));
        TRY(get_secs(c, o, sub, "newest_age_seconds", &t->newest_age_seconds));
        TRY(get_secs(c, o, sub, "data_lag_seconds", &t->data_lag_seconds));
    }
    a = field(j, "phases");
    i = 0;
    cJSON_ArrayForEach(it, a)
    {
        char *pname = NULL;
        double secs;
        rd_verdict v = RD_PASSED;
        int64_t pstart = 0, pend = 0;
        rd_phase *ph = NULL;
        snprintf(sub, sizeof sub, "%s.phases[%zu]", path, i++);
        if ((st = get_str(c, it, sub, "name", &pname)) == RD_OK &&
            (st = get_secs(c, it, sub, "seconds", &secs)) == RD_OK &&
            (st = get_verdict(c, it, sub, "status", &v)) == RD_OK &&
            (st = get_time(c, it, sub, "started_at", &pstart)) == RD_OK &&
            (st = get_time(c, it, sub, "finished_at", &pend)) == RD_OK &&
            !(ph = rd_target_add_phase(t, pname ? pname : "", secs, v)))
            st = RD_ERR(c->err, RD_ERR_NOMEM, "out of memory loading %s", c->name);
        if (ph) {
            ph->started_at_ms = pstart;
            ph->finished_at_ms = pend;
        }
        free(pname);
        if (st != RD_OK)
            goto out;
    }
    a = field(j, "checks");
    i = 0;
    cJSON_ArrayForEach(it, a)
    {
        snprintf(sub, sizeof sub, "%s.checks[%zu]", path, i++);
        TRY(load_check(c, it, sub, t));
    }
out:
    free(name);
    free(engine);
    return st;
}

rd_status rd_report_parse_json(const char *text, const char *name, rd_report **out, rd_error *err)
{
    rd_status st = RD_OK;
    ld c = {name ? name : "report", err};
    rd_report *r = NULL;
    const cJSON *d, *a, *it;
    size_t i = 0;
    cJSON *root = cJSON_Parse(text);
    if (!root || !cJSON_IsObject(root)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: not a json object", c.name);
        goto out;
    }
    const cJSON *schema = field(root, "schema");
    if (!schema || !cJSON_IsString(schema) || strcmp(schema->valuestring, RD_REPORT_SCHEMA) != 0) {
        st = bad(&c, "", "schema", "\"" RD_REPORT_SCHEMA "\"");
        goto out;
    }
    if (!(r = rd_report_new())) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory loading %s", c.name);
        goto out;
    }
    if ((d = get_obj(root, "tool")))
        TRY(get_str(&c, d, "tool", "version", &r->tool_version));
    if (!(d = get_obj(root, "drill"))) {
        st = bad(&c, "", "drill", "an object");
        goto out;
    }
    TRY(get_str(&c, d, "drill", "id", &r->drill_id));
    TRY(get_str(&c, d, "drill", "name", &r->name));
    TRY(get_u64(&c, d, "drill", "seed", &r->seed));
    TRY(get_time(&c, d, "drill", "started_at", &r->started_at_ms));
    TRY(get_time(&c, d, "drill", "finished_at", &r->finished_at_ms));
    TRY(get_str(&c, d, "drill", "host", &r->host));
    TRY(get_str(&c, d, "drill", "user", &r->user));
    TRY(get_verdict(&c, d, "drill", "status", &r->status));
    TRY(get_str(&c, d, "drill", "config", &r->config_path));
    TRY(get_str(&c, d, "drill", "config_sha256", &r->config_sha256));
    TRY(get_str(&c, d, "drill", "ci_job_url", &r->ci_job_url));
    TRY(get_str(&c, d, "drill", "signing_key", &r->signing_key));
    TRY(get_strv(&c, d, "drill", "controls", &r->controls, &r->ncontrols));
    a = field(root, "targets");
    if (!a || !cJSON_IsArray(a)) {
        st = bad(&c, "", "targets", "an array");
        goto out;
    }
    cJSON_ArrayForEach(it, a)
    {
        char path[32];
        snprintf(path, sizeof path, "targets[%zu]", i++);
        TRY(load_target(&c, it, path, r));
    }
    *out = r;
    r = NULL;
out:
    rd_report_free(r);
    cJSON_Delete(root);
    return st;
}

rd_status rd_report_load_json(const char *path, rd_report **out, rd_error *err)
{
    char *text = NULL;
    size_t len = 0;
    rd_status st = rd_fs_read_file(path, RD_REPORT_MAX_BYTES, &text, &len, err);
    if (st == RD_OK)
        st = rd_report_parse_json(text, path, out, err);
    free(text);
    return st;
}
