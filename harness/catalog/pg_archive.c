/* pg_archive.c: the `pg-archive` catalog: base backups made by pg_basebackup
 * (one sub-directory of base_dir each: plain with backup_label, or tar with
 * base.tar[.gz|.zst]) and the WAL archive that archive_command filled
 * (wal_dir: segments, .backup and .history files, optionally .gz / .zst).
 *
 * Each base backup is a physical point: its start and stop (LSN, time) come
 * from its backup_label and the .backup history file in wal_dir; it reaches
 * as far as the archive runs without a gap from it (the last commit there,
 * from `TZ=UTC pg_waldump`). The archive records the restorable window and
 * every gap of the segment sequence along the newest timeline. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pg_wal.h"
#include "restoredrill/catalog.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define SEG_DEFAULT (UINT64_C(16) << 20)

/* The archive directory and its .backup files. */
typedef struct arch {
    rd_pg_arch w;
    const char *dir;
    rd_strlist backups; /* .backup file names */
} arch;

static void arch_free(arch *a)
{
    rd_pg_arch_free(&a->w);
    rd_strlist_free(&a->backups);
}

static rd_status dir_fetch(void *ud, const char *file, const char *name, const char *tmpdir,
                           char **local, rd_error *err)
{
    (void)name;
    (void)tmpdir;
    *local = rd_fs_join(ud, file);
    return *local ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
            return 0;
    return 1;
}

static int strip_ext(const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s", name);
    size_t l = strlen(out);
    if (l > 3 && strcmp(out + l - 3, ".gz") == 0)
        out[l - 3] = '\0';
    else if (l > 4 && strcmp(out + l - 4, ".zst") == 0)
        out[l - 4] = '\0';
    return 1;
}

/* Segment size: an uncompressed segment's size, else a decompressed one's. */
static uint64_t find_segsize(const arch *a)
{
    const rd_strlist *names = &a->w.pending_files;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < names->n; i++) {
            const char *n = names->items[i];
            int plain = strlen(n) == 24;
            if ((pass == 0) != plain)
                continue;
            char *path = rd_fs_join(a->dir, n);
            uint64_t size = 0;
            if (!path)
                return SEG_DEFAULT;
            if (plain) {
                struct stat sb;
                size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
            } else {
                char *data = NULL;
                size_t len = 0;
                if (rd_pg_read_file(path, 1u << 30, &data, &len, NULL) == RD_OK)
                    size = len;
                free(data);
            }
            free(path);
            if (size >= (1u << 20) && size <= (1u << 30) && (size & (size - 1)) == 0)
                return size;
        }
    return SEG_DEFAULT;
}

static rd_status scan(arch *a, rd_error *err)
{
    DIR *d = opendir(a->dir);
    struct dirent *de;
    rd_status st = RD_OK;
    if (!d)
        return RD_ERR_ERRNO(err, RD_ERR_CONFIG, "catalog.wal_dir: cannot read %s", a->dir);
    while (st == RD_OK && (de = readdir(d)) != NULL) {
        char base[256];
        const char *n = de->d_name;
        strip_ext(n, base, sizeof base);
        size_t l = strlen(base);
        if (l == 24 && is_hex(base, 24))
            st = rd_pg_arch_add_seg(&a->w, n, base, err);
        else if (l == 24 + 1 + 8 + 7 && is_hex(base, 24) && base[24] == '.' &&
                 strcmp(base + 33, ".backup") == 0)
            st = rd_strlist_push(&a->backups, n, err);
        else if (l == 16 && is_hex(base, 8) && strcmp(base + 8, ".history") == 0)
            st = rd_pg_arch_add_history(&a->w, n, (uint32_t)strtoul(base, NULL, 16), err);
    }
    closedir(d);
    if (st != RD_OK)
        return st;
    return rd_pg_arch_index(&a->w, find_segsize(a), err);
}

static rd_status read_label(const char *dir, int tar, char **text, rd_error *err)
{
    size_t len;
    if (!tar) {
        char *p = rd_fs_join(dir, "backup_label");
        rd_status st = p ? rd_fs_read_file(p, 1u << 16, text, &len, err)
                         : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(p);
        return st;
    }
    static const char *const names[] = {"base.tar", "base.tar.gz", "base.tar.zst", NULL};
    for (size_t i = 0; names[i]; i++) {
        char *p = rd_fs_join(dir, names[i]);
        if (p && rd_fs_exists(p)) {
            rd_strbuf out, errtail;
            int code = 0;
            const char *argv[] = {"tar", "-x", "-O", "-f", p, "backup_label", NULL};
            rd_proc_spec spec = {.argv = argv};
            rd_strbuf_init(&out, 1u << 16);
            rd_strbuf_init(&errtail, 4096);
            rd_status st = rd_proc_run(&spec, 600, &out, &errtail, &code, err);
            if (st == RD_OK && code != 0)
                st = rd_proc_fail(err, "tar", code, errtail.data ? errtail.data : "");
            if (st == RD_OK)
                *text = out.data ? rd_strbuf_detach(&out) : rd_strdup("");
            rd_strbuf_free(&out);
            rd_strbuf_free(&errtail);
            free(p);
            return st;
        }
        free(p);
    }
    return RD_ERR(err, RD_ERR_NOTFOUND, "no base.tar");
}

