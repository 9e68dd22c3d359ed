/* itest_util.h: servers for integration tests, started through the
 * project's own ephemeral scratch code, once per test process.
 *
 * Call from an unchecked fixture (tcase_add_unchecked_fixture), which runs in
 * the parent process, so one server serves every forked test. The server is
 * torn down at exit of the process that started it (never by a forked child). */
#ifndef RESTOREDRILL_ITEST_UTIL_H
#define RESTOREDRILL_ITEST_UTIL_H

#include "restoredrill/config.h"
#include "restoredrill/db.h"
#include "restoredrill/scratch.h"

/* The shared instance of the engine, started on first use. NULL when the
 * server binaries are absent (a "skipping: ..." line is printed once) or it
 * failed to start (the error is printed). */
const rd_scratch *rd_itest_server(rd_engine engine);
/* A new connection to the shared instance's database (caller frees); NULL on
 * failure (message printed). */
rd_db *rd_itest_connect(rd_engine engine);
/* Create a fresh database on the shared instance and return a connection to
 * it (name written to name_out, >= 64 bytes). */
rd_db *rd_itest_fresh_db(rd_engine engine, char *name_out);
/* Run sql on db (60 s timeout); the test fails with the statement and the
 * error when it does not succeed. */
void rd_itest_exec(rd_db *db, const char *sql);

#endif
