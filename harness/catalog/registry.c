/* registry.c: the catalog drivers. Adding one is one file and one line. */
#include "restoredrill/catalog.h"

#include <string.h>

const rd_catalog_type *const rd_catalog_registry[] = {
    &rd_catalog_dir,
    &rd_catalog_exec,
    &rd_catalog_s3,
    &rd_catalog_dynamodb_export,
    &rd_catalog_pg_archive,
    &rd_catalog_pgbackrest,
    &rd_catalog_mariabackup,
    &rd_catalog_s3_objects,
    NULL,
};

const rd_catalog_type *rd_catalog_find(const char *name)
{
    for (size_t i = 0; name && rd_catalog_registry[i]; i++)
        if (strcmp(rd_catalog_registry[i]->name, name) == 0)
            return rd_catalog_registry[i];
    return NULL;
}
