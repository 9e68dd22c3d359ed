/* integrity.c: engine-level consistency of the restored database.
 *
 *   { "type": "integrity",
 *     "tables": ["public.*"],   optional: limit to these (globs)
 *     "heap": true,             PostgreSQL verify_heapam (with TOAST)
 *     "indexes": true,          PostgreSQL bt_index_check (heapallindexed) on btree indexes
 *     "foreign_keys": true,     orphan rows of every foreign key, both engines
 *     "mode": "" }              MariaDB CHECK TABLE mode: "" (MEDIUM), QUICK, MEDIUM,
 *                               EXTENDED, CHANGED
 *
 * PostgreSQL: amcheck is loaded into the scratch database (in a schema of
 * its own, dropped again afterwards when this check created it, so a later
 * schema check sees the restore as it was). Any verify_heapam row is
 * corruption; a bt_index_check error with sqlstate XX001/XX002 is corruption,
 * any other error means the table could not be checked (`error`).
 * MariaDB: CHECK TABLE result rows are parsed (never an exit code): any
 * error or warning row, or a status other than OK, fails the table; a table
 * whose engine cannot be checked is `skipped`.
 * One result per table ("schema.table" on PostgreSQL, the bare name on
 * MariaDB), then one per foreign key ("<table>.<constraint>"): child rows
 * whose non-NULL key has no parent row, found with a LEFT JOIN anti-join, with
 * a sample of the orphan keys in the message. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define AMCHECK_SCHEMA "restoredrill_amcheck"
#define SAMPLE_KEYS 5

typedef struct integrity_state {
    rd_strlist tables;
    int heap, indexes, foreign_keys;
    char *mode; /* "" or QUICK MEDIUM EXTENDED CHANGED */
} integrity_state;

static void integrity_free(void *p)
{
    integrity_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->tables);
    free(s->mode);
    free(s);
}

static rd_status parse_mode(const cJSON *params, const char *path, rd_engine engine,
                            integrity_state *s, rd_error *err)
{
    static const char *const modes[] = {"", "QUICK", "MEDIUM", "EXTENDED", "CHANGED", NULL};
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, "mode");
    if (!it)
        return RD_OK;
    if (engine == RD_ENGINE_PG)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.mode: CHECK TABLE modes apply to mariadb only", path);
    for (size_t i = 0; cJSON_IsString(it) && modes[i]; i++) {
        if (strcasecmp(modes[i], it->valuestring) == 0) {
            free(s->mode);
            s->mode = rd_strdup(modes[i]);
            return s->mode ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        }
    }
    /* for the standard message */
    return rd_cfg_enum(params, path, "mode", modes, &s->mode, err);
}

static rd_status integrity_configure(const cJSON *params, const char *path, rd_engine engine,
                                     void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "tables", "heap", "indexes",
                                       "foreign_keys",       "mode",   NULL};
    rd_status st;
    integrity_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->heap = s->indexes = s->foreign_keys = 1;
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "tables", 1, &s->tables, err)) != RD_OK ||
        (st = rd_cfg_bool(params, path, "heap", &s->heap, err)) != RD_OK ||
        (st = rd_cfg_bool(params, path, "indexes", &s->indexes, err)) != RD_OK ||
        (st = rd_cfg_bool(params, path, "foreign_keys", &s->foreign_keys, err)) != RD_OK ||
        (st = parse_mode(params, path, engine, s, err)) != RD_OK)
        goto out;
    if (!s->heap && !s->indexes && !s->foreign_keys)
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "%s: nothing to check (heap, indexes and foreign_keys are all false)", path);
out:
    if (st == RD_OK)
        *state = s;
    else
        integrity_free(s);
    return st;
}

/* ---------- PostgreSQL: amcheck ---------- */

typedef struct amcheck {
    rd_strbuf nsp; /* quoted schema of the extension */
    int created;
    rd_status st; /* RD_OK when usable */
    char msg[RD_ERROR_MSG_MAX + 32];
} amcheck;

