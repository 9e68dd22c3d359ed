/* artifact_int.h: the raw byte ring of an artifact (artifact_ring.c), its
 * S3 source (artifact_s3.c), and the reader's state and the functions its
 * files share (artifact.c, artifact_read.c, artifact_hash.c,
 * artifact_decrypt.c), shared only inside harness/artifact. */
#ifndef RESTOREDRILL_ARTIFACT_INT_H
#define RESTOREDRILL_ARTIFACT_INT_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "restoredrill/artifact.h"
#include "restoredrill/error.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/sha256.h"

/* A bounded ring of raw bytes between one producer thread and one reader,
 * hashed in place by a thread of its own (the bytes hashed are the bytes
 * read; a byte's room is reused once both the hasher and the reader passed
 * it). */
typedef struct art_ring art_ring;

/* Called by the ring's hasher thread with every byte, in order. */
typedef void (*art_hash_fn)(void *ctx, const void *buf, size_t n);

/* A ring of cap bytes; hash (NULL: no hashing, no thread) has seen every
 * byte when art_ring_read reports the clean end. name (the location) is
 * for messages. */
rd_status art_ring_new(size_t cap, art_hash_fn hash, void *hash_ctx, const char *name,
                       art_ring **out, rd_error *err);
/* Producer: copy n bytes in, waiting for room; RD_ERR_ABORTED "reading NAME
 * was stopped" once the ring is closed. */
rd_status art_ring_write(art_ring *r, const void *buf, size_t n, rd_error *err);
/* Producer: the end of the bytes; st != RD_OK: the failure reads report
 * once the bytes before it were read. */
void art_ring_finish(art_ring *r, rd_status st, const rd_error *err);
/* Start a thread that reads fd (owned by the caller, open until
 * art_ring_free) to its end into the ring; with n ranges, only those
 * (pread/lseek, in the order given; borrowed until art_ring_free), and a
 * range that ends early is RD_ERR_INTEGRITY. */
rd_status art_ring_start_file(art_ring *r, int fd, const rd_artifact_range *ranges, size_t n,
                              rd_error *err);
/* From any thread (the hasher's callback): fail the ring now; readers
 * get st/err instead of their bytes, the producer stops. */
void art_ring_fail(art_ring *r, rd_status st, const rd_error *err);
/* Reader, without the copy: *p points at up to cap bytes in the ring,
 * valid (and their room held) until the next art_ring_view or
 * art_ring_read; otherwise as art_ring_read. */
rd_status art_ring_view(art_ring *r, const void **p, size_t cap, size_t *n, rd_error *err);
/* Reader: up to cap bytes into buf, waiting for them; *n = 0 at the clean
 * end, when all is hashed; the producer's failure once the bytes before it
 * were read; RD_ERR_ABORTED "reading NAME was cancelled" once closed. */
rd_status art_ring_read(art_ring *r, void *buf, size_t cap, size_t *n, rd_error *err);
/* From any thread: wake and fail every waiter, now and later. NULL: no-op. */
void art_ring_close(art_ring *r);
/* Close, join the threads, free. NULL is a no-op. */
void art_ring_free(art_ring *r);

/* The decoder adds nothing and holds no byte: what it would read next is
 * the source's next byte (so a reader may take the source's bytes itself). */
int art_decoder_passes_through(const rd_decoder *d);

typedef struct art_s3 art_s3;

/* HEAD the object (fail fast: 403, 404, credentials), then stream it from a
 * thread into the ring, calling hash (NULL: none) with every byte (in
 * order, on that thread, as it goes into the ring).
 * *size is the object's size. For a directory-format dump (no object KEY,
 * but KEY/toc.dat) *is_dir is set to 1 and *out to NULL (see
 * art_s3_fetch_dir). The ring must outlive the art_s3. */
/* With n ranges (borrowed until art_s3_free): one Range GET per range, in
 * order, instead of the whole object (each one resumed and retried as a
 * whole GET is). */
rd_status art_s3_open(const char *url, const rd_s3_opts *opts, art_ring *ring, art_hash_fn hash,
                      void *hash_ctx, const rd_artifact_range *ranges, size_t n, art_s3 **out,
                      uint64_t *size, int *is_dir, rd_error *err);
/* Download the files of a directory-format dump (the objects directly under
 * KEY/) into a new private directory under base (NULL: $TMPDIR or /tmp),
 * for pg_restore, which reads them itself (and in parallel with -j).
 * *dir_out is a heap path; the caller removes the directory. */
rd_status art_s3_fetch_dir(const char *url, const rd_s3_opts *opts, const char *base,
                           char **dir_out, rd_error *err);
/* From any thread: stop the transfer and close the ring (waiting and later
 * reads fail with RD_ERR_ABORTED "reading URL was cancelled"). The
 * transfer's failure (after its retries and resumes) reaches the reader
 * through the ring. NULL is a no-op. */
void art_s3_stop(art_s3 *a);
/* Stop the transfer, join the thread. NULL is a no-op. */
void art_s3_free(art_s3 *a);

/* The reader itself (artifact.c opens and frees it, artifact_read.c reads
 * it, artifact_hash.c hashes its stored bytes, artifact_decrypt.c runs its
 * decrypt filter). */
#define HEAD_MAX ((size_t)8192)
#define RAW_CAP ((size_t)128 * 1024)

struct rd_artifact {
    char *path;
    int is_dir;
    rd_format fmt;
    rd_wrap wrap;
    int fd;
    art_s3 *s3;     /* an s3:// location: the producer of ring */
    art_ring *ring; /* the raw bytes (from fd or s3), hashed into sha (art_hash_raw) */
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

/* artifact_hash.c */
/* art_hash_fn: every stored byte into the file's sha256 (and MD5), or with
 * ranges into the piece's. */
void art_hash_raw(void *ctx, const void *buf, size_t n);
/* The end of the stored bytes: settle the filter, then compare the digest. */
rd_status art_finish_source(rd_artifact *a, rd_error *err);

/* artifact_decrypt.c */
/* Write all of buf, retrying on EINTR and partial writes, with SIGPIPE
 * blocked in this thread so a closed reader gives EPIPE, not death. */
int art_write_all(int fd, const void *buf, size_t len, int *epipe);
/* Start the decrypt filter argv and the writer thread feeding it. */
rd_status art_start_decrypt(rd_artifact *a, const char *const *argv, rd_error *err);
/* Wait until the filter's output fd is readable (see artifact_decrypt.c). */
rd_status art_wait_filter(rd_artifact *a, int fd, rd_error *err);

/* artifact_read.c */
/* Read the raw head (wrapping magic), set up the decoder, decode the head. */
rd_status art_peek(rd_artifact *a, rd_error *err);

#endif
