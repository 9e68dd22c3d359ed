/* artifact.c: a recovery point as a byte stream: raw file or S3 object ->
 * ring (artifact_ring.c) -> sha256 (see hash_raw) -> (decrypt
 * filter) -> gunzip/unzstd -> caller, with the decoded head kept to
 * recognise the format. Fixed buffers: memory stays flat whatever the size.
 *
 * With a decrypt filter, a writer thread feeds the stored file into the
 * filter's stdin (hashing it on the way) while the caller reads the filter's
 * stdout, so neither side can block the other. */
#include "restoredrill/artifact.h"
#include "artifact_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX ((size_t)8192)
#define RAW_CAP ((size_t)128 * 1024)
#define RING_CAP ((size_t)4 * 1024 * 1024)
#define DECRYPT_EXIT_GRACE 60.0 /* seconds a filter may linger after closing its stdout */

struct rd_artifact {
    char *path;
    int is_dir;
    rd_format fmt;
    rd_wrap wrap;
    int fd;
    art_s3 *s3;     /* an s3:// location: the producer of ring */
    art_ring *ring; /* the raw bytes (from fd or s3), hashed into sha (hash_raw) */
    char *tmpdir;   /* a directory-format dump downloaded from S3, removed by free */
    char *tmpbase;  /* the directory tmpdir was made in */
    rd_sha256 *sha;
    EVP_MD_CTX *md5; /* opts->md5: the MD5 of the raw bytes too */
    char md5_b64[32];
    char *expected;
    char hex[RD_SHA256_HEX_LEN + 1];
    int have_hex;
    atomic_uint_least64_t raw_bytes;
    uint64_t decoded_bytes;
    uint64_t total;
    int src_eof;
    /* decrypt filter */
    rd_proc *proc;
    int writer_fd;
    pthread_t writer;
    int writer_started;
    atomic_int writer_abort;
    atomic_int cancel; /* rd_artifact_cancel */
    double deadline;   /* for reads from the filter; 0: none */
    int writer_broken; /* the filter stopped reading before the end */
    rd_status writer_st;
    rd_error writer_err;
    /* decoding */
    rd_decoder *dec;
    unsigned char head[HEAD_MAX];
    size_t head_pos, head_len;
    int dec_eof;
    unsigned char *vbuf; /* rd_artifact_read_view's when it must copy */
    rd_status fail_st;   /* sticky: once failed, every read repeats it */
    rd_error fail;
    /* opts->ranges: only these pieces are read, each checked by its sha256 */
    const rd_artifact_range *ranges;
    size_t nranges;
    size_t ri;          /* the piece being hashed */
    uint64_t rleft;     /* its bytes still to hash */
    rd_sha256 *ph;      /* its sha256 */
    rd_status piece_st; /* the first mismatch (sticky) */
    rd_error piece_err;
};

/* Write all of buf, retrying on EINTR and partial writes, with SIGPIPE
 * blocked in this thread so a closed reader gives EPIPE, not death. */
static int write_all(int fd, const void *buf, size_t len, int *epipe)
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

static ssize_t read_retry(int fd, void *buf, size_t cap)
{
    ssize_t r;
    do
        r = read(fd, buf, cap);
    while (r < 0 && errno == EINTR);
    return r;
}

/* Every stored byte, in order: on the ring's hasher thread for a file
 * (artifact_ring.c); for S3 on the reader, as it takes the bytes (the GET thread
 * already runs beside it, and a third thread measured
 * 0.3 s of CPU per GiB more, bench/RESULTS.md). */
/* With ranges: every piece's bytes into its own sha256, compared when its
 * last byte is in; a mismatch is kept in piece_st (and fails the file's ring
 * at once). */
static void hash_pieces(rd_artifact *a, const unsigned char *p, size_t n)
{
    while (n > 0 && a->piece_st == RD_OK && a->ri < a->nranges) {
        const rd_artifact_range *g = &a->ranges[a->ri];
        size_t k = n < a->rleft ? n : (size_t)a->rleft;
        rd_sha256_update(a->ph, p, k);
        p += k;
        n -= k;
        a->rleft -= k;
        if (a->rleft > 0)
            return;
        char hex[RD_SHA256_HEX_LEN + 1];
        rd_sha256_final_hex(a->ph, hex);
        rd_sha256_free(a->ph);
        a->ph = NULL;
        if (g->sha256 && strcasecmp(g->sha256, hex) != 0) {
            a->piece_st =
                RD_ERR(&a->piece_err, RD_ERR_INTEGRITY,
                       "%s of %s (bytes %llu-%llu): sha256 mismatch, expected %s, got %s",
                       g->name ? g->name : "a section", a->path, (unsigned long long)g->offset,
                       (unsigned long long)(g->offset + g->length - 1), g->sha256, hex);
            if (!a->s3)
                art_ring_fail(a->ring, a->piece_st, &a->piece_err);
            return;
        }
        if (++a->ri < a->nranges) {
            a->rleft = a->ranges[a->ri].length;
            rd_error e;
            if (rd_sha256_new(&a->ph, &e) != RD_OK) {
                a->piece_st = RD_ERR(&a->piece_err, RD_ERR_NOMEM, "out of memory");
                if (!a->s3)
                    art_ring_fail(a->ring, a->piece_st, &a->piece_err);
                return;
            }
        }
    }
}

