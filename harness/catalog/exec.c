/* exec.c: the "exec" catalog: a user command prints a JSON array of recovery
 * points: [{"id", "created_at" (RFC 3339), "location", "format"?, "bytes"?,
 * "sha256"?, "manifest"?}]. Errors name the element and field. */
#include "restoredrill/artifact.h"
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_MAX ((size_t)64 * 1024 * 1024)
#define WHAT "catalog command output"

/* A short rendering of a JSON value for "got ..." in messages. */
static void describe(const cJSON *v, char *buf, size_t bufsz)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) {
        snprintf(buf, bufsz, "nothing");
        return;
    }
    if (strlen(s) > 60)
        snprintf(buf, bufsz, "%.57s...", s);
    else
        snprintf(buf, bufsz, "%s", s);
    cJSON_free(s);
}

static rd_status want_string(const cJSON *obj, size_t i, const char *key, int required,
                             const char **out, rd_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char got[80];
    if (!v || cJSON_IsNull(v)) {
        if (required)
            return RD_ERR(err, RD_ERR_FORMAT, WHAT "[%zu].%s: missing (expected a string)", i, key);
        *out = NULL;
        return RD_OK;
    }
    if (!cJSON_IsString(v) || !v->valuestring[0]) {
        describe(v, got, sizeof got);
        return RD_ERR(err, RD_ERR_FORMAT, WHAT "[%zu].%s: expected a non-empty string, got %s", i,
                      key, got);
    }
    *out = v->valuestring;
    return RD_OK;
}

static int is_hex64(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return 0;
    }
    return n == 64;
}

static rd_status parse_point(const cJSON *obj, size_t i, rd_point *pt, rd_error *err)
{
    const char *id, *created, *location, *format, *sha, *manifest;
    char got[80];
    rd_status st;
    if (!cJSON_IsObject(obj)) {
        describe(obj, got, sizeof got);
        return RD_ERR(err, RD_ERR_FORMAT, WHAT "[%zu]: expected an object, got %s", i, got);
    }
    if ((st = want_string(obj, i, "id", 1, &id, err)) != RD_OK ||
        (st = want_string(obj, i, "created_at", 1, &created, err)) != RD_OK ||
        (st = want_string(obj, i, "location", 1, &location, err)) != RD_OK ||
        (st = want_string(obj, i, "format", 0, &format, err)) != RD_OK ||
        (st = want_string(obj, i, "sha256", 0, &sha, err)) != RD_OK ||
        (st = want_string(obj, i, "manifest", 0, &manifest, err)) != RD_OK)
        return st;
    rd_error terr;
    if (rd_time_parse(created, &pt->created_ms, &terr) != RD_OK)
        return RD_ERR(err, RD_ERR_FORMAT,
                      WHAT "[%zu].created_at: expected an RFC 3339 time, got \"%.64s\"", i,
                      created);
    /* "snapshot": a cloud snapshot that an exec scratch's create command restores */
    if (format && strcmp(format, "snapshot") != 0 && rd_format_parse(format) == RD_FMT_UNKNOWN)
        return RD_ERR(err, RD_ERR_FORMAT,
                      WHAT "[%zu].format: expected one of pg-custom, pg-directory, pg-plain, "
                           "mariadb-sql, snapshot, got \"%.64s\"",
                      i, format);
    if (sha && !is_hex64(sha))
        return RD_ERR(err, RD_ERR_FORMAT,
                      WHAT "[%zu].sha256: expected 64 hexadecimal digits, got \"%.80s\"", i, sha);
    const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(obj, "bytes");
    pt->bytes = -1;
    if (bytes && !cJSON_IsNull(bytes)) {
        double b = cJSON_IsNumber(bytes) ? bytes->valuedouble : -1;
        if (b < 0 || b > 9.0e15 || floor(b) != b) {
            describe(bytes, got, sizeof got);
            return RD_ERR(err, RD_ERR_FORMAT,
                          WHAT "[%zu].bytes: expected a non-negative integer, got %s", i, got);
        }
        pt->bytes = (int64_t)b;
    }
    pt->id = strdup(id);
    pt->location = strdup(location);
    pt->time_basis = strdup("catalog");
    pt->format = format ? strdup(format) : NULL;
    pt->sha256 = sha ? strdup(sha) : NULL;
    pt->manifest = manifest ? strdup(manifest) : NULL;
    if (!pt->id || !pt->location || !pt->time_basis || (format && !pt->format) ||
        (sha && !pt->sha256) || (manifest && !pt->manifest))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory reading " WHAT);
    for (char *c = pt->sha256; c && *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
    return RD_OK;
}

rd_status rd_catalog_exec_parse(const char *text, size_t len, rd_points *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_points pts = {0};
    rd_point pt;
    const char *end = NULL;
    memset(&pt, 0, sizeof pt);
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text ? (size_t)(end - text) : 0;
        st = RD_ERR(err, RD_ERR_FORMAT, WHAT ": invalid JSON at byte %zu", off);
        goto out;
    }
    if (!cJSON_IsArray(root)) {
        char got[80];
        describe(root, got, sizeof got);
        st = RD_ERR(err, RD_ERR_FORMAT, WHAT ": expected a JSON array of recovery points, got %s",
                    got);
        goto out;
    }
    size_t i = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, root)
    {
        st = parse_point(el, i, &pt, err);
        if (st != RD_OK)
            goto out;
        for (size_t j = 0; j < pts.n; j++)
            if (strcmp(pts.items[j].id, pt.id) == 0) {
                st = RD_ERR(err, RD_ERR_FORMAT, WHAT "[%zu].id: duplicate id \"%.64s\"", i, pt.id);
                goto out;
            }
        st = rd_points_push(&pts, &pt, err);
        if (st != RD_OK)
            goto out;
        i++;
    }
    *out = pts;
    pts.items = NULL;
    pts.n = 0;
out:
    rd_point_clear(&pt);
    rd_points_free(&pts);
    cJSON_Delete(root);
    return st;
}

static rd_status exec_list(const rd_catalog_cfg *cfg, rd_points *out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sout, serr;
    const char **argv = NULL;
    int code = 0;
    rd_strbuf_init(&sout, OUTPUT_MAX);
    rd_strbuf_init(&serr, 16 * 1024);

    if (cfg->command.n == 0)
        return RD_ERR(err, RD_ERR_CONFIG, "catalog.command: expected a command (argv array)");
    argv = calloc(cfg->command.n + 1, sizeof *argv);
    if (!argv)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < cfg->command.n; i++)
        argv[i] = cfg->command.items[i];

    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.stdin_mode = RD_PROC_IO_NULL;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    double timeout = cfg->timeout > 0 ? cfg->timeout : 60;
    st = rd_proc_run(&spec, timeout, &sout, &serr, &code, err);
    if (st != RD_OK) {
        rd_error_prefix(err, "catalog command: ");
        goto out;
    }
    if (code != 0) {
        st = rd_proc_fail(err, "catalog command", code, serr.data);
        goto out;
    }
    st = rd_catalog_exec_parse(sout.data, sout.len, out, err);
out:
    free(argv);
    rd_strbuf_free(&sout);
    rd_strbuf_free(&serr);
    return st;
}

const rd_catalog_type rd_catalog_exec = {
    .name = "exec",
    .list = exec_list,
};
