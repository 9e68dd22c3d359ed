/* binlog.c: the event headers of one MariaDB binary log, read directly.
 *
 * A v4 binary log is the magic "\xfebin" and a chain of events, each with a
 * 19-byte header: timestamp (4, seconds since the epoch, UTC), type (1),
 * server id (4), event length (4), next position (4), flags (2), all little
 * endian. Walking the lengths from header to header gives every event's time
 * without decoding a body, so a file of several hundred MB is scanned at
 * disk speed in one process (running mariadb-binlog over it would decode and
 * print every row event), and a file whose last event runs past its end is
 * found to be truncated (see LAST_MS_OF_SECOND for the times). The bodies (and their CRC32) are
 * checked by mariadb-binlog itself when the drill replays them. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/mariabackup.h"
#include "restoredrill/strbuf.h"

#define HEADER_LEN 19
#define FLAGS_OFFSET 17
#define LOG_EVENT_BINLOG_IN_USE_F 0x1
/* An event stamped S happened in [S, S + 1 s): first times are taken as
 * the start of their second, last times as its end (the latest instant the
 * event can stand for), so a target at or after a last time is never before
 * the event. */
#define LAST_MS_OF_SECOND 999
#define BUF_LEN ((size_t)1 << 20)

enum {
    EV_STOP = 3,
    EV_ROTATE = 4,
    EV_FORMAT_DESCRIPTION = 15,
    EV_BINLOG_CHECKPOINT = 161,
    EV_GTID_LIST = 163,
    EV_START_ENCRYPTION = 164,
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Events that carry no transaction of their own. */
static int is_housekeeping(unsigned type)
{
    return type == EV_STOP || type == EV_ROTATE || type == EV_FORMAT_DESCRIPTION ||
           type == EV_BINLOG_CHECKPOINT || type == EV_GTID_LIST;
}

typedef struct reader {
    int fd;
    unsigned char *buf;
    uint64_t buf_off; /* file offset of buf[0] */
    size_t buf_len;
} reader;

/* Open path for reading through r (its buffer allocated), *size its
 * length. On failure r keeps what it holds: the caller's cleanup closes it. */
static rd_status reader_open(reader *r, const char *path, uint64_t *size, rd_error *err)
{
    struct stat sb;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", path);
    if (fstat(r->fd, &sb) != 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot stat %s", path);
    if (!(r->buf = malloc(BUF_LEN)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory reading %s", path);
    *size = (uint64_t)sb.st_size;
    return RD_OK;
}

/* The n bytes at off (n <= BUF_LEN): 1 with *p set, 0 past the end, -1 on
 * a read error (errno). */
static int get(reader *r, uint64_t off, size_t n, const unsigned char **p)
{
    if (off >= r->buf_off && off + n <= r->buf_off + r->buf_len) {
        *p = r->buf + (off - r->buf_off);
        return 1;
    }
    size_t got = 0;
    while (got < BUF_LEN) {
        ssize_t k = pread(r->fd, r->buf + got, BUF_LEN - got, (off_t)(off + got));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    r->buf_off = off;
    r->buf_len = got;
    if (got < n)
        return 0;
    *p = r->buf;
    return 1;
}

rd_status rd_mb_scan_binlog(const char *path, rd_mb_binlog *b, rd_error *err)
{
    rd_status st = RD_OK;
    reader r = {-1, NULL, 0, 0};
    int64_t first = -1, last = -1, fde = -1;
    int rotated = 0, closed = 0, in_use = 0;
    char *trunc = NULL;
    uint64_t pos = 4;

    uint64_t size;
    if ((st = reader_open(&r, path, &size, err)) != RD_OK)
        goto out;
    const unsigned char *h;
    int g = get(&r, 0, 4, &h);
    if (g < 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
        goto out;
    }
    if (g == 0 || memcmp(h,
                         "\xfe"
                         "bin",
                         4) != 0) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: not a binary log (bad magic)", path);
        goto out;
    }
    while (pos < size) {
        g = get(&r, pos, HEADER_LEN, &h);
        if (g < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
            goto out;
        }
        if (g == 0) {
            trunc = rd_asprintf("truncated at byte %llu of %llu: an event header is cut short",
                                (unsigned long long)pos, (unsigned long long)size);
            break;
        }
        int64_t when = (int64_t)le32(h) * 1000;
        unsigned type = h[4];
        uint32_t len = le32(h + 9);
        if (len < HEADER_LEN) {
            trunc = rd_asprintf("corrupt at byte %llu of %llu: an event of %u bytes",
                                (unsigned long long)pos, (unsigned long long)size, len);
            break;
        }
        if (pos + len > size) {
            trunc = rd_asprintf("truncated at byte %llu of %llu: the event there needs %u bytes",
                                (unsigned long long)pos, (unsigned long long)size, len);
            break;
        }
        if (type == EV_START_ENCRYPTION) {
            st = RD_ERR(err, RD_ERR_UNSUPPORTED, "%s: encrypted binary logs are not supported",
                        path);
            goto out;
        }
        if (pos == 4 && type != EV_FORMAT_DESCRIPTION) {
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "%s: not a binary log (the first event is not a format description)", path);
            goto out;
        }
        if (type == EV_FORMAT_DESCRIPTION && fde < 0) {
            fde = when;
            in_use = ((unsigned)h[FLAGS_OFFSET] | (unsigned)h[FLAGS_OFFSET + 1] << 8) &
                     LOG_EVENT_BINLOG_IN_USE_F;
        }
        if (!is_housekeeping(type)) {
            if (first < 0)
                first = when;
            last = when + LAST_MS_OF_SECOND;
        }
        rotated = type == EV_ROTATE;
        closed = type == EV_ROTATE || type == EV_STOP;
        pos += len;
    }
    if (pos > 4 && !trunc && fde < 0) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: not a binary log (no format description)", path);
        goto out;
    }
    if (pos == 4 && !trunc)
        trunc = rd_asprintf("truncated at byte 4 of 4: no event");
    if (!trunc && pos != size) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "%s: scan ended at %llu of %llu", path,
                    (unsigned long long)pos, (unsigned long long)size);
        goto out;
    }
    b->bytes = (int64_t)size;
    b->first_ms = first >= 0 ? first : fde;
    b->last_ms = last >= 0 ? last : fde >= 0 ? fde + LAST_MS_OF_SECOND : -1;
    b->end_pos = pos;
    b->rotated = rotated && !trunc;
    b->closed = closed && !trunc;
    b->in_use = in_use != 0;
    free(b->truncated);
    b->truncated = trunc;
    trunc = NULL;
out:
    free(trunc);
    free(r.buf);
    if (r.fd >= 0)
        close(r.fd);
    return st;
}

