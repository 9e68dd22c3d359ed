/* scratch.c: provisioning through the registry, the table of live instances
 * for the abort path, template variables, and the ephemeral driver's front
 * (engine dispatch and gc of directories whose owner died). */
#include "restoredrill/scratch.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

/* --- the table of live instances (for rd_scratch_teardown_all) --- */

/* Each entry remembers the process that provisioned it: a forked child
 * (a test, a helper) never tears down its parent's instances. */
typedef struct live_entry {
    rd_scratch *s;
    pid_t pid;
} live_entry;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static live_entry *live;
static size_t nlive, caplive;

static int live_add(rd_scratch *s)
{
    int ok = 1;
    pthread_mutex_lock(&live_lock);
    if (nlive == caplive) {
        size_t ncap = caplive ? caplive * 2 : 8;
        live_entry *n = realloc(live, ncap * sizeof *n);
        if (!n)
            ok = 0;
        else {
            live = n;
            caplive = ncap;
        }
    }
    if (ok) {
        live[nlive].s = s;
        live[nlive].pid = getpid();
        nlive++;
    }
    pthread_mutex_unlock(&live_lock);
    return ok;
}

static void live_remove(rd_scratch *s)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < nlive; i++) {
        if (live[i].s == s) {
            live[i] = live[--nlive];
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

rd_status rd_scratch_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                               const rd_scratch_req *req, rd_scratch **out, rd_error *err)
{
    const char *name = cfg && cfg->type ? cfg->type : "ephemeral";
    const rd_scratch_type *t = rd_scratch_find(name);
    rd_scratch *s = NULL;
    rd_status st;

    if (!t)
        return RD_ERR(err, RD_ERR_CONFIG, "unknown scratch type \"%s\"", name);
    if (!(t->engines & engine))
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "scratch type %s does not support %s", name,
                      rd_engine_name(engine));
    st = t->provision(cfg, engine, req, &s, err);
    if (st != RD_OK)
        return st;
    if (!live_add(s)) {
        rd_error ignore;
        t->teardown(s, &ignore);
        rd_scratch_destroy(s);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory registering a scratch instance");
    }
    *out = s;
    return RD_OK;
}

rd_status rd_scratch_teardown(rd_scratch *s, rd_error *err)
{
    if (!s || s->torn_down)
        return RD_OK;
    rd_status st = s->type->teardown(s, err);
    if (st == RD_OK) {
        s->torn_down = 1;
        live_remove(s);
    }
    return st;
}

void rd_scratch_free(rd_scratch *s)
{
    if (!s)
        return;
    if (!s->torn_down) {
        rd_error e;
        rd_error_clear(&e);
        if (rd_scratch_teardown(s, &e) != RD_OK)
            rd_log_warn("scratch teardown failed: %s", e.msg);
    }
    live_remove(s);
    rd_scratch_destroy(s);
}

void rd_scratch_teardown_all(void)
{
    pid_t me = getpid();
    for (;;) {
        rd_scratch *s = NULL;
        pthread_mutex_lock(&live_lock);
        for (size_t i = 0; i < nlive; i++) {
            if (live[i].pid == me) {
                s = live[i].s;
                live[i] = live[--nlive];
                break;
            }
        }
        pthread_mutex_unlock(&live_lock);
        if (!s)
            break;
        if (s->torn_down)
            continue;
        rd_error e;
        rd_error_clear(&e);
        if (s->type->teardown(s, &e) == RD_OK)
            s->torn_down = 1;
        else
            rd_log_warn("scratch teardown failed: %s", e.msg);
    }
}

void rd_scratch_destroy(rd_scratch *s)
{
    if (!s)
        return;
    free(s->conn.host);
    free(s->conn.socket);
    free(s->conn.database);
    free(s->conn.user);
    free(s->conn.password);
    free(s->conn.dsn);
    free(s->conn.url);
    free(s->conn.dsn_params);
    for (size_t i = 0; s->env && s->env[i]; i++)
        free(s->env[i]);
    free(s->env);
    free(s->dir);
    free(s->server_version);
    free(s);
}

/* --- templates --- */

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static const char *lookup_var(const char *const *vars, const char *name, size_t n)
{
    for (size_t i = 0; vars && vars[i]; i++)
        if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '=')
            return vars[i] + n + 1;
    return NULL;
}