static void amcheck_load(rd_db *db, double timeout, amcheck *a)
{
    rd_error err = {0};
    char *nsp = NULL;
    int found = 0;
    rd_strbuf_init(&a->nsp, 0);
    a->created = 0;
    a->st = rd_db_scalar(db,
                         "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                         "e.extnamespace WHERE e.extname = 'amcheck'",
                         timeout, &nsp, &found, &err);
    if (a->st == RD_OK && !found) {
        a->st = rd_db_exec(db, "CREATE SCHEMA " AMCHECK_SCHEMA, timeout, NULL, &err);
        if (a->st == RD_OK) {
            a->created = 1;
            a->st = rd_db_exec(db, "CREATE EXTENSION amcheck SCHEMA " AMCHECK_SCHEMA, timeout, NULL,
                               &err);
        }
        if (a->st == RD_OK)
            nsp = rd_strdup(AMCHECK_SCHEMA);
    }
    if (a->st == RD_OK)
        a->st = nsp ? rd_db_quote_ident(db, nsp, &a->nsp, &err)
                    : RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
    if (a->st != RD_OK)
        snprintf(a->msg, sizeof a->msg, "cannot load amcheck: %s", err.msg);
    free(nsp);
}

static void amcheck_unload(rd_db *db, double timeout, amcheck *a)
{
    rd_error err = {0};
    if (a->created &&
        (rd_db_exec(db, "DROP EXTENSION IF EXISTS amcheck", timeout, NULL, &err) != RD_OK ||
         rd_db_exec(db, "DROP SCHEMA " AMCHECK_SCHEMA, timeout, NULL, &err) != RD_OK))
        rd_log_warn("integrity: cannot drop amcheck again: %s", err.msg);
    rd_strbuf_free(&a->nsp);
}

/* 1 when an amcheck error reports corruption (not a failure to check). */
static int is_corruption(const rd_error *e)
{
    return e->code == RD_ERR_DB &&
           (strstr(e->msg, "(sqlstate XX001)") || strstr(e->msg, "(sqlstate XX002)"));
}

/* What one part of a table's check (its heap, or its btree indexes) found;
 * the parts run as separate work units and are told in one result. */
typedef struct part_findings {
    rd_strlist corrupt; /* corruption found */
    rd_strlist errors;  /* could not check */
    size_t heap_rows;
    size_t nidx;
    double secs;
    int ran; /* 0: the unit did not run (abort) */
} part_findings;

