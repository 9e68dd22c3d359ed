/* restore_int.h: what the restore drivers share (harness/restore/restore.c):
 * running a restore tool with an artifact streamed to its stdin under a
 * deadline, scanning its stderr for error lines, the completion trailer of
 * plain SQL dumps, and the client environment of a scratch instance. */
#ifndef RESTOREDRILL_RESTORE_INT_H
#define RESTOREDRILL_RESTORE_INT_H

#include <stddef.h>

#include "restoredrill/restore.h"

/* Bytes kept from the end of the decoded stream to look for a trailer. */
#define RD_RESTORE_TRAILER_WINDOW 4096
/* Bytes of the tool's stderr kept for the report. */
#define RD_RESTORE_STDERR_TAIL (64 * 1024)

/* A line filter on the decoded stream: called with each complete line
 * (including its '\n', except maybe the last line of the stream); appends
 * what should reach the tool to `emit`. */
typedef rd_status (*rd_restore_line_fn)(void *ud, const char *line, size_t n, rd_strbuf *emit,
                                        rd_error *err);
/* A line longer than RD_RESTORE_LINE_MAX bytes (a COPY row with a large
 * bytea, an INSERT with large values) need not be gathered whole for a line
 * filter that has a long-line function: it gets the line's first
 * RD_RESTORE_LINE_MAX bytes (no newline among them) and sets *stream = 1
 * when what the whole line would give is that head's output (appended to
 * emit) followed by the rest of the line as it is: the rest then passes as
 * it comes. *stream = 0: the line is gathered and filtered whole, as
 * without the function. */
#define RD_RESTORE_LINE_MAX (64 * 1024)
typedef rd_status (*rd_restore_long_fn)(void *ud, const char *head, size_t n, int *stream,
                                        rd_strbuf *emit, rd_error *err);
/* A byte filter on the decoded stream: called with each chunk as read (any
 * split) and once more with final = 1 at the end; appends what should reach
 * the tool to `emit`. Runs before the line filter. */
typedef rd_status (*rd_restore_chunk_fn)(void *ud, const char *buf, size_t n, int final,
                                         rd_strbuf *emit, rd_error *err);

typedef struct rd_restore_job {
    const char *tool;             /* display name: "pg_restore" */
    const char *const *argv;      /* NULL-terminated */
    const char *const *env;       /* NULL-terminated, may be NULL */
    rd_artifact *stream;          /* decoded bytes go to the tool's stdin; NULL: stdin /dev/null */
    const char *trailer;          /* completion marker the end of the stream must hold, or NULL */
    rd_restore_line_fn filter;    /* optional line filter (only with stream) */
    rd_restore_long_fn long_line; /* optional, with filter (same ud) */
    void *filter_ud;
    rd_restore_chunk_fn chunk_filter; /* optional byte filter (only with stream) */
    void *chunk_ud;
    rd_strbuf *capture; /* the tool's stdout, or NULL: discarded */
    double deadline;    /* rd_mono_now() instant, 0 none */
} rd_restore_job;

/* Run the job. RD_OK only when the tool exited 0, printed no error lines,
 * the whole stream was decoded without error (sha256 included) and the
 * trailer (if any) was found. Otherwise err holds one line:
 *   the artifact's own error (corrupt gzip, sha256 mismatch), or
 *   "TOOL exited with status N: <first error line>", or
 *   "TOOL exited with 0 but printed N error lines: <first error line>", or
 *   "plain SQL dump is truncated: the completion trailer is missing", or
 *   RD_ERR_TIMEOUT "TOOL timed out after 12.0s" / RD_ERR_ABORTED.
 * out->log gets the stderr tail, out->exit_code and out->error_lines are set. */
rd_status rd_restore_exec(const rd_restore_job *job, rd_restore_outcome *out, rd_error *err);

/* --verbose: "restore command: ARGV HOW" at debug level, each word redacted
 * and shell-quoted when needed. */
void rd_restore_log_command(const char *const *argv, const char *tool, const char *how);

/* RD_OK when argv0 (from rd_restore_tool_path) was found; else RD_ERR_CONFIG
 * "the restore tool NAME was not found (searched ...): install ...". */
