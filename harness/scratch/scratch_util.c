/* scratch_util.c: the helpers under every scratch driver: the run
 * directory and private 0700 directories with their owner files, the run_as
 * user, private files, processes (start times, liveness, stopping, pid
 * files), running a server tool as the run_as user, template variables. */
#include <cjson/cJSON.h>
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

rd_status rd_scratch_var(rd_strlist *l, const char *name, const char *value, rd_error *err)
{
    char *e = rd_asprintf("%s=%s", name, value ? value : "");
    if (!e)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_strlist_push(l, e, err);
    free(e);
    return st;
}

/* --- owner files --- */

rd_status rd_scratch_write_owner(const char *dir, rd_engine engine, const rd_scratch_req *req,
                                 const char *driver, rd_error *err)
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
    cJSON_AddStringToObject(o, "driver", driver);
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
    if ((st = rd_scratch_write_owner(d, engine, req, "ephemeral", err)) != RD_OK) {
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

/* The start of /proc/PID/stat (at most bufsz - 1 bytes) into buf,
 * NUL-terminated; 0 when there is no such process. */
static int read_proc_stat(pid_t pid, char *buf, size_t bufsz)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, bufsz - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 1;
}

unsigned long long rd_scratch_proc_starttime(pid_t pid)
{
    char buf[1024];
    unsigned long long start = 0;

    if (!read_proc_stat(pid, buf, sizeof buf))
        return 0;
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
    char buf[512];

    if (pid <= 0 || (kill(pid, 0) != 0 && errno == ESRCH))
        return 0;
    if (!read_proc_stat(pid, buf, sizeof buf))
        return 0;
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

pid_t rd_scratch_proc_running(const rd_proc *proc)
{
    pid_t pid = proc ? rd_proc_pid(proc) : 0;
    return rd_scratch_pid_alive(pid) ? pid : 0;
}

rd_status rd_scratch_stop_proc(rd_proc **proc, int sig, double grace, rd_error *err)
{
    int code;
    kill(rd_proc_pid(*proc), sig);
    rd_status st = rd_proc_wait(*proc, rd_mono_now() + grace, &code, err);
    rd_proc_free(*proc);
    *proc = NULL;
    return st;
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

/* --- server tools --- */

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

rd_status rd_scratch_run_tool(const rd_eph_user *u, const char *const *argv, const char *cwd,
                              double timeout, const char *log, rd_error *err)
{
    return rd_scratch_run_tool_in(u, argv, cwd, timeout, log, NULL, err);
}

rd_status rd_scratch_run_tool_in(const rd_eph_user *u, const char *const *argv, const char *cwd,
                                 double timeout, const char *log, const char *stdin_path,
                                 rd_error *err)
{
    rd_proc_spec spec = {0};
    rd_strbuf outb, errb;
    int code = 0, in = -1;
    rd_status st;
    char *tail = NULL;

    rd_strbuf_init(&outb, 65536);
    rd_strbuf_init(&errb, 0);
    spec.argv = argv;
    spec.cwd = cwd;
    spec.stdin_mode = RD_PROC_IO_NULL;
    if (stdin_path) {
        if ((in = open(stdin_path, O_RDONLY | O_CLOEXEC)) < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", stdin_path);
            goto out;
        }
        spec.stdin_mode = RD_PROC_IO_FD;
        spec.stdin_fd = in;
    }
    spec.stdout_mode = RD_PROC_IO_PIPE;
    spec.run_as = u->run_as;
    spec.uid = u->uid;
    spec.gid = u->gid;
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
        if (rd_scratch_disk_full_text(err ? err->msg : NULL))
            rd_error_prefix(err, "disk full: ");
    }
out:
    if (in >= 0)
        close(in);
    free(tail);
    rd_strbuf_free(&outb);
    rd_strbuf_free(&errb);
    return st;
}

int rd_scratch_disk_full_text(const char *text)
{
    return text && (strstr(text, "No space left on device") ||
                    strstr(text, "Check free disk space") || strstr(text, "Disk full"));
}
