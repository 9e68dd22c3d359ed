/* pg_wal.h: PostgreSQL WAL archive reading for the pg-archive catalog
 * (pg_archive.c, pg_wal.c), inside harness/catalog/ only (and unit tests).
 * Not a public contract. */
#ifndef RESTOREDRILL_PG_WAL_H
#define RESTOREDRILL_PG_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/catalog.h"
#include "restoredrill/config.h"
#include "restoredrill/error.h"

/* A WAL segment file name: TTTTTTTTLLLLLLLLSSSSSSSS (24 hex digits). */
typedef struct rd_wal_seg {
    uint32_t tli;
    uint64_t segno; /* log * (0x100000000 / segsize) + seg */
} rd_wal_seg;

/* Parse a 24-hex-digit name (a following ".gz"/".zst" is allowed when
 * allow_ext). 1 on success. */
int rd_wal_parse_name(const char *name, uint64_t segsize, rd_wal_seg *out, int allow_ext);
/* The name of (tli, segno) into buf (>= 25 bytes). */
char *rd_wal_name(uint32_t tli, uint64_t segno, uint64_t segsize, char *buf, size_t n);

/* A time as PostgreSQL writes it in backup_label and .backup files:
 * "2026-12-05 14:20:31 UTC" (a zone abbreviation, or a numeric "+03" /
 * "-0530"). Known abbreviations only: an unknown one is RD_ERR_FORMAT naming
 * it ("time zone abbreviation \"XYZ\" is unknown"). */
rd_status rd_pg_label_time(const char *s, int64_t *ms, rd_error *err);

/* The fields of a backup_label or a .backup history file. */
typedef struct rd_pg_label {
    uint64_t start_lsn, stop_lsn; /* stop 0: not in a backup_label */
    char start_file[32], stop_file[32];
    int64_t start_ms, stop_ms; /* 0 when absent */
    uint32_t start_tli, stop_tli;
    char label[256];
} rd_pg_label;

/* Parse the text; RD_ERR_FORMAT naming the first field that does not parse,
 * "START WAL LOCATION" being required. */
rd_status rd_pg_label_parse(const char *text, rd_pg_label *out, rd_error *err);

/* Read a possibly compressed file (NAME, NAME.gz, NAME.zst given the exact
 * path) into a heap buffer of at most max bytes. */
rd_status rd_pg_read_file(const char *path, size_t max, char **out, size_t *len, rd_error *err);

/* The last COMMIT time in one WAL segment (path of the file, possibly
 * compressed), read with `TZ=UTC pg_waldump`; *ms = 0 when it holds no
 * commit. */
rd_status rd_pg_last_commit(const char *waldump, const char *path, const char *name, int64_t *ms,
                            rd_error *err);
/* Parse pg_waldump output: the time of its last "desc: COMMIT" record (0 none). */
int64_t rd_pg_waldump_last_commit(const char *text);

/* --- a WAL archive (pg_arch.c) --- */

typedef struct rd_pg_seg {
    rd_wal_seg seg;
    char *file; /* as stored (a file name in wal_dir, a repository path) */
} rd_pg_seg;

typedef struct rd_pg_tl {
    uint32_t tli;
    uint64_t begin, end; /* segnos [begin, end]; end UINT64_MAX for the newest timeline */
    uint64_t switch_lsn; /* where the next timeline forked from it (the history file's LSN):
                            its WAL from there on is off the chain; UINT64_MAX for the newest */
} rd_pg_tl;

/* Make a local file of an archived one (file as stored, name its plain
 * name) in tmpdir, or point at it; *local heap. */
typedef rd_status (*rd_pg_fetch_fn)(void *ud, const char *file, const char *name,
                                    const char *tmpdir, char **local, rd_error *err);

struct rd_pg_commit;
typedef struct rd_pg_arch {
    char *waldump; /* owned */
    uint64_t segsize;
    rd_pg_fetch_fn fetch;
    void *fetch_ud;
    int fetched_copies; /* fetch makes copies in tmpdir: remove them after use */
    char *tmpdir;
    rd_strlist pending_files, pending_names, hist_files;
    rd_pg_seg *segs; /* sorted by segno, tli */
    size_t nsegs;
    uint32_t newest_tli;
    rd_pg_tl *chain;
    size_t nchain;
    char *tl_problem; /* a timeline inconsistency, or NULL */
    struct rd_pg_commit *cache;
    size_t ncache;
} rd_pg_arch;

/* A base backup as the archive sees it; pt.broken set when it cannot be used. */
typedef struct rd_pg_backup {
    rd_point pt;
    uint64_t start_seg, stop_seg, reach_seg;
    int usable;
    int off_chain; /* broken because the newest timeline does not (or, its history file
                      missing, cannot be shown to) descend from it */
} rd_pg_backup;

/* Register an archived segment (file as stored; name its 24-digit name) and
 * a history file; then index with the segment size: parse, sort, read the
 * newest timeline's history through fetch. */
rd_status rd_pg_arch_add_seg(rd_pg_arch *a, const char *file, const char *name, rd_error *err);
rd_status rd_pg_arch_add_history(rd_pg_arch *a, const char *file, uint32_t tli, rd_error *err);
rd_status rd_pg_arch_index(rd_pg_arch *a, uint64_t segsize, rd_error *err);
void rd_pg_arch_free(rd_pg_arch *a);
/* A local file of an archived one through the catalog's callback (the
 * private tmpdir is made at the first call); err may be NULL. */
rd_status rd_pg_arch_fetch(rd_pg_arch *a, const char *file, const char *name, char **local,
                           rd_error *err);
int rd_pg_arch_in_chain(const rd_pg_arch *a, uint32_t tli);
/* 1 when a base backup on timeline tli that ends (consistency point) at
 * stop_lsn is not on the newest timeline's history, with why in why[n]:
 * its timeline is not on the chain, or its WAL runs past the point where
 * the next timeline forked from its own (a backup of an old primary taken
 * after a failover), or the archive's timelines are inconsistent (the
 * newest timeline's history file is missing) and it is not on the newest
 * timeline. 0 when it is on the chain. */
int rd_pg_arch_off_chain(const rd_pg_arch *a, uint32_t tli, uint64_t stop_lsn, char *why, size_t n);
/* The archived file of segno on the chain (newest timeline first), or NULL. */
const rd_pg_seg *rd_pg_arch_find(const rd_pg_arch *a, uint64_t segno);
/* The timeline the chain expects at segno. */
uint32_t rd_pg_arch_tli_at(const rd_pg_arch *a, uint64_t segno);
/* Sort the backups by end, compute each usable one's reach (pt.reach_ms),
 * the window, the gaps and the timelines into ar ("1->2 at 0/5000000").
 * A newest timeline without its history file is a gap named after the
 * file, from the end of the oldest backup it leaves off the chain to the end
 * of the first usable backup after that (+RD_PITR_END_SLACK_MS). */
rd_status rd_pg_arch_compute(rd_pg_arch *a, rd_pg_backup *bs, size_t n, rd_archive *ar,
                             rd_error *err);
/* The end of a physical catalog's list: rd_pg_arch_compute into a new
 * archive, then each backup's point pushed to out and the archive attached
 * (out->archive). The points stay the caller's to clear. */
rd_status rd_pg_arch_publish(rd_pg_arch *a, rd_pg_backup *bs, size_t n, rd_points *out,
                             rd_error *err);

/* The path of a PostgreSQL client tool (pg_waldump, ...): PATH, then the
 * newest /usr/lib/postgresql/N/bin. Heap or NULL. */
char *rd_pg_tool(const char *name);

#endif
