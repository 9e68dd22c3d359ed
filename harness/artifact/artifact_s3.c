/* artifact_s3.c: an S3 object as the raw byte source of an artifact. A
 * thread runs the streamed GET (with its Range resume and retries) into the
 * artifact's ring (artifact_ring.c; the artifact's reader hashes the bytes as
 * it takes them, no system call per chunk), so hashing,
 * decryption and decoding are the same code as for local files and run
 * beside the transfer, and memory stays flat (the ring and libcurl's
 * buffer). */
#include "artifact_int.h"

#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct art_s3 {
    rd_s3 *s3;
    char *url, *bucket, *key;
    art_ring *ring;
    art_hash_fn hash;
    void *hash_ctx;
    pthread_t th;
    int started, joined;
    volatile int cancel;
    uint64_t size;
    const rd_artifact_range *ranges;
    size_t nranges;
};

static rd_status to_ring(void *ctx, const void *buf, size_t n, rd_error *err)
{
    art_s3 *a = ctx;
    if (a->hash)
        a->hash(a->hash_ctx, buf, n); /* the bytes that go into the ring, still in cache */
    return art_ring_write(a->ring, buf, n, err);
}

static void *get_main(void *arg)
{
    art_s3 *a = arg;
    rd_s3_get_opts o = {.cancel = &a->cancel};
    rd_error e;
    uint64_t got = 0;
    rd_status st = RD_OK;
    rd_error_clear(&e);
    for (size_t i = 0; st == RD_OK && i < a->nranges; i++) { /* one Range GET per piece */
        const rd_artifact_range *g = &a->ranges[i];
        o.offset = g->offset;
        o.length = g->length;
        rd_log_debug("s3 range GET %s bytes=%llu-%llu", a->url, (unsigned long long)g->offset,
                     (unsigned long long)(g->offset + g->length - 1));
        st = rd_s3_get(a->s3, a->bucket, a->key, &o, to_ring, a, &got, &e);
        if (st == RD_OK && got != g->length)
            st = RD_ERR(&e, RD_ERR_INTEGRITY, "%s: got %llu bytes of %s, expected %llu", a->url,
                        (unsigned long long)got, g->name ? g->name : "a section",
                        (unsigned long long)g->length);
    }
    if (a->nranges) {
        art_ring_finish(a->ring, st, &e);
        return NULL;
    }
    st = rd_s3_get(a->s3, a->bucket, a->key, &o, to_ring, a, &got, &e);
    if (st == RD_OK && got != a->size)
        st = RD_ERR(&e, RD_ERR_INTEGRITY, "%s: got %llu bytes, expected %llu", a->url,
                    (unsigned long long)got, (unsigned long long)a->size);
    art_ring_finish(a->ring, st, &e);
    return NULL;
}

rd_status art_s3_open(const char *url, const rd_s3_opts *opts, art_ring *ring, art_hash_fn hash,
                      void *hash_ctx, const rd_artifact_range *ranges, size_t n, art_s3 **out,
                      uint64_t *size, int *is_dir, rd_error *err)
{
    rd_status st = RD_OK;
    rd_s3_object obj;
    memset(&obj, 0, sizeof obj);
    art_s3 *a = calloc(1, sizeof *a);
    if (!a)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    a->ring = ring;
    a->ranges = ranges;
    a->nranges = n;
    a->hash = hash;
    a->hash_ctx = hash_ctx;
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
        if (tk && rd_s3_head(a->s3, a->bucket, tk, &toc, &e2) == RD_OK) {
            *is_dir = 1; /* a directory-format dump: art_s3_fetch_dir */
            *out = NULL;
            st = RD_OK;
            rd_s3_object_clear(&toc);
            free(tk);
            goto out;
        }
        rd_s3_object_clear(&toc);
        free(tk);
    }
    if (st != RD_OK)
        goto out;
    a->size = obj.size >= 0 ? (uint64_t)obj.size : 0;
    int rc = pthread_create(&a->th, NULL, get_main, a);
    if (rc != 0) {
        st = rd_error_set(err, RD_ERR_INTERNAL, rc, "cannot start the s3 reader thread");
        goto out;
    }
    a->started = 1;
    *size = a->size;
    *out = a;
    a = NULL;
out:
    rd_s3_object_clear(&obj);
    art_s3_free(a);
    return st;
}

static rd_status to_fd(void *ctx, const void *buf, size_t n, rd_error *err)
{
    const int *fd = ctx;
    const unsigned char *p = buf;
    while (n > 0) {
        ssize_t w = write(*fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write a downloaded dump file");
        p += w;
        n -= (size_t)w;
    }
    return RD_OK;
}

rd_status art_s3_fetch_dir(const char *url, const rd_s3_opts *opts, const char *base,
                           char **dir_out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_s3 *s3 = NULL;
    rd_s3_objects l = {NULL, 0};
    char *bucket = NULL, *key = NULL, *prefix = NULL, *dir = NULL, *path = NULL;
    int fd = -1;
    if ((st = rd_s3_url_split(url, &bucket, &key, err)) != RD_OK)
        goto out;
    size_t kl = strlen(key);
    prefix = rd_asprintf("%s%s", key, kl && key[kl - 1] == '/' ? "" : "/");
    if (!prefix) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* listed under KEY (not KEY/) and filtered here: the same objects, and a
     * prefix without '/' also suits stores that mishandle one (moto 5.2.1) */
    if ((st = rd_s3_new(opts, &s3, err)) != RD_OK ||
        (st = rd_s3_list(s3, bucket, kl && key[kl - 1] == '/' ? prefix : key, &l, err)) != RD_OK)
        goto out;
    if ((st = rd_fs_mkdtemp(base, "rd-s3dump-", 0, 0, 0, &dir, err)) != RD_OK)
        goto out;
    rd_log_info("downloading the directory-format dump %s into %s (pg_restore reads its files)",
                url, dir);
    for (size_t i = 0; i < l.n; i++) {
        if (strncmp(l.items[i].key, prefix, strlen(prefix)) != 0)
            continue; /* a sibling such as KEY2/... */
        const char *name = l.items[i].key + strlen(prefix);
        if (!*name || strchr(name, '/') || name[0] == '.')
            continue; /* a pg_dump directory is flat */
        free(path);
        if (!(path = rd_asprintf("%s/%s", dir, name))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", path);
            goto out;
        }
        if ((st = rd_s3_get(s3, bucket, l.items[i].key, NULL, to_fd, &fd, NULL, err)) != RD_OK)
            goto out;
        if (close(fd) != 0) {
            fd = -1;
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot close %s", path);
            goto out;
        }
        fd = -1;
    }
    *dir_out = dir;
    dir = NULL;
out:
    if (fd >= 0)
        close(fd);
    if (dir)
        rd_fs_rmtree(dir, base, NULL);
    free(dir);
    free(path);
    free(bucket);
    free(key);
    free(prefix);
    rd_s3_objects_free(&l);
    rd_s3_free(s3);
    return st;
}

static void join(art_s3 *a)
{
    if (a->started && !a->joined) {
        pthread_join(a->th, NULL);
        a->joined = 1;
    }
}

void art_s3_stop(art_s3 *a)
{
    if (!a)
        return;
    a->cancel = 1;           /* the transfer stops at its next progress call */
    art_ring_close(a->ring); /* waiters on either side give up */
}

void art_s3_free(art_s3 *a)
{
    if (!a)
        return;
    art_s3_stop(a);
    join(a);
    rd_s3_free(a->s3);
    free(a->url);
    free(a->bucket);
    free(a->key);
    free(a);
}
