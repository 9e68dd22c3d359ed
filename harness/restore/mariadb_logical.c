/* mariadb_logical.c: restore mariadb-dump / mysqldump SQL into a MariaDB
 * scratch instance with the mariadb client, the SQL on its stdin. The client
 * stops at the first error (no --force); the password travels in MYSQL_PWD,
 * never on the command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restore_int.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define MARIADB_TRAILER "-- Dump completed"

static int my_accepts(rd_format f)
{
    return f == RD_FMT_MARIADB_SQL;
}

static rd_status push_opt(rd_strlist *l, const char *name, const char *value, rd_error *err)
{
    char *s = rd_asprintf("--%s=%s", name, value);
    rd_status st = s ? rd_strlist_push(l, s, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(s);
    return st;
}

static rd_status my_argv(const rd_restore_cfg *cfg, const rd_scratch *s, rd_strlist *l,
                         rd_error *err)
{
    const rd_conninfo *c = &s->conn;
    char port[16];
    char *tool = rd_restore_tool_path("mariadb");
    rd_status st =
        tool ? rd_strlist_push(l, tool, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(tool);
    /* --no-defaults must come first: no option file may redirect the restore */
    const char *const fixed[] = {"--no-defaults", "--batch", "--silent",
                                 "--default-character-set=utf8mb4", NULL};
    for (size_t i = 0; fixed[i] && st == RD_OK; i++)
        st = rd_strlist_push(l, fixed[i], err);
    if (st == RD_OK && c->socket)
        st = push_opt(l, "socket", c->socket, err);
    else if (st == RD_OK) {
        st = push_opt(l, "host", c->host ? c->host : "127.0.0.1", err);
        if (st == RD_OK && c->port > 0) {
            snprintf(port, sizeof(port), "%d", c->port);
            st = push_opt(l, "port", port, err);
        }
        if (st == RD_OK)
            st = push_opt(l, "protocol", "TCP", err);
    }
    if (st == RD_OK && c->user)
        st = push_opt(l, "user", c->user, err);
    if (st == RD_OK && c->database)
        st = push_opt(l, "database", c->database, err);
    for (size_t i = 0; i < cfg->extra_args.n && st == RD_OK; i++)
        st = rd_strlist_push(l, cfg->extra_args.items[i], err);
    return st;
}

static rd_status my_chunk(void *ud, const char *buf, size_t n, int final, rd_strbuf *emit,
                          rd_error *err)
{
    return rd_section_feed(ud, buf, n, final, emit, err);
}

static rd_status my_list(rd_artifact *a, rd_strlist *out, rd_error *err)
{
    return rd_section_list(&rd_section_mariadb, a, out, err);
}

/* Connections for a split restore: restore.jobs, else one per core. */
static int my_connections(const rd_restore_cfg *cfg)
{
    if (cfg->jobs > 0)
        return cfg->jobs;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 1 ? (int)n : 1;
}

/* Bytes read ahead of the clients: restore.split_buffer_mb, else an eighth
 * of the memory available, within 16 MiB .. 512 MiB (enough to read past a
 * few large tables; more buys no parallelism). */
static size_t my_buffer(const rd_restore_cfg *cfg)
{
    const size_t mib = 1024 * 1024;
    if (cfg->split_buffer_mb > 0)
        return (size_t)cfg->split_buffer_mb * mib;
    unsigned long long avail = 0;
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %llu kB", &avail) == 1)
            break;
    if (f)
        fclose(f);
    size_t b = (size_t)(avail * 1024 / 8);
    return b < 16 * mib ? 16 * mib : b > 512 * mib ? 512 * mib : b;
}

static rd_status my_run(const rd_restore_cfg *cfg, rd_artifact *a, const rd_scratch *s,
                        const rd_strlist *databases, double deadline, rd_restore_outcome *out,
                        rd_error *err)
{
    rd_strlist argv = {0}, env = {0};
    const char **av = NULL, **ev = NULL;
    rd_section_filter sections;
    rd_db_rename rename;
    rd_section_init(&sections, &rd_section_mariadb, databases);
    rd_db_rename_init(&rename, s, 0, &sections);
    rd_status st = my_argv(cfg, s, &argv, err);
    if (st == RD_OK)
        st = rd_restore_client_env(s, &env, err);
    if (st != RD_OK)
        goto out;
    av = rd_strlist_argv(&argv);
    ev = rd_strlist_argv(&env);
    if (!av || !ev) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    /* restore.defer_indexes needs the split's view of the table sections:
     * with one connection the split runs too (sections on one client) */
    if (!databases && (my_connections(cfg) > 1 || cfg->defer_indexes)) {
        char *note = NULL;
        st = rd_mdb_fanout(av, ev, a, my_connections(cfg), my_buffer(cfg), cfg->defer_indexes,
                           deadline, out, &note, err);
        free(out->split_note);
        out->split_note = note;
        goto done;
    }
    if (cfg->defer_indexes)
        rd_log_warn("restore.defer_indexes does not apply to chosen databases of a cluster-wide "
                    "dump: they restore as dumped");
    rd_restore_job job = {.tool = "mariadb",
                          .argv = av,
                          .env = ev,
                          .stream = a,
                          .trailer = MARIADB_TRAILER,
                          /* the sections, each database under its scratch name */
                          .chunk_filter = !databases   ? NULL
                                          : s->db_to.n ? rd_db_rename_feed
                                                       : my_chunk,
                          .chunk_ud = s->db_to.n ? (void *)&rename : (void *)&sections,
                          .deadline = deadline};
    st = rd_restore_exec(&job, out, err);
    if (databases)
        st = rd_section_verdict(&sections, databases, st, err);
    for (size_t i = 0; databases && i < sections.seen.n; i++)
        if (rd_strlist_push(&out->databases_seen, sections.seen.items[i], NULL) != RD_OK)
            break;
done:
    free(out->roles_note);
    out->roles_note = rd_strdup("definers kept as in the dump");
out:
    rd_db_rename_free(&rename);
    rd_section_free(&sections);
    free(av);
    free(ev);
    rd_strlist_free(&argv);
    rd_strlist_free(&env);
    return st;
}

const rd_restore_type rd_restore_mariadb_logical = {
    .name = "mariadb_logical",
    .engines = RD_ENGINE_MARIADB,
    .accepts = my_accepts,
    .run = my_run,
    .list_databases = my_list,
};
