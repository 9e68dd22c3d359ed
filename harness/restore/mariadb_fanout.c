/* mariadb_fanout.c: a mariadb-dump stream restored over several mariadb
 * clients (the layout: mariadb_split.c). One thread reads the artifact and
 * queues each table section for the connection with the least queued;
 * non-blocking pipes are written as the clients take them. At most `buffer`
 * bytes are queued: past that the reader waits for the clients, so a section
 * larger than the buffer streams to its one connection as it is read. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "restore_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define CHUNK (256 * 1024)
#define MAX_CONN 64
#define MDB_TRAILER "-- Dump completed"
/* most bytes one connection's queue holds: the read-ahead, the chunk read
 * past it, and the preamble */
#define QUEUE_MAX(f) ((f)->buffer + 2 * CHUNK + RD_SPLIT_PREAMBLE_MAX)

typedef struct conn {
    rd_proc *proc;
    int fd;      /* its stdin, -1 once closed */
    rd_strbuf q; /* queued bytes; q.data[off..len) still to write */
    size_t off;
    int done; /* waited for */
    int exit_code;
    rd_status wst; /* rd_proc_wait's status */
    rd_error werr;
    unsigned sections;
} conn;

typedef struct fanout {
    const char *const *argv, *const *env;
    double deadline, started;
    int max;
    size_t buffer, queued;
    conn *c;       /* every connection run, in order */
    int used, cap; /* of c */
    int from, n;   /* the parallel connections open now: c[from..from+n) */
    int ordered;   /* the open ordered connection's index, -1 none */
    int cur;       /* where bytes go; -1 none yet */
    int epipe;     /* a client closed its input early */
    int quit;      /* that client's index: its error is the cause (the others' inputs were
                      cut short after it, mid-statement), -1 none */
    rd_split sp;
    rd_error err;
    int parallel_sets, ordered_sets;
} fanout;

static int stop_now(const fanout *f)
{
    return rd_abort_requested() || (f->deadline > 0 && rd_mono_now() > f->deadline);
}

/* Why the restore stops early: an abort, else the deadline. */
static rd_status stopped(const fanout *f, rd_error *err)
{
    if (rd_abort_requested())
        return RD_ERR(err, RD_ERR_ABORTED, "stopped feeding mariadb");
    return RD_ERR(err, RD_ERR_TIMEOUT, "mariadb timed out after %.1fs", f->deadline - f->started);
}

/* Start a client in a new slot; its index in *idx. */
static rd_status conn_start(fanout *f, int *idx, rd_error *err)
{
    if (f->used == f->cap) {
        int cap = f->cap ? 2 * f->cap : 8;
        conn *nc = realloc(f->c, (size_t)cap * sizeof *nc);
        if (!nc)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        f->c = nc;
        f->cap = cap;
    }
    conn *c = &f->c[f->used];
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = f->argv;
    spec.env = f->env;
    spec.no_cloud_secrets = 1;
    spec.stdin_mode = RD_PROC_IO_PIPE;
    spec.stdout_mode = RD_PROC_IO_NULL;
    spec.stderr_tail_max = RD_RESTORE_STDERR_TAIL;
    memset(c, 0, sizeof *c);
    c->fd = -1;
    rd_strbuf_init(&c->q, QUEUE_MAX(f));
    rd_status st = rd_proc_start(&spec, &c->proc, err);
    if (st != RD_OK)
        return st;
    *idx = f->used++;
    c->fd = rd_proc_stdin_fd(c->proc);
    (void)fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
#ifdef F_SETPIPE_SZ
    (void)fcntl(c->fd, F_SETPIPE_SZ, 1024 * 1024);
#endif
    /* the dump's session settings first, as the client would read them */
    if (f->sp.preamble.len) {
        st = rd_strbuf_append_n(&c->q, f->sp.preamble.data, f->sp.preamble.len, err);
        f->queued += f->sp.preamble.len;
    }
    return st;
}

