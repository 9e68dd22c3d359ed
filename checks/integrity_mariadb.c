/* integrity_mariadb.c: the integrity check on MariaDB: CHECK TABLE per table,
 * its result rows parsed (never an exit code). */
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

rd_status rd_integrity_my_tables(rd_check_ctx *ctx, const integrity_state *s, rd_error *err)
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
