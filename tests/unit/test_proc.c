/* test_proc.c: child processes: exit codes, signals, pipes, stderr tails,
 * deadlines over whole process groups, run-as, kill_all, the abort flag. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

static rd_proc_spec spec_of(const char *const *argv)
{
    rd_proc_spec s;
    memset(&s, 0, sizeof s);
    s.argv = argv;
    return s;
}

/* Run argv, return the exit code; stdout into out when non-NULL. */
static int run(const char *const *argv, rd_strbuf *out)
{
    rd_proc_spec s = spec_of(argv);
    rd_error err;
    int code = -1;
    rd_error_clear(&err);
    ck_assert_msg(rd_proc_run(&s, 30, out, NULL, &code, &err) == RD_OK, "%s", err.msg);
    return code;
}

/* 1 when pid is gone or a zombie (a zombie cannot run any more). */
static int pid_dead(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *close_paren = strrchr(buf, ')');
    return close_paren && (close_paren[2] == 'Z' || close_paren[2] == 'X');
}

static int wait_dead(pid_t pid)
{
    for (int i = 0; i < 300 && !pid_dead(pid); i++)
        usleep(10000);
    return pid_dead(pid);
}

START_TEST(test_exit_codes)
{
    ck_assert_int_eq(run(ARGV("true"), NULL), 0);
    ck_assert_int_eq(run(ARGV("false"), NULL), 1);
    ck_assert_int_eq(run(ARGV("sh", "-c", "exit 3"), NULL), 3);
    ck_assert_int_eq(run(ARGV("sh", "-c", "exit 255"), NULL), 255);
}
END_TEST

START_TEST(test_signals)
{
    ck_assert_int_eq(run(ARGV("sh", "-c", "kill -KILL $$"), NULL), 128 + 9);
    ck_assert_int_eq(run(ARGV("sh", "-c", "kill -TERM $$"), NULL), 128 + 15);
    ck_assert_int_eq(run(ARGV("sh", "-c", "kill -SEGV $$"), NULL), 128 + 11);
}
END_TEST

START_TEST(test_signal_state_reset_in_child)
{
    /* an ignored or blocked signal in the parent must not leak into children */
    signal(SIGTERM, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    ck_assert_int_eq(run(ARGV("sh", "-c", "kill -TERM $$; exit 0"), NULL), 128 + 15);
    ck_assert_int_eq(run(ARGV("sh", "-c", "kill -USR1 $$; exit 0"), NULL), 128 + 10);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGTERM, SIG_DFL);
}
END_TEST

START_TEST(test_stdout_capture_and_stderr_tail)
{
    rd_proc_spec s =
        spec_of(ARGV("sh", "-c", "echo out; echo 'first' >&2; echo 'last err' >&2; exit 2"));
    rd_strbuf out, tail;
    rd_strbuf_init(&out, 0);
    rd_strbuf_init(&tail, 0);
    int code = -1;
    ck_assert_int_eq(rd_proc_run(&s, 30, &out, &tail, &code, NULL), RD_OK);
    ck_assert_int_eq(code, 2);
    ck_assert_str_eq(out.data, "out\n");
    ck_assert_str_eq(tail.data, "first\nlast err\n");
    rd_error err;
    ck_assert_int_eq(rd_proc_fail(&err, "sh", code, tail.data), RD_ERR_PROC);
    ck_assert_str_eq(err.msg, "sh exited with 2: last err");
    rd_strbuf_free(&out);
    rd_strbuf_free(&tail);
}
END_TEST

START_TEST(test_chatty_stderr_keeps_last_bytes)
{
    /* 20000 numbered lines (~200 KB, far more than a pipe buffer) on stderr,
     * nothing read by us until the end: no deadlock, and the tail is exactly
     * the last 1000 bytes. */
    rd_proc_spec s = spec_of(ARGV(
        "sh", "-c",
        "i=0; while [ $i -lt 20000 ]; do echo \"line $i\"; i=$((i+1)); done >&2; echo END >&2"));
    s.stderr_tail_max = 1000;
    rd_proc *p = NULL;
    rd_error err;
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_OK);
    int code = -1;
    ck_assert_int_eq(rd_proc_wait(p, rd_mono_now() + 60, &code, &err), RD_OK);
    ck_assert_int_eq(code, 0);
    rd_strbuf all;
    rd_strbuf_init(&all, 0);
    for (int i = 0; i < 20000; i++)
        rd_strbuf_appendf(&all, NULL, "line %d\n", i);
    rd_strbuf_append(&all, "END\n", NULL);
    ck_assert_uint_eq(all.len, 208894);
    const char *tail = rd_proc_stderr_tail(p);
    ck_assert_uint_eq(strlen(tail), 1000);
    ck_assert_str_eq(tail, all.data + all.len - 1000);
    rd_strbuf_free(&all);
    rd_proc_free(p);
}
END_TEST

