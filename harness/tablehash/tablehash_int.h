/* tablehash_int.h: what the files of harness/tablehash share:
 * tablehash_columns.c builds a described table's column expressions and
 * lists, for tablehash_describe.c; the chunked checksum engine
 * (tablehash.c) keeps its chunks in a plist (tablehash_plist.c) and cuts a
 * dense integer key into value ranges (tablehash_ranges.c). The public API
 * is include/restoredrill/tablehash.h. */
#ifndef RESTOREDRILL_TABLEHASH_INT_H
#define RESTOREDRILL_TABLEHASH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/error.h"
#include "restoredrill/tablehash.h"

/* tablehash_columns.c: RD_ERR_NOMEM "out of memory building checksum
 * queries". */
rd_status rd_th_nomem_sql(rd_error *err);
/* Fill hash_expr / key_expr / lit of a column; *strlen_expr gets a LENGTH()
 * term for MariaDB strings (heap, may stay NULL). */
rd_status rd_th_column_exprs(rd_engine engine, rd_th_column *c, const char *q, const char *tn,
                             char **strlen_expr);
/* Build row_hash, digest_list, order_by and key_list from the columns. */
rd_status rd_th_build_lists(rd_th_table *t, char **quoted, char **lens, rd_error *err);

/* --- the chunked checksum engine (tablehash.c and the files below) --- */

#define DEFAULT_TIMEOUT 3600.0

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* tablehash_chunk.c: RD_ERR_NOMEM "out of memory computing checksums". */
rd_status rd_th_nomem(rd_error *err);
/* tablehash_chunk.c: a decimal integer (as the servers print sums and
 * keys) into *out; 0 when s is not one (no overflow check). */
int rd_th_parse_i128(const char *s, i128 *out);

/* tablehash_plist.c */
/* Growable list of stable chunk pointers. */
typedef struct plist {
    rd_th_chunk **v;
    size_t n, cap;
    int ranged;                /* cut into value ranges (may hold oversized chunks) */
    int fold;                  /* fold finished equal chunks (rd_th_opts.fold_equal) */
    int ordered;               /* ordered chunk digests (not summed into fsum) */
    rd_th_differ_fn on_differ; /* differing chunks handed over (fold only) */
    void *differ_ud;
    size_t added;     /* chunks ever added (folding runs every FOLD_EVERY) */
    size_t folded;    /* equal chunks folded into the totals below */
    size_t handed;    /* differing chunks handed to on_differ */
    int64_t rows[2];  /* their rows (and the handed chunks') */
    uint64_t fsum[2]; /* their digests' sum modulo 2^64 */
} plist;
/* Append an existing chunk (taken on success). */
int rd_th_plist_push(plist *l, rd_th_chunk *c);
/* A new chunk for (lo, hi] (both taken on success), results not computed. */
rd_th_chunk *rd_th_plist_add(plist *l, char **lo, char **hi);
void rd_th_plist_free(plist *l, size_t nkey);
/* Move the chunks into sum (contiguous) and total them. */
rd_status rd_th_plist_to_sum(plist *l, const rd_th_table *t, int nsides, rd_th_sum *sum,
                             rd_error *err);
/* Fold the finished chunks that are equal on both sides (see
 * tablehash_plist.c). */
rd_status rd_th_fold_equal(rd_th_pool *p, plist *l, int nsides, size_t nkey, rd_error *err);
/* rd_th_fold_equal every FOLD_EVERY chunks added. */
rd_status rd_th_maybe_fold(rd_th_pool *p, plist *l, int nsides, size_t nkey, rd_error *err);

/* tablehash_ranges.c: value ranges of a dense integer key */
typedef struct range_plan {
    i128 first; /* the smallest key */
    i128 width; /* key values per range */
    i128 n;     /* ranges */
} range_plan;
/* *use 1 when t's key is one integer column whose values are evenly
 * spread (see tablehash_ranges.c); rp the ranges then. */
rd_status rd_th_plan_ranges(rd_db *db, const rd_th_table *t, int64_t step, double timeout,
                            range_plan *rp, int *use, rd_error *err);
/* Queue the ranges of plan rp: the first has no lo and the last no hi. */
rd_status rd_th_range_table(rd_th_pool *p, const rd_th_table *t, int nsides, const char *where,
                            const range_plan *rp, plist *l, rd_error *err);
/* After the digests of a ranged table: cut every range holding more than
 * 2 x step rows again (see tablehash_ranges.c). */
rd_status rd_th_recut_table(rd_th_pool *p, const rd_th_table *t, int nsides, const rd_th_opts *o,
                            plist *l, rd_error *err);

#endif
