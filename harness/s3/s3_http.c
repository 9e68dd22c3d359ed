/* s3_http.c: one signed S3 request over libcurl, retries with backoff and
 * jitter, and the messages of failed responses. libcurl 7.88 signs the
 * path and query exactly as given (s3_canon.c makes them canonical) and
 * adds no x-amz-content-sha256, so it is sent here with the payload hash. */
#include "s3_int.h"

#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RESP_MAX_DEFAULT ((size_t)16 * 1024 * 1024)
#define ERROR_BODY_MAX ((size_t)64 * 1024)
#define BACKOFF_BASE 0.2
#define BACKOFF_MAX 10.0

void s3_req_init(s3_req *r, const char *method, const char *bucket, const char *key)
{
    memset(r, 0, sizeof *r);
    r->method = method;
    r->bucket = bucket;
    r->key = key;
    r->content_length = -1;
    r->mtime_ms = -1;
    rd_strbuf_init(&r->resp, 0);
}

void s3_req_free(s3_req *r)
{
    rd_strbuf_free(&r->resp);
}

static void copy_value(char *dst, size_t dsz, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n >= dsz)
        n = dsz - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    s3_req *r = ud;
    size_t n = size * nitems;
    if (n >= 5 && strncmp(buf, "HTTP/", 5) == 0) { /* a new response (after 100 Continue) */
        r->etag[0] = r->version_id[0] = r->content_range[0] = r->checksum_sha256[0] = '\0';
        r->content_length = -1;
        r->mtime_ms = -1;
        return n;
    }
    const char *colon = memchr(buf, ':', n);
    if (!colon)
        return n;
    size_t nl = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vl = n - nl - 1;
    char tmp[256];
    if (nl == 4 && strncasecmp(buf, "etag", 4) == 0) {
        copy_value(r->etag, sizeof r->etag, v, vl);
    } else if (nl == 16 && strncasecmp(buf, "x-amz-version-id", 16) == 0) {
        copy_value(r->version_id, sizeof r->version_id, v, vl);
    } else if (nl == 21 && strncasecmp(buf, "x-amz-checksum-sha256", 21) == 0) {
        copy_value(r->checksum_sha256, sizeof r->checksum_sha256, v, vl);
    } else if (nl == 13 && strncasecmp(buf, "content-range", 13) == 0) {
        copy_value(r->content_range, sizeof r->content_range, v, vl);
    } else if (nl == 14 && strncasecmp(buf, "content-length", 14) == 0) {
        copy_value(tmp, sizeof tmp, v, vl);
        char *end = NULL;
        long long x = strtoll(tmp, &end, 10);
        if (end != tmp && x >= 0)
            r->content_length = x;
    } else if (nl == 13 && strncasecmp(buf, "last-modified", 13) == 0) {
        copy_value(tmp, sizeof tmp, v, vl);
        time_t t = curl_getdate(tmp, NULL);
        if (t >= 0)
            r->mtime_ms = (int64_t)t * 1000;
    }
    return n;
}

typedef struct wctx {
    s3_req *r;
    CURL *c;
    int overflow;
} wctx;

