/* freshness.c: how new the restored data is, the basis of the RPO.
 *
 *   { "type": "freshness",
 *     "source": "auto",                    auto (default) | heartbeat | query
 *     "query": "SELECT max(created_at) FROM orders",   returns a timestamp
 *     "table": "restoredrill_heartbeat",   heartbeat table (PostgreSQL may say schema.table)
 *     "max_lag": "1h" }                    optional: fail when the data lags more
 *
 * auto: the heartbeat table (written by `restoredrill heartbeat`, max(ts))
 * when the restore has it with a row, else the query. The value is parsed as
 * a timestamp (the session runs in UTC, so a value without an offset is UTC).
 * Fills ctx->newest_data_ms and ctx->newest_data_basis ("heartbeat" /
 * "query") for the RPO. Data lag = the recovery point's creation time minus
 * the newest data; failed when it exceeds max_lag. One result, object
 * "newest data"; `error` when no source is available or the value is not a
 * timestamp. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/dynamo.h"

#define FRESHNESS_OBJECT "newest data"
#define HEARTBEAT_DEFAULT "restoredrill_heartbeat"

typedef struct freshness_state {
    char *source; /* auto heartbeat query */
    char *query;
    char *table;
    double max_lag; /* < 0: none */
} freshness_state;

static void freshness_free(void *p)
{
    freshness_state *s = p;
    if (!s)
        return;
    free(s->source);
    free(s->query);
    free(s->table);
    free(s);
}

/* engine dynamodb: { "type": "freshness", "attribute": "updated_at", "max_lag": "1h" }:
 * the newest value of the attribute over the restored table (an S timestamp,
 * or N epoch seconds / milliseconds); the basis reads "query". */
static rd_status dyn_configure(const cJSON *params, const char *path, void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "attribute", "max_lag", NULL};
    rd_status st;
    freshness_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->max_lag = -1;
    if ((st = rd_cfg_check_keys(params, path, keys, err)) == RD_OK &&
        (st = rd_cfg_string(params, path, "attribute", 1, &s->query, err)) == RD_OK &&
        (st = rd_cfg_duration(params, path, "max_lag", &s->max_lag, err)) == RD_OK &&
        !(s->source = rd_strdup("attribute")))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st != RD_OK) {
        freshness_free(s);
        return st;
    }
    *state = s;
    return RD_OK;
}

static rd_status freshness_configure(const cJSON *params, const char *path, rd_engine engine,
                                     void **state, rd_error *err)
{
    if (engine == RD_ENGINE_DYNAMODB)
        return dyn_configure(params, path, state, err);
    static const char *const keys[] = {
        RD_CHECK_COMMON_KEYS, "source", "query", "table", "max_lag", NULL};
    static const char *const sources[] = {"auto", "heartbeat", "query", NULL};
    (void)engine;
    rd_status st;
    freshness_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->max_lag = -1;
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_enum(params, path, "source", sources, &s->source, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "query", 0, &s->query, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "table", 0, &s->table, err)) != RD_OK ||
        (st = rd_cfg_duration(params, path, "max_lag", &s->max_lag, err)) != RD_OK)
        goto out;
    if (!s->source && !(s->source = rd_strdup("auto")))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    else if (!s->table && !(s->table = rd_strdup(HEARTBEAT_DEFAULT)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    else if (strcmp(s->source, "query") == 0 && !s->query)
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.query: required with \"source\": \"query\"", path);
    else if (strcmp(s->source, "heartbeat") == 0 && s->query)
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.query: not used with \"source\": \"heartbeat\"", path);
    else if (!s->table[0])
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.table: expected a table name, got \"\"", path);
out:
    if (st == RD_OK)
        *state = s;
    else
        freshness_free(s);
    return st;
}
/* max(ts) of the heartbeat table: *present 0 when the table is absent. */
static rd_status heartbeat_value(rd_check_ctx *ctx, const freshness_state *s, int *present,
                                 char **value, rd_error *err)
{
    rd_db *db = ctx->scratch;
    rd_strbuf q, sql;
    char *exists = NULL;
    rd_status st;
    rd_strbuf_init(&q, 0);
    rd_strbuf_init(&sql, 0);
    *present = 0;
    if ((st = rd_db_quote_name(db, s->table, &q, err)) != RD_OK)
        goto out;
    if (rd_db_engine(db) == RD_ENGINE_PG) {
        st = rd_strbuf_append(&sql, "SELECT to_regclass(", err);
        if (st == RD_OK)
            st = rd_db_quote_literal(db, q.data, &sql, err);
        if (st == RD_OK)
            st = rd_strbuf_append(&sql, ") IS NOT NULL", err);
    } else {
        st = rd_strbuf_append(&sql,
                              "SELECT count(*) > 0 FROM information_schema.tables WHERE "
                              "table_schema = DATABASE() AND table_name = ",
                              err);
        if (st == RD_OK)
            st = rd_db_quote_literal(db, s->table, &sql, err);
    }
    if (st != RD_OK ||
        (st = rd_db_scalar(db, sql.data, rd_cku_timeout(ctx), &exists, NULL, err)) != RD_OK)
        goto out;
    if (!exists || (strcmp(exists, "t") != 0 && strcmp(exists, "1") != 0))
        goto out;
    *present = 1;
    rd_strbuf_reset(&sql);
    if ((st = rd_strbuf_appendf(&sql, err, "SELECT max(ts) FROM %s", q.data)) == RD_OK)
        st = rd_db_scalar(db, sql.data, rd_cku_timeout(ctx), value, NULL, err);
out:
    free(exists);
    rd_strbuf_free(&q);
    rd_strbuf_free(&sql);
    return st;
}

