/* manifest_build.c: the pieces the engines' catalog readers
 * (manifest_pg.c, manifest_mariadb.c) fill a manifest with: tables, columns,
 * keys, named objects, sequences, and the parsing of the values they read. */
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/manifest.h"

static int table_cmp(const void *a, const void *b)
{
    const rd_manifest_table *x = a, *y = b;
    int c = strcmp(x->schema ? x->schema : "", y->schema ? y->schema : "");
    return c ? c : strcmp(x->name, y->name);
}

rd_manifest_table *rd_capture_table(rd_manifest *m, const char *schema, const char *name)
{
    if (!name)
        return NULL;
    rd_manifest_table key = {0};
    key.schema = (char *)(uintptr_t)(schema ? schema : "");
    key.name = (char *)(uintptr_t)name;
    return bsearch(&key, m->tables, m->ntables, sizeof *m->tables, table_cmp);
}

static rd_status nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory capturing the manifest");
}

static void *grow(void *arr, size_t n, size_t size)
{
    return realloc(arr, (n + 1) * size);
}

rd_status rd_capture_add_table(rd_manifest *m, const char *schema, const char *name, rd_error *err)
{
    rd_manifest_table *t = grow(m->tables, m->ntables, sizeof *t);
    if (!t)
        return nomem(err);
    m->tables = t;
    t = &m->tables[m->ntables];
    memset(t, 0, sizeof *t);
    t->rows = -1;
    t->schema = rd_strdup(schema ? schema : "");
    t->name = rd_strdup(name);
    m->ntables++;
    if (!t->schema || !t->name)
        return nomem(err);
    return RD_OK;
}

void rd_capture_sort_tables(rd_manifest *m)
{
    if (m->ntables > 1)
        qsort(m->tables, m->ntables, sizeof *m->tables, table_cmp);
}

rd_status rd_capture_add_column(rd_manifest_table *t, const char *name, const char *type,
                                int nullable, rd_error *err)
{
    rd_manifest_column *c = grow(t->columns, t->ncolumns, sizeof *c);
    if (!c)
        return nomem(err);
    t->columns = c;
    c = &t->columns[t->ncolumns++];
    c->name = rd_strdup(name);
    c->type = rd_strdup(type ? type : "");
    c->nullable = nullable;
    return c->name && c->type ? RD_OK : nomem(err);
}

rd_status rd_capture_add_pk(rd_manifest_table *t, const char *col, rd_error *err)
{
    char **v = grow(t->primary_key, t->npk, sizeof *v);
    if (!v)
        return nomem(err);
    t->primary_key = v;
    v[t->npk] = rd_strdup(col);
    return v[t->npk++] ? RD_OK : nomem(err);
}

rd_status rd_capture_add_named(rd_manifest_named **arr, size_t *n, const char *name,
                               const char *kind, const char *definition, rd_error *err)
{
    rd_manifest_named *v = grow(*arr, *n, sizeof *v);
    if (!v)
        return nomem(err);
    *arr = v;
    v = &v[(*n)++];
    v->name = rd_strdup(name);
    v->kind = rd_strdup(kind);
    v->definition = rd_strdup(definition);
    if (!v->name || (kind && !v->kind) || (definition && !v->definition))
        return nomem(err);
    return RD_OK;
}

rd_status rd_capture_add_str(char ***arr, size_t *n, const char *s, rd_error *err)
{
    char **v = grow(*arr, *n, sizeof *v);
    if (!v)
        return nomem(err);
    *arr = v;
    v[*n] = rd_strdup(s);
    return v[(*n)++] ? RD_OK : nomem(err);
}

rd_status rd_capture_add_sequence(rd_manifest *m, const char *schema, const char *name,
                                  int64_t value, rd_error *err)
{
    rd_manifest_sequence *v = grow(m->sequences, m->nsequences, sizeof *v);
    if (!v)
        return nomem(err);
    m->sequences = v;
    v = &v[m->nsequences++];
    v->schema = rd_strdup(schema ? schema : "");
    v->name = rd_strdup(name);
    v->value = value;
    return v->schema && v->name ? RD_OK : nomem(err);
}

rd_status rd_capture_parse_int(const char *s, int64_t *out, rd_error *err)
{
    char *end = NULL;
    if (!s || !*s)
        return RD_ERR(err, RD_ERR_FORMAT, "expected an integer from the server, got NULL");
    long long v = strtoll(s, &end, 10);
    if (*end)
        return RD_ERR(err, RD_ERR_FORMAT, "expected an integer from the server, got \"%s\"", s);
    *out = v;
    return RD_OK;
}

rd_status rd_capture_parse_time(const char *s, int64_t *out, rd_error *err)
{
    /* MariaDB DATETIME/TIMESTAMP text has no offset; the session is UTC */
    if (rd_time_parse_utc(s, out, NULL) != RD_OK)
        return RD_ERR(err, RD_ERR_FORMAT, "\"%s\" is not a timestamp", s);
    return RD_OK;
}
