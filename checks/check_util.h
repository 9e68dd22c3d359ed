/* check_util.h: helpers shared by the checks: picking the reference
 * (manifest or live database), naming and matching tables between the
 * reference and the restore, and building capped lists for messages.
 *
 * Table names across engines: on PostgreSQL a table is "schema.name" and the
 * schema is kept by a restore; on MariaDB the restore lands in a database of
 * another name, so tables are matched (and named in results) by bare name. */
#ifndef RESTOREDRILL_CHECK_UTIL_H
#define RESTOREDRILL_CHECK_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/check.h"
#include "restoredrill/config.h"
#include "restoredrill/manifest.h"
#include "restoredrill/strbuf.h"
#include "restoredrill/tablehash.h"

struct cJSON;

/* The reference a comparison uses: ctx->manifest when present, else a
 * manifest captured from ctx->reference (rows counted unless skip_rows).
 * *ref is borrowed or points into *owned (free with rd_manifest_free).
 * *basis is "manifest" or "reference". RD_ERR_NOTFOUND when there is
 * neither (the caller words the message). */
rd_status rd_cku_reference(rd_check_ctx *ctx, int skip_rows, const rd_manifest **ref,
                           rd_manifest **owned, const char **basis, rd_error *err);

/* "schema.name" (PostgreSQL) or "name" (MariaDB), heap; NULL on allocation
 * failure. */
char *rd_cku_table_key(rd_engine engine, const char *schema, const char *name);

/* An object name from a manifest list ("db.v", "db.t.trg") with the
 * MariaDB database prefix removed ("v", "t.trg"); PostgreSQL names unchanged.
 * Returns a pointer into s. */
const char *rd_cku_strip_db(rd_engine engine, const char *database, const char *s);

/* 1 when the table is selected by globs (fnmatch) given as "schema.table",
 * "table" or patterns of either; an empty list selects every table. */
int rd_cku_table_selected(const rd_strlist *globs, const char *schema, const char *name);

/* Tolerance "2%" or a number of rows, parsed from a config value. */
typedef struct rd_cku_tolerance {
    int percent;  /* 1: value is a percentage of the expected count */
    double value; /* rows or percent; 0 means exact */
} rd_cku_tolerance;
rd_status rd_cku_parse_tolerance(const struct cJSON *item, const char *keypath,
                                 rd_cku_tolerance *out, rd_error *err);
/* Rows allowed to differ from expected (floor for percentages). */
int64_t rd_cku_tolerance_rows(const rd_cku_tolerance *t, int64_t expected);

/* A list of findings for one message: the first `cap` items inline
 * ("a, b, c and 4 more"), every item in `full` (one per line). */
