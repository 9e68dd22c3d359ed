/* scratch_conn.c: how clients reach a scratch instance: DSN, URL and
 * environment built from the connection fields, waiting until the server
 * accepts connections, the same-server refusal, and the small helpers the
 * engine back ends use for ports, database names and log tails. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/proc.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

/* --- ports, names and log tails --- */

rd_status rd_scratch_free_port(int *port, rd_error *err)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    rd_status st = RD_OK;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a socket");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot find a free port on 127.0.0.1");
        goto out;
    }
    *port = ntohs(sa.sin_port);
out:
    close(fd);
    return st;
}

char *rd_scratch_sanitize(const char *name, size_t max)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, max);
    for (const char *p = name ? name : ""; *p && sb.len < max; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            c = '_';
        rd_strbuf_append_char(&sb, c, NULL);
    }
    if (sb.len == 0)
        rd_strbuf_append(&sb, "db", NULL);
    return rd_strbuf_detach(&sb);
}

/* --- connection info --- */

static rd_status kv(rd_strbuf *sb, const char *key, const char *val, rd_error *err)
{
    rd_status st;
    int quote = *val == '\0' || strpbrk(val, " '\\\t\n") != NULL;

    if ((st = rd_strbuf_appendf(sb, err, "%s%s=", sb->len ? " " : "", key)) != RD_OK)
        return st;
    if (!quote)
        return rd_strbuf_append(sb, val, err);
    if ((st = rd_strbuf_append_char(sb, '\'', err)) != RD_OK)
        return st;
    for (const char *p = val; *p; p++) {
        if ((*p == '\'' || *p == '\\') && (st = rd_strbuf_append_char(sb, '\\', err)) != RD_OK)
            return st;
        if ((st = rd_strbuf_append_char(sb, *p, err)) != RD_OK)
            return st;
    }
    return rd_strbuf_append_char(sb, '\'', err);
}

static rd_status build_dsn(const rd_conninfo *c, const char *database, char **out, rd_error *err)
{
    rd_strbuf sb;
    char port[16];
    rd_status st = RD_OK;

    rd_strbuf_init(&sb, 0);
    snprintf(port, sizeof port, "%d", c->port);
    if (c->engine == RD_ENGINE_PG) {
        const char *host = c->socket ? c->socket : c->host;
        if (host && (st = kv(&sb, "host", host, err)) != RD_OK)
            goto out;
        if (c->port > 0 && (st = kv(&sb, "port", port, err)) != RD_OK)
            goto out;
    } else if (c->socket) {
        if ((st = kv(&sb, "host", "localhost", err)) != RD_OK ||
            (st = kv(&sb, "socket", c->socket, err)) != RD_OK)
            goto out;
    } else {
        if (c->host && (st = kv(&sb, "host", c->host, err)) != RD_OK)
            goto out;
        if (c->port > 0 && (st = kv(&sb, "port", port, err)) != RD_OK)
            goto out;
    }
    if (c->user && (st = kv(&sb, "user", c->user, err)) != RD_OK)
        goto out;
    if (database &&
        (st = kv(&sb, c->engine == RD_ENGINE_PG ? "dbname" : "database", database, err)) != RD_OK)
        goto out;
    if (c->dsn_params && *c->dsn_params &&
        (st = rd_strbuf_appendf(&sb, err, " %s", c->dsn_params)) != RD_OK)
        goto out;
    *out = rd_strbuf_detach(&sb);
    if (!*out)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_scratch_dsn_for(const rd_scratch *s, const char *database, char **out, rd_error *err)
{
    return build_dsn(&s->conn, database, out, err);
}

static rd_status pct(rd_strbuf *sb, const char *s, rd_error *err)
{
    rd_status st = RD_OK;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && st == RD_OK; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            st = rd_strbuf_append_char(sb, (char)*p, err);
        else
            st = rd_strbuf_appendf(sb, err, "%%%02X", *p);
    }
    return st;
}

static rd_status build_url(const rd_conninfo *c, char **out, rd_error *err)
{
    rd_strbuf sb;
    rd_status st;
    int pg = c->engine == RD_ENGINE_PG;

    rd_strbuf_init(&sb, 0);
    if ((st = rd_strbuf_append(&sb, pg ? "postgresql://" : "mysql://", err)) != RD_OK ||
        (st = pct(&sb, c->user, err)) != RD_OK)
        goto out;
    if (c->password && ((st = rd_strbuf_append_char(&sb, ':', err)) != RD_OK ||
                        (st = pct(&sb, c->password, err)) != RD_OK))
        goto out;
    if ((st = rd_strbuf_append_char(&sb, '@', err)) != RD_OK)
        goto out;
    if (c->host) {
        st = rd_strbuf_appendf(&sb, err, "%s:%d/", c->host, c->port);
        if (st == RD_OK)
            st = pct(&sb, c->database, err);
    } else if (pg) {
        if ((st = rd_strbuf_append_char(&sb, '/', err)) == RD_OK &&
            (st = pct(&sb, c->database, err)) == RD_OK &&
            (st = rd_strbuf_append(&sb, "?host=", err)) == RD_OK &&
            (st = pct(&sb, c->socket, err)) == RD_OK)
            st = rd_strbuf_appendf(&sb, err, "&port=%d", c->port);
    } else {
        if ((st = rd_strbuf_append(&sb, "localhost/", err)) == RD_OK &&
            (st = pct(&sb, c->database, err)) == RD_OK &&
            (st = rd_strbuf_append(&sb, "?socket=", err)) == RD_OK)
            st = pct(&sb, c->socket, err);
    }
    if (st != RD_OK)
        goto out;
    *out = rd_strbuf_detach(&sb);
    if (!*out)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    rd_strbuf_free(&sb);
    return st;
}

