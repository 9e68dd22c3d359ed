/* ephemeral_template.c: template data directories for ephemeral instances.
 *
 * Initialising a cluster (initdb, mariadb-install-db) is most of the time a
 * scratch instance takes to provision, and its result is the same for every
 * instance of one server binary, run_as user and set of init flags. So it is
 * made once, into <rundir>/templates/<engine>-<key>/data (or
 * $RESTOREDRILL_TEMPLATES/<engine>-<key>/data), and each instance
 * starts from a copy. key is a hash of what makes the result differ: the
 * engine, its init flags, the server binary (path, size, mtime, inode) and
 * the run_as uid; a changed binary gives a new key, and gc removes templates
 * whose binary is gone or changed, or whose init flags are not this build's.
 *
 * A template is built in a temporary directory under an exclusive lock on
 * <engine>-<key>.lock and renamed into place complete; it is checked before
 * every use (template.json against the current binary and flags, the owner
 * of its data directory) and rebuilt when it does not match. Copies are
 * made under a shared lock, so gc never removes a template being copied.
 * A spare copy made ahead (ephemeral_spare.c) is taken when there is one. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define TEMPLATE_FORMAT 1
#define TEMPLATE_INFO "template.json"
#define TEMPLATE_PW "password"

/* What a template is made from, as recorded in its template.json. */
typedef struct tident {
    const char *engine, *flags, *binary;
    long long size, mtime_ns, ino;
    long long uid;
} tident;

static rd_status identify(const rd_eph *e, tident *t, rd_error *err)
{
    struct stat sb;
    memset(t, 0, sizeof *t);
    t->engine = rd_engine_name(e->eng->engine);
    t->flags = e->eng->init_flags;
    t->binary = e->eng->binary(e->priv);
    if (stat(t->binary, &sb) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_NOTFOUND, "cannot read the server binary %s", t->binary);
    t->size = (long long)sb.st_size;
    t->mtime_ns = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
    t->ino = (long long)sb.st_ino;
    t->uid = (long long)e->u.uid;
    return RD_OK;
}

static char *ident_json(const tident *t)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (o && cJSON_AddNumberToObject(o, "format", TEMPLATE_FORMAT) &&
        cJSON_AddStringToObject(o, "engine", t->engine) &&
        cJSON_AddStringToObject(o, "init_flags", t->flags) &&
        cJSON_AddStringToObject(o, "binary", t->binary) &&
        cJSON_AddNumberToObject(o, "binary_size", (double)t->size) &&
        cJSON_AddNumberToObject(o, "binary_mtime_ns", (double)t->mtime_ns) &&
        cJSON_AddNumberToObject(o, "binary_inode", (double)t->ino) &&
        cJSON_AddNumberToObject(o, "uid", (double)t->uid))
        text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

/* $RESTOREDRILL_TEMPLATES when set (a cache shared by several run
 * directories, as the test suite does), else <rundir>/templates. */
static char *templates_root(const char *rundir)
{
    const char *env = getenv("RESTOREDRILL_TEMPLATES");
    return env && *env ? rd_strdup(env) : rd_fs_join(rundir, "templates");
}

/* <templates>/<engine>-<first 16 hex of sha256(identity)>. */
static char *template_dir(const char *rundir, const tident *t)
{
    char *j = ident_json(t);
    char hex[RD_SHA256_HEX_LEN + 1];
    if (!j)
        return NULL;
    rd_sha256_hex(j, strlen(j), hex);
    free(j);
    hex[16] = '\0';
    char *root = templates_root(rundir);
    char *dir = root ? rd_asprintf("%s/%s-%s", root, t->engine, hex) : NULL;
    free(root);
    return dir;
}

/* 1 when tdir holds a complete template made from exactly t, owned by uid. */
static int template_valid(const char *tdir, const tident *t)
{
    char *info = rd_fs_join(tdir, TEMPLATE_INFO), *data = rd_fs_join(tdir, "data");
    char *want = ident_json(t), *have = NULL;
    struct stat sb;
    rd_error e;
    int ok = info && data && want && rd_fs_read_file(info, 65536, &have, NULL, &e) == RD_OK &&
             strcmp(have, want) == 0 && stat(data, &sb) == 0 && S_ISDIR(sb.st_mode) &&
             (long long)sb.st_uid == t->uid;
    free(info);
    free(data);
    free(want);
    free(have);
    return ok;
}

/* Build the template into a temporary directory beside tdir and rename it
 * into place. Called under the exclusive lock. */
