/* drill_verify.c: the verify phase: connect to the restored scratch
 * database, load the reference manifest, open the live reference read-only,
 * and run the configured checks (or the default ones) through the check
 * interface. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/tablehash.h"

#define VERIFY_CONNECT_TIMEOUT 30.0

static void verify_error(rd_drill_target *dt, const char *type, const char *object, const char *msg)
{
    rd_check_result *c = rd_target_add_check(dt->res, type, type, object, RD_ERROR, "");
    if (c)
        rd_check_set_message(c, "%s", msg);
    rd_log_error("%s: %s: %s", dt->t->name, type, msg);
}

#define DRILL_MANIFEST_MAX ((size_t)512 * 1024 * 1024) /* as rd_manifest_load */

/* A manifest in S3 (a sidecar object, or reference.manifest as s3://),
 * with the catalog's s3 options. A missing object is an error only when the
 * configuration asked for it. 0 on error. */
static int load_s3_manifest(rd_drill_target *dt, const char *url, int required, rd_manifest **m)
{
    const rd_catalog_cfg *c = &dt->t->catalog;
    rd_s3_opts o = {.endpoint = c->endpoint, .region = c->region, .path_style = c->path_style};
    rd_s3 *s3 = NULL;
    char *bucket = NULL, *key = NULL, *text = NULL;
    size_t len = 0;
    rd_error err;
    int ok = 1;
    rd_error_clear(&err);
    rd_status st = rd_s3_url_split(url, &bucket, &key, &err);
    if (st == RD_OK)
        st = rd_s3_new(&o, &s3, &err);
    if (st == RD_OK)
        st = rd_s3_get_mem(s3, bucket, key, DRILL_MANIFEST_MAX, &text, &len, &err);
    if (st == RD_OK)
        st = rd_manifest_parse(text, len, url, m, &err);
    if (st == RD_ERR_NOTFOUND && !required) {
        st = RD_OK;
    } else if (st != RD_OK) {
        char msg[RD_ERROR_MSG_MAX];
        if (st == RD_ERR_NOTFOUND)
            snprintf(msg, sizeof(msg), "manifest %s does not exist", url);
        else
            snprintf(msg, sizeof(msg), "%s", err.msg);
        verify_error(dt, "manifest", url, msg);
        ok = 0;
    } else {
        rd_log_info("%s: reference manifest %s", dt->t->name, url);
    }
    rd_s3_free(s3);
    free(bucket);
    free(key);
    free(text);
    return ok;
}

/* The manifest: reference.manifest "sidecar" or a path; without one, the
 * sidecar the catalog found. A configured manifest that cannot be loaded is
 * an error result; *m stays NULL when there is none. 0 on error. */
int rd_drill_load_manifest(rd_drill_target *dt, rd_manifest **m)
{
    const char *conf = dt->t->reference.manifest;
    char *path = NULL;
    rd_error err;
    int ok = 1;
    rd_error_clear(&err);
    if (conf && strcmp(conf, "sidecar") == 0)
        path = rd_manifest_sidecar_path(dt->point->location);
    else if (conf)
        path = rd_strdup(conf);
    else if (dt->point->manifest)
        path = rd_strdup(dt->point->manifest);
    if (!path)
        return 1;
    if (rd_s3_is_url(path)) {
        ok = load_s3_manifest(dt, path, conf != NULL, m);
        free(path);
        return ok;
    }
    if (!rd_fs_exists(path)) {
        if (conf) {
            char msg[RD_ERROR_MSG_MAX];
            snprintf(msg, sizeof(msg), "manifest %s does not exist", path);
            verify_error(dt, "manifest", path, msg);
            ok = 0;
        }
    } else if (rd_manifest_load(path, m, &err) != RD_OK) {
        verify_error(dt, "manifest", path, err.msg);
        ok = 0;
    } else {
        rd_log_info("%s: reference manifest %s", dt->t->name, path);
    }
    free(path);
    return ok;
}

