/* scratch_int.h: declarations shared inside harness/scratch/ only (not a
 * public contract): the driver structs, the ephemeral driver's engines, and
 * helpers for private directories, owner files, ports and connection info. */
#ifndef RESTOREDRILL_SCRATCH_INT_H
#define RESTOREDRILL_SCRATCH_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/error.h"
#include "restoredrill/proc.h"
#include "restoredrill/scratch.h"

extern const rd_scratch_type rd_scratch_ephemeral;       /* ephemeral.c */
extern const rd_scratch_type rd_scratch_server;          /* server.c */
extern const rd_scratch_type rd_scratch_exec;            /* exec.c */
extern const rd_scratch_type rd_scratch_dynalite;        /* dynalite.c: ephemeral for dynamodb */
extern const rd_scratch_type rd_scratch_dynamodb_server; /* dynamodb_server.c */
extern const rd_scratch_type rd_scratch_s3_server;       /* s3_server.c: engine s3 */

/* The user an ephemeral server runs as. run_as 0: ourselves (not root). */
typedef struct rd_eph_user {
    int run_as;
    uid_t uid;
    gid_t gid;
    char name[64];
} rd_eph_user;

/* --- the ephemeral driver (ephemeral.c) and its engines ---
 *
 * ephemeral.c owns the lifecycle every engine shares: the run_as user, the
 * private directory and its owner file, credentials, the scratch database
 * name, starting with retries when another process takes the TCP port,
 * teardown that verifies the server stopped, and gc of dead runs'
 * directories. An engine (one file, one line in rd_eph_engines) supplies
 * the steps that differ. */

/* The shared part of an ephemeral instance (rd_scratch.priv). */
typedef struct rd_eph {
    const struct rd_eph_engine *eng;
    rd_eph_user u;
    char *rundir;      /* parent of the instance's directory */
    char *log;         /* <dir>/server.log */
    int from_template; /* the data directory is a copy of a template */
    int from_spare;    /* ... taken ready-made from the template's spare */
    void *spare;       /* the template's next spare: planned by the copy, made at teardown */
    int tcp;           /* also listen on 127.0.0.1 */
    void *priv;        /* the engine's own data */
} rd_eph;

typedef struct rd_eph_engine {
    rd_engine engine;
    const char *label;               /* "postgresql" / "mariadb", in messages */
    const char *default_user;        /* run_as default when we are root */
    const char *socket_file;         /* socket file name inside the directory */
    int socket_is_dir;               /* conn.socket is the directory (PostgreSQL) */
    size_t db_name_max;              /* longest database name */
    const char *const *reserved_dbs; /* names the scratch database must not take */
    int leftover_signal;             /* how gc stops a dead run's server ... */
    double leftover_grace;           /* ... and how long it waits before SIGKILL */
    /* required */
    /* Find the binaries; *priv is the engine's per-instance data. */
    rd_status (*prepare)(const rd_scratch_cfg *cfg, void **priv, rd_error *err);
    /* Make an empty cluster in <dir>/data (dir: the instance's directory,
     * or a template's) whose admin user is user with password. The engine's
     * init_flags say what it is made with. */
    rd_status (*init_data)(const char *dir, rd_eph *e, const char *user, const char *password,
                           double deadline, rd_error *err);
    /* optional: what only a template gets after init_data (dir as there):
     * PostgreSQL creates the scratch database RD_EPH_TEMPLATE_DB, which an
     * instance's ready renames (a catalog update) instead of copying
     * template1 with CREATE DATABASE. NULL: nothing. */
    rd_status (*template_extra)(const char *dir, rd_eph *e, double deadline, rd_error *err);
    /* The instance's own settings on its data directory (socket, TCP when
     * tcp, the start-up files that hold s->conn's credentials). */
    rd_status (*configure)(rd_scratch *s, rd_eph *e, int tcp, rd_error *err);
    /* The server binary (heap-free, borrowed from priv): with init_flags,
     * the identity of a template data directory. */
    const char *(*binary)(const void *priv);
    const char *init_flags;
    /* Start the server (on s->conn.port when tcp) and wait until it answers;
     * s->server_version is set. The caller retries when the log says
     * "Address already in use". */
    rd_status (*start)(rd_scratch *s, rd_eph *e, int tcp, double deadline, rd_error *err);
    /* Stop the server this instance started (orderly first). */
    void (*stop)(rd_scratch *s, rd_eph *e);
    /* The pid in the pid file of a server whose files are in dir; 0: none. */
    pid_t (*server_pid)(const char *dir);
    void (*priv_free)(void *priv);
    /* optional: after start (NULL: nothing). own_pw: a copy of a template
     * whose engine takes_password still has the template's password
     * (s->conn.password): ready gives the instance its own; else NULL. */
    rd_status (*ready)(rd_scratch *s, rd_eph *e, const char *own_pw, rd_error *err);
    /* A copy of a template is given its password by ready once started
     * (PostgreSQL), not by configure before the start (MariaDB). */
    int takes_password;
    /* optional, physical restores (NULL: the engine has none). Start a
     * server on s->data_dir (filled by a restore) with the scratch's own
     * configuration and authentication, o->settings winning over the data
     * directory's own files and the scratch's safety settings winning over
     * o->settings; return once the process runs, without waiting. */
    rd_status (*start_physical)(rd_scratch *s, rd_eph *e, const rd_scratch_start *o, rd_error *err);
    /* The pid of the server started by start_physical while it runs; 0 when not. */
    pid_t (*running_pid)(rd_scratch *s, rd_eph *e);
    /* Connect the drill's own way and pick the database (rd_scratch_attach);
     * set s->conn.user, .password, .database and s->server_version. */
    rd_status (*attach)(rd_scratch *s, rd_eph *e, const char *database, const char *target,
                        double deadline, rd_error *err);
    /* rd_scratch_verify_pages: stop, verify offline, start again, wait */
    rd_status (*verify_pages)(rd_scratch *s, rd_eph *e, double deadline, rd_scratch_offline *out,
                              rd_error *err);
} rd_eph_engine;

