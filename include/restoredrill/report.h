/* report.h: report writers. They read a finished rd_report and nothing
 * else: JUnit XML, JSON (restoredrill/report/v1), HTML evidence, Prometheus
 * textfile, the tamper-evident history, the console summary, and the webhook.
 * Every writer replaces its file atomically (temp file + rename). */
#ifndef RESTOREDRILL_REPORT_H
#define RESTOREDRILL_REPORT_H

#include <stddef.h>

#include "restoredrill/config.h"
#include "restoredrill/error.h"
#include "restoredrill/result.h"

#define RD_REPORT_SCHEMA "restoredrill/report/v1"
#define RD_HISTORY_SCHEMA "restoredrill/history/v1"

rd_status rd_report_write_junit(const rd_report *r, const char *path, rd_error *err);
/* The JUnit XML document as a heap string (caller frees). */
rd_status rd_report_to_junit(const rd_report *r, char **out, rd_error *err);
rd_status rd_report_write_json(const rd_report *r, const char *path, rd_error *err);
/* The JSON report as a heap string (pretty-printed). */
rd_status rd_report_to_json(const rd_report *r, char **out, rd_error *err);
/* Parse a JSON report back into the model (for `report` re-rendering and
 * merging). RD_ERR_FORMAT with the field path on a malformed file. */
rd_status rd_report_load_json(const char *path, rd_report **out, rd_error *err);
rd_status rd_report_parse_json(const char *text, const char *name, rd_report **out, rd_error *err);
/* Merge shards: targets concatenated, times spanning all, status settled.
 * The first report's drill id/name/seed are kept. */
rd_status rd_report_merge(rd_report *const *reports, size_t n, rd_report **out, rd_error *err);

/* history_path (may be NULL or missing) feeds the RTO/RPO charts. */
rd_status rd_report_write_html(const rd_report *r, const char *history_path, const char *path,
                               rd_error *err);
/* The HTML document as a heap string (caller frees). */
rd_status rd_report_to_html(const rd_report *r, const char *history_path, char **out,
                            rd_error *err);
rd_status rd_report_write_prometheus(const rd_report *r, const char *path, rd_error *err);
/* The textfile as a heap string; previous (may be NULL) is the old file's
 * text, from which last-success times of targets that did not pass now are
 * carried over. */
rd_status rd_report_to_prometheus(const rd_report *r, const char *previous, char **out,
                                  rd_error *err);
/* The same plus restoredrill_rto_forecast_bytes{target} for each target
 * whose drills in the history file (NULL: none) give an RTO forecast: the
 * recovery point size at which the RTO fitted against size reaches the
 * objective (see docs/evidence.md). */
rd_status rd_report_to_prometheus_history(const rd_report *r, const char *previous,
                                          const char *history, char **out, rd_error *err);
rd_status rd_report_write_prometheus_history(const rd_report *r, const char *history,
                                             const char *path, rd_error *err);

/* Append one line for this drill, carrying "prev_sha256" of the previous
 * line (64 zeros for the first). */
rd_status rd_history_append(const rd_report *r, const char *path, rd_error *err);
/* RD_OK when every line is intact; RD_ERR_INTEGRITY "line 7: prev_sha256
 * does not match line 6 (edited or removed)" on the first broken line
 * (*bad_line set, 1-based). *lines gets the count read. */
rd_status rd_history_verify(const char *path, size_t *lines, size_t *bad_line, rd_error *err);

/* A compact summary on stderr: a line per target and per failing check. */
void rd_report_print_console(const rd_report *r);

/* Write every file the output config names into dir (created). Failures are
 * logged and the first one returned; the others are still written. */
rd_status rd_report_write_all(const rd_report *r, const rd_output_cfg *out, const char *dir,
                              rd_error *err);

/* POST a short JSON summary when cfg->on says so. Never fails the drill:
 * errors are logged (URL redacted) and swallowed. */
void rd_notify_send(const rd_notify_cfg *cfg, const rd_report *r);
/* 1 when cfg asks for a notification about r (a webhook is set and "on" is
 * "always", or "failure"/unset and the drill did not pass). */
int rd_notify_wanted(const rd_notify_cfg *cfg, const rd_report *r);
/* The webhook body {drill, name, status, targets:[{name,status,error}]} as a
 * heap string; NULL on allocation failure. */
char *rd_notify_body(const rd_report *r);

#endif
