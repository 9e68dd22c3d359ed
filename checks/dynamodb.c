/* dynamodb.c: rowcount and checksum for engine dynamodb. The reference is
 * what verifying the recovery point found (ctx->dyn: the item count, the
 * digest of the canonical items); the restored table is read back with a
 * parallel Scan through the scratch endpoint (ctx->instance). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/clock.h"
#include "restoredrill/dynamo.h"

#define SCAN_SEGMENTS 4

rd_status rd_check_dyn_configure(const cJSON *params, const char *path, void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, NULL};
    rd_status st = rd_cfg_check_keys(params, path, keys, err);
    if (st == RD_OK)
        *state = NULL;
    return st;
}

/* The table's count and digest, read once per verify (both checks use it;
 * the seconds of the first check include the Scan). */
static rd_status scan(rd_check_ctx *ctx, rd_dyn_digest *d, rd_error *err)
{
    const rd_conninfo *c = &ctx->instance->conn;
    if (!ctx->dyn)
        return RD_ERR(err, RD_ERR_INTERNAL, "no verified recovery point to compare with");
    if (!ctx->dyn_scanned) {
        rd_status st =
            rd_dyn_scan_digest(c->url, NULL, c->database, SCAN_SEGMENTS, ctx->deadline, d, err);
        if (st != RD_OK)
            return st;
        memcpy(ctx->dyn_scan.lane, d->lane, sizeof d->lane);
        ctx->dyn_scan.items = d->items;
        ctx->dyn_scanned = 1;
    }
    memcpy(d->lane, ctx->dyn_scan.lane, sizeof d->lane);
    d->items = ctx->dyn_scan.items;
    return RD_OK;
}

rd_status rd_check_dyn_rowcount(rd_check_ctx *ctx, rd_error *err)
{
    rd_dyn_digest d;
    double t0 = rd_mono_now();
    rd_status st = scan(ctx, &d, err);
    if (st != RD_OK)
        return st;
    const rd_dyn_verify *v = ctx->dyn;
    int64_t want = v->manifest_items >= 0 ? v->manifest_items : v->items;
    const char *basis = v->manifest_items >= 0 ? "manifest-summary.json" : "the scan file";
    const char *table = ctx->instance->conn.database;
    rd_check_result *r = d.items == want
                             ? rd_check_record(ctx, table, RD_PASSED, rd_mono_now() - t0,
                                               "%lld items, as %s says", (long long)d.items, basis)
                             : rd_check_record(ctx, table, RD_FAILED, rd_mono_now() - t0,
                                               "%lld items restored, %s says %lld",
                                               (long long)d.items, basis, (long long)want);
    if (r) {
        rd_check_add_prop(r, "expected", "%lld", (long long)want);
        rd_check_add_prop(r, "actual", "%lld", (long long)d.items);
    }
    return RD_OK;
}

rd_status rd_check_dyn_checksum(rd_check_ctx *ctx, rd_error *err)
{
    rd_dyn_digest d;
    char want[65], got[65];
    double t0 = rd_mono_now();
    rd_status st = scan(ctx, &d, err);
    if (st != RD_OK)
        return st;
    const rd_dyn_verify *v = ctx->dyn;
    const char *table = ctx->instance->conn.database;
    rd_dyn_digest_hex(&v->digest, want);
    rd_dyn_digest_hex(&d, got);
    int same = strcmp(want, got) == 0 && d.items == v->digest.items;
    rd_check_result *r =
        same ? rd_check_record(ctx, table, RD_PASSED, rd_mono_now() - t0,
                               "%lld items, digest %.16s... equal to the export's",
                               (long long)d.items, got)
             : rd_check_record(ctx, table, RD_FAILED, rd_mono_now() - t0,
                               "the restored items differ from the export's: digest %.16s... "
                               "(%lld items), export %.16s... (%lld items)",
                               got, (long long)d.items, want, (long long)v->digest.items);
    if (r) {
        rd_check_add_prop(r, "expected", "%s", want);
        rd_check_add_prop(r, "actual", "%s", got);
        rd_check_add_prop(r, "algorithm", "%s", "sum of sha256 of canonical items");
    }
    return RD_OK;
}

