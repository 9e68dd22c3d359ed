/* config_target.c: one target of the configuration file: catalog, sample,
 * scratch, restore, reference, timeouts and checks (first pass), then its
 * drivers and check parameters (second pass). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/strbuf.h"

static const char *const catalog_types[] = {"dir",         "s3",         "exec",
                                            "pg-archive",  "pgbackrest", "dynamodb-export",
                                            "mariabackup", "s3-objects", NULL};
static const char *const scratch_types[] = {"ephemeral", "server", "exec", NULL};
static const char *const check_types[] = {
    "rowcount",  "integrity", "checksum", "diff",           "schema", "sql",
    "freshness", "smoke",     "exec",     "page_checksums", NULL};

/* `PATH.type: catalog type "s3" is not implemented yet` or engine mismatch */
static rd_status driver_missing(const char *path, const char *what, const char *type, rd_error *err)
{
    return RD_ERR(err, RD_ERR_CONFIG, "%s.type: %s type \"%s\" is not implemented yet", path, what,
                  type);
}

static rd_status engine_unsupported(const char *path, const char *what, const char *type,
                                    rd_engine e, rd_error *err)
{
    return RD_ERR(err, RD_ERR_CONFIG, "%s.type: %s type \"%s\" does not support engine \"%s\"",
                  path, what, type, rd_engine_name(e));
}

/* The object at KEY of t (optional unless required) read through fields. */
static rd_status read_section(const cJSON *t, const char *tpath, const char *key, int required,
                              const rd_cfg_field *fields, void *base, const cJSON **obj,
                              rd_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.%s", tpath, key);
    const cJSON *o = NULL;
    rd_status st = rd_cfg_object(t, tpath, key, required, &o, err);
    if (st == RD_OK)
        st = rd_config_read_fields(o, path, fields, base, err);
    if (obj)
        *obj = o;
    return st;
}

static const char *const time_from[] = {"manifest", "name", "mtime", NULL};
static const char *const strategies[] = {"latest",      "random", "oldest",         "id",
                                         "pitr-random", "pitr",   "least-verified", NULL};
static const char *const roles[] = {"no-owner", "create", "strict", NULL};
static const char *const reads[] = {"sections", "whole", NULL};

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

static const rd_cfg_field f_sample[] = {RD_FENUM("strategy", rd_sample_cfg, strategy, strategies),
                                        RD_FLD("window", RD_CFG_DURATION, rd_sample_cfg, window),
                                        RD_FLD("max_age", RD_CFG_DURATION, rd_sample_cfg, max_age),
                                        RD_FLD("id", RD_CFG_STRING, rd_sample_cfg, id),
                                        RD_FLD("time", RD_CFG_STRING, rd_sample_cfg, time),
                                        RD_FINT("databases", rd_sample_cfg, databases, 0, 100000),
                                        RD_FEND};
static const rd_cfg_field f_restore[] = {
    RD_FINT("jobs", rd_restore_cfg, jobs, 0, 64),
    RD_FINT("split_buffer_mb", rd_restore_cfg, split_buffer_mb, 0, 65536),
    RD_FLD("defer_indexes", RD_CFG_BOOL, rd_restore_cfg, defer_indexes),
    RD_FLD("timeout", RD_CFG_DURATION, rd_restore_cfg, timeout),
    RD_FENUM("roles", rd_restore_cfg, roles, roles),
    RD_FENUM("read", rd_restore_cfg, read, reads),
    RD_FLD("decrypt", RD_CFG_LIST, rd_restore_cfg, decrypt),
    RD_FLD("extra_args", RD_CFG_LIST, rd_restore_cfg, extra_args),
    RD_FLD("verify_manifest", RD_CFG_BOOL, rd_restore_cfg, verify_manifest),
    RD_FEND};
static const rd_cfg_field f_reference[] = {
    RD_FLD("manifest", RD_CFG_STRING, rd_reference_cfg, manifest),
    RD_FLD("dsn", RD_CFG_STRING, rd_reference_cfg, dsn),
    RD_FLD("password_env", RD_CFG_ENVNAME, rd_reference_cfg, password_env),
    RD_FLD("listing", RD_CFG_STRING, rd_reference_cfg, listing),
    RD_FLD("description", RD_CFG_STRING, rd_reference_cfg, description),
    RD_FEND};
