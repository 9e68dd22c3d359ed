/* html.c: the HTML evidence report for auditors: one self-contained,
 * printable file (inline CSS and SVG, no scripts, no external assets). Every
 * value from the model is escaped. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

#define OUTPUT_TAIL_BYTES 8192

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

static const char css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;"
    "margin:0 auto;max-width:1180px;padding:24px}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:0}h3{font-size:15px;margin:18px 0 "
    "6px}\n"
    "table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;vertical-align:"
    "top;padding:4px 8px;border-bottom:1px solid #d8dee4}th{background:#f3f5f7;font-weight:600}\n"
    "table.kv th{width:210px;background:none;color:#57606a;font-weight:500}\n"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:700;"
    "font-size:13px;text-transform:uppercase;letter-spacing:.03em;color:#fff}\n"
    ".passed{background:#1a7f37}.failed{background:#cf222e}.error{background:#9a3412}"
    ".skipped{background:#6e7781}.aborted{background:#6639ba}\n"
    "tr.bad td{background:#fff0f0}tr.err td{background:#fff6e5}\n"
    ".target{border:1px solid #d0d7de;border-radius:8px;padding:16px;margin:20px 0;"
    "break-inside:avoid-page}\n"
    ".thead{display:flex;gap:12px;align-items:center}\n"
    ".objs{display:flex;gap:12px;margin:12px 0}.obj{flex:1;border-radius:8px;padding:10px 14px;"
    "border:2px solid}\n"
    ".obj .big{font-size:22px;font-weight:700}.obj.met{border-color:#1a7f37;background:#eefbf1}"
    ".obj.notmet{border-color:#cf222e;background:#fff0f0}.obj.none{border-color:#afb8c1;"
    "background:#f6f8fa}\n"
    ".errbox{border-left:4px solid #cf222e;background:#fff0f0;padding:8px 12px;margin:8px 0;"
    "white-space:pre-wrap}\n"
    "pre.out{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:6px;margin:4px "
    "0;font-size:12px;max-height:none}\n"
    ".muted{color:#57606a}.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;"
    "word-break:break-all}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:16px}figure.chart{margin:0}figcaption{font-weight:"
    "600}\n"
    "svg .grid{stroke:#d8dee4}svg .axis{font-size:11px;fill:#57606a}svg .objective{stroke:"
    "#cf222e;stroke-width:1.5}svg .obj{fill:#cf222e}\n"
    "svg .series{fill:none;stroke:#0969da;stroke-width:2}svg .fit{stroke:#8250df;stroke-width:"
    "1.5}svg circle.ok{fill:#1a7f37}"
    "svg circle.bad{fill:#cf222e}\n"
    "footer{margin-top:24px;color:#57606a;font-size:12px}\n"
    "tr.group th{background:#eaeef2;text-align:left;padding-top:10px}\n"
    ".ok{color:#1a7f37;font-weight:600}.nok{color:#cf222e;font-weight:700}\n"
    ".summary{margin:16px 0}.summary td.num,.summary th{white-space:nowrap}\n"
    "@page{size:A4;margin:14mm 12mm}\n"
    "@media print{body{max-width:none;padding:0;font-size:10.5px}"
    "header,.summary{break-after:avoid-page}.summary{break-after:page}"
    ".target{break-before:page;break-inside:auto;border:none;padding:0}"
    "table{page-break-inside:auto}tr,figure.chart,.objs{break-inside:avoid-page}"
    "thead{display:table-header-group}pre.out{max-height:none;overflow:visible}"
    ".charts{display:block}figure.chart{margin:6px 0}"
    "th{background:#eee !important}.badge,.obj,tr.bad td,tr.err td,.errbox{"
    "-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "a{color:inherit;text-decoration:none}footer{break-before:avoid-page}}\n";

static rd_status esc(rd_strbuf *sb, const char *s, rd_error *err)
{
    return rd_xml_escape(sb, s ? s : "", 0, err);
}

static rd_status kv(rd_strbuf *sb, const char *key, const char *value, int mono, rd_error *err)
{
    return rd_html_kv_row(sb, key, value, mono, "unknown", err);
}

/* kv() with the value's secrets masked (locations, paths). */
static rd_status kv_redacted(rd_strbuf *sb, const char *key, const char *value, int mono,
                             rd_error *err)
{
    char *red = rd_text_redact_dup(value);
    rd_status st = value && !red ? RD_ERR(err, RD_ERR_NOMEM, "out of memory writing html")
                                 : kv(sb, key, red, mono, err);
    free(red);
    return st;
}

