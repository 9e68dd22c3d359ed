/* test_tablehash.c: chunked checksums and diffs against real PostgreSQL and
 * MariaDB servers (itest_util): exact detection of every kind of change the
 * canonical row forms must see, composite keys, tables without a key, empty
 * and one-row tables, hostile identifiers, chunk boundaries, parallel
 * workers, manifest digests and the bisection diff.
 * Loop tests run once per engine: _i 0 = PostgreSQL, 1 = MariaDB. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itest_util.h"
#include "restoredrill/db.h"
#include "restoredrill/tablediff.h"
#include "restoredrill/tablehash.h"

#define ENGINE(i) ((i) == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB)
#define PG(e) ((e) == RD_ENGINE_PG)

/* Two fresh databases (A and B) on the engine's shared server; 0 without one. */
static int pair(rd_engine e, rd_db **a, rd_db **b, char *na, char *nb)
{
    if (!rd_itest_server(e))
        return 0;
    *a = rd_itest_fresh_db(e, na);
    *b = rd_itest_fresh_db(e, nb);
    ck_assert_ptr_nonnull(*a);
    ck_assert_ptr_nonnull(*b);
    return 1;
}

static void both(rd_db *a, rd_db *b, const char *sql)
{
    rd_itest_exec(a, sql);
    rd_itest_exec(b, sql);
}

static void unpair(rd_db *a, rd_db *b)
{
    rd_db_free(a);
    rd_db_free(b);
}

/* ANALYZE table name on A and B (the statistics the value ranges use). */
static void analyze(rd_engine e, rd_db *a, rd_db *b, const char *name)
{
    char sql[128];
    snprintf(sql, sizeof sql, "%s %s", PG(e) ? "ANALYZE" : "ANALYZE TABLE", name);
    both(a, b, sql);
}

/* Table name described on x (key NULL: the primary key), its other side
 * table other on y. */
static rd_th_table *describe_pair(rd_db *x, const char *name, const rd_strlist *key, rd_db *y,
                                  const char *other)
{
    rd_error err = {0};
    rd_th_table *t = NULL;
    ck_assert_msg(rd_th_describe(x, NULL, name, key, &t, &err) == RD_OK, "%s: %s", name, err.msg);
    ck_assert_msg(rd_th_table_other(t, y, NULL, other, &err) == RD_OK, "%s: %s", other, err.msg);
    return t;
}

/* The chunk's range as rd_th_chunk_describe words it must be want. */
static void assert_chunk(const rd_th_table *t, const rd_th_chunk *c, const char *want)
{
    char *d = rd_th_chunk_describe(t, c);
    ck_assert_str_eq(d, want);
    free(d);
}

static void sum_done(rd_th_sum *sum, rd_th_table *t)
{
    rd_th_sum_clear(sum);
    rd_th_table_free(t);
}

/* The diff's rows as "kind key,..." in seen. */
static void diff_rows(const rd_diff_result *r, char *seen, size_t cap)
{
    seen[0] = '\0';
    for (size_t i = 0; i < r->nrows; i++) {
        char one[64];
        snprintf(one, sizeof one, "%s%s %s", i ? "," : "", rd_diff_kind_name(r->rows[i].kind),
                 r->rows[i].key);
        strncat(seen, one, cap - strlen(seen) - 1);
    }
}

/* Serial checksum of table name on A vs B (key NULL: the primary key) with
 * rd_th_opts.ordered as given; returns the mismatching chunk count;
 * *sum_out (may be NULL) keeps the sums, *t_out the table. */
static size_t compare_with(rd_db *a, rd_db *b, const char *name, const rd_strlist *key,
                           int64_t chunk_rows, int ordered, rd_th_sum *sum_out, rd_th_table **t_out)
{
    rd_error err = {0};
    rd_th_table *t = describe_pair(a, name, key, b, name);
    rd_th_sum sum;
    memset(&sum, 0, sizeof sum);
    rd_th_side sides[2] = {{a, NULL, NULL, 0}, {b, NULL, NULL, 0}};
    rd_th_opts o = {.chunk_rows = chunk_rows, .parallel = 1, .timeout = 60, .ordered = ordered};
    rd_th_table *const tabs[1] = {t};
    ck_assert_msg(rd_th_checksum(sides, 2, tabs, 1, &o, &sum, &err) == RD_OK, "%s", err.msg);
    size_t m = sum.mismatches;
    if (sum_out)
        *sum_out = sum;
    else
        rd_th_sum_clear(&sum);
    if (t_out)
        *t_out = t;
    else
        rd_th_table_free(t);
    return m;
}

/* compare_with, unordered; on MariaDB with a primary key the ordered chunk
 * digests (the diff's) must find exactly the same mismatching chunks. */
static size_t compare(rd_db *a, rd_db *b, const char *name, int64_t chunk_rows, rd_th_sum *sum_out,
                      rd_th_table **t_out)
{
    rd_th_table *t = NULL;
    rd_th_sum so;
    size_t m = compare_with(a, b, name, NULL, chunk_rows, 0, sum_out, &t);
    size_t mo = compare_with(a, b, name, NULL, chunk_rows, 1, &so, NULL);
    ck_assert_msg(so.ordered == (t->engine == RD_ENGINE_MARIADB && t->nkey > 0),
                  "%s: ordered digests %s", name, so.ordered ? "used" : "not used");
    ck_assert_msg(mo == m, "%s: %zu mismatching chunks with ordered digests, %zu without", name, mo,
                  m);
    for (size_t i = 0; so.ordered && i < so.nchunks; i++)
        ck_assert_msg(so.chunks[i].rows[0] == 0 || strchr(so.chunks[i].digest[0], ':'),
                      "%s: ordered digest %s", name, so.chunks[i].digest[0]);
    rd_th_sum_clear(&so);
    if (t_out)
        *t_out = t;
    else
        rd_th_table_free(t);
    return m;
}

/* ---------- exact detection of each kind of change ---------- */

typedef struct vcase {
    const char *what;
    const char *type;
    const char *a, *b; /* SQL literals */
    const char *b_pre; /* session statement before B's insert, or NULL */
    int differ;
} vcase;

