/* junit.c: JUnit XML for CI, valid against reports/schema/junit.xsd (the
 * constraints of the Jenkins junit-10.xsd, so valid against it too): one
 * <testsuites> per drill, one <testsuite> per target (properties, testcases,
 * system-err), one <testcase> per check result. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

/* ` name="value"` with value escaped; nothing when value is NULL. */
static rd_status attr(rd_strbuf *sb, const char *name, const char *value, rd_error *err)
{
    rd_status st = RD_OK;
    if (!value)
        return RD_OK;
    TRY(rd_strbuf_appendf(sb, err, " %s=\"", name));
    TRY(rd_xml_escape(sb, value, 1, err));
    TRY(rd_strbuf_append_char(sb, '"', err));
out:
    return st;
}

static rd_status attr_secs(rd_strbuf *sb, const char *name, double secs, rd_error *err)
{
    rd_status st = RD_OK;
    if (secs < 0)
        return RD_OK; /* unknown: leave the optional attribute out */
    TRY(rd_strbuf_appendf(sb, err, " %s=\"", name));
    TRY(rd_text_append_secs(sb, secs, err));
    TRY(rd_strbuf_append_char(sb, '"', err));
out:
    return st;
}

static rd_status prop(rd_strbuf *sb, const char *name, const char *value, rd_error *err)
{
    rd_status st = RD_OK;
    if (!value)
        return RD_OK;
    TRY(rd_strbuf_append(sb, "      <property", err));
    TRY(attr(sb, "name", name, err));
    TRY(attr(sb, "value", value, err));
    TRY(rd_strbuf_append(sb, "/>\n", err));
out:
    return st;
}

static rd_status prop_redacted(rd_strbuf *sb, const char *name, const char *value, rd_error *err)
{
    char *red = rd_text_redact_dup(value);
    rd_status st = value && !red ? RD_ERR(err, RD_ERR_NOMEM, "out of memory writing junit")
                                 : prop(sb, name, red, err);
    free(red);
    return st;
}

static rd_status prop_secs(rd_strbuf *sb, const char *name, double secs, rd_error *err)
{
    char buf[64];
    if (secs < 0)
        return RD_OK;
    snprintf(buf, sizeof buf, "%.3f", secs);
    return prop(sb, name, buf, err);
}

static rd_status prop_time(rd_strbuf *sb, const char *name, int64_t ms, rd_error *err)
{
    char buf[RD_TIME_BUFSZ];
    if (ms == 0)
        return RD_OK;
    return prop(sb, name, rd_time_format(ms, buf, sizeof buf), err);
}

static rd_status properties(rd_strbuf *sb, const rd_report *r, const rd_target_result *t,
                            rd_error *err)
{
    rd_status st = RD_OK;
    char buf[64];
    TRY(rd_strbuf_append(sb, "    <properties>\n", err));
    TRY(prop(sb, "drill.id", r->drill_id, err));
    TRY(prop(sb, "drill.name", r->name, err));
    snprintf(buf, sizeof buf, "%" PRIu64, r->seed);
    TRY(prop(sb, "drill.seed", buf, err));
    TRY(prop(sb, "engine", t->engine, err));
    TRY(prop(sb, "recovery_point.id", t->point.id, err));
    TRY(prop_time(sb, "recovery_point.created_at", t->point.created_at_ms, err));
    TRY(prop_redacted(sb, "recovery_point.location", t->point.location, err));
    TRY(prop(sb, "recovery_point.format", t->point.format, err));
    TRY(prop(sb, "recovery_point.sha256", t->point.sha256, err));
    if (t->point.base) {
        TRY(prop(sb, "recovery_point.base", t->point.base, err));
        TRY(prop_time(sb, "recovery_point.target_time", t->point.target_time_ms, err));
        TRY(prop(sb, "recovery_point.wal_range.first", t->point.wal_first, err));
        TRY(prop(sb, "recovery_point.wal_range.last", t->point.wal_last, err));
        TRY(prop_time(sb, "recovery_point.reached_time", t->point.reached_time_ms, err));
    }
    TRY(prop(sb, "sampling.strategy", t->sampling_strategy, err));
    snprintf(buf, sizeof buf, "%" PRIu64, t->sampling_seed);
    TRY(prop(sb, "seed", buf, err));
    TRY(prop_time(sb, "pitr_target", t->pitr_target_ms, err));
    TRY(prop_secs(sb, "rto.seconds", t->rto.seconds, err));
    TRY(prop_secs(sb, "rto.target_seconds", t->rto.target_seconds, err));
    if (t->rto.target_seconds >= 0)
        TRY(prop(sb, "rto.met", t->rto.met ? "true" : "false", err));
    TRY(prop_secs(sb, "rto.data_ready_seconds", t->data_ready_seconds, err));
    TRY(prop_secs(sb, "rpo.seconds", t->rpo.seconds, err));
    TRY(prop_secs(sb, "rpo.target_seconds", t->rpo.target_seconds, err));
    if (t->rpo.target_seconds >= 0)
        TRY(prop(sb, "rpo.met", t->rpo.met ? "true" : "false", err));
    TRY(prop(sb, "rpo.basis", t->rpo_basis, err));
    TRY(prop_secs(sb, "rpo.exposure_seconds", t->rpo_exposure_seconds, err));
    TRY(prop_secs(sb, "rpo.data_lag_seconds", t->data_lag_seconds, err));
    TRY(prop(sb, "drill.config_sha256", r->config_sha256, err));
    TRY(prop_redacted(sb, "drill.ci_job_url", r->ci_job_url, err));
    TRY(prop(sb, "drill.signing_key", r->signing_key, err));
    if (t->ncontrols) {
        rd_strbuf cs;
        rd_strbuf_init(&cs, 64 * 1024);
        for (size_t i = 0; i < t->ncontrols && st == RD_OK; i++)
            st = rd_strbuf_appendf(&cs, err, "%s%s", i ? ", " : "", t->controls[i]);
        if (st == RD_OK)
            st = prop(sb, "controls", cs.data, err);
        rd_strbuf_free(&cs);
        if (st != RD_OK)
            goto out;
    }
    TRY(rd_strbuf_append(sb, "    </properties>\n", err));
out:
    return st;
}

