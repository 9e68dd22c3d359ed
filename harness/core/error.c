/* error.c: status names and the error record. */
#include "restoredrill/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *rd_strerror(rd_status code)
{
    switch (code) {
    case RD_OK:
        return "ok";
    case RD_ERR_USAGE:
        return "usage error";
    case RD_ERR_CONFIG:
        return "configuration error";
    case RD_ERR_IO:
        return "i/o error";
    case RD_ERR_NOMEM:
        return "out of memory";
    case RD_ERR_DB:
        return "database error";
    case RD_ERR_CONNECT:
        return "connection error";
    case RD_ERR_TIMEOUT:
        return "timeout";
    case RD_ERR_PROC:
        return "child process error";
    case RD_ERR_FORMAT:
        return "malformed input";
    case RD_ERR_INTEGRITY:
        return "integrity error";
    case RD_ERR_NOTFOUND:
        return "not found";
    case RD_ERR_UNSUPPORTED:
        return "not supported";
    case RD_ERR_REFUSED:
        return "refused";
    case RD_ERR_NET:
        return "network error";
    case RD_ERR_ABORTED:
        return "aborted";
    case RD_ERR_INTERNAL:
        return "internal error";
    }
    return "unknown error";
}

rd_status rd_error_set(rd_error *err, rd_status code, int sys_errno, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        err->msg[0] = '\0';
    if (sys_errno != 0) {
        size_t len = strlen(err->msg);
        if (len < sizeof err->msg)
            snprintf(err->msg + len, sizeof err->msg - len, ": %s", strerror(sys_errno));
    }
    return code;
}

rd_status rd_error_prefix(rd_error *err, const char *fmt, ...)
{
    if (!err)
        return RD_OK;
    char prefix[RD_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err->code;
    size_t plen = strlen(prefix);
    size_t olen = strnlen(err->msg, sizeof err->msg - 1);
    if (plen > sizeof err->msg - 1)
        plen = sizeof err->msg - 1;
    if (olen > sizeof err->msg - 1 - plen)
        olen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + olen] = '\0';
    return err->code;
}

void rd_error_clear(rd_error *err)
{
    if (!err)
        return;
    err->code = RD_OK;
    err->sys_errno = 0;
    err->msg[0] = '\0';
}
