/* manifest_json.c: save and load <artifact>.manifest.json (format in
 * manifest.h). Saving is atomic (temp file + rename). Loading is strict about
 * the types of the fields it knows and names the file and the field of the
 * first problem; unknown fields are ignored, so a newer manifest loads as far
 * as this tool understands it. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"

#define MANIFEST_MAX_BYTES ((size_t)512 * 1024 * 1024)

/* ---------- save ---------- */

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *time_or_null(int64_t ms)
{
    char buf[RD_TIME_BUFSZ];
    return ms ? cJSON_CreateString(rd_time_format(ms, buf, sizeof buf)) : cJSON_CreateNull();
}

static cJSON *strv_json(char **v, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(v[i]));
    return a;
}

static cJSON *named_json(const rd_manifest_named *v, size_t n, int with_kind, const char *defkey)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(a, o);
        cJSON_AddStringToObject(o, "name", v[i].name);
        if (with_kind)
            cJSON_AddItemToObject(o, "type", str_or_null(v[i].kind));
        cJSON_AddItemToObject(o, defkey, str_or_null(v[i].definition));
    }
    return a;
}

static cJSON *table_json(const rd_manifest_table *t)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "schema", t->schema ? t->schema : "");
    cJSON_AddStringToObject(o, "name", t->name);
    if (t->rows >= 0)
        cJSON_AddNumberToObject(o, "rows", (double)t->rows);
    else
        cJSON_AddNullToObject(o, "rows");
    cJSON *cols = cJSON_AddArrayToObject(o, "columns");
    for (size_t i = 0; cols && i < t->ncolumns; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(cols, c);
        cJSON_AddStringToObject(c, "name", t->columns[i].name);
        cJSON_AddStringToObject(c, "type", t->columns[i].type);
        cJSON_AddBoolToObject(c, "nullable", t->columns[i].nullable);
    }
    cJSON_AddItemToObject(o, "primary_key", strv_json(t->primary_key, t->npk));
    cJSON_AddItemToObject(o, "indexes", named_json(t->indexes, t->nindexes, 0, "definition"));
    cJSON_AddItemToObject(o, "constraints",
                          named_json(t->constraints, t->nconstraints, 1, "definition"));
    if (t->checksum)
        cJSON_AddItemToObject(o, "checksum", cJSON_Duplicate(t->checksum, 1));
    else
        cJSON_AddNullToObject(o, "checksum");
    return o;
}