static const char *time_or_null(int64_t ms, char *buf, size_t bufsz)
{
    return ms ? rd_time_format(ms, buf, bufsz) : NULL;
}

static const char *secs_or_null(double s, char *buf, size_t bufsz)
{
    return s >= 0 ? rd_duration_human(s, buf, bufsz) : NULL;
}

static rd_status badge(rd_strbuf *sb, rd_verdict v, rd_error *err)
{
    return rd_strbuf_appendf(sb, err, "<span class=\"badge %s\">%s</span>", rd_verdict_name(v),
                             rd_verdict_name(v));
}

static rd_status header(rd_strbuf *sb, const rd_report *r, rd_error *err)
{
    rd_status st = RD_OK;
    char a[RD_TIME_BUFSZ], b[RD_TIME_BUFSZ], d[64], seed[32];
    char *who = NULL;
    rd_report_summary s;
    rd_report_summarize(r, &s);
    TRY(rd_strbuf_append(sb, "<header><div class=\"thead\"><h1>Restore drill evidence: ", err));
    TRY(esc(sb, r->name ? r->name : "unnamed drill", err));
    TRY(rd_strbuf_append(sb, "</h1>", err));
    TRY(badge(sb, r->status, err));
    TRY(rd_strbuf_append(sb, "</div>\n<table class=\"kv\">\n", err));
    TRY(kv(sb, "Drill id", r->drill_id, 1, err));
    who = rd_asprintf("%s on %s", r->user ? r->user : "unknown user",
                      r->host ? r->host : "unknown host");
    if (!who) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing html");
        goto out;
    }
    TRY(kv(sb, "Run by", who, 0, err));
    TRY(kv(sb, "Started", time_or_null(r->started_at_ms, a, sizeof a), 0, err));
    TRY(kv(sb, "Finished", time_or_null(r->finished_at_ms, b, sizeof b), 0, err));
    TRY(kv(sb, "Duration",
           r->started_at_ms && r->finished_at_ms >= r->started_at_ms
               ? rd_duration_human((double)(r->finished_at_ms - r->started_at_ms) / 1000.0, d,
                                   sizeof d)
               : NULL,
           0, err));
    TRY(kv(sb, "Tool", r->tool_version ? r->tool_version : RD_VERSION, 0, err));
    snprintf(seed, sizeof seed, "%" PRIu64, r->seed);
    TRY(kv(sb, "Seed", seed, 1, err));
    TRY(kv_redacted(sb, "Configuration", r->config_path, 1, err));
    TRY(rd_html_record_rows(sb, r, err));
    TRY(rd_strbuf_appendf(sb, err,
                          "<tr><th>Summary</th><td>%zu of %zu targets passed; checks: %zu passed, "
                          "%zu failed, %zu errors, %zu skipped</td></tr>\n</table></header>\n",
                          s.targets_passed, s.targets, s.passed, s.failed, s.errors, s.skipped));
out:
    free(who);
    return st;
}

