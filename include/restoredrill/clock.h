/* clock.h: monotonic timers, UTC RFC 3339 instants, durations.
 *
 * Durations in the config are numbers of seconds or strings with a unit:
 * "90s", "15m", "2h", "1d", "30d", "1.5h", "250ms". Instants are milliseconds
 * since the Unix epoch (int64) and print as 2026-01-30T15:00:00.000Z. */
#ifndef RESTOREDRILL_CLOCK_H
#define RESTOREDRILL_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/error.h"

#define RD_TIME_BUFSZ 32

/* Seconds on the monotonic clock (CLOCK_MONOTONIC), for measuring. */
double rd_mono_now(void);
/* Wall-clock milliseconds since the epoch (CLOCK_REALTIME). */
int64_t rd_wall_now_ms(void);

/* "2026-01-30T15:00:00.123Z" into buf (>= RD_TIME_BUFSZ). Returns buf. */
char *rd_time_format(int64_t ms, char *buf, size_t bufsz);
/* Parse RFC 3339 ("2026-01-30T15:00:00Z", "...:00.5+02:00", space instead
 * of T accepted, also PostgreSQL's "+00" offset form). RD_ERR_FORMAT if not. */
rd_status rd_time_parse(const char *s, int64_t *ms_out, rd_error *err);
/* Like rd_time_parse, but a value without an offset is taken as UTC: for
 * values read from a session pinned to UTC (MariaDB DATETIME/TIMESTAMP,
 * PostgreSQL timestamp without time zone). */
rd_status rd_time_parse_utc(const char *s, int64_t *ms_out, rd_error *err);

/* Parse a duration (see above) into seconds. Negative values are refused.
 * Error message: `expected a duration like "90s", "15m", "2h" or "1d", got "x"`. */
rd_status rd_duration_parse(const char *s, double *secs_out, rd_error *err);
/* Shortest exact form: 90 -> "90s", 900 -> "15m", 7200 -> "2h", 86400 -> "1d",
 * 5400 -> "90m", 1.5 -> "1.5s". Returns buf. */
char *rd_duration_format(double secs, char *buf, size_t bufsz);
/* Human form for messages: "1h 02m 03s", "4.21s". Returns buf. */
char *rd_duration_human(double secs, char *buf, size_t bufsz);

#endif
