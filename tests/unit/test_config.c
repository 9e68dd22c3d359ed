/* test_config.c: loading the drill configuration: comments, ${VAR}
 * expansion, defaults, and the exact path-precise error of every class. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/catalog.h"
#include "restoredrill/check.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

#define NODRV 1u /* no driver lookups: rd_config_parse with drivers NULL */

static char errmsg[RD_ERROR_MSG_MAX];
static rd_status errcode;

/* Parse; on failure keep the message and return NULL. */
static rd_config *parse(const char *text, unsigned flags)
{
    rd_config *cfg = NULL;
    rd_error err;
    rd_error_clear(&err);
    errcode =
        rd_config_parse(text, "drill.json", (flags & NODRV) ? NULL : &rd_drill_drivers, &cfg, &err);
    snprintf(errmsg, sizeof errmsg, "%s", errcode == RD_OK ? "" : err.msg);
    if (errcode != RD_OK)
        ck_assert_ptr_null(cfg);
    return cfg;
}

/* The error message a config produces (fails the test when it loads). */
static const char *error_of(const char *text, unsigned flags)
{
    rd_config *cfg = parse(text, flags);
    if (cfg) {
        rd_config_free(cfg);
        ck_abort_msg("config loaded but an error was expected: %s", text);
    }
    ck_assert_int_eq(errcode, RD_ERR_CONFIG);
    return errmsg;
}

static rd_config *ok(const char *text, unsigned flags)
{
    rd_config *cfg = parse(text, flags);
    ck_assert_msg(cfg != NULL, "unexpected error: %s", errmsg);
    return cfg;
}

/* A config of one target (name, engine, a dir catalog at /b) plus `extra`
 * target keys and `top_extra` top-level keys (each "" for none). */
