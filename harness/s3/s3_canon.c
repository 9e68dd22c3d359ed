/* s3_canon.c: the client's endpoint, and the canonical forms libcurl 7.88
 * signs exactly as given: the URI-encoded path (each segment encoded, '/'
 * kept) and the sorted, encoded query. */
#include "s3_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_ATTEMPTS 5
#define DEFAULT_TIMEOUT 60.0

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *rd_s3_uri_encode(const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *p = out;
    if (!out)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (unreserved(*c) || (keep_slash && *c == '/')) {
            *p++ = (char)*c;
        } else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = '\0';
    return out;
}

typedef struct qpair {
    char *name, *value;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

char *rd_s3_canonical_query(const char *const *names, const char *const *values, size_t n)
{
    qpair *q = calloc(n ? n : 1, sizeof *q);
    char *out = NULL;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    if (!q)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        q[i].name = rd_s3_uri_encode(names[i], 0);
        q[i].value = rd_s3_uri_encode(values[i] ? values[i] : "", 0);
        if (!q[i].name || !q[i].value)
            goto out;
    }
    qsort(q, n, sizeof *q, qpair_cmp);
    for (size_t i = 0; i < n; i++)
        if (rd_strbuf_appendf(&sb, NULL, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value) != RD_OK)
            goto out;
    out = rd_strbuf_detach(&sb);
out:
    for (size_t i = 0; i < n; i++) {
        free(q[i].name);
        free(q[i].value);
    }
    free(q);
    rd_strbuf_free(&sb);
    return out;
}

static int host_is_ip_or_local(const char *host)
{
    /* host may carry ":port"; an IPv6 literal starts with '[' */
    if (host[0] == '[')
        return 1;
    size_t n = strcspn(host, ":");
    if (n == 9 && strncmp(host, "localhost", 9) == 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)host[i]) && host[i] != '.')
            return 0;
    return n > 0;
}

char *rd_s3_request_url(const rd_s3 *s, const char *bucket, const char *key, const char *query)
{
    char *ekey = rd_s3_uri_encode(key ? key : "", 1);
    char *ebucket = rd_s3_uri_encode(bucket ? bucket : "", 0);
    char *url = NULL;
    const char *qm = query && *query ? "?" : "";
    if (ekey && ebucket) {
        if (s->path_style || !bucket || !*bucket)
            url = rd_asprintf("%s://%s%s/%s%s%s%s%s", s->scheme, s->host, s->base_path, ebucket,
                              key ? "/" : "", ekey, qm, qm[0] ? query : "");
        else
            url = rd_asprintf("%s://%s.%s%s/%s%s%s", s->scheme, ebucket, s->host, s->base_path,
                              ekey, qm, qm[0] ? query : "");
    }
    free(ekey);
    free(ebucket);
    return url;
}

int rd_s3_is_url(const char *s)
{
    return s && strncmp(s, "s3://", 5) == 0;
}

rd_status rd_s3_url_split(const char *url, char **bucket, char **key, rd_error *err)
{
    if (!rd_s3_is_url(url) || url[5] == '/' || url[5] == '\0')
        return RD_ERR(err, RD_ERR_CONFIG, "expected s3://bucket/key, got \"%s\"", url ? url : "");
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    char *bk = malloc(blen + 1), *k = rd_strdup(slash ? slash + 1 : "");
    if (!bk || !k) {
        free(bk);
        free(k);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    memcpy(bk, b, blen);
    bk[blen] = '\0';
    *bucket = bk;
    *key = k;
    return RD_OK;
}

rd_status rd_s3_new(const rd_s3_opts *opts, rd_s3 **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_s3 *s = calloc(1, sizeof *s);
    char *endpoint = NULL;
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->region = rd_strdup(opts && opts->region && *opts->region ? opts->region : NULL);
    if (!s->region)
        s->region = s3_region_from_env();
    if (!s->region)
        s->region = rd_strdup("us-east-1");
    s->max_attempts = opts && opts->max_attempts > 0 ? opts->max_attempts : DEFAULT_ATTEMPTS;
    s->timeout = opts && opts->timeout > 0 ? opts->timeout : DEFAULT_TIMEOUT;
    const char *env_ep = getenv("AWS_ENDPOINT_URL_S3");
    if (!env_ep || !*env_ep)
        env_ep = getenv("AWS_ENDPOINT_URL");
    if (opts && opts->endpoint && *opts->endpoint)
        endpoint = rd_strdup(opts->endpoint);
    else if (env_ep && *env_ep)
        endpoint = rd_strdup(env_ep);
    else
        endpoint = rd_asprintf("https://s3.%s.amazonaws.com", s->region ? s->region : "");
    if (!s->region || !endpoint) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    const char *sep = strstr(endpoint, "://");
    if (!sep || (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0) ||
        !sep[3] || sep[3] == '/' || strpbrk(sep + 3, "?#@ ")) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "s3 endpoint: expected http://host[:port] or https://host[:port], got \"%s\"",
                    endpoint);
        goto out;
    }
    s->scheme = malloc((size_t)(sep - endpoint) + 1);
    if (s->scheme) {
        memcpy(s->scheme, endpoint, (size_t)(sep - endpoint));
        s->scheme[sep - endpoint] = '\0';
    }
    const char *h = sep + 3, *p = strchr(h, '/');
    size_t hl = p ? (size_t)(p - h) : strlen(h);
    s->host = malloc(hl + 1);
    if (s->host) {
        memcpy(s->host, h, hl);
        s->host[hl] = '\0';
    }
    s->base_path = rd_strdup(p ? p : "");
    if (!s->scheme || !s->host || !s->base_path) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t bl = strlen(s->base_path);
    while (bl > 0 && s->base_path[bl - 1] == '/')
        s->base_path[--bl] = '\0';
    s->path_style =
        !opts || opts->path_style < 0 ? host_is_ip_or_local(s->host) : opts->path_style != 0;
    *out = s;
    s = NULL;
out:
    free(endpoint);
    rd_s3_free(s);
    return st;
}

const char *rd_s3_region(const rd_s3 *s)
{
    return s->region;
}

void rd_s3_set_test_signing(rd_s3 *s, const char *amz_date, const char *access_key,
                            const char *secret_key, const char *session_token)
{
    free(s->test_date);
    s->test_date = rd_strdup(amz_date);
    s3_creds_clear(&s->creds);
    s->have_creds = 0;
    s->test_creds = 0;
    if (access_key && secret_key) {
        s->creds.key_id = rd_strdup(access_key);
        s->creds.secret = rd_strdup(secret_key);
        s->creds.token = rd_strdup(session_token);
        s->creds.source = "test";
        s->have_creds = s->test_creds = 1;
    }
}

void rd_s3_set_test_connect(rd_s3 *s, const char *connect_to)
{
    free(s->test_connect);
    s->test_connect = rd_strdup(connect_to);
}

void rd_s3_free(rd_s3 *s)
{
    if (!s)
        return;
    if (s->curl)
        curl_easy_cleanup(s->curl);
    s3_creds_clear(&s->creds);
    free(s->scheme);
    free(s->host);
    free(s->base_path);
    free(s->region);
    free(s->test_date);
    free(s->test_connect);
    free(s);
}
