/* config_checks.c: a target's checks: their common keys (first pass), then
 * the drivers of the catalog, the scratch and every check, each check
 * validating its own parameters (second pass). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/config.h"
#include "restoredrill/strbuf.h"

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

rd_status rd_config_parse_checks(const cJSON *t, rd_target_cfg *tc, rd_cfg_errors *errs)
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
