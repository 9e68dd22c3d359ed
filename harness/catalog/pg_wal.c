/* pg_wal.c: WAL file names, LSNs, backup_label / .backup history files with
 * their zone abbreviations, compressed files, and the last commit of a
 * segment through pg_waldump, for the pg-archive catalog. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_wal.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

static int hexval(const char *s, size_t n, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return 0;
        *v = *v * 16 + (uint64_t)d;
    }
    return 1;
}

int rd_wal_parse_name(const char *name, uint64_t segsize, rd_wal_seg *out, int allow_ext)
{
    uint64_t t, l, s;
    if (strlen(name) < 24 || !hexval(name, 8, &t) || !hexval(name + 8, 8, &l) ||
        !hexval(name + 16, 8, &s))
        return 0;
    const char *rest = name + 24;
    if (*rest && !(allow_ext && (strcmp(rest, ".gz") == 0 || strcmp(rest, ".zst") == 0)))
        return 0;
    uint64_t per = UINT64_C(0x100000000) / segsize;
    if (s >= per)
        return 0;
    out->tli = (uint32_t)t;
    out->segno = l * per + s;
    return 1;
}

char *rd_wal_name(uint32_t tli, uint64_t segno, uint64_t segsize, char *buf, size_t n)
{
    uint64_t per = UINT64_C(0x100000000) / segsize;
    snprintf(buf, n, "%08X%08X%08X", (unsigned)tli, (unsigned)(segno / per),
             (unsigned)(segno % per));
    return buf;
}

int rd_wal_parse_lsn(const char *s, uint64_t *lsn)
{
    char *end;
    unsigned long long hi = strtoull(s, &end, 16);
    if (end == s || *end != '/')
        return 0;
    const char *p = end + 1;
    unsigned long long lo = strtoull(p, &end, 16);
    if (end == p || lo > 0xffffffffULL || hi > 0xffffffffULL)
        return 0;
    *lsn = ((uint64_t)hi << 32) | lo;
    return 1;
}

/* Zone abbreviations PostgreSQL's tz database prints, with their offsets in
 * seconds east of UTC. Ambiguous ones (IST, CST as China, BST as
 * Bangladesh...) take the tz database's "Default" set, as PostgreSQL does. */
static const struct {
    const char *abbr;
    int off;
} zones[] = {
    {"UTC", 0},       {"GMT", 0},      {"UCT", 0},      {"Z", 0},        {"WET", 0},
    {"WEST", 3600},   {"BST", 3600},   {"IST", 7200},   {"CET", 3600},   {"CEST", 7200},
    {"MET", 3600},    {"MEST", 7200},  {"EET", 7200},   {"EEST", 10800}, {"MSK", 10800},
    {"SAST", 7200},   {"EST", -18000}, {"EDT", -14400}, {"CST", -21600}, {"CDT", -18000},
    {"MST", -25200},  {"MDT", -21600}, {"PST", -28800}, {"PDT", -25200}, {"AKST", -32400},
    {"AKDT", -28800}, {"HST", -36000}, {"AST", -14400}, {"ADT", -10800}, {"NST", -12600},
    {"NDT", -9000},   {"JST", 32400},  {"KST", 32400},  {"HKT", 28800},  {"SGT", 28800},
    {"AWST", 28800},  {"ACST", 34200}, {"ACDT", 37800}, {"AEST", 36000}, {"AEDT", 39600},
    {"NZST", 43200},  {"NZDT", 46800}, {"WIB", 25200},  {"PKT", 18000},
};

rd_status rd_pg_label_time(const char *s, int64_t *ms, rd_error *err)
{
    char date[32], zone[32];
    int64_t base;
    if (sscanf(s, "%31[0-9-] %31[0-9:.] ", date, zone) != 2)
        return RD_ERR(err, RD_ERR_FORMAT, "cannot read the time \"%.64s\"", s);
    char when[72];
    snprintf(when, sizeof when, "%s %sZ", date, zone);
    if (rd_time_parse(when, &base, NULL) != RD_OK)
        return RD_ERR(err, RD_ERR_FORMAT, "cannot read the time \"%.64s\"", s);
    const char *z = s + strlen(date);
    while (*z == ' ')
        z++;
    z += strlen(zone);
    while (*z == ' ')
        z++;
    size_t zl = strcspn(z, " \r\n");
    if (zl == 0 || zl >= sizeof zone)
        return RD_ERR(err, RD_ERR_FORMAT, "the time \"%.64s\" has no time zone", s);
    memcpy(zone, z, zl);
    zone[zl] = '\0';
    if (zone[0] == '+' || zone[0] == '-') {
        int sign = zone[0] == '-' ? -1 : 1, hh = 0, mm = 0;
        size_t n = strlen(zone + 1);
        int ok = n == 2 || n == 4;
        for (size_t i = 1; ok && zone[i]; i++)
            ok = isdigit((unsigned char)zone[i]);
        if (!ok)
            return RD_ERR(err, RD_ERR_FORMAT, "time zone \"%s\" is not an offset", zone);
        hh = (zone[1] - '0') * 10 + (zone[2] - '0');
        if (n == 4)
            mm = (zone[3] - '0') * 10 + (zone[4] - '0');
        *ms = base - (int64_t)sign * (hh * 3600 + mm * 60) * 1000;
        return RD_OK;
    }
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (strcmp(zones[i].abbr, zone) == 0) {
            *ms = base - (int64_t)zones[i].off * 1000;
            return RD_OK;
        }
    return RD_ERR(err, RD_ERR_FORMAT,
                  "time zone abbreviation \"%s\" is unknown (set the source's log_timezone to "
                  "UTC)",
                  zone);
}

