/* test_db_rename.c: the line filter that restores databases of a
 * cluster-wide dump under their scratch names on a shared server
 * (harness/restore/db_rename.c): exactly the statements naming the
 * section's database are rewritten, data and comments pass as they are, a
 * statement naming the database anywhere else is refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../harness/restore/restore_int.h"
#include "restoredrill/sha256.h"

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
    rd_db_rename_init(&r, s, 0, NULL);
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
    rd_db_rename_init(&r, s, 1, NULL);
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

/* --- the byte stream: a line longer than the filter's buffer --- */

/* pad: n bytes of hex digits (no newline, no name, no quote) */
static char *padded(const char *before, size_t n, const char *after)
{
    size_t a = strlen(before), b = strlen(after);
    char *s = malloc(a + n + b + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, before, a);
    for (size_t i = 0; i < n; i++)
        s[a + i] = "0123456789abcdef"[(i * 7) % 16];
    memcpy(s + a + n, after, b + 1);
    return s;
}

/* The lines through rd_db_rename_filter one by one (the reference, to the
 * first error) and as one stream through rd_db_rename_feed in pieces of
 * `piece` bytes with a buffer of `cap`: the same bytes out and the same
 * verdict; a refused line may have passed in part, never the part that
 * names the database. */
static void same_as_lines(int pg, size_t cap, size_t piece, char *const *lines, size_t count)
{
    rd_scratch *s = mapped("tenant_1", "rd_scratch_t1_x", "back`tick", "rd_scratch_bt_x");
    rd_db_rename a, b;
    rd_strbuf want, got, all;
    rd_error ea, eb;
    rd_error_clear(&ea);
    rd_error_clear(&eb);
    rd_strbuf_init(&want, 0);
    rd_strbuf_init(&got, 0);
    rd_strbuf_init(&all, 0);
    rd_db_rename_init(&a, s, pg, NULL);
    rd_db_rename_init(&b, s, pg, NULL);
    b.cap = cap;
    rd_status sa = RD_OK, sb = RD_OK;
    size_t failed = count;
    for (size_t i = 0; i < count && sa == RD_OK; i++) {
        sa = rd_db_rename_filter(&a, lines[i], strlen(lines[i]), &want, &ea);
        failed = sa == RD_OK ? count : i;
    }
    for (size_t i = 0; i < count; i++)
        ck_assert_int_eq(rd_strbuf_append(&all, lines[i], NULL), RD_OK);
    for (size_t at = 0; sb == RD_OK && at <= all.len; at += piece) {
        size_t n = all.len - at < piece ? all.len - at : piece;
        sb = rd_db_rename_feed(&b, all.data + at, n, at + n == all.len, &got, &eb);
        if (at + n == all.len)
            break;
    }
    ck_assert_int_eq(sb, sa);
    ck_assert_str_eq(eb.msg, ea.msg);
    ck_assert_uint_eq(b.rewritten, a.rewritten);
    if (sa == RD_OK) {
        ck_assert_uint_eq(got.len, want.len);
        ck_assert(memcmp(got.data, want.data, want.len) == 0);
    } else { /* what passed: the lines before, then a part of the refused line */
        const char *bad = lines[failed];
        ck_assert_uint_ge(got.len, want.len);
        ck_assert(memcmp(got.data, want.data, want.len) == 0);
        ck_assert_uint_le(got.len - want.len, strlen(bad));
        ck_assert(memcmp(got.data + want.len, bad, got.len - want.len) == 0);
        ck_assert_ptr_null(memmem(got.data + want.len, got.len - want.len, "tenant_1.", 9));
    }
    rd_db_rename_free(&a);
    rd_db_rename_free(&b);
    rd_strbuf_free(&want);
    rd_strbuf_free(&got);
    rd_strbuf_free(&all);
    unmapped(s);
}

#define CAP 8192
static const size_t pieces[] = {1, 7, 4093, CAP + 5, 1 << 20};

static void each_piece(int pg, char *const *lines, size_t count)
{
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++)
        same_as_lines(pg, CAP, pieces[i], lines, count);
    for (size_t i = 0; i < count; i++)
        free(lines[i]);
}

