/* db.c: the engine-neutral database API: dispatch to the drivers of
 * registry.c, materialised results, scalars, quoting of dotted names,
 * table listing and the server facts built on plain SQL. */
#include "db_int.h"

#include <stdlib.h>
#include <string.h>

static const rd_db_driver *driver_for(rd_engine engine)
{
    for (const rd_db_driver *const *d = rd_db_drivers; *d; d++)
        if ((*d)->engine == engine)
            return *d;
    return NULL;
}

rd_status rd_db_append_quoted(rd_strbuf *sb, const char *v, rd_error *err)
{
    rd_status st = rd_strbuf_append_char(sb, '\'', err);
    for (const char *p = v; *p && st == RD_OK; p++) {
        if (*p == '\'' || *p == '\\')
            st = rd_strbuf_append_char(sb, '\\', err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(sb, *p, err);
    }
    if (st == RD_OK)
        st = rd_strbuf_append_char(sb, '\'', err);
    return st;
}

rd_status rd_db_resolve_password(const rd_db_opts *opts, const char *fallback_env, const char **out,
                                 rd_error *err)
{
    const char *pw = NULL;
    if (opts && opts->password) {
        pw = opts->password;
    } else if (opts && opts->password_env && opts->password_env[0]) {
        pw = getenv(opts->password_env);
        if (!pw)
            return RD_ERR(err, RD_ERR_CONFIG, "password variable %s is not set",
                          opts->password_env);
    } else if (fallback_env) {
        pw = getenv(fallback_env);
    }
    *out = pw;
    return RD_OK;
}

char *rd_db_clean_message(const char *msg, const char *secret, char *buf, size_t bufsz)
{
    size_t o = 0;
    size_t slen = secret ? strlen(secret) : 0;
    if (bufsz == 0)
        return buf;
    if (!msg)
        msg = "";
    for (const char *p = msg; *p && *p != '\n' && o + 1 < bufsz;) {
        if (slen && strncmp(p, secret, slen) == 0) {
            for (const char *m = "***"; *m && o + 1 < bufsz; m++)
                buf[o++] = *m;
            p += slen;
            continue;
        }
        buf[o++] = *p++;
    }
    while (o > 0 && (buf[o - 1] == ' ' || buf[o - 1] == '\t' || buf[o - 1] == '\r'))
        o--;
    buf[o] = '\0';
    return buf;
}

rd_status rd_db_dsn_display(rd_engine engine, const char *dsn, char **out, rd_error *err)
{
    const rd_db_driver *drv = driver_for(engine);
    if (!drv)
        return RD_ERR(err, RD_ERR_USAGE, "unknown database engine %d", (int)engine);
    return drv->display(dsn, out, err);
}

rd_status rd_db_dsn_with_database(rd_engine engine, const char *dsn, const char *database,
                                  char **out, rd_error *err)
{
    const rd_db_driver *drv = driver_for(engine);
    if (!drv || !drv->with_database)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "a DSN for another database is not implemented yet for %s",
                      rd_engine_name(engine));
    return drv->with_database(dsn, database, out, err);
}

rd_status rd_db_connect(rd_engine engine, const char *dsn, const rd_db_opts *opts, rd_db **out,
                        rd_error *err)
{
    rd_status st = RD_OK;
    const rd_db_driver *drv = driver_for(engine);
    rd_db *db = NULL;
    if (!drv)
        return RD_ERR(err, RD_ERR_USAGE, "unknown database engine %d", (int)engine);
    db = calloc(1, sizeof *db);
    if (!db)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    db->drv = drv;
    db->default_timeout =
        opts && opts->default_timeout > 0 ? opts->default_timeout : RD_DB_DEFAULT_TIMEOUT;
    st = drv->connect(dsn ? dsn : "", opts, &db->conn, &db->display, err);
    if (st != RD_OK)
        goto out;
    *out = db;
    db = NULL;
out:
    rd_db_free(db);
    return st;
}

void rd_db_free(rd_db *db)
{
    if (!db)
        return;
    if (db->conn)
        db->drv->close(db->conn);
    free(db->display);
    free(db);
}

rd_engine rd_db_engine(const rd_db *db)
{
    return db->drv->engine;
}

const char *rd_db_display(const rd_db *db)
{
    return db->display ? db->display : "";
}

static double eff_timeout(const rd_db *db, double timeout)
{
    return timeout > 0 ? timeout : db->default_timeout;
}

