/* artifact_ring.c: the raw bytes of an artifact on their way from the
 * store to the reader: a bounded ring written by one producer (the S3 GET
 * thread, or the file reader thread here), hashed in place by a thread of
 * its own and copied out by the reader. The hasher and the reader work on
 * the same bytes at the same time; a byte's room is reused only when both
 * have passed it, so what is hashed is exactly what is read, the sha256
 * overlaps the transfer and the decoding, and memory stays flat. */
#include "artifact_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HASH_SLICE ((size_t)256 * 1024) /* hashed, then its room given back */
#define FILE_READ ((size_t)1024 * 1024) /* one read() of the file reader */
/* A sleeping party is woken only once this much is there for it (or at
 * the end): fewer wake-ups and context switches per byte. */
#define WAKE_HASH HASH_SLICE
#define WAKE_READ ((uint64_t)64 * 1024)
#define WAKE_ROOM(r) ((r)->cap / 4)

struct art_ring {
    pthread_mutex_t mu;
    pthread_cond_t cv_prod, cv_hash, cv_read; /* room; bytes to hash; bytes to read */
    int w_prod, w_hash, w_read;               /* that party sleeps */
    unsigned char *buf;
    size_t cap;
    uint64_t wr, hs, rd; /* bytes written, hashed, read since the start */
    size_t viewed;       /* bytes after rd lent by art_ring_view */
    int finished;        /* the producer ended (st says how) */
    int closed;          /* art_ring_close: everyone gives up */
    rd_status st;
    rd_error err;
    art_hash_fn hash; /* NULL: no hashing (hs follows wr) */
    void *hash_ctx;
    pthread_t hasher, reader;
    int hasher_started, reader_started;
    int fd;                          /* the file reader's */
    const rd_artifact_range *ranges; /* the file reader reads only these */
    size_t nranges;
    int failed; /* art_ring_fail: readers get st/err */
    char *name; /* the location, for messages */
};

