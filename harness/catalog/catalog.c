/* catalog.c: recovery point lists: freeing, sorting, listing through the
 * registry, and timestamps embedded in file names. */
#include "restoredrill/catalog.h"
#include "restoredrill/strbuf.h"

#include <stdlib.h>
#include <string.h>

void rd_point_clear(rd_point *pt)
{
    if (!pt)
        return;
    free(pt->id);
    free(pt->time_basis);
    free(pt->location);
    free(pt->sha256);
    free(pt->format);
    free(pt->manifest);
    free(pt->base);
    free(pt->wal_start);
    free(pt->wal_stop);
    free(pt->broken);
    memset(pt, 0, sizeof *pt);
    pt->bytes = -1;
}

void rd_points_free(rd_points *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        rd_point_clear(&p->items[i]);
    free(p->items);
    p->items = NULL;
    p->n = 0;
    rd_archive_free(p->archive);
    p->archive = NULL;
}

void rd_archive_free(rd_archive *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->ngaps; i++) {
        free(a->gaps[i].first);
        free(a->gaps[i].last);
        free(a->gaps[i].damage);
    }
    free(a->gaps);
    free(a->first);
    free(a->last);
    free(a->newest);
    free(a->timelines);
    free(a);
}

rd_status rd_archive_add_gap(rd_archive *a, const char *first, const char *last, int64_t from_ms,
                             int64_t to_ms, rd_error *err)
{
    rd_wal_gap *g = realloc(a->gaps, (a->ngaps + 1) * sizeof *g);
    if (!g)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    a->gaps = g;
    g = &a->gaps[a->ngaps];
    g->first = rd_strdup(first);
    g->last = rd_strdup(last);
    g->from_ms = from_ms;
    g->to_ms = to_ms;
    g->damage = NULL;
    if (!g->first || !g->last) {
        free(g->first);
        free(g->last);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    a->ngaps++;
    return RD_OK;
}

rd_status rd_archive_add_damage(rd_archive *a, const char *file, const char *why, int64_t from_ms,
                                int64_t to_ms, rd_error *err)
{
    char *d = rd_strdup(why);
    if (!d)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_archive_add_gap(a, file, file, from_ms, to_ms, err);
    if (st != RD_OK) {
        free(d);
        return st;
    }
    a->gaps[a->ngaps - 1].damage = d;
    return RD_OK;
}

static int gap_cmp(const void *x, const void *y)
{
    const rd_wal_gap *a = x, *b = y;
    if (a->from_ms != b->from_ms)
        return a->from_ms < b->from_ms ? -1 : 1;
    return strcmp(a->first, b->first);
}

void rd_archive_sort_gaps(rd_archive *a)
{
    if (a && a->ngaps > 1)
        qsort(a->gaps, a->ngaps, sizeof a->gaps[0], gap_cmp);
}

static int str_cmp_null(const char *a, const char *b)
{
    if (!a || !b)
        return (a != NULL) - (b != NULL);
    return strcmp(a, b);
}

static int point_cmp(const void *va, const void *vb)
{
    const rd_point *a = va;
    const rd_point *b = vb;
    if (a->created_ms != b->created_ms)
        return a->created_ms < b->created_ms ? -1 : 1;
    int c = str_cmp_null(a->id, b->id);
    if (c != 0)
        return c;
    return str_cmp_null(a->location, b->location);
}

void rd_points_sort(rd_points *p)
{
    if (p && p->n > 1)
        qsort(p->items, p->n, sizeof p->items[0], point_cmp);
}

rd_status rd_points_push(rd_points *p, rd_point *pt, rd_error *err)
{
    rd_point *items = realloc(p->items, (p->n + 1) * sizeof *items);
    if (!items)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory listing recovery points");
    p->items = items;
    p->items[p->n++] = *pt;
    memset(pt, 0, sizeof *pt);
    pt->bytes = -1;
    return RD_OK;
}

/* Catalog types of the contract (DESIGN section 5), with or without a driver. */
static const char *const contract_types[] = {"dir", "s3", "exec", "pg-archive", "pgbackrest", NULL};

rd_status rd_catalog_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    const char *type = cfg && cfg->type ? cfg->type : "dir";
    const rd_catalog_type *ct = rd_catalog_find(type);
    if (!ct) {
        for (size_t i = 0; contract_types[i]; i++)
            if (strcmp(contract_types[i], type) == 0)
                return RD_ERR(err, RD_ERR_UNSUPPORTED, "catalog type \"%s\" is not implemented yet",
                              type);
        return RD_ERR(err, RD_ERR_CONFIG, "unknown catalog type \"%s\"", type);
    }
    rd_points pts = {0};
    rd_status st = ct->list(cfg, &pts, err);
    if (st != RD_OK) {
        rd_points_free(&pts);
        return st;
    }
    rd_points_sort(&pts);
    *out = pts;
    return RD_OK;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Name timestamp layouts: 'D' is a digit, anything else must match exactly.
 * Digits are, in order, YYYY MM DD hh mm ss. A trailing 'Z' is allowed. */
static const char *const name_layouts[] = {
    "DDDD-DD-DDTDD:DD:DD", "DDDD-DD-DD_DD-DD-DD", "DDDDDDDDTDDDDDD", "DDDDDDDD-DDDDDD", NULL,
};

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int match_layout(const char *s, const char *layout, int64_t *ms)
{
    int v[14];
    int nd = 0;
    size_t i = 0;
    for (; layout[i]; i++) {
        if (layout[i] == 'D') {
            if (!is_digit(s[i]))
                return 0;
            v[nd++] = s[i] - '0';
        } else if (s[i] != layout[i]) {
            return 0;
        }
    }
    if (is_digit(s[i]))
        return 0;
    int year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
    int mon = v[4] * 10 + v[5], day = v[6] * 10 + v[7];
    int hh = v[8] * 10 + v[9], mi = v[10] * 10 + v[11], ss = v[12] * 10 + v[13];
    if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
        hh > 23 || mi > 59 || ss > 60)
        return 0;
    int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
    *ms = ((days * 24 + hh) * 60 + mi) * 60000 + (int64_t)ss * 1000;
    return 1;
}

int rd_catalog_time_from_name(const char *name, int64_t *ms)
{
    if (!name)
        return 0;
    for (size_t pos = 0; name[pos]; pos++) {
        if (pos > 0 && is_digit(name[pos - 1]))
            continue;
        if (!is_digit(name[pos]))
            continue;
        for (size_t l = 0; name_layouts[l]; l++) {
            int64_t t;
            if (match_layout(name + pos, name_layouts[l], &t)) {
                *ms = t;
                return 1;
            }
        }
    }
    return 0;
}
