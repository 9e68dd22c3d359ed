/* dynamo_verify.c: verifying a DynamoDB recovery point before it is
 * restored: each data file's MD5 and item count against the manifests, the
 * total against itemCount, every line parsed, key uniqueness, and the digest
 * of the canonical items that the checksum check compares. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynamo_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/proc.h"

#define FINDINGS_MAX 20

typedef struct vctx {
    rd_dyn_verify *v;
    const rd_strlist *key;
    rd_dyn_keyset *keys;
    rd_strbuf canon;
    size_t nfindings;
    double deadline;
    const rd_s3_opts *s3;
    const char *file; /* the data file or scan file being read */
    int64_t file_items;
} vctx;

static void finding(vctx *c, char **first, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void finding(vctx *c, char **first, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    rd_error ignore;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!*first)
        *first = rd_strdup(line);
    if (c->nfindings < FINDINGS_MAX)
        (void)rd_strbuf_appendf(&c->v->findings, &ignore, "%s\n", line);
    else if (c->nfindings == FINDINGS_MAX)
        (void)rd_strbuf_append(&c->v->findings, "(more findings not listed)\n", &ignore);
    c->nfindings++;
}

/* The key of an item into the key set (duplicates are found when the set
 * is merged at the end); findings for a missing or non-scalar key attribute. */
