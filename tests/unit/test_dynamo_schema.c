/* test_dynamo_schema.c: table descriptions: loading one (the DescribeTable
 * answer or its Table object; missing key schema, undefined key attribute),
 * the key it gives (HASH first whatever the order), and the differences the
 * schema check lists (key schema, attribute types, indexes present, their
 * keys and projections), each with its exact line. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/dynamo.h"
#include "restoredrill/fs.h"
#include "restoredrill/strbuf.h"
#include "tmpdir_fixture.h"

#define BASE                                                                                       \
    "{\"KeySchema\": [{\"AttributeName\": \"sk\", \"KeyType\": \"RANGE\"}, {\"AttributeName\": "   \
    "\"pk\", \"KeyType\": \"HASH\"}], \"AttributeDefinitions\": [{\"AttributeName\": \"pk\", "     \
    "\"AttributeType\": \"S\"}, {\"AttributeName\": \"sk\", \"AttributeType\": \"N\"}, "           \
    "{\"AttributeName\": \"age\", \"AttributeType\": \"N\"}], \"GlobalSecondaryIndexes\": "        \
    "[{\"IndexName\": \"by_age\", \"KeySchema\": [{\"AttributeName\": \"age\", \"KeyType\": "      \
    "\"HASH\"}], \"Projection\": {\"ProjectionType\": \"INCLUDE\", \"NonKeyAttributes\": "         \
    "[\"b\", \"a\"]}}], \"LocalSecondaryIndexes\": [{\"IndexName\": \"by_pk\", \"KeySchema\": "    \
    "[{\"AttributeName\": \"pk\", \"KeyType\": \"HASH\"}, {\"AttributeName\": \"age\", "           \
    "\"KeyType\": \"RANGE\"}], \"Projection\": {\"ProjectionType\": \"KEYS_ONLY\"}}]}"

static void setup_dir(void)
{
    fx_tmpdir_make("/tmp/rd-dynschema.XXXXXX");
}

static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

START_TEST(load_and_key)
{
    rd_error err;
    cJSON *t = NULL;
    rd_strlist key = {0};
    char types[2];
    /* the DescribeTable answer */
    char *doc = rd_asprintf("{\"Table\": %s}", BASE);
    ck_assert_int_eq(rd_dyn_description_load(write_file("a.json", doc), &t, &err), RD_OK);
    free(doc);
    ck_assert_int_eq(rd_dyn_description_key(t, &key, types, &err), RD_OK);
    ck_assert_uint_eq(key.n, 2);
    ck_assert_str_eq(key.items[0], "pk");
    ck_assert_str_eq(key.items[1], "sk");
    ck_assert_int_eq(types[0], 'S');
    ck_assert_int_eq(types[1], 'N');
    rd_strlist_free(&key);
    cJSON_Delete(t);
    /* the Table object itself */
    ck_assert_int_eq(rd_dyn_description_load(write_file("b.json", BASE), &t, &err), RD_OK);
    cJSON_Delete(t);
    const char *p = write_file("c.json", "{\"Table\": {\"AttributeDefinitions\": []}}");
    ck_assert_int_eq(rd_dyn_description_load(p, &t, &err), RD_ERR_FORMAT);
    char want[256];
    snprintf(want, sizeof want, "%s: no \"KeySchema\" with a HASH key", p);
    ck_assert_str_eq(err.msg, want);
    p = write_file("d.json", "{\"KeySchema\": [{\"AttributeName\": \"id\", \"KeyType\": "
                             "\"HASH\"}], \"AttributeDefinitions\": []}");
    ck_assert_int_eq(rd_dyn_description_load(p, &t, &err), RD_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: key attribute \"id\" is not in \"AttributeDefinitions\"", p);
    ck_assert_str_eq(err.msg, want);
    p = write_file("e.json", "[1, 2]");
    ck_assert_int_eq(rd_dyn_description_load(p, &t, &err), RD_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: not a DescribeTable answer ({\"Table\": {...}})", p);
    ck_assert_str_eq(err.msg, want);
}
END_TEST

/* The differences between BASE and BASE with `from` replaced by `to`. */
static size_t diff_of(const char *from, const char *to, rd_strbuf *out)
{
    cJSON *want = cJSON_Parse(BASE);
    const char *at = strstr(BASE, from);
    ck_assert_ptr_nonnull(at);
    char *text = rd_asprintf("%.*s%s%s", (int)(at - BASE), BASE, to, at + strlen(from));
    cJSON *got = cJSON_Parse(text);
    ck_assert_ptr_nonnull(got);
    rd_strbuf_reset(out);
    size_t n = rd_dyn_schema_diff(want, got, out);
    free(text);
    cJSON_Delete(want);
    cJSON_Delete(got);
    return n;
}

START_TEST(differences)
{
    rd_strbuf b;
    rd_strbuf_init(&b, 0);
    /* the same (NonKeyAttributes in another order) */
    ck_assert_uint_eq(diff_of("[\"b\", \"a\"]", "[\"a\", \"b\"]", &b), 0);
    ck_assert_uint_eq(
        diff_of("\"sk\", \"KeyType\": \"RANGE\"", "\"age\", \"KeyType\": \"RANGE\"", &b), 1);
    ck_assert_str_eq(b.data, "key schema: description pk HASH, sk RANGE, restored pk HASH, age "
                             "RANGE\n");
    ck_assert_uint_eq(
        diff_of("\"sk\", \"AttributeType\": \"N\"", "\"sk\", \"AttributeType\": \"S\"", &b), 1);
    ck_assert_str_eq(b.data, "attribute sk: description N, restored S\n");
    ck_assert_uint_eq(diff_of("{\"AttributeName\": \"age\", \"AttributeType\": \"N\"}",
                              "{\"AttributeName\": \"x\", \"AttributeType\": \"B\"}", &b),
                      2);
    ck_assert_str_eq(b.data, "attribute age: description N, restored (absent)\n"
                             "attribute x: description (absent), restored B\n");
    ck_assert_uint_eq(diff_of("\"INCLUDE\", \"NonKeyAttributes\": [\"b\", \"a\"]", "\"ALL\"", &b),
                      1);
    ck_assert_str_eq(b.data, "global secondary index by_age projection: description INCLUDE [a, "
                             "b], restored ALL\n");
    ck_assert_uint_eq(diff_of("\"by_age\"", "\"by_years\"", &b), 2);
    ck_assert_str_eq(b.data, "global secondary index by_age: description present, restored "
                             "(absent)\nglobal secondary index by_years: description (absent), "
                             "restored present\n");
    ck_assert_uint_eq(
        diff_of("\"age\", \"KeyType\": \"RANGE\"", "\"sk\", \"KeyType\": \"RANGE\"", &b), 1);
    ck_assert_str_eq(b.data, "local secondary index by_pk key: description pk HASH, age RANGE, "
                             "restored pk HASH, sk RANGE\n");
    rd_strbuf_free(&b);
}
END_TEST

Suite *dynamo_schema_suite(void);
Suite *dynamo_schema_suite(void)
{
    Suite *s = suite_create("dynamo_schema");
    TCase *tc = tcase_create("descriptions");
    tcase_add_checked_fixture(tc, setup_dir, fx_tmpdir_remove);
    tcase_add_test(tc, load_and_key);
    tcase_add_test(tc, differences);
    suite_add_tcase(s, tc);
    return s;
}