static const rd_cfg_field f_recovery[] = {
    RD_FLD("timeout", RD_CFG_DURATION, rd_recovery_cfg, timeout),
    RD_FLD("tolerance", RD_CFG_DURATION, rd_recovery_cfg, tolerance),
    RD_FLD("settings", RD_CFG_MAP, rd_recovery_cfg, settings), RD_FEND};
static const rd_cfg_field f_objectives[] = {RD_FLD("rto", RD_CFG_DURATION, rd_target_cfg, rto),
                                            RD_FLD("rpo", RD_CFG_DURATION, rd_target_cfg, rpo),
                                            RD_FEND};

/* timeouts.provision / timeouts.restore may also be given as scratch.timeout
 * and restore.timeout: read into a scratch struct, then merged. */
typedef struct phase_timeouts {
    double sample, fetch, provision, restore, verify, teardown;
} phase_timeouts;
static const rd_cfg_field f_timeouts[] = {
    RD_FLD("sample", RD_CFG_DURATION, phase_timeouts, sample),
    RD_FLD("fetch", RD_CFG_DURATION, phase_timeouts, fetch),
    RD_FLD("provision", RD_CFG_DURATION, phase_timeouts, provision),
    RD_FLD("restore", RD_CFG_DURATION, phase_timeouts, restore),
    RD_FLD("verify", RD_CFG_DURATION, phase_timeouts, verify),
    RD_FLD("teardown", RD_CFG_DURATION, phase_timeouts, teardown),
    RD_FEND};

static size_t index_of(const char *const *list, const char *s)
{
    size_t i = 0;
    while (list[i] && strcmp(list[i], s) != 0)
        i++;
    return i;
}

static rd_status parse_catalog(const cJSON *t, const char *tpath, rd_catalog_cfg *c, rd_error *err)
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
        st = rd_config_read_fields(o, path, catalog_fields[index_of(catalog_types, c->type)], c,
                                   err);
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

/* engine dynamodb: a dynamodb-export catalog and a key of one or two
 * attribute names; the key and that catalog belong to dynamodb only. */
static rd_status check_dynamodb(const cJSON *t, const char *tpath, rd_target_cfg *tc, rd_error *err)
{
    int dyn = tc->engine == RD_ENGINE_DYNAMODB;
    int dyn_catalog = tc->catalog.type && strcmp(tc->catalog.type, "dynamodb-export") == 0;
    rd_status st = RD_OK;
    if (dyn) {
        /* without `key`, the key schema comes from reference.description */
        st = rd_cfg_strlist(t, tpath, "key", 0, &tc->key, err);
        if (st == RD_OK && tc->reference.description && !*tc->reference.description)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.reference.description: expected a file path, got \"\"", tpath);
        if (st == RD_OK && (tc->key.n > 2 || (tc->key.n < 1 && !tc->reference.description)))
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.key: expected the table's key attributes, [\"partition\"] or "
                        "[\"partition\", \"sort\"]%s",
                        tpath,
                        tc->key.n ? ", got more than two"
                                  : " (required for dynamodb without reference.description)");
        if (st == RD_OK && tc->catalog.type && !dyn_catalog)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.catalog.type: engine dynamodb needs a catalog of type "
                        "\"dynamodb-export\", got \"%s\"",
                        tpath, tc->catalog.type);
        if (st == RD_OK && tc->databases.n)
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.databases: not supported for dynamodb", tpath);
        if (st == RD_OK && tc->reference.dsn)
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.reference.dsn: not supported for dynamodb", tpath);
        /* keys that mean nothing for dynamodb are refused, never ignored */
        static const struct {
            const char *section, *key;
        } unused[] = {{"reference", "manifest"}, {"restore", "roles"},    {"restore", "extra_args"},
                      {"restore", "read"},       {"scratch", "tcp"},      {"scratch", "run_as"},
                      {"scratch", "base_dir"},   {"scratch", "template"}, {"sample", "databases"}};
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(t, "keep_scratch");
        if (st == RD_OK && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "negative_control")))
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.negative_control: not supported for dynamodb (not implemented yet)",
                        tpath);
        if (st == RD_OK && cJSON_IsString(ks) && strcmp(ks->valuestring, "never") != 0)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.keep_scratch: not supported for dynamodb (not implemented yet)", tpath);
        for (size_t i = 0; st == RD_OK && i < sizeof unused / sizeof unused[0]; i++) {
            const cJSON *sec = cJSON_GetObjectItemCaseSensitive(t, unused[i].section);
            if (cJSON_IsObject(sec) && cJSON_GetObjectItemCaseSensitive(sec, unused[i].key))
                st = RD_ERR(err, RD_ERR_CONFIG, "%s.%s.%s: not supported for dynamodb", tpath,
                            unused[i].section, unused[i].key);
        }
    } else {
        if (cJSON_GetObjectItemCaseSensitive(t, "key"))
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.key: only used with engine \"dynamodb\"", tpath);
        else if (tc->reference.description && tc->engine)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.reference.description: only used with engine \"dynamodb\"", tpath);
        else if (dyn_catalog && tc->engine)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.catalog.type: catalog type \"dynamodb-export\" needs engine "
                        "\"dynamodb\"",
                        tpath);
    }
    return st;
}