/* Configure a default check of type name; 0 when the type is not built in. */
int rd_drill_default_check(rd_check_cfg *cc, const char *name, rd_engine engine, size_t i,
                           rd_error *err)
{
    memset(cc, 0, sizeof(*cc));
    cc->ct = rd_check_find(name);
    if (!cc->ct || !(cc->ct->engines & (unsigned)engine))
        return 0;
    cJSON *params = cJSON_CreateObject();
    if (!params || !cJSON_AddStringToObject(params, "type", name)) {
        cJSON_Delete(params);
        return 0;
    }
    cc->type = (char *)cc->ct->name;
    cc->path = rd_asprintf("default_checks[%zu]", i);
    cc->timeout = RD_CHECK_TIMEOUT_DEFAULT;
    cc->params = params;
    if (cc->ct->configure(params, cc->path, engine, &cc->state, err) != RD_OK) {
        rd_log_warn("default check %s: %s", name, err->msg);
        return 0;
    }
    return 1;
}

void rd_drill_default_free(rd_check_cfg *cc)
{
    if (cc->ct && cc->ct->free && cc->state)
        cc->ct->free(cc->state);
    cJSON_Delete((cJSON *)cc->params);
    free(cc->path);
    memset(cc, 0, sizeof(*cc));
}

static void run_check(rd_check_ctx *ctx, const rd_check_cfg *cc, double deadline)
{
    double d = rd_mono_now() + (cc->timeout > 0 ? cc->timeout : RD_CHECK_TIMEOUT_DEFAULT);
    ctx->check = cc;
    ctx->deadline = deadline > 0 && deadline < d ? deadline : d;
    rd_log_info("%s: check %s", ctx->target->name, cc->name ? cc->name : cc->type);
    rd_check_run_one(ctx);
}

/* Connections the verify phase of dt works on at once: verify_parallel,
 * else the cores shared among the targets running at once. */
static int verify_workers(const rd_drill_target *dt)
{
    if (dt->t->verify_parallel > 0)
        return dt->t->verify_parallel;
    int n = rd_th_default_parallel() / (dt->at_once > 1 ? dt->at_once : 1);
    return n < 1 ? 1 : n;
}

/* A pool of verify_workers(dt) - 1 worker connections to conn (the caller's
 * own connection is the first), or NULL for one at a time. */
static rd_check_pool *verify_pool(const rd_drill_target *dt, const rd_conninfo *conn)
{
    rd_check_pool *p = NULL;
    rd_error err;
    rd_error_clear(&err);
    int n = verify_workers(dt);
    if (n > 1 && rd_check_pool_new(conn, n - 1, &p, &err) != RD_OK)
        rd_log_warn("%s: checks run one at a time: %s", dt->t->name, err.msg);
    if (p)
        rd_log_info("%s: verify on %d connections", dt->t->name, 1 + rd_check_pool_connections(p));
    return p;
}

/* Checks run side by side as work units (rd_check_units). */
typedef struct check_batch {
    const rd_check_cfg *cc[64];
    size_t n;
    double deadline;
} check_batch;

static void check_unit(rd_check_ctx *ctx, size_t i, void *ud)
{
    const check_batch *b = ud;
    run_check(ctx, b->cc[i], b->deadline);
}

/* 1 when cc may run beside other checks: a concurrent check, with worker
 * connections and no live reference (one connection, which checks use from
 * one thread). */
static int shares(const rd_check_ctx *ctx, const rd_check_cfg *cc)
{
    return ctx->pool && !ctx->reference && cc->ct && cc->ct->concurrent;
}

/* 1 when the batch has room for cc: not full, and no check of its type
 * (two checks of one type may share objects, like integrity's amcheck
 * schema). */
static int room_for(const check_batch *b, const rd_check_cfg *cc)
{
    if (b->n == sizeof b->cc / sizeof b->cc[0])
        return 0;
    for (size_t i = 0; i < b->n; i++)
        if (b->cc[i]->ct == cc->ct)
            return 0;
    return 1;
}

