/* manifest.c: the in-memory manifest: free, lookup, sidecar path. Capture
 * lives in manifest_capture.c, the JSON file format in manifest_json.c. */
#include "restoredrill/manifest.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"

static void free_named(rd_manifest_named *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].definition);
        free(v[i].kind);
    }
    free(v);
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void rd_manifest_table_clear(rd_manifest_table *t)
{
    if (!t)
        return;
    free(t->schema);
    free(t->name);
    for (size_t i = 0; t->columns && i < t->ncolumns; i++) {
        free(t->columns[i].name);
        free(t->columns[i].type);
    }
    free(t->columns);
    free_strv(t->primary_key, t->npk);
    free_named(t->indexes, t->nindexes);
    free_named(t->constraints, t->nconstraints);
    cJSON_Delete(t->checksum);
    memset(t, 0, sizeof *t);
}

void rd_manifest_free(rd_manifest *m)
{
    if (!m)
        return;
    free(m->tool);
    free(m->server_version);
    free(m->database);
    free(m->snapshot);
    free(m->artifact_file);
    free(m->artifact_sha256);
    free(m->artifact_format);
    free_named(m->extensions, m->nextensions);
    free(m->freshness_query);
    for (size_t i = 0; m->tables && i < m->ntables; i++)
        rd_manifest_table_clear(&m->tables[i]);
    free(m->tables);
    for (size_t i = 0; m->sequences && i < m->nsequences; i++) {
        free(m->sequences[i].schema);
        free(m->sequences[i].name);
    }
    free(m->sequences);
    free_strv(m->views, m->nviews);
    free_strv(m->routines, m->nroutines);
    free_strv(m->triggers, m->ntriggers);
    for (size_t i = 0; m->databases && i < m->ndatabases; i++)
        rd_manifest_free(m->databases[i]);
    free(m->databases);
    free(m);
}

const rd_manifest *rd_manifest_find_database(const rd_manifest *m, const char *name)
{
    for (size_t i = 0; m && name && i < m->ndatabases; i++)
        if (m->databases[i]->database && strcmp(m->databases[i]->database, name) == 0)
            return m->databases[i];
    return NULL;
}

rd_manifest *rd_manifest_new(rd_engine engine)
{
    rd_manifest *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->version = RD_MANIFEST_VERSION;
    m->engine = engine;
    m->artifact_bytes = -1;
    return m;
}

static int str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

const rd_manifest_table *rd_manifest_find_table(const rd_manifest *m, const char *schema,
                                                const char *name)
{
    if (!m || !name)
        return NULL;
    for (size_t i = 0; i < m->ntables; i++) {
        const rd_manifest_table *t = &m->tables[i];
        if (strcmp(t->name, name) != 0)
            continue;
        /* schema NULL or "" matches any schema (MariaDB restores into a
         * database of another name) */
        if (!schema || !*schema || str_eq(t->schema, schema))
            return t;
    }
    return NULL;
}

char *rd_manifest_sidecar_path(const char *artifact_location)
{
    if (!artifact_location)
        return NULL;
    size_t n = strlen(artifact_location);
    /* a directory-format dump given with a trailing slash */
    while (n > 1 && artifact_location[n - 1] == '/')
        n--;
    return rd_asprintf("%.*s.manifest.json", (int)n, artifact_location);
}

int rd_manifest_major(rd_engine engine, const char *version)
{
    if (!version)
        return -1;
    char *end = NULL;
    long major = strtol(version, &end, 10);
    if (end == version || major < 0 || major > 100000)
        return -1;
    if (engine == RD_ENGINE_MARIADB) {
        if (*end != '.')
            return (int)(major * 100);
        const char *p = end + 1;
        long minor = strtol(p, &end, 10);
        if (end == p || minor < 0 || minor > 99)
            return (int)(major * 100);
        return (int)(major * 100 + minor);
    }
    return (int)major;
}
