/* manifest.h: the expected figures of a recovery point, captured at backup
 * time and stored beside the artifact as <artifact>.manifest.json.
 *
 * Format (version 1), all keys lowercase:
 * { "version": 1, "tool": "restoredrill 0.1.0", "engine": "postgres",
 *   "captured_at": "...Z", "server_version": "15.18", "database": "shop",
 *   "snapshot": "00000003-0000001B-1" | null,
 *   "artifact": {"file": "x.dump", "bytes": 123, "sha256": "...", "format": "pg-custom",
 *                "sections": [{"database": null | "NAME", "offset": 0, "length": 123,
 *                              "sha256": "..."}]},
 *   "extensions": [{"name": "plpgsql", "version": "1.0"}],
 *   "freshness": {"query": "...", "value": "...Z"} | null,
 *   "heartbeat": "...Z" | null,
 *   "tables": [{"schema": "public", "name": "orders", "rows": 120,
 *               "columns": [{"name": "id", "type": "integer", "nullable": false}],
 *               "primary_key": ["id"],
 *               "indexes": [{"name": "orders_pkey", "definition": "..."}],
 *               "constraints": [{"name": "...", "type": "f", "definition": "..."}],
 *               "checksum": {"algorithm": "...", "chunks": [...]} | null }],
 *   "sequences": [{"schema": "public", "name": "orders_id_seq", "value": 120}],
 *   "views": ["public.v"], "routines": ["public.f(integer)"], "triggers": ["public.orders.trg"] }
 *
 * A cluster manifest (`manifest`/`backup --all-databases` or `--databases
 * GLOB...`) has "database": null, no tables of its own, and
 * "databases": [<one manifest object as above per database, in name order>]:
 * MariaDB captures every one in the same snapshot; PostgreSQL each in its
 * own (its "snapshot" names it, for a backup the one its dump used).
 *
 * "artifact.sections" (cluster manifests written by `backup`; absent in
 * older ones and in `manifest --all-databases`): the stored file cut into
 * pieces, in file order, covering it without gap or overlap (offset 0, each
 * offset the previous offset + length, the last ending at artifact.bytes,
 * which is then required). Offsets and lengths are bytes of the file as
 * stored (compressed): each piece ends a gzip member or a zstd frame, so it
 * decodes on its own. "database" is the database whose section the piece
 * holds (MariaDB writes two per database: its tables, then its views; a
 * system database such as mysql is named too), null for shared bytes (the
 * preamble or globals, the trailer). "sha256" is the piece's own digest.
 * The loader refuses sections that do not tile the file (RD_ERR_FORMAT).
 */
#ifndef RESTOREDRILL_MANIFEST_H
#define RESTOREDRILL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"

struct cJSON;
struct rd_db;

#define RD_MANIFEST_VERSION 1

typedef struct rd_manifest_column {
    char *name;
    char *type;
    int nullable;
} rd_manifest_column;

typedef struct rd_manifest_named {
    char *name;
    char *definition; /* may be NULL */
    char *kind;       /* constraints: p u f c x; else NULL */
} rd_manifest_named;

typedef struct rd_manifest_table {
    char *schema;
    char *name;
    int64_t rows;
    rd_manifest_column *columns;
    size_t ncolumns;
    char **primary_key;
    size_t npk;
    rd_manifest_named *indexes;
    size_t nindexes;
    rd_manifest_named *constraints;
    size_t nconstraints;
    struct cJSON *checksum; /* chunk digests (tablehash), owned; may be NULL */
} rd_manifest_table;

typedef struct rd_manifest_sequence {
    char *schema;
    char *name;
    int64_t value;
} rd_manifest_sequence;

/* One piece of a cluster dump as stored (see "artifact.sections"). */
typedef struct rd_manifest_section {
    char *database; /* NULL: shared (preamble, globals, trailer) */
    int64_t offset;
    int64_t length;
    char *sha256;
} rd_manifest_section;

typedef struct rd_manifest {
    int version;
    char *tool;
    rd_engine engine;
    int64_t captured_at_ms;
    char *server_version;
    char *database;
    char *snapshot;
    char *artifact_file;
    int64_t artifact_bytes; /* -1 unknown */
    char *artifact_sha256;
    char *artifact_format;
    rd_manifest_section *sections; /* artifact.sections; NULL/0: none */
    size_t nsections;
    rd_manifest_named *extensions; /* name + definition=version */
    size_t nextensions;
    char *freshness_query;
    int64_t freshness_ms; /* 0 unknown */
    int64_t heartbeat_ms; /* 0 unknown */
    rd_manifest_table *tables;
    size_t ntables;
    rd_manifest_sequence *sequences;
    size_t nsequences;
    char **views;
    size_t nviews;
    char **routines;
    size_t nroutines;
    char **triggers;
    size_t ntriggers;
    struct rd_manifest **databases; /* a cluster manifest: one per database, in name order */
    size_t ndatabases;
} rd_manifest;

typedef struct rd_manifest_opts {
    const char *freshness_query; /* NULL: none */
    int with_checksums;          /* store tablehash chunk digests (not captured yet: NULL) */
    int parallel;                /* for checksums */
    int skip_rows;               /* leave rows at -1 (schema comparisons need no counts) */
    const char *heartbeat_table; /* NULL: "restoredrill_heartbeat"; its max(ts) when present */
} rd_manifest_opts;

