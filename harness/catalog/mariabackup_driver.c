/* mariabackup_driver.c: the "mariabackup" catalog driver: the model of
 * mariabackup.c turned into the shared physical points and archive of
 * catalog.h, and the checks of its settings when a configuration loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mariabackup_int.h"
#include "restoredrill/catalog.h"
#include "restoredrill/log.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

/* "mysql-bin.000001:365600" (heap). */
static char *coords(const rd_mb_backup *b)
{
    return b->binlog_file
               ? rd_asprintf("%s:%llu", b->binlog_file, (unsigned long long)b->binlog_pos)
               : NULL;
}

/* The end of the first usable backup whose binlog coordinates lie in file
 * `from` or later (0: none). */
static int64_t recoverable_again(const rd_mb_archive *a, size_t from)
{
    for (size_t i = 0; i < a->nbackups; i++) {
        size_t f, l;
        int64_t end;
        rd_error e;
        if (rd_mb_reach(a, i, &f, &l, &end, &e) == RD_OK && f >= from)
            return a->backups[i].end_ms;
    }
    return 0;
}

/* A binlog that is there but cannot be replayed to its end is a gap of its
 * own: one whose events stop short (an event runs past the end of the
 * file, or claims fewer bytes than a header), and one that is not the
 * newest but ends at an event boundary without the Rotate or Stop event the
 * server writes when it closes a file, although its format description
 * says it was closed (cut short after copying). A file the server never
 * closed (in use: it crashed, or the copy was taken while it was written)
 * is only logged: a crash leaves such a file, and it replays. */
static rd_status damaged_file(const rd_mb_archive *a, size_t k, rd_archive *ar, rd_error *err)
{
    const rd_mb_binlog *b = &a->binlogs[k];
    const char *why = b->truncated;
    if (!why && k + 1 < a->nbinlogs && !b->closed) {
        if (b->in_use) {
            rd_log_warn("catalog: binary log %s ends without a Rotate or Stop event and was never "
                        "closed by the server (a crash?): it is replayed as it is",
                        b->path);
            return RD_OK;
        }
        why = "cut short: it ends without the Rotate or Stop event the server wrote when it "
              "closed it";
    }
    if (!why)
        return RD_OK;
    return rd_archive_add_damage(ar, b->name, why, b->last_ms > 0 ? b->last_ms : 0,
                                 recoverable_again(a, k + 1), err);
}

/* The shared archive model (catalog.h) of the binlog archive: the window
 * runs from the end of the oldest usable backup to the last event reachable
 * from the newest usable backup before it without a gap; every gap after the
 * oldest usable backup's first file is named, with the span it makes
 * unrecoverable (its last event before, the end of the next backup after). */
