/* test_dynamo.c: DynamoDB items and recovery points without a server:
 * numbers normalised as DynamoDB compares them, the canonical form of items
 * (attribute order, set order), the order-independent digest, scan files
 * verified (parse errors, duplicate and missing keys, truncation), the
 * export layout's manifests (paths resolved against the export's own
 * directory, MD5 and counts), and the configuration of engine dynamodb. */
#include <check.h>
#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "config_fixture.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/fs.h"
#include "restoredrill/strbuf.h"

static char *canon_num(const char *in)
{
    rd_strbuf sb;
    rd_error err;
    rd_strbuf_init(&sb, 0);
    if (rd_dyn_number_canon(in, &sb, &err) != RD_OK) {
        rd_strbuf_free(&sb);
        return rd_strdup(err.msg);
    }
    return rd_strbuf_detach(&sb);
}

START_TEST(numbers)
{
    static const char *const cases[][2] = {
        {"0", "0"},
        {"-0.000", "0"},
        {"42", "42e0"},
        {"042.50", "425e-1"},
        {"4.25E1", "425e-1"},
        {"-1.25e-3", "-125e-5"},
        {"100", "1e2"},
        {"1e2", "1e2"},
        {"0.001", "1e-3"},
        {"+7", "7e0"},
        {"1.", "1e0"},
        {"abc", "invalid number \"abc\""},
        {"1e", "invalid number \"1e\""},
        {"", "invalid number \"\""},
        {"1.2.3", "invalid number \"1.2.3\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *got = canon_num(cases[i][0]);
        ck_assert_msg(strcmp(got, cases[i][1]) == 0, "%s: got %s, want %s", cases[i][0], got,
                      cases[i][1]);
        free(got);
    }
}
END_TEST

static char *canon_item(const char *json)
{
    cJSON *j = cJSON_Parse(json);
    rd_strbuf sb;
    rd_error err;
    ck_assert_ptr_nonnull(j);
    rd_strbuf_init(&sb, 0);
    char *out =
        rd_dyn_item_canon(j, &sb, &err) == RD_OK ? rd_strbuf_detach(&sb) : rd_strdup(err.msg);
    rd_strbuf_free(&sb);
    cJSON_Delete(j);
    return out;
}

START_TEST(items)
{
    char *a =
        canon_item("{\"b\":{\"N\":\"1.50\"},\"a\":{\"SS\":[\"y\",\"x\"]},\"c\":{\"M\":{\"z\":"
                   "{\"BOOL\":true},\"y\":{\"NULL\":true}}},\"d\":{\"L\":[{\"N\":\"2\"},{\"S\":"
                   "\"q\\\"\"}]},\"e\":{\"NS\":[\"10\",\"9.0\"]},\"f\":{\"B\":\"AAE=\"}}");
    ck_assert_str_eq(a, "{\"a\":SS[\"x\",\"y\"],\"b\":N15e-1,\"c\":M{\"y\":0,\"z\":T},\"d\":L[N2e0,"
                        "S\"q\\\"\"],\"e\":NS[1e1,9e0],\"f\":BAAE=}");
    /* the same item written otherwise has the same canonical form */
    char *b =
        canon_item("{\"f\":{\"B\":\"AAE=\"},\"e\":{\"NS\":[\"9\",\"1E1\"]},\"d\":{\"L\":[{\"N\":"
                   "\"2.0\"},{\"S\":\"q\\\"\"}]},\"c\":{\"M\":{\"y\":{\"NULL\":true},\"z\":{"
                   "\"BOOL\":true}}},\"b\":{\"N\":\"15e-1\"},\"a\":{\"SS\":[\"x\",\"y\"]}}");
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    /* list order matters */
    a = canon_item("{\"l\":{\"L\":[{\"N\":\"1\"},{\"N\":\"2\"}]}}");
    b = canon_item("{\"l\":{\"L\":[{\"N\":\"2\"},{\"N\":\"1\"}]}}");
    ck_assert_str_ne(a, b);
    free(a);
    free(b);
    /* errors name the attribute */
    a = canon_item("{\"x\":{\"Q\":\"1\"}}");
    ck_assert_str_eq(a, "attribute \"x\": unknown type descriptor \"Q\"");
    free(a);
    a = canon_item("{\"x\":{\"S\":\"1\",\"N\":\"1\"}}");
    ck_assert_str_eq(a, "attribute \"x\": expected one type descriptor like {\"S\": ...}");
    free(a);
    a = canon_item("{\"x\":{\"N\":\"ten\"}}");
    ck_assert_str_eq(a, "invalid number \"ten\"");
    free(a);
}
END_TEST

START_TEST(digest_order_independent)
{
    rd_dyn_digest d1, d2, d3;
    char h1[65], h2[65], h3[65];
    memset(&d1, 0, sizeof d1);
    memset(&d2, 0, sizeof d2);
    memset(&d3, 0, sizeof d3);
    rd_dyn_digest_add(&d1, "a", 1);
    rd_dyn_digest_add(&d1, "b", 1);
    rd_dyn_digest_add(&d2, "b", 1);
    rd_dyn_digest_add(&d2, "a", 1);
    rd_dyn_digest_add(&d3, "a", 1);
    rd_dyn_digest_add(&d3, "a", 1); /* a duplicate does not cancel out */
    rd_dyn_digest_hex(&d1, h1);
    rd_dyn_digest_hex(&d2, h2);
    rd_dyn_digest_hex(&d3, h3);
    ck_assert_str_eq(h1, h2);
    ck_assert_str_ne(h1, h3);
    ck_assert_int_eq(d1.items, 2);
    ck_assert_uint_eq(strlen(h1), 64);
}
END_TEST

static char dir[64];

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/rd-dyn-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
    char *p = rd_fs_join(dir, name);
    rd_error err;
    ck_assert_int_eq(rd_fs_write_atomic(p, text, strlen(text), 0644, &err), RD_OK);
    free(p);
}