static const vcase pg_cases[] = {
    {"null vs empty", "text", "NULL", "''", NULL, 1},
    {"empty vs 'NULL'", "text", "''", "'NULL'", NULL, 1},
    {"null vs 'NULL'", "text", "NULL", "'NULL'", NULL, 1},
    {"trailing space", "varchar(10)", "'a'", "'a '", NULL, 1},
    {"fractional second", "timestamp(6)", "'2024-01-01 00:00:00'", "'2024-01-01 00:00:00.000001'",
     NULL, 1},
    {"other instant", "timestamptz", "'2024-01-01 10:00:00+00'", "'2024-01-01 10:00:00+02'", NULL,
     1},
    {"same instant, other zone", "timestamptz", "'2024-01-01 10:00:00+00'", "'2024-01-01 11:00:00'",
     "SET TimeZone = 'Europe/Berlin'", 0},
    {"float last digit", "float8", "0.1", "0.10000000000000002", NULL, 1},
    {"float4 last digit", "float4", "1.0000001", "1.0000002", NULL, 1},
    {"decimal scale", "numeric", "1.0", "1.00", NULL, 1},
    {"decimal equal", "numeric(10,3)", "1.5", "1.500", NULL, 0},
    {"one byte of binary", "bytea", "'\\x0001ff'", "'\\x0002ff'", NULL, 1},
    {"json text", "json", "'{\"a\":1}'", "'{\"a\": 1}'", NULL, 1},
    {"jsonb canonical equal", "jsonb", "'{\"a\":1, \"b\":2}'", "'{\"b\":2,\"a\":1}'", NULL, 0},
    {"jsonb number scale", "jsonb", "'{\"a\":1.0}'", "'{\"a\":1.00}'", NULL, 1},
    {"interval fields", "interval", "'1 day'", "'24 hours'", NULL, 1},
    {"case", "text", "'abc'", "'Abc'", NULL, 1},
    {"equal text", "text", "'same'", "'same'", NULL, 0},
};

static const vcase my_cases[] = {
    {"null vs empty", "VARCHAR(10)", "NULL", "''", NULL, 1},
    {"empty vs 'NULL'", "VARCHAR(10)", "''", "'NULL'", NULL, 1},
    {"null vs 'NULL'", "VARCHAR(10)", "NULL", "'NULL'", NULL, 1},
    {"trailing space (PAD SPACE collation)", "VARCHAR(10)", "'a'", "'a '", NULL, 1},
    {"fractional second", "DATETIME(6)", "'2024-01-01 00:00:00'", "'2024-01-01 00:00:00.000001'",
     NULL, 1},
    {"other instant", "TIMESTAMP(3) NULL", "'2024-01-01 10:00:00'", "'2024-01-01 10:00:00'",
     "SET time_zone = '+02:00'", 1},
    {"same instant, other zone", "TIMESTAMP(3) NULL", "'2024-01-01 10:00:00'",
     "'2024-01-01 12:00:00'", "SET time_zone = '+02:00'", 0},
    {"float last digit", "DOUBLE", "0.1", "0.10000000000000002", NULL, 1},
    {"float4 last digit", "FLOAT", "1.0000001", "1.0000002", NULL, 1},
    {"decimal last digit", "DECIMAL(10,3)", "1.001", "1.002", NULL, 1},
    {"one byte of binary", "VARBINARY(10)", "X'0001ff'", "X'0002ff'", NULL, 1},
    {"json text", "JSON", "'{\"a\":1}'", "'{\"a\": 1}'", NULL, 1},
    {"case (case-insensitive collation)", "VARCHAR(10)", "'abc'", "'Abc'", NULL, 1},
    {"separator inside a value", "VARCHAR(10)", "CONCAT('a', CHAR(31))", "'a'", NULL, 1},
    {"equal text", "VARCHAR(10)", "'same'", "'same'", NULL, 0},
};

START_TEST(detects_each_change)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64], sql[512];
    if (!pair(e, &a, &b, na, nb))
        return;
    const vcase *cases = PG(e) ? pg_cases : my_cases;
    size_t n = PG(e) ? sizeof pg_cases / sizeof pg_cases[0] : sizeof my_cases / sizeof my_cases[0];
    for (size_t k = 0; k < n; k++) {
        const vcase *c = &cases[k];
        snprintf(sql, sizeof sql, "CREATE TABLE c%zu (id INT PRIMARY KEY, v %s, w INT)", k,
                 c->type);
        both(a, b, sql);
        snprintf(sql, sizeof sql, "INSERT INTO c%zu VALUES (1, %s, 7), (2, NULL, 8)", k, c->a);
        rd_itest_exec(a, sql);
        if (c->b_pre)
            rd_itest_exec(b, c->b_pre);
        snprintf(sql, sizeof sql, "INSERT INTO c%zu VALUES (1, %s, 7), (2, NULL, 8)", k, c->b);
        rd_itest_exec(b, sql);
        if (c->b_pre)
            rd_itest_exec(b, PG(e) ? "SET TimeZone = 'UTC'" : "SET time_zone = '+00:00'");
        snprintf(sql, sizeof sql, "c%zu", k);
        size_t m = compare(a, b, sql, 0, NULL, NULL);
        ck_assert_msg(m == (size_t)c->differ, "%s (%s): %zu mismatching chunks, want %d", c->what,
                      c->type, m, c->differ);
        /* and the table itself is equal to itself */
        ck_assert_uint_eq(compare(a, a, sql, 0, NULL, NULL), 0);
    }
    unpair(a, b);
}
END_TEST

/* ---------- keys, sizes and names ---------- */

START_TEST(composite_key_and_boundaries)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    both(a, b, "CREATE TABLE ck (g INT, s VARCHAR(20), v INT, PRIMARY KEY (g, s))");
    const char *fill = PG(e) ? "INSERT INTO ck SELECT i / 10, 'k' || (i % 10), i FROM "
                               "generate_series(0, 999) i"
                             : "INSERT INTO ck SELECT seq DIV 10, CONCAT('k', seq % 10), seq "
                               "FROM seq_0_to_999";
    both(a, b, fill);
    rd_th_sum sum;
    rd_th_table *t = NULL;
    ck_assert_uint_eq(compare(a, b, "ck", 100, &sum, &t), 0);
    ck_assert_uint_eq(sum.nchunks, 11); /* 10 full chunks and the open tail */
    ck_assert_int_eq(sum.rows[0], 1000);
    ck_assert_str_eq(sum.chunks[0].hi[0], "9");
    ck_assert_str_eq(sum.chunks[0].hi[1], "k9");
    assert_chunk(t, &sum.chunks[1], "(g, s) > (9, k9) and (g, s) <= (19, k9)");
    sum_done(&sum, t);
    /* first row of the second chunk and last row of the fourth */
    rd_itest_exec(b, "UPDATE ck SET v = -1 WHERE g = 10 AND s = 'k0'");
    rd_itest_exec(b, "UPDATE ck SET v = -1 WHERE g = 39 AND s = 'k9'");
    ck_assert_uint_eq(compare(a, b, "ck", 100, &sum, &t), 2);
    ck_assert(!rd_th_chunk_differs(&sum.chunks[0]));
    ck_assert(rd_th_chunk_differs(&sum.chunks[1]));
    ck_assert(!rd_th_chunk_differs(&sum.chunks[2]));
    ck_assert(rd_th_chunk_differs(&sum.chunks[3]));
    assert_chunk(t, &sum.chunks[3], "(g, s) > (29, k9) and (g, s) <= (39, k9)");
    sum_done(&sum, t);
    /* a row only in B past A's last key lands in the open tail */
    rd_itest_exec(b, "INSERT INTO ck VALUES (500, 'z', 0)");
    ck_assert_uint_eq(compare(a, b, "ck", 100, &sum, &t), 3);
    ck_assert(rd_th_chunk_differs(&sum.chunks[10]));
    ck_assert_int_eq(sum.chunks[10].rows[0], 0);
    ck_assert_int_eq(sum.chunks[10].rows[1], 1);
    sum_done(&sum, t);
    unpair(a, b);
}
END_TEST

