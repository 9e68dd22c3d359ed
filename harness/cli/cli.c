/* cli.c: the command line: global options, subcommand dispatch, usage texts,
 * `version`, and `validate` (load a config, print what a run would do). */
#include "restoredrill/cli.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

#define GLOBAL_OPTS "[--quiet | --verbose] [--no-progress]"

static int cmd_version(int argc, char **argv);

/* Printed by `help` for every command that takes --dsn. */
static const char dsn_help[] =
    "DSN forms (a password never goes in a DSN: it comes from PGPASSWORD, MYSQL_PWD,\n"
    "~/.pgpass or ~/.my.cnf):\n"
    "  postgres  libpq conninfo or URI:\n"
    "              \"host=/var/run/postgresql dbname=shop user=app\"\n"
    "              \"postgresql://app@db.example.com:5432/shop?sslmode=require\"\n"
    "  mariadb   URL (mysql:// too) or key=value pairs (host port user database socket):\n"
    "              \"mariadb://app@db.example.com:3306/shop\"\n"
    "              \"mariadb://app@localhost/shop?socket=/run/mysqld/mysqld.sock\"\n"
    "              \"host=127.0.0.1 port=3306 user=app database=shop\"\n";

typedef struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *synopsis; /* after "usage: " */
    const char *summary;  /* one line for the overview */
    const char *details;  /* options and notes, may be "" */
} command;