/* Capture from a live connection (inside whatever transaction/snapshot the
 * caller set up). *out owned by caller. opts may be NULL. Tables are sorted
 * by schema then name (byte order); rows are exact count(*) (-1 with
 * skip_rows). PostgreSQL objects that belong to an extension are left out.
 * MariaDB: schema is the current database; AUTO_INCREMENT counters are
 * sequences named "<table>.auto_increment"; SEQUENCE objects carry their
 * next_not_cached_value. The freshness query must return a timestamp
 * (RD_ERR_FORMAT "freshness query returned \"x\", not a timestamp"). */
rd_status rd_manifest_capture(struct rd_db *db, const rd_manifest_opts *opts, rd_manifest **out,
                              rd_error *err);
/* A cluster manifest of the databases (system databases left out: MariaDB
 * mysql, information_schema, performance_schema, sys; PostgreSQL postgres,
 * template0, template1) whose names match one of the shell globs (fnmatch,
 * no flags; "_" and "%" plain), each captured with rd_manifest_capture
 * after a USE on the same connection (so inside the caller's snapshot).
 * MariaDB only (RD_ERR_UNSUPPORTED for PostgreSQL: use
 * rd_manifest_capture_pg_databases); a glob matching no database is
 * RD_ERR_USAGE "--databases: \"x*\" matches no database". The connection is
 * left in the last database. */
rd_status rd_manifest_capture_databases(struct rd_db *db, const rd_manifest_opts *opts,
                                        const char *const *globs, size_t nglobs, rd_manifest **out,
                                        rd_error *err);
/* The same for PostgreSQL, whose databases cannot share one snapshot: dsn
 * names the server (its database lists the others); each matching database
 * is captured on its own connection (dsn with that dbname) in its own
 * REPEATABLE READ READ ONLY transaction, one after the other. Errors are
 * prefixed "database NAME: ". */
rd_status rd_manifest_capture_pg_databases(const char *dsn, const rd_manifest_opts *opts,
                                           const char *const *globs, size_t nglobs,
                                           rd_manifest **out, rd_error *err);
/* An empty cluster manifest (tool, time, db's server version) with room for
 * n database sections, for the backups that fill it. */
rd_status rd_manifest_cluster_new(struct rd_db *db, size_t n, rd_manifest **out, rd_error *err);
/* The names of the databases (system databases left out) matching the
 * globs, in bytewise name order, appended to out; PostgreSQL: only those
 * that accept connections (datallowconn). */
rd_status rd_manifest_list_databases(struct rd_db *db, const char *const *globs, size_t nglobs,
                                     rd_strlist *out, rd_error *err);
/* The section of database name in a cluster manifest, or NULL. */
const rd_manifest *rd_manifest_find_database(const rd_manifest *m, const char *name);
/* Fill rows of every table with an exact count(*) (for a manifest captured
 * with skip_rows: backups read the metadata, sequences included, before the
 * dump tool starts, and count rows in the snapshot while it runs). */
rd_status rd_manifest_count_rows(struct rd_db *db, rd_manifest *m, rd_error *err);
/* Store tablehash chunk digests (restoredrill/tablehash.h) in every table's
 * `checksum`, computed in the caller's transaction/snapshot, so a drill
 * without access to production can still name damaged key ranges. */
rd_status rd_manifest_capture_checksums(struct rd_db *db, rd_manifest *m, rd_error *err);
rd_status rd_manifest_save(const rd_manifest *m, const char *path, rd_error *err);
/* The JSON text rd_manifest_save writes (with its final newline); heap
 * string for the caller, NULL on allocation failure. */
char *rd_manifest_render(const rd_manifest *m);
/* Load; a manifest with a newer version is loaded as far as understood and a
 * warning "manifest FILE has version 2, newer than this tool's 1; reading
 * the fields it knows" is logged. A corrupt one is RD_ERR_FORMAT. */
rd_status rd_manifest_load(const char *path, rd_manifest **out, rd_error *err);
/* Load from text; file names the source in messages ("manifest FILE:
 * tables[0].rows: expected an integer"). */
rd_status rd_manifest_parse(const char *text, size_t len, const char *file, rd_manifest **out,
                            rd_error *err);
void rd_manifest_free(rd_manifest *m);
/* The sections tile [0, bytes): RD_OK, else RD_ERR_FORMAT naming the first
 * fault ("sections[2].offset is 100, expected 90 (the pieces must cover
 * the file in order, without gap or overlap)", "the sections end at byte
 * N, the file has M bytes"); file names the manifest. No sections: RD_OK. */
rd_status rd_manifest_check_sections(const rd_manifest_section *s, size_t n, int64_t bytes,
                                     const char *file, rd_error *err);
/* Append a section (database may be NULL; strings copied). */
rd_status rd_manifest_add_section(rd_manifest *m, const char *database, int64_t offset,
                                  int64_t length, const char *sha256, rd_error *err);
/* An empty manifest of the current version (artifact_bytes -1); NULL on
 * allocation failure. */
rd_manifest *rd_manifest_new(rd_engine engine);
/* Free what a table holds and zero it (the struct itself is not freed). */
void rd_manifest_table_clear(rd_manifest_table *t);
/* Major version from a server version string: PostgreSQL "15.18" -> 15,
 * MariaDB "10.11.6-MariaDB" -> 1011 (major*100+minor, as rd_db_server_major);
 * -1 when it does not parse. */
int rd_manifest_major(rd_engine engine, const char *version);
const rd_manifest_table *rd_manifest_find_table(const rd_manifest *m, const char *schema,
                                                const char *name);
/* "<location>.manifest.json" (heap). */
char *rd_manifest_sidecar_path(const char *artifact_location);

#endif