static rd_status build(const char *tdir, const tident *t, rd_eph *e, double deadline, rd_error *err)
{
    char *parent = rd_strdup(tdir), *tmp = NULL, *info = NULL, *pwf = NULL;
    char *json = ident_json(t);
    char *slash = parent ? strrchr(parent, '/') : NULL;
    char pw[33];
    rd_status st;

    if (!parent || !slash || !json) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    *slash = '\0';
    /* ".tmp-NAME-XXXXXX": gc leaves it alone until it is an hour old */
    char prefix[128];
    snprintf(prefix, sizeof prefix, ".tmp-%s-", slash + 1);
    if ((st = rd_fs_mkdtemp(parent, prefix, e->u.run_as, e->u.uid, e->u.gid, &tmp, err)) != RD_OK)
        goto out;
    rd_random_token(pw, 32);
    info = rd_fs_join(tmp, TEMPLATE_INFO);
    pwf = rd_fs_join(tmp, TEMPLATE_PW);
    if (!info || !pwf) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    double t0 = rd_mono_now();
    if ((st = e->eng->init_data(tmp, e, RD_EPH_USER, pw, deadline, err)) != RD_OK ||
        (e->eng->template_extra && (st = e->eng->template_extra(tmp, e, deadline, err)) != RD_OK) ||
        (st = rd_scratch_write_private(pwf, pw, NULL, err)) != RD_OK ||
        (st = rd_fs_write_atomic(info, json, strlen(json), 0644, err)) != RD_OK)
        goto out;
    if (rename(tmp, tdir) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", tmp, tdir);
        goto out;
    }
    rd_log_info("made a %s template data directory in %.2fs: %s", e->eng->label, rd_mono_now() - t0,
                tdir);
    free(tmp);
    tmp = NULL;
out:
    if (tmp) {
        rd_error e2;
        rd_fs_rmtree(tmp, parent, &e2);
    }
    memset(pw, 0, sizeof pw);
    free(parent);
    free(tmp);
    free(info);
    free(pwf);
    free(json);
    return st;
}

rd_status rd_eph_template_copy(rd_eph *e, const char *dst, double deadline, char **password,
                               rd_error *err)
{
    tident t;
    char *tdir = NULL, *lock = NULL, *src = NULL, *pwf = NULL, *pw = NULL, *tdirs = NULL;
    int fd = -1;
    rd_status st;

    if ((st = identify(e, &t, err)) != RD_OK)
        return st;
    tdir = template_dir(e->rundir, &t);
    lock = tdir ? rd_asprintf("%s.lock", tdir) : NULL;
    tdirs = templates_root(e->rundir);
    src = tdir ? rd_fs_join(tdir, "data") : NULL;
    pwf = tdir ? rd_fs_join(tdir, TEMPLATE_PW) : NULL;
    if (!tdir || !lock || !tdirs || !src || !pwf) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_fs_mkdir_p(tdirs, 0711, err)) != RD_OK)
        goto out;
    double wait = deadline - rd_mono_now();
    if (!template_valid(tdir, &t)) {
        if ((st = rd_fs_lock(lock, wait > 1 ? wait : 1, 0, &fd, err)) != RD_OK)
            goto out;
        if (!template_valid(tdir, &t)) { /* nobody built it while we waited */
            if (rd_fs_exists(tdir)) {
                rd_log_info("rebuilding the %s template %s: it does not match the server "
                            "binary, its flags or its owner",
                            e->eng->label, tdir);
                if ((st = rd_fs_rmtree(tdir, tdirs, err)) != RD_OK)
                    goto out;
            }
            if ((st = build(tdir, &t, e, deadline, err)) != RD_OK) {
                rd_error_prefix(err, "cannot make a %s template data directory: ", e->eng->label);
                goto out;
            }
        }
        rd_fs_unlock(fd);
        fd = -1;
    }
    wait = deadline - rd_mono_now();
    if ((st = rd_fs_lock(lock, wait > 1 ? wait : 1, 1, &fd, err)) != RD_OK)
        goto out;
    if ((st = rd_fs_read_file(pwf, 256, &pw, NULL, err)) != RD_OK)
        goto out;
    if (rd_eph_spare_take(tdir, dst, (uid_t)t.uid))
        e->from_spare = 1;
    else if ((st = rd_fs_copy_tree(src, dst, e->u.run_as, e->u.uid, e->u.gid, err)) != RD_OK)
        goto out;
    *password = pw;
    pw = NULL;
