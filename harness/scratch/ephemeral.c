/* ephemeral.c: the `ephemeral` scratch driver: a private server started from
 * the installed binaries in a 0700 directory of the run directory, as the
 * run_as user, on a unix socket (and 127.0.0.1 when TCP is wanted), with a
 * random password; and gc of the directories of runs that died.
 *
 * The lifecycle is the same for every engine and lives here; an engine
 * (rd_eph_engines of registry.c) supplies its binaries, how to initialise a
 * cluster, start, stop and find its server. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define EPH_START_ATTEMPTS 3
#define EPH_DEFAULT_TIMEOUT 600.0

static const rd_eph_engine *engine_for(rd_engine engine)
{
    for (const rd_eph_engine *const *e = rd_eph_engines; *e; e++)
        if ((*e)->engine == engine)
            return *e;
    return NULL;
}

static void eph_free(rd_eph *e)
{
    if (!e)
        return;
    rd_eph_template_spare_join(e);
    if (e->eng && e->eng->priv_free)
        e->eng->priv_free(e->priv);
    free(e->rundir);
    free(e->log);
    free(e);
}

/* Characters that need no quoting in a server's configuration file. */
static int plain_path(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              strchr("/._-+", *s)))
            return 0;
    return 1;
}

/* The scratch database: named after the dump's database when the request
 * gives it, else after the target; never a system database. */
static rd_status database_name(const rd_eph_engine *eng, const rd_scratch_req *req, char **out,
                               rd_error *err)
{
    const char *want = req && req->database && *req->database ? req->database
                       : req                                  ? req->target
                                                              : NULL;
    char *name = rd_scratch_sanitize(want, eng->db_name_max);
    for (const char *const *r = eng->reserved_dbs; name && r && *r; r++) {
        size_t n = strlen(*r);
        /* a trailing '*' reserves a prefix ("template*") */
        int prefix = n > 0 && (*r)[n - 1] == '*';
        if (prefix ? strncmp(name, *r, n - 1) == 0 : strcmp(name, *r) == 0) {
            free(name);
            name = rd_strdup(RD_EPH_TEMPLATE_DB);
            break;
        }
    }
    if (!name)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *out = name;
    return RD_OK;
}

/* The directory, the credentials and the connection fields of a new
 * instance, before any server file exists. */
static rd_status lay_out(const rd_scratch_cfg *cfg, const rd_scratch_req *req, rd_scratch *s,
                         rd_eph *e, rd_error *err)
{
    const rd_eph_engine *eng = e->eng;
    char pw[33];
    rd_status st;

    if ((st = eng->prepare(cfg, &e->priv, err)) != RD_OK ||
        (st = rd_scratch_resolve_user(cfg, eng->default_user, &e->u, err)) != RD_OK)
        return st;
    if (!(e->rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_scratch_make_dir(cfg, eng->engine, req, &e->u, &s->dir, err)) != RD_OK)
        return st;
    if (!plain_path(s->dir) || strlen(s->dir) + 1 + strlen(eng->socket_file) > 107)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "scratch directory %s is too long or has unusual characters for a unix "
                      "socket; set scratch.base_dir or RESTOREDRILL_RUNDIR to a short plain path",
                      s->dir);
    rd_random_token(pw, 32);
    e->log = rd_asprintf("%s/server.log", s->dir);
    s->conn.user = rd_strdup(RD_EPH_USER);
    s->conn.password = rd_strdup(pw);
    s->conn.socket =
        eng->socket_is_dir ? rd_strdup(s->dir) : rd_asprintf("%s/%s", s->dir, eng->socket_file);
    memset(pw, 0, sizeof pw);
    if (!e->log || !s->conn.user || !s->conn.password || !s->conn.socket)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    return database_name(eng, req, &s->conn.database, err);
}

static void wipe_free(char *secret)
{
    if (secret)
        memset(secret, 0, strlen(secret));
    free(secret);
}