static rd_status objective_box(rd_strbuf *sb, const char *label, const rd_objective *o,
                               const char *extra, rd_error *err)
{
    rd_status st = RD_OK;
    char a[64], b[64];
    const char *cls = o->target_seconds < 0 ? "none" : o->met ? "met" : "notmet";
    const char *verdict = o->target_seconds < 0 ? "no objective" : o->met ? "met" : "NOT MET";
    TRY(rd_strbuf_appendf(
        sb, err, "<div class=\"obj %s\"><div>%s</div><div class=\"big\">%s", cls, label,
        o->seconds >= 0 ? rd_duration_human(o->seconds, a, sizeof a) : "not measured"));
    TRY(rd_strbuf_appendf(
        sb, err, " &middot; %s</div><div>objective: %s</div>", verdict,
        o->target_seconds >= 0 ? rd_duration_format(o->target_seconds, b, sizeof b) : "none set"));
    if (extra)
        TRY(rd_strbuf_appendf(sb, err, "<div class=\"muted\">%s</div>", extra));
    TRY(rd_strbuf_append(sb, "</div>\n", err));
out:
    return st;
}

static rd_status point_table(rd_strbuf *sb, const rd_target_result *t, rd_error *err)
{
    rd_status st = RD_OK;
    char a[RD_TIME_BUFSZ], p[RD_TIME_BUFSZ], n[64];
    TRY(rd_strbuf_append(sb, "<h3>Recovery point</h3><table class=\"kv\">\n", err));
    TRY(kv(sb, "Id", t->point.id, 1, err));
    TRY(kv(sb, "Created at", time_or_null(t->point.created_at_ms, a, sizeof a), 0, err));
    TRY(kv_redacted(sb, "Location", t->point.location, 1, err));
    TRY(kv(sb, "Format", t->point.format, 0, err));
    if (t->point.bytes >= 0)
        snprintf(n, sizeof n, "%" PRId64 " bytes", t->point.bytes);
    TRY(kv(sb, "Size", t->point.bytes >= 0 ? n : NULL, 0, err));
    TRY(kv(sb, "SHA-256", t->point.sha256, 1, err));
    if (t->point.base) {
        char w[160];
        TRY(kv(sb, "Base backup", t->point.base, 1, err));
        TRY(kv(sb, "Recovery target",
               t->point.target_time_ms ? time_or_null(t->point.target_time_ms, a, sizeof a)
                                       : "consistency point",
               0, err));
        snprintf(w, sizeof w, "%s .. %s", t->point.wal_first ? t->point.wal_first : "?",
                 t->point.wal_last ? t->point.wal_last : "?");
        TRY(kv(sb, "WAL replayed", w, 1, err));
        TRY(kv(sb, "Reached (last replayed commit)",
               time_or_null(t->point.reached_time_ms, p, sizeof p), 0, err));
    }
    TRY(kv(sb, "Sampling strategy", t->sampling_strategy, 0, err));
    TRY(kv(sb, "How it was chosen", t->sampling_reason, 0, err));
    snprintf(n, sizeof n, "%zu", t->sampling_candidates);
    TRY(kv(sb, "Candidates", n, 0, err));
    snprintf(n, sizeof n, "%" PRIu64, t->sampling_seed);
    TRY(kv(sb, "Sampling seed", n, 1, err));
    if (t->pitr_target_ms)
        TRY(kv(sb, "PITR target time", time_or_null(t->pitr_target_ms, p, sizeof p), 0, err));
    if (t->databases_total > 0) {
        rd_strbuf dbs;
        rd_strbuf_init(&dbs, 0);
        st = rd_strbuf_appendf(&dbs, err, "%zu drilled of %zu matching (%zu in the point)",
                               t->ndatabases, t->databases_matched, t->databases_total);
        for (size_t i = 0; st == RD_OK && i < t->ndatabases; i++)
            st = rd_strbuf_appendf(&dbs, err, "%s%s", i ? ", " : ": ", t->databases[i]);
        if (st == RD_OK)
            st = kv(sb, "Databases", dbs.data, 1, err);
        rd_strbuf_free(&dbs);
        if (st != RD_OK)
            goto out;
    }
    TRY(kv(sb, "RPO basis", t->rpo_basis, 0, err));
    TRY(kv(sb, "RPO exposure (largest gap)", secs_or_null(t->rpo_exposure_seconds, n, sizeof n), 0,
           err));
    TRY(kv(sb, "Newest point age", secs_or_null(t->newest_age_seconds, a, sizeof a), 0, err));
    TRY(kv(sb, "Data lag", secs_or_null(t->data_lag_seconds, p, sizeof p), 0, err));
    TRY(rd_strbuf_append(sb, "</table>\n", err));
out:
    return st;
}