/* The .backup history file of a backup that started at lsn in file. */
static rd_status read_history(arch *a, const rd_pg_label *l, rd_pg_label *out, char *name,
                              size_t namesz, rd_error *err)
{
    char want[64];
    snprintf(want, sizeof want, "%s.%08X.backup", l->start_file,
             (unsigned)(l->start_lsn % a->w.segsize));
    snprintf(name, namesz, "%s", want);
    for (size_t i = 0; i < a->backups.n; i++) {
        char base[64];
        strip_ext(a->backups.items[i], base, sizeof base);
        if (strcmp(base, want) != 0)
            continue;
        char *path = rd_fs_join(a->dir, a->backups.items[i]);
        char *text = NULL;
        size_t len;
        rd_status st = path ? rd_pg_read_file(path, 1u << 16, &text, &len, err)
                            : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK)
            st = rd_pg_label_parse(text, out, err);
        if (st != RD_OK)
            rd_error_prefix(err, "%s: ", a->backups.items[i]);
        free(text);
        free(path);
        return st;
    }
    return RD_ERR(err, RD_ERR_NOTFOUND,
                  "no backup history file %s in wal_dir: the end of the backup is unknown", want);
}

static int backup_has_wal(const char *dir, int tar, const char *segname)
{
    if (tar) {
        static const char *const names[] = {"pg_wal.tar", "pg_wal.tar.gz", "pg_wal.tar.zst", NULL};
        for (size_t i = 0; names[i]; i++) {
            char *p = rd_fs_join(dir, names[i]);
            int ok = p && rd_fs_exists(p);
            free(p);
            if (ok)
                return 1;
        }
        return 0;
    }
    char *p = rd_asprintf("%s/pg_wal/%s", dir, segname);
    int ok = p && rd_fs_exists(p);
    free(p);
    return ok;
}

