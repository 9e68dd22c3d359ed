/* tablehash_ranges.c: value ranges of a dense integer key: planned from the
 * key's bounds and count, queued, and cut again by the keyset walk where a
 * range came out too large (skew). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

static void i128_format(i128 v, char *buf, size_t n)
{
    char tmp[48];
    size_t k = 0, j = 0;
    u128 u = v < 0 ? (u128)0 - (u128)v : (u128)v;
    do {
        tmp[k++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u && k < sizeof tmp);
    if (v < 0 && j + 1 < n)
        buf[j++] = '-';
    while (k && j + 1 < n)
        buf[j++] = tmp[--k];
    buf[j] = '\0';
}

/* A one-value key (heap), or NULL when out of memory. */
static char **key_of(i128 v)
{
    char b[48];
    i128_format(v, b, sizeof b);
    char **k = calloc(1, sizeof *k);
    if (k && !(k[0] = rd_strdup(b))) {
        free(k);
        k = NULL;
    }
    return k;
}

/* Rows of side 0 with from <= key < to. */
static rd_status count_between(rd_db *db, const rd_th_table *t, i128 from, i128 to, double timeout,
                               i128 *out, rd_error *err)
{
    char **lo = key_of(from - 1), **hi = key_of(to - 1);
    rd_strbuf sql;
    char *v = NULL;
    int found = 0;
    rd_strbuf_init(&sql, 0);
    rd_status st = lo && hi ? rd_th_sql_count(db, t, 0, lo, hi, &sql, err) : rd_th_nomem(err);
    if (st == RD_OK)
        st = rd_db_scalar(db, sql.data, timeout, &v, &found, err);
    if (st == RD_OK && !(found && v && rd_th_parse_i128(v, out)))
        st = RD_ERR(err, RD_ERR_FORMAT, "counting rows returned no number");
    free(v);
    rd_strbuf_free(&sql);
    rd_th_keys_free(lo, 1);
    rd_th_keys_free(hi, 1);
    return st;
}

/* *use 1 when t's key is one integer column whose values are evenly
 * dense: the catalog's row estimate covers at least half of max - min + 1,
 * and three probe ranges (around 1/6, 1/2 and 5/6 of the key span) hold
 * row counts within a factor of 2 of their mean. The width then comes
 * from the density the probes measured, so a range holds about step rows. */
rd_status rd_th_plan_ranges(rd_db *db, const rd_th_table *t, int64_t step, double timeout,
                            range_plan *rp, int *use, rd_error *err)
{
    rd_strbuf sql;
    rd_db_result *r = NULL;
    *use = 0;
    if (t->nkey != 1 || !t->cols[t->key[0]].integer)
        return RD_OK;
    rd_strbuf_init(&sql, 0);
    rd_status st = rd_th_sql_bounds(db, t, &sql, err);
    if (st == RD_OK)
        st = rd_db_query(db, sql.data, timeout, 2, &r, err);
    rd_strbuf_free(&sql);
    if (st != RD_OK)
        return st;
    i128 mn = 0, mx = 0, est = 0;
    int ok = r->nrows == 1 && r->ncols == 3 && rd_db_cell(r, 0, 0) && rd_db_cell(r, 0, 1) &&
             rd_db_cell(r, 0, 2) && rd_th_parse_i128(rd_db_cell(r, 0, 0), &mn) &&
             rd_th_parse_i128(rd_db_cell(r, 0, 1), &mx) &&
             rd_th_parse_i128(rd_db_cell(r, 0, 2), &est);
    rd_db_result_free(r);
    if (!ok || est < 1 || mx < mn) /* empty, or no estimate: the walk */
        return RD_OK;
    i128 span = mx - mn + 1;
    if (est > span) /* a unique key holds at most span rows: a stale estimate */
        est = span;
    if (span > 2 * est)
        return RD_OK;
    i128 w0 = (span * step + est - 1) / est;
    if (w0 < 1)
        w0 = 1;
    if (span < 4 * w0) { /* a few ranges: probing costs as much as walking */
        rp->first = mn;
        rp->width = w0;
        rp->n = (span + w0 - 1) / w0;
        *use = 1;
        return RD_OK;
    }
    /* probes centred on the sixths 1, 3 and 5, away from outliers at the ends */
    i128 at[3] = {mn + span / 6 - w0 / 2, mn + span / 2 - w0 / 2, mn + span * 5 / 6 - w0 / 2},
         cnt[3], total = 0;
    for (int i = 0; i < 3; i++) {
        if ((st = count_between(db, t, at[i], at[i] + w0, timeout, &cnt[i], err)) != RD_OK)
            return st;
        total += cnt[i];
    }
    rd_log_debug("%s: key span %lld, estimate %lld rows, probes of %lld keys hold %lld, %lld, "
                 "%lld rows",
                 t->display, (long long)span, (long long)est, (long long)w0, (long long)cnt[0],
                 (long long)cnt[1], (long long)cnt[2]);
    for (int i = 0; i < 3; i++)
        if (total == 0 || cnt[i] * 3 * 2 < total || cnt[i] * 3 > total * 2)
            return RD_OK; /* uneven: the walk sizes chunks by rows */
    rp->first = mn;
    rp->width = (3 * w0 * step + total - 1) / total;
    if (rp->width < 1)
        rp->width = 1;
    rp->n = (span + rp->width - 1) / rp->width;
    rd_log_debug("%s: %lld value ranges of %lld keys", t->display, (long long)rp->n,
                 (long long)rp->width);
    *use = 1;
    return RD_OK;
}