static void add_item(rd_strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_item(rd_strlist *l, const char *fmt, ...)
{
    char item[1024]; /* as rd_cku_list_add */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(item, sizeof item, fmt, ap);
    va_end(ap);
    if (n < 0)
        item[0] = '\0';
    if (rd_strlist_push(l, item, NULL) != RD_OK)
        rd_log_error("integrity: out of memory recording a finding");
}

static void heap_check(rd_db *db, const amcheck *a, const char *oid, double timeout,
                       part_findings *f)
{
    rd_error err = {0};
    rd_db_result *r = NULL;
    char *sql = rd_asprintf("SELECT count(*) OVER (), blkno, offnum, attnum, msg FROM "
                            "%s.verify_heapam(%s::regclass, check_toast => true) "
                            "ORDER BY blkno, offnum, attnum LIMIT %d",
                            a->nsp.data, oid, SAMPLE_KEYS);
    if (!sql) {
        add_item(&f->errors, "heap: out of memory");
        return;
    }
    if (rd_db_query(db, sql, timeout, SAMPLE_KEYS, &r, &err) != RD_OK) {
        add_item(is_corruption(&err) ? &f->corrupt : &f->errors, "heap: %s", err.msg);
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        const char *att = rd_db_cell(r, i, 3);
        if (i == 0)
            f->heap_rows = (size_t)strtoull(rd_db_cell(r, 0, 0), NULL, 10);
        add_item(&f->corrupt, "heap block %s offset %s%s%s: %s",
                 rd_db_cell(r, i, 1) ? rd_db_cell(r, i, 1) : "?",
                 rd_db_cell(r, i, 2) ? rd_db_cell(r, i, 2) : "?", att ? " attribute " : "",
                 att ? att : "", rd_db_cell(r, i, 4) ? rd_db_cell(r, i, 4) : "");
    }
    if (f->heap_rows > r->nrows)
        add_item(&f->corrupt, "%zu more heap findings", f->heap_rows - r->nrows);
out:
    rd_db_result_free(r);
    free(sql);
}

static void index_checks(rd_db *db, const amcheck *a, const char *oid, double timeout,
                         part_findings *f)
{
    rd_error err = {0};
    rd_db_result *idx = NULL;
    char *sql = rd_asprintf("SELECT ic.oid, ic.relname FROM pg_index i JOIN pg_class ic ON ic.oid "
                            "= i.indexrelid JOIN pg_am am ON am.oid = ic.relam WHERE i.indrelid = "
                            "%s AND am.amname = 'btree' AND i.indisvalid AND i.indisready "
                            "ORDER BY ic.relname COLLATE \"C\"",
                            oid);
    if (!sql || rd_db_query(db, sql, timeout, 0, &idx, &err) != RD_OK) {
        add_item(&f->errors, "listing indexes: %s", sql ? err.msg : "out of memory");
        goto out;
    }
    for (size_t i = 0; i < idx->nrows; i++) {
        char *q = rd_asprintf("SELECT %s.bt_index_check(%s::regclass, true)", a->nsp.data,
                              rd_db_cell(idx, i, 0));
        rd_error_clear(&err);
        if (!q)
            rd_error_set(&err, RD_ERR_NOMEM, 0, "out of memory");
        if (!q || rd_db_exec(db, q, timeout, NULL, &err) != RD_OK)
            add_item(is_corruption(&err) ? &f->corrupt : &f->errors, "index %s: %s",
                     rd_db_cell(idx, i, 1), err.msg);
        f->nidx++;
        free(q);
    }
out:
    rd_db_result_free(idx);
    free(sql);
}

/* The selected tables of one PostgreSQL run: parts per table (heap and/or
 * indexes) run as work units, each into its own part_findings. */
typedef struct pg_units {
    const integrity_state *s;
    const amcheck *a;
    const char **oids; /* per table */
    size_t ntables, parts;
    part_findings *found; /* ntables * parts */
} pg_units;

static void pg_part(rd_check_ctx *ctx, size_t u, void *ud)
{
    pg_units *pu = ud;
    size_t t = u / pu->parts;
    int heap = pu->s->heap && u % pu->parts == 0;
    part_findings *f = &pu->found[u];
    double t0 = rd_mono_now();
    if (pu->a->st != RD_OK)
        return;
    if (heap)
        heap_check(ctx->scratch, pu->a, pu->oids[t], rd_cku_timeout(ctx), f);
    else
        index_checks(ctx->scratch, pu->a, pu->oids[t], rd_cku_timeout(ctx), f);
    f->secs = rd_mono_now() - t0;
    f->ran = 1;
}

/* One table's result from its parts' findings (heap first). */
static void pg_table(rd_check_ctx *ctx, const integrity_state *s, const amcheck *a,
                     const part_findings *parts, size_t nparts, const char *obj)
{
    rd_cku_list corrupt, errors;
    size_t nidx = 0, heap_rows = 0;
    double secs = 0;
    rd_check_result *c = NULL;
    rd_cku_list_init(&corrupt, 3);
    rd_cku_list_init(&errors, 3);
    if (a->st != RD_OK) {
        rd_check_record(ctx, obj, RD_ERROR, 0, "%s", a->msg);
        goto out;
    }
    for (size_t p = 0; p < nparts; p++) {
        if (!parts[p].ran)
            rd_cku_list_add(&errors, NULL, "not checked (the drill was interrupted)");
        for (size_t i = 0; i < parts[p].corrupt.n; i++)
            rd_cku_list_add(&corrupt, NULL, "%s", parts[p].corrupt.items[i]);
        for (size_t i = 0; i < parts[p].errors.n; i++)
            rd_cku_list_add(&errors, NULL, "%s", parts[p].errors.items[i]);
        nidx += parts[p].nidx;
        heap_rows += parts[p].heap_rows;
        secs += parts[p].secs;
    }
    if (corrupt.n > 0) {
        c = rd_check_record(ctx, obj, RD_FAILED, secs, "amcheck found corruption: %s",
                            rd_cku_list_text(&corrupt));
        if (c) {
            rd_check_set_expected(c, "no corruption");
            rd_check_set_actual(c, "%zu finding%s", corrupt.n, corrupt.n == 1 ? "" : "s");
            rd_check_set_output(c, corrupt.full.data);
        }
    } else if (errors.n > 0) {
        c = rd_check_record(ctx, obj, RD_ERROR, secs, "amcheck could not run: %s",
                            rd_cku_list_text(&errors));
        if (c)
            rd_check_set_output(c, errors.full.data);
    } else {
        char what[96];
        if (s->heap && s->indexes)
            snprintf(what, sizeof what, "heap and %zu btree index%s", nidx, nidx == 1 ? "" : "es");
        else if (s->heap)
            snprintf(what, sizeof what, "heap");
        else
            snprintf(what, sizeof what, "%zu btree index%s", nidx, nidx == 1 ? "" : "es");
        c = rd_check_record(ctx, obj, RD_PASSED, secs, "amcheck: %s intact", what);
    }
    if (c && s->indexes)
        rd_check_add_prop(c, "indexes_checked", "%zu", nidx);
    if (c && s->heap)
        rd_check_add_prop(c, "heap_findings", "%zu", heap_rows);
out:
    rd_cku_list_free(&corrupt);
    rd_cku_list_free(&errors);
}

static rd_status pg_tables(rd_check_ctx *ctx, const integrity_state *s, rd_error *err)
{
    double timeout = rd_cku_timeout(ctx);
    rd_db_result *r = NULL;
    amcheck a;
    pg_units pu;
    size_t *rows = NULL;
    memset(&pu, 0, sizeof pu);
    rd_status st = rd_db_query(
        ctx->scratch,
        "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND n.nspname "
        "NOT IN ('pg_catalog', 'information_schema', '" AMCHECK_SCHEMA "') AND n.nspname NOT LIKE "
        "'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY n.nspname COLLATE \"C\", "
        "c.relname COLLATE \"C\"",
        timeout, 0, &r, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "listing tables: ");
    pu.s = s;
    pu.a = &a;
    pu.parts = s->heap && s->indexes ? 2 : 1;
    if (r->nrows && (!(pu.oids = calloc(r->nrows, sizeof *pu.oids)) ||
                     !(rows = calloc(r->nrows, sizeof *rows)) ||
                     !(pu.found = calloc(r->nrows * pu.parts, sizeof *pu.found)))) {
        free(pu.oids);
        free(rows);
        rd_db_result_free(r);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < r->nrows; i++) {
        if (rd_cku_table_selected(&s->tables, rd_db_cell(r, i, 1), rd_db_cell(r, i, 2))) {
            rows[pu.ntables] = i;
            pu.oids[pu.ntables++] = rd_db_cell(r, i, 0);
        }
    }
    amcheck_load(ctx->scratch, timeout, &a);
    st = rd_check_units(ctx, pu.ntables * pu.parts, pg_part, &pu, err);
    for (size_t t = 0; st == RD_OK && t < pu.ntables && !rd_abort_requested(); t++) {
        char *obj =
            rd_cku_table_key(RD_ENGINE_PG, rd_db_cell(r, rows[t], 1), rd_db_cell(r, rows[t], 2));
        if (obj)
            pg_table(ctx, s, &a, &pu.found[t * pu.parts], pu.parts, obj);
        free(obj);
    }
    amcheck_unload(ctx->scratch, timeout, &a);
    for (size_t i = 0; i < pu.ntables * pu.parts; i++) {
        rd_strlist_free(&pu.found[i].corrupt);
        rd_strlist_free(&pu.found[i].errors);
    }
    free(pu.found);
    free(pu.oids);
    free(rows);
    rd_db_result_free(r);
    return st;
}

/* ---------- MariaDB: CHECK TABLE ---------- */

void rd_integrity_check_table_row(const char *type, const char *text, int *ok_status,
                                  int *unsupported, rd_cku_list *bad)
{
    type = type ? type : "";
    text = text ? text : "";
    if (strcasecmp(type, "status") == 0) {
        if (strcmp(text, "OK") == 0 || strcmp(text, "Table is already up to date") == 0)
            *ok_status = 1;
        else
            rd_cku_list_add(bad, NULL, "status: %s", text);
    } else if (strcasecmp(type, "error") == 0 || strcasecmp(type, "warning") == 0) {
        rd_cku_list_add(bad, NULL, "%s: %s", type, text);
    } else if (strcasecmp(type, "note") == 0 && strstr(text, "doesn't support check")) {
        *unsupported = 1;
    }
}

static void my_table(rd_check_ctx *ctx, const integrity_state *s, const char *schema,
                     const char *name, const char *engine_name)
{
    double t0 = rd_mono_now();
    rd_error err = {0};
    rd_strbuf sql;
    rd_db_result *r = NULL;
    rd_cku_list bad;
    int ok_status = 0, unsupported = 0;
    const char *mode = s->mode ? s->mode : "";
    char *obj = rd_cku_table_key(RD_ENGINE_MARIADB, schema, name);
    rd_check_result *c = NULL;
    rd_strbuf_init(&sql, 0);
    rd_cku_list_init(&bad, 3);
    if (!obj)
        goto out;
    if (rd_strbuf_append(&sql, "CHECK TABLE ", &err) != RD_OK ||
        rd_db_quote_table(ctx->scratch, schema, name, &sql, &err) != RD_OK ||
        rd_strbuf_appendf(&sql, &err, "%s%s", *mode ? " " : "", mode) != RD_OK ||
        rd_db_query(ctx->scratch, sql.data, rd_cku_timeout(ctx), 10000, &r, &err) != RD_OK) {
        rd_check_record(ctx, obj, RD_ERROR, rd_mono_now() - t0, "CHECK TABLE could not run: %s",
                        err.msg);
        goto out;
    }
    for (size_t i = 0; r->ncols >= 4 && i < r->nrows; i++)
        rd_integrity_check_table_row(rd_db_cell(r, i, 2), rd_db_cell(r, i, 3), &ok_status,
                                     &unsupported, &bad);
    double secs = rd_mono_now() - t0;
    const char *label = *mode ? mode : "MEDIUM";
    if (bad.n > 0) {
        c = rd_check_record(ctx, obj, RD_FAILED, secs, "CHECK TABLE %s: %s", label,
                            rd_cku_list_text(&bad));
        if (c) {
            rd_check_set_expected(c, "OK");
            rd_check_set_actual(c, "%zu problem%s", bad.n, bad.n == 1 ? "" : "s");
            rd_check_set_output(c, bad.full.data);
        }
    } else if (unsupported) {
        rd_check_record(ctx, obj, RD_SKIPPED, secs,
                        "the %s storage engine does not support CHECK TABLE",
                        engine_name ? engine_name : "table's");
    } else if (!ok_status) {
        rd_check_record(ctx, obj, RD_ERROR, secs, "CHECK TABLE %s returned no status row", label);
    } else {
        rd_check_record(ctx, obj, RD_PASSED, secs, "CHECK TABLE %s: OK", label);
    }
out:
    rd_cku_list_free(&bad);
    rd_db_result_free(r);
    rd_strbuf_free(&sql);
    free(obj);
}

typedef struct my_units {
    const integrity_state *s;
    const rd_db_result *r; /* schema, name, engine */
    size_t *rows;          /* the selected rows of r */
} my_units;

static void my_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    const my_units *mu = ud;
    size_t row = mu->rows[i];
    my_table(ctx, mu->s, rd_db_cell(mu->r, row, 0), rd_db_cell(mu->r, row, 1),
             rd_db_cell(mu->r, row, 2));
}

