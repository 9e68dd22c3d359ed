/* html_evidence.c: the parts of the HTML evidence an auditor looks for
 * first: a one-screen summary of every target (verdict, RTO, RPO,
 * objectives, trend against the previous passed drill), the drill's record (who,
 * configuration sha256, tool, CI job, signing key, controls) and each
 * target's record (isolation, controls). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

/* Changes within this share of the previous RTO count as steady. */
#define TREND_STEADY 0.10

static rd_status esc(rd_strbuf *sb, const char *s, rd_error *err)
{
    return rd_xml_escape(sb, s ? s : "", 0, err);
}

static rd_status join(rd_strbuf *sb, char *const *v, size_t n, rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; i < n; i++) {
        if (i)
            TRY(rd_strbuf_append(sb, ", ", err));
        TRY(esc(sb, v[i], err));
    }
out:
    return st;
}

int rd_report_coverage(const rd_target_result *t, size_t *points, size_t *verified)
{
    int passed = rd_report_target_status(t) == RD_PASSED;
    *points = *verified = 0;
    if (!t->coverage_map)
        return 0;
    for (const char *c = t->coverage_map; *c; c++) {
        (*points)++;
        if (*c == 'V' || *c == 'B' || (*c == 'T' && passed))
            (*verified)++;
    }
    return 1;
}

int rd_report_pitr_share(const rd_target_result *t, double *before, double *with_this)
{
    if (t->pitr_window_ms <= 0)
        return 0;
    int64_t len = rd_spans_length(t->pitr_proven, t->npitr_proven);
    *before = (double)len / (double)t->pitr_window_ms;
    *with_this = *before;
    if (rd_report_target_status(t) == RD_PASSED && t->pitr_this_to_ms > 0) {
        rd_span *all = calloc(t->npitr_proven + 1, sizeof *all);
        if (!all)
            return 1;
        if (t->npitr_proven)
            memcpy(all, t->pitr_proven, t->npitr_proven * sizeof *all);
        int64_t from = t->pitr_this_from_ms > t->pitr_window_start_ms ? t->pitr_this_from_ms
                                                                      : t->pitr_window_start_ms;
        int64_t to =
            t->pitr_this_to_ms < t->pitr_window_end_ms ? t->pitr_this_to_ms : t->pitr_window_end_ms;
        all[t->npitr_proven].from_ms = from;
        all[t->npitr_proven].to_ms = to + 1;
        size_t n = rd_spans_merge(all, t->npitr_proven + 1);
        *with_this = (double)rd_spans_length(all, n) / (double)t->pitr_window_ms;
        if (*with_this > 1)
            *with_this = 1;
        free(all);
    }
    return 1;
}

/* x (0..1000) of an instant in the PITR window. */
static double pitr_x(const rd_target_result *t, int64_t ms)
{
    double span = (double)(t->pitr_window_end_ms - t->pitr_window_start_ms);
    double x = span > 0 ? 1000.0 * (double)(ms - t->pitr_window_start_ms) / span : 0;
    return x < 0 ? 0 : x > 1000 ? 1000 : x;
}

/* The PITR window as a bar, oldest left: green the stretches earlier passed
 * drills proved restorable, blue (red when it failed) this drill's stretch
 * drawn over it, grey never proven. */
