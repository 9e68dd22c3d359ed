/* scratch.c: provisioning through the registry, the table of live instances
 * for the abort path, and template variables. The drivers: ephemeral.c
 * (with its engines ephemeral_pg.c, ephemeral_mariadb.c), server.c, exec.c;
 * their shared helpers: scratch_util.c (directories, owner files,
 * processes) and scratch_conn.c (connection info). */
#include "restoredrill/scratch.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

/* --- the table of live instances (for rd_scratch_teardown_all) --- */

/* Each entry remembers the process that provisioned it: a forked child
 * (a test, a helper) never tears down its parent's instances. */
typedef struct live_entry {
    rd_scratch *s;
    pid_t pid;
} live_entry;

static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static live_entry *live;
static size_t nlive, caplive;

static int live_add(rd_scratch *s)
{
    int ok = 1;
    pthread_mutex_lock(&live_lock);
    if (nlive == caplive) {
        size_t ncap = caplive ? caplive * 2 : 8;
        live_entry *n = realloc(live, ncap * sizeof *n);
        if (!n)
            ok = 0;
        else {
            live = n;
            caplive = ncap;
        }
    }
    if (ok) {
        live[nlive].s = s;
        live[nlive].pid = getpid();
        nlive++;
    }
    pthread_mutex_unlock(&live_lock);
    return ok;
}

static void live_remove(rd_scratch *s)
{
    pthread_mutex_lock(&live_lock);
    for (size_t i = 0; i < nlive; i++) {
        if (live[i].s == s) {
            live[i] = live[--nlive];
            break;
        }
    }
    pthread_mutex_unlock(&live_lock);
}

rd_status rd_scratch_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                               const rd_scratch_req *req, rd_scratch **out, rd_error *err)
{
    const char *name = cfg && cfg->type ? cfg->type : "ephemeral";
    const rd_scratch_type *t = rd_scratch_find_for(name, engine);
    rd_scratch *s = NULL;
    rd_status st;

    if (!t)
        return RD_ERR(err, RD_ERR_CONFIG, "unknown scratch type \"%s\"", name);
    if (!(t->engines & engine))
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "scratch type %s does not support %s", name,
                      rd_engine_name(engine));
    if (req && req->physical && !t->start_physical)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "scratch.type: a physical restore needs scratch type \"ephemeral\" (a "
                      "server of its own), not \"%s\"",
                      name);
    st = t->provision(cfg, engine, req, &s, err);
    if (st != RD_OK)
        return st;
    if (!live_add(s)) {
        rd_error ignore;
        t->teardown(s, &ignore);
        rd_scratch_destroy(s);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory registering a scratch instance");
    }
    *out = s;
    return RD_OK;
}

rd_status rd_scratch_start_physical(rd_scratch *s, const rd_scratch_start *o, rd_error *err)
{
    if (!s->type->start_physical || !s->data_dir)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "scratch type %s cannot start a server on a restored data directory",
                      s->type->name);
    return s->type->start_physical(s, o, err);
}

pid_t rd_scratch_server_pid(const rd_scratch *s)
{
    return s && s->type->server_pid ? s->type->server_pid(s) : 0;
}

rd_status rd_scratch_attach(rd_scratch *s, const char *database, const char *target,
                            double deadline, rd_error *err)
{
    if (!s->type->attach)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "scratch type %s cannot attach to a restored server",
                      s->type->name);
    return s->type->attach(s, database, target, deadline, err);
}

rd_status rd_scratch_stop_server(rd_scratch *s, rd_error *err)
{
    if (!s->type->stop_server)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "scratch type %s cannot stop its server",
                      s->type->name);
    return s->type->stop_server(s, err);
}

rd_status rd_scratch_verify_pages(rd_scratch *s, double deadline, rd_scratch_offline *out,
                                  rd_error *err)
{
    if (!s->type->verify_pages || !s->data_dir)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "scratch type %s cannot verify data files offline (a physical restore "
                      "into an ephemeral instance can)",
                      s->type->name);
    return s->type->verify_pages(s, deadline, out, err);
}

rd_status rd_scratch_teardown(rd_scratch *s, rd_error *err)
{
    if (!s || s->torn_down)
        return RD_OK;
    rd_status st = s->type->teardown(s, err);
    if (st == RD_OK) {
        s->torn_down = 1;
        live_remove(s);
    }
    return st;
}