static void hash_raw(void *ctx, const void *buf, size_t n)
{
    rd_artifact *a = ctx;
    if (a->nranges) {
        hash_pieces(a, buf, n);
        return;
    }
    rd_sha256_update(a->sha, buf, n);
    if (a->md5)
        EVP_DigestUpdate(a->md5, buf, n);
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
            hash_raw(a, buf, r);
        atomic_fetch_add(&a->raw_bytes, (uint64_t)r);
        int epipe = 0;
        if (write_all(a->writer_fd, buf, (size_t)r, &epipe) != 0) {
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

static rd_status start_decrypt(rd_artifact *a, const char *const *argv, rd_error *err)
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

/* The end of the stored bytes: settle the filter, then compare the digest. */
static rd_status finish_source(rd_artifact *a, rd_error *err)
{
    if (a->proc) {
        if (a->writer_started) {
            pthread_join(a->writer, NULL);
            a->writer_started = 0;
        }
        int code = 0;
        rd_status st = rd_proc_wait(a->proc, rd_mono_now() + DECRYPT_EXIT_GRACE, &code, err);
        if (st != RD_OK)
            return rd_error_prefix(err, "decrypt command: ");
        if (code != 0)
            return rd_proc_fail(err, "decrypt command", code, rd_proc_stderr_tail(a->proc));
        if (a->writer_st != RD_OK) {
            if (err)
                *err = a->writer_err;
            return a->writer_st;
        }
        if (a->writer_broken || !a->src_eof)
            return RD_ERR(err, RD_ERR_PROC, "decrypt command exited before reading all of %s",
                          a->path);
    }
    if (a->nranges) { /* every piece was read and matched; the whole file was not read */
        a->have_hex = 1;
        if (a->piece_st != RD_OK) {
            if (err)
                *err = a->piece_err;
            return a->piece_st;
        }
        if (a->ri != a->nranges)
            return RD_ERR(err, RD_ERR_INTEGRITY, "%s ends inside %s", a->path,
                          a->ranges[a->ri].name ? a->ranges[a->ri].name : "a section");
        return RD_OK;
    }
    rd_sha256_final_hex(a->sha, a->hex);
    a->have_hex = 1;
    if (a->md5) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        EVP_DigestFinal_ex(a->md5, md, &ml);
        EVP_EncodeBlock((unsigned char *)a->md5_b64, md, (int)ml);
    }
    if (a->expected && strcasecmp(a->expected, a->hex) != 0)
        return RD_ERR(err, RD_ERR_INTEGRITY, "sha256 mismatch: expected %s, got %s", a->expected,
                      a->hex);
    return RD_OK;
}

/* Wait until the filter's output is readable, in slices of 0.2 s that
 * watch the deadline, rd_artifact_cancel and the abort flag; on any of them
 * the filter is stopped (so the writer thread sees EPIPE and ends). */
static rd_status wait_filter(rd_artifact *a, int fd, rd_error *err)
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

/* rd_source_fn: stored bytes, or the decrypt filter's output. */
static rd_status src_read(void *ctx, void *buf, size_t cap, size_t *n, rd_error *err)
{
    rd_artifact *a = ctx;
    *n = 0;
    if (a->have_hex)
        return RD_OK;
    int fd = a->proc ? rd_proc_stdout_fd(a->proc) : a->fd;
    rd_status st = a->proc ? wait_filter(a, fd, err) : RD_OK;
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
        return finish_source(a, err);
    }
    if (!a->proc && a->s3) {
        hash_raw(a, buf, (size_t)r);
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
static rd_status peek(rd_artifact *a, rd_error *err)
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

static rd_status size_mismatch(const rd_artifact *a, uint64_t have, uint64_t want, rd_error *err)
{
    return RD_ERR(err, RD_ERR_INTEGRITY,
                  "%s has %llu bytes, its manifest says %llu: the dump was cut short or replaced",
                  a->path, (unsigned long long)have, (unsigned long long)want);
}

static int has_toc(const char *dir)
{
    char *p = rd_asprintf("%s/toc.dat", dir);
    struct stat sb;
    int ok = p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
    free(p);
    return ok;
}

rd_status rd_artifact_open(const char *location, const rd_artifact_opts *opts, rd_artifact **out,
                           rd_error *err)
{
    rd_status st = RD_OK;
    rd_artifact *a = NULL;
    struct stat sb;
    if (!location || !*location)
        return RD_ERR(err, RD_ERR_NOTFOUND, "recovery point has no location");
    if (strncmp(location, "file://", 7) == 0)
        location += 7;
    else if (strstr(location, "://") && !rd_s3_is_url(location))
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "fetching %.*s locations is not implemented yet",
                      (int)(strstr(location, "://") - location + 3), location);
    a = calloc(1, sizeof *a);
    if (!a)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    a->fd = -1;
    a->writer_fd = -1;
    atomic_init(&a->raw_bytes, 0);
    atomic_init(&a->writer_abort, 0);
    atomic_init(&a->cancel, 0);
    a->deadline = opts ? opts->deadline : 0;
    if (opts && opts->nranges) {
        a->ranges = opts->ranges;
        a->nranges = opts->nranges;
        a->rleft = a->ranges[0].length;
        if (opts->decrypt && opts->decrypt[0]) {
            st = RD_ERR(err, RD_ERR_USAGE, "an encrypted file cannot be read by sections");
            goto out;
        }
        if ((st = rd_sha256_new(&a->ph, err)) != RD_OK)
            goto out;
    }
    if (!(a->path = strdup(location)) || (opts && opts->expected_sha256 && !a->nranges &&
                                          !(a->expected = strdup(opts->expected_sha256)))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* before any byte is hashed: the file's ring starts hashing at once */
    if (opts && opts->md5 &&
        (!(a->md5 = EVP_MD_CTX_new()) || EVP_DigestInit_ex(a->md5, EVP_md5(), NULL) != 1)) {
        st = RD_ERR(err, RD_ERR_NOMEM, "cannot compute MD5");
        goto out;
    }
    if (rd_s3_is_url(location)) {
        uint64_t size = 0;
        int is_dir = 0;
        if ((st = rd_sha256_new(&a->sha, err)) != RD_OK ||
            (st = art_ring_new(RING_CAP, NULL, NULL, a->path, &a->ring, err)) != RD_OK)
            goto out;
        /* hashed by the artifact's reader as it takes the bytes (see hash_raw) */
        st = art_s3_open(location, opts ? opts->s3 : NULL, a->ring, NULL, NULL, a->ranges,
                         a->nranges, &a->s3, &size, &is_dir, err);
        if (st == RD_OK && a->nranges && (is_dir || size != opts->ranges_file_bytes))
            st = size_mismatch(a, is_dir ? 0 : size, opts->ranges_file_bytes, err);
        if (st != RD_OK)
            goto out;
        if (is_dir) {
            art_ring_free(a->ring);
            a->ring = NULL;
            rd_sha256_free(a->sha);
            a->sha = NULL;
            const char *t = getenv("TMPDIR");
            if (!(a->tmpbase = rd_strdup(t && *t ? t : "/tmp"))) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            if ((st = art_s3_fetch_dir(location, opts ? opts->s3 : NULL, a->tmpbase, &a->tmpdir,
                                       err)) != RD_OK)
                goto out;
            free(a->path);
            a->path = rd_strdup(a->tmpdir);
            location = a->path;
            if (!a->path) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            if (stat(location, &sb) != 0) {
                st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", location);
                goto out;
            }
            goto local_dir;
        }
        a->total = opts && opts->progress_total ? opts->progress_total : size;
        goto stream;
    }
    if (stat(location, &sb) != 0) {
        st = RD_ERR_ERRNO(err, errno == ENOENT ? RD_ERR_NOTFOUND : RD_ERR_IO, "cannot open %s",
                          location);
        goto out;
    }
local_dir:
    if (S_ISDIR(sb.st_mode)) {
        if (!has_toc(location)) {
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "%s is a directory without toc.dat (not a pg_dump directory-format dump)",
                        location);
            goto out;
        }
        a->is_dir = 1;
        a->fmt = RD_FMT_PG_DIRECTORY;
        if (a->expected)
            rd_log_warn("sha256 of %s not verified: it is a directory", location);
        goto done;
    }
    a->fd = open(location, O_RDONLY | O_CLOEXEC);
    if (a->fd < 0) {
        st = RD_ERR_ERRNO(err, errno == ENOENT ? RD_ERR_NOTFOUND : RD_ERR_IO, "cannot open %s",
                          location);
        goto out;
    }
    a->total = opts && opts->progress_total ? opts->progress_total : (uint64_t)sb.st_size;
    if (a->nranges && (uint64_t)sb.st_size != opts->ranges_file_bytes) {
        st = size_mismatch(a, (uint64_t)sb.st_size, opts->ranges_file_bytes, err);
        goto out;
    }
    if ((st = rd_sha256_new(&a->sha, err)) != RD_OK ||
        (st = art_ring_new(RING_CAP, hash_raw, a, a->path, &a->ring, err)) != RD_OK ||
        (st = art_ring_start_file(a->ring, a->fd, a->ranges, a->nranges, err)) != RD_OK)
        goto out;
stream:
    if (opts && opts->decrypt && opts->decrypt[0] &&
        (st = start_decrypt(a, opts->decrypt, err)) != RD_OK)
        goto out;
    if ((st = peek(a, err)) != RD_OK)
        goto out;
done:
    *out = a;
    a = NULL;
out:
    rd_artifact_free(a);
    return st;
}

void rd_artifact_set_deadline(rd_artifact *a, double deadline)
{
    a->deadline = deadline;
}

void rd_artifact_cancel(rd_artifact *a)
{
    if (a) {
        atomic_store(&a->cancel, 1);
        art_s3_stop(a->s3);      /* the S3 transfer */
        art_ring_close(a->ring); /* a read waiting on the ring */
    }
}

int rd_artifact_is_dir(const rd_artifact *a)
{
    return a->is_dir;
}

rd_format rd_artifact_format(const rd_artifact *a)
{
    return a->fmt;
}

rd_wrap rd_artifact_wrap(const rd_artifact *a)
{
    return a->wrap;
}

const char *rd_artifact_path(const rd_artifact *a)
{
    return a->path;
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
        st = finish_source(a, &e);
    }
    if (st != RD_OK) {
        *p = NULL;
        *n = 0;
        if (err)
            *err = e;
        return fail(a, st, &e);
    }
    if (a->s3) {
        hash_raw(a, *p, *n);
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
        if (write_all(fd, buf, n, &epipe) != 0) {
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

uint64_t rd_artifact_raw_bytes(const rd_artifact *a)
{
    return atomic_load(&((rd_artifact *)a)->raw_bytes);
}

const void *rd_artifact_head(const rd_artifact *a, size_t *n)
{
    *n = a && !a->is_dir ? a->head_len : 0;
    return *n ? a->head : NULL;
}

uint64_t rd_artifact_decoded_bytes(const rd_artifact *a)
{
    return a->decoded_bytes;
}

const char *rd_artifact_sha256(const rd_artifact *a)
{
    return a->have_hex && !a->nranges ? a->hex : NULL;
}

const char *rd_artifact_md5(const rd_artifact *a)
{
    return a->have_hex && a->md5 && !a->nranges ? a->md5_b64 : NULL;
}

void rd_artifact_free(rd_artifact *a)
{
    if (!a)
        return;
    art_s3_stop(a->s3);      /* the S3 transfer */
    art_ring_close(a->ring); /* a writer thread waiting on the ring */
    if (a->proc) {
        atomic_store(&a->writer_abort, 1);
        if (a->writer_started) {
            rd_proc_stop(a->proc); /* a writer blocked on the pipe gets EPIPE */
            pthread_join(a->writer, NULL);
        }
        rd_proc_free(a->proc);
    }
    if (a->writer_fd >= 0)
        close(a->writer_fd);
    rd_decoder_free(a->dec);
    free(a->vbuf);
    art_s3_free(a->s3);     /* joins the GET thread, the ring's producer */
    art_ring_free(a->ring); /* joins the file reader and the hasher */
    rd_sha256_free(a->sha);
    rd_sha256_free(a->ph);
    EVP_MD_CTX_free(a->md5);
    if (a->fd >= 0)
        close(a->fd);
    if (a->tmpdir) {
        rd_error e;
        if (rd_fs_rmtree(a->tmpdir, a->tmpbase, &e) != RD_OK)
            rd_log_warn("cannot remove %s: %s", a->tmpdir, e.msg);
    }
    free(a->tmpdir);
    free(a->tmpbase);
    free(a->path);
    free(a->expected);
    free(a);
}
