/* fs.c: private temp dirs, guarded recursive delete, atomic writes, reads. */
#include "restoredrill/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/strbuf.h"

#define READ_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

rd_status rd_fs_mkdtemp(const char *base, const char *prefix, int chown_to, uid_t uid, gid_t gid,
                        char **out, rd_error *err)
{
    rd_status st = RD_OK;
    char *tmpl = NULL;
    if (!base || !*base) {
        base = getenv("TMPDIR");
        if (!base || !*base)
            base = "/tmp";
    }
    tmpl = rd_asprintf("%s/%sXXXXXX", base, prefix ? prefix : "");
    if (!tmpl)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (!mkdtemp(tmpl)) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a temporary directory in %s", base);
        goto out;
    }
    /* mkdtemp already uses 0700; make it explicit whatever the umask. */
    if (chmod(tmpl, 0700) != 0 || (chown_to && chown(tmpl, uid, gid) != 0)) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot set the owner of %s", tmpl);
        rmdir(tmpl);
        goto out;
    }
    *out = tmpl;
    tmpl = NULL;
out:
    free(tmpl);
    return st;
}

/* Delete name inside the directory parent, recursively, never following symlinks and never
 * crossing into another file system. */
static rd_status rm_at(int parent, const char *name, dev_t dev, const char *shown, rd_error *err)
{
    struct stat sb;
    rd_status st = RD_OK;
    DIR *d = NULL;
    if (fstatat(parent, name, &sb, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT)
            return RD_OK;
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot stat %s", shown);
    }
    if (!S_ISDIR(sb.st_mode)) {
        if (unlinkat(parent, name, 0) != 0 && errno != ENOENT)
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot remove %s", shown);
        return RD_OK;
    }
    if (sb.st_dev != dev)
        return RD_ERR(err, RD_ERR_REFUSED, "refusing to delete %s: it is on another file system",
                      shown);
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", shown);
    d = fdopendir(fd);
    if (!d) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", shown);
        close(fd);
        goto out;
    }
    struct dirent *de;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno != 0) {
                st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", shown);
                goto out;
            }
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *child = rd_fs_join(shown, de->d_name);
        if (!child) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        st = rm_at(dirfd(d), de->d_name, dev, child, err);
        free(child);
        if (st != RD_OK)
            goto out;
    }
    closedir(d);
    d = NULL;
    if (unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot remove %s", shown);
out:
    if (d)
        closedir(d);
    return st;
}

/* 1 when p lies strictly inside dir (both resolved, no trailing slash). */
static int strictly_inside(const char *p, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(p, dir, n) == 0 && p[n] == '/' && p[n + 1] != '\0';
}

/* Resolved location of path itself: realpath of its parent + its last name
 * (so a symlink is not followed). Heap result or NULL (errno set). */
static char *resolve_location(const char *path)
{
    char *copy = rd_strdup(path);
    char *res = NULL;
    if (!copy)
        return NULL;
    size_t len = strlen(copy);
    while (len > 1 && copy[len - 1] == '/')
        copy[--len] = '\0';
    char *slash = strrchr(copy, '/');
    const char *name = slash ? slash + 1 : copy;
    const char *parent = slash ? (slash == copy ? "/" : copy) : ".";
    if (slash)
        *slash = '\0';
    char *rparent = realpath(parent, NULL);
    if (rparent) {
        res = strcmp(rparent, "/") == 0 ? rd_asprintf("/%s", name)
                                        : rd_asprintf("%s/%s", rparent, name);
        free(rparent);
    }
    free(copy);
    return res;
}

rd_status rd_fs_rmtree(const char *path, const char *base, rd_error *err)
{
    rd_status st = RD_OK;
    char *rbase = NULL, *loc = NULL, *target = NULL, *parent = NULL;
    int pfd = -1;
    struct stat sb, bsb;
    if (lstat(path, &sb) != 0) {
        if (errno == ENOENT)
            return RD_OK;
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot stat %s", path);
    }
    rbase = realpath(base, NULL);
    if (!rbase || stat(rbase, &bsb) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot resolve %s", base);
        goto out;
    }
    if (S_ISLNK(sb.st_mode)) {
        loc = resolve_location(path);
        target = realpath(path, NULL); /* NULL for a dangling link: harmless */
    } else {
        loc = realpath(path, NULL);
    }
    if (!loc) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot resolve %s", path);
        goto out;
    }
    if (strcmp(rbase, "/") == 0 || !strictly_inside(loc, rbase) ||
        (target && !strictly_inside(target, rbase) && strcmp(target, rbase) != 0)) {
        st = RD_ERR(err, RD_ERR_REFUSED, "refusing to delete %s: it is not inside %s", path, base);
        goto out;
    }
    parent = rd_strdup(loc);
    if (!parent) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    char *slash = strrchr(parent, '/');
    *slash = '\0';
    pfd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", parent);
        goto out;
    }
    st = rm_at(pfd, slash + 1, bsb.st_dev, path, err);
