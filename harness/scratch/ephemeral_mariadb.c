/* ephemeral_mariadb.c: a private MariaDB server in a 0700 temp directory:
 * mariadb-install-db, then mariadbd on a unix socket in that directory (and
 * 127.0.0.1 when TCP is wanted), with a random password. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define MDB_USER "restoredrill"
#define MDB_SOCKET "mysqld.sock"
#define MDB_PIDFILE "mariadbd.pid"
#define MDB_START_ATTEMPTS 3

typedef struct mdb_priv {
    rd_eph_user u;
    char *rundir;
    rd_proc *server;
} mdb_priv;

static void priv_free(mdb_priv *p)
{
    if (!p)
        return;
    rd_proc_free(p->server);
    free(p->rundir);
    free(p);
}

static char *find_tool(const rd_scratch_cfg *cfg, const char *const *names, const char *const *dirs)
{
    for (size_t i = 0; names[i]; i++) {
        if (cfg && cfg->bin_dir && *cfg->bin_dir) {
            char *p = rd_asprintf("%s/%s", cfg->bin_dir, names[i]);
            if (p && access(p, X_OK) == 0)
                return p;
            free(p);
            continue;
        }
        char *p = rd_proc_which(names[i], dirs);
        if (p)
            return p;
    }
    return NULL;
}

static rd_status find_binaries(const rd_scratch_cfg *cfg, char **server, char **install,
                               rd_error *err)
{
    static const char *const sdirs[] = {"/usr/sbin", "/usr/libexec", "/usr/local/mysql/bin", NULL};
    static const char *const idirs[] = {"/usr/bin", "/usr/scripts", "/usr/local/mysql/scripts",
                                        NULL};
    static const char *const snames[] = {"mariadbd", "mysqld", NULL};
    static const char *const inames[] = {"mariadb-install-db", "mysql_install_db", NULL};

    *server = find_tool(cfg, snames, sdirs);
    *install = find_tool(cfg, inames, idirs);
    if (*server && *install)
        return RD_OK;
    free(*server);
    free(*install);
    *server = *install = NULL;
    return RD_ERR(err, RD_ERR_NOTFOUND,
                  "mariadb server binaries not found (mariadbd, mariadb-install-db); install "
                  "the mariadb-server package; searched: %s",
                  cfg && cfg->bin_dir && *cfg->bin_dir
                      ? cfg->bin_dir
                      : "$PATH, /usr/sbin, /usr/libexec, /usr/bin, /usr/scripts");
}

/* A private tmpdir for the install and the server: servers sharing /tmp have
 * been seen to lose each other's internal temporary tables ("Could not remove
 * temporary table /tmp/#sql-temptable-..."), failing installs and queries. */
static rd_status private_tmpdir(const char *tmpdir, const mdb_priv *p, rd_error *err)
{
    if (mkdir(tmpdir, 0700) != 0 && errno != EEXIST)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", tmpdir);
    if (p->u.run_as && chown(tmpdir, p->u.uid, p->u.gid) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", tmpdir, p->u.name);
    return RD_OK;
}

static rd_status install_db(const char *install, const char *dir, const mdb_priv *p, double timeout,
                            rd_error *err)
{
    char *datadir = rd_asprintf("--datadir=%s/data", dir);
    char *user = rd_asprintf("--user=%s", p->u.name);
    char *tmpdir = rd_asprintf("%s/tmp", dir);
    char *a_tmp = rd_asprintf("--tmpdir=%s", tmpdir ? tmpdir : "");
    rd_proc_spec spec = {0};
    rd_strbuf outb, errb;
    int code = 0;
    rd_status st;

    rd_strbuf_init(&outb, 65536);
    rd_strbuf_init(&errb, 0);
    if (!datadir || !user || !tmpdir || !a_tmp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = private_tmpdir(tmpdir, p, err)) != RD_OK)
        goto out;
    const char *argv[] = {install,
                          "--no-defaults",
                          datadir,
                          a_tmp,
                          "--auth-root-authentication-method=normal",
                          "--skip-test-db",
                          "--skip-name-resolve",
                          p->u.run_as ? user : NULL,
                          NULL};
    spec.argv = argv;
    spec.cwd = dir;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    st = rd_proc_run(&spec, timeout, &outb, &errb, &code, err);
    if (st == RD_OK && code != 0) {
        rd_strbuf *b = errb.len ? &errb : &outb;
        rd_strbuf_keep_tail(b, 600);
        for (char *c = b->data; *c; c++)
            if (*c == '\n')
                *c = ' ';
        st = RD_ERR(err, RD_ERR_PROC, "mariadb-install-db exited with %d: %s", code, b->data);
        if (strstr(b->data, "No space left on device"))
            rd_error_prefix(err, "disk full: ");
    }
out:
    rd_strbuf_free(&outb);
    rd_strbuf_free(&errb);
    free(datadir);
    free(user);
    free(tmpdir);
    free(a_tmp);
    return st;
}

