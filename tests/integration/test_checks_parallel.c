/* test_checks_parallel.c: work units over a pool of worker connections
 * (checks/check_pool.c) against real PostgreSQL and MariaDB servers: units
 * run side by side on distinct connections, nested units progress, results
 * come back in unit order, and the rowcount and integrity checks give the
 * same results with and without a pool, one failing table among 24. Every
 * loop test runs once per engine: _i 0 = PostgreSQL, 1 = MariaDB. */
#include <check.h>
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest_util.h"
#include "restoredrill/check.h"
#include "restoredrill/manifest.h"
#include "restoredrill/result.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)
#define PG(e) ((e) == RD_ENGINE_PG)
#define NTABLES 24
#define WORKERS 3

/* A fresh database, its view (conn for the pool) and a pool on it. */
typedef struct fixture {
    rd_db *db;
    rd_scratch *view;
    rd_check_pool *pool;
    char name[64];
} fixture;

static int fixture_open(fixture *f, rd_engine e)
{
    rd_error err = {0};
    memset(f, 0, sizeof *f);
    f->db = rd_itest_fresh_db(e, f->name);
    if (!f->db)
        return 0;
    ck_assert_int_eq(rd_scratch_view(rd_itest_server(e), f->name, &f->view, &err), RD_OK);
    ck_assert_int_eq(rd_check_pool_new(&f->view->conn, WORKERS, &f->pool, &err), RD_OK);
    ck_assert_int_eq(rd_check_pool_connections(f->pool), WORKERS);
    return 1;
}

static void fixture_close(fixture *f)
{
    rd_check_pool_free(f->pool);
    rd_scratch_view_free(f->view);
    rd_db_free(f->db);
}

/* ---------- units side by side ---------- */

typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived, inside, most_inside;
    rd_db *conn[8];
} gate;

static void gated_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    gate *g = ud;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 20;
    pthread_mutex_lock(&g->mu);
    g->conn[i] = ctx->scratch;
    g->arrived++;
    g->inside++;
    if (g->inside > g->most_inside)
        g->most_inside = g->inside;
    pthread_cond_broadcast(&g->cv);
    /* the first 1 + WORKERS units wait for each other: they only all get
     * in when they run at the same time */
    while (g->arrived < 1 + WORKERS && pthread_cond_timedwait(&g->cv, &g->mu, &until) == 0)
        ;
    g->inside--;
    pthread_mutex_unlock(&g->mu);
    usleep((useconds_t)(8 - i) * 5000); /* later units finish first */
    rd_check_record(ctx, "unit", RD_PASSED, 0, "unit %zu", i);
}

static void inner_unit(rd_check_ctx *ctx, size_t j, void *ud)
{
    usleep((useconds_t)(3 - j) * 3000);
    rd_check_record(ctx, "inner", RD_PASSED, 0, "unit %zu.%zu", *(size_t *)ud, j);
}

static void outer_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    (void)ud;
    rd_error err = {0};
    ck_assert_int_eq(rd_check_units(ctx, 3, inner_unit, &i, &err), RD_OK);
    rd_check_record(ctx, "outer", RD_PASSED, 0, "unit %zu", i);
}

START_TEST(units_side_by_side)
{
    rd_engine e = ENGINE(_i);
    fixture f;
    if (!fixture_open(&f, e))
        return;
    rd_report *rep = rd_report_new();
    rd_target_result *t = rd_report_add_target(rep, "t", rd_engine_name(e));
    rd_check_ctx ctx = {0};
    ctx.scratch = f.db;
    ctx.result = t;
    ctx.pool = f.pool;
    gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, {0}};
    rd_error err = {0};
    ck_assert_int_eq(rd_check_units(&ctx, 8, gated_unit, &g, &err), RD_OK);
    ck_assert_int_eq(g.most_inside, 1 + WORKERS);
    /* the caller's connection and each worker's */
    size_t distinct = 0, caller = 0;
    for (size_t i = 0; i < 8; i++) {
        int seen = 0;
        for (size_t k = 0; k < i; k++)
            seen |= g.conn[k] == g.conn[i];
        distinct += !seen;
        caller += g.conn[i] == f.db;
    }
    ck_assert_uint_eq(distinct, 1 + WORKERS);
    ck_assert_uint_ge(caller, 1);
    ck_assert_uint_eq(t->nchecks, 8);
    for (size_t i = 0; i < 8; i++) {
        char want[32];
        snprintf(want, sizeof want, "unit %zu", i);
        ck_assert_str_eq(t->checks[i].message, want);
    }

    /* units of units: each outer unit's inner results, then its own */
    ck_assert_int_eq(rd_check_units(&ctx, 6, outer_unit, NULL, &err), RD_OK);
    ck_assert_uint_eq(t->nchecks, 8 + 6 * 4);
    for (size_t i = 0; i < 6; i++) {
        for (size_t j = 0; j < 4; j++) {
            char want[32];
            if (j < 3)
                snprintf(want, sizeof want, "unit %zu.%zu", i, j);
            else
                snprintf(want, sizeof want, "unit %zu", i);
            ck_assert_str_eq(t->checks[8 + i * 4 + j].message, want);
        }
    }
    rd_report_free(rep);
    fixture_close(&f);
}
END_TEST

