/* artifact_int.h: the raw byte ring of an artifact (artifact_ring.c) and
 * its S3 source (artifact_s3.c), shared only inside harness/artifact. */
#ifndef RESTOREDRILL_ARTIFACT_INT_H
#define RESTOREDRILL_ARTIFACT_INT_H

#include <stdint.h>

#include "restoredrill/artifact.h"
#include "restoredrill/error.h"
#include "restoredrill/s3.h"

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

#endif