static char *one_target(const char *top_extra, const char *name, const char *engine,
                        const char *extra)
{
    char *s = rd_asprintf("{\"version\": 1, %s%s\"targets\": [{\"name\": \"%s\", \"engine\": "
                          "\"%s\", \"catalog\": {\"type\": \"dir\", \"path\": \"/b\"}%s}]}",
                          top_extra, *top_extra ? " " : "", name, engine, extra);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* One postgres target with a dir catalog plus `extra` target keys. */
static char *target(const char *extra)
{
    return one_target("", "orders", "postgres", extra);
}

/* `extra` top-level keys plus one minimal target. */
static char *top(const char *extra)
{
    return one_target(extra, "orders", "postgres", "");
}

/* ok on a text of the heap, freed. */
static rd_config *ok_text(char *text, unsigned flags)
{
    rd_config *cfg = ok(text, flags);
    free(text);
    return cfg;
}

/* The config text (heap, freed) fails with exactly `expected`. */
#define ASSERT_TEXT_ERR(text, flags, expected)                                                     \
    do {                                                                                           \
        char *t_ = (text);                                                                         \
        ck_assert_str_eq(error_of(t_, flags), expected);                                           \
        free(t_);                                                                                  \
    } while (0)
#define ASSERT_TARGET_ERR(extra, flags, expected) ASSERT_TEXT_ERR(target(extra), flags, expected)
#define ASSERT_TOP_ERR(extra, flags, expected) ASSERT_TEXT_ERR(top(extra), flags, expected)

START_TEST(test_scratch_template)
{
    rd_config *cfg = ok_text(target(", \"scratch\": {\"template\": false, \"tcp\": true}"), NODRV);
    ck_assert_int_eq(cfg->targets[0].scratch.no_template, 1);
    ck_assert_int_eq(cfg->targets[0].scratch.tcp, 1);
    rd_config_free(cfg);
    cfg = ok_text(target(", \"scratch\": {\"template\": true}"), NODRV);
    ck_assert_int_eq(cfg->targets[0].scratch.no_template, 0);
    rd_config_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
    rd_config *cfg = ok_text(target(""), NODRV);
    ck_assert_str_eq(cfg->file, "drill.json");
    ck_assert_int_eq(cfg->version, 1);
    ck_assert_str_eq(cfg->name, "drill");
    ck_assert_int_eq(cfg->has_seed, 0);
    ck_assert_int_eq(cfg->parallel, 1);
    ck_assert_int_eq(cfg->targets[0].verify_parallel, 0); /* the cores */
    ck_assert_str_eq(cfg->output.dir, "out");
    ck_assert_str_eq(cfg->output.junit, "junit.xml");
    ck_assert_str_eq(cfg->output.json, "drill.json");
    ck_assert_str_eq(cfg->output.html, "evidence.html");
    ck_assert_str_eq(cfg->output.prometheus, "restoredrill.prom");
    ck_assert_str_eq(cfg->output.history, "history.jsonl");
    ck_assert_ptr_null(cfg->notify.webhook);
    ck_assert_str_eq(cfg->notify.on, "failure");
    ck_assert(cfg->notify.timeout == 10);
    ck_assert_ptr_nonnull(cfg->root);
    ck_assert_uint_eq(cfg->ntargets, 1);

    const rd_target_cfg *t = &cfg->targets[0];
    ck_assert_str_eq(t->name, "orders");
    ck_assert_str_eq(t->path, "targets[0]");
    ck_assert_int_eq(t->engine, RD_ENGINE_PG);
    ck_assert(t->rto == -1 && t->rpo == -1);
    ck_assert_str_eq(t->catalog.type, "dir");
    ck_assert_str_eq(t->catalog.path, "/b");
    ck_assert_str_eq(t->catalog.pattern, "*");
    ck_assert_ptr_null(t->catalog.time_from);
    ck_assert(t->catalog.timeout == 60);
    ck_assert_str_eq(t->sample.strategy, "latest");
    ck_assert(t->sample.window == -1 && t->sample.max_age == -1);
    ck_assert_ptr_null(t->sample.id);
    ck_assert_int_eq(t->sample.databases, 0);
    ck_assert_str_eq(t->scratch.type, "ephemeral");
    ck_assert_str_eq(t->scratch.run_as, "postgres");
    ck_assert_int_eq(t->scratch.tcp, 0);
    ck_assert_int_eq(t->scratch.no_template, 0); /* templates are the default */
    ck_assert_ptr_null(t->scratch.bin_dir);
    ck_assert_ptr_null(t->scratch.admin_dsn);
    ck_assert_str_eq(t->scratch.prefix, "rd_scratch_");
    ck_assert_int_eq(t->scratch.allow_same_server, 0);
    ck_assert(t->scratch.timeout == 600);
    ck_assert_int_eq(t->restore.jobs, 0);
    ck_assert_int_eq(t->restore.split_buffer_mb, 0);
    ck_assert_int_eq(t->restore.defer_indexes, 0); /* off: it did not pay (bench/RESULTS.md) */
    ck_assert(t->restore.timeout == 7200);
    ck_assert_str_eq(t->restore.roles, "no-owner");
    ck_assert_uint_eq(t->restore.decrypt.n, 0);
    ck_assert_ptr_null(t->reference.manifest);
    ck_assert_ptr_null(t->reference.dsn);
    ck_assert_uint_eq(t->databases.n, 0);
    ck_assert(t->timeout_sample == 300 && t->timeout_fetch == 3600);
    ck_assert(t->timeout_provision == 600 && t->timeout_verify == 14400);
    ck_assert(t->timeout_teardown == 300);
    ck_assert_int_eq(t->checks_given, 0);
    ck_assert_uint_eq(t->nchecks, 0);
    ck_assert_ptr_eq(rd_config_target(cfg, "orders"), t);
    ck_assert_ptr_null(rd_config_target(cfg, "billing"));
    rd_config_free(cfg);
    rd_config_free(NULL);
}
END_TEST

/* One mariadb target with a dir catalog plus `extra` target keys. */
static char *mtarget(const char *extra)
{
    return one_target("", "t", "mariadb", extra);
}

#define ASSERT_MTARGET_ERR(extra, expected) ASSERT_TEXT_ERR(mtarget(extra), 0, expected)

/* databases / sample.databases: accepted where built (ephemeral scratch,
 * logical catalogs, reference.dsn, negative_control), refused everywhere
 * else, never ignored (issue 16). */
START_TEST(test_databases)
{
    rd_config *cfg = ok_text(mtarget(", \"databases\": [\"tenant_*\", \"central\"], \"sample\": "
                                     "{\"databases\": 5}"),
                             0);
    const rd_target_cfg *t = &cfg->targets[0];
    ck_assert_uint_eq(t->databases.n, 2);
    ck_assert_str_eq(t->databases.items[0], "tenant_*");
    ck_assert_str_eq(t->databases.items[1], "central");
    ck_assert_int_eq(t->sample.databases, 5);
    ck_assert_str_eq(t->restore.read, "sections"); /* the default */
    rd_config_free(cfg);
    cfg = ok_text(mtarget(", \"databases\": \"t*\", \"restore\": {\"read\": \"whole\"}"), 0);
    ck_assert_str_eq(cfg->targets[0].restore.read, "whole");
    rd_config_free(cfg);
    ASSERT_MTARGET_ERR(", \"restore\": {\"read\": \"whole\"}",
                       "drill.json: targets[0].restore.read: needs \"databases\" on the target (it "
                       "chooses how much of a cluster-wide dump is read)");
    cfg = ok_text(mtarget(", \"databases\": \"tenant_*\""), 0);
    ck_assert_uint_eq(cfg->targets[0].databases.n, 1);
    ck_assert_int_eq(cfg->targets[0].sample.databases, 0);
    rd_config_free(cfg);

    ASSERT_MTARGET_ERR(", \"restore\": {\"split_buffer_mb\": 70000}",
                       "drill.json: targets[0].restore.split_buffer_mb: expected an integer from 0 "
                       "to 65536, got 70000");
    ASSERT_MTARGET_ERR(", \"sample\": {\"databases\": 3}",
                       "drill.json: targets[0].sample.databases: needs \"databases\" on the target "
                       "(the names or globs to sample from)");
    ASSERT_MTARGET_ERR(", \"databases\": []",
                       "drill.json: targets[0].databases: expected at least one database name or "
                       "glob, got []");
    ASSERT_MTARGET_ERR(", \"databases\": [\"a\", \"\"]",
                       "drill.json: targets[0].databases[1]: expected a database name or a glob, "
                       "got \"\"");
    ASSERT_MTARGET_ERR(", \"databases\": \"t*\", \"sample\": {\"databases\": -1}",
                       "drill.json: targets[0].sample.databases: expected an integer from 0 to "
                       "100000, got -1");
    ASSERT_MTARGET_ERR(", \"databases\": \"t*\", \"scratch\": {\"type\": \"exec\", "
                       "\"create\": \"true\", \"destroy\": \"true\"}",
                       "drill.json: targets[0].databases: not implemented yet with scratch type "
                       "\"exec\" (only \"ephemeral\" and \"server\")");
    /* server: each database under a scratch name of its own */
    cfg = ok_text(mtarget(", \"databases\": \"t*\", \"scratch\": {\"type\": \"server\", "
                          "\"admin_dsn\": \"mariadb://root@h/x\"}"),
                  0);
    ck_assert_str_eq(cfg->targets[0].scratch.type, "server");
    rd_config_free(cfg);
    ASSERT_TEXT_ERR(rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"t\", \"engine\": "
                                "\"mariadb\", \"catalog\": {\"type\": \"dir\", \"path\": \"/b\", "
                                "\"per_database\": true}, \"databases\": \"t*\", \"scratch\": "
                                "{\"type\": \"server\", \"admin_dsn\": \"mariadb://root@h/x\"}}]}"),
                    0,
                    "drill.json: targets[0].databases: not implemented yet with "
                    "catalog.per_database and scratch type \"server\" (each file is restored "
                    "under its own name; only a cluster-wide dump is restored under scratch "
                    "names)");
    ASSERT_MTARGET_ERR(", \"databases\": \"t*\", \"scratch\": {\"type\": \"server\", "
                       "\"admin_dsn\": \"mariadb://root@h/x\"}, \"restore\": {\"roles\": "
                       "\"strict\"}",
                       "drill.json: targets[0].restore.roles: \"strict\" with databases on scratch "
                       "type \"server\" would change the shared server's roles; only "
                       "\"no-owner\"");
    /* mariadb too: reference.dsn per database, and the negative control in one of them */
    cfg = ok_text(mtarget(", \"databases\": \"t*\", \"reference\": {\"dsn\": \"host=r\"}, "
                          "\"negative_control\": true"),
                  0);
    ck_assert_str_eq(cfg->targets[0].reference.dsn, "host=r");
    ck_assert_int_eq(cfg->targets[0].negative_control, 1);
    rd_config_free(cfg);
    cfg = ok_text(rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"t\", \"engine\": "
                              "\"postgres\", \"catalog\": {\"type\": \"pg-archive\", \"base_dir\": "
                              "\"/tmp\", \"wal_dir\": \"/tmp\"}, \"databases\": \"t*\"}]}"),
                  0); /* the whole cluster is restored, its databases listed after recovery */
    ck_assert_uint_eq(cfg->targets[0].databases.n, 1);
    ck_assert_str_eq(cfg->targets[0].databases.items[0], "t*");
    rd_config_free(cfg);
    /* postgres: each database against the reference's database of the same name */
    cfg = ok_text(rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"t\", \"engine\": "
                              "\"postgres\", \"catalog\": {\"type\": \"dir\", \"path\": \"/b\"}, "
                              "\"databases\": \"t*\", \"reference\": {\"dsn\": \"host=r\"}}]}"),
                  0);
    ck_assert_str_eq(cfg->targets[0].reference.dsn, "host=r");
    rd_config_free(cfg);
    cfg =
        ok_text(mtarget(", \"databases\": \"t*\", \"reference\": {\"manifest\": \"sidecar\"}"), 0);
    ck_assert_str_eq(cfg->targets[0].reference.manifest, "sidecar");
    rd_config_free(cfg);
    ASSERT_TEXT_ERR(
        rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"t\", \"engine\": \"mariadb\", "
                    "\"catalog\": {\"type\": \"dir\", \"path\": \"/b\", \"per_database\": "
                    "true}}]}"),
        0,
        "drill.json: targets[0].catalog.per_database: needs "
        "\"databases\" on the target (the names or globs to "
        "drill)");
    cfg = ok_text(target(", \"databases\": [\"tenant_*\"], \"sample\": {\"databases\": 2}"), 0);
    ck_assert_int_eq(cfg->targets[0].engine, RD_ENGINE_PG);
    ck_assert_int_eq(cfg->targets[0].sample.databases, 2);
    rd_config_free(cfg);
}
END_TEST