/* Catalog types that list physical points with an archive (PITR). */
static int physical_catalog(const char *type)
{
    return strcmp(type, "pg-archive") == 0 || strcmp(type, "pgbackrest") == 0 ||
           strcmp(type, "mariabackup") == 0;
}

static rd_status check_sample(const char *tpath, const char *catalog_type, const rd_sample_cfg *s,
                              rd_error *err)
{
    int by_id = strcmp(s->strategy, "id") == 0;
    int pitr = strcmp(s->strategy, "pitr") == 0;
    if (by_id && (!s->id || !*s->id))
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.id: required key is missing (strategy \"id\")",
                      tpath);
    if (!by_id && s->id)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.id: only used with strategy \"id\"", tpath);
    if (pitr && (!s->time || !*s->time))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.time: required key is missing (strategy \"pitr\": an RFC 3339 "
                      "time such as \"2026-01-30T15:00:00Z\", or \"latest\")",
                      tpath);
    if (!pitr && s->time)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.time: only used with strategy \"pitr\"",
                      tpath);
    if (pitr && strcmp(s->time, "latest") != 0) {
        int64_t ms;
        rd_error e2;
        if (rd_time_parse(s->time, &ms, &e2) != RD_OK)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.sample.time: expected an RFC 3339 time with a zone such as "
                          "\"2026-01-30T15:00:00Z\" or \"2026-01-30T16:00:00.250+01:00\", or "
                          "\"latest\", got \"%.64s\"",
                          tpath, s->time);
    }
    if ((pitr || strcmp(s->strategy, "pitr-random") == 0) && !physical_catalog(catalog_type) &&
        strcmp(catalog_type, "s3-objects") != 0) /* versioned buckets: config_s3.c */
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.strategy: \"%s\" needs a catalog with a WAL or binlog archive "
                      "(\"pg-archive\", \"pgbackrest\" or \"mariabackup\"), not \"%s\"",
                      tpath, s->strategy, catalog_type);
    return RD_OK;
}

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

static rd_status parse_scratch(const cJSON *t, const char *tpath, rd_engine engine,
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
                                       : scratch_fields[index_of(scratch_types, s->type)],
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

/* Per-phase timeout given in two places: both must agree. */
static rd_status merge_timeout(const char *tpath, const char *key, const char *alt, double given,
                               double *slot, double def, rd_error *err)
{
    if (given >= 0 && *slot >= 0 && given != *slot)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.timeouts.%s: conflicts with %s.%s (give one of them)",
                      tpath, key, tpath, alt);
    *slot = *slot >= 0 ? *slot : given >= 0 ? given : def;
    return RD_OK;
}

