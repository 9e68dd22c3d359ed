/* dynamo.h: DynamoDB recovery points and a small DynamoDB JSON-API client:
 * items in DynamoDB JSON and their canonical form and digest, exports in the
 * AWSDynamoDB/<export id>/ layout and scan files ({"Items": [...]}, gzipped,
 * gpg-encrypted through the decrypt filter) read, verified and streamed, and
 * the client (libcurl, SigV4) that loads a table with BatchWriteItem and
 * reads it back with a parallel Scan. */
#ifndef RESTOREDRILL_DYNAMO_H
#define RESTOREDRILL_DYNAMO_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

struct cJSON;

/* --- items (harness/dynamo/dynamo_item.c) --- */

/* An order-independent digest of a set of items: the sum, lane by lane
 * (mod 2^64), of the sha256 of each item's canonical form, and the count.
 * Equal item multisets give equal digests whatever the order. */
typedef struct rd_dyn_digest {
    uint64_t lane[4];
    int64_t items;
} rd_dyn_digest;

/* The canonical text of a number as DynamoDB compares them: "-0012.50" and
 * "-1.25E1" are both "-125e-1"; zero is "0". RD_ERR_FORMAT "invalid number
 * \"x\"" for text that is not a number. */
rd_status rd_dyn_number_canon(const char *in, rd_strbuf *out, rd_error *err);
/* Append the canonical form of an attribute map (an item, the value of
 * "Item" in an export line) to out: attributes sorted by name, numbers
 * normalised, the members of SS/NS/BS sorted. RD_ERR_FORMAT names what is
 * wrong: "attribute \"a\": unknown type descriptor \"X\"". */
rd_status rd_dyn_item_canon(const struct cJSON *item, rd_strbuf *out, rd_error *err);
/* Add one canonical item / merge two digests. */
void rd_dyn_digest_add(rd_dyn_digest *d, const char *canon, size_t n);
void rd_dyn_digest_merge(rd_dyn_digest *d, const rd_dyn_digest *o);
/* 64 hex digits and a NUL into out. */
void rd_dyn_digest_hex(const rd_dyn_digest *d, char out[65]);

/* --- exports and scan files (harness/dynamo/dynamo_export.c, dynamo_verify.c) --- */

typedef enum rd_dyn_kind {
    RD_DYN_EXPORT = 1, /* a directory AWSDynamoDB/<id>/ with manifest-summary.json */
    RD_DYN_SCAN        /* one file {"Items": [...]}, maybe gzipped / gpg-encrypted */
} rd_dyn_kind;

/* "export" or "scan" for a location (a directory holding
 * manifest-summary.json is an export; any other file a scan); 0 when it
 * does not exist. An s3:// location is an export when it names the export's
 * own prefix (s3://bucket/pfx/AWSDynamoDB/<id>, no trailing '/'), else a
 * scan file; nothing is sent to S3. */
rd_dyn_kind rd_dyn_kind_of(const char *location);

/* Call fn for every item of a recovery point, in file order: item is the
 * attribute map's JSON text (n bytes, not NUL-terminated, valid during the
 * call). decrypt: argv of the decrypt filter for scan files, or NULL.
 * Export data files are read as manifest-files.json names them (resolved
 * against the export's own directory, or its own prefix in S3). s3: the
 * endpoint, region and path style of s3:// locations (NULL: defaults); they
 * are streamed with flat memory. fn's error stops the walk and is returned.
 * Unparseable input is RD_ERR_FORMAT naming the file and line. */
typedef rd_status (*rd_dyn_item_fn)(void *ud, const char *item, size_t n, rd_error *err);
rd_status rd_dyn_each_item(const char *location, const char *const *decrypt, const rd_s3_opts *s3,
                           double deadline, rd_dyn_item_fn fn, void *ud, rd_error *err);

