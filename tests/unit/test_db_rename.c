/* test_db_rename.c: the line filter that restores databases of a
 * cluster-wide dump under their scratch names on a shared server
 * (harness/restore/db_rename.c): exactly the statements naming the
 * section's database are rewritten, data and comments pass as they are, a
 * statement naming the database anywhere else is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../harness/restore/restore_int.h"

static rd_scratch *mapped(const char *from1, const char *to1, const char *from2, const char *to2)
{
    rd_scratch *s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(rd_strlist_push(&s->db_from, from1, NULL), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&s->db_to, to1, NULL), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&s->db_from, from2, NULL), RD_OK);
    ck_assert_int_eq(rd_strlist_push(&s->db_to, to2, NULL), RD_OK);
    return s;
}

static void unmapped(rd_scratch *s)
{
    rd_strlist_free(&s->db_from);
    rd_strlist_free(&s->db_to);
    free(s);
}

/* Feed one line; its output (or the error message) into out. */
static rd_status feed(rd_db_rename *r, const char *line, char *out, size_t cap)
{
    rd_strbuf emit;
    rd_error err;
    rd_error_clear(&err);
    rd_strbuf_init(&emit, 0);
    rd_status st = rd_db_rename_filter(r, line, strlen(line), &emit, &err);
    snprintf(out, cap, "%s", st == RD_OK ? emit.data : err.msg);
    rd_strbuf_free(&emit);
    return st;
}

#define SAME(r, line)                                                                              \
    do {                                                                                           \
        ck_assert_int_eq(feed((r), (line), out, sizeof out), RD_OK);                               \
        ck_assert_str_eq(out, (line));                                                             \
    } while (0)
#define BECOMES(r, line, want)                                                                     \
    do {                                                                                           \
        ck_assert_int_eq(feed((r), (line), out, sizeof out), RD_OK);                               \
        ck_assert_str_eq(out, (want));                                                             \
    } while (0)
#define REFUSED(r, line, want)                                                                     \
    do {                                                                                           \
        ck_assert_int_eq(feed((r), (line), out, sizeof out), RD_ERR_UNSUPPORTED);                  \
        ck_assert_str_eq(out, (want));                                                             \
    } while (0)

START_TEST(test_mariadb)
{
    rd_scratch *s = mapped("back`tick", "rd_scratch_back_tick_x", "tenant_1", "rd_scratch_t1_x");
    rd_db_rename r;
    char out[1024];
    rd_db_rename_init(&r, s, 0, NULL, NULL);
    SAME(&r, "/*!40101 SET NAMES utf8mb4 */;\n"); /* the preamble */
    SAME(&r, "-- Current Database: `back``tick`\n");
    BECOMES(
        &r,
        "CREATE DATABASE /*!32312 IF NOT EXISTS*/ `back``tick` /*!40100 DEFAULT CHARACTER SET "
        "utf8mb4 */;\n",
        "CREATE DATABASE `rd_scratch_back_tick_x` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n");
    BECOMES(&r, "USE `back``tick`;\n", "USE `rd_scratch_back_tick_x`;\n");
    /* data naming the database passes: it is data */
    SAME(&r, "INSERT INTO `t` VALUES (1,'`back``tick`.x and USE `back``tick`;');\n");
    SAME(&r, "/*!50001 VIEW `v` AS select `t`.`id` AS `id` from `t` */;\n");
    ck_assert_uint_eq(r.rewritten, 2);
    /* the views section later: USE again */
    SAME(&r, "-- Current Database: `tenant_1`\n");
    BECOMES(&r, "USE `tenant_1`;\n", "USE `rd_scratch_t1_x`;\n");
    SAME(&r, "SELECT 1 FROM `tenant_10`.`x`;\n"); /* another name that starts alike */
    SAME(&r, "SELECT 1 FROM tenant_10.x;\n");
    REFUSED(&r, "SELECT COUNT(*) FROM tenant_1.orders ;;\n",
            "database tenant_1 cannot be restored under a scratch name on a shared server: its "
            "dump names the database itself (SELECT COUNT(*) FROM tenant_1.orders ;;); restore it "
            "into an ephemeral scratch");
    REFUSED(&r, "/*!50001 VIEW `v` AS select `tenant_1`.`t`.`id` AS `id` from `tenant_1`.`t` */;\n",
            "database tenant_1 cannot be restored under a scratch name on a shared server: its "
            "dump names the database itself (/*!50001 VIEW `v` AS select `tenant_1`.`t`.`id` AS "
            "`id` from `tenant_1`.`t` */;); restore it into an ephemeral scratch");
    /* a USE or CREATE DATABASE of another database inside the section */
    REFUSED(
        &r, "USE `central`;\n",
        "database tenant_1 cannot be restored under a scratch name on a shared server: its "
        "dump names a database in a statement that is not rewritten (USE `central`;); restore it "
        "into an ephemeral scratch");
    rd_db_rename_free(&r);
    unmapped(s);
}
END_TEST

