/* dynamo_export.c: reading DynamoDB recovery points: the AWSDynamoDB/<id>/
 * layout (manifest-summary.json, manifest-files.json, data/<file>.json.gz) and
 * scan files ({"Items": [...]}), decoded through rd_artifact (gzip, the
 * decrypt filter). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dynamo_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"

#define LINE_MAX_BYTES (8u << 20) /* an item is at most 400 KB */
#define CHUNK (64u << 10)

/* s3://bucket/.../AWSDynamoDB/<id>: the prefix of an export in S3. */
static int s3_export_url(const char *location)
{
    size_t n = strlen(location);
    if (n < 2 || location[n - 1] == '/')
        return 0;
    const char *id = strrchr(location, '/');
    const char *marker = "/AWSDynamoDB";
    size_t ml = strlen(marker);
    return id && (size_t)(id - location) >= ml && memcmp(id - ml, marker, ml) == 0;
}

rd_dyn_kind rd_dyn_kind_of(const char *location)
{
    struct stat sb;
    if (location && rd_s3_is_url(location))
        return s3_export_url(location) ? RD_DYN_EXPORT : RD_DYN_SCAN;
    if (!location || stat(location, &sb) != 0)
        return (rd_dyn_kind)0;
    if (S_ISDIR(sb.st_mode)) {
        char *p = rd_fs_join(location, "manifest-summary.json");
        int ok = p && rd_fs_exists(p);
        free(p);
        return ok ? RD_DYN_EXPORT : (rd_dyn_kind)0;
    }
    return RD_DYN_SCAN;
}

static rd_status s3_client(const char *url, const rd_s3_opts *s3, rd_s3 **cl, char **bucket,
                           char **key, rd_error *err)
{
    rd_s3_opts def = {.path_style = -1};
    rd_status st = rd_s3_url_split(url, bucket, key, err);
    if (st == RD_OK)
        st = rd_s3_new(s3 ? s3 : &def, cl, err);
    return st;
}

static rd_status load_json(const char *path, const rd_s3_opts *s3, cJSON **out, rd_error *err)
{
    char *text = NULL;
    size_t n = 0;
    rd_status st;
    if (rd_s3_is_url(path)) {
        rd_s3 *cl = NULL;
        char *bucket = NULL, *key = NULL;
        st = s3_client(path, s3, &cl, &bucket, &key, err);
        if (st == RD_OK)
            st = rd_s3_get_mem(cl, bucket, key, 16u << 20, &text, &n, err);
        rd_s3_free(cl);
        free(bucket);
        free(key);
    } else {
        st = rd_fs_read_file(path, 16u << 20, &text, &n, err);
    }
    if (st != RD_OK)
        return st;
    cJSON *j = cJSON_ParseWithLength(text, n);
    free(text);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return RD_ERR(err, RD_ERR_FORMAT, "%s: not a JSON object", path);
    }
    *out = j;
    return RD_OK;
}

typedef struct md5_sink {
    EVP_MD_CTX *m;
} md5_sink;

static rd_status md5_bytes(void *ctx, const void *buf, size_t n, rd_error *err)
{
    (void)err;
    EVP_DigestUpdate(((md5_sink *)ctx)->m, buf, n);
    return RD_OK;
}

rd_status rd_dyn_s3_md5(const char *url, const rd_s3_opts *s3, char md5[32], rd_error *err)
{
    rd_s3 *cl = NULL;
    char *bucket = NULL, *key = NULL;
    md5_sink sk = {EVP_MD_CTX_new()};
    rd_status st = sk.m && EVP_DigestInit_ex(sk.m, EVP_md5(), NULL) == 1
                       ? s3_client(url, s3, &cl, &bucket, &key, err)
                       : RD_ERR(err, RD_ERR_NOMEM, "cannot compute MD5");
    if (st == RD_OK)
        st = rd_s3_get(cl, bucket, key, NULL, md5_bytes, &sk, NULL, err);
    if (st == RD_OK) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int ml = 0;
        EVP_DigestFinal_ex(sk.m, md, &ml);
        EVP_EncodeBlock((unsigned char *)md5, md, (int)ml);
    }
    EVP_MD_CTX_free(sk.m);
    rd_s3_free(cl);
    free(bucket);
    free(key);
    return st;
}

