/* proc.h: child processes: argv + env, pipes, stderr tail, process groups,
 * deadlines (SIGTERM, then SIGKILL after a grace period), run-as-user.
 *
 * Every child runs in its own process group, so stopping it stops its
 * children too. Every live child is remembered in a process-wide table so a
 * signal handler path can stop them all (rd_proc_kill_all). stderr is always
 * drained by a background thread into a capped tail buffer so a chatty child
 * never blocks. */
#ifndef RESTOREDRILL_PROC_H
#define RESTOREDRILL_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "restoredrill/error.h"
#include "restoredrill/strbuf.h"

typedef enum rd_proc_io {
    RD_PROC_IO_NULL = 0, /* /dev/null */
    RD_PROC_IO_PIPE,     /* a pipe the caller reads/writes through rd_proc_stdin_fd/stdout_fd */
    RD_PROC_IO_INHERIT,  /* the parent's own fd (stdout: our stderr, never our stdout) */
    RD_PROC_IO_FD        /* the fd given in stdin_fd / stdout_fd (dup'ed into the child) */
} rd_proc_io;

typedef struct rd_proc_spec {
    const char *const *argv; /* argv[0] is looked up in PATH; NULL-terminated */
    const char *const *env;  /* "NAME=VALUE" entries added to (or overriding) our
                                environment; a bare "NAME" removes NAME;
                                NULL-terminated; may be NULL */
    const char *cwd;         /* NULL: inherit */
    rd_proc_io stdin_mode;
    int stdin_fd; /* with RD_PROC_IO_FD */
    rd_proc_io stdout_mode;
    int stdout_fd;        /* with RD_PROC_IO_FD */
    int stderr_to_stdout; /* 1: child's stderr goes where its stdout goes (no tail) */
    uid_t uid;            /* with run_as: setgid/initgroups/setuid before exec */
    gid_t gid;
    int run_as;             /* 0: keep our uid */
    size_t stderr_tail_max; /* bytes of stderr kept; 0 means 16 KiB */
    double term_grace;      /* seconds between SIGTERM and SIGKILL; 0 means 5 */
    int no_cloud_secrets;   /* 1: the cloud credentials of our environment (RD_PROC_CLOUD_SECRETS)
                               are left out of the child's, unless env sets them: for servers and
                               restore tools, which never need them */
} rd_proc_spec;

/* The variables no_cloud_secrets leaves out, NULL-terminated. */
extern const char *const rd_proc_cloud_secrets[];

/* opaque. One thread owns a proc (start, wait, stop, free); only
 * rd_proc_kill_all and the abort flag reach it from other threads. */
typedef struct rd_proc rd_proc;

/* Start a child. RD_ERR_PROC with "cannot run NAME: No such file or
 * directory" when the program cannot be executed (exec errors are reported
 * from the child through a close-on-exec pipe, so they are exact). On
 * success *out is owned by the caller: wait for it and rd_proc_free it. */
rd_status rd_proc_start(const rd_proc_spec *spec, rd_proc **out, rd_error *err);

pid_t rd_proc_pid(const rd_proc *p);
/* The parent's end of the pipe (-1 when not a pipe). Owned by the proc; the
 * caller may close stdin early with rd_proc_close_stdin to signal EOF. */
int rd_proc_stdin_fd(const rd_proc *p);
int rd_proc_stdout_fd(const rd_proc *p);
void rd_proc_close_stdin(rd_proc *p);

/* Wait for the child to exit. deadline is an rd_mono_now() instant, or 0 for
 * none. At the deadline the group gets SIGTERM, then SIGKILL after the grace
 * period, and RD_ERR_TIMEOUT is returned ("NAME timed out after 12.0s")
 * once it is reaped. On RD_OK *exit_code is the exit status, or 128+signal
 * when it died from a signal. Closes the stdin pipe first if still open. */
rd_status rd_proc_wait(rd_proc *p, double deadline, int *exit_code, rd_error *err);

/* SIGTERM the process group, SIGKILL after the grace period, reap. Safe on a
 * child already reaped. */
void rd_proc_stop(rd_proc *p);

/* Last bytes the child wrote to stderr (valid until rd_proc_free; complete
 * once rd_proc_wait returned). Never NULL. */
const char *rd_proc_stderr_tail(const rd_proc *p);

/* Stops the child if still running, closes fds, frees. NULL is a no-op. */
void rd_proc_free(rd_proc *p);

/* Convenience: start, feed nothing, capture stdout into `out` (may be NULL:
 * discarded) up to out->max, wait with `timeout` seconds (0: none). The
 * stderr tail is copied into `errtail` when non-NULL (also on failure).
 * spec->stdout_mode is ignored; a stdin pipe is closed at once. More stdout
 * than out->max: the child still runs to its end, then RD_ERR_NOMEM
 * "output of NAME is larger than N bytes". Returns once the child exited,
 * even when a grandchild keeps its stdout open. */
rd_status rd_proc_run(const rd_proc_spec *spec, double timeout, rd_strbuf *out, rd_strbuf *errtail,
                      int *exit_code, rd_error *err);

/* Send SIGTERM to every live child's group, then SIGKILL after a grace
 * period. For the abort path (SIGINT/SIGTERM received). */
void rd_proc_kill_all(void);

/* Abort flag, set from the SIGINT/SIGTERM handler (async-signal-safe).
 * rd_proc_wait returns RD_ERR_ABORTED ("interrupted by signal 15") after
 * stopping its child when the flag is raised while it waits; long loops
 * elsewhere poll rd_abort_requested(). */
void rd_abort_request(int signo);
int rd_abort_requested(void); /* 0, or the signal number */
/* Lower the flag again (for tests). */
void rd_abort_reset(void);
/* Install SIGINT/SIGTERM handlers that call rd_abort_request, and ignore SIGPIPE. */
void rd_abort_install_handlers(void);

/* Look up a user: RD_ERR_NOTFOUND "user \"mysql\" does not exist". */
rd_status rd_proc_lookup_user(const char *name, uid_t *uid, gid_t *gid, rd_error *err);

/* Find an executable in PATH, then in each of extra_dirs (NULL-terminated,
 * may be NULL). Returns a heap path or NULL when absent. */
char *rd_proc_which(const char *name, const char *const *extra_dirs);

/* A "command exited with 1: <last stderr line>" style summary into err, for
 * uniform messages. Returns RD_ERR_PROC. */
rd_status rd_proc_fail(rd_error *err, const char *what, int exit_code, const char *stderr_tail);

#endif