rd_status rd_db_exec(rd_db *db, const char *sql, double timeout, int64_t *affected, rd_error *err)
{
    rd_db_sink sink = {0};
    rd_status st = db->drv->run(db->conn, sql, eff_timeout(db, timeout), &sink, err);
    if (st == RD_OK && affected)
        *affected = sink.affected;
    return st;
}

rd_status rd_db_stream(rd_db *db, const char *sql, double timeout, rd_db_row_cb cb, void *ud,
                       rd_error *err)
{
    rd_db_sink sink = {0};
    sink.row = cb;
    sink.ud = ud;
    return db->drv->run(db->conn, sql, eff_timeout(db, timeout), &sink, err);
}

/* scalar: keep the first column of the first row, read the rest */
typedef struct scalar_state {
    int seen;
    int nomem;
    char *val;
} scalar_state;

static int scalar_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    scalar_state *s = ud;
    if (s->seen || ncols == 0)
        return 0;
    s->seen = 1;
    if (vals[0]) {
        s->val = malloc(lens[0] + 1);
        if (!s->val) {
            s->nomem = 1;
            return 1;
        }
        memcpy(s->val, vals[0], lens[0]);
        s->val[lens[0]] = '\0';
    }
    return 0;
}

rd_status rd_db_scalar(rd_db *db, const char *sql, double timeout, char **out, int *found,
                       rd_error *err)
{
    scalar_state s = {0};
    rd_status st = rd_db_stream(db, sql, timeout, scalar_row, &s, err);
    if (st == RD_OK && s.nomem)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st != RD_OK) {
        free(s.val);
        return st;
    }
    *out = s.val;
    if (found)
        *found = s.seen;
    return RD_OK;
}

/* materialised results */
typedef struct query_state {
    rd_db_result *r;
    size_t max_rows;
    size_t cap; /* rows allocated */
    rd_status st;
    rd_error *err;
} query_state;

static char *dup_n(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

static int query_header(void *ud, size_t ncols, const char *const *names)
{
    query_state *q = ud;
    q->r->colnames = calloc(ncols ? ncols : 1, sizeof(char *));
    if (!q->r->colnames)
        goto nomem;
    q->r->ncols = ncols;
    for (size_t i = 0; i < ncols; i++) {
        q->r->colnames[i] = rd_strdup(names[i] ? names[i] : "");
        if (!q->r->colnames[i])
            goto nomem;
    }
    return 0;
nomem:
    q->st = RD_ERR(q->err, RD_ERR_NOMEM, "out of memory");
    return 1;
}

static int query_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    query_state *q = ud;
    rd_db_result *r = q->r;
    if (ncols != r->ncols) {
        q->st = RD_ERR(q->err, RD_ERR_INTERNAL, "row has %zu columns, header %zu", ncols, r->ncols);
        return 1;
    }
    if (r->nrows >= q->max_rows) {
        q->st = RD_ERR(q->err, RD_ERR_NOMEM, "result has more than %zu rows", q->max_rows);
        return 1;
    }
    if (r->nrows == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        size_t per = ncols ? ncols : 1;
        char **cells = realloc(r->cells, cap * per * sizeof *cells);
        if (!cells)
            goto nomem;
        r->cells = cells;
        size_t *l = realloc(r->lens, cap * per * sizeof *l);
        if (!l)
            goto nomem;
        r->lens = l;
        q->cap = cap;
    }
    size_t base = r->nrows * ncols;
    for (size_t i = 0; i < ncols; i++) {
        r->cells[base + i] = NULL;
        r->lens[base + i] = vals[i] ? lens[i] : 0;
    }
    r->nrows++; /* counted first so a partial row is freed */
    for (size_t i = 0; i < ncols; i++) {
        if (!vals[i])
            continue;
        r->cells[base + i] = dup_n(vals[i], lens[i]);
        if (!r->cells[base + i])
            goto nomem;
    }
    return 0;
nomem:
    q->st = RD_ERR(q->err, RD_ERR_NOMEM, "out of memory");
    return 1;
}

rd_status rd_db_query(rd_db *db, const char *sql, double timeout, size_t max_rows,
                      rd_db_result **out, rd_error *err)
{
    rd_status st = RD_OK;
    query_state q = {0};
    rd_db_sink sink = {0};
    q.r = calloc(1, sizeof *q.r);
    if (!q.r)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    q.max_rows = max_rows ? max_rows : 1000000;
    q.err = err;
    sink.header = query_header;
    sink.row = query_row;
    sink.ud = &q;
    st = db->drv->run(db->conn, sql, eff_timeout(db, timeout), &sink, err);
    if (st == RD_OK && q.st != RD_OK)
        st = q.st;
    if (st != RD_OK)
        goto out;
    *out = q.r;
    q.r = NULL;
out:
    rd_db_result_free(q.r);
    return st;
}

