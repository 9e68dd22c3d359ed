/* test_pitr_sample.c: sampling over a physical catalog: pitr-random inside
 * the restorable window (frozen picks for seeds 1, 2, 3), pitr with a time
 * or "latest", unreachable targets as findings, broken base backups never
 * sampled, consistency-point restores for latest/oldest/id. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/catalog.h"
#include "restoredrill/prng.h"

#define MIN INT64_C(60000)
#define BASE INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T0 (BASE + 600 * MIN)

/* b1 ends at +0 and reaches +50 (a gap follows), b2 ends at +60 and reaches
 * +120, b3 (+90) is broken. */
static rd_points fixture(void)
{
    static const char *const ids[3] = {"b1", "b2", "b3"};
    static const int64_t ends[3] = {0, 60, 90}, reach[3] = {50, 120, 120};
    rd_points p = {0};
    for (int i = 0; i < 3; i++) {
        rd_point pt;
        memset(&pt, 0, sizeof pt);
        pt.id = strdup(ids[i]);
        pt.base = strdup(ids[i]);
        pt.created_ms = BASE + ends[i] * MIN;
        pt.reach_ms = BASE + reach[i] * MIN;
        pt.bytes = -1;
        if (i == 2)
            pt.broken = strdup("base.tar is missing");
        ck_assert_int_eq(rd_points_push(&p, &pt, NULL), RD_OK);
    }
    p.archive = calloc(1, sizeof *p.archive);
    p.archive->start_ms = BASE;
    p.archive->end_ms = BASE + 120 * MIN;
    ck_assert_int_eq(rd_archive_add_gap(p.archive, "000000010000000000000005",
                                        "000000010000000000000006", BASE + 50 * MIN,
                                        BASE + 60 * MIN, NULL),
                     RD_OK);
    return p;
}

static rd_sample_cfg cfg(const char *strategy, const char *time)
{
    rd_sample_cfg c;
    memset(&c, 0, sizeof c);
    c.strategy = (char *)strategy;
    c.time = (char *)time;
    c.window = -1;
    c.max_age = -1;
    return c;
}

static rd_status pick(const rd_points *p, const char *strategy, const char *time, uint64_t seed,
                      rd_sample *s, rd_error *err)
{
    rd_sample_cfg c = cfg(strategy, time);
    return rd_sample_pick(p, &c, seed, T0, s, err);
}

