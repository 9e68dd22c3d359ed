/* mariabackup.c: the "mariabackup" catalog: base_dir holds one directory
 * per `mariadb-backup --backup` (full, or incremental chained through the
 * LSNs of xtrabackup_checkpoints), binlog_dir the archived binary logs.
 *
 * An incremental's base is the newest other backup that ended before it
 * started and whose to_lsn is the incremental's from_lsn; none is a broken
 * chain (listed, never restored). The binlog sequence is split by missing
 * sequence numbers (gaps); a backup's window runs from its end to the last
 * event reachable from its binlog coordinates without a gap. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mariabackup_int.h"
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/loc.h"
#include "restoredrill/log.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define INFO_MAX ((size_t)1 << 20)

/* The file of a backup under either name (10.11: xtrabackup_*, later
 * versions: mariadb_backup_*); heap path or NULL when neither exists. */
static char *backup_file(rd_loc *l, const char *name, const char *suffix)
{
    char *p = rd_asprintf("%s/xtrabackup_%s", name, suffix);
    if (p && rd_loc_stat(l, p, NULL, NULL) == 1)
        return p;
    free(p);
    p = rd_asprintf("%s/mariadb_backup_%s", name, suffix);
    if (p && rd_loc_stat(l, p, NULL, NULL) == 1)
        return p;
    free(p);
    return NULL;
}

/* Sum of the regular files below dir (symbolic links not followed). */
static rd_status tree_bytes(const char *dir, int depth, int64_t *sum, rd_error *err)
{
    rd_status st = RD_OK;
    DIR *d = opendir(dir);
    if (!d)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read directory %s", dir);
    struct dirent *de;
    while (st == RD_OK && (de = readdir(d)) != NULL) {
        struct stat sb;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot stat %s/%s", dir, de->d_name);
        } else if (S_ISREG(sb.st_mode)) {
            *sum += (int64_t)sb.st_size;
        } else if (S_ISDIR(sb.st_mode) && depth < 8) {
            char *sub = rd_fs_join(dir, de->d_name);
            st = sub ? tree_bytes(sub, depth + 1, sum, err)
                     : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            free(sub);
        }
    }
    closedir(d);
    return st;
}

/* Read one of the backup's files into *text (NULL when absent). A read
 * failure is returned; the caller turns it into the backup's `broken`. */
static rd_status read_opt(rd_loc *l, const char *name, const char *suffix, char **text,
                          rd_error *err)
{
    *text = NULL;
    char *path = backup_file(l, name, suffix);
    if (!path)
        return RD_OK;
    rd_status st = rd_loc_read(l, path, INFO_MAX, text, NULL, err);
    free(path);
    return st;
}

static void backup_clear(rd_mb_backup *b)
{
    free(b->name);
    free(b->dir);
    free(b->binlog_file);
    free(b->gtid);
    free(b->broken);
    memset(b, 0, sizeof *b);
}

/* Fill *b from the directory; *is_backup 0 when it holds no checkpoints
 * file. A malformed file makes the backup broken (with the file's name and
 * the parser's message), not the catalog. */