rd_status rd_dyn_export_summary(const char *dir, const rd_s3_opts *s3, int64_t *time_ms,
                                int64_t *items, rd_error *err)
{
    char *path = rd_fs_join(dir, "manifest-summary.json");
    cJSON *j = NULL;
    rd_status st = path ? load_json(path, s3, &j, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "exportTime");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "itemCount");
        int64_t ms = 0;
        if (!cJSON_IsString(t) || rd_time_parse(t->valuestring, &ms, err) != RD_OK)
            st = RD_ERR(err, RD_ERR_FORMAT, "%s: no valid \"exportTime\"", path);
        else if (!cJSON_IsNumber(c) || c->valuedouble < 0)
            st = RD_ERR(err, RD_ERR_FORMAT, "%s: no valid \"itemCount\"", path);
        else {
            *time_ms = ms;
            *items = (int64_t)c->valuedouble;
        }
    }
    cJSON_Delete(j);
    free(path);
    return st;
}

/* "pfx/AWSDynamoDB/<id>/data/x.json.gz" -> "data/x.json.gz"; NULL when it
 * cannot be placed inside the export directory. */
static const char *relative_key(const char *key)
{
    const char *p = strstr(key, "AWSDynamoDB/");
    if (p) {
        p = strchr(p + strlen("AWSDynamoDB/"), '/');
        if (!p)
            return NULL;
        key = p + 1;
    }
    if (!*key || key[0] == '/' || strstr(key, ".."))
        return NULL;
    return key;
}

typedef struct files_walk {
    const char *dir;
    const rd_s3_opts *s3;
    rd_dyn_file_fn fn;
    void *ud;
} files_walk;

static rd_status files_line(void *ud, char *line, size_t n, size_t lineno, rd_error *err)
{
    files_walk *w = ud;
    rd_status st = RD_OK;
    while (n && isspace((unsigned char)line[n - 1]))
        line[--n] = '\0';
    if (n == 0)
        return RD_OK;
    cJSON *j = cJSON_ParseWithLength(line, n);
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(j, "dataFileS3Key");
    const cJSON *cnt = cJSON_GetObjectItemCaseSensitive(j, "itemCount");
    const cJSON *md5 = cJSON_GetObjectItemCaseSensitive(j, "md5Checksum");
    const char *rel = cJSON_IsString(key) ? relative_key(key->valuestring) : NULL;
    char *path = NULL;
    if (!rel) {
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "manifest-files.json line %zu: no \"dataFileS3Key\" inside the export", lineno);
    } else if (!(path = rd_fs_join(w->dir, rel))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    } else {
        rd_dyn_file f = {.name = rel,
                         .path = path,
                         .manifest_items = cJSON_IsNumber(cnt) ? (int64_t)cnt->valuedouble : -1,
                         .md5 = cJSON_IsString(md5) ? md5->valuestring : NULL};
        st = w->fn(w->ud, &f, err);
    }
    free(path);
    cJSON_Delete(j);
    return st;
}

rd_status rd_dyn_export_files(const char *dir, const rd_s3_opts *s3, rd_dyn_file_fn fn, void *ud,
                              rd_error *err)
{
    char *path = rd_fs_join(dir, "manifest-files.json");
    files_walk w = {dir, s3, fn, ud};
    rd_dyn_read r = {.s3 = s3};
    if (!path)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_dyn_file_lines(path, &r, files_line, &w, err);
    free(path);
    return st;
}

