/* test_pg_header.c: the database name read from a pg_dump archive header
 * (rd_pg_archive_dbname): a real PostgreSQL 15 header (pg_dump 1.14), the
 * 1.15 layout (one compression byte), every truncation of the real header
 * refused without reading past the end, and damaged headers. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/artifact.h"

Suite *pg_header_suite(void);

/* The first 60 bytes of a custom-format dump of database "shop" made by
 * pg_dump 15.18 (archive version 1.14, 4-byte ints, 8-byte offsets). */
static const unsigned char pg15[] = {
    0x50, 0x47, 0x44, 0x4d, 0x50, 0x01, 0x0e, 0x00, 0x04, 0x08, 0x01, 0x01, 0x01, 0x00, 0x00,
    0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00,
    0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x7e, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x73, 0x68, 0x6f, 0x70};

static rd_status parse(const void *p, size_t n, char **name, rd_error *err)
{
    *name = NULL;
    rd_error_clear(err);
    return rd_pg_archive_dbname(p, n, name, err);
}

START_TEST(real_header)
{
    char *name;
    rd_error err;
    ck_assert_int_eq(parse(pg15, sizeof pg15, &name, &err), RD_OK);
    ck_assert_str_eq(name, "shop");
    free(name);
}
END_TEST

START_TEST(every_truncation)
{
    char *name;
    rd_error err;
    for (size_t n = 0; n < sizeof pg15; n++) {
        /* a heap copy of exactly n bytes: ASan sees any read past the end */
        unsigned char *p = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(p);
        memcpy(p, pg15, n);
        rd_status st = parse(p, n, &name, &err);
        ck_assert_msg(st == RD_ERR_FORMAT, "%zu bytes: status %d (%s)", n, st, err.msg);
        ck_assert_ptr_null(name);
        free(p);
    }
}
END_TEST

START_TEST(version_1_15)
{
    /* 1.15 (pg_dump 16+): the compression is one byte, not an int */
    unsigned char h[sizeof pg15 - 4];
    char *name;
    rd_error err;
    memcpy(h, pg15, 11);
    h[6] = 0x0f;
    h[11] = 0; /* compression: none */
    memcpy(h + 12, pg15 + 16, sizeof pg15 - 16);
    ck_assert_int_eq(parse(h, sizeof h, &name, &err), RD_OK);
    ck_assert_str_eq(name, "shop");
    free(name);
}
END_TEST

START_TEST(damaged)
{
    unsigned char h[sizeof pg15];
    char *name;
    rd_error err;
    ck_assert_int_eq(parse("PGDMQ", 5, &name, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "not a pg_dump archive (no PGDMP header)");
    ck_assert_int_eq(parse(NULL, 0, &name, &err), RD_ERR_FORMAT);
    memcpy(h, pg15, sizeof h);
    h[6] = 3; /* 1.3: no database name in the header */
    ck_assert_int_eq(parse(h, sizeof h, &name, &err), RD_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "pg_dump archive version 1.3 records no database name");
    memcpy(h, pg15, sizeof h);
    h[8] = 9; /* integer size */
    ck_assert_int_eq(parse(h, sizeof h, &name, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "pg_dump archive header: integer size 9");
    memcpy(h, pg15, sizeof h);
    h[51] = 1; /* the name's length is negative: none recorded */
    ck_assert_int_eq(parse(h, sizeof h, &name, &err), RD_ERR_NOTFOUND);
    memcpy(h, pg15, sizeof h);
    h[52] = 0xff; /* a length beyond the bytes */
    ck_assert_int_eq(parse(h, sizeof h, &name, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "pg_dump archive header: bad database name");
    memcpy(h, pg15, sizeof h);
    h[57] = 0; /* a NUL inside the name */
    ck_assert_int_eq(parse(h, sizeof h, &name, &err), RD_ERR_FORMAT);
    ck_assert_ptr_null(name);
}
END_TEST

Suite *pg_header_suite(void)
{
    Suite *s = suite_create("pg_header");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, real_header);
    tcase_add_test(tc, every_truncation);
    tcase_add_test(tc, version_1_15);
    tcase_add_test(tc, damaged);
    suite_add_tcase(s, tc);
    return s;
}
