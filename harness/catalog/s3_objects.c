/* s3_objects.c: the "s3-objects" catalog of engine s3 (docs/s3-objects.md).
 * Backup prefixes: every object under bucket/prefix is listed once and
 * grouped by the name up to the next '/': each NAME/ whose NAME matches the
 * pattern is one recovery point (location s3://bucket/prefixNAME/, bytes the
 * sum, time from a timestamp in NAME, else the newest LastModified).
 * A versioned bucket ("versions": true): one point whose window is the
 * versioning history under the prefix (oldest to newest LastModified of a
 * version or delete marker), sampled with pitr / pitr-random like an archive. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_int.h"
#include "restoredrill/s3set.h"

static rd_status new_client(const rd_catalog_cfg *cfg, rd_s3 **s3, rd_error *err)
{
    rd_s3_opts o = {
        .endpoint = cfg->endpoint, .region = cfg->region, .path_style = cfg->path_style};
    return rd_s3_new(&o, s3, err);
}

static rd_status list_versions(const rd_catalog_cfg *cfg, rd_s3 *s3, rd_points *out, rd_error *err)
{
    rd_s3_objects v = {NULL, 0};
    rd_points pts = {NULL, 0, NULL};
    rd_point pt;
    int64_t lo = 0, hi = 0;
    const char *prefix = cfg->prefix ? cfg->prefix : "";
    memset(&pt, 0, sizeof pt);
    rd_status st = rd_s3set_list_versions(s3, cfg->bucket, prefix, &v, err);
    if (st != RD_OK)
        goto out;
    rd_s3set_versions_window(&v, &lo, &hi);
    if (!(pts.archive = calloc(1, sizeof *pts.archive))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    pts.archive->files = v.n;
    if (v.n == 0) /* an empty window: nothing to sample */
        goto done;
    pts.archive->start_ms = lo;
    pts.archive->end_ms = hi;
    pts.archive->newest_ms = hi;
    pts.archive->first = rd_strdup("oldest version");
    pts.archive->last = rd_strdup("newest version");
    pt.id = rd_asprintf("s3://%s/%s (versions)", cfg->bucket, prefix);
    pt.location = rd_asprintf("s3://%s/%s", cfg->bucket, prefix);
    pt.time_basis = rd_strdup("catalog");
    pt.format = rd_strdup("s3-versions");
    pt.base = rd_strdup("versions");
    pt.created_ms = lo;
    pt.start_ms = lo;
    pt.reach_ms = hi;
    pt.bytes = -1;
    if (!pt.id || !pt.location || !pt.time_basis || !pt.format || !pt.base || !pts.archive->first ||
        !pts.archive->last) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_points_push(&pts, &pt, err)) != RD_OK)
        goto out;
done:
    *out = pts;
    memset(&pts, 0, sizeof pts);
out:
    rd_point_clear(&pt);
    rd_points_free(&pts);
    rd_s3_objects_free(&v);
    return st;
}

static rd_status list_prefixes(const rd_catalog_cfg *cfg, rd_s3 *s3, time_src src, rd_points *out,
                               rd_error *err)
{
    rd_s3set all = {NULL, 0};
    rd_points pts = {NULL, 0, NULL};
    rd_point pt;
    const char *prefix = cfg->prefix ? cfg->prefix : "";
    const char *pattern = cfg->pattern && *cfg->pattern ? cfg->pattern : "*";
    memset(&pt, 0, sizeof pt);
    rd_status st = rd_s3set_list(s3, cfg->bucket, prefix, &all, err);
    /* sorted by key: the objects of one NAME/ are consecutive */
    for (size_t i = 0; st == RD_OK && i < all.n;) {
        const char *k = all.items[i].key, *slash = strchr(k, '/');
        if (!slash || slash == k) {
            i++;
            continue;
        }
        size_t nl = (size_t)(slash - k);
        int64_t bytes = 0, newest = 0;
        size_t j = i;
        for (; j < all.n && strncmp(all.items[j].key, k, nl + 1) == 0; j++) {
            bytes += all.items[j].size;
            if (all.items[j].mtime_ms > newest)
                newest = all.items[j].mtime_ms;
        }
        char *name = strndup(k, nl);
        if (!name) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        if (fnmatch(pattern, name, 0) == 0) {
            pt.id = name;
            name = NULL;
            pt.location = rd_asprintf("s3://%s/%s%s/", cfg->bucket, prefix, pt.id);
            pt.format = rd_strdup("s3-objects");
            pt.bytes = bytes;
            if (!pt.location || !pt.format)
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            if (st == RD_OK)
                st = rd_cat_choose_time(src, 0, 0, pt.id, newest, &pt, err);
            if (st == RD_OK)
                st = rd_points_push(&pts, &pt, err);
            rd_point_clear(&pt);
        }
        free(name);
        i = j;
    }
    if (st == RD_OK) {
        rd_points_sort(&pts);
        *out = pts;
        memset(&pts, 0, sizeof pts);
    }
    rd_points_free(&pts);
    rd_s3set_free(&all);
    return st;
}

static rd_status s3obj_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    rd_s3 *s3 = NULL;
    time_src src = SRC_AUTO;
    rd_status st = rd_cat_time_from(cfg->time_from, &src, err);
    if (st == RD_OK && src == SRC_MANIFEST)
        st =
            RD_ERR(err, RD_ERR_CONFIG,
                   "time_from: \"manifest\" does not apply to object sets (\"name\" or \"mtime\")");
    if (st == RD_OK)
        st = new_client(cfg, &s3, err);
    if (st == RD_OK)
        st = cfg->versions ? list_versions(cfg, s3, out, err)
                           : list_prefixes(cfg, s3, src, out, err);
    rd_s3_free(s3);
    return st;
}

const rd_catalog_type rd_catalog_s3_objects = {
    .name = "s3-objects",
    .list = s3obj_list,
};
