/* db.h: the engine-neutral database API. PostgreSQL (libpq) and MariaDB
 * (Connector/C) sit behind it; nothing else includes their headers.
 *
 * Every query takes a timeout in seconds (0: the connection's default, which
 * is 3600): at the deadline the query is cancelled (PQcancel / KILL QUERY
 * from a second connection) and RD_ERR_TIMEOUT is returned; the connection
 * stays usable after a timeout or an SQL error. Values cross this API as
 * text in the engine's text output format (NULL is a NULL pointer). */
#ifndef RESTOREDRILL_DB_H
#define RESTOREDRILL_DB_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/strbuf.h"

typedef struct rd_db rd_db; /* opaque */

typedef struct rd_db_opts {
    /* env var with the password; NULL: PGPASSWORD / MYSQL_PWD / client files */
    const char *password_env;
    const char *password;   /* explicit (scratch instances we created); wins over password_env */
    double connect_timeout; /* seconds; 0: 10 */
    double default_timeout; /* per query; 0: 3600 */
    const char *app_name;   /* application_name / program_name; NULL: "restoredrill" */
} rd_db_opts;

/* The DSN with secrets removed, for messages, without connecting (heap):
 * PostgreSQL as key=value conninfo ("host=/tmp/x port=5432 dbname=d"),
 * MariaDB as "mariadb://user@host:port/db?socket=/p". RD_ERR_CONFIG when the
 * DSN does not parse (the message never echoes a password). */
rd_status rd_db_dsn_display(rd_engine engine, const char *dsn, char **out, rd_error *err);
/* The DSN of another database on the same server (heap, secrets kept: never
 * log it): PostgreSQL as key=value conninfo with every key of dsn and
 * dbname=database; MariaDB as "host='h' port=N user='u' database='d'
 * socket='s'" pairs (the keys dsn has, each value quoted with ' and \
 * escaped; a MariaDB DSN holds no password). RD_ERR_CONFIG when dsn does not
 * parse. */
rd_status rd_db_dsn_with_database(rd_engine engine, const char *dsn, const char *database,
                                  char **out, rd_error *err);

/* Connect. dsn: PostgreSQL conninfo or URI; MariaDB "mariadb://user@host:port/db?socket=/p"
 * (mysql:// too) or "host=... port=... user=... database=... socket=..." pairs.
 * Errors never contain the password: RD_ERR_CONNECT "cannot connect to
 * postgres at /tmp/x:5432: password authentication failed for user \"u\"". */
rd_status rd_db_connect(rd_engine engine, const char *dsn, const rd_db_opts *opts, rd_db **out,
                        rd_error *err);
void rd_db_free(rd_db *db); /* closes; NULL is a no-op */
rd_engine rd_db_engine(const rd_db *db);
/* DSN with the password removed, for messages. Valid until rd_db_free. */
const char *rd_db_display(const rd_db *db);

/* Run a statement (or several separated by ';' for MariaDB multi-statements),
 * discarding rows. *affected (may be NULL) gets the affected row count. */
rd_status rd_db_exec(rd_db *db, const char *sql, double timeout, int64_t *affected, rd_error *err);

/* First column of the first row as a heap string; *out = NULL for SQL NULL
 * or no rows (then *found = 0 when found is non-NULL). */
rd_status rd_db_scalar(rd_db *db, const char *sql, double timeout, char **out, int *found,
                       rd_error *err);

/* A small materialised result for metadata queries (refuses more than
 * max_rows rows with RD_ERR_NOMEM; 0 means 1,000,000). */
typedef struct rd_db_result {
    size_t nrows, ncols;
    char **colnames; /* ncols */
    char **cells;    /* nrows * ncols, row-major; NULL for SQL NULL */
    size_t *lens;    /* byte lengths of cells */
} rd_db_result;
rd_status rd_db_query(rd_db *db, const char *sql, double timeout, size_t max_rows,
                      rd_db_result **out, rd_error *err);
