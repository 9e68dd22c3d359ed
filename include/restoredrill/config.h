/* config.h: the drill configuration (DESIGN section 5) as a typed model, and
 * the helpers every driver and check uses to validate its own parameters with
 * path-precise messages.
 *
 * Loading strips comments (cJSON_Minify), expands ${VAR} and ${VAR:-default}
 * inside string values, refuses unknown keys, and reports the first error as
 * `FILE: targets[0].checks[2].expect: expected ..., got "lots"`. Values that
 * came from the environment are never echoed in errors. */
#ifndef RESTOREDRILL_CONFIG_H
#define RESTOREDRILL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"

struct cJSON;
struct rd_check_type;

typedef enum rd_engine {
    RD_ENGINE_PG = 1,
    RD_ENGINE_MARIADB = 2,
    RD_ENGINE_DYNAMODB = 4,
    RD_ENGINE_S3 = 8 /* object sets (docs/s3-objects.md) */
} rd_engine;
/* The SQL engines: what a driver or check that speaks SQL through db.h
 * supports. DynamoDB is not among them: a driver supports it by naming it. */
#define RD_ENGINE_ANY (RD_ENGINE_PG | RD_ENGINE_MARIADB)

/* "postgres" / "mariadb" / "dynamodb" / "s3" */
const char *rd_engine_name(rd_engine e);
/* Accepts postgres|postgresql|pg, mariadb|mysql, dynamodb and s3; 0 when
 * unknown. */
rd_engine rd_engine_parse(const char *s);

typedef struct rd_strlist {
    char **items;
    size_t n;
} rd_strlist;

typedef struct rd_catalog_cfg {
    char *type;      /* dir | exec | s3 | pg-archive | pgbackrest | dynamodb-export | mariabackup */
    char *path;      /* dir, pg-archive, dynamodb-export */
    char *pattern;   /* dir: glob, default "*" */
    char *time_from; /* dir: NULL (auto) | manifest | name | mtime */
    int per_database;   /* dir: each file one database's dump, "<database>-<time>.<ext>"; the files
                           of one time are one recovery point (targets with "databases") */
    rd_strlist command; /* exec: argv */
    double timeout;     /* exec: seconds, default 60 */
    char *endpoint, *bucket, *prefix, *region; /* s3 (endpoint, region: also dir on s3://) */
    int path_style;   /* s3: 1 path style, 0 virtual-hosted, -1 (default) automatic */
    int versions;     /* s3-objects: a versioned bucket as of a time (pitr), not backup prefixes */
    char *stanza;     /* pgbackrest */
    char *base_dir;   /* pg-archive, mariabackup: base backups */
    char *wal_dir;    /* pg-archive: the WAL archive */
    char *config;     /* pgbackrest: --config */
    int repo;         /* pgbackrest: --repo, default 1 */
    char *binlog_dir; /* mariabackup: archived binary logs */
    char *timezone;   /* mariabackup: zone of the times in xtrabackup_info; NULL: UTC */
} rd_catalog_cfg;

typedef struct rd_sample_cfg {
    char *strategy; /* latest (default) | random | oldest | id | pitr-random | pitr */
    char *time;     /* strategy pitr: RFC 3339 time or "latest" */
    double window;  /* seconds back from t0 that random/oldest consider; < 0: all */
    double max_age; /* objective on the newest point; < 0: none */
    char *id;       /* strategy id */
    int databases;  /* sample this many of the target's databases; 0: all */
} rd_sample_cfg;

