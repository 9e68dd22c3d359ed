/* pg_physical.c: restore a pg_basebackup base backup (plain -Fp, or tar -Ft
 * with base.tar[.gz|.zst] and pg_wal.tar[.gz|.zst]) into the data directory
 * of a physical scratch instance, then recover it from the WAL archive of a
 * pg-archive catalog: recovery.signal, a restore_command that decompresses
 * archived segments, the recovery target with an explicit UTC offset,
 * recovery_target_action=promote; the server's log and process are watched
 * until it is promoted and accepts writes, or fails. The log parsing lives
 * in pg_recovery_log.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_recovery.h"
#include "restore_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"

static int pgb_accepts(const rd_point *pt)
{
    return pt->format && strncmp(pt->format, "pg-basebackup-", 14) == 0;
}

/* Run argv to completion; a failure names the tool and its stderr tail. */
static rd_status run(const char *const *argv, double deadline, rd_restore_outcome *out,
                     rd_error *err)
{
    rd_strbuf errtail;
    int code = 0;
    double timeout = deadline > 0 ? deadline - rd_mono_now() : 0;
    rd_proc_spec spec = {.argv = argv};
    rd_strbuf_init(&errtail, 8192);
    if (deadline > 0 && timeout < 1)
        timeout = 1;
    rd_status st = rd_proc_run(&spec, timeout, NULL, &errtail, &code, err);
    if (out && errtail.len) {
        rd_strbuf_append(&out->log, errtail.data, NULL);
        rd_strbuf_keep_tail(&out->log, 16384);
    }
    if (st == RD_OK && code != 0)
        st = rd_proc_fail(err, argv[0], code, errtail.data ? errtail.data : "");
    rd_strbuf_free(&errtail);
    return st;
}

/* The first of NAME, NAME.gz, NAME.zst in dir (heap), or NULL. */
static char *find_compressed(const char *dir, const char *name)
{
    static const char *const ext[] = {"", ".gz", ".zst", ".lz4", NULL};
    for (size_t i = 0; ext[i]; i++) {
        char *p = rd_asprintf("%s/%s%s", dir, name, ext[i]);
        if (p && rd_fs_exists(p))
            return p;
        free(p);
    }
    return NULL;
}

/* tar -xf, decompressing by the file's extension. */
static rd_status untar(const char *file, const char *into, double deadline, rd_restore_outcome *out,
                       rd_error *err)
{
    size_t n = strlen(file);
    const char *filter = n > 3 && strcmp(file + n - 3, ".gz") == 0    ? "--gzip"
                         : n > 4 && strcmp(file + n - 4, ".zst") == 0 ? "--zstd"
                         : n > 4 && strcmp(file + n - 4, ".lz4") == 0 ? "--use-compress-program=lz4"
                                                                      : NULL;
    const char *argv[] = {"tar", "-x", "-f", file, "-C", into, filter, NULL};
    rd_status st = run(argv, deadline, out, err);
    if (st != RD_OK)
        rd_error_prefix(err, "cannot extract %s: ", file);
    return st;
}

/* Tablespaces would be extracted outside the scratch directory: refused. */
static rd_status refuse_tablespaces(const char *dir, rd_error *err)
{
    char *p = rd_fs_join(dir, "tablespace_map");
    struct stat sb;
    int has = p && stat(p, &sb) == 0 && sb.st_size > 0; /* pg_basebackup writes an empty one */
    free(p);
    if (has)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "base backup %s has tablespaces (tablespace_map): restoring tablespaces is "
                      "not implemented yet",
                      dir);
    return RD_OK;
}

static rd_status lay_tar(const rd_point *pt, const char *data, double deadline,
                         rd_restore_outcome *out, rd_error *err)
{
    char *base = find_compressed(pt->location, "base.tar");
    char *wal = find_compressed(pt->location, "pg_wal.tar");
    char *waldir = rd_fs_join(data, "pg_wal");
    rd_status st;
    if (!waldir) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!base) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "base backup %s has no base.tar", pt->location);
        goto out;
    }
    if ((st = untar(base, data, deadline, out, err)) != RD_OK ||
        (st = refuse_tablespaces(data, err)) != RD_OK)
        goto out;
    if (wal) {
        if ((st = rd_fs_mkdir_p(waldir, 0700, err)) == RD_OK)
            st = untar(wal, waldir, deadline, out, err);
    }
out:
    free(base);
    free(wal);
    free(waldir);
    return st;
}

