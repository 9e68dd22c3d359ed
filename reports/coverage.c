/* coverage.c: an index of the history: which recovery point each passed
 * drill of a target restored, for `restoredrill coverage`, strategy
 * least-verified and the report's coverage of the retention window. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/strbuf.h"

#define HISTORY_MAX_BYTES ((size_t)1024 * 1024 * 1024)

typedef struct entry {
    char *target, *point;
    int64_t at_ms;
    int64_t from_ms, to_ms; /* PITR: the stretch proven, [base end, target]; 0 none */
} entry;

struct rd_coverage {
    entry *e;
    size_t n, cap;
};

void rd_coverage_free(rd_coverage *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].target);
        free(c->e[i].point);
    }
    free(c->e);
    free(c);
}

static int push(rd_coverage *c, const char *target, const char *point, int64_t at, int64_t from,
                int64_t to)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        entry *g = realloc(c->e, cap * sizeof *g);
        if (!g)
            return 0;
        c->e = g;
        c->cap = cap;
    }
    entry *e = &c->e[c->n];
    e->target = rd_strdup(target);
    e->point = rd_strdup(point);
    e->at_ms = at;
    e->from_ms = from;
    e->to_ms = to;
    if (!e->target || !e->point) {
        free(e->target);
        free(e->point);
        return 0;
    }
    c->n++;
    return 1;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

rd_status rd_coverage_load(const char *path, rd_coverage **out, rd_error *err)
{
    char *text = NULL;
    size_t len = 0, pos = 0;
    rd_status st = RD_OK;
    rd_coverage *c = calloc(1, sizeof *c);
    if (!c)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory reading the history");
    if (!path || !rd_fs_exists(path))
        goto done;
    if ((st = rd_fs_read_file(path, HISTORY_MAX_BYTES, &text, &len, err)) != RD_OK)
        goto fail;
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        cJSON *o = cJSON_ParseWithLength(text + pos, n);
        const cJSON *t;
        int64_t at = 0;
        const char *when = str(o, "started_at");
        if (when)
            rd_time_parse(when, &at, NULL);
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(o, "targets"))
        {
            const char *name = str(t, "name"), *point = str(t, "point_id"), *v = str(t, "status");
            const char *pc = str(t, "point_created_at"), *tt = str(t, "target_time");
            int64_t from = 0, to = 0;
            if (!pc || !tt || rd_time_parse(pc, &from, NULL) != RD_OK ||
                rd_time_parse(tt, &to, NULL) != RD_OK || to < from)
                from = to = 0;
            if (name && point && v && strcmp(v, "passed") == 0 &&
                !push(c, name, point, at, from, to)) {
                cJSON_Delete(o);
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory reading the history");
                goto fail;
            }
        }
        cJSON_Delete(o);
        pos += n + 1;
    }
done:
    free(text);
    *out = c;
    return RD_OK;
fail:
    free(text);
    rd_coverage_free(c);
    return st;
}

size_t rd_coverage_verified(void *cov, const char *target, const char *point_id)
{
    const rd_coverage *c = cov;
    size_t k = 0;
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->e[i].target, target) == 0 && strcmp(c->e[i].point, point_id) == 0)
            k++;
    return k;
}

int64_t rd_coverage_last(const rd_coverage *c, const char *target, const char *point_id)
{
    int64_t last = 0;
    for (size_t i = 0; c && i < c->n; i++)
        if (strcmp(c->e[i].target, target) == 0 && strcmp(c->e[i].point, point_id) == 0 &&
            c->e[i].at_ms > last)
            last = c->e[i].at_ms;
    return last;
}

size_t rd_coverage_proven(void *cov, const char *target, rd_span **out)
{
    const rd_coverage *c = cov;
    size_t n = 0;
    rd_span *s = NULL;
    *out = NULL;
    for (size_t i = 0; c && i < c->n; i++)
        n += c->e[i].to_ms > 0 && strcmp(c->e[i].target, target) == 0;
    if (n == 0 || !(s = calloc(n, sizeof *s)))
        return 0;
    n = 0;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].to_ms > 0 && strcmp(c->e[i].target, target) == 0) {
            s[n].from_ms = c->e[i].from_ms;
            s[n].to_ms = c->e[i].to_ms + 1; /* the target instant itself */
            n++;
        }
    *out = s;
    return n;
}
