/* sql.c: a user query meets an expectation.
 *
 *   { "type": "sql", "name": "customers present",
 *     "query": "SELECT count(*) FROM customers",
 *     "expect": ">= 100" }     = v, != v, >= v, <= v, > v, < v, ~ regex, rows = n
 *
 * The first column of the first row is compared (numerically when both
 * sides are numbers), or for "rows = n" the number of rows the query
 * returns (streamed, memory stays flat). One result, object = "name" (else
 * the query, shortened). A query that returns no rows fails (except for
 * "rows"); a query the server rejects is an `error` with the server's
 * message, never a failure. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"

typedef struct sql_state {
    char *query;
    char *expect_text;
    char *object;
    rd_expect expect;
} sql_state;

static void sql_free(void *p)
{
    sql_state *s = p;
    if (!s)
        return;
    free(s->query);
    free(s->expect_text);
    free(s->object);
    rd_expect_free(&s->expect);
    free(s);
}

/* The query on one line, at most 60 characters. */
static char *short_query(const char *q)
{
    char buf[64];
    size_t n = 0;
    int space = 0;
    for (const char *p = q; *p && n < sizeof buf - 1; p++) {
        int ws = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        if (ws && (space || n == 0))
            continue;
        space = ws;
        buf[n++] = ws ? ' ' : *p;
    }
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    if (n == sizeof buf - 1 && strlen(q) > n) {
        memcpy(buf + sizeof buf - 4, "...", 4);
    }
    return rd_strdup(buf);
}

static rd_status sql_configure(const cJSON *params, const char *path, rd_engine engine,
                               void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "query", "expect", NULL};
    (void)engine;
    rd_status st;
    sql_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "query", 1, &s->query, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "expect", 1, &s->expect_text, err)) != RD_OK ||
        (st = rd_cfg_string(params, path, "name", 0, &s->object, err)) != RD_OK)
        goto out;
    if ((st = rd_expect_parse(s->expect_text, &s->expect, err)) != RD_OK) {
        rd_error_prefix(err, "%s.expect: ", path);
        goto out;
    }
    if (!s->object && !(s->object = short_query(s->query)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    if (st == RD_OK)
        *state = s;
    else
        sql_free(s);
    return st;
}

static int count_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    (void)ncols;
    (void)vals;
    (void)lens;
    (*(long long *)ud)++;
    return 0;
}

static rd_status sql_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    sql_state *s = state;
    rd_error qerr = {0};
    char *value = NULL, actual[64];
    int found = 0;
    rd_check_result *c;
    if (!s)
        return RD_ERR(err, RD_ERR_INTERNAL, "sql check is not configured");
    if (!ctx->scratch)
        return RD_ERR(err, RD_ERR_INTERNAL, "sql has no scratch connection");
    double t0 = rd_mono_now();
    rd_status st;
    if (s->expect.op == RD_EXPECT_ROWS) {
        long long rows = 0;
        st = rd_db_stream(ctx->scratch, s->query, rd_cku_timeout(ctx), count_row, &rows, &qerr);
        snprintf(actual, sizeof actual, "%lld", rows);
        found = 1;
    } else {
        st = rd_db_scalar(ctx->scratch, s->query, rd_cku_timeout(ctx), &value, &found, &qerr);
    }
    double secs = rd_mono_now() - t0;
    if (st != RD_OK) {
        c = rd_check_record(ctx, s->object, RD_ERROR, secs, "query failed: %s", qerr.msg);
        if (c)
            rd_check_set_expected(c, "%s", s->expect_text);
        goto out;
    }
    if (s->expect.op == RD_EXPECT_ROWS) {
        int ok = rd_expect_eval(&s->expect, actual);
        c = rd_check_record(ctx, s->object, ok ? RD_PASSED : RD_FAILED, secs, "%s rows, %s \"%s\"",
                            actual, ok ? "meets" : "does not meet", s->expect_text);
        if (c)
            rd_check_set_actual(c, "rows = %s", actual);
    } else if (!found) {
        c = rd_check_record(ctx, s->object, RD_FAILED, secs, "query returned no rows, expected %s",
                            s->expect_text);
        if (c)
            rd_check_set_actual(c, "no rows");
    } else {
        int ok = rd_expect_eval(&s->expect, value);
        const char *shown = value ? value : "NULL";
        c = rd_check_record(ctx, s->object, ok ? RD_PASSED : RD_FAILED, secs,
                            "value %.200s %s \"%s\"", shown, ok ? "meets" : "does not meet",
                            s->expect_text);
        if (c)
            rd_check_set_actual(c, "%s", shown);
    }
    if (c)
        rd_check_set_expected(c, "%s", s->expect_text);
out:
    free(value);
    return RD_OK;
}

const rd_check_type rd_check_sql = {
    .name = "sql",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .configure = sql_configure,
    .run = sql_run,
    .free = sql_free,
    .skips = RD_ENGINE_DYNAMODB | RD_ENGINE_S3,
};
