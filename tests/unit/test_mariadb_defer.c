/* test_mariadb_defer.c: CREATE TABLE statements of a mariadb-dump split into
 * the table without its plain secondary indexes and the ALTER TABLE that
 * adds them back (harness/restore/mariadb_defer.c), what is left as it is,
 * and the split restore sending that ALTER TABLE after the table's rows
 * (harness/restore/mariadb_split.c). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/restore/restore_int.h"
#include "split_fixture.h"

/* rewritten: 1 with create/alter as wanted; 0 and nothing appended */
static void expect(const char *stmt, int want_rw, const char *want_create, const char *want_alter)
{
    rd_strbuf c, a;
    rd_error err;
    int rw = -1;
    rd_strbuf_init(&c, 0);
    rd_strbuf_init(&a, 0);
    ck_assert_int_eq(rd_defer_rewrite(stmt, strlen(stmt), &c, &a, &rw, &err), RD_OK);
    ck_assert_msg(rw == want_rw, "rewritten %d for\n%s", rw, stmt);
    if (want_rw) {
        ck_assert_str_eq(c.data, want_create);
        ck_assert_str_eq(a.data, want_alter);
    } else {
        ck_assert_uint_eq(c.len, 0);
        ck_assert_uint_eq(a.len, 0);
    }
    rd_strbuf_free(&c);
    rd_strbuf_free(&a);
}

START_TEST(test_sysbench_table)
{
    expect("CREATE TABLE `sbtest1` (\n"
           "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
           "  `k` int(11) NOT NULL DEFAULT 0,\n"
           "  `c` char(120) NOT NULL DEFAULT '',\n"
           "  PRIMARY KEY (`id`),\n"
           "  KEY `k_1` (`k`)\n"
           ") ENGINE=InnoDB AUTO_INCREMENT=250001 DEFAULT CHARSET=latin1;\n",
           1,
           "CREATE TABLE `sbtest1` (\n"
           "  `id` int(11) NOT NULL AUTO_INCREMENT,\n"
           "  `k` int(11) NOT NULL DEFAULT 0,\n"
           "  `c` char(120) NOT NULL DEFAULT '',\n"
           "  PRIMARY KEY (`id`)\n"
           ") ENGINE=InnoDB AUTO_INCREMENT=250001 DEFAULT CHARSET=latin1;\n",
           "ALTER TABLE `sbtest1` ADD KEY `k_1` (`k`);\n");
}
END_TEST

/* Several kinds: unique, fulltext and CHECK stay; plain keys (composite,
 * prefix, commented, with a comma in the comment) and the foreign keys
 * move, the keys first, in their order; quoted names with backticks. */
START_TEST(test_mixed_table)
{
    expect("CREATE TABLE `we``ird, name` (\n"
           "  `id` bigint(20) NOT NULL,\n"
           "  `a``b` varchar(200) DEFAULT NULL COMMENT 'KEY `x` (`y`),',\n"
           "  `cust` int(11) NOT NULL,\n"
           "  `doc` text DEFAULT NULL,\n"
           "  PRIMARY KEY (`id`),\n"
           "  UNIQUE KEY `u_ab` (`a``b`),\n"
           "  KEY `k_pre` (`a``b`(10),`cust`) COMMENT 'prefix, composite',\n"
           "  KEY `cust_fk` (`cust`),\n"
           "  FULLTEXT KEY `ft_doc` (`doc`),\n"
           "  CONSTRAINT `cust_fk` FOREIGN KEY (`cust`) REFERENCES `customers` (`id`) ON DELETE "
           "CASCADE,\n"
           "  CONSTRAINT `pos` CHECK (`id` > 0)\n"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='t;';\n",
           1,
           "CREATE TABLE `we``ird, name` (\n"
           "  `id` bigint(20) NOT NULL,\n"
           "  `a``b` varchar(200) DEFAULT NULL COMMENT 'KEY `x` (`y`),',\n"
           "  `cust` int(11) NOT NULL,\n"
           "  `doc` text DEFAULT NULL,\n"
           "  PRIMARY KEY (`id`),\n"
           "  UNIQUE KEY `u_ab` (`a``b`),\n"
           "  FULLTEXT KEY `ft_doc` (`doc`),\n"
           "  CONSTRAINT `pos` CHECK (`id` > 0)\n"
           ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='t;';\n",
           "ALTER TABLE `we``ird, name` ADD KEY `k_pre` (`a``b`(10),`cust`) COMMENT 'prefix, "
           "composite', ADD KEY `cust_fk` (`cust`), ADD CONSTRAINT `cust_fk` FOREIGN KEY (`cust`) "
           "REFERENCES `customers` (`id`) ON DELETE CASCADE;\n");
}
END_TEST

