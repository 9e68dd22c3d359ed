/* drill_restore.c: a target's restore phase for a logical point: the
 * restore driver (per-database files one by one, a snapshot by the scratch's
 * create command), with the scratch's full disk named as the cause. */
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

static int restore_per_database(rd_drill_target *dt)
{
    double start = rd_mono_now();
    int ok = rd_drill_restore_per_database(dt, rd_drill_deadline_in(dt->t->restore.timeout));
    if (!ok && rd_abort_requested())
        dt->aborted = 1;
    rd_drill_phase_end(dt, "restore", start, ok, RD_FAILED);
    if (!ok) {
        if (!dt->res->error)
            rd_target_set_error(dt->res, "restore: not every database was restored");
        return 0;
    }
    dt->restore_ok = 1;
    dt->restore_end = rd_mono_now();
    return 1;
}

/* What restores the point, as a user knows it (the driver's name is ours). */
static const char *restore_tool(const rd_restore_type *drv, const rd_artifact *a)
{
    if (strcmp(drv->name, "pg_logical") == 0)
        return rd_artifact_format(a) == RD_FMT_PG_PLAIN ? "psql" : "pg_restore";
    if (strcmp(drv->name, "mariadb_logical") == 0)
        return "the mariadb client";
    return drv->name;
}

/* A snapshot was restored by the scratch create command (inside provision,
 * which the RTO covers): the restore phase only records it. */
static int restored_by_scratch(rd_drill_target *dt)
{
    double start = rd_mono_now();
    rd_check_result *c =
        rd_target_add_check(dt->res, "restore", "restore", dt->point->id, RD_PASSED, "");
    if (c) {
        c->seconds = 0;
        rd_check_set_message(c, "restored %s (snapshot) by the scratch create command",
                             dt->point->id);
        rd_check_add_prop(c, "tool", "scratch.create");
    }
    rd_measure_phase(dt->res, "restore", start, RD_PASSED);
    dt->restore_ok = 1;
    dt->restore_end = rd_mono_now();
    return 1;
}

/* The ephemeral scratch server logged that its disk is full (the tool may
 * only have seen the connection drop when the server stopped on it). */
static int scratch_disk_full(const rd_drill_target *dt)
{
    if (!dt->scratch || !dt->scratch->dir)
        return 0;
    char *log = rd_fs_join(dt->scratch->dir, "server.log");
    char *text = NULL;
    size_t len = 0;
    int full = log && rd_fs_read_file(log, 4 << 20, &text, &len, NULL) == RD_OK &&
               rd_scratch_disk_full_text(text);
    free(text);
    free(log);
    return full;
}

