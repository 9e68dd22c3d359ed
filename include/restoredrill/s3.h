/* s3.h: a small S3 client over libcurl (SigV4 signing by CURLOPT_AWS_SIGV4):
 * list (ListObjectsV2, ListObjectVersions), HEAD, streamed GET with Range
 * resume, PUT, multipart upload, CopyObject, DeleteObject; credentials from
 * the standard chain (environment, profile, container endpoint, IMDSv2),
 * never from the configuration, and refreshed before they expire.
 *
 * Errors never hold a secret: an S3 error reads
 * "s3 GET s3://bucket/key: 404 NoSuchKey: The specified key does not exist."
 * (RD_ERR_NOTFOUND for 404, RD_ERR_REFUSED for 403 and signature errors,
 * RD_ERR_NET otherwise). Transient failures (5xx, 429, SlowDown, timeouts,
 * connection errors) are retried with exponential backoff and full jitter. */
#ifndef RESTOREDRILL_S3_H
#define RESTOREDRILL_S3_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"

typedef struct rd_s3_opts {
    const char *endpoint; /* "https://s3.eu-west-1.amazonaws.com"; NULL: AWS_ENDPOINT_URL_S3,
                             AWS_ENDPOINT_URL, else https://s3.<region>.amazonaws.com */
    const char *region;   /* NULL: AWS_REGION, AWS_DEFAULT_REGION, the profile's, us-east-1 */
    int path_style;       /* 1: endpoint/bucket/key; 0: bucket.endpoint/key; -1: automatic
                             (path style when the endpoint's host is an IP address or localhost) */
    int max_attempts;     /* per request, transient failures included; 0: 5 */
    double timeout;       /* seconds without any byte moving before a transfer fails; 0: 60 */
} rd_s3_opts;

typedef struct rd_s3 rd_s3; /* opaque; one per thread (a request at a time) */

/* A client. Credentials are looked up at the first request (so that a
 * config can be validated without them). RD_ERR_CONFIG for a malformed
 * endpoint. *out is owned by the caller. */
rd_status rd_s3_new(const rd_s3_opts *opts, rd_s3 **out, rd_error *err);
void rd_s3_free(rd_s3 *s); /* NULL is a no-op */
/* The region requests are signed for (borrowed, valid until rd_s3_free). */
const char *rd_s3_region(const rd_s3 *s);

/* 1 when s starts with "s3://". */
int rd_s3_is_url(const char *s);
/* Split "s3://bucket/key" (key may be empty or end in '/'). *bucket and *key
 * are heap strings for the caller. RD_ERR_CONFIG "expected s3://bucket/key,
 * got \"...\"" for anything else. */
rd_status rd_s3_url_split(const char *url, char **bucket, char **key, rd_error *err);

typedef struct rd_s3_object {
    char *key;             /* decoded */
    int64_t size;          /* bytes */
    int64_t mtime_ms;      /* LastModified */
    char *etag;            /* with its quotes removed; NULL when absent */
    char *version_id;      /* versions only, else NULL */
    int is_latest;         /* versions only */
    int delete_marker;     /* versions only: a delete marker (size 0) */
    char *checksum_sha256; /* rd_s3_head_ex with want_checksum: x-amz-checksum-sha256 (base64;
                              "...-N" for a composite multipart checksum), else NULL */
} rd_s3_object;

typedef struct rd_s3_objects {
    rd_s3_object *items;
    size_t n;
} rd_s3_objects;

void rd_s3_objects_free(rd_s3_objects *l); /* frees the items; l itself is the caller's */
void rd_s3_object_clear(rd_s3_object *o);

/* Every object under prefix (NULL: the whole bucket), all pages of
 * ListObjectsV2 with encoding-type=url, in key order. */
rd_status rd_s3_list(rd_s3 *s, const char *bucket, const char *prefix, rd_s3_objects *out,
                     rd_error *err);
/* Every version and delete marker under prefix (ListObjectVersions), all pages. */
rd_status rd_s3_list_versions(rd_s3 *s, const char *bucket, const char *prefix, rd_s3_objects *out,
                              rd_error *err);

/* HEAD: size, LastModified, ETag (version_id when the bucket is versioned).
 * RD_ERR_NOTFOUND "s3 HEAD s3://b/k: 404 NotFound" when absent. */
rd_status rd_s3_head(rd_s3 *s, const char *bucket, const char *key, rd_s3_object *out,
                     rd_error *err);

/* HEAD of one version (version_id NULL: the current one); want_checksum
 * sends x-amz-checksum-mode: ENABLED so that S3 returns the object's
 * x-amz-checksum-sha256 where it has one (out->checksum_sha256). */
rd_status rd_s3_head_ex(rd_s3 *s, const char *bucket, const char *key, const char *version_id,
                        int want_checksum, rd_s3_object *out, rd_error *err);

/* Receives a streamed body; a non-OK status stops the transfer and is returned. */
typedef rd_status (*rd_s3_sink_fn)(void *ctx, const void *buf, size_t n, rd_error *err);

typedef struct rd_s3_get_opts {
    uint64_t offset;        /* first byte (Range: bytes=offset-) */
    uint64_t length;        /* 0: to the end; else Range: bytes=offset-(offset+length-1) */
    const char *version_id; /* NULL: the current version */
    volatile int *cancel;   /* non-NULL and set: the transfer stops with RD_ERR_ABORTED */
} rd_s3_get_opts;

/* Stream an object into sink with flat memory. A connection cut mid-object
 * is resumed with a Range request from the byte reached, pinned to the
 * first response's ETag (If-Match), so the sink sees every byte exactly once
 * in order. *bytes (may be NULL) is what the sink received. */