/* Write what the connections will take; wait up to ms for one to take some. */
static rd_status pump(fanout *f, int ms, rd_error *err)
{
    struct pollfd pfd[MAX_CONN + 1];
    conn *who[MAX_CONN + 1];
    int k = 0;
    for (int i = 0; i < f->used && k <= MAX_CONN; i++) {
        conn *c = &f->c[i];
        if (c->proc && c->fd >= 0 && c->q.len > c->off) {
            pfd[k] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
            who[k++] = c;
        }
    }
    if (k == 0)
        return RD_OK;
    if (poll(pfd, (nfds_t)k, ms) < 0 && errno != EINTR)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot wait for the mariadb clients");
    for (int j = 0; j < k; j++) {
        conn *c = who[j];
        if (!(pfd[j].revents & (POLLOUT | POLLERR | POLLHUP)))
            continue;
        ssize_t w = write(c->fd, c->q.data + c->off, c->q.len - c->off);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            continue;
        if (w < 0 && errno == EPIPE) {
            f->epipe = 1;
            f->quit = (int)(c - f->c);
            return RD_ERR(err, RD_ERR_IO, "mariadb closed its input before the end of the dump");
        }
        if (w < 0)
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write to mariadb");
        c->off += (size_t)w;
        f->queued -= (size_t)w;
        if (c->off == c->q.len) {
            if (c->q.cap > 4 * CHUNK)
                rd_strbuf_free(&c->q); /* give the memory back between sections */
            rd_strbuf_init(&c->q, QUEUE_MAX(f));
            c->off = 0;
        }
    }
    return RD_OK;
}

/* Write until at most `limit` bytes are queued. */
static rd_status drain(fanout *f, size_t limit, rd_error *err)
{
    rd_status st = RD_OK;
    while (st == RD_OK && f->queued > limit) {
        if (stop_now(f))
            return stopped(f, err);
        st = pump(f, 200, err);
    }
    return st;
}

static void conn_close(conn *c)
{
    if (c->proc && c->fd >= 0) {
        rd_proc_close_stdin(c->proc);
        c->fd = -1;
    }
}

/* Close the connections' inputs and wait for them: every section is loaded. */
static void wait_all(fanout *f, int from, int to)
{
    for (int i = from; i < to; i++)
        conn_close(&f->c[i]);
    for (int i = from; i < to; i++) {
        conn *c = &f->c[i];
        if (!c->proc || c->done)
            continue;
        c->wst = rd_proc_wait(c->proc, f->deadline, &c->exit_code, &c->werr);
        c->done = 1;
    }
}

static int conn_failed(const conn *c)
{
    return c->proc && c->done &&
           (c->wst != RD_OK || c->exit_code != 0 ||
            rd_restore_scan_errors(rd_proc_stderr_tail(c->proc), NULL, 0));
}

/* Every open connection ends: what they were given has loaded. */
static rd_status barrier(fanout *f, rd_error *err)
{
    rd_status st = drain(f, 0, err);
    if (st != RD_OK)
        return st;
    wait_all(f, 0, f->used);
    f->from = f->used;
    f->n = 0;
    f->ordered = -1;
    for (int i = 0; i < f->used; i++)
        if (conn_failed(&f->c[i]))
            return RD_ERR(err, RD_ERR_PROC, "a part of the dump failed"); /* verdict says how */
    return RD_OK;
}

static rd_status on_section(void *ud, rd_error *err)
{
    fanout *f = ud;
    rd_status st = RD_OK;
    int best = -1;
    if (f->ordered >= 0 && (st = barrier(f, err)) != RD_OK)
        return st;
    if (f->n == 0)
        f->parallel_sets++;
    for (int i = f->from; i < f->from + f->n; i++)
        if (best < 0 || f->c[i].q.len - f->c[i].off < f->c[best].q.len - f->c[best].off)
            best = i;
    if (f->n < f->max) { /* a connection per section up to the most */
        if ((st = conn_start(f, &best, err)) != RD_OK)
            return st;
        f->n++;
    }
    f->cur = best;
    f->c[best].sections++;
    return RD_OK;
}

static rd_status on_ordered(void *ud, rd_error *err)
{
    fanout *f = ud;
    rd_status st = RD_OK;
    if (f->ordered >= 0) { /* already in order: stays there */
        f->cur = f->ordered;
        return RD_OK;
    }
    if (f->n > 0 && (st = barrier(f, err)) != RD_OK)
        return st;
    if ((st = conn_start(f, &f->ordered, err)) != RD_OK)
        return st;
    f->ordered_sets++;
    f->cur = f->ordered;
    return RD_OK;
}