START_TEST(test_stream_mariadb)
{
    /* _i: the name around the buffer's end, at CAP - 40 + _i */
    const char *hdr = "-- Current Database: `tenant_1`\n";
    char *pass[] = {
        strdup("/*!40101 SET NAMES utf8mb4 */;\n"),
        padded("-- preamble ", 3 * CAP, "\n"),
        strdup(hdr),
        padded("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `tenant_1` /* ", 2 * CAP, " */;\n"),
        padded("USE `tenant_1`; /* ", CAP, " */\n"),
        padded("INSERT INTO `t` VALUES ('", 5 * CAP, "`tenant_1`.x');\n"),
        padded("/*!50001 VIEW `v` AS select '", 3 * CAP, "' AS `tenant_10`.x, ``tenant_1`.y */;\n"),
        padded("SELECT '", CAP - 9, "';\n"),                /* the buffer exactly */
        padded("SELECT '", CAP - 8, "';\n"),                /* one byte more */
        padded("SELECT 'x", 2 * CAP, "' FROM tenant_10.t"), /* the last line, no newline */
    };
    each_piece(0, pass, sizeof pass / sizeof pass[0]);
    for (size_t k = 0; k < 80; k += 3) {
        char *refused[] = {
            strdup(hdr),
            padded("/*!50001 VIEW `v` AS select '", CAP - 70 + k, "' from `tenant_1`.`t` */;\n"),
            strdup("SELECT 1;\n"),
        };
        each_piece(0, refused, 3);
        char *refused_plain[] = {strdup(hdr), padded("SELECT '", CAP - 50 + k, "' tenant_1.t")};
        each_piece(0, refused_plain, 2);
        char *other_use[] = {strdup(hdr), padded("USE `central`; -- ", CAP + k, "\n")};
        each_piece(0, other_use, 2);
    }
}
END_TEST

START_TEST(test_stream_pg)
{
    const char *hdr = "-- Database \"tenant_1\" dump\n";
    char *pass[] = {
        padded("CREATE ROLE app; -- ", 2 * CAP, "\n"),
        strdup(hdr),
        padded("CREATE DATABASE tenant_1 WITH TEMPLATE = template0; -- ", 2 * CAP, "\n"),
        strdup("\\connect tenant_1\n"),
        padded("COPY tenant_1.orders (id, n", CAP, ") FROM stdin;\n"),
        padded("1\t", 4 * CAP, "\ttenant_1.x\n"),
        strdup("\\.\n"),
        padded("GRANT ALL ON TABLE x", CAP + 3,
               " TO app; GRANT CONNECT ON DATABASE tenant_1 TO app;\n"),
        padded("GRANT x", CAP, " tenant_1.y ON DATABASE \"tenant_1\" TO app;\n"),
        padded("COMMENT ON TABLE x IS '", 3 * CAP, "';\n"),
        padded("COPY y (a", CAP, ") FROM stdin;"), /* the last line, no newline */
    };
    each_piece(1, pass, sizeof pass / sizeof pass[0]);
    for (size_t k = 0; k < 80; k += 3) {
        char *on_other[] = {strdup(hdr),
                            padded("GRANT x", CAP - 60 + k, " ON DATABASE central TO app;\n")};
        each_piece(1, on_other, 2);
        char *named[] = {strdup(hdr), padded("GRANT x", CAP - 60 + k, " tenant_1.y TO app;\n")};
        each_piece(1, named, 2);
        char *copy_file[] = {strdup(hdr),
                             padded("COPY x (", CAP - 60 + k, ") FROM '/f' tenant_1.y;\n"),
                             strdup("SELECT 1;\n")};
        each_piece(1, copy_file, 3);
        char *clause[] = {strdup(hdr),
                          padded("SELECT '", CAP - 60 + k, "' DATABASE tenant_1 x;\n")};
        each_piece(1, clause, 2);
        char *connect[] = {strdup(hdr), padded("\\connect tenant_1 ", CAP + k, "\n")};
        each_piece(1, connect, 2);
    }
}
END_TEST

/* 64 MiB lines fed in small and odd pieces with the filter's own buffer
 * (RD_DB_RENAME_LINE): the bytes out are exactly the bytes in (but the
 * rewritten statements), and what the filter holds back (bytes in - bytes
 * out) never exceeds its buffer. */
#define BIG ((size_t)64 << 20)

typedef struct big_stream {
    const char *before, *after; /* around BIG pattern bytes */
} big_stream;

static size_t big_len(const big_stream *b)
{
    return strlen(b->before) + BIG + strlen(b->after);
}

