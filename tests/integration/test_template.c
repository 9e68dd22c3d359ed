/* test_template.c: ephemeral instances made from a template data directory
 * are the same, in every setting that matters, as instances initialised
 * afresh; the template is made once, under a lock, rebuilt when it no
 * longer matches, and removed by gc when its server binary changed. Each
 * test has its own run directory (and so its own templates). */
#include <check.h>
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/proc.h"
#include "restoredrill/scratch.h"
#include "restoredrill/strbuf.h"

static char rundir[256];

/* A private run directory for this test; templates go in it. */
static void fresh_rundir(void)
{
    snprintf(rundir, sizeof rundir, "/tmp/rd-tmpl-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(rundir));
    chmod(rundir, 0711);
    setenv("RESTOREDRILL_RUNDIR", rundir, 1);
    unsetenv("RESTOREDRILL_TEMPLATES");
}

static void drop_rundir(void)
{
    rd_error err;
    ck_assert_msg(rd_fs_rmtree(rundir, "/tmp", &err) == RD_OK, "%s", err.msg);
}

static int have(rd_engine e)
{
    static const char *const mdirs[] = {"/usr/sbin", "/usr/libexec", NULL};
    char *p = e == RD_ENGINE_PG ? NULL : rd_proc_which("mariadbd", mdirs);
    int ok = e == RD_ENGINE_PG ? system("ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1") == 0
                               : p != NULL;
    free(p);
    if (!ok)
        printf("skipping: no %s server binaries\n", rd_engine_name(e));
    return ok;
}

static rd_scratch *provision(rd_engine e, int no_template)
{
    rd_scratch_cfg cfg;
    rd_scratch_req req;
    rd_scratch *s = NULL;
    rd_error err;
    memset(&cfg, 0, sizeof cfg);
    memset(&req, 0, sizeof req);
    cfg.no_template = no_template;
    req.target = "tmpl";
    req.drill_id = "itest-template";
    rd_error_clear(&err);
    ck_assert_msg(rd_scratch_provision(&cfg, e, &req, &s, &err) == RD_OK, "%s", err.msg);
    return s;
}

static void teardown(rd_scratch *s)
{
    rd_error err;
    ck_assert_msg(rd_scratch_teardown(s, &err) == RD_OK, "%s", err.msg);
    rd_scratch_free(s);
}

static rd_db *connect_pw(const rd_scratch *s, const char *pw, rd_error *err)
{
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    opts.password = pw;
    opts.connect_timeout = 5;
    rd_error_clear(err);
    return rd_db_connect(s->conn.engine, s->conn.dsn, &opts, &db, err) == RD_OK ? db : NULL;
}

typedef struct rows {
    rd_strbuf sb;
    const char *dir;
} rows;

/* One "name=value" line per row, with the instance's directory written as
 * {dir} so that two instances compare. */
static int row_cb(void *ud, size_t ncols, const char *const *vals, const size_t *lens)
{
    rows *r = ud;
    (void)lens;
    for (size_t i = 0; i < ncols; i++) {
        const char *v = vals[i] ? vals[i] : "NULL";
        size_t dl = strlen(r->dir);
        for (const char *p = v; *p;) {
            if (strncmp(p, r->dir, dl) == 0) {
                rd_strbuf_append(&r->sb, "{dir}", NULL);
                p += dl;
            } else {
                rd_strbuf_append_n(&r->sb, p, 1, NULL);
                p++;
            }
        }
        rd_strbuf_append(&r->sb, i + 1 < ncols ? "=" : "\n", NULL);
    }
    return 0;
}

/* Settings, roles or users, and databases of an instance as text. */
static char *facts(const rd_scratch *s)
{
    static const char *const pg[] = {
        "SELECT name, setting FROM pg_settings ORDER BY name",
        "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, "
        "rolbypassrls, rolpassword IS NOT NULL FROM pg_authid ORDER BY rolname",
        "SELECT datname, pg_encoding_to_char(encoding), datcollate, datctype, datistemplate, "
        "datallowconn FROM pg_database ORDER BY datname",
        "SELECT extname, extversion FROM pg_extension ORDER BY extname", NULL};
    /* Global variables that differ between any two servers started one
     * after the other, whatever their data directory: */
    static const char *const my[] = {
        "SELECT variable_name, variable_value FROM information_schema.global_variables WHERE "
        "variable_name NOT IN ('PSEUDO_THREAD_ID', 'RAND_SEED1', 'RAND_SEED2', 'TIMESTAMP', "
        "'SERVER_ID', 'GTID_BINLOG_STATE') ORDER BY variable_name",
        "SELECT user, host, JSON_VALUE(priv, '$.access'), JSON_VALUE(priv, '$.plugin') FROM "
        "mysql.global_priv ORDER BY user, host",
        "SELECT schema_name, default_character_set_name, default_collation_name FROM "
        "information_schema.schemata ORDER BY schema_name",
        NULL};
    rd_error err;
    rd_db *db = connect_pw(s, s->conn.password, &err);
    ck_assert_msg(db != NULL, "%s", err.msg);
    rows r;
    rd_strbuf_init(&r.sb, 0);
    r.dir = s->dir;
    for (const char *const *q = s->conn.engine == RD_ENGINE_PG ? pg : my; *q; q++)
        ck_assert_msg(rd_db_stream(db, *q, 60, row_cb, &r, &err) == RD_OK, "%s: %s", *q, err.msg);
    rd_db_free(db);
    return rd_strbuf_detach(&r.sb);
}

/* The lines of a that b does not have (for the failure message). */
static void assert_same(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return;
    const char *p = a, *q = b;
    while (*p && *p == *q)
        p++, q++;
    while (p > a && p[-1] != '\n')
        p--;
    ck_abort_msg("template instance differs, first at: %.200s", p);
}

static int count_templates(int *tmp_left)
{
    char path[512];
    snprintf(path, sizeof path, "%s/templates", rundir);
    DIR *d = opendir(path);
    int n = 0;
    *tmp_left = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, ".tmp-", 5) == 0)
            (*tmp_left)++;
        else if (de->d_name[0] != '.' && !strstr(de->d_name, ".lock"))
            n++;
    }
    if (d)
        closedir(d);
    return n;
}

