/* cmd_coverage.c: `restoredrill coverage CONFIG [--history FILE] [--target
 * NAME]... [--json]`: per target, which recovery points of the retention
 * window (sample.window, else every point) passed drills in the history
 * have verified, and the share of the window proven restorable; for a
 * catalog with an archive also the share of its PITR window proven
 * restorable, with the proven and unproven stretches. Also the
 * history index `run` hands to the drill (strategy least-verified, the
 * report's coverage). Exit 0 printed, 2 usage or configuration error. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/catalog.h"
#include "restoredrill/cli.h"
#include "restoredrill/clock.h"
#include "restoredrill/drill.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/spans.h"
#include "restoredrill/strbuf.h"

char *rd_cli_history_path(const rd_config *cfg, const char *out_dir)
{
    const char *dir = out_dir ? out_dir : cfg->output.dir ? cfg->output.dir : "out";
    const char *h = cfg->output.history;
    if (!h)
        return NULL;
    return h[0] == '/' ? rd_strdup(h) : rd_fs_join(dir, h);
}

rd_coverage *rd_cli_coverage_for_run(const rd_config *cfg, const char *out_dir)
{
    rd_coverage *c = NULL;
    rd_error err;
    char *path = rd_cli_history_path(cfg, out_dir);
    if (path && rd_coverage_load(path, &c, &err) != RD_OK) {
        rd_log_warn("history %s: %s: sampling and coverage see no earlier drill", path, err.msg);
        c = NULL;
    }
    free(path);
    return c;
}

typedef struct cov_args {
    const char *file, *history;
    const char **targets;
    size_t ntargets;
    int json;
} cov_args;

static int wanted(const cov_args *a, const char *name)
{
    for (size_t i = 0; i < a->ntargets; i++)
        if (strcmp(a->targets[i], name) == 0)
            return 1;
    return a->ntargets == 0;
}

/* to (inclusive) of a half-open span as a time. */
static const char *span_to(const rd_span *sp, char *buf, size_t n)
{
    return rd_time_format(sp->to_ms - 1, buf, n);
}

static cJSON *spans_json(const rd_span *s, size_t n)
{
    char a[RD_TIME_BUFSZ], b[RD_TIME_BUFSZ];
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "from", rd_time_format(s[i].from_ms, a, sizeof a));
        cJSON_AddStringToObject(o, "to", span_to(&s[i], b, sizeof b));
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* A catalog with an archive: the share of its restorable window (inside
 * sample.window) that passed drills proved restorable, the proven and the
 * unproven stretches. Text, or members of to. 0 on allocation failure. */
static int pitr_coverage(const rd_target_cfg *t, const rd_points *pts, const rd_coverage *cov,
                         int64_t now, cJSON *to)
{
    rd_span *win = NULL, *drills = NULL, *proven = NULL, *left = NULL;
    size_t nw = 0, nd = 0, np = 0, nl = 0;
    rd_error err;
    char a[RD_TIME_BUFSZ], b[RD_TIME_BUFSZ], h[64];
    int ok = 0;
    if (rd_sample_pitr_window(pts, t->sample.window, now, &win, &nw, &err) != RD_OK)
        goto out;
    nd = rd_coverage_proven((void *)cov, t->name, &drills);
    size_t merged = rd_spans_merge(drills, nd);
    if (rd_spans_intersect(drills, merged, win, nw, &proven, &np, &err) != RD_OK)
        goto out;
    for (size_t i = 0; i < nw; i++) {
        rd_span *part = NULL;
        size_t k = 0;
        if (rd_spans_subtract(win[i].from_ms, win[i].to_ms, proven, np, &part, &k, &err) != RD_OK)
            goto out;
        rd_span *g = k ? realloc(left, (nl + k) * sizeof *g) : left;
        if (k && !g) {
            free(part);
            goto out;
        }
        left = g;
        if (k)
            memcpy(left + nl, part, k * sizeof *part);
        nl += k;
        free(part);
    }
    int64_t wl = rd_spans_length(win, nw), pl = rd_spans_length(proven, np);
    double share = wl > 0 ? (double)pl / (double)wl : 0;
    if (to) {
        if (wl > 0) {
            cJSON_AddNumberToObject(to, "pitr_share", share);
            cJSON *p = cJSON_AddObjectToObject(to, "pitr");
            cJSON_AddStringToObject(p, "window_start", rd_time_format(win[0].from_ms, a, sizeof a));
            cJSON_AddStringToObject(p, "window_end", span_to(&win[nw - 1], b, sizeof b));
            cJSON_AddNumberToObject(p, "window_seconds", (double)wl / 1000.0);
            cJSON_AddNumberToObject(p, "drills", (double)nd);
            cJSON_AddItemToObject(p, "proven", spans_json(proven, np));
            cJSON_AddItemToObject(p, "unproven", spans_json(left, nl));
        } else {
            cJSON_AddNullToObject(to, "pitr_share");
            cJSON_AddNullToObject(to, "pitr");
        }
    } else if (wl <= 0) {
        printf("  PITR window: none inside the sampling window\n");
    } else {
        printf("  PITR window %s to %s (%s restorable): %.1f%% proven restorable by %zu passed "
               "drill%s\n",
               rd_time_format(win[0].from_ms, a, sizeof a), span_to(&win[nw - 1], b, sizeof b),
               rd_duration_human((double)wl / 1000.0, h, sizeof h), 100.0 * share, nd,
               nd == 1 ? "" : "s");
        /* oldest first, proven and unproven interleaved */
        size_t i = 0, j = 0;
        while (i < np || j < nl) {
            int pick_p = j == nl || (i < np && proven[i].from_ms < left[j].from_ms);
            const rd_span *sp = pick_p ? &proven[i++] : &left[j++];
            printf("  %-9s %s to %s (%s)\n", pick_p ? "proven" : "UNPROVEN",
                   rd_time_format(sp->from_ms, a, sizeof a), span_to(sp, b, sizeof b),
                   rd_duration_human((double)(sp->to_ms - sp->from_ms) / 1000.0, h, sizeof h));
        }
    }
    ok = 1;
out:
    free(win);
    free(drills);
    free(proven);
    free(left);
    return ok;
}