static rd_status pitr_strip(rd_strbuf *sb, const rd_target_result *t, rd_error *err)
{
    rd_status st = RD_OK;
    double before = 0, with = 0;
    char b1[RD_TIME_BUFSZ], b2[RD_TIME_BUFSZ], h[64];
    int passed = rd_report_target_status(t) == RD_PASSED;
    if (!rd_report_pitr_share(t, &before, &with))
        goto out;
    TRY(rd_strbuf_append(sb,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1000 18\" "
                         "width=\"100%\" height=\"18\" preserveAspectRatio=\"none\" role=\"img\" "
                         "aria-label=\"PITR window coverage\">"
                         "<rect x=\"0\" y=\"0\" width=\"1000\" height=\"18\" fill=\"#d0d7de\"/>",
                         err));
    for (size_t i = 0; i < t->npitr_proven; i++) {
        double x0 = pitr_x(t, t->pitr_proven[i].from_ms);
        double x1 = pitr_x(t, t->pitr_proven[i].to_ms - 1);
        TRY(rd_strbuf_appendf(sb, err,
                              "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"18\" "
                              "fill=\"#1a7f37\"/>",
                              x0, x1 - x0 > 1 ? x1 - x0 : 1));
    }
    if (t->pitr_this_to_ms > 0) {
        double x0 = pitr_x(t, t->pitr_this_from_ms), x1 = pitr_x(t, t->pitr_this_to_ms);
        TRY(rd_strbuf_appendf(sb, err,
                              "<rect x=\"%.2f\" y=\"5\" width=\"%.2f\" height=\"8\" "
                              "fill=\"%s\"/>",
                              x0, x1 - x0 > 2 ? x1 - x0 : 2, passed ? "#0969da" : "#cf222e"));
    }
    TRY(rd_strbuf_appendf(
        sb, err,
        "</svg>\n<p>PITR window %s to %s (%s restorable): %.1f%% proven restorable by earlier "
        "drills, %.1f%% with this drill. <span class=\"muted\">Green: proven by a passed drill "
        "in the history (a drill that recovered a base backup to T proves the stretch from the "
        "backup's end to T); %s: this drill's stretch; grey: never proven.</span></p>\n",
        rd_time_format(t->pitr_window_start_ms, b1, sizeof b1),
        rd_time_format(t->pitr_window_end_ms, b2, sizeof b2),
        rd_duration_human((double)t->pitr_window_ms / 1000.0, h, sizeof h), 100.0 * before,
        100.0 * with, passed ? "blue" : "red"));
out:
    return st;
}

/* One box per recovery point of the window, oldest left: green verified,
 * blue this drill (when it passed), grey never verified. */
rd_status rd_html_coverage(rd_strbuf *sb, const rd_target_result *t, rd_error *err)
{
    rd_status st = RD_OK;
    size_t points, verified;
    int passed = rd_report_target_status(t) == RD_PASSED;
    TRY(rd_strbuf_append(sb, "<h3>Coverage of the retention window</h3>\n", err));
    if (!rd_report_coverage(t, &points, &verified) || points == 0) {
        TRY(rd_strbuf_append(sb, "<p class=\"muted\">unknown: no recovery point was listed</p>\n",
                             err));
        goto out;
    }
    double w = 1000.0 / (double)points;
    TRY(rd_strbuf_append(sb,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1000 18\" "
                         "width=\"100%\" height=\"18\" preserveAspectRatio=\"none\" role=\"img\" "
                         "aria-label=\"coverage\">",
                         err));
    for (size_t i = 0; i < points; i++) {
        char c = t->coverage_map[i];
        const char *fill = c == 'V' || c == 'B' ? "#1a7f37"
                           : c == 'T'           ? (passed ? "#0969da" : "#cf222e")
                                                : "#d0d7de";
        TRY(rd_strbuf_appendf(sb, err,
                              "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"18\" "
                              "fill=\"%s\" stroke=\"#fff\" stroke-width=\"%s\"/>",
                              w * (double)i, w, fill, points > 200 ? "0" : "1"));
    }
    TRY(rd_strbuf_appendf(sb, err,
                          "</svg>\n<p>%zu of %zu recovery points in the window proven "
                          "restorable (%.0f%%); oldest on the left. <span class=\"muted\">Green: "
                          "verified by a passed drill in the history; blue: this drill; grey: "
                          "never verified.</span></p>\n",
                          verified, points, 100.0 * (double)verified / (double)points));
    TRY(pitr_strip(sb, t, err));
out:
    return st;
}

int rd_html_trend(double previous, double current)
{
    if (previous < 0 || current < 0)
        return 0;
    if (previous == 0)
        return current > 0 ? 1 : 0;
    double d = (current - previous) / previous;
    return d > TREND_STEADY ? 1 : d < -TREND_STEADY ? -1 : 0;
}

/* The RTO of t's last passed drill before r in the history (a failed
 * drill's "RTO" is only the time it ran); < 0 when none. */
