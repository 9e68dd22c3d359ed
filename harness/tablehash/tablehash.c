/* tablehash.c: the chunked checksum engine: a keyset walk, or value ranges
 * for a dense integer key, cut each table into key ranges of about
 * chunk_rows rows while the worker pool (tablehash_pool.c) digests them
 * inside the servers; finished chunks that are equal on both sides are
 * folded into totals. The chunks are kept and folded in tablehash_plist.c,
 * the keyset walk is tablehash_walk.c, the value ranges tablehash_ranges.c,
 * chunk and sum helpers tablehash_chunk.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"

#include "tablehash_int.h"

static rd_status walk_table(rd_th_pool *p, const rd_th_table *t, int nsides, const rd_th_opts *o,
                            plist *l, rd_error *err)
{
    int64_t step = o && o->chunk_rows > 0 ? o->chunk_rows : RD_TH_CHUNK_ROWS_DEFAULT;
    double timeout = o && o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
    const char *where = o ? o->where : NULL;
    char **lo = NULL;
    range_plan rp;
    int use = 0;
    rd_status st = rd_th_plan_ranges(rd_th_pool_db(p, 0), t, step, timeout, &rp, &use, err);
    if (st != RD_OK || use)
        return st == RD_OK ? rd_th_range_table(p, t, nsides, where, &rp, l, err) : st;
    rd_log_debug("%s: chunks of %lld rows by keyset walk", t->display, (long long)step);
    for (;;) {
        char **hi = NULL;
        if (t->nkey && (st = rd_th_step(rd_th_pool_db(p, 0), t, 0, lo, NULL, step, timeout, &hi,
                                        err)) != RD_OK)
            break;
        char **lo_copy = rd_th_keys_dup(lo, t->nkey);
        rd_th_chunk *c = (!lo || lo_copy) ? rd_th_plist_add(l, lo_copy, hi) : NULL;
        if (!c) {
            rd_th_keys_free(lo_copy, t->nkey);
            rd_th_keys_free(hi, t->nkey);
            st = rd_th_nomem(err);
            break;
        }
        for (int s = 0; st == RD_OK && s < nsides; s++)
            st = rd_th_pool_digest(p, t, s, c, where, err);
        if (st != RD_OK || !hi)
            break;
        rd_th_keys_free(lo, t->nkey);
        lo = rd_th_keys_dup(hi, t->nkey); /* hi belongs to c, which folding may free */
        if (!lo) {
            st = rd_th_nomem(err);
            break;
        }
        if ((st = rd_th_maybe_fold(p, l, nsides, t->nkey, err)) != RD_OK)
            break;
    }
    rd_th_keys_free(lo, t->nkey);
    return st;
}

rd_status rd_th_checksum(rd_th_side *sides, int nsides, rd_th_table *const *tabs, size_t ntabs,
                         const rd_th_opts *opts, rd_th_sum *sums, rd_error *err)
{
    rd_th_pool *p = NULL;
    plist *lists = calloc(ntabs ? ntabs : 1, sizeof *lists);
    rd_status st = RD_OK;
    if (!lists)
        return rd_th_nomem(err);
    for (int s = 0; s < nsides; s++)
        if ((st = rd_db_pin_session(sides[s].db, err)) != RD_OK)
            goto out;
    if ((st = rd_th_pool_new(sides, nsides, opts, &p, err)) != RD_OK)
        goto out;
    for (size_t i = 0; i < ntabs; i++) {
        lists[i].fold = opts && opts->fold_equal;
        lists[i].ordered = rd_th_pool_ordered(p, tabs[i]); /* as the pool digests it */
        if (opts && ntabs == 1) {
            lists[i].on_differ = opts->on_differ;
            lists[i].differ_ud = opts->differ_ud;
        }
    }
    for (size_t i = 0; st == RD_OK && i < ntabs; i++) {
        st = walk_table(p, tabs[i], nsides, opts, &lists[i], err);
        if (st != RD_OK)
            rd_error_prefix(err, "%s: ", tabs[i]->display);
    }
    rd_error werr;
    rd_status wst = rd_th_pool_wait(p, &werr);
    if (st == RD_OK && wst != RD_OK) {
        st = wst;
        if (err)
            *err = werr;
    }
    for (size_t i = 0; st == RD_OK && i < ntabs; i++) {
        st = rd_th_fold_equal(p, &lists[i], nsides, tabs[i]->nkey, err);
        if (st == RD_OK && lists[i].ranged && !(opts && opts->coarse_ok))
            st = rd_th_recut_table(p, tabs[i], nsides, opts, &lists[i], err);
        if (st == RD_OK)
            st = rd_th_fold_equal(p, &lists[i], nsides, tabs[i]->nkey, err);
        if (st != RD_OK)
            rd_error_prefix(err, "%s: ", tabs[i]->display);
    }
    for (size_t i = 0; st == RD_OK && i < ntabs; i++)
        st = rd_th_plist_to_sum(&lists[i], tabs[i], nsides, &sums[i], err);
out:
    rd_th_pool_free(p);
    for (size_t i = 0; i < ntabs; i++)
        rd_th_plist_free(&lists[i], tabs[i]->nkey);
    free(lists);
    return st;
}

rd_status rd_th_digest_ranges(rd_th_side *sides, int nsides, const int *which, size_t nwhich,
                              const rd_th_table *t, rd_th_chunk *chunks, size_t nchunks,
                              const rd_th_opts *opts, rd_error *err)
{
    rd_th_pool *p = NULL;
    rd_status st = rd_th_pool_new(sides, nsides, opts, &p, err);
    for (size_t i = 0; st == RD_OK && i < nchunks; i++)
        for (size_t w = 0; st == RD_OK && w < nwhich; w++)
            st = rd_th_pool_digest(p, t, which[w], &chunks[i], opts ? opts->where : NULL, err);
    if (p) {
        rd_error werr;
        rd_status wst = rd_th_pool_wait(p, &werr);
        if (st == RD_OK && wst != RD_OK) {
            st = wst;
            if (err)
                *err = werr;
        }
    }
    rd_th_pool_free(p);
    return st;
}