/* What verifying a recovery point found. Strings heap, owned. */
typedef struct rd_dyn_verify {
    rd_dyn_kind kind;
    int64_t export_time_ms;    /* exportTime of the summary, 0 for scans */
    int64_t manifest_items;    /* itemCount of the summary, -1 for scans */
    int64_t items;             /* items read (lines that parsed) */
    size_t files, files_bad;   /* data files; those whose MD5 or count differ */
    size_t parse_errors;       /* lines or items that do not parse */
    size_t duplicate_keys;     /* items whose key an earlier item had */
    size_t key_errors;         /* items without a key attribute or with a non-scalar one */
    char key_type[2];          /* 'S' 'N' 'B' of each key attribute as first seen; 0 unknown */
    rd_strlist key;            /* the key attributes checked (set by the drill: `key`, else the
                                  table description's) */
    struct cJSON *description; /* reference.description's Table object, or NULL (the drill's) */
    rd_dyn_digest digest;      /* of every item that parsed */
    /* one line per finding ("data/x.json.gz: md5 mismatch: manifest ..., file ..."),
     * capped; the first of each kind below */
    rd_strbuf findings;
    char *first_md5, *first_count, *first_parse, *first_key;
} rd_dyn_verify;

/* Read the whole point: every data file's MD5 and item count against
 * manifest-files.json, the total against the summary's itemCount, every
 * line parsed and canonicalised into the digest, key uniqueness for the key
 * attributes (1 or 2 names) with memory independent of the item count (the
 * keys go to sorted runs in a private directory in tmpdir, NULL: $TMPDIR,
 * removed before returning). Findings are not errors: RD_OK with them in
 * *out; an error only when the point cannot be read at all (no manifest, a
 * decrypt filter that fails, the deadline). *out is the caller's
 * (rd_dyn_verify_free) and written on success only. */
rd_status rd_dyn_verify_point(const char *location, const char *const *decrypt,
                              const rd_s3_opts *s3, const rd_strlist *key, const char *tmpdir,
                              double deadline, rd_dyn_verify *out, rd_error *err);
void rd_dyn_verify_free(rd_dyn_verify *v); /* the contents; harmless twice */

/* The summary of an export directory or s3:// export prefix (for
 * catalogs): exportTime (ms) and itemCount. RD_ERR_NOTFOUND / RD_ERR_FORMAT
 * naming the file; S3 errors as s3.h gives them. */
rd_status rd_dyn_export_summary(const char *dir, const rd_s3_opts *s3, int64_t *time_ms,
                                int64_t *items, rd_error *err);

/* --- the client (harness/dynamo/dynamo_client.c, dynamo_load.c) --- */

typedef struct rd_dyn_client rd_dyn_client; /* opaque; one thread at a time */

/* A client for endpoint ("http://127.0.0.1:4567"), signing with SigV4 for
 * region (NULL: from an endpoint dynamodb.<region>.amazonaws.com, else
 * "us-east-1") with access/secret (a local emulator takes any). Nothing is
 * sent yet. *out is the caller's. */
rd_status rd_dyn_client_new(const char *endpoint, const char *region, const char *access,
                            const char *secret, rd_dyn_client **out, rd_error *err);
void rd_dyn_client_free(rd_dyn_client *c); /* NULL is a no-op */
/* One call: POST body to operation op ("Scan"). On HTTP 200 *out is the
 * response (cJSON_Delete); else RD_ERR_PROC "dynamodb Op: Type: message"
 * (RD_ERR_TIMEOUT when the endpoint does not answer in timeout seconds). */
rd_status rd_dyn_call(rd_dyn_client *c, const char *op, const char *body, double timeout,
                      struct cJSON **out, rd_error *err);
/* Create a table keyed on key (names) of types key_type ('S' 'N' 'B'),
 * on-demand billing, and wait until it is ACTIVE. */
rd_status rd_dyn_create_table(rd_dyn_client *c, const char *table, const rd_strlist *key,
                              const char key_type[2], double deadline, rd_error *err);
rd_status rd_dyn_delete_table(rd_dyn_client *c, const char *table, rd_error *err);

typedef struct rd_dyn_load_stats {
    int64_t items;    /* items written */
    int64_t requests; /* BatchWriteItem calls, retries included */
    int64_t retried;  /* items sent again from UnprocessedItems */
} rd_dyn_load_stats;

