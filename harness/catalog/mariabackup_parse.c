/* mariabackup_parse.c: the files mariadb-backup writes into each backup
 * (xtrabackup_checkpoints, xtrabackup_info, xtrabackup_binlog_info; the
 * mariadb_backup_* names of later versions are the same formats), and the
 * local times of xtrabackup_info read in the catalog's time zone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define ZONEINFO_DEFAULT "/usr/share/zoneinfo"

/* The next line of *p (without its newline) into line (truncated to
 * linesz - 1); 0 at the end of the text. */
static int next_line(const char **p, char *line, size_t linesz)
{
    const char *s = *p;
    if (!*s)
        return 0;
    const char *e = strchr(s, '\n');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    size_t k = n < linesz - 1 ? n : linesz - 1;
    memcpy(line, s, k);
    line[k] = '\0';
    if (k > 0 && line[k - 1] == '\r')
        line[k - 1] = '\0';
    *p = e ? e + 1 : s + n;
    return 1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* "key = value": splits in place; 0 when the line has no '='. */
static int split_kv(char *line, char **key, char **val)
{
    char *eq = strchr(line, '=');
    if (!eq)
        return 0;
    *eq = '\0';
    *key = trim(line);
    *val = trim(eq + 1);
    return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
    if (!*s || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end)
        return 0;
    *out = (uint64_t)v;
    return 1;
}

rd_status rd_mb_parse_checkpoints(const char *text, rd_mb_backup *b, rd_error *err)
{
    char line[512];
    int lineno = 0, have_type = 0, have_from = 0, have_to = 0, inc = 0;
    uint64_t from = 0, to = 0;
    const char *p = text;
    while (next_line(&p, line, sizeof line)) {
        char *k, *v;
        lineno++;
        if (!*trim(line))
            continue;
        if (!split_kv(line, &k, &v))
            return RD_ERR(err, RD_ERR_FORMAT, "line %d: expected \"key = value\"", lineno);
        if (strcmp(k, "backup_type") == 0) {
            if (strcmp(v, "incremental") == 0)
                inc = 1;
            else if (strcmp(v, "full-backuped") == 0 || strcmp(v, "full-prepared") == 0 ||
                     strcmp(v, "log-applied") == 0)
                inc = 0;
            else
                return RD_ERR(err, RD_ERR_FORMAT,
                              "line %d: backup_type: expected full-backuped, full-prepared, "
                              "log-applied or incremental, got \"%.64s\"",
                              lineno, v);
            have_type = 1;
        } else if (strcmp(k, "from_lsn") == 0 || strcmp(k, "to_lsn") == 0) {
            uint64_t n;
            if (!parse_u64(v, &n))
                return RD_ERR(err, RD_ERR_FORMAT, "line %d: %s: expected a number, got \"%.64s\"",
                              lineno, k, v);
            if (k[0] == 'f') {
                from = n;
                have_from = 1;
            } else {
                to = n;
                have_to = 1;
            }
        }
    }
    if (!have_type)
        return RD_ERR(err, RD_ERR_FORMAT, "missing backup_type");
    if (!have_from)
        return RD_ERR(err, RD_ERR_FORMAT, "missing from_lsn");
    if (!have_to)
        return RD_ERR(err, RD_ERR_FORMAT, "missing to_lsn");
    b->incremental = inc;
    b->from_lsn = from;
    b->to_lsn = to;
    return RD_OK;
}

rd_status rd_mb_parse_binlog_info(const char *text, rd_mb_backup *b, rd_error *err)
{
    char line[1024];
    const char *p = text;
    if (!next_line(&p, line, sizeof line) || !*trim(line))
        return RD_OK;
    char *f[3] = {NULL, NULL, NULL};
    size_t nf = 0;
    for (char *s = line; *s && nf < 3;) {
        while (*s == '\t' || *s == ' ')
            s++;
        if (!*s)
            break;
        f[nf++] = s;
        while (*s && *s != '\t' && *s != ' ')
            s++;
        if (*s)
            *s++ = '\0';
    }
    uint64_t pos = 0;
    if (nf < 2 || !parse_u64(f[1], &pos))
        return RD_ERR(err, RD_ERR_FORMAT,
                      "expected \"FILE<TAB>POSITION[<TAB>GTID]\" on the first line");
    if (strchr(f[0], '/'))
        return RD_ERR(err, RD_ERR_FORMAT, "binlog file name \"%.64s\" holds a '/'", f[0]);
    char *file = strdup(f[0]);
    char *gtid = f[2] && *f[2] ? strdup(f[2]) : NULL;
    if (!file || (f[2] && *f[2] && !gtid)) {
        free(file);
        free(gtid);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    free(b->binlog_file);
    free(b->gtid);
    b->binlog_file = file;
    b->binlog_pos = pos;
    b->gtid = gtid;
    return RD_OK;
}

static int is_utc(const char *tz)
{
    return !tz || !*tz || strcmp(tz, "UTC") == 0 || strcmp(tz, "Z") == 0 ||
           strcmp(tz, "Etc/UTC") == 0 || strcmp(tz, "GMT") == 0;
}

/* "+02:00" / "-0530": 1 and the offset in minutes east of UTC. */
static int fixed_offset(const char *tz, int *minutes)
{
    if (tz[0] != '+' && tz[0] != '-')
        return 0;
    const char *d = tz + 1;
    int v[4], n = 0;
    for (size_t i = 0; d[i]; i++) {
        if (d[i] == ':' && i == 2)
            continue;
        if (d[i] < '0' || d[i] > '9' || n == 4)
            return 0;
        v[n++] = d[i] - '0';
    }
    if (n != 4)
        return 0;
    int h = v[0] * 10 + v[1], m = v[2] * 10 + v[3];
    if (h > 15 || m > 59)
        return 0;
    *minutes = (tz[0] == '-' ? -1 : 1) * (h * 60 + m);
    return 1;
}

/* The zoneinfo file of an IANA name, heap; NULL when the name is not one. */
static char *zone_file(const char *tz)
{
    if (tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 64)
        return NULL;
    for (const char *c = tz; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '/' || *c == '_' || *c == '-' || *c == '+'))
            return NULL;
    const char *dir = getenv("TZDIR");
    char *path = rd_asprintf("%s/%s", dir && *dir ? dir : ZONEINFO_DEFAULT, tz);
    if (path && (!rd_fs_exists(path) || rd_fs_is_dir(path))) {
        free(path);
        return NULL;
    }
    return path;
}

rd_status rd_mb_check_timezone(const char *tz, rd_error *err)
{
    int off;
    if (is_utc(tz) || fixed_offset(tz, &off))
        return RD_OK;
    char *zf = zone_file(tz);
    if (zf) {
        free(zf);
        return RD_OK;
    }
    return RD_ERR(err, RD_ERR_CONFIG,
                  "unknown time zone \"%.64s\" (expected UTC, an offset like \"+02:00\" or a zone "
                  "name of %s such as \"Europe/Berlin\")",
                  tz, ZONEINFO_DEFAULT);
}

/* A named zone: `date` (coreutils) does the conversion in its own process,
 * with TZ set there only: setting TZ in this multi-threaded process would
 * race with every other thread reading the environment. */
static rd_status zone_to_utc(const char *local, const char *tz, int64_t *ms, rd_error *err)
{
    rd_status st;
    rd_strbuf out, errtail;
    rd_strbuf_init(&out, 256);
    rd_strbuf_init(&errtail, 4096);
    char *tzenv = rd_asprintf("TZ=%s", tz);
    if (!tzenv)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    const char *argv[] = {"date", "-d", local, "+%s", NULL};
    const char *env[] = {tzenv, "LC_ALL=C", NULL};
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.env = env;
    int code = 0;
    st = rd_proc_run(&spec, 30, &out, &errtail, &code, err);
    if (st != RD_OK)
        goto out;
    if (code != 0) {
        st = rd_proc_fail(err, "date", code, errtail.data);
        goto out;
    }
    char *end = NULL;
    errno = 0;
    long long secs = strtoll(out.data ? out.data : "", &end, 10);
    if (errno != 0 || !end || end == out.data || (*end && *end != '\n')) {
        st = RD_ERR(err, RD_ERR_FORMAT, "date printed \"%.40s\" for \"%s\" in %s",
                    out.data ? out.data : "", local, tz);
        goto out;
    }
    *ms = (int64_t)secs * 1000;
out:
    free(tzenv);
    rd_strbuf_free(&out);
    rd_strbuf_free(&errtail);
    return st;
}

rd_status rd_mb_local_to_utc(const char *local, const char *tz, int64_t *ms, rd_error *err)
{
    int64_t naive;
    rd_error e;
    size_t n = strlen(local);
    int shape = n == 19 && local[4] == '-' && local[7] == '-' && local[10] == ' ' &&
                local[13] == ':' && local[16] == ':';
    if (!shape || rd_time_parse_utc(local, &naive, &e) != RD_OK)
        return RD_ERR(err, RD_ERR_FORMAT,
                      "expected a time like \"2026-01-30 15:00:00\", got \"%.40s\"", local);
    int off = 0;
    if (is_utc(tz)) {
        *ms = naive;
        return RD_OK;
    }
    if (fixed_offset(tz, &off)) {
        *ms = naive - (int64_t)off * 60000;
        return RD_OK;
    }
    rd_status st = rd_mb_check_timezone(tz, err);
    if (st == RD_OK)
        st = zone_to_utc(local, tz, ms, err);
    return st;
}

rd_status rd_mb_parse_info(const char *text, const char *tz, rd_mb_backup *b, rd_error *err)
{
    char line[1024];
    int lineno = 0;
    int64_t start = 0, end = 0;
    int have_start = 0, have_end = 0;
    const char *p = text;
    while (next_line(&p, line, sizeof line)) {
        char *k, *v;
        lineno++;
        if (!split_kv(line, &k, &v))
            continue; /* tool_command and such may hold anything */
        int is_start = strcmp(k, "start_time") == 0, is_end = strcmp(k, "end_time") == 0;
        if (!is_start && !is_end)
            continue;
        int64_t ms;
        rd_status st = rd_mb_local_to_utc(v, tz, &ms, err);
        if (st != RD_OK)
            return rd_error_prefix(err, "line %d: %s: ", lineno, k);
        if (is_start) {
            start = ms;
            have_start = 1;
        } else {
            end = ms;
            have_end = 1;
        }
    }
    if (!have_end)
        return RD_ERR(err, RD_ERR_FORMAT, "missing end_time");
    b->start_ms = have_start ? start : end;
    b->end_ms = end;
    return RD_OK;
}
