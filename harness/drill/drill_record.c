/* drill_record.c: what a target's drill records for the auditor besides
 * its verdicts: the history's verification counts of the catalog's points,
 * the coverage of the retention window and how the point was chosen, the
 * proof of isolation, and a kept scratch instance (keep_scratch). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

/* Passed drills of each listed point in the history (all 0 when the caller
 * knows no history); NULL on allocation failure. */
size_t *rd_drill_verified_counts(const rd_drill_target *dt)
{
    size_t *c = calloc(dt->points.n ? dt->points.n : 1, sizeof *c);
    for (size_t i = 0; c && dt->opts && dt->opts->verified && i < dt->points.n; i++)
        c[i] = dt->opts->verified(dt->opts->verified_ud, dt->t->name, dt->points.items[i].id);
    return c;
}

/* The report's coverage of the retention window (sample.window, else every
 * point up to t0), oldest first: '.' never verified, 'V' verified by an
 * earlier drill, 'T' this drill's point (not verified before), 'B' this
 * drill's point, verified before too. */
static void record_coverage(rd_drill_target *dt, const size_t *counts)
{
    const rd_points *p = &dt->points;
    double window = dt->t->sample.window;
    int64_t lo = window >= 0 ? dt->t0_ms - (int64_t)(window * 1000.0) : INT64_MIN;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    for (size_t i = 0; i < p->n; i++) {
        if (p->items[i].created_ms > dt->t0_ms || p->items[i].created_ms < lo)
            continue;
        char c = i == dt->sample.index ? (counts[i] ? 'B' : 'T') : counts[i] ? 'V' : '.';
        if (rd_strbuf_append_char(&sb, c, NULL) != RD_OK)
            break;
    }
    free(dt->res->coverage_map);
    dt->res->coverage_map = rd_strbuf_detach(&sb);
    rd_strbuf_free(&sb);
}

/* How the point was chosen, in one sentence for the auditor. */
static void record_reason(rd_drill_target *dt, const size_t *counts)
{
    const rd_sample_cfg *s = &dt->t->sample;
    const char *st = s->strategy ? s->strategy : "latest";
    char w[64], seed[32];
    if (s->window >= 0)
        snprintf(w, sizeof w, "the %s window", rd_duration_format(s->window, seed, sizeof seed));
    else
        snprintf(w, sizeof w, "the catalog");
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)dt->seed);
    free(dt->res->sampling_reason);
    if (strcmp(st, "latest") == 0)
        dt->res->sampling_reason = rd_asprintf(
            "latest: the newest of %zu recovery points created before the drill started",
            dt->points.n);
    else if (strcmp(st, "oldest") == 0)
        dt->res->sampling_reason = rd_asprintf("oldest: the oldest of %zu recovery points in %s",
                                               dt->sample.candidates, w);
    else if (strcmp(st, "random") == 0)
        dt->res->sampling_reason =
            rd_asprintf("random: one draw seeded with %s among the %zu recovery points in %s", seed,
                        dt->sample.candidates, w);
    else if (strcmp(st, "least-verified") == 0 && dt->points.archive) {
        char len[64];
        rd_duration_human((double)dt->sample.least_ms / 1000.0, len, sizeof len);
        dt->res->sampling_reason = rd_asprintf(
            "least-verified: one draw seeded with %s over the %s of the PITR window in %s (%zu "
            "stretch%s) that passed drills in the history proved restorable the fewest times "
            "(%zu before this drill)",
            seed, len, w, dt->sample.least_stretches, dt->sample.least_stretches == 1 ? "" : "es",
            dt->sample.least_depth);
    } else if (strcmp(st, "least-verified") == 0)
        dt->res->sampling_reason = rd_asprintf(
            "least-verified: one draw seeded with %s among the recovery points in %s that passed "
            "drills in the history verified the fewest times (%zu before this drill)",
            seed, w, counts[dt->sample.index]);
    else if (strcmp(st, "id") == 0)
        dt->res->sampling_reason = rd_asprintf("id: named by the configuration (%s)", s->id);
    else
        dt->res->sampling_reason = rd_asprintf("%s", st);
}

/* The report's proof of isolation: what the scratch instance is and why it
 * is not the reference server. */