START_TEST(test_mariadb_defaults_and_values)
{
    const char *text =
        "{\"version\": 1, \"name\": \"q\", \"seed\": 1234, \"parallel\": 3,"
        " \"output\": {\"dir\": \"/r\", \"html\": null, \"junit\": \"j.xml\"},"
        " \"notify\": {\"webhook\": \"https://h.example/x\", \"on\": \"always\", \"timeout\": 5},"
        " \"targets\": [{\"name\": \"billing\", \"engine\": \"mysql\","
        "  \"objectives\": {\"rto\": \"2h\", \"rpo\": 90},"
        "  \"catalog\": {\"type\": \"exec\", \"command\": \"/bin/list\", \"timeout\": \"2m\"},"
        "  \"sample\": {\"strategy\": \"id\", \"id\": \"b-1\", \"max_age\": \"26h\"},"
        "  \"scratch\": {\"type\": \"server\", \"admin_dsn\": \"mariadb://root@h/x\","
        "   \"password_env\": \"ADMIN_PW\", \"prefix\": \"rdx_\", \"allow_same_server\": true},"
        "  \"restore\": {\"jobs\": 4, \"split_buffer_mb\": 32, \"defer_indexes\": true, "
        "\"roles\": \"strict\", "
        "\"decrypt\": [\"gpg\", \"-d\"]},"
        "  \"verify_parallel\": 3,"
        "  \"reference\": {\"manifest\": \"sidecar\", \"dsn\": \"host=r\"},"
        "  \"timeouts\": {\"restore\": \"3h\", \"provision\": \"1m\", \"verify\": \"1d\"},"
        "  \"checks\": [{\"type\": \"rowcount\", \"name\": \"rows\", \"timeout\": \"90s\"},"
        "              {\"type\": \"sql\", \"query\": \"select 1\"}]}]}";
    rd_config *cfg = ok(text, NODRV);
    ck_assert_str_eq(cfg->name, "q");
    ck_assert_int_eq(cfg->has_seed, 1);
    ck_assert_uint_eq(cfg->seed, 1234);
    ck_assert_int_eq(cfg->parallel, 3);
    ck_assert_int_eq(cfg->targets[0].verify_parallel, 3);
    ck_assert_str_eq(cfg->output.dir, "/r");
    ck_assert_ptr_null(cfg->output.html);
    ck_assert_str_eq(cfg->output.junit, "j.xml");
    ck_assert_str_eq(cfg->output.json, "drill.json");
    ck_assert_str_eq(cfg->notify.webhook, "https://h.example/x");
    ck_assert_str_eq(cfg->notify.on, "always");
    ck_assert(cfg->notify.timeout == 5);
    const rd_target_cfg *t = &cfg->targets[0];
    ck_assert_int_eq(t->engine, RD_ENGINE_MARIADB);
    ck_assert(t->rto == 7200 && t->rpo == 90);
    ck_assert_str_eq(t->catalog.type, "exec");
    ck_assert_uint_eq(t->catalog.command.n, 1);
    ck_assert_str_eq(t->catalog.command.items[0], "/bin/list");
    ck_assert(t->catalog.timeout == 120);
    ck_assert_str_eq(t->sample.strategy, "id");
    ck_assert_str_eq(t->sample.id, "b-1");
    ck_assert(t->sample.max_age == 26 * 3600);
    ck_assert_str_eq(t->scratch.type, "server");
    ck_assert_ptr_null(t->scratch.run_as);
    ck_assert_str_eq(t->scratch.admin_dsn, "mariadb://root@h/x");
    ck_assert_str_eq(t->scratch.password_env, "ADMIN_PW");
    ck_assert_str_eq(t->scratch.prefix, "rdx_");
    ck_assert_int_eq(t->scratch.allow_same_server, 1);
    ck_assert(t->scratch.timeout == 60 && t->timeout_provision == 60);
    ck_assert_int_eq(t->restore.jobs, 4);
    ck_assert_int_eq(t->restore.split_buffer_mb, 32);
    ck_assert_int_eq(t->restore.defer_indexes, 1);
    ck_assert_str_eq(t->restore.roles, "strict");
    ck_assert(t->restore.timeout == 3 * 3600);
    ck_assert_uint_eq(t->restore.decrypt.n, 2);
    ck_assert_str_eq(t->restore.decrypt.items[1], "-d");
    ck_assert_str_eq(t->reference.manifest, "sidecar");
    ck_assert_str_eq(t->reference.dsn, "host=r");
    ck_assert_uint_eq(t->databases.n, 0);
    ck_assert(t->timeout_verify == 86400 && t->timeout_sample == 300);
    ck_assert_int_eq(t->checks_given, 1);
    ck_assert_uint_eq(t->nchecks, 2);
    ck_assert_str_eq(t->checks[0].type, "rowcount");
    ck_assert_str_eq(t->checks[0].name, "rows");
    ck_assert_str_eq(t->checks[0].path, "targets[0].checks[0]");
    ck_assert(t->checks[0].timeout == 90);
    ck_assert_ptr_null(t->checks[0].ct);
    ck_assert_ptr_null(t->checks[1].name);
    ck_assert(t->checks[1].timeout == 3600);
    ck_assert_str_eq(cJSON_GetObjectItem(t->checks[1].params, "query")->valuestring, "select 1");
    rd_config_free(cfg);
}
END_TEST

START_TEST(test_example_files)
{
    const char *files[] = {"fixtures/examples/full.jsonc", "fixtures/examples/minimal.json",
                           "fixtures/examples/tenants.jsonc"};
    unsetenv("DRILL_WEBHOOK_URL");
    unsetenv("BACKUP_DIR");
    for (size_t i = 0; i < 3; i++) {
        FILE *f = fopen(files[i], "r");
        ck_assert_msg(f != NULL, "run the unit tests from the repository root");
        static char buf[65536];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        rd_config *cfg = ok(buf, NODRV);
        if (i == 0) {
            ck_assert_str_eq(cfg->name, "quarterly-dr-drill");
            ck_assert_uint_eq(cfg->ntargets, 2);
            ck_assert_ptr_null(cfg->notify.webhook); /* ${DRILL_WEBHOOK_URL:-} unset */
            ck_assert_str_eq(cfg->targets[0].catalog.path, "/backups/orders");
            ck_assert(cfg->targets[0].sample.window == 30 * 86400);
            ck_assert_uint_eq(cfg->targets[0].nchecks, 3);
            ck_assert_int_eq(cfg->targets[1].checks_given, 1);
            ck_assert_uint_eq(cfg->targets[1].nchecks, 0);
        } else if (i == 1) {
            ck_assert_str_eq(cfg->targets[0].name, "orders");
        } else {
            ck_assert_str_eq(cfg->targets[0].name, "tenants");
            ck_assert_uint_eq(cfg->targets[0].databases.n, 2);
            ck_assert_int_eq(cfg->targets[0].sample.databases, 5);
        }
        rd_config_free(cfg);
    }
}
END_TEST

