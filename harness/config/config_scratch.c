/* config_scratch.c: a target's scratch: its type, the keys each type takes
 * (by engine where they differ) and their defaults, read in the first pass. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/config.h"
#include "restoredrill/strbuf.h"

static const char *const scratch_types[] = {"ephemeral", "server", "exec", NULL};

#define S rd_scratch_cfg
static const rd_cfg_field f_scr_eph[] = {RD_FSKIP("type"),
                                         RD_FLD("run_as", RD_CFG_STRING, S, run_as),
                                         RD_FLD("tcp", RD_CFG_BOOL, S, tcp),
                                         RD_FLD("bin_dir", RD_CFG_STRING, S, bin_dir),
                                         RD_FLD("base_dir", RD_CFG_STRING, S, base_dir),
                                         RD_FLD("timeout", RD_CFG_DURATION, S, timeout),
                                         RD_FSKIP("template"),
                                         RD_FEND};
static const rd_cfg_field f_scr_srv[] = {
    RD_FSKIP("type"),
    RD_FLD("admin_dsn", RD_CFG_REQUIRED, S, admin_dsn),
    RD_FLD("password_env", RD_CFG_ENVNAME, S, password_env),
    RD_FLD("prefix", RD_CFG_STRING, S, prefix),
    RD_FLD("allow_same_server", RD_CFG_BOOL, S, allow_same_server),
    RD_FLD("timeout", RD_CFG_DURATION, S, timeout),
    RD_FEND};
static const rd_cfg_field f_scr_exec[] = {
    RD_FSKIP("type"),
    RD_FLD("create", RD_CFG_COMMAND, S, create),
    RD_FLD("destroy", RD_CFG_COMMAND, S, destroy),
    RD_FLD("allow_same_server", RD_CFG_BOOL, S, allow_same_server),
    RD_FLD("timeout", RD_CFG_DURATION, S, timeout),
    RD_FEND};
/* server for engine dynamodb: a prefixed table on a DynamoDB-compatible endpoint */
static const rd_cfg_field f_scr_dyn_srv[] = {
    RD_FSKIP("type"), RD_FLD("endpoint", RD_CFG_REQUIRED, S, endpoint),
    RD_FLD("prefix", RD_CFG_STRING, S, prefix), RD_FLD("timeout", RD_CFG_DURATION, S, timeout),
    RD_FEND};
/* server for engine s3: a prefix in a bucket of the catalog's endpoint */
static const rd_cfg_field f_scr_s3_srv[] = {
    RD_FSKIP("type"), RD_FLD("bucket", RD_CFG_STRING, S, bucket), /* required: config_s3.c */
    RD_FLD("prefix", RD_CFG_STRING, S, prefix), RD_FLD("timeout", RD_CFG_DURATION, S, timeout),
    RD_FEND};
#undef S
static const rd_cfg_field *const scratch_fields[] = {f_scr_eph, f_scr_srv, f_scr_exec};

static rd_status check_prefix(const cJSON *o, const char *path, const char *prefix, rd_error *err)
{
    int ok = prefix[0] != '\0' && strlen(prefix) <= 32 && !isdigit((unsigned char)prefix[0]);
    for (const char *p = prefix; *p && ok; p++)
        ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
    if (ok)
        return RD_OK;
    return rd_cfg_expected(err, path, "prefix", cJSON_GetObjectItemCaseSensitive(o, "prefix"),
                           "up to 32 lowercase letters, digits and \"_\" (not starting with a "
                           "digit)");
}

rd_status rd_config_parse_scratch(const cJSON *t, const char *tpath, rd_engine engine,
                                  rd_scratch_cfg *s, rd_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.scratch", tpath);
    s->timeout = -1;
    const cJSON *o = NULL;
    rd_status st = rd_cfg_object(t, tpath, "scratch", 0, &o, err);
    if (st == RD_OK)
        st = rd_cfg_enum(o, path, "type", scratch_types, &s->type, err);
    if (st == RD_OK)
        st = rd_config_dupstr(&s->type, engine == RD_ENGINE_S3 ? "server" : "ephemeral", err);
    if (st == RD_OK)
        st = rd_config_read_fields(o, path,
                                   engine == RD_ENGINE_DYNAMODB && strcmp(s->type, "server") == 0
                                       ? f_scr_dyn_srv
                                   : engine == RD_ENGINE_S3 && strcmp(s->type, "server") == 0
                                       ? f_scr_s3_srv
                                       : scratch_fields[rd_config_index_of(scratch_types, s->type)],
                                   s, err);
    if (st == RD_OK && s->prefix)
        st = check_prefix(o, path, s->prefix, err);
    if (st == RD_OK)
        st = rd_config_dupstr(&s->prefix, "rd_scratch_", err);
    if (st == RD_OK && strcmp(s->type, "ephemeral") == 0 && engine != RD_ENGINE_DYNAMODB &&
        engine != RD_ENGINE_S3)
        st = rd_config_dupstr(&s->run_as, engine == RD_ENGINE_PG ? "postgres" : "mysql", err);
    int use_template = 1;
    if (st == RD_OK && strcmp(s->type, "ephemeral") == 0 &&
        (st = rd_cfg_bool(o, path, "template", &use_template, err)) == RD_OK)
        s->no_template = !use_template;
    return st;
}
