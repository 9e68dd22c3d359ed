/* check_util.c: reference selection, table naming/matching, capped lists
 * (see check_util.h). */
#include "check_util.h"

#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"

rd_status rd_cku_reference(rd_check_ctx *ctx, int skip_rows, const rd_manifest **ref,
                           rd_manifest **owned, const char **basis, rd_error *err)
{
    *owned = NULL;
    if (ctx->manifest) {
        *ref = ctx->manifest;
        *basis = "manifest";
        return RD_OK;
    }
    if (!ctx->reference)
        return RD_ERR(err, RD_ERR_NOTFOUND, "no manifest and no reference database");
    rd_manifest_opts opts = {0};
    opts.skip_rows = skip_rows;
    rd_status st = rd_manifest_capture(ctx->reference, &opts, owned, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "reading the reference database: ");
    *ref = *owned;
    *basis = "reference";
    return RD_OK;
}

char *rd_cku_table_key(rd_engine engine, const char *schema, const char *name)
{
    if (engine == RD_ENGINE_MARIADB || !schema || !*schema)
        return rd_strdup(name);
    return rd_asprintf("%s.%s", schema, name);
}

const char *rd_cku_strip_db(rd_engine engine, const char *database, const char *s)
{
    if (engine != RD_ENGINE_MARIADB || !database || !s)
        return s;
    size_t n = strlen(database);
    if (strncmp(s, database, n) == 0 && s[n] == '.')
        return s + n + 1;
    return s;
}

int rd_cku_table_selected(const rd_strlist *globs, const char *schema, const char *name)
{
    if (!globs || globs->n == 0)
        return 1;
    char *q = schema && *schema ? rd_asprintf("%s.%s", schema, name) : NULL;
    int hit = 0;
    for (size_t i = 0; i < globs->n && !hit; i++) {
        const char *g = globs->items[i];
        hit = fnmatch(g, name, 0) == 0 || (q && fnmatch(g, q, 0) == 0);
    }
    free(q);
    return hit;
}

rd_status rd_cku_parse_tolerance(const cJSON *item, const char *keypath, rd_cku_tolerance *out,
                                 rd_error *err)
{
    char got[96];
    if (cJSON_IsNumber(item) && item->valuedouble >= 0 && isfinite(item->valuedouble)) {
        out->percent = 0;
        out->value = item->valuedouble;
        return RD_OK;
    }
    if (cJSON_IsString(item) && item->valuestring) {
        const char *s = item->valuestring;
        char *end = NULL;
        double v = strtod(s, &end);
        if (end != s && v >= 0 && isfinite(v) && strcmp(end, "%") == 0 && v <= 100) {
            out->percent = 1;
            out->value = v;
            return RD_OK;
        }
    }
    return RD_ERR(err, RD_ERR_CONFIG,
                  "%s: expected a number of rows or a percentage like \"2%%\", got %s", keypath,
                  rd_cfg_got(item, got, sizeof got));
}

int64_t rd_cku_tolerance_rows(const rd_cku_tolerance *t, int64_t expected)
{
    if (!t)
        return 0;
    if (t->percent)
        return (int64_t)floor((double)(expected < 0 ? -expected : expected) * t->value / 100.0);
    return (int64_t)floor(t->value);
}

void rd_cku_list_init(rd_cku_list *l, size_t cap)
{
    rd_strbuf_init(&l->inline_text, 0);
    rd_strbuf_init(&l->full, 0);
    l->n = 0;
    l->cap = cap ? cap : 5;
}

