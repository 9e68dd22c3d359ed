/* manifest_mariadb.c: MariaDB information_schema queries for the manifest,
 * limited to the current database. Index and constraint definitions are
 * built here from STATISTICS / KEY_COLUMN_USAGE / REFERENTIAL_CONSTRAINTS /
 * CHECK_CONSTRAINTS in a stable text form:
 *   index:      "[UNIQUE ]BTREE (a, b(10) DESC)"
 *   constraint: "PRIMARY KEY (id)", "UNIQUE (a, b)", "CHECK (`x` > 0)",
 *               "FOREIGN KEY (c) REFERENCES t (id) ON UPDATE RESTRICT ON DELETE CASCADE"
 * AUTO_INCREMENT counters are recorded as sequences "<table>.auto_increment";
 * SEQUENCE objects carry next_not_cached_value (what mariadb-dump restores). */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "restoredrill/strbuf.h"

#define T 600.0

static const char Q_TABLES[] =
    "SELECT TABLE_NAME, TABLE_TYPE, AUTO_INCREMENT FROM information_schema.TABLES "
    "WHERE TABLE_SCHEMA = DATABASE()";

static const char Q_COLUMNS[] =
    "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = DATABASE() ORDER BY BINARY TABLE_NAME, ORDINAL_POSITION";

static const char Q_PK[] =
    "SELECT TABLE_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
    "WHERE TABLE_SCHEMA = DATABASE() AND CONSTRAINT_NAME = 'PRIMARY' "
    "ORDER BY BINARY TABLE_NAME, ORDINAL_POSITION";

static const char Q_INDEXES[] =
    "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION "
    "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
    "ORDER BY BINARY TABLE_NAME, BINARY INDEX_NAME, SEQ_IN_INDEX";

/* Flat queries joined in C: correlated subqueries over information_schema
 * crash MariaDB 10.11 (signal 11 in create_tmp_table_for_schema). */
static const char Q_TC[] =
    "SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS "
    "WHERE CONSTRAINT_SCHEMA = DATABASE()";
static const char Q_KCU[] =
    "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_COLUMN_NAME "
    "FROM information_schema.KEY_COLUMN_USAGE WHERE CONSTRAINT_SCHEMA = DATABASE() "
    "ORDER BY BINARY TABLE_NAME, BINARY CONSTRAINT_NAME, ORDINAL_POSITION";
static const char Q_RC[] =
    "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE "
    "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";
static const char Q_CC[] =
    "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
    "WHERE CONSTRAINT_SCHEMA = DATABASE()";

static const char Q_ROUTINES[] =
    "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() "
    "ORDER BY BINARY ROUTINE_NAME";

static const char Q_TRIGGERS[] =
    "SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS "
    "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY BINARY EVENT_OBJECT_TABLE, BINARY TRIGGER_NAME";

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int seq_cmp(const void *a, const void *b)
{
    const rd_manifest_sequence *x = a, *y = b;
    return strcmp(x->name, y->name);
}

static rd_status query(rd_db *db, const char *sql, size_t mincols, rd_db_result **r, rd_error *err)
{
    rd_status st = rd_db_query(db, sql, T, 0, r, err);
    if (st == RD_OK && (*r)->ncols < mincols) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "catalog query returned %zu columns, expected %zu",
                    (*r)->ncols, mincols);
        rd_db_result_free(*r);
        *r = NULL;
    }
    return st;
}

/* next_not_cached_value of a SEQUENCE object. */
static rd_status sequence_value(rd_db *db, const char *name, int64_t *v, rd_error *err)
{
    rd_strbuf sql;
    char *s = NULL;
    rd_strbuf_init(&sql, 0);
    rd_status st = rd_strbuf_append(&sql, "SELECT next_not_cached_value FROM ", err);
    if (st == RD_OK)
        st = rd_db_quote_ident(db, name, &sql, err);
    if (st == RD_OK)
        st = rd_db_scalar(db, sql.data, T, &s, NULL, err);
    if (st == RD_OK)
        st = rd_capture_parse_int(s, v, err);
    free(s);
    rd_strbuf_free(&sql);
    return st;
}