static rd_status parse_timeouts(const cJSON *t, const char *tpath, rd_target_cfg *tc, rd_error *err)
{
    phase_timeouts pt = {RD_TIMEOUT_SAMPLE_DEFAULT, RD_TIMEOUT_FETCH_DEFAULT,   -1, -1,
                         RD_TIMEOUT_VERIFY_DEFAULT, RD_TIMEOUT_TEARDOWN_DEFAULT};
    rd_status st = read_section(t, tpath, "timeouts", 0, f_timeouts, &pt, NULL, err);
    if (st == RD_OK)
        st = merge_timeout(tpath, "provision", "scratch.timeout", pt.provision,
                           &tc->scratch.timeout, RD_TIMEOUT_PROVISION_DEFAULT, err);
    if (st == RD_OK)
        st = merge_timeout(tpath, "restore", "restore.timeout", pt.restore, &tc->restore.timeout,
                           RD_TIMEOUT_RESTORE_DEFAULT, err);
    tc->timeout_sample = pt.sample;
    tc->timeout_fetch = pt.fetch;
    tc->timeout_provision = tc->scratch.timeout;
    tc->timeout_verify = pt.verify;
    tc->timeout_teardown = pt.teardown;
    return st;
}

static rd_status parse_check(const cJSON *o, const char *path, rd_check_cfg *c, rd_error *err)
{
    rd_status st = RD_OK;
    c->timeout = RD_CHECK_TIMEOUT_DEFAULT;
    c->params = o;
    c->path = rd_strdup(path);
    if (!c->path)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (!cJSON_IsObject(o))
        return rd_cfg_expected_at(err, path, o, "an object");
    st = rd_cfg_string(o, path, "type", 1, &c->type, err);
    if (st == RD_OK) {
        free(c->type);
        c->type = NULL;
        st = rd_cfg_enum(o, path, "type", check_types, &c->type, err);
    }
    if (st == RD_OK)
        st = rd_cfg_string(o, path, "name", 0, &c->name, err);
    if (st == RD_OK)
        st = rd_cfg_duration(o, path, "timeout", &c->timeout, err);
    return st;
}

static rd_status parse_checks(const cJSON *t, rd_target_cfg *tc, rd_cfg_errors *errs)
{
    rd_error e;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(t, "checks");
    if (!arr)
        return RD_OK;
    tc->checks_given = 1;
    if (!cJSON_IsArray(arr))
        return rd_cfg_errors_add(
            errs, rd_cfg_expected(&e, tc->path, "checks", arr, "an array of checks"), &e);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return RD_OK;
    tc->checks = calloc(n, sizeof *tc->checks);
    if (!tc->checks)
        return rd_cfg_errors_add(errs, RD_ERR(&e, RD_ERR_NOMEM, "out of memory"), &e);
    size_t i = 0;
    rd_status worst = RD_OK;
    for (const cJSON *o = arr->child; o; o = o->next, i++) {
        char path[64];
        snprintf(path, sizeof path, "%s.checks[%zu]", tc->path, i);
        tc->nchecks = i + 1;
        rd_check_cfg *c = &tc->checks[i];
        rd_status st = parse_check(o, path, c, &e);
        if (st != RD_OK) {
            worst = rd_cfg_errors_add(errs, st, &e);
            free(c->type); /* no second pass for a check whose common keys are wrong */
            c->type = NULL;
            continue;
        }
        for (size_t j = 0; c->name && j < i; j++)
            if (tc->checks[j].name && strcmp(tc->checks[j].name, c->name) == 0)
                worst = rd_cfg_errors_add(
                    errs,
                    RD_ERR(&e, RD_ERR_CONFIG,
                           "%s.name: duplicate check name \"%s\" (also checks[%zu])", path, c->name,
                           j),
                    &e);
    }
    return worst;
}

/* databases / sample.databases (DESIGN section 11, "Tenants"): what is
 * built is a cluster-wide dump, per-database dumps or a physical restore of
 * the whole cluster, into an ephemeral instance; everything else is refused
 * rather than ignored. */
