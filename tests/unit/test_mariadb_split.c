/* test_mariadb_split.c: the layout of a mariadb-dump stream for a parallel
 * restore (harness/restore/mariadb_split.c): the preamble kept, where table
 * sections, sequences and the ordered rest start, whatever the chunking;
 * layouts we do not know go whole to one connection. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/restore/restore_int.h"
#include "split_fixture.h"

static const char PRE[] = "/*M!999999\\- enable the sandbox mode */ \n"
                          "-- MariaDB dump 10.19\n"
                          "--\n"
                          "/*!40101 SET NAMES utf8mb4 */;\n"
                          "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, "
                          "FOREIGN_KEY_CHECKS=0 */;\n"
                          "\n"
                          "--\n";

static const char BODY[] = "-- Sequence structure for `seq`\n"
                           "--\n"
                           "CREATE SEQUENCE `seq` start with 1;\n"
                           "--\n"
                           "-- Table structure for table `a`\n"
                           "--\n"
                           "CREATE TABLE `a` (id int);\n"
                           "LOCK TABLES `a` WRITE;\n"
                           "INSERT INTO `a` VALUES (1,'\\n-- Table structure for table `x`');\n"
                           "UNLOCK TABLES;\n"
                           "LOCK TABLES `a`, `b` WRITE;\n"
                           "--\n"
                           "-- Dumping data for table `a`\n"
                           "-- a comment line\n"
                           "--\n"
                           "-- Temporary table structure for view `v`\n"
                           "/*!50001 CREATE VIEW `v` AS SELECT 1 AS `id` */;\n"
                           "--\n"
                           "-- Table structure for table `b`\n"
                           "CREATE TABLE `b` (id int);\n"
                           "DELIMITER ;;\n"
                           "/*!50003 CREATE*/ /*!50003 TRIGGER t BEFORE INSERT ON b FOR EACH ROW "
                           "SET NEW.id = 1 */;;\n"
                           "DELIMITER ;\n"
                           "--\n"
                           "-- Dumping routines for database 'db'\n"
                           "--\n"
                           "-- Table structure for table `never`\n"
                           "-- Final view structure for view `v`\n"
                           "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
                           "-- Dump completed on 2026-12-05";

/* Feed text in chunks of `step` bytes; the record and the preamble kept. */
static unsigned locks;

static void run(const char *text, size_t step, rd_strbuf *out, rd_strbuf *pre, int *unknown,
                unsigned *sections)
{
    rd_split sp;
    fx_split_run(&sp, text, step, 0, out);
    rd_strbuf_init(pre, 0);
    ck_assert_int_eq(rd_strbuf_append(pre, sp.preamble.data, NULL), RD_OK);
    *unknown = sp.unknown;
    *sections = sp.sections;
    locks = sp.locks_dropped;
    rd_split_free(&sp);
}

static char *with_marks(void)
{
    /* BODY with the sink's marks where they belong */
    const char *const at[] = {
        "-- Sequence structure for `seq`",           "-- Table structure for table `a`",
        "-- Temporary table structure for view `v`", "-- Table structure for table `b`",
        "-- Dumping routines for database",          NULL};
    const char *const mark[] = {"[O]", "[S]", "[S]", "[S]", "[O]"};
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    const char *p = BODY;
    for (size_t i = 0; at[i]; i++) {
        const char *hit = strstr(p, at[i]);
        /* the first occurrence at the start of a line */
        while (hit && hit != BODY && hit[-1] != '\n')
            hit = strstr(hit + 1, at[i]);
        ck_assert_ptr_nonnull(hit);
        (void)rd_strbuf_append_n(&sb, p, (size_t)(hit - p), NULL);
        (void)rd_strbuf_append(&sb, mark[i], NULL);
        p = hit;
    }
    (void)rd_strbuf_append(&sb, p, NULL);
    /* without the lock lines of one table */
    const char *const drop[] = {"LOCK TABLES `a` WRITE;\n", "UNLOCK TABLES;\n", NULL};
    for (size_t i = 0; drop[i]; i++) {
        char *hit = strstr(sb.data, drop[i]);
        ck_assert_ptr_nonnull(hit);
        size_t k = strlen(drop[i]);
        memmove(hit, hit + k, strlen(hit + k) + 1);
        sb.len -= k;
    }
    return rd_strbuf_detach(&sb);
}

