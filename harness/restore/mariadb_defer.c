/* mariadb_defer.c: a CREATE TABLE statement of a mariadb-dump split into the
 * table without its plain secondary indexes (created before the rows) and
 * the ALTER TABLE that adds them back after the rows (restore_int.h says
 * when a table is left as it is). Only the exact layout SHOW CREATE TABLE
 * writes is rewritten: one definition per line, two spaces in front, a comma
 * after every one but the last. */
#include <stdlib.h>
#include <string.h>

#include "restore_int.h"

#define MAX_LINES 4096

typedef struct defn {
    const char *p; /* the definition, without the two spaces, comma and newline */
    size_t n;
    int kind;
} defn;

enum { D_COLUMN, D_KEEP, D_DEFER, D_FOREIGN };

static int has(const char *p, size_t n, const char *s)
{
    return memmem(p, n, s, strlen(s)) != NULL;
}

static int begins(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(p, s, k) == 0;
}

/* Length of the backquoted name at p (backticks inside doubled), 0 if none. */
static size_t quoted_len(const char *p, size_t n)
{
    if (n < 2 || p[0] != '`')
        return 0;
    for (size_t i = 1; i < n; i++)
        if (p[i] == '`') {
            if (i + 1 < n && p[i + 1] == '`') {
                i++;
                continue;
            }
            return i + 1;
        }
    return 0;
}

/* The kind of one definition; -1: a table we leave as it is. */
static int classify(const char *p, size_t n)
{
    if (p[0] == '`') /* a column */
        return has(p, n, " GENERATED ALWAYS AS ") || has(p, n, " AS (") ? -1 : D_COLUMN;
    if (begins(p, n, "PRIMARY KEY (") || begins(p, n, "UNIQUE KEY `") ||
        begins(p, n, "FULLTEXT KEY `"))
        return D_KEEP;
    if (begins(p, n, "KEY `"))
        return quoted_len(p + 4, n - 4) && begins(p + 4 + quoted_len(p + 4, n - 4),
                                                  n - 4 - quoted_len(p + 4, n - 4), " (`")
                   ? D_DEFER
                   : -1;
    if (begins(p, n, "CONSTRAINT `")) {
        size_t q = quoted_len(p + 11, n - 11);
        if (q && begins(p + 11 + q, n - 11 - q, " FOREIGN KEY ("))
            return D_FOREIGN;
        if (q && begins(p + 11 + q, n - 11 - q, " CHECK ("))
            return D_KEEP;
    }
    return -1; /* SPATIAL KEY, PERIOD FOR, anything else */
}

/* 1 when the key's first column is an AUTO_INCREMENT column (it must stay
 * the first column of a key in CREATE TABLE). */
static int key_on_auto(const defn *k, const defn *d, size_t nd)
{
    size_t q = quoted_len(k->p + 4, k->n - 4);
    const char *col = k->p + 4 + q + 2; /* after "KEY `name` (" */
    size_t left = k->n - 4 - q - 2;
    size_t cq = quoted_len(col, left);
    for (size_t i = 0; i < nd; i++)
        if (d[i].kind == D_COLUMN && has(d[i].p, d[i].n, " AUTO_INCREMENT") && d[i].n >= cq &&
            memcmp(d[i].p, col, cq) == 0 && quoted_len(d[i].p, d[i].n) == cq)
            return 1;
    return 0;
}

