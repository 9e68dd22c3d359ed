/* drill.c: the drill engine's front: choose the targets (--target, --shard),
 * the seed, build the report, run the targets (in parallel worker threads
 * when asked; one target's failure never stops the others), and handle an
 * abort: stop children, tear every scratch instance down, mark what was
 * interrupted. */
#include "restoredrill/drill.h"

#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drill_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

typedef struct pool {
    rd_drill_target *dts;
    size_t n;
    atomic_size_t next;
    int dry_run;
} pool;

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n || rd_abort_requested())
            break;
        rd_drill_target *dt = &p->dts[i];
        dt->res->status = RD_PASSED;
        if (p->dry_run)
            rd_drill_target_plan(dt);
        else
            rd_drill_target_run(dt);
    }
    return NULL;
}

/* The targets this run covers, in config order. */
static rd_status select_targets(const rd_config *cfg, const rd_drill_opts *opts,
                                const rd_target_cfg ***out, size_t *n, rd_error *err)
{
    const rd_target_cfg **sel = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*sel));
    size_t k = 0;
    if (!sel)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; opts && opts->targets && opts->targets[i]; i++) {
        if (!rd_config_target(cfg, opts->targets[i])) {
            free(sel);
            return RD_ERR(err, RD_ERR_USAGE, "no target named \"%s\" in %s", opts->targets[i],
                          cfg->file ? cfg->file : "the configuration");
        }
    }
    if (opts && opts->shard_n > 0 && (opts->shard_k < 1 || opts->shard_k > opts->shard_n)) {
        free(sel);
        return RD_ERR(err, RD_ERR_USAGE, "--shard %d/%d: K must be between 1 and N", opts->shard_k,
                      opts->shard_n);
    }
    size_t pos = 0;
    for (size_t i = 0; i < cfg->ntargets; i++) {
        const rd_target_cfg *t = &cfg->targets[i];
        int wanted = !(opts && opts->targets);
        for (size_t j = 0; !wanted && opts->targets[j]; j++)
            wanted = strcmp(opts->targets[j], t->name) == 0;
        if (!wanted)
            continue;
        if (!opts || opts->shard_n <= 0 || (int)(pos % (size_t)opts->shard_n) == opts->shard_k - 1)
            sel[k++] = t;
        pos++;
    }
    *out = sel;
    *n = k;
    return RD_OK;
}

/* The URL of the CI job running this drill, from the variables the common
 * CI systems set (GitHub Actions, GitLab, Jenkins, CircleCI, Buildkite,
 * Azure Pipelines); NULL outside CI. */
static char *ci_job_url(void)
{
    const char *gh = getenv("GITHUB_RUN_ID");
    const char *direct[] = {"CI_JOB_URL", "BUILD_URL", "CIRCLE_BUILD_URL", "BUILDKITE_BUILD_URL"};
    if (gh && *gh && getenv("GITHUB_REPOSITORY"))
        return rd_asprintf("%s/%s/actions/runs/%s",
                           getenv("GITHUB_SERVER_URL") ? getenv("GITHUB_SERVER_URL")
                                                       : "https://github.com",
                           getenv("GITHUB_REPOSITORY"), gh);
    for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
        const char *v = getenv(direct[i]);
        if (v && *v)
            return rd_strdup(v);
    }
    const char *az = getenv("SYSTEM_COLLECTIONURI"), *azp = getenv("SYSTEM_TEAMPROJECT"),
               *azb = getenv("BUILD_BUILDID");
    if (az && azp && azb)
        return rd_asprintf("%s%s/_build/results?buildId=%s", az, azp, azb);
    return NULL;
}

