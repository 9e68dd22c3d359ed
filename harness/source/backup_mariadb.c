/* backup_mariadb.c: `restoredrill backup` for MariaDB.
 *
 * Consistency (option (a) of the design note, with a proof instead of a
 * timing guess):
 *  1. our connection takes FLUSH TABLES WITH READ LOCK: no table changes
 *     from here on (needs the RELOAD privilege);
 *  2. it starts START TRANSACTION WITH CONSISTENT SNAPSHOT (REPEATABLE READ):
 *     our InnoDB read view is the locked state;
 *  3. mariadb-dump --single-transaction starts and opens its own consistent
 *     snapshot, still under the lock. mariadb-dump opens its transaction
 *     before writing any table, so once its output shows the first
 *     table/view/routine section (or ends), its read view exists: only then
 *     do we UNLOCK TABLES. Both read views were created while nothing could
 *     change, so they see the same data;
 *  4. the manifest's metadata (AUTO_INCREMENT counters and sequences, which
 *     are not transactional) is read under the lock, before mariadb-dump
 *     reads them, so a restore is never behind it; its row counts are taken
 *     in our snapshot after the unlock; the binlog position of
 *     our snapshot (binlog_snapshot_file/position, when the binary log is on)
 *     is recorded as "snapshot";
 *  5. as a proof, the rows of every INSERT in the dump are counted as it
 *     streams by, and the backup fails (nothing is left at FILE) unless each
 *     table's count equals the manifest's.
 * Non-transactional tables (MyISAM, Aria, ...) are not covered by read views:
 * when the database has any, the lock is held until mariadb-dump has
 * finished (writers wait for the whole dump), which keeps the guarantee.
 * Sequence objects are read by mariadb-dump outside the guarantee; a later
 * value can only be ahead of the manifest's, which the schema check accepts.
 *
 * The DSN is parsed in backup_mariadb_dsn.c, the dump is scanned in
 * backup_mariadb_scan.c and cut into sections in backup_mariadb_sections.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "backup_mariadb_int.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

#define START_TIMEOUT 600.0

/* ---------- backup ---------- */

static rd_status push(const char **argv, size_t *n, size_t cap, const char *a)
{
    if (*n + 1 >= cap)
        return RD_ERR_INTERNAL;
    argv[(*n)++] = a;
    argv[*n] = NULL;
    return RD_OK;
}

static rd_status binlog_position(rd_db *db, char **out, rd_error *err)
{
    rd_db_result *r = NULL;
    const char *file = NULL, *pos = NULL;
    rd_status st = rd_db_query(db, "SHOW STATUS LIKE 'binlog_snapshot_%'", 60, 0, &r, err);
    if (st != RD_OK)
        return st;
    for (size_t i = 0; r->ncols >= 2 && i < r->nrows; i++) {
        const char *k = rd_db_cell(r, i, 0), *v = rd_db_cell(r, i, 1);
        if (k && strcasecmp(k, "binlog_snapshot_file") == 0)
            file = v;
        else if (k && strcasecmp(k, "binlog_snapshot_position") == 0)
            pos = v;
    }
    if (file && *file && pos)
        *out = rd_asprintf("binlog:%s:%s", file, pos);
    rd_db_result_free(r);
    return RD_OK;
}

