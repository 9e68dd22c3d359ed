/* forecast.c: the RTO forecast. From the drills of a target in the history
 * (passed ones, with a measured RTO, restore time and recovery point size)
 * fit restore seconds = a + b x bytes by least squares; the rest of the RTO
 * (sample, fetch, provision, verify) is taken as its mean over the same
 * drills, so RTO(size) = (a + mean rest) + b x size, and solve for the size
 * at which it reaches the objective. Checks that grow with the data (a
 * checksum) sit in the constant: the forecast is then optimistic. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        if ((st = (expr)) != RD_OK)                                                                \
            goto out;                                                                              \
    } while (0)

static int usable(const rd_hist_sample *s)
{
    return s->status == RD_PASSED && s->rto >= 0 && s->restore >= 0 && s->bytes > 0;
}

char *rd_text_bytes(double bytes, char *buf, size_t bufsz)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    size_t u = 0;
    double v = bytes;
    while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, bufsz, "%.0f bytes", v);
    else
        snprintf(buf, bufsz, "%.*f %s", v < 10 ? 2 : v < 100 ? 1 : 0, v, units[u]);
    return buf;
}

void rd_forecast_fit(const rd_hist_sample *s, size_t n, rd_forecast *f)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0, xmin = 0, xmax = 0, rest = 0;
    char a[64], b[64];
    memset(f, 0, sizeof *f);
    f->r2 = f->objective = f->bytes_at_objective = -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i].rto_target >= 0)
            f->objective = s[i].rto_target; /* the latest objective counts */
        if (!usable(&s[i]))
            continue;
        double x = s[i].bytes, y = s[i].restore;
        rest += s[i].rto - s[i].restore;
        if (f->points == 0 || x < xmin)
            xmin = x;
        if (f->points == 0 || x > xmax)
            xmax = x;
        f->points++;
        f->last_bytes = x;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    if (f->points < RD_FORECAST_MIN_POINTS) {
        snprintf(f->note, sizeof f->note,
                 "history too short for a fit: %zu passed drill%s with a measured restore time "
                 "and a known size, at least %d needed",
                 f->points, f->points == 1 ? "" : "s", RD_FORECAST_MIN_POINTS);
        return;
    }
    double np = (double)f->points, vx = sxx - sx * sx / np;
    if (!(xmax > xmin) || !(vx > 0)) {
        snprintf(f->note, sizeof f->note,
                 "no fit: all %zu drills restored recovery points of the same size", f->points);
        return;
    }
    f->fitted = 1;
    f->slope = (sxy - sx * sy / np) / vx;
    f->intercept = (sy - f->slope * sx) / np + rest / np;
    double vy = syy - sy * sy / np;
    f->r2 = vy > 0 ? (f->slope * (sxy - sx * sy / np)) / vy : -1;
    if (f->objective < 0) {
        snprintf(f->note, sizeof f->note, "no RTO objective: nothing to forecast against");
        return;
    }
    if (!(f->slope > 0)) {
        snprintf(f->note, sizeof f->note,
                 "the RTO does not grow with size in this history: no size is forecast to miss "
                 "the objective");
        return;
    }
    f->bytes_at_objective = (f->objective - f->intercept) / f->slope;
    if (f->bytes_at_objective < 0)
        f->bytes_at_objective = 0;
    snprintf(f->note, sizeof f->note,
             "the RTO objective (%s) would be missed at about %s (%.1fx the newest size)",
             rd_duration_format(f->objective, a, sizeof a),
             rd_text_bytes(f->bytes_at_objective, b, sizeof b),
             f->last_bytes > 0 ? f->bytes_at_objective / f->last_bytes : 0);
}

#define W 540.0
#define H 220.0
#define LEFT 60.0
#define RIGHT 20.0
#define TOP 20.0
#define BOTTOM 40.0

