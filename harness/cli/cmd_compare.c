/* cmd_compare.c: the `checksum` and `diff` subcommands (argument parsing,
 * connections, output and exit codes; the work is in harness/tablehash/tablehash.c and
 * harness/tablehash/tablediff.c).
 *
 *   checksum --engine E --dsn DSN [--table T]... [--json] [--against DSN2]
 *            [--manifest FILE] [--parallel N] [--chunk-rows N]
 *   diff --engine E --dsn A --against B --table T [--against-table T2]
 *        [--key COL]... [--json] [--max-rows N] [--where SQL] [--parallel N]
 *        [--chunk-rows N] [--leaf-rows N]
 *
 * Exit status: 0 equal (or digests printed), 1 differences or a failure,
 * 2 usage. Both databases are read in read-only transactions; PostgreSQL
 * worker connections share the main connection's snapshot. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/cli.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablediff.h"
#include "restoredrill/tablehash.h"

static int fail(const char *sub, rd_status st, const rd_error *err)
{
    fprintf(stderr, "restoredrill: %s: %s\n", sub, err->msg[0] ? err->msg : rd_strerror(st));
    return st == RD_ERR_USAGE || st == RD_ERR_CONFIG ? RD_EXIT_USAGE : RD_EXIT_FAILED;
}

static int parse_count(const char *v, long long min, long long max, long long *out)
{
    char *end = NULL;
    if (!v || !*v)
        return 0;
    long long x = strtoll(v, &end, 10);
    if (*end || x < min || x > max)
        return 0;
    *out = x;
    return 1;
}

typedef struct args {
    const char *engine, *dsn, *against, *manifest, *against_table, *where;
    rd_strlist tables, keys;
    int json;
    long long parallel, chunk_rows, leaf_rows, max_rows;
} args;

/* Parse the options both commands share; 0 ok, else an exit status. */
static int parse(const char *sub, int argc, char **argv, args *a)
{
    rd_error err;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        const char *name = argv[i];
        if (strcmp(name, "--json") == 0) {
            a->json = 1;
            continue;
        }
        struct {
            const char *name;
            const char **slot;
        } strs[] = {{"--engine", &a->engine},
                    {"--dsn", &a->dsn},
                    {"--against", &a->against},
                    {"--manifest", &a->manifest},
                    {"--against-table", &a->against_table},
                    {"--where", &a->where}};
        int done = 0;
        for (size_t k = 0; !done && k < sizeof strs / sizeof strs[0]; k++) {
            if (rd_cli_opt_value(argc, argv, &i, strs[k].name, &v)) {
                if (!v)
                    return rd_cli_usage_error(sub, "%s needs a value", strs[k].name);
                *strs[k].slot = v;
                done = 1;
            }
        }
        if (done)
            continue;
        if (rd_cli_opt_value(argc, argv, &i, "--table", &v) ||
            rd_cli_opt_value(argc, argv, &i, "--key", &v)) {
            int is_key = strncmp(name, "--key", 5) == 0;
            if (!v)
                return rd_cli_usage_error(sub, "%s needs a value", is_key ? "--key" : "--table");
            if (rd_strlist_push(is_key ? &a->keys : &a->tables, v, &err) != RD_OK)
                return fail(sub, err.code, &err);
            continue;
        }
        struct {
            const char *name;
            long long *slot, min, max;
        } nums[] = {{"--parallel", &a->parallel, 1, 64},
                    {"--chunk-rows", &a->chunk_rows, 1, 1000000000LL},
                    {"--leaf-rows", &a->leaf_rows, 1, 10000000LL},
                    {"--max-rows", &a->max_rows, 0, 100000000LL}};
        for (size_t k = 0; !done && k < sizeof nums / sizeof nums[0]; k++) {
            if (rd_cli_opt_value(argc, argv, &i, nums[k].name, &v)) {
                if (!parse_count(v, nums[k].min, nums[k].max, nums[k].slot))
                    return rd_cli_usage_error(
                        sub, "%s: expected an integer from %lld to %lld, got \"%s\"", nums[k].name,
                        nums[k].min, nums[k].max, v ? v : "");
                done = 1;
            }
        }
        if (done)
            continue;
        return rd_cli_usage_error(
            sub, name[0] == '-' ? "unknown option \"%s\"" : "unexpected argument \"%s\"", name);
    }
    if (!a->engine)
        return rd_cli_usage_error(sub, "--engine is required");
    if (!(rd_engine_parse(a->engine) & RD_ENGINE_ANY)) /* the SQL engines only */
        return rd_cli_usage_error(sub, "--engine: expected postgres or mariadb, got \"%s\"",
                                  a->engine);
    if (!a->dsn)
        return rd_cli_usage_error(sub, "--dsn is required");
    return 0;
}

