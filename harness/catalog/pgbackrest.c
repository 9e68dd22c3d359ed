/* pgbackrest.c: the `pgbackrest` catalog: the backup sets of a pgBackRest
 * stanza (full, diff, incr) read through `pgbackrest info --output=json`,
 * and its WAL archive through `pgbackrest repo-ls` (every archived segment,
 * so every gap) and `archive-get` + pg_waldump (the last reachable commit).
 * --config is always passed on the command line when configured. pgBackRest
 * runs with file logging off and console warnings only; it only reads here. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_wal.h"
#include "restoredrill/catalog.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define PGBR_TIMEOUT 600

/* argv: pgbackrest [--config=C] --stanza=S --repo=N --log-level-file=off ... CMD ARGS */
static rd_status pgbr(const rd_catalog_cfg *c, const char *const *cmd, size_t max, rd_strbuf *out,
                      rd_error *err)
{
    char cfg[4200], stanza[300], repo[32];
    const char *argv[24];
    size_t n = 0;
    rd_strbuf errtail;
    int code = 0;
    argv[n++] = "pgbackrest";
    if (c->config) {
        snprintf(cfg, sizeof cfg, "--config=%s", c->config);
        argv[n++] = cfg;
    }
    snprintf(stanza, sizeof stanza, "--stanza=%s", c->stanza);
    snprintf(repo, sizeof repo, "--repo=%d", c->repo > 0 ? c->repo : 1);
    argv[n++] = stanza;
    argv[n++] = repo;
    argv[n++] = "--log-level-file=off";
    argv[n++] = "--log-level-console=error";
    for (size_t i = 0; cmd[i] && n < 23; i++)
        argv[n++] = cmd[i];
    argv[n] = NULL;
    rd_proc_spec spec = {.argv = argv};
    rd_strbuf_init(out, max);
    rd_strbuf_init(&errtail, 8192);
    rd_status st = rd_proc_run(&spec, PGBR_TIMEOUT, out, &errtail, &code, err);
    if (st == RD_OK && code != 0) {
        /* pgBackRest prints "ERROR: [055]: ..." on stdout or stderr */
        const char *why = errtail.len ? errtail.data : out->data ? out->data : "";
        st = rd_proc_fail(err, "pgbackrest", code, why);
        rd_error_prefix(err, "%s: ", cmd[0]);
    }
    rd_strbuf_free(&errtail);
    return st;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *obj(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* The stanza's object of `info --output=json`; *doc to cJSON_Delete. */
static rd_status info(const rd_catalog_cfg *c, cJSON **doc, const cJSON **stanza, rd_error *err)
{
    rd_strbuf out;
    const char *cmd[] = {"info", "--output=json", NULL};
    rd_status st = pgbr(c, cmd, 64u << 20, &out, err);
    if (st == RD_OK) {
        *doc = cJSON_Parse(out.data ? out.data : "");
        const cJSON *s = cJSON_IsArray(*doc) ? cJSON_GetArrayItem(*doc, 0) : NULL;
        if (!s)
            st = RD_ERR(err, RD_ERR_FORMAT, "pgbackrest info --output=json printed no stanza");
        *stanza = s;
    }
    rd_strbuf_free(&out);
    return st;
}

/* status.code 1: "missing stanza path" (pgBackRest's own words). */
static int stanza_missing(const cJSON *s, const char **msg)
{
    const cJSON *status = obj(s, "status");
    const cJSON *code = obj(status, "code");
    *msg = str(status, "message");
    return cJSON_IsNumber(code) && code->valueint == 1;
}

static rd_status pgbr_check(const rd_catalog_cfg *c, rd_error *err)
{
    char *bin = rd_proc_which("pgbackrest", NULL);
    cJSON *doc = NULL;
    const cJSON *s = NULL;
    const char *msg = NULL;
    rd_error e;
    if (!bin)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "type: pgbackrest is not installed (Debian: apt-get install pgbackrest)");
    free(bin);
    if (c->config && !rd_fs_exists(c->config))
        return RD_ERR(err, RD_ERR_CONFIG, "config: %s does not exist", c->config);
    if (info(c, &doc, &s, &e) != RD_OK) {
        cJSON_Delete(doc);
        return RD_ERR(err, RD_ERR_CONFIG, "stanza: %s", e.msg);
    }
    rd_status st = RD_OK;
    if (stanza_missing(s, &msg))
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "stanza: stanza \"%s\" does not exist in repo %d (pgbackrest: %s)", c->stanza,
                    c->repo > 0 ? c->repo : 1, msg ? msg : "missing stanza path");
    cJSON_Delete(doc);
    return st;
}

