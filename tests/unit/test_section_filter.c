/* test_section_filter.c: the section filter of cluster-wide dumps
 * (harness/restore/section_filter.c with the mariadb-dump and pg_dumpall
 * dialects): listing, passing the chosen sections whatever the chunking,
 * hostile names, bounded memory, malformed and cut dumps; the pg_dumpall
 * globals filter. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/restore/restore_int.h"

#define LONG64 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

/* A small --all-databases dump: preamble, sections (one a system database),
 * the views pass, the trailer. */
static const char DUMP[] = "/*!40101 SET NAMES utf8mb4 */;\n"
                           "--\n"
                           "-- Current Database: `back``tick`\n"
                           "--\n"
                           "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `back``tick`;\n"
                           "USE `back``tick`;\n"
                           "INSERT INTO `t` VALUES (1,'-- Current Database: `fake`');\n"
                           "--\n"
                           "-- Current Database: `it's`\n"
                           "--\n"
                           "CREATE DATABASE `it's`;\n"
                           "USE `it's`;\n"
                           "INSERT INTO `t` VALUES (2);\n"
                           "--\n"
                           "-- Current Database: `mysql`\n"
                           "--\n"
                           "INSERT INTO `global_priv` VALUES ('localhost','root','{}');\n"
                           "--\n"
                           "-- Current Database: `tenant_ünïcødé`\n"
                           "--\n"
                           "CREATE DATABASE `tenant_ünïcødé`;\n"
                           "USE `tenant_ünïcødé`;\n"
                           "INSERT INTO `t` VALUES (3);\n"
                           "--\n"
                           "-- Current Database: `" LONG64 "`\n"
                           "--\n"
                           "CREATE DATABASE `" LONG64 "`;\n"
                           "USE `" LONG64 "`;\n"
                           "INSERT INTO `t` VALUES (4);\n"
                           "--\n"
                           "-- Current Database: `back``tick`\n"
                           "--\n"
                           "USE `back``tick`;\n"
                           "--\n"
                           "-- Current Database: `it's`\n"
                           "--\n"
                           "USE `it's`;\n"
                           "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
                           "\n"
                           "-- Dump completed on 2026-01-30 15:00:00\n";

/* Feed text in chunks of `step` bytes (the last may be shorter). */
static rd_status feed(rd_section_filter *f, const char *text, size_t len, size_t step,
                      rd_strbuf *out, rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; st == RD_OK && i < len; i += step)
        st = rd_section_feed(f, text + i, len - i < step ? len - i : step, 0, out, err);
    return st == RD_OK ? rd_section_feed(f, "", 0, 1, out, err) : st;
}

START_TEST(test_list)
{
    rd_section_filter f;
    rd_strbuf out;
    rd_error err;
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_mariadb, NULL);
    ck_assert_int_eq(feed(&f, DUMP, strlen(DUMP), 4096, &out, &err), RD_OK);
    ck_assert_uint_eq(out.len, 0); /* listing emits nothing */
    ck_assert_uint_eq(f.seen.n, 4);
    ck_assert_str_eq(f.seen.items[0], "back`tick");
    ck_assert_str_eq(f.seen.items[1], "it's");
    ck_assert_str_eq(f.seen.items[2], "tenant_ünïcødé");
    ck_assert_str_eq(f.seen.items[3], LONG64);
    ck_assert_uint_eq(strlen(f.seen.items[3]), 64);
    ck_assert_str_eq(f.current, "it's"); /* the last section (the views pass) */
    ck_assert_uint_eq(f.bytes_in, strlen(DUMP));
    ck_assert_int_eq(rd_section_completed(&f), 1);
    ck_assert_int_eq(f.ended, 1);
    rd_section_free(&f);
    rd_strbuf_free(&out);
}
END_TEST

/* The expected output when keeping `it's` and the 64-character name. */
static const char KEPT[] = "/*!40101 SET NAMES utf8mb4 */;\n"
                           "--\n"
                           "-- Current Database: `it's`\n"
                           "--\n"
                           "CREATE DATABASE `it's`;\n"
                           "USE `it's`;\n"
                           "INSERT INTO `t` VALUES (2);\n"
                           "--\n"
                           "-- Current Database: `" LONG64 "`\n"
                           "--\n"
                           "CREATE DATABASE `" LONG64 "`;\n"
                           "USE `" LONG64 "`;\n"
                           "INSERT INTO `t` VALUES (4);\n"
                           "--\n"
                           "-- Current Database: `it's`\n"
                           "--\n"
                           "USE `it's`;\n"
                           "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
                           "\n"
                           "-- Dump completed on 2026-01-30 15:00:00\n";

