/* ephemeral_pg.c: a private PostgreSQL server in a 0700 temp directory,
 * started from the installed binaries as the run_as user, reachable on a
 * unix socket in that directory (and 127.0.0.1 when TCP is wanted). */
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
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define PG_USER "restoredrill"
#define PG_START_ATTEMPTS 3

typedef struct pg_priv {
    rd_eph_user u;
    char *bindir;
    char *rundir;
} pg_priv;

static void priv_free(pg_priv *p)
{
    if (!p)
        return;
    free(p->bindir);
    free(p->rundir);
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

/* Run a tool of bindir as the run_as user; a failure names the tool and
 * carries its output tail (and the server log tail when log is given). */
static rd_status run_tool(const pg_priv *p, const char *const *argv, const char *cwd,
                          double timeout, const char *log, rd_error *err)
{
    rd_proc_spec spec = {0};
    rd_strbuf outb, errb;
    int code = 0;
    rd_status st;
    char *tail = NULL;

    rd_strbuf_init(&outb, 65536);
    rd_strbuf_init(&errb, 0);
    spec.argv = argv;
    spec.cwd = cwd;
    spec.stdin_mode = RD_PROC_IO_NULL;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    spec.run_as = p->u.run_as;
    spec.uid = p->u.uid;
    spec.gid = p->u.gid;
    st = rd_proc_run(&spec, timeout, &outb, &errb, &code, err);
    if (st != RD_OK)
        goto out;
    if (code != 0) {
        const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        tail = log ? rd_scratch_file_tail(log, 600) : NULL;
        rd_strbuf *b = errb.len ? &errb : &outb;
        rd_strbuf_keep_tail(b, 600);
        for (char *c = b->data; *c; c++)
            if (*c == '\n')
                *c = ' ';
        st = RD_ERR(err, RD_ERR_PROC, "%s exited with %d: %s", base, code,
                    tail && *tail ? tail : b->data);
        if (strstr(err ? err->msg : "", "No space left on device"))
            rd_error_prefix(err, "disk full: ");
    }
out:
    free(tail);
    rd_strbuf_free(&outb);
    rd_strbuf_free(&errb);
    return st;
}

static int safe_path(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("/._-+", *s)))
            return 0;
    return 1;
}