rd_status rd_cku_list_add(rd_cku_list *l, rd_error *err, const char *fmt, ...)
{
    char item[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    if (n < 0)
        item[0] = '\0';
    rd_status st = rd_strbuf_appendf(&l->full, err, "%s\n", item);
    if (st == RD_OK && l->n < l->cap)
        st = rd_strbuf_appendf(&l->inline_text, err, "%s%s", l->n ? ", " : "", item);
    if (st == RD_OK)
        l->n++;
    return st;
}

const char *rd_cku_list_text(rd_cku_list *l)
{
    static const char suffix_fmt[] = " and %zu more";
    if (l->n > l->cap) {
        /* append the " and N more" tail once, on a copy kept in inline_text */
        char tail[64];
        snprintf(tail, sizeof tail, suffix_fmt, l->n - l->cap);
        size_t tl = strlen(tail);
        if (l->inline_text.len < tl ||
            strcmp(l->inline_text.data + l->inline_text.len - tl, tail) != 0)
            rd_strbuf_append(&l->inline_text, tail, NULL);
    }
    return l->inline_text.data;
}

void rd_cku_list_free(rd_cku_list *l)
{
    rd_strbuf_free(&l->inline_text);
    rd_strbuf_free(&l->full);
    l->n = 0;
}

static int table_cmp(const void *a, const void *b)
{
    const rd_manifest_table *x = a, *y = b;
    int c = strcmp(x->schema ? x->schema : "", y->schema ? y->schema : "");
    return c ? c : strcmp(x->name, y->name);
}

rd_status rd_cku_list_tables(rd_db *db, rd_manifest **out, rd_error *err)
{
    static const char pg[] =
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', "
        "'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE "
        "'pg\\_temp\\_%' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = "
        "'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')";
    static const char my[] = "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
                             "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', "
                             "'SYSTEM VERSIONED')";
    rd_db_result *r = NULL;
    rd_manifest *m = rd_manifest_new(rd_db_engine(db));
    rd_status st = m ? rd_db_query(db, rd_db_engine(db) == RD_ENGINE_PG ? pg : my, 600, 0, &r, err)
                     : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK && r->nrows) {
        m->tables = calloc(r->nrows, sizeof *m->tables);
        if (!m->tables)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; st == RD_OK && r && i < r->nrows; i++) {
        rd_manifest_table *t = &m->tables[m->ntables++];
        t->rows = -1;
        t->schema = rd_strdup(rd_db_cell(r, i, 0) ? rd_db_cell(r, i, 0) : "");
        t->name = rd_strdup(rd_db_cell(r, i, 1) ? rd_db_cell(r, i, 1) : "");
        if (!t->schema || !t->name)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    rd_db_result_free(r);
    if (st == RD_OK) {
        if (m->ntables > 1)
            qsort(m->tables, m->ntables, sizeof *m->tables, table_cmp);
        *out = m;
    } else {
        rd_manifest_free(m);
    }
    return st;
}

rd_status rd_cku_count_rows(rd_db *db, const char *schema, const char *name, double timeout,
                            int64_t *out, rd_error *err)
{
    rd_strbuf sql;
    char *v = NULL;
    rd_strbuf_init(&sql, 0);
    rd_status st = rd_strbuf_append(&sql, "SELECT count(*) FROM ", err);
    if (st == RD_OK)
        st = rd_db_quote_table(db, rd_db_engine(db) == RD_ENGINE_PG ? schema : NULL, name, &sql,
                               err);
    if (st == RD_OK)
        st = rd_db_scalar(db, sql.data, timeout, &v, NULL, err);
    if (st == RD_OK) {
        char *end = NULL;
        long long n = v ? strtoll(v, &end, 10) : -1;
        if (!v || *end || n < 0)
            st = RD_ERR(err, RD_ERR_DB, "count(*) returned \"%s\"", v ? v : "NULL");
        else
            *out = n;
    }
    free(v);
    rd_strbuf_free(&sql);
    return st;
}

double rd_cku_timeout(const rd_check_ctx *ctx)
{
    double t = ctx->check && ctx->check->timeout > 0 ? ctx->check->timeout : 3600;
    if (ctx->deadline > 0) {
        double left = ctx->deadline - rd_mono_now();
        if (left < t)
            t = left;
    }
    return t < 1 ? 1 : t;
}

/* --- per-table comparisons --- */

void rd_cku_sides(const rd_check_ctx *ctx, rd_db_opts opts[2], rd_th_side sides[2])
{
    memset(opts, 0, 2 * sizeof *opts);
    opts[0].password = ctx->instance ? ctx->instance->conn.password : NULL;
    opts[1].password_env = ctx->target ? ctx->target->reference.password_env : NULL;
    sides[0] =
        (rd_th_side){ctx->scratch, ctx->instance ? ctx->instance->conn.dsn : NULL, &opts[0], 0};
    const char *ref_dsn = ctx->reference_dsn ? ctx->reference_dsn
                          : ctx->target      ? ctx->target->reference.dsn
                                             : NULL;
    /* a multi-database target on MariaDB: workers could not share the
     * reference's snapshot (each would start its own), so everything runs
     * on the two main connections, in the database's one snapshot */
    if (ctx->database && ctx->reference && rd_db_engine(ctx->reference) == RD_ENGINE_MARIADB)
        ref_dsn = NULL;
    sides[1] = (rd_th_side){ctx->reference, ref_dsn, &opts[1], 1};
}

rd_status rd_cku_each_table(rd_check_ctx *ctx, const rd_strlist *selection, size_t n,
                            rd_cku_table_at at, const void *list, rd_cku_table_fn fn, void *ud,
                            rd_error *err)
{
    rd_engine engine = rd_db_engine(ctx->scratch);
    size_t selected = 0;
    for (size_t i = 0; i < n; i++) {
        const char *schema, *name;
        at(list, i, &schema, &name);
        if (!rd_cku_table_selected(selection, schema, name))
            continue;
        selected++;
        char *obj = rd_cku_table_key(engine, schema, name);
        if (!obj)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        int missing = 0;
        rd_error e;
        rd_error_clear(&e);
        double t0 = rd_mono_now();
        rd_status ts =
            fn(ctx, i, engine == RD_ENGINE_PG ? schema : NULL, name, obj, ud, &missing, &e);
        double secs = rd_mono_now() - t0;
        if (missing) {
            rd_check_result *c =
                rd_check_record(ctx, obj, RD_FAILED, secs, "table missing from the restore");
            if (c)
                rd_check_set_actual(c, "missing");
        } else if (ts != RD_OK) {
            rd_check_record(ctx, obj, RD_ERROR, secs, "%s", e.msg);
        }
        free(obj);
    }
    if (selected == 0)
        rd_check_record(ctx, "*", selection->n ? RD_FAILED : RD_SKIPPED, 0,
                        selection->n ? "no table of the reference matches \"tables\""
                                     : "the reference has no tables");
    return RD_OK;
}
