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
    for (size_t i = 0; m->sections && i < m->nsections; i++) {
        free(m->sections[i].database);
        free(m->sections[i].sha256);
    }
    free(m->sections);
    for (size_t i = 0; m->databases && i < m->ndatabases; i++)
        rd_manifest_free(m->databases[i]);
    free(m->databases);
    free(m);
}

rd_status rd_manifest_check_sections(const rd_manifest_section *s, size_t n, int64_t bytes,
                                     const char *file, rd_error *err)
{
    int64_t at = 0;
    if (n == 0)
        return RD_OK;
    if (bytes < 0)
        return RD_ERR(err, RD_ERR_FORMAT,
                      "manifest %s: artifact.sections without artifact.bytes (the stored size)",
                      file);
    for (size_t i = 0; i < n; i++) {
        if (s[i].offset != at)
            return RD_ERR(err, RD_ERR_FORMAT,
                          "manifest %s: artifact.sections[%zu].offset is %lld, expected %lld (the "
                          "pieces must cover the file in order, without gap or overlap)",
                          file, i, (long long)s[i].offset, (long long)at);
        if (s[i].length <= 0)
            return RD_ERR(err, RD_ERR_FORMAT,
                          "manifest %s: artifact.sections[%zu].length is %lld, expected a "
                          "positive integer",
                          file, i, (long long)s[i].length);
        at += s[i].length;
    }
    if (at != bytes)
        return RD_ERR(err, RD_ERR_FORMAT,
                      "manifest %s: artifact.sections end at byte %lld, the file has %lld bytes "
                      "(artifact.bytes)",
                      file, (long long)at, (long long)bytes);
    return RD_OK;
}

rd_status rd_manifest_add_section(rd_manifest *m, const char *database, int64_t offset,
                                  int64_t length, const char *sha256, rd_error *err)
{
    rd_manifest_section *v = realloc(m->sections, (m->nsections + 1) * sizeof *v);
    if (!v)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    m->sections = v;
    rd_manifest_section *s = &v[m->nsections];
    memset(s, 0, sizeof *s);
    s->offset = offset;
    s->length = length;
    if ((database && !(s->database = rd_strdup(database))) ||
        (sha256 && !(s->sha256 = rd_strdup(sha256)))) {
        free(s->database);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    m->nsections++;
    return RD_OK;
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
