/* heartbeat.c: `restoredrill heartbeat`: a writer that proves how fresh the
 * data of a backup is. The freshness check (and the manifest's "heartbeat")
 * read max(ts) of this table from a restore.
 *
 * The table (created when missing; default name restoredrill_heartbeat):
 *   PostgreSQL: writer_id text PRIMARY KEY, ts timestamp with time zone NOT NULL
 *   MariaDB:    writer_id VARCHAR(255) PRIMARY KEY, ts TIMESTAMP(6) NOT NULL (InnoDB)
 * One row per writer (hostname:pid unless --writer), upserted every interval
 * with the server's clock: now() on PostgreSQL, UTC_TIMESTAMP(6) on MariaDB
 * (the session runs in UTC). Stops after --duration, or on SIGINT/SIGTERM
 * with a clean exit. A failed write is logged and retried at the next tick
 * (reconnecting), so a server restart does not end the writer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

/* CREATE TABLE IF NOT EXISTS and the upsert statement. */
static rd_status prepare(rd_db *db, const rd_heartbeat_opts *o, char **upsert, rd_error *err)
{
    rd_strbuf t, sql;
    rd_strbuf_init(&t, 0);
    rd_strbuf_init(&sql, 0);
    int pg = rd_db_engine(db) == RD_ENGINE_PG;
    rd_status st = rd_db_quote_name(db, o->table, &t, err);
    if (st == RD_OK)
        st = rd_strbuf_appendf(&sql, err, "CREATE TABLE IF NOT EXISTS %s %s", t.data,
                               pg ? "(writer_id text PRIMARY KEY, ts timestamp with time zone "
                                    "NOT NULL)"
                                  : "(writer_id VARCHAR(255) PRIMARY KEY, ts TIMESTAMP(6) NOT "
                                    "NULL DEFAULT CURRENT_TIMESTAMP(6)) ENGINE=InnoDB");
    if (st == RD_OK)
        st = rd_db_exec(db, sql.data, 60, NULL, err);
    rd_strbuf_reset(&sql);
    if (st == RD_OK)
        st = rd_strbuf_appendf(&sql, err, "INSERT INTO %s (writer_id, ts) VALUES (", t.data);
    if (st == RD_OK)
        st = rd_db_quote_literal(db, o->writer, &sql, err);
    if (st == RD_OK)
        st = rd_strbuf_append(&sql,
                              pg ? ", now()) ON CONFLICT (writer_id) DO UPDATE SET ts = "
                                   "excluded.ts"
                                 : ", UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE ts = VALUES(ts)",
                              err);
    if (st == RD_OK) {
        *upsert = rd_strbuf_detach(&sql);
        if (!*upsert)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    rd_strbuf_free(&t);
    rd_strbuf_free(&sql);
    return st;
}

static rd_status connect_prepared(const rd_heartbeat_opts *o, rd_db **db, char **upsert,
                                  rd_error *err)
{
    rd_status st = rd_db_connect(o->engine, o->dsn, NULL, db, err);
    if (st == RD_OK)
        st = rd_db_pin_session(*db, err);
    if (st == RD_OK)
        st = prepare(*db, o, upsert, err);
    if (st != RD_OK) {
        rd_db_free(*db);
        *db = NULL;
    }
    return st;
}

/* Sleep until `until` (monotonic) in short slices; 1 when a signal arrived. */
static int sleep_until(double until)
{
    for (;;) {
        if (rd_abort_requested())
            return 1;
        double left = until - rd_mono_now();
        if (left <= 0)
            return 0;
        if (left > 0.05)
            left = 0.05;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

rd_status rd_heartbeat_run(const rd_heartbeat_opts *o, rd_error *err)
{
    rd_db *db = NULL;
    char *upsert = NULL;
    rd_status st = connect_prepared(o, &db, &upsert, err);
    if (st != RD_OK)
        return st;
    double start = rd_mono_now(), next = start;
    unsigned long writes = 0, failures = 0;
    rd_log_info("heartbeat: writer %s, table %s, every %gs", o->writer, o->table, o->interval);
    for (;;) {
        if (o->duration > 0 && rd_mono_now() - start >= o->duration)
            break;
        rd_error e = {0};
        if (!db && connect_prepared(o, &db, &upsert, &e) != RD_OK) {
            failures++;
            rd_log_warn("heartbeat: reconnecting failed: %s", e.msg);
        } else if (db &&
                   rd_db_exec(db, upsert, o->interval > 5 ? o->interval : 5, NULL, &e) != RD_OK) {
            failures++;
            rd_log_warn("heartbeat: write failed: %s", e.msg);
            rd_db_free(db);
            db = NULL;
            free(upsert);
            upsert = NULL;
        } else if (db) {
            writes++;
        }
        next += o->interval;
        double until = next;
        if (o->duration > 0 && until > start + o->duration)
            until = start + o->duration;
        if (sleep_until(until))
            break;
    }
    int sig = rd_abort_requested();
    rd_log_info("heartbeat: %lu writes, %lu failures%s", writes, failures,
                sig ? ", stopped by a signal" : "");
    rd_db_free(db);
    free(upsert);
    (void)err;
    return RD_OK;
}
