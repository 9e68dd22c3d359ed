/* s3set.c: object sets: listing a prefix as relative keys, a versioned
 * bucket as of a time, and the listing file (JSON lines). */
#include "restoredrill/s3set.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"

#define LISTING_MAX ((size_t)1 << 30)

static void entry_clear(rd_s3set_entry *e)
{
    free(e->key);
    free(e->version_id);
    memset(e, 0, sizeof *e);
}

void rd_s3set_free(rd_s3set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        entry_clear(&s->items[i]);
    free(s->items);
    s->items = NULL;
    s->n = 0;
}

/* Append *e (owning its strings; reset on success). */
static rd_status push(rd_s3set *s, rd_s3set_entry *e, rd_error *err)
{
    if ((s->n & (s->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = s->n ? s->n * 2 : 16;
        rd_s3set_entry *p = realloc(s->items, cap * sizeof *p);
        if (!p)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        s->items = p;
    }
    s->items[s->n++] = *e;
    memset(e, 0, sizeof *e);
    return RD_OK;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const rd_s3set_entry *)a)->key, ((const rd_s3set_entry *)b)->key);
}

rd_status rd_s3set_sort(rd_s3set *s, rd_error *err)
{
    if (s->n > 1)
        qsort(s->items, s->n, sizeof *s->items, cmp_entry);
    for (size_t i = 1; i < s->n; i++)
        if (strcmp(s->items[i - 1].key, s->items[i].key) == 0)
            return RD_ERR(err, RD_ERR_FORMAT, "duplicate key \"%s\"", s->items[i].key);
    return RD_OK;
}

const rd_s3set_entry *rd_s3set_find(const rd_s3set *s, const char *key)
{
    rd_s3set_entry k = {.key = (char *)(uintptr_t)key};
    if (!s->n)
        return NULL;
    return bsearch(&k, s->items, s->n, sizeof *s->items, cmp_entry);
}

static int is_md5_etag(const char *etag)
{
    if (!etag || strlen(etag) != 32)
        return 0;
    for (const char *p = etag; *p; p++)
        if (!isxdigit((unsigned char)*p))
            return 0;
    return 1;
}

