/* fs_tree.c: locks between processes (flock) and copies of directory trees
 * (scratch instances made from a template). */
#include "restoredrill/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "restoredrill/clock.h"

#define LOCK_POLL_MS 20
#define COPY_CHUNK ((size_t)1 << 30)

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

rd_status rd_fs_copy_tree(const char *src, const char *dst, int chown_to, uid_t uid, gid_t gid,
                          rd_error *err)
{
    struct stat sb;
    rd_status st = RD_OK;
    DIR *d = NULL;

    if (lstat(src, &sb) != 0)
        return io_error(err, "read", src);
    if (!S_ISDIR(sb.st_mode))
        return RD_ERR(err, RD_ERR_IO, "cannot copy %s: not a directory", src);
    if (mkdir(dst, sb.st_mode & 07777) != 0)
        return io_error(err, "create", dst);
    /* mkdir applies the umask: set the mode exactly */
    if (chmod(dst, sb.st_mode & 07777) != 0 || (chown_to && chown(dst, uid, gid) != 0))
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
            st = rd_fs_copy_tree(s, t, chown_to, uid, gid, err);
        else if (S_ISREG(es.st_mode))
            st = copy_file(s, t, &es, chown_to, uid, gid, err);
        else if (S_ISLNK(es.st_mode)) {
            char target[4096];
            ssize_t n = readlink(s, target, sizeof target - 1);
            if (n < 0)
                st = io_error(err, "read", s);
            else {
                target[n] = '\0';
                if (symlink(target, t) != 0 || (chown_to && lchown(t, uid, gid) != 0))
                    st = io_error(err, "create", t);
            }
        } /* sockets, fifos and devices are not copied */
        free(s);
        free(t);
    }
    closedir(d);
    return st;
}