static double previous_rto(const rd_report *r, const rd_target_result *t, const char *history)
{
    rd_hist_sample *s = NULL;
    size_t n = 0;
    double prev = -1;
    rd_error e;
    if (rd_history_series(history, t->name, &s, &n, &e) != RD_OK)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (r->drill_id && strcmp(s[i].drill_id, r->drill_id) == 0)
            break; /* drills after this one do not count */
        if (s[i].rto >= 0 && s[i].status == RD_PASSED)
            prev = s[i].rto;
    }
    free(s);
    return prev;
}

static rd_status objective_cell(rd_strbuf *sb, const rd_objective *o, rd_error *err)
{
    char a[64], b[64];
    const char *cls = o->target_seconds < 0 ? "" : o->met ? " class=\"ok\"" : " class=\"nok\"";
    return rd_strbuf_appendf(
        sb, err, "<td class=\"num\"><span%s>%s</span></td><td class=\"num\">%s%s</td>", cls,
        o->seconds >= 0 ? rd_duration_human(o->seconds, a, sizeof a) : "not measured",
        o->target_seconds >= 0 ? rd_duration_format(o->target_seconds, b, sizeof b) : "none",
        o->target_seconds < 0 ? ""
        : o->met              ? " &#10003;"
                              : " &#10007;");
}

rd_status rd_html_summary(rd_strbuf *sb, const rd_report *r, const char *history, rd_error *err)
{
    rd_status st = RD_OK;
    TRY(rd_strbuf_append(
        sb,
        "<section class=\"summary\"><h2>Summary</h2>\n"
        "<table><tr><th>Target</th><th>Verdict</th><th>Recovery point</th>"
        "<th class=\"num\">RTO</th><th class=\"num\">RTO objective</th>"
        "<th class=\"num\">RPO</th><th class=\"num\">RPO objective</th>"
        "<th>RTO trend</th><th class=\"num\">Window coverage</th><th>Controls</th></tr>\n",
        err));
    for (size_t i = 0; i < r->ntargets; i++) {
        const rd_target_result *t = &r->targets[i];
        double prev = previous_rto(r, t, history);
        int trend = rd_html_trend(prev, t->rto.seconds);
        TRY(rd_strbuf_append(sb, "<tr><td>", err));
        TRY(esc(sb, t->name, err));
        TRY(rd_strbuf_appendf(sb, err,
                              "</td><td><span class=\"badge %s\">%s</span></td>"
                              "<td class=\"mono\">",
                              rd_verdict_name(rd_report_target_status(t)),
                              rd_verdict_name(rd_report_target_status(t))));
        TRY(esc(sb, t->point.id ? t->point.id : "none", err));
        TRY(rd_strbuf_append(sb, "</td>", err));
        TRY(objective_cell(sb, &t->rto, err));
        TRY(objective_cell(sb, &t->rpo, err));
        if (prev < 0 || t->rto.seconds < 0)
            TRY(rd_strbuf_append(sb, "<td class=\"muted\">&#8212; no earlier drill</td>", err));
        else
            TRY(rd_strbuf_appendf(sb, err, "<td title=\"previous passed drill: %.1f s\">%s</td>",
                                  prev,
                                  trend > 0   ? "<span class=\"nok\">&#8593; slower</span>"
                                  : trend < 0 ? "<span class=\"ok\">&#8595; faster</span>"
                                              : "&#8594; steady"));
        size_t cp, cv;
        double pb, pw;
        if (rd_report_pitr_share(t, &pb, &pw))
            TRY(rd_strbuf_appendf(sb, err, "<td class=\"num\">%.0f%% of PITR window</td>",
                                  100.0 * pw));
        else if (rd_report_coverage(t, &cp, &cv) && cp)
            TRY(rd_strbuf_appendf(sb, err, "<td class=\"num\">%zu/%zu</td>", cv, cp));
        else
            TRY(rd_strbuf_append(sb, "<td class=\"num muted\">unknown</td>", err));
        TRY(rd_strbuf_append(sb, "<td>", err));
        TRY(join(sb, t->controls, t->ncontrols, err));
        TRY(rd_strbuf_append(sb, "</td></tr>\n", err));
    }
    TRY(rd_strbuf_append(
        sb,
        "</table>\n<p class=\"muted\">RTO: from the start of the target's drill to the end of "
        "its checks. RPO: data that would have been lost. Trend: this RTO against the previous "
        "passed drill of the target in the history (steady within 10%).</p></section>\n",
        err));
out:
    return st;
}

