/* checksum.c: the `checksum` check.
 *
 *   { "type": "checksum",
 *     "tables": ["public.orders", "public.*"],  optional: limit to these (globs)
 *     "chunk_rows": 100000,                     optional
 *     "parallel": 2 }                           optional: connections per side (default: cores)
 *
 * Reference: the chunk digests stored in the manifest (`backup` and
 * `manifest` store them unless --no-checksums) when the manifest has them
 * for a table, else the live reference database. One result per reference
 * table: passed when every chunk's row count and digest are equal, failed
 * naming the mismatching key ranges, failed "table missing from the
 * restore", error when the table has no stored digests and there is no live
 * reference (the message says how to capture a manifest with them). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/tablehash.h"

/* Strings of a JSON array into a strlist; 0 when not an array of strings. */
static int str_array(const cJSON *a, rd_strlist *out)
{
    if (!cJSON_IsArray(a))
        return 0;
    for (const cJSON *it = a->child; it; it = it->next)
        if (!cJSON_IsString(it) || rd_strlist_push(out, it->valuestring, NULL) != RD_OK)
            return 0;
    return 1;
}

static int chunk_keys(const cJSON *v, size_t nkey, char ***out)
{
    *out = NULL;
    if (cJSON_IsNull(v))
        return 1;
    rd_strlist l = {0};
    if (!str_array(v, &l) || l.n != nkey) {
        rd_strlist_free(&l);
        return 0;
    }
    *out = l.items; /* takes the array of heap strings */
    return 1;
}

rd_status rd_tablehash_manifest_compare(rd_th_side *side, const char *schema, const char *name,
                                        const cJSON *stored, const rd_th_opts *opts,
                                        rd_th_table **tab_out, rd_th_sum *out, rd_error *err)
{
    rd_strlist cols = {0}, key = {0};
    rd_th_table *t = NULL;
    rd_th_sum sum;
    rd_status st = RD_OK;
    memset(&sum, 0, sizeof sum);
    const cJSON *algo = cJSON_GetObjectItemCaseSensitive(stored, "algorithm");
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(stored, "chunks");
    if (!cJSON_IsString(algo) || !cJSON_IsArray(chunks) ||
        !str_array(cJSON_GetObjectItemCaseSensitive(stored, "columns"), &cols) ||
        !str_array(cJSON_GetObjectItemCaseSensitive(stored, "key"), &key)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "the manifest's checksum of %s is malformed", name);
        goto out;
    }
    if ((st = rd_th_describe(side->db, schema, name, &key, &t, err)) != RD_OK)
        goto out;
    if (strcmp(algo->valuestring, rd_th_algorithm(t)) != 0) {
        st = RD_ERR(err, RD_ERR_UNSUPPORTED,
                    "the manifest's checksum algorithm %s is not this engine's %s",
                    algo->valuestring, rd_th_algorithm(t));
        goto out;
    }
    int same = cols.n == t->ncols;
    for (size_t i = 0; same && i < cols.n; i++)
        same = strcmp(cols.items[i], t->cols[i].name) == 0;
    if (!same) {
        rd_strbuf a;
        rd_strbuf_init(&a, 2048);
        for (size_t i = 0; i < t->ncols; i++)
            rd_strbuf_appendf(&a, NULL, "%s%s", i ? ", " : "", t->cols[i].name);
        st = RD_ERR(err, RD_ERR_INTEGRITY, "columns differ from the manifest's (restored: %s)",
                    a.data);
        rd_strbuf_free(&a);
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(chunks);
    sum.chunks = calloc(n ? n : 1, sizeof *sum.chunks);
    if (!sum.chunks) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    sum.nsides = 2;
    sum.nkey = t->nkey;
    for (const cJSON *c = chunks->child; c; c = c->next) {
        rd_th_chunk *k = &sum.chunks[sum.nchunks++];
        const cJSON *rows = cJSON_GetObjectItemCaseSensitive(c, "rows");
        const cJSON *dig = cJSON_GetObjectItemCaseSensitive(c, "digest");
        k->rows[0] = -1;
        if (!chunk_keys(cJSON_GetObjectItemCaseSensitive(c, "lo"), t->nkey, &k->lo) ||
            !chunk_keys(cJSON_GetObjectItemCaseSensitive(c, "hi"), t->nkey, &k->hi) ||
            !cJSON_IsNumber(rows) || !cJSON_IsString(dig) ||
            !(k->digest[1] = rd_strdup(dig->valuestring))) {
            st = RD_ERR(err, RD_ERR_FORMAT, "the manifest's checksum of %s has a malformed chunk",
                        name);
            goto out;
        }
        k->rows[1] = (int64_t)rows->valuedouble;
        sum.rows[1] += k->rows[1];
    }
    static const int which[1] = {0};
    if ((st = rd_th_digest_ranges(side, 1, which, 1, t, sum.chunks, sum.nchunks, opts, err)) !=
        RD_OK)
        goto out;
    for (size_t i = 0; i < sum.nchunks; i++) {
        sum.rows[0] += sum.chunks[i].rows[0];
        if (rd_th_chunk_differs(&sum.chunks[i]))
            sum.mismatches++;
    }
out:
    rd_strlist_free(&cols);
    rd_strlist_free(&key);
    if (st != RD_OK) {
        rd_th_sum_clear(&sum);
        rd_th_table_free(t);
        return st;
    }
    *out = sum;
    *tab_out = t;
    return RD_OK;
}

