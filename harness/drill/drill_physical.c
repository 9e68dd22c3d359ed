/* drill_physical.c: the phases of a physical recovery point (DESIGN section
 * 11): the archive result (gaps in the WAL / binlog sequence), the restore
 * (the driver lays the data directory before any server runs), the recover
 * phase (replay to the target, promote, accept writes), and the recovery
 * result (reached the target; heartbeat rows at or before it and within
 * recovery.tolerance). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore.h"

#define HEARTBEAT_TABLE "restoredrill_heartbeat"
/* the stop time of a base backup has second resolution (backup_label) */
#define CONSISTENT_SLACK_MS 1000

static const char *tfmt(int64_t ms, char *buf, size_t n)
{
    return ms > 0 ? rd_time_format(ms, buf, n) : "unknown";
}

void rd_drill_archive_result(rd_drill_target *dt)
{
    const rd_archive *a = dt->points.archive;
    char b1[RD_TIME_BUFSZ], b2[RD_TIME_BUFSZ];
    if (!a)
        return;
    rd_verdict v = a->ngaps == 0 && a->first ? RD_PASSED : RD_FAILED;
    rd_check_result *c = rd_target_add_check(dt->res, "archive", "archive", "wal", v, "");
    if (!c)
        return;
    if (!a->first) {
        rd_check_set_message(c, "no usable base backup: the archive cannot be replayed from any");
        return;
    }
    if (a->ngaps == 0) {
        rd_check_set_message(c, "%zu archived files, %s to %s without a gap; restorable %s to %s",
                             a->files, a->first, a->last ? a->last : "?",
                             tfmt(a->start_ms, b1, sizeof b1), tfmt(a->end_ms, b2, sizeof b2));
    } else {
        rd_strbuf sb;
        rd_strbuf_init(&sb, 4096);
        for (size_t i = 0; i < a->ngaps; i++) {
            const rd_wal_gap *g = &a->gaps[i];
            if (g->damage)
                rd_strbuf_appendf(&sb, NULL, "%s%s is %s (%s to %s cannot be recovered)",
                                  i ? "; " : "", g->first, g->damage,
                                  tfmt(g->from_ms, b1, sizeof b1), tfmt(g->to_ms, b2, sizeof b2));
            else
                rd_strbuf_appendf(&sb, NULL, "%s%s%s%s missing (%s to %s cannot be recovered)",
                                  i ? "; " : "", g->first, strcmp(g->first, g->last) ? " to " : "",
                                  strcmp(g->first, g->last) ? g->last : "",
                                  tfmt(g->from_ms, b1, sizeof b1), tfmt(g->to_ms, b2, sizeof b2));
        }
        rd_check_set_message(c, "%zu gap%s in the archive after %s: %s", a->ngaps,
                             a->ngaps == 1 ? "" : "s", a->first, sb.data ? sb.data : "");
        rd_strbuf_free(&sb);
        rd_check_set_expected(c, "no gap from %s to %s", a->first, a->newest ? a->newest : "?");
        rd_check_set_actual(c, "%zu gap%s", a->ngaps, a->ngaps == 1 ? "" : "s");
    }
    rd_check_add_prop(c, "first", "%s", a->first);
    rd_check_add_prop(c, "last_contiguous", "%s", a->last ? a->last : "");
    rd_check_add_prop(c, "newest", "%s", a->newest ? a->newest : "");
    rd_check_add_prop(c, "window_start", "%s", tfmt(a->start_ms, b1, sizeof b1));
    rd_check_add_prop(c, "window_end", "%s", tfmt(a->end_ms, b2, sizeof b2));
    if (a->timelines)
        rd_check_add_prop(c, "timelines", "%s", a->timelines);
}