/* The data directory: a copy of the template (scratch.template, the
 * default) or a cluster initialised for this instance alone. A copy keeps
 * the template's password until started: then *own_pw holds the instance's
 * own (set_password gives it) and s->conn.password the template's. */
static rd_status make_data(const rd_scratch_cfg *cfg, rd_scratch *s, rd_eph *e, double deadline,
                           char **own_pw, rd_error *err)
{
    char *data = rd_asprintf("%s/data", s->dir);
    char *tpw = NULL;
    rd_status st;
    if (!data)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (cfg && cfg->no_template) {
        st = e->eng->init_data(s->dir, e, s->conn.user, s->conn.password, deadline, err);
    } else if ((st = rd_eph_template_copy(e, data, deadline, &tpw, err)) == RD_OK) {
        e->from_template = 1;
        if (e->eng->takes_password) {
            *own_pw = s->conn.password;
            s->conn.password = tpw;
            tpw = NULL;
        }
    }
    wipe_free(tpw);
    free(data);
    return st;
}

/* Start, retrying with another port when a process took ours between the
 * probe and the server's bind. */
static rd_status start(rd_scratch *s, rd_eph *e, int tcp, double deadline, rd_error *err)
{
    for (int attempt = 1;; attempt++) {
        rd_status st;
        if (tcp && (st = rd_scratch_free_port(&s->conn.port, err)) != RD_OK)
            return st;
        st = e->eng->start(s, e, tcp, deadline, err);
        if (st == RD_OK)
            return RD_OK;
        char *tail = rd_scratch_file_tail(e->log, 4000);
        int in_use = tail && strstr(tail, "Address already in use");
        free(tail);
        if (in_use && attempt < EPH_START_ATTEMPTS) {
            rd_log_warn("%s scratch server: port %d on 127.0.0.1 was taken by another process; "
                        "trying another port",
                        e->eng->label, s->conn.port);
            e->eng->stop(s, e);
            continue;
        }
        if (in_use)
            rd_error_prefix(err, "port %d in use: ", s->conn.port);
        rd_error_prefix(err, "%s server refused to start: ", e->eng->label);
        return st;
    }
}

static rd_status eph_teardown(rd_scratch *s, rd_error *err)
{
    rd_eph *e = s->priv;
    rd_status st = RD_OK;

    /* the template's next spare is copied while the server stops */
    rd_eph_template_spare_start(e);
    if (!s->dir) {
        rd_eph_template_spare_join(e);
        return RD_OK;
    }
    if (e) {
        e->eng->stop(s, e);
        pid_t pid = e->eng->server_pid(s->dir);
        /* only a server whose files are in our directory (pids get reused) */
        if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, s->dir))
            rd_scratch_stop_pid(pid, SIGKILL, 5);
        if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, s->dir)) {
            rd_eph_template_spare_join(e);
            return RD_ERR(err, RD_ERR_PROC, "%s scratch server (pid %d) in %s does not stop",
                          e->eng->label, (int)pid, s->dir);
        }
    }
    rd_eph_template_spare_join(e);
    char *rundir = e && e->rundir ? rd_strdup(e->rundir) : rd_strdup(s->dir);
    char *slash = rundir && !(e && e->rundir) ? strrchr(rundir, '/') : NULL;
    if (slash)
        *slash = '\0';
    if (!rundir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = rd_fs_rmtree(s->dir, rundir, err);
    free(rundir);
    if (st == RD_OK) {
        free(s->dir);
        s->dir = NULL;
        eph_free(e);
        s->priv = NULL;
    }
    return st;
}

