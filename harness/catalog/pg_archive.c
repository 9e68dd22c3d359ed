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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_wal.h"
#include "restoredrill/catalog.h"
#include "restoredrill/fs.h"
#include "restoredrill/loc.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

#define SEG_DEFAULT (UINT64_C(16) << 20)

/* The archive directory and its .backup files. */
typedef struct arch {
    rd_pg_arch w;
    rd_loc *wal;        /* wal_dir: a directory or an s3:// prefix */
    rd_loc_entries all; /* its files */
    rd_strlist backups; /* .backup file names */
} arch;

static void arch_free(arch *a)
{
    rd_pg_arch_free(&a->w);
    rd_strlist_free(&a->backups);
    rd_loc_entries_free(&a->all);
    rd_loc_free(a->wal);
}

/* A local file for an archived one: the file itself in a directory, a
 * download into tmpdir from S3 (fetched_copies is set then). */
static rd_status loc_fetch(void *ud, const char *file, const char *name, const char *tmpdir,
                           char **local, rd_error *err)
{
    int copy = 0;
    (void)name;
    return rd_loc_local(ud, file, tmpdir, local, &copy, err);
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
static uint64_t find_segsize(arch *a)
{
    const rd_loc_entries *names = &a->all;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < names->n; i++) {
            const char *n = names->items[i].name;
            char base[256];
            strip_ext(n, base, sizeof base);
            if (strlen(base) != 24 || !is_hex(base, 24) || names->items[i].is_dir)
                continue;
            int plain = strlen(n) == 24;
            if ((pass == 0) != plain)
                continue;
            uint64_t size = 0;
            if (plain) {
                size = (uint64_t)names->items[i].size;
            } else {
                char *data = NULL, *path = NULL;
                size_t len = 0;
                if (rd_pg_arch_fetch(&a->w, n, base, &path, NULL) == RD_OK &&
                    rd_pg_read_file(path, 1u << 30, &data, &len, NULL) == RD_OK)
                    size = len;
                if (path && a->w.fetched_copies)
                    unlink(path);
                free(data);
                free(path);
            }
            if (size >= (1u << 20) && size <= (1u << 30) && (size & (size - 1)) == 0)
                return size;
        }
    return SEG_DEFAULT;
}