/* "schema.table" -> schema, name (PostgreSQL default schema public;
 * MariaDB "db.table" or "table"). Pointers into buf. */
static void split_name(const char *t, char *buf, size_t bufsz, const char **schema,
                       const char **name)
{
    snprintf(buf, bufsz, "%s", t);
    char *dot = strchr(buf, '.');
    if (dot) {
        *dot = '\0';
        *schema = buf;
        *name = dot + 1;
    } else {
        *schema = NULL;
        *name = buf;
    }
}

static rd_status open_side(rd_engine e, const char *dsn, rd_db **out, rd_error *err)
{
    rd_db *db = NULL;
    rd_status st = rd_db_connect(e, dsn, NULL, &db, err);
    if (st == RD_OK)
        st = rd_db_pin_session(db, err);
    if (st == RD_OK)
        st = rd_db_begin_readonly(db, err);
    if (st != RD_OK) {
        rd_db_free(db);
        return st;
    }
    *out = db;
    return RD_OK;
}

/* End the read-only transactions open_side began and disconnect both sides
 * (either may be NULL). */
static void close_sides(rd_db *db[2])
{
    for (int i = 0; i < 2; i++) {
        if (db[i])
            rd_db_commit(db[i], NULL);
        rd_db_free(db[i]);
    }
}

/* ---------- checksum ---------- */

typedef struct ck_table {
    rd_th_table *t;
    rd_th_sum sum;
    char *error; /* could not run */
} ck_table;

static void print_table(cJSON *arr, const ck_table *c, int nsides, const char *basis, int *diffs)
{
    char d0[32] = "", d1[32] = "";
    rd_error err;
    const char *status;
    if (c->error) {
        status = "error";
        *diffs = 1;
    } else if (nsides == 2 && c->sum.mismatches) {
        status = "differs";
        *diffs = 1;
    } else {
        status = nsides == 2 ? "equal" : "ok";
    }
    if (!c->error) {
        rd_th_table_digest(&c->sum, 0, d0, sizeof d0, &err);
        if (nsides == 2)
            rd_th_table_digest(&c->sum, 1, d1, sizeof d1, &err);
    }
    const char *name = c->t ? c->t->display : "?";
    if (arr) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table", name);
        cJSON_AddStringToObject(o, "status", status);
        if (c->error) {
            cJSON_AddStringToObject(o, "error", c->error);
        } else {
            cJSON_AddStringToObject(o, "algorithm", rd_th_algorithm(c->t));
            cJSON_AddNumberToObject(o, "rows", (double)c->sum.rows[0]);
            cJSON_AddNumberToObject(o, "chunks", (double)rd_th_sum_chunks(&c->sum));
            cJSON_AddStringToObject(o, "digest", d0);
            if (nsides == 2) {
                cJSON_AddStringToObject(o, "against", basis);
                cJSON_AddNumberToObject(o, "against_rows", (double)c->sum.rows[1]);
                cJSON_AddStringToObject(o, "against_digest", d1);
                cJSON *m = cJSON_AddArrayToObject(o, "mismatching_ranges");
                for (size_t i = 0; i < c->sum.nchunks; i++) {
                    const rd_th_chunk *k = &c->sum.chunks[i];
                    if (!rd_th_chunk_differs(k))
                        continue;
                    char *desc = rd_th_chunk_describe(c->t, k);
                    cJSON *r = cJSON_CreateObject();
                    cJSON_AddStringToObject(r, "range", desc ? desc : "?");
                    cJSON_AddNumberToObject(r, "rows", (double)k->rows[0]);
                    cJSON_AddNumberToObject(r, "against_rows", (double)k->rows[1]);
                    cJSON_AddItemToArray(m, r);
                    free(desc);
                }
            }
        }
        cJSON_AddItemToArray(arr, o);
        return;
    }
    if (c->error) {
        printf("%s: error: %s\n", name, c->error);
        return;
    }
    if (nsides == 1) {
        printf("%s: %lld rows, %zu chunk%s, digest %s\n", name, (long long)c->sum.rows[0],
               rd_th_sum_chunks(&c->sum), rd_th_sum_chunks(&c->sum) == 1 ? "" : "s", d0);
        return;
    }
    if (!c->sum.mismatches) {
        printf("%s: equal: %lld rows, %zu chunk%s, digest %s\n", name, (long long)c->sum.rows[0],
               rd_th_sum_chunks(&c->sum), rd_th_sum_chunks(&c->sum) == 1 ? "" : "s", d0);
        return;
    }
    printf("%s: differs: %zu of %zu chunk%s, %lld rows vs %lld in the %s\n", name,
           c->sum.mismatches, rd_th_sum_chunks(&c->sum), rd_th_sum_chunks(&c->sum) == 1 ? "" : "s",
           (long long)c->sum.rows[0], (long long)c->sum.rows[1], basis);
    for (size_t i = 0; i < c->sum.nchunks; i++) {
        const rd_th_chunk *k = &c->sum.chunks[i];
        if (!rd_th_chunk_differs(k))
            continue;
        char *desc = rd_th_chunk_describe(c->t, k);
        printf("  %s: %lld rows vs %lld\n", desc ? desc : "?", (long long)k->rows[0],
               (long long)k->rows[1]);
        free(desc);
    }
}

