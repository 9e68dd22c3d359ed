/* test_attach_database.c: which database of a restored physical instance
 * the drill attaches to (harness/scratch/attach_database.c), with the
 * PostgreSQL rule (fallback "postgres") and the MariaDB rule (no fallback):
 * every branch and its exact message. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/scratch/scratch_int.h"

static int pg_system(const char *n)
{
    return strcmp(n, "postgres") == 0 || strncmp(n, "template", 8) == 0;
}

static int mdb_system(const char *n)
{
    return strcmp(n, "mysql") == 0 || strcmp(n, "information_schema") == 0;
}

static const rd_scratch_db_rules pg = {
    .noun = "cluster", .is_system = pg_system, .fallback = "postgres"};
static const rd_scratch_db_rules mdb = {.noun = "server", .is_system = mdb_system};

/* A one-column result over names (NULL entries are SQL NULLs), n rows. */
static rd_db_result result_of(const char **names, size_t n)
{
    rd_db_result r = {.nrows = n, .ncols = 1, .cells = (char **)names};
    return r;
}

/* Choose with rules; returns the chosen name (heap) or NULL with err set. */
static char *choose(const rd_scratch_db_rules *rules, const char **names, size_t n,
                    const char *database, const char *target, rd_error *err)
{
    rd_db_result r = result_of(names, n);
    char *chosen = NULL;
    rd_error_clear(err);
    rd_status st = rd_scratch_choose_database(&r, rules, database, target, &chosen, err);
    ck_assert(st == RD_OK ? chosen != NULL : chosen == NULL);
    return chosen;
}

START_TEST(test_database_given)
{
    const char *names[] = {"app", "postgres", "shop", "template1"};
    rd_error err;
    char *c = choose(&pg, names, 4, "shop", "app", &err);
    ck_assert_str_eq(c, "shop");
    free(c);
    /* a system database may be asked for by name */
    c = choose(&pg, names, 4, "postgres", NULL, &err);
    ck_assert_str_eq(c, "postgres");
    free(c);
}
END_TEST

START_TEST(test_database_missing)
{
    const char *names[] = {"app", "postgres", NULL, "shop", "template0"};
    const char *sys[] = {"mysql", "information_schema"};
    rd_error err;
    ck_assert_ptr_null(choose(&pg, names, 5, "nope", "app", &err));
    ck_assert_int_eq(err.code, RD_ERR_CONFIG);
    ck_assert_str_eq(
        err.msg, "database: the restored cluster has no database \"nope\" (it holds: app, shop)");
    ck_assert_ptr_null(choose(&mdb, sys, 2, "nope", NULL, &err));
    ck_assert_int_eq(err.code, RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "database: the restored server has no database \"nope\" (it holds: "
                              "no user database)");
}
END_TEST

START_TEST(test_named_like_target)
{
    const char *names[] = {"app", "mysql", "shop"};
    rd_error err;
    char *c = choose(&mdb, names, 3, NULL, "shop", &err);
    ck_assert_str_eq(c, "shop");
    free(c);
}
END_TEST

START_TEST(test_only_user_database)
{
    const char *names[] = {"information_schema", NULL, "mysql", "shop"};
    rd_error err;
    char *c = choose(&mdb, names, 4, NULL, "other", &err);
    ck_assert_str_eq(c, "shop");
    free(c);
    const char *pgnames[] = {"postgres", "shop", "template0", "template1"};
    c = choose(&pg, pgnames, 4, NULL, NULL, &err);
    ck_assert_str_eq(c, "shop");
    free(c);
}
END_TEST

START_TEST(test_several)
{
    const char *names[] = {"app", "mysql", "shop"};
    rd_error err;
    ck_assert_ptr_null(choose(&mdb, names, 3, NULL, "other", &err));
    ck_assert_int_eq(err.code, RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "database: the restored server holds several databases (app, shop) "
                              "and none is named like the target: set the target's \"database\"");
    const char *pgnames[] = {"app", "postgres", "shop"};
    ck_assert_ptr_null(choose(&pg, pgnames, 3, NULL, NULL, &err));
    ck_assert_str_eq(err.msg, "database: the restored cluster holds several databases (app, shop) "
                              "and none is named like the target: set the target's \"database\"");
}
END_TEST

START_TEST(test_no_user_database)
{
    const char *names[] = {"postgres", "template0", "template1"};
    const char *sys[] = {"information_schema", "mysql"};
    rd_error err;
    char *c = choose(&pg, names, 3, NULL, "app", &err);
    ck_assert_str_eq(c, "postgres");
    free(c);
    ck_assert_ptr_null(choose(&mdb, sys, 2, NULL, "app", &err));
    ck_assert_int_eq(err.code, RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "database: the restored server holds no database of its own");
    ck_assert_ptr_null(choose(&mdb, sys, 0, NULL, NULL, &err));
    ck_assert_str_eq(err.msg, "database: the restored server holds no database of its own");
}
END_TEST

Suite *attach_database_suite(void);
Suite *attach_database_suite(void)
{
    Suite *s = suite_create("attach_database");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_database_given);
    tcase_add_test(tc, test_database_missing);
    tcase_add_test(tc, test_named_like_target);
    tcase_add_test(tc, test_only_user_database);
    tcase_add_test(tc, test_several);
    tcase_add_test(tc, test_no_user_database);
    suite_add_tcase(s, tc);
    return s;
}