/* ---------- the check ---------- */

typedef struct checksum_state {
    rd_strlist tables;
    long long chunk_rows;
    long long parallel;
} checksum_state;

static void checksum_free(void *p)
{
    checksum_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->tables);
    free(s);
}

static rd_status checksum_configure(const cJSON *params, const char *path, rd_engine engine,
                                    void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "tables", "chunk_rows", "parallel",
                                       NULL};
    (void)engine;
    rd_status st;
    checksum_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "tables", 1, &s->tables, err)) != RD_OK ||
        (st = rd_cfg_int(params, path, "chunk_rows", 1, 1000000000LL, &s->chunk_rows, err)) !=
            RD_OK ||
        (st = rd_cfg_int(params, path, "parallel", 1, 64, &s->parallel, err)) != RD_OK) {
        checksum_free(s);
        return st;
    }
    *state = s;
    return RD_OK;
}

/* Record the verdict of one compared table. */
static void record_sum(rd_check_ctx *ctx, const char *obj, const rd_th_table *t,
                       const rd_th_sum *sum, const char *basis, double secs)
{
    rd_check_result *c;
    char d0[32] = "?", d1[32] = "?";
    rd_th_table_digest(sum, 0, d0, sizeof d0, NULL);
    rd_th_table_digest(sum, 1, d1, sizeof d1, NULL);
    if (!sum->mismatches) {
        size_t n = rd_th_sum_chunks(sum);
        c = rd_check_record(ctx, obj, RD_PASSED, secs, "%lld rows in %zu chunk%s equal the %s",
                            (long long)sum->rows[0], n, n == 1 ? "" : "s", basis);
    } else {
        rd_cku_list l;
        rd_cku_list_init(&l, 3);
        for (size_t i = 0; i < sum->nchunks; i++) {
            if (!rd_th_chunk_differs(&sum->chunks[i]))
                continue;
            char *d = rd_th_chunk_describe(t, &sum->chunks[i]);
            rd_cku_list_add(&l, NULL, "%s (%lld rows, %s %lld)", d ? d : "?",
                            (long long)sum->chunks[i].rows[0], basis,
                            (long long)sum->chunks[i].rows[1]);
            free(d);
        }
        size_t n = rd_th_sum_chunks(sum);
        c = rd_check_record(ctx, obj, RD_FAILED, secs,
                            "%zu of %zu chunk%s differ%s from the %s: %s", sum->mismatches, n,
                            n == 1 ? "" : "s", sum->mismatches == 1 ? "s" : "", basis,
                            rd_cku_list_text(&l));
        if (c)
            rd_check_set_output(c, l.full.data);
        rd_cku_list_free(&l);
    }
    if (!c)
        return;
    rd_check_set_expected(c, "%lld rows, digest %s", (long long)sum->rows[1], d1);
    rd_check_set_actual(c, "%lld rows, digest %s", (long long)sum->rows[0], d0);
    rd_check_add_prop(c, "algorithm", "%s", rd_th_algorithm(t));
    rd_check_add_prop(c, "chunks", "%zu", rd_th_sum_chunks(sum));
    rd_check_add_prop(c, "chunks_differing", "%zu", sum->mismatches);
}

