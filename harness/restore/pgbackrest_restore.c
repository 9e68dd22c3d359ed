/* pgbackrest_restore.c: restore a pgBackRest backup set into the data
 * directory of a physical scratch instance with `pgbackrest restore` (run as
 * the scratch's run_as user, --pg1-path in the scratch, tablespaces remapped
 * into it, --archive-mode=off, the recovery target and
 * --target-action=promote), then recover like any PostgreSQL base backup
 * (pg_recovery_log.c). --config is passed on the command line, so the
 * restore_command pgBackRest writes into postgresql.auto.conf carries it;
 * the scratch's own settings never override restore_command or the target. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_recovery.h"
#include "restore_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

static int pgbr_accepts(const rd_point *pt)
{
    return pt->format && strncmp(pt->format, "pgbackrest-", 11) == 0;
}

static rd_status pgbr_lay(const rd_restore_cfg *cfg, const rd_point *pt,
                          const rd_recovery_target *t, rd_scratch *s, double deadline,
                          rd_restore_outcome *out, rd_error *err)
{
    const rd_catalog_cfg *c = t->catalog;
    char when[64];
    rd_strlist argv = {0};
    const char **av = NULL;
    rd_strbuf errtail, sout;
    int code = 0;
    uid_t uid = 0;
    gid_t gid = 0;
    rd_status st = RD_OK;
    char *lock = rd_fs_join(s->dir, "pgbackrest-lock");
    char *tblspc = rd_fs_join(s->dir, "tablespaces");
    rd_strbuf_init(&errtail, 16384);
    rd_strbuf_init(&sout, 16384);
    if (!lock || !tblspc) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    char *items[16];
    size_t n = 0;
    items[n++] = rd_strdup("pgbackrest");
    if (c->config)
        items[n++] = rd_asprintf("--config=%s", c->config);
    items[n++] = rd_asprintf("--stanza=%s", c->stanza);
    items[n++] = rd_asprintf("--repo=%d", c->repo > 0 ? c->repo : 1);
    items[n++] = rd_asprintf("--lock-path=%s", lock);
    items[n++] = rd_strdup("--log-level-file=off");
    items[n++] = rd_strdup("--log-level-console=warn");
    items[n++] = rd_strdup("restore");
    items[n++] = rd_asprintf("--pg1-path=%s", s->data_dir);
    items[n++] = rd_asprintf("--set=%s", pt->base);
    items[n++] = rd_strdup("--archive-mode=off");
    items[n++] = rd_asprintf("--tablespace-map-all=%s", tblspc);
    if (t->kind == RD_PITR_TIME) {
        items[n++] = rd_strdup("--type=time");
        items[n++] = rd_asprintf("--target=%s", rd_pg_recovery_time(t->time_ms, when, sizeof when));
        items[n++] = rd_strdup("--target-action=promote");
    } else if (t->kind == RD_PITR_CONSISTENT) {
        items[n++] = rd_strdup("--type=immediate");
        items[n++] = rd_strdup("--target-action=promote");
    } else {
        items[n++] = rd_strdup("--type=default");
    }
    for (size_t i = 0; i < n; i++) {
        if (st == RD_OK)
            st = items[i] ? rd_strlist_push(&argv, items[i], err)
                          : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        free(items[i]);
    }
    for (size_t i = 0; st == RD_OK && i < cfg->extra_args.n; i++)
        st = rd_strlist_push(&argv, cfg->extra_args.items[i], err);
    if (st != RD_OK)
        goto out;
    if (!(av = rd_strlist_argv(&argv))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    if (s->run_as && *s->run_as && (st = rd_proc_lookup_user(s->run_as, &uid, &gid, err)) != RD_OK)
        goto out;
    rd_proc_spec spec = {
        .argv = av, .cwd = s->dir, .run_as = s->run_as && *s->run_as, .uid = uid, .gid = gid};
    double timeout = deadline > 0 ? deadline - rd_mono_now() : 0;
    if (deadline > 0 && timeout < 1)
        timeout = 1;
    st = rd_proc_run(&spec, timeout, &sout, &errtail, &code, err);
    if (sout.len)
        rd_strbuf_append(&out->log, sout.data, NULL);
    if (errtail.len)
        rd_strbuf_append(&out->log, errtail.data, NULL);
    out->exit_code = code;
    if (st == RD_OK && code != 0) {
        /* pgBackRest's own "ERROR: [055]: ..." line, not the retry note after it */
        const char *all = errtail.len ? errtail.data : sout.data ? sout.data : "";
        const char *e = strstr(all, "ERROR: [");
        char line[600];
        if (e) {
            size_t len = strcspn(e, "\n");
            snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1),
                     e);
            st = RD_ERR(err, RD_ERR_PROC, "pgbackrest restore exited with %d: %s", code, line);
        } else {
            st = rd_proc_fail(err, "pgbackrest restore", code, all);
        }
    }
out:
    free(av);
    rd_strlist_free(&argv);
    rd_strbuf_free(&errtail);
    rd_strbuf_free(&sout);
    free(lock);
    free(tblspc);
    return st;
}

static rd_status pgbr_recover(const rd_restore_cfg *cfg, const rd_point *pt,
                              const rd_recovery_target *t, rd_scratch *s, double deadline,
                              rd_recovery_outcome *out, rd_error *err)
{
    (void)cfg;
    rd_strlist settings = {0};
    /* restore_command, the target and recovery_target_action are in the
     * postgresql.auto.conf pgBackRest wrote: only what it does not set */
    rd_status st = rd_strlist_push(&settings, "hot_standby=off", err);
    for (size_t i = 0; st == RD_OK && t->settings && i < t->settings->n; i++)
        st = rd_strlist_push(&settings, t->settings->items[i], err);
    if (st == RD_OK)
        st = rd_pg_recovery_run(pt, t, s, &settings, deadline, out, err);
    rd_strlist_free(&settings);
    return st;
}

const rd_physical_type rd_physical_pgbackrest = {
    .name = "pgbackrest",
    .engines = RD_ENGINE_PG,
    .accepts = pgbr_accepts,
    .lay = pgbr_lay,
    .recover = pgbr_recover,
};
