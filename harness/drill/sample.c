/* sample.c: choose the recovery point a drill restores, reproducibly from a
 * seed, and the RPO exposure of a catalog (DESIGN section 3).
 *
 * Points created after t0 do not exist yet at the simulated disaster and are
 * ignored (except by strategy id, which names one explicitly). The window
 * [t0 - window, t0] bounds what random and oldest consider; latest always
 * takes the newest point. */
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/prng.h"
#include "restoredrill/spans.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct span {
    size_t upto;  /* points [0, upto) were created at or before t0 */
    size_t first; /* first point inside the window */
} span;

static span window_span(const rd_points *pts, double window, int64_t now_ms)
{
    span s = {0, 0};
    while (s.upto < pts->n && pts->items[s.upto].created_ms <= now_ms)
        s.upto++;
    if (window >= 0) {
        int64_t lo = now_ms - (int64_t)llround(window * 1000.0);
        while (s.first < s.upto && pts->items[s.first].created_ms < lo)
            s.first++;
    }
    return s;
}

static void archive_exposure(const rd_archive *a, int64_t now_ms, rd_sample *out);

static void fill_exposure(const rd_points *pts, span s, int64_t now_ms, rd_sample *out)
{
    memset(out, 0, sizeof *out);
    out->candidates = s.upto - s.first;
    out->incident_ms = now_ms;
    if (s.upto == 0) {
        out->exposure_seconds = -1;
        out->newest_age_seconds = -1;
        return;
    }
    int64_t newest = pts->items[s.upto - 1].created_ms;
    int64_t gap = now_ms - newest;
    for (size_t i = s.first + 1; i < s.upto; i++) {
        int64_t g = pts->items[i].created_ms - pts->items[i - 1].created_ms;
        if (g > gap)
            gap = g;
    }
    out->newest_ms = newest;
    out->newest_age_seconds = (double)(now_ms - newest) / 1000.0;
    out->exposure_seconds = (double)gap / 1000.0;
}

void rd_sample_exposure(const rd_points *pts, double window, int64_t now_ms, rd_sample *out)
{
    rd_points none = {0};
    fill_exposure(pts ? pts : &none, window_span(pts ? pts : &none, window, now_ms), now_ms, out);
    archive_exposure(pts ? pts->archive : NULL, now_ms, out);
}

static rd_status empty_window(const rd_points *pts, span s, double window, int64_t now_ms,
                              rd_error *err)
{
    char buf[RD_TIME_BUFSZ], buf2[RD_TIME_BUFSZ];
    if (pts->n == 0)
        return RD_ERR(err, RD_ERR_NOTFOUND, "no recovery points in the catalog");
    if (s.upto == 0)
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "no recovery points created at or before t0 (%s): the oldest is from %s",
                      rd_time_format(now_ms, buf, sizeof buf),
                      rd_time_format(pts->items[0].created_ms, buf2, sizeof buf2));
    return RD_ERR(err, RD_ERR_NOTFOUND, "no recovery points inside the %s window",
                  rd_duration_format(window, buf, sizeof buf));
}

static int usable(const rd_point *pt)
{
    return pt->broken == NULL;
}

/* The index of the k-th usable point of [first, upto), or upto. */
static size_t nth_usable(const rd_points *pts, size_t first, size_t upto, uint64_t k)
{
    for (size_t i = first; i < upto; i++)
        if (usable(&pts->items[i]) && k-- == 0)
            return i;
    return upto;
}

static size_t count_usable(const rd_points *pts, size_t first, size_t upto)
{
    size_t n = 0;
    for (size_t i = first; i < upto; i++)
        n += usable(&pts->items[i]);
    return n;
}

/* RPO exposure of an archive: the longest span a gap makes unrecoverable,
 * and the time since the last reachable commit. */
static void archive_exposure(const rd_archive *a, int64_t now_ms, rd_sample *out)
{
    if (!a || a->end_ms <= 0)
        return;
    int64_t worst = now_ms - a->end_ms;
    for (size_t i = 0; i < a->ngaps; i++)
        if (a->gaps[i].from_ms > 0 && a->gaps[i].to_ms > a->gaps[i].from_ms &&
            a->gaps[i].to_ms - a->gaps[i].from_ms > worst)
            worst = a->gaps[i].to_ms - a->gaps[i].from_ms;
    out->exposure_seconds = (double)worst / 1000.0;
    out->newest_ms = a->end_ms;
    out->newest_age_seconds = (double)(now_ms - a->end_ms) / 1000.0;
}

