/* config.c: the drill configuration file -> the typed model of config.h.
 *
 * Two passes: the whole document is validated first (keys, types, values,
 * mostly through field tables), then drivers are looked up and each check
 * validates its own parameters. Every error reads `FILE: PATH: ...`. */
#include "restoredrill/config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/catalog.h"
#include "restoredrill/check.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

#define CONFIG_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define SEED_MAX_EXACT 9007199254740992.0 /* 2^53 */

static const char *const catalog_types[] = {"dir", "s3", "exec", "pg-archive", "pgbackrest", NULL};
static const char *const scratch_types[] = {"ephemeral", "server", "exec", NULL};
static const char *const check_types[] = {"rowcount", "integrity", "checksum", "diff", "schema",
                                          "sql",      "freshness", "smoke",    "exec", NULL};

const char *rd_engine_name(rd_engine e)
{
    switch (e) {
    case RD_ENGINE_PG:
        return "postgres";
    case RD_ENGINE_MARIADB:
        return "mariadb";
    }
    return "unknown";
}

rd_engine rd_engine_parse(const char *s)
{
    if (!s)
        return (rd_engine)0;
    if (strcmp(s, "postgres") == 0 || strcmp(s, "postgresql") == 0 || strcmp(s, "pg") == 0)
        return RD_ENGINE_PG;
    if (strcmp(s, "mariadb") == 0 || strcmp(s, "mysql") == 0)
        return RD_ENGINE_MARIADB;
    return (rd_engine)0;
}

static rd_status dupstr(char **dst, const char *s, rd_error *err)
{
    if (*dst)
        return RD_OK;
    *dst = rd_strdup(s);
    return *dst ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

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

/* ---- table-driven sections ---- */

typedef enum fkind {
    F_SKIP,     /* allowed, read elsewhere */
    F_STRING,   /* optional string */
    F_REQUIRED, /* required non-empty string */
    F_ENVNAME,  /* optional environment variable name */
    F_ENUM,     /* optional string out of values */
    F_BOOL,     /* int */
    F_INT,      /* int within [min, max] */
    F_DURATION, /* double seconds */
    F_LIST,     /* rd_strlist: a string or an array of strings */
    F_COMMAND   /* rd_strlist, required, non-empty */
} fkind;

typedef struct field {
    const char *key;
    fkind kind;
    size_t off;
    const char *const *values; /* F_ENUM */
    int min, max;              /* F_INT */
} field;

#define FSKIP(k)                                                                                   \
    {                                                                                              \
        k, F_SKIP, 0, NULL, 0, 0                                                                   \
    }
#define FLD(k, kind, type, member)                                                                 \
    {                                                                                              \
        k, kind, offsetof(type, member), NULL, 0, 0                                                \
    }
#define FENUM(k, type, member, values)                                                             \
    {                                                                                              \
        k, F_ENUM, offsetof(type, member), values, 0, 0                                            \
    }
#define FINT(k, type, member, lo, hi)                                                              \
    {                                                                                              \
        k, F_INT, offsetof(type, member), NULL, lo, hi                                             \
    }
#define FEND                                                                                       \
    {                                                                                              \
        NULL, F_SKIP, 0, NULL, 0, 0                                                                \
    }

static rd_status read_field(const cJSON *o, const char *path, const field *f, char *base,
                            rd_error *err)
{
    void *p = base + f->off;
    long long v = 0;
    rd_status st = RD_OK;
    switch (f->kind) {
    case F_SKIP:
        return RD_OK;
    case F_STRING:
        return rd_cfg_string(o, path, f->key, 0, (char **)p, err);
    case F_REQUIRED:
        return rd_cfg_string(o, path, f->key, 1, (char **)p, err);
    case F_ENUM:
        return rd_cfg_enum(o, path, f->key, f->values, (char **)p, err);
    case F_BOOL:
        return rd_cfg_bool(o, path, f->key, (int *)p, err);
    case F_DURATION:
        return rd_cfg_duration(o, path, f->key, (double *)p, err);
    case F_LIST:
        return rd_cfg_strlist(o, path, f->key, 1, (rd_strlist *)p, err);
    case F_INT:
        st = rd_cfg_int(o, path, f->key, f->min, f->max, &v, err);
        if (st == RD_OK && cJSON_GetObjectItemCaseSensitive(o, f->key))
            *(int *)p = (int)v;
        return st;
    case F_ENVNAME: {
        char **out = (char **)p;
        st = rd_cfg_string(o, path, f->key, 0, out, err);
        int ok = !*out || isalpha((unsigned char)**out) || **out == '_';
        for (const char *s = *out; s && *s && ok; s++)
            ok = isalnum((unsigned char)*s) || *s == '_';
        if (st == RD_OK && !ok) {
            char got[96];
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.%s: expected an environment variable name, got %s", path, f->key,
                          rd_cfg_got(cJSON_GetObjectItemCaseSensitive(o, f->key), got, sizeof got));
        }
        return st;
    }
    case F_COMMAND: {
        rd_strlist *l = (rd_strlist *)p;
        if (!cJSON_GetObjectItemCaseSensitive(o, f->key))
            return RD_ERR(err, RD_ERR_CONFIG, "%s.%s: required key is missing", path, f->key);
        st = rd_cfg_strlist(o, path, f->key, 1, l, err);
        if (st == RD_OK && l->n == 0)
            return RD_ERR(err, RD_ERR_CONFIG, "%s.%s: expected a command, got []", path, f->key);
        return st;
    }
    }
    return st;
}