out:
    rd_fs_unlock(fd);
    if (st == RD_OK) /* the next instance's copy, made when this one is torn down */
        rd_eph_spare_plan(e, tdir, lock, dst);
    if (pw)
        memset(pw, 0, strlen(pw));
    free(pw);
    free(tdir);
    free(lock);
    free(tdirs);
    free(src);
    free(pwf);
    return st;
}

/* Whether a template's recorded engine and init flags are what this build
 * makes: a template of an earlier restoredrill (other flags, so another key)
 * is never used again, and would stay behind forever. An engine this build
 * does not know is left alone. */
static int flags_outdated(const cJSON *o)
{
    const cJSON *eng = cJSON_GetObjectItemCaseSensitive(o, "engine");
    const cJSON *flags = cJSON_GetObjectItemCaseSensitive(o, "init_flags");
    if (!cJSON_IsString(eng))
        return 0;
    for (size_t i = 0; rd_eph_engines[i]; i++)
        if (strcmp(rd_engine_name(rd_eph_engines[i]->engine), eng->valuestring) == 0)
            return !cJSON_IsString(flags) ||
                   strcmp(flags->valuestring, rd_eph_engines[i]->init_flags) != 0;
    return 0;
}

rd_status rd_eph_template_gc(const char *rundir, int dry_run,
                             void (*report)(void *ud, const char *what), void *ud, rd_error *err)
{
    char *tdirs = templates_root(rundir);
    DIR *d = NULL;
    struct dirent *de;
    rd_status st = RD_OK;

    if (!tdirs)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (!(d = opendir(tdirs))) {
        if (errno != ENOENT)
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", tdirs);
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strstr(de->d_name, ".lock"))
            continue;
        char *path = rd_fs_join(tdirs, de->d_name);
        char *info = path ? rd_fs_join(path, TEMPLATE_INFO) : NULL;
        char *lock = path ? rd_asprintf("%s.lock", path) : NULL;
        char *text = NULL, why[160] = "";
        cJSON *o = NULL;
        rd_error e;
        int fd = -1;
        if (!path || !info || !lock) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            free(path);
            free(info);
            free(lock);
            break;
        }
        struct stat ds;
        if (strncmp(de->d_name, ".tmp-", 5) == 0) {
            /* a build that died; one in progress is younger than an hour */
            if (lstat(path, &ds) == 0 && difftime(time(NULL), ds.st_mtime) > 3600)
                snprintf(why, sizeof why, "an unfinished build");
        } else if (rd_fs_read_file(info, 65536, &text, NULL, &e) != RD_OK) {
            snprintf(why, sizeof why, "unfinished (no %s)", TEMPLATE_INFO);
        } else {
            o = cJSON_Parse(text);
            const cJSON *bin = cJSON_GetObjectItemCaseSensitive(o, "binary");
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(o, "binary_size");
            const cJSON *mt = cJSON_GetObjectItemCaseSensitive(o, "binary_mtime_ns");
            struct stat sb;
            if (!cJSON_IsString(bin) || !cJSON_IsNumber(size) || !cJSON_IsNumber(mt))
                snprintf(why, sizeof why, "unreadable %s", TEMPLATE_INFO);
            else if (stat(bin->valuestring, &sb) != 0)
                snprintf(why, sizeof why, "its server binary %.100s is gone", bin->valuestring);
            else if ((double)sb.st_size != size->valuedouble ||
                     (double)((long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec) !=
                         mt->valuedouble)
                snprintf(why, sizeof why, "its server binary %.100s changed", bin->valuestring);
            else if (flags_outdated(o))
                snprintf(why, sizeof why, "made with other init flags, by another restoredrill");
        }
        /* a template in use or being built holds its lock: leave it */
        if (why[0] && rd_fs_lock(lock, 0, 0, &fd, &e) == RD_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s template %s (%s)", dry_run ? "would remove" : "removed",
                     path, why);
            if (!dry_run && rd_fs_rmtree(path, tdirs, &e) != RD_OK) {
                rd_log_error("cannot remove %s: %s", path, e.msg);
                if (st == RD_OK) {
                    st = e.code;
                    if (err)
                        *err = e;
                }
            } else {
                if (!dry_run)
                    unlink(lock);
                report(ud, msg);
            }
            rd_fs_unlock(fd);
        }
        cJSON_Delete(o);
        free(text);
        free(path);
        free(info);
        free(lock);
    }
out:
    if (d)
        closedir(d);
    free(tdirs);
    return st;
}