/* ---------- the same results with and without a pool ---------- */

static void exec_ok(rd_db *db, const char *sql)
{
    rd_error err = {0};
    ck_assert_msg(rd_db_exec(db, sql, 120, NULL, &err) == RD_OK, "%s: %s", sql, err.msg);
}

/* NTABLES tables t01.. of 50 rows; each even one references the one before
 * it, so integrity has NTABLES / 2 foreign keys too. */
static void make_tables(rd_db *db, rd_engine e)
{
    char sql[512], fk[96] = "";
    for (int k = 1; k <= NTABLES; k++) {
        int child = k % 2 == 0;
        if (child)
            snprintf(fk, sizeof fk, ", p %s REFERENCES t%02d (id)", PG(e) ? "integer" : "INT",
                     k - 1);
        else
            fk[0] = '\0';
        if (PG(e)) {
            snprintf(sql, sizeof sql,
                     "CREATE TABLE t%02d (id integer PRIMARY KEY, v text NOT NULL%s)", k, fk);
            exec_ok(db, sql);
            snprintf(sql, sizeof sql, "CREATE INDEX t%02d_v ON t%02d (v)", k, k);
            exec_ok(db, sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO t%02d SELECT g, 'v' || g%s FROM generate_series(1, 50) g", k,
                     child ? ", g" : "");
        } else {
            snprintf(sql, sizeof sql,
                     "CREATE TABLE t%02d (id INT PRIMARY KEY, v VARCHAR(20) NOT NULL%s, KEY "
                     "t%02d_v (v)) ENGINE=InnoDB",
                     k, fk, k);
            exec_ok(db, sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO t%02d SELECT seq, CONCAT('v', seq)%s FROM seq_1_to_50", k,
                     child ? ", seq" : "");
        }
        exec_ok(db, sql);
    }
}

static const char *or_null(const char *s)
{
    return s ? s : "(null)";
}

/* Every field but the timing. */
static void same_results(const rd_target_result *a, const rd_target_result *b)
{
    ck_assert_uint_eq(a->nchecks, b->nchecks);
    for (size_t i = 0; i < a->nchecks; i++) {
        const rd_check_result *x = &a->checks[i], *y = &b->checks[i];
        ck_assert_str_eq(x->id, y->id);
        ck_assert_str_eq(x->type, y->type);
        ck_assert_str_eq(x->check, y->check);
        ck_assert_str_eq(x->object, y->object);
        ck_assert_int_eq(x->status, y->status);
        ck_assert_str_eq(or_null(x->message), or_null(y->message));
        ck_assert_str_eq(or_null(x->expected), or_null(y->expected));
        ck_assert_str_eq(or_null(x->actual), or_null(y->actual));
        ck_assert_str_eq(or_null(x->output), or_null(y->output));
        ck_assert_uint_eq(x->nprops, y->nprops);
        for (size_t p = 0; p < x->nprops; p++) {
            ck_assert_str_eq(x->props[p].name, y->props[p].name);
            ck_assert_str_eq(x->props[p].value, y->props[p].value);
        }
    }
}