/* "0/2000028 (file 000000010000000000000002)" */
static int lsn_and_file(const char *v, uint64_t *lsn, char *file, size_t n)
{
    char l[32], f[32];
    if (sscanf(v, "%31s (file %31[0-9A-F])", l, f) != 2 || !rd_wal_parse_lsn(l, lsn))
        return 0;
    snprintf(file, n, "%s", f);
    return 1;
}

rd_status rd_pg_label_parse(const char *text, rd_pg_label *out, rd_error *err)
{
    rd_pg_label r;
    int have_start = 0;
    memset(&r, 0, sizeof r);
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        char *colon = strstr(line, ": ");
        if (colon) {
            *colon = '\0';
            const char *k = line, *v = colon + 2;
            int ok = 1;
            if (strcmp(k, "START WAL LOCATION") == 0)
                ok = have_start = lsn_and_file(v, &r.start_lsn, r.start_file, sizeof r.start_file);
            else if (strcmp(k, "STOP WAL LOCATION") == 0)
                ok = lsn_and_file(v, &r.stop_lsn, r.stop_file, sizeof r.stop_file);
            else if (strcmp(k, "START TIME") == 0 || strcmp(k, "STOP TIME") == 0) {
                rd_error e2;
                if (rd_pg_label_time(v, k[2] == 'A' ? &r.start_ms : &r.stop_ms, &e2) != RD_OK)
                    return RD_ERR(err, RD_ERR_FORMAT, "%s: %s", k, e2.msg);
            } else if (strcmp(k, "START TIMELINE") == 0)
                r.start_tli = (uint32_t)strtoul(v, NULL, 10);
            else if (strcmp(k, "STOP TIMELINE") == 0)
                r.stop_tli = (uint32_t)strtoul(v, NULL, 10);
            else if (strcmp(k, "LABEL") == 0)
                snprintf(r.label, sizeof r.label, "%s", v);
            if (!ok)
                return RD_ERR(err, RD_ERR_FORMAT, "%s: cannot read \"%.64s\"", k, v);
        }
        p = nl ? nl + 1 : NULL;
    }
    if (!have_start)
        return RD_ERR(err, RD_ERR_FORMAT, "START WAL LOCATION is missing");
    if (!r.start_tli)
        r.start_tli = 1;
    *out = r;
    return RD_OK;
}

static const char *decompressor(const char *path)
{
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0)
        return "gzip";
    if (n > 4 && strcmp(path + n - 4, ".zst") == 0)
        return "zstd";
    return NULL;
}

