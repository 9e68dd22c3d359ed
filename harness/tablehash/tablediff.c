/* tablediff.c: bisection over mismatching chunks and the merge of key + row
 * hash at the leaves (see tablediff.h). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablediff.h"

#define DEFAULT_TIMEOUT 3600.0

static rd_status nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory diffing");
}

const char *rd_diff_kind_name(rd_diff_kind k)
{
    return k == RD_DIFF_MISSING ? "missing" : k == RD_DIFF_EXTRA ? "extra" : "changed";
}

void rd_diff_result_clear(rd_diff_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrows; i++)
        free(r->rows[i].key);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

/* ---------- chunk lists ---------- */

typedef struct clist {
    rd_th_chunk *v;
    size_t n, cap;
} clist;

static rd_status clist_add(clist *l, char **lo, char **hi, rd_error *err)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 16;
        rd_th_chunk *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv)
            return nomem(err);
        l->v = nv;
        l->cap = nc;
    }
    rd_th_chunk *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    c->lo = lo;
    c->hi = hi;
    c->rows[0] = c->rows[1] = -1;
    return RD_OK;
}

static void clist_free(clist *l, size_t nkey)
{
    for (size_t i = 0; i < l->n; i++)
        rd_th_chunk_clear(&l->v[i], nkey);
    free(l->v);
    memset(l, 0, sizeof *l);
}

typedef struct split_ud {
    clist *out;
    size_t nkey;
} split_ud;

static rd_status split_emit(void *ud, char **lo, char **hi, rd_error *err)
{
    split_ud *u = ud;
    rd_status st = clist_add(u->out, lo, hi, err);
    if (st != RD_OK) {
        rd_th_keys_free(lo, u->nkey);
        rd_th_keys_free(hi, u->nkey);
    }
    return st;
}

/* Split (lo, hi] into ranges of about step rows of side s. */
static rd_status split(rd_th_side *sides, const rd_th_table *t, int s, const rd_th_chunk *c,
                       int64_t step, double timeout, clist *out, size_t *made, rd_error *err)
{
    split_ud u = {out, t->nkey};
    return rd_th_split(sides[s].db, t, s, c->lo, c->hi, step, timeout, split_emit, &u, made, err);
}

/* ---------- leaf merge ---------- */

typedef struct lrow {
    char *key;  /* values joined by 0x1f */
    char *hash; /* "h" or "h1:h2" */
    int seen;
    size_t next; /* hash chain, index + 1 */
} lrow;

typedef struct leaf {
    const rd_th_table *t;
    lrow *rows;
    size_t n, cap;
    size_t *buckets; /* index + 1 */
    size_t nbuckets;
    rd_diff_result *res;
    size_t max_rows;
    int failed;
} leaf;

static uint64_t fnv(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* key and hash strings from a row: nkey values then nhash hashes. */
static int row_strings(const rd_th_table *t, size_t ncols, const char *const *vals, char **key,
                       char **hash)
{
    rd_strbuf k, h;
    rd_error e;
    int ok = ncols >= t->nkey + (size_t)t->nhash;
    rd_strbuf_init(&k, 0);
    rd_strbuf_init(&h, 0);
    for (size_t i = 0; ok && i < t->nkey; i++)
        ok = rd_strbuf_appendf(&k, &e, "%s%s", i ? "\x1f" : "", vals[i] ? vals[i] : "") == RD_OK;
    for (int i = 0; ok && i < t->nhash; i++) {
        const char *v = vals[t->nkey + (size_t)i];
        ok = rd_strbuf_appendf(&h, &e, "%s%s", i ? ":" : "", v ? v : "") == RD_OK;
    }
    *key = ok ? rd_strbuf_detach(&k) : NULL;
    *hash = ok ? rd_strbuf_detach(&h) : NULL;
    rd_strbuf_free(&k);
    rd_strbuf_free(&h);
    if (!*key || !*hash) {
        free(*key);
        free(*hash);
        return 0;
    }
    return 1;
}

static int load_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    leaf *l = ud;
    (void)lens;
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 256;
        lrow *nr = realloc(l->rows, nc * sizeof *nr);
        if (!nr) {
            l->failed = 1;
            return 1;
        }
        l->rows = nr;
        l->cap = nc;
    }
    lrow *r = &l->rows[l->n];
    memset(r, 0, sizeof *r);
    if (!row_strings(l->t, ncols, vals, &r->key, &r->hash)) {
        l->failed = 1;
        return 1;
    }
    l->n++;
    return 0;
}

