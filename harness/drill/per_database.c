/* per_database.c: recovery points made of one dump per database
 * (catalog.per_database): the files "<database>-<time>.<ext>" of one time
 * are one point; its databases are the files' names; each sampled database
 * is restored from its own file into a database of its name. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "drill_int.h"
#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore.h"
#include "restoredrill/sha256.h"

static int digits(const char *p, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)p[i]))
            return 0;
    return 1;
}

static int num(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* p starts with a date: YYYYMMDD not followed by a digit, or YYYY-MM-DD. */
static int starts_with_date(const char *p)
{
    int m, d;
    if (digits(p, 8) && !isdigit((unsigned char)p[8])) {
        m = num(p + 4, 2);
        d = num(p + 6, 2);
    } else if (digits(p, 4) && p[4] == '-' && digits(p + 5, 2) && p[7] == '-' && digits(p + 8, 2)) {
        m = num(p + 5, 2);
        d = num(p + 8, 2);
    } else {
        return 0;
    }
    return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

char *rd_drill_file_database(const char *name)
{
    /* the database ends at the first "-", "_" or "." followed by a date */
    for (size_t i = 1; name[i]; i++) {
        if ((name[i] == '-' || name[i] == '_' || name[i] == '.') &&
            starts_with_date(name + i + 1)) {
            char *db = malloc(i + 1);
            if (db) {
                memcpy(db, name, i);
                db[i] = '\0';
            }
            return db;
        }
    }
    return NULL;
}

rd_status rd_drill_group_points(const rd_catalog_cfg *cat, rd_points *files, rd_points *groups,
                                rd_error *err)
{
    rd_status st = RD_OK;
    char when[RD_TIME_BUFSZ];
    for (size_t i = 0; st == RD_OK && i < files->n;) {
        size_t j = i;
        int64_t bytes = 0;
        while (j < files->n && files->items[j].created_ms == files->items[i].created_ms) {
            if (bytes >= 0 && files->items[j].bytes >= 0)
                bytes += files->items[j].bytes;
            else
                bytes = -1;
            j++;
        }
        rd_point g;
        memset(&g, 0, sizeof g);
        g.created_ms = files->items[i].created_ms;
        g.id = rd_asprintf("%s (%zu database dumps)",
                           rd_time_format(g.created_ms, when, sizeof when), j - i);
        g.time_basis = rd_strdup(files->items[i].time_basis);
        g.location = rd_strdup(cat->path);
        g.bytes = bytes;
        g.format = rd_strdup("per-database");
        if (!g.id || !g.location || !g.format || (files->items[i].time_basis && !g.time_basis))
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK)
            st = rd_points_push(groups, &g, err);
        rd_point_clear(&g);
        i = j;
    }
    return st;
}

rd_status rd_drill_point_databases(const rd_points *files, const rd_point *group, rd_strlist *out,
                                   rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; st == RD_OK && i < files->n; i++) {
        const rd_point *f = &files->items[i];
        if (f->created_ms != group->created_ms)
            continue;
        char *db = rd_drill_file_database(f->id);
        if (!db)
            st = RD_ERR(err, RD_ERR_FORMAT,
                        "%s: no database name before the time stamp (per-database dumps are "
                        "named <database>-<time>.<ext>)",
                        f->id);
        for (size_t k = 0; st == RD_OK && k < out->n; k++)
            if (strcmp(out->items[k], db) == 0)
                st = RD_ERR(err, RD_ERR_FORMAT, "two dumps of database %s at %s", db, group->id);
        if (st == RD_OK)
            st = rd_strlist_push(out, db, err);
        free(db);
    }
    return st;
}

/* The file of database db in the sampled group. */
static const rd_point *file_of(const rd_drill_target *dt, const char *db)
{
    for (size_t i = 0; i < dt->files.n; i++) {
        const rd_point *f = &dt->files.items[i];
        if (f->created_ms != dt->point->created_ms)
            continue;
        char *name = rd_drill_file_database(f->id);
        int same = name && strcmp(name, db) == 0;
        free(name);
        if (same)
            return f;
    }
    return NULL;
}

const char *rd_drill_file_manifest(const rd_drill_target *dt, const char *db)
{
    if (!dt->t->catalog.per_database || !dt->point)
        return NULL;
    const rd_point *f = file_of(dt, db);
    return f ? f->manifest : NULL;
}

