/* proc.c: child processes: fork/exec with an exact exec-error pipe, process
 * groups, a stderr tail drained by a thread, deadlines, wait, stop and free.
 * The child side of the fork is in proc_exec.c, the table of live children
 * and the abort flag in proc_table.c, rd_proc_run and the small utilities in
 * proc_util.c. */
#include "restoredrill/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"

#define TAIL_DEFAULT ((size_t)16 * 1024)
#define GRACE_DEFAULT 5.0
#define DRAIN_BUF 4096

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* ---- stderr drainer ---- */

static void tail_append(rd_proc *p, const char *buf, size_t n)
{
    pthread_mutex_lock(&p->mu);
    if (rd_strbuf_append_n(&p->tail, buf, n, NULL) == RD_OK && p->tail.len > 2 * p->tail_max)
        rd_strbuf_keep_tail(&p->tail, p->tail_max);
    pthread_mutex_unlock(&p->mu);
}

static void *drain_main(void *arg)
{
    rd_proc *p = arg;
    char buf[DRAIN_BUF];
    int stopping = 0;
    size_t after_stop = 0;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    for (;;) {
        struct pollfd pf[2] = {{p->err_fd, POLLIN, 0}, {p->stop_fd[0], POLLIN, 0}};
        int n = poll(pf, stopping ? 1 : 2, stopping ? 0 : -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || (stopping && n == 0))
            break;
        if (pf[0].revents) {
            ssize_t r = read(p->err_fd, buf, sizeof buf);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break; /* EOF: every writer is gone */
            tail_append(p, buf, (size_t)r);
            /* A grandchild still writing must not keep us here forever. */
            if (stopping && (after_stop += (size_t)r) > 4 * p->tail_max + (1 << 20))
                break;
        } else if (!stopping && pf[1].revents) {
            stopping = 1; /* child reaped: take what is buffered, then stop */
        }
    }
    return NULL;
}

static void finish_drainer(rd_proc *p)
{
    if (!p->drainer_started)
        return;
    char c = 1;
    ssize_t w;
    do
        w = write(p->stop_fd[1], &c, 1);
    while (w < 0 && errno == EINTR);
    pthread_join(p->drainer, NULL);
    p->drainer_started = 0;
    rd_strbuf_keep_tail(&p->tail, p->tail_max);
}

/* Reap the child (it must have exited or be about to) and finish stderr. */
static void reap(rd_proc *p)
{
    if (p->reaped)
        return;
    int status = 0;
    pid_t r;
    rd_proc_live_remove(p->pid);
    do
        r = waitpid(p->pid, &status, 0);
    while (r < 0 && errno == EINTR);
    if (r == p->pid && WIFEXITED(status))
        p->exit_code = WEXITSTATUS(status);
    else if (r == p->pid && WIFSIGNALED(status))
        p->exit_code = 128 + WTERMSIG(status);
    else
        p->exit_code = 255; /* reaped elsewhere (SIGCHLD ignored?) */
    p->reaped = 1;
    finish_drainer(p);
}

/* SIGTERM the group, wait up to the grace period, SIGKILL what is left, reap. */
static void stop_group(rd_proc *p)
{
    if (p->reaped)
        return;
    killpg(p->pid, SIGTERM);
    double end = rd_mono_now() + p->term_grace;
    double step = 0.001;
    while (rd_proc_child_exited(p->pid) == 0 && rd_mono_now() < end) {
        rd_proc_nap(step);
        step = step < 0.02 ? step * 2 : 0.02;
    }
    /* The leader is a zombie or still alive, so its pid (= the group id)
     * cannot have been reused: killing stragglers is safe. */
    killpg(p->pid, SIGKILL);
    reap(p);
}

/* ---- spawning ---- */

