/* mariabackup.h: what a `mariabackup` catalog holds (DESIGN section 11):
 * physical backups made by mariadb-backup (full, and incrementals chained
 * through the LSNs of xtrabackup_checkpoints) and an archive of binary logs,
 * read into one model: the backups with their chains, the binlog files with
 * the times of their first and last events, the gaps of the sequence, and
 * the restorable window of each backup.
 *
 * The catalog driver (harness/catalog/mariabackup.c) lists the usable
 * backups as recovery points; the restore driver (harness/restore/
 * mariabackup.c) and `list` read the same model. */
#ifndef RESTOREDRILL_MARIABACKUP_H
#define RESTOREDRILL_MARIABACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"

#define RD_MB_NONE ((size_t)-1)

typedef struct rd_mb_backup {
    char *name;          /* directory name inside base_dir */
    char *dir;           /* full path */
    int incremental;     /* backup_type incremental */
    uint64_t from_lsn;   /* xtrabackup_checkpoints */
    uint64_t to_lsn;     /* xtrabackup_checkpoints */
    int64_t start_ms;    /* start_time of xtrabackup_info, in UTC */
    int64_t end_ms;      /* end_time + 999 ms (it has whole seconds): the point's creation
                            time and the earliest target */
    char *binlog_file;   /* xtrabackup_binlog_info: the binlog coordinates of the copy; NULL when
                            the source had no binary log */
    uint64_t binlog_pos; /* position in binlog_file */
    char *gtid;          /* GTID of the last change, NULL when not written */
    int64_t bytes;       /* sum of the backup's files */
    size_t base;         /* index of the backup it increments; RD_MB_NONE for a full one */
    char *broken;        /* why it cannot be restored ("incremental from LSN 5 has no base with
                            to_lsn 5"), NULL when usable */
} rd_mb_backup;

typedef struct rd_mb_binlog {
    char *name;       /* "mysql-bin.000042" */
    char *path;       /* full path */
    uint64_t seq;     /* 42 */
    int64_t bytes;    /* file size */
    int64_t first_ms; /* time of its first event after the format description, else of that */
    int64_t last_ms;  /* time of its last transaction event (commit, statement, row event) */
    uint64_t end_pos; /* end of the last complete event */
    int rotated;      /* ends with a Rotate event (the server closed it) */
    int closed;       /* ends with a Rotate or Stop event */
    int in_use;       /* its format description still carries LOG_EVENT_BINLOG_IN_USE_F: the
                         server never closed it (still written, or it crashed) */
    char *truncated;  /* "truncated at byte 812 of 900: ..." when an event runs past the end */
} rd_mb_binlog;

typedef struct rd_mb_gap {
    size_t after;    /* index of the last binlog before the gap */
    size_t before;   /* index of the first binlog after it */
    char *missing;   /* "mysql-bin.000003" or "mysql-bin.000003 .. mysql-bin.000005" */
    int64_t from_ms; /* last event before the gap */
    int64_t to_ms;   /* first event after it: the span no recovery can reach */
} rd_mb_gap;

typedef struct rd_mb_archive {
    rd_mb_backup *backups; /* sorted by end_ms, then name */
    size_t nbackups;
    rd_mb_binlog *binlogs; /* sorted by sequence number */
    size_t nbinlogs;
    rd_mb_gap *gaps;
    size_t ngaps;
    char *binlog_base; /* the common base name ("mysql-bin") */
} rd_mb_archive;

/* Read base_dir and binlog_dir of a mariabackup catalog (cfg->timezone
 * decides how the local times of xtrabackup_info are read). Errors:
 * RD_ERR_CONFIG naming the setting ("catalog.base_dir: cannot read
 * /x: No such file or directory", "catalog.binlog_dir: /y holds no binary
 * logs", "catalog.timezone: ..."), RD_ERR_FORMAT for a malformed file
 * ("/b/full/xtrabackup_checkpoints: line 2: ..."). A broken chain is not an
 * error: the backup's `broken` says why. *out is the caller's
 * (rd_mb_archive_free) and written only on success. */
rd_status rd_mb_archive_load(const rd_catalog_cfg *cfg, rd_mb_archive **out, rd_error *err);
void rd_mb_archive_free(rd_mb_archive *a);

/* The backups to restore for backup i, oldest first (the full one, then
 * each incremental up to i): *order heap (free), *n its length.
 * RD_ERR_REFUSED with the backup's `broken` reason when it is broken. */
rd_status rd_mb_chain(const rd_mb_archive *a, size_t i, size_t **order, size_t *n, rd_error *err);

/* The binlogs a recovery of backup i replays: from its binlog_file up to
 * the last file before the first gap after it. A truncated file does not
 * end the run (the replay reaching its cut fails with mariadb-binlog's own
 * message); its last complete event counts. *first / *last are indexes
 * into a->binlogs; *end_ms is the window's end: the time of the last event
 * reachable without a gap (the backup's end when that is later). RD_ERR_NOTFOUND
 * "backup full names mysql-bin.000007, which is not in the binlog archive"
 * when its file is missing, RD_ERR_REFUSED when the backup is broken. */