/* The spare of the template (templates/ENGINE-KEY/spare-XXXXXX): its path
 * in buf and its inode; 0 when there is none. */
static ino_t spare_of(char *buf, size_t n)
{
    char pattern[512];
    glob_t g;
    ino_t ino = 0;
    snprintf(pattern, sizeof pattern, "%s/templates/%s/spare-%s", rundir, "*", "*");
    if (glob(pattern, 0, NULL, &g) == 0) {
        struct stat sb;
        ck_assert_uint_eq(g.gl_pathc, 1); /* never more than one */
        if (stat(g.gl_pathv[0], &sb) == 0)
            ino = sb.st_ino;
        snprintf(buf, n, "%s", g.gl_pathv[0]);
        globfree(&g);
    }
    return ino;
}

static ino_t data_ino(const rd_scratch *s)
{
    char path[512];
    struct stat sb;
    snprintf(path, sizeof path, "%s/data", s->dir);
    ck_assert_int_eq(stat(path, &sb), 0);
    return sb.st_ino;
}

/* Instances initialised afresh, copied from the template, and taken from
 * the template's spare are the same; the spare is made when a template
 * instance is torn down, taken by rename (the instance's data directory is
 * the spare's inode) and made again at the next teardown; every instance
 * has its own password. */
START_TEST(template_same_as_fresh)
{
    rd_engine e = _i == 0 ? RD_ENGINE_PG : RD_ENGINE_MARIADB;
    char spare[512];
    if (!have(e))
        return;
    fresh_rundir();
    rd_scratch *fresh = provision(e, 1);
    int tmp_left;
    ck_assert_int_eq(count_templates(&tmp_left), 0); /* "template": false makes none */
    ck_assert_uint_eq(spare_of(spare, sizeof spare), 0);
    rd_scratch *a = provision(e, 0); /* makes the template */
    char *f0 = facts(fresh), *f1 = facts(a);
    teardown(a); /* makes a spare */
    ck_assert_int_eq(count_templates(&tmp_left), 1);
    ck_assert_int_eq(tmp_left, 0);
    ino_t ino = spare_of(spare, sizeof spare);
    ck_assert_uint_ne(ino, 0);
    rd_scratch *b = provision(e, 0); /* takes the spare */
    ck_assert_uint_eq(data_ino(b), ino);
    ck_assert_int_ne(access(spare, F_OK), 0);
    rd_scratch *c = provision(e, 0); /* a copy: spares are made at teardown */
    ck_assert_uint_eq(spare_of(spare, sizeof spare), 0);
    ck_assert_uint_ne(data_ino(c), ino);
    char *f2 = facts(b), *f3 = facts(c);
    assert_same(f0, f1);
    assert_same(f0, f2);
    assert_same(f0, f3);
    /* each instance has its own password: c's does not open b */
    ck_assert_str_ne(b->conn.password, c->conn.password);
    rd_error err;
    ck_assert_ptr_null(connect_pw(b, c->conn.password, &err));
    ck_assert_int_eq(err.code, RD_ERR_CONNECT);
    free(f0);
    free(f1);
    free(f2);
    free(f3);
    teardown(fresh);
    teardown(b);
    teardown(c);
    ck_assert_uint_ne(spare_of(spare, sizeof spare), 0); /* one spare left, ready */
    drop_rundir();
}
END_TEST

