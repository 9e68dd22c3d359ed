/* exec.c: the `exec` scratch driver: user commands make and remove the
 * instance (e.g. an RDS instance restored from a snapshot). `create` prints
 * JSON {host, port, socket, database, user, password, dsn?} on stdout;
 * `destroy` runs at teardown. Both are template-expanded. A created
 * instance is recorded with its expanded destroy command until its
 * teardown (exec_gc.c), so that `gc` can remove it if the drill dies. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/db.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define OUT_MAX (1024 * 1024)

typedef struct exec_priv {
    rd_strlist vars;    /* tvars + target.name */
    rd_strlist destroy; /* unexpanded argv */
    double timeout;
    char *record; /* <rundir>/exec-XXXXXX for gc (exec_gc.c), or NULL */
} exec_priv;

static void priv_free(exec_priv *p)
{
    if (!p)
        return;
    rd_strlist_free(&p->vars);
    rd_strlist_free(&p->destroy);
    free(p->record);
    free(p);
}

static void flatten(rd_strbuf *b, size_t keep)
{
    rd_strbuf_keep_tail(b, keep);
    while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == ' '))
        b->data[--b->len] = '\0';
    for (char *c = b->data; *c; c++)
        if (*c == '\n')
            *c = ' ';
}

/* Expand argv templates with vars into argv. */
static rd_status expand(const char *what, const rd_strlist *tmpl, const rd_strlist *vars,
                        rd_strlist *argv, rd_error *err)
{
    const char **vv = rd_strlist_argv(vars);
    rd_status st = RD_OK;
    if (!vv)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; st == RD_OK && i < tmpl->n; i++) {
        char *x = NULL;
        if ((st = rd_template_expand(tmpl->items[i], vv, &x, err)) != RD_OK) {
            rd_error_prefix(err, "scratch.%s[%zu]: ", what, i);
            break;
        }
        st = rd_strlist_push(argv, x, err);
        free(x);
    }
    free(vv);
    return st;
}

/* Expand argv templates with vars and run; stdout into out (may be NULL). */
static rd_status run_cmd(const char *what, const rd_strlist *tmpl, const rd_strlist *vars,
                         double timeout, rd_strbuf *out, rd_error *err)
{
    rd_strlist argv = {0};
    const char **av = NULL;
    rd_proc_spec spec = {0};
    rd_strbuf errb, outb;
    int code = 0;
    rd_status st = RD_OK;

    rd_strbuf_init(&errb, 0);
    rd_strbuf_init(&outb, OUT_MAX);
    if ((st = expand(what, tmpl, vars, &argv, err)) != RD_OK)
        goto out;
    if (!(av = rd_strlist_argv(&argv))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    spec.argv = av;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    st = rd_proc_run(&spec, timeout, out ? out : &outb, &errb, &code, err);
    if (st != RD_OK) {
        rd_error_prefix(err, "scratch %s command: ", what);
        goto out;
    }
    if (code != 0) {
        rd_strbuf *o = out ? out : &outb;
        char red[1024];
        flatten(&errb, 500);
        flatten(o, 300);
        rd_redact(o->data, red, sizeof red);
        st = RD_ERR(err, RD_ERR_PROC, "scratch %s command exited with %d: %s%s%s", what, code,
                    errb.data, o->len ? "; stdout: " : "", o->len ? red : "");
    }
out:
    free(av);
    rd_strlist_free(&argv);
    rd_strbuf_free(&errb);
    rd_strbuf_free(&outb);
    return st;
}

static rd_status take_string(const cJSON *o, const char *key, char **out, rd_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v))
        return RD_OK;
    if (cJSON_IsNumber(v))
        *out = rd_asprintf("%.0f", v->valuedouble);
    else if (cJSON_IsString(v))
        *out = rd_strdup(v->valuestring);
    else
        return RD_ERR(err, RD_ERR_FORMAT,
                      "scratch create command: \"%s\" must be a string in its JSON output", key);
    return *out ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

rd_status rd_scratch_exec_parse_conn(const char *text, rd_scratch *s, char **dsn, rd_error *err)
{
    cJSON *o = cJSON_Parse(text);
    char *port = NULL;
    rd_status st = RD_OK;

    if (!cJSON_IsObject(o)) {
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "scratch create command did not print a JSON object with connection info "
                    "(host, port, socket, database, user, password, dsn)");
        goto out;
    }
    if ((st = take_string(o, "host", &s->conn.host, err)) != RD_OK ||
        (st = take_string(o, "port", &port, err)) != RD_OK ||
        (st = take_string(o, "socket", &s->conn.socket, err)) != RD_OK ||
        (st = take_string(o, "database", &s->conn.database, err)) != RD_OK ||
        (st = take_string(o, "user", &s->conn.user, err)) != RD_OK ||
        (st = take_string(o, "password", &s->conn.password, err)) != RD_OK ||
        (st = take_string(o, "dsn", dsn, err)) != RD_OK)
        goto out;
    if (port) {
        char *end;
        long v = strtol(port, &end, 10);
        if (*end || v <= 0 || v > 65535) {
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "scratch create command: port must be a number from 1 to 65535, got "
                        "\"%s\"",
                        port);
            goto out;
        }
        s->conn.port = (int)v;
    }
    if (!s->conn.host && !s->conn.socket && !*dsn)
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "scratch create command printed no host, socket or dsn in its JSON output");
    else if (!s->conn.database && !*dsn)
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "scratch create command printed no database in its JSON output");
out:
    free(port);
    cJSON_Delete(o);
    return st;
}

