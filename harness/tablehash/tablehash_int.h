/* tablehash_int.h: what the files of harness/tablehash share:
 * tablehash_columns.c builds a described table's column expressions and
 * lists, for tablehash_describe.c. The public API is
 * include/restoredrill/tablehash.h. */
#ifndef RESTOREDRILL_TABLEHASH_INT_H
#define RESTOREDRILL_TABLEHASH_INT_H

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/tablehash.h"

/* RD_ERR_NOMEM "out of memory building checksum queries". */
rd_status rd_th_nomem(rd_error *err);
/* Fill hash_expr / key_expr / lit of a column; *strlen_expr gets a LENGTH()
 * term for MariaDB strings (heap, may stay NULL). */
rd_status rd_th_column_exprs(rd_engine engine, rd_th_column *c, const char *q, const char *tn,
                             char **strlen_expr);
/* Build row_hash, digest_list, order_by and key_list from the columns. */
rd_status rd_th_build_lists(rd_th_table *t, char **quoted, char **lens, rd_error *err);

#endif
