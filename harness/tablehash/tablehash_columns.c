/* tablehash_columns.c: the per-engine expressions of a described table's
 * columns (how each type is hashed, compared and written as a literal) and
 * the lists built from them: the canonical row hash, the digest list, the
 * key order (see tablehash.h for the canonical forms). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

rd_status rd_th_nomem_sql(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory building checksum queries");
}

static int in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

/* PostgreSQL: types whose hash function is exact (equal hash input means
 * equal value), hashed natively; text-like types under COLLATE "C". */
static const char *const pg_native[] = {"int2", "int4",      "int8",        "bool", "bytea",
                                        "date", "timestamp", "timestamptz", "uuid", "oid",
                                        "time", "char",      NULL};
static const char *const pg_textlike[] = {"text", "varchar", "bpchar", NULL};
static const char *const pg_integer[] = {"int2", "int4", "int8", NULL};

/* MariaDB data_type classes. */
static const char *const my_number[] = {"tinyint", "smallint", "mediumint", "int", "integer",
                                        "bigint",  "decimal",  "year",      NULL};
static const char *const my_float[] = {"float", "double", "real", NULL};
static const char *const my_string[] = {"char",     "varchar", "tinytext", "text", "mediumtext",
                                        "longtext", "enum",    "set",      "json", "inet4",
                                        "inet6",    "uuid",    NULL};
static const char *const my_time[] = {"date", "datetime", "timestamp", "time", NULL};

/* Fill hash_expr / key_expr / lit of a column; *strlen_expr gets a LENGTH()
 * term for MariaDB strings (heap, may stay NULL). */
rd_status rd_th_column_exprs(rd_engine engine, rd_th_column *c, const char *q, const char *tn,
                             char **strlen_expr)
{
    if (engine == RD_ENGINE_PG) {
        c->integer = in_list(tn, pg_integer);
        if (in_list(tn, pg_native))
            c->hash_expr = rd_strdup(q);
        else if (in_list(tn, pg_textlike))
            c->hash_expr = rd_asprintf("%s COLLATE \"C\"", q);
        else
            c->hash_expr = rd_asprintf("(%s)::text COLLATE \"C\"", q);
        c->key_expr = rd_strdup(q);
        c->lit = RD_TH_LIT_QUOTED;
    } else if (in_list(tn, my_number)) {
        c->integer = strcmp(tn, "decimal") != 0 && strcmp(tn, "year") != 0;
        c->hash_expr = rd_strdup(q);
        c->key_expr = rd_strdup(q);
        c->lit = RD_TH_LIT_NUMBER;
    } else if (in_list(tn, my_float)) {
        /* FLOAT prints 6 digits: widen to DOUBLE, which prints exactly */
        c->hash_expr = rd_asprintf("CAST(%s AS DOUBLE)", q);
        c->key_expr = rd_asprintf("CAST(%s AS DOUBLE)", q);
        c->lit = RD_TH_LIT_NUMBER;
    } else if (strcmp(tn, "bit") == 0) {
        c->hash_expr = rd_asprintf("BIN(%s)", q);
        c->key_expr = rd_asprintf("%s + 0", q);
        c->lit = RD_TH_LIT_NUMBER;
    } else if (in_list(tn, my_time)) {
        c->hash_expr = rd_strdup(q);
        c->key_expr = rd_strdup(q);
        c->lit = RD_TH_LIT_QUOTED;
    } else {
        int text = in_list(tn, my_string);
        c->hash_expr = rd_strdup(q);
        c->key_expr = text ? rd_strdup(q) : rd_asprintf("HEX(%s)", q);
        c->lit = text ? RD_TH_LIT_QUOTED : RD_TH_LIT_HEX;
        *strlen_expr = rd_asprintf("LENGTH(%s)", q);
        if (!*strlen_expr)
            return RD_ERR_NOMEM;
    }
    return c->hash_expr && c->key_expr ? RD_OK : RD_ERR_NOMEM;
}

/* MariaDB: R = CONCAT_WS(0x1f, null bits, lengths of the strings, non-string
 * values, string values). Every element but the strings is free of 0x1f
 * and the lengths delimit the strings, so R parses back to one row. The
 * row hash leaves out the last string's length (R ends with it); the
 * ordered chunk digest (all_lens) keeps it, so concatenated rows parse
 * back too. */
