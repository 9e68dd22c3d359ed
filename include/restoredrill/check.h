/* check.h: the check interface, the registry and the context a check runs in.
 *
 * A check proves one thing about a restored scratch database and records
 * one result per object (table, probe, query) through rd_check_record. A
 * verdict is not an error: a check that ran returns RD_OK whatever it found;
 * it returns an error status only when it could not run, and the caller
 * then records an `error` result (never a pass). Checks see databases only
 * through db.h: they never include libpq or mysql headers. */
#ifndef RESTOREDRILL_CHECK_H
#define RESTOREDRILL_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/error.h"
#include "restoredrill/manifest.h"
#include "restoredrill/result.h"
#include "restoredrill/scratch.h"

struct cJSON;
struct rd_dyn_verify;
struct rd_s3set_target;
typedef struct rd_check_pool rd_check_pool;

typedef struct rd_check_ctx {
    const rd_target_cfg *target;
    const rd_check_cfg *check;   /* this check's config */
    rd_db *scratch;              /* connected to the restored database */
    const char *database;        /* multi-database targets: the database scratch is connected
                                    to; rd_check_record then names each object "DB.object" and
                                    sets the result's database. NULL otherwise */
    const rd_scratch *instance;  /* connection info, env for plugins/apps */
    const char *const *tvars;    /* template variables (scratch.*, point.*, target.name) */
    const rd_manifest *manifest; /* reference figures, or NULL */
    rd_db *reference;            /* live reference in a read-only transaction, or NULL */
    const char *reference_dsn;   /* the DSN reference was opened with when it is not
                                    target->reference.dsn (a multi-database target's reference
                                    for this database), else NULL */
    int64_t point_created_ms;    /* the sampled recovery point's creation time */
    rd_target_result *result;    /* sink (use rd_check_record) */
    double deadline;             /* rd_mono_now() instant by which the check must end */
    /* engine dynamodb: what verifying the recovery point found (its item
     * count and digest are the reference figures), else NULL */
    const struct rd_dyn_verify *dyn;
    /* engine dynamodb: the restored table read once (rowcount and checksum
     * share the Scan); dyn_scanned 1 once dyn_scan holds it */
    int dyn_scanned;
    struct rd_dyn_digest_cache {
        uint64_t lane[4];
        int64_t items;
    } dyn_scan;
    /* engine s3: the expected object set and where the copy is, else NULL */
    const struct rd_s3set_target *s3;
    /* filled by freshness: newest data instant (ms) and its basis */
    int64_t newest_data_ms;
    const char *newest_data_basis; /* "heartbeat" | "query" (static strings) */
    /* worker connections to the same database for rd_check_units; NULL: the
     * units run one after another on scratch */
    rd_check_pool *pool;
} rd_check_ctx;

/* Keys every check accepts besides its own. */
#define RD_CHECK_COMMON_KEYS "type", "name", "timeout"

typedef struct rd_check_type {
    const char *name; /* "rowcount" */
    unsigned engines; /* RD_ENGINE_PG | RD_ENGINE_MARIADB */
    /* required: validate params (the check's whole config object) at config
     * time. path is "targets[0].checks[2]"; errors name PATH.KEY (use the
     * rd_cfg_* helpers). *state may stay NULL. */
    rd_status (*configure)(const struct cJSON *params, const char *path, rd_engine engine,
                           void **state, rd_error *err);
    rd_status (*run)(rd_check_ctx *ctx, void *state, rd_error *err);
    /* optional */
    void (*free)(void *state);
    /* engines for which the check is accepted in a configuration but does
     * not apply: it is not configured, and its run records one skipped
     * result "not supported for <engine>" (sql on dynamodb) */
    unsigned skips;
    /* optional: a check that needs the server stopped (physical restores):
     * the drill calls it after recovery and before the online checks, on
     * the scratch instance (which it must leave running and attached); it
     * records its results in res. An error status becomes an `error`
     * result. NULL: an online check. */
    rd_status (*run_offline)(rd_scratch *s, const rd_check_cfg *cc, rd_target_result *res,
                             double deadline, rd_error *err);
    /* 1: the check only reads the scratch database (any object it creates
     * is its own and invisible to the other concurrent checks) and never
     * uses ctx->reference from more than one thread: the verify phase may
     * run it beside other concurrent checks of other types, on a worker
     * connection of its own. 0: it runs alone, in configuration order. */
    int concurrent;
} rd_check_type;

