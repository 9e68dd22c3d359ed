/* test_artifact.c: format and wrapping detection, gzip/zstd round trips,
 * corrupt and truncated streams, sha256 verification, decrypt filters, and
 * pumping into a reader that goes away. All samples are made here. */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/proc.h"
#include "restoredrill/sha256.h"
#include "tmpdir_fixture.h"

static const char PG_PLAIN_HEAD[] = "--\n-- PostgreSQL database dump\n--\n\n"
                                    "-- Dumped from database version 15.10\n\n"
                                    "SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n";
static const char PG_PLAIN_NOHEADER[] = "SET statement_timeout = 0;\nSET lock_timeout = 0;\n"
                                        "SET client_encoding = 'UTF8';\n"
                                        "SET standard_conforming_strings = on;\n";
static const char MARIADB_HEAD[] =
    "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n--\n"
    "-- Host: localhost    Database: shop\n";
static const char MYSQL_HEAD[] = "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n";
static const char MARIADB_NOHEADER[] =
    "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
    "/*!40101 SET NAMES utf8mb4 */;\n";

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-test-artifact-XXXXXX");
}

static char *path_of(const char *name)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
    return path[k];
}

static void put(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* A deterministic SQL text of about `size` bytes that starts with head. */
static char *sql_text(const char *head, size_t size, size_t *n)
{
    char *buf = malloc(size + 128);
    ck_assert_ptr_nonnull(buf);
    size_t len = strlen(head);
    memcpy(buf, head, len);
    for (unsigned i = 0; len < size; i++)
        len += (size_t)snprintf(buf + len, size + 128 - len,
                                "INSERT INTO orders VALUES (%u, 'customer %u', %u.%02u);\n", i,
                                i * 7919 % 1000, i * 31 % 997, i % 100);
    *n = len;
    return buf;
}

static void *gzip_of(const void *data, size_t n, size_t *out_n)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&zs, (uLong)n) + 64;
    unsigned char *out = malloc(cap);
    zs.next_in = (unsigned char *)data;
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_n = cap - zs.avail_out;
    deflateEnd(&zs);
    return out;
}

static void *zstd_of(const void *data, size_t n, size_t *out_n)
{
    size_t cap = ZSTD_compressBound(n);
    void *out = malloc(cap);
    size_t r = ZSTD_compress(out, cap, data, n, 3);
    ck_assert(!ZSTD_isError(r));
    *out_n = r;
    return out;
}

/* Read the whole decoded stream into a heap buffer; returns read's status. */
/* A deterministic SQL text (sql_text: head, about size bytes; *text, *n)
 * stored compressed as name; returns the compressed bytes (*zn). */
static void *put_compressed(void *(*compress)(const void *, size_t, size_t *), const char *head,
                            size_t size, const char *name, char **text, size_t *n, size_t *zn)
{
    *text = sql_text(head, size, n);
    void *z = compress(*text, *n, zn);
    put(name, z, *zn);
    return z;
}

/* Opening name (with opts) fails with code and message msg; no artifact. */
static void open_fails(const char *name, const rd_artifact_opts *opts, rd_status code,
                       const char *msg)
{
    rd_artifact *a = NULL;
    rd_error err;
    ck_assert_int_eq(rd_artifact_open(path_of(name), opts, &a, &err), code);
    ck_assert_str_eq(err.msg, msg);
    ck_assert_ptr_null(a);
}

/* open_fails with the message: before, name's path, after. */
static void open_fails_at(const char *name, const rd_artifact_opts *opts, rd_status code,
                          const char *before, const char *after)
{
    char want[700];
    snprintf(want, sizeof want, "%s%s%s", before, path_of(name), after);
    open_fails(name, opts, code, want);
}

static rd_status read_all(rd_artifact *a, char **data, size_t *n, rd_error *err)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    rd_status st;
    for (;;) {
        if (cap - len < 4096) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t r = 0;
        st = rd_artifact_read(a, buf + len, 3000, &r, err); /* odd size on purpose */
        if (st != RD_OK || r == 0)
            break;
        len += r;
    }
    *data = buf;
    *n = len;
    return st;
}

