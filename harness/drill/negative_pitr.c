/* negative_pitr.c: the negative control's PITR fault (DESIGN section 12):
 * after a drill to a target time T passed, recover the same archive a
 * second time, into a second scratch instance, to E = T - (recovery.tolerance
 * + 1s), and judge that recovery by the recovery result's own rules as if
 * it had been asked for T (rd_drill_recovery_verdict). The recovery result
 * must fail it (its newest heartbeat row is at or before E, so more than the
 * tolerance before T; for "latest" it also ended before the last reachable
 * commit): one negative_control result "recovery to an earlier time",
 * passed when it did, failed when it did not.
 *
 *   no heartbeat rows in the restored database   skipped: the recovery
 *       result can then only notice a recovery that went past its target
 *   E before the restorable window               skipped (another target
 *       time tests it), or failed when recovery.tolerance is as long as
 *       the whole window: no stop anywhere in it could be noticed
 *   no base backup reaches E (a gap)             skipped, with the reason
 *   the second recovery fails                    error (nothing was planted)
 *
 * The second instance is always torn down; its time is reported on the
 * result and is inside the negative_control phase, not the RTO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/restore.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

#define FAULT "recovery to an earlier time"
#define MARGIN_MS 1000

static void add(rd_drill_target *dt, rd_verdict v, double secs, const char *msg)
{
    rd_check_result *r =
        rd_target_add_check(dt->res, "negative_control", "negative_control", FAULT, v, "");
    if (!r)
        return;
    r->seconds = secs;
    rd_check_set_message(r, "%s", msg);
    rd_check_set_expected(r, "the recovery result fails a recovery to more than "
                             "recovery.tolerance before the target");
}

static const char *tf(int64_t ms, char *buf, size_t n)
{
    return ms > 0 ? rd_time_format(ms, buf, n) : "unknown";
}

/* E is before the restorable window: skipped, or failed when the tolerance
 * spans the whole window (no early stop could ever be noticed in it). */
static void before_window(rd_drill_target *dt, int64_t target, int64_t early, int64_t tol)
{
    const rd_archive *a = dt->points.archive;
    char b1[RD_TIME_BUFSZ], b2[RD_TIME_BUFSZ], b3[RD_TIME_BUFSZ], h1[64], h2[64];
    char msg[RD_ERROR_MSG_MAX];
    int64_t span = a->end_ms - a->start_ms;
    rd_duration_human((double)tol / 1000.0, h1, sizeof h1);
    if (tol >= span) {
        snprintf(msg, sizeof msg,
                 "recovery.tolerance %s is as long as the whole restorable window (%s to %s, %s): "
                 "the recovery result cannot notice a recovery that stopped short anywhere in it",
                 h1, tf(a->start_ms, b1, sizeof b1), tf(a->end_ms, b2, sizeof b2),
                 rd_duration_human((double)span / 1000.0, h2, sizeof h2));
        add(dt, RD_FAILED, -1, msg);
        return;
    }
    snprintf(msg, sizeof msg,
             "%s not planted: %s (recovery.tolerance %s + 1s before the target %s) is before the "
             "restorable window (%s): no earlier moment to recover to",
             FAULT, tf(early, b1, sizeof b1), h1, tf(target, b2, sizeof b2),
             tf(a->start_ms, b3, sizeof b3));
    add(dt, RD_SKIPPED, -1, msg);
}

/* Lay and recover point pt to `early` in a second instance; judge it.
 * Returns the verdict of the control (RD_ERROR when it could not recover). */
static rd_verdict second_recovery(rd_drill_target *dt, const rd_sample *sm2, double deadline,
                                  rd_strbuf *msg, rd_recovery_facts *f)
{
    const rd_target_cfg *t = dt->t;
    const rd_point *pt = &dt->points.items[sm2->index];
    const rd_physical_type *drv = rd_physical_for(t->engine, pt);
    rd_scratch *s = NULL;
    rd_restore_outcome oc;
    rd_recovery_outcome ro;
    rd_error err;
    rd_verdict v = RD_ERROR;
    char b1[RD_TIME_BUFSZ], b2[RD_TIME_BUFSZ], b3[RD_TIME_BUFSZ];
    rd_restore_outcome_init(&oc);
    rd_recovery_outcome_init(&ro);
    rd_error_clear(&err);
    if (!drv) {
        rd_strbuf_appendf(msg, NULL, "no physical restore driver for %s", pt->id);
        goto out;
    }
    rd_scratch_req req = {
        .drill_id = dt->drill_id, .target = t->name, .deadline = deadline, .physical = 1};
    rd_recovery_target rt = {.kind = RD_PITR_TIME,
                             .time_ms = sm2->target_ms,
                             .archive = dt->points.archive,
                             .catalog = &t->catalog,
                             .settings = &t->recovery.settings,
                             .database = t->database,
                             .target_name = t->name};
    rd_status st = rd_scratch_provision(&t->scratch, t->engine, &req, &s, &err);
    if (st == RD_OK)
        st = drv->lay(&t->restore, pt, &rt, s, deadline, &oc, &err);
    if (st == RD_OK) {
        double rdl = t->recovery.timeout > 0 ? rd_mono_now() + t->recovery.timeout : 0;
        st = drv->recover(&t->restore, pt, &rt, s,
                          deadline > 0 && (rdl == 0 || deadline < rdl) ? deadline : rdl, &ro, &err);
    }
    int present = 0;
    int64_t hb = 0;
    if (st == RD_OK)
        st = rd_drill_newest_heartbeat(t->engine, s, &hb, &present, &err);
    if (st != RD_OK) {
        rd_strbuf_appendf(msg, NULL,
                          "%s not planted: the second recovery (from %s to %s) failed: %s", FAULT,
                          pt->id, tf(sm2->target_ms, b1, sizeof b1), err.msg);
        goto out;
    }
    f->reached_ms = ro.reached_ms;
    f->hb_present = present;
    f->hb_ms = hb;
    rd_strbuf why;
    rd_strbuf_init(&why, 4096);
    v = rd_drill_recovery_verdict(f, &why) == RD_FAILED ? RD_PASSED : RD_FAILED;
    if (v == RD_PASSED)
        rd_strbuf_appendf(msg, NULL, "recovery of %s to %s caught by recovery: %s", pt->id,
                          tf(sm2->target_ms, b1, sizeof b1), why.data ? why.data : "");
    else
        rd_strbuf_appendf(msg, NULL,
                          "recovery of %s to %s: no check caught it (the recovery result would "
                          "pass it: last replayed commit %s, newest heartbeat %s)",
                          pt->id, tf(sm2->target_ms, b1, sizeof b1),
                          tf(ro.reached_ms, b2, sizeof b2),
                          present ? tf(hb, b3, sizeof b3) : "none");
    rd_strbuf_free(&why);
out:
    if (s) {
        rd_error e2;
        if (rd_scratch_teardown(s, &e2) != RD_OK)
            rd_log_error("%s: negative control: teardown of the second instance failed: %s",
                         t->name, e2.msg);
        rd_scratch_free(s);
    }
    rd_restore_outcome_free(&oc);
    rd_recovery_outcome_free(&ro);
    return v;
}

