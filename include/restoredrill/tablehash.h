/* tablehash.h: chunked table checksums computed inside the server.
 *
 * A table is cut into chunks of about chunk_rows rows by a keyset walk over
 * its key (single or composite): chunk i covers lo < key <= hi, the first has
 * no lo and the last no hi, so skewed keys never make giant chunks. A single
 * integer key whose values are evenly dense is cut into value ranges
 * instead, which saves the walk's scan: the width comes from the density
 * counted in three probe ranges (around 1/6, 1/2 and 5/6 of the key span), uneven probes fall
 * back to the walk, and a range that still holds more than twice
 * chunk_rows rows is cut again by the walk (unless opts->coarse_ok). Each
 * chunk is reduced inside the server to its row count and a digest: the sum
 * of 64-bit row hashes, so duplicates
 * count and only digests cross the wire. A table without a key is one chunk
 * (an order-independent multiset digest).
 *
 * Canonical row values (equal data gives equal digests, any change another):
 * PostgreSQL hashes ROW(...) with hash_record_extended where the column
 * type's hash is exact (integers, bool, bytea, dates and times, uuid, and
 * text under COLLATE "C") and the pinned text output of every other type
 * (numeric keeps its scale, floats all digits, json its text, jsonb its
 * canonical text, intervals their fields), then mixes the row hash with
 * hashint8extended so the chunk sum is not linear in the column hashes.
 * MariaDB builds R = CONCAT_WS(0x1f, null bits, lengths of the strings but
 * the last, non-string values, string values) once per row and hashes it
 * as CRC32(R) << 32 | CRC32C(R) (64 bits per row; R is passed to the second
 * CRC through a user variable), summed exactly (DECIMAL) per chunk.
 * Sessions are pinned (rd_db_pin_session:
 * UTC, ISO dates, full float digits, hex bytea, fixed sql_mode).
 *
 * Digests are comparable only between the same engine and the same column
 * list (the algorithm name says which). */
#ifndef RESTOREDRILL_TABLEHASH_H
#define RESTOREDRILL_TABLEHASH_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/error.h"
#include "restoredrill/strbuf.h"

struct cJSON;

#define RD_TH_CHUNK_ROWS_DEFAULT 100000
#define RD_TH_ALGO_PG "pg-hre64-v1"
/* v1 was "mariadb-crc32x2-v1" (two 32-bit sums of another row string):
 * manifests carrying it are refused (not this engine's algorithm). */
#define RD_TH_ALGO_MARIADB "mariadb-crc64-v2"

/* How a value of a column is written into SQL as a key literal. */
typedef enum rd_th_lit { RD_TH_LIT_QUOTED = 0, RD_TH_LIT_NUMBER, RD_TH_LIT_HEX } rd_th_lit;

typedef struct rd_th_column {
    char *name;
    char *type; /* as the catalog names it: "integer", "varchar(20)" */
    int nullable;
    char *hash_expr; /* the column's canonical expression inside the row hash */
    char *key_expr;  /* the column selected as a key value (text form) */
    rd_th_lit lit;
    int integer; /* an integer type (value ranges can cut the key) */
    /* PostgreSQL: the column's collation as "db:<datcollate>" (the
     * database's default) or "<schema>.<name>"; NULL when not collatable */
    char *collation;
    /* 1: the key column is compared and ordered under COLLATE "C" (the two
     * sides order it under different collations) */
    int collate_c;
} rd_th_column;

/* A described table (heap; rd_th_table_free). Sides: index 0 is the table
 * as described, index 1 its counterpart in a second database (same column
 * names) set with rd_th_table_other; both quoted names are ready for SQL. */
typedef struct rd_th_table {
    rd_engine engine;
    char *schema, *name; /* side 0 */
    char *display;       /* "public.orders" (PostgreSQL) / "orders" (MariaDB) */
    char *qname[2];      /* quoted, side 0 and side 1 (NULL until set) */
    rd_th_column *cols;
    size_t ncols;
    size_t *key; /* indexes into cols, key order */
    size_t nkey;
    char *row_hash;    /* the per-row hash expression (one 64-bit value) */
    char *digest_list; /* select list: count, then the sums */
    char *order_by;    /* "k1, k2" (quoted) */
    char *key_list;    /* key_expr list for select */
    int nhash;         /* hash columns of a leaf row (1) */
    /* MariaDB: R with every string's length, so that rows concatenated
     * parse back (ordered chunk digests); NULL on PostgreSQL */
    char *ordered_row;
    int ordered_side[2]; /* side 0 / 1 can have ordered digests: MariaDB, the key is its PK */
} rd_th_table;

