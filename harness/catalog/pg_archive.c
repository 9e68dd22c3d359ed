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
#define COMMIT_LOOKBACK 64

typedef struct seg_file {
    rd_wal_seg seg;
    char *file; /* file name in wal_dir */
} seg_file;

typedef struct tl_range {
    uint32_t tli;
    uint64_t begin, end; /* segnos: [begin, end]; end UINT64_MAX for the newest */
} tl_range;

typedef struct commit_cache {
    uint64_t segno;
    int64_t ms;
} commit_cache;

typedef struct arch {
    const char *dir;
    char *waldump;
    uint64_t segsize;
    rd_strlist names; /* segment file names, read before segsize is known */
    seg_file *segs;
    size_t nsegs;
    rd_strlist backups; /* .backup file names */
    uint32_t newest_tli;
    tl_range *chain;
    size_t nchain;
    char *tl_problem; /* a timeline inconsistency, or NULL */
    commit_cache *cache;
    size_t ncache;
} arch;

static void arch_free(arch *a)
{
    for (size_t i = 0; i < a->nsegs; i++)
        free(a->segs[i].file);
    free(a->segs);
    rd_strlist_free(&a->names);
    rd_strlist_free(&a->backups);
    free(a->chain);
    free(a->tl_problem);
    free(a->cache);
    free(a->waldump);
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
static rd_status find_segsize(arch *a, rd_error *err)
{
    a->segsize = SEG_DEFAULT;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < a->names.n; i++) {
            const char *n = a->names.items[i];
            int plain = strlen(n) == 24;
            if ((pass == 0) != plain)
                continue;
            char *path = rd_fs_join(a->dir, n);
            uint64_t size = 0;
            if (!path)
                return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
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
            if (size >= (1u << 20) && size <= (1u << 30) && (size & (size - 1)) == 0) {
                a->segsize = size;
                return RD_OK;
            }
        }
    return RD_OK;
}

static int seg_cmp(const void *x, const void *y)
{
    const seg_file *a = x, *b = y;
    if (a->seg.segno != b->seg.segno)
        return a->seg.segno < b->seg.segno ? -1 : 1;
    return a->seg.tli < b->seg.tli ? -1 : a->seg.tli > b->seg.tli;
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
            st = rd_strlist_push(&a->names, n, err);
        else if (l == 24 + 1 + 8 + 7 && is_hex(base, 24) && base[24] == '.' &&
                 strcmp(base + 33, ".backup") == 0)
            st = rd_strlist_push(&a->backups, n, err);
        else if (l == 16 && is_hex(base, 8) && strcmp(base + 8, ".history") == 0) {
            uint32_t t = (uint32_t)strtoul(base, NULL, 16);
            if (t > a->newest_tli)
                a->newest_tli = t;
        }
    }
    closedir(d);
    if (st != RD_OK || (st = find_segsize(a, err)) != RD_OK)
        return st;
    a->segs = calloc(a->names.n ? a->names.n : 1, sizeof *a->segs);
    if (!a->segs)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->names.n; i++) {
        seg_file *f = &a->segs[a->nsegs];
        if (!rd_wal_parse_name(a->names.items[i], a->segsize, &f->seg, 1))
            continue;
        if (!(f->file = rd_strdup(a->names.items[i])))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (f->seg.tli > a->newest_tli)
            a->newest_tli = f->seg.tli;
        a->nsegs++;
    }
    qsort(a->segs, a->nsegs, sizeof *a->segs, seg_cmp);
    if (a->newest_tli == 0)
        a->newest_tli = 1;
    return RD_OK;
}

