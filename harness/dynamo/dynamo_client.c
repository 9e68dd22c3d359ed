/* dynamo_client.c: a small DynamoDB JSON-API client over libcurl: one POST
 * per operation with X-Amz-Target, signed with SigV4 by libcurl
 * (CURLOPT_AWS_SIGV4 "aws:amz:REGION:dynamodb"); table creation and
 * deletion. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dynamo_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/proc.h"

#define RESPONSE_MAX (64u << 20)

struct rd_dyn_client {
    CURL *h;
    char *endpoint;
    char *sigv4;
    char *userpwd;
    char *token_header; /* "X-Amz-Security-Token: ..." or NULL */
    rd_strbuf body;
};

void rd_dyn_credentials(const char **access, const char **secret)
{
    const char *a = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");
    if (a && *a && s && *s) {
        *access = a;
        *secret = s;
    } else {
        *access = "restoredrill";
        *secret = "restoredrill";
    }
}

const char *rd_dyn_endpoint_region(const char *endpoint, char *buf, size_t cap)
{
    const char *h = strstr(endpoint ? endpoint : "", "dynamodb.");
    const char *end = h ? strstr(h, ".amazonaws.com") : NULL;
    size_t n = end ? (size_t)(end - (h + 9)) : 0;
    if (!h || !end || n == 0 || n >= cap || memchr(h + 9, '/', n))
        return "us-east-1";
    memcpy(buf, h + 9, n);
    buf[n] = '\0';
    return buf;
}

rd_status rd_dyn_client_new(const char *endpoint, const char *region, const char *access,
                            const char *secret, rd_dyn_client **out, rd_error *err)
{
    rd_dyn_client *c = calloc(1, sizeof *c);
    if (!c)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_strbuf_init(&c->body, RESPONSE_MAX);
    c->h = curl_easy_init();
    c->endpoint = rd_strdup(endpoint);
    char derived[64];
    if (!region)
        region = rd_dyn_endpoint_region(endpoint, derived, sizeof derived);
    c->sigv4 = rd_asprintf("aws:amz:%s:dynamodb", region);
    c->userpwd = rd_asprintf("%s:%s", access, secret);
    /* temporary credentials from the environment carry a session token */
    const char *env_key = getenv("AWS_ACCESS_KEY_ID"), *tok = getenv("AWS_SESSION_TOKEN");
    if (env_key && tok && *tok && strcmp(env_key, access) == 0)
        c->token_header = rd_asprintf("X-Amz-Security-Token: %s", tok);
    if (!c->h || !c->endpoint || !c->sigv4 || !c->userpwd ||
        (env_key && tok && *tok && strcmp(env_key, access) == 0 && !c->token_header)) {
        rd_dyn_client_free(c);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return RD_OK;
}

void rd_dyn_client_free(rd_dyn_client *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    rd_strbuf_free(&c->body);
    free(c->endpoint);
    free(c->sigv4);
    if (c->userpwd)
        memset(c->userpwd, 0, strlen(c->userpwd));
    free(c->userpwd);
    if (c->token_header)
        memset(c->token_header, 0, strlen(c->token_header));
    free(c->token_header);
    free(c);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    rd_dyn_client *c = ud;
    rd_error ignore;
    return rd_strbuf_append_n(&c->body, p, size * n, &ignore) == RD_OK ? size * n : 0;
}

rd_status rd_dyn_call(rd_dyn_client *c, const char *op, const char *body, double timeout,
                      cJSON **out, rd_error *err)
{
    char target[96];
    struct curl_slist *hdr = NULL;
    long code = 0;
    rd_status st = RD_OK;
    snprintf(target, sizeof target, "X-Amz-Target: DynamoDB_20120810.%s", op);
    hdr = curl_slist_append(hdr, "Content-Type: application/x-amz-json-1.0");
    hdr = curl_slist_append(hdr, target);
    hdr = curl_slist_append(hdr, "Expect:");
    if (c->token_header)
        hdr = curl_slist_append(hdr, c->token_header);
    rd_strbuf_reset(&c->body);
    curl_easy_reset(c->h);
    curl_easy_setopt(c->h, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c->h, CURLOPT_AWS_SIGV4, c->sigv4);
    curl_easy_setopt(c->h, CURLOPT_USERPWD, c->userpwd);
    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    if (timeout > 0)
        curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    CURLcode rc = curl_easy_perform(c->h);
    curl_slist_free_all(hdr);
    if (rc != CURLE_OK)
        return RD_ERR(err, rc == CURLE_OPERATION_TIMEDOUT ? RD_ERR_TIMEOUT : RD_ERR_NET,
                      "dynamodb %s: %s", op, curl_easy_strerror(rc));
    curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
    cJSON *j = cJSON_ParseWithLength(c->body.data ? c->body.data : "", c->body.len);
    if (code != 200) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "__type");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
        if (!m)
            m = cJSON_GetObjectItemCaseSensitive(j, "Message");
        const char *type = cJSON_IsString(t) ? t->valuestring : "";
        const char *hash = strchr(type, '#');
        st = RD_ERR(err, code >= 500 ? RD_ERR_NET : RD_ERR_PROC, "dynamodb %s: %s: %s", op,
                    hash    ? hash + 1
                    : *type ? type
                            : "HTTP error",
                    cJSON_IsString(m) ? m->valuestring : "(no message)");
        cJSON_Delete(j);
        return st;
    }
    if (!j)
        return RD_ERR(err, RD_ERR_FORMAT, "dynamodb %s: the response is not JSON", op);
    *out = j;
    return RD_OK;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

