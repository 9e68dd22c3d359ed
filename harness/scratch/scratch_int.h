/* scratch_int.h: declarations shared by the scratch drivers only (not a
 * public contract): the driver structs, the ephemeral engine back ends, and
 * helpers for private directories, owner files, ports and connection info. */
#ifndef RESTOREDRILL_SCRATCH_INT_H
#define RESTOREDRILL_SCRATCH_INT_H

#include <stddef.h>
#include <sys/types.h>

#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/error.h"
#include "restoredrill/scratch.h"

extern const rd_scratch_type rd_scratch_ephemeral; /* scratch.c: dispatches on the engine */
extern const rd_scratch_type rd_scratch_server;    /* server.c */
extern const rd_scratch_type rd_scratch_exec;      /* exec.c */

/* The user an ephemeral server runs as. run_as 0: ourselves (not root). */
typedef struct rd_eph_user {
    int run_as;
    uid_t uid;
    gid_t gid;
    char name[64];
} rd_eph_user;

/* Engine back ends of the ephemeral driver. provision fills a new instance
 * (dir, conn, env, priv); teardown stops the server and removes the dir;
 * stop_leftover stops a server still running in a dead run's dir (gc). */
rd_status rd_eph_pg_provision(const rd_scratch_cfg *cfg, const rd_scratch_req *req, rd_scratch *s,
                              rd_error *err);
rd_status rd_eph_pg_teardown(rd_scratch *s, rd_error *err);
rd_status rd_eph_pg_stop_leftover(const char *dir, rd_error *err);
rd_status rd_eph_mariadb_provision(const rd_scratch_cfg *cfg, const rd_scratch_req *req,
                                   rd_scratch *s, rd_error *err);
rd_status rd_eph_mariadb_teardown(rd_scratch *s, rd_error *err);
rd_status rd_eph_mariadb_stop_leftover(const char *dir, rd_error *err);

/* --- helpers: private directories, owner files, gc and processes
 * (scratch_gc.c) --- */

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
/* Write a 0600 file owned by u (passwords, init files). */
rd_status rd_scratch_write_private(const char *path, const char *data, const rd_eph_user *u,
                                   rd_error *err);
/* The ephemeral driver's gc (rd_scratch_type.gc): stop and remove the
 * directories in the rundir whose owner process is gone. */
rd_status rd_scratch_eph_gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than,
                            int dry_run, void (*report)(void *ud, const char *what), void *ud,
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
/* Sleep ms milliseconds, resuming after signals. */
void rd_scratch_sleep_ms(long ms);
/* Read the first line of a pid file as a pid; 0 when absent or malformed. */
pid_t rd_scratch_read_pidfile(const char *path);

/* --- helpers: ports, names, log tails and connection info (scratch_conn.c) --- */

/* A free TCP port on 127.0.0.1 (bind to port 0). */
rd_status rd_scratch_free_port(int *port, rd_error *err);
/* The last n bytes of a file, as a heap string with "\n" turned into " | "
 * for one-line messages; "" when unreadable. Never NULL unless out of memory. */
char *rd_scratch_file_tail(const char *path, size_t n);
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

/* --- helpers (scratch.c) --- */

/* Free all fields of s and s itself (no teardown). */
void rd_scratch_destroy(rd_scratch *s);
/* Append "name=value" to a strlist. */
rd_status rd_scratch_var(rd_strlist *l, const char *name, const char *value, rd_error *err);

#endif
