/* restore.c: what the restore drivers share: running a restore tool with the
 * decoded artifact pumped into its stdin by a thread (so the deadline and the
 * abort flag are watched while the tool runs), error-line scanning of the
 * tool's stderr, and the completion trailer of plain dumps. */
#include "restore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

/* read and written in 256 KiB pieces through a 1 MiB pipe: fewer wakeups of
 * the pump and the tool per byte than 64 KiB through the default 64 KiB */
#define CHUNK (256 * 1024)
#define PIPE_SIZE (1024 * 1024)
/* seconds past the deadline a stuck artifact stream may take to end */
#define PUMP_GRACE 2.0

void rd_restore_outcome_init(rd_restore_outcome *o)
{
    memset(o, 0, sizeof(*o));
    rd_strbuf_init(&o->log, 0);
}

void rd_restore_outcome_free(rd_restore_outcome *o)
{
    if (!o)
        return;
    rd_strbuf_free(&o->log);
    free(o->roles_note);
    o->roles_note = NULL;
    free(o->manifest_note);
    o->manifest_note = NULL;
    free(o->split_note);
    o->split_note = NULL;
    rd_strlist_free(&o->databases_seen);
}

void rd_recovery_outcome_init(rd_recovery_outcome *o)
{
    memset(o, 0, sizeof(*o));
    rd_strbuf_init(&o->log, 0);
}

void rd_recovery_outcome_free(rd_recovery_outcome *o)
{
    if (!o)
        return;
    rd_strbuf_free(&o->log);
    free(o->wal_first);
    free(o->wal_last);
    free(o->server_line);
    free(o->reached_lsn);
    o->wal_first = o->wal_last = o->server_line = o->reached_lsn = NULL;
}

static int is_error_line(const char *s, size_t n)
{
    char line[512];
    size_t k = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    memcpy(line, s, k);
    line[k] = '\0';
    if (strstr(line, "ERROR:") || strstr(line, "FATAL:") || strstr(line, "PANIC:"))
        return 1;
    if (strstr(line, ": error:") || strstr(line, "[ERROR]"))
        return 1;
    if (strstr(line, "errors ignored on restore"))
        return 1;
    /* mariadb client: "ERROR 1064 (42000) at line 3: ..." / "ERROR at line 1: ..." */
    if (strncmp(line, "ERROR ", 6) == 0)
        return 1;
    return 0;
}

int rd_restore_scan_errors(const char *text, char *last, size_t lastsz)
{
    int count = 0;
    if (last && lastsz)
        last[0] = '\0';
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n && is_error_line(p, n)) {
            count++;
            if (count == 1 && last && lastsz) {
                size_t k = n < lastsz - 1 ? n : lastsz - 1;
                memcpy(last, p, k);
                last[k] = '\0';
            }
        }
        p = nl ? nl + 1 : p + strlen(p);
    }
    return count;
}

int rd_restore_has_trailer(const char *tail, size_t n, const char *marker)
{
    size_t m = strlen(marker);
    for (size_t i = 0; m && i + m <= n; i++)
        if ((i == 0 || tail[i - 1] == '\n') && memcmp(tail + i, marker, m) == 0)
            return 1;
    return 0;
}

static int env_name_is(const char *entry, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        size_t k = strlen(names[i]);
        if (strncmp(entry, names[i], k) == 0 && entry[k] == '=')
            return 1;
    }
    return 0;
}

