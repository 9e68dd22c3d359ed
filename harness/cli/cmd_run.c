/* cmd_run.c: `restoredrill run` (the drill, its reports and exit status)
 * and `restoredrill list` (recovery points, ages, the point a run would
 * sample, RPO exposure). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/catalog.h"
#include "restoredrill/cli.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/evidence.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/report.h"

/* A non-negative decimal integer; 1 on success. */
static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (!s || !*s || *s == '-')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

static int parse_int(const char *s, int min, int max, int *out)
{
    uint64_t v;
    if (!parse_u64(s, &v) || v < (uint64_t)min || v > (uint64_t)max)
        return 0;
    *out = (int)v;
    return 1;
}

/* What run and list share: the config file, --target (repeatable), --seed. */
typedef struct sel_args {
    const char *file;
    const char **targets; /* NULL-terminated or NULL */
    size_t ntargets;
    int has_seed;
    uint64_t seed;
} sel_args;

/* Parse argv[*i] when it is --target, --seed or the CONFIG operand, and
 * refuse any other option. Returns -1 when argv[*i] is none of these (the
 * caller's own option, checked first), else RD_EXIT_OK or RD_EXIT_USAGE. */
static int sel_arg(const char *sub, int argc, char **argv, int *i, sel_args *a)
{
    const char *v;
    if (rd_cli_opt_value(argc, argv, i, "--target", &v)) {
        if (!v || !*v)
            return rd_cli_usage_error(sub, "%s needs a target name", "--target");
        a->targets[a->ntargets++] = v;
    } else if (rd_cli_opt_value(argc, argv, i, "--seed", &v)) {
        if (!parse_u64(v, &a->seed))
            return rd_cli_usage_error(sub, "--seed: expected a non-negative integer, got \"%s\"",
                                      v ? v : "nothing");
        a->has_seed = 1;
    } else if (argv[*i][0] == '-' && argv[*i][1]) {
        return rd_cli_usage_error(sub, "unknown option \"%s\"", argv[*i]);
    } else if (a->file) {
        return rd_cli_usage_error(sub, "unexpected argument \"%s\"", argv[*i]);
    } else {
        a->file = argv[*i];
    }
    return RD_EXIT_OK;
}

static int sel_begin(const char *sub, int argc, sel_args *a)
{
    a->targets = calloc((size_t)argc + 1, sizeof(*a->targets));
    return a->targets ? RD_EXIT_OK : rd_cli_usage_error(sub, "%s", "out of memory");
}

static int sel_end(const char *sub, const sel_args *a)
{
    return a->file ? RD_EXIT_OK : rd_cli_usage_error(sub, "%s", "missing CONFIG");
}

typedef struct run_args {
    sel_args s;
    rd_drill_opts o;
} run_args;

static int parse_run(int argc, char **argv, run_args *a)
{
    const char *v;
    int rc = sel_begin("run", argc, &a->s);
    for (int i = 1; rc == RD_EXIT_OK && i < argc; i++) {
        if (rd_cli_opt_value(argc, argv, &i, "--parallel", &v)) {
            if (!parse_int(v, 1, 256, &a->o.parallel))
                return rd_cli_usage_error(
                    "run", "--parallel: expected an integer from 1 to 256, got \"%s\"",
                    v ? v : "nothing");
        } else if (rd_cli_opt_value(argc, argv, &i, "--shard", &v)) {
            const char *slash = v ? strchr(v, '/') : NULL;
            char k[32];
            if (!slash || (size_t)(slash - v) >= sizeof(k))
                return rd_cli_usage_error("run", "--shard: expected K/N like 2/4, got \"%s\"",
                                          v ? v : "nothing");
            memcpy(k, v, (size_t)(slash - v));
            k[slash - v] = '\0';
            if (!parse_int(k, 1, 1 << 20, &a->o.shard_k) ||
                !parse_int(slash + 1, 1, 1 << 20, &a->o.shard_n) || a->o.shard_k > a->o.shard_n)
                return rd_cli_usage_error("run",
                                          "--shard: expected K/N with 1 <= K <= N, got \"%s\"", v);
        } else if (rd_cli_opt_value(argc, argv, &i, "--out", &v)) {
            if (!v || !*v)
                return rd_cli_usage_error("run", "%s needs a directory", "--out");
            a->o.out_dir = v;
        } else if (strcmp(argv[i], "--keep-scratch") == 0) {
            a->o.keep_scratch = 1;
        } else if (strcmp(argv[i], "--negative-control") == 0) {
            a->o.negative_control = 1;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            a->o.dry_run = 1;
        } else {
            rc = sel_arg("run", argc, argv, &i, &a->s);
        }
    }
    if (rc == RD_EXIT_OK)
        rc = sel_end("run", &a->s);
    a->o.targets = a->s.ntargets ? a->s.targets : NULL;
    a->o.has_seed = a->s.has_seed;
    a->o.seed = a->s.seed;
    return rc;
}

