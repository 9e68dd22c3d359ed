/* pg_logical.c: restore pg_dump output into a PostgreSQL scratch instance:
 * pg_restore for custom and directory formats (-j when the archive is a
 * seekable file or a directory; a custom archive coming through a decoder or
 * a decrypt filter is fed on stdin, no temp copy), psql for plain SQL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore_int.h"
#include "restoredrill/fs.h"

#define PG_PLAIN_TRAILER "-- PostgreSQL database dump complete"

static int pg_accepts(rd_format f)
{
    return f == RD_FMT_PG_CUSTOM || f == RD_FMT_PG_DIRECTORY || f == RD_FMT_PG_PLAIN;
}

static rd_status push(rd_strlist *l, const char *s, rd_error *err)
{
    return rd_strlist_push(l, s, err);
}

static rd_status push_extra(rd_strlist *l, const rd_restore_cfg *cfg, rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; i < cfg->extra_args.n && st == RD_OK; i++)
        st = push(l, cfg->extra_args.items[i], err);
    return st;
}

static int pg_jobs(const rd_restore_cfg *cfg)
{
    if (cfg->jobs > 0)
        return cfg->jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Run argv (a strlist) as `tool` through rd_restore_exec. */
static rd_status exec_list(const char *tool, const rd_strlist *argv, const rd_strlist *env,
                           rd_artifact *stream, const char *trailer, rd_restore_line_fn filter,
                           void *ud, rd_strbuf *capture, double deadline, rd_restore_outcome *out,
                           rd_error *err)
{
    const char **av = rd_strlist_argv(argv);
    const char **ev = rd_strlist_argv(env);
    rd_status st;
    if (!av || !ev) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    rd_restore_job job = {.tool = tool,
                          .argv = av,
                          .env = ev,
                          .stream = stream,
                          .trailer = trailer,
                          .filter = filter,
                          /* long lines (COPY rows) stream past the roles filter */
                          .long_line = filter == rd_pg_roles_filter ? rd_pg_roles_long : NULL,
                          .filter_ud = ud,
                          .capture = capture,
                          .deadline = deadline};
    st = rd_restore_exec(&job, out, err);
out:
    free(av);
    free(ev);
    return st;
}