/* Refuse keys not in the table, then read every field into base. */
static rd_status read_fields(const cJSON *o, const char *path, const field *fields, void *base,
                             rd_error *err)
{
    const char *keys[24];
    size_t n = 0;
    for (; fields[n].key && n < 23; n++)
        keys[n] = fields[n].key;
    keys[n] = NULL;
    rd_status st = rd_cfg_check_keys(o, path, keys, err);
    for (size_t i = 0; st == RD_OK && fields[i].key; i++)
        st = read_field(o, path, &fields[i], base, err);
    return st;
}

/* The object at KEY of t (optional unless required) read through fields. */
static rd_status read_section(const cJSON *t, const char *tpath, const char *key, int required,
                              const field *fields, void *base, const cJSON **obj, rd_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.%s", tpath, key);
    const cJSON *o = NULL;
    rd_status st = rd_cfg_object(t, tpath, key, required, &o, err);
    if (st == RD_OK)
        st = read_fields(o, path, fields, base, err);
    if (obj)
        *obj = o;
    return st;
}

static const char *const time_from[] = {"manifest", "name", "mtime", NULL};
static const char *const strategies[] = {"latest", "random", "oldest", "id", "pitr-random", NULL};
static const char *const roles[] = {"no-owner", "create", "strict", NULL};

#define C rd_catalog_cfg
static const field f_cat_dir[] = {FSKIP("type"), FLD("path", F_REQUIRED, C, path),
                                  FLD("pattern", F_STRING, C, pattern),
                                  FENUM("time_from", C, time_from, time_from), FEND};
static const field f_cat_s3[] = {FSKIP("type"),
                                 FLD("endpoint", F_STRING, C, endpoint),
                                 FLD("bucket", F_REQUIRED, C, bucket),
                                 FLD("prefix", F_STRING, C, prefix),
                                 FLD("region", F_STRING, C, region),
                                 FEND};
static const field f_cat_exec[] = {FSKIP("type"), FLD("command", F_COMMAND, C, command),
                                   FLD("timeout", F_DURATION, C, timeout), FEND};
static const field f_cat_pga[] = {FSKIP("type"), FLD("path", F_REQUIRED, C, path), FEND};
static const field f_cat_pgbr[] = {FSKIP("type"), FLD("stanza", F_REQUIRED, C, stanza), FEND};
#undef C
/* same order as catalog_types */
static const field *const catalog_fields[] = {f_cat_dir, f_cat_s3, f_cat_exec, f_cat_pga,
                                              f_cat_pgbr};

#define S rd_scratch_cfg
static const field f_scr_eph[] = {FSKIP("type"),
                                  FLD("run_as", F_STRING, S, run_as),
                                  FLD("tcp", F_BOOL, S, tcp),
                                  FLD("bin_dir", F_STRING, S, bin_dir),
                                  FLD("base_dir", F_STRING, S, base_dir),
                                  FLD("timeout", F_DURATION, S, timeout),
                                  FEND};
static const field f_scr_srv[] = {FSKIP("type"),
                                  FLD("admin_dsn", F_REQUIRED, S, admin_dsn),
                                  FLD("password_env", F_ENVNAME, S, password_env),
                                  FLD("prefix", F_STRING, S, prefix),
                                  FLD("allow_same_server", F_BOOL, S, allow_same_server),
                                  FLD("timeout", F_DURATION, S, timeout),
                                  FEND};
