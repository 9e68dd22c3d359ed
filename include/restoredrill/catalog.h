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

typedef struct rd_point {
    char *id;           /* file name (dir), or the catalog's id */
    int64_t created_ms; /* creation instant */
    char *time_basis;   /* "manifest" | "name" | "mtime" | "catalog" */
    char *location;     /* path or URL */
    int64_t bytes;      /* -1 unknown */
    char *sha256;       /* expected digest, NULL unknown */
    char *format;       /* declared format or NULL (detected from content at fetch) */
    char *manifest;     /* sidecar manifest path if one exists, else NULL */
} rd_point;

typedef struct rd_points {
    rd_point *items;
    size_t n;
} rd_points;

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
} rd_catalog_type;

extern const rd_catalog_type *const rd_catalog_registry[]; /* NULL-terminated */
/* The drivers (harness/catalog/dir.c, exec.c, mariabackup.c), for the
 * registry and tests. */
extern const rd_catalog_type rd_catalog_dir;
extern const rd_catalog_type rd_catalog_exec;
extern const rd_catalog_type rd_catalog_mariabackup; /* model: mariabackup.h */
const rd_catalog_type *rd_catalog_find(const char *name);
/* List and sort through the registry. RD_ERR_UNSUPPORTED "catalog type \"s3\"
 * is not implemented yet" for contract types without a driver. */
rd_status rd_catalog_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err);

/* Parse a timestamp embedded in a file name: 20260130-150000,
 * 20260130T150000Z, 20260130T150000, 2026-01-30T15:00:00Z,
 * 2026-01-30_15-00-00 (UTC; the trailing Z is optional). The first match
 * not preceded or followed by a digit wins; impossible dates do not match.
 * Returns 1 and sets *ms when found, else 0 (and *ms is untouched). */
int rd_catalog_time_from_name(const char *name, int64_t *ms);

typedef struct rd_sample {
    size_t index;        /* into the sorted points */
    size_t candidates;   /* points inside the window */
    int64_t incident_ms; /* RPO incident time: t0 for the newest, else next newer point's time */
    int64_t newest_ms;   /* newest point's creation time */
    double exposure_seconds; /* largest gap between consecutive points in the window, and
                                between the newest and t0 */
    double newest_age_seconds;
} rd_sample;

/* Choose a point from points sorted by rd_points_sort. now_ms is t0.
 * Points created after t0 are ignored (strategy id may still name one).
 * latest: the newest point (whatever the window); oldest: the oldest inside
 * the window; random: one rd_prng_below(candidates) draw from a generator
 * seeded with seed, over the points inside the window [t0 - window, t0]
 * (window < 0: all); id: cfg->id.
 * RD_ERR_NOTFOUND "no recovery points in the catalog" / "no recovery points
 * inside the 30d window" / "no recovery point with id X" / "no recovery
 * points created at or before t0 (...)"; RD_ERR_UNSUPPORTED for pitr-random;
 * RD_ERR_CONFIG for an unknown strategy or id without an id. *out is written
 * only on success. The pick depends only on (seed, points, cfg, now_ms).
 * exposure_seconds and newest_age_seconds are -1 when no point exists. */
rd_status rd_sample_pick(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                         int64_t now_ms, rd_sample *out, rd_error *err);
/* RPO exposure only (for list): same window rules, no pick. */
void rd_sample_exposure(const rd_points *pts, double window, int64_t now_ms, rd_sample *out);

#endif