static void big_bytes(const big_stream *b, size_t from, char *out, size_t n)
{
    size_t a = strlen(b->before);
    for (size_t i = 0; i < n; i++) {
        size_t j = from + i;
        out[i] = j < a         ? b->before[j]
                 : j < a + BIG ? "0123456789abcdef"[((j - a) * 7) % 16]
                               : b->after[j - a - BIG];
    }
}

/* Feed in, compare what comes out with want as it comes: the largest
 * number of bytes held back; the final status into *st. */
static size_t big_run(rd_db_rename *r, const big_stream *in, const big_stream *want, rd_status *st,
                      rd_error *err)
{
    static char chunk[70000], expect[2 * 70000];
    static const size_t sizes[] = {1, 13, 4099, 65537, 61, 65521, 2};
    rd_strbuf emit;
    rd_strbuf_init(&emit, 0);
    size_t total = big_len(in), fed = 0, out = 0, held = 0, k = 0;
    *st = RD_OK;
    while (*st == RD_OK && fed < total) {
        size_t n = sizes[k++ % (sizeof sizes / sizeof sizes[0])];
        n = n > total - fed ? total - fed : n;
        big_bytes(in, fed, chunk, n);
        fed += n;
        rd_strbuf_reset(&emit);
        *st = rd_db_rename_feed(r, chunk, n, fed == total, &emit, err);
        ck_assert_uint_le(emit.len, sizeof expect);
        big_bytes(want, out, expect, emit.len);
        ck_assert(emit.len == 0 || memcmp(emit.data, expect, emit.len) == 0);
        out += emit.len;
        if (fed > out && fed - out > held)
            held = fed - out;
    }
    if (*st == RD_OK)
        ck_assert_uint_eq(out, big_len(want));
    rd_strbuf_free(&emit);
    return held;
}

START_TEST(test_stream_64mib)
{
    rd_scratch *s = mapped("tenant_1", "rd_scratch_t1_x", "other", "rd_scratch_o_x");
    rd_db_rename r;
    rd_error err;
    rd_status st;
    rd_error_clear(&err);
    /* PostgreSQL: a COPY row with a 64 MiB bytea, the COPY block still
     * tracked (its end, then a \connect rewritten) */
    big_stream pg_in = {"-- Database \"tenant_1\" dump\n\\connect tenant_1\nCOPY t (b) FROM "
                        "stdin;\n1\t\\\\x",
                        "\n\\.\n\\connect tenant_1\n"};
    big_stream pg_want = {"-- Database \"tenant_1\" dump\n\\connect \"rd_scratch_t1_x\"\nCOPY t "
                          "(b) FROM stdin;\n1\t\\\\x",
                          "\n\\.\n\\connect \"rd_scratch_t1_x\"\n"};
    rd_db_rename_init(&r, s, 1, NULL);
    size_t held = big_run(&r, &pg_in, &pg_want, &st, &err);
    ck_assert_int_eq(st, RD_OK);
    ck_assert_uint_eq(r.rewritten, 2);
    ck_assert_uint_eq(r.cap, RD_DB_RENAME_LINE);
    ck_assert_uint_le(held, RD_DB_RENAME_LINE);
    rd_db_rename_free(&r);
    /* MariaDB: an extended INSERT of 64 MiB passes; a 64 MiB view scanned
     * to its end, where it names its database, is refused */
    big_stream my_in = {"-- Current Database: `tenant_1`\nUSE `tenant_1`;\nINSERT INTO `t` "
                        "VALUES (1,0x",
                        ");\nSELECT 1;\n"};
    big_stream my_want = {"-- Current Database: `tenant_1`\nUSE `rd_scratch_t1_x`;\nINSERT INTO "
                          "`t` VALUES (1,0x",
                          ");\nSELECT 1;\n"};
    rd_db_rename_init(&r, s, 0, NULL);
    held = big_run(&r, &my_in, &my_want, &st, &err);
    ck_assert_int_eq(st, RD_OK);
    ck_assert_uint_le(held, RD_DB_RENAME_LINE);
    big_stream view = {"/*!50001 VIEW `v` AS select 0x", " AS `b` from `tenant_1`.`t` */;\n"};
    held = big_run(&r, &view, &view, &st, &err);
    ck_assert_int_eq(st, RD_ERR_UNSUPPORTED);
    char head[121], want[512];
    big_bytes(&view, 0, head, 120);
    head[120] = '\0';
    snprintf(want, sizeof want,
             "database tenant_1 cannot be restored under a scratch name on a shared server: its "
             "dump names the database itself (%s); restore it into an ephemeral scratch",
             head);
    ck_assert_str_eq(err.msg, want);
    ck_assert_uint_le(held, RD_DB_RENAME_LINE);
    rd_db_rename_free(&r);
    unmapped(s);
}
END_TEST

