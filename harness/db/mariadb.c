/* mariadb.c: the MariaDB/MySQL driver, the only file that includes mysql.h.
 *
 * Statements run through the non-blocking API (mysql_*_start/_cont with
 * poll() on mysql_get_socket) against a deadline; when it passes, KILL QUERY
 * is sent from a second connection and the results are drained so the
 * connection stays usable. Rows stream with mysql_use_result. */
#include "db_int.h"

#include <ctype.h>
#include <errmsg.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <mysql.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"

#define ER_QUERY_INTERRUPTED_ 1317
#define CR_SERVER_GONE_ERROR_ 2006
#define CR_SERVER_LOST_ 2013

typedef struct my_conn {
    MYSQL *m;
    rd_db_my_dsn dsn;
    char *password; /* secret: kept for the KILL connection, wiped on close */
    char *app;
    unsigned connect_timeout;
    unsigned long thread_id;
    int broken;
    /* the statement in flight */
    double deadline;
    int killed; /* KILL QUERY sent (timeout or early stop) */
    int timed_out;
} my_conn;

static void location(const my_conn *mc, char *buf, size_t bufsz)
{
    if (mc->dsn.socket)
        snprintf(buf, bufsz, "%s", mc->dsn.socket);
    else
        snprintf(buf, bufsz, "%s:%u", mc->dsn.host ? mc->dsn.host : "localhost",
                 mc->dsn.port ? mc->dsn.port : 3306);
}

/* A connection with mc's parameters: the main one (non-blocking API,
 * multi-statements) or a helper for KILL QUERY. */
static rd_status open_mysql(const my_conn *mc, int main_conn, MYSQL **out, rd_error *err)
{
    rd_status st = RD_OK;
    MYSQL *m = mysql_init(NULL);
    unsigned ct = mc->connect_timeout;
    char loc[512], msg[RD_ERROR_MSG_MAX - 600];
    if (!m)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    mysql_options(m, MYSQL_READ_DEFAULT_GROUP, "client");
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_optionsv(m, MYSQL_OPT_CONNECT_ATTR_ADD, "program_name", mc->app);
    if (mc->dsn.socket) {
        unsigned proto = MYSQL_PROTOCOL_SOCKET;
        mysql_options(m, MYSQL_OPT_PROTOCOL, &proto);
    }
    if (main_conn && mysql_options(m, MYSQL_OPT_NONBLOCK, 0) != 0) {
        st = RD_ERR(err, RD_ERR_NOMEM, "cannot enable the non-blocking mariadb api");
        goto out;
    }
    if (!mysql_real_connect(m, mc->dsn.host, mc->dsn.user, mc->password, mc->dsn.database,
                            mc->dsn.port, mc->dsn.socket,
                            main_conn ? CLIENT_MULTI_STATEMENTS | CLIENT_MULTI_RESULTS : 0)) {
        unsigned code = mysql_errno(m);
        /* libpq's hint, for "nothing answers there" (2002 over TCP and socket
         * alike; "localhost" means the socket to Connector/C) */
        int by_socket = mc->dsn.socket || !mc->dsn.host || strcmp(mc->dsn.host, "localhost") == 0;
        const char *hint =
            code != CR_CONNECTION_ERROR && code != CR_CONN_HOST_ERROR ? ""
            : by_socket ? " (is the server running locally and accepting connections on that "
                          "socket?)"
                        : " (is the server running on that host and accepting TCP/IP "
                          "connections?)";
        location(mc, loc, sizeof loc);
        st = RD_ERR(err, RD_ERR_CONNECT, "cannot connect to mariadb at %s: %s%s", loc,
                    rd_db_clean_message(mysql_error(m), mc->password, msg, sizeof msg), hint);
        goto out;
    }
    *out = m;
    m = NULL;
out:
    if (m)
        mysql_close(m);
    return st;
}

static void my_close(void *conn)
{
    my_conn *mc = conn;
    if (!mc)
        return;
    if (mc->m)
        mysql_close(mc->m);
    rd_db_my_dsn_free(&mc->dsn);
    if (mc->password) {
        volatile char *p = mc->password;
        while (*p)
            *p++ = '\0';
        free(mc->password);
    }
    free(mc->app);
    free(mc);
}