static void fill_identity(rd_report *r, const rd_config *cfg, uint64_t seed)
{
    char host[256], token[9], when[RD_TIME_BUFSZ];
    r->tool_version = rd_strdup(RD_VERSION);
    r->name = rd_strdup(cfg->name ? cfg->name : "restoredrill");
    r->seed = seed;
    r->started_at_ms = rd_wall_now_ms();
    if (gethostname(host, sizeof(host)) != 0)
        snprintf(host, sizeof(host), "unknown");
    host[sizeof(host) - 1] = '\0';
    r->host = rd_strdup(host);
    struct passwd pw, *pwp = NULL;
    char buf[1024];
    if (getpwuid_r(geteuid(), &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
        r->user = rd_strdup(pw.pw_name);
    else
        r->user = rd_asprintf("uid %u", (unsigned)geteuid());
    r->config_path = rd_strdup(cfg->file);
    if (cfg->sha256[0])
        r->config_sha256 = rd_strdup(cfg->sha256);
    r->ci_job_url = ci_job_url();
    for (size_t i = 0; i < cfg->controls.n; i++)
        if (rd_strv_push(&r->controls, &r->ncontrols, cfg->controls.items[i], NULL) != RD_OK)
            rd_log_error("out of memory recording controls");
    rd_random_token(token, 8);
    /* 2026-01-30T15:00:00.000Z -> 20260130T150000Z-token */
    rd_time_format(r->started_at_ms, when, sizeof(when));
    r->drill_id = rd_asprintf("%.4s%.2s%.2sT%.2s%.2s%.2sZ-%s", when, when + 5, when + 8, when + 11,
                              when + 14, when + 17, token);
}

rd_status rd_drill_run(const rd_config *cfg, const rd_drill_opts *opts, rd_report **out,
                       rd_error *err)
{
    const rd_target_cfg **sel = NULL;
    size_t n = 0;
    rd_report *r = NULL;
    rd_drill_target *dts = NULL;
    pthread_t *th = NULL;
    rd_status st = select_targets(cfg, opts, &sel, &n, err);
    if (st != RD_OK)
        return st;
    uint64_t seed = opts && opts->has_seed ? opts->seed
                    : cfg->has_seed        ? cfg->seed
                                           : rd_prng_os_seed();
    r = rd_report_new();
    dts = calloc(n ? n : 1, sizeof(*dts));
    if (!r || !dts) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    fill_identity(r, cfg, seed);
    for (size_t i = 0; i < n; i++) {
        if (!rd_report_add_target(r, sel[i]->name, rd_engine_name(sel[i]->engine))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        rd_drill_target *dt = &dts[i];
        dt->cfg = cfg;
        dt->t = sel[i];
        dt->opts = opts;
        dt->drill_id = r->drill_id;
        dt->seed = seed;
        dt->res = &r->targets[i]; /* stable from here on: no more targets are added */
        dt->res->status = RD_SKIPPED;
        dt->res->rto.seconds = dt->res->rpo.seconds = -1;
        dt->res->rto.target_seconds = sel[i]->rto;
        dt->res->rpo.target_seconds = sel[i]->rpo;
        dt->res->data_ready_seconds = dt->res->rpo_exposure_seconds = -1;
        dt->res->newest_age_seconds = dt->res->data_lag_seconds = -1;
        const rd_strlist *ctl = sel[i]->controls.n ? &sel[i]->controls : &cfg->controls;
        for (size_t k = 0; k < ctl->n; k++)
            if (rd_strv_push(&dt->res->controls, &dt->res->ncontrols, ctl->items[k], NULL) != RD_OK)
                rd_log_error("out of memory recording controls");
    }
    if (!(opts && opts->dry_run))
        rd_log_info("drill %s: %zu target%s, seed %llu", r->drill_id, n, n == 1 ? "" : "s",
                    (unsigned long long)seed);

    int par = opts && opts->parallel > 0 ? opts->parallel : cfg->parallel > 0 ? cfg->parallel : 1;
    if ((size_t)par > n)
        par = n ? (int)n : 1;
    for (size_t i = 0; i < n; i++)
        dts[i].at_once = par;
    pool p = {.dts = dts, .n = n, .dry_run = opts && opts->dry_run};
    atomic_init(&p.next, 0);
    if (par <= 1) {
        worker(&p);
    } else {
        int started = 0;
        th = calloc((size_t)par, sizeof(*th));
        for (int i = 0; th && i < par; i++, started++)
            if (pthread_create(&th[i], NULL, worker, &p) != 0)
                break;
        if (started == 0)
            worker(&p);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }

    int aborted = rd_abort_requested();
    if (aborted) {
        rd_log_warn("interrupted by signal %d: stopping child processes and tearing scratch "
                    "instances down",
                    aborted);
        rd_proc_kill_all();
        rd_scratch_teardown_all();
    }
    for (size_t i = 0; i < n; i++) {
        rd_drill_target *dt = &dts[i];
        if (dt->scratch) {
            rd_scratch_free(dt->scratch);
            dt->scratch = NULL;
        }
        if (aborted && dt->t0 == 0) {
            dt->res->status = RD_ABORTED;
            rd_target_set_error(dt->res, "the drill was aborted before this target started");
        }
        rd_points_free(&dt->points);
        rd_points_free(&dt->files);
    }
    r->finished_at_ms = rd_wall_now_ms();
    rd_report_settle(r);
    if (aborted) {
        r->status = RD_ABORTED;
        st = RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", aborted);
    }
    *out = r;
    r = NULL;
out:
    rd_report_free(r);
    free(th);
    free(dts);
    free(sel);
    return st;
}