rd_status rd_restore_tool_found(const char *argv0, rd_error *err);

/* Count the lines of text that report errors ("ERROR:", "FATAL:",
 * "pg_restore: error:", "psql: error:", "ERROR 1064 (42000) ...",
 * "errors ignored on restore"); copy the first one (the cause; trimmed)
 * into first. */
int rd_restore_scan_errors(const char *text, char *first, size_t firstsz);

/* 1 when the last bytes of a decoded plain dump carry the completion
 * trailer `marker` at the start of a line. */
int rd_restore_has_trailer(const char *tail, size_t n, const char *marker);

/* Client environment for a scratch instance: the instance's own env entries,
 * then (overriding) PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE for
 * PostgreSQL or MYSQL_PWD for MariaDB. Appended to list. */
rd_status rd_restore_client_env(const rd_scratch *s, rd_strlist *list, rd_error *err);

/* The tool's argv[0]: found in PATH or the PostgreSQL/MariaDB bin dirs;
 * heap, or a heap copy of name when not found (the start then fails with
 * an exact message). */
char *rd_restore_tool_path(const char *name);

#endif

/* --- PostgreSQL roles in dumps (harness/restore/pg_roles.c) --- */

typedef enum rd_pg_roles_mode {
    RD_PG_ROLES_NO_OWNER = 0, /* drop ownership and grants */
    RD_PG_ROLES_CREATE,       /* pre-create the roles the dump references */
    RD_PG_ROLES_STRICT        /* restore as is */
} rd_pg_roles_mode;

/* Parse restore.roles (NULL: no-owner). -1 when unknown. */
int rd_pg_roles_mode_parse(const char *s);

/* A line filter for plain SQL from pg_dump (rd_restore_line_fn). COPY data
 * passes untouched. no-owner drops ALTER ... OWNER TO, GRANT, REVOKE, ALTER
 * DEFAULT PRIVILEGES and SET SESSION AUTHORIZATION lines; create inserts a
 * CREATE ROLE (skipped when it exists) before the first line that names a
 * role; strict passes everything. */
typedef struct rd_pg_roles {
    rd_pg_roles_mode mode;
    int in_copy;
    rd_strlist seen; /* role names (unquoted) in order of first use */
} rd_pg_roles;

void rd_pg_roles_init(rd_pg_roles *r, rd_pg_roles_mode mode);
void rd_pg_roles_free(rd_pg_roles *r);
rd_status rd_pg_roles_filter(void *ud, const char *line, size_t n, rd_strbuf *emit, rd_error *err);
/* Its long-line function (rd_restore_long_fn): COPY data and lines that are
 * not about roles stream; a COPY line, and ALTER, GRANT, REVOKE and SET
 * SESSION AUTHORIZATION lines (strict: only the COPY line), are gathered. */
rd_status rd_pg_roles_long(void *ud, const char *head, size_t n, int *stream, rd_strbuf *emit,
                           rd_error *err);
/* Collect the roles named by every line of a SQL text into r->seen. */
rd_status rd_pg_roles_scan(rd_pg_roles *r, const char *sql, rd_error *err);
/* Append `DO` statements that create each role of r->seen unless it exists. */
rd_status rd_pg_roles_create_sql(const rd_pg_roles *r, rd_strbuf *out, rd_error *err);
/* "created roles: a, b" / "the dump references no roles" (heap). */
char *rd_pg_roles_note(const rd_pg_roles *r);

/* --- sections of a cluster-wide dump (harness/restore/section_filter.c) ---
 *
 * `mariadb-dump --all-databases` / `--databases A B` and `pg_dumpall` write
 * a preamble (session settings; pg_dumpall: roles and tablespaces), then
 * one section per database opening with a header line:
 *   mariadb-dump: "-- Current Database: `NAME`" (backticks inside NAME
 *                 doubled), then CREATE DATABASE and USE; at the end a short
 *                 second section per database (USE, then its views);
 *   pg_dumpall:   "-- Database \"NAME\" dump" (NAME as is), then pg_dump's
 *                 output with CREATE DATABASE and \connect.
 * The filter is a state machine over the byte stream: it buffers at most
 * the head of one line (RD_SECTION_HEAD_MAX bytes) to recognise a header and
 * passes or skips everything else as it streams by, so its memory does not
 * depend on the dump. The preamble always passes; a section passes when its
 * database is in `keep`; sections of system databases (MariaDB: mysql,
 * information_schema, performance_schema, sys; PostgreSQL: postgres,
 * template0, template1) never pass and are never listed. A line inside a
 * routine or function body that reads like a header would be taken for one
 * (the dump tools escape newlines in data, not in bodies). */
