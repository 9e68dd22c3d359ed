/* mariabackup_physical.c: the "mariabackup" physical driver (restore.h):
 * lay = rd_mb_lay into the scratch's data directory; recover = start
 * mariadbd on it, replay the binary logs to the target (rd_mb_replay),
 * attach, and prove the server accepts writes. A server that dies (InnoDB
 * stopping on a corrupted page) fails the recovery with its own log line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore.h"
#include "restoredrill/restore_mariabackup.h"
#include "restoredrill/s3.h"
#include "restoredrill/strbuf.h"

#define LOG_TAIL ((size_t)64 * 1024)

static int mb_accepts(const rd_point *pt)
{
    return pt->format && strcmp(pt->format, "mariabackup") == 0;
}

/* The catalog again (the point only names the backup) and the backup's index. */
static rd_status load(const rd_recovery_target *t, const rd_point *pt, rd_mb_archive **a,
                      size_t *idx, rd_error *err)
{
    rd_status st = rd_mb_archive_load(t->catalog, a, err);
    if (st != RD_OK)
        return st;
    for (size_t i = 0; i < (*a)->nbackups; i++)
        if (strcmp((*a)->backups[i].name, pt->base) == 0) {
            *idx = i;
            return RD_OK;
        }
    rd_mb_archive_free(*a);
    *a = NULL;
    return RD_ERR(err, RD_ERR_NOTFOUND, "backup %s is no longer in %s", pt->base,
                  t->catalog->base_dir);
}

static rd_status mb_lay(const rd_restore_cfg *cfg, const rd_point *pt, const rd_recovery_target *t,
                        rd_scratch *s, double deadline, rd_restore_outcome *out, rd_error *err)
{
    rd_mb_archive *a = NULL;
    size_t idx = 0;
    char *work = NULL;
    (void)cfg;
    rd_status st = load(t, pt, &a, &idx, err);
    if (st != RD_OK)
        return st;
    rd_mb_lay_opts o = {.work_dir = work = rd_fs_join(s->dir, "prepare"),
                        .datadir = s->data_dir,
                        .use_memory = "1G",
                        .catalog = t->catalog,
                        .deadline = deadline};
    if (!work) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (s->run_as && *s->run_as) {
        o.chown_to = 1;
        if ((st = rd_proc_lookup_user(s->run_as, &o.uid, &o.gid, err)) != RD_OK)
            goto out;
    }
    st = rd_mb_lay(a, idx, &o, &out->log, err);
    out->exit_code = st == RD_OK ? 0 : 1;
out:
    free(work);
    rd_mb_archive_free(a);
    return st;
}

/* InnoDB settings the data files were made with (backup-my.cnf of the full
 * backup): the server cannot open them with other ones. */
static rd_status backup_settings(const rd_catalog_cfg *cfg, const rd_mb_archive *a, size_t idx,
                                 rd_strlist *out, rd_error *err)
{
    static const char *const keep[] = {"innodb_page_size", "innodb_data_file_path",
                                       "innodb_undo_tablespaces", NULL};
    size_t *chain = NULL, n = 0;
    char *text = NULL, *path = NULL;
    rd_error e;
    rd_status st = rd_mb_chain(a, idx, &chain, &n, err);
    if (st != RD_OK)
        return st;
    const rd_mb_backup *full = &a->backups[chain[0]];
    free(chain);
    if (rd_s3_is_url(full->dir)) {
        if (rd_mb_read_file(cfg, full, "backup-my.cnf", 1 << 20, &text, &e) != RD_OK)
            return e.code == RD_ERR_NOTFOUND ? RD_OK : RD_ERR(err, e.code, "%s", e.msg);
    } else {
        path = rd_fs_join(full->dir, "backup-my.cnf");
        if (!path)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (rd_fs_read_file(path, 1 << 20, &text, NULL, &e) != RD_OK) {
            free(path);
            return RD_OK; /* none: the defaults */
        }
        free(path);
    }
    for (char *line = text; st == RD_OK && line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        for (size_t k = 0; keep[k]; k++) {
            size_t kl = strlen(keep[k]);
            if (strncmp(line, keep[k], kl) == 0 && line[kl] == '=' && line[kl + 1])
                st = rd_strlist_push(out, line, err);
        }
        line = nl ? nl + 1 : NULL;
    }
    free(text);
    return st;
}