/* "5" or "(1, x)" from a joined key. */
static char *key_display(const char *k, size_t nkey)
{
    rd_strbuf sb;
    rd_error e;
    rd_strbuf_init(&sb, 0);
    int ok = rd_strbuf_append(&sb, nkey > 1 ? "(" : "", &e) == RD_OK;
    for (const char *p = k; ok && *p; p++)
        ok = (*p == '\x1f' ? rd_strbuf_append(&sb, ", ", &e)
                           : rd_strbuf_append_char(&sb, *p, &e)) == RD_OK;
    if (ok && nkey > 1)
        ok = rd_strbuf_append(&sb, ")", &e) == RD_OK;
    char *s = ok ? rd_strbuf_detach(&sb) : NULL;
    rd_strbuf_free(&sb);
    return s;
}

static int note(leaf *l, rd_diff_kind kind, const char *key)
{
    rd_diff_result *r = l->res;
    if (kind == RD_DIFF_MISSING)
        r->missing++;
    else if (kind == RD_DIFF_EXTRA)
        r->extra++;
    else
        r->changed++;
    if (r->nrows >= l->max_rows)
        return 1;
    rd_diff_row *nr = realloc(r->rows, (r->nrows + 1) * sizeof *nr);
    if (!nr)
        return 0;
    r->rows = nr;
    nr[r->nrows].kind = kind;
    if (!(nr[r->nrows].key = key_display(key, l->t->nkey)))
        return 0;
    r->nrows++;
    return 1;
}

/* Compare one row of side 0 against the loaded rows of side 1. */
static int merge_one(leaf *l, const char *key, const char *hash)
{
    size_t i = l->nbuckets ? l->buckets[fnv(key) % l->nbuckets] : 0;
    while (i && strcmp(l->rows[i - 1].key, key) != 0)
        i = l->rows[i - 1].next;
    if (!i)
        return note(l, RD_DIFF_EXTRA, key);
    lrow *r = &l->rows[i - 1];
    r->seen = 1;
    return strcmp(r->hash, hash) == 0 ? 1 : note(l, RD_DIFF_CHANGED, key);
}

static void leaf_free(leaf *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->rows[i].key);
        free(l->rows[i].hash);
    }
    free(l->rows);
    free(l->buckets);
    memset(l, 0, sizeof *l);
}

/* Loading the key + row hash of one side's leaf range. */
typedef struct loader {
    rd_th_side *side;
    const rd_th_table *t;
    int s;
    const rd_th_chunk *c;
    const rd_diff_opts *o;
    leaf *l;
    rd_status st;
    rd_error err;
} loader;

static void *load_side(void *arg)
{
    loader *ld = arg;
    rd_strbuf sql;
    double timeout = ld->o->th.timeout > 0 ? ld->o->th.timeout : DEFAULT_TIMEOUT;
    rd_strbuf_init(&sql, 0);
    rd_error_clear(&ld->err);
    ld->st = rd_th_sql_rows(ld->side->db, ld->t, ld->s, ld->c->lo, ld->c->hi, ld->o->th.where, &sql,
                            &ld->err);
    if (ld->st == RD_OK)
        ld->st = rd_db_stream(ld->side->db, sql.data, timeout, load_row, ld->l, &ld->err);
    if (ld->st == RD_OK && ld->l->failed)
        ld->st = nomem(&ld->err);
    rd_strbuf_free(&sql);
    return NULL;
}

/* Both sides' rows of leaf c are loaded at the same time (one thread per
 * side when they use different connections), then side 0's rows, in key
 * order, are looked up among side 1's. */