START_TEST(no_key_multiset)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    both(a, b, "CREATE TABLE nk (x INT, y VARCHAR(10))");
    both(a, b, "INSERT INTO nk VALUES (1, 'a'), (1, 'a'), (2, NULL)");
    rd_th_sum sum;
    rd_th_table *t = NULL;
    ck_assert_uint_eq(compare(a, b, "nk", 0, &sum, &t), 0);
    ck_assert_uint_eq(t->nkey, 0);
    ck_assert_uint_eq(sum.nchunks, 1);
    assert_chunk(t, &sum.chunks[0], "all rows");
    sum_done(&sum, t);
    /* a duplicate added twice: XOR would cancel it, the sum does not */
    rd_itest_exec(b, "INSERT INTO nk VALUES (2, NULL), (2, NULL)");
    rd_itest_exec(a, "INSERT INTO nk VALUES (3, 'c'), (3, 'c')");
    ck_assert_uint_eq(compare(a, b, "nk", 0, NULL, NULL), 1);
    rd_itest_exec(a, "DELETE FROM nk WHERE x = 3");
    rd_itest_exec(b, "DELETE FROM nk WHERE x = 2");
    rd_itest_exec(b, "INSERT INTO nk VALUES (2, NULL)");
    ck_assert_uint_eq(compare(a, b, "nk", 0, NULL, NULL), 0);
    /* one of the duplicates removed */
    rd_itest_exec(b, PG(e) ? "DELETE FROM nk WHERE ctid = (SELECT min(ctid) FROM nk WHERE x = 1)"
                           : "DELETE FROM nk WHERE x = 1 LIMIT 1");
    ck_assert_uint_eq(compare(a, b, "nk", 0, NULL, NULL), 1);
    unpair(a, b);
}
END_TEST