static rd_status scan(arch *a, rd_error *err)
{
    rd_status st = rd_loc_list(a->wal, NULL, &a->all, err);
    for (size_t i = 0; st == RD_OK && i < a->all.n; i++) {
        char base[256];
        const char *n = a->all.items[i].name;
        if (a->all.items[i].is_dir)
            continue;
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
    if (st != RD_OK)
        return st;
    return rd_pg_arch_index(&a->w, find_segsize(a), err);
}

/* The backup_label of a backup, from the directory or from base.tar (in
 * S3 from the head of base.tar only: pg_basebackup writes backup_label
 * first, so the first MiB is enough and the rest is never read). */
static rd_status read_label(arch *a, rd_loc *base, const char *name, int tar, char **text,
                            rd_error *err)
{
    size_t len;
    if (!tar) {
        char *rel = rd_fs_join(name, "backup_label");
        rd_status st = rel ? rd_loc_read(base, rel, 1u << 16, text, &len, err)
                           : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(rel);
        return st;
    }
    static const char *const names[] = {"base.tar", "base.tar.gz", "base.tar.zst", NULL};
    for (size_t i = 0; names[i]; i++) {
        char *rel = rd_fs_join(name, names[i]);
        if (!rel)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (rd_loc_stat(base, rel, NULL, NULL) != 1) {
            free(rel);
            continue;
        }
        rd_strbuf out, errtail;
        int code = 0, truncated = 0;
        char *p = NULL;
        rd_status st = RD_OK;
        rd_strbuf_init(&out, 1u << 16);
        rd_strbuf_init(&errtail, 4096);
        if (!rd_loc_is_s3(base)) {
            p = rd_loc_path(base, rel);
        } else if (a->w.tmpdir ||
                   rd_fs_mkdtemp(NULL, "rd-wal-", 0, 0, 0, &a->w.tmpdir, err) == RD_OK) {
            p = rd_fs_join(a->w.tmpdir, names[i]);
            if (p && (st = rd_loc_fetch(base, rel, p, 1u << 20, &truncated, err)) != RD_OK) {
                free(p);
                p = NULL;
            }
        } else {
            st = err ? err->code : RD_ERR_IO;
        }
        if (!p && st == RD_OK)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK) {
            const char *argv[] = {"tar",          "-x", "-O", "-f", p, "--occurrence=1",
                                  "backup_label", NULL};
            static const char *const scrub[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                "AWS_SESSION_TOKEN",
                                                "AWS_CONTAINER_AUTHORIZATION_TOKEN", NULL};
            rd_proc_spec spec = {.argv = argv, .env = scrub};
            st = rd_proc_run(&spec, 600, &out, &errtail, &code, err);
        }
        /* a head of the archive ends abruptly after backup_label: its text is what counts */
        if (st == RD_OK && code != 0 && !(truncated && out.len > 0))
            st = truncated ? RD_ERR(err, RD_ERR_FORMAT, "no backup_label in the first MiB of %s",
                                    names[i])
                           : rd_proc_fail(err, "tar", code, errtail.data ? errtail.data : "");
        if (st == RD_OK)
            *text = out.data ? rd_strbuf_detach(&out) : rd_strdup("");
        if (p && rd_loc_is_s3(base))
            unlink(p);
        rd_strbuf_free(&out);
        rd_strbuf_free(&errtail);
        free(p);
        free(rel);
        return st;
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
        char *path = NULL;
        char *text = NULL;
        size_t len;
        rd_status st = rd_pg_arch_fetch(&a->w, a->backups.items[i], want, &path, err);
        if (st == RD_OK)
            st = rd_pg_read_file(path, 1u << 16, &text, &len, err);
        if (path && a->w.fetched_copies)
            unlink(path);
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

static int backup_has_wal(rd_loc *base, const char *name, int tar, const char *segname)
{
    if (tar) {
        static const char *const names[] = {"pg_wal.tar", "pg_wal.tar.gz", "pg_wal.tar.zst", NULL};
        for (size_t i = 0; names[i]; i++) {
            char *p = rd_fs_join(name, names[i]);
            int ok = p && rd_loc_stat(base, p, NULL, NULL) == 1;
            free(p);
            if (ok)
                return 1;
        }
        return 0;
    }
    char *p = rd_asprintf("%s/pg_wal/%s", name, segname);
    int ok = p && rd_loc_stat(base, p, NULL, NULL) == 1;
    free(p);
    return ok;
}

/* Read one base backup directory into b (b->pt.broken says why it cannot be used). */
static rd_status read_backup(arch *a, rd_loc *base, const rd_loc_entry *ent, rd_pg_backup *b,
                             rd_error *err)
{
    const char *name = ent->name;
    char *dir = rd_loc_path(base, name);
    char *label_text = NULL;
    char hname[64], why[1400];
    rd_pg_label l, h;
    rd_error e;
    int tar = 0;
    why[0] = '\0';
    memset(b, 0, sizeof *b);
    b->pt.bytes = -1;
    if (!dir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    char *lab = rd_fs_join(name, "backup_label");
    tar = !(lab && rd_loc_stat(base, lab, NULL, NULL) == 1);
    free(lab);
    b->pt.id = rd_strdup(name);
    b->pt.location = dir;
    b->pt.format = rd_strdup(tar ? "pg-basebackup-tar" : "pg-basebackup-plain");
    b->pt.time_basis = rd_strdup("label");
    b->pt.created_ms = ent->mtime_ms / 1000 * 1000;
    if (!b->pt.id || !b->pt.format || !b->pt.time_basis)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (read_label(a, base, name, tar, &label_text, &e) != RD_OK) {
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
    if (rd_pg_arch_off_chain(&a->w, l.start_tli, h.stop_lsn, why, sizeof why)) {
        b->off_chain = 1;
        goto broken;
    }
    for (uint64_t s = b->start_seg; s <= b->stop_seg; s++) {
        char segname[32];
        rd_wal_name(rd_pg_arch_tli_at(&a->w, s), s, a->w.segsize, segname, sizeof segname);
        if (!rd_pg_arch_find(&a->w, s) && !backup_has_wal(base, name, tar, segname)) {
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

static rd_status open_locs(const rd_catalog_cfg *cfg, rd_loc **base, rd_loc **wal, rd_error *err)
{
    rd_s3_opts o = {
        .endpoint = cfg->endpoint, .region = cfg->region, .path_style = cfg->path_style};
    if (!cfg->base_dir || (!rd_s3_is_url(cfg->base_dir) && !rd_fs_is_dir(cfg->base_dir)))
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.base_dir: %s is not a directory",
                      cfg->base_dir ? cfg->base_dir : "(none)");
    if (!cfg->wal_dir || (!rd_s3_is_url(cfg->wal_dir) && !rd_fs_is_dir(cfg->wal_dir)))
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.wal_dir: %s is not a directory",
                      cfg->wal_dir ? cfg->wal_dir : "(none)");
    if (!rd_s3_is_url(cfg->wal_dir) && !plain_wal_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "catalog.wal_dir: %s has a quote, %%, backslash or newline, which the "
                      "restore_command cannot carry",
                      cfg->wal_dir);
    rd_status st = rd_loc_open(cfg->base_dir, "catalog.base_dir", &o, base, err);
    if (st == RD_OK && (st = rd_loc_open(cfg->wal_dir, "catalog.wal_dir", &o, wal, err)) != RD_OK) {
        rd_loc_free(*base);
        *base = NULL;
    }
    return st;
}

static rd_status pga_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    arch a;
    rd_pg_backup *bs = NULL;
    size_t nb = 0, cap = 0;
    rd_loc *base = NULL;
    rd_loc_entries dirs = {NULL, 0};
    rd_status st;
    memset(&a, 0, sizeof a);
    if ((st = open_locs(cfg, &base, &a.wal, err)) != RD_OK)
        return st;
    a.w.fetch = loc_fetch;
    a.w.fetch_ud = a.wal;
    a.w.fetched_copies = rd_loc_is_s3(a.wal);
    if (!(a.w.waldump = rd_pg_tool("pg_waldump"))) {
        st = RD_ERR(err, RD_ERR_NOTFOUND,
                    "pg_waldump not found (the pg-archive catalog reads the archive with it); "
                    "install the postgresql package");
        goto out;
    }
    if ((st = scan(&a, err)) != RD_OK)
        goto out;
    if ((st = rd_loc_list(base, NULL, &dirs, err)) != RD_OK)
        goto out;
    for (size_t di = 0; di < dirs.n; di++) {
        if (!dirs.items[di].is_dir)
            continue;
        if (nb == cap) {
            size_t nc = cap ? cap * 2 : 8;
            rd_pg_backup *nbs = realloc(bs, nc * sizeof *nbs);
            if (!nbs) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            bs = nbs;
            cap = nc;
        }
        if ((st = read_backup(&a, base, &dirs.items[di], &bs[nb], err)) != RD_OK) {
            rd_point_clear(&bs[nb].pt);
            goto out;
        }
        nb++;
    }
    st = rd_pg_arch_publish(&a.w, bs, nb, out, err);
out:
    rd_loc_entries_free(&dirs);
    rd_loc_free(base);
    for (size_t i = 0; i < nb; i++)
        rd_point_clear(&bs[i].pt);
    free(bs);
    arch_free(&a);
    return st;
}

static rd_status pga_check(const rd_catalog_cfg *cfg, rd_error *err)
{
    char *waldump = NULL;
    if (cfg->base_dir && !rd_s3_is_url(cfg->base_dir) && !rd_fs_is_dir(cfg->base_dir))
        return RD_ERR(err, RD_ERR_CONFIG, "base_dir: %s is not a directory", cfg->base_dir);
    if (cfg->wal_dir && !rd_s3_is_url(cfg->wal_dir) && !rd_fs_is_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG, "wal_dir: %s is not a directory", cfg->wal_dir);
    if (cfg->wal_dir && !rd_s3_is_url(cfg->wal_dir) && !plain_wal_dir(cfg->wal_dir))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "wal_dir: %s has a quote, %%, backslash or newline, which the "
                      "restore_command cannot carry",
                      cfg->wal_dir);
    for (int i = 0; i < 2; i++) {
        const char *w = i ? cfg->wal_dir : cfg->base_dir;
        char *b = NULL, *k = NULL;
        if (!w || !rd_s3_is_url(w))
            continue;
        rd_status st = rd_s3_url_split(w, &b, &k, err);
        free(b);
        free(k);
        if (st != RD_OK) {
            rd_error_prefix(err, "%s: ", i ? "wal_dir" : "base_dir");
            return st;
        }
    }
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
