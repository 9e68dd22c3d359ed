/* s3_sts.c: the two STS calls a profile may need: AssumeRole (a form POST
 * signed with SigV4 for service "sts" by libcurl) and
 * AssumeRoleWithWebIdentity (unsigned), and the reading of their answers.
 * No credential is ever logged. */
#include "s3_int.h"

#include "restoredrill/clock.h"

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STS_TIMEOUT 30L
#define STS_BODY_MAX ((size_t)64 * 1024)

rd_status s3_sts_post(const char *endpoint, const char *region, const char *form,
                      const s3_creds *src, long *status, rd_strbuf *out, rd_error *err)
{
    rd_status st = RD_OK;
    struct curl_slist *h = NULL, *n;
    char errbuf[CURL_ERROR_SIZE], *sigv4 = NULL, *tok = NULL, *url = NULL;
    s3_capped_body b = {out, STS_BODY_MAX, 0};
    if (strncmp(endpoint, "http://", 7) != 0 && strncmp(endpoint, "https://", 8) != 0)
        return RD_ERR(
            err, RD_ERR_CONFIG,
            "sts endpoint: expected http://host[:port] or https://host[:port], got \"%s\"",
            endpoint);
    CURL *c = curl_easy_init();
    if (!c)
        return RD_ERR(err, RD_ERR_NOMEM, "cannot initialise libcurl");
    size_t el = strlen(endpoint);
    url = rd_asprintf("%s%s", endpoint, el && endpoint[el - 1] == '/' ? "" : "/");
    if (!url || !(n = curl_slist_append(h, "Content-Type: application/x-www-form-urlencoded"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    h = n;
    if (src) {
        if (!(sigv4 = rd_asprintf("aws:amz:%s:sts", region))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (src->token) {
            if (!(tok = rd_asprintf("x-amz-security-token: %s", src->token)) ||
                !(n = curl_slist_append(h, tok))) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
                goto out;
            }
            h = n;
        }
        curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
        curl_easy_setopt(c, CURLOPT_USERNAME, src->key_id);
        curl_easy_setopt(c, CURLOPT_PASSWORD, src->secret);
    }
    errbuf[0] = '\0';
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, STS_TIMEOUT);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_capped_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode rc = curl_easy_perform(c);
    if (b.overflow) {
        st = RD_ERR(err, RD_ERR_NET, "%s answered with more than %zu bytes", url, STS_BODY_MAX);
    } else if (rc != CURLE_OK) {
        st = RD_ERR(err, rc == CURLE_OPERATION_TIMEDOUT ? RD_ERR_TIMEOUT : RD_ERR_NET, "%s%s%s",
                    curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
    } else {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    }
out:
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (tok)
        memset(tok, 0, strlen(tok));
    free(tok);
    free(sigv4);
    free(url);
    return st;
}

static const xmlNode *find(const xmlNode *n, const char *name)
{
    for (; n; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n;
        const xmlNode *in = find(n->children, name);
        if (in)
            return in;
    }
    return NULL;
}

static char *child_text(const xmlNode *parent, const char *name)
{
    const xmlNode *n = parent ? find(parent->children, name) : NULL;
    xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
    char *r = t ? rd_strdup((const char *)t) : NULL;
    if (t) {
        memset(t, 0, strlen((const char *)t));
        xmlFree(t);
    }
    return r;
}

static xmlDocPtr parse(const char *xml, size_t len)
{
    if (!xml || len == 0 || len > INT32_MAX)
        return NULL;
    return xmlReadMemory(xml, (int)len, "sts.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

rd_status s3_sts_parse(const char *xml, size_t len, const char *action, s3_creds *c, rd_error *err)
{
    rd_status st = RD_OK;
    xmlDocPtr doc = parse(xml, len);
    const xmlNode *cr = doc ? find(xmlDocGetRootElement(doc), "Credentials") : NULL;
    char *id = child_text(cr, "AccessKeyId"), *secret = child_text(cr, "SecretAccessKey");
    char *token = child_text(cr, "SessionToken"), *exp = child_text(cr, "Expiration");
    int64_t ms = 0;
    if (!id || !secret || !token || !*id || !*secret || !*token) {
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "sts %s: expected Credentials with AccessKeyId, SecretAccessKey and "
                    "SessionToken in the answer",
                    action);
    } else if (exp && rd_time_parse(exp, &ms, NULL) != RD_OK) {
        st = RD_ERR(err, RD_ERR_FORMAT, "sts %s: Expiration: expected an RFC 3339 time", action);
    } else {
        c->key_id = id;
        c->secret = secret;
        c->token = token;
        c->expires_ms = ms;
        id = secret = token = NULL;
    }
    if (secret)
        memset(secret, 0, strlen(secret));
    free(id);
    free(secret);
    free(token);
    free(exp);
    xmlFreeDoc(doc);
    return st;
}

void s3_sts_error(const char *xml, size_t len, char *code, size_t codesz, char *msg, size_t msgsz)
{
    xmlDocPtr doc = parse(xml, len);
    const xmlNode *e = doc ? find(xmlDocGetRootElement(doc), "Error") : NULL;
    char *c = child_text(e, "Code"), *m = child_text(e, "Message");
    snprintf(code, codesz, "%s", c ? c : "");
    snprintf(msg, msgsz, "%s", m ? m : "");
    free(c);
    free(m);
    xmlFreeDoc(doc);
}
