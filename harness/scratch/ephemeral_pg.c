/* ephemeral_pg.c: the PostgreSQL engine of the ephemeral scratch driver
 * (ephemeral.c): initdb with data checksums and scram-sha-256, a server
 * configured for a throwaway instance, started and stopped with pg_ctl. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

typedef rd_eph_pg_priv pg_priv;

static void priv_free(void *priv)
{
    pg_priv *p = priv;
    if (!p)
        return;
    rd_proc_free(p->server);
    free(p->bindir);
    free(p->postgres);
    free(p);
}

static int has_tools(const char *dir)
{
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/initdb", dir);
    snprintf(b, sizeof b, "%s/pg_ctl", dir);
    return access(a, X_OK) == 0 && access(b, X_OK) == 0;
}

/* bin_dir, else the directory of initdb in PATH, else the newest
 * /usr/lib/postgresql/N/bin. */
static rd_status find_bindir(const rd_scratch_cfg *cfg, char **out, rd_error *err)
{
    char *found = NULL;
    glob_t g;
    long best = -1;

    if (cfg && cfg->bin_dir && *cfg->bin_dir) {
        if (has_tools(cfg->bin_dir))
            return (*out = rd_strdup(cfg->bin_dir)) ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "oom");
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "postgresql server binaries not found (initdb, pg_ctl); install the "
                      "postgresql package (Debian: postgresql-15); searched: %s",
                      cfg->bin_dir);
    }
    found = rd_proc_which("initdb", NULL);
    if (found) {
        char *slash = strrchr(found, '/');
        if (slash)
            *slash = '\0';
        if (slash && has_tools(found)) {
            *out = found;
            return RD_OK;
        }
        free(found);
        found = NULL;
    }
    if (glob("/usr/lib/postgresql/*/bin", GLOB_ONLYDIR, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *v = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
            char *end;
            long n = strtol(v, &end, 10);
            if (end != v && n > best && has_tools(g.gl_pathv[i])) {
                best = n;
                free(found);
                found = rd_strdup(g.gl_pathv[i]);
            }
        }
        globfree(&g);
    }
    if (found) {
        *out = found;
        return RD_OK;
    }
    return RD_ERR(err, RD_ERR_NOTFOUND,
                  "postgresql server binaries not found (initdb, pg_ctl); install the "
                  "postgresql package (Debian: postgresql-15); searched: $PATH, "
                  "/usr/lib/postgresql/*/bin");
}

static rd_status pg_prepare(const rd_scratch_cfg *cfg, void **priv, rd_error *err)
{
    pg_priv *p = calloc(1, sizeof *p);
    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = find_bindir(cfg, &p->bindir, err);
    if (st == RD_OK && !(p->postgres = rd_asprintf("%s/postgres", p->bindir)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st != RD_OK) {
        priv_free(p);
        return st;
    }
    *priv = p;
    return RD_OK;
}

static double left(double deadline)
{
    double l = deadline - rd_mono_now();
    return l > 5 ? l : 5;
}

static rd_status write_conf(const char *dir, int tcp, rd_error *err)
{
    char *path = rd_asprintf("%s/data/postgresql.conf", dir);
    FILE *f = NULL;
    rd_status st = RD_OK;

    if (!path)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    f = fopen(path, "ae");
    if (!f) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", path);
        goto out;
    }
    /* A throwaway scratch instance: durability is not needed, so fsync,
     * full page writes and synchronous commit are off for speed. For the
     * bulk load of a restore (docs/restore-tuning.md): index builds get
     * more memory, checkpoints come seldom, and with wal_level minimal
     * index builds skip the WAL. Each says how fast, none what is stored. */
    fprintf(f,
            "\n# restoredrill scratch instance\n"
            "listen_addresses = '%s'\n"
            "unix_socket_directories = '%s'\n"
            "unix_socket_permissions = 0700\n"
            "fsync = off\n"
            "full_page_writes = off\n"
            "synchronous_commit = off\n"
            "maintenance_work_mem = 256MB\n"
            "max_wal_size = 4GB\n"
            "checkpoint_timeout = 30min\n"
            "wal_level = minimal\n"
            "max_wal_senders = 0\n",
            tcp ? "127.0.0.1" : "", dir);
    if (fclose(f) != 0)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", path);
out:
    free(path);
    return st;
}

/* What initdb is run with, and what a template gets besides (its scratch
 * database): part of a template's identity. */
#define PG_INIT_FLAGS                                                                              \
    "--data-checksums --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 +database " RD_EPH_TEMPLATE_DB

