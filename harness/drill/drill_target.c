/* drill_target.c: one target's drill: sample -> fetch -> provision ->
 * restore (-> recover for physical points, drill_physical.c) -> verify -> teardown, each phase
 * timed, teardown always (unless
 * --keep-scratch; on abort the orchestrator tears everything down).
 * The logical point's fetch is drill_fetch.c, provision and teardown
 * drill_scratch.c, restore drill_restore.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "drill_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore.h"
#include "restoredrill/sha256.h"

static void set_point_info(rd_drill_target *dt)
{
    const rd_point *pt = dt->point;
    rd_point_info *pi = &dt->res->point;
    char red[2048];
    pi->id = rd_strdup(pt->id);
    pi->created_at_ms = pt->created_ms;
    pi->location = rd_strdup(rd_redact(pt->location ? pt->location : "", red, sizeof(red)));
    pi->bytes = pt->bytes;
    pi->sha256 = rd_strdup(pt->sha256);
    pi->format = rd_strdup(pt->format);
    dt->point_created_ms = pt->created_ms;
    if (pt->base) {
        pi->base = rd_strdup(pt->base);
        pi->target_time_ms = dt->sample.target_ms;
        if (dt->sample.pitr == RD_PITR_TIME || dt->sample.pitr == RD_PITR_LATEST) {
            dt->res->pitr_target_ms = dt->sample.target_ms;
            dt->point_created_ms = dt->sample.target_ms; /* the state restored */
        }
    }
}

/* sample: list the catalog and pick. 0 on failure (recorded). */
static int phase_sample(rd_drill_target *dt)
{
    const rd_target_cfg *t = dt->t;
    size_t *counts = NULL;
    rd_error err;
    rd_status st;
    double start = rd_mono_now();
    rd_error_clear(&err);
    free(dt->res->sampling_strategy);
    dt->res->sampling_strategy = rd_strdup(t->sample.strategy ? t->sample.strategy : "latest");
    dt->res->sampling_seed = dt->seed;
    rd_status lst = rd_catalog_list(&t->catalog, &dt->points, &err);
    st = lst;
    if (st == RD_OK && t->catalog.per_database) {
        /* the files of one time are one point */
        dt->files = dt->points;
        memset(&dt->points, 0, sizeof dt->points);
        st = rd_drill_group_points(&t->catalog, &dt->files, &dt->points, &err);
    }
    if (st == RD_OK && !(counts = rd_drill_verified_counts(dt)))
        st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK && dt->points.archive && dt->opts && dt->opts->proven && !dt->proven)
        dt->nproven = dt->opts->proven(dt->opts->verified_ud, t->name, &dt->proven);
    if (st == RD_OK)
        st = rd_sample_pick_history(&dt->points, &t->sample, dt->seed, dt->t0_ms, counts,
                                    dt->proven, dt->nproven, &dt->sample, &err);
    if (st == RD_OK)
        rd_drill_record_sampling(dt, counts);
    free(counts);
    if (lst == RD_OK && st == RD_ERR_NOTFOUND && dt->points.n == 0 && t->catalog.type &&
        strcmp(t->catalog.type, "dir") == 0)
        RD_ERR(&err, RD_ERR_NOTFOUND,
               "no recovery points in the catalog: catalog.pattern \"%s\" matches no file in %s",
               t->catalog.pattern && *t->catalog.pattern ? t->catalog.pattern : "*",
               t->catalog.path);
    if (t->engine != RD_ENGINE_S3) /* a versioned bucket's window is no WAL archive */
        rd_drill_archive_result(dt);
    if (st != RD_OK) {
        rd_sample_exposure(&dt->points, t->sample.window, dt->t0_ms, &dt->sample);
        rd_measure_phase(dt->res, "sample", start, st == RD_ERR_NOTFOUND ? RD_FAILED : RD_ERROR);
        rd_measure_max_age(dt, dt->points.n > 0);
        rd_drill_target_fail(dt, "sample", st == RD_ERR_NOTFOUND ? RD_FAILED : RD_ERROR, err.msg);
        return 0;
    }
    dt->sampled = 1;
    dt->point = &dt->points.items[dt->sample.index];
    dt->res->sampling_candidates = dt->sample.candidates;
    set_point_info(dt);
    rd_measure_phase(dt->res, "sample", start, RD_PASSED);
    rd_measure_max_age(dt, 1);
    rd_log_info("%s: sampled %s (%s of %zu candidates, seed %llu)", t->name, dt->point->id,
                dt->res->sampling_strategy, dt->sample.candidates, (unsigned long long)dt->seed);
    return 1;
}

