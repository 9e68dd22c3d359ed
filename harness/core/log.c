/* log.c: leveled messages and the progress line on stderr, and rd_redact,
 * which masks secrets in every line written. */
#include "restoredrill/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "restoredrill/clock.h"

#define LINE_MAX_BYTES 4096
#define PLAIN_PROGRESS_INTERVAL 10.0 /* seconds between progress lines off a TTY */
#define TTY_PROGRESS_INTERVAL 0.1    /* seconds between redraws on a TTY */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static rd_log_level level = RD_LOG_INFO;
static int progress_enabled = 1;
static int tty_state = -1; /* -1: not decided yet */
static int progress_shown; /* a progress line is on screen (TTY only) */
static double last_progress = -1e9;
static double progress_started = -1; /* first rd_progress since the last done; < 0 none */
static double plain_interval = PLAIN_PROGRESS_INTERVAL;
static char progress_text[LINE_MAX_BYTES];

void rd_log_set_level(rd_log_level l)
{
    pthread_mutex_lock(&mu);
    level = l;
    pthread_mutex_unlock(&mu);
}

rd_log_level rd_log_get_level(void)
{
    pthread_mutex_lock(&mu);
    rd_log_level l = level;
    pthread_mutex_unlock(&mu);
    return l;
}

void rd_log_set_progress(int enabled)
{
    pthread_mutex_lock(&mu);
    progress_enabled = enabled;
    pthread_mutex_unlock(&mu);
}

/* Caller holds mu. */
static int is_tty_locked(void)
{
    if (tty_state < 0)
        tty_state = isatty(STDERR_FILENO) ? 1 : 0;
    return tty_state;
}

int rd_log_is_tty(void)
{
    pthread_mutex_lock(&mu);
    int t = is_tty_locked();
    pthread_mutex_unlock(&mu);
    return t;
}

void rd_log_force_tty(int tty)
{
    pthread_mutex_lock(&mu);
    tty_state = tty < 0 ? -1 : (tty != 0);
    progress_shown = 0;
    last_progress = -1e9;
    progress_started = -1;
    progress_text[0] = '\0';
    pthread_mutex_unlock(&mu);
}

void rd_log_set_plain_progress_interval(double secs)
{
    pthread_mutex_lock(&mu);
    plain_interval = secs >= 0 ? secs : PLAIN_PROGRESS_INTERVAL;
    pthread_mutex_unlock(&mu);
}

static int use_color_locked(void)
{
    const char *nc = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    if (nc && *nc)
        return 0;
    if (term && strcmp(term, "dumb") == 0)
        return 0;
    return is_tty_locked();
}

int rd_log_use_color(void)
{
    pthread_mutex_lock(&mu);
    int c = use_color_locked();
    pthread_mutex_unlock(&mu);
    return c;
}

/* Write the whole string to stderr, unbuffered. */
static void put(const char *s)
{
    fputs(s, stderr);
}

/* Caller holds mu. Erase the progress line if one is on screen. */
static void erase_progress_locked(void)
{
    if (progress_shown) {
        put("\r\033[K");
        progress_shown = 0;
    }
}