/* Describe schema.name (schema NULL or "": the current one on MariaDB,
 * "public" on PostgreSQL) on db: columns in table order, key = the given
 * columns (key non-NULL with n > 0) else the primary key, else none.
 * RD_ERR_NOTFOUND "table x does not exist" / "key column c is not a column
 * of x". Pins db's session. */
rd_status rd_th_describe(rd_db *db, const char *schema, const char *name, const rd_strlist *key,
                         rd_th_table **out, rd_error *err);
/* Set side 1: the same table (or another name) on db2. Every column of side
 * 0 must exist there: RD_ERR_NOTFOUND "table x does not exist in the other
 * database", RD_ERR_INTEGRITY "column c of x is missing from the other
 * database". Pins db2's session. PostgreSQL: when a key column's collation
 * differs between the sides, every key column that has one is compared and
 * ordered under COLLATE "C" on both (the same chunk boundaries cut the
 * same rows on each side); with the same collation the key keeps it, so
 * the key's index serves the ranges. */
rd_status rd_th_table_other(rd_th_table *t, rd_db *db2, const char *schema, const char *name,
                            rd_error *err);
void rd_th_table_free(rd_th_table *t);
/* Algorithm name for t's engine (static). */
const char *rd_th_algorithm(const rd_th_table *t);

/* SQL builders (append to out). lo/hi are nkey key values in text form
 * (NULL array: open end). where: an extra condition, or NULL. */
rd_status rd_th_sql_range(rd_db *db, const rd_th_table *t, char *const *lo, char *const *hi,
                          const char *where, rd_strbuf *out, rd_error *err);
/* "SELECT count, sums FROM side's table WHERE range" */
rd_status rd_th_sql_digest(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                           char *const *hi, const char *where, rd_strbuf *out, rd_error *err);
/* MariaDB, the key being the primary key of both sides: the ordered chunk
 * digest (see rd_th_opts.ordered) in two statements on one connection.
 * This one is "SELECT count, CRC32(@rd_g := rows concatenated in key
 * order)"; rd_th_sql_ordered_tail then reads CRC32C(@rd_g) and whether
 * @rd_g is whole (shorter than the concatenation cap) and still the one
 * hashed: the digest is "crc32:crc32c", or "!" (never equal) for a cut
 * concatenation.
 * RD_ERR_UNSUPPORTED when t cannot have ordered digests. */
rd_status rd_th_sql_digest_ordered(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                                   char *const *hi, const char *where, rd_strbuf *out,
                                   rd_error *err);
/* "SELECT CRC32C(@rd_g), @rd_g is whole, CRC32(@rd_g) = crc32" (heap; NULL
 * when crc32 is not a CRC32 value): the second statement, which also
 * checks that @rd_g is what the first one hashed. */
char *rd_th_sql_ordered_tail(const char *crc32);
/* 1 when t can have ordered chunk digests. */
int rd_th_ordered_ok(const rd_th_table *t);
/* MariaDB: 1 when @rd_g := GROUP_CONCAT(...) leaves the whole aggregate in
 * @rd_g for the next statement on db's server, as ordered digests need; a
 * caller sets rd_th_opts.ordered only when both sides pass. */
int rd_th_ordered_self_test(rd_db *db);
/* Keyset step: the key of the n-th row after lo (lo excluded), within hi. */
rd_status rd_th_sql_step(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                         char *const *hi, int64_t n, rd_strbuf *out, rd_error *err);
/* "SELECT min(key), max(key), row estimate FROM side 0's table" (one
 * integer key; the estimate from the catalog, -1 or NULL when unknown). */
rd_status rd_th_sql_bounds(rd_db *db, const rd_th_table *t, rd_strbuf *out, rd_error *err);
/* "SELECT count(*) FROM side's table WHERE range" */
rd_status rd_th_sql_count(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                          char *const *hi, rd_strbuf *out, rd_error *err);
/* Leaf rows: key values then the row hash(es), ordered by the key. */
rd_status rd_th_sql_rows(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                         char *const *hi, const char *where, rd_strbuf *out, rd_error *err);

/* One side of a comparison. */
typedef struct rd_th_side {
    rd_db *db;              /* main connection (borrowed) */
    const char *dsn;        /* for worker connections; NULL: everything runs on db */
    const rd_db_opts *opts; /* for worker connections; may be NULL */
    /* db is inside a read-only transaction that workers must see: on
     * PostgreSQL they import its snapshot (pg_export_snapshot); on MariaDB
     * each starts its own consistent-snapshot read-only transaction. */
    int snapshot;
} rd_th_side;

