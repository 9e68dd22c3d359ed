/* integrity_pg.c: the integrity check on PostgreSQL: amcheck loaded into a
 * schema of its own, verify_heapam and bt_index_check (heapallindexed) per
 * table, run in parallel parts, one result per table. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check_util.h"
#include "integrity_int.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define AMCHECK_SCHEMA "restoredrill_amcheck"

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

rd_status rd_integrity_pg_tables(rd_check_ctx *ctx, const integrity_state *s, rd_error *err)
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
