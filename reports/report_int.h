/* report_int.h: helpers shared by the report writers only: text cleaning
 * (valid UTF-8, XML 1.0 characters), XML/HTML escaping, number and time
 * formatting. Not part of the public contract. */
#ifndef RESTOREDRILL_REPORT_INT_H
#define RESTOREDRILL_REPORT_INT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"
#include "restoredrill/result.h"
#include "restoredrill/strbuf.h"

#define RD_REPORT_TOOL_NAME "restoredrill"

/* Append s (NULL = nothing) with invalid UTF-8 sequences replaced by U+FFFD. */
rd_status rd_text_append_utf8(rd_strbuf *sb, const char *s, rd_error *err);
/* Heap copy of s with invalid UTF-8 replaced by U+FFFD; NULL for NULL or on
 * allocation failure. */
char *rd_text_utf8_dup(const char *s);

/* Heap copy of s with secrets masked by rd_redact (userinfo passwords,
 * password= values); NULL for NULL or on allocation failure. Writers pass
 * locations, errors and the config path through it as a second line of
 * defence: the model should not hold secrets in the first place. */
char *rd_text_redact_dup(const char *s);

/* Append s escaped for XML 1.0 text and attribute values (also valid for
 * HTML): & < > " ' become entities, invalid UTF-8 and characters XML 1.0
 * does not allow (C0 controls but tab/newline/CR, U+FFFE, U+FFFF) become
 * U+FFFD. In attributes (attr != 0) tab, newline and CR become character
 * references so they survive attribute normalisation. */
rd_status rd_xml_escape(rd_strbuf *sb, const char *s, int attr, rd_error *err);

/* Append a duration with at most 3 decimals and no exponent ("12.345", "0",
 * "1.5"); negative values print as "0". For JUnit time attributes. */
rd_status rd_text_append_secs(rd_strbuf *sb, double secs, rd_error *err);
/* Round to milliseconds (JSON numbers). */
double rd_text_round_ms(double secs);

/* "2026-01-30T15:00:00" (UTC, no zone, for JUnit timestamps) into buf
 * (>= 20 bytes); "" when ms is 0. Returns buf. */
char *rd_text_iso_nozone(int64_t ms, char *buf, size_t bufsz);

/* json_build.c: cJSON builders for the JSON writers. Each records an
 * allocation failure in *oom (and frees what it could not attach) instead
 * of returning it. */
/* Add item (may be NULL: a failed allocation) to obj under key. */
void rd_json_put(cJSON *obj, const char *key, cJSON *item, int *oom);
/* Append item to the array arr; on failure item is freed and *oom set. */
void rd_json_push(cJSON *arr, cJSON *item, int *oom);
/* s with invalid UTF-8 replaced by U+FFFD, JSON null for NULL; NULL on
 * allocation failure. */
cJSON *rd_json_str_or_null(const char *s);
/* rd_json_put of rd_json_str_or_null(s). */
void rd_json_put_str(cJSON *obj, const char *key, const char *s, int *oom);
/* Seconds rounded to ms; null when negative (not measured). */
void rd_json_put_secs(cJSON *obj, const char *key, double secs, int *oom);
/* RFC 3339 UTC with milliseconds; null when ms is 0 (unknown). */
void rd_json_put_time(cJSON *obj, const char *key, int64_t ms, int *oom);

/* The fail-closed status of a target: t->status, except that a passed or
 * skipped target with a failed or error check is reported as the worst of
 * those (never a green target over a red check). */
rd_verdict rd_report_target_status(const rd_target_result *t);

/* One drill of one target in the history file, for the charts. */
typedef struct rd_hist_sample {
    int64_t at_ms; /* drill started_at */
    char drill_id[64];
    double rto, rto_target, rpo, rpo_target; /* < 0 unknown */
    double bytes;                            /* recovery point size; < 0 unknown */
    double restore;                          /* restore (+ recover) phase seconds; < 0 unknown */
    rd_verdict status;
} rd_hist_sample;

/* The samples of `target` in the history file, oldest first (lines that do
 * not parse are skipped). A NULL or missing path gives none. *out is heap. */
rd_status rd_history_series(const char *path, const char *target, rd_hist_sample **out, size_t *n,
                            rd_error *err);

/* Append an inline SVG chart (RTO when rpo == 0, else RPO) of the samples,
 * objective dashed; "no history yet" when nothing was measured. */
rd_status rd_html_chart(rd_strbuf *sb, const char *title, const rd_hist_sample *s, size_t n,
                        int rpo, rd_error *err);

/* forecast.c: RTO against recovery point size: the restore seconds fitted
 * by least squares over the history, plus the mean of the rest of the RTO
 * (RTO = intercept + slope x bytes). */
#define RD_FORECAST_MIN_POINTS 3
typedef struct rd_forecast {
    int fitted;                /* 1 when a line was fitted (enough distinct sizes) */
    size_t points;             /* drills with a measured RTO and a known size */
    double intercept, slope;   /* seconds, seconds per byte */
    double r2;                 /* of the restore-time fit; < 0 when undefined */
    double objective;          /* the latest RTO objective; < 0 none */
    double bytes_at_objective; /* size at which the fitted RTO reaches the objective; < 0 none */
    double last_bytes;         /* size of the newest point in the fit */
    char note[200];            /* why there is no forecast, or what it says */
} rd_forecast;
/* Fit the samples (oldest first); never fails. */
void rd_forecast_fit(const rd_hist_sample *s, size_t n, rd_forecast *f);
/* "1.5 GiB" style size into buf. Returns buf. */
char *rd_text_bytes(double bytes, char *buf, size_t bufsz);
/* The scatter chart of RTO against size with the fitted line, the objective
 * and the forecast size, or the note when there is no fit. */
rd_status rd_html_forecast_chart(rd_strbuf *sb, const rd_hist_sample *s, size_t n,
                                 const rd_forecast *f, rd_error *err);

/* Recovery points in t's retention window and how many of them a passed
 * drill verified (this one included when it passed), from t->coverage_map.
 * 0 when the map is unknown (both set to 0). */
int rd_report_coverage(const rd_target_result *t, size_t *points, size_t *verified);
/* A PITR target's share of its restorable window proven restorable by
 * earlier passed drills (*before) and with this drill's stretch too when it
 * passed (*with_this), 0..1. 0 when the target has no PITR window. */
int rd_report_pitr_share(const rd_target_result *t, double *before, double *with_this);

/* html_evidence.c */
/* A <tr><th>key</th><td>value</td></tr> row, both escaped, the value cell
 * monospaced when mono; a NULL value shows absent ("unknown", "none") muted. */
rd_status rd_html_kv_row(rd_strbuf *sb, const char *key, const char *value, int mono,
                         const char *absent, rd_error *err);
/* 1 when current is more than 10% above previous, -1 more than 10% below, 0
 * otherwise or when either is unknown (< 0). */
int rd_html_trend(double previous, double current);
/* The one-screen summary of every target (verdict, point, RTO/RPO against
 * objectives, RTO trend from the history, controls). */
rd_status rd_html_summary(rd_strbuf *sb, const rd_report *r, const char *history, rd_error *err);
/* Rows of the drill's record table: configuration sha256, CI job, signing
 * key, controls. */
rd_status rd_html_record_rows(rd_strbuf *sb, const rd_report *r, rd_error *err);
/* The coverage strip of the retention window. */
rd_status rd_html_coverage(rd_strbuf *sb, const rd_target_result *t, rd_error *err);
/* A target's isolation and controls. */
rd_status rd_html_target_record(rd_strbuf *sb, const rd_target_result *t, rd_error *err);

#endif