/* The last definition a plain key: the comma leaves the line before it. */
START_TEST(test_last_comma)
{
    expect("CREATE TABLE `t` (\n"
           "  `id` int(11) NOT NULL,\n"
           "  `a` int(11) DEFAULT NULL,\n"
           "  PRIMARY KEY (`id`),\n"
           "  KEY `a1` (`a`),\n"
           "  KEY `a2` (`a`,`id`)\n"
           ") ENGINE=InnoDB;\n",
           1,
           "CREATE TABLE `t` (\n"
           "  `id` int(11) NOT NULL,\n"
           "  `a` int(11) DEFAULT NULL,\n"
           "  PRIMARY KEY (`id`)\n"
           ") ENGINE=InnoDB;\n",
           "ALTER TABLE `t` ADD KEY `a1` (`a`), ADD KEY `a2` (`a`,`id`);\n");
}
END_TEST

/* Left exactly as they are: what we cannot rewrite exactly. */
START_TEST(test_left_as_is)
{
    const char *const as_is[] = {
        /* partitioned */
        "CREATE TABLE `p` (\n  `id` int(11) NOT NULL,\n  `a` int(11) DEFAULT NULL,\n"
        "  PRIMARY KEY (`id`),\n  KEY `a` (`a`)\n) ENGINE=InnoDB DEFAULT CHARSET=latin1\n"
        " PARTITION BY HASH (`id`)\nPARTITIONS 4;\n",
        /* a generated column */
        "CREATE TABLE `g` (\n  `id` int(11) NOT NULL,\n"
        "  `v` int(11) GENERATED ALWAYS AS (`id` + 1) VIRTUAL,\n  PRIMARY KEY (`id`),\n"
        "  KEY `v` (`v`)\n) ENGINE=InnoDB;\n",
        /* a SPATIAL key */
        "CREATE TABLE `s` (\n  `id` int(11) NOT NULL,\n  `g` point NOT NULL,\n"
        "  `a` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `a` (`a`),\n"
        "  SPATIAL KEY `g` (`g`)\n) ENGINE=InnoDB;\n",
        /* not InnoDB */
        "CREATE TABLE `m` (\n  `id` int(11) NOT NULL,\n  `a` int(11) DEFAULT NULL,\n"
        "  PRIMARY KEY (`id`),\n  KEY `a` (`a`)\n) ENGINE=MyISAM;\n",
        /* no primary key */
        "CREATE TABLE `n` (\n  `a` int(11) DEFAULT NULL,\n  KEY `a` (`a`)\n) ENGINE=InnoDB;\n",
        /* the AUTO_INCREMENT column first in a plain key */
        "CREATE TABLE `ai` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `b` int(11) NOT NULL,\n"
        "  PRIMARY KEY (`b`),\n  KEY `id` (`id`)\n) ENGINE=InnoDB;\n",
        /* system-versioned */
        "CREATE TABLE `sv` (\n  `id` int(11) NOT NULL,\n  `a` int(11) DEFAULT NULL,\n"
        "  PRIMARY KEY (`id`),\n  KEY `a` (`a`)\n) ENGINE=InnoDB WITH SYSTEM VERSIONING;\n",
        /* a comment with a newline in it (not SHOW CREATE TABLE's layout) */
        "CREATE TABLE `c` (\n  `id` int(11) NOT NULL COMMENT 'a\n  KEY `x` (`id`)',\n"
        "  `a` int(11) DEFAULT NULL,\n  PRIMARY KEY (`id`),\n  KEY `a` (`a`)\n) ENGINE=InnoDB;\n",
        /* no plain key */
        "CREATE TABLE `u` (\n  `id` int(11) NOT NULL,\n  `a` int(11) DEFAULT NULL,\n"
        "  PRIMARY KEY (`id`),\n  UNIQUE KEY `a` (`a`)\n) ENGINE=InnoDB;\n",
        /* one line, other spacing, something after the statement */
        "CREATE TABLE `a` (id int primary key, a int, key (a)) ENGINE=InnoDB;\n",
        "CREATE TABLE `t` (\n   `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
        "  KEY `a` (`id`)\n) ENGINE=InnoDB;\n",
        "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
        "  KEY `a` (`id`)\n) ENGINE=InnoDB;\nSELECT 1;\n",
        /* a missing comma, a trailing one */
        "CREATE TABLE `t` (\n  `id` int(11) NOT NULL\n  PRIMARY KEY (`id`),\n"
        "  KEY `a` (`id`)\n) ENGINE=InnoDB;\n",
        "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
        "  KEY `a` (`id`),\n) ENGINE=InnoDB;\n",
        /* a PERIOD, an unterminated name */
        "CREATE TABLE `t` (\n  `id` int(11) NOT NULL,\n  `s` date NOT NULL,\n"
        "  `e` date NOT NULL,\n  PRIMARY KEY (`id`),\n  KEY `a` (`s`),\n"
        "  PERIOD FOR `p` (`s`, `e`)\n) ENGINE=InnoDB;\n",
        "CREATE TABLE `t (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n",
        NULL};
    for (size_t i = 0; as_is[i]; i++)
        expect(as_is[i], 0, NULL, NULL);
}
END_TEST

