/* scratch.h: throwaway database instances that a drill owns: ephemeral
 * private servers, fresh databases on an existing server, or user commands.
 *
 * A driver provisions an instance and tears it down; teardown is idempotent
 * and removes exactly what provision created. */
#ifndef RESTOREDRILL_SCRATCH_H
#define RESTOREDRILL_SCRATCH_H

#include <stddef.h>
#include <sys/types.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/strbuf.h"

/* How to reach a provisioned instance. All strings heap, owned by rd_scratch. */
typedef struct rd_conninfo {
    rd_engine engine;
    char *host;   /* "127.0.0.1" or NULL when only a socket */
    int port;     /* TCP port, or the port number the socket file carries (PG) */
    char *socket; /* unix socket: PG the directory, MariaDB the socket file; NULL: TCP only */
    char *database;
    char *user;
    char *password;   /* secret: never printed */
    char *dsn;        /* for rd_db_connect, without the password */
    char *url;        /* {scratch.url}: postgresql://user:pass@/db?host=/dir&port=N or
                         mysql://user:pass@localhost/db?socket=/x.sock (holds the password) */
    char *dsn_params; /* extra "key=value ..." kept from an admin DSN (sslmode=...), or NULL */
} rd_conninfo;

typedef struct rd_scratch_req {
    const char *drill_id;
    const char *target;   /* target name, for names and the owner file */
    const char *database; /* ephemeral PostgreSQL: the dump's database name, restored under it;
                             NULL: named after the target */
    int want_tcp;         /* a smoke app needs TCP on 127.0.0.1 */
    const char *reference_identity; /* rd_db_server_identity of the reference, or NULL */
    const char *const *tvars; /* template variables "point.id=..." for exec commands, may be NULL */
    double deadline;          /* rd_mono_now() instant; 0 none */
    /* Physical restores: lay out the directory, run_as user, credentials and
     * connection fields, create the empty 0700 data directory (data_dir) for
     * the restore to fill, but neither initialise nor start a server; the
     * restore then calls rd_scratch_start_physical and rd_scratch_attach.
     * Only drivers with start_physical accept it (ephemeral). */
    int physical;
    /* Multi-database targets: the databases the restore will create. On a
     * shared server (type server) each gets a scratch name of its own
     * (rd_scratch_db_name), checked absent at provision, created by the
     * restore and dropped at teardown; other types keep the names. NULL:
     * one database. */
    const rd_strlist *databases;
} rd_scratch_req;

/* Starting a server on a data directory that a physical restore laid. */
typedef struct rd_scratch_start {
    /* Server settings from the restore ("name=value": PostgreSQL
     * `-c name=value`, MariaDB `--name=value`), e.g. restore_command and the
     * recovery target. They win over the data directory's own configuration;
     * the scratch's safety settings (socket directory, no TCP unless wanted,
     * no archiving, its own authentication) win over them. NULL-terminated,
     * may be NULL. */
    const char *const *settings;
    double deadline; /* rd_mono_now() instant; 0 none */
} rd_scratch_start;

typedef struct rd_scratch {
    const struct rd_scratch_type *type;
    rd_conninfo conn;
    char **env;           /* NULL-terminated "PGHOST=..." entries for native clients */
    char *dir;            /* ephemeral: the private directory, else NULL */
    char *server_version; /* may be NULL */
    char *data_dir;       /* physical: the data directory the restore fills, else NULL */
    char *log;            /* the server's log file (ephemeral), else NULL */
    char *run_as;         /* physical: the user the server runs as (files must be its), else NULL */
    void *priv;           /* driver data */
    int torn_down;
    /* type server with req->databases: db_from[i] is restored as db_to[i]
     * (rd_scratch_db_name); empty otherwise */
    rd_strlist db_from, db_to;
} rd_scratch;

/* An offline verification of the data files (rd_scratch_verify_pages). */
typedef struct rd_scratch_offline {
    int applies;       /* 0: nothing to verify (PostgreSQL: data checksums are off) */
    int ok;            /* 1: no bad page */
    char summary[512]; /* one line: the tool's verdict or its first complaint */
    rd_strbuf output;  /* the tool's output tail (init before the call, free after) */
} rd_scratch_offline;