START_TEST(empty_one_row_and_hostile_names)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    both(a, b, "CREATE TABLE empty (id INT PRIMARY KEY)");
    rd_th_sum sum;
    ck_assert_uint_eq(compare(a, b, "empty", 0, &sum, NULL), 0);
    ck_assert_uint_eq(sum.nchunks, 1);
    ck_assert_int_eq(sum.rows[0], 0);
    rd_th_sum_clear(&sum);
    rd_itest_exec(b, "INSERT INTO empty VALUES (1)");
    ck_assert_uint_eq(compare(a, b, "empty", 0, NULL, NULL), 1);
    rd_itest_exec(a, "INSERT INTO empty VALUES (1)");
    ck_assert_uint_eq(compare(a, b, "empty", 0, &sum, NULL), 0);
    ck_assert_int_eq(sum.rows[1], 1);
    rd_th_sum_clear(&sum);
    const char *ddl = PG(e) ? "CREATE TABLE \"we\"\"ird `name\" (\"k'ey\" INT PRIMARY KEY, "
                              "\"se;lect\" TEXT)"
                            : "CREATE TABLE `we\"ird ``name` (`k'ey` INT PRIMARY KEY, "
                              "`se;lect` TEXT)";
    both(a, b, ddl);
    const char *ins = PG(e) ? "INSERT INTO \"we\"\"ird `name\" SELECT i, 'v' || i FROM "
                              "generate_series(1, 30) i"
                            : "INSERT INTO `we\"ird ``name` SELECT seq, CONCAT('v', seq) FROM "
                              "seq_1_to_30";
    both(a, b, ins);
    ck_assert_uint_eq(compare(a, b, "we\"ird `name", 7, NULL, NULL), 0);
    rd_itest_exec(b, PG(e) ? "UPDATE \"we\"\"ird `name\" SET \"se;lect\" = 'x' WHERE \"k'ey\" = 15"
                           : "UPDATE `we\"ird ``name` SET `se;lect` = 'x' WHERE `k'ey` = 15");
    rd_th_table *t = NULL;
    ck_assert_uint_eq(compare(a, b, "we\"ird `name", 7, &sum, &t), 1);
    ck_assert(rd_th_chunk_differs(&sum.chunks[2]));
    assert_chunk(t, &sum.chunks[2], "k'ey > 14 and k'ey <= 21");
    sum_done(&sum, t);
    /* a missing table */
    rd_error err = {0};
    ck_assert_int_eq(rd_th_describe(a, NULL, "nope", NULL, &t, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg,
                     PG(e) ? "table public.nope does not exist" : "table nope does not exist");
    rd_strlist key = {0};
    rd_strlist_push(&key, "zz", NULL);
    ck_assert_int_eq(rd_th_describe(a, NULL, "empty", &key, &t, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, PG(e) ? "key column zz is not a column of public.empty"
                                    : "key column zz is not a column of empty");
    rd_strlist_free(&key);
    unpair(a, b);
}
END_TEST

/* ---------- parallel workers, manifest digests ---------- */

START_TEST(parallel_and_manifest)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    const rd_scratch *s = rd_itest_server(e);
    char *dsa = NULL, *dsb = NULL;
    rd_error err = {0};
    ck_assert(rd_scratch_dsn_for(s, na, &dsa, &err) == RD_OK);
    ck_assert(rd_scratch_dsn_for(s, nb, &dsb, &err) == RD_OK);
    both(a, b, "CREATE TABLE p (id INT PRIMARY KEY, v VARCHAR(20))");
    both(a, b, "CREATE TABLE q (id INT PRIMARY KEY, v VARCHAR(20))");
    const char *fill = PG(e) ? "SELECT i, 'v' || i FROM generate_series(1, 2000) i"
                             : "SELECT seq, CONCAT('v', seq) FROM seq_1_to_2000";
    char sql[256];
    snprintf(sql, sizeof sql, "INSERT INTO p %s", fill);
    both(a, b, sql);
    snprintf(sql, sizeof sql, "INSERT INTO q %s", fill);
    both(a, b, sql);
    /* the manifest digests of A, before B changes */
    cJSON *mj = NULL;
    ck_assert_msg(rd_tablehash_manifest_json(a, NULL, "p", 300, &mj, &err) == RD_OK, "%s", err.msg);
    ck_assert_str_eq(cJSON_GetObjectItem(mj, "algorithm")->valuestring,
                     PG(e) ? "pg-hre64-v1" : "mariadb-crc64-v2");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(mj, "chunks")), 7);
    ck_assert_int_eq((int)cJSON_GetObjectItem(mj, "rows")->valuedouble, 2000);
    rd_itest_exec(b, "UPDATE p SET v = 'changed' WHERE id = 1000");
    rd_itest_exec(b, "DELETE FROM q WHERE id = 2000");
    /* both tables at once over 2 workers per side, in read-only snapshots */
    rd_db_opts oa = {0}, ob = {0};
    oa.password = ob.password = s->conn.password;
    ck_assert(rd_db_begin_readonly(a, &err) == RD_OK);
    ck_assert(rd_db_begin_readonly(b, &err) == RD_OK);
    rd_th_side sides[2] = {{a, dsa, &oa, 1}, {b, dsb, &ob, 1}};
    rd_th_table *tp = describe_pair(a, "p", NULL, b, "p");
    rd_th_table *tq = describe_pair(a, "q", NULL, b, "q");
    rd_th_table *const tabs[2] = {tp, tq};
    rd_th_sum sums[2];
    memset(sums, 0, sizeof sums);
    rd_th_opts o = {.chunk_rows = 300, .parallel = 2, .timeout = 60};
    ck_assert_msg(rd_th_checksum(sides, 2, tabs, 2, &o, sums, &err) == RD_OK, "%s", err.msg);
    ck_assert_uint_eq(sums[0].mismatches, 1);
    ck_assert_uint_eq(sums[1].mismatches, 1);
    ck_assert_int_eq(sums[1].rows[0], 2000);
    ck_assert_int_eq(sums[1].rows[1], 1999);
    assert_chunk(tp, &sums[0].chunks[3], "id > 900 and id <= 1200");
    ck_assert(rd_th_chunk_differs(&sums[0].chunks[3]));
    /* folding the equal chunks: only the differing one is kept, with the
     * same chunk count, rows and table digests */
    char kept[2][17], folded[2][17];
    size_t nchunks = sums[0].nchunks;
    for (int k = 0; k < 2; k++)
        ck_assert(rd_th_table_digest(&sums[0], k, kept[k], sizeof kept[k], &err) == RD_OK);
    rd_th_sum_clear(&sums[0]);
    rd_th_sum_clear(&sums[1]);
    o.fold_equal = 1;
    ck_assert_msg(rd_th_checksum(sides, 2, tabs, 2, &o, sums, &err) == RD_OK, "%s", err.msg);
    ck_assert_uint_eq(sums[0].nchunks, 1);
    ck_assert_uint_eq(sums[0].folded, nchunks - 1);
    ck_assert_uint_eq(rd_th_sum_chunks(&sums[0]), nchunks);
    ck_assert_uint_eq(sums[0].mismatches, 1);
    ck_assert_int_eq(sums[0].rows[0], 2000);
    ck_assert_int_eq(sums[1].rows[1], 1999);
    assert_chunk(tp, &sums[0].chunks[0], "id > 900 and id <= 1200");
    for (int k = 0; k < 2; k++) {
        ck_assert(rd_th_table_digest(&sums[0], k, folded[k], sizeof folded[k], &err) == RD_OK);
        ck_assert_str_eq(folded[k], kept[k]);
    }
    o.fold_equal = 0;
    rd_th_sum_clear(&sums[0]);
    rd_th_sum_clear(&sums[1]);
    rd_db_commit(a, NULL);
    rd_db_commit(b, NULL);
    sides[0].snapshot = sides[1].snapshot = 0; /* no transaction to share any more */
    /* B against A's stored digests: the damaged range is named; A matches */
    rd_th_table *tm = NULL;
    rd_th_sum ms;
    ck_assert_msg(rd_tablehash_manifest_compare(&sides[1], NULL, "p", mj, &o, &tm, &ms, &err) ==
                      RD_OK,
                  "%s", err.msg);
    ck_assert_uint_eq(ms.mismatches, 1);
    ck_assert(rd_th_chunk_differs(&ms.chunks[3]));
    sum_done(&ms, tm);
    ck_assert(rd_tablehash_manifest_compare(&sides[0], NULL, "p", mj, &o, &tm, &ms, &err) == RD_OK);
    ck_assert_uint_eq(ms.mismatches, 0);
    ck_assert_int_eq(ms.rows[0], 2000);
    sum_done(&ms, tm);
    /* another table's digests do not fit: the columns differ */
    rd_itest_exec(a, "CREATE TABLE r (id INT PRIMARY KEY, w INT)");
    ck_assert_int_eq(rd_tablehash_manifest_compare(&sides[0], NULL, "r", mj, &o, &tm, &ms, &err),
                     RD_ERR_INTEGRITY);
    ck_assert_str_eq(err.msg, "columns differ from the manifest's (restored: id, w)");
    cJSON_Delete(mj);
    rd_th_table_free(tp);
    rd_th_table_free(tq);
    free(dsa);
    free(dsb);
    unpair(a, b);
}
END_TEST

/* ---------- value ranges of a dense integer key ---------- */

static int64_t max_chunk_rows(const rd_th_sum *s)
{
    int64_t m = 0;
    for (size_t i = 0; i < s->nchunks; i++)
        for (int k = 0; k < s->nsides; k++)
            if (s->chunks[i].rows[k] > m)
                m = s->chunks[i].rows[k];
    return m;
}

