/* notify.c: POST a short JSON summary of the drill to a webhook (libcurl).
 * Never fails the drill: errors are logged with the URL reduced to
 * scheme://host[:port] (webhook paths and queries often embed tokens). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/log.h"
#include "restoredrill/report.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

char *rd_notify_body(const rd_report *r)
{
    int oom = 0;
    char *text = NULL, *out = NULL;
    cJSON *o = cJSON_CreateObject();
    rd_json_put_str(o, "drill", r->drill_id, &oom);
    rd_json_put_str(o, "name", r->name, &oom);
    rd_json_put_str(o, "status", rd_verdict_name(r->status), &oom);
    cJSON *ts = cJSON_CreateArray();
    for (size_t i = 0; ts && i < r->ntargets; i++) {
        cJSON *t = cJSON_CreateObject();
        rd_json_put_str(t, "name", r->targets[i].name, &oom);
        rd_json_put_str(t, "status", rd_verdict_name(rd_report_target_status(&r->targets[i])),
                        &oom);
        char *red = rd_text_redact_dup(r->targets[i].error);
        rd_json_put_str(t, "error", red, &oom);
        free(red);
        rd_json_push(ts, t, &oom);
    }
    if (!ts || !cJSON_AddItemToObject(o, "targets", ts)) {
        cJSON_Delete(ts);
        oom = 1;
    }
    if (!oom && (text = cJSON_PrintUnformatted(o)))
        out = rd_strdup(text);
    cJSON_free(text);
    cJSON_Delete(o);
    return out;
}

int rd_notify_wanted(const rd_notify_cfg *cfg, const rd_report *r)
{
    if (!cfg || !cfg->webhook || !cfg->webhook[0])
        return 0;
    if (cfg->on && strcmp(cfg->on, "never") == 0)
        return 0;
    if (cfg->on && strcmp(cfg->on, "always") == 0)
        return 1;
    return r->status != RD_PASSED; /* "failure", the default */
}

/* scheme://host[:port] of url into buf, or "the webhook" when unparsable. */
static void display_url(const char *url, char *buf, size_t bufsz)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    snprintf(buf, bufsz, "the webhook");
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
            snprintf(buf, bufsz, "%s://%s:%s", scheme, host, port);
        else
            snprintf(buf, bufsz, "%s://%s", scheme, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
}

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

void rd_notify_send(const rd_notify_cfg *cfg, const rd_report *r)
{
    CURL *c = NULL;
    struct curl_slist *hdrs = NULL;
    char *body = NULL;
    char where[256], errbuf[CURL_ERROR_SIZE];
    long code = 0;
    if (!r || !rd_notify_wanted(cfg, r))
        return;
    display_url(cfg->webhook, where, sizeof where);
    if (!(body = rd_notify_body(r)) || !(c = curl_easy_init())) {
        rd_log_warn("notify: cannot post to %s: out of memory", where);
        goto out;
    }
    double timeout = cfg->timeout > 0 ? cfg->timeout : 10;
    errbuf[0] = '\0';
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, cfg->webhook);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout * 1000));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "restoredrill/" RD_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        /* curl's messages can quote the URL: print only the code's text */
        rd_log_warn("notify: post to %s failed: %s", where, curl_easy_strerror(rc));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300)
        rd_log_warn("notify: post to %s failed: http status %ld", where, code);
    else
        rd_log_debug("notify: posted the drill summary to %s (http %ld)", where, code);
out:
    curl_slist_free_all(hdrs);
    if (c)
        curl_easy_cleanup(c);
    free(body);
}