typedef struct rd_cku_list {
    rd_strbuf inline_text;
    rd_strbuf full;
    size_t n;
    size_t cap;
} rd_cku_list;
void rd_cku_list_init(rd_cku_list *l, size_t cap);
rd_status rd_cku_list_add(rd_cku_list *l, rd_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "a, b and 3 more" (valid until the next add or free). */
const char *rd_cku_list_text(rd_cku_list *l);
void rd_cku_list_free(rd_cku_list *l);

/* The user tables of db as a manifest holding only tables (schema, name,
 * rows -1), sorted by schema then name. Flat catalog queries only: joins
 * over MariaDB's information_schema can crash MariaDB 10.11 (signal 11). */
rd_status rd_cku_list_tables(rd_db *db, rd_manifest **out, rd_error *err);

/* count(*) of a table on db, exactly. */
rd_status rd_cku_count_rows(rd_db *db, const char *schema, const char *name, double timeout,
                            int64_t *out, rd_error *err);

/* --- per-table comparisons (checksum, diff) --- */

/* The two sides of a table comparison: the restored instance (side 0,
 * workers connect with its password) and the live reference (side 1, its
 * password from reference.password_env). opts must outlive sides. For one
 * database of a multi-database target on MariaDB the reference side has no
 * DSN, so that the comparison runs serially in that database's single
 * consistent snapshot (MariaDB workers cannot import it). */
void rd_cku_sides(const rd_check_ctx *ctx, rd_db_opts opts[2], rd_th_side sides[2]);

/* Compare one table and record its result through ctx, returning RD_OK; or
 * return an error for the walk to record: *missing set (and any status)
 * when the table is absent from the restore ("table missing from the
 * restore"), else an `error` result with err's message. schema is NULL on
 * MariaDB; i is the table's index in the walked list; obj names the result. */
typedef rd_status (*rd_cku_table_fn)(rd_check_ctx *ctx, size_t i, const char *schema,
                                     const char *name, const char *obj, void *ud, int *missing,
                                     rd_error *err);
/* How the walk reads table i of a reference list (schema, name borrowed). */
typedef void (*rd_cku_table_at)(const void *list, size_t i, const char **schema, const char **name);

/* Run fn on each of the n reference tables of list that `selection`
 * selects (rd_cku_table_selected), in order; then, when none was selected,
 * record "*" failed (a non-empty selection matched nothing) or skipped (the
 * reference has no tables). Returns an error only when the walk cannot go
 * on (out of memory); per-table errors become results. */
rd_status rd_cku_each_table(rd_check_ctx *ctx, const rd_strlist *selection, size_t n,
                            rd_cku_table_at at, const void *list, rd_cku_table_fn fn, void *ud,
                            rd_error *err);

/* Seconds left before ctx->deadline (at least 1; 0 deadline: the check's
 * configured timeout, else 3600). */
double rd_cku_timeout(const rd_check_ctx *ctx);

/* One row of MariaDB's CHECK TABLE output (Msg_type, Msg_text; NULL as ""):
 * a status OK (or "Table is already up to date") sets *ok_status, another
 * status, an error or a warning is added to bad, a note that the engine
 * does not support check sets *unsupported (integrity.c; the server's text
 * is outside input: tests/fuzz/fuzz_check_table.c). */
void rd_integrity_check_table_row(const char *type, const char *text, int *ok_status,
                                  int *unsupported, rd_cku_list *bad);

/* --- engine dynamodb (dynamodb.c): rowcount and checksum call these --- */
/* Accept only the common keys; *state = NULL. */
rd_status rd_check_dyn_configure(const struct cJSON *params, const char *path, void **state,
                                 rd_error *err);
/* Items of the restored table (a parallel Scan) against the point's count. */
rd_status rd_check_dyn_rowcount(rd_check_ctx *ctx, rd_error *err);
/* The digest of the restored table's canonical items against the point's. */
rd_status rd_check_dyn_checksum(rd_check_ctx *ctx, rd_error *err);
/* schema: DescribeTable of the restored table against reference.description */
rd_status rd_check_dyn_schema(rd_check_ctx *ctx, rd_error *err);
/* smoke: the environment an app gets to reach the scratch table (pushed
 * onto env; a name the check's own "env" (user, "NAME=...") sets is left to it):
 * AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, AWS_DEFAULT_REGION,
 * RD_DYNAMODB_TABLE, and on an ephemeral dynalite a placeholder key pair
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; AWS_SESSION_TOKEN and
 * AWS_PROFILE removed). */
rd_status rd_check_dyn_app_env(const rd_check_ctx *ctx, const rd_strlist *user, rd_strlist *env,
                               rd_error *err);

/* --- engine s3 (s3objects.c): rowcount and checksum call these (configured
 * by rd_check_dyn_configure: the common keys only) --- */
/* Objects under the scratch prefix against the expected set's count. */
rd_status rd_check_s3_rowcount(rd_check_ctx *ctx, rd_error *err);
/* Keys, sizes and digests of the copy against the expected set. */
rd_status rd_check_s3_checksum(rd_check_ctx *ctx, rd_error *err);

#endif
