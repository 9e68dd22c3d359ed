/* dynalite.c: the `ephemeral` scratch driver for engine dynamodb: a private
 * dynalite (the npm package, in memory) under node on 127.0.0.1 and a free
 * port, stopped at teardown. node runs dynalite as a library and exits when
 * its stdin closes, so it never outlives the drill that started it. The
 * table, conn.database (<prefix><target>), is created by the restore. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restoredrill/clock.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define MAX_TABLE 255

/* argv[1]: the dynalite package directory, argv[2]: the port */
static const char SCRIPT[] =
    "const d=require(process.argv[1])({createTableMs:0,deleteTableMs:0,updateTableMs:0});"
    "d.listen(+process.argv[2],'127.0.0.1');"
    "process.stdin.on('end',()=>process.exit(0));process.stdin.on('error',()=>process.exit(0));"
    "process.stdin.resume();";

typedef struct dyn_priv {
    rd_proc *proc;
} dyn_priv;

/* The dynalite package: $RESTOREDRILL_DYNALITE, else bin_dir/dynalite or
 * bin_dir/node_modules/dynalite, else the global node_modules. */
static char *find_dynalite(const rd_scratch_cfg *cfg)
{
    const char *env = getenv("RESTOREDRILL_DYNALITE");
    char *cands[5] = {0};
    char *found = NULL;
    if (env && *env)
        cands[0] = rd_strdup(env);
    if (cfg && cfg->bin_dir) {
        cands[1] = rd_fs_join(cfg->bin_dir, "dynalite");
        cands[2] = rd_fs_join(cfg->bin_dir, "node_modules/dynalite");
    }
    cands[3] = rd_strdup("/usr/lib/node_modules/dynalite");
    cands[4] = rd_strdup("/usr/local/lib/node_modules/dynalite");
    for (size_t i = 0; i < 5; i++) {
        char *idx = cands[i] ? rd_fs_join(cands[i], "index.js") : NULL;
        if (!found && idx && rd_fs_exists(idx)) {
            found = cands[i];
            cands[i] = NULL;
        }
        free(idx);
        free(cands[i]);
    }
    return found;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* 1 while pid runs (not yet exited: a zombie is gone) */
static int alive(pid_t pid)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static rd_status wait_ready(rd_scratch *s, dyn_priv *p, double deadline, rd_error *err)
{
    rd_dyn_client *c = NULL;
    rd_status st = rd_dyn_client_new(s->conn.url, NULL, "restoredrill", "restoredrill", &c, err);
    while (st == RD_OK) {
        cJSON *resp = NULL;
        rd_error e;
        if (rd_dyn_call(c, "ListTables", "{}", 2, &resp, &e) == RD_OK) {
            cJSON_Delete(resp);
            break;
        }
        if (!alive(rd_proc_pid(p->proc))) {
            st = RD_ERR(err, RD_ERR_PROC, "dynalite exited before it answered: %s",
                        rd_proc_stderr_tail(p->proc));
            break;
        }
        if (rd_abort_requested())
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
        else if (deadline > 0 && rd_mono_now() > deadline)
            st = RD_ERR(err, RD_ERR_TIMEOUT, "dynalite did not answer in time: %s", e.msg);
        else
            sleep_s(0.02);
    }
    rd_dyn_client_free(c);
    return st;
}

static rd_status provision(const rd_scratch_cfg *cfg, rd_engine engine, const rd_scratch_req *req,
                           rd_scratch **out, rd_error *err)
{
    rd_scratch *s = calloc(1, sizeof *s);
    dyn_priv *p = calloc(1, sizeof *p);
    char *pkg = find_dynalite(cfg), *node = rd_proc_which("node", NULL), *target = NULL;
    char port[16];
    rd_status st = RD_OK;
    if (!s || !p) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    s->type = &rd_scratch_dynalite;
    s->priv = p;
    s->conn.engine = engine;
    if (!node) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "node not found in PATH (dynalite runs under Node.js)");
        goto out;
    }
    if (!pkg) {
        st = RD_ERR(err, RD_ERR_NOTFOUND,
                    "dynalite not found: install it with `npm install dynalite` and set "
                    "RESTOREDRILL_DYNALITE to its directory (or scratch.bin_dir to the directory "
                    "holding node_modules)");
        goto out;
    }
    if ((st = rd_scratch_free_port(&s->conn.port, err)) != RD_OK)
        goto out;
    target = rd_scratch_sanitize(req && req->target ? req->target : "table", MAX_TABLE - 32);
    s->conn.host = rd_strdup("127.0.0.1");
    s->conn.url = rd_asprintf("http://127.0.0.1:%d", s->conn.port);
    s->conn.dsn = rd_strdup(s->conn.url);
    s->conn.database = rd_asprintf("%s%s", cfg && cfg->prefix ? cfg->prefix : "rd_scratch_",
                                   target ? target : "table");
    s->server_version = rd_strdup("dynalite");
    if (!target || !s->conn.host || !s->conn.url || !s->conn.dsn || !s->conn.database ||
        !s->server_version) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    snprintf(port, sizeof port, "%d", s->conn.port);
    const char *argv[] = {node, "-e", SCRIPT, pkg, port, NULL};
    rd_proc_spec spec = {.argv = argv,
                         .stdin_mode = RD_PROC_IO_PIPE,
                         .stdout_mode = RD_PROC_IO_NULL,
                         .term_grace = 2};
    if ((st = rd_proc_start(&spec, &p->proc, err)) != RD_OK)
        goto out;
    st = wait_ready(s, p, req ? req->deadline : 0, err);
    if (st == RD_OK)
        rd_log_info("dynalite ready on %s (pid %d)", s->conn.url, (int)rd_proc_pid(p->proc));
out:
    free(pkg);
    free(node);
    free(target);
    if (st != RD_OK && s) {
        if (p && p->proc) {
            rd_proc_stop(p->proc);
            rd_proc_free(p->proc);
        }
        free(p);
        s->priv = NULL;
        rd_scratch_destroy(s);
        return st;
    }
    if (st != RD_OK) {
        free(p);
        return st;
    }
    *out = s;
    return RD_OK;
}

static rd_status teardown(rd_scratch *s, rd_error *err)
{
    dyn_priv *p = s->priv;
    (void)err;
    if (p && p->proc) {
        rd_proc_close_stdin(p->proc); /* node exits on its own ... */
        int code = 0;
        rd_error e;
        if (rd_proc_wait(p->proc, rd_mono_now() + 2, &code, &e) != RD_OK)
            rd_proc_stop(p->proc); /* ... or is stopped */
        rd_proc_free(p->proc);
        p->proc = NULL;
    }
    free(p);
    s->priv = NULL;
    return RD_OK;
}

const rd_scratch_type rd_scratch_dynalite = {
    .name = "ephemeral",
    .engines = RD_ENGINE_DYNAMODB,
    .provision = provision,
    .teardown = teardown,
};
