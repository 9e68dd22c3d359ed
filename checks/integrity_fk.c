/* integrity_fk.c: the integrity check's foreign keys, both engines: the
 * child rows whose non-NULL key has no parent row (a LEFT JOIN anti-join),
 * with a sample of the orphan keys, one result per foreign key. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_util.h"
#include "integrity_int.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

/* ---------- foreign keys, both engines ---------- */

/* Columns: constraint, schema, table, ref schema, ref table, position,
 * column, ref column; ordered by table, constraint, position. */
static const char pg_fk_sql[] =
    "SELECT c.conname, n.nspname, cl.relname, fn.nspname, fcl.relname, k.ord, a.attname, "
    "fa.attname FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n "
    "ON n.oid = cl.relnamespace JOIN pg_class fcl ON fcl.oid = c.confrelid JOIN pg_namespace fn "
    "ON fn.oid = fcl.relnamespace CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY "
    "AS k(attnum, fattnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = "
    "k.attnum JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum WHERE "
    "c.contype = 'f' AND c.conparentid = 0 AND n.nspname NOT IN ('pg_catalog', "
    "'information_schema') AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY n.nspname COLLATE \"C\", "
    "cl.relname COLLATE \"C\", c.conname COLLATE \"C\", k.ord";
static const char my_fk_sql[] =
    "SELECT constraint_name, table_schema, table_name, referenced_table_schema, "
    "referenced_table_name, ordinal_position, column_name, referenced_column_name FROM "
    "information_schema.key_column_usage WHERE table_schema = DATABASE() AND "
    "referenced_table_name IS NOT NULL ORDER BY BINARY table_name, BINARY constraint_name, "
    "ordinal_position";

/* The anti-join for the foreign key in rows [from, to) of fk, grouped by
 * the orphan key: columns k0.. (names in knames) and n (rows). */
static rd_status orphan_sql(rd_db *db, const rd_db_result *fk, size_t from, size_t to,
                            rd_strbuf *sql, rd_strbuf *cols, rd_strbuf *knames, rd_error *err)
{
    rd_strbuf on, notnull, keys, alias;
    rd_status st;
    rd_strbuf_init(&alias, 0);
    rd_strbuf_init(&on, 0);
    rd_strbuf_init(&notnull, 0);
    rd_strbuf_init(&keys, 0);
    for (size_t i = from; i < to; i++) {
        const char *sep = i > from ? ", " : "";
        const char *and = i > from ? " AND " : "";
        if ((st = rd_strbuf_appendf(&on, err, "%sp.", and)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 7), &on, err)) != RD_OK ||
            (st = rd_strbuf_append(&on, " = c.", err)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &on, err)) != RD_OK ||
            (st = rd_strbuf_appendf(&notnull, err, "%sc.", and)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &notnull, err)) != RD_OK ||
            (st = rd_strbuf_append(&notnull, " IS NOT NULL", err)) != RD_OK ||
            (st = rd_strbuf_appendf(&keys, err, "%sc.", sep)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &keys, err)) != RD_OK ||
            (st = rd_strbuf_appendf(&alias, err, "%sc.", sep)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &alias, err)) != RD_OK ||
            (st = rd_strbuf_appendf(&alias, err, " AS k%zu", i - from)) != RD_OK ||
            (st = rd_strbuf_appendf(knames, err, "%sk%zu", sep, i - from)) != RD_OK ||
            (st = rd_strbuf_appendf(cols, err, "%s%s", sep, rd_db_cell(fk, i, 6))) != RD_OK)
            goto out;
    }
    if ((st = rd_strbuf_appendf(sql, err, "SELECT %s, count(*) AS n FROM ", alias.data)) != RD_OK ||
        (st = rd_db_quote_table(db, rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 2), sql, err)) !=
            RD_OK ||
        (st = rd_strbuf_append(sql, " AS c LEFT JOIN ", err)) != RD_OK ||
        (st = rd_db_quote_table(db, rd_db_cell(fk, from, 3), rd_db_cell(fk, from, 4), sql, err)) !=
            RD_OK ||
        (st = rd_strbuf_appendf(sql, err, " AS p ON %s WHERE %s AND p.", on.data, notnull.data)) !=
            RD_OK ||
        (st = rd_db_quote_ident(db, rd_db_cell(fk, from, 7), sql, err)) != RD_OK)
        goto out;
    st = rd_strbuf_appendf(sql, err, " IS NULL GROUP BY %s", keys.data);
out:
    rd_strbuf_free(&on);
    rd_strbuf_free(&notnull);
    rd_strbuf_free(&keys);
    rd_strbuf_free(&alias);
    return st;
}