const char *rd_db_cell(const rd_db_result *r, size_t row, size_t col);
void rd_db_result_free(rd_db_result *r);

/* Stream rows with flat memory (libpq single-row mode / mysql_use_result).
 * vals[i] is NULL for SQL NULL; lens[i] are byte lengths; both valid only
 * during the call. Return non-zero from cb to stop early (RD_OK is still
 * returned and the rest is discarded). */
typedef int (*rd_db_row_cb)(void *ud, size_t ncols, const char *const *vals, const size_t *lens);
rd_status rd_db_stream(rd_db *db, const char *sql, double timeout, rd_db_row_cb cb, void *ud,
                       rd_error *err);

/* Quote an identifier ("a""b" / `a``b`) or a literal, appending to out.
 * A dotted name is NOT split: quote each part yourself (rd_db_quote_table does). */
rd_status rd_db_quote_ident(rd_db *db, const char *ident, rd_strbuf *out, rd_error *err);
rd_status rd_db_quote_literal(rd_db *db, const char *value, rd_strbuf *out, rd_error *err);
/* schema.table quoted as two identifiers (schema may be NULL or ""). */
rd_status rd_db_quote_table(rd_db *db, const char *schema, const char *table, rd_strbuf *out,
                            rd_error *err);

/* A name as users write it in options ("restoredrill_heartbeat",
 * "ops.heartbeat"): on PostgreSQL split at the first dot into schema and
 * table; on MariaDB quoted whole as one identifier. */
rd_status rd_db_quote_name(rd_db *db, const char *name, rd_strbuf *out, rd_error *err);

/* User tables (PostgreSQL: every schema but pg_catalog, information_schema,
 * pg_toast*; MariaDB: the current database), sorted by schema then name. */
typedef struct rd_db_table {
    char *schema; /* PostgreSQL schema / MariaDB database */
    char *name;
    char **pk; /* primary key columns in key order, NULL-terminated; pk[0] NULL: none */
    size_t npk;
} rd_db_table;
typedef struct rd_db_tables {
    rd_db_table *items;
    size_t n;
} rd_db_tables;
rd_status rd_db_list_tables(rd_db *db, rd_db_tables *out, rd_error *err);
void rd_db_tables_free(rd_db_tables *t);

/* "15.18" / "10.11.6-MariaDB-0+deb12u1" (heap). */
rd_status rd_db_server_version(rd_db *db, char **out, rd_error *err);
/* Major version number: 15 / 10 (MariaDB major.minor as 1011 would be
 * ambiguous, so MariaDB returns major*100+minor: 1011). */
rd_status rd_db_server_major(rd_db *db, int *out, rd_error *err);
/* A string that is equal for two connections to the same server instance:
 * "pg:<system_identifier>" / "mariadb:<server_uuid or hostname:port>" (heap); a
 * MariaDB without networking (@@port 0) gives "mariadb:<hostname>:<socket path>". */
rd_status rd_db_server_identity(rd_db *db, char **out, rd_error *err);
/* Name of the current database (heap). */
rd_status rd_db_current_database(rd_db *db, char **out, rd_error *err);

/* Start a read-only transaction (references are only read). For PostgreSQL
 * REPEATABLE READ READ ONLY; MariaDB START TRANSACTION READ ONLY, WITH
 * CONSISTENT SNAPSHOT. */
rd_status rd_db_begin_readonly(rd_db *db, rd_error *err);
rd_status rd_db_commit(rd_db *db, rd_error *err);

/* Set the session settings that make text output canonical: PostgreSQL
 * TimeZone=UTC, DateStyle=ISO, extra_float_digits=3, bytea_output=hex,
 * IntervalStyle=iso_8601; MariaDB time_zone='+00:00', a fixed sql_mode
 * without ANSI_QUOTES / PAD_CHAR_TO_FULL_LENGTH, names utf8mb4. */
rd_status rd_db_pin_session(rd_db *db, rd_error *err);

#endif