static rd_status my_tables(rd_check_ctx *ctx, const integrity_state *s, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_status st = rd_db_query(ctx->scratch,
                               "SELECT table_schema, table_name, engine FROM "
                               "information_schema.tables WHERE table_schema = DATABASE() AND "
                               "table_type = 'BASE TABLE' ORDER BY BINARY table_name",
                               rd_cku_timeout(ctx), 0, &r, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "listing tables: ");
    my_units mu = {s, r, NULL};
    size_t n = 0;
    if (r->nrows && !(mu.rows = calloc(r->nrows, sizeof *mu.rows)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++)
        if (rd_cku_table_selected(&s->tables, rd_db_cell(r, i, 0), rd_db_cell(r, i, 1)))
            mu.rows[n++] = i;
    if (st == RD_OK)
        st = rd_check_units(ctx, n, my_unit, &mu, err); /* one CHECK TABLE each */
    free(mu.rows);
    rd_db_result_free(r);
    return st;
}

/* ---------- foreign keys, both engines ---------- */

/* Columns: constraint, schema, table, ref schema, ref table, position,
 * column, ref column; ordered by table, constraint, position. */
static const char pg_fk_sql[] =
    "SELECT c.conname, n.nspname, cl.relname, fn.nspname, fcl.relname, k.ord, a.attname, "
    "fa.attname FROM pg_constraint c JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_namespace n "
    "ON n.oid = cl.relnamespace JOIN pg_class fcl ON fcl.oid = c.confrelid JOIN pg_namespace fn "
    "ON fn.oid = fcl.relnamespace CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY "
    "AS k(attnum, fattnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = "
    "k.attnum JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = k.fattnum WHERE "
    "c.contype = 'f' AND c.conparentid = 0 AND n.nspname NOT IN ('pg_catalog', "
    "'information_schema') AND n.nspname NOT LIKE 'pg\\_temp%' ORDER BY n.nspname COLLATE \"C\", "
    "cl.relname COLLATE \"C\", c.conname COLLATE \"C\", k.ord";
static const char my_fk_sql[] =
    "SELECT constraint_name, table_schema, table_name, referenced_table_schema, "
    "referenced_table_name, ordinal_position, column_name, referenced_column_name FROM "
    "information_schema.key_column_usage WHERE table_schema = DATABASE() AND "
    "referenced_table_name IS NOT NULL ORDER BY BINARY table_name, BINARY constraint_name, "
    "ordinal_position";

/* The anti-join for the foreign key in rows [from, to) of fk, grouped by
 * the orphan key: columns k0.. (names in knames) and n (rows). */
static rd_status orphan_sql(rd_db *db, const rd_db_result *fk, size_t from, size_t to,
                            rd_strbuf *sql, rd_strbuf *cols, rd_strbuf *knames, rd_error *err)
{
    rd_strbuf on, notnull, keys, alias;
    rd_status st;
    rd_strbuf_init(&alias, 0);
    rd_strbuf_init(&on, 0);
    rd_strbuf_init(&notnull, 0);
    rd_strbuf_init(&keys, 0);
    for (size_t i = from; i < to; i++) {
        const char *sep = i > from ? ", " : "";
        const char *and = i > from ? " AND " : "";
        if ((st = rd_strbuf_appendf(&on, err, "%sp.", and)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 7), &on, err)) != RD_OK ||
            (st = rd_strbuf_append(&on, " = c.", err)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &on, err)) != RD_OK ||
            (st = rd_strbuf_appendf(&notnull, err, "%sc.", and)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &notnull, err)) != RD_OK ||
            (st = rd_strbuf_append(&notnull, " IS NOT NULL", err)) != RD_OK ||
            (st = rd_strbuf_appendf(&keys, err, "%sc.", sep)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &keys, err)) != RD_OK ||
            (st = rd_strbuf_appendf(&alias, err, "%sc.", sep)) != RD_OK ||
            (st = rd_db_quote_ident(db, rd_db_cell(fk, i, 6), &alias, err)) != RD_OK ||
            (st = rd_strbuf_appendf(&alias, err, " AS k%zu", i - from)) != RD_OK ||
            (st = rd_strbuf_appendf(knames, err, "%sk%zu", sep, i - from)) != RD_OK ||
            (st = rd_strbuf_appendf(cols, err, "%s%s", sep, rd_db_cell(fk, i, 6))) != RD_OK)
            goto out;
    }
    if ((st = rd_strbuf_appendf(sql, err, "SELECT %s, count(*) AS n FROM ", alias.data)) != RD_OK ||
        (st = rd_db_quote_table(db, rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 2), sql, err)) !=
            RD_OK ||
        (st = rd_strbuf_append(sql, " AS c LEFT JOIN ", err)) != RD_OK ||
        (st = rd_db_quote_table(db, rd_db_cell(fk, from, 3), rd_db_cell(fk, from, 4), sql, err)) !=
            RD_OK ||
        (st = rd_strbuf_appendf(sql, err, " AS p ON %s WHERE %s AND p.", on.data, notnull.data)) !=
            RD_OK ||
        (st = rd_db_quote_ident(db, rd_db_cell(fk, from, 7), sql, err)) != RD_OK)
        goto out;
    st = rd_strbuf_appendf(sql, err, " IS NULL GROUP BY %s", keys.data);
