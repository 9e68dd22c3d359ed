/* mariabackup_s3.c: a mariabackup catalog whose base_dir / binlog_dir are
 * s3:// locations: the restore fetches a backup's directory and the binary
 * logs of its replay range through these (the catalog itself reads the small
 * files and scans the binlogs through rd_loc in mariabackup.c). */
#include <stdlib.h>
#include <string.h>

#include "restoredrill/fs.h"
#include "restoredrill/loc.h"
#include "restoredrill/log.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/s3.h"

static rd_status open_loc(const rd_catalog_cfg *cfg, int binlogs, rd_loc **out, rd_error *err)
{
    rd_s3_opts o = {
        .endpoint = cfg->endpoint, .region = cfg->region, .path_style = cfg->path_style};
    return rd_loc_open(binlogs ? cfg->binlog_dir : cfg->base_dir,
                       binlogs ? "catalog.binlog_dir" : "catalog.base_dir", &o, out, err);
}

rd_status rd_mb_fetch_backup(const rd_catalog_cfg *cfg, const rd_mb_backup *b, const char *dst,
                             rd_error *err)
{
    rd_loc *l = NULL;
    uint64_t bytes = 0;
    rd_status st = open_loc(cfg, 0, &l, err);
    if (st == RD_OK)
        st = rd_loc_fetch_tree(l, b->name, dst, &bytes, err);
    if (st == RD_OK)
        rd_log_info("restore: fetched %s (%llu bytes) into %s", b->dir, (unsigned long long)bytes,
                    dst);
    rd_loc_free(l);
    return st;
}

rd_status rd_mb_read_file(const rd_catalog_cfg *cfg, const rd_mb_backup *b, const char *file,
                          size_t max, char **text, rd_error *err)
{
    rd_loc *l = NULL;
    char *rel = rd_fs_join(b->name, file);
    rd_status st = rel ? open_loc(cfg, 0, &l, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK)
        st = rd_loc_read(l, rel, max, text, NULL, err);
    free(rel);
    rd_loc_free(l);
    return st;
}

rd_status rd_mb_fetch_binlogs(const rd_catalog_cfg *cfg, rd_mb_archive *a, size_t first,
                              size_t last, const char *dir, rd_error *err)
{
    rd_loc *l = NULL;
    uint64_t bytes = 0;
    rd_status st = open_loc(cfg, 1, &l, err);
    if (st == RD_OK)
        st = rd_fs_mkdir_p(dir, 0700, err);
    for (size_t i = first; st == RD_OK && i <= last && i < a->nbinlogs; i++) {
        rd_mb_binlog *b = &a->binlogs[i];
        char *dst = rd_fs_join(dir, b->name);
        st = dst ? rd_loc_fetch(l, b->name, dst, 0, NULL, err)
                 : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK) {
            free(b->path);
            b->path = dst;
            bytes += (uint64_t)b->bytes;
        } else {
            free(dst);
        }
    }
    if (st == RD_OK && first <= last && last < a->nbinlogs)
        rd_log_info("restore: fetched %s .. %s (%llu bytes) from %s into %s",
                    a->binlogs[first].name, a->binlogs[last].name, (unsigned long long)bytes,
                    cfg->binlog_dir, dir);
    rd_loc_free(l);
    return st;
}
