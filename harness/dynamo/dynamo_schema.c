/* dynamo_schema.c: table descriptions (the DescribeTable answer captured at
 * backup time): reading one, the key it gives, a table created like it (key
 * schema, attribute definitions, secondary indexes), and the differences
 * between two descriptions that the schema check reports. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamo_int.h"
#include "restoredrill/fs.h"

#define DESCRIPTION_MAX (4u << 20)

static const cJSON *get(const cJSON *o, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static const char *str(const cJSON *o, const char *name)
{
    const cJSON *v = get(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The name of the HASH (role 0) or RANGE (role 1) element of a KeySchema. */
static const char *key_of(const cJSON *schema, int role)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, schema)
    {
        const char *t = str(e, "KeyType");
        if (t && strcmp(t, role ? "RANGE" : "HASH") == 0)
            return str(e, "AttributeName");
    }
    return NULL;
}

static const char *attr_type(const cJSON *table, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, get(table, "AttributeDefinitions"))
    {
        const char *n = str(e, "AttributeName");
        if (n && strcmp(n, name) == 0)
            return str(e, "AttributeType");
    }
    return NULL;
}

rd_status rd_dyn_description_check(const cJSON *table, const char *what, rd_error *err)
{
    const char *h = cJSON_IsObject(table) ? key_of(get(table, "KeySchema"), 0) : NULL;
    const char *r = h ? key_of(get(table, "KeySchema"), 1) : NULL;
    if (!h)
        return RD_ERR(err, RD_ERR_FORMAT, "%s: no \"KeySchema\" with a HASH key", what);
    if (!attr_type(table, h) || (r && !attr_type(table, r)))
        return RD_ERR(err, RD_ERR_FORMAT,
                      "%s: key attribute \"%s\" is not in \"AttributeDefinitions\"", what,
                      attr_type(table, h) ? r : h);
    return RD_OK;
}

rd_status rd_dyn_description_load(const char *path, cJSON **out, rd_error *err)
{
    char *text = NULL;
    size_t n = 0;
    rd_status st = rd_fs_read_file(path, DESCRIPTION_MAX, &text, &n, err);
    if (st != RD_OK)
        return st;
    cJSON *j = cJSON_ParseWithLength(text, n), *table = NULL;
    free(text);
    if (cJSON_IsObject(j) && cJSON_IsObject(get(j, "Table"))) {
        table = cJSON_DetachItemFromObjectCaseSensitive(j, "Table");
        cJSON_Delete(j);
    } else if (cJSON_IsObject(j)) { /* the Table object itself */
        table = j;
    } else {
        cJSON_Delete(j);
        return RD_ERR(err, RD_ERR_FORMAT, "%s: not a DescribeTable answer ({\"Table\": {...}})",
                      path);
    }
    if ((st = rd_dyn_description_check(table, path, err)) != RD_OK) {
        cJSON_Delete(table);
        return st;
    }
    *out = table;
    return RD_OK;
}

rd_status rd_dyn_description_key(const cJSON *table, rd_strlist *key, char key_type[2],
                                 rd_error *err)
{
    rd_strlist k = {0};
    rd_status st = rd_dyn_description_check(table, "the table description", err);
    for (int role = 0; st == RD_OK && role < 2; role++) {
        const char *name = key_of(get(table, "KeySchema"), role);
        if (name) {
            const char *t = attr_type(table, name);
            key_type[role] = t ? t[0] : 0;
            st = rd_strlist_push(&k, name, err);
        } else {
            key_type[role] = 0;
        }
    }
    if (st != RD_OK) {
        rd_strlist_free(&k);
        return st;
    }
    *key = k;
    return RD_OK;
}

static cJSON *dup_key(const cJSON *o, const char *name)
{
    const cJSON *v = get(o, name);
    return v ? cJSON_Duplicate(v, 1) : NULL;
}

