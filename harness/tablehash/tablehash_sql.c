/* tablehash_sql.c: describing a table and building the per-engine SQL of
 * the chunked checksums: canonical row hashes, key ranges, keyset steps and
 * leaf row queries (see tablehash.h for the canonical forms). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablehash.h"

#define META_TIMEOUT 120.0

static rd_status nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory building checksum queries");
}

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
static rd_status column_exprs(rd_engine engine, rd_th_column *c, const char *q, const char *tn,
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
        st = nomem(err);
    rd_strbuf_free(&r);
    return st;
}

/* Build row_hash, digest_list, order_by and key_list from the columns. */
static rd_status build_lists(rd_th_table *t, char **quoted, char **lens, rd_error *err)
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
        st = nomem(err);
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
            st = nomem(err);
        rd_strbuf_free(&ob);
        rd_strbuf_free(&kl);
    }
    rd_strbuf_free(&row);
    rd_strbuf_free(&sb);
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
        st = nomem(err);
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
        return nomem(err);
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
        st = nomem(err);
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
        st = nomem(err);
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
            st = nomem(err);
            goto out;
        }
        rd_strbuf q;
        rd_strbuf_init(&q, 0);
        if (!c->name || !c->type || rd_db_quote_ident(db, c->name, &q, err) != RD_OK ||
            !(quoted[i] = rd_strbuf_detach(&q))) {
            rd_strbuf_free(&q);
            st = nomem(err);
            goto out;
        }
        char *le = NULL;
        if (column_exprs(t->engine, c, quoted[i], rd_db_cell(res, i, 3), &le) != RD_OK) {
            st = nomem(err);
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
    st = build_lists(t, quoted, lens, err);
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
            st = nomem(err);
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

/* A key value as an SQL literal. */
static rd_status literal(rd_db *db, const rd_th_column *c, const char *v, rd_strbuf *out,
                         rd_error *err)
{
    if (c->lit == RD_TH_LIT_NUMBER) {
        if (!*v || strspn(v, "0123456789+-.eE") != strlen(v))
            return RD_ERR(err, RD_ERR_FORMAT, "key value \"%.40s\" of %s is not a number", v,
                          c->name);
        return rd_strbuf_append(out, v, err);
    }
    if (c->lit == RD_TH_LIT_HEX) {
        if (strspn(v, "0123456789abcdefABCDEF") != strlen(v))
            return RD_ERR(err, RD_ERR_FORMAT, "key value of %s is not hex", c->name);
        return rd_strbuf_appendf(out, err, "X'%s'", v);
    }
    return rd_db_quote_literal(db, v, out, err);
}

/* key (op) values: PostgreSQL row comparison; MariaDB expanded so that
 * the range optimizer uses the index. op is ">" or "<=". */
static rd_status key_cmp(rd_db *db, const rd_th_table *t, const char *op, char *const *vals,
                         rd_strbuf *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf q;
    rd_strbuf_init(&q, 0);
    if (t->nkey == 1 || t->engine == RD_ENGINE_PG) {
        st = rd_strbuf_append(out, t->nkey > 1 ? "(" : "", err);
        for (size_t i = 0; st == RD_OK && i < t->nkey; i++) {
            rd_strbuf_reset(&q);
            st = rd_db_quote_ident(db, t->cols[t->key[i]].name, &q, err);
            if (st == RD_OK)
                st = rd_strbuf_appendf(out, err, "%s%s%s", i ? ", " : "", q.data,
                                       t->cols[t->key[i]].collate_c ? " COLLATE \"C\"" : "");
        }
        if (st == RD_OK)
            st = rd_strbuf_appendf(out, err, "%s %s %s", t->nkey > 1 ? ")" : "", op,
                                   t->nkey > 1 ? "(" : "");
        for (size_t i = 0; st == RD_OK && i < t->nkey; i++) {
            if (i)
                st = rd_strbuf_append(out, ", ", err);
            if (st == RD_OK)
                st = literal(db, &t->cols[t->key[i]], vals[i], out, err);
        }
        if (st == RD_OK && t->nkey > 1)
            st = rd_strbuf_append(out, ")", err);
        goto out;
    }
    /* (k1 > v1 OR (k1 = v1 AND (k2 > v2 OR (k2 = v2 AND k3 <= v3)))) */
    const char *strict = strcmp(op, ">") == 0 ? ">" : "<";
    size_t open = 0;
    for (size_t i = 0; st == RD_OK && i < t->nkey; i++) {
        const rd_th_column *c = &t->cols[t->key[i]];
        rd_strbuf_reset(&q);
        st = rd_db_quote_ident(db, c->name, &q, err);
        int last = i + 1 == t->nkey;
        if (st == RD_OK)
            st = rd_strbuf_appendf(out, err, "(%s %s ", q.data, last ? op : strict);
        if (st == RD_OK)
            st = literal(db, c, vals[i], out, err);
        if (st == RD_OK && !last) {
            st = rd_strbuf_appendf(out, err, " OR (%s = ", q.data);
            if (st == RD_OK)
                st = literal(db, c, vals[i], out, err);
            if (st == RD_OK)
                st = rd_strbuf_append(out, " AND ", err);
            open += 2;
        }
    }
    for (size_t i = 0; st == RD_OK && i < open + 1; i++)
        st = rd_strbuf_append(out, ")", err);
out:
    rd_strbuf_free(&q);
    return st;
}

rd_status rd_th_sql_range(rd_db *db, const rd_th_table *t, char *const *lo, char *const *hi,
                          const char *where, rd_strbuf *out, rd_error *err)
{
    rd_status st = rd_strbuf_append(out, "TRUE", err);
    if (st == RD_OK && lo && t->nkey) {
        st = rd_strbuf_append(out, " AND ", err);
        if (st == RD_OK)
            st = key_cmp(db, t, ">", lo, out, err);
    }
    if (st == RD_OK && hi && t->nkey) {
        st = rd_strbuf_append(out, " AND ", err);
        if (st == RD_OK)
            st = key_cmp(db, t, "<=", hi, out, err);
    }
    if (st == RD_OK && where && *where)
        st = rd_strbuf_appendf(out, err, " AND (%s)", where);
    return st;
}

rd_status rd_th_sql_digest(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                           char *const *hi, const char *where, rd_strbuf *out, rd_error *err)
{
    rd_status st =
        rd_strbuf_appendf(out, err, "SELECT %s FROM %s WHERE ", t->digest_list, t->qname[side]);
    return st == RD_OK ? rd_th_sql_range(db, t, lo, hi, where, out, err) : st;
}

int rd_th_ordered_ok(const rd_th_table *t)
{
    return t->ordered_row && t->ordered_side[0] && (!t->qname[1] || t->ordered_side[1]);
}

/* The concatenation of a chunk's rows may hold up to ORDERED_MAX bytes (and
 * no more than max_allowed_packet, which also caps it); a concatenation
 * that comes within 8 bytes of the cap may have been cut (at a character
 * boundary) and gets the digest "!". It is kept in @rd_g between the two
 * statements: reading it back in a second statement is well defined, and
 * cheaper than a derived table (which would copy it into a temporary
 * table) or a second GROUP_CONCAT. */
#define ORDERED_MAX "16777216"

char *rd_th_sql_ordered_tail(const char *crc32)
{
    if (!crc32 || !*crc32 || strspn(crc32, "0123456789") != strlen(crc32) || strlen(crc32) > 10)
        return NULL;
    return rd_asprintf("SELECT CRC32C(@rd_g), LENGTH(@rd_g) + 8 < LEAST(" ORDERED_MAX
                       ", @@max_allowed_packet), CRC32(@rd_g) = %s",
                       crc32);
}

rd_status rd_th_sql_digest_ordered(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                                   char *const *hi, const char *where, rd_strbuf *out,
                                   rd_error *err)
{
    if (!rd_th_ordered_ok(t) || !t->ordered_side[side])
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "no ordered chunk digests for %s", t->display);
    /* FORCE INDEX (PRIMARY): the rows come in key order on both sides.
     * Were they ever not, equal chunks would only differ, and the diff's
     * leaf merge, which is exact, would find no row. */
    rd_status st = rd_strbuf_appendf(
        out, err,
        "SET STATEMENT group_concat_max_len = " ORDERED_MAX " FOR SELECT COUNT(*), "
        "CRC32(@rd_g := GROUP_CONCAT(%s SEPARATOR 0x1e)) FROM %s FORCE INDEX (PRIMARY) WHERE ",
        t->ordered_row, t->qname[side]);
    if (st == RD_OK)
        st = rd_th_sql_range(db, t, lo, hi, where, out, err);
    return st;
}

