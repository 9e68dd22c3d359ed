/* integrity_int.h: what the files of the integrity check share
 * (integrity.c configures and runs it; integrity_pg.c: amcheck,
 * integrity_mariadb.c: CHECK TABLE, integrity_fk.c: foreign keys). */
#ifndef RESTOREDRILL_INTEGRITY_INT_H
#define RESTOREDRILL_INTEGRITY_INT_H

#include "restoredrill/check.h"
#include "restoredrill/config.h"
#include "restoredrill/error.h"

#define SAMPLE_KEYS 5

typedef struct integrity_state {
    rd_strlist tables;
    int heap, indexes, foreign_keys;
    char *mode; /* "" or QUICK MEDIUM EXTENDED CHANGED */
} integrity_state;

/* PostgreSQL: heap and btree checks of the selected tables (amcheck). */
rd_status rd_integrity_pg_tables(rd_check_ctx *ctx, const integrity_state *s, rd_error *err);
/* MariaDB: CHECK TABLE of the selected tables. */
rd_status rd_integrity_my_tables(rd_check_ctx *ctx, const integrity_state *s, rd_error *err);
/* Both engines: the orphan rows of every selected foreign key. */
rd_status rd_integrity_foreign_keys(rd_check_ctx *ctx, const integrity_state *s, rd_error *err);

#endif