static cJSON *manifest_json(const rd_manifest *m)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddNumberToObject(root, "version", RD_MANIFEST_VERSION);
    cJSON_AddItemToObject(root, "tool", str_or_null(m->tool));
    cJSON_AddStringToObject(root, "engine", rd_engine_name(m->engine));
    cJSON_AddItemToObject(root, "captured_at", time_or_null(m->captured_at_ms));
    cJSON_AddItemToObject(root, "server_version", str_or_null(m->server_version));
    cJSON_AddItemToObject(root, "database", str_or_null(m->database));
    cJSON_AddItemToObject(root, "snapshot", str_or_null(m->snapshot));
    if (m->artifact_file) {
        cJSON *a = cJSON_AddObjectToObject(root, "artifact");
        cJSON_AddStringToObject(a, "file", m->artifact_file);
        if (m->artifact_bytes >= 0)
            cJSON_AddNumberToObject(a, "bytes", (double)m->artifact_bytes);
        else
            cJSON_AddNullToObject(a, "bytes");
        cJSON_AddItemToObject(a, "sha256", str_or_null(m->artifact_sha256));
        cJSON_AddItemToObject(a, "format", str_or_null(m->artifact_format));
        if (m->nsections) {
            cJSON *secs = cJSON_AddArrayToObject(a, "sections");
            for (size_t i = 0; secs && i < m->nsections; i++) {
                const rd_manifest_section *sc = &m->sections[i];
                cJSON *o = cJSON_CreateObject();
                if (!o || !cJSON_AddItemToArray(secs, o)) {
                    cJSON_Delete(o);
                    cJSON_Delete(root);
                    return NULL;
                }
                cJSON_AddItemToObject(o, "database", str_or_null(sc->database));
                cJSON_AddNumberToObject(o, "offset", (double)sc->offset);
                cJSON_AddNumberToObject(o, "length", (double)sc->length);
                cJSON_AddItemToObject(o, "sha256", str_or_null(sc->sha256));
            }
        }
    } else {
        cJSON_AddNullToObject(root, "artifact");
    }
    cJSON_AddItemToObject(root, "extensions",
                          named_json(m->extensions, m->nextensions, 0, "version"));
    if (m->freshness_query) {
        cJSON *f = cJSON_AddObjectToObject(root, "freshness");
        cJSON_AddStringToObject(f, "query", m->freshness_query);
        cJSON_AddItemToObject(f, "value", time_or_null(m->freshness_ms));
    } else {
        cJSON_AddNullToObject(root, "freshness");
    }
    cJSON_AddItemToObject(root, "heartbeat", time_or_null(m->heartbeat_ms));
    cJSON *tables = cJSON_AddArrayToObject(root, "tables");
    for (size_t i = 0; tables && i < m->ntables; i++)
        cJSON_AddItemToArray(tables, table_json(&m->tables[i]));
    cJSON *seqs = cJSON_AddArrayToObject(root, "sequences");
    for (size_t i = 0; seqs && i < m->nsequences; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddItemToArray(seqs, s);
        cJSON_AddStringToObject(s, "schema", m->sequences[i].schema ? m->sequences[i].schema : "");
        cJSON_AddStringToObject(s, "name", m->sequences[i].name);
        cJSON_AddNumberToObject(s, "value", (double)m->sequences[i].value);
    }
    cJSON_AddItemToObject(root, "views", strv_json(m->views, m->nviews));
    cJSON_AddItemToObject(root, "routines", strv_json(m->routines, m->nroutines));
    cJSON_AddItemToObject(root, "triggers", strv_json(m->triggers, m->ntriggers));
    if (m->ndatabases) {
        cJSON *dbs = cJSON_AddArrayToObject(root, "databases");
        for (size_t i = 0; dbs && i < m->ndatabases; i++) {
            cJSON *d = manifest_json(m->databases[i]);
            if (!d || !cJSON_AddItemToArray(dbs, d)) {
                cJSON_Delete(d);
                cJSON_Delete(root);
                return NULL;
            }
        }
    }
    return root;
}

char *rd_manifest_render(const rd_manifest *m)
{
    cJSON *root = manifest_json(m);
    char *text = root ? cJSON_Print(root) : NULL;
    char *out = text ? rd_asprintf("%s\n", text) : NULL;
    free(text);
    cJSON_Delete(root);
    return out;
}

rd_status rd_manifest_save(const rd_manifest *m, const char *path, rd_error *err)
{
    char *text = rd_manifest_render(m);
    if (!text)
        return RD_ERR(err, RD_ERR_NOMEM, "cannot build manifest %s", path);
    rd_status st = rd_fs_write_atomic(path, text, strlen(text), 0644, err);
    free(text);
    return st;
}

/* ---------- load ---------- */

typedef struct loader {
    const char *file;
    rd_error *err;
} loader;

static rd_status bad(loader *ld, const char *field, const char *expected)
{
    return RD_ERR(ld->err, RD_ERR_FORMAT, "manifest %s: %s: expected %s", ld->file, field,
                  expected);
}

/* Optional string: absent or null leaves *out NULL. */
static rd_status get_str(loader *ld, const cJSON *obj, const char *key, const char *field,
                         int required, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return bad(ld, field, "a string");
        return RD_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring)
        return bad(ld, field, "a string");
    *out = rd_strdup(v->valuestring);
    if (!*out)
        return RD_ERR(ld->err, RD_ERR_NOMEM, "out of memory reading manifest %s", ld->file);
    return RD_OK;
}

