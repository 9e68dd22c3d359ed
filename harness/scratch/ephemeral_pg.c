/* ephemeral_pg.c: the PostgreSQL engine of the ephemeral scratch driver
 * (ephemeral.c): initdb with data checksums and scram-sha-256, a server
 * configured for a throwaway instance, started and stopped with pg_ctl. */
#include <errno.h>
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
    rd_proc_free(p->server_proc);
    free(p->bindir);
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
     * full page writes and synchronous commit are off for speed. */
    fprintf(f,
            "\n# restoredrill scratch instance\n"
            "listen_addresses = '%s'\n"
            "unix_socket_directories = '%s'\n"
            "unix_socket_permissions = 0700\n"
            "fsync = off\n"
            "full_page_writes = off\n"
            "synchronous_commit = off\n",
            tcp ? "127.0.0.1" : "", dir);
    if (fclose(f) != 0)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", path);
out:
    free(path);
    return st;
}

static rd_status pg_init(rd_scratch *s, rd_eph *e, int tcp, double deadline, rd_error *err)
{
    pg_priv *p = e->priv;
    char *pwfile = rd_asprintf("%s/pwfile", s->dir);
    char *data = rd_asprintf("%s/data", s->dir);
    char *initdb = rd_asprintf("%s/initdb", p->bindir);
    char *pwopt = pwfile ? rd_asprintf("--pwfile=%s", pwfile) : NULL;
    rd_status st;

    s->conn.port = 5432; /* socket only: the number only names the socket file */
    if (!pwfile || !data || !initdb || !pwopt) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_scratch_write_private(pwfile, s->conn.password, &e->u, err)) != RD_OK)
        goto out;
    const char *argv[] = {initdb,
                          "-D",
                          data,
                          "--data-checksums",
                          "-U",
                          s->conn.user,
                          "--auth=scram-sha-256",
                          pwopt,
                          "-E",
                          "UTF8",
                          "--locale=C.UTF-8",
                          "--no-sync",
                          "--no-instructions",
                          NULL};
    st = rd_scratch_run_tool(&e->u, argv, s->dir, left(deadline), NULL, err);
    unlink(pwfile);
    if (st == RD_OK)
        st = write_conf(s->dir, tcp, err);
out:
    free(pwfile);
    free(data);
    free(initdb);
    free(pwopt);
    return st;
}

static pid_t pg_server_pid(const char *dir)
{
    char *pidfile = rd_asprintf("%s/data/postmaster.pid", dir);
    pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
    free(pidfile);
    return pid;
}

static rd_status pg_start(rd_scratch *s, rd_eph *e, int tcp, double deadline, rd_error *err)
{
    pg_priv *p = e->priv;
    char *pg_ctl = rd_asprintf("%s/pg_ctl", p->bindir);
    char *data = rd_asprintf("%s/data", s->dir);
    char *dsn = NULL;
    char opts[64], wait_s[32];
    rd_status st;

    if (!pg_ctl || !data) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    (void)tcp; /* listen_addresses is in postgresql.conf; the port is given here */
    snprintf(opts, sizeof opts, "-p %d", s->conn.port);
    snprintf(wait_s, sizeof wait_s, "%d", (int)left(deadline));
    unlink(e->log);
    const char *argv[] = {pg_ctl, "-D",   data, "-l", e->log,  "-w",
                          "-t",   wait_s, "-o", opts, "start", NULL};
    if ((st = rd_scratch_run_tool(&e->u, argv, s->dir, left(deadline) + 10, e->log, err)) != RD_OK)
        goto out;
    if ((st = rd_scratch_dsn_for(s, "postgres", &dsn, err)) == RD_OK)
        st = rd_scratch_wait_ready(s, dsn, deadline, pg_server_pid(s->dir), e->log, err);
out:
    free(pg_ctl);
    free(data);
    free(dsn);
    return st;
}

/* Reap a server started by start_physical once it is gone. */
static void reap(pg_priv *p)
{
    if (p && p->server_proc && !rd_scratch_pid_alive(rd_proc_pid(p->server_proc))) {
        int code;
        rd_error e2;
        rd_proc_wait(p->server_proc, rd_mono_now() + 5, &code, &e2);
        rd_proc_free(p->server_proc);
        p->server_proc = NULL;
    }
}

static void pg_stop(rd_scratch *s, rd_eph *e)
{
    pg_priv *p = e->priv;
    pid_t pid = pg_server_pid(s->dir);
    if (!p || pid <= 0 || !rd_scratch_pid_alive(pid)) {
        reap(p);
        return;
    }
    char *pg_ctl = rd_asprintf("%s/pg_ctl", p->bindir);
    char *data = rd_asprintf("%s/data", s->dir);
    if (pg_ctl && data) {
        const char *fast[] = {pg_ctl, "-D", data, "-m", "fast", "-w", "-t", "30", "stop", NULL};
        const char *imm[] = {pg_ctl, "-D", data, "-m", "immediate", "-w", "-t", "10", "stop", NULL};
        rd_error e2;
        if (rd_scratch_run_tool(&e->u, fast, s->dir, 40, NULL, &e2) != RD_OK) {
            rd_log_warn("pg_ctl stop -m fast failed: %s", e2.msg);
            rd_scratch_run_tool(&e->u, imm, s->dir, 20, NULL, &e2);
        }
    }
    reap(p);
    free(pg_ctl);
    free(data);
}

static rd_status pg_ready(rd_scratch *s, rd_eph *e, rd_error *err)
{
    (void)e;
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    rd_strbuf sql;
    char *dsn = NULL;
    rd_status st;

    rd_strbuf_init(&sql, 0);
    opts.password = s->conn.password;
    if (strcmp(s->conn.database, "postgres") == 0)
        return RD_OK;
    if ((st = rd_scratch_dsn_for(s, "postgres", &dsn, err)) != RD_OK ||
        (st = rd_db_connect(RD_ENGINE_PG, dsn, &opts, &db, err)) != RD_OK ||
        (st = rd_strbuf_append(&sql, "CREATE DATABASE ", err)) != RD_OK ||
        (st = rd_db_quote_ident(db, s->conn.database, &sql, err)) != RD_OK ||
        (st = rd_db_exec(db, sql.data, 60, NULL, err)) != RD_OK)
        goto out;
out:
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
    .init = pg_init,
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