/* Why no base backup reaches target (RD_ERR_NOTFOUND). */
static rd_status unreachable(const rd_archive *a, int64_t target, rd_error *err)
{
    char t[RD_TIME_BUFSZ], b[RD_TIME_BUFSZ], c[RD_TIME_BUFSZ];
    rd_time_format(target, t, sizeof t);
    if (a->start_ms <= 0)
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "target %s is not restorable: the archive has no usable base backup", t);
    /* gaps first: a gap may start before the window (a missing timeline history
     * file leaves the older base backups off the chain) */
    for (size_t i = 0; i < a->ngaps; i++) {
        const rd_wal_gap *g = &a->gaps[i];
        if (g->from_ms > 0 && g->from_ms < target && (g->to_ms <= 0 || target < g->to_ms) &&
            g->damage)
            return RD_ERR(err, RD_ERR_NOTFOUND,
                          "target %s lies past a damaged file in the archive: %s is %s, %s to %s "
                          "cannot be recovered",
                          t, g->first, g->damage, rd_time_format(g->from_ms, b, sizeof b),
                          g->to_ms > 0 ? rd_time_format(g->to_ms, c, sizeof c) : "the end");
        if (g->from_ms > 0 && g->from_ms < target && (g->to_ms <= 0 || target < g->to_ms))
            return RD_ERR(err, RD_ERR_NOTFOUND,
                          "target %s lies past a gap in the archive: %s to %s missing, %s to %s "
                          "cannot be recovered",
                          t, g->first, g->last, rd_time_format(g->from_ms, b, sizeof b),
                          g->to_ms > 0 ? rd_time_format(g->to_ms, c, sizeof c) : "the end");
    }
    if (target < a->start_ms + RD_PITR_END_SLACK_MS)
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "target %s is before the end of the oldest usable base backup (%s)", t,
                      rd_time_format(a->start_ms, b, sizeof b));
    return RD_ERR(err, RD_ERR_NOTFOUND, "target %s is past the last archived commit (%s)", t,
                  rd_time_format(a->end_ms, b, sizeof b));
}

/* The base backup for a target: the newest usable one that ended (plus the
 * slack) at or before it and reaches it without a gap. */
static rd_status pitr_base(const rd_points *pts, const rd_sample_cfg *cfg, int64_t now_ms,
                           int64_t target, rd_pitr_kind kind, rd_sample *out, rd_error *err)
{
    size_t best = pts->n;
    for (size_t i = 0; i < pts->n; i++) {
        const rd_point *pt = &pts->items[i];
        if (usable(pt) && pt->created_ms + RD_PITR_END_SLACK_MS <= target && pt->reach_ms >= target)
            best = i;
    }
    if (best == pts->n)
        return unreachable(pts->archive, target, err);
    rd_sample r;
    fill_exposure(pts, window_span(pts, cfg->window, now_ms), now_ms, &r);
    archive_exposure(pts->archive, now_ms, &r);
    r.candidates = count_usable(pts, 0, pts->n);
    r.index = best;
    r.pitr = kind;
    r.target_ms = target;
    r.incident_ms = target;
    *out = r;
    return RD_OK;
}

static rd_status pick_pitr(const rd_points *pts, const rd_sample_cfg *cfg, const char *strategy,
                           uint64_t seed, int64_t now_ms, rd_sample *out, rd_error *err)
{
    const rd_archive *a = pts->archive;
    int64_t target;
    rd_pitr_kind kind = RD_PITR_TIME;
    if (!a)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "sample.strategy: %s needs a catalog with a WAL or binlog archive", strategy);
    if (strcmp(strategy, "pitr-random") == 0) {
        int64_t lo = a->start_ms + RD_PITR_END_SLACK_MS;
        int64_t hi = a->end_ms < now_ms ? a->end_ms : now_ms;
        if (cfg->window >= 0 && now_ms - (int64_t)llround(cfg->window * 1000.0) > lo)
            lo = now_ms - (int64_t)llround(cfg->window * 1000.0);
        if (a->start_ms <= 0 || a->end_ms <= 0 || hi < lo) {
            char w1[RD_TIME_BUFSZ], w2[RD_TIME_BUFSZ];
            return RD_ERR(err, RD_ERR_NOTFOUND,
                          "the restorable window (%s to %s) has no instant inside the sampling "
                          "window",
                          a->start_ms > 0 ? rd_time_format(a->start_ms, w1, sizeof w1) : "none",
                          a->end_ms > 0 ? rd_time_format(a->end_ms, w2, sizeof w2) : "none");
        }
        rd_prng prng;
        rd_prng_seed(&prng, seed);
        target = lo + (int64_t)rd_prng_below(&prng, (uint64_t)(hi - lo) + 1);
    } else if (cfg->time && strcmp(cfg->time, "latest") == 0) {
        if (a->end_ms <= 0)
            return RD_ERR(err, RD_ERR_NOTFOUND,
                          "no commit is reachable in the archive (no usable base backup)");
        target = a->end_ms;
        kind = RD_PITR_LATEST;
    } else {
        rd_error e2;
        if (!cfg->time || rd_time_parse(cfg->time, &target, &e2) != RD_OK)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "sample.time: expected an RFC 3339 time or "
                          "\"latest\"");
    }
    return pitr_base(pts, cfg, now_ms, target, kind, out, err);
}

