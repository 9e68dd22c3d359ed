/* backup_mariadb_sections.c: mariadb-dump's output cut into database
 * sections as it is written (see SEC_HDR in backup_mariadb_int.h). */
#include <stdlib.h>
#include <string.h>

#include "backup_mariadb_int.h"
#include "restoredrill/strbuf.h"

/* 0: neither; 1: a prefix of either; 2: a section header; 3: the footer. */
static int classify(const char *b, size_t m)
{
    const size_t hl = sizeof SEC_HDR - 1, tl = sizeof SEC_TZ - 1;
    if (m >= hl && memcmp(b, SEC_HDR, hl) == 0)
        return 2;
    if (m >= tl && memcmp(b, SEC_TZ, tl) == 0)
        return 3;
    if ((m < hl && memcmp(b, SEC_HDR, m) == 0) || (m < tl && memcmp(b, SEC_TZ, m) == 0))
        return 1;
    return 0;
}

/* The header's NAME from "NAME`" (backticks doubled inside; \r dropped). */
static rd_status header_name(splitter *p, rd_bk_sink *sink, rd_error *err)
{
    rd_strbuf *b = &p->name;
    size_t n = b->len, k = 0;
    while (n && (b->data[n - 1] == '\r' || b->data[n - 1] == '`'))
        n--;
    for (size_t i = 0; i < n; i++) {
        b->data[k++] = b->data[i];
        if (b->data[i] == '`' && i + 1 < n && b->data[i + 1] == '`')
            i++;
    }
    b->data[k] = '\0';
    char *o = rd_strdup(b->data);
    if (!o)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(p->owner);
    p->owner = o;
    return rd_bk_sink_label(sink, o, err);
}

rd_status rd_bk_msplit_write(void *ud, rd_bk_sink *sink, const char *d, size_t n, rd_error *err)
{
    splitter *p = &((scan *)ud)->sp;
    rd_status st = RD_OK;
    size_t i = 0, run = 0; /* d[run..i) is still to be written */
    const size_t hl = sizeof SEC_HDR - 1, tl = sizeof SEC_TZ - 1;
    if (n == 0) { /* the end: a held line start is an ordinary line's */
        st = rd_bk_sink_write(sink, p->held, p->nheld, err);
        p->nheld = 0;
        return st;
    }
    while (st == RD_OK && i < n) {
        if (p->in_name) {
            const char *nl = memchr(d + i, '\n', n - i);
            size_t k = nl ? (size_t)(nl - (d + i)) : n - i;
            if (p->name.len + k < 4096 && rd_strbuf_append_n(&p->name, d + i, k, NULL) != RD_OK)
                p->oom = 1;
            i += k;
            if (nl) {
                i++;
                p->in_name = 0;
                p->mid = 0;
                st = header_name(p, sink, err);
            }
            continue;
        }
        if (p->mid) {
            const char *nl = memchr(d + i, '\n', n - i);
            if (!nl) {
                i = n;
                break;
            }
            i = (size_t)(nl - d) + 1;
            p->mid = 0;
            continue;
        }
        /* a line starts at d[i] (after p->held, from the last chunk) */
        size_t old = p->nheld, k = SEC_HELD - old < n - i ? SEC_HELD - old : n - i;
        memcpy(p->held + old, d + i, k);
        int c = classify(p->held, old + k);
        if (c == 1) { /* undecided until the next chunk */
            st = rd_bk_sink_write(sink, d + run, i - run, err);
            p->nheld = old + k;
            run = i = n;
            break;
        }
        if (c == 3 && (!p->owner || p->pending))
            c = 0;    /* a footer line before any section, or after one already */
        if (c == 0) { /* an ordinary line: written with the rest of the run */
            if (old)  /* its start came from the last chunk (so i == run == 0) */
                st = rd_bk_sink_write(sink, p->held, old, err);
            p->nheld = 0;
            p->mid = 1;
            continue;
        }
        if ((st = rd_bk_sink_write(sink, d + run, i - run, err)) != RD_OK)
            break;
        if (c == 2) {
            if (p->pending) /* the footer line was not the footer: its section's */
                st = rd_bk_sink_label(sink, p->owner, err);
            p->pending = 0;
            if (st == RD_OK)
                st = rd_bk_sink_cut(sink, NULL, err); /* labelled once the name is read */
            rd_strbuf_reset(&p->name);
            p->in_name = 1;
        } else {
            st = rd_bk_sink_cut(sink, NULL, err);
            p->pending = 1;
            p->mid = 1;
        }
        if (st == RD_OK)
            st = rd_bk_sink_write(sink, p->held, old, err);
        p->nheld = 0;
        run = i;
        i += c == 2 ? hl - old : c == 3 ? tl - old : 0;
    }
    if (st == RD_OK && run < i)
        st = rd_bk_sink_write(sink, d + run, i - run, err);
    return p->oom && st == RD_OK ? RD_ERR(err, RD_ERR_NOMEM, "out of memory") : st;
}
