/* drill_int.h: what the drill files share (drill.c orchestrates the targets,
 * drill_target.c runs one target's phases (drill_fetch.c, drill_scratch.c,
 * drill_restore.c the logical ones), drill_verify.c the checks,
 * measure.c phases, RTO, RPO and objectives). */
#ifndef RESTOREDRILL_DRILL_INT_H
#define RESTOREDRILL_DRILL_INT_H

#include <stdint.h>

#include "restoredrill/artifact.h"
#include "restoredrill/catalog.h"
#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/drill.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/restore.h"
#include "restoredrill/result.h"
#include "restoredrill/s3set.h"
#include "restoredrill/scratch.h"

/* One target's drill. Owned by the orchestrator; a worker thread runs it. */
typedef struct rd_drill_target {
    const rd_config *cfg;
    const rd_target_cfg *t;
    const rd_drill_opts *opts;
    const char *drill_id;
    uint64_t seed;
    rd_target_result *res; /* its slot in the report (stable: targets are added first) */
    /* measured */
    double t0;          /* rd_mono_now() at the start */
    int64_t t0_ms;      /* wall clock at t0 */
    double restore_end; /* mono; 0 when the restore did not finish */
    double verify_end;  /* mono; 0 when verify did not run */
    int restore_ok;
    int verify_ok;          /* every check passed (or skipped) */
    int64_t newest_data_ms; /* from freshness, 0 unknown */
    const char *newest_data_basis;
    rd_sample sample;
    int sampled;
    int64_t point_created_ms;
    const rd_point *point; /* the sampled point (in points) */
    rd_points points;
    rd_db *reference;    /* live reference (reference.dsn), or NULL */
    rd_scratch *scratch; /* left for the orchestrator when aborted */
    rd_strlist dbs;      /* multi-database targets: the databases drilled (sampled) */
    rd_points files;     /* catalog.per_database: the catalog's files (points are their groups) */
    struct rd_manifest *cluster; /* their cluster manifest (sidecar or reference.manifest), or
                                    NULL: then the databases were listed from the dump */
    int cluster_loaded;          /* dt->cluster was looked for */
    int chosen;                  /* dt->dbs were picked */
    /* section ranges (ranges.c): the pieces of the dump read, or none */
    rd_artifact_range *ranges;
    size_t nranges;
    char **range_names;    /* their names, owned */
    uint64_t ranges_bytes; /* stored bytes they cover */
    int aborted;
    rd_dyn_verify *dyn;  /* engine dynamodb: what verifying the point found, or NULL */
    int physical;        /* the sampled point is a base backup (point->base) */
    rd_s3set_target *s3; /* engine s3: the expected set and where the copy is, or NULL */
    rd_s3set *s3_source; /* engine s3, backup prefixes: the objects the restore copies */
    rd_span *proven;     /* PITR: stretches passed drills proved (opts->proven), or NULL */
    size_t nproven;
    int recovery_passed;   /* physical: the recovery result passed */
    int heartbeat_present; /* physical: the recovered instance holds heartbeat rows */
    int at_once;           /* targets the drill runs at once (they share the cores) */
} rd_drill_target;

/* --- drill_target.c, drill_fetch.c, drill_scratch.c, drill_restore.c: the
 * phases of a logical point --- */
/* fetch: verify a local file's sha256, open the stream (*a), detect the
 * format, find the restore driver (*drv). 0 on failure (recorded). */
int rd_drill_phase_fetch(rd_drill_target *dt, rd_artifact **a, const rd_restore_type **drv);
/* provision: connect the reference (reference.dsn), create the scratch with
 * the point's variables (tvars). 0 on failure (recorded). */
int rd_drill_phase_provision(rd_drill_target *dt, const char *const *tvars, const rd_artifact *a);
/* restore: load a (or the per-database files) into the scratch. 1 when it
 * passed. */
int rd_drill_phase_restore(rd_drill_target *dt, rd_artifact *a, const rd_restore_type *drv);
/* teardown: destroy the scratch unless it is kept; timed. */
void rd_drill_phase_teardown(rd_drill_target *dt);

/* drill_record.c: a phase failed (or could not run): a result of type
 * `type` on object, the target's error (the first one) and a log line. */
