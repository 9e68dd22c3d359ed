/* tablehash_describe.c: describing a table for the chunked checksums: its
 * columns and key from the catalog, on one side or both (collations, the
 * primary key), and the MariaDB evaluation-order self-test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

#define META_TIMEOUT 120.0

const char *rd_th_algorithm(const rd_th_table *t)
{
    return t->engine == RD_ENGINE_PG ? RD_TH_ALGO_PG : RD_TH_ALGO_MARIADB;
}

void rd_th_table_free(rd_th_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
        free(t->cols[i].hash_expr);
        free(t->cols[i].key_expr);
        free(t->cols[i].collation);
    }
    free(t->cols);
    free(t->key);
    free(t->schema);
    free(t->name);
    free(t->display);
    free(t->qname[0]);
    free(t->qname[1]);
    free(t->row_hash);
    free(t->digest_list);
    free(t->order_by);
    free(t->key_list);
    free(t->ordered_row);
    free(t);
}

static rd_status describe_query(rd_db *db, const char *schema, const char *name, rd_strbuf *sql,
                                rd_error *err)
{
    rd_status st;
    if (rd_db_engine(db) == RD_ENGINE_PG) {
        st = rd_strbuf_append(
            sql,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
            "CASE WHEN a.attnotnull THEN '0' ELSE '1' END, t.typname, "
            "(SELECT k.ord FROM pg_index i, unnest(i.indkey) WITH ORDINALITY k(att, ord) "
            "WHERE i.indrelid = c.oid AND i.indisprimary AND k.att = a.attnum)::text, "
            "CASE WHEN co.oid IS NULL THEN NULL WHEN co.collname = 'default' THEN (SELECT "
            "'db:' || d.datcollate FROM pg_database d WHERE d.datname = current_database()) "
            "ELSE co.collnamespace::regnamespace::text || '.' || co.collname END "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid "
            "LEFT JOIN pg_collation co ON co.oid = a.attcollation "
            "WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname = ",
            err);
        if (st == RD_OK)
            st = rd_db_quote_literal(db, schema && *schema ? schema : "public", sql, err);
        if (st == RD_OK)
            st = rd_strbuf_append(sql, " AND c.relname = ", err);
        if (st == RD_OK)
            st = rd_db_quote_literal(db, name, sql, err);
        if (st == RD_OK)
            st = rd_strbuf_append(sql, " ORDER BY a.attnum", err);
        return st;
    }
    st = rd_strbuf_append(
        sql,
        "SELECT c.column_name, c.column_type, IF(c.is_nullable = 'YES', '1', '0'), "
        "LOWER(c.data_type), (SELECT s.seq_in_index FROM information_schema.statistics s "
        "WHERE s.table_schema = c.table_schema AND s.table_name = c.table_name AND "
        "s.index_name = 'PRIMARY' AND s.column_name = c.column_name) "
        "FROM information_schema.columns c WHERE c.table_schema = ",
        err);
    if (st == RD_OK && schema && *schema)
        st = rd_db_quote_literal(db, schema, sql, err);
    else if (st == RD_OK)
        st = rd_strbuf_append(sql, "DATABASE()", err);
    if (st == RD_OK)
        st = rd_strbuf_append(sql, " AND c.table_name = ", err);
    if (st == RD_OK)
        st = rd_db_quote_literal(db, name, sql, err);
    if (st == RD_OK)
        st = rd_strbuf_append(sql, " ORDER BY c.ordinal_position", err);
    return st;
}

/* MariaDB: the row hash reads back a user variable assigned earlier in the
 * same expression; refuse to checksum on a server that would evaluate the
 * read first (the digest would then mix neighbouring rows). */
