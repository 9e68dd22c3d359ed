/* dynamodb_server.c: the `server` scratch driver for engine dynamodb: a
 * table named <prefix><target>_<YYYYMMDDTHHMMSSZ>_<random> on an existing
 * DynamoDB-compatible endpoint (DynamoDB itself, or any emulator). The
 * restore creates the table; teardown deletes exactly that name (nothing
 * when it was never created). Credentials: AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY (rd_dyn_credentials); the region comes from the
 * endpoint's host name (dynamodb.<region>.amazonaws.com), else us-east-1. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restoredrill/dynamo.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define MAX_TABLE 255

static rd_dyn_client *client_for(const char *endpoint, rd_error *err)
{
    const char *access, *secret;
    rd_dyn_client *c = NULL;
    rd_dyn_credentials(&access, &secret);
    return rd_dyn_client_new(endpoint, NULL, access, secret, &c, err) == RD_OK ? c : NULL;
}

static rd_status provision(const rd_scratch_cfg *cfg, rd_engine engine, const rd_scratch_req *req,
                           rd_scratch **out, rd_error *err)
{
    rd_scratch *s = calloc(1, sizeof *s);
    char ts[17], suffix[7];
    struct tm tm;
    time_t now = time(NULL);
    rd_status st = RD_OK;
    rd_dyn_client *c = NULL;
    char *target = rd_scratch_sanitize(req && req->target ? req->target : "table", 64);
    if (!s || !target) {
        free(s);
        free(target);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    rd_random_token(suffix, 6);
    s->type = &rd_scratch_dynamodb_server;
    s->conn.engine = engine;
    s->conn.url = rd_strdup(cfg->endpoint);
    s->conn.dsn = rd_strdup(cfg->endpoint);
    s->conn.database =
        rd_asprintf("%s%s_%s_%s", cfg->prefix ? cfg->prefix : "rd_scratch_", target, ts, suffix);
    free(target);
    if (!s->conn.url || !s->conn.dsn || !s->conn.database) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (strlen(s->conn.database) > MAX_TABLE) {
        st = RD_ERR(err, RD_ERR_CONFIG, "table name %s is longer than %d characters",
                    s->conn.database, MAX_TABLE);
        goto out;
    }
    /* the endpoint answers, and no table of that name exists */
    char *body = rd_asprintf("{\"TableName\":\"%s\"}", s->conn.database);
    cJSON *resp = NULL;
    if (!body || !(c = client_for(cfg->endpoint, err))) {
        st = body ? err->code : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    } else {
        rd_error e;
        st = rd_dyn_call(c, "DescribeTable", body, 30, &resp, &e);
        if (st == RD_OK)
            st = RD_ERR(err, RD_ERR_REFUSED, "table %s already exists on %s", s->conn.database,
                        cfg->endpoint);
        else if (strstr(e.msg, "ResourceNotFoundException"))
            st = RD_OK;
        else {
            *err = e;
            rd_error_prefix(err, "scratch endpoint: ");
        }
    }
    cJSON_Delete(resp);
    free(body);
    s->server_version = rd_strdup("dynamodb endpoint");
out:
    rd_dyn_client_free(c);
    if (st != RD_OK) {
        rd_scratch_destroy(s);
        return st;
    }
    rd_log_info("scratch table %s on %s", s->conn.database, cfg->endpoint);
    *out = s;
    return RD_OK;
}

static rd_status teardown(rd_scratch *s, rd_error *err)
{
    rd_error e;
    rd_dyn_client *c = client_for(s->conn.url, err);
    if (!c)
        return err->code;
    rd_status st = rd_dyn_delete_table(c, s->conn.database, &e);
    rd_dyn_client_free(c);
    if (st != RD_OK && strstr(e.msg, "ResourceNotFoundException"))
        st = RD_OK; /* never created (the restore did not run) */
    else if (st != RD_OK)
        *err = e;
    return st;
}

const rd_scratch_type rd_scratch_dynamodb_server = {
    .name = "server",
    .engines = RD_ENGINE_DYNAMODB,
    .provision = provision,
    .teardown = teardown,
};
