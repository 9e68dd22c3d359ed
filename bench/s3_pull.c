/* s3_pull.c s3://BUCKET/KEY SHA256: the smallest reader that verifies an S3
 * object's sha256, for bench/s3.sh to compare the artifact pipeline with:
 * one libcurl GET (its own SigV4 signing, as the curl command line), each
 * chunk hashed in libcurl's write callback while it is in the cache, no
 * thread, no ring, no resume, no retry. Endpoint and keys from
 * AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; the key must
 * need no URL encoding. Prints "BYTES bytes, sha256 HEX" and exits 1 when the
 * sha256 differs. */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pull {
    EVP_MD_CTX *md;
    unsigned long long bytes;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct pull *u = arg;
    if (EVP_DigestUpdate(u->md, p, size * n) != 1)
        return 0;
    u->bytes += size * n;
    return size * n;
}

int main(int argc, char **argv)
{
    const char *ep = getenv("AWS_ENDPOINT_URL_S3"), *id = getenv("AWS_ACCESS_KEY_ID"),
               *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (argc != 3 || strncmp(argv[1], "s3://", 5) != 0 || !ep || !id || !secret) {
        fprintf(stderr, "usage: s3_pull s3://bucket/key SHA256 (AWS_ENDPOINT_URL_S3, "
                        "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY set)\n");
        return 2;
    }
    char url[2048], user[512], hex[65];
    snprintf(url, sizeof url, "%s/%s", ep, argv[1] + 5);
    snprintf(user, sizeof user, "%s:%s", id, secret);
    struct pull u = {EVP_MD_CTX_new(), 0};
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(
        NULL,
        "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    if (!u.md || !c || !h || EVP_DigestInit_ex(u.md, EVP_sha256(), NULL) != 1) {
        fprintf(stderr, "s3_pull: out of memory\n");
        return 1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERPWD, user);
    curl_easy_setopt(c, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024); /* as rd_s3_get */
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &u);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fprintf(stderr, "s3_pull: %s\n", curl_easy_strerror(rc));
        return 1;
    }
    unsigned char d[32];
    unsigned int dl = 0;
    EVP_DigestFinal_ex(u.md, d, &dl);
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    printf("%llu bytes, sha256 %s\n", u.bytes, hex);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    EVP_MD_CTX_free(u.md);
    return strcmp(hex, argv[2]) == 0 ? 0 : 1;
}
