/* section_filter.c: the sections of a cluster-wide dump (mariadb-dump
 * --all-databases, pg_dumpall), passed or skipped per database as the bytes
 * stream by (restore_int.h says how); the dialects are in mariadb_filter.c
 * and pg_dumpall_filter.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore_int.h"
#include "restoredrill/proc.h"

void rd_section_init(rd_section_filter *f, const rd_section_dialect *d, const rd_strlist *keep)
{
    memset(f, 0, sizeof(*f));
    f->d = d;
    f->hdr_len = strlen(d->header);
    f->nlhdr[0] = '\n';
    memcpy(f->nlhdr + 1, d->header, f->hdr_len < sizeof f->nlhdr - 1 ? f->hdr_len + 1 : 1);
    f->keep = keep;
    f->pass = keep != NULL; /* the preamble passes */
    f->at_start = 1;
}

void rd_section_free(rd_section_filter *f)
{
    if (!f)
        return;
    rd_strlist_free(&f->seen);
    free(f->current);
    f->current = NULL;
}

static int listed(const rd_strlist *l, const char *name)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (strcmp(l->items[i], name) == 0)
            return 1;
    return 0;
}

/* The complete header line is in f->head: parse NAME, switch sections. */
static rd_status header(rd_section_filter *f, rd_strbuf *emit, rd_error *err)
{
    unsigned long long at = f->bytes_in - f->head_len;
    char name[RD_SECTION_HEAD_MAX];
    rd_error e;
    if (f->d->parse(f->head, f->head_len, name, sizeof name, &e) != RD_OK)
        return RD_ERR(err, RD_ERR_FORMAT, "the dump's section header at byte %llu is %s", at,
                      e.msg);
    char *cur = rd_strdup(name);
    if (!cur)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(f->current);
    f->current = cur;
    int sys = f->d->is_system(name);
    if (!sys && !listed(&f->seen, name)) {
        rd_status st = rd_strlist_push(&f->seen, name, err);
        if (st != RD_OK)
            return st;
    }
    f->pass = f->keep && !sys && listed(f->keep, name);
    if (f->pass) {
        f->bytes_out += f->head_len;
        return rd_strbuf_append_n(emit, f->head, f->head_len, err);
    }
    return RD_OK;
}

/* The buffered head is an ordinary line's start: pass it on (or not). */
static rd_status flush_head(rd_section_filter *f, rd_strbuf *emit, rd_error *err)
{
    rd_status st = RD_OK;
    if (f->pass && f->head_len) {
        f->bytes_out += f->head_len;
        st = rd_strbuf_append_n(emit, f->head, f->head_len, err);
    }
    f->in_head = 0;
    f->head_len = 0;
    return st;
}

static void keep_tail(rd_section_filter *f, const char *buf, size_t n)
{
    const size_t w = sizeof f->tail;
    if (n >= w) {
        memcpy(f->tail, buf + n - w, w);
        f->tail_len = w;
        return;
    }
    if (f->tail_len + n > w) {
        size_t drop = f->tail_len + n - w;
        memmove(f->tail, f->tail + drop, f->tail_len - drop);
        f->tail_len -= drop;
    }
    memcpy(f->tail + f->tail_len, buf, n);
    f->tail_len += n;
}

int rd_section_completed(const rd_section_filter *f)
{
    return rd_restore_has_trailer(f->tail, f->tail_len, f->d->trailer);
}