/* The admin user of every ephemeral instance (and of templates). */
#define RD_EPH_USER "restoredrill"
/* The scratch database a PostgreSQL template holds ready (template_extra):
 * also the name database_name falls back to. */
#define RD_EPH_TEMPLATE_DB "restoredrill"

/* ephemeral_template.c: copy the template data directory of e's engine,
 * binary and run_as user to dst (made on first use, under a lock, and
 * rebuilt when it no longer matches); *password (heap) is the template's
 * admin password, which the copy still has. When the template holds a
 * spare (a complete copy made earlier, on dst's file system), the spare is
 * renamed to dst instead of copying; either way a new spare for the next
 * instance is planned (e->spare), made when this instance is torn down. */
rd_status rd_eph_template_copy(rd_eph *e, const char *dst, double deadline, char **password,
                               rd_error *err);
/* ephemeral_spare.c: take a spare of the template tdir by renaming it to
 * dst (1: taken; 0: none, or it could not be renamed); plan a new spare for
 * the next instance, made when this one is torn down (nothing when tdir is
 * on another file system than dst); start making it (teardown: nothing
 * when none is planned, or one is being made or ready); wait for it and
 * forget the plan (a no-op when none). */
int rd_eph_spare_take(const char *tdir, const char *dst, uid_t uid);
void rd_eph_spare_plan(rd_eph *e, const char *tdir, const char *lock, const char *dst);
void rd_eph_template_spare_start(rd_eph *e);
void rd_eph_template_spare_join(rd_eph *e);
/* Remove templates whose server binary is gone or changed, and builds that
 * died, unless in use; one line per removal through report. */
rd_status rd_eph_template_gc(const char *rundir, int dry_run,
                             void (*report)(void *ud, const char *what), void *ud, rd_error *err);

extern const rd_eph_engine rd_eph_pg; /* ephemeral_pg.c */

/* The PostgreSQL engine's per-instance data (ephemeral_pg.c), shared with
 * its physical part (ephemeral_pg_phys.c). */
typedef struct rd_eph_pg_priv {
    char *bindir;
    char *postgres;  /* the server binary: a template's identity */
    rd_proc *server; /* the postmaster, our child (also for physical restores) */
} rd_eph_pg_priv;
rd_status rd_eph_pg_start_physical(rd_scratch *s, rd_eph *e, const rd_scratch_start *o,
                                   rd_error *err);