static rd_status check_databases(const cJSON *t, const char *path, const rd_target_cfg *tc,
                                 rd_error *err)
{
    const rd_strlist *d = &tc->databases;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->items[i][0])
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.databases[%zu]: expected a database name or a glob, got \"\"", path,
                          i);
        if (strlen(d->items[i]) > 256)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.databases[%zu]: expected at most 256 bytes, got %zu", path, i,
                          strlen(d->items[i]));
    }
    if (tc->sample.databases > 0 && d->n == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.databases: needs \"databases\" on the target (the names or globs "
                      "to sample from)",
                      path);
    if (tc->catalog.per_database && d->n == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.catalog.per_database: needs \"databases\" on the target (the names or "
                      "globs to drill)",
                      path);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(t, "restore");
    if (d->n == 0 && cJSON_IsObject(rs) && cJSON_GetObjectItemCaseSensitive(rs, "read"))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.restore.read: needs \"databases\" on the target (it chooses how much of "
                      "a cluster-wide dump is read)",
                      path);
    if (!cJSON_GetObjectItemCaseSensitive(t, "databases"))
        return RD_OK;
    if (d->n == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.databases: expected at least one database name or glob, got []", path);
    int server = tc->scratch.type && strcmp(tc->scratch.type, "server") == 0;
    if (tc->scratch.type && strcmp(tc->scratch.type, "ephemeral") != 0 && !server)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.databases: not implemented yet with scratch type \"%s\" (only "
                      "\"ephemeral\" and \"server\")",
                      path, tc->scratch.type);
    if (server && tc->catalog.per_database)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.databases: not implemented yet with catalog.per_database and scratch "
                      "type \"server\" (each file is restored under its own name; only a "
                      "cluster-wide dump is restored under scratch names)",
                      path);
    if (server && tc->restore.roles && strcmp(tc->restore.roles, "no-owner") != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.restore.roles: \"%s\" with databases on scratch type \"server\" "
                      "would change the shared server's roles; only \"no-owner\"",
                      path, tc->restore.roles);
    return RD_OK;
}

static rd_status check_target_name(const cJSON *t, const char *path, const char *name,
                                   rd_error *err)
{
    int ok = isalnum((unsigned char)name[0]) && strlen(name) <= 63;
    for (const char *p = name; *p && ok; p++)
        ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == '.';
    if (ok)
        return RD_OK;
    return rd_cfg_expected(err, path, "name", cJSON_GetObjectItemCaseSensitive(t, "name"),
                           "up to 63 letters, digits, \"_\", \"-\" or \".\"");
}

