/* dynamodb_export.c: the "dynamodb-export" catalog: DynamoDB exports in the
 * AWSDynamoDB/<export id>/ layout found below `path` (one export a recovery
 * point, created at its exportTime), and scan files ({"Items": [...]},
 * maybe .gz and .gpg) directly in `path` (created at the timestamp in their
 * name, else their mtime). With `bucket`, the same below s3://bucket/prefix
 * (one listing; an export's files are then read by their keys). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "restoredrill/catalog.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

#define MAX_DEPTH 4

static rd_status push(rd_points *out, const char *id, const char *location, int64_t ms,
                      const char *basis, int64_t bytes, const char *format, rd_error *err)
{
    rd_point pt = {0};
    pt.bytes = bytes;
    pt.created_ms = ms;
    if (!(pt.id = rd_strdup(id)) || !(pt.location = rd_strdup(location)) ||
        !(pt.time_basis = rd_strdup(basis)) || !(pt.format = rd_strdup(format))) {
        rd_point_clear(&pt);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    rd_status st = rd_points_push(out, &pt, err);
    if (st != RD_OK)
        rd_point_clear(&pt);
    return st;
}

/* An export whose summary cannot be read is still listed (at its mtime):
 * verifying it fails the drill with the reason. */
static rd_status export_point(const char *dir, const char *id, rd_points *out, rd_error *err)
{
    int64_t ms = 0, items = 0;
    rd_error ignore;
    struct stat sb;
    if (rd_dyn_export_summary(dir, NULL, &ms, &items, &ignore) == RD_OK)
        return push(out, id, dir, ms, "manifest", -1, "dynamodb-export", err);
    ms = stat(dir, &sb) == 0 ? (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000 : 0;
    return push(out, id, dir, ms, "mtime", -1, "dynamodb-export", err);
}

static int scan_name(const char *name, const char *pattern)
{
    return strstr(name, ".json") && fnmatch(pattern ? pattern : "*", name, 0) == 0;
}

/* Directories below dir up to MAX_DEPTH; one holding manifest-summary.json
 * is an export (not descended into). Files at depth 0 are scan files. */
static rd_status walk(const char *dir, const char *name, int depth, const rd_catalog_cfg *cfg,
                      rd_points *out, rd_error *err)
{
    if (rd_dyn_kind_of(dir) == RD_DYN_EXPORT)
        return export_point(dir, name, out, err);
    DIR *d = opendir(dir);
    rd_status st = RD_OK;
    if (!d)
        return RD_ERR_ERRNO(err, errno == ENOENT ? RD_ERR_NOTFOUND : RD_ERR_IO, "cannot list %s",
                            dir);
    for (struct dirent *e; st == RD_OK && (e = readdir(d));) {
        struct stat sb;
        if (e->d_name[0] == '.')
            continue;
        char *p = rd_fs_join(dir, e->d_name);
        if (!p) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        if (stat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode) && depth < MAX_DEPTH) {
                st = walk(p, e->d_name, depth + 1, cfg, out, err);
            } else if (S_ISREG(sb.st_mode) && depth == 0 && scan_name(e->d_name, cfg->pattern)) {
                int64_t ms = 0;
                const char *basis = "name";
                if (!rd_catalog_time_from_name(e->d_name, &ms)) {
                    ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
                    basis = "mtime";
                }
                st = push(out, e->d_name, p, ms, basis, (int64_t)sb.st_size, "dynamodb-scan", err);
            }
        }
        free(p);
    }
    closedir(d);
    return st;
}

/* An export in S3: the key of its manifest-summary.json is
 * PFX/AWSDynamoDB/<id>/manifest-summary.json. An unreadable summary lists
 * the export at the summary's LastModified (verification fails it). */
static rd_status s3_export_point(const rd_catalog_cfg *cfg, const rd_s3_opts *o,
                                 const rd_s3_object *obj, rd_points *out, rd_error *err)
{
    const char *key = obj->key, *suffix = "/manifest-summary.json";
    size_t kl = strlen(key), sl = strlen(suffix);
    char *dir = rd_asprintf("s3://%s/%.*s", cfg->bucket, (int)(kl - sl), key);
    if (!dir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    int64_t ms = 0, items = 0;
    rd_error why;
    rd_status st;
    const char *id = strrchr(dir, '/') + 1;
    if (rd_dyn_export_summary(dir, o, &ms, &items, &why) == RD_OK) {
        st = push(out, id, dir, ms, "manifest", -1, "dynamodb-export", err);
    } else {
        rd_log_warn("%s: %s", dir, why.msg);
        st = push(out, id, dir, obj->mtime_ms, "mtime", -1, "dynamodb-export", err);
    }
    free(dir);
    return st;
}

static int is_summary_key(const char *key)
{
    const char *suffix = "/manifest-summary.json", *marker = "AWSDynamoDB/";
    size_t kl = strlen(key), sl = strlen(suffix), ml = strlen(marker);
    if (kl <= sl || strcmp(key + kl - sl, suffix) != 0)
        return 0;
    /* the segment before <id> is AWSDynamoDB */
    const char *id_end = key + kl - sl, *id = id_end;
    while (id > key && id[-1] != '/')
        id--;
    return id < id_end && (size_t)(id - key) >= ml && memcmp(id - ml, marker, ml) == 0 &&
           (id - ml == key || id[-ml - 1] == '/');
}

static rd_status list_s3(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    rd_s3_opts o = {
        .endpoint = cfg->endpoint, .region = cfg->region, .path_style = cfg->path_style};
    rd_s3 *s3 = NULL;
    rd_s3_objects l = {NULL, 0};
    const char *prefix = cfg->prefix ? cfg->prefix : "";
    rd_status st = rd_s3_new(&o, &s3, err);
    if (st == RD_OK)
        st = rd_s3_list(s3, cfg->bucket, *prefix ? prefix : NULL, &l, err);
    for (size_t i = 0; st == RD_OK && i < l.n; i++) {
        const rd_s3_object *obj = &l.items[i];
        const char *rest = obj->key + strlen(prefix);
        rest += strspn(rest, "/");
        if (is_summary_key(obj->key)) {
            st = s3_export_point(cfg, &o, obj, out, err);
        } else if (!strchr(rest, '/') && scan_name(rest, cfg->pattern)) {
            /* a scan file directly under the prefix */
            int64_t ms = 0;
            const char *basis = "name";
            char *loc = rd_asprintf("s3://%s/%s", cfg->bucket, obj->key);
            if (!rd_catalog_time_from_name(rest, &ms)) {
                ms = obj->mtime_ms;
                basis = "mtime";
            }
            st = loc ? push(out, rest, loc, ms, basis, obj->size, "dynamodb-scan", err)
                     : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            free(loc);
        }
    }
    rd_s3_objects_free(&l);
    rd_s3_free(s3);
    return st;
}

static rd_status list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    if (cfg->bucket)
        return list_s3(cfg, out, err);
    const char *base = strrchr(cfg->path, '/');
    return walk(cfg->path, base && base[1] ? base + 1 : cfg->path, 0, cfg, out, err);
}

const rd_catalog_type rd_catalog_dynamodb_export = {.name = "dynamodb-export", .list = list};