static rd_status capture_tables(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_status st = query(db, Q_TABLES, 3, &r, err);
    const char *dbname = m->database;
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++) {
        const char *name = rd_db_cell(r, i, 0), *type = rd_db_cell(r, i, 1);
        const char *ai = rd_db_cell(r, i, 2);
        if (!name || !type)
            continue;
        if (strcmp(type, "BASE TABLE") == 0 || strcmp(type, "SYSTEM VERSIONED") == 0) {
            st = rd_capture_add_table(m, dbname, name, err);
            if (st == RD_OK && ai) {
                int64_t v = 0;
                char *sname = rd_asprintf("%s.auto_increment", name);
                st = sname ? rd_capture_parse_int(ai, &v, err)
                           : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                if (st == RD_OK)
                    st = rd_capture_add_sequence(m, dbname, sname, v, err);
                free(sname);
            }
        } else if (strcmp(type, "VIEW") == 0) {
            char *v = rd_asprintf("%s.%s", dbname, name);
            st = v ? rd_capture_add_str(&m->views, &m->nviews, v, err)
                   : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            free(v);
        } else if (strcmp(type, "SEQUENCE") == 0) {
            int64_t v = 0;
            st = sequence_value(db, name, &v, err);
            if (st == RD_OK)
                st = rd_capture_add_sequence(m, dbname, name, v, err);
        }
    }
    rd_db_result_free(r);
    if (st == RD_OK) {
        rd_capture_sort_tables(m);
        if (m->nsequences > 1)
            qsort(m->sequences, m->nsequences, sizeof *m->sequences, seq_cmp);
        if (m->nviews > 1)
            qsort(m->views, m->nviews, sizeof *m->views, str_cmp);
    }
    return st;
}

static rd_status capture_columns(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_status st = query(db, Q_COLUMNS, 4, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++) {
        rd_manifest_table *t = rd_capture_table(m, m->database, rd_db_cell(r, i, 0));
        const char *nl = rd_db_cell(r, i, 3);
        if (t)
            st = rd_capture_add_column(t, rd_db_cell(r, i, 1), rd_db_cell(r, i, 2),
                                       nl && strcmp(nl, "YES") == 0, err);
    }
    rd_db_result_free(r);
    if (st != RD_OK)
        return st;
    st = query(db, Q_PK, 2, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++) {
        rd_manifest_table *t = rd_capture_table(m, m->database, rd_db_cell(r, i, 0));
        if (t)
            st = rd_capture_add_pk(t, rd_db_cell(r, i, 1), err);
    }
    rd_db_result_free(r);
    return st;
}

