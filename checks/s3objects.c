/* s3objects.c: rowcount and checksum for engine s3. The reference is the
 * expected object set the fetch built (ctx->s3: the listing captured at
 * backup time, or a versioned bucket's versions as of the target); the copy
 * under the scratch prefix is listed again (and digested) through S3. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/clock.h"
#include "restoredrill/s3set.h"

#define NAMED_FINDINGS 3

static rd_status client(const rd_s3set_target *t, rd_s3 **s3, rd_error *err)
{
    rd_s3_opts o = {.endpoint = t->endpoint, .region = t->region, .path_style = t->path_style};
    if (!t->bucket || !t->prefix)
        return RD_ERR(err, RD_ERR_INTERNAL, "no restored copy to compare with");
    return rd_s3_new(&o, s3, err);
}

rd_status rd_check_s3_rowcount(rd_check_ctx *ctx, rd_error *err)
{
    const rd_s3set_target *t = ctx->s3;
    rd_s3 *s3 = NULL;
    rd_s3set got = {NULL, 0};
    double t0 = rd_mono_now();
    if (!t)
        return RD_ERR(err, RD_ERR_INTERNAL, "no expected object set to compare with");
    rd_status st = client(t, &s3, err);
    if (st == RD_OK)
        st = rd_s3set_list(s3, t->bucket, t->prefix, &got, err);
    if (st == RD_OK) {
        char obj[1024];
        snprintf(obj, sizeof obj, "s3://%s/%s", t->bucket, t->prefix);
        size_t want = t->expected.n;
        rd_check_result *r =
            got.n == want
                ? rd_check_record(ctx, obj, RD_PASSED, rd_mono_now() - t0,
                                  "%zu objects, as %s says", got.n, t->basis)
                : rd_check_record(ctx, obj, RD_FAILED, rd_mono_now() - t0,
                                  "%zu objects restored, %s says %zu", got.n, t->basis, want);
        if (r) {
            rd_check_add_prop(r, "expected", "%zu", want);
            rd_check_add_prop(r, "actual", "%zu", got.n);
        }
    }
    rd_s3set_free(&got);
    rd_s3_free(s3);
    return st;
}

/* "missing: a; changed: b: size 1, expected 2; ..." from the first findings. */
static void first_findings(const rd_s3set_diff *d, char *buf, size_t bufsz)
{
    const char *p = d->findings.data ? d->findings.data : "";
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < NAMED_FINDINGS && *p; i++) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        int w = snprintf(buf + n, bufsz - n, "%s%.*s", i ? "; " : "", (int)l, p);
        if (w < 0 || (size_t)w >= bufsz - n)
            break;
        n += (size_t)w;
        p = nl ? nl + 1 : p + l;
    }
    size_t total = d->missing + d->extra + d->changed;
    if (total > NAMED_FINDINGS && n + 32 < bufsz)
        snprintf(buf + n, bufsz - n, "; and %zu more", total - NAMED_FINDINGS);
}

rd_status rd_check_s3_checksum(rd_check_ctx *ctx, rd_error *err)
{
    const rd_s3set_target *t = ctx->s3;
    rd_s3 *s3 = NULL;
    rd_s3set_diff d;
    double t0 = rd_mono_now();
    if (!t)
        return RD_ERR(err, RD_ERR_INTERNAL, "no expected object set to compare with");
    rd_s3set_diff_init(&d);
    rd_s3set_where w = {.bucket = t->bucket,
                        .prefix = t->prefix,
                        .src_bucket = t->src_bucket,
                        .src_prefix = t->src_prefix};
    rd_status st = client(t, &s3, err);
    if (st == RD_OK)
        st = rd_s3set_compare(s3, &t->expected, &w, ctx->deadline, &d, err);
    if (st == RD_OK) {
        char obj[1024], named[2048];
        snprintf(obj, sizeof obj, "s3://%s/%s", t->bucket, t->prefix);
        size_t bad = d.missing + d.extra + d.changed;
        rd_check_result *r;
        if (bad == 0) {
            r = rd_check_record(ctx, obj, RD_PASSED, rd_mono_now() - t0,
                                "%zu objects: keys, sizes and digests equal to %s", d.expected,
                                t->basis);
        } else {
            first_findings(&d, named, sizeof named);
            r = rd_check_record(ctx, obj, RD_FAILED, rd_mono_now() - t0,
                                "the restored objects differ from %s: %zu missing, %zu extra, "
                                "%zu changed: %s",
                                t->basis, d.missing, d.extra, d.changed, named);
            if (r)
                rd_check_set_output(r, d.findings.data ? d.findings.data : "");
        }
        if (r) {
            rd_check_add_prop(r, "expected_objects", "%zu", d.expected);
            rd_check_add_prop(r, "actual_objects", "%zu", d.actual);
            rd_check_add_prop(r, "missing", "%zu", d.missing);
            rd_check_add_prop(r, "extra", "%zu", d.extra);
            rd_check_add_prop(r, "changed", "%zu", d.changed);
            rd_check_add_prop(r, "equal_by_etag_md5", "%zu", d.by_etag);
            rd_check_add_prop(r, "equal_by_checksum_sha256", "%zu", d.by_checksum);
            rd_check_add_prop(r, "equal_by_streamed_sha256", "%zu", d.by_stream);
        }
    }
    rd_s3set_diff_free(&d);
    rd_s3_free(s3);
    return st;
}