typedef struct feeder {
    int fd;
    size_t len;
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    char buf[8192];
    size_t sent = 0;
    while (sent < f->len) {
        size_t n = f->len - sent < sizeof buf ? f->len - sent : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + (sent + i) % 26);
        ssize_t w = write(f->fd, buf, n);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    return NULL;
}

START_TEST(test_stdin_round_trip_through_cat)
{
    rd_proc_spec s = spec_of(ARGV("cat"));
    s.stdin_mode = RD_PROC_IO_PIPE;
    s.stdout_mode = RD_PROC_IO_PIPE;
    rd_proc *p = NULL;
    rd_error err;
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_OK);
    ck_assert_int_ge(rd_proc_stdin_fd(p), 0);
    ck_assert_int_ge(rd_proc_stdout_fd(p), 0);
    /* 1 MiB both ways at once: a writer thread, we read */
    feeder f = {rd_proc_stdin_fd(p), 1 << 20};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, feed, &f), 0);
    size_t got = 0;
    int mismatch = 0;
    char buf[16384];
    for (;;) {
        ssize_t n = read(rd_proc_stdout_fd(p), buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0) {
            ck_assert_int_eq(errno, EINTR);
            continue;
        }
        for (ssize_t i = 0; i < n; i++)
            if (buf[i] != (char)('a' + (got + (size_t)i) % 26))
                mismatch++;
        got += (size_t)n;
        if (got == f.len) {
            pthread_join(th, NULL);
            rd_proc_close_stdin(p); /* EOF for cat */
            ck_assert_int_eq(rd_proc_stdin_fd(p), -1);
        }
    }
    ck_assert_uint_eq(got, 1 << 20);
    ck_assert_int_eq(mismatch, 0);
    int code = -1;
    ck_assert_int_eq(rd_proc_wait(p, 0, &code, &err), RD_OK);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(rd_proc_stderr_tail(p), "");
    rd_proc_free(p);
}
END_TEST

START_TEST(test_timeout_kills_the_group)
{
    rd_proc_spec s = spec_of(ARGV("sh", "-c", "sleep 100 & echo $!; sleep 100"));
    s.stdout_mode = RD_PROC_IO_PIPE;
    s.term_grace = 20; /* SIGTERM alone must be enough here */
    rd_proc *p = NULL;
    rd_error err;
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_OK);
    char line[32] = "";
    ssize_t n = 0, r;
    while (n < (ssize_t)sizeof line - 1 && (r = read(rd_proc_stdout_fd(p), line + n, 1)) == 1 &&
           line[n] != '\n')
        n++;
    line[n] = '\0';
    pid_t grandchild = (pid_t)strtol(line, NULL, 10);
    ck_assert_int_gt(grandchild, 1);
    pid_t child = rd_proc_pid(p);
    ck_assert_int_eq(getpgid(child), child); /* its own process group */
    ck_assert_int_eq(getpgid(grandchild), child);
    double t0 = rd_mono_now();
    int code = -7;
    ck_assert_int_eq(rd_proc_wait(p, t0 + 1.0, &code, &err), RD_ERR_TIMEOUT);
    double waited = rd_mono_now() - t0;
    ck_assert_str_eq(err.msg, "sh timed out after 1.0s");
    ck_assert_int_eq(code, -7); /* untouched on error */
    /* returned without needing the 20 s SIGKILL grace */
    ck_assert_msg(waited < 10, "waited %.1fs", waited);
    ck_assert(pid_dead(child));
    ck_assert_msg(wait_dead(grandchild), "grandchild %d survived", (int)grandchild);
    /* a second wait reports how it ended */
    ck_assert_int_eq(rd_proc_wait(p, 0, &code, &err), RD_OK);
    ck_assert_int_eq(code, 128 + 15);
    rd_proc_free(p);
}
END_TEST