int rd_drill_physical_fetch(rd_drill_target *dt, const rd_physical_type **drv)
{
    double start = rd_mono_now();
    *drv = rd_physical_for(dt->t->engine, dt->point);
    if (!*drv) {
        rd_measure_phase(dt->res, "fetch", start, RD_ERROR);
        rd_drill_target_fail(dt, "fetch", RD_ERROR, "no physical restore driver for this point");
        return 0;
    }
    /* nothing to fetch: the driver reads the base backup and the archive in place */
    rd_measure_phase(dt->res, "fetch", start, RD_PASSED);
    return 1;
}

static void recovery_target(rd_drill_target *dt, rd_recovery_target *rt)
{
    memset(rt, 0, sizeof *rt);
    rt->kind = dt->sample.pitr;
    rt->time_ms = dt->sample.target_ms;
    rt->archive = dt->points.archive;
    rt->catalog = &dt->t->catalog;
    rt->settings = &dt->t->recovery.settings;
    rt->database = dt->t->database;
    if (!rt->database && dt->t->databases.n) /* several databases: attach to the system one */
        rt->database = dt->t->engine == RD_ENGINE_PG ? "postgres" : "mysql";
    rt->target_name = dt->t->name;
}

rd_status rd_drill_newest_heartbeat(rd_engine engine, const rd_scratch *s, int64_t *ms,
                                    int *present, rd_error *err)
{
    rd_db_opts o = {.password = s->conn.password, .app_name = "restoredrill"};
    rd_db *db = NULL;
    char *v = NULL;
    int pg = engine == RD_ENGINE_PG;
    rd_status st = rd_db_connect(engine, s->conn.dsn, &o, &db, err);
    *present = 0;
    *ms = 0;
    if (st == RD_OK)
        st = rd_db_scalar(db,
                          pg ? "SELECT to_regclass('" HEARTBEAT_TABLE "')::text"
                             : "SELECT table_name FROM information_schema.tables WHERE "
                               "table_schema = DATABASE() AND table_name = '" HEARTBEAT_TABLE "'",
                          60, &v, NULL, err);
    if (st == RD_OK && v) {
        free(v);
        v = NULL;
        *present = 1;
        st = rd_db_scalar(db,
                          pg ? "SELECT (floor(extract(epoch FROM max(ts)) * 1000))::bigint::text "
                               "FROM " HEARTBEAT_TABLE
                             : "SELECT CAST(FLOOR(UNIX_TIMESTAMP(MAX(ts)) * 1000) AS SIGNED) "
                               "FROM " HEARTBEAT_TABLE,
                          60, &v, NULL, err);
        if (st == RD_OK && v)
            *ms = strtoll(v, NULL, 10);
    }
    free(v);
    rd_db_free(db);
    return st;
}

rd_verdict rd_drill_recovery_verdict(const rd_recovery_facts *f, rd_strbuf *why)
{
    char t1[RD_TIME_BUFSZ], t2[RD_TIME_BUFSZ], h1[64], h2[64];
    rd_verdict v = RD_PASSED;
    int64_t target = f->target_ms;
    int64_t limit = target + (f->kind == RD_PITR_CONSISTENT ? CONSISTENT_SLACK_MS : 0);
    if (f->kind == RD_PITR_TIME && f->reached_ms > target) {
        v = RD_FAILED;
        rd_strbuf_appendf(why, NULL, "recovery replayed a commit at %s, after the target %s",
                          tfmt(f->reached_ms, t1, sizeof t1), tfmt(target, t2, sizeof t2));
    }
    if (f->kind == RD_PITR_LATEST && f->reached_ms < target) {
        v = RD_FAILED;
        rd_strbuf_appendf(why, NULL,
                          "recovery ended at %s, before the last reachable commit in the "
                          "archive (%s)",
                          tfmt(f->reached_ms, t1, sizeof t1), tfmt(target, t2, sizeof t2));
    }
    if (!f->hb_present || f->hb_ms <= 0)
        return v;
    if (f->hb_ms > limit) {
        v = RD_FAILED;
        rd_strbuf_appendf(why, NULL,
                          "%sa heartbeat row from %s exists, after the target %s: recovery "
                          "went past its target",
                          why->len ? "; " : "", tfmt(f->hb_ms, t1, sizeof t1),
                          tfmt(target, t2, sizeof t2));
    } else if (f->kind != RD_PITR_CONSISTENT && target - f->hb_ms > f->tolerance_ms) {
        v = RD_FAILED;
        rd_strbuf_appendf(why, NULL,
                          "%sthe newest heartbeat row (%s) is %s before the target %s, more "
                          "than recovery.tolerance %s: recovery stopped short",
                          why->len ? "; " : "", tfmt(f->hb_ms, t1, sizeof t1),
                          rd_duration_human((double)(target - f->hb_ms) / 1000.0, h1, sizeof h1),
                          tfmt(target, t2, sizeof t2),
                          rd_duration_human((double)f->tolerance_ms / 1000.0, h2, sizeof h2));
    }
    return v;
}