rd_status rd_dyn_create_table(rd_dyn_client *c, const char *table, const rd_strlist *key,
                              const char key_type[2], double deadline, rd_error *err)
{
    static const char *const roles[2] = {"HASH", "RANGE"};
    cJSON *req = cJSON_CreateObject();
    cJSON *defs = cJSON_AddArrayToObject(req, "AttributeDefinitions");
    cJSON *schema = cJSON_AddArrayToObject(req, "KeySchema");
    cJSON_AddStringToObject(req, "TableName", table);
    cJSON_AddStringToObject(req, "BillingMode", "PAY_PER_REQUEST");
    for (size_t i = 0; i < key->n && i < 2; i++) {
        char t[2] = {key_type[i] ? key_type[i] : 'S', '\0'};
        cJSON *d = cJSON_CreateObject(), *k = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "AttributeName", key->items[i]);
        cJSON_AddStringToObject(d, "AttributeType", t);
        cJSON_AddItemToArray(defs, d);
        cJSON_AddStringToObject(k, "AttributeName", key->items[i]);
        cJSON_AddStringToObject(k, "KeyType", roles[i]);
        cJSON_AddItemToArray(schema, k);
    }
    return rd_dyn_create_table_req(c, table, req, deadline, err);
}

rd_status rd_dyn_create_table_req(rd_dyn_client *c, const char *table, cJSON *req, double deadline,
                                  rd_error *err)
{
    cJSON *resp = NULL;
    rd_status st = RD_OK;
    char *body = NULL;
    body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (!body)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = rd_dyn_call(c, "CreateTable", body, 30, &resp, err);
    cJSON_free(body);
    cJSON_Delete(resp);
    if (st != RD_OK)
        return st;
    /* wait until ACTIVE */
    char *dbody = rd_asprintf("{\"TableName\":\"%s\"}", table);
    if (!dbody)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (double wait = 0.01;; wait = wait < 0.5 ? wait * 2 : 0.5) {
        resp = NULL;
        st = rd_dyn_call(c, "DescribeTable", dbody, 30, &resp, err);
        if (st != RD_OK)
            break;
        const cJSON *tb = cJSON_GetObjectItemCaseSensitive(resp, "Table");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(tb, "TableStatus");
        int active = cJSON_IsString(s) && strcmp(s->valuestring, "ACTIVE") == 0;
        cJSON_Delete(resp);
        if (active)
            break;
        if (rd_abort_requested()) {
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
            break;
        }
        if (deadline > 0 && rd_mono_now() + wait > deadline) {
            st = RD_ERR(err, RD_ERR_TIMEOUT, "table %s did not become ACTIVE in time", table);
            break;
        }
        sleep_s(wait);
    }
    free(dbody);
    return st;
}

rd_status rd_dyn_delete_table(rd_dyn_client *c, const char *table, rd_error *err)
{
    cJSON *resp = NULL;
    char *body = rd_asprintf("{\"TableName\":\"%s\"}", table);
    if (!body)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_dyn_call(c, "DeleteTable", body, 30, &resp, err);
    free(body);
    cJSON_Delete(resp);
    return st;
}