START_TEST(test_timeout_escalates_to_sigkill)
{
    rd_proc_spec s = spec_of(ARGV("sh", "-c", "trap '' TERM; sleep 100"));
    s.term_grace = 0.3;
    rd_strbuf tail;
    rd_strbuf_init(&tail, 0);
    rd_error err;
    int code = -7;
    ck_assert_int_eq(rd_proc_run(&s, 0.5, NULL, &tail, &code, &err), RD_ERR_TIMEOUT);
    ck_assert_str_eq(err.msg, "sh timed out after 0.5s");
    ck_assert_int_eq(code, -7);
    rd_strbuf_free(&tail);
}
END_TEST

START_TEST(test_missing_program)
{
    rd_error err;
    rd_proc *p = NULL;
    rd_proc_spec s = spec_of(ARGV("rd-no-such-program", "--x"));
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_ERR_PROC);
    ck_assert_str_eq(err.msg, "cannot run rd-no-such-program: No such file or directory");
    ck_assert_int_eq(err.sys_errno, ENOENT);
    ck_assert_ptr_null(p);
    s = spec_of(ARGV("/nonexistent/bin/pg_restore"));
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_ERR_PROC);
    ck_assert_str_eq(err.msg, "cannot run /nonexistent/bin/pg_restore: No such file or directory");
    char path[] = "/tmp/rd-proc-noexec-XXXXXX"; /* exists, not executable */
    close(mkstemp(path));
    s = spec_of(ARGV(path));
    ck_assert_int_eq(rd_proc_run(&s, 5, NULL, NULL, NULL, &err), RD_ERR_PROC);
    char want[128];
    snprintf(want, sizeof want, "cannot run %s: Permission denied", path);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(chmod(path, 0755), 0); /* executable, but not a program */
    ck_assert_int_eq(rd_fs_write_atomic(path,
                                        "\x7f"
                                        "ELF garbage",
                                        12, 0755, &err),
                     RD_OK);
    ck_assert_int_eq(rd_proc_run(&s, 5, NULL, NULL, NULL, &err), RD_ERR_PROC);
    snprintf(want, sizeof want, "cannot run %s: Exec format error", path);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
    s = spec_of(ARGV(""));
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_ERR_INTERNAL);
    ck_assert_str_eq(err.msg, "no program to run");
}
END_TEST

START_TEST(test_env_override_and_cwd)
{
    setenv("RD_TEST_INHERITED", "kept", 1);
    setenv("RD_TEST_REMOVED", "should not show", 1);
    rd_proc_spec s = spec_of(
        ARGV("sh", "-c",
             "echo \"$RD_TEST_VAR|$HOME|$RD_TEST_INHERITED|${RD_TEST_REMOVED-unset}\"; pwd"));
    const char *const env[] = {"RD_TEST_VAR=hello world", "HOME=/override", "RD_TEST_REMOVED",
                               NULL};
    s.env = env;
    s.cwd = "/usr/share";
    rd_strbuf out;
    rd_strbuf_init(&out, 0);
    int code = -1;
    ck_assert_int_eq(rd_proc_run(&s, 30, &out, NULL, &code, NULL), RD_OK);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out.data, "hello world|/override|kept|unset\n/usr/share\n");
    rd_strbuf_free(&out);

    /* servers and restore tools never see the cloud credentials; an override still sets them */
    setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t", 1);
    setenv("AWS_SESSION_TOKEN", "tok", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    rd_proc_spec c =
        spec_of(ARGV("sh", "-c",
                     "echo \"${AWS_SECRET_ACCESS_KEY-unset}|${AWS_SESSION_TOKEN-unset}|"
                     "$AWS_REGION|$RD_TEST_INHERITED\""));
    const char *const cenv[] = {"AWS_SESSION_TOKEN=given", NULL};
    c.env = cenv;
    c.no_cloud_secrets = 1;
    rd_strbuf_init(&out, 0);
    ck_assert_int_eq(rd_proc_run(&c, 30, &out, NULL, &code, NULL), RD_OK);
    ck_assert_str_eq(out.data, "unset|given|eu-west-1|kept\n");
    rd_strbuf_free(&out);
    c.no_cloud_secrets = 0;
    rd_strbuf_init(&out, 0);
    ck_assert_int_eq(rd_proc_run(&c, 30, &out, NULL, &code, NULL), RD_OK);
    ck_assert_str_eq(out.data, "s3cr3t|given|eu-west-1|kept\n");
    rd_strbuf_free(&out);
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_REGION");

    rd_error err;
    s.cwd = "/nonexistent/dir";
    ck_assert_int_eq(rd_proc_run(&s, 30, NULL, NULL, &code, &err), RD_ERR_PROC);
    ck_assert_str_eq(err.msg,
                     "cannot run sh: cannot change directory to /nonexistent/dir: No such file or "
                     "directory");
}
END_TEST