/* {IndexName, KeySchema, Projection} of each index in arr. */
static void add_indexes(cJSON *req, const char *name, const cJSON *arr)
{
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return;
    cJSON *out = cJSON_AddArrayToObject(req, name);
    const cJSON *ix;
    cJSON_ArrayForEach(ix, arr)
    {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "IndexName", dup_key(ix, "IndexName"));
        cJSON_AddItemToObject(o, "KeySchema", dup_key(ix, "KeySchema"));
        cJSON_AddItemToObject(o, "Projection", dup_key(ix, "Projection"));
        cJSON_AddItemToArray(out, o);
    }
}

rd_status rd_dyn_create_table_like(rd_dyn_client *c, const char *table, const cJSON *desc,
                                   double deadline, rd_error *err)
{
    rd_status st = rd_dyn_description_check(desc, "the table description", err);
    if (st != RD_OK)
        return st;
    cJSON *req = cJSON_CreateObject();
    if (!req)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    cJSON_AddStringToObject(req, "TableName", table);
    cJSON_AddStringToObject(req, "BillingMode", "PAY_PER_REQUEST");
    cJSON_AddItemToObject(req, "KeySchema", dup_key(desc, "KeySchema"));
    cJSON_AddItemToObject(req, "AttributeDefinitions", dup_key(desc, "AttributeDefinitions"));
    add_indexes(req, "GlobalSecondaryIndexes", get(desc, "GlobalSecondaryIndexes"));
    add_indexes(req, "LocalSecondaryIndexes", get(desc, "LocalSecondaryIndexes"));
    return rd_dyn_create_table_req(c, table, req, deadline, err);
}

rd_status rd_dyn_describe_table(rd_dyn_client *c, const char *table, double timeout, cJSON **out,
                                rd_error *err)
{
    cJSON *name = cJSON_CreateString(table), *resp = NULL;
    char *q = name ? cJSON_PrintUnformatted(name) : NULL;
    char *body = q ? rd_asprintf("{\"TableName\":%s}", q) : NULL;
    cJSON_Delete(name);
    cJSON_free(q);
    if (!body)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_dyn_call(c, "DescribeTable", body, timeout, &resp, err);
    free(body);
    cJSON *t = st == RD_OK ? cJSON_DetachItemFromObjectCaseSensitive(resp, "Table") : NULL;
    cJSON_Delete(resp);
    if (st == RD_OK && !cJSON_IsObject(t))
        st = RD_ERR(err, RD_ERR_FORMAT, "dynamodb DescribeTable: no \"Table\" in the answer");
    if (st != RD_OK) {
        cJSON_Delete(t);
        return st;
    }
    *out = t;
    return RD_OK;
}

/* --- differences --- */

/* "pk HASH, sk RANGE" */
static void key_text(const cJSON *schema, rd_strbuf *b)
{
    rd_error e;
    for (int role = 0; role < 2; role++) {
        const char *n = key_of(schema, role);
        if (n)
            (void)rd_strbuf_appendf(b, &e, "%s%s %s", role && b->len ? ", " : "", n,
                                    role ? "RANGE" : "HASH");
    }
    if (!b->len)
        (void)rd_strbuf_append(b, "(none)", &e);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "ALL", "KEYS_ONLY", "INCLUDE [a, b]" (the attributes sorted) */
static void projection_text(const cJSON *p, rd_strbuf *b)
{
    rd_error e;
    const char *t = str(p, "ProjectionType");
    (void)rd_strbuf_append(b, t ? t : "(none)", &e);
    const cJSON *na = get(p, "NonKeyAttributes");
    int n = cJSON_IsArray(na) ? cJSON_GetArraySize(na) : 0;
    if (n <= 0)
        return;
    const char **names = calloc((size_t)n, sizeof *names);
    if (!names)
        return;
    int k = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, na) names[k++] = cJSON_IsString(x) ? x->valuestring : "";
    qsort(names, (size_t)n, sizeof *names, name_cmp);
    (void)rd_strbuf_append(b, " [", &e);
    for (int i = 0; i < n; i++)
        (void)rd_strbuf_appendf(b, &e, "%s%s", i ? ", " : "", names[i]);
    (void)rd_strbuf_append(b, "]", &e);
    free(names);
}