#define RD_SECTION_HEAD_MAX 1024

typedef struct rd_section_dialect {
    const char *name;    /* "mariadb-dump" / "pg_dumpall" */
    const char *header;  /* the header line's fixed start */
    const char *trailer; /* the completion trailer at the end of the dump */
    /* the database named by a complete header line (head[0..n), its line end
     * included) into name (NUL-terminated, at most cap bytes); RD_ERR_FORMAT
     * "malformed: ..." (the caller adds where) */
    rd_status (*parse)(const char *head, size_t n, char *name, size_t cap, rd_error *err);
    int (*is_system)(const char *name);
} rd_section_dialect;

extern const rd_section_dialect rd_section_mariadb;   /* mariadb_filter.c */
extern const rd_section_dialect rd_section_pgdumpall; /* pg_dumpall_filter.c */

typedef struct rd_section_filter {
    const rd_section_dialect *d;
    const rd_strlist *keep; /* databases whose sections pass; NULL: list only, emit nothing */
    rd_strlist seen;        /* non-system databases with a section, dump order, each once */
    char *current;          /* database of the section being read (heap); NULL in the preamble */
    int pass;               /* the bytes being read pass */
    int at_start, in_head;  /* the next byte starts a line / a line head is being buffered */
    char head[RD_SECTION_HEAD_MAX];
    size_t head_len, hdr_len;
    char nlhdr[64]; /* "\n" + the header start: what a body is searched for */
    unsigned long long bytes_in, bytes_out;
    char tail[96]; /* the last bytes read, for the completion trailer */
    size_t tail_len;
    int ended; /* the final call came: the stream was read to its end */
} rd_section_filter;

/* keep is borrowed and must outlive the filter. */
void rd_section_init(rd_section_filter *f, const rd_section_dialect *d, const rd_strlist *keep);
void rd_section_free(rd_section_filter *f);
/* Feed the next n bytes of the decoded dump (any split), final = 1 once at
 * the end (n may be 0); what passes is appended to emit. Errors: "the dump's
 * section header at byte N is longer than 1024 bytes", "the dump's section
 * header at byte N is malformed: ...". */
rd_status rd_section_feed(rd_section_filter *f, const char *buf, size_t n, int final,
                          rd_strbuf *emit, rd_error *err);
/* 1 when the bytes fed so far end with the dialect's completion trailer (at
 * the start of one of the last lines). */
int rd_section_completed(const rd_section_filter *f);
/* Read an artifact to its end through a listing filter: its non-system
 * databases in dump order appended to out. */
rd_status rd_section_list(const rd_section_dialect *d, rd_artifact *a, rd_strlist *out,
                          rd_error *err);
/* After a restore through the filter: a dump cut short (read to its end
 * without the trailer) names the section it ends in, whatever the tool said
 * about the statement it was cut in; a chosen database without a section is
 * "database X is not in the dump". Returns st or the better error. */
rd_status rd_section_verdict(const rd_section_filter *f, const rd_strlist *databases, rd_status st,
                             rd_error *err);
/* 1 for mysql, information_schema, performance_schema and sys. */
int rd_mdb_is_system_db(const char *name);
/* 1 for postgres, template0 and template1. */
int rd_pgda_is_system_db(const char *name);