static const field f_scr_exec[] = {FSKIP("type"),
                                   FLD("create", F_COMMAND, S, create),
                                   FLD("destroy", F_COMMAND, S, destroy),
                                   FLD("allow_same_server", F_BOOL, S, allow_same_server),
                                   FLD("timeout", F_DURATION, S, timeout),
                                   FEND};
#undef S
static const field *const scratch_fields[] = {f_scr_eph, f_scr_srv, f_scr_exec};

static const field f_sample[] = {FENUM("strategy", rd_sample_cfg, strategy, strategies),
                                 FLD("window", F_DURATION, rd_sample_cfg, window),
                                 FLD("max_age", F_DURATION, rd_sample_cfg, max_age),
                                 FLD("id", F_STRING, rd_sample_cfg, id),
                                 FINT("databases", rd_sample_cfg, databases, 0, 100000),
                                 FEND};
static const field f_restore[] = {FINT("jobs", rd_restore_cfg, jobs, 0, 64),
                                  FLD("timeout", F_DURATION, rd_restore_cfg, timeout),
                                  FENUM("roles", rd_restore_cfg, roles, roles),
                                  FLD("decrypt", F_LIST, rd_restore_cfg, decrypt),
                                  FLD("extra_args", F_LIST, rd_restore_cfg, extra_args),
                                  FEND};
static const field f_reference[] = {FLD("manifest", F_STRING, rd_reference_cfg, manifest),
                                    FLD("dsn", F_STRING, rd_reference_cfg, dsn),
                                    FLD("password_env", F_ENVNAME, rd_reference_cfg, password_env),
                                    FEND};
static const field f_objectives[] = {FLD("rto", F_DURATION, rd_target_cfg, rto),
                                     FLD("rpo", F_DURATION, rd_target_cfg, rpo), FEND};

/* timeouts.provision / timeouts.restore may also be given as scratch.timeout
 * and restore.timeout: read into a scratch struct, then merged. */
typedef struct phase_timeouts {
    double sample, fetch, provision, restore, verify, teardown;
} phase_timeouts;
static const field f_timeouts[] = {FLD("sample", F_DURATION, phase_timeouts, sample),
                                   FLD("fetch", F_DURATION, phase_timeouts, fetch),
                                   FLD("provision", F_DURATION, phase_timeouts, provision),
                                   FLD("restore", F_DURATION, phase_timeouts, restore),
                                   FLD("verify", F_DURATION, phase_timeouts, verify),
                                   FLD("teardown", F_DURATION, phase_timeouts, teardown),
                                   FEND};

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
    rd_status st = rd_cfg_object(t, tpath, "catalog", 1, &o, err);
    if (st == RD_OK && !cJSON_GetObjectItemCaseSensitive(o, "type"))
        st = RD_ERR(err, RD_ERR_CONFIG, "%s.type: required key is missing", path);
    if (st == RD_OK)
        st = rd_cfg_enum(o, path, "type", catalog_types, &c->type, err);
    if (st == RD_OK)
        st = read_fields(o, path, catalog_fields[index_of(catalog_types, c->type)], c, err);
    if (st == RD_OK)
        st = dupstr(&c->pattern, "*", err);
    return st;
}

static rd_status check_sample(const char *tpath, const char *catalog_type, const rd_sample_cfg *s,
                              rd_error *err)
{
    int by_id = strcmp(s->strategy, "id") == 0;
    if (by_id && (!s->id || !*s->id))
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.id: required key is missing (strategy \"id\")",
                      tpath);
    if (!by_id && s->id)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.id: only used with strategy \"id\"", tpath);
    if (strcmp(s->strategy, "pitr-random") != 0)
        return RD_OK;
    if (strcmp(catalog_type, "pg-archive") != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.strategy: \"pitr-random\" needs a catalog of type \"pg-archive\"",
                      tpath);
    return RD_ERR(err, RD_ERR_CONFIG,
                  "%s.sample.strategy: strategy \"pitr-random\" is not implemented yet", tpath);
}

