/* pg.c: the PostgreSQL driver, the only file that includes libpq-fe.h.
 *
 * Queries are sent asynchronously (PQsendQuery), waited on with poll()
 * against a deadline, cancelled with PQcancel when it passes, and every
 * PGresult is drained until PQgetResult returns NULL, so the connection stays
 * usable after a timeout or an SQL error. Rows stream in single-row mode. */
#include "db_int.h"

#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"

typedef struct pg_conn {
    PGconn *conn;
    int broken; /* lost, or a cancelled query never ended: refuse further use */
} pg_conn;

/* one statement in flight */
typedef struct pg_run {
    pg_conn *pc;
    double deadline;
    double timeout;
    int cancelled; /* we sent PQcancel (timeout or early stop) */
    int timed_out;
    int stopped; /* the sink asked to stop */
} pg_run;

static const char *first_line(const char *msg, char *buf, size_t bufsz)
{
    return rd_db_clean_message(msg, NULL, buf, bufsz);
}

/* "connection to server on socket \"/x/.s.PGSQL.5432\" failed: FATAL:  msg"
 * -> "msg" */
static const char *strip_conn_prefix(const char *msg)
{
    if (strncmp(msg, "connection to server", 20) == 0) {
        const char *f = strstr(msg, " failed: ");
        const char *nl = strchr(msg, '\n');
        if (f && (!nl || f < nl))
            msg = f + 9;
    }
    if (strncmp(msg, "FATAL:  ", 8) == 0 || strncmp(msg, "ERROR:  ", 8) == 0)
        msg += 8;
    return msg;
}

/* libpq's hint: the first tab-indented line after the message ("\tIs the
 * server running on that host and accepting TCP/IP connections?"), cleaned
 * and starting lowercase, into buf; "" when there is none. */
static const char *conn_hint(const char *msg, const char *password, char *buf, size_t bufsz)
{
    buf[0] = '\0';
    for (const char *nl = strchr(msg, '\n'); nl; nl = strchr(nl + 1, '\n')) {
        if (nl[1] != '\t')
            continue;
        rd_db_clean_message(nl + 2, password, buf, bufsz);
        if (buf[0] >= 'A' && buf[0] <= 'Z')
            buf[0] = (char)(buf[0] - 'A' + 'a');
        break;
    }
    return buf;
}

static rd_status connect_error(PGconn *c, const char *password, const char *why, rd_error *err)
{
    char buf[RD_ERROR_MSG_MAX], hint[256];
    const char *host = PQhost(c);
    const char *port = PQport(c);
    hint[0] = '\0';
    if (!why) {
        const char *msg = strip_conn_prefix(PQerrorMessage(c));
        why = rd_db_clean_message(msg, password, buf, sizeof buf);
        conn_hint(msg, password, hint, sizeof hint);
    }
    if (hint[0])
        return RD_ERR(err, RD_ERR_CONNECT, "cannot connect to postgres at %s:%s: %s (%s)",
                      host && host[0] ? host : "localhost", port && port[0] ? port : "5432", why,
                      hint);
    return RD_ERR(err, RD_ERR_CONNECT, "cannot connect to postgres at %s:%s: %s",
                  host && host[0] ? host : "localhost", port && port[0] ? port : "5432", why);
}

/* Wait for fd to become ready for ev until deadline. 1 ready, 0 timeout,
 * -1 error (errno). */