static void run_batch(rd_drill_target *dt, rd_check_ctx *ctx, check_batch *b)
{
    rd_error err;
    rd_error_clear(&err);
    if (b->n == 1)
        run_check(ctx, b->cc[0], b->deadline); /* its own units use the pool */
    else if (b->n > 1 && rd_check_units(ctx, b->n, check_unit, b, &err) != RD_OK)
        verify_error(dt, "verify", "checks", err.msg);
    b->n = 0;
}

/* The checks of one database (the target's own, or one of a multi-database
 * target's): configured ones, else the defaults in defs. Consecutive
 * concurrent checks run side by side (DESIGN section 10), the others alone;
 * the results keep configuration order. Returns how many checks ran. */
static size_t run_checks(rd_drill_target *dt, rd_check_ctx *ctx, const rd_check_cfg *defs,
                         size_t ndefs, double deadline)
{
    const rd_target_cfg *t = dt->t;
    const rd_check_cfg *list = t->checks_given ? t->checks : defs;
    size_t n = t->checks_given ? t->nchecks : ndefs, ran = 0;
    check_batch b;
    b.n = 0;
    b.deadline = deadline;
    for (size_t i = 0; i < n && !rd_abort_requested(); i++, ran++) {
        const rd_check_cfg *cc = &list[i];
        if (t->checks_given && dt->physical && cc->ct && cc->ct->run_offline)
            continue; /* offline ones ran after recovery */
        int share = shares(ctx, cc);
        if (!share || !room_for(&b, cc))
            run_batch(dt, ctx, &b); /* the checks before it first */
        b.cc[b.n++] = cc;
        if (!share)
            run_batch(dt, ctx, &b); /* alone */
    }
    if (!rd_abort_requested())
        run_batch(dt, ctx, &b);
    if (ctx->newest_data_ms && (!dt->newest_data_ms || ctx->newest_data_ms < dt->newest_data_ms)) {
        /* several databases: the RPO rests on the one that lags most */
        dt->newest_data_ms = ctx->newest_data_ms;
        dt->newest_data_basis = ctx->newest_data_basis;
    }
    return ran;
}

rd_status rd_drill_reference_for(rd_drill_target *dt, const char *name, rd_db **out, char **dsn,
                                 rd_error *err)
{
    rd_db_opts o = {.password_env = dt->t->reference.password_env, .app_name = "restoredrill"};
    rd_db *db = NULL;
    char *d = NULL;
    rd_status st = rd_db_dsn_with_database(dt->t->engine, dt->t->reference.dsn, name, &d, err);
    if (st == RD_OK)
        st = rd_db_connect(dt->t->engine, d, &o, &db, err);
    if (st == RD_OK)
        st = rd_db_begin_readonly(db, err);
    if (st != RD_OK) {
        rd_drill_reference_close(db, d);
        return st;
    }
    *out = db;
    *dsn = d;
    return RD_OK;
}

void rd_drill_reference_close(rd_db *ref, char *dsn)
{
    rd_error err;
    if (ref)
        (void)rd_db_commit(ref, &err);
    rd_db_free(ref);
    if (dsn)
        memset(dsn, 0, strlen(dsn));
    free(dsn);
}

rd_status rd_drill_database_vars(const rd_scratch *view, const char *const *tvars, rd_strlist *out,
                                 rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; st == RD_OK && tvars && tvars[i]; i++)
        if (strncmp(tvars[i], "scratch.", 8) != 0)
            st = rd_strlist_push(out, tvars[i], err);
    if (st == RD_OK)
        st = rd_scratch_vars(view, out, err);
    return st;
}

/* Multi-database targets: connect to each drilled database and run the
 * checks there (with reference.dsn, against the reference's database of
 * the same name); each result's object names its database. */