static rd_status my_connect(const char *dsn, const rd_db_opts *opts, void **conn, char **display,
                            rd_error *err)
{
    rd_status st = RD_OK;
    const char *pw = NULL;
    double ct =
        opts && opts->connect_timeout > 0 ? opts->connect_timeout : RD_DB_DEFAULT_CONNECT_TIMEOUT;
    my_conn *mc = calloc(1, sizeof *mc);
    if (!mc)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = rd_db_my_dsn_parse(dsn, &mc->dsn, err);
    if (st != RD_OK)
        goto out;
    st = rd_db_resolve_password(opts, "MYSQL_PWD", &pw, err);
    if (st != RD_OK)
        goto out;
    mc->password = rd_strdup(pw);
    mc->app = rd_strdup(opts && opts->app_name ? opts->app_name : "restoredrill");
    mc->connect_timeout = (unsigned)ceil(ct);
    if ((pw && !mc->password) || !mc->app) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    st = open_mysql(mc, 1, &mc->m, err);
    if (st != RD_OK)
        goto out;
    mc->thread_id = mysql_thread_id(mc->m);
    *display = rd_db_my_dsn_display(&mc->dsn);
    if (!*display) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    *conn = mc;
    mc = NULL;
out:
    my_close(mc);
    return st;
}

/* KILL QUERY <our thread> from a second connection. 1 when sent. */
static int send_kill(my_conn *mc)
{
    MYSQL *k = NULL;
    char q[64];
    int ok = 0;
    mc->killed = 1;
    mc->deadline = rd_mono_now() + RD_DB_CANCEL_GRACE;
    if (open_mysql(mc, 0, &k, NULL) != RD_OK)
        return 0;
    snprintf(q, sizeof q, "KILL QUERY %lu", mc->thread_id);
    ok = mysql_real_query(k, q, (unsigned long)strlen(q)) == 0;
    mysql_close(k);
    return ok;
}

/* Wait for what the pending non-blocking call asked for (status bits) and
 * return what happened, for its _cont. At the deadline KILL QUERY is sent;
 * when the grace period passes too, MYSQL_WAIT_TIMEOUT makes the call fail
 * and the connection is given up. */
static int my_wait(my_conn *mc, int status)
{
    double lib_deadline = 0;
    if (status & MYSQL_WAIT_TIMEOUT)
        lib_deadline = rd_mono_now() + mysql_get_timeout_value_ms(mc->m) / 1000.0;
    for (;;) {
        double now = rd_mono_now();
        if (mc->broken)
            return MYSQL_WAIT_TIMEOUT;
        if (now >= mc->deadline) {
            if (!mc->killed) {
                mc->timed_out = 1;
                send_kill(mc);
                continue;
            }
            mc->broken = 1;
            return MYSQL_WAIT_TIMEOUT;
        }
        if (lib_deadline > 0 && now >= lib_deadline)
            return MYSQL_WAIT_TIMEOUT;
        double until =
            lib_deadline > 0 && lib_deadline < mc->deadline ? lib_deadline : mc->deadline;
        double ms = ceil((until - now) * 1000.0);
        struct pollfd p = {.fd = mysql_get_socket(mc->m), .events = 0};
        if (status & MYSQL_WAIT_READ)
            p.events |= POLLIN;
        if (status & MYSQL_WAIT_WRITE)
            p.events |= POLLOUT;
        if (status & MYSQL_WAIT_EXCEPT)
            p.events |= POLLPRI;
        int rc = poll(&p, 1, ms > INT_MAX ? INT_MAX : (int)ms);
        if (rc < 0 && errno != EINTR) {
            mc->broken = 1;
            return MYSQL_WAIT_TIMEOUT;
        }
        if (rc <= 0)
            continue;
        int ev = 0;
        if (p.revents & (POLLIN | POLLERR | POLLHUP))
            ev |= MYSQL_WAIT_READ;
        if (p.revents & (POLLOUT | POLLERR | POLLHUP))
            ev |= MYSQL_WAIT_WRITE;
        if (p.revents & POLLPRI)
            ev |= MYSQL_WAIT_EXCEPT;
        return ev;
    }
}

