/* log.h: leveled messages and a progress line, all on stderr.
 *
 * Library code logs only through these; stdout belongs to the command's
 * output. The progress line redraws itself (\r, erase) only when stderr is a
 * terminal; otherwise progress is printed as plain lines at most every few
 * seconds so CI logs stay readable. Colour only on a terminal and when
 * NO_COLOR is unset. */
#ifndef RESTOREDRILL_LOG_H
#define RESTOREDRILL_LOG_H

#include <stddef.h>

typedef enum rd_log_level {
    RD_LOG_DEBUG = 0,
    RD_LOG_INFO = 1,
    RD_LOG_WARN = 2,
    RD_LOG_ERROR = 3
} rd_log_level; /* --verbose = DEBUG, default INFO, --quiet = WARN */

void rd_log_set_level(rd_log_level level);
rd_log_level rd_log_get_level(void);
/* Enable or disable the progress line (--no-progress). Default: enabled. */
void rd_log_set_progress(int enabled);
/* 1 when stderr is a terminal (decided once, at first use). */
int rd_log_is_tty(void);
/* Force the terminal decision (1 or 0; -1: detect again at next use) and
 * forget any progress state. For tests. */
void rd_log_force_tty(int tty);
/* 1 when colour escapes may be written to stderr. */
int rd_log_use_color(void);

void rd_log(rd_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rd_log_debug(...) rd_log(RD_LOG_DEBUG, __VA_ARGS__)
#define rd_log_info(...) rd_log(RD_LOG_INFO, __VA_ARGS__)
#define rd_log_warn(...) rd_log(RD_LOG_WARN, __VA_ARGS__)
#define rd_log_error(...) rd_log(RD_LOG_ERROR, __VA_ARGS__)

/* Replace the progress line with this text (thread-safe; throttled). On a
 * TTY the line is redrawn at most every 0.1 s; off a TTY a line is written
 * only once the operation (since the last rd_progress_done) has run for 10 s,
 * then at most once per 10 s. */
void rd_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Clear the progress line (a no-op when none is shown); the next
 * rd_progress starts a new operation. */
void rd_progress_done(void);
/* Tests: the off-TTY interval in seconds (< 0: back to the default 10 s). */
void rd_log_set_plain_progress_interval(double secs);

/* Copy `in` to `out` with secrets masked: password=... / pass=... values in
 * key=value strings, user:password@ in URLs, and ?password= query values
 * become "***". Always NUL-terminates out (truncating). Returns out.
 * Also masked: values of keys named pass, pwd or containing password, passwd,
 * secret, token or signature (X-Amz-Signature=, MYSQL_PWD=, "password": "x"
 * in JSON), and everything after "Authorization:" on its line. rd_log and
 * rd_progress apply it to every line they write. */
char *rd_redact(const char *in, char *out, size_t outsz);

#endif
