/* test_s3set.c: object sets without a server: the listing file (parse,
 * line round trip, exact errors), a versioned bucket as of a time (delete
 * markers listed apart from the versions, the newest at or before the
 * target, the RPO's newest change), x-amz-checksum-sha256 as hex, and the
 * configuration rules of engine s3 (exact messages). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_fixture.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/s3set.h"

static const char LISTING[] =
    "{\"key\": \"photos/b.jpg\", \"size\": 16, \"sha256\": "
    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}\n"
    "\n"
    "{\"key\": \"a.txt\", \"size\": 25, \"sha256\": "
    "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\", \"md5\": "
    "\"0123456789abcdef0123456789ABCDEF\", \"last_modified\": \"2026-01-30T02:00:01.500Z\"}\n";

START_TEST(listing_parse)
{
    rd_s3set s = {NULL, 0};
    rd_error err;
    ck_assert_int_eq(rd_s3set_listing_parse(LISTING, strlen(LISTING), "l.jsonl", &s, &err), RD_OK);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.items[0].key, "a.txt"); /* sorted */
    ck_assert_int_eq(s.items[0].size, 25);
    ck_assert_str_eq(s.items[0].md5, "0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(s.items[0].mtime_ms, 1769738401500LL);
    ck_assert_str_eq(s.items[1].sha256,
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    ck_assert_ptr_nonnull(rd_s3set_find(&s, "photos/b.jpg"));
    ck_assert_ptr_null(rd_s3set_find(&s, "photos"));
    /* a line written back reads the same */
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    ck_assert_int_eq(rd_s3set_listing_line(&sb, &s.items[0], &err), RD_OK);
    ck_assert_str_eq(sb.data,
                     "{\"key\":\"a.txt\",\"size\":25,\"sha256\":"
                     "\"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\","
                     "\"md5\":\"0123456789abcdef0123456789abcdef\","
                     "\"last_modified\":\"2026-01-30T02:00:01.500Z\"}\n");
    rd_strbuf_free(&sb);
    rd_s3set_free(&s);
}
END_TEST

static const char *parse_error(const char *text)
{
    static char msg[RD_ERROR_MSG_MAX];
    rd_s3set s = {NULL, 0};
    rd_error err;
    rd_status st = rd_s3set_listing_parse(text, strlen(text), "l.jsonl", &s, &err);
    rd_s3set_free(&s);
    snprintf(msg, sizeof msg, "%s", st == RD_OK ? "(parsed)" : err.msg);
    return msg;
}

#define SHA "\"sha256\": \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\""

START_TEST(listing_errors)
{
    ck_assert_str_eq(parse_error("\n[1]\n"), "l.jsonl line 2: expected a JSON object");
    ck_assert_str_eq(parse_error("{\"size\": 1, " SHA "}"),
                     "l.jsonl line 1: \"key\": expected a non-empty string");
    ck_assert_str_eq(parse_error("{\"key\": \"k\", \"size\": 1.5, " SHA "}"),
                     "l.jsonl line 1: \"size\": expected a whole number of bytes");
    ck_assert_str_eq(parse_error("{\"key\": \"k\", \"size\": 1, \"sha256\": \"abc\"}"),
                     "l.jsonl line 1: \"sha256\": expected 64 hex digits");
    ck_assert_str_eq(parse_error("{\"key\": \"k\", \"size\": 1, " SHA ", \"md5\": \"x\"}"),
                     "l.jsonl line 1: \"md5\": expected 32 hex digits");
    ck_assert_str_eq(parse_error("{\"key\": \"k\", \"size\": 1, " SHA "}\n"
                                 "{\"key\": \"k\", \"size\": 2, " SHA "}"),
                     "l.jsonl: duplicate key \"k\"");
    ck_assert_str_eq(parse_error(""), "(parsed)");
}
END_TEST

static void version(rd_s3_objects *l, const char *key, const char *vid, int64_t ms, int marker,
                    int64_t size)
{
    l->items = realloc(l->items, (l->n + 1) * sizeof *l->items);
    rd_s3_object *o = &l->items[l->n++];
    memset(o, 0, sizeof *o);
    o->key = strdup(key);
    o->version_id = strdup(vid);
    o->mtime_ms = ms;
    o->delete_marker = marker;
    o->size = size;
    o->etag = marker ? NULL : strdup("0123456789abcdef0123456789abcdef");
}

START_TEST(as_of_versions)
{
    rd_s3_objects l = {NULL, 0};
    /* the versions first, newest first per key, the delete markers after them
     * (as moto lists them) */
    version(&l, "p/k1", "k1b", 3000, 0, 22);
    version(&l, "p/k1", "k1a", 1000, 0, 14);
    version(&l, "p/k2", "k2a", 1000, 0, 14);
    version(&l, "p/k3", "k3a", 1000, 0, 14);
    version(&l, "p/k4", "k4a", 7000, 0, 14);
    version(&l, "q/other", "oa", 500, 0, 1);
    version(&l, "p/k2", "k2m", 5000, 1, 0);
    rd_s3set s = {NULL, 0};
    rd_error err;
    int64_t newest = -1;
    /* after the delete marker, before k4 */
    ck_assert_int_eq(rd_s3set_as_of(&l, "p/", 5000, &s, &newest, &err), RD_OK);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(s.items[0].key, "k1");
    ck_assert_str_eq(s.items[0].version_id, "k1b");
    ck_assert_int_eq(s.items[0].size, 22);
    ck_assert_str_eq(s.items[1].key, "k3");
    ck_assert_int_eq(newest, 5000); /* the delete marker is the newest change */
    rd_s3set_free(&s);
    /* before the marker and k1's second version */
    ck_assert_int_eq(rd_s3set_as_of(&l, "p/", 2999, &s, &newest, &err), RD_OK);
    ck_assert_uint_eq(s.n, 3);
    ck_assert_str_eq(s.items[0].version_id, "k1a");
    ck_assert_str_eq(s.items[1].key, "k2");
    ck_assert_str_eq(s.items[0].md5, "0123456789abcdef0123456789abcdef");
    ck_assert_int_eq(newest, 1000);
    rd_s3set_free(&s);
    /* before anything */
    ck_assert_int_eq(rd_s3set_as_of(&l, "p/", 999, &s, &newest, &err), RD_OK);
    ck_assert_uint_eq(s.n, 0);
    ck_assert_int_eq(newest, 0);
    rd_s3set_free(&s);
    int64_t lo, hi;
    rd_s3set_versions_window(&l, &lo, &hi);
    ck_assert_int_eq(lo, 500);
    ck_assert_int_eq(hi, 7000);
    rd_s3_objects_free(&l);
}
END_TEST

START_TEST(checksum_header)
{
    char hex[65];
    /* sha256("hello") */
    ck_assert_int_eq(rd_s3set_checksum_hex("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", hex), 1);
    ck_assert_str_eq(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    ck_assert_int_eq(rd_s3set_checksum_hex("LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=-3", hex),
                     0);
    ck_assert_int_eq(rd_s3set_checksum_hex(NULL, hex), 0);
    ck_assert_int_eq(rd_s3set_checksum_hex("not base64", hex), 0);
}
END_TEST

#define T "{\"name\": \"t\", \"engine\": \"s3\", "
#define CAT "\"catalog\": {\"type\": \"s3-objects\", \"bucket\": \"b\"}, "
#define VCAT "\"catalog\": {\"type\": \"s3-objects\", \"bucket\": \"b\", \"versions\": true}, "
#define SCR "\"scratch\": {\"type\": \"server\", \"bucket\": \"s\"}, "
#define REF "\"reference\": {\"listing\": \"/l\"}"

START_TEST(config_rules)
{
    ck_assert_str_eq(fx_targets_error(T CAT SCR REF "}"), "(loaded)");
    ck_assert_str_eq(fx_targets_error(T VCAT SCR "\"sample\": {\"strategy\": \"pitr-random\"}}"),
                     "(loaded)");
    ck_assert_str_eq(fx_targets_error(T CAT REF "}"),
                     "drill.json: targets[0].scratch.bucket: required key is missing (engine s3 "
                     "restores into a prefix of a bucket: {\"type\": \"server\", \"bucket\": B})");
    ck_assert_str_eq(fx_targets_error(T CAT SCR "\"sample\": {\"strategy\": \"latest\"}}"),
                     "drill.json: targets[0].reference.listing: required key is missing (the "
                     "listing captured at backup time: restoredrill manifest --engine s3 --bucket "
                     "B --prefix P -o FILE)");
    ck_assert_str_eq(fx_targets_error(T "\"catalog\": {\"type\": \"s3-objects\"}, " SCR REF "}"),
                     "drill.json: targets[0].catalog.bucket: required key is missing");
    ck_assert_str_eq(fx_targets_error(T VCAT SCR "\"sample\": {\"strategy\": \"latest\"}}"),
                     "drill.json: targets[0].sample.strategy: a versioned bucket "
                     "(catalog.versions) is sampled with \"pitr-random\" or \"pitr\", got "
                     "\"latest\"");
    ck_assert_str_eq(
        fx_targets_error(T VCAT SCR REF ", \"sample\": {\"strategy\": \"pitr-random\"}}"),
        "drill.json: targets[0].reference.listing: not used with catalog.versions (the expected "
        "objects are the bucket's versions as of the target)");
    ck_assert_str_eq(
        fx_targets_error(T CAT SCR REF ", \"sample\": {\"strategy\": \"pitr-random\"}}"),
        "drill.json: targets[0].sample.strategy: \"pitr-random\" needs a versioned "
        "bucket (\"versions\": true in the catalog)");
    ck_assert_str_eq(fx_targets_error(T CAT "\"scratch\": {\"type\": \"ephemeral\"}, " REF "}"),
                     "drill.json: targets[0].scratch.type: engine s3 needs scratch type "
                     "\"server\" (a prefix in a bucket: {\"type\": \"server\", \"bucket\": B}), "
                     "got \"ephemeral\"\ndrill.json: targets[0].scratch.type: scratch type "
                     "\"ephemeral\" does not support engine \"s3\"");
    ck_assert_str_eq(fx_targets_error(T CAT SCR REF ", \"restore\": {\"roles\": \"strict\"}}"),
                     "drill.json: targets[0].restore.roles: not supported for s3");
    ck_assert_str_eq(fx_targets_error(T CAT SCR REF ", \"checks\": [{\"type\": \"smoke\", \"url\": "
                                                    "\"http://x\"}]}"),
                     "drill.json: targets[0].checks[0].type: check type \"smoke\" does not "
                     "support engine \"s3\"");
    ck_assert_str_eq(
        fx_targets_error("{\"name\": \"t\", \"engine\": \"postgres\", " CAT "\"checks\": []}"),
        "drill.json: targets[0].catalog.type: catalog type \"s3-objects\" needs "
        "engine \"s3\"");
    ck_assert_str_eq(fx_targets_error("{\"name\": \"t\", \"engine\": \"postgres\", \"catalog\": "
                                      "{\"type\": \"dir\", \"path\": \"/x\"}, " REF "}"),
                     "drill.json: targets[0].reference.listing: only used with engine \"s3\"");
}
END_TEST

Suite *s3set_suite(void);
Suite *s3set_suite(void)
{
    Suite *s = suite_create("s3set");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, listing_parse);
    tcase_add_test(tc, listing_errors);
    tcase_add_test(tc, as_of_versions);
    tcase_add_test(tc, checksum_header);
    tcase_add_test(tc, config_rules);
    suite_add_tcase(s, tc);
    return s;
}
