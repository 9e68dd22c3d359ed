/* artifact_decode.c: recognise wrapping and dump formats from leading bytes,
 * and unwrap gzip (zlib inflate, windowBits 15+32, multi-member) and zstd
 * (ZSTD_decompressStream, multi-frame) with fixed buffers. */
#include "artifact_int.h"
#include "restoredrill/artifact.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define IN_CAP ((size_t)128 * 1024)

static const char *const format_names[] = {"unknown", "pg-custom", "pg-directory", "pg-plain",
                                           "mariadb-sql"};

const char *rd_format_name(rd_format f)
{
    if ((unsigned)f < sizeof format_names / sizeof format_names[0])
        return format_names[f];
    return "unknown";
}

rd_format rd_format_parse(const char *s)
{
    for (size_t i = 1; s && i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(s, format_names[i]) == 0)
            return (rd_format)i;
    return RD_FMT_UNKNOWN;
}

const char *rd_wrap_name(rd_wrap w)
{
    switch (w) {
    case RD_WRAP_GZIP:
        return "gzip";
    case RD_WRAP_ZSTD:
        return "zstd";
    case RD_WRAP_NONE:
        break;
    }
    return "none";
}

rd_wrap rd_wrap_detect(const void *head, size_t n)
{
    const unsigned char *p = head;
    if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
        return RD_WRAP_GZIP;
    if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
        return RD_WRAP_ZSTD;
    return RD_WRAP_NONE;
}

static int has(const char *h, size_t n, const char *needle)
{
    return memmem(h, n, needle, strlen(needle)) != NULL;
}

/* 1 when the head looks like text (no NUL, few control bytes). */
static int is_text(const unsigned char *p, size_t n)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == 0)
            return 0;
        if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t' && p[i] != '\f')
            bad++;
    }
    return bad * 100 <= n;
}

rd_format rd_format_detect(const void *head, size_t n)
{
    const char *h = head;
    if (n >= 5 && memcmp(h, "PGDMP", 5) == 0)
        return RD_FMT_PG_CUSTOM;
    if (n == 0 || !is_text(head, n))
        return RD_FMT_UNKNOWN;
    /* The tools' header comments are the strongest evidence. */
    if (has(h, n, "-- MariaDB dump") || has(h, n, "-- MySQL dump"))
        return RD_FMT_MARIADB_SQL;
    if (has(h, n, "-- PostgreSQL database dump") ||
        has(h, n, "-- PostgreSQL database cluster dump"))
        return RD_FMT_PG_PLAIN;
    /* Then the session settings each tool writes first. */
    if (has(h, n, "/*!40101 SET") || has(h, n, "/*!40014 SET") || has(h, n, "/*!40103 SET"))
        return RD_FMT_MARIADB_SQL;
    if (has(h, n, "SET standard_conforming_strings = ") || has(h, n, "SET client_encoding = '") ||
        has(h, n, "pg_catalog.set_config('search_path'") ||
        has(h, n, "SET idle_in_transaction_session_timeout = "))
        return RD_FMT_PG_PLAIN;
    return RD_FMT_UNKNOWN;
}

struct rd_decoder {
    rd_wrap wrap;
    char *name;
    unsigned char *in;
    size_t in_pos, in_len;
    int in_eof;
    z_stream zs;
    int zinit;
    int member_done;
    ZSTD_DStream *zd;
    size_t zret;
};

rd_status rd_decoder_new(rd_wrap wrap, const char *name, const void *prefill, size_t n,
                         rd_decoder **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    d->wrap = wrap;
    d->name = strdup(name ? name : "artifact");
    d->in = malloc(n > IN_CAP ? n : IN_CAP);
    if (!d->name || !d->in) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (n)
        memcpy(d->in, prefill, n);
    d->in_len = n;
    if (wrap == RD_WRAP_GZIP) {
        if (inflateInit2(&d->zs, 15 + 32) != Z_OK) {
            st = RD_ERR(err, RD_ERR_NOMEM, "cannot initialise zlib");
            goto out;
        }
        d->zinit = 1;
    } else if (wrap == RD_WRAP_ZSTD) {
        d->zd = ZSTD_createDStream();
        if (!d->zd || ZSTD_isError(ZSTD_initDStream(d->zd))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "cannot initialise zstd");
            goto out;
        }
        d->zret = 1;
    }
    *out = d;
    d = NULL;
out:
    rd_decoder_free(d);
    return st;
}

void rd_decoder_free(rd_decoder *d)
{
    if (!d)
        return;
    if (d->zinit)
        inflateEnd(&d->zs);
    ZSTD_freeDStream(d->zd);
    free(d->in);
    free(d->name);
    free(d);
}