static rd_status check_eval_order(rd_db *db, rd_error *err)
{
    char *v = NULL;
    int found = 0;
    rd_status st = rd_db_scalar(db,
                                "SELECT SUM(CRC32(@rd_row := x) << 32 | CRC32C(@rd_row)) = "
                                "SUM(CRC32(x) << 32 | CRC32C(x)) FROM (SELECT 'a' AS x UNION ALL "
                                "SELECT 'bc' UNION ALL SELECT 'def') d",
                                META_TIMEOUT, &v, &found, err);
    if (st == RD_OK && !(found && v && strcmp(v, "1") == 0))
        st = RD_ERR(err, RD_ERR_UNSUPPORTED,
                    "this server evaluates user variables out of order: cannot checksum");
    free(v);
    return st;
}

int rd_th_ordered_self_test(rd_db *db)
{
    char *v = NULL, *ok = NULL;
    int found = 0, good = 0;
    rd_error e;
    rd_error_clear(&e);
    if (rd_db_scalar(db,
                     "SELECT CRC32(@rd_g := GROUP_CONCAT(x SEPARATOR 0x1e)) FROM (SELECT 'a' AS x "
                     "UNION ALL SELECT 'bc' UNION ALL SELECT 'def') d",
                     META_TIMEOUT, &v, &found, &e) == RD_OK &&
        found && v && strspn(v, "0123456789") == strlen(v) && *v) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "SELECT CRC32(@rd_g) = %s AND LENGTH(@rd_g) = 8 AND @rd_g LIKE 'a%%def'", v);
        found = 0;
        good = rd_db_scalar(db, sql, META_TIMEOUT, &ok, &found, &e) == RD_OK && found && ok &&
               strcmp(ok, "1") == 0;
    }
    free(v);
    free(ok);
    return good;
}

static rd_status quote_table(rd_db *db, const char *schema, const char *name, char **out,
                             rd_error *err)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    rd_status st;
    if (rd_db_engine(db) == RD_ENGINE_PG)
        st = rd_db_quote_table(db, schema && *schema ? schema : "public", name, &sb, err);
    else
        st = rd_db_quote_table(db, schema, name, &sb, err);
    if (st == RD_OK && !(*out = rd_strbuf_detach(&sb)))
        st = rd_th_nomem_sql(err);
    rd_strbuf_free(&sb);
    return st;
}

/* 1 when the primary key of the table described by res (describe_query's
 * rows) is t's key, column for column. */
static int key_is_pk(const rd_th_table *t, const rd_db_result *res)
{
    size_t npk = 0;
    for (size_t r = 0; r < res->nrows; r++) {
        const char *pk = rd_db_cell(res, r, 4);
        if (!pk)
            continue;
        long p = strtol(pk, NULL, 10);
        if (p < 1 || (size_t)p > t->nkey ||
            strcmp(rd_db_cell(res, r, 0), t->cols[t->key[p - 1]].name) != 0)
            return 0;
        npk++;
    }
    return t->nkey > 0 && npk == t->nkey;
}

