/* proc_util.c: running a command to completion with its output collected
 * (rd_proc_run), looking up users and programs, and turning a failed
 * command's stderr into an error message. */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

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
        if (rd_proc_child_exited(p->pid) != 0) {
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
        return rd_proc_is_executable(name) ? rd_strdup(name) : NULL;
    const char *pv = getenv("PATH");
    char *found = rd_proc_search_path(name, pv ? pv : RD_PROC_DEFAULT_PATH, NULL);
    for (size_t i = 0; !found && extra_dirs && extra_dirs[i]; i++) {
        char *cand = rd_asprintf("%s/%s", extra_dirs[i], name);
        if (cand && rd_proc_is_executable(cand))
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
