/* catalog.h: recovery points, catalogs that list them, and sampling.
 *
 * A catalog driver lists points; points are sorted by creation time (oldest
 * first) and sampled reproducibly from a seed with rd_prng. */
#ifndef RESTOREDRILL_CATALOG_H
#define RESTOREDRILL_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/spans.h"

typedef struct rd_point {
    char *id;           /* file name (dir), or the catalog's id */
    int64_t created_ms; /* creation instant */
    char *time_basis;   /* "manifest" | "name" | "mtime" | "catalog" */
    char *location;     /* path or URL */
    int64_t bytes;      /* -1 unknown */
    char *sha256;       /* expected digest, NULL unknown */
    char *format;       /* declared format or NULL (detected from content at fetch) */
    char *manifest;     /* sidecar manifest path (or s3:// URL) if one exists, else NULL */
    /* Physical points (pg-archive, pgbackrest, mariabackup): a base backup
     * that restores to its consistency point (created_ms, the end of the
     * backup) and, with the archive, to any time up to reach_ms. All NULL / 0
     * for logical points: `base` non-NULL marks a physical point. */
    char *base;       /* base backup label (pgBackRest set, pg_basebackup label) */
    char *wal_start;  /* first WAL segment (or binlog file:pos) the backup needs */
    char *wal_stop;   /* WAL segment (or binlog file:pos) of its consistency point */
    int64_t start_ms; /* when the base backup started (0 unknown) */
    int64_t reach_ms; /* last commit reachable from it without a gap (0: only its
                         consistency point) */
    char *broken;     /* why it cannot be restored (never sampled), else NULL */
} rd_point;

/* One gap in a WAL / binlog archive: files that are missing, and the span of
 * time that cannot be recovered because of them. */
typedef struct rd_wal_gap {
    char *first, *last; /* first and last missing file (segment name or binlog name) */
    int64_t from_ms;    /* last commit reachable before the gap (0 unknown) */
    int64_t to_ms;      /* first instant recoverable again: the end of the next base backup
                           after the gap, plus RD_PITR_END_SLACK_MS (0: none, nothing after the
                           gap is recoverable) */
    char *damage;       /* NULL: the files are missing; else the one file (first == last) is
                           there but unusable past its last complete event, and why
                           ("truncated at byte 812 of 900: the event there needs 412 bytes") */
} rd_wal_gap;

/* The archive of a physical catalog (rd_points.archive). */
typedef struct rd_archive {
    int64_t start_ms;  /* restorable window: end of the oldest usable base backup */
    int64_t end_ms;    /* ... to the last commit reachable without a gap (from the newest
                          base backup before it); gaps inside are holes in the window */
    char *first;       /* first file the oldest usable base backup needs */
    char *last;        /* last file of the gap-free run from it */
    char *newest;      /* newest archived file */
    int64_t newest_ms; /* last commit in the newest archived file (0 unknown) */
    size_t files;      /* archived files seen */
    rd_wal_gap *gaps;  /* every gap after `first`, oldest first */
    size_t ngaps;
    char *timelines; /* timeline path ("1", "1->2 at 0/3000000"), may be NULL */
} rd_archive;

typedef struct rd_points {
    rd_point *items;
    size_t n;
    rd_archive *archive; /* physical catalogs: the WAL / binlog archive; else NULL */
} rd_points;

/* Free an archive and its gaps. NULL is a no-op. */
void rd_archive_free(rd_archive *a);
/* Append a gap (strings copied). */
rd_status rd_archive_add_gap(rd_archive *a, const char *first, const char *last, int64_t from_ms,
                             int64_t to_ms, rd_error *err);
/* Append a damaged file as a gap (first = last = file, damage = why; copied). */
rd_status rd_archive_add_damage(rd_archive *a, const char *file, const char *why, int64_t from_ms,
                                int64_t to_ms, rd_error *err);
/* Sort the gaps by from_ms (then first): drivers that add damaged files
 * after the missing ones. */
void rd_archive_sort_gaps(rd_archive *a);

void rd_points_free(rd_points *p);
/* Free one point's strings and reset it (bytes = -1). NULL is a no-op. */
void rd_point_clear(rd_point *pt);
/* Append *pt, taking ownership of its strings (*pt is reset on success; on
 * RD_ERR_NOMEM the caller still owns it). */
