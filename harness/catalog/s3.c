/* s3.c: the "s3" catalog: objects under bucket/prefix matched by a glob,
 * listed with ListObjectsV2, like dir: creation time from the sidecar
 * <key>.manifest.json object, else a timestamp in the name, else the
 * object's LastModified (time_from "mtime"). A "directory" NAME/ holding
 * toc.dat is a pg_dump directory-format dump (its size the sum of its
 * files). Also dir's s3://bucket/prefix. */
#include "restoredrill/s3.h"
#include "catalog_int.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#define MANIFEST_MAX ((size_t)256 * 1024 * 1024)

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* 1 when the listing (sorted by key) holds key. */
static int has_key(const rd_s3_objects *l, const char *key)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->items[mid].key, key);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const rd_s3_object *)a)->key, ((const rd_s3_object *)b)->key);
}

/* Sum of the objects directly under key/ (a directory-format dump's files). */
static int64_t dir_bytes(const rd_s3_objects *l, const char *key)
{
    int64_t sum = 0;
    size_t kl = strlen(key);
    for (size_t i = 0; i < l->n; i++) {
        const char *k = l->items[i].key;
        if (strncmp(k, key, kl) == 0 && k[kl] == '/' && k[kl + 1] && !strchr(k + kl + 1, '/') &&
            l->items[i].size > 0)
            sum += l->items[i].size;
    }
    return sum;
}

static rd_status make_point(rd_s3 *s3, const char *bucket, const rd_s3_objects *l,
                            const rd_s3_object *o, const char *name, time_src src, rd_point *pt,
                            rd_error *err)
{
    rd_status st = RD_OK;
    char *mkey = NULL, *text = NULL;
    size_t len = 0;
    int have_manifest = 0;
    int64_t mms = 0;
    pt->id = rd_strdup(name);
    pt->location = rd_asprintf("s3://%s/%s", bucket, o->key);
    mkey = rd_asprintf("%s" RD_CAT_SIDECAR_SUFFIX, o->key);
    if (!pt->id || !pt->location || !mkey) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory listing s3://%s", bucket);
        goto out;
    }
    pt->bytes = o->size;
    if (has_key(l, mkey)) {
        if ((st = rd_s3_get_mem(s3, bucket, mkey, MANIFEST_MAX, &text, &len, err)) != RD_OK)
            goto out;
        if (!(pt->manifest = rd_asprintf("s3://%s/%s", bucket, mkey))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory listing s3://%s", bucket);
            goto out;
        }
        if ((st = rd_cat_sidecar_parse(text, len, pt->manifest, pt, &have_manifest, &mms, err)))
            goto out;
    }
    st = rd_cat_choose_time(src, have_manifest, mms, name, o->mtime_ms, pt, err);
out:
    free(mkey);
    free(text);
    return st;
}

rd_status rd_cat_s3_list(const rd_catalog_cfg *cfg, const char *bucket, const char *prefix,
                         rd_points *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_s3 *s3 = NULL;
    rd_s3_objects l = {NULL, 0};
    rd_points pts = {NULL, 0, NULL};
    rd_point pt;
    time_src src = SRC_AUTO;
    memset(&pt, 0, sizeof pt);
    pt.bytes = -1;
    const char *pattern = cfg->pattern && *cfg->pattern ? cfg->pattern : "*";
    size_t plen = prefix ? strlen(prefix) : 0;
    if ((st = rd_cat_time_from(cfg->time_from, &src, err)) != RD_OK)
        return st;
    rd_s3_opts o = {
        .endpoint = cfg->endpoint, .region = cfg->region, .path_style = cfg->path_style};
    if ((st = rd_s3_new(&o, &s3, err)) != RD_OK)
        goto out;
    if ((st = rd_s3_list(s3, bucket, prefix, &l, err)) != RD_OK)
        goto out;
    if (l.n > 1)
        qsort(l.items, l.n, sizeof *l.items, key_cmp); /* S3 sorts by UTF-8 bytes too */
    for (size_t i = 0; i < l.n; i++) {
        const rd_s3_object *obj = &l.items[i];
        const char *name = obj->key + plen;
        const char *slash = strchr(name, '/');
        rd_s3_object dirobj;
        char *dirname = NULL;
        if (slash && strcmp(slash, "/toc.dat") == 0 && slash > name) {
            /* NAME/toc.dat: a pg_dump directory-format dump NAME */
            if (!(dirname = strndup(name, (size_t)(slash - name))) ||
                !(dirobj.key = strndup(obj->key, (size_t)(slash - obj->key)))) {
                free(dirname);
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory listing s3://%s", bucket);
                goto out;
            }
            dirobj.size = dir_bytes(&l, dirobj.key);
            dirobj.mtime_ms = obj->mtime_ms;
            if (dirname[0] == '.' || fnmatch(pattern, dirname, 0) != 0) {
                free(dirname);
                free(dirobj.key);
                continue;
            }
            st = make_point(s3, bucket, &l, &dirobj, dirname, src, &pt, err);
            free(dirname);
            free(dirobj.key);
            if (st != RD_OK)
                goto out;
            if ((st = rd_points_push(&pts, &pt, err)) != RD_OK)
                goto out;
            continue;
        }
        /* like a directory: direct children only, no sidecars, no "folder" markers */
        if (!*name || name[0] == '.' || slash || ends_with(name, RD_CAT_SIDECAR_SUFFIX) ||
            fnmatch(pattern, name, 0) != 0)
            continue;
        if ((st = make_point(s3, bucket, &l, obj, name, src, &pt, err)) != RD_OK)
            goto out;
        if ((st = rd_points_push(&pts, &pt, err)) != RD_OK)
            goto out;
    }
    *out = pts;
    pts.items = NULL;
    pts.n = 0;
out:
    rd_point_clear(&pt);
    rd_points_free(&pts);
    rd_s3_objects_free(&l);
    rd_s3_free(s3);
    return st;
}

static rd_status s3_catalog_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    if (!cfg->bucket || !*cfg->bucket)
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.bucket: expected a bucket name");
    return rd_cat_s3_list(cfg, cfg->bucket, cfg->prefix, out, err);
}

const rd_catalog_type rd_catalog_s3 = {
    .name = "s3",
    .list = s3_catalog_list,
};