rd_status rd_mb_binlog_stop_scan(const char *path, uint64_t from_pos, int64_t stop_ms,
                                 rd_mb_stop_scan *sc, rd_error *err)
{
    rd_status st = RD_OK;
    reader r = {-1, NULL, 0, 0};
    uint64_t pos = from_pos < 4 ? 4 : from_pos;
    uint64_t size;
    if ((st = reader_open(&r, path, &size, err)) != RD_OK)
        goto out;
    while (pos < size && !sc->stopped) {
        const unsigned char *h;
        int g = get(&r, pos, HEADER_LEN, &h);
        if (g < 0) {
            st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
            goto out;
        }
        uint32_t len = g ? le32(h + 9) : 0;
        if (g == 0 || len < HEADER_LEN || pos + len > size)
            break; /* the replay fails there with the tool's message */
        int64_t when = (int64_t)le32(h) * 1000;
        if (stop_ms >= 0 && when >= stop_ms) {
            sc->stopped = 1;
            break;
        }
        if (!is_housekeeping(h[4])) {
            sc->last_ms = when + LAST_MS_OF_SECOND;
            sc->last_end = pos + len;
            sc->found = 1;
        }
        pos += len;
    }
out:
    free(r.buf);
    if (r.fd >= 0)
        close(r.fd);
    return st;
}