typedef struct fetch_ctx {
    const rd_catalog_cfg *c;
} fetch_ctx;

static rd_status pgbr_fetch(void *ud, const char *file, const char *name, const char *tmpdir,
                            char **local, rd_error *err)
{
    fetch_ctx *f = ud;
    rd_strbuf out;
    (void)file;
    char *dst = rd_fs_join(tmpdir, name);
    if (!dst)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    const char *cmd[] = {"archive-get", name, dst, NULL};
    rd_status st = pgbr(f->c, cmd, 1u << 20, &out, err);
    rd_strbuf_free(&out);
    if (st != RD_OK) {
        free(dst);
        return st;
    }
    *local = dst;
    return RD_OK;
}

/* The segment size that maps every backup's start LSN to its start file. */
static uint64_t segsize_of(const cJSON *backups)
{
    for (uint64_t size = UINT64_C(1) << 20; size <= (UINT64_C(1) << 30); size <<= 1) {
        int ok = 1, any = 0;
        const cJSON *b;
        cJSON_ArrayForEach(b, backups)
        {
            const char *lsn = str(obj(b, "lsn"), "start"), *file = str(obj(b, "archive"), "start");
            uint64_t l;
            rd_wal_seg seg;
            if (!lsn || !file || !rd_wal_parse_lsn(lsn, &l))
                continue;
            any = 1;
            if (!rd_wal_parse_name(file, size, &seg, 0) || seg.segno != l / size)
                ok = 0;
        }
        if (ok && any)
            return size;
    }
    return UINT64_C(16) << 20;
}

/* Every archived segment and history file of the archive id. */
static rd_status list_archive(const rd_catalog_cfg *c, const char *archive_id, rd_pg_arch *a,
                              rd_error *err)
{
    char path[512];
    rd_strbuf out;
    snprintf(path, sizeof path, "archive/%s/%s", c->stanza, archive_id);
    const char *cmd[] = {"repo-ls", "--recurse", path, NULL};
    rd_status st = pgbr(c, cmd, 256u << 20, &out, err);
    for (const char *p = out.data; st == RD_OK && p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), p);
        const char *base = strrchr(line, '/');
        base = base ? base + 1 : line;
        size_t bl = strlen(base);
        if (bl > 25 && base[24] == '-' && strspn(base, "0123456789ABCDEF") == 24) {
            char name[25];
            memcpy(name, base, 24);
            name[24] = '\0';
            st = rd_pg_arch_add_seg(a, name, name, err);
        } else if (bl == 16 && strcmp(base + 8, ".history") == 0 &&
                   strspn(base, "0123456789ABCDEF") == 8) {
            st = rd_pg_arch_add_history(a, base, (uint32_t)strtoul(base, NULL, 16), err);
        }
        p = nl ? nl + 1 : NULL;
    }
    rd_strbuf_free(&out);
    return st;
}