static rd_status read_backup(rd_loc *base, const char *name, const char *tz, rd_mb_backup *b,
                             int *is_backup, rd_error *err)
{
    rd_status st = RD_OK;
    char *cp = NULL, *info = NULL, *bl = NULL;
    rd_error e;
    *is_backup = 0;
    memset(b, 0, sizeof *b);
    b->base = RD_MB_NONE;
    b->name = strdup(name);
    b->dir = rd_loc_path(base, name);
    if (!b->name || !b->dir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    char *cpath = backup_file(base, name, "checkpoints");
    if (!cpath)
        return RD_OK;
    free(cpath);
    *is_backup = 1;
    const char *what = "checkpoints";
    rd_status pst = read_opt(base, name, "checkpoints", &cp, &e);
    if (pst == RD_OK)
        pst = rd_mb_parse_checkpoints(cp, b, &e);
    if (pst == RD_OK) {
        what = "info";
        pst = read_opt(base, name, "info", &info, &e);
        if (pst == RD_OK && !info)
            pst = RD_ERR(&e, RD_ERR_FORMAT, "missing (no xtrabackup_info or mariadb_backup_info)");
        if (pst == RD_OK)
            pst = rd_mb_parse_info(info, tz, b, &e);
        /* end_time has whole seconds: the backup ended by the end of it */
        if (pst == RD_OK)
            b->end_ms += 999;
    }
    if (pst == RD_OK) {
        what = "binlog_info";
        pst = read_opt(base, name, "binlog_info", &bl, &e);
        if (pst == RD_OK && bl)
            pst = rd_mb_parse_binlog_info(bl, b, &e);
    }
    if (pst == RD_OK && rd_loc_is_s3(base))
        pst = rd_loc_du(base, name, &b->bytes, &e);
    else if (pst == RD_OK)
        pst = tree_bytes(b->dir, 0, &b->bytes, &e);
    else
        b->bytes = -1;
    if (pst == RD_ERR_NOMEM) {
        st = RD_ERR(err, RD_ERR_NOMEM, "%s", e.msg);
    } else if (pst != RD_OK) {
        b->broken = rd_asprintf("xtrabackup_%s: %s", what, e.msg);
        if (!b->broken)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    free(cp);
    free(info);
    free(bl);
    return st;
}

static int backup_cmp(const void *va, const void *vb)
{
    const rd_mb_backup *a = va, *b = vb;
    if (a->end_ms != b->end_ms)
        return a->end_ms < b->end_ms ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* Link each incremental to its base (after sorting by end time). */
static rd_status link_chains(rd_mb_archive *a, rd_error *err)
{
    for (size_t i = 0; i < a->nbackups; i++) {
        rd_mb_backup *b = &a->backups[i];
        if (b->broken || !b->incremental)
            continue;
        size_t base = RD_MB_NONE;
        for (size_t j = 0; j < a->nbackups; j++) {
            const rd_mb_backup *c = &a->backups[j];
            if (j == i || c->broken || c->to_lsn != b->from_lsn || c->end_ms > b->start_ms)
                continue;
            if (base == RD_MB_NONE || backup_cmp(c, &a->backups[base]) > 0)
                base = j;
        }
        if (base == RD_MB_NONE) {
            b->broken = rd_asprintf("incremental from LSN %llu has no base backup ending at that "
                                    "LSN before it started (a missing link of its chain)",
                                    (unsigned long long)b->from_lsn);
        } else if (a->backups[base].broken) {
            b->broken = rd_asprintf("its base %s is broken", a->backups[base].name);
        } else {
            b->base = base;
        }
        if (b->base == RD_MB_NONE && !b->broken)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    return RD_OK;
}

/* "mysql-bin.000042" -> base "mysql-bin", seq 42; 0 when not such a name. */
int rd_mb_binlog_name(const char *name, size_t *base_len, uint64_t *seq)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name || strlen(dot + 1) < 6)
        return 0;
    uint64_t v = 0;
    for (const char *c = dot + 1; *c; c++) {
        if (*c < '0' || *c > '9' || v > UINT64_MAX / 10 - 10)
            return 0;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    *base_len = (size_t)(dot - name);
    *seq = v;
    return 1;
}

static int binlog_cmp(const void *va, const void *vb)
{
    const rd_mb_binlog *a = va, *b = vb;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The binlog base name: the one the newest backup names, else the one with
 * the most files in the directory. */
static rd_status choose_base(const rd_mb_archive *a, char **const names, size_t n, char **out,
                             rd_error *err)
{
    for (size_t i = a->nbackups; i-- > 0;) {
        size_t bl;
        uint64_t seq;
        const char *f = a->backups[i].binlog_file;
        if (f && rd_mb_binlog_name(f, &bl, &seq)) {
            *out = strndup(f, bl);
            return *out ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        }
    }
    size_t best = 0, best_count = 0;
    for (size_t i = 0; i < n; i++) {
        size_t bl, bl2, count = 0;
        uint64_t seq;
        rd_mb_binlog_name(names[i], &bl, &seq);
        for (size_t j = 0; j < n; j++)
            if (rd_mb_binlog_name(names[j], &bl2, &seq) && bl2 == bl &&
                strncmp(names[i], names[j], bl) == 0)
                count++;
        if (count > best_count) {
            best = i;
            best_count = count;
        }
    }
    size_t bl;
    uint64_t seq;
    rd_mb_binlog_name(names[best], &bl, &seq);
    *out = strndup(names[best], bl);
    return *out ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

/* Names of the entries of dir (heap array of heap strings). */
rd_status rd_mb_dir_names(const char *dir, const char *key, char ***out, size_t *n, rd_error *err)
{
    rd_status st = RD_OK;
    char **names = NULL;
    size_t count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return RD_ERR_ERRNO(err, RD_ERR_CONFIG, "%s: cannot read %s", key, dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (count + 1) * sizeof *nn);
        if (!nn) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        names = nn;
        if (!(names[count] = strdup(de->d_name))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        count++;
    }
    closedir(d);
    *out = names;
    *n = count;
    return st;
}

void rd_mb_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static rd_status load_backups(const rd_catalog_cfg *cfg, rd_loc *base, rd_mb_archive *a,
                              rd_error *err)
{
    rd_loc_entries l = {NULL, 0};
    rd_status st = rd_loc_list(base, NULL, &l, err);
    for (size_t i = 0; st == RD_OK && i < l.n; i++) {
        rd_mb_backup b;
        int is_backup = 0;
        const char *name = l.items[i].name;
        if (!l.items[i].is_dir)
            continue;
        st = read_backup(base, name, cfg->timezone, &b, &is_backup, err);
        if (st == RD_OK && !is_backup)
            rd_log_warn("catalog: %s/%s is not a mariadb-backup directory (no "
                        "xtrabackup_checkpoints): ignored",
                        cfg->base_dir, name);
        if (st == RD_OK && is_backup) {
            rd_mb_backup *nb = realloc(a->backups, (a->nbackups + 1) * sizeof *nb);
            if (!nb) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            } else {
                a->backups = nb;
                a->backups[a->nbackups++] = b;
                continue;
            }
        }
        backup_clear(&b);
    }
    rd_loc_entries_free(&l);
    if (st != RD_OK)
        return st;
    if (a->nbackups > 1)
        qsort(a->backups, a->nbackups, sizeof a->backups[0], backup_cmp);
    return link_chains(a, err);
}

static rd_status load_binlogs(const rd_catalog_cfg *cfg, rd_loc *bl_loc, rd_mb_archive *a,
                              rd_error *err)
{
    char **names = NULL, **logs = NULL, *tmpdir = NULL;
    size_t n = 0, nlogs = 0;
    rd_loc_entries l = {NULL, 0};
    rd_status st = rd_loc_list(bl_loc, NULL, &l, err);
    if (st != RD_OK)
        goto out;
    if (!(names = calloc(l.n + 1, sizeof *names))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        if (!l.items[i].is_dir)
            names[n++] = l.items[i].name; /* borrowed from l */
    if (!(logs = calloc(n + 1, sizeof *logs))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t bl;
        uint64_t seq;
        if (rd_mb_binlog_name(names[i], &bl, &seq))
            logs[nlogs++] = names[i];
    }
    if (nlogs == 0) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "catalog.binlog_dir: %s holds no binary logs (files named like "
                    "mysql-bin.000001)",
                    cfg->binlog_dir);
        goto out;
    }
    st = choose_base(a, logs, nlogs, &a->binlog_base, err);
    size_t base_len = a->binlog_base ? strlen(a->binlog_base) : 0;
    for (size_t i = 0; st == RD_OK && i < nlogs; i++) {
        size_t bl;
        uint64_t seq;
        rd_mb_binlog_name(logs[i], &bl, &seq);
        if (bl != base_len || strncmp(logs[i], a->binlog_base, bl) != 0) {
            rd_log_warn("catalog: %s/%s is not a binary log of %s: ignored", cfg->binlog_dir,
                        logs[i], a->binlog_base);
            continue;
        }
        rd_mb_binlog b;
        memset(&b, 0, sizeof b);
        b.seq = seq;
        b.name = strdup(logs[i]);
        b.path = rd_loc_path(bl_loc, logs[i]);
        if (!b.name || !b.path)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK && rd_loc_is_s3(bl_loc)) {
            /* read from a temporary copy; the path stays the S3 location */
            char *local = NULL;
            int copy = 0;
            if (!tmpdir)
                st = rd_fs_mkdtemp(NULL, "rd-binlog-", 0, 0, 0, &tmpdir, err);
            if (st == RD_OK)
                st = rd_loc_local(bl_loc, logs[i], tmpdir, &local, &copy, err);
            if (st == RD_OK)
                st = rd_mb_scan_binlog(local, &b, err);
            if (local)
                unlink(local);
            free(local);
        } else if (st == RD_OK) {
            st = rd_mb_scan_binlog(b.path, &b, err);
        }
        rd_mb_binlog *nb = st == RD_OK ? realloc(a->binlogs, (a->nbinlogs + 1) * sizeof *nb) : NULL;
        if (st == RD_OK && !nb)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st != RD_OK) {
            free(b.name);
            free(b.path);
            free(b.truncated);
            break;
        }
        if (b.truncated)
            rd_log_warn("catalog: binary log %s is %s: a replay through it fails", b.path,
                        b.truncated);
        a->binlogs = nb;
        a->binlogs[a->nbinlogs++] = b;
    }
    if (st == RD_OK && a->nbinlogs > 1)
        qsort(a->binlogs, a->nbinlogs, sizeof a->binlogs[0], binlog_cmp);
out:
    free(logs);
    free(names);
    rd_loc_entries_free(&l);
    if (tmpdir) {
        rmdir(tmpdir);
        free(tmpdir);
    }
    return st;
}

static rd_status find_gaps(rd_mb_archive *a, rd_error *err)
{
    for (size_t i = 1; i < a->nbinlogs; i++) {
        const rd_mb_binlog *p = &a->binlogs[i - 1], *b = &a->binlogs[i];
        if (b->seq == p->seq + 1)
            continue;
        rd_mb_gap *ng = realloc(a->gaps, (a->ngaps + 1) * sizeof *ng);
        if (!ng)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        a->gaps = ng;
        rd_mb_gap *g = &a->gaps[a->ngaps];
        int digits = (int)(strlen(p->name) - strlen(a->binlog_base) - 1);
        if (b->seq == p->seq + 2)
            g->missing =
                rd_asprintf("%s.%0*llu", a->binlog_base, digits, (unsigned long long)(p->seq + 1));
        else
            g->missing = rd_asprintf("%s.%0*llu .. %s.%0*llu", a->binlog_base, digits,
                                     (unsigned long long)(p->seq + 1), a->binlog_base, digits,
                                     (unsigned long long)(b->seq - 1));
        if (!g->missing)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        g->after = i - 1;
        g->before = i;
        g->from_ms = p->last_ms;
        g->to_ms = b->first_ms;
        a->ngaps++;
    }
    return RD_OK;
}

rd_status rd_mb_archive_load(const rd_catalog_cfg *cfg, rd_mb_archive **out, rd_error *err)
{
    rd_status st;
    if (!cfg->base_dir || !*cfg->base_dir)
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.base_dir: expected a directory");
    if (!cfg->binlog_dir || !*cfg->binlog_dir)
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.binlog_dir: expected a directory");
    st = rd_mb_check_timezone(cfg->timezone, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "catalog.timezone: ");
    rd_mb_archive *a = calloc(1, sizeof *a);
    if (!a)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_loc *base = NULL, *bl = NULL;
    rd_s3_opts o = {
        .endpoint = cfg->endpoint, .region = cfg->region, .path_style = cfg->path_style};
    st = rd_loc_open(cfg->base_dir, "catalog.base_dir", &o, &base, err);
    if (st == RD_OK)
        st = rd_loc_open(cfg->binlog_dir, "catalog.binlog_dir", &o, &bl, err);
    if (st == RD_OK)
        st = load_backups(cfg, base, a, err);
    if (st == RD_OK)
        st = load_binlogs(cfg, bl, a, err);
    rd_loc_free(base);
    rd_loc_free(bl);
    if (st == RD_OK)
        st = find_gaps(a, err);
    if (st != RD_OK) {
        rd_mb_archive_free(a);
        return st;
    }
    *out = a;
    return RD_OK;
}

void rd_mb_archive_free(rd_mb_archive *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nbackups; i++)
        backup_clear(&a->backups[i]);
    for (size_t i = 0; i < a->nbinlogs; i++) {
        free(a->binlogs[i].name);
        free(a->binlogs[i].path);
        free(a->binlogs[i].truncated);
    }
    for (size_t i = 0; i < a->ngaps; i++)
        free(a->gaps[i].missing);
    free(a->backups);
    free(a->binlogs);
    free(a->gaps);
    free(a->binlog_base);
    free(a);
}

