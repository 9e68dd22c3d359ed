/* s3set_compare.c: digests of objects (streamed sha256 and MD5, the
 * x-amz-checksum-sha256 header), the captured listing, and the comparison
 * of a restored copy with the expected set. */
#include "restoredrill/s3set.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"

typedef struct digest_ctx {
    rd_sha256 *sha;
    EVP_MD_CTX *md5;
} digest_ctx;

static rd_status digest_sink(void *ctx, const void *buf, size_t n, rd_error *err)
{
    digest_ctx *d = ctx;
    (void)err;
    rd_sha256_update(d->sha, buf, n);
    if (d->md5)
        EVP_DigestUpdate(d->md5, buf, n);
    return RD_OK;
}

rd_status rd_s3set_digest(rd_s3 *s, const char *bucket, const char *key, const char *version_id,
                          char *sha256, char *md5, uint64_t *bytes, rd_error *err)
{
    digest_ctx d = {NULL, NULL};
    rd_s3_get_opts o = {.version_id = version_id};
    rd_status st = rd_sha256_new(&d.sha, err);
    if (st != RD_OK)
        return st;
    if (md5 && (!(d.md5 = EVP_MD_CTX_new()) || EVP_DigestInit_ex(d.md5, EVP_md5(), NULL) != 1)) {
        st = RD_ERR(err, RD_ERR_NOMEM, "cannot compute MD5");
        goto out;
    }
    if ((st = rd_s3_get(s, bucket, key, &o, digest_sink, &d, bytes, err)) != RD_OK)
        goto out;
    rd_sha256_final_hex(d.sha, sha256);
    if (md5) {
        unsigned char raw[EVP_MAX_MD_SIZE];
        unsigned int rl = 0;
        EVP_DigestFinal_ex(d.md5, raw, &rl);
        for (unsigned int i = 0; i < rl && i < 16; i++)
            snprintf(md5 + 2 * i, 3, "%02x", raw[i]);
    }
out:
    rd_sha256_free(d.sha);
    EVP_MD_CTX_free(d.md5);
    return st;
}

rd_status rd_s3set_capture(rd_s3 *s, const char *bucket, const char *prefix, rd_s3set *out,
                           rd_error *err)
{
    rd_s3set acc = {NULL, 0};
    size_t pl = prefix ? strlen(prefix) : 0;
    char *full = NULL;
    rd_status st = rd_s3set_list(s, bucket, prefix, &acc, err);
    for (size_t i = 0; st == RD_OK && i < acc.n; i++) {
        rd_s3set_entry *e = &acc.items[i];
        uint64_t bytes = 0;
        free(full);
        if (!(full = rd_asprintf("%.*s%s", (int)pl, pl ? prefix : "", e->key))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        st = rd_s3set_digest(s, bucket, full, NULL, e->sha256, e->md5, &bytes, err);
        if (st == RD_OK && (int64_t)bytes != e->size)
            st = RD_ERR(err, RD_ERR_INTEGRITY, "s3://%s/%s: read %llu bytes, the listing says %lld",
                        bucket, full, (unsigned long long)bytes, (long long)e->size);
        if (st == RD_OK && (i + 1) % 1000 == 0)
            rd_log_info("digested %zu of %zu objects", i + 1, acc.n);
    }
    free(full);
    if (st != RD_OK) {
        rd_s3set_free(&acc);
        return st;
    }
    *out = acc;
    return RD_OK;
}

int rd_s3set_checksum_hex(const char *b64, char *hex)
{
    unsigned char raw[64];
    if (!b64 || strlen(b64) != 44 || strchr(b64, '-'))
        return 0;
    int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, 44);
    if (n != 33 || b64[43] != '=' || b64[42] == '=') /* 32 bytes, one pad */
        return 0;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    return 1;
}

void rd_s3set_diff_init(rd_s3set_diff *d)
{
    memset(d, 0, sizeof *d);
    rd_strbuf_init(&d->findings, 0);
}

void rd_s3set_diff_free(rd_s3set_diff *d)
{
    if (d)
        rd_strbuf_free(&d->findings);
}