static void lower_copy(char *dst, size_t dsz, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < dsz; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

/* List with the prefix up to a final '/', keep the keys under prefix. */
static rd_status list_under(rd_s3 *s, const char *bucket, const char *prefix, int versions,
                            rd_s3_objects *out, rd_error *err)
{
    size_t pl = prefix ? strlen(prefix) : 0;
    char *q = NULL;
    if (pl && prefix[pl - 1] == '/') {
        if (!(q = malloc(pl)))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        memcpy(q, prefix, pl - 1);
        q[pl - 1] = '\0';
    }
    const char *ask = q ? q : prefix;
    rd_status st = versions ? rd_s3_list_versions(s, bucket, ask, out, err)
                            : rd_s3_list(s, bucket, ask, out, err);
    free(q);
    if (st != RD_OK || !pl)
        return st;
    size_t k = 0;
    for (size_t i = 0; i < out->n; i++) {
        if (strncmp(out->items[i].key, prefix, pl) == 0)
            out->items[k++] = out->items[i];
        else
            rd_s3_object_clear(&out->items[i]);
    }
    out->n = k;
    return RD_OK;
}

rd_status rd_s3set_list_versions(rd_s3 *s, const char *bucket, const char *prefix,
                                 rd_s3_objects *out, rd_error *err)
{
    return list_under(s, bucket, prefix, 1, out, err);
}

rd_status rd_s3set_list(rd_s3 *s, const char *bucket, const char *prefix, rd_s3set *out,
                        rd_error *err)
{
    rd_s3_objects l = {NULL, 0};
    rd_s3set acc = {NULL, 0};
    size_t pl = prefix ? strlen(prefix) : 0;
    rd_status st = list_under(s, bucket, prefix, 0, &l, err);
    for (size_t i = 0; st == RD_OK && i < l.n; i++) {
        rd_s3set_entry e;
        memset(&e, 0, sizeof e);
        e.key = rd_strdup(l.items[i].key + pl);
        e.size = l.items[i].size;
        e.mtime_ms = l.items[i].mtime_ms > 0 ? l.items[i].mtime_ms : 0;
        if (is_md5_etag(l.items[i].etag))
            lower_copy(e.md5, sizeof e.md5, l.items[i].etag);
        st = e.key ? push(&acc, &e, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        entry_clear(&e);
    }
    if (st == RD_OK)
        st = rd_s3set_sort(&acc, err);
    rd_s3_objects_free(&l);
    if (st != RD_OK) {
        rd_s3set_free(&acc);
        return st;
    }
    *out = acc;
    return RD_OK;
}

void rd_s3set_versions_window(const rd_s3_objects *v, int64_t *oldest_ms, int64_t *newest_ms)
{
    int64_t lo = 0, hi = 0;
    for (size_t i = 0; i < v->n; i++) {
        int64_t t = v->items[i].mtime_ms;
        if (t <= 0)
            continue;
        if (!lo || t < lo)
            lo = t;
        if (t > hi)
            hi = t;
    }
    *oldest_ms = lo;
    *newest_ms = hi;
}

typedef struct vref {
    const rd_s3_object *o;
    size_t pos; /* in the listing: S3 lists a key's versions newest first */
} vref;

static int cmp_vref(const void *a, const void *b)
{
    const vref *x = a, *y = b;
    int c = strcmp(x->o->key, y->o->key);
    if (c)
        return c;
    if (x->o->mtime_ms != y->o->mtime_ms)
        return x->o->mtime_ms > y->o->mtime_ms ? -1 : 1; /* newest first */
    return x->pos < y->pos ? -1 : x->pos > y->pos;       /* a tie: the order S3 gave */
}

rd_status rd_s3set_as_of(const rd_s3_objects *versions, const char *prefix, int64_t target_ms,
                         rd_s3set *out, int64_t *newest_ms, rd_error *err)
{
    rd_s3set acc = {NULL, 0};
    rd_status st = RD_OK;
    size_t pl = prefix ? strlen(prefix) : 0, n = 0;
    int64_t newest = 0;
    /* versions and delete markers at or before the target, by key, newest first
     * (a listing may give the versions and the delete markers apart) */
    vref *v = malloc((versions->n ? versions->n : 1) * sizeof *v);
    if (!v)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < versions->n; i++) {
        const rd_s3_object *o = &versions->items[i];
        if ((pl && strncmp(o->key, prefix, pl) != 0) || o->mtime_ms > target_ms)
            continue;
        if (o->mtime_ms > newest)
            newest = o->mtime_ms;
        v[n].o = o;
        v[n].pos = i;
        n++;
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_vref);
    for (size_t i = 0; st == RD_OK && i < n; i++) {
        const rd_s3_object *best = v[i].o;
        if (i > 0 && strcmp(v[i - 1].o->key, best->key) == 0)
            continue; /* an older version of a key already decided */
        if (best->delete_marker)
            continue;
        rd_s3set_entry e;
        memset(&e, 0, sizeof e);
        e.key = rd_strdup(best->key + pl);
        e.size = best->size;
        e.mtime_ms = best->mtime_ms;
        e.version_id = best->version_id ? rd_strdup(best->version_id) : NULL;
        if (is_md5_etag(best->etag))
            lower_copy(e.md5, sizeof e.md5, best->etag);
        st = e.key && (e.version_id || !best->version_id)
                 ? push(&acc, &e, err)
                 : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        entry_clear(&e);
    }
    free(v);
    if (st == RD_OK)
        st = rd_s3set_sort(&acc, err);
    if (st != RD_OK) {
        rd_s3set_free(&acc);
        return st;
    }
    *out = acc;
    if (newest_ms)
        *newest_ms = newest;
    return RD_OK;
}

/* --- the listing file --- */

static int is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static rd_status parse_line(const char *line, const char *name, size_t lineno, rd_s3set_entry *e,
                            rd_error *err)
{
    cJSON *o = cJSON_Parse(line);
    rd_status st = RD_OK;
    rd_error e2;
    if (!cJSON_IsObject(o)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: expected a JSON object", name, lineno);
        goto out;
    }
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "key");
    const cJSON *sz = cJSON_GetObjectItemCaseSensitive(o, "size");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "sha256");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "md5");
    const cJSON *lm = cJSON_GetObjectItemCaseSensitive(o, "last_modified");
    if (!cJSON_IsString(k) || !k->valuestring[0])
        st = RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: \"key\": expected a non-empty string", name,
                    lineno);
    else if (!cJSON_IsNumber(sz) || sz->valuedouble < 0 || sz->valuedouble > 9.0e15 ||
             sz->valuedouble != (double)(int64_t)sz->valuedouble)
        st = RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: \"size\": expected a whole number of bytes",
                    name, lineno);
    else if (!cJSON_IsString(h) || !is_hex(h->valuestring, 64))
        st = RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: \"sha256\": expected 64 hex digits", name,
                    lineno);
    else if (m && (!cJSON_IsString(m) || !is_hex(m->valuestring, 32)))
        st = RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: \"md5\": expected 32 hex digits", name,
                    lineno);
    else if (lm && (!cJSON_IsString(lm) || rd_time_parse(lm->valuestring, &e->mtime_ms, &e2)))
        st = RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: \"last_modified\": expected an RFC 3339 time",
                    name, lineno);
    if (st != RD_OK)
        goto out;
    e->key = rd_strdup(k->valuestring);
    e->size = (int64_t)sz->valuedouble;
    lower_copy(e->sha256, sizeof e->sha256, h->valuestring);
    if (m)
        lower_copy(e->md5, sizeof e->md5, m->valuestring);
    if (!e->key)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    cJSON_Delete(o);
    return st;
}

