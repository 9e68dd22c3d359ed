/* s3_creds.c: the standard credentials chain, never the configuration:
 * 1. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN);
 * 2. AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (STS AssumeRoleWithWebIdentity);
 * 3. AWS_PROFILE (or "default") in AWS_SHARED_CREDENTIALS_FILE
 *    (~/.aws/credentials), then AWS_CONFIG_FILE (~/.aws/config): role_arn,
 *    keys, credential_process (s3_profile.c);
 * 4. the container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *    (http://169.254.170.2), AWS_CONTAINER_CREDENTIALS_FULL_URI with
 *    AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) (ECS/Fargate task roles);
 * 5. IMDSv2 (token, then the role's credentials) unless
 *    AWS_EC2_METADATA_DISABLED=true; AWS_EC2_METADATA_SERVICE_ENDPOINT
 *    overrides http://169.254.169.254.
 * No secret is ever logged or put into a message. */
#include "s3_int.h"

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIMPLE_BODY_MAX ((size_t)64 * 1024)

/* --- the metadata endpoints: plain HTTP, no signing --- */

rd_status s3_http_simple(const char *method, const char *url, const char *const *headers,
                         double timeout, long *status, rd_strbuf *out, rd_error *err)
{
    rd_status st = RD_OK;
    struct curl_slist *h = NULL;
    char errbuf[CURL_ERROR_SIZE];
    s3_capped_body body = {out, SIMPLE_BODY_MAX, 0};
    CURL *c = curl_easy_init();
    if (!c)
        return RD_ERR(err, RD_ERR_NOMEM, "cannot initialise libcurl");
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *n = curl_slist_append(h, headers[i]);
        if (!n) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        h = n;
    }
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_capped_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK && !body.overflow) {
        st = RD_ERR(err, rc == CURLE_OPERATION_TIMEDOUT ? RD_ERR_TIMEOUT : RD_ERR_NET, "%s%s%s",
                    curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
        goto out;
    }
    if (body.overflow) {
        st = RD_ERR(err, RD_ERR_NET, "%s answered with more than %zu bytes", url,
                    (size_t)SIMPLE_BODY_MAX);
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return st;
}

#define HTTP_TIMEOUT 5.0
#define IMDS_TIMEOUT 2.0

static rd_status from_env(s3_creds *c, int *found, rd_error *err)
{
    const char *id = s3_env("AWS_ACCESS_KEY_ID"), *secret = s3_env("AWS_SECRET_ACCESS_KEY");
    *found = 0;
    if (!id && !secret)
        return RD_OK;
    if (!id || !secret)
        return RD_ERR(err, RD_ERR_CONFIG, "%s is set but %s is not",
                      id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                      id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    c->key_id = rd_strdup(id);
    c->secret = rd_strdup(secret);
    c->token = rd_strdup(s3_env("AWS_SESSION_TOKEN"));
    c->source = "environment";
    if (!c->key_id || !c->secret)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *found = 1;
    return RD_OK;
}

/* {AccessKeyId, SecretAccessKey, Token, Expiration} from a credentials endpoint. */
static rd_status parse_json_creds(const char *text, size_t len, const char *what, s3_creds *c,
                                  rd_error *err)
{
    rd_status st = RD_OK;
    cJSON *j = cJSON_ParseWithLength(text, len);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
    const cJSON *secret = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(j, "Token");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "Expiration");
    if (!cJSON_IsString(id) || !cJSON_IsString(secret) || !*id->valuestring ||
        !*secret->valuestring) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: expected JSON with AccessKeyId and SecretAccessKey",
                    what);
        goto out;
    }
    int64_t ms = 0;
    if (cJSON_IsString(exp) && rd_time_parse(exp->valuestring, &ms, NULL) != RD_OK) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: Expiration: expected an RFC 3339 time", what);
        goto out;
    }
    c->key_id = rd_strdup(id->valuestring);
    c->secret = rd_strdup(secret->valuestring);
    c->token = cJSON_IsString(token) && *token->valuestring ? rd_strdup(token->valuestring) : NULL;
    c->expires_ms = ms;
    if (!c->key_id || !c->secret)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    cJSON_Delete(j);
    return st;
}

