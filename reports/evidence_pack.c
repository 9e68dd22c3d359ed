/* evidence_pack.c: `restoredrill evidence pack`: one gzip-compressed ustar
 * archive for the auditor with the reports, their signatures, the history,
 * the configuration with secrets removed, SHA256SUMS and a README. Written
 * with zlib (no tar process), to a temp file renamed into place. */
#include <cjson/cJSON.h>
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

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/report.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"

#define PACK_FILE_MAX ((size_t)1024 * 1024 * 1024)
#define PACK_MAX_FILES 256

typedef struct entry {
    char *name; /* inside the top directory */
    char *data;
    size_t len;
} entry;

typedef struct pack {
    entry e[PACK_MAX_FILES];
    size_t n;
} pack;

static void pack_free(pack *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->e[i].name);
        free(p->e[i].data);
    }
    p->n = 0;
}

/* Takes ownership of data. */
static rd_status add(pack *p, const char *name, char *data, size_t len, rd_error *err)
{
    if (p->n >= PACK_MAX_FILES) {
        free(data);
        return RD_ERR(err, RD_ERR_NOMEM, "too many files for the evidence pack (%d)",
                      PACK_MAX_FILES);
    }
    if (!(p->e[p->n].name = rd_strdup(name))) {
        free(data);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory packing evidence");
    }
    p->e[p->n].data = data;
    p->e[p->n].len = len;
    p->n++;
    return RD_OK;
}

static int skip_name(const char *n)
{
    size_t len = strlen(n);
    return n[0] == '.' || (len > 5 && strcmp(n + len - 5, ".lock") == 0) ||
           (len > 7 && strcmp(n + len - 7, ".tar.gz") == 0) || strstr(n, ".tmp") != NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir (sorted), into p; *report gets the first one
 * that is a restoredrill JSON report (its name). */
static rd_status add_dir(pack *p, const char *dir, const char **report, rd_error *err)
{
    rd_status st = RD_OK;
    char *names[PACK_MAX_FILES];
    size_t n = 0;
    struct dirent *de;
    DIR *d = opendir(dir);
    if (!d)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read directory %s", dir);
    while ((de = readdir(d)) && n < PACK_MAX_FILES - 4)
        if (!skip_name(de->d_name) && (names[n] = rd_strdup(de->d_name)) != NULL)
            n++;
    closedir(d);
    qsort(names, n, sizeof names[0], cmp_str);
    for (size_t i = 0; i < n; i++) {
        char *path = rd_fs_join(dir, names[i]), *data = NULL;
        size_t len = 0;
        struct stat sb;
        if (!path) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory packing evidence");
        } else if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
            st = rd_fs_read_file(path, PACK_FILE_MAX, &data, &len, err);
            if (st == RD_OK) {
                int is_report = 0;
                if (!*report && len > 0) {
                    cJSON *o = cJSON_ParseWithLength(data, len);
                    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "schema");
                    is_report = cJSON_IsString(s) && strcmp(s->valuestring, RD_REPORT_SCHEMA) == 0;
                    cJSON_Delete(o);
                }
                st = add(p, names[i], data, len, err);
                if (st == RD_OK && is_report)
                    *report = p->e[p->n - 1].name;
            }
        }
        free(path);
        if (st != RD_OK)
            break;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return st;
}

/* ---- ustar ---- */

static void octal(char *field, size_t width, unsigned long long v)
{
    snprintf(field, width, "%0*llo", (int)width - 1, v);
}

