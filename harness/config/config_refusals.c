/* config_refusals.c: the combinations of a target's keys that are refused
 * rather than ignored: sampling that the catalog cannot serve, the keys that
 * belong to engine dynamodb only (or mean nothing for it), and what
 * databases / sample.databases cannot be built with. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"
#include "restoredrill/strbuf.h"

/* engine dynamodb: a dynamodb-export catalog and a key of one or two
 * attribute names; the key and that catalog belong to dynamodb only. */
rd_status rd_config_check_dynamodb(const cJSON *t, const char *tpath, rd_target_cfg *tc,
                                   rd_error *err)
{
    int dyn = tc->engine == RD_ENGINE_DYNAMODB;
    int dyn_catalog = tc->catalog.type && strcmp(tc->catalog.type, "dynamodb-export") == 0;
    rd_status st = RD_OK;
    if (dyn) {
        /* without `key`, the key schema comes from reference.description */
        st = rd_cfg_strlist(t, tpath, "key", 0, &tc->key, err);
        if (st == RD_OK && tc->reference.description && !*tc->reference.description)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.reference.description: expected a file path, got \"\"", tpath);
        if (st == RD_OK && (tc->key.n > 2 || (tc->key.n < 1 && !tc->reference.description)))
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.key: expected the table's key attributes, [\"partition\"] or "
                        "[\"partition\", \"sort\"]%s",
                        tpath,
                        tc->key.n ? ", got more than two"
                                  : " (required for dynamodb without reference.description)");
        if (st == RD_OK && tc->catalog.type && !dyn_catalog)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.catalog.type: engine dynamodb needs a catalog of type "
                        "\"dynamodb-export\", got \"%s\"",
                        tpath, tc->catalog.type);
        if (st == RD_OK && tc->databases.n)
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.databases: not supported for dynamodb", tpath);
        if (st == RD_OK && tc->reference.dsn)
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.reference.dsn: not supported for dynamodb", tpath);
        /* keys that mean nothing for dynamodb are refused, never ignored */
        static const struct {
            const char *section, *key;
        } unused[] = {{"reference", "manifest"}, {"restore", "roles"},    {"restore", "extra_args"},
                      {"restore", "read"},       {"scratch", "tcp"},      {"scratch", "run_as"},
                      {"scratch", "base_dir"},   {"scratch", "template"}, {"sample", "databases"}};
        const cJSON *ks = cJSON_GetObjectItemCaseSensitive(t, "keep_scratch");
        if (st == RD_OK && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "negative_control")))
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.negative_control: not supported for dynamodb (not implemented yet)",
                        tpath);
        if (st == RD_OK && cJSON_IsString(ks) && strcmp(ks->valuestring, "never") != 0)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.keep_scratch: not supported for dynamodb (not implemented yet)", tpath);
        for (size_t i = 0; st == RD_OK && i < sizeof unused / sizeof unused[0]; i++) {
            const cJSON *sec = cJSON_GetObjectItemCaseSensitive(t, unused[i].section);
            if (cJSON_IsObject(sec) && cJSON_GetObjectItemCaseSensitive(sec, unused[i].key))
                st = RD_ERR(err, RD_ERR_CONFIG, "%s.%s.%s: not supported for dynamodb", tpath,
                            unused[i].section, unused[i].key);
        }
    } else {
        if (cJSON_GetObjectItemCaseSensitive(t, "key"))
            st = RD_ERR(err, RD_ERR_CONFIG, "%s.key: only used with engine \"dynamodb\"", tpath);
        else if (tc->reference.description && tc->engine)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.reference.description: only used with engine \"dynamodb\"", tpath);
        else if (dyn_catalog && tc->engine)
            st = RD_ERR(err, RD_ERR_CONFIG,
                        "%s.catalog.type: catalog type \"dynamodb-export\" needs engine "
                        "\"dynamodb\"",
                        tpath);
    }
    return st;
}