/* The history file of the newest timeline gives the chain of its ancestors. */
static rd_status read_chain(arch *a, rd_error *err)
{
    char name[32];
    char *path = NULL, *text = NULL;
    size_t len = 0;
    static const char *const ext[] = {"", ".gz", ".zst", NULL};
    a->chain = calloc(64, sizeof *a->chain);
    if (!a->chain)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    snprintf(name, sizeof name, "%08X.history", (unsigned)a->newest_tli);
    for (size_t i = 0; a->newest_tli > 1 && ext[i] && !text; i++) {
        path = rd_asprintf("%s/%s%s", a->dir, name, ext[i]);
        if (path && rd_fs_exists(path) &&
            rd_pg_read_file(path, 1u << 20, &text, &len, err) != RD_OK)
            rd_log_warn("pg-archive: cannot read %s", path);
        free(path);
        path = NULL;
    }
    uint64_t begin = 0;
    if (a->newest_tli > 1 && !text) {
        a->tl_problem =
            rd_asprintf("timeline %u has segments but %s is missing", a->newest_tli, name);
        a->chain[0] = (tl_range){a->newest_tli, 0, UINT64_MAX};
        a->nchain = 1;
        return RD_OK;
    }
    for (const char *p = text; p && *p && a->nchain < 63;) {
        unsigned tli;
        char lsn[32];
        uint64_t sw;
        if (sscanf(p, "%u %31s", &tli, lsn) == 2 && rd_wal_parse_lsn(lsn, &sw)) {
            a->chain[a->nchain++] = (tl_range){tli, begin, sw / a->segsize};
            begin = sw / a->segsize;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    a->chain[a->nchain++] = (tl_range){a->newest_tli, begin, UINT64_MAX};
    free(text);
    return RD_OK;
}

static int in_chain(const arch *a, uint32_t tli)
{
    for (size_t i = 0; i < a->nchain; i++)
        if (a->chain[i].tli == tli)
            return 1;
    return 0;
}

/* The archived file for segno on the chain (the newest timeline covering
 * it first), or NULL. */
static const seg_file *find_seg(const arch *a, uint64_t segno)
{
    const seg_file *best = NULL;
    size_t lo = 0, hi = a->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a->segs[mid].seg.segno < segno)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < a->nsegs && a->segs[i].seg.segno == segno; i++)
        for (size_t c = 0; c < a->nchain; c++)
            if (a->chain[c].tli == a->segs[i].seg.tli && a->chain[c].begin <= segno &&
                segno <= a->chain[c].end && (!best || a->segs[i].seg.tli > best->seg.tli))
                best = &a->segs[i];
    return best;
}

/* The timeline the chain expects at segno (for naming missing files). */
static uint32_t expected_tli(const arch *a, uint64_t segno)
{
    uint32_t t = a->chain[0].tli;
    for (size_t c = 0; c < a->nchain; c++)
        if (a->chain[c].begin <= segno)
            t = a->chain[c].tli;
    return t;
}

static uint64_t max_segno(const arch *a)
{
    for (size_t i = a->nsegs; i > 0; i--)
        if (find_seg(a, a->segs[i - 1].seg.segno))
            return a->segs[i - 1].seg.segno;
    return 0;
}

/* The last commit in one segment (cached). */
static int64_t seg_commit(arch *a, uint64_t segno)
{
    for (size_t i = 0; i < a->ncache; i++)
        if (a->cache[i].segno == segno)
            return a->cache[i].ms;
    const seg_file *f = find_seg(a, segno);
    int64_t ms = 0;
    if (f) {
        char *path = rd_fs_join(a->dir, f->file);
        char plain[64];
        rd_error e;
        strip_ext(f->file, plain, sizeof plain);
        if (path && rd_pg_last_commit(a->waldump, path, plain, &ms, &e) != RD_OK)
            rd_log_warn("pg-archive: cannot read %s with pg_waldump: %s", f->file, e.msg);
        free(path);
    }
    commit_cache *c = realloc(a->cache, (a->ncache + 1) * sizeof *c);
    if (c) {
        a->cache = c;
        a->cache[a->ncache++] = (commit_cache){segno, ms};
    }
    return ms;
}

/* The last commit at or before segment `to`, not looking before `floor`. */
static int64_t commit_upto(arch *a, uint64_t to, uint64_t floor)
{
    for (uint64_t s = to, n = 0; s >= floor && n < COMMIT_LOOKBACK; s--, n++) {
        int64_t ms = seg_commit(a, s);
        if (ms > 0)
            return ms;
        if (s == 0)
            break;
    }
    return 0;
}

