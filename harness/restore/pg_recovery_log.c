/* pg_recovery_log.c: start a restored PostgreSQL, follow its recovery
 * through its server log and process (rd_pg_recovery_run), and prove that
 * the promoted instance accepts writes. The server logs in UTC (log_timezone and timezone are set
 * by the scratch), so every time in the log carries "+00". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_recovery.h"
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define POLL_MS 50
#define TAIL_MAX 16384

char *rd_pg_recovery_time(int64_t ms, char *buf, size_t bufsz)
{
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (int64_t)t * 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, bufsz, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

/* The message after "LOG:  " / "FATAL:  " ... (or the line). */
static const char *message_of(const char *line, const char **level)
{
    static const char *const levels[] = {
        "PANIC:", "FATAL:", "ERROR:", "WARNING:", "LOG:", "DETAIL:", "HINT:", "CONTEXT:", NULL};
    for (size_t i = 0; levels[i]; i++) {
        const char *p = strstr(line, levels[i]);
        if (p) {
            *level = levels[i];
            p += strlen(levels[i]);
            while (*p == ' ')
                p++;
            return p;
        }
    }
    *level = "";
    return line;
}

/* Parse the time that follows `key` in msg: "2026-01-30 15:00:00.123456+00". */
static int time_after(const char *msg, const char *key, int64_t *ms)
{
    const char *p = strstr(msg, key);
    char buf[64];
    size_t n = 0;
    if (!p)
        return 0;
    p += strlen(key);
    while (p[n] && n < sizeof buf - 1 && (strchr("0123456789-:.+ ", p[n]) != NULL)) {
        buf[n] = p[n];
        n++;
    }
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
    return rd_time_parse(buf, ms, NULL) == RD_OK;
}

static void copy_line(char *dst, size_t sz, const char *src)
{
    snprintf(dst, sz, "%s", src);
}

void rd_pg_recovery_line(rd_pg_recovery_log *l, const char *line)
{
    const char *level;
    const char *msg = message_of(line, &level);
    const char *p;
    if ((p = strstr(msg, "restored log file \"")) != NULL) {
        char name[64];
        size_t n = 0;
        p += strlen("restored log file \"");
        while (p[n] && p[n] != '"' && n < sizeof name - 1) {
            name[n] = p[n];
            n++;
        }
        name[n] = '\0';
        if (strlen(name) == 24) { /* segments, not history files */
            if (!l->wal_first[0])
                copy_line(l->wal_first, sizeof l->wal_first, name);
            copy_line(l->wal_last, sizeof l->wal_last, name);
        }
    }
    if ((p = strstr(msg, "redo done at ")) != NULL) {
        size_t n = 0;
        p += strlen("redo done at ");
        while (n < sizeof l->redo_done - 1 && p[n] && strchr("0123456789ABCDEF/", p[n])) {
            l->redo_done[n] = p[n];
            n++;
        }
        l->redo_done[n] = '\0';
    }
    if ((p = strstr(msg, "selected new timeline ID: ")) != NULL)
        l->new_tli = (uint32_t)strtoul(p + strlen("selected new timeline ID: "), NULL, 10);
    if (strstr(msg, "database system is ready to accept connections"))
        l->ready = 1;
    if (strstr(msg, "recovery has paused") || strstr(msg, "pausing at the end of recovery")) {
        l->paused = 1;
        if (!l->pause[0])
            copy_line(l->pause, sizeof l->pause, msg);
    }
    if (strstr(msg, "shutdown at recovery target")) {
        l->shutdown_target = 1;
        if (!l->pause[0])
            copy_line(l->pause, sizeof l->pause, msg);
    }
    if (strstr(msg, "recovery ended before configured recovery target was reached"))
        l->ended_early = 1;
    time_after(msg, "last completed transaction was at log time ", &l->reached_ms);
    if (strstr(msg, "recovery stopping before commit of transaction"))
        time_after(msg, ", time ", &l->stopped_ms);
    if (strcmp(level, "LOG:") == 0 && !l->died[0] &&
        (strstr(msg, "terminated by signal") || strstr(msg, "exited with exit code") ||
         strstr(msg, "aborting startup due to startup process failure")))
        copy_line(l->died, sizeof l->died, msg);
    if ((strcmp(level, "FATAL:") == 0 || strcmp(level, "PANIC:") == 0) && !l->fatal[0])
        copy_line(l->fatal, sizeof l->fatal, msg);
    if (strcmp(level, "LOG:") == 0 &&
        (strstr(msg, "invalid record length") || strstr(msg, "incorrect resource manager data") ||
         strstr(msg, "invalid magic number") || strstr(msg, "invalid resource manager ID") ||
         strstr(msg, "unexpected pageaddr") || strstr(msg, "contrecord") ||
         strstr(msg, "invalid contrecord") || strstr(msg, "record with incorrect prev-link") ||
         strstr(msg, "could not read from WAL segment") || strstr(msg, "missing contrecord")))
        copy_line(l->invalid, sizeof l->invalid, msg);
}