static rd_artifact *open_ok(const char *name, const rd_artifact_opts *opts)
{
    rd_artifact *a = NULL;
    rd_error err;
    rd_status st = rd_artifact_open(path_of(name), opts, &a, &err);
    ck_assert_msg(st == RD_OK, "open %s: %s", name, err.msg);
    return a;
}

/* Open, read everything, compare with the original text. */
static void round_trip(const char *name, const char *orig, size_t n, rd_format fmt, rd_wrap wrap)
{
    rd_artifact *a = open_ok(name, NULL);
    ck_assert_int_eq(rd_artifact_format(a), fmt);
    ck_assert_int_eq(rd_artifact_wrap(a), wrap);
    ck_assert_int_eq(rd_artifact_is_dir(a), 0);
    char *data;
    size_t len;
    rd_error err;
    ck_assert_int_eq(read_all(a, &data, &len, &err), RD_OK);
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(data, orig, n) == 0);
    ck_assert_uint_eq(rd_artifact_decoded_bytes(a), n);
    struct stat sb;
    ck_assert_int_eq(stat(path_of(name), &sb), 0);
    ck_assert_uint_eq(rd_artifact_raw_bytes(a), (uint64_t)sb.st_size);
    size_t again = 1;
    ck_assert_int_eq(rd_artifact_read(a, data, 16, &again, &err), RD_OK);
    ck_assert_uint_eq(again, 0);
    free(data);
    rd_artifact_free(a);
}

START_TEST(detect_formats)
{
    ck_assert_int_eq(rd_format_detect("PGDMP\x01\x0e\x00\x04\x08", 9), RD_FMT_PG_CUSTOM);
    ck_assert_int_eq(rd_format_detect(PG_PLAIN_HEAD, strlen(PG_PLAIN_HEAD)), RD_FMT_PG_PLAIN);
    ck_assert_int_eq(rd_format_detect(PG_PLAIN_NOHEADER, strlen(PG_PLAIN_NOHEADER)),
                     RD_FMT_PG_PLAIN);
    ck_assert_int_eq(rd_format_detect(MARIADB_HEAD, strlen(MARIADB_HEAD)), RD_FMT_MARIADB_SQL);
    ck_assert_int_eq(rd_format_detect(MYSQL_HEAD, strlen(MYSQL_HEAD)), RD_FMT_MARIADB_SQL);
    ck_assert_int_eq(rd_format_detect(MARIADB_NOHEADER, strlen(MARIADB_NOHEADER)),
                     RD_FMT_MARIADB_SQL);
    ck_assert_int_eq(rd_format_detect("hello world\n", 12), RD_FMT_UNKNOWN);
    ck_assert_int_eq(rd_format_detect("CREATE TABLE t (id int);\n", 25), RD_FMT_UNKNOWN);
    ck_assert_int_eq(rd_format_detect("\x00\x01-- PostgreSQL database dump", 30), RD_FMT_UNKNOWN);
    ck_assert_int_eq(rd_format_detect("PGDM", 4), RD_FMT_UNKNOWN);
    ck_assert_int_eq(rd_format_detect("", 0), RD_FMT_UNKNOWN);

    ck_assert_int_eq(rd_wrap_detect("\x1f\x8b\x08\x00", 4), RD_WRAP_GZIP);
    ck_assert_int_eq(rd_wrap_detect("\x28\xb5\x2f\xfd\x00", 5), RD_WRAP_ZSTD);
    ck_assert_int_eq(rd_wrap_detect("\x28\xb5\x2f", 3), RD_WRAP_NONE);
    ck_assert_int_eq(rd_wrap_detect("PGDMP", 5), RD_WRAP_NONE);

    const rd_format all[] = {RD_FMT_PG_CUSTOM, RD_FMT_PG_DIRECTORY, RD_FMT_PG_PLAIN,
                             RD_FMT_MARIADB_SQL};
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(rd_format_parse(rd_format_name(all[i])), all[i]);
    ck_assert_str_eq(rd_format_name(RD_FMT_PG_CUSTOM), "pg-custom");
    ck_assert_str_eq(rd_format_name(RD_FMT_MARIADB_SQL), "mariadb-sql");
    ck_assert_str_eq(rd_format_name(RD_FMT_UNKNOWN), "unknown");
    ck_assert_int_eq(rd_format_parse("unknown"), RD_FMT_UNKNOWN);
    ck_assert_int_eq(rd_format_parse(NULL), RD_FMT_UNKNOWN);
    ck_assert_str_eq(rd_wrap_name(RD_WRAP_ZSTD), "zstd");
    ck_assert_str_eq(rd_wrap_name(RD_WRAP_GZIP), "gzip");
    ck_assert_str_eq(rd_wrap_name(RD_WRAP_NONE), "none");
}
END_TEST

