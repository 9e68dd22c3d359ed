/* result.h: the result model shared by the drill, the checks and the report
 * writers: one rd_report per drill, one rd_target_result per target, one
 * rd_check_result per checked object.
 *
 * All strings are heap-owned by the struct that holds them; rd_report_free
 * frees the whole tree. Instants are epoch milliseconds (0 = unknown);
 * durations are seconds (a negative value = not measured / not set). */
#ifndef RESTOREDRILL_RESULT_H
#define RESTOREDRILL_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/spans.h"

typedef enum rd_verdict {
    RD_PASSED = 0,
    RD_FAILED,
    RD_ERROR, /* could not run: never counts as a pass */
    RD_SKIPPED,
    RD_ABORTED /* drill/target only: interrupted by a signal */
} rd_verdict;

/* "passed", "failed", "error", "skipped", "aborted" */
const char *rd_verdict_name(rd_verdict v);
/* Parse the names above; -1 when unknown. */
int rd_verdict_parse(const char *s);
/* The worse of two verdicts: aborted > error > failed > passed > skipped. */
rd_verdict rd_verdict_worse(rd_verdict a, rd_verdict b);

typedef struct rd_prop {
    char *name;
    char *value;
} rd_prop;

typedef struct rd_check_result {
    char *id;     /* "<check name or type>:<object>", unique in a target */
    char *type;   /* check type: "rowcount", ... and the synthetic "restore",
                     "objective" for the restore and rto/rpo/max_age results */
    char *check;  /* the check's name (config "name", else the type) */
    char *object; /* "public.orders", "GET /health", "rto" */
    rd_verdict status;
    double seconds;
    char *message;  /* one line for humans */
    char *expected; /* may be NULL */
    char *actual;   /* may be NULL */
    rd_prop *props;
    size_t nprops;
    char *output;   /* long text for <system-out>: tool stderr tail, app output; may be NULL */
    char *database; /* the database of a multi-database target the result is about (object
                       then reads "DB.object"); NULL for a whole-target result */
} rd_check_result;

typedef struct rd_phase {
    char *name; /* sample fetch provision restore recover verify teardown */
    double seconds;
    rd_verdict status;
    int64_t started_at_ms, finished_at_ms; /* wall clock; 0 unknown (skipped phases) */
} rd_phase;

typedef struct rd_point_info {
    char *id;
    int64_t created_at_ms;
    char *location; /* secrets redacted */
    int64_t bytes;  /* -1 unknown */
    char *sha256;   /* may be NULL */
    char *format;   /* "pg-custom", "pg-directory", "pg-plain", "mariadb-sql", + "+gzip"... */
    /* physical points (DESIGN section 11); NULL / 0 otherwise */
    char *base;              /* base backup label or directory; non-NULL marks a physical point */
    int64_t target_time_ms;  /* what recovery was asked to reach (0: none) */
    char *wal_first;         /* first WAL segment (binlog file:pos) replayed */
    char *wal_last;          /* last one */
    int64_t reached_time_ms; /* the last replayed commit (0 unknown) */
} rd_point_info;

typedef struct rd_objective {
    double seconds;        /* measured; < 0 when not measured */
    double target_seconds; /* objective; < 0 when none set */
    int met;               /* 1 met, 0 not met (or not measurable) */
} rd_objective;