static rd_status write_conf(const char *dir, int tcp, const pg_priv *p, rd_error *err)
{
    char *path = rd_asprintf("%s/data/postgresql.conf", dir);
    FILE *f = NULL;
    rd_status st = RD_OK;

    (void)p;
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

static rd_status pg_start(rd_scratch *s, pg_priv *p, int tcp, double deadline, rd_error *err)
{
    char *pg_ctl = rd_asprintf("%s/pg_ctl", p->bindir);
    char *data = rd_asprintf("%s/data", s->dir);
    char *log = rd_asprintf("%s/server.log", s->dir);
    rd_status st = RD_OK;

    if (!pg_ctl || !data || !log) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (int attempt = 1;; attempt++) {
        char opts[64], wait_s[32];
        double left = deadline - rd_mono_now();
        if (left < 5)
            left = 5;
        if (tcp && (st = rd_scratch_free_port(&s->conn.port, err)) != RD_OK)
            goto out;
        snprintf(opts, sizeof opts, "-p %d", s->conn.port);
        snprintf(wait_s, sizeof wait_s, "%d", (int)left);
        const char *argv[] = {pg_ctl, "-D",   data, "-l", log,     "-w",
                              "-t",   wait_s, "-o", opts, "start", NULL};
        st = run_tool(p, argv, s->dir, left + 10, log, err);
        if (st == RD_OK)
            break;
        char *tail = rd_scratch_file_tail(log, 2000);
        int in_use = tail && strstr(tail, "Address already in use");
        free(tail);
        if (in_use && attempt < PG_START_ATTEMPTS) {
            /* another process took the port between our probe and the bind: retry */
            unlink(log);
            continue;
        }
        if (in_use)
            rd_error_prefix(err, "port %d in use: ", s->conn.port);
        rd_error_prefix(err, "postgresql server refused to start: ");
        goto out;
    }
out:
    free(pg_ctl);
    free(data);
    free(log);
    return st;
}

static rd_status create_db(rd_scratch *s, rd_error *err)
{
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

rd_status rd_eph_pg_provision(const rd_scratch_cfg *cfg, const rd_scratch_req *req, rd_scratch *s,
                              rd_error *err)
{
    pg_priv *p = calloc(1, sizeof *p);
    char pw[33];
    char *pwfile = NULL, *data = NULL, *initdb = NULL, *log = NULL;
    int tcp = (req && req->want_tcp) || (cfg && cfg->tcp);
    double timeout = cfg && cfg->timeout > 0 ? cfg->timeout : 600;
    double deadline = req && req->deadline > 0 ? req->deadline : rd_mono_now() + timeout;
    rd_status st;

    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->priv = p;
    if ((st = find_bindir(cfg, &p->bindir, err)) != RD_OK ||
        (st = rd_scratch_resolve_user(cfg, "postgres", &p->u, err)) != RD_OK)
        goto fail;
    if (!(p->rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = rd_scratch_make_dir(cfg, RD_ENGINE_PG, req, &p->u, &s->dir, err)) != RD_OK)
        goto fail;
    if (!safe_path(s->dir) || strlen(s->dir) + sizeof "/.s.PGSQL.65535" > 107) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "scratch directory %s is too long or has unusual characters for a unix "
                    "socket; set scratch.base_dir or RESTOREDRILL_RUNDIR to a short plain path",
                    s->dir);
        goto fail;
    }
    rd_random_token(pw, 32);
    pwfile = rd_asprintf("%s/pwfile", s->dir);
    data = rd_asprintf("%s/data", s->dir);
    initdb = rd_asprintf("%s/initdb", p->bindir);
    log = rd_asprintf("%s/server.log", s->dir);
    s->conn.user = rd_strdup(PG_USER);
    s->conn.password = rd_strdup(pw);
    s->conn.socket = rd_strdup(s->dir);
    s->conn.database = rd_scratch_sanitize(req ? req->target : NULL, 63);
    if (!pwfile || !data || !initdb || !log || !s->conn.user || !s->conn.password ||
        !s->conn.socket || !s->conn.database) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (strncmp(s->conn.database, "template", 8) == 0) {
        free(s->conn.database);
        s->conn.database = rd_strdup("restoredrill");
    }
    s->conn.port = 5432; /* socket only: the number only names the socket file */
    if ((st = rd_scratch_write_private(pwfile, pw, &p->u, err)) != RD_OK)
        goto fail;
    {
        char pwopt[4200];
        snprintf(pwopt, sizeof pwopt, "--pwfile=%s", pwfile);
        const char *argv[] = {initdb,
                              "-D",
                              data,
                              "--data-checksums",
                              "-U",
                              PG_USER,
                              "--auth=scram-sha-256",
                              pwopt,
                              "-E",
                              "UTF8",
                              "--locale=C.UTF-8",
                              "--no-sync",
                              "--no-instructions",
                              NULL};
        st = run_tool(p, argv, s->dir, deadline - rd_mono_now() > 5 ? deadline - rd_mono_now() : 5,
                      NULL, err);
        unlink(pwfile);
        if (st != RD_OK) {
            rd_error_prefix(err, "cannot initialise a postgresql scratch cluster: ");
            goto fail;
        }
    }
    if ((st = write_conf(s->dir, tcp, p, err)) != RD_OK ||
        (st = pg_start(s, p, tcp, deadline, err)) != RD_OK)
        goto fail;
    if (tcp && !(s->conn.host = rd_strdup("127.0.0.1"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    {
        char *dsn = NULL;
        char *pidfile = rd_asprintf("%s/postmaster.pid", data);
        pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
        free(pidfile);
        st = rd_scratch_dsn_for(s, "postgres", &dsn, err);
        if (st == RD_OK)
            st = rd_scratch_wait_ready(s, dsn, deadline, pid, log, err);
        free(dsn);
        if (st != RD_OK)
            goto fail;
    }
    if ((st = create_db(s, err)) != RD_OK || (st = rd_scratch_finish_conn(s, err)) != RD_OK)
        goto fail;
    rd_log_debug("ephemeral postgresql %s ready in %s", s->server_version ? s->server_version : "",
                 s->dir);
    goto out;
fail:
    if (s->dir) {
        rd_error e;
        rd_eph_pg_teardown(s, &e);
    }
    priv_free(s->priv);
    s->priv = NULL;
out:
    free(pwfile);
    free(data);
    free(initdb);
    free(log);
    return st;
}

rd_status rd_eph_pg_teardown(rd_scratch *s, rd_error *err)
{
    pg_priv *p = s->priv;
    char *pidfile = s->dir ? rd_asprintf("%s/data/postmaster.pid", s->dir) : NULL;
    char *data = s->dir ? rd_asprintf("%s/data", s->dir) : NULL;
    char *pg_ctl = p && p->bindir ? rd_asprintf("%s/pg_ctl", p->bindir) : NULL;
    rd_status st = RD_OK;

    if (!s->dir)
        goto out;
    pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
    if (pid > 0 && rd_scratch_pid_alive(pid) && pg_ctl && data) {
        const char *fast[] = {pg_ctl, "-D", data, "-m", "fast", "-w", "-t", "30", "stop", NULL};
        const char *imm[] = {pg_ctl, "-D", data, "-m", "immediate", "-w", "-t", "10", "stop", NULL};
        rd_error e;
        if (run_tool(p, fast, s->dir, 40, NULL, &e) != RD_OK) {
            rd_log_warn("pg_ctl stop -m fast failed: %s", e.msg);
            run_tool(p, imm, s->dir, 20, NULL, &e);
        }
    }
    if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, s->dir))
        rd_scratch_stop_pid(pid, SIGKILL, 5);
    if (pid > 0 && rd_scratch_pid_alive(pid)) {
        st = RD_ERR(err, RD_ERR_PROC, "postgresql scratch server (pid %d) in %s does not stop",
                    (int)pid, s->dir);
        goto out;
    }
    {
        char *rundir = p && p->rundir ? rd_strdup(p->rundir) : NULL;
        if (!rundir) {
            rundir = rd_strdup(s->dir);
            char *slash = rundir ? strrchr(rundir, '/') : NULL;
            if (slash)
                *slash = '\0';
        }
        st = rd_fs_rmtree(s->dir, rundir, err);
        free(rundir);
    }
    if (st == RD_OK) {
        free(s->dir);
        s->dir = NULL;
        priv_free(p);
        s->priv = NULL;
    }
out:
    free(pidfile);
    free(data);
    free(pg_ctl);
    return st;
}

rd_status rd_eph_pg_stop_leftover(const char *dir, rd_error *err)
{
    char *pidfile = rd_asprintf("%s/data/postmaster.pid", dir);
    pid_t pid = pidfile ? rd_scratch_read_pidfile(pidfile) : 0;
    rd_status st = RD_OK;

    /* only a postmaster whose data directory is in dir (pids get reused) */
    if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, dir)) {
        rd_scratch_stop_pid(pid, SIGINT, 30); /* SIGINT: fast shutdown */
        if (rd_scratch_pid_alive(pid))
            st = RD_ERR(err, RD_ERR_PROC, "postgresql server (pid %d) in %s does not stop",
                        (int)pid, dir);
    }
    free(pidfile);
    return st;
}
