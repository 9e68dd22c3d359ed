/* artifact_read.c: the read path of an artifact: the stored bytes (or the
 * decrypt filter's output) through the decoder to the caller, the decoded
 * head kept to recognise the format, the zero-copy view, and the pump into
 * a restore tool with its progress line. */
#include "artifact_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static ssize_t read_retry(int fd, void *buf, size_t cap)
{
    ssize_t r;
    do
        r = read(fd, buf, cap);
    while (r < 0 && errno == EINTR);
    return r;
}

/* rd_source_fn: stored bytes, or the decrypt filter's output. */
static rd_status src_read(void *ctx, void *buf, size_t cap, size_t *n, rd_error *err)
{
    rd_artifact *a = ctx;
    *n = 0;
    if (a->have_hex)
        return RD_OK;
    int fd = a->proc ? rd_proc_stdout_fd(a->proc) : a->fd;
    rd_status st = a->proc ? art_wait_filter(a, fd, err) : RD_OK;
    if (st != RD_OK)
        return st;
    ssize_t r;
    if (!a->proc) { /* hashed by the ring's thread */
        size_t got = 0;
        if ((st = art_ring_read(a->ring, buf, cap, &got, err)) != RD_OK)
            return st;
        r = (ssize_t)got;
    } else if ((r = read_retry(fd, buf, cap)) < 0) {
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read the decrypt command's output");
    }
    if (r == 0) {
        if (!a->proc)
            a->src_eof = 1;
        return art_finish_source(a, err);
    }
    if (!a->proc && a->s3) {
        art_hash_raw(a, buf, (size_t)r);
        if (a->piece_st != RD_OK) {
            if (err)
                *err = a->piece_err;
            return a->piece_st;
        }
    }
    if (!a->proc)
        atomic_fetch_add(&a->raw_bytes, (uint64_t)r);
    *n = (size_t)r;
    return RD_OK;
}

static rd_status fail(rd_artifact *a, rd_status st, const rd_error *err)
{
    a->fail_st = st;
    if (err)
        a->fail = *err;
    else
        RD_ERR(&a->fail, st, "%s", rd_strerror(st));
    return st;
}

/* With ranges, a decoding failure (RD_ERR_INTEGRITY) is most likely a
 * damaged piece: read on to the piece's end, where its sha256 says which
 * (the decoder may see the damage before the hasher has all of it); its
 * mismatch then replaces the decoder's message. */
static rd_status name_damage(rd_artifact *a, rd_status st, rd_error *e)
{
    if (st != RD_ERR_INTEGRITY || !a->nranges || a->have_hex)
        return st;
    unsigned char junk[16384];
    size_t k = 0;
    rd_error e2;
    while (src_read(a, junk, sizeof junk, &k, &e2) == RD_OK && k > 0)
        ;
    if (a->piece_st != RD_OK) { /* read after the ring's lock: the hasher is done with it */
        if (e)
            *e = a->piece_err;
        return a->piece_st;
    }
    return st;
}

/* Read the raw head (wrapping magic), set up the decoder, decode the head. */
rd_status art_peek(rd_artifact *a, rd_error *err)
{
    unsigned char magic[8];
    size_t got = 0;
    while (got < 4) {
        size_t r = 0;
        rd_status st = src_read(a, magic + got, 4 - got, &r, err);
        if (st != RD_OK)
            return st;
        if (r == 0)
            break;
        got += r;
    }
    a->wrap = rd_wrap_detect(magic, got);
    rd_status st = rd_decoder_new(a->wrap, a->path, magic, got, &a->dec, err);
    if (st != RD_OK)
        return st;
    while (a->head_len < HEAD_MAX) {
        size_t r = 0;
        st = rd_decoder_read(a->dec, src_read, a, a->head + a->head_len, HEAD_MAX - a->head_len, &r,
                             err);
        if (st != RD_OK)
            return name_damage(a, st, err);
        if (r == 0) {
            a->dec_eof = 1;
            break;
        }
        a->head_len += r;
        a->decoded_bytes += r;
    }
    a->fmt = rd_format_detect(a->head, a->head_len);
    return RD_OK;
}

