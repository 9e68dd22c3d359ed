/* strbuf.h: growable, capped, always NUL-terminated byte buffer.
 *
 * A zeroed struct is not usable; call rd_strbuf_init. Appends past `max`
 * fail with RD_ERR_NOMEM and leave the buffer as it was. */
#ifndef RESTOREDRILL_STRBUF_H
#define RESTOREDRILL_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "restoredrill/error.h"

#define RD_STRBUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

typedef struct rd_strbuf {
    char *data; /* NUL-terminated, never NULL after init */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* most bytes (excluding NUL) the buffer may hold */
} rd_strbuf;

/* max == 0 means RD_STRBUF_DEFAULT_MAX. Cannot fail: allocation is lazy
 * (data points to a static "" until the first append). */
void rd_strbuf_init(rd_strbuf *sb, size_t max);
void rd_strbuf_free(rd_strbuf *sb);  /* harmless on a zeroed or freed buffer */
void rd_strbuf_reset(rd_strbuf *sb); /* len = 0, keeps memory */

rd_status rd_strbuf_append(rd_strbuf *sb, const char *s, rd_error *err);
rd_status rd_strbuf_append_n(rd_strbuf *sb, const void *p, size_t n, rd_error *err);
rd_status rd_strbuf_append_char(rd_strbuf *sb, char c, rd_error *err);
rd_status rd_strbuf_appendf(rd_strbuf *sb, rd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
rd_status rd_strbuf_vappendf(rd_strbuf *sb, rd_error *err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Hand the heap string to the caller (who frees it) and reinitialise sb.
 * Returns a heap "" for an empty buffer; NULL only on allocation failure. */
char *rd_strbuf_detach(rd_strbuf *sb);

/* Keep only the last `n` bytes (for stderr tails). */
void rd_strbuf_keep_tail(rd_strbuf *sb, size_t n);

/* strdup that returns NULL for NULL. */
char *rd_strdup(const char *s);
/* malloc'ed printf; NULL on allocation failure. */
char *rd_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The value of the hex digit c (0-9, a-f, A-F): 0..15; -1 for anything else
 * (NUL and bytes above 127 included). For %XX decoding. */
int rd_hex_value(int c);

#endif