static rd_status check_prefix(const cJSON *o, const char *path, const char *prefix, rd_error *err)
{
    int ok = prefix[0] != '\0' && strlen(prefix) <= 32 && !isdigit((unsigned char)prefix[0]);
    for (const char *p = prefix; *p && ok; p++)
        ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_';
    if (ok)
        return RD_OK;
    char got[96];
    return RD_ERR(err, RD_ERR_CONFIG,
                  "%s.prefix: expected up to 32 lowercase letters, digits and \"_\" (not starting "
                  "with a digit), got %s",
                  path, rd_cfg_got(cJSON_GetObjectItemCaseSensitive(o, "prefix"), got, sizeof got));
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
        st = dupstr(&s->type, "ephemeral", err);
    if (st == RD_OK)
        st = read_fields(o, path, scratch_fields[index_of(scratch_types, s->type)], s, err);
    if (st == RD_OK && s->prefix)
        st = check_prefix(o, path, s->prefix, err);
    if (st == RD_OK)
        st = dupstr(&s->prefix, "rd_scratch_", err);
    if (st == RD_OK && strcmp(s->type, "ephemeral") == 0)
        st = dupstr(&s->run_as, engine == RD_ENGINE_PG ? "postgres" : "mysql", err);
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
    if (!cJSON_IsObject(o)) {
        char got[96];
        return RD_ERR(err, RD_ERR_CONFIG, "%s: expected an object, got %s", path,
                      rd_cfg_got(o, got, sizeof got));
    }
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

static rd_status parse_checks(const cJSON *t, rd_target_cfg *tc, rd_error *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(t, "checks");
    if (!arr)
        return RD_OK;
    tc->checks_given = 1;
    if (!cJSON_IsArray(arr)) {
        char got[96];
        return RD_ERR(err, RD_ERR_CONFIG, "%s.checks: expected an array of checks, got %s",
                      tc->path, rd_cfg_got(arr, got, sizeof got));
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0)
        return RD_OK;
    tc->checks = calloc(n, sizeof *tc->checks);
    if (!tc->checks)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *o = arr->child; o; o = o->next, i++) {
        char path[64];
        snprintf(path, sizeof path, "%s.checks[%zu]", tc->path, i);
        tc->nchecks = i + 1;
        rd_check_cfg *c = &tc->checks[i];
        rd_status st = parse_check(o, path, c, err);
        if (st != RD_OK)
            return st;
        for (size_t j = 0; c->name && j < i; j++)
            if (tc->checks[j].name && strcmp(tc->checks[j].name, c->name) == 0)
                return RD_ERR(err, RD_ERR_CONFIG,
                              "%s.name: duplicate check name \"%s\" (also checks[%zu])", path,
                              c->name, j);
    }
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
    char got[96];
    return RD_ERR(err, RD_ERR_CONFIG,
                  "%s.name: expected up to 63 letters, digits, \"_\", \"-\" or \".\", got %s", path,
                  rd_cfg_got(cJSON_GetObjectItemCaseSensitive(t, "name"), got, sizeof got));
}

static rd_status parse_target(const cJSON *t, size_t idx, rd_target_cfg *tc, rd_error *err)
{
    static const char *const keys[] = {"name",      "engine",   "objectives", "catalog",
                                       "sample",    "scratch",  "restore",    "reference",
                                       "databases", "timeouts", "checks",     NULL};
    char path[32];
    snprintf(path, sizeof path, "targets[%zu]", idx);
    tc->rto = -1;
    tc->rpo = -1;
    tc->sample.window = -1;
    tc->sample.max_age = -1;
    tc->restore.timeout = -1;
    tc->path = rd_strdup(path);
    if (!tc->path)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (!cJSON_IsObject(t)) {
        char got[96];
        return RD_ERR(err, RD_ERR_CONFIG, "%s: expected an object, got %s", path,
                      rd_cfg_got(t, got, sizeof got));
    }
    char *engine = NULL;
    rd_status st = rd_cfg_check_keys(t, path, keys, err);
    if (st == RD_OK)
        st = rd_cfg_string(t, path, "name", 1, &tc->name, err);
    if (st == RD_OK)
        st = check_target_name(t, path, tc->name, err);
    if (st == RD_OK)
        st = rd_cfg_string(t, path, "engine", 1, &engine, err);
    if (st == RD_OK) {
        tc->engine = rd_engine_parse(engine);
        if (!tc->engine) {
            char got[96];
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.engine: expected \"postgres\" or \"mariadb\", got %s", path,
                        rd_cfg_got(cJSON_GetObjectItemCaseSensitive(t, "engine"), got, sizeof got));
        }
    }
    free(engine);
    if (st == RD_OK)
        st = read_section(t, path, "objectives", 0, f_objectives, tc, NULL, err);
    if (st == RD_OK)
        st = parse_catalog(t, path, &tc->catalog, err);
    if (st == RD_OK)
        st = read_section(t, path, "sample", 0, f_sample, &tc->sample, NULL, err);
    if (st == RD_OK)
        st = dupstr(&tc->sample.strategy, "latest", err);
    if (st == RD_OK)
        st = check_sample(path, tc->catalog.type, &tc->sample, err);
    if (st == RD_OK)
        st = parse_scratch(t, path, tc->engine, &tc->scratch, err);
    if (st == RD_OK)
        st = read_section(t, path, "restore", 0, f_restore, &tc->restore, NULL, err);
    if (st == RD_OK)
        st = dupstr(&tc->restore.roles, "no-owner", err);
    if (st == RD_OK)
        st = read_section(t, path, "reference", 0, f_reference, &tc->reference, NULL, err);
    if (st == RD_OK && tc->reference.manifest && !*tc->reference.manifest)
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "%s.reference.manifest: expected \"sidecar\" or a file path, got \"\"", path);
    if (st == RD_OK)
        st = rd_cfg_strlist(t, path, "databases", 1, &tc->databases, err);
    if (st == RD_OK)
        st = parse_timeouts(t, path, tc, err);
    if (st == RD_OK)
        st = parse_checks(t, tc, err);
    return st;
}