rd_status rd_mb_chain(const rd_mb_archive *a, size_t i, size_t **order, size_t *n, rd_error *err)
{
    if (i >= a->nbackups)
        return RD_ERR(err, RD_ERR_INTERNAL, "no backup %zu", i);
    if (a->backups[i].broken)
        return RD_ERR(err, RD_ERR_REFUSED, "backup %s cannot be restored: %s", a->backups[i].name,
                      a->backups[i].broken);
    size_t len = 0;
    for (size_t j = i; j != RD_MB_NONE; j = a->backups[j].base)
        if (++len > a->nbackups)
            return RD_ERR(err, RD_ERR_INTERNAL, "backup chain of %s loops", a->backups[i].name);
    size_t *o = calloc(len, sizeof *o);
    if (!o)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t k = len;
    for (size_t j = i; j != RD_MB_NONE; j = a->backups[j].base)
        o[--k] = j;
    *order = o;
    *n = len;
    return RD_OK;
}

rd_status rd_mb_reach(const rd_mb_archive *a, size_t i, size_t *first, size_t *last,
                      int64_t *end_ms, rd_error *err)
{
    const rd_mb_backup *b = &a->backups[i];
    if (b->broken)
        return RD_ERR(err, RD_ERR_REFUSED, "backup %s cannot be restored: %s", b->name, b->broken);
    if (!b->binlog_file)
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "backup %s has no binlog coordinates (no xtrabackup_binlog_info: was "
                      "binary logging on?)",
                      b->name);
    size_t f = RD_MB_NONE;
    for (size_t j = 0; j < a->nbinlogs; j++)
        if (strcmp(a->binlogs[j].name, b->binlog_file) == 0)
            f = j;
    if (f == RD_MB_NONE)
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "backup %s names %s, which is not in the binlog archive", b->name,
                      b->binlog_file);
    size_t l = f;
    while (l + 1 < a->nbinlogs && a->binlogs[l + 1].seq == a->binlogs[l].seq + 1)
        l++;
    int64_t end = a->binlogs[l].last_ms;
    *first = f;
    *last = l;
    *end_ms = end > b->end_ms ? end : b->end_ms;
    return RD_OK;
}