static rd_status on_bytes(void *ud, const char *buf, size_t n, rd_error *err)
{
    fanout *f = ud;
    if (f->cur < 0) /* bytes before any section: only when the layout is unknown */
        return RD_ERR(err, RD_ERR_INTERNAL, "split restore: bytes before any section");
    conn *c = &f->c[f->cur];
    if (c->off && (c->off >= c->q.len / 2 || c->q.len + n > c->q.max)) {
        /* written bytes leave the queue: it holds at most what is pending */
        memmove(c->q.data, c->q.data + c->off, c->q.len - c->off);
        c->q.len -= c->off;
        c->off = 0;
    }
    rd_status st = rd_strbuf_append_n(&c->q, buf, n, err);
    f->queued += n;
    if (st == RD_OK)
        st = drain(f, f->buffer, err);
    return st;
}

/* The outcome: the first failing connection's cause, as rd_restore_exec
 * words it; every connection's stderr in the log. */
static rd_status verdict(fanout *f, rd_status rst, const rd_error *rerr, int read_all,
                         const char *tail, size_t tail_len, rd_restore_outcome *out, rd_error *err)
{
    const conn *bad = NULL;
    char first[512];
    rd_strbuf_reset(&out->log);
    if (f->quit >= 0 && conn_failed(&f->c[f->quit]))
        bad = &f->c[f->quit]; /* not another one's truncated statement */
    for (int i = 0; i < f->used; i++) {
        const conn *c = &f->c[i];
        if (!c->proc)
            continue;
        const char *t = rd_proc_stderr_tail(c->proc);
        if (*t)
            (void)rd_strbuf_append(&out->log, t, NULL);
        if (!bad && conn_failed(c))
            bad = c;
    }
    if (rd_abort_requested() || rst == RD_ERR_ABORTED)
        return RD_ERR(err, RD_ERR_ABORTED, "mariadb was interrupted by signal %d",
                      rd_abort_requested());
    for (int i = 0; i < f->used; i++)
        if (rst == RD_ERR_TIMEOUT || (f->c[i].proc && f->c[i].wst == RD_ERR_TIMEOUT))
            return RD_ERR(err, RD_ERR_TIMEOUT, "mariadb timed out after %.1fs",
                          f->deadline - f->started);
    if (rst != RD_OK && rst != RD_ERR_PROC && !f->epipe) {
        if (err)
            *err = *rerr; /* the artifact's own failure explains the rest */
        return rst;
    }
    if (bad) {
        const char *t = rd_proc_stderr_tail(bad->proc);
        out->error_lines = rd_restore_scan_errors(t, first, sizeof first);
        out->exit_code = bad->exit_code;
        if (bad->wst != RD_OK) {
            if (err)
                *err = bad->werr;
            return bad->wst;
        }
        if (bad->exit_code != 0)
            return RD_ERR(err, RD_ERR_PROC, "mariadb exited with status %d%s%s", bad->exit_code,
                          first[0] ? ": " : "", first);
        return RD_ERR(err, RD_ERR_PROC, "mariadb exited with 0 but printed %d error line%s: %s",
                      out->error_lines, out->error_lines == 1 ? "" : "s", first);
    }
    if (rst != RD_OK) {
        if (err)
            *err = *rerr;
        return rst;
    }
    if (!read_all || !rd_restore_has_trailer(tail, tail_len, MDB_TRAILER))
        return RD_ERR(err, RD_ERR_INTEGRITY,
                      "plain SQL dump is truncated: the completion trailer is missing");
    return RD_OK;
}

static void keep_tail(char *tail, size_t *len, const char *buf, size_t n)
{
    const size_t w = RD_RESTORE_TRAILER_WINDOW;
    if (n >= w) {
        memcpy(tail, buf + n - w, w);
        *len = w;
        return;
    }
    if (*len + n > w) {
        size_t drop = *len + n - w;
        memmove(tail, tail + drop, *len - drop);
        *len -= drop;
    }
    memcpy(tail + *len, buf, n);
    *len += n;
}