/* A PostgreSQL template holds the scratch database ready: an instance whose
 * scratch database is postgres drops it, one whose database is the
 * template's own name keeps it; the databases are those of an instance
 * initialised afresh. */
START_TEST(template_pg_database)
{
    static const char *const names[] = {"postgres", "restoredrill", "shop"};
    if (!have(RD_ENGINE_PG))
        return;
    fresh_rundir();
    for (int i = 0; i < 3; i++) {
        rd_scratch_cfg cfg;
        rd_scratch_req req;
        rd_scratch *s[2] = {NULL, NULL};
        rd_error err;
        char *dbs[2];
        for (int t = 0; t < 2; t++) {
            memset(&cfg, 0, sizeof cfg);
            memset(&req, 0, sizeof req);
            cfg.no_template = t;
            req.target = "tmpl";
            req.database = names[i];
            ck_assert_msg(rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s[t], &err) == RD_OK,
                          "%s", err.msg);
            ck_assert_str_eq(s[t]->conn.database, names[i]);
            rd_db *db = connect_pw(s[t], s[t]->conn.password, &err);
            ck_assert_msg(db != NULL, "%s", err.msg);
            ck_assert_int_eq(rd_db_scalar(db,
                                          "SELECT string_agg(datname || ':' || "
                                          "pg_get_userbyid(datdba), ',' ORDER BY datname) "
                                          "FROM pg_database",
                                          30, &dbs[t], NULL, &err),
                             RD_OK);
            rd_db_free(db);
        }
        ck_assert_str_eq(dbs[0], dbs[1]);
        if (i == 0)
            ck_assert_str_eq(dbs[0], "postgres:restoredrill,template0:restoredrill,"
                                     "template1:restoredrill");
        free(dbs[0]);
        free(dbs[1]);
        teardown(s[0]);
        teardown(s[1]);
    }
    drop_rundir();
}
END_TEST

/* A template that no longer matches (here: its recorded init flags) is
 * rebuilt, not used. */
START_TEST(template_rebuilt_when_it_does_not_match)
{
    if (!have(RD_ENGINE_PG))
        return;
    fresh_rundir();
    teardown(provision(RD_ENGINE_PG, 0));
    char cmd[1024], spare[512];
    ck_assert_uint_ne(spare_of(spare, sizeof spare), 0);
    snprintf(cmd, sizeof cmd,
             "sed -i 's/--data-checksums/--no-checksums/' %s/templates/postgres-*/template.json",
             rundir);
    ck_assert_int_eq(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "grep -q no-checksums %s/templates/postgres-*/template.json", rundir);
    ck_assert_int_eq(system(cmd), 0);
    rd_scratch *s = provision(RD_ENGINE_PG, 0);
    ck_assert_int_ne(system(cmd), 0);         /* rebuilt with the real flags */
    ck_assert_int_ne(access(spare, F_OK), 0); /* the old template's spare went with it */
    rd_error err;
    rd_db *db = connect_pw(s, s->conn.password, &err);
    ck_assert_msg(db != NULL, "%s", err.msg);
    char *v = NULL;
    ck_assert_int_eq(rd_db_scalar(db, "SHOW data_checksums", 30, &v, NULL, &err), RD_OK);
    ck_assert_str_eq(v, "on");
    free(v);
    rd_db_free(db);
    teardown(s);
    drop_rundir();
}
END_TEST

/* Several processes provisioning at once with no template yet: all succeed
 * and one template is made. */
