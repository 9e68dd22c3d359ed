/* pg_wal.h: PostgreSQL WAL archive reading for the pg-archive catalog
 * (pg_archive.c, pg_wal.c), inside harness/catalog/ only (and unit tests).
 * Not a public contract. */
#ifndef RESTOREDRILL_PG_WAL_H
#define RESTOREDRILL_PG_WAL_H

#include <stddef.h>
#include <stdint.h>

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
/* "0/3000028" into an LSN. 1 on success. */
int rd_wal_parse_lsn(const char *s, uint64_t *lsn);

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

/* The path of a PostgreSQL client tool (pg_waldump, ...): PATH, then the
 * newest /usr/lib/postgresql/N/bin. Heap or NULL. */
char *rd_pg_tool(const char *name);

#endif
