/* s3.c: the S3 operations: listing (all pages), HEAD, streamed GET with
 * Range resume, PUT, CopyObject, DeleteObject, multipart upload. */
#include "s3_int.h"

#include "restoredrill/log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESUMES 100
#define DEFAULT_ATTEMPTS 5
#define DEFAULT_TIMEOUT 60.0
#define PART_MIN ((size_t)5 * 1024 * 1024)
#define PART_DEFAULT ((size_t)8 * 1024 * 1024)
#define MAX_PARTS 10000

static rd_status list_all(rd_s3 *s, const char *bucket, const char *prefix, int versions,
                          rd_s3_objects *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_s3_objects acc = {NULL, 0};
    char *next = NULL, *next_version = NULL, *query = NULL;
    s3_req r;
    s3_req_init(&r, "GET", bucket, NULL);
    for (int page = 0;; page++) {
        const char *names[5], *values[5];
        size_t n = 0;
        names[n] = "encoding-type", values[n++] = "url";
        if (prefix && *prefix)
            names[n] = "prefix", values[n++] = prefix;
        if (versions) {
            names[n] = "versions", values[n++] = NULL;
            if (next)
                names[n] = "key-marker", values[n++] = next;
            if (next && next_version && *next_version)
                names[n] = "version-id-marker", values[n++] = next_version;
        } else {
            names[n] = "list-type", values[n++] = "2";
            if (next)
                names[n] = "continuation-token", values[n++] = next;
        }
        free(query);
        if (!(query = rd_s3_canonical_query(names, values, n))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        r.query = query;
        if ((st = s3_request(s, &r, err)) != RD_OK)
            goto out;
        free(next);
        free(next_version);
        next = next_version = NULL;
        if ((st = rd_s3_xml_list(r.resp.data, r.resp.len, versions, &acc, &next,
                                 versions ? &next_version : NULL, err)) != RD_OK) {
            rd_error_prefix(err, "s3://%s/%s: ", bucket, prefix ? prefix : "");
            goto out;
        }
        if (!next)
            break;
    }
    *out = acc;
    acc.items = NULL;
    acc.n = 0;
out:
    rd_s3_objects_free(&acc);
    free(next);
    free(next_version);
    free(query);
    s3_req_free(&r);
    return st;
}

rd_status rd_s3_list(rd_s3 *s, const char *bucket, const char *prefix, rd_s3_objects *out,
                     rd_error *err)
{
    return list_all(s, bucket, prefix, 0, out, err);
}

rd_status rd_s3_list_versions(rd_s3 *s, const char *bucket, const char *prefix, rd_s3_objects *out,
                              rd_error *err)
{
    return list_all(s, bucket, prefix, 1, out, err);
}

rd_status rd_s3_head(rd_s3 *s, const char *bucket, const char *key, rd_s3_object *out,
                     rd_error *err)
{
    return rd_s3_head_ex(s, bucket, key, NULL, 0, out, err);
}

/* the canonical query "versionId=V"; NULL on allocation failure */
static char *version_query(const char *version_id)
{
    const char *n[] = {"versionId"}, *v[] = {version_id};
    return rd_s3_canonical_query(n, v, 1);
}

rd_status rd_s3_head_ex(rd_s3 *s, const char *bucket, const char *key, const char *version_id,
                        int want_checksum, rd_s3_object *out, rd_error *err)
{
    s3_req r;
    char *query = version_id ? version_query(version_id) : NULL;
    const char *hdrs[] = {"x-amz-checksum-mode: ENABLED", NULL};
    if (version_id && !query)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s3_req_init(&r, "HEAD", bucket, key);
    r.query = query;
    r.headers = want_checksum ? hdrs : NULL;
    rd_status st = s3_request(s, &r, err);
    if (st == RD_OK) {
        rd_s3_object o;
        memset(&o, 0, sizeof o);
        o.key = rd_strdup(key);
        o.size = r.content_length;
        o.mtime_ms = r.mtime_ms;
        o.etag = r.etag[0] ? rd_strdup(r.etag) : NULL;
        o.version_id = r.version_id[0] ? rd_strdup(r.version_id) : NULL;
        o.checksum_sha256 = r.checksum_sha256[0] ? rd_strdup(r.checksum_sha256) : NULL;
        o.is_latest = 1;
        if (!o.key || (r.etag[0] && !o.etag) || (r.version_id[0] && !o.version_id) ||
            (r.checksum_sha256[0] && !o.checksum_sha256)) {
            rd_s3_object_clear(&o);
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        } else {
            *out = o;
        }
    }
    s3_req_free(&r);
    free(query);
    return st;
}

rd_status rd_s3_get(rd_s3 *s, const char *bucket, const char *key, const rd_s3_get_opts *o,
                    rd_s3_sink_fn sink, void *ctx, uint64_t *bytes, rd_error *err)
{
    rd_status st = RD_OK;
    uint64_t start = o ? o->offset : 0, done = 0;
    char range[64], ifmatch[160], etag[130] = "";
    char *query = NULL;
    int attempt = 0, resumes = 0;
    s3_req r;
    s3_req_init(&r, "GET", bucket, key);
    r.sink = sink;
    r.sink_ctx = ctx;
    r.cancel = o ? o->cancel : NULL;
    if (o && o->version_id) {
        const char *n[] = {"versionId"}, *v[] = {o->version_id};
        if (!(query = rd_s3_canonical_query(n, v, 1)))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        r.query = query;
    }
    for (;;) {
        const char *hdrs[3] = {NULL, NULL, NULL};
        size_t nh = 0;
        if (o && o->length) {
            snprintf(range, sizeof range, "Range: bytes=%llu-%llu",
                     (unsigned long long)(start + done),
                     (unsigned long long)(start + o->length - 1));
            hdrs[nh++] = range;
        } else if (start + done > 0) {
            snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)(start + done));
            hdrs[nh++] = range;
        }
        if (etag[0]) { /* a resumed read must continue the same object */
            snprintf(ifmatch, sizeof ifmatch, "If-Match: \"%s\"", etag);
            hdrs[nh++] = ifmatch;
        }
        r.headers = nh ? hdrs : NULL;
        int transient = 0;
        rd_error e;
        rd_error_clear(&e);
        attempt++;
        st = s3_once(s, &r, &transient, &e);
        done += r.sunk;
        if (!etag[0] && r.etag[0])
            snprintf(etag, sizeof etag, "%s", r.etag);
        if (st == RD_OK && r.status >= 200 && r.status < 300)
            break;
        if (st == RD_OK && r.status == 416 && start + done > 0 && done > 0)
            break; /* the cut came right at the end: nothing is left */
        if (st == RD_OK)
            st = s3_fail(&r, &e);
        if (r.sunk > 0 && transient) { /* progress: resume from the byte reached */
            attempt = 1;
            if (++resumes > MAX_RESUMES)
                transient = 0;
            else
                rd_log_info("%s; resuming at byte %llu", e.msg, (unsigned long long)(start + done));
        }
        if (!transient || attempt >= s->max_attempts) {
            if (err)
                *err = e;
            if (transient && attempt > 1)
                rd_error_prefix(err, "after %d attempts: ", attempt);
            goto out;
        }
        if ((st = s3_backoff(attempt, r.cancel, err)) != RD_OK)
            goto out;
    }
    st = RD_OK;
    if (bytes)
        *bytes = done;