rd_status rd_config_parse_target(const cJSON *t, size_t idx, rd_target_cfg *tc, rd_cfg_errors *errs)
{
    static const char *const keys[] = {
        "name",    "engine",   "objectives",   "catalog",          "sample",
        "scratch", "restore",  "reference",    "databases",        "timeouts",
        "checks",  "controls", "keep_scratch", "keep_scratch_ttl", "negative_control",
        "key",     "recovery", "database",     "verify_parallel",  NULL};
    char path[32];
    rd_error e;
    size_t before = errs->n;
    snprintf(path, sizeof path, "targets[%zu]", idx);
    tc->rto = -1;
    tc->rpo = -1;
    tc->sample.window = -1;
    tc->sample.max_age = -1;
    tc->restore.timeout = -1;
    tc->recovery.timeout = RD_RECOVER_TIMEOUT_DEFAULT;
    tc->restore.verify_manifest = 1;
    tc->recovery.tolerance = RD_RECOVERY_TOLERANCE_DEFAULT;
    tc->catalog.repo = 1;
    tc->path = rd_strdup(path);
    if (!tc->path)
        return rd_cfg_errors_add(errs, RD_ERR(&e, RD_ERR_NOMEM, "out of memory"), &e);
    if (!cJSON_IsObject(t))
        return rd_cfg_errors_add(errs, rd_cfg_expected_at(&e, path, t, "an object"), &e);
    /* each section is read on its own, so one run names every error */
    rd_cfg_errors_add(errs, rd_cfg_check_keys(t, path, keys, &e), &e);
    if (rd_cfg_errors_add(errs, rd_cfg_string(t, path, "name", 1, &tc->name, &e), &e) == RD_OK)
        rd_cfg_errors_add(errs, check_target_name(t, path, tc->name, &e), &e);
    char *engine = NULL;
    if (rd_cfg_errors_add(errs, rd_cfg_string(t, path, "engine", 1, &engine, &e), &e) == RD_OK) {
        tc->engine = rd_engine_parse(engine);
        if (!tc->engine)
            rd_cfg_errors_add(errs,
                              rd_cfg_expected(&e, path, "engine",
                                              cJSON_GetObjectItemCaseSensitive(t, "engine"),
                                              "\"postgres\", \"mariadb\", \"dynamodb\" or \"s3\""),
                              &e);
    }
    free(engine);
    rd_cfg_errors_add(errs, read_section(t, path, "objectives", 0, f_objectives, tc, NULL, &e), &e);
    int catalog_ok = rd_cfg_errors_add(errs, parse_catalog(t, path, &tc->catalog, &e), &e) == RD_OK;
    rd_status st = read_section(t, path, "sample", 0, f_sample, &tc->sample, NULL, &e);
    if (st == RD_OK)
        st = rd_config_dupstr(&tc->sample.strategy, "latest", &e);
    if (st == RD_OK && catalog_ok)
        st = check_sample(path, tc->catalog.type, &tc->sample, &e);
    rd_cfg_errors_add(errs, st, &e);
    if (tc->engine &&
        rd_cfg_errors_add(errs, parse_scratch(t, path, tc->engine, &tc->scratch, &e), &e) ==
            RD_OK &&
        catalog_ok && physical_catalog(tc->catalog.type) &&
        strcmp(tc->scratch.type, "ephemeral") != 0)
        rd_cfg_errors_add(errs,
                          RD_ERR(&e, RD_ERR_CONFIG,
                                 "%s.scratch.type: a physical restore (catalog \"%s\") needs "
                                 "scratch type \"ephemeral\" (a server of its own), not \"%s\"",
                                 path, tc->catalog.type, tc->scratch.type),
                          &e);
    st = read_section(t, path, "restore", 0, f_restore, &tc->restore, NULL, &e);
    if (st == RD_OK)
        st = rd_config_dupstr(&tc->restore.roles, "no-owner", &e);
    if (st == RD_OK)
        st = rd_config_dupstr(&tc->restore.read, "sections", &e);
    rd_cfg_errors_add(errs, st, &e);
    st = read_section(t, path, "reference", 0, f_reference, &tc->reference, NULL, &e);
    if (st == RD_OK && tc->reference.manifest && !*tc->reference.manifest)
        st = RD_ERR(&e, RD_ERR_CONFIG,
                    "%s.reference.manifest: expected \"sidecar\" or a file path, got \"\"", path);
    rd_cfg_errors_add(errs, st, &e);
    int dbs_ok =
        rd_cfg_errors_add(errs, rd_cfg_strlist(t, path, "databases", 1, &tc->databases, &e), &e) ==
        RD_OK;
    rd_cfg_errors_add(
        errs, read_section(t, path, "recovery", 0, f_recovery, &tc->recovery, NULL, &e), &e);
    rd_cfg_errors_add(errs, rd_cfg_string(t, path, "database", 0, &tc->database, &e), &e);
    {
        long long vp = 0;
        if (rd_cfg_errors_add(errs, rd_cfg_int(t, path, "verify_parallel", 1, 64, &vp, &e), &e) ==
            RD_OK)
            tc->verify_parallel = (int)vp;
    }
    rd_cfg_errors_add(errs, rd_cfg_strlist(t, path, "controls", 1, &tc->controls, &e), &e);
    rd_cfg_errors_add(errs, rd_cfg_bool(t, path, "negative_control", &tc->negative_control, &e),
                      &e);
    {
        static const char *const keep[] = {"never", "on-failure", "always", NULL};
        tc->keep_scratch_ttl = 86400;
        st = rd_cfg_enum(t, path, "keep_scratch", keep, &tc->keep_scratch, &e);
        if (st == RD_OK)
            st = rd_config_dupstr(&tc->keep_scratch, "never", &e);
        if (st == RD_OK)
            st = rd_cfg_duration(t, path, "keep_scratch_ttl", &tc->keep_scratch_ttl, &e);
        if (st == RD_OK && cJSON_GetObjectItemCaseSensitive(t, "keep_scratch_ttl") &&
            strcmp(tc->keep_scratch, "never") == 0)
            st = RD_ERR(&e, RD_ERR_CONFIG,
                        "%s.keep_scratch_ttl: only used with keep_scratch \"on-failure\" or "
                        "\"always\"",
                        path);
        rd_cfg_errors_add(errs, st, &e);
    }
    if (dbs_ok)
        rd_cfg_errors_add(errs, check_databases(t, path, tc, &e), &e);
    rd_cfg_errors_add(errs, parse_timeouts(t, path, tc, &e), &e);
    if (catalog_ok)
        rd_cfg_errors_add(errs, check_dynamodb(t, path, tc, &e), &e);
    if (catalog_ok)
        rd_cfg_errors_add(errs, rd_config_check_s3(t, path, tc, &e), &e);
    parse_checks(t, tc, errs);
    return errs->n > before ? errs->first.code : RD_OK;
}