/* An empty cluster in datadir whose superuser is user with password. */
static rd_status pg_init_data(const char *dir, rd_eph *e, const char *user, const char *password,
                              double deadline, rd_error *err)
{
    pg_priv *p = e->priv;
    char *datadir = rd_fs_join(dir, "data");
    char *pwfile = rd_fs_join(dir, "pwfile");
    char *initdb = rd_asprintf("%s/initdb", p->bindir);
    char *pwopt = pwfile ? rd_asprintf("--pwfile=%s", pwfile) : NULL;
    rd_status st;

    if (!datadir || !pwfile || !initdb || !pwopt) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_scratch_write_private(pwfile, password, &e->u, err)) != RD_OK)
        goto out;
    const char *argv[] = {initdb,
                          "-D",
                          datadir,
                          "--data-checksums",
                          "-U",
                          user,
                          "--auth=scram-sha-256",
                          pwopt,
                          "-E",
                          "UTF8",
                          "--locale=C.UTF-8",
                          "--no-sync",
                          "--no-instructions",
                          NULL};
    st = rd_scratch_run_tool(&e->u, argv, dir, left(deadline), NULL, err);
    unlink(pwfile);
out:
    free(datadir);
    free(pwfile);
    free(initdb);
    free(pwopt);
    return st;
}

/* A template's scratch database, made in single-user mode (no server, no
 * socket): each instance renames it rather than copying template1. */
static rd_status pg_template_extra(const char *dir, rd_eph *e, double deadline, rd_error *err)
{
    pg_priv *p = e->priv;
    char *datadir = rd_fs_join(dir, "data"), *sql = rd_fs_join(dir, "create.sql");
    rd_status st;
    static const char create[] = "CREATE DATABASE " RD_EPH_TEMPLATE_DB ";\n";

    if (!datadir || !sql) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_fs_write_atomic(sql, create, strlen(create), 0644, err)) != RD_OK)
        goto out;
    const char *argv[] = {p->postgres, "--single", "-D", datadir, "-F", "postgres", NULL};
    st = rd_scratch_run_tool_in(&e->u, argv, dir, left(deadline), NULL, sql, err);
    unlink(sql);
out:
    free(datadir);
    free(sql);
    return st;
}

/* The instance's own settings, appended to its copy of postgresql.conf. */
static rd_status pg_configure(rd_scratch *s, rd_eph *e, int tcp, rd_error *err)
{
    (void)e;
    s->conn.port = 5432; /* socket only: the number only names the socket file */
    return write_conf(s->dir, tcp, err);
}

static const char *pg_binary(const void *priv)
{
    const pg_priv *p = priv;
    return p->postgres;
}

static pid_t pg_server_pid(const char *dir)
{
    char *pidfile = rd_asprintf("%s/data/postmaster.pid", dir);
    pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
    free(pidfile);
    return pid;
}

/* The postmaster runs as our child (not daemonised by pg_ctl, whose wait
 * polls in steps of 100 ms): its output goes to the log, and we know at once
 * when it accepts connections or dies. */
static rd_status pg_start(rd_scratch *s, rd_eph *e, int tcp, double deadline, rd_error *err)
{
    pg_priv *p = e->priv;
    char *data = rd_asprintf("%s/data", s->dir);
    char *dsn = NULL;
    char port[16];
    int logfd = -1;
    rd_status st;

    (void)tcp; /* listen_addresses is in postgresql.conf; the port is given here */
    if (!data) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(port, sizeof port, "%d", s->conn.port);
    unlink(e->log);
    logfd = open(e->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (logfd < 0 || (e->u.run_as && fchown(logfd, e->u.uid, e->u.gid) != 0)) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", e->log);
        goto out;
    }
    const char *argv[] = {p->postgres, "-D", data, "-p", port, NULL};
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.cwd = s->dir;
    spec.stdout_mode = RD_PROC_IO_FD;
    spec.stdout_fd = logfd;
    spec.stderr_to_stdout = 1;
    spec.run_as = e->u.run_as;
    spec.uid = e->u.uid;
    spec.gid = e->u.gid;
    spec.term_grace = 30; /* SIGTERM is a smart shutdown */
    spec.no_cloud_secrets = 1;
    rd_proc_free(p->server);
    p->server = NULL;
    if ((st = rd_proc_start(&spec, &p->server, err)) != RD_OK)
        goto out;
    if ((st = rd_scratch_dsn_for(s, "postgres", &dsn, err)) == RD_OK)
        st = rd_scratch_wait_ready(s, dsn, deadline, rd_proc_pid(p->server), e->log, err);
out:
    if (logfd >= 0)
        close(logfd);
    free(data);
    free(dsn);
    return st;
}

