/* backup.c: `restoredrill backup`, dispatched to the engine's driver
 * (backup_pg.c, backup_pg_cluster.c, backup_mariadb.c). */
#include "source_int.h"

rd_status rd_backup_run(const rd_backup_opts *o, rd_error *err)
{
    if (o->engine == RD_ENGINE_PG && o->ndatabases)
        return rd_backup_pg_cluster(o, err);
    if (o->engine == RD_ENGINE_PG)
        return rd_backup_pg(o, err);
    return rd_backup_mariadb(o, err);
}