/* --- databases under scratch names (harness/restore/db_rename.c) ---
 * A line filter (rd_restore_line_fn) after the section filter, for a
 * scratch that restores each database under a name of its own
 * (rd_scratch_db_name: type server). In each passed section it rewrites
 * exactly the statements that name the section's database:
 *   MariaDB:    CREATE DATABASE (its "IF NOT EXISTS" dropped: never into
 *               an existing database) and USE;
 *   PostgreSQL: CREATE DATABASE, ALTER DATABASE (OWNER, SET), COMMENT ON
 *               DATABASE, \connect, GRANT / REVOKE / SECURITY LABEL ... ON
 *               DATABASE (outside COPY data).
 * Any other statement that names the database (a qualified name `db`.x or
 * db.x in a view, routine, trigger or function, a DATABASE clause) fails
 * with RD_ERR_UNSUPPORTED "database X cannot be restored under a scratch
 * name on a shared server: its dump names the database itself (LINE); ...".
 * INSERT lines (MariaDB), COPY data (PostgreSQL) and comments pass as they
 * are.
 *
 * rd_db_rename_feed takes the byte stream (any split) and keeps at most
 * RD_DB_RENAME_LINE bytes of it: a line up to that length is taken whole (as
 * rd_db_rename_filter takes it); of a longer one the head decides what the
 * line is (only a line's start holds a statement rewritten here), and the
 * rest streams through, scanned in a window for what the whole line would
 * have been searched for (a name, " FROM stdin;", " ON DATABASE "), so its
 * memory does not follow the longest line of the dump. */
#define RD_DB_RENAME_LINE (64 * 1024)

typedef struct rd_db_rename {
    const rd_scratch *s;
    int pg;
    rd_section_filter *sections; /* the section filter in front of it, or NULL */
    char *current;               /* the section's database (heap), NULL in the preamble */
    char *quoted, *plain;        /* its forms in the dump (plain: unquoted, when it can be) */
    int in_copy;                 /* PostgreSQL: inside COPY data */
    size_t rewritten;            /* statements rewritten */
    /* the byte stream (rd_db_rename_feed) */
    size_t cap;       /* bytes of buf: RD_DB_RENAME_LINE (a test may set less, >= 8192) */
    char *buf;        /* the head of the current line, then the window of a long one */
    size_t len;       /* bytes in buf */
    int mode;         /* 0: buf holds a line's head; else a long line's rest passes or is scanned */
    int kind;         /* scanned: 1 a COPY line, 2 GRANT / REVOKE / SECURITY LABEL, 0 another */
    size_t off, next; /* scanned: the line offset of buf[0], of the next position to examine */
    int db_seen;      /* scanned: the first "DATABASE " was examined */
    int pending;      /* scanned: the line names the database (refused at its end unless ...) */
    char show[121];   /* a long line's first bytes, for a refusal */
    rd_strbuf mid;    /* what the section filter passed */
} rd_db_rename;
/* sections (may be NULL) is fed first and must outlive the filter. */
void rd_db_rename_init(rd_db_rename *r, const rd_scratch *s, int pg, rd_section_filter *sections);
void rd_db_rename_free(rd_db_rename *r);
/* One complete line (rd_restore_line_fn). */
rd_status rd_db_rename_filter(void *ud, const char *line, size_t n, rd_strbuf *emit, rd_error *err);
/* The byte stream (rd_restore_chunk_fn): through the section filter, then
 * line by line as above. */
rd_status rd_db_rename_feed(void *ud, const char *buf, size_t n, int final, rd_strbuf *emit,
                            rd_error *err);

/* --- pg_dumpall globals (harness/restore/pg_dumpall_filter.c) ---
 * A line filter (rd_restore_line_fn) for pg_dumpall output that went
 * through the section filter: in the preamble (up to the first section
 * header) role and tablespace statements are dropped with roles no-owner
 * and create (create makes the roles the sections use, through the pg_roles
 * filter); with strict they pass, CREATE ROLE made idempotent and ALTER ROLE
 * of the scratch instance's own user dropped (it must keep its login). Every
 * line then goes through rd_pg_roles_filter. */
typedef struct rd_pgda_lines {
    rd_pg_roles *roles;
    const char *scratch_user; /* may be NULL */
    int in_sections;
} rd_pgda_lines;

rd_status rd_pgda_lines_filter(void *ud, const char *line, size_t n, rd_strbuf *emit,
                               rd_error *err);
/* Its long-line function: the preamble's role and tablespace statements are
 * gathered, the rest as rd_pg_roles_long says. */
