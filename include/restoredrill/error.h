/* error.h: status codes and the error record every fallible function fills.
 *
 * Fallible functions return rd_status and take `rd_error *err` last. They fill
 * err (when non-NULL) through RD_ERR() on failure; err is untouched on success.
 * Messages are lowercase, without final punctuation, and never hold secrets. */
#ifndef RESTOREDRILL_ERROR_H
#define RESTOREDRILL_ERROR_H

#include <stddef.h>

typedef enum rd_status {
    RD_OK = 0,
    RD_ERR_USAGE,       /* bad command line */
    RD_ERR_CONFIG,      /* bad configuration */
    RD_ERR_IO,          /* file or pipe i/o */
    RD_ERR_NOMEM,       /* allocation failed or a capped buffer is full */
    RD_ERR_DB,          /* database error reported by the server or client library */
    RD_ERR_CONNECT,     /* cannot connect / authenticate */
    RD_ERR_TIMEOUT,     /* a deadline passed */
    RD_ERR_PROC,        /* a child process could not start or failed */
    RD_ERR_FORMAT,      /* malformed input: dump, manifest, JSON, timestamp */
    RD_ERR_INTEGRITY,   /* checksum mismatch, truncated or corrupt artifact */
    RD_ERR_NOTFOUND,    /* a named thing does not exist */
    RD_ERR_UNSUPPORTED, /* valid in the contract, not implemented (yet) */
    RD_ERR_REFUSED,     /* a safety rule refused the operation */
    RD_ERR_NET,         /* HTTP / network */
    RD_ERR_ABORTED,     /* interrupted by a signal */
    RD_ERR_INTERNAL     /* a bug */
} rd_status;

#define RD_ERROR_MSG_MAX 1024

typedef struct rd_error {
    rd_status code;
    int sys_errno;              /* errno at the failure, 0 when not relevant */
    char msg[RD_ERROR_MSG_MAX]; /* "cannot open /x: No such file or directory" */
} rd_error;

/* Short fixed name of a status ("timeout", "database error"); never NULL. */
const char *rd_strerror(rd_status code);

/* Fill err (no-op when err is NULL) and return code, so callers can write
 * `return RD_ERR(err, RD_ERR_IO, "cannot open %s", path);`. */
rd_status rd_error_set(rd_error *err, rd_status code, int sys_errno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepend context to an existing message: "restore: " + old message. Keeps code
 * and errno. Returns err->code (RD_OK when err is NULL). */
rd_status rd_error_prefix(rd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reset to RD_OK with an empty message. */
void rd_error_clear(rd_error *err);

#define RD_ERR(err, code, ...) rd_error_set((err), (code), 0, __VA_ARGS__)
/* Like RD_ERR but records errno and appends ": strerror(errno)". */
#define RD_ERR_ERRNO(err, code, ...) rd_error_set((err), (code), errno, __VA_ARGS__)

#endif
