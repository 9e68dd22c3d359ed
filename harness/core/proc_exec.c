/* proc_exec.c: the child side of rd_proc_start: what a forked child does
 * before exec (only async-signal-safe calls), and the environment, PATH
 * search and supplementary groups the parent prepares for it. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_int.h"
#include "restoredrill/strbuf.h"

extern char **environ;

/* ---- the child, after fork ---- */

static void child_fail(int fd, int stage)
{
    rd_proc_child_report r = {stage, errno};
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
        child_fail(report_fd, RD_PROC_STAGE_DUP);
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

void rd_proc_child_main(const rd_proc_child_plan *c)
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
        child_fail(rfd, RD_PROC_STAGE_DUP);
    if (out >= 0 && dup2(out, 1) < 0)
        child_fail(rfd, RD_PROC_STAGE_DUP);
    if (c->stderr_to_stdout) {
        if (dup2(1, 2) < 0)
            child_fail(rfd, RD_PROC_STAGE_DUP);
    } else if (ef >= 0 && dup2(ef, 2) < 0) {
        child_fail(rfd, RD_PROC_STAGE_DUP);
    }
    close_from(3, rfd - 1);
    close_from(rfd + 1, INT_MAX);

    if (c->run_as) {
        if (setgroups((size_t)c->ngroups, c->groups) != 0)
            child_fail(rfd, RD_PROC_STAGE_SETGROUPS);
        if (setgid(c->gid) != 0)
            child_fail(rfd, RD_PROC_STAGE_SETGID);
        if (setuid(c->uid) != 0)
            child_fail(rfd, RD_PROC_STAGE_SETUID);
    }
    if (c->cwd && chdir(c->cwd) != 0)
        child_fail(rfd, RD_PROC_STAGE_CHDIR);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(c->path, c->argv, c->envp);
    child_fail(rfd, RD_PROC_STAGE_EXEC);
}

/* ---- prepared by the parent ---- */

const char *const rd_proc_cloud_secrets[] = {"AWS_ACCESS_KEY_ID",
                                             "AWS_SECRET_ACCESS_KEY",
                                             "AWS_SESSION_TOKEN",
                                             "AWS_SECURITY_TOKEN",
                                             "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                             "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                             "AWS_WEB_IDENTITY_TOKEN_FILE",
                                             NULL};

static int is_cloud_secret(const char *entry, size_t len)
{
    for (size_t i = 0; rd_proc_cloud_secrets[i]; i++)
        if (strlen(rd_proc_cloud_secrets[i]) == len &&
            strncmp(rd_proc_cloud_secrets[i], entry, len) == 0)
            return 1;
    return 0;
}

/* Our environment with overrides: "NAME=VALUE" replaces or adds, a bare
 * "NAME" removes; no_cloud_secrets drops rd_proc_cloud_secrets (an override
 * still sets them). Only the array is allocated; entries are borrowed. */
char **rd_proc_build_env(const char *const *over, int no_cloud_secrets)
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
        if (!replaced && !(no_cloud_secrets && is_cloud_secret(environ[i], len)))
            env[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        if (strchr(over[j], '='))
            env[k++] = (char *)over[j];
    env[k] = NULL;
    return env;
}

const char *rd_proc_env_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; env[i]; i++)
        if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
            return env[i] + len + 1;
    return NULL;
}

int rd_proc_is_executable(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && access(path, X_OK) == 0;
}

/* Search name in a PATH-style list. Heap path or NULL; *found_noexec is set
 * when a file by that name exists but cannot be executed. */
char *rd_proc_search_path(const char *name, const char *pathvar, int *found_noexec)
{
    const char *p = pathvar;
    while (p) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        char *cand = len ? rd_asprintf("%.*s/%s", (int)len, p, name) : rd_asprintf("./%s", name);
        if (!cand)
            return NULL;
        if (rd_proc_is_executable(cand))
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
gid_t *rd_proc_user_groups(uid_t uid, gid_t gid, int *n)
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