/* Second pass, once the whole document is valid: find the drivers and let
 * each check validate its own parameters. */
static rd_status resolve_drivers(rd_target_cfg *tc, rd_error *err)
{
    char path[64];
    snprintf(path, sizeof path, "%s.catalog", tc->path);
    if (!rd_catalog_find(tc->catalog.type))
        return driver_missing(path, "catalog", tc->catalog.type, err);
    const rd_scratch_type *sty = rd_scratch_find(tc->scratch.type);
    snprintf(path, sizeof path, "%s.scratch", tc->path);
    if (!sty)
        return driver_missing(path, "scratch", tc->scratch.type, err);
    if (!(sty->engines & (unsigned)tc->engine))
        return engine_unsupported(path, "scratch", tc->scratch.type, tc->engine, err);
    for (size_t i = 0; i < tc->nchecks; i++) {
        rd_check_cfg *c = &tc->checks[i];
        c->ct = rd_check_find(c->type);
        if (!c->ct)
            return RD_ERR(err, RD_ERR_CONFIG, "%s.type: check type \"%s\" is not implemented yet",
                          c->path, c->type);
        if (!(c->ct->engines & (unsigned)tc->engine))
            return engine_unsupported(c->path, "check", c->type, tc->engine, err);
        rd_status st = c->ct->configure(c->params, c->path, tc->engine, &c->state, err);
        if (st != RD_OK) {
            c->state = NULL;
            return st;
        }
    }
    return RD_OK;
}

/* ---- top level ---- */

static rd_status parse_output(const cJSON *root, rd_output_cfg *o, rd_error *err)
{
    static const char *const keys[] = {"dir",        "junit",   "json", "html",
                                       "prometheus", "history", NULL};
    char **slots[] = {&o->junit, &o->json, &o->html, &o->prometheus, &o->history};
    static const char *const defaults[] = {"junit.xml", "drill.json", "evidence.html",
                                           "restoredrill.prom", "history.jsonl"};
    const cJSON *obj = NULL;
    rd_status st = rd_cfg_object(root, "", "output", 0, &obj, err);
    if (st == RD_OK)
        st = rd_cfg_check_keys(obj, "output", keys, err);
    if (st == RD_OK)
        st = rd_cfg_string(obj, "output", "dir", 0, &o->dir, err);
    if (st == RD_OK && o->dir && !*o->dir)
        st = RD_ERR(err, RD_ERR_CONFIG, "output.dir: expected a directory, got \"\"");
    if (st == RD_OK)
        st = dupstr(&o->dir, "out", err);
    for (size_t i = 0; st == RD_OK && i < 5; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, keys[i + 1]);
        if (cJSON_IsNull(it))
            continue; /* null disables this report */
        if (it && (!cJSON_IsString(it) || !*it->valuestring)) {
            char got[96];
            st = RD_ERR(err, RD_ERR_CONFIG, "output.%s: expected a file name or null, got %s",
                        keys[i + 1], rd_cfg_got(it, got, sizeof got));
        } else {
            st = dupstr(slots[i], it ? it->valuestring : defaults[i], err);
        }
    }
    return st;
}