rd_status rd_artifact_read(rd_artifact *a, void *buf, size_t cap, size_t *n, rd_error *err)
{
    *n = 0;
    if (a->fail_st != RD_OK) {
        if (err)
            *err = a->fail;
        return a->fail_st;
    }
    if (a->is_dir || cap == 0)
        return RD_OK;
    if (a->head_pos < a->head_len) {
        size_t k = a->head_len - a->head_pos;
        if (k > cap)
            k = cap;
        memcpy(buf, a->head + a->head_pos, k);
        a->head_pos += k;
        *n = k;
        return RD_OK;
    }
    if (a->dec_eof)
        return RD_OK;
    rd_error e;
    rd_error_clear(&e);
    rd_status st = rd_decoder_read(a->dec, src_read, a, buf, cap, n, &e);
    st = name_damage(a, st, &e);
    if (st != RD_OK) {
        *n = 0;
        if (err)
            *err = e;
        return fail(a, st, &e);
    }
    if (*n == 0)
        a->dec_eof = 1;
    a->decoded_bytes += *n;
    return RD_OK;
}

rd_status rd_artifact_read_view(rd_artifact *a, const void **p, size_t cap, size_t *n,
                                rd_error *err)
{
    *p = NULL;
    *n = 0;
    if (a->fail_st != RD_OK || a->is_dir || cap == 0 || a->head_pos < a->head_len || a->dec_eof ||
        a->proc || a->have_hex || !art_decoder_passes_through(a->dec)) {
        /* the head, a decoded or decrypted stream, the end: through a copy */
        if (a->head_pos < a->head_len) {
            size_t k = a->head_len - a->head_pos;
            *p = a->head + a->head_pos;
            *n = k < cap ? k : cap;
            a->head_pos += *n;
            return RD_OK;
        }
        if (!a->vbuf && !(a->vbuf = malloc(RAW_CAP)))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        rd_status st = rd_artifact_read(a, a->vbuf, cap < RAW_CAP ? cap : RAW_CAP, n, err);
        if (st == RD_OK && *n)
            *p = a->vbuf;
        return st;
    }
    rd_error e;
    rd_error_clear(&e);
    rd_status st = art_ring_view(a->ring, p, cap, n, &e);
    if (st == RD_OK && *n == 0) { /* the end of the stored bytes */
        a->src_eof = 1;
        a->dec_eof = 1;
        st = art_finish_source(a, &e);
    }
    if (st != RD_OK) {
        *p = NULL;
        *n = 0;
        if (err)
            *err = e;
        return fail(a, st, &e);
    }
    if (a->s3) {
        art_hash_raw(a, *p, *n);
        if (a->piece_st != RD_OK) {
            *p = NULL;
            *n = 0;
            if (err)
                *err = a->piece_err;
            return fail(a, a->piece_st, &a->piece_err);
        }
    }
    atomic_fetch_add(&a->raw_bytes, (uint64_t)*n);
    a->decoded_bytes += *n;
    return RD_OK;
}

static void human_bytes(uint64_t b, char *buf, size_t sz)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = (double)b;
    size_t u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, sz, "%llu B", (unsigned long long)b);
    else
        snprintf(buf, sz, "%.1f %s", v, units[u]);
}

static void show_progress(const rd_artifact *a)
{
    char done[32], total[32];
    const char *name = strrchr(a->path, '/');
    name = name ? name + 1 : a->path;
    human_bytes(atomic_load(&a->raw_bytes), done, sizeof done);
    if (a->total) {
        human_bytes(a->total, total, sizeof total);
        rd_progress("fetch %s: %s / %s", name, done, total);
    } else {
        rd_progress("fetch %s: %s", name, done);
    }
}

rd_status rd_artifact_pump(rd_artifact *a, int fd, rd_error *err)
{
    rd_status st = RD_OK;
    unsigned char *buf = malloc(RAW_CAP);
    if (!buf)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (;;) {
        int sig = rd_abort_requested();
        if (sig) {
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", sig);
            break;
        }
        size_t n = 0;
        st = rd_artifact_read(a, buf, RAW_CAP, &n, err);
        if (st != RD_OK || n == 0)
            break;
        int epipe = 0;
        if (art_write_all(fd, buf, n, &epipe) != 0) {
            if (epipe)
                st = RD_ERR(err, RD_ERR_IO, "restore tool closed its input");
            else
                st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write to the restore tool");
            break;
        }
        show_progress(a);
    }
    rd_progress_done();
    free(buf);
    return st;
}
