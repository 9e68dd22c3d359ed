/* pg_header.c: the database name a pg_dump archive (custom format, or a
 * directory dump's toc.dat) records in its header, read from the archive's
 * first bytes without running pg_restore. The layout is pg_dump's
 * (pg_backup_archiver.c, ReadHead): "PGDMP", version major/minor/revision,
 * int size, offset size, format, compression (one byte from 1.15, an int
 * before), the creation time as 7 ints, then the database name as a
 * length-prefixed string. An int is a sign byte and `int size` bytes, least
 * significant first. Everything is bounds-checked: the bytes are outside
 * input (tests/fuzz/fuzz_pg_header.c). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/artifact.h"

#define NAME_MAX_BYTES 1024

typedef struct cursor {
    const unsigned char *p;
    size_t n, pos;
    unsigned int_size;
} cursor;

static int take(cursor *c, size_t k, const unsigned char **out)
{
    if (c->n - c->pos < k)
        return 0;
    *out = c->p + c->pos;
    c->pos += k;
    return 1;
}

/* One archive int; 0 when the bytes run out or it does not fit in 31 bits. */
static int read_int(cursor *c, long *out)
{
    const unsigned char *b;
    unsigned long v = 0;
    if (!take(c, 1, &b))
        return 0;
    int neg = b[0] != 0;
    if (!take(c, c->int_size, &b))
        return 0;
    for (unsigned i = 0; i < c->int_size; i++) {
        if (i >= 4 && b[i] != 0)
            return 0; /* beyond 32 bits: not a header we wrote */
        if (i < 4)
            v |= (unsigned long)b[i] << (8 * i);
    }
    if (v > 0x7fffffffUL)
        return 0;
    *out = neg ? -(long)v : (long)v;
    return 1;
}

rd_status rd_pg_archive_dbname(const void *head, size_t n, char **out, rd_error *err)
{
    cursor c = {head, n, 0, 0};
    const unsigned char *b;
    long v;
    if (!head || !take(&c, 5, &b) || memcmp(b, "PGDMP", 5) != 0)
        return RD_ERR(err, RD_ERR_FORMAT, "not a pg_dump archive (no PGDMP header)");
    if (!take(&c, 3, &b))
        return RD_ERR(err, RD_ERR_FORMAT, "pg_dump archive header is truncated");
    unsigned vmaj = b[0], vmin = b[1];
    if (vmaj != 1 || vmin < 4)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "pg_dump archive version %u.%u records no database name", vmaj, vmin);
    if (!take(&c, 3, &b))
        return RD_ERR(err, RD_ERR_FORMAT, "pg_dump archive header is truncated");
    c.int_size = b[0];
    if (c.int_size < 1 || c.int_size > 8)
        return RD_ERR(err, RD_ERR_FORMAT, "pg_dump archive header: integer size %u", c.int_size);
    int ok = 1;
    if (vmin >= 15)
        ok = take(&c, 1, &b); /* compression algorithm */
    else
        ok = read_int(&c, &v); /* compression level (1.2 to 1.14) */
    for (int i = 0; ok && i < 7; i++)
        ok = read_int(&c, &v); /* creation time */
    if (ok)
        ok = read_int(&c, &v);
    if (!ok)
        return RD_ERR(err, RD_ERR_FORMAT, "pg_dump archive header is truncated or damaged");
    if (v < 0)
        return RD_ERR(err, RD_ERR_NOTFOUND, "pg_dump archive records no database name");
    if (v == 0 || v > NAME_MAX_BYTES || !take(&c, (size_t)v, &b) || memchr(b, 0, (size_t)v))
        return RD_ERR(err, RD_ERR_FORMAT, "pg_dump archive header: bad database name");
    char *name = malloc((size_t)v + 1);
    if (!name)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    memcpy(name, b, (size_t)v);
    name[v] = '\0';
    *out = name;
    return RD_OK;
}