out:
    rd_strbuf_free(&on);
    rd_strbuf_free(&notnull);
    rd_strbuf_free(&keys);
    rd_strbuf_free(&alias);
    return st;
}

static void fk_one(rd_check_ctx *ctx, const rd_db_result *fk, size_t from, size_t to)
{
    rd_engine engine = rd_db_engine(ctx->scratch);
    double t0 = rd_mono_now();
    rd_error err = {0};
    rd_strbuf sql, inner, cols, knames, refcols;
    rd_db_result *r = NULL, *tot = NULL;
    rd_cku_list sample;
    char *table = rd_cku_table_key(engine, rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 2));
    char *parent = rd_cku_table_key(engine, rd_db_cell(fk, from, 3), rd_db_cell(fk, from, 4));
    char *obj = table ? rd_asprintf("%s.%s", table, rd_db_cell(fk, from, 0)) : NULL;
    rd_strbuf_init(&sql, 0);
    rd_strbuf_init(&inner, 0);
    rd_strbuf_init(&cols, 0);
    rd_strbuf_init(&knames, 0);
    rd_strbuf_init(&refcols, 0);
    rd_cku_list_init(&sample, SAMPLE_KEYS);
    if (!obj || !parent)
        goto out;
    if (engine == RD_ENGINE_MARIADB && strcmp(rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 3))) {
        free(parent); /* a parent in another database keeps its database name */
        parent = rd_asprintf("%s.%s", rd_db_cell(fk, from, 3), rd_db_cell(fk, from, 4));
        if (!parent)
            goto out;
    }
    for (size_t i = from; i < to; i++)
        rd_strbuf_appendf(&refcols, NULL, "%s%s", i > from ? ", " : "", rd_db_cell(fk, i, 7));
    /* totals first; the sample of keys only when there are orphans */
    rd_status st = orphan_sql(ctx->scratch, fk, from, to, &inner, &cols, &knames, &err);
    if (st == RD_OK)
        st = rd_strbuf_appendf(&sql, &err, "SELECT COALESCE(sum(n), 0), count(*) FROM (%s) AS o",
                               inner.data);
    if (st == RD_OK)
        st = rd_db_query(ctx->scratch, sql.data, rd_cku_timeout(ctx), 1, &tot, &err);
    if (st == RD_OK && tot->nrows == 1 && strcmp(rd_db_cell(tot, 0, 0), "0") != 0) {
        rd_strbuf_reset(&sql);
        st = rd_strbuf_appendf(&sql, &err, "SELECT %s FROM (%s) AS o ORDER BY %s LIMIT %d",
                               knames.data, inner.data, knames.data, SAMPLE_KEYS);
        if (st == RD_OK)
            st = rd_db_query(ctx->scratch, sql.data, rd_cku_timeout(ctx), SAMPLE_KEYS, &r, &err);
    }
    if (st != RD_OK) {
        rd_check_record(ctx, obj, RD_ERROR, rd_mono_now() - t0, "cannot look for orphan rows: %s",
                        err.msg);
        goto out;
    }
    double secs = rd_mono_now() - t0;
    long long rows = tot->nrows ? strtoll(rd_db_cell(tot, 0, 0), NULL, 10) : 0;
    long long keys = tot->nrows ? strtoll(rd_db_cell(tot, 0, 1), NULL, 10) : 0;
    rd_check_result *c;
    if (rows == 0) {
        c = rd_check_record(ctx, obj, RD_PASSED, secs, "no orphan rows: (%s) references %s (%s)",
                            cols.data, parent, refcols.data);
    } else {
        for (size_t i = 0; r && i < r->nrows; i++) {
            rd_strbuf key;
            rd_strbuf_init(&key, 0);
            for (size_t k = 0; k < r->ncols; k++)
                rd_strbuf_appendf(&key, NULL, "%s%.40s", k > 0 ? ", " : "",
                                  rd_db_cell(r, i, k) ? rd_db_cell(r, i, k) : "NULL");
            rd_cku_list_add(&sample, NULL, to - from > 1 ? "(%s)" : "%s", key.data);
            rd_strbuf_free(&key);
        }
        sample.n = keys > 0 ? (size_t)keys : sample.n; /* " and N more" counts every key */
        c = rd_check_record(
            ctx, obj, RD_FAILED, secs, "%lld orphan row%s: (%s) not found in %s (%s): %s", rows,
            rows == 1 ? "" : "s", cols.data, parent, refcols.data, rd_cku_list_text(&sample));
    }
    if (c) {
        rd_check_set_expected(c, "0 orphan rows");
        rd_check_set_actual(c, "%lld orphan row%s", rows, rows == 1 ? "" : "s");
        rd_check_add_prop(c, "orphan_rows", "%lld", rows);
        rd_check_add_prop(c, "orphan_keys", "%lld", keys);
    }