/* Physical: an empty data directory owned by the run_as user; no server. */
static rd_status lay_out_physical(rd_scratch *s, rd_eph *e, rd_error *err)
{
    if (!e->eng->start_physical)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "no physical restores into an ephemeral %s yet",
                      e->eng->label);
    s->data_dir = rd_fs_join(s->dir, "data");
    s->log = rd_strdup(e->log);
    s->run_as = rd_strdup(e->u.run_as ? e->u.name : "");
    if (!s->data_dir || !s->log || !s->run_as)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (mkdir(s->data_dir, 0700) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", s->data_dir);
    if (e->u.run_as && chown(s->data_dir, e->u.uid, e->u.gid) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot give %s to %s", s->data_dir, e->u.name);
    return RD_OK;
}

static rd_status eph_start_physical(rd_scratch *s, const rd_scratch_start *o, rd_error *err)
{
    rd_eph *e = s->priv;
    rd_status st;
    if (e->tcp && (st = rd_scratch_free_port(&s->conn.port, err)) != RD_OK)
        return st;
    if ((st = e->eng->start_physical(s, e, o, err)) != RD_OK)
        return st;
    if (e->tcp && !s->conn.host && !(s->conn.host = rd_strdup("127.0.0.1")))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    return RD_OK;
}

static pid_t eph_server_pid(const rd_scratch *s)
{
    rd_eph *e = s->priv;
    return e && e->eng->running_pid ? e->eng->running_pid((rd_scratch *)s, e) : 0;
}

static rd_status eph_attach(rd_scratch *s, const char *database, const char *target,
                            double deadline, rd_error *err)
{
    rd_eph *e = s->priv;
    rd_status st = e->eng->attach(s, e, database, target, deadline, err);
    if (st == RD_OK)
        st = rd_scratch_finish_conn(s, err);
    return st;
}

static rd_status eph_stop_server(rd_scratch *s, rd_error *err)
{
    rd_eph *e = s->priv;
    e->eng->stop(s, e);
    pid_t pid = e->eng->server_pid(s->dir);
    if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, s->dir))
        return RD_ERR(err, RD_ERR_PROC, "%s scratch server (pid %d) in %s does not stop",
                      e->eng->label, (int)pid, s->dir);
    return RD_OK;
}

static rd_status eph_verify_pages(rd_scratch *s, double deadline, rd_scratch_offline *out,
                                  rd_error *err)
{
    rd_eph *e = s->priv;
    if (!e->eng->verify_pages)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "no offline page verification for %s",
                      e->eng->label);
    return e->eng->verify_pages(s, e, deadline, out, err);
}

