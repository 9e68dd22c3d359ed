/* text.c: UTF-8 cleaning, XML escaping and number/time formatting for the
 * report writers (see report_int.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_int.h"
#include "restoredrill/log.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Decode one UTF-8 sequence at s (NUL-terminated). Returns its length and
 * the code point in *cp, or 0 for an invalid sequence (overlong, surrogate,
 * beyond U+10FFFF, truncated). */
static size_t utf8_decode(const unsigned char *s, unsigned long *cp)
{
    unsigned char c = s[0];
    size_t n;
    unsigned long v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the NUL */
        v = (v << 6) | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

rd_status rd_text_append_utf8(rd_strbuf *sb, const char *s, rd_error *err)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!s)
        return RD_OK;
    while (*p) {
        /* copy the longest valid run in one go */
        const unsigned char *run = p;
        unsigned long cp;
        size_t n;
        while (*p && (n = utf8_decode(p, &cp)) > 0)
            p += n;
        if (p > run && rd_strbuf_append_n(sb, run, (size_t)(p - run), err) != RD_OK)
            return err ? err->code : RD_ERR_NOMEM;
        if (*p) {
            if (rd_strbuf_append(sb, replacement, err) != RD_OK)
                return err ? err->code : RD_ERR_NOMEM;
            p++;
        }
    }
    return RD_OK;
}

char *rd_text_utf8_dup(const char *s)
{
    if (!s)
        return NULL;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    if (rd_text_append_utf8(&sb, s, NULL) != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

static int xml_allowed(unsigned long cp)
{
    if (cp == 0x9 || cp == 0xA || cp == 0xD)
        return 1;
    if (cp < 0x20)
        return 0;
    if (cp == 0xFFFE || cp == 0xFFFF)
        return 0;
    return 1;
}

rd_status rd_xml_escape(rd_strbuf *sb, const char *s, int attr, rd_error *err)
{
    rd_status st = RD_OK;
    const unsigned char *p = (const unsigned char *)s;
    if (!s)
        return RD_OK;
    while (*p && st == RD_OK) {
        unsigned long cp;
        size_t n = utf8_decode(p, &cp);
        if (n == 0) {
            st = rd_strbuf_append(sb, replacement, err);
            p++;
            continue;
        }
        switch (cp) {
        case '&':
            st = rd_strbuf_append(sb, "&amp;", err);
            break;
        case '<':
            st = rd_strbuf_append(sb, "&lt;", err);
            break;
        case '>':
            st = rd_strbuf_append(sb, "&gt;", err);
            break;
        case '"':
            st = rd_strbuf_append(sb, "&quot;", err);
            break;
        case '\'':
            st = rd_strbuf_append(sb, "&#39;", err);
            break;
        case '\t':
            st = rd_strbuf_append(sb, attr ? "&#9;" : "\t", err);
            break;
        case '\n':
            st = rd_strbuf_append(sb, attr ? "&#10;" : "\n", err);
            break;
        case '\r':
            st = rd_strbuf_append(sb, "&#13;", err);
            break;
        default:
            if (!xml_allowed(cp))
                st = rd_strbuf_append(sb, replacement, err);
            else
                st = rd_strbuf_append_n(sb, p, n, err);
        }
        p += n;
    }
    return st;
}

char *rd_text_redact_dup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 64;
    char *out = malloc(n);
    if (out)
        rd_redact(s, out, n);
    return out;
}

double rd_text_round_ms(double secs)
{
    return round(secs * 1000.0) / 1000.0;
}

rd_status rd_text_append_secs(rd_strbuf *sb, double secs, rd_error *err)
{
    char buf[64];
    if (!(secs > 0) || !isfinite(secs))
        secs = 0;
    if (secs > 1e15)
        secs = 1e15;
    snprintf(buf, sizeof buf, "%.3f", secs);
    /* trim trailing zeros and a bare point: "1.500" -> "1.5", "2.000" -> "2" */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0')
            *end-- = '\0';
        if (end == dot)
            *end = '\0';
    }
    return rd_strbuf_append(sb, buf, err);
}

char *rd_text_iso_nozone(int64_t ms, char *buf, size_t bufsz)
{
    struct tm tm;
    time_t t;
    if (bufsz == 0)
        return buf;
    buf[0] = '\0';
    if (ms == 0)
        return buf;
    t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    if (!gmtime_r(&t, &tm))
        return buf;
    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%S", &tm);
    return buf;
}

rd_verdict rd_report_target_status(const rd_target_result *t)
{
    rd_verdict v = t->status;
    if (v != RD_PASSED && v != RD_SKIPPED)
        return v;
    for (size_t i = 0; i < t->nchecks; i++) {
        rd_verdict c = t->checks[i].status;
        if (c == RD_FAILED || c == RD_ERROR || c == RD_ABORTED)
            v = rd_verdict_worse(v, c == RD_ABORTED ? RD_ERROR : c);
    }
    return v;
}
