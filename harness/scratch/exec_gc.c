/* exec_gc.c: records of exec scratch instances, so that `restoredrill gc`
 * can remove the instances of drills that died (kill -9, a crash, a reboot)
 * by running their destroy command. Each live instance has a private 0700
 * directory <rundir>/exec-XXXXXX holding owner.json (the drill's pid and
 * its start time, the target, the engine) and destroy.json (the destroy
 * argv, already expanded, and its timeout; 0600: it may name the instance's
 * credentials). Teardown removes the record; gc runs the destroy command of
 * every record whose owner is gone, then removes the record. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "scratch_int.h"

#define DESTROY_FILE "destroy.json"
#define RECORD_PREFIX "exec-"

rd_status rd_scratch_exec_record(const rd_scratch_cfg *cfg, rd_engine engine,
                                 const rd_scratch_req *req, const rd_strlist *destroy,
                                 double timeout, char **dir_out, rd_error *err)
{
    char *rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL);
    char *dir = NULL, *path = NULL, *text = NULL;
    cJSON *o = cJSON_CreateObject(), *argv = NULL;
    rd_status st = RD_OK;
    rd_eph_user self = {0};

    if (!rundir || !o) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_fs_mkdir_p(rundir, 0711, err)) != RD_OK ||
        (st = rd_fs_mkdtemp(rundir, RECORD_PREFIX, 0, 0, 0, &dir, err)) != RD_OK)
        goto out;
    if ((st = rd_scratch_write_owner(dir, engine, req, "exec", err)) != RD_OK)
        goto out;
    argv = cJSON_AddArrayToObject(o, "argv");
    for (size_t i = 0; argv && i < destroy->n; i++)
        cJSON_AddItemToArray(argv, cJSON_CreateString(destroy->items[i]));
    cJSON_AddNumberToObject(o, "timeout", timeout);
    path = rd_fs_join(dir, DESTROY_FILE);
    text = cJSON_PrintUnformatted(o);
    if (!argv || !path || !text) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    self.uid = geteuid();
    self.gid = getegid();
    st = rd_scratch_write_private(path, text, &self, err);
out:
    if (st != RD_OK && dir) {
        rd_error e;
        rd_fs_rmtree(dir, rundir, &e);
        free(dir);
        dir = NULL;
    }
    if (st == RD_OK)
        *dir_out = dir;
    free(rundir);
    free(path);
    free(text);
    cJSON_Delete(o);
    return st;
}

void rd_scratch_exec_unrecord(const char *dir)
{
    rd_error e;
    if (!dir)
        return;
    char *parent = rd_strdup(dir);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    if (slash && slash != parent) {
        *slash = '\0';
        if (rd_fs_rmtree(dir, parent, &e) != RD_OK)
            rd_log_warn("cannot remove the exec scratch record %s: %s", dir, e.msg);
    }
    free(parent);
}

static cJSON *read_json(const char *dir, const char *name)
{
    char *path = rd_fs_join(dir, name);
    char *text = NULL;
    size_t len = 0;
    cJSON *o = NULL;
    if (path && rd_fs_read_file(path, 1 << 20, &text, &len, NULL) == RD_OK)
        o = cJSON_ParseWithLength(text, len);
    free(text);
    free(path);
    return o;
}

/* Why the record at dir is a leftover ("owner pid N is gone"), or NULL when
 * its drill still runs. */
static int owner_gone(const cJSON *owner, char *why, size_t whysz, char *target, size_t tsz)
{
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(owner, "pid");
    const cJSON *start = cJSON_GetObjectItemCaseSensitive(owner, "pid_start");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(owner, "target");
    snprintf(target, tsz, "%s", cJSON_IsString(t) ? t->valuestring : "unknown");
    if (!cJSON_IsNumber(pid) || pid->valuedouble <= 0) {
        snprintf(why, whysz, "no owner recorded");
        return 1;
    }
    pid_t p = (pid_t)pid->valuedouble;
    unsigned long long now = rd_scratch_proc_starttime(p);
    if (now == 0 || !rd_scratch_pid_alive(p) ||
        (cJSON_IsNumber(start) && (unsigned long long)start->valuedouble != now)) {
        snprintf(why, whysz, "owner pid %d is gone", (int)p);
        return 1;
    }
    return 0;
}