START_TEST(test_comments_and_urls)
{
    const char *text = "// leading comment\n"
                       "{ /* block */ \"version\": 1, // trailing\n"
                       "  \"notify\": {\"webhook\": \"https://hooks.example.com//a/*b*/?x=//y\"},\n"
                       "  \"output\": {\"dir\": \"/tmp/a // b\"},\n"
                       "  \"targets\": [{\"name\": \"orders\", \"engine\": \"postgres\",\n"
                       "    \"catalog\": {\"type\": \"dir\", \"path\": \"/b\\\"//x\"}}]}\n";
    rd_config *cfg = ok(text, NODRV);
    ck_assert_str_eq(cfg->notify.webhook, "https://hooks.example.com//a/*b*/?x=//y");
    ck_assert_str_eq(cfg->output.dir, "/tmp/a // b");
    ck_assert_str_eq(cfg->targets[0].catalog.path, "/b\"//x");
    rd_config_free(cfg);
}
END_TEST

START_TEST(test_invalid_json)
{
    /* minify would glue these into valid JSON: refused */
    ck_assert_str_eq(error_of("{\"version\": 1,\n \"parallel\": 1 2}", NODRV),
                     "drill.json: line 2, column 16: invalid JSON near \"2}\"");
    ck_assert_str_eq(error_of("{\"version\": 1, \"x\": tr // c\nue}", NODRV),
                     "drill.json: line 2, column 1: invalid JSON near \"ue}\"");
    ck_assert_str_eq(error_of("// c\n{\n  \"version\": 1,\n  /* x */ \"targets\": [,]\n}", NODRV),
                     "drill.json: line 4, column 23: invalid JSON near \",]\"");
    ck_assert_str_eq(error_of("{\"version\": 1", NODRV),
                     "drill.json: line 1, column 14: invalid JSON (unexpected end)");
    ck_assert_str_eq(error_of("  // nothing\n", NODRV),
                     "drill.json: empty file, expected a JSON object");
    ck_assert_str_eq(error_of("[1]", NODRV), "drill.json: expected a JSON object at the top level");
}
END_TEST

START_TEST(test_unknown_keys)
{
    ASSERT_TOP_ERR("\"sampel\": 1,", NODRV,
                   "drill.json: sampel: unknown key (expected one of: version, name, seed, "
                   "parallel, output, notify, targets, controls)");
    ASSERT_TARGET_ERR(
        ", \"sampel\": {}", NODRV,
        "drill.json: targets[0].sampel: unknown key, did you mean \"sample\"? (expected one "
        "of: name, engine, objectives, catalog, sample, scratch, restore, reference, databases, "
        "timeouts, checks, controls, keep_scratch, keep_scratch_ttl, negative_control, key, "
        "recovery, database, verify_parallel)");
    ASSERT_TARGET_ERR(", \"sample\": {\"strategy\": \"random\", \"windw\": \"1d\"}", NODRV,
                      "drill.json: targets[0].sample.windw: unknown key, did you mean \"window\"? "
                      "(expected one of: strategy, window, max_age, id, time, databases)");
    ASSERT_TARGET_ERR(", \"objectives\": {\"rto\": 5, \"RPO\": 6}", NODRV,
                      "drill.json: targets[0].objectives.RPO: unknown key, did you mean \"rpo\"? "
                      "(expected one of: rto, rpo)");
    ASSERT_TOP_ERR("\"output\": {\"xml\": \"a\"},", NODRV,
                   "drill.json: output.xml: unknown key (expected one of: dir, junit, json, html, "
                   "prometheus, history, sign)");
    /* keys depend on the type */
    ASSERT_TARGET_ERR(", \"scratch\": {\"type\": \"ephemeral\", \"admin_dsn\": \"x\"}", NODRV,
                      "drill.json: targets[0].scratch.admin_dsn: unknown key (expected one of: "
                      "type, run_as, tcp, bin_dir, base_dir, timeout, template)");
    ASSERT_TARGET_ERR(", \"timeouts\": {\"fetch\": 1, \"fetch\": 2}", NODRV,
                      "drill.json: targets[0].timeouts.fetch: duplicate key");
}
END_TEST

START_TEST(test_wrong_types)
{
    ASSERT_TARGET_ERR(", \"verify_parallel\": 0", NODRV,
                      "drill.json: targets[0].verify_parallel: expected an integer from 1 to 64, "
                      "got 0");
    ASSERT_TARGET_ERR(", \"verify_parallel\": \"all\"", NODRV,
                      "drill.json: targets[0].verify_parallel: expected an integer from 1 to 64, "
                      "got \"all\"");
    ASSERT_TOP_ERR("\"parallel\": \"two\",", NODRV,
                   "drill.json: parallel: expected an integer from 1 to 64, got \"two\"");
    ASSERT_TOP_ERR("\"parallel\": 2.5,", NODRV,
                   "drill.json: parallel: expected an integer from 1 to 64, got 2.5");
    ASSERT_TOP_ERR("\"parallel\": 65,", NODRV,
                   "drill.json: parallel: expected an integer from 1 to 64, got 65");
    ASSERT_TOP_ERR("\"name\": [],", NODRV, "drill.json: name: expected a string, got []");
    ASSERT_TOP_ERR("\"output\": {\"junit\": 5},", NODRV,
                   "drill.json: output.junit: expected a file name or null, got 5");
    ASSERT_TOP_ERR("\"notify\": {\"on\": \"sometimes\"},", NODRV,
                   "drill.json: notify.on: expected one of \"failure\", \"always\", \"never\", got "
                   "\"sometimes\"");
    ASSERT_TOP_ERR("\"notify\": [],", NODRV, "drill.json: notify: expected an object, got []");
    ASSERT_TOP_ERR("\"seed\": -1,", NODRV,
                   "drill.json: seed: expected an integer from 0 to 2^53 (or a string of digits "
                   "up to 2^64-1), got -1");
    ASSERT_TARGET_ERR(", \"scratch\": {\"tcp\": \"yes\"}", NODRV,
                      "drill.json: targets[0].scratch.tcp: expected true or false, got \"yes\"");
    ASSERT_TARGET_ERR(", \"restore\": {\"defer_indexes\": \"on\"}", NODRV,
                      "drill.json: targets[0].restore.defer_indexes: expected true or false, got "
                      "\"on\"");
    ASSERT_TARGET_ERR(", \"scratch\": {\"template\": 0}", NODRV,
                      "drill.json: targets[0].scratch.template: expected true or false, got 0");
    ASSERT_TARGET_ERR(", \"scratch\": {\"type\": \"server\", \"admin_dsn\": \"x\", "
                      "\"template\": false}",
                      NODRV,
                      "drill.json: targets[0].scratch.template: unknown key (expected one of: "
                      "type, admin_dsn, password_env, prefix, allow_same_server, timeout)");
    ASSERT_TARGET_ERR(", \"restore\": {\"decrypt\": [\"gpg\", 5]}", NODRV,
                      "drill.json: targets[0].restore.decrypt[1]: expected a string, got 5");
    ASSERT_TARGET_ERR(", \"databases\": {}", NODRV,
                      "drill.json: targets[0].databases: expected a string or an array of "
                      "strings, got {}");
    ASSERT_TARGET_ERR(", \"checks\": {}", NODRV,
                      "drill.json: targets[0].checks: expected an array of checks, got {}");
    ASSERT_TARGET_ERR(", \"checks\": [{\"type\": \"rowcount\"}, 7]", NODRV,
                      "drill.json: targets[0].checks[1]: expected an object, got 7");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [\"orders\"]}", NODRV),
                     "drill.json: targets[0]: expected an object, got \"orders\"");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": []}", NODRV),
                     "drill.json: targets: expected an array of one or more targets, got []");
    ck_assert_str_eq(error_of("{\"version\": 2, \"targets\": []}", NODRV),
                     "drill.json: version: expected 1, got 2");
    ck_assert_str_eq(error_of("{\"version\": \"1.0\", \"targets\": []}", NODRV),
                     "drill.json: version: expected 1, got \"1.0\"");
}
END_TEST

