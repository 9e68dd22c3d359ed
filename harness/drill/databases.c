/* databases.c: which databases of a multi-database recovery point a target
 * drills: the point's databases (from its cluster manifest, else from a scan
 * of the dump), those matching the target's `databases` globs, then a seeded
 * sample of `sample.databases` of them (DESIGN section 11, "Tenants"); and
 * after the restore, the databases a cluster manifest lists but the dump
 * lacks. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/prng.h"
#include "restoredrill/restore.h"
#include "restoredrill/s3.h"

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

/* A manifest object in S3 (the catalog's endpoint, region, path style);
 * RD_ERR_NOTFOUND when the object does not exist. */
static rd_status load_s3(const rd_drill_target *dt, const char *url, rd_manifest **m, rd_error *err)
{
    const rd_catalog_cfg *c = &dt->t->catalog;
    rd_s3_opts o = {.endpoint = c->endpoint, .region = c->region, .path_style = c->path_style};
    rd_s3 *s3 = NULL;
    char *bucket = NULL, *key = NULL, *text = NULL;
    size_t len = 0;
    rd_status st = rd_s3_url_split(url, &bucket, &key, err);
    if (st == RD_OK)
        st = rd_s3_new(&o, &s3, err);
    if (st == RD_OK)
        st = rd_s3_get_mem(s3, bucket, key, (size_t)512 << 20, &text, &len, err);
    if (st == RD_OK)
        st = rd_manifest_parse(text, len, url, m, err);
    rd_s3_free(s3);
    free(bucket);
    free(key);
    free(text);
    return st;
}

rd_status rd_drill_take_databases(rd_drill_target *dt, const rd_strlist *all, size_t *nmatched,
                                  rd_error *err)
{
    rd_strlist matched = {0};
    rd_status st = rd_drill_pick_databases(dt->t, all, dt->seed, &matched, &dt->dbs, err);
    if (st == RD_ERR_CONFIG)
        dt->res->config_error = 1;
    if (st == RD_OK) {
        dt->res->databases_total = all->n;
        dt->res->databases_matched = matched.n;
        *nmatched = matched.n;
        for (size_t i = 0; i < dt->dbs.n && st == RD_OK; i++)
            st = rd_target_add_database(dt->res, dt->dbs.items[i], err);
    }
    rd_strlist_free(&matched);
    return st;
}

/* The point's cluster manifest (reference.manifest, else the sidecar the
 * catalog found) into dt->cluster. A configured manifest that cannot be
 * loaded or holds no databases is an error; a sidecar of one database is
 * left aside (the databases are then listed from the dump). */
static rd_status load_cluster(rd_drill_target *dt, rd_error *err)
{
    const char *conf = dt->t->reference.manifest;
    char *path = conf && strcmp(conf, "sidecar") == 0
                     ? rd_manifest_sidecar_path(dt->point->location)
                 : conf ? rd_strdup(conf)
                        : rd_strdup(dt->point->manifest);
    rd_manifest *m = NULL;
    rd_status st = RD_OK;
    if (!path)
        return conf ? RD_ERR(err, RD_ERR_NOMEM, "out of memory") : RD_OK;
    if (rd_s3_is_url(path)) {
        st = load_s3(dt, path, &m, err);
        if (st == RD_ERR_NOTFOUND && !conf)
            st = RD_OK; /* no sidecar: the dump is listed */
        if (st == RD_OK && m && m->ndatabases == 0) {
            rd_manifest_free(m);
            m = NULL;
            if (conf)
                st = RD_ERR(err, RD_ERR_FORMAT,
                            "manifest %s describes one database, not a cluster-wide dump", path);
        }
    } else if (!rd_fs_exists(path)) {
        if (conf)
            st = RD_ERR(err, RD_ERR_NOTFOUND, "manifest %s does not exist", path);
    } else if ((st = rd_manifest_load(path, &m, err)) == RD_OK && m->ndatabases == 0) {
        if (conf)
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "manifest %s describes one database, not a cluster-wide dump (make it "
                        "with backup or manifest --all-databases / --databases)",
                        path);
        else
            rd_log_warn("%s: the manifest %s describes one database: listing the dump's instead",
                        dt->t->name, path);
        rd_manifest_free(m);
        m = NULL;
    }
    if (m)
        rd_log_info("%s: cluster manifest %s (%zu databases)", dt->t->name, path, m->ndatabases);
    free(path);
    dt->cluster = m;
    return st;
}

rd_status rd_drill_choose_databases(rd_drill_target *dt, const rd_restore_type *drv,
                                    const rd_artifact_opts *o, rd_error *err)
{
    const rd_target_cfg *t = dt->t;
    rd_artifact *scan = NULL;
    rd_strlist all = {0};
    rd_status st = RD_OK;
    if (dt->chosen)
        return RD_OK;
    if (!dt->cluster_loaded) {
        dt->cluster_loaded = 1;
        st = load_cluster(dt, err);
    }
    if (st == RD_OK && !dt->cluster && !drv)
        return RD_OK; /* no manifest: chosen later, from a scan through the driver */
    if (st == RD_OK && !dt->cluster && !drv->list_databases)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "the %s restore driver cannot choose databases in a %s dump", drv->name,
                      dt->res->point.format ? dt->res->point.format : "?");
    if (st == RD_OK && dt->cluster) {
        /* the manifest lists the point's databases: no read of the dump */
        for (size_t i = 0; st == RD_OK && i < dt->cluster->ndatabases; i++)
            st = rd_strlist_push(&all, dt->cluster->databases[i]->database, err);
    } else if (st == RD_OK) {
        st = rd_artifact_open(dt->point->location, o, &scan, err);
        if (st == RD_OK)
            st = drv->list_databases(scan, &all, err);
    }
    if (st == RD_OK && all.n == 0)
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "%s holds no database sections (a cluster-wide dump is made with "
                    "pg_dumpall, or mariadb-dump --all-databases or --databases)",
                    dt->point->id);
    size_t nmatched = 0;
    if (st == RD_OK && (st = rd_drill_take_databases(dt, &all, &nmatched, err)) == RD_OK) {
        dt->chosen = 1;
        rd_log_info("%s: %zu of the %zu databases matching %s (%zu in the point): %s%s", t->name,
                    dt->dbs.n, nmatched, t->databases.n == 1 ? t->databases.items[0] : "the globs",
                    all.n, dt->dbs.n ? dt->dbs.items[0] : "", dt->dbs.n > 1 ? ", ..." : "");
    }
    rd_artifact_free(scan);
    rd_strlist_free(&all);
    return st;
}

