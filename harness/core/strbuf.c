/* strbuf.c: growable capped string buffer. */
#include "restoredrill/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char empty[1];

void rd_strbuf_init(rd_strbuf *sb, size_t max)
{
    sb->data = empty;
    sb->len = 0;
    sb->cap = 0;
    sb->max = max ? max : RD_STRBUF_DEFAULT_MAX;
}

void rd_strbuf_free(rd_strbuf *sb)
{
    if (!sb)
        return;
    if (sb->cap)
        free(sb->data);
    sb->data = empty;
    sb->len = 0;
    sb->cap = 0;
}

void rd_strbuf_reset(rd_strbuf *sb)
{
    sb->len = 0;
    if (sb->cap)
        sb->data[0] = '\0';
}

static rd_status grow(rd_strbuf *sb, size_t add, rd_error *err)
{
    if (sb->max == 0)
        sb->max = RD_STRBUF_DEFAULT_MAX;
    if (add > sb->max || sb->len > sb->max - add)
        return RD_ERR(err, RD_ERR_NOMEM, "buffer limit of %zu bytes reached", sb->max);
    size_t need = sb->len + add + 1;
    if (need <= sb->cap)
        return RD_OK;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    char *p = realloc(sb->cap ? sb->data : NULL, cap);
    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    if (!sb->cap)
        p[0] = '\0';
    sb->data = p;
    sb->cap = cap;
    return RD_OK;
}

rd_status rd_strbuf_append_n(rd_strbuf *sb, const void *p, size_t n, rd_error *err)
{
    if (n == 0)
        return RD_OK;
    rd_status st = grow(sb, n, err);
    if (st != RD_OK)
        return st;
    memcpy(sb->data + sb->len, p, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
    return RD_OK;
}

rd_status rd_strbuf_append(rd_strbuf *sb, const char *s, rd_error *err)
{
    return rd_strbuf_append_n(sb, s, strlen(s), err);
}

rd_status rd_strbuf_append_char(rd_strbuf *sb, char c, rd_error *err)
{
    return rd_strbuf_append_n(sb, &c, 1, err);
}

rd_status rd_strbuf_vappendf(rd_strbuf *sb, rd_error *err, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return RD_ERR(err, RD_ERR_INTERNAL, "bad format string");
    rd_status st = grow(sb, (size_t)n, err);
    if (st != RD_OK)
        return st;
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
    return RD_OK;
}

rd_status rd_strbuf_appendf(rd_strbuf *sb, rd_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rd_status st = rd_strbuf_vappendf(sb, err, fmt, ap);
    va_end(ap);
    return st;
}

char *rd_strbuf_detach(rd_strbuf *sb)
{
    char *out = sb->cap ? sb->data : rd_strdup("");
    size_t max = sb->max;
    rd_strbuf_init(sb, max);
    return out;
}

void rd_strbuf_keep_tail(rd_strbuf *sb, size_t n)
{
    if (sb->len <= n)
        return;
    memmove(sb->data, sb->data + (sb->len - n), n);
    sb->len = n;
    sb->data[n] = '\0';
}

char *rd_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *rd_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int rd_hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
