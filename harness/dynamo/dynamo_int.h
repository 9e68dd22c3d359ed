/* dynamo_int.h: what the files of harness/dynamo/ share: the walk over an
 * export's data files and the readers of lines and scan items. */
#ifndef RESTOREDRILL_DYNAMO_INT_H
#define RESTOREDRILL_DYNAMO_INT_H

#include <stdint.h>

#include "restoredrill/dynamo.h"

/* One data file of an export as manifest-files.json names it. */
typedef struct rd_dyn_file {
    const char *name;       /* relative to the export directory: "data/x.json.gz" */
    const char *path;       /* on disk */
    int64_t manifest_items; /* itemCount, -1 when absent */
    const char *md5;        /* md5Checksum (base64), NULL when absent */
} rd_dyn_file;

typedef rd_status (*rd_dyn_file_fn)(void *ud, const rd_dyn_file *f, rd_error *err);
/* Each line of <dir>/manifest-files.json, its key resolved against dir: the
 * part after "AWSDynamoDB/<id>/" when the key holds it, else the key itself
 * when relative ("data/..."), never a path with "..". RD_ERR_FORMAT naming
 * the line for a line that does not parse or names no file. */
rd_status rd_dyn_export_files(const char *dir, const rd_s3_opts *s3, rd_dyn_file_fn fn, void *ud,
                              rd_error *err);

/* How a file is read: the decrypt filter (NULL: none), the S3 options of
 * s3:// paths (NULL: defaults), the deadline (0: none), and md5: when not
 * NULL, receives the base64 MD5 of the stored bytes once the whole file was
 * read (32 bytes; "" when the read stopped early). */
typedef struct rd_dyn_read {
    const char *const *decrypt;
    const rd_s3_opts *s3;
    double deadline;
    char *md5;
} rd_dyn_read;

/* Decoded lines (without "\n", NUL-terminated, valid during the call) of a
 * file, gunzipped and decrypted as needed. lineno counts from 1. */
typedef rd_status (*rd_dyn_line_fn)(void *ud, char *line, size_t n, size_t lineno, rd_error *err);
rd_status rd_dyn_file_lines(const char *path, const rd_dyn_read *r, rd_dyn_line_fn fn, void *ud,
                            rd_error *err);

/* The base64 MD5 of an object's stored bytes, streamed (32 bytes). */
rd_status rd_dyn_s3_md5(const char *url, const rd_s3_opts *s3, char md5[32], rd_error *err);

/* The items of a scan file ({"Items": [{...}, ...]}), each as its JSON text
 * (NUL-terminated, valid during the call). index counts from 1.
 * RD_ERR_FORMAT "FILE: no \"Items\" array" / "FILE: truncated after item N". */
rd_status rd_dyn_scan_items(const char *path, const rd_dyn_read *r, rd_dyn_line_fn fn, void *ud,
                            rd_error *err);

/* The attribute map inside an export line {"Item": {...}}: its text span.
 * 0 when the line has not that shape. */
int rd_dyn_line_item(const char *line, size_t n, const char **item, size_t *len);

/* --- key uniqueness with flat memory (dynamo_keys.c) --- */
#define RD_DYN_KEYS_RUN ((size_t)1 << 18) /* records a run: 4 MiB of memory */
typedef struct rd_dyn_keyset rd_dyn_keyset;
/* A key set whose files live in a new private directory dynkeys-XXXXXX in
 * base (NULL: $TMPDIR, else /tmp). run_items: records sorted in memory
 * (0: RD_DYN_KEYS_RUN); fp_bits: bits of fingerprint kept (0: 64; fewer
 * only for tests, to force collisions). */
rd_status rd_dyn_keyset_new(const char *base, size_t run_items, unsigned fp_bits,
                            rd_dyn_keyset **out, rd_error *err);
/* One key (its canonical text) and where it was seen ("data/x line 5"). */
rd_status rd_dyn_keyset_add(rd_dyn_keyset *k, const char *key, size_t keylen, const char *where,
                            rd_error *err);
/* Every key seen before (the same bytes) is handed to fn with its where,
 * in fingerprint order; fingerprint collisions between different keys are
 * resolved by comparing the keys. Call once. */
typedef void (*rd_dyn_dup_fn)(void *ud, const char *where, const char *key);
rd_status rd_dyn_keyset_finish(rd_dyn_keyset *k, rd_dyn_dup_fn fn, void *ud, rd_error *err);
/* Closes and removes the files; NULL is a no-op. */
void rd_dyn_keyset_free(rd_dyn_keyset *k);

/* CreateTable with req (consumed: TableName and BillingMode already in it),
 * then wait until the table is ACTIVE. */
struct cJSON;
rd_status rd_dyn_create_table_req(rd_dyn_client *c, const char *table, struct cJSON *req,
                                  double deadline, rd_error *err);

#endif