START_TEST(test_pg)
{
    rd_scratch *s = mapped("tenant_1", "rd_scratch_t1_x", "Big \"One\"", "rd_scratch_big_x");
    rd_db_rename r;
    char out[1024];
    rd_db_rename_init(&r, s, 1, NULL, NULL);
    SAME(&r, "CREATE ROLE app;\n"); /* globals: the next filter's business */
    SAME(&r, "-- Database \"tenant_1\" dump\n");
    SAME(&r, "-- Name: tenant_1; Type: DATABASE; Schema: -; Owner: postgres\n");
    BECOMES(
        &r,
        "CREATE DATABASE tenant_1 WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE = "
        "'C.UTF-8';\n",
        "CREATE DATABASE \"rd_scratch_t1_x\" WITH TEMPLATE = template0 ENCODING = 'UTF8' LOCALE "
        "= 'C.UTF-8';\n");
    BECOMES(&r, "ALTER DATABASE tenant_1 OWNER TO postgres;\n",
            "ALTER DATABASE \"rd_scratch_t1_x\" OWNER TO postgres;\n");
    BECOMES(&r, "\\connect tenant_1\n", "\\connect \"rd_scratch_t1_x\"\n");
    BECOMES(&r, "COMMENT ON DATABASE tenant_1 IS 'the first';\n",
            "COMMENT ON DATABASE \"rd_scratch_t1_x\" IS 'the first';\n");
    BECOMES(&r, "ALTER DATABASE tenant_1 SET work_mem TO '8MB';\n",
            "ALTER DATABASE \"rd_scratch_t1_x\" SET work_mem TO '8MB';\n");
    BECOMES(&r, "GRANT CONNECT ON DATABASE tenant_1 TO app;\n",
            "GRANT CONNECT ON DATABASE \"rd_scratch_t1_x\" TO app;\n");
    /* COPY data passes as it is, whatever it holds, up to \. */
    SAME(&r, "COPY public.orders (id, note) FROM stdin;\n");
    SAME(&r, "1\ttenant_1.public.orders\n");
    SAME(&r, "\\connect tenant_1\n");
    SAME(&r, "\\.\n");
    SAME(&r, "CREATE VIEW public.big AS\n");
    SAME(&r, " SELECT orders.id FROM public.orders;\n");
    SAME(&r, "SELECT 1 FROM tenant_10.public.x;\n");
    REFUSED(&r, "    AS $$SELECT count(*) FROM tenant_1.public.orders$$;\n",
            "database tenant_1 cannot be restored under a scratch name on a shared server: its "
            "dump names the database itself (    AS $$SELECT count(*) FROM "
            "tenant_1.public.orders$$;); restore it into an ephemeral scratch");
    REFUSED(&r, "\\connect central\n",
            "database tenant_1 cannot be restored under a scratch name on a shared server: its "
            "dump names a database in a statement that is not rewritten (\\connect central); "
            "restore it into an ephemeral scratch");
    /* a name pg_dump quotes */
    SAME(&r, "-- Database \"Big \"One\"\" dump\n");
    BECOMES(&r, "CREATE DATABASE \"Big \"\"One\"\"\" WITH TEMPLATE = template0;\n",
            "CREATE DATABASE \"rd_scratch_big_x\" WITH TEMPLATE = template0;\n");
    REFUSED(&r, "\\connect -reuse-previous=on \"dbname='Big \"\"One\"\"'\"\n",
            "database Big \"One\" cannot be restored under a scratch name on a shared server: its "
            "dump names a database in a statement that is not rewritten (\\connect "
            "-reuse-previous=on \"dbname='Big "
            "\"\"One\"\"'\"); restore it into an ephemeral scratch");
    rd_db_rename_free(&r);
    unmapped(s);
}
END_TEST

Suite *db_rename_suite(void);
Suite *db_rename_suite(void)
{
    Suite *s = suite_create("db_rename");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_mariadb);
    tcase_add_test(tc, test_pg);
    suite_add_tcase(s, tc);
    return s;
}
