/* cmd_validate.c: `restoredrill validate`: load a configuration and print
 * what a run would do, touching nothing. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/cli.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/log.h"

static const cJSON *item_at(const cJSON *o, const char *key)
{
    return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/* One argv as words; arguments from the environment are masked (they may
 * carry tokens), others redacted (DSNs, URLs). */
static void print_argv(const rd_strlist *l, const cJSON *src)
{
    for (size_t i = 0; i < l->n; i++) {
        const cJSON *it = cJSON_IsArray(src) ? cJSON_GetArrayItem(src, (int)i) : src;
        char red[512];
        if (rd_cfg_from_env(it))
            printf("%s<from environment>", i ? " " : "");
        else
            printf("%s%s", i ? " " : "", rd_redact(l->items[i], red, sizeof red));
    }
}

static const char *dur(double secs, char *buf, size_t n)
{
    return rd_duration_format(secs, buf, n);
}

static void print_catalog(const rd_catalog_cfg *c, const cJSON *co)
{
    char red[512], b[32];
    printf("  catalog:    %s", c->type);
    if (strcmp(c->type, "dir") == 0) {
        printf(" %s, pattern \"%s\", creation time from %s\n", c->path, c->pattern,
               c->time_from ? c->time_from : "manifest, else file name, else mtime");
    } else if (strcmp(c->type, "exec") == 0) {
        printf(" `");
        print_argv(&c->command, item_at(co, "command"));
        printf("` (timeout %s)\n", dur(c->timeout, b, sizeof b));
    } else if (strcmp(c->type, "s3") == 0 ||
               (c->bucket && strcmp(c->type, "dynamodb-export") == 0)) {
        printf(" bucket %s, prefix \"%s\", endpoint %s, region %s\n", c->bucket,
               c->prefix ? c->prefix : "",
               c->endpoint ? rd_redact(c->endpoint, red, sizeof red) : "(AWS default)",
               c->region ? c->region : "(default)");
    } else if (strcmp(c->type, "s3-objects") == 0) {
        printf(" s3://%s/%s, %s, endpoint %s, region %s\n", c->bucket, c->prefix ? c->prefix : "",
               c->versions ? "a versioned bucket as of a time"
                           : "each NAME/ under it a backup prefix",
               c->endpoint ? rd_redact(c->endpoint, red, sizeof red) : "(AWS default)",
               c->region ? c->region : "(default)");
    } else if (strcmp(c->type, "pg-archive") == 0 || strcmp(c->type, "dynamodb-export") == 0) {
        printf(" %s\n", c->path);
    } else {
        printf(" stanza %s\n", c->stanza);
    }
}

static void print_sample(const rd_target_cfg *t)
{
    char b[32], b2[32];
    const rd_sample_cfg *s = &t->sample;
    printf("  sample:     %s", s->strategy);
    if (strcmp(s->strategy, "id") == 0)
        printf(" %s", s->id);
    else if (s->window >= 0)
        printf(" within the last %s", dur(s->window, b, sizeof b));
    else
        printf(" over all recovery points");
    if (s->max_age >= 0)
        printf(", max_age %s", dur(s->max_age, b2, sizeof b2));
    if (t->engine == RD_ENGINE_S3) {
        printf("\n");
        return;
    }
    if (t->engine == RD_ENGINE_DYNAMODB) {
        printf("\n  key:        ");
        for (size_t i = 0; i < t->key.n; i++)
            printf("%s%s", i ? ", " : "", t->key.items[i]);
        if (!t->key.n)
            printf("the key schema of %s", t->reference.description);
        if (t->reference.description)
            printf("\n  description: %s (scratch table created like it; schema compares)",
                   t->reference.description);
        printf("\n");
        return;
    }
    printf("\n  databases:  ");
    if (t->databases.n == 0)
        printf(t->engine == RD_ENGINE_PG
                   ? "the dump's database, under its own name (a plain SQL dump names none: "
                     "then a database named after the target)"
                   : "those in the dump, restored under their own names");
    for (size_t i = 0; i < t->databases.n; i++)
        printf("%s%s", i ? ", " : "", t->databases.items[i]);
    if (t->databases.n && s->databases > 0)
        printf(" (%d of the matching databases, drawn from the seed)", s->databases);
    else if (t->databases.n)
        printf(" (every matching database)");
    if (t->catalog.per_database)
        printf("; one dump per database, grouped by the time in the file names");
    printf("\n");
}

