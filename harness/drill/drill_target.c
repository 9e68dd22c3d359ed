/* drill_target.c: one target's drill: sample -> fetch -> provision ->
 * restore (-> recover for physical points, drill_physical.c) -> verify -> teardown, each phase
 * timed, teardown always (unless
 * --keep-scratch; on abort the orchestrator tears everything down). */
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

static double deadline_in(double timeout)
{
    return timeout > 0 ? rd_mono_now() + timeout : 0;
}

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

/* Multi-database targets: list the point's databases (a read of the dump
 * through the driver's section scanner), match the globs and sample. A glob
 * that matches nothing is a configuration error (the run exits 2). */
/* fetch for a per-database point: its databases are its files' names; the
 * files are opened one by one as they are restored. */
static int fetch_per_database(rd_drill_target *dt)
{
    rd_strlist all = {0};
    rd_error err;
    size_t nmatched = 0;
    double start = rd_mono_now();
    rd_error_clear(&err);
    rd_status st = rd_drill_point_databases(&dt->files, dt->point, &all, &err);
    if (st == RD_OK)
        st = rd_drill_take_databases(dt, &all, &nmatched, &err);
    rd_strlist_free(&all);
    rd_verdict v = st == RD_OK ? RD_PASSED : dt->res->config_error ? RD_ERROR : RD_FAILED;
    rd_measure_phase(dt->res, "fetch", start, v);
    if (st != RD_OK) {
        rd_drill_target_fail(dt, "fetch", v, err.msg);
        return 0;
    }
    return 1;
}

/* fetch: verify a local file's sha256, open the stream, detect the format,
 * find the restore driver. */
/* A recovery point the catalog declares with format "snapshot" (a cloud
 * snapshot, e.g. RDS) has no file: the exec scratch's create command
 * restores it (restore-db-instance-from-db-snapshot). */
static int is_snapshot(const rd_point *pt)
{
    return pt->format && strcmp(pt->format, "snapshot") == 0;
}

static int fetch_snapshot(rd_drill_target *dt, double start)
{
    const rd_target_cfg *t = dt->t;
    free(dt->res->point.format);
    dt->res->point.format = rd_strdup("snapshot");
    if (!t->scratch.type || strcmp(t->scratch.type, "exec") != 0) {
        char msg[RD_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg,
                 "%s is a snapshot (format \"snapshot\"): only the create command of an exec "
                 "scratch can restore it; set scratch.type to \"exec\"",
                 dt->point->id);
        rd_measure_phase(dt->res, "fetch", start, RD_ERROR);
        rd_drill_target_fail(dt, "fetch", RD_ERROR, msg);
        return 0;
    }
    rd_measure_phase(dt->res, "fetch", start, RD_PASSED); /* nothing to fetch */
    return 1;
}