/* The restorable instants of the archive inside the sampling window, as a
 * merged span set: [start + slack, min(end, t0)] intersected with [t0 -
 * window, t0], without what the gaps make unrecoverable. */
static rd_status pitr_allowed(const rd_archive *a, double window, int64_t now_ms, rd_span **out,
                              size_t *n, rd_error *err)
{
    int64_t lo = a->start_ms + RD_PITR_END_SLACK_MS;
    int64_t hi = (a->end_ms < now_ms ? a->end_ms : now_ms) + 1;
    rd_span *holes = NULL;
    size_t nh = 0;
    if (window >= 0 && now_ms - (int64_t)llround(window * 1000.0) > lo)
        lo = now_ms - (int64_t)llround(window * 1000.0);
    if (a->start_ms <= 0 || a->end_ms <= 0)
        lo = hi;
    if (a->ngaps && !(holes = calloc(a->ngaps, sizeof *holes)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < a->ngaps; i++) {
        if (a->gaps[i].from_ms <= 0)
            continue;
        holes[nh].from_ms = a->gaps[i].from_ms + 1;
        holes[nh].to_ms = a->gaps[i].to_ms > 0 ? a->gaps[i].to_ms : INT64_MAX;
        nh++;
    }
    nh = rd_spans_merge(holes, nh);
    rd_status st = rd_spans_subtract(lo, hi, holes, nh, out, n, err);
    free(holes);
    return st;
}

rd_status rd_sample_pitr_window(const rd_points *pts, double window, int64_t now_ms, rd_span **out,
                                size_t *n, rd_error *err)
{
    *out = NULL;
    *n = 0;
    if (!pts || !pts->archive)
        return RD_OK;
    return pitr_allowed(pts->archive, window, now_ms, out, n, err);
}

/* least-verified on an archive: one seeded draw (millisecond resolution)
 * over the instants of the restorable window that the passed drills of the
 * history proved restorable the fewest times. */
static rd_status pick_least_pitr(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                                 int64_t now_ms, const rd_span *proven, size_t nproven,
                                 rd_sample *out, rd_error *err)
{
    rd_span *allowed = NULL, *least = NULL;
    size_t na = 0, nl = 0, depth = 0;
    rd_status st = pitr_allowed(pts->archive, cfg->window, now_ms, &allowed, &na, err);
    if (st == RD_OK)
        st = rd_spans_least(proven, nproven, allowed, na, &least, &nl, &depth, err);
    int64_t len = st == RD_OK ? rd_spans_length(least, nl) : 0;
    if (st == RD_OK && len <= 0) {
        char w1[RD_TIME_BUFSZ], w2[RD_TIME_BUFSZ];
        const rd_archive *a = pts->archive;
        st = RD_ERR(err, RD_ERR_NOTFOUND,
                    "the restorable window (%s to %s) has no instant inside the sampling window",
                    a->start_ms > 0 ? rd_time_format(a->start_ms, w1, sizeof w1) : "none",
                    a->end_ms > 0 ? rd_time_format(a->end_ms, w2, sizeof w2) : "none");
    }
    if (st == RD_OK) {
        rd_prng prng;
        rd_prng_seed(&prng, seed);
        int64_t target = rd_spans_nth(least, nl, (int64_t)rd_prng_below(&prng, (uint64_t)len));
        st = pitr_base(pts, cfg, now_ms, target, RD_PITR_TIME, out, err);
        if (st == RD_OK) {
            out->least_depth = depth;
            out->least_ms = len;
            out->least_stretches = nl;
        }
    }
    free(allowed);
    free(least);
    return st;
}

rd_status rd_sample_pick(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                         int64_t now_ms, rd_sample *out, rd_error *err)
{
    return rd_sample_pick_counts(pts, cfg, seed, now_ms, NULL, out, err);
}

/* least-verified: the k-th (k drawn from the seed) of the window's points
 * with the fewest verifications. */
static size_t least_verified(span s, const size_t *verified, uint64_t seed)
{
    size_t min = SIZE_MAX, ties = 0, k;
    for (size_t i = s.first; i < s.upto; i++) {
        size_t v = verified ? verified[i] : 0;
        if (v < min) {
            min = v;
            ties = 0;
        }
        if (v == min)
            ties++;
    }
    rd_prng prng;
    rd_prng_seed(&prng, seed);
    k = (size_t)rd_prng_below(&prng, (uint64_t)ties);
    for (size_t i = s.first; i < s.upto; i++)
        if ((verified ? verified[i] : 0) == min && k-- == 0)
            return i;
    return s.first; /* not reached */
}

rd_status rd_sample_pick_counts(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                                int64_t now_ms, const size_t *verified, rd_sample *out,
                                rd_error *err)
{
    return rd_sample_pick_history(pts, cfg, seed, now_ms, verified, NULL, 0, out, err);
}

rd_status rd_sample_pick_history(const rd_points *pts, const rd_sample_cfg *cfg, uint64_t seed,
                                 int64_t now_ms, const size_t *verified, const rd_span *proven,
                                 size_t nproven, rd_sample *out, rd_error *err)
{
    const char *strategy = cfg && cfg->strategy ? cfg->strategy : "latest";
    double window = cfg ? cfg->window : -1;
    rd_points none = {0};
    if (!pts)
        pts = &none;
    span s = window_span(pts, window, now_ms);
    size_t index = 0;

    if (strcmp(strategy, "pitr-random") == 0 || strcmp(strategy, "pitr") == 0) {
        rd_sample_cfg dflt = {0};
        dflt.window = -1;
        return pick_pitr(pts, cfg ? cfg : &dflt, strategy, seed, now_ms, out, err);
    }
    if (strcmp(strategy, "latest") == 0) {
        size_t n = count_usable(pts, 0, s.upto);
        if (n == 0)
            return empty_window(pts, s, window, now_ms, err);
        index = nth_usable(pts, 0, s.upto, n - 1);
    } else if (strcmp(strategy, "oldest") == 0 || strcmp(strategy, "random") == 0) {
        size_t n = count_usable(pts, s.first, s.upto);
        if (n == 0)
            return empty_window(pts, s, window, now_ms, err);
        uint64_t k = 0;
        if (strategy[0] == 'r') {
            rd_prng prng;
            rd_prng_seed(&prng, seed);
            k = rd_prng_below(&prng, (uint64_t)n);
        }
        index = nth_usable(pts, s.first, s.upto, k);
    } else if (strcmp(strategy, "least-verified") == 0 && pts->archive) {
        rd_sample_cfg dflt = {0};
        dflt.window = -1;
        return pick_least_pitr(pts, cfg ? cfg : &dflt, seed, now_ms, proven, nproven, out, err);
    } else if (strcmp(strategy, "least-verified") == 0) {
        if (s.upto == s.first)
            return empty_window(pts, s, window, now_ms, err);
        index = least_verified(s, verified, seed);
    } else if (strcmp(strategy, "id") == 0) {
        if (!cfg || !cfg->id || !*cfg->id)
            return RD_ERR(err, RD_ERR_CONFIG, "sample.id: strategy id needs an id");
        size_t i = 0;
        while (i < pts->n && strcmp(pts->items[i].id, cfg->id) != 0)
            i++;
        if (i == pts->n)
            return RD_ERR(err, RD_ERR_NOTFOUND, "no recovery point with id %s", cfg->id);
        if (!usable(&pts->items[i]))
            return RD_ERR(err, RD_ERR_NOTFOUND, "recovery point %s is broken: %s", cfg->id,
                          pts->items[i].broken);
        index = i;
    } else {
        return RD_ERR(err, RD_ERR_CONFIG,
                      "sample.strategy: expected one of latest, random, oldest, id, pitr-random, "
                      "pitr, least-verified, got \"%s\"",
                      strategy);
    }

    rd_sample r;
    fill_exposure(pts, s, now_ms, &r);
    archive_exposure(pts->archive, now_ms, &r);
    r.index = index;
    r.incident_ms = index + 1 < s.upto ? pts->items[index + 1].created_ms : now_ms;
    if (pts->items[index].base) {
        r.pitr = RD_PITR_CONSISTENT;
        r.target_ms = pts->items[index].created_ms;
    }
    *out = r;
    return RD_OK;
}