static rd_status point_vars(rd_drill_target *dt, rd_strlist *vars, rd_error *err)
{
    char when[RD_TIME_BUFSZ];
    const rd_point *pt = dt->point;
    char *items[4] = {
        rd_asprintf("point.id=%s", pt->id),
        rd_asprintf("point.location=%s", pt->location ? pt->location : ""),
        rd_asprintf("point.created_at=%s", rd_time_format(pt->created_ms, when, sizeof(when))),
        rd_asprintf("target.name=%s", dt->t->name),
    };
    rd_status st = RD_OK;
    for (size_t i = 0; i < 4; i++) {
        if (st == RD_OK)
            st = items[i] ? rd_strlist_push(vars, items[i], err)
                          : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(items[i]);
    }
    return st;
}

void rd_drill_target_plan(rd_drill_target *dt)
{
    dt->t0 = rd_mono_now();
    dt->t0_ms = rd_wall_now_ms();
    dt->res->started_at_ms = dt->t0_ms;
    if (phase_sample(dt) && dt->t->databases.n && !dt->point->base) {
        /* which databases a run would drill: the fetch's listing and pick (a
         * physical point's are listed only once it is restored) */
        rd_artifact *a = NULL;
        const rd_restore_type *drv = NULL;
        (void)rd_drill_phase_fetch(dt, &a, &drv);
        rd_artifact_free(a);
        rd_drill_ranges_free(dt);
    }
    free(dt->proven);
    dt->proven = NULL;
    dt->nproven = 0;
    dt->res->finished_at_ms = rd_wall_now_ms();
}

