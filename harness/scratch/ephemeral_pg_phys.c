/* ephemeral_pg_phys.c: the PostgreSQL engine's physical part (ephemeral_pg.c
 * is the rest): start a postmaster on a data directory that a restore laid,
 * with the scratch's own postgresql.conf, pg_hba.conf and pg_ident.conf
 * outside the data directory (a data directory from a Debian cluster has
 * none, and the host's /etc/postgresql is never read), and attach the drill
 * through trust on the private 0700 socket directory only.
 *
 * The postmaster is our child (no pg_ctl -w: it reports "started" while a
 * recovery can still die), its output goes to the scratch's server.log. */
#include <errno.h>
#include <fcntl.h>
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

/* Our own configuration files, in the instance directory (not the data
 * directory, which holds the restored cluster's files untouched). */
static rd_status write_files(rd_scratch *s, rd_eph *e, rd_error *err)
{
    char *conf = rd_fs_join(s->dir, "postgresql.conf");
    char *hba = rd_fs_join(s->dir, "pg_hba.conf");
    char *ident = rd_fs_join(s->dir, "pg_ident.conf");
    char *hba_text = NULL;
    rd_status st;
    if (!conf || !hba || !ident) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* The drill's way in: trust on the socket of a 0700 directory that only
     * the run_as user (and root) can enter. TCP, when a smoke app needs it,
     * keeps password authentication against the restored roles: nothing an
     * application sees is weakened. */
    hba_text = rd_asprintf("# restoredrill scratch instance\n"
                           "local all all trust\n%s",
                           e->tcp ? "host all all 127.0.0.1/32 scram-sha-256\n"
                                    "host all all 127.0.0.1/32 md5\n"
                                  : "");
    if (!hba_text) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_scratch_write_private(conf,
                                       "# restoredrill scratch instance: the settings that "
                                       "matter are given on the command line\n",
                                       &e->u, err)) != RD_OK ||
        (st = rd_scratch_write_private(hba, hba_text, &e->u, err)) != RD_OK ||
        (st = rd_scratch_write_private(ident, "", &e->u, err)) != RD_OK)
        goto out;
out:
    free(conf);
    free(hba);
    free(ident);
    free(hba_text);
    return st;
}

/* "-c" "name=value" pairs appended to argv. */
static rd_status add_setting(rd_strlist *argv, const char *name, const char *value, rd_error *err)
{
    char *kv = rd_asprintf("%s=%s", name, value);
    rd_status st = kv ? rd_strlist_push(argv, "-c", err) : RD_ERR(err, RD_ERR_NOMEM, "oom");
    if (st == RD_OK)
        st = rd_strlist_push(argv, kv, err);
    free(kv);
    return st;
}

