/* proc.c: child processes: fork/exec with an exact exec-error pipe, process
 * groups, a stderr tail drained by a thread, deadlines, run-as, the table of
 * live children and the abort flag. */
#include "restoredrill/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/log.h"

extern char **environ;

#define TAIL_DEFAULT ((size_t)16 * 1024)
#define GRACE_DEFAULT 5.0
#define KILL_ALL_GRACE 5.0
#define MAX_LIVE 1024
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define DRAIN_BUF 4096

struct rd_proc {
    pid_t pid;
    char name[256];
    int stdin_fd, stdout_fd;
    int err_fd;     /* read end of the stderr pipe, read by the drainer */
    int stop_fd[2]; /* a byte written here tells the drainer to finish */
    pthread_t drainer;
    int drainer_started;
    pthread_mutex_t mu; /* guards tail while the drainer runs */
    rd_strbuf tail;
    size_t tail_max;
    double term_grace;
    double started;
    int reaped;
    int exit_code;
};

/* ---- abort flag ---- */

static volatile sig_atomic_t abort_signo;

void rd_abort_request(int signo)
{
    if (!abort_signo)
        abort_signo = signo > 0 ? signo : SIGTERM;
}

int rd_abort_requested(void)
{
    return abort_signo;
}

void rd_abort_reset(void)
{
    abort_signo = 0;
}

static void on_signal(int signo)
{
    int saved = errno;
    rd_abort_request(signo);
    errno = saved;
}

void rd_abort_install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* ---- table of live children ---- */

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t live[MAX_LIVE];

static void live_add(pid_t pid)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == 0) {
            live[i] = pid;
            break;
        }
    pthread_mutex_unlock(&live_mu);
}

static void live_remove(pid_t pid)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == pid)
            live[i] = 0;
    pthread_mutex_unlock(&live_mu);
}

/* ---- small helpers ---- */

static void nap(double secs)
{
    if (secs <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* 1 when the child has exited (it stays a zombie: not reaped), 0 while it
 * runs, -1 when it is not our child any more. */
static int child_exited(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == EINTR ? 0 : -1;
    return si.si_pid == pid ? 1 : 0;
}

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
    live_remove(p->pid);
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
    while (child_exited(p->pid) == 0 && rd_mono_now() < end) {
        nap(step);
        step = step < 0.02 ? step * 2 : 0.02;
    }
    /* The leader is a zombie or still alive, so its pid (= the group id)
     * cannot have been reused: killing stragglers is safe. */
    killpg(p->pid, SIGKILL);
    reap(p);
}

/* ---- spawning ---- */

enum { STAGE_DUP = 1, STAGE_SETGROUPS, STAGE_SETGID, STAGE_SETUID, STAGE_CHDIR, STAGE_EXEC };

typedef struct child_report {
    int stage;
    int err;
} child_report;

/* Everything the child needs, prepared by the parent: after fork() the child
 * only calls async-signal-safe functions. */
typedef struct child_plan {
    const char *path;
    char *const *argv;
    char *const *envp;
    const char *cwd;
    int in_fd, out_fd, err_fd; /* to become 0, 1, 2; -1 keeps ours */
    int stderr_to_stdout;
    int run_as;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    int ngroups;
    int report_fd;
} child_plan;

static void child_fail(int fd, int stage)
{
    child_report r = {stage, errno};
    ssize_t w = write(fd, &r, sizeof r);
    (void)w;
    _exit(127);
}

/* Move fd to a number >= 3 so dup2 onto 0..2 cannot clobber it. */
static int lift_fd(int fd, int report_fd)
{
    if (fd < 0 || fd >= 3)
        return fd;
    int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (n < 0)
        child_fail(report_fd, STAGE_DUP);
    return n;
}

static void close_from(int lo, int hi)
{
    if (lo > hi)
        return;
    if (close_range((unsigned)lo, (unsigned)hi, 0) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536)
        max = 65536;
    for (long fd = lo; fd <= hi && fd < max; fd++)
        close((int)fd);
}

static void child_main(const child_plan *c)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int s = 1; s < NSIG; s++)
        if (s != SIGKILL && s != SIGSTOP)
            sigaction(s, &sa, NULL);
    sigset_t none;
    sigemptyset(&none);
    setpgid(0, 0);

    int rfd = c->report_fd;
    if (rfd < 3) {
        rfd = fcntl(rfd, F_DUPFD_CLOEXEC, 3);
        if (rfd < 0)
            _exit(127);
    }
    int in = lift_fd(c->in_fd, rfd), out = lift_fd(c->out_fd, rfd), ef = lift_fd(c->err_fd, rfd);
    if (in >= 0 && dup2(in, 0) < 0)
        child_fail(rfd, STAGE_DUP);
    if (out >= 0 && dup2(out, 1) < 0)
        child_fail(rfd, STAGE_DUP);
    if (c->stderr_to_stdout) {
        if (dup2(1, 2) < 0)
            child_fail(rfd, STAGE_DUP);
    } else if (ef >= 0 && dup2(ef, 2) < 0) {
        child_fail(rfd, STAGE_DUP);
    }
    close_from(3, rfd - 1);
    close_from(rfd + 1, INT_MAX);

    if (c->run_as) {
        if (setgroups((size_t)c->ngroups, c->groups) != 0)
            child_fail(rfd, STAGE_SETGROUPS);
        if (setgid(c->gid) != 0)
            child_fail(rfd, STAGE_SETGID);
        if (setuid(c->uid) != 0)
            child_fail(rfd, STAGE_SETUID);
    }
    if (c->cwd && chdir(c->cwd) != 0)
        child_fail(rfd, STAGE_CHDIR);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(c->path, c->argv, c->envp);
    child_fail(rfd, STAGE_EXEC);
}

