/* spans.h: sets of time spans, for the coverage of a PITR window: which
 * stretches of it passed drills proved restorable, which are left, and where
 * the history is thinnest (strategy least-verified).
 *
 * A span is half-open, [from_ms, to_ms), in epoch milliseconds: it holds
 * the instants from_ms .. to_ms - 1 and is empty when to_ms <= from_ms. A
 * "merged" set is sorted, without empty, overlapping or touching spans. */
#ifndef RESTOREDRILL_SPANS_H
#define RESTOREDRILL_SPANS_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"

typedef struct rd_span {
    int64_t from_ms, to_ms;
} rd_span;

/* Sort s and merge overlapping or touching spans in place, dropping empty
 * ones; returns the new count (s stays a valid array of that many). */
size_t rd_spans_merge(rd_span *s, size_t n);
/* Total length (ms) of a merged set. */
int64_t rd_spans_length(const rd_span *s, size_t n);
/* A merged set clipped to the merged set `within` (its intersection):
 * *out heap (free; NULL when empty), *nout its count. */
rd_status rd_spans_intersect(const rd_span *s, size_t n, const rd_span *within, size_t nw,
                             rd_span **out, size_t *nout, rd_error *err);
/* [lo, hi) minus the merged set holes: *out heap (NULL when empty). */
rd_status rd_spans_subtract(int64_t lo, int64_t hi, const rd_span *holes, size_t nh, rd_span **out,
                            size_t *nout, rd_error *err);
/* The least covered part of `allowed` (merged): each span of `cover` (any
 * order, overlapping: one per drill) counts once for the instants it holds;
 * *out gets the instants of allowed that the fewest spans hold (merged,
 * heap), *depth that number. allowed empty: *out NULL, *nout 0. */
rd_status rd_spans_least(const rd_span *cover, size_t n, const rd_span *allowed, size_t na,
                         rd_span **out, size_t *nout, size_t *depth, rd_error *err);
/* The k-th instant (0-based) of a merged set; k < rd_spans_length. */
int64_t rd_spans_nth(const rd_span *s, size_t n, int64_t k);

#endif
