/* backup_mariadb.c: `restoredrill backup` for MariaDB.
 *
 * Consistency (option (a) of the design note, with a proof instead of a
 * timing guess):
 *  1. our connection takes FLUSH TABLES WITH READ LOCK: no table changes
 *     from here on (needs the RELOAD privilege);
 *  2. it starts START TRANSACTION WITH CONSISTENT SNAPSHOT (REPEATABLE READ):
 *     our InnoDB read view is the locked state;
 *  3. mariadb-dump --single-transaction starts and opens its own consistent
 *     snapshot, still under the lock. mariadb-dump opens its transaction
 *     before writing any table, so once its output shows the first
 *     table/view/routine section (or ends), its read view exists: only then
 *     do we UNLOCK TABLES. Both read views were created while nothing could
 *     change, so they see the same data;
 *  4. the manifest's metadata (AUTO_INCREMENT counters and sequences, which
 *     are not transactional) is read under the lock, before mariadb-dump
 *     reads them, so a restore is never behind it; its row counts are taken
 *     in our snapshot after the unlock; the binlog position of
 *     our snapshot (binlog_snapshot_file/position, when the binary log is on)
 *     is recorded as "snapshot";
 *  5. as a proof, the rows of every INSERT in the dump are counted as it
 *     streams by, and the backup fails (nothing is left at FILE) unless each
 *     table's count equals the manifest's.
 * Non-transactional tables (MyISAM, Aria, ...) are not covered by read views:
 * when the database has any, the lock is held until mariadb-dump has
 * finished (writers wait for the whole dump), which keeps the guarantee.
 * Sequence objects are read by mariadb-dump outside the guarantee; a later
 * value can only be ahead of the manifest's, which the schema check accepts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"
#include "source_int.h"

#define START_TIMEOUT 600.0

/* ---------- DSN ---------- */

void rd_bk_mdsn_free(rd_bk_mdsn *d)
{
    free(d->host);
    free(d->port);
    free(d->user);
    free(d->password);
    free(d->socket);
    free(d->database);
    memset(d, 0, sizeof *d);
}