static void print_scratch(const rd_scratch_cfg *s, rd_engine engine, const cJSON *so)
{
    char red[512];
    printf("  scratch:    %s", s->type);
    if (strcmp(s->type, "ephemeral") == 0 && engine == RD_ENGINE_DYNAMODB) {
        printf(" (dynalite under node on 127.0.0.1, a free port; table %s<target>)", s->prefix);
    } else if (strcmp(s->type, "server") == 0 && engine == RD_ENGINE_DYNAMODB) {
        printf(" %s, tables named %s<target>_<time>_<random>",
               rd_redact(s->endpoint, red, sizeof red), s->prefix);
    } else if (strcmp(s->type, "server") == 0 && engine == RD_ENGINE_S3) {
        printf(" s3://%s/%s<target>_<time>_<random>/, every version deleted afterwards", s->bucket,
               s->prefix);
    } else if (strcmp(s->type, "ephemeral") == 0) {
        printf(" (private server in a temp dir, run as %s when root%s%s%s)", s->run_as,
               s->tcp ? ", also TCP on 127.0.0.1" : ", unix socket only",
               s->bin_dir ? ", binaries from " : "", s->bin_dir ? s->bin_dir : "");
    } else if (strcmp(s->type, "server") == 0) {
        printf(" %s, databases named %s<target>_<time>_<random>%s%s%s",
               rd_redact(s->admin_dsn, red, sizeof red), s->prefix,
               s->password_env ? ", password from $" : "", s->password_env ? s->password_env : "",
               s->allow_same_server ? ", same server as the reference allowed" : "");
    } else {
        printf(" create `");
        print_argv(&s->create, item_at(so, "create"));
        printf("`, destroy `");
        print_argv(&s->destroy, item_at(so, "destroy"));
        printf("`");
    }
    printf("\n");
}

static void print_target(const rd_target_cfg *t, const cJSON *to)
{
    char b[6][32], red[512];
    printf("\ntarget %s (%s)\n", t->name, rd_engine_name(t->engine));
    print_catalog(&t->catalog, item_at(to, "catalog"));
    print_sample(t);
    print_scratch(&t->scratch, t->engine, item_at(to, "scratch"));
    const rd_restore_cfg *r = &t->restore;
    printf("  restore:    ");
    if (t->engine == RD_ENGINE_MARIADB)
        printf("one mariadb client (a SQL dump restores through one connection)");
    else if (r->jobs > 0)
        printf("jobs %d", r->jobs);
    else if (t->engine == RD_ENGINE_DYNAMODB)
        printf("jobs 8 BatchWriteItem requests in flight");
    else if (t->engine == RD_ENGINE_S3)
        printf("jobs 4 server-side copies in flight");
    else
        printf("jobs auto (one per core)");
    printf(", timeout %s", dur(r->timeout, b[0], sizeof b[0]));
    if (t->engine != RD_ENGINE_DYNAMODB && t->engine != RD_ENGINE_S3)
        printf(", roles %s", r->roles);
    if (t->databases.n)
        printf(", read %s", r->read && strcmp(r->read, "whole") == 0
                                ? "whole (the dump's sha256)"
                                : "sections (the sampled databases' pieces when the cluster "
                                  "manifest lists them)");
    if (r->decrypt.n) {
        printf(", decrypt with `");
        print_argv(&r->decrypt, item_at(item_at(to, "restore"), "decrypt"));
        printf("`");
    }
    if (r->extra_args.n) {
        printf(", extra args `");
        print_argv(&r->extra_args, item_at(item_at(to, "restore"), "extra_args"));
        printf("`");
    }
    printf("\n  reference:  ");
    const rd_reference_cfg *ref = &t->reference;
    if (ref->listing)
        printf("listing %s (JSON lines: key, size, sha256)", ref->listing);
    else if (t->engine == RD_ENGINE_S3)
        printf("the bucket's versions as of the target");
    else if (!ref->manifest && !ref->dsn)
        printf("the recovery point's sidecar manifest (<artifact>.manifest.json) when it has "
               "one, else none");
    if (ref->manifest)
        printf("manifest %s", strcmp(ref->manifest, "sidecar") == 0
                                  ? "sidecar (<artifact>.manifest.json)"
                                  : ref->manifest);
    if (ref->dsn)
        printf("%slive database %s (read-only)", ref->manifest ? ", " : "",
               rd_redact(ref->dsn, red, sizeof red));
    printf("\n  checks:     ");
    if (!t->checks_given)
        printf("the default checks\n");
    else if (t->nchecks == 0)
        printf("none\n");
    else
        printf("%zu\n", t->nchecks);
    for (size_t i = 0; i < t->nchecks; i++) {
        const rd_check_cfg *c = &t->checks[i];
        printf("    - %s", c->type);
        if (c->name)
            printf(" \"%s\"", c->name);
        printf(" (timeout %s)\n", dur(c->timeout, b[0], sizeof b[0]));
    }
    printf("  objectives: rto %s, rpo %s\n", t->rto >= 0 ? dur(t->rto, b[0], 32) : "none",
           t->rpo >= 0 ? dur(t->rpo, b[1], 32) : "none");
    printf("  timeouts:   sample %s, fetch %s, provision %s, restore %s, verify %s, teardown %s\n",
           dur(t->timeout_sample, b[0], 32), dur(t->timeout_fetch, b[1], 32),
           dur(t->timeout_provision, b[2], 32), dur(t->restore.timeout, b[3], 32),
           dur(t->timeout_verify, b[4], 32), dur(t->timeout_teardown, b[5], 32));
    printf("  evidence:   negative control %s, keep scratch %s", t->negative_control ? "on" : "off",
           t->keep_scratch ? t->keep_scratch : "never");
    if (t->keep_scratch && strcmp(t->keep_scratch, "never") != 0)
        printf(" (for %s)", dur(t->keep_scratch_ttl, b[0], 32));
    if (t->controls.n) {
        printf(", controls");
        for (size_t i = 0; i < t->controls.n; i++)
            printf("%s %s", i ? "," : "", t->controls.items[i]);
    }
    printf("\n");
}