/* --- through the split --- */

static char *split(const char *text, size_t step, int defer, unsigned *deferred, unsigned *as_is)
{
    rd_split sp;
    rd_strbuf out;
    fx_split_run(&sp, text, step, defer, &out);
    *deferred = sp.deferred;
    *as_is = sp.as_is;
    rd_split_free(&sp);
    return rd_strbuf_detach(&out);
}

#define PRE "/*!40101 SET NAMES utf8mb4 */;\n--\n"
#define T1_CREATE                                                                                  \
    "CREATE TABLE `t1` (\n  `id` int(11) NOT NULL,\n  `k` int(11) NOT NULL,\n"                     \
    "  PRIMARY KEY (`id`),\n  KEY `k_1` (`k`)\n) ENGINE=InnoDB;\n"
#define T1_NOKEY                                                                                   \
    "CREATE TABLE `t1` (\n  `id` int(11) NOT NULL,\n  `k` int(11) NOT NULL,\n"                     \
    "  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n"
#define T1_ALTER "ALTER TABLE `t1` ADD KEY `k_1` (`k`);\n"
#define T1_DATA "INSERT INTO `t1` VALUES\n(1,5),\n(2,3);\n"
#define TRIGGER                                                                                    \
    "DELIMITER ;;\n/*!50003 CREATE*/ /*!50003 TRIGGER a BEFORE INSERT ON t1 FOR EACH ROW SET "     \
    "NEW.k = 1 */;;\nDELIMITER ;\n"

/* The ALTER TABLE at the table's UNLOCK TABLES line: after its rows, before
 * its triggers, on its own connection; a view's stand-in untouched; with
 * defer off the sections are as they were. Any chunking. */
START_TEST(test_split_sends_alter_after_rows)
{
    const char *dump =
        PRE "-- Table structure for table `t1`\n--\n" T1_CREATE "LOCK TABLES `t1` WRITE;\n" T1_DATA
            "UNLOCK TABLES;\n" TRIGGER "--\n-- Temporary table structure for view `v`\n"
            "CREATE TABLE `v` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
            "  KEY `x` (`id`)\n) ENGINE=InnoDB;\n"
            "--\n-- Dumping routines for database 'db'\n--\n"
            "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n-- Dump completed\n";
    const char *want =
        "[S]-- Table structure for table `t1`\n--\n" T1_NOKEY T1_DATA T1_ALTER TRIGGER
        "--\n[S]-- Temporary table structure for view `v`\n"
        "CREATE TABLE `v` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
        "  KEY `x` (`id`)\n) ENGINE=InnoDB;\n"
        "--\n[O]-- Dumping routines for database 'db'\n--\n"
        "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n-- Dump completed\n";
    const size_t steps[] = {1, 2, 5, 17, 64, 1 << 20};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        unsigned d = 0, k = 0;
        char *got = split(dump, steps[i], 1, &d, &k);
        ck_assert_msg(strcmp(got, want) == 0, "step %zu: got\n%s", steps[i], got);
        ck_assert_uint_eq(d, 1);
        ck_assert_uint_eq(k, 0);
        free(got);
        got = split(dump, steps[i], 0, &d, &k);
        ck_assert_ptr_nonnull(strstr(got, T1_CREATE));
        ck_assert_ptr_null(strstr(got, "ALTER TABLE `t1` ADD"));
        ck_assert_uint_eq(d, 0);
        free(got);
    }
}
END_TEST