out:
    free(query);
    s3_req_free(&r);
    return st;
}

typedef struct membuf {
    rd_strbuf sb;
    const char *bucket, *key;
    size_t max;
} membuf;

static rd_status mem_sink(void *ctx, const void *buf, size_t n, rd_error *err)
{
    membuf *m = ctx;
    if (m->sb.len + n > m->max)
        return RD_ERR(err, RD_ERR_NOMEM, "s3://%s/%s is larger than %zu bytes", m->bucket, m->key,
                      m->max);
    return rd_strbuf_append_n(&m->sb, buf, n, err);
}

rd_status rd_s3_get_mem(rd_s3 *s, const char *bucket, const char *key, size_t max, char **data,
                        size_t *len, rd_error *err)
{
    membuf m = {.bucket = bucket, .key = key, .max = max};
    rd_strbuf_init(&m.sb, 0);
    rd_status st = rd_s3_get(s, bucket, key, NULL, mem_sink, &m, NULL, err);
    if (st == RD_OK) {
        size_t n = m.sb.len;
        char *d = rd_strbuf_detach(&m.sb);
        if (!d) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        } else {
            *data = d;
            *len = n;
        }
    }
    rd_strbuf_free(&m.sb);
    return st;
}

static rd_status simple(rd_s3 *s, const char *method, const char *bucket, const char *key,
                        const char *query, const char *const *headers, const void *body, size_t len,
                        s3_req *r, rd_error *err)
{
    s3_req_init(r, method, bucket, key);
    r->query = query;
    r->headers = headers;
    r->body = body;
    r->body_len = len;
    if (body == NULL && (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0))
        r->body = "";
    return s3_request(s, r, err);
}

