/* mariabackup.c: a MariaDB physical restore (restore_mariabackup.h):
 * copy, prepare (incrementals in order), move into the data directory; and
 * the binlog replay, mariadb-binlog piped into the mariadb client. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore_mariabackup.h"
#include "restoredrill/s3.h"

#define TAIL_MAX ((size_t)256 * 1024)
#define LOG_KEEP ((size_t)256 * 1024)

/* A tool by name in bin_dir, else $PATH (heap). */
static char *tool(const char *bin_dir, const char *name)
{
    if (bin_dir && *bin_dir) {
        char *p = rd_fs_join(bin_dir, name);
        if (p && access(p, X_OK) == 0)
            return p;
        free(p);
        return NULL;
    }
    static const char *const dirs[] = {"/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin", NULL};
    return rd_proc_which(name, dirs);
}

static double left(double deadline)
{
    if (deadline <= 0)
        return 0; /* none */
    double l = deadline - rd_mono_now();
    return l > 0.001 ? l : 0.001;
}

/* The most telling line of a tool's stderr: the first line that says ERROR
 * (mariadb-backup: "[ERROR] InnoDB: ...", the client: "ERROR 1062 ...",
 * mariadb-binlog: "ERROR: ..."; the first names the cause, later ones its
 * consequences), else the last non-empty line. Returns 1 when an ERROR line
 * was found. */
static int error_line(const char *tail, char *out, size_t outsz)
{
    const char *best = NULL, *best_end = NULL, *last = NULL, *last_end = NULL;
    for (const char *s = tail ? tail : ""; *s;) {
        const char *e = strchr(s, '\n');
        if (!e)
            e = s + strlen(s);
        const char *a = s, *b = e;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == '\r' || b[-1] == ' '))
            b--;
        if (b > a) {
            last = a;
            last_end = b;
            if (!best && (memmem(a, (size_t)(b - a), "ERROR", 5) ||
                          memmem(a, (size_t)(b - a), "[FATAL]", 7))) {
                best = a;
                best_end = b;
            }
        }
        s = *e ? e + 1 : e;
    }
    int found = best != NULL;
    if (!best) {
        best = last;
        best_end = last_end;
    }
    size_t n = best ? (size_t)(best_end - best) : 0;
    if (n >= outsz)
        n = outsz - 1;
    if (n)
        memcpy(out, best, n);
    out[n] = '\0';
    return found;
}

static void log_tail(rd_strbuf *log, const char *what, const char *tail)
{
    rd_error e;
    if (!log || !tail || !*tail)
        return;
    rd_strbuf_appendf(log, &e, "--- %s\n%s%s", what, tail,
                      tail[strlen(tail) - 1] == '\n' ? "" : "\n");
    rd_strbuf_keep_tail(log, LOG_KEEP);
}

/* Run a tool to its end; a failure is RD_ERR_PROC "WHAT failed: <line>".
 * strict: an [ERROR] line fails it even at exit 0 (mariadb-backup --prepare
 * reads a corrupted page, logs "[ERROR] InnoDB: Failed to read page 5 ...",
 * and still ends with "completed OK!" and exit 0). */
static rd_status run_tool(const char *const *argv, const char *const *env, double deadline,
                          int strict, const char *what, rd_strbuf *log, rd_error *err)
{
    rd_strbuf tail;
    rd_strbuf_init(&tail, TAIL_MAX);
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.env = env;
    spec.no_cloud_secrets = 1;
    spec.stdin_mode = RD_PROC_IO_NULL;
    spec.stderr_tail_max = TAIL_MAX;
    int code = 0;
    rd_log_debug("restore: %s", what);
    rd_status st = rd_proc_run(&spec, left(deadline), NULL, &tail, &code, err);
    log_tail(log, what, tail.data);
    char line[600];
    if (st == RD_OK && code != 0) {
        error_line(tail.data, line, sizeof line);
        st = RD_ERR(err, RD_ERR_PROC, "%s failed (exit %d)%s%s", what, code, *line ? ": " : "",
                    line);
    } else if (st == RD_OK && strict && error_line(tail.data, line, sizeof line)) {
        st = RD_ERR(err, RD_ERR_PROC, "%s reported an error (exit 0): %s", what, line);
    } else if (st != RD_OK) {
        rd_error_prefix(err, "%s: ", what);
    }
    rd_strbuf_free(&tail);
    return st;
}