/* Queue the ranges of plan rp: the first has no lo and the last no hi. */
rd_status rd_th_range_table(rd_th_pool *p, const rd_th_table *t, int nsides, const char *where,
                            const range_plan *rp, plist *l, rd_error *err)
{
    rd_status st = RD_OK;
    l->ranged = 1;
    for (i128 i = 0; st == RD_OK && i < rp->n; i++) {
        char **lo = i > 0 ? key_of(rp->first - 1 + i * rp->width) : NULL;
        char **hi = i + 1 < rp->n ? key_of(rp->first - 1 + (i + 1) * rp->width) : NULL;
        rd_th_chunk *c =
            ((i == 0 || lo) && (i + 1 == rp->n || hi)) ? rd_th_plist_add(l, lo, hi) : NULL;
        if (!c) {
            rd_th_keys_free(lo, 1);
            rd_th_keys_free(hi, 1);
            return rd_th_nomem(err);
        }
        for (int s = 0; st == RD_OK && s < nsides; s++)
            st = rd_th_pool_digest(p, t, s, c, where, err);
        if (st == RD_OK)
            st = rd_th_maybe_fold(p, l, nsides, t->nkey, err);
    }
    return st;
}

typedef struct recut_ud {
    rd_th_pool *p;
    const rd_th_table *t;
    int nsides;
    const char *where;
    plist *out;
} recut_ud;

static rd_status recut_emit(void *ud, char **lo, char **hi, rd_error *err)
{
    recut_ud *u = ud;
    rd_th_chunk *c = rd_th_plist_add(u->out, lo, hi);
    if (!c) {
        rd_th_keys_free(lo, u->t->nkey);
        rd_th_keys_free(hi, u->t->nkey);
        return rd_th_nomem(err);
    }
    rd_status st = RD_OK;
    for (int s = 0; st == RD_OK && s < u->nsides; s++)
        st = rd_th_pool_digest(u->p, u->t, s, c, u->where, err);
    return st == RD_OK ? rd_th_maybe_fold(u->p, u->out, u->nsides, u->t->nkey, err) : st;
}

/* After the digests of a ranged table: cut every range holding more than
 * 2 x step rows (on either side) again by the walk on its larger side and
 * digest the pieces, so skew never leaves giant chunks. */
rd_status rd_th_recut_table(rd_th_pool *p, const rd_th_table *t, int nsides, const rd_th_opts *o,
                            plist *l, rd_error *err)
{
    int64_t step = o && o->chunk_rows > 0 ? o->chunk_rows : RD_TH_CHUNK_ROWS_DEFAULT;
    double timeout = o && o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
    plist out = {0};
    rd_status st = RD_OK;
    recut_ud u = {p, t, nsides, o ? o->where : NULL, &out};
    out.fold = l->fold;
    out.ordered = l->ordered;
    out.on_differ = l->on_differ;
    out.differ_ud = l->differ_ud;
    for (size_t i = 0; st == RD_OK && i < l->n; i++) {
        rd_th_chunk *c = l->v[i];
        int s = nsides == 2 && c->rows[1] > c->rows[0] ? 1 : 0;
        if (c->rows[s] <= 2 * step) {
            if (!rd_th_plist_push(&out, c))
                st = rd_th_nomem(err);
            else
                l->v[i] = NULL;
            continue;
        }
        size_t made = 0;
        st = rd_th_split(rd_th_pool_db(p, s), t, s, c->lo, c->hi, step, timeout, recut_emit, &u,
                         &made, err);
    }
    rd_error werr; /* the pieces' digests, also after an error (they write into out) */
    rd_status wst = rd_th_pool_wait(p, &werr);
    if (st == RD_OK && wst != RD_OK) {
        st = wst;
        if (err)
            *err = werr;
    }
    if (st != RD_OK) {
        rd_th_plist_free(&out, t->nkey);
        return st;
    }
    out.ranged = 1;
    out.folded += l->folded; /* the totals of what was folded or handed before */
    out.handed += l->handed;
    for (int k = 0; k < 2; k++) {
        out.rows[k] += l->rows[k];
        out.fsum[k] += l->fsum[k];
    }
    rd_th_plist_free(l, t->nkey); /* the ranges that were cut */
    *l = out;
    return RD_OK;
}