/* Optional integer: absent or null leaves *out untouched. */
static rd_status get_int(loader *ld, const cJSON *obj, const char *key, const char *field,
                         int required, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return bad(ld, field, "an integer");
        return RD_OK;
    }
    double d = v->valuedouble;
    if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > 9007199254740992.0)
        return bad(ld, field, "an integer");
    *out = (int64_t)d;
    return RD_OK;
}

static rd_status get_time(loader *ld, const cJSON *obj, const char *key, const char *field,
                          int64_t *out)
{
    char *s = NULL;
    rd_status st = get_str(ld, obj, key, field, 0, &s);
    if (st != RD_OK || !s)
        return st;
    int64_t ms = 0;
    if (rd_time_parse(s, &ms, NULL) != RD_OK)
        st = bad(ld, field, "an RFC 3339 time like \"2026-01-30T15:00:00Z\"");
    else
        *out = ms;
    free(s);
    return st;
}

static const cJSON *get_array(loader *ld, const cJSON *obj, const char *key, const char *field,
                              rd_status *st)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v || cJSON_IsNull(v))
        return NULL;
    if (!cJSON_IsArray(v)) {
        *st = bad(ld, field, "an array");
        return NULL;
    }
    return v;
}

/* The array obj[key] (as get_array) into *arr, and calloc'd room for its
 * elements of `size` bytes into *room (NULL when it has none). */
static rd_status get_array_room(loader *ld, const cJSON *obj, const char *key, const char *field,
                                size_t size, const cJSON **arr, void **room)
{
    rd_status st = RD_OK;
    *room = NULL;
    *arr = get_array(ld, obj, key, field, &st);
    size_t n = *arr ? (size_t)cJSON_GetArraySize(*arr) : 0;
    if (st == RD_OK && n && !(*room = calloc(n, size)))
        st = RD_ERR(ld->err, RD_ERR_NOMEM, "out of memory reading manifest %s", ld->file);
    return st;
}

static rd_status load_strv(loader *ld, const cJSON *obj, const char *key, const char *prefix,
                           char ***out, size_t *n)
{
    char field[256];
    rd_status st = RD_OK;
    snprintf(field, sizeof field, "%s%s", prefix, key);
    const cJSON *a;
    void *room;
    if ((st = get_array_room(ld, obj, key, field, sizeof(char *), &a, &room)) != RD_OK || !room)
        return st;
    char **v = room;
    *out = v;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        if (!cJSON_IsString(it) || !it->valuestring) {
            snprintf(field, sizeof field, "%s%s[%zu]", prefix, key, i);
            return bad(ld, field, "a string");
        }
        v[i] = rd_strdup(it->valuestring);
        if (!v[i])
            return RD_ERR(ld->err, RD_ERR_NOMEM, "out of memory reading manifest %s", ld->file);
        *n = ++i;
    }
    return RD_OK;
}

static rd_status load_named(loader *ld, const cJSON *obj, const char *key, const char *prefix,
                            int with_kind, const char *defkey, rd_manifest_named **out, size_t *n)
{
    char field[256];
    rd_status st = RD_OK;
    snprintf(field, sizeof field, "%s%s", prefix, key);
    const cJSON *a;
    void *room;
    if ((st = get_array_room(ld, obj, key, field, sizeof(rd_manifest_named), &a, &room)) != RD_OK ||
        !room)
        return st;
    rd_manifest_named *v = room;
    *out = v;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, a)
    {
        char f[300];
        *n = i + 1;
        if (!cJSON_IsObject(it)) {
            snprintf(f, sizeof f, "%s[%zu]", field, i);
            return bad(ld, f, "an object");
        }
        snprintf(f, sizeof f, "%s[%zu].name", field, i);
        if ((st = get_str(ld, it, "name", f, 1, &v[i].name)) != RD_OK)
            return st;
        snprintf(f, sizeof f, "%s[%zu].%s", field, i, defkey);
        if ((st = get_str(ld, it, defkey, f, 0, &v[i].definition)) != RD_OK)
            return st;
        if (with_kind) {
            snprintf(f, sizeof f, "%s[%zu].type", field, i);
            if ((st = get_str(ld, it, "type", f, 0, &v[i].kind)) != RD_OK)
                return st;
        }
        i++;
    }
    return RD_OK;
}