rd_status rd_template_expand(const char *tmpl, const char *const *vars, char **out, rd_error *err)
{
    rd_strbuf sb;
    rd_status st = RD_OK;
    const char *p = tmpl;

    rd_strbuf_init(&sb, 0);
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            st = rd_strbuf_append_char(&sb, '{', err);
            p += 2;
        } else if (p[0] == '{') {
            size_t n = 0;
            while (is_name_char(p[1 + n]))
                n++;
            if (n == 0 || p[1 + n] != '}') {
                st = rd_strbuf_append_char(&sb, '{', err);
                p++;
            } else {
                const char *v = lookup_var(vars, p + 1, n);
                if (!v) {
                    st = RD_ERR(err, RD_ERR_CONFIG, "unknown template variable {%.*s}", (int)n,
                                p + 1);
                    goto out;
                }
                st = rd_strbuf_append(&sb, v, err);
                p += n + 2;
            }
        } else {
            const char *q = strchr(p, '{');
            size_t n = q ? (size_t)(q - p) : strlen(p);
            st = rd_strbuf_append_n(&sb, p, n, err);
            p += n;
        }
        if (st != RD_OK)
            goto out;
    }
    *out = rd_strbuf_detach(&sb);
    if (!*out)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_scratch_var(rd_strlist *l, const char *name, const char *value, rd_error *err)
{
    char *e = rd_asprintf("%s=%s", name, value ? value : "");
    if (!e)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_strlist_push(l, e, err);
    free(e);
    return st;
}