START_TEST(value_ranges_dense_and_skewed)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    /* dense ids 1..4000: 40 value ranges of 100 (the walk would add an
     * empty open tail: 41), same table digest as the walk's */
    both(a, b, "CREATE TABLE r (id BIGINT PRIMARY KEY, v INT)");
    both(a, b,
         PG(e) ? "INSERT INTO r SELECT i, i % 7 FROM generate_series(1, 4000) i"
               : "INSERT INTO r SELECT seq, seq % 7 FROM seq_1_to_4000");
    analyze(e, a, b, "r");
    rd_th_sum sum, walk;
    rd_th_table *t = NULL, *tw = NULL;
    ck_assert_uint_eq(compare(a, b, "r", 100, &sum, &t), 0);
    ck_assert_uint_eq(sum.nchunks, 40);
    ck_assert_ptr_null(sum.chunks[0].lo);
    ck_assert_str_eq(sum.chunks[0].hi[0], "100");
    ck_assert_str_eq(sum.chunks[39].lo[0], "3900");
    ck_assert_ptr_null(sum.chunks[39].hi);
    ck_assert_int_eq(max_chunk_rows(&sum), 100);
    char d1[17], d2[17];
    rd_error err = {0};
    ck_assert(rd_th_table_digest(&sum, 0, d1, sizeof d1, &err) == RD_OK);
    sum_done(&sum, t);
    if (PG(e)) { /* no statistics: the walk */
        rd_itest_exec(a, "CREATE TABLE r_nostats (id BIGINT PRIMARY KEY, v INT)");
        rd_itest_exec(a, "INSERT INTO r_nostats SELECT * FROM r");
        ck_assert_uint_eq(compare(a, a, "r_nostats", 100, &walk, &tw), 0);
        ck_assert_uint_eq(walk.nchunks, 41);
        ck_assert(rd_th_table_digest(&walk, 0, d2, sizeof d2, &err) == RD_OK);
        ck_assert_str_eq(d1, d2);
        sum_done(&walk, tw);
    }
    /* first row, a row in the middle, a row past the last key */
    rd_itest_exec(b, "DELETE FROM r WHERE id = 1");
    rd_itest_exec(b, "UPDATE r SET v = -1 WHERE id = 2050");
    rd_itest_exec(b, "INSERT INTO r VALUES (4500, 0)");
    ck_assert_uint_eq(compare(a, b, "r", 100, &sum, &t), 3);
    ck_assert(rd_th_chunk_differs(&sum.chunks[0]));
    ck_assert(rd_th_chunk_differs(&sum.chunks[20]));
    ck_assert(rd_th_chunk_differs(&sum.chunks[39]));
    ck_assert_int_eq(sum.chunks[39].rows[1], 101);
    rd_th_sum_clear(&sum);
    /* the diff over value ranges names exactly those rows */
    rd_th_side sides[2] = {{b, NULL, NULL, 0}, {a, NULL, NULL, 0}};
    rd_th_table_free(t);
    t = describe_pair(b, "r", NULL, a, "r");
    rd_diff_opts o = {.leaf_rows = 100, .max_rows = -1};
    rd_diff_result r;
    ck_assert_msg(rd_tablediff(sides, t, &o, &r, &err) == RD_OK, "%s", err.msg);
    ck_assert_int_eq(r.missing, 1);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_int_eq(r.extra, 1);
    ck_assert_uint_eq(r.chunks, 45); /* ranges up to 4500 (the walk: 41) */
    rd_diff_result_clear(&r);
    rd_th_table_free(t);

    /* negative keys, and (MariaDB) unsigned keys past the signed 64-bit range */
    both(a, b,
         PG(e) ? "CREATE TABLE ng (id INT PRIMARY KEY, v INT)"
               : "CREATE TABLE ng (id INT PRIMARY KEY, v INT); "
                 "CREATE TABLE ub (id BIGINT UNSIGNED PRIMARY KEY, v INT)");
    both(a, b,
         PG(e) ? "INSERT INTO ng SELECT i, i FROM generate_series(-500, 499) i"
               : "INSERT INTO ng SELECT CAST(seq AS SIGNED) - 501, seq FROM seq_1_to_1000");
    analyze(e, a, b, "ng");
    ck_assert_uint_eq(compare(a, b, "ng", 100, &sum, &t), 0);
    ck_assert_uint_eq(sum.nchunks, 10);
    ck_assert_str_eq(sum.chunks[0].hi[0], "-401");
    ck_assert_str_eq(sum.chunks[9].lo[0], "399");
    ck_assert_int_eq(max_chunk_rows(&sum), 100);
    sum_done(&sum, t);
    if (!PG(e)) {
        both(a, b, "INSERT INTO ub SELECT 18446744073709550615 + seq, seq FROM seq_1_to_1000");
        both(a, b, "ANALYZE TABLE ub");
        rd_itest_exec(b, "UPDATE ub SET v = 0 WHERE id = 18446744073709551615");
        ck_assert_uint_eq(compare(a, b, "ub", 100, &sum, &t), 1);
        ck_assert_uint_eq(sum.nchunks, 10);
        ck_assert_str_eq(sum.chunks[9].lo[0], "18446744073709551515");
        ck_assert(rd_th_chunk_differs(&sum.chunks[9]));
        sum_done(&sum, t);
    }

    /* skew between the probes: density 0.4 around a run of 2500 dense ids;
     * the ranges there hold about 250 rows and are cut again by the walk */
    both(a, b, "CREATE TABLE sk (id INT PRIMARY KEY, v INT)");
    both(a, b,
         PG(e) ? "INSERT INTO sk SELECT i, i FROM generate_series(1, 10000) i "
                 "WHERE i BETWEEN 2001 AND 4500 OR i % 5 IN (0, 1)"
               : "INSERT INTO sk SELECT seq, seq FROM seq_1_to_10000 "
                 "WHERE seq BETWEEN 2001 AND 4500 OR seq % 5 IN (0, 1)");
    analyze(e, a, b, "sk");
    ck_assert_uint_eq(compare(a, b, "sk", 100, &sum, &t), 0);
    ck_assert_int_eq(sum.rows[0], 5500);
    ck_assert_int_le(max_chunk_rows(&sum), 200); /* uncut ranges would hold 250 */
    size_t short_chunks = 0;                     /* the walk's are all 100 but the last */
    for (size_t i = 0; i + 1 < sum.nchunks; i++)
        short_chunks += sum.chunks[i].rows[0] < 90;
    ck_assert_uint_gt(short_chunks, 0);
    ck_assert_ptr_null(sum.chunks[0].lo);
    ck_assert_ptr_null(sum.chunks[sum.nchunks - 1].hi);
    for (size_t i = 1; i < sum.nchunks; i++) /* contiguous, in key order */
        ck_assert_str_eq(sum.chunks[i].lo[0], sum.chunks[i - 1].hi[0]);
    sum_done(&sum, t);
    rd_itest_exec(b, "UPDATE sk SET v = 0 WHERE id = 2500");
    ck_assert_uint_eq(compare(a, b, "sk", 100, &sum, &t), 1);
    sum_done(&sum, t);
    unpair(a, b);
}
END_TEST

/* ---------- diff ---------- */

typedef struct handed {
    char seen[256];
    size_t n;
} handed;