int rd_dyn_line_item(const char *line, size_t n, const char **item, size_t *len)
{
    const char *p = line, *end = line + n;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (end - p < 10 || *p != '{')
        return 0;
    p++;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (end - p < 7 || memcmp(p, "\"Item\"", 6) != 0)
        return 0;
    p += 6;
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (p >= end || *p != ':')
        return 0;
    p++;
    while (p < end && isspace((unsigned char)*p))
        p++;
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (end <= p || end[-1] != '}')
        return 0;
    end--; /* the outer object's brace */
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (end <= p || *p != '{' || end[-1] != '}')
        return 0;
    *item = p;
    *len = (size_t)(end - p);
    return 1;
}

static rd_status open_stream(const char *path, const rd_dyn_read *r, rd_artifact **a, rd_error *err)
{
    rd_artifact_opts o = {.decrypt = r ? r->decrypt : NULL,
                          .deadline = r ? r->deadline : 0,
                          .md5 = r && r->md5,
                          .s3 = r ? r->s3 : NULL};
    if (r && r->md5)
        r->md5[0] = '\0';
    return rd_artifact_open(path, &o, a, err);
}

rd_status rd_dyn_file_lines(const char *path, const rd_dyn_read *r, rd_dyn_line_fn fn, void *ud,
                            rd_error *err)
{
    rd_artifact *a = NULL;
    rd_strbuf line;
    char *buf = malloc(CHUNK);
    size_t lineno = 0, n = 0;
    rd_status st = buf ? open_stream(path, r, &a, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_strbuf_init(&line, LINE_MAX_BYTES);
    while (st == RD_OK && (st = rd_artifact_read(a, buf, CHUNK, &n, err)) == RD_OK && n > 0) {
        const char *p = buf, *end = buf + n;
        while (st == RD_OK && p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            st = rd_strbuf_append_n(&line, p, nl ? (size_t)(nl - p) : (size_t)(end - p), err);
            if (st != RD_OK)
                st = RD_ERR(err, RD_ERR_FORMAT, "%s: line %zu is longer than %u bytes", path,
                            lineno + 1, LINE_MAX_BYTES);
            if (st == RD_OK && nl) {
                lineno++;
                st = fn(ud, line.data ? line.data : (char *)"", line.len, lineno, err);
                rd_strbuf_reset(&line);
            }
            p = nl ? nl + 1 : end;
        }
    }
    if (st == RD_OK && line.len)
        st = fn(ud, line.data, line.len, lineno + 1, err);
    if (st == RD_OK && r && r->md5 && rd_artifact_md5(a))
        memcpy(r->md5, rd_artifact_md5(a), strlen(rd_artifact_md5(a)) + 1);
    rd_strbuf_free(&line);
    rd_artifact_free(a);
    free(buf);
    return st;
}

/* The splitter of a scan file: depth and strings tracked byte by byte; the
 * objects of the top-level "Items" array are handed out whole. */
typedef struct splitter {
    int depth, in_str, esc, in_items, seen_items, capturing;
    char last[8]; /* the last string closed at depth 1 (a key), truncated */
    size_t lastn;
    rd_strbuf item;
    size_t index;
} splitter;

static rd_status split_bytes(splitter *s, const char *p, size_t n, rd_dyn_line_fn fn, void *ud,
                             const char *path, rd_error *err)
{
    rd_status st = RD_OK;
    size_t from = 0; /* start of the captured run in p */
    for (size_t i = 0; i < n && st == RD_OK; i++) {
        char c = p[i];
        if (s->in_str) {
            if (s->esc)
                s->esc = 0;
            else if (c == '\\')
                s->esc = 1;
            else if (c == '"')
                s->in_str = 0;
            else if (s->depth == 1 && s->lastn < sizeof(s->last) - 1)
                s->last[s->lastn++] = c;
            continue;
        }
        if (c == '"') {
            s->in_str = 1;
            if (s->depth == 1)
                s->lastn = 0;
        } else if (c == '{' || c == '[') {
            if (s->depth == 1 && c == '[' && s->lastn == 5 && memcmp(s->last, "Items", 5) == 0 &&
                !s->seen_items)
                s->in_items = s->seen_items = 1;
            if (s->in_items && s->depth == 2 && c == '{') {
                s->capturing = 1;
                from = i;
            }
            s->depth++;
        } else if (c == '}' || c == ']') {
            s->depth--;
            if (s->depth < 0)
                return RD_ERR(err, RD_ERR_FORMAT, "%s: unbalanced \"%c\"", path, c);
            if (s->capturing && s->depth == 2) {
                st = rd_strbuf_append_n(&s->item, p + from, i + 1 - from, err);
                s->capturing = 0;
                s->index++;
                if (st == RD_OK)
                    st = fn(ud, s->item.data, s->item.len, s->index, err);
                rd_strbuf_reset(&s->item);
            } else if (s->in_items && s->depth == 1) {
                s->in_items = 0;
            }
        }
    }
    if (st == RD_OK && s->capturing)
        st = rd_strbuf_append_n(&s->item, p + from, n - from, err);
    return st;
}

rd_status rd_dyn_scan_items(const char *path, const rd_dyn_read *r, rd_dyn_line_fn fn, void *ud,
                            rd_error *err)
{
    rd_artifact *a = NULL;
    splitter s;
    char *buf = malloc(CHUNK);
    size_t n = 0;
    memset(&s, 0, sizeof s);
    rd_strbuf_init(&s.item, LINE_MAX_BYTES);
    rd_status st = buf ? open_stream(path, r, &a, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    while (st == RD_OK && (st = rd_artifact_read(a, buf, CHUNK, &n, err)) == RD_OK && n > 0)
        st = split_bytes(&s, buf, n, fn, ud, path, err);
    if (st == RD_OK && !s.seen_items)
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: no \"Items\" array", path);
    else if (st == RD_OK && (s.depth != 0 || s.in_str))
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: truncated after item %zu", path, s.index);
    rd_strbuf_free(&s.item);
    rd_artifact_free(a);
    free(buf);
    return st;
}

typedef struct each_ctx {
    rd_dyn_item_fn fn;
    void *ud;
    rd_dyn_read read;
    const char *file;
} each_ctx;

static rd_status each_line(void *ud, char *line, size_t n, size_t lineno, rd_error *err)
{
    each_ctx *c = ud;
    const char *item;
    size_t len;
    size_t k = 0;
    while (k < n && isspace((unsigned char)line[k]))
        k++;
    if (k == n)
        return RD_OK;
    if (!rd_dyn_line_item(line, n, &item, &len))
        return RD_ERR(err, RD_ERR_FORMAT, "%s line %zu: expected {\"Item\": {...}}", c->file,
                      lineno);
    return c->fn(c->ud, item, len, err);
}

static rd_status each_file(void *ud, const rd_dyn_file *f, rd_error *err)
{
    each_ctx *c = ud;
    rd_dyn_read r = {.s3 = c->read.s3, .deadline = c->read.deadline};
    c->file = f->name;
    return rd_dyn_file_lines(f->path, &r, each_line, c, err);
}

static rd_status each_scan_item(void *ud, char *item, size_t n, size_t index, rd_error *err)
{
    each_ctx *c = ud;
    (void)index;
    return c->fn(c->ud, item, n, err);
}

rd_status rd_dyn_each_item(const char *location, const char *const *decrypt, const rd_s3_opts *s3,
                           double deadline, rd_dyn_item_fn fn, void *ud, rd_error *err)
{
    each_ctx c = {fn, ud, {.decrypt = decrypt, .s3 = s3, .deadline = deadline}, NULL};
    switch (rd_dyn_kind_of(location)) {
    case RD_DYN_EXPORT:
        return rd_dyn_export_files(location, s3, each_file, &c, err);
    case RD_DYN_SCAN:
        return rd_dyn_scan_items(location, &c.read, each_scan_item, &c, err);
    }
    return RD_ERR(err, RD_ERR_NOTFOUND, "%s is neither an export directory nor a scan file",
                  location);
}