START_TEST(test_durations)
{
    ASSERT_TARGET_ERR(", \"objectives\": {\"rto\": \"soon\"}", NODRV,
                      "drill.json: targets[0].objectives.rto: expected a duration like \"90s\", "
                      "\"15m\", \"2h\" or \"1d\", got \"soon\"");
    ASSERT_TARGET_ERR(", \"sample\": {\"window\": -5}", NODRV,
                      "drill.json: targets[0].sample.window: expected a duration like \"90s\", "
                      "\"15m\", \"2h\" or \"1d\", got -5");
    ASSERT_TARGET_ERR(", \"timeouts\": {\"verify\": true}", NODRV,
                      "drill.json: targets[0].timeouts.verify: expected a duration like \"90s\", "
                      "\"15m\", \"2h\" or \"1d\", got true");
    ASSERT_TARGET_ERR(", \"checks\": [{\"type\": \"sql\", \"timeout\": \"\"}]", NODRV,
                      "drill.json: targets[0].checks[0].timeout: expected a duration like "
                      "\"90s\", \"15m\", \"2h\" or \"1d\", got \"\"");
    char *t = target(", \"objectives\": {\"rto\": \"1.5h\", \"rpo\": \"250ms\"}");
    rd_config *cfg = ok(t, NODRV);
    free(t);
    ck_assert(cfg->targets[0].rto == 5400);
    ck_assert(cfg->targets[0].rpo == 0.25);
    rd_config_free(cfg);
}
END_TEST

START_TEST(test_required_keys)
{
    /* every error of the document, one per line */
    ck_assert_str_eq(error_of("{\"targets\": []}", NODRV),
                     "drill.json: version: required key is missing\n"
                     "drill.json: targets: expected an array of one or more targets, got []");
    ck_assert_str_eq(error_of("{\"version\": 1}", NODRV),
                     "drill.json: targets: required key is missing");
    ck_assert_str_eq(
        error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"catalog\": {}}]}", NODRV),
        "drill.json: targets[0].engine: required key is missing\n"
        "drill.json: targets[0].catalog.type: required key is missing");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [{\"engine\": \"pg\"}]}", NODRV),
                     "drill.json: targets[0].name: required key is missing\n"
                     "drill.json: targets[0].catalog: required key is missing");
    ck_assert_str_eq(
        error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": \"pg\"}]}", NODRV),
        "drill.json: targets[0].catalog: required key is missing");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": "
                              "\"pg\", \"catalog\": {\"path\": \"/x\"}}]}",
                              NODRV),
                     "drill.json: targets[0].catalog.type: required key is missing");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": "
                              "\"pg\", \"catalog\": {\"type\": \"dir\"}}]}",
                              NODRV),
                     "drill.json: targets[0].catalog.path: required key is missing");
    ASSERT_TARGET_ERR(", \"checks\": [{\"type\": \"sql\"}, {\"name\": \"x\"}]", NODRV,
                      "drill.json: targets[0].checks[1].type: required key is missing");
    ASSERT_TARGET_ERR(", \"scratch\": {\"type\": \"server\"}", NODRV,
                      "drill.json: targets[0].scratch.admin_dsn: required key is missing");
    ASSERT_TARGET_ERR(", \"scratch\": {\"type\": \"exec\", \"create\": [\"c\"]}", NODRV,
                      "drill.json: targets[0].scratch.destroy: required key is missing");
    ASSERT_TARGET_ERR(", \"sample\": {\"strategy\": \"id\"}", NODRV,
                      "drill.json: targets[0].sample.id: required key is missing (strategy "
                      "\"id\")");
}
END_TEST

/* An unknown key, a bad duration and a bad check parameter are all named in
 * one error, in document order, the check's (second pass) last. */
START_TEST(test_every_error_named)
{
    const char *text =
        "{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": \"postgres\",\n"
        " \"sampel\": {},\n"
        " \"objectives\": {\"rto\": \"soon\"},\n"
        " \"catalog\": {\"type\": \"dir\", \"path\": \"/b\"},\n"
        " \"checks\": [{\"type\": \"rowcount\"}, {\"type\": \"integrity\"},\n"
        "   {\"type\": \"sql\", \"query\": \"SELECT 1\", \"expect\": \"lots\"}]}]}";
    ck_assert_str_eq(
        error_of(text, 0),
        "drill.json: targets[0].sampel: unknown key, did you mean \"sample\"? (expected one of: "
        "name, engine, objectives, catalog, sample, scratch, restore, reference, databases, "
        "timeouts, checks, controls, keep_scratch, keep_scratch_ttl, negative_control, key, "
        "recovery, database, verify_parallel)\n"
        "drill.json: targets[0].objectives.rto: expected a duration like \"90s\", \"15m\", "
        "\"2h\" or \"1d\", got \"soon\"\n"
        "drill.json: targets[0].checks[2].expect: expected an operator and a value like "
        "\">= 100\", got \"lots\"");
}
END_TEST

/* More errors than fit: the first ones, then a count of the rest. */
START_TEST(test_many_errors_counted)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    rd_strbuf_append(&sb, "{\"version\": 1, \"targets\": [", NULL);
    for (int i = 0; i < 40; i++)
        rd_strbuf_appendf(&sb, NULL,
                          "%s{\"name\": \"t%d\", \"engine\": \"postgres\", "
                          "\"catalog\": {\"type\": \"dir\", \"path\": \"/b\"}, \"oops\": 1}",
                          i ? ", " : "", i);
    rd_strbuf_append(&sb, "]}", NULL);
    const char *msg = error_of(sb.data, NODRV);
    ck_assert_msg(strncmp(msg, "drill.json: targets[0].oops: unknown key", 40) == 0, "%s", msg);
    const char *last = strrchr(msg, '\n');
    ck_assert_ptr_nonnull(last);
    ck_assert_msg(strstr(last, "more errors") != NULL, "%s", last);
    ck_assert_msg(strlen(msg) < RD_ERROR_MSG_MAX, "message overflow");
    rd_strbuf_free(&sb);
}
END_TEST

