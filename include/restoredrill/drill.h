/* drill.h: the drill engine: per target sample -> fetch -> provision ->
 * restore -> verify -> teardown, timed, with RTO/RPO and objectives. */
#ifndef RESTOREDRILL_DRILL_H
#define RESTOREDRILL_DRILL_H

#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/result.h"
#include "restoredrill/spans.h"

typedef struct rd_drill_opts {
    const char *const *targets; /* NULL-terminated names to run; NULL: all */
    int has_seed;
    uint64_t seed;
    int parallel;         /* 0: config */
    int shard_k, shard_n; /* 1-based shard of the target list; n = 0: no sharding */
    const char *out_dir;  /* NULL: config output.dir */
    int keep_scratch;
    int dry_run;
    int negative_control; /* every target, as negative_control: true */
    /* Passed drills the history holds of a target's recovery point (for
     * strategy least-verified and the report's coverage); NULL: none known.
     * Called from worker threads: must only read ud. */
    size_t (*verified)(void *ud, const char *target, const char *point_id);
    void *verified_ud;
    /* The stretches of a PITR window that passed drills of the target proved
     * restorable (rd_coverage_proven, with verified_ud); NULL: none known. */
    size_t (*proven)(void *ud, const char *target, rd_span **out);
} rd_drill_opts;

/* The driver lookups for rd_config_load: catalogs, scratch types and checks
 * of the registries (harness/drill/drivers.c). */
extern const rd_config_drivers rd_drill_drivers;

/* Run the drill. Always produces a report in *out (even on failure or abort)
 * unless allocation fails; returns RD_OK when the drill ran (whatever the
 * verdicts), RD_ERR_ABORTED when interrupted, another error when it could not
 * start. */
rd_status rd_drill_run(const rd_config *cfg, const rd_drill_opts *opts, rd_report **out,
                       rd_error *err);

#endif
