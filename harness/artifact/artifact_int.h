/* artifact_int.h: the S3 source of an artifact (artifact_s3.c), shared
 * only inside harness/artifact. */
#ifndef RESTOREDRILL_ARTIFACT_INT_H
#define RESTOREDRILL_ARTIFACT_INT_H

#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/s3.h"

typedef struct art_s3 art_s3;

/* HEAD the object (fail fast: 403, 404, credentials), then stream it from a
 * thread into a pipe whose read end is *fd (borrowed: art_s3_free closes
 * it). *size is the object's size. A directory-format dump (KEY/toc.dat)
 * is RD_ERR_UNSUPPORTED. */
rd_status art_s3_open(const char *url, const rd_s3_opts *opts, art_s3 **out, int *fd,
                      uint64_t *size, rd_error *err);
/* After the pipe's end: the transfer's own result (a failed GET closes the
 * pipe early, which must not pass for the end of the object). */
rd_status art_s3_finish(art_s3 *a, rd_error *err);
/* Stop the transfer, close the pipe, join the thread. NULL is a no-op. */
void art_s3_free(art_s3 *a);

#endif
