/* test_manifest.c: manifest save/load round trip, newer versions, corrupt
 * files, sidecar paths, version majors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/manifest.h"
#include "restoredrill/strbuf.h"
#include "tmpdir_fixture.h"

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd_test_manifest_XXXXXX");
}

static char *path_in(const char *name)
{
    char *p = rd_asprintf("%s/%s", tmpdir, name);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static rd_manifest *sample(void)
{
    rd_manifest *m = rd_manifest_new(RD_ENGINE_PG);
    ck_assert_ptr_nonnull(m);
    m->tool = rd_strdup("restoredrill 0.1.0");
    m->captured_at_ms = 1769785200123LL; /* 2026-01-30T15:00:00.123Z */
    m->server_version = rd_strdup("15.18");
    m->database = rd_strdup("shop");
    m->snapshot = rd_strdup("00000003-0000001B-1");
    m->artifact_file = rd_strdup("shop.dump");
    m->artifact_bytes = 4096;
    m->artifact_sha256 = rd_strdup("ab12");
    m->artifact_format = rd_strdup("pg-custom");
    m->nextensions = 1;
    m->extensions = calloc(1, sizeof *m->extensions);
    m->extensions[0].name = rd_strdup("plpgsql");
    m->extensions[0].definition = rd_strdup("1.0");
    m->freshness_query = rd_strdup("SELECT max(ts) FROM t");
    m->freshness_ms = 1769785100000LL;
    m->heartbeat_ms = 1769785199000LL;
    m->ntables = 2;
    m->tables = calloc(2, sizeof *m->tables);
    rd_manifest_table *t = &m->tables[0];
    t->schema = rd_strdup("public");
    t->name = rd_strdup("orders");
    t->rows = 120;
    t->ncolumns = 2;
    t->columns = calloc(2, sizeof *t->columns);
    t->columns[0].name = rd_strdup("id");
    t->columns[0].type = rd_strdup("integer");
    t->columns[0].nullable = 0;
    t->columns[1].name = rd_strdup("note");
    t->columns[1].type = rd_strdup("character varying(20)");
    t->columns[1].nullable = 1;
    t->npk = 1;
    t->primary_key = calloc(1, sizeof(char *));
    t->primary_key[0] = rd_strdup("id");
    t->nindexes = 1;
    t->indexes = calloc(1, sizeof *t->indexes);
    t->indexes[0].name = rd_strdup("orders_pkey");
    t->indexes[0].definition =
        rd_strdup("CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)");
    t->nconstraints = 1;
    t->constraints = calloc(1, sizeof *t->constraints);
    t->constraints[0].name = rd_strdup("orders_pkey");
    t->constraints[0].kind = rd_strdup("p");
    t->constraints[0].definition = rd_strdup("PRIMARY KEY (id)");
    t = &m->tables[1];
    t->schema = rd_strdup("public");
    t->name = rd_strdup("we\"ird name");
    t->rows = 0;
    m->nsequences = 1;
    m->sequences = calloc(1, sizeof *m->sequences);
    m->sequences[0].schema = rd_strdup("public");
    m->sequences[0].name = rd_strdup("orders_id_seq");
    m->sequences[0].value = 120;
    m->nviews = 1;
    m->views = calloc(1, sizeof(char *));
    m->views[0] = rd_strdup("public.v");
    m->nroutines = 1;
    m->routines = calloc(1, sizeof(char *));
    m->routines[0] = rd_strdup("public.f(integer)");
    m->ntriggers = 1;
    m->triggers = calloc(1, sizeof(char *));
    m->triggers[0] = rd_strdup("public.orders.trg");
    return m;
}