static rd_status tool_argv(rd_strlist *l, const char *name, rd_error *err)
{
    char *path = rd_restore_tool_path(name);
    rd_status st = path ? push(l, path, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(path);
    return st;
}

/* roles=create for an archive: list the roles from the schema SQL
 * (`pg_restore -s -f -`), then create the missing ones with psql. */
static rd_status create_archive_roles(const rd_restore_cfg *cfg, rd_artifact *a, int seekable,
                                      const rd_strlist *env, double deadline, rd_pg_roles *roles,
                                      rd_restore_outcome *out, rd_error *err)
{
    rd_strlist argv = {0};
    rd_strbuf sql, script;
    rd_artifact *again = NULL;
    rd_restore_outcome scan;
    rd_status st;
    rd_strbuf_init(&sql, 0);
    rd_strbuf_init(&script, 0);
    rd_restore_outcome_init(&scan);
    st = tool_argv(&argv, "pg_restore", err);
    if (st == RD_OK)
        st = push(&argv, "--schema-only", err);
    if (st == RD_OK)
        st = push(&argv, "--file=-", err);
    if (st == RD_OK && seekable)
        st = push(&argv, rd_artifact_path(a), err);
    if (st == RD_OK && !seekable) {
        const char **dec = cfg->decrypt.n ? rd_strlist_argv(&cfg->decrypt) : NULL;
        rd_artifact_opts o = {
            .expected_sha256 = NULL, .decrypt = dec, .progress_total = 0, .deadline = deadline};
        st = rd_artifact_open(rd_artifact_path(a), &o, &again, err);
        free(dec);
    }
    if (st == RD_OK)
        st = exec_list("pg_restore", &argv, env, again, NULL, NULL, NULL, &sql, deadline, &scan,
                       err);
    if (st == RD_OK)
        st = rd_pg_roles_scan(roles, sql.data, err);
    if (st == RD_OK && roles->seen.n) {
        st = rd_pg_roles_create_sql(roles, &script, err);
        rd_strlist_free(&argv);
        if (st == RD_OK)
            st = tool_argv(&argv, "psql", err);
        const char *const fixed[] = {"-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", script.data, NULL};
        for (size_t i = 0; fixed[i] && st == RD_OK; i++)
            st = push(&argv, fixed[i], err);
        if (st == RD_OK) {
            rd_restore_outcome_free(&scan);
            rd_restore_outcome_init(&scan);
            st = exec_list("psql", &argv, env, NULL, NULL, NULL, NULL, NULL, deadline, &scan, err);
        }
    }
    if (st != RD_OK) {
        rd_error_prefix(err, "creating the roles the dump references: ");
        (void)rd_strbuf_append(&out->log, scan.log.data, NULL);
    }
    rd_artifact_free(again);
    rd_restore_outcome_free(&scan);
    rd_strbuf_free(&sql);
    rd_strbuf_free(&script);
    rd_strlist_free(&argv);
    return st;
}

/* pg_restore reads a local archive file itself (seekable: -j works);
 * anything decoded or decrypted on the way comes through its stdin, and
 * plain SQL always goes through psql's stdin. */
static int pg_reads_path(const rd_restore_cfg *cfg, const rd_artifact *a)
{
    if (rd_artifact_format(a) == RD_FMT_PG_PLAIN)
        return 0;
    return rd_artifact_is_dir(a) || (rd_artifact_wrap(a) == RD_WRAP_NONE && cfg->decrypt.n == 0 &&
                                     rd_fs_exists(rd_artifact_path(a)));
}

static rd_status run_archive(const rd_restore_cfg *cfg, rd_artifact *a, const rd_scratch *s,
                             rd_pg_roles *roles, const rd_strlist *env, double deadline,
                             rd_restore_outcome *out, rd_error *err)
{
    rd_strlist argv = {0};
    char jobs[32];
    int seekable = pg_reads_path(cfg, a);
    int nj = seekable ? pg_jobs(cfg) : 1;
    rd_status st = RD_OK;

    if (roles->mode == RD_PG_ROLES_CREATE) {
        st = create_archive_roles(cfg, a, seekable, env, deadline, roles, out, err);
        if (st != RD_OK)
            goto out;
    }
    st = tool_argv(&argv, "pg_restore", err);
    if (st == RD_OK)
        st = push(&argv, "--exit-on-error", err);
    if (st == RD_OK && roles->mode == RD_PG_ROLES_NO_OWNER)
        st = push(&argv, "--no-owner", err);
    if (st == RD_OK && roles->mode == RD_PG_ROLES_NO_OWNER)
        st = push(&argv, "--no-acl", err);
    if (st == RD_OK && nj > 1) {
        snprintf(jobs, sizeof(jobs), "--jobs=%d", nj);
        st = push(&argv, jobs, err);
    }
    if (st == RD_OK)
        st = push(&argv, "--dbname", err);
    if (st == RD_OK)
        st = push(&argv, s->conn.database ? s->conn.database : "postgres", err);
    if (st == RD_OK)
        st = push_extra(&argv, cfg, err);
    if (st == RD_OK && seekable)
        st = push(&argv, rd_artifact_path(a), err);
    if (st == RD_OK)
        st = exec_list("pg_restore", &argv, env, seekable ? NULL : a, NULL, NULL, NULL, NULL,
                       deadline, out, err);
out:
    rd_strlist_free(&argv);
    return st;
}

static rd_status run_plain(const rd_restore_cfg *cfg, rd_artifact *a, const rd_scratch *s,
                           rd_pg_roles *roles, const rd_strlist *env, double deadline,
                           rd_restore_outcome *out, rd_error *err)
{
    rd_strlist argv = {0};
    rd_status st = tool_argv(&argv, "psql", err);
    const char *const fixed[] = {"-X", "-q", "-v", "ON_ERROR_STOP=1", "--dbname", NULL};
    for (size_t i = 0; fixed[i] && st == RD_OK; i++)
        st = push(&argv, fixed[i], err);
    if (st == RD_OK)
        st = push(&argv, s->conn.database ? s->conn.database : "postgres", err);
    if (st == RD_OK)
        st = push_extra(&argv, cfg, err);
    if (st == RD_OK)
        st = exec_list("psql", &argv, env, a, PG_PLAIN_TRAILER,
                       roles->mode == RD_PG_ROLES_STRICT ? NULL : rd_pg_roles_filter, roles, NULL,
                       deadline, out, err);
    rd_strlist_free(&argv);
    return st;
}

static rd_status pg_chunk(void *ud, const char *buf, size_t n, int final, rd_strbuf *emit,
                          rd_error *err)
{
    return rd_section_feed(ud, buf, n, final, emit, err);
}

/* Chosen databases of a pg_dumpall dump: psql on the instance's postgres
 * database; the section filter passes the globals and the chosen sections
 * (each creates its database and \connects to it), the globals filter
 * deals with roles. */
static rd_status run_cluster(const rd_restore_cfg *cfg, rd_artifact *a, const rd_scratch *s,
                             const rd_strlist *databases, rd_pg_roles *roles, const rd_strlist *env,
                             double deadline, rd_restore_outcome *out, rd_error *err)
{
    rd_strlist argv = {0};
    const char **av = NULL, **ev = NULL;
    rd_section_filter sections;
    rd_pgda_lines globals = {.roles = roles, .scratch_user = s->conn.user, .in_sections = 0};
    rd_db_rename rename;
    int renamed = s->db_to.n > 0; /* a shared server: each database under its scratch name */
    rd_section_init(&sections, &rd_section_pgdumpall, databases);
    rd_db_rename_init(&rename, s, 1, &sections);
    rd_status st = tool_argv(&argv, "psql", err);
    /* the instance's postgres database; on a shared server the scratch's own */
    const char *const fixed[] = {
        "-X",       "-q",
        "-v",       "ON_ERROR_STOP=1",
        "--dbname", renamed && s->conn.database ? s->conn.database : "postgres",
        NULL};
    for (size_t i = 0; fixed[i] && st == RD_OK; i++)
        st = push(&argv, fixed[i], err);
    if (st == RD_OK)
        st = push_extra(&argv, cfg, err);
    if (st == RD_OK && (!(av = rd_strlist_argv(&argv)) || !(ev = rd_strlist_argv(env))))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK) {
        rd_restore_job job = {.tool = "psql",
                              .argv = av,
                              .env = ev,
                              .stream = a,
                              .trailer = rd_section_pgdumpall.trailer,
                              .filter = rd_pgda_lines_filter,
                              .long_line = rd_pgda_lines_long,
                              .filter_ud = &globals,
                              /* the sections, then each database under its scratch name */
                              .chunk_filter = renamed ? rd_db_rename_feed : pg_chunk,
                              .chunk_ud = renamed ? (void *)&rename : (void *)&sections,
                              .deadline = deadline};
        st = rd_restore_exec(&job, out, err);
        st = rd_section_verdict(&sections, databases, st, err);
        for (size_t i = 0; i < sections.seen.n; i++)
            if (rd_strlist_push(&out->databases_seen, sections.seen.items[i], NULL) != RD_OK)
                break;
    }
    free(av);
    free(ev);
    rd_db_rename_free(&rename);
    rd_section_free(&sections);
    rd_strlist_free(&argv);
    return st;
}