rd_status rd_points_push(rd_points *p, rd_point *pt, rd_error *err);
/* Sort by created_ms, then id (stable, deterministic). */
void rd_points_sort(rd_points *p);

typedef struct rd_catalog_type {
    const char *name; /* "dir" */
    /* required */
    rd_status (*list)(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err);
    /* optional: what a user may get wrong, checked when the configuration
     * loads (RD_ERR_CONFIG "wal_dir: /x does not exist"; the caller prefixes
     * the catalog's path): missing directories, stanzas, tools */
    rd_status (*check)(const rd_catalog_cfg *cfg, rd_error *err);
} rd_catalog_type;

extern const rd_catalog_type *const rd_catalog_registry[]; /* NULL-terminated */
/* The drivers (harness/catalog/dir.c, exec.c, s3.c, dynamodb_export.c,
 * pg_archive.c, pgbackrest.c, mariabackup.c), for the registry and tests. dir's path may be
 * s3://bucket/prefix: then it lists like s3 (with the catalog's endpoint,
 * region and path_style). */
extern const rd_catalog_type rd_catalog_dir;
extern const rd_catalog_type rd_catalog_exec;
extern const rd_catalog_type rd_catalog_s3;
extern const rd_catalog_type rd_catalog_dynamodb_export;
extern const rd_catalog_type rd_catalog_pg_archive;
extern const rd_catalog_type rd_catalog_pgbackrest;
extern const rd_catalog_type rd_catalog_mariabackup; /* model: mariabackup.h */
/* engine s3: backup prefixes, or a versioned bucket as one point with an
 * archive (its versioning window); docs/s3-objects.md */
extern const rd_catalog_type rd_catalog_s3_objects;
const rd_catalog_type *rd_catalog_find(const char *name);
/* The exec catalog's output (a JSON array of recovery points, len bytes of
 * text, NUL not needed) into points, in the order given; RD_ERR_FORMAT naming
 * the item and key of the first mistake. The command's stdout is outside
 * input (tests/fuzz/fuzz_exec_catalog.c). */
rd_status rd_catalog_exec_parse(const char *text, size_t len, rd_points *out, rd_error *err);
/* List and sort through the registry. RD_ERR_UNSUPPORTED "catalog type \"s3\"
 * is not implemented yet" for contract types without a driver. */
rd_status rd_catalog_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err);

/* Parse a timestamp embedded in a file name: 20260130-150000,
 * 20260130T150000Z, 20260130T150000, 2026-01-30T15:00:00Z,
 * 2026-01-30_15-00-00 (UTC; the trailing Z is optional). The first match
 * not preceded or followed by a digit wins; impossible dates do not match.
 * Returns 1 and sets *ms when found, else 0 (and *ms is untouched). */
int rd_catalog_time_from_name(const char *name, int64_t *ms);

/* A PostgreSQL LSN as written "0/3000028" (two hex halves) into *lsn. 1 on
 * success, else 0 (*lsn untouched). */
int rd_wal_parse_lsn(const char *s, uint64_t *lsn);

/* A base backup's end is known to the second (backup_label, pgBackRest's
 * timestamp.stop): it ended in [created_ms, created_ms + 1s). A time target
 * uses a base backup only from created_ms + RD_PITR_END_SLACK_MS on, so a
 * target is never before the backup's consistency point. */
#define RD_PITR_END_SLACK_MS 1000

/* What a physical restore recovers to. */
typedef enum rd_pitr_kind {
    RD_PITR_NONE = 0,   /* a logical point: nothing to recover */
    RD_PITR_CONSISTENT, /* the base backup's consistency point (latest/oldest/random/id) */
    RD_PITR_TIME,       /* a target time (pitr with a time, pitr-random) */
    RD_PITR_LATEST      /* the last reachable commit (pitr "latest") */
} rd_pitr_kind;