START_TEST(round_trip)
{
    rd_error err = {0};
    rd_manifest *m = sample(), *l = NULL;
    char *p = path_in("x.dump.manifest.json");
    ck_assert_int_eq(rd_manifest_save(m, p, &err), RD_OK);
    ck_assert_int_eq(rd_manifest_load(p, &l, &err), RD_OK);
    ck_assert_int_eq(l->version, 1);
    ck_assert_int_eq(l->engine, RD_ENGINE_PG);
    ck_assert_str_eq(l->tool, "restoredrill 0.1.0");
    ck_assert_int_eq(l->captured_at_ms, 1769785200123LL);
    ck_assert_str_eq(l->server_version, "15.18");
    ck_assert_str_eq(l->database, "shop");
    ck_assert_str_eq(l->snapshot, "00000003-0000001B-1");
    ck_assert_str_eq(l->artifact_file, "shop.dump");
    ck_assert_int_eq(l->artifact_bytes, 4096);
    ck_assert_str_eq(l->artifact_sha256, "ab12");
    ck_assert_str_eq(l->artifact_format, "pg-custom");
    ck_assert_uint_eq(l->nextensions, 1);
    ck_assert_str_eq(l->extensions[0].definition, "1.0");
    ck_assert_str_eq(l->freshness_query, "SELECT max(ts) FROM t");
    ck_assert_int_eq(l->freshness_ms, 1769785100000LL);
    ck_assert_int_eq(l->heartbeat_ms, 1769785199000LL);
    ck_assert_uint_eq(l->ntables, 2);
    const rd_manifest_table *t = rd_manifest_find_table(l, "public", "orders");
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(t->rows, 120);
    ck_assert_uint_eq(t->ncolumns, 2);
    ck_assert_str_eq(t->columns[1].type, "character varying(20)");
    ck_assert_int_eq(t->columns[0].nullable, 0);
    ck_assert_int_eq(t->columns[1].nullable, 1);
    ck_assert_uint_eq(t->npk, 1);
    ck_assert_str_eq(t->primary_key[0], "id");
    ck_assert_str_eq(t->indexes[0].definition,
                     "CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)");
    ck_assert_str_eq(t->constraints[0].kind, "p");
    ck_assert_ptr_nonnull(rd_manifest_find_table(l, "public", "we\"ird name"));
    ck_assert_ptr_nonnull(rd_manifest_find_table(l, NULL, "orders"));
    ck_assert_ptr_null(rd_manifest_find_table(l, "other", "orders"));
    ck_assert_str_eq(l->sequences[0].name, "orders_id_seq");
    ck_assert_int_eq(l->sequences[0].value, 120);
    ck_assert_str_eq(l->views[0], "public.v");
    ck_assert_str_eq(l->routines[0], "public.f(integer)");
    ck_assert_str_eq(l->triggers[0], "public.orders.trg");

    /* saving what was loaded gives the same bytes */
    char *p2 = path_in("again.json");
    ck_assert_int_eq(rd_manifest_save(l, p2, &err), RD_OK);
    char *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    ck_assert_int_eq(rd_fs_read_file(p, 1 << 20, &a, &na, &err), RD_OK);
    ck_assert_int_eq(rd_fs_read_file(p2, 1 << 20, &b, &nb, &err), RD_OK);
    ck_assert_str_eq(a, b);
    ck_assert_ptr_nonnull(strstr(a, "\"captured_at\":\t\"2026-01-30T15:00:00.123Z\""));
    ck_assert_ptr_nonnull(strstr(a, "\"version\":\t1,"));
    free(a);
    free(b);
    free(p2);
    rd_manifest_free(l);
    rd_manifest_free(m);
    free(p);
}
END_TEST

static const char *const minimal =
    "{\"version\": 1, \"engine\": \"mariadb\", \"tables\": [{\"schema\": \"shop\", "
    "\"name\": \"t\", \"rows\": 7}]}";

START_TEST(minimal_fields)
{
    rd_error err = {0};
    rd_manifest *m = NULL;
    ck_assert_int_eq(rd_manifest_parse(minimal, strlen(minimal), "m.json", &m, &err), RD_OK);
    ck_assert_int_eq(m->engine, RD_ENGINE_MARIADB);
    ck_assert_ptr_null(m->artifact_file);
    ck_assert_int_eq(m->artifact_bytes, -1);
    ck_assert_int_eq(m->freshness_ms, 0);
    ck_assert_uint_eq(m->ntables, 1);
    ck_assert_int_eq(m->tables[0].rows, 7);
    ck_assert_uint_eq(m->tables[0].ncolumns, 0);
    ck_assert_uint_eq(m->nsequences, 0);
    rd_manifest_free(m);
}
END_TEST