/* Second pass: find the drivers and let each check validate its own
 * parameters, for the parts the first pass could read (so a bad check
 * parameter is reported together with the first pass's errors). */
rd_status rd_config_resolve_drivers(rd_target_cfg *tc, const rd_config_drivers *drv,
                                    rd_cfg_errors *errs)
{
    char path[64];
    rd_error e;
    size_t before = errs->n;
    if (!tc->engine)
        return RD_OK; /* already reported; nothing can be checked against it */
    snprintf(path, sizeof path, "%s.catalog", tc->path);
    if (tc->catalog.type && !drv->catalog_known(tc->catalog.type))
        rd_cfg_errors_add(errs, driver_missing(path, "catalog", tc->catalog.type, &e), &e);
    else if (tc->catalog.type && drv->catalog_check) {
        rd_status st = drv->catalog_check(&tc->catalog, &e);
        if (st != RD_OK) {
            rd_error_prefix(&e, "%s.", path);
            rd_cfg_errors_add(errs, st, &e);
        }
    }
    snprintf(path, sizeof path, "%s.scratch", tc->path);
    if (tc->scratch.type) {
        unsigned engines = drv->scratch_engines(tc->scratch.type);
        if (!engines)
            rd_cfg_errors_add(errs, driver_missing(path, "scratch", tc->scratch.type, &e), &e);
        else if (!(engines & (unsigned)tc->engine))
            rd_cfg_errors_add(
                errs, engine_unsupported(path, "scratch", tc->scratch.type, tc->engine, &e), &e);
    }
    for (size_t i = 0; i < tc->nchecks; i++) {
        rd_check_cfg *c = &tc->checks[i];
        if (!c->type)
            continue; /* its first-pass error is already reported */
        unsigned engines = drv->check_engines(c->type);
        if (!engines) {
            rd_cfg_errors_add(errs,
                              RD_ERR(&e, RD_ERR_CONFIG,
                                     "%s.type: check type \"%s\" is not implemented yet", c->path,
                                     c->type),
                              &e);
            continue;
        }
        if (!(engines & (unsigned)tc->engine)) {
            rd_cfg_errors_add(errs, engine_unsupported(c->path, "check", c->type, tc->engine, &e),
                              &e);
            continue;
        }
        rd_status st = drv->check_configure(c, tc->engine, &e);
        if (st != RD_OK) {
            c->state = NULL;
            c->ct = NULL;
            c->state_free = NULL;
            rd_cfg_errors_add(errs, st, &e);
        }
    }
    return errs->n > before ? errs->first.code : RD_OK;
}
