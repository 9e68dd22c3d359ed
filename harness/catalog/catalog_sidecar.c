/* catalog_sidecar.c: sidecar manifests and the creation time of a point,
 * for the file catalogs (dir, s3). */
#include "catalog_int.h"

#include "restoredrill/clock.h"
#include "restoredrill/log.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

rd_status rd_cat_time_from(const char *s, time_src *out, rd_error *err)
{
    if (!s || !*s)
        *out = SRC_AUTO;
    else if (strcmp(s, "manifest") == 0)
        *out = SRC_MANIFEST;
    else if (strcmp(s, "name") == 0)
        *out = SRC_NAME;
    else if (strcmp(s, "mtime") == 0)
        *out = SRC_MTIME;
    else
        return RD_ERR(err, RD_ERR_CONFIG,
                      "catalog.time_from: expected one of manifest, name, mtime, got \"%s\"", s);
    return RD_OK;
}

rd_status rd_cat_sidecar_parse(const char *text, size_t len, const char *name, rd_point *pt,
                               int *has_time, int64_t *ms, rd_error *err)
{
    rd_status st = RD_OK;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: expected a JSON object (a restoredrill manifest)",
                    name);
        goto out;
    }
    *has_time = 0;
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(root, "captured_at");
    if (cJSON_IsString(cap)) {
        rd_error terr;
        if (rd_time_parse(cap->valuestring, ms, &terr) != RD_OK) {
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "%s: captured_at: expected an RFC 3339 time, got \"%.64s\"", name,
                        cap->valuestring);
            goto out;
        }
        *has_time = 1;
    } else if (cap && !cJSON_IsNull(cap)) {
        st = RD_ERR(err, RD_ERR_FORMAT, "%s: captured_at: expected an RFC 3339 time", name);
        goto out;
    }
    const cJSON *art = cJSON_GetObjectItemCaseSensitive(root, "artifact");
    if (cJSON_IsObject(art)) {
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(art, "sha256");
        const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(art, "format");
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(art, "bytes");
        if (cJSON_IsString(sha) && sha->valuestring[0] && !(pt->sha256 = strdup(sha->valuestring)))
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (cJSON_IsString(fmt) && fmt->valuestring[0] && !(pt->format = strdup(fmt->valuestring)))
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        for (char *c = pt->sha256; c && *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
        if (cJSON_IsNumber(bytes) && pt->bytes >= 0 && bytes->valuedouble != (double)pt->bytes)
            rd_log_warn("catalog: %s is %lld bytes but its manifest says %.0f", pt->location,
                        (long long)pt->bytes, bytes->valuedouble);
    }
out:
    cJSON_Delete(root);
    return st;
}

rd_status rd_cat_choose_time(time_src src, int have_manifest, int64_t manifest_ms, const char *name,
                             int64_t mtime_ms, rd_point *pt, rd_error *err)
{
    int64_t ms = 0, nms = 0;
    const char *basis = NULL;
    int have_name_time = rd_catalog_time_from_name(name, &nms);
    if ((src == SRC_AUTO || src == SRC_MANIFEST) && have_manifest) {
        ms = manifest_ms;
        basis = "manifest";
    } else if (src == SRC_MANIFEST) {
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "catalog time_from is \"manifest\" but %s has no sidecar manifest with "
                      "captured_at",
                      pt->location);
    } else if ((src == SRC_AUTO || src == SRC_NAME) && have_name_time) {
        ms = nms;
        basis = "name";
    } else if (src == SRC_NAME) {
        return RD_ERR(err, RD_ERR_NOTFOUND,
                      "catalog time_from is \"name\" but the file name %s has no timestamp",
                      pt->location);
    } else {
        ms = mtime_ms;
        basis = "mtime";
    }
    pt->created_ms = ms;
    if (!(pt->time_basis = strdup(basis)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory listing %s", pt->location);
    return RD_OK;
}