/* Run the checks named in types on ctx into a new target of rep. */
static rd_target_result *run_checks(rd_report *rep, rd_check_ctx *ctx, rd_engine e,
                                    const char *const *types)
{
    rd_target_result *t = rd_report_add_target(rep, "t", rd_engine_name(e));
    rd_target_cfg tc;
    memset(&tc, 0, sizeof tc);
    tc.engine = e;
    ctx->target = &tc;
    ctx->result = t;
    for (size_t k = 0; types[k]; k++) {
        rd_check_cfg cc;
        rd_error err = {0};
        memset(&cc, 0, sizeof cc);
        cc.type = (char *)types[k];
        cc.ct = rd_check_find(types[k]);
        cc.timeout = 600;
        cJSON *params = cJSON_CreateObject();
        cJSON_AddStringToObject(params, "type", types[k]);
        ck_assert_int_eq(cc.ct->configure(params, "targets[0].checks[0]", e, &cc.state, &err),
                         RD_OK);
        ctx->check = &cc;
        rd_check_run_one(ctx);
        if (cc.ct->free)
            cc.ct->free(cc.state);
        cJSON_Delete(params);
    }
    ctx->target = NULL;
    ctx->check = NULL;
    return t;
}

START_TEST(pool_gives_the_same_results)
{
    rd_engine e = ENGINE(_i);
    fixture f;
    if (!fixture_open(&f, e))
        return;
    make_tables(f.db, e);
    rd_manifest *m = NULL;
    rd_manifest_opts opts = {0};
    rd_error err = {0};
    ck_assert_int_eq(rd_manifest_capture(f.db, &opts, &m, &err), RD_OK);
    ck_assert_uint_eq(m->ntables, NTABLES);
    rd_manifest_table *t13 =
        (rd_manifest_table *)rd_manifest_find_table(m, PG(e) ? "public" : NULL, "t13");
    ck_assert_ptr_nonnull(t13);
    ck_assert_int_eq(t13->rows, 50);
    t13->rows = 51; /* one table of the reference disagrees */

    static const char *const types[] = {"rowcount", "integrity", NULL};
    rd_report *rep = rd_report_new(), *rep_par = rd_report_new(); /* a report's targets move */
    rd_check_ctx ctx = {0};
    ctx.scratch = f.db;
    ctx.manifest = m;
    rd_target_result *one = run_checks(rep, &ctx, e, types);
    ctx.pool = f.pool;
    rd_target_result *par = run_checks(rep_par, &ctx, e, types);

    /* rowcount: a result per table, t13 failed; integrity: a result per
     * table then per foreign key, all passed */
    ck_assert_uint_eq(one->nchecks, NTABLES + NTABLES + NTABLES / 2);
    for (size_t i = 0; i < one->nchecks; i++) {
        const rd_check_result *c = &one->checks[i];
        char want[64];
        if (i < NTABLES)
            snprintf(want, sizeof want, "%st%02zu", PG(e) ? "public." : "", i + 1);
        else if (i < 2 * NTABLES)
            snprintf(want, sizeof want, "%st%02zu", PG(e) ? "public." : "", i - NTABLES + 1);
        else
            want[0] = '\0';
        if (want[0])
            ck_assert_str_eq(c->object, want);
        ck_assert_str_eq(c->type, i < NTABLES ? "rowcount" : "integrity");
        if (i == 12) {
            ck_assert_int_eq(c->status, RD_FAILED);
            ck_assert_str_eq(c->message, "50 rows, expected 51 (manifest)");
            ck_assert_str_eq(c->expected, "51");
            ck_assert_str_eq(c->actual, "50");
        } else {
            ck_assert_msg(c->status == RD_PASSED, "%s %s: %s (%s)", c->type, c->object,
                          rd_verdict_name(c->status), c->message);
        }
    }
    same_results(one, par);
    rd_report_free(rep);
    rd_report_free(rep_par);
    rd_manifest_free(m);
    fixture_close(&f);
}
END_TEST

static void start_servers(void)
{
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

Suite *checks_parallel_suite(void);
Suite *checks_parallel_suite(void)
{
    Suite *s = suite_create("checks_parallel");
    TCase *tc = tcase_create("live");
    tcase_add_unchecked_fixture(tc, start_servers, NULL);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, units_side_by_side, 0, 2);
    tcase_add_loop_test(tc, pool_gives_the_same_results, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}
