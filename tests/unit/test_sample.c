/* test_sample.c: sampling strategies, windows, incident time and RPO
 * exposure. The random picks for seeds 1, 2, 3 are a cross-machine contract
 * (computed independently from the SplitMix64 + xoshiro256** + Lemire
 * definition in prng.h); they must never change silently. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/catalog.h"

#define HOUR INT64_C(3600000)
#define BASE INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define T0 (BASE + 230 * HOUR)      /* 2026-01-10T14:00:00Z */

/* Ten points; ids deliberately not in time order. Hours after BASE. */
static const char *const ids[10] = {"k", "c", "x", "a", "m", "q", "b", "z", "e", "r"};
static const int hours[10] = {0, 24, 48, 50, 96, 120, 121, 168, 192, 216};

static rd_points fixture(void)
{
    rd_points p = {0};
    for (int i = 9; i >= 0; i--) { /* pushed newest first: the sort must order them */
        rd_point pt;
        memset(&pt, 0, sizeof pt);
        pt.id = strdup(ids[i]);
        pt.created_ms = BASE + hours[i] * HOUR;
        pt.bytes = -1;
        ck_assert_int_eq(rd_points_push(&p, &pt, NULL), RD_OK);
    }
    rd_points_sort(&p);
    return p;
}

static rd_sample_cfg cfg_of(const char *strategy, double window, const char *id)
{
    rd_sample_cfg c;
    memset(&c, 0, sizeof c);
    c.strategy = (char *)strategy;
    c.window = window;
    c.max_age = -1;
    c.id = (char *)id;
    return c;
}

static rd_sample pick_ok(const rd_points *p, const char *strategy, double window, const char *id,
                         uint64_t seed)
{
    rd_sample_cfg c = cfg_of(strategy, window, id);
    rd_sample s;
    rd_error err;
    rd_status st = rd_sample_pick(p, &c, seed, T0, &s, &err);
    ck_assert_msg(st == RD_OK, "pick %s: %s", strategy, err.msg);
    return s;
}

static void pick_fails(const rd_points *p, const char *strategy, double window, const char *id,
                       int64_t now, rd_status code, const char *msg)
{
    rd_sample_cfg c = cfg_of(strategy, window, id);
    rd_sample s;
    memset(&s, 0x5a, sizeof s);
    rd_error err;
    ck_assert_int_eq(rd_sample_pick(p, &c, 1, now, &s, &err), code);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_uint_eq(s.index, (size_t)0x5a5a5a5a5a5a5a5aULL); /* untouched on failure */
}

START_TEST(random_seeds_frozen)
{
    rd_points p = fixture();
    rd_sample s1 = pick_ok(&p, "random", -1, NULL, 1);
    rd_sample s2 = pick_ok(&p, "random", -1, NULL, 2);
    rd_sample s3 = pick_ok(&p, "random", -1, NULL, 3);
    ck_assert_str_eq(p.items[s1.index].id, "z");
    ck_assert_str_eq(p.items[s2.index].id, "c");
    ck_assert_str_eq(p.items[s3.index].id, "b");
    ck_assert_uint_eq(s1.candidates, 10);
    /* reproducible */
    rd_sample again = pick_ok(&p, "random", -1, NULL, 1);
    ck_assert_uint_eq(again.index, s1.index);
    /* incident time: the next newer point's creation */
    ck_assert_int_eq(s1.incident_ms, BASE + 192 * HOUR);
    ck_assert_int_eq(s2.incident_ms, BASE + 48 * HOUR);
    ck_assert_int_eq(s3.incident_ms, BASE + 168 * HOUR);
    rd_points_free(&p);
}
END_TEST

START_TEST(random_in_window_frozen)
{
    rd_points p = fixture();
    /* window 100h: [130h, 230h] holds z (168h), e (192h), r (216h) */
    rd_sample s1 = pick_ok(&p, "random", 100 * 3600, NULL, 1);
    rd_sample s2 = pick_ok(&p, "random", 100 * 3600, NULL, 2);
    rd_sample s3 = pick_ok(&p, "random", 100 * 3600, NULL, 3);
    ck_assert_str_eq(p.items[s1.index].id, "r");
    ck_assert_str_eq(p.items[s2.index].id, "z");
    ck_assert_str_eq(p.items[s3.index].id, "r");
    ck_assert_uint_eq(s1.candidates, 3);
    ck_assert_int_eq(s1.incident_ms, T0); /* the newest was sampled */
    ck_assert_int_eq(s2.incident_ms, BASE + 192 * HOUR);
    ck_assert(s1.exposure_seconds == 24 * 3600.0);
    rd_points_free(&p);
}
END_TEST