/* Read one base backup directory into b (b->pt.broken says why it cannot be used). */
static rd_status read_backup(arch *a, const char *base_dir, const char *name, rd_pg_backup *b,
                             rd_error *err)
{
    char *dir = rd_fs_join(base_dir, name);
    char *label_text = NULL;
    char hname[64], why[1400];
    rd_pg_label l, h;
    rd_error e;
    struct stat sb;
    int tar = 0;
    why[0] = '\0';
    memset(b, 0, sizeof *b);
    b->pt.bytes = -1;
    if (!dir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    char *lab = rd_fs_join(dir, "backup_label");
    tar = !(lab && rd_fs_exists(lab));
    free(lab);
    b->pt.id = rd_strdup(name);
    b->pt.location = dir;
    b->pt.format = rd_strdup(tar ? "pg-basebackup-tar" : "pg-basebackup-plain");
    b->pt.time_basis = rd_strdup("label");
    b->pt.created_ms = stat(dir, &sb) == 0 ? (int64_t)sb.st_mtime * 1000 : 0;
    if (!b->pt.id || !b->pt.format || !b->pt.time_basis)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (read_label(dir, tar, &label_text, &e) != RD_OK) {
        snprintf(why, sizeof why, "cannot read its backup_label: %s", e.msg);
        goto broken;
    }
    if (rd_pg_label_parse(label_text, &l, &e) != RD_OK) {
        snprintf(why, sizeof why, "backup_label: %s", e.msg);
        goto broken;
    }
    b->pt.base = rd_strdup(l.label[0] ? l.label : name);
    b->pt.wal_start = rd_strdup(l.start_file);
    b->pt.start_ms = l.start_ms;
    if (l.start_ms)
        b->pt.created_ms = l.start_ms;
    if (read_history(a, &l, &h, hname, sizeof hname, &e) != RD_OK) {
        snprintf(why, sizeof why, "%s", e.msg);
        goto broken;
    }
    if (!h.stop_lsn || !h.stop_ms) {
        snprintf(why, sizeof why, "%s has no STOP WAL LOCATION / STOP TIME", hname);
        goto broken;
    }
    b->pt.created_ms = h.stop_ms;
    b->pt.wal_stop = rd_strdup(h.stop_file);
    b->start_seg = l.start_lsn / a->w.segsize;
    b->stop_seg = h.stop_lsn / a->w.segsize;
    if (!rd_pg_arch_in_chain(&a->w, l.start_tli)) {
        snprintf(why, sizeof why,
                 "it is on timeline %u, which the archive's newest timeline %u does not descend "
                 "from",
                 (unsigned)l.start_tli, (unsigned)a->w.newest_tli);
        goto broken;
    }
    for (uint64_t s = b->start_seg; s <= b->stop_seg; s++) {
        char segname[32];
        rd_wal_name(rd_pg_arch_tli_at(&a->w, s), s, a->w.segsize, segname, sizeof segname);
        if (!rd_pg_arch_find(&a->w, s) && !backup_has_wal(dir, tar, segname)) {
            snprintf(why, sizeof why,
                     "it needs WAL segment %s, missing from the archive and the backup", segname);
            goto broken;
        }
    }
    b->usable = 1;
    free(label_text);
    return RD_OK;
broken:
    b->pt.broken = rd_strdup(why);
    if (!b->pt.base)
        b->pt.base = rd_strdup(name);
    free(label_text);
    return b->pt.broken && b->pt.base ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

static int plain_wal_dir(const char *s)
{
    return strpbrk(s, "'%\\\n") == NULL;
}

static rd_status pga_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    arch a;
    rd_pg_backup *bs = NULL;
    size_t nb = 0, cap = 0;
    rd_archive *ar = NULL;
    DIR *d = NULL;
    struct dirent *de;
    rd_status st;
    memset(&a, 0, sizeof a);
    a.dir = cfg->wal_dir;
    a.w.fetch = dir_fetch;
    a.w.fetch_ud = (void *)cfg->wal_dir;
    if (!cfg->base_dir || !rd_fs_is_dir(cfg->base_dir))
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.base_dir: %s is not a directory",
                      cfg->base_dir ? cfg->base_dir : "(none)");
    if (!cfg->wal_dir || !rd_fs_is_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.wal_dir: %s is not a directory",
                      cfg->wal_dir ? cfg->wal_dir : "(none)");
    if (!plain_wal_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "catalog.wal_dir: %s has a quote, %%, backslash or newline, which the "
                      "restore_command cannot carry",
                      cfg->wal_dir);
    if (!(a.w.waldump = rd_pg_tool("pg_waldump")))
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "pg_waldump not found (the pg-archive catalog reads the archive with it); "
                      "install the postgresql package");
    if ((st = scan(&a, err)) != RD_OK)
        goto out;
    d = opendir(cfg->base_dir);
    if (!d) {
        st = RD_ERR_ERRNO(err, RD_ERR_CONFIG, "catalog.base_dir: cannot read %s", cfg->base_dir);
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = rd_fs_join(cfg->base_dir, de->d_name);
        int isdir = p && rd_fs_is_dir(p);
        free(p);
        if (!isdir)
            continue;
        if (nb == cap) {
            size_t nc = cap ? cap * 2 : 8;
            rd_pg_backup *nbs = realloc(bs, nc * sizeof *bs);
            if (!nbs) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            bs = nbs;
            cap = nc;
        }
        if ((st = read_backup(&a, cfg->base_dir, de->d_name, &bs[nb], err)) != RD_OK) {
            rd_point_clear(&bs[nb].pt);
            goto out;
        }
        nb++;
    }
    if (!(ar = calloc(1, sizeof *ar))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_pg_arch_compute(&a.w, bs, nb, ar, err)) != RD_OK)
        goto out;
    for (size_t i = 0; i < nb; i++) {
        if ((st = rd_points_push(out, &bs[i].pt, err)) != RD_OK)
            goto out;
    }
    out->archive = ar;
    ar = NULL;
out:
    if (d)
        closedir(d);
    for (size_t i = 0; i < nb; i++)
        rd_point_clear(&bs[i].pt);
    free(bs);
    rd_archive_free(ar);
    arch_free(&a);
    return st;
}

static rd_status pga_check(const rd_catalog_cfg *cfg, rd_error *err)
{
    char *waldump = NULL;
    if (cfg->base_dir && !rd_fs_is_dir(cfg->base_dir))
        return RD_ERR(err, RD_ERR_CONFIG, "base_dir: %s is not a directory", cfg->base_dir);
    if (cfg->wal_dir && !rd_fs_is_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG, "wal_dir: %s is not a directory", cfg->wal_dir);
    if (cfg->wal_dir && !plain_wal_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "wal_dir: %s has a quote, %%, backslash or newline, which the "
                      "restore_command cannot carry",
                      cfg->wal_dir);
    if (!(waldump = rd_pg_tool("pg_waldump")))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "type: pg-archive reads the archive with pg_waldump, which is not "
                      "installed (Debian: postgresql-15)");
    free(waldump);
    return RD_OK;
}

const rd_catalog_type rd_catalog_pg_archive = {
    .name = "pg-archive",
    .list = pga_list,
    .check = pga_check,
};
