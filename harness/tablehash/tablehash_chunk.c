/* tablehash_chunk.c: chunks, sums and keys of the chunked checksums: copies,
 * clearing, a chunk described for messages, and a table's whole digest from
 * its chunks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

rd_status rd_th_nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory computing checksums");
}

void rd_th_keys_free(char **k, size_t n)
{
    if (!k)
        return;
    for (size_t i = 0; i < n; i++)
        free(k[i]);
    free(k);
}

char **rd_th_keys_dup(char *const *k, size_t n)
{
    if (!k)
        return NULL;
    char **d = calloc(n ? n : 1, sizeof *d);
    for (size_t i = 0; d && i < n; i++) {
        if (!(d[i] = rd_strdup(k[i] ? k[i] : ""))) {
            rd_th_keys_free(d, n);
            return NULL;
        }
    }
    return d;
}

void rd_th_chunk_clear(rd_th_chunk *c, size_t nkey)
{
    rd_th_keys_free(c->lo, nkey);
    rd_th_keys_free(c->hi, nkey);
    free(c->digest[0]);
    free(c->digest[1]);
    memset(c, 0, sizeof *c);
}

void rd_th_sum_clear(rd_th_sum *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nchunks; i++)
        rd_th_chunk_clear(&s->chunks[i], s->nkey);
    free(s->chunks);
    memset(s, 0, sizeof *s);
}

size_t rd_th_sum_chunks(const rd_th_sum *s)
{
    return s->nchunks + s->folded + s->handed;
}

int rd_th_chunk_differs(const rd_th_chunk *c)
{
    if (c->rows[0] != c->rows[1])
        return 1;
    if ((c->digest[0] && *c->digest[0] == '!') || (c->digest[1] && *c->digest[1] == '!'))
        return 1;
    return strcmp(c->digest[0] ? c->digest[0] : "", c->digest[1] ? c->digest[1] : "") != 0;
}

static rd_status append_vals(rd_strbuf *sb, char *const *v, size_t n, rd_error *err)
{
    rd_status st = rd_strbuf_append(sb, n > 1 ? "(" : "", err);
    for (size_t i = 0; st == RD_OK && i < n; i++)
        st = rd_strbuf_appendf(sb, err, "%s%s", i ? ", " : "", v[i]);
    if (st == RD_OK && n > 1)
        st = rd_strbuf_append(sb, ")", err);
    return st;
}

char *rd_th_chunk_describe(const rd_th_table *t, const rd_th_chunk *c)
{
    rd_strbuf sb, k;
    rd_error err;
    rd_status st = RD_OK;
    rd_strbuf_init(&sb, 4096);
    rd_strbuf_init(&k, 0);
    if (t->nkey == 0 || (!c->lo && !c->hi)) {
        rd_strbuf_free(&k);
        return rd_strdup("all rows");
    }
    for (size_t i = 0; st == RD_OK && i < t->nkey; i++)
        st = rd_strbuf_appendf(&k, &err, "%s%s", i ? ", " : "", t->cols[t->key[i]].name);
    const char *open = t->nkey > 1 ? "(" : "", *close = t->nkey > 1 ? ")" : "";
    if (st == RD_OK && c->lo) {
        st = rd_strbuf_appendf(&sb, &err, "%s%s%s > ", open, k.data, close);
        if (st == RD_OK)
            st = append_vals(&sb, c->lo, t->nkey, &err);
    }
    if (st == RD_OK && c->hi) {
        st =
            rd_strbuf_appendf(&sb, &err, "%s%s%s%s <= ", c->lo ? " and " : "", open, k.data, close);
        if (st == RD_OK)
            st = append_vals(&sb, c->hi, t->nkey, &err);
    }
    rd_strbuf_free(&k);
    if (st != RD_OK && sb.len == 0) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

int rd_th_parse_i128(const char *s, i128 *out)
{
    int neg = 0;
    i128 v = 0;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return 1;
}

rd_status rd_th_table_digest(const rd_th_sum *s, int side, char *out, size_t outsz, rd_error *err)
{
    if (s->ordered)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "ordered chunk digests do not add up to a table digest");
    i128 acc = 0;
    for (size_t i = 0; i < s->nchunks; i++) {
        const char *d = s->chunks[i].digest[side];
        i128 a = 0;
        if (!d)
            continue;
        if (!rd_th_parse_i128(d, &a))
            return RD_ERR(err, RD_ERR_FORMAT, "bad chunk digest \"%.40s\"", d);
        acc += a;
    }
    acc += s->fsum[side]; /* folded chunks */
    snprintf(out, outsz, "%016llx", (unsigned long long)(uint64_t)(u128)acc);
    return RD_OK;
}