START_TEST(test_run_as)
{
    uid_t uid;
    gid_t gid;
    rd_error err;
    ck_assert_int_eq(rd_proc_lookup_user("nobody", &uid, &gid, &err), RD_OK);
    ck_assert_int_eq(uid, 65534);
    ck_assert_int_eq(rd_proc_lookup_user("rd-no-such-user", &uid, &gid, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "user \"rd-no-such-user\" does not exist");
    if (geteuid() != 0) {
        fprintf(stderr, "test_run_as: not root, only the lookup was tested\n");
        return;
    }
    rd_proc_spec s = spec_of(ARGV("sh", "-c", "id -u; id -g; id -G"));
    s.run_as = 1;
    s.uid = uid;
    s.gid = gid;
    s.cwd = "/";
    rd_strbuf out;
    rd_strbuf_init(&out, 0);
    int code = -1;
    ck_assert_int_eq(rd_proc_run(&s, 30, &out, NULL, &code, &err), RD_OK);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(out.data, "65534\n65534\n65534\n"); /* root's groups are gone */
    rd_strbuf_free(&out);
    /* the user cannot enter a 0700 root directory: reported exactly */
    char *dir = NULL;
    ck_assert_int_eq(rd_fs_mkdtemp(NULL, "rd-proc-", 0, 0, 0, &dir, &err), RD_OK);
    s.cwd = dir;
    ck_assert_int_eq(rd_proc_run(&s, 30, NULL, NULL, &code, &err), RD_ERR_PROC);
    char want[512];
    snprintf(want, sizeof want, "cannot run sh: cannot change directory to %s: Permission denied",
             dir);
    ck_assert_str_eq(err.msg, want);
    rmdir(dir);
    free(dir);
}
END_TEST

START_TEST(test_kill_all)
{
    rd_proc *a = NULL, *b = NULL;
    rd_proc_spec s = spec_of(ARGV("sleep", "100"));
    ck_assert_int_eq(rd_proc_start(&s, &a, NULL), RD_OK);
    ck_assert_int_eq(rd_proc_start(&s, &b, NULL), RD_OK);
    rd_proc_kill_all();
    int ca = -1, cb = -1;
    ck_assert_int_eq(rd_proc_wait(a, rd_mono_now() + 10, &ca, NULL), RD_OK);
    ck_assert_int_eq(rd_proc_wait(b, rd_mono_now() + 10, &cb, NULL), RD_OK);
    ck_assert_int_eq(ca, 128 + 15);
    ck_assert_int_eq(cb, 128 + 15);
    rd_proc_free(a);
    rd_proc_free(b);
    rd_proc_kill_all(); /* nothing live: a no-op */
}
END_TEST

START_TEST(test_abort_flag_stops_wait)
{
    rd_abort_reset();
    ck_assert_int_eq(rd_abort_requested(), 0);
    rd_abort_install_handlers();
    raise(SIGTERM); /* handled: sets the flag, does not kill us */
    ck_assert_int_eq(rd_abort_requested(), 15);
    raise(SIGINT); /* the first signal is kept */
    ck_assert_int_eq(rd_abort_requested(), 15);
    raise(SIGPIPE); /* ignored */

    rd_proc *p = NULL;
    rd_proc_spec s = spec_of(ARGV("sleep", "100"));
    rd_error err;
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_OK);
    pid_t pid = rd_proc_pid(p);
    int code = -7;
    ck_assert_int_eq(rd_proc_wait(p, 0, &code, &err), RD_ERR_ABORTED);
    ck_assert_str_eq(err.msg, "interrupted by signal 15");
    ck_assert_int_eq(code, -7);
    ck_assert(pid_dead(pid));
    rd_proc_free(p);
    rd_abort_reset();
    ck_assert_int_eq(rd_abort_requested(), 0);
}
END_TEST

