/* rowcount.c: every table has the expected number of rows.
 *
 *   { "type": "rowcount",
 *     "tables": ["public.orders", "public.*"],   optional: limit to these (globs)
 *     "tolerance": 10 | "2%",                    optional: live reference only
 *     "min_rows": 1 | {"public.orders": 100, "*": 1} }  optional
 *
 * Reference: the manifest (exact counts, captured in the dump's snapshot)
 * when there is one, else the live reference database (counts drift while it
 * runs, hence "tolerance"). One result per reference table: failed with
 * "table missing from the restore" when the restore lacks it. Tables of the
 * restore that the reference does not have get one `skipped` result each,
 * "extra table not in the reference" (reported, not a failure: the schema
 * check judges the table set). Without a reference, min_rows alone checks the
 * restored tables it names; with neither the check is an error. expected /
 * actual carry the counts. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/db.h"

typedef struct min_rule {
    char *glob;
    int64_t min;
} min_rule;

typedef struct rowcount_state {
    rd_strlist tables;
    int has_tolerance;
    rd_cku_tolerance tolerance;
    min_rule *mins; /* in config order; the first matching glob wins */
    size_t nmins;
} rowcount_state;

static void rowcount_free(void *p)
{
    rowcount_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->tables);
    for (size_t i = 0; i < s->nmins; i++)
        free(s->mins[i].glob);
    free(s->mins);
    free(s);
}

static rd_status add_min(rowcount_state *s, const char *glob, int64_t min, rd_error *err)
{
    min_rule *m = realloc(s->mins, (s->nmins + 1) * sizeof *m);
    if (!m)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->mins = m;
    m[s->nmins].glob = rd_strdup(glob);
    m[s->nmins].min = min;
    if (!m[s->nmins].glob)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->nmins++;
    return RD_OK;
}

static rd_status parse_min_rows(const cJSON *v, const char *path, rowcount_state *s, rd_error *err)
{
    char got[96];
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble < 0 || v->valuedouble != (double)(int64_t)v->valuedouble)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.min_rows: expected an integer >= 0 or an object of them, got %s",
                          path, rd_cfg_got(v, got, sizeof got));
        return add_min(s, "*", (int64_t)v->valuedouble, err);
    }
    if (!cJSON_IsObject(v) || !v->child)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.min_rows: expected an integer >= 0 or an object of them, got %s", path,
                      rd_cfg_got(v, got, sizeof got));
    for (const cJSON *it = v->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
            it->valuedouble != (double)(int64_t)it->valuedouble)
            return RD_ERR(err, RD_ERR_CONFIG, "%s.min_rows.%s: expected an integer >= 0, got %s",
                          path, it->string, rd_cfg_got(it, got, sizeof got));
        rd_status st = add_min(s, it->string, (int64_t)it->valuedouble, err);
        if (st != RD_OK)
            return st;
    }
    return RD_OK;
}

static rd_status rowcount_configure(const cJSON *params, const char *path, rd_engine engine,
                                    void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "tables", "tolerance", "min_rows",
                                       NULL};
    (void)engine;
    rd_status st = RD_OK;
    rowcount_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "tables", 1, &s->tables, err)) != RD_OK)
        goto out;
    const cJSON *tol = cJSON_GetObjectItemCaseSensitive(params, "tolerance");
    if (tol) {
        char kp[256];
        snprintf(kp, sizeof kp, "%s.tolerance", path);
        if ((st = rd_cku_parse_tolerance(tol, kp, &s->tolerance, err)) != RD_OK)
            goto out;
        s->has_tolerance = 1;
    }
    const cJSON *mr = cJSON_GetObjectItemCaseSensitive(params, "min_rows");
    if (mr && (st = parse_min_rows(mr, path, s, err)) != RD_OK)
        goto out;
out:
    if (st == RD_OK)
        *state = s;
    else
        rowcount_free(s);
    return st;
}

/* The min_rows rule for a table, or NULL. */
static const min_rule *min_for(const rowcount_state *s, const char *schema, const char *name)
{
    for (size_t i = 0; i < s->nmins; i++) {
        rd_strlist one = {&s->mins[i].glob, 1};
        if (rd_cku_table_selected(&one, schema, name))
            return &s->mins[i];
    }
    return NULL;
}

static const rd_manifest_table *find_restored(const rd_manifest *tabs, rd_engine engine,
                                              const char *schema, const char *name)
{
    return rd_manifest_find_table(tabs, engine == RD_ENGINE_MARIADB ? NULL : schema, name);
}

