/* config_catalog.c: a target's catalog: its type and the keys each type
 * takes (one field table a type), read in the first pass. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/config.h"
#include "restoredrill/strbuf.h"

static const char *const catalog_types[] = {"dir",         "s3",         "exec",
                                            "pg-archive",  "pgbackrest", "dynamodb-export",
                                            "mariabackup", "s3-objects", NULL};
static const char *const time_from[] = {"manifest", "name", "mtime", NULL};

#define C rd_catalog_cfg
/* the S3 options of a catalog whose files may be in S3 (in this order) */
#define S3_OPTS                                                                                    \
    RD_FLD("endpoint", RD_CFG_STRING, C, endpoint), RD_FLD("region", RD_CFG_STRING, C, region),    \
        RD_FLD("path_style", RD_CFG_BOOL, C, path_style)
/* path may be s3://bucket/prefix, with the s3 options */
static const rd_cfg_field f_cat_dir[] = {RD_FSKIP("type"),
                                         RD_FLD("path", RD_CFG_REQUIRED, C, path),
                                         RD_FLD("pattern", RD_CFG_STRING, C, pattern),
                                         RD_FENUM("time_from", C, time_from, time_from),
                                         RD_FLD("per_database", RD_CFG_BOOL, C, per_database),
                                         S3_OPTS,
                                         RD_FEND};
static const rd_cfg_field f_cat_s3[] = {RD_FSKIP("type"),
                                        RD_FLD("endpoint", RD_CFG_STRING, C, endpoint),
                                        RD_FLD("bucket", RD_CFG_REQUIRED, C, bucket),
                                        RD_FLD("prefix", RD_CFG_STRING, C, prefix),
                                        RD_FLD("pattern", RD_CFG_STRING, C, pattern),
                                        RD_FENUM("time_from", C, time_from, time_from),
                                        RD_FLD("region", RD_CFG_STRING, C, region),
                                        RD_FLD("path_style", RD_CFG_BOOL, C, path_style),
                                        RD_FEND};
static const rd_cfg_field f_cat_exec[] = {RD_FSKIP("type"),
                                          RD_FLD("command", RD_CFG_COMMAND, C, command),
                                          RD_FLD("timeout", RD_CFG_DURATION, C, timeout), RD_FEND};
static const rd_cfg_field f_cat_pga[] = {
    RD_FSKIP("type"), RD_FLD("base_dir", RD_CFG_REQUIRED, C, base_dir),
    RD_FLD("wal_dir", RD_CFG_REQUIRED, C, wal_dir), S3_OPTS, RD_FEND};
static const rd_cfg_field f_cat_pgbr[] = {
    RD_FSKIP("type"), RD_FLD("stanza", RD_CFG_REQUIRED, C, stanza),
    RD_FLD("config", RD_CFG_STRING, C, config), RD_FINT("repo", C, repo, 1, 256), RD_FEND};
/* path, or bucket/prefix with the s3 options (one of the two, checked below) */
static const rd_cfg_field f_cat_dyn[] = {RD_FSKIP("type"),
                                         RD_FLD("path", RD_CFG_STRING, C, path),
                                         RD_FLD("endpoint", RD_CFG_STRING, C, endpoint),
                                         RD_FLD("bucket", RD_CFG_STRING, C, bucket),
                                         RD_FLD("prefix", RD_CFG_STRING, C, prefix),
                                         RD_FLD("region", RD_CFG_STRING, C, region),
                                         RD_FLD("path_style", RD_CFG_BOOL, C, path_style),
                                         RD_FEND};
static const rd_cfg_field f_cat_mb[] = {RD_FSKIP("type"),
                                        RD_FLD("base_dir", RD_CFG_REQUIRED, C, base_dir),
                                        RD_FLD("binlog_dir", RD_CFG_REQUIRED, C, binlog_dir),
                                        RD_FLD("timezone", RD_CFG_STRING, C, timezone),
                                        S3_OPTS,
                                        RD_FEND};
/* engine s3 (config_s3.c checks the rest) */
static const rd_cfg_field f_cat_s3obj[] = {RD_FSKIP("type"),
                                           RD_FLD("bucket", RD_CFG_REQUIRED, C, bucket),
                                           RD_FLD("prefix", RD_CFG_STRING, C, prefix),
                                           RD_FLD("pattern", RD_CFG_STRING, C, pattern),
                                           RD_FLD("versions", RD_CFG_BOOL, C, versions),
                                           RD_FENUM("time_from", C, time_from, time_from),
                                           S3_OPTS,
                                           RD_FEND};
#undef S3_OPTS
#undef C
/* same order as catalog_types */
static const rd_cfg_field *const catalog_fields[] = {
    f_cat_dir, f_cat_s3, f_cat_exec, f_cat_pga, f_cat_pgbr, f_cat_dyn, f_cat_mb, f_cat_s3obj};

size_t rd_config_index_of(const char *const *list, const char *s)
{
    size_t i = 0;
    while (list[i] && strcmp(list[i], s) != 0)
        i++;
    return i;
}

rd_status rd_config_parse_catalog(const cJSON *t, const char *tpath, rd_catalog_cfg *c,
                                  rd_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.catalog", tpath);
    const cJSON *o = NULL;
    c->timeout = 60;
    c->path_style = -1;
    rd_status st = rd_cfg_object(t, tpath, "catalog", 1, &o, err);
    if (st == RD_OK && !cJSON_GetObjectItemCaseSensitive(o, "type"))
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.type: required key is missing", path);
    if (st == RD_OK)
        st = rd_cfg_enum(o, path, "type", catalog_types, &c->type, err);
    if (st == RD_OK)
        st = rd_config_read_fields(
            o, path, catalog_fields[rd_config_index_of(catalog_types, c->type)], c, err);
    if (st == RD_OK && strcmp(c->type, "dynamodb-export") == 0) {
        if (c->bucket && c->path)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.path: give either \"path\" or \"bucket\" (exports in S3), not both",
                        path);
        else if (c->bucket && !*c->bucket)
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.bucket: expected a bucket name, got \"\"", path);
        else if (!c->bucket && (!c->path || !*c->path))
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.path: required key is missing (or \"bucket\" for exports in S3)", path);
        else if (!c->bucket && (c->prefix || c->endpoint || c->region || c->path_style != -1))
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.%s: only used with \"bucket\"", path,
                        c->prefix     ? "prefix"
                        : c->endpoint ? "endpoint"
                        : c->region   ? "region"
                                      : "path_style");
    }
    if (st == RD_OK)
        st = rd_config_dupstr(&c->pattern, "*", err);
    /* per-database files are grouped by the time in their names */
    if (st == RD_OK && c->per_database)
        st = rd_config_dupstr(&c->time_from, "name", err);
    return st;
}

/* Catalog types that list physical points with an archive (PITR). */
int rd_config_physical_catalog(const char *type)
{
    return strcmp(type, "pg-archive") == 0 || strcmp(type, "pgbackrest") == 0 ||
           strcmp(type, "mariabackup") == 0;
}
