/* tablehash_plist.c: a table's chunks while they are digested (stable
 * pointers), the folding of finished equal chunks into totals, and their
 * move into the table's sum. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

/* Append an existing chunk (taken on success). */
int rd_th_plist_push(plist *l, rd_th_chunk *c)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        rd_th_chunk **nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return 0;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = c;
    return 1;
}

/* A new chunk for (lo, hi] (both taken on success), results not computed. */
rd_th_chunk *rd_th_plist_add(plist *l, char **lo, char **hi)
{
    rd_th_chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!rd_th_plist_push(l, c)) {
        free(c);
        return NULL;
    }
    c->lo = lo;
    c->hi = hi;
    c->rows[0] = c->rows[1] = -1;
    l->added++;
    return c;
}

void rd_th_plist_free(plist *l, size_t nkey)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!l->v[i]) /* moved out */
            continue;
        rd_th_chunk_clear(l->v[i], nkey);
        free(l->v[i]);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Move the chunks into sum (contiguous) and total them. */
rd_status rd_th_plist_to_sum(plist *l, const rd_th_table *t, int nsides, rd_th_sum *sum,
                             rd_error *err)
{
    memset(sum, 0, sizeof *sum);
    sum->chunks = calloc(l->n ? l->n : 1, sizeof *sum->chunks);
    if (!sum->chunks)
        return rd_th_nomem(err);
    sum->nsides = nsides;
    sum->nkey = t->nkey;
    sum->folded = l->folded;
    sum->handed = l->handed;
    sum->mismatches = l->handed;
    sum->ordered = l->ordered;
    for (int s = 0; s < 2; s++) {
        sum->rows[s] = l->rows[s];
        sum->fsum[s] = l->fsum[s];
    }
    for (size_t i = 0; i < l->n; i++) {
        sum->chunks[i] = *l->v[i];
        free(l->v[i]);
        rd_th_chunk *c = &sum->chunks[i];
        for (int s = 0; s < nsides; s++)
            sum->rows[s] += c->rows[s] > 0 ? c->rows[s] : 0;
        if (nsides == 2 && rd_th_chunk_differs(c))
            sum->mismatches++;
    }
    sum->nchunks = l->n;
    free(l->v);
    memset(l, 0, sizeof *l);
    return RD_OK;
}

/* Fold the finished chunks that are equal on both sides (with one side:
 * every finished chunk) into the list's totals and free them, keeping the
 * rest in key order. With on_differ, the finished differing chunks before
 * the first unfinished one are handed to it (after the lock is released)
 * instead of kept. Workers write results under the pool's lock, so it is
 * held while reading them. */
rd_status rd_th_fold_equal(rd_th_pool *p, plist *l, int nsides, size_t nkey, rd_error *err)
{
    if (!l->fold)
        return RD_OK;
    rd_th_chunk **hand = NULL;
    size_t nhand = 0, w = 0;
    int prefix = nsides == 2 && l->on_differ; /* every chunk so far finished */
    if (prefix && !(hand = malloc((l->n ? l->n : 1) * sizeof *hand)))
        return rd_th_nomem(err);
    rd_th_pool_lock(p);
    for (size_t i = 0; i < l->n; i++) {
        rd_th_chunk *c = l->v[i];
        i128 d[2] = {0, 0};
        int done = c->rows[0] >= 0 && (nsides == 1 || c->rows[1] >= 0);
        int fold = done && (nsides == 1 || !rd_th_chunk_differs(c));
        for (int s = 0; fold && !l->ordered && s < nsides; s++)
            fold = c->digest[s] && rd_th_parse_i128(c->digest[s], &d[s]);
        prefix = prefix && done;
        if (!fold && prefix) {
            hand[nhand++] = c;
            for (int s = 0; s < nsides; s++)
                l->rows[s] += c->rows[s];
            continue;
        }
        if (!fold) {
            l->v[w++] = c;
            continue;
        }
        for (int s = 0; s < nsides; s++) {
            l->rows[s] += c->rows[s];
            l->fsum[s] += (uint64_t)(u128)d[s];
        }
        l->folded++;
        rd_th_chunk_clear(c, nkey);
        free(c);
    }
    l->n = w;
    rd_th_pool_unlock(p);
    rd_status st = RD_OK;
    for (size_t i = 0; i < nhand; i++) {
        if (st == RD_OK)
            st = l->on_differ(l->differ_ud, hand[i], err);
        l->handed++;
        rd_th_chunk_clear(hand[i], nkey);
        free(hand[i]);
    }
    free(hand);
    return st;
}

#define FOLD_EVERY 256 /* chunks added between two folds */

rd_status rd_th_maybe_fold(rd_th_pool *p, plist *l, int nsides, size_t nkey, rd_error *err)
{
    return l->added % FOLD_EVERY == 0 ? rd_th_fold_equal(p, l, nsides, nkey, err) : RD_OK;
}