rd_status rd_section_feed(rd_section_filter *f, const char *buf, size_t n, int final,
                          rd_strbuf *emit, rd_error *err)
{
    rd_status st = RD_OK;
    size_t i = 0;
    keep_tail(f, buf, n);
    while (st == RD_OK && i < n) {
        if (f->at_start) {
            f->at_start = 0;
            f->in_head = 1;
            f->head_len = 0;
        }
        if (f->in_head && f->head_len < f->hdr_len) {
            size_t k = f->hdr_len - f->head_len;
            if (k > n - i)
                k = n - i;
            if (memcmp(buf + i, f->d->header + f->head_len, k) != 0) {
                st = flush_head(f, emit, err); /* an ordinary line: read on as a body */
                continue;
            }
            memcpy(f->head + f->head_len, buf + i, k);
            f->head_len += k;
            f->bytes_in += k;
            i += k;
            continue;
        }
        if (!f->in_head) {
            /* a body: everything up to the next header line at once, else
             * up to the chunk's last complete line (a header cut by the
             * chunk's end starts a line there and goes through the head) */
            const char *hit = memmem(buf + i, n - i, f->nlhdr, f->hdr_len + 1);
            const char *last = hit ? hit : memrchr(buf + i, '\n', n - i);
            size_t take = last ? (size_t)(last - (buf + i)) + 1 : n - i;
            if (f->pass) {
                st = rd_strbuf_append_n(emit, buf + i, take, err);
                f->bytes_out += take;
            }
            f->bytes_in += take;
            i += take;
            if (buf[i - 1] == '\n')
                f->at_start = 1;
            continue;
        }
        /* the rest of a line that starts like a header */
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t take = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
        if (f->head_len + take > sizeof(f->head))
            return RD_ERR(err, RD_ERR_FORMAT,
                          "the dump's section header at byte %llu is longer than %d bytes",
                          f->bytes_in - f->head_len, RD_SECTION_HEAD_MAX);
        memcpy(f->head + f->head_len, buf + i, take);
        f->head_len += take;
        f->bytes_in += take;
        i += take;
        if (nl) {
            st = header(f, emit, err);
            f->in_head = 0;
            f->head_len = 0;
            f->at_start = 1;
        }
    }
    if (st == RD_OK && final && f->in_head)
        st = flush_head(f, emit, err); /* a last line without newline is no header */
    if (final)
        f->ended = 1;
    return st;
}

rd_status rd_section_list(const rd_section_dialect *d, rd_artifact *a, rd_strlist *out,
                          rd_error *err)
{
    rd_section_filter f;
    rd_strbuf none;
    char *buf = malloc(64 * 1024);
    rd_status st = buf ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_section_init(&f, d, NULL);
    rd_strbuf_init(&none, 0);
    while (st == RD_OK) {
        size_t n = 0;
        if (rd_abort_requested()) {
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted while listing the dump's databases");
            break;
        }
        st = rd_artifact_read(a, buf, 64 * 1024, &n, err);
        if (st == RD_OK)
            st = rd_section_feed(&f, buf, n, n == 0, &none, err);
        if (n == 0)
            break;
    }
    for (size_t i = 0; st == RD_OK && i < f.seen.n; i++)
        st = rd_strlist_push(out, f.seen.items[i], err);
    free(buf);
    rd_strbuf_free(&none);
    rd_section_free(&f);
    return st;
}

rd_status rd_section_verdict(const rd_section_filter *f, const rd_strlist *databases, rd_status st,
                             rd_error *err)
{
    /* a dump cut short: the cause, whatever the client said about the
     * statement it was cut in (only when the stream was read to its end) */
    if ((st == RD_ERR_INTEGRITY || st == RD_ERR_PROC) && f->current && f->ended &&
        !rd_section_completed(f)) {
        char was[RD_ERROR_MSG_MAX];
        snprintf(was, sizeof was, "%s", err->msg);
        if (strstr(was, "completion trailer"))
            return RD_ERR(err, RD_ERR_INTEGRITY,
                          "plain SQL dump is truncated inside the section of database `%s`: the "
                          "completion trailer is missing",
                          f->current);
        return RD_ERR(err, RD_ERR_INTEGRITY,
                      "plain SQL dump is truncated inside the section of database `%s`: the "
                      "completion trailer is missing (%s)",
                      f->current, was);
    }
    if (st != RD_OK)
        return st;
    for (size_t i = 0; i < databases->n; i++)
        if (!listed(&f->seen, databases->items[i]))
            return RD_ERR(err, RD_ERR_INTEGRITY, "database %s is not in the dump",
                          databases->items[i]);
    return RD_OK;
}