static size_t verify_databases(rd_drill_target *dt, rd_check_ctx *base, const rd_check_cfg *defs,
                               size_t ndefs, double deadline, const char *const *tvars)
{
    size_t ran = 0;
    for (size_t d = 0; d < dt->dbs.n && !rd_abort_requested(); d++) {
        const char *name = dt->dbs.items[d];
        rd_scratch *view = NULL;
        rd_manifest *file_manifest = NULL;
        rd_db *db = NULL;
        rd_strlist vars = {0};
        const char **dvars = NULL;
        rd_db *ref = NULL;
        char *ref_dsn = NULL;
        rd_error err;
        rd_error_clear(&err);
        /* on a shared server the database was restored under its scratch name */
        rd_status st =
            rd_scratch_view(dt->scratch, rd_scratch_db_name(dt->scratch, name), &view, &err);
        if (st == RD_OK && dt->t->reference.dsn &&
            (st = rd_drill_reference_for(dt, name, &ref, &ref_dsn, &err)) != RD_OK)
            rd_error_prefix(&err, "reference.dsn for database %s: ", name);
        if (st == RD_OK)
            st = rd_drill_database_vars(view, tvars, &vars, &err);
        if (st == RD_OK && !(dvars = rd_strlist_argv(&vars)))
            st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK) {
            rd_db_opts o = {.password = view->conn.password,
                            .connect_timeout = VERIFY_CONNECT_TIMEOUT,
                            .app_name = "restoredrill"};
            st = rd_db_connect(dt->t->engine, view->conn.dsn, &o, &db, &err);
            if (st == RD_OK)
                st = rd_db_pin_session(db, &err);
        }
        if (st != RD_OK) {
            rd_check_result *c =
                rd_target_add_check(dt->res, "verify", "verify", name, RD_ERROR, "");
            if (c) {
                rd_check_set_message(c, "database %s: %s", name, err.msg);
                rd_check_set_database(c, name);
            }
            rd_log_error("%s: database %s: %s", dt->t->name, name, err.msg);
        } else {
            rd_check_ctx ctx = *base;
            ctx.scratch = db;
            ctx.database = name;
            ctx.manifest = rd_manifest_find_database(dt->cluster, name);
            const char *own = rd_drill_file_manifest(dt, name);
            if (!ctx.manifest && own && rd_manifest_load(own, &file_manifest, &err) != RD_OK) {
                rd_check_result *c =
                    rd_target_add_check(dt->res, "manifest", "manifest", name, RD_ERROR, "");
                if (c) {
                    rd_check_set_message(c, "%s", err.msg);
                    rd_check_set_database(c, name);
                }
            }
            if (file_manifest)
                ctx.manifest = file_manifest;
            if (ref) { /* the reference's database of the same name */
                ctx.reference = ref;
                ctx.reference_dsn = ref_dsn;
            }
            ctx.instance = view;
            ctx.tvars = dvars;
            ctx.newest_data_ms = 0;
            ctx.newest_data_basis = NULL;
            rd_log_info("%s: checks in database %s (%zu of %zu)", dt->t->name, name, d + 1,
                        dt->dbs.n);
            ctx.pool = verify_pool(dt, &view->conn);
            ran += run_checks(dt, &ctx, defs, ndefs, deadline);
            rd_check_pool_free(ctx.pool);
        }
        rd_db_free(db);
        rd_drill_reference_close(ref, ref_dsn);
        rd_manifest_free(file_manifest);
        free(dvars);
        rd_strlist_free(&vars);
        rd_scratch_view_free(view);
    }
    return ran;
}

