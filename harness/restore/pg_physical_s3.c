/* pg_physical_s3.c: a pg_basebackup base backup and its WAL archive in S3
 * (a pg-archive catalog whose base_dir / wal_dir are s3:// prefixes).
 *
 * The base backup is fetched straight into the scratch data directory: a
 * tar backup's base.tar[.gz|.zst] (and pg_wal.tar) streamed through one GET
 * into `tar -x -f -`, a plain backup file by file. The WAL the restore can
 * need (every segment from the backup's first one on, all timelines, and
 * every .history file) is fetched ahead into a private directory of the
 * scratch instance that the restore_command reads: the server never holds
 * AWS credentials and never runs restoredrill. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg_recovery.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/loc.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

static rd_status open_loc(const char *where, const char *key, const rd_recovery_target *t,
                          rd_loc **out, rd_error *err)
{
    const rd_catalog_cfg *c = t ? t->catalog : NULL;
    rd_s3_opts o = {.endpoint = c ? c->endpoint : NULL,
                    .region = c ? c->region : NULL,
                    .path_style = c ? c->path_style : -1};
    return rd_loc_open(where, key, &o, out, err);
}

typedef struct pipe_sink {
    int fd;
    int epipe;
} pipe_sink;

static rd_status pipe_write(void *ctx, const void *buf, size_t n, rd_error *err)
{
    pipe_sink *p = ctx;
    const char *b = buf;
    while (n > 0) {
        ssize_t w = write(p->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            p->epipe = errno == EPIPE;
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write to tar");
        }
        b += w;
        n -= (size_t)w;
    }
    return RD_OK;
}

/* Stream rel of loc into `tar -x -f - -C into` (decompressing by its name). */
static rd_status untar_stream(rd_loc *loc, const char *rel, const char *into, double deadline,
                              rd_restore_outcome *out, rd_error *err)
{
    size_t n = strlen(rel);
    const char *filter = n > 3 && strcmp(rel + n - 3, ".gz") == 0    ? "--gzip"
                         : n > 4 && strcmp(rel + n - 4, ".zst") == 0 ? "--zstd"
                         : n > 4 && strcmp(rel + n - 4, ".lz4") == 0 ? "--use-compress-program=lz4"
                                                                     : NULL;
    const char *argv[] = {"tar", "-x", "-f", "-", "-C", into, filter, NULL};
    /* tar reads its stdin only: no AWS secret in its environment */
    static const char *const scrub[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                        "AWS_SESSION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                        NULL};
    rd_proc_spec spec = {.argv = argv, .env = scrub, .stdin_mode = RD_PROC_IO_PIPE};
    rd_proc *p = NULL;
    rd_error se;
    int code = 0;
    sigset_t pipe_set, old;
    rd_status st = rd_proc_start(&spec, &p, err), sst;
    if (st != RD_OK)
        return st;
    pipe_sink ps = {rd_proc_stdin_fd(p), 0};
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    rd_error_clear(&se);
    sst = rd_loc_stream(loc, rel, pipe_write, &ps, NULL, &se);
    if (ps.epipe) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    rd_proc_close_stdin(p);
    st = rd_proc_wait(p, deadline, &code, err);
    const char *tail = rd_proc_stderr_tail(p);
    if (out && *tail) {
        rd_strbuf_append(&out->log, tail, NULL);
        rd_strbuf_keep_tail(&out->log, 16384);
    }
    if (st == RD_OK && sst != RD_OK && !ps.epipe) {
        st = sst; /* the transfer failed: S3's message */
        if (err)
            *err = se;
    } else if (st == RD_OK && code != 0) {
        st = rd_proc_fail(err, "tar", code, tail);
    } else if (st == RD_OK && sst != RD_OK) {
        st = sst;
        if (err)
            *err = se;
    }
    rd_proc_free(p);
    if (st != RD_OK) {
        char *where = rd_loc_path(loc, rel);
        rd_error_prefix(err, "cannot extract %s: ", where ? where : rel);
        free(where);
    }
    return st;
}

/* The first of dir/NAME, NAME.gz, NAME.zst, NAME.lz4 in loc (heap), or NULL. */
static char *find_compressed(rd_loc *loc, const char *dir, const char *name)
{
    static const char *const ext[] = {"", ".gz", ".zst", ".lz4", NULL};
    for (size_t i = 0; ext[i]; i++) {
        char *p = rd_asprintf("%s/%s%s", dir, name, ext[i]);
        if (p && rd_loc_stat(loc, p, NULL, NULL) == 1)
            return p;
        free(p);
    }
    return NULL;
}

/* S3 has no empty directories: those a data directory needs even when
 * empty (as pg_basebackup leaves them) are made after a plain fetch. */
static rd_status make_empty_dirs(const char *data, rd_error *err)
{
    static const char *const dirs[] = {"pg_commit_ts",
                                       "pg_dynshmem",
                                       "pg_logical/mappings",
                                       "pg_logical/snapshots",
                                       "pg_multixact/members",
                                       "pg_multixact/offsets",
                                       "pg_notify",
                                       "pg_replslot",
                                       "pg_serial",
                                       "pg_snapshots",
                                       "pg_stat",
                                       "pg_stat_tmp",
                                       "pg_subtrans",
                                       "pg_tblspc",
                                       "pg_twophase",
                                       "pg_wal/archive_status",
                                       "pg_xact",
                                       NULL};
    rd_status st = RD_OK;
    for (size_t i = 0; st == RD_OK && dirs[i]; i++) {
        char *p = rd_fs_join(data, dirs[i]);
        st = p ? rd_fs_mkdir_p(p, 0700, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(p);
    }
    return st;
}

rd_status rd_pg_lay_s3(const rd_point *pt, const rd_recovery_target *t, const char *data,
                       double deadline, rd_restore_outcome *out, rd_error *err)
{
    rd_loc *loc = NULL;
    char *base = NULL, *wal = NULL, *waldir = NULL, *man = NULL, *rman = NULL, *dir = NULL;
    uint64_t bytes = 0;
    double t0 = rd_mono_now();
    /* the catalog's base_dir, listed once, and the backup's directory in it */
    const char *bd = t && t->catalog ? t->catalog->base_dir : NULL;
    size_t bl = bd ? strlen(bd) : 0;
    while (bl > 5 && bd[bl - 1] == '/')
        bl--;
    int inside =
        bd && strncmp(pt->location, bd, bl) == 0 && pt->location[bl] == '/' && pt->location[bl + 1];
    rd_status st = open_loc(inside ? bd : pt->location, "catalog.base_dir", t, &loc, err);
    if (st != RD_OK)
        return st;
    if (!(dir = rd_strdup(inside ? pt->location + bl + 1 : "")) ||
        !(rman = rd_asprintf("%s%sbackup_manifest", dir, *dir ? "/" : ""))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (strcmp(pt->format, "pg-basebackup-tar") == 0) {
        base = find_compressed(loc, dir, "base.tar");
        wal = find_compressed(loc, dir, "pg_wal.tar");
        if (!base) {
            int r = rd_loc_stat(loc, dir, NULL, err);
            st = r < 0
                     ? (err ? err->code : RD_ERR_NET)
                     : RD_ERR(err, RD_ERR_NOTFOUND, "base backup %s has no base.tar", pt->location);
            goto out;
        }
        if ((st = untar_stream(loc, base, data, deadline, out, err)) != RD_OK)
            goto out;
        if (wal) {
            if (!(waldir = rd_fs_join(data, "pg_wal"))) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            if ((st = rd_fs_mkdir_p(waldir, 0700, err)) != RD_OK ||
                (st = untar_stream(loc, wal, waldir, deadline, out, err)) != RD_OK)
                goto out;
        }
        if (rd_loc_stat(loc, rman, NULL, NULL) == 1) {
            if (!(man = rd_fs_join(data, "backup_manifest")))
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            else
                st = rd_loc_fetch(loc, rman, man, 0, NULL, err);
        }
    } else {
        int r = rd_loc_stat(loc, dir, NULL, err);
        if (r != 1) {
            st = r < 0
                     ? (err ? err->code : RD_ERR_NET)
                     : RD_ERR(err, RD_ERR_NOTFOUND, "base backup %s does not exist", pt->location);
            goto out;
        }
        if ((st = rd_loc_fetch_tree(loc, dir, data, &bytes, err)) == RD_OK)
            st = make_empty_dirs(data, err);
    }
    if (st == RD_OK)
        rd_log_info("fetched base backup %s into %s in %.1fs", pt->location, data,
                    rd_mono_now() - t0);
out:
    free(dir);
    free(rman);
    free(base);
    free(wal);
    free(waldir);
    free(man);
    rd_loc_free(loc);
    return st;
}

/* A WAL file the restore may need: a segment at or after first (its
 * 16-digit log/seg part, any timeline) or a history file. */
static int wanted(const char *name, const char *first)
{
    size_t n = strspn(name, "0123456789ABCDEF");
    if (n == 8 && strncmp(name + 8, ".history", 8) == 0)
        return 1;
    if (n < 24 || !first || strlen(first) < 24)
        return n >= 24;
    return strncmp(name + 8, first + 8, 16) >= 0;
}

rd_status rd_pg_fetch_wal_s3(const rd_point *pt, const rd_recovery_target *t, const char *into,
                             const char *run_as, rd_error *err)
{
    rd_loc *loc = NULL;
    rd_loc_entries l = {NULL, 0};
    uint64_t bytes = 0;
    size_t files = 0;
    double t0 = rd_mono_now();
    uid_t uid = 0;
    gid_t gid = 0;
    rd_status st = open_loc(t->catalog->wal_dir, "catalog.wal_dir", t, &loc, err);
    if (st == RD_OK && run_as && *run_as)
        st = rd_proc_lookup_user(run_as, &uid, &gid, err);
    if (st == RD_OK)
        st = rd_fs_mkdir_p(into, 0700, err);
    if (st == RD_OK && run_as && *run_as && chown(into, uid, gid) != 0)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", into, run_as);
    if (st == RD_OK)
        st = rd_loc_list(loc, NULL, &l, err);
    for (size_t i = 0; st == RD_OK && i < l.n; i++) {
        const rd_loc_entry *e = &l.items[i];
        if (e->is_dir || !wanted(e->name, pt->wal_start))
            continue;
        char *dst = rd_fs_join(into, e->name);
        st = dst ? rd_loc_fetch(loc, e->name, dst, 0, NULL, err)
                 : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK && run_as && *run_as && chown(dst, uid, gid) != 0)
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", dst, run_as);
        free(dst);
        bytes += (uint64_t)e->size;
        files++;
    }
    if (st == RD_OK)
        rd_log_info("fetched %zu WAL files (%llu bytes) from %s into %s in %.1fs", files,
                    (unsigned long long)bytes, rd_loc_where(loc), into, rd_mono_now() - t0);
    rd_loc_entries_free(&l);
    rd_loc_free(loc);
    return st;
}