static const char *const phase_colors[] = {"#0969da", "#8250df", "#bf3989", "#1a7f37",
                                           "#9a6700", "#cf222e", "#57606a"};

static rd_status phases(rd_strbuf *sb, const rd_target_result *t, rd_error *err)
{
    rd_status st = RD_OK;
    double total = 0, x = 0;
    char buf[64], t0[RD_TIME_BUFSZ], t1[RD_TIME_BUFSZ];
    TRY(rd_strbuf_append(sb, "<h3>Phases</h3>\n", err));
    if (t->nphases == 0) {
        TRY(rd_strbuf_append(sb, "<p class=\"muted\">no phase was timed</p>\n", err));
        goto out;
    }
    for (size_t i = 0; i < t->nphases; i++)
        if (t->phases[i].seconds > 0)
            total += t->phases[i].seconds;
    if (total > 0) {
        TRY(rd_strbuf_append(sb,
                             "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 1000 24\" "
                             "width=\"100%\" height=\"24\" preserveAspectRatio=\"none\" "
                             "role=\"img\" aria-label=\"phase durations\">",
                             err));
        for (size_t i = 0; i < t->nphases; i++) {
            double w = t->phases[i].seconds > 0 ? 1000.0 * t->phases[i].seconds / total : 0;
            if (w <= 0)
                continue;
            TRY(rd_strbuf_appendf(sb, err,
                                  "<rect x=\"%.2f\" y=\"0\" width=\"%.2f\" height=\"24\" "
                                  "fill=\"%s\"><title>",
                                  x, w, phase_colors[i % 7]));
            TRY(esc(sb, t->phases[i].name, err));
            TRY(rd_strbuf_append(sb, "</title></rect>", err));
            x += w;
        }
        TRY(rd_strbuf_append(sb, "</svg>\n", err));
    }
    TRY(rd_strbuf_append(
        sb,
        "<table><tr><th></th><th>Phase</th><th>Started</th><th>Finished</th>"
        "<th class=\"num\">Time</th><th class=\"num\">Share</th><th>Status</th></tr>\n",
        err));
    for (size_t i = 0; i < t->nphases; i++) {
        const rd_phase *p = &t->phases[i];
        TRY(rd_strbuf_appendf(sb, err,
                              "<tr><td><svg width=\"12\" height=\"12\"><rect width=\"12\" "
                              "height=\"12\" fill=\"%s\"/></svg></td><td>",
                              phase_colors[i % 7]));
        TRY(esc(sb, p->name, err));
        TRY(rd_strbuf_appendf(
            sb, err, "</td><td class=\"mono\">%s</td><td class=\"mono\">%s",
            p->started_at_ms ? rd_time_format(p->started_at_ms, t0, sizeof t0) : "",
            p->finished_at_ms ? rd_time_format(p->finished_at_ms, t1, sizeof t1) : ""));
        TRY(rd_strbuf_appendf(sb, err, "</td><td class=\"num\">%s</td><td class=\"num\">",
                              p->seconds >= 0 ? rd_duration_human(p->seconds, buf, sizeof buf)
                                              : "unknown"));
        if (total > 0 && p->seconds >= 0)
            TRY(rd_strbuf_appendf(sb, err, "%.1f%%", 100.0 * p->seconds / total));
        TRY(rd_strbuf_append(sb, "</td><td>", err));
        TRY(badge(sb, p->status, err));
        TRY(rd_strbuf_append(sb, "</td></tr>\n", err));
    }
    TRY(rd_strbuf_append(sb, "</table>\n", err));
out:
    return st;
}

/* Failures and errors first, then passed, then skipped; stable within. */
static int order(rd_verdict v)
{
    switch (v) {
    case RD_FAILED:
        return 0;
    case RD_ERROR:
    case RD_ABORTED:
        return 1;
    case RD_PASSED:
        return 2;
    case RD_SKIPPED:
        return 3;
    }
    return 1;
}