START_TEST(template_concurrent_first_use)
{
    if (!have(RD_ENGINE_PG))
        return;
    fresh_rundir();
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            rd_scratch_cfg cfg;
            rd_scratch_req req;
            rd_scratch *s = NULL;
            rd_error err;
            memset(&cfg, 0, sizeof cfg);
            memset(&req, 0, sizeof req);
            req.target = "race";
            if (rd_scratch_provision(&cfg, RD_ENGINE_PG, &req, &s, &err) != RD_OK) {
                fprintf(stderr, "child: %s\n", err.msg);
                _exit(1);
            }
            _exit(rd_scratch_teardown(s, &err) == RD_OK ? 0 : 2);
        }
    }
    for (int i = 0; i < 3; i++) {
        int status = 0;
        ck_assert_int_eq(waitpid(kids[i], &status, 0), kids[i]);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d: status %d", i,
                      status);
    }
    int tmp_left;
    ck_assert_int_eq(count_templates(&tmp_left), 1);
    ck_assert_int_eq(tmp_left, 0);
    drop_rundir();
}
END_TEST

static void collect(void *ud, const char *what)
{
    rd_strbuf_appendf(ud, NULL, "%s\n", what);
}

/* gc removes a template whose server binary is gone or whose init flags are
 * another build's, and keeps a valid one. */
START_TEST(template_gc)
{
    if (!have(RD_ENGINE_PG))
        return;
    fresh_rundir();
    teardown(provision(RD_ENGINE_PG, 0));
    char stale[512], cmd[4096];
    snprintf(stale, sizeof stale, "%s/templates/postgres-0000000000000000", rundir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/data && echo '{\"format\":1,\"engine\":\"postgres\",\"binary\":"
             "\"/nonexistent/postgres\",\"binary_size\":1,\"binary_mtime_ns\":1}' > "
             "%s/template.json",
             stale, stale);
    ck_assert_int_eq(system(cmd), 0);
    /* the valid template's identity with the init flags of an earlier build */
    char old[512];
    snprintf(old, sizeof old, "%s/templates/postgres-1111111111111111", rundir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s/data && for f in %s/templates/postgres-*/template.json; do "
             "[ \"$f\" = %s/template.json ] || jq '.init_flags = \"--old\"' \"$f\" "
             "> %s/template.json; done",
             old, rundir, stale, old);
    ck_assert_int_eq(system(cmd), 0);
    int tmp_left;
    ck_assert_int_eq(count_templates(&tmp_left), 3);
    const rd_scratch_type *t = rd_scratch_find("ephemeral");
    rd_strbuf out;
    rd_strbuf_init(&out, 0);
    rd_error err;
    ck_assert_int_eq(t->gc(NULL, RD_ENGINE_PG, 0, 1, collect, &out, &err), RD_OK);
    char want[1024];
    /* one line each, in directory order */
    char want2[1024];
    snprintf(want, sizeof want,
             "would remove template %s (its server binary /nonexistent/postgres is gone)\n", stale);
    snprintf(want2, sizeof want2,
             "would remove template %s (made with other init flags, by another restoredrill)\n",
             old);
    ck_assert_ptr_nonnull(out.data);
    ck_assert_ptr_nonnull(strstr(out.data, want));
    ck_assert_ptr_nonnull(strstr(out.data, want2));
    ck_assert_uint_eq(strlen(out.data), strlen(want) + strlen(want2));
    ck_assert_int_eq(count_templates(&tmp_left), 3); /* dry run */
    rd_strbuf_reset(&out);
    ck_assert_int_eq(t->gc(NULL, RD_ENGINE_PG, 0, 0, collect, &out, &err), RD_OK);
    snprintf(want, sizeof want,
             "removed template %s (its server binary /nonexistent/postgres is gone)\n", stale);
    snprintf(want2, sizeof want2,
             "removed template %s (made with other init flags, by another restoredrill)\n", old);
    ck_assert_ptr_nonnull(out.data);
    ck_assert_ptr_nonnull(strstr(out.data, want));
    ck_assert_ptr_nonnull(strstr(out.data, want2));
    ck_assert_uint_eq(strlen(out.data), strlen(want) + strlen(want2));
    ck_assert_int_eq(count_templates(&tmp_left), 1);
    rd_strbuf_free(&out);
    drop_rundir();
}
END_TEST

Suite *template_suite(void);
Suite *template_suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("template");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, template_same_as_fresh, 0, 2);
    tcase_add_test(tc, template_pg_database);
    tcase_add_test(tc, template_rebuilt_when_it_does_not_match);
    tcase_add_test(tc, template_concurrent_first_use);
    tcase_add_test(tc, template_gc);
    suite_add_tcase(s, tc);
    return s;
}