rd_status rd_th_describe(rd_db *db, const char *schema, const char *name, const rd_strlist *key,
                         rd_th_table **out, rd_error *err)
{
    rd_strbuf sql;
    rd_db_result *res = NULL;
    rd_th_table *t = calloc(1, sizeof *t);
    char **quoted = NULL, **lens = NULL;
    rd_status st = RD_OK;
    rd_strbuf_init(&sql, 0);
    if (!t)
        return rd_th_nomem_sql(err);
    t->engine = rd_db_engine(db);
    if ((st = rd_db_pin_session(db, err)) != RD_OK ||
        (t->engine == RD_ENGINE_MARIADB && (st = check_eval_order(db, err)) != RD_OK) ||
        (st = describe_query(db, schema, name, &sql, err)) != RD_OK ||
        (st = rd_db_query(db, sql.data, META_TIMEOUT, 0, &res, err)) != RD_OK)
        goto out;
    t->schema = rd_strdup(t->engine == RD_ENGINE_PG && !(schema && *schema) ? "public" : schema);
    t->name = rd_strdup(name);
    t->display =
        t->engine == RD_ENGINE_PG ? rd_asprintf("%s.%s", t->schema, name) : rd_strdup(name);
    if (!t->name || !t->display) {
        st = rd_th_nomem_sql(err);
        goto out;
    }
    if (res->nrows == 0) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "table %s does not exist", t->display);
        goto out;
    }
    t->ncols = res->nrows;
    t->cols = calloc(t->ncols, sizeof *t->cols);
    t->key = calloc(t->ncols, sizeof *t->key);
    quoted = calloc(t->ncols, sizeof *quoted);
    lens = calloc(t->ncols, sizeof *lens);
    if (!t->cols || !t->key || !quoted || !lens) {
        st = rd_th_nomem_sql(err);
        goto out;
    }
    size_t pkpos[64];
    size_t npk = 0;
    for (size_t i = 0; i < t->ncols; i++) {
        rd_th_column *c = &t->cols[i];
        const char *pk = rd_db_cell(res, i, 4);
        c->name = rd_strdup(rd_db_cell(res, i, 0));
        c->type = rd_strdup(rd_db_cell(res, i, 1));
        c->nullable = strcmp(rd_db_cell(res, i, 2), "1") == 0;
        if (t->engine == RD_ENGINE_PG && res->ncols > 5 && rd_db_cell(res, i, 5) &&
            !(c->collation = rd_strdup(rd_db_cell(res, i, 5)))) {
            st = rd_th_nomem_sql(err);
            goto out;
        }
        rd_strbuf q;
        rd_strbuf_init(&q, 0);
        if (!c->name || !c->type || rd_db_quote_ident(db, c->name, &q, err) != RD_OK ||
            !(quoted[i] = rd_strbuf_detach(&q))) {
            rd_strbuf_free(&q);
            st = rd_th_nomem_sql(err);
            goto out;
        }
        char *le = NULL;
        if (rd_th_column_exprs(t->engine, c, quoted[i], rd_db_cell(res, i, 3), &le) != RD_OK) {
            st = rd_th_nomem_sql(err);
            goto out;
        }
        if (le)
            lens[i] = le;
        if (pk && npk < sizeof pkpos / sizeof pkpos[0]) {
            char *end = NULL;
            long long p = strtoll(pk, &end, 10);
            if (*end == '\0' && p >= 1 && p <= (long long)t->ncols)
                pkpos[npk++] = ((size_t)p - 1) * 4096 + i; /* sort key: position, then column */
        }
    }
    if (key && key->n > 0) {
        for (size_t k = 0; k < key->n; k++) {
            size_t i = 0;
            while (i < t->ncols && strcmp(t->cols[i].name, key->items[k]) != 0)
                i++;
            if (i == t->ncols) {
                st = RD_ERR(err, RD_ERR_NOTFOUND, "key column %s is not a column of %s",
                            key->items[k], t->display);
                goto out;
            }
            t->key[t->nkey++] = i;
        }
    } else {
        for (size_t a = 0; a < npk; a++) /* insertion sort by key position */
            for (size_t b = a + 1; b < npk; b++)
                if (pkpos[b] < pkpos[a]) {
                    size_t x = pkpos[a];
                    pkpos[a] = pkpos[b];
                    pkpos[b] = x;
                }
        for (size_t a = 0; a < npk; a++)
            t->key[t->nkey++] = pkpos[a] % 4096;
    }
    t->ordered_side[0] = t->engine == RD_ENGINE_MARIADB && key_is_pk(t, res);
    if ((st = quote_table(db, t->schema, name, &t->qname[0], err)) != RD_OK)
        goto out;
    st = rd_th_build_lists(t, quoted, lens, err);
out:
    for (size_t i = 0; quoted && i < t->ncols; i++)
        free(quoted[i]);
    for (size_t i = 0; lens && i < t->ncols; i++)
        free(lens[i]);
    free(quoted);
    free(lens);
    rd_db_result_free(res);
    rd_strbuf_free(&sql);
    if (st == RD_OK)
        *out = t;
    else
        rd_th_table_free(t);
    return st;
}

