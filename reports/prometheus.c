/* prometheus.c: node_exporter textfile with per-target gauges, written
 * atomically. The last success time survives failing runs: it is read back
 * from the previous file for targets that did not pass this time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"

#define LAST_SUCCESS "restoredrill_last_success_timestamp_seconds"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

/* Label value escaping per the exposition format: \ " and newline. */
static rd_status label(rd_strbuf *sb, const char *v, rd_error *err)
{
    rd_status st = RD_OK;
    char *clean = rd_text_utf8_dup(v ? v : "");
    if (!clean)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory writing metrics");
    for (const char *p = clean; *p && st == RD_OK; p++) {
        if (*p == '\\')
            st = rd_strbuf_append(sb, "\\\\", err);
        else if (*p == '"')
            st = rd_strbuf_append(sb, "\\\"", err);
        else if (*p == '\n')
            st = rd_strbuf_append(sb, "\\n", err);
        else
            st = rd_strbuf_append_char(sb, *p, err);
    }
    free(clean);
    return st;
}

/* The value of LAST_SUCCESS{target="name"} in a previous file; -1 if none. */
static double previous_success(const char *prev, const char *name)
{
    static const char prefix[] = LAST_SUCCESS "{target=\"";
    for (const char *line = prev; line && *line;) {
        const char *next = strchr(line, '\n');
        if (strncmp(line, prefix, sizeof prefix - 1) == 0) {
            const char *p = line + sizeof prefix - 1;
            const char *n = name;
            int ok = 1;
            while (ok && *p && *p != '"' && *p != '\n') {
                char c = *p++;
                if (c == '\\') {
                    c = *p == 'n' ? '\n' : *p;
                    if (*p)
                        p++;
                }
                ok = *n && *n == c;
                if (ok)
                    n++;
            }
            if (ok && *n == '\0' && p[0] == '"' && p[1] == '}' && p[2] == ' ') {
                char *end = NULL;
                double v = strtod(p + 3, &end);
                if (end != p + 3 && isfinite(v) && v >= 0)
                    return v;
            }
        }
        line = next ? next + 1 : NULL;
    }
    return -1;
}

typedef struct metric {
    const char *name;
    const char *help;
} metric;

static const metric metrics[] = {
    {"restoredrill_last_run_timestamp_seconds", "Unix time the last drill of the target finished"},
    {LAST_SUCCESS, "Unix time the last passing drill of the target finished"},
    {"restoredrill_success", "1 when the last drill of the target passed, else 0"},
    {"restoredrill_rto_seconds", "Measured recovery time of the last drill"},
    {"restoredrill_rto_target_seconds", "Recovery time objective"},
    {"restoredrill_rpo_seconds", "Measured recovery point (data loss window) of the last drill"},
    {"restoredrill_rpo_target_seconds", "Recovery point objective"},
    {"restoredrill_checks", "Check results of the last drill by status"},
};

static double finished_s(const rd_report *r, const rd_target_result *t)
{
    int64_t ms = t->finished_at_ms ? t->finished_at_ms : r->finished_at_ms;
    if (!ms)
        ms = rd_wall_now_ms();
    return (double)ms / 1000.0;
}

/* The value of metric m for target t; < 0 means no sample. */
static double value_of(size_t m, const rd_report *r, const rd_target_result *t, const char *prev)
{
    int passed = rd_report_target_status(t) == RD_PASSED;
    switch (m) {
    case 0:
        return finished_s(r, t);
    case 1:
        return passed ? finished_s(r, t) : previous_success(prev, t->name);
    case 2:
        return passed ? 1 : 0;
    case 3:
        return t->rto.seconds;
    case 4:
        return t->rto.target_seconds;
    case 5:
        return t->rpo.seconds;
    case 6:
        return t->rpo.target_seconds;
    }
    return -1;
}

static rd_status render(const rd_report *r, const char *prev, rd_strbuf *sb, rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) {
        int header = 0;
        for (size_t i = 0; i < r->ntargets; i++) {
            const rd_target_result *t = &r->targets[i];
            int is_checks = strcmp(metrics[m].name, "restoredrill_checks") == 0;
            double v = is_checks ? 0 : value_of(m, r, t, prev);
            if (!is_checks && v < 0)
                continue;
            if (!header) {
                TRY(rd_strbuf_appendf(sb, err, "# HELP %s %s\n# TYPE %s gauge\n", metrics[m].name,
                                      metrics[m].help, metrics[m].name));
                header = 1;
            }
            if (!is_checks) {
                TRY(rd_strbuf_appendf(sb, err, "%s{target=\"", metrics[m].name));
                TRY(label(sb, t->name, err));
                TRY(rd_strbuf_append(sb, "\"} ", err));
                TRY(rd_text_append_secs(sb, v, err));
                TRY(rd_strbuf_append_char(sb, '\n', err));
                continue;
            }
            static const rd_verdict kinds[] = {RD_PASSED, RD_FAILED, RD_ERROR, RD_SKIPPED};
            for (size_t k = 0; k < 4; k++) {
                size_t n = 0;
                for (size_t j = 0; j < t->nchecks; j++)
                    if (t->checks[j].status == kinds[k] ||
                        (kinds[k] == RD_ERROR && t->checks[j].status == RD_ABORTED))
                        n++;
                TRY(rd_strbuf_appendf(sb, err, "%s{target=\"", metrics[m].name));
                TRY(label(sb, t->name, err));
                TRY(rd_strbuf_appendf(sb, err, "\",status=\"%s\"} %zu\n", rd_verdict_name(kinds[k]),
                                      n));
            }
        }
    }
