/* s3_canon.c: the request URL (virtual-hosted or path style), and the canonical forms libcurl 7.88
 * signs exactly as given: the URI-encoded path (each segment encoded, '/'
 * kept) and the sorted, encoded query. */
#include "s3_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int unreserved(unsigned char c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

char *rd_s3_uri_encode(const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *p = out;
    if (!out)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (unreserved(*c) || (keep_slash && *c == '/')) {
            *p++ = (char)*c;
        } else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = '\0';
    return out;
}

typedef struct qpair {
    char *name, *value;
} qpair;

static int qpair_cmp(const void *a, const void *b)
{
    const qpair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

char *rd_s3_canonical_query(const char *const *names, const char *const *values, size_t n)
{
    qpair *q = calloc(n ? n : 1, sizeof *q);
    char *out = NULL;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    if (!q)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        q[i].name = rd_s3_uri_encode(names[i], 0);
        q[i].value = rd_s3_uri_encode(values[i] ? values[i] : "", 0);
        if (!q[i].name || !q[i].value)
            goto out;
    }
    qsort(q, n, sizeof *q, qpair_cmp);
    for (size_t i = 0; i < n; i++)
        if (rd_strbuf_appendf(&sb, NULL, "%s%s=%s", i ? "&" : "", q[i].name, q[i].value) != RD_OK)
            goto out;
    out = rd_strbuf_detach(&sb);
out:
    for (size_t i = 0; i < n; i++) {
        free(q[i].name);
        free(q[i].value);
    }
    free(q);
    rd_strbuf_free(&sb);
    return out;
}

char *rd_s3_request_url(const rd_s3 *s, const char *bucket, const char *key, const char *query)
{
    char *ekey = rd_s3_uri_encode(key ? key : "", 1);
    char *ebucket = rd_s3_uri_encode(bucket ? bucket : "", 0);
    char *url = NULL;
    const char *qm = query && *query ? "?" : "";
    if (ekey && ebucket) {
        if (s->path_style || !bucket || !*bucket)
            url = rd_asprintf("%s://%s%s/%s%s%s%s%s", s->scheme, s->host, s->base_path, ebucket,
                              key ? "/" : "", ekey, qm, qm[0] ? query : "");
        else
            url = rd_asprintf("%s://%s.%s%s/%s%s%s", s->scheme, ebucket, s->host, s->base_path,
                              ekey, qm, qm[0] ? query : "");
    }
    free(ekey);
    free(ebucket);
    return url;
}

int rd_s3_is_url(const char *s)
{
    return s && strncmp(s, "s3://", 5) == 0;
}

rd_status rd_s3_url_split(const char *url, char **bucket, char **key, rd_error *err)
{
    if (!rd_s3_is_url(url) || url[5] == '/' || url[5] == '\0')
        return RD_ERR(err, RD_ERR_CONFIG, "expected s3://bucket/key, got \"%s\"", url ? url : "");
    const char *b = url + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    char *bk = malloc(blen + 1), *k = rd_strdup(slash ? slash + 1 : "");
    if (!bk || !k) {
        free(bk);
        free(k);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    memcpy(bk, b, blen);
    bk[blen] = '\0';
    *bucket = bk;
    *key = k;
    return RD_OK;
}