START_TEST(newer_version_warns_and_loads)
{
    rd_error err = {0};
    rd_manifest *m = NULL;
    char *p = path_in("new.json");
    char *logp = path_in("stderr.txt");
    write_file(p, "{\"version\": 2, \"engine\": \"postgres\", \"future\": {\"x\": [1]}, "
                  "\"tables\": [{\"schema\": \"public\", \"name\": \"t\", \"rows\": 3, "
                  "\"bloom\": true}]}");
    fflush(stderr);
    int saved = dup(2);
    FILE *lf = fopen(logp, "w");
    ck_assert_ptr_nonnull(lf);
    dup2(fileno(lf), 2);
    rd_status st = rd_manifest_load(p, &m, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    fclose(lf);
    ck_assert_int_eq(st, RD_OK);
    ck_assert_int_eq(m->version, 2);
    ck_assert_int_eq(m->tables[0].rows, 3);
    char *log = NULL;
    size_t n = 0;
    ck_assert_int_eq(rd_fs_read_file(logp, 1 << 16, &log, &n, &err), RD_OK);
    char want[512];
    snprintf(want, sizeof want,
             "manifest %s has version 2, newer than this tool's 1; reading the fields it knows", p);
    ck_assert_msg(strstr(log, want), "stderr was: %s", log);
    free(log);
    rd_manifest_free(m);
    free(p);
    free(logp);
}
END_TEST

static void expect_corrupt(const char *text, const char *msg)
{
    rd_error err = {0};
    rd_manifest *m = NULL;
    char *p = path_in("bad.json");
    write_file(p, text);
    ck_assert_int_eq(rd_manifest_load(p, &m, &err), RD_ERR_FORMAT);
    ck_assert_ptr_null(m);
    char want[512];
    snprintf(want, sizeof want, "manifest %s: %s", p, msg);
    ck_assert_str_eq(err.msg, want);
    free(p);
}

START_TEST(corrupt_files)
{
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"tables\": [",
                   "not valid JSON (near byte 47)");
    expect_corrupt("[1]", "top level: expected an object");
    expect_corrupt("{\"engine\": \"postgres\"}", "version: expected an integer");
    expect_corrupt("{\"version\": 1.5, \"engine\": \"postgres\"}", "version: expected an integer");
    expect_corrupt("{\"version\": 0, \"engine\": \"postgres\"}",
                   "version: expected a positive integer");
    expect_corrupt("{\"version\": 1, \"engine\": \"oracle\"}",
                   "engine: expected \"postgres\" or \"mariadb\"");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"tables\": [{\"name\": \"a\"}, "
                   "{\"name\": \"b\", \"rows\": \"lots\"}]}",
                   "tables[1].rows: expected an integer");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"tables\": [{\"rows\": 1}]}",
                   "tables[0].name: expected a string");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"tables\": [{\"name\": \"a\", "
                   "\"columns\": [{\"name\": \"id\", \"type\": \"int\", \"nullable\": 1}]}]}",
                   "tables[0].columns[0].nullable: expected true or false");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"tables\": {}}",
                   "tables: expected an array");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"sequences\": [{\"name\": \"s\"}]}",
                   "sequences[0].value: expected an integer");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"views\": [\"a\", 3]}",
                   "views[1]: expected a string");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"captured_at\": \"yesterday\"}",
                   "captured_at: expected an RFC 3339 time like \"2026-01-30T15:00:00Z\"");
    expect_corrupt("{\"version\": 1, \"engine\": \"postgres\", \"artifact\": {\"bytes\": 1}}",
                   "artifact.file: expected a string");
}
END_TEST

START_TEST(missing_file)
{
    rd_error err = {0};
    rd_manifest *m = NULL;
    char *p = path_in("absent.json");
    ck_assert_int_ne(rd_manifest_load(p, &m, &err), RD_OK);
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(err.msg, p));
    free(p);
}
END_TEST

START_TEST(sidecar_and_major)
{
    char *s = rd_manifest_sidecar_path("/b/shop-20260130.dump");
    ck_assert_str_eq(s, "/b/shop-20260130.dump.manifest.json");
    free(s);
    s = rd_manifest_sidecar_path("/b/dir.d/");
    ck_assert_str_eq(s, "/b/dir.d.manifest.json");
    free(s);
    ck_assert_ptr_null(rd_manifest_sidecar_path(NULL));
    ck_assert_int_eq(rd_manifest_major(RD_ENGINE_PG, "15.18"), 15);
    ck_assert_int_eq(rd_manifest_major(RD_ENGINE_PG, "16beta1"), 16);
    ck_assert_int_eq(rd_manifest_major(RD_ENGINE_MARIADB, "10.11.6-MariaDB-0+deb12u1"), 1011);
    ck_assert_int_eq(rd_manifest_major(RD_ENGINE_MARIADB, "11.4.2-MariaDB"), 1104);
    ck_assert_int_eq(rd_manifest_major(RD_ENGINE_PG, "x"), -1);
    ck_assert_int_eq(rd_manifest_major(RD_ENGINE_PG, NULL), -1);
}
END_TEST