rd_status rd_s3_put(rd_s3 *s, const char *bucket, const char *key, const void *data, size_t len,
                    rd_error *err)
{
    s3_req r;
    rd_status st = simple(s, "PUT", bucket, key, NULL, NULL, data, len, &r, err);
    s3_req_free(&r);
    return st;
}

rd_status rd_s3_copy(rd_s3 *s, const char *src_bucket, const char *src_key, const char *dst_bucket,
                     const char *dst_key, rd_error *err)
{
    return rd_s3_copy_version(s, src_bucket, src_key, NULL, dst_bucket, dst_key, err);
}

rd_status rd_s3_copy_version(rd_s3 *s, const char *src_bucket, const char *src_key,
                             const char *src_version, const char *dst_bucket, const char *dst_key,
                             rd_error *err)
{
    s3_req r;
    char *src = rd_s3_uri_encode(src_key, 1);
    char *ver = src_version ? rd_s3_uri_encode(src_version, 0) : NULL;
    char *hdr = src && (ver || !src_version)
                    ? rd_asprintf("x-amz-copy-source: /%s/%s%s%s", src_bucket, src,
                                  ver ? "?versionId=" : "", ver ? ver : "")
                    : NULL;
    const char *hdrs[] = {hdr, NULL};
    rd_status st;
    if (!hdr) {
        free(src);
        free(ver);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    st = simple(s, "PUT", dst_bucket, dst_key, NULL, hdrs, NULL, 0, &r, err);
    if (st == RD_OK && r.resp.len) { /* CopyObject can fail with a 200 and an <Error> body */
        char code[128], msg[512];
        rd_s3_xml_error(r.resp.data, r.resp.len, code, sizeof code, msg, sizeof msg);
        if (code[0])
            st = RD_ERR(err, RD_ERR_NET, "s3 copy s3://%s/%s to s3://%s/%s: %s: %s", src_bucket,
                        src_key, dst_bucket, dst_key, code, msg);
    }
    s3_req_free(&r);
    free(src);
    free(ver);
    free(hdr);
    return st;
}

rd_status rd_s3_delete(rd_s3 *s, const char *bucket, const char *key, rd_error *err)
{
    return rd_s3_delete_version(s, bucket, key, NULL, err);
}

rd_status rd_s3_delete_version(rd_s3 *s, const char *bucket, const char *key,
                               const char *version_id, rd_error *err)
{
    s3_req r;
    char *query = version_id ? version_query(version_id) : NULL;
    if (version_id && !query)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = simple(s, "DELETE", bucket, key, query, NULL, NULL, 0, &r, err);
    s3_req_free(&r);
    free(query);
    return st;
}

rd_status rd_s3_raw_get(rd_s3 *s, const char *bucket, const char *key, const char *const *headers,
                        long *status, rd_error *err)
{
    s3_req r;
    int transient = 0;
    s3_req_init(&r, "GET", bucket, key);
    r.headers = headers;
    rd_status st = s3_once(s, &r, &transient, err);
    if (st == RD_OK)
        *status = r.status;
    s3_req_free(&r);
    return st;
}

/* --- multipart upload --- */

struct rd_s3_upload {
    rd_s3 *s;
    char *bucket, *key, *upload_id;
    unsigned char *buf;
    size_t part_size, fill;
    int nparts;
    rd_strbuf done; /* <Part> elements of the uploaded parts */
};

static void upload_free(rd_s3_upload *u)
{
    if (!u)
        return;
    free(u->bucket);
    free(u->key);
    free(u->upload_id);
    free(u->buf);
    rd_strbuf_free(&u->done);
    free(u);
}

rd_status rd_s3_upload_begin(rd_s3 *s, const char *bucket, const char *key, size_t part_size,
                             rd_s3_upload **out, rd_error *err)
{
    rd_status st = RD_OK;
    s3_req r;
    const char *n[] = {"uploads"}, *v[] = {NULL};
    char *query = rd_s3_canonical_query(n, v, 1);
    rd_s3_upload *u = calloc(1, sizeof *u);
    s3_req_init(&r, "POST", bucket, key);
    if (!u || !query) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    rd_strbuf_init(&u->done, 0);
    u->s = s;
    u->part_size = part_size == 0 ? PART_DEFAULT : part_size < PART_MIN ? PART_MIN : part_size;
    u->bucket = rd_strdup(bucket);
    u->key = rd_strdup(key);
    u->buf = malloc(u->part_size);
    if (!u->bucket || !u->key || !u->buf) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    s3_req_free(&r);
    if ((st = simple(s, "POST", bucket, key, query, NULL, NULL, 0, &r, err)) != RD_OK)
        goto out;
    u->upload_id = s3_xml_text(r.resp.data, r.resp.len, "UploadId");
    if (!u->upload_id || !*u->upload_id) {
        st = RD_ERR(err, RD_ERR_FORMAT, "s3 POST s3://%s/%s?uploads: no UploadId in the answer",
                    bucket, key);
        goto out;
    }
    *out = u;
    u = NULL;
out:
    s3_req_free(&r);
    free(query);
    upload_free(u);
    return st;
}

static rd_status upload_part(rd_s3_upload *u, rd_error *err)
{
    rd_status st = RD_OK;
    s3_req r;
    char num[16];
    if (u->nparts >= MAX_PARTS)
        return RD_ERR(err, RD_ERR_NOMEM, "s3://%s/%s: more than %d parts of %zu bytes", u->bucket,
                      u->key, MAX_PARTS, u->part_size);
    snprintf(num, sizeof num, "%d", u->nparts + 1);
    const char *n[] = {"partNumber", "uploadId"}, *v[] = {num, u->upload_id};
    char *query = rd_s3_canonical_query(n, v, 2);
    if (!query)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = simple(u->s, "PUT", u->bucket, u->key, query, NULL, u->buf, u->fill, &r, err);
    if (st == RD_OK && !r.etag[0])
        st = RD_ERR(err, RD_ERR_FORMAT, "s3 PUT s3://%s/%s part %s: no ETag in the answer",
                    u->bucket, u->key, num);
    if (st == RD_OK)
        st = rd_strbuf_appendf(&u->done, err,
                               "<Part><PartNumber>%s</PartNumber><ETag>\"%s\"</ETag></Part>", num,
                               r.etag);
    if (st == RD_OK) {
        u->nparts++;
        u->fill = 0;
    }
    s3_req_free(&r);
    free(query);
    return st;
}

rd_status rd_s3_upload_write(rd_s3_upload *u, const void *buf, size_t n, rd_error *err)
{
    const unsigned char *p = buf;
    while (n > 0) {
        size_t k = u->part_size - u->fill;
        if (k > n)
            k = n;
        memcpy(u->buf + u->fill, p, k);
        u->fill += k;
        p += k;
        n -= k;
        if (u->fill == u->part_size) {
            rd_status st = upload_part(u, err);
            if (st != RD_OK)
                return st;
        }
    }
    return RD_OK;
}

rd_status rd_s3_upload_finish(rd_s3_upload *u, rd_error *err)
{
    rd_status st = RD_OK;
    s3_req r;
    char *body = NULL;
    const char *n[] = {"uploadId"}, *v[] = {u->upload_id};
    char *query = rd_s3_canonical_query(n, v, 1);
    s3_req_init(&r, "POST", u->bucket, u->key);
    if (!query) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((u->fill > 0 || u->nparts == 0) && (st = upload_part(u, err)) != RD_OK)
        goto out;
    body = rd_asprintf("<CompleteMultipartUpload>%s</CompleteMultipartUpload>", u->done.data);
    if (!body) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    s3_req_free(&r);
    st = simple(u->s, "POST", u->bucket, u->key, query, NULL, body, strlen(body), &r, err);
    if (st == RD_OK) { /* a 200 may still carry an <Error> */
        char code[128], msg[512];
        rd_s3_xml_error(r.resp.data, r.resp.len, code, sizeof code, msg, sizeof msg);
        if (code[0])
            st = RD_ERR(err, RD_ERR_NET, "s3 complete upload s3://%s/%s: %s: %s", u->bucket, u->key,
                        code, msg);
    }
out:
    s3_req_free(&r);
    free(body);
    free(query);
    if (st != RD_OK) {
        rd_s3_upload_abort(u);
        return st;
    }
    upload_free(u);
    return st;
}

void rd_s3_upload_abort(rd_s3_upload *u)
{
    if (!u)
        return;
    const char *n[] = {"uploadId"}, *v[] = {u->upload_id};
    char *query = rd_s3_canonical_query(n, v, 1);
    s3_req r;
    rd_error e;
    if (query && simple(u->s, "DELETE", u->bucket, u->key, query, NULL, NULL, 0, &r, &e) != RD_OK)
        rd_log_warn("cannot abort the multipart upload of s3://%s/%s: %s", u->bucket, u->key,
                    e.msg);
    if (query)
        s3_req_free(&r);
    free(query);
    upload_free(u);
}

/* --- the client --- */

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