static size_t on_write(char *buf, size_t size, size_t nitems, void *ud)
{
    wctx *w = ud;
    s3_req *r = w->r;
    size_t n = size * nitems;
    long code = 0;
    curl_easy_getinfo(w->c, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300 && r->sink) {
        rd_status st = r->sink(r->sink_ctx, buf, n, &r->sink_err);
        if (st != RD_OK) {
            r->sink_st = st;
            return 0;
        }
        r->sunk += n;
        return n;
    }
    size_t max =
        code >= 200 && code < 300 ? (r->resp_max ? r->resp_max : RESP_MAX_DEFAULT) : ERROR_BODY_MAX;
    if (r->resp.len + n > max) {
        if (code >= 200 && code < 300) {
            w->overflow = 1;
            return 0;
        }
        return n; /* the head of an error document is enough */
    }
    if (rd_strbuf_append_n(&r->resp, buf, n, NULL) != RD_OK) {
        w->overflow = 1;
        return 0;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    s3_req *r = ud;
    return (r->cancel && *r->cancel) || rd_abort_requested();
}

static rd_status ensure_creds(rd_s3 *s, rd_error *err)
{
    if (s->test_creds)
        return RD_OK;
    if (s->have_creds && (s->creds.expires_ms == 0 ||
                          rd_wall_now_ms() < s->creds.expires_ms - (int64_t)S3_CREDS_MARGIN * 1000))
        return RD_OK;
    s3_creds fresh;
    memset(&fresh, 0, sizeof fresh);
    rd_status st = s3_creds_load(&fresh, err);
    if (st != RD_OK)
        return st;
    if (s->have_creds)
        rd_log_debug("s3: credentials from %s refreshed", fresh.source);
    s3_creds_clear(&s->creds);
    s->creds = fresh;
    if (fresh.source == fresh.name)
        s->creds.source = s->creds.name;
    s->have_creds = 1;
    return RD_OK;
}

/* Append "name: value" (value NULL: name is the whole line). */
rd_status rd_s3_credentials(rd_s3 *s, const char **source, int64_t *expires_ms, rd_error *err)
{
    rd_status st = ensure_creds(s, err);
    if (st == RD_OK) {
        *source = s->creds.source;
        *expires_ms = s->creds.expires_ms;
    }
    return st;
}

static rd_status add_header(struct curl_slist **h, rd_error *err, const char *name, const char *v)
{
    char *line = v ? rd_asprintf("%s: %s", name, v) : rd_strdup(name);
    struct curl_slist *n = line ? curl_slist_append(*h, line) : NULL;
    free(line);
    if (!n)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *h = n;
    return RD_OK;
}

static const char *display_key(const s3_req *r)
{
    return r->key ? r->key : "";
}

rd_status s3_once(rd_s3 *s, s3_req *r, int *transient, rd_error *err)
{
    rd_status st = RD_OK;
    struct curl_slist *h = NULL, *connect_to = NULL;
    char *url = NULL, *sigv4 = NULL;
    char hash[RD_SHA256_HEX_LEN + 1], errbuf[CURL_ERROR_SIZE];
    wctx w = {r, NULL, 0};
    *transient = 0;
    r->status = 0;
    r->sunk = 0;
    r->sink_st = RD_OK;
    rd_strbuf_reset(&r->resp);
    r->etag[0] = r->version_id[0] = r->content_range[0] = r->checksum_sha256[0] = '\0';
    r->content_length = r->mtime_ms = -1;

    if ((st = ensure_creds(s, err)) != RD_OK)
        return st;
    if (!s->curl && !(s->curl = curl_easy_init()))
        return RD_ERR(err, RD_ERR_NOMEM, "cannot initialise libcurl");
    CURL *c = s->curl;
    w.c = c;
    curl_easy_reset(c);
    url = rd_s3_request_url(s, r->bucket, r->key, r->query);
    sigv4 = rd_asprintf("aws:amz:%s:s3", s->region);
    if (!url || !sigv4) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    rd_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, hash);
    if ((st = add_header(&h, err, "x-amz-content-sha256", hash)) != RD_OK)
        goto out;
    if (s->creds.token && (st = add_header(&h, err, "x-amz-security-token", s->creds.token)))
        goto out;
    if (s->test_date && (st = add_header(&h, err, "x-amz-date", s->test_date)) != RD_OK)
        goto out;
    if (r->body && (st = add_header(&h, err, "Content-Type", "application/octet-stream")))
        goto out;
    for (size_t i = 0; r->headers && r->headers[i]; i++)
        if ((st = add_header(&h, err, r->headers[i], NULL)) != RD_OK)
            goto out;

    if (s->test_connect && !(connect_to = curl_slist_append(NULL, s->test_connect))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* keys may hold "..": never squash them */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(c, CURLOPT_USERNAME, s->creds.key_id);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->creds.secret);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(s->timeout * 1000));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)(s->timeout + 0.999));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* libcurl waits up to this for a "100 Continue" before sending a body */
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 50L);
    if (strcmp(r->method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(r->method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
        if (r->body || strcmp(r->method, "DELETE") != 0) {
            /* libcurl 7.88 hashes the POSTFIELDS for the signature */
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(r->body ? r->body_len : 0));
        }
    }
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (rc != CURLE_OK) {
        if (r->sink_st != RD_OK) {
            if (err)
                *err = r->sink_err;
            st = r->sink_st;
        } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
            st = RD_ERR(err, RD_ERR_ABORTED, "s3 %s s3://%s/%s: cancelled", r->method, r->bucket,
                        display_key(r));
        } else if (w.overflow) {
            st = RD_ERR(err, RD_ERR_NOMEM, "s3 %s s3://%s/%s: response larger than %zu bytes",
                        r->method, r->bucket, display_key(r),
                        r->resp_max ? r->resp_max : RESP_MAX_DEFAULT);
        } else {
            *transient = rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL &&
                         rc != CURLE_OUT_OF_MEMORY && rc != CURLE_SSL_CACERT_BADFILE &&
                         rc != CURLE_PEER_FAILED_VERIFICATION;
            st = RD_ERR(err, rc == CURLE_OPERATION_TIMEDOUT ? RD_ERR_TIMEOUT : RD_ERR_NET,
                        "s3 %s s3://%s/%s: %s%s%s", r->method, r->bucket, display_key(r),
                        curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
        }
        goto out;
    }
    if (r->status < 200 || r->status >= 300) {
        char code[128], msg[8];
        rd_s3_xml_error(r->resp.data, r->resp.len, code, sizeof code, msg, sizeof msg);
        *transient = s3_is_transient_status(r->status, code);
    }
out:
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(h);
    curl_slist_free_all(connect_to);
    free(url);
    free(sigv4);
    return st;
}

