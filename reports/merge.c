/* merge.c: merge the reports of shards (`run --shard K/N`) into one drill:
 * deep copies of every target in order, times spanning all shards, the
 * first report's identity, the worst status. */
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/report.h"

/* Copy a string into *dst; 0 on allocation failure. */
static int dup_into(char **dst, const char *src)
{
    *dst = rd_strdup(src);
    return !src || *dst;
}

static int copy_check(rd_check_result *d, const rd_check_result *s)
{
    memset(d, 0, sizeof *d);
    d->status = s->status;
    d->seconds = s->seconds;
    if (!dup_into(&d->id, s->id) || !dup_into(&d->type, s->type) ||
        !dup_into(&d->check, s->check) || !dup_into(&d->object, s->object) ||
        !dup_into(&d->message, s->message) || !dup_into(&d->expected, s->expected) ||
        !dup_into(&d->actual, s->actual) || !dup_into(&d->output, s->output) ||
        !dup_into(&d->database, s->database))
        return 0;
    if (s->nprops) {
        d->props = calloc(s->nprops, sizeof *d->props);
        if (!d->props)
            return 0;
        d->nprops = s->nprops;
        for (size_t i = 0; i < s->nprops; i++)
            if (!dup_into(&d->props[i].name, s->props[i].name) ||
                !dup_into(&d->props[i].value, s->props[i].value))
                return 0;
    }
    return 1;
}

/* Copy target s into d (a fresh target from rd_report_add_target, whose
 * name and engine are already set). 0 on allocation failure; d stays
 * freeable either way. */
/* Append copies of v[0..n) to *dv; 0 on allocation failure. */
static int copy_strv(char ***dv, size_t *dn, char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rd_strv_push(dv, dn, v[i], NULL) != RD_OK)
            return 0;
    return 1;
}

static int copy_target(rd_target_result *d, const rd_target_result *s)
{
    d->status = s->status;
    d->started_at_ms = s->started_at_ms;
    d->finished_at_ms = s->finished_at_ms;
    d->point.created_at_ms = s->point.created_at_ms;
    d->point.bytes = s->point.bytes;
    d->point.target_time_ms = s->point.target_time_ms;
    d->point.reached_time_ms = s->point.reached_time_ms;
    d->sampling_candidates = s->sampling_candidates;
    d->sampling_seed = s->sampling_seed;
    d->pitr_target_ms = s->pitr_target_ms;
    d->rto = s->rto;
    d->data_ready_seconds = s->data_ready_seconds;
    d->rpo = s->rpo;
    d->rpo_exposure_seconds = s->rpo_exposure_seconds;
    d->newest_age_seconds = s->newest_age_seconds;
    d->data_lag_seconds = s->data_lag_seconds;
    d->databases_total = s->databases_total;
    d->databases_matched = s->databases_matched;
    d->config_error = s->config_error;
    for (size_t i = 0; i < s->ndatabases; i++)
        if (rd_target_add_database(d, s->databases[i], NULL) != RD_OK)
            return 0;
    if (!dup_into(&d->point.id, s->point.id) || !dup_into(&d->point.location, s->point.location) ||
        !dup_into(&d->point.sha256, s->point.sha256) ||
        !dup_into(&d->point.format, s->point.format) || !dup_into(&d->point.base, s->point.base) ||
        !dup_into(&d->point.wal_first, s->point.wal_first) ||
        !dup_into(&d->point.wal_last, s->point.wal_last) ||
        !dup_into(&d->sampling_strategy, s->sampling_strategy) ||
        !dup_into(&d->sampling_reason, s->sampling_reason) ||
        !dup_into(&d->rpo_basis, s->rpo_basis) || !dup_into(&d->error, s->error) ||
        !dup_into(&d->notes, s->notes) || !dup_into(&d->scratch_type, s->scratch_type) ||
        !dup_into(&d->isolation, s->isolation) || !dup_into(&d->coverage_map, s->coverage_map) ||
        !dup_into(&d->kept_connect, s->kept_connect) ||
        !copy_strv(&d->controls, &d->ncontrols, s->controls, s->ncontrols))
        return 0;
    for (size_t i = 0; i < s->nphases; i++) {
        rd_phase *p =
            rd_target_add_phase(d, s->phases[i].name, s->phases[i].seconds, s->phases[i].status);
        if (!p)
            return 0;
        p->started_at_ms = s->phases[i].started_at_ms;
        p->finished_at_ms = s->phases[i].finished_at_ms;
    }
    d->kept_until_ms = s->kept_until_ms;
    d->pitr_window_start_ms = s->pitr_window_start_ms;
    d->pitr_window_end_ms = s->pitr_window_end_ms;
    d->pitr_window_ms = s->pitr_window_ms;
    d->pitr_this_from_ms = s->pitr_this_from_ms;
    d->pitr_this_to_ms = s->pitr_this_to_ms;
    if (s->npitr_proven) {
        if (!(d->pitr_proven = calloc(s->npitr_proven, sizeof *d->pitr_proven)))
            return 0;
        memcpy(d->pitr_proven, s->pitr_proven, s->npitr_proven * sizeof *d->pitr_proven);
        d->npitr_proven = s->npitr_proven;
    }
    if (s->nchecks) {
        d->checks = calloc(s->nchecks, sizeof *d->checks);
        if (!d->checks)
            return 0;
        for (size_t i = 0; i < s->nchecks; i++) {
            d->nchecks = i + 1; /* so a partial copy is freed */
            if (!copy_check(&d->checks[i], &s->checks[i]))
                return 0;
        }
    }
    return 1;
}

rd_status rd_report_merge(rd_report *const *reports, size_t n, rd_report **out, rd_error *err)
{
    rd_status st = RD_OK;
    rd_report *m = NULL;
    if (n == 0 || !reports[0])
        return RD_ERR(err, RD_ERR_USAGE, "no reports to merge");
    if (!(m = rd_report_new()))
        goto oom;
    const rd_report *first = reports[0];
    m->seed = first->seed;
    m->status = RD_PASSED;
    if (!dup_into(&m->tool_version, first->tool_version) ||
        !dup_into(&m->drill_id, first->drill_id) || !dup_into(&m->name, first->name) ||
        !dup_into(&m->host, first->host) || !dup_into(&m->user, first->user) ||
        !dup_into(&m->config_path, first->config_path) ||
        !dup_into(&m->config_sha256, first->config_sha256) ||
        !dup_into(&m->ci_job_url, first->ci_job_url) ||
        !copy_strv(&m->controls, &m->ncontrols, first->controls, first->ncontrols))
        goto oom; /* not signing_key: a merged report is signed only when signed again */
    for (size_t i = 0; i < n; i++) {
        const rd_report *r = reports[i];
        if (r->started_at_ms && (!m->started_at_ms || r->started_at_ms < m->started_at_ms))
            m->started_at_ms = r->started_at_ms;
        if (r->finished_at_ms > m->finished_at_ms)
            m->finished_at_ms = r->finished_at_ms;
        m->status = rd_verdict_worse(m->status, r->status == RD_SKIPPED ? RD_PASSED : r->status);
        for (size_t j = 0; j < r->ntargets; j++) {
            const rd_target_result *s = &r->targets[j];
            rd_target_result *d = rd_report_add_target(m, s->name, s->engine);
            if (!d || !copy_target(d, s))
                goto oom;
        }
    }
    rd_report_settle(m);
    *out = m;
    return RD_OK;
oom:
    rd_report_free(m);
    st = RD_ERR(err, RD_ERR_NOMEM, "out of memory merging reports");
    return st;
}