void rd_drill_phase_fail(rd_drill_target *dt, const char *type, const char *object,
                         const char *phase, rd_verdict v, const char *msg);
/* The same as a "restore" result on the recovery point. */
void rd_drill_target_fail(rd_drill_target *dt, const char *phase, rd_verdict v, const char *msg);

/* --- drill_dynamo.c: the phases of engine dynamodb that differ --- */
/* fetch: read and verify the whole point before anything is restored
 * (MD5 and item count of each data file, the total, every line, key
 * uniqueness), one "export" result per aspect; sets dt->dyn. 1 when every
 * aspect passed. */
int rd_drill_dyn_fetch(rd_drill_target *dt);
/* restore: create the table on the scratch endpoint and load the items
 * with BatchWriteItem; one "restore" result. 1 on success. */
int rd_drill_dyn_restore(rd_drill_target *dt);

/* --- drill_s3.c: the phases of engine s3 that differ --- */
/* fetch: list the point (a backup prefix; a versioned bucket as of the
 * sampled target) and load the expected set (reference.listing, "{point}"
 * replaced by the point's id; or the versions); sets dt->s3, dt->s3_source
 * and the RPO's newest data (LastModified). 1 on success. */
int rd_drill_s3_fetch(rd_drill_target *dt);
/* restore: server-side copies into the scratch prefix; one "restore"
 * result. 1 on success. */
int rd_drill_s3_restore(rd_drill_target *dt);
void rd_drill_s3_free(rd_drill_target *dt);

/* --- drill_physical.c: physical points (DESIGN section 11) --- */
struct rd_physical_type;
/* The archive result of a physical catalog (nothing for logical catalogs). */
void rd_drill_archive_result(rd_drill_target *dt);
/* fetch for a physical point: find the driver. 0 on failure (recorded). */
int rd_drill_physical_fetch(rd_drill_target *dt, const struct rd_physical_type **drv);
/* restore (lay the data directory) and recover (replay, promote, accept
 * writes) phases, the restore and recovery results. 1 when the instance is
 * ready for the checks (dt->restore_ok, dt->restore_end set after recover). */
int rd_drill_physical_restore(rd_drill_target *dt, const struct rd_physical_type *drv);

/* What the recovery result judges (DESIGN section 11). */
typedef struct rd_recovery_facts {
    rd_pitr_kind kind;    /* what recovery was asked to reach */
    int64_t target_ms;    /* the target (RD_PITR_LATEST: the last reachable commit) */
    int64_t reached_ms;   /* the last replayed commit */
    int hb_present;       /* the recovered instance holds heartbeat rows */
    int64_t hb_ms;        /* the newest one */
    int64_t tolerance_ms; /* recovery.tolerance */
} rd_recovery_facts;
/* The recovery result's verdict on the facts: RD_PASSED, or RD_FAILED with
 * the reasons appended to why ("the newest heartbeat row (T) is 4.00s
 * before the target T2, more than recovery.tolerance 3.00s: recovery
 * stopped short"). */
rd_verdict rd_drill_recovery_verdict(const rd_recovery_facts *f, rd_strbuf *why);
/* The newest restoredrill_heartbeat row of scratch s (its target database):
 * *present 0 when the table is absent. */
rd_status rd_drill_newest_heartbeat(rd_engine engine, const rd_scratch *s, int64_t *ms,
                                    int *present, rd_error *err);

/* --- negative_pitr.c --- */
/* The negative control's PITR fault (a time target): a second recovery,
 * into a second scratch instance torn down afterwards, to a moment earlier
 * than the target by more than recovery.tolerance (+1s), judged by the
 * recovery result's rules against the original target; one
 * negative_control result "recovery to an earlier time": passed when the
 * recovery result fails it. */
void rd_drill_negative_pitr(rd_drill_target *dt, double deadline);

/* Run all phases of one target (never fails: verdicts go into dt->res). */
void rd_drill_target_run(rd_drill_target *dt);

/* Sample only (dry run): fills res->point and sampling. */
void rd_drill_target_plan(rd_drill_target *dt);

/* Verify phase: connect, manifest, reference, checks. Returns 1 when every
 * check result is passed or skipped (and at least one ran). */
int rd_drill_verify(rd_drill_target *dt, double deadline, const char *const *tvars);

