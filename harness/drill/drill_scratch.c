/* drill_scratch.c: a target's scratch: provisioned (with the dump's
 * database name and the point's variables) before the restore, torn down
 * at the end unless it is kept (--keep-scratch, keep_scratch). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "drill_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore.h"
#include "restoredrill/sha256.h"

static int wants_tcp(const rd_target_cfg *t)
{
    if (t->scratch.tcp)
        return 1;
    for (size_t i = 0; i < t->nchecks; i++)
        if (t->checks[i].type && strcmp(t->checks[i].type, "smoke") == 0)
            return 1;
    return 0;
}

/* The database a PostgreSQL archive was dumped from, to restore it under the
 * same name (a plain SQL dump names none: NULL, the target's name is used). */
static char *dump_dbname(const rd_drill_target *dt, const rd_artifact *a)
{
    size_t n = 0;
    char *name = NULL;
    rd_error err;
    const void *head = a ? rd_artifact_head(a, &n) : NULL;
    if (!head || dt->t->engine != RD_ENGINE_PG || rd_artifact_format(a) != RD_FMT_PG_CUSTOM)
        return NULL;
    rd_error_clear(&err);
    if (rd_pg_archive_dbname(head, n, &name, &err) != RD_OK)
        rd_log_debug("%s: the dump's database name: %s", dt->t->name, err.msg);
    return name;
}

int rd_drill_phase_provision(rd_drill_target *dt, const char *const *tvars, const rd_artifact *a)
{
    const rd_target_cfg *t = dt->t;
    char *identity = NULL;
    rd_error err;
    rd_status st = RD_OK;
    double start = rd_mono_now();
    rd_error_clear(&err);
    if (t->reference.dsn) {
        rd_db_opts o = {.password_env = t->reference.password_env, .app_name = "restoredrill"};
        st = rd_db_connect(t->engine, t->reference.dsn, &o, &dt->reference, &err);
        if (st == RD_OK)
            st = rd_db_server_identity(dt->reference, &identity, &err);
        if (st != RD_OK && st != RD_ERR_ABORTED && !rd_abort_requested()) {
            /* the reference, not the restore, failed: say so, and that nothing
             * was restored (the message names host and port, never a secret) */
            rd_error_prefix(&err, "reference.dsn: ");
            rd_measure_phase(dt->res, "provision", start, RD_ERROR);
            rd_drill_phase_fail(dt, "reference", "reference.dsn", "provision", RD_ERROR, err.msg);
            rd_log_error("%s: nothing was restored: the reference database is needed first",
                         t->name);
            free(identity);
            return 0;
        }
        if (st != RD_OK)
            rd_error_prefix(&err, "reference.dsn: ");
    }
    if (st == RD_OK) {
        char *dbname = dump_dbname(dt, a);
        rd_scratch_req req = {.drill_id = dt->drill_id,
                              .target = t->name,
                              .database = dbname,
                              .want_tcp = wants_tcp(t),
                              .reference_identity = identity,
                              .tvars = tvars,
                              .deadline = rd_drill_deadline_in(t->timeout_provision),
                              .physical = dt->physical,
                              .databases = t->databases.n ? &dt->dbs : NULL};
        st = rd_scratch_provision(&t->scratch, t->engine, &req, &dt->scratch, &err);
        free(dbname);
    }
    if (st == RD_OK)
        rd_drill_record_isolation(dt, identity != NULL);
    free(identity);
    if (st == RD_ERR_ABORTED || rd_abort_requested())
        dt->aborted = 1;
    rd_drill_phase_end(dt, "provision", start, st == RD_OK, RD_ERROR);
    if (st != RD_OK) {
        rd_drill_target_fail(dt, "provision", RD_ERROR, err.msg);
        return 0;
    }
    rd_log_info("%s: scratch instance ready (%s%s%s)", t->name,
                dt->scratch->type ? dt->scratch->type->name : "scratch",
                dt->scratch->server_version ? " " : "",
                dt->scratch->server_version ? dt->scratch->server_version : "");
    return 1;
}

void rd_drill_phase_teardown(rd_drill_target *dt)
{
    rd_error err;
    double start = rd_mono_now();
    rd_error_clear(&err);
    if (!dt->scratch) {
        rd_measure_skip(dt->res, "teardown");
        return;
    }
    const char *ks = dt->t->keep_scratch ? dt->t->keep_scratch : "never";
    int failed = !dt->restore_ok || !dt->verify_ok;
    int by_config = strcmp(ks, "always") == 0 || (failed && strcmp(ks, "on-failure") == 0);
    if ((dt->opts->keep_scratch || by_config) && !dt->aborted) {
        rd_drill_keep(dt, by_config);
        dt->scratch = NULL; /* stays registered and alive on purpose: never torn down */
        rd_measure_skip(dt->res, "teardown");
        return;
    }
    if (dt->aborted) {
        /* the orchestrator stops children and tears every instance down */
        rd_measure_skip(dt->res, "teardown");
        return;
    }
    rd_status st = rd_scratch_teardown(dt->scratch, &err);
    rd_measure_phase(dt->res, "teardown", start, st == RD_OK ? RD_PASSED : RD_ERROR);
    if (st != RD_OK) {
        rd_check_result *c =
            rd_target_add_check(dt->res, "teardown", "teardown", "scratch", RD_ERROR, "");
        if (c)
            rd_check_set_message(c, "teardown failed: %s", err.msg);
        rd_log_error("%s: teardown failed: %s", dt->t->name, err.msg);
    }
    rd_scratch_free(dt->scratch);
    dt->scratch = NULL;
}
