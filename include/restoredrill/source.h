/* source.h: what runs against the protected database itself: `backup` (a
 * dump and its manifest from one snapshot) and `heartbeat` (the row whose
 * newest value proves how far a restore reached). */
#ifndef RESTOREDRILL_SOURCE_H
#define RESTOREDRILL_SOURCE_H

#include "restoredrill/artifact.h"
#include "restoredrill/config.h"
#include "restoredrill/error.h"

typedef struct rd_backup_opts {
    rd_engine engine;
    const char *dsn;
    const char *out;             /* artifact path; manifest at out.manifest.json */
    rd_format format;            /* PG: custom (default), plain, directory; MariaDB: sql */
    rd_wrap wrap;                /* in-process gzip/zstd of single-file dumps */
    const char *freshness_query; /* may be NULL */
    int with_checksums;          /* chunk digests in the manifest (same snapshot) */
    /* A cluster-wide dump of the databases matching these globs and a
     * cluster manifest of them. MariaDB: "*" alone is mariadb-dump
     * --all-databases, else --databases with the matching names, all from
     * one snapshot. PostgreSQL: plain SQL in pg_dumpall's layout (globals,
     * then one pg_dump --create per matching database, each with its
     * manifest section in that database's own exported snapshot; system
     * databases left out). NULL: the DSN's database only */
    const char *const *databases;
    size_t ndatabases;
    /* Cluster backups end the gzip member / zstd frame at every database
     * section and list the pieces in the manifest's artifact.sections, so a
     * drill can read only the sampled databases (docs/tenants.md,
     * "Section ranges"); 1: one stream, no sections (--no-sections). */
    int no_sections;
} rd_backup_opts;

/* Dump + manifest of the same instant; writes out and out.manifest.json
 * (both atomically: nothing at out unless the backup succeeded). */
rd_status rd_backup_run(const rd_backup_opts *o, rd_error *err);

typedef struct rd_heartbeat_opts {
    rd_engine engine;
    const char *dsn;
    double interval;   /* seconds, > 0 */
    double duration;   /* seconds; <= 0: until SIGINT/SIGTERM */
    const char *table; /* "restoredrill_heartbeat" or "schema.table" */
    const char *writer;
} rd_heartbeat_opts;

/* Upsert the writer's row every interval until duration or a signal. */
rd_status rd_heartbeat_run(const rd_heartbeat_opts *o, rd_error *err);

#endif