static rd_status build_env(const rd_conninfo *c, char ***out, rd_error *err)
{
    rd_strlist l = {0};
    rd_status st = RD_OK;
    char port[16];

    snprintf(port, sizeof port, "%d", c->port);
    const char *portv = c->port > 0 ? port : NULL;
#define ENV(name, val)                                                                             \
    do {                                                                                           \
        if ((val) && (st = rd_scratch_var(&l, name, (val), err)) != RD_OK)                         \
            goto out;                                                                              \
    } while (0)
    if (c->engine == RD_ENGINE_PG) {
        ENV("PGHOST", c->socket ? c->socket : c->host);
        ENV("PGPORT", portv);
        ENV("PGDATABASE", c->database);
        ENV("PGUSER", c->user);
        ENV("PGPASSWORD", c->password);
    } else {
        ENV("MYSQL_HOST", c->socket ? "localhost" : c->host);
        ENV("MYSQL_TCP_PORT", portv);
        ENV("MYSQL_UNIX_PORT", c->socket);
        ENV("MYSQL_PWD", c->password);
        ENV("MYSQL_DATABASE", c->database);
        ENV("MYSQL_USER", c->user);
    }
#undef ENV
    {
        char **env = calloc(l.n + 1, sizeof *env);
        if (!env) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < l.n; i++)
            env[i] = l.items[i];
        free(l.items);
        l.items = NULL;
        l.n = 0;
        *out = env;
    }
out:
    rd_strlist_free(&l);
    return st;
}

rd_status rd_scratch_finish_conn(rd_scratch *s, rd_error *err)
{
    rd_status st;
    free(s->conn.dsn);
    free(s->conn.url);
    s->conn.dsn = s->conn.url = NULL;
    if ((st = build_dsn(&s->conn, s->conn.database, &s->conn.dsn, err)) != RD_OK ||
        (st = build_url(&s->conn, &s->conn.url, err)) != RD_OK)
        return st;
    if (s->env) {
        for (size_t i = 0; s->env[i]; i++)
            free(s->env[i]);
        free(s->env);
        s->env = NULL;
    }
    return build_env(&s->conn, &s->env, err);
}

rd_status rd_scratch_wait_ready(rd_scratch *s, const char *dsn, double deadline, pid_t alive_pid,
                                const char *log, rd_error *err)
{
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    rd_error last;
    rd_status st;
    char *tail = NULL;

    opts.password = s->conn.password;
    opts.connect_timeout = 2;
    rd_error_clear(&last);
    for (int tries = 0;; tries++) {
        st = rd_db_connect(s->conn.engine, dsn, &opts, &db, &last);
        if (st == RD_OK)
            break;
        if (rd_abort_requested()) {
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
            goto out;
        }
        if (alive_pid > 0 && !rd_scratch_pid_alive(alive_pid)) {
            tail = log ? rd_scratch_file_tail(log, 600) : NULL;
            st = RD_ERR(err, RD_ERR_PROC, "%s server exited during startup: %s",
                        rd_engine_name(s->conn.engine), tail && *tail ? tail : last.msg);
            goto out;
        }
        if (deadline > 0 && rd_mono_now() >= deadline) {
            tail = log ? rd_scratch_file_tail(log, 400) : NULL;
            st = RD_ERR(err, RD_ERR_TIMEOUT, "%s server did not accept connections in time: %s%s%s",
                        rd_engine_name(s->conn.engine), last.msg, tail && *tail ? "; log: " : "",
                        tail ? tail : "");
            goto out;
        }
        rd_scratch_sleep_ms(tries < 50 ? 10 : 50); /* a server is usually up in well under 1s */
    }
    free(s->server_version);
    s->server_version = NULL;
    if ((st = rd_db_server_version(db, &s->server_version, err)) != RD_OK)
        goto out;
out:
    free(tail);
    rd_db_free(db);
    return st;
}

rd_status rd_scratch_check_same_server(rd_db *db, const char *reference_identity, int allow,
                                       rd_error *err)
{
    char *id = NULL;
    rd_status st;

    if (!reference_identity || allow)
        return RD_OK;
    if ((st = rd_db_server_identity(db, &id, err)) != RD_OK)
        return st;
    if (strcmp(id, reference_identity) == 0)
        st = RD_ERR(err, RD_ERR_REFUSED,
                    "scratch server is the same server as the reference (%s); set "
                    "scratch.allow_same_server to allow it",
                    id);
    free(id);
    return st;
}