START_TEST(test_values_and_names)
{
    ck_assert_str_eq(
        error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": \"oracle\"}]}",
                 NODRV),
        "drill.json: targets[0].engine: expected \"postgres\", \"mariadb\", \"dynamodb\" or "
        "\"s3\", got \"oracle\"\n"
        "drill.json: targets[0].catalog: required key is missing");
    ck_assert_str_eq(
        error_of("{\"version\": 1, \"targets\": [{\"name\": \"a b\", \"engine\": \"pg\"}]}", NODRV),
        "drill.json: targets[0].name: expected up to 63 letters, digits, \"_\", \"-\" or \".\", "
        "got \"a b\""
        "\n"
        "drill.json: targets[0].catalog: required key is missing");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": "
                              "\"pg\", \"catalog\": {\"type\": \"ftp\"}}]}",
                              NODRV),
                     "drill.json: targets[0].catalog.type: expected one of \"dir\", \"s3\", "
                     "\"exec\", \"pg-archive\", \"pgbackrest\", \"dynamodb-export\", "
                     "\"mariabackup\", \"s3-objects\", got \"ftp\"");
    ASSERT_TARGET_ERR(", \"scratch\": {\"type\": \"docker\"}", NODRV,
                      "drill.json: targets[0].scratch.type: expected one of \"ephemeral\", "
                      "\"server\", \"exec\", got \"docker\"");
    ASSERT_TARGET_ERR(", \"checks\": [{\"type\": \"rowcount\"}, {\"type\": \"bogus\"}]", NODRV,
                      "drill.json: targets[0].checks[1].type: expected one of \"rowcount\", "
                      "\"integrity\", \"checksum\", \"diff\", \"schema\", \"sql\", \"freshness\", "
                      "\"smoke\", \"exec\", \"page_checksums\", got \"bogus\"");
    ASSERT_TARGET_ERR(", \"checks\": [{\"type\": \"sql\", \"name\": \"q\"}, {\"type\": \"sql\", "
                      "\"name\": \"q\"}]",
                      NODRV,
                      "drill.json: targets[0].checks[1].name: duplicate check name \"q\" (also "
                      "checks[0])");
    ASSERT_TARGET_ERR(", \"scratch\": {\"type\": \"server\", \"admin_dsn\": \"x\", \"prefix\": "
                      "\"\"}",
                      NODRV,
                      "drill.json: targets[0].scratch.prefix: expected up to 32 lowercase letters, "
                      "digits and \"_\" (not starting with a digit), got \"\"");
    ASSERT_TARGET_ERR(", \"reference\": {\"password_env\": \"MY-PW\"}", NODRV,
                      "drill.json: targets[0].reference.password_env: expected an environment "
                      "variable name, got \"MY-PW\"");
    ASSERT_TARGET_ERR(", \"sample\": {\"strategy\": \"latest\", \"id\": \"x\"}", NODRV,
                      "drill.json: targets[0].sample.id: only used with strategy \"id\"");
    ASSERT_TARGET_ERR(", \"sample\": {\"strategy\": \"pitr-random\"}", NODRV,
                      "drill.json: targets[0].sample.strategy: \"pitr-random\" needs a catalog "
                      "with a WAL or binlog archive (\"pg-archive\", \"pgbackrest\" or "
                      "\"mariabackup\"), not \"dir\"");
    ASSERT_TARGET_ERR(", \"sample\": {\"strategy\": \"pitr\"}", NODRV,
                      "drill.json: targets[0].sample.time: required key is missing (strategy "
                      "\"pitr\": an RFC 3339 time such as \"2026-01-30T15:00:00Z\", or "
                      "\"latest\")");
    ASSERT_TARGET_ERR(", \"sample\": {\"strategy\": \"latest\", \"time\": \"latest\"}", NODRV,
                      "drill.json: targets[0].sample.time: only used with strategy \"pitr\"");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": "
                              "\"pg\", \"catalog\": {\"type\": \"pg-archive\", \"base_dir\": "
                              "\"/b\", \"wal_dir\": \"/w\"}, \"sample\": {\"strategy\": "
                              "\"pitr\", \"time\": \"2026-01-30 15:00\"}}]}",
                              NODRV),
                     "drill.json: targets[0].sample.time: expected an RFC 3339 time with a zone "
                     "such as \"2026-01-30T15:00:00Z\" or \"2026-01-30T16:00:00.250+01:00\", or "
                     "\"latest\", got \"2026-01-30 15:00\"");
    ck_assert_str_eq(error_of("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": "
                              "\"pg\", \"catalog\": {\"type\": \"pg-archive\", \"base_dir\": "
                              "\"/b\"}}]}",
                              NODRV),
                     "drill.json: targets[0].catalog.wal_dir: required key is missing");
    ASSERT_TARGET_ERR(", \"restore\": {\"timeout\": \"1h\"}, \"timeouts\": {\"restore\": \"2h\"}",
                      NODRV,
                      "drill.json: targets[0].timeouts.restore: conflicts with "
                      "targets[0].restore.timeout (give one of them)");
    ASSERT_TOP_ERR("\"notify\": {\"webhook\": \"ftp://secret-token@x\"},", NODRV,
                   "drill.json: notify.webhook: expected an http:// or https:// URL, got a value "
                   "that is not shown (secret)");
}
END_TEST

START_TEST(test_duplicate_targets)
{
    const char *text = "{\"version\": 1, \"targets\": ["
                       "{\"name\": \"a\", \"engine\": \"pg\", \"catalog\": {\"type\": \"dir\", "
                       "\"path\": \"/a\"}},"
                       "{\"name\": \"b\", \"engine\": \"pg\", \"catalog\": {\"type\": \"dir\", "
                       "\"path\": \"/b\"}},"
                       "{\"name\": \"a\", \"engine\": \"mariadb\", \"catalog\": {\"type\": "
                       "\"dir\", \"path\": \"/c\"}}]}";
    ck_assert_str_eq(error_of(text, NODRV),
                     "drill.json: targets[2].name: duplicate target name \"a\" (also targets[0])");
}
END_TEST

