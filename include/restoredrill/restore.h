/* restore.h: restore drivers that load an artifact into a scratch instance
 * (pg_restore, psql, the mariadb client). */
#ifndef RESTOREDRILL_RESTORE_H
#define RESTOREDRILL_RESTORE_H

#include <stdint.h>

#include "restoredrill/artifact.h"
#include "restoredrill/catalog.h"
#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

typedef struct rd_restore_outcome {
    rd_strbuf log; /* the tool's stderr tail (and notable output) for the report */
    int exit_code;
    int error_lines;  /* lines that looked like errors although exit was 0 */
    char *roles_note; /* "created roles: app, reporting" / "ignored ownership (--no-owner)"; may be
                         NULL */
    /* physical: the laid base backup verified against the backup's own
     * manifest (pg_verifybackup), reported as a `basebackup` result */
    int manifest_checked;      /* 0: not checked (no manifest; manifest_note says why) */
    int manifest_ok;           /* 1: every file matched the manifest */
    char *manifest_note;       /* the tool's verdict line or first error, may be NULL */
    double manifest_seconds;   /* how long the verification took (part of the restore phase) */
    char *split_note;          /* MariaDB logical split over several clients: how (may be NULL) */
    rd_strlist databases_seen; /* restores of chosen databases: every (non-system) database
                                  whose section the dump held, in dump order */
} rd_restore_outcome;

typedef struct rd_restore_type {
    const char *name; /* "pg_restore" */
    unsigned engines;
    /* 1 when this driver restores format f */
    int (*accepts)(rd_format f);
    /* required: restore; RD_OK only when the tool succeeded AND printed no
     * errors. A failure fills err with a one-line reason (the last error line
     * of the tool) and out->log with the tail. deadline: rd_mono_now() instant.
     * databases: restore only these databases of a cluster-wide dump, each
     * under its own name (NULL: the whole dump); a driver that cannot select
     * databases returns RD_ERR_UNSUPPORTED. */
    rd_status (*run)(const rd_restore_cfg *cfg, rd_artifact *a, const rd_scratch *s,
                     const rd_strlist *databases, double deadline, rd_restore_outcome *out,
                     rd_error *err);
    /* optional: the databases a cluster-wide dump holds, in dump order,
     * system databases left out, appended to out (reads the artifact to its
     * end: the caller opens it again to restore). NULL: the driver cannot
     * list databases. */
    rd_status (*list_databases)(rd_artifact *a, rd_strlist *out, rd_error *err);
    /* optional: 1 when run will let the tool read the artifact's file or
     * directory itself instead of the stream (pg_restore -j), so the
     * stream's sha256 check never runs and the caller must verify the file
     * first. NULL: the driver always reads the stream. */
    int (*reads_path)(const rd_restore_cfg *cfg, const rd_artifact *a);
} rd_restore_type;

extern const rd_restore_type *const rd_restore_registry[]; /* NULL-terminated */
/* The first driver that accepts the artifact's format for the engine, or NULL. */
const rd_restore_type *rd_restore_for(rd_engine engine, rd_format f);
void rd_restore_outcome_init(rd_restore_outcome *o);
/* Frees what the outcome holds (not the struct); harmless twice. */
void rd_restore_outcome_free(rd_restore_outcome *o);

/* --- physical restores (DESIGN section 11) ---
 *
 * A physical driver restores a base backup into the data directory of a
 * scratch instance provisioned with req.physical (before any server runs),
 * then recovers: starts the server through rd_scratch_start_physical with
 * its recovery settings, watches the server's log and process until the
 * recovery reached its target and the instance was promoted and accepts
 * writes, or failed. The drill then attaches (rd_scratch_attach) and checks. */

/* What to recover to (from rd_sample). */
typedef struct rd_recovery_target {
    rd_pitr_kind kind;             /* RD_PITR_CONSISTENT, RD_PITR_TIME or RD_PITR_LATEST */
    int64_t time_ms;               /* RD_PITR_TIME: the target; RD_PITR_LATEST: the last reachable
                                      commit the catalog saw; RD_PITR_CONSISTENT: the backup's end */
    const rd_archive *archive;     /* the catalog's archive (may be NULL) */
    const rd_catalog_cfg *catalog; /* where the WAL / binlogs are */
    const rd_strlist *settings;    /* recovery.settings: extra server settings */
    const char *database;          /* for rd_scratch_attach: the target's database key */
    const char *target_name;       /* ... and the target's name */
} rd_recovery_target;

typedef struct rd_recovery_outcome {
    int reached;        /* 1: recovery reached its target, promoted, and accepts writes */
    int64_t reached_ms; /* the last replayed commit (0 unknown) */
    int64_t stopped_ms; /* the commit recovery stopped before (0: none / unknown) */
    char *wal_first;    /* first WAL segment (binlog file:pos) replayed, NULL unknown */
    char *wal_last;     /* last one, NULL unknown */
    char *server_line;  /* the server's own log line explaining a failure, NULL when none */
    rd_strbuf log;      /* tail of the server's log during recovery */
    /* where replay ended (PostgreSQL; 0 / NULL unknown): the timeline of the
     * last WAL replayed (after a failover in the archive, the one the
     * recovery followed), the LSN of "redo done at", and the new timeline
     * the promoted instance chose */
    uint32_t reached_tli;
    char *reached_lsn;
    uint32_t new_tli;
} rd_recovery_outcome;

void rd_recovery_outcome_init(rd_recovery_outcome *o);
void rd_recovery_outcome_free(rd_recovery_outcome *o); /* not the struct; harmless twice */

typedef struct rd_physical_type {
    const char *name; /* "pg_basebackup" */
    unsigned engines;
    /* required: 1 when this driver restores the point (by its format) */
    int (*accepts)(const rd_point *pt);
    /* required: fill s->data_dir (as s->run_as) from the point before any
     * server runs. A failure fills err with a one-line reason and out->log
     * with the tool's tail. */
    rd_status (*lay)(const rd_restore_cfg *cfg, const rd_point *pt, const rd_recovery_target *t,
                     rd_scratch *s, double deadline, rd_restore_outcome *out, rd_error *err);
    /* required: start the server, replay to t, promote, wait until writes are
     * accepted. RD_OK with out->reached = 1 only then; a recovery that fails
     * (ends before the target, dies, pauses, times out) returns
     * RD_ERR_INTEGRITY / RD_ERR_PROC / RD_ERR_TIMEOUT with err naming it and
     * out->server_line set to the server's own line. */
    rd_status (*recover)(const rd_restore_cfg *cfg, const rd_point *pt, const rd_recovery_target *t,
                         rd_scratch *s, double deadline, rd_recovery_outcome *out, rd_error *err);
} rd_physical_type;

extern const rd_physical_type *const rd_physical_registry[]; /* NULL-terminated */
/* The drivers (harness/restore/), for the registry and tests. */
extern const rd_physical_type rd_physical_mariabackup; /* mariadb-backup + binlogs */
/* The physical driver for a point (pt->base set) and engine, or NULL. */
const rd_physical_type *rd_physical_for(rd_engine engine, const rd_point *pt);

/* The drivers (harness/restore/), for the registry and tests. */
extern const rd_restore_type rd_restore_pg_logical;      /* pg_restore / psql */
extern const rd_restore_type rd_restore_mariadb_logical; /* the mariadb client */
extern const rd_physical_type rd_physical_pg;            /* pg_basebackup + WAL archive */
extern const rd_physical_type rd_physical_pgbackrest;    /* pgbackrest restore */

#endif
