/* test_s3.c: SigV4 canonical forms, URLs, the published AWS SigV4 example
 * for S3 (signed by libcurl, captured by an in-process loopback socket),
 * listing and error documents, and the credentials chain from the
 * environment and the shared files. No S3 server. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "restoredrill/s3.h"

static void unset_aws(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_PROFILE",
                                       "AWS_REGION",
                                       "AWS_DEFAULT_REGION",
                                       "AWS_SHARED_CREDENTIALS_FILE",
                                       "AWS_CONFIG_FILE",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                                       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_S3",
                                       NULL};
    for (size_t i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1); /* never reach 169.254.169.254 */
    setenv("HOME", "/nonexistent-home", 1);
}

START_TEST(uri_encode_segments)
{
    char *e = rd_s3_uri_encode("dir/a b+c=d..é~_-.txt", 1);
    ck_assert_str_eq(e, "dir/a%20b%2Bc%3Dd..%C3%A9~_-.txt");
    free(e);
    e = rd_s3_uri_encode("a/b", 0);
    ck_assert_str_eq(e, "a%2Fb");
    free(e);
}
END_TEST

START_TEST(canonical_query_sorted)
{
    const char *n[] = {"prefix", "list-type", "encoding-type", "continuation-token"};
    const char *v[] = {"a b/c", "2", "url", "x+y="};
    char *q = rd_s3_canonical_query(n, v, 4);
    ck_assert_str_eq(q,
                     "continuation-token=x%2By%3D&encoding-type=url&list-type=2&prefix=a%20b%2Fc");
    free(q);
    const char *n2[] = {"versions", "prefix"};
    const char *v2[] = {NULL, "p"};
    q = rd_s3_canonical_query(n2, v2, 2);
    ck_assert_str_eq(q, "prefix=p&versions=");
    free(q);
}
END_TEST