/* "; replay ended on timeline 2 at 0/50063E8 (promoted to timeline 3)", or
 * "" when the driver does not say (MariaDB). */
static void where_replay_ended(const rd_recovery_outcome *oc, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!oc->reached_tli)
        return;
    char nt[48] = "";
    if (oc->new_tli)
        snprintf(nt, sizeof nt, " (promoted to timeline %u)", (unsigned)oc->new_tli);
    snprintf(buf, n, "; replay ended on timeline %u%s%s%s", (unsigned)oc->reached_tli,
             oc->reached_lsn ? " at " : "", oc->reached_lsn ? oc->reached_lsn : "", nt);
}

/* The recovery result after a successful recover. */
static void recovery_result(rd_drill_target *dt, const rd_recovery_outcome *oc, double secs)
{
    const rd_sample *sm = &dt->sample;
    const char *object = sm->pitr == RD_PITR_CONSISTENT ? "consistency point"
                         : sm->pitr == RD_PITR_LATEST   ? "latest"
                                                        : "target time";
    char t1[RD_TIME_BUFSZ], t2[RD_TIME_BUFSZ], t3[RD_TIME_BUFSZ];
    int64_t hb = 0;
    int present = 0;
    rd_error err;
    rd_verdict v = RD_PASSED;
    rd_strbuf why;
    rd_strbuf_init(&why, 2048);
    rd_error_clear(&err);
    int64_t target = sm->target_ms;
    int64_t tol = (int64_t)(dt->t->recovery.tolerance * 1000.0);

    rd_status st = rd_drill_newest_heartbeat(dt->t->engine, dt->scratch, &hb, &present, &err);
    rd_recovery_facts f = {.kind = sm->pitr,
                           .target_ms = target,
                           .reached_ms = oc->reached_ms,
                           .hb_present = st == RD_OK && present,
                           .hb_ms = st == RD_OK ? hb : 0,
                           .tolerance_ms = tol};
    v = rd_drill_recovery_verdict(&f, &why);
    if (st != RD_OK) {
        v = RD_ERROR;
        rd_strbuf_appendf(&why, NULL, "%scannot read the heartbeat table: %s", why.len ? "; " : "",
                          err.msg);
    } else if (present && hb > 0) {
        dt->newest_data_ms = hb;
        dt->newest_data_basis = "heartbeat";
    }
    dt->heartbeat_present = st == RD_OK && present && hb > 0;
    dt->recovery_passed = v == RD_PASSED;
    rd_check_result *c = rd_target_add_check(dt->res, "recovery", "recovery", object, v, "");
    if (c) {
        c->seconds = secs;
        char where[128];
        where_replay_ended(oc, where, sizeof where);
        if (v == RD_PASSED)
            rd_check_set_message(c, "recovery reached %s%s%s: last replayed commit %s%s%s%s",
                                 object, sm->pitr == RD_PITR_CONSISTENT ? "" : " ",
                                 sm->pitr == RD_PITR_CONSISTENT ? "" : tfmt(target, t1, sizeof t1),
                                 tfmt(oc->reached_ms, t2, sizeof t2),
                                 present && hb ? ", newest heartbeat " : "",
                                 present && hb ? tfmt(hb, t3, sizeof t3) : "", where);
        else
            rd_check_set_message(c, "%s", why.data ? why.data : "");
        rd_check_set_expected(c, "%s %s", sm->pitr == RD_PITR_LATEST ? "reach" : "at or before",
                              tfmt(target, t1, sizeof t1));
        rd_check_set_actual(c, "%s", tfmt(oc->reached_ms, t2, sizeof t2));
        rd_check_add_prop(c, "target_time", "%s", tfmt(target, t1, sizeof t1));
        rd_check_add_prop(c, "reached_time", "%s", tfmt(oc->reached_ms, t2, sizeof t2));
        if (present)
            rd_check_add_prop(c, "heartbeat", "%s", tfmt(hb, t3, sizeof t3));
        rd_check_add_prop(c, "tolerance_seconds", "%.3f", (double)tol / 1000.0);
        if (oc->reached_tli)
            rd_check_add_prop(c, "timeline", "%u", (unsigned)oc->reached_tli);
        if (oc->reached_lsn)
            rd_check_add_prop(c, "lsn", "%s", oc->reached_lsn);
        if (oc->new_tli)
            rd_check_add_prop(c, "new_timeline", "%u", (unsigned)oc->new_tli);
    }
    rd_strbuf_free(&why);
}

