/* backup_mariadb_int.h: the dump scanner of the MariaDB backup, shared by
 * backup_mariadb.c (which runs mariadb-dump), backup_mariadb_scan.c (the
 * snapshot marker and the rows per table) and backup_mariadb_sections.c
 * (the cut into database sections), only inside harness/source. */
#ifndef RESTOREDRILL_BACKUP_MARIADB_INT_H
#define RESTOREDRILL_BACKUP_MARIADB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/manifest.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

/* ---------- dump scanner: snapshot marker and rows per table ---------- */

typedef struct tcount {
    char *name;
    int64_t rows;
} tcount;

/* Sections (rd_bk_sink_cut): the sink's piece ends before every line that
 * opens a database section ("-- Current Database: `NAME`", NAME with
 * backticks doubled) and before the first line of mariadb-dump's footer
 * (SEC_TZ, the TIME_ZONE restore that --tz-utc, its default, writes). The footer line is recognised
 * only after a section header; a piece that starts at one is shared (the trailer) unless another
 * header follows, which makes it its section's. Only line starts are looked at (memchr to the next
 * newline), so the cost is per line, not per byte. */
#define SEC_HDR "-- Current Database: `"
#define SEC_TZ "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;"
#define SEC_HELD 48
typedef struct splitter {
    int mid;             /* inside a line (not at its start) */
    char held[SEC_HELD]; /* a line's start that may be a header, not written yet */
    size_t nheld;
    int in_name; /* reading a header's name, up to the newline */
    rd_strbuf name;
    char *owner; /* the database of the last header */
    int pending; /* the open piece starts at a footer line after owner's section */
    int oom;
} splitter;

/* Rows are counted per "<database>\x01<table>" ("" as the database in a
 * one-database dump, which has no USE lines). */
typedef struct scan {
    enum { S_LINE, S_NAME, S_NAME_TICK, S_AFTER, S_TUPLES, S_SKIP, S_DB, S_DB_TICK } state;
    char head[48];
    size_t hlen;
    rd_strbuf name;
    rd_strbuf db; /* the database of the last USE line */
    rd_strbuf key;
    size_t after;
    int in_str, esc, depth;
    long cur;
    tcount *t;
    size_t nt;
    int started;
    int oom;
    splitter sp;
} scan;

/* rd_bk_inspect_fn: scan a chunk of the dump; 1 once its snapshot started. */
int rd_bk_mscan_chunk(void *ud, const char *data, size_t n);
/* rd_bk_write_fn: write a chunk into the sink, cut into sections (ud: a scan). */
rd_status rd_bk_msplit_write(void *ud, rd_bk_sink *sink, const char *d, size_t n, rd_error *err);
/* Each manifest table's rows must equal what the dump holds (per database
 * for a cluster manifest). */
rd_status rd_bk_mverify_counts(const scan *s, const rd_manifest *m, rd_error *err);
void rd_bk_mscan_free(scan *s);

#endif
