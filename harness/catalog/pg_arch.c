/* pg_arch.c: a PostgreSQL WAL archive as the pg-archive and pgbackrest
 * catalogs see it: the segments (read from a directory or a repository
 * listing), the newest timeline's chain, which base backup reaches how far
 * without a gap (the last commit there, by pg_waldump over a segment fetched
 * through the catalog's own callback), the gaps and the restorable window. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_wal.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

#define COMMIT_LOOKBACK 64

typedef struct rd_pg_commit {
    uint64_t segno;
    int64_t ms;
} rd_pg_commit;

void rd_pg_arch_free(rd_pg_arch *a)
{
    for (size_t i = 0; i < a->nsegs; i++)
        free(a->segs[i].file);
    free(a->segs);
    rd_strlist_free(&a->pending_files);
    rd_strlist_free(&a->pending_names);
    rd_strlist_free(&a->hist_files);
    free(a->chain);
    free(a->tl_problem);
    free(a->cache);
    free(a->waldump);
    if (a->tmpdir) {
        rd_error e;
        char *parent = rd_strdup(a->tmpdir);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash) {
            *slash = '\0';
            rd_fs_rmtree(a->tmpdir, parent, &e);
        }
        free(parent);
        free(a->tmpdir);
    }
    memset(a, 0, sizeof *a);
}

rd_status rd_pg_arch_add_seg(rd_pg_arch *a, const char *file, const char *name, rd_error *err)
{
    rd_status st = rd_strlist_push(&a->pending_files, file, err);
    return st == RD_OK ? rd_strlist_push(&a->pending_names, name, err) : st;
}

rd_status rd_pg_arch_add_history(rd_pg_arch *a, const char *file, uint32_t tli, rd_error *err)
{
    if (tli > a->newest_tli)
        a->newest_tli = tli;
    return rd_strlist_push(&a->hist_files, file, err);
}

/* A local copy (or the file itself) of an archived file. */
rd_status rd_pg_arch_fetch(rd_pg_arch *a, const char *file, const char *name, char **local,
                           rd_error *err)
{
    if (!a->tmpdir && rd_fs_mkdtemp(NULL, "rd-wal-", 0, 0, 0, &a->tmpdir, err) != RD_OK)
        return err ? err->code : RD_ERR_IO;
    return a->fetch(a->fetch_ud, file, name, a->tmpdir, local, err);
}

static int seg_cmp(const void *x, const void *y)
{
    const rd_pg_seg *a = x, *b = y;
    if (a->seg.segno != b->seg.segno)
        return a->seg.segno < b->seg.segno ? -1 : 1;
    return a->seg.tli < b->seg.tli ? -1 : a->seg.tli > b->seg.tli;
}

static rd_status read_chain(rd_pg_arch *a, rd_error *err);

rd_status rd_pg_arch_index(rd_pg_arch *a, uint64_t segsize, rd_error *err)
{
    a->segsize = segsize;
    a->segs = calloc(a->pending_names.n ? a->pending_names.n : 1, sizeof *a->segs);
    if (!a->segs)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->pending_names.n; i++) {
        rd_pg_seg *f = &a->segs[a->nsegs];
        if (!rd_wal_parse_name(a->pending_names.items[i], a->segsize, &f->seg, 1))
            continue;
        if (!(f->file = rd_strdup(a->pending_files.items[i])))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (f->seg.tli > a->newest_tli)
            a->newest_tli = f->seg.tli;
        a->nsegs++;
    }
    qsort(a->segs, a->nsegs, sizeof *a->segs, seg_cmp);
    if (a->newest_tli == 0)
        a->newest_tli = 1;
    return read_chain(a, err);
}