/* A fast shutdown (SIGINT); after 30 s rd_proc_wait sends SIGTERM, then
 * SIGKILL. The child is reaped. */
static void pg_stop(rd_scratch *s, rd_eph *e)
{
    pg_priv *p = e->priv;
    (void)s;
    if (!p || !p->server)
        return;
    pid_t pid = rd_proc_pid(p->server);
    rd_error e2;
    if (rd_scratch_stop_proc(&p->server, SIGINT, 30, &e2) != RD_OK)
        rd_log_warn("postgresql scratch server (pid %d) ignored a fast shutdown: %s", (int)pid,
                    e2.msg);
}

/* On one connection: the instance's own password when it is a copy of a
 * template (own_pw), and its scratch database: created from template1 in
 * an instance initialised afresh, renamed from the template's ready one (or
 * dropped, when the scratch database is postgres) in a copy. */
static rd_status pg_ready(rd_scratch *s, rd_eph *e, const char *own_pw, rd_error *err)
{
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    rd_strbuf sql;
    char *dsn = NULL;
    rd_status st;

    (void)e;
    rd_strbuf_init(&sql, 0);
    opts.password = s->conn.password;
    int create = strcmp(s->conn.database, "postgres") != 0;
    if (!create && !own_pw)
        return RD_OK;
    if ((st = rd_scratch_dsn_for(s, "postgres", &dsn, err)) != RD_OK ||
        (st = rd_db_connect(RD_ENGINE_PG, dsn, &opts, &db, err)) != RD_OK)
        goto out;
    if (own_pw && ((st = rd_strbuf_append(&sql, "ALTER ROLE ", err)) != RD_OK ||
                   (st = rd_db_quote_ident(db, s->conn.user, &sql, err)) != RD_OK ||
                   (st = rd_strbuf_append(&sql, " PASSWORD ", err)) != RD_OK ||
                   (st = rd_db_quote_literal(db, own_pw, &sql, err)) != RD_OK ||
                   (st = rd_db_exec(db, sql.data, 60, NULL, err)) != RD_OK))
        goto out;
    if (sql.data)
        memset(sql.data, 0, sql.len); /* it held the password */
    rd_strbuf_reset(&sql);
    if (own_pw) {
        /* a copy of a template holds RD_EPH_TEMPLATE_DB ready: give it the
         * scratch database's name, or drop it when the scratch database is
         * postgres itself */
        if (strcmp(s->conn.database, RD_EPH_TEMPLATE_DB) == 0)
            goto out;
        st = rd_strbuf_append(&sql,
                              create ? "ALTER DATABASE " RD_EPH_TEMPLATE_DB " RENAME TO "
                                     : "DROP DATABASE " RD_EPH_TEMPLATE_DB,
                              err);
        if (st == RD_OK && create)
            st = rd_db_quote_ident(db, s->conn.database, &sql, err);
        if (st == RD_OK)
            st = rd_db_exec(db, sql.data, 60, NULL, err);
        goto out;
    }
    if (create && ((st = rd_strbuf_append(&sql, "CREATE DATABASE ", err)) != RD_OK ||
                   (st = rd_db_quote_ident(db, s->conn.database, &sql, err)) != RD_OK ||
                   (st = rd_db_exec(db, sql.data, 60, NULL, err)) != RD_OK))
        goto out;
out:
    if (sql.data)
        memset(sql.data, 0, sql.len);
    rd_db_free(db);
    free(dsn);
    rd_strbuf_free(&sql);
    return st;
}

static const char *const reserved[] = {"template*", NULL};

const rd_eph_engine rd_eph_pg = {
    .engine = RD_ENGINE_PG,
    .label = "postgresql",
    .default_user = "postgres",
    .socket_file = ".s.PGSQL.65535",
    .socket_is_dir = 1,
    .db_name_max = 63,
    .reserved_dbs = reserved,
    .leftover_signal = SIGINT, /* fast shutdown */
    .leftover_grace = 30,
    .prepare = pg_prepare,
    .init_flags = PG_INIT_FLAGS,
    .init_data = pg_init_data,
    .template_extra = pg_template_extra,
    .configure = pg_configure,
    .binary = pg_binary,
    .takes_password = 1,
    .start = pg_start,
    .stop = pg_stop,
    .server_pid = pg_server_pid,
    .priv_free = priv_free,
    .ready = pg_ready,
    .start_physical = rd_eph_pg_start_physical,
    .running_pid = rd_eph_pg_running_pid,
    .attach = rd_eph_pg_attach,
    .verify_pages = rd_eph_pg_verify_pages,
};
