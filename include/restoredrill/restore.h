/* restore.h: restore drivers that load an artifact into a scratch instance
 * (pg_restore, psql, the mariadb client). */
#ifndef RESTOREDRILL_RESTORE_H
#define RESTOREDRILL_RESTORE_H

#include "restoredrill/artifact.h"
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

/* The drivers (harness/restore/), for the registry and tests. */
extern const rd_restore_type rd_restore_pg_logical;      /* pg_restore / psql */
extern const rd_restore_type rd_restore_mariadb_logical; /* the mariadb client */

#endif