rd_status rd_html_forecast_chart(rd_strbuf *sb, const rd_hist_sample *s, size_t n,
                                 const rd_forecast *f, rd_error *err)
{
    rd_status st = RD_OK;
    char buf[64], buf2[64];
    TRY(rd_strbuf_append(sb,
                         "<figure class=\"chart\"><figcaption>RTO against recovery point "
                         "size</figcaption>",
                         err));
    if (!f->fitted) {
        TRY(rd_strbuf_append(sb, "<p class=\"muted\">", err));
        TRY(rd_xml_escape(sb, f->note, 0, err));
        TRY(rd_strbuf_append(sb, "</p></figure>\n", err));
        goto out;
    }
    /* x from 0 to the larger of the sizes seen and the forecast (capped at
     * 4x the largest size so the points stay readable) */
    double xmax = 0, ymax = f->objective > 0 ? f->objective : 0;
    for (size_t i = 0; i < n; i++)
        if (usable(&s[i])) {
            xmax = fmax(xmax, s[i].bytes);
            ymax = fmax(ymax, s[i].rto);
        }
    double seen = xmax;
    if (f->bytes_at_objective > xmax)
        xmax = fmin(f->bytes_at_objective * 1.1, seen * 4);
    xmax *= 1.05;
    ymax *= 1.15;
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(x) (LEFT + pw * (x) / xmax)
#define PY(y) (TOP + ph - ph * fmax(0.0, fmin((y), ymax)) / ymax)
    TRY(rd_strbuf_appendf(sb, err,
                          "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
                          "width=\"%.0f\" height=\"%.0f\" role=\"img\" aria-label=\"RTO against "
                          "recovery point size\">\n",
                          W, H, W, H));
    for (int g = 0; g <= 2; g++)
        TRY(rd_strbuf_appendf(sb, err,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "class=\"grid\"/><text x=\"%.1f\" y=\"%.1f\" class=\"axis\" "
                              "text-anchor=\"end\">%s</text>\n",
                              LEFT, PY(ymax * g / 2.0), LEFT + pw, PY(ymax * g / 2.0), LEFT - 6,
                              PY(ymax * g / 2.0) + 4,
                              rd_duration_format(ymax * g / 2.0, buf, sizeof buf)));
    if (f->objective >= 0)
        TRY(rd_strbuf_appendf(sb, err,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "class=\"objective\" stroke-dasharray=\"6 4\"/>\n",
                              LEFT, PY(f->objective), LEFT + pw, PY(f->objective)));
    /* the fitted line across the axis */
    TRY(rd_strbuf_appendf(sb, err,
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"fit\" "
                          "stroke-dasharray=\"3 3\"/>\n",
                          PX(0), PY(f->intercept), PX(xmax), PY(f->intercept + f->slope * xmax)));
    for (size_t i = 0; i < n; i++) {
        if (!usable(&s[i]))
            continue;
        TRY(rd_strbuf_appendf(sb, err,
                              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" class=\"ok\"><title>%s, "
                              "RTO %s</title></circle>\n",
                              PX(s[i].bytes), PY(s[i].rto),
                              rd_text_bytes(s[i].bytes, buf, sizeof buf),
                              rd_duration_human(s[i].rto, buf2, sizeof buf2)));
    }
    if (f->bytes_at_objective >= 0 && f->bytes_at_objective <= xmax)
        TRY(rd_strbuf_appendf(sb, err,
                              "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                              "class=\"objective\"/><text x=\"%.1f\" y=\"%.1f\" class=\"axis obj\" "
                              "text-anchor=\"end\">%s</text>\n",
                              PX(f->bytes_at_objective), TOP, PX(f->bytes_at_objective), TOP + ph,
                              PX(f->bytes_at_objective) - 4, TOP + 12,
                              rd_text_bytes(f->bytes_at_objective, buf, sizeof buf)));
    TRY(rd_strbuf_appendf(sb, err,
                          "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">0</text>"
                          "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%s</text>"
                          "</svg>\n",
                          LEFT, H - BOTTOM + 18, LEFT + pw, H - BOTTOM + 18,
                          rd_text_bytes(xmax, buf, sizeof buf)));
#undef PX
#undef PY
    TRY(rd_strbuf_appendf(sb, err,
                          "<p>Fitted over %zu drills: RTO = %.3g s + %.3g s per MiB "
                          "(r&#178; = %.2f): ",
                          f->points, f->intercept, f->slope * 1048576.0, f->r2 < 0 ? 0 : f->r2));
    TRY(rd_xml_escape(sb, f->note, 0, err));
    TRY(rd_strbuf_append(sb, ".</p></figure>\n", err));
out:
    return st;
}
