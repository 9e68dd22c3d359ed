/* dir.c: the "dir" catalog: files (or pg_dump directory-format dumps) in one
 * directory, matched by a glob. Creation time comes from the sidecar manifest,
 * else a timestamp in the name, else the mtime (time_from forces one). */
#include "catalog_int.h"
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_MAX ((size_t)256 * 1024 * 1024)

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int64_t stat_mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* Sum of the regular files directly inside a directory-format dump; 1 when
 * it holds toc.dat, 0 when it is not a dump. */
static rd_status scan_dump_dir(const char *path, int *is_dump, int64_t *bytes, rd_error *err)
{
    rd_status st = RD_OK;
    int64_t sum = 0;
    int found = 0;
    DIR *d = opendir(path);
    if (!d)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read directory %s", path);
    int dfd = dirfd(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat sb;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dfd, de->d_name, &sb, 0) != 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot stat %s/%s", path, de->d_name);
            goto out;
        }
        if (!S_ISREG(sb.st_mode))
            continue;
        if (strcmp(de->d_name, "toc.dat") == 0)
            found = 1;
        sum += (int64_t)sb.st_size;
    }
    *is_dump = found;
    *bytes = sum;
out:
    closedir(d);
    return st;
}

/* Read a whole (small) file into a heap string. */
static rd_status slurp(const char *path, char **out, size_t *len, rd_error *err)
{
    rd_status st = RD_OK;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    FILE *f = fopen(path, "rbe");
    if (!f)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", path);
    for (;;) {
        if (cap - n < 65536) {
            if (cap >= MANIFEST_MAX) {
                st = RD_ERR(err, RD_ERR_NOMEM, "%s is larger than %zu bytes", path, MANIFEST_MAX);
                goto out;
            }
            size_t ncap = cap ? cap * 2 : 131072;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory reading %s", path);
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) {
                st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
                goto out;
            }
            break;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return st;
}

/* Take captured_at and the "artifact" facts from a sidecar manifest file. */
static rd_status read_sidecar(const char *mpath, rd_point *pt, int *has_time, int64_t *ms,
                              rd_error *err)
{
    char *text = NULL;
    size_t len = 0;
    rd_status st = slurp(mpath, &text, &len, err);
    if (st == RD_OK)
        st = rd_cat_sidecar_parse(text, len, mpath, pt, has_time, ms, err);
    free(text);
    return st;
}

/* Build the point for one directory entry; *keep is 0 when it is not one. */
static rd_status make_point(const char *dir, const char *name, time_src src, rd_point *pt,
                            int *keep, rd_error *err)
{
    rd_status st = RD_OK;
    char *mpath = NULL;
    struct stat sb;
    *keep = 0;
    pt->location = rd_asprintf("%s/%s", dir, name);
    pt->id = strdup(name);
    if (!pt->location || !pt->id)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory listing %s", dir);
    if (stat(pt->location, &sb) != 0) {
        if (errno == ENOENT) /* vanished or a dangling link */
            return RD_OK;
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot stat %s", pt->location);
    }
    if (S_ISDIR(sb.st_mode)) {
        int is_dump = 0;
        st = scan_dump_dir(pt->location, &is_dump, &pt->bytes, err);
        if (st != RD_OK || !is_dump)
            return st;
    } else if (S_ISREG(sb.st_mode)) {
        pt->bytes = (int64_t)sb.st_size;
    } else {
        return RD_OK;
    }

    int64_t mms = 0;
    int have_manifest_time = 0;
    mpath = rd_asprintf("%s" RD_CAT_SIDECAR_SUFFIX, pt->location);
    if (!mpath)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory listing %s", dir);
    if (access(mpath, F_OK) == 0) {
        st = read_sidecar(mpath, pt, &have_manifest_time, &mms, err);
        if (st != RD_OK)
            goto out;
        pt->manifest = mpath;
        mpath = NULL;
    }
    st = rd_cat_choose_time(src, have_manifest_time, mms, name, stat_mtime_ms(&sb), pt, err);
    if (st != RD_OK)
        goto out;
    *keep = 1;
out:
    free(mpath);
    return st;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static rd_status dir_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_points pts = {0};
    rd_point pt;
    char **names = NULL;
    size_t nnames = 0;
    time_src src = SRC_AUTO;
    DIR *d = NULL;
    memset(&pt, 0, sizeof pt);
    pt.bytes = -1;

    if (!cfg->path || !*cfg->path)
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.path: expected a directory");
    st = rd_cat_time_from(cfg->time_from, &src, err);
    if (st != RD_OK)
        return st;
    if (rd_s3_is_url(cfg->path)) {
        char *bucket = NULL, *prefix = NULL;
        st = rd_s3_url_split(cfg->path, &bucket, &prefix, err);
        if (st == RD_OK && *prefix && prefix[strlen(prefix) - 1] != '/') {
            char *p = rd_asprintf("%s/", prefix); /* a directory: the keys under it */
            free(prefix);
            prefix = p;
            if (!p)
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        }
        if (st == RD_OK)
            st = rd_cat_s3_list(cfg, bucket, prefix, out, err);
        free(bucket);
        free(prefix);
        return st;
    }
    const char *pattern = cfg->pattern && *cfg->pattern ? cfg->pattern : "*";

    d = opendir(cfg->path);
    if (!d) {
        if (errno == ENOENT)
            st = RD_ERR(err, RD_ERR_NOTFOUND,
                        "catalog.path: directory %s does not exist (create it or correct the path)",
                        cfg->path);
        else if (errno == EACCES)
            st = RD_ERR(err, RD_ERR_IO,
                        "catalog.path: cannot read directory %s: permission denied (give the "
                        "user running restoredrill read and search access)",
                        cfg->path);
        else
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "catalog.path: cannot read directory %s", cfg->path);
        goto out;
    }
    struct dirent *de;
    errno = 0;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (name[0] == '.' || ends_with(name, RD_CAT_SIDECAR_SUFFIX) ||
            fnmatch(pattern, name, 0) != 0)
            continue;
        char **nn = realloc(names, (nnames + 1) * sizeof *nn);
        if (!nn || !(nn[nnames] = strdup(name))) {
            if (nn)
                names = nn;
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory listing %s", cfg->path);
            goto out;
        }
        names = nn;
        nnames++;
        errno = 0;
    }
    if (errno != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "catalog.path: cannot read directory %s", cfg->path);
        goto out;
    }
    if (nnames > 1)
        qsort(names, nnames, sizeof *names, name_cmp);
    for (size_t i = 0; i < nnames; i++) {
        int keep = 0;
        st = make_point(cfg->path, names[i], src, &pt, &keep, err);
        if (st != RD_OK)
            goto out;
        if (keep) {
            st = rd_points_push(&pts, &pt, err);
            if (st != RD_OK)
                goto out;
        } else {
            rd_point_clear(&pt);
        }
    }
    *out = pts;
    pts.items = NULL;
    pts.n = 0;
out:
    rd_point_clear(&pt);
    rd_points_free(&pts);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    if (d)
        closedir(d);
    return st;
}

const rd_catalog_type rd_catalog_dir = {
    .name = "dir",
    .list = dir_list,
};