/* A cluster manifest promises every database it lists: each one whose
 * section the dump lacks fails (sampled or not). */
rd_status rd_drill_missing_databases(rd_drill_target *dt, const rd_restore_outcome *oc,
                                     rd_error *err)
{
    size_t missing = 0;
    const char *first = NULL;
    for (size_t i = 0; i < dt->cluster->ndatabases; i++) {
        const char *name = dt->cluster->databases[i]->database;
        size_t j = 0;
        if (dt->nranges) { /* only the sampled sections were read: the pieces say */
            const rd_manifest *c = dt->cluster;
            while (j < c->nsections &&
                   (!c->sections[j].database || strcmp(c->sections[j].database, name) != 0))
                j++;
            if (j < c->nsections)
                continue;
        } else {
            while (j < oc->databases_seen.n && strcmp(oc->databases_seen.items[j], name) != 0)
                j++;
            if (j < oc->databases_seen.n)
                continue;
        }
        rd_check_result *c =
            rd_target_add_check(dt->res, "restore", "databases", name, RD_FAILED, "");
        if (c)
            rd_check_set_message(c, "database %s is in the manifest but not in the dump", name);
        if (!missing++)
            first = name;
    }
    if (!missing)
        return RD_OK;
    return RD_ERR(err, RD_ERR_INTEGRITY, "database %s is in the manifest but not in the dump%s",
                  first, missing > 1 ? " (and others: see the databases results)" : "");
}

/* The restored instance's databases, system databases left out (the
 * logical path leaves out the same ones), appended to out in name order. */
static rd_status list_restored(const rd_drill_target *dt, rd_strlist *out, rd_error *err)
{
    rd_db_opts o = {.password = dt->scratch->conn.password, .app_name = "restoredrill"};
    rd_db *db = NULL;
    rd_db_result *r = NULL;
    int pg = dt->t->engine == RD_ENGINE_PG;
    rd_status st = rd_db_connect(dt->t->engine, dt->scratch->conn.dsn, &o, &db, err);
    if (st == RD_OK)
        st = rd_db_query(db,
                         pg ? "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND "
                              "datname NOT IN ('postgres', 'template0', 'template1') ORDER BY "
                              "datname COLLATE \"C\""
                            : "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE "
                              "SCHEMA_NAME NOT IN ('mysql', 'information_schema', "
                              "'performance_schema', 'sys') ORDER BY BINARY SCHEMA_NAME",
                         60, 0, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++)
        if (rd_db_cell(r, i, 0))
            st = rd_strlist_push(out, rd_db_cell(r, i, 0), err);
    rd_db_result_free(r);
    rd_db_free(db);
    return st;
}

int rd_drill_choose_restored(rd_drill_target *dt)
{
    rd_strlist all = {0};
    rd_strbuf names;
    rd_error err;
    size_t nmatched = 0;
    rd_error_clear(&err);
    rd_strbuf_init(&names, 1 << 20);
    rd_status st = list_restored(dt, &all, &err);
    if (st != RD_OK)
        rd_error_prefix(&err, "cannot list the restored cluster's databases: ");
    if (st == RD_OK)
        st = rd_drill_take_databases(dt, &all, &nmatched, &err);
    for (size_t i = 0; st == RD_OK && i < dt->dbs.n; i++)
        st = rd_strbuf_appendf(&names, &err, "%s%s", i ? ", " : "", dt->dbs.items[i]);
    rd_check_result *c = rd_target_add_check(dt->res, "restore", "databases", "cluster",
                                             st == RD_OK ? RD_PASSED : RD_ERROR, "");
    if (c && st == RD_OK) {
        rd_check_set_message(c,
                             "the physical restore brought back the whole cluster: %zu database%s "
                             "(system databases left out); %zu drilled of %zu matching: %s",
                             all.n, all.n == 1 ? "" : "s", dt->dbs.n, nmatched,
                             names.data ? names.data : "");
        rd_check_add_prop(c, "whole_cluster", "true");
        rd_check_add_prop(c, "cluster_databases", "%zu", all.n);
        rd_check_add_prop(c, "matched", "%zu", nmatched);
        rd_check_add_prop(c, "drilled", "%zu", dt->dbs.n);
    } else if (c) {
        rd_check_set_message(c, "%s", err.msg);
    }
    if (st != RD_OK) {
        if (!dt->res->error)
            rd_target_set_error(dt->res, "databases: %s", err.msg);
        rd_log_error("%s: databases: %s", dt->t->name, err.msg);
    } else {
        rd_log_info("%s: the restored cluster holds %zu databases, %zu match, drilling %zu: %s",
                    dt->t->name, all.n, nmatched, dt->dbs.n, names.data ? names.data : "");
    }
    rd_strbuf_free(&names);
    rd_strlist_free(&all);
    return st == RD_OK;
}
