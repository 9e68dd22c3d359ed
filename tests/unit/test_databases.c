/* test_databases.c: which databases a multi-database target drills
 * (harness/drill/databases.c): shell globs with "_" and "%" literal, the
 * glob that matches nothing, and the seeded sample (exact picks). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/drill/drill_int.h"

START_TEST(test_globs)
{
    ck_assert(rd_db_glob_match("tenant_*", "tenant_42"));
    ck_assert(rd_db_glob_match("tenant_*", "tenant_"));
    ck_assert(!rd_db_glob_match("tenant_*", "tenantX42")); /* "_" is not a LIKE wildcard */
    ck_assert(!rd_db_glob_match("tenant_1", "tenantA1"));
    ck_assert(rd_db_glob_match("tenant_1", "tenant_1"));
    ck_assert(!rd_db_glob_match("t%", "tx")); /* "%" is not a LIKE wildcard */
    ck_assert(!rd_db_glob_match("t%", "t"));
    ck_assert(rd_db_glob_match("t%", "t%"));
    ck_assert(rd_db_glob_match("50%_off", "50%_off"));
    ck_assert(!rd_db_glob_match("50%_off", "50xyoff"));
    ck_assert(rd_db_glob_match("tenant_?", "tenant_7"));
    ck_assert(!rd_db_glob_match("tenant_?", "tenant_42"));
    ck_assert(rd_db_glob_match("tenant_[0-4]*", "tenant_42"));
    ck_assert(!rd_db_glob_match("tenant_[0-4]*", "tenant_5"));
    ck_assert(rd_db_glob_match("*", "it's"));
    ck_assert(rd_db_glob_match("back`*", "back`tick"));
    ck_assert(rd_db_glob_match("tenant_ü*", "tenant_ünïcødé"));
    ck_assert(rd_db_glob_match("a\\*", "a*"));
    ck_assert(!rd_db_glob_match("a\\*", "ab"));
    ck_assert(!rd_db_glob_match("central", "central2"));
}
END_TEST

/* 50 tenants, central and two others, in dump order (not name order). */
static void point_dbs(rd_strlist *all)
{
    rd_error err;
    char name[32];
    ck_assert_int_eq(rd_strlist_push(all, "central", &err), RD_OK);
    for (int i = 50; i >= 1; i--) {
        snprintf(name, sizeof name, "tenant_%d", i);
        ck_assert_int_eq(rd_strlist_push(all, name, &err), RD_OK);
    }
    ck_assert_int_eq(rd_strlist_push(all, "tenantX", &err), RD_OK);
    ck_assert_int_eq(rd_strlist_push(all, "billing", &err), RD_OK);
}

static rd_target_cfg tcfg(const char *const *globs, int sample)
{
    rd_target_cfg t;
    rd_error err;
    memset(&t, 0, sizeof t);
    t.path = (char *)"targets[0]";
    t.sample.databases = sample;
    for (size_t i = 0; globs[i]; i++)
        ck_assert_int_eq(rd_strlist_push(&t.databases, globs[i], &err), RD_OK);
    return t;
}

static char *joined(const rd_strlist *l)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    for (size_t i = 0; i < l->n; i++)
        ck_assert_int_eq(rd_strbuf_appendf(&sb, NULL, "%s%s", i ? " " : "", l->items[i]), RD_OK);
    return rd_strbuf_detach(&sb);
}