static uint64_t min_u64(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/* Bytes whose room is still needed: not yet read, or not yet hashed. */
static uint64_t held(const art_ring *r)
{
    return r->wr - (r->hash ? min_u64(r->hs, r->rd) : r->rd);
}

/* After any change (locked): wake the sleepers that now have enough. */
static void wake(art_ring *r)
{
    int end = r->finished || r->closed;
    if (r->w_prod && (r->cap - held(r) >= WAKE_ROOM(r) || r->closed)) {
        r->w_prod = 0;
        pthread_cond_signal(&r->cv_prod);
    }
    if (r->w_hash && (r->wr - r->hs >= WAKE_HASH || end)) {
        r->w_hash = 0;
        pthread_cond_signal(&r->cv_hash);
    }
    if (r->w_read && (r->wr - r->rd >= WAKE_READ || end)) {
        r->w_read = 0;
        pthread_cond_signal(&r->cv_read);
    }
}

static void sleep_on(art_ring *r, pthread_cond_t *cv, int *flag)
{
    *flag = 1;
    pthread_cond_wait(cv, &r->mu);
    *flag = 0;
}

static void *hash_main(void *arg)
{
    art_ring *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (r->hs == r->wr && !r->finished && !r->closed)
            sleep_on(r, &r->cv_hash, &r->w_hash);
        if (r->closed || r->hs == r->wr)
            break; /* closed, or the producer ended and all is hashed */
        size_t at = (size_t)(r->hs % r->cap);
        size_t k = (size_t)(r->wr - r->hs);
        if (k > r->cap - at)
            k = r->cap - at;
        if (k > HASH_SLICE)
            k = HASH_SLICE;
        pthread_mutex_unlock(&r->mu);
        r->hash(r->hash_ctx, r->buf + at, k); /* the room stays ours until hs moves */
        pthread_mutex_lock(&r->mu);
        r->hs += k;
        wake(r);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

rd_status art_ring_new(size_t cap, art_hash_fn hash, void *hash_ctx, const char *name,
                       art_ring **out, rd_error *err)
{
    art_ring *r = calloc(1, sizeof *r);
    if (!r || !(r->buf = malloc(cap)) || !(r->name = strdup(name))) {
        if (r)
            free(r->buf);
        free(r);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv_prod, NULL);
    pthread_cond_init(&r->cv_hash, NULL);
    pthread_cond_init(&r->cv_read, NULL);
    r->cap = cap;
    r->hash = hash;
    r->hash_ctx = hash_ctx;
    r->fd = -1;
    if (hash) {
        int rc = pthread_create(&r->hasher, NULL, hash_main, r);
        if (rc != 0) {
            art_ring_free(r);
            return rd_error_set(err, RD_ERR_INTERNAL, rc, "cannot start the sha256 thread");
        }
        r->hasher_started = 1;
    }
    *out = r;
    return RD_OK;
}

/* Wait for free room; *at and *k: the contiguous part of it. Locked. */
static rd_status wait_room(art_ring *r, size_t *at, size_t *k, rd_error *err)
{
    while (held(r) == r->cap && !r->closed)
        sleep_on(r, &r->cv_prod, &r->w_prod);
    if (r->closed)
        return RD_ERR(err, RD_ERR_ABORTED, "reading %s was stopped", r->name);
    *at = (size_t)(r->wr % r->cap);
    *k = r->cap - (size_t)held(r);
    if (*k > r->cap - *at)
        *k = r->cap - *at;
    return RD_OK;
}

rd_status art_ring_write(art_ring *r, const void *buf, size_t n, rd_error *err)
{
    const unsigned char *p = buf;
    rd_status st = RD_OK;
    pthread_mutex_lock(&r->mu);
    while (n > 0) {
        size_t at = 0, k = 0;
        if ((st = wait_room(r, &at, &k, err)) != RD_OK)
            break;
        if (k > n)
            k = n;
        /* the room between wr and the oldest unreleased byte is the
         * producer's alone: copy outside the lock */
        pthread_mutex_unlock(&r->mu);
        memcpy(r->buf + at, p, k);
        pthread_mutex_lock(&r->mu);
        r->wr += k;
        p += k;
        n -= k;
        wake(r);
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

void art_ring_finish(art_ring *r, rd_status st, const rd_error *err)
{
    pthread_mutex_lock(&r->mu);
    r->finished = 1;
    r->st = st;
    if (st != RD_OK && err)
        r->err = *err;
    wake(r);
    pthread_mutex_unlock(&r->mu);
}

/* Wait for bytes to read (locked); RD_OK with *k = 0 at the clean end. */
static rd_status wait_bytes(art_ring *r, size_t cap, size_t *at, size_t *k, rd_error *err)
{
    if (r->viewed) { /* the last view is given back */
        r->rd += r->viewed;
        r->viewed = 0;
        wake(r);
    }
    *k = 0;
    while (r->rd == r->wr && !r->finished && !r->closed)
        sleep_on(r, &r->cv_read, &r->w_read);
    if (r->rd == r->wr && !r->closed) /* the end: wait for the hash to catch up */
        while (r->hash && r->hs != r->wr && !r->closed)
            sleep_on(r, &r->cv_read, &r->w_read);
    if (r->closed && r->failed) {
        if (err)
            *err = r->err;
        return r->st;
    }
    if (r->closed)
        return RD_ERR(err, RD_ERR_ABORTED, "reading %s was cancelled", r->name);
    if (r->rd == r->wr) { /* the clean end, or the producer's failure */
        if (r->st != RD_OK && err)
            *err = r->err;
        return r->st;
    }
    *at = (size_t)(r->rd % r->cap);
    *k = (size_t)(r->wr - r->rd);
    if (*k > r->cap - *at)
        *k = r->cap - *at;
    if (*k > cap)
        *k = cap;
    return RD_OK;
}

rd_status art_ring_view(art_ring *r, const void **p, size_t cap, size_t *n, rd_error *err)
{
    size_t at = 0, k = 0;
    *n = 0;
    *p = NULL;
    pthread_mutex_lock(&r->mu);
    rd_status st = wait_bytes(r, cap, &at, &k, err);
    if (st == RD_OK && k) {
        r->viewed = k; /* rd moves at the next call: the room stays lent */
        *p = r->buf + at;
        *n = k;
    }
    pthread_mutex_unlock(&r->mu);
    return st;
}

rd_status art_ring_read(art_ring *r, void *buf, size_t cap, size_t *n, rd_error *err)
{
    size_t at = 0, k = 0;
    *n = 0;
    pthread_mutex_lock(&r->mu);
    rd_status st = wait_bytes(r, cap, &at, &k, err);
    if (st != RD_OK || k == 0) {
        pthread_mutex_unlock(&r->mu);
        return st;
    }
    pthread_mutex_unlock(&r->mu);
    memcpy(buf, r->buf + at, k); /* written bytes stay put until rd moves */
    pthread_mutex_lock(&r->mu);
    r->rd += k;
    wake(r);
    pthread_mutex_unlock(&r->mu);
    *n = k;
    return RD_OK;
}

void art_ring_fail(art_ring *r, rd_status st, const rd_error *err)
{
    pthread_mutex_lock(&r->mu);
    if (!r->closed) {
        r->failed = 1;
        r->st = st;
        if (err)
            r->err = *err;
        r->closed = 1;
        pthread_cond_broadcast(&r->cv_prod);
        pthread_cond_broadcast(&r->cv_hash);
        pthread_cond_broadcast(&r->cv_read);
    }
    pthread_mutex_unlock(&r->mu);
}

static void *file_main(void *arg)
{
    art_ring *r = arg;
    rd_status st = RD_OK;
    rd_error e;
    size_t ri = 0;     /* the range being read */
    uint64_t left = 0; /* its bytes still to read */
    rd_error_clear(&e);
    if (r->nranges) {
        left = r->ranges[0].length;
        if (lseek(r->fd, (off_t)r->ranges[0].offset, SEEK_SET) < 0)
            st = RD_ERR_ERRNO(&e, RD_ERR_IO, "cannot seek in %s", r->name);
    }
    while (st == RD_OK) {
        size_t at = 0, k = 0;
        if (r->nranges && left == 0) { /* the next range */
            if (++ri == r->nranges)
                break;
            left = r->ranges[ri].length;
            if (lseek(r->fd, (off_t)r->ranges[ri].offset, SEEK_SET) < 0) {
                st = RD_ERR_ERRNO(&e, RD_ERR_IO, "cannot seek in %s", r->name);
                break;
            }
        }
        pthread_mutex_lock(&r->mu);
        st = wait_room(r, &at, &k, &e);
        pthread_mutex_unlock(&r->mu);
        if (st != RD_OK)
            break;
        if (k > FILE_READ)
            k = FILE_READ;
        if (r->nranges && k > left)
            k = (size_t)left;
        ssize_t got;
        do
            got = read(r->fd, r->buf + at, k);
        while (got < 0 && errno == EINTR);
        if (got == 0 && r->nranges) {
            const rd_artifact_range *g = &r->ranges[ri];
            st = RD_ERR(&e, RD_ERR_INTEGRITY, "%s ends inside %s (bytes %llu-%llu)", r->name,
                        g->name ? g->name : "a section", (unsigned long long)g->offset,
                        (unsigned long long)(g->offset + g->length - 1));
            break;
        }
        left -= got > 0 ? (uint64_t)got : 0;
        if (got < 0) {
            st = RD_ERR_ERRNO(&e, RD_ERR_IO, "cannot read %s", r->name);
            break;
        }
        if (got == 0)
            break;
        pthread_mutex_lock(&r->mu);
        r->wr += (uint64_t)got;
        wake(r);
        pthread_mutex_unlock(&r->mu);
    }
    art_ring_finish(r, st, &e);
    return NULL;
}

rd_status art_ring_start_file(art_ring *r, int fd, const rd_artifact_range *ranges, size_t n,
                              rd_error *err)
{
    r->fd = fd;
    r->ranges = ranges;
    r->nranges = n;
    int rc = pthread_create(&r->reader, NULL, file_main, r);
    if (rc != 0)
        return rd_error_set(err, RD_ERR_INTERNAL, rc, "cannot start the file reader thread");
    r->reader_started = 1;
    return RD_OK;
}

void art_ring_close(art_ring *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->closed = 1;
    pthread_cond_broadcast(&r->cv_prod);
    pthread_cond_broadcast(&r->cv_hash);
    pthread_cond_broadcast(&r->cv_read);
    pthread_mutex_unlock(&r->mu);
}

void art_ring_free(art_ring *r)
{
    if (!r)
        return;
    art_ring_close(r);
    if (r->reader_started)
        pthread_join(r->reader, NULL);
    if (r->hasher_started)
        pthread_join(r->hasher, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv_prod);
    pthread_cond_destroy(&r->cv_hash);
    pthread_cond_destroy(&r->cv_read);
    free(r->buf);
    free(r->name);
    free(r);
}