static void print_plan(const rd_report *r)
{
    char when[RD_TIME_BUFSZ];
    printf("drill %s: seed %llu\n", r->name ? r->name : "", (unsigned long long)r->seed);
    for (size_t i = 0; i < r->ntargets; i++) {
        const rd_target_result *t = &r->targets[i];
        if (t->point.id)
            printf("%s\t%s\t%s\t%s of %zu candidates\n", t->name, t->point.id,
                   rd_time_format(t->point.created_at_ms, when, sizeof(when)),
                   t->sampling_strategy ? t->sampling_strategy : "latest", t->sampling_candidates);
        else
            printf("%s\t-\t-\t%s\n", t->name, t->error ? t->error : "nothing sampled");
        if (t->point.id && t->databases_total) {
            printf("%s\tdatabases\t%zu of %zu matching (%zu in the point):", t->name, t->ndatabases,
                   t->databases_matched, t->databases_total);
            for (size_t d = 0; d < t->ndatabases; d++)
                printf(" %s", t->databases[d]);
            printf("\n");
        } else if (t->point.id && t->error) {
            printf("%s\t-\t-\t%s\n", t->name, t->error);
        }
    }
}

int rd_cmd_run(int argc, char **argv)
{
    run_args a;
    rd_config *cfg = NULL;
    rd_report *r = NULL;
    struct rd_coverage *cov = NULL;
    rd_error err;
    int rc;
    memset(&a, 0, sizeof(a));
    rd_error_clear(&err);
    rc = parse_run(argc, argv, &a);
    if (rc != RD_EXIT_OK)
        goto out;
    if ((rc = rd_cli_load_config(a.s.file, &cfg)) != RD_EXIT_OK)
        goto out;
    if (!a.o.dry_run)
        rd_abort_install_handlers();
    if ((cov = rd_cli_coverage_for_run(cfg, a.o.out_dir))) { /* least-verified, coverage */
        a.o.verified = rd_coverage_verified;
        a.o.proven = rd_coverage_proven;
        a.o.verified_ud = cov;
    }
    rd_status st = rd_drill_run(cfg, &a.o, &r, &err);
    if (!r) {
        fprintf(stderr, "restoredrill: %s\n", err.msg);
        rc = st == RD_ERR_USAGE || st == RD_ERR_CONFIG ? RD_EXIT_USAGE : RD_EXIT_ABORTED;
        goto out;
    }
    if (a.o.dry_run) {
        print_plan(r);
        rc = RD_EXIT_OK;
        for (size_t i = 0; i < r->ntargets; i++)
            if (!r->targets[i].point.id || r->targets[i].error)
                rc = r->targets[i].config_error ? RD_EXIT_USAGE : RD_EXIT_FAILED;
        goto out;
    }
    const char *dir = a.o.out_dir ? a.o.out_dir : cfg->output.dir ? cfg->output.dir : "out";
    rd_error werr;
    rd_error_clear(&werr);
    rd_status wst = rd_report_write_all(r, &cfg->output, dir, &werr);
    rd_report_print_console(r);
    if (wst != RD_OK)
        rd_log_error("reports: %s", werr.msg);
    else
        rd_log_info("reports written to %s", dir);
    rd_notify_send(&cfg->notify, r);
    int config_error = 0;
    for (size_t i = 0; i < r->ntargets; i++)
        config_error |= r->targets[i].config_error;
    if (st == RD_ERR_ABORTED || r->status == RD_ABORTED)
        rc = RD_EXIT_ABORTED;
    else if (config_error)
        rc = RD_EXIT_USAGE; /* found while running (a databases glob matching nothing) */
    else if (r->status == RD_PASSED && wst == RD_OK)
        rc = RD_EXIT_OK;
    else
        rc = RD_EXIT_FAILED;
out:
    rd_report_free(r);
    rd_config_free(cfg);
    rd_coverage_free(cov);
    free(a.s.targets);
    return rc;
}