/* Every chunk size from 1 byte to the whole dump gives the same output. */
START_TEST(test_keep_any_chunking)
{
    rd_strlist keep = {0};
    rd_error err;
    ck_assert_int_eq(rd_strlist_push(&keep, LONG64, &err), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&keep, "it's", &err), RD_OK);
    size_t len = strlen(DUMP);
    for (size_t step = 1; step <= len; step++) {
        rd_section_filter f;
        rd_strbuf out;
        rd_strbuf_init(&out, 0);
        rd_section_init(&f, &rd_section_mariadb, &keep);
        ck_assert_int_eq(feed(&f, DUMP, len, step, &out, &err), RD_OK);
        ck_assert_msg(strcmp(out.data, KEPT) == 0, "chunks of %zu bytes gave:\n%s", step, out.data);
        ck_assert_uint_eq(f.bytes_out, strlen(KEPT));
        rd_section_free(&f);
        rd_strbuf_free(&out);
    }
    rd_strlist_free(&keep);
}
END_TEST

/* Backticks and unicode: only the exact name passes; a system database
 * never passes even when asked for. */
START_TEST(test_hostile_and_system)
{
    rd_strlist keep = {0};
    rd_strbuf out;
    rd_error err;
    rd_section_filter f;
    ck_assert_int_eq(rd_strlist_push(&keep, "back`tick", &err), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&keep, "tenant_ünïcødé", &err), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&keep, "mysql", &err), RD_OK);
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_mariadb, &keep);
    ck_assert_int_eq(feed(&f, DUMP, strlen(DUMP), 7, &out, &err), RD_OK);
    ck_assert_ptr_nonnull(strstr(out.data, "INSERT INTO `t` VALUES (1,'-- Current Database: "));
    ck_assert_ptr_nonnull(strstr(out.data, "INSERT INTO `t` VALUES (3);\n"));
    ck_assert_ptr_null(strstr(out.data, "global_priv"));
    ck_assert_ptr_null(strstr(out.data, "VALUES (2)"));
    ck_assert_ptr_null(strstr(out.data, "VALUES (4)"));
    ck_assert_ptr_nonnull(strstr(out.data, "--\n-- Current Database: `back``tick`\n--\n"
                                           "USE `back``tick`;\n--\n"));
    ck_assert_ptr_null(strstr(out.data, "USE `it's`"));
    ck_assert(rd_mdb_is_system_db("mysql") && rd_mdb_is_system_db("sys") &&
              rd_mdb_is_system_db("information_schema") &&
              rd_mdb_is_system_db("performance_schema") && !rd_mdb_is_system_db("mysql2"));
    rd_section_free(&f);
    rd_strbuf_free(&out);
    rd_strlist_free(&keep);
}
END_TEST

/* A dump cut inside a section: the filter knows which section it ended in;
 * a last line without a newline is passed as it is, never taken for a
 * header. */
START_TEST(test_cut_mid_section)
{
    const char *cut = strstr(DUMP, "INSERT INTO `t` VALUES (3)");
    size_t len = (size_t)(cut - DUMP) + 12;
    rd_strlist keep = {0};
    rd_strbuf out;
    rd_error err;
    rd_section_filter f;
    ck_assert_int_eq(rd_strlist_push(&keep, "tenant_ünïcødé", &err), RD_OK);
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_mariadb, &keep);
    ck_assert_int_eq(feed(&f, DUMP, len, 5, &out, &err), RD_OK);
    ck_assert_str_eq(f.current, "tenant_ünïcødé");
    ck_assert_int_eq(rd_section_completed(&f), 0);
    const char *want = "USE `tenant_ünïcødé`;\nINSERT INTO ";
    ck_assert_uint_ge(out.len, strlen(want));
    ck_assert_str_eq(out.data + out.len - strlen(want), want);
    rd_section_free(&f);
    rd_strbuf_free(&out);
    /* cut in the middle of a header line: not a section */
    const char *hdr = strstr(DUMP, "-- Current Database: `it's`");
    len = (size_t)(hdr - DUMP) + 25;
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_mariadb, &keep);
    ck_assert_int_eq(feed(&f, DUMP, len, 3, &out, &err), RD_OK);
    ck_assert_str_eq(f.current, "back`tick");
    ck_assert_uint_eq(f.seen.n, 1);
    rd_section_free(&f);
    rd_strbuf_free(&out);
    rd_strlist_free(&keep);
}
END_TEST