rd_status rd_eph_pg_start_physical(rd_scratch *s, rd_eph *e, const rd_scratch_start *o,
                                   rd_error *err)
{
    rd_eph_pg_priv *p = e->priv;
    rd_strlist argv = {0};
    const char **av = NULL;
    char *postgres = p->postgres ? rd_strdup(p->postgres) : rd_asprintf("%s/postgres", p->bindir);
    char *conf = rd_fs_join(s->dir, "postgresql.conf");
    char *hba = rd_fs_join(s->dir, "pg_hba.conf");
    char *ident = rd_fs_join(s->dir, "pg_ident.conf");
    char port[16];
    int fd = -1;
    rd_status st;

    if (!postgres || !conf || !hba || !ident) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (p->server) {
        rd_proc_free(p->server);
        p->server = NULL;
    }
    if (!e->tcp)
        s->conn.port = 5432; /* socket only: the number only names the socket file */
    snprintf(port, sizeof port, "%d", s->conn.port);
    if ((st = write_files(s, e, err)) != RD_OK)
        goto out;
    if ((st = rd_strlist_push(&argv, postgres, err)) != RD_OK ||
        (st = rd_strlist_push(&argv, "-D", err)) != RD_OK ||
        (st = rd_strlist_push(&argv, s->data_dir, err)) != RD_OK)
        goto out;
    /* the restore's settings first: later -c options win */
    for (size_t i = 0; o && o->settings && o->settings[i]; i++) {
        const char *eq = strchr(o->settings[i], '=');
        if (!eq || eq == o->settings[i]) {
            st = RD_ERR(err, RD_ERR_CONFIG, "server setting \"%s\" is not name=value",
                        o->settings[i]);
            goto out;
        }
        if ((st = rd_strlist_push(&argv, "-c", err)) != RD_OK ||
            (st = rd_strlist_push(&argv, o->settings[i], err)) != RD_OK)
            goto out;
    }
    /* the scratch's own settings and safety: never archive into the
     * production archive, never listen beyond 127.0.0.1, log in UTC */
    const char *const safety[][2] = {
        {"config_file", conf},
        {"hba_file", hba},
        {"ident_file", ident},
        {"listen_addresses", e->tcp ? "127.0.0.1" : ""},
        {"port", port},
        {"unix_socket_directories", s->dir},
        {"unix_socket_permissions", "0700"},
        {"unix_socket_group", ""},
        {"archive_mode", "off"},
        {"archive_command", ""},
        {"archive_library", ""},
        {"primary_conninfo", ""},
        {"primary_slot_name", ""},
        {"ssl", "off"},
        {"logging_collector", "off"},
        {"log_destination", "stderr"},
        {"log_timezone", "UTC"},
        {"timezone", "UTC"},
        {"log_line_prefix", "%m [%p] "},
        {"data_sync_retry", "off"},
        {"fsync", "off"},
        {"full_page_writes", "off"},
        {"synchronous_commit", "off"},
        {"synchronous_standby_names", ""},
    };
    for (size_t i = 0; i < sizeof safety / sizeof safety[0]; i++)
        if ((st = add_setting(&argv, safety[i][0], safety[i][1], err)) != RD_OK)
            goto out;
    if (!(av = rd_strlist_argv(&argv))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", e->log);
        goto out;
    }
    if (e->u.run_as && fchown(fd, e->u.uid, e->u.gid) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", e->log, e->u.name);
        goto out;
    }
    rd_proc_spec spec = {.argv = av,
                         .cwd = s->dir,
                         .no_cloud_secrets = 1,
                         .stdout_mode = RD_PROC_IO_FD,
                         .stdout_fd = fd,
                         .stderr_to_stdout = 1,
                         .run_as = e->u.run_as,
                         .uid = e->u.uid,
                         .gid = e->u.gid,
                         .term_grace = 30};
    if ((st = rd_proc_start(&spec, &p->server, err)) != RD_OK)
        rd_error_prefix(err, "cannot start the postgresql server: ");
out:
    if (fd >= 0)
        close(fd);
    free(av);
    rd_strlist_free(&argv);
    free(postgres);
    free(conf);
    free(hba);
    free(ident);
    return st;
}

pid_t rd_eph_pg_running_pid(rd_scratch *s, rd_eph *e)
{
    (void)s;
    rd_eph_pg_priv *p = e->priv;
    return p ? rd_scratch_proc_running(p->server) : 0;
}

/* Connect over the socket as the first of the usual bootstrap superuser
 * names that exists: trust authenticates, the role must still exist. */
static rd_status connect_super(rd_scratch *s, rd_eph *e, double deadline, rd_db **db, char **user,
                               rd_error *err)
{
    const char *names[] = {"postgres", e->u.run_as ? e->u.name : NULL, "restoredrill", NULL};
    rd_db_opts opts = {.connect_timeout = 5, .app_name = "restoredrill"};
    rd_error last;
    rd_error_clear(&last);
    for (;;) {
        for (size_t i = 0; i < sizeof names / sizeof names[0] && names[i]; i++) {
            char *dsn = rd_asprintf("host=%s port=%d user=%s dbname=postgres", s->dir, s->conn.port,
                                    names[i]);
            if (!dsn)
                return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            rd_status st = rd_db_connect(RD_ENGINE_PG, dsn, &opts, db, &last);
            free(dsn);
            if (st == RD_OK) {
                *user = rd_strdup(names[i]);
                return *user ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            }
            if (!strstr(last.msg, "does not exist"))
                break; /* not a missing role: the server is not ready yet */
        }
        if (!strstr(last.msg, "does not exist") && deadline > 0 && rd_mono_now() < deadline &&
            rd_eph_pg_running_pid(s, e) > 0) {
            rd_scratch_sleep_ms(100);
            continue;
        }
        return RD_ERR(err, RD_ERR_CONNECT, "cannot attach to the restored cluster: %s%s", last.msg,
                      strstr(last.msg, "does not exist")
                          ? " (the drill connects as \"postgres\" or the run_as user: the restored "
                            "cluster has neither role)"
                          : "");
    }
}

static int is_system_db(const char *n)
{
    return strcmp(n, "postgres") == 0 || strncmp(n, "template", 8) == 0;
}

/* With no user database, the drill works in "postgres". */
static const rd_scratch_db_rules pg_rules = {
    .noun = "cluster", .is_system = is_system_db, .fallback = "postgres"};