static int phase_fetch(rd_drill_target *dt, rd_artifact **a, const rd_restore_type **drv)
{
    if (dt->t->catalog.per_database)
        return fetch_per_database(dt);
    const rd_target_cfg *t = dt->t;
    const rd_point *pt = dt->point;
    const char **dec = NULL;
    rd_error err;
    rd_status st = RD_OK;
    struct stat sb;
    double start = rd_mono_now();
    rd_error_clear(&err);
    if (is_snapshot(pt))
        return fetch_snapshot(dt, start);
    long wpid = 0;
    char wcomm[64];
    if (pt->location && rd_fs_writer(pt->location, &wpid, wcomm, sizeof wcomm)) {
        /* a dump still being written would restore truncated or fail late */
        char msg[RD_ERROR_MSG_MAX];
        snprintf(msg, sizeof msg,
                 "%s is still being written (%s, pid %ld, has it open for writing): run the "
                 "drill once the backup has finished",
                 pt->id, wcomm[0] ? wcomm : "a process", wpid);
        rd_measure_phase(dt->res, "fetch", start, RD_ERROR);
        rd_drill_target_fail(dt, "fetch", RD_ERROR, msg);
        return 0;
    }

    dec = t->restore.decrypt.n ? rd_strlist_argv(&t->restore.decrypt) : NULL;
    /* a drill of some databases of a dump with sections reads only theirs */
    st = rd_drill_plan_ranges(dt, &err);
    rd_s3_opts s3o = {.endpoint = t->catalog.endpoint,
                      .region = t->catalog.region,
                      .path_style = t->catalog.path_style};
    rd_artifact_opts o = {.expected_sha256 = pt->sha256,
                          .s3 = &s3o,
                          .decrypt = dec,
                          .progress_total = pt->bytes > 0 ? (size_t)pt->bytes : 0,
                          .deadline = t->timeout_fetch > 0 ? start + t->timeout_fetch : 0};
    if (dt->nranges) {
        o.ranges = dt->ranges;
        o.nranges = dt->nranges;
        o.ranges_file_bytes = (uint64_t)dt->cluster->artifact_bytes;
        o.expected_sha256 = NULL; /* the whole file is not read: each piece's is checked */
        o.progress_total = (size_t)dt->ranges_bytes;
    }
    if (st == RD_OK)
        st = rd_artifact_open(pt->location, &o, a, &err);
    if (st == RD_OK) {
        rd_format f = rd_artifact_format(*a);
        if (f == RD_FMT_UNKNOWN && pt->format)
            f = rd_format_parse(pt->format);
        free(dt->res->point.format);
        dt->res->point.format =
            rd_artifact_wrap(*a) == RD_WRAP_NONE
                ? rd_strdup(rd_format_name(f))
                : rd_asprintf("%s+%s", rd_format_name(f), rd_wrap_name(rd_artifact_wrap(*a)));
        if (f == RD_FMT_UNKNOWN)
            st = RD_ERR(&err, RD_ERR_FORMAT, "cannot recognise the dump format of %s", pt->id);
        else if (!(*drv = rd_restore_for(t->engine, f)))
            st = RD_ERR(&err, RD_ERR_UNSUPPORTED, "no restore driver for %s dumps on %s",
                        rd_format_name(f), rd_engine_name(t->engine));
    }
    /* A streamed artifact verifies its sha256 as the restore reads it (one
     * read of the file); a file the tool reads itself is verified here. */
    if (st == RD_OK && pt->sha256 && (*drv)->reads_path && (*drv)->reads_path(&t->restore, *a) &&
        stat(pt->location, &sb) == 0 && S_ISREG(sb.st_mode)) {
        char hex[RD_SHA256_HEX_LEN + 1];
        unsigned long long bytes = 0;
        st = rd_sha256_file(pt->location, hex, &bytes, &err);
        if (st == RD_OK && strcasecmp(hex, pt->sha256) != 0)
            st = RD_ERR(&err, RD_ERR_INTEGRITY, "sha256 mismatch: expected %s, got %s", pt->sha256,
                        hex);
    }
    if (st == RD_OK && t->databases.n) {
        o.ranges = NULL; /* a listing scan reads the whole dump */
        o.nranges = 0;
        o.expected_sha256 = pt->sha256;
        st = rd_drill_choose_databases(dt, *drv, &o, &err);
    }
    free(dec);
    rd_verdict v = st == RD_OK             ? RD_PASSED
                   : st == RD_ERR_ABORTED  ? RD_ABORTED
                   : dt->res->config_error ? RD_ERROR
                                           : RD_FAILED;
    rd_measure_phase(dt->res, "fetch", start, v);
    if (st != RD_OK) {
        if (st == RD_ERR_ABORTED)
            dt->aborted = 1;
        rd_drill_target_fail(dt, "fetch", v == RD_FAILED ? RD_FAILED : RD_ERROR, err.msg);
        return 0;
    }
    return 1;
}

static int wants_tcp(const rd_target_cfg *t)
{
    if (t->scratch.tcp)
        return 1;
    for (size_t i = 0; i < t->nchecks; i++)
        if (t->checks[i].type && strcmp(t->checks[i].type, "smoke") == 0)
            return 1;
    return 0;
}