static void print_plan(const rd_config *cfg)
{
    char b[32];
    printf("drill \"%s\" from %s (version %d): %zu target%s, %d at a time\n", cfg->name, cfg->file,
           cfg->version, cfg->ntargets, cfg->ntargets == 1 ? "" : "s", cfg->parallel);
    if (cfg->has_seed)
        printf("  seed:       %llu\n", (unsigned long long)cfg->seed);
    else
        printf("  seed:       chosen at run time and recorded\n");
    const rd_output_cfg *o = &cfg->output;
    const char *names[] = {"junit", "json", "html", "prometheus", "history"};
    const char *files[] = {o->junit, o->json, o->html, o->prometheus, o->history};
    printf("  output:     %s/:", o->dir);
    for (size_t i = 0; i < 5; i++)
        printf(" %s %s%s", names[i], files[i] ? files[i] : "(off)", i < 4 ? "," : "\n");
    if (cfg->notify.webhook)
        printf("  notify:     webhook (secret, not shown) on %s, timeout %s\n", cfg->notify.on,
               dur(cfg->notify.timeout, b, sizeof b));
    else
        printf("  notify:     none\n");
    printf("  signed:     %s\n",
           o->sign_key ? "yes (output.sign.key: drill.json.sig, history lines)" : "no");
    if (cfg->controls.n) {
        printf("  controls:  ");
        for (size_t i = 0; i < cfg->controls.n; i++)
            printf("%s %s", i ? "," : "", cfg->controls.items[i]);
        printf("\n");
    }
    const cJSON *targets = item_at(cfg->root, "targets");
    for (size_t i = 0; i < cfg->ntargets; i++)
        print_target(&cfg->targets[i], cJSON_GetArrayItem(targets, (int)i));
}

int rd_cmd_validate(int argc, char **argv)
{
    const char *file = NULL;
    int offline = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--offline") == 0) {
            offline = 1;
        } else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !file) {
            file = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return rd_cli_usage_error("validate", "unknown option \"%s\"", argv[i]);
        } else if (file) {
            return rd_cli_usage_error("validate", "unexpected argument \"%s\"", argv[i]);
        } else {
            file = argv[i];
        }
    }
    if (!file)
        return rd_cli_usage_error("validate", "missing CONFIG");
    rd_config *cfg = NULL;
    rd_error err;
    rd_error_clear(&err);
    if (rd_cli_load_config(file, &cfg) != RD_EXIT_OK)
        return RD_EXIT_USAGE;
    print_plan(cfg);
    size_t problems = offline ? 0 : rd_cli_validate_probe(cfg);
    if (problems)
        printf("\nconfiguration has %zu problem%s (on stderr)\n", problems,
               problems == 1 ? "" : "s");
    else
        printf("\nconfiguration OK\n");
    rd_config_free(cfg);
    return problems ? RD_EXIT_USAGE : RD_EXIT_OK;
}
