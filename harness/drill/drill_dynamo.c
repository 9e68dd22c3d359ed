/* drill_dynamo.c: the phases of a dynamodb target that differ from a SQL
 * target: fetch verifies the whole recovery point before anything is
 * restored, restore creates the table on the scratch endpoint and loads
 * it with BatchWriteItem. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define LOAD_WORKERS 8

/* The catalog's S3 options, for points in S3. */
static rd_s3_opts s3_opts(const rd_target_cfg *t)
{
    rd_s3_opts o = {.endpoint = t->catalog.endpoint,
                    .region = t->catalog.region,
                    .path_style = t->catalog.path_style};
    return o;
}

static int export_result(rd_drill_target *dt, const char *object, int ok, double secs,
                         const char *findings, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int export_result(rd_drill_target *dt, const char *object, int ok, double secs,
                         const char *findings, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rd_check_result *c =
        rd_target_add_check(dt->res, "export", "export", object, ok ? RD_PASSED : RD_FAILED, "");
    if (c) {
        c->seconds = secs;
        rd_check_set_message(c, "%s", msg);
        if (!ok && findings && *findings)
            rd_check_set_output(c, findings);
    }
    if (!ok)
        rd_log_error("%s: export %s: %s", dt->t->name, object, msg);
    return ok;
}

/* The key checked and the table created: `key`, else the key schema of
 * reference.description (loaded into *desc; both must agree when both are
 * given). */
static rd_status table_key(const rd_target_cfg *t, cJSON **desc, rd_strlist *key, rd_error *err)
{
    char types[2];
    rd_strlist dk = {0};
    rd_status st = RD_OK;
    *desc = NULL;
    if (t->reference.description &&
        (st = rd_dyn_description_load(t->reference.description, desc, err)) == RD_OK)
        st = rd_dyn_description_key(*desc, &dk, types, err);
    if (st == RD_OK && t->key.n && dk.n &&
        (dk.n != t->key.n || strcmp(dk.items[0], t->key.items[0]) != 0 ||
         (dk.n > 1 && strcmp(dk.items[1], t->key.items[1]) != 0)))
        st = RD_ERR(err, RD_ERR_CONFIG, "key [%s%s%s] differs from the key schema of %s [%s%s%s]",
                    t->key.items[0], t->key.n > 1 ? ", " : "", t->key.n > 1 ? t->key.items[1] : "",
                    t->reference.description, dk.items[0], dk.n > 1 ? ", " : "",
                    dk.n > 1 ? dk.items[1] : "");
    for (size_t i = 0; st == RD_OK && i < t->key.n; i++)
        st = rd_strlist_push(key, t->key.items[i], err);
    if (st == RD_OK && !t->key.n) {
        *key = dk;
        dk = (rd_strlist){0};
    }
    rd_strlist_free(&dk);
    if (st != RD_OK) {
        cJSON_Delete(*desc);
        *desc = NULL;
        rd_strlist_free(key);
    }
    return st;
}

int rd_drill_dyn_fetch(rd_drill_target *dt)
{
    const rd_target_cfg *t = dt->t;
    const rd_point *pt = dt->point;
    const char **dec = t->restore.decrypt.n ? rd_strlist_argv(&t->restore.decrypt) : NULL;
    rd_dyn_verify *v = calloc(1, sizeof *v);
    rd_error err;
    double start = rd_mono_now();
    rd_s3_opts s3o = s3_opts(t);
    rd_status st;
    int ok = 1;
    rd_error_clear(&err);
    rd_strlist key = {0};
    cJSON *desc = NULL;
    rd_log_info("%s: verifying %s", t->name, pt->id);
    st = v ? table_key(t, &desc, &key, &err) : RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
    /* the key runs go to the run directory (where scratch instances live) */
    char *rundir = st == RD_OK ? rd_scratch_rundir(NULL) : NULL;
    if (st == RD_OK && !rundir)
        st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK)
        st = rd_fs_mkdir_p(rundir, 0755, &err);
    if (st == RD_OK)
        st = rd_dyn_verify_point(pt->location, dec, &s3o, &key, rundir,
                                 rd_drill_deadline_in(t->timeout_fetch), v, &err);
    free(rundir);
    free(dec);
    double secs = rd_mono_now() - start;
    if (st != RD_OK) {
        rd_strlist_free(&key);
        cJSON_Delete(desc);
        free(v);
        if (st == RD_ERR_ABORTED || rd_abort_requested())
            dt->aborted = 1;
        rd_measure_phase(dt->res, "fetch", start, dt->aborted ? RD_ABORTED : RD_FAILED);
        rd_drill_target_fail(dt, "fetch", dt->aborted ? RD_ERROR : RD_FAILED, err.msg);
        return 0;
    }
    v->key = key;
    v->description = desc;
    dt->dyn = v;
    free(dt->res->point.format);
    dt->res->point.format =
        rd_strdup(v->kind == RD_DYN_EXPORT ? "dynamodb-export" : "dynamodb-scan");
    const char *fnd = v->findings.data;
    if (v->kind == RD_DYN_EXPORT) {
        ok &= export_result(dt, "files", v->files_bad == 0, secs, fnd,
                            v->files_bad == 0
                                ? "%zu data files: MD5 and item counts match manifest-files.json"
                                : "%zu of %zu data files differ from manifest-files.json: %s",
                            v->files_bad ? v->files_bad : v->files, v->files,
                            v->first_md5     ? v->first_md5
                            : v->first_count ? v->first_count
                                             : "");
        ok &= export_result(dt, "items", v->items == v->manifest_items, 0, fnd,
                            "%lld items, manifest-summary.json says %lld", (long long)v->items,
                            (long long)v->manifest_items);
    }
    char keyname[256];
    snprintf(keyname, sizeof keyname, "%s%s%s", v->key.items[0], v->key.n > 1 ? ", " : "",
             v->key.n > 1 ? v->key.items[1] : "");
    if (v->duplicate_keys == 0 && v->key_errors == 0)
        ok &= export_result(dt, "keys", 1, 0, fnd, "%lld keys (%s) unique", (long long)v->items,
                            keyname);
    else
        ok &= export_result(
            dt, "keys", 0, 0, fnd, "%zu duplicate keys and %zu items without a valid key (%s): %s",
            v->duplicate_keys, v->key_errors, keyname, v->first_key ? v->first_key : "");
    if (v->parse_errors == 0)
        ok &= export_result(dt, "parse", 1, 0, fnd, "%lld items parsed", (long long)v->items);
    else
        ok &= export_result(dt, "parse", 0, 0, fnd, "%zu lines or items do not parse: %s",
                            v->parse_errors, v->first_parse ? v->first_parse : "");
    rd_measure_phase(dt->res, "fetch", start, ok ? RD_PASSED : RD_FAILED);
    if (!ok && !dt->res->error)
        rd_target_set_error(dt->res, "fetch: the recovery point failed verification");
    return ok;
}