static rd_status one_backup(const rd_catalog_cfg *c, const cJSON *b, const cJSON *backups,
                            rd_pg_arch *a, rd_pg_backup *pb, rd_error *err)
{
    const char *label = str(b, "label"), *type = str(b, "type"), *prior = str(b, "prior");
    const cJSON *ts = obj(b, "timestamp"), *size = obj(obj(b, "info"), "size");
    const char *lstart = str(obj(b, "lsn"), "start"), *lstop = str(obj(b, "lsn"), "stop");
    const char *wstart = str(obj(b, "archive"), "start"), *wstop = str(obj(b, "archive"), "stop");
    uint64_t l1 = 0, l2 = 0;
    char why[512];
    why[0] = '\0';
    memset(pb, 0, sizeof *pb);
    pb->pt.bytes = cJSON_IsNumber(size) ? (int64_t)size->valuedouble : -1;
    pb->pt.id = rd_strdup(label ? label : "?");
    pb->pt.base = rd_strdup(label ? label : "?");
    pb->pt.format = rd_asprintf("pgbackrest-%s", type ? type : "?");
    pb->pt.time_basis = rd_strdup("catalog");
    pb->pt.location = rd_asprintf("pgbackrest:%s/%s", c->stanza, label ? label : "?");
    pb->pt.wal_start = wstart ? rd_strdup(wstart) : NULL;
    pb->pt.wal_stop = wstop ? rd_strdup(wstop) : NULL;
    if (!pb->pt.id || !pb->pt.base || !pb->pt.format || !pb->pt.time_basis || !pb->pt.location)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (cJSON_IsNumber(obj(ts, "start")))
        pb->pt.start_ms = (int64_t)obj(ts, "start")->valuedouble * 1000;
    if (cJSON_IsNumber(obj(ts, "stop")))
        pb->pt.created_ms = (int64_t)obj(ts, "stop")->valuedouble * 1000;
    if (cJSON_IsTrue(obj(b, "error")))
        snprintf(why, sizeof why, "pgBackRest found errors in it (info: \"error\": true)");
    else if (!lstart || !lstop || !rd_wal_parse_lsn(lstart, &l1) || !rd_wal_parse_lsn(lstop, &l2) ||
             !wstart)
        snprintf(why, sizeof why, "its LSN range is unknown (backup made without archive-check)");
    if (!why[0] && prior) {
        int found = 0;
        const cJSON *o;
        cJSON_ArrayForEach(o, backups)
        {
            const char *ol = str(o, "label");
            found |= ol && strcmp(ol, prior) == 0;
        }
        if (!found)
            snprintf(why, sizeof why,
                     "its prior backup %s is not in the repository: the chain is "
                     "broken",
                     prior);
    }
    if (!why[0]) {
        rd_wal_seg seg;
        pb->start_seg = l1 / a->segsize;
        pb->stop_seg = l2 / a->segsize;
        if (rd_wal_parse_name(wstart, a->segsize, &seg, 0))
            pb->off_chain = rd_pg_arch_off_chain(a, seg.tli, l2, why, sizeof why);
        for (uint64_t s = pb->start_seg; !why[0] && s <= pb->stop_seg; s++)
            if (!rd_pg_arch_find(a, s)) {
                char n[32];
                rd_wal_name(rd_pg_arch_tli_at(a, s), s, a->segsize, n, sizeof n);
                snprintf(why, sizeof why, "it needs WAL segment %s, missing from the archive", n);
            }
    }
    if (why[0]) {
        if (!(pb->pt.broken = rd_strdup(why)))
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    } else {
        pb->usable = 1;
    }
    return RD_OK;
}

static rd_status pgbr_list(const rd_catalog_cfg *c, rd_points *out, rd_error *err)
{
    cJSON *doc = NULL;
    const cJSON *s = NULL;
    const char *msg = NULL;
    rd_pg_arch a;
    fetch_ctx fc = {c};
    rd_pg_backup *bs = NULL;
    size_t nb = 0;
    rd_status st;
    memset(&a, 0, sizeof a);
    a.fetch = pgbr_fetch;
    a.fetch_ud = &fc;
    a.fetched_copies = 1;
    if ((st = info(c, &doc, &s, err)) != RD_OK)
        goto out;
    if (stanza_missing(s, &msg)) {
        st = RD_ERR(err, RD_ERR_CONFIG, "catalog.stanza: stanza \"%s\" does not exist (%s)",
                    c->stanza, msg ? msg : "missing stanza path");
        goto out;
    }
    if (!(a.waldump = rd_pg_tool("pg_waldump"))) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "pg_waldump not found: install the postgresql package");
        goto out;
    }
    const cJSON *backups = obj(s, "backup");
    const cJSON *archives = obj(s, "archive");
    /* the archive id of the current database (the last one listed) */
    const cJSON *arch = cJSON_IsArray(archives)
                            ? cJSON_GetArrayItem(archives, cJSON_GetArraySize(archives) - 1)
                            : NULL;
    const char *archive_id = str(arch, "id");
    if (archive_id && (st = list_archive(c, archive_id, &a, err)) != RD_OK)
        goto out;
    if ((st = rd_pg_arch_index(&a, segsize_of(backups), err)) != RD_OK)
        goto out;
    size_t n = cJSON_IsArray(backups) ? (size_t)cJSON_GetArraySize(backups) : 0;
    bs = calloc(n ? n : 1, sizeof *bs);
    if (!bs) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    const cJSON *b;
    cJSON_ArrayForEach(b, backups)
    {
        if ((st = one_backup(c, b, backups, &a, &bs[nb], err)) != RD_OK) {
            rd_point_clear(&bs[nb].pt);
            goto out;
        }
        nb++;
    }
    st = rd_pg_arch_publish(&a, bs, nb, out, err);
out:
    for (size_t i = 0; i < nb; i++)
        rd_point_clear(&bs[i].pt);
    free(bs);
    rd_pg_arch_free(&a);
    cJSON_Delete(doc);
    return st;
}

const rd_catalog_type rd_catalog_pgbackrest = {
    .name = "pgbackrest",
    .list = pgbr_list,
    .check = pgbr_check,
};