rd_status rd_pg_read_file(const char *path, size_t max, char **out, size_t *len, rd_error *err)
{
    const char *dec = decompressor(path);
    if (!dec)
        return rd_fs_read_file(path, max, out, len, err);
    rd_strbuf sb, errtail;
    int code = 0;
    const char *argv[] = {dec, "-dc", path, NULL};
    rd_proc_spec spec = {.argv = argv};
    rd_strbuf_init(&sb, max);
    rd_strbuf_init(&errtail, 4096);
    rd_status st = rd_proc_run(&spec, 300, &sb, &errtail, &code, err);
    if (st == RD_OK && code != 0)
        st = rd_proc_fail(err, dec, code, errtail.data ? errtail.data : "");
    if (st == RD_OK) {
        *len = sb.len;
        *out = sb.data ? rd_strbuf_detach(&sb) : rd_strdup("");
        if (!*out)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    rd_strbuf_free(&sb);
    rd_strbuf_free(&errtail);
    return st;
}

int64_t rd_pg_waldump_last_commit(const char *text)
{
    int64_t last = 0;
    const char *p = text;
    while (p && (p = strstr(p, "desc: COMMIT ")) != NULL) {
        p += strlen("desc: COMMIT ");
        char when[64];
        size_t n = strcspn(p, ";\n");
        if (n >= sizeof when)
            n = sizeof when - 1;
        memcpy(when, p, n);
        when[n] = '\0';
        /* "2026-12-05 14:20:31.123456 UTC" (TZ=UTC) */
        char *utc = strstr(when, " UTC");
        int64_t ms;
        if (utc) {
            memcpy(utc, "+00", 4);
            if (rd_time_parse(when, &ms, NULL) == RD_OK && ms > last)
                last = ms;
        }
    }
    return last;
}

/* Decompress path into dst with the tool writing straight into the file. */
static rd_status decompress_to(const char *path, const char *dst, rd_error *err)
{
    const char *argv[] = {decompressor(path), "-dc", path, NULL};
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int code = 0;
    if (fd < 0)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", dst);
    rd_proc_spec spec = {.argv = argv, .stdout_mode = RD_PROC_IO_FD, .stdout_fd = fd};
    rd_proc *p = NULL;
    rd_status st = rd_proc_start(&spec, &p, err);
    close(fd);
    if (st == RD_OK)
        st = rd_proc_wait(p, rd_mono_now() + 300, &code, err);
    if (st == RD_OK && code != 0)
        st = rd_proc_fail(err, argv[0], code, rd_proc_stderr_tail(p));
    rd_proc_free(p);
    return st;
}

/* Run pg_waldump over one file and keep only the last commit time: its
 * output (one line per record, tens of MB for a busy segment) is read line
 * by line, never held. pg_waldump exits 1 at the end of a segment's valid
 * records: its output up to there is what counts. */
static rd_status waldump_stream(const char *waldump, const char *file, int64_t *ms, rd_error *err)
{
    const char *argv[] = {waldump, file, file, NULL};
    const char *env[] = {"TZ=UTC", "LC_ALL=C", NULL};
    rd_proc_spec spec = {.argv = argv, .env = env, .stdout_mode = RD_PROC_IO_PIPE};
    rd_proc *p = NULL;
    char buf[65536], line[1024];
    size_t ll = 0;
    int64_t last = 0;
    int code = 0;
    rd_status st = rd_proc_start(&spec, &p, err);
    if (st != RD_OK)
        return st;
    FILE *f = fdopen(dup(rd_proc_stdout_fd(p)), "r");
    if (!f) {
        rd_proc_free(p);
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read pg_waldump's output");
    }
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (buf[i] != '\n') {
                if (ll < sizeof line - 1)
                    line[ll++] = buf[i];
                continue;
            }
            line[ll] = '\0';
            ll = 0;
            if (strstr(line, "desc: COMMIT ")) {
                int64_t t = rd_pg_waldump_last_commit(line);
                if (t > last)
                    last = t;
            }
        }
    }
    fclose(f);
    st = rd_proc_wait(p, rd_mono_now() + 300, &code, err);
    rd_proc_free(p);
    if (st == RD_OK)
        *ms = last;
    return st;
}

rd_status rd_pg_last_commit(const char *waldump, const char *path, const char *name, int64_t *ms,
                            rd_error *err)
{
    char *tmp = NULL, *seg = NULL;
    const char *file = path;
    rd_status st = RD_OK;
    if (decompressor(path)) {
        /* pg_waldump reads files only: decompress into a private directory */
        if ((st = rd_fs_mkdtemp(NULL, "rd-wal-", 0, 0, 0, &tmp, err)) != RD_OK)
            goto out;
        seg = rd_fs_join(tmp, name);
        if (!seg) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        if ((st = decompress_to(path, seg, err)) != RD_OK)
            goto out;
        file = seg;
    }
    st = waldump_stream(waldump, file, ms, err);
out:
    if (tmp) {
        rd_error e2;
        char *parent = rd_strdup(tmp);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash) {
            *slash = '\0';
            rd_fs_rmtree(tmp, parent, &e2);
        }
        free(parent);
    }
    free(tmp);
    free(seg);
    return st;
}

char *rd_pg_tool(const char *name)
{
    char *found = rd_proc_which(name, NULL);
    glob_t g;
    long best = -1;
    if (found)
        return found;
    if (glob("/usr/lib/postgresql/*/bin", GLOB_ONLYDIR, NULL, &g) != 0)
        return NULL;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *v = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
        char *end;
        long n = strtol(v, &end, 10);
        char *p = rd_asprintf("%s/%s", g.gl_pathv[i], name);
        if (p && end != v && n > best && access(p, X_OK) == 0) {
            best = n;
            free(found);
            found = p;
            p = NULL;
        }
        free(p);
    }
    globfree(&g);
    return found;
}
