/* artifact_decrypt.c: the decrypt filter of an artifact: a writer thread
 * feeds the stored file into the filter's stdin (hashing it on the way)
 * while the caller reads the filter's stdout, so neither side can block the
 * other. */
#include "artifact_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Write all of buf, retrying on EINTR and partial writes, with SIGPIPE
 * blocked in this thread so a closed reader gives EPIPE, not death. */
int art_write_all(int fd, const void *buf, size_t len, int *epipe)
{
    const unsigned char *p = buf;
    sigset_t pipe_set, old, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    sigemptyset(&pending);
    sigpending(&pending);
    int was_pending = sigismember(&pending, SIGPIPE);
    int rc = 0;
    *epipe = 0;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE) {
                *epipe = 1;
                if (!was_pending) {
                    struct timespec zero = {0, 0};
                    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                        ;
                }
                errno = EPIPE;
            }
            rc = -1;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = saved;
    return rc;
}

static void *writer_main(void *arg)
{
    rd_artifact *a = arg;
    unsigned char *buf = malloc(RAW_CAP);
    if (!buf) {
        a->writer_st = RD_ERR(&a->writer_err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    while (!atomic_load(&a->writer_abort)) {
        size_t r = 0;
        a->writer_st = art_ring_read(a->ring, buf, RAW_CAP, &r, &a->writer_err);
        if (a->writer_st != RD_OK)
            break;
        if (r == 0) {
            a->src_eof = 1;
            break;
        }
        if (a->s3)
            art_hash_raw(a, buf, r);
        atomic_fetch_add(&a->raw_bytes, (uint64_t)r);
        int epipe = 0;
        if (art_write_all(a->writer_fd, buf, (size_t)r, &epipe) != 0) {
            if (!epipe)
                a->writer_st =
                    RD_ERR_ERRNO(&a->writer_err, RD_ERR_IO, "cannot write to the decrypt command");
            a->writer_broken = 1;
            break;
        }
    }
out:
    free(buf);
    close(a->writer_fd);
    a->writer_fd = -1;
    return NULL;
}

rd_status art_start_decrypt(rd_artifact *a, const char *const *argv, rd_error *err)
{
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.stdin_mode = RD_PROC_IO_PIPE;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    rd_status st = rd_proc_start(&spec, &a->proc, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "decrypt command: ");
    /* The writer owns a private copy of the pipe, so closing it is its alone. */
    a->writer_fd = fcntl(rd_proc_stdin_fd(a->proc), F_DUPFD_CLOEXEC, 0);
    if (a->writer_fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot duplicate the decrypt command's stdin");
    rd_proc_close_stdin(a->proc);
    int rc = pthread_create(&a->writer, NULL, writer_main, a);
    if (rc != 0) {
        close(a->writer_fd);
        a->writer_fd = -1;
        return rd_error_set(err, RD_ERR_INTERNAL, rc, "cannot start the decrypt writer thread");
    }
    a->writer_started = 1;
    return RD_OK;
}

/* Wait until the filter's output is readable, in slices of 0.2 s that
 * watch the deadline, rd_artifact_cancel and the abort flag; on any of them
 * the filter is stopped (so the writer thread sees EPIPE and ends). */
rd_status art_wait_filter(rd_artifact *a, int fd, rd_error *err)
{
    for (;;) {
        const char *why = NULL;
        rd_status code = RD_ERR_ABORTED;
        if (atomic_load(&a->cancel))
            why = "was cancelled";
        else if (rd_abort_requested())
            why = "was interrupted";
        else if (a->deadline > 0 && rd_mono_now() >= a->deadline) {
            why = "timed out: the decrypt command produced no output before the deadline";
            code = RD_ERR_TIMEOUT;
        }
        if (why) {
            atomic_store(&a->writer_abort, 1);
            rd_proc_stop(a->proc);
            return RD_ERR(err, code, "reading %s %s", a->path, why);
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, 200);
        if (r > 0 || (r < 0 && errno != EINTR))
            return RD_OK; /* readable, at the end, or an error the read reports */
    }
}