int s3_is_transient_status(long status, const char *code)
{
    if (status >= 500 || status == 429 || status == 408)
        return 1;
    return code && (strcmp(code, "SlowDown") == 0 || strcmp(code, "RequestTimeout") == 0 ||
                    strcmp(code, "Throttling") == 0 || strcmp(code, "RequestTimeTooSkewed") == 0);
}

static const char *status_text(long status)
{
    switch (status) {
    case 301:
        return "PermanentRedirect";
    case 304:
        return "NotModified";
    case 400:
        return "BadRequest";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 412:
        return "PreconditionFailed";
    case 416:
        return "InvalidRange";
    default:
        return status >= 500 ? "ServerError" : "Error";
    }
}

rd_status s3_fail(const s3_req *r, rd_error *err)
{
    char code[128], msg[512];
    rd_s3_xml_error(r->resp.data, r->resp.len, code, sizeof code, msg, sizeof msg);
    static const char *const refused[] = {"SignatureDoesNotMatch",
                                          "InvalidAccessKeyId",
                                          "InvalidToken",
                                          "ExpiredToken",
                                          "AccessDenied",
                                          "InvalidClientTokenId",
                                          NULL};
    rd_status st = r->status == 404   ? RD_ERR_NOTFOUND
                   : r->status == 403 ? RD_ERR_REFUSED
                                      : RD_ERR_NET;
    for (size_t i = 0; refused[i]; i++)
        if (strcmp(code, refused[i]) == 0)
            st = RD_ERR_REFUSED;
    const char *c = code[0] ? code : status_text(r->status);
    const char *hint = "";
    if (strcmp(c, "SignatureDoesNotMatch") == 0 || strcmp(c, "InvalidAccessKeyId") == 0)
        hint = "\nHINT: check the credentials (see docs/s3.md for the order they are looked up "
               "in) and the region";
    return RD_ERR(err, st, "s3 %s s3://%s/%s: %ld %s%s%s%s", r->method, r->bucket, display_key(r),
                  r->status, c, msg[0] ? ": " : "", msg, hint);
}

rd_status s3_backoff(int attempt, volatile int *cancel, rd_error *err)
{
    static _Thread_local rd_prng prng;
    static _Thread_local int seeded;
    if (!seeded) {
        rd_prng_seed(&prng, rd_prng_os_seed());
        seeded = 1;
    }
    double cap = BACKOFF_BASE;
    for (int i = 0; i < attempt && cap < BACKOFF_MAX; i++)
        cap *= 2;
    if (cap > BACKOFF_MAX)
        cap = BACKOFF_MAX;
    double until = rd_mono_now() + cap * rd_prng_unit(&prng);
    while (rd_mono_now() < until) {
        if ((cancel && *cancel) || rd_abort_requested())
            return RD_ERR(err, RD_ERR_ABORTED, "s3: cancelled while waiting to retry");
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return RD_OK;
}

rd_status s3_request(rd_s3 *s, s3_req *r, rd_error *err)
{
    rd_status st = RD_OK;
    int refreshed = 0;
    for (int attempt = 1;; attempt++) {
        int transient = 0;
        rd_error e;
        rd_error_clear(&e);
        st = s3_once(s, r, &transient, &e);
        if (st == RD_OK && r->status >= 200 && r->status < 300)
            return RD_OK;
        if (st == RD_OK) {
            char code[64], msg[8];
            rd_s3_xml_error(r->resp.data, r->resp.len, code, sizeof code, msg, sizeof msg);
            if (!refreshed && !s->test_creds &&
                (strcmp(code, "ExpiredToken") == 0 || strcmp(code, "TokenRefreshRequired") == 0)) {
                refreshed = 1; /* temporary credentials ran out early: load them again */
                s->have_creds = 0;
                attempt--;
                continue;
            }
            st = s3_fail(r, &e);
        }
        if (!transient || attempt >= s->max_attempts || r->sunk > 0) {
            if (err)
                *err = e;
            if (transient && attempt > 1)
                rd_error_prefix(err, "after %d attempts: ", attempt);
            return st;
        }
        rd_log_debug("%s; retrying", e.msg);
        if ((st = s3_backoff(attempt, r->cancel, err)) != RD_OK)
            return st;
    }
}
