/* registry.c: the restore drivers. Adding one is one file and one line. */
#include "restoredrill/restore.h"

#include <string.h>

const rd_restore_type *const rd_restore_registry[] = {
    &rd_restore_pg_logical,
    &rd_restore_mariadb_logical,
    NULL,
};

const rd_restore_type *rd_restore_for(rd_engine engine, rd_format f)
{
    for (size_t i = 0; rd_restore_registry[i]; i++) {
        const rd_restore_type *t = rd_restore_registry[i];
        if ((t->engines & (unsigned)engine) && t->accepts(f))
            return t;
    }
    return NULL;
}

const rd_physical_type *const rd_physical_registry[] = {
    &rd_physical_pg,
    &rd_physical_pgbackrest,
    &rd_physical_mariabackup,
    NULL,
};

const rd_physical_type *rd_physical_for(rd_engine engine, const rd_point *pt)
{
    for (size_t i = 0; pt && pt->base && rd_physical_registry[i]; i++) {
        const rd_physical_type *t = rd_physical_registry[i];
        if ((t->engines & (unsigned)engine) && t->accepts(pt))
            return t;
    }
    return NULL;
}