START_TEST(open_plain_files)
{
    static const unsigned char custom[] = "PGDMP\x01\x0e\x00\x04\x08\x01\x01\x01\x00\x00\x00";
    put("a.dump", custom, sizeof custom);
    round_trip("a.dump", (const char *)custom, sizeof custom, RD_FMT_PG_CUSTOM, RD_WRAP_NONE);
    put("b.sql", PG_PLAIN_NOHEADER, strlen(PG_PLAIN_NOHEADER));
    round_trip("b.sql", PG_PLAIN_NOHEADER, strlen(PG_PLAIN_NOHEADER), RD_FMT_PG_PLAIN,
               RD_WRAP_NONE);
    size_t n;
    char *big = sql_text(MARIADB_HEAD, 300000, &n); /* far beyond the peeked head */
    put("c.sql", big, n);
    round_trip("c.sql", big, n, RD_FMT_MARIADB_SQL, RD_WRAP_NONE);
    put("empty", "", 0);
    round_trip("empty", "", 0, RD_FMT_UNKNOWN, RD_WRAP_NONE);
    put("tiny", "\x1f", 1);
    round_trip("tiny", "\x1f", 1, RD_FMT_UNKNOWN, RD_WRAP_NONE);
    free(big);
}
END_TEST

START_TEST(open_directory_dump)
{
    ck_assert_int_eq(mkdir(path_of("d.dir"), 0700), 0);
    put("d.dir/toc.dat", "PGDMP", 5);
    rd_artifact *a = open_ok("d.dir", NULL);
    ck_assert_int_eq(rd_artifact_is_dir(a), 1);
    ck_assert_int_eq(rd_artifact_format(a), RD_FMT_PG_DIRECTORY);
    ck_assert_str_eq(rd_artifact_path(a), path_of("d.dir"));
    char buf[16];
    size_t n = 9;
    rd_error err;
    ck_assert_int_eq(rd_artifact_read(a, buf, sizeof buf, &n, &err), RD_OK);
    ck_assert_uint_eq(n, 0);
    rd_artifact_free(a);

    ck_assert_int_eq(mkdir(path_of("e.dir"), 0700), 0);
    open_fails_at("e.dir", NULL, RD_ERR_FORMAT, "",
                  " is a directory without toc.dat (not a pg_dump directory-format dump)");
}
END_TEST