/* The failed recovery: one failing recovery result with the server's line. */
static void recovery_failed(rd_drill_target *dt, rd_status st, const rd_error *err,
                            const rd_recovery_outcome *oc, double secs)
{
    char t1[RD_TIME_BUFSZ];
    rd_verdict v =
        st == RD_ERR_CONFIG || st == RD_ERR_NOMEM || st == RD_ERR_ABORTED ? RD_ERROR : RD_FAILED;
    const char *object = dt->sample.pitr == RD_PITR_CONSISTENT ? "consistency point"
                         : dt->sample.pitr == RD_PITR_LATEST   ? "latest"
                                                               : "target time";
    rd_check_result *c = rd_target_add_check(dt->res, "recovery", "recovery", object, v, "");
    if (c) {
        c->seconds = secs;
        rd_check_set_message(c, "%s", err->msg);
        rd_check_set_expected(c, "recovery reaches %s", tfmt(dt->sample.target_ms, t1, sizeof t1));
        if (oc->server_line)
            rd_check_set_actual(c, "%s", oc->server_line);
        if (oc->server_line)
            rd_check_add_prop(c, "server_line", "%s", oc->server_line);
        if (oc->log.len)
            rd_check_set_output(c, oc->log.data);
    }
    if (!dt->res->error)
        rd_target_set_error(dt->res, "recover: %s", err->msg);
    rd_log_error("%s: recovery failed: %s", dt->t->name, err->msg);
}

/* Checks that need the server stopped (page_checksums), before the others. */
static void run_offline_checks(rd_drill_target *dt)
{
    const rd_target_cfg *t = dt->t;
    for (size_t i = 0; i < t->nchecks && !rd_abort_requested(); i++) {
        const rd_check_cfg *cc = &t->checks[i];
        rd_error err;
        if (!cc->ct || !cc->ct->run_offline)
            continue;
        rd_error_clear(&err);
        rd_log_info("%s: check %s (offline)", t->name, cc->name ? cc->name : cc->type);
        if (cc->ct->run_offline(dt->scratch, cc, dt->res, rd_drill_deadline_in(cc->timeout),
                                &err) != RD_OK) {
            rd_check_result *c = rd_target_add_check(
                dt->res, cc->type, cc->name ? cc->name : cc->type, "*", RD_ERROR, "");
            if (c)
                rd_check_set_message(c, "%s", err.msg);
        }
    }
}

