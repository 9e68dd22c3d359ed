/* artifact_s3.c: an S3 object as the raw byte source of an artifact. A
 * thread runs the streamed GET (with its Range resume and retries) into a
 * pipe; the artifact reads the other end like a file, so hashing,
 * decryption and decoding are the same code as for local files, and memory
 * stays flat (the pipe and libcurl's buffer). */
#include "artifact_int.h"

#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PIPE_SIZE (1024 * 1024)

struct art_s3 {
    rd_s3 *s3;
    char *url, *bucket, *key;
    int rfd, wfd;
    pthread_t th;
    int started, joined;
    volatile int cancel;
    rd_status st;
    rd_error err;
    uint64_t bytes, size;
};

static rd_status to_pipe(void *ctx, const void *buf, size_t n, rd_error *err)
{
    art_s3 *a = ctx;
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(a->wfd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE)
                return RD_ERR(err, RD_ERR_ABORTED, "reading %s was stopped", a->url);
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write the stream of %s", a->url);
        }
        p += w;
        n -= (size_t)w;
    }
    return RD_OK;
}

static void *get_main(void *arg)
{
    art_s3 *a = arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* a closed reader gives EPIPE */
    rd_s3_get_opts o = {.cancel = &a->cancel};
    rd_error_clear(&a->err);
    a->st = rd_s3_get(a->s3, a->bucket, a->key, &o, to_pipe, a, &a->bytes, &a->err);
    if (a->st == RD_OK && a->bytes != a->size)
        a->st = RD_ERR(&a->err, RD_ERR_INTEGRITY, "%s: got %llu bytes, expected %llu", a->url,
                       (unsigned long long)a->bytes, (unsigned long long)a->size);
    close(a->wfd);
    a->wfd = -1;
    return NULL;
}

rd_status art_s3_open(const char *url, const rd_s3_opts *opts, art_s3 **out, int *fd,
                      uint64_t *size, rd_error *err)
{
    rd_status st = RD_OK;
    rd_s3_object obj;
    int p[2] = {-1, -1};
    memset(&obj, 0, sizeof obj);
    art_s3 *a = calloc(1, sizeof *a);
    if (!a)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    a->rfd = a->wfd = -1;
    if (!(a->url = rd_strdup(url))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_s3_url_split(url, &a->bucket, &a->key, err)) != RD_OK)
        goto out;
    if ((st = rd_s3_new(opts, &a->s3, err)) != RD_OK)
        goto out;
    st = rd_s3_head(a->s3, a->bucket, a->key, &obj, err);
    if (st == RD_ERR_NOTFOUND) {
        rd_s3_object toc;
        rd_error e2;
        char *tk = rd_asprintf("%s%stoc.dat", a->key,
                               *a->key && a->key[strlen(a->key) - 1] == '/' ? "" : "/");
        memset(&toc, 0, sizeof toc);
        if (tk && rd_s3_head(a->s3, a->bucket, tk, &toc, &e2) == RD_OK)
            st = RD_ERR(err, RD_ERR_UNSUPPORTED,
                        "%s is a pg_dump directory-format dump: restoring those from S3 is not "
                        "implemented yet (pg_restore reads their files itself)",
                        url);
        rd_s3_object_clear(&toc);
        free(tk);
    }
    if (st != RD_OK)
        goto out;
    a->size = obj.size >= 0 ? (uint64_t)obj.size : 0;
    if (pipe2(p, O_CLOEXEC) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a pipe");
        goto out;
    }
    (void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SIZE); /* fewer wake-ups; the default works too */
    a->rfd = p[0];
    a->wfd = p[1];
    int rc = pthread_create(&a->th, NULL, get_main, a);
    if (rc != 0) {
        st = rd_error_set(err, RD_ERR_INTERNAL, rc, "cannot start the s3 reader thread");
        goto out;
    }
    a->started = 1;
    *fd = a->rfd;
    *size = a->size;
    *out = a;
    a = NULL;
out:
    rd_s3_object_clear(&obj);
    art_s3_free(a);
    return st;
}

static void join(art_s3 *a)
{
    if (a->started && !a->joined) {
        pthread_join(a->th, NULL);
        a->joined = 1;
    }
}

rd_status art_s3_finish(art_s3 *a, rd_error *err)
{
    join(a);
    if (a->st != RD_OK && err)
        *err = a->err;
    return a->st;
}

void art_s3_free(art_s3 *a)
{
    if (!a)
        return;
    a->cancel = 1;
    if (a->rfd >= 0)
        close(a->rfd); /* a writer blocked on the pipe gets EPIPE */
    a->rfd = -1;
    join(a);
    if (a->wfd >= 0)
        close(a->wfd);
    rd_s3_free(a->s3);
    free(a->url);
    free(a->bucket);
    free(a->key);
    free(a);
}