int rd_drill_verify(rd_drill_target *dt, double deadline, const char *const *tvars)
{
    const rd_target_cfg *t = dt->t;
    rd_db *db = NULL;
    rd_manifest *m = NULL;
    rd_error err;
    size_t before = dt->res->nchecks, ran = 0;
    int ok = 0;
    int multi = t->databases.n > 0;
    rd_check_cfg defs[3];
    size_t ndefs = 0;
    rd_error_clear(&err);
    memset(defs, 0, sizeof(defs));

    int dyn = t->engine == RD_ENGINE_DYNAMODB || /* no SQL connection, no manifest: the */
              t->engine == RD_ENGINE_S3;         /* verified point (or listing) is the reference */
    if (!multi && !dyn) {
        rd_db_opts o = {.password = dt->scratch->conn.password,
                        .connect_timeout = VERIFY_CONNECT_TIMEOUT,
                        .app_name = "restoredrill"};
        if (rd_db_connect(t->engine, dt->scratch->conn.dsn, &o, &db, &err) != RD_OK ||
            rd_db_pin_session(db, &err) != RD_OK) {
            verify_error(dt, "verify", "scratch", err.msg);
            goto out;
        }
        if (!rd_drill_load_manifest(dt, &m))
            goto out;
    }
    if (dt->reference && rd_db_begin_readonly(dt->reference, &err) != RD_OK) {
        verify_error(dt, "verify", "reference", err.msg);
        goto out;
    }

    rd_check_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.target = t;
    ctx.scratch = db;
    ctx.instance = dt->scratch;
    ctx.tvars = tvars;
    ctx.manifest = m;
    ctx.reference = dt->reference;
    ctx.point_created_ms = dt->point_created_ms;
    ctx.result = dt->res;
    ctx.dyn = dt->dyn;
    ctx.s3 = dt->s3;

    if (t->checks_given && t->nchecks == 0) {
        free(dt->res->notes);
        dt->res->notes = rd_strdup("the target lists no checks (\"checks\": []): restore only");
    } else if (!t->checks_given) {
        static const char *const with_ref[] = {"rowcount", "integrity", "schema", NULL};
        static const char *const alone[] = {"integrity", NULL};
        static const char *const dynamodb[] = {"rowcount", "checksum", NULL};
        int have_ref = dyn || m || dt->reference || (multi && dt->cluster) ||
                       (multi && dt->dbs.n && rd_drill_file_manifest(dt, dt->dbs.items[0]));
        const char *const *names = dyn ? dynamodb : have_ref ? with_ref : alone;
        rd_strbuf note;
        rd_strbuf_init(&note, 4096);
        (void)rd_strbuf_append(&note, "default checks:", NULL);
        for (size_t i = 0; names[i]; i++) {
            if (rd_drill_default_check(&defs[ndefs], names[i], t->engine, ndefs, &err)) {
                (void)rd_strbuf_appendf(&note, NULL, "%s %s", ndefs ? "," : "", names[i]);
                ndefs++;
            }
        }
        (void)rd_strbuf_append(&note,
                               have_ref ? " (the target lists no checks)"
                                        : " (the target lists no checks and there is no manifest)",
                               NULL);
        free(dt->res->notes);
        dt->res->notes = rd_strbuf_detach(&note);
    }
    if (!(t->checks_given && t->nchecks == 0)) {
        if (!multi && !dyn)
            ctx.pool = verify_pool(dt, &dt->scratch->conn);
        ran = multi ? verify_databases(dt, &ctx, defs, ndefs, deadline, tvars)
                    : run_checks(dt, &ctx, defs, ndefs, deadline);
        rd_check_pool_free(ctx.pool);
    }
    if (dt->reference)
        (void)rd_db_commit(dt->reference, &err);

    if (t->checks_given && t->nchecks == 0) {
        ok = !rd_abort_requested();
        goto out;
    }
    ok = ran > 0 && dt->res->nchecks > before && !rd_abort_requested();
    for (size_t i = before; i < dt->res->nchecks; i++)
        if (dt->res->checks[i].status != RD_PASSED && dt->res->checks[i].status != RD_SKIPPED)
            ok = 0;
    if (ran == 0 && !rd_abort_requested())
        verify_error(dt, "verify", "checks", "no check could run");
out:
    for (size_t i = 0; i < ndefs; i++)
        rd_drill_default_free(&defs[i]);
    rd_manifest_free(m);
    rd_db_free(db);
    return ok;
}
