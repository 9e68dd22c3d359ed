/* s3_loc.c: a location a catalog reads files from, a local directory or an
 * s3://bucket/prefix (see loc.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/fs.h"
#include "restoredrill/loc.h"
#include "restoredrill/strbuf.h"

struct rd_loc {
    char *where; /* as configured, no trailing '/' */
    char *key;   /* the setting, for messages */
    int s3;
    char *bucket; /* s3 */
    char *prefix; /* s3: "" or ending in '/' */
    char *endpoint, *region;
    int path_style, max_attempts;
    double timeout;
    rd_s3 *c;
    rd_s3_objects all; /* the whole prefix, sorted */
    int listed;
};

void rd_loc_entries_free(rd_loc_entries *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i].name);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

void rd_loc_free(rd_loc *l)
{
    if (!l)
        return;
    free(l->where);
    free(l->key);
    free(l->bucket);
    free(l->prefix);
    free(l->endpoint);
    free(l->region);
    rd_s3_free(l->c);
    rd_s3_objects_free(&l->all);
    free(l);
}

static char *dup_or_null(const char *s, int *fail)
{
    char *d = s ? rd_strdup(s) : NULL;
    if (s && !d)
        *fail = 1;
    return d;
}

rd_status rd_loc_open(const char *where, const char *key, const rd_s3_opts *o, rd_loc **out,
                      rd_error *err)
{
    rd_loc *l = calloc(1, sizeof *l);
    int fail = 0;
    rd_status st = RD_OK;
    if (!l)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    l->key = dup_or_null(key ? key : "location", &fail);
    l->where = dup_or_null(where, &fail);
    if (o) {
        l->endpoint = dup_or_null(o->endpoint, &fail);
        l->region = dup_or_null(o->region, &fail);
        l->path_style = o->path_style;
        l->max_attempts = o->max_attempts;
        l->timeout = o->timeout;
    } else {
        l->path_style = -1;
    }
    if (fail || !where) {
        st = where ? RD_ERR(err, RD_ERR_NOMEM, "out of memory")
                   : RD_ERR(err, RD_ERR_CONFIG, "%s: expected a directory", l->key);
        goto out;
    }
    size_t n = strlen(l->where);
    while (n > 1 && l->where[n - 1] == '/' && !(rd_s3_is_url(l->where) && n <= 5))
        l->where[--n] = '\0';
    if (rd_s3_is_url(where)) {
        char *p = NULL;
        l->s3 = 1;
        if ((st = rd_s3_url_split(where, &l->bucket, &p, err)) != RD_OK) {
            rd_error_prefix(err, "%s: ", l->key);
            goto out;
        }
        size_t pl = strlen(p);
        l->prefix = pl && p[pl - 1] != '/' ? rd_asprintf("%s/", p) : rd_strdup(p);
        free(p);
        if (!l->prefix)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
out:
    if (st != RD_OK) {
        rd_loc_free(l);
        return st;
    }
    *out = l;
    return RD_OK;
}

int rd_loc_is_s3(const rd_loc *l)
{
    return l->s3;
}

const char *rd_loc_where(const rd_loc *l)
{
    return l->where;
}

char *rd_loc_path(const rd_loc *l, const char *rel)
{
    if (!rel || !*rel)
        return rd_strdup(l->where);
    if (l->s3)
        return rd_asprintf("s3://%s/%s%s", l->bucket, l->prefix, rel);
    return rd_fs_join(l->where, rel);
}

static rd_status client(rd_loc *l, rd_error *err)
{
    if (l->c)
        return RD_OK;
    rd_s3_opts o = {.endpoint = l->endpoint,
                    .region = l->region,
                    .path_style = l->path_style,
                    .max_attempts = l->max_attempts,
                    .timeout = l->timeout};
    return rd_s3_new(&o, &l->c, err);
}

static int obj_cmp(const void *x, const void *y)
{
    return strcmp(((const rd_s3_object *)x)->key, ((const rd_s3_object *)y)->key);
}

static rd_status listing(rd_loc *l, rd_error *err)
{
    rd_status st;
    if (l->listed)
        return RD_OK;
    if ((st = client(l, err)) != RD_OK)
        return st;
    if ((st = rd_s3_list(l->c, l->bucket, *l->prefix ? l->prefix : NULL, &l->all, err)) != RD_OK) {
        rd_error_prefix(err, "%s: ", l->key);
        return st;
    }
    if (l->all.n > 1)
        qsort(l->all.items, l->all.n, sizeof *l->all.items, obj_cmp);
    l->listed = 1;
    return RD_OK;
}

/* The S3 key of rel (heap). */
static char *s3_key(const rd_loc *l, const char *rel)
{
    return rd_asprintf("%s%s", l->prefix, rel ? rel : "");
}

/* The first listed key >= k. */
static size_t lower_bound(const rd_loc *l, const char *k)
{
    size_t lo = 0, hi = l->all.n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(l->all.items[mid].key, k) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static rd_status push(rd_loc_entries *out, size_t *cap, const char *name, size_t nl, int is_dir,
                      int64_t size, int64_t mtime, rd_error *err)
{
    if (out->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        rd_loc_entry *ni = realloc(out->items, nc * sizeof *ni);
        if (!ni)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        out->items = ni;
        *cap = nc;
    }
    rd_loc_entry *e = &out->items[out->n];
    if (!(e->name = strndup(name, nl)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    e->is_dir = is_dir;
    e->size = size;
    e->mtime_ms = mtime;
    out->n++;
    return RD_OK;
}

static int entry_cmp(const void *x, const void *y)
{
    return strcmp(((const rd_loc_entry *)x)->name, ((const rd_loc_entry *)y)->name);
}

static rd_status list_local(rd_loc *l, const char *rel, rd_loc_entries *out, size_t *cap,
                            rd_error *err)
{
    char *dir = rd_loc_path(l, rel);
    DIR *d = dir ? opendir(dir) : NULL;
    struct dirent *de;
    rd_status st = RD_OK;
    if (!dir)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (!d) {
        st = RD_ERR_ERRNO(err, RD_ERR_CONFIG, "%s: cannot read %s", l->key, dir);
        free(dir);
        return st;
    }
    while (st == RD_OK && (de = readdir(d)) != NULL) {
        struct stat sb;
        if (de->d_name[0] == '.')
            continue;
        char *p = rd_fs_join(dir, de->d_name);
        if (!p) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        if (stat(p, &sb) == 0)
            st = push(out, cap, de->d_name, strlen(de->d_name), S_ISDIR(sb.st_mode),
                      S_ISDIR(sb.st_mode) ? 0 : (int64_t)sb.st_size,
                      (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000, err);
        free(p);
    }
    closedir(d);
    free(dir);
    return st;
}

rd_status rd_loc_list(rd_loc *l, const char *rel, rd_loc_entries *out, rd_error *err)
{
    rd_loc_entries r = {NULL, 0};
    size_t cap = 0;
    rd_status st;
    char *base = NULL;
    if (!l->s3) {
        st = list_local(l, rel, &r, &cap, err);
        goto out;
    }
    if ((st = listing(l, err)) != RD_OK)
        goto out;
    base = rel && *rel ? rd_asprintf("%s%s/", l->prefix, rel) : rd_strdup(l->prefix);
    if (!base) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t bl = strlen(base), any = 0;
    for (size_t i = lower_bound(l, base); st == RD_OK && i < l->all.n; i++) {
        const rd_s3_object *o = &l->all.items[i];
        if (strncmp(o->key, base, bl) != 0)
            break;
        const char *rest = o->key + bl;
        any++;
        if (!*rest || *rest == '.')
            continue;
        const char *slash = strchr(rest, '/');
        size_t nl = slash ? (size_t)(slash - rest) : strlen(rest);
        rd_loc_entry *last = r.n ? &r.items[r.n - 1] : NULL;
        if (last && last->is_dir && slash && strlen(last->name) == nl &&
            strncmp(last->name, rest, nl) == 0) {
            if (o->mtime_ms > last->mtime_ms)
                last->mtime_ms = o->mtime_ms;
            continue;
        }
        if (nl == 0)
            continue;
        st = push(&r, &cap, rest, nl, slash != NULL, slash ? 0 : o->size, o->mtime_ms, err);
    }
    if (st == RD_OK && !any)
        st = RD_ERR(err, RD_ERR_CONFIG, "%s: s3://%s/%s holds no object", l->key, l->bucket, base);
out:
    free(base);
    if (st != RD_OK) {
        rd_loc_entries_free(&r);
        return st;
    }
    if (r.n > 1)
        qsort(r.items, r.n, sizeof *r.items, entry_cmp);
    *out = r;
    return RD_OK;
}

int rd_loc_stat(rd_loc *l, const char *rel, rd_loc_entry *out, rd_error *err)
{
    rd_loc_entry e = {NULL, 0, 0, 0};
    if (!l->s3) {
        struct stat sb;
        char *p = rd_loc_path(l, rel);
        int ok = p && stat(p, &sb) == 0;
        free(p);
        if (!ok)
            return 0;
        e.is_dir = S_ISDIR(sb.st_mode);
        e.size = e.is_dir ? 0 : (int64_t)sb.st_size;
        e.mtime_ms = (int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000;
    } else {
        if (listing(l, err) != RD_OK)
            return -1;
        char *k = s3_key(l, rel);
        char *kd = rel && *rel ? rd_asprintf("%s%s/", l->prefix, rel) : rd_strdup(l->prefix);
        int found = 0;
        if (!k || !kd) {
            free(k);
            free(kd);
            RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            return -1;
        }
        size_t i = lower_bound(l, k);
        if (i < l->all.n && strcmp(l->all.items[i].key, k) == 0) {
            e.size = l->all.items[i].size;
            e.mtime_ms = l->all.items[i].mtime_ms;
            found = 1;
        } else {
            size_t kl = strlen(kd);
            for (i = lower_bound(l, kd); i < l->all.n && strncmp(l->all.items[i].key, kd, kl) == 0;
                 i++) {
                found = e.is_dir = 1;
                if (l->all.items[i].mtime_ms > e.mtime_ms)
                    e.mtime_ms = l->all.items[i].mtime_ms;
            }
        }
        free(k);
        free(kd);
        if (!found)
            return 0;
    }
    if (out)
        *out = e;
    return 1;
}

rd_status rd_loc_du(rd_loc *l, const char *rel, int64_t *bytes, rd_error *err)
{
    int64_t sum = 0;
    if (!l->s3)
        return RD_ERR(err, RD_ERR_UNSUPPORTED, "rd_loc_du: local directories are walked");
    rd_status st = listing(l, err);
    char *base = st == RD_OK ? rd_asprintf("%s%s/", l->prefix, rel ? rel : "") : NULL;
    if (st != RD_OK)
        return st;
    if (!base)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t bl = strlen(base);
    for (size_t i = lower_bound(l, base);
         i < l->all.n && strncmp(l->all.items[i].key, base, bl) == 0; i++)
        sum += l->all.items[i].size;
    free(base);
    *bytes = sum;
    return RD_OK;
}

typedef struct fd_sink {
    int fd;
    uint64_t max, done;
    int truncated;
    const char *path;
} fd_sink;

static rd_status write_sink(void *ctx, const void *buf, size_t n, rd_error *err)
{
    fd_sink *f = ctx;
    const char *p = buf;
    if (f->max && f->done + n > f->max) {
        n = (size_t)(f->max - f->done);
        f->truncated = 1;
    }
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", f->path);
        p += w;
        n -= (size_t)w;
        f->done += (uint64_t)w;
    }
    return f->truncated ? RD_ERR(err, RD_ERR_ABORTED, "enough") : RD_OK;
}

rd_status rd_loc_stream(rd_loc *l, const char *rel, rd_s3_sink_fn sink, void *ctx, uint64_t *bytes,
                        rd_error *err)
{
    rd_status st = RD_OK;
    if (l->s3) {
        char *k = s3_key(l, rel);
        if (!k)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if ((st = client(l, err)) == RD_OK)
            st = rd_s3_get(l->c, l->bucket, k, NULL, sink, ctx, bytes, err);
        free(k);
        return st;
    }
    char *p = rd_loc_path(l, rel);
    int fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
    uint64_t total = 0;
    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (fd < 0) {
        st = RD_ERR_ERRNO(err, errno == ENOENT ? RD_ERR_NOTFOUND : RD_ERR_IO, "cannot open %s", p);
        free(p);
        return st;
    }
    char *buf = malloc(1 << 16);
    if (!buf) {
        close(fd);
        free(p);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    for (;;) {
        ssize_t r = read(fd, buf, 1 << 16);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", p);
            break;
        }
        if (r == 0)
            break;
        if ((st = sink(ctx, buf, (size_t)r, err)) != RD_OK)
            break;
        total += (uint64_t)r;
    }
    free(buf);
    close(fd);
    free(p);
    if (st == RD_OK && bytes)
        *bytes = total;
    return st;
}

rd_status rd_loc_read(rd_loc *l, const char *rel, size_t max, char **data, size_t *len,
                      rd_error *err)
{
    if (!l->s3) {
        char *p = rd_loc_path(l, rel);
        rd_status st = p ? rd_fs_read_file(p, max, data, len, err)
                         : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(p);
        return st;
    }
    char *k = s3_key(l, rel);
    size_t n = 0;
    rd_status st = k ? client(l, err) : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK)
        st = rd_s3_get_mem(l->c, l->bucket, k, max ? max : (size_t)64 << 20, data, &n, err);
    if (st == RD_OK && len)
        *len = n;
    free(k);
    return st;
}

rd_status rd_loc_fetch(rd_loc *l, const char *rel, const char *dst, uint64_t max, int *truncated,
                       rd_error *err)
{
    char *part = rd_asprintf("%s.rdpart", dst);
    fd_sink f = {.fd = -1, .max = max, .path = dst};
    rd_status st = RD_OK;
    if (!part)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    f.fd = open(part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (f.fd < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", part);
        goto out;
    }
    st = rd_loc_stream(l, rel, write_sink, &f, NULL, err);
    if (st == RD_ERR_ABORTED && f.truncated)
        st = RD_OK;
    if (close(f.fd) != 0 && st == RD_OK)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", dst);
    f.fd = -1;
    if (st == RD_OK && rename(part, dst) != 0)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s", part);
    if (st == RD_OK && truncated)
        *truncated = f.truncated;
out:
    if (st != RD_OK)
        unlink(part);
    free(part);
    return st;
}

rd_status rd_loc_local(rd_loc *l, const char *rel, const char *tmpdir, char **local, int *copy,
                       rd_error *err)
{
    if (!l->s3) {
        char *p = rd_loc_path(l, rel);
        if (!p)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        *local = p;
        *copy = 0;
        return RD_OK;
    }
    const char *base = strrchr(rel, '/');
    char *dst = rd_fs_join(tmpdir, base ? base + 1 : rel);
    if (!dst)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_loc_fetch(l, rel, dst, 0, NULL, err);
    if (st != RD_OK) {
        free(dst);
        return st;
    }
    *local = dst;
    *copy = 1;
    return RD_OK;
}

/* A relative key path that stays below its directory. */
static int safe_rel(const char *r)
{
    if (!*r || *r == '/')
        return 0;
    for (const char *p = r; p;) {
        const char *s = strchr(p, '/');
        size_t n = s ? (size_t)(s - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        p = s ? s + 1 : NULL;
    }
    return 1;
}

rd_status rd_loc_fetch_tree(rd_loc *l, const char *rel, const char *dstdir, uint64_t *bytes,
                            rd_error *err)
{
    rd_status st;
    uint64_t total = 0;
    if (!l->s3) {
        char *src = rd_loc_path(l, rel);
        st = src ? rd_fs_copy_tree(src, dstdir, 0, 0, 0, err)
                 : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(src);
        return st;
    }
    char *base = NULL;
    if ((st = listing(l, err)) != RD_OK)
        return st;
    if ((st = rd_fs_mkdir_p(dstdir, 0700, err)) != RD_OK)
        return st;
    base = rel && *rel ? rd_asprintf("%s%s/", l->prefix, rel) : rd_strdup(l->prefix);
    if (!base)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    size_t bl = strlen(base), pl = strlen(l->prefix);
    for (size_t i = lower_bound(l, base); st == RD_OK && i < l->all.n; i++) {
        const rd_s3_object *o = &l->all.items[i];
        if (strncmp(o->key, base, bl) != 0)
            break;
        const char *r = o->key + bl;
        size_t rl = strlen(r);
        if (rl == 0 || r[rl - 1] == '/')
            continue; /* a directory marker */
        if (!safe_rel(r)) {
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "%s: s3://%s/%s: a key with an empty, . or .. segment cannot be fetched "
                        "into a directory",
                        l->key, l->bucket, o->key);
            break;
        }
        char *dst = rd_fs_join(dstdir, r);
        char *slash = dst ? strrchr(dst, '/') : NULL;
        if (!dst) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        *slash = '\0';
        st = rd_fs_mkdir_p(dst, 0700, err);
        *slash = '/';
        if (st == RD_OK)
            st = rd_loc_fetch(l, o->key + pl, dst, 0, NULL, err);
        total += (uint64_t)o->size;
        free(dst);
    }
    free(base);
    if (st == RD_OK && bytes)
        *bytes = total;
    return st;
}