void rd_drill_record_isolation(rd_drill_target *dt, int compared)
{
    const rd_scratch_cfg *sc = &dt->t->scratch;
    const char *type = dt->scratch->type ? dt->scratch->type->name : "ephemeral";
    free(dt->res->scratch_type);
    free(dt->res->isolation);
    dt->res->scratch_type = rd_strdup(type);
    if (dt->t->engine == RD_ENGINE_DYNAMODB && strcmp(type, "ephemeral") == 0)
        dt->res->isolation = rd_strdup(
            "a private in-memory dynalite started by this drill on 127.0.0.1 and a free port, "
            "stopped afterwards (it exits with restoredrill): it cannot be the production table");
    else if (dt->t->engine == RD_ENGINE_DYNAMODB)
        dt->res->isolation = rd_asprintf(
            "%s: a new table named with the prefix \"%s\", the drill's time and a random suffix, "
            "refused when it already exists, deleted afterwards; only it is written",
            type, sc->prefix ? sc->prefix : "rd_scratch_");
    else if (dt->t->engine == RD_ENGINE_S3)
        dt->res->isolation = rd_asprintf(
            "%s: a new prefix %s (the prefix \"%s\", the target, the drill's time and a random "
            "suffix), refused when objects exist under it, every version under it deleted "
            "afterwards; the source is only read and copied from",
            type, dt->scratch->conn.url ? dt->scratch->conn.url : "?",
            sc->prefix ? sc->prefix : "rd_scratch_");
    else if (strcmp(type, "ephemeral") == 0)
        dt->res->isolation = rd_strdup(
            "a private server initialised by this drill in its own 0700 directory, listening on a "
            "unix socket (and 127.0.0.1 only when asked), torn down afterwards: it cannot be the "
            "reference server");
    else if (!compared)
        dt->res->isolation = rd_asprintf(
            "%s: scratch databases carry the prefix \"%s\" and only they are written; no live "
            "reference is configured, so no server identity was compared",
            type, sc->prefix ? sc->prefix : "rd_scratch_");
    else if (sc->allow_same_server)
        dt->res->isolation = rd_asprintf(
            "%s: server identity compared with the reference; the configuration allows the same "
            "server (allow_same_server), so isolation rests on the scratch database prefix",
            type);
    else
        dt->res->isolation = rd_asprintf(
            "%s: server identity (PostgreSQL system_identifier, MariaDB server_uuid) compared "
            "with the reference and found different",
            type);
}

/* How to connect to a kept instance (heap; NULL on allocation failure):
 * the client command, and where the password is (a 0600 file in the
 * instance's private directory); the password itself never appears. */
static char *kept_connect(rd_drill_target *dt)
{
    const rd_scratch *s = dt->scratch;
    const rd_conninfo *c = &s->conn;
    char *pwfile = NULL, *out = NULL;
    const char *pwvar = c->engine == RD_ENGINE_PG ? "PGPASSWORD" : "MYSQL_PWD";
    char how[512];
    if (c->engine == RD_ENGINE_DYNAMODB)
        return rd_asprintf("aws dynamodb scan --endpoint-url %s --table-name %s%s",
                           c->url ? c->url : "?", c->database ? c->database : "?",
                           s->type && strcmp(s->type->name, "ephemeral") == 0
                               ? " (an ephemeral dynalite stops when restoredrill exits)"
                               : "");
    if (c->engine == RD_ENGINE_S3)
        return rd_asprintf("aws s3 ls --recursive %s (`restoredrill gc` removes it once it is "
                           "older than --older-than)",
                           c->url ? c->url : "?");
    if (c->password && s->dir) {
        rd_error err;
        pwfile = rd_fs_join(s->dir, "password");
        if (pwfile &&
            rd_fs_write_atomic(pwfile, c->password, strlen(c->password), 0600, &err) != RD_OK) {
            rd_log_warn("%s: cannot write the password file: %s", dt->t->name, err.msg);
            free(pwfile);
            pwfile = NULL;
        }
    }
    if (pwfile)
        snprintf(how, sizeof(how), "; the password is in %s (mode 0600): put it in %s", pwfile,
                 pwvar);
    else if (c->password)
        snprintf(how, sizeof(how), "; the password is not shown (no private directory)");
    else
        how[0] = '\0';
    if (c->engine == RD_ENGINE_PG)
        out = rd_asprintf("psql -h %s -p %d -U %s %s%s",
                          c->socket ? c->socket
                          : c->host ? c->host
                                    : "localhost",
                          c->port, c->user ? c->user : "postgres", c->database ? c->database : "",
                          how);
    else if (c->socket)
        out = rd_asprintf("mariadb --socket=%s -u %s %s%s", c->socket, c->user ? c->user : "root",
                          c->database ? c->database : "", how);
    else
        out = rd_asprintf("mariadb -h %s -P %d -u %s %s%s", c->host ? c->host : "127.0.0.1",
                          c->port, c->user ? c->user : "root", c->database ? c->database : "", how);
    free(pwfile);
    return out;
}

