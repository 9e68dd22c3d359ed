/* source_int.h: declarations shared inside harness/source/ only: the output
 * sink and dump pump of backup.c, used by backup_mariadb.c. The public API
 * is include/restoredrill/source.h. */
#ifndef RESTOREDRILL_SOURCE_INT_H
#define RESTOREDRILL_SOURCE_INT_H

#include <pthread.h>
#include <stdint.h>

#include "restoredrill/artifact.h"
#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/error.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"
#include "restoredrill/source.h"

/* --- backup_sink.c: used by every engine's backup --- */

/* A file being written: optional compression, sha256 and size of what lands
 * on disk. */
typedef struct rd_bk_sink rd_bk_sink;
rd_status rd_bk_sink_open(const char *path, rd_wrap wrap, rd_bk_sink **out, rd_error *err);
rd_status rd_bk_sink_write(rd_bk_sink *s, const void *data, size_t n, rd_error *err);
/* Sections: cut the stored file into pieces that decode on their own.
 * sections_on (before the first byte) starts a piece labelled NULL
 * (shared); cut ends the gzip member / zstd frame (plain: nothing), closes
 * the open piece (with its offset, stored length and sha256) unless no byte
 * went into it, and opens one labelled database (NULL: shared); label
 * renames the open piece. Without sections_on, cut and label do nothing. */
rd_status rd_bk_sink_sections_on(rd_bk_sink *s, rd_error *err);
rd_status rd_bk_sink_cut(rd_bk_sink *s, const char *database, rd_error *err);
rd_status rd_bk_sink_label(rd_bk_sink *s, const char *database, rd_error *err);
/* The closed pieces (in ->sections) once finished; NULL without sections. */
const rd_manifest *rd_bk_sink_pieces(const rd_bk_sink *s);
/* Flush, fsync, close; hex gets the sha256 (65 bytes), *bytes the size
 * (with sections: the last piece is closed first). */
rd_status rd_bk_sink_finish(rd_bk_sink *s, char *hex, int64_t *bytes, rd_error *err);
void rd_bk_sink_free(rd_bk_sink *s); /* closes without finishing */

/* Reads a child's stdout into a sink on a thread; `inspect` sees every chunk
 * first (may be NULL) and returns 1 when the dump is known to have started
 * its snapshot, which wakes rd_bk_pump_wait_started. */
typedef int (*rd_bk_inspect_fn)(void *ud, const char *data, size_t n);
/* Writes a chunk into the sink in place of rd_bk_sink_write (to cut it
 * into sections); gets the inspect's ud; called once more with n = 0 at the
 * end of the output (to write what it held back). */
typedef rd_status (*rd_bk_write_fn)(void *ud, rd_bk_sink *sink, const char *data, size_t n,
                                    rd_error *err);
typedef struct rd_bk_pump {
    int fd;
    rd_bk_sink *sink;
    rd_bk_inspect_fn inspect;
    rd_bk_write_fn write; /* NULL: rd_bk_sink_write */
    void *ud;
    pthread_t thread;
    int running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started; /* inspect said so */
    int done;    /* EOF or error */
    rd_status st;
    rd_error err;
} rd_bk_pump;
rd_status rd_bk_pump_start(rd_bk_pump *p, int fd, rd_bk_sink *sink, rd_bk_inspect_fn inspect,
                           void *ud, rd_error *err);
/* The same with a writer of its own (see rd_bk_write_fn). */
rd_status rd_bk_pump_start_w(rd_bk_pump *p, int fd, rd_bk_sink *sink, rd_bk_inspect_fn inspect,
                             rd_bk_write_fn write, void *ud, rd_error *err);
/* Wait until started or done (or timeout seconds); 1 when started. */
int rd_bk_pump_wait_started(rd_bk_pump *p, double timeout);
/* Join; returns the pump's status (err filled from it). */
rd_status rd_bk_pump_join(rd_bk_pump *p, rd_error *err);

/* The second half of every dump: while the dump tool runs, count the rows
 * of m (and capture chunk digests when with_checksums) in db's snapshot;
 * then wait for the tool and join its pump (a pump never started is fine).
 * RD_OK only when the tool exited 0, the pump wrote everything and the
 * manifest figures were taken; else the first failure in that order (a
 * failed tool with its stderr tail, "capturing the manifest: ..."). */
rd_status rd_bk_count_while_dumping(rd_db *db, rd_manifest *m, int with_checksums, rd_proc *proc,
                                    const char *tool, rd_bk_pump *pump, rd_error *err);
/* PostgreSQL, the first half of a dump (backup_pg.c): open db's REPEATABLE
 * READ READ ONLY transaction (*in_tx = 1) and export its snapshot: its id
 * into *snap, "--snapshot=ID" into *snaparg (heap). in_tx, snap and snaparg
 * are the caller's to undo and free whatever the outcome. */
rd_status rd_bk_pg_snapshot(rd_db *db, int *in_tx, char **snap, char **snaparg, rd_error *err);
/* The manifest's metadata without row counts, taken before pg_dump starts:
 * sequence values are not transactional, so they are read before pg_dump
 * reads them (a restore can then only be ahead). Errors are prefixed
 * "capturing the manifest: ". */
rd_status rd_bk_pg_capture(rd_db *db, const rd_backup_opts *o, rd_manifest **m, rd_error *err);
/* pg_dump (argv, with the --snapshot) started with its stdout pumped into
 * sink (NULL: it writes its own files), the rows of m counted while it runs
 * (rd_bk_count_while_dumping), then m->snapshot = snap and COMMIT (*in_tx =
 * 0). *proc and *pump are the caller's to stop, join and free whatever the
 * outcome. */
rd_status rd_bk_pg_dump_counted(rd_db *db, rd_manifest *m, const char *const *argv,
                                rd_bk_sink *sink, const char *snap, int with_checksums,
                                rd_proc **proc, rd_bk_pump *pump, int *in_tx, rd_error *err);
/* Fill the manifest's artifact fields (with sink's pieces as
 * artifact.sections when it has sections; sink may be NULL) and save it
 * beside the artifact. */
rd_status rd_bk_finish_manifest(rd_manifest *m, const rd_backup_opts *o, const char *sha,
                                int64_t bytes, const rd_bk_sink *sink, rd_error *err);
/* "pg-custom+gzip" etc. (static buffer per call site: pass buf). */
const char *rd_bk_format_name(rd_format f, rd_wrap w, char *buf, size_t n);

/* The engines' backups (backup_pg.c, backup_mariadb.c), called by backup.c. */
rd_status rd_backup_pg(const rd_backup_opts *o, rd_error *err);
/* PostgreSQL --all-databases / --databases (backup_pg_cluster.c). */
rd_status rd_backup_pg_cluster(const rd_backup_opts *o, rd_error *err);
rd_status rd_backup_mariadb(const rd_backup_opts *o, rd_error *err);

/* Split a MariaDB DSN into client options (heap strings, NULL when absent). */
typedef struct rd_bk_mdsn {
    char *host, *port, *user, *password, *socket, *database;
} rd_bk_mdsn;
rd_status rd_bk_parse_mariadb_dsn(const char *dsn, rd_bk_mdsn *out, rd_error *err);
void rd_bk_mdsn_free(rd_bk_mdsn *d);

#endif