typedef struct rd_scratch_type {
    const char *name; /* "ephemeral" */
    unsigned engines; /* RD_ENGINE_PG | RD_ENGINE_MARIADB */
    /* required */
    rd_status (*provision)(const rd_scratch_cfg *cfg, rd_engine engine, const rd_scratch_req *req,
                           rd_scratch **out, rd_error *err);
    rd_status (*teardown)(rd_scratch *s, rd_error *err);
    /* optional: remove leftovers of dead runs; prints one line per removal
     * to stdout through `report`. NULL when not applicable. */
    rd_status (*gc)(const rd_scratch_cfg *cfg, rd_engine engine, double older_than, int dry_run,
                    void (*report)(void *ud, const char *what), void *ud, rd_error *err);
    /* optional (physical restores; NULL: the driver refuses req->physical) */
    rd_status (*start_physical)(rd_scratch *s, const rd_scratch_start *o, rd_error *err);
    pid_t (*server_pid)(const rd_scratch *s);
    rd_status (*attach)(rd_scratch *s, const char *database, const char *target, double deadline,
                        rd_error *err);
    rd_status (*stop_server)(rd_scratch *s, rd_error *err);
    rd_status (*verify_pages)(rd_scratch *s, double deadline, rd_scratch_offline *out,
                              rd_error *err);
} rd_scratch_type;

extern const rd_scratch_type *const rd_scratch_registry[]; /* NULL-terminated */
/* The first driver named name (several drivers may share a name, one per
 * engine family: "ephemeral" is a private SQL server, or dynalite for
 * dynamodb); NULL when none. */
const rd_scratch_type *rd_scratch_find(const char *name);
/* The driver named name that supports engine, else rd_scratch_find(name). */
const rd_scratch_type *rd_scratch_find_for(const char *name, rd_engine engine);
/* The engines the drivers named name support together; 0: no such driver. */
unsigned rd_scratch_engines(const char *name);

/* Provision through the registry (cfg->type, default ephemeral). Registers
 * the instance for rd_scratch_teardown_all (the abort path). */
rd_status rd_scratch_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                               const rd_scratch_req *req, rd_scratch **out, rd_error *err);
/* Tear down (idempotent) and unregister. Does not free. */
rd_status rd_scratch_teardown(rd_scratch *s, rd_error *err);
/* Leave the instance running for investigation until until_ms (epoch ms):
 * an ephemeral instance gets RD_SCRATCH_KEEP_FILE in its directory, and
 * `gc` leaves it alone until then (and removes it after). RD_ERR_UNSUPPORTED
 * for instances without a private directory (server, exec), which gc treats
 * as before (server: --older-than). */
#define RD_SCRATCH_KEEP_FILE "keep.json"
rd_status rd_scratch_keep_until(const rd_scratch *s, int64_t until_ms, const char *reason,
                                rd_error *err);
/* Frees the struct (tearing down first when not yet done). NULL no-op. */
void rd_scratch_free(rd_scratch *s);
/* Abort path: tear down every registered instance that this process
 * provisioned (a forked child never tears down its parent's instances). */
void rd_scratch_teardown_all(void);

/* --- physical restores (req->physical) ---
 *
 * provision(physical) -> the restore lays s->data_dir (as s->run_as) ->
 * rd_scratch_start_physical -> the restore watches s->log and
 * rd_scratch_server_pid until its recovery is done -> rd_scratch_attach ->
 * checks -> teardown (stops the server, removes everything). */

/* Start the server on s->data_dir with the scratch's own settings plus
 * o->settings, in the background: returns once the server process runs,
 * without waiting for it to accept connections (a recovery may take hours).
 * RD_ERR_UNSUPPORTED for a driver without physical support. */
rd_status rd_scratch_start_physical(rd_scratch *s, const rd_scratch_start *o, rd_error *err);
/* The pid of the server started by rd_scratch_start_physical while it runs
 * (not a zombie); 0 when it is not running. */