/* Keep the instance (--keep-scratch, keep_scratch "always", or
 * "on-failure" when the restore or a check failed): say how to connect, in
 * the log and the report; with keep_scratch, record the time to live that
 * gc honours. */
void rd_drill_keep(rd_drill_target *dt, int by_config)
{
    char when[RD_TIME_BUFSZ];
    char *how = kept_connect(dt);
    int64_t until = 0;
    if (by_config) {
        rd_error err;
        until = rd_wall_now_ms() + (int64_t)(dt->t->keep_scratch_ttl * 1000.0);
        if (rd_scratch_keep_until(dt->scratch, until, dt->drill_id, &err) != RD_OK) {
            rd_log_warn("%s: %s: gc removes it by its own rules", dt->t->name, err.msg);
            until = 0;
        }
    }
    rd_log_warn("%s: scratch instance kept%s%s; connect with: %s", dt->t->name,
                until ? " until " : "", until ? rd_time_format(until, when, sizeof when) : "",
                how ? how : "(out of memory)");
    if (dt->scratch->dir)
        rd_log_warn("%s: `restoredrill gc` removes it %s, or stop the server in %s", dt->t->name,
                    until ? "once that time is over" : "(its owner is gone)", dt->scratch->dir);
    free(dt->res->kept_connect);
    dt->res->kept_connect = how;
    dt->res->kept_until_ms = until;
}

/* A catalog with an archive: the restorable window of the sampling window,
 * the stretches of it earlier passed drills proved restorable (clipped to
 * it), and this drill's stretch: [the base backup's end, the target]. */
static void record_pitr_coverage(rd_drill_target *dt)
{
    rd_target_result *r = dt->res;
    rd_span *win = NULL, *proven = NULL, *in = NULL;
    size_t nw = 0, np = 0, ni = 0;
    rd_error err;
    if (!dt->points.archive)
        return;
    if (rd_sample_pitr_window(&dt->points, dt->t->sample.window, dt->t0_ms, &win, &nw, &err) !=
            RD_OK ||
        nw == 0)
        goto out;
    if (dt->nproven) {
        if (!(proven = calloc(dt->nproven, sizeof *proven)))
            goto out;
        memcpy(proven, dt->proven, dt->nproven * sizeof *proven);
        np = rd_spans_merge(proven, dt->nproven);
        if (rd_spans_intersect(proven, np, win, nw, &in, &ni, &err) != RD_OK)
            goto out;
    }
    r->pitr_window_start_ms = win[0].from_ms;
    r->pitr_window_end_ms = win[nw - 1].to_ms - 1;
    r->pitr_window_ms = rd_spans_length(win, nw);
    free(r->pitr_proven);
    r->pitr_proven = in;
    r->npitr_proven = ni;
    in = NULL;
    if (dt->sample.pitr != RD_PITR_NONE) {
        r->pitr_this_from_ms = dt->points.items[dt->sample.index].created_ms;
        r->pitr_this_to_ms = dt->sample.target_ms;
    }
out:
    free(win);
    free(proven);
    free(in);
}

void rd_drill_record_sampling(rd_drill_target *dt, const size_t *counts)
{
    record_coverage(dt, counts);
    record_pitr_coverage(dt);
    record_reason(dt, counts);
}

/* --- failures of a phase --- */

/* The target failed (or could not run) at a phase: a result of `type` on
 * `object` makes it visible as a test case, the target's error says why. */
void rd_drill_phase_fail(rd_drill_target *dt, const char *type, const char *object,
                         const char *phase, rd_verdict v, const char *msg)
{
    rd_check_result *c = rd_target_add_check(dt->res, type, type, object, v, "");
    if (c) {
        rd_check_set_message(c, "%s: %s", phase, msg);
        rd_check_add_prop(c, "phase", "%s", phase);
    }
    if (!dt->res->error)
        rd_target_set_error(dt->res, "%s: %s", phase, msg);
    rd_log_error("%s: %s: %s", dt->t->name, phase, msg);
}

/* The same as a "restore" result on the recovery point. */
void rd_drill_target_fail(rd_drill_target *dt, const char *phase, rd_verdict v, const char *msg)
{
    rd_drill_phase_fail(dt, "restore", dt->point ? dt->point->id : "(no recovery point)", phase, v,
                        msg);
}
