/* tablehash.c: the chunked checksum engine: a keyset walk, or value ranges
 * for a dense integer key, cut each table into key ranges of about
 * chunk_rows rows while the worker pool (tablehash_pool.c) digests them
 * inside the servers; finished chunks that are equal on both sides are
 * folded into totals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"

#define DEFAULT_TIMEOUT 3600.0

static rd_status nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory computing checksums");
}

void rd_th_keys_free(char **k, size_t n)
{
    if (!k)
        return;
    for (size_t i = 0; i < n; i++)
        free(k[i]);
    free(k);
}

char **rd_th_keys_dup(char *const *k, size_t n)
{
    if (!k)
        return NULL;
    char **d = calloc(n ? n : 1, sizeof *d);
    for (size_t i = 0; d && i < n; i++) {
        if (!(d[i] = rd_strdup(k[i] ? k[i] : ""))) {
            rd_th_keys_free(d, n);
            return NULL;
        }
    }
    return d;
}

void rd_th_chunk_clear(rd_th_chunk *c, size_t nkey)
{
    rd_th_keys_free(c->lo, nkey);
    rd_th_keys_free(c->hi, nkey);
    free(c->digest[0]);
    free(c->digest[1]);
    memset(c, 0, sizeof *c);
}

void rd_th_sum_clear(rd_th_sum *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nchunks; i++)
        rd_th_chunk_clear(&s->chunks[i], s->nkey);
    free(s->chunks);
    memset(s, 0, sizeof *s);
}

size_t rd_th_sum_chunks(const rd_th_sum *s)
{
    return s->nchunks + s->folded + s->handed;
}

int rd_th_chunk_differs(const rd_th_chunk *c)
{
    if (c->rows[0] != c->rows[1])
        return 1;
    if ((c->digest[0] && *c->digest[0] == '!') || (c->digest[1] && *c->digest[1] == '!'))
        return 1;
    return strcmp(c->digest[0] ? c->digest[0] : "", c->digest[1] ? c->digest[1] : "") != 0;
}

static rd_status append_vals(rd_strbuf *sb, char *const *v, size_t n, rd_error *err)
{
    rd_status st = rd_strbuf_append(sb, n > 1 ? "(" : "", err);
    for (size_t i = 0; st == RD_OK && i < n; i++)
        st = rd_strbuf_appendf(sb, err, "%s%s", i ? ", " : "", v[i]);
    if (st == RD_OK && n > 1)
        st = rd_strbuf_append(sb, ")", err);
    return st;
}

char *rd_th_chunk_describe(const rd_th_table *t, const rd_th_chunk *c)
{
    rd_strbuf sb, k;
    rd_error err;
    rd_status st = RD_OK;
    rd_strbuf_init(&sb, 4096);
    rd_strbuf_init(&k, 0);
    if (t->nkey == 0 || (!c->lo && !c->hi)) {
        rd_strbuf_free(&k);
        return rd_strdup("all rows");
    }
    for (size_t i = 0; st == RD_OK && i < t->nkey; i++)
        st = rd_strbuf_appendf(&k, &err, "%s%s", i ? ", " : "", t->cols[t->key[i]].name);
    const char *open = t->nkey > 1 ? "(" : "", *close = t->nkey > 1 ? ")" : "";
    if (st == RD_OK && c->lo) {
        st = rd_strbuf_appendf(&sb, &err, "%s%s%s > ", open, k.data, close);
        if (st == RD_OK)
            st = append_vals(&sb, c->lo, t->nkey, &err);
    }
    if (st == RD_OK && c->hi) {
        st =
            rd_strbuf_appendf(&sb, &err, "%s%s%s%s <= ", c->lo ? " and " : "", open, k.data, close);
        if (st == RD_OK)
            st = append_vals(&sb, c->hi, t->nkey, &err);
    }
    rd_strbuf_free(&k);
    if (st != RD_OK && sb.len == 0) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

/* ---------- whole-table digest ---------- */

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

static int parse_i128(const char *s, i128 *out)
{
    int neg = 0;
    i128 v = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return 1;
}