/* artifact.sections: a round trip through save/parse, and the tiling rule */
START_TEST(sections_round_trip_and_tiling)
{
    const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
    rd_manifest *m = rd_manifest_new(RD_ENGINE_MARIADB), *back = NULL;
    rd_error err;
    ck_assert_ptr_nonnull(m);
    m->artifact_file = strdup("all.sql.gz");
    m->artifact_bytes = 300;
    ck_assert_int_eq(rd_manifest_add_section(m, NULL, 0, 100, h1, &err), RD_OK);
    ck_assert_int_eq(rd_manifest_add_section(m, "tenant_1", 100, 150, h2, &err), RD_OK);
    ck_assert_int_eq(rd_manifest_add_section(m, NULL, 250, 50, h1, &err), RD_OK);
    char *text = rd_manifest_render(m);
    ck_assert_ptr_nonnull(text);
    ck_assert_int_eq(rd_manifest_parse(text, strlen(text), "m.json", &back, &err), RD_OK);
    ck_assert_uint_eq(back->nsections, 3);
    ck_assert_ptr_null(back->sections[0].database);
    ck_assert_str_eq(back->sections[1].database, "tenant_1");
    ck_assert_int_eq(back->sections[1].offset, 100);
    ck_assert_int_eq(back->sections[1].length, 150);
    ck_assert_str_eq(back->sections[1].sha256, h2);
    ck_assert_int_eq(back->sections[2].offset, 250);
    rd_manifest_free(back);
    back = NULL;
    free(text);

    /* a gap */
    m->sections[2].offset = 251;
    text = rd_manifest_render(m);
    ck_assert_int_eq(rd_manifest_parse(text, strlen(text), "m.json", &back, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "manifest m.json: artifact.sections[2].offset is 251, expected 250 "
                              "(the pieces must cover the file in order, without gap or overlap)");
    free(text);
    /* ending short of the file */
    m->sections[2].offset = 250;
    m->sections[2].length = 40;
    text = rd_manifest_render(m);
    ck_assert_int_eq(rd_manifest_parse(text, strlen(text), "m.json", &back, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "manifest m.json: artifact.sections end at byte 290, the file has 300 "
                     "bytes (artifact.bytes)");
    free(text);
    /* an empty piece */
    ck_assert_int_eq(rd_manifest_check_sections(m->sections, 2, 250, "x", &err), RD_OK);
    m->sections[1].length = 0;
    ck_assert_int_eq(rd_manifest_check_sections(m->sections, 2, 100, "x", &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "manifest x: artifact.sections[1].length is 0, expected a positive integer");
    /* without the stored size */
    ck_assert_int_eq(rd_manifest_check_sections(m->sections, 1, -1, "x", &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "manifest x: artifact.sections without artifact.bytes (the stored size)");
    ck_assert_int_eq(rd_manifest_check_sections(NULL, 0, -1, "x", &err), RD_OK);
    rd_manifest_free(m);

    /* an old manifest without sections still loads, with none */
    const char *old = "{\"version\": 1, \"engine\": \"mariadb\", \"database\": null, "
                      "\"artifact\": {\"file\": \"a.sql\", \"bytes\": 5, \"sha256\": null}}";
    ck_assert_int_eq(rd_manifest_parse(old, strlen(old), "old.json", &back, &err), RD_OK);
    ck_assert_uint_eq(back->nsections, 0);
    rd_manifest_free(back);
    /* a bad digest */
    const char *bad = "{\"version\": 1, \"engine\": \"mariadb\", \"artifact\": {\"file\": "
                      "\"a.sql\", \"bytes\": 5, \"sections\": [{\"database\": null, \"offset\": 0, "
                      "\"length\": 5, \"sha256\": \"abc\"}]}}";
    ck_assert_int_eq(rd_manifest_parse(bad, strlen(bad), "b.json", &back, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "manifest b.json: artifact.sections[0].sha256: expected 64 hex digits");
}
END_TEST

Suite *manifest_suite(void);
Suite *manifest_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, fx_tmpdir_remove);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, minimal_fields);
    tcase_add_test(tc, newer_version_warns_and_loads);
    tcase_add_test(tc, corrupt_files);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, sidecar_and_major);
    tcase_add_test(tc, sections_round_trip_and_tiling);
    suite_add_tcase(s, tc);
    return s;
}
