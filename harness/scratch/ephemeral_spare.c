/* ephemeral_spare.c: a spare copy of a template data directory, made ready
 * for the next instance.
 *
 * Copying a template (ephemeral_template.c) is most of what provisioning an
 * instance costs: about a thousand small files. So when an instance made
 * from a template is torn down, a thread makes one more copy, the spare,
 * while the server stops and the instance's directory is removed; the next
 * instance of the same template takes it with one rename(2). Not earlier:
 * a copy made beside the restore slowed the restore (and so the RTO the
 * drill measures) on a loaded machine.
 *
 * Safety: the spare lives inside the template's own directory
 * (<template>/spare-XXXXXX), so it is valid exactly as long as its template:
 * a rebuilt template (other binary, flags or owner) and gc remove it with
 * the template. It is made under the template's shared lock (a rebuild or
 * gc waits for it), first as <template>/.tmp-spare-XXXXXX and renamed to
 * its name only once complete; one refill at a time (<template>/spare.lock,
 * taken without waiting: a busy lock means someone else refills), at most
 * one spare at a time. A leftover .tmp-spare-* can only be a refill that
 * died, since the spare lock is held: the next refill removes it. A spare is
 * taken under the shared lock too, only when it is a directory owned by the
 * template's user, by rename(2), which exactly one taker can win. A spare
 * is used only when it is on the same file system as the instance (else
 * rename fails with EXDEV, and no spare is made for that instance). The
 * copy runs at nice 19 (its thread only), so it yields to other drills'
 * work. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define SPARE_PREFIX "spare-"
#define SPARE_TMP ".tmp-spare-"
#define SPARE_LOCK "spare.lock"

/* The directory that holds path (heap). */
static char *parent_of(const char *path)
{
    char *p = rd_strdup(path);
    char *slash = p ? strrchr(p, '/') : NULL;
    if (slash && slash != p)
        *slash = '\0';
    return p;
}

int rd_eph_spare_take(const char *tdir, const char *dst, uid_t uid)
{
    DIR *d = opendir(tdir);
    struct dirent *de;
    int taken = 0;
    if (!d)
        return 0;
    while (!taken && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, SPARE_PREFIX, strlen(SPARE_PREFIX)) != 0)
            continue;
        char *path = rd_fs_join(tdir, de->d_name);
        struct stat sb;
        if (path && lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && sb.st_uid == uid) {
            if (rename(path, dst) == 0)
                taken = 1;
            else if (errno != ENOENT) { /* ENOENT: another instance took it first */
                free(path);
                break;
            }
        }
        free(path);
    }
    closedir(d);
    return taken;
}

typedef struct spare_job {
    pthread_t thread;
    int started;
    char *tdir, *lock;
    rd_eph_user u;
} spare_job;

/* 1 when tdir holds a spare already. */
static int has_spare(const char *tdir)
{
    DIR *d = opendir(tdir);
    struct dirent *de;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (de = readdir(d)) != NULL)
        found = strncmp(de->d_name, SPARE_PREFIX, strlen(SPARE_PREFIX)) == 0;
    closedir(d);
    return found;
}

/* Remove the .tmp-spare-* of refills that died (we hold the spare lock). */
static void remove_leftovers(const char *tdir)
{
    DIR *d = opendir(tdir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, SPARE_TMP, strlen(SPARE_TMP)) != 0)
            continue;
        char *path = rd_fs_join(tdir, de->d_name);
        rd_error e;
        if (path && rd_fs_rmtree(path, tdir, &e) != RD_OK)
            rd_log_warn("cannot remove an unfinished spare %s: %s", path, e.msg);
        free(path);
    }
    closedir(d);
}

static void *refill(void *arg)
{
    spare_job *j = arg;
    char *spare_lock = rd_fs_join(j->tdir, SPARE_LOCK), *src = rd_fs_join(j->tdir, "data");
    char *tmp = NULL, *final = NULL;
    char token[13];
    int tfd = -1, sfd = -1;
    rd_error e;

    if (!spare_lock || !src)
        goto out;
    /* the lowest CPU priority for this thread alone (Linux: nice is per
     * thread), so the copy yields to the other targets' work */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19) != 0)
        rd_log_debug("cannot lower the priority of the spare copy: %s", strerror(errno));
    /* the template's shared lock: no rebuild or gc while we copy */
    if (rd_fs_lock(j->lock, 60, 1, &tfd, &e) != RD_OK || !rd_fs_exists(src))
        goto out;
    if (rd_fs_lock(spare_lock, 0, 0, &sfd, &e) != RD_OK || has_spare(j->tdir))
        goto out; /* another refill is under way, or a spare is ready */
    if (j->u.run_as && chown(spare_lock, j->u.uid, j->u.gid) != 0)
        rd_log_debug("cannot give %s to uid %d", spare_lock, (int)j->u.uid);
    remove_leftovers(j->tdir);
    rd_random_token(token, 12);
    tmp = rd_asprintf("%s/" SPARE_TMP "%s", j->tdir, token);
    final = rd_asprintf("%s/" SPARE_PREFIX "%s", j->tdir, token);
    if (!tmp || !final)
        goto out;
    double t0 = rd_mono_now();
    if (rd_fs_copy_tree(src, tmp, j->u.run_as, j->u.uid, j->u.gid, &e) != RD_OK) {
        rd_log_warn("cannot make a spare copy of the template %s: %s", j->tdir, e.msg);
        rd_fs_rmtree(tmp, j->tdir, &e);
        goto out;
    }
    if (rename(tmp, final) != 0) {
        rd_log_warn("cannot rename %s to %s: %s", tmp, final, strerror(errno));
        rd_fs_rmtree(tmp, j->tdir, &e);
        goto out;
    }
    rd_log_debug("made a spare copy of the template %s in %.3fs", j->tdir, rd_mono_now() - t0);
out:
    rd_fs_unlock(sfd);
    rd_fs_unlock(tfd);
    free(spare_lock);
    free(src);
    free(tmp);
    free(final);
    return NULL;
}

void rd_eph_spare_plan(rd_eph *e, const char *tdir, const char *lock, const char *dst)
{
    struct stat a, b;
    char *dparent = parent_of(dst);
    int same_fs = dparent && stat(tdir, &a) == 0 && stat(dparent, &b) == 0 && a.st_dev == b.st_dev;
    free(dparent);
    if (e->spare || !same_fs)
        return;
    spare_job *j = calloc(1, sizeof *j);
    if (!j)
        return;
    j->tdir = rd_strdup(tdir);
    j->lock = rd_strdup(lock);
    j->u = e->u;
    if (!j->tdir || !j->lock) {
        free(j->tdir);
        free(j->lock);
        free(j);
        return; /* no spare this time: the next instance copies */
    }
    e->spare = j;
}

void rd_eph_template_spare_start(rd_eph *e)
{
    spare_job *j = e ? e->spare : NULL;
    if (rd_abort_requested()) /* a drill being interrupted makes no spare */
        return;
    if (j && !j->started && pthread_create(&j->thread, NULL, refill, j) == 0)
        j->started = 1;
}

void rd_eph_template_spare_join(rd_eph *e)
{
    spare_job *j = e ? e->spare : NULL;
    if (!j)
        return;
    if (j->started)
        pthread_join(j->thread, NULL);
    free(j->tdir);
    free(j->lock);
    free(j);
    e->spare = NULL;
}