/* ---- list ---- */

typedef struct list_args {
    sel_args s;
    int json;
} list_args;

static int parse_list(int argc, char **argv, list_args *a)
{
    int rc = sel_begin("list", argc, &a->s);
    for (int i = 1; rc == RD_EXIT_OK && i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            a->json = 1;
        else
            rc = sel_arg("list", argc, argv, &i, &a->s);
    }
    return rc == RD_EXIT_OK ? sel_end("list", &a->s) : rc;
}

static int listed(const list_args *a, const char *name)
{
    if (!a->s.ntargets)
        return 1;
    for (size_t i = 0; i < a->s.ntargets; i++)
        if (strcmp(a->s.targets[i], name) == 0)
            return 1;
    return 0;
}

/* What `run` would do with one target at now_ms. */
typedef struct list_target {
    rd_points pts;
    rd_status list_st, pick_st;
    rd_error list_err, pick_err;
    rd_sample smp, expo;
    int seeded; /* the pick depends on a known seed (or on none) */
} list_target;

static void list_one(const rd_target_cfg *t, const list_args *a, const rd_config *cfg,
                     int64_t now_ms, list_target *lt)
{
    const char *strategy = t->sample.strategy ? t->sample.strategy : "latest";
    int random = strcmp(strategy, "random") == 0 || strcmp(strategy, "pitr-random") == 0;
    uint64_t seed = a->s.has_seed ? a->s.seed : cfg->seed;
    memset(lt, 0, sizeof(*lt));
    lt->seeded = !random || a->s.has_seed || cfg->has_seed;
    lt->list_st = rd_catalog_list(&t->catalog, &lt->pts, &lt->list_err);
    rd_sample_exposure(&lt->pts, t->sample.window, now_ms, &lt->expo);
    lt->pick_st = RD_ERR_NOTFOUND;
    if (lt->list_st == RD_OK && lt->seeded)
        lt->pick_st = rd_sample_pick(&lt->pts, &t->sample, seed, now_ms, &lt->smp, &lt->pick_err);
}

static void print_table(const rd_target_cfg *t, const list_target *lt, const list_args *a,
                        const rd_config *cfg, int64_t now_ms)
{
    char when[RD_TIME_BUFSZ], age[64], buf[64], red[1024];
    const char *strategy = t->sample.strategy ? t->sample.strategy : "latest";
    const char *where = t->catalog.path       ? t->catalog.path
                        : t->catalog.base_dir ? t->catalog.base_dir
                                              : t->catalog.stanza;
    if (t->catalog.bucket) /* s3 */
        printf("%s (%s, catalog %s s3://%s/%s)\n", t->name, rd_engine_name(t->engine),
               t->catalog.type ? t->catalog.type : "?", t->catalog.bucket,
               t->catalog.prefix ? t->catalog.prefix : "");
    else
        printf("%s (%s, catalog %s%s%s)\n", t->name, rd_engine_name(t->engine),
               t->catalog.type ? t->catalog.type : "?", where ? " " : "",
               where ? rd_redact(where, red, sizeof(red)) : "");
    if (lt->list_st != RD_OK) {
        printf("  error: %s\n", lt->list_err.msg);
        return;
    }
    printf("  %-2s%-40s %-24s %12s %12s %-14s %s\n", "", "ID", "CREATED AT", "AGE", "BYTES",
           "FORMAT", "TIME FROM");
    for (size_t i = 0; i < lt->pts.n; i++) {
        const rd_point *p = &lt->pts.items[i];
        int chosen = lt->pick_st == RD_OK && lt->smp.index == i;
        if (p->bytes >= 0)
            snprintf(buf, sizeof(buf), "%lld", (long long)p->bytes);
        else
            snprintf(buf, sizeof(buf), "?");
        printf("  %-2s%-40s %-24s %12s %12s %-14s %s\n", chosen ? "*" : "", p->id,
               rd_time_format(p->created_ms, when, sizeof(when)),
               rd_duration_human((double)(now_ms - p->created_ms) / 1000.0, age, sizeof(age)), buf,
               p->format ? p->format : "-", p->time_basis ? p->time_basis : "-");
    }
    if (lt->pts.n == 0)
        printf("  (no recovery points)\n");
    if (lt->pick_st == RD_OK)
        printf("  a run would sample: %s (%s of %zu candidates, seed %llu)\n",
               lt->pts.items[lt->smp.index].id, strategy, lt->smp.candidates,
               (unsigned long long)(a->s.has_seed ? a->s.seed : cfg->seed));
    else if (!lt->seeded)
        printf("  a run would sample: one of %zu candidates at random (no seed: random sampling "
               "is seeded per run; pass --seed N to see its pick)\n",
               lt->expo.candidates);
    else
        printf("  a run would sample: nothing: %s\n", lt->pick_err.msg);
    if (lt->expo.exposure_seconds >= 0)
        printf("  RPO exposure: %s (the largest gap between points in the window, or since the "
               "newest), newest point %s old\n",
               rd_duration_human(lt->expo.exposure_seconds, age, sizeof(age)),
               rd_duration_human(lt->expo.newest_age_seconds, buf, sizeof(buf)));
    else
        printf("  RPO exposure: unknown (no recovery points)\n");
    if (t->engine == RD_ENGINE_S3 && lt->pts.archive) { /* a versioned bucket, no WAL */
        const rd_archive *ar = lt->pts.archive;
        char w1[RD_TIME_BUFSZ], w2[RD_TIME_BUFSZ];
        printf("  versioning window: %s to %s (%zu versions and delete markers)\n",
               ar->start_ms ? rd_time_format(ar->start_ms, w1, sizeof w1) : "none",
               ar->end_ms ? rd_time_format(ar->end_ms, w2, sizeof w2) : "none", ar->files);
        if (lt->pick_st == RD_OK && lt->smp.pitr != RD_PITR_NONE)
            printf("  recovery target: %s\n", rd_time_format(lt->smp.target_ms, w1, sizeof w1));
        return;
    }
    rd_cli_print_archive(&lt->pts, &lt->smp, lt->pick_st == RD_OK);
}