/* Read new complete lines of the log from *off. */
static void read_new(const char *path, long *off, rd_pg_recovery_log *l, rd_strbuf *tail)
{
    FILE *f = fopen(path, "re");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    if (!f)
        return;
    if (fseek(f, *off, SEEK_SET) != 0) {
        fclose(f);
        return;
    }
    while ((n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] != '\n')
            break; /* incomplete: read again next time */
        *off += n;
        line[n - 1] = '\0';
        rd_pg_recovery_line(l, line);
        rd_strbuf_append(tail, line, NULL);
        rd_strbuf_append_char(tail, '\n', NULL);
        rd_strbuf_keep_tail(tail, TAIL_MAX);
    }
    free(line);
    fclose(f);
}

static void fill_out(const rd_pg_recovery_log *l, rd_recovery_outcome *out, const char *line)
{
    out->reached_ms = l->reached_ms;
    out->stopped_ms = l->stopped_ms;
    free(out->wal_first);
    free(out->wal_last);
    out->wal_first = l->wal_first[0] ? rd_strdup(l->wal_first) : NULL;
    out->wal_last = l->wal_last[0] ? rd_strdup(l->wal_last) : NULL;
    free(out->server_line);
    out->server_line = line && *line ? rd_strdup(line) : NULL;
    free(out->reached_lsn);
    out->reached_lsn = l->redo_done[0] ? rd_strdup(l->redo_done) : NULL;
    out->new_tli = l->new_tli;
}

