/* ephemeral_mariadb.c: the MariaDB engine of the ephemeral scratch driver
 * (ephemeral.c): mariadb-install-db, then mariadbd as our child with
 * --no-defaults, its own tmpdir and an init file that sets the random
 * password and creates the scratch database. */
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
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define MDB_USER "restoredrill"
#define MDB_SOCKET "mysqld.sock"
#define MDB_PIDFILE "mariadbd.pid"

typedef rd_eph_mdb_priv mdb_priv;

static void priv_free(void *priv)
{
    mdb_priv *p = priv;
    if (!p)
        return;
    rd_proc_free(p->server_proc);
    if (p->initfile)
        unlink(p->initfile);
    free(p->server);
    free(p->install);
    free(p->initfile);
    free(p->drill_user);
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

static rd_status mdb_prepare(const rd_scratch_cfg *cfg, void **priv, rd_error *err)
{
    static const char *const sdirs[] = {"/usr/sbin", "/usr/libexec", "/usr/local/mysql/bin", NULL};
    static const char *const idirs[] = {"/usr/bin", "/usr/scripts", "/usr/local/mysql/scripts",
                                        NULL};
    static const char *const snames[] = {"mariadbd", "mysqld", NULL};
    static const char *const inames[] = {"mariadb-install-db", "mysql_install_db", NULL};
    mdb_priv *p = calloc(1, sizeof *p);

    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    p->server = find_tool(cfg, snames, sdirs);
    p->install = find_tool(cfg, inames, idirs);
    if (p->server && p->install) {
        *priv = p;
        return RD_OK;
    }
    priv_free(p);
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
static rd_status private_tmpdir(const char *tmpdir, const rd_eph_user *u, rd_error *err)
{
    if (mkdir(tmpdir, 0700) != 0 && errno != EEXIST)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", tmpdir);
    if (u->run_as && chown(tmpdir, u->uid, u->gid) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", tmpdir, u->name);
    return RD_OK;
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

/* What mariadb-install-db is run with: part of a template's identity. */
#define MDB_INIT_FLAGS "--auth-root-authentication-method=normal --skip-test-db --skip-name-resolve"

/* An empty data directory; the users and the password come from the init
 * file of each start (mdb_configure), so user and password are not used. */
static rd_status mdb_init_data(const char *dir, rd_eph *e, const char *user, const char *password,
                               double deadline, rd_error *err)
{
    mdb_priv *p = e->priv;
    char *datadir = rd_fs_join(dir, "data");
    char *a_data = rd_asprintf("--datadir=%s", datadir);
    char *a_user = rd_asprintf("--user=%s", e->u.name);
    char *tmpdir = rd_fs_join(dir, "tmp");
    char *a_tmp = rd_asprintf("--tmpdir=%s", tmpdir ? tmpdir : "");
    rd_status st;

    (void)user;
    (void)password;
    if (!datadir || !a_data || !a_user || !tmpdir || !a_tmp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = private_tmpdir(tmpdir, &e->u, err)) != RD_OK)
        goto out;
    const char *argv[] = {p->install,
                          "--no-defaults",
                          a_data,
                          a_tmp,
                          "--auth-root-authentication-method=normal",
                          "--skip-test-db",
                          "--skip-name-resolve",
                          e->u.run_as ? a_user : NULL,
                          NULL};
    double left = deadline - rd_mono_now();
    st = rd_scratch_run_tool(&e->u, argv, dir, left > 5 ? left : 5, NULL, err);
out:
    free(datadir);
    free(a_data);
    free(a_user);
    free(tmpdir);
    free(a_tmp);
    return st;
}

/* The instance's own tmpdir, and the init file that sets its password and
 * creates its database at start. */
static rd_status mdb_configure(rd_scratch *s, rd_eph *e, int tcp, rd_error *err)
{
    mdb_priv *p = e->priv;
    char *tmpdir = rd_asprintf("%s/tmp", s->dir);
    char *sql = NULL;
    rd_status st;

    (void)tcp;
    p->initfile = rd_asprintf("%s/init.sql", s->dir);
    if (!tmpdir || !p->initfile) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = private_tmpdir(tmpdir, &e->u, err)) != RD_OK)
        goto out;
    if (!(sql = init_sql(s->conn.password, s->conn.database))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    st = rd_scratch_write_private(p->initfile, sql, &e->u, err);
    memset(sql, 0, strlen(sql));
out:
    free(tmpdir);
    free(sql);
    return st;
}

static const char *mdb_binary(const void *priv)
{
    const mdb_priv *p = priv;
    return p->server;
}

/* --innodb-buffer-pool-size for a bulk load: an eighth of the memory
 * available, within 64 MiB .. 1 GiB, and --innodb-log-file-size the same
 * but at least the server's default 96 MiB: fewer checkpoints during the
 * load (docs/restore-tuning.md). */
static void pool_size(char *buf, size_t cap, char *log, size_t log_cap)
{
    unsigned long long kb = 0;
    char line[256];
    FILE *f = fopen("/proc/meminfo", "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    unsigned long long mb = kb / 1024 / 8;
    mb = mb < 64 ? 64 : mb > 1024 ? 1024 : mb;
    snprintf(buf, cap, "--innodb-buffer-pool-size=%lluM", mb);
    snprintf(log, log_cap, "--innodb-log-file-size=%lluM", mb < 96 ? 96 : mb);
}

static rd_status mdb_start(rd_scratch *s, rd_eph *e, int tcp, double deadline, rd_error *err)
{
    mdb_priv *p = e->priv;
    const char *server = p->server;
    const char *initfile = p->initfile;
    char *a_data = rd_asprintf("--datadir=%s/data", s->dir);
    char *a_sock = rd_asprintf("--socket=%s", s->conn.socket);
    char *a_pid = rd_asprintf("--pid-file=%s/" MDB_PIDFILE, s->dir);
    char *a_log = rd_asprintf("--log-error=%s", e->log);
    char *a_user = rd_asprintf("--user=%s", e->u.name);
    char *a_init = rd_asprintf("--init-file=%s", initfile);
    char *tmpdir = rd_asprintf("%s/tmp", s->dir);
    char *a_tmp = rd_asprintf("--tmpdir=%s", tmpdir ? tmpdir : "");
    char *dsn = NULL;
    char a_port[32];
    rd_proc_spec spec = {0};
    rd_status st;

    if (!a_data || !a_sock || !a_pid || !a_log || !a_user || !a_init || !tmpdir || !a_tmp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    char a_pool[64], a_log_size[64];
    snprintf(a_port, sizeof a_port, "--port=%d", s->conn.port);
    pool_size(a_pool, sizeof a_pool, a_log_size, sizeof a_log_size);
    const char *argv[] = {server,
                          "--no-defaults",
                          a_data,
                          a_sock,
                          a_pid,
                          a_log,
                          a_pool,
                          a_log_size,
                          "--innodb-flush-log-at-trx-commit=0",
                          "--innodb-doublewrite=0",
                          "--skip-log-bin",
                          "--skip-name-resolve",
                          a_tmp,
                          a_init,
                          tcp ? "--bind-address=127.0.0.1" : "--skip-networking",
                          tcp ? a_port : "--port=0",
                          e->u.run_as ? a_user : NULL,
                          NULL};
    spec.argv = argv;
    spec.cwd = s->dir;
    spec.term_grace = 20;
    spec.no_cloud_secrets = 1;
    unlink(e->log);
    if ((st = rd_proc_start(&spec, &p->server_proc, err)) != RD_OK)
        goto out;
    if ((st = rd_scratch_dsn_for(s, s->conn.database, &dsn, err)) == RD_OK)
        st = rd_scratch_wait_ready(s, dsn, deadline, rd_proc_pid(p->server_proc), e->log, err);
out:
    free(a_data);
    free(a_sock);
    free(a_pid);
    free(a_log);
    free(a_user);
    free(a_init);
    free(tmpdir);
    free(a_tmp);
    free(dsn);
    return st;
}

/* The init file holds the password: gone once the server has read it. */
static rd_status mdb_ready(rd_scratch *s, rd_eph *e, const char *own_pw, rd_error *err)
{
    (void)own_pw;
    mdb_priv *p = e->priv;
    (void)s;
    (void)err;
    unlink(p->initfile);
    return RD_OK;
}

static void mdb_stop(rd_scratch *s, rd_eph *e)
{
    mdb_priv *p = e->priv;
    (void)s;
    if (!p || !p->server_proc)
        return;
    rd_error e2;
    /* at the deadline rd_proc_wait escalates to SIGKILL */
    (void)rd_scratch_stop_proc(&p->server_proc, SIGTERM, 60, &e2);
}

static pid_t mdb_server_pid(const char *dir)
{
    char *pidfile = rd_asprintf("%s/" MDB_PIDFILE, dir);
    pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
    free(pidfile);
    return pid;
}

static const char *const reserved[] = {"mysql", "sys", "information_schema", "performance_schema",
                                       NULL};

const rd_eph_engine rd_eph_mariadb = {
    .engine = RD_ENGINE_MARIADB,
    .label = "mariadb",
    .default_user = "mysql",
    .socket_file = MDB_SOCKET,
    .socket_is_dir = 0,
    .db_name_max = 64,
    .reserved_dbs = reserved,
    .leftover_signal = SIGTERM,
    .leftover_grace = 60,
    .prepare = mdb_prepare,
    .init_flags = MDB_INIT_FLAGS,
    .init_data = mdb_init_data,
    .configure = mdb_configure,
    .binary = mdb_binary,
    .start = mdb_start,
    .stop = mdb_stop,
    .server_pid = mdb_server_pid,
    .priv_free = priv_free,
    .ready = mdb_ready,
    .start_physical = rd_eph_mdb_start_physical,
    .running_pid = rd_eph_mdb_running_pid,
    .attach = rd_eph_mdb_attach,
};