static char *init_sql(const char *pw, const char *db)
{
    /* Only the instance's own user (and root) may log in, both with the random
     * password; the passwordless root entries for 127.0.0.1, ::1 and the host
     * name that mariadb-install-db creates are removed. */
    return rd_asprintf(
        "DELETE FROM mysql.global_priv WHERE Host <> 'localhost';\n"
        "DELETE FROM mysql.proxies_priv WHERE Host <> 'localhost';\n"
        "FLUSH PRIVILEGES;\n"
        "ALTER USER 'root'@'localhost' IDENTIFIED BY '%s';\n"
        "CREATE USER '" MDB_USER "'@'localhost' IDENTIFIED BY '%s';\n"
        "CREATE USER '" MDB_USER "'@'127.0.0.1' IDENTIFIED BY '%s';\n"
        "GRANT ALL PRIVILEGES ON *.* TO '" MDB_USER "'@'localhost' WITH GRANT OPTION;\n"
        "GRANT ALL PRIVILEGES ON *.* TO '" MDB_USER "'@'127.0.0.1' WITH GRANT OPTION;\n"
        "CREATE DATABASE `%s`;\n",
        pw, pw, pw, db);
}

static rd_status start_server(rd_scratch *s, mdb_priv *p, const char *server, int tcp,
                              const char *initfile, double deadline, rd_error *err)
{
    char *a_data = rd_asprintf("--datadir=%s/data", s->dir);
    char *a_sock = rd_asprintf("--socket=%s", s->conn.socket);
    char *a_pid = rd_asprintf("--pid-file=%s/" MDB_PIDFILE, s->dir);
    char *a_log = rd_asprintf("--log-error=%s/server.log", s->dir);
    char *a_user = rd_asprintf("--user=%s", p->u.name);
    char *a_init = rd_asprintf("--init-file=%s", initfile);
    char *log = rd_asprintf("%s/server.log", s->dir);
    char *tmpdir = rd_asprintf("%s/tmp", s->dir);
    char *a_tmp = rd_asprintf("--tmpdir=%s", tmpdir ? tmpdir : "");
    rd_status st = RD_OK;

    if (!a_data || !a_sock || !a_pid || !a_log || !a_user || !a_init || !log || !tmpdir || !a_tmp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = private_tmpdir(tmpdir, p, err)) != RD_OK)
        goto out;
    for (int attempt = 1;; attempt++) {
        char a_port[32];
        rd_proc_spec spec = {0};
        char *dsn = NULL;

        if (tcp && (st = rd_scratch_free_port(&s->conn.port, err)) != RD_OK)
            goto out;
        snprintf(a_port, sizeof a_port, "--port=%d", s->conn.port);
        const char *argv[] = {server,
                              "--no-defaults",
                              a_data,
                              a_sock,
                              a_pid,
                              a_log,
                              "--innodb-buffer-pool-size=64M",
                              "--innodb-flush-log-at-trx-commit=0",
                              "--skip-log-bin",
                              "--skip-name-resolve",
                              a_tmp,
                              a_init,
                              tcp ? "--bind-address=127.0.0.1" : "--skip-networking",
                              tcp ? a_port : "--port=0",
                              p->u.run_as ? a_user : NULL,
                              NULL};
        spec.argv = argv;
        spec.cwd = s->dir;
        spec.term_grace = 20;
        unlink(log);
        if ((st = rd_proc_start(&spec, &p->server, err)) != RD_OK)
            goto out;
        st = rd_scratch_dsn_for(s, s->conn.database, &dsn, err);
        if (st == RD_OK)
            st = rd_scratch_wait_ready(s, dsn, deadline, rd_proc_pid(p->server), log, err);
        free(dsn);
        if (st == RD_OK)
            break;
        rd_proc_free(p->server); /* stops it when still running */
        p->server = NULL;
        char *tail = rd_scratch_file_tail(log, 4000);
        int in_use = tail && strstr(tail, "Address already in use");
        free(tail);
        if (in_use && attempt < MDB_START_ATTEMPTS)
            continue;
        if (in_use)
            rd_error_prefix(err, "port %d in use: ", s->conn.port);
        rd_error_prefix(err, "mariadb server refused to start: ");
        goto out;
    }
out:
    free(a_data);
    free(a_sock);
    free(a_pid);
    free(a_log);
    free(a_user);
    free(a_init);
    free(log);
    free(tmpdir);
    free(a_tmp);
    return st;
}