extern const rd_check_type *const rd_check_registry[]; /* NULL-terminated */
const rd_check_type *rd_check_find(const char *name);

/* Record one result for `object` (prefixed "DB." when ctx->database is set) with the check's type
 * and name, timed by the caller (seconds). Returns the result for adding expected/actual/props
 * (valid until the next record on the same target); NULL on allocation
 * failure. */
rd_check_result *rd_check_record(rd_check_ctx *ctx, const char *object, rd_verdict v,
                                 double seconds, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Run one configured check: calls ct->run, and when it returns an error,
 * records an `error` result with the message (object = "*"). */
void rd_check_run_one(rd_check_ctx *ctx);

/* --- parallel work units (checks/check_pool.c, DESIGN section 10) --- */

/* A pool of `workers` threads, each owning one connection to the database
 * conn describes (connected and pinned, rd_db_pin_session, as its thread
 * starts). A worker that cannot connect logs a warning and leaves: its share
 * of the units runs on the others and on the callers. workers < 1: no pool
 * (*out = NULL, RD_OK). conn is copied. Free with rd_check_pool_free once
 * no rd_check_units call is running on it. */
rd_status rd_check_pool_new(const rd_conninfo *conn, int workers, rd_check_pool **out,
                            rd_error *err);
void rd_check_pool_free(rd_check_pool *p);
/* The workers holding a connection (rd_check_pool_new waits until each
 * has connected or given up); 0 for NULL. */
int rd_check_pool_connections(const rd_check_pool *p);

/* One unit of work: ctx is the caller's context with scratch set to the
 * connection of the thread running the unit and result to the unit's own
 * buffer; i is the unit's index. A unit records results through ctx and
 * writes anything else only into its own slot of ud; it must not use
 * ctx->reference (one connection shared by every thread). */
typedef void (*rd_check_unit_fn)(rd_check_ctx *ctx, size_t i, void *ud);

/* Run units 0..n-1 of fn and return once all are done: with ctx->pool, on
 * its workers and on the calling thread (which runs units of this call
 * until none is left to start, so nested calls from inside a unit always
 * progress); without, one after another on the calling thread. Each unit's
 * results are appended to ctx->result in unit order once all are done, so
 * the results read as those of a run in order whatever ran where. A unit
 * not started when an abort is requested does not run. Returns RD_ERR_NOMEM
 * when the results cannot be collected (the units' results are then lost
 * and the caller records the error). */
rd_status rd_check_units(rd_check_ctx *ctx, size_t n, rd_check_unit_fn fn, void *ud, rd_error *err);

/* Parse an expectation "= v", "!= v", ">= 100", "< 2.5", "~ ^ok", "rows = 3".
 * Error: `expected an operator and a value like ">= 100", got "lots"`. */
typedef enum rd_expect_op {
    RD_EXPECT_EQ,
    RD_EXPECT_NE,
    RD_EXPECT_GE,
    RD_EXPECT_LE,
    RD_EXPECT_GT,
    RD_EXPECT_LT,
    RD_EXPECT_MATCH,
    RD_EXPECT_ROWS
} rd_expect_op;
typedef struct rd_expect {
    rd_expect_op op;
    char *value; /* heap */
    int numeric; /* value parses as a number */
    double num;
    void *regex; /* compiled regex_t for MATCH (heap), else NULL */
} rd_expect;
rd_status rd_expect_parse(const char *text, rd_expect *out, rd_error *err);
/* 1 when actual (NULL = SQL NULL, never matches but "!=") meets the
 * expectation; numbers compare numerically when both parse, text exactly otherwise.
 * For RD_EXPECT_ROWS pass the row count as actual text. */
int rd_expect_eval(const rd_expect *e, const char *actual);
void rd_expect_free(rd_expect *e);

#endif