const char *rd_db_cell(const rd_db_result *r, size_t row, size_t col)
{
    if (!r || row >= r->nrows || col >= r->ncols)
        return NULL;
    return r->cells[row * r->ncols + col];
}

void rd_db_result_free(rd_db_result *r)
{
    if (!r)
        return;
    if (r->cells)
        for (size_t i = 0; i < r->nrows * r->ncols; i++)
            free(r->cells[i]);
    if (r->colnames)
        for (size_t i = 0; i < r->ncols; i++)
            free(r->colnames[i]);
    free(r->cells);
    free(r->lens);
    free(r->colnames);
    free(r);
}

/* quoting */
rd_status rd_db_quote_ident(rd_db *db, const char *ident, rd_strbuf *out, rd_error *err)
{
    return db->drv->quote_ident(db->conn, ident, out, err);
}

rd_status rd_db_quote_literal(rd_db *db, const char *value, rd_strbuf *out, rd_error *err)
{
    return db->drv->quote_literal(db->conn, value, out, err);
}

rd_status rd_db_quote_table(rd_db *db, const char *schema, const char *table, rd_strbuf *out,
                            rd_error *err)
{
    rd_status st = RD_OK;
    size_t len0 = out->len;
    if (schema && schema[0]) {
        st = rd_db_quote_ident(db, schema, out, err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(out, '.', err);
    }
    if (st == RD_OK)
        st = rd_db_quote_ident(db, table, out, err);
    if (st != RD_OK) { /* leave out as it was */
        out->len = len0;
        out->data[len0] = '\0';
    }
    return st;
}

/* server facts */
static rd_status scalar_required(rd_db *db, const char *sql, const char *what, char **out,
                                 rd_error *err)
{
    char *v = NULL;
    rd_status st = rd_db_scalar(db, sql, 0, &v, NULL, err);
    if (st != RD_OK)
        return st;
    if (!v)
        return RD_ERR(err, RD_ERR_NOTFOUND, "%s: the server returned no value", what);
    *out = v;
    return RD_OK;
}

rd_status rd_db_server_version(rd_db *db, char **out, rd_error *err)
{
    char *v = NULL;
    rd_status st = scalar_required(db, db->drv->sql_version, "server version", &v, err);
    if (st != RD_OK)
        return st;
    v[strcspn(v, " ")] = '\0'; /* "15.18 (Debian 15.18-0+deb12u1)" -> "15.18" */
    *out = v;
    return RD_OK;
}

rd_status rd_db_server_major(rd_db *db, int *out, rd_error *err)
{
    char *v = NULL;
    rd_status st = rd_db_server_version(db, &v, err);
    if (st != RD_OK)
        return st;
    char *end = NULL;
    long major = strtol(v, &end, 10);
    long minor = 0;
    if (end == v || major <= 0 || major > 10000) {
        st = RD_ERR(err, RD_ERR_FORMAT, "cannot parse server version \"%s\"", v);
        goto out;
    }
    if (*end == '.') {
        const char *m = end + 1;
        minor = strtol(m, &end, 10);
        if (end == m || minor < 0 || minor > 99)
            minor = 0;
    }
    /* PostgreSQL 10+ numbers majors alone; 9.6 stays 9. MariaDB: 1011 */
    *out = (int)(db->drv->engine == RD_ENGINE_MARIADB ? major * 100 + minor : major);
out:
    free(v);
    return st;
}

rd_status rd_db_server_identity(rd_db *db, char **out, rd_error *err)
{
    char *id = NULL;
    rd_status st = db->drv->identity(db, &id, err);
    if (st != RD_OK)
        return st;
    char *s = rd_asprintf("%s:%s", db->drv->engine == RD_ENGINE_PG ? "pg" : "mariadb", id);
    free(id);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *out = s;
    return RD_OK;
}

rd_status rd_db_current_database(rd_db *db, char **out, rd_error *err)
{
    char *v = NULL;
    rd_status st = rd_db_scalar(db, db->drv->sql_current_database, 0, &v, NULL, err);
    if (st != RD_OK)
        return st;
    if (!v)
        return RD_ERR(err, RD_ERR_NOTFOUND, "no database selected");
    *out = v;
    return RD_OK;
}

rd_status rd_db_begin_readonly(rd_db *db, rd_error *err)
{
    return rd_db_exec(db, db->drv->sql_begin_readonly, 0, NULL, err);
}

rd_status rd_db_commit(rd_db *db, rd_error *err)
{
    return rd_db_exec(db, "COMMIT", 0, NULL, err);
}

rd_status rd_db_pin_session(rd_db *db, rd_error *err)
{
    return rd_db_exec(db, db->drv->sql_pin_session, 0, NULL, err);
}

/* table listing: rows (schema, table, pk column or NULL, key position or
 * NULL), sorted here byte-wise so both engines order alike */
typedef struct trow {
    const char *schema, *name, *col;
    long ord;
} trow;

static int trow_cmp(const void *a, const void *b)
{
    const trow *x = a, *y = b;
    int c = strcmp(x->schema, y->schema);
    if (c == 0)
        c = strcmp(x->name, y->name);
    if (c == 0)
        c = (x->ord > y->ord) - (x->ord < y->ord);
    return c;
}

static void table_clear(rd_db_table *t)
{
    free(t->schema);
    free(t->name);
    if (t->pk)
        for (size_t i = 0; i < t->npk; i++)
            free(t->pk[i]);
    free(t->pk);
}

void rd_db_tables_free(rd_db_tables *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        table_clear(&t->items[i]);
    free(t->items);
    t->items = NULL;
    t->n = 0;
}

static rd_status pk_append(rd_db_table *t, const char *col, rd_error *err)
{
    char **pk = realloc(t->pk, (t->npk + 2) * sizeof *pk);
    if (!pk)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    t->pk = pk;
    pk[t->npk] = col ? rd_strdup(col) : NULL;
    if (col && !pk[t->npk])
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (col)
        t->npk++;
    pk[t->npk] = NULL;
    return RD_OK;
}

rd_status rd_db_list_tables(rd_db *db, rd_db_tables *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_db_result *r = NULL;
    trow *rows = NULL;
    rd_db_tables res = {0};
    st = rd_db_query(db, db->drv->sql_list_tables, 0, 0, &r, err);
    if (st != RD_OK)
        goto out;
    if (r->ncols != 4) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "table list has %zu columns, expected 4", r->ncols);
        goto out;
    }
    rows = calloc(r->nrows ? r->nrows : 1, sizeof *rows);
    res.items = calloc(r->nrows ? r->nrows : 1, sizeof *res.items);
    if (!rows || !res.items) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const char *ord = rd_db_cell(r, i, 3);
        rows[i].schema = rd_db_cell(r, i, 0) ? rd_db_cell(r, i, 0) : "";
        rows[i].name = rd_db_cell(r, i, 1) ? rd_db_cell(r, i, 1) : "";
        rows[i].col = rd_db_cell(r, i, 2);
        rows[i].ord = ord ? strtol(ord, NULL, 10) : 0;
    }
    qsort(rows, r->nrows, sizeof *rows, trow_cmp);
    for (size_t i = 0; i < r->nrows; i++) {
        rd_db_table *t = res.n ? &res.items[res.n - 1] : NULL;
        if (!t || strcmp(t->schema, rows[i].schema) != 0 || strcmp(t->name, rows[i].name) != 0) {
            t = &res.items[res.n++];
            t->schema = rd_strdup(rows[i].schema);
            t->name = rd_strdup(rows[i].name);
            if (!t->schema || !t->name) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            st = pk_append(t, NULL, err);
            if (st != RD_OK)
                goto out;
        }
        if (rows[i].col) {
            st = pk_append(t, rows[i].col, err);
            if (st != RD_OK)
                goto out;
        }
    }
    *out = res;
    res.items = NULL;
    res.n = 0;
out:
    rd_db_tables_free(&res);
    free(rows);
    rd_db_result_free(r);
    return st;
}

rd_status rd_db_quote_name(rd_db *db, const char *name, rd_strbuf *out, rd_error *err)
{
    const char *dot = rd_db_engine(db) == RD_ENGINE_PG ? strchr(name, '.') : NULL;
    if (!dot)
        return rd_db_quote_ident(db, name, out, err);
    char *schema = rd_asprintf("%.*s", (int)(dot - name), name);
    if (!schema)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_db_quote_table(db, schema, dot + 1, out, err);
    free(schema);
    return st;
}
