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
 * a sample of the orphan keys in the message.
 * This file reads the parameters and runs the parts: integrity_pg.c,
 * integrity_mariadb.c, integrity_fk.c. */
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
        st = pg ? rd_integrity_pg_tables(ctx, s, err) : rd_integrity_my_tables(ctx, s, err);
    if (st == RD_OK && s->foreign_keys)
        st = rd_integrity_foreign_keys(ctx, s, err);
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
