/* artifact_hash.c: the digests of an artifact's stored bytes: the file's
 * sha256 (and MD5), or with ranges each piece's sha256, and their check at
 * the end of the stored bytes. */
#include "artifact_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#define DECRYPT_EXIT_GRACE 60.0 /* seconds a filter may linger after closing its stdout */

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

void art_hash_raw(void *ctx, const void *buf, size_t n)
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

rd_status art_finish_source(rd_artifact *a, rd_error *err)
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