/* "message (expected: X, actual: Y)" for the message attribute. */
static char *verdict_message(const rd_check_result *c)
{
    const char *m = c->message ? c->message : rd_verdict_name(c->status);
    if (c->expected && c->actual)
        return rd_asprintf("%s (expected: %s, actual: %s)", m, c->expected, c->actual);
    if (c->expected)
        return rd_asprintf("%s (expected: %s)", m, c->expected);
    if (c->actual)
        return rd_asprintf("%s (actual: %s)", m, c->actual);
    return rd_strdup(m);
}

static rd_status verdict_body(rd_strbuf *sb, const rd_check_result *c, rd_error *err)
{
    rd_status st = RD_OK;
    if (c->message) {
        TRY(rd_xml_escape(sb, c->message, 0, err));
        TRY(rd_strbuf_append_char(sb, '\n', err));
    }
    if (c->expected) {
        TRY(rd_strbuf_append(sb, "expected: ", err));
        TRY(rd_xml_escape(sb, c->expected, 0, err));
        TRY(rd_strbuf_append_char(sb, '\n', err));
    }
    if (c->actual) {
        TRY(rd_strbuf_append(sb, "actual: ", err));
        TRY(rd_xml_escape(sb, c->actual, 0, err));
        TRY(rd_strbuf_append_char(sb, '\n', err));
    }
    for (size_t i = 0; i < c->nprops; i++) {
        TRY(rd_xml_escape(sb, c->props[i].name, 0, err));
        TRY(rd_strbuf_append(sb, ": ", err));
        TRY(rd_xml_escape(sb, c->props[i].value, 0, err));
        TRY(rd_strbuf_append_char(sb, '\n', err));
    }
out:
    return st;
}

static rd_status testcase(rd_strbuf *sb, const rd_target_result *t, const rd_check_result *c,
                          rd_error *err)
{
    rd_status st = RD_OK;
    char *classname = rd_asprintf("restoredrill.%s.%s", t->name, c->check ? c->check : c->type);
    char *msg = verdict_message(c);
    const char *el = NULL;
    if (!classname || !msg) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing junit");
        goto out;
    }
    TRY(rd_strbuf_append(sb, "    <testcase", err));
    TRY(attr(sb, "name", c->object ? c->object : "", err));
    TRY(attr(sb, "classname", classname, err));
    TRY(attr_secs(sb, "time", c->seconds, err));
    switch (c->status) {
    case RD_FAILED:
        el = "failure";
        break;
    case RD_ERROR:
    case RD_ABORTED:
        el = "error";
        break;
    case RD_SKIPPED:
        el = "skipped";
        break;
    case RD_PASSED:
        el = NULL;
        break;
    }
    if (!el && !c->output) {
        TRY(rd_strbuf_append(sb, "/>\n", err));
        goto out;
    }
    TRY(rd_strbuf_append(sb, ">\n", err));
    if (el) {
        TRY(rd_strbuf_appendf(sb, err, "      <%s", el));
        TRY(attr(sb, "message", msg, err));
        if (c->status != RD_SKIPPED)
            TRY(attr(sb, "type", c->type, err));
        TRY(rd_strbuf_append(sb, ">", err));
        if (c->status != RD_SKIPPED)
            TRY(verdict_body(sb, c, err));
        TRY(rd_strbuf_appendf(sb, err, "</%s>\n", el));
    }
    if (c->output) {
        TRY(rd_strbuf_append(sb, "      <system-out>", err));
        TRY(rd_xml_escape(sb, c->output, 0, err));
        TRY(rd_strbuf_append(sb, "</system-out>\n", err));
    }
    TRY(rd_strbuf_append(sb, "    </testcase>\n", err));
out:
    free(classname);
    free(msg);
    return st;
}

typedef struct counts {
    size_t tests, failures, errors, skipped;
} counts;

/* A target that failed without any failing check (sampling failed, nothing
 * restored) still needs a red testcase, or CI would show it green. */