out:
    if (pfd >= 0)
        close(pfd);
    free(rbase);
    free(loc);
    free(target);
    free(parent);
    return st;
}

static rd_status write_all(int fd, const void *data, size_t len, const char *path, rd_error *err)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", path);
        p += n;
        len -= (size_t)n;
    }
    return RD_OK;
}

rd_status rd_fs_write_atomic(const char *path, const void *data, size_t len, int mode,
                             rd_error *err)
{
    rd_status st = RD_OK;
    char *tmp = rd_asprintf("%s.tmp.XXXXXX", path);
    char *dir = NULL;
    int fd = -1;
    struct stat sb;
    if (!tmp)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    fd = mkstemp(tmp);
    if (fd < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a temporary file for %s", path);
        free(tmp);
        return st;
    }
    /* Keep the mode of a file being replaced; use `mode` for a new one. */
    mode_t m = stat(path, &sb) == 0 ? (sb.st_mode & 07777) : (mode_t)mode;
    if (fchmod(fd, m) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot set the mode of %s", tmp);
        goto out;
    }
    st = write_all(fd, data, len, path, err);
    if (st != RD_OK)
        goto out;
    if (fsync(fd) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot sync %s", path);
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", path);
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", tmp, path);
        goto out;
    }
    /* Make the rename durable; failure to sync the directory is not fatal. */
    dir = rd_strdup(path);
    if (dir) {
        char *slash = strrchr(dir, '/');
        const char *d = slash ? (slash == dir ? "/" : (*slash = '\0', dir)) : ".";
        int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
out:
    if (fd >= 0)
        close(fd);
    if (st != RD_OK)
        unlink(tmp);
    free(tmp);
    free(dir);
    return st;
}

rd_status rd_fs_read_file(const char *path, size_t max, char **data, size_t *len, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sb;
    char buf[65536];
    if (max == 0)
        max = READ_DEFAULT_MAX;
    rd_strbuf_init(&sb, max);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", path);
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
            goto out;
        }
        if (n == 0)
            break;
        if ((size_t)n > max - sb.len) {
            st = RD_ERR(err, RD_ERR_NOMEM, "%s is larger than %zu bytes", path, max);
            goto out;
        }
        st = rd_strbuf_append_n(&sb, buf, (size_t)n, err);
        if (st != RD_OK)
            goto out;
    }
    size_t n = sb.len;
    char *p = rd_strbuf_detach(&sb);
    if (!p) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    *data = p;
    if (len)
        *len = n;
out:
    rd_strbuf_free(&sb);
    close(fd);
    return st;
}

rd_status rd_fs_mkdir_p(const char *path, int mode, rd_error *err)
{
    rd_status st = RD_OK;
    char *p = rd_strdup(path);
    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t len = strlen(p);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i - 1] == '/')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, (mode_t)mode) != 0) {
            int e = errno;
            struct stat sb;
            if (e != EEXIST) {
                errno = e;
                st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create directory %s", p);
                goto out;
            }
            if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                st = RD_ERR(err, RD_ERR_IO, "cannot create directory %s: a file is in the way", p);
                goto out;
            }
        }
        p[i] = saved;
    }
out:
    free(p);
    return st;
}

int rd_fs_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

int rd_fs_is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

char *rd_fs_join(const char *a, const char *b)
{
    size_t la = strlen(a);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (*b == '/')
        b++;
    if (la == 0)
        return rd_strdup(b);
    if (la == 1 && a[0] == '/')
        return rd_asprintf("/%s", b);
    if (!*b)
        return rd_asprintf("%.*s", (int)la, a);
    return rd_asprintf("%.*s/%s", (int)la, a, b);
}