static rd_status load_table(loader *ld, const cJSON *o, size_t idx, rd_manifest_table *t)
{
    char p[64], f[128];
    rd_status st;
    snprintf(p, sizeof p, "tables[%zu].", idx);
    if (!cJSON_IsObject(o)) {
        snprintf(f, sizeof f, "tables[%zu]", idx);
        return bad(ld, f, "an object");
    }
    t->rows = -1;
    snprintf(f, sizeof f, "%sschema", p);
    if ((st = get_str(ld, o, "schema", f, 0, &t->schema)) != RD_OK)
        return st;
    snprintf(f, sizeof f, "%sname", p);
    if ((st = get_str(ld, o, "name", f, 1, &t->name)) != RD_OK)
        return st;
    snprintf(f, sizeof f, "%srows", p);
    if ((st = get_int(ld, o, "rows", f, 0, &t->rows)) != RD_OK)
        return st;
    snprintf(f, sizeof f, "%scolumns", p);
    const cJSON *cols;
    void *room;
    if ((st = get_array_room(ld, o, "columns", f, sizeof *t->columns, &cols, &room)) != RD_OK)
        return st;
    t->columns = room;
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cols)
    {
        t->ncolumns = i + 1;
        if (!cJSON_IsObject(c)) {
            snprintf(f, sizeof f, "%scolumns[%zu]", p, i);
            return bad(ld, f, "an object");
        }
        snprintf(f, sizeof f, "%scolumns[%zu].name", p, i);
        if ((st = get_str(ld, c, "name", f, 1, &t->columns[i].name)) != RD_OK)
            return st;
        snprintf(f, sizeof f, "%scolumns[%zu].type", p, i);
        if ((st = get_str(ld, c, "type", f, 1, &t->columns[i].type)) != RD_OK)
            return st;
        const cJSON *nb = cJSON_GetObjectItemCaseSensitive(c, "nullable");
        if (nb && !cJSON_IsBool(nb)) {
            snprintf(f, sizeof f, "%scolumns[%zu].nullable", p, i);
            return bad(ld, f, "true or false");
        }
        t->columns[i].nullable = nb ? cJSON_IsTrue(nb) : 1;
        i++;
    }
    if ((st = load_strv(ld, o, "primary_key", p, &t->primary_key, &t->npk)) != RD_OK)
        return st;
    if ((st = load_named(ld, o, "indexes", p, 0, "definition", &t->indexes, &t->nindexes)) != RD_OK)
        return st;
    if ((st = load_named(ld, o, "constraints", p, 1, "definition", &t->constraints,
                         &t->nconstraints)) != RD_OK)
        return st;
    const cJSON *ck = cJSON_GetObjectItemCaseSensitive(o, "checksum");
    if (ck && !cJSON_IsNull(ck)) {
        if (!cJSON_IsObject(ck)) {
            snprintf(f, sizeof f, "%schecksum", p);
            return bad(ld, f, "an object or null");
        }
        t->checksum = cJSON_Duplicate(ck, 1);
        if (!t->checksum)
            return RD_ERR(ld->err, RD_ERR_NOMEM, "out of memory reading manifest %s", ld->file);
    }
    return RD_OK;
}

static rd_status load_sequence(loader *ld, const cJSON *o, size_t idx, rd_manifest_sequence *q)
{
    char fld[96];
    rd_status st;
    if (!cJSON_IsObject(o)) {
        snprintf(fld, sizeof fld, "sequences[%zu]", idx);
        return bad(ld, fld, "an object");
    }
    snprintf(fld, sizeof fld, "sequences[%zu].schema", idx);
    if ((st = get_str(ld, o, "schema", fld, 0, &q->schema)) != RD_OK)
        return st;
    snprintf(fld, sizeof fld, "sequences[%zu].name", idx);
    if ((st = get_str(ld, o, "name", fld, 1, &q->name)) != RD_OK)
        return st;
    snprintf(fld, sizeof fld, "sequences[%zu].value", idx);
    return get_int(ld, o, "value", fld, 1, &q->value);
}

