/* config_int.h: declarations shared by the files of harness/config only
 * (not a public contract): the field tables that validate a section and
 * read it into a struct, and the parts of the target parser. */
#ifndef RESTOREDRILL_CONFIG_INT_H
#define RESTOREDRILL_CONFIG_INT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/strbuf.h"

/* Every error of a configuration, so one validate run names them all: the
 * parsers record an error and go on with the next independent section. */
typedef struct rd_cfg_errors {
    rd_error first; /* the first error recorded */
    rd_strbuf all;  /* every message, one per line */
    size_t n;
} rd_cfg_errors;

/* Record e (when st is not RD_OK). Returns st. */
rd_status rd_cfg_errors_add(rd_cfg_errors *c, rd_status st, const rd_error *e);

typedef enum rd_cfg_fkind {
    RD_CFG_SKIP,     /* allowed, read elsewhere */
    RD_CFG_STRING,   /* optional string */
    RD_CFG_REQUIRED, /* required non-empty string */
    RD_CFG_ENVNAME,  /* optional environment variable name */
    RD_CFG_ENUM,     /* optional string out of values */
    RD_CFG_BOOL,     /* int */
    RD_CFG_INT,      /* int within [min, max] */
    RD_CFG_DURATION, /* double seconds */
    RD_CFG_LIST,     /* rd_strlist: a string or an array of strings */
    RD_CFG_COMMAND,  /* rd_strlist, required, non-empty */
    RD_CFG_MAP       /* rd_strlist of "NAME=VALUE" from an object of strings */
} rd_cfg_fkind;

typedef struct rd_cfg_field {
    const char *key;
    rd_cfg_fkind kind;
    size_t off;
    const char *const *values; /* RD_CFG_ENUM */
    int min, max;              /* RD_CFG_INT */
} rd_cfg_field;

#define RD_FSKIP(k)                                                                                \
    {                                                                                              \
        k, RD_CFG_SKIP, 0, NULL, 0, 0                                                              \
    }
#define RD_FLD(k, kind, type, member)                                                              \
    {                                                                                              \
        k, kind, offsetof(type, member), NULL, 0, 0                                                \
    }
#define RD_FENUM(k, type, member, values)                                                          \
    {                                                                                              \
        k, RD_CFG_ENUM, offsetof(type, member), values, 0, 0                                       \
    }
#define RD_FINT(k, type, member, lo, hi)                                                           \
    {                                                                                              \
        k, RD_CFG_INT, offsetof(type, member), NULL, lo, hi                                        \
    }
#define RD_FEND                                                                                    \
    {                                                                                              \
        NULL, RD_CFG_SKIP, 0, NULL, 0, 0                                                           \
    }

/* --- config_util.c --- */

/* "KEYPATH: expected WHAT, got GOT" (GOT: rd_cfg_got of item). */
rd_status rd_cfg_expected_at(rd_error *err, const char *kp, const cJSON *item, const char *what);
/* "PATH.KEY: expected WHAT, got GOT" (PATH "": "KEY: ..."). */
rd_status rd_cfg_expected(rd_error *err, const char *path, const char *key, const cJSON *item,
                          const char *what);

/* --- config_fields.c --- */

/* Set *dst to a copy of s unless it is already set. */
rd_status rd_config_dupstr(char **dst, const char *s, rd_error *err);
/* Refuse keys of o not in the table, then read every field into base. */
rd_status rd_config_read_fields(const cJSON *o, const char *path, const rd_cfg_field *fields,
                                void *base, rd_error *err);

/* --- config_target.c --- */

/* First pass over targets[idx]: validate it and fill tc. On error tc may be
 * partly filled; rd_config_free frees it once counted in ntargets. */
rd_status rd_config_parse_target(const cJSON *t, size_t idx, rd_target_cfg *tc,
                                 rd_cfg_errors *errs);

/* --- config_catalog.c --- */

/* The index of s in the NULL-terminated list (its length when absent). */
size_t rd_config_index_of(const char *const *list, const char *s);
/* TPATH.catalog: its type, that type's keys, the defaults. */
rd_status rd_config_parse_catalog(const cJSON *t, const char *tpath, rd_catalog_cfg *c,
                                  rd_error *err);
/* Catalog types that list physical points with an archive (PITR). */
int rd_config_physical_catalog(const char *type);

/* --- config_scratch.c --- */

/* TPATH.scratch: its type (default by engine), that type's keys, the
 * defaults. */
rd_status rd_config_parse_scratch(const cJSON *t, const char *tpath, rd_engine engine,
                                  rd_scratch_cfg *s, rd_error *err);

/* --- config_checks.c --- */

/* TPATH.checks: every check's common keys, each error recorded in errs. */
rd_status rd_config_parse_checks(const cJSON *t, rd_target_cfg *tc, rd_cfg_errors *errs);
/* Second pass: find the drivers and let each check validate its own
 * parameters (for the parts of the target the first pass could read). */
rd_status rd_config_resolve_drivers(rd_target_cfg *tc, const rd_config_drivers *drivers,
                                    rd_cfg_errors *errs);

/* --- config_refusals.c --- */

/* engine dynamodb: a dynamodb-export catalog and a key of one or two
 * attribute names; the key and that catalog belong to dynamodb only. */
rd_status rd_config_check_dynamodb(const cJSON *t, const char *tpath, rd_target_cfg *tc,
                                   rd_error *err);
/* TPATH.sample against the strategy and the catalog type. */
rd_status rd_config_check_sample(const char *tpath, const char *catalog_type,
                                 const rd_sample_cfg *s, rd_error *err);
/* databases / sample.databases: what cannot be built is refused. */
rd_status rd_config_check_databases(const cJSON *t, const char *path, const rd_target_cfg *tc,
                                    rd_error *err);

/* --- config_s3.c --- */

/* engine s3 (config_s3.c): catalog s3-objects, scratch server, the
 * reference listing, sampling of a versioned bucket; the catalog's endpoint,
 * region and path_style copied into the scratch's. Other engines: the
 * catalog s3-objects and reference.listing refused. */
rd_status rd_config_check_s3(const cJSON *t, const char *tpath, rd_target_cfg *tc, rd_error *err);

#endif
