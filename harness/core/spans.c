/* spans.c: sets of half-open time spans (include/restoredrill/spans.h). */
#include <stdlib.h>
#include <string.h>

#include "restoredrill/spans.h"

static int span_cmp(const void *x, const void *y)
{
    const rd_span *a = x, *b = y;
    if (a->from_ms != b->from_ms)
        return a->from_ms < b->from_ms ? -1 : 1;
    return a->to_ms < b->to_ms ? -1 : a->to_ms > b->to_ms;
}

size_t rd_spans_merge(rd_span *s, size_t n)
{
    size_t k = 0;
    if (!s || n == 0)
        return 0;
    qsort(s, n, sizeof *s, span_cmp);
    for (size_t i = 0; i < n; i++) {
        if (s[i].to_ms <= s[i].from_ms)
            continue;
        if (k > 0 && s[i].from_ms <= s[k - 1].to_ms) {
            if (s[i].to_ms > s[k - 1].to_ms)
                s[k - 1].to_ms = s[i].to_ms;
        } else {
            s[k++] = s[i];
        }
    }
    return k;
}

int64_t rd_spans_length(const rd_span *s, size_t n)
{
    int64_t len = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i].to_ms > s[i].from_ms)
            len += s[i].to_ms - s[i].from_ms;
    return len;
}

/* Append a non-empty span to *out. */
static rd_status push(rd_span **out, size_t *n, size_t *cap, int64_t from, int64_t to,
                      rd_error *err)
{
    if (to <= from)
        return RD_OK;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        rd_span *g = realloc(*out, c * sizeof *g);
        if (!g)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        *out = g;
        *cap = c;
    }
    (*out)[*n].from_ms = from;
    (*out)[*n].to_ms = to;
    (*n)++;
    return RD_OK;
}

static rd_status finish(rd_status st, rd_span *r, size_t k, rd_span **out, size_t *nout)
{
    if (st != RD_OK) {
        free(r);
        return st;
    }
    if (k == 0) {
        free(r);
        r = NULL;
    }
    *out = r;
    *nout = k;
    return RD_OK;
}

rd_status rd_spans_intersect(const rd_span *s, size_t n, const rd_span *within, size_t nw,
                             rd_span **out, size_t *nout, rd_error *err)
{
    rd_span *r = NULL;
    size_t k = 0, cap = 0, i = 0, j = 0;
    rd_status st = RD_OK;
    while (st == RD_OK && i < n && j < nw) {
        int64_t lo = s[i].from_ms > within[j].from_ms ? s[i].from_ms : within[j].from_ms;
        int64_t hi = s[i].to_ms < within[j].to_ms ? s[i].to_ms : within[j].to_ms;
        st = push(&r, &k, &cap, lo, hi, err);
        if (s[i].to_ms < within[j].to_ms)
            i++;
        else
            j++;
    }
    return finish(st, r, k, out, nout);
}

rd_status rd_spans_subtract(int64_t lo, int64_t hi, const rd_span *holes, size_t nh, rd_span **out,
                            size_t *nout, rd_error *err)
{
    rd_span *r = NULL;
    size_t k = 0, cap = 0;
    rd_status st = RD_OK;
    int64_t at = lo;
    for (size_t i = 0; st == RD_OK && i < nh && at < hi; i++) {
        if (holes[i].to_ms <= at)
            continue;
        if (holes[i].from_ms >= hi)
            break;
        st = push(&r, &k, &cap, at, holes[i].from_ms, err);
        at = holes[i].to_ms;
    }
    if (st == RD_OK && at < hi)
        st = push(&r, &k, &cap, at, hi, err);
    return finish(st, r, k, out, nout);
}

typedef struct edge {
    int64_t at;
    int delta;
} edge;

static int edge_cmp(const void *x, const void *y)
{
    const edge *a = x, *b = y;
    return a->at < b->at ? -1 : a->at > b->at;
}

rd_status rd_spans_least(const rd_span *cover, size_t n, const rd_span *allowed, size_t na,
                         rd_span **out, size_t *nout, size_t *depth, rd_error *err)
{
    rd_span *r = NULL;
    size_t k = 0, cap = 0, ne = 0;
    rd_status st = RD_OK;
    size_t best = SIZE_MAX;
    /* edges of the cover, then a sweep over each allowed span */
    edge *e = calloc(2 * n + 1, sizeof *e);
    if (!e)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (cover[i].to_ms <= cover[i].from_ms)
            continue;
        e[ne++] = (edge){cover[i].from_ms, 1};
        e[ne++] = (edge){cover[i].to_ms, -1};
    }
    qsort(e, ne, sizeof *e, edge_cmp);
    /* two passes: the minimum depth, then the spans at it */
    for (int pass = 0; pass < 2 && st == RD_OK; pass++) {
        for (size_t a = 0; a < na && st == RD_OK; a++) {
            long d = 0;
            size_t x = 0;
            while (x < ne && e[x].at <= allowed[a].from_ms)
                d += e[x++].delta;
            int64_t at = allowed[a].from_ms;
            while (at < allowed[a].to_ms && st == RD_OK) {
                int64_t next = x < ne && e[x].at < allowed[a].to_ms ? e[x].at : allowed[a].to_ms;
                if (pass == 0 && next > at && (size_t)d < best)
                    best = (size_t)d;
                if (pass == 1 && (size_t)d == best)
                    st = push(&r, &k, &cap, at, next, err);
                at = next;
                while (x < ne && e[x].at <= at)
                    d += e[x++].delta;
            }
        }
    }
    free(e);
    if (st == RD_OK)
        k = rd_spans_merge(r, k);
    if (st == RD_OK)
        *depth = best == SIZE_MAX ? 0 : best;
    return finish(st, r, k, out, nout);
}

int64_t rd_spans_nth(const rd_span *s, size_t n, int64_t k)
{
    for (size_t i = 0; i < n; i++) {
        int64_t len = s[i].to_ms - s[i].from_ms;
        if (len <= 0)
            continue;
        if (k < len)
            return s[i].from_ms + k;
        k -= len;
    }
    return n ? s[n - 1].to_ms - 1 : 0;
}