pid_t rd_eph_pg_running_pid(rd_scratch *s, rd_eph *e);
rd_status rd_eph_pg_attach(rd_scratch *s, rd_eph *e, const char *database, const char *target,
                           double deadline, rd_error *err);
rd_status rd_eph_pg_verify_pages(rd_scratch *s, rd_eph *e, double deadline, rd_scratch_offline *out,
                                 rd_error *err);

/* The MariaDB engine's per-instance data (ephemeral_mariadb.c), shared with
 * its physical part (ephemeral_mariadb_phys.c). */
typedef struct rd_eph_mdb_priv {
    char *server, *install;
    char *initfile;       /* holds the password until the server has read it */
    rd_proc *server_proc; /* the mariadbd we started */
    char *drill_user;     /* physical: the account the init file creates for the drill */
} rd_eph_mdb_priv;
rd_status rd_eph_mdb_start_physical(rd_scratch *s, rd_eph *e, const rd_scratch_start *o,
                                    rd_error *err);
pid_t rd_eph_mdb_running_pid(rd_scratch *s, rd_eph *e);
rd_status rd_eph_mdb_attach(rd_scratch *s, rd_eph *e, const char *database, const char *target,
                            double deadline, rd_error *err);
extern const rd_eph_engine rd_eph_mariadb;          /* ephemeral_mariadb.c */
extern const rd_eph_engine *const rd_eph_engines[]; /* registry.c, NULL-terminated */

/* --- helpers: private directories, owner files, processes, server tools
 * and template variables (scratch_util.c) --- */

/* The name of the owner file in every ephemeral directory. */
#define RD_SCRATCH_OWNER_FILE "owner.json"
/* Private directories are named <rundir>/<engine>-XXXXXX. */

/* Resolve the run_as user: cfg->run_as, else `def` when we are root; as
 * non-root we run as ourselves (a configured run_as other than us is
 * refused). RD_ERR_NOTFOUND when the user does not exist. */
rd_status rd_scratch_resolve_user(const rd_scratch_cfg *cfg, const char *def, rd_eph_user *u,
                                  rd_error *err);
/* Create the rundir (0711) and a private 0700 dir in it owned by u, and
 * write the owner file. *dir heap. */
rd_status rd_scratch_make_dir(const rd_scratch_cfg *cfg, rd_engine engine,
                              const rd_scratch_req *req, const rd_eph_user *u, char **dir,
                              rd_error *err);
/* Write dir's owner file: this process (pid and start time), the target,
 * the drill id, the engine and the driver name. */
rd_status rd_scratch_write_owner(const char *dir, rd_engine engine, const rd_scratch_req *req,
                                 const char *driver, rd_error *err);
/* exec_gc.c: record a live exec scratch instance (its owner and expanded
 * destroy argv) in <rundir>/exec-XXXXXX; *dir heap. */
rd_status rd_scratch_exec_record(const rd_scratch_cfg *cfg, rd_engine engine,
                                 const rd_scratch_req *req, const rd_strlist *destroy,
                                 double timeout, char **dir, rd_error *err);
/* exec.c: the create command's JSON output (host, port, socket, database,
 * user, password, dsn) into s->conn and *dsn (heap, or NULL); RD_ERR_FORMAT
 * naming what is missing or malformed. The output is outside input
 * (tests/fuzz/fuzz_exec_scratch.c). */
rd_status rd_scratch_exec_parse_conn(const char *text, rd_scratch *s, char **dsn, rd_error *err);
/* Remove a record (after a successful destroy). NULL is a no-op. */
void rd_scratch_exec_unrecord(const char *dir);
/* The exec driver's gc: run the destroy command of every record whose
 * drill is gone, then remove the record. */
rd_status rd_scratch_exec_gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than,
                             int dry_run, void (*report)(void *ud, const char *what), void *ud,
                             rd_error *err);
/* Write a 0600 file owned by u (passwords, init files). */
rd_status rd_scratch_write_private(const char *path, const char *data, const rd_eph_user *u,
                                   rd_error *err);
/* Start time of a process (/proc/PID/stat field 22, clock ticks since boot);
 * 0 when there is no such process. */
