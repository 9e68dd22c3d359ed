/* cmd_gc.c: `restoredrill gc CONFIG [--older-than 6h] [--dry-run]`: remove
 * what a killed run left behind: ephemeral directories whose owner process
 * is gone (with any server still running in them) and, for targets with
 * scratch type server, prefixed scratch databases older than --older-than.
 * One line per removal on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/cli.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

typedef struct gc_state {
    int removed;
    rd_strlist seen; /* "type|key" already collected */
} gc_state;

static void report_line(void *ud, const char *what)
{
    gc_state *g = ud;
    g->removed++;
    printf("%s\n", what);
    fflush(stdout);
}

static int usage(const char *what, const char *arg)
{
    fprintf(stderr, "restoredrill: gc: %s%s\n", what, arg);
    rd_cli_usage("gc", 0);
    return RD_EXIT_USAGE;
}

/* 1 when key was seen before (each rundir / server is collected once). */
static int seen_before(gc_state *g, const char *key)
{
    for (size_t i = 0; i < g->seen.n; i++)
        if (strcmp(g->seen.items[i], key) == 0)
            return 1;
    rd_strlist_push(&g->seen, key, NULL);
    return 0;
}

static int collect(gc_state *g, const rd_scratch_type *t, const rd_scratch_cfg *sc,
                   rd_engine engine, const char *target, double older_than, int dry_run)
{
    rd_error err;
    char *key;

    if (!t->gc)
        return 0;
    if (strcmp(t->name, "ephemeral") == 0) {
        char *rundir = rd_scratch_rundir(sc ? sc->base_dir : NULL);
        key = rd_asprintf("ephemeral|%s", rundir ? rundir : "");
        free(rundir);
    } else {
        key = rd_asprintf("%s|%d|%s|%s", t->name, (int)engine,
                          sc->admin_dsn ? sc->admin_dsn
                          : sc->bucket  ? sc->bucket
                                        : "",
                          sc->prefix ? sc->prefix : "");
    }
    if (!key || seen_before(g, key)) {
        free(key);
        return 0;
    }
    free(key);
    rd_error_clear(&err);
    if (t->gc(sc, engine, older_than, dry_run, report_line, g, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: gc: target %s: %s\n", target, err.msg);
        return 1;
    }
    return 0;
}

int rd_cmd_gc(int argc, char **argv)
{
    const char *file = NULL;
    double older_than = 6 * 3600;
    int dry_run = 0, failed = 0;
    rd_config *cfg = NULL;
    rd_error err;
    gc_state g = {0};

    rd_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--dry-run") == 0) {
            dry_run = 1;
        } else if (strcmp(a, "--older-than") == 0 || strncmp(a, "--older-than=", 13) == 0) {
            const char *v = a[12] == '=' ? a + 13 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v)
                return usage("--older-than needs a duration like \"6h\"", "");
            if (rd_duration_parse(v, &older_than, &err) != RD_OK)
                return usage("--older-than: ", err.msg);
        } else if (strcmp(a, "--") == 0 && i + 1 < argc && !file) {
            file = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage("unknown option ", a);
        } else if (file) {
            return usage("unexpected argument ", a);
        } else {
            file = a;
        }
    }
    if (!file)
        return usage("missing CONFIG", "");
    if (rd_cli_load_config(file, &cfg) != RD_EXIT_OK)
        return RD_EXIT_USAGE;
    /* the default rundir always: a config may have changed since the run died */
    const rd_scratch_type *eph = rd_scratch_find("ephemeral");
    if (eph)
        failed |= collect(&g, eph, NULL, RD_ENGINE_PG, "(default rundir)", older_than, dry_run);
    for (size_t i = 0; i < cfg->ntargets; i++) {
        const rd_target_cfg *t = &cfg->targets[i];
        const char *type = t->scratch.type ? t->scratch.type : "ephemeral";
        const rd_scratch_type *st = rd_scratch_find_for(type, t->engine);
        if (!st) {
            fprintf(stderr, "restoredrill: gc: target %s: unknown scratch type \"%s\"\n", t->name,
                    type);
            failed = 1;
            continue;
        }
        failed |= collect(&g, st, &t->scratch, t->engine, t->name, older_than, dry_run);
    }
    if (g.removed == 0)
        fprintf(stderr, "restoredrill: gc: nothing to remove\n");
    rd_strlist_free(&g.seen);
    rd_config_free(cfg);
    return failed ? RD_EXIT_FAILED : RD_EXIT_OK;
}
