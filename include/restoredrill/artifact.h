/* artifact.h: turn a recovery point into a byte stream: open, verify the
 * sha256 while reading, decrypt through a filter command, unwrap gzip/zstd in
 * process, and recognise the dump format from its first bytes. */
#ifndef RESTOREDRILL_ARTIFACT_H
#define RESTOREDRILL_ARTIFACT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/s3.h"

typedef enum rd_format {
    RD_FMT_UNKNOWN = 0,
    RD_FMT_PG_CUSTOM,    /* "PGDMP" */
    RD_FMT_PG_DIRECTORY, /* a directory with toc.dat */
    RD_FMT_PG_PLAIN,     /* SQL text from pg_dump */
    RD_FMT_MARIADB_SQL   /* SQL text from mariadb-dump / mysqldump */
} rd_format;

typedef enum rd_wrap { RD_WRAP_NONE = 0, RD_WRAP_GZIP, RD_WRAP_ZSTD } rd_wrap;

/* "pg-custom", "pg-directory", "pg-plain", "mariadb-sql", "unknown" */
const char *rd_format_name(rd_format f);
rd_format rd_format_parse(const char *s);
const char *rd_wrap_name(rd_wrap w); /* "none" "gzip" "zstd" */

/* Recognise format from decoded leading bytes (at least 4 KiB when there are). */
rd_format rd_format_detect(const void *head, size_t n);
/* Recognise wrapping from the raw leading bytes (gzip 1f 8b, zstd 28 b5 2f fd). */
rd_wrap rd_wrap_detect(const void *head, size_t n);

typedef struct rd_artifact rd_artifact; /* opaque */

/* A piece of the stored file (a section of a cluster dump, see manifest.h
 * "artifact.sections"): offset and length in stored bytes. */
typedef struct rd_artifact_range {
    uint64_t offset;
    uint64_t length;
    const char *sha256; /* hex digest of these stored bytes */
    const char *name;   /* for messages: "section tenant_42", "a shared section" */
} rd_artifact_range;

typedef struct rd_artifact_opts {
    const char *expected_sha256; /* of the raw file as stored; NULL: not verified */
    const char *const *decrypt;  /* argv of a filter command, NULL: none */
    size_t progress_total;       /* bytes expected, for progress; 0 unknown */
    /* rd_mono_now() instant after which a read waiting on the decrypt
     * filter fails (RD_ERR_TIMEOUT) and the filter is stopped; 0: none.
     * Also bounds the head read of rd_artifact_open. */
    double deadline;
    const rd_s3_opts *s3; /* endpoint, region, path style of s3:// locations; NULL: defaults */
    int md5;              /* 1: also the MD5 of the raw bytes (rd_artifact_md5) */
    /* Read only these pieces of the stored file, in this order (a file by
     * lseek + read on the ring's reader thread, an s3:// object by one Range
     * GET per piece), instead of all of it: the decoded stream is their
     * decoded concatenation, each piece's sha256 is checked when its last
     * byte is hashed (RD_ERR_INTEGRITY "section tenant_42 of X (bytes O-E):
     * sha256 mismatch, expected A, got B", which fails the next read), and
     * expected_sha256 is not checked (the whole file is not read; md5 and
     * rd_artifact_sha256 stay NULL). The stored size must equal
     * ranges_file_bytes, else open fails with RD_ERR_INTEGRITY "X has N
     * bytes, its manifest says M (cut short or replaced)". Not with decrypt
     * (RD_ERR_USAGE) nor a directory. Borrowed until rd_artifact_free. */
    const rd_artifact_range *ranges;
    size_t nranges;
    uint64_t ranges_file_bytes;
} rd_artifact_opts;

/* Open a file (or a pg directory-format dump, which is never streamed: then
 * rd_artifact_is_dir is 1 and read returns nothing; its sha256 is not
 * verified). Peeks the head (8 KiB decoded) to detect wrapping and format;
 * errors met while peeking are returned by open: a corrupt or truncated
 * stream head, a failing decrypt command (RD_ERR_PROC "decrypt command exited
 * with 2: <last stderr line>"), a sha256 mismatch of a file shorter than the
 * head. RD_ERR_NOTFOUND "cannot open X: No such file or directory";
 * RD_ERR_UNSUPPORTED for URL locations other than file:// and s3:// (not
 * yet). An s3:// location is streamed from S3 (rd_s3_get: Range resume,
 * retries) through the same pipeline; S3 errors are those of s3.h. An
 * s3:// pg_dump directory-format dump (KEY/toc.dat) is downloaded into a
 * private directory under $TMPDIR (rd_artifact_path names it) and removed
 * by rd_artifact_free. A decrypt
 * filter that exits 0 without reading all its input is RD_ERR_PROC "decrypt
 * command exited before reading all of X". *out is owned by the caller. */