static rd_status from_container(s3_creds *c, int *found, rd_error *err)
{
    rd_status st = RD_OK;
    char *url = NULL, *auth = NULL, *tokfile = NULL;
    rd_strbuf body;
    rd_strbuf_init(&body, 64 * 1024);
    *found = 0;
    if (s3_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"))
        url =
            rd_asprintf("http://169.254.170.2%s", s3_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
    else if (s3_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
        url = rd_strdup(s3_env("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    else
        return RD_OK;
    if (!url) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
        tokfile = s3_read_small(s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
        if (!tokfile) {
            st = RD_ERR(err, RD_ERR_CONFIG, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s",
                        s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
            goto out;
        }
        auth = rd_asprintf("Authorization: %s", s3_trim(tokfile));
    } else if (s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        auth = rd_asprintf("Authorization: %s", s3_env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
    }
    const char *hdrs[] = {auth, NULL};
    long status = 0;
    st = s3_http_simple("GET", url, auth ? hdrs : NULL, HTTP_TIMEOUT, &status, &body, err);
    if (st != RD_OK) {
        rd_error_prefix(err, "container credentials endpoint: ");
        goto out;
    }
    if (status != 200) {
        st = RD_ERR(err, RD_ERR_REFUSED, "container credentials endpoint answered %ld", status);
        goto out;
    }
    st = parse_json_creds(body.data, body.len, "container credentials endpoint", c, err);
    if (st == RD_OK) {
        c->source = "container credentials endpoint";
        *found = 1;
    }
out:
    free(url);
    free(auth);
    free(tokfile);
    rd_strbuf_free(&body);
    return st;
}

static rd_status from_imds(s3_creds *c, int *found, rd_error *err)
{
    rd_status st = RD_OK;
    const char *base = s3_env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                           ? s3_env("AWS_EC2_METADATA_SERVICE_ENDPOINT")
                           : "http://169.254.169.254";
    char *url = NULL, *tokhdr = NULL, *role = NULL;
    rd_strbuf body;
    long status = 0;
    rd_strbuf_init(&body, 64 * 1024);
    *found = 0;
    const char *v = s3_env("AWS_EC2_METADATA_DISABLED");
    if (v && strcasecmp(v, "true") == 0)
        return RD_OK;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    const char *ttl[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    if (!(url = rd_asprintf("%.*s/latest/api/token", (int)bl, base)))
        goto nomem;
    if (s3_http_simple("PUT", url, ttl, IMDS_TIMEOUT, &status, &body, NULL) != RD_OK ||
        status != 200)
        goto out; /* no instance metadata service: not on EC2 */
    if (!(tokhdr = rd_asprintf("X-aws-ec2-metadata-token: %s", s3_trim(body.data))))
        goto nomem;
    const char *hdrs[] = {tokhdr, NULL};
    free(url);
    rd_strbuf_reset(&body);
    if (!(url = rd_asprintf("%.*s/latest/meta-data/iam/security-credentials/", (int)bl, base)))
        goto nomem;
    st = s3_http_simple("GET", url, hdrs, HTTP_TIMEOUT, &status, &body, err);
    if (st != RD_OK || status != 200) {
        if (st == RD_OK)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "the instance metadata service has no IAM role for this instance (%ld)",
                        status);
        goto out;
    }
    if (!(role = rd_strdup(s3_trim(body.data))))
        goto nomem;
    role[strcspn(role, "\r\n")] = '\0';
    free(url);
    rd_strbuf_reset(&body);
    if (!(url = rd_asprintf("%.*s/latest/meta-data/iam/security-credentials/%s", (int)bl, base,
                            role)))
        goto nomem;
    st = s3_http_simple("GET", url, hdrs, HTTP_TIMEOUT, &status, &body, err);
    if (st == RD_OK && status != 200)
        st = RD_ERR(err, RD_ERR_REFUSED, "instance metadata service answered %ld for role %s",
                    status, role);
    if (st == RD_OK)
        st = parse_json_creds(body.data, body.len, "instance metadata service", c, err);
    if (st == RD_OK) {
        c->source = "instance metadata service (IMDSv2)";
        *found = 1;
    }
    goto out;
nomem:
    st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    free(url);
    free(tokhdr);
    free(role);
    rd_strbuf_free(&body);
    return st;
}

rd_status s3_creds_load(s3_creds *out, rd_error *err)
{
    typedef rd_status (*provider)(s3_creds *, int *, rd_error *);
    static const provider chain[] = {from_env, s3_creds_web_identity_env, s3_creds_profile,
                                     from_container, from_imds};
    s3_creds c;
    for (size_t i = 0; i < sizeof chain / sizeof chain[0]; i++) {
        int found = 0;
        memset(&c, 0, sizeof c);
        rd_status st = chain[i](&c, &found, err);
        if (st != RD_OK) {
            s3_creds_clear(&c);
            return st;
        }
        if (found) {
            rd_log_debug("s3: credentials from %s", c.source);
            *out = c;
            if (c.source == c.name)
                out->source = out->name;
            return RD_OK;
        }
        s3_creds_clear(&c);
    }
    return RD_ERR(err, RD_ERR_CONFIG,
                  "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
                  "AWS_PROFILE with ~/.aws/credentials, or run with a container or instance role");
}
