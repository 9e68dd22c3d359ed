/* negative.c: the negative control (DESIGN section 12). After the checks
 * passed, plant known faults into the scratch database, each in its own
 * seeded random table, re-run the checks that should catch them, and record
 * one negative_control result per fault: passed when one of those checks
 * now fails on the object of the fault (naming it), failed when none does.
 *
 *   deleted row      one row of table A        rowcount, checksum, diff on A
 *   changed value    one column of one row, B  checksum, diff on B
 *   dropped index    a non-constraint index    schema ("indexes")
 *   orphaned row     a child row of foreign    integrity on C.<constraint>
 *                    key C -> P points nowhere
 *
 * A, B and C are distinct, and A is not the parent P (a deleted parent row
 * would orphan rows too), so each fault is credited only to its own check.
 * Foreign key enforcement and triggers are off in the planting session
 * (PostgreSQL session_replication_role = replica, MariaDB
 * FOREIGN_KEY_CHECKS = 0). A fault that finds nothing to plant (no foreign
 * key, no droppable index) is skipped with the reason. For a PITR target a
 * fifth fault, a second recovery to an earlier time, is negative_pitr.c's.
 * A target with "databases" plants the faults in one of its drilled
 * databases, drawn from the seed, and re-runs that database's checks (its
 * manifest section, its namesake on the reference); every result then
 * names the database ("tenant_7.deleted row", "database": "tenant_7").
 * The phase is timed as "negative_control" and is not part of the RTO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negative_int.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define NC_SEED_SALT 0x6e65675f63746c31ULL /* "neg_ctl1" */
#define NC_DB_SALT 0x6e65675f64627331ULL   /* "neg_dbs1": the database, apart from the tables */

static const char *const fault_names[F_COUNT] = {"deleted row", "changed value", "dropped index",
                                                 "orphaned row"};
/* the check types that should catch each fault, NULL-terminated */
static const char *const catchers[F_COUNT][4] = {{"rowcount", "checksum", "diff", NULL},
                                                 {"checksum", "diff", NULL, NULL},
                                                 {"schema", NULL, NULL, NULL},
                                                 {"integrity", NULL, NULL, NULL}};

static int catches(fault_kind k, const char *type)
{
    for (size_t i = 0; catchers[k][i]; i++)
        if (strcmp(catchers[k][i], type) == 0)
            return 1;
    return 0;
}

/* 1 when a check of this type should catch a planted fault. */
static int wanted(const nc *c, const char *type)
{
    for (int k = 0; k < F_COUNT; k++)
        if (c->f[k].planted == 1 && catches((fault_kind)k, type))
            return 1;
    return 0;
}

/* A negative_control result about obj; with databases, its object is
 * "DATABASE.obj" and it carries the database. */
static rd_check_result *add_result(const nc *c, const char *obj, rd_verdict v)
{
    char *q = c->database ? rd_asprintf("%s.%s", c->database, obj) : NULL;
    rd_check_result *r =
        rd_target_add_check(c->dt->res, "negative_control", "negative_control", q ? q : obj, v, "");
    if (r && c->database)
        rd_check_set_database(r, c->database);
    free(q);
    return r;
}

/* Multi-database targets: the manifest, reference and template variables
 * of c->database, as its checks had them in verify (its cluster manifest
 * section, else its own file's manifest; reference.dsn's namesake; its
 * scratch.* variables). 0 on error, recorded as an error result "rerun". */
static int database_refs(nc *c, const char *const *tvars, const rd_manifest **m,
                         rd_manifest **owned, rd_db **ref, char **ref_dsn, rd_strlist *vars)
{
    rd_drill_target *dt = c->dt;
    rd_error err;
    rd_error_clear(&err);
    const char *own = rd_drill_file_manifest(dt, c->database);
    rd_status st = RD_OK;
    if (!(*m = rd_manifest_find_database(dt->cluster, c->database)) && own &&
        (st = rd_manifest_load(own, owned, &err)) == RD_OK)
        *m = *owned;
    if (st == RD_OK && dt->t->reference.dsn &&
        (st = rd_drill_reference_for(dt, c->database, ref, ref_dsn, &err)) != RD_OK)
        rd_error_prefix(&err, "reference.dsn for database %s: ", c->database);
    if (st == RD_OK)
        st = rd_drill_database_vars(c->view, tvars, vars, &err);
    if (st == RD_OK)
        return 1;
    rd_check_result *r = add_result(c, "rerun", RD_ERROR);
    if (r)
        rd_check_set_message(r, "the checks cannot be re-run: %s", err.msg);
    rd_log_error("%s: negative control: %s", dt->t->name, err.msg);
    return 0;
}

/* Re-run the configured checks (or the default ones) that should catch a
 * planted fault, into tr. *ran gets the names of the checks run. */