rd_status rd_pgda_lines_long(void *ud, const char *head, size_t n, int *stream, rd_strbuf *emit,
                             rd_error *err);

/* --- a mariadb-dump stream split for a parallel restore
 * (harness/restore/mariadb_split.c, mariadb_fanout.c) ---
 *
 * mariadb-dump of one database writes a preamble of session settings
 * (`/ *!40101 SET NAMES utf8mb4 * /;`, FOREIGN_KEY_CHECKS=0, UNIQUE_CHECKS=0,
 * SQL_MODE, TIME_ZONE, ...), then one section per table ("-- Table structure
 * for table `T`": DROP TABLE, CREATE TABLE with its foreign keys, LOCK
 * TABLES, the INSERTs, UNLOCK TABLES, then the table's triggers) and per
 * view a stand-in ("-- Temporary table structure for view `V`"), then the
 * views ("-- Final view structure for view"), routines and events, and the
 * statements that put the session settings back. Table sections and
 * stand-ins do not depend on each other with the dump's own
 * FOREIGN_KEY_CHECKS=0, so they may load side by side on several
 * connections, each of which first runs the preamble; a sequence ("--
 * Sequence structure for", written before the tables that may take their
 * defaults from it) loads alone between the sections before and after it;
 * everything from the
 * first ordered marker on (views, routines, events, sequences, another
 * database) runs after every section has loaded, in dump order, on one
 * connection that also runs the preamble first. A preamble with any other
 * line (CREATE DATABASE, USE, a plain statement), or longer than
 * RD_SPLIT_PREAMBLE_MAX, is a layout we do not know: the whole dump goes
 * to one connection as it is. As the section filter, a line inside a
 * trigger body that reads like a marker would be taken for one. */
#define RD_SPLIT_PREAMBLE_MAX (64 * 1024)
#define RD_SPLIT_HOLD_MAX 1024

typedef enum rd_split_mark {
    RD_SPLIT_MARK_NONE = 0,
    RD_SPLIT_MARK_SECTION, /* a table section or a view's stand-in starts */
    RD_SPLIT_MARK_ALONE,   /* a sequence: alone, between the sections before and after */
    RD_SPLIT_MARK_ORDERED  /* the ordered rest starts */
} rd_split_mark;

/* What a line (its line end may be included) opens. */
rd_split_mark rd_split_classify(const char *line, size_t n);
/* 1 when the line may stand in the preamble (blank, a comment, one
 * versioned comment statement). */
int rd_split_preamble_line(const char *line, size_t n);
/* 1 for mariadb-dump's "LOCK TABLES `T` WRITE;\n" (one name) and
 * "UNLOCK TABLES;\n". The split leaves them out of the sections: a
 * connection holding LOCK TABLES on a parent table fails its INSERTs ("Table
 * 'child' was not locked with LOCK TABLES") when another connection creates a
 * child table with a foreign key to it meanwhile. They only lock; without
 * them the dump is what `mariadb-dump --skip-add-locks` writes, the same
 * rows. */
int rd_split_lock_line(const char *line, size_t n);

typedef struct rd_split_sink {
    void *ud;
    /* a parallel section starts: its bytes follow */
    rd_status (*section)(void *ud, rd_error *err);
    /* an ordered part starts (a sequence; or the rest of the dump): every
     * section before it must have loaded first, and it must have loaded
     * before the next section starts; its bytes follow */
    rd_status (*ordered)(void *ud, rd_error *err);
    /* bytes for the section (or the ordered rest) that started last */
    rd_status (*bytes)(void *ud, const char *buf, size_t n, rd_error *err);
} rd_split_sink;

typedef enum rd_split_stage {
    RD_SPLIT_PREAMBLE = 0,
    RD_SPLIT_SECTIONS,
    RD_SPLIT_ORDERED
} rd_split_stage;