out:
    rd_cku_list_free(&sample);
    rd_db_result_free(r);
    rd_db_result_free(tot);
    rd_strbuf_free(&sql);
    rd_strbuf_free(&inner);
    rd_strbuf_free(&cols);
    rd_strbuf_free(&knames);
    rd_strbuf_free(&refcols);
    free(obj);
    free(table);
    free(parent);
}

/* The selected foreign keys: rows [from[i], to[i]) of fk each. */
typedef struct fk_units {
    const rd_db_result *fk;
    size_t *from, *to;
} fk_units;

static void fk_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    const fk_units *fu = ud;
    fk_one(ctx, fu->fk, fu->from[i], fu->to[i]);
}

static rd_status foreign_keys(rd_check_ctx *ctx, const integrity_state *s, rd_error *err)
{
    rd_db_result *fk = NULL;
    int pg = rd_db_engine(ctx->scratch) == RD_ENGINE_PG;
    rd_status st =
        rd_db_query(ctx->scratch, pg ? pg_fk_sql : my_fk_sql, rd_cku_timeout(ctx), 0, &fk, err);
    if (st != RD_OK)
        return rd_error_prefix(err, "listing foreign keys: ");
    fk_units fu = {fk, NULL, NULL};
    size_t n = 0;
    if (fk->nrows && !(fu.from = calloc(2 * fk->nrows, sizeof *fu.from)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    fu.to = fu.from ? fu.from + fk->nrows : NULL;
    for (size_t from = 0; st == RD_OK && from < fk->nrows;) {
        size_t to = from + 1;
        while (to < fk->nrows && strcmp(rd_db_cell(fk, to, 0), rd_db_cell(fk, from, 0)) == 0 &&
               strcmp(rd_db_cell(fk, to, 1), rd_db_cell(fk, from, 1)) == 0 &&
               strcmp(rd_db_cell(fk, to, 2), rd_db_cell(fk, from, 2)) == 0)
            to++;
        if (rd_cku_table_selected(&s->tables, rd_db_cell(fk, from, 1), rd_db_cell(fk, from, 2))) {
            fu.from[n] = from;
            fu.to[n++] = to;
        }
        from = to;
    }
    if (st == RD_OK)
        st = rd_check_units(ctx, n, fk_unit, &fu, err); /* one anti-join per foreign key */
    free(fu.from);
    rd_db_result_free(fk);
    return st;
}

static rd_status integrity_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    integrity_state defaults = {{NULL, 0}, 1, 1, 1, NULL};
    integrity_state *s = state ? state : &defaults;
    size_t before = ctx->result->nchecks;
    rd_status st = RD_OK;
    if (!ctx->scratch)
        return RD_ERR(err, RD_ERR_INTERNAL, "integrity has no scratch connection");
    int pg = rd_db_engine(ctx->scratch) == RD_ENGINE_PG;
    if (s->heap || s->indexes)
        st = pg ? pg_tables(ctx, s, err) : my_tables(ctx, s, err);
    if (st == RD_OK && s->foreign_keys)
        st = foreign_keys(ctx, s, err);
    if (st == RD_OK && ctx->result->nchecks == before)
        rd_check_record(ctx, "*", RD_SKIPPED, 0,
                        s->tables.n ? "no table matches \"tables\"" : "no tables to check");
    return st;
}

const rd_check_type rd_check_integrity = {
    .name = "integrity",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .configure = integrity_configure,
    .run = integrity_run,
    .free = integrity_free,
    .skips = RD_ENGINE_DYNAMODB | RD_ENGINE_S3,
    .concurrent = 1,
};