/* Write every item of the point into table with BatchWriteItem: 25 items a
 * request, `workers` requests in flight (1..64), UnprocessedItems sent
 * again with exponential backoff until the deadline. Memory stays bounded
 * (a queue of 2 * workers requests). */
rd_status rd_dyn_load(const char *endpoint, const char *region, const char *table,
                      const char *location, const char *const *decrypt, const rd_s3_opts *s3,
                      int workers, double deadline, rd_dyn_load_stats *stats, rd_error *err);

/* Read the whole table back with a parallel Scan of `segments` segments
 * (1..64): the count and the digest of the canonical items. */
rd_status rd_dyn_scan_digest(const char *endpoint, const char *region, const char *table,
                             int segments, double deadline, rd_dyn_digest *out, rd_error *err);

/* The newest instant among the values of one attribute over the whole table
 * (a parallel Scan reading only that attribute): an S value is a timestamp
 * (ISO 8601, UTC without an offset), an N value epoch seconds (below 1e11)
 * or milliseconds. *found is 0 when no item has a usable value. */
rd_status rd_dyn_scan_newest(const char *endpoint, const char *region, const char *table,
                             const char *attribute, int segments, double deadline, int64_t *ms,
                             int *found, rd_error *err);
/* One attribute value as an instant (rules above); 1 when it is one. */
int rd_dyn_time_value(const struct cJSON *v, int64_t *ms);

/* --- table descriptions (harness/dynamo/dynamo_schema.c) ---
 * A description is the "Table" object of a DescribeTable answer: KeySchema,
 * AttributeDefinitions, GlobalSecondaryIndexes, LocalSecondaryIndexes. */

/* The table's description (DescribeTable); *out the "Table" object
 * (cJSON_Delete). RD_ERR_PROC "dynamodb DescribeTable: ResourceNotFoundException: ..." */
rd_status rd_dyn_describe_table(rd_dyn_client *c, const char *table, double timeout,
                                struct cJSON **out, rd_error *err);
/* Read a captured description from path: {"Table": {...}} (what DescribeTable
 * answers, what `restoredrill manifest --engine dynamodb` writes) or the Table
 * object itself. RD_ERR_FORMAT "PATH: no \"KeySchema\" with a HASH key",
 * "PATH: key attribute \"x\" is not in \"AttributeDefinitions\"". */
rd_status rd_dyn_description_load(const char *path, struct cJSON **out, rd_error *err);
/* RD_OK when table has a HASH key and its key attributes are defined;
 * what names it in the message. */
rd_status rd_dyn_description_check(const struct cJSON *table, const char *what, rd_error *err);
/* The key a description gives: [hash] or [hash, range], and their types
 * ('S' 'N' 'B'). *key is the caller's (rd_strlist_free). */
rd_status rd_dyn_description_key(const struct cJSON *table, rd_strlist *key, char key_type[2],
                                 rd_error *err);
/* Create table like the description (its key schema, attribute definitions,
 * secondary indexes with their keys and projections; on-demand billing) and
 * wait until it is ACTIVE. */
rd_status rd_dyn_create_table_like(rd_dyn_client *c, const char *table, const struct cJSON *desc,
                                   double deadline, rd_error *err);
/* The differences between a captured description and the restored table's:
 * key schema, attribute definitions, each secondary index (present, key,
 * projection), one line each ("global secondary index by_status projection:
 * description ALL, restored KEYS_ONLY\n") appended to out. Returns their count. */
size_t rd_dyn_schema_diff(const struct cJSON *want, const struct cJSON *got, rd_strbuf *out);

/* The region of an endpoint: "https://dynamodb.eu-west-1.amazonaws.com" ->
 * "eu-west-1" (in buf), anything else "us-east-1" (static). */
const char *rd_dyn_endpoint_region(const char *endpoint, char *buf, size_t cap);

/* Credentials for an endpoint: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
 * when set, else a placeholder pair that local emulators accept. */
void rd_dyn_credentials(const char **access, const char **secret);

#endif
