/* console.c: the end-of-drill summary on stderr: a line for the drill, one
 * per target (status, recovery point, RTO and RPO against objectives), one
 * per failing or erroring check with expected/actual. Colour only when the
 * log module allows it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/report.h"

#define LINE_BYTES 4096

static const char *color_of(rd_verdict v, int color)
{
    if (!color)
        return "";
    switch (v) {
    case RD_PASSED:
        return "\033[32m";
    case RD_SKIPPED:
        return "\033[2m";
    case RD_FAILED:
    case RD_ERROR:
    case RD_ABORTED:
        return "\033[31m";
    }
    return "";
}

static const char *upper(rd_verdict v)
{
    switch (v) {
    case RD_PASSED:
        return "PASSED";
    case RD_FAILED:
        return "FAILED";
    case RD_ERROR:
        return "ERROR";
    case RD_SKIPPED:
        return "SKIPPED";
    case RD_ABORTED:
        return "ABORTED";
    }
    return "ERROR";
}

/* Print one line with secrets redacted and invalid UTF-8 replaced. */
static void emit(const char *line)
{
    char red[LINE_BYTES];
    char *clean = rd_text_utf8_dup(line);
    rd_redact(clean ? clean : line, red, sizeof red);
    fprintf(stderr, "%s\n", red);
    free(clean);
}

/* Copy s into buf with control characters (terminal escapes planted in
 * names or messages) replaced by '?'. Returns buf. */
static const char *ctl(const char *s, char *buf, size_t bufsz)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < bufsz; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

/* "RTO 1m 02s (objective 2h, met)" into buf. */
static void objective_text(const char *label, const rd_objective *o, char *buf, size_t bufsz)
{
    char a[64], b[64];
    if (o->seconds < 0)
        snprintf(a, sizeof a, "not measured");
    else
        rd_duration_human(o->seconds, a, sizeof a);
    if (o->target_seconds < 0)
        snprintf(buf, bufsz, "%s %s (no objective)", label, a);
    else
        snprintf(buf, bufsz, "%s %s (objective %s, %s)", label, a,
                 rd_duration_format(o->target_seconds, b, sizeof b), o->met ? "met" : "NOT MET");
}

/* The drill restored and verified (RTO is measured only then); a report
 * that records no phases (written by hand, or by an older version) counts
 * as complete, and so does one whose RTO met its objective. */
static int completed(const rd_target_result *t)
{
    int restored = 0, verified = 0;
    if (t->nphases == 0 || (t->rto.target_seconds >= 0 && t->rto.met))
        return 1;
    for (size_t i = 0; i < t->nphases; i++) {
        const rd_phase *p = &t->phases[i];
        if (p->name && strcmp(p->name, "restore") == 0)
            restored = p->status == RD_PASSED;
        if (p->name && strcmp(p->name, "verify") == 0)
            verified = p->status == RD_PASSED;
    }
    return restored && verified;
}

/* A drill that stopped early has no RTO: "RTO not measured: the drill did
 * not complete (stopped after 8.23s; objective 10m)". */
static void rto_text(const rd_target_result *t, char *buf, size_t bufsz)
{
    char a[64], b[64];
    if (completed(t) || t->rto.seconds < 0) {
        objective_text("RTO", &t->rto, buf, bufsz);
        return;
    }
    rd_duration_human(t->rto.seconds, a, sizeof a);
    if (t->rto.target_seconds < 0)
        snprintf(buf, bufsz, "RTO not measured: the drill did not complete (stopped after %s)", a);
    else
        snprintf(buf, bufsz,
                 "RTO not measured: the drill did not complete (stopped after %s; objective %s)", a,
                 rd_duration_format(t->rto.target_seconds, b, sizeof b));
}

void rd_report_print_console(const rd_report *r)
{
    char line[LINE_BYTES], rto[256], rpo[256];
    char a[512], b[512], c1[512], d[1024], e[512], f[512];
    int color = rd_log_use_color();
    const char *off = color ? "\033[0m" : "";
    rd_report_summary s;
    if (!r)
        return;
    rd_progress_done();
    rd_report_summarize(r, &s);
    flockfile(stderr);
    snprintf(line, sizeof line,
             "drill %s (%s): %s%s%s, targets: %zu passed, %zu failed of %zu; checks: %zu passed, "
             "%zu failed, %zu errors, %zu skipped",
             ctl(r->name, a, sizeof a), r->drill_id ? ctl(r->drill_id, b, sizeof b) : "no id",
             color_of(r->status, color), upper(r->status), off, s.targets_passed, s.targets_failed,
             s.targets, s.passed, s.failed, s.errors, s.skipped);
    emit(line);
    for (size_t i = 0; i < r->ntargets; i++) {
        const rd_target_result *t = &r->targets[i];
        rd_verdict v = rd_report_target_status(t);
        rto_text(t, rto, sizeof rto);
        objective_text("RPO", &t->rpo, rpo, sizeof rpo);
        snprintf(line, sizeof line, "  %s%-7s%s %s: point %s, %s, %s", color_of(v, color), upper(v),
                 off, ctl(t->name, a, sizeof a),
                 t->point.id ? ctl(t->point.id, b, sizeof b) : "none", rto, rpo);
        emit(line);
        for (size_t j = 0; j < t->nchecks; j++) {
            const rd_check_result *c = &t->checks[j];
            if (c->status == RD_PASSED || c->status == RD_SKIPPED)
                continue;
            int n = snprintf(line, sizeof line, "    %s%s%s %s %s: %s", color_of(c->status, color),
                             upper(c->status), off, ctl(c->check ? c->check : c->type, b, sizeof b),
                             ctl(c->object, c1, sizeof c1), ctl(c->message, d, sizeof d));
            if (n >= 0 && (size_t)n < sizeof line && (c->expected || c->actual))
                snprintf(line + n, sizeof line - (size_t)n, " (expected %s, actual %s)",
                         c->expected ? ctl(c->expected, e, sizeof e) : "-",
                         c->actual ? ctl(c->actual, f, sizeof f) : "-");
            emit(line);
        }
        if (t->error) {
            snprintf(line, sizeof line, "    error: %s", ctl(t->error, d, sizeof d));
            emit(line);
        }
    }
    fflush(stderr);
    funlockfile(stderr);
}