/* artifact.sections: every piece with its offset, length and sha256, and
 * together they must tile the file. */
static rd_status load_sections(loader *ld, const cJSON *a, rd_manifest *m)
{
    rd_status st = RD_OK;
    const cJSON *secs = get_array(ld, a, "sections", "artifact.sections", &st);
    if (st != RD_OK || !secs)
        return st;
    const cJSON *o;
    size_t i = 0;
    cJSON_ArrayForEach(o, secs)
    {
        char fld[64];
        char *db = NULL, *sha = NULL;
        int64_t off = -1, len = -1;
        snprintf(fld, sizeof fld, "artifact.sections[%zu]", i);
        if (!cJSON_IsObject(o))
            return bad(ld, fld, "an object");
        snprintf(fld, sizeof fld, "artifact.sections[%zu].database", i);
        st = get_str(ld, o, "database", fld, 0, &db);
        snprintf(fld, sizeof fld, "artifact.sections[%zu].offset", i);
        if (st == RD_OK)
            st = get_int(ld, o, "offset", fld, 1, &off);
        snprintf(fld, sizeof fld, "artifact.sections[%zu].length", i);
        if (st == RD_OK)
            st = get_int(ld, o, "length", fld, 1, &len);
        snprintf(fld, sizeof fld, "artifact.sections[%zu].sha256", i);
        if (st == RD_OK)
            st = get_str(ld, o, "sha256", fld, 1, &sha);
        if (st == RD_OK && strlen(sha) != RD_SHA256_HEX_LEN)
            st = bad(ld, fld, "64 hex digits");
        if (st == RD_OK)
            st = rd_manifest_add_section(m, db, off, len, sha, ld->err);
        free(db);
        free(sha);
        if (st != RD_OK)
            return st;
        i++;
    }
    return rd_manifest_check_sections(m->sections, m->nsections, m->artifact_bytes, ld->file,
                                      ld->err);
}