static rd_status tar_header(gzFile gz, const char *name, size_t size, long long mtime, int dir,
                            rd_error *err)
{
    unsigned char h[512];
    unsigned sum = 0;
    if (strlen(name) > 99)
        return RD_ERR(err, RD_ERR_USAGE, "name too long for the archive: %s", name);
    memset(h, 0, sizeof h);
    memcpy(h, name, strlen(name));
    octal((char *)h + 100, 8, dir ? 0755 : 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, (unsigned long long)mtime);
    memset(h + 148, ' ', 8);
    h[156] = dir ? '5' : '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    memcpy(h + 265, "root", 4);
    memcpy(h + 297, "root", 4);
    for (size_t i = 0; i < sizeof h; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
    h[155] = ' ';
    if (gzwrite(gz, h, sizeof h) != (int)sizeof h)
        return RD_ERR(err, RD_ERR_IO, "cannot write the archive");
    return RD_OK;
}

static rd_status tar_file(gzFile gz, const char *name, const char *data, size_t len,
                          long long mtime, rd_error *err)
{
    static const char zeros[512];
    rd_status st = tar_header(gz, name, len, mtime, 0, err);
    for (size_t off = 0; st == RD_OK && off < len;) {
        unsigned chunk = len - off > (1u << 30) ? (1u << 30) : (unsigned)(len - off);
        if (gzwrite(gz, data + off, chunk) != (int)chunk)
            st = RD_ERR(err, RD_ERR_IO, "cannot write the archive");
        off += chunk;
    }
    if (st == RD_OK && len % 512 && gzwrite(gz, zeros, (unsigned)(512 - len % 512)) <= 0)
        st = RD_ERR(err, RD_ERR_IO, "cannot write the archive");
    return st;
}

/* ---- README ---- */

static const char *report_str(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *rs(const cJSON *o, const char *a, const char *b)
{
    const char *v = report_str(o, a, b);
    return v ? v : "?";
}

static rd_status readme(const pack *p, const cJSON *rep, const char *report_name,
                        const char *config_sha, size_t redacted, char **out, rd_error *err)
{
    rd_strbuf sb;
    rd_status st = RD_OK;
    const char *key = report_str(rep, "drill", "signing_key");
    const cJSON *targets = cJSON_GetObjectItemCaseSensitive(rep, "targets"), *t;
    rd_strbuf_init(&sb, 1024 * 1024);
#define W(...)                                                                                     \
    do {                                                                                           \
        if (st == RD_OK)                                                                           \
            st = rd_strbuf_appendf(&sb, err, __VA_ARGS__);                                         \
    } while (0)
    W("restoredrill evidence pack\n==========================\n\n");
    W("Drill %s (%s), status %s\n", rs(rep, "drill", "id"), rs(rep, "drill", "name"),
      rs(rep, "drill", "status"));
    W("Ran from %s to %s by %s on %s", rs(rep, "drill", "started_at"),
      rs(rep, "drill", "finished_at"), rs(rep, "drill", "user"), rs(rep, "drill", "host"));
    if (report_str(rep, "drill", "ci_job_url"))
        W(", CI job %s", report_str(rep, "drill", "ci_job_url"));
    W(".\nTool: restoredrill %s.\n\n", rs(rep, "tool", "version"));
    W("Targets:\n");
    cJSON_ArrayForEach(t, targets)
    {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
        const cJSON *stv = cJSON_GetObjectItemCaseSensitive(t, "status");
        const cJSON *rp = cJSON_GetObjectItemCaseSensitive(t, "recovery_point");
        const cJSON *rid = cJSON_GetObjectItemCaseSensitive(rp, "id");
        W("  - %s: %s, recovery point %s\n", cJSON_IsString(nm) ? nm->valuestring : "?",
          cJSON_IsString(stv) ? stv->valuestring : "?",
          cJSON_IsString(rid) ? rid->valuestring : "(none)");
    }
    W("\nFiles (sha256, also in SHA256SUMS: check with `sha256sum -c SHA256SUMS`):\n");
    for (size_t i = 0; i < p->n; i++) {
        char hex[RD_SHA256_HEX_LEN + 1];
        rd_sha256_hex(p->e[i].data, p->e[i].len, hex);
        W("  %s  %s\n", hex, p->e[i].name);
    }
    W("\n%s is the full evidence (schema restoredrill/report/v1); evidence.html is the same\n"
      "for reading and printing; junit.xml is what CI showed; history.jsonl holds one line\n"
      "per drill, each carrying the sha256 of the line before it.\n",
      report_name);
    if (key)
        W("\nSignature: %s.sig is a detached Ed25519 signature of %s by key\n%s.\n"
          "Verify with the signer's public key:\n"
          "  restoredrill evidence verify %s --pub KEY.pub\n"
          "  restoredrill evidence verify history.jsonl --pub KEY.pub\n"
          "or without restoredrill (OpenSSL 3):\n"
          "  jq -r .signature %s.sig | base64 -d > sig.bin\n"
          "  openssl pkeyutl -verify -pubin -inkey KEY.pub -rawin -in %s -sigfile sig.bin\n",
          report_name, report_name, key, report_name, report_name, report_name);
    else
        W("\nThe report is NOT signed (no output.sign.key in the configuration).\n");
    W("\nconfig.redacted.json is the configuration with secrets removed (%zu value%s\n"
      "replaced by \"[redacted]\"; ${VAR} references kept, their defaults redacted; comments\n"
      "dropped). The report's drill.config_sha256 (%s) is the sha256 of the\n"
      "original file, which this pack does not contain.\n",
      redacted, redacted == 1 ? "" : "s", config_sha ? config_sha : "not recorded");
#undef W
    if (st != RD_OK) {
        rd_strbuf_free(&sb);
        return st;
    }
    if (!(*out = rd_strbuf_detach(&sb)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory packing evidence");
    return RD_OK;
}

rd_status rd_evidence_pack(const char *outdir, const char *config_path, const char *out_path,
                           rd_error *err)
{
    pack p = {.n = 0};
    const char *report_name = NULL;
    char *cfg_text = NULL, *redacted = NULL, *rd = NULL, *sums = NULL, *tmp = NULL, *top = NULL;
    size_t cfg_len = 0, nredacted = 0;
    cJSON *rep = NULL;
    gzFile gz = NULL;
    rd_strbuf sb;
    rd_error e;
    long long now = (long long)(rd_wall_now_ms() / 1000);
    rd_status st = add_dir(&p, outdir, &report_name, err);
    rd_strbuf_init(&sb, 16 * 1024 * 1024);
    if (st != RD_OK)
        goto out;
    if (!report_name) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "%s holds no restoredrill json report", outdir);
        goto out;
    }
    for (size_t i = 0; i < p.n; i++)
        if (p.e[i].name == report_name)
            rep = cJSON_ParseWithLength(p.e[i].data, p.e[i].len);
    if (!config_path)
        config_path = report_str(rep, "drill", "config");
    if (!config_path) {
        st = RD_ERR(err, RD_ERR_NOTFOUND, "the report names no configuration: give --config");
        goto out;
    }
    if ((st = rd_fs_read_file(config_path, 4 * 1024 * 1024, &cfg_text, &cfg_len, &e)) != RD_OK) {
        st = RD_ERR(err, e.sys_errno == ENOENT ? RD_ERR_NOTFOUND : st,
                    "configuration %s: %s (give --config)", config_path, e.msg);
        goto out;
    }
    if ((st = rd_evidence_redact_config(cfg_text, &redacted, &nredacted, &e)) != RD_OK) {
        st = RD_ERR(err, st, "configuration %s: %s", config_path, e.msg);
        goto out;
    }
    {
        char hex[RD_SHA256_HEX_LEN + 1];
        rd_sha256_hex(cfg_text, cfg_len, hex);
        const char *recorded = report_str(rep, "drill", "config_sha256");
        if (recorded && strcmp(recorded, hex) != 0)
            rd_log_warn("evidence pack: configuration %s changed since the drill (sha256 %s, "
                        "the report recorded %s)",
                        config_path, hex, recorded);
        if ((st = add(&p, "config.redacted.json", redacted, strlen(redacted), err)) != RD_OK) {
            redacted = NULL;
            goto out;
        }
        redacted = NULL;
        if ((st = readme(&p, rep, report_name, recorded, nredacted, &rd, err)) != RD_OK)
            goto out;
    }
    for (size_t i = 0; i < p.n && st == RD_OK; i++) {
        char hex[RD_SHA256_HEX_LEN + 1];
        rd_sha256_hex(p.e[i].data, p.e[i].len, hex);
        st = rd_strbuf_appendf(&sb, err, "%s  %s\n", hex, p.e[i].name);
    }
    if (st != RD_OK)
        goto out;
    if (!(sums = rd_strbuf_detach(&sb)) ||
        (st = add(&p, "SHA256SUMS", sums, strlen(sums), err)) != RD_OK) {
        sums = NULL;
        if (st == RD_OK)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory packing evidence");
        goto out;
    }
    sums = NULL;
    if ((st = add(&p, "README.txt", rd, strlen(rd), err)) != RD_OK) {
        rd = NULL;
        goto out;
    }
    rd = NULL;
    {
        const char *id = report_str(rep, "drill", "id");
        top = rd_asprintf("restoredrill-evidence-%s/", id ? id : "unknown");
        tmp = rd_asprintf("%s.tmp.%ld", out_path, (long)getpid());
    }
    if (!top || !tmp) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory packing evidence");
        goto out;
    }
    if (!(gz = gzopen(tmp, "wb9"))) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", tmp);
        goto out;
    }
    st = tar_header(gz, top, 0, now, 1, err);
    for (size_t i = 0; i < p.n && st == RD_OK; i++) {
        char *name = rd_asprintf("%s%s", top, p.e[i].name);
        st = name ? tar_file(gz, name, p.e[i].data, p.e[i].len, now, err)
                  : RD_ERR(err, RD_ERR_NOMEM, "out of memory packing evidence");
        free(name);
    }
    if (st == RD_OK) { /* end of archive: two zero blocks */
        static const char zeros[1024];
        if (gzwrite(gz, zeros, sizeof zeros) != (int)sizeof zeros)
            st = RD_ERR(err, RD_ERR_IO, "cannot write %s", tmp);
    }
    if (gzclose(gz) != Z_OK && st == RD_OK)
        st = RD_ERR(err, RD_ERR_IO, "cannot write %s", tmp);
    gz = NULL;
    if (st == RD_OK && rename(tmp, out_path) != 0)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", tmp, out_path);
    if (st != RD_OK)
        unlink(tmp);
out:
    cJSON_Delete(rep);
    rd_strbuf_free(&sb);
    free(cfg_text);
    free(redacted);
    free(rd);
    free(sums);
    free(tmp);
    free(top);
    pack_free(&p);
    return st;
}
