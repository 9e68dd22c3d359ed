/* drill_fetch.c: a target's fetch phase for a logical point: verify a
 * local file's sha256, open the stream, detect the format, find the restore
 * driver (or, for a snapshot or per-database files, what stands in for it). */
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

int rd_drill_phase_fetch(rd_drill_target *dt, rd_artifact **a, const rd_restore_type **drv)
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
