/* artifact_int.h: the S3 source of an artifact (artifact_s3.c), shared
 * only inside harness/artifact. */
#ifndef RESTOREDRILL_ARTIFACT_INT_H
#define RESTOREDRILL_ARTIFACT_INT_H

#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/s3.h"

typedef struct art_s3 art_s3;

/* HEAD the object (fail fast: 403, 404, credentials), then stream it from a
 * thread into a bounded ring buffer. *size is the object's size. For a
 * directory-format dump (no object KEY, but KEY/toc.dat) *is_dir is set to 1
 * and *out to NULL (see art_s3_fetch_dir). */
rd_status art_s3_open(const char *url, const rd_s3_opts *opts, art_s3 **out, uint64_t *size,
                      int *is_dir, rd_error *err);
/* Download the files of a directory-format dump (the objects directly under
 * KEY/) into a new private directory under base (NULL: $TMPDIR or /tmp),
 * for pg_restore, which reads them itself (and in parallel with -j).
 * *dir_out is a heap path; the caller removes the directory. */
rd_status art_s3_fetch_dir(const char *url, const rd_s3_opts *opts, const char *base,
                           char **dir_out, rd_error *err);
/* Up to cap bytes into buf, waiting for the transfer; *n = 0 at the clean
 * end of the object; the transfer's failure (after its retries and resumes)
 * is returned once the bytes before it were read. */
rd_status art_s3_read(art_s3 *a, void *buf, size_t cap, size_t *n, rd_error *err);
/* From any thread: stop the transfer; waiting and later reads fail with
 * RD_ERR_ABORTED "reading URL was cancelled". NULL is a no-op. */
void art_s3_stop(art_s3 *a);
/* Stop the transfer, join the thread. NULL is a no-op. */
void art_s3_free(art_s3 *a);

#endif
