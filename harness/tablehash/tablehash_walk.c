/* tablehash_walk.c: the keyset walk: the key a step of about chunk_rows rows
 * further, and a key range split into such steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"
#include "tablehash_int.h"

typedef struct step_ud {
    size_t n;
    char **vals;
    int got;
} step_ud;

static int step_row(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    step_ud *s = ud;
    (void)lens;
    /* LIMIT 1: never stop early (an early stop sends a cancel that could
     * hit the connection's next statement and abort its transaction) */
    if (s->got)
        return 0;
    s->got = 1;
    s->vals = calloc(s->n ? s->n : 1, sizeof *s->vals);
    for (size_t i = 0; s->vals && i < s->n && i < ncols; i++)
        s->vals[i] = rd_strdup(vals[i] ? vals[i] : "");
    return 0;
}

rd_status rd_th_step(rd_db *db, const rd_th_table *t, int side, char *const *lo, char *const *hi,
                     int64_t n, double timeout, char ***out, rd_error *err)
{
    rd_strbuf sql;
    step_ud ud = {t->nkey, NULL, 0};
    rd_strbuf_init(&sql, 0);
    rd_status st = rd_th_sql_step(db, t, side, lo, hi, n, &sql, err);
    if (st == RD_OK)
        st =
            rd_db_stream(db, sql.data, timeout > 0 ? timeout : DEFAULT_TIMEOUT, step_row, &ud, err);
    rd_strbuf_free(&sql);
    if (st == RD_OK && ud.got) {
        for (size_t i = 0; i < t->nkey; i++)
            if (!ud.vals || !ud.vals[i])
                st = rd_th_nomem(err);
    }
    if (st != RD_OK) {
        rd_th_keys_free(ud.vals, t->nkey);
        return st;
    }
    *out = ud.got ? ud.vals : NULL;
    return RD_OK;
}

rd_status rd_th_split(rd_db *db, const rd_th_table *t, int side, char *const *lo, char *const *hi,
                      int64_t step, double timeout, rd_th_emit_fn emit, void *ud, size_t *made,
                      rd_error *err)
{
    char **cur = rd_th_keys_dup(lo, t->nkey);
    rd_status st = RD_OK;
    *made = 0;
    if (lo && !cur)
        return rd_th_nomem(err);
    for (;;) {
        char **k = NULL;
        if ((st = rd_th_step(db, t, side, cur, hi, step, timeout, &k, err)) != RD_OK)
            break;
        /* the step landed on hi itself: the rest is the last range */
        int at_end = k && hi;
        for (size_t i = 0; at_end && i < t->nkey; i++)
            at_end = strcmp(k[i], hi[i]) == 0;
        if (at_end) {
            rd_th_keys_free(k, t->nkey);
            k = NULL;
        }
        char **end = k ? k : rd_th_keys_dup(hi, t->nkey);
        if (!k && hi && !end) {
            st = rd_th_nomem(err);
            break;
        }
        char **next = k ? rd_th_keys_dup(k, t->nkey) : NULL;
        if (k && !next) {
            rd_th_keys_free(end, t->nkey);
            st = rd_th_nomem(err);
            break;
        }
        st = emit(ud, cur, end, err); /* takes cur and end */
        cur = next;
        if (st != RD_OK)
            break;
        (*made)++;
        if (!k)
            break;
    }
    rd_th_keys_free(cur, t->nkey);
    return st;
}
