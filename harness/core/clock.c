/* clock.c: monotonic timers, UTC RFC 3339 instants, durations. */
#include "restoredrill/clock.h"
#include "restoredrill/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DURATION_EXPECTED "expected a duration like \"90s\", \"15m\", \"2h\" or \"1d\""
#define TIME_EXPECTED "expected an RFC 3339 time like \"2026-01-30T15:00:00Z\""

double rd_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t rd_wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *rd_time_format(int64_t ms, char *buf, size_t bufsz)
{
    int64_t secs = ms / 1000;
    int64_t frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        secs -= 1;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, bufsz, "invalid-time");
        return buf;
    }
    snprintf(buf, bufsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
    return buf;
}

/* Read exactly n decimal digits at *p; -1 when they are not all digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *p += n;
    return v;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Parse "+HH:MM", "+HHMM", "+HH", "Z" into seconds east of UTC; -1 on error
 * (writes *ok = 0). */
static int parse_offset(const char **pp, int *ok)
{
    const char *p = *pp;
    *ok = 0;
    if (*p == 'Z' || *p == 'z') {
        *pp = p + 1;
        *ok = 1;
        return 0;
    }
    if (*p != '+' && *p != '-')
        return 0;
    int sign = *p == '-' ? -1 : 1;
    p++;
    int hh = digits(&p, 2);
    if (hh < 0 || hh > 23)
        return 0;
    int mm = 0;
    if (*p == ':') {
        p++;
        mm = digits(&p, 2);
        if (mm < 0)
            return 0;
    } else if (*p >= '0' && *p <= '9') {
        mm = digits(&p, 2);
        if (mm < 0)
            return 0;
    }
    if (mm > 59)
        return 0;
    *pp = p;
    *ok = 1;
    return sign * (hh * 3600 + mm * 60);
}

rd_status rd_time_parse(const char *s, int64_t *ms_out, rd_error *err)
{
    const char *p = s;
    if (!s)
        return RD_ERR(err, RD_ERR_FORMAT, TIME_EXPECTED ", got nothing");
    int year = digits(&p, 4);
    if (year < 0 || *p++ != '-')
        goto bad;
    int mon = digits(&p, 2);
    if (mon < 1 || mon > 12 || *p++ != '-')
        goto bad;
    int day = digits(&p, 2);
    if (day < 1 || day > days_in_month(year, mon))
        goto bad;
    if (*p != 'T' && *p != 't' && *p != ' ')
        goto bad;
    p++;
    int hour = digits(&p, 2);
    if (hour < 0 || hour > 23 || *p++ != ':')
        goto bad;
    int min = digits(&p, 2);
    if (min < 0 || min > 59 || *p++ != ':')
        goto bad;
    int sec = digits(&p, 2);
    if (sec < 0 || sec > 60)
        goto bad;
    int ms = 0;
    if (*p == '.' || *p == ',') {
        p++;
        if (*p < '0' || *p > '9')
            goto bad;
        int scale = 100;
        while (*p >= '0' && *p <= '9') {
            ms += (*p - '0') * scale;
            scale /= 10;
            p++;
        }
    }
    int ok;
    int off = parse_offset(&p, &ok);
    if (!ok || *p != '\0')
        goto bad;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    time_t t = timegm(&tm);
    *ms_out = ((int64_t)t - off) * 1000 + ms;
    return RD_OK;
bad:
    return RD_ERR(err, RD_ERR_FORMAT, TIME_EXPECTED ", got \"%.200s\"", s);
}

rd_status rd_duration_parse(const char *s, double *secs_out, rd_error *err)
{
    const char *p = s;
    double v = 0;
    int ndig = 0;
    if (!s)
        return RD_ERR(err, RD_ERR_FORMAT, DURATION_EXPECTED ", got nothing");
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        p++;
        ndig++;
    }
    if (*p == '.') {
        double scale = 0.1;
        p++;
        while (*p >= '0' && *p <= '9') {
            v += (*p - '0') * scale;
            scale /= 10;
            p++;
            ndig++;
        }
    }
    if (ndig == 0)
        goto bad;
    double mult;
    if (*p == '\0' || strcmp(p, "s") == 0)
        mult = 1;
    else if (strcmp(p, "ms") == 0)
        mult = 0.001;
    else if (strcmp(p, "m") == 0)
        mult = 60;
    else if (strcmp(p, "h") == 0)
        mult = 3600;
    else if (strcmp(p, "d") == 0)
        mult = 86400;
    else if (strcmp(p, "w") == 0)
        mult = 7 * 86400;
    else
        goto bad;
    v *= mult;
    if (!isfinite(v))
        goto bad;
    *secs_out = v;
    return RD_OK;
bad:
    return RD_ERR(err, RD_ERR_FORMAT, DURATION_EXPECTED ", got \"%.200s\"", s);
}

/* 1 when v is (within float noise) an integer multiple of unit. */
static int whole(double v, double unit, long long *n)
{
    double q = v / unit;
    double r = nearbyint(q);
    if (fabs(q - r) > 1e-9 * (fabs(q) > 1 ? fabs(q) : 1) || r > 9e15)
        return 0;
    *n = (long long)r;
    return 1;
}

char *rd_duration_format(double secs, char *buf, size_t bufsz)
{
    long long n;
    if (!isfinite(secs) || secs < 0) {
        snprintf(buf, bufsz, "%g", secs);
        return buf;
    }
    if (secs == 0)
        snprintf(buf, bufsz, "0s");
    else if (whole(secs, 86400, &n))
        snprintf(buf, bufsz, "%lldd", n);
    else if (whole(secs, 3600, &n))
        snprintf(buf, bufsz, "%lldh", n);
    else if (whole(secs, 60, &n))
        snprintf(buf, bufsz, "%lldm", n);
    else if (whole(secs, 1, &n))
        snprintf(buf, bufsz, "%llds", n);
    else if (secs < 1 && whole(secs, 0.001, &n))
        snprintf(buf, bufsz, "%lldms", n);
    else
        snprintf(buf, bufsz, "%.15gs", secs);
    return buf;
}

char *rd_duration_human(double secs, char *buf, size_t bufsz)
{
    const char *sign = "";
    if (!isfinite(secs)) {
        snprintf(buf, bufsz, "%g", secs);
        return buf;
    }
    if (secs < 0) {
        sign = "-";
        secs = -secs;
    }
    if (secs < 59.995) {
        snprintf(buf, bufsz, "%s%.2fs", sign, secs);
        return buf;
    }
    long long t = (long long)llround(secs);
    long long d = t / 86400, h = t / 3600 % 24, m = t / 60 % 60, s = t % 60;
    if (d > 0)
        snprintf(buf, bufsz, "%s%lldd %02lldh %02lldm %02llds", sign, d, h, m, s);
    else if (h > 0)
        snprintf(buf, bufsz, "%s%lldh %02lldm %02llds", sign, h, m, s);
    else
        snprintf(buf, bufsz, "%s%lldm %02llds", sign, m, s);
    return buf;
}

rd_status rd_time_parse_utc(const char *s, int64_t *ms_out, rd_error *err)
{
    if (rd_time_parse(s, ms_out, NULL) == RD_OK)
        return RD_OK;
    char *z = rd_asprintf("%sZ", s);
    if (!z)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    rd_status st = rd_time_parse(z, ms_out, NULL);
    free(z);
    if (st != RD_OK)
        return rd_time_parse(s, ms_out, err); /* the message names the original text */
    return RD_OK;
}