rd_status rd_eph_mariadb_provision(const rd_scratch_cfg *cfg, const rd_scratch_req *req,
                                   rd_scratch *s, rd_error *err)
{
    mdb_priv *p = calloc(1, sizeof *p);
    char *server = NULL, *install = NULL, *initfile = NULL, *sql = NULL;
    char pw[33];
    int tcp = (req && req->want_tcp) || (cfg && cfg->tcp);
    double timeout = cfg && cfg->timeout > 0 ? cfg->timeout : 600;
    double deadline = req && req->deadline > 0 ? req->deadline : rd_mono_now() + timeout;
    rd_status st;

    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->priv = p;
    if ((st = find_binaries(cfg, &server, &install, err)) != RD_OK ||
        (st = rd_scratch_resolve_user(cfg, "mysql", &p->u, err)) != RD_OK)
        goto fail;
    if (!(p->rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = rd_scratch_make_dir(cfg, RD_ENGINE_MARIADB, req, &p->u, &s->dir, err)) != RD_OK)
        goto fail;
    if (strlen(s->dir) + sizeof "/" MDB_SOCKET > 107) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "scratch directory %s is too long for a unix socket; set scratch.base_dir "
                    "or RESTOREDRILL_RUNDIR to a shorter path",
                    s->dir);
        goto fail;
    }
    rd_random_token(pw, 32);
    s->conn.user = rd_strdup(MDB_USER);
    s->conn.password = rd_strdup(pw);
    s->conn.socket = rd_asprintf("%s/" MDB_SOCKET, s->dir);
    s->conn.database = rd_scratch_sanitize(req ? req->target : NULL, 64);
    initfile = rd_asprintf("%s/init.sql", s->dir);
    if (!s->conn.user || !s->conn.password || !s->conn.socket || !s->conn.database || !initfile) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (strcmp(s->conn.database, "mysql") == 0 || strcmp(s->conn.database, "sys") == 0 ||
        strcmp(s->conn.database, "information_schema") == 0 ||
        strcmp(s->conn.database, "performance_schema") == 0) {
        free(s->conn.database);
        if (!(s->conn.database = rd_strdup("restoredrill"))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    if ((st = install_db(install, s->dir, p, deadline - rd_mono_now(), err)) != RD_OK) {
        rd_error_prefix(err, "cannot initialise a mariadb scratch data directory: ");
        goto fail;
    }
    if (!(sql = init_sql(pw, s->conn.database))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    st = rd_scratch_write_private(initfile, sql, &p->u, err);
    memset(sql, 0, strlen(sql));
    if (st != RD_OK)
        goto fail;
    st = start_server(s, p, server, tcp, initfile, deadline, err);
    unlink(initfile); /* holds the password; the server has read it */
    if (st != RD_OK)
        goto fail;
    if (tcp && !(s->conn.host = rd_strdup("127.0.0.1"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = rd_scratch_finish_conn(s, err)) != RD_OK)
        goto fail;
    rd_log_debug("ephemeral mariadb %s ready in %s", s->server_version ? s->server_version : "",
                 s->dir);
    goto out;
fail:
    if (s->dir) {
        rd_error e;
        rd_eph_mariadb_teardown(s, &e);
    }
    priv_free(s->priv);
    s->priv = NULL;
out:
    free(server);
    free(install);
    free(initfile);
    free(sql);
    return st;
}

static char *parent_dir(const char *dir)
{
    char *r = rd_strdup(dir);
    char *slash = r ? strrchr(r, '/') : NULL;
    if (slash)
        *slash = '\0';
    return r;
}

rd_status rd_eph_mariadb_teardown(rd_scratch *s, rd_error *err)
{
    mdb_priv *p = s->priv;
    char *rundir = NULL;
    rd_status st = RD_OK;

    if (!s->dir)
        return RD_OK;
    if (p && p->server) {
        int code;
        rd_error e;
        kill(rd_proc_pid(p->server), SIGTERM);
        /* at the deadline rd_proc_wait escalates to SIGKILL */
        rd_proc_wait(p->server, rd_mono_now() + 60, &code, &e);
        rd_proc_free(p->server);
        p->server = NULL;
    }
    if ((st = rd_eph_mariadb_stop_leftover(s->dir, err)) != RD_OK)
        return st;
    rundir = p && p->rundir ? rd_strdup(p->rundir) : parent_dir(s->dir);
    st = rd_fs_rmtree(s->dir, rundir, err);
    free(rundir);
    if (st == RD_OK) {
        free(s->dir);
        s->dir = NULL;
        priv_free(p);
        s->priv = NULL;
    }
    return st;
}

rd_status rd_eph_mariadb_stop_leftover(const char *dir, rd_error *err)
{
    char *pidfile = rd_asprintf("%s/" MDB_PIDFILE, dir);
    pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
    rd_status st = RD_OK;

    /* only a server whose data directory is in dir (pids get reused) */
    if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, dir)) {
        rd_scratch_stop_pid(pid, SIGTERM, 60);
        if (rd_scratch_pid_alive(pid))
            st = RD_ERR(err, RD_ERR_PROC, "mariadb server (pid %d) in %s does not stop", (int)pid,
                        dir);
    }
    free(pidfile);
    return st;
}
