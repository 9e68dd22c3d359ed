/* s3set.h: object sets for engine s3 (DESIGN section 11, "Other stores";
 * docs/s3-objects.md): the objects under a prefix as a sorted set of keys
 * relative to it, the listing captured at backup time (JSON lines of key,
 * size, sha256), a versioned bucket as of a time, and the comparison of a
 * restored copy with what was expected (missing, extra, changed objects).
 *
 * Prefixes that end in '/' are listed with the prefix up to that '/' (the
 * keys are then filtered to the prefix): the same objects, and a request
 * that every S3 implementation signs alike (moto 5.2.1 refuses correctly
 * signed listings whose prefix holds a '/'). */
#ifndef RESTOREDRILL_S3SET_H
#define RESTOREDRILL_S3SET_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

typedef struct rd_s3set_entry {
    char *key;        /* relative to the set's prefix */
    int64_t size;     /* bytes */
    int64_t mtime_ms; /* LastModified; 0 unknown */
    char sha256[65];  /* lowercase hex; "" unknown */
    char md5[33];     /* lowercase hex: the content's MD5 (listing) or an ETag of that form
                         (S3 listings); "" unknown */
    char *version_id; /* versioned sets: the version restored, else NULL */
} rd_s3set_entry;

typedef struct rd_s3set {
    rd_s3set_entry *items; /* sorted by key (bytes) */
    size_t n;
} rd_s3set;

void rd_s3set_free(rd_s3set *s); /* frees the items; s itself is the caller's */
/* The entry of key, or NULL (binary search: the set must be sorted). */
const rd_s3set_entry *rd_s3set_find(const rd_s3set *s, const char *key);
/* Sort by key; RD_ERR_FORMAT "duplicate key \"k\"" when a key repeats. */
rd_status rd_s3set_sort(rd_s3set *s, rd_error *err);

/* The objects under prefix (NULL or "": the bucket), keys relative to it,
 * size, LastModified, md5 from an ETag that is 32 hex digits. Sorted. */
rd_status rd_s3set_list(rd_s3 *s, const char *bucket, const char *prefix, rd_s3set *out,
                        rd_error *err);
/* Every version and delete marker under prefix (versions keep their full keys). */
rd_status rd_s3set_list_versions(rd_s3 *s, const char *bucket, const char *prefix,
                                 rd_s3_objects *out, rd_error *err);

/* The set as of target_ms from a version listing: for each key under prefix
 * the newest version with LastModified at or before the target (ties: the
 * one S3 lists first, the newer), absent when that is a delete marker.
 * *newest_ms (may be NULL) is the newest LastModified at or before the target,
 * delete markers included (0: none). Sorted. */
rd_status rd_s3set_as_of(const rd_s3_objects *versions, const char *prefix, int64_t target_ms,
                         rd_s3set *out, int64_t *newest_ms, rd_error *err);
/* The window of a version listing: oldest and newest LastModified (0 when empty). */
void rd_s3set_versions_window(const rd_s3_objects *versions, int64_t *oldest_ms,
                              int64_t *newest_ms);

/* The listing file: one JSON object per line,
 *   {"key": "photos/a.jpg", "size": 1234, "sha256": "<64 hex>", "md5": "<32 hex>",
 *    "last_modified": "2026-01-30T02:00:00.000Z"}
 * key, size and sha256 required, md5 and last_modified optional; blank
 * lines ignored. RD_ERR_FORMAT "NAME line 3: ..." naming the mistake. */
rd_status rd_s3set_listing_parse(const char *text, size_t len, const char *name, rd_s3set *out,
                                 rd_error *err);
rd_status rd_s3set_listing_load(const char *path, rd_s3set *out, rd_error *err);
/* One line (with its '\n') of e. */
rd_status rd_s3set_listing_line(rd_strbuf *out, const rd_s3set_entry *e, rd_error *err);

/* Stream one object (version_id NULL: the current one) and digest it:
 * sha256 (65 bytes) and md5 (33 bytes, may be NULL) as lowercase hex. */
rd_status rd_s3set_digest(rd_s3 *s, const char *bucket, const char *key, const char *version_id,
                          char *sha256, char *md5, uint64_t *bytes, rd_error *err);
/* The listing of the objects under prefix, each streamed and digested
 * (what `restoredrill manifest --engine s3` writes). Sorted. */
rd_status rd_s3set_capture(rd_s3 *s, const char *bucket, const char *prefix, rd_s3set *out,
                           rd_error *err);

/* x-amz-checksum-sha256 (base64 of 32 bytes) as hex; 0 when it is not a
 * whole-object sha256 (absent, composite "...-N", malformed). */
int rd_s3set_checksum_hex(const char *b64, char *hex);

/* A restored copy compared with what was expected. */
typedef struct rd_s3set_diff {
    size_t expected, actual;                /* objects */
    size_t missing, extra, changed;         /* counts */
    size_t by_etag, by_checksum, by_stream; /* how equal digests were established */
    rd_strbuf findings;                     /* one line per finding: "missing: k", "extra: k",
                                               "changed: k: size 3, expected 4" / ": sha256 x..., expected y..." */
    char first[512];                        /* the first finding, "" when none */
} rd_s3set_diff;
void rd_s3set_diff_init(rd_s3set_diff *d);
void rd_s3set_diff_free(rd_s3set_diff *d);

/* Where the copy is, and (for expected entries without a sha256: versioned
 * sets) where their source is, to digest it when the ETags do not settle it. */
typedef struct rd_s3set_where {
    const char *bucket, *prefix;         /* the restored copy */
    const char *src_bucket, *src_prefix; /* the source (its version_id per entry) */
} rd_s3set_where;

/* Compare expected with the objects under w->prefix: count, keys, sizes,
 * digests (for each key: an MD5 ETag equal to the expected MD5; else
 * x-amz-checksum-sha256 equal to the expected sha256; else the copy streamed
 * and digested). RD_OK when the comparison ran (whatever it found). */
rd_status rd_s3set_compare(rd_s3 *s, const rd_s3set *expected, const rd_s3set_where *w,
                           double deadline, rd_s3set_diff *d, rd_error *err);

/* What a drill of an object set compares with (engine s3): filled by the
 * fetch, read by the checks rowcount and checksum. */
typedef struct rd_s3set_target {
    rd_s3set expected;     /* the listing, or the versions as of the target */
    char *basis;           /* "the listing FILE" / "the versions as of TIME" */
    char *src_bucket;      /* the point */
    char *src_prefix;      /* its prefix ("" for a whole bucket) */
    char *bucket, *prefix; /* the copy (set by the restore) */
    const char *endpoint;  /* the catalog's (borrowed) */
    const char *region;    /* the catalog's (borrowed) */
    int path_style;
} rd_s3set_target;
void rd_s3set_target_free(rd_s3set_target *t); /* the fields; t itself is the caller's */

#endif