out:
    return st;
}

/* restoredrill_control_info{target, control} 1: the controls each
 * target's results support. */
static rd_status controls(const rd_report *r, rd_strbuf *sb, rd_error *err)
{
    rd_status st = RD_OK;
    int header = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        for (size_t k = 0; k < r->targets[i].ncontrols; k++) {
            if (!header) {
                TRY(rd_strbuf_append(sb,
                                     "# HELP restoredrill_control_info Audit controls the "
                                     "target's drill results support (configuration controls)\n"
                                     "# TYPE restoredrill_control_info gauge\n",
                                     err));
                header = 1;
            }
            TRY(rd_strbuf_append(sb, "restoredrill_control_info{target=\"", err));
            TRY(label(sb, r->targets[i].name, err));
            TRY(rd_strbuf_append(sb, "\",control=\"", err));
            TRY(label(sb, r->targets[i].controls[k], err));
            TRY(rd_strbuf_append(sb, "\"} 1\n", err));
        }
    }
out:
    return st;
}

/* restoredrill_rto_forecast_bytes per target whose history gives one. */
static rd_status forecast(const rd_report *r, const char *history, rd_strbuf *sb, rd_error *err)
{
    rd_status st = RD_OK;
    int header = 0;
    for (size_t i = 0; history && i < r->ntargets; i++) {
        rd_hist_sample *s = NULL;
        size_t n = 0;
        rd_forecast f;
        rd_error e;
        if (rd_history_series(history, r->targets[i].name, &s, &n, &e) != RD_OK)
            continue; /* an unreadable history gives no forecast; the HTML says why */
        rd_forecast_fit(s, n, &f);
        free(s);
        if (f.bytes_at_objective < 0)
            continue;
        if (!header) {
            TRY(rd_strbuf_append(sb,
                                 "# HELP restoredrill_rto_forecast_bytes Recovery point size at "
                                 "which the RTO fitted over the history reaches the objective "
                                 "(absent: too few drills, no growth or no objective)\n"
                                 "# TYPE restoredrill_rto_forecast_bytes gauge\n",
                                 err));
            header = 1;
        }
        TRY(rd_strbuf_append(sb, "restoredrill_rto_forecast_bytes{target=\"", err));
        TRY(label(sb, r->targets[i].name, err));
        TRY(rd_strbuf_appendf(sb, err, "\"} %.0f\n", floor(f.bytes_at_objective)));
    }
out:
    return st;
}

rd_status rd_report_to_prometheus(const rd_report *r, const char *previous, char **out,
                                  rd_error *err)
{
    return rd_report_to_prometheus_history(r, previous, NULL, out, err);
}

rd_status rd_report_to_prometheus_history(const rd_report *r, const char *previous,
                                          const char *history, char **out, rd_error *err)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    rd_status st = render(r, previous, &sb, err);
    if (st == RD_OK)
        st = controls(r, &sb, err);
    if (st == RD_OK)
        st = forecast(r, history, &sb, err);
    if (st == RD_OK && !(*out = rd_strbuf_detach(&sb)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing metrics");
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_report_write_prometheus(const rd_report *r, const char *path, rd_error *err)
{
    return rd_report_write_prometheus_history(r, NULL, path, err);
}

rd_status rd_report_write_prometheus_history(const rd_report *r, const char *history,
                                             const char *path, rd_error *err)
{
    char *prev = NULL, *doc = NULL;
    size_t len = 0;
    rd_status st;
    if (rd_fs_exists(path) && rd_fs_read_file(path, 16 * 1024 * 1024, &prev, &len, NULL) != RD_OK)
        prev = NULL; /* an unreadable old file only loses the last success time */
    if ((st = rd_report_to_prometheus_history(r, prev, history, &doc, err)) == RD_OK)
        st = rd_fs_write_atomic(path, doc, strlen(doc), 0644, err);
    free(prev);
    free(doc);
    return st;
}