struct rd_th_chunk;
/* Takes a finished chunk that differs between the two sides (it may move
 * c->lo / c->hi out, setting them NULL; the chunk is freed after). */
typedef rd_status (*rd_th_differ_fn)(void *ud, struct rd_th_chunk *c, rd_error *err);

typedef struct rd_th_opts {
    int64_t chunk_rows; /* 0: RD_TH_CHUNK_ROWS_DEFAULT */
    int parallel;       /* worker connections per side; 0: number of cores */
    const char *where;  /* extra row filter for digests and rows, or NULL */
    double timeout;     /* per query; 0: 3600 */
    /* 1: keep a value range that holds more than 2 x chunk_rows rows as it
     * is (the diff bisects only the ranges that differ) */
    int coarse_ok;
    /* 1: fold the chunks equal on both sides (with one side: all) into the
     * sum's totals (rd_th_sum.folded, fsum) instead of keeping them */
    int fold_equal;
    /* 1: the chunk digests may depend on the order of the rows, for a
     * comparison of two sides chunk by chunk that needs no table digest (the
     * diff). MariaDB with the primary key as the key then hashes each
     * chunk's rows concatenated in key order (CRC32 and CRC32C of the
     * concatenation, 64 bits) instead of summing a 64-bit hash per row,
     * which costs about a quarter less server CPU in the benchmark's diff;
     * elsewhere it changes nothing. Set it only when both sides pass
     * rd_th_ordered_self_test. */
    int ordered;
    /* with fold_equal and two sides: differing chunks are handed to
     * on_differ as soon as they and every chunk before them are done (so
     * in key order), instead of being kept, so memory stays flat even when
     * every chunk differs; only those still unfinished at the end are kept.
     * One table only (rd_th_checksum ignores it for several). */
    rd_th_differ_fn on_differ;
    void *differ_ud;
} rd_th_opts;

typedef struct rd_th_chunk {
    char **lo, **hi; /* nkey values each, or NULL (open) */
    int64_t rows[2]; /* -1: not computed */
    char *digest[2];
} rd_th_chunk;

/* Chunk digests of one table over one or two sides. With
 * rd_th_opts.fold_equal, the chunks equal on both sides (with one side:
 * all) are folded into the totals as they finish and only the differing
 * ones stay in chunks[], so memory does not grow with the table; otherwise
 * every chunk is kept (the manifest stores them). */
typedef struct rd_th_sum {
    rd_th_chunk *chunks;
    size_t nchunks;
    int nsides;
    size_t nkey;       /* of the table, for freeing the chunk keys */
    int64_t rows[2];   /* every chunk's rows, folded and handed ones included */
    size_t folded;     /* equal chunks not kept in chunks[] */
    size_t handed;     /* differing chunks handed to rd_th_opts.on_differ */
    uint64_t fsum[2];  /* their digests' sum modulo 2^64, per side */
    size_t mismatches; /* chunks whose rows or digests differ (two sides), handed included */
    int ordered;       /* ordered chunk digests: no table digest */
} rd_th_sum;
void rd_th_sum_clear(rd_th_sum *s);
/* Chunks compared: those kept, folded and handed. */
size_t rd_th_sum_chunks(const rd_th_sum *s);
/* 1 when chunk c differs between the sides (a digest "!" never equals). */
int rd_th_chunk_differs(const rd_th_chunk *c);
/* "id 100000 < key <= 200000" / "(a, b) > (1, x)" / "whole table" (heap). */
char *rd_th_chunk_describe(const rd_th_table *t, const rd_th_chunk *c);

/* The whole table's digest on a side, independent of the chunking: the sum
 * of its chunk sums modulo 2^64, as 16 hex digits into out (>= 17 bytes).
 * RD_ERR_UNSUPPORTED for ordered chunk digests. */
rd_status rd_th_table_digest(const rd_th_sum *s, int side, char *out, size_t outsz, rd_error *err);

/* Chunk and digest every table on side 0 (boundaries) and, with nsides 2,
 * the same key ranges on side 1. sums[i] belongs to tabs[i] (caller clears).
 * Runs chunks of one table and of different tables in parallel over
 * opts->parallel worker connections per side (when the sides have DSNs). */
rd_status rd_th_checksum(rd_th_side *sides, int nsides, rd_th_table *const *tabs, size_t ntabs,
                         const rd_th_opts *opts, rd_th_sum *sums, rd_error *err);
/* Digest the given key ranges (chunks[i].lo/hi set) on the given sides;
 * fills rows/digest of those sides. */