typedef struct checksum_walk {
    const rd_manifest *m;
    rd_th_side sides[2];
    rd_th_opts o;
} checksum_walk;

static void manifest_table_at(const void *list, size_t i, const char **schema, const char **name)
{
    const rd_manifest *m = list;
    *schema = m->tables[i].schema;
    *name = m->tables[i].name;
}

static rd_status checksum_table(rd_check_ctx *ctx, size_t i, const char *schema, const char *name,
                                const char *obj, void *ud, int *missing, rd_error *err)
{
    checksum_walk *w = ud;
    const rd_manifest_table *mt = &w->m->tables[i];
    rd_th_table *t = NULL;
    rd_th_sum sum;
    rd_status st;
    const char *basis = "manifest";
    double t0 = rd_mono_now();
    memset(&sum, 0, sizeof sum);
    if (mt->checksum && ctx->manifest) {
        st = rd_tablehash_manifest_compare(&w->sides[0], schema, name, mt->checksum, &w->o, &t,
                                           &sum, err);
    } else if (ctx->reference) {
        basis = "reference";
        st = rd_th_describe(ctx->scratch, schema, name, NULL, &t, err);
        if (st == RD_OK)
            st = rd_th_table_other(t, ctx->reference, schema, name, err);
        rd_th_table *const tabs[1] = {t};
        if (st == RD_OK)
            st = rd_th_checksum(w->sides, 2, tabs, 1, &w->o, &sum, err);
    } else {
        st = RD_ERR(err, RD_ERR_NOTFOUND,
                    "the manifest has no chunk digests for this table: capture it again with "
                    "`restoredrill backup` or `restoredrill manifest` (they store digests "
                    "unless --no-checksums), or give reference.dsn to compare with a live "
                    "database");
    }
    if (st == RD_ERR_NOTFOUND && strstr(err->msg, "does not exist") && !t)
        *missing = 1;
    else if (st == RD_OK)
        record_sum(ctx, obj, t, &sum, basis, rd_mono_now() - t0);
    rd_th_sum_clear(&sum);
    rd_th_table_free(t);
    return st;
}

static rd_status checksum_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    checksum_state none = {0};
    checksum_state *s = state ? state : &none;
    rd_manifest *owned = NULL;
    rd_db_opts opts[2];
    checksum_walk w = {.m = ctx->manifest};
    rd_status st;
    if (!w.m && !ctx->reference)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "checksum needs a manifest with checksums or a reference database");
    rd_cku_sides(ctx, opts, w.sides);
    w.o = (rd_th_opts){.chunk_rows = s->chunk_rows,
                       .parallel = (int)s->parallel,
                       .timeout = rd_cku_timeout(ctx),
                       .fold_equal = 1};
    if (!w.m) {
        const char *basis = NULL;
        if ((st = rd_cku_reference(ctx, 1, &w.m, &owned, &basis, err)) != RD_OK)
            return st;
    }
    st = rd_cku_each_table(ctx, &s->tables, w.m->ntables, manifest_table_at, w.m, checksum_table,
                           &w, err);
    rd_manifest_free(owned);
    return st;
}

/* engine dynamodb: checks/dynamodb.c */
static rd_status checksum_configure_any(const cJSON *params, const char *path, rd_engine engine,
                                        void **state, rd_error *err)
{
    if (engine == RD_ENGINE_DYNAMODB || engine == RD_ENGINE_S3)
        return rd_check_dyn_configure(params, path, state, err);
    return checksum_configure(params, path, engine, state, err);
}

static rd_status checksum_run_any(rd_check_ctx *ctx, void *state, rd_error *err)
{
    if (ctx->target && ctx->target->engine == RD_ENGINE_DYNAMODB)
        return rd_check_dyn_checksum(ctx, err);
    if (ctx->target && ctx->target->engine == RD_ENGINE_S3)
        return rd_check_s3_checksum(ctx, err);
    return checksum_run(ctx, state, err);
}

const rd_check_type rd_check_checksum = {
    .name = "checksum",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB | RD_ENGINE_DYNAMODB | RD_ENGINE_S3,
    .configure = checksum_configure_any,
    .run = checksum_run_any,
    .free = checksum_free,
};