static rd_status parse_notify(const cJSON *root, rd_notify_cfg *n, rd_error *err)
{
    static const char *const on[] = {"failure", "always", "never", NULL};
    static const field fields[] = {FLD("webhook", F_STRING, rd_notify_cfg, webhook),
                                   FENUM("on", rd_notify_cfg, on, on),
                                   FLD("timeout", F_DURATION, rd_notify_cfg, timeout), FEND};
    n->timeout = 10;
    const cJSON *obj = NULL;
    rd_status st = rd_cfg_object(root, "", "notify", 0, &obj, err);
    if (st == RD_OK)
        st = read_fields(obj, "notify", fields, n, err);
    if (st == RD_OK && n->webhook && !*n->webhook) {
        free(n->webhook); /* "${DRILL_WEBHOOK_URL:-}" unset: no webhook */
        n->webhook = NULL;
    }
    if (st == RD_OK && n->webhook && strncmp(n->webhook, "http://", 7) != 0 &&
        strncmp(n->webhook, "https://", 8) != 0)
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "notify.webhook: expected an http:// or https:// URL, got a value that is "
                    "not shown (secret)");
    if (st == RD_OK)
        st = dupstr(&n->on, "failure", err);
    return st;
}

static rd_status parse_seed(const cJSON *root, rd_config *cfg, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (!it)
        return RD_OK;
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble <= SEED_MAX_EXACT &&
        it->valuedouble == (double)(uint64_t)it->valuedouble) {
        cfg->seed = (uint64_t)it->valuedouble;
        cfg->has_seed = 1;
        return RD_OK;
    }
    if (cJSON_IsString(it) && isdigit((unsigned char)it->valuestring[0])) {
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(it->valuestring, &end, 10);
        if (errno == 0 && *end == '\0') {
            cfg->seed = (uint64_t)v;
            cfg->has_seed = 1;
            return RD_OK;
        }
    }
    char got[96];
    return RD_ERR(err, RD_ERR_CONFIG,
                  "seed: expected an integer from 0 to 2^53 (or a string of digits up to "
                  "2^64-1), got %s",
                  rd_cfg_got(it, got, sizeof got));
}

static rd_status default_name(rd_config *cfg, const char *file, rd_error *err)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    cfg->name = n ? rd_asprintf("%.*s", (int)n, base) : rd_strdup("drill");
    return cfg->name ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

static rd_status parse_root(const cJSON *root, rd_config *cfg, rd_error *err)
{
    static const char *const keys[] = {"version", "name",   "seed",    "parallel",
                                       "output",  "notify", "targets", NULL};
    long long version = 0, parallel = 1;
    rd_status st = rd_cfg_check_keys(root, "", keys, err);
    if (st != RD_OK)
        return st;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!v)
        return RD_ERR(err, RD_ERR_CONFIG, "version: required key is missing");
    if (rd_cfg_int(root, "", "version", 1, 1, &version, NULL) != RD_OK) {
        char got[96];
        return RD_ERR(err, RD_ERR_CONFIG, "version: expected 1, got %s",
                      rd_cfg_got(v, got, sizeof got));
    }
    cfg->version = (int)version;
    st = rd_cfg_string(root, "", "name", 0, &cfg->name, err);
    if (st == RD_OK && !cfg->name)
        st = default_name(cfg, cfg->file, err);
    if (st == RD_OK)
        st = parse_seed(root, cfg, err);
    if (st == RD_OK)
        st = rd_cfg_int(root, "", "parallel", 1, 64, &parallel, err);
    cfg->parallel = (int)parallel;
    if (st == RD_OK)
        st = parse_output(root, &cfg->output, err);
    if (st == RD_OK)
        st = parse_notify(root, &cfg->notify, err);
    if (st != RD_OK)
        return st;

    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "targets");
    if (!arr)
        return RD_ERR(err, RD_ERR_CONFIG, "targets: required key is missing");
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0) {
        char got[96];
        return RD_ERR(err, RD_ERR_CONFIG,
                      "targets: expected an array of one or more targets, got %s",
                      rd_cfg_got(arr, got, sizeof got));
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    cfg->targets = calloc(n, sizeof *cfg->targets);
    if (!cfg->targets)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *t = arr->child; t; t = t->next, i++) {
        cfg->ntargets = i + 1;
        st = parse_target(t, i, &cfg->targets[i], err);
        if (st != RD_OK)
            return st;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cfg->targets[j].name, cfg->targets[i].name) == 0)
                return RD_ERR(err, RD_ERR_CONFIG,
                              "targets[%zu].name: duplicate target name \"%s\" (also "
                              "targets[%zu])",
                              i, cfg->targets[i].name, j);
    }
    return RD_OK;
}

