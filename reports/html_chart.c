/* html_chart.c: inline SVG line charts of RTO or RPO per drill over the
 * history, with the objective as a dashed line. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"

#define W 540.0
#define H 220.0
#define LEFT 60.0
#define RIGHT 20.0
#define TOP 20.0
#define BOTTOM 40.0

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

static double value(const rd_hist_sample *s, int rpo)
{
    return rpo ? s->rpo : s->rto;
}

static double target(const rd_hist_sample *s, int rpo)
{
    return rpo ? s->rpo_target : s->rto_target;
}

/* A round axis maximum >= v in time units, so labels read "30m", "2h",
 * "2d"; beyond the table, 1/2/5 x 10^k days. */
static double nice_max(double v)
{
    static const double steps[] = {1,     2,     5,      10,     20,     30,      60,     120,
                                   300,   600,   900,    1800,   3600,   7200,    10800,  21600,
                                   43200, 86400, 172800, 432000, 864000, 1728000, 2592000};
    if (!(v > 0))
        return 1;
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (steps[i] >= v)
            return steps[i];
    double days = v / 86400.0, p = pow(10, floor(log10(days)));
    for (int m = 1; m <= 10; m = m == 1 ? 2 : m == 2 ? 5 : 10)
        if (m * p >= days)
            return m * p * 86400.0;
    return 10 * p * 86400.0;
}

rd_status rd_html_chart(rd_strbuf *sb, const char *title, const rd_hist_sample *s, size_t n,
                        int rpo, rd_error *err)
{
    rd_status st = RD_OK;
    size_t measured = 0;
    double vmax = 0, obj = -1;
    char buf[64], when[RD_TIME_BUFSZ];
    for (size_t i = 0; i < n; i++) {
        double v = value(&s[i], rpo), t = target(&s[i], rpo);
        if (v >= 0) {
            measured++;
            vmax = fmax(vmax, v);
        }
        if (t >= 0) {
            obj = t; /* the latest objective is drawn */
            vmax = fmax(vmax, t);
        }
    }
    TRY(rd_strbuf_append(sb, "<figure class=\"chart\"><figcaption>", err));
    TRY(rd_xml_escape(sb, title, 0, err));
    TRY(rd_strbuf_append(sb, "</figcaption>", err));
    if (measured == 0) {
        TRY(rd_strbuf_append(sb, "<p class=\"muted\">no history yet</p></figure>\n", err));
        goto out;
    }
    double ymax = nice_max(vmax * 1.1);
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
    TRY(rd_strbuf_appendf(sb, err,
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                          "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"",
                          W, H, W, H));
    TRY(rd_xml_escape(sb, title, 1, err));
    TRY(rd_strbuf_append(sb, "\">\n", err));
    /* axes and grid: 0, half, max */
    for (int g = 0; g <= 2; g++) {
        double yv = ymax * g / 2.0, y = TOP + ph - ph * g / 2.0;
        TRY(rd_strbuf_appendf(sb, err,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" class=\"axis\" "
                              "text-anchor=\"end\">%s</text>\n",
                              LEFT, y, LEFT + pw, y, LEFT - 6, y + 4,
                              rd_duration_format(yv, buf, sizeof buf)));
    }
    if (obj >= 0) {
        double y = TOP + ph - ph * obj / ymax;
        TRY(rd_strbuf_appendf(sb, err,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "class=\"objective\" stroke-dasharray=\"6 4\"/>"
                              "<text x=\"%.1f\" y=\"%.1f\" class=\"axis obj\" "
                              "text-anchor=\"end\">objective %s</text>\n",
                              LEFT, y, LEFT + pw, y, LEFT + pw, y - 4,
                              rd_duration_format(obj, buf, sizeof buf)));
    }
    /* the line through measured points, then the points coloured by verdict */
    TRY(rd_strbuf_append(sb, "<polyline class=\"series\" points=\"", err));
    for (size_t i = 0; i < n; i++) {
        double v = value(&s[i], rpo);
        if (v < 0)
            continue;
        double x = n == 1 ? LEFT + pw / 2 : LEFT + pw * (double)i / (double)(n - 1);
        TRY(rd_strbuf_appendf(sb, err, "%.1f,%.1f ", x, TOP + ph - ph * v / ymax));
    }
    TRY(rd_strbuf_append(sb, "\"/>\n", err));
    for (size_t i = 0; i < n; i++) {
        double v = value(&s[i], rpo), t = target(&s[i], rpo);
        if (v < 0)
            continue;
        double x = n == 1 ? LEFT + pw / 2 : LEFT + pw * (double)i / (double)(n - 1);
        /* against the objective when one is set, else the drill's verdict */
        const char *cls = (t >= 0 ? v <= t : s[i].status == RD_PASSED) ? "ok" : "bad";
        TRY(rd_strbuf_appendf(sb, err, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" class=\"%s\">", x,
                              TOP + ph - ph * v / ymax, cls));
        TRY(rd_strbuf_appendf(sb, err, "<title>%s ",
                              rd_time_format(s[i].at_ms, when, sizeof when)));
        TRY(rd_xml_escape(sb, s[i].drill_id, 0, err));
        TRY(rd_strbuf_appendf(sb, err, ": %s (%s)</title></circle>\n",
                              rd_duration_human(v, buf, sizeof buf), rd_verdict_name(s[i].status)));
    }
    /* first and last drill dates under the axis */
    rd_time_format(s[0].at_ms, when, sizeof when);
    when[10] = '\0';
    TRY(rd_strbuf_appendf(
        sb, err, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"%s\">%s</text>",
        n == 1 ? LEFT + pw / 2 : LEFT, H - BOTTOM + 18, n == 1 ? "middle" : "start", when));
    if (n > 1) {
        rd_time_format(s[n - 1].at_ms, when, sizeof when);
        when[10] = '\0';
        TRY(rd_strbuf_appendf(
            sb, err, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%s</text>",
            LEFT + pw, H - BOTTOM + 18, when));
    }
    TRY(rd_strbuf_appendf(sb, err,
                          "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"middle\">"
                          "%zu drill%s</text>\n</svg></figure>\n",
                          LEFT + pw / 2, H - 6, n, n == 1 ? "" : "s"));
out:
    return st;
}