/* The tables to check: --table names, else every table of db. */
static rd_status table_names(rd_db *db, const rd_strlist *given, rd_strlist *out, rd_error *err)
{
    rd_db_tables tabs = {0};
    rd_status st = RD_OK;
    if (given->n) {
        for (size_t i = 0; st == RD_OK && i < given->n; i++)
            st = rd_strlist_push(out, given->items[i], err);
        return st;
    }
    if ((st = rd_db_list_tables(db, &tabs, err)) != RD_OK)
        return st;
    for (size_t i = 0; st == RD_OK && i < tabs.n; i++) {
        char *n = rd_db_engine(db) == RD_ENGINE_PG
                      ? rd_asprintf("%s.%s", tabs.items[i].schema, tabs.items[i].name)
                      : rd_strdup(tabs.items[i].name);
        st = n ? rd_strlist_push(out, n, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(n);
    }
    rd_db_tables_free(&tabs);
    return st;
}

static rd_status checksum_manifest(const args *a, rd_th_side *side, const rd_th_opts *o,
                                   ck_table *cts, size_t *n, const rd_strlist *names, rd_error *err)
{
    rd_manifest *m = NULL;
    rd_status st = rd_manifest_load(a->manifest, &m, err);
    if (st != RD_OK)
        return st;
    for (size_t i = 0; i < m->ntables; i++) {
        const rd_manifest_table *mt = &m->tables[i];
        char full[512];
        snprintf(full, sizeof full, "%s.%s", mt->schema, mt->name);
        int want = names->n == 0;
        for (size_t k = 0; !want && k < names->n; k++)
            want = strcmp(names->items[k], full) == 0 || strcmp(names->items[k], mt->name) == 0;
        if (!want)
            continue;
        ck_table *c = &cts[(*n)++];
        rd_error e;
        rd_error_clear(&e);
        const char *schema = m->engine == RD_ENGINE_PG ? mt->schema : NULL;
        if (!mt->checksum)
            c->error = rd_asprintf("the manifest has no chunk digests for %s: capture it again "
                                   "with `restoredrill manifest` or `restoredrill backup` (they "
                                   "store digests unless --no-checksums)",
                                   full);
        else if (rd_tablehash_manifest_compare(side, schema, mt->name, mt->checksum, o, &c->t,
                                               &c->sum, &e) != RD_OK)
            c->error = rd_strdup(e.msg);
        if (!c->t) {
            rd_strlist one = {0};
            if (rd_th_describe(side->db, schema, mt->name, &one, &c->t, &e) != RD_OK && !c->error)
                c->error = rd_strdup(e.msg);
        }
    }
    rd_manifest_free(m);
    return RD_OK;
}

int rd_cmd_checksum(int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    int rc = parse("checksum", argc, argv, &a);
    if (rc)
        goto done;
    if (a.against && a.manifest) {
        rc = rd_cli_usage_error("checksum", "--against and --manifest exclude each other");
        goto done;
    }
    rd_engine e = rd_engine_parse(a.engine);
    rd_error err = {0};
    rd_db *db[2] = {NULL, NULL};
    rd_strlist names = {0};
    ck_table *cts = NULL;
    size_t n = 0;
    int nsides = a.against || a.manifest ? 2 : 1;
    rd_th_opts o = {.chunk_rows = a.chunk_rows, .parallel = (int)a.parallel, .fold_equal = 1};
    rd_th_side sides[2];
    memset(sides, 0, sizeof sides);
    rd_status st = open_side(e, a.dsn, &db[0], &err);
    if (st == RD_OK && a.against)
        st = open_side(e, a.against, &db[1], &err);
    if (st == RD_OK)
        st = table_names(db[0], &a.tables, &names, &err);
    if (st != RD_OK)
        goto out;
    sides[0] = (rd_th_side){db[0], a.dsn, NULL, 1};
    sides[1] = (rd_th_side){db[1], a.against, NULL, 1};
    if (!(cts = calloc(names.n + 1024, sizeof *cts))) {
        st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (a.manifest) {
        st = checksum_manifest(&a, &sides[0], &o, cts, &n, &names, &err);
        if (st != RD_OK)
            goto out;
    } else {
        rd_th_table **ok = calloc(names.n + 1, sizeof *ok);
        ck_table **okc = calloc(names.n + 1, sizeof *okc);
        size_t nok = 0;
        if (!ok || !okc) {
            free(ok);
            free(okc);
            st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        for (size_t i = 0; i < names.n; i++) {
            char buf[512];
            const char *schema, *name;
            rd_error te;
            rd_error_clear(&te);
            split_name(names.items[i], buf, sizeof buf, &schema, &name);
            ck_table *c = &cts[n++];
            if (rd_th_describe(db[0], schema, name, NULL, &c->t, &te) != RD_OK ||
                (db[1] && rd_th_table_other(c->t, db[1], e == RD_ENGINE_PG ? schema : NULL, name,
                                            &te) != RD_OK)) {
                c->error = rd_strdup(te.msg);
                if (!c->t)
                    c->t = NULL;
                continue;
            }
            ok[nok] = c->t;
            okc[nok++] = c;
        }
        rd_th_sum *sums = calloc(nok + 1, sizeof *sums);
        if (!sums)
            st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
        else
            st = rd_th_checksum(sides, nsides, ok, nok, &o, sums, &err);
        for (size_t i = 0; st == RD_OK && i < nok; i++)
            okc[i]->sum = sums[i];
        free(sums);
        free(ok);
        free(okc);
        if (st != RD_OK)
            goto out;
    }
    int diffs = 0;
    cJSON *root = a.json ? cJSON_CreateObject() : NULL;
    cJSON *arr = root ? cJSON_AddArrayToObject(root, "tables") : NULL;
    for (size_t i = 0; i < n; i++) {
        if (!cts[i].t && !cts[i].error)
            continue;
        if (!cts[i].t) { /* describe failed before a table existed */
            if (arr) {
                cJSON *o2 = cJSON_CreateObject();
                cJSON_AddStringToObject(o2, "table", names.n > i ? names.items[i] : "?");
                cJSON_AddStringToObject(o2, "status", "error");
                cJSON_AddStringToObject(o2, "error", cts[i].error);
                cJSON_AddItemToArray(arr, o2);
            } else {
                printf("%s: error: %s\n", names.n > i ? names.items[i] : "?", cts[i].error);
            }
            diffs = 1;
            continue;
        }
        print_table(arr, &cts[i], nsides, a.manifest ? "manifest" : "reference", &diffs);
    }
    if (root) {
        char *text = cJSON_Print(root);
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(root);
    }
    rc = diffs ? RD_EXIT_FAILED : RD_EXIT_OK;
out:
    if (st != RD_OK)
        rc = fail("checksum", st, &err);
    for (size_t i = 0; cts && i < n; i++) {
        rd_th_table_free(cts[i].t);
        rd_th_sum_clear(&cts[i].sum);
        free(cts[i].error);
    }
    free(cts);
    rd_strlist_free(&names);
    close_sides(db);
done:
    rd_strlist_free(&a.tables);
    rd_strlist_free(&a.keys);
    return rc;
}

/* ---------- diff ---------- */

static void print_diff(const args *a, const rd_th_table *t, const char *other,
                       const rd_diff_result *r)
{
    int64_t total = r->missing + r->extra + r->changed;
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "table", t->display);
        cJSON_AddStringToObject(o, "against_table", other);
        cJSON_AddStringToObject(o, "status", total ? "differs" : "equal");
        cJSON_AddNumberToObject(o, "rows", (double)r->rows_a);
        cJSON_AddNumberToObject(o, "against_rows", (double)r->rows_b);
        cJSON_AddNumberToObject(o, "missing", (double)r->missing);
        cJSON_AddNumberToObject(o, "extra", (double)r->extra);
        cJSON_AddNumberToObject(o, "changed", (double)r->changed);
        cJSON *k = cJSON_AddArrayToObject(o, "key");
        for (size_t i = 0; i < t->nkey; i++)
            cJSON_AddItemToArray(k, cJSON_CreateString(t->cols[t->key[i]].name));
        cJSON *rows = cJSON_AddArrayToObject(o, "rows_differing");
        for (size_t i = 0; i < r->nrows; i++) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "kind", rd_diff_kind_name(r->rows[i].kind));
            cJSON_AddStringToObject(x, "key", r->rows[i].key);
            cJSON_AddItemToArray(rows, x);
        }
        cJSON_AddBoolToObject(o, "truncated", (int64_t)r->nrows < total);
        cJSON_AddNumberToObject(o, "chunks", (double)r->chunks);
        cJSON_AddNumberToObject(o, "chunks_differing", (double)r->mismatched);
        cJSON_AddNumberToObject(o, "leaves", (double)r->leaves);
        char *text = cJSON_Print(o);
        if (text)
            printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
        return;
    }
    if (!total) {
        printf("%s: equal: %lld rows\n", t->display, (long long)r->rows_a);
        return;
    }
    printf("%s: %lld missing, %lld extra, %lld changed (%lld rows vs %lld in %s)\n", t->display,
           (long long)r->missing, (long long)r->extra, (long long)r->changed, (long long)r->rows_a,
           (long long)r->rows_b, other);
    for (size_t i = 0; i < r->nrows; i++)
        printf("  %s %s\n", rd_diff_kind_name(r->rows[i].kind), r->rows[i].key);
    if ((int64_t)r->nrows < total)
        printf("  ... and %lld more\n", (long long)(total - (int64_t)r->nrows));
}

