/* tablediff.h: row-level differences of one table between two databases,
 * found by chunk checksums (tablehash.h). Without an explicit chunk_rows the
 * first-level chunks are leaf_rows rows, so a mismatching chunk is a leaf at
 * once and no row is hashed twice; larger chunks are bisected: split into
 * `fanout` key ranges (by a keyset walk on the side with more rows) until
 * they hold at most leaf_rows rows. At a leaf, key + row hash of both sides
 * are loaded at the same time (two connections, bounded by the leaf size)
 * and side 0's rows, in key order, are looked up among side 1's. A
 * differing first-level chunk is handed over as soon as it and the chunks
 * before it are done (rd_th_opts.on_differ): merged at once when leaf-sized,
 * so differing chunks are not all kept. Memory stays bounded by the leaf
 * size, whatever the table size and however much of it differs. On MariaDB
 * the first level uses ordered chunk digests (rd_th_opts.ordered) when the
 * key is the primary key and both servers pass rd_th_ordered_self_test.
 *
 * Side 0 is the database checked (the restore, `--dsn`), side 1 the
 * reference (`--against`): a row only in the reference is "missing", a row
 * only in side 0 is "extra", a row in both with another hash is "changed". */
#ifndef RESTOREDRILL_TABLEDIFF_H
#define RESTOREDRILL_TABLEDIFF_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/tablehash.h"

#define RD_DIFF_LEAF_ROWS_DEFAULT 10000
#define RD_DIFF_FANOUT_DEFAULT 16
#define RD_DIFF_MAX_ROWS_DEFAULT 100

typedef struct rd_diff_opts {
    rd_th_opts th;     /* chunking, parallel, where, timeout */
    int64_t leaf_rows; /* 0: default */
    int fanout;        /* 0: default */
    int64_t max_rows;  /* differing keys kept (counts stay exact); < 0: default, 0: none */
} rd_diff_opts;

typedef enum rd_diff_kind { RD_DIFF_MISSING = 0, RD_DIFF_EXTRA, RD_DIFF_CHANGED } rd_diff_kind;

/* "missing" / "extra" / "changed" */
const char *rd_diff_kind_name(rd_diff_kind k);

typedef struct rd_diff_row {
    rd_diff_kind kind;
    char *key; /* "5" or "(1, x)" for a composite key (heap) */
} rd_diff_row;

typedef struct rd_diff_result {
    int64_t missing, extra, changed; /* exact */
    rd_diff_row *rows;               /* the first max_rows differences, in key order per leaf */
    size_t nrows;
    int64_t rows_a, rows_b; /* rows of each side (after `where`) */
    size_t chunks;          /* first-level chunks */
    size_t mismatched;      /* first-level chunks that differed */
    size_t leaves;          /* leaf ranges merged */
} rd_diff_result;
void rd_diff_result_clear(rd_diff_result *r);

/* Diff t (described with side 1 set: rd_th_table_other) between the two
 * sides. RD_ERR_UNSUPPORTED "x has no primary key: give --key" without a key. */
rd_status rd_tablediff(rd_th_side sides[2], const rd_th_table *t, const rd_diff_opts *o,
                       rd_diff_result *out, rd_error *err);

#endif
