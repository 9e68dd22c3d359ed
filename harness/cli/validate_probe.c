/* validate_probe.c: what `validate` can check beyond the file without
 * touching a scratch instance: a `dir` catalog's directory exists, can be
 * read and has files matching the pattern (a `dynamodb-export` catalog's
 * directory, exports or scan files); a live reference (reference.dsn)
 * accepts a connection; a dynamodb table description (reference.description)
 * reads and has a key schema. Each problem is one stderr line naming the
 * setting by its JSON path. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/catalog.h"
#include "restoredrill/cli.h"
#include "restoredrill/db.h"
#include "restoredrill/dynamo.h"

#define PROBE_CONNECT_TIMEOUT 5.0

static void problem(const rd_config *cfg, size_t i, const char *msg)
{
    fprintf(stderr, "restoredrill: %s: targets[%zu].%s\n", cfg->file, i, msg);
}

static size_t probe_catalog(const rd_config *cfg, size_t i)
{
    const rd_catalog_cfg *c = &cfg->targets[i].catalog;
    rd_points pts = {0};
    rd_error err;
    size_t n = 0;
    rd_error_clear(&err);
    int dyn = strcmp(c->type, "dynamodb-export") == 0 && !c->bucket; /* a local directory too */
    if (strcmp(c->type, "dir") != 0 && !dyn)
        return 0; /* listing other catalogs runs commands or reaches a network */
    if (rd_catalog_list(c, &pts, &err) != RD_OK) {
        problem(cfg, i, err.msg);
        n = 1;
    } else if (pts.n == 0 && dyn) {
        fprintf(stderr,
                "restoredrill: %s: targets[%zu].catalog.path: no export "
                "(AWSDynamoDB/<id>/manifest-summary.json) and no scan file (*.json*) in %s\n",
                cfg->file, i, c->path);
        n = 1;
    } else if (pts.n == 0) {
        fprintf(stderr,
                "restoredrill: %s: targets[%zu].catalog.pattern: \"%s\" matches no file in %s\n",
                cfg->file, i, c->pattern && *c->pattern ? c->pattern : "*", c->path);
        n = 1;
    }
    rd_points_free(&pts);
    return n;
}

static size_t probe_reference(const rd_config *cfg, size_t i)
{
    const rd_target_cfg *t = &cfg->targets[i];
    rd_db_opts o = {.password_env = t->reference.password_env,
                    .connect_timeout = PROBE_CONNECT_TIMEOUT,
                    .app_name = "restoredrill validate"};
    rd_db *db = NULL;
    rd_error err;
    rd_error_clear(&err);
    if (!t->reference.dsn)
        return 0;
    if (rd_db_connect(t->engine, t->reference.dsn, &o, &db, &err) == RD_OK) {
        rd_db_free(db);
        return 0;
    }
    fprintf(stderr, "restoredrill: %s: targets[%zu].reference.dsn: %s\n", cfg->file, i, err.msg);
    return 1;
}

static size_t probe_description(const rd_config *cfg, size_t i)
{
    const char *path = cfg->targets[i].reference.description;
    cJSON *t = NULL;
    rd_error err;
    if (!path)
        return 0;
    if (rd_dyn_description_load(path, &t, &err) == RD_OK) {
        cJSON_Delete(t);
        return 0;
    }
    fprintf(stderr, "restoredrill: %s: targets[%zu].reference.description: %s\n", cfg->file, i,
            err.msg);
    return 1;
}

size_t rd_cli_validate_probe(const rd_config *cfg)
{
    size_t n = 0;
    for (size_t i = 0; i < cfg->ntargets; i++)
        n += probe_catalog(cfg, i) + probe_reference(cfg, i) + probe_description(cfg, i);
    return n;
}