/* Refill the input buffer when it is empty. */
static rd_status fill(rd_decoder *d, rd_source_fn src, void *ctx, rd_error *err)
{
    if (d->in_pos < d->in_len || d->in_eof)
        return RD_OK;
    size_t r = 0;
    rd_status st = src(ctx, d->in, IN_CAP, &r, err);
    if (st != RD_OK)
        return st;
    d->in_pos = 0;
    d->in_len = r;
    if (r == 0)
        d->in_eof = 1;
    return RD_OK;
}

static rd_status read_gzip(rd_decoder *d, rd_source_fn src, void *ctx, unsigned char *buf,
                           size_t cap, size_t *n, rd_error *err)
{
    for (;;) {
        rd_status st = fill(d, src, ctx, err);
        if (st != RD_OK)
            return st;
        if (d->member_done) {
            if (d->in_pos < d->in_len) { /* another gzip member follows */
                inflateReset(&d->zs);
                d->member_done = 0;
            } else if (d->in_eof) {
                *n = 0;
                return RD_OK;
            } else {
                continue;
            }
        }
        d->zs.next_in = d->in + d->in_pos;
        d->zs.avail_in = (uInt)(d->in_len - d->in_pos);
        d->zs.next_out = buf;
        d->zs.avail_out = (uInt)cap;
        int ret = inflate(&d->zs, Z_NO_FLUSH);
        d->in_pos = d->in_len - d->zs.avail_in;
        size_t produced = cap - d->zs.avail_out;
        if (ret == Z_STREAM_END)
            d->member_done = 1;
        else if (ret == Z_DATA_ERROR || ret == Z_NEED_DICT || ret == Z_STREAM_ERROR)
            return RD_ERR(err, RD_ERR_INTEGRITY, "corrupt gzip stream in %s: %s", d->name,
                          d->zs.msg ? d->zs.msg : "invalid data");
        else if (ret == Z_MEM_ERROR)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory decompressing %s", d->name);
        if (produced > 0) {
            *n = produced;
            return RD_OK;
        }
        if (!d->member_done && d->in_eof && d->in_pos == d->in_len)
            return RD_ERR(err, RD_ERR_INTEGRITY, "truncated gzip stream in %s", d->name);
    }
}

static rd_status read_zstd(rd_decoder *d, rd_source_fn src, void *ctx, unsigned char *buf,
                           size_t cap, size_t *n, rd_error *err)
{
    for (;;) {
        rd_status st = fill(d, src, ctx, err);
        if (st != RD_OK)
            return st;
        if (d->in_eof && d->in_pos == d->in_len && d->zret == 0) {
            *n = 0;
            return RD_OK;
        }
        ZSTD_inBuffer ib = {d->in, d->in_len, d->in_pos};
        ZSTD_outBuffer ob = {buf, cap, 0};
        size_t r = ZSTD_decompressStream(d->zd, &ob, &ib);
        d->in_pos = ib.pos;
        if (ZSTD_isError(r))
            return RD_ERR(err, RD_ERR_INTEGRITY, "corrupt zstd stream in %s: %s", d->name,
                          ZSTD_getErrorName(r));
        d->zret = r;
        if (ob.pos > 0) {
            *n = ob.pos;
            return RD_OK;
        }
        if (d->in_eof && d->in_pos == d->in_len && d->zret != 0)
            return RD_ERR(err, RD_ERR_INTEGRITY, "truncated zstd stream in %s", d->name);
    }
}

int art_decoder_passes_through(const rd_decoder *d)
{
    return d->wrap == RD_WRAP_NONE && d->in_pos == d->in_len && !d->in_eof;
}

rd_status rd_decoder_read(rd_decoder *d, rd_source_fn src, void *ctx, void *buf, size_t cap,
                          size_t *n, rd_error *err)
{
    *n = 0;
    if (cap == 0)
        return RD_OK;
    if (d->wrap == RD_WRAP_GZIP)
        return read_gzip(d, src, ctx, buf, cap > UINT32_MAX ? UINT32_MAX : cap, n, err);
    if (d->wrap == RD_WRAP_ZSTD)
        return read_zstd(d, src, ctx, buf, cap, n, err);
    if (d->in_pos < d->in_len) {
        size_t k = d->in_len - d->in_pos;
        if (k > cap)
            k = cap;
        memcpy(buf, d->in + d->in_pos, k);
        d->in_pos += k;
        *n = k;
        return RD_OK;
    }
    if (d->in_eof)
        return RD_OK;
    rd_status st = src(ctx, buf, cap, n, err);
    if (st == RD_OK && *n == 0)
        d->in_eof = 1;
    return st;
}
