/* loc.h: a location a catalog reads files from: a local directory or an
 * s3://bucket/prefix. The physical catalogs (pg-archive, mariabackup) and
 * their restores list, read and fetch their files through it, so their
 * directories may live in S3.
 *
 * An S3 location is listed once (ListObjectsV2 of the whole prefix, all
 * pages) and the listing is kept: "directories" are the common prefixes of
 * the keys, a directory's mtime is the newest LastModified below it. Names
 * starting with '.' are skipped, as for local directories. */
#ifndef RESTOREDRILL_LOC_H
#define RESTOREDRILL_LOC_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/s3.h"

typedef struct rd_loc rd_loc; /* opaque; one per thread */

typedef struct rd_loc_entry {
    char *name;       /* a direct child's name */
    int is_dir;       /* a directory (S3: a common prefix) */
    int64_t size;     /* bytes; directories 0 */
    int64_t mtime_ms; /* modification time (S3: LastModified, the newest below a directory) */
} rd_loc_entry;

typedef struct rd_loc_entries {
    rd_loc_entry *items; /* sorted by name (bytes) */
    size_t n;
} rd_loc_entries;

void rd_loc_entries_free(rd_loc_entries *l); /* the items; l itself is the caller's */

/* A location: a directory path, or "s3://bucket/prefix" (a '/' is added to
 * a non-empty prefix) with the client options o (may be NULL). key names the
 * setting in messages ("catalog.wal_dir"). RD_ERR_CONFIG "KEY: expected
 * s3://bucket/key, got ..." for a malformed URL. Nothing is read yet. */
rd_status rd_loc_open(const char *where, const char *key, const rd_s3_opts *o, rd_loc **out,
                      rd_error *err);
void rd_loc_free(rd_loc *l); /* NULL is a no-op */
int rd_loc_is_s3(const rd_loc *l);
/* The location as configured, without a trailing '/' (borrowed). */
const char *rd_loc_where(const rd_loc *l);
/* where/rel (heap; "s3://bucket/prefix/rel" for S3), NULL on allocation failure. */
char *rd_loc_path(const rd_loc *l, const char *rel);

/* The direct children of rel (NULL or "": the location itself). Local:
 * RD_ERR_CONFIG "KEY: cannot read DIR: ..." when it cannot be read; S3: the
 * listing's error, or RD_ERR_CONFIG "KEY: s3://b/p holds no object" when the
 * prefix is empty (an empty directory cannot exist in S3). */
rd_status rd_loc_list(rd_loc *l, const char *rel, rd_loc_entries *out, rd_error *err);
/* The file or directory rel: 1 and *out filled (out may be NULL; out->name
 * is NULL) when it exists, 0 when not, -1 on error (err set). */
int rd_loc_stat(rd_loc *l, const char *rel, rd_loc_entry *out, rd_error *err);
/* The total size of the files below the directory rel (S3: from the
 * listing; local: RD_ERR_UNSUPPORTED, the caller walks the tree). */
rd_status rd_loc_du(rd_loc *l, const char *rel, int64_t *bytes, rd_error *err);
/* A whole small file into a heap string (NUL-terminated), at most max bytes. */
rd_status rd_loc_read(rd_loc *l, const char *rel, size_t max, char **data, size_t *len,
                      rd_error *err);
/* Stream the file rel into sink (S3: one streamed GET; local: read()).
 * *bytes (may be NULL) is what the sink received. */
rd_status rd_loc_stream(rd_loc *l, const char *rel, rd_s3_sink_fn sink, void *ctx, uint64_t *bytes,
                        rd_error *err);
/* A local file for rel: local locations give their own path (*copy = 0);
 * S3 downloads it to tmpdir/<base name of rel> (mode 0600, *copy = 1: the
 * caller removes it). *local heap. */
rd_status rd_loc_local(rd_loc *l, const char *rel, const char *tmpdir, char **local, int *copy,
                       rd_error *err);
/* Download the file rel to dst (mode 0600, written to dst.rdpart then
 * renamed; local: a copy). max > 0 stops after max bytes (a prefix of the
 * file: *truncated = 1 when it was longer; truncated may be NULL). */
rd_status rd_loc_fetch(rd_loc *l, const char *rel, const char *dst, uint64_t max, int *truncated,
                       rd_error *err);
/* Download every file below the directory rel into dstdir (created; files
 * 0600, directories 0700, the same relative paths); *bytes (may be NULL)
 * their total. Local: a tree copy. */
rd_status rd_loc_fetch_tree(rd_loc *l, const char *rel, const char *dstdir, uint64_t *bytes,
                            rd_error *err);

#endif