rd_status rd_th_table_digest(const rd_th_sum *s, int side, char *out, size_t outsz, rd_error *err)
{
    if (s->ordered)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "ordered chunk digests do not add up to a table digest");
    i128 acc = 0;
    for (size_t i = 0; i < s->nchunks; i++) {
        const char *d = s->chunks[i].digest[side];
        i128 a = 0;
        if (!d)
            continue;
        if (!parse_i128(d, &a))
            return RD_ERR(err, RD_ERR_FORMAT, "bad chunk digest \"%.40s\"", d);
        acc += a;
    }
    acc += s->fsum[side]; /* folded chunks */
    snprintf(out, outsz, "%016llx", (unsigned long long)(uint64_t)(u128)acc);
    return RD_OK;
}

/* ---------- keyset walk ---------- */

typedef struct step_ud {
    size_t n;
    char **vals;
    int got;
} step_ud;

static int step_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    step_ud *s = ud;
    (void)lens;
    /* LIMIT 1: never stop early (an early stop sends a cancel that could
     * hit the connection's next statement and abort its transaction) */
    if (s->got)
        return 0;
    s->got = 1;
    s->vals = calloc(s->n ? s->n : 1, sizeof *s->vals);
    for (size_t i = 0; s->vals && i < s->n && i < ncols; i++)
        s->vals[i] = rd_strdup(vals[i] ? vals[i] : "");
    return 0;
}

rd_status rd_th_step(rd_db *db, const rd_th_table *t, int side, char *const *lo, char *const *hi,
                     int64_t n, double timeout, char ***out, rd_error *err)
{
    rd_strbuf sql;
    step_ud ud = {t->nkey, NULL, 0};
    rd_strbuf_init(&sql, 0);
    rd_status st = rd_th_sql_step(db, t, side, lo, hi, n, &sql, err);
    if (st == RD_OK)
        st =
            rd_db_stream(db, sql.data, timeout > 0 ? timeout : DEFAULT_TIMEOUT, step_row, &ud, err);
    rd_strbuf_free(&sql);
    if (st == RD_OK && ud.got) {
        for (size_t i = 0; i < t->nkey; i++)
            if (!ud.vals || !ud.vals[i])
                st = nomem(err);
    }
    if (st != RD_OK) {
        rd_th_keys_free(ud.vals, t->nkey);
        return st;
    }
    *out = ud.got ? ud.vals : NULL;
    return RD_OK;
}

rd_status rd_th_split(rd_db *db, const rd_th_table *t, int side, char *const *lo, char *const *hi,
                      int64_t step, double timeout, rd_th_emit_fn emit, void *ud, size_t *made,
                      rd_error *err)
{
    char **cur = rd_th_keys_dup(lo, t->nkey);
    rd_status st = RD_OK;
    *made = 0;
    if (lo && !cur)
        return nomem(err);
    for (;;) {
        char **k = NULL;
        if ((st = rd_th_step(db, t, side, cur, hi, step, timeout, &k, err)) != RD_OK)
            break;
        /* the step landed on hi itself: the rest is the last range */
        int at_end = k && hi;
        for (size_t i = 0; at_end && i < t->nkey; i++)
            at_end = strcmp(k[i], hi[i]) == 0;
        if (at_end) {
            rd_th_keys_free(k, t->nkey);
            k = NULL;
        }
        char **end = k ? k : rd_th_keys_dup(hi, t->nkey);
        if (!k && hi && !end) {
            st = nomem(err);
            break;
        }
        char **next = k ? rd_th_keys_dup(k, t->nkey) : NULL;
        if (k && !next) {
            rd_th_keys_free(end, t->nkey);
            st = nomem(err);
            break;
        }
        st = emit(ud, cur, end, err); /* takes cur and end */
        cur = next;
        if (st != RD_OK)
            break;
        (*made)++;
        if (!k)
            break;
    }
    rd_th_keys_free(cur, t->nkey);
    return st;
}

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
static int plist_push(plist *l, rd_th_chunk *c)
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
static rd_th_chunk *plist_add(plist *l, char **lo, char **hi)
{
    rd_th_chunk *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (!plist_push(l, c)) {
        free(c);
        return NULL;
    }
    c->lo = lo;
    c->hi = hi;
    c->rows[0] = c->rows[1] = -1;
    l->added++;
    return c;
}