static rd_status eph_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                               const rd_scratch_req *req, rd_scratch **out, rd_error *err)
{
    const rd_eph_engine *eng = engine_for(engine);
    int tcp = (req && req->want_tcp) || (cfg && cfg->tcp);
    double timeout = cfg && cfg->timeout > 0 ? cfg->timeout : EPH_DEFAULT_TIMEOUT;
    double deadline = req && req->deadline > 0 ? req->deadline : rd_mono_now() + timeout;
    rd_scratch *s = NULL;
    rd_eph *e = NULL;
    char *own_pw = NULL;
    rd_status st;

    if (!eng)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "no ephemeral scratch for engine %s",
                      rd_engine_name(engine));
    s = calloc(1, sizeof *s);
    e = calloc(1, sizeof *e);
    if (!s || !e) {
        free(s);
        free(e);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    s->type = &rd_scratch_ephemeral;
    s->conn.engine = engine;
    s->priv = e;
    e->eng = eng;
    e->tcp = tcp;
    double tl = rd_mono_now();
    if ((st = lay_out(cfg, req, s, e, err)) != RD_OK)
        goto fail;
    if (req && req->physical) {
        if ((st = lay_out_physical(s, e, err)) != RD_OK)
            goto fail;
        *out = s;
        return RD_OK;
    }
    double t0 = rd_mono_now(), t1, t2;
    if ((st = make_data(cfg, s, e, deadline, &own_pw, err)) != RD_OK) {
        rd_error_prefix(err, "cannot initialise a %s scratch cluster: ", eng->label);
        goto fail;
    }
    t1 = rd_mono_now();
    if ((st = eng->configure(s, e, tcp, err)) != RD_OK ||
        (st = start(s, e, tcp, deadline, err)) != RD_OK)
        goto fail;
    t2 = rd_mono_now();
    if (eng->ready && (st = eng->ready(s, e, own_pw, err)) != RD_OK)
        goto fail;
    if (own_pw) { /* a copy of a template: from now on the instance's own password */
        wipe_free(s->conn.password);
        s->conn.password = own_pw;
        own_pw = NULL;
    }
    if (tcp && !(s->conn.host = rd_strdup("127.0.0.1"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    if ((st = rd_scratch_finish_conn(s, err)) != RD_OK)
        goto fail;
    rd_log_debug("ephemeral %s %s ready in %s: directory %.3fs, data directory %.3fs (%s), start "
                 "%.3fs, rest %.3fs",
                 eng->label, s->server_version ? s->server_version : "", s->dir, t0 - tl, t1 - t0,
                 e->from_spare      ? "the template's spare"
                 : e->from_template ? "template copy"
                                    : "initialised",
                 t2 - t1, rd_mono_now() - t2);
    *out = s;
    return RD_OK;
fail:
    wipe_free(own_pw);
    if (s->dir) {
        rd_error e2;
        if (eph_teardown(s, &e2) != RD_OK)
            rd_log_warn("scratch teardown failed: %s", e2.msg);
    }
    eph_free(s->priv);
    s->priv = NULL;
    rd_scratch_destroy(s);
    return st;
}

/* --- gc of dead runs' directories --- */

typedef struct owner_info {
    pid_t pid;
    unsigned long long start;
    char target[128];
    rd_engine engine;
} owner_info;

/* 1 when the owner file was read, 0 when absent or unreadable. */
static int owner_read(const char *dir, owner_info *oi)
{
    char *path = rd_fs_join(dir, RD_SCRATCH_OWNER_FILE);
    char *text = NULL;
    size_t len = 0;
    cJSON *o = NULL;
    int ok = 0;
    rd_error e;

    memset(oi, 0, sizeof *oi);
    if (!path || rd_fs_read_file(path, 65536, &text, &len, &e) != RD_OK)
        goto out;
    o = cJSON_Parse(text);
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
    const cJSON *start_ = cJSON_GetObjectItemCaseSensitive(o, "pid_start");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(o, "target");
    const cJSON *engine = cJSON_GetObjectItemCaseSensitive(o, "engine");
    if (!cJSON_IsNumber(pid) || !cJSON_IsNumber(start_) || pid->valuedouble < 1)
        goto out;
    oi->pid = (pid_t)pid->valuedouble;
    oi->start = (unsigned long long)start_->valuedouble;
    if (cJSON_IsString(target))
        snprintf(oi->target, sizeof oi->target, "%s", target->valuestring);
    if (cJSON_IsString(engine))
        oi->engine = rd_engine_parse(engine->valuestring);
    ok = 1;
out:
    cJSON_Delete(o);
    free(text);
    free(path);
    return ok;
}

/* The engine whose directories are named "<engine>-XXXXXX", or NULL. */
static const rd_eph_engine *engine_of_dirname(const char *name)
{
    for (const rd_eph_engine *const *e = rd_eph_engines; *e; e++) {
        const char *n = rd_engine_name((*e)->engine);
        size_t len = strlen(n);
        if (strncmp(name, n, len) == 0 && name[len] == '-')
            return *e;
    }
    return NULL;
}

/* The keep_until of a kept instance's RD_SCRATCH_KEEP_FILE; 0 when none. */
static int64_t kept_until(const char *dir)
{
    char *path = rd_fs_join(dir, RD_SCRATCH_KEEP_FILE), *text = NULL;
    size_t len = 0;
    int64_t ms = 0;
    rd_error e;
    if (path && rd_fs_read_file(path, 65536, &text, &len, &e) == RD_OK) {
        cJSON *o = cJSON_Parse(text);
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(o, "keep_until");
        if (!cJSON_IsString(u) || rd_time_parse(u->valuestring, &ms, NULL) != RD_OK)
            ms = 0;
        cJSON_Delete(o);
    }
    free(text);
    free(path);
    return ms;
}

/* Decide about one entry of the rundir: 1 and a reason when it is a leftover. */
static int is_leftover(const char *path, const struct stat *sb, double older_than, owner_info *oi,
                       char *why, size_t whysz)
{
    if (owner_read(path, oi)) {
        unsigned long long now_start = rd_scratch_proc_starttime(oi->pid);
        int64_t until = kept_until(path);
        char when[RD_TIME_BUFSZ];
        if (now_start != 0 && now_start == oi->start)
            return 0;
        if (until > rd_wall_now_ms())
            return 0; /* kept for investigation (keep_scratch), time to live not over */
        if (until)
            snprintf(why, whysz, "kept until %s: time to live over",
                     rd_time_format(until, when, sizeof when));
        else
            snprintf(why, whysz, "owner pid %d is gone", (int)oi->pid);
        return 1;
    }
    /* No owner file: a run that died between mkdtemp and writing it. */
    double age = difftime(time(NULL), sb->st_mtime);
    if (older_than >= 0 && age < older_than)
        return 0;
    snprintf(why, whysz, "no owner file, %.0fs old", age);
    return 1;
}

/* Stop a server still running in a dead run's directory. */
static rd_status stop_leftover(const rd_eph_engine *eng, const char *dir, rd_error *err)
{
    pid_t pid = eng->server_pid(dir);
    /* only a server whose files are in dir (pids get reused) */
    if (pid > 0 && rd_scratch_pid_alive(pid) && rd_scratch_pid_in_dir(pid, dir)) {
        rd_scratch_stop_pid(pid, eng->leftover_signal, eng->leftover_grace);
        if (rd_scratch_pid_alive(pid))
            return RD_ERR(err, RD_ERR_PROC, "%s server (pid %d) in %s does not stop", eng->label,
                          (int)pid, dir);
    }
    return RD_OK;
}

static rd_status eph_gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than, int dry_run,
                        void (*report)(void *ud, const char *what), void *ud, rd_error *err)
{
    char *rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL);
    DIR *d = NULL;
    struct dirent *de;
    rd_status st = RD_OK;

    (void)engine; /* every engine's leftovers live in the same rundir */
    if (!rundir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    d = opendir(rundir);
    if (!d) {
        if (errno != ENOENT)
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", rundir);
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        const rd_eph_engine *eng = engine_of_dirname(de->d_name);
        struct stat sb;
        owner_info oi;
        char why[128], msg[1024];
        char *path;

        if (!eng)
            continue;
        path = rd_fs_join(rundir, de->d_name);
        if (!path) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (lstat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
            !is_leftover(path, &sb, older_than, &oi, why, sizeof why)) {
            free(path);
            continue;
        }
        if (oi.engine && engine_for(oi.engine))
            eng = engine_for(oi.engine);
        snprintf(msg, sizeof msg, "%s ephemeral %s instance %s (target %s, %s)",
                 dry_run ? "would remove" : "removed", rd_engine_name(eng->engine), path,
                 oi.target[0] ? oi.target : "unknown", why);
        if (!dry_run) {
            rd_error e2;
            rd_error_clear(&e2);
            rd_status s2 = stop_leftover(eng, path, &e2);
            if (s2 == RD_OK)
                s2 = rd_fs_rmtree(path, rundir, &e2);
            if (s2 != RD_OK) {
                if (st == RD_OK) {
                    st = s2;
                    if (err)
                        *err = e2;
                }
                rd_log_error("cannot remove %s: %s", path, e2.msg);
                free(path);
                continue;
            }
        }
        report(ud, msg);
        free(path);
    }
    if (st == RD_OK)
        st = rd_eph_template_gc(rundir, dry_run, report, ud, err);
out:
    if (d)
        closedir(d);
    free(rundir);
    return st;
}

const rd_scratch_type rd_scratch_ephemeral = {
    .name = "ephemeral",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .provision = eph_provision,
    .teardown = eph_teardown,
    .gc = eph_gc,
    .start_physical = eph_start_physical,
    .server_pid = eph_server_pid,
    .attach = eph_attach,
    .stop_server = eph_stop_server,
    .verify_pages = eph_verify_pages,
};