static rd_status shared_archive(const rd_mb_archive *a, rd_archive **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_archive *ar = calloc(1, sizeof *ar);
    if (!ar)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    ar->files = a->nbinlogs;
    size_t oldest = RD_MB_NONE, first = 0, last = 0;
    for (size_t i = 0; i < a->nbackups; i++) {
        size_t f, l;
        int64_t end;
        rd_error e;
        if (rd_mb_reach(a, i, &f, &l, &end, &e) != RD_OK)
            continue;
        if (oldest == RD_MB_NONE) {
            oldest = i;
            first = f;
            last = l;
            ar->start_ms = a->backups[i].end_ms;
        }
        if (end > ar->end_ms)
            ar->end_ms = end;
    }
    if (a->nbinlogs) {
        const rd_mb_binlog *nb = &a->binlogs[a->nbinlogs - 1];
        ar->newest = rd_strdup(nb->name);
        ar->newest_ms = nb->last_ms;
        if (!ar->newest)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    if (st == RD_OK && oldest != RD_MB_NONE) {
        ar->first = rd_strdup(a->binlogs[first].name);
        ar->last = rd_strdup(a->binlogs[last].name);
        if (!ar->first || !ar->last)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    for (size_t g = 0; st == RD_OK && oldest != RD_MB_NONE && g < a->ngaps; g++) {
        const rd_mb_gap *gap = &a->gaps[g];
        if (gap->after < first)
            continue;
        /* the first instant recoverable again: the end of the first usable
         * backup whose binlog coordinates lie after the gap */
        int64_t again = recoverable_again(a, gap->before);
        int digits = (int)(strlen(a->binlogs[gap->after].name) - strlen(a->binlog_base) - 1);
        char *f1 = rd_asprintf("%s.%0*llu", a->binlog_base, digits,
                               (unsigned long long)(a->binlogs[gap->after].seq + 1));
        char *f2 = rd_asprintf("%s.%0*llu", a->binlog_base, digits,
                               (unsigned long long)(a->binlogs[gap->before].seq - 1));
        st = f1 && f2 ? rd_archive_add_gap(ar, f1, f2, gap->from_ms, again, err)
                      : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(f1);
        free(f2);
    }
    for (size_t k = first; st == RD_OK && oldest != RD_MB_NONE && k < a->nbinlogs; k++)
        st = damaged_file(a, k, ar, err);
    if (st != RD_OK) {
        rd_archive_free(ar);
        return st;
    }
    rd_archive_sort_gaps(ar);
    *out = ar;
    return RD_OK;
}

static rd_status backup_point(const rd_mb_archive *a, size_t i, rd_point *pt, rd_error *err)
{
    const rd_mb_backup *b = &a->backups[i];
    memset(pt, 0, sizeof *pt);
    pt->id = rd_strdup(b->name);
    pt->base = rd_strdup(b->name);
    pt->location = rd_strdup(b->dir);
    pt->time_basis = rd_strdup("catalog");
    pt->format = rd_strdup("mariabackup");
    pt->created_ms = b->end_ms;
    pt->start_ms = b->start_ms;
    pt->bytes = b->bytes;
    pt->wal_start = coords(b);
    pt->wal_stop = coords(b);
    if (!pt->id || !pt->base || !pt->location || !pt->time_basis || !pt->format ||
        (b->binlog_file && (!pt->wal_start || !pt->wal_stop)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t f, l;
    int64_t end;
    rd_error e;
    if (b->broken) {
        pt->broken = rd_strdup(b->broken);
    } else if (rd_mb_reach(a, i, &f, &l, &end, &e) == RD_OK) {
        pt->reach_ms = end;
    } else {
        /* restorable to its consistency point, but no replay from it */
        pt->reach_ms = 0;
        rd_log_warn("catalog: backup %s restores only to its consistency point: %s", b->name,
                    e.msg);
    }
    if (b->broken && !pt->broken)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    return RD_OK;
}

/* The driver: every backup as a physical recovery point (broken ones with
 * their reason: listed, never sampled), and the binlog archive. */
static rd_status mb_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    rd_mb_archive *a = NULL;
    rd_points pts = {0};
    rd_status st = rd_mb_archive_load(cfg, &a, err);
    for (size_t i = 0; st == RD_OK && i < a->nbackups; i++) {
        rd_point pt;
        st = backup_point(a, i, &pt, err);
        if (st == RD_OK)
            st = rd_points_push(&pts, &pt, err);
        rd_point_clear(&pt);
    }
    if (st == RD_OK)
        st = shared_archive(a, &pts.archive, err);
    rd_mb_archive_free(a);
    if (st != RD_OK) {
        rd_points_free(&pts);
        return st;
    }
    *out = pts;
    return RD_OK;
}

static int installed(const char *name)
{
    static const char *const dirs[] = {"/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin", NULL};
    char *p = rd_proc_which(name, dirs);
    free(p);
    return p != NULL;
}

/* Configuration checks before anything runs (rd_catalog_type.check): the
 * tools, the zone, both directories, at least one binary log. Nothing is
 * parsed: what the files say is a finding of the drill, not a setting. */
static rd_status mb_check(const rd_catalog_cfg *cfg, rd_error *err)
{
    char **names = NULL;
    size_t n = 0, logs = 0;
    if (!installed("mariadb-backup"))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "type: \"mariabackup\" needs mariadb-backup, which is not installed "
                      "(Debian package mariadb-backup)");
    if (!installed("mariadb-binlog"))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "type: \"mariabackup\" needs mariadb-binlog, which is not installed "
                      "(Debian package mariadb-client)");
    if (rd_mb_check_timezone(cfg->timezone, err) != RD_OK)
        return rd_error_prefix(err, "timezone: ");
    /* s3:// locations are read when the catalog is listed */
    rd_status st = RD_OK;
    for (int i = 0; i < 2; i++) {
        const char *w = i ? cfg->binlog_dir : cfg->base_dir;
        char *b = NULL, *k = NULL;
        if (!w || !rd_s3_is_url(w))
            continue;
        st = rd_s3_url_split(w, &b, &k, err);
        free(b);
        free(k);
        if (st != RD_OK)
            return rd_error_prefix(err, "%s: ", i ? "binlog_dir" : "base_dir");
    }
    if (!rd_s3_is_url(cfg->base_dir)) {
        st = rd_mb_dir_names(cfg->base_dir, "base_dir", &names, &n, err);
        rd_mb_names_free(names, n);
        if (st != RD_OK)
            return st;
    }
    if (rd_s3_is_url(cfg->binlog_dir))
        return RD_OK;
    names = NULL;
    n = 0;
    st = rd_mb_dir_names(cfg->binlog_dir, "binlog_dir", &names, &n, err);
    for (size_t i = 0; st == RD_OK && i < n; i++) {
        size_t bl;
        uint64_t seq;
        logs += rd_mb_binlog_name(names[i], &bl, &seq);
    }
    rd_mb_names_free(names, n);
    if (st == RD_OK && logs == 0)
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "binlog_dir: %s holds no binary logs (files named like mysql-bin.000001)",
                    cfg->binlog_dir);
    return st;
}

const rd_catalog_type rd_catalog_mariabackup = {
    .name = "mariabackup",
    .list = mb_list,
    .check = mb_check,
};