static const command commands[] = {
    {"run", rd_cmd_run,
     "restoredrill run CONFIG [--target NAME]... [--seed N] [--parallel N]\n"
     "                        [--shard K/N] [--out DIR] [--keep-scratch] [--dry-run]\n"
     "                        [--quiet | --verbose] [--no-progress]",
     "run the drill: sample, restore, check, measure RTO/RPO, report",
     "  --target NAME    run only this target (repeatable)\n"
     "  --seed N         sampling seed (default: the config's, else chosen and recorded)\n"
     "  --parallel N     targets restored at once (default: the config's)\n"
     "  --shard K/N      run the K-th of N equal shares of the targets (CI fan-out)\n"
     "  --out DIR        report directory (default: output.dir of the config)\n"
     "  --keep-scratch   leave scratch instances running for inspection\n"
     "  --dry-run        list and sample only: restore and check nothing\n"
     "exit status: 0 every target passed, 1 something failed, 2 usage or\n"
     "configuration error, 3 aborted\n"},
    {"list", rd_cmd_list, "restoredrill list CONFIG [--target NAME] [--json]",
     "recovery points, ages, RPO exposure",
     "  --target NAME    only this target (repeatable)\n"
     "  --json           print JSON instead of a table\n"},
    {"validate", rd_cmd_validate, "restoredrill validate CONFIG",
     "check a config, print what a run would do",
     "Loads CONFIG (comments and ${VAR} expansion allowed), reports the first error\n"
     "with its JSON path, and prints per target the catalog, sampling, scratch\n"
     "instance, restore settings, reference, checks and objectives. Touches nothing.\n"},
    {"backup", rd_cmd_backup,
     "restoredrill backup --engine E --dsn DSN -o FILE [--format custom|plain|directory]\n"
     "                    [--gzip | --zstd] [--no-checksums] [--freshness-query SQL]",
     "dump + consistent manifest in one snapshot",
     "  --engine E            postgres or mariadb\n"
     "  --dsn DSN             database to dump (password from the environment)\n"
     "  -o FILE               the dump; the manifest goes to FILE.manifest.json\n"
     "  --format F            postgres: custom (default), plain or directory\n"
     "  --gzip, --zstd        compress the dump in process\n"
     "  --no-checksums        leave the chunk digests out of the manifest (by default it\n"
     "                        holds them, from the dump's own snapshot, for the `checksum`\n"
     "                        check; --checksums is accepted and changes nothing)\n"
     "  --freshness-query SQL newest data time, recorded in the manifest\n"},
    {"manifest", rd_cmd_manifest,
     "restoredrill manifest --engine E --dsn DSN -o FILE [--no-checksums]\n"
     "                      [--freshness-query SQL]",
     "capture expected figures from a live database",
     "  --engine E            postgres or mariadb\n"
     "  --dsn DSN             database to read (read-only)\n"
     "  -o FILE               manifest file to write\n"
     "  --no-checksums        leave the chunk digests out (by default the manifest holds\n"
     "                        them, for the `checksum` check; --checksums changes nothing)\n"
     "  --freshness-query SQL newest data time, recorded in the manifest\n"},
    {"checksum", rd_cmd_checksum,
     "restoredrill checksum --engine E --dsn DSN [--table T]... [--json]\n"
     "                      [--against DSN2 | --manifest FILE] [--parallel N] [--chunk-rows N]",
     "chunked table checksums computed inside the server",
     "  --engine E         postgres or mariadb\n"
     "  --dsn DSN          database to read (read-only)\n"
     "  --table T          only this table (repeatable; default: all)\n"
     "  --against DSN2     compare with a live reference, naming differing key ranges\n"
     "  --manifest FILE    compare with the chunk digests stored in a manifest\n"
     "  --parallel N       connections per database (default: number of cores)\n"
     "  --chunk-rows N     rows per chunk (default 100000)\n"
     "  --json             print JSON\n"
     "exit status: 0 equal (or digests printed), 1 differences, 2 usage\n"},
    {"diff", rd_cmd_diff,
     "restoredrill diff --engine E --dsn A --against B --table T [--against-table T2]\n"
     "                  [--key COL]... [--where SQL] [--max-rows N] [--json]",
     "row-level differences of a table between two databases",
     "  --engine E         postgres or mariadb\n"
     "  --dsn A            first database\n"
     "  --against B        second database\n"
     "  --table T          table to compare\n"
     "  --against-table T2 its name in B when it differs\n"
     "  --key COL          key column (repeatable; default: the primary key)\n"
     "  --where SQL        only rows matching this condition (both sides)\n"
     "  --max-rows N       list at most N differing keys (counts stay exact)\n"
     "  --parallel N       connections per database (default: number of cores)\n"
     "  --chunk-rows N     rows per first-level chunk; --leaf-rows N: rows per leaf\n"
     "  --json             print JSON\n"
     "exit status: 0 equal, 1 differences, 2 usage\n"},
    {"heartbeat", rd_cmd_heartbeat,
     "restoredrill heartbeat --engine E --dsn DSN [--interval 1s] [--duration D]\n"
     "                       [--table NAME] [--writer ID]",
     "write heartbeat rows so restores can measure the exact RPO",
     "  --engine E       postgres or mariadb\n"
     "  --dsn DSN        protected database\n"
     "  --interval D     time between beats (default 1s)\n"
     "  --duration D     stop after this long (default: until interrupted)\n"
     "  --table NAME     heartbeat table (default restoredrill_heartbeat)\n"
     "  --writer ID      this writer's row (default hostname:pid)\n"},
    {"report", rd_cmd_report,
     "restoredrill report FILE.json... [--junit F] [--html F] [--json F] [--prometheus F]\n"
     "                    [--history H] [--append-history H]",
     "re-render reports from JSON, merge shards",
     "  --junit F            write JUnit XML\n"
     "  --html F             write the HTML evidence report\n"
     "  --json F             write the merged JSON report\n"
     "  --prometheus F       write the Prometheus textfile\n"
     "  --history H          history file whose drills feed the HTML charts\n"
     "  --append-history H   append the (merged) drill to history H, then chart it\n"},
    {"history", rd_cmd_history, "restoredrill history verify FILE.jsonl",
     "verify the tamper-evident history chain", ""},
    {"gc", rd_cmd_gc, "restoredrill gc CONFIG [--older-than 6h] [--dry-run]",
     "remove leftover scratch instances",
     "  --older-than D   prefixed scratch databases older than this (default 6h)\n"
     "  --dry-run        print what would be removed, remove nothing\n"},
    {"version", cmd_version, "restoredrill version", "print the version and linked libraries", ""},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
    for (size_t i = 0; name && i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void overview(FILE *f, int full)
{
    fprintf(f, "usage: restoredrill " GLOBAL_OPTS " COMMAND [ARGS]\n");
    if (!full) {
        fprintf(f, "Run 'restoredrill --help' for the list of commands.\n");
        return;
    }
    fprintf(f, "\nRestore drills: sample a backup from a catalog, restore it into a scratch\n"
               "instance, run integrity checks, measure RTO and RPO, tear down, report.\n"
               "\ncommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-10s %s\n", "help", "this text, or the usage of one command");
    fprintf(f, "\nglobal options (before or after the command):\n"
               "  --quiet          warnings and errors only\n"
               "  --verbose        debug messages\n"
               "  --no-progress    no progress line\n"
               "\nexit status: 0 passed, 1 something failed, 2 usage or configuration error,\n"
               "3 aborted. Run 'restoredrill help COMMAND' for the options of a command.\n");
}

void rd_cli_usage(const char *subcommand, int to_stdout)
{
    FILE *f = to_stdout ? stdout : stderr;
    const command *c = find_command(subcommand);
    if (!c) {
        overview(f, to_stdout);
        return;
    }
    fprintf(f, "usage: %s\n", c->synopsis);
    if (!to_stdout) {
        fprintf(f, "Run 'restoredrill help %s' for details.\n", c->name);
        return;
    }
    fprintf(f, "\n%s\n", c->summary);
    if (c->details[0])
        fprintf(f, "\n%s", c->details);
    if (strstr(c->synopsis, "--dsn"))
        fprintf(f, "\n%s", dsn_help);
    fprintf(f, "\nglobal options: " GLOBAL_OPTS "\n");
}

static int usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "restoredrill: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    rd_cli_usage(sub, 0);
    return RD_EXIT_USAGE;
}

static int cmd_version(int argc, char **argv)
{
    if (argc > 1)
        return usage_error("version", "version: unexpected argument \"%s\"", argv[1]);
    printf("restoredrill %s\n", RD_VERSION);
    printf("  %s\n", curl_version());
    printf("  cJSON/%s\n", cJSON_Version());
    printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("  zlib/%s zstd/%s\n", zlibVersion(), ZSTD_versionString());
    /* manifests' chunk digests are comparable only within an algorithm */
    printf("  checksum algorithms: %s %s\n", RD_TH_ALGO_PG, RD_TH_ALGO_MARIADB);
    return RD_EXIT_OK;
}

/* --quiet / --verbose / --no-progress; 1 when arg is one of them. */
static int global_opt(const char *arg, int *quiet, int *verbose, int *noprog)
{
    if (strcmp(arg, "--quiet") == 0)
        *quiet = 1;
    else if (strcmp(arg, "--verbose") == 0)
        *verbose = 1;
    else if (strcmp(arg, "--no-progress") == 0)
        *noprog = 1;
    else
        return 0;
    return 1;
}

int rd_cli_main(int argc, char **argv)
{
    int quiet = 0, verbose = 0, noprog = 0, rc = RD_EXIT_USAGE;
    int i = 1;
    char **sub = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            rd_cli_usage(NULL, 1);
            return RD_EXIT_OK;
        }
        if (strcmp(a, "--version") == 0)
            return cmd_version(1, argv);
        if (!global_opt(a, &quiet, &verbose, &noprog))
            return usage_error(NULL, "unknown option \"%s\"", a);
    }
    if (i >= argc)
        return usage_error(NULL, "missing command");
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        if (i + 1 >= argc || strcmp(argv[i + 1], "help") == 0) {
            rd_cli_usage(NULL, 1);
            return RD_EXIT_OK;
        }
        if (!find_command(argv[i + 1]))
            return usage_error(NULL, "help: unknown command \"%s\"", argv[i + 1]);
        rd_cli_usage(argv[i + 1], 1);
        return RD_EXIT_OK;
    }
    const command *c = find_command(name);
    if (!c)
        return usage_error(NULL, "unknown command \"%s\"", name);

    /* the subcommand's argv without the global options (up to "--") */
    sub = calloc((size_t)(argc - i) + 1, sizeof *sub);
    if (!sub) {
        fprintf(stderr, "restoredrill: out of memory\n");
        return RD_EXIT_ABORTED;
    }
    int n = 0, dashdash = 0;
    for (int j = i; j < argc; j++) {
        if (!dashdash && j > i) {
            if (strcmp(argv[j], "--") == 0)
                dashdash = 1;
            else if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
                rd_cli_usage(c->name, 1);
                rc = RD_EXIT_OK;
                goto out;
            } else if (global_opt(argv[j], &quiet, &verbose, &noprog))
                continue;
        }
        sub[n++] = argv[j];
    }
    if (quiet && verbose) {
        rc = usage_error(c->name, "--quiet and --verbose cannot be used together");
        goto out;
    }
    if (quiet)
        rd_log_set_level(RD_LOG_WARN);
    if (verbose)
        rd_log_set_level(RD_LOG_DEBUG);
    if (noprog)
        rd_log_set_progress(0);
    rc = c->fn(n, sub);