START_TEST(pitr_random_frozen)
{
    rd_points p = fixture();
    rd_sample s;
    rd_error err;
    /* start + 1s + one rd_prng_below(7199001) draw per seed */
    for (uint64_t seed = 1; seed <= 3; seed++) {
        rd_status st = pick(&p, "pitr-random", NULL, seed, &s, &err);
        rd_sample again;
        rd_error e2;
        ck_assert_int_eq(pick(&p, "pitr-random", NULL, seed, &again, &e2), st);
        if (st == RD_OK) {
            ck_assert(s.target_ms >= BASE && s.target_ms <= BASE + 120 * MIN);
            ck_assert(s.target_ms == again.target_ms);
            ck_assert_int_eq(s.pitr, RD_PITR_TIME);
            ck_assert(s.incident_ms == s.target_ms);
            /* the newest base backup that ended at or before the target */
            ck_assert_str_eq(p.items[s.index].id, s.target_ms >= BASE + 60 * MIN ? "b2" : "b1");
            ck_assert_uint_eq(s.candidates, 2);
        } else {
            ck_assert_int_eq(st, RD_ERR_NOTFOUND);
            ck_assert_ptr_nonnull(strstr(err.msg, "lies past a gap in the archive"));
        }
    }
    /* computed independently (SplitMix64 + xoshiro256** + Lemire in Python) */
    ck_assert_int_eq(pick(&p, "pitr-random", NULL, 1, &s, &err), RD_OK);
    ck_assert(s.target_ms == BASE + INT64_C(5061334));
    ck_assert_str_eq(p.items[s.index].id, "b2");
    ck_assert_int_eq(pick(&p, "pitr-random", NULL, 2, &s, &err), RD_OK);
    ck_assert(s.target_ms == BASE + INT64_C(736587));
    ck_assert_str_eq(p.items[s.index].id, "b1");
    ck_assert_int_eq(pick(&p, "pitr-random", NULL, 3, &s, &err), RD_OK);
    ck_assert(s.target_ms == BASE + INT64_C(4972905));
    ck_assert_str_eq(p.items[s.index].id, "b2");
    /* a window that ends before the archive's start: nothing to draw */
    rd_sample_cfg c = cfg("pitr-random", NULL);
    c.window = 60;
    ck_assert_int_eq(rd_sample_pick(&p, &c, 1, T0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "the restorable window (2026-01-01T00:00:00.000Z to "
                              "2026-01-01T02:00:00.000Z) has no instant inside the sampling "
                              "window");
    rd_points_free(&p);
}
END_TEST

START_TEST(pitr_time_and_latest)
{
    rd_points p = fixture();
    rd_sample s;
    rd_error err;
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T00:30:00.250Z", 0, &s, &err), RD_OK);
    ck_assert(s.target_ms == BASE + 30 * MIN + 250);
    ck_assert_str_eq(p.items[s.index].id, "b1");
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T02:00:01+01:00", 0, &s, &err), RD_OK);
    ck_assert_str_eq(p.items[s.index].id, "b2");
    /* b2 ended within 01:00:00 (second resolution): a target in that second uses b1,
       which does not reach it (the gap) */
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T01:00:00.999Z", 0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_int_eq(pick(&p, "pitr", "latest", 0, &s, &err), RD_OK);
    ck_assert_int_eq(s.pitr, RD_PITR_LATEST);
    ck_assert(s.target_ms == BASE + 120 * MIN);
    ck_assert_str_eq(p.items[s.index].id, "b2");
    /* exposure: the time since the last reachable commit, or the gap's span */
    ck_assert(s.exposure_seconds == 480 * 60.0);
    rd_points_free(&p);
}
END_TEST

START_TEST(pitr_unreachable)
{
    rd_points p = fixture();
    rd_sample s;
    rd_error err;
    ck_assert_int_eq(pick(&p, "pitr", "2025-12-31T23:00:00Z", 0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2025-12-31T23:00:00.000Z is before the end of the oldest "
                              "usable base backup (2026-01-01T00:00:00.000Z)");
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T00:55:00Z", 0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg,
                     "target 2026-01-01T00:55:00.000Z lies past a gap in the archive: "
                     "000000010000000000000005 to 000000010000000000000006 missing, "
                     "2026-01-01T00:50:00.000Z to 2026-01-01T01:00:00.000Z cannot be recovered");
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T02:00:00.001Z", 0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2026-01-01T02:00:00.001Z is past the last archived commit "
                              "(2026-01-01T02:00:00.000Z)");
    rd_points none = {0};
    ck_assert_int_eq(pick(&none, "pitr", "latest", 0, &s, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "sample.strategy: pitr needs a catalog with a WAL or binlog archive");
    rd_points_free(&p);
}
END_TEST

/* The newest timeline's history file missing: the timeline-1 backup b1 is
 * off the chain, b2 (on the newest timeline) the oldest usable one; a target
 * before b2 lies in the history file's gap, which starts before the window,
 * and is refused naming it. */
START_TEST(pitr_history_gap_before_window)
{
    rd_points p = fixture();
    rd_sample s;
    rd_error err;
    free(p.items[0].broken);
    p.items[0].broken = strdup("it is on timeline 1 and the archive's timelines are inconsistent");
    p.archive->start_ms = BASE + 60 * MIN;
    rd_archive_free(p.archive);
    p.archive = calloc(1, sizeof *p.archive);
    p.archive->start_ms = BASE + 60 * MIN;
    p.archive->end_ms = BASE + 120 * MIN;
    ck_assert_int_eq(rd_archive_add_gap(p.archive, "00000002.history", "00000002.history", BASE,
                                        BASE + 60 * MIN + 1000, NULL),
                     RD_OK);
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T00:30:00Z", 0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg,
                     "target 2026-01-01T00:30:00.000Z lies past a gap in the archive: "
                     "00000002.history to 00000002.history missing, 2026-01-01T00:00:00.000Z to "
                     "2026-01-01T01:00:01.000Z cannot be recovered");
    /* before the gap and the window: still before the oldest usable backup */
    ck_assert_int_eq(pick(&p, "pitr", "2025-12-31T23:00:00Z", 0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2025-12-31T23:00:00.000Z is before the end of the oldest "
                              "usable base backup (2026-01-01T01:00:00.000Z)");
    ck_assert_int_eq(pick(&p, "pitr", "2026-01-01T01:30:00Z", 0, &s, &err), RD_OK);
    ck_assert_str_eq(p.items[s.index].id, "b2");
    rd_points_free(&p);
}
END_TEST

START_TEST(consistency_points_skip_broken)
{
    rd_points p = fixture();
    rd_sample s;
    rd_error err;
    ck_assert_int_eq(pick(&p, "latest", NULL, 0, &s, &err), RD_OK);
    ck_assert_str_eq(p.items[s.index].id, "b2");
    ck_assert_int_eq(s.pitr, RD_PITR_CONSISTENT);
    ck_assert(s.target_ms == BASE + 60 * MIN);
    ck_assert_int_eq(pick(&p, "oldest", NULL, 0, &s, &err), RD_OK);
    ck_assert_str_eq(p.items[s.index].id, "b1");
    for (uint64_t seed = 1; seed < 20; seed++) {
        ck_assert_int_eq(pick(&p, "random", NULL, seed, &s, &err), RD_OK);
        ck_assert_str_ne(p.items[s.index].id, "b3");
    }
    rd_sample_cfg c = cfg("id", NULL);
    c.id = (char *)"b3";
    ck_assert_int_eq(rd_sample_pick(&p, &c, 0, T0, &s, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "recovery point b3 is broken: base.tar is missing");
    rd_points_free(&p);
}
END_TEST

/* least-verified on an archive: a seeded draw among the restorable instants
 * (gaps left out) that passed drills proved the fewest times */
START_TEST(least_verified_pitr_draws_the_least_covered_stretch)
{
    rd_points p = fixture();
    rd_sample_cfg c = cfg("least-verified", NULL);
    rd_sample s;
    rd_error err;
    rd_span *w = NULL;
    size_t nw = 0;
    /* the window: b1's end + 1s to the gap, after the gap to the end */
    ck_assert_int_eq(rd_sample_pitr_window(&p, -1, T0, &w, &nw, &err), RD_OK);
    ck_assert_uint_eq(nw, 2);
    ck_assert_int_eq(w[0].from_ms, BASE + 1000);
    ck_assert_int_eq(w[0].to_ms, BASE + 50 * MIN + 1);
    ck_assert_int_eq(w[1].from_ms, BASE + 60 * MIN);
    ck_assert_int_eq(w[1].to_ms, BASE + 120 * MIN + 1);
    free(w);

    /* no history: the whole window, depth 0 */
    ck_assert_int_eq(rd_sample_pick_history(&p, &c, 7, T0, NULL, NULL, 0, &s, &err), RD_OK);
    ck_assert_int_eq(s.pitr, RD_PITR_TIME);
    ck_assert_uint_eq(s.least_depth, 0);
    ck_assert_int_eq(s.least_ms, 110 * MIN - 1000 + 2);
    ck_assert_uint_eq(s.least_stretches, 2);

    /* drills proved b1's end to +40 min and +60 to +120: only +40..+50 is left */
    rd_span proven[2] = {{BASE, BASE + 40 * MIN + 1}, {BASE + 60 * MIN, BASE + 120 * MIN + 1}};
    for (uint64_t seed = 1; seed <= 5; seed++) {
        ck_assert_int_eq(rd_sample_pick_history(&p, &c, seed, T0, NULL, proven, 2, &s, &err),
                         RD_OK);
        rd_prng prng;
        rd_prng_seed(&prng, seed);
        int64_t want = BASE + 40 * MIN + 1 + (int64_t)rd_prng_below(&prng, 10 * MIN);
        ck_assert_int_eq(s.target_ms, want);
        ck_assert_str_eq(p.items[s.index].id, "b1");
        ck_assert_uint_eq(s.least_depth, 0);
        ck_assert_int_eq(s.least_ms, 10 * MIN);
        ck_assert_uint_eq(s.least_stretches, 1);
        ck_assert_int_eq(s.incident_ms, want);
    }
    /* everything proven once, +70..+80 twice more: the once-proven rest */
    rd_span more[5] = {{BASE, BASE + 50 * MIN + 1},
                       {BASE + 60 * MIN, BASE + 120 * MIN + 1},
                       {BASE + 70 * MIN, BASE + 80 * MIN},
                       {BASE + 70 * MIN, BASE + 80 * MIN},
                       {BASE + 55 * MIN, BASE + 56 * MIN}};
    ck_assert_int_eq(rd_sample_pick_history(&p, &c, 3, T0, NULL, more, 5, &s, &err), RD_OK);
    ck_assert_uint_eq(s.least_depth, 1);
    ck_assert_int_eq(s.least_ms, 100 * MIN - 1000 + 2);
    ck_assert_uint_eq(s.least_stretches, 3);
    ck_assert(!(s.target_ms >= BASE + 70 * MIN && s.target_ms < BASE + 80 * MIN));
    /* logical catalogs keep counting points */
    rd_points_free(&p);
}
END_TEST

Suite *pitr_sample_suite(void);
Suite *pitr_sample_suite(void)
{
    Suite *s = suite_create("pitr_sample");
    TCase *tc = tcase_create("pick");
    tcase_add_test(tc, pitr_random_frozen);
    tcase_add_test(tc, pitr_time_and_latest);
    tcase_add_test(tc, pitr_unreachable);
    tcase_add_test(tc, pitr_history_gap_before_window);
    tcase_add_test(tc, consistency_points_skip_broken);
    tcase_add_test(tc, least_verified_pitr_draws_the_least_covered_stretch);
    suite_add_tcase(s, tc);
    return s;
}
