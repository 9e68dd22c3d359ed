/* config_target.c: one target of the configuration file, first pass: its
 * name, engine, objectives, sample, restore, reference, recovery, timeouts
 * and the other target keys, with the catalog (config_catalog.c), scratch
 * (config_scratch.c), checks (config_checks.c, also the second pass: the
 * drivers) and the refused combinations (config_refusals.c, config_s3.c). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/strbuf.h"

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

static const char *const strategies[] = {"latest",      "random", "oldest",         "id",
                                         "pitr-random", "pitr",   "least-verified", NULL};
static const char *const roles[] = {"no-owner", "create", "strict", NULL};
static const char *const reads[] = {"sections", "whole", NULL};

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
    int catalog_ok =
        rd_cfg_errors_add(errs, rd_config_parse_catalog(t, path, &tc->catalog, &e), &e) == RD_OK;
    rd_status st = read_section(t, path, "sample", 0, f_sample, &tc->sample, NULL, &e);
    if (st == RD_OK)
        st = rd_config_dupstr(&tc->sample.strategy, "latest", &e);
    if (st == RD_OK && catalog_ok)
        st = rd_config_check_sample(path, tc->catalog.type, &tc->sample, &e);
    rd_cfg_errors_add(errs, st, &e);
    if (tc->engine &&
        rd_cfg_errors_add(errs, rd_config_parse_scratch(t, path, tc->engine, &tc->scratch, &e),
                          &e) == RD_OK &&
        catalog_ok && rd_config_physical_catalog(tc->catalog.type) &&
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
        rd_cfg_errors_add(errs, rd_config_check_databases(t, path, tc, &e), &e);
    rd_cfg_errors_add(errs, parse_timeouts(t, path, tc, &e), &e);
    if (catalog_ok)
        rd_cfg_errors_add(errs, rd_config_check_dynamodb(t, path, tc, &e), &e);
    if (catalog_ok)
        rd_cfg_errors_add(errs, rd_config_check_s3(t, path, tc, &e), &e);
    rd_config_parse_checks(t, tc, errs);
    return errs->n > before ? errs->first.code : RD_OK;
}