START_TEST(test_env_expansion)
{
    setenv("RD_T_DIR", "/srv/backups", 1);
    setenv("RD_T_EMPTY", "", 1);
    unsetenv("RD_T_UNSET");
    unsetenv("DRILL_WEBHOOK_URL");
    char *t = mtarget(", \"databases\": [\"${RD_T_UNSET:-app}_*\", \"$${RD_T_DIR}\", "
                      "\"${RD_T_EMPTY:-dflt}\", \"x${RD_T_EMPTY}y\", \"a$b\"]");
    rd_config *cfg = ok(t, NODRV);
    free(t);
    const rd_strlist *d = &cfg->targets[0].databases;
    ck_assert_uint_eq(d->n, 5);
    ck_assert_str_eq(d->items[0], "app_*");
    ck_assert_str_eq(d->items[1], "$${RD_T_DIR}");
    ck_assert_str_eq(d->items[2], "dflt");
    ck_assert_str_eq(d->items[3], "xy");
    ck_assert_str_eq(d->items[4], "a$b");
    rd_config_free(cfg);
    t = target(", \"reference\": {\"manifest\": \"${RD_T_DIR}/m.json\"}");
    cfg = ok(t, NODRV);
    free(t);
    ck_assert_str_eq(cfg->targets[0].reference.manifest, "/srv/backups/m.json");
    rd_config_free(cfg);

    ASSERT_TOP_ERR("\"notify\": {\"webhook\": \"${DRILL_WEBHOOK_URL}\"},", NODRV,
                   "drill.json: notify.webhook: environment variable DRILL_WEBHOOK_URL is not "
                   "set");
    ASSERT_TARGET_ERR(", \"databases\": [\"a\", \"${RD_T_UNSET}\"]", NODRV,
                      "drill.json: targets[0].databases[1]: environment variable RD_T_UNSET is "
                      "not set");
    ASSERT_TARGET_ERR(", \"databases\": [\"${RD-T}\"]", NODRV,
                      "drill.json: targets[0].databases[0]: expected ${NAME} or "
                      "${NAME:-default}, got \"${RD-T}\"");
    ASSERT_TARGET_ERR(", \"databases\": [\"${RD_T_DIR\"]", NODRV,
                      "drill.json: targets[0].databases[0]: expected ${NAME} or "
                      "${NAME:-default}, got \"${RD_T_DIR\"");
}
END_TEST

START_TEST(test_env_values_never_echoed)
{
    setenv("RD_T_PAR", "two", 1);
    setenv("RD_T_SECRET", "hunter2-token", 1);
    setenv("RD_T_FOUR", "4", 1);
    ASSERT_TOP_ERR("\"parallel\": \"${RD_T_PAR}\",", NODRV,
                   "drill.json: parallel: expected an integer from 1 to 64, got a value from "
                   "the environment");
    ASSERT_TARGET_ERR(", \"objectives\": {\"rto\": \"${RD_T_SECRET}\"}", NODRV,
                      "drill.json: targets[0].objectives.rto: expected a duration like \"90s\", "
                      "\"15m\", \"2h\" or \"1d\", got a value from the environment");
    ASSERT_TARGET_ERR(
        ", \"sample\": {\"strategy\": \"x${RD_T_SECRET:-a}\"}", NODRV,
        "drill.json: targets[0].sample.strategy: expected one of \"latest\", "
        "\"random\", \"oldest\", \"id\", \"pitr-random\", \"pitr\", \"least-verified\", got a "
        "value from the "
        "environment");
    ck_assert_ptr_null(strstr(errmsg, "hunter2"));
    /* integers and booleans from the environment arrive as strings */
    char *t = top(
        "\"parallel\": \"${RD_T_FOUR}\", \"seed\": \"${RD_T_UNSET_SEED:-18446744073709551615}\",");
    rd_config *cfg = ok(t, NODRV);
    free(t);
    ck_assert_int_eq(cfg->parallel, 4);
    ck_assert_uint_eq(cfg->seed, UINT64_MAX);
    rd_config_free(cfg);
}
END_TEST

START_TEST(test_checks_presence)
{
    char *t = target(", \"checks\": []");
    rd_config *cfg = ok(t, NODRV);
    free(t);
    ck_assert_int_eq(cfg->targets[0].checks_given, 1);
    ck_assert_uint_eq(cfg->targets[0].nchecks, 0);
    rd_config_free(cfg);
}
END_TEST

/* The first contract type without a driver, or NULL when all have one. */
static const char *missing_catalog(void)
{
    static const char *const types[] = {"s3", "pgbackrest", "pg-archive", "exec", "dir", NULL};
    for (size_t i = 0; types[i]; i++)
        if (!rd_catalog_find(types[i]))
            return types[i];
    return NULL;
}

START_TEST(test_driver_not_implemented)
{
    const char *ty = missing_catalog();
    if (ty) {
        const char *keys = strcmp(ty, "s3") == 0           ? "\"bucket\": \"b\""
                           : strcmp(ty, "pgbackrest") == 0 ? "\"stanza\": \"s\""
                           : strcmp(ty, "exec") == 0       ? "\"command\": [\"x\"]"
                                                           : "\"path\": \"/p\"";
        char *text = rd_asprintf("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": "
                                 "\"pg\", \"catalog\": {\"type\": \"%s\", %s}}]}",
                                 ty, keys);
        char want[256];
        snprintf(want, sizeof want,
                 "drill.json: targets[0].catalog.type: catalog type \"%s\" is not implemented yet",
                 ty);
        ck_assert_str_eq(error_of(text, 0), want);
        /* the same file without driver lookups loads */
        rd_config *cfg = ok(text, NODRV);
        rd_config_free(cfg);
        free(text);
    } else {
        fprintf(stderr, "note: every catalog type has a driver; not-implemented case skipped\n");
    }
    if (!rd_catalog_find("dir"))
        return;
    /* scratch: the catalog is fine, so the scratch lookup decides */
    static const char *const scratch[] = {"exec", "server", "ephemeral", NULL};
    for (size_t i = 0; scratch[i]; i++) {
        if (rd_scratch_find(scratch[i]))
            continue;
        const char *body = strcmp(scratch[i], "exec") == 0 ? "\"create\": \"c\", \"destroy\": \"d\""
                           : strcmp(scratch[i], "server") == 0 ? "\"admin_dsn\": \"host=x\""
                                                               : "\"tcp\": false";
        char *extra = rd_asprintf(", \"scratch\": {\"type\": \"%s\", %s}", scratch[i], body);
        char want[256];
        snprintf(want, sizeof want,
                 "drill.json: targets[0].scratch.type: scratch type \"%s\" is not implemented yet",
                 scratch[i]);
        ASSERT_TARGET_ERR(extra, 0, want);
        free(extra);
        break;
    }
}
END_TEST