rd_status rd_scratch_vars(const rd_scratch *s, rd_strlist *list, rd_error *err)
{
    const rd_conninfo *c = &s->conn;
    char port[16];
    const char *host = c->host;
    rd_status st;

    snprintf(port, sizeof port, "%d", c->port);
    if (!host)
        host = c->engine == RD_ENGINE_PG ? c->socket : "localhost";
    if ((st = rd_scratch_var(list, "scratch.host", host, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.port", port, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.socket", c->socket, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.database", c->database, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.user", c->user, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.password", c->password, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.url", c->url, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.dsn", c->dsn, err)) != RD_OK)
        return st;
    return RD_OK;
}

char *rd_scratch_rundir(const char *base_dir)
{
    const char *e;
    if (base_dir && *base_dir)
        return rd_strdup(base_dir);
    if ((e = getenv("RESTOREDRILL_RUNDIR")) && *e)
        return rd_strdup(e);
    if ((e = getenv("TMPDIR")) && *e)
        return rd_asprintf("%s/restoredrill", e);
    return rd_strdup("/tmp/restoredrill");
}

/* --- the ephemeral driver --- */

static rd_status eph_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                               const rd_scratch_req *req, rd_scratch **out, rd_error *err)
{
    rd_scratch *s = calloc(1, sizeof *s);
    rd_status st;

    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->type = &rd_scratch_ephemeral;
    s->conn.engine = engine;
    if (engine == RD_ENGINE_PG)
        st = rd_eph_pg_provision(cfg, req, s, err);
    else
        st = rd_eph_mariadb_provision(cfg, req, s, err);
    if (st != RD_OK) {
        rd_scratch_destroy(s);
        return st;
    }
    *out = s;
    return RD_OK;
}

static rd_status eph_teardown(rd_scratch *s, rd_error *err)
{
    if (s->conn.engine == RD_ENGINE_PG)
        return rd_eph_pg_teardown(s, err);
    return rd_eph_mariadb_teardown(s, err);
}

/* --- owner files and gc of ephemeral directories --- */

static rd_status owner_write(const char *dir, rd_engine engine, const rd_scratch_req *req,
                             rd_error *err)
{
    char when[RD_TIME_BUFSZ];
    char *path = rd_fs_join(dir, RD_SCRATCH_OWNER_FILE);
    char *text = NULL;
    cJSON *o = cJSON_CreateObject();
    rd_status st = RD_OK;

    if (!path || !o) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    rd_time_format(rd_wall_now_ms(), when, sizeof when);
    cJSON_AddNumberToObject(o, "pid", (double)getpid());
    cJSON_AddNumberToObject(o, "pid_start", (double)rd_scratch_proc_starttime(getpid()));
    cJSON_AddStringToObject(o, "started_at", when);
    cJSON_AddStringToObject(o, "target", req && req->target ? req->target : "");
    cJSON_AddStringToObject(o, "drill_id", req && req->drill_id ? req->drill_id : "");
    cJSON_AddStringToObject(o, "engine", rd_engine_name(engine));
    cJSON_AddStringToObject(o, "driver", "ephemeral");
    text = cJSON_PrintUnformatted(o);
    if (!text) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    st = rd_fs_write_atomic(path, text, strlen(text), 0644, err);
out:
    free(text);
    cJSON_Delete(o);
    free(path);
    return st;
}

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
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(o, "pid_start");
    const cJSON *target = cJSON_GetObjectItemCaseSensitive(o, "target");
    const cJSON *engine = cJSON_GetObjectItemCaseSensitive(o, "engine");
    if (!cJSON_IsNumber(pid) || !cJSON_IsNumber(start) || pid->valuedouble < 1)
        goto out;
    oi->pid = (pid_t)pid->valuedouble;
    oi->start = (unsigned long long)start->valuedouble;
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

static rd_engine engine_of_dirname(const char *name)
{
    if (strncmp(name, "postgres-", 9) == 0)
        return RD_ENGINE_PG;
    if (strncmp(name, "mariadb-", 8) == 0)
        return RD_ENGINE_MARIADB;
    return 0;
}

/* Decide about one entry of the rundir: 1 and a reason when it is a leftover. */
static int is_leftover(const char *path, const struct stat *sb, double older_than, owner_info *oi,
                       char *why, size_t whysz)
{
    if (owner_read(path, oi)) {
        unsigned long long now_start = rd_scratch_proc_starttime(oi->pid);
        if (now_start != 0 && now_start == oi->start)
            return 0;
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
        rd_engine e = engine_of_dirname(de->d_name);
        struct stat sb;
        owner_info oi;
        char why[128], msg[1024];
        char *path;

        if (!e)
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
        if (oi.engine)
            e = oi.engine;
        snprintf(msg, sizeof msg, "%s ephemeral %s instance %s (target %s, %s)",
                 dry_run ? "would remove" : "removed", rd_engine_name(e), path,
                 oi.target[0] ? oi.target : "unknown", why);
        if (!dry_run) {
            rd_error e2;
            rd_error_clear(&e2);
            rd_status s2 = e == RD_ENGINE_PG ? rd_eph_pg_stop_leftover(path, &e2)
                                             : rd_eph_mariadb_stop_leftover(path, &e2);
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
};

/* --- private directories --- */

rd_status rd_scratch_resolve_user(const rd_scratch_cfg *cfg, const char *def, rd_eph_user *u,
                                  rd_error *err)
{
    const char *name = cfg && cfg->run_as && *cfg->run_as ? cfg->run_as : NULL;

    memset(u, 0, sizeof *u);
    if (geteuid() == 0) {
        if (!name)
            name = def;
        if (rd_proc_lookup_user(name, &u->uid, &u->gid, err) != RD_OK)
            return rd_error_set(err, RD_ERR_NOTFOUND, 0,
                                "scratch run_as user \"%s\" does not exist; create it (the "
                                "server package does) or set scratch.run_as",
                                name);
        if (u->uid == 0)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "scratch run_as user must not be root: database servers refuse to "
                          "run as root");
        u->run_as = 1;
        snprintf(u->name, sizeof u->name, "%s", name);
        return RD_OK;
    }
    u->uid = geteuid();
    u->gid = getegid();
    struct passwd *pw = getpwuid(u->uid);
    snprintf(u->name, sizeof u->name, "%s", pw ? pw->pw_name : "");
    if (name && strcmp(name, u->name) != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "scratch run_as \"%s\" needs root; restoredrill runs as \"%s\"", name,
                      u->name);
    return RD_OK;
}

/* Every directory from / down to path must be enterable by the run_as user. */
static rd_status check_reachable(const char *path, const rd_eph_user *u, rd_error *err)
{
    char real[PATH_MAX];
    if (!u->run_as)
        return RD_OK;
    if (!realpath(path, real))
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot resolve %s", path);
    size_t n = strlen(real);
    for (size_t i = 1; i <= n; i++) {
        if (real[i] != '/' && real[i] != '\0')
            continue;
        char save = real[i];
        struct stat sb;
        real[i] = '\0';
        int ok = stat(real, &sb) == 0;
        mode_t need = sb.st_uid == u->uid ? S_IXUSR : sb.st_gid == u->gid ? S_IXGRP : S_IXOTH;
        if (ok && !(sb.st_mode & need)) {
            rd_status st = RD_ERR(err, RD_ERR_CONFIG,
                                  "user \"%s\" cannot enter %s (mode %04o); set "
                                  "scratch.base_dir or RESTOREDRILL_RUNDIR to a directory it "
                                  "can reach",
                                  u->name, real, (unsigned)(sb.st_mode & 07777));
            return st;
        }
        real[i] = save;
    }
    return RD_OK;
}

rd_status rd_scratch_make_dir(const rd_scratch_cfg *cfg, rd_engine engine,
                              const rd_scratch_req *req, const rd_eph_user *u, char **dir,
                              rd_error *err)
{
    char *rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL);
    char prefix[32];
    char *d = NULL;
    rd_status st;

    if (!rundir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_fs_mkdir_p(rundir, 0711, err)) != RD_OK)
        goto out;
    if ((st = check_reachable(rundir, u, err)) != RD_OK)
        goto out;
    snprintf(prefix, sizeof prefix, "%s-", rd_engine_name(engine));
    if ((st = rd_fs_mkdtemp(rundir, prefix, u->run_as, u->uid, u->gid, &d, err)) != RD_OK) {
        if (err && err->sys_errno == ENOSPC)
            rd_error_prefix(err, "disk full: ");
        goto out;
    }
    if ((st = owner_write(d, engine, req, err)) != RD_OK) {
        rd_error e;
        rd_fs_rmtree(d, rundir, &e);
        free(d);
        goto out;
    }
    *dir = d;
out:
    free(rundir);
    return st;
}

rd_status rd_scratch_write_private(const char *path, const char *data, const rd_eph_user *u,
                                   rd_error *err)
{
    rd_status st = RD_OK;
    size_t len = strlen(data);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", path);
    if (u && u->run_as && fchown(fd, u->uid, u->gid) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot chown %s", path);
        goto out;
    }
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", path);
            goto out;
        }
        data += w;
        len -= (size_t)w;
    }