/* One base backup's facts. */
typedef struct backup {
    rd_point pt;
    uint64_t start_seg, stop_seg, reach_seg;
    int usable;
} backup;

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
             (unsigned)(l->start_lsn % a->segsize));
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
static rd_status read_backup(arch *a, const char *base_dir, const char *name, backup *b,
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
    b->start_seg = l.start_lsn / a->segsize;
    b->stop_seg = h.stop_lsn / a->segsize;
    if (!in_chain(a, l.start_tli)) {
        snprintf(why, sizeof why,
                 "it is on timeline %u, which the archive's newest timeline %u does not descend "
                 "from",
                 (unsigned)l.start_tli, (unsigned)a->newest_tli);
        goto broken;
    }
    for (uint64_t s = b->start_seg; s <= b->stop_seg; s++) {
        char segname[32];
        rd_wal_name(expected_tli(a, s), s, a->segsize, segname, sizeof segname);
        if (!find_seg(a, s) && !backup_has_wal(dir, tar, segname)) {
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

static int backup_cmp(const void *x, const void *y)
{
    const backup *a = x, *b = y;
    return a->pt.created_ms < b->pt.created_ms ? -1 : a->pt.created_ms > b->pt.created_ms;
}

/* Reach of each backup, the gaps and the window. */
static rd_status compute(arch *a, backup *bs, size_t n, rd_archive *ar, rd_error *err)
{
    char name[32];
    size_t oldest = n;
    uint64_t top = max_segno(a);
    qsort(bs, n, sizeof *bs, backup_cmp);
    for (size_t i = 0; i < n; i++)
        if (bs[i].usable && oldest == n)
            oldest = i;
    ar->files = a->nsegs;
    if (a->nsegs) {
        const seg_file *nf = find_seg(a, top);
        ar->newest = rd_strdup(nf ? nf->file : a->segs[a->nsegs - 1].file);
    }
    if (a->tl_problem)
        ar->timelines = rd_strdup(a->tl_problem);
    else {
        rd_strbuf sb;
        rd_strbuf_init(&sb, 1024);
        for (size_t c = 0; c < a->nchain; c++)
            rd_strbuf_appendf(&sb, NULL, "%s%u", c ? "->" : "", (unsigned)a->chain[c].tli);
        ar->timelines = sb.data ? rd_strbuf_detach(&sb) : rd_strdup("1");
        rd_strbuf_free(&sb);
    }
    if (a->tl_problem) {
        char hist[32];
        snprintf(hist, sizeof hist, "%08X.history", (unsigned)a->newest_tli);
        rd_status st = rd_archive_add_gap(ar, hist, hist, 0, 0, err);
        if (st != RD_OK)
            return st;
    }
    if (oldest == n)
        return RD_OK;
    for (size_t i = 0; i < n; i++) {
        backup *b = &bs[i];
        if (!b->usable)
            continue;
        uint64_t s = b->stop_seg;
        while (s < top && find_seg(a, s + 1))
            s++;
        b->reach_seg = s;
        int64_t ms = commit_upto(a, s, b->stop_seg);
        b->pt.reach_ms = ms > b->pt.created_ms ? ms : b->pt.created_ms;
        if (b->pt.reach_ms > ar->end_ms)
            ar->end_ms = b->pt.reach_ms;
    }
    backup *o = &bs[oldest];
    ar->start_ms = o->pt.created_ms;
    ar->first = rd_strdup(
        rd_wal_name(expected_tli(a, o->start_seg), o->start_seg, a->segsize, name, sizeof name));
    ar->last = rd_strdup(
        rd_wal_name(expected_tli(a, o->reach_seg), o->reach_seg, a->segsize, name, sizeof name));
    if (a->nsegs && top >= o->start_seg)
        ar->newest_ms = seg_commit(a, top);
    /* gaps: missing runs between the oldest usable backup's start and the newest segment */
    for (uint64_t s = o->start_seg; s <= top; s++) {
        if (find_seg(a, s))
            continue;
        uint64_t e = s;
        while (e + 1 <= top && !find_seg(a, e + 1))
            e++;
        char first[32], last[32];
        rd_wal_name(expected_tli(a, s), s, a->segsize, first, sizeof first);
        rd_wal_name(expected_tli(a, e), e, a->segsize, last, sizeof last);
        int64_t from = s > o->start_seg ? commit_upto(a, s - 1, o->start_seg) : 0;
        int64_t to = 0;
        for (size_t i = 0; i < n && !to; i++)
            if (bs[i].usable && bs[i].start_seg > e)
                to = bs[i].pt.created_ms;
        /* a base backup that covers the gap with its own WAL is no gap for it;
         * the archive still lacks the files */
        rd_status st = rd_archive_add_gap(ar, first, last, from, to, err);
        if (st != RD_OK)
            return st;
        s = e;
    }
    return RD_OK;
}

static int plain_wal_dir(const char *s)
{
    return strpbrk(s, "'%\\\n") == NULL;
}

static rd_status pga_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    arch a;
    backup *bs = NULL;
    size_t nb = 0, cap = 0;
    rd_archive *ar = NULL;
    DIR *d = NULL;
    struct dirent *de;
    rd_status st;
    memset(&a, 0, sizeof a);
    a.dir = cfg->wal_dir;
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
    if (!(a.waldump = rd_pg_tool("pg_waldump")))
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "pg_waldump not found (the pg-archive catalog reads the archive with it); "
                      "install the postgresql package");
    if ((st = scan(&a, err)) != RD_OK || (st = read_chain(&a, err)) != RD_OK)
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
            backup *nbs = realloc(bs, nc * sizeof *bs);
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
    if ((st = compute(&a, bs, nb, ar, err)) != RD_OK)
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