void rd_drill_negative_pitr(rd_drill_target *dt, double deadline)
{
    const rd_sample *sm = &dt->sample;
    const rd_archive *a = dt->points.archive;
    char b1[RD_TIME_BUFSZ], b2[RD_TIME_BUFSZ], h1[64];
    rd_error err;
    rd_strbuf msg;
    if (!dt->physical || !a || (sm->pitr != RD_PITR_TIME && sm->pitr != RD_PITR_LATEST))
        return;
    if (!dt->recovery_passed) {
        add(dt, RD_SKIPPED, -1, FAULT " not planted: the recovery result did not pass");
        return;
    }
    if (!dt->heartbeat_present) {
        add(dt, RD_SKIPPED, -1,
            FAULT " not planted: the restored database has no restoredrill_heartbeat rows, so "
                  "the recovery result can notice a recovery that went past its target but not "
                  "one that stopped short (write them with `restoredrill heartbeat`)");
        return;
    }
    int64_t target = sm->target_ms;
    int64_t tol = (int64_t)(dt->t->recovery.tolerance * 1000.0);
    int64_t early = target - tol - MARGIN_MS;
    if (early < a->start_ms + RD_PITR_END_SLACK_MS) {
        before_window(dt, target, early, tol);
        return;
    }
    /* the base backup for E, as sampling would choose it */
    rd_sample_cfg sc;
    rd_sample sm2;
    memset(&sc, 0, sizeof sc);
    sc.strategy = (char *)"pitr";
    sc.time = rd_time_format(early, b1, sizeof b1);
    sc.window = -1;
    sc.max_age = -1;
    if (rd_sample_pick(&dt->points, &sc, dt->seed, dt->t0_ms, &sm2, &err) != RD_OK) {
        char *m = rd_asprintf("%s not planted: %s", FAULT, err.msg);
        add(dt, RD_SKIPPED, -1, m ? m : "out of memory");
        free(m);
        return;
    }
    rd_log_info("%s: negative control: %s: recovering %s again to %s (%s before the target)",
                dt->t->name, FAULT, dt->points.items[sm2.index].id, b1,
                rd_duration_human((double)(target - early) / 1000.0, h1, sizeof h1));
    rd_strbuf_init(&msg, 8192);
    rd_recovery_facts f = {.kind = sm->pitr, .target_ms = target, .tolerance_ms = tol};
    double start = rd_mono_now();
    rd_verdict v = second_recovery(dt, &sm2, deadline, &msg, &f);
    double secs = rd_mono_now() - start;
    add(dt, v, secs, msg.data ? msg.data : "");
    rd_check_result *r = dt->res->nchecks ? &dt->res->checks[dt->res->nchecks - 1] : NULL;
    if (r && r->object && strcmp(r->object, FAULT) == 0) {
        rd_check_add_prop(r, "fault", "recovery of %s to %s, %s before the target %s",
                          dt->points.items[sm2.index].id, b1,
                          rd_duration_human((double)(target - early) / 1000.0, h1, sizeof h1),
                          tf(target, b2, sizeof b2));
        rd_check_add_prop(r, "early_target_time", "%s", b1);
        if (v != RD_ERROR) {
            rd_check_set_actual(r, "%s", v == RD_PASSED ? "recovery failed" : "recovery passed");
            rd_check_add_prop(r, "reached_time", "%s", tf(f.reached_ms, b2, sizeof b2));
            if (f.hb_present)
                rd_check_add_prop(r, "heartbeat", "%s", tf(f.hb_ms, b2, sizeof b2));
        }
    }
    rd_log_info("%s: negative control: %s: %s", dt->t->name, FAULT, rd_verdict_name(v));
    rd_strbuf_free(&msg);
}