START_TEST(latest_oldest_id)
{
    rd_points p = fixture();
    rd_sample s = pick_ok(&p, "latest", -1, NULL, 7);
    ck_assert_str_eq(p.items[s.index].id, "r");
    ck_assert_int_eq(s.incident_ms, T0);
    ck_assert_int_eq(s.newest_ms, BASE + 216 * HOUR);
    ck_assert(s.newest_age_seconds == 14 * 3600.0);
    ck_assert(s.exposure_seconds == 47 * 3600.0); /* 121h -> 168h */
    ck_assert_uint_eq(s.candidates, 10);

    s = pick_ok(&p, NULL, -1, NULL, 7); /* latest is the default */
    ck_assert_str_eq(p.items[s.index].id, "r");

    s = pick_ok(&p, "oldest", -1, NULL, 7);
    ck_assert_str_eq(p.items[s.index].id, "k");
    ck_assert_int_eq(s.incident_ms, BASE + 24 * HOUR);

    s = pick_ok(&p, "oldest", 100 * 3600, NULL, 7);
    ck_assert_str_eq(p.items[s.index].id, "z");
    ck_assert_uint_eq(s.candidates, 3);

    s = pick_ok(&p, "id", -1, "q", 7);
    ck_assert_str_eq(p.items[s.index].id, "q");
    ck_assert_int_eq(s.incident_ms, BASE + 121 * HOUR);

    /* latest ignores the window: the newest point, even when stale */
    s = pick_ok(&p, "latest", 3600, NULL, 7);
    ck_assert_str_eq(p.items[s.index].id, "r");
    ck_assert_uint_eq(s.candidates, 0);
    rd_points_free(&p);
}
END_TEST

START_TEST(failures)
{
    rd_points p = fixture();
    rd_points none = {0};
    pick_fails(&p, "random", 10 * 3600, NULL, T0, RD_ERR_NOTFOUND,
               "no recovery points inside the 10h window");
    pick_fails(&p, "oldest", 30 * 60, NULL, T0, RD_ERR_NOTFOUND,
               "no recovery points inside the 30m window");
    pick_fails(&none, "latest", -1, NULL, T0, RD_ERR_NOTFOUND, "no recovery points in the catalog");
    pick_fails(&none, "random", -1, NULL, T0, RD_ERR_NOTFOUND, "no recovery points in the catalog");
    pick_fails(&p, "latest", -1, NULL, BASE - HOUR, RD_ERR_NOTFOUND,
               "no recovery points created at or before t0 (2025-12-31T23:00:00.000Z): the "
               "oldest is from 2026-01-01T00:00:00.000Z");
    pick_fails(&p, "id", -1, "nope", T0, RD_ERR_NOTFOUND, "no recovery point with id nope");
    pick_fails(&p, "id", -1, NULL, T0, RD_ERR_CONFIG, "sample.id: strategy id needs an id");
    pick_fails(&p, "pitr-random", -1, NULL, T0, RD_ERR_CONFIG,
               "sample.strategy: pitr-random needs a catalog with a WAL or binlog archive");
    pick_fails(&p, "newest", -1, NULL, T0, RD_ERR_CONFIG,
               "sample.strategy: expected one of latest, random, oldest, id, pitr-random, pitr, "
               "least-verified, got \"newest\"");
    rd_points_free(&p);
}
END_TEST

START_TEST(future_points_ignored)
{
    rd_points p = fixture();
    rd_point pt;
    memset(&pt, 0, sizeof pt);
    pt.id = strdup("future");
    pt.created_ms = T0 + HOUR;
    ck_assert_int_eq(rd_points_push(&p, &pt, NULL), RD_OK);
    rd_points_sort(&p);
    rd_sample s = pick_ok(&p, "latest", -1, NULL, 1);
    ck_assert_str_eq(p.items[s.index].id, "r");
    ck_assert_int_eq(s.incident_ms, T0);
    ck_assert_uint_eq(s.candidates, 10);
    s = pick_ok(&p, "random", -1, NULL, 1); /* same pick as without it */
    ck_assert_str_eq(p.items[s.index].id, "z");
    s = pick_ok(&p, "id", -1, "future", 1); /* named explicitly: allowed */
    ck_assert_str_eq(p.items[s.index].id, "future");
    ck_assert_int_eq(s.incident_ms, T0);
    rd_points_free(&p);
}
END_TEST

START_TEST(exposure_only)
{
    rd_points p = fixture();
    rd_sample s;
    rd_sample_exposure(&p, -1, T0, &s);
    ck_assert(s.exposure_seconds == 47 * 3600.0);
    ck_assert(s.newest_age_seconds == 14 * 3600.0);
    ck_assert_uint_eq(s.candidates, 10);
    rd_sample_exposure(&p, 100 * 3600, T0, &s);
    ck_assert(s.exposure_seconds == 24 * 3600.0);
    ck_assert_uint_eq(s.candidates, 3);
    /* newest older than the window: exposure is its age */
    rd_sample_exposure(&p, 3600, T0 + 100 * HOUR, &s);
    ck_assert_uint_eq(s.candidates, 0);
    ck_assert(s.exposure_seconds == 114 * 3600.0);
    ck_assert(s.newest_age_seconds == 114 * 3600.0);
    /* the gap to t0 dominates */
    rd_sample_exposure(&p, -1, T0 + 40 * HOUR, &s);
    ck_assert(s.exposure_seconds == 54 * 3600.0);
    rd_points none = {0};
    rd_sample_exposure(&none, -1, T0, &s);
    ck_assert_uint_eq(s.candidates, 0);
    ck_assert(s.exposure_seconds < 0);
    ck_assert(s.newest_age_seconds < 0);
    rd_points_free(&p);
}
END_TEST

Suite *sample_suite(void);
Suite *sample_suite(void)
{
    Suite *s = suite_create("sample");
    TCase *tc = tcase_create("pick");
    tcase_add_test(tc, random_seeds_frozen);
    tcase_add_test(tc, random_in_window_frozen);
    tcase_add_test(tc, latest_oldest_id);
    tcase_add_test(tc, failures);
    tcase_add_test(tc, future_points_ignored);
    tcase_add_test(tc, exposure_only);
    suite_add_tcase(s, tc);
    return s;
}