typedef struct rd_split {
    rd_split_sink sink;
    rd_split_stage stage;
    rd_strbuf preamble; /* the session settings each connection runs first */
    size_t scan;        /* preamble bytes already classified */
    int unknown;        /* the layout is not one we know: one connection */
    int at_start;       /* the next byte starts a line */
    char hold[RD_SPLIT_HOLD_MAX];
    size_t hold_len;
    unsigned sections;      /* parallel sections seen */
    unsigned locks_dropped; /* LOCK TABLES / UNLOCK TABLES lines left out */
    /* restore.defer_indexes (set after rd_split_init): the CREATE TABLE of
     * each table section goes through rd_defer_rewrite, and the ALTER TABLE
     * that adds the indexes back runs on the same connection when the
     * table's rows have loaded (at its UNLOCK TABLES line, else before the
     * next section starts; at the end of the stream after the preamble once
     * more) */
    int defer;
    int in_table;      /* the section being read is a table's */
    int collecting;    /* a CREATE TABLE statement is being read into create */
    size_t line_start; /* where its line being read starts in create */
    rd_strbuf create;
    rd_strbuf alter;   /* the ALTER TABLE still to send, empty: none */
    unsigned deferred; /* tables created without their secondary indexes */
    unsigned as_is;    /* CREATE TABLE statements left as they are */
} rd_split;

void rd_split_init(rd_split *sp, const rd_split_sink *sink);
void rd_split_free(rd_split *sp);
/* Feed the next n bytes of the decoded dump (any split), final = 1 once at
 * the end; the sink's callbacks run as the layout is recognised. */
rd_status rd_split_feed(rd_split *sp, const char *buf, size_t n, int final, rd_error *err);

/* --- secondary indexes added after the rows (harness/restore/mariadb_defer.c) ---
 *
 * A CREATE TABLE statement of a mariadb-dump (SHOW CREATE TABLE's text, from
 * "CREATE TABLE `" to its ";\n", at most RD_DEFER_CREATE_MAX bytes) whose
 * table is created without its plain secondary indexes (`KEY` lines) and
 * gets them back by one ALTER TABLE after its rows, which builds them by
 * sorting instead of inserting every row into each. The foreign keys move
 * to the end of that ALTER TABLE too, after the indexes they use (with the
 * dump's FOREIGN_KEY_CHECKS=0 nothing is checked either way). Kept where
 * they are: the primary key (the rows load in its order), UNIQUE keys (a
 * duplicate fails the same INSERT as in a plain restore), FULLTEXT keys and
 * CHECK constraints. The server orders a table's keys primary, unique,
 * plain (in the order given), fulltext: a plain key added after the rows
 * lands where it was, so SHOW CREATE TABLE is the plain restore's. Left as
 * they are (rewritten = 0): anything but exactly that layout (one definition
 * per line, two spaces in front, a comma after all but the last), tables
 * that are not InnoDB, partitioned or system-versioned tables, tables with a
 * generated column, a SPATIAL key or anything else we do not know, tables
 * without a primary key, a plain key that starts with the AUTO_INCREMENT
 * column, and tables without a plain key. */
#define RD_DEFER_CREATE_MAX (256 * 1024)
/* rewritten = 1: create got the statement without the deferred keys and
 * foreign keys, alter "ALTER TABLE `t` ADD KEY ..., ADD CONSTRAINT ...;\n";
 * 0: nothing appended. */
rd_status rd_defer_rewrite(const char *stmt, size_t n, rd_strbuf *create, rd_strbuf *alter,
                           int *rewritten, rd_error *err);

/* Restore a decoded mariadb-dump stream over up to `connections` clients
 * (argv/env as for one client), RD_OK only when every client exited 0
 * without error lines, the stream decoded without error and ended with the
 * "-- Dump completed" trailer; errors as rd_restore_exec's. `buffer`: most
 * bytes read ahead of the clients (a section larger than that streams to
 * its connection as it is read). defer_indexes: the table sections'
 * CREATE TABLE statements go through rd_defer_rewrite (rd_split.defer).
 * note gets "4 table sections over 2 connections, ..." (heap) or NULL.
 * When a client quits early, its own error is the verdict, not that of
 * another client whose input was cut short mid-statement after it. */
rd_status rd_mdb_fanout(const char *const *argv, const char *const *env, rd_artifact *a,
                        int connections, size_t buffer, int defer_indexes, double deadline,
                        rd_restore_outcome *out, char **note, rd_error *err);