/* schema: the restored table's DescribeTable against reference.description
 * (key schema, attribute definitions, secondary indexes); skipped without a
 * description. */
rd_status rd_check_dyn_schema(rd_check_ctx *ctx, rd_error *err)
{
    const rd_conninfo *c = &ctx->instance->conn;
    const rd_dyn_verify *v = ctx->dyn;
    const char *access, *secret;
    rd_dyn_client *cl = NULL;
    cJSON *got = NULL;
    rd_strbuf diffs;
    double t0 = rd_mono_now();
    if (!v)
        return RD_ERR(err, RD_ERR_INTERNAL, "no verified recovery point to compare with");
    if (!v->description) {
        rd_check_record(ctx, c->database, RD_SKIPPED, 0,
                        "no table description to compare with (give reference.description, "
                        "written by `restoredrill manifest --engine dynamodb`)");
        return RD_OK;
    }
    rd_dyn_credentials(&access, &secret);
    rd_status st = rd_dyn_client_new(c->url, NULL, access, secret, &cl, err);
    if (st == RD_OK)
        st = rd_dyn_describe_table(cl, c->database, 30, &got, err);
    rd_dyn_client_free(cl);
    if (st != RD_OK)
        return st;
    rd_strbuf_init(&diffs, 0);
    size_t n = rd_dyn_schema_diff(v->description, got, &diffs);
    cJSON_Delete(got);
    double secs = rd_mono_now() - t0;
    rd_check_result *r;
    if (n == 0) {
        r = rd_check_record(ctx, c->database, RD_PASSED, secs,
                            "key schema, attribute definitions and indexes as described");
    } else {
        const char *first = diffs.data, *nl = strchr(first, '\n');
        r = rd_check_record(
            ctx, c->database, RD_FAILED, secs, "%zu difference%s from the table description: %.*s",
            n, n == 1 ? "" : "s", (int)(nl ? nl - first : (ptrdiff_t)strlen(first)), first);
        if (r)
            rd_check_set_output(r, diffs.data);
    }
    if (r)
        rd_check_add_prop(r, "differences", "%zu", n);
    rd_strbuf_free(&diffs);
    return RD_OK;
}

/* 1 when user sets the name of entry ("NAME=..." or "NAME"). */
static int user_sets(const rd_strlist *user, const char *entry)
{
    size_t n = strcspn(entry, "=");
    for (size_t i = 0; user && i < user->n; i++)
        if (strncmp(user->items[i], entry, n) == 0 &&
            (user->items[i][n] == '=' || user->items[i][n] == '\0'))
            return 1;
    return 0;
}

rd_status rd_check_dyn_app_env(const rd_check_ctx *ctx, const rd_strlist *user, rd_strlist *env,
                               rd_error *err)
{
    const rd_conninfo *c = &ctx->instance->conn;
    char rbuf[64];
    const char *region = rd_dyn_endpoint_region(c->url, rbuf, sizeof rbuf);
    int ephemeral =
        !ctx->target->scratch.type || strcmp(ctx->target->scratch.type, "ephemeral") == 0;
    char *items[] = {
        rd_asprintf("AWS_ENDPOINT_URL=%s", c->url),
        rd_asprintf("AWS_ENDPOINT_URL_DYNAMODB=%s", c->url),
        rd_asprintf("AWS_REGION=%s", region),
        rd_asprintf("AWS_DEFAULT_REGION=%s", region),
        rd_asprintf("RD_DYNAMODB_TABLE=%s", c->database),
        ephemeral ? rd_strdup("AWS_ACCESS_KEY_ID=restoredrill") : NULL,
        ephemeral ? rd_strdup("AWS_SECRET_ACCESS_KEY=restoredrill") : NULL,
        ephemeral ? rd_strdup("AWS_SESSION_TOKEN") : NULL,
        ephemeral ? rd_strdup("AWS_PROFILE") : NULL,
    };
    size_t n = sizeof items / sizeof items[0], want = ephemeral ? n : 5;
    rd_status st = RD_OK;
    for (size_t i = 0; i < n; i++) {
        if (st == RD_OK && i < want && !items[i])
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        else if (st == RD_OK && i < want && !user_sets(user, items[i]))
            st = rd_strlist_push(env, items[i], err);
        free(items[i]);
    }
    return st;
}