/* A copy of backup b at dest to prepare (the archive is only read): fetched
 * through the catalog when it is in S3, else cp -a. */
static rd_status copy_backup(const rd_mb_lay_opts *o, const rd_mb_backup *b, const char *dest,
                             rd_strbuf *log, rd_error *err)
{
    char what[600];
    snprintf(what, sizeof what, "copying %s", b->name);
    const char *cp[] = {"cp", "-a", "--reflink=auto", "--", b->dir, dest, NULL};
    if (rd_s3_is_url(b->dir))
        return o->catalog
                   ? rd_mb_fetch_backup(o->catalog, b, dest, err)
                   : RD_ERR(err, RD_ERR_CONFIG, "%s: no catalog to fetch it through", b->dir);
    return run_tool(cp, NULL, o->deadline, 0, what, log, err);
}

rd_status rd_mb_lay(const rd_mb_archive *a, size_t index, const rd_mb_lay_opts *o, rd_strbuf *log,
                    rd_error *err)
{
    rd_status st;
    size_t *chain = NULL, n = 0;
    char *mb = NULL, *copy = NULL, *a_target = NULL, *a_data = NULL, *a_mem = NULL, *owner = NULL;
    char what[600];
    int made_work = 0;

    st = rd_mb_chain(a, index, &chain, &n, err);
    if (st != RD_OK)
        return st;
    if (!(mb = tool(o->bin_dir, "mariadb-backup"))) {
        st = RD_ERR(err, RD_ERR_NOTFOUND,
                    "mariadb-backup not found%s%s (install the mariadb-backup package)",
                    o->bin_dir ? " in " : "", o->bin_dir ? o->bin_dir : "");
        goto out;
    }
    if (mkdir(o->work_dir, 0700) != 0 && errno != EEXIST) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", o->work_dir);
        goto out;
    }
    made_work = 1;
    copy = rd_fs_join(o->work_dir, "prepare");
    a_target = rd_asprintf("--target-dir=%s", copy ? copy : "");
    a_data = rd_asprintf("--datadir=%s", o->datadir);
    a_mem = o->use_memory ? rd_asprintf("--use-memory=%s", o->use_memory) : NULL;
    if (!copy || !a_target || !a_data || (o->use_memory && !a_mem)) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }

    /* the archive is only read: the prepare writes into a copy */
    if ((st = copy_backup(o, &a->backups[chain[0]], copy, log, err)) != RD_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const rd_mb_backup *b = &a->backups[chain[i]];
        char *inc = i ? rd_asprintf("%s/incremental-%zu", o->work_dir, i) : NULL;
        char *a_inc = i && inc ? rd_asprintf("--incremental-dir=%s", inc) : NULL;
        if (i && (!inc || !a_inc)) {
            free(inc);
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        /* --prepare --incremental-dir moves the .delta and .new files out of
         * the incremental directory: it gets a copy too */
        if (i)
            st = copy_backup(o, b, inc, log, err);
        if (st == RD_OK) {
            const char *argv[] = {mb,       "--no-defaults",       "--prepare",
                                  a_target, a_mem ? a_mem : a_inc, a_mem ? a_inc : NULL,
                                  NULL};
            snprintf(what, sizeof what, "mariadb-backup --prepare of %s", b->name);
            rd_log_info("restore: preparing %s%s", b->name, i ? " (incremental)" : "");
            st = run_tool(argv, NULL, o->deadline, 1, what, log, err);
        }
        if (i) {
            rd_error e2;
            if (rd_fs_rmtree(inc, o->work_dir, &e2) != RD_OK)
                rd_log_warn("restore: cannot remove %s: %s", inc, e2.msg);
        }
        free(inc);
        free(a_inc);
        if (st != RD_OK)
            goto out;
    }
    const char *mv[] = {mb, "--no-defaults", "--move-back", a_target, a_data, NULL};
    snprintf(what, sizeof what, "mariadb-backup --move-back of %s", a->backups[index].name);
    if ((st = run_tool(mv, NULL, o->deadline, 1, what, log, err)) != RD_OK)
        goto out;
    if (o->chown_to) {
        if (!(owner = rd_asprintf("%ld:%ld", (long)o->uid, (long)o->gid))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        const char *ch[] = {"chown", "-R", "--no-dereference", owner, "--", o->datadir, NULL};
        snprintf(what, sizeof what, "giving %s to uid %ld", o->datadir, (long)o->uid);
        if ((st = run_tool(ch, NULL, o->deadline, 0, what, log, err)) != RD_OK)
            goto out;
    }
out:
    if (made_work) {
        rd_error e2;
        char *parent = rd_asprintf("%s/..", o->work_dir);
        if (parent && rd_fs_rmtree(o->work_dir, parent, &e2) != RD_OK)
            rd_log_warn("restore: cannot remove %s: %s", o->work_dir, e2.msg);
        free(parent);
    }
    free(chain);
    free(mb);
    free(copy);
    free(a_target);
    free(a_data);
    free(a_mem);
    free(owner);
    return st;
}

int64_t rd_mb_stop_second(int64_t target_ms)
{
    int64_t t = target_ms + 1;
    return t >= 0 ? t / 1000 : -((-t + 999) / 1000);
}

/* mariadb-binlog ... | mariadb ...: both started on one pipe, both waited. */
static rd_status pipe_replay(const char *const *argv1, const char *const *env1,
                             const char *const *argv2, const char *const *env2, double deadline,
                             rd_strbuf *log, rd_error *err)
{
    rd_status st = RD_OK;
    rd_proc *p1 = NULL, *p2 = NULL;
    int pfd[2] = {-1, -1};
    int c1 = 0, c2 = 0;
    rd_error e1, e2;
    rd_status s1 = RD_OK, s2 = RD_OK;
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a pipe");
    rd_proc_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.argv = argv2;
    sp.env = env2;
    sp.no_cloud_secrets = 1;
    sp.stdin_mode = RD_PROC_IO_FD;
    sp.stdin_fd = pfd[0];
    sp.stderr_tail_max = TAIL_MAX;
    if ((st = rd_proc_start(&sp, &p2, err)) != RD_OK)
        goto out;
    memset(&sp, 0, sizeof sp);
    sp.argv = argv1;
    sp.env = env1;
    sp.no_cloud_secrets = 1;
    sp.stdin_mode = RD_PROC_IO_NULL;
    sp.stdout_mode = RD_PROC_IO_FD;
    sp.stdout_fd = pfd[1];
    sp.stderr_tail_max = TAIL_MAX;
    if ((st = rd_proc_start(&sp, &p1, err)) != RD_OK)
        goto out;
    close(pfd[0]);
    close(pfd[1]);
    pfd[0] = pfd[1] = -1;
    /* the client first: when it fails, mariadb-binlog gets SIGPIPE */
    s2 = rd_proc_wait(p2, deadline, &c2, &e2);
    if (s2 != RD_OK)
        rd_proc_stop(p1);
    s1 = rd_proc_wait(p1, deadline, &c1, &e1);
    log_tail(log, "mariadb-binlog", rd_proc_stderr_tail(p1));
    log_tail(log, "mariadb (replay)", rd_proc_stderr_tail(p2));
    char line[600];
    if (s1 == RD_OK && c1 != 0 && c1 != 128 + 13) { /* not just SIGPIPE from a failed client */
        error_line(rd_proc_stderr_tail(p1), line, sizeof line);
        st = RD_ERR(err, RD_ERR_PROC, "mariadb-binlog failed (exit %d)%s%s", c1, *line ? ": " : "",
                    line);
    } else if (s2 == RD_OK && c2 != 0) {
        error_line(rd_proc_stderr_tail(p2), line, sizeof line);
        st = RD_ERR(err, RD_ERR_PROC, "replay into the scratch server failed (exit %d)%s%s", c2,
                    *line ? ": " : "", line);
    } else if (s2 != RD_OK) {
        *err = e2;
        st = rd_error_prefix(err, "replay: ");
    } else if (s1 != RD_OK) {
        *err = e1;
        st = rd_error_prefix(err, "mariadb-binlog: ");
    } else if (c1 != 0) {
        st = RD_ERR(err, RD_ERR_PROC, "mariadb-binlog was killed by SIGPIPE");
    }
out:
    if (pfd[0] >= 0)
        close(pfd[0]);
    if (pfd[1] >= 0)
        close(pfd[1]);
    rd_proc_free(p1);
    rd_proc_free(p2);
    return st;
}

rd_status rd_mb_replay(const rd_mb_archive *a, size_t index, const rd_mb_replay_opts *o,
                       rd_strbuf *log, rd_mb_replay_result *res, rd_error *err)
{
    rd_status st;
    size_t first = 0, last = 0;
    int64_t end = 0;
    char *binlog = NULL, *client = NULL, *a_start = NULL, *a_stop = NULL, *a_sock = NULL,
         *a_user = NULL, *pw = NULL;
    const char **argv1 = NULL;
    const rd_mb_backup *b = &a->backups[index];

    if ((st = rd_mb_reach(a, index, &first, &last, &end, err)) != RD_OK)
        return st;
    if (o->stop_ms >= 0) {
        size_t pick;
        if (o->stop_ms < b->end_ms || o->stop_ms > end)
            return rd_mb_pick_for_target(a, o->stop_ms, &pick, err) == RD_OK
                       ? RD_ERR(err, RD_ERR_NOTFOUND, "backup %s does not reach the target",
                                b->name)
                       : RD_ERR_NOTFOUND;
    }
    binlog = tool(o->bin_dir, "mariadb-binlog");
    client = tool(o->bin_dir, "mariadb");
    if (!binlog || !client) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "%s not found (install the mariadb-client package)",
                    binlog ? "mariadb" : "mariadb-binlog");
        goto out;
    }
    a_start = rd_asprintf("--start-position=%llu", (unsigned long long)b->binlog_pos);
    a_sock = rd_asprintf("--socket=%s", o->socket);
    a_user = rd_asprintf("--user=%s", o->user);
    pw = rd_asprintf("MYSQL_PWD=%s", o->password ? o->password : "");
    int64_t stop_s = -1;
    if (o->stop_ms >= 0) {
        char t[RD_TIME_BUFSZ];
        stop_s = rd_mb_stop_second(o->stop_ms);
        rd_time_format(stop_s * 1000, t, sizeof t); /* 2026-01-30T15:00:00.000Z */
        t[10] = ' ';
        t[19] = '\0';
        a_stop = rd_asprintf("--stop-datetime=%s", t);
    }
    size_t nfiles = last - first + 1;
    argv1 = calloc(nfiles + 8, sizeof *argv1);
    if (!a_start || !a_sock || !a_user || !pw || (o->stop_ms >= 0 && !a_stop) || !argv1) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t k = 0;
    argv1[k++] = binlog;
    argv1[k++] = "--no-defaults";
    argv1[k++] = "--verify-binlog-checksum";
    argv1[k++] = a_start;
    if (a_stop)
        argv1[k++] = a_stop;
    for (size_t i = first; i <= last; i++)
        argv1[k++] = a->binlogs[i].path;
    argv1[k] = NULL;
    /* --stop-datetime is read in the process's local zone */
    const char *env1[] = {"TZ=UTC", NULL};
    const char *argv2[] = {client,          "--no-defaults", a_sock, a_user,
                           "--binary-mode", "--batch",       NULL};
    const char *env2[] = {pw, NULL};
    rd_log_info("restore: replaying %s .. %s from position %llu%s%s", a->binlogs[first].name,
                a->binlogs[last].name, (unsigned long long)b->binlog_pos, a_stop ? ", " : "",
                a_stop ? a_stop + 2 : "");
    st = pipe_replay(argv1, env1, argv2, env2, o->deadline, log, err);
    if (st == RD_OK) {
        res->first = first;
        res->last = last;
        res->start_pos = b->binlog_pos;
        res->stop_second = stop_s;
    }
out:
    if (pw)
        memset(pw, 0, strlen(pw));
    free(pw);
    free(binlog);
    free(client);
    free(a_start);
    free(a_stop);
    free(a_sock);
    free(a_user);
    free(argv1);
    return st;
}
