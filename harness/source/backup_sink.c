/* backup_sink.c: the pieces every engine's backup uses: the output sink
 * (gzip/zstd in process, sha256 and size of what lands on disk), the thread
 * that pumps a dump tool's stdout into it, and the manifest written beside
 * the artifact. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

#define CHUNK 65536

struct rd_bk_sink {
    int fd;
    char *path;
    rd_s3 *s3; /* an s3:// path: a multipart upload, completed by finish */
    rd_s3_upload *up;
    rd_wrap wrap;
    z_stream z;
    int z_init;
    ZSTD_CCtx *zc;
    rd_sha256 *h;
    int64_t bytes;
    /* sections (rd_bk_sink_sections_on): the open piece and the closed ones */
    int sections;
    rd_sha256 *ph;       /* the open piece's sha256 */
    int64_t piece_start; /* its first stored byte */
    int64_t fed;         /* uncompressed bytes given to the open member/frame */
    char *label;         /* its database; NULL: shared */
    rd_manifest *pieces; /* closed pieces, in its sections */
    unsigned char out[CHUNK];
};

static rd_status raw_write(rd_bk_sink *s, const void *data, size_t n, rd_error *err)
{
    const unsigned char *p = data;
    rd_sha256_update(s->h, data, n);
    if (s->ph)
        rd_sha256_update(s->ph, data, n);
    s->bytes += (int64_t)n;
    if (s->up)
        return rd_s3_upload_write(s->up, data, n, err);
    while (n > 0) {
        ssize_t w = write(s->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", s->path);
        p += w;
        n -= (size_t)w;
    }
    return RD_OK;
}

rd_status rd_bk_sink_open(const char *path, rd_wrap wrap, rd_bk_sink **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_bk_sink *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->fd = -1;
    s->wrap = wrap;
    s->path = rd_strdup(path);
    if (!s->path) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if ((st = rd_sha256_new(&s->h, err)) != RD_OK)
        goto out;
    if (rd_s3_is_url(path)) {
        char *bucket = NULL, *key = NULL;
        st = rd_s3_url_split(path, &bucket, &key, err);
        if (st == RD_OK)
            st = rd_s3_new(NULL, &s->s3, err);
        if (st == RD_OK)
            st = rd_s3_upload_begin(s->s3, bucket, key, 0, &s->up, err);
        free(bucket);
        free(key);
        if (st != RD_OK)
            goto out;
    } else if ((s->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", path);
        goto out;
    }
    if (wrap == RD_WRAP_GZIP) {
        if (deflateInit2(&s->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            st = RD_ERR(err, RD_ERR_NOMEM, "cannot start gzip compression");
            goto out;
        }
        s->z_init = 1;
    } else if (wrap == RD_WRAP_ZSTD) {
        s->zc = ZSTD_createCCtx();
        if (!s->zc || ZSTD_isError(ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, 3))) {
            st = RD_ERR(err, RD_ERR_NOMEM, "cannot start zstd compression");
            goto out;
        }
    }
out:
    if (st == RD_OK)
        *out = s;
    else
        rd_bk_sink_free(s);
    return st;
}

static rd_status gz_feed(rd_bk_sink *s, const void *data, size_t n, int flush, rd_error *err)
{
    s->z.next_in = (Bytef *)(uintptr_t)data;
    s->z.avail_in = (uInt)n;
    for (;;) {
        s->z.next_out = s->out;
        s->z.avail_out = CHUNK;
        int rc = deflate(&s->z, flush);
        if (rc == Z_STREAM_ERROR)
            return RD_ERR(err, RD_ERR_INTERNAL, "gzip compression failed");
        size_t have = CHUNK - s->z.avail_out;
        if (have) {
            rd_status st = raw_write(s, s->out, have, err);
            if (st != RD_OK)
                return st;
        }
        if (flush == Z_FINISH ? rc == Z_STREAM_END : (s->z.avail_in == 0 && have < CHUNK))
            return RD_OK;
    }
}

static rd_status zstd_feed(rd_bk_sink *s, const void *data, size_t n, int end, rd_error *err)
{
    ZSTD_inBuffer in = {data, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {s->out, CHUNK, 0};
        size_t left = ZSTD_compressStream2(s->zc, &ob, &in, end ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            return RD_ERR(err, RD_ERR_INTERNAL, "zstd compression failed: %s",
                          ZSTD_getErrorName(left));
        if (ob.pos) {
            rd_status st = raw_write(s, s->out, ob.pos, err);
            if (st != RD_OK)
                return st;
        }
        if (end ? left == 0 : in.pos == in.size)
            return RD_OK;
    }
}

rd_status rd_bk_sink_write(rd_bk_sink *s, const void *data, size_t n, rd_error *err)
{
    s->fed += (int64_t)n;
    if (s->wrap == RD_WRAP_GZIP) {
        rd_status st = RD_OK;
        const char *p = data;
        while (n > 0 && st == RD_OK) { /* avail_in is 32 bits */
            size_t k = n > (1u << 30) ? (1u << 30) : n;
            st = gz_feed(s, p, k, Z_NO_FLUSH, err);
            p += k;
            n -= k;
        }
        return st;
    }
    if (s->wrap == RD_WRAP_ZSTD)
        return zstd_feed(s, data, n, 0, err);
    return raw_write(s, data, n, err);
}

rd_status rd_bk_sink_sections_on(rd_bk_sink *s, rd_error *err)
{
    if (s->sections)
        return RD_OK;
    if (s->bytes != 0 || s->fed != 0)
        return RD_ERR(err, RD_ERR_INTERNAL, "sections must start with the file");
    if (!(s->pieces = rd_manifest_new(RD_ENGINE_PG)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    s->sections = 1;
    return rd_sha256_new(&s->ph, err);
}

rd_status rd_bk_sink_label(rd_bk_sink *s, const char *database, rd_error *err)
{
    char *l = NULL;
    if (!s->sections)
        return RD_OK;
    if (database && !(l = rd_strdup(database)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(s->label);
    s->label = l;
    return RD_OK;
}

/* End the open member/frame (nothing for plain) and close the open piece. */
static rd_status close_piece(rd_bk_sink *s, rd_error *err)
{
    rd_status st = RD_OK;
    char hex[RD_SHA256_HEX_LEN + 1];
    if (s->wrap == RD_WRAP_GZIP) {
        st = gz_feed(s, NULL, 0, Z_FINISH, err);
        if (st == RD_OK && deflateReset(&s->z) != Z_OK)
            st = RD_ERR(err, RD_ERR_INTERNAL, "gzip compression failed");
    } else if (s->wrap == RD_WRAP_ZSTD) {
        st = zstd_feed(s, NULL, 0, 1, err);
    }
    if (st != RD_OK || !s->sections || s->bytes == s->piece_start)
        return st;
    rd_sha256_final_hex(s->ph, hex);
    rd_sha256_free(s->ph);
    s->ph = NULL;
    st = rd_manifest_add_section(s->pieces, s->label, s->piece_start, s->bytes - s->piece_start,
                                 hex, err);
    if (st == RD_OK)
        st = rd_sha256_new(&s->ph, err);
    s->piece_start = s->bytes;
    return st;
}

rd_status rd_bk_sink_cut(rd_bk_sink *s, const char *database, rd_error *err)
{
    rd_status st = RD_OK;
    if (!s->sections)
        return RD_OK;
    if (s->fed > 0) /* an empty piece is only relabelled */
        st = close_piece(s, err);
    s->fed = 0;
    return st == RD_OK ? rd_bk_sink_label(s, database, err) : st;
}

const rd_manifest *rd_bk_sink_pieces(const rd_bk_sink *s)
{
    return s->sections ? s->pieces : NULL;
}

rd_status rd_bk_sink_finish(rd_bk_sink *s, char *hex, int64_t *bytes, rd_error *err)
{
    rd_status st = RD_OK;
    if (s->sections)
        st = close_piece(s, err);
    else if (s->wrap == RD_WRAP_GZIP)
        st = gz_feed(s, NULL, 0, Z_FINISH, err);
    else if (s->wrap == RD_WRAP_ZSTD)
        st = zstd_feed(s, NULL, 0, 1, err);
    if (st != RD_OK)
        return st;
    if (s->up) {
        rd_s3_upload *up = s->up;
        s->up = NULL; /* finish frees it, also when it fails (after aborting) */
        if ((st = rd_s3_upload_finish(up, err)) != RD_OK)
            return st;
        rd_sha256_final_hex(s->h, hex);
        *bytes = s->bytes;
        return RD_OK;
    }
    if (fsync(s->fd) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot sync %s", s->path);
    if (close(s->fd) != 0) {
        s->fd = -1;
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot close %s", s->path);
    }
    s->fd = -1;
    rd_sha256_final_hex(s->h, hex);
    *bytes = s->bytes;
    return RD_OK;
}

void rd_bk_sink_free(rd_bk_sink *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    rd_s3_upload_abort(s->up); /* no partial object stays behind */
    rd_s3_free(s->s3);
    if (s->z_init)
        deflateEnd(&s->z);
    ZSTD_freeCCtx(s->zc);
    rd_sha256_free(s->h);
    rd_sha256_free(s->ph);
    free(s->label);
    rd_manifest_free(s->pieces);
    free(s->path);
    free(s);
}

/* ---------- pump ---------- */

static void *pump_main(void *arg)
{
    rd_bk_pump *p = arg;
    static __thread char buf[CHUNK];
    rd_status st = RD_OK;
    rd_error err = {0};
    for (;;) {
        ssize_t n = read(p->fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            st = RD_ERR_ERRNO(&err, RD_ERR_IO, "cannot read the dump tool's output");
            break;
        }
        if (n == 0) {
            if (st == RD_OK && p->write) /* the writer's held bytes */
                st = p->write(p->ud, p->sink, buf, 0, &err);
            break;
        }
        if (st != RD_OK)
            continue; /* keep draining so the tool never blocks on a full pipe */
        if (p->inspect && p->inspect(p->ud, buf, (size_t)n) && !p->started) {
            pthread_mutex_lock(&p->mu);
            p->started = 1;
            pthread_cond_broadcast(&p->cv);
            pthread_mutex_unlock(&p->mu);
        }
        st = p->write ? p->write(p->ud, p->sink, buf, (size_t)n, &err)
                      : rd_bk_sink_write(p->sink, buf, (size_t)n, &err);
    }
    pthread_mutex_lock(&p->mu);
    p->st = st;
    p->err = err;
    p->done = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

rd_status rd_bk_pump_start(rd_bk_pump *p, int fd, rd_bk_sink *sink, rd_bk_inspect_fn inspect,
                           void *ud, rd_error *err)
{
    return rd_bk_pump_start_w(p, fd, sink, inspect, NULL, ud, err);
}

rd_status rd_bk_pump_start_w(rd_bk_pump *p, int fd, rd_bk_sink *sink, rd_bk_inspect_fn inspect,
                             rd_bk_write_fn write, void *ud, rd_error *err)
{
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->sink = sink;
    p->inspect = inspect;
    p->write = write;
    p->ud = ud;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    int rc = pthread_create(&p->thread, NULL, pump_main, p);
    if (rc != 0) {
        errno = rc;
        return RD_ERR_ERRNO(err, RD_ERR_INTERNAL, "cannot start a thread");
    }
    p->running = 1;
    return RD_OK;
}

int rd_bk_pump_wait_started(rd_bk_pump *p, double timeout)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)timeout;
    pthread_mutex_lock(&p->mu);
    while (!p->started && !p->done && !rd_abort_requested()) {
        struct timespec slice;
        clock_gettime(CLOCK_REALTIME, &slice);
        slice.tv_nsec += 100000000L;
        if (slice.tv_nsec >= 1000000000L) {
            slice.tv_sec++;
            slice.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&p->cv, &p->mu, &slice);
        if (slice.tv_sec > ts.tv_sec)
            break;
    }
    int started = p->started;
    pthread_mutex_unlock(&p->mu);
    return started;
}

rd_status rd_bk_pump_join(rd_bk_pump *p, rd_error *err)
{
    if (!p->running)
        return RD_OK;
    pthread_join(p->thread, NULL);
    p->running = 0;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    if (p->st != RD_OK && err)
        *err = p->err;
    return p->st;
}

/* ---------- manifest ---------- */

const char *rd_bk_format_name(rd_format f, rd_wrap w, char *buf, size_t n)
{
    if (w == RD_WRAP_NONE)
        snprintf(buf, n, "%s", rd_format_name(f));
    else
        snprintf(buf, n, "%s+%s", rd_format_name(f), rd_wrap_name(w));
    return buf;
}

/* The sidecar of an s3:// artifact: one PUT of the rendered manifest. */
static rd_status put_manifest(const rd_manifest *m, const char *url, rd_error *err)
{
    char *bucket = NULL, *key = NULL, *text = rd_manifest_render(m);
    rd_s3 *s3 = NULL;
    rd_status st = text ? rd_s3_url_split(url, &bucket, &key, err)
                        : RD_ERR(err, RD_ERR_NOMEM, "cannot build manifest %s", url);
    if (st == RD_OK)
        st = rd_s3_new(NULL, &s3, err);
    if (st == RD_OK)
        st = rd_s3_put(s3, bucket, key, text, strlen(text), err);
    rd_s3_free(s3);
    free(bucket);
    free(key);
    free(text);
    return st;
}

rd_status rd_bk_finish_manifest(rd_manifest *m, const rd_backup_opts *o, const char *sha,
                                int64_t bytes, const rd_bk_sink *sink, rd_error *err)
{
    char fmt[64];
    rd_status st = RD_OK;
    const rd_manifest *pc = sink ? rd_bk_sink_pieces(sink) : NULL;
    for (size_t i = 0; pc && st == RD_OK && i < pc->nsections; i++) {
        const rd_manifest_section *p = &pc->sections[i];
        st = rd_manifest_add_section(m, p->database, p->offset, p->length, p->sha256, err);
    }
    if (st == RD_OK && pc)
        st = rd_manifest_check_sections(m->sections, m->nsections, bytes, o->out, err);
    if (st != RD_OK)
        return st;
    const char *slash = strrchr(o->out, '/');
    char *side = rd_manifest_sidecar_path(o->out);
    m->artifact_file = rd_strdup(slash ? slash + 1 : o->out);
    m->artifact_sha256 = rd_strdup(sha);
    m->artifact_format = rd_strdup(rd_bk_format_name(o->format, o->wrap, fmt, sizeof fmt));
    m->artifact_bytes = bytes;
    if (!side || !m->artifact_file || !m->artifact_format || (sha && !m->artifact_sha256))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    else if (rd_s3_is_url(side))
        st = put_manifest(m, side, err);
    else
        st = rd_manifest_save(m, side, err);
    free(side);
    return st;
}

/* ---------- the dump's second half ---------- */

rd_status rd_bk_count_while_dumping(rd_db *db, rd_manifest *m, int with_checksums, rd_proc *proc,
                                    const char *tool, rd_bk_pump *pump, rd_error *err)
{
    rd_error cerr = {0};
    rd_status cst = rd_manifest_count_rows(db, m, &cerr);
    if (cst == RD_OK && with_checksums)
        cst = rd_manifest_capture_checksums(db, m, &cerr);
    int code = 0;
    rd_status st = rd_proc_wait(proc, 0, &code, err);
    rd_status pst = rd_bk_pump_join(pump, st == RD_OK ? err : NULL);
    if (st != RD_OK)
        return st;
    if (code != 0)
        return rd_proc_fail(err, tool, code, rd_proc_stderr_tail(proc));
    if (pst != RD_OK)
        return pst;
    if (cst != RD_OK) {
        if (err)
            *err = cerr;
        return rd_error_prefix(err, "capturing the manifest: ");
    }
    return RD_OK;
}