out:
    close(fd);
    return st;
}

/* --- processes and ports --- */

unsigned long long rd_scratch_proc_starttime(pid_t pid)
{
    char path[64], buf[1024];
    unsigned long long start = 0;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm (field 2) may hold spaces and parentheses: fields restart after the last ')' */
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (!p)
        return 0;
    errno = 0;
    char *end;
    start = strtoull(p + 1, &end, 10);
    if (errno != 0 || end == p + 1)
        return 0;
    return start;
}

int rd_scratch_pid_alive(pid_t pid)
{
    char path[64], buf[512];
    FILE *f;

    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
        return 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

int rd_scratch_pid_in_dir(pid_t pid, const char *dir)
{
    char link[64], cwd[PATH_MAX], real[PATH_MAX];
    snprintf(link, sizeof link, "/proc/%d/cwd", (int)pid);
    ssize_t n = readlink(link, cwd, sizeof cwd - 1);
    if (n <= 0 || !realpath(dir, real))
        return 0;
    cwd[n] = '\0';
    size_t rl = strlen(real);
    return strncmp(cwd, real, rl) == 0 && (cwd[rl] == '/' || cwd[rl] == '\0');
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void rd_scratch_stop_pid(pid_t pid, int sig, double grace)
{
    if (!rd_scratch_pid_alive(pid))
        return;
    kill(pid, sig);
    double until = rd_mono_now() + grace;
    while (rd_scratch_pid_alive(pid) && rd_mono_now() < until)
        sleep_ms(50);
    if (!rd_scratch_pid_alive(pid))
        return;
    kill(pid, SIGKILL);
    until = rd_mono_now() + 5;
    while (rd_scratch_pid_alive(pid) && rd_mono_now() < until)
        sleep_ms(50);
}

pid_t rd_scratch_read_pidfile(const char *path)
{
    char buf[64];
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    char *line = fgets(buf, sizeof buf, f);
    fclose(f);
    if (!line)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(buf, &end, 10);
    if (errno != 0 || end == buf || v <= 0 || v > INT_MAX)
        return 0;
    return (pid_t)v;
}

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

char *rd_scratch_file_tail(const char *path, size_t n)
{
    rd_strbuf sb;
    char buf[4096];
    FILE *f = fopen(path, "re");

    rd_strbuf_init(&sb, 0);
    if (f) {
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
            if (rd_strbuf_append_n(&sb, buf, got, NULL) != RD_OK)
                break;
            if (sb.len > 4 * n)
                rd_strbuf_keep_tail(&sb, n);
        }
        fclose(f);
    }
    int cut = sb.len > n;
    rd_strbuf_keep_tail(&sb, n);
    char *s = sb.data;
    if (cut && strchr(s, '\n'))
        s = strchr(s, '\n') + 1; /* drop a partial first line */
    while (*s == '\n')
        s++;
    rd_strbuf out;
    rd_strbuf_init(&out, 0);
    for (; *s; s++) {
        if (*s == '\n') {
            if (s[1] != '\0')
                rd_strbuf_append(&out, " | ", NULL);
        } else {
            rd_strbuf_append_char(&out, *s, NULL);
        }
    }
    rd_strbuf_free(&sb);
    return rd_strbuf_detach(&out);
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
    for (;;) {
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
        sleep_ms(50);
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