static void judge(rd_check_ctx *ctx, const freshness_state *s, const char *basis, const char *value,
                  double secs)
{
    rd_error err = {0};
    int64_t ms = 0;
    char when[RD_TIME_BUFSZ], lagbuf[64], maxbuf[64];
    rd_check_result *c;
    if (rd_time_parse_utc(value, &ms, &err) != RD_OK) {
        c = rd_check_record(ctx, FRESHNESS_OBJECT, RD_ERROR, secs,
                            "the %s returned \"%.100s\", not a timestamp", basis, value);
        if (c)
            rd_check_add_prop(c, "basis", "%s", basis);
        return;
    }
    ctx->newest_data_ms = ms;
    ctx->newest_data_basis = strcmp(basis, "heartbeat") == 0 ? "heartbeat" : "query";
    rd_time_format(ms, when, sizeof when);
    if (ctx->point_created_ms <= 0) {
        c = rd_check_record(ctx, FRESHNESS_OBJECT, s->max_lag >= 0 ? RD_ERROR : RD_PASSED, secs,
                            "newest data %s (%s); the recovery point's creation time is unknown%s",
                            when, ctx->newest_data_basis,
                            s->max_lag >= 0 ? ", so max_lag cannot be judged" : "");
    } else {
        double lag = (double)(ctx->point_created_ms - ms) / 1000.0;
        int ok = s->max_lag < 0 || lag <= s->max_lag;
        rd_duration_human(lag < 0 ? -lag : lag, lagbuf, sizeof lagbuf);
        if (s->max_lag >= 0)
            rd_duration_format(s->max_lag, maxbuf, sizeof maxbuf);
        char limit[96] = "";
        if (s->max_lag >= 0)
            snprintf(limit, sizeof limit, ", %s max_lag %s", ok ? "within" : "more than", maxbuf);
        c = rd_check_record(ctx, FRESHNESS_OBJECT, ok ? RD_PASSED : RD_FAILED, secs,
                            "newest data %s (%s), %s %s the recovery point%s", when,
                            ctx->newest_data_basis, lagbuf, lag < 0 ? "after" : "before", limit);
        if (c) {
            rd_check_add_prop(c, "data_lag_seconds", "%.3f", lag);
            if (s->max_lag >= 0)
                rd_check_set_expected(c, "lag <= %s", maxbuf);
            rd_check_set_actual(c, "lag %.3fs", lag);
        }
    }
    if (c) {
        rd_check_add_prop(c, "newest_data", "%s", when);
        rd_check_add_prop(c, "basis", "%s", ctx->newest_data_basis);
    }
}

static rd_status dyn_run(rd_check_ctx *ctx, const freshness_state *s, rd_error *err)
{
    const rd_conninfo *c = &ctx->instance->conn;
    int64_t ms = 0;
    int found = 0;
    char when[RD_TIME_BUFSZ];
    double t0 = rd_mono_now();
    rd_status st =
        rd_dyn_scan_newest(c->url, NULL, c->database, s->query, 4, ctx->deadline, &ms, &found, err);
    if (st != RD_OK)
        return st;
    if (!found) {
        rd_check_record(ctx, FRESHNESS_OBJECT, RD_ERROR, rd_mono_now() - t0,
                        "no item has a timestamp in attribute \"%s\"", s->query);
        return RD_OK;
    }
    judge(ctx, s, "query", rd_time_format(ms, when, sizeof when), rd_mono_now() - t0);
    return RD_OK;
}

static rd_status freshness_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    if (ctx->target && ctx->target->engine == RD_ENGINE_DYNAMODB)
        return dyn_run(ctx, state, err);
    freshness_state *s = state;
    freshness_state defaults = {(char *)"auto", NULL, (char *)HEARTBEAT_DEFAULT, -1};
    char *value = NULL;
    int present = 0, found = 0;
    rd_status st = RD_OK;
    if (!s)
        s = &defaults;
    if (!ctx->scratch)
        return RD_ERR(err, RD_ERR_INTERNAL, "freshness has no scratch connection");
    double t0 = rd_mono_now();
    if (strcmp(s->source, "query") != 0) {
        if ((st = heartbeat_value(ctx, s, &present, &value, err)) != RD_OK) {
            rd_error_prefix(err, "reading the heartbeat table %s: ", s->table);
            goto out;
        }
        if (value) {
            judge(ctx, s, "heartbeat", value, rd_mono_now() - t0);
            goto out;
        }
        if (strcmp(s->source, "heartbeat") == 0 || !s->query) {
            const char *why = present ? "is empty" : "does not exist in the restore";
            if (strcmp(s->source, "heartbeat") == 0)
                st = RD_ERR(err, RD_ERR_NOTFOUND, "the heartbeat table %s %s", s->table, why);
            else
                st = RD_ERR(err, RD_ERR_NOTFOUND,
                            "no freshness source: the heartbeat table %s %s and no query is "
                            "configured",
                            s->table, why);
            goto out;
        }
    }
    rd_error qerr = {0};
    if (rd_db_scalar(ctx->scratch, s->query, rd_cku_timeout(ctx), &value, &found, &qerr) != RD_OK) {
        rd_check_record(ctx, FRESHNESS_OBJECT, RD_ERROR, rd_mono_now() - t0,
                        "freshness query failed: %s", qerr.msg);
        goto out;
    }
    if (!value) {
        rd_check_record(ctx, FRESHNESS_OBJECT, RD_ERROR, rd_mono_now() - t0,
                        "freshness query returned %s", found ? "NULL" : "no rows");
        goto out;
    }
    judge(ctx, s, "query", value, rd_mono_now() - t0);
out:
    free(value);
    return st;
}

const rd_check_type rd_check_freshness = {
    .name = "freshness",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB | RD_ENGINE_DYNAMODB,
    .configure = freshness_configure,
    .run = freshness_run,
    .free = freshness_free,
};