/* PostgreSQL: when a key column's collation differs between side 0 and
 * side 1 (res: describe_query's rows of side 1), compare and order every
 * collatable key column under COLLATE "C" (order_by rebuilt); otherwise
 * keep the columns' own collation. */
static rd_status key_collations(rd_db *db, rd_th_table *t, const rd_db_result *res, rd_error *err)
{
    int differ = 0;
    for (size_t k = 0; k < t->nkey; k++) {
        const rd_th_column *c = &t->cols[t->key[k]];
        for (size_t r = 0; r < res->nrows; r++) {
            if (strcmp(rd_db_cell(res, r, 0), c->name) != 0)
                continue;
            const char *other = res->ncols > 5 ? rd_db_cell(res, r, 5) : NULL;
            if ((other == NULL) != (c->collation == NULL) ||
                (other && strcmp(other, c->collation) != 0))
                differ = 1;
        }
    }
    rd_strbuf ob, q;
    rd_strbuf_init(&ob, 0);
    rd_strbuf_init(&q, 0);
    rd_status st = RD_OK;
    for (size_t k = 0; st == RD_OK && k < t->nkey; k++) {
        rd_th_column *c = &t->cols[t->key[k]];
        c->collate_c = differ && c->collation != NULL;
        rd_strbuf_reset(&q);
        st = rd_db_quote_ident(db, c->name, &q, err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(&ob, err, "%s%s%s", k ? ", " : "", q.data,
                                   c->collate_c ? " COLLATE \"C\"" : "");
    }
    if (st == RD_OK && t->nkey) {
        char *s = rd_strbuf_detach(&ob);
        if (!s) {
            st = rd_th_nomem_sql(err);
        } else {
            free(t->order_by);
            t->order_by = s;
        }
    }
    if (st == RD_OK && differ)
        rd_log_debug("%s: the key's collation differs between the sides: keys compared under "
                     "COLLATE \"C\"",
                     t->display);
    rd_strbuf_free(&ob);
    rd_strbuf_free(&q);
    return st;
}

rd_status rd_th_table_other(rd_th_table *t, rd_db *db2, const char *schema, const char *name,
                            rd_error *err)
{
    rd_strbuf sql;
    rd_db_result *res = NULL;
    rd_status st;
    rd_strbuf_init(&sql, 0);
    if ((st = rd_db_pin_session(db2, err)) != RD_OK ||
        (t->engine == RD_ENGINE_MARIADB && (st = check_eval_order(db2, err)) != RD_OK) ||
        (st = describe_query(db2, schema, name, &sql, err)) != RD_OK ||
        (st = rd_db_query(db2, sql.data, META_TIMEOUT, 0, &res, err)) != RD_OK)
        goto out;
    if (res->nrows == 0) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "table %s does not exist in the other database", name);
        goto out;
    }
    for (size_t i = 0; i < t->ncols; i++) {
        size_t r = 0;
        while (r < res->nrows && strcmp(rd_db_cell(res, r, 0), t->cols[i].name) != 0)
            r++;
        if (r == res->nrows) {
            st = RD_ERR(err, RD_ERR_INTEGRITY, "column %s of %s is missing from the other database",
                        t->cols[i].name, t->display);
            goto out;
        }
    }
    if (t->engine == RD_ENGINE_PG && (st = key_collations(db2, t, res, err)) != RD_OK)
        goto out;
    t->ordered_side[1] = t->engine == RD_ENGINE_MARIADB && key_is_pk(t, res);
    free(t->qname[1]);
    t->qname[1] = NULL;
    st = quote_table(db2,
                     schema && *schema           ? schema
                     : t->engine == RD_ENGINE_PG ? "public"
                                                 : NULL,
                     name, &t->qname[1], err);
out:
    rd_db_result_free(res);
    rd_strbuf_free(&sql);
    return st;
}