static rd_strlist pk_sk(void)
{
    rd_strlist k = {0};
    rd_strlist_push(&k, "pk", NULL);
    rd_strlist_push(&k, "sk", NULL);
    return k;
}

static void verify(const char *name, rd_dyn_verify *v)
{
    char *p = rd_fs_join(dir, name);
    rd_strlist k = pk_sk();
    rd_error err;
    rd_status st = rd_dyn_verify_point(p, NULL, NULL, &k, dir, 0, v, &err);
    ck_assert_msg(st == RD_OK, "verify %s: %s", name, err.msg);
    rd_strlist_free(&k);
    free(p);
}

START_TEST(scan_findings)
{
    rd_dyn_verify v;
    write_file("ok.json", "{\"Items\": [{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},\n"
                          " {\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"2\"},\"x\":{\"S\":\"}]{\"}}],"
                          " \"Count\": 2}");
    verify("ok.json", &v);
    ck_assert_int_eq(v.kind, RD_DYN_SCAN);
    ck_assert_int_eq(v.items, 2);
    ck_assert_int_eq(v.manifest_items, -1);
    ck_assert_int_eq(v.parse_errors + v.duplicate_keys + v.key_errors, 0);
    ck_assert_int_eq(v.key_type[0], 'S');
    ck_assert_int_eq(v.key_type[1], 'N');
    rd_dyn_verify_free(&v);

    /* "1.0" and "1" are the same number, so the same key */
    write_file("dup.json", "{\"Items\": [{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}},"
                           "{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1.0\"}},"
                           "{\"pk\":{\"S\":\"b\"}},{\"pk\":{\"S\":\"c\"},\"sk\":{\"Q\":\"1\"}}]}");
    verify("dup.json", &v);
    ck_assert_int_eq(v.items, 3);
    ck_assert_int_eq(v.duplicate_keys, 1);
    ck_assert_int_eq(v.key_errors, 1);
    ck_assert_int_eq(v.parse_errors, 1);
    /* missing attributes are found while reading, duplicates when the key runs merge */
    ck_assert_str_eq(v.first_key, "item 3: key attribute \"sk\" is missing");
    ck_assert_msg(strstr(v.findings.data, "item 2: duplicate key pk=S\"a\", sk=N\"1e0\"\n"), "%s",
                  v.findings.data);
    ck_assert_str_eq(v.first_parse, "item 4: attribute \"sk\": unknown type descriptor \"Q\"");
    rd_dyn_verify_free(&v);

    write_file("trunc.json", "{\"Items\": [{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}, {\"pk\":");
    verify("trunc.json", &v);
    ck_assert_int_eq(v.items, 1);
    ck_assert_int_eq(v.parse_errors, 1);
    ck_assert_msg(strstr(v.first_parse, "trunc.json: truncated after item 1") != NULL, "%s",
                  v.first_parse);
    rd_dyn_verify_free(&v);

    write_file("none.json", "{\"Rows\": []}");
    verify("none.json", &v);
    ck_assert_int_eq(v.parse_errors, 1);
    ck_assert_msg(strstr(v.first_parse, "none.json: no \"Items\" array") != NULL, "%s",
                  v.first_parse);
    rd_dyn_verify_free(&v);
}
END_TEST

