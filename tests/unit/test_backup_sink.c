/* test_backup_sink.c: the backup sink's sections (backup_sink.c): each cut
 * ends the gzip member / zstd frame, so every piece decodes on its own, the
 * pieces tile the file with their own sha256, and an empty piece is only
 * relabelled. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "../../harness/source/source_int.h"
#include "restoredrill/fs.h"
#include "restoredrill/sha256.h"

static char *slurp(const char *path, size_t *n)
{
    char *d = NULL;
    rd_error err;
    ck_assert_int_eq(rd_fs_read_file(path, 64 << 20, &d, n, &err), RD_OK);
    return d;
}

/* A whole gzip member (no byte before or after it) decoded into out. */
static size_t gunzip_one(const unsigned char *p, size_t n, char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    ck_assert_int_eq(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    ck_assert_int_eq(inflate(&z, Z_FINISH), Z_STREAM_END);
    ck_assert_uint_eq(z.avail_in, 0); /* the member ends where the piece ends */
    size_t got = cap - z.avail_out;
    inflateEnd(&z);
    return got;
}

static void sections_of(rd_wrap wrap)
{
    char dir[] = "/tmp/rd-sink-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/all.sql", dir);
    rd_bk_sink *s = NULL;
    rd_error err;
    char hex[RD_SHA256_HEX_LEN + 1];
    int64_t bytes = 0;
    const char *text[] = {"-- preamble\n", "-- Current Database: `tenant_1`\nUSE x;\n",
                          "-- Current Database: `tenant_2`\nUSE y;\n", "-- Dump completed\n"};
    const char *label[] = {NULL, "tenant_1", "tenant_2", NULL};
    ck_assert_int_eq(rd_bk_sink_open(path, wrap, &s, &err), RD_OK);
    ck_assert_int_eq(rd_bk_sink_sections_on(s, &err), RD_OK);
    for (size_t i = 0; i < 4; i++) {
        if (i > 0) {
            ck_assert_int_eq(rd_bk_sink_cut(s, "empty", &err), RD_OK);
            ck_assert_int_eq(rd_bk_sink_cut(s, label[i], &err), RD_OK); /* relabels, no piece */
        }
        ck_assert_int_eq(rd_bk_sink_write(s, text[i], strlen(text[i]), &err), RD_OK);
    }
    ck_assert_int_eq(rd_bk_sink_finish(s, hex, &bytes, &err), RD_OK);
    const rd_manifest *m = rd_bk_sink_pieces(s);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(m->nsections, 4);
    ck_assert_int_eq(rd_manifest_check_sections(m->sections, m->nsections, bytes, "x", &err),
                     RD_OK);
    size_t n = 0;
    char *data = slurp(path, &n);
    ck_assert_uint_eq(n, (size_t)bytes);
    for (size_t i = 0; i < 4; i++) {
        const rd_manifest_section *p = &m->sections[i];
        if (label[i])
            ck_assert_str_eq(p->database, label[i]);
        else
            ck_assert_ptr_null(p->database);
        char h[RD_SHA256_HEX_LEN + 1], out[256];
        rd_sha256_hex(data + p->offset, (size_t)p->length, h);
        ck_assert_str_eq(p->sha256, h);
        size_t got = 0;
        if (wrap == RD_WRAP_GZIP) {
            got = gunzip_one((const unsigned char *)data + p->offset, (size_t)p->length, out,
                             sizeof out);
        } else if (wrap == RD_WRAP_ZSTD) {
            size_t r = ZSTD_decompress(out, sizeof out, data + p->offset, (size_t)p->length);
            ck_assert(!ZSTD_isError(r));
            got = r;
        } else {
            memcpy(out, data + p->offset, (size_t)p->length);
            got = (size_t)p->length;
        }
        ck_assert_uint_eq(got, strlen(text[i]));
        ck_assert(memcmp(out, text[i], got) == 0);
    }
    free(data);
    rd_bk_sink_free(s);
    unlink(path);
    rmdir(dir);
}

START_TEST(sections_gzip)
{
    sections_of(RD_WRAP_GZIP);
}
END_TEST

START_TEST(sections_zstd)
{
    sections_of(RD_WRAP_ZSTD);
}
END_TEST

START_TEST(sections_plain)
{
    sections_of(RD_WRAP_NONE);
}
END_TEST

/* Without sections_on: no pieces, cut does nothing, one gzip member. */
START_TEST(no_sections)
{
    char dir[] = "/tmp/rd-sink-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[64], hex[RD_SHA256_HEX_LEN + 1], out[64];
    snprintf(path, sizeof path, "%s/a.gz", dir);
    rd_bk_sink *s = NULL;
    rd_error err;
    int64_t bytes = 0;
    ck_assert_int_eq(rd_bk_sink_open(path, RD_WRAP_GZIP, &s, &err), RD_OK);
    ck_assert_int_eq(rd_bk_sink_write(s, "abc", 3, &err), RD_OK);
    ck_assert_int_eq(rd_bk_sink_cut(s, "x", &err), RD_OK);
    ck_assert_int_eq(rd_bk_sink_write(s, "def", 3, &err), RD_OK);
    ck_assert_int_eq(rd_bk_sink_finish(s, hex, &bytes, &err), RD_OK);
    ck_assert_ptr_null(rd_bk_sink_pieces(s));
    size_t n = 0;
    char *data = slurp(path, &n);
    ck_assert_uint_eq(gunzip_one((const unsigned char *)data, n, out, sizeof out), 6);
    ck_assert(memcmp(out, "abcdef", 6) == 0);
    free(data);
    rd_bk_sink_free(s);
    unlink(path);
    rmdir(dir);
}
END_TEST

Suite *backup_sink_suite(void);
Suite *backup_sink_suite(void)
{
    Suite *s = suite_create("backup_sink");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, sections_gzip);
    tcase_add_test(tc, sections_zstd);
    tcase_add_test(tc, sections_plain);
    tcase_add_test(tc, no_sections);
    suite_add_tcase(s, tc);
    return s;
}