static rd_status pg_list(rd_artifact *a, rd_strlist *out, rd_error *err)
{
    if (rd_artifact_format(a) != RD_FMT_PG_PLAIN)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "chosen databases are restored from pg_dumpall's plain SQL, not from a %s "
                      "archive",
                      rd_format_name(rd_artifact_format(a)));
    return rd_section_list(&rd_section_pgdumpall, a, out, err);
}

static rd_status pg_run(const rd_restore_cfg *cfg, rd_artifact *a, const rd_scratch *s,
                        const rd_strlist *databases, double deadline, rd_restore_outcome *out,
                        rd_error *err)
{
    rd_strlist env = {0};
    rd_pg_roles roles;
    int mode = rd_pg_roles_mode_parse(cfg->roles);
    int plain = rd_artifact_format(a) == RD_FMT_PG_PLAIN;
    rd_status st;
    if (databases && !plain)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "chosen databases are restored from pg_dumpall's plain SQL, not from a %s "
                      "archive",
                      rd_format_name(rd_artifact_format(a)));
    if (mode < 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "restore.roles: expected one of \"no-owner\", \"create\", \"strict\", got "
                      "\"%s\"",
                      cfg->roles);
    rd_pg_roles_init(&roles, (rd_pg_roles_mode)mode);
    st = rd_restore_client_env(s, &env, err);
    if (st == RD_OK && databases)
        st = run_cluster(cfg, a, s, databases, &roles, &env, deadline, out, err);
    else if (st == RD_OK)
        st = plain ? run_plain(cfg, a, s, &roles, &env, deadline, out, err)
                   : run_archive(cfg, a, s, &roles, &env, deadline, out, err);
    free(out->roles_note);
    switch (roles.mode) {
    case RD_PG_ROLES_NO_OWNER:
        out->roles_note = rd_strdup(plain ? "ignored ownership and grants (OWNER TO, GRANT and "
                                            "REVOKE lines skipped)"
                                          : "ignored ownership and grants (--no-owner --no-acl)");
        break;
    case RD_PG_ROLES_CREATE:
        out->roles_note = rd_pg_roles_note(&roles);
        break;
    case RD_PG_ROLES_STRICT:
        out->roles_note = rd_strdup("ownership and grants restored as in the dump (strict)");
        break;
    }
    rd_pg_roles_free(&roles);
    rd_strlist_free(&env);
    return st;
}

const rd_restore_type rd_restore_pg_logical = {
    .name = "pg_logical",
    .engines = RD_ENGINE_PG,
    .accepts = pg_accepts,
    .run = pg_run,
    .reads_path = pg_reads_path,
    .list_databases = pg_list,
};
