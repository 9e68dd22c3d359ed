/* pg_recovery.h: watching a PostgreSQL recovery (pg_recovery_log.c), shared
 * by the physical drivers in harness/restore/ only (pg_physical.c, and the
 * pgBackRest driver). Not a public contract. */
#ifndef RESTOREDRILL_PG_RECOVERY_H
#define RESTOREDRILL_PG_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/restore.h"
#include "restoredrill/scratch.h"

/* What the server's log said so far. */
typedef struct rd_pg_recovery_log {
    int ready;           /* "database system is ready to accept connections" */
    int paused;          /* "recovery has paused" / "pausing at the end of recovery" */
    int shutdown_target; /* "shutdown at recovery target" */
    int ended_early;     /* "recovery ended before configured recovery target was reached" */
    int64_t reached_ms;  /* "last completed transaction was at log time T" */
    int64_t stopped_ms;  /* "recovery stopping before commit of transaction N, time T" */
    char wal_first[64];  /* first and last "restored log file \"X\" from archive" */
    char wal_last[64];
    char fatal[512];    /* the first FATAL / PANIC line (without the prefix) */
    char pause[512];    /* the line that says recovery paused */
    char invalid[512];  /* the last "invalid record ..." style end-of-WAL line */
    char died[512];     /* the first "startup process ... terminated by signal" style line */
    char redo_done[32]; /* the LSN of "redo done at 0/50063E8" */
    uint32_t new_tli;   /* "selected new timeline ID: 3" */
} rd_pg_recovery_log;

/* Where replay ended, from the history file the promoted instance wrote
 * for its new timeline (pg_wal/0000000N.history): its last line is the
 * timeline recovery followed and the end of the WAL replayed there
 * ("2\t0/40005B0\tbefore 2026-..."); the lines before are that timeline's
 * ancestors with their switch points. *tli is the timeline that wrote the
 * end point: an ancestor when the end lies at or before its switch point
 * (recovery stopped before the fork), else the followed timeline; *lsn the
 * end ("0/40005B0", at most 31 characters). 1 on success, 0 when the text
 * has no such line. */
int rd_pg_history_reached(const char *text, uint32_t *tli, char *lsn, size_t lsnsz);

/* Feed one line of the server's log (without the newline). */
void rd_pg_recovery_line(rd_pg_recovery_log *l, const char *line);

/* "2026-01-30 15:00:00.250+00" (explicit UTC offset) into buf. */
char *rd_pg_recovery_time(int64_t ms, char *buf, size_t bufsz);

/* The recovery tail every PostgreSQL physical driver shares, once its data
 * directory is laid and its recovery configured: start the scratch instance
 * with settings ("name=value" server settings), watch s->log and the server
 * process until the recovery promoted ("database system is ready to accept
 * connections" after recovery) or failed (the postmaster died, recovery
 * ended before its target, paused, or the deadline passed), then attach to
 * t->database and prove the promoted instance is out of recovery and
 * assigns a transaction id. Fills out (reached_ms, wal range, falling back
 * to pt->wal_start for the first segment, server_line, log tail; reached
 * on success). RD_ERR_INTEGRITY (recovery ended before target / paused /
 * still in recovery), RD_ERR_PROC (server died), RD_ERR_TIMEOUT, and the
 * errors of rd_scratch_start_physical and rd_scratch_attach. */
rd_status rd_pg_recovery_run(const rd_point *pt, const rd_recovery_target *t, rd_scratch *s,
                             const rd_strlist *settings, double deadline, rd_recovery_outcome *out,
                             rd_error *err);

/* pg_physical_s3.c: lay a base backup whose location is s3:// into data
 * (tar streamed into tar -x, plain file by file, backup_manifest into data
 * too), and fetch the WAL from the backup's first segment on (and every
 * .history file) from an s3:// wal_dir into the directory into, owned by
 * run_as (may be NULL). */
rd_status rd_pg_lay_s3(const rd_point *pt, const rd_recovery_target *t, const char *data,
                       double deadline, rd_restore_outcome *out, rd_error *err);
rd_status rd_pg_fetch_wal_s3(const rd_point *pt, const rd_recovery_target *t, const char *into,
                             const char *run_as, rd_error *err);

#endif