rd_status rd_s3set_listing_parse(const char *text, size_t len, const char *name, rd_s3set *out,
                                 rd_error *err)
{
    rd_s3set acc = {NULL, 0};
    rd_status st = RD_OK;
    size_t lineno = 0;
    char *line = NULL;
    for (size_t pos = 0; st == RD_OK && pos < len;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        size_t a = 0;
        while (a < n && isspace((unsigned char)text[pos + a]))
            a++;
        if (a < n) {
            free(line);
            if (!(line = malloc(n + 1))) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                break;
            }
            memcpy(line, text + pos, n);
            line[n] = '\0';
            rd_s3set_entry e;
            memset(&e, 0, sizeof e);
            st = parse_line(line, name, lineno, &e, err);
            if (st == RD_OK)
                st = push(&acc, &e, err);
            entry_clear(&e);
        }
        pos += n + 1;
    }
    free(line);
    if (st == RD_OK && (st = rd_s3set_sort(&acc, err)) != RD_OK)
        rd_error_prefix(err, "%s: ", name);
    if (st != RD_OK) {
        rd_s3set_free(&acc);
        return st;
    }
    *out = acc;
    return RD_OK;
}

rd_status rd_s3set_listing_load(const char *path, rd_s3set *out, rd_error *err)
{
    char *text = NULL;
    size_t len = 0;
    rd_status st = rd_fs_read_file(path, LISTING_MAX, &text, &len, err);
    if (st == RD_OK)
        st = rd_s3set_listing_parse(text, len, path, out, err);
    free(text);
    return st;
}

rd_status rd_s3set_listing_line(rd_strbuf *out, const rd_s3set_entry *e, rd_error *err)
{
    cJSON *o = cJSON_CreateObject();
    char when[RD_TIME_BUFSZ];
    rd_status st = RD_OK;
    if (!o || !cJSON_AddStringToObject(o, "key", e->key) ||
        !cJSON_AddNumberToObject(o, "size", (double)e->size) ||
        !cJSON_AddStringToObject(o, "sha256", e->sha256) ||
        (e->md5[0] && !cJSON_AddStringToObject(o, "md5", e->md5)) ||
        (e->mtime_ms > 0 &&
         !cJSON_AddStringToObject(o, "last_modified",
                                  rd_time_format(e->mtime_ms, when, sizeof when)))) {
        cJSON_Delete(o);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (!text)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = rd_strbuf_append(out, text, err);
    if (st == RD_OK)
        st = rd_strbuf_append(out, "\n", err);
    free(text);
    return st;
}

void rd_s3set_target_free(rd_s3set_target *t)
{
    if (!t)
        return;
    rd_s3set_free(&t->expected);
    free(t->basis);
    free(t->src_bucket);
    free(t->src_prefix);
    free(t->bucket);
    free(t->prefix);
    memset(t, 0, sizeof *t);
}
