/* fs_tree.c: locks between processes (flock) and copies of directory trees
 * (scratch instances made from a template). */
#include "restoredrill/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"
#include "restoredrill/strbuf.h"

#define LOCK_POLL_MS 20
#define COPY_CHUNK ((size_t)1 << 30)
#define COPY_THREADS 4

rd_status rd_fs_lock(const char *lock_path, double wait_s, int shared, int *fd, rd_error *err)
{
    int f = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (f < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open lock %s", lock_path);
    double until = rd_mono_now() + wait_s;
    while (flock(f, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            rd_status st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot lock %s", lock_path);
            close(f);
            return st;
        }
        if (rd_mono_now() >= until) {
            close(f);
            return RD_ERR(err, RD_ERR_TIMEOUT, "%s stayed locked by another process", lock_path);
        }
        struct timespec ts = {0, LOCK_POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
    *fd = f;
    return RD_OK;
}

void rd_fs_unlock(int fd)
{
    if (fd < 0)
        return;
    flock(fd, LOCK_UN);
    close(fd);
}

static rd_status io_error(rd_error *err, const char *what, const char *path)
{
    int e = errno;
    rd_status st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot %s %s", what, path);
    if (e == ENOSPC)
        rd_error_prefix(err, "disk full: ");
    return st;
}

static rd_status copy_file(const char *src, const char *dst, const struct stat *sb, int chown_to,
                           uid_t uid, gid_t gid, rd_error *err)
{
    rd_status st = RD_OK;
    int in = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0)
        return io_error(err, "open", src);
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, sb->st_mode & 07777);
    if (out < 0) {
        st = io_error(err, "create", dst);
        goto out;
    }
    if (chown_to && fchown(out, uid, gid) != 0) {
        st = io_error(err, "chown", dst);
        goto out;
    }
    for (off_t left = sb->st_size; left > 0;) {
        ssize_t n = copy_file_range(in, NULL, out, NULL,
                                    (size_t)left < COPY_CHUNK ? (size_t)left : COPY_CHUNK, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
            /* no in-kernel copy here: plain reads and writes */
            char buf[65536];
            ssize_t r;
            while ((r = read(in, buf, sizeof buf)) > 0)
                for (ssize_t w = 0; w < r;) {
                    ssize_t k = write(out, buf + w, (size_t)(r - w));
                    if (k < 0 && errno != EINTR) {
                        st = io_error(err, "write", dst);
                        goto out;
                    }
                    w += k > 0 ? k : 0;
                }
            if (r < 0)
                st = io_error(err, "read", src);
            goto out;
        }
        if (n < 0) {
            st = io_error(err, "copy to", dst);
            goto out;
        }
        if (n == 0)
            break; /* the file shrank while copied: keep what it holds */
        left -= n;
    }
out:
    close(in);
    if (out >= 0 && close(out) != 0 && st == RD_OK)
        st = io_error(err, "write", dst);
    return st;
}

/* A copy in two passes: the walk makes every directory and symlink and
 * lists the directories; then up to COPY_THREADS threads copy the regular
 * files, one directory at a time each (largest first). Creating a file
 * holds its directory's lock, so files of one directory are created one at
 * a time whatever the threads, but different directories go in parallel:
 * a PostgreSQL data directory is mostly three base/<oid> directories of
 * about 300 files each. */
typedef struct copy_dir {
    char *src, *dst;
    size_t files;
} copy_dir;

typedef struct copy_job {
    copy_dir *dirs;
    size_t n, cap, next;
    int chown_to;
    uid_t uid;
    gid_t gid;
    pthread_mutex_t mu;
    rd_status st; /* the first failure */
    rd_error err;
} copy_job;

static rd_status walk(copy_job *j, const char *src, const char *dst, rd_error *err)
{
    struct stat sb;
    rd_status st = RD_OK;
    DIR *d = NULL;
    size_t files = 0;

    if (lstat(src, &sb) != 0)
        return io_error(err, "read", src);
    if (!S_ISDIR(sb.st_mode))
        return RD_ERR(err, RD_ERR_IO, "cannot copy %s: not a directory", src);
    if (mkdir(dst, sb.st_mode & 07777) != 0)
        return io_error(err, "create", dst);
    /* mkdir applies the umask: set the mode exactly */
    if (chmod(dst, sb.st_mode & 07777) != 0 || (j->chown_to && chown(dst, j->uid, j->gid) != 0))
        return io_error(err, "set the owner of", dst);
    if (!(d = opendir(src)))
        return io_error(err, "read", src);
    struct dirent *e;
    while (st == RD_OK && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *s = rd_fs_join(src, e->d_name), *t = rd_fs_join(dst, e->d_name);
        struct stat es;
        if (!s || !t)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        else if (lstat(s, &es) != 0)
            st = io_error(err, "read", s);
        else if (S_ISDIR(es.st_mode))
            st = walk(j, s, t, err);
        else if (S_ISREG(es.st_mode))
            files++;
        else if (S_ISLNK(es.st_mode)) {
            char target[4096];
            ssize_t n = readlink(s, target, sizeof target - 1);
            if (n < 0)
                st = io_error(err, "read", s);
            else {
                target[n] = '\0';
                if (symlink(target, t) != 0 || (j->chown_to && lchown(t, j->uid, j->gid) != 0))
                    st = io_error(err, "create", t);
            }
        } /* sockets, fifos and devices are not copied */
        free(s);
        free(t);
    }
    closedir(d);
    if (st != RD_OK || files == 0)
        return st;
    if (j->n == j->cap) {
        size_t cap = j->cap ? j->cap * 2 : 16;
        copy_dir *nd = realloc(j->dirs, cap * sizeof *nd);
        if (!nd)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        j->dirs = nd;
        j->cap = cap;
    }
    copy_dir *cd = &j->dirs[j->n];
    cd->src = rd_strdup(src);
    cd->dst = rd_strdup(dst);
    cd->files = files;
    if (!cd->src || !cd->dst) {
        free(cd->src);
        free(cd->dst);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    j->n++;
    return RD_OK;
}

/* The regular files directly in one directory (the walk made the rest). */
static rd_status copy_files(const copy_job *j, const copy_dir *cd, rd_error *err)
{
    rd_status st = RD_OK;
    DIR *d = opendir(cd->src);
    if (!d)
        return io_error(err, "read", cd->src);
    struct dirent *e;
    while (st == RD_OK && (e = readdir(d)) != NULL) {
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
            continue;
        char *s = rd_fs_join(cd->src, e->d_name), *t = rd_fs_join(cd->dst, e->d_name);
        struct stat es;
        if (!s || !t)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        else if (lstat(s, &es) != 0)
            st = io_error(err, "read", s);
        else if (S_ISREG(es.st_mode))
            st = copy_file(s, t, &es, j->chown_to, j->uid, j->gid, err);
        free(s);
        free(t);
    }
    closedir(d);
    return st;
}

static void *copy_worker(void *arg)
{
    copy_job *j = arg;
    for (;;) {
        pthread_mutex_lock(&j->mu);
        size_t i = j->st == RD_OK ? j->next++ : j->n;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->n)
            return NULL;
        rd_error e;
        rd_status st = copy_files(j, &j->dirs[i], &e);
        if (st != RD_OK) {
            pthread_mutex_lock(&j->mu);
            if (j->st == RD_OK) {
                j->st = st;
                j->err = e;
            }
            pthread_mutex_unlock(&j->mu);
        }
    }
}

static int by_files_desc(const void *a, const void *b)
{
    const copy_dir *x = a, *y = b;
    return x->files < y->files ? 1 : x->files > y->files ? -1 : 0;
}

rd_status rd_fs_copy_tree(const char *src, const char *dst, int chown_to, uid_t uid, gid_t gid,
                          rd_error *err)
{
    copy_job j;
    pthread_t th[COPY_THREADS];
    size_t started = 0;
    rd_status st;

    memset(&j, 0, sizeof j);
    j.chown_to = chown_to;
    j.uid = uid;
    j.gid = gid;
    pthread_mutex_init(&j.mu, NULL);
    if ((st = walk(&j, src, dst, err)) != RD_OK)
        goto out;
    qsort(j.dirs, j.n, sizeof *j.dirs, by_files_desc);
    /* this thread is one of the workers */
    for (size_t t = 0; t + 1 < COPY_THREADS && t + 1 < j.n; t++) {
        if (pthread_create(&th[started], NULL, copy_worker, &j) != 0)
            break; /* fewer threads: the work is still done */
        started++;
    }
    copy_worker(&j);
    for (size_t t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    if ((st = j.st) != RD_OK && err)
        *err = j.err;
out:
    for (size_t i = 0; i < j.n; i++) {
        free(j.dirs[i].src);
        free(j.dirs[i].dst);
    }
    free(j.dirs);
    pthread_mutex_destroy(&j.mu);
    return st;
}