START_TEST(test_grandchild_holding_pipes)
{
    /* sh exits at once but leaves a child holding stdout and stderr: the run
     * must still return promptly with what sh printed. */
    rd_proc_spec s = spec_of(ARGV("sh", "-c", "sleep 100 & echo $!; echo bye >&2"));
    rd_strbuf out, tail;
    rd_strbuf_init(&out, 0);
    rd_strbuf_init(&tail, 0);
    int code = -1;
    ck_assert_int_eq(rd_proc_run(&s, 30, &out, &tail, &code, NULL), RD_OK);
    ck_assert_int_eq(code, 0);
    ck_assert_str_eq(tail.data, "bye\n");
    pid_t orphan = (pid_t)strtol(out.data, NULL, 10);
    ck_assert_int_gt(orphan, 1);
    kill(orphan, SIGKILL);
    rd_strbuf_free(&out);
    rd_strbuf_free(&tail);
}
END_TEST

START_TEST(test_output_cap_and_redirections)
{
    rd_proc_spec s = spec_of(ARGV("sh", "-c", "echo 0123456789"));
    rd_strbuf out;
    rd_strbuf_init(&out, 8);
    rd_error err;
    int code = -1;
    ck_assert_int_eq(rd_proc_run(&s, 30, &out, NULL, &code, &err), RD_ERR_NOMEM);
    ck_assert_str_eq(err.msg, "output of sh is larger than 8 bytes");
    rd_strbuf_free(&out);

    /* stderr merged into stdout: both in order, no tail */
    s = spec_of(ARGV("sh", "-c", "echo out; echo err >&2"));
    s.stderr_to_stdout = 1;
    rd_strbuf_init(&out, 0);
    rd_strbuf tail;
    rd_strbuf_init(&tail, 0);
    rd_strbuf_append(&tail, "stale", NULL);
    ck_assert_int_eq(rd_proc_run(&s, 30, &out, &tail, &code, &err), RD_OK);
    ck_assert_str_eq(out.data, "out\nerr\n");
    ck_assert_str_eq(tail.data, "");
    rd_strbuf_free(&out);
    rd_strbuf_free(&tail);

    /* stdout into a given fd, stdin from a given fd */
    char inpath[] = "/tmp/rd-proc-in-XXXXXX", path[] = "/tmp/rd-proc-out-XXXXXX";
    int fd = mkstemp(inpath);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "from file\n", 10), 10);
    ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
    int outfd = mkstemp(path);
    ck_assert_int_eq(write(outfd, "before\n", 7), 7);
    s = spec_of(ARGV("cat"));
    s.stdin_mode = RD_PROC_IO_FD;
    s.stdin_fd = fd;
    s.stdout_mode = RD_PROC_IO_FD;
    s.stdout_fd = outfd;
    rd_proc *p = NULL;
    ck_assert_int_eq(rd_proc_start(&s, &p, &err), RD_OK);
    ck_assert_int_eq(rd_proc_stdout_fd(p), -1);
    ck_assert_int_eq(rd_proc_wait(p, 0, &code, &err), RD_OK);
    rd_proc_free(p);
    close(fd);
    close(outfd);
    char *data = NULL;
    ck_assert_int_eq(rd_fs_read_file(path, 0, &data, NULL, &err), RD_OK);
    ck_assert_str_eq(data, "before\nfrom file\n");
    free(data);
    unlink(path);
    unlink(inpath);
}
END_TEST