START_TEST(test_pick_all_and_sample)
{
    static const char *const globs[] = {"tenant_*", "central", NULL};
    rd_strlist all = {0}, matched = {0}, picked = {0};
    rd_error err;
    point_dbs(&all);
    rd_target_cfg t = tcfg(globs, 0);
    ck_assert_int_eq(rd_drill_pick_databases(&t, &all, 1, &matched, &picked, &err), RD_OK);
    ck_assert_uint_eq(matched.n, 51); /* not tenantX, not billing */
    ck_assert_uint_eq(picked.n, 51);  /* default: all of them */
    ck_assert_str_eq(picked.items[0], "central");
    ck_assert_str_eq(picked.items[1], "tenant_1");
    ck_assert_str_eq(picked.items[2], "tenant_10"); /* name order */
    rd_strlist_free(&matched);
    rd_strlist_free(&picked);

    /* 5 at a time: exact picks for fixed seeds (fixtures/tenants/pick.py, an independent
     * implementation, gives the same), the same for the same seed */
    static const struct {
        uint64_t seed;
        const char *want;
    } cases[] = {
        {1, "tenant_26 tenant_33 tenant_40 tenant_49 tenant_7"},
        {2, "tenant_19 tenant_2 tenant_32 tenant_35 tenant_49"},
        {1234, "tenant_1 tenant_11 tenant_18 tenant_24 tenant_27"},
        {18446744073709551615ull, "tenant_20 tenant_26 tenant_35 tenant_40 tenant_5"},
    };
    t.sample.databases = 5;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int again = 0; again < 2; again++) {
            rd_strlist m = {0}, p = {0};
            ck_assert_int_eq(rd_drill_pick_databases(&t, &all, cases[c].seed, &m, &p, &err), RD_OK);
            ck_assert_uint_eq(m.n, 51);
            ck_assert_uint_eq(p.n, 5);
            char *got = joined(&p);
            ck_assert_msg(strcmp(got, cases[c].want) == 0, "seed %llu: got \"%s\"",
                          (unsigned long long)cases[c].seed, got);
            free(got);
            rd_strlist_free(&m);
            rd_strlist_free(&p);
        }
    }
    /* more asked than there are: all of them */
    t.sample.databases = 500;
    ck_assert_int_eq(rd_drill_pick_databases(&t, &all, 9, &matched, &picked, &err), RD_OK);
    ck_assert_uint_eq(picked.n, 51);
    rd_strlist_free(&matched);
    rd_strlist_free(&picked);
    rd_strlist_free(&t.databases);
    rd_strlist_free(&all);
}
END_TEST

/* The picks do not depend on the order of the dump. */
START_TEST(test_pick_order_independent)
{
    static const char *const globs[] = {"tenant_*", NULL};
    rd_strlist all = {0}, rev = {0}, m1 = {0}, p1 = {0}, m2 = {0}, p2 = {0};
    rd_error err;
    point_dbs(&all);
    for (size_t i = all.n; i > 0; i--)
        ck_assert_int_eq(rd_strlist_push(&rev, all.items[i - 1], &err), RD_OK);
    rd_target_cfg t = tcfg(globs, 7);
    ck_assert_int_eq(rd_drill_pick_databases(&t, &all, 77, &m1, &p1, &err), RD_OK);
    ck_assert_int_eq(rd_drill_pick_databases(&t, &rev, 77, &m2, &p2, &err), RD_OK);
    char *a = joined(&p1), *b = joined(&p2);
    ck_assert_str_eq(a, b);
    ck_assert_uint_eq(p1.n, 7);
    free(a);
    free(b);
    rd_strlist_free(&m1);
    rd_strlist_free(&p1);
    rd_strlist_free(&m2);
    rd_strlist_free(&p2);
    rd_strlist_free(&t.databases);
    rd_strlist_free(&all);
    rd_strlist_free(&rev);
}
END_TEST

