/* config_s3.c: what engine s3 needs of a target (docs/s3-objects.md): a
 * catalog "s3-objects", a scratch "server" (a prefix in a bucket of the same
 * endpoint: copies are server-side), the listing captured at backup time for
 * backup prefixes, pitr sampling for a versioned bucket; keys that mean
 * nothing for object sets are refused, never ignored. */
#include <cjson/cJSON.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/config.h"

static int pitr_strategy(const char *s)
{
    return s && (strcmp(s, "pitr") == 0 || strcmp(s, "pitr-random") == 0);
}

static rd_status s3_target(const cJSON *t, const char *tpath, rd_target_cfg *tc, rd_error *err)
{
    const rd_catalog_cfg *c = &tc->catalog;
    rd_scratch_cfg *s = &tc->scratch;
    static const struct {
        const char *section, *key;
    } unused[] = {
        {"reference", "manifest"},      {"reference", "dsn"},      {"reference", "password_env"},
        {"restore", "roles"},           {"restore", "extra_args"}, {"restore", "decrypt"},
        {"restore", "verify_manifest"}, {"sample", "databases"},   {"restore", "read"}};
    if (strcmp(c->type, "s3-objects") != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.catalog.type: engine s3 needs a catalog of type \"s3-objects\", got "
                      "\"%s\"",
                      tpath, c->type);
    if (tc->databases.n)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.databases: not supported for s3", tpath);
    for (size_t i = 0; i < sizeof unused / sizeof unused[0]; i++) {
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(t, unused[i].section);
        if (cJSON_IsObject(sec) && cJSON_GetObjectItemCaseSensitive(sec, unused[i].key))
            return RD_ERR(err, RD_ERR_CONFIG, "%s.%s.%s: not supported for s3", tpath,
                          unused[i].section, unused[i].key);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "negative_control")))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.negative_control: not supported for s3 (not implemented yet)", tpath);
    if (tc->keep_scratch && strcmp(tc->keep_scratch, "never") != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.keep_scratch: not supported for s3 (not implemented yet)", tpath);
    if (!s->type || strcmp(s->type, "server") != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.scratch.type: engine s3 needs scratch type \"server\" (a prefix in a "
                      "bucket: {\"type\": \"server\", \"bucket\": B}), got \"%s\"",
                      tpath, s->type ? s->type : "");
    if (!s->bucket)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.scratch.bucket: required key is missing (engine s3 restores into a "
                      "prefix of a bucket: {\"type\": \"server\", \"bucket\": B})",
                      tpath);
    const char *cp = c->prefix ? c->prefix : "";
    if (!s->prefix || !tc->sample.strategy)
        return RD_OK; /* their own errors are reported */
    if (strcmp(s->bucket, c->bucket) == 0 && strncmp(s->prefix, cp, strlen(cp)) == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.scratch.prefix: \"%s\" lies under the catalog's prefix \"%s\" of bucket "
                      "%s: the restored copies would be listed as backups (give another bucket or "
                      "prefix)",
                      tpath, s->prefix, cp, s->bucket);
    if (c->versions) {
        if (!pitr_strategy(tc->sample.strategy))
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.sample.strategy: a versioned bucket (catalog.versions) is sampled "
                          "with \"pitr-random\" or \"pitr\", got \"%s\"",
                          tpath, tc->sample.strategy);
        if (tc->reference.listing)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.reference.listing: not used with catalog.versions (the expected "
                          "objects are the bucket's versions as of the target)",
                          tpath);
    } else {
        if (pitr_strategy(tc->sample.strategy))
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.sample.strategy: \"%s\" needs a versioned bucket "
                          "(\"versions\": true in the catalog)",
                          tpath, tc->sample.strategy);
        if (!tc->reference.listing || !*tc->reference.listing)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.reference.listing: required key is missing (the listing captured at "
                          "backup time: restoredrill manifest --engine s3 --bucket B --prefix P "
                          "-o FILE)",
                          tpath);
    }
    /* the scratch lives on the catalog's endpoint */
    rd_status st = RD_OK;
    if (c->endpoint)
        st = rd_config_dupstr(&s->endpoint, c->endpoint, err);
    if (st == RD_OK && c->region)
        st = rd_config_dupstr(&s->region, c->region, err);
    s->path_style = c->path_style;
    return st;
}

rd_status rd_config_check_s3(const cJSON *t, const char *tpath, rd_target_cfg *tc, rd_error *err)
{
    if (tc->engine == RD_ENGINE_S3)
        return s3_target(t, tpath, tc, err);
    if (tc->engine && strcmp(tc->catalog.type, "s3-objects") == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.catalog.type: catalog type \"s3-objects\" needs engine \"s3\"", tpath);
    if (tc->reference.listing)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.reference.listing: only used with engine \"s3\"",
                      tpath);
    return RD_OK;
}