START_TEST(request_urls)
{
    unset_aws();
    rd_s3 *s = NULL;
    rd_error err;
    rd_s3_opts o = {.endpoint = "https://s3.eu-west-1.amazonaws.com", .path_style = -1};
    ck_assert_int_eq(rd_s3_new(&o, &s, &err), RD_OK);
    ck_assert_str_eq(rd_s3_region(s), "us-east-1");
    char *u = rd_s3_request_url(s, "bkt", "a b/c+d", "list-type=2");
    ck_assert_str_eq(u, "https://bkt.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd?list-type=2");
    free(u);
    rd_s3_free(s);

    rd_s3_opts p = {.endpoint = "http://127.0.0.1:9000/", .region = "eu-west-1", .path_style = -1};
    ck_assert_int_eq(rd_s3_new(&p, &s, &err), RD_OK);
    ck_assert_str_eq(rd_s3_region(s), "eu-west-1");
    u = rd_s3_request_url(s, "bkt", "../x", NULL);
    ck_assert_str_eq(u, "http://127.0.0.1:9000/bkt/../x");
    free(u);
    u = rd_s3_request_url(s, "bkt", NULL, "encoding-type=url");
    ck_assert_str_eq(u, "http://127.0.0.1:9000/bkt?encoding-type=url");
    free(u);
    rd_s3_free(s);

    rd_s3_opts bad = {.endpoint = "ftp://x", .path_style = 0};
    ck_assert_int_eq(rd_s3_new(&bad, &s, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "s3 endpoint: expected http://host[:port] or https://host[:port], "
                              "got \"ftp://x\"");
    setenv("AWS_ENDPOINT_URL_S3", "http://localhost:4566", 1);
    ck_assert_int_eq(rd_s3_new(NULL, &s, &err), RD_OK);
    u = rd_s3_request_url(s, "b", "k", NULL);
    ck_assert_str_eq(u, "http://localhost:4566/b/k"); /* localhost: path style */
    free(u);
    rd_s3_free(s);
    unsetenv("AWS_ENDPOINT_URL_S3");
    setenv("AWS_REGION", "ap-south-1", 1);
    ck_assert_int_eq(rd_s3_new(NULL, &s, &err), RD_OK);
    u = rd_s3_request_url(s, "b", "k", NULL);
    ck_assert_str_eq(u, "https://b.s3.ap-south-1.amazonaws.com/k");
    free(u);
    rd_s3_free(s);
}
END_TEST

START_TEST(url_split)
{
    char *b = NULL, *k = NULL;
    rd_error err;
    ck_assert_int_eq(rd_s3_url_split("s3://bkt/dir/x.dump", &b, &k, &err), RD_OK);
    ck_assert_str_eq(b, "bkt");
    ck_assert_str_eq(k, "dir/x.dump");
    free(b);
    free(k);
    ck_assert_int_eq(rd_s3_url_split("s3://bkt", &b, &k, &err), RD_OK);
    ck_assert_str_eq(k, "");
    free(b);
    free(k);
    ck_assert_int_eq(rd_s3_url_split("s3:///k", &b, &k, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "expected s3://bucket/key, got \"s3:///k\"");
}
END_TEST

/* --- the published example: a loopback socket captures what libcurl sends --- */
static int lfd = -1;
static char captured[8192];
static const char *capture_resp; /* NULL: an empty 200 */

static void *capture(void *arg)
{
    (void)arg;
    int c = accept(lfd, NULL, NULL);
    size_t n = 0;
    while (c >= 0 && n < sizeof captured - 1) {
        ssize_t r = read(c, captured + n, sizeof captured - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        captured[n] = '\0';
        if (strstr(captured, "\r\n\r\n"))
            break;
    }
    const char *resp = capture_resp ? capture_resp : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    if (c >= 0) {
        ssize_t w = write(c, resp, strlen(resp));
        (void)w;
        close(c);
    }
    return NULL;
}

/* A client signing with the published example's keys and date whose every
 * connection goes to a socket on 127.0.0.1 that the thread *th (capture())
 * accepts once, keeping the request in captured; join *th and close lfd after
 * the call. */
static rd_s3 *capturing_client(pthread_t *th)
{
    unset_aws();
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    ck_assert_int_eq(pthread_create(th, NULL, capture, NULL), 0);
    rd_s3 *s = NULL;
    rd_error err;
    rd_s3_opts o = {.endpoint = "http://s3.amazonaws.com", .region = "us-east-1", .path_style = 0};
    ck_assert_int_eq(rd_s3_new(&o, &s, &err), RD_OK);
    rd_s3_set_test_signing(s, "20130524T000000Z", "AKIAIOSFODNN7EXAMPLE",
                           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL);
    char ct[128];
    snprintf(ct, sizeof ct, "examplebucket.s3.amazonaws.com:80:127.0.0.1:%d", ntohs(a.sin_port));
    rd_s3_set_test_connect(s, ct);
    return s;
}

START_TEST(sigv4_published_example)
{
    pthread_t th;
    rd_s3 *s = capturing_client(&th);
    rd_error err;
    const char *hdrs[] = {"Range: bytes=0-9", NULL};
    long status = 0;
    ck_assert_int_eq(rd_s3_raw_get(s, "examplebucket", "test.txt", hdrs, &status, &err), RD_OK);
    pthread_join(th, NULL);
    close(lfd);
    ck_assert_int_eq(status, 200);
    ck_assert_msg(strstr(captured, "GET /test.txt HTTP/1.1\r\n") == captured, "%s", captured);
    ck_assert_msg(strstr(captured, "Host: examplebucket.s3.amazonaws.com\r\n"), "%s", captured);
    ck_assert_msg(strstr(captured,
                         "x-amz-content-sha256: "
                         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                  "%s", captured);
    ck_assert_msg(
        strstr(captured,
               "Authorization: AWS4-HMAC-SHA256 "
               "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
               "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        "%s", captured);
    ck_assert_ptr_null(strstr(captured, "x-amz-security-token"));
    rd_s3_free(s);
}
END_TEST

/* --- the canonical request of each call the object sets added, signed
 * independently here (SigV4 by hand with OpenSSL's HMAC) and compared with
 * what libcurl sent --- */
static void hex_of(const unsigned char *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void sha_hex(const char *s, char *out)
{
    unsigned char d[32];
    unsigned int n = 0;
    EVP_Digest(s, strlen(s), d, &n, EVP_sha256(), NULL);
    hex_of(d, 32, out);
}

static void hmac(const unsigned char *key, size_t klen, const char *msg, unsigned char *out)
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg, strlen(msg), out, &n);
}

/* The value of header name (lowercase) in the captured request, trimmed. */
static void header_value(const char *name, char *out, size_t outsz)
{
    out[0] = '\0';
    for (const char *p = strstr(captured, "\r\n"); p && p[2] && p[2] != '\r';
         p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2, *colon = strchr(h, ':'), *end = strstr(h, "\r\n");
        if (!colon || !end || colon > end || (size_t)(colon - h) != strlen(name) ||
            strncasecmp(h, name, strlen(name)) != 0)
            continue;
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        snprintf(out, outsz, "%.*s", (int)(end - v), v);
        return;
    }
}

/* Send one request through fn to a capturing socket, then check that the
 * request line is want_line, the signed headers are want_signed and the
 * signature is the one computed here from canonical_uri and canonical_query. */
typedef rd_status (*call_fn)(rd_s3 *s, rd_error *err);
static void signed_as(call_fn fn, const char *method, const char *canonical_uri,
                      const char *canonical_query, const char *want_line, const char *want_signed)
{
    pthread_t th;
    rd_s3 *s = capturing_client(&th);
    rd_error err;
    rd_status st = fn(s, &err);
    pthread_join(th, NULL);
    close(lfd);
    rd_s3_free(s);
    ck_assert_msg(st == RD_OK, "%s", err.msg);
    ck_assert_msg(strncmp(captured, want_line, strlen(want_line)) == 0, "%s", captured);
    char auth[512], sh[256];
    header_value("authorization", auth, sizeof auth);
    const char *p = strstr(auth, "SignedHeaders=");
    ck_assert_ptr_nonnull(p);
    snprintf(sh, sizeof sh, "%.*s", (int)strcspn(p + 14, ","), p + 14);
    ck_assert_str_eq(sh, want_signed);
    /* the canonical request from the signed headers' values as sent */
    char canon[4096], payload[65], hv[1024];
    header_value("x-amz-content-sha256", payload, sizeof payload);
    int n = snprintf(canon, sizeof canon, "%s\n%s\n%s\n", method, canonical_uri, canonical_query);
    for (const char *h = sh; *h;) {
        char name[64];
        size_t l = strcspn(h, ";");
        snprintf(name, sizeof name, "%.*s", (int)l, h);
        header_value(name, hv, sizeof hv);
        n += snprintf(canon + n, sizeof canon - (size_t)n, "%s:%s\n", name, hv);
        h += l + (h[l] == ';');
    }
    snprintf(canon + n, sizeof canon - (size_t)n, "\n%s\n%s", sh, payload);
    char ch[65], sts[512], sig[65];
    sha_hex(canon, ch);
    snprintf(sts, sizeof sts,
             "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n%s", ch);
    unsigned char k[32], k2[32];
    const char *secret = "AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    hmac((const unsigned char *)secret, strlen(secret), "20130524", k);
    hmac(k, 32, "us-east-1", k2);
    hmac(k2, 32, "s3", k);
    hmac(k, 32, "aws4_request", k2);
    hmac(k2, 32, sts, k);
    hex_of(k, 32, sig);
    ck_assert_msg(strstr(auth, sig), "canonical request:\n%s\nsent: %s", canon, auth);
}

static rd_status call_copy_version(rd_s3 *s, rd_error *err)
{
    return rd_s3_copy_version(s, "src", "dir/a b+c.txt", "v1+/x", "examplebucket", "dst/k.txt",
                              err);
}

static rd_status call_delete_version(rd_s3 *s, rd_error *err)
{
    return rd_s3_delete_version(s, "examplebucket", "dir/k.txt", "v1+/x", err);
}

static rd_s3_object headed;
static rd_status call_head_checksum(rd_s3 *s, rd_error *err)
{
    return rd_s3_head_ex(s, "examplebucket", "k.txt", "v1", 1, &headed, err);
}

START_TEST(copy_version_signed)
{
    /* the source's key keeps its '/', '+' is %2B, the version id is encoded whole */
    signed_as(call_copy_version, "PUT", "/dst/k.txt", "", "PUT /dst/k.txt HTTP/1.1\r\n",
              "content-type;host;x-amz-content-sha256;x-amz-copy-source;x-amz-date");
    char v[256];
    header_value("x-amz-copy-source", v, sizeof v);
    ck_assert_str_eq(v, "/src/dir/a%20b%2Bc.txt?versionId=v1%2B%2Fx");
}
END_TEST

START_TEST(delete_version_signed)
{
    signed_as(call_delete_version, "DELETE", "/dir/k.txt", "versionId=v1%2B%2Fx",
              "DELETE /dir/k.txt?versionId=v1%2B%2Fx HTTP/1.1\r\n",
              "host;x-amz-content-sha256;x-amz-date");
}
END_TEST

START_TEST(head_checksum_signed)
{
    capture_resp = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"abc\"\r\n"
                   "x-amz-checksum-sha256: LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=\r\n"
                   "x-amz-version-id: v1\r\n\r\n";
    signed_as(call_head_checksum, "HEAD", "/k.txt", "versionId=v1",
              "HEAD /k.txt?versionId=v1 HTTP/1.1\r\n",
              "host;x-amz-checksum-mode;x-amz-content-sha256;x-amz-date");
    capture_resp = NULL;
    char v[64];
    header_value("x-amz-checksum-mode", v, sizeof v);
    ck_assert_str_eq(v, "ENABLED");
    ck_assert_str_eq(headed.checksum_sha256, "LCa0a2j/xo/5m0U8HTBBNBNCLXBkg7+g+YpeiGJm564=");
    ck_assert_str_eq(headed.version_id, "v1");
    ck_assert_int_eq(headed.size, 5);
    rd_s3_object_clear(&headed);
}
END_TEST

/* --- documents --- */
static const char PAGE1[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name>"
    "<Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>p/a+b%2Bc%3D%C3%A9.dump</Key><LastModified>2026-01-30T15:00:00.000Z"
    "</LastModified><ETag>&quot;abc&quot;</ETag><Size>1234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>p/x%3Cy%3E%26.dump</Key><LastModified>2026-01-31T15:00:00Z</LastModified>"
    "<ETag>\"def-2\"</ETag><Size>0</Size></Contents>"
    "<NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>";

START_TEST(xml_listing_page)
{
    rd_s3_objects l = {NULL, 0};
    char *next = NULL;
    rd_error err;
    ck_assert_int_eq(rd_s3_xml_list(PAGE1, sizeof PAGE1 - 1, 0, &l, &next, NULL, &err), RD_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.items[0].key, "p/a b+c=é.dump");
    ck_assert_int_eq(l.items[0].size, 1234);
    ck_assert_int_eq(l.items[0].mtime_ms, 1769785200000LL);
    ck_assert_str_eq(l.items[0].etag, "abc");
    ck_assert_str_eq(l.items[1].key, "p/x<y>&.dump");
    ck_assert_str_eq(l.items[1].etag, "def-2");
    ck_assert_str_eq(next, "tok+/=");
    free(next);
    rd_s3_objects_free(&l);

    static const char LAST[] = "<ListBucketResult><IsTruncated>false</IsTruncated>"
                               "<Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>";
    ck_assert_int_eq(rd_s3_xml_list(LAST, sizeof LAST - 1, 0, &l, &next, NULL, &err), RD_OK);
    ck_assert_ptr_null(next);
    ck_assert_str_eq(l.items[0].key, "k"); /* no EncodingType: taken as is */
    rd_s3_objects_free(&l);

    static const char BROKEN[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "</ListBucketResult>";
    ck_assert_int_eq(rd_s3_xml_list(BROKEN, sizeof BROKEN - 1, 0, &l, &next, NULL, &err),
                     RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "s3 listing: truncated without a NextContinuationToken");
    ck_assert_int_eq(rd_s3_xml_list("<html>", 6, 0, &l, &next, NULL, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "s3 listing: expected a <ListBucketResult> document");
    rd_s3_objects_free(&l);
}
END_TEST

START_TEST(xml_versions_and_errors)
{
    static const char V[] =
        "<ListVersionsResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
        "<NextKeyMarker>a%20b</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker>"
        "<Version><Key>a%20b</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>"
        "<LastModified>2026-01-30T15:00:00Z</LastModified><ETag>\"e\"</ETag><Size>5</Size>"
        "</Version><DeleteMarker><Key>a%20b</Key><VersionId>v2</VersionId><IsLatest>true"
        "</IsLatest><LastModified>2026-01-31T15:00:00Z</LastModified></DeleteMarker>"
        "</ListVersionsResult>";
    rd_s3_objects l = {NULL, 0};
    char *next = NULL, *nv = NULL;
    rd_error err;
    ck_assert_int_eq(rd_s3_xml_list(V, sizeof V - 1, 1, &l, &next, &nv, &err), RD_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.items[0].version_id, "v1");
    ck_assert_int_eq(l.items[0].is_latest, 0);
    ck_assert_int_eq(l.items[0].delete_marker, 0);
    ck_assert_int_eq(l.items[1].delete_marker, 1);
    ck_assert_int_eq(l.items[1].is_latest, 1);
    ck_assert_int_eq(l.items[1].size, 0);
    ck_assert_str_eq(next, "a b");
    ck_assert_str_eq(nv, "v2");
    free(next);
    free(nv);
    rd_s3_objects_free(&l);

    static const char E[] = "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code>"
                            "<Message>The specified key does not exist.</Message>"
                            "<Key>x</Key></Error>";
    char code[64], msg[128];
    rd_s3_xml_error(E, sizeof E - 1, code, sizeof code, msg, sizeof msg);
    ck_assert_str_eq(code, "NoSuchKey");
    ck_assert_str_eq(msg, "The specified key does not exist.");
    rd_s3_xml_error("not xml", 7, code, sizeof code, msg, sizeof msg);
    ck_assert_str_eq(code, "");
    ck_assert_str_eq(msg, "");
}
END_TEST

/* --- credentials chain --- */
static char home[256];

static void write_file(const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/.aws/%s", home, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void make_home(void)
{
    snprintf(home, sizeof home, "/tmp/rd-s3-home.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(home));
    char p[512];
    snprintf(p, sizeof p, "%s/.aws", home);
    ck_assert_int_eq(mkdir(p, 0700), 0);
    setenv("HOME", home, 1);
}

static void rm_home(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    ck_assert_int_eq(system(cmd), 0);
}

static const char *source_of(rd_status want, rd_error *err)
{
    rd_s3 *s = NULL;
    const char *src = NULL;
    int64_t exp = -1;
    static char copy[128];
    rd_s3_opts o = {.endpoint = "http://127.0.0.1:1", .path_style = -1};
    ck_assert_int_eq(rd_s3_new(&o, &s, err), RD_OK);
    rd_status st = rd_s3_credentials(s, &src, &exp, err);
    ck_assert_int_eq(st, want);
    snprintf(copy, sizeof copy, "%s", st == RD_OK ? src : "");
    rd_s3_free(s);
    return copy;
}

START_TEST(creds_chain_env_and_profile)
{
    rd_error err;
    unset_aws();
    source_of(RD_ERR_CONFIG, &err);
    ck_assert_str_eq(err.msg, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
                              " or AWS_PROFILE with ~/.aws/credentials, or run with a container or"
                              " instance role");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    source_of(RD_ERR_CONFIG, &err);
    ck_assert_str_eq(err.msg, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    ck_assert_str_eq(source_of(RD_OK, &err), "environment");

    unset_aws();
    make_home();
    write_file("credentials", "[default]\naws_access_key_id = AKIDDEF\n"
                              "aws_secret_access_key = s1\n\n[ops]\n"
                              "aws_access_key_id=AKIDOPS\naws_secret_access_key=s2\n"
                              "aws_session_token = tok\n");
    write_file("config", "[default]\nregion = eu-central-1\n[profile ops]\nregion = eu-west-3\n"
                         "[profile cfgonly]\naws_access_key_id = AKIDCFG\n"
                         "aws_secret_access_key = s3\n[profile half]\naws_access_key_id = X\n");
    ck_assert_str_eq(source_of(RD_OK, &err), "profile default");
    setenv("AWS_PROFILE", "ops", 1);
    ck_assert_str_eq(source_of(RD_OK, &err), "profile ops");
    rd_s3 *s = NULL;
    ck_assert_int_eq(rd_s3_new(NULL, &s, &err), RD_OK);
    ck_assert_str_eq(rd_s3_region(s), "eu-west-3");
    rd_s3_free(s);
    setenv("AWS_PROFILE", "cfgonly", 1);
    ck_assert_str_eq(source_of(RD_OK, &err), "profile cfgonly");
    setenv("AWS_PROFILE", "half", 1);
    source_of(RD_ERR_CONFIG, &err);
    ck_assert_msg(strstr(err.msg, "profile half in ") &&
                      strstr(err.msg, "/.aws/config has "
                                      "aws_access_key_id but "
                                      "not aws_secret_access_key"),
                  "%s", err.msg);
    setenv("AWS_PROFILE", "nope", 1);
    source_of(RD_ERR_CONFIG, &err);
    ck_assert_msg(strstr(err.msg, "AWS_PROFILE is nope but neither "), "%s", err.msg);
    /* the environment wins over the profile */
    setenv("AWS_PROFILE", "ops", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    ck_assert_str_eq(source_of(RD_OK, &err), "environment");
    rm_home();
}
END_TEST

Suite *s3_suite(void);
Suite *s3_suite(void)
{
    Suite *s = suite_create("s3");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, uri_encode_segments);
    tcase_add_test(tc, canonical_query_sorted);
    tcase_add_test(tc, request_urls);
    tcase_add_test(tc, url_split);
    tcase_add_test(tc, sigv4_published_example);
    tcase_add_test(tc, copy_version_signed);
    tcase_add_test(tc, delete_version_signed);
    tcase_add_test(tc, head_checksum_signed);
    tcase_add_test(tc, xml_listing_page);
    tcase_add_test(tc, xml_versions_and_errors);
    tcase_add_test(tc, creds_chain_env_and_profile);
    suite_add_tcase(s, tc);
    return s;
}