static rd_status my_error(my_conn *mc, rd_error *err)
{
    char msg[RD_ERROR_MSG_MAX - 32];
    unsigned no = mysql_errno(mc->m);
    if (no == CR_SERVER_LOST_ || no == CR_SERVER_GONE_ERROR_)
        mc->broken = 1;
    rd_db_clean_message(mysql_error(mc->m), mc->password, msg, sizeof msg);
    return RD_ERR(err, RD_ERR_DB, "%s (errno %u)", msg, no);
}

static void free_result(my_conn *mc, MYSQL_RES *res)
{
    int s = mysql_free_result_start(res);
    while (s)
        s = mysql_free_result_cont(res, my_wait(mc, s));
}

/* Read every row of the current result, delivering them when asked. An
 * early stop sends KILL QUERY and discards the rest. */
static rd_status read_rows(my_conn *mc, rd_db_sink *sink, int deliver, int *stopped, rd_error *err)
{
    rd_status st = RD_OK;
    MYSQL_RES *res = mysql_use_result(mc->m);
    const char **names = NULL;
    size_t *lens = NULL;
    int64_t n = 0;
    if (!res)
        return my_error(mc, err);
    unsigned nf = mysql_num_fields(res);
    if (deliver) {
        names = calloc(nf ? nf : 1, sizeof *names);
        lens = calloc(nf ? nf : 1, sizeof *lens);
        if (!names || !lens) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            *stopped = 1;
        }
    }
    if (deliver && !*stopped && sink->header) {
        MYSQL_FIELD *f = mysql_fetch_fields(res);
        for (unsigned i = 0; i < nf; i++)
            names[i] = f[i].name;
        if (sink->header(sink->ud, nf, names))
            *stopped = 1;
    }
    for (;;) {
        MYSQL_ROW row = NULL;
        int s = mysql_fetch_row_start(&row, res);
        while (s)
            s = mysql_fetch_row_cont(&row, res, my_wait(mc, s));
        if (!row)
            break;
        n++;
        if (!deliver || !sink->row || *stopped || mc->timed_out)
            continue;
        unsigned long *ml = mysql_fetch_lengths(res);
        for (unsigned i = 0; i < nf; i++)
            lens[i] = row[i] ? (size_t)ml[i] : 0;
        if (sink->row(sink->ud, nf, (const char *const *)row, lens)) {
            *stopped = 1;
            if (!mc->killed)
                send_kill(mc);
        }
    }
    if (st == RD_OK && mysql_errno(mc->m) && !mc->killed)
        st = my_error(mc, err);
    else if (mysql_errno(mc->m))
        my_error(mc, NULL); /* notes a lost connection */
    free(names);
    free(lens);
    free_result(mc, res);
    sink->affected += n;
    return st;
}

static rd_status my_run(void *conn, const char *sql, double timeout, rd_db_sink *sink,
                        rd_error *err)
{
    my_conn *mc = conn;
    rd_status st = RD_OK; /* the first failure, reported with e */
    rd_error e = {0};
    int rc = 0, sets = 0, stopped = 0;
    if (mc->broken)
        return RD_ERR(err, RD_ERR_DB, "mariadb connection unusable after an earlier failure");
    mc->deadline = rd_mono_now() + timeout;
    mc->killed = 0;
    mc->timed_out = 0;
    int s = mysql_real_query_start(&rc, mc->m, sql, (unsigned long)strlen(sql));
    while (s)
        s = mysql_real_query_cont(&rc, mc->m, my_wait(mc, s));
    if (rc != 0) {
        st = my_error(mc, &e);
        goto out;
    }
    for (;;) {
        if (mysql_field_count(mc->m) > 0) {
            sets++;
            rd_error re;
            rd_status rs = read_rows(mc, sink, sets == 1 && st == RD_OK, &stopped, &re);
            if (rs != RD_OK && st == RD_OK)
                st = rs, e = re;
        } else {
            my_ulonglong a = mysql_affected_rows(mc->m);
            if (a != (my_ulonglong)-1)
                sink->affected += (int64_t)a;
        }
        if (mc->broken || !mysql_more_results(mc->m))
            break;
        s = mysql_next_result_start(&rc, mc->m);
        while (s)
            s = mysql_next_result_cont(&rc, mc->m, my_wait(mc, s));
        if (rc > 0) { /* a later statement failed; nothing follows it */
            if (st == RD_OK && !mc->killed)
                st = my_error(mc, &e);
            else
                my_error(mc, NULL);
            break;
        }
        if (rc < 0)
            break;
    }
out:
    if (mc->timed_out) {
        if (mc->broken)
            return RD_ERR(err, RD_ERR_TIMEOUT,
                          "query not cancelled within %.0fs after a %.1fs timeout: connection "
                          "given up",
                          RD_DB_CANCEL_GRACE, timeout);
        return RD_ERR(err, RD_ERR_TIMEOUT, "query cancelled after %.1fs timeout", timeout);
    }
    if (stopped && st == RD_ERR_DB && mc->killed && !mc->broken)
        st = RD_OK; /* the error came from our KILL of the rest */
    if (st != RD_OK && err)
        *err = e;
    return st;
}

