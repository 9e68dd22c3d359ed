/* diff.c: the `diff` check: row-level differences against the live
 * reference database, by bisection over chunk checksums (tablediff.h).
 *
 *   { "type": "diff",
 *     "tables": ["public.orders"],          optional globs; default: every reference table
 *     "where": "updated_at <= '{point.created_at}'",  optional, templated: rows newer
 *                                           than the recovery point are left out
 *     "key": ["id"],                        optional key column(s), as `diff --key`: for
 *                                           tables without a primary key, or to diff by
 *                                           another unique key; a lone string is one column
 *     "max_rows": 20,                       differing keys named per table (default 20)
 *     "leaf_rows": 10000, "parallel": 2 }  optional
 *     "chunk_rows": N                       optional: first-level chunks of N rows,
 *                                           bisected down to leaf_rows; by default the
 *                                           first-level chunks are leaf_rows long and a
 *                                           mismatching one is compared row by row at once
 *
 * One result per reference table: passed when no row differs, failed with
 * exact counts of missing / extra / changed rows and the first max_rows
 * keys, failed "table missing from the restore", skipped for a table
 * without a primary key when no "key" is given. Needs reference.dsn (an
 * error otherwise). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/scratch.h"
#include "restoredrill/tablediff.h"

typedef struct diff_state {
    rd_strlist tables, key;
    char *where;
    long long max_rows, chunk_rows, leaf_rows, parallel;
} diff_state;

static void diff_free(void *p)
{
    diff_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->tables);
    rd_strlist_free(&s->key);
    free(s->where);
    free(s);
}

static rd_status diff_configure(const cJSON *params, const char *path, rd_engine engine,
                                void **state, rd_error *err)
{
    static const char *const keys[] = {
        RD_CHECK_COMMON_KEYS, "tables",    "key",      "where", "max_rows",
        "chunk_rows",         "leaf_rows", "parallel", NULL};
    (void)engine;
    rd_status st;
    diff_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->max_rows = 20;
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "tables", 1, &s->tables, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "key", 1, &s->key, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "where", 0, &s->where, err)) != RD_OK ||
        (st = rd_cfg_int(params, path, "max_rows", 0, 100000, &s->max_rows, err)) != RD_OK ||
        (st = rd_cfg_int(params, path, "chunk_rows", 1, 1000000000LL, &s->chunk_rows, err)) !=
            RD_OK ||
        (st = rd_cfg_int(params, path, "leaf_rows", 1, 10000000LL, &s->leaf_rows, err)) != RD_OK ||
        (st = rd_cfg_int(params, path, "parallel", 1, 64, &s->parallel, err)) != RD_OK) {
        diff_free(s);
        return st;
    }
    *state = s;
    return RD_OK;
}

static void record(rd_check_ctx *ctx, const char *obj, const rd_diff_result *r, double secs)
{
    int64_t total = r->missing + r->extra + r->changed;
    rd_check_result *c;
    if (!total) {
        c = rd_check_record(ctx, obj, RD_PASSED, secs, "no differences in %lld rows",
                            (long long)r->rows_a);
    } else {
        rd_cku_list l;
        rd_cku_list_init(&l, 5);
        for (size_t i = 0; i < r->nrows; i++)
            rd_cku_list_add(&l, NULL, "%s %s", rd_diff_kind_name(r->rows[i].kind), r->rows[i].key);
        c = rd_check_record(ctx, obj, RD_FAILED, secs,
                            "%lld missing, %lld extra, %lld changed rows: %s%s",
                            (long long)r->missing, (long long)r->extra, (long long)r->changed,
                            rd_cku_list_text(&l), (int64_t)r->nrows < total ? " ..." : "");
        if (c)
            rd_check_set_output(c, l.full.data);
        rd_cku_list_free(&l);
    }
    if (!c)
        return;
    rd_check_set_expected(c, "%lld rows", (long long)r->rows_b);
    rd_check_set_actual(c, "%lld rows, %lld missing, %lld extra, %lld changed",
                        (long long)r->rows_a, (long long)r->missing, (long long)r->extra,
                        (long long)r->changed);
    rd_check_add_prop(c, "missing", "%lld", (long long)r->missing);
    rd_check_add_prop(c, "extra", "%lld", (long long)r->extra);
    rd_check_add_prop(c, "changed", "%lld", (long long)r->changed);
}

typedef struct diff_walk {
    rd_th_side sides[2];
    rd_diff_opts o;
    const rd_strlist *key; /* the check's "key", or NULL */
} diff_walk;

static void db_table_at(const void *list, size_t i, const char **schema, const char **name)
{
    const rd_db_tables *t = list;
    *schema = t->items[i].schema;
    *name = t->items[i].name;
}

static rd_status diff_table(rd_check_ctx *ctx, size_t i, const char *schema, const char *name,
                            const char *obj, void *ud, int *missing, rd_error *err)
{
    diff_walk *w = ud;
    rd_th_table *t = NULL;
    rd_diff_result r;
    double t0 = rd_mono_now();
    (void)i;
    memset(&r, 0, sizeof r);
    rd_status st =
        rd_th_describe(ctx->scratch, schema, name, w->key && w->key->n ? w->key : NULL, &t, err);
    /* "key column c is not a column of x" is no missing table */
    if (st == RD_ERR_NOTFOUND && !t && strstr(err->msg, "does not exist")) {
        *missing = 1;
    } else if (st == RD_OK && t->nkey == 0) {
        rd_check_record(ctx, obj, RD_SKIPPED, 0, "no primary key to diff by (give \"key\")");
    } else {
        if (st == RD_OK)
            st = rd_th_table_other(t, ctx->reference, schema, name, err);
        if (st == RD_OK)
            st = rd_tablediff(w->sides, t, &w->o, &r, err);
        if (st == RD_OK)
            record(ctx, obj, &r, rd_mono_now() - t0);
    }
    rd_diff_result_clear(&r);
    rd_th_table_free(t);
    return st;
}

static rd_status diff_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    diff_state none = {0};
    diff_state *s = state ? state : &none;
    rd_db_tables tabs = {0};
    char *where = NULL;
    rd_status st = RD_OK;
    if (!ctx->reference)
        return RD_ERR(err, RD_ERR_CONFIG, "diff needs a reference database (reference.dsn)");
    if (s->where && (st = rd_template_expand(s->where, ctx->tvars, &where, err)) != RD_OK)
        return st;
    if ((st = rd_db_list_tables(ctx->reference, &tabs, err)) != RD_OK) {
        rd_error_prefix(err, "listing reference tables: ");
        goto out;
    }
    rd_db_opts opts[2];
    diff_walk w;
    memset(&w, 0, sizeof w);
    rd_cku_sides(ctx, opts, w.sides);
    w.o.th.chunk_rows = s->chunk_rows;
    w.o.th.parallel = (int)s->parallel;
    w.o.th.where = where;
    w.o.th.timeout = rd_cku_timeout(ctx);
    w.o.leaf_rows = s->leaf_rows;
    w.o.max_rows = state ? s->max_rows : 20;
    w.key = &s->key;
    st = rd_cku_each_table(ctx, &s->tables, tabs.n, db_table_at, &tabs, diff_table, &w, err);
out:
    rd_db_tables_free(&tabs);
    free(where);
    return st;
}

const rd_check_type rd_check_diff = {
    .name = "diff",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .configure = diff_configure,
    .run = diff_run,
    .free = diff_free,
    .skips = RD_ENGINE_DYNAMODB | RD_ENGINE_S3,
};