START_TEST(open_missing)
{
    rd_artifact *a = NULL;
    rd_error err;
    ck_assert_int_eq(rd_artifact_open("/nonexistent/x.dump", NULL, &a, &err), RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "cannot open /nonexistent/x.dump: No such file or directory");
    ck_assert_int_eq(rd_artifact_open("ftp://host/x.dump", NULL, &a, &err), RD_ERR_UNSUPPORTED);
    ck_assert_str_eq(err.msg, "fetching ftp:// locations is not implemented yet");
    ck_assert_int_eq(rd_artifact_open("s3://", NULL, &a, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "expected s3://bucket/key, got \"s3://\"");
    ck_assert_ptr_null(a);
    rd_artifact_free(NULL);
}
END_TEST

/* text[0, split) and text[split, n) compressed apart and concatenated into
 * one file name (two gzip members, two zstd frames) read back as text. */
static void two_frames_round_trip(void *(*compress)(const void *, size_t, size_t *),
                                  const char *name, const char *text, size_t n, size_t split,
                                  rd_format fmt, rd_wrap wrap)
{
    size_t z1n, z2n;
    void *z1 = compress(text, split, &z1n);
    void *z2 = compress(text + split, n - split, &z2n);
    char *both = malloc(z1n + z2n);
    memcpy(both, z1, z1n);
    memcpy(both + z1n, z2, z2n);
    put(name, both, z1n + z2n);
    round_trip(name, text, n, fmt, wrap);
    free(both);
    free(z1);
    free(z2);
}

START_TEST(gzip_round_trip)
{
    size_t n, zn;
    char *text;
    void *z = put_compressed(gzip_of, PG_PLAIN_HEAD, 400000, "p.sql.gz", &text, &n, &zn);
    round_trip("p.sql.gz", text, n, RD_FMT_PG_PLAIN, RD_WRAP_GZIP);

    /* two gzip members (pigz, cat a.gz b.gz) decode as one stream */
    two_frames_round_trip(gzip_of, "m.sql.gz", text, n, n / 2, RD_FMT_PG_PLAIN, RD_WRAP_GZIP);
    free(z);
    free(text);
}
END_TEST

START_TEST(zstd_round_trip)
{
    size_t n, zn;
    char *text;
    void *z = put_compressed(zstd_of, MARIADB_NOHEADER, 400000, "m.sql.zst", &text, &n, &zn);
    round_trip("m.sql.zst", text, n, RD_FMT_MARIADB_SQL, RD_WRAP_ZSTD);

    two_frames_round_trip(zstd_of, "two.sql.zst", text, n, n / 3, RD_FMT_MARIADB_SQL, RD_WRAP_ZSTD);
    free(z);
    free(text);
}
END_TEST

static void expect_read_error(const char *name, rd_status code, const char *before,
                              const char *after)
{
    rd_artifact *a = open_ok(name, NULL);
    char *data;
    size_t len;
    rd_error err;
    ck_assert_int_eq(read_all(a, &data, &len, &err), code);
    char want[700];
    snprintf(want, sizeof want, "%s%s%s", before, path_of(name), after);
    ck_assert_str_eq(err.msg, want);
    /* sticky: reading again repeats the error */
    size_t r = 5;
    rd_error err2;
    ck_assert_int_eq(rd_artifact_read(a, data, 100, &r, &err2), code);
    ck_assert_uint_eq(r, 0);
    ck_assert_str_eq(err2.msg, want);
    free(data);
    rd_artifact_free(a);
}

START_TEST(corrupt_and_truncated)
{
    size_t n, zn;
    char *text = sql_text(PG_PLAIN_HEAD, 300000, &n);
    unsigned char *z = gzip_of(text, n, &zn);
    /* a wrong CRC-32 in the trailer: every byte decodes, the end fails */
    z[zn - 8] ^= 0xff;
    put("crc.sql.gz", z, zn);
    expect_read_error("crc.sql.gz", RD_ERR_INTEGRITY, "corrupt gzip stream in ",
                      ": incorrect data check");
    z[zn - 8] ^= 0xff;
    put("cut.sql.gz", z, zn - 100);
    expect_read_error("cut.sql.gz", RD_ERR_INTEGRITY, "truncated gzip stream in ", "");

    /* a corrupt header fails at open, where the head is peeked */
    z[3] = 0xe0; /* reserved FLG bits */
    put("hdr.sql.gz", z, zn);
    open_fails_at("hdr.sql.gz", NULL, RD_ERR_INTEGRITY, "corrupt gzip stream in ",
                  ": unknown header flags set");
    free(z);

    unsigned char *s = zstd_of(text, n, &zn);
    put("cut.sql.zst", s, zn - 100);
    expect_read_error("cut.sql.zst", RD_ERR_INTEGRITY, "truncated zstd stream in ", "");
    put("cut2.sql.zst", s, 10); /* cut inside the frame header */
    open_fails_at("cut2.sql.zst", NULL, RD_ERR_INTEGRITY, "truncated zstd stream in ", "");
    free(s);
    free(text);
}
END_TEST

START_TEST(sha256_verified)
{
    size_t n, zn;
    char *text;
    void *z = put_compressed(gzip_of, PG_PLAIN_HEAD, 200000, "s.sql.gz", &text, &n, &zn);
    char hex[RD_SHA256_HEX_LEN + 1], upper[RD_SHA256_HEX_LEN + 1];
    rd_sha256_hex(z, zn, hex); /* over the stored (compressed) bytes */
    for (size_t i = 0; i <= RD_SHA256_HEX_LEN; i++)
        upper[i] = (char)(hex[i] >= 'a' && hex[i] <= 'f' ? hex[i] - 'a' + 'A' : hex[i]);

    rd_artifact_opts o = {upper, NULL, 0, 0, NULL, 0, NULL, 0, 0};
    rd_artifact *a = open_ok("s.sql.gz", &o);
    ck_assert_ptr_null(rd_artifact_sha256(a)); /* not before the end */
    char *data;
    size_t len;
    rd_error err;
    ck_assert_int_eq(read_all(a, &data, &len, &err), RD_OK);
    ck_assert_uint_eq(len, n);
    ck_assert_str_eq(rd_artifact_sha256(a), hex);
    free(data);
    rd_artifact_free(a);

    const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
    rd_artifact_opts bad = {wrong, NULL, 0, 0, NULL, 0, NULL, 0, 0};
    a = open_ok("s.sql.gz", &bad);
    ck_assert_int_eq(read_all(a, &data, &len, &err), RD_ERR_INTEGRITY);
    char want[300];
    snprintf(want, sizeof want, "sha256 mismatch: expected %s, got %s", wrong, hex);
    ck_assert_str_eq(err.msg, want);
    free(data);
    rd_artifact_free(a);

    /* a file shorter than the peeked head is verified at open */
    put("short.sql", PG_PLAIN_HEAD, strlen(PG_PLAIN_HEAD));
    rd_sha256_hex(PG_PLAIN_HEAD, strlen(PG_PLAIN_HEAD), hex);
    snprintf(want, sizeof want, "sha256 mismatch: expected %s, got %s", wrong, hex);
    open_fails("short.sql", &bad, RD_ERR_INTEGRITY, want);
    free(z);
    free(text);
}
END_TEST

START_TEST(decrypt_filters)
{
    size_t n, zn;
    char *text;
    void *z = put_compressed(gzip_of, PG_PLAIN_HEAD, 1500000, "e.sql.gz", &text, &n,
                             &zn); /* several pipe buffers */

    /* cat: the identity filter */
    const char *cat[] = {"cat", NULL};
    char hex[RD_SHA256_HEX_LEN + 1];
    rd_sha256_hex(z, zn, hex);
    rd_artifact_opts o = {hex, cat, 0, 0, NULL, 0, NULL, 0, 0};
    rd_artifact *a = open_ok("e.sql.gz", &o);
    ck_assert_int_eq(rd_artifact_wrap(a), RD_WRAP_GZIP);
    ck_assert_int_eq(rd_artifact_format(a), RD_FMT_PG_PLAIN);
    char *data;
    size_t len;
    rd_error err;
    ck_assert_int_eq(read_all(a, &data, &len, &err), RD_OK);
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(data, text, n) == 0);
    ck_assert_str_eq(rd_artifact_sha256(a), hex);
    ck_assert_uint_eq(rd_artifact_raw_bytes(a), zn);
    free(data);
    rd_artifact_free(a);

    /* base64 as a stand-in cipher: the digest is over the stored bytes */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "base64 < %s > %s", path_of("e.sql.gz"), path_of("e.sql.gz.b64"));
    ck_assert_int_eq(system(cmd), 0);
    char stored_hex[RD_SHA256_HEX_LEN + 1];
    unsigned long long stored_n = 0;
    ck_assert_int_eq(rd_sha256_file(path_of("e.sql.gz.b64"), stored_hex, &stored_n, NULL), RD_OK);
    const char *b64[] = {"base64", "-d", NULL};
    rd_artifact_opts o2 = {stored_hex, b64, 0, 0, NULL, 0, NULL, 0, 0};
    a = open_ok("e.sql.gz.b64", &o2);
    ck_assert_int_eq(rd_artifact_wrap(a), RD_WRAP_GZIP);
    ck_assert_int_eq(read_all(a, &data, &len, &err), RD_OK);
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(data, text, n) == 0);
    ck_assert_str_eq(rd_artifact_sha256(a), stored_hex);
    ck_assert_uint_eq(rd_artifact_raw_bytes(a), stored_n);
    free(data);
    rd_artifact_free(a);

    /* a failing decrypt command: its exit code and stderr */
    const char *badkey[] = {"sh", "-c", "echo bad key >&2; exit 2", NULL};
    rd_artifact_opts o3 = {NULL, badkey, 0, 0, NULL, 0, NULL, 0, 0};
    open_fails("e.sql.gz", &o3, RD_ERR_PROC, "decrypt command exited with 2: bad key");

    /* a filter that stops reading early but exits 0 */
    const char *head[] = {"head", "-c", "100", NULL};
    rd_artifact_opts o4 = {NULL, head, 0, 0, NULL, 0, NULL, 0, 0};
    open_fails_at("e.sql.gz", &o4, RD_ERR_PROC, "decrypt command exited before reading all of ",
                  "");
    char want[600];
    const char *head_plain[] = {"head", "-c", "20000", NULL};
    rd_artifact_opts o5 = {NULL, head_plain, 0, 0, NULL, 0, NULL, 0, 0};
    put("plain.sql", text, n);
    a = open_ok("plain.sql", &o5);
    ck_assert_int_eq(read_all(a, &data, &len, &err), RD_ERR_PROC);
    snprintf(want, sizeof want, "decrypt command exited before reading all of %s",
             path_of("plain.sql"));
    ck_assert_str_eq(err.msg, want);
    ck_assert_uint_eq(len, 20000);
    ck_assert(memcmp(data, text, len) == 0);
    free(data);
    rd_artifact_free(a);

    const char *missing[] = {"/nonexistent/gpg", "--decrypt", NULL};
    rd_artifact_opts o6 = {NULL, missing, 0, 0, NULL, 0, NULL, 0, 0};
    ck_assert_int_eq(rd_artifact_open(path_of("e.sql.gz"), &o6, &a, &err), RD_ERR_PROC);
    ck_assert_str_eq(err.msg,
                     "decrypt command: cannot run /nonexistent/gpg: No such file or directory");

    /* freed before the end: the filter and the writer are stopped */
    a = open_ok("e.sql.gz", &o);
    rd_artifact_free(a);
    free(z);
    free(text);
}
END_TEST

