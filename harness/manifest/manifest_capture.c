/* manifest_capture.c: read a manifest from a live database through db.h:
 * catalog queries for PostgreSQL (pg_catalog) and MariaDB
 * (information_schema), exact count(*) per table, the heartbeat and the
 * freshness query. Runs inside whatever transaction the caller opened, so a
 * backup can capture in the snapshot its dump uses. */
#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/manifest.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablehash.h"

#define META_TIMEOUT 600.0
#define DEFAULT_HEARTBEAT_TABLE "restoredrill_heartbeat"

static rd_status nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

rd_status rd_manifest_capture_checksums(rd_db *db, rd_manifest *m, rd_error *err)
{
    for (size_t i = 0; i < m->ntables; i++) {
        rd_manifest_table *t = &m->tables[i];
        struct cJSON *sum = NULL;
        rd_status st = rd_tablehash_manifest_json(db, t->schema, t->name, 0, &sum, err);
        if (st != RD_OK)
            return rd_error_prefix(err, "checksums of %s.%s: ", t->schema, t->name);
        cJSON_Delete(t->checksum);
        t->checksum = sum;
    }
    return RD_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int named_cmp(const void *a, const void *b)
{
    return strcmp(((const rd_manifest_named *)a)->name, ((const rd_manifest_named *)b)->name);
}

static int seq_cmp(const void *a, const void *b)
{
    const rd_manifest_sequence *x = a, *y = b;
    int c = strcmp(x->schema ? x->schema : "", y->schema ? y->schema : "");
    return c ? c : strcmp(x->name, y->name);
}

/* Byte order everywhere, whatever the server's collation: manifests of the
 * same schema are identical and comparisons stable. */
static void sort_all(rd_manifest *m)
{
    for (size_t i = 0; i < m->ntables; i++) {
        rd_manifest_table *t = &m->tables[i];
        if (t->nindexes > 1)
            qsort(t->indexes, t->nindexes, sizeof *t->indexes, named_cmp);
        if (t->nconstraints > 1)
            qsort(t->constraints, t->nconstraints, sizeof *t->constraints, named_cmp);
    }
    if (m->nsequences > 1)
        qsort(m->sequences, m->nsequences, sizeof *m->sequences, seq_cmp);
    if (m->nextensions > 1)
        qsort(m->extensions, m->nextensions, sizeof *m->extensions, named_cmp);
    if (m->nviews > 1)
        qsort(m->views, m->nviews, sizeof *m->views, str_cmp);
    if (m->nroutines > 1)
        qsort(m->routines, m->nroutines, sizeof *m->routines, str_cmp);
    if (m->ntriggers > 1)
        qsort(m->triggers, m->ntriggers, sizeof *m->triggers, str_cmp);
}

/* count(*) of every table, exactly. */
rd_status rd_manifest_count_rows(rd_db *db, rd_manifest *m, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sql;
    rd_strbuf_init(&sql, 0);
    for (size_t i = 0; i < m->ntables && st == RD_OK; i++) {
        rd_manifest_table *t = &m->tables[i];
        char *v = NULL;
        rd_strbuf_reset(&sql);
        st = rd_strbuf_append(&sql, "SELECT count(*) FROM ", err);
        if (st == RD_OK)
            st = rd_db_quote_table(db, m->engine == RD_ENGINE_PG ? t->schema : NULL, t->name, &sql,
                                   err);
        if (st == RD_OK)
            st = rd_db_scalar(db, sql.data, 0, &v, NULL, err);
        if (st == RD_OK)
            st = rd_capture_parse_int(v, &t->rows, err);
        if (st != RD_OK)
            rd_error_prefix(err, "counting rows of %s.%s: ", t->schema, t->name);
        free(v);
    }
    rd_strbuf_free(&sql);
    return st;
}

/* max(ts) of the heartbeat table when the database has one. */
static rd_status read_heartbeat(rd_db *db, rd_manifest *m, const char *table, rd_error *err)
{
    rd_status st = RD_OK;
    const rd_manifest_table *t = NULL;
    for (size_t i = 0; i < m->ntables && !t; i++)
        if (strcmp(m->tables[i].name, table) == 0)
            t = &m->tables[i];
    if (!t)
        return RD_OK;
    rd_strbuf sql;
    rd_strbuf_init(&sql, 0);
    char *v = NULL;
    st = rd_strbuf_append(&sql, "SELECT max(ts) FROM ", err);
    if (st == RD_OK)
        st =
            rd_db_quote_table(db, m->engine == RD_ENGINE_PG ? t->schema : NULL, t->name, &sql, err);
    if (st == RD_OK)
        st = rd_db_scalar(db, sql.data, META_TIMEOUT, &v, NULL, err);
    if (st == RD_OK && v)
        st = rd_capture_parse_time(v, &m->heartbeat_ms, err);
    if (st != RD_OK)
        rd_error_prefix(err, "reading heartbeat table %s: ", table);
    free(v);
    rd_strbuf_free(&sql);
    return st;
}

static rd_status read_freshness(rd_db *db, rd_manifest *m, const char *query, rd_error *err)
{
    char *v = NULL;
    rd_status st = RD_OK;
    m->freshness_query = rd_strdup(query);
    if (!m->freshness_query)
        return nomem(err);
    st = rd_db_scalar(db, query, META_TIMEOUT, &v, NULL, err);
    if (st != RD_OK) {
        rd_error_prefix(err, "freshness query: ");
        goto out;
    }
    if (v && rd_capture_parse_time(v, &m->freshness_ms, NULL) != RD_OK)
        st = RD_ERR(err, RD_ERR_FORMAT, "freshness query returned \"%s\", not a timestamp", v);
out:
    free(v);
    return st;
}

rd_status rd_manifest_capture(rd_db *db, const rd_manifest_opts *opts, rd_manifest **out,
                              rd_error *err)
{
    static const rd_manifest_opts none = {0};
    rd_status st = RD_OK;
    rd_engine engine = rd_db_engine(db);
    rd_manifest *m = rd_manifest_new(engine);
    if (!opts)
        opts = &none;
    if (!m)
        return nomem(err);
    m->tool = rd_strdup("restoredrill " RD_VERSION);
    m->captured_at_ms = rd_wall_now_ms();
    if (!m->tool) {
        st = nomem(err);
        goto out;
    }
    if ((st = rd_db_pin_session(db, err)) != RD_OK ||
        (st = rd_db_server_version(db, &m->server_version, err)) != RD_OK ||
        (st = rd_db_current_database(db, &m->database, err)) != RD_OK)
        goto out;
    if (engine == RD_ENGINE_PG)
        st = rd_capture_pg(db, m, err);
    else
        st = rd_capture_mariadb(db, m, err);
    if (st != RD_OK)
        goto out;
    sort_all(m);
    if (!opts->skip_rows && (st = rd_manifest_count_rows(db, m, err)) != RD_OK)
        goto out;
    if (opts->with_checksums && (st = rd_manifest_capture_checksums(db, m, err)) != RD_OK)
        goto out;
    st = read_heartbeat(
        db, m, opts->heartbeat_table ? opts->heartbeat_table : DEFAULT_HEARTBEAT_TABLE, err);
    if (st == RD_OK && opts->freshness_query)
        st = read_freshness(db, m, opts->freshness_query, err);
out:
    if (st == RD_OK)
        *out = m;
    else
        rd_manifest_free(m);
    return st;
}

/* --- cluster manifests (several databases of one server, one snapshot) --- */

static int glob_any(const char *const *globs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (fnmatch(globs[i], name, 0) == 0)
            return 1;
    return 0;
}

static int is_system_db(rd_engine engine, const char *name)
{
    static const char *const my[] = {"mysql", "information_schema", "performance_schema", "sys",
                                     NULL};
    static const char *const pg[] = {"postgres", "template0", "template1", NULL};
    const char *const *sys = engine == RD_ENGINE_PG ? pg : my;
    for (size_t i = 0; sys[i]; i++)
        if (strcmp(name, sys[i]) == 0)
            return 1;
    return 0;
}

rd_status rd_manifest_list_databases(rd_db *db, const char *const *globs, size_t nglobs,
                                     rd_strlist *out, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_engine engine = rd_db_engine(db);
    /* name order: bytewise, on both engines; PostgreSQL lists the databases
     * pg_dump can connect to */
    rd_status st = rd_db_query(
        db,
        engine == RD_ENGINE_PG ? "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn "
                                 "ORDER BY datname COLLATE \"C\""
                               : "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA ORDER BY "
                                 "BINARY SCHEMA_NAME",
        600, 0, &r, err);
    for (size_t i = 0; st == RD_OK && i < r->nrows; i++) {
        const char *name = rd_db_cell(r, i, 0);
        if (name && !is_system_db(engine, name) && glob_any(globs, nglobs, name))
            st = rd_strlist_push(out, name, err);
    }
    for (size_t g = 0; st == RD_OK && g < nglobs; g++) {
        size_t hits = 0;
        for (size_t i = 0; i < r->nrows; i++) {
            const char *name = rd_db_cell(r, i, 0);
            hits += name && !is_system_db(engine, name) && fnmatch(globs[g], name, 0) == 0;
        }
        if (!hits)
            st = RD_ERR(err, RD_ERR_USAGE, "--databases: \"%s\" matches no database", globs[g]);
    }
    rd_db_result_free(r);
    return st;
}

rd_status rd_manifest_cluster_new(rd_db *db, size_t n, rd_manifest **out, rd_error *err)
{
    rd_manifest *m = rd_manifest_new(rd_db_engine(db));
    rd_status st = m ? RD_OK : nomem(err);
    if (st == RD_OK) {
        m->tool = rd_strdup("restoredrill " RD_VERSION);
        m->captured_at_ms = rd_wall_now_ms();
        m->databases = calloc(n ? n : 1, sizeof *m->databases);
        if (!m->tool || !m->databases)
            st = nomem(err);
    }
    if (st == RD_OK)
        st = rd_db_server_version(db, &m->server_version, err);
    if (st != RD_OK) {
        rd_manifest_free(m);
        return st;
    }
    *out = m;
    return RD_OK;
}

rd_status rd_manifest_capture_pg_databases(const char *dsn, const rd_manifest_opts *opts,
                                           const char *const *globs, size_t nglobs,
                                           rd_manifest **out, rd_error *err)
{
    rd_strlist names = {0};
    rd_manifest *m = NULL;
    rd_db *main = NULL;
    rd_status st = rd_db_connect(RD_ENGINE_PG, dsn, NULL, &main, err);
    if (st == RD_OK)
        st = rd_manifest_list_databases(main, globs, nglobs, &names, err);
    if (st == RD_OK)
        st = rd_manifest_cluster_new(main, names.n, &m, err);
    for (size_t i = 0; st == RD_OK && i < names.n; i++) {
        char *one = NULL;
        rd_db *db = NULL;
        /* its own connection and snapshot: PostgreSQL has none across databases */
        st = rd_db_dsn_with_database(RD_ENGINE_PG, dsn, names.items[i], &one, err);
        if (st == RD_OK)
            st = rd_db_connect(RD_ENGINE_PG, one, NULL, &db, err);
        if (st == RD_OK)
            st = rd_db_begin_readonly(db, err);
        if (st == RD_OK)
            st = rd_manifest_capture(db, opts, &m->databases[m->ndatabases], err);
        if (st == RD_OK)
            m->ndatabases++;
        if (st == RD_OK)
            st = rd_db_commit(db, err);
        if (st != RD_OK)
            rd_error_prefix(err, "database %s: ", names.items[i]);
        rd_db_free(db);
        if (one)
            memset(one, 0, strlen(one));
        free(one);
    }
    rd_db_free(main);
    rd_strlist_free(&names);
    if (st != RD_OK) {
        rd_manifest_free(m);
        return st;
    }
    *out = m;
    return RD_OK;
}

rd_status rd_manifest_capture_databases(rd_db *db, const rd_manifest_opts *opts,
                                        const char *const *globs, size_t nglobs, rd_manifest **out,
                                        rd_error *err)
{
    rd_strlist names = {0};
    rd_strbuf sql;
    rd_manifest *m = NULL;
    rd_strbuf_init(&sql, 0);
    if (rd_db_engine(db) != RD_ENGINE_MARIADB)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "several databases on one connection: mariadb only (postgres: "
                      "rd_manifest_capture_pg_databases)");
    rd_status st = rd_manifest_list_databases(db, globs, nglobs, &names, err);
    if (st == RD_OK)
        st = rd_manifest_cluster_new(db, names.n, &m, err);
    for (size_t i = 0; st == RD_OK && i < names.n; i++) {
        rd_strbuf_reset(&sql);
        st = rd_strbuf_append(&sql, "USE ", err);
        if (st == RD_OK)
            st = rd_db_quote_ident(db, names.items[i], &sql, err);
        if (st == RD_OK)
            st = rd_db_exec(db, sql.data, 60, NULL, err);
        if (st == RD_OK)
            st = rd_manifest_capture(db, opts, &m->databases[m->ndatabases], err);
        if (st == RD_OK)
            m->ndatabases++;
        else
            rd_error_prefix(err, "database %s: ", names.items[i]);
    }
    rd_strbuf_free(&sql);
    rd_strlist_free(&names);
    if (st != RD_OK) {
        rd_manifest_free(m);
        return st;
    }
    *out = m;
    return RD_OK;
}