static void plist_free(plist *l, size_t nkey)
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
static rd_status plist_to_sum(plist *l, const rd_th_table *t, int nsides, rd_th_sum *sum,
                              rd_error *err)
{
    memset(sum, 0, sizeof *sum);
    sum->chunks = calloc(l->n ? l->n : 1, sizeof *sum->chunks);
    if (!sum->chunks)
        return nomem(err);
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
static rd_status fold_equal(rd_th_pool *p, plist *l, int nsides, size_t nkey, rd_error *err)
{
    if (!l->fold)
        return RD_OK;
    rd_th_chunk **hand = NULL;
    size_t nhand = 0, w = 0;
    int prefix = nsides == 2 && l->on_differ; /* every chunk so far finished */
    if (prefix && !(hand = malloc((l->n ? l->n : 1) * sizeof *hand)))
        return nomem(err);
    rd_th_pool_lock(p);
    for (size_t i = 0; i < l->n; i++) {
        rd_th_chunk *c = l->v[i];
        i128 d[2] = {0, 0};
        int done = c->rows[0] >= 0 && (nsides == 1 || c->rows[1] >= 0);
        int fold = done && (nsides == 1 || !rd_th_chunk_differs(c));
        for (int s = 0; fold && !l->ordered && s < nsides; s++)
            fold = c->digest[s] && parse_i128(c->digest[s], &d[s]);
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

static rd_status maybe_fold(rd_th_pool *p, plist *l, int nsides, size_t nkey, rd_error *err)
{
    return l->added % FOLD_EVERY == 0 ? fold_equal(p, l, nsides, nkey, err) : RD_OK;
}

/* ---------- value ranges of a dense integer key ---------- */

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

typedef struct range_plan {
    i128 first; /* the smallest key */
    i128 width; /* key values per range */
    i128 n;     /* ranges */
} range_plan;

/* Rows of side 0 with from <= key < to. */
static rd_status count_between(rd_db *db, const rd_th_table *t, i128 from, i128 to, double timeout,
                               i128 *out, rd_error *err)
{
    char **lo = key_of(from - 1), **hi = key_of(to - 1);
    rd_strbuf sql;
    char *v = NULL;
    int found = 0;
    rd_strbuf_init(&sql, 0);
    rd_status st = lo && hi ? rd_th_sql_count(db, t, 0, lo, hi, &sql, err) : nomem(err);
    if (st == RD_OK)
        st = rd_db_scalar(db, sql.data, timeout, &v, &found, err);
    if (st == RD_OK && !(found && v && parse_i128(v, out)))
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
static rd_status plan_ranges(rd_db *db, const rd_th_table *t, int64_t step, double timeout,
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
             rd_db_cell(r, 0, 2) && parse_i128(rd_db_cell(r, 0, 0), &mn) &&
             parse_i128(rd_db_cell(r, 0, 1), &mx) && parse_i128(rd_db_cell(r, 0, 2), &est);
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
static rd_status range_table(rd_th_pool *p, const rd_th_table *t, int nsides, const char *where,
                             const range_plan *rp, plist *l, rd_error *err)
{
    rd_status st = RD_OK;
    l->ranged = 1;
    for (i128 i = 0; st == RD_OK && i < rp->n; i++) {
        char **lo = i > 0 ? key_of(rp->first - 1 + i * rp->width) : NULL;
        char **hi = i + 1 < rp->n ? key_of(rp->first - 1 + (i + 1) * rp->width) : NULL;
        rd_th_chunk *c = ((i == 0 || lo) && (i + 1 == rp->n || hi)) ? plist_add(l, lo, hi) : NULL;
        if (!c) {
            rd_th_keys_free(lo, 1);
            rd_th_keys_free(hi, 1);
            return nomem(err);
        }
        for (int s = 0; st == RD_OK && s < nsides; s++)
            st = rd_th_pool_digest(p, t, s, c, where, err);
        if (st == RD_OK)
            st = maybe_fold(p, l, nsides, t->nkey, err);
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
    rd_th_chunk *c = plist_add(u->out, lo, hi);
    if (!c) {
        rd_th_keys_free(lo, u->t->nkey);
        rd_th_keys_free(hi, u->t->nkey);
        return nomem(err);
    }
    rd_status st = RD_OK;
    for (int s = 0; st == RD_OK && s < u->nsides; s++)
        st = rd_th_pool_digest(u->p, u->t, s, c, u->where, err);
    return st == RD_OK ? maybe_fold(u->p, u->out, u->nsides, u->t->nkey, err) : st;
}

/* After the digests of a ranged table: cut every range holding more than
 * 2 x step rows (on either side) again by the walk on its larger side and
 * digest the pieces, so skew never leaves giant chunks. */
static rd_status recut_table(rd_th_pool *p, const rd_th_table *t, int nsides, const rd_th_opts *o,
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
            if (!plist_push(&out, c))
                st = nomem(err);
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
        plist_free(&out, t->nkey);
        return st;
    }
    out.ranged = 1;
    out.folded += l->folded; /* the totals of what was folded or handed before */
    out.handed += l->handed;
    for (int k = 0; k < 2; k++) {
        out.rows[k] += l->rows[k];
        out.fsum[k] += l->fsum[k];
    }
    plist_free(l, t->nkey); /* the ranges that were cut */
    *l = out;
    return RD_OK;
}

static rd_status walk_table(rd_th_pool *p, const rd_th_table *t, int nsides, const rd_th_opts *o,
                            plist *l, rd_error *err)
{
    int64_t step = o && o->chunk_rows > 0 ? o->chunk_rows : RD_TH_CHUNK_ROWS_DEFAULT;
    double timeout = o && o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
    const char *where = o ? o->where : NULL;
    char **lo = NULL;
    range_plan rp;
    int use = 0;
    rd_status st = plan_ranges(rd_th_pool_db(p, 0), t, step, timeout, &rp, &use, err);
    if (st != RD_OK || use)
        return st == RD_OK ? range_table(p, t, nsides, where, &rp, l, err) : st;
    rd_log_debug("%s: chunks of %lld rows by keyset walk", t->display, (long long)step);
    for (;;) {
        char **hi = NULL;
        if (t->nkey && (st = rd_th_step(rd_th_pool_db(p, 0), t, 0, lo, NULL, step, timeout, &hi,
                                        err)) != RD_OK)
            break;
        char **lo_copy = rd_th_keys_dup(lo, t->nkey);
        rd_th_chunk *c = (!lo || lo_copy) ? plist_add(l, lo_copy, hi) : NULL;
        if (!c) {
            rd_th_keys_free(lo_copy, t->nkey);
            rd_th_keys_free(hi, t->nkey);
            st = nomem(err);
            break;
        }
        for (int s = 0; st == RD_OK && s < nsides; s++)
            st = rd_th_pool_digest(p, t, s, c, where, err);
        if (st != RD_OK || !hi)
            break;
        rd_th_keys_free(lo, t->nkey);
        lo = rd_th_keys_dup(hi, t->nkey); /* hi belongs to c, which folding may free */
        if (!lo) {
            st = nomem(err);
            break;
        }
        if ((st = maybe_fold(p, l, nsides, t->nkey, err)) != RD_OK)
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
        return nomem(err);
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
        st = fold_equal(p, &lists[i], nsides, tabs[i]->nkey, err);
        if (st == RD_OK && lists[i].ranged && !(opts && opts->coarse_ok))
            st = recut_table(p, tabs[i], nsides, opts, &lists[i], err);
        if (st == RD_OK)
            st = fold_equal(p, &lists[i], nsides, tabs[i]->nkey, err);
        if (st != RD_OK)
            rd_error_prefix(err, "%s: ", tabs[i]->display);
    }
    for (size_t i = 0; st == RD_OK && i < ntabs; i++)
        st = plist_to_sum(&lists[i], tabs[i], nsides, &sums[i], err);
out:
    rd_th_pool_free(p);
    for (size_t i = 0; i < ntabs; i++)
        plist_free(&lists[i], tabs[i]->nkey);
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