static rd_status open_null(int flags, int *fd, rd_error *err)
{
    *fd = open("/dev/null", flags | O_CLOEXEC);
    if (*fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open /dev/null");
    return RD_OK;
}

static rd_status make_pipe(int fds[2], rd_error *err)
{
    if (pipe2(fds, O_CLOEXEC) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a pipe");
    return RD_OK;
}

static rd_status report_child_error(const rd_proc *p, const rd_proc_child_report *r,
                                    const char *cwd, uid_t uid, rd_error *err)
{
    switch (r->stage) {
    case RD_PROC_STAGE_EXEC:
        return rd_error_set(err, RD_ERR_PROC, r->err, "cannot run %s", p->name);
    case RD_PROC_STAGE_CHDIR:
        return rd_error_set(err, RD_ERR_PROC, r->err,
                            "cannot run %s: cannot change directory to %s", p->name, cwd);
    case RD_PROC_STAGE_SETGROUPS:
    case RD_PROC_STAGE_SETGID:
    case RD_PROC_STAGE_SETUID:
        return rd_error_set(err, RD_ERR_PROC, r->err, "cannot run %s as uid %u", p->name,
                            (unsigned)uid);
    default:
        return rd_error_set(err, RD_ERR_PROC, r->err, "cannot run %s: cannot set up its files",
                            p->name);
    }
}

rd_status rd_proc_start(const rd_proc_spec *spec, rd_proc **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_proc *p = NULL;
    char **envp = NULL;
    char *path = NULL;
    gid_t *groups = NULL;
    int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
    int rep[2] = {-1, -1};
    int null_in = -1, null_out = -1;
    rd_proc_child_plan plan;
    memset(&plan, 0, sizeof plan);

    if (!spec || !spec->argv || !spec->argv[0] || !spec->argv[0][0])
        return RD_ERR(err, RD_ERR_INTERNAL, "no program to run");
    p = calloc(1, sizeof *p);
    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    p->pid = -1;
    p->stdin_fd = p->stdout_fd = p->err_fd = -1;
    p->stop_fd[0] = p->stop_fd[1] = -1;
    pthread_mutex_init(&p->mu, NULL);
    snprintf(p->name, sizeof p->name, "%s", spec->argv[0]);
    p->tail_max = spec->stderr_tail_max ? spec->stderr_tail_max : TAIL_DEFAULT;
    p->term_grace = spec->term_grace > 0 ? spec->term_grace : GRACE_DEFAULT;
    rd_strbuf_init(&p->tail, 2 * p->tail_max + DRAIN_BUF + 16);

    envp = rd_proc_build_env(spec->env, spec->no_cloud_secrets);
    if (!envp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (strchr(spec->argv[0], '/')) {
        path = rd_strdup(spec->argv[0]);
    } else {
        int noexec = 0;
        const char *pv = rd_proc_env_get(envp, "PATH");
        path = rd_proc_search_path(spec->argv[0], pv ? pv : RD_PROC_DEFAULT_PATH, &noexec);
        if (!path) {
            st = rd_error_set(err, RD_ERR_PROC, noexec ? EACCES : ENOENT, "cannot run %s", p->name);
            goto out;
        }
    }
    if (!path) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (spec->run_as) {
        groups = rd_proc_user_groups(spec->uid, spec->gid, &plan.ngroups);
        if (!groups) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
    }

    /* stdin */
    plan.in_fd = -1;
    switch (spec->stdin_mode) {
    case RD_PROC_IO_NULL:
        st = open_null(O_RDONLY, &null_in, err), plan.in_fd = null_in;
        break;
    case RD_PROC_IO_PIPE:
        st = make_pipe(in_pipe, err), plan.in_fd = in_pipe[0];
        break;
    case RD_PROC_IO_INHERIT:
        break;
    case RD_PROC_IO_FD:
        plan.in_fd = spec->stdin_fd;
        break;
    }
    if (st != RD_OK)
        goto out;
    /* stdout */
    switch (spec->stdout_mode) {
    case RD_PROC_IO_NULL:
        st = open_null(O_WRONLY, &null_out, err), plan.out_fd = null_out;
        break;
    case RD_PROC_IO_PIPE:
        st = make_pipe(out_pipe, err), plan.out_fd = out_pipe[1];
        break;
    case RD_PROC_IO_INHERIT:
        plan.out_fd = STDERR_FILENO;
        break;
    case RD_PROC_IO_FD:
        plan.out_fd = spec->stdout_fd;
        break;
    }
    if (st != RD_OK)
        goto out;
    /* stderr */
    plan.err_fd = -1;
    plan.stderr_to_stdout = spec->stderr_to_stdout;
    if (!spec->stderr_to_stdout) {
        if ((st = make_pipe(err_pipe, err)) != RD_OK || (st = make_pipe(p->stop_fd, err)) != RD_OK)
            goto out;
        plan.err_fd = err_pipe[1];
    }
    if ((st = make_pipe(rep, err)) != RD_OK)
        goto out;

    plan.path = path;
    plan.argv = (char *const *)spec->argv;
    plan.envp = envp;
    plan.cwd = spec->cwd;
    plan.run_as = spec->run_as;
    plan.uid = spec->uid;
    plan.gid = spec->gid;
    plan.groups = groups;
    plan.report_fd = rep[1];

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
        rd_proc_child_main(&plan); /* does not return */
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        errno = fork_errno;
        st = RD_ERR_ERRNO(err, RD_ERR_PROC, "cannot run %s: fork", p->name);
        goto out;
    }
    setpgid(pid, pid); /* also in the child: whoever runs first wins */
    p->pid = pid;
    rd_proc_live_add(pid);

    close_fd(&rep[1]);
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    close_fd(&null_in);
    close_fd(&null_out);

    rd_proc_child_report r;
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = read(rep[0], (char *)&r + got, sizeof r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got == sizeof r) { /* the child failed before or at exec */
        reap(p);
        st = report_child_error(p, &r, spec->cwd, spec->uid, err);
        goto out;
    }

    p->stdin_fd = in_pipe[1];
    in_pipe[1] = -1;
    p->stdout_fd = out_pipe[0];
    out_pipe[0] = -1;
    if (!spec->stderr_to_stdout) {
        p->err_fd = err_pipe[0];
        err_pipe[0] = -1;
        if (pthread_create(&p->drainer, NULL, drain_main, p) != 0) {
            stop_group(p);
            st = RD_ERR(err, RD_ERR_INTERNAL, "cannot start a thread to read %s's errors", p->name);
            goto out;
        }
        p->drainer_started = 1;
    }
    p->started = rd_mono_now();
    *out = p;
    p = NULL;
out:
    close_fd(&rep[0]);
    close_fd(&rep[1]);
    for (int i = 0; i < 2; i++) {
        close_fd(&in_pipe[i]);
        close_fd(&out_pipe[i]);
        close_fd(&err_pipe[i]);
    }
    close_fd(&null_in);
    close_fd(&null_out);
    rd_proc_free(p);
    free(envp);
    free(path);
    free(groups);
    return st;
}

pid_t rd_proc_pid(const rd_proc *p)
{
    return p->pid;
}

int rd_proc_stdin_fd(const rd_proc *p)
{
    return p->stdin_fd;
}

int rd_proc_stdout_fd(const rd_proc *p)
{
    return p->stdout_fd;
}

void rd_proc_close_stdin(rd_proc *p)
{
    close_fd(&p->stdin_fd);
}

rd_status rd_proc_wait(rd_proc *p, double deadline, int *exit_code, rd_error *err)
{
    rd_proc_close_stdin(p);
    double step = 0.001;
    while (!p->reaped) {
        if (rd_proc_child_exited(p->pid) != 0) {
            reap(p);
            break;
        }
        int sig = rd_abort_requested();
        if (sig) {
            stop_group(p);
            return RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", sig);
        }
        double now = rd_mono_now();
        if (deadline > 0 && now >= deadline) {
            stop_group(p);
            return RD_ERR(err, RD_ERR_TIMEOUT, "%s timed out after %.1fs", p->name,
                          deadline - p->started);
        }
        double left = deadline > 0 ? deadline - now : step;
        rd_proc_nap(left < step ? left : step);
        step = step < 0.02 ? step * 2 : 0.02;
    }
    if (exit_code)
        *exit_code = p->exit_code;
    return RD_OK;
}

void rd_proc_stop(rd_proc *p)
{
    if (p)
        stop_group(p);
}

const char *rd_proc_stderr_tail(const rd_proc *p)
{
    return p->tail.data;
}

void rd_proc_free(rd_proc *p)
{
    if (!p)
        return;
    if (p->pid > 0 && !p->reaped)
        stop_group(p);
    finish_drainer(p);
    close_fd(&p->stdin_fd);
    close_fd(&p->stdout_fd);
    close_fd(&p->err_fd);
    close_fd(&p->stop_fd[0]);
    close_fd(&p->stop_fd[1]);
    rd_strbuf_free(&p->tail);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
