/* negative_plant.c: plant the negative control's faults into the scratch
 * database, each in a seeded random table distinct from the others' (see
 * negative.c). Every identifier is quoted with the engine's own function;
 * each statement must change exactly one row, else the next seeded
 * candidate is tried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negative_int.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

static int is_pg(const nc *c)
{
    return c->engine == RD_ENGINE_PG;
}

/* The object key checks use for a table: PostgreSQL schema.name, MariaDB name. */
static char *table_key(const nc *c, const char *schema, const char *name)
{
    return is_pg(c) && schema && *schema ? rd_asprintf("%s.%s", schema, name) : rd_strdup(name);
}

static int used(const nc *c, const char *key)
{
    for (size_t i = 0; i < c->nused; i++)
        if (strcmp(c->used[i], key) == 0)
            return 1;
    return 0;
}

static void use(nc *c, const char *key)
{
    if (c->nused < sizeof c->used / sizeof c->used[0])
        c->used[c->nused++] = rd_strdup(key);
}

/* A seeded permutation of 0..n-1 (heap; NULL on allocation failure). */
static size_t *shuffled(nc *c, size_t n)
{
    size_t *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = i;
    for (size_t i = n; p && i > 1; i--) {
        size_t j = (size_t)rd_prng_below(&c->prng, (uint64_t)i);
        size_t t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
    return p;
}

int rd_nc_exec(nc *c, const char *sql, int64_t want)
{
    int64_t n = -1;
    rd_error err;
    if (rd_db_exec(c->db, sql, NC_TIMEOUT, &n, &err) != RD_OK) {
        rd_log_debug("%s: negative control: %s: %s", c->dt->t->name, sql, err.msg);
        return 0;
    }
    return want < 0 || n == want;
}

static char *qtable(nc *c, const char *schema, const char *name)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 4096);
    if (rd_db_quote_table(c->db, is_pg(c) ? schema : NULL, name, &sb, NULL) != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

static char *qident(nc *c, const char *name)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 4096);
    if (rd_db_quote_ident(c->db, name, &sb, NULL) != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

static char *qlit(nc *c, const char *v)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 4096);
    if (rd_db_quote_literal(c->db, v, &sb, NULL) != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

static void set_fault(fault *f, int planted, char *object, char *what, const char *why_not)
{
    f->planted = planted;
    f->object = object;
    f->what = what;
    f->why_not = why_not ? rd_strdup(why_not) : NULL;
}

/* ---- orphaned row: a single-column integer foreign key ---- */

static const char pg_fks[] =
    "SELECT cn.nspname, cl.relname, c.conname, a.attname, pn.nspname, pcl.relname, pa.attname "
    "FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid "
    "JOIN pg_namespace cn ON cn.oid = cl.relnamespace JOIN pg_class pcl ON pcl.oid = c.confrelid "
    "JOIN pg_namespace pn ON pn.oid = pcl.relnamespace "
    "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
    "JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1] "
    "WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 "
    "AND format_type(a.atttypid, NULL) IN ('integer', 'bigint') "
    "AND cn.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3";
static const char my_fks[] =
    "SELECT k.TABLE_SCHEMA, k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, "
    "k.REFERENCED_TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME "
    "FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.COLUMNS c "
    "ON c.TABLE_SCHEMA = k.TABLE_SCHEMA AND c.TABLE_NAME = k.TABLE_NAME "
    "AND c.COLUMN_NAME = k.COLUMN_NAME "
    "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
    "AND c.DATA_TYPE IN ('int', 'bigint') AND (SELECT COUNT(*) FROM "
    "information_schema.KEY_COLUMN_USAGE k2 WHERE k2.TABLE_SCHEMA = k.TABLE_SCHEMA AND "
    "k2.TABLE_NAME = k.TABLE_NAME AND k2.CONSTRAINT_NAME = k.CONSTRAINT_NAME) = 1 "
    "ORDER BY 1, 2, 3";

/* Plant the orphan; *parent gets the parent's key (heap) so that the
 * deleted row is not taken from it. */
void rd_nc_plant_orphan(nc *c, char **parent)
{
    rd_db_result *r = NULL;
    rd_error err;
    fault *f = &c->f[F_ORPHAN];
    if (rd_db_query(c->db, is_pg(c) ? pg_fks : my_fks, NC_TIMEOUT, 0, &r, &err) != RD_OK) {
        set_fault(f, -1, NULL, NULL, err.msg);
        return;
    }
    size_t *order = shuffled(c, r->nrows);
    for (size_t k = 0; order && k < r->nrows && f->planted <= 0; k++) {
        size_t i = order[k];
        const char *cs = rd_db_cell(r, i, 0), *ct = rd_db_cell(r, i, 1), *cn = rd_db_cell(r, i, 2);
        const char *col = rd_db_cell(r, i, 3), *ps = rd_db_cell(r, i, 4);
        const char *pt = rd_db_cell(r, i, 5), *pcol = rd_db_cell(r, i, 6);
        char *child = qtable(c, cs, ct), *par = qtable(c, ps, pt), *qc = qident(c, col);
        char *qp = qident(c, pcol), *sql = NULL;
        if (child && par && qc && qp) {
            if (is_pg(c))
                sql = rd_asprintf("UPDATE %s SET %s = (SELECT coalesce(max(%s), 0) + 1000003 FROM "
                                  "%s) WHERE ctid = (SELECT ctid FROM %s WHERE %s IS NOT NULL "
                                  "LIMIT 1)",
                                  child, qc, qp, par, child, qc);
            else
                sql = rd_asprintf("UPDATE %s SET %s = (SELECT m FROM (SELECT COALESCE(MAX(%s), 0) "
                                  "+ 1000003 AS m FROM %s) x) WHERE %s IS NOT NULL LIMIT 1",
                                  child, qc, qp, par, qc);
        }
        if (sql && rd_nc_exec(c, sql, 1)) {
            char *ck = table_key(c, cs, ct);
            set_fault(f, 1, rd_asprintf("%s.%s", ck, cn),
                      rd_asprintf("%s: one row's %s set to a value %s does not hold (foreign key "
                                  "%s)",
                                  ck, col, pt, cn),
                      NULL);
            use(c, ck);
            *parent = table_key(c, ps, pt);
            free(ck);
        }
        free(sql);
        free(child);
        free(par);
        free(qc);
        free(qp);
    }
    if (f->planted <= 0 && !f->why_not)
        set_fault(f, r->nrows ? -1 : 0, NULL, NULL,
                  r->nrows ? "no foreign key accepted an orphaned row"
                           : "no single-column integer foreign key in the restored database");
    free(order);
    rd_db_result_free(r);
}

/* ---- deleted row and changed value ---- */

void rd_nc_plant_delete(nc *c, const rd_db_tables *tabs, const char *parent)
{
    fault *f = &c->f[F_DELETE];
    size_t *order = shuffled(c, tabs->n);
    for (size_t k = 0; order && k < tabs->n && f->planted <= 0; k++) {
        const rd_db_table *t = &tabs->items[order[k]];
        char *key = table_key(c, t->schema, t->name), *q = qtable(c, t->schema, t->name);
        char *sql = NULL;
        if (key && q && !used(c, key) && !(parent && strcmp(parent, key) == 0))
            sql = is_pg(c) ? rd_asprintf("DELETE FROM %s WHERE ctid = (SELECT ctid FROM %s LIMIT "
                                         "1)",
                                         q, q)
                           : rd_asprintf("DELETE FROM %s LIMIT 1", q);
        if (sql && rd_nc_exec(c, sql, 1)) {
            set_fault(f, 1, rd_strdup(key), rd_asprintf("%s: one row deleted", key), NULL);
            use(c, key);
        }
        free(sql);
        free(key);
        free(q);
    }
    if (f->planted <= 0)
        set_fault(f, 0, NULL, NULL, "no other table with a row to delete");
    free(order);
}

/* Columns of a table whose value can be changed, with the new-value
 * expression (%1$s is the quoted column) and the row condition. */
static const char pg_cols[] =
    "SELECT column_name, data_type FROM information_schema.columns c WHERE table_schema = %s AND "
    "table_name = %s AND is_generated = 'NEVER' AND data_type IN ('integer', 'bigint', "
    "'numeric', 'real', 'double precision', 'text', 'character varying', 'date', "
    "'timestamp without time zone', 'timestamp with time zone', 'boolean') AND NOT EXISTS "
    "(SELECT 1 FROM information_schema.key_column_usage k WHERE k.table_schema = c.table_schema "
    "AND k.table_name = c.table_name AND k.column_name = c.column_name) ORDER BY ordinal_position";
static const char my_cols[] =
    "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS c WHERE TABLE_SCHEMA = "
    "DATABASE() AND TABLE_NAME = %s AND EXTRA NOT LIKE '%%GENERATED%%' AND DATA_TYPE IN ('int', "
    "'bigint', 'smallint', 'mediumint', 'decimal', 'double', 'float', 'varchar', 'text', "
    "'date', 'datetime', 'timestamp') AND NOT EXISTS (SELECT 1 FROM "
    "information_schema.KEY_COLUMN_USAGE k WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND "
    "k.TABLE_NAME = c.TABLE_NAME AND k.COLUMN_NAME = c.COLUMN_NAME) ORDER BY ORDINAL_POSITION";

/* The new-value expression for column qc of type ty (heap). */
static char *change_expr(const nc *c, const char *qc, const char *ty, int *text)
{
    int when = strncmp(ty, "timestamp", 9) == 0 || strcmp(ty, "datetime") == 0;
    *text = strcmp(ty, "text") == 0 || strcmp(ty, "character varying") == 0 ||
            strcmp(ty, "varchar") == 0;
    if (is_pg(c)) {
        if (*text)
            return rd_asprintf("left(%s, -1) || CASE WHEN right(%s, 1) = 'x' THEN 'y' ELSE 'x' "
                               "END",
                               qc, qc);
        if (when)
            return rd_asprintf("%s + interval '1 day'", qc);
        if (strcmp(ty, "boolean") == 0)
            return rd_asprintf("NOT %s", qc);
        return rd_asprintf("%s + 1", qc);
    }
    if (*text)
        return rd_asprintf("CONCAT(LEFT(%s, CHAR_LENGTH(%s) - 1), IF(RIGHT(%s, 1) = 'x', 'y', "
                           "'x'))",
                           qc, qc, qc);
    if (when || strcmp(ty, "date") == 0)
        return rd_asprintf("%s + INTERVAL 1 DAY", qc);
    return rd_asprintf("%s + 1", qc);
}

/* The UPDATE that changes one value of column qc (type ty) in table q. */
static char *change_sql(const nc *c, const char *q, const char *qc, const char *ty)
{
    int text = 0;
    char *e = change_expr(c, qc, ty, &text), *s = NULL;
    if (!e)
        return NULL;
    if (is_pg(c))
        s = rd_asprintf("UPDATE %s SET %s = %s WHERE ctid = (SELECT ctid FROM %s WHERE %s IS NOT "
                        "NULL%s%s%s LIMIT 1)",
                        q, qc, e, q, qc, text ? " AND length(" : "", text ? qc : "",
                        text ? ") > 0" : "");
    else
        s = rd_asprintf("UPDATE %s SET %s = %s WHERE %s IS NOT NULL%s%s%s LIMIT 1", q, qc, e, qc,
                        text ? " AND CHAR_LENGTH(" : "", text ? qc : "", text ? ") > 0" : "");
    free(e);
    return s;
}

void rd_nc_plant_change(nc *c, const rd_db_tables *tabs)
{
    fault *f = &c->f[F_CHANGE];
    size_t *order = shuffled(c, tabs->n);
    for (size_t k = 0; order && k < tabs->n && f->planted <= 0; k++) {
        const rd_db_table *t = &tabs->items[order[k]];
        char *key = table_key(c, t->schema, t->name), *q = qtable(c, t->schema, t->name);
        char *ls = qlit(c, t->schema ? t->schema : ""), *ln = qlit(c, t->name), *sql = NULL;
        rd_db_result *r = NULL;
        rd_error err;
        if (key && q && ls && ln && !used(c, key))
            sql = is_pg(c) ? rd_asprintf(pg_cols, ls, ln) : rd_asprintf(my_cols, ln);
        if (sql && rd_db_query(c->db, sql, NC_TIMEOUT, 0, &r, &err) == RD_OK) {
            for (size_t i = 0; i < r->nrows && f->planted <= 0; i++) {
                char *qc = qident(c, rd_db_cell(r, i, 0));
                char *up = qc ? change_sql(c, q, qc, rd_db_cell(r, i, 1)) : NULL;
                if (up && rd_nc_exec(c, up, 1)) {
                    set_fault(f, 1, rd_strdup(key),
                              rd_asprintf("%s: one row's %s changed", key, rd_db_cell(r, i, 0)),
                              NULL);
                    use(c, key);
                }
                free(up);
                free(qc);
            }
        }
        rd_db_result_free(r);
        free(sql);
        free(key);
        free(q);
        free(ls);
        free(ln);
    }
    if (f->planted <= 0)
        set_fault(f, 0, NULL, NULL, "no other table with a value that can be changed");
    free(order);
}

/* ---- dropped index ---- */

static const char pg_idx[] =
    "SELECT n.nspname, i.relname, t.relname FROM pg_index x JOIN pg_class i ON i.oid = "
    "x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = "
    "i.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname "
    "NOT LIKE 'pg_toast%' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
    "x.indexrelid) ORDER BY 1, 2";
static const char my_idx[] =
    "SELECT DISTINCT s.TABLE_SCHEMA, s.INDEX_NAME, s.TABLE_NAME FROM information_schema.STATISTICS "
    "s WHERE s.TABLE_SCHEMA = DATABASE() AND s.INDEX_NAME <> 'PRIMARY' AND NOT EXISTS (SELECT 1 "
    "FROM information_schema.TABLE_CONSTRAINTS c WHERE c.TABLE_SCHEMA = s.TABLE_SCHEMA AND "
    "c.TABLE_NAME = s.TABLE_NAME AND c.CONSTRAINT_NAME = s.INDEX_NAME) ORDER BY 1, 3, 2";

void rd_nc_plant_index(nc *c)
{
    rd_db_result *r = NULL;
    rd_error err;
    fault *f = &c->f[F_INDEX];
    if (rd_db_query(c->db, is_pg(c) ? pg_idx : my_idx, NC_TIMEOUT, 0, &r, &err) != RD_OK) {
        set_fault(f, -1, NULL, NULL, err.msg);
        return;
    }
    size_t *order = shuffled(c, r->nrows);
    for (size_t k = 0; order && k < r->nrows && f->planted <= 0; k++) {
        size_t i = order[k];
        const char *s = rd_db_cell(r, i, 0), *idx = rd_db_cell(r, i, 1), *tn = rd_db_cell(r, i, 2);
        char *qi = is_pg(c) ? qtable(c, s, idx) : qident(c, idx), *qt = qtable(c, s, tn);
        char *sql = qi && qt ? (is_pg(c) ? rd_asprintf("DROP INDEX %s", qi)
                                         : rd_asprintf("ALTER TABLE %s DROP INDEX %s", qt, qi))
                             : NULL;
        if (sql && rd_nc_exec(c, sql, -1)) {
            char *key = table_key(c, s, tn);
            set_fault(f, 1, rd_strdup("indexes"),
                      rd_asprintf("%s: index %s dropped", key ? key : tn, idx), NULL);
            free(key);
        }
        free(sql);
        free(qi);
        free(qt);
    }
    if (f->planted <= 0)
        set_fault(f, r->nrows ? -1 : 0, NULL, NULL,
                  r->nrows ? "no index could be dropped"
                           : "no index outside a constraint in the restored database");
    free(order);
    rd_db_result_free(r);
}

/* ---- re-run and verdicts ---- */