rd_status rd_restore_client_env(const rd_scratch *s, rd_strlist *list, rd_error *err)
{
    static const char *const ours[] = {"PGHOST",     "PGPORT",    "PGUSER", "PGPASSWORD",
                                       "PGDATABASE", "MYSQL_PWD", NULL};
    const rd_conninfo *c = &s->conn;
    rd_status st = RD_OK;
    char *v = NULL;
    for (size_t i = 0; s->env && s->env[i] && st == RD_OK; i++)
        if (!env_name_is(s->env[i], ours))
            st = rd_strlist_push(list, s->env[i], err);
    if (st != RD_OK)
        return st;
    if (c->engine == RD_ENGINE_PG) {
        const char *host = c->socket ? c->socket : c->host;
        const char *pairs[][2] = {{"PGHOST", host},
                                  {"PGUSER", c->user},
                                  {"PGPASSWORD", c->password},
                                  {"PGDATABASE", c->database}};
        for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]) && st == RD_OK; i++) {
            if (!pairs[i][1])
                continue;
            v = rd_asprintf("%s=%s", pairs[i][0], pairs[i][1]);
            st = v ? rd_strlist_push(list, v, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            free(v);
            v = NULL;
        }
        if (st == RD_OK && c->port > 0) {
            v = rd_asprintf("PGPORT=%d", c->port);
            st = v ? rd_strlist_push(list, v, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        }
    } else if (c->password) {
        v = rd_asprintf("MYSQL_PWD=%s", c->password);
        st = v ? rd_strlist_push(list, v, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    free(v);
    return st;
}

char *rd_restore_tool_path(const char *name)
{
    char *found = NULL;
    glob_t g;
    memset(&g, 0, sizeof(g));
    int have_glob = glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0;
    const char *dirs[8];
    size_t nd = 0;
    /* newest PostgreSQL first (glob sorts ascending) */
    for (size_t i = have_glob ? g.gl_pathc : 0; i > 0 && nd < 5; i--)
        dirs[nd++] = g.gl_pathv[i - 1];
    dirs[nd++] = "/usr/sbin";
    dirs[nd++] = "/usr/local/bin";
    dirs[nd] = NULL;
    found = rd_proc_which(name, dirs);
    if (have_glob)
        globfree(&g);
    return found ? found : rd_strdup(name);
}

/* --- the pump thread: artifact -> (filter) -> tool stdin --- */

typedef struct pump {
    const rd_restore_job *job;
    int fd;
    atomic_int stop;
    atomic_int done;
    rd_status st;
    rd_error err;
    int epipe;
    char tail[RD_RESTORE_TRAILER_WINDOW];
    size_t tail_len;
    rd_strbuf line, emit, chunk;
    int passing; /* the rest of a long line passes as it comes (job->long_line) */
    int kept;    /* the line being gathered is long and is gathered whole */
} pump;

static int pump_should_stop(pump *p)
{
    if (atomic_load(&p->stop) || rd_abort_requested())
        return 1;
    return p->job->deadline > 0 && rd_mono_now() > p->job->deadline;
}

static rd_status pump_write(pump *p, const char *data, size_t n)
{
    while (n > 0) {
        ssize_t w = write(p->fd, data, n);
        if (w > 0) {
            data += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EPIPE) {
            p->epipe = 1;
            return RD_ERR(&p->err, RD_ERR_IO, "%s closed its input before the end of the dump",
                          p->job->tool);
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            return RD_ERR_ERRNO(&p->err, RD_ERR_IO, "cannot write to %s", p->job->tool);
        if (pump_should_stop(p))
            return RD_ERR(&p->err, RD_ERR_ABORTED, "stopped feeding %s", p->job->tool);
        struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
        (void)poll(&pfd, 1, 200);
    }
    return RD_OK;
}

static void keep_tail(pump *p, const char *buf, size_t n)
{
    const size_t w = sizeof(p->tail);
    if (n >= w) {
        memcpy(p->tail, buf + n - w, w);
        p->tail_len = w;
    } else if (p->tail_len + n <= w) {
        memcpy(p->tail + p->tail_len, buf, n);
        p->tail_len += n;
    } else {
        size_t drop = p->tail_len + n - w;
        memmove(p->tail, p->tail + drop, p->tail_len - drop);
        memcpy(p->tail + p->tail_len - drop, buf, n);
        p->tail_len = w;
    }
}

/* A line longer than RD_RESTORE_LINE_MAX being gathered in p->line: the
 * filter's long-line function may let its rest pass as it comes. */
static rd_status pump_long_line(pump *p)
{
    int stream = 0;
    rd_status st = p->job->long_line(p->job->filter_ud, p->line.data, RD_RESTORE_LINE_MAX, &stream,
                                     &p->emit, &p->err);
    p->kept = !stream;
    if (st != RD_OK || !stream)
        return st;
    st = pump_write(p, p->emit.data, p->emit.len);
    rd_strbuf_reset(&p->emit);
    if (st == RD_OK)
        st = pump_write(p, p->line.data + RD_RESTORE_LINE_MAX, p->line.len - RD_RESTORE_LINE_MAX);
    rd_strbuf_reset(&p->line);
    p->passing = 1;
    return st;
}

/* Pass complete lines through the filter; with final, the rest too. */
static rd_status pump_filter(pump *p, const char *buf, size_t n, int final)
{
    rd_status st = RD_OK;
    if (p->passing) { /* the rest of a long line, up to its end */
        const char *nl = memchr(buf, '\n', n);
        size_t k = nl ? (size_t)(nl - buf) + 1 : n;
        if ((st = pump_write(p, buf, k)) != RD_OK || !nl)
            return st;
        p->passing = 0;
        buf += k;
        n -= k;
    }
    st = rd_strbuf_append_n(&p->line, buf, n, &p->err);
    size_t start = 0;
    while (st == RD_OK && start < p->line.len) {
        const char *nl = memchr(p->line.data + start, '\n', p->line.len - start);
        if (!nl && !final)
            break;
        size_t len = nl ? (size_t)(nl - (p->line.data + start)) + 1 : p->line.len - start;
        st = p->job->filter(p->job->filter_ud, p->line.data + start, len, &p->emit, &p->err);
        p->kept = 0;
        start += len;
        if (st == RD_OK && p->emit.len >= CHUNK) {
            st = pump_write(p, p->emit.data, p->emit.len);
            rd_strbuf_reset(&p->emit);
        }
    }
    if (st == RD_OK && p->emit.len) {
        st = pump_write(p, p->emit.data, p->emit.len);
        rd_strbuf_reset(&p->emit);
    }
    if (st == RD_OK && start) {
        memmove(p->line.data, p->line.data + start, p->line.len - start);
        p->line.len -= start;
        p->line.data[p->line.len] = '\0';
    }
    if (st == RD_OK && !final && p->job->long_line && !p->kept &&
        p->line.len >= RD_RESTORE_LINE_MAX)
        st = pump_long_line(p);
    return st;
}

/* The chunk filter (if any), then the line filter (if any), then the tool. */
static rd_status pump_pass(pump *p, const char *buf, size_t n, int final)
{
    rd_status st = RD_OK;
    if (p->job->chunk_filter) {
        rd_strbuf_reset(&p->chunk);
        st = p->job->chunk_filter(p->job->chunk_ud, buf, n, final, &p->chunk, &p->err);
        buf = p->chunk.data;
        n = p->chunk.len;
    }
    if (st == RD_OK && p->job->filter)
        st = pump_filter(p, buf, n, final);
    else if (st == RD_OK && n)
        st = pump_write(p, buf, n);
    return st;
}

static void *pump_main(void *arg)
{
    pump *p = arg;
    rd_status st = RD_OK;
    while (st == RD_OK) {
        size_t n = 0;
        const void *view = NULL;
        if (pump_should_stop(p)) {
            st = RD_ERR(&p->err, RD_ERR_ABORTED, "stopped feeding %s", p->job->tool);
            break;
        }
        /* the artifact's own bytes where it can lend them (no copy) */
        st = rd_artifact_read_view(p->job->stream, &view, CHUNK, &n, &p->err);
        if (st != RD_OK)
            break;
        const char *buf = view;
        if (n == 0) {
            st = pump_pass(p, "", 0, 1);
            break;
        }
        keep_tail(p, buf, n);
        st = pump_pass(p, buf, n, 0);
    }
    close(p->fd);
    p->fd = -1;
    p->st = st;
    atomic_store(&p->done, 1);
    return NULL;
}

/* Wait for the pump thread. Its reads from a decrypt filter end at the
 * job's deadline or on an abort (rd_artifact_set_deadline); should one
 * still wait past the deadline's grace, this artifact alone is cancelled,
 * which stops its own filter and no other target's processes. */
static void pump_join(pump *p, pthread_t th, double deadline)
{
    int cancelled = 0;
    atomic_store(&p->stop, 1);
    while (!atomic_load(&p->done)) {
        if (!cancelled &&
            (rd_abort_requested() || (deadline > 0 && rd_mono_now() > deadline + PUMP_GRACE))) {
            rd_log_warn("%s: the artifact stream does not end; cancelling it", p->job->tool);
            rd_artifact_cancel(p->job->stream);
            cancelled = 1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_join(th, NULL);
}

/* Read the tool's stdout into capture until EOF, the deadline or an abort. */
static rd_status read_stdout(rd_proc *proc, const rd_restore_job *job, rd_error *err)
{
    int fd = rd_proc_stdout_fd(proc);
    char buf[8192];
    while (fd >= 0) {
        if (rd_abort_requested() || (job->deadline > 0 && rd_mono_now() > job->deadline))
            return RD_OK; /* rd_proc_wait reports it */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, 200);
        if (r <= 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read the output of %s", job->tool);
        }
        rd_status st = rd_strbuf_append_n(job->capture, buf, (size_t)n, err);
        if (st != RD_OK)
            return st;
    }
    return RD_OK;
}

static rd_status classify(const rd_restore_job *job, double started, pump *p, rd_status wst,
                          rd_error *werr, rd_status rst, rd_error *rerr, rd_restore_outcome *out,
                          rd_error *err)
{
    char last[512]; /* the first error line: the cause, before the fallout */
    out->error_lines = rd_restore_scan_errors(out->log.data, last, sizeof(last));
    if (rd_abort_requested() || wst == RD_ERR_ABORTED)
        return RD_ERR(err, RD_ERR_ABORTED, "%s was interrupted by signal %d", job->tool,
                      rd_abort_requested());
    if (wst == RD_ERR_TIMEOUT)
        return RD_ERR(err, RD_ERR_TIMEOUT, "%s timed out after %.1fs", job->tool,
                      job->deadline - started);
    if (wst != RD_OK) {
        if (err)
            *err = *werr;
        return wst;
    }
    /* the artifact's own failure (corrupt, truncated, sha256) explains the rest */
    if (p && p->st != RD_OK && !p->epipe && p->st != RD_ERR_ABORTED) {
        if (err)
            *err = p->err;
        return p->st;
    }
    if (out->exit_code != 0)
        return RD_ERR(err, RD_ERR_PROC, "%s exited with status %d%s%s", job->tool, out->exit_code,
                      last[0] ? ": " : "", last);
    if (out->error_lines > 0)
        return RD_ERR(err, RD_ERR_PROC, "%s exited with 0 but printed %d error line%s: %s",
                      job->tool, out->error_lines, out->error_lines == 1 ? "" : "s", last);
    if (p && p->st != RD_OK) {
        if (err)
            *err = p->err;
        return p->st;
    }
    if (rst != RD_OK) {
        if (err)
            *err = *rerr;
        return rst;
    }
    if (p && job->trailer && !rd_restore_has_trailer(p->tail, p->tail_len, job->trailer))
        return RD_ERR(err, RD_ERR_INTEGRITY,
                      "plain SQL dump is truncated: the completion trailer is missing");
    return RD_OK;
}

/* --verbose: the command line, each word redacted (the password travels in
 * the environment, which is never logged), shell-quoted when needed. */
void rd_restore_log_command(const char *const *argv, const char *tool, const char *how)
{
    rd_strbuf sb;
    char red[1024];
    if (rd_log_get_level() > RD_LOG_DEBUG)
        return;
    rd_strbuf_init(&sb, 0);
    for (size_t i = 0; argv[i]; i++) {
        const char *w = rd_redact(argv[i], red, sizeof red);
        int quote = !*w || strpbrk(w, " \t'\"$\\;&|<>*?()`") != NULL;
        (void)rd_strbuf_append(&sb, i ? " " : "", NULL);
        if (!quote) {
            (void)rd_strbuf_append(&sb, w, NULL);
            continue;
        }
        (void)rd_strbuf_append_char(&sb, '\'', NULL);
        for (const char *c = w; *c; c++)
            (void)(*c == '\'' ? rd_strbuf_append(&sb, "'\\''", NULL)
                              : rd_strbuf_append_char(&sb, *c, NULL));
        (void)rd_strbuf_append_char(&sb, '\'', NULL);
    }
    rd_log_debug("restore command: %s%s", sb.data ? sb.data : tool, how ? how : "");
    rd_strbuf_free(&sb);
}

rd_status rd_restore_tool_found(const char *argv0, rd_error *err)
{
    if (strchr(argv0, '/'))
        return RD_OK;
    /* rd_restore_tool_path found it nowhere: an installation problem, not a
     * bad recovery point */
    return RD_ERR(err, RD_ERR_CONFIG,
                  "the restore tool %s was not found (searched PATH, /usr/lib/postgresql/*/bin, "
                  "/usr/sbin, /usr/local/bin): install %s",
                  argv0,
                  strncmp(argv0, "mariadb", 7) == 0 || strncmp(argv0, "mysql", 5) == 0
                      ? "the MariaDB client (apt-get install mariadb-client)"
                      : "the PostgreSQL client (apt-get install postgresql-client)");
}

rd_status rd_restore_exec(const rd_restore_job *job, rd_restore_outcome *out, rd_error *err)
{
    rd_status st = RD_OK, wst = RD_OK, rst = RD_OK;
    rd_error werr, rerr;
    rd_proc *proc = NULL;
    pump *p = NULL;
    pthread_t th;
    int pumping = 0;
    int pfd[2] = {-1, -1};
    rd_error_clear(&werr);
    rd_error_clear(&rerr);

    double t_start = rd_mono_now();
    rd_proc_spec spec;
    memset(&spec, 0, sizeof(spec));
    spec.argv = job->argv;
    spec.env = job->env;
    spec.no_cloud_secrets = 1;
    spec.stdout_mode = job->capture ? RD_PROC_IO_PIPE : RD_PROC_IO_NULL;
    spec.stdin_mode = RD_PROC_IO_NULL;
    spec.stderr_tail_max = RD_RESTORE_STDERR_TAIL;
    if (job->stream) {
        if (pipe2(pfd, O_CLOEXEC) != 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a pipe for %s", job->tool);
            goto out;
        }
        spec.stdin_mode = RD_PROC_IO_FD;
        spec.stdin_fd = pfd[0];
#ifdef F_SETPIPE_SZ
        (void)fcntl(pfd[1], F_SETPIPE_SZ, PIPE_SIZE);
#endif
    }
    rd_restore_log_command(job->argv, job->tool,
                           job->stream ? " < (the decoded recovery point)" : NULL);
    if ((st = rd_restore_tool_found(job->argv[0], err)) != RD_OK)
        goto out;
    st = rd_proc_start(&spec, &proc, err);
    if (pfd[0] >= 0) {
        close(pfd[0]);
        pfd[0] = -1;
    }
    if (st != RD_OK)
        goto out;
    if (job->stream) {
        p = calloc(1, sizeof(*p));
        if (!p) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        p->job = job;
        p->fd = pfd[1];
        pfd[1] = -1;
        rd_strbuf_init(&p->line, 0);
        rd_strbuf_init(&p->emit, 0);
        rd_strbuf_init(&p->chunk, 0);
        (void)fcntl(p->fd, F_SETFL, fcntl(p->fd, F_GETFL) | O_NONBLOCK);
        rd_artifact_set_deadline(job->stream, job->deadline);
        if (pthread_create(&th, NULL, pump_main, p) != 0) {
            close(p->fd);
            st = RD_ERR(err, RD_ERR_INTERNAL, "cannot start the stream thread");
            goto out;
        }
        pumping = 1;
    }
    if (job->capture)
        rst = read_stdout(proc, job, &rerr);
    wst = rd_proc_wait(proc, job->deadline, &out->exit_code, &werr);
    if (pumping)
        pump_join(p, th, job->deadline);
    pumping = 0;
    rd_strbuf_reset(&out->log);
    (void)rd_strbuf_append(&out->log, rd_proc_stderr_tail(proc), NULL);
    st = classify(job, t_start, p, wst, &werr, rst, &rerr, out, err);

out:
    if (pumping)
        pump_join(p, th, job->deadline);
    if (p) {
        rd_strbuf_free(&p->line);
        rd_strbuf_free(&p->emit);
        rd_strbuf_free(&p->chunk);
        free(p);
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i] >= 0)
            close(pfd[i]);
    rd_proc_free(proc);
    return st;
}
