/* artifact.c: a recovery point as a byte stream: raw file or S3 object ->
 * ring (artifact_ring.c) -> sha256 (see art_hash_raw) -> (decrypt
 * filter) -> gunzip/unzstd -> caller, with the decoded head kept to
 * recognise the format. Fixed buffers: memory stays flat whatever the size.
 *
 * With a decrypt filter, a writer thread feeds the stored file into the
 * filter's stdin (hashing it on the way) while the caller reads the filter's
 * stdout, so neither side can block the other.
 *
 * This file opens (local file, directory, S3 object or directory), answers
 * and frees the reader; the read path is artifact_read.c, the digests
 * artifact_hash.c, the decrypt filter artifact_decrypt.c. */
#include "restoredrill/artifact.h"
#include "artifact_int.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RING_CAP ((size_t)4 * 1024 * 1024)

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
        /* hashed by the artifact's reader as it takes the bytes (see art_hash_raw) */
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
        (st = art_ring_new(RING_CAP, art_hash_raw, a, a->path, &a->ring, err)) != RD_OK ||
        (st = art_ring_start_file(a->ring, a->fd, a->ranges, a->nranges, err)) != RD_OK)
        goto out;
stream:
    if (opts && opts->decrypt && opts->decrypt[0] &&
        (st = art_start_decrypt(a, opts->decrypt, err)) != RD_OK)
        goto out;
    if ((st = art_peek(a, err)) != RD_OK)
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