typedef struct reader {
    rd_artifact *a;
    rd_status st;
    rd_error err;
} reader;

static void *read_thread(void *arg)
{
    reader *r = arg;
    char *data = NULL;
    size_t len = 0;
    r->st = read_all(r->a, &data, &len, &r->err);
    free(data);
    return NULL;
}

/* A decrypt filter that stops producing: reads end at the deadline or on
 * rd_artifact_cancel, the filter is stopped, and no other child is. */
START_TEST(stuck_filter_deadline_and_cancel)
{
    size_t n;
    char *text = sql_text(PG_PLAIN_HEAD, 200000, &n);
    put("s.sql", text, n);
    const char *bystander_argv[] = {"sleep", "600", NULL};
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = bystander_argv;
    rd_proc *bystander = NULL;
    rd_error err;
    ck_assert_int_eq(rd_proc_start(&spec, &bystander, &err), RD_OK);

    /* nothing at all before the deadline: open fails, naming the reason */
    const char *silent[] = {"sh", "-c", "exec sleep 600", NULL};
    rd_artifact_opts o = {NULL, silent, 0, rd_mono_now() + 0.3, NULL, 0, NULL, 0, 0};
    open_fails_at("s.sql", &o, RD_ERR_TIMEOUT, "reading ",
                  " timed out: the decrypt command produced no output before the deadline");

    /* the head, then silence: a reader in another thread is cancelled */
    const char *stall[] = {"sh", "-c", "head -c 9000; exec sleep 600", NULL};
    rd_artifact_opts o2 = {NULL, stall, 0, 0, NULL, 0, NULL, 0, 0};
    rd_artifact *a = open_ok("s.sql", &o2);
    reader r = {a, RD_OK, {0}};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, read_thread, &r), 0);
    struct timespec ts = {0, 300 * 1000 * 1000};
    nanosleep(&ts, NULL);
    rd_artifact_cancel(a);
    pthread_join(th, NULL);
    ck_assert_int_eq(r.st, RD_ERR_ABORTED);
    char want[700];
    snprintf(want, sizeof want, "reading %s was cancelled", path_of("s.sql"));
    ck_assert_str_eq(r.err.msg, want);
    rd_artifact_free(a);

    /* the other child was left alone */
    ck_assert_int_eq(kill(rd_proc_pid(bystander), 0), 0);
    rd_proc_stop(bystander);
    rd_proc_free(bystander);
    free(text);
}
END_TEST