static void fk_one(rd_check_ctx *ctx, const rd_db_result *fk, size_t from, size_t to)
{
    rd_engine engine = rd_db_engine(ctx->scratch);
    double t0 = rd_mono_now();
    rd_error err = {0};
    rd_strbuf sql, inner, cols, knames, refcols;
    rd_db_result *r = NULL, *tot = NULL;
    rd_cku_list sample;
    char *table = rd_cku_table_key(engine, rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 2));
    char *parent = rd_cku_table_key(engine, rd_db_cell(fk, from, 3), rd_db_cell(fk, from, 4));
    char *obj = table ? rd_asprintf("%s.%s", table, rd_db_cell(fk, from, 0)) : NULL;
    rd_strbuf_init(&sql, 0);
    rd_strbuf_init(&inner, 0);
    rd_strbuf_init(&cols, 0);
    rd_strbuf_init(&knames, 0);
    rd_strbuf_init(&refcols, 0);
    rd_cku_list_init(&sample, SAMPLE_KEYS);
    if (!obj || !parent)
        goto out;
    if (engine == RD_ENGINE_MARIADB && strcmp(rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 3))) {
        free(parent); /* a parent in another database keeps its database name */
        parent = rd_asprintf("%s.%s", rd_db_cell(fk, from, 3), rd_db_cell(fk, from, 4));
        if (!parent)
            goto out;
    }
    for (size_t i = from; i < to; i++)
        rd_strbuf_appendf(&refcols, NULL, "%s%s", i > from ? ", " : "", rd_db_cell(fk, i, 7));
    /* totals first; the sample of keys only when there are orphans */
    rd_status st = orphan_sql(ctx->scratch, fk, from, to, &inner, &cols, &knames, &err);
    if (st == RD_OK)
        st = rd_strbuf_appendf(&sql, &err, "SELECT COALESCE(sum(n), 0), count(*) FROM (%s) AS o",
                               inner.data);
    if (st == RD_OK)
        st = rd_db_query(ctx->scratch, sql.data, rd_cku_timeout(ctx), 1, &tot, &err);
    if (st == RD_OK && tot->nrows == 1 && strcmp(rd_db_cell(tot, 0, 0), "0") != 0) {
        rd_strbuf_reset(&sql);
        st = rd_strbuf_appendf(&sql, &err, "SELECT %s FROM (%s) AS o ORDER BY %s LIMIT %d",
                               knames.data, inner.data, knames.data, SAMPLE_KEYS);
        if (st == RD_OK)
            st = rd_db_query(ctx->scratch, sql.data, rd_cku_timeout(ctx), SAMPLE_KEYS, &r, &err);
    }
    if (st != RD_OK) {
        rd_check_record(ctx, obj, RD_ERROR, rd_mono_now() - t0, "cannot look for orphan rows: %s",
                        err.msg);
        goto out;
    }
    double secs = rd_mono_now() - t0;
    long long rows = tot->nrows ? strtoll(rd_db_cell(tot, 0, 0), NULL, 10) : 0;
    long long keys = tot->nrows ? strtoll(rd_db_cell(tot, 0, 1), NULL, 10) : 0;
    rd_check_result *c;
    if (rows == 0) {
        c = rd_check_record(ctx, obj, RD_PASSED, secs, "no orphan rows: (%s) references %s (%s)",
                            cols.data, parent, refcols.data);
    } else {
        for (size_t i = 0; r && i < r->nrows; i++) {
            rd_strbuf key;
            rd_strbuf_init(&key, 0);
            for (size_t k = 0; k < r->ncols; k++)
                rd_strbuf_appendf(&key, NULL, "%s%.40s", k > 0 ? ", " : "",
                                  rd_db_cell(r, i, k) ? rd_db_cell(r, i, k) : "NULL");
            rd_cku_list_add(&sample, NULL, to - from > 1 ? "(%s)" : "%s", key.data);
            rd_strbuf_free(&key);
        }
        sample.n = keys > 0 ? (size_t)keys : sample.n; /* " and N more" counts every key */
        c = rd_check_record(
            ctx, obj, RD_FAILED, secs, "%lld orphan row%s: (%s) not found in %s (%s): %s", rows,
            rows == 1 ? "" : "s", cols.data, parent, refcols.data, rd_cku_list_text(&sample));
    }
    if (c) {
        rd_check_set_expected(c, "0 orphan rows");
        rd_check_set_actual(c, "%lld orphan row%s", rows, rows == 1 ? "" : "s");
        rd_check_add_prop(c, "orphan_rows", "%lld", rows);
        rd_check_add_prop(c, "orphan_keys", "%lld", keys);
    }
out:
    rd_cku_list_free(&sample);
    rd_db_result_free(r);
    rd_db_result_free(tot);
    rd_strbuf_free(&sql);
    rd_strbuf_free(&inner);
    rd_strbuf_free(&cols);
    rd_strbuf_free(&knames);
    rd_strbuf_free(&refcols);
    free(obj);
    free(table);
    free(parent);
}

/* The selected foreign keys: rows [from[i], to[i]) of fk each. */
typedef struct fk_units {
    const rd_db_result *fk;
    size_t *from, *to;
} fk_units;

static void fk_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    const fk_units *fu = ud;
    fk_one(ctx, fu->fk, fu->from[i], fu->to[i]);
}

rd_status rd_integrity_foreign_keys(rd_check_ctx *ctx, const integrity_state *s, rd_error *err)
{
    rd_db_result *fk = NULL;
    int pg = rd_db_engine(ctx->scratch) == RD_ENGINE_PG;
    rd_status st =
        rd_db_query(ctx->scratch, pg ? pg_fk_sql : my_fk_sql, rd_cku_timeout(ctx), 0, &fk, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "listing foreign keys: ");
    fk_units fu = {fk, NULL, NULL};
    size_t n = 0;
    if (fk->nrows && !(fu.from = calloc(2 * fk->nrows, sizeof *fu.from)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    fu.to = fu.from ? fu.from + fk->nrows : NULL;
    for (size_t from = 0; st == RD_OK && from < fk->nrows;) {
        size_t to = from + 1;
        while (to < fk->nrows && strcmp(rd_db_cell(fk, to, 0), rd_db_cell(fk, from, 0)) == 0 &&
               strcmp(rd_db_cell(fk, to, 1), rd_db_cell(fk, from, 1)) == 0 &&
               strcmp(rd_db_cell(fk, to, 2), rd_db_cell(fk, from, 2)) == 0)
            to++;
        if (rd_cku_table_selected(&s->tables, rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 2))) {
            fu.from[n] = from;
            fu.to[n++] = to;
        }
        from = to;
    }
    if (st == RD_OK)
        st = rd_check_units(ctx, n, fk_unit, &fu, err); /* one anti-join per foreign key */
    free(fu.from);
    rd_db_result_free(fk);
    return st;
}