/* One reference table against the restore. */
static void check_table(rd_check_ctx *ctx, const rowcount_state *s, const rd_manifest *tabs,
                        const rd_manifest_table *rt, const char *basis)
{
    rd_engine engine = rd_db_engine(ctx->scratch);
    char *obj = rd_cku_table_key(engine, rt->schema, rt->name);
    double t0 = rd_mono_now();
    const min_rule *mr = min_for(s, rt->schema, rt->name);
    rd_check_result *c;
    if (!obj)
        return;
    const rd_manifest_table *t =
        find_restored(tabs, engine, rt->schema ? rt->schema : "", rt->name);
    if (!t) {
        c = rd_check_record(ctx, obj, RD_FAILED, 0, "table missing from the restore");
        if (c && rt->rows >= 0)
            rd_check_set_expected(c, "%lld", (long long)rt->rows);
        if (c)
            rd_check_set_actual(c, "missing");
        goto out;
    }
    if (rt->rows < 0 && !mr) {
        rd_check_record(ctx, obj, RD_ERROR, 0, "the %s has no row count for this table", basis);
        goto out;
    }
    rd_error err = {0};
    int64_t n = 0;
    if (rd_cku_count_rows(ctx->scratch, t->schema, t->name, rd_cku_timeout(ctx), &n, &err) !=
        RD_OK) {
        rd_check_record(ctx, obj, RD_ERROR, rd_mono_now() - t0, "cannot count rows: %s", err.msg);
        goto out;
    }
    double secs = rd_mono_now() - t0;
    int64_t tol = strcmp(basis, "reference") == 0 && s->has_tolerance
                      ? rd_cku_tolerance_rows(&s->tolerance, rt->rows)
                      : 0;
    int ok_ref = rt->rows < 0 || (n >= rt->rows - tol && n <= rt->rows + tol);
    int ok_min = !mr || n >= mr->min;
    rd_verdict v = ok_ref && ok_min ? RD_PASSED : RD_FAILED;
    char msg[256];
    if (!ok_ref && tol)
        snprintf(msg, sizeof msg, "%lld rows, expected %lld ± %lld (%s)", (long long)n,
                 (long long)rt->rows, (long long)tol, basis);
    else if (!ok_ref)
        snprintf(msg, sizeof msg, "%lld rows, expected %lld (%s)", (long long)n,
                 (long long)rt->rows, basis);
    else if (!ok_min)
        snprintf(msg, sizeof msg, "%lld rows, fewer than min_rows %lld", (long long)n,
                 (long long)mr->min);
    else if (rt->rows < 0)
        snprintf(msg, sizeof msg, "%lld rows, at least min_rows %lld", (long long)n,
                 (long long)mr->min);
    else if (tol)
        snprintf(msg, sizeof msg, "%lld rows, within %lld of the %s's %lld", (long long)n,
                 (long long)tol, basis, (long long)rt->rows);
    else
        snprintf(msg, sizeof msg, "%lld rows, as in the %s", (long long)n, basis);
    c = rd_check_record(ctx, obj, v, secs, "%s", msg);
    if (!c)
        goto out;
    if (rt->rows >= 0 && !ok_ref)
        rd_check_set_expected(c, tol ? "%lld ± %lld" : "%lld", (long long)rt->rows, (long long)tol);
    else if (!ok_min)
        rd_check_set_expected(c, ">= %lld", (long long)mr->min);
    else if (rt->rows >= 0)
        rd_check_set_expected(c, tol ? "%lld ± %lld" : "%lld", (long long)rt->rows, (long long)tol);
    else
        rd_check_set_expected(c, ">= %lld", (long long)mr->min);
    rd_check_set_actual(c, "%lld", (long long)n);
    if (mr)
        rd_check_add_prop(c, "min_rows", "%lld", (long long)mr->min);
out:
    free(obj);
}

/* min_rows without a reference: the restored tables the rules name. */
static rd_status check_min_only(rd_check_ctx *ctx, const rowcount_state *s, const rd_manifest *tabs,
                                rd_error *err)
{
    rd_manifest_table pseudo;
    for (size_t i = 0; i < tabs->ntables; i++) {
        const rd_manifest_table *t = &tabs->tables[i];
        if (!rd_cku_table_selected(&s->tables, t->schema, t->name) ||
            !min_for(s, t->schema, t->name))
            continue;
        memset(&pseudo, 0, sizeof pseudo);
        pseudo.schema = t->schema;
        pseudo.name = t->name;
        pseudo.rows = -1;
        check_table(ctx, s, tabs, &pseudo, "min_rows");
    }
    /* a rule naming one table (no glob characters) that the restore lacks */
    for (size_t i = 0; i < s->nmins; i++) {
        const char *g = s->mins[i].glob;
        if (strpbrk(g, "*?["))
            continue;
        const char *dot = strrchr(g, '.');
        char schema[256] = "";
        const char *name = g;
        if (dot && (size_t)(dot - g) < sizeof schema) {
            memcpy(schema, g, (size_t)(dot - g));
            schema[dot - g] = '\0';
            name = dot + 1;
        }
        if (find_restored(tabs, rd_db_engine(ctx->scratch), schema, name))
            continue;
        rd_check_result *c =
            rd_check_record(ctx, g, RD_FAILED, 0, "table missing from the restore");
        if (c) {
            rd_check_set_expected(c, ">= %lld", (long long)s->mins[i].min);
            rd_check_set_actual(c, "missing");
        }
    }
    (void)err;
    return RD_OK;
}