rd_status rd_mb_reach(const rd_mb_archive *a, size_t i, size_t *first, size_t *last,
                      int64_t *end_ms, rd_error *err);

/* The newest usable backup that ended at or before target_ms and whose
 * window reaches it (target_ms <= the window's end: the last event's time,
 * whole seconds). RD_ERR_NOTFOUND with the reason when none
 * does: "target 2026-... is before the oldest backup ended (...)", "target ... is past the gap in
 * the binary logs (mysql-bin.000003 missing: nothing between
 * ... and ... can be recovered)", "target ... is past the last event of the
 * binary logs (...)". */
rd_status rd_mb_pick_for_target(const rd_mb_archive *a, int64_t target_ms, size_t *index,
                                rd_error *err);

/* --- base_dir / binlog_dir in S3 (s3:// locations; b->dir and the
 * binlogs' path are then s3:// URLs) --- */

/* Download backup b's directory into dst (created; the same relative
 * paths; S3 keeps no empty directory). */
rd_status rd_mb_fetch_backup(const rd_catalog_cfg *cfg, const rd_mb_backup *b, const char *dst,
                             rd_error *err);
/* One file of backup b ("backup-my.cnf") into a heap string of at most max bytes. */
rd_status rd_mb_read_file(const rd_catalog_cfg *cfg, const rd_mb_backup *b, const char *file,
                          size_t max, char **text, rd_error *err);
/* Download the binlogs first..last (indexes into a->binlogs) into dir
 * (created) and point their path there: only the replay's range is read. */
rd_status rd_mb_fetch_binlogs(const rd_catalog_cfg *cfg, rd_mb_archive *a, size_t first,
                              size_t last, const char *dir, rd_error *err);

/* --- parsers, for the catalog and the tests --- */

/* xtrabackup_checkpoints / mariadb_backup_checkpoints: "key = value" lines.
 * Fills b->incremental, from_lsn, to_lsn. RD_ERR_FORMAT "line N: ..." or
 * "missing to_lsn". */
rd_status rd_mb_parse_checkpoints(const char *text, rd_mb_backup *b, rd_error *err);
/* xtrabackup_binlog_info: "FILE\tPOS[\tGTID]". Empty text leaves b alone
 * (no binlog). */
rd_status rd_mb_parse_binlog_info(const char *text, rd_mb_backup *b, rd_error *err);
/* xtrabackup_info: start_time and end_time ("2026-12-05 14:15:12", local
 * time of the backup host) read in zone tz (NULL or "UTC": UTC; "+02:00":
 * a fixed offset; else an IANA name such as "Europe/Berlin"). */
rd_status rd_mb_parse_info(const char *text, const char *tz, rd_mb_backup *b, rd_error *err);
/* A local "YYYY-MM-DD HH:MM:SS" in zone tz to UTC milliseconds. RD_ERR_CONFIG
 * for an unknown zone ("unknown time zone \"Mars/Base\" (no
 * /usr/share/zoneinfo/Mars/Base)"), RD_ERR_FORMAT for a malformed time. */
rd_status rd_mb_local_to_utc(const char *local, const char *tz, int64_t *ms, rd_error *err);
/* 1 when tz is a zone rd_mb_local_to_utc accepts (message in err if not). */
rd_status rd_mb_check_timezone(const char *tz, rd_error *err);

/* Scan one binary log's event headers (never the event bodies): fills
 * name-independent fields of *b (bytes, first_ms, last_ms, end_pos, rotated,
 * truncated). RD_ERR_FORMAT "PATH: not a binary log (bad magic)", or
 * "PATH: encrypted binary logs are not supported". */
rd_status rd_mb_scan_binlog(const char *path, rd_mb_binlog *b, rd_error *err);

/* Where a replay with mariadb-binlog --stop-datetime stops: it replays every
 * event until the first one stamped at or after the stop time (stop_ms, a
 * whole second; < 0: none), across files. Scan the files in order (the
 * first from the backup's position, the others from 4) with one
 * rd_mb_stop_scan zeroed before the first: after each call, `stopped` says
 * the stop was met (scan no further file); `found`, `last_ms` and `last_end`
 * describe the last transaction event replayed so far (last_end: its end
 * position in the file of the call that found it). */
typedef struct rd_mb_stop_scan {
    int stopped;
    int found;
    int64_t last_ms;
    uint64_t last_end;
} rd_mb_stop_scan;
rd_status rd_mb_binlog_stop_scan(const char *path, uint64_t from_pos, int64_t stop_ms,
                                 rd_mb_stop_scan *sc, rd_error *err);

#endif