static rd_status finding(rd_s3set_diff *d, rd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rd_status finding(rd_s3set_diff *d, rd_error *err, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!d->first[0]) {
        size_t n = strlen(line) < sizeof d->first ? strlen(line) : sizeof d->first - 1;
        memcpy(d->first, line, n);
        d->first[n] = '\0';
    }
    rd_status st = rd_strbuf_append(&d->findings, line, err);
    return st == RD_OK ? rd_strbuf_append(&d->findings, "\n", err) : st;
}

/* Is the copy at key equal to e? *same, and how (by_* counters). */
static rd_status same_content(rd_s3 *s, const rd_s3set_entry *e, const rd_s3set_entry *a,
                              const rd_s3set_where *w, const char *key, rd_s3set_diff *d, char *why,
                              size_t whysz, rd_error *err)
{
    rd_status st = RD_OK;
    char want[65], got[65];
    char *src = NULL;
    why[0] = '\0';
    if (e->md5[0] && a->md5[0] && strcmp(e->md5, a->md5) == 0) {
        d->by_etag++;
        return RD_OK;
    }
    memcpy(want, e->sha256, sizeof want);
    if (!want[0]) { /* a versioned source: digest it */
        if (!(src = rd_asprintf("%s%s", w->src_prefix ? w->src_prefix : "", e->key)))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        st = rd_s3set_digest(s, w->src_bucket, src, e->version_id, want, NULL, NULL, err);
        free(src);
        if (st != RD_OK)
            return st;
    } else {
        rd_s3_object h;
        memset(&h, 0, sizeof h);
        if ((st = rd_s3_head_ex(s, w->bucket, key, NULL, 1, &h, err)) != RD_OK)
            return st;
        int have = rd_s3set_checksum_hex(h.checksum_sha256, got);
        rd_s3_object_clear(&h);
        if (have) {
            if (strcmp(got, want) == 0) {
                d->by_checksum++;
                return RD_OK;
            }
            snprintf(why, whysz, "x-amz-checksum-sha256 %.16s..., expected %.16s...", got, want);
            return RD_OK;
        }
    }
    if ((st = rd_s3set_digest(s, w->bucket, key, NULL, got, NULL, NULL, err)) != RD_OK)
        return st;
    if (strcmp(got, want) == 0)
        d->by_stream++;
    else
        snprintf(why, whysz, "sha256 %.16s..., expected %.16s...", got, want);
    return RD_OK;
}

rd_status rd_s3set_compare(rd_s3 *s, const rd_s3set *expected, const rd_s3set_where *w,
                           double deadline, rd_s3set_diff *d, rd_error *err)
{
    rd_s3set actual = {NULL, 0};
    char *key = NULL;
    size_t pl = w->prefix ? strlen(w->prefix) : 0;
    rd_status st = rd_s3set_list(s, w->bucket, w->prefix, &actual, err);
    if (st != RD_OK)
        return st;
    d->expected = expected->n;
    d->actual = actual.n;
    for (size_t i = 0; st == RD_OK && i < expected->n; i++) {
        const rd_s3set_entry *e = &expected->items[i];
        const rd_s3set_entry *a = rd_s3set_find(&actual, e->key);
        char why[256];
        if (rd_abort_requested() || (deadline > 0 && rd_mono_now() > deadline)) {
            st = RD_ERR(err, RD_ERR_ABORTED, "stopped after %zu of %zu objects (%s)", i,
                        expected->n, rd_abort_requested() ? "aborted" : "the check's timeout");
            break;
        }
        if (!a) {
            d->missing++;
            st = finding(d, err, "missing: %s", e->key);
            continue;
        }
        if (a->size != e->size) {
            d->changed++;
            st = finding(d, err, "changed: %s: size %lld, expected %lld", e->key,
                         (long long)a->size, (long long)e->size);
            continue;
        }
        free(key);
        if (!(key = rd_asprintf("%.*s%s", (int)pl, pl ? w->prefix : "", e->key))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        st = same_content(s, e, a, w, key, d, why, sizeof why, err);
        if (st == RD_OK && why[0]) {
            d->changed++;
            st = finding(d, err, "changed: %s: %s", e->key, why);
        }
    }
    for (size_t i = 0; st == RD_OK && i < actual.n; i++)
        if (!rd_s3set_find(expected, actual.items[i].key)) {
            d->extra++;
            st = finding(d, err, "extra: %s", actual.items[i].key);
        }
    free(key);
    rd_s3set_free(&actual);
    return st;
}