START_TEST(test_layout_any_chunking)
{
    char *dump = rd_asprintf("%s%s", PRE, BODY);
    char *want = with_marks();
    const size_t steps[] = {1, 2, 3, 7, 31, 64, 1000, 1 << 20};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        rd_strbuf out, pre;
        int unknown;
        unsigned sections;
        run(dump, steps[i], &out, &pre, &unknown, &sections);
        ck_assert_msg(strcmp(out.data, want) == 0, "step %zu: got\n%s", steps[i], out.data);
        ck_assert_str_eq(pre.data, PRE);
        ck_assert_int_eq(unknown, 0);
        ck_assert_uint_eq(sections, 3);
        ck_assert_uint_eq(locks, 2);
        rd_strbuf_free(&out);
        rd_strbuf_free(&pre);
    }
    free(dump);
    free(want);
}
END_TEST

/* A preamble with a statement we do not know: the whole dump, preamble
 * included, goes to one ordered connection, nothing kept to repeat. */
START_TEST(test_unknown_layout_one_stream)
{
    const char *const dumps[] = {
        "/*!40101 SET NAMES utf8mb4 */;\nCREATE DATABASE `x`;\nUSE `x`;\n"
        "-- Table structure for table `a`\nCREATE TABLE a (id int);\n-- Dump completed\n",
        "SET NAMES utf8mb4;\n-- Table structure for table `a`\nCREATE TABLE a (id int);\n",
        "/*!40101 SET NAMES utf8mb4 */; SELECT 1;\n-- Table structure for table `a`\n",
        "/*!40101 SET NAMES utf8mb4 */;\n-- no section at all\n",
        "/*!40101 SET NAMES utf8mb4 */;\n-- a last line without newline",
    };
    for (size_t i = 0; i < sizeof dumps / sizeof dumps[0]; i++) {
        const size_t steps[] = {1, 5, 1 << 20};
        for (size_t j = 0; j < 3; j++) {
            rd_strbuf out, pre;
            int unknown;
            unsigned sections;
            run(dumps[i], steps[j], &out, &pre, &unknown, &sections);
            char *want = rd_asprintf("[O]%s", dumps[i]);
            ck_assert_str_eq(out.data, want);
            ck_assert_str_eq(pre.data, "");
            ck_assert_int_eq(unknown, 1);
            ck_assert_uint_eq(sections, 0);
            free(want);
            rd_strbuf_free(&out);
            rd_strbuf_free(&pre);
        }
    }
}
END_TEST

/* --all-databases: the first section header ends the preamble and the rest
 * runs in order on one connection (known layout, the preamble repeated). */
START_TEST(test_current_database_is_ordered)
{
    const char *dump = "/*!40101 SET NAMES utf8mb4 */;\n--\n-- Current Database: `a`\n--\n"
                       "CREATE DATABASE `a`;\nUSE `a`;\n-- Table structure for table `t`\n"
                       "CREATE TABLE t (id int);\n";
    rd_strbuf out, pre;
    int unknown;
    unsigned sections;
    run(dump, 3, &out, &pre, &unknown, &sections);
    ck_assert_str_eq(pre.data, "/*!40101 SET NAMES utf8mb4 */;\n--\n");
    ck_assert_str_eq(out.data, "[O]-- Current Database: `a`\n--\n"
                               "CREATE DATABASE `a`;\nUSE `a`;\n-- Table structure for table `t`\n"
                               "CREATE TABLE t (id int);\n");
    ck_assert_int_eq(unknown, 0);
    ck_assert_uint_eq(sections, 0);
    rd_strbuf_free(&out);
    rd_strbuf_free(&pre);
}
END_TEST

/* A preamble longer than RD_SPLIT_PREAMBLE_MAX: unknown, one stream; a
 * comment line longer than the hold passes through as bytes. */