/* The tables one rowcount run counts, one work unit each. */
typedef struct count_units {
    const rowcount_state *s;
    const rd_manifest *tabs;
    const char *basis;
    const rd_manifest_table **tables; /* the selected reference tables, in order */
} count_units;

static void count_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    const count_units *cu = ud;
    check_table(ctx, cu->s, cu->tabs, cu->tables[i], cu->basis);
}

static rd_status rowcount_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    rowcount_state *s = state;
    rowcount_state none = {0};
    const rd_manifest *ref = NULL;
    rd_manifest *owned = NULL;
    const char *basis = NULL;
    rd_manifest *tabs = NULL;
    rd_status st = RD_OK;
    if (!s)
        s = &none;
    if (!ctx->scratch)
        return RD_ERR(err, RD_ERR_INTERNAL, "rowcount has no scratch connection");
    if (!ctx->manifest && !ctx->reference && s->nmins == 0)
        return RD_ERR(err, RD_ERR_CONFIG, "rowcount needs a manifest, a reference or min_rows");
    if (ctx->manifest || ctx->reference) {
        if ((st = rd_cku_reference(ctx, 0, &ref, &owned, &basis, err)) != RD_OK)
            goto out;
    }
    if ((st = rd_cku_list_tables(ctx->scratch, &tabs, err)) != RD_OK) {
        rd_error_prefix(err, "listing restored tables: ");
        goto out;
    }
    if (!ref) {
        st = check_min_only(ctx, s, tabs, err);
        goto out;
    }
    rd_engine engine = rd_db_engine(ctx->scratch);
    size_t selected = 0;
    count_units cu = {s, tabs, basis, NULL};
    if (ref->ntables && !(cu.tables = calloc(ref->ntables, sizeof *cu.tables))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < ref->ntables; i++)
        if (rd_cku_table_selected(&s->tables, ref->tables[i].schema, ref->tables[i].name))
            cu.tables[selected++] = &ref->tables[i];
    st = rd_check_units(ctx, selected, count_unit, &cu, err); /* one count per table */
    free(cu.tables);
    if (st != RD_OK)
        goto out;
    for (size_t i = 0; i < tabs->ntables; i++) {
        const rd_manifest_table *t = &tabs->tables[i];
        if (!rd_cku_table_selected(&s->tables, t->schema, t->name))
            continue;
        const rd_manifest_table *rt =
            rd_manifest_find_table(ref, engine == RD_ENGINE_MARIADB ? NULL : t->schema, t->name);
        if (rt)
            continue;
        char *obj = rd_cku_table_key(engine, t->schema, t->name);
        if (obj)
            rd_check_record(ctx, obj, RD_SKIPPED, 0, "extra table not in the reference");
        free(obj);
    }
    if (selected == 0 && s->tables.n > 0)
        rd_check_record(ctx, "*", RD_FAILED, 0, "no table of the %s matches \"tables\"", basis);
    else if (ref->ntables == 0 && tabs->ntables == 0)
        rd_check_record(ctx, "*", RD_SKIPPED, 0, "the %s has no tables", basis);
out:
    rd_manifest_free(tabs);
    rd_manifest_free(owned);
    return st;
}

/* engine dynamodb: checks/dynamodb.c */
static rd_status rowcount_configure_any(const cJSON *params, const char *path, rd_engine engine,
                                        void **state, rd_error *err)
{
    if (engine == RD_ENGINE_DYNAMODB || engine == RD_ENGINE_S3)
        return rd_check_dyn_configure(params, path, state, err);
    return rowcount_configure(params, path, engine, state, err);
}

static rd_status rowcount_run_any(rd_check_ctx *ctx, void *state, rd_error *err)
{
    if (ctx->target && ctx->target->engine == RD_ENGINE_DYNAMODB)
        return rd_check_dyn_rowcount(ctx, err);
    if (ctx->target && ctx->target->engine == RD_ENGINE_S3)
        return rd_check_s3_rowcount(ctx, err);
    return rowcount_run(ctx, state, err);
}

const rd_check_type rd_check_rowcount = {
    .name = "rowcount",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB | RD_ENGINE_DYNAMODB | RD_ENGINE_S3,
    .configure = rowcount_configure_any,
    .run = rowcount_run_any,
    .free = rowcount_free,
    .concurrent = 1,
};
