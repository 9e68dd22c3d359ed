/* backup_pg.c: `restoredrill backup` for PostgreSQL.
 *
 * PostgreSQL consistency: our connection opens a REPEATABLE READ READ ONLY
 * transaction and exports its snapshot (pg_export_snapshot); pg_dump runs
 * with --snapshot=<id>, so it reads exactly the data our transaction sees;
 * the manifest is captured inside that same transaction, which stays open
 * until pg_dump has finished. The dump and its manifest describe one
 * instant, for every table. Sequences are the exception PostgreSQL makes
 * (nextval is not transactional): the manifest reads them before pg_dump
 * starts, so a restored sequence is never behind its manifest value. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

/* ---------- PostgreSQL ---------- */

/* Total size of the files of a directory-format dump (pg_dump -F d writes
 * toc.dat and one file per table, no subdirectories); -1 when unreadable. */
static int64_t dir_bytes(const char *dir)
{
    int64_t total = 0;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        char *p = rd_fs_join(dir, e->d_name);
        if (p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
            total += (int64_t)sb.st_size;
        free(p);
    }
    closedir(d);
    return total;
}

rd_status rd_bk_pg_snapshot(rd_db *db, int *in_tx, char **snap, char **snaparg, rd_error *err)
{
    rd_status st = rd_db_exec(db, "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", 0,
                              NULL, err);
    if (st != RD_OK)
        return st;
    *in_tx = 1;
    if ((st = rd_db_scalar(db, "SELECT pg_export_snapshot()", 60, snap, NULL, err)) != RD_OK)
        return st;
    if (!*snap)
        return RD_ERR(err, RD_ERR_DB, "pg_export_snapshot returned nothing");
    if (!(*snaparg = rd_asprintf("--snapshot=%s", *snap)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    return RD_OK;
}

rd_status rd_bk_pg_capture(rd_db *db, const rd_backup_opts *o, rd_manifest **m, rd_error *err)
{
    rd_manifest_opts mo = {0};
    mo.freshness_query = o->freshness_query;
    mo.skip_rows = 1;
    rd_status st = rd_manifest_capture(db, &mo, m, err);
    if (st != RD_OK)
        rd_error_prefix(err, "capturing the manifest: ");
    return st;
}

rd_status rd_bk_pg_dump_counted(rd_db *db, rd_manifest *m, const char *const *argv,
                                rd_bk_sink *sink, const char *snap, int with_checksums,
                                rd_proc **proc, rd_bk_pump *pump, int *in_tx, rd_error *err)
{
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.stdout_mode = sink ? RD_PROC_IO_PIPE : RD_PROC_IO_NULL;
    rd_status st = rd_proc_start(&spec, proc, err);
    if (st == RD_OK && sink)
        st = rd_bk_pump_start(pump, rd_proc_stdout_fd(*proc), sink, NULL, NULL, err);
    /* row counts in the exported snapshot while pg_dump runs */
    if (st == RD_OK)
        st = rd_bk_count_while_dumping(db, m, with_checksums, *proc, "pg_dump", pump, err);
    if (st != RD_OK)
        return st;
    m->snapshot = rd_strdup(snap);
    if ((st = rd_db_exec(db, "COMMIT", 0, NULL, err)) == RD_OK)
        *in_tx = 0;
    return st;
}

rd_status rd_backup_pg(const rd_backup_opts *o, rd_error *err)
{
    rd_status st = RD_OK;
    rd_db *db = NULL;
    rd_manifest *m = NULL;
    rd_proc *proc = NULL;
    rd_bk_sink *sink = NULL;
    rd_bk_pump pump = {0};
    char *snap = NULL, *snaparg = NULL;
    char *partial = rd_asprintf("%s.partial", o->out);
    char *parent = rd_strdup(o->out);
    int in_tx = 0, dir = o->format == RD_FMT_PG_DIRECTORY;
    int s3 = rd_s3_is_url(o->out); /* streamed into a multipart upload of the key itself */
    char sha[RD_SHA256_HEX_LEN + 1] = "";
    int64_t bytes = -1;
    const char *fmtflag = o->format == RD_FMT_PG_PLAIN ? "-Fp" : dir ? "-Fd" : "-Fc";

    if (!partial || !parent) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (s3 && dir) {
        st = RD_ERR(err, RD_ERR_USAGE,
                    "--format directory cannot be written to %s: a directory-format dump is many "
                    "files (use custom)",
                    o->out);
        goto out;
    }
    char *slash = strrchr(parent, '/');
    if (!slash)
        snprintf(parent, strlen(parent) + 1, ".");
    else if (slash == parent)
        slash[1] = '\0';
    else
        *slash = '\0';
    if ((st = rd_db_connect(RD_ENGINE_PG, o->dsn, NULL, &db, err)) != RD_OK)
        goto out;
    if ((st = rd_bk_pg_snapshot(db, &in_tx, &snap, &snaparg, err)) != RD_OK)
        goto out;
    if (dir && rd_fs_exists(partial) && (st = rd_fs_rmtree(partial, parent, err)) != RD_OK)
        goto out;
    const char *argv[] = {"pg_dump",         fmtflag, snaparg, "--no-password", "-d", o->dsn,
                          dir ? "-f" : NULL, partial, NULL};
    if ((st = rd_bk_pg_capture(db, o, &m, err)) != RD_OK)
        goto out;
    if (!dir && (st = rd_bk_sink_open(s3 ? o->out : partial, o->wrap, &sink, err)) != RD_OK)
        goto out;
    if ((st = rd_bk_pg_dump_counted(db, m, argv, dir ? NULL : sink, snap, o->with_checksums, &proc,
                                    &pump, &in_tx, err)) != RD_OK)
        goto out;
    if (!dir) {
        if ((st = rd_bk_sink_finish(sink, sha, &bytes, err)) != RD_OK)
            goto out;
    } else {
        bytes = dir_bytes(partial);
    }
    if (!s3 && rename(partial, o->out) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", partial, o->out);
        goto out;
    }
    st = rd_bk_finish_manifest(m, o, dir ? NULL : sha, bytes, NULL, err);
out:
    if (proc) {
        rd_proc_stop(proc);
        rd_bk_pump_join(&pump, NULL);
    }
    rd_proc_free(proc);
    rd_bk_sink_free(sink);
    if (in_tx)
        rd_db_exec(db, "ROLLBACK", 10, NULL, NULL);
    if (st != RD_OK && partial && !s3) {
        if (dir)
            rd_fs_rmtree(partial, parent, NULL);
        else
            unlink(partial);
    }
    rd_db_free(db);
    rd_manifest_free(m);
    free(snap);
    free(snaparg);
    free(partial);
    free(parent);
    return st;
}