unsigned long long rd_scratch_proc_starttime(pid_t pid);
/* 1 when pid runs and is not a zombie. */
int rd_scratch_pid_alive(pid_t pid);
/* 1 when the process' working directory lies inside dir (a server whose
 * data directory is there). */
int rd_scratch_pid_in_dir(pid_t pid, const char *dir);
/* Send sig, wait up to grace seconds, then SIGKILL and wait up to 5 more. */
void rd_scratch_stop_pid(pid_t pid, int sig, double grace);
/* The pid of a server started as proc (NULL: none) while it runs, else 0. */
pid_t rd_scratch_proc_running(const rd_proc *proc);
/* Stop the server started as *proc: sig, then rd_proc_wait up to grace
 * seconds (past them it escalates, and it reaps the child); *proc is freed
 * and NULL. Returns the wait's status (err: why it had to escalate). */
rd_status rd_scratch_stop_proc(rd_proc **proc, int sig, double grace, rd_error *err);
/* Sleep ms milliseconds, resuming after signals. */
void rd_scratch_sleep_ms(long ms);
/* Read the first line of a pid file as a pid; 0 when absent or malformed. */
pid_t rd_scratch_read_pidfile(const char *path);
/* The last n bytes of a file, as a heap string with "\n" turned into " | "
 * for one-line messages; "" when unreadable. Never NULL unless out of memory. */
char *rd_scratch_file_tail(const char *path, size_t n);
/* Run a server tool as u to completion; a failure names the tool and
 * carries its output tail, or the tail of log when given ("disk full: "
 * first when the device is full). */
rd_status rd_scratch_run_tool(const rd_eph_user *u, const char *const *argv, const char *cwd,
                              double timeout, const char *log, rd_error *err);
/* The same with stdin read from the file stdin_path. */
rd_status rd_scratch_run_tool_in(const rd_eph_user *u, const char *const *argv, const char *cwd,
                                 double timeout, const char *log, const char *stdin_path,
                                 rd_error *err);
/* Append "name=value" to a strlist. */
rd_status rd_scratch_var(rd_strlist *l, const char *name, const char *value, rd_error *err);

/* --- helpers: ports, names, log tails and connection info (scratch_conn.c) --- */

/* A free TCP port on 127.0.0.1 (bind to port 0). */
rd_status rd_scratch_free_port(int *port, rd_error *err);
/* Lowercase [a-z0-9_] copy of name of at most max bytes (empty: "db"). */
char *rd_scratch_sanitize(const char *name, size_t max);
/* Fill conn->dsn, conn->url and s->env from the conn fields. */
rd_status rd_scratch_finish_conn(rd_scratch *s, rd_error *err);
/* Connect to the instance until it answers or the deadline passes; fills
 * s->server_version. alive_pid: a server pid to watch (0: none); log: its
 * log whose tail goes into the error (NULL: none). */
rd_status rd_scratch_wait_ready(rd_scratch *s, const char *dsn, double deadline, pid_t alive_pid,
                                const char *log, rd_error *err);
/* Refuse (RD_ERR_REFUSED) when db is connected to the reference server. */
rd_status rd_scratch_check_same_server(rd_db *db, const char *reference_identity, int allow,
                                       rd_error *err);

/* --- which database a restored instance is attached to (attach_database.c) --- */

/* An engine's part of the rule. */
typedef struct rd_scratch_db_rules {
    const char *noun;                   /* "cluster", "server": what messages call the instance */
    int (*is_system)(const char *name); /* 1 for the engine's own databases */
    const char *fallback;               /* chosen when it holds no user database; NULL: an error */
} rd_scratch_db_rules;
/* Choose among the database names in column 0 of r (NULL cells skipped):
 * database when given (RD_ERR_CONFIG naming the user databases when r has
 * no such name), else the one named target, else the only user database,
 * else rules->fallback when there is no user database. RD_ERR_CONFIG when
 * several user databases leave the choice open or none is left; *chosen
 * (heap) is written only on success. */
rd_status rd_scratch_choose_database(const rd_db_result *r, const rd_scratch_db_rules *rules,
                                     const char *database, const char *target, char **chosen,
                                     rd_error *err);

/* --- helpers (scratch.c) --- */

/* Free all fields of s and s itself (no teardown). */
void rd_scratch_destroy(rd_scratch *s);

#endif