START_TEST(test_check_drivers)
{
    const rd_scratch_type *eph = rd_scratch_find("ephemeral");
    if (!rd_catalog_find("dir") || !eph || !(eph->engines & RD_ENGINE_PG)) {
        fprintf(stderr, "note: no dir catalog or ephemeral scratch yet; check lookups skipped\n");
        return;
    }
    static const char *const types[] = {"rowcount", "integrity", "checksum", "diff", "schema",
                                        "sql",      "freshness", "smoke",    "exec", NULL};
    int tested_missing = 0, tested_present = 0;
    for (size_t i = 0; types[i]; i++) {
        const rd_check_type *ct = rd_check_find(types[i]);
        char *extra = rd_asprintf(", \"checks\": [{\"type\": \"%s\", \"bogus_key\": 1}]", types[i]);
        char *text = target(extra);
        rd_config *cfg = parse(text, 0);
        ck_assert_ptr_null(cfg);
        if (!ct && !tested_missing) {
            char want[256];
            snprintf(want, sizeof want,
                     "drill.json: targets[0].checks[0].type: check type \"%s\" is not implemented "
                     "yet",
                     types[i]);
            ck_assert_str_eq(errmsg, want);
            tested_missing = 1;
        } else if (ct && (ct->engines & RD_ENGINE_PG)) {
            /* the check's own configure refuses the key; the file name is prefixed */
            const char *want = "drill.json: targets[0].checks[0].bogus_key: unknown key";
            ck_assert_msg(strncmp(errmsg, want, strlen(want)) == 0, "got: %s", errmsg);
            tested_present = 1;
        }
        free(text);
        free(extra);
    }
    ck_assert(tested_missing || tested_present);
}
END_TEST

START_TEST(test_load_file)
{
    rd_config *cfg = NULL;
    rd_error err;
    rd_error_clear(&err);
    ck_assert_int_eq(rd_config_load("/nonexistent/drill.json", &rd_drill_drivers, &cfg, &err),
                     RD_ERR_IO);
    ck_assert_str_eq(err.msg, "cannot read /nonexistent/drill.json: No such file or directory");
    ck_assert_ptr_null(cfg);

    char path[] = "/tmp/rd_cfg_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"version\": 1, \"targets\": [{\"name\": \"a\", \"engine\": \"pg\",\n \"catalog\": "
          "{\"type\": \"dir\", \"path\": \"/a\", \"pattren\": \"*\"}}]}",
          f);
    fclose(f);
    ck_assert_int_eq(rd_config_load(path, &rd_drill_drivers, &cfg, &err), RD_ERR_CONFIG);
    char want[256];
    snprintf(want, sizeof want,
             "%s: targets[0].catalog.pattren: unknown key, did you mean \"pattern\"? (expected one "
             "of: type, path, pattern, time_from, per_database, endpoint, region, path_style)",
             path);
    ck_assert_str_eq(err.msg, want);
    unlink(path);
}
END_TEST

START_TEST(test_expand_env_direct)
{
    char *out = NULL;
    rd_error err;
    setenv("RD_T_A", "alpha", 1);
    unsetenv("RD_T_NONE");
    ck_assert_int_eq(rd_config_expand_env("x${RD_T_A}y$${RD_T_A}$", &out, &err), RD_OK);
    ck_assert_str_eq(out, "xalphay$${RD_T_A}$");
    free(out);
    ck_assert_int_eq(rd_config_expand_env("${RD_T_NONE:-d e f}", &out, &err), RD_OK);
    ck_assert_str_eq(out, "d e f");
    free(out);
    ck_assert_int_eq(rd_config_expand_env("", &out, &err), RD_OK);
    ck_assert_str_eq(out, "");
    free(out);
    out = NULL;
    ck_assert_int_eq(rd_config_expand_env("a ${RD_T_NONE} b", &out, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "environment variable RD_T_NONE is not set");
    ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_helpers)
{
    ck_assert_str_eq(rd_engine_name(RD_ENGINE_PG), "postgres");
    ck_assert_str_eq(rd_engine_name(RD_ENGINE_MARIADB), "mariadb");
    ck_assert_int_eq(rd_engine_parse("postgresql"), RD_ENGINE_PG);
    ck_assert_int_eq(rd_engine_parse("pg"), RD_ENGINE_PG);
    ck_assert_int_eq(rd_engine_parse("mysql"), RD_ENGINE_MARIADB);
    ck_assert_int_eq(rd_engine_parse("Postgres"), 0);
    ck_assert_int_eq(rd_engine_parse(NULL), 0);

    cJSON *o = cJSON_Parse("{\"env\": {\"A\": \"1\", \"B\": \"x=y\"}, \"bad\": {\"C\": 3}, "
                           "\"argv\": [\"a\", \"b\"], \"n\": 7}");
    rd_strlist l = {NULL, 0};
    rd_error err;
    ck_assert_int_eq(rd_cfg_strmap(o, "targets[0].app", "env", &l, &err), RD_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.items[0], "A=1");
    ck_assert_str_eq(l.items[1], "B=x=y");
    ck_assert_int_eq(rd_cfg_strmap(o, "targets[0].app", "bad", &l, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "targets[0].app.bad.C: expected a string, got 3");
    ck_assert_uint_eq(l.n, 2); /* untouched on error */
    ck_assert_int_eq(rd_cfg_strlist(o, "", "argv", 0, &l, &err), RD_OK);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_str_eq(l.items[1], "b");
    const char **argv = rd_strlist_argv(&l);
    ck_assert_str_eq(argv[0], "a");
    ck_assert_ptr_null(argv[2]);
    free(argv);
    ck_assert_int_eq(rd_cfg_strlist(o, "", "n", 0, &l, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "n: expected an array of strings, got 7");
    rd_strlist_free(&l);
    ck_assert_uint_eq(l.n, 0);
    rd_strlist_free(&l);

    long long v = 5;
    ck_assert_int_eq(rd_cfg_int(o, "x", "absent", 0, 9, &v, &err), RD_OK);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(rd_cfg_int(o, "x", "n", 0, 6, &v, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "x.n: expected an integer from 0 to 6, got 7");
    char *s = NULL;
    ck_assert_int_eq(rd_cfg_string(o, "x", "gone", 1, &s, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "x.gone: required key is missing");
    char got[96];
    cJSON *long_s = cJSON_CreateString("0123456789012345678901234567890123456789012345678901234567"
                                       "89abcdef");
    ck_assert_str_eq(rd_cfg_got(long_s, got, sizeof got),
                     "\"012345678901234567890123456789012345678901234567890123456789...\"");
    ck_assert_int_eq(rd_cfg_from_env(long_s), 0);
    cJSON_Delete(long_s);
    ck_assert_str_eq(rd_cfg_got(NULL, got, sizeof got), "nothing");
    cJSON_Delete(o);
}
END_TEST

Suite *config_suite(void);
Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_scratch_template);
    tcase_add_test(tc, test_mariadb_defaults_and_values);
    tcase_add_test(tc, test_example_files);
    tcase_add_test(tc, test_comments_and_urls);
    tcase_add_test(tc, test_invalid_json);
    tcase_add_test(tc, test_unknown_keys);
    tcase_add_test(tc, test_wrong_types);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_required_keys);
    tcase_add_test(tc, test_values_and_names);
    tcase_add_test(tc, test_every_error_named);
    tcase_add_test(tc, test_many_errors_counted);
    tcase_add_test(tc, test_duplicate_targets);
    tcase_add_test(tc, test_env_expansion);
    tcase_add_test(tc, test_env_values_never_echoed);
    tcase_add_test(tc, test_checks_presence);
    tcase_add_test(tc, test_driver_not_implemented);
    tcase_add_test(tc, test_databases);
    tcase_add_test(tc, test_check_drivers);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_expand_env_direct);
    tcase_add_test(tc, test_helpers);
    suite_add_tcase(s, tc);
    return s;
}
