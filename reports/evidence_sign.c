/* evidence_sign.c: detached signatures of report files (FILE.sig) and
 * signatures inside history lines. The formats are in evidence.h and
 * docs/evidence.md. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "restoredrill/sha256.h"
#include "restoredrill/strbuf.h"

#define SIGNED_MAX_BYTES ((size_t)1024 * 1024 * 1024)
#define SIG_FILE_MAX_BYTES ((size_t)64 * 1024)
#define LINE_MEMBER ",\"signature\":{\"key_fingerprint\":\""

static const char *base_name(const char *path)
{
    const char *b = strrchr(path, '/');
    return b ? b + 1 : path;
}

rd_status rd_evidence_sign_file(const char *path, const rd_sign_key *key, rd_error *err)
{
    char *data = NULL, *doc = NULL, *sig_path = NULL;
    size_t len = 0;
    char b64[RD_SIGN_B64_LEN + 1], hex[RD_SHA256_HEX_LEN + 1];
    cJSON *o = NULL;
    rd_status st = rd_fs_read_file(path, SIGNED_MAX_BYTES, &data, &len, err);
    if (st != RD_OK)
        goto out;
    if ((st = rd_sign_data(key, data, len, b64, sizeof b64, err)) != RD_OK)
        goto out;
    rd_sha256_hex(data, len, hex);
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "schema", RD_SIGNATURE_SCHEMA) ||
        !cJSON_AddStringToObject(o, "algorithm", "ed25519") ||
        !cJSON_AddStringToObject(o, "key_fingerprint", rd_sign_fingerprint(key)) ||
        !cJSON_AddStringToObject(o, "file", base_name(path)) ||
        !cJSON_AddNumberToObject(o, "bytes", (double)len) ||
        !cJSON_AddStringToObject(o, "sha256", hex) ||
        !cJSON_AddStringToObject(o, "signature", b64) || !(doc = cJSON_Print(o)) ||
        !(sig_path = rd_asprintf("%s.sig", path))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory signing %s", path);
        goto out;
    }
    {
        char *withnl = rd_asprintf("%s\n", doc);
        if (!withnl) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory signing %s", path);
            goto out;
        }
        st = rd_fs_write_atomic(sig_path, withnl, strlen(withnl), 0644, err);
        free(withnl);
    }
out:
    cJSON_Delete(o);
    cJSON_free(doc);
    free(sig_path);
    free(data);
    return st;
}

static const char *str_member(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

rd_status rd_evidence_verify_file(const char *path, const char *sig_path, const rd_sign_key *pub,
                                  rd_error *err)
{
    char *data = NULL, *sigtext = NULL, *own = NULL;
    size_t len = 0, siglen = 0;
    char hex[RD_SHA256_HEX_LEN + 1];
    cJSON *o = NULL;
    const char *schema, *alg, *fp, *sha, *b64;
    rd_error e;
    rd_status st;
    if (!sig_path && !(sig_path = own = rd_asprintf("%s.sig", path)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory verifying %s", path);
    if ((st = rd_fs_read_file(path, SIGNED_MAX_BYTES, &data, &len, err)) != RD_OK) {
        if (err && err->sys_errno == ENOENT)
            err->code = st = RD_ERR_NOTFOUND;
        goto out;
    }
    if ((st = rd_fs_read_file(sig_path, SIG_FILE_MAX_BYTES, &sigtext, &siglen, &e)) != RD_OK) {
        if (e.sys_errno == ENOENT)
            st =
                RD_ERR(err, RD_ERR_NOTFOUND, "%s is not signed: %s does not exist", path, sig_path);
        else if (err)
            *err = e;
        goto out;
    }
    o = cJSON_ParseWithLength(sigtext, siglen);
    schema = str_member(o, "schema");
    alg = str_member(o, "algorithm");
    fp = str_member(o, "key_fingerprint");
    sha = str_member(o, "sha256");
    b64 = str_member(o, "signature");
    if (!o || !schema || strcmp(schema, RD_SIGNATURE_SCHEMA) != 0) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: not a %s signature file", sig_path,
                    RD_SIGNATURE_SCHEMA);
        goto out;
    }
    if (!alg || strcmp(alg, "ed25519") != 0 || !fp || !sha || !b64) {
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "%s: expected algorithm \"ed25519\", key_fingerprint, sha256 and signature",
                    sig_path);
        goto out;
    }
    if (strcmp(fp, rd_sign_fingerprint(pub)) != 0) {
        st = RD_ERR(err, RD_ERR_INTEGRITY, "%s was signed by key %.80s, not by %s", path, fp,
                    rd_sign_fingerprint(pub));
        goto out;
    }
    rd_sha256_hex(data, len, hex);
    if (strcmp(hex, sha) != 0) {
        st = RD_ERR(err, RD_ERR_INTEGRITY,
                    "%s changed after it was signed (sha256 %s, signed %.64s)", path, hex, sha);
        goto out;
    }
    if ((st = rd_sign_verify(pub, data, len, b64, &e)) != RD_OK)
        st = RD_ERR(err, st, "%s: %s", path, e.msg);
out:
    cJSON_Delete(o);
    free(sigtext);
    free(data);
    free(own);
    return st;
}

rd_status rd_evidence_sign_line(const char *line, const rd_sign_key *key, char **out, rd_error *err)
{
    char b64[RD_SIGN_B64_LEN + 1];
    size_t n = strlen(line);
    if (n < 2 || line[n - 1] != '}')
        return RD_ERR(err, RD_ERR_INTERNAL, "history line is not a json object");
    rd_status st = rd_sign_data(key, line, n, b64, sizeof b64, err);
    if (st != RD_OK)
        return st;
    char *s = rd_asprintf("%.*s" LINE_MEMBER "%s\",\"ed25519\":\"%s\"}}", (int)(n - 1), line,
                          rd_sign_fingerprint(key), b64);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory signing the history line");
    *out = s;
    return RD_OK;
}

/* Where the signature member starts in line[0..len), or NULL. */
static const char *find_member(const char *line, size_t len)
{
    const char *hit = NULL;
    size_t m = strlen(LINE_MEMBER);
    for (size_t i = 0; i + m <= len; i++)
        if (memcmp(line + i, LINE_MEMBER, m) == 0)
            hit = line + i; /* the last one: the writer appends it at the end */
    return hit;
}