rd_status rd_s3_get(rd_s3 *s, const char *bucket, const char *key, const rd_s3_get_opts *o,
                    rd_s3_sink_fn sink, void *ctx, uint64_t *bytes, rd_error *err);
/* A whole small object into a heap string (NUL-terminated, *len bytes);
 * RD_ERR_NOMEM "s3://b/k is larger than N bytes" past max. */
rd_status rd_s3_get_mem(rd_s3 *s, const char *bucket, const char *key, size_t max, char **data,
                        size_t *len, rd_error *err);

/* PUT a buffer (single request; up to 5 GiB by S3's rules). */
rd_status rd_s3_put(rd_s3 *s, const char *bucket, const char *key, const void *data, size_t len,
                    rd_error *err);
/* Server-side copy (CopyObject, up to 5 GiB). */
rd_status rd_s3_copy(rd_s3 *s, const char *src_bucket, const char *src_key, const char *dst_bucket,
                     const char *dst_key, rd_error *err);
/* The same from one version of the source (src_version NULL: the current
 * one): x-amz-copy-source "/bucket/key?versionId=V", the key URI-encoded. */
rd_status rd_s3_copy_version(rd_s3 *s, const char *src_bucket, const char *src_key,
                             const char *src_version, const char *dst_bucket, const char *dst_key,
                             rd_error *err);
/* CopyObject's limit: larger objects need UploadPartCopy (not implemented). */
#define RD_S3_COPY_MAX ((int64_t)5 * 1024 * 1024 * 1024)
/* DeleteObject (a missing key is not an error, as in S3). */
rd_status rd_s3_delete(rd_s3 *s, const char *bucket, const char *key, rd_error *err);
/* DeleteObject of one version (DELETE ?versionId=V): removes it for good,
 * a delete marker too; version_id NULL is rd_s3_delete. */
rd_status rd_s3_delete_version(rd_s3 *s, const char *bucket, const char *key,
                               const char *version_id, rd_error *err);

/* Multipart upload with flat memory: bytes written are buffered into parts
 * of part_size (0: 8 MiB, at least 5 MiB) and each full part is uploaded
 * at once. finish completes the upload (an object of less than one part is
 * sent as one part). On any failure, and on abort, the upload is aborted so
 * that no partial object stays behind. */
typedef struct rd_s3_upload rd_s3_upload; /* opaque; borrows the client */
rd_status rd_s3_upload_begin(rd_s3 *s, const char *bucket, const char *key, size_t part_size,
                             rd_s3_upload **out, rd_error *err);
rd_status rd_s3_upload_write(rd_s3_upload *u, const void *buf, size_t n, rd_error *err);
/* Completes and frees u (also on failure, after aborting the upload). */
rd_status rd_s3_upload_finish(rd_s3_upload *u, rd_error *err);
/* Aborts the upload on the server and frees u; NULL is a no-op. */
void rd_s3_upload_abort(rd_s3_upload *u);

/* --- building blocks, public for the tests --- */
/* Canonical URI of a key: each '/'-separated segment percent-encoded
 * (unreserved A-Z a-z 0-9 - . _ ~ kept, "%2B" for '+', uppercase hex).
 * Heap string, NULL on allocation failure. */
char *rd_s3_uri_encode(const char *s, int keep_slash);

/* A canonical query string: pairs sorted by name, then value, both
 * URI-encoded; a NULL value gives "name=". names/values hold n entries. */
char *rd_s3_canonical_query(const char *const *names, const char *const *values, size_t n);

/* The request URL for bucket/key (+ "?" query): virtual-hosted or path style
 * as the client decides. Heap string or NULL. */
char *rd_s3_request_url(const rd_s3 *s, const char *bucket, const char *key, const char *query);

/* Code and Message of an S3 <Error> document (empty strings when absent). */
void rd_s3_xml_error(const char *xml, size_t len, char *code, size_t codesz, char *msg,
                     size_t msgsz);
/* Append the <Contents> (versions: <Version> and <DeleteMarker>) of one
 * listing page to out, keys decoded when EncodingType is url; *next is the
 * continuation token (versions: the key marker), heap, NULL at the end;
 * *next_version the version-id marker (versions only, may be NULL).
 * RD_ERR_FORMAT for a document that is not a listing. */
rd_status rd_s3_xml_list(const char *xml, size_t len, int versions, rd_s3_objects *out, char **next,
                         char **next_version, rd_error *err);

/* Resolve credentials now (the chain, or the cached ones while they are
 * valid): *source names where they came from ("environment", "profile x",
 * "container credentials endpoint", "instance metadata service (IMDSv2)"),
 * borrowed until the next request; *expires_ms 0 when they do not expire. */
rd_status rd_s3_credentials(rd_s3 *s, const char **source, int64_t *expires_ms, rd_error *err);

/* Fix the signing date ("20130524T000000Z") and the credentials, for the
 * unit test of the published SigV4 example; NULL restores the normal chain. */
void rd_s3_set_test_signing(rd_s3 *s, const char *amz_date, const char *access_key,
                            const char *secret_key, const char *session_token);
/* Send every connection to another address ("host:port:127.0.0.1:port", as
 * CURLOPT_CONNECT_TO), keeping the Host header; NULL: none. For tests. */
void rd_s3_set_test_connect(rd_s3 *s, const char *connect_to);
/* One request with extra headers ("Range: bytes=0-9"), body discarded;
 * *status is the HTTP status. For tests. */
rd_status rd_s3_raw_get(rd_s3 *s, const char *bucket, const char *key, const char *const *headers,
                        long *status, rd_error *err);

#endif