static void write_gz(const char *name, const char *text, char *md5b64)
{
    char *p = rd_fs_join(dir, name);
    gzFile g = gzopen(p, "wb");
    ck_assert_ptr_nonnull(g);
    gzwrite(g, text, (unsigned)strlen(text));
    gzclose(g);
    char *data = NULL;
    size_t n = 0;
    rd_error err;
    ck_assert_int_eq(rd_fs_read_file(p, 0, &data, &n, &err), RD_OK);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    EVP_Digest(data, n, md, &ml, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)md5b64, md, (int)ml);
    free(data);
    free(p);
}

START_TEST(export_layout)
{
    char md5a[64], md5b[64], buf[2048];
    rd_error err;
    char *data_dir = rd_fs_join(dir, "AWSDynamoDB/X1/data");
    ck_assert_int_eq(rd_fs_mkdir_p(data_dir, 0755, &err), RD_OK);
    free(data_dir);
    write_gz("AWSDynamoDB/X1/data/a.json.gz",
             "{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"1\"}}}\n"
             "{\"Item\":{\"pk\":{\"S\":\"a\"},\"sk\":{\"N\":\"2\"}}}\n",
             md5a);
    write_gz("AWSDynamoDB/X1/data/b.json.gz",
             "{\"Item\":{\"pk\":{\"S\":\"b\"},\"sk\":{\"N\":\"1\"}}}\n{\"Itemz\":{}}\nnot json\n",
             md5b);
    /* full S3 keys, as AWS writes them, resolved against the local copy */
    snprintf(buf, sizeof buf,
             "{\"itemCount\":2,\"md5Checksum\":\"%s\",\"dataFileS3Key\":\"p/q/AWSDynamoDB/X1/data/"
             "a.json.gz\"}\n{\"itemCount\":3,\"md5Checksum\":\"%s\",\"dataFileS3Key\":\"p/q/"
             "AWSDynamoDB/X1/data/b.json.gz\"}\n",
             md5a, "AAAAAAAAAAAAAAAAAAAAAA==");
    write_file("AWSDynamoDB/X1/manifest-files.json", buf);
    write_file("AWSDynamoDB/X1/manifest-summary.json",
               "{\"exportTime\":\"2026-01-30T15:00:00.000Z\",\"itemCount\":4}");
    rd_dyn_verify v;
    verify("AWSDynamoDB/X1", &v);
    ck_assert_int_eq(v.kind, RD_DYN_EXPORT);
    ck_assert_int_eq(v.export_time_ms, 1769785200000LL);
    ck_assert_int_eq(v.manifest_items, 4);
    ck_assert_int_eq(v.items, 3);
    ck_assert_uint_eq(v.files, 2);
    ck_assert_uint_eq(v.files_bad, 1);
    ck_assert_uint_eq(v.parse_errors, 2);
    snprintf(buf, sizeof buf,
             "data/b.json.gz: md5 mismatch: manifest AAAAAAAAAAAAAAAAAAAAAA==, file %s", md5b);
    ck_assert_str_eq(v.first_md5, buf);
    ck_assert_str_eq(v.first_count, "data/b.json.gz: 1 items, manifest-files.json says 3");
    ck_assert_str_eq(v.first_parse, "data/b.json.gz line 2: expected {\"Item\": {...}}");
    rd_dyn_verify_free(&v);

    /* a key that leaves the export is refused */
    write_file("AWSDynamoDB/X1/manifest-files.json",
               "{\"itemCount\":1,\"md5Checksum\":\"x\",\"dataFileS3Key\":\"../../etc/passwd\"}\n");
    char *p = rd_fs_join(dir, "AWSDynamoDB/X1");
    rd_strlist k = pk_sk();
    ck_assert_int_eq(rd_dyn_verify_point(p, NULL, NULL, &k, dir, 0, &v, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "manifest-files.json line 1: no \"dataFileS3Key\" inside the export");
    rd_strlist_free(&k);
    free(p);
}
END_TEST

#define DYN "{\"name\": \"t\", \"engine\": \"dynamodb\", "
#define CAT "\"catalog\": {\"type\": \"dynamodb-export\", \"path\": \"/e\"}"

START_TEST(config)
{
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\", \"sk\"], " CAT "}"), "(loaded)");
    ck_assert_str_eq(
        fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                             ", \"checks\": [{\"type\": \"freshness\", \"max_lag\": \"1h\"}]}"),
        "drill.json: targets[0].checks[0].attribute: required key is missing");
    ck_assert_str_eq(fx_targets_error(DYN
                                      "\"key\": [\"pk\"], " CAT
                                      ", \"checks\": [{\"type\": \"freshness\", \"query\": \"x\", "
                                      "\"attribute\": \"t\"}]}"),
                     "drill.json: targets[0].checks[0].query: unknown key (expected one of: type, "
                     "name, timeout, attribute, max_lag)");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                                          ", \"checks\": [{\"type\": \"sql\", \"query\": \"x\"}, "
                                          "{\"type\": \"integrity\"}, {\"type\": \"diff\"}]}"),
                     "(loaded)");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                                          ", \"reference\": {\"manifest\": \"sidecar\"}}"),
                     "drill.json: targets[0].reference.manifest: not supported for dynamodb");
    ck_assert_str_eq(fx_targets_error(DYN
                                      "\"key\": [\"pk\"], " CAT
                                      ", \"scratch\": {\"type\": \"ephemeral\", \"tcp\": true}}"),
                     "drill.json: targets[0].scratch.tcp: not supported for dynamodb");
    ck_assert_str_eq(
        fx_targets_error(DYN "\"key\": [\"pk\"], \"negative_control\": true, " CAT "}"),
        "drill.json: targets[0].negative_control: not supported for dynamodb (not "
        "implemented yet)");
    ck_assert_str_eq(
        fx_targets_error(DYN "\"key\": [\"pk\"], \"keep_scratch\": \"always\", " CAT "}"),
        "drill.json: targets[0].keep_scratch: not supported for dynamodb (not "
        "implemented yet)");
    ck_assert_str_eq(fx_targets_error(DYN CAT "}"),
                     "drill.json: targets[0].key: expected the table's key attributes, "
                     "[\"partition\"] or [\"partition\", \"sort\"] (required for dynamodb without "
                     "reference.description)");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"a\", \"b\", \"c\"], " CAT "}"),
                     "drill.json: targets[0].key: expected the table's key attributes, "
                     "[\"partition\"] or [\"partition\", \"sort\"], got more than two");
    ck_assert_str_eq(
        fx_targets_error("{\"name\": \"t\", \"engine\": \"s3\", \"scratch\": {\"bucket\": "
                         "\"b\"}, " CAT "}"),
        "drill.json: targets[0].catalog.type: catalog type \"dynamodb-export\" needs "
        "engine \"dynamodb\"\ndrill.json: targets[0].catalog.type: engine s3 needs a "
        "catalog of type \"s3-objects\", got \"dynamodb-export\"");
    ck_assert_str_eq(
        fx_targets_error(DYN
                         "\"key\": [\"pk\"], \"catalog\": {\"type\": \"dir\", \"path\": \"/e\"}}"),
        "drill.json: targets[0].catalog.type: engine dynamodb needs a catalog of type "
        "\"dynamodb-export\", got \"dir\"");
    ck_assert_str_eq(
        fx_targets_error("{\"name\": \"t\", \"engine\": \"postgres\", \"key\": [\"pk\"], "
                         "\"catalog\": {\"type\": \"dir\", \"path\": \"/e\"}}"),
        "drill.json: targets[0].key: only used with engine \"dynamodb\"");
    ck_assert_str_eq(fx_targets_error("{\"name\": \"t\", \"engine\": \"postgres\", " CAT "}"),
                     "drill.json: targets[0].catalog.type: catalog type \"dynamodb-export\" needs "
                     "engine \"dynamodb\"");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\"], \"catalog\": {\"type\": "
                                          "\"dynamodb-export\", \"bucket\": \"b\", \"prefix\": "
                                          "\"exports\", \"endpoint\": \"http://127.0.0.1:9\", "
                                          "\"region\": \"eu-west-1\", \"path_style\": true}}"),
                     "(loaded)");
    ck_assert_str_eq(
        fx_targets_error(DYN "\"key\": [\"pk\"], \"catalog\": {\"type\": "
                             "\"dynamodb-export\", \"bucket\": \"b\", \"path\": \"/e\"}}"),
        "drill.json: targets[0].catalog.path: give either \"path\" or \"bucket\" (exports in "
        "S3), not both");
    ck_assert_str_eq(fx_targets_error(DYN
                                      "\"key\": [\"pk\"], \"catalog\": {\"type\": "
                                      "\"dynamodb-export\", \"path\": \"/e\", \"region\": \"x\"}}"),
                     "drill.json: targets[0].catalog.region: only used with \"bucket\"");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\"], \"catalog\": {\"type\": "
                                          "\"dynamodb-export\"}}"),
                     "drill.json: targets[0].catalog.path: required key is missing (or "
                     "\"bucket\" for exports in S3)");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                                          ", \"checks\": [{\"type\": \"exec\", "
                                          "\"command\": [\"true\"]}]}"),
                     "drill.json: targets[0].checks[0].type: check type \"exec\" does not support "
                     "engine \"dynamodb\"");
    ck_assert_str_eq(fx_targets_error(DYN CAT ", \"reference\": {\"description\": \"/d.json\"}, "
                                              "\"checks\": [{\"type\": \"schema\"}]}"),
                     "(loaded)");
    ck_assert_str_eq(fx_targets_error(DYN CAT ", \"reference\": {\"description\": \"\"}}"),
                     "drill.json: targets[0].reference.description: expected a file path, got "
                     "\"\"");
    ck_assert_str_eq(fx_targets_error("{\"name\": \"t\", \"engine\": \"postgres\", \"catalog\": "
                                      "{\"type\": \"dir\", \"path\": \"/e\"}, \"reference\": "
                                      "{\"description\": \"/d.json\"}}"),
                     "drill.json: targets[0].reference.description: only used with engine "
                     "\"dynamodb\"");
    ck_assert_str_eq(
        fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                             ", \"scratch\": {\"type\": \"server\", \"admin_dsn\": \"x\"}}"),
        "drill.json: targets[0].scratch.admin_dsn: unknown key (expected one of: "
        "type, endpoint, prefix, timeout)");
    ck_assert_str_eq(fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                                          ", \"scratch\": {\"type\": \"server\", \"endpoint\": "
                                          "\"http://127.0.0.1:8000\"}}"),
                     "(loaded)");
    ck_assert_str_eq(fx_targets_error(DYN
                                      "\"key\": [\"pk\"], " CAT
                                      ", \"scratch\": {\"type\": \"exec\", \"create\": [\"x\"], "
                                      "\"destroy\": [\"y\"]}}"),
                     "drill.json: targets[0].scratch.type: scratch type \"exec\" does not support "
                     "engine \"dynamodb\"");
    ck_assert_str_eq(
        fx_targets_error(DYN "\"key\": [\"pk\"], " CAT
                             ", \"checks\": [{\"type\": \"rowcount\", \"tables\": [\"x\"]}]}"),
        "drill.json: targets[0].checks[0].tables: unknown key (expected one of: type, "
        "name, timeout)");
}
END_TEST

Suite *dynamo_suite(void);
Suite *dynamo_suite(void)
{
    Suite *s = suite_create("dynamo");
    TCase *tc = tcase_create("items");
    tcase_add_test(tc, numbers);
    tcase_add_test(tc, items);
    tcase_add_test(tc, digest_order_independent);
    tcase_add_test(tc, config);
    suite_add_tcase(s, tc);
    tc = tcase_create("points");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, scan_findings);
    tcase_add_test(tc, export_layout);
    suite_add_tcase(s, tc);
    return s;
}