rd_status rd_backup_mariadb(const rd_backup_opts *o, rd_error *err)
{
    rd_status st = RD_OK;
    rd_db *db = NULL;
    rd_manifest *m = NULL;
    rd_proc *proc = NULL;
    rd_bk_sink *sink = NULL;
    rd_bk_pump pump = {0};
    rd_bk_mdsn d = {0};
    scan sc;
    char *nontx = NULL, *pwenv = NULL, *snapshot = NULL;
    char *partial = rd_asprintf("%s.partial", o->out);
    int s3 = rd_s3_is_url(o->out); /* streamed into a multipart upload of the key itself */
    char *a_host = NULL, *a_port = NULL, *a_user = NULL, *a_sock = NULL;
    int locked = 0, in_tx = 0;
    char sha[RD_SHA256_HEX_LEN + 1] = "";
    int64_t bytes = -1;

    const char **dargv = NULL;
    int cluster = o->ndatabases > 0;
    memset(&sc, 0, sizeof sc);
    rd_strbuf_init(&sc.name, 4096);
    rd_strbuf_init(&sc.db, 4096);
    rd_strbuf_init(&sc.key, 8192);
    rd_strbuf_init(&sc.sp.name, 256);
    sc.cur = -1;
    int sections = cluster && !o->no_sections;
    if (!partial)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_bk_parse_mariadb_dsn(o->dsn, &d, err)) != RD_OK)
        goto out;
    if ((st = rd_db_connect(RD_ENGINE_MARIADB, o->dsn, NULL, &db, err)) != RD_OK ||
        (st = rd_db_pin_session(db, err)) != RD_OK)
        goto out;
    if (!cluster && !d.database && (st = rd_db_current_database(db, &d.database, err)) != RD_OK)
        goto out;
    if (!cluster && (!d.database || !*d.database)) {
        st = RD_ERR(err, RD_ERR_USAGE, "no database selected: name one in the dsn");
        goto out;
    }
    if ((st = rd_db_exec(db, "FLUSH TABLES WITH READ LOCK", 600, NULL, err)) != RD_OK) {
        rd_error_prefix(err, "cannot lock tables (FLUSH TABLES WITH READ LOCK needs the RELOAD "
                             "privilege): ");
        goto out;
    }
    locked = 1;
    if ((st = rd_db_scalar(db,
                           cluster ? "SELECT count(*) FROM information_schema.TABLES WHERE "
                                     "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
                                     "'performance_schema', 'sys') AND TABLE_TYPE = 'BASE TABLE' "
                                     "AND COALESCE(ENGINE, '') <> 'InnoDB'"
                                   : "SELECT count(*) FROM information_schema.TABLES WHERE "
                                     "TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND "
                                     "COALESCE(ENGINE, '') <> 'InnoDB'",
                           60, &nontx, NULL, err)) != RD_OK)
        goto out;
    int hold_lock = nontx && strcmp(nontx, "0") != 0;
    if (hold_lock)
        rd_log_info("%s non-transactional table(s): holding the read lock until the dump ends",
                    nontx);
    if ((st = rd_db_exec(db, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", 60, NULL,
                         err)) != RD_OK ||
        (st = rd_db_exec(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", 60, NULL,
                         err)) != RD_OK)
        goto out;
    in_tx = 1;
    if ((st = binlog_position(db, &snapshot, err)) != RD_OK)
        goto out;
    /* metadata under the lock: AUTO_INCREMENT counters and sequences are not
     * transactional; mariadb-dump reads them later, so never behind these */
    rd_manifest_opts mo = {0};
    mo.freshness_query = o->freshness_query;
    mo.skip_rows = 1;
    st = cluster ? rd_manifest_capture_databases(db, &mo, o->databases, o->ndatabases, &m, err)
                 : rd_manifest_capture(db, &mo, &m, err);
    if (st != RD_OK) {
        if (st != RD_ERR_USAGE)
            rd_error_prefix(err, "capturing the manifest: ");
        goto out;
    }

    size_t cap = 24 + (cluster ? m->ndatabases : 0);
    const char **argv = dargv = calloc(cap, sizeof *argv);
    size_t n = 0;
    if (!argv) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    push(argv, &n, cap, "mariadb-dump");
    push(argv, &n, cap, "--single-transaction");
    push(argv, &n, cap, "--routines");
    push(argv, &n, cap, "--triggers");
    push(argv, &n, cap, "--hex-blob");
    push(argv, &n, cap, "--default-character-set=utf8mb4");
    if (d.host && (a_host = rd_asprintf("--host=%s", d.host)))
        push(argv, &n, cap, a_host);
    if (d.port && (a_port = rd_asprintf("--port=%s", d.port)))
        push(argv, &n, cap, a_port);
    if (d.user && (a_user = rd_asprintf("--user=%s", d.user)))
        push(argv, &n, cap, a_user);
    if (d.socket && (a_sock = rd_asprintf("--socket=%s", d.socket)))
        push(argv, &n, cap, a_sock);
    if (!cluster) {
        push(argv, &n, cap, "--");
        push(argv, &n, cap, d.database);
    } else if (o->ndatabases == 1 && strcmp(o->databases[0], "*") == 0) {
        push(argv, &n, cap, "--all-databases");
    } else {
        push(argv, &n, cap, "--databases");
        push(argv, &n, cap, "--");
        for (size_t i = 0; i < m->ndatabases; i++)
            push(argv, &n, cap, m->databases[i]->database);
    }
    /* a password from the dsn goes to the child's environment only */
    const char *env[2] = {NULL, NULL};
    if (d.password) {
        pwenv = rd_asprintf("MYSQL_PWD=%s", d.password);
        env[0] = pwenv;
    }
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.env = env;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    if ((st = rd_bk_sink_open(s3 ? o->out : partial, o->wrap, &sink, err)) != RD_OK ||
        (st = rd_proc_start(&spec, &proc, err)) != RD_OK ||
        (sections && (st = rd_bk_sink_sections_on(sink, err)) != RD_OK) ||
        (st = rd_bk_pump_start_w(&pump, rd_proc_stdout_fd(proc), sink, rd_bk_mscan_chunk,
                                 sections ? rd_bk_msplit_write : NULL, &sc, err)) != RD_OK)
        goto out;
    if (!hold_lock) {
        if (!rd_bk_pump_wait_started(&pump, START_TIMEOUT)) {
            int aborted = rd_abort_requested();
            if (!pump.done) {
                st = aborted ? RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", aborted)
                             : RD_ERR(err, RD_ERR_TIMEOUT,
                                      "mariadb-dump did not start within %.0fs", START_TIMEOUT);
                goto out;
            }
        }
        if ((st = rd_db_exec(db, "UNLOCK TABLES", 60, NULL, err)) != RD_OK)
            goto out;
        locked = 0;
    }
    if (cluster) {
        /* each database's rows in our snapshot, then wait for the dump */
        rd_status cst = RD_OK;
        rd_error cerr = {0};
        rd_strbuf use;
        rd_strbuf_init(&use, 0);
        for (size_t i = 0; cst == RD_OK && i < m->ndatabases; i++) {
            rd_strbuf_reset(&use);
            cst = rd_strbuf_append(&use, "USE ", &cerr);
            if (cst == RD_OK)
                cst = rd_db_quote_ident(db, m->databases[i]->database, &use, &cerr);
            if (cst == RD_OK)
                cst = rd_db_exec(db, use.data, 60, NULL, &cerr);
            if (cst == RD_OK)
                cst = rd_manifest_count_rows(db, m->databases[i], &cerr);
            if (cst == RD_OK && o->with_checksums)
                cst = rd_manifest_capture_checksums(db, m->databases[i], &cerr);
        }
        rd_strbuf_free(&use);
        st = rd_bk_count_while_dumping(db, m, 0, proc, "mariadb-dump", &pump, err);
        if (st == RD_OK && cst != RD_OK) {
            *err = cerr;
            st = rd_error_prefix(err, "capturing the manifest: ");
        }
        if (st != RD_OK)
            goto out;
    } else if ((st = rd_bk_count_while_dumping(db, m, o->with_checksums, proc, "mariadb-dump",
                                               &pump, err)) != RD_OK)
        goto out;
    if ((st = rd_bk_mverify_counts(&sc, m, err)) != RD_OK)
        goto out;
    m->snapshot = snapshot;
    snapshot = NULL;
    if ((st = rd_db_exec(db, "COMMIT", 60, NULL, err)) != RD_OK)
        goto out;
    in_tx = 0;
    if (locked && (st = rd_db_exec(db, "UNLOCK TABLES", 60, NULL, err)) != RD_OK)
        goto out;
    locked = 0;
    if ((st = rd_bk_sink_finish(sink, sha, &bytes, err)) != RD_OK)
        goto out;
    if (!s3 && rename(partial, o->out) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", partial, o->out);
        goto out;
    }
    if (sections && (!sc.sp.owner || !sc.sp.pending)) {
        /* the footer was not found after the last section: a drill could
         * not read the trailer on its own */
        rd_log_warn("backup: mariadb-dump's footer (%s) was not found after the last database "
                    "section: the manifest lists no sections (drills read the whole dump)",
                    SEC_TZ);
        sections = 0;
    }
    st = rd_bk_finish_manifest(m, o, sha, bytes, sections ? sink : NULL, err);
out:
    if (proc) {
        rd_proc_stop(proc);
        rd_bk_pump_join(&pump, NULL);
    }
    if (locked)
        rd_db_exec(db, "UNLOCK TABLES", 10, NULL, NULL);
    if (in_tx)
        rd_db_exec(db, "ROLLBACK", 10, NULL, NULL);
    rd_proc_free(proc);
    rd_bk_sink_free(sink);
    if (st != RD_OK && !s3)
        unlink(partial);
    rd_db_free(db);
    rd_manifest_free(m);
    rd_bk_mdsn_free(&d);
    rd_bk_mscan_free(&sc);
    free(nontx);
    free(snapshot);
    free(a_host);
    free(a_port);
    free(a_user);
    free(a_sock);
    free(pwenv);
    free(partial);
    free(dargv);
    return st;
}