int rd_drill_dyn_restore(rd_drill_target *dt)
{
    const rd_target_cfg *t = dt->t;
    const rd_conninfo *c = &dt->scratch->conn;
    const char **dec = t->restore.decrypt.n ? rd_strlist_argv(&t->restore.decrypt) : NULL;
    rd_dyn_load_stats stats = {0};
    rd_s3_opts s3o = s3_opts(t);
    rd_dyn_client *cl = NULL;
    const char *access, *secret;
    rd_error err;
    char human[64];
    double start = rd_mono_now(), deadline = rd_drill_deadline_in(t->restore.timeout);
    int workers = t->restore.jobs > 0 ? t->restore.jobs : LOAD_WORKERS;
    rd_error_clear(&err);
    rd_dyn_credentials(&access, &secret);
    rd_log_info("%s: restoring %s into table %s on %s", t->name, dt->point->id, c->database,
                c->url);
    rd_status st = rd_dyn_client_new(c->url, NULL, access, secret, &cl, &err);
    if (st == RD_OK)
        st = dt->dyn->description
                 ? rd_dyn_create_table_like(cl, c->database, dt->dyn->description, deadline, &err)
                 : rd_dyn_create_table(cl, c->database, &dt->dyn->key, dt->dyn->key_type, deadline,
                                       &err);
    if (st == RD_OK)
        st = rd_dyn_load(c->url, NULL, c->database, dt->point->location, dec, &s3o, workers,
                         deadline, &stats, &err);
    rd_dyn_client_free(cl);
    free(dec);
    double secs = rd_mono_now() - start;
    if (st == RD_ERR_ABORTED || rd_abort_requested())
        dt->aborted = 1;
    rd_verdict v = st == RD_OK ? RD_PASSED : dt->aborted ? RD_ERROR : RD_FAILED;
    rd_check_result *r = rd_target_add_check(dt->res, "restore", "restore", dt->point->id, v, "");
    if (r) {
        r->seconds = secs;
        if (st == RD_OK)
            rd_check_set_message(r, "restored %s (%lld items, %s) into %s in %s (%.0f items/s)",
                                 dt->point->id, (long long)stats.items,
                                 dt->res->point.format ? dt->res->point.format : "?", c->database,
                                 rd_duration_human(secs, human, sizeof(human)),
                                 secs > 0 ? (double)stats.items / secs : 0.0);
        else
            rd_check_set_message(r, "%s", err.msg);
        rd_check_add_prop(r, "driver", "%s", "dynamodb-batchwrite");
        rd_check_add_prop(r, "items", "%lld", (long long)stats.items);
        rd_check_add_prop(r, "requests", "%lld", (long long)stats.requests);
        rd_check_add_prop(r, "unprocessed_retried", "%lld", (long long)stats.retried);
        rd_check_add_prop(r, "workers", "%d", workers);
    }
    rd_drill_phase_end(dt, "restore", start, st == RD_OK, v);
    if (st != RD_OK) {
        if (!dt->res->error)
            rd_target_set_error(dt->res, "restore: %s", err.msg);
        rd_log_error("%s: restore failed: %s", t->name, err.msg);
        return 0;
    }
    dt->restore_ok = 1;
    dt->restore_end = rd_mono_now();
    return 1;
}