rd_status rd_scratch_keep_until(const rd_scratch *s, int64_t until_ms, const char *reason,
                                rd_error *err)
{
    char when[RD_TIME_BUFSZ];
    rd_status st;
    if (!s->dir)
        return RD_ERR(err, RD_ERR_UNSUPPORTED,
                      "a %s scratch instance has no private directory to record a time to live",
                      s->type ? s->type->name : "scratch");
    char *path = rd_fs_join(s->dir, RD_SCRATCH_KEEP_FILE);
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (!path || !o ||
        !cJSON_AddStringToObject(o, "keep_until", rd_time_format(until_ms, when, sizeof when)) ||
        !cJSON_AddStringToObject(o, "reason", reason ? reason : "") ||
        !(text = cJSON_PrintUnformatted(o))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    st = rd_fs_write_atomic(path, text, strlen(text), 0600, err);
out:
    cJSON_free(text);
    cJSON_Delete(o);
    free(path);
    return st;
}

void rd_scratch_free(rd_scratch *s)
{
    if (!s)
        return;
    if (!s->torn_down) {
        rd_error e;
        rd_error_clear(&e);
        if (rd_scratch_teardown(s, &e) != RD_OK)
            rd_log_warn("scratch teardown failed: %s", e.msg);
    }
    live_remove(s);
    rd_scratch_destroy(s);
}

void rd_scratch_teardown_all(void)
{
    pid_t me = getpid();
    for (;;) {
        rd_scratch *s = NULL;
        pthread_mutex_lock(&live_lock);
        for (size_t i = 0; i < nlive; i++) {
            if (live[i].pid == me) {
                s = live[i].s;
                live[i] = live[--nlive];
                break;
            }
        }
        pthread_mutex_unlock(&live_lock);
        if (!s)
            break;
        if (s->torn_down)
            continue;
        rd_error e;
        rd_error_clear(&e);
        if (s->type->teardown(s, &e) == RD_OK)
            s->torn_down = 1;
        else
            rd_log_warn("scratch teardown failed: %s", e.msg);
    }
}

void rd_scratch_destroy(rd_scratch *s)
{
    if (!s)
        return;
    free(s->conn.host);
    free(s->conn.socket);
    free(s->conn.database);
    free(s->conn.user);
    free(s->conn.password);
    free(s->conn.dsn);
    free(s->conn.url);
    free(s->conn.dsn_params);
    for (size_t i = 0; s->env && s->env[i]; i++)
        free(s->env[i]);
    free(s->env);
    free(s->dir);
    free(s->server_version);
    free(s->data_dir);
    free(s->log);
    free(s->run_as);
    rd_strlist_free(&s->db_from);
    rd_strlist_free(&s->db_to);
    free(s);
}

const char *rd_scratch_db_name(const rd_scratch *s, const char *database)
{
    for (size_t i = 0; s && i < s->db_from.n && i < s->db_to.n; i++)
        if (strcmp(s->db_from.items[i], database) == 0)
            return s->db_to.items[i];
    return database;
}

/* --- templates --- */

static int is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static const char *lookup_var(const char *const *vars, const char *name, size_t n)
{
    for (size_t i = 0; vars && vars[i]; i++)
        if (strncmp(vars[i], name, n) == 0 && vars[i][n] == '=')
            return vars[i] + n + 1;
    return NULL;
}

rd_status rd_template_expand(const char *tmpl, const char *const *vars, char **out, rd_error *err)
{
    rd_strbuf sb;
    rd_status st = RD_OK;
    const char *p = tmpl;

    rd_strbuf_init(&sb, 0);
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            st = rd_strbuf_append_char(&sb, '{', err);
            p += 2;
        } else if (p[0] == '{') {
            size_t n = 0;
            while (is_name_char(p[1 + n]))
                n++;
            if (n == 0 || p[1 + n] != '}') {
                st = rd_strbuf_append_char(&sb, '{', err);
                p++;
            } else {
                const char *v = lookup_var(vars, p + 1, n);
                if (!v) {
                    st = RD_ERR(err, RD_ERR_CONFIG, "unknown template variable {%.*s}", (int)n,
                                p + 1);
                    goto out;
                }
                st = rd_strbuf_append(&sb, v, err);
                p += n + 2;
            }
        } else {
            const char *q = strchr(p, '{');
            size_t n = q ? (size_t)(q - p) : strlen(p);
            st = rd_strbuf_append_n(&sb, p, n, err);
            p += n;
        }
        if (st != RD_OK)
            goto out;
    }
    *out = rd_strbuf_detach(&sb);
    if (!*out)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
out:
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_scratch_vars(const rd_scratch *s, rd_strlist *list, rd_error *err)
{
    const rd_conninfo *c = &s->conn;
    char port[16];
    const char *host = c->host;
    rd_status st;

    snprintf(port, sizeof port, "%d", c->port);
    if (!host)
        host = c->engine == RD_ENGINE_PG ? c->socket : "localhost";
    if ((st = rd_scratch_var(list, "scratch.host", host, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.port", port, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.socket", c->socket, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.database", c->database, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.user", c->user, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.password", c->password, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.url", c->url, err)) != RD_OK ||
        (st = rd_scratch_var(list, "scratch.dsn", c->dsn, err)) != RD_OK)
        return st;
    return RD_OK;
}