typedef struct rd_scratch_cfg {
    char *type;         /* ephemeral (default) | server | exec */
    char *run_as;       /* ephemeral as root: default postgres / mysql */
    int tcp;            /* ephemeral: also listen on 127.0.0.1:<free port> */
    char *bin_dir;      /* ephemeral: server binaries dir; NULL = search */
    char *base_dir;     /* ephemeral: parent of the private dir; NULL = $TMPDIR or /tmp */
    int no_template;    /* ephemeral: "template": false, initialise every instance afresh */
    char *admin_dsn;    /* server */
    char *password_env; /* server: env var holding the admin password */
    char *prefix;       /* server: default "rd_scratch_" */
    char *endpoint;     /* server for dynamodb: the DynamoDB-compatible endpoint URL; engine s3:
                           the catalog's endpoint (copies are server-side) */
    char *bucket;       /* server for s3: the bucket of the scratch prefixes */
    char *region;       /* engine s3: the catalog's region */
    int path_style;     /* engine s3: the catalog's path_style */
    int allow_same_server;
    rd_strlist create;  /* exec */
    rd_strlist destroy; /* exec */
    double timeout;     /* provision timeout, default 600 */
} rd_scratch_cfg;

typedef struct rd_restore_cfg {
    int jobs;              /* 0: number of cores */
    int split_buffer_mb;   /* MariaDB logical: MiB read ahead of the clients; 0: from memory */
    int defer_indexes;     /* MariaDB logical split: plain secondary indexes added after the rows
                              (docs/restore-tuning.md) */
    double timeout;        /* default 7200 */
    char *roles;           /* no-owner (default) | create | strict */
    char *read;            /* with databases: sections (default, when the cluster manifest
                              lists them) | whole (read and verify the whole dump) */
    rd_strlist decrypt;    /* argv of a decrypt filter ("gpg", "--decrypt"), empty: none */
    rd_strlist extra_args; /* appended to the restore tool's argv */
    int verify_manifest;   /* physical: pg_verifybackup the laid base backup (default 1) */
} rd_restore_cfg;

/* Physical restores (DESIGN section 11): the recover phase and the
 * recovery result. */
typedef struct rd_recovery_cfg {
    double timeout;      /* recover phase, default 7200 */
    double tolerance;    /* newest heartbeat row within this of the target; default 3s (three
                            intervals of the heartbeat's default 1s) */
    rd_strlist settings; /* extra server settings "name=value" (they win over the data
                            directory's own, never over the drill's safety settings) */
} rd_recovery_cfg;

typedef struct rd_reference_cfg {
    char *manifest; /* NULL: none; "sidecar": <artifact>.manifest.json; else a path */
    char *dsn;      /* live reference (read-only), NULL: none */
    char *password_env;
    char *listing;     /* engine s3: the listing captured at backup time (JSON lines), or NULL */
    char *description; /* engine dynamodb: a captured DescribeTable answer (file), NULL: none */
} rd_reference_cfg;

typedef struct rd_check_cfg {
    char *type;
    char *name;                      /* config "name", else NULL */
    char *path;                      /* "targets[0].checks[2]" for messages */
    double timeout;                  /* "timeout", default 3600 */
    const struct cJSON *params;      /* the check's whole object (borrowed from the config) */
    const struct rd_check_type *ct;  /* set by rd_config_drivers.check_configure */
    void *state;                     /* the check's validated parameters */
    void (*state_free)(void *state); /* frees state; NULL when nothing to free */
} rd_check_cfg;

typedef struct rd_target_cfg {
    char *name;
    rd_engine engine;
    char *path; /* "targets[0]" */
    double rto; /* objectives; < 0 unset */
    double rpo;
    rd_catalog_cfg catalog;
    rd_sample_cfg sample;
    rd_scratch_cfg scratch;
    rd_restore_cfg restore;
    rd_reference_cfg reference;
    rd_recovery_cfg recovery;
    char *database;       /* physical restores: the database checks connect to (NULL: the one
                             named like the target, else the only non-system one) */
    rd_strlist databases; /* globs; empty: the dump's own databases */
    rd_strlist key;       /* dynamodb: the table's key attributes, [partition] or
                             [partition, sort] */
    double timeout_sample, timeout_fetch, timeout_provision, timeout_verify, timeout_teardown;
    rd_check_cfg *checks;
    size_t nchecks;
    int checks_given;     /* 0: "checks" absent, default checks apply */
    rd_strlist controls;  /* "controls": audit controls its results support; empty: the drill's */
    int negative_control; /* plant faults after the checks pass (docs/evidence.md) */
    char *keep_scratch;   /* never (default) | on-failure | always */
    double keep_scratch_ttl; /* seconds gc leaves a kept ephemeral instance; default 1d */
    int verify_parallel;     /* connections the verify phase works on at once (1-64); 0: the
                                cores shared among the targets running at once */
} rd_target_cfg;

