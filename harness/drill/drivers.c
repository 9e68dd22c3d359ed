/* drivers.c: the driver lookups a configuration is checked against
 * (rd_config_drivers of config.h), over the catalog, scratch and check
 * registries. They live here, above every driver family, so that the
 * configuration layer depends on none of them. */
#include "restoredrill/catalog.h"
#include "restoredrill/check.h"
#include "restoredrill/drill.h"
#include "restoredrill/scratch.h"

static int catalog_known(const char *type)
{
    return rd_catalog_find(type) != NULL;
}

static unsigned scratch_engines(const char *type)
{
    return rd_scratch_engines(type);
}

static unsigned check_engines(const char *type)
{
    const rd_check_type *t = rd_check_find(type);
    return t ? t->engines | t->skips : 0;
}

static rd_status check_configure(rd_check_cfg *c, rd_engine engine, rd_error *err)
{
    const rd_check_type *t = rd_check_find(c->type);
    if (!t)
        return RD_ERR(err, RD_ERR_CONFIG, "%s.type: check type \"%s\" is not implemented yet",
                      c->path, c->type);
    void *state = NULL;
    if ((t->skips & (unsigned)engine) && !(t->engines & (unsigned)engine)) {
        c->ct = t; /* not configured: it records a skipped result */
        return RD_OK;
    }
    rd_status st = t->configure(c->params, c->path, engine, &state, err);
    if (st != RD_OK)
        return st;
    c->ct = t;
    c->state = state;
    c->state_free = t->free;
    return RD_OK;
}

static rd_status catalog_check(const rd_catalog_cfg *c, rd_error *err)
{
    const rd_catalog_type *t = rd_catalog_find(c->type);
    return t && t->check ? t->check(c, err) : RD_OK;
}

const rd_config_drivers rd_drill_drivers = {
    .catalog_check = catalog_check,
    .catalog_known = catalog_known,
    .scratch_engines = scratch_engines,
    .check_engines = check_engines,
    .check_configure = check_configure,
};