/* Without lock lines: the ALTER TABLE before the next section starts; the
 * last table's rows running into the trailer: the preamble again, then the
 * ALTER TABLE, at the end. A table left as it is counts as such. */
START_TEST(test_split_without_locks)
{
    const char *dump = PRE "-- Table structure for table `t1`\n" T1_CREATE T1_DATA
                           "--\n-- Table structure for table `p`\n"
                           "CREATE TABLE `p` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
                           "  KEY `a` (`id`)\n) ENGINE=MyISAM;\n"
                           "--\n-- Table structure for table `t2`\n"
                           "CREATE TABLE `t2` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
                           "  KEY `b` (`id`)\n) ENGINE=InnoDB;\n"
                           "INSERT INTO `t2` VALUES (1);\n"
                           "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n-- Dump completed";
    const char *want = "[S]-- Table structure for table `t1`\n" T1_NOKEY T1_DATA "--\n" T1_ALTER
                       "[S]-- Table structure for table `p`\n"
                       "CREATE TABLE `p` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`),\n"
                       "  KEY `a` (`id`)\n) ENGINE=MyISAM;\n"
                       "--\n[S]-- Table structure for table `t2`\n"
                       "CREATE TABLE `t2` (\n  `id` int(11) NOT NULL,\n  PRIMARY KEY (`id`)\n"
                       ") ENGINE=InnoDB;\nINSERT INTO `t2` VALUES (1);\n"
                       "/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n-- Dump completed\n" PRE
                       "ALTER TABLE `t2` ADD KEY `b` (`id`);\n";
    const size_t steps[] = {1, 3, 1 << 20};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        unsigned d = 0, k = 0;
        char *got = split(dump, steps[i], 1, &d, &k);
        ck_assert_msg(strcmp(got, want) == 0, "step %zu: got\n%s", steps[i], got);
        ck_assert_uint_eq(d, 2);
        ck_assert_uint_eq(k, 1);
        free(got);
    }
}
END_TEST

/* A CREATE TABLE statement longer than RD_DEFER_CREATE_MAX streams on as
 * it is, and so does one cut short by the end of the dump. */
START_TEST(test_split_long_and_cut)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    (void)rd_strbuf_append(&sb, PRE "-- Table structure for table `w`\nCREATE TABLE `w` (\n", NULL);
    for (int i = 0; i < 20000; i++)
        (void)rd_strbuf_appendf(&sb, NULL, "  `c%05d` int(11) DEFAULT NULL,\n", i);
    (void)rd_strbuf_append(
        &sb, "  PRIMARY KEY (`c00000`),\n  KEY `k` (`c00001`)\n) ENGINE=InnoDB;\n", NULL);
    unsigned d = 0, k = 0;
    char *got = split(sb.data, 4096, 1, &d, &k);
    ck_assert_str_eq(got + 3, sb.data + strlen(PRE));
    ck_assert_uint_eq(d, 0);
    ck_assert_uint_eq(k, 1);
    free(got);
    const char *cut = PRE "-- Table structure for table `t1`\nCREATE TABLE `t1` (\n  `id` int";
    got = split(cut, 7, 1, &d, &k);
    ck_assert_str_eq(got, "[S]-- Table structure for table `t1`\nCREATE TABLE `t1` (\n  `id` int");
    ck_assert_uint_eq(k, 1);
    free(got);
    rd_strbuf_free(&sb);
}
END_TEST

Suite *mariadb_defer_suite(void);
Suite *mariadb_defer_suite(void)
{
    Suite *s = suite_create("mariadb_defer");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_sysbench_table);
    tcase_add_test(tc, test_mixed_table);
    tcase_add_test(tc, test_last_comma);
    tcase_add_test(tc, test_left_as_is);
    tcase_add_test(tc, test_split_sends_alter_after_rows);
    tcase_add_test(tc, test_split_without_locks);
    tcase_add_test(tc, test_split_long_and_cut);
    suite_add_tcase(s, tc);
    return s;
}
