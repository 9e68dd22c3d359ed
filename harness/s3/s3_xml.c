/* s3_xml.c: the XML documents S3 answers with (listings, errors, upload
 * ids), read with libxml2 (no network, no entity expansion); never by
 * searching strings. Keys of url-encoded listings are decoded here. */
#include "s3_int.h"

#include "restoredrill/clock.h"
#include "restoredrill/strbuf.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static xmlDocPtr parse(const char *xml, size_t len)
{
    if (!xml || len == 0 || len > (size_t)0x7fffffff)
        return NULL;
    return xmlReadMemory(xml, (int)len, "s3.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

/* Heap copy of an element's text ("" for an empty element), NULL when absent. */
static char *text_of(const xmlNode *n)
{
    if (!n)
        return NULL;
    xmlChar *t = xmlNodeGetContent(n);
    char *s = rd_strdup(t ? (const char *)t : "");
    xmlFree(t);
    return s;
}

static char *child_text(const xmlNode *n, const char *name)
{
    return text_of(child(n, name));
}

static void copy_child(const xmlNode *n, const char *name, char *dst, size_t dsz)
{
    char *t = child_text(n, name);
    snprintf(dst, dsz, "%s", t ? t : "");
    free(t);
}

void rd_s3_xml_error(const char *xml, size_t len, char *code, size_t codesz, char *msg,
                     size_t msgsz)
{
    code[0] = msg[0] = '\0';
    xmlDocPtr doc = parse(xml, len);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (root && is(root, "Error")) {
        copy_child(root, "Code", code, codesz);
        copy_child(root, "Message", msg, msgsz);
    }
    xmlFreeDoc(doc);
}

/* In place: %XX and '+' (a space) as S3's encoding-type=url writes them. */
static void url_decode(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (*r == '%' && (hi = rd_hex_value(r[1])) >= 0 && (lo = rd_hex_value(r[2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r == '+' ? ' ' : *r;
        }
    }
    *w = '\0';
}

static rd_status add_object(const xmlNode *n, int url_encoded, int marker, rd_s3_objects *out,
                            rd_error *err)
{
    rd_s3_object o;
    memset(&o, 0, sizeof o);
    o.size = -1;
    o.mtime_ms = -1;
    o.key = child_text(n, "Key");
    if (!o.key)
        return RD_ERR(err, RD_ERR_FORMAT, "s3 listing: an entry without a Key");
    if (url_encoded)
        url_decode(o.key);
    char *size = child_text(n, "Size"), *lm = child_text(n, "LastModified");
    char *latest = child_text(n, "IsLatest");
    if (size) {
        char *end = NULL;
        long long v = strtoll(size, &end, 10);
        if (end != size && *end == '\0' && v >= 0)
            o.size = v;
    } else if (marker) {
        o.size = 0;
    }
    if (lm) {
        int64_t ms = 0;
        if (rd_time_parse(lm, &ms, NULL) == RD_OK)
            o.mtime_ms = ms;
    }
    o.etag = child_text(n, "ETag");
    if (o.etag) {
        size_t l = strlen(o.etag);
        if (l >= 2 && o.etag[0] == '"' && o.etag[l - 1] == '"') {
            memmove(o.etag, o.etag + 1, l - 2);
            o.etag[l - 2] = '\0';
        }
    }
    o.version_id = child_text(n, "VersionId");
    o.is_latest = latest && strcmp(latest, "true") == 0;
    o.delete_marker = marker;
    free(size);
    free(lm);
    free(latest);
    rd_s3_object *items = realloc(out->items, (out->n + 1) * sizeof *items);
    if (!items) {
        rd_s3_object_clear(&o);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory reading an s3 listing");
    }
    out->items = items;
    out->items[out->n++] = o;
    return RD_OK;
}

rd_status rd_s3_xml_list(const char *xml, size_t len, int versions, rd_s3_objects *out, char **next,
                         char **next_version, rd_error *err)
{
    rd_status st = RD_OK;
    *next = NULL;
    if (next_version)
        *next_version = NULL;
    xmlDocPtr doc = parse(xml, len);
    const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
    const char *want = versions ? "ListVersionsResult" : "ListBucketResult";
    if (!root || !is(root, want)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "s3 listing: expected a <%s> document", want);
        goto out;
    }
    char *enc = child_text(root, "EncodingType");
    int url_encoded = enc && strcmp(enc, "url") == 0;
    free(enc);
    for (const xmlNode *c = root->children; c && st == RD_OK; c = c->next) {
        if (!versions && is(c, "Contents"))
            st = add_object(c, url_encoded, 0, out, err);
        else if (versions && (is(c, "Version") || is(c, "DeleteMarker")))
            st = add_object(c, url_encoded, is(c, "DeleteMarker"), out, err);
    }
    if (st != RD_OK)
        goto out;
    char *trunc = child_text(root, "IsTruncated");
    int truncated = trunc && strcmp(trunc, "true") == 0;
    free(trunc);
    if (truncated) {
        char *tok = child_text(root, versions ? "NextKeyMarker" : "NextContinuationToken");
        if (!tok || !*tok) {
            free(tok);
            st = RD_ERR(err, RD_ERR_FORMAT, "s3 listing: truncated without a %s",
                        versions ? "NextKeyMarker" : "NextContinuationToken");
            goto out;
        }
        if (versions && url_encoded)
            url_decode(tok);
        *next = tok;
        if (versions && next_version) {
            *next_version = child_text(root, "NextVersionIdMarker");
            if (*next_version && url_encoded)
                url_decode(*next_version);
        }
    }
out:
    xmlFreeDoc(doc);
    return st;
}

static const xmlNode *find(const xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (is(n, name))
            return n;
        const xmlNode *f = find(n->children, name);
        if (f)
            return f;
    }
    return NULL;
}

char *s3_xml_text(const char *xml, size_t len, const char *name)
{
    xmlDocPtr doc = parse(xml, len);
    char *t = doc ? text_of(find(xmlDocGetRootElement(doc), name)) : NULL;
    xmlFreeDoc(doc);
    return t;
}

/* --- what a listing holds --- */

void rd_s3_object_clear(rd_s3_object *o)
{
    if (!o)
        return;
    free(o->key);
    free(o->etag);
    free(o->checksum_sha256);
    free(o->version_id);
    memset(o, 0, sizeof *o);
}

void rd_s3_objects_free(rd_s3_objects *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        rd_s3_object_clear(&l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}