/* Our environment with overrides: "NAME=VALUE" replaces or adds, a bare
 * "NAME" removes. Only the array is allocated; entries are borrowed. */
static char **build_env(const char *const *over)
{
    size_t n = 0, m = 0, k = 0;
    while (environ && environ[n])
        n++;
    while (over && over[m])
        m++;
    char **env = calloc(n + m + 1, sizeof *env);
    if (!env)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(environ[i], "=");
        int replaced = 0;
        for (size_t j = 0; j < m && !replaced; j++)
            replaced = strncmp(over[j], environ[i], len) == 0 &&
                       (over[j][len] == '=' || over[j][len] == '\0');
        if (!replaced)
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        if (strchr(over[j], '='))
            env[k++] = (char *)over[j];
    env[k] = NULL;
    return env;
}

static const char *env_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

static int is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Search name in a PATH-style list. Heap path or NULL; *found_noexec is set
 * when a file by that name exists but cannot be executed. */
static char *search_path(const char *name, const char *pathvar, int *found_noexec)
{
    const char *p = pathvar;
    while (p) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char *cand = len ? rd_asprintf("%.*s/%s", (int)len, p, name) : rd_asprintf("./%s", name);
        if (!cand)
            return NULL;
        if (is_executable(cand))
            return cand;
        if (found_noexec && access(cand, F_OK) == 0)
            *found_noexec = 1;
        free(cand);
        p = colon ? colon + 1 : NULL;
    }
    return NULL;
}

/* Supplementary groups of uid (as initgroups would set), computed in the
 * parent because NSS lookups are not async-signal-safe. */
static gid_t *user_groups(uid_t uid, gid_t gid, int *n)
{
    struct passwd pw, *res = NULL;
    char buf[16384];
    int ng = 64;
    gid_t *groups = malloc((size_t)ng * sizeof *groups);
    if (!groups)
        return NULL;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res) {
        groups[0] = gid;
        *n = 1;
        return groups;
    }
    while (getgrouplist(pw.pw_name, gid, groups, &ng) < 0) {
        gid_t *g = realloc(groups, (size_t)ng * sizeof *groups);
        if (!g) {
            free(groups);
            return NULL;
        }
        groups = g;
    }
    *n = ng;
    return groups;
}

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

