/* registry.c: the database drivers, one per engine. */
#include <stddef.h>

#include "db_int.h"

const rd_db_driver *const rd_db_drivers[] = {&rd_db_pg_driver, &rd_db_mariadb_driver, NULL};