/* One target: print (or add to arr) its coverage. */
static int one(const rd_target_cfg *t, const rd_coverage *cov, int64_t now, cJSON *arr)
{
    rd_points pts = {0};
    rd_error err;
    char when[RD_TIME_BUFSZ], last[RD_TIME_BUFSZ], win[64];
    size_t total = 0, verified = 0;
    int64_t lo = t->sample.window >= 0 ? now - (int64_t)(t->sample.window * 1000.0) : INT64_MIN;
    if (rd_catalog_list(&t->catalog, &pts, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: coverage: %s: %s\n", t->name, err.msg);
        return 0;
    }
    for (size_t i = 0; i < pts.n; i++) {
        const rd_point *p = &pts.items[i];
        if (p->created_ms <= now && p->created_ms >= lo) {
            total++;
            verified += rd_coverage_verified((void *)cov, t->name, p->id) > 0;
        }
    }
    double share = total ? (double)verified / (double)total : 0;
    cJSON *to = arr ? cJSON_CreateObject() : NULL, *pa = arr ? cJSON_CreateArray() : NULL;
    if (to) {
        cJSON_AddStringToObject(to, "name", t->name);
        if (t->sample.window >= 0)
            cJSON_AddNumberToObject(to, "window_seconds", t->sample.window);
        else
            cJSON_AddNullToObject(to, "window_seconds");
        cJSON_AddNumberToObject(to, "window_points", (double)total);
        cJSON_AddNumberToObject(to, "verified_points", (double)verified);
        cJSON_AddNumberToObject(to, "share", share);
        if (!pts.archive) {
            cJSON_AddNullToObject(to, "pitr_share");
            cJSON_AddNullToObject(to, "pitr");
        } else if (!pitr_coverage(t, &pts, cov, now, to)) {
            fprintf(stderr, "restoredrill: coverage: %s: out of memory\n", t->name);
        }
        cJSON_AddItemToObject(to, "points", pa);
        cJSON_AddItemToArray(arr, to);
    } else {
        if (t->sample.window >= 0)
            snprintf(win, sizeof win, "%s window",
                     rd_duration_format(t->sample.window, last, sizeof last));
        else
            snprintf(win, sizeof win, "catalog (no sample.window)");
        printf("%s: %zu of %zu recovery points in the %s verified (%.1f%%)\n", t->name, verified,
               total, win, 100.0 * share);
    }
    for (size_t i = 0; i < pts.n; i++) {
        const rd_point *p = &pts.items[i];
        if (p->created_ms > now || p->created_ms < lo)
            continue;
        size_t k = rd_coverage_verified((void *)cov, t->name, p->id);
        int64_t l = rd_coverage_last(cov, t->name, p->id);
        if (pa) {
            cJSON *po = cJSON_CreateObject();
            cJSON_AddStringToObject(po, "id", p->id);
            cJSON_AddStringToObject(po, "created_at",
                                    rd_time_format(p->created_ms, when, sizeof when));
            cJSON_AddNumberToObject(po, "verified_drills", (double)k);
            if (l)
                cJSON_AddStringToObject(po, "last_verified_at",
                                        rd_time_format(l, last, sizeof last));
            else
                cJSON_AddNullToObject(po, "last_verified_at");
            cJSON_AddItemToArray(pa, po);
        } else {
            printf("  %-9s %-40s created %s", k ? "VERIFIED" : "never", p->id,
                   rd_time_format(p->created_ms, when, sizeof when));
            if (k)
                printf(", %zu drill%s, last %s", k, k == 1 ? "" : "s",
                       rd_time_format(l, last, sizeof last));
            printf("\n");
        }
    }
    if (!arr && pts.archive && !pitr_coverage(t, &pts, cov, now, NULL))
        fprintf(stderr, "restoredrill: coverage: %s: out of memory\n", t->name);
    rd_points_free(&pts);
    return 1;
}

int rd_cmd_coverage(int argc, char **argv)
{
    cov_args a;
    rd_config *cfg = NULL;
    rd_coverage *cov = NULL;
    rd_error err;
    char *hist = NULL;
    int rc = RD_EXIT_OK;
    const char *v;
    memset(&a, 0, sizeof a);
    a.targets = calloc((size_t)argc + 1, sizeof *a.targets);
    if (!a.targets)
        return RD_EXIT_ABORTED;
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--json") == 0) {
            a.json = 1;
        } else if (rd_cli_opt_value(argc, argv, &i, "--history", &v) ||
                   rd_cli_opt_value(argc, argv, &i, "--target", &v)) {
            int is_hist = strncmp(opt, "--history", 9) == 0;
            if (!v) {
                rc = rd_cli_usage_error("coverage", "%s needs a value",
                                        is_hist ? "--history" : "--target");
                goto out;
            }
            if (is_hist)
                a.history = v;
            else
                a.targets[a.ntargets++] = v;
        } else if (opt[0] == '-' && opt[1]) {
            rc = rd_cli_usage_error("coverage", "unknown option \"%s\"", opt);
            goto out;
        } else if (a.file) {
            rc = rd_cli_usage_error("coverage", "%s", "expected one configuration file");
            goto out;
        } else {
            a.file = opt;
        }
    }
    if (!a.file) {
        rc = rd_cli_usage_error("coverage", "%s", "no configuration given");
        goto out;
    }
    if ((rc = rd_cli_load_config(a.file, &cfg)) != RD_EXIT_OK)
        goto out;
    for (size_t i = 0; i < a.ntargets; i++)
        if (!rd_config_target(cfg, a.targets[i])) {
            rc = rd_cli_usage_error("coverage", "no target named \"%s\"", a.targets[i]);
            goto out;
        }
    hist = a.history ? rd_strdup(a.history) : rd_cli_history_path(cfg, NULL);
    if (!hist) {
        rc = rd_cli_usage_error("coverage", "%s",
                                "the configuration writes no history (output.history is null): "
                                "give --history FILE");
        goto out;
    }
    if (!rd_fs_exists(hist))
        fprintf(stderr, "restoredrill: coverage: %s does not exist: nothing verified yet\n", hist);
    if (rd_coverage_load(hist, &cov, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: coverage: %s\n", err.msg);
        rc = RD_EXIT_USAGE;
        goto out;
    }
    {
        int64_t now = rd_wall_now_ms();
        cJSON *root = a.json ? cJSON_CreateObject() : NULL;
        cJSON *arr = root ? cJSON_AddArrayToObject(root, "targets") : NULL;
        if (root)
            cJSON_AddStringToObject(root, "history", hist);
        for (size_t i = 0; i < cfg->ntargets; i++)
            if (wanted(&a, cfg->targets[i].name) && !one(&cfg->targets[i], cov, now, arr))
                rc = RD_EXIT_FAILED;
        if (root) {
            char *text = cJSON_Print(root);
            if (text)
                printf("%s\n", text);
            cJSON_free(text);
            cJSON_Delete(root);
        }
    }
out:
    rd_coverage_free(cov);
    rd_config_free(cfg);
    free(hist);
    free(a.targets);
    return rc;
}
