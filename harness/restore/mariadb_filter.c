/* mariadb_filter.c: the sections of a cluster-wide mariadb-dump, passed or
 * skipped per database as the bytes stream by (restore_int.h says how). */
#include <stdlib.h>
#include <string.h>

#include "restore_int.h"

static const char HDR[] = "-- Current Database: `";
#define HDR_LEN (sizeof(HDR) - 1)

int rd_mdb_is_system_db(const char *name)
{
    static const char *const sys[] = {"mysql", "information_schema", "performance_schema", "sys",
                                      NULL};
    for (size_t i = 0; sys[i]; i++)
        if (strcmp(name, sys[i]) == 0)
            return 1;
    return 0;
}

void rd_mdb_filter_init(rd_mdb_filter *f, const rd_strlist *keep)
{
    memset(f, 0, sizeof(*f));
    f->keep = keep;
    f->pass = keep != NULL; /* the preamble passes */
    f->at_start = 1;
}

void rd_mdb_filter_free(rd_mdb_filter *f)
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
static rd_status header(rd_mdb_filter *f, rd_strbuf *emit, rd_error *err)
{
    unsigned long long at = f->bytes_in - f->head_len;
    size_t end = f->head_len;
    while (end > HDR_LEN && (f->head[end - 1] == '\n' || f->head[end - 1] == '\r'))
        end--;
    if (end <= HDR_LEN || f->head[end - 1] != '`')
        return RD_ERR(err, RD_ERR_FORMAT,
                      "the dump's section header at byte %llu is malformed: no closing backtick",
                      at);
    char name[RD_MDB_HEAD_MAX];
    size_t k = 0;
    for (size_t i = HDR_LEN; i < end - 1; i++) {
        if (f->head[i] == '`') {
            if (i + 1 >= end - 1 || f->head[i + 1] != '`')
                return RD_ERR(err, RD_ERR_FORMAT,
                              "the dump's section header at byte %llu is malformed: a lone "
                              "backtick inside the name",
                              at);
            i++;
        }
        name[k++] = f->head[i];
    }
    name[k] = '\0';
    if (k == 0 || memchr(name, '\0', k))
        return RD_ERR(err, RD_ERR_FORMAT,
                      "the dump's section header at byte %llu is malformed: empty name", at);
    char *cur = rd_strdup(name);
    if (!cur)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(f->current);
    f->current = cur;
    int sys = rd_mdb_is_system_db(name);
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
static rd_status flush_head(rd_mdb_filter *f, rd_strbuf *emit, rd_error *err)
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

static void keep_tail(rd_mdb_filter *f, const char *buf, size_t n)
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

int rd_mdb_filter_completed(const rd_mdb_filter *f)
{
    return rd_restore_has_trailer(f->tail, f->tail_len, "-- Dump completed");
}

rd_status rd_mdb_filter_feed(rd_mdb_filter *f, const char *buf, size_t n, int final,
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
        if (f->in_head && f->head_len < HDR_LEN) {
            size_t k = HDR_LEN - f->head_len;
            if (k > n - i)
                k = n - i;
            if (memcmp(buf + i, HDR + f->head_len, k) != 0) {
                st = flush_head(f, emit, err); /* an ordinary line: read on as a body */
                continue;
            }
            memcpy(f->head + f->head_len, buf + i, k);
            f->head_len += k;
            f->bytes_in += k;
            i += k;
            continue;
        }
        const char *nl = memchr(buf + i, '\n', n - i);
        size_t take = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
        if (f->in_head) {
            if (f->head_len + take > sizeof(f->head))
                return RD_ERR(err, RD_ERR_FORMAT,
                              "the dump's section header at byte %llu is longer than %d bytes",
                              f->bytes_in - f->head_len, RD_MDB_HEAD_MAX);
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
            continue;
        }
        if (f->pass) {
            st = rd_strbuf_append_n(emit, buf + i, take, err);
            f->bytes_out += take;
        }
        f->bytes_in += take;
        i += take;
        if (nl)
            f->at_start = 1;
    }
    if (st == RD_OK && final && f->in_head)
        st = flush_head(f, emit, err); /* a last line without newline is no header */
    if (final)
        f->ended = 1;
    return st;
}