static rd_status record_differ(void *ud, rd_th_chunk *c, rd_error *err)
{
    handed *h = ud;
    (void)err;
    char one[40];
    snprintf(one, sizeof one, "%s%s", h->n++ ? "," : "", c->hi ? c->hi[0] : "end");
    strncat(h->seen, one, sizeof h->seen - strlen(h->seen) - 1);
    return RD_OK;
}

/* Differing chunks handed over as found (rd_th_opts.on_differ), in key
 * order, none kept; a diff where every row differs stays exact. */
START_TEST(differing_chunks_handed_over)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    both(a, b, "CREATE TABLE h (id INT PRIMARY KEY, v INT)");
    both(a, b,
         PG(e) ? "INSERT INTO h SELECT i, i FROM generate_series(1, 1000) i"
               : "INSERT INTO h SELECT seq, seq FROM seq_1_to_1000");
    rd_itest_exec(b, "UPDATE h SET v = -v WHERE id IN (5, 450, 451, 1000)");
    if (PG(e)) /* statistics, so both engines cut value ranges (the last one open) */
        both(a, b, "ANALYZE h");
    rd_error err = {0};
    rd_th_table *t = describe_pair(a, "h", NULL, b, "h");
    rd_th_side sides[2] = {{a, NULL, NULL, 0}, {b, NULL, NULL, 0}};
    handed h = {"", 0};
    rd_th_opts o = {.chunk_rows = 100,
                    .parallel = 1,
                    .timeout = 60,
                    .fold_equal = 1,
                    .on_differ = record_differ,
                    .differ_ud = &h};
    rd_th_table *const tabs[1] = {t};
    rd_th_sum sum;
    ck_assert_msg(rd_th_checksum(sides, 2, tabs, 1, &o, &sum, &err) == RD_OK, "%s", err.msg);
    ck_assert_str_eq(h.seen, "100,500,end"); /* the chunks holding 5, 450-451 and 1000 */
    ck_assert_uint_eq(sum.nchunks, 0);
    ck_assert_uint_eq(sum.handed, 3);
    ck_assert_uint_eq(sum.mismatches, 3);
    ck_assert_uint_eq(rd_th_sum_chunks(&sum), 10);
    ck_assert_int_eq(sum.rows[0], 1000);
    ck_assert_int_eq(sum.rows[1], 1000);
    rd_th_sum_clear(&sum);
    /* every row differs: 50 leaves of 20 rows, merged as they are found */
    rd_itest_exec(b, "UPDATE h SET v = v + 1000000");
    rd_diff_opts d = {.leaf_rows = 20, .max_rows = 3};
    rd_diff_result r;
    ck_assert_msg(rd_tablediff(sides, t, &d, &r, &err) == RD_OK, "%s", err.msg);
    ck_assert_int_eq(r.changed, 1000);
    ck_assert_int_eq(r.missing + r.extra, 0);
    ck_assert_uint_eq(r.leaves, 50);
    ck_assert_uint_eq(r.mismatched, 50);
    ck_assert_uint_eq(r.nrows, 3);
    ck_assert_str_eq(r.rows[0].key, "1");
    ck_assert_str_eq(r.rows[2].key, "3");
    rd_diff_result_clear(&r);
    rd_th_table_free(t);
    unpair(a, b);
}
END_TEST

START_TEST(diff_names_exact_keys)
{
    rd_engine e = ENGINE(_i);
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64];
    if (!pair(e, &a, &b, na, nb))
        return;
    both(a, b, "CREATE TABLE d (id INT PRIMARY KEY, v VARCHAR(20), n INT)");
    both(a, b,
         PG(e) ? "INSERT INTO d SELECT i, 'v' || i, i FROM generate_series(1, 3000) i"
               : "INSERT INTO d SELECT seq, CONCAT('v', seq), seq FROM seq_1_to_3000");
    /* B is the restore: 3 changed, 2 missing, 1 extra */
    rd_itest_exec(b, "UPDATE d SET v = 'x' WHERE id IN (5, 1500, 2999)");
    rd_itest_exec(b, "DELETE FROM d WHERE id IN (700, 701)");
    rd_itest_exec(b, "INSERT INTO d VALUES (5000, 'new', 0)");
    rd_error err = {0};
    rd_th_table *t = describe_pair(b, "d", NULL, a, "d");
    rd_th_side sides[2] = {{b, NULL, NULL, 0}, {a, NULL, NULL, 0}};
    rd_diff_opts o = {.th.chunk_rows = 500, .leaf_rows = 20, .fanout = 4, .max_rows = -1};
    rd_diff_result r;
    ck_assert_msg(rd_tablediff(sides, t, &o, &r, &err) == RD_OK, "%s", err.msg);
    ck_assert_int_eq(r.changed, 3);
    ck_assert_int_eq(r.missing, 2);
    ck_assert_int_eq(r.extra, 1);
    ck_assert_int_eq(r.rows_a, 2999);
    ck_assert_int_eq(r.rows_b, 3000);
    ck_assert_uint_eq(r.nrows, 6);
    char seen[256];
    diff_rows(&r, seen, sizeof seen);
    ck_assert_str_eq(seen,
                     "changed 5,missing 700,missing 701,changed 1500,changed 2999,extra 5000");
    ck_assert_uint_eq(r.mismatched, 4); /* 2999 and 5000 share the open tail */
    rd_diff_result_clear(&r);
    /* capped list, exact counts; a where filter hides the newer rows */
    o.max_rows = 2;
    ck_assert(rd_tablediff(sides, t, &o, &r, &err) == RD_OK);
    ck_assert_uint_eq(r.nrows, 2);
    ck_assert_int_eq(r.changed + r.missing + r.extra, 6);
    rd_diff_result_clear(&r);
    o.th.where = "id < 1000";
    ck_assert(rd_tablediff(sides, t, &o, &r, &err) == RD_OK);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_int_eq(r.missing, 2);
    ck_assert_int_eq(r.extra, 0);
    rd_diff_result_clear(&r);
    /* equal tables */
    rd_th_table_free(t);
    t = describe_pair(a, "d", NULL, a, "d");
    rd_th_side same[2] = {{a, NULL, NULL, 0}, {a, NULL, NULL, 0}};
    o.th.where = NULL;
    ck_assert(rd_tablediff(same, t, &o, &r, &err) == RD_OK);
    ck_assert_int_eq(r.changed + r.missing + r.extra, 0);
    ck_assert_int_eq(r.rows_a, 3000);
    rd_diff_result_clear(&r);
    rd_th_table_free(t);
    /* no key */
    both(a, b, "CREATE TABLE nk (x INT)");
    t = describe_pair(a, "nk", NULL, b, "nk");
    ck_assert_int_eq(rd_tablediff(sides, t, &o, &r, &err), RD_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, PG(e) ? "public.nk has no primary key: give --key"
                                    : "nk has no primary key: give --key");
    rd_th_table_free(t);
    unpair(a, b);
}
END_TEST