rd_status rd_eph_pg_attach(rd_scratch *s, rd_eph *e, const char *database, const char *target,
                           double deadline, rd_error *err)
{
    rd_db *db = NULL;
    rd_db_result *r = NULL;
    char *user = NULL, *chosen = NULL;
    rd_status st;

    if ((st = connect_super(s, e, deadline, &db, &user, err)) != RD_OK)
        goto out;
    if ((st = rd_db_query(db, "SELECT datname FROM pg_database WHERE datallowconn ORDER BY datname",
                          60, 10000, &r, err)) != RD_OK ||
        (st = rd_scratch_choose_database(r, &pg_rules, database, target, &chosen, err)) != RD_OK)
        goto out;
    free(s->server_version);
    s->server_version = NULL;
    if ((st = rd_db_server_version(db, &s->server_version, err)) != RD_OK)
        goto out;
    free(s->conn.user);
    free(s->conn.database);
    free(s->conn.password); /* trust on the private socket: no password */
    s->conn.user = user;
    s->conn.database = chosen;
    s->conn.password = NULL;
    user = chosen = NULL;
out:
    rd_db_result_free(r);
    rd_db_free(db);
    free(user);
    free(chosen);
    return st;
}

/* "pg_checksums: error: checksum verification failed in file ..." style
 * first complaint, else the "Bad checksums: N" line. */
static void summarise(const char *text, int code, rd_scratch_offline *out)
{
    const char *p = text ? strstr(text, "checksum verification failed") : NULL;
    const char *bad = text ? strstr(text, "Bad checksums:") : NULL;
    const char *use = p ? p : bad ? bad : text ? text : "";
    size_t n = strcspn(use, "\n");
    if (code == 0 && bad)
        use = bad, n = strcspn(bad, "\n");
    snprintf(out->summary, sizeof out->summary, "%.*s", (int)(n > 500 ? 500 : n), use);
}

rd_status rd_eph_pg_verify_pages(rd_scratch *s, rd_eph *e, double deadline, rd_scratch_offline *out,
                                 rd_error *err)
{
    rd_eph_pg_priv *p = e->priv;
    const char *dirs[] = {p->bindir, "/usr/lib/postgresql/17/bin", "/usr/lib/postgresql/16/bin",
                          "/usr/lib/postgresql/15/bin", NULL};
    char *tool = rd_proc_which("pg_checksums", dirs);
    rd_strbuf text;
    int code = 0;
    rd_status st;
    rd_strbuf_init(&text, 65536);
    if (!tool) {
        st =
            RD_ERR(err, RD_ERR_NOTFOUND,
                   "pg_checksums not found (Debian: postgresql-15); searched $PATH, %s", p->bindir);
        goto out;
    }
    e->eng->stop(s, e);
    pid_t pid = e->eng->server_pid(s->dir);
    if (pid > 0 && rd_scratch_pid_alive(pid)) {
        st = RD_ERR(err, RD_ERR_PROC, "the restored server (pid %d) did not stop for pg_checksums",
                    (int)pid);
        goto out;
    }
    const char *argv[] = {tool, "--check", "-D", s->data_dir, NULL};
    rd_proc_spec spec = {.argv = argv,
                         .cwd = s->dir,
                         .stderr_to_stdout = 1,
                         .run_as = e->u.run_as,
                         .uid = e->u.uid,
                         .gid = e->u.gid};
    double left = deadline > 0 ? deadline - rd_mono_now() : 0;
    st = rd_proc_run(&spec, deadline > 0 && left < 1 ? 1 : left, &text, NULL, &code, err);
    if (st == RD_OK) {
        out->applies = !(text.data && strstr(text.data, "data checksums are not enabled"));
        out->ok = code == 0;
        summarise(text.data, code, out);
        if (text.len)
            rd_strbuf_append(&out->output, text.data, NULL);
    }
    /* start again with the scratch's own settings (no recovery left to do),
     * also when pg_checksums could not run: the online checks follow */
    rd_error e2;
    rd_scratch_start so = {.settings = NULL, .deadline = deadline};
    rd_status st2 = rd_eph_pg_start_physical(s, e, &so, &e2);
    if (st2 == RD_OK)
        st2 = rd_scratch_wait_ready(s, s->conn.dsn, deadline, rd_eph_pg_running_pid(s, e), e->log,
                                    &e2);
    if (st2 != RD_OK && st == RD_OK) {
        st = st2;
        if (err)
            *err = e2;
        rd_error_prefix(err, "restarting after pg_checksums: ");
    }
out:
    rd_strbuf_free(&text);
    free(tool);
    return st;
}