START_TEST(pump_to_fd)
{
    size_t n, zn;
    char *text;
    void *z = put_compressed(zstd_of, MARIADB_HEAD, 700000, "p.sql.zst", &text, &n, &zn);

    /* into a file: everything, decoded */
    rd_artifact *a = open_ok("p.sql.zst", NULL);
    FILE *f = fopen(path_of("out.sql"), "w+b");
    ck_assert_ptr_nonnull(f);
    rd_error err;
    ck_assert_int_eq(rd_artifact_pump(a, fileno(f), &err), RD_OK);
    rd_artifact_free(a);
    fflush(f);
    struct stat sb;
    ck_assert_int_eq(fstat(fileno(f), &sb), 0);
    ck_assert_int_eq((long long)sb.st_size, (long long)n);
    char *back = malloc(n);
    rewind(f);
    ck_assert_uint_eq(fread(back, 1, n, f), n);
    ck_assert(memcmp(back, text, n) == 0);
    fclose(f);
    free(back);

    /* into a pipe whose reader exits after 100 bytes */
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ne(pid, -1);
    if (pid == 0) {
        char buf[100];
        close(fds[1]);
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t r = read(fds[0], buf + got, sizeof buf - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        _exit(0);
    }
    close(fds[0]);
    a = open_ok("p.sql.zst", NULL);
    ck_assert_int_eq(rd_artifact_pump(a, fds[1], &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, "restore tool closed its input");
    close(fds[1]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* no SIGPIPE left pending to kill us later */
    sigset_t pending;
    sigpending(&pending);
    ck_assert_int_eq(sigismember(&pending, SIGPIPE), 0);
    rd_artifact_free(a);
    free(z);
    free(text);
}
END_TEST

/* The raw bytes pass a 4 MiB ring hashed in place by a thread of its own
 * (artifact_ring.c): a file of almost three rings, read in sizes that do not
 * divide it, comes out byte for byte with its sha256; a reader that stops
 * early, or is cancelled, leaves no thread waiting on a full ring. */
START_TEST(ring_wraps_and_stops)
{
    size_t n;
    char *text = sql_text(MARIADB_HEAD, (size_t)11 * 1024 * 1024 + 12345, &n);
    put("big.sql", text, n);
    char hex[RD_SHA256_HEX_LEN + 1];
    rd_sha256_hex(text, n, hex);
    rd_artifact_opts o = {.expected_sha256 = hex};
    rd_artifact *a = open_ok("big.sql", &o);
    char *got = malloc(n + 1);
    static const size_t sizes[] = {1, 7, 4099, 65536, 300001, 2 * 1024 * 1024};
    size_t len = 0, r = 0;
    rd_error err;
    for (unsigned i = 0;; i++) {
        size_t want = sizes[i % 6] < n + 1 - len ? sizes[i % 6] : n + 1 - len;
        ck_assert_int_eq(rd_artifact_read(a, got + len, want, &r, &err), RD_OK);
        if (r == 0)
            break;
        len += r;
    }
    ck_assert_uint_eq(len, n);
    ck_assert(memcmp(got, text, n) == 0);
    ck_assert_str_eq(rd_artifact_sha256(a), hex);
    ck_assert_uint_eq(rd_artifact_raw_bytes(a), n);
    rd_artifact_free(a);

    /* stop early: the file reader waits on a full ring, free must end it */
    a = open_ok("big.sql", &o);
    ck_assert_int_eq(rd_artifact_read(a, got, 10, &r, &err), RD_OK);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL); /* let the ring fill */
    rd_artifact_free(a);

    /* cancelled past the head: the next read fails at once */
    a = open_ok("big.sql", &o);
    ck_assert_int_eq(rd_artifact_read(a, got, 8192, &r, &err), RD_OK); /* the head */
    ck_assert_int_eq(rd_artifact_read(a, got, 8192, &r, &err), RD_OK);
    ck_assert_uint_eq(r, 8192);
    rd_artifact_cancel(a);
    ck_assert_int_eq(rd_artifact_read(a, got, 8192, &r, &err), RD_ERR_ABORTED);
    char msg[600];
    snprintf(msg, sizeof msg, "reading %s was cancelled", path_of("big.sql"));
    ck_assert_str_eq(err.msg, msg);
    ck_assert_ptr_null(rd_artifact_sha256(a));
    rd_artifact_free(a);
    free(got);
    free(text);
}
END_TEST

/* rd_artifact_read_view: the same bytes and checks as rd_artifact_read,
 * lent from the ring for a plain file (mixed with copying reads), decoded
 * into the artifact's buffer for a gzip file; a wrong sha256 is reported at
 * the end and then sticks. */
START_TEST(read_view_lends_and_copies)
{
    size_t n, zn;
    char *text = sql_text(MARIADB_HEAD, (size_t)9 * 1024 * 1024 + 777, &n);
    void *z = gzip_of(text, n, &zn);
    put("v.sql", text, n);
    put("v.sql.gz", z, zn);
    char hex[RD_SHA256_HEX_LEN + 1], zhex[RD_SHA256_HEX_LEN + 1];
    rd_sha256_hex(text, n, hex);
    rd_sha256_hex(z, zn, zhex);
    char *got = malloc(n + 1);
    rd_error err;
    for (int gz = 0; gz < 2; gz++) {
        rd_artifact_opts o = {.expected_sha256 = gz ? zhex : hex};
        rd_artifact *a = open_ok(gz ? "v.sql.gz" : "v.sql", &o);
        size_t len = 0, r = 0;
        for (unsigned i = 0;; i++) {
            const void *p = NULL;
            size_t cap = i % 3 == 2 ? 5000 : 70001;
            if (i % 3 == 2) { /* a copying read between views */
                ck_assert_int_eq(rd_artifact_read(a, got + len, cap, &r, &err), RD_OK);
            } else {
                ck_assert_int_eq(rd_artifact_read_view(a, &p, cap, &r, &err), RD_OK);
                ck_assert_uint_le(r, cap);
                if (r)
                    memcpy(got + len, p, r);
                else
                    ck_assert_ptr_null(p);
            }
            if (r == 0)
                break;
            len += r;
        }
        ck_assert_uint_eq(len, n);
        ck_assert(memcmp(got, text, n) == 0);
        ck_assert_str_eq(rd_artifact_sha256(a), gz ? zhex : hex);
        ck_assert_uint_eq(rd_artifact_decoded_bytes(a), n);
        rd_artifact_free(a);
    }
    const char *wrong = "1111111111111111111111111111111111111111111111111111111111111111";
    rd_artifact_opts bad = {.expected_sha256 = wrong};
    rd_artifact *a = open_ok("v.sql", &bad);
    const void *p = NULL;
    size_t r = 0;
    rd_status st;
    while ((st = rd_artifact_read_view(a, &p, 1 << 20, &r, &err)) == RD_OK && r > 0)
        ;
    ck_assert_int_eq(st, RD_ERR_INTEGRITY);
    char want[300];
    snprintf(want, sizeof want, "sha256 mismatch: expected %s, got %s", wrong, hex);
    ck_assert_str_eq(err.msg, want);
    ck_assert_int_eq(rd_artifact_read_view(a, &p, 100, &r, &err), RD_ERR_INTEGRITY);
    ck_assert_ptr_null(p);
    ck_assert_str_eq(err.msg, want);
    rd_artifact_free(a);
    free(got);
    free(z);
    free(text);
}
END_TEST

Suite *artifact_suite(void);
Suite *artifact_suite(void)
{
    Suite *s = suite_create("artifact");
    TCase *det = tcase_create("detect");
    tcase_add_test(det, detect_formats);
    suite_add_tcase(s, det);

    TCase *tc = tcase_create("stream");
    tcase_add_checked_fixture(tc, setup, fx_tmpdir_remove);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, open_plain_files);
    tcase_add_test(tc, open_directory_dump);
    tcase_add_test(tc, open_missing);
    tcase_add_test(tc, gzip_round_trip);
    tcase_add_test(tc, zstd_round_trip);
    tcase_add_test(tc, corrupt_and_truncated);
    tcase_add_test(tc, sha256_verified);
    tcase_add_test(tc, decrypt_filters);
    tcase_add_test(tc, stuck_filter_deadline_and_cancel);
    tcase_add_test(tc, pump_to_fd);
    tcase_add_test(tc, ring_wraps_and_stops);
    tcase_add_test(tc, read_view_lends_and_copies);
    suite_add_tcase(s, tc);
    return s;
}