static rd_status create_database(rd_drill_target *dt, const char *db, rd_error *err)
{
    rd_db *conn = NULL;
    rd_strbuf sql;
    rd_strbuf_init(&sql, 0);
    rd_db_opts o = {
        .password = dt->scratch->conn.password, .connect_timeout = 30, .app_name = "restoredrill"};
    rd_status st = rd_db_connect(dt->t->engine, dt->scratch->conn.dsn, &o, &conn, err);
    if (st == RD_OK)
        st = rd_strbuf_append(&sql, "CREATE DATABASE ", err);
    if (st == RD_OK)
        st = rd_db_quote_ident(conn, db, &sql, err);
    if (st == RD_OK)
        st = rd_db_exec(conn, sql.data, 600, NULL, err);
    rd_db_free(conn);
    rd_strbuf_free(&sql);
    return st;
}

/* One database from its own file; a "restore" result for it. */
static rd_status restore_one(rd_drill_target *dt, const char *db, double deadline)
{
    const rd_target_cfg *t = dt->t;
    const rd_point *f = file_of(dt, db);
    rd_artifact *a = NULL;
    rd_scratch *view = NULL;
    const rd_restore_type *drv = NULL;
    rd_restore_outcome oc;
    rd_error err;
    char human[64];
    struct stat sb;
    const char **dec = t->restore.decrypt.n ? rd_strlist_argv(&t->restore.decrypt) : NULL;
    double start = rd_mono_now();
    rd_status st = RD_OK;
    rd_restore_outcome_init(&oc);
    rd_error_clear(&err);
    if (!f)
        st = RD_ERR(&err, RD_ERR_NOTFOUND, "no dump of database %s at %s", db, dt->point->id);
    if (st == RD_OK) {
        rd_artifact_opts o = {.expected_sha256 = f->sha256,
                              .decrypt = dec,
                              .progress_total = f->bytes > 0 ? (size_t)f->bytes : 0,
                              .deadline = deadline};
        st = rd_artifact_open(f->location, &o, &a, &err);
    }
    if (st == RD_OK) {
        rd_format fmt = rd_artifact_format(a);
        if (fmt == RD_FMT_UNKNOWN)
            st = RD_ERR(&err, RD_ERR_FORMAT, "cannot recognise the dump format of %s", f->id);
        else if (!(drv = rd_restore_for(t->engine, fmt)))
            st = RD_ERR(&err, RD_ERR_UNSUPPORTED, "no restore driver for %s dumps on %s",
                        rd_format_name(fmt), rd_engine_name(t->engine));
    }
    if (st == RD_OK && f->sha256 && drv->reads_path && drv->reads_path(&t->restore, a) &&
        stat(f->location, &sb) == 0 && S_ISREG(sb.st_mode)) {
        char hex[RD_SHA256_HEX_LEN + 1];
        unsigned long long bytes = 0;
        st = rd_sha256_file(f->location, hex, &bytes, &err);
        if (st == RD_OK && strcasecmp(hex, f->sha256) != 0)
            st = RD_ERR(&err, RD_ERR_INTEGRITY, "sha256 mismatch: expected %s, got %s", f->sha256,
                        hex);
    }
    if (st == RD_OK)
        st = create_database(dt, db, &err);
    if (st == RD_OK)
        st = rd_scratch_view(dt->scratch, db, &view, &err);
    if (st == RD_OK)
        st = drv->run(&t->restore, a, view, NULL, deadline, &oc, &err);
    double secs = rd_mono_now() - start;
    rd_verdict v = st == RD_OK ? RD_PASSED : st == RD_ERR_ABORTED ? RD_ERROR : RD_FAILED;
    rd_check_result *c = rd_target_add_check(dt->res, "restore", "restore", db, v, "");
    if (c) {
        c->seconds = secs;
        rd_check_set_database(c, db);
        if (st == RD_OK)
            rd_check_set_message(c, "restored database %s from %s with %s in %s", db, f->id,
                                 drv->name, rd_duration_human(secs, human, sizeof human));
        else
            rd_check_set_message(c, "database %s: %s", db, err.msg);
        if (oc.log.len)
            rd_check_set_output(c, oc.log.data);
        if (f)
            rd_check_add_prop(c, "file", "%s", f->id);
        if (oc.roles_note)
            rd_check_add_prop(c, "roles", "%s", oc.roles_note);
    }
    if (st != RD_OK)
        rd_log_error("%s: database %s: %s", t->name, db, err.msg);
    rd_scratch_view_free(view);
    rd_artifact_free(a);
    rd_restore_outcome_free(&oc);
    free(dec);
    return st;
}

int rd_drill_restore_per_database(rd_drill_target *dt, double deadline)
{
    int ok = 1;
    for (size_t i = 0; i < dt->dbs.n && !rd_abort_requested(); i++) {
        rd_log_info("%s: restoring database %s (%zu of %zu)", dt->t->name, dt->dbs.items[i], i + 1,
                    dt->dbs.n);
        if (restore_one(dt, dt->dbs.items[i], deadline) != RD_OK)
            ok = 0;
    }
    return ok && !rd_abort_requested();
}