static rd_status merge_leaf(rd_th_side *sides, const rd_th_table *t, const rd_th_chunk *c,
                            const rd_diff_opts *o, rd_diff_result *res, rd_error *err)
{
    leaf l, l0;
    rd_status st = RD_OK;
    memset(&l, 0, sizeof l);
    memset(&l0, 0, sizeof l0);
    l.t = l0.t = t;
    l.res = res;
    l.max_rows = o->max_rows < 0 ? RD_DIFF_MAX_ROWS_DEFAULT : (size_t)o->max_rows;
    loader ld[2] = {{&sides[0], t, 0, c, o, &l0, RD_OK, {0}},
                    {&sides[1], t, 1, c, o, &l, RD_OK, {0}}};
    pthread_t th;
    int threaded = sides[0].db != sides[1].db && pthread_create(&th, NULL, load_side, &ld[1]) == 0;
    load_side(&ld[0]);
    if (threaded)
        pthread_join(th, NULL);
    else
        load_side(&ld[1]);
    for (int s = 1; s >= 0 && st == RD_OK; s--) {
        if (ld[s].st != RD_OK) {
            st = ld[s].st;
            if (err)
                *err = ld[s].err;
        }
    }
    if (st != RD_OK)
        goto out;
    l.nbuckets = l.n * 2 + 1;
    if (!(l.buckets = calloc(l.nbuckets, sizeof *l.buckets))) {
        st = nomem(err);
        goto out;
    }
    for (size_t i = 0; i < l.n; i++) {
        size_t b = fnv(l.rows[i].key) % l.nbuckets;
        l.rows[i].next = l.buckets[b];
        l.buckets[b] = i + 1;
    }
    for (size_t i = 0; st == RD_OK && i < l0.n; i++)
        if (!merge_one(&l, l0.rows[i].key, l0.rows[i].hash))
            st = nomem(err);
    for (size_t i = 0; st == RD_OK && i < l.n; i++)
        if (!l.rows[i].seen && !note(&l, RD_DIFF_MISSING, l.rows[i].key))
            st = nomem(err);
out:
    leaf_free(&l);
    leaf_free(&l0);
    return st;
}

/* ---------- first level ---------- */

/* A first-level chunk that differs, handed over while the first level still
 * runs (rd_th_opts.on_differ), so differing chunks are never all kept at
 * once: a leaf-sized one is merged at once, a larger one is moved to
 * pending for the bisection. */
typedef struct differ_ud {
    rd_th_side *sides;
    const rd_th_table *t;
    const rd_diff_opts *o;
    rd_diff_result *out;
    int64_t leaf_rows;
    clist *pending;
    size_t leaves; /* merged here */
} differ_ud;

/* Move chunk c's range and row counts to the end of l. */
static rd_status move_to(clist *l, rd_th_chunk *c, rd_error *err)
{
    rd_status st = clist_add(l, c->lo, c->hi, err);
    if (st != RD_OK)
        return st;
    c->lo = c->hi = NULL;
    l->v[l->n - 1].rows[0] = c->rows[0];
    l->v[l->n - 1].rows[1] = c->rows[1];
    return RD_OK;
}

static rd_status on_differ(void *ud, rd_th_chunk *c, rd_error *err)
{
    differ_ud *u = ud;
    int64_t n = c->rows[0] > c->rows[1] ? c->rows[0] : c->rows[1];
    if (n > u->leaf_rows)
        return move_to(u->pending, c, err);
    u->leaves++;
    return merge_leaf(u->sides, u->t, c, u->o, u->out, err);
}

/* ---------- bisection ---------- */

