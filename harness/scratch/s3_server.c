/* s3_server.c: the `server` scratch driver for engine s3: a prefix
 * <prefix><target>_<YYYYMMDDTHHMMSSZ>_<random>/ in an existing bucket of
 * the catalog's endpoint (copies are server-side, so the scratch is on the
 * same S3). conn.url is s3://bucket/prefix, conn.database the prefix.
 * Teardown deletes every version and delete marker under the prefix (a
 * versioned scratch bucket keeps nothing either) and checks that nothing is
 * left; gc removes the prefixes of dead runs older than --older-than. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/prng.h"
#include "restoredrill/s3set.h"
#include "scratch_int.h"

#define MAX_PREFIX 512

typedef struct s3_scratch {
    char *endpoint, *region, *bucket;
    int path_style;
} s3_scratch;

static void priv_free(s3_scratch *p)
{
    if (!p)
        return;
    free(p->endpoint);
    free(p->region);
    free(p->bucket);
    free(p);
}

static rd_status client(const char *endpoint, const char *region, int path_style, rd_s3 **out,
                        rd_error *err)
{
    rd_s3_opts o = {.endpoint = endpoint, .region = region, .path_style = path_style};
    return rd_s3_new(&o, out, err);
}

/* Delete every version and delete marker under prefix; *n the count. */
static rd_status delete_all(rd_s3 *s3, const char *bucket, const char *prefix, size_t *n,
                            rd_error *err)
{
    rd_s3_objects v = {NULL, 0};
    rd_status st = rd_s3set_list_versions(s3, bucket, prefix, &v, err);
    for (size_t i = 0; st == RD_OK && i < v.n; i++) {
        const char *vid = v.items[i].version_id;
        st = rd_s3_delete_version(s3, bucket, v.items[i].key, vid && *vid ? vid : NULL, err);
    }
    if (st == RD_OK && n)
        *n = v.n;
    rd_s3_objects_free(&v);
    return st;
}

static rd_status provision(const rd_scratch_cfg *cfg, rd_engine engine, const rd_scratch_req *req,
                           rd_scratch **out, rd_error *err)
{
    rd_scratch *s = calloc(1, sizeof *s);
    s3_scratch *p = calloc(1, sizeof *p);
    rd_s3 *s3 = NULL;
    rd_s3set left = {NULL, 0};
    char ts[17], suffix[7];
    struct tm tm;
    time_t now = time(NULL);
    rd_status st = RD_OK;
    char *target = rd_scratch_sanitize(req && req->target ? req->target : "set", 64);
    if (!s || !p || !target) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    s->type = &rd_scratch_s3_server;
    s->priv = p;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    rd_random_token(suffix, 6);
    p->endpoint = rd_strdup(cfg->endpoint);
    p->region = rd_strdup(cfg->region);
    p->bucket = rd_strdup(cfg->bucket);
    p->path_style = cfg->path_style;
    s->conn.engine = engine;
    s->conn.database =
        rd_asprintf("%s%s_%s_%s/", cfg->prefix ? cfg->prefix : "rd_scratch_", target, ts, suffix);
    s->conn.url =
        s->conn.database ? rd_asprintf("s3://%s/%s", cfg->bucket, s->conn.database) : NULL;
    s->conn.dsn = rd_strdup(s->conn.url);
    s->server_version = rd_strdup("s3 endpoint");
    if (!p->bucket || (cfg->endpoint && !p->endpoint) || (cfg->region && !p->region) ||
        !s->conn.database || !s->conn.url || !s->conn.dsn || !s->server_version) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (strlen(s->conn.database) > MAX_PREFIX) {
        st = RD_ERR(err, RD_ERR_CONFIG, "scratch prefix %s is longer than %d bytes",
                    s->conn.database, MAX_PREFIX);
        goto out;
    }
    /* the bucket answers, and nothing is under the new prefix */
    if ((st = client(p->endpoint, p->region, p->path_style, &s3, err)) == RD_OK &&
        (st = rd_s3set_list(s3, p->bucket, s->conn.database, &left, err)) == RD_OK && left.n)
        st = RD_ERR(err, RD_ERR_REFUSED, "%zu objects already exist under %s", left.n, s->conn.url);
    if (st != RD_OK)
        rd_error_prefix(err, "scratch bucket: ");
out:
    free(target);
    rd_s3set_free(&left);
    rd_s3_free(s3);
    if (st != RD_OK) {
        if (s) {
            s->priv = NULL;
            rd_scratch_destroy(s);
        } else {
            free(s);
        }
        priv_free(p);
        return st;
    }
    rd_log_info("scratch prefix %s", s->conn.url);
    *out = s;
    return RD_OK;
}