void rd_drill_target_run(rd_drill_target *dt)
{
    const rd_target_cfg *t = dt->t;
    rd_artifact *a = NULL;
    const rd_restore_type *drv = NULL;
    const rd_physical_type *pdrv = NULL;
    rd_strlist vars = {0};
    const char **tvars = NULL;
    rd_error err;
    rd_error_clear(&err);

    dt->t0 = rd_mono_now();
    dt->t0_ms = rd_wall_now_ms();
    dt->res->started_at_ms = dt->t0_ms;
    rd_log_info("%s: drill started", t->name);

    if (!phase_sample(dt))
        goto skip_fetch;
    if (point_vars(dt, &vars, &err) != RD_OK || !(tvars = rd_strlist_argv(&vars))) {
        rd_drill_target_fail(dt, "sample", RD_ERROR, err.msg[0] ? err.msg : "out of memory");
        goto skip_fetch;
    }
    dt->physical = dt->point->base != NULL && t->engine != RD_ENGINE_S3; /* s3: a version window */
    if (t->engine == RD_ENGINE_DYNAMODB ? !rd_drill_dyn_fetch(dt)
        : t->engine == RD_ENGINE_S3     ? !rd_drill_s3_fetch(dt)
        : dt->physical                  ? !rd_drill_physical_fetch(dt, &pdrv)
                                        : !rd_drill_phase_fetch(dt, &a, &drv))
        goto skip_provision;
    if (rd_abort_requested() || !rd_drill_phase_provision(dt, tvars, a))
        goto skip_restore;
    if (!rd_abort_requested() && (t->engine == RD_ENGINE_DYNAMODB ? rd_drill_dyn_restore(dt)
                                  : t->engine == RD_ENGINE_S3     ? rd_drill_s3_restore(dt)
                                  : dt->physical ? rd_drill_physical_restore(dt, pdrv)
                                                 : rd_drill_phase_restore(dt, a, drv))) {
        double start = rd_mono_now();
        rd_strlist_free(&vars);
        free(tvars);
        tvars = NULL;
        if (point_vars(dt, &vars, &err) == RD_OK &&
            rd_scratch_vars(dt->scratch, &vars, &err) == RD_OK)
            tvars = rd_strlist_argv(&vars);
        dt->verify_ok = rd_drill_verify(dt, rd_drill_deadline_in(t->timeout_verify), tvars);
        dt->verify_end = rd_mono_now();
        if (rd_abort_requested())
            dt->aborted = 1;
        rd_measure_phase(dt->res, "verify", start,
                         dt->aborted     ? RD_ABORTED
                         : dt->verify_ok ? RD_PASSED
                                         : RD_FAILED);
        if ((t->negative_control || dt->opts->negative_control) && !dt->aborted) {
            if (t->engine == RD_ENGINE_DYNAMODB || t->engine == RD_ENGINE_S3) /* faults are SQL */
                (void)rd_target_add_check(
                    dt->res, "negative_control", "negative_control", "faults", RD_SKIPPED,
                    t->engine == RD_ENGINE_S3 ? "not supported for s3 (not implemented yet)"
                                              : "not supported for dynamodb (not implemented yet)");
            else if (dt->verify_ok)
                rd_drill_negative_control(dt, rd_drill_deadline_in(t->timeout_verify), tvars);
            else
                (void)rd_target_add_check(
                    dt->res, "negative_control", "negative_control", "faults", RD_SKIPPED,
                    "not run: the checks did not pass, so there is nothing to prove them on");
        }
        if (!dt->verify_ok && !dt->res->error)
            rd_target_set_error(dt->res, "verify: not every check passed");
    } else {
        if (!dt->restore_ok && rd_abort_requested())
            dt->aborted = 1;
        rd_measure_skip(dt->res, "verify");
    }
    goto teardown;

skip_fetch:
    rd_measure_skip(dt->res, "fetch");
skip_provision:
    rd_measure_skip(dt->res, "provision");
skip_restore:
    rd_measure_skip(dt->res, "restore");
    if (dt->physical)
        rd_measure_skip(dt->res, "recover");
    rd_measure_skip(dt->res, "verify");
teardown:
    if (rd_abort_requested())
        dt->aborted = 1;
    rd_artifact_free(a);
    rd_drill_phase_teardown(dt);
    rd_db_free(dt->reference);
    dt->reference = NULL;
    rd_dyn_verify_free(dt->dyn);
    free(dt->dyn);
    dt->dyn = NULL;
    rd_drill_s3_free(dt);
    rd_measure_finish(dt);
    if (dt->aborted) {
        dt->res->status = RD_ABORTED;
        if (!dt->res->error)
            rd_target_set_error(dt->res, "aborted by signal %d", rd_abort_requested());
    }
    rd_target_settle(dt->res);
    for (size_t i = 0; !dt->res->error && dt->res->status != RD_PASSED && i < dt->res->nchecks;
         i++) {
        const rd_check_result *c = &dt->res->checks[i];
        if (c->status == RD_FAILED || c->status == RD_ERROR)
            rd_target_set_error(dt->res, "%s %s: %s", c->check ? c->check : c->type,
                                c->object ? c->object : "", c->message ? c->message : "");
    }
    dt->res->finished_at_ms = rd_wall_now_ms();
    rd_log_info("%s: %s", t->name, rd_verdict_name(dt->res->status));
    free(tvars);
    rd_strlist_free(&vars);
    rd_strlist_free(&dt->dbs);
    rd_manifest_free(dt->cluster);
    dt->cluster = NULL;
    dt->cluster_loaded = 0;
    dt->chosen = 0;
    rd_drill_ranges_free(dt);
    free(dt->proven);
    dt->proven = NULL;
    dt->nproven = 0;
}