/* The first [ERROR] line of the server's log (else its last line). */
static char *server_line(const rd_scratch *s)
{
    char *text = NULL, *best = NULL;
    size_t len = 0;
    rd_error e;
    if (!s->log || rd_fs_read_file(s->log, 16 << 20, &text, &len, &e) != RD_OK)
        return NULL;
    const char *last = NULL;
    size_t last_n = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n) {
            last = p;
            last_n = n;
            if (!best && (memmem(p, n, "[ERROR]", 7) || memmem(p, n, "[FATAL]", 7)))
                best = strndup(p, n);
        }
        p = nl ? nl + 1 : p + n;
    }
    if (!best && last)
        best = strndup(last, last_n);
    free(text);
    return best;
}

static void log_tail(const rd_scratch *s, rd_strbuf *log)
{
    char *text = NULL;
    size_t len = 0;
    rd_error e;
    if (s->log && rd_fs_read_file(s->log, 16 << 20, &text, &len, &e) == RD_OK) {
        rd_strbuf_appendf(log, NULL, "--- %s\n%s", s->log, text);
        rd_strbuf_keep_tail(log, LOG_TAIL);
    }
    free(text);
}

/* What was replayed: the last transaction event before the stop, its file
 * and end position. */
static rd_status replayed(const rd_mb_archive *a, size_t idx, const rd_mb_replay_result *res,
                          rd_recovery_outcome *out, rd_error *err)
{
    rd_mb_stop_scan sc = {0};
    size_t at = res->first;
    int64_t stop = res->stop_second >= 0 ? res->stop_second * 1000 : -1;
    for (size_t i = res->first; i <= res->last && !sc.stopped; i++) {
        int had = sc.found;
        uint64_t end = sc.last_end;
        rd_status st = rd_mb_binlog_stop_scan(a->binlogs[i].path,
                                              i == res->first ? res->start_pos : 4, stop, &sc, err);
        if (st != RD_OK)
            return st;
        if (sc.found && (!had || sc.last_end != end))
            at = i;
    }
    const rd_mb_backup *b = &a->backups[idx];
    out->wal_first = rd_asprintf("%s:%llu", b->binlog_file, (unsigned long long)b->binlog_pos);
    out->wal_last =
        sc.found ? rd_asprintf("%s:%llu", a->binlogs[at].name, (unsigned long long)sc.last_end)
                 : rd_strdup(out->wal_first);
    out->reached_ms = sc.found && sc.last_ms > b->end_ms ? sc.last_ms : b->end_ms;
    if (!out->wal_first || !out->wal_last)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    return RD_OK;
}

/* A write the restored server must accept (a temporary table: nothing of the
 * restored data changes). */
static rd_status prove_writes(rd_scratch *s, rd_error *err)
{
    rd_db_opts o = {.password = s->conn.password, .connect_timeout = 10};
    rd_db *db = NULL;
    rd_status st = rd_db_connect(RD_ENGINE_MARIADB, s->conn.dsn, &o, &db, err);
    if (st == RD_OK)
        st = rd_db_exec(db,
                        "CREATE TEMPORARY TABLE rd_write_probe (x INT) ENGINE=InnoDB; INSERT INTO "
                        "rd_write_probe VALUES (1); DROP TEMPORARY TABLE rd_write_probe",
                        60, NULL, err);
    rd_db_free(db);
    return st == RD_OK ? RD_OK : rd_error_prefix(err, "the recovered server refuses writes: ");
}