/* The database a PostgreSQL archive was dumped from, to restore it under the
 * same name (a plain SQL dump names none: NULL, the target's name is used). */
static char *dump_dbname(const rd_drill_target *dt, const rd_artifact *a)
{
    size_t n = 0;
    char *name = NULL;
    rd_error err;
    const void *head = a ? rd_artifact_head(a, &n) : NULL;
    if (!head || dt->t->engine != RD_ENGINE_PG || rd_artifact_format(a) != RD_FMT_PG_CUSTOM)
        return NULL;
    rd_error_clear(&err);
    if (rd_pg_archive_dbname(head, n, &name, &err) != RD_OK)
        rd_log_debug("%s: the dump's database name: %s", dt->t->name, err.msg);
    return name;
}

static int phase_provision(rd_drill_target *dt, const char *const *tvars, const rd_artifact *a)
{
    const rd_target_cfg *t = dt->t;
    char *identity = NULL;
    rd_error err;
    rd_status st = RD_OK;
    double start = rd_mono_now();
    rd_error_clear(&err);
    if (t->reference.dsn) {
        rd_db_opts o = {.password_env = t->reference.password_env, .app_name = "restoredrill"};
        st = rd_db_connect(t->engine, t->reference.dsn, &o, &dt->reference, &err);
        if (st == RD_OK)
            st = rd_db_server_identity(dt->reference, &identity, &err);
        if (st != RD_OK && st != RD_ERR_ABORTED && !rd_abort_requested()) {
            /* the reference, not the restore, failed: say so, and that nothing
             * was restored (the message names host and port, never a secret) */
            rd_error_prefix(&err, "reference.dsn: ");
            rd_measure_phase(dt->res, "provision", start, RD_ERROR);
            rd_drill_phase_fail(dt, "reference", "reference.dsn", "provision", RD_ERROR, err.msg);
            rd_log_error("%s: nothing was restored: the reference database is needed first",
                         t->name);
            free(identity);
            return 0;
        }
        if (st != RD_OK)
            rd_error_prefix(&err, "reference.dsn: ");
    }
    if (st == RD_OK) {
        char *dbname = dump_dbname(dt, a);
        rd_scratch_req req = {.drill_id = dt->drill_id,
                              .target = t->name,
                              .database = dbname,
                              .want_tcp = wants_tcp(t),
                              .reference_identity = identity,
                              .tvars = tvars,
                              .deadline = deadline_in(t->timeout_provision),
                              .physical = dt->physical,
                              .databases = t->databases.n ? &dt->dbs : NULL};
        st = rd_scratch_provision(&t->scratch, t->engine, &req, &dt->scratch, &err);
        free(dbname);
    }
    if (st == RD_OK)
        rd_drill_record_isolation(dt, identity != NULL);
    free(identity);
    if (st == RD_ERR_ABORTED || rd_abort_requested())
        dt->aborted = 1;
    rd_measure_phase(dt->res, "provision", start,
                     st == RD_OK   ? RD_PASSED
                     : dt->aborted ? RD_ABORTED
                                   : RD_ERROR);
    if (st != RD_OK) {
        rd_drill_target_fail(dt, "provision", RD_ERROR, err.msg);
        return 0;
    }
    rd_log_info("%s: scratch instance ready (%s%s%s)", t->name,
                dt->scratch->type ? dt->scratch->type->name : "scratch",
                dt->scratch->server_version ? " " : "",
                dt->scratch->server_version ? dt->scratch->server_version : "");
    return 1;
}