typedef struct rd_output_cfg {
    char *dir;                                        /* default "out" */
    char *junit, *json, *html, *prometheus, *history; /* file names (relative to dir) or NULL */
    char *sign_key; /* output.sign.key: Ed25519 private key (PEM) path; NULL: unsigned */
} rd_output_cfg;

typedef struct rd_notify_cfg {
    char *webhook;  /* NULL: none (secret: never printed) */
    char *on;       /* failure (default) | always | never */
    double timeout; /* default 10 */
} rd_notify_cfg;

typedef struct rd_config {
    char *file; /* display name used in messages */
    int version;
    char *name;
    int has_seed;
    uint64_t seed;
    int parallel;
    rd_output_cfg output;
    rd_notify_cfg notify;
    rd_target_cfg *targets;
    size_t ntargets;
    rd_strlist controls; /* "controls": e.g. "SOC2 A1.3"; may be empty */
    char sha256[65];     /* of the configuration text as read (before expansion) */
    struct cJSON *root;  /* the expanded document; checks borrow from it */
} rd_config;

/* Defaults of the per-phase timeouts (seconds) when the config gives none.
 * restore.timeout is timeouts.restore, scratch.timeout is timeouts.provision
 * (either spelling may be used, not both with different values). */
#define RD_TIMEOUT_SAMPLE_DEFAULT 300.0
#define RD_TIMEOUT_FETCH_DEFAULT 3600.0
#define RD_TIMEOUT_PROVISION_DEFAULT 600.0
#define RD_TIMEOUT_RESTORE_DEFAULT 7200.0
#define RD_TIMEOUT_VERIFY_DEFAULT 14400.0
#define RD_TIMEOUT_TEARDOWN_DEFAULT 300.0
#define RD_CHECK_TIMEOUT_DEFAULT 3600.0
#define RD_RECOVER_TIMEOUT_DEFAULT 7200.0
#define RD_RECOVERY_TOLERANCE_DEFAULT 3.0

/* The drivers a configuration is checked against. The configuration layer
 * knows no driver (catalogs, scratch types and checks sit above it): the
 * caller hands in these lookups (rd_drill_drivers of drill.h), so that one
 * load names every error of a file, the drivers' own included. */
typedef struct rd_config_drivers {
    /* 1 when a catalog driver of this type exists */
    int (*catalog_known)(const char *type);
    /* the engines (RD_ENGINE_*) a scratch driver supports; 0: no such driver */
    unsigned (*scratch_engines)(const char *type);
    /* the engines a check type supports; 0: no such check type */
    unsigned (*check_engines)(const char *type);
    /* find c->type, let it validate its parameters (c->params, c->path) for
     * the engine, and set c->ct, c->state and c->state_free; on error the
     * message names the check's path and c->ct, c->state stay NULL */
    rd_status (*check_configure)(rd_check_cfg *c, rd_engine engine, rd_error *err);
    /* optional: let the catalog driver check what a user may get wrong
     * before anything starts (a directory that does not exist, a stanza that
     * does not exist, a tool that is not installed); the message starts with
     * the key ("wal_dir: ...") and is prefixed with the catalog's path */
    rd_status (*catalog_check)(const rd_catalog_cfg *c, rd_error *err);
} rd_config_drivers;

/* Read, strip comments, expand variables, validate and type the file.
 * drivers NULL: catalog and scratch types are checked against the contract
 * only and checks are not configured (ct and state stay NULL), for tests and
 * tools that need no drivers. RD_ERR_CONFIG / RD_ERR_IO on failure with the
 * path-precise message. */
rd_status rd_config_load(const char *path, const rd_config_drivers *drivers, rd_config **out,
                         rd_error *err);
/* Same from text; file_name is used in messages. */
rd_status rd_config_parse(const char *text, const char *file_name, const rd_config_drivers *drivers,
                          rd_config **out, rd_error *err);