rd_status rd_tablediff(rd_th_side sides[2], const rd_th_table *t, const rd_diff_opts *o,
                       rd_diff_result *out, rd_error *err)
{
    rd_diff_opts def;
    rd_th_sum sum;
    clist pending = {0}, next = {0}, leaves = {0};
    rd_th_pool *p = NULL;
    rd_status st = RD_OK;
    memset(&sum, 0, sizeof sum);
    memset(out, 0, sizeof *out);
    if (!o) {
        memset(&def, 0, sizeof def);
        def.max_rows = -1;
        o = &def;
    }
    if (t->nkey == 0)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "%s has no primary key: give --key", t->display);
    if (!t->qname[1])
        return RD_ERR(err, RD_ERR_INTERNAL, "diff of %s without the other side", t->display);
    int64_t leaf_rows = o->leaf_rows > 0 ? o->leaf_rows : RD_DIFF_LEAF_ROWS_DEFAULT;
    int fanout = o->fanout > 1 ? o->fanout : RD_DIFF_FANOUT_DEFAULT;
    double timeout = o->th.timeout > 0 ? o->th.timeout : DEFAULT_TIMEOUT;
    rd_th_table *const tabs[1] = {(rd_th_table *)(uintptr_t)t};
    /* No table digest is needed, so chunk digests may depend on row order
     * where the servers keep what ordered digests need. Without a chunk
     * size, first-level chunks are leaves: a mismatching chunk is merged at
     * once instead of being hashed again by the bisection (which only runs
     * for explicitly larger chunks). */
    rd_th_opts th = o->th, first;
    th.ordered = rd_th_ordered_ok(t) && rd_th_ordered_self_test(sides[0].db) &&
                 rd_th_ordered_self_test(sides[1].db);
    first = th;
    if (first.chunk_rows <= 0)
        first.chunk_rows = leaf_rows;
    first.coarse_ok = 1;  /* an oversized range that differs is bisected below */
    first.fold_equal = 1; /* only the differing chunks go on, */
    differ_ud du = {sides, t, o, out, leaf_rows, &pending, 0};
    first.on_differ = on_differ; /* and as soon as they are found */
    first.differ_ud = &du;
    if ((st = rd_th_checksum(sides, 2, tabs, 1, &first, &sum, err)) != RD_OK)
        goto out;
    out->chunks = rd_th_sum_chunks(&sum);
    out->mismatched = sum.mismatches;
    out->rows_a = sum.rows[0];
    out->rows_b = sum.rows[1];
    rd_log_debug("%s: %zu of %zu chunks differ%s", t->display, sum.mismatches,
                 rd_th_sum_chunks(&sum), sum.ordered ? " (ordered chunk digests)" : "");
    for (size_t i = 0; i < sum.nchunks; i++) /* those not handed over */
        if (rd_th_chunk_differs(&sum.chunks[i]) &&
            (st = move_to(&pending, &sum.chunks[i], err)) != RD_OK)
            goto out;
    while (pending.n > 0) {
        for (size_t i = 0; i < pending.n; i++) {
            rd_th_chunk *c = &pending.v[i];
            int64_t n = c->rows[0] > c->rows[1] ? c->rows[0] : c->rows[1];
            int s = c->rows[0] >= c->rows[1] ? 0 : 1;
            size_t made = 0;
            if (n > leaf_rows) {
                size_t before = next.n;
                st = split(sides, t, s, c, (n + fanout - 1) / fanout, timeout, &next, &made, err);
                if (st != RD_OK)
                    goto out;
                if (made <= 1) { /* no progress: merge this range as a leaf */
                    while (next.n > before)
                        rd_th_chunk_clear(&next.v[--next.n], t->nkey);
                    made = 0;
                }
            }
            if (made == 0) {
                if ((st = clist_add(&leaves, c->lo, c->hi, err)) != RD_OK)
                    goto out;
                c->lo = c->hi = NULL;
            }
        }
        clist_free(&pending, t->nkey);
        if (next.n == 0)
            break;
        if ((st = rd_th_pool_new(sides, 2, &th, &p, err)) != RD_OK)
            goto out;
        for (size_t i = 0; st == RD_OK && i < next.n; i++)
            for (int s = 0; st == RD_OK && s < 2; s++)
                st = rd_th_pool_digest(p, t, s, &next.v[i], o->th.where, err);
        rd_error werr;
        rd_status wst = rd_th_pool_wait(p, &werr);
        rd_th_pool_free(p);
        p = NULL;
        if (st == RD_OK && wst != RD_OK) {
            st = wst;
            if (err)
                *err = werr;
        }
        if (st != RD_OK)
            goto out;
        for (size_t i = 0; i < next.n; i++)
            if (rd_th_chunk_differs(&next.v[i]) &&
                (st = move_to(&pending, &next.v[i], err)) != RD_OK)
                goto out;
        clist_free(&next, t->nkey);
    }
    rd_log_debug("%s: %zu leaves merged during the first level, %zu more now", t->display,
                 du.leaves, leaves.n);
    for (size_t i = 0; st == RD_OK && i < leaves.n; i++)
        st = merge_leaf(sides, t, &leaves.v[i], o, out, err);
    out->leaves = du.leaves + leaves.n;
out:
    rd_th_pool_free(p);
    clist_free(&pending, t->nkey);
    clist_free(&next, t->nkey);
    clist_free(&leaves, t->nkey);
    rd_th_sum_clear(&sum);
    if (st != RD_OK)
        rd_diff_result_clear(out);
    return st;
}
