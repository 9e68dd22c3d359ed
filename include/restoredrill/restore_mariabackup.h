/* restore_mariabackup.h: the steps of a MariaDB physical restore and
 * recovery (harness/restore/mariabackup.c), on a backup of a mariabackup
 * catalog (mariabackup.h):
 *   lay:    copy the full backup into a private work directory, prepare it
 *           there with mariadb-backup (applying each incremental in order),
 *           and move the prepared files into the data directory a scratch
 *           server will start on (the archive is only read);
 *   replay: the archived binary logs from the backup's coordinates up to a
 *           target time, decoded by mariadb-binlog (all files in one
 *           invocation, TZ=UTC) and piped into the mariadb client connected
 *           to the scratch server.
 * Failures carry the tool's own message. */
#ifndef RESTOREDRILL_RESTORE_MARIABACKUP_H
#define RESTOREDRILL_RESTORE_MARIABACKUP_H

#include <stdint.h>
#include <sys/types.h>

#include "restoredrill/error.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/strbuf.h"

typedef struct rd_mb_lay_opts {
    const char *bin_dir;    /* where mariadb-backup is; NULL: $PATH */
    const char *work_dir;   /* private directory for the prepared copy (created, then removed) */
    const char *datadir;    /* the data directory to fill (must not exist or be empty) */
    const char *use_memory; /* --use-memory for the prepare ("1G"), NULL: the tool's default */
    int chown_to;           /* 1: give the data directory to uid/gid (the server's user) */
    uid_t uid;
    gid_t gid;
    double deadline;               /* rd_mono_now() instant, 0: none */
    const rd_catalog_cfg *catalog; /* backups whose dir is s3:// are fetched through its
                                      base_dir (instead of copied); may be NULL otherwise */
} rd_mb_lay_opts;

/* Restore backup `index` (its whole chain) into o->datadir. RD_ERR_REFUSED
 * for a broken chain; RD_ERR_PROC "mariadb-backup --prepare of inc1 failed:
 * [ERROR] InnoDB: ..." with the tool's error line (the stderr tail in log);
 * RD_ERR_TIMEOUT at the deadline. log (may be NULL) gets each step and
 * the tools' stderr tails. */
rd_status rd_mb_lay(const rd_mb_archive *a, size_t index, const rd_mb_lay_opts *o, rd_strbuf *log,
                    rd_error *err);

typedef struct rd_mb_replay_opts {
    const char *bin_dir;  /* where mariadb-binlog and mariadb are; NULL: $PATH */
    const char *socket;   /* the scratch server's socket */
    const char *user;     /* an account that may replay everything (ALL ... WITH GRANT OPTION) */
    const char *password; /* secret: passed through MYSQL_PWD, never on a command line */
    int64_t stop_ms;      /* the target; < 0: replay every reachable event (latest) */
    double deadline;
} rd_mb_replay_opts;

typedef struct rd_mb_replay_result {
    size_t first, last;  /* binlogs replayed (indexes into a->binlogs) */
    uint64_t start_pos;  /* in the first one */
    int64_t stop_second; /* the --stop-datetime given, in epoch seconds; -1: none */
} rd_mb_replay_result;

/* mariadb-binlog --stop-datetime reads whole seconds and stops at the first
 * event stamped at or after it. An event stamped S happened somewhere in
 * [S, S + 1 s): the replay for a target T takes the events that certainly
 * happened at or before T (S + 0.999 <= T), so nothing after the target is
 * ever replayed, and the events of the last (partial) second before it are
 * left out. This returns that stop second: floor((T + 1 ms) / 1 s). */
int64_t rd_mb_stop_second(int64_t target_ms);

/* Replay the binary logs of backup `index` (rd_mb_reach) into the server.
 * RD_ERR_NOTFOUND when the target is out of reach (rd_mb_pick_for_target's
 * reasons); RD_ERR_PROC "mariadb-binlog failed: ERROR: ..." or "replay into
 * the scratch server failed: ERROR 1062 (23000) at line 57: ..." with the
 * tool's own message (the stderr tails in log). *res is written on success. */
rd_status rd_mb_replay(const rd_mb_archive *a, size_t index, const rd_mb_replay_opts *o,
                       rd_strbuf *log, rd_mb_replay_result *res, rd_error *err);

#endif