static cJSON *json_target(const rd_target_cfg *t, const list_target *lt, const list_args *a,
                          const rd_config *cfg, int64_t now_ms)
{
    char when[RD_TIME_BUFSZ], red[2048];
    cJSON *o = cJSON_CreateObject();
    cJSON *pts = cJSON_CreateArray();
    cJSON *smp = cJSON_CreateObject();
    if (!o || !pts || !smp) {
        cJSON_Delete(o);
        cJSON_Delete(pts);
        cJSON_Delete(smp);
        return NULL;
    }
    cJSON_AddStringToObject(o, "name", t->name);
    cJSON_AddStringToObject(o, "engine", rd_engine_name(t->engine));
    cJSON_AddStringToObject(o, "catalog", t->catalog.type ? t->catalog.type : "");
    if (lt->list_st != RD_OK)
        cJSON_AddStringToObject(o, "error", lt->list_err.msg);
    else
        cJSON_AddNullToObject(o, "error");
    for (size_t i = 0; i < lt->pts.n; i++) {
        const rd_point *p = &lt->pts.items[i];
        cJSON *j = cJSON_CreateObject();
        if (!j)
            break;
        cJSON_AddStringToObject(j, "id", p->id);
        cJSON_AddStringToObject(j, "created_at", rd_time_format(p->created_ms, when, sizeof(when)));
        cJSON_AddNumberToObject(j, "age_seconds", (double)(now_ms - p->created_ms) / 1000.0);
        if (p->bytes >= 0)
            cJSON_AddNumberToObject(j, "bytes", (double)p->bytes);
        else
            cJSON_AddNullToObject(j, "bytes");
        if (p->format)
            cJSON_AddStringToObject(j, "format", p->format);
        else
            cJSON_AddNullToObject(j, "format");
        cJSON_AddStringToObject(j, "time_basis", p->time_basis ? p->time_basis : "");
        cJSON_AddStringToObject(j, "location",
                                rd_redact(p->location ? p->location : "", red, sizeof(red)));
        cJSON_AddBoolToObject(j, "manifest", p->manifest != NULL);
        cJSON_AddItemToArray(pts, j);
    }
    cJSON_AddItemToObject(o, "points", pts);
    cJSON_AddStringToObject(smp, "strategy", t->sample.strategy ? t->sample.strategy : "latest");
    if (t->sample.window >= 0)
        cJSON_AddNumberToObject(smp, "window_seconds", t->sample.window);
    else
        cJSON_AddNullToObject(smp, "window_seconds");
    cJSON_AddBoolToObject(smp, "seeded", lt->seeded);
    if (a->s.has_seed || cfg->has_seed) {
        /* a string, as in the JSON report: a 64-bit seed does not fit a JSON number */
        char seedtxt[24];
        snprintf(seedtxt, sizeof seedtxt, "%llu",
                 (unsigned long long)(a->s.has_seed ? a->s.seed : cfg->seed));
        cJSON_AddStringToObject(smp, "seed", seedtxt);
    } else {
        cJSON_AddNullToObject(smp, "seed");
    }
    cJSON_AddNumberToObject(smp, "candidates", (double)lt->expo.candidates);
    if (lt->pick_st == RD_OK)
        cJSON_AddStringToObject(smp, "would_sample", lt->pts.items[lt->smp.index].id);
    else
        cJSON_AddNullToObject(smp, "would_sample");
    if (lt->list_st == RD_OK && lt->seeded && lt->pick_st != RD_OK)
        cJSON_AddStringToObject(smp, "error", lt->pick_err.msg);
    cJSON_AddItemToObject(o, "sampling", smp);
    if (lt->expo.exposure_seconds >= 0) {
        cJSON_AddNumberToObject(o, "rpo_exposure_seconds", lt->expo.exposure_seconds);
        cJSON_AddNumberToObject(o, "newest_age_seconds", lt->expo.newest_age_seconds);
    } else {
        cJSON_AddNullToObject(o, "rpo_exposure_seconds");
        cJSON_AddNullToObject(o, "newest_age_seconds");
    }
    rd_cli_json_archive(o, &lt->pts, &lt->smp, lt->pick_st == RD_OK);
    return o;
}