rd_status rd_mb_pick_for_target(const rd_mb_archive *a, int64_t target_ms, size_t *index,
                                rd_error *err)
{
    char tb[RD_TIME_BUFSZ], xb[RD_TIME_BUFSZ], yb[RD_TIME_BUFSZ];
    size_t newest = RD_MB_NONE, oldest = RD_MB_NONE;
    rd_time_format(target_ms, tb, sizeof tb);
    for (size_t i = a->nbackups; i-- > 0;) {
        const rd_mb_backup *b = &a->backups[i];
        if (b->broken || !b->binlog_file)
            continue;
        oldest = i;
        if (b->end_ms > target_ms)
            continue;
        size_t f, l;
        int64_t end;
        rd_error e;
        if (rd_mb_reach(a, i, &f, &l, &end, &e) != RD_OK)
            continue;
        if (newest == RD_MB_NONE)
            newest = i;
        if (target_ms <= end) {
            *index = i;
            return RD_OK;
        }
    }
    if (oldest == RD_MB_NONE)
        return RD_ERR(err, RD_ERR_NOTFOUND, "target %s: no usable backup in the catalog", tb);
    if (newest == RD_MB_NONE)
        return RD_ERR(
            err, RD_ERR_NOTFOUND, "target %s is before the oldest backup ended (%s at %s)", tb,
            a->backups[oldest].name, rd_time_format(a->backups[oldest].end_ms, xb, sizeof xb));
    size_t f, l;
    int64_t end;
    rd_mb_reach(a, newest, &f, &l, &end, err);
    for (size_t g = 0; g < a->ngaps; g++)
        if (a->gaps[g].after == l)
            return RD_ERR(err, RD_ERR_NOTFOUND,
                          "target %s is past the gap in the binary logs after %s (%s missing: "
                          "nothing between %s and %s can be recovered)",
                          tb, a->binlogs[l].name, a->gaps[g].missing,
                          rd_time_format(a->gaps[g].from_ms, xb, sizeof xb),
                          rd_time_format(a->gaps[g].to_ms, yb, sizeof yb));
    return RD_ERR(err, RD_ERR_NOTFOUND,
                  "target %s is past the last event of the binary logs (%s in %s)", tb,
                  rd_time_format(end, xb, sizeof xb), a->binlogs[l].name);
}
