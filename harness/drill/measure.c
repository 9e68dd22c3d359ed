/* measure.c: phases, RTO, RPO and the objectives (rto, rpo, max_age) as
 * results (DESIGN section 3). All durations come from the monotonic clock;
 * RPO instants are wall-clock milliseconds from the catalog and the data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

double rd_drill_deadline_in(double timeout)
{
    return timeout > 0 ? rd_mono_now() + timeout : 0;
}

void rd_measure_phase(rd_target_result *res, const char *name, double start, rd_verdict v)
{
    double secs = rd_mono_now() - start;
    rd_phase *p = rd_target_add_phase(res, name, secs < 0 ? 0 : secs, v);
    if (!p) {
        rd_log_error("out of memory recording phase %s", name);
        return;
    }
    p->finished_at_ms = rd_wall_now_ms(); /* the start: the same span back, to the ms */
    p->started_at_ms = p->finished_at_ms - (int64_t)(p->seconds * 1000.0 + 0.5);
}

void rd_drill_phase_end(rd_drill_target *dt, const char *name, double start, int ok,
                        rd_verdict otherwise)
{
    rd_measure_phase(dt->res, name, start, ok ? RD_PASSED : dt->aborted ? RD_ABORTED : otherwise);
}

rd_verdict rd_drill_step_verdict(rd_drill_target *dt, rd_status st)
{
    if (st == RD_ERR_ABORTED || rd_abort_requested())
        dt->aborted = 1;
    return st == RD_OK                                                ? RD_PASSED
           : dt->aborted || st == RD_ERR_CONFIG || st == RD_ERR_NOMEM ? RD_ERROR
                                                                      : RD_FAILED;
}

void rd_measure_skip(rd_target_result *res, const char *name)
{
    if (!rd_target_add_phase(res, name, 0, RD_SKIPPED))
        rd_log_error("out of memory recording phase %s", name);
}

static void objective(rd_target_result *res, const char *object, int met, double secs,
                      double target, const char *what)
{
    char a[64], b[64], tb[32];
    rd_check_result *c =
        rd_target_add_check(res, "objective", "objective", object, met ? RD_PASSED : RD_FAILED, "");
    if (!c)
        return;
    c->seconds = 0;
    rd_duration_format(target, tb, sizeof(tb));
    rd_check_set_expected(c, "<= %s", tb);
    if (secs < 0) {
        rd_check_set_actual(c, "not measured");
        rd_check_set_message(c, "%s not achieved: %s", object, what);
        return;
    }
    rd_check_set_actual(c, "%.3fs", secs);
    rd_duration_human(secs, a, sizeof(a));
    rd_duration_human(target, b, sizeof(b));
    if (met)
        rd_check_set_message(c, "%s %s within the objective of %s", object, a, b);
    else if (what)
        rd_check_set_message(c, "%s not achieved: %s after %s (objective %s)", object, what, a, b);
    else
        rd_check_set_message(c, "%s %s exceeds the objective of %s", object, a, b);
}

void rd_measure_max_age(rd_drill_target *dt, int have_points)
{
    double max_age = dt->t->sample.max_age;
    if (max_age < 0)
        return;
    if (!have_points || dt->sample.newest_age_seconds < 0) {
        objective(dt->res, "max_age", 0, -1, max_age, "there is no recovery point");
        return;
    }
    double age = dt->sample.newest_age_seconds;
    char a[64], b[64];
    rd_check_result *c = NULL;
    int met = age <= max_age;
    objective(dt->res, "max_age", met, age, max_age, NULL);
    c = &dt->res->checks[dt->res->nchecks - 1];
    rd_duration_human(age, a, sizeof(a));
    rd_duration_human(max_age, b, sizeof(b));
    if (met)
        rd_check_set_message(c, "the newest recovery point is %s old (max_age %s)", a, b);
    else
        rd_check_set_message(c, "the newest recovery point is %s old, older than max_age %s", a, b);
}

void rd_measure_finish(rd_drill_target *dt)
{
    rd_target_result *res = dt->res;
    const rd_target_cfg *t = dt->t;
    double now = rd_mono_now();
    int ok = dt->restore_ok && dt->verify_ok && !dt->aborted;

    res->data_ready_seconds = dt->restore_ok && dt->restore_end > 0 ? dt->restore_end - dt->t0 : -1;
    res->rto.target_seconds = t->rto;
    if (ok) {
        res->rto.seconds = dt->verify_end - dt->t0;
        res->rto.met = t->rto < 0 || res->rto.seconds <= t->rto;
    } else {
        res->rto.seconds = now - dt->t0;
        res->rto.met = 0;
    }

    res->rpo.target_seconds = t->rpo;
    res->rpo_exposure_seconds = dt->sampled ? dt->sample.exposure_seconds : -1;
    res->newest_age_seconds = dt->sampled ? dt->sample.newest_age_seconds : -1;
    res->data_lag_seconds = -1;
    if (dt->sampled) {
        int64_t newest = dt->point_created_ms;
        const char *basis = "catalog";
        if (dt->newest_data_ms > 0) {
            newest = dt->newest_data_ms;
            basis = dt->newest_data_basis ? dt->newest_data_basis : "query";
            res->data_lag_seconds = (double)(dt->point_created_ms - newest) / 1000.0;
        }
        free(res->rpo_basis);
        res->rpo_basis = rd_strdup(basis);
        res->rpo.seconds = (double)(dt->sample.incident_ms - newest) / 1000.0;
        res->rpo.met = t->rpo < 0 || res->rpo.seconds <= t->rpo;
    } else {
        res->rpo.seconds = -1;
        res->rpo.met = 0;
    }

    if (t->rto >= 0 && !dt->aborted)
        objective(res, "rto", res->rto.met, res->rto.seconds, t->rto,
                  ok ? NULL : "the drill did not complete");
    if (t->rpo >= 0 && !dt->aborted)
        objective(res, "rpo", res->rpo.met, res->rpo.seconds, t->rpo,
                  dt->sampled ? NULL : "nothing was sampled");
}