int rd_drill_phase_restore(rd_drill_target *dt, rd_artifact *a, const rd_restore_type *drv)
{
    const rd_target_cfg *t = dt->t;
    if (t->catalog.per_database)
        return restore_per_database(dt);
    if (!a)
        return restored_by_scratch(dt);
    rd_restore_outcome oc;
    rd_error err;
    char human[64];
    double start = rd_mono_now();
    rd_restore_outcome_init(&oc);
    rd_error_clear(&err);
    const char *tool = restore_tool(drv, a);
    rd_log_info("%s: restoring %s with %s", t->name, dt->point->id, tool);
    rd_status st = drv->run(&t->restore, a, dt->scratch, t->databases.n ? &dt->dbs : NULL,
                            rd_drill_deadline_in(t->restore.timeout), &oc, &err);
    double secs = rd_mono_now() - start;
    rd_verdict v = rd_drill_step_verdict(dt, st);
    if (st != RD_OK && (rd_scratch_disk_full_text(err.msg) || scratch_disk_full(dt))) {
        /* the scratch instance's disk, not the recovery point: say where and what to do */
        v = RD_ERROR;
        const char *where = dt->scratch && dt->scratch->dir ? dt->scratch->dir : NULL;
        char hint[RD_ERROR_MSG_MAX];
        snprintf(hint, sizeof hint,
                 " (the scratch instance's disk is full%s%s: give it more space, or point "
                 "scratch.base_dir at a larger file system)",
                 where ? " under " : "", where ? where : "");
        size_t n = strlen(err.msg);
        if (n + strlen(hint) < sizeof err.msg)
            memcpy(err.msg + n, hint, strlen(hint) + 1);
    }
    rd_check_result *c = rd_target_add_check(dt->res, "restore", "restore", dt->point->id, v, "");
    if (c) {
        c->seconds = secs;
        if (st == RD_OK)
            rd_check_set_message(c, "restored %s (%s) with %s in %s", dt->point->id,
                                 dt->res->point.format ? dt->res->point.format : "?", tool,
                                 rd_duration_human(secs, human, sizeof(human)));
        else
            rd_check_set_message(c, "%s", err.msg);
        if (oc.log.len)
            rd_check_set_output(c, oc.log.data);
        rd_check_add_prop(c, "driver", "%s", drv->name);
        rd_check_add_prop(c, "exit_code", "%d", oc.exit_code);
        rd_check_add_prop(c, "error_lines", "%d", oc.error_lines);
        rd_check_add_prop(c, "tool", "%s", tool);
        /* when the tool reads the file itself, restoredrill streamed only
         * the bytes it looked at to detect the format: no figure to show */
        if (!drv->reads_path || !drv->reads_path(&t->restore, a))
            rd_check_add_prop(c, "decoded_bytes", "%llu",
                              (unsigned long long)rd_artifact_decoded_bytes(a));
        if (oc.roles_note)
            rd_check_add_prop(c, "roles", "%s", oc.roles_note);
        if (oc.split_note)
            rd_check_add_prop(c, "connections", "%s", oc.split_note);
        if (t->databases.n)
            rd_check_add_prop(c, "databases", "%zu of %zu", dt->dbs.n, dt->res->databases_total);
        if (dt->scratch->db_to.n) { /* a shared server: where each database was restored */
            rd_strbuf names;
            rd_strbuf_init(&names, 0);
            for (size_t i = 0; i < dt->scratch->db_to.n && i < dt->scratch->db_from.n; i++)
                (void)rd_strbuf_appendf(&names, NULL, "%s%s=%s", i ? ", " : "",
                                        dt->scratch->db_from.items[i], dt->scratch->db_to.items[i]);
            rd_check_add_prop(c, "scratch_names", "%s", names.data);
            rd_strbuf_free(&names);
        }
        if (t->databases.n) {
            char *note = rd_drill_ranges_note(dt);
            rd_check_add_prop(c, "read", "%s", dt->nranges ? "sections" : "whole");
            rd_check_add_prop(c, "stored_bytes_read", "%llu",
                              (unsigned long long)rd_artifact_raw_bytes(a));
            if (note && st == RD_OK)
                rd_check_set_message(c, "restored %s (%s) with %s in %s; %s", dt->point->id,
                                     dt->res->point.format ? dt->res->point.format : "?", tool,
                                     rd_duration_human(secs, human, sizeof(human)), note);
            free(note);
        }
    }
    if (dt->cluster &&
        (st == RD_OK || (st == RD_ERR_INTEGRITY && strstr(err.msg, " is not in the dump")))) {
        /* the whole dump went through the section filter: every section seen */
        if ((st = rd_drill_missing_databases(dt, &oc, &err)) != RD_OK)
            v = RD_FAILED;
    }
    rd_drill_phase_end(dt, "restore", start, st == RD_OK, v);
    if (st != RD_OK) {
        if (!dt->res->error)
            rd_target_set_error(dt->res, "restore: %s", err.msg);
        rd_log_error("%s: restore failed: %s", t->name, err.msg);
    } else {
        dt->restore_ok = 1;
        dt->restore_end = rd_mono_now();
    }
    rd_restore_outcome_free(&oc);
    return st == RD_OK;
}