rd_status rd_th_digest_ranges(rd_th_side *sides, int nsides, const int *which, size_t nwhich,
                              const rd_th_table *t, rd_th_chunk *chunks, size_t nchunks,
                              const rd_th_opts *opts, rd_error *err);

/* The manifest's table checksum: {"algorithm", "chunk_rows", "columns":
 * [names], "key": [names], "rows", "chunks": [{"lo": [..] | null, "hi":
 * [..] | null, "rows": n, "digest": "..."}]} for schema.name on db (run
 * inside the caller's snapshot; serial on db). chunk_rows 0: default.
 * *out owned by the caller (cJSON_Delete). */
rd_status rd_tablehash_manifest_json(rd_db *db, const char *schema, const char *name,
                                     int64_t chunk_rows, struct cJSON **out, rd_error *err);
/* Digest side->db's table with the key ranges stored in a manifest
 * checksum and compare: out gets the stored figures as side 1.
 * RD_ERR_FORMAT when stored is malformed, RD_ERR_UNSUPPORTED when its
 * algorithm is not this engine's, RD_ERR_INTEGRITY "columns differ from the
 * manifest's (...)" when the column list differs. */
rd_status rd_tablehash_manifest_compare(rd_th_side *side, const char *schema, const char *name,
                                        const struct cJSON *stored, const rd_th_opts *opts,
                                        rd_th_table **tab_out, rd_th_sum *out, rd_error *err);

/* ---- internals shared by tablehash.c, tablediff.c and the checks ---- */

/* Worker pool: digest tasks over per-worker connections (serial on the
 * sides' main connections when a side has no DSN). */
typedef struct rd_th_pool rd_th_pool;
rd_status rd_th_pool_new(rd_th_side *sides, int nsides, const rd_th_opts *o, rd_th_pool **out,
                         rd_error *err);
/* Queue the digest of chunk c (stable pointer) on side; results land in
 * c->rows[side] / c->digest[side] once rd_th_pool_wait returns. */
rd_status rd_th_pool_digest(rd_th_pool *p, const rd_th_table *t, int side, rd_th_chunk *c,
                            const char *where, rd_error *err);
/* 1 when p digests t's chunks in the ordered form (rd_th_opts.ordered with
 * two sides, and t can have them). */
int rd_th_pool_ordered(const rd_th_pool *p, const rd_th_table *t);
/* Takes sql (heap) in every case; ordered: sql is rd_th_sql_digest_ordered's. */
rd_status rd_th_pool_submit(rd_th_pool *p, int side, char *sql, int ordered, rd_th_chunk *chunk,
                            rd_error *err);
/* Hold the pool's lock while reading chunk results that workers may still
 * be writing (they write under it). */
void rd_th_pool_lock(rd_th_pool *p);
void rd_th_pool_unlock(rd_th_pool *p);
/* The main connection of side (the producer's; workers have their own). */
rd_db *rd_th_pool_db(rd_th_pool *p, int side);
/* Wait for every queued task; the first error of any. */
rd_status rd_th_pool_wait(rd_th_pool *p, rd_error *err);
void rd_th_pool_free(rd_th_pool *p);
int rd_th_default_parallel(void);

/* Run a digest query: *rows and *digest (heap, replaces): the sum, or with
 * ordered (sql from rd_th_sql_digest_ordered) the query then
 * rd_th_sql_ordered_tail on the same connection: "crc32:crc32c", "" or "!". */
rd_status rd_th_run_digest(rd_db *db, const char *sql, int ordered, double timeout, int64_t *rows,
                           char **digest, rd_error *err);
/* Keyset step on side's table: the key of the n-th row after lo within hi,
 * *out NULL when there are fewer rows (heap, nkey values). */
rd_status rd_th_step(rd_db *db, const rd_th_table *t, int side, char *const *lo, char *const *hi,
                     int64_t n, double timeout, char ***out, rd_error *err);
/* Cut (lo, hi] of side's table into ranges of about step rows by the
 * keyset walk; emit takes each range's lo and hi (heap, NULL: open) in every
 * case. *made: ranges emitted. */
typedef rd_status (*rd_th_emit_fn)(void *ud, char **lo, char **hi, rd_error *err);
rd_status rd_th_split(rd_db *db, const rd_th_table *t, int side, char *const *lo, char *const *hi,
                      int64_t step, double timeout, rd_th_emit_fn emit, void *ud, size_t *made,
                      rd_error *err);
char **rd_th_keys_dup(char *const *k, size_t n);
void rd_th_keys_free(char **k, size_t n);
void rd_th_chunk_clear(rd_th_chunk *c, size_t nkey);

#endif