static rd_status load_root(loader *ld, const cJSON *root, rd_manifest *m)
{
    rd_status st;
    if (!cJSON_IsObject(root))
        return bad(ld, "top level", "an object");
    int64_t version = 0;
    if ((st = get_int(ld, root, "version", "version", 1, &version)) != RD_OK)
        return st;
    if (version < 1)
        return bad(ld, "version", "a positive integer");
    if (version > RD_MANIFEST_VERSION)
        rd_log_warn("manifest %s has version %lld, newer than this tool's %d; reading the "
                    "fields it knows",
                    ld->file, (long long)version, RD_MANIFEST_VERSION);
    m->version = (int)version;
    char *engine = NULL;
    if ((st = get_str(ld, root, "engine", "engine", 1, &engine)) != RD_OK)
        return st;
    m->engine = rd_engine_parse(engine);
    free(engine);
    if (!(m->engine & RD_ENGINE_ANY)) /* manifests describe SQL databases */
        return bad(ld, "engine", "\"postgres\" or \"mariadb\"");
    if ((st = get_str(ld, root, "tool", "tool", 0, &m->tool)) != RD_OK ||
        (st = get_time(ld, root, "captured_at", "captured_at", &m->captured_at_ms)) != RD_OK ||
        (st = get_str(ld, root, "server_version", "server_version", 0, &m->server_version)) !=
            RD_OK ||
        (st = get_str(ld, root, "database", "database", 0, &m->database)) != RD_OK ||
        (st = get_str(ld, root, "snapshot", "snapshot", 0, &m->snapshot)) != RD_OK)
        return st;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "artifact");
    if (a && !cJSON_IsNull(a)) {
        if (!cJSON_IsObject(a))
            return bad(ld, "artifact", "an object or null");
        if ((st = get_str(ld, a, "file", "artifact.file", 1, &m->artifact_file)) != RD_OK ||
            (st = get_int(ld, a, "bytes", "artifact.bytes", 0, &m->artifact_bytes)) != RD_OK ||
            (st = get_str(ld, a, "sha256", "artifact.sha256", 0, &m->artifact_sha256)) != RD_OK ||
            (st = get_str(ld, a, "format", "artifact.format", 0, &m->artifact_format)) != RD_OK ||
            (st = load_sections(ld, a, m)) != RD_OK)
            return st;
    }
    if ((st = load_named(ld, root, "extensions", "", 0, "version", &m->extensions,
                         &m->nextensions)) != RD_OK)
        return st;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, "freshness");
    if (f && !cJSON_IsNull(f)) {
        if (!cJSON_IsObject(f))
            return bad(ld, "freshness", "an object or null");
        if ((st = get_str(ld, f, "query", "freshness.query", 0, &m->freshness_query)) != RD_OK ||
            (st = get_time(ld, f, "value", "freshness.value", &m->freshness_ms)) != RD_OK)
            return st;
    }
    if ((st = get_time(ld, root, "heartbeat", "heartbeat", &m->heartbeat_ms)) != RD_OK)
        return st;
    const cJSON *arr, *it;
    void *room;
    if ((st = get_array_room(ld, root, "tables", "tables", sizeof *m->tables, &arr, &room)) !=
        RD_OK)
        return st;
    m->tables = room;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = m->ntables++;
        if ((st = load_table(ld, it, i, &m->tables[i])) != RD_OK)
            return st;
    }
    if ((st = get_array_room(ld, root, "sequences", "sequences", sizeof *m->sequences, &arr,
                             &room)) != RD_OK)
        return st;
    m->sequences = room;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = m->nsequences++;
        if ((st = load_sequence(ld, it, i, &m->sequences[i])) != RD_OK)
            return st;
    }
    if ((st = load_strv(ld, root, "views", "", &m->views, &m->nviews)) != RD_OK ||
        (st = load_strv(ld, root, "routines", "", &m->routines, &m->nroutines)) != RD_OK ||
        (st = load_strv(ld, root, "triggers", "", &m->triggers, &m->ntriggers)) != RD_OK)
        return st;
    if ((st = get_array_room(ld, root, "databases", "databases", sizeof *m->databases, &arr,
                             &room)) != RD_OK)
        return st;
    m->databases = room;
    cJSON_ArrayForEach(it, arr)
    {
        size_t i = m->ndatabases;
        if (!(m->databases[i] = rd_manifest_new(m->engine)))
            return RD_ERR(ld->err, RD_ERR_NOMEM, "out of memory reading manifest %s", ld->file);
        m->ndatabases++;
        if ((st = load_root(ld, it, m->databases[i])) != RD_OK)
            return rd_error_prefix(ld->err, "databases[%zu]: ", i);
        if (!m->databases[i]->database) {
            char fld[48];
            snprintf(fld, sizeof fld, "databases[%zu].database", i);
            return bad(ld, fld, "a string");
        }
    }
    return RD_OK;
}

rd_status rd_manifest_parse(const char *text, size_t len, const char *file, rd_manifest **out,
                            rd_error *err)
{
    rd_status st = RD_OK;
    loader ld = {file, err};
    rd_manifest *m = NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        st = RD_ERR(err, RD_ERR_FORMAT, "manifest %s: not valid JSON (near byte %zu)", file, off);
        goto out;
    }
    m = rd_manifest_new(RD_ENGINE_PG);
    if (!m) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory reading manifest %s", file);
        goto out;
    }
    st = load_root(&ld, root, m);
    if (st == RD_OK) {
        *out = m;
        m = NULL;
    }
out:
    rd_manifest_free(m);
    cJSON_Delete(root);
    return st;
}

rd_status rd_manifest_load(const char *path, rd_manifest **out, rd_error *err)
{
    char *data = NULL;
    size_t len = 0;
    rd_status st = rd_fs_read_file(path, MANIFEST_MAX_BYTES, &data, &len, err);
    if (st == RD_OK)
        st = rd_manifest_parse(data, len, path, out, err);
    free(data);
    return st;
}