static int same(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static rd_status capture_indexes(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_strbuf def;
    rd_strbuf_init(&def, 0);
    rd_status st = query(db, Q_INDEXES, 7, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows;) {
        const char *tname = rd_db_cell(r, i, 0), *iname = rd_db_cell(r, i, 1);
        const char *nonuniq = rd_db_cell(r, i, 2), *itype = rd_db_cell(r, i, 5);
        rd_strbuf_reset(&def);
        st = rd_strbuf_appendf(&def, err, "%s%s (", same(nonuniq, "0") ? "UNIQUE " : "",
                               itype ? itype : "BTREE");
        size_t j = i;
        for (; st == RD_OK && j < r->nrows && same(rd_db_cell(r, j, 0), tname) &&
               same(rd_db_cell(r, j, 1), iname);
             j++) {
            const char *col = rd_db_cell(r, j, 3), *sub = rd_db_cell(r, j, 4);
            const char *coll = rd_db_cell(r, j, 6);
            st = rd_strbuf_appendf(&def, err, "%s%s", j > i ? ", " : "", col ? col : "?");
            if (st == RD_OK && sub)
                st = rd_strbuf_appendf(&def, err, "(%s)", sub);
            if (st == RD_OK && same(coll, "D"))
                st = rd_strbuf_append(&def, " DESC", err);
        }
        if (st == RD_OK)
            st = rd_strbuf_append_char(&def, ')', err);
        rd_manifest_table *t = rd_capture_table(m, m->database, tname);
        if (st == RD_OK && t && iname)
            st = rd_capture_add_named(&t->indexes, &t->nindexes, iname, NULL, def.data, err);
        i = j > i ? j : i + 1;
    }
    rd_db_result_free(r);
    rd_strbuf_free(&def);
    return st;
}

typedef struct cons_rows {
    rd_db_result *kcu, *rc, *cc;
} cons_rows;

/* Row of r whose first two cells are (table, name), or -1. */
static long find_row(const rd_db_result *r, const char *table, const char *name)
{
    for (size_t i = 0; r && i < r->nrows; i++)
        if (same(rd_db_cell(r, i, 0), table) && same(rd_db_cell(r, i, 1), name))
            return (long)i;
    return -1;
}

/* "a, b" from KEY_COLUMN_USAGE column col (2 = columns, 3 = referenced). */
static rd_status key_cols(const cons_rows *cr, const char *table, const char *name, size_t col,
                          rd_strbuf *out, rd_error *err)
{
    rd_status st = RD_OK;
    size_t n = 0;
    for (size_t i = 0; st == RD_OK && i < cr->kcu->nrows; i++) {
        if (!same(rd_db_cell(cr->kcu, i, 0), table) || !same(rd_db_cell(cr->kcu, i, 1), name))
            continue;
        const char *v = rd_db_cell(cr->kcu, i, col);
        st = rd_strbuf_appendf(out, err, "%s%s", n++ ? ", " : "", v ? v : "?");
    }
    return st;
}

static rd_status constraint_def(const cons_rows *cr, const char *table, const char *name,
                                const char *type, rd_strbuf *def, const char **kind, rd_error *err)
{
    rd_status st = RD_OK;
    long i;
    if (same(type, "PRIMARY KEY") || same(type, "UNIQUE")) {
        *kind = same(type, "UNIQUE") ? "u" : "p";
        st = rd_strbuf_appendf(def, err, "%s (", type);
        if (st == RD_OK)
            st = key_cols(cr, table, name, 2, def, err);
        return st == RD_OK ? rd_strbuf_append_char(def, ')', err) : st;
    }
    if (same(type, "FOREIGN KEY")) {
        *kind = "f";
        i = find_row(cr->rc, table, name);
        const char *reft = i >= 0 ? rd_db_cell(cr->rc, (size_t)i, 2) : NULL;
        const char *upd = i >= 0 ? rd_db_cell(cr->rc, (size_t)i, 3) : NULL;
        const char *del = i >= 0 ? rd_db_cell(cr->rc, (size_t)i, 4) : NULL;
        st = rd_strbuf_append(def, "FOREIGN KEY (", err);
        if (st == RD_OK)
            st = key_cols(cr, table, name, 2, def, err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(def, err, ") REFERENCES %s (", reft ? reft : "?");
        if (st == RD_OK)
            st = key_cols(cr, table, name, 3, def, err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(def, err, ") ON UPDATE %s ON DELETE %s", upd ? upd : "?",
                                   del ? del : "?");
        return st;
    }
    if (same(type, "CHECK")) {
        *kind = "c";
        i = find_row(cr->cc, table, name);
        const char *clause = i >= 0 ? rd_db_cell(cr->cc, (size_t)i, 2) : NULL;
        return rd_strbuf_appendf(def, err, "CHECK (%s)", clause ? clause : "");
    }
    *kind = NULL;
    return rd_strbuf_appendf(def, err, "%s", type ? type : "?");
}

static rd_status capture_constraints(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_db_result *tc = NULL;
    cons_rows cr = {0};
    rd_strbuf def;
    rd_strbuf_init(&def, 0);
    rd_status st = query(db, Q_TC, 3, &tc, err);
    if (st == RD_OK)
        st = query(db, Q_KCU, 4, &cr.kcu, err);
    if (st == RD_OK)
        st = query(db, Q_RC, 5, &cr.rc, err);
    if (st == RD_OK)
        st = query(db, Q_CC, 3, &cr.cc, err);
    for (size_t i = 0; st == RD_OK && i < tc->nrows; i++) {
        const char *table = rd_db_cell(tc, i, 0), *name = rd_db_cell(tc, i, 1), *kind = NULL;
        rd_manifest_table *t = rd_capture_table(m, m->database, table);
        if (!t || !name)
            continue;
        rd_strbuf_reset(&def);
        st = constraint_def(&cr, table, name, rd_db_cell(tc, i, 2), &def, &kind, err);
        if (st == RD_OK)
            st = rd_capture_add_named(&t->constraints, &t->nconstraints, name, kind, def.data, err);
    }
    rd_db_result_free(tc);
    rd_db_result_free(cr.kcu);
    rd_db_result_free(cr.rc);
    rd_db_result_free(cr.cc);
    rd_strbuf_free(&def);
    return st;
}

static rd_status capture_code(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_status st = query(db, Q_ROUTINES, 1, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++) {
        char *v = rd_asprintf("%s.%s", m->database, rd_db_cell(r, i, 0));
        st = v ? rd_capture_add_str(&m->routines, &m->nroutines, v, err)
               : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(v);
    }
    rd_db_result_free(r);
    r = NULL;
    if (st != RD_OK)
        return st;
    st = query(db, Q_TRIGGERS, 2, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++) {
        char *v = rd_asprintf("%s.%s.%s", m->database, rd_db_cell(r, i, 0), rd_db_cell(r, i, 1));
        st = v ? rd_capture_add_str(&m->triggers, &m->ntriggers, v, err)
               : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(v);
    }
    rd_db_result_free(r);
    return st;
}

rd_status rd_capture_mariadb(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_status st;
    if (!m->database || !*m->database)
        return RD_ERR(err, RD_ERR_USAGE, "no database selected: name one in the dsn");
    if ((st = capture_tables(db, m, err)) != RD_OK || (st = capture_columns(db, m, err)) != RD_OK ||
        (st = capture_indexes(db, m, err)) != RD_OK ||
        (st = capture_constraints(db, m, err)) != RD_OK || (st = capture_code(db, m, err)) != RD_OK)
        return st;
    return RD_OK;
}