typedef struct rd_target_result {
    char *name;
    char *engine; /* "postgres" | "mariadb" */
    rd_verdict status;
    int64_t started_at_ms;
    int64_t finished_at_ms;
    rd_point_info point; /* id NULL when nothing was sampled */
    char *sampling_strategy;
    char *sampling_reason; /* how the point was chosen, one sentence; may be NULL */
    size_t sampling_candidates;
    uint64_t sampling_seed;
    int64_t pitr_target_ms; /* 0 unless PITR */
    rd_phase *phases;
    size_t nphases;
    rd_objective rto;
    double data_ready_seconds; /* < 0 unknown */
    rd_objective rpo;
    char *rpo_basis;             /* "heartbeat" | "query" | "catalog" */
    double rpo_exposure_seconds; /* largest gap in the window; < 0 unknown */
    double newest_age_seconds;   /* age of the newest point at t0; < 0 unknown */
    double data_lag_seconds;     /* created_at - newest_data_time; < 0 unknown */
    rd_check_result *checks;
    size_t nchecks;
    char *error;     /* why the target failed/errored, one line; NULL when passed */
    char *notes;     /* e.g. "default checks: rowcount, integrity, schema"; may be NULL */
    char **controls; /* audit controls its results support (target's, else the drill's) */
    size_t ncontrols;
    char *scratch_type; /* ephemeral | server | exec; NULL when nothing was provisioned */
    char *isolation;    /* one line: why the scratch instance is not the reference; may be NULL */
    /* recovery points of the retention window, oldest first: '.' never
     * verified, 'V' verified by an earlier drill, 'T' this drill's point, 'B'
     * this drill's point verified before too; NULL unknown */
    char *coverage_map;
    /* PITR targets (a catalog with an archive): the restorable window of the
     * sampling window (pitr_window_*, 0 unknown), the stretches of it that
     * passed drills in the history proved restorable before this drill
     * (merged, oldest first), and this drill's stretch: [the base backup's
     * end, the recovery target] (this_*, 0 none) */
    int64_t pitr_window_start_ms, pitr_window_end_ms;
    int64_t pitr_window_ms; /* its restorable length (gaps left out) */
    rd_span *pitr_proven;
    size_t npitr_proven;
    int64_t pitr_this_from_ms, pitr_this_to_ms;
    char *kept_connect;    /* the scratch instance was kept: how to connect (no password) */
    int64_t kept_until_ms; /* until when gc leaves it; 0: no time to live recorded */
    /* multi-database targets ("databases"): how many non-system databases the
     * recovery point holds, how many matched the globs, and the ones drilled
     * (sampled), sorted by name; databases_total 0 for other targets */
    size_t databases_total, databases_matched;
    char **databases;
    size_t ndatabases;
    int config_error; /* a configuration error found while running (a databases glob that
                         matched nothing): `run` exits 2 */
} rd_target_result;

typedef struct rd_report_summary {
    size_t targets, targets_passed, targets_failed;
    size_t checks, passed, failed, errors, skipped;
} rd_report_summary;

typedef struct rd_report {
    char *tool_version;
    char *drill_id; /* random, unique per run */
    char *name;
    uint64_t seed;
    int64_t started_at_ms;
    int64_t finished_at_ms;
    char *host;
    char *user;
    rd_verdict status;   /* passed failed error aborted */
    char *config_path;   /* may be NULL */
    char *config_sha256; /* of the configuration file's bytes; may be NULL */
    char *ci_job_url;    /* CI job that ran the drill (from the environment); may be NULL */
    char *signing_key;   /* fingerprint of the key that signs this report; NULL: unsigned */
    char **controls;     /* the drill's audit controls ("SOC2 A1.3") */
    size_t ncontrols;
    rd_target_result *targets;
    size_t ntargets;
} rd_report;

/* New empty report / target / check; NULL on allocation failure. The
 * returned target/check pointer is owned by its parent and valid until the
 * next add on the same parent (arrays grow). */
rd_report *rd_report_new(void);
void rd_report_free(rd_report *r);
rd_target_result *rd_report_add_target(rd_report *r, const char *name, const char *engine);
rd_check_result *rd_target_add_check(rd_target_result *t, const char *type, const char *check,
                                     const char *object, rd_verdict status, const char *message);
/* Move every check result of src to the end of dst, in order (parallel
 * verification collects each unit's results in a buffer of its own). src
 * is left without results either way; on allocation failure its results
 * are freed and RD_ERR_NOMEM returned. */
rd_status rd_target_take_checks(rd_target_result *dst, rd_target_result *src, rd_error *err);
rd_phase *rd_target_add_phase(rd_target_result *t, const char *name, double seconds,
                              rd_verdict status);
/* Setters that replace (and free) the old string; printf-style for message. */
void rd_check_set_message(rd_check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rd_check_set_expected(rd_check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rd_check_set_actual(rd_check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rd_check_set_output(rd_check_result *c, const char *text);
void rd_check_add_prop(rd_check_result *c, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append a drilled database to t->databases (a copy). */
rd_status rd_target_add_database(rd_target_result *t, const char *name, rd_error *err);
/* Set c->database (a copy; NULL clears). */
void rd_check_set_database(rd_check_result *c, const char *database);
void rd_target_set_error(rd_target_result *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append a copy of s to a string vector (controls). RD_ERR_NOMEM on failure. */
rd_status rd_strv_push(char ***v, size_t *n, const char *s, rd_error *err);
void rd_strv_free(char **v, size_t n);

/* Recompute t->status from its checks (worst verdict; skipped-only = passed)
 * unless the target already carries a worse status. */
void rd_target_settle(rd_target_result *t);
/* Recompute r->status from the targets. */
void rd_report_settle(rd_report *r);
void rd_report_summarize(const rd_report *r, rd_report_summary *s);

#endif