int rd_drill_physical_restore(rd_drill_target *dt, const rd_physical_type *drv)
{
    const rd_target_cfg *t = dt->t;
    rd_recovery_target rt;
    rd_restore_outcome oc;
    rd_recovery_outcome ro;
    rd_error err;
    char human[64];
    int ok = 0;
    recovery_target(dt, &rt);
    rd_restore_outcome_init(&oc);
    rd_recovery_outcome_init(&ro);
    rd_error_clear(&err);

    /* restore: lay the data directory */
    double start = rd_mono_now();
    rd_log_info("%s: restoring base backup %s with %s", t->name, dt->point->id, drv->name);
    rd_status st = drv->lay(&t->restore, dt->point, &rt, dt->scratch,
                            rd_drill_deadline_in(t->restore.timeout), &oc, &err);
    double secs = rd_mono_now() - start;
    rd_verdict v = rd_drill_step_verdict(dt, st);
    rd_check_result *c = rd_target_add_check(dt->res, "restore", "restore", dt->point->id, v, "");
    if (c) {
        c->seconds = secs;
        if (st == RD_OK)
            rd_check_set_message(c, "laid base backup %s (%s) with %s in %s", dt->point->id,
                                 dt->point->format ? dt->point->format : "?", drv->name,
                                 rd_duration_human(secs, human, sizeof human));
        else
            rd_check_set_message(c, "%s", err.msg);
        if (oc.log.len)
            rd_check_set_output(c, oc.log.data);
        rd_check_add_prop(c, "driver", "%s", drv->name);
    }
    if (st == RD_OK && (oc.manifest_checked || oc.manifest_note)) {
        rd_check_result *m = rd_target_add_check(dt->res, "basebackup", "basebackup", dt->point->id,
                                                 !oc.manifest_checked ? RD_SKIPPED
                                                 : oc.manifest_ok     ? RD_PASSED
                                                                      : RD_FAILED,
                                                 "");
        if (m) {
            m->seconds = oc.manifest_checked ? oc.manifest_seconds : -1;
            rd_check_set_message(m, "%s%s",
                                 !oc.manifest_checked ? ""
                                 : oc.manifest_ok     ? "pg_verifybackup: "
                                                      : "pg_verifybackup failed: ",
                                 oc.manifest_note ? oc.manifest_note : "");
            if (!oc.manifest_ok && oc.log.len)
                rd_check_set_output(m, oc.log.data);
        }
    }
    rd_measure_phase(dt->res, "restore", start, dt->aborted ? RD_ABORTED : v);
    if (st != RD_OK) {
        if (!dt->res->error)
            rd_target_set_error(dt->res, "restore: %s", err.msg);
        rd_log_error("%s: restore failed: %s", t->name, err.msg);
        rd_measure_skip(dt->res, "recover");
        goto out;
    }

    /* recover: replay, promote, accept writes */
    start = rd_mono_now();
    rd_log_info("%s: recovering to %s", t->name,
                dt->sample.pitr == RD_PITR_CONSISTENT ? "the consistency point"
                                                      : tfmt(dt->sample.target_ms, human, 40));
    st = drv->recover(&t->restore, dt->point, &rt, dt->scratch,
                      rd_drill_deadline_in(t->recovery.timeout), &ro, &err);
    secs = rd_mono_now() - start;
    if (st == RD_ERR_ABORTED || rd_abort_requested())
        dt->aborted = 1;
    dt->res->point.reached_time_ms = ro.reached_ms;
    dt->res->point.wal_first = ro.wal_first ? rd_strdup(ro.wal_first) : NULL;
    dt->res->point.wal_last = ro.wal_last ? rd_strdup(ro.wal_last) : NULL;
    rd_drill_phase_end(dt, "recover", start, st == RD_OK, RD_FAILED);
    if (st != RD_OK) {
        recovery_failed(dt, st, &err, &ro, secs);
        goto out;
    }
    dt->restore_ok = 1;
    dt->restore_end = rd_mono_now();
    recovery_result(dt, &ro, secs);
    if (t->databases.n && !rd_drill_choose_restored(dt))
        goto out; /* the whole cluster is there, but which databases to check is not */
    run_offline_checks(dt);
    ok = 1;
out:
    rd_restore_outcome_free(&oc);
    rd_recovery_outcome_free(&ro);
    return ok;
}