static char *dup_n(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static int set_key(rd_bk_mdsn *d, const char *k, size_t kn, const char *v, size_t vn)
{
    char **slot = NULL;
#define KEY(name) (kn == strlen(name) && strncmp(k, name, kn) == 0)
    if (KEY("host"))
        slot = &d->host;
    else if (KEY("port"))
        slot = &d->port;
    else if (KEY("user"))
        slot = &d->user;
    else if (KEY("password"))
        slot = &d->password;
    else if (KEY("socket") || KEY("unix_socket"))
        slot = &d->socket;
    else if (KEY("database") || KEY("dbname") || KEY("db"))
        slot = &d->database;
    else
        return 1; /* other client options are not needed by mariadb-dump */
#undef KEY
    free(*slot);
    *slot = dup_n(v, vn);
    return *slot != NULL;
}

rd_status rd_bk_parse_mariadb_dsn(const char *dsn, rd_bk_mdsn *out, rd_error *err)
{
    rd_bk_mdsn d = {0};
    const char *p = NULL;
    int ok = 1;
    if (strncmp(dsn, "mariadb://", 10) == 0)
        p = dsn + 10;
    else if (strncmp(dsn, "mysql://", 8) == 0)
        p = dsn + 8;
    if (p) {
        const char *slash = strchr(p, '/'), *q = strchr(p, '?');
        const char *auth_end = slash ? slash : q ? q : p + strlen(p);
        const char *at = memchr(p, '@', (size_t)(auth_end - p));
        if (at) {
            const char *colon = memchr(p, ':', (size_t)(at - p));
            ok = ok && set_key(&d, "user", 4, p, (size_t)((colon ? colon : at) - p));
            if (colon)
                ok = ok && set_key(&d, "password", 8, colon + 1, (size_t)(at - colon - 1));
            p = at + 1;
        }
        const char *hp_end = auth_end;
        const char *colon = memchr(p, ':', (size_t)(hp_end - p));
        if (hp_end > p)
            ok = ok && set_key(&d, "host", 4, p, (size_t)((colon ? colon : hp_end) - p));
        if (colon)
            ok = ok && set_key(&d, "port", 4, colon + 1, (size_t)(hp_end - colon - 1));
        if (slash) {
            const char *db_end = q && q > slash ? q : slash + strlen(slash);
            if (db_end > slash + 1)
                ok = ok && set_key(&d, "database", 8, slash + 1, (size_t)(db_end - slash - 1));
        }
        for (const char *kv = q ? q + 1 : NULL; ok && kv && *kv;) {
            const char *amp = strchr(kv, '&'), *end = amp ? amp : kv + strlen(kv);
            const char *eq = memchr(kv, '=', (size_t)(end - kv));
            if (eq)
                ok = set_key(&d, kv, (size_t)(eq - kv), eq + 1, (size_t)(end - eq - 1));
            kv = amp ? amp + 1 : NULL;
        }
    } else {
        for (const char *s = dsn; ok && *s;) {
            while (*s == ' ')
                s++;
            const char *end = strchr(s, ' ');
            end = end ? end : s + strlen(s);
            const char *eq = memchr(s, '=', (size_t)(end - s));
            if (!eq && end > s) {
                rd_bk_mdsn_free(&d);
                return RD_ERR(err, RD_ERR_USAGE,
                              "cannot parse the mariadb dsn: expected "
                              "key=value pairs or a mariadb:// url");
            }
            if (eq)
                ok = set_key(&d, s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1));
            s = end;
        }
    }
    if (!ok) {
        rd_bk_mdsn_free(&d);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    *out = d;
    return RD_OK;
}

/* ---------- dump scanner: snapshot marker and rows per table ---------- */

typedef struct tcount {
    char *name;
    int64_t rows;
} tcount;

/* Sections (rd_bk_sink_cut): the sink's piece ends before every line that
 * opens a database section ("-- Current Database: `NAME`", NAME with
 * backticks doubled) and before the first line of mariadb-dump's footer
 * (SEC_TZ, the TIME_ZONE restore that --tz-utc, its default, writes). The footer line is recognised
 * only after a section header; a piece that starts at one is shared (the trailer) unless another
 * header follows, which makes it its section's. Only line starts are looked at (memchr to the next
 * newline), so the cost is per line, not per byte. */
#define SEC_HDR "-- Current Database: `"
#define SEC_TZ "/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;"
#define SEC_HELD 48
typedef struct splitter {
    int mid;             /* inside a line (not at its start) */
    char held[SEC_HELD]; /* a line's start that may be a header, not written yet */
    size_t nheld;
    int in_name; /* reading a header's name, up to the newline */
    rd_strbuf name;
    char *owner; /* the database of the last header */
    int pending; /* the open piece starts at a footer line after owner's section */
    int oom;
} splitter;

/* Rows are counted per "<database>\x01<table>" ("" as the database in a
 * one-database dump, which has no USE lines). */
typedef struct scan {
    enum { S_LINE, S_NAME, S_NAME_TICK, S_AFTER, S_TUPLES, S_SKIP, S_DB, S_DB_TICK } state;
    char head[48];
    size_t hlen;
    rd_strbuf name;
    rd_strbuf db; /* the database of the last USE line */
    rd_strbuf key;
    size_t after;
    int in_str, esc, depth;
    long cur;
    tcount *t;
    size_t nt;
    int started;
    int oom;
    splitter sp;
} scan;

static const char INSERT_HEAD[] = "INSERT INTO `";
static const char USE_HEAD[] = "USE `";
static const char AFTER_NAME[] = " VALUES"; /* then a space or a newline */
static const char *const MARKERS[] = {"-- Table structure for table",
                                      "-- Temporary table structure for view",
                                      "-- Sequence structure for",
                                      "-- Dumping routines",
                                      "-- Dumping events",
                                      "-- Dump completed",
                                      "CREATE TABLE",
                                      NULL};

static long table_slot(scan *s, const char *table)
{
    rd_strbuf_reset(&s->key);
    if (rd_strbuf_append_n(&s->key, s->db.data, s->db.len, NULL) != RD_OK ||
        rd_strbuf_append_char(&s->key, '\x01', NULL) != RD_OK ||
        rd_strbuf_append(&s->key, table, NULL) != RD_OK)
        return -1;
    const char *name = s->key.data;
    for (size_t i = 0; i < s->nt; i++)
        if (strcmp(s->t[i].name, name) == 0)
            return (long)i;
    tcount *t = realloc(s->t, (s->nt + 1) * sizeof *t);
    if (!t)
        return -1;
    s->t = t;
    t[s->nt].name = rd_strdup(name);
    t[s->nt].rows = 0;
    if (!t[s->nt].name)
        return -1;
    return (long)s->nt++;
}

static void scan_char(scan *s, char ch)
{
    switch (s->state) {
    case S_LINE:
        if (ch == '\n') {
            s->hlen = 0;
            return;
        }
        s->head[s->hlen++] = ch;
        for (size_t i = 0; MARKERS[i]; i++)
            if (s->hlen == strlen(MARKERS[i]) && memcmp(s->head, MARKERS[i], s->hlen) == 0)
                s->started = 1;
        if (s->hlen == sizeof INSERT_HEAD - 1 && memcmp(s->head, INSERT_HEAD, s->hlen) == 0) {
            s->started = 1;
            s->state = S_NAME;
            rd_strbuf_reset(&s->name);
        } else if (s->hlen == sizeof USE_HEAD - 1 && memcmp(s->head, USE_HEAD, s->hlen) == 0) {
            s->state = S_DB;
            rd_strbuf_reset(&s->db);
        } else if (s->hlen == sizeof s->head) {
            s->state = S_SKIP;
        }
        return;
    case S_NAME:
        if (ch == '`')
            s->state = S_NAME_TICK;
        else if (rd_strbuf_append_char(&s->name, ch, NULL) != RD_OK)
            s->oom = 1;
        return;
    case S_NAME_TICK:
        if (ch == '`') { /* `` is an escaped backtick */
            if (rd_strbuf_append_char(&s->name, ch, NULL) != RD_OK)
                s->oom = 1;
            s->state = S_NAME;
            return;
        }
        s->cur = table_slot(s, s->name.data);
        if (s->cur < 0)
            s->oom = 1;
        s->state = S_AFTER;
        s->after = 0;
        /* fall through: this char is the first after the name */
        /* FALLTHRU */
    case S_AFTER:
        if (ch != AFTER_NAME[s->after]) {
            s->state = ch == '\n' ? S_LINE : S_SKIP;
            s->hlen = 0;
            return;
        }
        if (++s->after == sizeof AFTER_NAME - 1) {
            s->state = S_TUPLES;
            s->in_str = s->esc = s->depth = 0;
        }
        return;
    case S_TUPLES:
        if (s->in_str) {
            if (s->esc)
                s->esc = 0;
            else if (ch == '\\')
                s->esc = 1;
            else if (ch == '\'')
                s->in_str = 0;
        } else if (ch == '\'') {
            s->in_str = 1;
        } else if (ch == '(') {
            if (s->depth++ == 0 && s->cur >= 0)
                s->t[s->cur].rows++;
        } else if (ch == ')') {
            s->depth--;
        } else if (ch == ';' && s->depth == 0) {
            s->state = S_SKIP;
        }
        return;
    case S_SKIP:
        if (ch == '\n') {
            s->state = S_LINE;
            s->hlen = 0;
        }
        return;
    case S_DB:
        if (ch == '`')
            s->state = S_DB_TICK;
        else if (rd_strbuf_append_char(&s->db, ch, NULL) != RD_OK)
            s->oom = 1;
        return;
    case S_DB_TICK:
        if (ch == '`') {
            if (rd_strbuf_append_char(&s->db, ch, NULL) != RD_OK)
                s->oom = 1;
            s->state = S_DB;
            return;
        }
        s->state = ch == '\n' ? S_LINE : S_SKIP;
        s->hlen = 0;
        return;
    }
}

static int scan_chunk(void *ud, const char *data, size_t n)
{
    scan *s = ud;
    for (size_t i = 0; i < n; i++)
        scan_char(s, data[i]);
    return s->started;
}

/* 0: neither; 1: a prefix of either; 2: a section header; 3: the footer. */
static int classify(const char *b, size_t m)
{
    const size_t hl = sizeof SEC_HDR - 1, tl = sizeof SEC_TZ - 1;
    if (m >= hl && memcmp(b, SEC_HDR, hl) == 0)
        return 2;
    if (m >= tl && memcmp(b, SEC_TZ, tl) == 0)
        return 3;
    if ((m < hl && memcmp(b, SEC_HDR, m) == 0) || (m < tl && memcmp(b, SEC_TZ, m) == 0))
        return 1;
    return 0;
}

/* The header's NAME from "NAME`" (backticks doubled inside; \r dropped). */
static rd_status header_name(splitter *p, rd_bk_sink *sink, rd_error *err)
{
    rd_strbuf *b = &p->name;
    size_t n = b->len, k = 0;
    while (n && (b->data[n - 1] == '\r' || b->data[n - 1] == '`'))
        n--;
    for (size_t i = 0; i < n; i++) {
        b->data[k++] = b->data[i];
        if (b->data[i] == '`' && i + 1 < n && b->data[i + 1] == '`')
            i++;
    }
    b->data[k] = '\0';
    char *o = rd_strdup(b->data);
    if (!o)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(p->owner);
    p->owner = o;
    return rd_bk_sink_label(sink, o, err);
}

static rd_status split_write(void *ud, rd_bk_sink *sink, const char *d, size_t n, rd_error *err)
{
    splitter *p = &((scan *)ud)->sp;
    rd_status st = RD_OK;
    size_t i = 0, run = 0; /* d[run..i) is still to be written */
    const size_t hl = sizeof SEC_HDR - 1, tl = sizeof SEC_TZ - 1;
    if (n == 0) { /* the end: a held line start is an ordinary line's */
        st = rd_bk_sink_write(sink, p->held, p->nheld, err);
        p->nheld = 0;
        return st;
    }
    while (st == RD_OK && i < n) {
        if (p->in_name) {
            const char *nl = memchr(d + i, '\n', n - i);
            size_t k = nl ? (size_t)(nl - (d + i)) : n - i;
            if (p->name.len + k < 4096 && rd_strbuf_append_n(&p->name, d + i, k, NULL) != RD_OK)
                p->oom = 1;
            i += k;
            if (nl) {
                i++;
                p->in_name = 0;
                p->mid = 0;
                st = header_name(p, sink, err);
            }
            continue;
        }
        if (p->mid) {
            const char *nl = memchr(d + i, '\n', n - i);
            if (!nl) {
                i = n;
                break;
            }
            i = (size_t)(nl - d) + 1;
            p->mid = 0;
            continue;
        }
        /* a line starts at d[i] (after p->held, from the last chunk) */
        size_t old = p->nheld, k = SEC_HELD - old < n - i ? SEC_HELD - old : n - i;
        memcpy(p->held + old, d + i, k);
        int c = classify(p->held, old + k);
        if (c == 1) { /* undecided until the next chunk */
            st = rd_bk_sink_write(sink, d + run, i - run, err);
            p->nheld = old + k;
            run = i = n;
            break;
        }
        if (c == 3 && (!p->owner || p->pending))
            c = 0;    /* a footer line before any section, or after one already */
        if (c == 0) { /* an ordinary line: written with the rest of the run */
            if (old)  /* its start came from the last chunk (so i == run == 0) */
                st = rd_bk_sink_write(sink, p->held, old, err);
            p->nheld = 0;
            p->mid = 1;
            continue;
        }
        if ((st = rd_bk_sink_write(sink, d + run, i - run, err)) != RD_OK)
            break;
        if (c == 2) {
            if (p->pending) /* the footer line was not the footer: its section's */
                st = rd_bk_sink_label(sink, p->owner, err);
            p->pending = 0;
            if (st == RD_OK)
                st = rd_bk_sink_cut(sink, NULL, err); /* labelled once the name is read */
            rd_strbuf_reset(&p->name);
            p->in_name = 1;
        } else {
            st = rd_bk_sink_cut(sink, NULL, err);
            p->pending = 1;
            p->mid = 1;
        }
        if (st == RD_OK)
            st = rd_bk_sink_write(sink, p->held, old, err);
        p->nheld = 0;
        run = i;
        i += c == 2 ? hl - old : c == 3 ? tl - old : 0;
    }
    if (st == RD_OK && run < i)
        st = rd_bk_sink_write(sink, d + run, i - run, err);
    return p->oom && st == RD_OK ? RD_ERR(err, RD_ERR_NOMEM, "out of memory") : st;
}

static void scan_free(scan *s)
{
    free(s->sp.owner);
    rd_strbuf_free(&s->sp.name);
    for (size_t i = 0; i < s->nt; i++)
        free(s->t[i].name);
    free(s->t);
    rd_strbuf_free(&s->name);
    rd_strbuf_free(&s->db);
    rd_strbuf_free(&s->key);
}

/* The manifest of a scan key's database: m itself for a one-database dump
 * (database ""), its section for a cluster manifest; NULL when none. */
static const rd_manifest *key_manifest(const rd_manifest *m, const char *key, const char **table)
{
    const char *sep = strchr(key, '\x01');
    *table = sep ? sep + 1 : key;
    if (!sep || sep == key)
        return m->ndatabases ? NULL : m;
    char db[1024];
    size_t n = (size_t)(sep - key) < sizeof db - 1 ? (size_t)(sep - key) : sizeof db - 1;
    memcpy(db, key, n);
    db[n] = '\0';
    return rd_manifest_find_database(m, db);
}

static int64_t counted(const scan *s, const char *db, const char *table)
{
    size_t dl = strlen(db);
    for (size_t j = 0; j < s->nt; j++)
        if (strncmp(s->t[j].name, db, dl) == 0 && s->t[j].name[dl] == '\x01' &&
            strcmp(s->t[j].name + dl + 1, table) == 0)
            return s->t[j].rows;
    return 0;
}

static int is_system_db(const char *key)
{
    static const char *const sys[] = {"mysql", "information_schema", "performance_schema", "sys",
                                      NULL};
    for (size_t i = 0; sys[i]; i++) {
        size_t n = strlen(sys[i]);
        if (strncmp(key, sys[i], n) == 0 && key[n] == '\x01')
            return 1;
    }
    return 0;
}

/* Each manifest table's rows must equal what the dump holds (per database
 * for a cluster manifest). */
static rd_status verify_counts(const scan *s, const rd_manifest *m, rd_error *err)
{
    if (s->oom)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory counting the dump's rows");
    size_t nm = m->ndatabases ? m->ndatabases : 1;
    for (size_t k = 0; k < nm; k++) {
        const rd_manifest *dm = m->ndatabases ? m->databases[k] : m;
        const char *db = m->ndatabases ? dm->database : "";
        for (size_t i = 0; i < dm->ntables; i++) {
            const rd_manifest_table *t = &dm->tables[i];
            int64_t n = counted(s, db, t->name);
            if (n != t->rows)
                return RD_ERR(err, RD_ERR_INTEGRITY,
                              "dump and manifest disagree on table %s%s%s: the manifest has %lld "
                              "rows, the dump %lld",
                              db, *db ? "." : "", t->name, (long long)t->rows, (long long)n);
        }
    }
    for (size_t j = 0; j < s->nt; j++) {
        const char *table;
        const rd_manifest *dm = key_manifest(m, s->t[j].name, &table);
        if (!dm && m->ndatabases && is_system_db(s->t[j].name))
            continue; /* --all-databases also dumps mysql: not in the manifest */
        if (!dm || !rd_manifest_find_table(dm, NULL, table))
            return RD_ERR(err, RD_ERR_INTEGRITY,
                          "the dump holds rows of table %s that the manifest does not list", table);
    }
    return RD_OK;
}

/* ---------- backup ---------- */

static rd_status push(const char **argv, size_t *n, size_t cap, const char *a)
{
    if (*n + 1 >= cap)
        return RD_ERR_INTERNAL;
    argv[(*n)++] = a;
    argv[*n] = NULL;
    return RD_OK;
}

static rd_status binlog_position(rd_db *db, char **out, rd_error *err)
{
    rd_db_result *r = NULL;
    const char *file = NULL, *pos = NULL;
    rd_status st = rd_db_query(db, "SHOW STATUS LIKE 'binlog_snapshot_%'", 60, 0, &r, err);
    if (st != RD_OK)
        return st;
    for (size_t i = 0; r->ncols >= 2 && i < r->nrows; i++) {
        const char *k = rd_db_cell(r, i, 0), *v = rd_db_cell(r, i, 1);
        if (k && strcasecmp(k, "binlog_snapshot_file") == 0)
            file = v;
        else if (k && strcasecmp(k, "binlog_snapshot_position") == 0)
            pos = v;
    }
    if (file && *file && pos)
        *out = rd_asprintf("binlog:%s:%s", file, pos);
    rd_db_result_free(r);
    return RD_OK;
}

rd_status rd_backup_mariadb(const rd_backup_opts *o, rd_error *err)
{
    rd_status st = RD_OK;
    rd_db *db = NULL;
    rd_manifest *m = NULL;
    rd_proc *proc = NULL;
    rd_bk_sink *sink = NULL;
    rd_bk_pump pump = {0};
    rd_bk_mdsn d = {0};
    scan sc;
    char *nontx = NULL, *pwenv = NULL, *snapshot = NULL;
    char *partial = rd_asprintf("%s.partial", o->out);
    int s3 = rd_s3_is_url(o->out); /* streamed into a multipart upload of the key itself */
    char *a_host = NULL, *a_port = NULL, *a_user = NULL, *a_sock = NULL;
    int locked = 0, in_tx = 0;
    char sha[RD_SHA256_HEX_LEN + 1] = "";
    int64_t bytes = -1;

    const char **dargv = NULL;
    int cluster = o->ndatabases > 0;
    memset(&sc, 0, sizeof sc);
    rd_strbuf_init(&sc.name, 4096);
    rd_strbuf_init(&sc.db, 4096);
    rd_strbuf_init(&sc.key, 8192);
    rd_strbuf_init(&sc.sp.name, 256);
    sc.cur = -1;
    int sections = cluster && !o->no_sections;
    if (!partial)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_bk_parse_mariadb_dsn(o->dsn, &d, err)) != RD_OK)
        goto out;
    if ((st = rd_db_connect(RD_ENGINE_MARIADB, o->dsn, NULL, &db, err)) != RD_OK ||
        (st = rd_db_pin_session(db, err)) != RD_OK)
        goto out;
    if (!cluster && !d.database && (st = rd_db_current_database(db, &d.database, err)) != RD_OK)
        goto out;
    if (!cluster && (!d.database || !*d.database)) {
        st = RD_ERR(err, RD_ERR_USAGE, "no database selected: name one in the dsn");
        goto out;
    }
    if ((st = rd_db_exec(db, "FLUSH TABLES WITH READ LOCK", 600, NULL, err)) != RD_OK) {
        rd_error_prefix(err, "cannot lock tables (FLUSH TABLES WITH READ LOCK needs the RELOAD "
                             "privilege): ");
        goto out;
    }
    locked = 1;
    if ((st = rd_db_scalar(db,
                           cluster ? "SELECT count(*) FROM information_schema.TABLES WHERE "
                                     "TABLE_SCHEMA NOT IN ('mysql', 'information_schema', "
                                     "'performance_schema', 'sys') AND TABLE_TYPE = 'BASE TABLE' "
                                     "AND COALESCE(ENGINE, '') <> 'InnoDB'"
                                   : "SELECT count(*) FROM information_schema.TABLES WHERE "
                                     "TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND "
                                     "COALESCE(ENGINE, '') <> 'InnoDB'",
                           60, &nontx, NULL, err)) != RD_OK)
        goto out;
    int hold_lock = nontx && strcmp(nontx, "0") != 0;
    if (hold_lock)
        rd_log_info("%s non-transactional table(s): holding the read lock until the dump ends",
                    nontx);
    if ((st = rd_db_exec(db, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", 60, NULL,
                         err)) != RD_OK ||
        (st = rd_db_exec(db, "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", 60, NULL,
                         err)) != RD_OK)
        goto out;
    in_tx = 1;
    if ((st = binlog_position(db, &snapshot, err)) != RD_OK)
        goto out;
    /* metadata under the lock: AUTO_INCREMENT counters and sequences are not
     * transactional; mariadb-dump reads them later, so never behind these */
    rd_manifest_opts mo = {0};
    mo.freshness_query = o->freshness_query;
    mo.skip_rows = 1;
    st = cluster ? rd_manifest_capture_databases(db, &mo, o->databases, o->ndatabases, &m, err)
                 : rd_manifest_capture(db, &mo, &m, err);
    if (st != RD_OK) {
        if (st != RD_ERR_USAGE)
            rd_error_prefix(err, "capturing the manifest: ");
        goto out;
    }

    size_t cap = 24 + (cluster ? m->ndatabases : 0);
    const char **argv = dargv = calloc(cap, sizeof *argv);
    size_t n = 0;
    if (!argv) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    push(argv, &n, cap, "mariadb-dump");
    push(argv, &n, cap, "--single-transaction");
    push(argv, &n, cap, "--routines");
    push(argv, &n, cap, "--triggers");
    push(argv, &n, cap, "--hex-blob");
    push(argv, &n, cap, "--default-character-set=utf8mb4");
    if (d.host && (a_host = rd_asprintf("--host=%s", d.host)))
        push(argv, &n, cap, a_host);
    if (d.port && (a_port = rd_asprintf("--port=%s", d.port)))
        push(argv, &n, cap, a_port);
    if (d.user && (a_user = rd_asprintf("--user=%s", d.user)))
        push(argv, &n, cap, a_user);
    if (d.socket && (a_sock = rd_asprintf("--socket=%s", d.socket)))
        push(argv, &n, cap, a_sock);
    if (!cluster) {
        push(argv, &n, cap, "--");
        push(argv, &n, cap, d.database);
    } else if (o->ndatabases == 1 && strcmp(o->databases[0], "*") == 0) {
        push(argv, &n, cap, "--all-databases");
    } else {
        push(argv, &n, cap, "--databases");
        push(argv, &n, cap, "--");
        for (size_t i = 0; i < m->ndatabases; i++)
            push(argv, &n, cap, m->databases[i]->database);
    }
    /* a password from the dsn goes to the child's environment only */
    const char *env[2] = {NULL, NULL};
    if (d.password) {
        pwenv = rd_asprintf("MYSQL_PWD=%s", d.password);
        env[0] = pwenv;
    }
    rd_proc_spec spec = {0};
    spec.argv = argv;
    spec.env = env;
    spec.stdout_mode = RD_PROC_IO_PIPE;
    if ((st = rd_bk_sink_open(s3 ? o->out : partial, o->wrap, &sink, err)) != RD_OK ||
        (st = rd_proc_start(&spec, &proc, err)) != RD_OK ||
        (sections && (st = rd_bk_sink_sections_on(sink, err)) != RD_OK) ||
        (st = rd_bk_pump_start_w(&pump, rd_proc_stdout_fd(proc), sink, scan_chunk,
                                 sections ? split_write : NULL, &sc, err)) != RD_OK)
        goto out;
    if (!hold_lock) {
        if (!rd_bk_pump_wait_started(&pump, START_TIMEOUT)) {
            int aborted = rd_abort_requested();
            if (!pump.done) {
                st = aborted ? RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", aborted)
                             : RD_ERR(err, RD_ERR_TIMEOUT,
                                      "mariadb-dump did not start within %.0fs", START_TIMEOUT);
                goto out;
            }
        }
        if ((st = rd_db_exec(db, "UNLOCK TABLES", 60, NULL, err)) != RD_OK)
            goto out;
        locked = 0;
    }
    if (cluster) {
        /* each database's rows in our snapshot, then wait for the dump */
        rd_status cst = RD_OK;
        rd_error cerr = {0};
        rd_strbuf use;
        rd_strbuf_init(&use, 0);
        for (size_t i = 0; cst == RD_OK && i < m->ndatabases; i++) {
            rd_strbuf_reset(&use);
            cst = rd_strbuf_append(&use, "USE ", &cerr);
            if (cst == RD_OK)
                cst = rd_db_quote_ident(db, m->databases[i]->database, &use, &cerr);
            if (cst == RD_OK)
                cst = rd_db_exec(db, use.data, 60, NULL, &cerr);
            if (cst == RD_OK)
                cst = rd_manifest_count_rows(db, m->databases[i], &cerr);
            if (cst == RD_OK && o->with_checksums)
                cst = rd_manifest_capture_checksums(db, m->databases[i], &cerr);
        }
        rd_strbuf_free(&use);
        st = rd_bk_count_while_dumping(db, m, 0, proc, "mariadb-dump", &pump, err);
        if (st == RD_OK && cst != RD_OK) {
            *err = cerr;
            st = rd_error_prefix(err, "capturing the manifest: ");
        }
        if (st != RD_OK)
            goto out;
    } else if ((st = rd_bk_count_while_dumping(db, m, o->with_checksums, proc, "mariadb-dump",
                                               &pump, err)) != RD_OK)
        goto out;
    if ((st = verify_counts(&sc, m, err)) != RD_OK)
        goto out;
    m->snapshot = snapshot;
    snapshot = NULL;
    if ((st = rd_db_exec(db, "COMMIT", 60, NULL, err)) != RD_OK)
        goto out;
    in_tx = 0;
    if (locked && (st = rd_db_exec(db, "UNLOCK TABLES", 60, NULL, err)) != RD_OK)
        goto out;
    locked = 0;
    if ((st = rd_bk_sink_finish(sink, sha, &bytes, err)) != RD_OK)
        goto out;
    if (!s3 && rename(partial, o->out) != 0) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot rename %s to %s", partial, o->out);
        goto out;
    }
    if (sections && (!sc.sp.owner || !sc.sp.pending)) {
        /* the footer was not found after the last section: a drill could
         * not read the trailer on its own */
        rd_log_warn("backup: mariadb-dump's footer (%s) was not found after the last database "
                    "section: the manifest lists no sections (drills read the whole dump)",
                    SEC_TZ);
        sections = 0;
    }
    st = rd_bk_finish_manifest(m, o, sha, bytes, sections ? sink : NULL, err);
out:
    if (proc) {
        rd_proc_stop(proc);
        rd_bk_pump_join(&pump, NULL);
    }
    if (locked)
        rd_db_exec(db, "UNLOCK TABLES", 10, NULL, NULL);
    if (in_tx)
        rd_db_exec(db, "ROLLBACK", 10, NULL, NULL);
    rd_proc_free(proc);
    rd_bk_sink_free(sink);
    if (st != RD_OK && !s3)
        unlink(partial);
    rd_db_free(db);
    rd_manifest_free(m);
    rd_bk_mdsn_free(&d);
    scan_free(&sc);
    free(nontx);
    free(snapshot);
    free(a_host);
    free(a_port);
    free(a_user);
    free(a_sock);
    free(pwenv);
    free(partial);
    free(dargv);
    return st;
}