/* --- databases.c --- */
/* 1 when name matches the shell glob (fnmatch without flags: "*", "?",
 * "[...]", "\" escapes; "_" and "%" are plain characters). */
int rd_db_glob_match(const char *glob, const char *name);
/* The databases of `all` (a recovery point's, system databases left out)
 * that match t->databases, in name order, into matched; t->sample.databases
 * of them (all when 0 or more than there are) drawn with rd_prng from seed,
 * in name order, into picked. A glob that matches nothing is RD_ERR_CONFIG
 * `targets[0].databases[1]: "x*" matches none of the 51 databases of the
 * recovery point`. */
rd_status rd_drill_pick_databases(const rd_target_cfg *t, const rd_strlist *all, uint64_t seed,
                                  rd_strlist *matched, rd_strlist *picked, rd_error *err);

/* Pick the databases of `all` as rd_drill_pick_databases does, into
 * dt->dbs, and record them and the counts in dt->res; *nmatched: how many
 * matched the globs. A glob matching nothing sets dt->res->config_error. */
rd_status rd_drill_take_databases(rd_drill_target *dt, const rd_strlist *all, size_t *nmatched,
                                  rd_error *err);

/* For a cluster-wide point: load its cluster manifest (dt->cluster), list
 * its databases (from the manifest, else a scan of the dump through drv's
 * lister, opened again with o), pick them (dt->dbs) and record the counts
 * in dt->res. A glob matching nothing sets dt->res->config_error. Once
 * chosen, later calls do nothing; drv NULL: only from a cluster manifest
 * (without one, nothing is chosen yet). */
rd_status rd_drill_choose_databases(rd_drill_target *dt, const rd_restore_type *drv,
                                    const rd_artifact_opts *o, rd_error *err);
/* A physical point with `databases`, after recovery: list the restored
 * instance's databases (system databases left out), pick them as for a
 * dump (dt->dbs, the counts in dt->res) and record a "databases" result on
 * object "cluster" saying that the whole cluster was restored and how many
 * databases it holds. 0 (the result an error; a glob matching nothing sets
 * dt->res->config_error) when they cannot be listed or chosen. */
int rd_drill_choose_restored(rd_drill_target *dt);
/* After the restore: a failed "databases" result per database that
 * dt->cluster lists but the dump had no section for (oc->databases_seen;
 * with section ranges: that owns no piece of artifact.sections); the first
 * one's message in err. */
rd_status rd_drill_missing_databases(rd_drill_target *dt, const rd_restore_outcome *oc,
                                     rd_error *err);

/* --- ranges.c: read only the sampled databases' pieces of a cluster dump ---
 * When restore.read is "sections", no decrypt filter is set and the point's
 * cluster manifest lists artifact.sections: choose the databases from the
 * manifest and set dt->ranges to every shared piece and every piece of a
 * chosen database, in file order (else leave them empty: the whole dump is
 * read as before). */
rd_status rd_drill_plan_ranges(rd_drill_target *dt, rd_error *err);
/* "read 5 of 201 databases' sections, 26.1 MB of 1.04 GB, ..." (heap). */
char *rd_drill_ranges_note(const rd_drill_target *dt);
void rd_drill_ranges_free(rd_drill_target *dt);

/* --- per_database.c (catalog.per_database) --- */
/* The database a per-database dump's file name names: the part before the
 * first "-", "_" or "." followed by a date (YYYYMMDD not followed by a
 * digit, or YYYY-MM-DD): "tenant_42-20260130T020000Z.dump" -> "tenant_42".
 * Heap; NULL when there is none (or out of memory). */
char *rd_drill_file_database(const char *name);
/* One point per creation time of files (sorted): id "<time> (N database
 * dumps)", location the catalog's path, bytes the sum, format
 * "per-database". */
rd_status rd_drill_group_points(const rd_catalog_cfg *cat, rd_points *files, rd_points *groups,
                                rd_error *err);
/* The databases of a group point (its files' names), appended to out;
 * RD_ERR_FORMAT for a file without a name or two files of one database. */
rd_status rd_drill_point_databases(const rd_points *files, const rd_point *group, rd_strlist *out,
                                   rd_error *err);
