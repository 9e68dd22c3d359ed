/* databases.c: which databases of a multi-database recovery point a target
 * drills: those matching the target's `databases` globs, then a seeded
 * sample of `sample.databases` of them (DESIGN section 11, "Tenants"). */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/prng.h"

/* Mixed into the seed so that the databases drawn do not repeat the draws
 * that picked the recovery point ("databases" in ASCII). */
#define DB_SEED_TAG 0x6461746162617365ULL

int rd_db_glob_match(const char *glob, const char *name)
{
    /* no flags: '*' and '?' also match '/' and a leading '.', '\' escapes;
     * '_' and '%' are ordinary characters (never SQL LIKE wildcards) */
    return fnmatch(glob, name, 0) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

rd_status rd_drill_pick_databases(const rd_target_cfg *t, const rd_strlist *all, uint64_t seed,
                                  rd_strlist *matched, rd_strlist *picked, rd_error *err)
{
    rd_status st = RD_OK;
    char **cand = NULL;
    size_t *idx = NULL;
    size_t n = 0;
    for (size_t g = 0; g < t->databases.n; g++) {
        size_t hits = 0;
        for (size_t i = 0; i < all->n; i++)
            hits += rd_db_glob_match(t->databases.items[g], all->items[i]);
        if (hits == 0)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.databases[%zu]: \"%s\" matches none of the %zu databases of the "
                          "recovery point",
                          t->path, g, t->databases.items[g], all->n);
    }
    cand = calloc(all->n ? all->n : 1, sizeof *cand);
    idx = calloc(all->n ? all->n : 1, sizeof *idx);
    if (!cand || !idx) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < all->n; i++)
        for (size_t g = 0; g < t->databases.n; g++)
            if (rd_db_glob_match(t->databases.items[g], all->items[i])) {
                cand[n++] = all->items[i];
                break;
            }
    /* candidates in name order: the picks depend on the seed and the set of
     * names, not on the order of the dump */
    qsort(cand, n, sizeof *cand, by_name);
    size_t k = t->sample.databases > 0 && (size_t)t->sample.databases < n
                   ? (size_t)t->sample.databases
                   : n;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    if (k < n) {
        /* a partial Fisher-Yates shuffle: k unbiased draws without repetition */
        rd_prng p;
        rd_prng_seed(&p, seed ^ DB_SEED_TAG);
        for (size_t i = 0; i < k; i++) {
            size_t j = i + (size_t)rd_prng_below(&p, (uint64_t)(n - i));
            size_t tmp = idx[i];
            idx[i] = idx[j];
            idx[j] = tmp;
        }
    }
    char **pick = calloc(k ? k : 1, sizeof *pick);
    if (!pick) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        pick[i] = cand[idx[i]];
    qsort(pick, k, sizeof *pick, by_name);
    for (size_t i = 0; st == RD_OK && i < n; i++)
        st = rd_strlist_push(matched, cand[i], err);
    for (size_t i = 0; st == RD_OK && i < k; i++)
        st = rd_strlist_push(picked, pick[i], err);
    free(pick);
out:
    free(cand);
    free(idx);
    return st;
}