pid_t rd_scratch_server_pid(const rd_scratch *s);
/* The drill's own way in, once the server accepts connections: connects
 * without the restored cluster's passwords (PostgreSQL: trust on the private
 * 0700 socket only, as the bootstrap superuser; MariaDB: the account of its
 * --init-file), picks the database checks use (database, else the one named
 * like target, else the only non-system one; otherwise RD_ERR_CONFIG naming
 * the choices), fills s->conn (user, database, dsn, url), s->env and
 * s->server_version. */
rd_status rd_scratch_attach(rd_scratch *s, const char *database, const char *target,
                            double deadline, rd_error *err);
/* Stop the server cleanly; start it again with rd_scratch_start_physical
 * (settings NULL). */
rd_status rd_scratch_stop_server(rd_scratch *s, rd_error *err);

/* Stop the attached server cleanly, verify its data files offline
 * (PostgreSQL: pg_checksums --check), start it again with the scratch's own
 * settings and wait until it accepts connections (s->conn stays valid).
 * RD_ERR_* only when the verification could not run or the server does not
 * come back; a bad page is out->ok = 0. */
rd_status rd_scratch_verify_pages(rd_scratch *s, double deadline, rd_scratch_offline *out,
                                  rd_error *err);

/* Expand {scratch.host} ... {point.id} ... {target.name} in a template.
 * vars: NULL-terminated "name=value" entries (e.g. "scratch.url=..."). An
 * unknown {name} is RD_ERR_CONFIG "unknown template variable {x}". A name is
 * [A-Za-z0-9_.-]+; "{{" is a literal "{"; a "{" not followed by a name and
 * "}" stays as it is. *out heap. */
rd_status rd_template_expand(const char *tmpl, const char *const *vars, char **out, rd_error *err);
/* The scratch.* variables of an instance as "scratch.host=..." entries
 * appended to list: host (the socket directory for a PostgreSQL instance
 * reached by socket only, "localhost" for MariaDB), port, socket, database,
 * user, password, url, dsn. */
rd_status rd_scratch_vars(const rd_scratch *s, rd_strlist *list, rd_error *err);

/* A DSN (without the password) for another database on the same instance,
 * e.g. for restoring a multi-database dump or for tests. *out heap. */
rd_status rd_scratch_dsn_for(const rd_scratch *s, const char *database, char **out, rd_error *err);

/* The name database (a dump's own name) is restored under in s: its
 * scratch name on a shared server (req->databases at provision), else
 * database itself. */
const char *rd_scratch_db_name(const rd_scratch *s, const char *database);

/* A view of instance s for another of its databases (multi-database
 * targets): a new rd_scratch whose conn, dsn, url and env name `database`,
 * the rest copied (type and priv NULL: never provisioned, never torn down).
 * Free it with rd_scratch_view_free, never rd_scratch_free. */
rd_status rd_scratch_view(const rd_scratch *s, const char *database, rd_scratch **out,
                          rd_error *err);
void rd_scratch_view_free(rd_scratch *v);

/* The directory where ephemeral instances live: base_dir (scratch.base_dir)
 * when given, else $RESTOREDRILL_RUNDIR, else $TMPDIR/restoredrill, else
 * /tmp/restoredrill (heap; NULL on allocation failure). gc scans it.
 * Each instance is a 0700 directory <engine>-XXXXXX in it holding an
 * owner.json: {"pid", "pid_start" (field 22 of /proc/PID/stat), "started_at",
 * "target", "drill_id", "engine", "driver"}. */
char *rd_scratch_rundir(const char *base_dir);

/* Whether TEXT (a tool's error or a scratch server's log) says that a disk is
 * full: the errno text "No space left on device", PostgreSQL's hint "Check
 * free disk space." (a short write, "could not extend file ...: wrote only
 * 4096 of 8192 bytes", logged without the errno text) or MariaDB's "Disk
 * full" log line. NULL is not. */
int rd_scratch_disk_full_text(const char *text);

#endif