static int needs_status_case(const rd_target_result *t)
{
    rd_verdict v = rd_report_target_status(t);
    if (v == RD_PASSED || v == RD_SKIPPED)
        return 0;
    for (size_t i = 0; i < t->nchecks; i++)
        if (t->checks[i].status != RD_PASSED && t->checks[i].status != RD_SKIPPED)
            return 0;
    return 1;
}

static void count_target(const rd_target_result *t, counts *n)
{
    for (size_t i = 0; i < t->nchecks; i++) {
        n->tests++;
        switch (t->checks[i].status) {
        case RD_FAILED:
            n->failures++;
            break;
        case RD_ERROR:
        case RD_ABORTED:
            n->errors++;
            break;
        case RD_SKIPPED:
            n->skipped++;
            break;
        case RD_PASSED:
            break;
        }
    }
    if (needs_status_case(t)) {
        n->tests++;
        if (rd_report_target_status(t) == RD_FAILED)
            n->failures++;
        else
            n->errors++;
    }
}

static double span(int64_t start, int64_t end)
{
    return start > 0 && end >= start ? (double)(end - start) / 1000.0 : -1;
}

static rd_status testsuite(rd_strbuf *sb, const rd_report *r, size_t idx, rd_error *err)
{
    rd_status st = RD_OK;
    const rd_target_result *t = &r->targets[idx];
    counts n = {0, 0, 0, 0};
    char ts[32];
    char *pkg = rd_asprintf("restoredrill.%s", t->name);
    char *terr = rd_text_redact_dup(t->error);
    if (!pkg || (t->error && !terr)) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing junit");
        goto out;
    }
    count_target(t, &n);
    TRY(rd_strbuf_append(sb, "  <testsuite", err));
    TRY(attr(sb, "name", t->name, err));
    TRY(rd_strbuf_appendf(sb, err, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
                          n.tests, n.failures, n.errors, n.skipped));
    TRY(attr_secs(sb, "time", span(t->started_at_ms, t->finished_at_ms), err));
    if (t->started_at_ms)
        TRY(attr(sb, "timestamp", rd_text_iso_nozone(t->started_at_ms, ts, sizeof ts), err));
    TRY(attr(sb, "hostname", r->host ? r->host : "localhost", err));
    TRY(rd_strbuf_appendf(sb, err, " id=\"%zu\"", idx));
    TRY(attr(sb, "package", pkg, err));
    TRY(rd_strbuf_append(sb, ">\n", err));
    TRY(properties(sb, r, t, err));
    for (size_t i = 0; i < t->nchecks; i++)
        TRY(testcase(sb, t, &t->checks[i], err));
    if (needs_status_case(t)) {
        TRY(rd_strbuf_append(sb, "    <testcase name=\"status\"", err));
        TRY(attr(sb, "classname", pkg, err));
        const char *el = rd_report_target_status(t) == RD_FAILED ? "failure" : "error";
        TRY(rd_strbuf_appendf(sb, err, ">\n      <%s", el));
        TRY(attr(sb, "message", terr ? terr : rd_verdict_name(t->status), err));
        TRY(attr(sb, "type", "target", err));
        TRY(rd_strbuf_append(sb, ">", err));
        TRY(rd_xml_escape(sb, terr ? terr : rd_verdict_name(t->status), 0, err));
        TRY(rd_strbuf_appendf(sb, err, "</%s>\n    </testcase>\n", el));
    }
    if (terr) {
        TRY(rd_strbuf_append(sb, "    <system-err>", err));
        TRY(rd_xml_escape(sb, terr, 0, err));
        TRY(rd_strbuf_append(sb, "</system-err>\n", err));
    }
    TRY(rd_strbuf_append(sb, "  </testsuite>\n", err));
out:
    free(pkg);
    free(terr);
    return st;
}

rd_status rd_report_to_junit(const rd_report *r, char **out_doc, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sb;
    counts n = {0, 0, 0, 0};
    rd_strbuf_init(&sb, 0);
    for (size_t i = 0; i < r->ntargets; i++)
        count_target(&r->targets[i], &n);
    TRY(rd_strbuf_append(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", err));
    TRY(attr(&sb, "name", r->name ? r->name : "restoredrill", err));
    TRY(rd_strbuf_appendf(&sb, err, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\"", n.tests,
                          n.failures, n.errors));
    TRY(attr_secs(&sb, "time", span(r->started_at_ms, r->finished_at_ms), err));
    TRY(rd_strbuf_append(&sb, ">\n", err));
    for (size_t i = 0; i < r->ntargets; i++)
        TRY(testsuite(&sb, r, i, err));
    TRY(rd_strbuf_append(&sb, "</testsuites>\n", err));
    *out_doc = rd_strbuf_detach(&sb);
    if (!*out_doc)
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing junit");
out:
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_report_write_junit(const rd_report *r, const char *path, rd_error *err)
{
    char *doc = NULL;
    rd_status st = rd_report_to_junit(r, &doc, err);
    if (st == RD_OK)
        st = rd_fs_write_atomic(path, doc, strlen(doc), 0644, err);
    free(doc);
    return st;
}