typedef struct rd_sample {
    size_t index;        /* into the sorted points */
    rd_pitr_kind pitr;   /* RD_PITR_NONE for logical points */
    int64_t target_ms;   /* RD_PITR_TIME: the target; RD_PITR_LATEST: the archive's end_ms;
                            RD_PITR_CONSISTENT: the point's created_ms */
    size_t candidates;   /* points inside the window */
    int64_t incident_ms; /* RPO incident time: t0 for the newest, else next newer point's time */
    int64_t newest_ms;   /* newest point's creation time */
    double exposure_seconds; /* largest gap between consecutive points in the window, and
                                between the newest and t0 */
    double newest_age_seconds;
    /* least-verified on an archive: how many passed drills proved the drawn
     * instant restorable, and the length (ms) and number of the stretches
     * of the window proven that few times, among which it was drawn */
    size_t least_depth;
    int64_t least_ms;
    size_t least_stretches;
} rd_sample;

/* Choose a point from points sorted by rd_points_sort. now_ms is t0.
 * Points created after t0 are ignored (strategy id may still name one).
 * latest: the newest point (whatever the window); oldest: the oldest inside
 * the window; random: one rd_prng_below(candidates) draw from a generator
 * seeded with seed, over the points inside the window [t0 - window, t0]
 * (window < 0: all); id: cfg->id.
 * RD_ERR_NOTFOUND "no recovery points in the catalog" / "no recovery points
 * inside the 30d window" / "no recovery point with id X" / "no recovery
 * points created at or before t0 (...)"; RD_ERR_CONFIG for an unknown
 * strategy or id without an id.
 * Physical points (pts->archive set): latest/oldest/random/id never pick a
 * broken point (id naming one is RD_ERR_NOTFOUND with its reason) and
 * recover to the point's consistency point; pitr-random draws a target
 * uniformly (millisecond resolution, one rd_prng_below draw) inside the
 * restorable window [archive start_ms + RD_PITR_END_SLACK_MS, end_ms]
 * intersected with [t0 - window, t0]; pitr takes cfg->time (RFC 3339) or
 * "latest" (end_ms). The base backup is the newest point with
 * created_ms + RD_PITR_END_SLACK_MS <= target that reaches it without a gap. A target the archive
 * cannot reach (before the oldest base backup ended, past a gap, past the last archived commit) is
 * RD_ERR_NOTFOUND naming the reason: a finding, not a configuration error.
 * pitr strategies on a catalog without an archive are RD_ERR_CONFIG.
 * incident_ms is the target time for PITR. *out is written
 * only on success. The pick depends only on (seed, points, cfg, now_ms).
 * exposure_seconds and newest_age_seconds are -1 when no point exists. */
rd_status rd_sample_pick(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                         int64_t now_ms, rd_sample *out, rd_error *err);
/* rd_sample_pick with, per point, the number of passed drills the history
 * holds of it (verified[i] for pts->items[i]; NULL: none), which strategy
 * least-verified needs: one seeded draw among the points inside the window
 * verified the fewest times. The other strategies ignore verified. */
rd_status rd_sample_pick_counts(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                                int64_t now_ms, const size_t *verified, rd_sample *out,
                                rd_error *err);
/* rd_sample_pick_counts with, for a catalog with an archive, the stretches
 * of its window that passed drills proved restorable (one span per drill,
 * as rd_coverage_proven gives them; NULL: none): least-verified then draws
 * a target time (one rd_prng_below draw, millisecond resolution) among the
 * restorable instants of the window (as pitr-random's, without the spans
 * gaps make unrecoverable) that the fewest of those spans hold, and
 * recovers to it like pitr (RD_PITR_TIME). */
rd_status rd_sample_pick_history(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                                 int64_t now_ms, const size_t *verified, const rd_span *proven,
                                 size_t nproven, rd_sample *out, rd_error *err);
/* The restorable instants of pts->archive inside the sampling window
 * ([start + RD_PITR_END_SLACK_MS, min(end, now)] within [now - window,
 * now], gaps' unrecoverable spans taken out) as a merged span set: *out
 * heap, NULL (0) without an archive or when empty. */
rd_status rd_sample_pitr_window(const rd_points *pts, double window, int64_t now_ms, rd_span **out,
                                size_t *n, rd_error *err);
/* RPO exposure only (for list): same window rules, no pick. */
void rd_sample_exposure(const rd_points *pts, double window, int64_t now_ms, rd_sample *out);

#endif
