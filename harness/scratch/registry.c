/* registry.c: the scratch instance drivers, and the engines of the
 * ephemeral driver. Adding either is one file and one line. */
#include "restoredrill/scratch.h"

#include <string.h>

#include "scratch_int.h"

/* one line each (clang-format off keeps it so) */
// clang-format off
const rd_scratch_type *const rd_scratch_registry[] = {
    &rd_scratch_ephemeral,
    &rd_scratch_server,
    &rd_scratch_exec,
    &rd_scratch_dynalite,         /* "ephemeral" for dynamodb */
    &rd_scratch_dynamodb_server,  /* "server" for dynamodb */
    &rd_scratch_s3_server,        /* "server" for s3 */
    NULL,
};
// clang-format on

/* The engines of the ephemeral driver. */
const rd_eph_engine *const rd_eph_engines[] = {
    &rd_eph_pg,
    &rd_eph_mariadb,
    NULL,
};

const rd_scratch_type *rd_scratch_find(const char *name)
{
    for (size_t i = 0; name && rd_scratch_registry[i]; i++)
        if (strcmp(rd_scratch_registry[i]->name, name) == 0)
            return rd_scratch_registry[i];
    return NULL;
}

const rd_scratch_type *rd_scratch_find_for(const char *name, rd_engine engine)
{
    for (size_t i = 0; name && rd_scratch_registry[i]; i++)
        if (strcmp(rd_scratch_registry[i]->name, name) == 0 &&
            (rd_scratch_registry[i]->engines & (unsigned)engine))
            return rd_scratch_registry[i];
    return rd_scratch_find(name);
}

unsigned rd_scratch_engines(const char *name)
{
    unsigned e = 0;
    for (size_t i = 0; name && rd_scratch_registry[i]; i++)
        if (strcmp(rd_scratch_registry[i]->name, name) == 0)
            e |= rd_scratch_registry[i]->engines;
    return e;
}
