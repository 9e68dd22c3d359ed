/* tablehash_sql.c: the per-engine SQL of the chunked checksums of a
 * described table (tablehash_describe.c): key ranges, chunk digests, keyset
 * steps, bounds, counts and leaf row queries (see tablehash.h for the
 * canonical forms). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

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