rd_status rd_config_parse_opts(const char *text, const char *file_name, unsigned flags,
                               rd_config **out, rd_error *err)
{
    const char *file = file_name && *file_name ? file_name : "config";
    rd_status st = RD_OK;
    rd_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->file = rd_strdup(file))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    cfg->parallel = 1;
    st = rd_cfg_parse_text(text ? text : "", &cfg->root, err);
    if (st == RD_OK)
        st = rd_cfg_expand_tree(cfg->root, "", err);
    if (st == RD_OK)
        st = parse_root(cfg->root, cfg, err);
    for (size_t i = 0; st == RD_OK && !(flags & RD_CONFIG_NO_DRIVERS) && i < cfg->ntargets; i++)
        st = resolve_drivers(&cfg->targets[i], err);
out:
    if (st != RD_OK) {
        rd_error_prefix(err, "%s: ", file);
        rd_config_free(cfg);
        return st;
    }
    *out = cfg;
    return RD_OK;
}

rd_status rd_config_parse(const char *text, const char *file_name, rd_config **out, rd_error *err)
{
    return rd_config_parse_opts(text, file_name, 0, out, err);
}

rd_status rd_config_load(const char *path, rd_config **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sb;
    rd_strbuf_init(&sb, CONFIG_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    if (!f) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
        goto out;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (memchr(buf, '\0', n)) {
            st = RD_ERR(err, RD_ERR_CONFIG, "%s: not a text file (contains a NUL byte)", path);
            goto out;
        }
        if (rd_strbuf_append_n(&sb, buf, n, NULL) != RD_OK) {
            st = RD_ERR(err, RD_ERR_CONFIG, "%s: file is too large (more than 4 MiB)", path);
            goto out;
        }
    }
    if (ferror(f)) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
        goto out;
    }
    st = rd_config_parse(sb.data, path, out, err);
out:
    if (f)
        fclose(f);
    rd_strbuf_free(&sb);
    return st;
}

static void free_target(rd_target_cfg *t)
{
    free(t->name);
    free(t->path);
    rd_catalog_cfg *c = &t->catalog;
    free(c->type);
    free(c->path);
    free(c->pattern);
    free(c->time_from);
    rd_strlist_free(&c->command);
    free(c->endpoint);
    free(c->bucket);
    free(c->prefix);
    free(c->region);
    free(c->stanza);
    free(t->sample.strategy);
    free(t->sample.id);
    rd_scratch_cfg *s = &t->scratch;
    free(s->type);
    free(s->run_as);
    free(s->bin_dir);
    free(s->base_dir);
    free(s->admin_dsn);
    free(s->password_env);
    free(s->prefix);
    rd_strlist_free(&s->create);
    rd_strlist_free(&s->destroy);
    free(t->restore.roles);
    rd_strlist_free(&t->restore.decrypt);
    rd_strlist_free(&t->restore.extra_args);
    free(t->reference.manifest);
    free(t->reference.dsn);
    free(t->reference.password_env);
    rd_strlist_free(&t->databases);
    for (size_t i = 0; i < t->nchecks; i++) {
        rd_check_cfg *k = &t->checks[i];
        if (k->ct && k->ct->free && k->state)
            k->ct->free(k->state);
        free(k->type);
        free(k->name);
        free(k->path);
    }
    free(t->checks);
}

void rd_config_free(rd_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->ntargets; i++)
        free_target(&cfg->targets[i]);
    free(cfg->targets);
    free(cfg->file);
    free(cfg->name);
    rd_output_cfg *o = &cfg->output;
    free(o->dir);
    free(o->junit);
    free(o->json);
    free(o->html);
    free(o->prometheus);
    free(o->history);
    free(cfg->notify.webhook);
    free(cfg->notify.on);
    cJSON_Delete(cfg->root);
    free(cfg);
}

const rd_target_cfg *rd_config_target(const rd_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->ntargets; i++)
        if (cfg->targets[i].name && strcmp(cfg->targets[i].name, name) == 0)
            return &cfg->targets[i];
    return NULL;
}