static void rerun(nc *c, rd_target_result *tr, double deadline, const char *const *tvars,
                  rd_strbuf *ran)
{
    rd_drill_target *dt = c->dt;
    const rd_target_cfg *t = dt->t;
    rd_manifest *m = NULL;
    const rd_manifest *dm = NULL;
    rd_db *ref = NULL;
    char *ref_dsn = NULL;
    rd_strlist vars = {0};
    const char **dvars = NULL;
    rd_check_cfg defs[3];
    size_t ndefs = 0;
    rd_error err;
    memset(defs, 0, sizeof defs);
    if (c->database) {
        if (!database_refs(c, tvars, &dm, &m, &ref, &ref_dsn, &vars))
            goto out;
        if (!(dvars = rd_strlist_argv(&vars))) {
            rd_log_error("%s: negative control: out of memory", t->name);
            goto out;
        }
    } else {
        if (!rd_drill_load_manifest(dt, &m))
            return;
        dm = m;
        if (dt->reference && rd_db_begin_readonly(dt->reference, &err) != RD_OK)
            goto out;
    }
    rd_check_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.target = t;
    ctx.scratch = c->db;
    ctx.database = c->database;
    ctx.instance = c->view ? c->view : dt->scratch;
    ctx.tvars = dvars ? (const char *const *)dvars : tvars;
    ctx.manifest = dm;
    ctx.reference = c->database ? ref : dt->reference;
    ctx.reference_dsn = ref_dsn;
    ctx.point_created_ms = dt->point_created_ms;
    ctx.result = tr;
    const rd_check_cfg *list = t->checks;
    size_t n = t->nchecks;
    if (!t->checks_given) {
        static const char *const with_ref[] = {"rowcount", "integrity", "schema", NULL};
        static const char *const alone[] = {"integrity", NULL};
        const char *const *names = dm || ctx.reference ? with_ref : alone;
        for (size_t i = 0; names[i]; i++)
            if (rd_drill_default_check(&defs[ndefs], names[i], t->engine, ndefs, &err))
                ndefs++;
        list = defs;
        n = ndefs;
    }
    for (size_t i = 0; i < n && !rd_abort_requested(); i++) {
        if (!list[i].ct || !wanted(c, list[i].type))
            continue;
        double d =
            rd_mono_now() + (list[i].timeout > 0 ? list[i].timeout : RD_CHECK_TIMEOUT_DEFAULT);
        ctx.check = &list[i];
        ctx.deadline = deadline > 0 && deadline < d ? deadline : d;
        rd_check_run_one(&ctx);
        (void)rd_strbuf_appendf(ran, NULL, "%s%s", ran->len ? ", " : "",
                                list[i].name ? list[i].name : list[i].type);
    }
    if (dt->reference && !c->database)
        (void)rd_db_commit(dt->reference, &err);
out:
    for (size_t i = 0; i < ndefs; i++)
        rd_drill_default_free(&defs[i]);
    rd_drill_reference_close(ref, ref_dsn);
    free(dvars);
    rd_strlist_free(&vars);
    rd_manifest_free(m);
}

static void verdicts(nc *c, const rd_target_result *tr, const char *ran)
{
    for (int k = 0; k < F_COUNT; k++) {
        fault *f = &c->f[k];
        rd_check_result *r;
        if (f->planted != 1) {
            r = add_result(c, fault_names[k], f->planted == 0 ? RD_SKIPPED : RD_ERROR);
            if (r)
                rd_check_set_message(r, "%s not planted: %s", fault_names[k],
                                     f->why_not ? f->why_not : "unknown reason");
            continue;
        }
        rd_strbuf by;
        rd_strbuf_init(&by, 8192);
        const rd_check_result *first = NULL;
        for (size_t i = 0; i < tr->nchecks; i++) {
            const rd_check_result *x = &tr->checks[i];
            if (x->status != RD_FAILED || !catches((fault_kind)k, x->type) ||
                strcmp(x->object, f->object) != 0)
                continue;
            (void)rd_strbuf_appendf(&by, NULL, "%s%s", by.len ? ", " : "", x->check);
            if (!first)
                first = x;
        }
        r = add_result(c, fault_names[k], first ? RD_PASSED : RD_FAILED);
        if (r) {
            if (first)
                rd_check_set_message(r, "%s caught by %s: %s", f->what, by.data,
                                     first->message ? first->message : "failed");
            else
                rd_check_set_message(
                    r,
                    "%s: no check caught it (re-ran: %s; checks that can: "
                    "%s%s%s%s%s)",
                    f->what, *ran ? ran : "none", catchers[k][0], catchers[k][1] ? ", " : "",
                    catchers[k][1] ? catchers[k][1] : "", catchers[k][2] ? ", " : "",
                    catchers[k][2] ? catchers[k][2] : "");
            rd_check_set_expected(r, "a check fails on %s", f->object);
            if (first)
                rd_check_set_actual(r, "%s failed", by.data);
            else
                rd_check_set_actual(r, "no check failed on %s", f->object);
            rd_check_add_prop(r, "fault", "%s", f->what);
            rd_check_add_prop(r, "rerun", "%s", *ran ? ran : "none");
        }
        rd_strbuf_free(&by);
    }
}