void rd_config_free(rd_config *cfg);

/* Find a target by name; NULL when absent. */
const rd_target_cfg *rd_config_target(const rd_config *cfg, const char *name);

/* --- helpers for validating a JSON object's keys and values ---
 * `path` is the object's path for messages ("targets[0].checks[2]"), may be
 * "" or NULL for the top level. Each error reads "PATH.KEY: expected X, got Y"
 * with RD_ERR_CONFIG; the caller prefixes the file name. Out-parameters are
 * written only when the key is present and valid; absent optional keys leave
 * them untouched and return RD_OK. Strings returned are heap copies. */

/* Refuse any key not in allowed (NULL-terminated): `PATH.KEY: unknown key
 * (expected one of: a, b, c)`. */
rd_status rd_cfg_check_keys(const struct cJSON *obj, const char *path, const char *const *allowed,
                            rd_error *err);
rd_status rd_cfg_string(const struct cJSON *obj, const char *path, const char *key, int required,
                        char **out, rd_error *err);
rd_status rd_cfg_bool(const struct cJSON *obj, const char *path, const char *key, int *out,
                      rd_error *err);
/* Integer within [min, max]. */
rd_status rd_cfg_int(const struct cJSON *obj, const char *path, const char *key, long long min,
                     long long max, long long *out, rd_error *err);
/* Number of seconds or a duration string. */
rd_status rd_cfg_duration(const struct cJSON *obj, const char *path, const char *key, double *out,
                          rd_error *err);
/* Array of strings (a lone string is accepted as a one-item list when
 * allow_single). */
rd_status rd_cfg_strlist(const struct cJSON *obj, const char *path, const char *key,
                         int allow_single, rd_strlist *out, rd_error *err);
/* Object of string values ("env"): items as "NAME=VALUE". */
rd_status rd_cfg_strmap(const struct cJSON *obj, const char *path, const char *key, rd_strlist *out,
                        rd_error *err);

/* A string out of a fixed set (allowed is NULL-terminated): `PATH.KEY:
 * expected one of "a", "b", got "c"`. */
rd_status rd_cfg_enum(const struct cJSON *obj, const char *path, const char *key,
                      const char *const *allowed, char **out, rd_error *err);
/* An object value (borrowed): `PATH.KEY: expected an object, got 5`. */
rd_status rd_cfg_object(const struct cJSON *obj, const char *path, const char *key, int required,
                        const struct cJSON **out, rd_error *err);
/* 1 when a string value was produced by ${VAR} expansion: such values are
 * never echoed in messages. */
int rd_cfg_from_env(const struct cJSON *item);
/* Describe a value for "got ..." in messages: `"two"` (quoted, shortened),
 * `5`, `true`, `null`, `an object`, `an array`, `nothing`, or `a value from the
 * environment`. Returns buf. */
char *rd_cfg_got(const struct cJSON *item, char *buf, size_t bufsz);
/* Parse JSON with comments: strip them (cJSON_Minify), parse, require an
 * object at the top. Errors name line and column: `line 3, column 9: invalid
 * JSON near "2}"`. *root is the caller's (cJSON_Delete). */
rd_status rd_cfg_parse_text(const char *text, struct cJSON **root, rd_error *err);
/* Expand ${VAR} in every string value below node (in place), marking the
 * values that changed as from the environment. path names node in messages:
 * `PATH.KEY: environment variable X is not set`. */
rd_status rd_cfg_expand_tree(struct cJSON *node, const char *path, rd_error *err);

void rd_strlist_free(rd_strlist *l);
rd_status rd_strlist_push(rd_strlist *l, const char *s, rd_error *err);
/* NULL-terminated view for argv/env use: heap array of borrowed pointers. */
const char **rd_strlist_argv(const rd_strlist *l);

/* Expand ${VAR} and ${VAR:-default} from the environment. An unset variable
 * without a default is RD_ERR_CONFIG "environment variable VAR is not set".
 * "$$" stays "$$". *out heap. */
rd_status rd_config_expand_env(const char *in, char **out, rd_error *err);

#endif