rd_status rd_artifact_open(const char *location, const rd_artifact_opts *opts, rd_artifact **out,
                           rd_error *err);
int rd_artifact_is_dir(const rd_artifact *a);
rd_format rd_artifact_format(const rd_artifact *a);
rd_wrap rd_artifact_wrap(const rd_artifact *a);
const char *rd_artifact_path(const rd_artifact *a);

/* Read decoded bytes; *n = 0 at the end. Errors are sticky (every later
 * read repeats the first). At the end the sha256 is checked:
 * a mismatch is RD_ERR_INTEGRITY "sha256 mismatch: expected X, got Y".
 * A corrupt or truncated gzip/zstd stream is RD_ERR_INTEGRITY too. */
rd_status rd_artifact_read(rd_artifact *a, void *buf, size_t cap, size_t *n, rd_error *err);
/* rd_artifact_read without the copy where it can: *p points at the next *n
 * (at most cap) decoded bytes, inside the artifact, valid until the next
 * read or view of it or its free. An unwrapped stream without a decrypt
 * filter lends the raw bytes where they were fetched (no copy); otherwise
 * they are decoded into a buffer of the artifact's. The same bytes, errors
 * and sha256 check as rd_artifact_read, which may be mixed with it. */
rd_status rd_artifact_read_view(rd_artifact *a, const void **p, size_t cap, size_t *n,
                                rd_error *err);

/* Move the deadline of reads from the decrypt filter (see
 * rd_artifact_opts.deadline); call it from the thread that reads. */
void rd_artifact_set_deadline(rd_artifact *a, double deadline);
/* From any thread: a read waiting on the decrypt filter stops the filter
 * and fails with RD_ERR_ABORTED "reading X was cancelled" within 0.2 s
 * (the reads also give up when rd_abort_requested()); a read waiting on an
 * S3 transfer fails the same way at once. Without a filter or S3, reads never
 * wait on another process or thread, and this is a no-op. */
void rd_artifact_cancel(rd_artifact *a);

/* Copy the whole decoded stream into fd (a restore tool's stdin). Writes
 * through EPIPE are reported as RD_ERR_IO "restore tool closed its input". */
rd_status rd_artifact_pump(rd_artifact *a, int fd, rd_error *err);

/* Raw bytes read from storage and decoded bytes produced so far. */
uint64_t rd_artifact_raw_bytes(const rd_artifact *a);
uint64_t rd_artifact_decoded_bytes(const rd_artifact *a);
/* The decoded head kept for format detection (up to 8 KiB; *n its length;
 * NULL for a directory). Valid until rd_artifact_free. */
const void *rd_artifact_head(const rd_artifact *a, size_t *n);

/* The database name a pg_dump archive's header records (custom format, or a
 * directory dump's toc.dat), from its first bytes (heap). RD_ERR_FORMAT for
 * anything but a well-formed header ("not a pg_dump archive (no PGDMP
 * header)", "... truncated or damaged"), RD_ERR_UNSUPPORTED for archive
 * versions before 1.4, RD_ERR_NOTFOUND when the archive records none. */
rd_status rd_pg_archive_dbname(const void *head, size_t n, char **out, rd_error *err);
/* Hex digest of the raw bytes once the end was reached, else NULL. */
const char *rd_artifact_sha256(const rd_artifact *a);
/* With opts.md5: the base64 MD5 of the raw bytes (as S3 and DynamoDB's
 * export manifests give it) once the end was reached, else NULL. */
const char *rd_artifact_md5(const rd_artifact *a);
void rd_artifact_free(rd_artifact *a);

/* --- the decoder under rd_artifact (harness/artifact/artifact_decode.c) ---
 * A source fills buf with up to cap raw bytes; *n = 0 at the end. */
typedef rd_status (*rd_source_fn)(void *ctx, void *buf, size_t cap, size_t *n, rd_error *err);
typedef struct rd_decoder rd_decoder; /* opaque */
/* A decoder for wrap (none/gzip/zstd) that first consumes the n prefill bytes
 * (raw bytes already read for detection), then pulls from a source. name is
 * used in messages ("corrupt gzip stream in NAME: ..."). */
rd_status rd_decoder_new(rd_wrap wrap, const char *name, const void *prefill, size_t n,
                         rd_decoder **out, rd_error *err);
/* Decoded bytes into buf; *n = 0 at the clean end. RD_ERR_INTEGRITY "corrupt
 * gzip stream in NAME: <zlib msg>", "truncated gzip stream in NAME", "corrupt
 * zstd stream in NAME: <zstd msg>", "truncated zstd stream in NAME"; source
 * errors are passed through. */
rd_status rd_decoder_read(rd_decoder *d, rd_source_fn src, void *ctx, void *buf, size_t cap,
                          size_t *n, rd_error *err);
void rd_decoder_free(rd_decoder *d); /* NULL is a no-op */

#endif
