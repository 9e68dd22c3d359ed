/* manifest_pg.c: PostgreSQL catalog queries for the manifest. Every schema
 * but pg_catalog, information_schema, pg_toast* and pg_temp*; objects that
 * belong to an extension (pg_depend deptype 'e') are left out, so restoring
 * an extension does not look like extra routines. */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"

#define T 600.0
#define USER_NS                                                                                    \
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "  \
    "AND n.nspname NOT LIKE 'pg\\_temp\\_%' "
#define NOT_EXT(cls, oid)                                                                          \
    "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '" cls "'::regclass "                 \
    "AND d.objid = " oid " AND d.deptype = 'e') "

static const char Q_TABLES[] =
    "SELECT n.nspname, c.relname FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND " USER_NS "AND " NOT_EXT("pg_class", "c.oid");

static const char Q_COLUMNS[] =
    "SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), "
    "a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND " USER_NS
    "ORDER BY n.nspname, c.relname, a.attnum";

static const char Q_PK[] =
    "SELECT n.nspname, c.relname, a.attname FROM pg_index i "
    "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
    "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum "
    "WHERE i.indisprimary AND " USER_NS "ORDER BY n.nspname, c.relname, k.ord";

static const char Q_INDEXES[] =
    "SELECT n.nspname, c.relname, ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
    "JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE " USER_NS
    "ORDER BY n.nspname, c.relname, ic.relname COLLATE \"C\"";

static const char Q_CONSTRAINTS[] =
    "SELECT n.nspname, c.relname, con.conname, con.contype::text, "
    "pg_get_constraintdef(con.oid) FROM pg_constraint con "
    "JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE " USER_NS "ORDER BY n.nspname, c.relname, con.conname COLLATE \"C\"";

static const char Q_SEQUENCES[] =
    "SELECT s.schemaname, s.sequencename, COALESCE(s.last_value, s.start_value - s.increment_by) "
    "FROM pg_sequences s JOIN pg_namespace n ON n.nspname = s.schemaname "
    "JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename "
    "WHERE " USER_NS "AND " NOT_EXT(
        "pg_class", "c.oid") "ORDER BY s.schemaname COLLATE \"C\", s.sequencename COLLATE \"C\"";

static const char Q_VIEWS[] =
    "SELECT n.nspname || '.' || c.relname FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('v', 'm') AND " USER_NS "AND " NOT_EXT("pg_class", "c.oid") "ORDER BY 1";

static const char Q_ROUTINES[] =
    "SELECT n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')' "
    " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE " USER_NS
    "AND " NOT_EXT("pg_proc", "p.oid") "ORDER BY 1";

static const char Q_TRIGGERS[] =
    "SELECT n.nspname || '.' || c.relname || '.' || t.tgname FROM pg_trigger t "
    "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE NOT t.tgisinternal AND " USER_NS "ORDER BY 1";

static const char Q_EXTENSIONS[] =
    "SELECT extname, extversion FROM pg_extension ORDER BY extname COLLATE \"C\"";

typedef rd_status (*row_fn)(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err);

static rd_status each_row(rd_db *db, rd_manifest *m, const char *sql, size_t mincols, row_fn fn,
                          rd_error *err)
{
    rd_db_result *r = NULL;
    rd_status st = rd_db_query(db, sql, T, 0, &r, err);
    if (st != RD_OK)
        goto out;
    if (r->ncols < mincols) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "catalog query returned %zu columns, expected %zu",
                    r->ncols, mincols);
        goto out;
    }
    for (size_t i = 0; i < r->nrows && st == RD_OK; i++)
        st = fn(m, r, i, err);
out:
    rd_db_result_free(r);
    return st;
}

#define CELL(i) rd_db_cell(r, row, (i))

static rd_status on_table(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    return rd_capture_add_table(m, CELL(0), CELL(1), err);
}

static rd_status on_column(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    rd_manifest_table *t = rd_capture_table(m, CELL(0), CELL(1));
    if (!t)
        return RD_OK;
    const char *notnull = CELL(4);
    return rd_capture_add_column(t, CELL(2), CELL(3), !(notnull && notnull[0] == 't'), err);
}

static rd_status on_pk(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    rd_manifest_table *t = rd_capture_table(m, CELL(0), CELL(1));
    return t ? rd_capture_add_pk(t, CELL(2), err) : RD_OK;
}

static rd_status on_index(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    rd_manifest_table *t = rd_capture_table(m, CELL(0), CELL(1));
    return t ? rd_capture_add_named(&t->indexes, &t->nindexes, CELL(2), NULL, CELL(3), err) : RD_OK;
}

static rd_status on_constraint(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    rd_manifest_table *t = rd_capture_table(m, CELL(0), CELL(1));
    return t ? rd_capture_add_named(&t->constraints, &t->nconstraints, CELL(2), CELL(3), CELL(4),
                                    err)
             : RD_OK;
}

static rd_status on_sequence(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    int64_t v = 0;
    rd_status st = rd_capture_parse_int(CELL(2), &v, err);
    return st == RD_OK ? rd_capture_add_sequence(m, CELL(0), CELL(1), v, err) : st;
}

static rd_status on_view(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    return rd_capture_add_str(&m->views, &m->nviews, CELL(0), err);
}

static rd_status on_routine(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    return rd_capture_add_str(&m->routines, &m->nroutines, CELL(0), err);
}

static rd_status on_trigger(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    return rd_capture_add_str(&m->triggers, &m->ntriggers, CELL(0), err);
}

static rd_status on_extension(rd_manifest *m, const rd_db_result *r, size_t row, rd_error *err)
{
    return rd_capture_add_named(&m->extensions, &m->nextensions, CELL(0), NULL, CELL(1), err);
}

rd_status rd_capture_pg(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_status st = each_row(db, m, Q_TABLES, 2, on_table, err);
    if (st != RD_OK)
        return st;
    rd_capture_sort_tables(m);
    if ((st = each_row(db, m, Q_COLUMNS, 5, on_column, err)) != RD_OK ||
        (st = each_row(db, m, Q_PK, 3, on_pk, err)) != RD_OK ||
        (st = each_row(db, m, Q_INDEXES, 4, on_index, err)) != RD_OK ||
        (st = each_row(db, m, Q_CONSTRAINTS, 5, on_constraint, err)) != RD_OK ||
        (st = each_row(db, m, Q_SEQUENCES, 3, on_sequence, err)) != RD_OK ||
        (st = each_row(db, m, Q_VIEWS, 1, on_view, err)) != RD_OK ||
        (st = each_row(db, m, Q_ROUTINES, 1, on_routine, err)) != RD_OK ||
        (st = each_row(db, m, Q_TRIGGERS, 1, on_trigger, err)) != RD_OK ||
        (st = each_row(db, m, Q_EXTENSIONS, 2, on_extension, err)) != RD_OK)
        return st;
    return RD_OK;
}
