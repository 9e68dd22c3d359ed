/* backup_pg_cluster.c: `restoredrill backup --all-databases` / `--databases
 * GLOB...` for PostgreSQL: one plain SQL file in pg_dumpall's layout and a
 * cluster manifest with one section per database.
 *
 * PostgreSQL has no snapshot across databases, so the consistency given is
 * per database, the same as the one-database backup's (backup_pg.c): for
 * each database in name order, a connection to it opens a REPEATABLE READ
 * READ ONLY transaction and exports its snapshot; the manifest's metadata
 * (sequences first) is read in it, pg_dump --snapshot=<id> --create dumps
 * that database in exactly that snapshot while the rows are counted (and
 * chunk digests taken) in it; the transaction ends when pg_dump has
 * finished. Each section of the manifest holds its own snapshot id. The
 * databases are dumped one after the other, so two databases describe two
 * instants (as pg_dumpall's do). The globals (roles, tablespaces) come from
 * `pg_dumpall --globals-only`, read before the first database.
 *
 * The file: the globals as pg_dumpall writes them without its completion
 * trailer, "-- Databases", then per database pg_dumpall's section header
 * `-- Database "NAME" dump` and pg_dump's plain output with CREATE DATABASE
 * and \connect, then the trailer "-- PostgreSQL database cluster dump
 * complete": what pg_dumpall writes, so the drill's pg_dumpall filter
 * (restore/pg_dumpall_filter.c) restores chosen databases from it. System
 * databases (postgres, template0, template1) are not dumped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

#define TRAILER "--\n-- PostgreSQL database cluster dump complete\n--\n\n"
#define GLOBALS_TIMEOUT 600.0

static rd_status write_str(rd_bk_sink *sink, const char *s, rd_error *err)
{
    return rd_bk_sink_write(sink, s, strlen(s), err);
}

/* pg_dumpall --globals-only, without its completion trailer, into sink. */
static rd_status globals(const char *dsn, rd_bk_sink *sink, rd_error *err)
{
    rd_strbuf out, errb;
    int code = 0;
    rd_strbuf_init(&out, 0);
    rd_strbuf_init(&errb, 0);
    const char *argv[] = {"pg_dumpall", "--globals-only", "--no-password", "-d", dsn, NULL};
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    rd_status st = rd_proc_run(&spec, GLOBALS_TIMEOUT, &out, &errb, &code, err);
    if (st == RD_OK && code != 0)
        st = rd_proc_fail(err, "pg_dumpall", code, errb.data ? errb.data : "");
    char *trailer = st == RD_OK && out.data ? strstr(out.data, TRAILER) : NULL;
    if (st == RD_OK && !trailer)
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "pg_dumpall --globals-only wrote no completion trailer: cannot append the "
                    "databases");
    if (st == RD_OK)
        st = rd_bk_sink_write(sink, out.data, (size_t)(trailer - out.data), err);
    if (st == RD_OK)
        st = write_str(sink, "--\n-- Databases\n--\n\n", err);
    rd_strbuf_free(&out);
    rd_strbuf_free(&errb);
    return st;
}

/* One database: its section header, then pg_dump in its exported snapshot
 * while its manifest section is captured in the same snapshot. */
static rd_status one_database(const rd_backup_opts *o, const char *name, rd_bk_sink *sink,
                              rd_manifest **out, rd_error *err)
{
    rd_db *db = NULL;
    rd_manifest *m = NULL;
    rd_proc *proc = NULL;
    rd_bk_pump pump = {0};
    char *dsn = NULL, *snap = NULL, *snaparg = NULL;
    int in_tx = 0;
    rd_strbuf hdr;
    rd_status st;

    rd_strbuf_init(&hdr, 0);
    if (strpbrk(name, "\r\n")) /* pg_dumpall's own rule: its headers are one line */
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "a database name with a newline cannot have a pg_dumpall section");
    if ((st = rd_db_dsn_with_database(RD_ENGINE_PG, o->dsn, name, &dsn, err)) != RD_OK ||
        (st = rd_db_connect(RD_ENGINE_PG, dsn, NULL, &db, err)) != RD_OK)
        goto out;
    if ((st = rd_bk_pg_snapshot(db, &in_tx, &snap, &snaparg, err)) != RD_OK ||
        (st = rd_bk_pg_capture(db, o, &m, err)) != RD_OK)
        goto out;
    /* the database's piece starts with its header (backup_sink.c ends the
     * gzip member / zstd frame before it) */
    if ((st = rd_strbuf_appendf(&hdr, err, "--\n-- Database \"%s\" dump\n--\n\n", name)) != RD_OK ||
        (st = rd_bk_sink_cut(sink, name, err)) != RD_OK ||
        (st = write_str(sink, hdr.data, err)) != RD_OK)
        goto out;
    const char *argv[] = {"pg_dump", "-Fp", "--create", snaparg, "--no-password", "-d", dsn, NULL};
    if ((st = rd_bk_pg_dump_counted(db, m, argv, sink, snap, o->with_checksums, &proc, &pump,
                                    &in_tx, err)) != RD_OK)
        goto out;
    *out = m;
    m = NULL;