static rd_status teardown(rd_scratch *s, rd_error *err)
{
    s3_scratch *p = s->priv;
    rd_s3 *s3 = NULL;
    rd_s3set left = {NULL, 0};
    size_t n = 0;
    if (!p)
        return RD_OK;
    rd_status st = client(p->endpoint, p->region, p->path_style, &s3, err);
    if (st == RD_OK)
        st = delete_all(s3, p->bucket, s->conn.database, &n, err);
    if (st == RD_OK && (st = rd_s3set_list(s3, p->bucket, s->conn.database, &left, err)) == RD_OK &&
        left.n)
        st = RD_ERR(err, RD_ERR_IO, "%zu objects are still under %s after deleting %zu versions",
                    left.n, s->conn.url, n);
    if (st == RD_OK)
        rd_log_info("scratch prefix %s deleted (%zu objects and versions)", s->conn.url, n);
    rd_s3set_free(&left);
    rd_s3_free(s3);
    if (st == RD_OK) {
        priv_free(p);
        s->priv = NULL;
    }
    return st;
}

/* The time in a scratch prefix's name "<prefix><target>_<YYYYMMDDTHHMMSSZ>_<random>/";
 * 0 when it has none. */
static int name_time(const char *dir, int64_t *ms)
{
    size_t n = strlen(dir);
    if (n < 26 || dir[n - 1] != '/' || dir[n - 8] != '_' || dir[n - 25] != '_')
        return 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(dir + n - 24, "%Y%m%dT%H%M%SZ", &tm);
    if (end != dir + n - 8)
        return 0;
    *ms = (int64_t)timegm(&tm) * 1000;
    return 1;
}

/* Scratch prefixes of dead runs: <prefix><target>_<time>_<random>/ older than older_than. */
static rd_status gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than, int dry_run,
                    void (*report)(void *ud, const char *what), void *ud, rd_error *err)
{
    rd_s3 *s3 = NULL;
    rd_s3set all = {NULL, 0};
    const char *prefix = cfg->prefix ? cfg->prefix : "rd_scratch_";
    int64_t now = rd_wall_now_ms();
    (void)engine;
    rd_status st = client(cfg->endpoint, cfg->region, cfg->path_style, &s3, err);
    if (st == RD_OK)
        st = rd_s3set_list(s3, cfg->bucket, prefix, &all, err);
    for (size_t i = 0; st == RD_OK && i < all.n;) {
        const char *k = all.items[i].key, *slash = strchr(k, '/');
        size_t nl = slash ? (size_t)(slash - k) : strlen(k), j = i + 1;
        while (slash && j < all.n && strncmp(all.items[j].key, k, nl + 1) == 0)
            j++;
        int64_t when = 0;
        char *dir = slash ? rd_asprintf("%s%.*s/", prefix, (int)nl, k) : NULL;
        if (dir && name_time(dir, &when) && (double)(now - when) / 1000.0 > older_than) {
            char line[MAX_PREFIX + 128];
            size_t n = 0;
            if (!dry_run)
                st = delete_all(s3, cfg->bucket, dir, &n, err);
            snprintf(line, sizeof line, "%s s3://%s/%s (%zu objects)",
                     dry_run ? "would remove" : "removed", cfg->bucket, dir, j - i);
            if (st == RD_OK)
                report(ud, line);
        }
        free(dir);
        i = j;
    }
    rd_s3set_free(&all);
    rd_s3_free(s3);
    return st;
}

const rd_scratch_type rd_scratch_s3_server = {
    .name = "server",
    .engines = RD_ENGINE_S3,
    .provision = provision,
    .teardown = teardown,
    .gc = gc,
};
