/* backup_mariadb_scan.c: the scanner of mariadb-dump's output as it streams
 * by: the snapshot marker (the first table/view/routine section) and the rows
 * of every INSERT per table, checked against the manifest at the end. */
#include <stdlib.h>
#include <string.h>

#include "backup_mariadb_int.h"
#include "restoredrill/strbuf.h"

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

int rd_bk_mscan_chunk(void *ud, const char *data, size_t n)
{
    scan *s = ud;
    for (size_t i = 0; i < n; i++)
        scan_char(s, data[i]);
    return s->started;
}

void rd_bk_mscan_free(scan *s)
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
rd_status rd_bk_mverify_counts(const scan *s, const rd_manifest *m, rd_error *err)
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