static rd_status build(const char *stmt, size_t head, const defn *d, size_t nd, const char *tail,
                       size_t tail_n, rd_strbuf *create, rd_strbuf *alter, rd_error *err)
{
    size_t last = 0;
    for (size_t i = 0; i < nd; i++)
        if (d[i].kind == D_COLUMN || d[i].kind == D_KEEP)
            last = i;
    rd_status st = rd_strbuf_append_n(create, stmt, head, err);
    for (size_t i = 0; st == RD_OK && i < nd; i++) {
        if (d[i].kind != D_COLUMN && d[i].kind != D_KEEP)
            continue;
        st =
            rd_strbuf_appendf(create, err, "  %.*s%s\n", (int)d[i].n, d[i].p, i == last ? "" : ",");
    }
    if (st == RD_OK)
        st = rd_strbuf_append_n(create, tail, tail_n, err);
    /* "CREATE TABLE `t` (\n": the name is between the two */
    if (st == RD_OK)
        st = rd_strbuf_appendf(alter, err, "ALTER TABLE %.*s", (int)(head - 13 - 3), stmt + 13);
    const char *sep = " ";
    for (int pass = 0; pass < 2; pass++) /* the indexes, then the foreign keys that use them */
        for (size_t i = 0; st == RD_OK && i < nd; i++)
            if (d[i].kind == (pass ? D_FOREIGN : D_DEFER)) {
                st = rd_strbuf_appendf(alter, err, "%sADD %.*s", sep, (int)d[i].n, d[i].p);
                sep = ", ";
            }
    if (st == RD_OK)
        st = rd_strbuf_append(alter, ";\n", err);
    return st;
}

rd_status rd_defer_rewrite(const char *stmt, size_t n, rd_strbuf *create, rd_strbuf *alter,
                           int *rewritten, rd_error *err)
{
    defn *d = NULL;
    size_t nd = 0, ndefer = 0, head = 0, at = 0, q = 0;
    int has_pk = 0, last_comma = 1;
    rd_status st = RD_OK;
    *rewritten = 0;
    if (!begins(stmt, n, "CREATE TABLE `"))
        return RD_OK;
    q = quoted_len(stmt + 13, n - 13);
    if (!q || !begins(stmt + 13 + q, n - 13 - q, " (\n"))
        return RD_OK;
    if (!(d = malloc(MAX_LINES * sizeof *d)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    head = 13 + q + 3;
    at = head;
    for (;;) {
        const char *p = stmt + at, *nl = memchr(p, '\n', n - at);
        if (!nl)
            goto out;
        size_t len = (size_t)(nl - p); /* without the newline */
        if (len && p[0] == ')') {
            /* the table options: the last line, one statement, InnoDB, no
             * partitions, not system-versioned; the last definition had no
             * comma */
            if (nl + 1 != stmt + n || len < 2 || p[len - 1] != ';' || last_comma ||
                !has(p, len, " ENGINE=InnoDB") || has(p, len, "PARTITION") ||
                has(p, len, "WITH SYSTEM VERSIONING"))
                goto out;
            break;
        }
        /* two spaces, a definition; a comma after every one but the last */
        if (!last_comma || len < 3 || p[0] != ' ' || p[1] != ' ' || p[2] == ' ' || nd == MAX_LINES)
            goto out;
        last_comma = p[len - 1] == ',';
        d[nd].p = p + 2;
        d[nd].n = len - 2 - (size_t)last_comma;
        if ((d[nd].kind = classify(d[nd].p, d[nd].n)) < 0)
            goto out;
        nd++;
        at = (size_t)(nl - stmt) + 1;
    }
    for (size_t i = 0; i < nd; i++) {
        if (d[i].kind == D_KEEP && begins(d[i].p, d[i].n, "PRIMARY KEY ("))
            has_pk = 1;
        if (d[i].kind == D_DEFER) {
            if (key_on_auto(&d[i], d, nd))
                goto out;
            ndefer++;
        }
    }
    if (!has_pk || ndefer == 0)
        goto out;
    rd_strbuf c, a;
    rd_strbuf_init(&c, 0);
    rd_strbuf_init(&a, 0);
    st = build(stmt, head, d, nd, stmt + at, n - at, &c, &a, err);
    if (st == RD_OK)
        st = rd_strbuf_append_n(create, c.data, c.len, err);
    if (st == RD_OK)
        st = rd_strbuf_append_n(alter, a.data, a.len, err);
    if (st == RD_OK)
        *rewritten = 1;
    rd_strbuf_free(&c);
    rd_strbuf_free(&a);
out:
    free(d);
    return st;
}