/* Run the recorded destroy command; RD_OK when it exited 0. */
static rd_status run_destroy(const cJSON *d, rd_error *err)
{
    const cJSON *argv = cJSON_GetObjectItemCaseSensitive(d, "argv");
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(d, "timeout");
    size_t n = (size_t)cJSON_GetArraySize(argv);
    const char **av = calloc(n + 1, sizeof *av);
    rd_strbuf out, errt;
    int code = 0;
    rd_status st;
    if (!av)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const cJSON *a = cJSON_GetArrayItem(argv, (int)i);
        if (!cJSON_IsString(a)) {
            free(av);
            return RD_ERR(err, RD_ERR_FORMAT, "destroy.json: argv[%zu] is not a string", i);
        }
        av[i] = a->valuestring;
    }
    if (n == 0) {
        free(av);
        return RD_ERR(err, RD_ERR_FORMAT, "destroy.json: no destroy command");
    }
    rd_strbuf_init(&out, 1 << 20);
    rd_strbuf_init(&errt, 0);
    rd_proc_spec spec = {0};
    spec.argv = av;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    st = rd_proc_run(&spec, cJSON_IsNumber(timeout) ? timeout->valuedouble : 600, &out, &errt,
                     &code, err);
    if (st == RD_OK && code != 0) {
        char red[600];
        for (char *c = errt.data; c && *c; c++)
            if (*c == '\n')
                *c = ' ';
        st = RD_ERR(err, RD_ERR_PROC, "destroy command %s exited with %d: %s", av[0], code,
                    rd_redact(errt.data ? errt.data : "", red, sizeof red));
    }
    rd_strbuf_free(&out);
    rd_strbuf_free(&errt);
    free(av);
    return st;
}

rd_status rd_scratch_exec_gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than,
                             int dry_run, void (*report)(void *ud, const char *what), void *ud,
                             rd_error *err)
{
    char *rundir = rd_scratch_rundir(cfg ? cfg->base_dir : NULL);
    DIR *d = NULL;
    struct dirent *de;
    rd_status st = RD_OK;

    (void)engine;     /* the records of every engine live in the same rundir */
    (void)older_than; /* a record is a leftover when its drill is gone, whatever its age */
    if (!rundir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (!(d = opendir(rundir))) {
        if (errno != ENOENT)
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", rundir);
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        char why[64], target[128], msg[1024];
        struct stat sb;
        if (strncmp(de->d_name, RECORD_PREFIX, strlen(RECORD_PREFIX)) != 0)
            continue;
        char *dir = rd_fs_join(rundir, de->d_name);
        cJSON *owner = dir ? read_json(dir, RD_SCRATCH_OWNER_FILE) : NULL;
        cJSON *destroy = dir ? read_json(dir, DESTROY_FILE) : NULL;
        if (!dir || lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || !owner ||
            !owner_gone(owner, why, sizeof why, target, sizeof target)) {
            cJSON_Delete(owner);
            cJSON_Delete(destroy);
            free(dir);
            continue;
        }
        const cJSON *argv = cJSON_GetObjectItemCaseSensitive(destroy, "argv");
        const cJSON *a0 = cJSON_GetArrayItem(argv, 0);
        const char *cmd = cJSON_IsString(a0) ? a0->valuestring : "?";
        rd_error e;
        rd_error_clear(&e);
        rd_status s2 = RD_OK;
        if (!dry_run) {
            s2 = destroy ? run_destroy(destroy, &e)
                         : RD_ERR(&e, RD_ERR_FORMAT, "%s/%s is missing", dir, DESTROY_FILE);
            if (s2 == RD_OK)
                s2 = rd_fs_rmtree(dir, rundir, &e);
        }
        if (s2 != RD_OK) {
            rd_log_error("exec scratch instance of target %s (%s): %s; its record stays in %s",
                         target, why, e.msg, dir);
            if (st == RD_OK) {
                st = s2;
                if (err)
                    *err = e;
            }
        } else {
            snprintf(msg, sizeof msg, "%s exec scratch instance of target %s (%s): %s %s",
                     dry_run ? "would remove" : "removed", target, why,
                     dry_run ? "would run" : "ran", cmd);
            report(ud, msg);
        }
        cJSON_Delete(owner);
        cJSON_Delete(destroy);
        free(dir);
    }
out:
    if (d)
        closedir(d);
    free(rundir);
    return st;
}
