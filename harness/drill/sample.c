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

#include <math.h>
#include <stdint.h>
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
    rd_points none = {NULL, 0};
    fill_exposure(pts ? pts : &none, window_span(pts ? pts : &none, window, now_ms), now_ms, out);
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
    const char *strategy = cfg && cfg->strategy ? cfg->strategy : "latest";
    double window = cfg ? cfg->window : -1;
    rd_points none = {NULL, 0};
    if (!pts)
        pts = &none;
    span s = window_span(pts, window, now_ms);
    size_t index = 0;

    if (strcmp(strategy, "pitr-random") == 0)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "sample strategy pitr-random needs a pg-archive catalog, which is not "
                      "implemented yet");
    if (strcmp(strategy, "latest") == 0) {
        if (s.upto == 0)
            return empty_window(pts, s, window, now_ms, err);
        index = s.upto - 1;
    } else if (strcmp(strategy, "oldest") == 0 || strcmp(strategy, "random") == 0) {
        if (s.upto == s.first)
            return empty_window(pts, s, window, now_ms, err);
        index = s.first;
        if (strategy[0] == 'r') {
            rd_prng prng;
            rd_prng_seed(&prng, seed);
            index += (size_t)rd_prng_below(&prng, (uint64_t)(s.upto - s.first));
        }
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
        index = i;
    } else {
        return RD_ERR(err, RD_ERR_CONFIG,
                      "sample.strategy: expected one of latest, random, oldest, id, pitr-random, "
                      "least-verified, got \"%s\"",
                      strategy);
    }

    rd_sample r;
    fill_exposure(pts, s, now_ms, &r);
    r.index = index;
    r.incident_ms = index + 1 < s.upto ? pts->items[index + 1].created_ms : now_ms;
    *out = r;
    return RD_OK;
}