out:
    if (proc) {
        rd_proc_stop(proc);
        rd_bk_pump_join(&pump, NULL);
    }
    rd_proc_free(proc);
    if (in_tx)
        rd_db_exec(db, "ROLLBACK", 10, NULL, NULL);
    if (st != RD_OK)
        rd_error_prefix(err, "database %s: ", name);
    rd_db_free(db);
    rd_manifest_free(m);
    if (dsn)
        memset(dsn, 0, strlen(dsn));
    free(dsn);
    free(snap);
    free(snaparg);
    rd_strbuf_free(&hdr);
    return st;
}

rd_status rd_backup_pg_cluster(const rd_backup_opts *o, rd_error *err)
{
    rd_status st;
    rd_db *main = NULL;
    rd_manifest *m = NULL;
    rd_bk_sink *sink = NULL;
    rd_strlist names = {0};
    int s3 = rd_s3_is_url(o->out);
    char *partial = rd_asprintf("%s.partial", o->out);
    char sha[RD_SHA256_HEX_LEN + 1] = "";
    int64_t bytes = -1;

    if (!partial) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (o->format != RD_FMT_PG_PLAIN) {
        st = RD_ERR(err, RD_ERR_USAGE,
                    "a postgres cluster backup is plain SQL (pg_dumpall's "
                    "layout)");
        goto out;
    }
    if ((st = rd_db_connect(RD_ENGINE_PG, o->dsn, NULL, &main, err)) != RD_OK ||
        (st = rd_manifest_list_databases(main, o->databases, o->ndatabases, &names, err)) !=
            RD_OK ||
        (st = rd_manifest_cluster_new(main, names.n, &m, err)) != RD_OK)
        goto out;
    rd_db_free(main);
    main = NULL;
    if ((st = rd_bk_sink_open(s3 ? o->out : partial, o->wrap, &sink, err)) != RD_OK ||
        (!o->no_sections && (st = rd_bk_sink_sections_on(sink, err)) != RD_OK) ||
        (st = globals(o->dsn, sink, err)) != RD_OK)
        goto out;
    for (size_t i = 0; i < names.n; i++) {
        if (rd_abort_requested()) {
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted");
            goto out;
        }
        if ((st = one_database(o, names.items[i], sink, &m->databases[m->ndatabases], err)) !=
            RD_OK)
            goto out;
        m->ndatabases++;
        rd_log_info("backup: database %s dumped (%zu of %zu)", names.items[i], i + 1, names.n);
    }
    if ((st = rd_bk_sink_cut(sink, NULL, err)) != RD_OK || /* the trailer is shared */
        (st = write_str(sink, TRAILER, err)) != RD_OK ||
        (st = rd_bk_sink_finish(sink, sha, &bytes, err)) != RD_OK)
        goto out;
    if (!s3 && rename(partial, o->out) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", partial, o->out);
        goto out;
    }
    st = rd_bk_finish_manifest(m, o, sha, bytes, o->no_sections ? NULL : sink, err);
out:
    rd_bk_sink_free(sink);
    if (st != RD_OK && partial && !s3)
        unlink(partial);
    rd_db_free(main);
    rd_manifest_free(m);
    rd_strlist_free(&names);
    free(partial);
    return st;
}
