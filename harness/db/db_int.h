/* db_int.h: the driver interface behind db.h, shared by db.c (dispatch and
 * engine-neutral helpers), registry.c, pg.c (libpq) and mariadb.c
 * (Connector/C). Nothing outside harness/db includes this file (unit tests
 * of the DSN parser do). */
#ifndef RESTOREDRILL_DB_INT_H
#define RESTOREDRILL_DB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/db.h"

/* Seconds a cancelled query (PQcancel / KILL QUERY) may take to wind down
 * before the connection is given up as unusable. */
#define RD_DB_CANCEL_GRACE 10.0
#define RD_DB_DEFAULT_TIMEOUT 3600.0
#define RD_DB_DEFAULT_CONNECT_TIMEOUT 10.0

/* Where the rows of a statement go. header is called once, before the first
 * row of the first row-returning result (also when it has no rows); row for
 * each row of that result only. Either may be NULL (rows discarded). A
 * non-zero return stops the statement early: the driver cancels it, drains
 * the connection and returns RD_OK. affected accumulates the affected (or
 * returned) row counts of all statements. */
typedef struct rd_db_sink {
    int (*header)(void *ud, size_t ncols, const char *const *names);
    rd_db_row_cb row;
    void *ud;
    int64_t affected;
} rd_db_sink;

typedef struct rd_db_driver {
    rd_engine engine;
    const char *name; /* "postgres" / "mariadb", used in messages */
    /* required */
    /* Connect; *conn is the driver's private handle, *display the DSN
     * without secrets (heap). RD_ERR_CONNECT on failure, no password in it. */
    rd_status (*connect)(const char *dsn, const rd_db_opts *opts, void **conn, char **display,
                         rd_error *err);
    void (*close)(void *conn);
    /* Run sql with the deadline now + timeout (timeout > 0), feeding sink.
     * On timeout: cancel, drain, RD_ERR_TIMEOUT. On an SQL error: drain,
     * RD_ERR_DB. The connection stays usable after both. */
    rd_status (*run)(void *conn, const char *sql, double timeout, rd_db_sink *sink, rd_error *err);
    rd_status (*quote_ident)(void *conn, const char *ident, rd_strbuf *out, rd_error *err);
    rd_status (*quote_literal)(void *conn, const char *value, rd_strbuf *out, rd_error *err);
    /* Server identity without the engine prefix (heap). */
    rd_status (*identity)(rd_db *db, char **out, rd_error *err);
    /* The DSN without secrets, for messages (heap). */
    rd_status (*display)(const char *dsn, char **out, rd_error *err);
    /* optional: the DSN with another database, secrets kept (NULL: not
     * built for the engine) */
    rd_status (*with_database)(const char *dsn, const char *database, char **out, rd_error *err);
    /* SQL texts. list_tables returns rows (schema, table, pk column or NULL)
     * ordered by schema, table, key position. */
    const char *sql_list_tables;
    const char *sql_version;
    const char *sql_current_database;
    const char *sql_begin_readonly;
    const char *sql_pin_session;
} rd_db_driver;

struct rd_db {
    const rd_db_driver *drv;
    void *conn;
    char *display;
    double default_timeout;
};

extern const rd_db_driver rd_db_pg_driver;      /* pg.c */
extern const rd_db_driver rd_db_mariadb_driver; /* mariadb.c */
/* Every driver (registry.c), NULL-terminated. */
extern const rd_db_driver *const rd_db_drivers[];

/* Append v between single quotes, ' and \ escaped with \ (a conninfo or
 * key=value DSN value). */
rd_status rd_db_append_quoted(rd_strbuf *sb, const char *v, rd_error *err);
/* Resolve the password: opts->password, else the variable opts->password_env
 * (RD_ERR_CONFIG "password variable X is not set" when unset), else
 * fallback_env (may be NULL), else NULL (*out borrowed, not copied). */
rd_status rd_db_resolve_password(const rd_db_opts *opts, const char *fallback_env, const char **out,
                                 rd_error *err);
/* Copy the first line of msg into buf, masking every occurrence of secret
 * (when non-empty) as "***" and dropping trailing blanks. Returns buf. */
char *rd_db_clean_message(const char *msg, const char *secret, char *buf, size_t bufsz);

/* A parsed MariaDB DSN (all strings heap or NULL). */
typedef struct rd_db_my_dsn {
    char *host;
    unsigned port; /* 0: default */
    char *user;
    char *database;
    char *socket;
} rd_db_my_dsn;

/* Parse "mariadb://user@host:port/db?socket=/p" (mysql:// too, %XX decoded)
 * or "host=.. port=.. user=.. database=.. socket=.." (values may be quoted
 * 'like this' with \' and \\ escapes). A password in the DSN is refused with
 * RD_ERR_CONFIG, without echoing it. */
rd_status rd_db_my_dsn_parse(const char *dsn, rd_db_my_dsn *out, rd_error *err);
void rd_db_my_dsn_free(rd_db_my_dsn *d);
/* "mariadb://user@host:port/db?socket=/p" with only the parts present (heap,
 * NULL on allocation failure). */
char *rd_db_my_dsn_display(const rd_db_my_dsn *d);
/* Parse and display a MariaDB DSN in one step (the driver's display). */
rd_status rd_db_my_display(const char *dsn, char **out, rd_error *err);
/* The MariaDB DSN as key=value pairs (every value quoted), database replaced. */
rd_status rd_db_my_with_database(const char *dsn, const char *database, char **out, rd_error *err);

/* PostgreSQL DSN without secrets as key=value conninfo (heap). */
rd_status rd_db_pg_display(const char *dsn, char **out, rd_error *err);
/* The PostgreSQL DSN as key=value conninfo, secrets kept, dbname = database. */
rd_status rd_db_pg_with_database(const char *dsn, const char *database, char **out, rd_error *err);

#endif