static int wait_fd(int fd, short ev, double deadline)
{
    for (;;) {
        double left = deadline - rd_mono_now();
        if (left <= 0)
            return 0;
        double ms = ceil(left * 1000.0);
        struct pollfd p = {.fd = fd, .events = ev};
        int rc = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

static rd_status pg_connect(const char *dsn, const rd_db_opts *opts, void **conn, char **display,
                            rd_error *err)
{
    rd_status st = RD_OK;
    const char *password = NULL;
    const char *keys[8], *vals[8];
    char tmo[32];
    int n = 0;
    PGconn *c = NULL;
    pg_conn *pc = NULL;
    char *disp = NULL;
    double timeout =
        opts && opts->connect_timeout > 0 ? opts->connect_timeout : RD_DB_DEFAULT_CONNECT_TIMEOUT;

    st = rd_db_pg_display(dsn, &disp, err);
    if (st != RD_OK)
        goto out;
    st = rd_db_resolve_password(opts, NULL, &password, err);
    if (st != RD_OK)
        goto out;
    snprintf(tmo, sizeof tmo, "%d", (int)ceil(timeout < 2 ? 2 : timeout));
    keys[n] = "dbname", vals[n++] = dsn; /* expanded; later keys override it */
    keys[n] = "fallback_application_name";
    vals[n++] = opts && opts->app_name ? opts->app_name : "restoredrill";
    keys[n] = "connect_timeout", vals[n++] = tmo;
    keys[n] = "client_encoding", vals[n++] = "UTF8";
    if (password)
        keys[n] = "password", vals[n++] = password;
    keys[n] = NULL, vals[n] = NULL;

    c = PQconnectStartParams(keys, vals, 1);
    if (!c) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    double deadline = rd_mono_now() + timeout;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD && ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
        int rc = wait_fd(PQsocket(c), ps == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
        if (rc == 0) {
            char why[64];
            snprintf(why, sizeof why, "connection timed out after %.1fs", timeout);
            st = connect_error(c, password, why, err);
            goto out;
        }
        if (rc < 0) {
            st = connect_error(c, password, strerror(errno), err);
            goto out;
        }
        ps = PQconnectPoll(c);
    }
    if (PQstatus(c) != CONNECTION_OK) {
        st = connect_error(c, password, NULL, err);
        goto out;
    }
    pc = calloc(1, sizeof *pc);
    if (!pc) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    pc->conn = c;
    c = NULL;
    *conn = pc;
    *display = disp;
    disp = NULL;
out:
    if (c)
        PQfinish(c);
    free(disp);
    return st;
}

static void pg_close(void *conn)
{
    pg_conn *pc = conn;
    if (!pc)
        return;
    PQfinish(pc->conn);
    free(pc);
}

static void send_cancel(pg_run *r)
{
    char buf[256];
    PGcancel *cn = PQgetCancel(r->pc->conn);
    if (cn) {
        PQcancel(cn, buf, sizeof buf); /* failure shows as the grace period passing */
        PQfreeCancel(cn);
    }
    r->cancelled = 1;
    r->deadline = rd_mono_now() + RD_DB_CANCEL_GRACE;
}

static rd_status lost(pg_run *r, rd_error *err)
{
    char buf[512];
    r->pc->broken = 1;
    return RD_ERR(err, RD_ERR_DB, "connection to postgres lost: %s",
                  first_line(PQerrorMessage(r->pc->conn), buf, sizeof buf));
}

/* Consume input until a result can be fetched without blocking. Cancels at
 * the deadline; gives the connection up when the cancel has no effect. */
static rd_status wait_result(pg_run *r, rd_error *err)
{
    PGconn *c = r->pc->conn;
    while (PQisBusy(c)) {
        if (rd_mono_now() >= r->deadline) {
            if (!r->cancelled) {
                r->timed_out = 1;
                send_cancel(r);
                continue;
            }
            r->pc->broken = 1;
            return RD_ERR(err, RD_ERR_TIMEOUT,
                          "query not cancelled within %.0fs after a %.1fs timeout: connection "
                          "given up",
                          RD_DB_CANCEL_GRACE, r->timeout);
        }
        int rc = wait_fd(PQsocket(c), POLLIN, r->deadline);
        if (rc < 0) {
            r->pc->broken = 1;
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot wait for postgres");
        }
        if (rc > 0 && !PQconsumeInput(c))
            return lost(r, err);
    }
    return RD_OK;
}

/* Read and discard COPY TO STDOUT data. */
static rd_status drain_copy_out(pg_run *r, rd_error *err)
{
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(r->pc->conn, &buf, 1);
        if (buf)
            PQfreemem(buf);
        if (n > 0)
            continue;
        if (n < 0)
            return RD_OK; /* done (-1) or error (-2, shown in the next result) */
        if (rd_mono_now() >= r->deadline) {
            if (r->cancelled) {
                r->pc->broken = 1;
                return RD_ERR(err, RD_ERR_TIMEOUT, "copy not cancelled: connection given up");
            }
            r->timed_out = 1;
            send_cancel(r);
        }
        int rc = wait_fd(PQsocket(r->pc->conn), POLLIN, r->deadline);
        if (rc < 0) {
            r->pc->broken = 1;
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot wait for postgres");
        }
        if (rc > 0 && !PQconsumeInput(r->pc->conn))
            return lost(r, err);
    }
}

static rd_status result_error(const PGresult *res, rd_error *err)
{
    char buf[RD_ERROR_MSG_MAX - 32];
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    first_line(primary ? primary : strip_conn_prefix(PQresultErrorMessage(res)), buf, sizeof buf);
    if (state)
        return RD_ERR(err, RD_ERR_DB, "%s (sqlstate %s)", buf, state);
    return RD_ERR(err, RD_ERR_DB, "%s", buf);
}

typedef struct rowbuf {
    const char **vals;
    size_t *lens;
    size_t cap;
} rowbuf;

/* Deliver the rows of res to the sink; returns RD_ERR_NOMEM only. */
static rd_status deliver(pg_run *r, rd_db_sink *sink, const PGresult *res, int header, rowbuf *rb,
                         rd_error *err)
{
    size_t ncols = (size_t)PQnfields(res);
    int nrows = PQntuples(res);
    if (ncols > rb->cap) {
        const char **v = realloc(rb->vals, ncols * sizeof *v);
        if (!v)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        rb->vals = v;
        size_t *l = realloc(rb->lens, ncols * sizeof *l);
        if (!l)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        rb->lens = l;
        rb->cap = ncols;
    }
    if (header && sink->header) {
        for (size_t i = 0; i < ncols; i++)
            rb->vals[i] = PQfname(res, (int)i);
        if (sink->header(sink->ud, ncols, rb->vals))
            r->stopped = 1;
    }
    for (int row = 0; row < nrows && !r->stopped && sink->row; row++) {
        for (size_t i = 0; i < ncols; i++) {
            int isnull = PQgetisnull(res, row, (int)i);
            rb->vals[i] = isnull ? NULL : PQgetvalue(res, row, (int)i);
            rb->lens[i] = isnull ? 0 : (size_t)PQgetlength(res, row, (int)i);
        }
        if (sink->row(sink->ud, ncols, rb->vals, rb->lens))
            r->stopped = 1;
    }
    return RD_OK;
}

static rd_status pg_run_sql(void *conn, const char *sql, double timeout, rd_db_sink *sink,
                            rd_error *err)
{
    pg_conn *pc = conn;
    pg_run r = {.pc = pc, .timeout = timeout};
    rd_status st = RD_OK; /* the first failure, reported with e */
    rd_error e = {0};
    rowbuf rb = {0};
    int sets = 0, in_set = 0;
    char buf[512];

    if (pc->broken)
        return RD_ERR(err, RD_ERR_DB, "postgres connection unusable after an earlier failure");
    r.deadline = rd_mono_now() + timeout;
    if (!PQsendQuery(pc->conn, sql)) {
        if (PQstatus(pc->conn) == CONNECTION_BAD)
            pc->broken = 1;
        return RD_ERR(err, RD_ERR_DB, "cannot send query to postgres: %s",
                      first_line(PQerrorMessage(pc->conn), buf, sizeof buf));
    }
    PQsetSingleRowMode(pc->conn); /* flat memory even when rows are discarded */
    for (;;) {
        rd_error we;
        rd_status ws = wait_result(&r, &we);
        if (ws != RD_OK) { /* the connection is given up: nothing more to drain */
            st = ws, e = we;
            break;
        }
        PGresult *res = PQgetResult(pc->conn);
        if (!res)
            break;
        ExecStatusType es = PQresultStatus(res);
        switch (es) {
        case PGRES_SINGLE_TUPLE:
        case PGRES_TUPLES_OK:
            if (!in_set)
                sets++;
            if (sets == 1 && !r.stopped && !r.cancelled && st == RD_OK) {
                st = deliver(&r, sink, res, !in_set, &rb, &e);
                if (st != RD_OK)
                    r.stopped = 1;
                if (r.stopped && es == PGRES_SINGLE_TUPLE)
                    send_cancel(&r); /* more rows would follow */
            }
            in_set = es == PGRES_SINGLE_TUPLE;
            if (es == PGRES_TUPLES_OK)
                sink->affected += strtoll(PQcmdTuples(res), NULL, 10);
            break;
        case PGRES_COMMAND_OK:
            sink->affected += strtoll(PQcmdTuples(res), NULL, 10);
            break;
        case PGRES_COPY_OUT: {
            rd_error ce;
            rd_status cs = drain_copy_out(&r, &ce);
            if (cs != RD_OK && (st == RD_OK || pc->broken))
                st = cs, e = ce;
            break;
        }
        case PGRES_COPY_IN:
            PQputCopyEnd(pc->conn, "copy from stdin is not supported");
            break;
        case PGRES_COPY_BOTH:
            pc->broken = 1;
            if (st == RD_OK)
                st = RD_ERR(&e, RD_ERR_UNSUPPORTED, "copy both is not supported");
            break;
        case PGRES_EMPTY_QUERY:
        case PGRES_NONFATAL_ERROR:
            break;
        default: /* PGRES_FATAL_ERROR, PGRES_BAD_RESPONSE */
            in_set = 0;
            if (st == RD_OK && !r.cancelled)
                st = result_error(res, &e);
            if (PQstatus(pc->conn) == CONNECTION_BAD)
                pc->broken = 1;
            break;
        }
        PQclear(res);
        if (pc->broken)
            break;
    }
    free(rb.vals);
    free(rb.lens);
    if (r.timed_out && !pc->broken)
        return RD_ERR(err, RD_ERR_TIMEOUT, "query cancelled after %.1fs timeout", timeout);
    if (st != RD_OK && err)
        *err = e;
    return st;
}

static rd_status pg_quote(pg_conn *pc, const char *s, int ident, rd_strbuf *out, rd_error *err)
{
    char buf[512];
    char *q = ident ? PQescapeIdentifier(pc->conn, s, strlen(s))
                    : PQescapeLiteral(pc->conn, s, strlen(s));
    if (!q)
        return RD_ERR(err, RD_ERR_FORMAT, "cannot quote %s: %s", ident ? "identifier" : "literal",
                      first_line(PQerrorMessage(pc->conn), buf, sizeof buf));
    rd_status st = rd_strbuf_append(out, q, err);
    PQfreemem(q);
    return st;
}

static rd_status pg_quote_ident(void *conn, const char *ident, rd_strbuf *out, rd_error *err)
{
    return pg_quote(conn, ident, 1, out, err);
}

static rd_status pg_quote_literal(void *conn, const char *value, rd_strbuf *out, rd_error *err)
{
    return pg_quote(conn, value, 0, out, err);
}

static rd_status pg_identity(rd_db *db, char **out, rd_error *err)
{
    char *v = NULL;
    rd_status st = rd_db_scalar(db, "SELECT system_identifier::text FROM pg_control_system()", 0,
                                &v, NULL, err);
    if (st != RD_OK)
        return st;
    if (!v)
        return RD_ERR(err, RD_ERR_NOTFOUND, "server identity: no system identifier");
    *out = v;
    return RD_OK;
}

/* DSN display: conninfo without password-like keys, values quoted */
static rd_status append_value(rd_strbuf *sb, const char *v, rd_error *err)
{
    int plain = v[0] != '\0' && strpbrk(v, " \t\n'\\") == NULL;
    return plain ? rd_strbuf_append(sb, v, err) : rd_db_append_quoted(sb, v, err);
}

/* The DSN as key=value conninfo: without secrets (display), or with them
 * and dbname set to database (a DSN for another database of the server). */
static rd_status render(const char *dsn, int secrets, const char *database, char **out,
                        rd_error *err)
{
    rd_status st = RD_OK;
    char *perr = NULL;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    PQconninfoOption *opts = PQconninfoParse(dsn ? dsn : "", &perr);
    if (!opts) {
        char buf[512];
        /* libpq's parse errors name keys, not values */
        st = RD_ERR(err, RD_ERR_CONFIG, "invalid postgres dsn: %s",
                    perr ? first_line(perr, buf, sizeof buf) : "out of memory");
        goto out;
    }
    for (PQconninfoOption *o = opts; o->keyword && st == RD_OK; o++) {
        int db = strcmp(o->keyword, "dbname") == 0;
        const char *v = db && database ? database : o->val;
        if (!v || (!secrets && (strstr(o->keyword, "password") || strcmp(o->dispchar, "*") == 0)))
            continue;
        if (sb.len)
            st = rd_strbuf_append_char(&sb, ' ', err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(&sb, err, "%s=", o->keyword);
        if (st == RD_OK)
            st = append_value(&sb, v, err);
    }
    if (st != RD_OK)
        goto out;
    *out = rd_strbuf_detach(&sb);
    if (!*out)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    if (opts)
        PQconninfoFree(opts);
    if (perr)
        PQfreemem(perr);
    if (sb.data)
        memset(sb.data, 0, sb.len); /* may hold a password */
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_db_pg_display(const char *dsn, char **out, rd_error *err)
{
    return render(dsn, 0, NULL, out, err);
}

rd_status rd_db_pg_with_database(const char *dsn, const char *database, char **out, rd_error *err)
{
    return render(dsn, 1, database, out, err);
}

const rd_db_driver rd_db_pg_driver = {
    .engine = RD_ENGINE_PG,
    .name = "postgres",
    .connect = pg_connect,
    .close = pg_close,
    .run = pg_run_sql,
    .quote_ident = pg_quote_ident,
    .quote_literal = pg_quote_literal,
    .identity = pg_identity,
    .display = rd_db_pg_display,
    .with_database = rd_db_pg_with_database,
    .sql_list_tables =
        "SELECT n.nspname, c.relname, a.attname, k.ord::text"
        " FROM pg_catalog.pg_class c"
        " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
        " LEFT JOIN pg_catalog.pg_constraint p ON p.conrelid = c.oid AND p.contype = 'p'"
        " LEFT JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord) ON true"
        " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
        " WHERE c.relkind IN ('r', 'p')"
        " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'"
        " ORDER BY 1, 2, k.ord",
    .sql_version = "SELECT current_setting('server_version')",
    .sql_current_database = "SELECT current_database()",
    .sql_begin_readonly = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    .sql_pin_session = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'; SET extra_float_digits = 3;"
                       " SET bytea_output = 'hex'; SET IntervalStyle = 'iso_8601'",
};