static rd_status check_row(rd_strbuf *sb, const rd_check_result *c, rd_error *err)
{
    rd_status st = RD_OK;
    char buf[64];
    const char *cls = c->status == RD_FAILED                               ? " class=\"bad\""
                      : (c->status == RD_ERROR || c->status == RD_ABORTED) ? " class=\"err\""
                                                                           : "";
    TRY(rd_strbuf_appendf(sb, err, "<tr%s><td>", cls));
    TRY(badge(sb, c->status, err));
    TRY(rd_strbuf_append(sb, "</td><td>", err));
    TRY(esc(sb, c->check, err));
    if (c->type && c->check && strcmp(c->type, c->check) != 0) {
        TRY(rd_strbuf_append(sb, " <span class=\"muted\">(", err));
        TRY(esc(sb, c->type, err));
        TRY(rd_strbuf_append(sb, ")</span>", err));
    }
    TRY(rd_strbuf_append(sb, "</td><td class=\"mono\">", err));
    TRY(esc(sb, c->object, err));
    TRY(rd_strbuf_appendf(sb, err, "</td><td class=\"num\">%s</td><td>",
                          c->seconds >= 0 ? rd_duration_human(c->seconds, buf, sizeof buf) : ""));
    TRY(esc(sb, c->message, err));
    for (size_t i = 0; i < c->nprops; i++) {
        TRY(rd_strbuf_append(sb, "<div class=\"muted\">", err));
        TRY(esc(sb, c->props[i].name, err));
        TRY(rd_strbuf_append(sb, ": ", err));
        TRY(esc(sb, c->props[i].value, err));
        TRY(rd_strbuf_append(sb, "</div>", err));
    }
    if (c->output) {
        size_t len = strlen(c->output);
        const char *tail = c->output;
        TRY(rd_strbuf_append(sb, "<pre class=\"out\">", err));
        if (len > OUTPUT_TAIL_BYTES) {
            tail = c->output + len - OUTPUT_TAIL_BYTES;
            while ((*tail & 0xC0) == 0x80) /* start on a character boundary */
                tail++;
            TRY(rd_strbuf_appendf(sb, err,
                                  "[%zu earlier bytes omitted; the JSON report has the full "
                                  "output]\n",
                                  (size_t)(tail - c->output)));
        }
        TRY(esc(sb, tail, err));
        TRY(rd_strbuf_append(sb, "</pre>", err));
    }
    TRY(rd_strbuf_append(sb, "</td><td class=\"mono\">", err));
    TRY(esc(sb, c->expected, err));
    TRY(rd_strbuf_append(sb, "</td><td class=\"mono\">", err));
    TRY(esc(sb, c->actual, err));
    TRY(rd_strbuf_append(sb, "</td></tr>\n", err));
out:
    return st;
}

/* One database's results under a heading row: worst first. */
static rd_status database_group(rd_strbuf *sb, const rd_target_result *t, const char *db,
                                rd_error *err)
{
    rd_status st = RD_OK;
    size_t n = 0, bad = 0;
    rd_verdict worst = RD_SKIPPED;
    for (size_t i = 0; i < t->nchecks; i++) {
        const rd_check_result *c = &t->checks[i];
        if (!c->database || strcmp(c->database, db) != 0)
            continue;
        n++;
        bad += c->status != RD_PASSED && c->status != RD_SKIPPED;
        worst = rd_verdict_worse(worst, c->status);
    }
    TRY(rd_strbuf_append(sb, "<tr class=\"group\"><th colspan=\"7\">", err));
    TRY(badge(sb, n ? worst : RD_ERROR, err));
    TRY(rd_strbuf_append(sb, " Database <span class=\"mono\">", err));
    TRY(esc(sb, db, err));
    TRY(rd_strbuf_appendf(
        sb, err, "</span> <span class=\"muted\">(%zu result%s, %zu not passed)</span></th></tr>\n",
        n, n == 1 ? "" : "s", bad));
    for (int pass = 0; pass < 4; pass++)
        for (size_t i = 0; i < t->nchecks; i++) {
            const rd_check_result *c = &t->checks[i];
            if (c->database && strcmp(c->database, db) == 0 && order(c->status) == pass)
                TRY(check_row(sb, c, err));
        }
out:
    return st;
}

