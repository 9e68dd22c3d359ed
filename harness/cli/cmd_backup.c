/* cmd_backup.c: the `backup`, `manifest` and `heartbeat` subcommands
 * (argument parsing and exit codes; the work is in backup.c,
 * backup_mariadb.c, heartbeat.c and manifest*.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_int.h"
#include "restoredrill/cli.h"
#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/source.h"
#include "restoredrill/strbuf.h"

static int fail(const char *sub, rd_status st, const rd_error *err)
{
    fprintf(stderr, "restoredrill: %s: %s\n", sub, err->msg[0] ? err->msg : rd_strerror(st));
    if (st == RD_ERR_ABORTED)
        return RD_EXIT_ABORTED;
    if (st == RD_ERR_USAGE)
        return RD_EXIT_USAGE;
    return RD_EXIT_FAILED;
}

typedef struct common_args {
    const char *engine, *dsn, *out, *freshness;
} common_args;

/* 1 when argv[*i] was one of the common options; -1 on a missing value. */
static int common_opt(int argc, char **argv, int *i, common_args *c, const char **bad)
{
    struct {
        const char *name;
        const char **slot;
    } opts[] = {{"--engine", &c->engine},
                {"--dsn", &c->dsn},
                {"-o", &c->out},
                {"--output", &c->out},
                {"--freshness-query", &c->freshness}};
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        const char *v = NULL;
        if (rd_cli_opt_value(argc, argv, i, opts[k].name, &v)) {
            if (!v) {
                *bad = opts[k].name;
                return -1;
            }
            *opts[k].slot = v;
            return 1;
        }
    }
    return 0;
}

/* --all-databases / --databases GLOB... (the globs run to the next option).
 * 1 when argv[*i] was one of them, -1 when --databases has no glob. */
static int databases_opt(int argc, char **argv, int *i, rd_strlist *globs)
{
    rd_error e;
    if (strcmp(argv[*i], "--all-databases") == 0)
        return rd_strlist_push(globs, "*", &e) == RD_OK ? 1 : -1;
    if (strcmp(argv[*i], "--databases") != 0)
        return 0;
    int n = 0;
    while (*i + 1 < argc && argv[*i + 1][0] != '-') {
        if (rd_strlist_push(globs, argv[++*i], &e) != RD_OK)
            return -1;
        n++;
    }
    return n ? 1 : -1;
}

static int need_common(const char *sub, const common_args *c, int need_out, rd_engine *engine)
{
    if (!c->engine)
        return rd_cli_usage_error(sub, "--engine is required");
    *engine = rd_engine_parse(c->engine);
    if (!(*engine & RD_ENGINE_ANY)) /* the SQL engines only (not dynamodb) */
        return rd_cli_usage_error(sub, "--engine: expected postgres or mariadb, got \"%s\"",
                                  c->engine);
    if (!c->dsn)
        return rd_cli_usage_error(sub, "--dsn is required");
    if (need_out && !c->out)
        return rd_cli_usage_error(sub, "-o FILE is required");
    return 0;
}

static int backup_args(int argc, char **argv, common_args *cp, const char **formatp,
                       rd_backup_opts *op, rd_strlist *globs, const char **badp);
static int backup_go(common_args *cp, const char *format, rd_backup_opts *op);

int rd_cmd_backup(int argc, char **argv)
{
    common_args c = {0};
    const char *format = NULL, *bad = NULL;
    rd_backup_opts o = {0};
    o.with_checksums = 1; /* the contract's manifest holds chunk checksums */
    rd_strlist globs = {0};
    int rc = backup_args(argc, argv, &c, &format, &o, &globs, &bad);
    const char **gv = NULL;
    if (rc == RD_EXIT_OK && globs.n) {
        if (!(gv = rd_strlist_argv(&globs)))
            rc = RD_EXIT_ABORTED;
        o.databases = gv;
        o.ndatabases = globs.n;
    }
    if (rc == RD_EXIT_OK)
        rc = backup_go(&c, format, &o);
    free(gv);
    rd_strlist_free(&globs);
    return rc;
}

