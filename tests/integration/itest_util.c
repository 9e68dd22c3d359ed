/* itest_util.c: one shared ephemeral instance per engine and per test
 * process, started lazily through the project's own scratch code and torn
 * down at exit only by the process that started it (forked Check children
 * inherit the pointer but never tear it down). */
#include "itest_util.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/prng.h"
#include "restoredrill/strbuf.h"

typedef struct shared {
    rd_scratch *s;
    pid_t owner;
    int tried;
} shared;

static shared instances[3]; /* indexed by rd_engine (1, 2) */
static int atexit_done;

static void teardown_shared(void)
{
    for (size_t i = 0; i < sizeof instances / sizeof instances[0]; i++) {
        if (instances[i].s && instances[i].owner == getpid()) {
            rd_scratch_free(instances[i].s);
            instances[i].s = NULL;
        }
    }
}

const rd_scratch *rd_itest_server(rd_engine engine)
{
    shared *sh;
    rd_scratch_cfg cfg;
    rd_scratch_req req;
    rd_error err;

    if (engine != RD_ENGINE_PG && engine != RD_ENGINE_MARIADB)
        return NULL;
    sh = &instances[engine];
    if (sh->tried)
        return sh->s;
    sh->tried = 1;
    memset(&cfg, 0, sizeof cfg);
    memset(&req, 0, sizeof req);
    rd_error_clear(&err);
    req.drill_id = "itest";
    req.target = "itest";
    if (rd_scratch_provision(&cfg, engine, &req, &sh->s, &err) != RD_OK) {
        sh->s = NULL;
        if (err.code == RD_ERR_NOTFOUND)
            printf("skipping %s tests: %s\n", rd_engine_name(engine), err.msg);
        else
            fprintf(stderr, "itest: cannot start an ephemeral %s server: %s\n",
                    rd_engine_name(engine), err.msg);
        return NULL;
    }
    sh->owner = getpid();
    if (!atexit_done) {
        atexit_done = 1;
        atexit(teardown_shared);
    }
    return sh->s;
}

static rd_db *connect_dsn(rd_engine engine, const rd_scratch *s, const char *dsn)
{
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    rd_error err;

    opts.password = s->conn.password;
    rd_error_clear(&err);
    if (rd_db_connect(engine, dsn, &opts, &db, &err) != RD_OK) {
        fprintf(stderr, "itest: cannot connect to the %s instance: %s\n", rd_engine_name(engine),
                err.msg);
        return NULL;
    }
    return db;
}

rd_db *rd_itest_connect(rd_engine engine)
{
    const rd_scratch *s = rd_itest_server(engine);
    return s ? connect_dsn(engine, s, s->conn.dsn) : NULL;
}

rd_db *rd_itest_fresh_db(rd_engine engine, char *name_out)
{
    static unsigned counter;
    const rd_scratch *s = rd_itest_server(engine);
    rd_db *admin = NULL, *db = NULL;
    rd_strbuf sql;
    rd_error err;
    char suffix[9];
    char *dsn = NULL;

    name_out[0] = '\0';
    if (!s || !(admin = connect_dsn(engine, s, s->conn.dsn)))
        return NULL;
    rd_strbuf_init(&sql, 0);
    rd_error_clear(&err);
    rd_random_token(suffix, 8);
    snprintf(name_out, 64, "itest_%u_%d_%s", ++counter, (int)getpid(), suffix);
    if (rd_strbuf_append(&sql, "CREATE DATABASE ", &err) != RD_OK ||
        rd_db_quote_ident(admin, name_out, &sql, &err) != RD_OK ||
        rd_db_exec(admin, sql.data, 60, NULL, &err) != RD_OK ||
        rd_scratch_dsn_for(s, name_out, &dsn, &err) != RD_OK) {
        fprintf(stderr, "itest: cannot create database %s: %s\n", name_out, err.msg);
        goto out;
    }
    db = connect_dsn(engine, s, dsn);
out:
    free(dsn);
    rd_strbuf_free(&sql);
    rd_db_free(admin);
    return db;
}

void rd_itest_exec(rd_db *db, const char *sql)
{
    rd_error err = {0};
    rd_status st = rd_db_exec(db, sql, 60, NULL, &err);
    ck_assert_msg(st == RD_OK, "%s: %s", sql, err.msg);
}