rd_status rd_evidence_verify_line(const char *line, size_t len, const rd_sign_key *pub,
                                  rd_error *err)
{
    rd_status st = RD_OK;
    char *copy = NULL, *signed_part = NULL;
    cJSON *o = NULL;
    const char *mem = find_member(line, len);
    if (!mem)
        return RD_ERR(err, RD_ERR_NOTFOUND, "not signed");
    if (!(copy = rd_asprintf("%.*s", (int)(len - (size_t)(mem - line) - 1), mem + 1)) ||
        !(signed_part = rd_asprintf("%.*s}", (int)(mem - line), line))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory verifying a history line");
        goto out;
    }
    /* copy is `"signature":{...}`: parse it as the member of an object */
    {
        char *wrapped = rd_asprintf("{%s}", copy);
        if (!wrapped) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory verifying a history line");
            goto out;
        }
        o = cJSON_Parse(wrapped);
        free(wrapped);
    }
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(o, "signature");
    const char *fp = str_member(sig, "key_fingerprint"), *b64 = str_member(sig, "ed25519");
    if (line[len - 1] != '}' || !fp || !b64 || cJSON_GetArraySize(o) != 1 ||
        cJSON_GetArraySize(sig) != 2) {
        st = RD_ERR(err, RD_ERR_FORMAT,
                    "the signature member is not {\"key_fingerprint\", \"ed25519\"} at the end");
        goto out;
    }
    if (strcmp(fp, rd_sign_fingerprint(pub)) != 0) {
        st = RD_ERR(err, RD_ERR_INTEGRITY, "signed by key %.80s, not by %s", fp,
                    rd_sign_fingerprint(pub));
        goto out;
    }
    st = rd_sign_verify(pub, signed_part, strlen(signed_part), b64, err);
out:
    cJSON_Delete(o);
    free(copy);
    free(signed_part);
    return st;
}