static rd_status checks(rd_strbuf *sb, const rd_target_result *t, rd_error *err)
{
    rd_status st = RD_OK;
    TRY(rd_strbuf_appendf(sb, err, "<h3>Checks (%zu)</h3>\n", t->nchecks));
    if (t->nchecks == 0) {
        TRY(rd_strbuf_append(sb, "<p class=\"muted\">no check ran</p>\n", err));
        goto out;
    }
    TRY(rd_strbuf_append(
        sb,
        "<table><tr><th>Verdict</th><th>Check</th><th>Object</th>"
        "<th class=\"num\">Time</th><th>Details</th><th>Expected (threshold)</th><th>Actual</th>"
        "</tr>\n",
        err));
    /* results about the whole target first, then one group per database */
    for (int pass = 0; pass < 4; pass++)
        for (size_t i = 0; i < t->nchecks; i++)
            if (!t->checks[i].database && order(t->checks[i].status) == pass)
                TRY(check_row(sb, &t->checks[i], err));
    for (size_t d = 0; d < t->ndatabases; d++)
        TRY(database_group(sb, t, t->databases[d], err));
    TRY(rd_strbuf_append(sb, "</table>\n", err));
out:
    return st;
}

static rd_status history(rd_strbuf *sb, const rd_report *r, const rd_target_result *t,
                         const char *history_path, rd_error *err)
{
    rd_status st = RD_OK;
    rd_hist_sample *s = NULL;
    size_t n = 0;
    rd_error e;
    rd_forecast fc;
    int seen = 0;
    if (rd_history_series(history_path, t->name, &s, &n, &e) != RD_OK) {
        s = NULL;
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        if (r->drill_id && strcmp(s[i].drill_id, r->drill_id) == 0)
            seen = 1;
    if (!seen) { /* this drill is not in the history (yet): chart it last */
        rd_hist_sample *grown = realloc(s, (n + 1) * sizeof *s);
        if (!grown) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing html");
            goto out;
        }
        s = grown;
        rd_hist_sample *c = &s[n++];
        memset(c, 0, sizeof *c);
        c->at_ms = r->started_at_ms ? r->started_at_ms : t->started_at_ms;
        snprintf(c->drill_id, sizeof c->drill_id, "%s", r->drill_id ? r->drill_id : "");
        c->rto = t->rto.seconds;
        c->rto_target = t->rto.target_seconds;
        c->rpo = t->rpo.seconds;
        c->rpo_target = t->rpo.target_seconds;
        c->bytes = t->point.bytes >= 0 ? (double)t->point.bytes : -1;
        c->restore = -1;
        c->status = rd_report_target_status(t);
    }
    TRY(rd_strbuf_append(sb, "<h3>History</h3>\n", err));
    if (n < 2)
        TRY(rd_strbuf_append(sb,
                             "<p class=\"muted\">no history yet: this is the first recorded "
                             "drill of this target</p>\n",
                             err));
    TRY(rd_strbuf_append(sb, "<div class=\"charts\">\n", err));
    TRY(rd_html_chart(sb, "RTO per drill", s, n, 0, err));
    TRY(rd_html_chart(sb, "RPO per drill", s, n, 1, err));
    rd_forecast_fit(s, n, &fc);
    TRY(rd_html_forecast_chart(sb, s, n, &fc, err));
    TRY(rd_strbuf_append(sb, "</div>\n", err));
out:
    free(s);
    return st;
}