int rd_cmd_list(int argc, char **argv)
{
    list_args a;
    rd_config *cfg = NULL;
    rd_error err;
    cJSON *doc = NULL, *arr = NULL;
    int rc;
    memset(&a, 0, sizeof(a));
    rd_error_clear(&err);
    rc = parse_list(argc, argv, &a);
    if (rc != RD_EXIT_OK)
        goto out;
    if ((rc = rd_cli_load_config(a.s.file, &cfg)) != RD_EXIT_OK)
        goto out;
    for (size_t i = 0; i < a.s.ntargets; i++) {
        if (!rd_config_target(cfg, a.s.targets[i])) {
            fprintf(stderr, "restoredrill: list: no target named \"%s\" in %s\n", a.s.targets[i],
                    cfg->file ? cfg->file : a.s.file);
            rc = RD_EXIT_USAGE;
            goto out;
        }
    }
    int64_t now_ms = rd_wall_now_ms();
    char when[RD_TIME_BUFSZ];
    if (a.json) {
        doc = cJSON_CreateObject();
        arr = cJSON_CreateArray();
        if (!doc || !arr) {
            cJSON_Delete(arr);
            fprintf(stderr, "restoredrill: out of memory\n");
            rc = RD_EXIT_ABORTED;
            goto out;
        }
        cJSON_AddStringToObject(doc, "generated_at", rd_time_format(now_ms, when, sizeof(when)));
        cJSON_AddItemToObject(doc, "targets", arr);
    }
    for (size_t i = 0; i < cfg->ntargets; i++) {
        const rd_target_cfg *t = &cfg->targets[i];
        list_target lt;
        if (!listed(&a, t->name))
            continue;
        list_one(t, &a, cfg, now_ms, &lt);
        if (lt.list_st != RD_OK)
            rc = RD_EXIT_FAILED;
        if (a.json) {
            cJSON *o = json_target(t, &lt, &a, cfg, now_ms);
            if (o)
                cJSON_AddItemToArray(arr, o);
        } else {
            if (i)
                printf("\n");
            print_table(t, &lt, &a, cfg, now_ms);
        }
        rd_points_free(&lt.pts);
    }
    if (a.json) {
        char *text = cJSON_Print(doc);
        if (!text) {
            fprintf(stderr, "restoredrill: out of memory\n");
            rc = RD_EXIT_ABORTED;
            goto out;
        }
        printf("%s\n", text);
        free(text);
    }
out:
    cJSON_Delete(doc);
    rd_config_free(cfg);
    free(a.s.targets);
    return rc;
}