static rd_status my_quote_ident(void *conn, const char *ident, rd_strbuf *out, rd_error *err)
{
    (void)conn;
    size_t len0 = out->len;
    rd_status st = rd_strbuf_append_char(out, '`', err);
    for (const char *p = ident; *p && st == RD_OK; p++) {
        if (*p == '`')
            st = rd_strbuf_append_char(out, '`', err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(out, *p, err);
    }
    if (st == RD_OK)
        st = rd_strbuf_append_char(out, '`', err);
    if (st != RD_OK) {
        out->len = len0;
        out->data[len0] = '\0';
    }
    return st;
}

static rd_status my_quote_literal(void *conn, const char *value, rd_strbuf *out, rd_error *err)
{
    my_conn *mc = conn;
    size_t n = strlen(value);
    rd_status st = RD_OK;
    char *buf = malloc(2 * n + 3);
    if (!buf)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    buf[0] = '\'';
    unsigned long m = mysql_real_escape_string(mc->m, buf + 1, value, (unsigned long)n);
    if (m == (unsigned long)-1) {
        st = RD_ERR(err, RD_ERR_FORMAT, "cannot quote literal: invalid character set data");
        goto out;
    }
    buf[1 + m] = '\'';
    st = rd_strbuf_append_n(out, buf, m + 2, err);
out:
    free(buf);
    return st;
}

static rd_status my_identity(rd_db *db, char **out, rd_error *err)
{
    char *v = NULL;
    /* MySQL has @@server_uuid; MariaDB does not (unknown variable) */
    rd_status st = rd_db_scalar(db, "SELECT @@server_uuid", 0, &v, NULL, NULL);
    if (st == RD_OK && v && v[0]) {
        *out = v;
        return RD_OK;
    }
    free(v);
    v = NULL;
    /* with skip-networking @@port is 0: the socket tells instances apart */
    st = rd_db_scalar(db, "SELECT CONCAT(@@hostname, ':', IF(@@port = 0, @@socket, @@port))", 0, &v,
                      NULL, err);
    if (st != RD_OK)
        return st;
    if (!v)
        return RD_ERR(err, RD_ERR_NOTFOUND, "server identity: no hostname");
    *out = v;
    return RD_OK;
}

const rd_db_driver rd_db_mariadb_driver = {
    .engine = RD_ENGINE_MARIADB,
    .name = "mariadb",
    .connect = my_connect,
    .close = my_close,
    .run = my_run,
    .quote_ident = my_quote_ident,
    .quote_literal = my_quote_literal,
    .identity = my_identity,
    .display = rd_db_my_display,
    .with_database = rd_db_my_with_database,
    /* BINARY: information_schema compares names case-insensitively */
    .sql_list_tables =
        "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, k.COLUMN_NAME, k.ORDINAL_POSITION"
        " FROM information_schema.TABLES t"
        " LEFT JOIN information_schema.KEY_COLUMN_USAGE k"
        " ON k.TABLE_SCHEMA = DATABASE() AND BINARY k.TABLE_NAME = BINARY t.TABLE_NAME"
        " AND k.CONSTRAINT_NAME = 'PRIMARY'"
        " WHERE t.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')"
        " ORDER BY t.TABLE_NAME, k.ORDINAL_POSITION",
    .sql_version = "SELECT VERSION()",
    .sql_current_database = "SELECT DATABASE()",
    .sql_begin_readonly = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;"
                          " START TRANSACTION READ ONLY, WITH CONSISTENT SNAPSHOT",
    .sql_pin_session = "SET NAMES utf8mb4; SET time_zone = '+00:00';"
                       " SET sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,"
                       "NO_ENGINE_SUBSTITUTION'",
};