START_TEST(test_stray_fds_closed)
{
    int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
    ck_assert_int_ge(leak, 3);
    rd_strbuf out;
    rd_strbuf_init(&out, 0);
    /* the shell's own fds; 3 is the directory it reads for the glob */
    ck_assert_int_eq(run(ARGV("sh", "-c", "cd /proc/$$/fd && echo *"), &out), 0);
    ck_assert_str_eq(out.data, "0 1 2 3\n");
    rd_strbuf_free(&out);
    close(leak);
}
END_TEST

START_TEST(test_which)
{
    char *sh = rd_proc_which("sh", NULL);
    ck_assert_ptr_nonnull(sh);
    ck_assert_str_eq(strrchr(sh, '/'), "/sh");
    ck_assert_int_eq(access(sh, X_OK), 0);
    free(sh);
    ck_assert_ptr_null(rd_proc_which("rd-no-such-program", NULL));
    ck_assert_ptr_null(rd_proc_which("", NULL));
    char *abs = rd_proc_which("/bin/sh", NULL);
    ck_assert_str_eq(abs, "/bin/sh");
    free(abs);

    char *dir = NULL;
    ck_assert_int_eq(rd_fs_mkdtemp(NULL, "rd-which-", 0, 0, 0, &dir, NULL), RD_OK);
    char *plain = rd_fs_join(dir, "plain");
    ck_assert_int_eq(rd_fs_write_atomic(plain, "x", 1, 0644, NULL), RD_OK);
    ck_assert_ptr_null(rd_proc_which(plain, NULL)); /* not executable */
    free(plain);
    char *tool = rd_fs_join(dir, "rd-extra-tool");
    ck_assert_int_eq(rd_fs_write_atomic(tool, "#!/bin/sh\n", 10, 0755, NULL), RD_OK);
    const char *const extra[] = {"/nonexistent", dir, NULL};
    char *found = rd_proc_which("rd-extra-tool", extra);
    ck_assert_str_eq(found, tool);
    free(found);
    ck_assert_int_eq(rd_fs_rmtree(dir, "/tmp", NULL), RD_OK);
    free(tool);
    free(dir);
}
END_TEST

START_TEST(test_fail_message)
{
    rd_error err;
    ck_assert_int_eq(
        rd_proc_fail(&err, "pg_restore", 1,
                     "pg_restore: warning: x\npg_restore: error: could not restore\n\n  \n"),
        RD_ERR_PROC);
    ck_assert_str_eq(err.msg, "pg_restore exited with 1: pg_restore: error: could not restore");
    ck_assert_int_eq(err.code, RD_ERR_PROC);
    rd_proc_fail(&err, "pg_restore", 1, "");
    ck_assert_str_eq(err.msg, "pg_restore exited with 1");
    rd_proc_fail(&err, "mariadb", 137, NULL);
    ck_assert_str_eq(err.msg, "mariadb exited with 137");
    rd_proc_fail(&err, "psql", 2, "psql: error: bad dsn host=x password=hunter2\r\n");
    ck_assert_str_eq(err.msg, "psql exited with 2: psql: error: bad dsn host=x password=***");
}
END_TEST

Suite *proc_suite(void);
Suite *proc_suite(void)
{
    Suite *s = suite_create("proc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_exit_codes);
    tcase_add_test(tc, test_signals);
    tcase_add_test(tc, test_signal_state_reset_in_child);
    tcase_add_test(tc, test_stdout_capture_and_stderr_tail);
    tcase_add_test(tc, test_chatty_stderr_keeps_last_bytes);
    tcase_add_test(tc, test_stdin_round_trip_through_cat);
    tcase_add_test(tc, test_timeout_kills_the_group);
    tcase_add_test(tc, test_timeout_escalates_to_sigkill);
    tcase_add_test(tc, test_missing_program);
    tcase_add_test(tc, test_env_override_and_cwd);
    tcase_add_test(tc, test_run_as);
    tcase_add_test(tc, test_kill_all);
    tcase_add_test(tc, test_abort_flag_stops_wait);
    tcase_add_test(tc, test_grandchild_holding_pipes);
    tcase_add_test(tc, test_output_cap_and_redirections);
    tcase_add_test(tc, test_stray_fds_closed);
    tcase_add_test(tc, test_which);
    tcase_add_test(tc, test_fail_message);
    suite_add_tcase(s, tc);
    return s;
}