static rd_status check_key(vctx *c, const cJSON *item, const char *where, rd_error *err)
{
    rd_strbuf kb;
    rd_status st = RD_OK;
    rd_strbuf_init(&kb, 0);
    for (size_t i = 0; i < c->key->n && st == RD_OK; i++) {
        const char *name = c->key->items[i];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(item, name);
        const cJSON *d = cJSON_IsObject(a) ? a->child : NULL;
        int scalar = d && cJSON_IsString(d) && d->string && !d->next &&
                     (strcmp(d->string, "S") == 0 || strcmp(d->string, "N") == 0 ||
                      strcmp(d->string, "B") == 0);
        if (!scalar) {
            c->v->key_errors++;
            finding(c, &c->v->first_key, "%s: key attribute \"%s\" is %s", where, name,
                    a ? "not of type S, N or B" : "missing");
            rd_strbuf_free(&kb);
            return RD_OK;
        }
        if (!c->v->key_type[i])
            c->v->key_type[i] = d->string[0];
        else if (c->v->key_type[i] != d->string[0]) {
            c->v->key_errors++;
            finding(c, &c->v->first_key, "%s: key attribute \"%s\" is of type %s, earlier items %c",
                    where, name, d->string, c->v->key_type[i]);
        }
        /* name=T"value", ...: readable in findings, and unambiguous (quoted) */
        st = rd_strbuf_appendf(&kb, err, "%s%s=%c\"", i ? ", " : "", name, d->string[0]);
        if (st == RD_OK && d->string[0] == 'N')
            st = rd_dyn_number_canon(d->valuestring, &kb, err);
        for (const char *p = d->string[0] == 'N' ? "" : d->valuestring; st == RD_OK && *p; p++)
            st = (*p == '"' || *p == '\\') ? rd_strbuf_appendf(&kb, err, "\\%c", *p)
                                           : rd_strbuf_append_char(&kb, *p, err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(&kb, '"', err);
        if (st == RD_ERR_FORMAT) { /* an invalid number: already a parse finding */
            rd_strbuf_free(&kb);
            return RD_OK;
        }
    }
    if (st == RD_OK)
        st = rd_dyn_keyset_add(c->keys, kb.data, kb.len, where, err);
    rd_strbuf_free(&kb);
    return st;
}

/* One item's text: parse, canonicalise into the digest, check the key. */
static rd_status one_item(vctx *c, const char *text, size_t n, const char *where, rd_error *err)
{
    rd_error perr;
    if (c->deadline > 0 && rd_mono_now() > c->deadline)
        return RD_ERR(err, RD_ERR_TIMEOUT, "verifying the export timed out");
    if (rd_abort_requested())
        return RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
    cJSON *item = cJSON_ParseWithLength(text, n);
    rd_strbuf_reset(&c->canon);
    rd_status st = item ? rd_dyn_item_canon(item, &c->canon, &perr)
                        : RD_ERR(&perr, RD_ERR_FORMAT, "invalid JSON");
    if (st == RD_ERR_NOMEM) {
        cJSON_Delete(item);
        *err = perr;
        return st;
    }
    if (st != RD_OK) {
        c->v->parse_errors++;
        finding(c, &c->v->first_parse, "%s: %s", where, perr.msg);
        cJSON_Delete(item);
        return RD_OK;
    }
    rd_dyn_digest_add(&c->v->digest, c->canon.data, c->canon.len);
    c->v->items++;
    c->file_items++;
    st = check_key(c, item, where, err);
    cJSON_Delete(item);
    return st;
}

static rd_status export_line(void *ud, char *line, size_t n, size_t lineno, rd_error *err)
{
    vctx *c = ud;
    const char *item;
    size_t len, k = 0;
    char where[300];
    while (k < n && (line[k] == ' ' || line[k] == '\r' || line[k] == '\t'))
        k++;
    if (k == n)
        return RD_OK;
    snprintf(where, sizeof where, "%s line %zu", c->file, lineno);
    if (!rd_dyn_line_item(line, n, &item, &len)) {
        c->v->parse_errors++;
        finding(c, &c->v->first_parse, "%s: expected {\"Item\": {...}}", where);
        return RD_OK;
    }
    /* the whole line must be one object with the one key "Item" */
    cJSON *j = cJSON_ParseWithLength(line, n);
    int parsed = j != NULL, shape = cJSON_IsObject(j) && j->child && !j->child->next;
    cJSON_Delete(j);
    if (!shape) {
        c->v->parse_errors++;
        finding(c, &c->v->first_parse, "%s: %s", where,
                parsed ? "expected only the key \"Item\"" : "invalid JSON");
        return RD_OK;
    }
    return one_item(c, item, len, where, err);
}

static rd_status file_md5(const char *path, char *b64, size_t cap, rd_error *err)
{
    FILE *f = fopen(path, "rb");
    unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    size_t n;
    if (!f)
        return RD_ERR_ERRNO(err, RD_ERR_NOTFOUND, "cannot open %s", path);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m || EVP_DigestInit_ex(m, EVP_md5(), NULL) != 1) {
        EVP_MD_CTX_free(m);
        fclose(f);
        return RD_ERR(err, RD_ERR_NOMEM, "cannot compute MD5");
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        EVP_DigestUpdate(m, buf, n);
    int bad = ferror(f);
    fclose(f);
    EVP_DigestFinal_ex(m, md, &ml);
    EVP_MD_CTX_free(m);
    if (bad)
        return RD_ERR(err, RD_ERR_IO, "cannot read %s", path);
    if (cap < 4 * ((ml + 2) / 3) + 1)
        return RD_ERR(err, RD_ERR_NOMEM, "md5 buffer too small");
    EVP_EncodeBlock((unsigned char *)b64, md, (int)ml);
    return RD_OK;
}

/* A data file in S3: one streamed pass computes the MD5 of the stored bytes
 * while the lines are read; a corrupt stream stops the decoding early, and
 * then a second raw pass gives the MD5. */
static rd_status s3_export_file(vctx *c, const rd_dyn_file *f, char md5[32], rd_error *ferr)
{
    rd_dyn_read r = {.s3 = c->s3, .deadline = c->deadline, .md5 = md5};
    rd_status st = rd_dyn_file_lines(f->path, &r, export_line, c, ferr);
    if (st == RD_ERR_INTEGRITY || st == RD_ERR_FORMAT) {
        c->v->parse_errors++;
        finding(c, &c->v->first_parse, "%s", ferr->msg);
        st = rd_dyn_s3_md5(f->path, c->s3, md5, ferr);
    }
    return st;
}

static rd_status export_file(void *ud, const rd_dyn_file *f, rd_error *err)
{
    vctx *c = ud;
    char md5[64];
    rd_error ferr;
    int bad = 0;
    c->v->files++;
    c->file = f->name;
    c->file_items = 0;
    int s3 = rd_s3_is_url(f->path);
    rd_status st =
        s3 ? s3_export_file(c, f, md5, &ferr) : file_md5(f->path, md5, sizeof md5, &ferr);
    if (st == RD_ERR_NOTFOUND) {
        c->v->files_bad++;
        finding(c, &c->v->first_md5, "%s: missing", f->name);
        return RD_OK;
    }
    if (st != RD_OK) {
        *err = ferr;
        return st;
    }
    if (!f->md5 || strcmp(f->md5, md5) != 0) {
        bad = 1;
        finding(c, &c->v->first_md5, "%s: md5 mismatch: manifest %s, file %s", f->name,
                f->md5 ? f->md5 : "(none)", md5);
    }
    rd_dyn_read r = {.deadline = c->deadline};
    st = s3 ? RD_OK : rd_dyn_file_lines(f->path, &r, export_line, c, &ferr);
    if (st == RD_ERR_INTEGRITY || st == RD_ERR_FORMAT) {
        /* a corrupt gzip stream: the lines read so far counted, the rest lost */
        c->v->parse_errors++;
        finding(c, &c->v->first_parse, "%s", ferr.msg);
        st = RD_OK;
    }
    if (st != RD_OK) {
        *err = ferr;
        return st;
    }
    if (f->manifest_items >= 0 && f->manifest_items != c->file_items) {
        bad = 1;
        finding(c, &c->v->first_count, "%s: %lld items, manifest-files.json says %lld", f->name,
                (long long)c->file_items, (long long)f->manifest_items);
    }
    c->v->files_bad += (size_t)bad;
    return RD_OK;
}

static rd_status scan_item(void *ud, char *item, size_t n, size_t index, rd_error *err)
{
    vctx *c = ud;
    char where[300];
    snprintf(where, sizeof where, "item %zu", index);
    return one_item(c, item, n, where, err);
}

void rd_dyn_verify_free(rd_dyn_verify *v)
{
    if (!v)
        return;
    rd_strbuf_free(&v->findings);
    free(v->first_md5);
    free(v->first_count);
    free(v->first_parse);
    free(v->first_key);
    rd_strlist_free(&v->key);
    cJSON_Delete(v->description);
    v->description = NULL;
    v->first_md5 = v->first_count = v->first_parse = v->first_key = NULL;
}

static void duplicate(void *ud, const char *where, const char *key)
{
    vctx *c = ud;
    c->v->duplicate_keys++;
    finding(c, &c->v->first_key, "%s: duplicate key %.200s", where, key);
}

rd_status rd_dyn_verify_point(const char *location, const char *const *decrypt,
                              const rd_s3_opts *s3, const rd_strlist *key, const char *tmpdir,
                              double deadline, rd_dyn_verify *out, rd_error *err)
{
    rd_dyn_verify v;
    vctx c;
    rd_status st;
    memset(&v, 0, sizeof v);
    memset(&c, 0, sizeof c);
    rd_strbuf_init(&v.findings, 0);
    rd_strbuf_init(&c.canon, 0);
    c.v = &v;
    c.key = key;
    c.deadline = deadline;
    c.s3 = s3;
    v.kind = rd_dyn_kind_of(location);
    v.manifest_items = -1;
    st = rd_dyn_keyset_new(tmpdir, 0, 0, &c.keys, err);
    if (st == RD_OK && v.kind == RD_DYN_EXPORT) {
        st = rd_dyn_export_summary(location, s3, &v.export_time_ms, &v.manifest_items, err);
        if (st == RD_OK)
            st = rd_dyn_export_files(location, s3, export_file, &c, err);
        if (st == RD_OK && v.items != v.manifest_items)
            finding(&c, &v.first_count,
                    "the export holds %lld items, manifest-summary.json says %lld",
                    (long long)v.items, (long long)v.manifest_items);
    } else if (st == RD_OK && v.kind == RD_DYN_SCAN) {
        c.file = location;
        rd_dyn_read r = {.decrypt = decrypt, .s3 = s3, .deadline = deadline};
        st = rd_dyn_scan_items(location, &r, scan_item, &c, err);
        if (st == RD_ERR_FORMAT || st == RD_ERR_INTEGRITY) {
            v.parse_errors++;
            finding(&c, &v.first_parse, "%s", err->msg);
            st = RD_OK;
        }
    } else if (st == RD_OK) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "%s is neither an export directory nor a scan file",
                    location);
    }
    if (st == RD_OK)
        st = rd_dyn_keyset_finish(c.keys, duplicate, &c, err);
    rd_dyn_keyset_free(c.keys);
    rd_strbuf_free(&c.canon);
    if (st != RD_OK) {
        rd_dyn_verify_free(&v);
        return st;
    }
    *out = v;
    return RD_OK;
}