void rd_drill_negative_control(rd_drill_target *dt, double deadline, const char *const *tvars)
{
    nc c;
    rd_db_tables tabs = {NULL, 0};
    rd_report *tmp = NULL;
    char *parent = NULL;
    rd_error err;
    rd_strbuf ran;
    double start = rd_mono_now();
    memset(&c, 0, sizeof c);
    rd_strbuf_init(&ran, 8192);
    c.dt = dt;
    c.engine = dt->t->engine;
    rd_prng_seed(&c.prng, dt->seed ^ NC_SEED_SALT);
    rd_error_clear(&err);
    if (dt->dbs.n) { /* databases: the faults go into one of them */
        rd_prng dbp;
        rd_prng_seed(&dbp, dt->seed ^ NC_DB_SALT);
        size_t i = (size_t)rd_prng_below(&dbp, (uint64_t)dt->dbs.n);
        c.database = dt->dbs.items[i];
        rd_log_info("%s: negative control: faults in database %s (drawn from the seed, %zu of "
                    "the %zu drilled)",
                    dt->t->name, c.database, i + 1, dt->dbs.n);
    }
    const rd_conninfo *ci = &dt->scratch->conn;
    rd_status st = RD_OK;
    /* on a shared server the database was restored under its scratch name:
     * the faults go there, never into the server's own database of that name */
    if (c.database &&
        (st = rd_scratch_view(dt->scratch, rd_scratch_db_name(dt->scratch, c.database), &c.view,
                              &err)) == RD_OK)
        ci = &c.view->conn;
    rd_db_opts o = {.password = ci->password,
                    .connect_timeout = 30.0,
                    .app_name = "restoredrill-negative-control"};
    if (st != RD_OK || rd_db_connect(c.engine, ci->dsn, &o, &c.db, &err) != RD_OK ||
        rd_db_pin_session(c.db, &err) != RD_OK || rd_db_list_tables(c.db, &tabs, &err) != RD_OK) {
        rd_check_result *r = add_result(&c, "scratch", RD_ERROR);
        if (r)
            rd_check_set_message(r, "negative control could not start: %s", err.msg);
        goto out;
    }
    /* foreign keys and triggers off in this session: each fault stays where it is planted */
    if (!rd_nc_exec(&c,
                    c.engine == RD_ENGINE_PG ? "SET session_replication_role = replica"
                                             : "SET FOREIGN_KEY_CHECKS = 0",
                    -1))
        rd_log_warn("%s: negative control: cannot turn foreign key checks off (not a superuser?)",
                    dt->t->name);
    rd_nc_plant_orphan(&c, &parent);
    rd_nc_plant_delete(&c, &tabs, parent);
    rd_nc_plant_change(&c, &tabs);
    rd_nc_plant_index(&c);
    for (int k = 0; c.database && k < F_COUNT; k++) { /* the objects its checks name */
        if (c.f[k].planted != 1)
            continue;
        char *q = rd_asprintf("%s.%s", c.database, c.f[k].object);
        if (q) {
            free(c.f[k].object);
            c.f[k].object = q;
        }
    }
    for (int k = 0; k < F_COUNT; k++)
        rd_log_info("%s: negative control: %s: %s", dt->t->name, fault_names[k],
                    c.f[k].planted == 1 ? c.f[k].what : c.f[k].why_not);
    if (!(tmp = rd_report_new()) || !rd_report_add_target(tmp, dt->t->name, NULL))
        goto out;
    rerun(&c, &tmp->targets[0], deadline, tvars, &ran);
    verdicts(&c, &tmp->targets[0], ran.data);
out:
    rd_drill_negative_pitr(dt, deadline); /* a time target: the early recovery */
    rd_measure_phase(dt->res, "negative_control", start, RD_PASSED);
    for (int k = 0; k < F_COUNT; k++) {
        free(c.f[k].object);
        free(c.f[k].what);
        free(c.f[k].why_not);
    }
    for (size_t i = 0; i < c.nused; i++)
        free(c.used[i]);
    free(parent);
    rd_strbuf_free(&ran);
    rd_report_free(tmp);
    rd_db_tables_free(&tabs);
    rd_db_free(c.db);
    rd_scratch_view_free(c.view);
}
