/* smoke_http.c: one HTTP request for the smoke check, through libcurl (the
 * only file of the checks that includes curl.h).
 *
 * A transport failure (refused, timeout, DNS) is RD_ERR_NET with curl's
 * message and the URL redacted; any HTTP status is RD_OK with *status set.
 * The response body is kept up to body->max bytes (the rest is discarded,
 * not an error). Local addresses never go through a proxy from the
 * environment. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/error.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"
#include "smoke_int.h"

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    rd_strbuf *b = ud;
    size_t n = size * nmemb;
    size_t room = b->max > b->len ? b->max - b->len : 0;
    if (room > 0)
        rd_strbuf_append_n(b, ptr, n < room ? n : room, NULL);
    return n; /* keep reading: the rest is dropped */
}

rd_status rd_smoke_http(const char *method, const char *url, const char *const *headers,
                        const char *body, double timeout, long *status, rd_strbuf *resp,
                        double *seconds, rd_error *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    char *noproxy = NULL;
    rd_status st = RD_OK;
    if (!h)
        return RD_ERR(err, RD_ERR_NOMEM, "cannot initialise libcurl");
    for (size_t i = 0; headers && headers[i]; i++) {
        struct curl_slist *n = curl_slist_append(hl, headers[i]);
        if (!n) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        hl = n;
    }
    const char *envnp = getenv("no_proxy") ? getenv("no_proxy") : getenv("NO_PROXY");
    noproxy =
        rd_asprintf("%s%slocalhost,127.0.0.1,::1", envnp ? envnp : "", envnp && *envnp ? "," : "");
    long ms = timeout > 0 ? (long)(timeout * 1000.0) : 10000;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms < 1 ? 1L : ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms < 1 ? 1L : ms);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "restoredrill-smoke");
    if (noproxy)
        curl_easy_setopt(h, CURLOPT_NOPROXY, noproxy);
    if (hl)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    else if (method && strcmp(method, body ? "POST" : "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    rd_strbuf_reset(resp);
    CURLcode rc = curl_easy_perform(h);
    double total = 0;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME, &total);
    *seconds = total;
    if (rc != CURLE_OK) {
        char raw[RD_ERROR_MSG_MAX], red[RD_ERROR_MSG_MAX];
        size_t n = strlen(errbuf);
        while (n > 0 && (errbuf[n - 1] == '\n' || errbuf[n - 1] == '\r'))
            errbuf[--n] = '\0';
        snprintf(raw, sizeof raw, "%s %s: %s", method ? method : "GET", url,
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
        rd_redact(raw, red, sizeof red);
        st = RD_ERR(err, rc == CURLE_OPERATION_TIMEDOUT ? RD_ERR_TIMEOUT : RD_ERR_NET, "%s", red);
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
out:
    free(noproxy);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    return st;
}