static rd_status target(rd_strbuf *sb, const rd_report *r, const rd_target_result *t,
                        const char *history_path, rd_error *err)
{
    rd_status st = RD_OK;
    char buf[64], extra[128];
    TRY(rd_strbuf_append(sb, "<section class=\"target\"><div class=\"thead\"><h2>Target: ", err));
    TRY(esc(sb, t->name, err));
    TRY(rd_strbuf_append(sb, "</h2>", err));
    TRY(badge(sb, rd_report_target_status(t), err));
    TRY(rd_strbuf_append(sb, "<span class=\"muted\">", err));
    TRY(esc(sb, t->engine, err));
    TRY(rd_strbuf_append(sb, "</span></div>\n", err));
    if (t->error) {
        char *red = rd_text_redact_dup(t->error);
        TRY(rd_strbuf_append(sb, "<div class=\"errbox\"><strong>Error:</strong> ", err));
        st = esc(sb, red ? red : "(out of memory)", err);
        free(red);
        if (st != RD_OK)
            goto out;
        TRY(rd_strbuf_append(sb, "</div>\n", err));
    }
    TRY(rd_strbuf_append(sb, "<div class=\"objs\">\n", err));
    snprintf(extra, sizeof extra, "data ready after %s",
             t->data_ready_seconds >= 0 ? rd_duration_human(t->data_ready_seconds, buf, sizeof buf)
                                        : "an unknown time");
    TRY(objective_box(sb, "RTO (recovery time)", &t->rto, extra, err));
    TRY(objective_box(sb, "RPO (data loss window)", &t->rpo, NULL, err));
    TRY(rd_strbuf_append(sb, "</div>\n", err));
    TRY(checks(sb, t, err));
    TRY(point_table(sb, t, err));
    TRY(phases(sb, t, err));
    TRY(rd_html_target_record(sb, t, err));
    TRY(rd_html_coverage(sb, t, err));
    if (t->notes) {
        TRY(rd_strbuf_append(sb, "<h3>Notes</h3><p>", err));
        TRY(esc(sb, t->notes, err));
        TRY(rd_strbuf_append(sb, "</p>\n", err));
    }
    TRY(history(sb, r, t, history_path, err));
    TRY(rd_strbuf_append(sb, "</section>\n", err));
out:
    return st;
}

rd_status rd_report_to_html(const rd_report *r, const char *history_path, char **out_doc,
                            rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sb;
    char now[RD_TIME_BUFSZ];
    rd_strbuf_init(&sb, 0);
    TRY(rd_strbuf_append(&sb,
                         "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                         "<meta name=\"viewport\" content=\"width=device-width\">\n"
                         "<title>restoredrill evidence: ",
                         err));
    TRY(esc(&sb, r->name ? r->name : "drill", err));
    TRY(rd_strbuf_append(&sb, "</title>\n<style>\n", err));
    TRY(rd_strbuf_append(&sb, css, err));
    TRY(rd_strbuf_append(&sb, "</style></head><body>\n", err));
    TRY(header(&sb, r, err));
    if (r->ntargets)
        TRY(rd_html_summary(&sb, r, history_path, err));
    if (r->ntargets == 0)
        TRY(rd_strbuf_append(&sb, "<p class=\"muted\">no target was drilled</p>\n", err));
    for (size_t i = 0; i < r->ntargets; i++)
        TRY(target(&sb, r, &r->targets[i], history_path, err));
    TRY(rd_strbuf_appendf(&sb, err,
                          "<footer>Generated by restoredrill %s at %s. The JSON report holds the "
                          "complete evidence; the history file is hash-chained "
                          "(<code>restoredrill history verify</code>).</footer>\n</body></html>\n",
                          RD_VERSION, rd_time_format(rd_wall_now_ms(), now, sizeof now)));
    if (!(*out_doc = rd_strbuf_detach(&sb)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing html");
out:
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_report_write_html(const rd_report *r, const char *history_path, const char *path,
                               rd_error *err)
{
    char *doc = NULL;
    rd_status st = rd_report_to_html(r, history_path, &doc, err);
    if (st == RD_OK)
        st = rd_fs_write_atomic(path, doc, strlen(doc), 0644, err);
    free(doc);
    return st;
}