int rd_pg_history_reached(const char *text, uint32_t *tli, char *lsn, size_t lsnsz)
{
    struct {
        unsigned tli;
        uint64_t lsn;
        char text[32];
    } lines[64];
    size_t n = 0;
    for (const char *p = text; p && *p && n < 64;) {
        char l[32];
        if (sscanf(p, "%u %31s", &lines[n].tli, l) == 2 && rd_wal_parse_lsn(l, &lines[n].lsn)) {
            snprintf(lines[n].text, sizeof lines[n].text, "%s", l);
            n++;
        }
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    if (n == 0)
        return 0;
    uint64_t end = lines[n - 1].lsn;
    uint32_t t = lines[n - 1].tli;
    for (size_t i = 0; i + 1 < n; i++)
        if (end <= lines[i].lsn) {
            t = lines[i].tli;
            break;
        }
    *tli = t;
    snprintf(lsn, lsnsz, "%s", lines[n - 1].text);
    return 1;
}
/* Watch s->log and the server process until the recovery promoted
 * ("database system is ready to accept connections" after recovery) or
 * failed: the postmaster died, recovery ended before its target, paused, or
 * the deadline passed. Fills out (reached_ms, wal range, server_line, log
 * tail). RD_ERR_INTEGRITY (recovery ended before target / paused),
 * RD_ERR_PROC (server died), RD_ERR_TIMEOUT. */
static rd_status watch_recovery(rd_scratch *s, const rd_recovery_target *t, double deadline,
                                rd_recovery_outcome *out, rd_error *err)
{
    rd_pg_recovery_log l;
    long off = 0;
    double started = rd_mono_now();
    char human[64];
    (void)t;
    memset(&l, 0, sizeof l);
    for (;;) {
        read_new(s->log, &off, &l, &out->log);
        if (l.ready && !l.paused) {
            fill_out(&l, out, NULL);
            return RD_OK;
        }
        if (l.paused || l.shutdown_target) {
            fill_out(&l, out, l.pause);
            return RD_ERR(err, RD_ERR_INTEGRITY, "recovery paused instead of promoting: %s",
                          l.pause);
        }
        if (l.ended_early) {
            fill_out(&l, out, l.fatal);
            return RD_ERR(err, RD_ERR_INTEGRITY, "%s%s%s%s", l.fatal,
                          l.invalid[0] ? " (WAL replay stopped at: " : "", l.invalid,
                          l.invalid[0] ? ")" : "");
        }
        if (rd_scratch_server_pid(s) == 0) {
            read_new(s->log, &off, &l, &out->log);
            const char *why = l.fatal[0]     ? l.fatal
                              : l.died[0]    ? l.died
                              : l.invalid[0] ? l.invalid
                                             : "it logged no FATAL line";
            fill_out(&l, out, why);
            return RD_ERR(err, RD_ERR_PROC, "the postgresql server exited during recovery: %s",
                          why);
        }
        if (rd_abort_requested())
            return RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
        if (deadline > 0 && rd_mono_now() >= deadline) {
            fill_out(&l, out, l.wal_last[0] ? l.wal_last : NULL);
            return RD_ERR(err, RD_ERR_TIMEOUT,
                          "recovery did not finish before recovery.timeout (%s of recovery; last "
                          "restored segment: %s)",
                          rd_duration_human(rd_mono_now() - started, human, sizeof human),
                          l.wal_last[0] ? l.wal_last : "none");
        }
        struct timespec ts = {0, POLL_MS * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The timeline and LSN replay ended on, from the new timeline's history
 * file (pg_read_file: the drill connects as a superuser of the scratch
 * instance); left as the log said (LSN of "redo done at", no timeline)
 * when it cannot be read. */
static void reached_from_history(rd_db *db, double timeout, rd_recovery_outcome *out)
{
    char *text = NULL, lsn[32];
    uint32_t tli = 0;
    rd_error e;
    if (rd_db_scalar(db,
                     "SELECT pg_read_file('pg_wal/' || lpad(upper(to_hex(timeline_id)), 8, '0') "
                     "|| '.history') FROM pg_control_checkpoint()",
                     timeout, &text, NULL, &e) != RD_OK) {
        rd_log_warn("cannot read the new timeline's history file: %s", e.msg);
        return;
    }
    if (text && rd_pg_history_reached(text, &tli, lsn, sizeof lsn)) {
        out->reached_tli = tli;
        free(out->reached_lsn);
        out->reached_lsn = rd_strdup(lsn);
    }
    free(text);
}

/* After rd_scratch_attach: the instance is out of recovery and assigns a
 * transaction id (accepts writes); sets out->reached. */
static rd_status accepts_writes(rd_scratch *s, double deadline, rd_recovery_outcome *out,
                                rd_error *err)
{
    rd_db_opts opts = {.password = s->conn.password, .app_name = "restoredrill"};
    rd_db *db = NULL;
    char *v = NULL;
    double left = deadline > 0 ? deadline - rd_mono_now() : 600;
    rd_status st = rd_db_connect(RD_ENGINE_PG, s->conn.dsn, &opts, &db, err);
    if (left < 5)
        left = 5;
    if (st == RD_OK)
        st = rd_db_scalar(db, "SELECT pg_is_in_recovery()::text", left, &v, NULL, err);
    if (st == RD_OK && (!v || strcmp(v, "false") != 0))
        st = RD_ERR(err, RD_ERR_INTEGRITY,
                    "the restored instance is still in recovery after it said it was ready");
    free(v);
    v = NULL;
    /* a transaction id is assigned only where writes are accepted */
    if (st == RD_OK)
        st = rd_db_scalar(db, "SELECT pg_current_xact_id()::text", left, &v, NULL, err);
    if (st == RD_OK)
        out->reached = 1;
    else
        rd_error_prefix(err, "the promoted instance does not accept writes: ");
    free(v);
    v = NULL;
    if (st == RD_OK)
        reached_from_history(db, left, out);
    rd_db_free(db);
    return st;
}

rd_status rd_pg_recovery_run(const rd_point *pt, const rd_recovery_target *t, rd_scratch *s,
                             const rd_strlist *settings, double deadline, rd_recovery_outcome *out,
                             rd_error *err)
{
    const char **sv = rd_strlist_argv(settings);
    rd_status st;
    if (!sv)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_scratch_start so = {.settings = sv, .deadline = deadline};
    if ((st = rd_scratch_start_physical(s, &so, err)) != RD_OK ||
        (st = watch_recovery(s, t, deadline, out, err)) != RD_OK)
        goto out;
    if (!out->wal_first && pt->wal_start)
        out->wal_first = rd_strdup(pt->wal_start);
    if ((st = rd_scratch_attach(s, t->database, t->target_name, deadline, err)) != RD_OK)
        goto out;
    st = accepts_writes(s, deadline, out, err);
out:
    free(sv);
    return st;
}