static rd_status report_child_error(const rd_proc *p, const child_report *r, const char *cwd,
                                    uid_t uid, rd_error *err)
{
    switch (r->stage) {
    case STAGE_EXEC:
        return rd_error_set(err, RD_ERR_PROC, r->err, "cannot run %s", p->name);
    case STAGE_CHDIR:
        return rd_error_set(err, RD_ERR_PROC, r->err,
                            "cannot run %s: cannot change directory to %s", p->name, cwd);
    case STAGE_SETGROUPS:
    case STAGE_SETGID:
    case STAGE_SETUID:
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
    child_plan plan;
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

    envp = build_env(spec->env);
    if (!envp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (strchr(spec->argv[0], '/')) {
        path = rd_strdup(spec->argv[0]);
    } else {
        int noexec = 0;
        const char *pv = env_get(envp, "PATH");
        path = search_path(spec->argv[0], pv ? pv : DEFAULT_PATH, &noexec);
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
        groups = user_groups(spec->uid, spec->gid, &plan.ngroups);
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
        child_main(&plan); /* does not return */
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid < 0) {
        errno = fork_errno;
        st = RD_ERR_ERRNO(err, RD_ERR_PROC, "cannot run %s: fork", p->name);
        goto out;
    }
    setpgid(pid, pid); /* also in the child: whoever runs first wins */
    p->pid = pid;
    live_add(pid);

    close_fd(&rep[1]);
    close_fd(&in_pipe[0]);
    close_fd(&out_pipe[1]);
    close_fd(&err_pipe[1]);
    close_fd(&null_in);
    close_fd(&null_out);

    child_report r;
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
        if (child_exited(p->pid) != 0) {
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
        nap(left < step ? left : step);
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

/* Read whatever is buffered in fd right now (non-blocking). 0 at EOF. */
static int read_available(int fd, rd_strbuf *out, int *overflow)
{
    char buf[16384];
    for (int round = 0; round < 64; round++) { /* at most 1 MiB per call */
        struct pollfd pf = {fd, POLLIN, 0};
        int n = poll(&pf, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 1;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        if (!*overflow && rd_strbuf_append_n(out, buf, (size_t)r, NULL) != RD_OK)
            *overflow = 1;
    }
    return 1;
}

/* Copy stdout into out until EOF, the child's exit (a grandchild may keep
 * the pipe open), the deadline or an abort. */
static void collect_stdout(rd_proc *p, double deadline, rd_strbuf *out, int *overflow)
{
    int fd = p->stdout_fd;
    while (!rd_abort_requested()) {
        double now = rd_mono_now();
        if (deadline > 0 && now >= deadline)
            return;
        int ms = 50;
        if (deadline > 0 && (deadline - now) * 1000 < ms)
            ms = (int)((deadline - now) * 1000) + 1;
        struct pollfd pf = {fd, POLLIN, 0};
        int n = poll(&pf, 1, ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return;
        if (n > 0) {
            if (read_available(fd, out, overflow) == 0)
                return; /* EOF */
            continue;
        }
        if (child_exited(p->pid) != 0) {
            read_available(fd, out, overflow);
            return;
        }
    }
}

rd_status rd_proc_run(const rd_proc_spec *spec, double timeout, rd_strbuf *out, rd_strbuf *errtail,
                      int *exit_code, rd_error *err)
{
    rd_proc_spec s = *spec;
    rd_proc *p = NULL;
    int overflow = 0, code = 0;
    s.stdout_mode = out ? RD_PROC_IO_PIPE : RD_PROC_IO_NULL;
    rd_status st = rd_proc_start(&s, &p, err);
    if (st != RD_OK)
        return st;
    double deadline = timeout > 0 ? rd_mono_now() + timeout : 0;
    rd_proc_close_stdin(p);
    if (out)
        collect_stdout(p, deadline, out, &overflow);
    st = rd_proc_wait(p, deadline, &code, err);
    if (errtail) {
        const char *t = rd_proc_stderr_tail(p);
        size_t n = strlen(t);
        rd_strbuf_reset(errtail);
        if (n > errtail->max)
            t += n - errtail->max;
        rd_strbuf_append(errtail, t, NULL);
    }
    if (st == RD_OK && overflow)
        st = RD_ERR(err, RD_ERR_NOMEM, "output of %s is larger than %zu bytes", p->name, out->max);
    if (st == RD_OK && exit_code)
        *exit_code = code;
    rd_proc_free(p);
    return st;
}

void rd_proc_kill_all(void)
{
    pid_t pids[MAX_LIVE];
    int n = 0;
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) {
            killpg(live[i], SIGTERM);
            pids[n++] = live[i];
        }
    pthread_mutex_unlock(&live_mu);
    if (n == 0)
        return;
    double end = rd_mono_now() + KILL_ALL_GRACE;
    while (rd_mono_now() < end) {
        int running = 0;
        for (int i = 0; i < n && !running; i++)
            running = child_exited(pids[i]) == 0;
        if (!running)
            break;
        nap(0.01);
    }
    /* Only groups whose leader is not reaped yet: their ids cannot be reused. */
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0)
            killpg(live[i], SIGKILL);
    pthread_mutex_unlock(&live_mu);
}

rd_status rd_proc_lookup_user(const char *name, uid_t *uid, gid_t *gid, rd_error *err)
{
    struct passwd pw, *res = NULL;
    char buf[16384];
    int e = getpwnam_r(name, &pw, buf, sizeof buf, &res);
    if (e != 0 && e != ENOENT && e != ESRCH) {
        errno = e;
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot look up user \"%s\"", name);
    }
    if (!res)
        return RD_ERR(err, RD_ERR_NOTFOUND, "user \"%s\" does not exist", name);
    if (uid)
        *uid = pw.pw_uid;
    if (gid)
        *gid = pw.pw_gid;
    return RD_OK;
}

char *rd_proc_which(const char *name, const char *const *extra_dirs)
{
    if (!name || !*name)
        return NULL;
    if (strchr(name, '/'))
        return is_executable(name) ? rd_strdup(name) : NULL;
    const char *pv = getenv("PATH");
    char *found = search_path(name, pv ? pv : DEFAULT_PATH, NULL);
    for (size_t i = 0; !found && extra_dirs && extra_dirs[i]; i++) {
        char *cand = rd_asprintf("%s/%s", extra_dirs[i], name);
        if (cand && is_executable(cand))
            found = cand;
        else
            free(cand);
    }
    return found;
}

rd_status rd_proc_fail(rd_error *err, const char *what, int exit_code, const char *stderr_tail)
{
    const char *t = stderr_tail ? stderr_tail : "";
    const char *end = t + strlen(t);
    while (end > t && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    const char *start = end;
    while (start > t && start[-1] != '\n')
        start--;
    while (start < end && (*start == ' ' || *start == '\t' || *start == '\r'))
        start++;
    if (start == end)
        return RD_ERR(err, RD_ERR_PROC, "%s exited with %d", what, exit_code);
    char line[512], safe[512];
    size_t n = (size_t)(end - start);
    if (n >= sizeof line)
        n = sizeof line - 1;
    memcpy(line, start, n);
    line[n] = '\0';
    rd_redact(line, safe, sizeof safe);
    return RD_ERR(err, RD_ERR_PROC, "%s exited with %d: %s", what, exit_code, safe);
}