static rd_status my_row_string(const rd_th_table *t, char **quoted, char **lens, int all_lens,
                               char **out, rd_error *err)
{
    rd_strbuf r;
    size_t nnull = 0, last = t->ncols;
    rd_strbuf_init(&r, 0);
    rd_status st = rd_strbuf_append(&r, "CONCAT_WS(0x1f", err);
    for (size_t i = 0; !all_lens && i < t->ncols; i++)
        if (lens[i])
            last = i;
    for (size_t i = 0; st == RD_OK && i < t->ncols; i++) {
        if (!t->cols[i].nullable)
            continue;
        unsigned bit = (unsigned)(nnull++ % 62);
        if (bit == 0)
            st = rd_strbuf_appendf(&r, err, ", ISNULL(%s)", quoted[i]);
        else
            st = rd_strbuf_appendf(&r, err, " | ISNULL(%s) << %u", quoted[i], bit);
    }
    for (size_t i = 0; st == RD_OK && i < t->ncols; i++)
        if (lens[i] && i != last)
            st = rd_strbuf_appendf(&r, err, ", %s", lens[i]);
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; st == RD_OK && i < t->ncols; i++)
            if ((lens[i] != NULL) == pass)
                st = rd_strbuf_appendf(&r, err, ", %s", t->cols[i].hash_expr);
    if (st == RD_OK)
        st = rd_strbuf_append(&r, ")", err);
    if (st == RD_OK && !(*out = rd_strbuf_detach(&r)))
        st = rd_th_nomem_sql(err);
    rd_strbuf_free(&r);
    return st;
}

/* Build row_hash, digest_list, order_by and key_list from the columns. */
rd_status rd_th_build_lists(rd_th_table *t, char **quoted, char **lens, rd_error *err)
{
    rd_strbuf row, sb;
    rd_status st = RD_OK;
    rd_strbuf_init(&row, 0);
    rd_strbuf_init(&sb, 0);
    if (t->engine == RD_ENGINE_PG) {
        st = rd_strbuf_append(&row, "hashint8extended(hash_record_extended(ROW(", err);
        for (size_t i = 0; st == RD_OK && i < t->ncols; i++)
            st = rd_strbuf_appendf(&row, err, "%s%s", i ? ", " : "", t->cols[i].hash_expr);
        if (st == RD_OK)
            st = rd_strbuf_append(&row, "), 0), 0)", err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(&sb, err, "count(*), sum(%s)", row.data);
        t->nhash = 1;
    } else {
        /* R is built once per row and hashed twice through a user variable,
         * assigned inside the first CRC's argument (the self-test of
         * rd_th_describe checks the server evaluates it first). */
        char *r = NULL;
        st = my_row_string(t, quoted, lens, 0, &r, err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(&row, err, "CRC32(@rd_row := %s) << 32 | CRC32C(@rd_row)", r);
        if (st == RD_OK)
            st = rd_strbuf_appendf(&sb, err, "COUNT(*), SUM(%s)", row.data);
        free(r);
        if (st == RD_OK)
            st = my_row_string(t, quoted, lens, 1, &t->ordered_row, err);
        t->nhash = 1;
    }
    if (st == RD_OK &&
        (!(t->row_hash = rd_strbuf_detach(&row)) || !(t->digest_list = rd_strbuf_detach(&sb))))
        st = rd_th_nomem_sql(err);
    if (st == RD_OK && t->nkey) {
        rd_strbuf ob, kl;
        rd_strbuf_init(&ob, 0);
        rd_strbuf_init(&kl, 0);
        for (size_t i = 0; st == RD_OK && i < t->nkey; i++) {
            st = rd_strbuf_appendf(&ob, err, "%s%s", i ? ", " : "", quoted[t->key[i]]);
            if (st == RD_OK)
                st =
                    rd_strbuf_appendf(&kl, err, "%s%s", i ? ", " : "", t->cols[t->key[i]].key_expr);
        }
        if (st == RD_OK &&
            (!(t->order_by = rd_strbuf_detach(&ob)) || !(t->key_list = rd_strbuf_detach(&kl))))
            st = rd_th_nomem_sql(err);
        rd_strbuf_free(&ob);
        rd_strbuf_free(&kl);
    }
    rd_strbuf_free(&row);
    rd_strbuf_free(&sb);
    return st;
}