START_TEST(test_bounds)
{
    rd_strbuf big;
    rd_strbuf_init(&big, 0);
    while (big.len <= RD_SPLIT_PREAMBLE_MAX)
        (void)rd_strbuf_append(&big, "/*!40101 SET NAMES utf8mb4 */;\n", NULL);
    (void)rd_strbuf_append(&big, "-- Table structure for table `a`\n", NULL);
    rd_strbuf out, pre;
    int unknown;
    unsigned sections;
    run(big.data, 4096, &out, &pre, &unknown, &sections);
    ck_assert_int_eq(unknown, 1);
    ck_assert_uint_eq(out.len, big.len + 3);
    rd_strbuf_free(&out);
    rd_strbuf_free(&pre);

    rd_strbuf_reset(&big);
    (void)rd_strbuf_append(
        &big, "/*!40101 SET NAMES utf8mb4 */;\n-- Table structure for table `a`\n-", NULL);
    for (int i = 0; i < 3000; i++)
        (void)rd_strbuf_append_char(&big, 'x', NULL);
    (void)rd_strbuf_append(&big, "\n-- Table structure for table `b`\nX\n", NULL);
    run(big.data, 100, &out, &pre, &unknown, &sections);
    ck_assert_int_eq(unknown, 0);
    ck_assert_uint_eq(sections, 2);
    ck_assert_uint_eq(out.len, big.len - strlen("/*!40101 SET NAMES utf8mb4 */;\n") + 6);
    rd_strbuf_free(&out);
    rd_strbuf_free(&pre);
    rd_strbuf_free(&big);
}
END_TEST

START_TEST(test_classify_and_preamble_lines)
{
    ck_assert_int_eq(rd_split_classify("-- Table structure for table `t`\n", 33),
                     RD_SPLIT_MARK_SECTION);
    ck_assert_int_eq(rd_split_classify("-- Table structure for table", 28), RD_SPLIT_MARK_NONE);
    ck_assert_int_eq(rd_split_classify("-- Dumping data for table `t`", 29), RD_SPLIT_MARK_NONE);
    ck_assert_int_eq(rd_split_classify("-- Dumping events for database 'd'", 34),
                     RD_SPLIT_MARK_ORDERED);
    ck_assert_int_eq(rd_split_classify("-- Sequence structure for `s`", 29), RD_SPLIT_MARK_ALONE);
    ck_assert_int_eq(rd_split_preamble_line("/*!40101 SET NAMES utf8mb4 */;\n", 31), 1);
    ck_assert_int_eq(rd_split_preamble_line("/*!40101 SET NAMES utf8mb4 */; DROP TABLE x;", 44), 0);
    ck_assert_int_eq(rd_split_preamble_line("/*!40101 SET a=1 */; /*!40101 SET b=2 */;", 41), 0);
    ck_assert_int_eq(rd_split_preamble_line("SET NAMES utf8mb4;", 18), 0);
    ck_assert_int_eq(rd_split_preamble_line("\n", 1), 1);
    ck_assert_int_eq(rd_split_preamble_line("-- Host: localhost\n", 19), 1);
    ck_assert_int_eq(rd_split_lock_line("LOCK TABLES `t` WRITE;\n", 23), 1);
    ck_assert_int_eq(rd_split_lock_line("LOCK TABLES `a``b` WRITE;\n", 26), 1);
    ck_assert_int_eq(rd_split_lock_line("LOCK TABLES `a` WRITE, `b` WRITE;\n", 34), 0);
    ck_assert_int_eq(rd_split_lock_line("LOCK TABLES `t` READ;\n", 22), 0);
    ck_assert_int_eq(rd_split_lock_line("UNLOCK TABLES;\n", 15), 1);
    ck_assert_int_eq(rd_split_lock_line("UNLOCK TABLES; SELECT 1;\n", 25), 0);
}
END_TEST

Suite *mariadb_split_suite(void);
Suite *mariadb_split_suite(void)
{
    Suite *s = suite_create("mariadb_split");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_layout_any_chunking);
    tcase_add_test(tc, test_unknown_layout_one_stream);
    tcase_add_test(tc, test_current_database_is_ordered);
    tcase_add_test(tc, test_bounds);
    tcase_add_test(tc, test_classify_and_preamble_lines);
    suite_add_tcase(s, tc);
    return s;
}