/* The sidecar manifest of database db's own file, or NULL (not a
 * per-database point, or no sidecar). */
const char *rd_drill_file_manifest(const rd_drill_target *dt, const char *db);
/* Restore dt->dbs each from its own file into a database of its name (a
 * restore result per database). 1 when all were restored. */
int rd_drill_restore_per_database(rd_drill_target *dt, double deadline);
/* The reference manifest of the sampled point (reference.manifest, else
 * the catalog's sidecar); *m stays NULL when there is none. 0 (with an
 * error result recorded) when a configured one cannot be loaded. */
struct rd_manifest;
int rd_drill_load_manifest(rd_drill_target *dt, struct rd_manifest **m);
/* Configure the built-in check `name` as a default check (cc is the
 * caller's; free with rd_drill_default_free); 0 when not available. */
int rd_drill_default_check(rd_check_cfg *cc, const char *name, rd_engine engine, size_t i,
                           rd_error *err);
void rd_drill_default_free(rd_check_cfg *cc);
/* A multi-database target's reference for database name: reference.dsn
 * with its database replaced (rd_db_dsn_with_database, every other key
 * kept), connected and in a read-only transaction (one consistent snapshot)
 * of its own; *dsn gets that DSN (heap, may hold a secret: never log it).
 * Close both with rd_drill_reference_close. */
rd_status rd_drill_reference_for(rd_drill_target *dt, const char *name, rd_db **out, char **dsn,
                                 rd_error *err);
/* End the reference's transaction, close it, wipe and free its DSN (NULLs
 * are no-ops). */
void rd_drill_reference_close(rd_db *ref, char *dsn);
/* The template variables of one database of a multi-database target:
 * tvars without the scratch.* ones, then view's (rd_scratch_vars). */
rd_status rd_drill_database_vars(const rd_scratch *view, const char *const *tvars, rd_strlist *out,
                                 rd_error *err);

/* --- drill_record.c --- */
/* Passed drills of each listed point in the history (all 0 without one);
 * heap, NULL on allocation failure. */
size_t *rd_drill_verified_counts(const rd_drill_target *dt);
/* The report's coverage of the retention window and sampling reason. */
void rd_drill_record_sampling(rd_drill_target *dt, const size_t *counts);
/* The report's proof of isolation; compared: a reference identity existed. */
void rd_drill_record_isolation(rd_drill_target *dt, int compared);
/* Keep the scratch instance (say how to connect, in the log and the
 * report); by_config: keep_scratch asked, so record its time to live. */
void rd_drill_keep(rd_drill_target *dt, int by_config);

/* --- negative.c --- */
/* The negative control (negative_control / --negative-control), after the
 * checks passed: plant known faults into the scratch database, re-run the
 * checks that should catch each, record one negative_control result per
 * fault, timed as the phase "negative_control" (not part of the RTO). */
void rd_drill_negative_control(rd_drill_target *dt, double deadline, const char *const *tvars);

/* --- measure.c --- */
/* A deadline timeout seconds from now (rd_mono_now); 0 (none) when
 * timeout <= 0. */
double rd_drill_deadline_in(double timeout);
/* Record a phase: seconds since `start` (mono). */
void rd_measure_phase(rd_target_result *res, const char *name, double start, rd_verdict v);
/* rd_measure_phase of a phase that ended: passed when ok, aborted when the
 * drill was (dt->aborted), else `otherwise`. */
void rd_drill_phase_end(rd_drill_target *dt, const char *name, double start, int ok,
                        rd_verdict otherwise);
/* The verdict of a restore step that returned st: passed; error when the
 * drill was interrupted (dt->aborted is set on RD_ERR_ABORTED or a signal),
 * the configuration is wrong or memory ran out; else failed (the recovery
 * point's fault). */
rd_verdict rd_drill_step_verdict(rd_drill_target *dt, rd_status st);
/* A phase that did not run. */
void rd_measure_skip(rd_target_result *res, const char *name);
/* Fill rto/rpo/data_ready/data_lag of res from dt and add the objective
 * results (rto, rpo, max_age) that the target configures. */
void rd_measure_finish(rd_drill_target *dt);
/* max_age objective right after sampling (also when nothing could be sampled). */
void rd_measure_max_age(rd_drill_target *dt, int have_points);

#endif