START_TEST(test_malformed_headers)
{
    rd_section_filter f;
    rd_strbuf out;
    rd_error err;
    const char *lone = "SET x;\n-- Current Database: `a`b`\n";
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_mariadb, NULL);
    ck_assert_int_eq(feed(&f, lone, strlen(lone), 64, &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "the dump's section header at byte 7 is malformed: a lone backtick "
                              "inside the name");
    rd_section_free(&f);
    const char *open = "-- Current Database: `abc\n";
    rd_section_init(&f, &rd_section_mariadb, NULL);
    ck_assert_int_eq(feed(&f, open, strlen(open), 64, &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "the dump's section header at byte 0 is malformed: no closing backtick");
    rd_section_free(&f);
    /* a header line longer than the bound is refused, not buffered */
    rd_strbuf big;
    rd_strbuf_init(&big, 0);
    ck_assert_int_eq(rd_strbuf_append(&big, "-- Current Database: `", &err), RD_OK);
    for (int i = 0; i < 2000; i++)
        ck_assert_int_eq(rd_strbuf_append_char(&big, 'a', &err), RD_OK);
    ck_assert_int_eq(rd_strbuf_append(&big, "`\n", &err), RD_OK);
    rd_section_init(&f, &rd_section_mariadb, NULL);
    ck_assert_int_eq(feed(&f, big.data, big.len, 100, &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "the dump's section header at byte 0 is longer than 1024 bytes");
    rd_section_free(&f);
    rd_strbuf_free(&big);
    rd_strbuf_free(&out);
}
END_TEST

/* 64 MiB of a skipped section with very long lines: nothing is emitted and
 * nothing is buffered but one line head (memory does not follow the dump). */
START_TEST(test_skip_is_flat)
{
    rd_strlist keep = {0};
    rd_error err;
    rd_strbuf out;
    rd_section_filter f;
    ck_assert_int_eq(rd_strlist_push(&keep, "b", &err), RD_OK);
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_mariadb, &keep);
    const char *head = "-- Current Database: `a`\nINSERT INTO t VALUES ";
    ck_assert_int_eq(rd_section_feed(&f, head, strlen(head), 0, &out, &err), RD_OK);
    size_t after_preamble = out.len;
    ck_assert_uint_eq(after_preamble, 0);
    char *chunk = malloc(65536);
    ck_assert_ptr_nonnull(chunk);
    memset(chunk, 'x', 65536);
    chunk[32768] = '\n'; /* one line break per chunk: lines of 64 KiB */
    for (int i = 0; i < 1024; i++)
        ck_assert_int_eq(rd_section_feed(&f, chunk, 65536, 0, &out, &err), RD_OK);
    const char *tail = "\n-- Current Database: `b`\nUSE `b`;\n";
    ck_assert_int_eq(rd_section_feed(&f, tail, strlen(tail), 1, &out, &err), RD_OK);
    ck_assert_str_eq(out.data, "-- Current Database: `b`\nUSE `b`;\n");
    ck_assert_uint_eq(out.cap < 4096 ? 1 : 0, 1);
    ck_assert_uint_eq(f.bytes_in, strlen(head) + 1024ull * 65536 + strlen(tail));
    free(chunk);
    rd_section_free(&f);
    rd_strbuf_free(&out);
    rd_strlist_free(&keep);
}
END_TEST

#define LONG63 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"

static const char PGDUMP[] = "--\n-- PostgreSQL database cluster dump\n--\n\n"
                             "CREATE ROLE app;\n"
                             "ALTER ROLE app WITH NOSUPERUSER NOLOGIN;\n"
                             "CREATE ROLE postgres;\n"
                             "ALTER ROLE postgres WITH SUPERUSER LOGIN;\n"
                             "--\n-- Database \"template1\" dump\n--\n\n"
                             "\\connect template1\n"
                             "CREATE TABLE tpl (x int);\n"
                             "--\n-- Database \"a\"b\" dump\n--\n\n"
                             "CREATE DATABASE \"a\"\"b\";\n"
                             "\\connect -reuse-previous=on \"dbname='a\"\"b'\"\n"
                             "COPY public.t (id) FROM stdin;\n1\n\\.\n"
                             "--\n-- Database \"it's\" dump\n--\n\n"
                             "CREATE DATABASE \"it's\";\n"
                             "ALTER DATABASE \"it's\" OWNER TO app;\n"
                             "--\n-- Database \"postgres\" dump\n--\n\n"
                             "\\connect postgres\n"
                             "--\n-- Database \"" LONG63 "\" dump\n--\n\n"
                             "CREATE DATABASE " LONG63 ";\n"
                             "--\n-- PostgreSQL database cluster dump complete\n--\n\n";

START_TEST(test_pg_list_and_keep)
{
    rd_section_filter f;
    rd_strbuf out;
    rd_error err;
    rd_strlist keep = {0};
    rd_strbuf_init(&out, 0);
    rd_section_init(&f, &rd_section_pgdumpall, NULL);
    ck_assert_int_eq(feed(&f, PGDUMP, strlen(PGDUMP), 11, &out, &err), RD_OK);
    ck_assert_uint_eq(f.seen.n, 3); /* template1 and postgres are system databases */
    ck_assert_str_eq(f.seen.items[0], "a\"b");
    ck_assert_str_eq(f.seen.items[1], "it's");
    ck_assert_str_eq(f.seen.items[2], LONG63);
    ck_assert_int_eq(rd_section_completed(&f), 1);
    rd_section_free(&f);
    ck_assert_int_eq(rd_strlist_push(&keep, "a\"b", &err), RD_OK);
    size_t len = strlen(PGDUMP);
    for (size_t step = 1; step <= len; step += 7) {
        rd_strbuf_reset(&out);
        rd_section_init(&f, &rd_section_pgdumpall, &keep);
        ck_assert_int_eq(feed(&f, PGDUMP, len, step, &out, &err), RD_OK);
        ck_assert_str_eq(out.data, "--\n-- PostgreSQL database cluster dump\n--\n\n"
                                   "CREATE ROLE app;\n"
                                   "ALTER ROLE app WITH NOSUPERUSER NOLOGIN;\n"
                                   "CREATE ROLE postgres;\n"
                                   "ALTER ROLE postgres WITH SUPERUSER LOGIN;\n"
                                   "--\n"
                                   "-- Database \"a\"b\" dump\n--\n\n"
                                   "CREATE DATABASE \"a\"\"b\";\n"
                                   "\\connect -reuse-previous=on \"dbname='a\"\"b'\"\n"
                                   "COPY public.t (id) FROM stdin;\n1\n\\.\n"
                                   "--\n");
        rd_section_free(&f);
    }
    /* cut inside it's section */
    const char *cut = strstr(PGDUMP, "ALTER DATABASE");
    rd_section_init(&f, &rd_section_pgdumpall, &keep);
    ck_assert_int_eq(feed(&f, PGDUMP, (size_t)(cut - PGDUMP) + 5, 4, &out, &err), RD_OK);
    ck_assert_str_eq(f.current, "it's");
    ck_assert_int_eq(rd_section_completed(&f), 0);
    rd_section_free(&f);
    /* malformed */
    const char *bad = "-- Database \"x\" dumped\n";
    rd_section_init(&f, &rd_section_pgdumpall, NULL);
    ck_assert_int_eq(feed(&f, bad, strlen(bad), 64, &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "the dump's section header at byte 0 is malformed: it does not end "
                              "with \"\\\" dump\"");
    rd_section_free(&f);
    rd_strlist_free(&keep);
    rd_strbuf_free(&out);
}
END_TEST

/* Pass text line by line through the globals filter. */
static char *globals(rd_pg_roles_mode mode, const char *text)
{
    rd_pg_roles roles;
    rd_pgda_lines g;
    rd_strbuf out;
    rd_error err;
    rd_pg_roles_init(&roles, mode);
    g.roles = &roles;
    g.scratch_user = "postgres";
    g.in_sections = 0;
    rd_strbuf_init(&out, 0);
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
        ck_assert_int_eq(rd_pgda_lines_filter(&g, p, n, &out, &err), RD_OK);
        p += n;
    }
    rd_pg_roles_free(&roles);
    return rd_strbuf_detach(&out);
}

START_TEST(test_pg_globals)
{
    const char *text = "SET x = 1;\n"
                       "CREATE ROLE app;\n"
                       "ALTER ROLE app WITH NOLOGIN;\n"
                       "ALTER ROLE postgres WITH SUPERUSER PASSWORD 'x';\n"
                       "CREATE TABLESPACE t LOCATION '/x';\n"
                       "-- Database \"a\" dump\n"
                       "CREATE ROLE inside;\n"
                       "ALTER TABLE t OWNER TO app;\n";
    char *got = globals(RD_PG_ROLES_NO_OWNER, text);
    ck_assert_str_eq(got, "SET x = 1;\n-- Database \"a\" dump\nCREATE ROLE inside;\n");
    free(got);
    got = globals(RD_PG_ROLES_STRICT, text);
    ck_assert_str_eq(got, "SET x = 1;\n"
                          "DO $rd$ BEGIN CREATE ROLE app; EXCEPTION WHEN duplicate_object THEN "
                          "NULL; END $rd$;\n"
                          "ALTER ROLE app WITH NOLOGIN;\n"
                          "CREATE TABLESPACE t LOCATION '/x';\n"
                          "-- Database \"a\" dump\n"
                          "CREATE ROLE inside;\n"
                          "ALTER TABLE t OWNER TO app;\n");
    free(got);
}
END_TEST

Suite *section_filter_suite(void);
Suite *section_filter_suite(void)
{
    Suite *s = suite_create("section_filter");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_keep_any_chunking);
    tcase_add_test(tc, test_hostile_and_system);
    tcase_add_test(tc, test_cut_mid_section);
    tcase_add_test(tc, test_malformed_headers);
    tcase_add_test(tc, test_skip_is_flat);
    tcase_add_test(tc, test_pg_list_and_keep);
    tcase_add_test(tc, test_pg_globals);
    suite_add_tcase(s, tc);
    return s;
}