static rd_status verify(rd_scratch *s, const rd_scratch_cfg *cfg, const rd_scratch_req *req,
                        rd_error *err)
{
    rd_db_opts opts = {0};
    rd_db *db = NULL;
    rd_status st;

    opts.password = s->conn.password;
    opts.connect_timeout = 30;
    if ((st = rd_db_connect(s->conn.engine, s->conn.dsn, &opts, &db, err)) != RD_OK) {
        rd_error_prefix(err, "scratch instance made by the create command: ");
        goto out;
    }
    if ((st = rd_scratch_check_same_server(db, req ? req->reference_identity : NULL,
                                           cfg->allow_same_server, err)) != RD_OK)
        goto out;
    rd_db_server_version(db, &s->server_version, NULL);
out:
    rd_db_free(db);
    return st;
}

/* The variables of the destroy command: the create's and the instance's. */
static rd_status destroy_vars(const rd_scratch *s, const exec_priv *p, rd_strlist *vars,
                              rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; st == RD_OK && i < p->vars.n; i++)
        st = rd_strlist_push(vars, p->vars.items[i], err);
    return st == RD_OK ? rd_scratch_vars(s, vars, err) : st;
}

/* Record the instance with its expanded destroy command, so that `gc` can
 * remove it should this drill die before its teardown (exec_gc.c). */
static rd_status record(const rd_scratch_cfg *cfg, rd_engine engine, const rd_scratch_req *req,
                        const rd_scratch *s, exec_priv *p, rd_error *err)
{
    rd_strlist vars = {0}, argv = {0};
    rd_status st = RD_OK;
    if (p->destroy.n == 0)
        return RD_OK;
    if ((st = destroy_vars(s, p, &vars, err)) == RD_OK &&
        (st = expand("destroy", &p->destroy, &vars, &argv, err)) == RD_OK)
        st = rd_scratch_exec_record(cfg, engine, req, &argv, p->timeout, &p->record, err);
    rd_strlist_free(&vars);
    rd_strlist_free(&argv);
    return st;
}

static rd_status ex_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                              const rd_scratch_req *req, rd_scratch **out, rd_error *err)
{
    rd_scratch *s = calloc(1, sizeof *s);
    exec_priv *p = calloc(1, sizeof *p);
    rd_strbuf sout;
    char *dsn = NULL;
    int created = 0;
    rd_status st = RD_OK;

    rd_strbuf_init(&sout, OUT_MAX);
    if (!s || !p) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    s->type = &rd_scratch_exec;
    s->conn.engine = engine;
    s->priv = p;
    p->timeout = cfg->timeout > 0 ? cfg->timeout : 600;
    if (cfg->create.n == 0) {
        st = RD_ERR(err, RD_ERR_CONFIG, "scratch.create is required for scratch type exec");
        goto fail;
    }
    for (size_t i = 0; req && req->tvars && req->tvars[i]; i++)
        if ((st = rd_strlist_push(&p->vars, req->tvars[i], err)) != RD_OK)
            goto fail;
    for (size_t i = 0; i < cfg->destroy.n; i++)
        if ((st = rd_strlist_push(&p->destroy, cfg->destroy.items[i], err)) != RD_OK)
            goto fail;
    if ((st = rd_scratch_var(&p->vars, "target.name", req && req->target ? req->target : "",
                             err)) != RD_OK)
        goto fail;
    if ((st = run_cmd("create", &cfg->create, &p->vars, p->timeout, &sout, err)) != RD_OK)
        goto fail;
    created = 1;
    if ((st = rd_scratch_exec_parse_conn(sout.data, s, &dsn, err)) != RD_OK ||
        (st = rd_scratch_finish_conn(s, err)) != RD_OK)
        goto fail;
    if (dsn) {
        free(s->conn.dsn);
        s->conn.dsn = dsn;
        dsn = NULL;
    }
    if ((st = record(cfg, engine, req, s, p, err)) != RD_OK)
        goto fail;
    if ((st = verify(s, cfg, req, err)) != RD_OK)
        goto fail;
    *out = s;
    goto out;
fail:
    if (created && p->destroy.n > 0) {
        rd_error e;
        if (s->type->teardown(s, &e) != RD_OK)
            rd_log_warn("scratch destroy after a failed create: %s", e.msg);
    }
    priv_free(p);
    if (s)
        s->priv = NULL;
    rd_scratch_destroy(s);
out:
    free(dsn);
    rd_strbuf_free(&sout);
    return st;
}

static rd_status ex_teardown(rd_scratch *s, rd_error *err)
{
    exec_priv *p = s->priv;
    rd_strlist vars = {0};
    rd_status st = RD_OK;

    if (!p)
        return RD_OK;
    if (p->destroy.n == 0) {
        rd_log_warn("scratch.destroy is not set: the instance made by the create command is "
                    "left in place");
        goto done;
    }
    if ((st = destroy_vars(s, p, &vars, err)) != RD_OK ||
        (st = run_cmd("destroy", &p->destroy, &vars, p->timeout, NULL, err)) != RD_OK)
        goto out; /* the record stays: gc tries again once this drill is gone */
    rd_scratch_exec_unrecord(p->record);
done:
    priv_free(p);
    s->priv = NULL;
out:
    rd_strlist_free(&vars);
    return st;
}

const rd_scratch_type rd_scratch_exec = {
    .name = "exec",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .provision = ex_provision,
    .teardown = ex_teardown,
    .gc = rd_scratch_exec_gc,
};