static int restore_per_database(rd_drill_target *dt)
{
    double start = rd_mono_now();
    int ok = rd_drill_restore_per_database(dt, deadline_in(dt->t->restore.timeout));
    if (!ok && rd_abort_requested())
        dt->aborted = 1;
    rd_measure_phase(dt->res, "restore", start,
                     ok            ? RD_PASSED
                     : dt->aborted ? RD_ABORTED
                                   : RD_FAILED);
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
    int full = log && rd_fs_read_file(log, 4 << 20, &text, &len, NULL) == RD_OK && text &&
               strstr(text, "No space left on device") != NULL;
    free(text);
    free(log);
    return full;
}

static int phase_restore(rd_drill_target *dt, rd_artifact *a, const rd_restore_type *drv)
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
                            deadline_in(t->restore.timeout), &oc, &err);
    double secs = rd_mono_now() - start;
    if (st == RD_ERR_ABORTED || rd_abort_requested())
        dt->aborted = 1;
    rd_verdict v = st == RD_OK                                                ? RD_PASSED
                   : dt->aborted || st == RD_ERR_CONFIG || st == RD_ERR_NOMEM ? RD_ERROR
                                                                              : RD_FAILED;
    if (st != RD_OK && (strstr(err.msg, "No space left on device") || scratch_disk_full(dt))) {
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
    rd_measure_phase(dt->res, "restore", start,
                     st == RD_OK   ? RD_PASSED
                     : dt->aborted ? RD_ABORTED
                                   : v);
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

static void phase_teardown(rd_drill_target *dt)
{
    rd_error err;
    double start = rd_mono_now();
    rd_error_clear(&err);
    if (!dt->scratch) {
        rd_measure_skip(dt->res, "teardown");
        return;
    }
    const char *ks = dt->t->keep_scratch ? dt->t->keep_scratch : "never";
    int failed = !dt->restore_ok || !dt->verify_ok;
    int by_config = strcmp(ks, "always") == 0 || (failed && strcmp(ks, "on-failure") == 0);
    if ((dt->opts->keep_scratch || by_config) && !dt->aborted) {
        rd_drill_keep(dt, by_config);
        dt->scratch = NULL; /* stays registered and alive on purpose: never torn down */
        rd_measure_skip(dt->res, "teardown");
        return;
    }
    if (dt->aborted) {
        /* the orchestrator stops children and tears every instance down */
        rd_measure_skip(dt->res, "teardown");
        return;
    }
    rd_status st = rd_scratch_teardown(dt->scratch, &err);
    rd_measure_phase(dt->res, "teardown", start, st == RD_OK ? RD_PASSED : RD_ERROR);
    if (st != RD_OK) {
        rd_check_result *c =
            rd_target_add_check(dt->res, "teardown", "teardown", "scratch", RD_ERROR, "");
        if (c)
            rd_check_set_message(c, "teardown failed: %s", err.msg);
        rd_log_error("%s: teardown failed: %s", dt->t->name, err.msg);
    }
    rd_scratch_free(dt->scratch);
    dt->scratch = NULL;
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
        (void)phase_fetch(dt, &a, &drv);
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
                                        : !phase_fetch(dt, &a, &drv))
        goto skip_provision;
    if (rd_abort_requested() || !phase_provision(dt, tvars, a))
        goto skip_restore;
    if (!rd_abort_requested() && (t->engine == RD_ENGINE_DYNAMODB ? rd_drill_dyn_restore(dt)
                                  : t->engine == RD_ENGINE_S3     ? rd_drill_s3_restore(dt)
                                  : dt->physical ? rd_drill_physical_restore(dt, pdrv)
                                                 : phase_restore(dt, a, drv))) {
        double start = rd_mono_now();
        rd_strlist_free(&vars);
        free(tvars);
        tvars = NULL;
        if (point_vars(dt, &vars, &err) == RD_OK &&
            rd_scratch_vars(dt->scratch, &vars, &err) == RD_OK)
            tvars = rd_strlist_argv(&vars);
        dt->verify_ok = rd_drill_verify(dt, deadline_in(t->timeout_verify), tvars);
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
                rd_drill_negative_control(dt, deadline_in(t->timeout_verify), tvars);
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
    phase_teardown(dt);
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