static int backup_args(int argc, char **argv, common_args *cp, const char **formatp,
                       rd_backup_opts *op, rd_strlist *globs, const char **badp)
{
    common_args *c = cp;
    rd_backup_opts *o = op;
    for (int i = 1; i < argc; i++) {
        int r = common_opt(argc, argv, &i, c, badp);
        if (r < 0)
            return rd_cli_usage_error("backup", "%s needs a value", *badp);
        if (r > 0)
            continue;
        if ((r = databases_opt(argc, argv, &i, globs)) < 0)
            return rd_cli_usage_error("backup", "--databases needs at least one name or glob");
        if (r > 0)
            continue;
        const char *v = NULL;
        if (rd_cli_opt_value(argc, argv, &i, "--format", &v)) {
            if (!v)
                return rd_cli_usage_error("backup", "--format needs a value");
            *formatp = v;
        } else if (strcmp(argv[i], "--checksums") == 0 || strcmp(argv[i], "--no-checksums") == 0) {
            o->with_checksums = argv[i][2] != 'n';
        } else if (strcmp(argv[i], "--no-sections") == 0) {
            o->no_sections = 1;
        } else if (strcmp(argv[i], "--gzip") == 0 || strcmp(argv[i], "--zstd") == 0) {
            rd_wrap w = argv[i][2] == 'g' ? RD_WRAP_GZIP : RD_WRAP_ZSTD;
            if (o->wrap && o->wrap != w)
                return rd_cli_usage_error("backup", "--gzip and --zstd exclude each other");
            o->wrap = w;
        } else if (argv[i][0] == '-') {
            return rd_cli_usage_error("backup", "unknown option \"%s\"", argv[i]);
        } else {
            return rd_cli_usage_error("backup", "unexpected argument \"%s\"", argv[i]);
        }
    }
    return RD_EXIT_OK;
}

static int backup_go(common_args *cp, const char *format, rd_backup_opts *op)
{
    common_args c = *cp;
    rd_backup_opts o = *op;
    if (need_common("backup", &c, 1, &o.engine))
        return RD_EXIT_USAGE;
    if (o.engine == RD_ENGINE_PG && o.ndatabases) {
        /* pg_dumpall's layout, which only plain SQL has */
        if (format && strcmp(format, "plain") != 0)
            return rd_cli_usage_error("backup",
                                      "--all-databases and --databases write pg_dumpall's plain "
                                      "layout: --format plain (the default with them), got \"%s\"",
                                      format);
        o.format = RD_FMT_PG_PLAIN;
    } else if (o.engine == RD_ENGINE_PG) {
        if (!format || strcmp(format, "custom") == 0)
            o.format = RD_FMT_PG_CUSTOM;
        else if (strcmp(format, "plain") == 0)
            o.format = RD_FMT_PG_PLAIN;
        else if (strcmp(format, "directory") == 0)
            o.format = RD_FMT_PG_DIRECTORY;
        else
            return rd_cli_usage_error(
                "backup", "--format: expected custom, plain or directory, got \"%s\"", format);
        if (o.format == RD_FMT_PG_DIRECTORY && o.wrap)
            return rd_cli_usage_error("backup", "--gzip/--zstd apply to single-file dumps; pg_dump "
                                                "compresses a directory dump itself");
    } else {
        if (format && strcmp(format, "sql") != 0 && strcmp(format, "plain") != 0)
            return rd_cli_usage_error("backup", "--format: mariadb dumps are sql, got \"%s\"",
                                      format);
        o.format = RD_FMT_MARIADB_SQL;
    }
    if (rd_fs_exists(c.out))
        return rd_cli_usage_error("backup", "%s already exists", c.out);
    o.dsn = c.dsn;
    o.out = c.out;
    o.freshness_query = c.freshness;
    rd_abort_install_handlers();
    rd_error err = {0};
    double t0 = rd_mono_now();
    rd_status st = rd_backup_run(&o, &err);
    if (st != RD_OK)
        return fail("backup", st, &err);
    char took[32];
    rd_log_info("backup: wrote %s and %s.manifest.json in %s", c.out, c.out,
                rd_duration_human(rd_mono_now() - t0, took, sizeof took));
    return RD_EXIT_OK;
}