/* ---------- a text key whose collation order is not byte order ---------- */

/* Diff table `name` against `other` in one database (--against-table);
 * the differences as "kind key,..." in *seen. */
static void diff_in_db(rd_db *db, const char *name, const char *other, char *seen, size_t cap,
                       rd_diff_result *r)
{
    rd_error err = {0};
    rd_th_table *t = describe_pair(db, name, NULL, db, other);
    rd_th_side sides[2] = {{db, NULL, NULL, 0}, {db, NULL, NULL, 0}};
    rd_diff_opts o = {.th.chunk_rows = 100, .leaf_rows = 10, .fanout = 4, .max_rows = -1};
    ck_assert_msg(rd_tablediff(sides, t, &o, r, &err) == RD_OK, "%s", err.msg);
    diff_rows(r, seen, cap);
    rd_th_table_free(t);
}

START_TEST(text_key_locale_order)
{
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64], sql[512], seen[512];
    if (!pair(RD_ENGINE_PG, &a, &b, na, nb))
        return;
    rd_error err = {0};
    char *enc = NULL, *coll = NULL;
    ck_assert(rd_db_scalar(a,
                           "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE "
                           "datname = current_database()",
                           60, &enc, NULL, &err) == RD_OK);
    ck_assert_str_eq(enc, "UTF8");
    /* a collation that sorts "a" < "B" < "é" (bytes: "B" < "a" < "é") */
    ck_assert(rd_db_scalar(a,
                           "SELECT collname FROM pg_collation WHERE collname IN ('en-x-icu', "
                           "'en_US.utf8', 'und-x-icu') ORDER BY collname = 'en-x-icu' DESC, "
                           "collname = 'en_US.utf8' DESC LIMIT 1",
                           60, &coll, NULL, &err) == RD_OK);
    ck_assert_msg(coll != NULL, "the server has no ICU and no en_US.utf8 collation");
    snprintf(sql, sizeof sql,
             "SELECT string_agg(x, ',' ORDER BY x COLLATE \"%s\") || ' ' || string_agg(x, ',' "
             "ORDER BY x COLLATE \"C\") FROM unnest(ARRAY['a', 'B', 'é']) x",
             coll);
    char *orders = NULL;
    ck_assert(rd_db_scalar(a, sql, 60, &orders, NULL, &err) == RD_OK);
    ck_assert_str_eq(orders, "a,B,é B,a,é");
    /* k1: 1200 keys over ten first letters; k2: k1 with one row changed,
     * one deleted and one added; kc, kc2: the same rows under COLLATE "C" */
    static const char *const tabs[][2] = {{"k1", NULL}, {"k2", NULL}, {"kc", "C"}, {"kc2", "C"}};
    for (size_t i = 0; i < 4; i++) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE %s (k text COLLATE \"%s\" PRIMARY KEY, v integer); INSERT INTO %s "
                 "SELECT (ARRAY['a', 'B', 'é', 'É', 'b', 'A', 'e', 'z', 'Z', 'ñ'])[1 + i %% 10] "
                 "|| lpad(i::text, 5, '0'), i FROM generate_series(1, 1200) i",
                 tabs[i][0], tabs[i][1] ? tabs[i][1] : coll, tabs[i][0]);
        rd_itest_exec(a, sql);
    }
    rd_itest_exec(a, "UPDATE k2 SET v = -1 WHERE v = 7; DELETE FROM k2 WHERE v = 500; "
                     "INSERT INTO k2 VALUES ('Éxtra', 0)");
    rd_itest_exec(a, "UPDATE kc2 SET v = -1 WHERE v = 7; DELETE FROM kc2 WHERE v = 500; "
                     "INSERT INTO kc2 VALUES ('Éxtra', 0)");
    rd_diff_result r;
    /* the same collation on both sides */
    diff_in_db(a, "k2", "k1", seen, sizeof seen, &r);
    ck_assert_str_eq(seen, "missing a00500,extra Éxtra,changed z00007"); /* in the key's order */
    ck_assert_int_eq(r.rows_a, 1200);
    ck_assert_int_eq(r.rows_b, 1200);
    rd_diff_result_clear(&r);
    /* equal rows under two collations: nothing reported */
    diff_in_db(a, "kc", "k1", seen, sizeof seen, &r);
    ck_assert_str_eq(seen, "");
    ck_assert_int_eq(r.changed + r.missing + r.extra, 0);
    rd_diff_result_clear(&r);
    diff_in_db(a, "k1", "kc", seen, sizeof seen, &r);
    ck_assert_str_eq(seen, "");
    rd_diff_result_clear(&r);
    /* the three differences under two collations, either way round */
    diff_in_db(a, "kc2", "k1", seen, sizeof seen, &r);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_int_eq(r.missing, 1);
    ck_assert_int_eq(r.extra, 1);
    rd_diff_result_clear(&r);
    diff_in_db(a, "k2", "kc", seen, sizeof seen, &r);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_int_eq(r.missing, 1);
    ck_assert_int_eq(r.extra, 1);
    rd_diff_result_clear(&r);
    free(enc);
    free(coll);
    free(orders);
    unpair(a, b);
}
END_TEST

/* ---------- ordered chunk digests (MariaDB, the diff's) ---------- */