int rd_cmd_diff(int argc, char **argv)
{
    args a;
    memset(&a, 0, sizeof a);
    a.max_rows = -1;
    int rc = parse("diff", argc, argv, &a);
    if (rc)
        goto done;
    if (!a.against) {
        rc = rd_cli_usage_error("diff", "--against is required");
        goto done;
    }
    if (a.tables.n != 1) {
        rc = rd_cli_usage_error("diff", a.tables.n ? "give one --table" : "--table is required");
        goto done;
    }
    if (a.manifest) {
        rc = rd_cli_usage_error("diff", "--manifest applies to checksum; diff needs --against");
        goto done;
    }
    rd_engine e = rd_engine_parse(a.engine);
    rd_error err = {0};
    rd_db *db[2] = {NULL, NULL};
    rd_th_table *t = NULL;
    rd_diff_result r;
    memset(&r, 0, sizeof r);
    char b1[512], b2[512];
    const char *s1, *n1, *s2, *n2;
    split_name(a.tables.items[0], b1, sizeof b1, &s1, &n1);
    split_name(a.against_table ? a.against_table : a.tables.items[0], b2, sizeof b2, &s2, &n2);
    rd_status st = open_side(e, a.dsn, &db[0], &err);
    if (st == RD_OK)
        st = open_side(e, a.against, &db[1], &err);
    if (st == RD_OK)
        st = rd_th_describe(db[0], s1, n1, &a.keys, &t, &err);
    if (st == RD_OK)
        st =
            rd_th_table_other(t, db[1], e == RD_ENGINE_PG || a.against_table ? s2 : NULL, n2, &err);
    if (st != RD_OK)
        goto out;
    rd_th_side sides[2] = {{db[0], a.dsn, NULL, 1}, {db[1], a.against, NULL, 1}};
    rd_diff_opts o;
    memset(&o, 0, sizeof o);
    o.th.chunk_rows = a.chunk_rows;
    o.th.parallel = (int)a.parallel;
    o.th.where = a.where;
    o.leaf_rows = a.leaf_rows;
    o.max_rows = a.max_rows;
    if ((st = rd_tablediff(sides, t, &o, &r, &err)) != RD_OK)
        goto out;
    char other[1100];
    if (!s2 && e == RD_ENGINE_PG)
        s2 = "public";
    snprintf(other, sizeof other, "%s%s%s", s2 ? s2 : "", s2 ? "." : "", n2);
    print_diff(&a, t, other, &r);
    rc = r.missing + r.extra + r.changed ? RD_EXIT_FAILED : RD_EXIT_OK;
out:
    if (st != RD_OK)
        rc = fail("diff", st, &err);
    rd_diff_result_clear(&r);
    rd_th_table_free(t);
    close_sides(db);
done:
    rd_strlist_free(&a.tables);
    rd_strlist_free(&a.keys);
    return rc;
}