static rd_status lay_plain(const rd_point *pt, const char *data, double deadline,
                           rd_restore_outcome *out, rd_error *err)
{
    rd_status st = refuse_tablespaces(pt->location, err);
    char *src = rd_asprintf("%s/.", pt->location);
    if (!src)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    const char *argv[] = {"cp", "-R", "--preserve=mode,timestamps", src, data, NULL};
    if (st == RD_OK && (st = run(argv, deadline, out, err)) != RD_OK)
        rd_error_prefix(err, "cannot copy %s: ", pt->location);
    free(src);
    return st;
}

/* pg_verifybackup of the laid files against the backup's backup_manifest
 * (checksums and sizes of every file; WAL is replayed later, so -n). The
 * verdict goes into out; only a tool that cannot run is an error. */
static rd_status verify_manifest(const rd_point *pt, const char *data, double deadline,
                                 rd_restore_outcome *out, rd_error *err)
{
    /* from S3, the manifest was fetched into the data directory */
    char *manifest =
        rd_fs_join(rd_s3_is_url(pt->location) ? data : pt->location, "backup_manifest");
    char *tool = rd_restore_tool_path("pg_verifybackup");
    rd_strbuf sout, errtail;
    int code = 0;
    rd_status st = RD_OK;
    rd_strbuf_init(&sout, 65536);
    rd_strbuf_init(&errtail, 16384);
    if (!manifest || !tool) {
        st = manifest ? RD_ERR(err, RD_ERR_NOTFOUND, "pg_verifybackup not found")
                      : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (!rd_fs_exists(manifest)) {
        out->manifest_note = rd_strdup("the base backup has no backup_manifest");
        goto out;
    }
    const char *argv[] = {tool, "-n", "-m", manifest, data, NULL};
    double timeout = deadline > 0 ? deadline - rd_mono_now() : 0;
    rd_proc_spec spec = {.argv = argv};
    if ((st = rd_proc_run(&spec, deadline > 0 && timeout < 1 ? 1 : timeout, &sout, &errtail, &code,
                          err)) != RD_OK)
        goto out;
    out->manifest_checked = 1;
    out->manifest_ok = code == 0;
    const char *text = code == 0 ? sout.data : errtail.len ? errtail.data : sout.data;
    size_t n = text ? strcspn(text, "\n") : 0;
    out->manifest_note = text ? rd_asprintf("%.*s", (int)(n > 400 ? 400 : n), text) : NULL;
    if (code != 0 && errtail.len) {
        rd_strbuf_append(&out->log, errtail.data, NULL);
        rd_strbuf_keep_tail(&out->log, 16384);
    }
out:
    rd_strbuf_free(&sout);
    rd_strbuf_free(&errtail);
    free(manifest);
    free(tool);
    return st;
}

/* Files of the source's own life that must not steer the scratch server. */
static void remove_leftovers(const char *data)
{
    static const char *const names[] = {"postmaster.pid",  "postmaster.opts", "standby.signal",
                                        "recovery.signal", "backup_manifest", NULL};
    for (size_t i = 0; names[i]; i++) {
        char *p = rd_fs_join(data, names[i]);
        if (p)
            unlink(p);
        free(p);
    }
}

static rd_status pgb_lay(const rd_restore_cfg *cfg, const rd_point *pt, const rd_recovery_target *t,
                         rd_scratch *s, double deadline, rd_restore_outcome *out, rd_error *err)
{
    rd_status st;
    if (!s->data_dir)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "the scratch instance has no data directory to restore to");
    if (rd_s3_is_url(pt->location)) {
        if ((st = rd_pg_lay_s3(pt, t, s->data_dir, deadline, out, err)) == RD_OK)
            st = refuse_tablespaces(s->data_dir, err);
    } else if (!rd_fs_is_dir(pt->location))
        return RD_ERR(err, RD_ERR_NOTFOUND, "base backup directory %s does not exist",
                      pt->location);
    else if (strcmp(pt->format, "pg-basebackup-tar") == 0)
        st = lay_tar(pt, s->data_dir, deadline, out, err);
    else
        st = lay_plain(pt, s->data_dir, deadline, out, err);
    if (st != RD_OK)
        return st;
    if (cfg->verify_manifest) {
        double v0 = rd_mono_now();
        if ((st = verify_manifest(pt, s->data_dir, deadline, out, err)) != RD_OK)
            return st;
        out->manifest_seconds = rd_mono_now() - v0;
    } else {
        out->manifest_note = rd_strdup("restore.verify_manifest is false");
    }
    remove_leftovers(s->data_dir);
    if (chmod(s->data_dir, 0700) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot chmod %s", s->data_dir);
    if (s->run_as && *s->run_as) {
        char *owner = rd_asprintf("%s:", s->run_as);
        const char *argv[] = {"chown", "-R", owner, s->data_dir, NULL};
        st = owner ? run(argv, deadline, out, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(owner);
    }
    return st;
}

/* Characters restore_command can carry inside single quotes. */
static int plain_dir(const char *s)
{
    for (; *s; s++)
        if (*s == '\'' || *s == '%' || *s == '\n' || *s == '\\')
            return 0;
    return 1;
}

static rd_status recovery_settings(const rd_point *pt, const rd_recovery_target *t, const char *wal,
                                   rd_strlist *l, rd_error *err)
{
    char when[64];
    rd_status st = RD_OK;
    char *cmd = NULL;
    (void)pt;
    if (!wal || !plain_dir(wal))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "catalog.wal_dir: expected a directory path without quotes, %% or "
                      "backslashes");
    /* decompress into a temporary name, then rename: a partial segment is
     * never handed to the server */
    cmd = rd_asprintf(
        "restore_command=f='%s/%%f'; if [ -f \"$f\" ]; then cp \"$f\" \"%%p\"; "
        "elif [ -f \"$f.gz\" ]; then gzip -dc \"$f.gz\" > \"%%p.rdtmp\" && mv \"%%p.rdtmp\" "
        "\"%%p\"; "
        "elif [ -f \"$f.zst\" ]; then zstd -dcq \"$f.zst\" > \"%%p.rdtmp\" && mv \"%%p.rdtmp\" "
        "\"%%p\"; "
        "else exit 1; fi",
        wal);
    if (!cmd)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = rd_strlist_push(l, cmd, err);
    free(cmd);
    if (st == RD_OK)
        st = rd_strlist_push(l, "recovery_target_timeline=latest", err);
    if (st == RD_OK)
        st = rd_strlist_push(l, "recovery_target_action=promote", err);
    if (st == RD_OK)
        st = rd_strlist_push(l, "hot_standby=off", err);
    if (st == RD_OK && t->kind == RD_PITR_CONSISTENT)
        st = rd_strlist_push(l, "recovery_target=immediate", err);
    if (st == RD_OK && t->kind == RD_PITR_TIME) {
        /* an explicit offset: the server's timezone never matters */
        char *v = rd_asprintf("recovery_target_time=%s",
                              rd_pg_recovery_time(t->time_ms, when, sizeof when));
        st = v ? rd_strlist_push(l, v, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(v);
    }
    for (size_t i = 0; st == RD_OK && t->settings && i < t->settings->n; i++)
        st = rd_strlist_push(l, t->settings->items[i], err);
    return st;
}

static rd_status write_signal(const rd_scratch *s, rd_error *err)
{
    char *p = rd_fs_join(s->data_dir, "recovery.signal");
    rd_status st =
        p ? rd_fs_write_atomic(p, "", 0, 0600, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK && s->run_as && *s->run_as) {
        uid_t uid;
        gid_t gid;
        st = rd_proc_lookup_user(s->run_as, &uid, &gid, err);
        if (st == RD_OK && chown(p, uid, gid) != 0)
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", p, s->run_as);
    }
    free(p);
    return st;
}

static rd_status pgb_recover(const rd_restore_cfg *cfg, const rd_point *pt,
                             const rd_recovery_target *t, rd_scratch *s, double deadline,
                             rd_recovery_outcome *out, rd_error *err)
{
    (void)cfg;
    rd_strlist settings = {0};
    char *fetched = NULL;
    const char *wal = t->catalog ? t->catalog->wal_dir : NULL;
    rd_status st = RD_OK;
    if (wal && rd_s3_is_url(wal)) {
        /* a private copy of the WAL the server may ask for, inside the
         * scratch instance's directory (removed with it) */
        char *parent = s->dir ? NULL : rd_strdup(s->data_dir);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash)
            *slash = '\0';
        fetched = rd_fs_join(s->dir ? s->dir : parent, "rd-wal");
        free(parent);
        if (!fetched) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        if ((st = rd_pg_fetch_wal_s3(pt, t, fetched, s->run_as, err)) != RD_OK)
            goto out;
        wal = fetched;
    }
    if ((st = recovery_settings(pt, t, wal, &settings, err)) != RD_OK ||
        (st = write_signal(s, err)) != RD_OK)
        goto out;
    st = rd_pg_recovery_run(pt, t, s, &settings, deadline, out, err);
out:
    free(fetched);
    rd_strlist_free(&settings);
    return st;
}

const rd_physical_type rd_physical_pg = {
    .name = "pg_basebackup",
    .engines = RD_ENGINE_PG,
    .accepts = pgb_accepts,
    .lay = pgb_lay,
    .recover = pgb_recover,
};