START_TEST(ordered_digests)
{
    rd_db *a = NULL, *b = NULL;
    char na[64], nb[64], sql[512];
    if (!pair(RD_ENGINE_MARIADB, &a, &b, na, nb))
        return;
    ck_assert(rd_th_ordered_self_test(a)); /* the diff uses ordered digests on this server */
    /* rows concatenated must still parse back: every change below keeps
     * the concatenation's bytes but for the lengths and null bits */
    static const char *const bs[] = {
        "(1, 'a', 'x', 1, NULL), (2, 'bc', NULL, 2, 3)", /* text moved to the next row */
        "(1, 'abx', '', 1, NULL), (2, 'c', NULL, 2, 3)", /* text moved to the next column */
        "(1, 'ab', 'x', NULL, 1), (2, 'c', NULL, 2, 3)", /* NULL moved to the next column */
        "(1, 'c', NULL, 2, 3), (2, 'ab', 'x', 1, NULL)", /* rows' values swapped */
        "(1, 'ab', 'x', 1, NULL), (2, 'c', NULL, 2, 3)", /* equal */
    };
    for (size_t k = 0; k < sizeof bs / sizeof bs[0]; k++) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE o%zu (id INT PRIMARY KEY, s VARCHAR(20) NOT NULL, t VARCHAR(20), "
                 "n INT, m INT)",
                 k);
        both(a, b, sql);
        snprintf(sql, sizeof sql,
                 "INSERT INTO o%zu VALUES (1, 'ab', 'x', 1, NULL), "
                 "(2, 'c', NULL, 2, 3)",
                 k);
        rd_itest_exec(a, sql);
        snprintf(sql, sizeof sql, "INSERT INTO o%zu VALUES %s", k, bs[k]);
        rd_itest_exec(b, sql);
        snprintf(sql, sizeof sql, "o%zu", k);
        rd_th_sum sum;
        compare_with(a, b, sql, NULL, 0, 1, &sum, NULL);
        ck_assert(sum.ordered);
        ck_assert_msg(sum.mismatches == (k < 4 ? 1u : 0u), "case %zu: %zu mismatches", k,
                      sum.mismatches);
        rd_error err = {0};
        char dg[32];
        ck_assert_int_eq(rd_th_table_digest(&sum, 0, dg, sizeof dg, &err), RD_ERR_UNSUPPORTED);
        rd_th_sum_clear(&sum);
    }
    /* a key that is not the primary key, or another primary key on side 1:
     * the order is not the key's, so the digests are the row sums */
    char kc[] = "s", *kp = kc;
    rd_strlist key = {&kp, 1};
    rd_th_sum sum;
    compare_with(a, b, "o4", &key, 0, 1, &sum, NULL);
    ck_assert(!sum.ordered);
    ck_assert_uint_eq(sum.mismatches, 0);
    rd_th_sum_clear(&sum);
    rd_itest_exec(a, "CREATE TABLE pk2 (id INT PRIMARY KEY, s VARCHAR(20))");
    rd_itest_exec(b, "CREATE TABLE pk2 (id INT, s VARCHAR(20) PRIMARY KEY)");
    both(a, b, "INSERT INTO pk2 VALUES (1, 'b'), (2, 'a')");
    compare_with(a, b, "pk2", NULL, 0, 1, &sum, NULL);
    ck_assert(!sum.ordered);
    ck_assert_uint_eq(sum.mismatches, 0);
    rd_th_sum_clear(&sum);
    /* a chunk longer than the concatenation limit (16 MiB, or
     * max_allowed_packet) never compares equal, and the diff's leaf merge
     * still finds exactly what differs, also past the limit */
    both(a, b, "CREATE TABLE big (id INT PRIMARY KEY, v LONGTEXT)");
    both(a, b, "INSERT INTO big SELECT seq, REPEAT(MD5(seq), 16384) FROM seq_1_to_40");
    compare_with(a, b, "big", NULL, 1000, 1, &sum, NULL);
    ck_assert(sum.ordered);
    ck_assert_uint_eq(sum.nchunks, 1);
    ck_assert_str_eq(sum.chunks[0].digest[0], "!");
    ck_assert_uint_eq(sum.mismatches, 1);
    rd_th_sum_clear(&sum);
    rd_itest_exec(b, "UPDATE big SET v = CONCAT(v, 'x') WHERE id = 40");
    rd_error err = {0};
    rd_th_table *t = describe_pair(b, "big", NULL, a, "big");
    rd_th_side sides[2] = {{b, NULL, NULL, 0}, {a, NULL, NULL, 0}};
    rd_diff_opts o = {.max_rows = -1};
    rd_diff_result r;
    ck_assert_msg(rd_tablediff(sides, t, &o, &r, &err) == RD_OK, "%s", err.msg);
    ck_assert_int_eq(r.changed, 1);
    ck_assert_int_eq(r.missing + r.extra, 0);
    ck_assert_uint_eq(r.nrows, 1);
    ck_assert_str_eq(r.rows[0].key, "40");
    rd_diff_result_clear(&r);
    rd_itest_exec(b, "UPDATE big SET v = REPEAT(MD5(id), 16384) WHERE id = 40");
    ck_assert(rd_tablediff(sides, t, &o, &r, &err) == RD_OK);
    ck_assert_int_eq(r.changed + r.missing + r.extra, 0);
    ck_assert_uint_eq(r.leaves, 1); /* "!": merged (a row-hash sum would be equal), found equal */
    rd_diff_result_clear(&r);
    rd_th_table_free(t);
    /* the second statement must find what the first hashed in @rd_g: a
     * session that lost it (a pooler switching connections) is an error */
    int64_t rows = -1;
    char *dg = NULL;
    rd_itest_exec(a, "SET @rd_g = 'other rows'");
    ck_assert_int_eq(rd_th_run_digest(a, "SELECT 1, 12345", 1, 60, &rows, &dg, &err),
                     RD_ERR_INTERNAL);
    ck_assert_ptr_nonnull(strstr(err.msg, "lost the rows it hashed"));
    ck_assert_ptr_null(dg);
    rd_itest_exec(a, "SET @rd_g = 'x'");
    ck_assert(rd_th_run_digest(a, "SELECT 1, CRC32('x')", 1, 60, &rows, &dg, &err) == RD_OK);
    ck_assert_int_eq(rows, 1);
    ck_assert_str_eq(dg, "2363233923:2839306131"); /* CRC32 and CRC32C of "x" */
    ck_assert(rd_th_run_digest(a, "SELECT 0, NULL", 1, 60, &rows, &dg, &err) == RD_OK);
    ck_assert_str_eq(dg, "");
    free(dg);
    unpair(a, b);
}
END_TEST

static void start_servers(void)
{
    rd_itest_server(RD_ENGINE_PG);
    rd_itest_server(RD_ENGINE_MARIADB);
}

static void no_teardown(void)
{
}

Suite *tablehash_suite(void);
Suite *tablehash_suite(void)
{
    Suite *s = suite_create("tablehash");
    TCase *tc = tcase_create("live");
    tcase_add_unchecked_fixture(tc, start_servers, no_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_loop_test(tc, detects_each_change, 0, 2);
    tcase_add_loop_test(tc, composite_key_and_boundaries, 0, 2);
    tcase_add_loop_test(tc, no_key_multiset, 0, 2);
    tcase_add_loop_test(tc, empty_one_row_and_hostile_names, 0, 2);
    tcase_add_loop_test(tc, parallel_and_manifest, 0, 2);
    tcase_add_loop_test(tc, diff_names_exact_keys, 0, 2);
    tcase_add_loop_test(tc, value_ranges_dense_and_skewed, 0, 2);
    tcase_add_test(tc, ordered_digests);
    tcase_add_loop_test(tc, differing_chunks_handed_over, 0, 2);
    tcase_add_test(tc, text_key_locale_order);
    suite_add_tcase(s, tc);
    return s;
}