START_TEST(test_glob_matches_nothing)
{
    static const char *const globs[] = {"tenant_*", "tenant%", NULL};
    rd_strlist all = {0}, matched = {0}, picked = {0};
    rd_error err;
    point_dbs(&all);
    rd_target_cfg t = tcfg(globs, 0);
    ck_assert_int_eq(rd_drill_pick_databases(&t, &all, 1, &matched, &picked, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "targets[0].databases[1]: \"tenant%\" matches none of the 53 "
                              "databases of the recovery point");
    ck_assert_uint_eq(matched.n, 0);
    ck_assert_uint_eq(picked.n, 0);
    rd_strlist_free(&t.databases);
    rd_strlist_free(&all);
}
END_TEST

START_TEST(test_file_database)
{
    static const char *const cases[][2] = {
        {"tenant_42-20260130T020000Z.dump", "tenant_42"},
        {"tenant_42-20260130-020000.sql.gz", "tenant_42"},
        {"tenant_42_2026-01-30T02:00:00Z.sql", "tenant_42"},
        {"tenant_2026-20260130.dump", "tenant_2026"},
        {"a-b-20260130.dump", "a-b"},
        {"central.20260130T020000Z.sql", "central"},
        {"nodate.sql", NULL},
        {"tenant_1-202.sql", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = rd_drill_file_database(cases[i][0]);
        if (cases[i][1])
            ck_assert_msg(got && strcmp(got, cases[i][1]) == 0, "%s: got %s", cases[i][0],
                          got ? got : "NULL");
        else
            ck_assert_msg(got == NULL, "%s: got %s", cases[i][0], got);
        free(got);
    }
}
END_TEST

static void add_file(rd_points *p, const char *id, int64_t ms, int64_t bytes)
{
    rd_point pt;
    rd_error err;
    memset(&pt, 0, sizeof pt);
    pt.id = rd_strdup(id);
    pt.location = rd_asprintf("/b/%s", id);
    pt.created_ms = ms;
    pt.bytes = bytes;
    ck_assert_int_eq(rd_points_push(p, &pt, &err), RD_OK);
}

START_TEST(test_group_points)
{
    rd_points files = {0}, groups = {0};
    rd_catalog_cfg cat;
    rd_strlist dbs = {0};
    rd_error err;
    memset(&cat, 0, sizeof cat);
    cat.path = (char *)"/b";
    add_file(&files, "a-20260129T020000Z.sql", 1000, 10);
    add_file(&files, "b-20260129T020000Z.sql", 1000, 20);
    add_file(&files, "a-20260130T020000Z.sql", 2000, 30);
    add_file(&files, "b-20260130T020000Z.sql", 2000, 40);
    add_file(&files, "c-20260130T020000Z.sql", 2000, -1);
    ck_assert_int_eq(rd_drill_group_points(&cat, &files, &groups, &err), RD_OK);
    ck_assert_uint_eq(groups.n, 2);
    ck_assert_str_eq(groups.items[0].id, "1970-01-01T00:00:01.000Z (2 database dumps)");
    ck_assert_int_eq(groups.items[0].bytes, 30);
    ck_assert_str_eq(groups.items[1].id, "1970-01-01T00:00:02.000Z (3 database dumps)");
    ck_assert_int_eq(groups.items[1].bytes, -1);
    ck_assert_str_eq(groups.items[1].location, "/b");
    ck_assert_int_eq(rd_drill_point_databases(&files, &groups.items[1], &dbs, &err), RD_OK);
    ck_assert_uint_eq(dbs.n, 3);
    ck_assert_str_eq(dbs.items[2], "c");
    rd_strlist_free(&dbs);
    add_file(&files, "a-2026-01-30T02:00:00Z.sql.gz", 2000, 1);
    ck_assert_int_eq(rd_drill_point_databases(&files, &groups.items[1], &dbs, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "two dumps of database a at 1970-01-01T00:00:02.000Z (3 database "
                              "dumps)");
    rd_strlist_free(&dbs);
    rd_points_free(&files);
    rd_points_free(&groups);
}
END_TEST

Suite *databases_suite(void);
Suite *databases_suite(void)
{
    Suite *s = suite_create("databases");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_globs);
    tcase_add_test(tc, test_pick_all_and_sample);
    tcase_add_test(tc, test_pick_order_independent);
    tcase_add_test(tc, test_glob_matches_nothing);
    tcase_add_test(tc, test_file_database);
    tcase_add_test(tc, test_group_points);
    suite_add_tcase(s, tc);
    return s;
}
