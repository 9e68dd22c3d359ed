/* scratch_gc.c: the ephemeral driver's private directories and the owner
 * files in them, gc of directories whose owner died, and the process
 * helpers (start times, liveness, stopping, pid files) both rely on. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
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
#include "restoredrill/proc.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

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

rd_status rd_scratch_eph_gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than,
                            int dry_run, void (*report)(void *ud, const char *what), void *ud,
                            rd_error *err)
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

void rd_scratch_sleep_ms(long ms)
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
        rd_scratch_sleep_ms(50);
    if (!rd_scratch_pid_alive(pid))
        return;
    kill(pid, SIGKILL);
    until = rd_mono_now() + 5;
    while (rd_scratch_pid_alive(pid) && rd_mono_now() < until)
        rd_scratch_sleep_ms(50);
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
