/* proc_int.h: declarations shared by the proc files only (not a public
 * contract): the rd_proc struct, the plan a forked child follows, and the
 * helpers proc.c, proc_exec.c, proc_table.c and proc_util.c share. */
#ifndef RESTOREDRILL_PROC_INT_H
#define RESTOREDRILL_PROC_INT_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

/* Where to look for programs when PATH is unset. */
#define RD_PROC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

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

/* What a child failed at before exec, written to the report pipe. */
enum {
    RD_PROC_STAGE_DUP = 1,
    RD_PROC_STAGE_SETGROUPS,
    RD_PROC_STAGE_SETGID,
    RD_PROC_STAGE_SETUID,
    RD_PROC_STAGE_CHDIR,
    RD_PROC_STAGE_EXEC
};

typedef struct rd_proc_child_report {
    int stage;
    int err;
} rd_proc_child_report;

/* Everything the child needs, prepared by the parent: after fork() the child
 * only calls async-signal-safe functions. */
typedef struct rd_proc_child_plan {
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
} rd_proc_child_plan;

/* --- proc_exec.c --- */

/* The child after fork(): set up fds, ids and directory, then exec c->path;
 * on failure report the stage on c->report_fd and _exit(127). Only
 * async-signal-safe calls. Does not return. */
void rd_proc_child_main(const rd_proc_child_plan *c);
/* Our environment with overrides: "NAME=VALUE" replaces or adds, a bare
 * "NAME" removes. Only the array is allocated; entries are borrowed. NULL
 * when out of memory. */
char **rd_proc_build_env(const char *const *over, int no_cloud_secrets);
/* The value of name in env, or NULL. */
const char *rd_proc_env_get(char *const *env, const char *name);
/* 1 when path is a regular file we may execute. */
int rd_proc_is_executable(const char *path);
/* Search name in a PATH-style list. Heap path or NULL; *found_noexec is set
 * when a file by that name exists but cannot be executed. */
char *rd_proc_search_path(const char *name, const char *pathvar, int *found_noexec);
/* Supplementary groups of uid (as initgroups would set), computed in the
 * parent because NSS lookups are not async-signal-safe. Heap array of *n
 * entries, NULL when out of memory. */
gid_t *rd_proc_user_groups(uid_t uid, gid_t gid, int *n);

/* --- proc_table.c --- */

/* 1 when the child has exited (it stays a zombie: not reaped), 0 while it
 * runs, -1 when it is not our child any more. */
int rd_proc_child_exited(pid_t pid);
/* Sleep secs seconds, resuming after signals. */
void rd_proc_nap(double secs);

/* Add / remove a child in the table rd_proc_kill_all stops. */
void rd_proc_live_add(pid_t pid);
void rd_proc_live_remove(pid_t pid);

#endif
