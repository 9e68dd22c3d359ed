/* cli.c: the command line: global options, subcommand dispatch through the
 * table of registry.c, usage texts, and the helpers every cmd_<name>.c uses. */
#include "restoredrill/cli.h"

#include "cli_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/log.h"

#define GLOBAL_OPTS "[--quiet | --verbose] [--no-progress]"

static const rd_cli_command *find_command(const char *name)
{
    for (const rd_cli_command *c = rd_cli_commands; name && c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

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
    for (const rd_cli_command *c = rd_cli_commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
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
    const rd_cli_command *c = find_command(subcommand);
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
            return find_command("version")->fn(1, argv);
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
    const rd_cli_command *c = find_command(name);
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

int rd_cli_load_config(const char *file, struct rd_config **cfg)
{
    rd_error err;
    rd_error_clear(&err);
    if (rd_config_load(file, &rd_drill_drivers, cfg, &err) == RD_OK)
        return RD_EXIT_OK;
    rd_cli_print_error(err.msg);
    return RD_EXIT_USAGE;
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