/* The history file of the newest timeline gives the chain of its ancestors. */
static rd_status read_chain(rd_pg_arch *a, rd_error *err)
{
    char name[32];
    char *text = NULL;
    size_t len = 0;
    a->chain = calloc(64, sizeof *a->chain);
    if (!a->chain)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    snprintf(name, sizeof name, "%08X.history", (unsigned)a->newest_tli);
    for (size_t i = 0; a->newest_tli > 1 && i < a->hist_files.n && !text; i++) {
        char *local = NULL;
        rd_error e;
        if (strncmp(a->hist_files.items[i], name, 16) != 0)
            continue;
        if (rd_pg_arch_fetch(a, a->hist_files.items[i], name, &local, &e) != RD_OK ||
            rd_pg_read_file(local, 1u << 20, &text, &len, &e) != RD_OK)
            rd_log_warn("cannot read %s: %s", a->hist_files.items[i], e.msg);
        free(local);
    }
    uint64_t begin = 0;
    if (a->newest_tli > 1 && !text) {
        a->tl_problem =
            rd_asprintf("timeline %u has segments but %s is missing", a->newest_tli, name);
        a->chain[0] = (rd_pg_tl){a->newest_tli, 0, UINT64_MAX, UINT64_MAX};
        a->nchain = 1;
        return RD_OK;
    }
    for (const char *p = text; p && *p && a->nchain < 63;) {
        unsigned tli;
        char lsn[32];
        uint64_t sw;
        if (sscanf(p, "%u %31s", &tli, lsn) == 2 && rd_wal_parse_lsn(lsn, &sw)) {
            a->chain[a->nchain++] = (rd_pg_tl){tli, begin, sw / a->segsize, sw};
            begin = sw / a->segsize;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    a->chain[a->nchain++] = (rd_pg_tl){a->newest_tli, begin, UINT64_MAX, UINT64_MAX};
    free(text);
    return RD_OK;
}

int rd_pg_arch_in_chain(const rd_pg_arch *a, uint32_t tli)
{
    for (size_t i = 0; i < a->nchain; i++)
        if (a->chain[i].tli == tli)
            return 1;
    return 0;
}

int rd_pg_arch_off_chain(const rd_pg_arch *a, uint32_t tli, uint64_t stop_lsn, char *why, size_t n)
{
    if (a->tl_problem && tli != a->newest_tli) {
        snprintf(why, n, "it is on timeline %u and the archive's timelines are inconsistent: %s",
                 (unsigned)tli, a->tl_problem);
        return 1;
    }
    for (size_t i = 0; i < a->nchain; i++) {
        const rd_pg_tl *c = &a->chain[i];
        if (c->tli != tli)
            continue;
        if (c->switch_lsn == UINT64_MAX || stop_lsn <= c->switch_lsn || i + 1 >= a->nchain)
            return 0;
        snprintf(why, n,
                 "it ends at %X/%X on timeline %u, past the point where timeline %u forked from "
                 "it (%X/%X): the archive's newest timeline %u does not descend from it",
                 (unsigned)(stop_lsn >> 32), (unsigned)stop_lsn, (unsigned)tli,
                 (unsigned)a->chain[i + 1].tli, (unsigned)(c->switch_lsn >> 32),
                 (unsigned)c->switch_lsn, (unsigned)a->newest_tli);
        return 1;
    }
    snprintf(why, n,
             "it is on timeline %u, which the archive's newest timeline %u does not descend "
             "from",
             (unsigned)tli, (unsigned)a->newest_tli);
    return 1;
}

/* The archived file for segno on the chain (the newest timeline covering
 * it first), or NULL. */
const rd_pg_seg *rd_pg_arch_find(const rd_pg_arch *a, uint64_t segno)
{
    const rd_pg_seg *best = NULL;
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
uint32_t rd_pg_arch_tli_at(const rd_pg_arch *a, uint64_t segno)
{
    uint32_t t = a->chain[0].tli;
    for (size_t c = 0; c < a->nchain; c++)
        if (a->chain[c].begin <= segno)
            t = a->chain[c].tli;
    return t;
}

static uint64_t max_segno(const rd_pg_arch *a)
{
    for (size_t i = a->nsegs; i > 0; i--)
        if (rd_pg_arch_find(a, a->segs[i - 1].seg.segno))
            return a->segs[i - 1].seg.segno;
    return 0;
}

/* The last commit in one segment (cached). */
static int64_t seg_commit(rd_pg_arch *a, uint64_t segno)
{
    for (size_t i = 0; i < a->ncache; i++)
        if (a->cache[i].segno == segno)
            return a->cache[i].ms;
    const rd_pg_seg *f = rd_pg_arch_find(a, segno);
    int64_t ms = 0;
    if (f) {
        char name[32], *local = NULL;
        rd_error e;
        rd_wal_name(f->seg.tli, f->seg.segno, a->segsize, name, sizeof name);
        if (rd_pg_arch_fetch(a, f->file, name, &local, &e) != RD_OK ||
            rd_pg_last_commit(a->waldump, local, name, &ms, &e) != RD_OK)
            rd_log_warn("cannot read WAL segment %s with pg_waldump: %s", name, e.msg);
        if (local && a->fetched_copies)
            unlink(local);
        free(local);
    }
    rd_pg_commit *c = realloc(a->cache, (a->ncache + 1) * sizeof *c);
    if (c) {
        a->cache = c;
        a->cache[a->ncache++] = (rd_pg_commit){segno, ms};
    }
    return ms;
}

/* The last commit at or before segment `to`, not looking before `floor`. */
static int64_t commit_upto(rd_pg_arch *a, uint64_t to, uint64_t floor)
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

static int backup_cmp(const void *x, const void *y)
{
    const rd_pg_backup *a = x, *b = y;
    return a->pt.created_ms < b->pt.created_ms ? -1 : a->pt.created_ms > b->pt.created_ms;
}

/* The list's end: the archive computed, the points pushed (pg_wal.h). */
rd_status rd_pg_arch_publish(rd_pg_arch *a, rd_pg_backup *bs, size_t n, rd_points *out,
                             rd_error *err)
{
    rd_archive *ar = calloc(1, sizeof *ar);
    rd_status st =
        ar ? rd_pg_arch_compute(a, bs, n, ar, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == RD_OK && i < n; i++)
        st = rd_points_push(out, &bs[i].pt, err);
    if (st == RD_OK) {
        out->archive = ar;
        ar = NULL;
    }
    rd_archive_free(ar);
    return st;
}

/* Reach of each backup, the gaps and the window. */
rd_status rd_pg_arch_compute(rd_pg_arch *a, rd_pg_backup *bs, size_t n, rd_archive *ar,
                             rd_error *err)
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
        const rd_pg_seg *nf = rd_pg_arch_find(a, top);
        ar->newest = rd_strdup(nf ? nf->file : a->segs[a->nsegs - 1].file);
    }
    if (a->tl_problem)
        ar->timelines = rd_strdup(a->tl_problem);
    else {
        rd_strbuf sb;
        rd_strbuf_init(&sb, 1024);
        for (size_t c = 0; c < a->nchain; c++) {
            uint64_t sw = c ? a->chain[c - 1].switch_lsn : 0;
            if (c)
                rd_strbuf_appendf(&sb, NULL, "->%u at %X/%X", (unsigned)a->chain[c].tli,
                                  (unsigned)(sw >> 32), (unsigned)sw);
            else
                rd_strbuf_appendf(&sb, NULL, "%u", (unsigned)a->chain[c].tli);
        }
        ar->timelines = sb.data ? rd_strbuf_detach(&sb) : rd_strdup("1");
        rd_strbuf_free(&sb);
    }
    if (a->tl_problem) {
        /* what the history file would have joined: from the end of the
         * oldest backup it leaves off the chain to the end of the first
         * usable one after that */
        char hist[32];
        int64_t from = 0, to = 0;
        for (size_t i = 0; i < n && !from; i++)
            if (bs[i].off_chain)
                from = bs[i].pt.created_ms;
        for (size_t i = 0; i < n && from && !to; i++)
            if (bs[i].usable && bs[i].pt.created_ms > from)
                to = bs[i].pt.created_ms + RD_PITR_END_SLACK_MS;
        snprintf(hist, sizeof hist, "%08X.history", (unsigned)a->newest_tli);
        rd_status st = rd_archive_add_gap(ar, hist, hist, from, to, err);
        if (st != RD_OK)
            return st;
    }
    if (oldest == n)
        return RD_OK;
    for (size_t i = 0; i < n; i++) {
        rd_pg_backup *b = &bs[i];
        if (!b->usable)
            continue;
        uint64_t s = b->stop_seg;
        while (s < top && rd_pg_arch_find(a, s + 1))
            s++;
        b->reach_seg = s;
        int64_t ms = commit_upto(a, s, b->stop_seg);
        b->pt.reach_ms = ms > b->pt.created_ms ? ms : b->pt.created_ms;
        if (b->pt.reach_ms > ar->end_ms)
            ar->end_ms = b->pt.reach_ms;
    }
    rd_pg_backup *o = &bs[oldest];
    ar->start_ms = o->pt.created_ms;
    ar->first = rd_strdup(rd_wal_name(rd_pg_arch_tli_at(a, o->start_seg), o->start_seg, a->segsize,
                                      name, sizeof name));
    ar->last = rd_strdup(rd_wal_name(rd_pg_arch_tli_at(a, o->reach_seg), o->reach_seg, a->segsize,
                                     name, sizeof name));
    if (a->nsegs && top >= o->start_seg)
        ar->newest_ms = seg_commit(a, top);
    /* gaps: missing runs between the oldest usable backup's start and the newest segment */
    for (uint64_t s = o->start_seg; s <= top; s++) {
        if (rd_pg_arch_find(a, s))
            continue;
        uint64_t e = s;
        while (e + 1 <= top && !rd_pg_arch_find(a, e + 1))
            e++;
        char first[32], last[32];
        rd_wal_name(rd_pg_arch_tli_at(a, s), s, a->segsize, first, sizeof first);
        rd_wal_name(rd_pg_arch_tli_at(a, e), e, a->segsize, last, sizeof last);
        int64_t from = s > o->start_seg ? commit_upto(a, s - 1, o->start_seg) : 0;
        int64_t to = 0;
        for (size_t i = 0; i < n && !to; i++)
            if (bs[i].usable && bs[i].start_seg > e)
                to = bs[i].pt.created_ms + RD_PITR_END_SLACK_MS;
        /* a base backup that covers the gap with its own WAL is no gap for it;
         * the archive still lacks the files */
        rd_status st = rd_archive_add_gap(ar, first, last, from, to, err);
        if (st != RD_OK)
            return st;
        s = e;
    }
    return RD_OK;
}