int rd_cmd_manifest(int argc, char **argv)
{
    common_args c = {0};
    const char *bad = NULL;
    rd_engine engine = 0;
    int checksums = 1; /* the contract's manifest holds chunk checksums */
    rd_strlist globs = {0};
    int rc = RD_EXIT_OK;
    if (rd_cli_is_engine_s3(argc, argv)) /* an object set's listing */
        return rd_cmd_manifest_s3(argc, argv);
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--engine") == 0 && strcmp(argv[i + 1], "dynamodb") == 0)
            return rd_cli_manifest_dynamodb(argc, argv);
    for (int i = 1; i < argc && rc == RD_EXIT_OK; i++) {
        int r = common_opt(argc, argv, &i, &c, &bad);
        if (r < 0) {
            rc = rd_cli_usage_error("manifest", "%s needs a value", bad);
            break;
        }
        if (r == 0 &&
            (strcmp(argv[i], "--checksums") == 0 || strcmp(argv[i], "--no-checksums") == 0)) {
            checksums = argv[i][2] != 'n';
            continue;
        }
        if (r == 0 && (r = databases_opt(argc, argv, &i, &globs)) < 0)
            rc = rd_cli_usage_error("manifest", "--databases needs at least one name or glob");
        else if (r == 0)
            rc = rd_cli_usage_error("manifest",
                                    argv[i][0] == '-' ? "unknown option \"%s\""
                                                      : "unexpected argument \"%s\"",
                                    argv[i]);
    }
    if (rc == RD_EXIT_OK && need_common("manifest", &c, 1, &engine))
        rc = RD_EXIT_USAGE;
    if (rc != RD_EXIT_OK) {
        rd_strlist_free(&globs);
        return rc;
    }
    const char **gv = globs.n ? rd_strlist_argv(&globs) : NULL;
    rd_error err = {0};
    rd_db *db = NULL;
    rd_manifest *m = NULL;
    rd_manifest_opts mo = {0};
    mo.freshness_query = c.freshness;
    mo.with_checksums = checksums;
    rd_status st;
    if (gv && engine == RD_ENGINE_PG) { /* a connection and a snapshot per database */
        st = rd_manifest_capture_pg_databases(c.dsn, &mo, gv, globs.n, &m, &err);
    } else {
        st = rd_db_connect(engine, c.dsn, NULL, &db, &err);
        if (st == RD_OK)
            st = rd_db_begin_readonly(db, &err);
        if (st == RD_OK && gv)
            st = rd_manifest_capture_databases(db, &mo, gv, globs.n, &m, &err);
        else if (st == RD_OK)
            st = rd_manifest_capture(db, &mo, &m, &err);
        if (st == RD_OK)
            st = rd_db_commit(db, &err);
    }
    if (st == RD_OK)
        st = rd_manifest_save(m, c.out, &err);
    rd_manifest_free(m);
    rd_db_free(db);
    free(gv);
    rd_strlist_free(&globs);
    if (st != RD_OK)
        return fail("manifest", st, &err);
    return RD_EXIT_OK;
}

int rd_cmd_heartbeat(int argc, char **argv)
{
    common_args c = {0};
    const char *bad = NULL, *interval = "1s", *duration = NULL;
    char writer[300];
    rd_heartbeat_opts o = {0};
    o.table = "restoredrill_heartbeat";
    o.writer = NULL;
    for (int i = 1; i < argc; i++) {
        int r = common_opt(argc, argv, &i, &c, &bad);
        if (r < 0)
            return rd_cli_usage_error("heartbeat", "%s needs a value", bad);
        if (r > 0 && (c.out || c.freshness))
            return rd_cli_usage_error("heartbeat", "takes no %s",
                                      c.out ? "-o" : "--freshness-query");
        if (r > 0)
            continue;
        struct {
            const char *name;
            const char **slot;
        } opts[] = {{"--interval", &interval},
                    {"--duration", &duration},
                    {"--table", &o.table},
                    {"--writer", &o.writer}};
        size_t k = 0;
        for (; k < sizeof opts / sizeof opts[0]; k++) {
            const char *v = NULL;
            if (rd_cli_opt_value(argc, argv, &i, opts[k].name, &v)) {
                if (!v)
                    return rd_cli_usage_error("heartbeat", "%s needs a value", opts[k].name);
                *opts[k].slot = v;
                break;
            }
        }
        if (k == sizeof opts / sizeof opts[0])
            return rd_cli_usage_error("heartbeat",
                                      argv[i][0] == '-' ? "unknown option \"%s\""
                                                        : "unexpected argument \"%s\"",
                                      argv[i]);
    }
    if (need_common("heartbeat", &c, 0, &o.engine))
        return RD_EXIT_USAGE;
    o.dsn = c.dsn;
    rd_error err = {0};
    if (rd_duration_parse(interval, &o.interval, &err) != RD_OK || o.interval <= 0)
        return rd_cli_usage_error("heartbeat", "--interval: %s",
                                  err.msg[0] ? err.msg : "expected a duration above zero");
    o.duration = 0;
    if (duration && rd_duration_parse(duration, &o.duration, &err) != RD_OK)
        return rd_cli_usage_error("heartbeat", "--duration: %s", err.msg);
    if (!*o.table)
        return rd_cli_usage_error("heartbeat", "--table needs a name");
    if (!o.writer) {
        char host[256] = "localhost";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        snprintf(writer, sizeof writer, "%s:%ld", host, (long)getpid());
        o.writer = writer;
    }
    rd_abort_install_handlers();
    rd_status st = rd_heartbeat_run(&o, &err);
    if (st != RD_OK)
        return fail("heartbeat", st, &err);
    return RD_EXIT_OK;
}