void rd_log(rd_log_level l, const char *fmt, ...)
{
    char raw[LINE_MAX_BYTES], line[LINE_MAX_BYTES];
    va_list ap;
    pthread_mutex_lock(&mu);
    if (l < level) {
        pthread_mutex_unlock(&mu);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    rd_redact(raw, line, sizeof line);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    int color = use_color_locked();
    const char *tag = NULL, *on = "";
    switch (l) {
    case RD_LOG_DEBUG:
        tag = "debug", on = "\033[2m";
        break;
    case RD_LOG_INFO:
        break;
    case RD_LOG_WARN:
        tag = "warning", on = "\033[33m";
        break;
    case RD_LOG_ERROR:
        tag = "error", on = "\033[31m";
        break;
    }
    flockfile(stderr);
    erase_progress_locked();
    if (tag && color)
        fprintf(stderr, "%s%s:\033[0m %s\n", on, tag, line);
    else if (tag)
        fprintf(stderr, "%s: %s\n", tag, line);
    else
        fprintf(stderr, "%s\n", line);
    /* Put the progress line back under the message. */
    if (is_tty_locked() && progress_text[0]) {
        put(progress_text);
        progress_shown = 1;
    }
    fflush(stderr);
    funlockfile(stderr);
    pthread_mutex_unlock(&mu);
}

void rd_progress(const char *fmt, ...)
{
    char raw[LINE_MAX_BYTES];
    va_list ap;
    pthread_mutex_lock(&mu);
    if (!progress_enabled || level > RD_LOG_INFO) {
        pthread_mutex_unlock(&mu);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    char *nl = strpbrk(raw, "\r\n");
    if (nl)
        *nl = '\0';
    rd_redact(raw, progress_text, sizeof progress_text);
    double now = rd_mono_now();
    int tty = is_tty_locked();
    double interval = tty ? TTY_PROGRESS_INTERVAL : plain_interval;
    if (progress_started < 0)
        progress_started = now;
    /* Off a TTY (a log file, CI) a line is written only once the operation
     * has run for the interval, then once per interval: a short operation
     * (one small table's checksum) writes none, rather than one frozen-looking
     * "1 of 1" line per table. */
    if (now - last_progress >= interval && (tty || now - progress_started >= interval)) {
        last_progress = now;
        flockfile(stderr);
        if (tty) {
            put("\r\033[K");
            put(progress_text);
            progress_shown = 1;
        } else {
            fprintf(stderr, "%s\n", progress_text);
        }
        fflush(stderr);
        funlockfile(stderr);
    }
    pthread_mutex_unlock(&mu);
}

void rd_progress_done(void)
{
    pthread_mutex_lock(&mu);
    flockfile(stderr);
    erase_progress_locked();
    fflush(stderr);
    funlockfile(stderr);
    progress_text[0] = '\0';
    last_progress = -1e9;
    progress_started = -1;
    pthread_mutex_unlock(&mu);
}

/* ---- rd_redact ---- */

typedef struct outbuf {
    char *p;
    size_t size, len;
} outbuf;

static void emit_n(outbuf *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n && o->len + 1 < o->size; i++)
        o->p[o->len++] = s[i];
}

static int keych(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int sensitive_key(const char *k, size_t n)
{
    char low[64];
    static const char *const contains[] = {"password", "passwd", "secret", "token", "signature"};
    if (n == 0 || n >= sizeof low)
        return 0;
    for (size_t i = 0; i < n; i++)
        low[i] = (k[i] >= 'A' && k[i] <= 'Z') ? (char)(k[i] - 'A' + 'a') : k[i];
    low[n] = '\0';
    const char *last = low;
    for (const char *q = low; *q; q++) /* the word after the last - or _ */
        if (*q == '_' || *q == '-')
            last = q + 1;
    if (strcmp(last, "pass") == 0 || strcmp(last, "pwd") == 0)
        return 1;
    for (size_t i = 0; i < sizeof contains / sizeof contains[0]; i++)
        if (strstr(low, contains[i]))
            return 1;
    return 0;
}

/* Skip a value starting at s: quoted ('..' or "..", backslash escapes) or up
 * to whitespace (and & or # inside a URL). Returns the end. */
static const char *skip_value(const char *s, int in_url)
{
    if (*s == '\'' || *s == '"') {
        char q = *s++;
        while (*s && *s != q)
            s += (*s == '\\' && s[1]) ? 2 : 1;
        return *s ? s + 1 : s;
    }
    while (*s && !is_space(*s) && !(in_url && (*s == '&' || *s == '#')))
        s++;
    return s;
}

char *rd_redact(const char *in, char *out, size_t outsz)
{
    outbuf o = {out, outsz, 0};
    const char *s = in ? in : "";
    int in_url = 0;
    if (outsz == 0)
        return out;
    while (*s) {
        int word_start = s == in || !keych(s[-1]);
        if (is_space(*s))
            in_url = 0;
        if (word_start && strncasecmp(s, "authorization:", 14) == 0) {
            emit_n(&o, s, 14);
            emit_n(&o, " ***", 4);
            while (*s && *s != '\n')
                s++;
            continue;
        }
        if (strncmp(s, "://", 3) == 0) {
            in_url = 1;
            emit_n(&o, s, 3);
            s += 3;
            const char *end = s, *at = NULL, *colon = NULL;
            while (*end && !is_space(*end) && !strchr("/?#\"'", *end)) {
                if (*end == '@')
                    at = end;
                end++;
            }
            if (at) {
                for (const char *c = s; c < at; c++)
                    if (*c == ':') {
                        colon = c;
                        break;
                    }
            }
            if (colon) {
                emit_n(&o, s, (size_t)(colon - s) + 1);
                emit_n(&o, "***", 3);
                s = at;
            }
            continue;
        }
        if (word_start && keych(*s)) {
            const char *k = s;
            while (keych(*k))
                k++;
            if (*k == '=' && sensitive_key(s, (size_t)(k - s))) {
                emit_n(&o, s, (size_t)(k - s) + 1);
                emit_n(&o, "***", 3);
                s = skip_value(k + 1, in_url);
            } else {
                emit_n(&o, s, (size_t)(k - s));
                s = k;
            }
            continue;
        }
        if (*s == '"' && keych(s[1])) { /* "key": "value" */
            const char *k = s + 1, *v;
            while (keych(*k))
                k++;
            v = k + 1;
            while (*k == '"' && is_space(*v))
                v++;
            if (*k == '"' && *v == ':') {
                v++;
                while (is_space(*v))
                    v++;
                if (*v == '"' && sensitive_key(s + 1, (size_t)(k - s - 1))) {
                    emit_n(&o, s, (size_t)(v - s) + 1);
                    emit_n(&o, "***\"", 4);
                    s = skip_value(v, 0);
                    continue;
                }
            }
        }
        emit_n(&o, s, 1);
        s++;
    }
    out[o.len] = '\0';
    return out;
}
