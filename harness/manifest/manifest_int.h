/* manifest_int.h: declarations shared by the manifest capture files only:
 * manifest_capture.c calls the engines' catalog readers (manifest_pg.c,
 * manifest_mariadb.c), which fill the manifest through manifest_build.c. */
#ifndef RESTOREDRILL_MANIFEST_INT_H
#define RESTOREDRILL_MANIFEST_INT_H

#include <stdint.h>

#include "restoredrill/db.h"
#include "restoredrill/manifest.h"

/* Engine catalogs: fill tables (sorted), columns, keys, indexes,
 * constraints, sequences, views, routines, triggers, extensions. */
rd_status rd_capture_pg(rd_db *db, rd_manifest *m, rd_error *err);
rd_status rd_capture_mariadb(rd_db *db, rd_manifest *m, rd_error *err);

/* --- manifest_build.c --- */

/* Append helpers (copy their strings). */
rd_status rd_capture_add_table(rd_manifest *m, const char *schema, const char *name, rd_error *err);
/* Sort tables by schema, name (byte order); rd_capture_table needs it. */
void rd_capture_sort_tables(rd_manifest *m);
/* The table, or NULL (objects of tables not captured are skipped). */
rd_manifest_table *rd_capture_table(rd_manifest *m, const char *schema, const char *name);
rd_status rd_capture_add_column(rd_manifest_table *t, const char *name, const char *type,
                                int nullable, rd_error *err);
rd_status rd_capture_add_pk(rd_manifest_table *t, const char *col, rd_error *err);
rd_status rd_capture_add_named(rd_manifest_named **arr, size_t *n, const char *name,
                               const char *kind, const char *definition, rd_error *err);
rd_status rd_capture_add_str(char ***arr, size_t *n, const char *s, rd_error *err);
rd_status rd_capture_add_sequence(rd_manifest *m, const char *schema, const char *name,
                                  int64_t value, rd_error *err);
rd_status rd_capture_parse_int(const char *s, int64_t *out, rd_error *err);
/* RFC 3339 / PostgreSQL text; a value without an offset is taken as UTC. */
rd_status rd_capture_parse_time(const char *s, int64_t *out, rd_error *err);

#endif