rd_status rd_html_kv_row(rd_strbuf *sb, const char *key, const char *value, int mono,
                         const char *absent, rd_error *err)
{
    rd_status st = RD_OK;
    TRY(rd_strbuf_append(sb, "<tr><th>", err));
    TRY(esc(sb, key, err));
    TRY(rd_strbuf_append(sb, mono ? "</th><td class=\"mono\">" : "</th><td>", err));
    if (value)
        TRY(esc(sb, value, err));
    else {
        TRY(rd_strbuf_append(sb, "<span class=\"muted\">", err));
        TRY(rd_strbuf_append(sb, absent, err));
        TRY(rd_strbuf_append(sb, "</span>", err));
    }
    TRY(rd_strbuf_append(sb, "</td></tr>\n", err));
out:
    return st;
}

/* One row of the record table. */
static rd_status row(rd_strbuf *sb, const char *key, const char *value, int mono, rd_error *err)
{
    return rd_html_kv_row(sb, key, value, mono, "none", err);
}

rd_status rd_html_record_rows(rd_strbuf *sb, const rd_report *r, rd_error *err)
{
    rd_status st = RD_OK;
    char *url = rd_text_redact_dup(r->ci_job_url);
    TRY(row(sb, "Configuration sha256", r->config_sha256, 1, err));
    TRY(row(sb, "CI job", url, 1, err));
    TRY(row(sb, "Signed by key",
            r->signing_key ? r->signing_key : "not signed (no output.sign.key)", 1, err));
    TRY(rd_strbuf_append(sb, "<tr><th>Controls</th><td>", err));
    if (r->ncontrols)
        TRY(join(sb, r->controls, r->ncontrols, err));
    else
        TRY(rd_strbuf_append(sb, "<span class=\"muted\">none configured</span>", err));
    TRY(rd_strbuf_append(sb, "</td></tr>\n", err));
out:
    free(url);
    return st;
}

rd_status rd_html_target_record(rd_strbuf *sb, const rd_target_result *t, rd_error *err)
{
    rd_status st = RD_OK;
    TRY(rd_strbuf_append(sb, "<h3>Isolation and controls</h3><table class=\"kv\">\n", err));
    TRY(row(sb, "Scratch instance", t->scratch_type ? t->scratch_type : "none provisioned", 0,
            err));
    TRY(row(sb, "Not the reference server because",
            t->isolation ? t->isolation : "nothing was restored", 0, err));
    if (t->kept_connect) {
        char when[RD_TIME_BUFSZ];
        char *red = rd_text_redact_dup(t->kept_connect);
        TRY(rd_strbuf_append(sb, "<tr><th>Scratch instance kept</th><td class=\"mono\">", err));
        st = rd_xml_escape(sb, red ? red : "", 0, err);
        free(red);
        if (st != RD_OK)
            goto out;
        if (t->kept_until_ms)
            TRY(rd_strbuf_appendf(sb, err,
                                  "<div class=\"muted\">until %s (then removed by "
                                  "restoredrill gc)</div>",
                                  rd_time_format(t->kept_until_ms, when, sizeof when)));
        TRY(rd_strbuf_append(sb, "</td></tr>\n", err));
    }
    TRY(rd_strbuf_append(sb, "<tr><th>Controls these results support</th><td>", err));
    if (t->ncontrols)
        TRY(join(sb, t->controls, t->ncontrols, err));
    else
        TRY(rd_strbuf_append(sb, "<span class=\"muted\">none configured</span>", err));
    TRY(rd_strbuf_append(sb, "</td></tr>\n</table>\n", err));
out:
    return st;
}
