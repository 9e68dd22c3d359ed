/* ephemeral_mariadb_phys.c: the MariaDB engine's physical part
 * (ephemeral_mariadb.c is the rest): start mariadbd on a data directory that
 * a restore laid (mariadb-backup), and attach the drill.
 *
 * The server runs with --no-defaults (the host's /etc/mysql is never read),
 * its own socket in the 0700 instance directory, no networking unless TCP is
 * wanted (then 127.0.0.1 only), binary logging off, no replica threads and
 * no event scheduler (a restored event or replication setup must not change
 * the data the drill checks). The drill's way in is an account of its own,
 * created by --init-file with the scratch's random password
 * (rd_drill_<random>@localhost: a name no restored account has), so the
 * restored accounts and grants stay as they were. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define MDB_PIDFILE "mariadbd.pid"

static rd_status write_init(rd_scratch *s, rd_eph *e, rd_error *err)
{
    rd_eph_mdb_priv *p = e->priv;
    char tok[13];
    rd_random_token(tok, 12);
    free(p->drill_user);
    p->drill_user = rd_asprintf("rd_drill_%s", tok);
    free(p->initfile);
    p->initfile = rd_fs_join(s->dir, "init.sql");
    if (!p->drill_user || !p->initfile)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    char *sql = rd_asprintf("CREATE OR REPLACE USER '%s'@'localhost' IDENTIFIED BY '%s';\n"
                            "GRANT ALL PRIVILEGES ON *.* TO '%s'@'localhost' WITH GRANT OPTION;\n",
                            p->drill_user, s->conn.password, p->drill_user);
    if (!sql)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_scratch_write_private(p->initfile, sql, &e->u, err);
    memset(sql, 0, strlen(sql));
    free(sql);
    return st;
}

/* "--name=value" (name holds the "--" and the "=") */
static rd_status push_opt(rd_strlist *argv, const char *name, const char *v, rd_error *err)
{
    char *a = rd_asprintf("%s%s", name, v);
    rd_status st = a ? rd_strlist_push(argv, a, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(a);
    return st;
}

rd_status rd_eph_mdb_start_physical(rd_scratch *s, rd_eph *e, const rd_scratch_start *o,
                                    rd_error *err)
{
    rd_eph_mdb_priv *p = e->priv;
    rd_strlist argv = {0};
    const char **av = NULL;
    char *tmpdir = rd_fs_join(s->dir, "tmp");
    char *pidfile = rd_fs_join(s->dir, MDB_PIDFILE);
    char port[16];
    rd_status st;

    if (!tmpdir || !pidfile) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (p->server_proc) {
        rd_proc_free(p->server_proc);
        p->server_proc = NULL;
    }
    if (mkdir(tmpdir, 0700) != 0 && errno != EEXIST) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", tmpdir);
        goto out;
    }
    if (e->u.run_as && chown(tmpdir, e->u.uid, e->u.gid) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", tmpdir, e->u.name);
        goto out;
    }
    if ((st = write_init(s, e, err)) != RD_OK)
        goto out;
    snprintf(port, sizeof port, "%d", s->conn.port);
    /* tuning defaults first, then the restore's settings (later options win),
     * then the scratch's own and its safety settings, which win over both */
    if ((st = rd_strlist_push(&argv, p->server, err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--no-defaults", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--innodb-buffer-pool-size=256M", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--innodb-flush-log-at-trx-commit=0", err)) != RD_OK)
        goto out;
    for (size_t i = 0; o && o->settings && o->settings[i]; i++) {
        const char *eq = strchr(o->settings[i], '=');
        if (!eq || eq == o->settings[i]) {
            st = RD_ERR(err, RD_ERR_CONFIG, "server setting \"%s\" is not name=value",
                        o->settings[i]);
            goto out;
        }
        if ((st = push_opt(&argv, "--", o->settings[i], err)) != RD_OK)
            goto out;
    }
    if ((st = push_opt(&argv, "--datadir=", s->data_dir, err)) != RD_OK ||
        (st = push_opt(&argv, "--socket=", s->conn.socket, err)) != RD_OK ||
        (st = push_opt(&argv, "--pid-file=", pidfile, err)) != RD_OK ||
        (st = push_opt(&argv, "--log-error=", e->log, err)) != RD_OK ||
        (st = push_opt(&argv, "--tmpdir=", tmpdir, err)) != RD_OK ||
        (st = push_opt(&argv, "--init-file=", p->initfile, err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--skip-log-bin", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--skip-slave-start", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--event-scheduler=DISABLED", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "--skip-name-resolve", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, e->tcp ? "--bind-address=127.0.0.1" : "--skip-networking",
                              err)) != RD_OK ||
        (st = push_opt(&argv, "--port=", e->tcp ? port : "0", err)) != RD_OK ||
        (e->u.run_as && (st = push_opt(&argv, "--user=", e->u.name, err)) != RD_OK))
        goto out;
    if (!(av = rd_strlist_argv(&argv))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    unlink(e->log);
    rd_proc_spec spec = {.argv = av, .cwd = s->dir, .term_grace = 60, .no_cloud_secrets = 1};
    if ((st = rd_proc_start(&spec, &p->server_proc, err)) != RD_OK)
        rd_error_prefix(err, "cannot start the mariadb server: ");
out:
    free(av);
    rd_strlist_free(&argv);
    free(tmpdir);
    free(pidfile);
    return st;
}

pid_t rd_eph_mdb_running_pid(rd_scratch *s, rd_eph *e)
{
    (void)s;
    rd_eph_mdb_priv *p = e->priv;
    return p ? rd_scratch_proc_running(p->server_proc) : 0;
}

static int is_system_db(const char *n)
{
    return strcmp(n, "mysql") == 0 || strcmp(n, "sys") == 0 ||
           strcmp(n, "information_schema") == 0 || strcmp(n, "performance_schema") == 0;
}

/* A restored server without a database of its own is an error. */
static const rd_scratch_db_rules mdb_rules = {
    .noun = "server", .is_system = is_system_db, .fallback = NULL};

/* Connect as the drill's account until the server answers (it may still be
 * applying its crash recovery), or it died, or the deadline passed. */
static rd_status connect_drill(rd_scratch *s, rd_eph *e, double deadline, rd_db **db, rd_error *err)
{
    rd_eph_mdb_priv *p = e->priv;
    rd_db_opts opts = {.connect_timeout = 5, .password = s->conn.password};
    char *dsn = rd_asprintf("mariadb://%s@localhost/?socket=%s", p->drill_user, s->conn.socket);
    rd_error last;
    rd_error_clear(&last);
    if (!dsn)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (;;) {
        if (rd_db_connect(RD_ENGINE_MARIADB, dsn, &opts, db, &last) == RD_OK) {
            free(dsn);
            return RD_OK;
        }
        if (rd_eph_mdb_running_pid(s, e) == 0 || (deadline > 0 && rd_mono_now() >= deadline))
            break;
        rd_scratch_sleep_ms(100);
    }
    free(dsn);
    char *tail = rd_scratch_file_tail(e->log, 600);
    rd_status st = RD_ERR(err, rd_eph_mdb_running_pid(s, e) ? RD_ERR_TIMEOUT : RD_ERR_PROC,
                          "cannot attach to the restored server: %s%s%s", last.msg,
                          tail && *tail ? "; server log: " : "", tail ? tail : "");
    free(tail);
    return st;
}

rd_status rd_eph_mdb_attach(rd_scratch *s, rd_eph *e, const char *database, const char *target,
                            double deadline, rd_error *err)
{
    rd_eph_mdb_priv *p = e->priv;
    rd_db *db = NULL;
    rd_db_result *r = NULL;
    char *chosen = NULL, *user = NULL;
    rd_status st;

    if ((st = connect_drill(s, e, deadline, &db, err)) != RD_OK)
        goto out;
    if (p->initfile) /* read: the password it holds goes */
        unlink(p->initfile);
    if ((st = rd_db_query(db, "SELECT schema_name FROM information_schema.schemata ORDER BY 1", 60,
                          100000, &r, err)) != RD_OK ||
        (st = rd_scratch_choose_database(r, &mdb_rules, database, target, &chosen, err)) != RD_OK)
        goto out;
    free(s->server_version);
    s->server_version = NULL;
    if ((st = rd_db_server_version(db, &s->server_version, err)) != RD_OK)
        goto out;
    if (!(user = rd_strdup(p->drill_user))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    free(s->conn.user);
    free(s->conn.database);
    s->conn.user = user;
    s->conn.database = chosen;
    user = chosen = NULL;
out:
    rd_db_result_free(r);
    rd_db_free(db);
    free(user);
    free(chosen);
    return st;
}