out:
    free(sub);
    return rc;
}

/* ---- validate ---- */

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
    } else if (strcmp(c->type, "s3") == 0) {
        printf(" bucket %s, prefix \"%s\", endpoint %s, region %s\n", c->bucket,
               c->prefix ? c->prefix : "",
               c->endpoint ? rd_redact(c->endpoint, red, sizeof red) : "(AWS default)",
               c->region ? c->region : "(default)");
    } else if (strcmp(c->type, "pg-archive") == 0) {
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
    printf("\n  databases:  ");
    if (t->databases.n == 0)
        printf("those in the recovery point");
    for (size_t i = 0; i < t->databases.n; i++)
        printf("%s%s", i ? ", " : "", t->databases.items[i]);
    if (s->databases > 0)
        printf(" (a random %d of them)", s->databases);
    printf("\n");
}

static void print_scratch(const rd_scratch_cfg *s, const cJSON *so)
{
    char red[512];
    printf("  scratch:    %s", s->type);
    if (strcmp(s->type, "ephemeral") == 0) {
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
    print_scratch(&t->scratch, item_at(to, "scratch"));
    const rd_restore_cfg *r = &t->restore;
    printf("  restore:    jobs ");
    if (r->jobs > 0)
        printf("%d", r->jobs);
    else
        printf("auto (one per core)");
    printf(", timeout %s, roles %s", dur(r->timeout, b[0], sizeof b[0]), r->roles);
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
    if (!ref->manifest && !ref->dsn)
        printf("none");
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
    const cJSON *targets = item_at(cfg->root, "targets");
    for (size_t i = 0; i < cfg->ntargets; i++)
        print_target(&cfg->targets[i], cJSON_GetArrayItem(targets, (int)i));
}

int rd_cmd_validate(int argc, char **argv)
{
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !file) {
            file = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage_error("validate", "validate: unknown option \"%s\"", argv[i]);
        } else if (file) {
            return usage_error("validate", "validate: unexpected argument \"%s\"", argv[i]);
        } else {
            file = argv[i];
        }
    }
    if (!file)
        return usage_error("validate", "validate: missing CONFIG");
    rd_config *cfg = NULL;
    rd_error err;
    rd_error_clear(&err);
    if (rd_config_load(file, &cfg, &err) != RD_OK) {
        rd_cli_print_error(err.msg);
        return RD_EXIT_USAGE;
    }
    print_plan(cfg);
    printf("\nconfiguration OK\n");
    rd_config_free(cfg);
    return RD_EXIT_OK;
}

int rd_cli_usage_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "restoredrill: %s: ", sub);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    rd_cli_usage(sub, 0);
    return RD_EXIT_USAGE;
}

int rd_cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0')
        return 0;
    *val = *i + 1 < argc ? argv[++*i] : NULL;
    return 1;
}

void rd_cli_print_error(const char *msg)
{
    const char *line = msg;
    do {
        const char *nl = strchr(line, '\n');
        int len = nl ? (int)(nl - line) : (int)strlen(line);
        fprintf(stderr, "restoredrill: %.*s\n", len, line);
        line = nl ? nl + 1 : NULL;
    } while (line && *line);
}