rd_status rd_config_check_sample(const char *tpath, const char *catalog_type,
                                 const rd_sample_cfg *s, rd_error *err)
{
    int by_id = strcmp(s->strategy, "id") == 0;
    int pitr = strcmp(s->strategy, "pitr") == 0;
    if (by_id && (!s->id || !*s->id))
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.id: required key is missing (strategy \"id\")",
                      tpath);
    if (!by_id && s->id)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.id: only used with strategy \"id\"", tpath);
    if (pitr && (!s->time || !*s->time))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.time: required key is missing (strategy \"pitr\": an RFC 3339 "
                      "time such as \"2026-01-30T15:00:00Z\", or \"latest\")",
                      tpath);
    if (!pitr && s->time)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.sample.time: only used with strategy \"pitr\"",
                      tpath);
    if (pitr && strcmp(s->time, "latest") != 0) {
        int64_t ms;
        rd_error e2;
        if (rd_time_parse(s->time, &ms, &e2) != RD_OK)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.sample.time: expected an RFC 3339 time with a zone such as "
                          "\"2026-01-30T15:00:00Z\" or \"2026-01-30T16:00:00.250+01:00\", or "
                          "\"latest\", got \"%.64s\"",
                          tpath, s->time);
    }
    if ((pitr || strcmp(s->strategy, "pitr-random") == 0) &&
        !rd_config_physical_catalog(catalog_type) &&
        strcmp(catalog_type, "s3-objects") != 0) /* versioned buckets: config_s3.c */
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.strategy: \"%s\" needs a catalog with a WAL or binlog archive "
                      "(\"pg-archive\", \"pgbackrest\" or \"mariabackup\"), not \"%s\"",
                      tpath, s->strategy, catalog_type);
    return RD_OK;
}

/* databases / sample.databases (DESIGN section 11, "Tenants"): what is
 * built is a cluster-wide dump, per-database dumps or a physical restore of
 * the whole cluster, into an ephemeral instance; everything else is refused
 * rather than ignored. */
rd_status rd_config_check_databases(const cJSON *t, const char *path, const rd_target_cfg *tc,
                                    rd_error *err)
{
    const rd_strlist *d = &tc->databases;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->items[i][0])
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.databases[%zu]: expected a database name or a glob, got \"\"", path,
                          i);
        if (strlen(d->items[i]) > 256)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "%s.databases[%zu]: expected at most 256 bytes, got %zu", path, i,
                          strlen(d->items[i]));
    }
    if (tc->sample.databases > 0 && d->n == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.sample.databases: needs \"databases\" on the target (the names or globs "
                      "to sample from)",
                      path);
    if (tc->catalog.per_database && d->n == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.catalog.per_database: needs \"databases\" on the target (the names or "
                      "globs to drill)",
                      path);
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(t, "restore");
    if (d->n == 0 && cJSON_IsObject(rs) && cJSON_GetObjectItemCaseSensitive(rs, "read"))
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.restore.read: needs \"databases\" on the target (it chooses how much of "
                      "a cluster-wide dump is read)",
                      path);
    if (!cJSON_GetObjectItemCaseSensitive(t, "databases"))
        return RD_OK;
    if (d->n == 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.databases: expected at least one database name or glob, got []", path);
    int server = tc->scratch.type && strcmp(tc->scratch.type, "server") == 0;
    if (tc->scratch.type && strcmp(tc->scratch.type, "ephemeral") != 0 && !server)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.databases: not implemented yet with scratch type \"%s\" (only "
                      "\"ephemeral\" and \"server\")",
                      path, tc->scratch.type);
    if (server && tc->catalog.per_database)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.databases: not implemented yet with catalog.per_database and scratch "
                      "type \"server\" (each file is restored under its own name; only a "
                      "cluster-wide dump is restored under scratch names)",
                      path);
    if (server && tc->restore.roles && strcmp(tc->restore.roles, "no-owner") != 0)
        return RD_ERR(err, RD_ERR_CONFIG,
                      "%s.restore.roles: \"%s\" with databases on scratch type \"server\" "
                      "would change the shared server's roles; only \"no-owner\"",
                      path, tc->restore.roles);
    return RD_OK;
}
