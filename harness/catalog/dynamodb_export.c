/* dynamodb_export.c: the "dynamodb-export" catalog: DynamoDB exports in the
 * AWSDynamoDB/<export id>/ layout found below `path` (one export a recovery
 * point, created at its exportTime), and scan files ({"Items": [...]},
 * maybe .gz and .gpg) directly in `path` (created at the timestamp in their
 * name, else their mtime). */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "restoredrill/catalog.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/fs.h"
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
    if (rd_dyn_export_summary(dir, &ms, &items, &ignore) == RD_OK)
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

static rd_status list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    const char *base = strrchr(cfg->path, '/');
    return walk(cfg->path, base && base[1] ? base + 1 : cfg->path, 0, cfg, out, err);
}

const rd_catalog_type rd_catalog_dynamodb_export = {.name = "dynamodb-export", .list = list};