static rd_status mb_recover(const rd_restore_cfg *cfg, const rd_point *pt,
                            const rd_recovery_target *t, rd_scratch *s, double deadline,
                            rd_recovery_outcome *out, rd_error *err)
{
    rd_mb_archive *a = NULL;
    rd_strlist settings = {0};
    const char **sv = NULL;
    size_t idx = 0;
    (void)cfg;
    rd_status st = load(t, pt, &a, &idx, err);
    if (st != RD_OK)
        return st;
    if ((st = backup_settings(t->catalog, a, idx, &settings, err)) != RD_OK)
        goto out;
    for (size_t i = 0; t->settings && i < t->settings->n; i++)
        if ((st = rd_strlist_push(&settings, t->settings->items[i], err)) != RD_OK)
            goto out;
    if (!(sv = rd_strlist_argv(&settings))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    rd_scratch_start so = {.settings = sv, .deadline = deadline};
    if ((st = rd_scratch_start_physical(s, &so, err)) != RD_OK)
        goto out;
    /* in through the drill's account ("mysql" always exists); the database
     * the checks use is chosen after the replay, which may create it */
    if ((st = rd_scratch_attach(s, "mysql", NULL, deadline, err)) != RD_OK)
        goto fail;
    if (t->kind == RD_PITR_CONSISTENT) {
        const rd_mb_backup *b = &a->backups[idx];
        out->reached_ms = b->end_ms;
        if (b->binlog_file) {
            out->wal_first =
                rd_asprintf("%s:%llu", b->binlog_file, (unsigned long long)b->binlog_pos);
            out->wal_last = rd_strdup(out->wal_first);
        }
    } else {
        if (rd_s3_is_url(t->catalog->binlog_dir)) {
            /* the replay's range only, into the scratch's private directory */
            size_t first = 0, last = 0;
            int64_t end_ms = 0;
            char *dir = rd_fs_join(s->dir, "binlogs");
            if (!dir)
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            else if ((st = rd_mb_reach(a, idx, &first, &last, &end_ms, err)) == RD_OK)
                st = rd_mb_fetch_binlogs(t->catalog, a, first, last, dir, err);
            free(dir);
            if (st != RD_OK)
                goto fail;
        }
        rd_mb_replay_opts ro = {.socket = s->conn.socket,
                                .user = s->conn.user,
                                .password = s->conn.password,
                                .stop_ms = t->kind == RD_PITR_TIME ? t->time_ms : -1,
                                .deadline = deadline};
        rd_mb_replay_result res;
        rd_log_info("restore: replaying binary logs from %s:%llu%s", a->backups[idx].binlog_file,
                    (unsigned long long)a->backups[idx].binlog_pos,
                    t->kind == RD_PITR_TIME ? " to the target" : " to the last event");
        if ((st = rd_mb_replay(a, idx, &ro, &out->log, &res, err)) != RD_OK)
            goto fail;
        if ((st = replayed(a, idx, &res, out, err)) != RD_OK)
            goto out;
    }
    if ((st = rd_scratch_attach(s, t->database, t->target_name, deadline, err)) != RD_OK)
        goto fail;
    if ((st = prove_writes(s, err)) != RD_OK)
        goto fail;
    out->reached = 1;
    goto out;
fail:
    /* the server's own word when it died (InnoDB on a corrupted page) */
    if (st != RD_ERR_CONFIG) {
        out->server_line = server_line(s);
        if (rd_scratch_server_pid(s) == 0 && out->server_line)
            st = RD_ERR(err, RD_ERR_PROC, "the mariadb server stopped during recovery: %s",
                        out->server_line);
    }
    log_tail(s, &out->log);
out:
    free(sv);
    rd_strlist_free(&settings);
    rd_mb_archive_free(a);
    return st;
}

const rd_physical_type rd_physical_mariabackup = {
    .name = "mariabackup",
    .engines = RD_ENGINE_MARIADB,
    .accepts = mb_accepts,
    .lay = mb_lay,
    .recover = mb_recover,
};