rd_status rd_th_sql_step(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                         char *const *hi, int64_t n, rd_strbuf *out, rd_error *err)
{
    rd_status st =
        rd_strbuf_appendf(out, err, "SELECT %s FROM %s WHERE ", t->key_list, t->qname[side]);
    if (st == RD_OK)
        st = rd_th_sql_range(db, t, lo, hi, NULL, out, err);
    if (st == RD_OK)
        st = rd_strbuf_appendf(out, err, " ORDER BY %s LIMIT 1 OFFSET %lld", t->order_by,
                               (long long)(n - 1));
    return st;
}

rd_status rd_th_sql_bounds(rd_db *db, const rd_th_table *t, rd_strbuf *out, rd_error *err)
{
    const int side = 0;
    rd_status st;
    if (t->engine == RD_ENGINE_PG) {
        st = rd_strbuf_appendf(out, err,
                               "SELECT min(%s)::text, max(%s)::text, (SELECT c.reltuples::int8 "
                               "FROM pg_class c WHERE c.oid = ",
                               t->order_by, t->order_by);
        if (st == RD_OK)
            st = rd_db_quote_literal(db, t->qname[side], out, err);
        if (st == RD_OK)
            st = rd_strbuf_appendf(out, err, "::regclass)::text FROM %s", t->qname[side]);
        return st;
    }
    st = rd_strbuf_appendf(out, err,
                           "SELECT MIN(%s), MAX(%s), (SELECT s.TABLE_ROWS FROM "
                           "information_schema.TABLES s WHERE s.TABLE_SCHEMA = ",
                           t->order_by, t->order_by);
    if (st == RD_OK && t->schema && *t->schema)
        st = rd_db_quote_literal(db, t->schema, out, err);
    else if (st == RD_OK)
        st = rd_strbuf_append(out, "DATABASE()", err);
    if (st == RD_OK)
        st = rd_strbuf_append(out, " AND s.TABLE_NAME = ", err);
    if (st == RD_OK)
        st = rd_db_quote_literal(db, t->name, out, err);
    if (st == RD_OK)
        st = rd_strbuf_appendf(out, err, ") FROM %s", t->qname[side]);
    return st;
}

rd_status rd_th_sql_count(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                          char *const *hi, rd_strbuf *out, rd_error *err)
{
    rd_status st = rd_strbuf_appendf(out, err, "SELECT count(*) FROM %s WHERE ", t->qname[side]);
    return st == RD_OK ? rd_th_sql_range(db, t, lo, hi, NULL, out, err) : st;
}

rd_status rd_th_sql_rows(rd_db *db, const rd_th_table *t, int side, char *const *lo,
                         char *const *hi, const char *where, rd_strbuf *out, rd_error *err)
{
    rd_status st = rd_strbuf_appendf(out, err, "SELECT %s, %s FROM %s WHERE ", t->key_list,
                                     t->row_hash, t->qname[side]);
    if (st == RD_OK)
        st = rd_th_sql_range(db, t, lo, hi, where, out, err);
    if (st == RD_OK)
        st = rd_strbuf_appendf(out, err, " ORDER BY %s", t->order_by);
    return st;
}
