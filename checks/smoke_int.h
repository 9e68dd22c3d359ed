/* smoke_int.h: the HTTP probe shared by checks/smoke.c and checks/smoke_http.c
 * (the only smoke file that includes curl). */
#ifndef RESTOREDRILL_SMOKE_INT_H
#define RESTOREDRILL_SMOKE_INT_H

#include "restoredrill/error.h"
#include "restoredrill/strbuf.h"

/* One HTTP request with libcurl. headers: NULL-terminated "Name: value";
 * body NULL for none; timeout seconds. On RD_OK *status is the HTTP status,
 * resp holds the body (capped at resp->max, the rest dropped), *seconds the
 * latency. Transport errors (refused, timeout) are RD_ERR_NET with curl's
 * message; the URL's userinfo is never printed. */
rd_status rd_smoke_http(const char *method, const char *url, const char *const *headers,
                        const char *body, double timeout, long *status, rd_strbuf *resp,
                        double *seconds, rd_error *err);

#endif