static char *describe(const fanout *f)
{
    if (f->sp.unknown)
        return rd_strdup("one connection (the dump's layout is not mariadb-dump's of one "
                         "database)");
    int par = f->used - f->ordered_sets;
    char defer[160] = "";
    if (f->sp.defer)
        snprintf(defer, sizeof defer,
                 "; secondary indexes of %u table%s added after the rows (%u left as %s)",
                 f->sp.deferred, f->sp.deferred == 1 ? "" : "s", f->sp.as_is,
                 f->sp.as_is == 1 ? "it is" : "they are");
    return rd_asprintf("%u table section%s over %d connection%s (at most %d at once), %d "
                       "ordered part%s (sequences, views, routines) alone, LOCK TABLES left out%s",
                       f->sp.sections, f->sp.sections == 1 ? "" : "s", par, par == 1 ? "" : "s",
                       f->max, f->ordered_sets, f->ordered_sets == 1 ? "" : "s", defer);
}

rd_status rd_mdb_fanout(const char *const *argv, const char *const *env, rd_artifact *a,
                        int connections, size_t buffer, int defer_indexes, double deadline,
                        rd_restore_outcome *out, char **note, rd_error *err)
{
    fanout *f = calloc(1, sizeof *f);
    char *buf = malloc(CHUNK);
    char tail[RD_RESTORE_TRAILER_WINDOW];
    size_t tail_len = 0;
    int read_all = 0;
    rd_status st = RD_OK;
    rd_error rerr;
    sigset_t pipe_set, old;

    rd_error_clear(&rerr);
    if ((st = rd_restore_tool_found(argv[0], err)) != RD_OK) {
        free(f);
        free(buf);
        return st;
    }
    rd_restore_log_command(argv, "mariadb",
                           " < (the decoded recovery point, split by table over connections)");
    if (!f || !buf) {
        free(f);
        free(buf);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    f->argv = argv;
    f->env = env;
    f->deadline = deadline;
    f->started = rd_mono_now();
    f->max = connections < 1 ? 1 : connections > MAX_CONN ? MAX_CONN : connections;
    f->buffer = buffer < CHUNK ? CHUNK : buffer;
    f->cur = -1;
    f->ordered = -1;
    f->quit = -1;
    rd_split_sink sink = {.ud = f, .section = on_section, .ordered = on_ordered, .bytes = on_bytes};
    rd_split_init(&f->sp, &sink);
    f->sp.defer = defer_indexes;
    /* a client that quits gives EPIPE here, not SIGPIPE */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    rd_artifact_set_deadline(a, deadline);
    while (st == RD_OK) {
        size_t n = 0;
        if (stop_now(f)) {
            st = stopped(f, &rerr);
            break;
        }
        st = rd_artifact_read(a, buf, CHUNK, &n, &rerr);
        if (st != RD_OK)
            break;
        keep_tail(tail, &tail_len, buf, n);
        st = rd_split_feed(&f->sp, buf, n, n == 0, &rerr);
        if (st == RD_OK && n == 0) {
            read_all = 1;
            break;
        }
        if (st == RD_OK)
            st = pump(f, 0, &rerr);
    }
    if (st == RD_OK)
        st = drain(f, 0, &rerr);
    if (st == RD_ERR_ABORTED || st == RD_ERR_TIMEOUT || stop_now(f)) {
        for (int i = 0; i < f->used; i++)
            if (f->c[i].proc && !f->c[i].done) {
                rd_proc_stop(f->c[i].proc);
                f->c[i].done = 1;
                f->c[i].wst = rd_abort_requested() ? RD_ERR_ABORTED : RD_ERR_TIMEOUT;
            }
    }
    /* as with one client: the inputs close, each client ends what it read */
    wait_all(f, 0, f->used);
    {
        struct timespec zero = {0, 0};
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        if (sigismember(&pending, SIGPIPE))
            while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    st = verdict(f, st, &rerr, read_all, tail, tail_len, out, err);
    if (note)
        *note = describe(f);
    for (int i = 0; i < f->used; i++) {
        rd_proc_free(f->c[i].proc);
        rd_strbuf_free(&f->c[i].q);
    }
    rd_split_free(&f->sp);
    free(f->c);
    free(f);
    free(buf);
    return st;
}
