/* mariabackup_int.h: helpers shared by the files of the mariabackup catalog
 * (mariabackup.c, mariabackup_driver.c). */
#ifndef RESTOREDRILL_CATALOG_MARIABACKUP_INT_H
#define RESTOREDRILL_CATALOG_MARIABACKUP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"

/* "mysql-bin.000042" -> base length 9, seq 42; 0 when not such a name. */
int rd_mb_binlog_name(const char *name, size_t *base_len, uint64_t *seq);
/* The entries of dir but dot files (heap array of heap strings, also on
 * failure: free with rd_mb_names_free). RD_ERR_CONFIG "KEY: cannot read
 * DIR: ..." when it cannot be read. */
rd_status rd_mb_dir_names(const char *dir, const char *key, char ***out, size_t *n, rd_error *err);
void rd_mb_names_free(char **names, size_t n);

#endif