/* The restore's line filter for PostgreSQL (the roles filter, no-owner)
 * with a COPY row of 64 MiB: rd_restore_exec feeds sha256sum, which gets
 * exactly the filtered dump (ALTER ... OWNER and GRANT dropped, the row as
 * it is) while the process' peak memory grows by far less than the row
 * (the rest of the long line passes as it comes instead of being gathered). */
static long peak_kib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

START_TEST(test_restore_long_copy_row)
{
    const char *head = "SET client_encoding = 'UTF8';\nALTER TABLE public.t OWNER TO bob;\n"
                       "COPY public.t (b) FROM stdin;\n1\t\\\\x";
    const char *tail = "\n\\.\nGRANT SELECT ON TABLE public.t TO bob;\n"
                       "-- PostgreSQL database dump complete\n\n";
    const char *kept_head =
        "SET client_encoding = 'UTF8';\nCOPY public.t (b) FROM stdin;\n1\t\\\\x";
    const char *kept_tail = "\n\\.\n-- PostgreSQL database dump complete\n\n";
    char path[] = "/tmp/rd-test-longline-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    static char chunk[65536];
    rd_sha256 *h = NULL;
    ck_assert_int_eq(rd_sha256_new(&h, NULL), RD_OK);
    ck_assert_int_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    rd_sha256_update(h, kept_head, strlen(kept_head));
    for (size_t done = 0; done < BIG; done += sizeof chunk) {
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = "0123456789abcdef"[((done + i) * 7) % 16];
        ck_assert_int_eq(write(fd, chunk, sizeof chunk), (ssize_t)sizeof chunk);
        rd_sha256_update(h, chunk, sizeof chunk);
    }
    ck_assert_int_eq(write(fd, tail, strlen(tail)), (ssize_t)strlen(tail));
    rd_sha256_update(h, kept_tail, strlen(kept_tail));
    close(fd);
    char want[RD_SHA256_HEX_LEN + 1];
    rd_sha256_final_hex(h, want);
    rd_sha256_free(h);

    rd_artifact *a = NULL;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_artifact_open(path, NULL, &a, &err), RD_OK);
    rd_pg_roles roles;
    rd_pg_roles_init(&roles, RD_PG_ROLES_NO_OWNER);
    rd_strbuf cap;
    rd_strbuf_init(&cap, 0);
    char *tool = rd_restore_tool_path("sha256sum");
    ck_assert_ptr_nonnull(tool);
    const char *const argv[] = {tool, NULL};
    rd_restore_job job = {.tool = "sha256sum",
                          .argv = argv,
                          .stream = a,
                          .trailer = "-- PostgreSQL database dump complete",
                          .filter = rd_pg_roles_filter,
                          .long_line = rd_pg_roles_long,
                          .filter_ud = &roles,
                          .capture = &cap};
    rd_restore_outcome out;
    memset(&out, 0, sizeof out);
    long before = peak_kib();
    rd_status st = rd_restore_exec(&job, &out, &err);
    long grown = peak_kib() - before;
    ck_assert_msg(st == RD_OK, "%s", err.msg);
    ck_assert_uint_ge(cap.len, RD_SHA256_HEX_LEN);
    ck_assert(memcmp(cap.data, want, RD_SHA256_HEX_LEN) == 0);
    ck_assert_msg(grown < 16 * 1024, "peak memory grew by %ld KiB for a 64 MiB line", grown);
    rd_restore_outcome_free(&out);
    rd_strbuf_free(&cap);
    rd_pg_roles_free(&roles);
    rd_artifact_free(a);
    free(tool);
    unlink(path);
}
END_TEST

Suite *db_rename_suite(void);
Suite *db_rename_suite(void)
{
    Suite *s = suite_create("db_rename");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_mariadb);
    tcase_add_test(tc, test_pg);
    tcase_add_test(tc, test_stream_mariadb);
    tcase_add_test(tc, test_stream_pg);
    tcase_add_test(tc, test_stream_64mib);
    tcase_add_test(tc, test_restore_long_copy_row);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}