static const cJSON *find_index(const cJSON *arr, const char *name)
{
    const cJSON *ix;
    cJSON_ArrayForEach(ix, arr)
    {
        const char *n = str(ix, "IndexName");
        if (n && strcmp(n, name) == 0)
            return ix;
    }
    return NULL;
}

typedef struct differ {
    rd_strbuf *out;
    size_t n;
} differ;

static void diff_line(differ *d, const char *what, const char *want, const char *got)
{
    rd_error e;
    (void)rd_strbuf_appendf(d->out, &e, "%s: description %s, restored %s\n", what, want, got);
    d->n++;
}

static void diff_attrs(differ *d, const cJSON *want, const cJSON *got)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, get(want, "AttributeDefinitions"))
    {
        const char *n = str(e, "AttributeName"), *t = str(e, "AttributeType");
        const char *g = n ? attr_type(got, n) : NULL;
        char what[300];
        snprintf(what, sizeof what, "attribute %s", n ? n : "?");
        if (!g || !t || strcmp(g, t) != 0)
            diff_line(d, what, t ? t : "?", g ? g : "(absent)");
    }
    cJSON_ArrayForEach(e, get(got, "AttributeDefinitions"))
    {
        const char *n = str(e, "AttributeName"), *t = str(e, "AttributeType");
        char what[300];
        snprintf(what, sizeof what, "attribute %s", n ? n : "?");
        if (n && !attr_type(want, n))
            diff_line(d, what, "(absent)", t ? t : "?");
    }
}

static void diff_indexes(differ *d, const char *kind, const cJSON *want, const cJSON *got)
{
    const cJSON *ix;
    rd_strbuf a, b;
    rd_strbuf_init(&a, 0);
    rd_strbuf_init(&b, 0);
    cJSON_ArrayForEach(ix, want)
    {
        const char *n = str(ix, "IndexName");
        const cJSON *g = n ? find_index(got, n) : NULL;
        char what[300];
        snprintf(what, sizeof what, "%s %s", kind, n ? n : "?");
        if (!g) {
            diff_line(d, what, "present", "(absent)");
            continue;
        }
        rd_strbuf_reset(&a);
        rd_strbuf_reset(&b);
        key_text(get(ix, "KeySchema"), &a);
        key_text(get(g, "KeySchema"), &b);
        if (strcmp(a.data, b.data) != 0) {
            char w2[320];
            snprintf(w2, sizeof w2, "%s key", what);
            diff_line(d, w2, a.data, b.data);
        }
        rd_strbuf_reset(&a);
        rd_strbuf_reset(&b);
        projection_text(get(ix, "Projection"), &a);
        projection_text(get(g, "Projection"), &b);
        if (strcmp(a.data, b.data) != 0) {
            char w2[320];
            snprintf(w2, sizeof w2, "%s projection", what);
            diff_line(d, w2, a.data, b.data);
        }
    }
    cJSON_ArrayForEach(ix, got)
    {
        const char *n = str(ix, "IndexName");
        char what[300];
        snprintf(what, sizeof what, "%s %s", kind, n ? n : "?");
        if (n && !find_index(want, n))
            diff_line(d, what, "(absent)", "present");
    }
    rd_strbuf_free(&a);
    rd_strbuf_free(&b);
}

size_t rd_dyn_schema_diff(const cJSON *want, const cJSON *got, rd_strbuf *out)
{
    differ d = {out, 0};
    rd_strbuf a, b;
    rd_strbuf_init(&a, 0);
    rd_strbuf_init(&b, 0);
    key_text(get(want, "KeySchema"), &a);
    key_text(get(got, "KeySchema"), &b);
    if (strcmp(a.data, b.data) != 0)
        diff_line(&d, "key schema", a.data, b.data);
    rd_strbuf_free(&a);
    rd_strbuf_free(&b);
    diff_attrs(&d, want, got);
    diff_indexes(&d, "global secondary index", get(want, "GlobalSecondaryIndexes"),
                 get(got, "GlobalSecondaryIndexes"));
    diff_indexes(&d, "local secondary index", get(want, "LocalSecondaryIndexes"),
                 get(got, "LocalSecondaryIndexes"));
    return d.n;
}
